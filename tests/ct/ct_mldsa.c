/* Constant-time check for ML-DSA (secp256k1's valgrind technique): the secret
 * inputs are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, so memcheck
 * reports any branch or memory index that depends on them ("Conditional jump
 * or move depends on uninitialised value", "Use of uninitialised value").
 * Run under `valgrind --error-exitcode=1`; without valgrind it only checks
 * results.
 *
 * Covered, for all three parameter sets and every back end the CPU has:
 * keygen with the seed secret; signing (pure, pre-hash, internal and
 * external-mu interfaces) with the whole secret key and rnd secret, over
 * several messages so that both rejected and accepted iterations run. The
 * library declassifies only what FIPS 204 makes public: rho and tr (they are
 * in / derived from pk), each iteration's rejection decision, the accept
 * pattern of the rejection samplers (it concerns only discarded bytes), and
 * the outputs. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "crypto/mldsa.h"

static const int params[] = {QCN_MLDSA44, QCN_MLDSA65, QCN_MLDSA87};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 31 * i + (i >> 3));
}

static int run_set(int param, uint8_t tag)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES], rnd[QCN_MLDSA_RND_BYTES], mu[QCN_MLDSA_MU_BYTES];
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES], sk[QCN_MLDSA_MAX_SK_BYTES];
    uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES], msg[48], ctx[5] = {'c', 't', 'x', 0, 1};
    const size_t pkn = qcn_mldsa_pk_bytes(param), skn = qcn_mldsa_sk_bytes(param);
    const size_t sign = qcn_mldsa_sig_bytes(param);
    int failures = 0;

    fill(seed, sizeof seed, tag);
    VALGRIND_MAKE_MEM_UNDEFINED(seed, sizeof seed);
    if (qcn_mldsa_keygen(param, pk, sk, seed) != 0)
        failures++;
    /* pk is public output; sk is secret but the test holds it. */
    VALGRIND_MAKE_MEM_DEFINED(pk, pkn);
    VALGRIND_MAKE_MEM_DEFINED(sk, skn);

    for (int m = 0; m < 4; m++) {
        int rc;
        fill(msg, sizeof msg, (uint8_t)(tag + 17 * m));
        fill(rnd, sizeof rnd, (uint8_t)(tag + 101 * m));
        fill(mu, sizeof mu, (uint8_t)(tag + 7 * m));
        VALGRIND_MAKE_MEM_UNDEFINED(sk, skn);
        VALGRIND_MAKE_MEM_UNDEFINED(rnd, sizeof rnd);
        switch (m) {
        case 0:
            rc = qcn_mldsa_sign(param, sig, sk, msg, sizeof msg, ctx, sizeof ctx, QCN_MLDSA_HEDGED,
                                rnd);
            break;
        case 1:
            rc = qcn_mldsa_hash_sign(param, sig, sk, QCN_MLDSA_HASH_SHA3_256, msg, sizeof msg, ctx,
                                     sizeof ctx, QCN_MLDSA_HEDGED, rnd);
            break;
        case 2:
            rc = qcn_mldsa_sign_internal(param, sig, sk, msg, sizeof msg, rnd);
            break;
        default:
            rc = qcn_mldsa_sign_mu(param, sig, sk, mu, rnd);
            break;
        }
        /* The return code and the signature are public. */
        VALGRIND_MAKE_MEM_DEFINED(&rc, sizeof rc);
        VALGRIND_MAKE_MEM_DEFINED(sig, sign);
        VALGRIND_MAKE_MEM_DEFINED(sk, skn);
        if (rc != 0) {
            failures++;
            continue;
        }
        switch (m) {
        case 0:
            rc = qcn_mldsa_verify(param, pk, msg, sizeof msg, ctx, sizeof ctx, sig, sign);
            break;
        case 1:
            rc = qcn_mldsa_hash_verify(param, pk, QCN_MLDSA_HASH_SHA3_256, msg, sizeof msg, ctx,
                                       sizeof ctx, sig, sign);
            break;
        case 2:
            rc = qcn_mldsa_verify_internal(param, pk, msg, sizeof msg, sig, sign);
            break;
        default:
            rc = qcn_mldsa_verify_mu(param, pk, mu, sig, sign);
            break;
        }
        if (rc != 0) {
            fprintf(stderr, "ML-DSA-%d: signature %d does not verify\n", param, m);
            failures++;
        }
    }
    return failures;
}

int main(void)
{
    static const int backends[] = {QCN_MLDSA_BACKEND_PORTABLE, QCN_MLDSA_BACKEND_AVX2};
    int failures = 0, ran = 0;

    for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
        if (qcn_mldsa_backend_set(backends[b]) != 0)
            continue;
        for (size_t p = 0; p < sizeof params / sizeof params[0]; p++)
            failures += run_set(params[p], (uint8_t)(11 * p + 3 * b + 1));
        printf("ML-DSA constant-time run (%s): %d failures\n", qcn_mldsa_backend_name(), failures);
        ran++;
    }
    return failures == 0 && ran > 0 ? 0 : 1;
}
