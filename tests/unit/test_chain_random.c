/* Randomised ledger runs: many blocks of random transfers (some valid, some
 * refused for each reason the pool knows), on a builder and an importer.
 * After every block: the state root equals the from-scratch recomputation, the
 * importer reaches the same head, and value is conserved (balances + burned
 * base fees = genesis supply). A fixed seed keeps failures reproducible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "unit/test_chain_env.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic across runs and platforms. */
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 0x2545f4914f6cdd1dull;
}

static struct qcn_u256 total(struct env *e)
{
    struct qcn_u256 s = qcn_u256_from_u64(0), b;
    size_t i;
    for (i = 0; i < e->naddrs; i++) {
        b = env_balance(e, e->addrs[i]);
        assert_int_equal(qcn_u256_add(&s, &s, &b), 0);
    }
    return s;
}

static void test_random_blocks(void **state)
{
    struct env a, b;
    struct qcn_block_result res;
    struct qcn_block blk;
    struct qcn_u256 supply, burned = qcn_u256_from_u64(0), now, sum;
    uint8_t sinks[4][20];
    uint64_t next_nonce[ENV_NKEYS] = {0};
    int keyed[ENV_NKEYS] = {0};
    size_t round, j, accepted = 0, refused = 0;
    (void)state;

    env_init(&a);
    env_init(&b);
    for (j = 0; j < 4; j++) {
        memset(sinks[j], (int)(0x30 + j), 20);
        env_track(&a, sinks[j]);
        env_track(&b, sinks[j]);
    }
    supply = total(&a);
    for (round = 0; round < 25; round++) {
        size_t ntx = 1 + rnd() % 12, k;
        for (j = 0; j < ENV_NKEYS; j++) {
            uint8_t kh[32];
            next_nonce[j] =
                qcn_mempool_pending_nonce(a.mp, a.keys[j].addr, env_nonce(&a, a.keys[j].addr));
            keyed[j] = qcn_chain_key_get(a.c, kh, NULL, a.keys[j].addr) == QCN_OK;
        }
        for (k = 0; k < ntx; k++) {
            size_t s = rnd() % ENV_NKEYS, kind = rnd() % 10;
            const uint8_t *to = rnd() % 2 ? sinks[rnd() % 4] : a.keys[rnd() % ENV_NKEYS].addr;
            uint64_t nonce = next_nonce[s], value = rnd() % 100000;
            struct qcn_tx *tx;
            int err;
            if (kind == 0)
                nonce += 5; /* waits in the pool: gap */
            else if (kind == 1 && nonce > 0)
                nonce -= 1; /* stale */
            else if (kind == 2)
                value = ENV_BALANCE * 2; /* unaffordable */
            if (kind == 4) {
                /* Random bytes to the key manager: included, fails, status 0. */
                struct qcn_tx_fields f;
                uint8_t junk[64];
                size_t m;
                for (m = 0; m < sizeof junk; m++)
                    junk[m] = (uint8_t)rnd();
                junk[0] = (uint8_t)(0xc0 + rnd() % 64); /* a list, most of the time bad */
                tfields(&f, ENV_CHAIN_ID, a.keys[s].addr, nonce, qcn_key_manager_address, 0,
                        a.keys[s].scheme);
                f.max_fee = 5000;
                f.max_priority_fee = 10;
                f.gas_limit = 300000;
                f.data = qcn_view_make(junk, 1 + rnd() % sizeof junk);
                assert_int_equal(tsign(&tx, &f, &a.keys[s], !keyed[s]), QCN_OK);
            } else {
                tx = env_transfer(&a, &a.keys[s], nonce, to, value, !keyed[s] || kind == 3);
            }
            env_track(&b, to);
            err = env_submit(&a, tx);
            if (err == QCN_OK && nonce == next_nonce[s])
                next_nonce[s]++;
            if (err == QCN_OK)
                accepted++;
            else
                refused++;
            /* Each refusal is one of the expected reasons. */
            if (err != QCN_OK)
                assert_true(err == QCN_ERR_TX_NONCE_LOW || err == QCN_ERR_TX_FUNDS ||
                            err == QCN_ERR_TX_MISSING_KEY || err == QCN_ERR_TX_KNOWN ||
                            err == QCN_ERR_TX_REPLACEMENT_UNDERPRICED);
        }
        env_block(&a, &res); /* checks the root from scratch */
        for (j = 0; j < res.block.ntx; j++) {
            struct qcn_u256 burn =
                qcn_u256_mul_u64_u64(res.receipts[j].gas_used, res.block.header.base_fee);
            assert_int_equal(qcn_u256_add(&burned, &burned, &burn), 0);
        }
        wire_copy_block(&blk, &res.block);
        qcn_block_result_clear(&res);
        {
            struct qcn_block_result r2;
            uint8_t ha[32], hb[32];
            assert_int_equal(qcn_chain_block_apply(b.c, NULL, &blk, &r2), QCN_OK);
            assert_int_equal(qcn_memstore_apply(b.ms, &r2.writes), QCN_OK);
            qcn_chain_block_commit_done(b.c, &r2, NULL);
            qcn_block_result_clear(&r2);
            env_check_root(&b);
            qcn_chain_head_hash(a.c, ha);
            qcn_chain_head_hash(b.c, hb);
            assert_memory_equal(ha, hb, 32);
        }
        now = total(&a);
        assert_int_equal(qcn_u256_add(&sum, &now, &burned), 0);
        assert_int_equal(qcn_u256_cmp(&sum, &supply), 0);
        a.now += 1000;
    }
    print_message("random run: %zu accepted, %zu refused\n", accepted, refused);
    assert_true(accepted > 40);
    assert_true(refused > 3);
    env_free(&a);
    env_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
