/* The verification pool: batches of valid and broken signatures give the
 * same verdicts on 1, 2 and 4 worker threads as one at a time, over many
 * back-to-back batches (the pool's generation hand-off), and verified
 * transactions are skipped. Multisig verdicts follow the threshold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include "chain/verify.h"
#include "unit/test_chain_helpers.h"

#define NTX 24

static void prepare(struct qcn_tx *tx, const struct tkey *k)
{
    struct qcn_keyrec kr;
    struct qcn_buf b;
    assert_int_equal(qcn_keyrec_single(&kr, k->scheme, qcn_view_make(k->pk, k->pklen)), QCN_OK);
    qcn_buf_init(&b, QCN_KEYREC_MAX_BYTES);
    assert_int_equal(qcn_keyrec_encode(&b, &kr), QCN_OK);
    free(tx->key_record);
    tx->key_record = b.p; /* ownership moves to the transaction */
    tx->key_record_len = b.len;
}

static void test_pool_batches(void **state)
{
    struct tkey k;
    struct qcn_tx *txs[NTX];
    struct qcn_tx_fields f;
    int errs[NTX], want[NTX];
    unsigned threads[3] = {1, 2, 4};
    size_t i, t, round;
    (void)state;

    tkey_make(&k, QCN_SCHEME_MLDSA44, 0x61);
    for (i = 0; i < NTX; i++) {
        tfields(&f, 1, k.addr, i, k.addr, 1, k.scheme);
        assert_int_equal(tsign(&txs[i], &f, &k, 0), QCN_OK);
        if (i % 3 == 1)
            txs[i]->sighash[0] ^= 1; /* the signature no longer matches */
        prepare(txs[i], &k);
        want[i] = i % 3 == 1 ? QCN_ERR_TX_BAD_SIGNATURE : QCN_OK;
    }
    /* No pool: the caller does everything. */
    qcn_tx_verify_batch(NULL, txs, NTX, errs);
    for (i = 0; i < NTX; i++) {
        assert_int_equal(errs[i], want[i]);
        assert_int_equal(txs[i]->verified, want[i] == QCN_OK);
    }
    for (t = 0; t < 3; t++) {
        struct qcn_verify_pool *p;
        assert_int_equal(qcn_verify_pool_new(&p, threads[t]), QCN_OK);
        assert_int_equal(qcn_verify_pool_threads(p), threads[t]);
        for (round = 0; round < 6; round++) {
            size_t n = NTX - round; /* varying sizes, down to uneven stripes */
            for (i = 0; i < NTX; i++)
                txs[i]->verified = 0;
            memset(errs, 0x7f, sizeof errs);
            qcn_tx_verify_batch(p, txs, n, errs);
            for (i = 0; i < n; i++)
                assert_int_equal(errs[i], want[i]);
            for (i = n; i < NTX; i++)
                assert_int_equal(txs[i]->verified, 0); /* outside the batch: untouched */
        }
        /* Already verified ones are skipped (reported OK, not re-checked). */
        txs[0]->sighash[0] ^= 1; /* would now fail if checked again */
        qcn_tx_verify_batch(p, txs, 3, errs);
        assert_int_equal(errs[0], QCN_OK);
        txs[0]->sighash[0] ^= 1;
        qcn_verify_pool_free(p);
    }
    for (i = 0; i < NTX; i++)
        qcn_tx_unref(txs[i]);
}

static void test_multisig_verdicts(void **state)
{
    struct tkey a, b, c;
    const struct tkey *keys[3] = {&a, &b, &c};
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    struct qcn_buf rec;
    uint8_t ms[20], kh[32];
    uint32_t i02[2] = {0, 2}, i1[1] = {1};
    (void)state;

    tkey_make(&a, QCN_SCHEME_MLDSA44, 0x62);
    tkey_make(&b, QCN_SCHEME_MLDSA65, 0x63);
    tkey_make(&c, QCN_SCHEME_MLDSA44, 0x64);
    qcn_buf_init(&rec, QCN_KEYREC_MAX_BYTES);
    assert_int_equal(tmultisig_record(&rec, keys, 3, 2), QCN_OK);
    memset(ms, 0x11, sizeof ms);
    tfields(&f, 1, ms, 0, ms, 1, QCN_SCHEME_MULTISIG);
    assert_int_equal(tsign_multi(&tx, &f, keys, i02, 2), QCN_OK);
    assert_int_equal(qcn_tx_verify_with(tx, rec.p, rec.len), QCN_OK);
    qcn_keyrec_hash(kh, rec.p, rec.len);
    assert_memory_equal(tx->verified_key_hash, kh, 32);
    qcn_tx_unref(tx);
    assert_int_equal(tsign_multi(&tx, &f, keys, i1, 1), QCN_OK);
    assert_int_equal(qcn_tx_verify_with(tx, rec.p, rec.len), QCN_ERR_TX_MULTISIG);
    assert_false(tx->verified);
    /* A single-key record for a multisig transaction is a mismatch. */
    {
        struct qcn_keyrec kr;
        struct qcn_buf one;
        qcn_buf_init(&one, QCN_KEYREC_MAX_BYTES);
        assert_int_equal(qcn_keyrec_single(&kr, a.scheme, qcn_view_make(a.pk, a.pklen)), QCN_OK);
        assert_int_equal(qcn_keyrec_encode(&one, &kr), QCN_OK);
        assert_int_equal(qcn_tx_verify_with(tx, one.p, one.len), QCN_ERR_TX_KEY_MISMATCH);
        qcn_buf_clear(&one);
    }
    assert_int_equal(qcn_tx_verify(tx), QCN_ERR_TX_MISSING_KEY); /* not prepared */
    qcn_tx_unref(tx);
    qcn_buf_clear(&rec);
}

/* The expanded-key cache: hits for a repeat key, the same verdicts with and
 * without it, eviction to its limits (LRU order), and many threads verifying
 * through it at once while it evicts (an entry freed while still in use
 * would show up under the ASan build of this test). */
#define KC_KEYS 5
#define KC_THREADS 4
#define KC_ROUNDS 6

struct kc_worker {
    struct qcn_tx **txs;
    const int *want;
    size_t n;
    int failures;
};

static void *kc_worker_run(void *arg)
{
    struct kc_worker *w = arg;
    size_t r, i;
    for (r = 0; r < KC_ROUNDS; r++) {
        for (i = 0; i < w->n; i++) {
            struct qcn_tx *tx = w->txs[(i + r) % w->n];
            int want = w->want[(i + r) % w->n];
            if (qcn_tx_verify(tx) != want)
                w->failures++;
        }
    }
    return NULL;
}

static void test_keycache(void **state)
{
    struct tkey k[KC_KEYS];
    struct qcn_tx *txs[KC_KEYS * 2], *wtx[KC_THREADS][KC_KEYS * 2];
    int want[KC_KEYS * 2];
    struct qcn_tx_fields f;
    struct qcn_verify_keycache_stats st;
    struct kc_worker w[KC_THREADS];
    pthread_t th[KC_THREADS];
    size_t i, t;
    (void)state;

    qcn_verify_keycache_set_limits(QCN_VERIFY_KEYCACHE_MAX_ENTRIES, QCN_VERIFY_KEYCACHE_MAX_BYTES);
    qcn_verify_keycache_clear();
    for (i = 0; i < KC_KEYS; i++)
        tkey_make(&k[i], i % 2 ? QCN_SCHEME_MLDSA44 : QCN_SCHEME_MLDSA65, (uint8_t)(0x70 + i));
    for (i = 0; i < KC_KEYS * 2; i++) {
        const struct tkey *kk = &k[i % KC_KEYS];
        tfields(&f, 1, kk->addr, i, kk->addr, 1, kk->scheme);
        assert_int_equal(tsign(&txs[i], &f, kk, 0), QCN_OK);
        if (i % 4 == 3)
            txs[i]->sighash[1] ^= 1;
        prepare(txs[i], kk);
        want[i] = i % 4 == 3 ? QCN_ERR_TX_BAD_SIGNATURE : QCN_OK;
    }
    /* First pass: one miss per key; second: all hits; same verdicts. */
    for (i = 0; i < KC_KEYS * 2; i++)
        assert_int_equal(qcn_tx_verify(txs[i]), want[i]);
    qcn_verify_keycache_stats(&st);
    assert_int_equal(st.misses, KC_KEYS);
    assert_int_equal(st.hits, KC_KEYS);
    assert_int_equal(st.entries, KC_KEYS);
    assert_true(st.bytes > 0 && st.bytes <= st.max_bytes);
    /* Another key's record (cached, same scheme) never passes for key 0. */
    assert_int_equal(qcn_tx_verify_with(txs[0], txs[2]->key_record, txs[2]->key_record_len),
                     QCN_ERR_TX_BAD_SIGNATURE);
    assert_int_equal(qcn_tx_verify(txs[0]), want[0]);

    /* Eviction: a 2-entry cache keeps the two most recently used keys. */
    qcn_verify_keycache_set_limits(2, QCN_VERIFY_KEYCACHE_MAX_BYTES);
    qcn_verify_keycache_stats(&st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, KC_KEYS - 2);
    qcn_verify_keycache_clear();
    for (i = 0; i < 3; i++)
        assert_int_equal(qcn_tx_verify(txs[i]), want[i]); /* keys 0,1,2: 3 misses */
    assert_int_equal(qcn_tx_verify(txs[2]), want[2]);     /* hit */
    assert_int_equal(qcn_tx_verify(txs[0]), want[0]);     /* evicted: miss */
    qcn_verify_keycache_stats(&st);
    assert_int_equal(st.misses, 4);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, 2);
    /* A byte cap below one entry: nothing stays, verdicts unchanged. */
    qcn_verify_keycache_set_limits(8, 1000);
    for (i = 0; i < KC_KEYS * 2; i++)
        assert_int_equal(qcn_tx_verify(txs[i]), want[i]);
    qcn_verify_keycache_stats(&st);
    assert_int_equal(st.entries, 0);
    /* Disabled. */
    qcn_verify_keycache_set_limits(0, 0);
    for (i = 0; i < KC_KEYS * 2; i++)
        assert_int_equal(qcn_tx_verify(txs[i]), want[i]);

    /* Concurrency: 4 threads over 5 keys with room for 2, so entries are
     * evicted while other threads still verify with them. */
    qcn_verify_keycache_set_limits(2, QCN_VERIFY_KEYCACHE_MAX_BYTES);
    qcn_verify_keycache_clear();
    for (t = 0; t < KC_THREADS; t++) {
        w[t].txs = wtx[t];
        w[t].want = want;
        w[t].n = KC_KEYS * 2;
        w[t].failures = 0;
    }
    /* qcn_tx_verify writes tx->verified: each thread gets its own copies. */
    for (t = 0; t < KC_THREADS; t++) {
        for (i = 0; i < KC_KEYS * 2; i++) {
            struct qcn_tx *c;
            const struct tkey *kk = &k[i % KC_KEYS];
            tfields(&f, 1, kk->addr, i, kk->addr, 1, kk->scheme);
            assert_int_equal(tsign(&c, &f, kk, 0), QCN_OK);
            if (i % 4 == 3)
                c->sighash[1] ^= 1;
            prepare(c, kk);
            wtx[t][i] = c;
        }
    }
    for (t = 0; t < KC_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, kc_worker_run, &w[t]), 0);
    for (t = 0; t < KC_THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].failures, 0);
    }
    qcn_verify_keycache_stats(&st);
    assert_true(st.entries <= 2);
    assert_int_equal(st.hits + st.misses, (uint64_t)KC_THREADS * KC_ROUNDS * KC_KEYS * 2);
    assert_true(st.evictions > 0);
    for (t = 0; t < KC_THREADS; t++)
        for (i = 0; i < KC_KEYS * 2; i++)
            qcn_tx_unref(wtx[t][i]);
    qcn_verify_keycache_set_limits(QCN_VERIFY_KEYCACHE_MAX_ENTRIES, QCN_VERIFY_KEYCACHE_MAX_BYTES);
    qcn_verify_keycache_clear();
    qcn_verify_keycache_stats(&st);
    assert_int_equal(st.entries, 0);
    for (i = 0; i < KC_KEYS * 2; i++)
        qcn_tx_unref(txs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_batches),
        cmocka_unit_test(test_multisig_verdicts),
        cmocka_unit_test(test_keycache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
