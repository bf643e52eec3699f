/* Staking applied by the ledger (chain_staking.c, docs/consensus.md §6, §8):
 * create validator, delegate and undelegate as real signed transactions in
 * chain blocks; the state root equals a from-scratch recomputation after
 * every block; a failed operation leaves the staking state as the library's
 * own end-of-block step alone would, charges all gas and has status 0; a
 * second chain applying the same blocks reaches the same head hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chain/chain_staking.h"
#include "codec/rlp.h"
#include "unit/test_chain_env.h"

#define COIN_WEI UINT64_C(1000000000000000000)
#define MAX_KEPT 128

/* A chain whose keys hold 10^6 coins each (env_init's 1 coin is under the
 * minimum self stake). */
static void senv_init(struct env *e)
{
    struct qcn_genesis g;
    struct qcn_block_result res;
    struct qcn_mempool_config def;
    size_t i;

    memset(e, 0, sizeof *e);
    memset(&g, 0, sizeof g);
    g.params.chain_id = ENV_CHAIN_ID;
    g.params.block_gas_limit = ENV_GAS_LIMIT;
    g.params.initial_base_fee = ENV_BASE_FEE;
    g.params.min_base_fee = 7;
    g.timestamp = 1000;
    g.alloc = calloc(ENV_NKEYS, sizeof *g.alloc);
    assert_non_null(g.alloc);
    g.nalloc = ENV_NKEYS;
    for (i = 0; i < ENV_NKEYS; i++) {
        tkey_make(&e->keys[i], QCN_SCHEME_MLDSA65, (uint8_t)(0x60 + i));
        memcpy(g.alloc[i].address, e->keys[i].addr, QCN_ADDRESS_BYTES);
        g.alloc[i].balance = qcn_u256_mul_u64_u64(1000000, COIN_WEI);
        env_track(e, e->keys[i].addr);
    }
    memset(e->proposer, 0xee, sizeof e->proposer);
    env_track(e, e->proposer);
    env_track(e, qcn_staking_address);
    e->p = g.params;
    assert_int_equal(qcn_genesis_build(&g, &res), QCN_OK);
    assert_int_equal(qcn_memstore_new(&e->ms), QCN_OK);
    assert_int_equal(qcn_memstore_apply(e->ms, &res.writes), QCN_OK);
    assert_int_equal(
        qcn_chain_open(&e->c, &g.params, qcn_memstore_reader(e->ms), &res.block.header), QCN_OK);
    qcn_block_result_clear(&res);
    qcn_genesis_clear(&g);
    qcn_mempool_config_default(&def);
    assert_int_equal(qcn_mempool_new(&e->mp, &def), QCN_OK);
    e->now = 1000000;
}

static struct qcn_tx *staking_tx(const struct tkey *k, uint64_t nonce, struct qcn_u256 value,
                                 const struct qcn_buf *data)
{
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    tfields(&f, ENV_CHAIN_ID, k->addr, nonce, qcn_staking_address, 0, k->scheme);
    f.value = value;
    f.max_fee = 5000;
    f.max_priority_fee = 10;
    f.gas_limit = 300000;
    f.data = qcn_buf_view(data);
    assert_int_equal(tsign(&tx, &f, k, nonce == 0), QCN_OK);
    return tx;
}

static void staking_blob(struct env *e, struct qcn_buf *out)
{
    struct qcn_staking s;
    int present;
    assert_int_equal(qcn_chain_staking_load(e->c, &s, &present), QCN_OK);
    qcn_buf_reset(out);
    if (present)
        assert_int_equal(qcn_staking_encode(out, &s), QCN_OK);
    qcn_staking_clear(&s);
}

static void test_staking_through_blocks(void **state)
{
    static struct env a, b;
    static struct qcn_block_result kept[MAX_KEPT];
    struct qcn_staking_params sp;
    size_t nkept = 0, i;
    struct tkey ident;
    struct qcn_staking s;
    struct qcn_buf d, before, after, expect;
    uint8_t tip[32], bogus[QCN_ADDRESS_BYTES], ha[32], hb[32];
    const uint8_t *op, *del;
    struct qcn_u256 esc_before, bal_before, bal;
    int present;
    size_t l;
    (void)state;

    senv_init(&a);
    op = a.keys[0].addr;
    del = a.keys[1].addr;
    tkey_make(&ident, QCN_SCHEME_MLDSA65, 0x7a);
    memset(tip, 0x33, sizeof tip);
    memset(bogus, 0x42, sizeof bogus);
    qcn_buf_init(&d, 8192);
    qcn_buf_init(&before, QCN_CHAIN_STAKING_MAX_BLOB);
    qcn_buf_init(&after, QCN_CHAIN_STAKING_MAX_BLOB);
    qcn_buf_init(&expect, QCN_CHAIN_STAKING_MAX_BLOB);

    /* No staking state yet: blocks leave the staking account alone. */
    assert_int_equal(env_block(&a, &kept[nkept++]), 0);
    staking_blob(&a, &before);
    assert_int_equal(before.len, 0);

    /* create: 2000 coins of self stake. */
    l = qcn_rlp_list_begin(&d);
    assert_int_equal(qcn_rlp_put_u64(&d, QCN_STAKING_CREATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&d, ident.pk, QCN_VOTE_PK_BYTES), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(&d, 500), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&d, tip, sizeof tip), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&d, l), QCN_OK);
    assert_int_equal(
        env_submit(&a, staking_tx(&a.keys[0], 0, qcn_u256_mul_u64_u64(2000, COIN_WEI), &d)),
        QCN_OK);
    assert_int_equal(env_block(&a, &kept[nkept]), 1);
    assert_int_equal(kept[nkept].receipts[0].status, 1);
    nkept++;
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_true(present);
    assert_int_equal(s.nval, 1);
    assert_memory_equal(s.val[0].address, op, QCN_ADDRESS_BYTES);
    assert_int_equal(s.val[0].self_stake, 2000 * QCN_STAKING_GWEI_PER_COIN);
    qcn_staking_clear(&s);
    esc_before = env_balance(&a, qcn_staking_address);
    bal = qcn_u256_mul_u64_u64(2000, COIN_WEI);
    assert_int_equal(qcn_u256_cmp(&esc_before, &bal), 0);

    /* delegate: 500 coins from key 1. */
    qcn_buf_reset(&d);
    l = qcn_rlp_list_begin(&d);
    assert_int_equal(qcn_rlp_put_u64(&d, QCN_STAKING_DELEGATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&d, op, QCN_ADDRESS_BYTES), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&d, l), QCN_OK);
    assert_int_equal(
        env_submit(&a, staking_tx(&a.keys[1], 0, qcn_u256_mul_u64_u64(500, COIN_WEI), &d)), QCN_OK);
    assert_int_equal(env_block(&a, &kept[nkept]), 1);
    assert_int_equal(kept[nkept].receipts[0].status, 1);
    nkept++;
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_int_equal(qcn_staking_delegation_get(&s, del, op), 500 * QCN_STAKING_GWEI_PER_COIN);
    assert_int_equal(qcn_staking_validator_get(&s, op)->total_stake,
                     2500 * QCN_STAKING_GWEI_PER_COIN);
    qcn_staking_clear(&s);

    /* A failed op (delegate to a validator that does not exist): status 0,
     * all gas charged, value back with the sender, and the staking state is
     * exactly what the end-of-block step alone makes of the one before. */
    staking_blob(&a, &before);
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    {
        struct qcn_staking_payouts po = {0, NULL};
        uint8_t(*sg)[QCN_ADDRESS_BYTES] = calloc(s.nval, QCN_ADDRESS_BYTES);
        assert_non_null(sg);
        for (i = 0; i < s.nval; i++)
            memcpy(sg[i], s.val[i].identity, QCN_ADDRESS_BYTES);
        assert_int_equal(qcn_staking_end_block(&s, qcn_chain_head(a.c)->height + 1, 0,
                                               (const uint8_t(*)[QCN_ADDRESS_BYTES])sg, s.nval,
                                               &po),
                         QCN_OK);
        free(po.c);
        free(sg);
    }
    assert_int_equal(qcn_staking_encode(&expect, &s), QCN_OK);
    qcn_staking_clear(&s);
    bal_before = env_balance(&a, del);
    esc_before = env_balance(&a, qcn_staking_address);
    qcn_buf_reset(&d);
    l = qcn_rlp_list_begin(&d);
    assert_int_equal(qcn_rlp_put_u64(&d, QCN_STAKING_DELEGATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&d, bogus, QCN_ADDRESS_BYTES), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&d, l), QCN_OK);
    assert_int_equal(
        env_submit(&a, staking_tx(&a.keys[1], 1, qcn_u256_mul_u64_u64(7, COIN_WEI), &d)), QCN_OK);
    assert_int_equal(env_block(&a, &kept[nkept]), 1);
    assert_int_equal(kept[nkept].receipts[0].status, 0);
    assert_int_equal(kept[nkept].receipts[0].gas_used, 300000);
    {
        struct qcn_u256 fee =
            qcn_u256_mul_u64_u64(300000, kept[nkept].receipts[0].effective_gas_price);
        struct qcn_u256 want;
        assert_int_equal(qcn_u256_sub(&want, &bal_before, &fee), 0);
        bal = env_balance(&a, del);
        assert_int_equal(qcn_u256_cmp(&bal, &want), 0);
    }
    nkept++;
    staking_blob(&a, &after);
    assert_int_equal(after.len, expect.len);
    assert_memory_equal(after.p, expect.p, after.len);
    bal = env_balance(&a, qcn_staking_address);
    assert_int_equal(qcn_u256_cmp(&bal, &esc_before), 0);

    /* undelegate 200 of the 500 coins: an unbonding entry, stake down. */
    qcn_buf_reset(&d);
    l = qcn_rlp_list_begin(&d);
    assert_int_equal(qcn_rlp_put_u64(&d, QCN_STAKING_UNDELEGATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&d, op, QCN_ADDRESS_BYTES), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(&d, 200 * QCN_STAKING_GWEI_PER_COIN), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&d, l), QCN_OK);
    assert_int_equal(env_submit(&a, staking_tx(&a.keys[1], 2, qcn_u256_from_u64(0), &d)), QCN_OK);
    assert_int_equal(env_block(&a, &kept[nkept]), 1);
    assert_int_equal(kept[nkept].receipts[0].status, 1);
    nkept++;
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_int_equal(qcn_staking_delegation_get(&s, del, op), 300 * QCN_STAKING_GWEI_PER_COIN);
    assert_int_equal(s.nunb, 1);
    assert_int_equal(s.unb[0].amount, 200 * QCN_STAKING_GWEI_PER_COIN);
    assert_int_equal(qcn_staking_validator_get(&s, op)->total_stake,
                     2300 * QCN_STAKING_GWEI_PER_COIN);
    qcn_staking_clear(&s);
    assert_int_equal(env_block(&a, &kept[nkept++]), 0);

    /* Nothing active before the first epoch boundary; at its end (height
     * 100, the default epoch) the validator joins the set, and the next
     * block's issuance becomes its rewards. */
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_int_equal(qcn_staking_active(&s, &i, 1), 0);
    qcn_staking_clear(&s);
    qcn_staking_params_default(&sp);
    while (qcn_chain_head(a.c)->height < sp.epoch_length && nkept < MAX_KEPT - 1)
        assert_int_equal(env_block(&a, &kept[nkept++]), 0);
    assert_int_equal(qcn_chain_head(a.c)->height, sp.epoch_length);
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_int_equal(qcn_staking_active(&s, &i, 1), 1);
    assert_int_equal(qcn_staking_rewards_get(&s, op), 0);
    qcn_staking_clear(&s);
    assert_int_equal(env_block(&a, &kept[nkept++]), 0);
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_true(qcn_staking_rewards_get(&s, op) > 0);
    assert_true(qcn_staking_rewards_get(&s, del) > 0);
    qcn_staking_clear(&s);

    /* A second chain applies the same blocks off the wire: same head. */
    senv_init(&b);
    for (i = 0; i < nkept; i++) {
        struct qcn_block blk;
        struct qcn_block_result r2;
        wire_copy_block(&blk, &kept[i].block);
        assert_int_equal(qcn_chain_block_apply(b.c, NULL, &blk, &r2), QCN_OK);
        assert_int_equal(qcn_memstore_apply(b.ms, &r2.writes), QCN_OK);
        qcn_chain_block_commit_done(b.c, &r2, NULL);
        qcn_block_result_clear(&r2);
        qcn_block_clear(&blk);
        qcn_chain_head_hash(a.c, ha);
        qcn_chain_head_hash(b.c, hb);
        assert_memory_equal(hb, kept[i].block.hash, 32);
    }
    assert_memory_equal(ha, hb, 32);
    env_check_root(&b);
    staking_blob(&a, &before);
    staking_blob(&b, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.p, after.p, before.len);

    for (i = 0; i < nkept; i++)
        qcn_block_result_clear(&kept[i]);
    qcn_buf_clear(&d);
    qcn_buf_clear(&before);
    qcn_buf_clear(&after);
    qcn_buf_clear(&expect);
    env_free(&a);
    env_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staking_through_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
