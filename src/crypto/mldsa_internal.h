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
#include <string.h>

#include "crypto/mldsa.h"

#define QCN_MLDSA_N 256
#define QCN_MLDSA_Q 8380417
/* q^-1 mod 2^32, for Montgomery reduction. */
#define QCN_MLDSA_QINV 58728449
/* 2^64 / 256 mod q: the inverse NTT's final scaling, leaving R^1 on the result
 * so that invntt(pointwise(a, b)) is a*b in the normal domain. */
#define QCN_MLDSA_INVNTT_F 41978
/* -zetas[1] * F * 2^-32 mod q: the inverse NTT's last layer (distance 128)
 * multiplies its differences by this, folding in the final scaling. */
#define QCN_MLDSA_INVNTT_ZF 3975713

/* Seed and key sizes of FIPS 204 (Alg 6, 24, 7): rho (public matrix seed),
 * rho' (secret vector seed), K (signing key seed), rho'' (mask seed), the
 * sk header rho || K || tr, and the widest c~ (lambda/4 for ML-DSA-87). */
#define QCN_MLDSA_RHO_BYTES 32
#define QCN_MLDSA_RHOPRIME_BYTES 64
#define QCN_MLDSA_KEY_BYTES 32
#define QCN_MLDSA_RHOPP_BYTES 64
#define QCN_MLDSA_SK_HEADER_BYTES (QCN_MLDSA_RHO_BYTES + QCN_MLDSA_KEY_BYTES + QCN_MLDSA_TR_BYTES)
#define QCN_MLDSA_MAX_CTILDE_BYTES 64

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
    void (*uniform_4x)(struct qcn_mldsa_poly *out[4], const uint8_t rho[QCN_MLDSA_RHO_BYTES],
                       const uint16_t nonce[4]);
    /* RejBoundedPoly (Alg 31) on SHAKE256(rho' || nonce as 2 bytes LE). */
    void (*eta_4x)(struct qcn_mldsa_poly *out[4], const uint8_t rhoprime[QCN_MLDSA_RHOPRIME_BYTES],
                   const uint16_t nonce[4], int eta);
    /* ExpandMask's inner step (Alg 34 lines 3-4): BitUnpack of
     * SHAKE256(rho'' || nonce, 32*(gamma1_bits+1)). */
    void (*gamma1_4x)(struct qcn_mldsa_poly *out[4], const uint8_t rhopp[QCN_MLDSA_RHOPP_BYTES],
                      const uint16_t nonce[4], int gamma1_bits);

    /* Coefficient-wise kernels of the sign and verify loops (FIPS 204 §7.4),
     * all branch-free. reduce32 and freeze are defined below. */
    void (*reduce)(int32_t a[QCN_MLDSA_N]); /* a = reduce32(a) */
    /* c = reduce32(a + b) */
    void (*add_reduce)(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                       const int32_t b[QCN_MLDSA_N]);
    /* c = freeze(a - b), in [0, q) */
    void (*sub_freeze)(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                       const int32_t b[QCN_MLDSA_N]);
    /* w = freeze(w), then w1 = HighBits(w) (Alg 37) */
    void (*freeze_highbits)(int32_t w1[QCN_MLDSA_N], int32_t w[QCN_MLDSA_N], unsigned gamma2);
    /* a0 = LowBits(a) (Alg 38) for a in [0, q) */
    void (*lowbits)(int32_t a0[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N], unsigned gamma2);
    /* 1 if some |a[i]| >= bound (a a reduce32 output), else 0; no early exit */
    uint32_t (*exceeds)(const int32_t a[QCN_MLDSA_N], int32_t bound);
    /* h[i] = MakeHint(-ct0, r + ct0) = [HighBits(freeze(r + ct0)) != HighBits(r)]
     * (Alg 39) for r in [0, q) and ct0 a reduce32 output; returns the number
     * of ones */
    unsigned (*make_hint)(uint8_t h[QCN_MLDSA_N], const int32_t r[QCN_MLDSA_N],
                          const int32_t ct0[QCN_MLDSA_N], unsigned gamma2);
    /* w1 = UseHint(h, freeze(w)) (Alg 40) for |w| < q; verification only */
    void (*use_hint)(int32_t w1[QCN_MLDSA_N], const int32_t w[QCN_MLDSA_N],
                     const uint8_t h[QCN_MLDSA_N], unsigned gamma2);
};

/* ---- scalar helpers shared by the back ends ------------------------------ */

/* For |a| < 2^31 - 2^22 returns a' = a mod q with |a'| <= 6283008. */
static inline int32_t qcn_mldsa_reduce32(int32_t a)
{
    int32_t t = (a + (1 << 22)) >> 23;
    return a - t * QCN_MLDSA_Q;
}

static inline int32_t qcn_mldsa_caddq(int32_t a)
{
    return a + ((a >> 31) & QCN_MLDSA_Q);
}

/* The representative in [0, q). */
static inline int32_t qcn_mldsa_freeze(int32_t a)
{
    return qcn_mldsa_caddq(qcn_mldsa_reduce32(a));
}

/* 1 if x != 0 else 0, without a branch. */
static inline uint32_t qcn_mldsa_ct_nonzero(uint32_t x)
{
    return (x | (0u - x)) >> 31;
}

/* Decompose (Alg 36): a1 = floor((a + gamma2 - 1) / (2 gamma2)) computed as
 * ((x >> pre) * mul) >> post in 32 bits: 2 gamma2 is 2^9 * 1023 or
 * 2^11 * 93, and mul = ceil(2^post / 1023 or 93) keeps the error below one
 * step for every a in [0, q) (the unit test checks all of them). */
struct qcn_mldsa_dc {
    int32_t g2, two_g2;
    uint32_t top, pre, mul, post;
};

static inline void qcn_mldsa_dc_init(struct qcn_mldsa_dc *d, unsigned gamma2)
{
    d->g2 = (int32_t)gamma2;
    d->two_g2 = 2 * (int32_t)gamma2;
    if (gamma2 == (QCN_MLDSA_Q - 1) / 32) {
        d->pre = 9, d->mul = 65601, d->post = 26, d->top = 16;
    } else {
        d->pre = 11, d->mul = 11276, d->post = 20, d->top = 44;
    }
}

/* a in [0, q): returns a1 and sets *a0 in (-gamma2, gamma2], with the wrap
 * at q - 1 (a1 = 0, a0 - 1). */
static inline int32_t qcn_mldsa_decompose1(const struct qcn_mldsa_dc *d, int32_t *a0, int32_t a)
{
    uint32_t x = (uint32_t)(a + d->g2 - 1);
    uint32_t a1 = ((x >> d->pre) * d->mul) >> d->post;
    int32_t wrap = -(int32_t)(qcn_mldsa_ct_nonzero(a1 ^ d->top) ^ 1);
    *a0 = a - (int32_t)a1 * d->two_g2 + wrap;
    return (int32_t)(a1 & ~(uint32_t)wrap);
}

/* BitPack / BitUnpack (Alg 16-19) of one polynomial into bits-bit
 * little-endian fields, bits <= 20; each field is neg ? base - a[i] : a[i].
 * Eight fields make exactly bits bytes, so each group of eight coefficients
 * is held in three 64-bit words. Always inlined so that a caller passing
 * constant bits and neg gets constant shifts. Nothing depends on the values
 * (constant time). */
static inline __attribute__((always_inline)) void
qcn_mldsa_pack_bits(uint8_t *out, const int32_t *a, unsigned bits, int32_t base, int neg)
{
    uint32_t mask = (1u << bits) - 1;
    unsigned g, j;
    for (g = 0; g < QCN_MLDSA_N / 8; g++, a += 8, out += bits) {
        uint64_t w[3] = {0, 0, 0};
#pragma GCC unroll 8
        for (j = 0; j < 8; j++) {
            unsigned pos = j * bits, wi = pos >> 6, sh = pos & 63;
            uint64_t v = (uint32_t)(neg ? base - a[j] : a[j]) & mask;
            w[wi] |= v << sh;
            if (sh + bits > 64)
                w[wi + 1] |= v >> (64 - sh);
        }
        memcpy(out, w, bits);
    }
}

static inline __attribute__((always_inline)) void
qcn_mldsa_unpack_bits(int32_t *a, const uint8_t *in, unsigned bits, int32_t base, int neg)
{
    uint32_t mask = (1u << bits) - 1;
    unsigned g, j;
    for (g = 0; g < QCN_MLDSA_N / 8; g++, a += 8, in += bits) {
        uint64_t w[3] = {0, 0, 0};
        memcpy(w, in, bits);
#pragma GCC unroll 8
        for (j = 0; j < 8; j++) {
            unsigned pos = j * bits, wi = pos >> 6, sh = pos & 63;
            uint64_t v = w[wi] >> sh;
            if (sh + bits > 64)
                v |= w[wi + 1] << (64 - sh);
            a[j] = neg ? base - (int32_t)((uint32_t)v & mask) : (int32_t)((uint32_t)v & mask);
        }
    }
}

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
/* qcn_mldsa_zetas[k] * q^-1 mod 2^32 (for Montgomery multiplication by a
 * known zeta). */
extern const int32_t qcn_mldsa_zetas_qinv[QCN_MLDSA_N];

/* Portable single-polynomial pieces the AVX2 code also uses for tails. */
void qcn_mldsa_poly_uniform_ref(struct qcn_mldsa_poly *a, const uint8_t rho[QCN_MLDSA_RHO_BYTES],
                                uint16_t nonce);
void qcn_mldsa_poly_eta_ref(struct qcn_mldsa_poly *a,
                            const uint8_t rhoprime[QCN_MLDSA_RHOPRIME_BYTES], uint16_t nonce,
                            int eta);
void qcn_mldsa_poly_gamma1_ref(struct qcn_mldsa_poly *a, const uint8_t rhopp[QCN_MLDSA_RHOPP_BYTES],
                               uint16_t nonce, int gamma1_bits);
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
