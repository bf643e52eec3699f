/* Blocks: a second node applies the blocks the first one builds and reaches
 * the same head; every bad block (bad transaction, wrong header field, wrong
 * root) is refused and leaves the state untouched; verification is reused;
 * native multisig (2-of-3, mixed schemes) and key rotation; genesis JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "codec/rlp.h"
#include "unit/test_chain_env.h"
#include "util/hex.h"

/* Encodes res's block and decodes it as a peer would receive it. */
static void wire_copy(struct qcn_block *out, const struct qcn_block *blk)
{
    struct qcn_buf b;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    assert_int_equal(qcn_block_encode(&b, blk), QCN_OK);
    assert_int_equal(qcn_block_decode(out, qcn_buf_view(&b)), QCN_OK);
    qcn_buf_clear(&b);
}

/* Applies blk on e; expects err; on success stores and commits. */
static void apply_expect(struct env *e, struct qcn_block *blk, int err)
{
    struct qcn_block_result res;
    uint8_t root0[32], head0[32];
    struct qcn_u256 bal0 = env_balance(e, e->keys[0].addr);
    qcn_statedb_root(qcn_chain_state(e->c), root0);
    qcn_chain_head_hash(e->c, head0);
    assert_int_equal(qcn_chain_block_apply(e->c, NULL, blk, &res), err);
    if (err != QCN_OK) {
        uint8_t r[32], h[32];
        struct qcn_u256 bal = env_balance(e, e->keys[0].addr);
        qcn_statedb_root(qcn_chain_state(e->c), r);
        qcn_chain_head_hash(e->c, h);
        assert_memory_equal(r, root0, 32);
        assert_memory_equal(h, head0, 32);
        assert_int_equal(qcn_u256_cmp(&bal, &bal0), 0);
        env_check_root(e);
        return;
    }
    assert_int_equal(qcn_memstore_apply(e->ms, &res.writes), QCN_OK);
    qcn_chain_block_commit_done(e->c, &res, NULL);
    env_check_root(e);
    qcn_block_result_clear(&res);
}

static void test_apply_matches_build(void **state)
{
    struct env a, b;
    struct qcn_block_result res;
    struct qcn_block blk;
    struct qcn_chain_stats st;
    uint8_t ha[32], hb[32];
    int i, round;
    (void)state;

    env_init(&a);
    env_init(&b);
    for (round = 0; round < 3; round++) {
        for (i = 0; i < 5; i++)
            assert_int_equal(
                env_submit(&a, env_transfer(&a, &a.keys[i], (uint64_t)round,
                                            a.keys[(i + 1) % 5].addr, 100, round == 0)),
                QCN_OK);
        assert_int_equal(env_block(&a, &res), 5);
        {
            /* The stored body is exactly the body encoding. */
            const struct qcn_state_reader *rd = qcn_memstore_reader(a.ms);
            struct qcn_buf got, want;
            qcn_buf_init(&got, QCN_BLOCK_MAX_BYTES);
            qcn_buf_init(&want, QCN_BLOCK_MAX_BYTES);
            assert_int_equal(rd->get(rd->ctx, QCN_TABLE_BODY, res.block.hash, 32, &got), QCN_OK);
            assert_int_equal(qcn_block_body_encode(&want, res.block.txs, res.block.ntx), QCN_OK);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.p, want.p, got.len);
            qcn_buf_clear(&got);
            qcn_buf_clear(&want);
        }
        wire_copy(&blk, &res.block);
        qcn_block_result_clear(&res);
        apply_expect(&b, &blk, QCN_OK);
        qcn_chain_head_hash(a.c, ha);
        qcn_chain_head_hash(b.c, hb);
        assert_memory_equal(ha, hb, 32);
    }
    /* Empty blocks (the dev engine's timer) build and apply the same way;
     * the base fee falls by 1/8 each time. */
    for (round = 0; round < 2; round++) {
        uint64_t bf = qcn_chain_next_base_fee(a.c);
        assert_int_equal(env_block(&a, &res), 0);
        assert_int_equal(res.block.header.base_fee, bf);
        assert_int_equal(qcn_chain_next_base_fee(a.c), bf - bf / 8 < 7 ? 7 : bf - bf / 8);
        wire_copy(&blk, &res.block);
        qcn_block_result_clear(&res);
        apply_expect(&b, &blk, QCN_OK);
    }
    /* The builder reused the pool's verifications; the importer verified
     * each signature once, in the parallel pre-pass, never during execution. */
    qcn_chain_stats_get(a.c, &st);
    assert_int_equal(st.exec_verifies, 0);
    assert_int_equal(st.reused_verifies, 15);
    assert_int_equal(st.txs, 15);
    qcn_chain_stats_get(b.c, &st);
    assert_int_equal(st.exec_verifies, 0);
    assert_int_equal(st.batch_verifies, 15);
    /* An importer whose own pool already verified the transactions (gossip)
     * verifies nothing again: the pool's verdict carries over by hash. */
    for (i = 0; i < 5; i++) {
        struct qcn_tx *t = env_transfer(&a, &a.keys[i], 3, a.keys[(i + 1) % 5].addr, 100, 0);
        assert_int_equal(env_submit(&a, qcn_tx_ref(t)), QCN_OK);
        assert_int_equal(env_submit(&b, t), QCN_OK);
    }
    assert_int_equal(env_block(&a, &res), 5);
    wire_copy(&blk, &res.block);
    qcn_block_result_clear(&res);
    {
        struct qcn_block_result r2;
        assert_int_equal(qcn_chain_block_apply(b.c, b.mp, &blk, &r2), QCN_OK);
        assert_int_equal(qcn_memstore_apply(b.ms, &r2.writes), QCN_OK);
        qcn_chain_block_commit_done(b.c, &r2, b.mp);
        qcn_block_result_clear(&r2);
    }
    assert_int_equal(qcn_mempool_count(b.mp), 0);
    qcn_chain_stats_get(b.c, &st);
    assert_int_equal(st.exec_verifies, 0);
    assert_int_equal(st.batch_verifies, 15);
    assert_int_equal(st.reused_verifies, 20);
    env_free(&a);
    env_free(&b);
}

/* Builds a block on a (then aborts it there), for b to apply in variants. */
static void build_on(struct env *a, struct qcn_block *out)
{
    struct qcn_build_args args;
    struct qcn_block_result res;
    memset(&args, 0, sizeof args);
    args.timestamp = qcn_chain_head(a->c)->timestamp + 1;
    memcpy(args.proposer, a->proposer, 20);
    assert_int_equal(qcn_chain_block_build(a->c, a->mp, &args, &res), QCN_OK);
    wire_copy(out, &res.block);
    qcn_chain_block_abort(a->c, &res);
    qcn_block_result_clear(&res);
}

/* Re-encodes blk with its header edited (the hash follows). */
static void reseal(struct qcn_block *blk)
{
    assert_int_equal(qcn_header_hash(blk->hash, &blk->header), QCN_OK);
}

static void test_bad_blocks_change_nothing(void **state)
{
    struct env a, b;
    struct qcn_block good, bad;
    struct qcn_tx *tx;
    int i;
    (void)state;

    env_init(&a);
    env_init(&b);
    for (i = 0; i < 3; i++)
        assert_int_equal(env_submit(&a, env_transfer(&a, &a.keys[i], 0, a.keys[4].addr, 7, 1)),
                         QCN_OK);
    build_on(&a, &good);
    assert_int_equal(good.ntx, 3);

    /* Header fields. */
    wire_copy(&bad, &good);
    bad.header.parent_hash[0] ^= 1;
    reseal(&bad);
    apply_expect(&b, &bad, QCN_ERR_BLOCK_PARENT);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.height++;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_PARENT);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.timestamp = 999;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_TIMESTAMP);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.base_fee++;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_BASE_FEE);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.gas_limit--;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_GAS_LIMIT);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.gas_used--;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_GAS_USED);
    qcn_block_clear(&bad);
    /* Derived roots, after execution: state changes must be rolled back. */
    wire_copy(&bad, &good);
    bad.header.state_root[5] ^= 1;
    apply_expect(&b, &bad, QCN_ERR_STATE_ROOT);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.tx_root[5] ^= 1;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_TX_ROOT);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.receipts_root[5] ^= 1;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_RECEIPTS_ROOT);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    bad.header.bloom[5] ^= 1;
    apply_expect(&b, &bad, QCN_ERR_BLOCK_BLOOM);
    qcn_block_clear(&bad);
    /* Bad transactions: the last one broken after two valid ones executed. */
    wire_copy(&bad, &good);
    {
        struct qcn_tx *t2;
        tx = bad.txs[2];
        tx->raw[tx->raw_len - 3] ^= 1; /* inside the signature */
        assert_int_equal(qcn_tx_decode(&t2, qcn_view_make(tx->raw, tx->raw_len)), QCN_OK);
        qcn_tx_unref(tx);
        bad.txs[2] = t2;
    }
    apply_expect(&b, &bad, QCN_ERR_TX_BAD_SIGNATURE);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    for (i = 0; i < 3 && memcmp(a.keys[i].addr, bad.txs[2]->from, 20) != 0; i++)
        ;
    assert_true(i < 3);
    qcn_tx_unref(bad.txs[2]);
    bad.txs[2] = env_transfer(&a, &a.keys[i], 1, a.keys[4].addr, 7, 1); /* nonce 1, not 0 */
    apply_expect(&b, &bad, QCN_ERR_TX_NONCE_HIGH);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    qcn_tx_unref(bad.txs[2]);
    bad.txs[2] = env_transfer(&a, &a.keys[5], 0, a.keys[4].addr, 7, 1); /* poor */
    apply_expect(&b, &bad, QCN_ERR_TX_FUNDS);
    qcn_block_clear(&bad);
    wire_copy(&bad, &good);
    qcn_tx_unref(bad.txs[2]);
    bad.txs[2] = qcn_tx_ref(bad.txs[1]); /* a replay of the previous transaction */
    apply_expect(&b, &bad, QCN_ERR_TX_NONCE_LOW);
    qcn_block_clear(&bad);
    /* After all that, the good block still applies. */
    apply_expect(&b, &good, QCN_OK);
    assert_int_equal(qcn_chain_head(b.c)->height, 1);
    env_free(&a);
    env_free(&b);
}

static struct qcn_tx *key_tx(struct env *e, const struct tkey *k, uint64_t nonce,
                             const uint8_t *data, size_t len, uint64_t value, int with_pk)
{
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    tfields(&f, ENV_CHAIN_ID, k->addr, nonce, qcn_key_manager_address, value, k->scheme);
    f.max_fee = 5000;
    f.gas_limit = 400000;
    f.data = qcn_view_make(data, len);
    assert_int_equal(tsign(&tx, &f, k, with_pk), QCN_OK);
    (void)e;
    return tx;
}

/* data = RLP([op, threshold, [[scheme, pk], ...]]) */
static void multisig_data(struct qcn_buf *b, uint64_t op, const struct tkey *const *keys, size_t n,
                          uint64_t m)
{
    size_t l, kl, p, i;
    qcn_buf_reset(b);
    l = qcn_rlp_list_begin(b);
    assert_int_equal(qcn_rlp_put_u64(b, op), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(b, m), QCN_OK);
    kl = qcn_rlp_list_begin(b);
    for (i = 0; i < n; i++) {
        p = qcn_rlp_list_begin(b);
        assert_int_equal(qcn_rlp_put_u64(b, keys[i]->scheme), QCN_OK);
        assert_int_equal(qcn_rlp_put_bytes(b, keys[i]->pk, keys[i]->pklen), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(b, p), QCN_OK);
    }
    assert_int_equal(qcn_rlp_list_end(b, kl), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(b, l), QCN_OK);
}

static struct qcn_tx *ms_transfer(const uint8_t ms[20], uint64_t nonce, const uint8_t *to,
                                  const struct tkey *const *keys, const uint32_t *idx, size_t n)
{
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    tfields(&f, ENV_CHAIN_ID, ms, nonce, to, 1000, QCN_SCHEME_MULTISIG);
    f.max_fee = 5000;
    assert_int_equal(tsign_multi(&tx, &f, keys, idx, n), QCN_OK);
    return tx;
}

static void test_multisig_2_of_3(void **state)
{
    struct env e;
    struct tkey x, y, z, d, f2;
    const struct tkey *set[3] = {&x, &y, &z}, *set2[2] = {&d, &f2};
    struct qcn_buf data, rec;
    struct qcn_block_result res;
    uint8_t kh[32], ms[20], to[20];
    uint32_t i02[2] = {0, 2}, i1[1] = {1}, i01[2] = {0, 1};
    struct qcn_u256 bal;
    (void)state;

    env_init(&e);
    tkey_make(&x, QCN_SCHEME_MLDSA44, 0x71);
    tkey_make(&y, QCN_SCHEME_MLDSA65, 0x72);
    tkey_make(&z, QCN_SCHEME_MLDSA87, 0x73);
    tkey_make(&d, QCN_SCHEME_MLDSA44, 0x74);
    tkey_make(&f2, QCN_SCHEME_MLDSA44, 0x75);
    memset(to, 0x99, sizeof to);
    env_track(&e, to);
    qcn_buf_init(&data, QCN_TX_MAX_DATA);
    qcn_buf_init(&rec, QCN_KEYREC_MAX_BYTES);
    /* Creation by key 0 at its nonce 0, funded with 1e15 wei. */
    multisig_data(&data, QCN_KEY_OP_MULTISIG_CREATE, set, 3, 2);
    assert_int_equal(
        env_submit(&e, key_tx(&e, &e.keys[0], 0, data.p, data.len, 1000000000000000ull, 1)),
        QCN_OK);
    assert_int_equal(tmultisig_record(&rec, set, 3, 2), QCN_OK);
    qcn_keyrec_hash(kh, rec.p, rec.len);
    qcn_address_multisig(ms, e.keys[0].addr, 0, kh);
    env_track(&e, ms);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    qcn_block_result_clear(&res);
    bal = env_balance(&e, ms);
    assert_int_equal(bal.w[0], 1000000000000000ull);
    {
        uint8_t got[32];
        assert_int_equal(qcn_chain_key_get(e.c, got, NULL, ms), QCN_OK);
        assert_memory_equal(got, kh, 32);
    }
    /* One signature is not enough; a bad one poisons the set; 0+2 works. */
    assert_int_equal(env_submit(&e, ms_transfer(ms, 0, to, set, i1, 1)), QCN_ERR_TX_MULTISIG);
    {
        const struct tkey *wrong[3] = {&x, &y, &d}; /* index 2 signed by a stranger */
        assert_int_equal(env_submit(&e, ms_transfer(ms, 0, to, wrong, i02, 2)),
                         QCN_ERR_TX_BAD_SIGNATURE);
    }
    assert_int_equal(env_submit(&e, ms_transfer(ms, 0, to, set, i02, 2)), QCN_OK);
    assert_int_equal(env_block(&e, NULL), 1);
    assert_int_equal(env_balance(&e, to).w[0], 1000);
    assert_int_equal(env_nonce(&e, ms), 1);
    /* Change the set to 2-of-2 {d, f2}, authorised by 2 of the old keys. */
    multisig_data(&data, QCN_KEY_OP_MULTISIG_SET, set2, 2, 2);
    {
        struct qcn_tx_fields f;
        struct qcn_tx *tx;
        tfields(&f, ENV_CHAIN_ID, ms, 1, qcn_key_manager_address, 0, QCN_SCHEME_MULTISIG);
        f.max_fee = 5000;
        f.gas_limit = 400000;
        f.data = qcn_buf_view(&data);
        assert_int_equal(tsign_multi(&tx, &f, set, i01, 2), QCN_OK);
        assert_int_equal(env_submit(&e, tx), QCN_OK);
    }
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    qcn_block_result_clear(&res);
    /* Old keys no longer work; the new ones do. */
    assert_int_equal(env_submit(&e, ms_transfer(ms, 2, to, set, i01, 2)), QCN_ERR_TX_BAD_SIGNATURE);
    assert_int_equal(env_submit(&e, ms_transfer(ms, 2, to, set2, i01, 2)), QCN_OK);
    assert_int_equal(env_block(&e, NULL), 1);
    assert_int_equal(env_balance(&e, to).w[0], 2000);
    /* A malformed operation is included but fails (status 0, all gas used),
     * and changes nothing but the fee and the nonce. */
    {
        uint8_t junk[3] = {0xc2, 0x09, 0x01};
        qcn_buf_reset(&rec);
        assert_int_equal(qcn_chain_key_get(e.c, kh, NULL, e.keys[1].addr), QCN_ERR_NOT_FOUND);
        assert_int_equal(env_submit(&e, key_tx(&e, &e.keys[1], 0, junk, sizeof junk, 0, 1)),
                         QCN_OK);
        assert_int_equal(env_block(&e, &res), 1);
        assert_int_equal(res.receipts[0].status, 0);
        assert_int_equal(res.receipts[0].gas_used, 400000);
        qcn_block_result_clear(&res);
        assert_int_equal(env_nonce(&e, e.keys[1].addr), 1);
    }
    qcn_buf_clear(&data);
    qcn_buf_clear(&rec);
    env_free(&e);
}

static void test_key_rotation(void **state)
{
    struct env e;
    struct tkey nk;
    struct qcn_buf data;
    struct qcn_block_result res;
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    uint8_t kh_before[32], kh_after[32];
    size_t l;
    (void)state;

    env_init(&e);
    tkey_make(&nk, QCN_SCHEME_MLDSA87, 0x81);
    /* Record the ML-DSA-65 key by using it once. */
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[0], 0, e.keys[1].addr, 1, 1)), QCN_OK);
    assert_int_equal(env_block(&e, NULL), 1);
    assert_int_equal(qcn_chain_key_get(e.c, kh_before, NULL, e.keys[0].addr), QCN_OK);
    /* Rotate to an ML-DSA-87 key, signed by the old key. */
    qcn_buf_init(&data, QCN_TX_MAX_DATA);
    l = qcn_rlp_list_begin(&data);
    assert_int_equal(qcn_rlp_put_u64(&data, QCN_KEY_OP_ROTATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(&data, nk.scheme), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&data, nk.pk, nk.pklen), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&data, l), QCN_OK);
    assert_int_equal(env_submit(&e, key_tx(&e, &e.keys[0], 1, data.p, data.len, 0, 0)), QCN_OK);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    qcn_block_result_clear(&res);
    assert_int_equal(qcn_chain_key_get(e.c, kh_after, NULL, e.keys[0].addr), QCN_OK);
    assert_memory_not_equal(kh_before, kh_after, 32);
    /* The old key stops working, with or without its public key attached. */
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[0], 2, e.keys[1].addr, 1, 0)),
                     QCN_ERR_TX_KEY_MISMATCH);
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[0], 2, e.keys[1].addr, 1, 1)),
                     QCN_ERR_TX_KEY_MISMATCH);
    /* The new key signs for the same address (its own hash is another address). */
    tfields(&f, ENV_CHAIN_ID, e.keys[0].addr, 2, e.keys[1].addr, 1, nk.scheme);
    f.max_fee = 5000;
    assert_int_equal(tsign(&tx, &f, &nk, 0), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    assert_int_equal(env_block(&e, NULL), 1);
    assert_int_equal(env_nonce(&e, e.keys[0].addr), 3);
    /* Rotation to a malformed key fails the transaction and keeps the key. */
    qcn_buf_reset(&data);
    l = qcn_rlp_list_begin(&data);
    assert_int_equal(qcn_rlp_put_u64(&data, QCN_KEY_OP_ROTATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(&data, QCN_SCHEME_MLDSA44), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&data, nk.pk, 10), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&data, l), QCN_OK);
    tfields(&f, ENV_CHAIN_ID, e.keys[0].addr, 3, qcn_key_manager_address, 0, nk.scheme);
    f.max_fee = 5000;
    f.gas_limit = 400000;
    f.data = qcn_buf_view(&data);
    assert_int_equal(tsign(&tx, &f, &nk, 0), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 0);
    qcn_block_result_clear(&res);
    assert_int_equal(qcn_chain_key_get(e.c, kh_before, NULL, e.keys[0].addr), QCN_OK);
    assert_memory_equal(kh_before, kh_after, 32);
    qcn_buf_clear(&data);
    env_free(&e);
}

static void test_genesis_json(void **state)
{
    struct qcn_genesis g;
    struct qcn_block_result r1, r2;
    struct tkey k;
    char json[8192], pkhex[2 * QCN_MLDSA44_PK_BYTES + 1], err[200];
    (void)state;

    tkey_make(&k, QCN_SCHEME_MLDSA44, 0x31);
    qcn_hex_encode(pkhex, k.pk, k.pklen);
    snprintf(json, sizeof json,
             "{\"chain_id\": 4242, \"gas_limit\": \"0x1c9c380\", \"base_fee\": 7,"
             " \"timestamp\": 1700000000, \"extra\": \"0x716e63\", \"alloc\": {"
             "\"0x00000000000000000000000000000000000000aa\": {\"balance\": "
             "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"},"
             "\"dev\": {\"balance\": \"0xde0b6b3a7640000\", \"scheme\": \"ml-dsa-44\", "
             "\"public_key\": \"0x%s\"}}}",
             pkhex);
    assert_int_equal(qcn_genesis_parse_json(&g, json, strlen(json), err, sizeof err), QCN_OK);
    assert_int_equal(g.params.chain_id, 4242);
    assert_int_equal(g.params.block_gas_limit, 30000000);
    assert_int_equal(g.params.min_base_fee, 7);
    assert_int_equal(g.nalloc, 2);
    assert_int_equal(g.extra_len, 3);
    assert_int_equal(g.alloc[0].balance.w[3], UINT64_MAX);
    assert_memory_equal(g.alloc[1].address, k.addr, 20);
    assert_non_null(g.alloc[1].key_record);
    assert_int_equal(qcn_genesis_build(&g, &r1), QCN_OK);
    assert_int_equal(qcn_genesis_build(&g, &r2), QCN_OK);
    assert_memory_equal(r1.block.hash, r2.block.hash, 32);
    assert_int_equal(r1.block.header.height, 0);
    assert_memory_not_equal(r1.block.header.state_root, qcn_empty_trie_root, 32);
    qcn_block_result_clear(&r1);
    qcn_block_result_clear(&r2);
    qcn_genesis_clear(&g);
    /* Rejections name the field. */
    {
        static const char *bad[] = {
            "{}",
            "[1]",
            "{\"chain_id\": 0}",
            "{\"chain_id\": 1, \"gas_limit\": 100}",
            "{\"chain_id\": 1, \"alloc\": {\"0x00000000000000000000000000000000000000aa\": "
            "{\"balance\": \"12x\"}}}",
            "{\"chain_id\": 1, \"alloc\": {\"0x00000000000000000000000000000000000000aa\": "
            "{\"balance\": \"0x1" /* 65 hex digits: over 2^256 */
            "0000000000000000000000000000000000000000000000000000000000000000\"}}}",
            "{\"chain_id\": 1, \"alloc\": {\"0xzz\": {\"balance\": 1}}}",
            "{\"chain_id\": 1, \"alloc\": {\"x\": {\"balance\": 1, \"public_key\": \"0x00\"}}}",
            "{\"chain_id\": 1, \"chain_id\": 2}",
        };
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            err[0] = 0;
            assert_int_not_equal(
                qcn_genesis_parse_json(&g, bad[i], strlen(bad[i]), err, sizeof err), QCN_OK);
            assert_true(strncmp(err, "genesis: ", 9) == 0);
        }
    }
}

/* Time to build (execute + roots + write set) and to apply a block of
 * pre-verified transfers in memory. QCN_CHAIN_PERF=N sets the count (the
 * report uses 10000); the default keeps the test fast. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: what the work costs when the machine is shared. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_block_timing(void **state)
{
    struct env a, b, c;
    struct qcn_block blk2;
    struct qcn_tx_fields f;
    struct qcn_tx **txs;
    int *errs;
    struct qcn_build_args args;
    struct qcn_block_result res;
    struct qcn_block blk;
    struct qcn_verify_pool *pool;
    size_t n = 205, i;
    const char *env = getenv("QCN_CHAIN_PERF");
    double t0, t1, t2, t3, c1, c2, c3;
    (void)state;

    if (env != NULL && strtoul(env, NULL, 10) > 0)
        n = strtoul(env, NULL, 10);
    {
        struct qcn_mempool_config cfg;
        qcn_mempool_config_default(&cfg);
        cfg.max_count = (uint32_t)n + 10;
        cfg.max_per_sender = (uint32_t)n + 10;
        cfg.max_nonce_gap = n + 10;
        env_init_cfg(&a, &cfg);
        env_init_cfg(&b, &cfg);
        env_init_cfg(&c, &cfg);
    }
    assert_int_equal(qcn_verify_pool_new(&pool, 0), QCN_OK);
    txs = calloc(n, sizeof *txs);
    errs = calloc(n, sizeof *errs);
    assert_non_null(txs);
    assert_non_null(errs);
    /* Senders 0..4 take turns; each transfer goes to a fresh address. */
    for (i = 0; i < n; i++) {
        uint8_t to[20];
        const struct tkey *k = &a.keys[i % 5];
        memset(to, 0, sizeof to);
        to[0] = 0x55;
        qcn_store_be32(to + 16, (uint32_t)i);
        tfields(&f, ENV_CHAIN_ID, k->addr, i / 5, to, 1, k->scheme);
        f.max_fee = 5000;
        f.gas_limit = 150000;
        assert_int_equal(tsign(&txs[i], &f, k, i < 5), QCN_OK);
    }
    /* Block 1 records the five senders' keys (their nonce-0 transfers carry
     * the public keys); the measured block 2 holds the rest. */
    for (i = 0; i < 5; i++) {
        env_track(&a, txs[i]->to);
        env_track(&b, txs[i]->to);
        env_track(&c, txs[i]->to);
    }
    assert_int_equal(qcn_mempool_submit(a.mp, a.c, pool, txs, 5, errs, a.now), 5);
    assert_int_equal(env_block(&a, &res), 5);
    wire_copy(&blk, &res.block);
    wire_copy(&blk2, &res.block);
    qcn_block_result_clear(&res);
    apply_expect(&b, &blk, QCN_OK);
    apply_expect(&c, &blk2, QCN_OK);
    t0 = now_s();
    assert_int_equal(qcn_mempool_submit(a.mp, a.c, pool, txs + 5, n - 5, errs, a.now), n - 5);
    t1 = now_s();
    c1 = cpu_s();
    memset(&args, 0, sizeof args);
    args.timestamp = 2000;
    memcpy(args.proposer, a.proposer, 20);
    assert_int_equal(qcn_chain_block_build(a.c, a.mp, &args, &res), QCN_OK);
    t2 = now_s();
    c2 = cpu_s();
    assert_int_equal(res.block.ntx, n - 5);
    wire_copy(&blk, &res.block);
    wire_copy(&blk2, &res.block);
    /* blk2 arrives "pre-verified", as from a node's own pool (same hashes). */
    for (i = 0; i < blk2.ntx; i++) {
        assert_memory_equal(blk2.txs[i]->hash, res.block.txs[i]->hash, 32);
        blk2.txs[i]->verified = 1;
        memcpy(blk2.txs[i]->verified_key_hash, res.block.txs[i]->verified_key_hash, 32);
    }
    assert_int_equal(qcn_memstore_apply(a.ms, &res.writes), QCN_OK);
    qcn_chain_block_commit_done(a.c, &res, a.mp);
    qcn_block_result_clear(&res);
    /* Importer: signatures not yet verified there; give it the pool. */
    qcn_chain_set_verify_pool(b.c, pool);
    t3 = now_s();
    c3 = cpu_s();
    assert_int_equal(qcn_chain_block_apply(b.c, NULL, &blk, &res), QCN_OK);
    {
        double t4 = now_s(), c4 = cpu_s();
        printf("chain timing: %zu transfers: admit+verify %.1f ms (%u threads); build %.1f ms "
               "(thread cpu %.1f ms; %zu writes, %.1f MB); apply incl. parallel verify %.1f ms "
               "(caller cpu %.1f ms)\n",
               n - 5, (t1 - t0) * 1e3, qcn_verify_pool_threads(pool), (t2 - t1) * 1e3,
               (c2 - c1) * 1e3, res.writes.n, (double)res.writes.bytes / 1e6, (t4 - t3) * 1e3,
               (c4 - c3) * 1e3);
    }
    qcn_chain_block_commit_done(b.c, &res, NULL);
    qcn_block_result_clear(&res);
    {
        double t5 = now_s(), c5 = cpu_s(), t6, c6;
        struct qcn_chain_stats st;
        assert_int_equal(qcn_chain_block_apply(c.c, NULL, &blk2, &res), QCN_OK);
        t6 = now_s();
        c6 = cpu_s();
        printf("chain timing: validate+apply of %zu pre-verified transfers: %.1f ms (thread cpu "
               "%.1f ms)\n",
               n - 5, (t6 - t5) * 1e3, (c6 - c5) * 1e3);
        qcn_chain_stats_get(c.c, &st);
        /* Block 1's five were checked in the pre-pass; the measured block's none. */
        assert_int_equal(st.batch_verifies, 5);
        assert_int_equal(st.exec_verifies, 0);
        qcn_chain_block_commit_done(c.c, &res, NULL);
        qcn_block_result_clear(&res);
    }
    {
        uint8_t ha[32], hb[32], hc[32];
        qcn_chain_head_hash(a.c, ha);
        qcn_chain_head_hash(b.c, hb);
        qcn_chain_head_hash(c.c, hc);
        assert_memory_equal(ha, hb, 32);
        assert_memory_equal(ha, hc, 32);
    }
    qcn_verify_pool_free(pool);
    for (i = 0; i < n; i++)
        qcn_tx_unref(txs[i]);
    free(txs);
    free(errs);
    env_free(&a);
    env_free(&b);
    env_free(&c);
}

/* Zero data bytes cost 4 gas, so gas alone would let a block grow past what
 * one store record holds: the byte budget stops the builder, and a block over
 * it is refused. */
static void test_block_byte_cap(void **state)
{
    static uint8_t zeros[QCN_TX_MAX_DATA];
    struct qcn_mempool_config cfg;
    struct env a, b;
    struct qcn_tx_fields f;
    struct qcn_tx **txs;
    struct qcn_block_result res;
    struct qcn_block big;
    int *errs;
    size_t n = 760, i, bytes = 0, nb;
    (void)state;

    qcn_mempool_config_default(&cfg);
    cfg.max_count = 1000;
    cfg.max_per_sender = 1000;
    cfg.max_nonce_gap = 1000;
    env_init_cfg(&a, &cfg);
    env_init(&b);
    txs = calloc(n, sizeof *txs);
    errs = calloc(n, sizeof *errs);
    assert_non_null(txs);
    assert_non_null(errs);
    for (i = 0; i < n; i++) {
        tfields(&f, ENV_CHAIN_ID, a.keys[1].addr, i, a.keys[0].addr, 1, a.keys[1].scheme);
        f.max_fee = 5000;
        f.gas_limit = 400000;
        f.data = qcn_view_make(zeros, sizeof zeros);
        assert_int_equal(tsign(&txs[i], &f, &a.keys[1], 1), QCN_OK);
        bytes += txs[i]->raw_len;
    }
    assert_true(bytes > QCN_BLOCK_MAX_TX_BYTES);
    assert_int_equal(qcn_mempool_submit(a.mp, a.c, NULL, txs, n, errs, a.now), n);
    nb = env_block(&a, &res);
    assert_int_equal(nb, res.block.ntx);
    assert_true(nb < n && nb > 600);
    bytes = 0;
    for (i = 0; i < res.block.ntx; i++)
        bytes += res.block.txs[i]->raw_len;
    assert_true(bytes <= QCN_BLOCK_MAX_TX_BYTES);
    assert_int_equal(qcn_mempool_count(a.mp), n - res.block.ntx); /* the rest wait */
    /* An importer refuses a block over the budget before executing anything. */
    memset(&big, 0, sizeof big);
    assert_int_equal(qcn_header_copy(&big.header, &res.block.header), QCN_OK);
    memcpy(big.header.parent_hash, res.block.header.parent_hash, 32);
    big.ntx = n;
    big.txs = calloc(n, sizeof *big.txs);
    assert_non_null(big.txs);
    for (i = 0; i < n; i++)
        big.txs[i] = qcn_tx_ref(txs[i]);
    qcn_block_result_clear(&res);
    apply_expect(&b, &big, QCN_ERR_TOO_LARGE);
    qcn_block_clear(&big);
    for (i = 0; i < n; i++)
        qcn_tx_unref(txs[i]);
    free(txs);
    free(errs);
    env_free(&a);
    env_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_matches_build),
        cmocka_unit_test(test_bad_blocks_change_nothing),
        cmocka_unit_test(test_multisig_2_of_3),
        cmocka_unit_test(test_key_rotation),
        cmocka_unit_test(test_genesis_json),
        cmocka_unit_test(test_block_timing),
        cmocka_unit_test(test_block_byte_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
