/* mldsa_internal.h - pieces shared by the ML-DSA front end (mldsa.c), the
 * portable arithmetic (mldsa_poly.c) and the AVX2 arithmetic (mldsa_avx2*.c).
 * Not a public interface: nothing outside src/crypto/mldsa*.c includes it
 * (except ML-DSA's own tests).
 *
 * Representation: a polynomial is 256 int32 coefficients, 32-byte aligned.
 * Arithmetic is mod q = 8380417 with Montgomery factor R = 2^32. */
#ifndef QCN_CRYPTO_MLDSA_INTERNAL_H
#define QCN_CRYPTO_MLDSA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define QCN_MLDSA_N 256
#define QCN_MLDSA_Q 8380417
/* q^-1 mod 2^32, for Montgomery reduction. */
#define QCN_MLDSA_QINV 58728449
/* 2^64 / 256 mod q: the inverse NTT's final scaling, leaving R^1 on the result
 * so that invntt(pointwise(a, b)) is a*b in the normal domain. */
#define QCN_MLDSA_INVNTT_F 41978

struct qcn_mldsa_poly {
    _Alignas(32) int32_t c[QCN_MLDSA_N];
};

/* The run-time selected arithmetic. Each sampler fills up to four polynomials
 * from four independent SHAKE streams (the AVX2 version runs four Keccak
 * states side by side); a NULL entry in out[] is a lane to skip.
 * Bounds: ntt takes |a| < q and returns |a| < 9q; pointwise takes |a|,|b| < 9q
 * and returns |c| < q; pointwise_acc adds such a product to c; invntt takes
 * |a| < q and returns |a| < q, multiplied by R (so after pointwise the R^-1
 * cancels). */
struct qcn_mldsa_impl {
    const char *name;
    void (*ntt)(int32_t a[QCN_MLDSA_N]);
    void (*invntt)(int32_t a[QCN_MLDSA_N]);
    void (*pointwise)(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                      const int32_t b[QCN_MLDSA_N]);
    void (*pointwise_acc)(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                          const int32_t b[QCN_MLDSA_N]);
    /* RejNTTPoly (FIPS 204 Alg 30) on SHAKE128(rho || nonce as 2 bytes LE). */
    void (*uniform_4x)(struct qcn_mldsa_poly *out[4], const uint8_t rho[32],
                       const uint16_t nonce[4]);
    /* RejBoundedPoly (Alg 31) on SHAKE256(rho' || nonce as 2 bytes LE). */
    void (*eta_4x)(struct qcn_mldsa_poly *out[4], const uint8_t rhoprime[64],
                   const uint16_t nonce[4], int eta);
    /* ExpandMask's inner step (Alg 34 lines 3-4): BitUnpack of
     * SHAKE256(rho'' || nonce, 32*(gamma1_bits+1)). */
    void (*gamma1_4x)(struct qcn_mldsa_poly *out[4], const uint8_t rhopp[64],
                      const uint16_t nonce[4], int gamma1_bits);
};

extern const struct qcn_mldsa_impl qcn_mldsa_impl_portable;
#if defined(__x86_64__) && defined(__GNUC__)
#define QCN_MLDSA_HAVE_AVX2 1
extern const struct qcn_mldsa_impl qcn_mldsa_impl_avx2;
#endif

/* The table in use: chosen once (AVX2 if the CPU has it and the environment
 * variable QCN_NO_AVX2 is not set to a non-empty value other than "0"), or
 * forced by qcn_mldsa_backend_set. */
const struct qcn_mldsa_impl *qcn_mldsa_impl_get(void);

/* Montgomery-domain zetas in bit-reversed order (FIPS 204 Appendix B, times
 * 2^32 mod q, centred). Entry 0 is unused. */
extern const int32_t qcn_mldsa_zetas[QCN_MLDSA_N];

/* Portable single-polynomial pieces the AVX2 code also uses for tails. */
void qcn_mldsa_poly_uniform_ref(struct qcn_mldsa_poly *a, const uint8_t rho[32], uint16_t nonce);
void qcn_mldsa_poly_eta_ref(struct qcn_mldsa_poly *a, const uint8_t rhoprime[64], uint16_t nonce,
                            int eta);
void qcn_mldsa_poly_gamma1_ref(struct qcn_mldsa_poly *a, const uint8_t rhopp[64], uint16_t nonce,
                               int gamma1_bits);
/* Parsers of already squeezed SHAKE output: they append coefficients to
 * a->c[ctr..] and return the new count (at most QCN_MLDSA_N). */
unsigned qcn_mldsa_rej_uniform(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen);
unsigned qcn_mldsa_rej_eta(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen, int eta);
void qcn_mldsa_unpack_gamma1(int32_t *a, const uint8_t *buf, int gamma1_bits);

/* Decompose (FIPS 204 Alg 36) of a in [0, q) for gamma2 = (q-1)/88 or
 * (q-1)/32: returns a1 and sets *a0. Exposed for the unit test. */
int32_t qcn_mldsa_decompose(int32_t *a0, int32_t a, unsigned gamma2);

/* Decode-then-encode of a public key, signature or secret key (fuzz targets
 * and tests): 0 and the re-encoding in out (same length as the input) if the
 * input decodes, -1 if it does not (wrong length, a malformed hint, an s1/s2
 * coefficient out of range). */
int qcn_mldsa_pk_reencode(int param, uint8_t *out, const uint8_t *pk, size_t pklen);
int qcn_mldsa_sig_reencode(int param, uint8_t *out, const uint8_t *sig, size_t siglen);
int qcn_mldsa_sk_reencode(int param, uint8_t *out, const uint8_t *sk, size_t sklen);

/* Constant-time analysis hooks (tests/ct/): under valgrind memcheck the
 * secret inputs are marked undefined; a value FIPS 204 allows to be public
 * (a rejection decision, an output) is declassified here so that the branch
 * on it is not reported. Outside valgrind this is a few no-op instructions. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define QCN_MLDSA_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef QCN_MLDSA_DECLASSIFY
#define QCN_MLDSA_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#endif
