/* precompile_modexp.c - MODEXP (0x05), EIP-198 with EIP-2565 pricing.
 *
 * Input: Bsize, Esize, Msize (32-byte big-endian words), then B, E, M of those
 * sizes, all zero-padded past the end of the call data. Output: B^E mod M in
 * exactly Msize bytes (zeros for M = 0).
 *
 * The declared sizes come from the caller and may be up to 2^256-1, so the
 * price is computed from them (in 128-bit arithmetic, without touching the
 * operands) before anything is allocated; the run then allocates only what
 * was paid for, and never more than QCN_VM_MODEXP_MAX_OPERAND_BYTES per
 * operand. */
#include <string.h>

#include <gmp.h>

#include "vm/precompile_impl.h"

__extension__ typedef unsigned __int128 u128;

#define HEADER_BYTES (3u * QCN_VM_WORD_BYTES)
#define EXP_HEAD_BYTES 32u

/* A declared length: its low 64 bits, and whether it is >= 2^64. */
struct len256 {
    uint64_t v;
    int huge;
};

static struct len256 read_len(const uint8_t *in, size_t inlen, size_t off)
{
    uint8_t w[QCN_VM_WORD_BYTES];
    struct len256 l = {0, 0};
    size_t i;

    qcn_vm_pc_read_padded(w, sizeof w, in, inlen, off);
    for (i = 0; i < QCN_VM_WORD_BYTES - 8; i++)
        if (w[i] != 0)
            l.huge = 1;
    l.v = qcn_load_be64(w + QCN_VM_WORD_BYTES - 8);
    return l;
}

/* Offset of the exponent (HEADER_BYTES + Bsize) if it lies inside the call
 * data, else 0 (the exponent then reads as zeros). */
static size_t exp_offset(struct len256 b, size_t inlen)
{
    uint64_t off;
    if (b.huge || __builtin_add_overflow(b.v, (uint64_t)HEADER_BYTES, &off) || off >= inlen)
        return 0;
    return (size_t)off;
}

/* Index of the highest set bit of the exponent's first min(Esize, 32) bytes
 * plus one, or 0 if they are all zero. */
static unsigned exp_head_bits(const uint8_t *in, size_t inlen, struct len256 b, struct len256 e)
{
    uint8_t head[EXP_HEAD_BYTES];
    size_t n = (e.huge || e.v > EXP_HEAD_BYTES) ? EXP_HEAD_BYTES : (size_t)e.v;
    size_t off = exp_offset(b, inlen), i;

    if (off == 0 || n == 0)
        return 0;
    qcn_vm_pc_read_padded(head, n, in, inlen, off);
    for (i = 0; i < n; i++)
        if (head[i] != 0)
            return (unsigned)((n - i - 1) * 8) + 32u - (unsigned)__builtin_clz(head[i]);
    return 0;
}

/* EIP-2565: max(200, mult_complexity * iteration_count / 3) with
 * mult_complexity = ceil(max(Bsize, Msize) / 8)^2 and iteration_count as in
 * EIP-198's adjusted exponent length ("8 * (Esize - 32) plus the index of the
 * highest bit in the first 32 bytes of E, or 0 if all are zero"), at least 1. */
int qcn_vm_pc_modexp_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    struct len256 b = read_len(in, inlen, 0), e = read_len(in, inlen, QCN_VM_WORD_BYTES);
    struct len256 m = read_len(in, inlen, 2u * QCN_VM_WORD_BYTES);
    unsigned headbits = exp_head_bits(in, inlen, b, e);
    u128 words, mc, iter, g;

    if (b.huge || m.huge) {
        /* max(Bsize, Msize) >= 2^64: mult_complexity >= 2^122, and
         * iteration_count >= 1. */
        return QCN_ERR_VM_OUT_OF_GAS;
    }
    words = ((u128)(b.v > m.v ? b.v : m.v) + 7) / 8;
    mc = words * words;
    if (mc == 0) {
        *gas = QCN_VM_GAS_MODEXP_MIN;
        return QCN_OK;
    }
    if (e.huge)
        return QCN_ERR_VM_OUT_OF_GAS; /* iteration_count >= 2^67, mc >= 1 */
    if (e.v <= EXP_HEAD_BYTES)
        iter = headbits > 0 ? headbits - 1 : 0;
    else
        iter = ((u128)e.v - EXP_HEAD_BYTES) * 8 + (headbits > 0 ? headbits - 1 : 0);
    if (iter < 1)
        iter = 1;
    if (__builtin_mul_overflow(mc, iter, &g))
        return QCN_ERR_VM_OUT_OF_GAS;
    g /= 3;
    if (g > UINT64_MAX)
        return QCN_ERR_VM_OUT_OF_GAS;
    *gas = g < QCN_VM_GAS_MODEXP_MIN ? QCN_VM_GAS_MODEXP_MIN : (uint64_t)g;
    return QCN_OK;
}

/* Loads the len-byte big-endian operand at off, zero-padded past inlen,
 * without materialising the padding: value = present bytes * 256^missing. */
static void load_operand(mpz_t z, const uint8_t *in, size_t inlen, size_t off, size_t len)
{
    size_t avail = off < inlen ? inlen - off : 0;
    if (avail > len)
        avail = len;
    if (avail == 0) {
        mpz_set_ui(z, 0);
        return;
    }
    mpz_import(z, avail, 1, 1, 1, 0, in + off);
    mpz_mul_2exp(z, z, (mp_bitcnt_t)(len - avail) * 8u);
}

int qcn_vm_pc_modexp_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    struct len256 b = read_len(in, inlen, 0), e = read_len(in, inlen, QCN_VM_WORD_BYTES);
    struct len256 m = read_len(in, inlen, 2u * QCN_VM_WORD_BYTES);
    mpz_t zb, ze, zm, zr;
    size_t bl, el, ml, count = 0;
    int err;

    /* Output is exactly Msize bytes; nothing else is read when it is 0 (the
     * price already covered Bsize and Esize). */
    if (!m.huge && m.v == 0)
        return QCN_OK;
    if (b.huge || e.huge || m.huge || b.v > QCN_VM_MODEXP_MAX_OPERAND_BYTES ||
        e.v > QCN_VM_MODEXP_MAX_OPERAND_BYTES || m.v > QCN_VM_MODEXP_MAX_OPERAND_BYTES)
        return QCN_ERR_VM_PRECOMPILE;
    bl = (size_t)b.v;
    el = (size_t)e.v;
    ml = (size_t)m.v;
    err = qcn_buf_reserve(out, ml);
    if (err != QCN_OK)
        return err;
    mpz_inits(zb, ze, zm, zr, NULL);
    load_operand(zb, in, inlen, HEADER_BYTES, bl);
    load_operand(ze, in, inlen, HEADER_BYTES + bl, el);
    load_operand(zm, in, inlen, HEADER_BYTES + bl + el, ml);
    memset(out->p, 0, ml);
    if (mpz_sgn(zm) != 0) {
        mpz_powm(zr, zb, ze, zm);
        /* zr < M < 256^ml, so it fits in ml bytes. */
        count = (mpz_sizeinbase(zr, 2) + 7) / 8;
        if (mpz_sgn(zr) != 0)
            mpz_export(out->p + ml - count, &count, 1, 1, 1, 0, zr);
    }
    out->len = ml;
    mpz_clears(zb, ze, zm, zr, NULL);
    return QCN_OK;
}
