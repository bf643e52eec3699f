/* u256.h - unsigned 256-bit integers for balances and transferred values.
 *
 * In memory: four 64-bit limbs, least significant first. On the wire (RLP)
 * and on disk: big-endian bytes without leading zeros (qcn_rlp_put_uint_be).
 * All arithmetic reports overflow instead of wrapping, so balance rules can
 * reject instead of silently minting. Pure functions, thread-safe.
 *
 * This is the only definition of struct qcn_u256 and its basic helpers; the
 * EVM's vm/uint256.h includes it and adds the word operations the
 * interpreter needs. */
#ifndef QCN_CODEC_U256_H
#define QCN_CODEC_U256_H

#include <stddef.h>
#include <stdint.h>

#define QCN_U256_BYTES 32
#define QCN_U256_LIMBS 4

/* The one definition of the word, shared by the ledger and the EVM
 * (vm/uint256.h includes this header and adds the EVM's operations). */
struct qcn_u256 {
    uint64_t w[QCN_U256_LIMBS]; /* w[0] is the least significant limb */
};

static inline struct qcn_u256 qcn_u256_from_u64(uint64_t v)
{
    struct qcn_u256 r = {{v, 0, 0, 0}};
    return r;
}

static inline int qcn_u256_is_zero(const struct qcn_u256 *a)
{
    return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

/* -1, 0 or 1 as a < b, a == b, a > b. */
static inline int qcn_u256_cmp(const struct qcn_u256 *a, const struct qcn_u256 *b)
{
    for (int i = QCN_U256_LIMBS - 1; i >= 0; i--) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

/* *r = a + b mod 2^256; returns 1 on overflow (the carry out). r may alias a
 * or b. */
static inline unsigned qcn_u256_add(struct qcn_u256 *r, const struct qcn_u256 *a,
                                    const struct qcn_u256 *b)
{
    uint64_t s, carry = 0;
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        uint64_t c1 = __builtin_add_overflow(a->w[i], b->w[i], &s);
        uint64_t c2 = __builtin_add_overflow(s, carry, &s);
        r->w[i] = s;
        carry = c1 | c2;
    }
    return (unsigned)carry;
}

/* *r = a - b mod 2^256; returns 1 on underflow (a < b, the borrow out). r may
 * alias a or b. */
static inline unsigned qcn_u256_sub(struct qcn_u256 *r, const struct qcn_u256 *a,
                                    const struct qcn_u256 *b)
{
    uint64_t s, borrow = 0;
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        uint64_t b1 = __builtin_sub_overflow(a->w[i], b->w[i], &s);
        uint64_t b2 = __builtin_sub_overflow(s, borrow, &s);
        r->w[i] = s;
        borrow = b1 | b2;
    }
    return (unsigned)borrow;
}

/* *r = a * m; returns 1 on overflow. r may alias a. */
static inline int qcn_u256_mul_u64(struct qcn_u256 *r, const struct qcn_u256 *a, uint64_t m)
{
    __extension__ typedef unsigned __int128 u128;
    u128 carry = 0, t;
    int i;
    for (i = 0; i < 4; i++) {
        t = (u128)a->w[i] * m + carry;
        r->w[i] = (uint64_t)t;
        carry = t >> 64;
    }
    return carry != 0;
}

/* u64 * u64 exactly (fits in 128 bits, so never overflows a u256). */
static inline struct qcn_u256 qcn_u256_mul_u64_u64(uint64_t a, uint64_t b)
{
    __extension__ typedef unsigned __int128 u128;
    u128 t = (u128)a * b;
    struct qcn_u256 r = {{(uint64_t)t, (uint64_t)(t >> 64), 0, 0}};
    return r;
}

/* Big-endian 32 bytes <-> limbs. */
static inline void qcn_u256_to_be(uint8_t out[QCN_U256_BYTES], const struct qcn_u256 *a)
{
    int i, j;
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 8; j++)
            out[31 - (i * 8 + j)] = (uint8_t)(a->w[i] >> (8 * j));
    }
}

static inline struct qcn_u256 qcn_u256_load_be(const uint8_t in[QCN_U256_BYTES])
{
    struct qcn_u256 r = {{0, 0, 0, 0}};
    int i, j;
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 8; j++)
            r.w[i] |= (uint64_t)in[31 - (i * 8 + j)] << (8 * j);
    }
    return r;
}

/* The earlier name of qcn_u256_load_be, kept for existing callers. */
static inline struct qcn_u256 qcn_u256_from_be(const uint8_t in[QCN_U256_BYTES])
{
    return qcn_u256_load_be(in);
}

#endif
