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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/chain_staking.h"
#include "codec/rlp.h"
#include "codec/vote.h"
#include "util/hex.h"
#include "unit/test_chain_env.h"

#define COIN_WEI UINT64_C(1000000000000000000)
#define MAX_KEPT 128

/* A chain whose keys hold 10^6 coins each (env_init's 1 coin is under the
 * minimum self stake). */
static void senv_init(struct env *e)
{
    struct qcn_genesis g;
    size_t i;

    memset(e, 0, sizeof *e);
    env_genesis_new(&g);
    for (i = 0; i < ENV_NKEYS; i++) {
        tkey_make(&e->keys[i], QCN_SCHEME_MLDSA65, (uint8_t)(0x60 + i));
        memcpy(g.alloc[i].address, e->keys[i].addr, QCN_ADDRESS_BYTES);
        g.alloc[i].balance = qcn_u256_mul_u64_u64(1000000, COIN_WEI);
        env_track(e, e->keys[i].addr);
    }
    env_track(e, qcn_staking_address);
    env_open(e, &g, NULL);
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

/* ---- Genesis validators, chain parameters and evidence in blocks. */

#define NVAL 3
static struct tkey vkey[NVAL + 1]; /* vkey[NVAL]: a key staking never saw */

static void hexs(char *out, const uint8_t *p, size_t n)
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, p, n);
}

/* Genesis JSON: keys 0 and 1 funded; staking and validators when asked. */
static char *genesis_json(const struct env *e, int with_staking, const char *staking_obj,
                          const char *extra_validator)
{
    size_t cap = 64 * 1024, i;
    char *j = malloc(cap), a[64], pk[2 * QCN_VOTE_PK_BYTES + 3], tip[67];
    int n;
    uint8_t t[32];
    assert_non_null(j);
    n = snprintf(j, cap,
                 "{\"chain_id\": %d, \"gas_limit\": %llu, \"base_fee\": %d, "
                 "\"min_base_fee\": 7, \"timestamp\": 1000, \"alloc\": {",
                 ENV_CHAIN_ID, (unsigned long long)ENV_GAS_LIMIT, ENV_BASE_FEE);
    for (i = 0; i < 2; i++) {
        hexs(a, e->keys[i].addr, QCN_ADDRESS_BYTES);
        n += snprintf(j + n, cap - (size_t)n, "%s\"%s\": {\"balance\": \"%s\"}", i ? ", " : "", a,
                      "1000000000000000000000000");
    }
    n += snprintf(j + n, cap - (size_t)n, "}");
    if (with_staking) {
        n += snprintf(j + n, cap - (size_t)n, ", \"staking\": %s, \"validators\": [", staking_obj);
        for (i = 0; i < NVAL; i++) {
            hexs(pk, vkey[i].pk, QCN_VOTE_PK_BYTES);
            memset(t, (int)(0x10 + i), sizeof t);
            hexs(tip, t, 32);
            n += snprintf(j + n, cap - (size_t)n,
                          "%s{\"public_key\": \"%s\", \"power\": %zu, \"beacon_tip\": \"%s\"",
                          i ? ", " : "", pk, 2000 + 1000 * i, tip);
            if (i == 2) { /* operated from key 1's account, 10 % commission */
                hexs(a, e->keys[1].addr, QCN_ADDRESS_BYTES);
                n += snprintf(j + n, cap - (size_t)n,
                              ", \"operator\": \"%s\", \"commission_bps\": 1000", a);
            }
            n += snprintf(j + n, cap - (size_t)n, "}");
        }
        n += snprintf(j + n, cap - (size_t)n, "%s]", extra_validator ? extra_validator : "");
    }
    n += snprintf(j + n, cap - (size_t)n, "}");
    assert_true((size_t)n < cap);
    return j;
}

static void genv_init(struct env *e, const char *json)
{
    struct qcn_genesis g;
    struct qcn_block_result res;
    struct qcn_mempool_config def;
    char err[256];
    size_t i;

    assert_int_equal(qcn_genesis_parse_json(&g, json, strlen(json), err, sizeof err), QCN_OK);
    e->p = g.params;
    assert_int_equal(qcn_genesis_build(&g, &res), QCN_OK);
    memcpy(e->genesis_root, res.block.header.state_root, QCN_HASH_BYTES);
    assert_int_equal(qcn_memstore_new(&e->ms), QCN_OK);
    assert_int_equal(qcn_memstore_apply(e->ms, &res.writes), QCN_OK);
    assert_int_equal(
        qcn_chain_open(&e->c, &g.params, qcn_memstore_reader(e->ms), &res.block.header), QCN_OK);
    qcn_block_result_clear(&res);
    qcn_genesis_clear(&g);
    qcn_mempool_config_default(&def);
    assert_int_equal(qcn_mempool_new(&e->mp, &def), QCN_OK);
    e->now = 1000000;
    memset(e->proposer, 0xee, sizeof e->proposer);
    for (i = 0; i < 2; i++)
        env_track(e, e->keys[i].addr);
    env_track(e, e->proposer);
    env_track(e, qcn_staking_address);
    for (i = 0; i < NVAL; i++)
        env_track(e, vkey[i].addr);
}

/* data = RLP([7, evidence of vkey[k] at height h]) */
static void evidence_op(struct qcn_buf *d, int k, uint64_t h)
{
    struct qcn_vote x, y;
    struct qcn_evidence ev;
    size_t l;
    int i;
    for (i = 0; i < 2; i++) {
        struct qcn_vote *v = i ? &y : &x;
        memset(v, 0, sizeof *v);
        v->chain_id = ENV_CHAIN_ID;
        v->height = h;
        v->type = QCN_VOTE_PREVOTE;
        v->has_block = 1;
        memset(v->block_hash, 0x70 + i, 32);
        memcpy(v->validator, vkey[k].addr, QCN_ADDRESS_BYTES);
        assert_int_equal(qcn_vote_sign(v, vkey[k].sk, 1), QCN_OK);
    }
    assert_int_equal(qcn_evidence_make(&ev, &x, &y), QCN_OK);
    qcn_buf_reset(d);
    l = qcn_rlp_list_begin(d);
    assert_int_equal(qcn_rlp_put_u64(d, QCN_STAKING_EVIDENCE), QCN_OK);
    assert_int_equal(qcn_evidence_encode(d, &ev), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(d, l), QCN_OK);
}

/* A staking op in a block of its own that fails: status 0, all gas, and
 * the staking state is what the end-of-block step alone makes of it. */
static void expect_failed_op(struct env *e, struct qcn_block_result *keep, const struct tkey *k,
                             uint64_t nonce, const struct qcn_buf *d)
{
    struct qcn_staking s;
    struct qcn_staking_payouts po = {0, NULL};
    struct qcn_buf expect, after;
    struct qcn_u256 esc = env_balance(e, qcn_staking_address), now;
    uint8_t(*sg)[QCN_ADDRESS_BYTES];
    size_t i;
    int present;

    qcn_buf_init(&expect, QCN_CHAIN_STAKING_MAX_BLOB);
    qcn_buf_init(&after, QCN_CHAIN_STAKING_MAX_BLOB);
    assert_int_equal(qcn_chain_staking_load(e->c, &s, &present), QCN_OK);
    sg = calloc(s.nval, QCN_ADDRESS_BYTES);
    assert_non_null(sg);
    for (i = 0; i < s.nval; i++)
        memcpy(sg[i], s.val[i].identity, QCN_ADDRESS_BYTES);
    assert_int_equal(qcn_staking_end_block(&s, qcn_chain_head(e->c)->height + 1, 0,
                                           (const uint8_t(*)[QCN_ADDRESS_BYTES])sg, s.nval, &po),
                     QCN_OK);
    free(po.c);
    free(sg);
    assert_int_equal(qcn_staking_encode(&expect, &s), QCN_OK);
    qcn_staking_clear(&s);
    assert_int_equal(env_submit(e, staking_tx(k, nonce, qcn_u256_from_u64(0), d)), QCN_OK);
    assert_int_equal(env_block(e, keep), 1);
    assert_int_equal(keep->receipts[0].status, 0);
    assert_int_equal(keep->receipts[0].gas_used, 300000);
    staking_blob(e, &after);
    assert_int_equal(after.len, expect.len);
    assert_memory_equal(after.p, expect.p, after.len);
    now = env_balance(e, qcn_staking_address);
    assert_int_equal(qcn_u256_cmp(&now, &esc), 0);
    qcn_buf_clear(&expect);
    qcn_buf_clear(&after);
}

static void test_genesis_validators_evidence(void **state)
{
    static struct env a, b, plain;
    static struct qcn_block_result kept[MAX_KEPT];
    size_t nkept = 0, i;
    struct qcn_staking s;
    struct qcn_staking_params sp;
    struct qcn_buf d;
    struct qcn_u256 esc, want;
    uint64_t r0, r1;
    uint8_t slot[32] = {0}, val[32], ha[32], hb[32];
    const struct qcn_staking_validator *v;
    char *json;
    int present;
    (void)state;

    for (i = 0; i <= NVAL; i++)
        tkey_make(&vkey[i], QCN_SCHEME_MLDSA65, (uint8_t)(0x90 + i));
    memset(&a, 0, sizeof a);
    for (i = 0; i < 2; i++)
        tkey_make(&a.keys[i], QCN_SCHEME_MLDSA65, (uint8_t)(0x60 + i));
    memcpy(&b.keys, &a.keys, sizeof a.keys);
    memcpy(&plain.keys, &a.keys, sizeof a.keys);
    qcn_buf_init(&d, 16384);

    /* Without validators or "staking": no staking state at all. */
    json = genesis_json(&plain, 0, NULL, NULL);
    genv_init(&plain, json);
    free(json);
    assert_int_equal(
        qcn_statedb_storage_get(qcn_chain_state(plain.c), val, qcn_staking_address, slot), QCN_OK);
    for (i = 0; i < 32; i++)
        assert_int_equal(val[i], 0);
    esc = env_balance(&plain, qcn_staking_address);
    assert_true(qcn_u256_is_zero(&esc));
    assert_int_equal(qcn_chain_staking_params(plain.c, &sp), QCN_OK);
    assert_int_equal(sp.epoch_length, 100); /* the default */

    /* With them: every validator staked and in the set from block 1, the
     * parameters the file set, the stake in escrow, the root consistent. */
    json = genesis_json(&a, 1, "{\"epoch_length\": 4, \"slash_double_sign_bps\": 1000}", NULL);
    genv_init(&a, json);
    free(json);
    env_check_root(&a);
    assert_memory_not_equal(a.genesis_root, plain.genesis_root, 32);
    assert_int_equal(qcn_chain_staking_params(a.c, &sp), QCN_OK);
    assert_int_equal(sp.epoch_length, 4);
    assert_int_equal(sp.slash_double_sign_bps, 1000);
    assert_int_equal(sp.max_validators, 100);
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_true(present);
    assert_int_equal(s.nval, NVAL);
    assert_int_equal(s.params.epoch_length, 4);
    for (i = 0; i < NVAL; i++) {
        v = qcn_staking_validator_get(&s, i == 2 ? a.keys[1].addr : vkey[i].addr);
        assert_non_null(v);
        assert_memory_equal(v->identity, vkey[i].addr, QCN_ADDRESS_BYTES);
        assert_true(v->active);
        assert_int_equal(v->epoch_power, 2000 + 1000 * i);
        assert_int_equal(v->self_stake, (2000 + 1000 * i) * QCN_STAKING_GWEI_PER_COIN);
    }
    assert_int_equal(qcn_staking_validator_get(&s, a.keys[1].addr)->commission_bps, 1000);
    qcn_staking_clear(&s);
    esc = env_balance(&a, qcn_staking_address);
    want = qcn_u256_mul_u64_u64(9000, COIN_WEI);
    assert_int_equal(qcn_u256_cmp(&esc, &want), 0);

    /* Evidence against validator 0 in a block, sent by key 0: slashed by
     * exactly 10 %, tombstoned, the cut burnt out of the escrow. */
    assert_int_equal(env_block(&a, &kept[nkept++]), 0);
    evidence_op(&d, 0, 1);
    assert_int_equal(env_submit(&a, staking_tx(&a.keys[0], 0, qcn_u256_from_u64(0), &d)), QCN_OK);
    assert_int_equal(env_block(&a, &kept[nkept]), 1);
    assert_int_equal(kept[nkept].receipts[0].status, 1);
    nkept++;
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    v = qcn_staking_validator_get(&s, vkey[0].addr);
    assert_true(v->tombstoned);
    assert_int_equal(v->total_stake, 1800 * QCN_STAKING_GWEI_PER_COIN);
    assert_int_equal(v->self_stake, 1800 * QCN_STAKING_GWEI_PER_COIN);
    assert_true(v->active);                 /* until the boundary (height 4) */
    assert_int_equal(v->epoch_power, 2000); /* frozen for the epoch */
    assert_int_equal(qcn_staking_validator_get(&s, vkey[1].addr)->total_stake,
                     3000 * QCN_STAKING_GWEI_PER_COIN);
    r0 = qcn_staking_rewards_get(&s, vkey[0].addr);
    r1 = qcn_staking_rewards_get(&s, vkey[1].addr);
    assert_true(r0 > 0 && r1 > 0); /* both earned before the slash */
    qcn_staking_clear(&s);
    esc = env_balance(&a, qcn_staking_address);
    want = qcn_u256_mul_u64_u64(8800, COIN_WEI);
    assert_int_equal(qcn_u256_cmp(&esc, &want), 0);
    /* Tombstoned: still in the set until the boundary, but unpaid. */
    assert_int_equal(env_block(&a, &kept[nkept++]), 0);
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_int_equal(qcn_staking_rewards_get(&s, vkey[0].addr), r0);
    assert_true(qcn_staking_rewards_get(&s, vkey[1].addr) > r1);
    qcn_staking_clear(&s);

    /* The same evidence again (another sender), another double sign of
     * the tombstoned validator, and evidence against a key staking does not
     * know: each fails in its block and changes nothing. */
    evidence_op(&d, 0, 1);
    expect_failed_op(&a, &kept[nkept++], &a.keys[1], 0, &d);
    evidence_op(&d, 0, 2);
    expect_failed_op(&a, &kept[nkept++], &a.keys[1], 1, &d);
    evidence_op(&d, NVAL, 2);
    expect_failed_op(&a, &kept[nkept++], &a.keys[1], 2, &d);
    assert_int_equal(qcn_chain_head(a.c)->height, 6);

    /* Height 4 was the boundary: validator 0 left the set there; the set
     * that decided block 4 still had it. */
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    v = qcn_staking_validator_get(&s, vkey[0].addr);
    assert_false(v->active);
    assert_int_equal(v->epoch_power, 0);
    assert_int_equal(v->prev_power, 2000);
    assert_int_equal(qcn_staking_validator_get(&s, vkey[1].addr)->epoch_power, 3000);
    qcn_staking_clear(&s);
    while (qcn_chain_head(a.c)->height < 8)
        assert_int_equal(env_block(&a, &kept[nkept++]), 0);
    assert_int_equal(qcn_chain_staking_load(a.c, &s, &present), QCN_OK);
    assert_int_equal(qcn_staking_validator_get(&s, vkey[0].addr)->prev_power, 0);
    qcn_staking_clear(&s);

    /* Another node applies the blocks off the wire: same heads. */
    json = genesis_json(&b, 1, "{\"epoch_length\": 4, \"slash_double_sign_bps\": 1000}", NULL);
    genv_init(&b, json);
    free(json);
    for (i = 0; i < nkept; i++) {
        struct qcn_block blk;
        struct qcn_block_result r2;
        wire_copy_block(&blk, &kept[i].block);
        assert_int_equal(qcn_chain_block_apply(b.c, NULL, &blk, &r2), QCN_OK);
        assert_int_equal(qcn_memstore_apply(b.ms, &r2.writes), QCN_OK);
        qcn_chain_block_commit_done(b.c, &r2, NULL);
        qcn_block_result_clear(&r2);
        qcn_block_clear(&blk);
        qcn_chain_head_hash(b.c, hb);
        assert_memory_equal(hb, kept[i].block.hash, 32);
    }
    qcn_chain_head_hash(a.c, ha);
    assert_memory_equal(ha, hb, 32);
    env_check_root(&b);

    for (i = 0; i < nkept; i++)
        qcn_block_result_clear(&kept[i]);
    qcn_buf_clear(&d);
    env_free(&a);
    env_free(&b);
    env_free(&plain);
}

/* Bad staking settings in a genesis file: an error naming what is wrong. */
static void test_genesis_staking_errors(void **state)
{
    static struct env e;
    struct qcn_genesis g;
    char err[256], *json;
    char dup[2 * QCN_VOTE_PK_BYTES + 128], pk[2 * QCN_VOTE_PK_BYTES + 3];
    const struct {
        const char *staking, *extra, *want;
    } bad[] = {
        {"{\"epoch_length\": 0}", NULL, "epoch_length"},
        {"{\"epoch_lenght\": 5}", NULL, "unknown staking parameter: epoch_lenght"},
        {"{\"slash_double_sign_bps\": 10001}", NULL, "slash_double_sign_bps"},
        {"{\"max_validators\": \"x\"}", NULL, "max_validators"},
        {"[]", NULL, "staking is not an object"},
        {"{\"min_self_stake_gwei\": \"5000000000000\"}", NULL, "validators[0]"},
        {"{}", ", {\"public_key\": \"0x00\", \"power\": 1, \"beacon_tip\": \"0x00\"}",
         "validators[3]: public_key"},
        {"{}", dup, "validators[3]: duplicate"},
    };
    size_t i;
    (void)state;

    for (i = 0; i <= NVAL; i++)
        tkey_make(&vkey[i], QCN_SCHEME_MLDSA65, (uint8_t)(0x90 + i));
    for (i = 0; i < 2; i++)
        tkey_make(&e.keys[i], QCN_SCHEME_MLDSA65, (uint8_t)(0x60 + i));
    hexs(pk, vkey[0].pk, QCN_VOTE_PK_BYTES);
    snprintf(dup, sizeof dup,
             ", {\"public_key\": \"%s\", \"power\": 5000, \"beacon_tip\": \"0x%064x\"}", pk, 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json = genesis_json(&e, 1, bad[i].staking, bad[i].extra);
        err[0] = 0;
        assert_int_equal(qcn_genesis_parse_json(&g, json, strlen(json), err, sizeof err),
                         QCN_ERR_BAD_JSON);
        if (strstr(err, bad[i].want) == NULL)
            fail_msg("case %zu: '%s' does not name '%s'", i, err, bad[i].want);
        free(json);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staking_through_blocks),
        cmocka_unit_test(test_genesis_validators_evidence),
        cmocka_unit_test(test_genesis_staking_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
