/* bn254_field.c - Fp, Fp2, Fp6, Fp12 arithmetic for BN254 (see bn254.h).
 *
 * Fp multiplication is Montgomery's CIOS method (Koc, Acar, Kaliski, "Analyzing
 * and comparing Montgomery multiplication algorithms", 1996) on 4x64-bit
 * limbs. The tower and its formulas follow Beuchat et al., "High-speed
 * software implementation of the optimal ate pairing over Barreto-Naehrig
 * curves" (2010), and Devegili et al., "Multiplication and squaring on
 * pairing-friendly fields" (2006). Constants were derived with exact integer
 * arithmetic and are re-derived by tests/unit/test_vm_bn254.c. */
#include <string.h>

#include "vm/bn254.h"

__extension__ typedef unsigned __int128 u128;

/* p = 36u^4 + 36u^3 + 24u^2 + 6u + 1, u = 4965661367192848881. */
static const uint64_t P[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL,
                              0x30644e72e131a029ULL};
/* -p^-1 mod 2^64 */
static const uint64_t PINV = 0x87d20782e4866389ULL;
/* R^2 mod p, to enter Montgomery form. */
static const struct qcn_bn254_fp R2 = {
    {0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL, 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL}};
/* R mod p, Montgomery's 1. */
static const struct qcn_bn254_fp ONE = {
    {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}};

/* Frobenius coefficients (Montgomery form): GAMMA1[i] = xi^(i(p-1)/6),
 * GAMMA2[i] = xi^(i(p^2-1)/6) (in Fp), for i = 1..5. In the w-basis
 * a = sum a_i w^i (a_i in Fp2) a^p = sum conj(a_i) GAMMA1[i] w^i and
 * a^(p^2) = sum a_i GAMMA2[i] w^i, since w^6 = xi. */
static const struct qcn_bn254_fp2 GAMMA1[6] = {
    {{{0}}, {{0}}},
    {{{0xaf9ba69633144907ULL, 0xca6b1d7387afb78aULL, 0x11bded5ef08a2087ULL, 0x02f34d751a1f3a7cULL}},
     {{0xa222ae234c492d72ULL, 0xd00f02a4565de15bULL, 0xdc2ff3a253dfc926ULL,
       0x10a75716b3899551ULL}}},
    {{{0xb5773b104563ab30ULL, 0x347f91c8a9aa6454ULL, 0x7a007127242e0991ULL, 0x1956bcd8118214ecULL}},
     {{0x6e849f1ea0aa4757ULL, 0xaa1c7b6d89f89141ULL, 0xb6e713cdfae0ca3aULL,
       0x26694fbb4e82ebc3ULL}}},
    {{{0xe4bbdd0c2936b629ULL, 0xbb30f162e133bacbULL, 0x31a9d1b6f9645366ULL, 0x253570bea500f8ddULL}},
     {{0xa1d77ce45ffe77c7ULL, 0x07affd117826d1dbULL, 0x6d16bd27bb7edc6bULL,
       0x2c87200285defeccULL}}},
    {{{0x7361d77f843abe92ULL, 0xa5bb2bd3273411fbULL, 0x9c941f314b3e2399ULL, 0x15df9cddbb9fd3ecULL}},
     {{0x5dddfd154bd8c949ULL, 0x62cb29a5a4445b60ULL, 0x37bc870a0c7dd2b9ULL,
       0x24830a9d3171f0fdULL}}},
    {{{0xc970692f41690fe7ULL, 0xe240342127694b0bULL, 0x32bee66b83c459e8ULL, 0x12aabced0ab08841ULL}},
     {{0x0d485d2340aebfa9ULL, 0x05193418ab2fcc57ULL, 0xd3b0a40b8a4910f5ULL,
       0x2f21ebb535d2925aULL}}},
};
static const struct qcn_bn254_fp GAMMA2[6] = {
    {{0}},
    {{0xca8d800500fa1bf2ULL, 0xf0c5d61468b39769ULL, 0x0e201271ad0d4418ULL, 0x04290f65bad856e6ULL}},
    {{0x3350c88e13e80b9cULL, 0x7dce557cdb5e56b9ULL, 0x6001b4b8b615564aULL, 0x2682e617020217e0ULL}},
    {{0x68c3488912edefaaULL, 0x8d087f6872aabf4fULL, 0x51e1a24709081231ULL, 0x2259d6b14729c0faULL}},
    {{0x71930c11d782e155ULL, 0xa6bb947cffbe3323ULL, 0xaa303344d4741444ULL, 0x2c3b3f0d26594943ULL}},
    {{0x08cfc388c494f1abULL, 0x19b315148d1373d4ULL, 0x584e90fdcb6c0213ULL, 0x09e1685bdf2f8849ULL}},
};

/* ---------------------------------------------------------------- Fp */

/* 1 if the 4-limb value a >= p. */
static int geq_p(const uint64_t a[4])
{
    int i;
    for (i = 3; i >= 0; i--) {
        if (a[i] != P[i])
            return a[i] > P[i];
    }
    return 1;
}

/* r = x - p if x >= p, else x (x < 2p), without a data-dependent loop. */
static inline void reduce_once(uint64_t r[4], uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3)
{
    u128 d;
    uint64_t d0, d1, d2, d3, borrow;
    d = (u128)x0 - P[0];
    d0 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
    d = (u128)x1 - P[1] - borrow;
    d1 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
    d = (u128)x2 - P[2] - borrow;
    d2 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
    d = (u128)x3 - P[3] - borrow;
    d3 = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
    if (borrow) {
        r[0] = x0;
        r[1] = x1;
        r[2] = x2;
        r[3] = x3;
    } else {
        r[0] = d0;
        r[1] = d1;
        r[2] = d2;
        r[3] = d3;
    }
}

static inline void fp_add(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                          const struct qcn_bn254_fp *b)
{
    /* a, b < p < 2^254: the sum cannot carry out of 256 bits. */
    u128 s;
    uint64_t s0, s1, s2, s3;
    s = (u128)a->v[0] + b->v[0];
    s0 = (uint64_t)s;
    s = (u128)a->v[1] + b->v[1] + (uint64_t)(s >> 64);
    s1 = (uint64_t)s;
    s = (u128)a->v[2] + b->v[2] + (uint64_t)(s >> 64);
    s2 = (uint64_t)s;
    s = (u128)a->v[3] + b->v[3] + (uint64_t)(s >> 64);
    s3 = (uint64_t)s;
    reduce_once(r->v, s0, s1, s2, s3);
}

static inline void fp_sub(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                          const struct qcn_bn254_fp *b)
{
    u128 d;
    uint64_t d0, d1, d2, d3, mask;
    d = (u128)a->v[0] - b->v[0];
    d0 = (uint64_t)d;
    d = (u128)a->v[1] - b->v[1] - ((uint64_t)(d >> 64) & 1);
    d1 = (uint64_t)d;
    d = (u128)a->v[2] - b->v[2] - ((uint64_t)(d >> 64) & 1);
    d2 = (uint64_t)d;
    d = (u128)a->v[3] - b->v[3] - ((uint64_t)(d >> 64) & 1);
    d3 = (uint64_t)d;
    /* On borrow add p back. */
    mask = 0 - ((uint64_t)(d >> 64) & 1);
    d = (u128)d0 + (P[0] & mask);
    r->v[0] = (uint64_t)d;
    d = (u128)d1 + (P[1] & mask) + (uint64_t)(d >> 64);
    r->v[1] = (uint64_t)d;
    d = (u128)d2 + (P[2] & mask) + (uint64_t)(d >> 64);
    r->v[2] = (uint64_t)d;
    d = (u128)d3 + (P[3] & mask) + (uint64_t)(d >> 64);
    r->v[3] = (uint64_t)d;
}

int qcn_bn254_fp_is_zero(const struct qcn_bn254_fp *a)
{
    return (a->v[0] | a->v[1] | a->v[2] | a->v[3]) == 0;
}

int qcn_bn254_fp_eq(const struct qcn_bn254_fp *a, const struct qcn_bn254_fp *b)
{
    return ((a->v[0] ^ b->v[0]) | (a->v[1] ^ b->v[1]) | (a->v[2] ^ b->v[2]) |
            (a->v[3] ^ b->v[3])) == 0;
}

static inline void fp_neg(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a)
{
    static const struct qcn_bn254_fp zero = {{0, 0, 0, 0}};
    fp_sub(r, &zero, a);
}

/* One CIOS row with the "no-carry" shortcut: p's top limb is below
 * (2^64 - 1)/2 - 1, so the running value never needs a fifth limb (the
 * observation behind gnark-crypto's Montgomery multiplication). */
#define MAC(hi, lo, a, b, c, d)                                                                    \
    do {                                                                                           \
        u128 x_ = (u128)(a) * (b) + (c) + (d);                                                     \
        (lo) = (uint64_t)x_;                                                                       \
        (hi) = (uint64_t)(x_ >> 64);                                                               \
    } while (0)

#define ROW(bi)                                                                                    \
    do {                                                                                           \
        uint64_t A_, C_, m_, lo_;                                                                  \
        MAC(A_, t0, a0, bi, t0, 0);                                                                \
        m_ = t0 * PINV;                                                                            \
        MAC(C_, lo_, m_, P[0], t0, 0);                                                             \
        (void)lo_;                                                                                 \
        MAC(A_, t1, a1, bi, t1, A_);                                                               \
        MAC(C_, t0, m_, P[1], t1, C_);                                                             \
        MAC(A_, t2, a2, bi, t2, A_);                                                               \
        MAC(C_, t1, m_, P[2], t2, C_);                                                             \
        MAC(A_, t3, a3, bi, t3, A_);                                                               \
        MAC(C_, t2, m_, P[3], t3, C_);                                                             \
        t3 = C_ + A_;                                                                              \
    } while (0)

static inline void fp_mul(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                          const struct qcn_bn254_fp *b)
{
    uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3];
    uint64_t b0 = b->v[0], b1 = b->v[1], b2 = b->v[2], b3 = b->v[3];
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;

    ROW(b0);
    ROW(b1);
    ROW(b2);
    ROW(b3);
    /* The result is < 2p; one conditional subtraction reduces it. */
    reduce_once(r->v, t0, t1, t2, t3);
}

static inline void fp_sqr(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a)
{
    fp_mul(r, a, a);
}

/* Exported forms of the inlined Fp operations. */
void qcn_bn254_fp_add(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                      const struct qcn_bn254_fp *b)
{
    fp_add(r, a, b);
}

void qcn_bn254_fp_sub(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                      const struct qcn_bn254_fp *b)
{
    fp_sub(r, a, b);
}

void qcn_bn254_fp_neg(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a)
{
    fp_neg(r, a);
}

void qcn_bn254_fp_mul(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a,
                      const struct qcn_bn254_fp *b)
{
    fp_mul(r, a, b);
}

void qcn_bn254_fp_sqr(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *a)
{
    fp_mul(r, a, a);
}

void qcn_bn254_fp_set_u64(struct qcn_bn254_fp *r, uint64_t x)
{
    struct qcn_bn254_fp t = {{x, 0, 0, 0}};
    fp_mul(r, &t, &R2);
}

int qcn_bn254_fp_from_bytes(struct qcn_bn254_fp *r, const uint8_t in[QCN_BN254_FP_BYTES])
{
    struct qcn_bn254_fp t;
    int i;
    for (i = 0; i < 4; i++) {
        int k;
        uint64_t w = 0;
        for (k = 0; k < 8; k++)
            w = w << 8 | in[(3 - i) * 8 + k];
        t.v[i] = w;
    }
    if (geq_p(t.v)) {
        memset(r, 0, sizeof *r);
        return -1;
    }
    fp_mul(r, &t, &R2);
    return 0;
}

void qcn_bn254_fp_to_bytes(uint8_t out[QCN_BN254_FP_BYTES], const struct qcn_bn254_fp *a)
{
    static const struct qcn_bn254_fp one_raw = {{1, 0, 0, 0}};
    struct qcn_bn254_fp t;
    int i, k;
    fp_mul(&t, a, &one_raw); /* leave Montgomery form */
    for (i = 0; i < 4; i++)
        for (k = 0; k < 8; k++)
            out[(3 - i) * 8 + k] = (uint8_t)(t.v[i] >> (56 - 8 * k));
}

/* ---- inversion: Pornin's optimized binary GCD ----
 * T. Pornin, "Optimized Binary GCD for Modular Inversion" (eprint 2020/972),
 * Algorithm 2: 17 outer rounds of 31 inner steps (17 * 31 >= 2 * 254 - 1)
 * run on 64-bit approximations of a and b (their low 31 and top 33 bits),
 * whose update factors f0, g0, f1, g1 (|.| <= 2^31) are then applied to the
 * full values. Invariants: a = x u 2^(-31k), b = x v 2^(-31k) (mod p); at the
 * end b = 1. The u, v updates are Montgomery-reduced by one limb each round
 * (another 2^-64), so v = x^-1 2^(-33*17); a final Montgomery product with
 * INV_FIX = 2^(256 + 512 + 33*17) turns x^-1 of a Montgomery-form x into the
 * Montgomery form of the inverse. Inputs are public; time is fixed anyway. */
#define INV_ROUNDS 17
#define INV_STEPS 31
static const struct qcn_bn254_fp INV_FIX = {
    {0xd330b3617404f53cULL, 0x5f12aa9fd96887c1ULL, 0xe7820241e67f0488ULL, 0x2029e539ef58b497ULL}};

static unsigned bitlen4(const uint64_t a[4])
{
    int i;
    for (i = 3; i >= 0; i--)
        if (a[i] != 0)
            return (unsigned)(64 * i + 64 - __builtin_clzll(a[i]));
    return 0;
}

/* The 64 bits of a starting at bit position pos (pos <= 192). */
static uint64_t bits64(const uint64_t a[4], unsigned pos)
{
    unsigned w = pos / 64, s = pos % 64;
    uint64_t lo = a[w] >> s;
    if (s != 0 && w + 1 < 4)
        lo |= a[w + 1] << (64 - s);
    return lo;
}

/* r[0..5) = a * f, two's complement, for a < 2^256 and |f| <= 2^62. */
static void mul_signed(uint64_t r[5], const uint64_t a[4], int64_t f)
{
    uint64_t m = f < 0 ? (uint64_t)0 - (uint64_t)f : (uint64_t)f, carry = 0;
    int i;
    for (i = 0; i < 4; i++) {
        u128 x = (u128)a[i] * m + carry;
        r[i] = (uint64_t)x;
        carry = (uint64_t)(x >> 64);
    }
    r[4] = carry;
    if (f < 0) {
        uint64_t c = 1;
        for (i = 0; i < 5; i++) {
            u128 x = (u128)(~r[i]) + c;
            r[i] = (uint64_t)x;
            c = (uint64_t)(x >> 64);
        }
    }
}

static void add5(uint64_t r[5], const uint64_t a[5], const uint64_t b[5])
{
    uint64_t carry = 0;
    int i;
    for (i = 0; i < 5; i++) {
        u128 x = (u128)a[i] + b[i] + carry;
        r[i] = (uint64_t)x;
        carry = (uint64_t)(x >> 64);
    }
}

/* out = |a f + b g| >> 31 (exact); returns 1 if a f + b g was negative. */
static int lin_shift(uint64_t out[4], const uint64_t a[4], int64_t f, const uint64_t b[4],
                     int64_t g)
{
    uint64_t x[5], y[5];
    int neg, i;
    mul_signed(x, a, f);
    mul_signed(y, b, g);
    add5(x, x, y);
    neg = (int)(x[4] >> 63);
    if (neg) {
        uint64_t c = 1;
        for (i = 0; i < 5; i++) {
            u128 t = (u128)(~x[i]) + c;
            x[i] = (uint64_t)t;
            c = (uint64_t)(t >> 64);
        }
    }
    for (i = 0; i < 4; i++)
        out[i] = x[i] >> INV_STEPS | x[i + 1] << (64 - INV_STEPS);
    return neg;
}

/* out = (u f + v g) 2^-64 mod p, for u, v < p and |f|, |g| <= 2^31. */
static void lin_mod(struct qcn_bn254_fp *out, const uint64_t u[4], int64_t f, const uint64_t v[4],
                    int64_t g)
{
    /* p * 2^33 > |u f + v g|: adding it makes the value non-negative. */
    static const uint64_t P_SHL33[5] = {0xb0f9fa8e00000000ULL, 0xd0e3951a7841182dULL,
                                        0x0302b0bb2f02d522ULL, 0xc263405370a08b6dULL,
                                        0x0000000060c89ce5ULL};
    uint64_t x[5], y[5], m, carry = 0;
    int i;
    mul_signed(x, u, f);
    mul_signed(y, v, g);
    add5(x, x, y);
    add5(x, x, P_SHL33);
    /* One Montgomery step: x + m p clears the low limb (x < 2^288, m p < 2^318). */
    m = x[0] * PINV;
    for (i = 0; i < 4; i++) {
        u128 t = (u128)m * P[i] + x[i] + carry;
        x[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    x[4] += carry;
    reduce_once(out->v, x[1], x[2], x[3], x[4]);
}

void qcn_bn254_fp_inv(struct qcn_bn254_fp *r, const struct qcn_bn254_fp *x)
{
    uint64_t a[4], b[4], na[4], nb[4];
    struct qcn_bn254_fp u = {{1, 0, 0, 0}}, v = {{0, 0, 0, 0}}, nu, nv;
    int round, j;

    memcpy(a, x->v, sizeof a);
    memcpy(b, P, sizeof b);
    for (round = 0; round < INV_ROUNDS; round++) {
        unsigned la = bitlen4(a), lb = bitlen4(b), n = la > lb ? la : lb;
        uint64_t xa, xb;
        int64_t f0 = 1, g0 = 0, f1 = 0, g1 = 1;
        if (n <= 64) {
            xa = a[0];
            xb = b[0];
        } else {
            const uint64_t low = ((uint64_t)1 << INV_STEPS) - 1;
            xa = (a[0] & low) | bits64(a, n - 33) << INV_STEPS;
            xb = (b[0] & low) | bits64(b, n - 33) << INV_STEPS;
        }
        for (j = 0; j < INV_STEPS; j++) {
            if (xa & 1) {
                if (xa < xb) {
                    uint64_t t = xa;
                    int64_t tf = f0, tg = g0;
                    xa = xb;
                    xb = t;
                    f0 = f1;
                    g0 = g1;
                    f1 = tf;
                    g1 = tg;
                }
                xa -= xb;
                f0 -= f1;
                g0 -= g1;
            }
            xa >>= 1;
            f1 *= 2;
            g1 *= 2;
        }
        if (lin_shift(na, a, f0, b, g0)) {
            f0 = -f0;
            g0 = -g0;
        }
        if (lin_shift(nb, a, f1, b, g1)) {
            f1 = -f1;
            g1 = -g1;
        }
        memcpy(a, na, sizeof a);
        memcpy(b, nb, sizeof b);
        lin_mod(&nu, u.v, f0, v.v, g0);
        lin_mod(&nv, u.v, f1, v.v, g1);
        u = nu;
        v = nv;
    }
    /* For x = 0 the loop ends with b = p and v meaningless: keep 0 -> 0. */
    if (qcn_bn254_fp_is_zero(x)) {
        memset(r, 0, sizeof *r);
        return;
    }
    fp_mul(r, &v, &INV_FIX);
}

/* ---------------------------------------------------------------- Fp2 */

void qcn_bn254_fp2_set_u64(struct qcn_bn254_fp2 *r, uint64_t x)
{
    qcn_bn254_fp_set_u64(&r->c0, x);
    memset(&r->c1, 0, sizeof r->c1);
}

void qcn_bn254_fp2_add(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                       const struct qcn_bn254_fp2 *b)
{
    fp_add(&r->c0, &a->c0, &b->c0);
    fp_add(&r->c1, &a->c1, &b->c1);
}

void qcn_bn254_fp2_sub(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                       const struct qcn_bn254_fp2 *b)
{
    fp_sub(&r->c0, &a->c0, &b->c0);
    fp_sub(&r->c1, &a->c1, &b->c1);
}

void qcn_bn254_fp2_neg(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a)
{
    fp_neg(&r->c0, &a->c0);
    fp_neg(&r->c1, &a->c1);
}

void qcn_bn254_fp2_conj(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a)
{
    r->c0 = a->c0;
    fp_neg(&r->c1, &a->c1);
}

/* Karatsuba: (a0 + a1 u)(b0 + b1 u) with u^2 = -1. */
void qcn_bn254_fp2_mul(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                       const struct qcn_bn254_fp2 *b)
{
    struct qcn_bn254_fp v0, v1, s, t;
    fp_mul(&v0, &a->c0, &b->c0);
    fp_mul(&v1, &a->c1, &b->c1);
    fp_add(&s, &a->c0, &a->c1);
    fp_add(&t, &b->c0, &b->c1);
    fp_mul(&s, &s, &t);
    fp_sub(&s, &s, &v0);
    fp_sub(&r->c1, &s, &v1);
    fp_sub(&r->c0, &v0, &v1);
}

void qcn_bn254_fp2_mul_fp(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a,
                          const struct qcn_bn254_fp *b)
{
    fp_mul(&r->c0, &a->c0, b);
    fp_mul(&r->c1, &a->c1, b);
}

/* (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u. */
void qcn_bn254_fp2_sqr(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a)
{
    struct qcn_bn254_fp s, d, m;
    fp_add(&s, &a->c0, &a->c1);
    fp_sub(&d, &a->c0, &a->c1);
    fp_mul(&m, &a->c0, &a->c1);
    fp_mul(&r->c0, &s, &d);
    fp_add(&r->c1, &m, &m);
}

/* 1/(a0 + a1 u) = (a0 - a1 u) / (a0^2 + a1^2). */
void qcn_bn254_fp2_inv(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a)
{
    struct qcn_bn254_fp t0, t1;
    fp_sqr(&t0, &a->c0);
    fp_sqr(&t1, &a->c1);
    fp_add(&t0, &t0, &t1);
    qcn_bn254_fp_inv(&t0, &t0);
    fp_mul(&r->c0, &a->c0, &t0);
    fp_mul(&t1, &a->c1, &t0);
    fp_neg(&r->c1, &t1);
}

/* (a0 + a1 u)(9 + u) = (9 a0 - a1) + (a0 + 9 a1) u. */
void qcn_bn254_fp2_mul_xi(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a)
{
    struct qcn_bn254_fp n0, n1;
    fp_add(&n0, &a->c0, &a->c0); /* 2 */
    fp_add(&n0, &n0, &n0);       /* 4 */
    fp_add(&n0, &n0, &n0);       /* 8 */
    fp_add(&n0, &n0, &a->c0);    /* 9 */
    fp_add(&n1, &a->c1, &a->c1);
    fp_add(&n1, &n1, &n1);
    fp_add(&n1, &n1, &n1);
    fp_add(&n1, &n1, &a->c1);
    fp_sub(&n0, &n0, &a->c1);
    fp_add(&r->c1, &n1, &a->c0);
    r->c0 = n0;
}

int qcn_bn254_fp2_is_zero(const struct qcn_bn254_fp2 *a)
{
    return qcn_bn254_fp_is_zero(&a->c0) && qcn_bn254_fp_is_zero(&a->c1);
}

int qcn_bn254_fp2_eq(const struct qcn_bn254_fp2 *a, const struct qcn_bn254_fp2 *b)
{
    return qcn_bn254_fp_eq(&a->c0, &b->c0) && qcn_bn254_fp_eq(&a->c1, &b->c1);
}

void qcn_bn254_fp2_pow(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *a, const uint8_t *e,
                       size_t elen)
{
    struct qcn_bn254_fp2 acc, base = *a;
    size_t i;
    int bit;
    qcn_bn254_fp2_set_u64(&acc, 1);
    for (i = 0; i < elen; i++) {
        for (bit = 7; bit >= 0; bit--) {
            qcn_bn254_fp2_sqr(&acc, &acc);
            if ((e[i] >> bit) & 1)
                qcn_bn254_fp2_mul(&acc, &acc, &base);
        }
    }
    *r = acc;
}

/* ---------------------------------------------------------------- Fp6 */

static void fp6_add(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a,
                    const struct qcn_bn254_fp6 *b)
{
    qcn_bn254_fp2_add(&r->c0, &a->c0, &b->c0);
    qcn_bn254_fp2_add(&r->c1, &a->c1, &b->c1);
    qcn_bn254_fp2_add(&r->c2, &a->c2, &b->c2);
}

static void fp6_sub(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a,
                    const struct qcn_bn254_fp6 *b)
{
    qcn_bn254_fp2_sub(&r->c0, &a->c0, &b->c0);
    qcn_bn254_fp2_sub(&r->c1, &a->c1, &b->c1);
    qcn_bn254_fp2_sub(&r->c2, &a->c2, &b->c2);
}

static void fp6_neg(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a)
{
    qcn_bn254_fp2_neg(&r->c0, &a->c0);
    qcn_bn254_fp2_neg(&r->c1, &a->c1);
    qcn_bn254_fp2_neg(&r->c2, &a->c2);
}

/* (a0 + a1 v + a2 v^2) * v = xi a2 + a0 v + a1 v^2. */
static void fp6_mul_v(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a)
{
    struct qcn_bn254_fp2 t;
    qcn_bn254_fp2_mul_xi(&t, &a->c2);
    r->c2 = a->c1;
    r->c1 = a->c0;
    r->c0 = t;
}

/* Karatsuba's cross term (ai + aj)(bi + bj) - vi - vj, which is
 * ai bj + aj bi when vi = ai bi and vj = aj bj. */
static void cross(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *ai,
                  const struct qcn_bn254_fp2 *aj, const struct qcn_bn254_fp2 *bi,
                  const struct qcn_bn254_fp2 *bj, const struct qcn_bn254_fp2 *vi,
                  const struct qcn_bn254_fp2 *vj)
{
    struct qcn_bn254_fp2 s, t;
    qcn_bn254_fp2_add(&s, ai, aj);
    qcn_bn254_fp2_add(&t, bi, bj);
    qcn_bn254_fp2_mul(&s, &s, &t);
    qcn_bn254_fp2_sub(&s, &s, vi);
    qcn_bn254_fp2_sub(r, &s, vj);
}

/* Karatsuba over the cubic extension (Devegili et al. §4). */
void qcn_bn254_fp6_mul(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a,
                       const struct qcn_bn254_fp6 *b)
{
    struct qcn_bn254_fp2 v0, v1, v2, s, t, c0, c1, c2;
    qcn_bn254_fp2_mul(&v0, &a->c0, &b->c0);
    qcn_bn254_fp2_mul(&v1, &a->c1, &b->c1);
    qcn_bn254_fp2_mul(&v2, &a->c2, &b->c2);
    /* c0 = v0 + xi((a1 + a2)(b1 + b2) - v1 - v2) */
    cross(&s, &a->c1, &a->c2, &b->c1, &b->c2, &v1, &v2);
    qcn_bn254_fp2_mul_xi(&s, &s);
    qcn_bn254_fp2_add(&c0, &s, &v0);
    /* c1 = (a0 + a1)(b0 + b1) - v0 - v1 + xi v2 */
    cross(&s, &a->c0, &a->c1, &b->c0, &b->c1, &v0, &v1);
    qcn_bn254_fp2_mul_xi(&t, &v2);
    qcn_bn254_fp2_add(&c1, &s, &t);
    /* c2 = (a0 + a2)(b0 + b2) - v0 - v2 + v1 */
    cross(&s, &a->c0, &a->c2, &b->c0, &b->c2, &v0, &v2);
    qcn_bn254_fp2_add(&c2, &s, &v1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/* a * (b0 + b1 v), the shape of a line's w-odd half (b2 = 0). */
static void fp6_mul_01(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a,
                       const struct qcn_bn254_fp2 *b0, const struct qcn_bn254_fp2 *b1)
{
    struct qcn_bn254_fp2 v0, v1, s, c0, c1, c2;
    qcn_bn254_fp2_mul(&v0, &a->c0, b0);
    qcn_bn254_fp2_mul(&v1, &a->c1, b1);
    /* c0 = v0 + xi(a2 b1) */
    qcn_bn254_fp2_mul(&s, &a->c2, b1);
    qcn_bn254_fp2_mul_xi(&s, &s);
    qcn_bn254_fp2_add(&c0, &s, &v0);
    /* c1 = (a0 + a1)(b0 + b1) - v0 - v1 */
    cross(&c1, &a->c0, &a->c1, b0, b1, &v0, &v1);
    /* c2 = a2 b0 + v1 */
    qcn_bn254_fp2_mul(&s, &a->c2, b0);
    qcn_bn254_fp2_add(&c2, &s, &v1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

static void fp6_mul_fp2(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a,
                        const struct qcn_bn254_fp2 *b)
{
    qcn_bn254_fp2_mul(&r->c0, &a->c0, b);
    qcn_bn254_fp2_mul(&r->c1, &a->c1, b);
    qcn_bn254_fp2_mul(&r->c2, &a->c2, b);
}

void qcn_bn254_fp6_inv(struct qcn_bn254_fp6 *r, const struct qcn_bn254_fp6 *a)
{
    struct qcn_bn254_fp2 t0, t1, t2, s, d;
    /* t0 = a0^2 - xi a1 a2, t1 = xi a2^2 - a0 a1, t2 = a1^2 - a0 a2 */
    qcn_bn254_fp2_sqr(&t0, &a->c0);
    qcn_bn254_fp2_mul(&s, &a->c1, &a->c2);
    qcn_bn254_fp2_mul_xi(&s, &s);
    qcn_bn254_fp2_sub(&t0, &t0, &s);
    qcn_bn254_fp2_sqr(&t1, &a->c2);
    qcn_bn254_fp2_mul_xi(&t1, &t1);
    qcn_bn254_fp2_mul(&s, &a->c0, &a->c1);
    qcn_bn254_fp2_sub(&t1, &t1, &s);
    qcn_bn254_fp2_sqr(&t2, &a->c1);
    qcn_bn254_fp2_mul(&s, &a->c0, &a->c2);
    qcn_bn254_fp2_sub(&t2, &t2, &s);
    /* d = a0 t0 + xi(a2 t1 + a1 t2) */
    qcn_bn254_fp2_mul(&d, &a->c2, &t1);
    qcn_bn254_fp2_mul(&s, &a->c1, &t2);
    qcn_bn254_fp2_add(&d, &d, &s);
    qcn_bn254_fp2_mul_xi(&d, &d);
    qcn_bn254_fp2_mul(&s, &a->c0, &t0);
    qcn_bn254_fp2_add(&d, &d, &s);
    qcn_bn254_fp2_inv(&d, &d);
    qcn_bn254_fp2_mul(&r->c0, &t0, &d);
    qcn_bn254_fp2_mul(&r->c1, &t1, &d);
    qcn_bn254_fp2_mul(&r->c2, &t2, &d);
}

/* ---------------------------------------------------------------- Fp12 */

void qcn_bn254_fp12_set_one(struct qcn_bn254_fp12 *r)
{
    memset(r, 0, sizeof *r);
    r->c0.c0.c0 = ONE;
}

int qcn_bn254_fp12_eq(const struct qcn_bn254_fp12 *a, const struct qcn_bn254_fp12 *b)
{
    return qcn_bn254_fp2_eq(&a->c0.c0, &b->c0.c0) && qcn_bn254_fp2_eq(&a->c0.c1, &b->c0.c1) &&
           qcn_bn254_fp2_eq(&a->c0.c2, &b->c0.c2) && qcn_bn254_fp2_eq(&a->c1.c0, &b->c1.c0) &&
           qcn_bn254_fp2_eq(&a->c1.c1, &b->c1.c1) && qcn_bn254_fp2_eq(&a->c1.c2, &b->c1.c2);
}

int qcn_bn254_fp12_is_one(const struct qcn_bn254_fp12 *a)
{
    struct qcn_bn254_fp12 one;
    qcn_bn254_fp12_set_one(&one);
    return qcn_bn254_fp12_eq(a, &one);
}

/* Karatsuba over the quadratic extension: w^2 = v. */
void qcn_bn254_fp12_mul(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a,
                        const struct qcn_bn254_fp12 *b)
{
    struct qcn_bn254_fp6 v0, v1, s, t;
    qcn_bn254_fp6_mul(&v0, &a->c0, &b->c0);
    qcn_bn254_fp6_mul(&v1, &a->c1, &b->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_add(&t, &b->c0, &b->c1);
    qcn_bn254_fp6_mul(&s, &s, &t);
    fp6_sub(&s, &s, &v0);
    fp6_sub(&r->c1, &s, &v1);
    fp6_mul_v(&v1, &v1);
    fp6_add(&r->c0, &v0, &v1);
}

/* Complex squaring: (a0 + a1 w)^2 = (a0 + a1)(a0 + v a1) - t - v t + 2t w,
 * t = a0 a1. */
void qcn_bn254_fp12_sqr(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a)
{
    struct qcn_bn254_fp6 t, s, u, vt;
    qcn_bn254_fp6_mul(&t, &a->c0, &a->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_mul_v(&u, &a->c1);
    fp6_add(&u, &u, &a->c0);
    qcn_bn254_fp6_mul(&s, &s, &u);
    fp6_mul_v(&vt, &t);
    fp6_sub(&s, &s, &t);
    fp6_sub(&r->c0, &s, &vt);
    fp6_add(&r->c1, &t, &t);
}

/* 1/(a0 + a1 w) = (a0 - a1 w) / (a0^2 - v a1^2). */
void qcn_bn254_fp12_inv(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a)
{
    struct qcn_bn254_fp6 t0, t1;
    qcn_bn254_fp6_mul(&t0, &a->c0, &a->c0);
    qcn_bn254_fp6_mul(&t1, &a->c1, &a->c1);
    fp6_mul_v(&t1, &t1);
    fp6_sub(&t0, &t0, &t1);
    qcn_bn254_fp6_inv(&t0, &t0);
    qcn_bn254_fp6_mul(&r->c0, &a->c0, &t0);
    qcn_bn254_fp6_mul(&t1, &a->c1, &t0);
    fp6_neg(&r->c1, &t1);
}

void qcn_bn254_fp12_conj(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a)
{
    r->c0 = a->c0;
    fp6_neg(&r->c1, &a->c1);
}

/* w-basis positions: c0.c0 = w^0, c1.c0 = w^1, c0.c1 = w^2, c1.c1 = w^3,
 * c0.c2 = w^4, c1.c2 = w^5. */
void qcn_bn254_fp12_frob(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a)
{
    struct qcn_bn254_fp2 t;
    qcn_bn254_fp2_conj(&r->c0.c0, &a->c0.c0);
    qcn_bn254_fp2_conj(&t, &a->c1.c0);
    qcn_bn254_fp2_mul(&r->c1.c0, &t, &GAMMA1[1]);
    qcn_bn254_fp2_conj(&t, &a->c0.c1);
    qcn_bn254_fp2_mul(&r->c0.c1, &t, &GAMMA1[2]);
    qcn_bn254_fp2_conj(&t, &a->c1.c1);
    qcn_bn254_fp2_mul(&r->c1.c1, &t, &GAMMA1[3]);
    qcn_bn254_fp2_conj(&t, &a->c0.c2);
    qcn_bn254_fp2_mul(&r->c0.c2, &t, &GAMMA1[4]);
    qcn_bn254_fp2_conj(&t, &a->c1.c2);
    qcn_bn254_fp2_mul(&r->c1.c2, &t, &GAMMA1[5]);
}

void qcn_bn254_fp12_frob2(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a)
{
    r->c0.c0 = a->c0.c0;
    qcn_bn254_fp2_mul_fp(&r->c1.c0, &a->c1.c0, &GAMMA2[1]);
    qcn_bn254_fp2_mul_fp(&r->c0.c1, &a->c0.c1, &GAMMA2[2]);
    qcn_bn254_fp2_mul_fp(&r->c1.c1, &a->c1.c1, &GAMMA2[3]);
    qcn_bn254_fp2_mul_fp(&r->c0.c2, &a->c0.c2, &GAMMA2[4]);
    qcn_bn254_fp2_mul_fp(&r->c1.c2, &a->c1.c2, &GAMMA2[5]);
}

/* a * ((c0, 0, 0) + (c1, c3, 0) w):
 *   r0 = a0 c0 + v (a1 (c1 + c3 v)),  r1 = a1 c0 + a0 (c1 + c3 v). */
void qcn_bn254_fp12_mul_line(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a,
                             const struct qcn_bn254_fp2 *c0, const struct qcn_bn254_fp2 *c1,
                             const struct qcn_bn254_fp2 *c3)
{
    struct qcn_bn254_fp6 t0, t1, s, u;
    struct qcn_bn254_fp2 b0;
    /* Karatsuba: t0 = a0 c0, t1 = a1 (c1 + c3 v),
     * r1 = (a0 + a1)(c0 + c1 + c3 v) - t0 - t1. */
    fp6_mul_fp2(&t0, &a->c0, c0);
    fp6_mul_01(&t1, &a->c1, c1, c3);
    fp6_add(&s, &a->c0, &a->c1);
    qcn_bn254_fp2_add(&b0, c0, c1);
    fp6_mul_01(&s, &s, &b0, c3);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&r->c1, &s, &t1);
    fp6_mul_v(&u, &t1);
    fp6_add(&r->c0, &t0, &u);
}

/* (x0 + x1 s)^2 in Fp4 = Fp2[s]/(s^2 - xi). */
static void fp4_sqr(struct qcn_bn254_fp2 *r0, struct qcn_bn254_fp2 *r1,
                    const struct qcn_bn254_fp2 *x0, const struct qcn_bn254_fp2 *x1)
{
    struct qcn_bn254_fp2 t0, t1, t;
    qcn_bn254_fp2_sqr(&t0, x0);
    qcn_bn254_fp2_sqr(&t1, x1);
    qcn_bn254_fp2_add(&t, x0, x1);
    qcn_bn254_fp2_sqr(&t, &t);
    qcn_bn254_fp2_sub(&t, &t, &t0);
    qcn_bn254_fp2_sub(r1, &t, &t1);
    qcn_bn254_fp2_mul_xi(&t1, &t1);
    qcn_bn254_fp2_add(r0, &t0, &t1);
}

/* r = 3x - 2y, r = 3x + 2y */
static void three_minus_two(struct qcn_bn254_fp2 *r, const struct qcn_bn254_fp2 *x,
                            const struct qcn_bn254_fp2 *y, int plus)
{
    struct qcn_bn254_fp2 t;
    if (plus)
        qcn_bn254_fp2_add(&t, x, y);
    else
        qcn_bn254_fp2_sub(&t, x, y);
    qcn_bn254_fp2_add(&t, &t, &t);
    qcn_bn254_fp2_add(r, &t, x);
}

/* Granger-Scott squaring in the cyclotomic subgroup ("Faster squaring in the
 * cyclotomic subgroup of sixth degree extensions", PKC 2010, §3.2): with
 * s = w^3, t = w and a = A + B t + C t^2 over Fp4,
 * a^2 = (3A^2 - 2conj(A)) + (3 s C^2 + 2conj(B)) t + (3B^2 - 2conj(C)) t^2.
 * Valid only for a with a^(p^4 - p^2 + 1) = 1 (after the easy part). */
void qcn_bn254_fp12_cyclotomic_sqr(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a)
{
    /* A = (a0, a3), B = (a1, a4), C = (a2, a5) in the w-basis. */
    struct qcn_bn254_fp2 a0 = a->c0.c0, a1 = a->c1.c0, a2 = a->c0.c1;
    struct qcn_bn254_fp2 a3 = a->c1.c1, a4 = a->c0.c2, a5 = a->c1.c2;
    struct qcn_bn254_fp2 s0, s1;

    fp4_sqr(&s0, &s1, &a0, &a3);
    three_minus_two(&r->c0.c0, &s0, &a0, 0);
    three_minus_two(&r->c1.c1, &s1, &a3, 1);
    fp4_sqr(&s0, &s1, &a2, &a5);
    qcn_bn254_fp2_mul_xi(&s1, &s1);
    three_minus_two(&r->c1.c0, &s1, &a1, 1);
    three_minus_two(&r->c0.c2, &s0, &a4, 0);
    fp4_sqr(&s0, &s1, &a1, &a4);
    three_minus_two(&r->c0.c1, &s0, &a2, 0);
    three_minus_two(&r->c1.c2, &s1, &a5, 1);
}

void qcn_bn254_fp12_cyclotomic_pow(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a,
                                   const uint8_t *e, size_t elen)
{
    struct qcn_bn254_fp12 acc, base = *a;
    size_t i;
    int bit;
    qcn_bn254_fp12_set_one(&acc);
    for (i = 0; i < elen; i++) {
        for (bit = 7; bit >= 0; bit--) {
            qcn_bn254_fp12_cyclotomic_sqr(&acc, &acc);
            if ((e[i] >> bit) & 1)
                qcn_bn254_fp12_mul(&acc, &acc, &base);
        }
    }
    *r = acc;
}

void qcn_bn254_fp12_pow(struct qcn_bn254_fp12 *r, const struct qcn_bn254_fp12 *a, const uint8_t *e,
                        size_t elen)
{
    struct qcn_bn254_fp12 acc, base = *a;
    size_t i;
    int bit;
    qcn_bn254_fp12_set_one(&acc);
    for (i = 0; i < elen; i++) {
        for (bit = 7; bit >= 0; bit--) {
            qcn_bn254_fp12_sqr(&acc, &acc);
            if ((e[i] >> bit) & 1)
                qcn_bn254_fp12_mul(&acc, &acc, &base);
        }
    }
    *r = acc;
}

const struct qcn_bn254_fp2 *qcn_bn254_gamma1(int i)
{
    return &GAMMA1[i];
}
const struct qcn_bn254_fp *qcn_bn254_gamma2(int i)
{
    return &GAMMA2[i];
}
