/* Merkle-Patricia trie: published roots (ethereum/tests TrieTests,
 * trieanyorder.json), the incremental trie against the one-shot builder over
 * thousands of random operations, old roots, proofs and a lying node store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/keccak.h"
#include "state/mpt.h"
#include "util/hex.h"

#define VAL_MAX 4096

static void hex32(uint8_t out[32], const char *hex)
{
    assert_int_equal(qcn_hex_decode_exact(out, 32, hex), QCN_OK);
}

static struct qcn_mpt_kv kv_str(const char *k, const char *v)
{
    struct qcn_mpt_kv kv = {(const uint8_t *)k, strlen(k), (const uint8_t *)v, strlen(v)};
    return kv;
}

/* ------------------------------------------------------------------------
 * A reference map: a plain array, searched linearly. */

struct ref_entry {
    uint8_t key[QCN_MPT_MAX_KEY_BYTES];
    size_t klen;
    uint8_t val[64];
    size_t vlen;
};

struct ref_map {
    struct ref_entry *e;
    size_t n, cap;
};

static struct ref_entry *ref_find(struct ref_map *m, const uint8_t *k, size_t klen)
{
    size_t i;
    for (i = 0; i < m->n; i++) {
        if (m->e[i].klen == klen && memcmp(m->e[i].key, k, klen) == 0)
            return &m->e[i];
    }
    return NULL;
}

static void ref_set(struct ref_map *m, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    struct ref_entry *e = ref_find(m, k, klen);
    if (vlen == 0) {
        if (e != NULL)
            *e = m->e[--m->n];
        return;
    }
    if (e == NULL) {
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 64;
            m->e = realloc(m->e, m->cap * sizeof *m->e);
            assert_non_null(m->e);
        }
        e = &m->e[m->n++];
        memcpy(e->key, k, klen);
        e->klen = klen;
    }
    assert_true(vlen <= sizeof e->val);
    memcpy(e->val, v, vlen);
    e->vlen = vlen;
}

static void ref_copy(struct ref_map *dst, const struct ref_map *src)
{
    dst->n = src->n;
    dst->cap = src->n ? src->n : 1;
    dst->e = malloc(dst->cap * sizeof *dst->e);
    assert_non_null(dst->e);
    if (src->n)
        memcpy(dst->e, src->e, src->n * sizeof *src->e);
}

static void ref_root(const struct ref_map *m, uint8_t root[32])
{
    struct qcn_mpt_kv *kv = calloc(m->n + 1, sizeof *kv);
    size_t i;
    assert_non_null(kv);
    for (i = 0; i < m->n; i++) {
        kv[i].key = m->e[i].key;
        kv[i].key_len = m->e[i].klen;
        kv[i].value = m->e[i].val;
        kv[i].value_len = m->e[i].vlen;
    }
    assert_int_equal(qcn_mpt_root(root, kv, m->n), QCN_OK);
    free(kv);
}

/* Every entry of m reads back from t with its value. */
static void check_contents(struct qcn_mpt *t, const struct ref_map *m)
{
    struct qcn_buf v;
    size_t i;
    qcn_buf_init(&v, VAL_MAX);
    for (i = 0; i < m->n; i++) {
        assert_int_equal(qcn_mpt_get(t, &v, m->e[i].key, m->e[i].klen), QCN_OK);
        assert_int_equal(v.len, m->e[i].vlen);
        assert_memory_equal(v.p, m->e[i].val, v.len);
    }
    qcn_buf_clear(&v);
}

/* ------------------------------------------------------------------------
 * Deterministic randomness */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static size_t rnd_below(size_t n)
{
    return (size_t)(rnd() % n);
}

/* Keys drawn from a small alphabet and short lengths collide, share prefixes
 * and end inside other keys: every node shape and every collapse shows up.
 * Some keys are 32 random bytes, like hashed keys. */
static size_t rnd_key(uint8_t *k)
{
    static const uint8_t alphabet[] = {0x00, 0x01, 0x10, 0x11, 0x12, 0x21, 0xab, 0xff};
    size_t len, i;
    if (rnd_below(5) == 0) {
        for (i = 0; i < 32; i++)
            k[i] = (uint8_t)rnd();
        return 32;
    }
    len = rnd_below(6);
    for (i = 0; i < len; i++)
        k[i] = alphabet[rnd_below(sizeof alphabet)];
    return len;
}

/* Values of 1..40 bytes: short ones make embedded nodes, long ones hashed. */
static size_t rnd_val(uint8_t *v)
{
    size_t len = 1 + rnd_below(40), i;
    for (i = 0; i < len; i++)
        v[i] = (uint8_t)rnd();
    return len;
}

/* ------------------------------------------------------------------------
 * Tests */

static void test_empty(void **state)
{
    uint8_t root[32], h[32], empty_rlp = 0x80;
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct qcn_buf v;
    (void)state;

    hex32(h, "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    assert_memory_equal(QCN_MPT_EMPTY_ROOT, h, 32);
    qcn_keccak256(h, &empty_rlp, 1);
    assert_memory_equal(QCN_MPT_EMPTY_ROOT, h, 32);
    assert_int_equal(qcn_mpt_root(root, NULL, 0), QCN_OK);
    assert_memory_equal(root, QCN_MPT_EMPTY_ROOT, 32);
    assert_int_equal(qcn_mpt_secure_root(root, NULL, 0), QCN_OK);
    assert_memory_equal(root, QCN_MPT_EMPTY_ROOT, 32);
    {
        /* Only empty values: still the empty trie. */
        struct qcn_mpt_kv kv = kv_str("a", "");
        assert_int_equal(qcn_mpt_root(root, &kv, 1), QCN_OK);
        assert_memory_equal(root, QCN_MPT_EMPTY_ROOT, 32);
    }

    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    qcn_buf_init(&v, VAL_MAX);
    assert_int_equal(qcn_mpt_get(t, &v, (const uint8_t *)"a", 1), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_mpt_hash(t, root), QCN_OK);
    assert_memory_equal(root, QCN_MPT_EMPTY_ROOT, 32);
    assert_int_equal(qcn_mpt_put(t, (const uint8_t *)"a", 1, (const uint8_t *)"b", 1), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"a", 1), QCN_OK);
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    assert_memory_equal(root, QCN_MPT_EMPTY_ROOT, 32);
    assert_int_equal(qcn_mpt_memstore_count(ms), 0);
    qcn_mpt_free(t);
    /* Opening at the empty root needs nothing from the store. */
    assert_int_equal(qcn_mpt_open(&t, &ns, QCN_MPT_EMPTY_ROOT), QCN_OK);
    qcn_mpt_free(t);
    qcn_buf_clear(&v);
    qcn_mpt_memstore_free(ms);
}

struct vector {
    const char *name;
    const char *root;
    size_t n;
    const char *kv[8][2]; /* "0x..." means hex */
};

/* ethereum/tests TrieTests/trieanyorder.json */
static const struct vector vectors[] = {
    {"singleItem",
     "d23786fb4a010da3ce639d66d5e904a11dbc02746d1ce25029e53290cabf28ab",
     1,
     {{"A", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}},
    {"dogs",
     "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3",
     3,
     {{"doe", "reindeer"}, {"dog", "puppy"}, {"dogglesworth", "cat"}}},
    {"puppy",
     "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84",
     4,
     {{"do", "verb"}, {"horse", "stallion"}, {"doge", "coin"}, {"dog", "puppy"}}},
    {"foo",
     "17beaa1648bafa633cda809c90c04af50fc8aed3cb40d16efbddee6fdf63c4c3",
     2,
     {{"foo", "bar"}, {"food", "bass"}}},
    {"smallValues",
     "3f67c7a47520f79faa29255d2d3c084a7a6df0453116ed7232ff10277a8be68b",
     3,
     {{"be", "e"}, {"dog", "puppy"}, {"bed", "d"}}},
    {"testy",
     "8452568af70d8d140f58d941338542f645fcca50094b20f3c3d8c3df49337928",
     2,
     {{"test", "test"}, {"te", "testy"}}},
    {"hex",
     "285505fcabe84badc8aa310e2aae17eddc7d120aabec8a476902c8184b3a3503",
     2,
     {{"0x0045", "0x0123456789"}, {"0x4500", "0x9876543210"}}},
};

static size_t vec_bytes(uint8_t *out, size_t cap, const char *s)
{
    size_t n;
    if (strncmp(s, "0x", 2) == 0) {
        assert_int_equal(qcn_hex_decode(out, cap, &n, s, strlen(s)), QCN_OK);
        return n;
    }
    n = strlen(s);
    assert_true(n <= cap);
    memcpy(out, s, n);
    return n;
}

static void test_known_roots(void **state)
{
    uint8_t buf[8][2][64], want[32], root[32];
    struct qcn_mpt_kv kv[8], rev[8];
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    size_t i, j;
    (void)state;

    for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *vc = &vectors[i];
        hex32(want, vc->root);
        for (j = 0; j < vc->n; j++) {
            kv[j].key = buf[j][0];
            kv[j].key_len = vec_bytes(buf[j][0], 64, vc->kv[j][0]);
            kv[j].value = buf[j][1];
            kv[j].value_len = vec_bytes(buf[j][1], 64, vc->kv[j][1]);
            rev[vc->n - 1 - j] = kv[j];
        }
        assert_int_equal(qcn_mpt_root(root, kv, vc->n), QCN_OK);
        assert_memory_equal(root, want, 32);
        assert_int_equal(qcn_mpt_root(root, rev, vc->n), QCN_OK);
        assert_memory_equal(root, want, 32);

        /* The incremental trie, in both orders, agrees. */
        assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
        ns = qcn_mpt_memstore_iface(ms);
        assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
        assert_int_equal(qcn_mpt_update(t, kv, vc->n), QCN_OK);
        assert_int_equal(qcn_mpt_hash(t, root), QCN_OK);
        assert_memory_equal(root, want, 32);
        assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
        assert_memory_equal(root, want, 32);
        qcn_mpt_free(t);
        assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
        assert_int_equal(qcn_mpt_update(t, rev, vc->n), QCN_OK);
        assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
        assert_memory_equal(root, want, 32);
        qcn_mpt_free(t);
        /* Reopened from the store, it reads back. */
        assert_int_equal(qcn_mpt_open(&t, &ns, want), QCN_OK);
        {
            struct qcn_buf v;
            qcn_buf_init(&v, VAL_MAX);
            for (j = 0; j < vc->n; j++) {
                assert_int_equal(qcn_mpt_get(t, &v, kv[j].key, kv[j].key_len), QCN_OK);
                assert_int_equal(v.len, kv[j].value_len);
                assert_memory_equal(v.p, kv[j].value, v.len);
            }
            qcn_buf_clear(&v);
        }
        qcn_mpt_free(t);
        qcn_mpt_memstore_free(ms);
    }
}

static void test_secure_and_duplicates(void **state)
{
    struct qcn_mpt_kv kv[5];
    uint8_t want[32], root[32];
    (void)state;

    /* Secure trie over the "dogs" pairs. */
    kv[0] = kv_str("doe", "reindeer");
    kv[1] = kv_str("dog", "puppy");
    kv[2] = kv_str("dogglesworth", "cat");
    hex32(want, "d4cd937e4a4368d7931a9cf51686b7e10abb3dce38a39000fd7902a092b64585");
    assert_int_equal(qcn_mpt_secure_root(root, kv, 3), QCN_OK);
    assert_memory_equal(root, want, 32);

    /* The last of duplicate keys wins; an empty value removes. */
    hex32(want, "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3");
    kv[0] = kv_str("dog", "kitten");
    kv[1] = kv_str("doe", "reindeer");
    kv[2] = kv_str("dog", "puppy");
    kv[3] = kv_str("horse", "stallion");
    kv[4] = kv_str("horse", "");
    {
        struct qcn_mpt_kv all[6];
        memcpy(all, kv, sizeof kv);
        all[5] = kv_str("dogglesworth", "cat");
        assert_int_equal(qcn_mpt_root(root, all, 6), QCN_OK);
        assert_memory_equal(root, want, 32);
    }
}

static void test_delete_canonical(void **state)
{
    /* cpp-ethereum's sequence: roots after deletions equal from-scratch ones. */
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct qcn_mpt_kv kv[4];
    uint8_t want[32], root[32];
    (void)state;

    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    kv[0] = kv_str("dog", "puppy");
    kv[1] = kv_str("doe", "reindeer");
    kv[2] = kv_str("dogglesworth", "cat");
    assert_int_equal(qcn_mpt_update(t, kv, 3), QCN_OK);
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"dogglesworth", 12), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"doe", 3), QCN_OK);
    assert_int_equal(qcn_mpt_root(want, kv, 1), QCN_OK);
    assert_int_equal(qcn_mpt_hash(t, root), QCN_OK);
    assert_memory_equal(root, want, 32);
    kv[1] = kv_str("horse", "stallion");
    kv[2] = kv_str("do", "verb");
    kv[3] = kv_str("doge", "coin");
    assert_int_equal(qcn_mpt_update(t, kv + 1, 3), QCN_OK);
    hex32(want, "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    assert_memory_equal(root, want, 32);
    /* Deleting a missing key, or a prefix of a key, changes nothing. */
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"d", 1), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"dogs", 4), QCN_OK);
    assert_int_equal(qcn_mpt_dirty(t), 0);
    /* Delete everything: the empty root again. */
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"do", 2), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"dog", 3), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"doge", 4), QCN_OK);
    assert_int_equal(qcn_mpt_delete(t, (const uint8_t *)"horse", 5), QCN_OK);
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    assert_memory_equal(root, QCN_MPT_EMPTY_ROOT, 32);
    qcn_mpt_free(t);
    qcn_mpt_memstore_free(ms);
}

/* Random batches through the incremental trie, each compared with the
 * one-shot root of the reference map; old roots checked at the end. */
#define OLD_ROOTS 6

static void test_random_differential(void **state)
{
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct ref_map ref = {0}, old[OLD_ROOTS];
    uint8_t old_root[OLD_ROOTS][32], root[32], want[32];
    uint8_t key[64][QCN_MPT_MAX_KEY_BYTES], val[64][64];
    struct qcn_mpt_kv batch[64];
    size_t round, i, nold = 0, ops = 0;
    (void)state;

    rng_state = 0x9e3779b97f4a7c15ull;
    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    for (round = 0; round < 400; round++) {
        size_t n = 1 + rnd_below(64);
        int discard = rnd_below(10) == 0;
        for (i = 0; i < n; i++) {
            batch[i].key = key[i];
            /* Half of the time, touch a key that exists. */
            if (ref.n > 0 && rnd_below(2) == 0) {
                const struct ref_entry *e = &ref.e[rnd_below(ref.n)];
                memcpy(key[i], e->key, e->klen);
                batch[i].key_len = e->klen;
            } else {
                batch[i].key_len = rnd_key(key[i]);
            }
            batch[i].value = val[i];
            batch[i].value_len = rnd_below(4) == 0 ? 0 : rnd_val(val[i]);
        }
        assert_int_equal(qcn_mpt_update(t, batch, n), QCN_OK);
        ops += n;
        if (discard) {
            qcn_mpt_discard(t);
            assert_int_equal(qcn_mpt_dirty(t), 0);
        } else {
            for (i = 0; i < n; i++)
                ref_set(&ref, batch[i].key, batch[i].key_len, batch[i].value, batch[i].value_len);
        }
        ref_root(&ref, want);
        if (rnd_below(3) == 0) {
            assert_int_equal(qcn_mpt_hash(t, root), QCN_OK);
            assert_memory_equal(root, want, 32);
        }
        assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
        assert_memory_equal(root, want, 32);
        if (rnd_below(8) == 0)
            qcn_mpt_evict(t);
        if (round % 50 == 0)
            check_contents(t, &ref);
        if (round % 67 == 0 && nold < OLD_ROOTS) {
            memcpy(old_root[nold], root, 32);
            ref_copy(&old[nold], &ref);
            nold++;
        }
    }
    assert_true(ops > 10000);
    check_contents(t, &ref);
    qcn_mpt_free(t);

    /* Every remembered root still opens and reads its own values, and a
     * key deleted since then is still there at the old root. */
    for (i = 0; i < nold; i++) {
        assert_int_equal(qcn_mpt_open(&t, &ns, old_root[i]), QCN_OK);
        check_contents(t, &old[i]);
        assert_int_equal(qcn_mpt_hash(t, root), QCN_OK);
        assert_memory_equal(root, old_root[i], 32);
        qcn_mpt_free(t);
        free(old[i].e);
    }
    free(ref.e);
    qcn_mpt_memstore_free(ms);
}

/* ------------------------------------------------------------------------
 * A located store (mpt.h get_at/put_at) as strict as the LMDB one: a node is
 * found only at the exact locator it was filed under (the commit number), a
 * root also through QCN_MPT_LOC_ANY, and misses are counted. */

#define LOC_SLOTS (1u << 16)

struct loc_node {
    int used;
    uint64_t loc;
    uint8_t hash[32];
    uint8_t *rec;
    size_t len;
};

struct loc_store {
    struct loc_node node[LOC_SLOTS];
    struct loc_node root[LOC_SLOTS]; /* hash -> loc (rec unused) */
    uint64_t gen;
    size_t puts, misses;
};

static struct loc_node *loc_find(struct loc_node *tab, uint64_t loc, const uint8_t *hash)
{
    size_t i = (size_t)(qcn_load_le64(hash) ^ loc * 0x9e3779b97f4a7c15ull) & (LOC_SLOTS - 1);
    for (;;) {
        struct loc_node *e = &tab[i];
        if (!e->used || (e->loc == loc && memcmp(e->hash, hash, 32) == 0))
            return e;
        i = (i + 1) & (LOC_SLOTS - 1);
    }
}

static int loc_get(void *ctx, uint64_t *loc, const uint8_t hash[32], struct qcn_buf *out)
{
    struct loc_store *ls = ctx;
    struct loc_node *e;
    if (*loc == QCN_MPT_LOC_ANY) {
        e = loc_find(ls->root, 0, hash);
        if (!e->used)
            return QCN_ERR_NOT_FOUND;
        *loc = e->len; /* the root index keeps the locator in len */
    }
    e = loc_find(ls->node, *loc, hash);
    if (!e->used) {
        ls->misses++;
        return QCN_ERR_NOT_FOUND;
    }
    return qcn_buf_append(out, e->rec, e->len);
}

static int loc_put(void *ctx, uint64_t *loc, const uint8_t hash[32], const uint8_t *rec, size_t len,
                   int is_root)
{
    struct loc_store *ls = ctx;
    struct loc_node *e = loc_find(ls->node, ls->gen, hash);
    assert_true(len >= 1 && len >= 1 + 8 * (size_t)rec[0]);
    if (!e->used) {
        e->used = 1;
        e->loc = ls->gen;
        memcpy(e->hash, hash, 32);
    }
    free(e->rec);
    e->rec = malloc(len);
    assert_non_null(e->rec);
    memcpy(e->rec, rec, len);
    e->len = len;
    if (is_root) {
        struct loc_node *r = loc_find(ls->root, 0, hash);
        r->used = 1;
        memcpy(r->hash, hash, 32);
        r->len = (size_t)ls->gen;
    }
    *loc = ls->gen;
    ls->puts++;
    return QCN_OK;
}

static void loc_store_free(struct loc_store *ls)
{
    size_t i;
    for (i = 0; i < LOC_SLOTS; i++)
        free(ls->node[i].rec);
    free(ls);
}

static void test_located_store(void **state)
{
    struct loc_store *ls = calloc(1, sizeof *ls);
    struct qcn_mpt_nodestore ns = {ls, NULL, NULL, loc_get, loc_put};
    struct qcn_mpt *t;
    struct ref_map ref = {0}, old[OLD_ROOTS];
    uint8_t old_root[OLD_ROOTS][32], root[32], want[32];
    uint8_t key[32][QCN_MPT_MAX_KEY_BYTES], val[32][64];
    struct qcn_mpt_kv batch[32];
    struct qcn_buf v;
    size_t round, i, nold = 0;
    (void)state;

    assert_non_null(ls);
    rng_state = 0x1234567887654321ull;
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    for (round = 0; round < 150; round++) {
        size_t n = 1 + rnd_below(32);
        for (i = 0; i < n; i++) {
            batch[i].key = key[i];
            if (ref.n > 0 && rnd_below(2) == 0) {
                const struct ref_entry *e = &ref.e[rnd_below(ref.n)];
                memcpy(key[i], e->key, e->klen);
                batch[i].key_len = e->klen;
            } else {
                batch[i].key_len = rnd_key(key[i]);
            }
            batch[i].value = val[i];
            batch[i].value_len = rnd_below(4) == 0 ? 0 : rnd_val(val[i]);
            ref_set(&ref, batch[i].key, batch[i].key_len, batch[i].value, batch[i].value_len);
        }
        assert_int_equal(qcn_mpt_update(t, batch, n), QCN_OK);
        ls->gen = round + 1; /* each commit files its nodes under its own locator */
        assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
        ref_root(&ref, want);
        assert_memory_equal(root, want, 32);
        /* Evicted nodes come back through the locators their parents hold. */
        if (rnd_below(4) == 0)
            qcn_mpt_evict(t);
        if (round % 30 == 0)
            check_contents(t, &ref);
        if (round % 37 == 0 && nold < OLD_ROOTS) {
            memcpy(old_root[nold], root, 32);
            ref_copy(&old[nold], &ref);
            nold++;
        }
    }
    check_contents(t, &ref);
    qcn_mpt_free(t);
    assert_true(ls->puts > 1000);
    for (i = 0; i < nold; i++) {
        assert_int_equal(qcn_mpt_open(&t, &ns, old_root[i]), QCN_OK);
        check_contents(t, &old[i]);
        qcn_mpt_free(t);
        free(old[i].e);
    }
    /* Every lookup went to the exact locator its parent recorded. */
    assert_int_equal(ls->misses, 0);

    /* A record whose locator count does not fit its node is corrupt, and a
     * wrong locator is a missing node: never a wrong answer. */
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    {
        struct loc_node *r = loc_find(ls->root, 0, root);
        struct loc_node *e = loc_find(ls->node, (uint64_t)r->len, root);
        assert_true(e->used && e->rec[0] > 0);
        qcn_mpt_free(t);
        e->rec[0]--; /* one locator fewer: the "RLP" now starts 8 bytes early */
        assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_ERR_STORE_CORRUPT);
        e->rec[0]++;
        qcn_store_be64(e->rec + 1, 0x7777); /* the first child's locator is wrong */
        assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
        qcn_buf_init(&v, VAL_MAX);
        for (i = 0; i < ref.n; i++) {
            int err = qcn_mpt_get(t, &v, ref.e[i].key, ref.e[i].klen);
            assert_true(err == QCN_OK || err == QCN_ERR_STATE_MISSING_NODE);
            if (err == QCN_OK)
                assert_memory_equal(v.p, ref.e[i].val, ref.e[i].vlen);
        }
        assert_true(ls->misses > 0);
        qcn_buf_clear(&v);
        qcn_mpt_free(t);
    }
    free(ref.e);
    loc_store_free(ls);
}

/* Changes of hundreds of keys hash the root's subtrees on two threads
 * (mpt.c prehash): the roots must still equal the one-shot builder's, for
 * qcn_mpt_hash and commit alike, after inserts and after mixed deletes and
 * updates. */
static void test_large_change_parallel_hash(void **state)
{
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct ref_map ref = {0};
    uint8_t root[32], want[32], k[32], v[64];
    size_t i, j, round;
    (void)state;

    rng_state = 0x0badc0ffee123457ull;
    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    for (round = 0; round < 3; round++) {
        for (i = 0; i < 1500; i++) {
            size_t vlen = rnd_val(v);
            if (ref.n > 0 && rnd_below(3) == 0) {
                /* an existing key: update or delete it */
                const struct ref_entry *e = &ref.e[rnd_below(ref.n)];
                memcpy(k, e->key, 32);
                if (rnd_below(2) == 0)
                    vlen = 0;
            } else {
                for (j = 0; j < 32; j++)
                    k[j] = (uint8_t)rnd();
            }
            assert_int_equal(qcn_mpt_put(t, k, 32, v, vlen), QCN_OK);
            ref_set(&ref, k, 32, v, vlen);
        }
        ref_root(&ref, want);
        if (round != 1) { /* round 1: commit hashes (in parallel) by itself */
            assert_int_equal(qcn_mpt_hash(t, root), QCN_OK);
            assert_memory_equal(root, want, 32);
        }
        assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
        assert_memory_equal(root, want, 32);
    }
    qcn_mpt_free(t);
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    check_contents(t, &ref);
    qcn_mpt_free(t);
    free(ref.e);
    qcn_mpt_memstore_free(ms);
}

static void test_small_root_and_hash_keys(void **state)
{
    /* A trie whose root RLP is shorter than 32 bytes is still stored under
     * its hash and reopens. */
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct qcn_buf v;
    uint8_t root[32], want[32];
    struct qcn_mpt_kv kv = kv_str("a", "b");
    (void)state;

    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    qcn_buf_init(&v, VAL_MAX);
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    assert_int_equal(qcn_mpt_update(t, &kv, 1), QCN_OK);
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    assert_int_equal(qcn_mpt_root(want, &kv, 1), QCN_OK);
    assert_memory_equal(root, want, 32);
    assert_int_equal(qcn_mpt_memstore_count(ms), 1);
    qcn_mpt_free(t);
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    assert_int_equal(qcn_mpt_get(t, &v, (const uint8_t *)"a", 1), QCN_OK);
    assert_int_equal(v.len, 1);
    assert_int_equal(v.p[0], 'b');
    /* The empty key is a key like any other. */
    assert_int_equal(qcn_mpt_put(t, NULL, 0, (const uint8_t *)"e", 1), QCN_OK);
    assert_int_equal(qcn_mpt_get(t, &v, NULL, 0), QCN_OK);
    assert_int_equal(v.p[0], 'e');
    assert_int_equal(qcn_mpt_delete(t, NULL, 0), QCN_OK);
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    assert_memory_equal(root, want, 32);
    qcn_mpt_free(t);
    qcn_buf_clear(&v);
    qcn_mpt_memstore_free(ms);
}

static void test_bad_args(void **state)
{
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct qcn_buf v;
    uint8_t key[QCN_MPT_MAX_KEY_BYTES + 1] = {0}, root[32];
    struct qcn_mpt_kv kv = {key, sizeof key, key, 1};
    (void)state;

    assert_int_equal(qcn_mpt_root(root, &kv, 1), QCN_ERR_INVALID_ARG);
    kv.key_len = 1;
    kv.value_len = (size_t)QCN_MPT_MAX_VALUE_BYTES + 1;
    assert_int_equal(qcn_mpt_root(root, &kv, 1), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    assert_int_equal(qcn_mpt_put(t, key, sizeof key, key, 1), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_mpt_put(t, key, 1, key, (size_t)QCN_MPT_MAX_VALUE_BYTES + 1),
                     QCN_ERR_INVALID_ARG);
    qcn_buf_init(&v, 2);
    assert_int_equal(qcn_mpt_get(t, &v, key, sizeof key), QCN_ERR_INVALID_ARG);
    /* A value larger than the caller's buffer cap. */
    assert_int_equal(qcn_mpt_put(t, key, 1, (const uint8_t *)"abc", 3), QCN_OK);
    assert_int_equal(qcn_mpt_get(t, &v, key, 1), QCN_ERR_TOO_LARGE);
    assert_int_equal(v.len, 0);
    qcn_mpt_free(t);
    qcn_buf_clear(&v);
    /* An unknown root fails at open. */
    memset(root, 7, sizeof root);
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_ERR_STATE_MISSING_NODE);
    assert_null(t);
    qcn_mpt_memstore_free(ms);
}

/* Builds a trie of n keys (a mix of short and hashed keys) into ms. */
static void build_trie(struct qcn_mpt_memstore *ms, struct ref_map *ref, size_t n, uint8_t root[32])
{
    struct qcn_mpt_nodestore ns = qcn_mpt_memstore_iface(ms);
    struct qcn_mpt *t;
    uint8_t k[QCN_MPT_MAX_KEY_BYTES], v[64];
    size_t i, kl, vl;

    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    for (i = 0; i < n; i++) {
        kl = rnd_key(k);
        vl = rnd_val(v);
        assert_int_equal(qcn_mpt_put(t, k, kl, v, vl), QCN_OK);
        ref_set(ref, k, kl, v, vl);
    }
    assert_int_equal(qcn_mpt_commit(t, root), QCN_OK);
    qcn_mpt_free(t);
}

static void test_proofs(void **state)
{
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct ref_map ref = {0};
    struct qcn_mpt_proof proof;
    struct qcn_view value;
    uint8_t root[32], want[32], k[QCN_MPT_MAX_KEY_BYTES];
    size_t i, j, b, kl, tampered = 0;
    int found;
    (void)state;

    rng_state = 0x1234567887654321ull;
    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    qcn_mpt_proof_init(&proof);

    /* The empty trie: an empty proof shows absence. */
    assert_int_equal(qcn_mpt_open(&t, &ns, NULL), QCN_OK);
    assert_int_equal(qcn_mpt_prove(t, &proof, (const uint8_t *)"x", 1), QCN_OK);
    assert_int_equal(proof.count, 0);
    assert_int_equal(qcn_mpt_verify_proof(&found, &value, QCN_MPT_EMPTY_ROOT, (const uint8_t *)"x",
                                          1, proof.node, proof.count),
                     QCN_OK);
    assert_int_equal(found, 0);
    qcn_mpt_free(t);

    build_trie(ms, &ref, 600, root);
    ref_root(&ref, want);
    assert_memory_equal(root, want, 32);
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    qcn_mpt_evict(t);
    for (i = 0; i < ref.n; i++) {
        assert_int_equal(qcn_mpt_prove(t, &proof, ref.e[i].key, ref.e[i].klen), QCN_OK);
        assert_true(proof.count >= 1);
        assert_int_equal(qcn_mpt_verify_proof(&found, &value, root, ref.e[i].key, ref.e[i].klen,
                                              proof.node, proof.count),
                         QCN_OK);
        assert_int_equal(found, 1);
        assert_int_equal(value.len, ref.e[i].vlen);
        assert_memory_equal(value.p, ref.e[i].val, value.len);
        /* Against another root, or with a node missing or added, it fails. */
        assert_int_equal(qcn_mpt_verify_proof(&found, &value, QCN_MPT_EMPTY_ROOT, ref.e[i].key,
                                              ref.e[i].klen, proof.node, proof.count),
                         QCN_ERR_STATE_PROOF);
        assert_int_equal(qcn_mpt_verify_proof(&found, &value, root, ref.e[i].key, ref.e[i].klen,
                                              proof.node, proof.count - 1),
                         QCN_ERR_STATE_PROOF);
        if (proof.count < QCN_MPT_MAX_PROOF_NODES) {
            proof.node[proof.count] = proof.node[0];
            assert_int_equal(qcn_mpt_verify_proof(&found, &value, root, ref.e[i].key, ref.e[i].klen,
                                                  proof.node, proof.count + 1),
                             QCN_ERR_STATE_PROOF);
        }
        /* Every byte flipped, in the proofs of some keys, breaks it. */
        if (i % 40 == 0) {
            for (j = 0; j < proof.count; j++) {
                uint8_t *p = (uint8_t *)proof.node[j].p;
                for (b = 0; b < proof.node[j].len; b++) {
                    p[b] ^= 0x01;
                    assert_int_equal(qcn_mpt_verify_proof(&found, &value, root, ref.e[i].key,
                                                          ref.e[i].klen, proof.node, proof.count),
                                     QCN_ERR_STATE_PROOF);
                    assert_int_equal(found, 0);
                    p[b] ^= 0x01;
                    tampered++;
                }
            }
        }
    }
    assert_true(tampered > 500);

    /* Absent keys: proofs of absence verify, and claim nothing. */
    for (i = 0; i < 300; i++) {
        kl = rnd_key(k);
        if (ref_find(&ref, k, kl) != NULL)
            continue;
        assert_int_equal(qcn_mpt_prove(t, &proof, k, kl), QCN_OK);
        assert_int_equal(qcn_mpt_verify_proof(&found, &value, root, k, kl, proof.node, proof.count),
                         QCN_OK);
        assert_int_equal(found, 0);
        assert_int_equal(value.len, 0);
        if (proof.count > 0) {
            uint8_t *p = (uint8_t *)proof.node[proof.count - 1].p;
            p[proof.node[proof.count - 1].len - 1] ^= 0x80;
            assert_int_equal(
                qcn_mpt_verify_proof(&found, &value, root, k, kl, proof.node, proof.count),
                QCN_ERR_STATE_PROOF);
            p[proof.node[proof.count - 1].len - 1] ^= 0x80;
        }
    }
    /* One key's proof may also cover other keys (embedded siblings, values
     * on its path), but it never shows a wrong value or a false absence. */
    assert_int_equal(qcn_mpt_prove(t, &proof, ref.e[0].key, ref.e[0].klen), QCN_OK);
    for (i = 1; i < ref.n; i++) {
        int err = qcn_mpt_verify_proof(&found, &value, root, ref.e[i].key, ref.e[i].klen,
                                       proof.node, proof.count);
        if (err == QCN_OK) {
            assert_int_equal(found, 1);
            assert_int_equal(value.len, ref.e[i].vlen);
            assert_memory_equal(value.p, ref.e[i].val, value.len);
        } else {
            assert_int_equal(err, QCN_ERR_STATE_PROOF);
        }
    }
    /* Uncommitted changes: no proofs. */
    assert_int_equal(qcn_mpt_put(t, (const uint8_t *)"zz", 2, (const uint8_t *)"v", 1), QCN_OK);
    assert_int_equal(qcn_mpt_prove(t, &proof, (const uint8_t *)"zz", 2), QCN_ERR_STATE);
    qcn_mpt_free(t);
    qcn_mpt_proof_clear(&proof);
    free(ref.e);
    qcn_mpt_memstore_free(ms);
}

/* Discard and evict drop nodes without allocating; the root is reloaded
 * from the store on the next use. */
static void test_discard_evict(void **state)
{
    struct qcn_mpt_memstore *ms;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct ref_map ref = {0};
    struct qcn_mpt_proof proof;
    struct qcn_buf v;
    uint8_t root[32], root2[32];
    int found;
    struct qcn_view value;
    (void)state;

    rng_state = 0x5555aaaa5555aaaaull;
    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    ns = qcn_mpt_memstore_iface(ms);
    build_trie(ms, &ref, 200, root);
    qcn_buf_init(&v, VAL_MAX);
    qcn_mpt_proof_init(&proof);
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    qcn_mpt_evict(t);
    assert_int_equal(qcn_mpt_hash(t, root2), QCN_OK);
    assert_memory_equal(root, root2, 32);
    assert_int_equal(qcn_mpt_prove(t, &proof, ref.e[3].key, ref.e[3].klen), QCN_OK);
    assert_int_equal(qcn_mpt_verify_proof(&found, &value, root, ref.e[3].key, ref.e[3].klen,
                                          proof.node, proof.count),
                     QCN_OK);
    assert_int_equal(found, 1);
    qcn_mpt_evict(t);
    assert_int_equal(qcn_mpt_delete(t, ref.e[0].key, ref.e[0].klen), QCN_OK);
    assert_int_equal(qcn_mpt_put(t, ref.e[1].key, ref.e[1].klen, (const uint8_t *)"new", 3),
                     QCN_OK);
    /* Evicting with changes pending keeps them. */
    qcn_mpt_evict(t);
    assert_int_equal(qcn_mpt_get(t, &v, ref.e[0].key, ref.e[0].klen), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_mpt_get(t, &v, ref.e[1].key, ref.e[1].klen), QCN_OK);
    assert_int_equal(v.len, 3);
    assert_int_equal(qcn_mpt_hash(t, root2), QCN_OK);
    assert_memory_not_equal(root, root2, 32);
    qcn_mpt_discard(t);
    assert_int_equal(qcn_mpt_dirty(t), 0);
    assert_int_equal(qcn_mpt_hash(t, root2), QCN_OK);
    assert_memory_equal(root, root2, 32);
    check_contents(t, &ref);
    qcn_mpt_free(t);
    qcn_mpt_proof_clear(&proof);
    qcn_buf_clear(&v);
    free(ref.e);
    qcn_mpt_memstore_free(ms);
}

/* A node store that lies: flips a byte of one node, forgets one, or fails
 * puts, on request. */
struct lying_store {
    struct qcn_mpt_nodestore inner;
    uint8_t target[32];
    int corrupt;   /* flip a byte of target */
    int forget;    /* claim target is missing */
    int io_error;  /* fail every get */
    int fail_puts; /* fail put number fail_puts (1-based), once */
    int puts;
};

static int lying_get(void *ctx, const uint8_t hash[32], struct qcn_buf *out)
{
    struct lying_store *s = ctx;
    int err;
    if (s->io_error)
        return QCN_ERR_IO;
    if (s->forget && memcmp(hash, s->target, 32) == 0)
        return QCN_ERR_NOT_FOUND;
    err = s->inner.get(s->inner.ctx, hash, out);
    if (err == QCN_OK && s->corrupt && memcmp(hash, s->target, 32) == 0)
        out->p[out->len / 2] ^= 0x04;
    return err;
}

static int lying_put(void *ctx, const uint8_t hash[32], const uint8_t *node, size_t len)
{
    struct lying_store *s = ctx;
    if (++s->puts == s->fail_puts)
        return QCN_ERR_STORE_FULL;
    return s->inner.put(s->inner.ctx, hash, node, len);
}

static void test_corrupt_store(void **state)
{
    struct qcn_mpt_memstore *ms;
    struct lying_store ls;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *t;
    struct ref_map ref = {0};
    struct qcn_mpt_proof proof;
    struct qcn_buf v;
    uint8_t root[32], root2[32], h[32];
    size_t i, bad = 0;
    int err;
    (void)state;

    rng_state = 0xdeadbeefcafef00dull;
    assert_int_equal(qcn_mpt_memstore_new(&ms), QCN_OK);
    build_trie(ms, &ref, 300, root);
    memset(&ls, 0, sizeof ls);
    memset(&ns, 0, sizeof ns);
    ls.inner = qcn_mpt_memstore_iface(ms);
    ns.ctx = &ls;
    ns.get = lying_get;
    ns.put = lying_put;
    qcn_buf_init(&v, VAL_MAX);
    qcn_mpt_proof_init(&proof);

    /* A corrupted or missing root. */
    memcpy(ls.target, root, 32);
    ls.corrupt = 1;
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_ERR_STORE_CORRUPT);
    assert_null(t);
    ls.corrupt = 0;
    ls.forget = 1;
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_ERR_STATE_MISSING_NODE);
    ls.forget = 0;
    ls.io_error = 1;
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_ERR_IO);
    ls.io_error = 0;

    /* An inner node: take the last node of some key's proof. */
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    for (i = 0; i < ref.n; i++) {
        assert_int_equal(qcn_mpt_prove(t, &proof, ref.e[i].key, ref.e[i].klen), QCN_OK);
        if (proof.count >= 3)
            break;
    }
    assert_true(i < ref.n);
    qcn_keccak256(ls.target, proof.node[proof.count - 1].p, proof.node[proof.count - 1].len);
    qcn_mpt_free(t);
    ls.corrupt = 1;
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    assert_int_equal(qcn_mpt_get(t, &v, ref.e[i].key, ref.e[i].klen), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_prove(t, &proof, ref.e[i].key, ref.e[i].klen), QCN_ERR_STORE_CORRUPT);
    /* A change through the bad node fails and blocks further changes until
     * discard. */
    assert_int_equal(qcn_mpt_put(t, ref.e[i].key, ref.e[i].klen, (const uint8_t *)"x", 1),
                     QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_put(t, (const uint8_t *)"q", 1, (const uint8_t *)"x", 1),
                     QCN_ERR_STATE);
    assert_int_equal(qcn_mpt_commit(t, root2), QCN_ERR_STATE);
    ls.corrupt = 0;
    qcn_mpt_discard(t);
    check_contents(t, &ref);
    /* Deleting every key of the trie goes through every collapse; with
     * corrupt nodes some deletes fail cleanly instead. */
    qcn_mpt_evict(t);
    ls.corrupt = 1;
    for (i = 0; i < ref.n; i++) {
        err = qcn_mpt_delete(t, ref.e[i].key, ref.e[i].klen);
        if (err != QCN_OK) {
            assert_true(err == QCN_ERR_STORE_CORRUPT || err == QCN_ERR_STATE);
            bad++;
            qcn_mpt_discard(t);
        }
    }
    assert_true(bad > 0);
    qcn_mpt_free(t);
    ls.corrupt = 0;

    /* Non-canonical nodes that hash correctly are refused too. */
    {
        /* A branch with a single entry: [0x80 x 15, "ab"... ] */
        uint8_t node[20];
        size_t n = 0;
        node[n++] = 0xc0 + 18;
        for (i = 0; i < 16; i++)
            node[n++] = 0x80;
        node[n++] = 0x81;
        node[n++] = 0x90;
        assert_int_equal(qcn_mpt_node_check(node, n, 0), QCN_ERR_STORE_CORRUPT);
        qcn_keccak256(h, node, n);
        assert_int_equal(ls.inner.put(ls.inner.ctx, h, node, n), QCN_OK);
        assert_int_equal(qcn_mpt_open(&t, &ns, h), QCN_ERR_STORE_CORRUPT);
    }
    {
        /* An extension whose embedded child is a leaf. */
        static const uint8_t node[] = {0xc5, 0x12, 0xc3, 0x20, 0x81, 0x99};
        assert_int_equal(qcn_mpt_node_check(node, sizeof node, 0), QCN_ERR_STORE_CORRUPT);
        qcn_keccak256(h, node, sizeof node);
        assert_int_equal(ls.inner.put(ls.inner.ctx, h, node, sizeof node), QCN_OK);
        assert_int_equal(qcn_mpt_open(&t, &ns, h), QCN_ERR_STORE_CORRUPT);
    }

    /* A failed put aborts the commit; retrying succeeds with the same root. */
    assert_int_equal(qcn_mpt_open(&t, &ns, root), QCN_OK);
    for (i = 0; i < 50; i++) {
        uint8_t k[QCN_MPT_MAX_KEY_BYTES], val[64];
        size_t kl = rnd_key(k), vl = rnd_val(val);
        assert_int_equal(qcn_mpt_put(t, k, kl, val, vl), QCN_OK);
        ref_set(&ref, k, kl, val, vl);
    }
    ls.puts = 0;
    ls.fail_puts = 3;
    assert_int_equal(qcn_mpt_commit(t, root2), QCN_ERR_STORE_FULL);
    assert_int_equal(qcn_mpt_dirty(t), 1);
    assert_int_equal(qcn_mpt_commit(t, root2), QCN_OK);
    ref_root(&ref, h);
    assert_memory_equal(root2, h, 32);
    qcn_mpt_free(t);
    assert_int_equal(qcn_mpt_open(&t, &ns, root2), QCN_OK);
    check_contents(t, &ref);
    qcn_mpt_free(t);

    qcn_mpt_proof_clear(&proof);
    qcn_buf_clear(&v);
    free(ref.e);
    qcn_mpt_memstore_free(ms);
}

static void test_node_check(void **state)
{
    /* Leaf ["\x20", "a"], extension, branch, and malformed variants. */
    static const uint8_t leaf[] = {0xc2, 0x20, 0x61};
    static const uint8_t leaf_odd_flag_bad[] = {0xc2, 0x41, 0x61};
    static const uint8_t leaf_even_pad_bad[] = {0xc2, 0x21, 0x61};
    static const uint8_t leaf_empty_val[] = {0xc2, 0x20, 0x80};
    static const uint8_t three_items[] = {0xc3, 0x20, 0x61, 0x61};
    static const uint8_t ext_empty_path[] = {0xc2, 0x00, 0x80};
    static const uint8_t empty[] = {0x80};
    (void)state;

    assert_int_equal(qcn_mpt_node_check(leaf, sizeof leaf, 0), QCN_OK);
    assert_int_equal(qcn_mpt_node_check(leaf_odd_flag_bad, 3, 0), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_node_check(leaf_even_pad_bad, 3, 0), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_node_check(leaf_empty_val, 3, 0), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_node_check(three_items, 4, 0), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_node_check(ext_empty_path, 3, 0), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_node_check(empty, 1, 0), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_mpt_node_check(empty, 1, 1), QCN_OK);
    assert_int_equal(qcn_mpt_node_check(leaf, 2, 0), QCN_ERR_STORE_CORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_known_roots),
        cmocka_unit_test(test_secure_and_duplicates),
        cmocka_unit_test(test_delete_canonical),
        cmocka_unit_test(test_random_differential),
        cmocka_unit_test(test_small_root_and_hash_keys),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_proofs),
        cmocka_unit_test(test_discard_evict),
        cmocka_unit_test(test_located_store),
        cmocka_unit_test(test_large_change_parallel_hash),
        cmocka_unit_test(test_corrupt_store),
        cmocka_unit_test(test_node_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
