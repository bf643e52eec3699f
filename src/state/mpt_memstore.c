/* mpt_memstore.c - an in-memory, content-addressed node store: an open
 * addressing hash table keyed by the node hash. Keys are Keccak-256 outputs,
 * so their first bytes are already uniformly distributed and serve directly
 * as the table hash. */
#include <stdlib.h>
#include <string.h>

#include "state/mpt.h"

#define MIN_SLOTS 1024u

struct slot {
    uint8_t hash[QCN_MPT_HASH_BYTES];
    uint8_t *node; /* NULL: free slot */
    size_t len;
};

struct qcn_mpt_memstore {
    struct slot *slots;
    size_t nslots; /* a power of two */
    size_t count;
    size_t bytes;
};

static size_t slot_index(const uint8_t hash[QCN_MPT_HASH_BYTES], size_t mask)
{
    return (size_t)qcn_load_le64(hash) & mask;
}

/* The slot holding hash, or the free slot where it would go. */
static struct slot *find(struct slot *slots, size_t nslots, const uint8_t *hash)
{
    size_t i = slot_index(hash, nslots - 1);
    for (;;) {
        struct slot *s = &slots[i];
        if (s->node == NULL || memcmp(s->hash, hash, QCN_MPT_HASH_BYTES) == 0)
            return s;
        i = (i + 1) & (nslots - 1);
    }
}

static int grow(struct qcn_mpt_memstore *ms)
{
    size_t n = ms->nslots * 2, i;
    struct slot *ns;

    if (n < ms->nslots || n > SIZE_MAX / sizeof *ns)
        return QCN_ERR_NOMEM;
    ns = calloc(n, sizeof *ns);
    if (ns == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < ms->nslots; i++) {
        if (ms->slots[i].node != NULL)
            *find(ns, n, ms->slots[i].hash) = ms->slots[i];
    }
    free(ms->slots);
    ms->slots = ns;
    ms->nslots = n;
    return QCN_OK;
}

static int mem_get(void *ctx, const uint8_t hash[QCN_MPT_HASH_BYTES], struct qcn_buf *out)
{
    struct qcn_mpt_memstore *ms = ctx;
    struct slot *s = find(ms->slots, ms->nslots, hash);
    if (s->node == NULL)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, s->node, s->len);
}

static int mem_put(void *ctx, const uint8_t hash[QCN_MPT_HASH_BYTES], const uint8_t *node,
                   size_t len)
{
    struct qcn_mpt_memstore *ms = ctx;
    struct slot *s;
    uint8_t *copy;
    int err;

    if (len == 0 || len > QCN_MPT_MAX_NODE_BYTES)
        return QCN_ERR_INVALID_ARG;
    /* Keep the load factor at or below 1/2 so probe runs stay short. */
    if ((ms->count + 1) * 2 > ms->nslots) {
        err = grow(ms);
        if (err != QCN_OK)
            return err;
    }
    s = find(ms->slots, ms->nslots, hash);
    if (s->node != NULL)
        return QCN_OK;
    copy = malloc(len);
    if (copy == NULL)
        return QCN_ERR_NOMEM;
    memcpy(copy, node, len);
    memcpy(s->hash, hash, QCN_MPT_HASH_BYTES);
    s->node = copy;
    s->len = len;
    ms->count++;
    ms->bytes += len;
    return QCN_OK;
}

int qcn_mpt_memstore_new(struct qcn_mpt_memstore **out)
{
    struct qcn_mpt_memstore *ms;

    *out = NULL;
    ms = calloc(1, sizeof *ms);
    if (ms == NULL)
        return QCN_ERR_NOMEM;
    ms->slots = calloc(MIN_SLOTS, sizeof *ms->slots);
    if (ms->slots == NULL) {
        free(ms);
        return QCN_ERR_NOMEM;
    }
    ms->nslots = MIN_SLOTS;
    *out = ms;
    return QCN_OK;
}

void qcn_mpt_memstore_free(struct qcn_mpt_memstore *ms)
{
    size_t i;
    if (ms == NULL)
        return;
    for (i = 0; i < ms->nslots; i++)
        free(ms->slots[i].node);
    free(ms->slots);
    free(ms);
}

struct qcn_mpt_nodestore qcn_mpt_memstore_iface(struct qcn_mpt_memstore *ms)
{
    struct qcn_mpt_nodestore s = {ms, mem_get, mem_put, NULL, NULL};
    return s;
}

size_t qcn_mpt_memstore_count(const struct qcn_mpt_memstore *ms)
{
    return ms->count;
}

size_t qcn_mpt_memstore_bytes(const struct qcn_mpt_memstore *ms)
{
    return ms->bytes;
}
