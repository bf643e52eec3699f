/* mpt_root.c - one-shot trie roots (Yellow Paper, Appendix D, eq. 193-196).
 *
 * Instead of inserting pairs one by one, the pairs are sorted by key and the
 * trie is built top-down over ranges of the sorted array: all keys in a range
 * share the nibbles above `depth`, and because the array is sorted their
 * common prefix is the common prefix of the first and the last key. This
 * touches each key O(depth) times, allocates only the index and one scratch
 * buffer per trie level, and is independent of the incremental trie in mpt.c,
 * which makes it a useful oracle for it in the tests. */
#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "state/mpt.h"

/* One more level than the longest key has nibbles: the branch at the very end
 * of a key sits one level below its last nibble. */
#define MAX_LEVELS (2 * QCN_MPT_MAX_KEY_BYTES + 2)

struct entry {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    size_t order; /* position in the caller's array: the last duplicate wins */
};

struct builder {
    const struct entry *e;
    struct qcn_buf level[MAX_LEVELS];
    /* Leaves hashed ahead (leaf_hashes): entry i's leaf hangs at depth
     * leaf_depth[i] and hashes to leaf_hash[i]; depth 0 = not precomputed. */
    uint16_t *leaf_depth;
    uint8_t (*leaf_hash)[QCN_MPT_HASH_BYTES];
};

static unsigned nibble_at(const uint8_t *key, size_t i)
{
    return (i & 1) ? key[i >> 1] & 0x0fu : key[i >> 1] >> 4;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = n ? memcmp(x->key, y->key, n) : 0;
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* Hex-prefix encoding (Appendix C) of nibbles [from, to) of key, with the
 * leaf flag t, written as an RLP string. */
static int put_hp(struct qcn_buf *b, const uint8_t *key, size_t from, size_t to, int leaf)
{
    uint8_t hp[QCN_MPT_MAX_KEY_BYTES + 1];
    size_t n = to - from, i, o = 1;
    int odd = (int)(n & 1);

    hp[0] = (uint8_t)((leaf ? 0x20 : 0x00) | (odd ? 0x10 | nibble_at(key, from) : 0));
    for (i = from + (size_t)odd; i < to; i += 2)
        hp[o++] = (uint8_t)(nibble_at(key, i) << 4 | nibble_at(key, i + 1));
    return qcn_rlp_put_bytes(b, hp, o);
}

/* Appends the reference to the node encoded in enc to parent: the node itself
 * if its RLP is shorter than 32 bytes, else the RLP string of its hash. */
static int put_ref(struct qcn_buf *parent, const struct qcn_buf *enc)
{
    uint8_t h[QCN_MPT_HASH_BYTES];
    if (enc->len < QCN_MPT_HASH_BYTES)
        return qcn_rlp_put_raw(parent, enc->p, enc->len);
    qcn_keccak256(h, enc->p, enc->len);
    return qcn_rlp_put_bytes(parent, h, sizeof h);
}

/* Encodes the node for the sorted, duplicate-free entries [lo, hi) (hi > lo),
 * which share their first `depth` nibbles, into b->level[lvl]. */
static int build(struct builder *b, size_t lo, size_t hi, size_t depth, size_t lvl)
{
    const struct entry *e = b->e;
    struct qcn_buf *out = &b->level[lvl];
    size_t list, cp, first_n, last_n, i, j;
    unsigned nib;
    int err;

    qcn_buf_reset(out);
    list = qcn_rlp_list_begin(out);
    first_n = e[lo].key_len * 2;
    if (hi - lo == 1) {
        err = put_hp(out, e[lo].key, depth, first_n, 1);
        if (err == QCN_OK)
            err = qcn_rlp_put_bytes(out, e[lo].value, e[lo].value_len);
        goto end;
    }
    /* Sorted keys: the first key is the shortest of any that is a prefix of
     * the others, so cp never runs past a key's end. */
    last_n = e[hi - 1].key_len * 2;
    cp = depth;
    while (cp < first_n && cp < last_n && nibble_at(e[lo].key, cp) == nibble_at(e[hi - 1].key, cp))
        cp++;
    if (cp > depth) {
        err = put_hp(out, e[lo].key, depth, cp, 0);
        if (err == QCN_OK)
            err = build(b, lo, hi, cp, lvl + 1);
        if (err == QCN_OK)
            err = put_ref(out, &b->level[lvl + 1]);
        goto end;
    }
    /* A branch. A key ending exactly here is the branch's value. */
    i = lo;
    if (first_n == depth)
        i++;
    for (nib = 0; nib < 16; nib++) {
        j = i;
        while (j < hi && nibble_at(e[j].key, depth) == nib)
            j++;
        if (j == i) {
            err = qcn_rlp_put_bytes(out, NULL, 0);
        } else if (j - i == 1 && b->leaf_depth != NULL && b->leaf_depth[i] == depth + 1) {
            err = qcn_rlp_put_bytes(out, b->leaf_hash[i], QCN_MPT_HASH_BYTES);
        } else {
            err = build(b, i, j, depth + 1, lvl + 1);
            if (err == QCN_OK)
                err = put_ref(out, &b->level[lvl + 1]);
        }
        if (err != QCN_OK)
            goto end;
        i = j;
    }
    if (first_n == depth)
        err = qcn_rlp_put_bytes(out, e[lo].value, e[lo].value_len);
    else
        err = qcn_rlp_put_bytes(out, NULL, 0);
end:
    if (err == QCN_OK)
        err = qcn_rlp_list_end(out, list);
    return err;
}

/* Nibbles key a and key b have in common. */
static size_t lcp_nibbles(const struct entry *a, const struct entry *b)
{
    size_t n = (a->key_len < b->key_len ? a->key_len : b->key_len) * 2, i = 0;
    while (i < n && nibble_at(a->key, i) == nibble_at(b->key, i))
        i++;
    return i;
}

/* The leaves of a large trie (a block's transactions or receipts: one per
 * entry) hashed four at a time (qcn_keccak256_x4) before build() walks the
 * trie, which then takes their hashes as they are. In the sorted, duplicate-
 * free array, entry i is separated from every other key by the branch at
 * nibble p = the longer of its common prefixes with its two neighbours, so
 * its leaf hangs at depth p + 1 and is encoded exactly as build() would;
 * build() still checks the depth before using a hash. An entry whose key is
 * a prefix of the next (it is a branch's value, not a leaf) and leaves
 * shorter than 32 bytes (embedded) are left to build(). Fails only for lack
 * of memory, and then nothing is precomputed. */
#define LEAF_BATCH_MIN 64

static int leaf_hashes(struct builder *b, size_t m)
{
    const struct entry *e = b->e;
    struct qcn_buf enc[QCN_KECCAK_X4_WAYS];
    size_t idx[QCN_KECCAK_X4_WAYS], i, k, nw = 0;
    uint8_t *out[QCN_KECCAK_X4_WAYS];
    const uint8_t *in[QCN_KECCAK_X4_WAYS];
    size_t len[QCN_KECCAK_X4_WAYS];
    int err = QCN_OK;

    b->leaf_depth = calloc(m, sizeof *b->leaf_depth);
    b->leaf_hash = malloc(m * sizeof *b->leaf_hash);
    if (b->leaf_depth == NULL || b->leaf_hash == NULL) {
        free(b->leaf_depth);
        free(b->leaf_hash);
        b->leaf_depth = NULL;
        b->leaf_hash = NULL;
        return QCN_ERR_NOMEM;
    }
    for (k = 0; k < QCN_KECCAK_X4_WAYS; k++)
        qcn_buf_init(&enc[k], QCN_MPT_MAX_NODE_BYTES);
    for (i = 0; i < m && err == QCN_OK; i++) {
        size_t p = 0, c, list;
        if (i > 0)
            p = lcp_nibbles(&e[i - 1], &e[i]);
        if (i + 1 < m) {
            c = lcp_nibbles(&e[i], &e[i + 1]);
            if (c == e[i].key_len * 2)
                continue; /* a prefix of the next key: a branch's value */
            if (c > p)
                p = c;
        }
        qcn_buf_reset(&enc[nw]);
        list = qcn_rlp_list_begin(&enc[nw]);
        err = put_hp(&enc[nw], e[i].key, p + 1, e[i].key_len * 2, 1);
        if (err == QCN_OK)
            err = qcn_rlp_put_bytes(&enc[nw], e[i].value, e[i].value_len);
        if (err == QCN_OK)
            err = qcn_rlp_list_end(&enc[nw], list);
        if (err != QCN_OK || enc[nw].len < QCN_MPT_HASH_BYTES)
            continue;
        b->leaf_depth[i] = (uint16_t)(p + 1);
        idx[nw++] = i;
        if (nw < QCN_KECCAK_X4_WAYS)
            continue;
        for (k = 0; k < QCN_KECCAK_X4_WAYS; k++) {
            out[k] = b->leaf_hash[idx[k]];
            in[k] = enc[k].p;
            len[k] = enc[k].len;
        }
        qcn_keccak256_x4(out, in, len);
        nw = 0;
    }
    for (k = 0; k < nw; k++)
        qcn_keccak256(b->leaf_hash[idx[k]], enc[k].p, enc[k].len);
    for (k = 0; k < QCN_KECCAK_X4_WAYS; k++)
        qcn_buf_clear(&enc[k]);
    if (err != QCN_OK) {
        free(b->leaf_depth);
        free(b->leaf_hash);
        b->leaf_depth = NULL;
        b->leaf_hash = NULL;
    }
    return err;
}

int qcn_mpt_root(uint8_t root[QCN_MPT_HASH_BYTES], const struct qcn_mpt_kv *kvs, size_t n)
{
    struct builder b;
    struct entry *e = NULL;
    size_t i, m = 0;
    int err = QCN_OK;

    memset(&b, 0, sizeof b);
    for (i = 0; i < MAX_LEVELS; i++)
        qcn_buf_init(&b.level[i], QCN_MPT_MAX_NODE_BYTES);
    memset(root, 0, QCN_MPT_HASH_BYTES);
    if (n > QCN_MPT_MAX_ROOT_ENTRIES || (n > 0 && kvs == NULL)) {
        err = QCN_ERR_INVALID_ARG;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (kvs[i].key_len > QCN_MPT_MAX_KEY_BYTES || kvs[i].value_len > QCN_MPT_MAX_VALUE_BYTES ||
            (kvs[i].key_len > 0 && kvs[i].key == NULL) ||
            (kvs[i].value_len > 0 && kvs[i].value == NULL)) {
            err = QCN_ERR_INVALID_ARG;
            goto out;
        }
    }
    if (n == 0) {
        memcpy(root, QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES);
        goto out;
    }
    e = malloc(n * sizeof *e);
    if (e == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        e[i].key = kvs[i].key;
        e[i].key_len = kvs[i].key_len;
        e[i].value = kvs[i].value;
        e[i].value_len = kvs[i].value_len;
        e[i].order = i;
    }
    qsort(e, n, sizeof *e, entry_cmp);
    /* Keep the last occurrence of each key, then drop empty values. */
    for (i = 0; i < n; i++) {
        if (i + 1 < n && e[i].key_len == e[i + 1].key_len &&
            (e[i].key_len == 0 || memcmp(e[i].key, e[i + 1].key, e[i].key_len) == 0))
            continue;
        if (e[i].value_len == 0)
            continue;
        e[m++] = e[i];
    }
    if (m == 0) {
        memcpy(root, QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES);
        goto out;
    }
    b.e = e;
    if (m >= LEAF_BATCH_MIN)
        (void)leaf_hashes(&b, m); /* without it, build() hashes each leaf itself */
    err = build(&b, 0, m, 0, 0);
    if (err != QCN_OK)
        goto out;
    /* The root is hashed whatever its length. */
    qcn_keccak256(root, b.level[0].p, b.level[0].len);
out:
    if (err != QCN_OK)
        memset(root, 0, QCN_MPT_HASH_BYTES);
    for (i = 0; i < MAX_LEVELS; i++)
        qcn_buf_clear(&b.level[i]);
    free(b.leaf_depth);
    free(b.leaf_hash);
    free(e);
    return err;
}

int qcn_mpt_secure_root(uint8_t root[QCN_MPT_HASH_BYTES], const struct qcn_mpt_kv *kvs, size_t n)
{
    struct qcn_mpt_kv *h = NULL;
    uint8_t *keys = NULL;
    size_t i;
    int err;

    memset(root, 0, QCN_MPT_HASH_BYTES);
    if (n > QCN_MPT_MAX_ROOT_ENTRIES || (n > 0 && kvs == NULL))
        return QCN_ERR_INVALID_ARG;
    if (n == 0)
        return qcn_mpt_root(root, NULL, 0);
    h = malloc(n * sizeof *h);
    keys = malloc(n * QCN_MPT_HASH_BYTES);
    if (h == NULL || keys == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (kvs[i].key_len > 0 && kvs[i].key == NULL) {
            err = QCN_ERR_INVALID_ARG;
            goto out;
        }
        qcn_keccak256(keys + i * QCN_MPT_HASH_BYTES, kvs[i].key, kvs[i].key_len);
        h[i] = kvs[i];
        h[i].key = keys + i * QCN_MPT_HASH_BYTES;
        h[i].key_len = QCN_MPT_HASH_BYTES;
    }
    err = qcn_mpt_root(root, h, n);
out:
    free(h);
    free(keys);
    return err;
}
