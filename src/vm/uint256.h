/* uint256.h - the EVM word: 256-bit unsigned integers on four 64-bit limbs.
 *
 * w[0] is the least significant limb. Every operation is total (division by
 * zero gives zero, as the EVM defines it) and allocation-free; the cheap ones
 * are inline for the interpreter loop, the long ones live in uint256.c.
 * Signed operations treat the word as two's complement (Yellow Paper, H.2).
 * Pure functions: thread-safe. Outputs may alias inputs. */
#ifndef QCN_VM_UINT256_H
#define QCN_VM_UINT256_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* struct qcn_u256, QCN_U256_BYTES/LIMBS, from_u64, is_zero, cmp, add, sub */
#include "codec/u256.h"

/* __int128 is a GCC/Clang extension; __extension__ keeps -Wpedantic quiet. */
__extension__ typedef unsigned __int128 qcn_u128;

/* 1 if a fits in 64 bits. */
static inline int qcn_u256_fits_u64(const struct qcn_u256 *a)
{
    return (a->w[1] | a->w[2] | a->w[3]) == 0;
}

static inline int qcn_u256_eq(const struct qcn_u256 *a, const struct qcn_u256 *b)
{
    return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
            (a->w[3] ^ b->w[3])) == 0;
}

static inline int qcn_u256_lt(const struct qcn_u256 *a, const struct qcn_u256 *b)
{
    return qcn_u256_cmp(a, b) < 0;
}

/* Signed comparison: 1 if a < b as two's-complement integers. */
static inline int qcn_u256_slt(const struct qcn_u256 *a, const struct qcn_u256 *b)
{
    int sa = (int)(a->w[3] >> 63), sb = (int)(b->w[3] >> 63);
    if (sa != sb)
        return sa > sb;
    return qcn_u256_lt(a, b);
}

static inline void qcn_u256_neg(struct qcn_u256 *r, const struct qcn_u256 *a)
{
    struct qcn_u256 z = {{0, 0, 0, 0}};
    (void)qcn_u256_sub(r, &z, a);
}

/* r = a * b mod 2^256 (schoolbook, only the limbs that survive). */
static inline void qcn_u256_mul(struct qcn_u256 *r, const struct qcn_u256 *a,
                                const struct qcn_u256 *b)
{
    uint64_t t[QCN_U256_LIMBS];
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        uint64_t carry = 0;
        if (i == 0) {
            for (int j = 0; j < QCN_U256_LIMBS; j++) {
                qcn_u128 p = (qcn_u128)a->w[0] * b->w[j] + carry;
                t[j] = (uint64_t)p;
                carry = (uint64_t)(p >> 64);
            }
            continue;
        }
        for (int j = 0; i + j < QCN_U256_LIMBS; j++) {
            qcn_u128 p = (qcn_u128)a->w[i] * b->w[j] + t[i + j] + carry;
            t[i + j] = (uint64_t)p;
            carry = (uint64_t)(p >> 64);
        }
    }
    memcpy(r->w, t, sizeof t);
}

static inline void qcn_u256_and(struct qcn_u256 *r, const struct qcn_u256 *a,
                                const struct qcn_u256 *b)
{
    for (int i = 0; i < QCN_U256_LIMBS; i++)
        r->w[i] = a->w[i] & b->w[i];
}
static inline void qcn_u256_or(struct qcn_u256 *r, const struct qcn_u256 *a,
                               const struct qcn_u256 *b)
{
    for (int i = 0; i < QCN_U256_LIMBS; i++)
        r->w[i] = a->w[i] | b->w[i];
}
static inline void qcn_u256_xor(struct qcn_u256 *r, const struct qcn_u256 *a,
                                const struct qcn_u256 *b)
{
    for (int i = 0; i < QCN_U256_LIMBS; i++)
        r->w[i] = a->w[i] ^ b->w[i];
}
static inline void qcn_u256_not(struct qcn_u256 *r, const struct qcn_u256 *a)
{
    for (int i = 0; i < QCN_U256_LIMBS; i++)
        r->w[i] = ~a->w[i];
}

/* r = a << n (n >= 256 gives 0). */
static inline void qcn_u256_shl(struct qcn_u256 *r, const struct qcn_u256 *a, unsigned n)
{
    uint64_t t[QCN_U256_LIMBS] = {0, 0, 0, 0};
    if (n < 256) {
        unsigned limbs = n / 64, bits = n % 64;
        for (unsigned i = QCN_U256_LIMBS; i-- > limbs;) {
            uint64_t v = a->w[i - limbs] << bits;
            if (bits != 0 && i > limbs)
                v |= a->w[i - limbs - 1] >> (64 - bits);
            t[i] = v;
        }
    }
    memcpy(r->w, t, sizeof t);
}

/* r = a >> n, logical (n >= 256 gives 0). */
static inline void qcn_u256_shr(struct qcn_u256 *r, const struct qcn_u256 *a, unsigned n)
{
    uint64_t t[QCN_U256_LIMBS] = {0, 0, 0, 0};
    if (n < 256) {
        unsigned limbs = n / 64, bits = n % 64;
        for (unsigned i = 0; i + limbs < QCN_U256_LIMBS; i++) {
            uint64_t v = a->w[i + limbs] >> bits;
            if (bits != 0 && i + limbs + 1 < QCN_U256_LIMBS)
                v |= a->w[i + limbs + 1] << (64 - bits);
            t[i] = v;
        }
    }
    memcpy(r->w, t, sizeof t);
}

/* Shift amount from a stack word: the low limb, or 256 if any higher bit is set. */
static inline unsigned qcn_u256_shift_amount(const struct qcn_u256 *a)
{
    if (!qcn_u256_fits_u64(a) || a->w[0] >= 256)
        return 256;
    return (unsigned)a->w[0];
}

/* Number of significant bytes (0 for zero). */
static inline unsigned qcn_u256_byte_len(const struct qcn_u256 *a)
{
    for (int i = QCN_U256_LIMBS - 1; i >= 0; i--) {
        if (a->w[i] != 0)
            return (unsigned)i * 8 + (unsigned)(71 - __builtin_clzll(a->w[i])) / 8;
    }
    return 0;
}

/* Number of significant bits (0 for zero). */
static inline unsigned qcn_u256_bit_len(const struct qcn_u256 *a)
{
    for (int i = QCN_U256_LIMBS - 1; i >= 0; i--) {
        if (a->w[i] != 0)
            return (unsigned)i * 64 + (unsigned)(64 - __builtin_clzll(a->w[i]));
    }
    return 0;
}

/* Big-endian 32-byte conversion. */
static inline void qcn_u256_from_be32(struct qcn_u256 *r, const uint8_t in[QCN_U256_BYTES])
{
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        const uint8_t *p = in + (QCN_U256_LIMBS - 1 - i) * 8;
        r->w[i] = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
                  (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
                  (uint64_t)p[6] << 8 | (uint64_t)p[7];
    }
}
static inline void qcn_u256_to_be32(uint8_t out[QCN_U256_BYTES], const struct qcn_u256 *a)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Byte-swapped 8-byte stores: the hot path of MSTORE. */
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        uint64_t v = __builtin_bswap64(a->w[QCN_U256_LIMBS - 1 - i]);
        memcpy(out + 8 * i, &v, sizeof v);
    }
#else
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        uint8_t *p = out + (QCN_U256_LIMBS - 1 - i) * 8;
        uint64_t v = a->w[i];
        for (int j = 7; j >= 0; j--) {
            p[j] = (uint8_t)v;
            v >>= 8;
        }
    }
#endif
}

/* Loads len <= 32 big-endian bytes (right-aligned); the last 32 if longer. */
void qcn_u256_from_be_n(struct qcn_u256 *r, const uint8_t *in, size_t len);

/* Division family. Division or modulus by zero yields zero (Yellow Paper). */
void qcn_u256_divmod(struct qcn_u256 *q, struct qcn_u256 *rem, const struct qcn_u256 *a,
                     const struct qcn_u256 *b);
void qcn_u256_sdiv(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b);
void qcn_u256_smod(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b);
/* (a + b) mod m and (a * b) mod m with full-width intermediates; m == 0 gives 0. */
void qcn_u256_addmod(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b,
                     const struct qcn_u256 *m);
void qcn_u256_mulmod(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b,
                     const struct qcn_u256 *m);
/* base^exp mod 2^256. */
void qcn_u256_exp(struct qcn_u256 *r, const struct qcn_u256 *base, const struct qcn_u256 *exp);
/* SAR: arithmetic shift right by n (n >= 256 gives 0 or all ones). */
void qcn_u256_sar(struct qcn_u256 *r, const struct qcn_u256 *a, unsigned n);
/* SIGNEXTEND: extend the sign bit of byte b (0 = lowest) of x; b >= 31 leaves x. */
void qcn_u256_signextend(struct qcn_u256 *r, const struct qcn_u256 *b, const struct qcn_u256 *x);
/* BYTE: the i-th byte of x counting from the most significant (i >= 32 gives 0). */
void qcn_u256_byte(struct qcn_u256 *r, const struct qcn_u256 *i, const struct qcn_u256 *x);

/* Decimal / hex parsing for test fixtures: "0x..." hex or decimal digits.
 * Returns 0, or -1 on a malformed or too-large value (r is then zero). */
int qcn_u256_parse(struct qcn_u256 *r, const char *s);

#endif
