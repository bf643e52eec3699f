/* The pow engine (consensus/pow.h): difficulty rule, sealing and
 * verification, and two engines over in-memory chains: one mines, the other
 * verifies and imports its blocks; forged blocks are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/pow.h"

#define MAXB 64

struct chain {
    uint8_t *blk[MAXB];
    size_t len[MAXB];
    uint8_t hash[MAXB][32];
    uint64_t head;
    uint64_t now_s;
    int armed;
    struct qcn_pow *peer_engine; /* receives broadcasts */
};

static uint64_t h_now(void *ctx)
{
    struct chain *c = ctx;
    return c->now_s * 1000;
}
static void h_timer_set(void *ctx, uint64_t d)
{
    struct chain *c = ctx;
    (void)d;
    c->armed = 1;
}
static void h_timer_cancel(void *ctx)
{
    struct chain *c = ctx;
    c->armed = 0;
}
static void h_head(void *ctx, uint64_t *h, uint8_t hash[32])
{
    struct chain *c = ctx;
    *h = c->head;
    memcpy(hash, c->hash[c->head], 32);
}
static int h_get_header(void *ctx, uint64_t h, struct qcn_header *out)
{
    struct chain *c = ctx;
    struct qcn_block b;
    int err;
    if (h > c->head)
        return QCN_ERR_NOT_FOUND;
    if ((err = qcn_block_decode(&b, qcn_view_make(c->blk[h], c->len[h]))) != QCN_OK)
        return err;
    err = qcn_header_copy(out, &b.header);
    qcn_block_clear(&b);
    return err;
}
static int h_get_head_commit(void *ctx, struct qcn_buf *out)
{
    (void)ctx;
    (void)out;
    return QCN_ERR_NOT_FOUND;
}
static int h_build(void *ctx, const struct qcn_pos_build *a, struct qcn_buf *out, uint8_t hash[32])
{
    struct chain *c = ctx;
    struct qcn_block b;
    int err;
    memset(&b, 0, sizeof b);
    memcpy(b.header.parent_hash, c->hash[c->head], 32);
    b.header.height = a->height;
    b.header.timestamp = c->now_s;
    memcpy(b.header.proposer, a->proposer, 20);
    memcpy(b.header.mix, a->mix, 32);
    memcpy(b.header.extra, a->extra, a->extra_len);
    b.header.extra_len = a->extra_len;
    b.header.gas_limit = 1000000;
    err = qcn_block_encode(out, &b);
    if (err == QCN_OK)
        err = qcn_header_hash(hash, &b.header);
    qcn_block_clear(&b);
    return err;
}
static int h_check(void *ctx, const uint8_t *blk, size_t len)
{
    (void)ctx;
    (void)blk;
    (void)len;
    return QCN_OK;
}
static int h_commit(void *ctx, const uint8_t *blk, size_t len, const uint8_t *cert, size_t cl)
{
    struct chain *c = ctx;
    struct qcn_block b;
    (void)cert;
    (void)cl;
    assert_int_equal(qcn_block_decode(&b, qcn_view_make(blk, len)), QCN_OK);
    assert_int_equal(b.header.height, c->head + 1);
    c->head++;
    c->blk[c->head] = malloc(len);
    memcpy(c->blk[c->head], blk, len);
    c->len[c->head] = len;
    memcpy(c->hash[c->head], b.hash, 32);
    qcn_block_clear(&b);
    return QCN_OK;
}
static void h_broadcast(void *ctx, uint8_t kind, const uint8_t *p, size_t len)
{
    struct chain *c = ctx;
    assert_int_equal(kind, QCN_POS_MSG_PROPOSAL);
    if (c->peer_engine)
        assert_int_equal(qcn_pow_on_block(c->peer_engine, p, len), QCN_OK);
}

static void chain_init(struct chain *c)
{
    struct qcn_block g;
    struct qcn_buf b;
    memset(c, 0, sizeof *c);
    memset(&g, 0, sizeof g);
    g.header.gas_limit = 1000000;
    qcn_buf_init(&b, 1 << 16);
    assert_int_equal(qcn_block_encode(&b, &g), QCN_OK);
    assert_int_equal(qcn_header_hash(c->hash[0], &g.header), QCN_OK);
    c->blk[0] = malloc(b.len);
    memcpy(c->blk[0], b.p, b.len);
    c->len[0] = b.len;
    qcn_buf_clear(&b);
}

static void chain_free(struct chain *c)
{
    uint64_t i;
    for (i = 0; i <= c->head; i++)
        free(c->blk[i]);
}

static const struct qcn_pos_host hostdef = {
    NULL,    h_now,   h_timer_set, h_timer_cancel, h_head, h_get_header, h_get_head_commit,
    h_build, h_check, h_commit,    h_broadcast,    NULL,   NULL,         NULL};

static void test_difficulty_rule(void **state)
{
    uint64_t d = 64000;
    (void)state;
    assert_int_equal(qcn_pow_next_difficulty(d, 100, 100, 2), d + d / 64);     /* fast: up */
    assert_int_equal(qcn_pow_next_difficulty(d, 100, 102, 2), d);              /* on target */
    assert_int_equal(qcn_pow_next_difficulty(d, 100, 110, 2), d - 4 * d / 64); /* slow: down */
    assert_int_equal(qcn_pow_next_difficulty(d, 100, 100000, 2), QCN_POW_MIN_DIFFICULTY);
    assert_int_equal(qcn_pow_next_difficulty(1, 0, 0, 2),
                     QCN_POW_MIN_DIFFICULTY + QCN_POW_MIN_DIFFICULTY / 64);
    assert_int_equal(qcn_pow_next_difficulty(UINT64_MAX, 0, 0, 2), UINT64_MAX);
}

static void test_seal_verify(void **state)
{
    struct qcn_header h, parent;
    uint64_t nonce = 0, k, won;
    (void)state;
    memset(&h, 0, sizeof h);
    memset(&parent, 0, sizeof parent);
    h.height = 1;
    h.timestamp = 5;
    memset(h.state_root, 3, 32);
    assert_int_equal(qcn_pow_seal(&h, QCN_POW_MIN_DIFFICULTY, &nonce, 1000000), QCN_OK);
    assert_int_equal(qcn_pow_verify(&h, &parent, 2), QCN_OK);
    won = qcn_load_be64(h.extra + 8);
    /* every earlier nonce fails (the seal takes the first that works) */
    for (k = 0; k < won; k++) {
        qcn_store_be64(h.extra + 8, k);
        assert_int_equal(qcn_pow_verify(&h, &parent, 2), QCN_ERR_BLOCK_INVALID);
    }
    qcn_store_be64(h.extra + 8, won);
    /* a claimed difficulty other than the rule's */
    qcn_store_be64(h.extra, QCN_POW_MIN_DIFFICULTY + 1);
    assert_int_equal(qcn_pow_verify(&h, &parent, 2), QCN_ERR_BLOCK_INVALID);
    qcn_store_be64(h.extra, QCN_POW_MIN_DIFFICULTY);
    assert_int_equal(qcn_pow_verify(&h, &parent, 2), QCN_OK);
    h.extra_len = 8;
    assert_int_equal(qcn_pow_verify(&h, &parent, 2), QCN_ERR_BLOCK_INVALID);
    /* a slice that runs out */
    nonce = 0;
    h.extra_len = 16;
    memset(h.state_root, 4, 32);
    assert_int_equal(qcn_pow_seal(&h, UINT64_MAX, &nonce, 100), QCN_ERR_NOT_FOUND);
    assert_int_equal(nonce, 100);
}

static void test_engines(void **state)
{
    struct chain a, b;
    struct qcn_pos_host ha = hostdef, hb = hostdef;
    struct qcn_pow_config cfg;
    struct qcn_pow *pa, *pb;
    uint64_t h;
    int guard = 0;
    (void)state;
    chain_init(&a);
    chain_init(&b);
    ha.ctx = &a;
    hb.ctx = &b;
    memset(&cfg, 0, sizeof cfg);
    memset(cfg.coinbase, 0x77, 20);
    assert_int_equal(qcn_pow_new(&pa, &ha, &cfg), QCN_OK);
    assert_int_equal(qcn_pow_new(&pb, &hb, &cfg), QCN_OK);
    a.peer_engine = pb;
    assert_int_equal(qcn_pow_start(pa), QCN_OK);
    while (a.head < 8 && guard++ < 100000) {
        a.now_s++; /* fast blocks: difficulty rises */
        a.armed = 0;
        qcn_pow_on_timer(pa);
        assert_true(a.armed);
    }
    assert_int_equal(a.head, 8);
    assert_int_equal(b.head, 8);
    assert_int_equal(qcn_pow_mined(pa), 8);
    for (h = 1; h <= 8; h++) {
        struct qcn_header x, p;
        memset(&x, 0, sizeof x);
        memset(&p, 0, sizeof p);
        assert_memory_equal(a.hash[h], b.hash[h], 32);
        assert_int_equal(h_get_header(&a, h, &x), QCN_OK);
        assert_int_equal(h_get_header(&a, h - 1, &p), QCN_OK);
        assert_int_equal(qcn_pow_verify(&x, &p, 2), QCN_OK);
        if (h >= 2)
            assert_true(qcn_load_be64(x.extra) >= qcn_load_be64(p.extra));
        qcn_header_clear(&x);
        qcn_header_clear(&p);
    }
    /* a forged block (bad nonce) and a stale one are refused */
    {
        struct qcn_block blk;
        struct qcn_buf buf;
        assert_int_equal(qcn_block_decode(&blk, qcn_view_make(a.blk[8], a.len[8])), QCN_OK);
        assert_int_equal(qcn_pow_on_block(pb, a.blk[8], a.len[8]), QCN_ERR_BLOCK_PARENT);
        memcpy(blk.header.parent_hash, b.hash[8], 32);
        blk.header.height = 9;
        qcn_store_be64(blk.header.extra + 8, 0);
        qcn_buf_init(&buf, 1 << 16);
        assert_int_equal(qcn_block_encode(&buf, &blk), QCN_OK);
        assert_int_equal(qcn_pow_on_block(pb, buf.p, buf.len), QCN_ERR_BLOCK_INVALID);
        assert_int_equal(b.head, 8);
        qcn_buf_clear(&buf);
        qcn_block_clear(&blk);
    }
    qcn_pow_stop(pa);
    qcn_pow_free(pa);
    qcn_pow_free(pb);
    chain_free(&a);
    chain_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_difficulty_rule),
        cmocka_unit_test(test_seal_verify),
        cmocka_unit_test(test_engines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
