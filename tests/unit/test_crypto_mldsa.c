/* ML-DSA unit tests: round trips through every interface for all three
 * parameter sets and every back end; tampering, wrong lengths and malformed
 * keys and signatures are rejected without crashing (run under ASan+UBSan
 * too); deterministic signing reproduces, hedged signing does not; the
 * back ends agree with each other. The NIST vectors are in
 * tests/vectors/test_crypto_acvp_mldsa.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/mldsa.h"
#include "crypto/mldsa_internal.h"
#include "crypto/rng.h"

static const int params[] = {QCN_MLDSA44, QCN_MLDSA65, QCN_MLDSA87};
#define NPARAMS (sizeof params / sizeof params[0])

struct keypair {
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES], sk[QCN_MLDSA_MAX_SK_BYTES];
};

static void keypair_make(struct keypair *kp, int param, uint8_t tag)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    memset(seed, tag, sizeof seed);
    seed[0] = (uint8_t)param;
    assert_int_equal(qcn_mldsa_keygen(param, kp->pk, kp->sk, seed), QCN_OK);
}

/* Both back ends where the CPU has them; leaves the automatic choice set to
 * the last one that worked. */
static int backend_count(void)
{
    return qcn_mldsa_backend_set(QCN_MLDSA_BACKEND_AVX2) == QCN_OK ? 2 : 1;
}

static void backend_use(int i)
{
    assert_int_equal(
        qcn_mldsa_backend_set(i == 0 ? QCN_MLDSA_BACKEND_PORTABLE : QCN_MLDSA_BACKEND_AVX2),
        QCN_OK);
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(qcn_mldsa_pk_bytes(QCN_MLDSA44), 1312);
    assert_int_equal(qcn_mldsa_sk_bytes(QCN_MLDSA65), 4032);
    assert_int_equal(qcn_mldsa_sig_bytes(QCN_MLDSA87), 4627);
    assert_int_equal(qcn_mldsa_pk_bytes(42), 0);
    assert_int_equal(qcn_mldsa_sig_bytes(0), 0);
}

static void test_bad_param(void **state)
{
    uint8_t pk[16], sk[16], sig[16], seed[32] = {0}, mu[64] = {0};
    (void)state;
    assert_int_equal(qcn_mldsa_keygen(66, pk, sk, seed), QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mldsa_sign(66, sig, sk, seed, 1, NULL, 0, QCN_MLDSA_HEDGED, NULL),
                     QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mldsa_verify(66, pk, seed, 1, NULL, 0, sig, sizeof sig),
                     QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mldsa_verify_mu(1, pk, mu, sig, sizeof sig), QCN_ERR_BAD_PARAM_SET);
    assert_int_equal(qcn_mldsa_pk_tr(0, mu, pk), QCN_ERR_BAD_PARAM_SET);
}

/* Every interface signs and verifies, on every back end; the back ends give
 * identical keys and signatures. */
static void test_round_trips(void **state)
{
    static const uint8_t msg[] = "QuantumChain Nexus round trip";
    static const uint8_t ctx[] = "ctx";
    uint8_t rnd[QCN_MLDSA_RND_BYTES], mu[QCN_MLDSA_MU_BYTES], tr[QCN_MLDSA_TR_BYTES];
    uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES], first[QCN_MLDSA_MAX_SIG_BYTES];
    struct keypair kp, kp0;
    size_t pi;
    int b, h, nb = backend_count();
    (void)state;
    memset(rnd, 0x5a, sizeof rnd);
    memset(mu, 0xa5, sizeof mu);
    for (pi = 0; pi < NPARAMS; pi++) {
        int param = params[pi];
        size_t siglen = qcn_mldsa_sig_bytes(param);
        for (b = 0; b < nb; b++) {
            backend_use(b);
            keypair_make(&kp, param, 7);
            if (b == 0)
                kp0 = kp;
            assert_memory_equal(kp.pk, kp0.pk, qcn_mldsa_pk_bytes(param));
            assert_memory_equal(kp.sk, kp0.sk, qcn_mldsa_sk_bytes(param));

            assert_int_equal(qcn_mldsa_pk_tr(param, tr, kp.pk), QCN_OK);
            assert_memory_equal(tr, kp.sk + 64, QCN_MLDSA_TR_BYTES);

            assert_int_equal(qcn_mldsa_sign(param, sig, kp.sk, msg, sizeof msg, ctx, sizeof ctx,
                                            QCN_MLDSA_HEDGED, rnd),
                             QCN_OK);
            if (b == 0)
                memcpy(first, sig, siglen);
            assert_memory_equal(sig, first, siglen);
            assert_int_equal(
                qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                QCN_OK);

            /* Empty message and context, NULL pointers allowed for them. */
            assert_int_equal(
                qcn_mldsa_sign(param, sig, kp.sk, NULL, 0, NULL, 0, QCN_MLDSA_HEDGED, NULL),
                QCN_OK);
            assert_int_equal(qcn_mldsa_verify(param, kp.pk, NULL, 0, NULL, 0, sig, siglen), QCN_OK);

            for (h = QCN_MLDSA_HASH_SHA2_224; h <= QCN_MLDSA_HASH_SHAKE256; h++) {
                assert_int_equal(qcn_mldsa_hash_sign(param, sig, kp.sk, h, msg, sizeof msg, ctx,
                                                     sizeof ctx, QCN_MLDSA_DETERMINISTIC, NULL),
                                 QCN_OK);
                assert_int_equal(qcn_mldsa_hash_verify(param, kp.pk, h, msg, sizeof msg, ctx,
                                                       sizeof ctx, sig, siglen),
                                 QCN_OK);
                /* A different hash function is a different message. */
                assert_int_equal(
                    qcn_mldsa_hash_verify(param, kp.pk, h == QCN_MLDSA_HASH_SHA2_224 ? h + 1 : 0,
                                          msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                    QCN_ERR_BAD_SIGNATURE);
                /* Pure and pre-hash signatures are domain separated. */
                assert_int_equal(
                    qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                    QCN_ERR_BAD_SIGNATURE);
            }
            assert_int_equal(qcn_mldsa_hash_sign(param, sig, kp.sk, 12, msg, sizeof msg, NULL, 0,
                                                 QCN_MLDSA_HEDGED, NULL),
                             QCN_ERR_INVALID_ARG);

            assert_int_equal(qcn_mldsa_sign_internal(param, sig, kp.sk, msg, sizeof msg, rnd),
                             QCN_OK);
            assert_int_equal(qcn_mldsa_verify_internal(param, kp.pk, msg, sizeof msg, sig, siglen),
                             QCN_OK);
            assert_int_equal(qcn_mldsa_sign_mu(param, sig, kp.sk, mu, rnd), QCN_OK);
            assert_int_equal(qcn_mldsa_verify_mu(param, kp.pk, mu, sig, siglen), QCN_OK);
            mu[3] ^= 1;
            assert_int_equal(qcn_mldsa_verify_mu(param, kp.pk, mu, sig, siglen),
                             QCN_ERR_BAD_SIGNATURE);
            mu[3] ^= 1;
        }
    }
}

/* The pure interface is Sign_internal on M' = 0 || |ctx| || ctx || M. */
static void test_pure_is_internal_on_mprime(void **state)
{
    uint8_t sig1[QCN_MLDSA_MAX_SIG_BYTES], sig2[QCN_MLDSA_MAX_SIG_BYTES], mp[2 + 3 + 5];
    uint8_t rnd[QCN_MLDSA_RND_BYTES] = {1, 2, 3};
    struct keypair kp;
    (void)state;
    keypair_make(&kp, QCN_MLDSA65, 9);
    mp[0] = 0;
    mp[1] = 3;
    memcpy(mp + 2, "abc", 3);
    memcpy(mp + 5, "hello", 5);
    assert_int_equal(qcn_mldsa_sign(QCN_MLDSA65, sig1, kp.sk, (const uint8_t *)"hello", 5,
                                    (const uint8_t *)"abc", 3, QCN_MLDSA_HEDGED, rnd),
                     QCN_OK);
    assert_int_equal(qcn_mldsa_sign_internal(QCN_MLDSA65, sig2, kp.sk, mp, sizeof mp, rnd), QCN_OK);
    assert_memory_equal(sig1, sig2, QCN_MLDSA65_SIG_BYTES);
}

static void test_tampering_rejected(void **state)
{
    uint8_t msg[64], ctx[16], sig[QCN_MLDSA_MAX_SIG_BYTES];
    struct keypair kp;
    size_t pi, i;
    (void)state;
    for (i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7);
    memset(ctx, 0xc1, sizeof ctx);
    for (pi = 0; pi < NPARAMS; pi++) {
        int param = params[pi];
        size_t siglen = qcn_mldsa_sig_bytes(param), pklen = qcn_mldsa_pk_bytes(param);
        keypair_make(&kp, param, 3);
        assert_int_equal(qcn_mldsa_sign(param, sig, kp.sk, msg, sizeof msg, ctx, sizeof ctx,
                                        QCN_MLDSA_HEDGED, NULL),
                         QCN_OK);
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen), QCN_OK);
        msg[5] ^= 0x10;
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
            QCN_ERR_BAD_SIGNATURE);
        msg[5] ^= 0x10;
        ctx[0] ^= 1;
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
            QCN_ERR_BAD_SIGNATURE);
        ctx[0] ^= 1;
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx - 1, sig, siglen),
            QCN_ERR_BAD_SIGNATURE);
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, sig, siglen),
                         QCN_ERR_BAD_SIGNATURE);
        /* A flipped bit anywhere in the signature: challenge, z, hints. */
        for (i = 0; i < siglen; i += 97) {
            sig[i] ^= 0x04;
            assert_int_equal(
                qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                QCN_ERR_BAD_SIGNATURE);
            sig[i] ^= 0x04;
        }
        sig[siglen - 1] ^= 0x01;
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
            QCN_ERR_BAD_SIGNATURE);
        sig[siglen - 1] ^= 0x01;
        /* A different key. */
        kp.pk[40] ^= 0x08;
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
            QCN_ERR_BAD_SIGNATURE);
        kp.pk[40] ^= 0x08;
        assert_int_equal(
            qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen), QCN_OK);
        (void)pklen;
    }
}

static void test_wrong_lengths(void **state)
{
    uint8_t ctx[256] = {0}, msg[8] = {0}, *sig;
    struct keypair kp;
    size_t siglen = QCN_MLDSA44_SIG_BYTES;
    (void)state;
    sig = malloc(QCN_MLDSA_MAX_SIG_BYTES + 1);
    assert_non_null(sig);
    keypair_make(&kp, QCN_MLDSA44, 4);
    assert_int_equal(
        qcn_mldsa_sign(QCN_MLDSA44, sig, kp.sk, msg, sizeof msg, ctx, 255, QCN_MLDSA_HEDGED, NULL),
        QCN_OK);
    assert_int_equal(qcn_mldsa_verify(QCN_MLDSA44, kp.pk, msg, sizeof msg, ctx, 255, sig, siglen),
                     QCN_OK);
    /* The buffer is exactly siglen + 1 long under ASan when we pass +1. */
    assert_int_equal(
        qcn_mldsa_verify(QCN_MLDSA44, kp.pk, msg, sizeof msg, ctx, 255, sig, siglen - 1),
        QCN_ERR_BAD_SIGNATURE);
    assert_int_equal(
        qcn_mldsa_verify(QCN_MLDSA44, kp.pk, msg, sizeof msg, ctx, 255, sig, siglen + 1),
        QCN_ERR_BAD_SIGNATURE);
    assert_int_equal(qcn_mldsa_verify(QCN_MLDSA44, kp.pk, msg, sizeof msg, ctx, 255, sig, 0),
                     QCN_ERR_BAD_SIGNATURE);
    assert_int_equal(
        qcn_mldsa_verify(QCN_MLDSA44, kp.pk, msg, sizeof msg, ctx, 255, sig, QCN_MLDSA65_SIG_BYTES),
        QCN_ERR_BAD_SIGNATURE);
    /* Context of 256 bytes: refused on both sides, and sig is zeroed. */
    assert_int_equal(
        qcn_mldsa_sign(QCN_MLDSA44, sig, kp.sk, msg, sizeof msg, ctx, 256, QCN_MLDSA_HEDGED, NULL),
        QCN_ERR_CONTEXT_TOO_LONG);
    for (size_t i = 0; i < siglen; i++)
        assert_int_equal(sig[i], 0);
    assert_int_equal(qcn_mldsa_verify(QCN_MLDSA44, kp.pk, msg, sizeof msg, ctx, 256, sig, siglen),
                     QCN_ERR_CONTEXT_TOO_LONG);
    assert_int_equal(qcn_mldsa_hash_verify(QCN_MLDSA44, kp.pk, QCN_MLDSA_HASH_SHA2_256, msg,
                                           sizeof msg, ctx, 300, sig, siglen),
                     QCN_ERR_CONTEXT_TOO_LONG);
    /* An unknown rnd mode is refused. */
    assert_int_equal(qcn_mldsa_sign(QCN_MLDSA44, sig, kp.sk, msg, sizeof msg, NULL, 0, 7, NULL),
                     QCN_ERR_INVALID_ARG);
    free(sig);
}

static void test_deterministic_and_hedged(void **state)
{
    uint8_t a[QCN_MLDSA_MAX_SIG_BYTES], b[QCN_MLDSA_MAX_SIG_BYTES], zero[32] = {0};
    static const uint8_t msg[] = "same message";
    struct keypair kp;
    size_t pi;
    (void)state;
    for (pi = 0; pi < NPARAMS; pi++) {
        int param = params[pi];
        size_t siglen = qcn_mldsa_sig_bytes(param);
        keypair_make(&kp, param, 5);
        assert_int_equal(qcn_mldsa_sign(param, a, kp.sk, msg, sizeof msg, NULL, 0,
                                        QCN_MLDSA_DETERMINISTIC, NULL),
                         QCN_OK);
        assert_int_equal(qcn_mldsa_sign(param, b, kp.sk, msg, sizeof msg, NULL, 0,
                                        QCN_MLDSA_DETERMINISTIC, NULL),
                         QCN_OK);
        assert_memory_equal(a, b, siglen);
        /* Deterministic means rnd = 0^32. */
        assert_int_equal(
            qcn_mldsa_sign(param, b, kp.sk, msg, sizeof msg, NULL, 0, QCN_MLDSA_HEDGED, zero),
            QCN_OK);
        assert_memory_equal(a, b, siglen);
        assert_int_equal(
            qcn_mldsa_sign(param, a, kp.sk, msg, sizeof msg, NULL, 0, QCN_MLDSA_HEDGED, NULL),
            QCN_OK);
        assert_int_equal(
            qcn_mldsa_sign(param, b, kp.sk, msg, sizeof msg, NULL, 0, QCN_MLDSA_HEDGED, NULL),
            QCN_OK);
        assert_memory_not_equal(a, b, siglen);
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, a, siglen),
                         QCN_OK);
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, b, siglen),
                         QCN_OK);
    }
}

/* Hint encodings FIPS 204 Alg 21 refuses, built from a valid signature. */
static void test_malformed_hints(void **state)
{
    static const struct {
        int param;
        unsigned k, omega;
    } sets[] = {{QCN_MLDSA44, 4, 80}, {QCN_MLDSA65, 6, 55}, {QCN_MLDSA87, 8, 75}};
    uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES], bad[QCN_MLDSA_MAX_SIG_BYTES], msg[4] = {1, 2, 3, 4};
    uint8_t re[QCN_MLDSA_MAX_SIG_BYTES];
    struct keypair kp;
    size_t si;
    (void)state;
    for (si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        int param = sets[si].param;
        size_t siglen = qcn_mldsa_sig_bytes(param);
        unsigned k = sets[si].k, omega = sets[si].omega, i, total, tries;
        uint8_t *h;
        /* Find a signature with at least two hints in one row. */
        keypair_make(&kp, param, 11);
        for (tries = 0;; tries++) {
            msg[0] = (uint8_t)tries;
            assert_int_equal(qcn_mldsa_sign(param, sig, kp.sk, msg, sizeof msg, NULL, 0,
                                            QCN_MLDSA_DETERMINISTIC, NULL),
                             QCN_OK);
            h = sig + siglen - omega - k;
            if (h[omega] >= 2)
                break;
            assert_true(tries < 200);
        }
        total = h[omega + k - 1];
        assert_true(total <= omega);
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, sig, siglen),
                         QCN_OK);
        assert_int_equal(qcn_mldsa_sig_reencode(param, re, sig, siglen), 0);
        assert_memory_equal(re, sig, siglen);

        /* Indices not strictly increasing within a row. */
        memcpy(bad, sig, siglen);
        bad[siglen - omega - k + 1] = bad[siglen - omega - k];
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, bad, siglen),
                         QCN_ERR_BAD_SIGNATURE);
        assert_int_equal(qcn_mldsa_sig_reencode(param, re, bad, siglen), -1);
        /* A row count above omega. */
        memcpy(bad, sig, siglen);
        bad[siglen - k] = (uint8_t)(omega + 1);
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, bad, siglen),
                         QCN_ERR_BAD_SIGNATURE);
        /* Counts that decrease. */
        memcpy(bad, sig, siglen);
        bad[siglen - k] = (uint8_t)(bad[siglen - k + 1] + 1);
        if (bad[siglen - k] <= omega) {
            assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, bad, siglen),
                             QCN_ERR_BAD_SIGNATURE);
        }
        bad[siglen - k] = 0xff;
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, bad, siglen),
                         QCN_ERR_BAD_SIGNATURE);
        /* Non-zero padding after the last index. */
        if (total < omega) {
            memcpy(bad, sig, siglen);
            bad[siglen - omega - k + omega - 1] = 1;
            assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, bad, siglen),
                             QCN_ERR_BAD_SIGNATURE);
            assert_int_equal(qcn_mldsa_sig_reencode(param, re, bad, siglen), -1);
        }
        /* ||z|| at the bound: z = gamma1 - field, so field 0 gives z = gamma1. */
        memcpy(bad, sig, siglen);
        for (i = 0; i < 3; i++)
            bad[siglen - omega - k - 1 - i] = 0;
        assert_int_equal(qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, NULL, 0, bad, siglen),
                         QCN_ERR_BAD_SIGNATURE);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint8_t rand8(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint8_t)(rng_state >> 24);
}

/* Random public keys and signatures: always a clean answer, never a crash
 * (ASan watches the reads). */
static void test_garbage_never_crashes(void **state)
{
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES], sk[QCN_MLDSA_MAX_SK_BYTES];
    uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES], msg[3] = {9, 9, 9};
    struct keypair kp;
    size_t pi, i;
    int round;
    (void)state;
    for (pi = 0; pi < NPARAMS; pi++) {
        int param = params[pi];
        size_t siglen = qcn_mldsa_sig_bytes(param), pklen = qcn_mldsa_pk_bytes(param);
        size_t sklen = qcn_mldsa_sk_bytes(param);
        for (round = 0; round < 20; round++) {
            uint8_t *exact = malloc(siglen);
            assert_non_null(exact);
            for (i = 0; i < pklen; i++)
                pk[i] = rand8();
            for (i = 0; i < siglen; i++)
                exact[i] = rand8();
            /* Half the time make the hint section well formed (all zero)
             * so the arithmetic path runs on garbage too. */
            if (round & 1)
                memset(exact + siglen - 90, 0, 90);
            assert_int_equal(qcn_mldsa_verify(param, pk, msg, sizeof msg, NULL, 0, exact, siglen),
                             QCN_ERR_BAD_SIGNATURE);
            free(exact);
        }
        /* A secret key whose s1 coefficients are out of range. */
        keypair_make(&kp, param, 6);
        memcpy(sk, kp.sk, sklen);
        memset(sk + 128, 0xff, 32);
        assert_int_equal(
            qcn_mldsa_sign(param, sig, sk, msg, sizeof msg, NULL, 0, QCN_MLDSA_DETERMINISTIC, NULL),
            QCN_ERR_BAD_KEY);
        for (i = 0; i < siglen; i++)
            assert_int_equal(sig[i], 0);
        assert_int_equal(qcn_mldsa_sk_reencode(param, sk, sk, sklen), -1);
        assert_int_equal(qcn_mldsa_sk_reencode(param, sk, kp.sk, sklen), 0);
        assert_memory_equal(sk, kp.sk, sklen);
        assert_int_equal(qcn_mldsa_pk_reencode(param, pk, kp.pk, pklen), 0);
        assert_memory_equal(pk, kp.pk, pklen);
        assert_int_equal(qcn_mldsa_pk_reencode(param, pk, kp.pk, pklen - 1), -1);
    }
}

/* Decompose's multiply-and-shift division against plain division, for every
 * a in [0, q) and both gamma2 (FIPS 204 Alg 36). */
static void test_decompose_exhaustive(void **state)
{
    static const unsigned g2s[] = {(QCN_MLDSA_Q - 1) / 88, (QCN_MLDSA_Q - 1) / 32};
    size_t gi;
    (void)state;
    for (gi = 0; gi < 2; gi++) {
        int32_t g2 = (int32_t)g2s[gi], a;
        for (a = 0; a < QCN_MLDSA_Q; a++) {
            int32_t a0, a1 = qcn_mldsa_decompose(&a0, a, g2s[gi]);
            int32_t r0 = a % (2 * g2), r1;
            if (r0 > g2)
                r0 -= 2 * g2;
            if (a - r0 == QCN_MLDSA_Q - 1) {
                r1 = 0;
                r0 -= 1;
            } else {
                r1 = (a - r0) / (2 * g2);
            }
            if (a0 != r0 || a1 != r1)
                fail_msg("decompose(%d, %d) = (%d, %d), want (%d, %d)", a, g2, a1, a0, r1, r0);
        }
    }
}

static int32_t modq(int64_t a)
{
    int64_t r = a % QCN_MLDSA_Q;
    return (int32_t)(r < 0 ? r + QCN_MLDSA_Q : r);
}

/* Each back end's NTT, inverse NTT and pointwise products agree with the
 * portable ones mod q, and invntt(pointwise(ntt a, ntt b)) is the negacyclic
 * product a*b. */
static void test_backend_arithmetic(void **state)
{
    struct qcn_mldsa_poly a, b, c, ref, na, nb;
    int bi, nbk = backend_count(), round;
    unsigned i, j;
    (void)state;
    for (round = 0; round < 4; round++) {
        /* Schoolbook negacyclic product as the oracle. */
        for (i = 0; i < QCN_MLDSA_N; i++) {
            a.c[i] =
                (int32_t)((rand8() | (rand8() << 8) | ((rand8() & 0x7f) << 16)) % QCN_MLDSA_Q) -
                (QCN_MLDSA_Q - 1) / 2;
            b.c[i] = (int32_t)(rand8() % 9) - 4;
        }
        for (i = 0; i < QCN_MLDSA_N; i++) {
            int64_t s = 0;
            for (j = 0; j <= i; j++)
                s += (int64_t)a.c[j] * b.c[i - j];
            for (j = i + 1; j < QCN_MLDSA_N; j++)
                s -= (int64_t)a.c[j] * b.c[QCN_MLDSA_N + i - j];
            ref.c[i] = modq(s);
        }
        for (bi = 0; bi < nbk; bi++) {
            const struct qcn_mldsa_impl *im;
            backend_use(bi);
            im = qcn_mldsa_impl_get();
            na = a;
            nb = b;
            im->ntt(na.c);
            im->ntt(nb.c);
            for (i = 0; i < QCN_MLDSA_N; i++)
                assert_true(na.c[i] < 9 * QCN_MLDSA_Q && na.c[i] > -9 * QCN_MLDSA_Q);
            im->pointwise(c.c, na.c, nb.c);
            im->invntt(c.c);
            for (i = 0; i < QCN_MLDSA_N; i++) {
                assert_true(c.c[i] < QCN_MLDSA_Q && c.c[i] > -QCN_MLDSA_Q);
                assert_int_equal(modq(c.c[i]), ref.c[i]);
            }
            im->pointwise(c.c, na.c, nb.c);
            im->pointwise_acc(c.c, na.c, nb.c);
            im->invntt(c.c);
            for (i = 0; i < QCN_MLDSA_N; i++)
                assert_int_equal(modq(c.c[i]), modq(2 * (int64_t)ref.c[i]));
        }
    }
}

/* Every back end's NTT and inverse NTT give exactly the portable integers
 * (the same operations in the same order), and its coefficient kernels give
 * exactly the portable results, on random inputs and edge values. */
static void test_backend_bit_identical(void **state)
{
    const struct qcn_mldsa_impl *ref = &qcn_mldsa_impl_portable, *im;
    static const unsigned g2s[] = {(QCN_MLDSA_Q - 1) / 88, (QCN_MLDSA_Q - 1) / 32};
    struct qcn_mldsa_poly a, b, x, y, u, v;
    uint8_t h1[QCN_MLDSA_N], h2[QCN_MLDSA_N];
    int round;
    unsigned i, gi;
    (void)state;
    if (backend_count() < 2)
        skip();
    backend_use(1);
    im = qcn_mldsa_impl_get();
    for (round = 0; round < 40; round++) {
        for (i = 0; i < QCN_MLDSA_N; i++) {
            uint32_t r = (uint32_t)rand8() | ((uint32_t)rand8() << 8) | ((uint32_t)rand8() << 16);
            a.c[i] = (int32_t)(r % (2 * QCN_MLDSA_Q - 1)) - (QCN_MLDSA_Q - 1);
            b.c[i] = (int32_t)(r % QCN_MLDSA_Q);
        }
        /* Edges: 0, q - 1, the decompose wrap region, +-(q - 1). */
        a.c[0] = QCN_MLDSA_Q - 1, a.c[1] = -(QCN_MLDSA_Q - 1), a.c[2] = 0;
        b.c[0] = QCN_MLDSA_Q - 1, b.c[1] = 0, b.c[2] = QCN_MLDSA_Q - 2, b.c[3] = 95232;
        b.c[4] = 261888, b.c[5] = 261889, b.c[6] = QCN_MLDSA_Q - 95232;

        x = a, y = a;
        ref->ntt(x.c), im->ntt(y.c);
        assert_memory_equal(x.c, y.c, sizeof x.c);
        ref->invntt(x.c), im->invntt(y.c);
        assert_memory_equal(x.c, y.c, sizeof x.c);

        x = a, y = a;
        ref->reduce(x.c), im->reduce(y.c);
        assert_memory_equal(x.c, y.c, sizeof x.c);
        ref->add_reduce(x.c, a.c, b.c), im->add_reduce(y.c, a.c, b.c);
        assert_memory_equal(x.c, y.c, sizeof x.c);
        ref->sub_freeze(x.c, a.c, b.c), im->sub_freeze(y.c, a.c, b.c);
        assert_memory_equal(x.c, y.c, sizeof x.c);
        for (i = 0; i < QCN_MLDSA_N; i++)
            assert_true(x.c[i] >= 0 && x.c[i] < QCN_MLDSA_Q);
        for (gi = 0; gi < 2; gi++) {
            int32_t bound = (int32_t)(rand8() % 200) + (round == 0 ? QCN_MLDSA_Q : 1) * 100;
            x = a, y = a;
            ref->freeze_highbits(u.c, x.c, g2s[gi]);
            im->freeze_highbits(v.c, y.c, g2s[gi]);
            assert_memory_equal(x.c, y.c, sizeof x.c);
            assert_memory_equal(u.c, v.c, sizeof u.c);
            ref->lowbits(u.c, b.c, g2s[gi]), im->lowbits(v.c, b.c, g2s[gi]);
            assert_memory_equal(u.c, v.c, sizeof u.c);
            x = a;
            ref->reduce(x.c);
            assert_int_equal(ref->exceeds(x.c, bound), im->exceeds(x.c, bound));
            assert_int_equal(ref->exceeds(u.c, (int32_t)g2s[gi] + 1), 0);
            assert_int_equal(im->exceeds(u.c, (int32_t)g2s[gi] + 1), 0);
            assert_int_equal(im->exceeds(u.c, (int32_t)g2s[gi]), 1);
            /* ct0-like small values so hints are sparse but present. */
            for (i = 0; i < QCN_MLDSA_N; i++)
                y.c[i] = (int32_t)(rand8() % 64) - 32 + (i % 7 == 0 ? (int32_t)g2s[gi] : 0);
            assert_int_equal(ref->make_hint(h1, b.c, y.c, g2s[gi]),
                             im->make_hint(h2, b.c, y.c, g2s[gi]));
            assert_memory_equal(h1, h2, sizeof h1);
            ref->use_hint(u.c, a.c, h1, g2s[gi]), im->use_hint(v.c, a.c, h1, g2s[gi]);
            assert_memory_equal(u.c, v.c, sizeof u.c);
        }
    }
}

/* The batched samplers of each back end match the portable single ones,
 * including skipped (NULL) lanes. */
static void test_backend_samplers(void **state)
{
    struct qcn_mldsa_poly out[4], ref;
    uint8_t seed[64];
    uint16_t nonce[4] = {0, 0x0102, 0x0703, 0xffff};
    int bi, nbk = backend_count(), eta, g;
    unsigned i;
    (void)state;
    for (i = 0; i < sizeof seed; i++)
        seed[i] = rand8();
    for (bi = 0; bi < nbk; bi++) {
        const struct qcn_mldsa_impl *im;
        struct qcn_mldsa_poly *o[4] = {&out[0], &out[1], NULL, &out[3]};
        backend_use(bi);
        im = qcn_mldsa_impl_get();
        im->uniform_4x(o, seed, nonce);
        for (i = 0; i < 4; i++) {
            if (o[i] == NULL)
                continue;
            qcn_mldsa_poly_uniform_ref(&ref, seed, nonce[i]);
            assert_memory_equal(out[i].c, ref.c, sizeof ref.c);
        }
        for (eta = 2; eta <= 4; eta += 2) {
            im->eta_4x(o, seed, nonce, eta);
            for (i = 0; i < 4; i++) {
                if (o[i] == NULL)
                    continue;
                qcn_mldsa_poly_eta_ref(&ref, seed, nonce[i], eta);
                assert_memory_equal(out[i].c, ref.c, sizeof ref.c);
            }
        }
        for (g = 17; g <= 19; g += 2) {
            im->gamma1_4x(o, seed, nonce, g);
            for (i = 0; i < 4; i++) {
                if (o[i] == NULL)
                    continue;
                qcn_mldsa_poly_gamma1_ref(&ref, seed, nonce[i], g);
                assert_memory_equal(out[i].c, ref.c, sizeof ref.c);
            }
        }
    }
}

/* The expanded-key verifier agrees with qcn_mldsa_verify on valid, tampered
 * and random signatures, under a random and a tampered key, for every
 * parameter set and back end (the key expanded under one back end and used
 * under the other too). */
static void test_expanded_agrees(void **state)
{
    uint8_t msg[48], ctx[8], sig[QCN_MLDSA_MAX_SIG_BYTES], pk2[QCN_MLDSA_MAX_PK_BYTES];
    struct keypair kp;
    size_t pi, i;
    int b, nb = backend_count();
    (void)state;
    for (i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 13 + 1);
    memset(ctx, 0x5a, sizeof ctx);
    for (pi = 0; pi < NPARAMS; pi++) {
        int param = params[pi];
        size_t siglen = qcn_mldsa_sig_bytes(param), pklen = qcn_mldsa_pk_bytes(param);
        size_t xb = qcn_mldsa_pk_expanded_bytes(param);
        struct qcn_mldsa_pk_expanded *x = aligned_alloc(32, xb), *x2 = aligned_alloc(32, xb);
        assert_non_null(x);
        assert_non_null(x2);
        assert_int_equal(xb % 32, 0);
        keypair_make(&kp, param, 9);
        assert_int_equal(qcn_mldsa_pk_expand(param, x, kp.pk, pklen - 1), QCN_ERR_BAD_KEY);
        assert_int_equal(qcn_mldsa_pk_expand(66, x, kp.pk, pklen), QCN_ERR_BAD_PARAM_SET);
        for (b = 0; b < nb; b++) {
            backend_use(b);
            assert_int_equal(qcn_mldsa_pk_expand(param, x, kp.pk, pklen), QCN_OK);
            backend_use(nb - 1 - b); /* verify under the other back end */
            assert_int_equal(qcn_mldsa_sign(param, sig, kp.sk, msg, sizeof msg, ctx, sizeof ctx,
                                            QCN_MLDSA_HEDGED, NULL),
                             QCN_OK);
            assert_int_equal(
                qcn_mldsa_verify_expanded(x, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                QCN_OK);
            assert_int_equal(qcn_mldsa_verify_expanded(x, msg, sizeof msg, ctx, 256, sig, siglen),
                             QCN_ERR_CONTEXT_TOO_LONG);
            assert_int_equal(
                qcn_mldsa_verify_expanded(x, msg, sizeof msg, ctx, sizeof ctx, sig, siglen - 1),
                QCN_ERR_BAD_SIGNATURE);
            /* Tampered signatures, message: same verdict as the plain path. */
            for (i = 0; i < siglen; i += 61) {
                int plain, ex;
                sig[i] ^= (uint8_t)(1u << (i % 8));
                plain =
                    qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen);
                ex = qcn_mldsa_verify_expanded(x, msg, sizeof msg, ctx, sizeof ctx, sig, siglen);
                assert_int_equal(ex, plain);
                assert_int_equal(ex, QCN_ERR_BAD_SIGNATURE);
                sig[i] ^= (uint8_t)(1u << (i % 8));
            }
            msg[3] ^= 1;
            assert_int_equal(
                qcn_mldsa_verify_expanded(x, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                QCN_ERR_BAD_SIGNATURE);
            msg[3] ^= 1;
            /* Random signatures. */
            for (i = 0; i < 8; i++) {
                qcn_rng_bytes(sig, siglen);
                assert_int_equal(
                    qcn_mldsa_verify_expanded(x, msg, sizeof msg, ctx, sizeof ctx, sig, siglen),
                    qcn_mldsa_verify(param, kp.pk, msg, sizeof msg, ctx, sizeof ctx, sig, siglen));
            }
            /* A tampered key, and the internal interface on M'. */
            assert_int_equal(qcn_mldsa_sign(param, sig, kp.sk, msg, sizeof msg, NULL, 0,
                                            QCN_MLDSA_DETERMINISTIC, NULL),
                             QCN_OK);
            memcpy(pk2, kp.pk, pklen);
            pk2[pklen - 7] ^= 0x20;
            assert_int_equal(qcn_mldsa_pk_expand(param, x2, pk2, pklen), QCN_OK);
            assert_int_equal(qcn_mldsa_verify_expanded(x2, msg, sizeof msg, NULL, 0, sig, siglen),
                             QCN_ERR_BAD_SIGNATURE);
            assert_int_equal(qcn_mldsa_verify(param, pk2, msg, sizeof msg, NULL, 0, sig, siglen),
                             QCN_ERR_BAD_SIGNATURE);
            {
                uint8_t mp[2 + sizeof msg];
                mp[0] = 0;
                mp[1] = 0;
                memcpy(mp + 2, msg, sizeof msg);
                assert_int_equal(qcn_mldsa_verify_internal_expanded(x, mp, sizeof mp, sig, siglen),
                                 QCN_OK);
                mp[2] ^= 1;
                assert_int_equal(qcn_mldsa_verify_internal_expanded(x, mp, sizeof mp, sig, siglen),
                                 QCN_ERR_BAD_SIGNATURE);
            }
        }
        free(x);
        free(x2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bad_param),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_pure_is_internal_on_mprime),
        cmocka_unit_test(test_tampering_rejected),
        cmocka_unit_test(test_expanded_agrees),
        cmocka_unit_test(test_wrong_lengths),
        cmocka_unit_test(test_deterministic_and_hedged),
        cmocka_unit_test(test_malformed_hints),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_decompose_exhaustive),
        cmocka_unit_test(test_backend_arithmetic),
        cmocka_unit_test(test_backend_bit_identical),
        cmocka_unit_test(test_backend_samplers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
