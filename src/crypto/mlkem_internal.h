/* mlkem_internal.h - ML-KEM kernels shared between mlkem.c (portable) and
 * mlkem_avx2.c, exposed for the differential unit test. Not a public API.
 *
 * A polynomial is int16_t[QCN_MLKEM_N]. The AVX2 kernels compute
 * bit-identical results to the portable ones (same Montgomery and Barrett
 * steps in the same places), so either may be used for any input the
 * portable kernel accepts:
 *   ntt:        input |c| < q, output Barrett-reduced, bit-reversed order
 *   invntt:     output |c| < q, scaled by R/128. Input: at most four
 *               accumulated basemul products of a reduced (|c| <= q/2) and a
 *               [0, q] operand; each Montgomery product is then below
 *               q/2 + 85, so the sums stay below 4·2·1750 = 14000 and the
 *               first layer's additions below 2^15
 *   basemul_acc r += a∘b·R^-1 (FIPS 203 Alg 11); one operand reduced
 *               (|c| <= q/2), the other |c| <= q */
#ifndef QCN_CRYPTO_MLKEM_INTERNAL_H
#define QCN_CRYPTO_MLKEM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mlkem.h"

#define QCN_MLKEM_N 256
#define QCN_MLKEM_Q 3329

/* Appendix A ζ^BitRev7(k)·2^16 mod q and γ_i = ζ^(2BitRev7(i)+1)·2^16 mod q. */
extern const int16_t qcn_mlkem_zetas[128];
extern const int16_t qcn_mlkem_gammas[128];

void qcn_mlkem_ntt_ref(int16_t c[QCN_MLKEM_N]);
void qcn_mlkem_invntt_ref(int16_t c[QCN_MLKEM_N]);
void qcn_mlkem_basemul_acc_ref(int16_t r[QCN_MLKEM_N], const int16_t a[QCN_MLKEM_N],
                               const int16_t b[QCN_MLKEM_N]);

/* 1 if the CPU has AVX2 (checked at run time; 0 on non-x86 builds). */
int qcn_mlkem_have_avx2(void);
/* 1 if ML-KEM dispatches to the AVX2 code: the CPU has it and
 * qcn_mlkem_force_portable(1) was not called. */
int qcn_mlkem_use_avx2(void);
/* Test hook: on != 0 makes every later ML-KEM call use the portable code, so
 * the tests (ACVP, valgrind constant-time) cover both paths on an AVX2
 * machine. A relaxed atomic flag; switching while other threads run ML-KEM
 * is safe (each call sees one value or the other) but production code has
 * no reason to call it. */
void qcn_mlkem_force_portable(int on);
/* Only call when qcn_mlkem_have_avx2() is 1. */
void qcn_mlkem_ntt_avx2(int16_t c[QCN_MLKEM_N]);
void qcn_mlkem_invntt_avx2(int16_t c[QCN_MLKEM_N]);
void qcn_mlkem_basemul_acc_avx2(int16_t r[QCN_MLKEM_N], const int16_t a[QCN_MLKEM_N],
                                const int16_t b[QCN_MLKEM_N]);

/* SampleNTT's rejection step (FIPS 203 Alg 7 lines 5-13) over len bytes
 * (a multiple of 3): appends coefficients to out[n..256); returns the new n. */
unsigned qcn_mlkem_rej_uniform(int16_t *out, unsigned n, const uint8_t *buf, size_t len);

/* Four SampleNTT(ρ || idx[t][0] || idx[t][1]) streams into out[t]. */
void qcn_mlkem_sample_ntt_x4_avx2(int16_t *out[4], const uint8_t rho[QCN_MLKEM_SEED_BYTES],
                                  uint8_t idx[4][2]);
/* Four PRF outputs SHAKE256(seed || nonce[t], outlen) into out[t]. */
void qcn_mlkem_prf_x4_avx2(uint8_t *out[4], size_t outlen, const uint8_t seed[QCN_MLKEM_SEED_BYTES],
                           const uint8_t nonce[4]);

#endif
