/* node: init from genesis, admission through the thread pool, block
 * production by the dev engine, restart at the stored head, `db check`
 * (clean store passes; tampered headers, bodies and state are caught), the
 * data directory lock, and the dev key file. Real store, real chain, real
 * ML-DSA: no mocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain/chain.h"
#include "chain/mempool.h"
#include "codec/block.h"
#include "node/devkey.h"
#include "node/node.h"
#include "node/tools.h"
#include "store/store.h"
#include "util/log.h"

#define CHAIN_ID 777u

struct fx {
    char dir[64];
    char store[96];
    struct qcn_dev_key keys[3];
    uint64_t gas;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    uint8_t seed[32];
    struct qcn_buf g;
    char err[256];
    uint8_t hash[32];
    int i;

    qcn_log_configure(QCN_LOG_ERROR, NULL, 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/qcn-node-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->store, sizeof f->store, "%s/chaindata", f->dir);
    for (i = 0; i < 3; i++) {
        memset(seed, i + 1, sizeof seed);
        assert_int_equal(qcn_dev_key_from_seed(&f->keys[i], seed), QCN_OK);
    }
    qcn_buf_init(&g, 1 << 20);
    /* keys[2] is not funded. */
    assert_int_equal(
        qcn_dev_genesis_json(&g, CHAIN_ID, 100000000ull, f->keys, 2, "0xde0b6b3a7640000", 0),
        QCN_OK);
    assert_int_equal(
        qcn_node_init_genesis(f->store, (const char *)g.p, g.len, hash, err, sizeof err), QCN_OK);
    /* Twice is refused and changes nothing. */
    assert_int_equal(
        qcn_node_init_genesis(f->store, (const char *)g.p, g.len, hash, err, sizeof err),
        QCN_ERR_EXISTS);
    qcn_buf_clear(&g);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct qcn_node *start(struct fx *f, uint64_t period)
{
    struct qcn_node_config cfg;
    struct qcn_node *n = NULL;
    char err[256];
    qcn_node_config_default(&cfg);
    assert_int_equal(qcn_node_config_set(&cfg, "datadir", f->dir, err, sizeof err), QCN_OK);
    cfg.dev_period_ms = period;
    cfg.rpc_enabled = 0;
    cfg.log_level = QCN_LOG_ERROR;
    assert_int_equal(qcn_node_new(&n, &cfg), QCN_OK);
    return n;
}

/* One slot per submission: results arrive in any order (early rejections at
 * once, the rest after verification). */
struct slot {
    int done;
    int err;
};

static void on_result(void *ctx, int err, const uint8_t hash[32])
{
    struct slot *s = ctx;
    (void)hash;
    s->done++;
    s->err = err;
}

static void sign(struct fx *f, struct qcn_buf *out, int key, uint64_t nonce, uint64_t chain_id)
{
    struct qcn_dev_transfer t;
    memset(&t, 0, sizeof t);
    t.chain_id = chain_id;
    t.nonce = nonce;
    t.max_priority_fee = 1000000000ull;
    t.max_fee = 4000000000ull;
    t.gas_limit = 200000;
    memset(t.to, 0x77, sizeof t.to);
    t.value = 5;
    t.with_pubkey = 1;
    assert_int_equal(qcn_dev_transfer_sign(out, &f->keys[key], &t), QCN_OK);
}

static void on_tick(uv_timer_t *t)
{
    struct qcn_node *n = t->data;
    /* Pooled transactions leave the pool when their block is staged; the
     * block is on disk only once no commit is in flight. */
    if (n->verify_inflight == 0 && qcn_mempool_count(n->mempool) == 0 && n->commit_inflight == 0)
        uv_stop(&n->loop);
}

/* Runs the loop until nothing is in flight, pooled or waiting for the disk. */
static void drain(struct qcn_node *n)
{
    uv_timer_t t;
    uv_timer_init(&n->loop, &t);
    t.data = n;
    uv_timer_start(&t, on_tick, 5, 5);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&n->loop, UV_RUN_NOWAIT);
}

static void check_store(struct fx *f, uint64_t expect_problems_min, uint64_t *height)
{
    struct qcn_store *s;
    struct qcn_store_opts o = {0};
    struct qcn_db_check_result r;
    o.read_only = 1;
    assert_int_equal(qcn_store_open(&s, f->store, &o), QCN_OK);
    assert_int_equal(qcn_node_db_check(s, NULL, &r), QCN_OK);
    if (expect_problems_min == 0)
        assert_int_equal(r.problems, 0);
    else
        assert_true(r.problems >= expect_problems_min);
    if (height != NULL)
        *height = r.height;
    qcn_store_close(s);
}

static void test_produce_and_restart(void **state)
{
    struct fx *f = *state;
    struct qcn_node *n = start(f, 0), *n2;
    struct qcn_buf b;
    struct slot r[8];
    uint64_t h;
    int i;

    memset(r, 0, sizeof r);
    assert_int_equal(qcn_node_head_height(n), 0);
    assert_int_equal(n->engine.ops->start(n->engine.state), QCN_OK);
    qcn_buf_init(&b, QCN_TX_MAX_BYTES);
    for (i = 0; i < 3; i++) {
        sign(f, &b, 0, (uint64_t)i, CHAIN_ID);
        assert_int_equal(qcn_node_tx_submit(n, b.p, b.len, on_result, &r[i]), QCN_OK);
    }
    sign(f, &b, 1, 0, CHAIN_ID);
    assert_int_equal(qcn_node_tx_submit(n, b.p, b.len, on_result, &r[3]), QCN_OK);
    /* Rejections with their specific reasons; nothing reaches the pool. */
    sign(f, &b, 1, 0, CHAIN_ID + 1);
    assert_int_equal(qcn_node_tx_submit(n, b.p, b.len, on_result, &r[4]), QCN_OK);
    assert_int_equal(qcn_node_tx_submit(n, (const uint8_t *)"\x51\xc0", 2, on_result, &r[5]),
                     QCN_OK);
    sign(f, &b, 1, 1, CHAIN_ID);
    b.p[b.len - 5] ^= 1; /* a signature byte */
    assert_int_equal(qcn_node_tx_submit(n, b.p, b.len, on_result, &r[6]), QCN_OK);
    sign(f, &b, 2, 0, CHAIN_ID); /* unfunded sender */
    assert_int_equal(qcn_node_tx_submit(n, b.p, b.len, on_result, &r[7]), QCN_OK);
    {
        /* Refused at once: over the envelope cap. */
        static uint8_t big[QCN_TX_MAX_BYTES + 1];
        struct slot r9 = {0, 0};
        assert_int_equal(qcn_node_tx_submit(n, big, sizeof big, on_result, &r9),
                         QCN_ERR_TX_OVERSIZED);
        assert_int_equal(r9.done, 1);
        assert_int_equal(r9.err, QCN_ERR_TX_OVERSIZED);
    }
    drain(n);
    for (i = 0; i < 8; i++)
        assert_int_equal(r[i].done, 1);
    for (i = 0; i < 4; i++)
        assert_int_equal(r[i].err, QCN_OK);
    assert_int_equal(r[4].err, QCN_ERR_TX_WRONG_CHAIN);
    assert_int_equal(r[5].err, QCN_ERR_TX_MALFORMED);
    assert_int_equal(r[6].err, QCN_ERR_TX_BAD_SIGNATURE);
    assert_int_equal(r[7].err, QCN_ERR_TX_FUNDS);
    h = qcn_node_head_height(n);
    assert_true(h >= 1);
    assert_int_equal(n->stats.txs_committed, 4);
    qcn_node_free(n);

    check_store(f, 0, &h);
    n2 = start(f, 0);
    assert_int_equal(qcn_node_head_height(n2), h);
    /* The nonce moved on: the same transaction again is too low now. */
    memset(r, 0, sizeof r);
    sign(f, &b, 0, 0, CHAIN_ID);
    (void)qcn_node_tx_submit(n2, b.p, b.len, on_result, &r[0]);
    drain(n2);
    assert_int_equal(r[0].done, 1);
    assert_int_equal(r[0].err, QCN_ERR_TX_NONCE_LOW);
    qcn_node_free(n2);
    qcn_buf_clear(&b);
}

static void test_period_empty_blocks_and_lock(void **state)
{
    struct fx *f = *state;
    struct qcn_node *n = start(f, 0), *other = NULL;
    struct qcn_node_config cfg;
    size_t ntx = 7;
    char err[256];
    uint64_t h;

    /* A second node on the same directory is refused. */
    qcn_node_config_default(&cfg);
    assert_int_equal(qcn_node_config_set(&cfg, "datadir", f->dir, err, sizeof err), QCN_OK);
    assert_int_equal(qcn_node_new(&other, &cfg), QCN_ERR_BUSY);
    assert_null(other);
    assert_int_equal(qcn_node_produce_block(n, 0, &ntx), QCN_OK);
    assert_int_equal(ntx, 0);
    assert_int_equal(qcn_node_produce_block(n, 0, &ntx), QCN_OK);
    assert_int_equal(qcn_node_head_height(n), 2);
    qcn_node_free(n);
    check_store(f, 0, &h);
    assert_int_equal(h, 2);
}

/* Flips a byte of one record through LMDB directly, as disk damage would. */
static void tamper(struct fx *f, int table, const uint8_t *key, size_t klen, size_t at)
{
    struct qcn_store *s;
    struct qcn_store_snap *r;
    struct qcn_store_batch *b;
    struct qcn_view v;
    uint8_t *copy;
    assert_int_equal(qcn_store_open(&s, f->store, NULL), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_get(r, NULL, table, key, klen, &v), QCN_OK);
    copy = malloc(v.len);
    memcpy(copy, v.p, v.len);
    assert_true(at < v.len);
    copy[at] ^= 0x01;
    assert_int_equal(qcn_store_batch_new(s, &b), QCN_OK);
    assert_int_equal(qcn_store_batch_put(b, table, key, klen, copy, v.len), QCN_OK);
    qcn_store_snap_end(r);
    assert_int_equal(qcn_store_batch_commit(b), QCN_OK);
    qcn_store_batch_free(b);
    qcn_store_close(s);
    free(copy);
}

static void test_db_check_catches_tampering(void **state)
{
    struct fx *f = *state;
    struct qcn_node *n = start(f, 0);
    struct qcn_buf b;
    struct slot res = {0, 0};
    uint8_t hash[32];
    uint64_t h;

    assert_int_equal(n->engine.ops->start(n->engine.state), QCN_OK);
    qcn_buf_init(&b, QCN_TX_MAX_BYTES);
    sign(f, &b, 0, 0, CHAIN_ID);
    assert_int_equal(qcn_node_tx_submit(n, b.p, b.len, on_result, &res), QCN_OK);
    drain(n);
    assert_int_equal(res.done, 1);
    assert_int_equal(res.err, QCN_OK);
    qcn_node_head_hash(n, hash);
    qcn_node_free(n);
    qcn_buf_clear(&b);
    check_store(f, 0, &h);
    assert_int_equal(h, 1);

    /* A flat account that disagrees with the state root. */
    tamper(f, QCN_STORE_ACCOUNT, f->keys[1].address, 20, 5);
    check_store(f, 1, NULL);
    tamper(f, QCN_STORE_ACCOUNT, f->keys[1].address, 20, 5); /* undo */
    check_store(f, 0, NULL);
    /* A body that no longer matches the transactions root. */
    tamper(f, QCN_STORE_BODY, hash, 32, 200);
    check_store(f, 1, NULL);
    tamper(f, QCN_STORE_BODY, hash, 32, 200);
    /* Receipts. */
    tamper(f, QCN_STORE_RECEIPTS, hash, 32, 10);
    check_store(f, 1, NULL);
    tamper(f, QCN_STORE_RECEIPTS, hash, 32, 10);
    /* A stored trie node that went missing or bad: the flat state still
     * gives the right root, the walk of the stored trie does not. */
    {
        struct qcn_store *s;
        struct qcn_store_snap *r;
        struct qcn_store_batch *bt;
        struct qcn_view v;
        struct qcn_header hd;
        uint8_t *node, tkey[QCN_STORE_TRIE_KEY_BYTES];
        uint64_t gen;
        size_t nlen;
        memset(&hd, 0, sizeof hd);
        assert_int_equal(qcn_store_open(&s, f->store, NULL), QCN_OK);
        assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
        assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_HEADER, hash, 32, &v), QCN_OK);
        assert_int_equal(qcn_header_decode(&hd, v), QCN_OK);
        gen = QCN_STORE_TRIE_ANY;
        assert_int_equal(qcn_store_trie_get(r, NULL, &gen, hd.state_root, &v), QCN_OK);
        qcn_store_trie_key(tkey, gen, hd.state_root);
        nlen = v.len;
        node = malloc(nlen);
        memcpy(node, v.p, nlen);
        qcn_store_snap_end(r);
        assert_int_equal(qcn_store_batch_new(s, &bt), QCN_OK);
        assert_int_equal(qcn_store_batch_del(bt, QCN_STORE_TRIE, tkey, sizeof tkey), QCN_OK);
        assert_int_equal(qcn_store_batch_commit(bt), QCN_OK);
        qcn_store_batch_free(bt);
        qcn_store_close(s);
        check_store(f, 1, NULL);
        tamper(f, QCN_STORE_ACCOUNT, f->keys[1].address, 20, 5); /* flat too: still caught */
        tamper(f, QCN_STORE_ACCOUNT, f->keys[1].address, 20, 5);
        assert_int_equal(qcn_store_open(&s, f->store, NULL), QCN_OK);
        assert_int_equal(qcn_store_batch_new(s, &bt), QCN_OK);
        assert_int_equal(qcn_store_trie_put(bt, gen, hd.state_root, node, nlen, 1), QCN_OK);
        assert_int_equal(qcn_store_batch_commit(bt), QCN_OK);
        qcn_store_batch_free(bt);
        qcn_store_close(s);
        check_store(f, 0, NULL);
        free(node);
        qcn_header_clear(&hd);
    }
    /* A header that no longer hashes to its canonical hash. */
    tamper(f, QCN_STORE_HEADER, hash, 32, 40);
    check_store(f, 1, NULL);
    tamper(f, QCN_STORE_HEADER, hash, 32, 40);
    check_store(f, 0, NULL);
}

/* Reads block `height` of the store at dir and encodes it as a whole block. */
static void load_block(const char *dir, uint64_t height, struct qcn_buf *out)
{
    struct qcn_store *s;
    struct qcn_store_opts o = {0};
    struct qcn_store_snap *r;
    struct qcn_view hv, bv;
    struct qcn_block blk;
    uint8_t hash[32];
    o.read_only = 1;
    memset(&blk, 0, sizeof blk);
    assert_int_equal(qcn_store_open(&s, dir, &o), QCN_OK);
    assert_int_equal(qcn_store_snap_begin(s, &r), QCN_OK);
    assert_int_equal(qcn_store_canon_get(r, NULL, height, hash), QCN_OK);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_HEADER, hash, 32, &hv), QCN_OK);
    assert_int_equal(qcn_store_get(r, NULL, QCN_STORE_BODY, hash, 32, &bv), QCN_OK);
    assert_int_equal(qcn_header_decode(&blk.header, hv), QCN_OK);
    assert_int_equal(qcn_block_body_decode(&blk, bv), QCN_OK);
    qcn_buf_reset(out);
    assert_int_equal(qcn_block_encode(out, &blk), QCN_OK);
    qcn_block_clear(&blk);
    qcn_store_snap_end(r);
    qcn_store_close(s);
}

/* A second node with the same genesis imports the first node's blocks and
 * ends with the same head and a consistent store; a tampered or
 * out-of-order block is refused and changes nothing. */
static void test_import_blocks(void **state)
{
    struct fx *f = *state;
    struct fx g;
    struct qcn_node *a = start(f, 0), *b;
    struct qcn_buf tx, blk;
    struct slot r[6];
    char err[256];
    uint8_t ha[32], hb[32], hash[32];
    uint64_t h, i;
    struct qcn_buf gen;

    memset(r, 0, sizeof r);
    qcn_buf_init(&tx, QCN_TX_MAX_BYTES);
    qcn_buf_init(&blk, QCN_BLOCK_MAX_BYTES);
    assert_int_equal(a->engine.ops->start(a->engine.state), QCN_OK);
    for (i = 0; i < 6; i++) {
        sign(f, &tx, (int)(i % 2), i / 2, CHAIN_ID);
        assert_int_equal(qcn_node_tx_submit(a, tx.p, tx.len, on_result, &r[i]), QCN_OK);
        if (i == 2)
            drain(a); /* at least two blocks with transactions */
    }
    drain(a);
    for (i = 0; i < 6; i++)
        assert_int_equal(r[i].err, QCN_OK);
    h = qcn_node_head_height(a);
    assert_true(h >= 2);
    qcn_node_head_hash(a, ha);
    qcn_node_free(a);

    /* Node B: same genesis, in its own directory. */
    memcpy(&g, f, sizeof g);
    assert_true(snprintf(g.dir, sizeof g.dir, "%s/b", f->dir) < (int)sizeof g.dir);
    assert_true(snprintf(g.store, sizeof g.store, "%s/chaindata", g.dir) < (int)sizeof g.store);
    qcn_buf_init(&gen, 1 << 20);
    assert_int_equal(
        qcn_dev_genesis_json(&gen, CHAIN_ID, 100000000ull, f->keys, 2, "0xde0b6b3a7640000", 0),
        QCN_OK);
    assert_int_equal(
        qcn_node_init_genesis(g.store, (const char *)gen.p, gen.len, hash, err, sizeof err),
        QCN_OK);
    qcn_buf_clear(&gen);
    b = start(&g, 0);
    load_block(f->store, 2, &blk);
    assert_int_not_equal(qcn_node_import_block(b, blk.p, blk.len), QCN_OK); /* not on the head */
    assert_int_equal(qcn_node_head_height(b), 0);
    load_block(f->store, 1, &blk);
    blk.p[blk.len - 40] ^= 1; /* inside the last transaction's signature */
    assert_int_not_equal(qcn_node_import_block(b, blk.p, blk.len), QCN_OK);
    assert_int_equal(qcn_node_head_height(b), 0);
    for (i = 1; i <= h; i++) {
        load_block(f->store, i, &blk);
        assert_int_equal(qcn_node_import_block(b, blk.p, blk.len), QCN_OK);
        assert_int_equal(qcn_node_head_height(b), i);
    }
    /* Importing the same block again is refused. */
    assert_int_not_equal(qcn_node_import_block(b, blk.p, blk.len), QCN_OK);
    qcn_node_head_hash(b, hb);
    assert_memory_equal(ha, hb, 32);
    qcn_node_free(b);
    check_store(&g, 0, &h);
    qcn_buf_clear(&tx);
    qcn_buf_clear(&blk);
}

static void test_dev_key_file(void **state)
{
    struct fx *f = *state;
    struct qcn_dev_key k, l;
    char path[128];
    struct stat st;
    FILE *fp;

    snprintf(path, sizeof path, "%s/dev.key", f->dir);
    assert_int_equal(qcn_dev_key_load(&k, path), QCN_ERR_NOT_FOUND);
    assert_int_equal(qcn_dev_key_generate(&k), QCN_OK);
    assert_int_equal(qcn_dev_key_save(&k, path), QCN_OK);
    assert_int_equal(qcn_dev_key_save(&k, path), QCN_ERR_EXISTS);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(qcn_dev_key_load(&l, path), QCN_OK);
    assert_memory_equal(l.address, k.address, 20);
    assert_memory_equal(l.sk, k.sk, sizeof k.sk);
    /* A file whose address does not match its seed is refused. */
    unlink(path);
    fp = fopen(path, "w");
    fprintf(fp, "{\"seed\": \"0x%064d\", \"address\": \"0x%040d\"}\n", 1, 2);
    fclose(fp);
    assert_int_equal(qcn_dev_key_load(&l, path), QCN_ERR_BAD_KEY);
    unlink(path);
    fp = fopen(path, "w");
    fprintf(fp, "not json\n");
    fclose(fp);
    assert_int_equal(qcn_dev_key_load(&l, path), QCN_ERR_BAD_JSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_produce_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_empty_blocks_and_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_check_catches_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_key_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
