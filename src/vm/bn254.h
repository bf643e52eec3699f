/* bn254.h - the BN254 (alt_bn128) pairing-friendly curve of EIP-196/197:
 * base field Fp, the tower Fp2 = Fp[u]/(u^2+1), Fp6 = Fp2[v]/(v^3-xi),
 * Fp12 = Fp6[w]/(w^2-v) with xi = 9+u; G1 = E(Fp): y^2 = x^3 + 3; G2 on the
 * D-type twist E'(Fp2): y^2 = x^3 + 3/xi; the optimal ate pairing.
 *
 * Internal to src/vm (the precompiles 0x06-0x08 and their tests). Field
 * elements are kept in Montgomery form (R = 2^256) on 4 little-endian 64-bit
 * limbs, always fully reduced (< p). Points are Jacobian (X, Y, Z) with
 * x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity.
 *
 * Nothing here is constant time: every input is public (call data).
 * All functions are pure and thread-safe; outputs may alias inputs. */
#ifndef QCN_VM_BN254_H
#define QCN_VM_BN254_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_BN254_FP_BYTES 32
#define QCN_BN254_G1_BYTES 64
#define QCN_BN254_G2_BYTES 128
#define QCN_BN254_SCALAR_BYTES 32

struct qcn_bn254_fp {
    uint64_t v[4];
};
struct qcn_bn254_fp2 {
    struct qcn_bn254_fp c0, c1; /* c0 + c1*u */
};
struct qcn_bn254_fp6 {
    struct qcn_bn254_fp2 c0, c1, c2; /* c0 + c1*v + c2*v^2 */
};
struct qcn_bn254_fp12 {
    struct qcn_bn254_fp6 c0, c1; /* c0 + c1*w */
};
struct qcn_bn254_g1 {
    struct qcn_bn254_fp x, y, z;
};
struct qcn_bn254_g2 {
    struct qcn_bn254_fp2 x, y, z;
};

/* ---- Fp ---- */
/* Big-endian 32 bytes -> element. Returns 0, or -1 if the value is >= p
 * (r is then zero). */
QCN_MUST_CHECK int qcn_bn254_fp_from_bytes(struct qcn_bn254_fp *r,
                                           const uint8_t in[QCN_BN254_FP_BYTES]);
void qcn_bn254_fp_to_bytes(uint8_t out[QCN_BN254_FP_BYTES], const struct qcn_bn254_fp *a);
void qcn_bn254_fp_set_u64(struct qcn_bn254_fp *r, uint64_t x);
void qcn_bn254_fp_add(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                      const struct qcn_bn254_fp *b);
void qcn_bn254_fp_sub(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                      const struct qcn_bn254_fp *b);
void qcn_bn254_fp_neg(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a);
void qcn_bn254_fp_mul(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                      const struct qcn_bn254_fp *b);
void qcn_bn254_fp_sqr(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a);
/* a^-1 (0 maps to 0). */
void qcn_bn254_fp_inv(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a);
int qcn_bn254_fp_is_zero(const struct qcn_bn254_fp *a);
int qcn_bn254_fp_eq(const struct qcn_bn254_fp *a, const struct qcn_bn254_fp *b);

/* ---- Fp2 ---- */
void qcn_bn254_fp2_set_u64(struct qcn_bn254_fp2 *r, uint64_t x);
void qcn_bn254_fp2_add(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                       const struct qcn_bn254_fp2 *b);
void qcn_bn254_fp2_sub(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                       const struct qcn_bn254_fp2 *b);
void qcn_bn254_fp2_neg(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a);
void qcn_bn254_fp2_conj(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a);
void qcn_bn254_fp2_mul(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                       const struct qcn_bn254_fp2 *b);
void qcn_bn254_fp2_mul_fp(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                          const struct qcn_bn254_fp *b);
void qcn_bn254_fp2_sqr(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a);
void qcn_bn254_fp2_inv(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a);
/* r = a * xi, xi = 9 + u. */
void qcn_bn254_fp2_mul_xi(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a);
int qcn_bn254_fp2_is_zero(const struct qcn_bn254_fp2 *a);
int qcn_bn254_fp2_eq(const struct qcn_bn254_fp2 *a, const struct qcn_bn254_fp2 *b);
/* a^e for a big-endian exponent of elen bytes. */
void qcn_bn254_fp2_pow(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a, const uint8_t *e,
                       size_t elen);

/* ---- Fp6, Fp12 ---- */
void qcn_bn254_fp6_mul(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a,
                       const struct qcn_bn254_fp6 *b);
void qcn_bn254_fp6_inv(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a);
void qcn_bn254_fp12_set_one(struct qcn_bn254_fp12 *r);
int qcn_bn254_fp12_is_one(const struct qcn_bn254_fp12 *a);
int qcn_bn254_fp12_eq(const struct qcn_bn254_fp12 *a, const struct qcn_bn254_fp12 *b);
void qcn_bn254_fp12_mul(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a,
                        const struct qcn_bn254_fp12 *b);
void qcn_bn254_fp12_sqr(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a);
void qcn_bn254_fp12_inv(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a);
/* Conjugation over Fp6: a^(p^6); the inverse of a unitary element. */
void qcn_bn254_fp12_conj(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a);
/* Frobenius maps a^p and a^(p^2). */
void qcn_bn254_fp12_frob(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a);
void qcn_bn254_fp12_frob2(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a);
/* r = a * l for a line value l = c0 + c1*w + c3*w^3 (sparse), i.e. the
 * Fp12 element ((c0, 0, 0), (c1, c3, 0)). */
void qcn_bn254_fp12_mul_line(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a,
                             const struct qcn_bn254_fp2 *c0, const struct qcn_bn254_fp2 *c1,
                             const struct qcn_bn254_fp2 *c3);
/* The Frobenius constants xi^(i(p-1)/6) and xi^(i(p^2-1)/6), i = 1..5. */
const struct qcn_bn254_fp2 *qcn_bn254_gamma1(int i);
const struct qcn_bn254_fp *qcn_bn254_gamma2(int i);
/* Squaring and powering valid only in the cyclotomic subgroup (unitary
 * elements after the easy part of the final exponentiation). */
void qcn_bn254_fp12_cyclotomic_sqr(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a);
void qcn_bn254_fp12_cyclotomic_pow(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a,
                                   const uint8_t *e, size_t elen);
void qcn_bn254_fp12_pow(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a, const uint8_t *e,
                        size_t elen);

/* ---- G1, G2 ---- */
void qcn_bn254_g1_generator(struct qcn_bn254_g1 *r);
void qcn_bn254_g2_generator(struct qcn_bn254_g2 *r);
void qcn_bn254_g1_set_inf(struct qcn_bn254_g1 *r);
void qcn_bn254_g2_set_inf(struct qcn_bn254_g2 *r);
int qcn_bn254_g1_is_inf(const struct qcn_bn254_g1 *a);
int qcn_bn254_g2_is_inf(const struct qcn_bn254_g2 *a);
/* Decodes (x, y) (G2: x_im, x_re, y_im, y_re), all zeros being infinity.
 * Returns 0, or -1 if a coordinate is >= p, the point is not on the curve,
 * or (G2) it is not in the order-r subgroup; r is then all zero (which is
 * not a valid point: use it only after a 0). */
QCN_MUST_CHECK int qcn_bn254_g1_from_bytes(struct qcn_bn254_g1 *r,
                                           const uint8_t in[QCN_BN254_G1_BYTES]);
QCN_MUST_CHECK int qcn_bn254_g2_from_bytes(struct qcn_bn254_g2 *r,
                                           const uint8_t in[QCN_BN254_G2_BYTES]);
void qcn_bn254_g1_to_bytes(uint8_t out[QCN_BN254_G1_BYTES], const struct qcn_bn254_g1 *a);
void qcn_bn254_g2_to_bytes(uint8_t out[QCN_BN254_G2_BYTES], const struct qcn_bn254_g2 *a);
/* 1 if a (Jacobian, any Z) satisfies the curve equation or is infinity. */
int qcn_bn254_g1_on_curve(const struct qcn_bn254_g1 *a);
int qcn_bn254_g2_on_curve(const struct qcn_bn254_g2 *a);
/* 1 if a is in the order-r subgroup (fast endomorphism test, see bn254.c). */
int qcn_bn254_g2_in_subgroup(const struct qcn_bn254_g2 *a);
/* 1 if [r]a is infinity: the slow, obviously correct test, for tests. */
int qcn_bn254_g2_order_check(const struct qcn_bn254_g2 *a);
int qcn_bn254_g1_eq(const struct qcn_bn254_g1 *a, const struct qcn_bn254_g1 *b);
int qcn_bn254_g2_eq(const struct qcn_bn254_g2 *a, const struct qcn_bn254_g2 *b);
void qcn_bn254_g1_neg(struct qcn_bn254_g1 *r, const struct qcn_bn254_g1 *a);
void qcn_bn254_g2_neg(struct qcn_bn254_g2 *r, const struct qcn_bn254_g2 *a);
void qcn_bn254_g1_dbl(struct qcn_bn254_g1 *r, const struct qcn_bn254_g1 *a);
void qcn_bn254_g2_dbl(struct qcn_bn254_g2 *r, const struct qcn_bn254_g2 *a);
void qcn_bn254_g1_add(struct qcn_bn254_g1 *r, const struct qcn_bn254_g1 *a,
                      const struct qcn_bn254_g1 *b);
void qcn_bn254_g2_add(struct qcn_bn254_g2 *r, const struct qcn_bn254_g2 *a,
                      const struct qcn_bn254_g2 *b);
/* [k]a for a big-endian scalar of klen bytes (any value, not reduced). */
void qcn_bn254_g1_mul(struct qcn_bn254_g1 *r, const struct qcn_bn254_g1 *a, const uint8_t *k,
                      size_t klen);
void qcn_bn254_g2_mul(struct qcn_bn254_g2 *r, const struct qcn_bn254_g2 *a, const uint8_t *k,
                      size_t klen);
/* [k]a on G1 through the GLV endomorphism (half the doublings); same result
 * as qcn_bn254_g1_mul for every 32-byte k. */
void qcn_bn254_g1_mul_glv(struct qcn_bn254_g1 *r, const struct qcn_bn254_g1 *a,
                          const uint8_t k[QCN_BN254_SCALAR_BYTES]);
/* Converts to Z = 1 (or leaves infinity as is). */
void qcn_bn254_g1_normalize(struct qcn_bn254_g1 *r, const struct qcn_bn254_g1 *a);
void qcn_bn254_g2_normalize(struct qcn_bn254_g2 *r, const struct qcn_bn254_g2 *a);

/* ---- pairing ---- */
/* The product of the Miller loops f_{6u+2,Q}(P) (with the two Frobenius
 * correction lines) over n pairs; pairs with an infinite point contribute 1.
 * Points must be valid (on the curve, G2 in the subgroup). */
void qcn_bn254_miller_loop(struct qcn_bn254_fp12 *r, const struct qcn_bn254_g1 *p,
                           const struct qcn_bn254_g2 *q, size_t n);
/* f^((p^12-1)/r), with the hard part computed through u-powers. */
void qcn_bn254_final_exp(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *f);
/* e(P, Q) = final_exp(miller_loop(P, Q)). */
void qcn_bn254_pairing(struct qcn_bn254_fp12 *r, const struct qcn_bn254_g1 *p,
                       const struct qcn_bn254_g2 *q);
/* 1 if prod e(p[i], q[i]) == 1, else 0 (also 1 for n = 0). Points as for
 * miller_loop. */
int qcn_bn254_pairing_check(const struct qcn_bn254_g1 *p, const struct qcn_bn254_g2 *q, size_t n);

#endif
