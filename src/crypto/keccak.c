/* Keccak-f[1600] (FIPS 202 §3) and the sponge construction (FIPS 202 §4).
 *
 * The permutation keeps the 25 lanes in locals so the compiler can hold them
 * in registers; theta, rho, pi, chi and iota are written out per lane. The
 * state is stored as little-endian lanes, so absorbing XORs bytes at
 * lane*8 + byte; on a little-endian host this is the plain byte order. */
#include "crypto/keccak.h"
#include "crypto/keccak_x4.h"

#include <string.h>

#include "util/bytes.h"
#include "util/mem.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "keccak.c assumes a little-endian host"
#endif

const uint64_t qcn_keccak_round_constants[QCN_KECCAK_ROUNDS] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* The 24 rounds, inlined into each instruction-set variant below. */
static inline __attribute__((always_inline)) void keccak_rounds(uint64_t s[QCN_KECCAK_STATE_LANES])
{
    /* Lane a[x + 5y] is named Axy. */
    uint64_t A00 = s[0], A10 = s[1], A20 = s[2], A30 = s[3], A40 = s[4];
    uint64_t A01 = s[5], A11 = s[6], A21 = s[7], A31 = s[8], A41 = s[9];
    uint64_t A02 = s[10], A12 = s[11], A22 = s[12], A32 = s[13], A42 = s[14];
    uint64_t A03 = s[15], A13 = s[16], A23 = s[17], A33 = s[18], A43 = s[19];
    uint64_t A04 = s[20], A14 = s[21], A24 = s[22], A34 = s[23], A44 = s[24];
    int r;

    for (r = 0; r < QCN_KECCAK_ROUNDS; r++) {
        uint64_t C0, C1, C2, C3, C4, D0, D1, D2, D3, D4;
        uint64_t B00, B10, B20, B30, B40, B01, B11, B21, B31, B41;
        uint64_t B02, B12, B22, B32, B42, B03, B13, B23, B33, B43;
        uint64_t B04, B14, B24, B34, B44;

        /* theta */
        C0 = A00 ^ A01 ^ A02 ^ A03 ^ A04;
        C1 = A10 ^ A11 ^ A12 ^ A13 ^ A14;
        C2 = A20 ^ A21 ^ A22 ^ A23 ^ A24;
        C3 = A30 ^ A31 ^ A32 ^ A33 ^ A34;
        C4 = A40 ^ A41 ^ A42 ^ A43 ^ A44;
        D0 = C4 ^ ROL(C1, 1);
        D1 = C0 ^ ROL(C2, 1);
        D2 = C1 ^ ROL(C3, 1);
        D3 = C2 ^ ROL(C4, 1);
        D4 = C3 ^ ROL(C0, 1);

        /* rho and pi: B[y][2x+3y] = ROL(A[x][y] ^ D[x], r[x][y]) */
        B00 = A00 ^ D0;
        B02 = ROL(A10 ^ D1, 1);
        B04 = ROL(A20 ^ D2, 62);
        B01 = ROL(A30 ^ D3, 28);
        B03 = ROL(A40 ^ D4, 27);
        B13 = ROL(A01 ^ D0, 36);
        B10 = ROL(A11 ^ D1, 44);
        B12 = ROL(A21 ^ D2, 6);
        B14 = ROL(A31 ^ D3, 55);
        B11 = ROL(A41 ^ D4, 20);
        B21 = ROL(A02 ^ D0, 3);
        B23 = ROL(A12 ^ D1, 10);
        B20 = ROL(A22 ^ D2, 43);
        B22 = ROL(A32 ^ D3, 25);
        B24 = ROL(A42 ^ D4, 39);
        B34 = ROL(A03 ^ D0, 41);
        B31 = ROL(A13 ^ D1, 45);
        B33 = ROL(A23 ^ D2, 15);
        B30 = ROL(A33 ^ D3, 21);
        B32 = ROL(A43 ^ D4, 8);
        B42 = ROL(A04 ^ D0, 18);
        B44 = ROL(A14 ^ D1, 2);
        B41 = ROL(A24 ^ D2, 61);
        B43 = ROL(A34 ^ D3, 56);
        B40 = ROL(A44 ^ D4, 14);

        /* chi (B is indexed [x][y] with x the column after pi) and iota */
        A00 = B00 ^ (~B10 & B20);
        A10 = B10 ^ (~B20 & B30);
        A20 = B20 ^ (~B30 & B40);
        A30 = B30 ^ (~B40 & B00);
        A40 = B40 ^ (~B00 & B10);
        A01 = B01 ^ (~B11 & B21);
        A11 = B11 ^ (~B21 & B31);
        A21 = B21 ^ (~B31 & B41);
        A31 = B31 ^ (~B41 & B01);
        A41 = B41 ^ (~B01 & B11);
        A02 = B02 ^ (~B12 & B22);
        A12 = B12 ^ (~B22 & B32);
        A22 = B22 ^ (~B32 & B42);
        A32 = B32 ^ (~B42 & B02);
        A42 = B42 ^ (~B02 & B12);
        A03 = B03 ^ (~B13 & B23);
        A13 = B13 ^ (~B23 & B33);
        A23 = B23 ^ (~B33 & B43);
        A33 = B33 ^ (~B43 & B03);
        A43 = B43 ^ (~B03 & B13);
        A04 = B04 ^ (~B14 & B24);
        A14 = B14 ^ (~B24 & B34);
        A24 = B24 ^ (~B34 & B44);
        A34 = B34 ^ (~B44 & B04);
        A44 = B44 ^ (~B04 & B14);
        A00 ^= qcn_keccak_round_constants[r];
    }

    s[0] = A00, s[1] = A10, s[2] = A20, s[3] = A30, s[4] = A40;
    s[5] = A01, s[6] = A11, s[7] = A21, s[8] = A31, s[9] = A41;
    s[10] = A02, s[11] = A12, s[12] = A22, s[13] = A32, s[14] = A42;
    s[15] = A03, s[16] = A13, s[17] = A23, s[18] = A33, s[19] = A43;
    s[20] = A04, s[21] = A14, s[22] = A24, s[23] = A34, s[24] = A44;
}

static void f1600_generic(uint64_t s[QCN_KECCAK_STATE_LANES])
{
    keccak_rounds(s);
}

/* On x86-64 with BMI1/BMI2 the compiler turns ~B & C into one andn and the
 * rotations into rorx (no extra moves): about 10% faster. Chosen at run
 * time; same results. */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("bmi,bmi2"))) static void f1600_bmi2(uint64_t s[QCN_KECCAK_STATE_LANES])
{
    keccak_rounds(s);
}
#endif

typedef void (*f1600_fn)(uint64_t *);

/* The choice depends only on the CPU, so racing first callers store the same
 * pointer; relaxed atomics keep that well defined. */
static f1600_fn f1600_impl;

void qcn_keccak_f1600(uint64_t s[QCN_KECCAK_STATE_LANES])
{
    f1600_fn fn = __atomic_load_n(&f1600_impl, __ATOMIC_RELAXED);
    if (fn == NULL) {
        fn = f1600_generic;
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2"))
            fn = f1600_bmi2;
#endif
        __atomic_store_n(&f1600_impl, fn, __ATOMIC_RELAXED);
    }
    fn(s);
}

void qcn_keccak_init(struct qcn_keccak *k, unsigned rate, uint8_t dsbyte)
{
    memset(k->s, 0, sizeof k->s);
    k->rate = rate;
    k->pos = 0;
    k->dsbyte = dsbyte;
    k->squeezing = 0;
}

static inline uint8_t *state_bytes(struct qcn_keccak *k)
{
    return (uint8_t *)k->s;
}

void qcn_keccak_absorb(struct qcn_keccak *k, const uint8_t *in, size_t len)
{
    uint8_t *sb = state_bytes(k);
    size_t i;

    /* Finish a partial block byte by byte. */
    while (len > 0 && k->pos != 0) {
        sb[k->pos++] ^= *in++;
        len--;
        if (k->pos == k->rate) {
            qcn_keccak_f1600(k->s);
            k->pos = 0;
        }
    }
    /* Whole blocks a lane at a time. */
    while (len >= k->rate) {
        for (i = 0; i < k->rate / 8; i++)
            k->s[i] ^= qcn_load_le64(in + 8 * i);
        qcn_keccak_f1600(k->s);
        in += k->rate;
        len -= k->rate;
    }
    /* Here pos is 0 unless the input ran out inside the first partial block. */
    for (i = 0; i < len; i++)
        sb[k->pos + i] ^= in[i];
    k->pos += (unsigned)len;
}

void qcn_keccak_finalize(struct qcn_keccak *k)
{
    uint8_t *sb = state_bytes(k);
    if (k->squeezing)
        return;
    sb[k->pos] ^= k->dsbyte;
    sb[k->rate - 1] ^= 0x80;
    qcn_keccak_f1600(k->s);
    k->pos = 0;
    k->squeezing = 1;
}

void qcn_keccak_squeeze(struct qcn_keccak *k, uint8_t *out, size_t len)
{
    const uint8_t *sb = state_bytes(k);
    size_t n;

    qcn_keccak_finalize(k);
    while (len > 0) {
        if (k->pos == k->rate) {
            qcn_keccak_f1600(k->s);
            k->pos = 0;
        }
        n = k->rate - k->pos;
        if (n > len)
            n = len;
        memcpy(out, sb + k->pos, n);
        k->pos += (unsigned)n;
        out += n;
        len -= n;
    }
}

void qcn_keccak_squeeze_blocks(struct qcn_keccak *k, uint8_t *out, size_t nblocks)
{
    /* After finalize pos is 0 and the first block is ready; after a previous
     * squeeze_blocks pos is rate and a permutation is due. */
    qcn_keccak_finalize(k);
    while (nblocks-- > 0) {
        if (k->pos == k->rate)
            qcn_keccak_f1600(k->s);
        memcpy(out, state_bytes(k), k->rate);
        k->pos = k->rate;
        out += k->rate;
    }
}

void qcn_keccak_clear(struct qcn_keccak *k)
{
    qcn_wipe(k, sizeof *k);
}

void qcn_keccak_hash2(uint8_t *out, size_t outlen, unsigned rate, uint8_t dsbyte, const uint8_t *a,
                      size_t alen, const uint8_t *b, size_t blen)
{
    struct qcn_keccak k;
    qcn_keccak_init(&k, rate, dsbyte);
    qcn_keccak_absorb(&k, a, alen);
    qcn_keccak_absorb(&k, b, blen);
    qcn_keccak_squeeze(&k, out, outlen);
    qcn_keccak_clear(&k);
}

static void oneshot(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen, unsigned rate,
                    uint8_t ds)
{
    qcn_keccak_hash2(out, outlen, rate, ds, in, inlen, NULL, 0);
}

void qcn_keccak256(uint8_t out[QCN_KECCAK256_BYTES], const uint8_t *in, size_t len)
{
    oneshot(out, QCN_KECCAK256_BYTES, in, len, QCN_KECCAK256_RATE, QCN_KECCAK_DS);
}

void qcn_sha3_256(uint8_t out[QCN_SHA3_256_BYTES], const uint8_t *in, size_t len)
{
    oneshot(out, QCN_SHA3_256_BYTES, in, len, QCN_SHA3_256_RATE, QCN_SHA3_DS);
}

void qcn_sha3_512(uint8_t out[QCN_SHA3_512_BYTES], const uint8_t *in, size_t len)
{
    oneshot(out, QCN_SHA3_512_BYTES, in, len, QCN_SHA3_512_RATE, QCN_SHA3_DS);
}

void qcn_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    oneshot(out, outlen, in, inlen, QCN_SHAKE128_RATE, QCN_SHAKE_DS);
}

void qcn_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    oneshot(out, outlen, in, inlen, QCN_SHAKE256_RATE, QCN_SHAKE_DS);
}

/* Whether qcn_keccak_x4_f1600 may run here (it needs AVX2; keccak_x4.c
 * aborts on other builds). Cached like f1600_impl: racing first callers
 * store the same value. 0 unknown, 1 no, 2 yes. */
static int x4_state;

static int x4_usable(void)
{
    int v = __atomic_load_n(&x4_state, __ATOMIC_RELAXED);
    if (v == 0) {
        v = 1;
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx2"))
            v = 2;
#endif
        __atomic_store_n(&x4_state, v, __ATOMIC_RELAXED);
    }
    return v == 2;
}

/* Lane t's block b for the four-way sponge: a whole input block, or (b is
 * its last block) the tail padded as qcn_keccak_finalize pads it. */
static void x4_block(uint8_t blk[QCN_KECCAK256_RATE], const uint8_t *in, size_t len, size_t b)
{
    size_t off = b * QCN_KECCAK256_RATE;
    if (len - off >= QCN_KECCAK256_RATE && len / QCN_KECCAK256_RATE > b) {
        memcpy(blk, in + off, QCN_KECCAK256_RATE);
        return;
    }
    memset(blk, 0, QCN_KECCAK256_RATE);
    if (len > off)
        memcpy(blk, in + off, len - off);
    blk[len - off] ^= QCN_KECCAK_DS;
    blk[QCN_KECCAK256_RATE - 1] ^= 0x80;
}

void qcn_keccak256_x4(uint8_t *const out[QCN_KECCAK_X4_WAYS],
                      const uint8_t *const in[QCN_KECCAK_X4_WAYS],
                      const size_t len[QCN_KECCAK_X4_WAYS])
{
    uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES];
    uint8_t blk[QCN_KECCAK256_RATE];
    struct qcn_keccak k;
    size_t blocks = SIZE_MAX, nb, b, off;
    unsigned t, i;

    _Static_assert(QCN_KECCAK_X4_WAYS == QCN_KECCAK_X4_STATES, "four ways");
    if (!x4_usable()) {
        for (t = 0; t < QCN_KECCAK_X4_WAYS; t++)
            qcn_keccak256(out[t], in[t], len[t]);
        return;
    }
    /* Each input is len / rate whole blocks and one padded last block; the
     * blocks all four have go through the permutation side by side. */
    for (t = 0; t < QCN_KECCAK_X4_WAYS; t++) {
        nb = len[t] / QCN_KECCAK256_RATE + 1;
        if (nb < blocks)
            blocks = nb;
    }
    memset(st, 0, sizeof st);
    for (b = 0; b < blocks; b++) {
        for (t = 0; t < QCN_KECCAK_X4_WAYS; t++) {
            x4_block(blk, in[t], len[t], b);
            for (i = 0; i < QCN_KECCAK256_RATE / 8; i++)
                st[i][t] ^= qcn_load_le64(blk + 8 * i);
        }
        qcn_keccak_x4_f1600(st);
    }
    /* A lane whose padded block went through is done: the digest is its
     * first four lanes. The others (more blocks than the shortest) continue
     * one-way from the block boundary, all their blocks so far whole. */
    off = blocks * QCN_KECCAK256_RATE;
    for (t = 0; t < QCN_KECCAK_X4_WAYS; t++) {
        if (len[t] / QCN_KECCAK256_RATE + 1 == blocks) {
            for (i = 0; i < QCN_KECCAK256_BYTES / 8; i++)
                qcn_store_le64(out[t] + 8 * i, st[i][t]);
            continue;
        }
        qcn_keccak_init(&k, QCN_KECCAK256_RATE, QCN_KECCAK_DS);
        for (i = 0; i < QCN_KECCAK_STATE_LANES; i++)
            k.s[i] = st[i][t];
        qcn_keccak_absorb(&k, in[t] + off, len[t] - off);
        qcn_keccak_squeeze(&k, out[t], QCN_KECCAK256_BYTES);
    }
    qcn_keccak_clear(&k);
    qcn_wipe(st, sizeof st);
    qcn_wipe(blk, sizeof blk);
}
