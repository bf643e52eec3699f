/* Random operation sequences on the incremental trie, checked against a plain
 * reference map and the one-shot root. Each op is read from the input:
 *   op byte % 8: 0-3 put, 4 delete, 5 commit, 6 discard, 7 evict
 *   put/delete: a length byte (% 7) and that many key bytes, each mapped onto
 *   a small alphabet so keys share prefixes; put: a value byte v giving a
 *   value of v % 40 bytes (0 deletes), filled from v.
 * Properties: after every commit the root equals qcn_mpt_root over the
 * reference map, every key reads back, old roots reopen with their contents,
 * and proofs of present and absent keys verify. Nothing crashes or leaks.
 * Only the first MAX_INPUT bytes are used. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/mpt.h"

#define MAX_ENTRIES 256
#define MAX_KEY 6
#define MAX_VAL 40
/* Longer inputs add little and would slow the smoke run: the rest is ignored. */
#define MAX_INPUT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct entry {
    uint8_t key[MAX_KEY];
    size_t klen;
    uint8_t val[MAX_VAL];
    size_t vlen;
};

struct map {
    struct entry e[MAX_ENTRIES];
    size_t n;
};

static struct entry *map_find(struct map *m, const uint8_t *k, size_t klen)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->e[i].klen == klen && memcmp(m->e[i].key, k, klen) == 0)
            return &m->e[i];
    }
    return NULL;
}

/* Returns 0 if the map is full (the op is then skipped). */
static int map_set(struct map *m, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    struct entry *e = map_find(m, k, klen);
    if (vlen == 0) {
        if (e != NULL)
            *e = m->e[--m->n];
        return 1;
    }
    if (e == NULL) {
        if (m->n == MAX_ENTRIES)
            return 0;
        e = &m->e[m->n++];
        memcpy(e->key, k, klen);
        e->klen = klen;
    }
    memcpy(e->val, v, vlen);
    e->vlen = vlen;
    return 1;
}

static void map_root(const struct map *m, uint8_t root[QCN_MPT_HASH_BYTES])
{
    struct qcn_mpt_kv kv[MAX_ENTRIES];
    for (size_t i = 0; i < m->n; i++) {
        kv[i].key = m->e[i].key;
        kv[i].key_len = m->e[i].klen;
        kv[i].value = m->e[i].val;
        kv[i].value_len = m->e[i].vlen;
    }
    if (qcn_mpt_root(root, kv, m->n) != QCN_OK)
        abort();
}

static void check_all(struct qcn_mpt *t, const struct map *m, struct qcn_buf *v)
{
    for (size_t i = 0; i < m->n; i++) {
        if (qcn_mpt_get(t, v, m->e[i].key, m->e[i].klen) != QCN_OK || v->len != m->e[i].vlen ||
            memcmp(v->p, m->e[i].val, v->len) != 0)
            abort();
    }
}

static void check_proof(struct qcn_mpt *t, struct qcn_mpt_proof *p, const uint8_t *root,
                        const struct entry *want, const uint8_t *k, size_t klen)
{
    struct qcn_view value;
    int found;
    if (qcn_mpt_prove(t, p, k, klen) != QCN_OK)
        abort();
    if (qcn_mpt_verify_proof(&found, &value, root, k, klen, p->node, p->count) != QCN_OK)
        abort();
    if (found != (want != NULL))
        abort();
    if (want != NULL && (value.len != want->vlen || memcmp(value.p, want->val, value.len) != 0))
        abort();
}

static struct map cur, committed, first;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t alphabet[8] = {0x00, 0x01, 0x10, 0x11, 0x1f, 0xa0, 0xab, 0xff};
    struct qcn_mpt_memstore *ms = NULL;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t = NULL;
    struct qcn_mpt_proof proof;
    struct qcn_buf v;
    uint8_t root[QCN_MPT_HASH_BYTES], want[QCN_MPT_HASH_BYTES], first_root[QCN_MPT_HASH_BYTES];
    uint8_t key[MAX_KEY], val[MAX_VAL];
    size_t pos = 0, klen, vlen, i;
    int have_first = 0;

    cur.n = committed.n = first.n = 0;
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    if (qcn_mpt_memstore_new(&ms) != QCN_OK)
        return 0;
    ns = qcn_mpt_memstore_iface(ms);
    if (qcn_mpt_open(&t, &ns, NULL) != QCN_OK)
        abort();
    qcn_mpt_proof_init(&proof);
    qcn_buf_init(&v, MAX_VAL);
    while (pos < size) {
        unsigned op = data[pos++] % 8u;
        if (op <= 4) {
            if (pos >= size)
                break;
            klen = data[pos++] % (MAX_KEY + 1u);
            for (i = 0; i < klen; i++)
                key[i] = pos < size ? alphabet[data[pos++] % 8u] : 0;
            vlen = 0;
            if (op < 4 && pos < size) {
                uint8_t b = data[pos++];
                vlen = b % MAX_VAL;
                for (i = 0; i < vlen; i++)
                    val[i] = (uint8_t)(b + i);
            }
            if (!map_set(&cur, key, klen, val, vlen))
                continue;
            if (qcn_mpt_put(t, key, klen, val, vlen) != QCN_OK)
                abort();
        } else if (op == 5) {
            if (qcn_mpt_commit(t, root) != QCN_OK)
                abort();
            map_root(&cur, want);
            if (memcmp(root, want, sizeof root) != 0)
                abort();
            committed = cur;
            if (!have_first && cur.n > 0) {
                first = cur;
                memcpy(first_root, root, sizeof root);
                have_first = 1;
            }
        } else if (op == 6) {
            qcn_mpt_discard(t);
            cur = committed;
        } else {
            qcn_mpt_evict(t);
        }
    }
    if (qcn_mpt_hash(t, root) != QCN_OK)
        abort();
    map_root(&cur, want);
    if (memcmp(root, want, sizeof root) != 0)
        abort();
    if (qcn_mpt_commit(t, root) != QCN_OK || memcmp(root, want, sizeof root) != 0)
        abort();
    check_all(t, &cur, &v);
    for (i = 0; i < cur.n; i++)
        check_proof(t, &proof, root, &cur.e[i], cur.e[i].key, cur.e[i].klen);
    for (i = 0; i <= MAX_KEY; i++) {
        memset(key, 0x11, i);
        check_proof(t, &proof, root, map_find(&cur, key, i), key, i);
    }
    qcn_mpt_free(t);
    t = NULL;
    if (have_first) {
        if (qcn_mpt_open(&t, &ns, first_root) != QCN_OK)
            abort();
        check_all(t, &first, &v);
    }
    qcn_mpt_free(t);
    qcn_buf_clear(&v);
    qcn_mpt_proof_clear(&proof);
    qcn_mpt_memstore_free(ms);
    return 0;
}
