/* store: open/schema checks, batches and their overlay, one-transaction
 * commits, iteration, typed chain records, map growth, hot backup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "codec/rlp.h"
#include "store/store.h"
#include "util/log.h"

struct tmp {
    char dir[64];
};

static void rm_store(const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/qcn-store-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmp *t = *state;
    rm_store(t->dir);
    free(t);
    return 0;
}

static struct qcn_store *open_new(const char *dir, uint64_t map)
{
    struct qcn_store *s = NULL;
    struct qcn_store_opts o = {0};
    o.create = 1;
    o.map_size = map;
    o.grow_wait_ms = 200;
    assert_int_equal(qcn_store_open(&s, dir, &o), QCN_OK);
    return s;
}

static void test_open_missing(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = (struct qcn_store *)1;
    struct qcn_store_opts o = {0};
    char sub[128];
    snprintf(sub, sizeof sub, "%s/nope", t->dir);
    assert_int_equal(qcn_store_open(&s, sub, NULL), QCN_ERR_NOT_FOUND);
    assert_null(s);
    o.read_only = 1;
    o.create = 1; /* read-only never creates */
    assert_int_equal(qcn_store_open(&s, sub, &o), QCN_ERR_NOT_FOUND);
    assert_int_not_equal(access(sub, F_OK), 0);
}

static void test_reopen_and_schema(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    struct qcn_store_batch *b;
    struct qcn_store_snap *r;
    struct qcn_view v;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k, val;
    uint8_t bad[4] = {0, 0, 0, 99};

    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_ACCOUNT, "alice", 5, "100", 3), QCN_OK);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    qcn_store_batch_free(b);
    qcn_store_close(s);

    assert_int_equal(qcn_store_open(&s, t->dir, NULL), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_ACCOUNT, "alice", 5, &v), QCN_OK);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.p, "100", 3);
    qcn_store_snap_end(r);
    qcn_store_close(s);

    /* Rewrite the schema record behind the store's back: open must refuse. */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 20), 0);
    assert_int_equal(mdb_env_open(env, t->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    k.mv_data = (void *)"schema";
    k.mv_size = 6;
    val.mv_data = bad;
    val.mv_size = 4;
    assert_int_equal(mdb_put(txn, dbi, &k, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(qcn_store_open(&s, t->dir, NULL), QCN_ERR_STORE_SCHEMA);
    assert_null(s);
}

/* A store written by schema 1 (tables under other names, schema record 1)
 * is refused by its version, not misread. */
static void test_schema1_refused(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {6, (void *)"schema"}, v;
    uint8_t one[4] = {0, 0, 0, 1};
    static const char *const v1[] = {"meta",     "canon",    "headers", "bodies",
                                     "receipts", "blocknum", "txindex", "trie",
                                     "accounts", "storage",  "keys",    "code"};
    size_t i;

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 20), 0);
    assert_int_equal(mdb_env_open(env, t->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (i = 0; i < sizeof v1 / sizeof v1[0]; i++)
        assert_int_equal(mdb_dbi_open(txn, v1[i], MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    v.mv_data = one;
    v.mv_size = sizeof one;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(qcn_store_open(&s, t->dir, NULL), QCN_ERR_STORE_SCHEMA);
    assert_null(s);
}

static void test_foreign_lmdb_refused(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {3, (void *)"foo"}, v = {3, (void *)"bar"};

    /* An LMDB environment that is not ours (a table of another name). */
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, t->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "other", MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(qcn_store_open(&s, t->dir, NULL), QCN_ERR_STORE_SCHEMA);
}

static void test_garbage_file_refused(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s;
    char p[128];
    uint8_t junk[16384];
    FILE *f;
    size_t i;

    for (i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    snprintf(p, sizeof p, "%s/data.mdb", t->dir);
    f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    assert_int_equal(qcn_store_open(&s, t->dir, NULL), QCN_ERR_STORE_CORRUPT);
    assert_null(s);
}

static void test_batch_overlay_and_atomicity(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    struct qcn_store_batch *b;
    struct qcn_store_snap *r, *r2;
    struct qcn_view v;
    uint8_t big[600];

    memset(big, 1, sizeof big);
    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_STORAGE, "k1", 2, "v1", 2), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_STORAGE, "k2", 2, "v2", 2), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_CODE, "k1", 2, "code", 4), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_STORAGE, "k1", 2, "v1b", 3), QCN_OK);
    assert_int_equal(qcn_store_batch_count(b), 3);
    assert_int_equal(qcn_store_batch_bytes(b), 2 + 3 + 2 + 2 + 2 + 4);
    /* Bad arguments change nothing. */
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_TABLES, "k", 1, "v", 1), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_CODE, "", 0, "v", 1), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_CODE, big, sizeof big, "v", 1),
                     QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_store_batch_count(b), 3);

    /* Pending writes are visible through the batch, not through a snapshot. */
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_get(r, b, QCN_STORE_STORAGE, "k1", 2, &v), QCN_OK);
    assert_memory_equal(v.p, "v1b", 3);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_STORAGE, "k1", 2, &v), QCN_ERR_NOT_FOUND);
    assert_null(v.p);
    assert_int_equal(qcn_store_get(r, b, QCN_STORE_ACCOUNT, "k1", 2, &v), QCN_ERR_NOT_FOUND);
    qcn_store_snap_end(r);

    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK); /* sees the old state */
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    assert_int_equal(qcn_store_batch_count(b), 0);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_STORAGE, "k2", 2, &v), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_store_snap_begin(s, &r2), QCN_OK);
    assert_int_equal(qcn_store_get(r2, NULL, QCN_STORE_STORAGE, "k2", 2, &v), QCN_OK);
    assert_memory_equal(v.p, "v2", 2);
    assert_int_equal(qcn_store_get(r2, NULL, QCN_STORE_CODE, "k1", 2, &v), QCN_OK);
    assert_memory_equal(v.p, "code", 4);
    qcn_store_snap_end(r);

    /* A delete hides the committed value in the overlay, then on disk. */
    assert_int_equal(qcn_store_batch_del(b, QCN_STORE_STORAGE, "k2", 2), QCN_OK);
    assert_int_equal(qcn_store_batch_del(b, QCN_STORE_STORAGE, "zz", 2), QCN_OK);
    assert_int_equal(qcn_store_get(r2, b, QCN_STORE_STORAGE, "k2", 2, &v), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_store_get(r2, b, QCN_STORE_STORAGE, "k1", 2, &v), QCN_OK);
    qcn_store_snap_end(r2);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_STORAGE, "k2", 2, &v), QCN_ERR_NOT_FOUND);
    qcn_store_snap_end(r);

    /* reset drops pending writes. */
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_STORAGE, "k3", 2, "v3", 2), QCN_OK);
    qcn_store_batch_reset(b);
    assert_int_equal(qcn_store_get(NULL, b, QCN_STORE_STORAGE, "k3", 2, &v), QCN_ERR_NOT_FOUND);
    qcn_store_batch_free(b);
    qcn_store_close(s);
}

struct collect {
    int n;
    char keys[16][8];
    int stop_at;
};

static int collect_fn(void *ctx, struct qcn_view key, struct qcn_view val)
{
    struct collect *c = ctx;
    (void)val;
    if (c->n == c->stop_at)
        return 42;
    memcpy(c->keys[c->n], key.p, key.len < 7 ? key.len : 7);
    c->keys[c->n][key.len < 7 ? key.len : 7] = '\0';
    c->n++;
    return 0;
}

static void test_iterate_prefix(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    struct qcn_store_batch *b;
    struct qcn_store_snap *r;
    struct collect c = {0};
    const char *keys[] = {"b2", "a1", "b1", "b", "c", "b3x"};
    size_t i;

    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    for (i = 0; i < 6; i++)
        assert_int_equal(
            qcn_store_batch_put(b, QCN_STORE_STORAGE, keys[i], strlen(keys[i]), "x", 1), QCN_OK);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    c.stop_at = -1;
    assert_int_equal(qcn_store_iterate(r, QCN_STORE_STORAGE, "b", 1, collect_fn, &c), QCN_OK);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.keys[0], "b");
    assert_string_equal(c.keys[1], "b1");
    assert_string_equal(c.keys[2], "b2");
    assert_string_equal(c.keys[3], "b3x");
    memset(&c, 0, sizeof c);
    c.stop_at = 2;
    assert_int_equal(qcn_store_iterate(r, QCN_STORE_STORAGE, NULL, 0, collect_fn, &c), 42);
    assert_string_equal(c.keys[0], "a1");
    memset(&c, 0, sizeof c);
    c.stop_at = -1;
    assert_int_equal(qcn_store_iterate(r, QCN_STORE_STORAGE, "zz", 2, collect_fn, &c), QCN_OK);
    assert_int_equal(c.n, 0);
    qcn_store_snap_end(r);
    qcn_store_batch_free(b);
    qcn_store_close(s);
}

/* Stages a block the way the chain does: a header whose item 1 is the
 * height, CANON, and META "head". */
static void put_block(struct qcn_store_batch *b, uint64_t height, const uint8_t hash[32])
{
    struct qcn_buf hdr;
    uint8_t hk[8];
    size_t at;
    qcn_buf_init(&hdr, 1024);
    at = qcn_rlp_list_begin(&hdr);
    assert_int_equal(qcn_rlp_put_bytes(&hdr, hash, 32), QCN_OK); /* "parent" */
    assert_int_equal(qcn_rlp_put_u64(&hdr, height), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(&hdr, 1234), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&hdr, at), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_HEADER, hash, 32, hdr.p, hdr.len), QCN_OK);
    qcn_store_be64(hk, height);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_CANON, hk, 8, hash, 32), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_META, "head", 4, hash, 32), QCN_OK);
    qcn_buf_clear(&hdr);
}

static void test_typed_records(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    struct qcn_store_batch *b;
    struct qcn_store_snap *r;
    struct qcn_view v;
    uint8_t h[32], h2[32], tx[32], out[32], txv[36];
    uint64_t height;
    uint32_t idx;

    memset(h, 0xab, sizeof h);
    memset(tx, 0x11, sizeof tx);
    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_head_get(r, b, &height, out), QCN_ERR_NOT_FOUND);
    qcn_store_snap_end(r);
    put_block(b, 7, h);
    memcpy(txv, h, 32);
    qcn_store_be32(txv + 32, 3);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_TXINDEX, tx, 32, txv, 36), QCN_OK);
    /* A trie record at gen 7, indexed as a root; another at gen 9, not. */
    assert_int_equal(qcn_store_trie_put(b, 7, tx, (const uint8_t *)"\0node", 5, 1), QCN_OK);
    assert_int_equal(qcn_store_trie_put(b, 9, h, (const uint8_t *)"\0leaf", 5, 0), QCN_OK);
    /* The head is visible through the batch before the commit. */
    assert_int_equal(qcn_store_head_get(NULL, b, &height, out), QCN_OK);
    assert_int_equal(height, 7);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);

    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_head_get(r, NULL, &height, out), QCN_OK);
    assert_int_equal(height, 7);
    assert_memory_equal(out, h, 32);
    assert_int_equal(qcn_store_canon_get(r, NULL, 7, h2), QCN_OK);
    assert_memory_equal(h2, h, 32);
    assert_int_equal(qcn_store_canon_get(r, NULL, 8, h2), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_store_txindex_get(r, NULL, tx, h2, &idx), QCN_OK);
    assert_memory_equal(h2, h, 32);
    assert_int_equal(idx, 3);
    {
        uint64_t gen = QCN_STORE_TRIE_ANY;
        struct qcn_view node;
        const uint8_t *locs;
        size_t nlocs;
        uint8_t key[QCN_STORE_TRIE_KEY_BYTES];
        assert_int_equal(qcn_store_trie_get(r, NULL, &gen, tx, &v), QCN_OK);
        assert_int_equal(gen, 7);
        assert_int_equal(qcn_store_trie_split(v, &node, &locs, &nlocs), QCN_OK);
        assert_int_equal(nlocs, 0);
        assert_int_equal(node.len, 4);
        assert_memory_equal(node.p, "node", 4);
        /* The key is the gen, big-endian, then the hash: one block's nodes
         * are adjacent. */
        qcn_store_trie_key(key, 7, tx);
        assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_TRIE, key, sizeof key, &v), QCN_OK);
        assert_int_equal(key[7], 7);
        assert_memory_equal(key + 8, tx, 32);
        /* Not a root: found at its gen only. */
        gen = QCN_STORE_TRIE_ANY;
        assert_int_equal(qcn_store_trie_get(r, NULL, &gen, h, &v), QCN_ERR_NOT_FOUND);
        gen = 8;
        assert_int_equal(qcn_store_trie_get(r, NULL, &gen, h, &v), QCN_ERR_NOT_FOUND);
        gen = 9;
        assert_int_equal(qcn_store_trie_get(r, NULL, &gen, h, &v), QCN_OK);
        /* Records that claim more locators than they hold are corrupt. */
        assert_int_equal(qcn_store_trie_split(qcn_view_make((const uint8_t *)"\001abc", 4), &node,
                                              &locs, &nlocs),
                         QCN_ERR_STORE_CORRUPT);
        assert_int_equal(
            qcn_store_trie_split(qcn_view_make((const uint8_t *)"\x11", 1), &node, &locs, &nlocs),
            QCN_ERR_STORE_CORRUPT);
        assert_int_equal(qcn_store_trie_split(qcn_view_make(NULL, 0), &node, &locs, &nlocs),
                         QCN_ERR_STORE_CORRUPT);
    }
    qcn_store_snap_end(r);

    /* Malformed records are reported as corruption, not misread. */
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_META, "head", 4, "short", 5), QCN_OK);
    assert_int_equal(qcn_store_head_get(NULL, b, &height, out), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(height, 0);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_META, "head", 4, tx, 32), QCN_OK);
    assert_int_equal(qcn_store_head_get(NULL, b, &height, out), QCN_ERR_STORE_CORRUPT);
    assert_int_equal(qcn_store_batch_put(b, QCN_STORE_HEADER, tx, 32, "\xc1\x01", 2), QCN_OK);
    assert_int_equal(qcn_store_head_get(NULL, b, &height, out), QCN_ERR_STORE_CORRUPT);
    qcn_store_batch_free(b);
    qcn_store_close(s);
}

static void test_write_list_order(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    struct qcn_store_snap *r;
    struct qcn_store_rd rd;
    struct qcn_buf out;
    struct qcn_view v;
    struct qcn_store_write w[4] = {
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"b", (const uint8_t *)"b1"},
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"a", (const uint8_t *)"a1"},
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"b", (const uint8_t *)"b2"},
        {QCN_STORE_ACCOUNT, 1, 1, 0, (const uint8_t *)"a", NULL},
    };
    struct qcn_store_write bad = {QCN_STORE_TABLES,    0, 1, 1, (const uint8_t *)"x",
                                  (const uint8_t *)"y"};

    qcn_buf_init(&out, 1024);
    qcn_store_rd_init(&rd, s);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"b", 1, &out),
                     QCN_ERR_NOT_FOUND);
    /* The reader keeps its snapshot until released: it must be released
     * before a commit, and then sees the new data. */
    qcn_store_rd_release(&rd);
    assert_int_equal(qcn_store_write_commit(s, &bad, 1), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_store_write_commit(s, w, 4), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    /* Later writes to the same key win, whatever the sort did. */
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_ACCOUNT, "b", 1, &v), QCN_OK);
    assert_memory_equal(v.p, "b2", 2);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_ACCOUNT, "a", 1, &v), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_META, "x", 1, &v), QCN_ERR_NOT_FOUND);
    qcn_store_snap_end(r);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"b", 1, &out),
                     QCN_OK);
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.p, "b2", 2);
    qcn_store_rd_release(&rd);
    qcn_buf_clear(&out);
    qcn_store_close(s);
}

/* A model of one table for test_write_list_model: key -> value, last write wins. */
#define MODEL_MAX 4096
struct model {
    size_t n;
    uint8_t key[MODEL_MAX][12];
    size_t klen[MODEL_MAX];
    uint32_t val[MODEL_MAX];
    int seen;
};

static void model_apply(struct model *m, const struct qcn_store_write *w)
{
    size_t i;
    for (i = 0; i < m->n; i++)
        if (m->klen[i] == w->klen && memcmp(m->key[i], w->key, w->klen) == 0)
            break;
    if (w->del) {
        if (i < m->n) {
            m->n--;
            memmove(m->key[i], m->key[m->n], sizeof m->key[i]);
            m->klen[i] = m->klen[m->n];
            m->val[i] = m->val[m->n];
        }
        return;
    }
    if (i == m->n) {
        assert_true(m->n < MODEL_MAX);
        memcpy(m->key[i], w->key, w->klen);
        m->klen[i] = w->klen;
        m->n++;
    }
    m->val[i] = qcn_load_be32(w->val);
}

/* Every stored pair must be in the model, in LMDB's order (strictly
 * increasing), and as many as the model holds. */
struct model_walk {
    struct model *m;
    uint8_t prev[12];
    size_t prevlen;
    size_t n;
};

static int model_visit(void *ctx, struct qcn_view key, struct qcn_view val)
{
    struct model_walk *mw = ctx;
    size_t i, c = key.len < mw->prevlen ? key.len : mw->prevlen;
    int d = memcmp(key.p, mw->prev, c);
    if (mw->n > 0 && !(d > 0 || (d == 0 && key.len > mw->prevlen)))
        return 1;
    for (i = 0; i < mw->m->n; i++)
        if (mw->m->klen[i] == key.len && memcmp(mw->m->key[i], key.p, key.len) == 0)
            break;
    if (i == mw->m->n || val.len != 4 || qcn_load_be32(val.p) != mw->m->val[i])
        return 2;
    memcpy(mw->prev, key.p, key.len);
    mw->prevlen = key.len;
    mw->n++;
    return 0;
}

/* Commits of random write lists against a model: keys below, inside and
 * past the table's last key (the appended tail), keys that are prefixes of
 * each other (shorter first), overwrites, deletes of present and absent keys, and several writes to
 * one key in one list (the last wins). */
static void test_write_list_model(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    static struct model m;
    static struct qcn_store_write w[1500];
    static uint8_t keys[1500][12], vals[1500][4];
    struct qcn_store_snap *r;
    struct model_walk mw;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t round, i, n;

    memset(&m, 0, sizeof m);
    for (round = 0; round < 8; round++) {
        n = 150 + round * 60;
        for (i = 0; i < n; i++) {
            uint32_t kv;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            /* Mostly rising keys (each round's range starts higher: an
             * appended tail), some from anywhere below. */
            kv = (uint32_t)(x >> 33) % 1000u;
            if ((x >> 20) % 4 != 0)
                kv += (uint32_t)round * 700u;
            memset(keys[i], 0x5a, sizeof keys[i]);
            qcn_store_be32(keys[i] + 7, kv << 18);
            w[i].table = QCN_STORE_TRIE;
            w[i].key = keys[i];
            w[i].klen = (uint32_t)(7 + 1 + (x >> 40) % 4); /* lengths 8-11: prefixes */
            w[i].del = (x >> 50) % 7 == 0;
            qcn_store_be32(vals[i], (uint32_t)(round * 100000 + i));
            w[i].val = w[i].del ? NULL : vals[i];
            w[i].vlen = w[i].del ? 0 : 4;
            /* Now and then the same key again a little later in the list. */
            if (i >= 3 && (x >> 56) % 9 == 0) {
                memcpy(keys[i], keys[i - 3], sizeof keys[i]);
                w[i].klen = w[i - 3].klen;
            }
        }
        for (i = 0; i < n; i++)
            model_apply(&m, &w[i]);
        assert_int_equal(qcn_store_write_commit(s, w, n), QCN_OK);
        assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
        memset(&mw, 0, sizeof mw);
        mw.m = &m;
        assert_int_equal(qcn_store_iterate(r, QCN_STORE_TRIE, NULL, 0, model_visit, &mw), QCN_OK);
        assert_int_equal(mw.n, m.n);
        qcn_store_snap_end(r);
    }
    qcn_store_close(s);
}

static void fill(struct qcn_store_batch *b, uint32_t from, uint32_t n, size_t vlen)
{
    uint8_t k[4], v[4096];
    uint32_t i;
    assert_true(vlen <= sizeof v);
    for (i = from; i < from + n; i++) {
        qcn_store_be32(k, i);
        memset(v, (int)(i & 0xff), vlen);
        assert_int_equal(qcn_store_batch_put(b, QCN_STORE_TRIE, k, 4, v, vlen), QCN_OK);
    }
}

static void test_map_growth(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 1u << 20); /* 1 MiB: far too small */
    struct qcn_store_batch *b;
    struct qcn_store_snap *r;
    struct qcn_store_info info;
    struct qcn_view v;
    uint8_t k[4];
    uint32_t i;

    qcn_log_configure(QCN_LOG_ERROR, NULL, 0);
    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    /* With a snapshot held, the map cannot grow: the commit fails whole
     * (QCN_ERR_STORE_FULL) and keeps the batch; once the snapshot is closed
     * the same batch goes through. */
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    fill(b, 0, 1000, 2000); /* ~2 MB */
    assert_int_equal(qcn_store_batch_commit(b), QCN_ERR_STORE_FULL);
    assert_int_equal(qcn_store_batch_count(b), 1000);
    qcn_store_snap_end(r);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    qcn_store_be32(k, 0);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_TRIE, k, 4, &v), QCN_ERR_NOT_FOUND);
    qcn_store_snap_end(r);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    for (i = 1; i < 4; i++) {
        fill(b, i * 1000, 1000, 2000);
        assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    }
    qcn_store_info_get(s, &info);
    assert_true(info.grow_count >= 1);
    assert_true(info.map_size > (1u << 20));
    assert_true(info.used_bytes > 8u * 1000 * 1000);
    qcn_store_close(s);
    qcn_store_batch_free(b);

    /* Everything is there after a reopen, which keeps the grown size. */
    s = open_new(t->dir, 1u << 20);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    for (i = 0; i < 4000; i += 97) {
        qcn_store_be32(k, i);
        assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_TRIE, k, 4, &v), QCN_OK);
        assert_int_equal(v.len, 2000);
        assert_int_equal(v.p[1999], (uint8_t)(i & 0xff));
    }
    qcn_store_snap_end(r);
    qcn_store_close(s);
}

/* Overlays: later writes win, deletes hide, layers are read newest first
 * and before the store, and popping the oldest exposes what was committed. */
static void test_overlay_layers(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0);
    struct qcn_store_overlay *o1, *o2;
    struct qcn_store_rd rd;
    struct qcn_buf out;
    struct qcn_view v;
    int del;
    struct qcn_store_write w1[3] = {
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"a", (const uint8_t *)"a1"},
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"b", (const uint8_t *)"b1"},
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"a", (const uint8_t *)"a2"},
    };
    struct qcn_store_write w2[2] = {
        {QCN_STORE_ACCOUNT, 1, 1, 0, (const uint8_t *)"b", NULL},
        {QCN_STORE_ACCOUNT, 0, 1, 2, (const uint8_t *)"c", (const uint8_t *)"c2"},
    };
    struct qcn_store_write base = {QCN_STORE_ACCOUNT,    0, 1, 2, (const uint8_t *)"c",
                                   (const uint8_t *)"c0"};

    qcn_buf_init(&out, 64);
    assert_int_equal(qcn_store_write_commit(s, &base, 1), QCN_OK);
    assert_int_equal(qcn_store_overlay_new(&o1, w1, 3), QCN_OK);
    assert_int_equal(qcn_store_overlay_new(&o2, w2, 2), QCN_OK);
    assert_int_equal(qcn_store_overlay_get(o1, QCN_STORE_ACCOUNT, "a", 1, &v, &del), 1);
    assert_int_equal(del, 0);
    assert_memory_equal(v.p, "a2", 2);
    assert_int_equal(qcn_store_overlay_get(o1, QCN_STORE_CODE, "a", 1, &v, &del), 0);
    assert_int_equal(qcn_store_overlay_get(o2, QCN_STORE_ACCOUNT, "b", 1, &v, &del), 1);
    assert_int_equal(del, 1);

    qcn_store_rd_init(&rd, s);
    assert_int_equal(qcn_store_rd_push(&rd, o1), QCN_OK);
    assert_int_equal(qcn_store_rd_push(&rd, o2), QCN_OK);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"b", 1, &out),
                     QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"a", 1, &out),
                     QCN_OK);
    assert_memory_equal(out.p, "a2", 2);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"c", 1, &out),
                     QCN_OK);
    assert_memory_equal(out.p, "c2", 2);
    /* The oldest layer reaches the store and is popped: the same answers. */
    assert_int_equal(qcn_store_write_commit(s, w1, 3), QCN_OK);
    qcn_store_rd_pop(&rd);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"a", 1, &out),
                     QCN_OK);
    assert_memory_equal(out.p, "a2", 2);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"b", 1, &out),
                     QCN_ERR_NOT_FOUND);
    qcn_store_rd_pop(&rd);
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"b", 1, &out),
                     QCN_OK); /* o2's delete never reached the store */
    assert_int_equal(qcn_store_rd_get(&rd, QCN_STORE_ACCOUNT, (const uint8_t *)"c", 1, &out),
                     QCN_OK);
    assert_memory_equal(out.p, "c0", 2);
    qcn_store_rd_release(&rd);
    qcn_store_overlay_free(o1);
    qcn_store_overlay_free(o2);
    qcn_buf_clear(&out);
    qcn_store_close(s);
}

struct reader_arg {
    struct qcn_store *s;
    int stop;
    unsigned long snaps;
    int bad;
};

/* Keeps opening short snapshots and checking that key 0, once present,
 * always holds its value, while the main thread commits and grows the map. */
static void *reader_main(void *p)
{
    struct reader_arg *a = p;
    struct qcn_store_snap *r;
    struct qcn_view v;
    uint8_t k[4];
    qcn_store_be32(k, 0);
    while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
        if (qcn_store_snap_begin(a->s, &r) != QCN_OK) {
            __atomic_fetch_add(&a->bad, 1, __ATOMIC_RELAXED);
            continue;
        }
        if (qcn_store_get(r, NULL, QCN_STORE_TRIE, k, 4, &v) == QCN_OK &&
            (v.len != 2000 || v.p[0] != 0))
            __atomic_fetch_add(&a->bad, 1, __ATOMIC_RELAXED);
        qcn_store_snap_end(r);
        __atomic_fetch_add(&a->snaps, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_growth_with_concurrent_readers(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 1u << 20);
    struct qcn_store_batch *b;
    struct qcn_store_info info;
    struct reader_arg a;
    pthread_t th[2];
    uint32_t i;

    memset(&a, 0, sizeof a);
    a.s = s;
    assert_int_equal(pthread_create(&th[0], NULL, reader_main, &a), 0);
    assert_int_equal(pthread_create(&th[1], NULL, reader_main, &a), 0);
    /* On a loaded machine the readers may not run at all before the commits
     * are done: wait until they do, so the test sees reads across growth. */
    while (__atomic_load_n(&a.snaps, __ATOMIC_RELAXED) == 0)
        sched_yield();
    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    for (i = 0; i < 6; i++) {
        fill(b, i * 500, 500, 2000);
        assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    }
    {
        unsigned long seen = __atomic_load_n(&a.snaps, __ATOMIC_RELAXED);
        while (__atomic_load_n(&a.snaps, __ATOMIC_RELAXED) < seen + 2)
            sched_yield(); /* and reads after the last growth */
    }
    __atomic_store_n(&a.stop, 1, __ATOMIC_RELAXED);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    qcn_store_info_get(s, &info);
    assert_true(info.grow_count >= 1);
    assert_int_equal(a.bad, 0);
    assert_true(a.snaps > 0);
    qcn_store_batch_free(b);
    qcn_store_close(s);
}

static void test_backup(void **state)
{
    struct tmp *t = *state;
    struct qcn_store *s = open_new(t->dir, 0), *c;
    struct qcn_store_batch *b;
    struct qcn_store_snap *r;
    struct qcn_store_opts ro = {0};
    struct qcn_view v;
    uint8_t h[32], out[32], k[4];
    uint64_t height;
    char bdir[128];

    snprintf(bdir, sizeof bdir, "%s/backup", t->dir);
    memset(h, 5, sizeof h);
    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    fill(b, 0, 500, 100);
    put_block(b, 3, h);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    /* A snapshot open during the copy does not disturb it. */
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_backup(s, bdir), QCN_OK);
    qcn_store_snap_end(r);
    assert_int_equal(qcn_store_backup(s, bdir), QCN_ERR_EXISTS);
    /* Writes after the backup are not in it. */
    fill(b, 500, 10, 100);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);

    ro.read_only = 1;
    assert_int_equal(qcn_store_open(&c, bdir, &ro), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(c, &r), QCN_OK);
    assert_int_equal(qcn_store_head_get(r, NULL, &height, out), QCN_OK);
    assert_int_equal(height, 3);
    qcn_store_be32(k, 499);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_TRIE, k, 4, &v), QCN_OK);
    qcn_store_be32(k, 505);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_TRIE, k, 4, &v), QCN_ERR_NOT_FOUND);
    qcn_store_snap_end(r);
    /* A read-only store refuses to commit. */
    {
        struct qcn_store_batch *cb;
        assert_int_equal(qcn_store_batch_new(c, &cb), QCN_OK);
        fill(cb, 0, 1, 1);
        assert_int_equal(qcn_store_batch_commit(cb), QCN_ERR_INVALID_ARG);
        qcn_store_batch_free(cb);
    }
    qcn_store_close(c);
    rm_store(bdir);
    qcn_store_batch_free(b);
    qcn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema1_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_lmdb_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_overlay_and_atomicity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iterate_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_list_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_list_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlay_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_with_concurrent_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
