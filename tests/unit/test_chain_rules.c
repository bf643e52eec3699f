/* Chain rules: transfers with EIP-1559 fees (tip to the producer, base fee
 * burned, value conserved), intrinsic gas, the base-fee update, key
 * recording on first use, and every mempool rejection reason. After each
 * block the state root equals a from-scratch recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/keyrec.h"
#include "unit/test_chain_env.h"

static void test_base_fee_rule(void **state)
{
    struct qcn_chain_params p = {1, 30000000, 1000000000, 7};
    (void)state;
    /* EIP-1559: full block +12.5%, empty -12.5%, target unchanged. */
    assert_int_equal(qcn_chain_base_fee_next(&p, 1000000000, 30000000, 30000000), 1125000000);
    assert_int_equal(qcn_chain_base_fee_next(&p, 1000000000, 0, 30000000), 875000000);
    assert_int_equal(qcn_chain_base_fee_next(&p, 1000000000, 15000000, 30000000), 1000000000);
    /* A quarter above target: +1/8 of 1/... = 1000000000 * 7500000 / 15000000 / 8. */
    assert_int_equal(qcn_chain_base_fee_next(&p, 1000000000, 22500000, 30000000), 1062500000);
    /* The increase is at least 1 wei; the floor holds. */
    assert_int_equal(qcn_chain_base_fee_next(&p, 8, 15000001, 30000000), 9);
    assert_int_equal(qcn_chain_base_fee_next(&p, 8, 0, 30000000), 7);
    assert_int_equal(qcn_chain_base_fee_next(&p, UINT64_MAX, 30000000, 30000000), UINT64_MAX);
}

static void test_intrinsic_gas(void **state)
{
    struct tkey k;
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    uint8_t data[4] = {0, 0, 1, 2};
    uint64_t g;
    (void)state;
    tkey_make(&k, QCN_SCHEME_MLDSA65, 1);
    tfields(&f, 1, k.addr, 0, k.addr, 0, k.scheme);
    f.data = qcn_view_make(data, sizeof data);
    assert_int_equal(tsign(&tx, &f, &k, 1), QCN_OK);
    assert_int_equal(qcn_tx_intrinsic_gas(&g, tx), QCN_OK);
    assert_int_equal(g, 21000 + 2 * 4 + 2 * 16 + QCN_MLDSA65_SIG_BYTES * 16 + 3000 +
                            QCN_MLDSA65_PK_BYTES * 16);
    qcn_tx_unref(tx);
    assert_int_equal(tsign(&tx, &f, &k, 0), QCN_OK);
    assert_int_equal(qcn_tx_intrinsic_gas(&g, tx), QCN_OK);
    assert_int_equal(g, 21000 + 2 * 4 + 2 * 16 + QCN_MLDSA65_SIG_BYTES * 16 + 3000);
    qcn_tx_unref(tx);
}

static struct qcn_u256 sum_balances(struct env *e)
{
    struct qcn_u256 s = qcn_u256_from_u64(0), b;
    size_t i;
    for (i = 0; i < e->naddrs; i++) {
        b = env_balance(e, e->addrs[i]);
        assert_int_equal(qcn_u256_add(&s, &s, &b), 0);
    }
    return s;
}

static void test_transfer_and_fees(void **state)
{
    struct env e;
    struct qcn_block_result res;
    struct qcn_u256 before, after, a0, b1, prop, t;
    uint8_t bob[20], kh[32];
    uint64_t base, gas;
    (void)state;

    env_init(&e);
    memset(bob, 0xb0, sizeof bob);
    env_track(&e, bob);
    before = sum_balances(&e);
    a0 = env_balance(&e, e.keys[0].addr);
    /* First use: the public key travels with the transaction. */
    assert_int_equal(qcn_chain_key_get(e.c, kh, NULL, e.keys[0].addr), QCN_ERR_NOT_FOUND);
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[0], 0, bob, 12345, 1)), QCN_OK);
    assert_int_equal(qcn_mempool_count(e.mp), 1);
    base = qcn_chain_next_base_fee(e.c);
    assert_int_equal(base, ENV_BASE_FEE);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(qcn_mempool_count(e.mp), 0);
    assert_int_equal(res.receipts[0].status, 1);
    gas = res.receipts[0].gas_used;
    assert_int_equal(gas, 21000 + QCN_MLDSA65_SIG_BYTES * 16 + 3000 + QCN_MLDSA65_PK_BYTES * 16);
    assert_int_equal(res.block.header.gas_used, gas);
    assert_int_equal(res.receipts[0].effective_gas_price, base + 10);
    qcn_block_result_clear(&res);
    /* Sender paid value + gas * (base + tip); producer got gas * tip; base fee burned. */
    b1 = env_balance(&e, bob);
    assert_int_equal(b1.w[0], 12345);
    prop = env_balance(&e, e.proposer);
    assert_int_equal(prop.w[0], gas * 10);
    t = env_balance(&e, e.keys[0].addr);
    assert_int_equal(a0.w[0] - t.w[0], 12345 + gas * (base + 10));
    after = sum_balances(&e);
    assert_int_equal(before.w[0] - after.w[0], gas * base);
    /* The key is now recorded; the next transaction may omit it. */
    assert_int_equal(qcn_chain_key_get(e.c, kh, NULL, e.keys[0].addr), QCN_OK);
    assert_int_equal(env_nonce(&e, e.keys[0].addr), 1);
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[0], 1, bob, 1, 0)), QCN_OK);
    /* A zero-value transfer to a fresh address creates no account (EIP-161). */
    {
        uint8_t nobody[20];
        struct qcn_account acc;
        memset(nobody, 0x0d, sizeof nobody);
        env_track(&e, nobody);
        assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[1], 0, nobody, 0, 1)), QCN_OK);
        assert_int_equal(env_block(&e, NULL), 2);
        assert_int_equal(qcn_chain_account_get(e.c, &acc, nobody), QCN_OK);
        assert_true(qcn_account_is_empty(&acc));
    }
    assert_int_equal(qcn_chain_head(e.c)->height, 2);
    env_free(&e);
}

static struct qcn_tx *custom(struct env *e, const struct tkey *k,
                             void (*edit)(struct qcn_tx_fields *), int with_pk)
{
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    tfields(&f, ENV_CHAIN_ID, k->addr, 0, e->keys[1].addr, 1, k->scheme);
    f.max_fee = 5000;
    f.max_priority_fee = 10;
    if (edit != NULL)
        edit(&f);
    assert_int_equal(tsign(&tx, &f, k, with_pk), QCN_OK);
    return tx;
}

static void ed_chain(struct qcn_tx_fields *f)
{
    f->chain_id = 2;
}
static void ed_gap(struct qcn_tx_fields *f)
{
    f->nonce = 1000;
}
static void ed_fee_low(struct qcn_tx_fields *f)
{
    f->max_fee = ENV_BASE_FEE - 1;
    f->max_priority_fee = 1;
}
static void ed_fee_fields(struct qcn_tx_fields *f)
{
    f->max_priority_fee = f->max_fee + 1;
}
static void ed_intrinsic(struct qcn_tx_fields *f)
{
    f->gas_limit = 21000;
}
static void ed_gas_limit(struct qcn_tx_fields *f)
{
    f->gas_limit = ENV_GAS_LIMIT + 1;
}
static void ed_create(struct qcn_tx_fields *f)
{
    f->has_to = 0;
}
static void ed_big_value(struct qcn_tx_fields *f)
{
    f->value = qcn_u256_from_u64(ENV_BALANCE);
}

static void test_mempool_rejections(void **state)
{
    struct env e;
    struct qcn_tx *tx;
    (void)state;

    env_init(&e);
    /* Bad signature: one flipped signature byte. */
    tx = custom(&e, &e.keys[0], NULL, 1);
    tx->raw[tx->raw_len - 5] ^= 1;
    {
        struct qcn_tx *bad;
        assert_int_equal(qcn_tx_decode(&bad, qcn_view_make(tx->raw, tx->raw_len)), QCN_OK);
        assert_int_equal(env_submit(&e, bad), QCN_ERR_TX_BAD_SIGNATURE);
    }
    qcn_tx_unref(tx);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_chain, 1)), QCN_ERR_TX_WRONG_CHAIN);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_gap, 1)), QCN_ERR_TX_NONCE_GAP);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[5], NULL, 1)), QCN_ERR_TX_FUNDS);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_big_value, 1)), QCN_ERR_TX_FUNDS);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_fee_low, 1)), QCN_ERR_TX_FEE_LOW);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_fee_fields, 1)),
                     QCN_ERR_TX_FEE_FIELDS);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_intrinsic, 1)),
                     QCN_ERR_TX_INTRINSIC_GAS);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_gas_limit, 1)), QCN_ERR_TX_GAS_LIMIT);
    /* Contract transactions need a VM hook (qcn_chain_open installs the EVM). */
    qcn_chain_set_vm(e.c, NULL);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_create, 1)),
                     QCN_ERR_TX_VM_UNAVAILABLE);
    assert_int_equal(qcn_chain_evm_attach(e.c), QCN_OK);
    /* No public key and none recorded; a public key of another account. */
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], NULL, 0)), QCN_ERR_TX_MISSING_KEY);
    {
        struct qcn_tx_fields f;
        struct qcn_tx *t2;
        tfields(&f, ENV_CHAIN_ID, e.keys[0].addr, 0, e.keys[1].addr, 1, e.keys[3].scheme);
        f.max_fee = 5000;
        assert_int_equal(tsign(&t2, &f, &e.keys[3], 1), QCN_OK); /* key 3 claims key 0's address */
        assert_int_equal(env_submit(&e, t2), QCN_ERR_TX_KEY_MISMATCH);
    }
    assert_int_equal(qcn_mempool_count(e.mp), 0);
    /* Accepted, then known, then a replacement without a 10% bump. */
    tx = custom(&e, &e.keys[0], NULL, 1);
    assert_int_equal(env_submit(&e, qcn_tx_ref(tx)), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_ERR_TX_KNOWN);
    {
        struct qcn_tx_fields f;
        struct qcn_tx *r;
        tfields(&f, ENV_CHAIN_ID, e.keys[0].addr, 0, e.keys[1].addr, 2, e.keys[0].scheme);
        f.max_fee = 5400; /* +8% */
        f.max_priority_fee = 11;
        assert_int_equal(tsign(&r, &f, &e.keys[0], 1), QCN_OK);
        assert_int_equal(env_submit(&e, r), QCN_ERR_TX_REPLACEMENT_UNDERPRICED);
        f.max_fee = 5500; /* +10% on both caps */
        assert_int_equal(tsign(&r, &f, &e.keys[0], 1), QCN_OK);
        assert_int_equal(env_submit(&e, qcn_tx_ref(r)), QCN_OK);
        assert_int_equal(qcn_mempool_count(e.mp), 1);
        assert_non_null(qcn_mempool_get(e.mp, r->hash));
        qcn_tx_unref(r);
    }
    /* Mine it; then the old nonce is too low. */
    assert_int_equal(env_block(&e, NULL), 1);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_fee_fields, 0)),
                     QCN_ERR_TX_FEE_FIELDS);
    assert_int_equal(env_submit(&e, custom(&e, &e.keys[0], ed_big_value, 0)), QCN_ERR_TX_NONCE_LOW);
    env_free(&e);
}

static void test_mempool_caps(void **state)
{
    struct qcn_mempool_config cfg;
    struct env e;
    struct qcn_tx_fields f;
    struct qcn_tx *tx, *cheap;
    uint64_t n;
    (void)state;

    qcn_mempool_config_default(&cfg);
    cfg.max_count = 3;
    cfg.max_per_sender = 2;
    cfg.expiry_ms = 60000;
    env_init_cfg(&e, &cfg);
    /* Per-sender cap. */
    for (n = 0; n < 3; n++) {
        tx = env_transfer(&e, &e.keys[0], n, e.keys[1].addr, 1, 1);
        assert_int_equal(env_submit(&e, tx), n < 2 ? QCN_OK : QCN_ERR_TX_SENDER_LIMIT);
    }
    assert_int_equal(qcn_mempool_pending_nonce(e.mp, e.keys[0].addr, 0), 2);
    /* Pool full: a cheaper newcomer is refused, a richer one evicts the cheapest. */
    tfields(&f, ENV_CHAIN_ID, e.keys[1].addr, 0, e.keys[0].addr, 1, e.keys[1].scheme);
    f.max_fee = 5000;
    f.max_priority_fee = 3;
    assert_int_equal(tsign(&cheap, &f, &e.keys[1], 1), QCN_OK);
    assert_int_equal(env_submit(&e, qcn_tx_ref(cheap)), QCN_OK);
    tfields(&f, ENV_CHAIN_ID, e.keys[2].addr, 0, e.keys[0].addr, 1, e.keys[2].scheme);
    f.max_fee = 5000;
    f.max_priority_fee = 2;
    assert_int_equal(tsign(&tx, &f, &e.keys[2], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_ERR_TX_POOL_FULL);
    f.max_priority_fee = 50;
    assert_int_equal(tsign(&tx, &f, &e.keys[2], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    assert_int_equal(qcn_mempool_count(e.mp), 3);
    assert_null(qcn_mempool_get(e.mp, cheap->hash)); /* tip 3 < 10 < 50: evicted */
    qcn_tx_unref(cheap);
    /* Oversized for a pool with a small byte cap. */
    {
        struct qcn_mempool *small;
        cfg.max_bytes = 1000;
        assert_int_equal(qcn_mempool_new(&small, &cfg), QCN_OK);
        tx = env_transfer(&e, &e.keys[3], 0, e.keys[0].addr, 1, 1);
        assert_int_equal(qcn_chain_tx_prepare(e.c, tx), QCN_OK);
        {
            /* prepare hands verification the record's hash with the record,
             * and it is the record's real hash (what execution compares). */
            uint8_t kh[32];
            qcn_keyrec_hash(kh, tx->key_record, tx->key_record_len);
            assert_ptr_equal(tx->key_record_hash_of, tx->key_record);
            assert_memory_equal(tx->key_record_hash, kh, 32);
            assert_int_equal(qcn_tx_verify(tx), QCN_OK);
            assert_memory_equal(tx->verified_key_hash, kh, 32);
        }
        assert_int_equal(qcn_mempool_add(small, e.c, tx, e.now), QCN_ERR_TX_OVERSIZED);
        qcn_tx_unref(tx);
        qcn_mempool_free(small);
    }
    /* An unverified transaction is refused by add. */
    tx = env_transfer(&e, &e.keys[3], 0, e.keys[0].addr, 1, 1);
    assert_int_equal(qcn_mempool_add(e.mp, e.c, tx, e.now), QCN_ERR_TX_BAD_SIGNATURE);
    qcn_tx_unref(tx);
    /* Expiry. */
    assert_int_equal(qcn_mempool_expire(e.mp, e.now + 59999), 0);
    assert_int_equal(qcn_mempool_expire(e.mp, e.now + 60001), 3);
    assert_int_equal(qcn_mempool_count(e.mp), 0);
    assert_int_equal(qcn_mempool_bytes(e.mp), 0);
    env_free(&e);
}

/* Oversized envelopes and unknown schemes are refused before the pool. */
static void test_decode_level_reasons(void **state)
{
    static uint8_t big[QCN_TX_MAX_BYTES + 1];
    struct qcn_tx *tx;
    struct tkey k;
    struct qcn_tx_fields f;
    struct qcn_buf b;
    (void)state;
    big[0] = QCN_TX_TYPE;
    assert_int_equal(qcn_tx_decode(&tx, qcn_view_make(big, sizeof big)), QCN_ERR_TX_OVERSIZED);
    tkey_make(&k, QCN_SCHEME_MLDSA44, 3);
    tfields(&f, ENV_CHAIN_ID, k.addr, 0, k.addr, 1, 9);
    qcn_buf_init(&b, QCN_TX_MAX_BYTES);
    {
        uint8_t sig[QCN_MLDSA44_SIG_BYTES] = {0};
        struct qcn_tx_sig s = {0, {sig, sizeof sig}};
        assert_int_equal(qcn_tx_encode(&b, &f, qcn_view_make(NULL, 0), &s, 1), QCN_OK);
    }
    assert_int_equal(qcn_tx_decode(&tx, qcn_buf_view(&b)), QCN_ERR_TX_UNKNOWN_SCHEME);
    qcn_buf_clear(&b);
}

/* Block selection orders by tip and keeps each sender's nonces in order. */
static void test_selection_order(void **state)
{
    struct env e;
    struct qcn_tx_fields f;
    struct qcn_tx *tx, **sel;
    size_t n, i;
    uint64_t tips[3] = {5, 50, 20};
    (void)state;

    env_init(&e);
    for (i = 0; i < 3; i++) {
        tfields(&f, ENV_CHAIN_ID, e.keys[i].addr, 0, e.keys[4].addr, 1, e.keys[i].scheme);
        f.max_fee = 5000;
        f.max_priority_fee = tips[i];
        assert_int_equal(tsign(&tx, &f, &e.keys[i], 1), QCN_OK);
        assert_int_equal(env_submit(&e, tx), QCN_OK);
    }
    /* Sender 0's second tx pays the most but must follow its first. */
    tfields(&f, ENV_CHAIN_ID, e.keys[0].addr, 1, e.keys[4].addr, 1, e.keys[0].scheme);
    f.max_fee = 5000;
    f.max_priority_fee = 100;
    assert_int_equal(tsign(&tx, &f, &e.keys[0], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    assert_int_equal(qcn_mempool_select(e.mp, e.c, ENV_BASE_FEE, ENV_GAS_LIMIT, 100, &sel, &n),
                     QCN_OK);
    assert_int_equal(n, 4);
    assert_int_equal(sel[0]->max_priority_fee, 50);
    assert_int_equal(sel[1]->max_priority_fee, 20);
    assert_int_equal(sel[2]->max_priority_fee, 5);
    assert_int_equal(sel[3]->max_priority_fee, 100);
    for (i = 0; i < n; i++)
        qcn_tx_unref(sel[i]);
    free(sel);
    /* A gas limit fitting two transactions. */
    assert_int_equal(qcn_mempool_select(e.mp, e.c, ENV_BASE_FEE, 400000, 100, &sel, &n), QCN_OK);
    assert_int_equal(n, 2);
    for (i = 0; i < n; i++)
        qcn_tx_unref(sel[i]);
    free(sel);
    assert_int_equal(env_block(&e, NULL), 4);
    env_free(&e);
}

/* Funds are checked against everything the sender already has pooled. */
static void test_cumulative_funds(void **state)
{
    struct env e;
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    uint64_t half = ENV_BALANCE / 2;
    (void)state;
    env_init(&e);
    /* 0.4e18 + 0.33e18 fit in the 1e18 balance; another 0.33e18 does not. */
    assert_int_equal(
        env_submit(&e, env_transfer(&e, &e.keys[0], 0, e.keys[1].addr, half - half / 5, 1)),
        QCN_OK);
    tfields(&f, ENV_CHAIN_ID, e.keys[0].addr, 1, e.keys[1].addr, half - half / 3, e.keys[0].scheme);
    f.max_fee = 5000;
    assert_int_equal(tsign(&tx, &f, &e.keys[0], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    f.nonce = 2;
    assert_int_equal(tsign(&tx, &f, &e.keys[0], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_ERR_TX_FUNDS);
    /* Replacing nonce 1 with a cheaper-in-value one frees room (its own cost
     * is not counted twice). */
    f.nonce = 1;
    f.value = qcn_u256_from_u64(1);
    f.max_fee = 5500;
    f.max_priority_fee = 11;
    assert_int_equal(tsign(&tx, &f, &e.keys[0], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    f.nonce = 2;
    f.value = qcn_u256_from_u64(half - half / 3);
    assert_int_equal(tsign(&tx, &f, &e.keys[0], 1), QCN_OK);
    assert_int_equal(env_submit(&e, tx), QCN_OK);
    assert_int_equal(env_block(&e, NULL), 3);
    env_free(&e);
}

/* A wallet's burst before its key is recorded: the first transaction carries
 * the key, the next ones may omit it while the first is pooled. */
static void test_key_burst(void **state)
{
    struct env e;
    (void)state;
    env_init(&e);
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[2], 1, e.keys[0].addr, 1, 0)),
                     QCN_ERR_TX_MISSING_KEY); /* nothing pooled to borrow from */
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[2], 0, e.keys[0].addr, 1, 1)), QCN_OK);
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[2], 1, e.keys[0].addr, 1, 0)), QCN_OK);
    assert_int_equal(env_submit(&e, env_transfer(&e, &e.keys[2], 2, e.keys[0].addr, 1, 0)), QCN_OK);
    /* Another sender cannot borrow it. */
    {
        struct qcn_tx_fields f;
        struct qcn_tx *tx;
        tfields(&f, ENV_CHAIN_ID, e.keys[2].addr, 3, e.keys[0].addr, 1, e.keys[5].scheme);
        f.max_fee = 5000;
        assert_int_equal(tsign(&tx, &f, &e.keys[5], 0), QCN_OK); /* signed by key 5 */
        assert_int_equal(env_submit(&e, tx), QCN_ERR_TX_BAD_SIGNATURE);
    }
    assert_int_equal(env_block(&e, NULL), 3);
    assert_int_equal(env_nonce(&e, e.keys[2].addr), 3);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_fee_rule),     cmocka_unit_test(test_intrinsic_gas),
        cmocka_unit_test(test_transfer_and_fees), cmocka_unit_test(test_mempool_rejections),
        cmocka_unit_test(test_mempool_caps),      cmocka_unit_test(test_decode_level_reasons),
        cmocka_unit_test(test_selection_order),   cmocka_unit_test(test_key_burst),
        cmocka_unit_test(test_cumulative_funds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
