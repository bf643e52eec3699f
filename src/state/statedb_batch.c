/* statedb_batch.c - write sets: an ordered array of writes whose bytes live
 * in a chunked arena (one block's state is thousands of small rows; one
 * malloc each would dominate the commit). */
#include "state/statedb_batch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_BYTES (256u * 1024u)
/* Chunks of at least this size (a block's body: 3-5 KB per transaction)
 * are mapped with their pages populated at once, rather than faulted in one
 * 4 KiB page at a time while the body is copied in. */
#define POPULATE_BYTES ((size_t)4 << 20)

struct qcn_writeset_chunk {
    struct qcn_writeset_chunk *next;
    size_t used, cap;
    size_t mapped; /* bytes mmap'ed (0: malloc'ed) */
    uint8_t data[];
};

void qcn_writeset_init(struct qcn_writeset *ws)
{
    memset(ws, 0, sizeof *ws);
}

void qcn_writeset_clear(struct qcn_writeset *ws)
{
    struct qcn_writeset_chunk *c, *next;
    for (c = ws->chunks; c != NULL; c = next) {
        next = c->next;
        if (c->mapped)
            (void)munmap(c, c->mapped);
        else
            free(c);
    }
    free(ws->w);
    memset(ws, 0, sizeof *ws);
}

static struct qcn_writeset_chunk *chunk_alloc(size_t bytes)
{
    struct qcn_writeset_chunk *c;
    void *p;
    if (bytes >= POPULATE_BYTES) {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
        if (p != MAP_FAILED) {
            c = p;
            c->mapped = bytes;
            return c;
        }
    }
    c = malloc(bytes);
    if (c != NULL)
        c->mapped = 0;
    return c;
}

static uint8_t *arena(struct qcn_writeset *ws, size_t n)
{
    struct qcn_writeset_chunk *c = ws->chunks;
    size_t cap;
    if (c == NULL || c->cap - c->used < n) {
        cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        c = chunk_alloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = ws->chunks;
        ws->chunks = c;
    }
    c->used += n;
    return c->data + c->used - n;
}

static int add(struct qcn_writeset *ws, int table, int del, const uint8_t *key, size_t klen,
               const uint8_t *val, size_t vlen, uint8_t **where)
{
    struct qcn_write *w;
    uint8_t *p;
    size_t total;

    if (table < 0 || table >= QCN_TABLE_COUNT || klen == 0 || klen > UINT32_MAX ||
        vlen > UINT32_MAX)
        return QCN_ERR_INVALID_ARG;
    if (__builtin_add_overflow(klen, vlen, &total))
        return QCN_ERR_OVERFLOW;
    if (ws->n == ws->cap) {
        size_t ncap = ws->cap ? ws->cap * 2 : 1024;
        struct qcn_write *nw = realloc(ws->w, ncap * sizeof *nw);
        if (nw == NULL)
            return QCN_ERR_NOMEM;
        ws->w = nw;
        ws->cap = ncap;
    }
    p = arena(ws, total);
    if (p == NULL)
        return QCN_ERR_NOMEM;
    memcpy(p, key, klen);
    if (vlen && val != NULL)
        memcpy(p + klen, val, vlen);
    if (where != NULL)
        *where = p + klen;
    w = &ws->w[ws->n++];
    w->table = (uint8_t)table;
    w->del = (uint8_t)del;
    w->klen = (uint32_t)klen;
    w->vlen = (uint32_t)vlen;
    w->key = p;
    w->val = p + klen;
    ws->bytes += total;
    return QCN_OK;
}

int qcn_writeset_put(struct qcn_writeset *ws, int table, const uint8_t *key, size_t klen,
                     const uint8_t *val, size_t vlen)
{
    return add(ws, table, 0, key, klen, val, vlen, NULL);
}

int qcn_writeset_put_alloc(struct qcn_writeset *ws, int table, const uint8_t *key, size_t klen,
                           size_t vlen, uint8_t **val)
{
    *val = NULL;
    return add(ws, table, 0, key, klen, NULL, vlen, val);
}

int qcn_writeset_del(struct qcn_writeset *ws, int table, const uint8_t *key, size_t klen)
{
    return add(ws, table, 1, key, klen, NULL, 0, NULL);
}
