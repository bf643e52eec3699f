/* mldsa.h - ML-DSA (FIPS 204) signatures: ML-DSA-44, ML-DSA-65, ML-DSA-87.
 *
 * Keys and signatures are the FIPS 204 byte encodings (pkEncode, skEncode,
 * sigEncode). Every function is thread-safe and allocates nothing on the heap;
 * secret intermediates on the stack are wiped before returning. Callers that
 * hold a signing key for long keep it in qcn_secure_alloc() memory.
 * Stack use: about 160 KiB to sign (the expanded matrix A plus the signing
 * state, ML-DSA-87), about 50 KiB for key generation or verification; run
 * them on threads with ordinary (>= 256 KiB) stacks.
 *
 * Signing and key generation are constant time (no branch or memory index
 * depends on a secret; checked under valgrind by tests/ct/ct_mldsa.c); only
 * the number of signing iterations varies, as FIPS 204 allows. The
 * arithmetic runs on a portable C back end or, when the CPU has AVX2, an
 * AVX2 one (qcn_mldsa_backend_set below); both give identical bytes.
 *
 * Interfaces (FIPS 204 section numbers):
 *  - pure ML-DSA with a context string (Alg 2/3, §5.2-5.3)      qcn_mldsa_sign/verify
 *  - HashML-DSA pre-hash (Alg 4/5, §5.4)                        qcn_mldsa_hash_sign/verify
 *  - internal interface on M' (Alg 7/8, §6.2-6.3), or on an
 *    externally computed mu (the "external mu" variant)       qcn_mldsa_sign_internal/...
 * Signing is hedged by default (fresh 32-byte rnd); pass QCN_MLDSA_DETERMINISTIC
 * for rnd = 0^32, or give rnd explicitly (test vectors). */
#ifndef QCN_CRYPTO_MLDSA_H
#define QCN_CRYPTO_MLDSA_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum qcn_mldsa_param {
    QCN_MLDSA44 = 44,
    QCN_MLDSA65 = 65,
    QCN_MLDSA87 = 87,
};

#define QCN_MLDSA44_PK_BYTES 1312
#define QCN_MLDSA44_SK_BYTES 2560
#define QCN_MLDSA44_SIG_BYTES 2420
#define QCN_MLDSA65_PK_BYTES 1952
#define QCN_MLDSA65_SK_BYTES 4032
#define QCN_MLDSA65_SIG_BYTES 3309
#define QCN_MLDSA87_PK_BYTES 2592
#define QCN_MLDSA87_SK_BYTES 4896
#define QCN_MLDSA87_SIG_BYTES 4627
#define QCN_MLDSA_MAX_PK_BYTES QCN_MLDSA87_PK_BYTES
#define QCN_MLDSA_MAX_SK_BYTES QCN_MLDSA87_SK_BYTES
#define QCN_MLDSA_MAX_SIG_BYTES QCN_MLDSA87_SIG_BYTES
#define QCN_MLDSA_SEED_BYTES 32
#define QCN_MLDSA_RND_BYTES 32
#define QCN_MLDSA_MU_BYTES 64
#define QCN_MLDSA_TR_BYTES 64
#define QCN_MLDSA_MAX_CTX_BYTES 255

/* How a signature's 32-byte rnd is chosen (FIPS 204 Alg 2 line 5). */
enum qcn_mldsa_rnd_mode {
    QCN_MLDSA_HEDGED = 0,        /* fresh randomness from qcn_rng_bytes */
    QCN_MLDSA_DETERMINISTIC = 1, /* rnd = 32 zero bytes */
};

/* Pre-hash functions accepted by HashML-DSA (FIPS 204 §5.4, with their OIDs). */
enum qcn_mldsa_hash {
    QCN_MLDSA_HASH_SHA2_224,
    QCN_MLDSA_HASH_SHA2_256,
    QCN_MLDSA_HASH_SHA2_384,
    QCN_MLDSA_HASH_SHA2_512,
    QCN_MLDSA_HASH_SHA2_512_224,
    QCN_MLDSA_HASH_SHA2_512_256,
    QCN_MLDSA_HASH_SHA3_224,
    QCN_MLDSA_HASH_SHA3_256,
    QCN_MLDSA_HASH_SHA3_384,
    QCN_MLDSA_HASH_SHA3_512,
    QCN_MLDSA_HASH_SHAKE128, /* 32-byte output */
    QCN_MLDSA_HASH_SHAKE256, /* 64-byte output */
};

/* Sizes for a parameter set, or 0 if param is not one of the enum values. */
size_t qcn_mldsa_pk_bytes(int param);
size_t qcn_mldsa_sk_bytes(int param);
size_t qcn_mldsa_sig_bytes(int param);

/* ML-DSA.KeyGen_internal (Alg 6) from a 32-byte seed xi. pk and sk must hold
 * the parameter set's sizes. QCN_ERR_BAD_PARAM_SET for an unknown param. */
QCN_MUST_CHECK int qcn_mldsa_keygen(int param, uint8_t *pk, uint8_t *sk,
                                    const uint8_t seed[QCN_MLDSA_SEED_BYTES]);

/* ML-DSA.Sign (Alg 2) of msg under ctx (ctxlen <= 255). sig gets
 * qcn_mldsa_sig_bytes(param) bytes. rnd == NULL chooses rnd by mode; a
 * non-NULL rnd is used as given (mode ignored). QCN_ERR_CONTEXT_TOO_LONG,
 * QCN_ERR_BAD_PARAM_SET, QCN_ERR_BAD_KEY (sk fails to decode). sig is zeroed
 * on failure. */
QCN_MUST_CHECK int qcn_mldsa_sign(int param, uint8_t *sig, const uint8_t *sk, const uint8_t *msg,
                                  size_t msglen, const uint8_t *ctx, size_t ctxlen, int mode,
                                  const uint8_t *rnd);

/* ML-DSA.Verify (Alg 3). QCN_OK if valid; QCN_ERR_BAD_SIGNATURE for an
 * invalid signature, a wrong-length signature or a malformed public key;
 * QCN_ERR_CONTEXT_TOO_LONG; QCN_ERR_BAD_PARAM_SET. Never reads past siglen. */
QCN_MUST_CHECK int qcn_mldsa_verify(int param, const uint8_t *pk, const uint8_t *msg, size_t msglen,
                                    const uint8_t *ctx, size_t ctxlen, const uint8_t *sig,
                                    size_t siglen);

/* HashML-DSA.Sign / Verify (Alg 4/5): msg is hashed with hash first. */
QCN_MUST_CHECK int qcn_mldsa_hash_sign(int param, uint8_t *sig, const uint8_t *sk, int hash,
                                       const uint8_t *msg, size_t msglen, const uint8_t *ctx,
                                       size_t ctxlen, int mode, const uint8_t *rnd);
QCN_MUST_CHECK int qcn_mldsa_hash_verify(int param, const uint8_t *pk, int hash, const uint8_t *msg,
                                         size_t msglen, const uint8_t *ctx, size_t ctxlen,
                                         const uint8_t *sig, size_t siglen);

/* ML-DSA.Sign_internal / Verify_internal (Alg 7/8) on the formatted message
 * M' (no context, no domain prefix added). */
QCN_MUST_CHECK int qcn_mldsa_sign_internal(int param, uint8_t *sig, const uint8_t *sk,
                                           const uint8_t *mprime, size_t mprimelen,
                                           const uint8_t rnd[QCN_MLDSA_RND_BYTES]);
QCN_MUST_CHECK int qcn_mldsa_verify_internal(int param, const uint8_t *pk, const uint8_t *mprime,
                                             size_t mprimelen, const uint8_t *sig, size_t siglen);

/* The external-mu variants: mu = H(tr || M', 64) computed by the caller. */
QCN_MUST_CHECK int qcn_mldsa_sign_mu(int param, uint8_t *sig, const uint8_t *sk,
                                     const uint8_t mu[QCN_MLDSA_MU_BYTES],
                                     const uint8_t rnd[QCN_MLDSA_RND_BYTES]);
QCN_MUST_CHECK int qcn_mldsa_verify_mu(int param, const uint8_t *pk,
                                       const uint8_t mu[QCN_MLDSA_MU_BYTES], const uint8_t *sig,
                                       size_t siglen);

/* tr = H(pk, 64), what a caller needs to compute mu itself. */
QCN_MUST_CHECK int qcn_mldsa_pk_tr(int param, uint8_t tr[QCN_MLDSA_TR_BYTES], const uint8_t *pk);

/* ---- expanded public keys (verification of many signatures by one key) ----
 *
 * Verification spends most of its time on ExpandA (Alg 32: k*l SHAKE128
 * streams from rho) and on decoding and transforming t1. A caller that
 * verifies many signatures under the same key expands it once and then calls
 * qcn_mldsa_verify_expanded, which gives exactly the results of
 * qcn_mldsa_verify on the original key bytes.
 *
 * The structure ends in a flexible array (A-hat has k*l rows), so it is
 * allocated by the caller with qcn_mldsa_pk_expanded_bytes(param) bytes at
 * 32-byte alignment (aligned_alloc(32, n) with n a multiple of 32, which
 * qcn_mldsa_pk_expanded_bytes always returns). It holds public data only
 * and is read-only after qcn_mldsa_pk_expand, so any number of threads may
 * verify with one expanded key at once. The back end in use may change
 * between expand and verify (both give identical representations). */
#define QCN_MLDSA_MAX_K 8
#define QCN_MLDSA_MAX_L 7
struct qcn_mldsa_pk_expanded {
    int param;                                        /* QCN_MLDSA44/65/87 */
    unsigned k, l;                                    /* matrix dimensions */
    uint8_t tr[QCN_MLDSA_TR_BYTES];                   /* H(pk, 64) */
    _Alignas(32) int32_t t1hat[QCN_MLDSA_MAX_K][256]; /* NTT(t1 * 2^d), first k used */
    _Alignas(32) int32_t ahat[][256];                 /* A-hat[i][j] at row i*l + j */
};

/* Bytes to allocate for an expanded key of param (a multiple of 32), or 0 for
 * an unknown param. About 37 KiB for ML-DSA-65, 65 KiB for ML-DSA-87. */
size_t qcn_mldsa_pk_expanded_bytes(int param);

/* Expands the encoded public key pk (pklen bytes) into out, which must hold
 * qcn_mldsa_pk_expanded_bytes(param) bytes at 32-byte alignment.
 * QCN_ERR_BAD_PARAM_SET; QCN_ERR_BAD_KEY for a wrong pklen (every
 * correctly-sized byte string decodes: pkEncode's fields take all values). */
QCN_MUST_CHECK int qcn_mldsa_pk_expand(int param, struct qcn_mldsa_pk_expanded *out,
                                       const uint8_t *pk, size_t pklen);

/* qcn_mldsa_verify / qcn_mldsa_verify_internal with an expanded key: same
 * results and errors as those functions on the key that was expanded. */
QCN_MUST_CHECK int qcn_mldsa_verify_expanded(const struct qcn_mldsa_pk_expanded *pk,
                                             const uint8_t *msg, size_t msglen, const uint8_t *ctx,
                                             size_t ctxlen, const uint8_t *sig, size_t siglen);
QCN_MUST_CHECK int qcn_mldsa_verify_internal_expanded(const struct qcn_mldsa_pk_expanded *pk,
                                                      const uint8_t *mprime, size_t mprimelen,
                                                      const uint8_t *sig, size_t siglen);

/* Arithmetic back ends. The library picks one at first use (AVX2 when the CPU
 * has it, unless the environment sets QCN_NO_AVX2=1); all give identical
 * results. */
enum qcn_mldsa_backend {
    QCN_MLDSA_BACKEND_PORTABLE = 0,
    QCN_MLDSA_BACKEND_AVX2 = 1,
};

/* Forces a back end for the whole process (tests, benchmarks). QCN_OK, or
 * QCN_ERR_UNSUPPORTED if this build or CPU lacks it. Call it while no other
 * thread is inside an ML-DSA function. */
QCN_MUST_CHECK int qcn_mldsa_backend_set(int backend);
/* "portable" or "avx2": the back end in use. Thread-safe. */
const char *qcn_mldsa_backend_name(void);

#endif
