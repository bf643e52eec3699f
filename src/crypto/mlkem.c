/* mlkem.c - ML-KEM (FIPS 203), portable C.
 *
 * Arithmetic: coefficients are int16_t; products are reduced with Montgomery
 * reduction (R = 2^16) and sums with Barrett reduction, so nothing divides by
 * q at run time (a hardware divide has operand-dependent latency: KyberSlash).
 * The NTT follows FIPS 203 Alg 9/10 with the ζ^BitRev7(k) table of Appendix A
 * stored in Montgomery form; NTT-domain products (Alg 11/12) carry a factor
 * R^-1 that the inverse NTT's final scaling (or poly_tomont in key
 * generation) cancels.
 *
 * Constant time: every branch and table index depends only on public data
 * (parameter set, ρ, ciphertext and key lengths). Rejection sampling
 * (SampleNTT) runs on ρ, which is public; it is "declassified" for the
 * valgrind constant-time test (tests/ct/ct_mlkem.c) because valgrind would
 * otherwise see it as derived from the secret d. */
#include "crypto/mlkem.h"

#include <stdatomic.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mlkem_internal.h"
#include "crypto/rng.h"
#include "util/bytes.h"
#include "util/mem.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#endif
#endif
#ifndef DECLASSIFY
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#define N 256
#define Q 3329
#define QINV (-3327) /* q^-1 mod 2^16, as a signed 16-bit value */
#define MAX_K 4
#define POLY_BYTES 384 /* ByteEncode_12 of one polynomial */
/* ByteEncode_d of one polynomial compressed to d bits (Alg 14 lines 19-22). */
#define COMPRESSED_POLY_BYTES(d) (QCN_MLKEM_N * (d) / 8)
/* PRF_eta's output, 64 eta bytes (FIPS 203 §4.1, eq. 4.3). */
#define PRF_BYTES(eta) (64 * (eta))
#define SYM_BYTES 32

struct params {
    unsigned k;
    unsigned eta1;
    unsigned eta2;
    unsigned du;
    unsigned dv;
};

typedef struct {
    int16_t c[N];
} poly; /* file-local shorthand; not part of any interface */

/* Appendix A: ζ^BitRev7(k) · 2^16 mod q, centred, k = 0..127 (ζ = 17). */
const int16_t qcn_mlkem_zetas[128] = {
    -1044, -758,  -359,  -1517, 1493,  1422,  287,   202,   -171,  622,   1577,  182,   962,
    -1202, -1474, 1468,  573,   -1325, 264,   383,   -829,  1458,  -1602, -130,  -681,  1017,
    732,   608,   -1542, 411,   -205,  -1571, 1223,  652,   -552,  1015,  -1293, 1491,  -282,
    -1544, 516,   -8,    -320,  -666,  -1618, -1162, 126,   1469,  -853,  -90,   -271,  830,
    107,   -1421, -247,  -951,  -398,  961,   -1508, -725,  448,   -1065, 677,   -1275, -1103,
    430,   555,   843,   -1251, 871,   1550,  105,   422,   587,   177,   -235,  -291,  -460,
    1574,  1653,  -246,  778,   1159,  -147,  -777,  1483,  -602,  1119,  -1590, 644,   -872,
    349,   418,   329,   -156,  -75,   817,   1097,  603,   610,   1322,  -1285, -1465, 384,
    -1215, -136,  1218,  -1335, -874,  220,   -1187, -1659, -1185, -1530, -1278, 794,   -1510,
    -854,  -870,  478,   -108,  -308,  996,   991,   958,   -1460, 1522,  1628};

/* Alg 11 line 2: γ_i = ζ^(2·BitRev7(i)+1) · 2^16 mod q, centred, i = 0..127. */
const int16_t qcn_mlkem_gammas[128] = {
    -1103, 1103,  430,   -430,  555,   -555,  843,  -843,  -1251, 1251,  871,  -871,  1550,
    -1550, 105,   -105,  422,   -422,  587,   -587, 177,   -177,  -235,  235,  -291,  291,
    -460,  460,   1574,  -1574, 1653,  -1653, -246, 246,   778,   -778,  1159, -1159, -147,
    147,   -777,  777,   1483,  -1483, -602,  602,  1119,  -1119, -1590, 1590, 644,   -644,
    -872,  872,   349,   -349,  418,   -418,  329,  -329,  -156,  156,   -75,  75,    817,
    -817,  1097,  -1097, 603,   -603,  610,   -610, 1322,  -1322, -1285, 1285, -1465, 1465,
    384,   -384,  -1215, 1215,  -136,  136,   1218, -1218, -1335, 1335,  -874, 874,   220,
    -220,  -1187, 1187,  -1659, 1659,  -1185, 1185, -1530, 1530,  -1278, 1278, 794,   -794,
    -1510, 1510,  -854,  854,   -870,  870,   478,  -478,  -108,  108,   -308, 308,   996,
    -996,  991,   -991,  958,   -958,  -1460, 1460, 1522,  -1522, 1628,  -1628};

#define MONT_R2 1353      /* 2^32 mod q: fqmul by it multiplies by R */
#define INVNTT_F 1441     /* 2^32 / 128 mod q: Alg 10 line 14 scaling times R */
#define BARRETT_V 20159   /* round(2^26 / q) */
#define DIV_Q_M 20642679u /* ceil(2^36 / q): exact floor(n/q) for n < 2^23 */

static int params_of(int param, struct params *p)
{
    switch (param) {
    case QCN_MLKEM512:
        *p = (struct params){2, 3, 2, 10, 4};
        return 1;
    case QCN_MLKEM768:
        *p = (struct params){3, 2, 2, 10, 4};
        return 1;
    case QCN_MLKEM1024:
        *p = (struct params){4, 2, 2, 11, 5};
        return 1;
    default:
        return 0;
    }
}

size_t qcn_mlkem_ek_bytes(int param)
{
    struct params p;
    return params_of(param, &p) ? POLY_BYTES * p.k + SYM_BYTES : 0;
}

size_t qcn_mlkem_dk_bytes(int param)
{
    struct params p;
    return params_of(param, &p) ? 2 * POLY_BYTES * p.k + 3 * SYM_BYTES : 0;
}

size_t qcn_mlkem_ct_bytes(int param)
{
    struct params p;
    return params_of(param, &p) ? COMPRESSED_POLY_BYTES(p.du) * p.k + COMPRESSED_POLY_BYTES(p.dv)
                                : 0;
}

/* ---- modular arithmetic ------------------------------------------------ */

/* a·2^-16 mod q for |a| < q·2^15; result in (-q, q). */
static inline int16_t mont_reduce(int32_t a)
{
    int16_t t = (int16_t)((uint32_t)a * (uint32_t)(uint16_t)QINV);
    return (int16_t)((a - (int32_t)t * Q) >> 16);
}

static inline int16_t fqmul(int16_t a, int16_t b)
{
    return mont_reduce((int32_t)a * b);
}

/* A representative of a mod q in [-(q-1)/2, (q-1)/2]. */
static inline int16_t barrett_reduce(int16_t a)
{
    int32_t t = (BARRETT_V * (int32_t)a + (1 << 25)) >> 26;
    return (int16_t)(a - t * Q);
}

/* Maps (-q, q) to [0, q) without a branch. */
static inline int16_t to_positive(int16_t a)
{
    return (int16_t)(a + ((a >> 15) & Q));
}

/* ---- polynomials ------------------------------------------------------- */

static void poly_reduce(poly *f)
{
    for (unsigned i = 0; i < N; i++)
        f->c[i] = barrett_reduce(f->c[i]);
}

static void poly_add(poly *r, const poly *a)
{
    for (unsigned i = 0; i < N; i++)
        r->c[i] = (int16_t)(r->c[i] + a->c[i]);
}

static void poly_sub(poly *r, const poly *a, const poly *b)
{
    for (unsigned i = 0; i < N; i++)
        r->c[i] = (int16_t)(a->c[i] - b->c[i]);
}

static void poly_tomont(poly *f)
{
    for (unsigned i = 0; i < N; i++)
        f->c[i] = fqmul(f->c[i], MONT_R2);
}

/* Alg 9. Input |c| < q; output reduced, in bit-reversed order. Each layer
 * grows the bound by q, so 7 layers stay below 8q < 2^15. */
void qcn_mlkem_ntt_ref(int16_t c[QCN_MLKEM_N])
{
    unsigned k = 1;
    for (unsigned len = 128; len >= 2; len >>= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            int16_t zeta = qcn_mlkem_zetas[k++];
            for (unsigned j = start; j < start + len; j++) {
                int16_t t = fqmul(zeta, c[j + len]);
                c[j + len] = (int16_t)(c[j] - t);
                c[j] = (int16_t)(c[j] + t);
            }
        }
    }
    for (unsigned j = 0; j < N; j++)
        c[j] = barrett_reduce(c[j]);
}

/* Alg 10, with the final multiplication by 128^-1 also multiplying by R to
 * cancel the R^-1 that basemul leaves. Output |c| < q. */
void qcn_mlkem_invntt_ref(int16_t c[QCN_MLKEM_N])
{
    unsigned k = 127;
    for (unsigned len = 2; len <= 128; len <<= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            int16_t zeta = qcn_mlkem_zetas[k--];
            for (unsigned j = start; j < start + len; j++) {
                int16_t t = c[j];
                c[j] = barrett_reduce((int16_t)(t + c[j + len]));
                c[j + len] = fqmul(zeta, (int16_t)(c[j + len] - t));
            }
        }
    }
    for (unsigned j = 0; j < N; j++)
        c[j] = fqmul(c[j], INVNTT_F);
}

/* Alg 11/12: r += a ∘ b in the NTT domain (times R^-1). Accumulating up to 4
 * products keeps |r| < 8q. */
void qcn_mlkem_basemul_acc_ref(int16_t rc[QCN_MLKEM_N], const int16_t ac[QCN_MLKEM_N],
                               const int16_t bc[QCN_MLKEM_N])
{
    for (unsigned i = 0; i < N / 2; i++) {
        int16_t a0 = ac[2 * i], a1 = ac[2 * i + 1];
        int16_t b0 = bc[2 * i], b1 = bc[2 * i + 1];
        int16_t c0 = (int16_t)(fqmul(a0, b0) + fqmul(fqmul(a1, b1), qcn_mlkem_gammas[i]));
        int16_t c1 = (int16_t)(fqmul(a0, b1) + fqmul(a1, b0));
        rc[2 * i] = (int16_t)(rc[2 * i] + c0);
        rc[2 * i + 1] = (int16_t)(rc[2 * i + 1] + c1);
    }
}

/* The one piece of process-wide state in ML-KEM: a test switch (see
 * mlkem_internal.h). Relaxed ordering: it guards no other data. */
static atomic_int force_portable;

void qcn_mlkem_force_portable(int on)
{
    atomic_store_explicit(&force_portable, on != 0, memory_order_relaxed);
}

int qcn_mlkem_use_avx2(void)
{
    return !atomic_load_explicit(&force_portable, memory_order_relaxed) && qcn_mlkem_have_avx2();
}

/* Run-time dispatch: the AVX2 kernels give bit-identical results. */
static void poly_ntt(poly *f)
{
    if (qcn_mlkem_use_avx2())
        qcn_mlkem_ntt_avx2(f->c);
    else
        qcn_mlkem_ntt_ref(f->c);
}

static void poly_invntt(poly *f)
{
    if (qcn_mlkem_use_avx2())
        qcn_mlkem_invntt_avx2(f->c);
    else
        qcn_mlkem_invntt_ref(f->c);
}

static void poly_basemul_acc(poly *r, const poly *a, const poly *b)
{
    if (qcn_mlkem_use_avx2())
        qcn_mlkem_basemul_acc_avx2(r->c, a->c, b->c);
    else
        qcn_mlkem_basemul_acc_ref(r->c, a->c, b->c);
}

/* ---- encodings (§4.2.1) ------------------------------------------------ */

/* ByteEncode_d (Alg 5) of coefficients already in [0, 2^d). */
static void byte_encode(uint8_t *out, const uint16_t *a, unsigned d)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    for (unsigned i = 0; i < N; i++) {
        acc |= (uint32_t)a[i] << bits;
        bits += d;
        while (bits >= 8) {
            *out++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
}

/* ByteDecode_d (Alg 6) into [0, 2^d). */
static void byte_decode(uint16_t *a, const uint8_t *in, unsigned d)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    uint32_t mask = (1u << d) - 1;
    for (unsigned i = 0; i < N; i++) {
        while (bits < d) {
            acc |= (uint32_t)*in++ << bits;
            bits += 8;
        }
        a[i] = (uint16_t)(acc & mask);
        acc >>= d;
        bits -= d;
    }
}

/* ByteEncode_12 of a polynomial with coefficients in (-q, q). */
static void poly_tobytes(uint8_t out[POLY_BYTES], const poly *f)
{
    for (unsigned i = 0; i < N / 2; i++) {
        uint16_t t0 = (uint16_t)to_positive(f->c[2 * i]);
        uint16_t t1 = (uint16_t)to_positive(f->c[2 * i + 1]);
        out[3 * i] = (uint8_t)t0;
        out[3 * i + 1] = (uint8_t)((t0 >> 8) | (t1 << 4));
        out[3 * i + 2] = (uint8_t)(t1 >> 4);
    }
}

/* ByteDecode_12, reducing mod q as Alg 6 requires for d = 12 (a value in
 * [q, 4096) only occurs in a key that fails, or skipped, its check). */
static void poly_frombytes(poly *f, const uint8_t in[POLY_BYTES])
{
    for (unsigned i = 0; i < N / 2; i++) {
        int16_t t0 = (int16_t)((in[3 * i] | (in[3 * i + 1] << 8)) & 0xfff);
        int16_t t1 = (int16_t)(((in[3 * i + 1] >> 4) | (in[3 * i + 2] << 4)) & 0xfff);
        t0 = (int16_t)(t0 - Q);
        t1 = (int16_t)(t1 - Q);
        f->c[2 * i] = to_positive(t0);
        f->c[2 * i + 1] = to_positive(t1);
    }
}

/* floor(n / q) for n < 2^23 by multiplication (no divide instruction). */
static inline uint32_t div_q(uint32_t n)
{
    return (uint32_t)(((uint64_t)n * DIV_Q_M) >> 36);
}

/* Compress_d then ByteEncode_d (Alg 4/5) of a polynomial with |c| < q. */
static void poly_compress(uint8_t *out, const poly *f, unsigned d)
{
    uint16_t t[N];
    uint32_t mask = (1u << d) - 1;
    for (unsigned i = 0; i < N; i++) {
        uint32_t x = (uint32_t)to_positive(f->c[i]);
        /* round(2^d·x/q) = floor((2^d·x + (q-1)/2)/q): q is odd, no ties. */
        t[i] = (uint16_t)(div_q((x << d) + (Q - 1) / 2) & mask);
    }
    byte_encode(out, t, d);
    qcn_wipe(t, sizeof t);
}

/* ByteDecode_d then Decompress_d: round(q·y / 2^d). */
static void poly_decompress(poly *f, const uint8_t *in, unsigned d)
{
    uint16_t t[N];
    byte_decode(t, in, d);
    for (unsigned i = 0; i < N; i++)
        f->c[i] = (int16_t)(((uint32_t)t[i] * Q + (1u << (d - 1))) >> d);
    qcn_wipe(t, sizeof t);
}

/* Decompress_1(ByteDecode_1(m)): bit b becomes b·(q+1)/2, via a mask. */
static void poly_frommsg(poly *f, const uint8_t m[SYM_BYTES])
{
    for (unsigned i = 0; i < N; i++) {
        int16_t bit = (int16_t)((m[i / 8] >> (i % 8)) & 1);
        f->c[i] = (int16_t)((-bit) & ((Q + 1) / 2));
    }
}

/* ---- sampling (§4.2.2) ------------------------------------------------- */

unsigned qcn_mlkem_rej_uniform(int16_t *out, unsigned n, const uint8_t *buf, size_t len)
{
    for (size_t pos = 0; n < N && pos + 3 <= len; pos += 3) {
        uint16_t d1 = (uint16_t)(buf[pos] | ((buf[pos + 1] & 0x0f) << 8));
        uint16_t d2 = (uint16_t)((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));
        if (d1 < Q)
            out[n++] = (int16_t)d1;
        if (d2 < Q && n < N)
            out[n++] = (int16_t)d2;
    }
    return n;
}

/* Alg 7 SampleNTT from SHAKE128(ρ || j || i). Public data only. The rate
 * (168) is a multiple of 3, so no bytes carry over between blocks. */
static void sample_ntt(poly *f, const uint8_t rho[SYM_BYTES], uint8_t j, uint8_t i)
{
    struct qcn_keccak xof;
    uint8_t buf[3 * QCN_SHAKE128_RATE];
    uint8_t idx[2] = {j, i};
    unsigned n;

    qcn_shake128_init(&xof);
    qcn_keccak_absorb(&xof, rho, SYM_BYTES);
    qcn_keccak_absorb(&xof, idx, 2);
    qcn_keccak_finalize(&xof);
    qcn_keccak_squeeze_blocks(&xof, buf, 3);
    n = qcn_mlkem_rej_uniform(f->c, 0, buf, sizeof buf);
    while (n < N) {
        qcn_keccak_squeeze_blocks(&xof, buf, 1);
        n = qcn_mlkem_rej_uniform(f->c, n, buf, QCN_SHAKE128_RATE);
    }
}

/* Â[i][j] = SampleNTT(ρ || j || i) (Alg 13 line 6); transposed gives Âᵀ.
 * With AVX2, four entries at a time through the four-way Keccak. */
static void gen_matrix(poly a[MAX_K][MAX_K], const uint8_t rho[SYM_BYTES], unsigned k,
                       int transposed)
{
    unsigned total = k * k, e = 0;
    if (qcn_mlkem_use_avx2()) {
        for (; e + 4 <= total; e += 4) {
            int16_t *out[4];
            uint8_t idx[4][2];
            for (unsigned t = 0; t < 4; t++) {
                unsigned i = (e + t) / k, j = (e + t) % k;
                out[t] = a[i][j].c;
                idx[t][0] = (uint8_t)(transposed ? i : j);
                idx[t][1] = (uint8_t)(transposed ? j : i);
            }
            qcn_mlkem_sample_ntt_x4_avx2(out, rho, idx);
        }
    }
    for (; e < total; e++) {
        unsigned i = e / k, j = e % k;
        if (transposed)
            sample_ntt(&a[i][j], rho, (uint8_t)i, (uint8_t)j);
        else
            sample_ntt(&a[i][j], rho, (uint8_t)j, (uint8_t)i);
    }
}

/* Alg 8 SamplePolyCBD_η on 64η bytes. */
static void cbd_from_bytes(poly *f, const uint8_t *buf, unsigned eta)
{
    if (eta == 2) {
        /* 4 bits per coefficient: x = b0+b1, y = b2+b3. */
        for (unsigned i = 0; i < N / 8; i++) {
            uint32_t t = qcn_load_le32(buf + 4 * i);
            uint32_t d = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
            for (unsigned j = 0; j < 8; j++) {
                int16_t x = (int16_t)((d >> (4 * j)) & 3);
                int16_t y = (int16_t)((d >> (4 * j + 2)) & 3);
                f->c[8 * i + j] = (int16_t)(x - y);
            }
        }
    } else {
        /* η = 3: 6 bits per coefficient, four per 3 bytes. */
        for (unsigned i = 0; i < N / 4; i++) {
            uint32_t t = (uint32_t)buf[3 * i] | (uint32_t)buf[3 * i + 1] << 8 |
                         (uint32_t)buf[3 * i + 2] << 16;
            uint32_t d = (t & 0x249249u) + ((t >> 1) & 0x249249u) + ((t >> 2) & 0x249249u);
            for (unsigned j = 0; j < 4; j++) {
                int16_t x = (int16_t)((d >> (6 * j)) & 7);
                int16_t y = (int16_t)((d >> (6 * j + 3)) & 7);
                f->c[4 * i + j] = (int16_t)(x - y);
            }
        }
    }
}

#define MAX_ETA 3

/* Samples polys[t] = SamplePolyCBD_eta[t](PRF(s, nonce0 + t)) for t < count
 * (§4.1 PRF_η(s, b) = SHAKE256(s || b, 64η)). With AVX2 four PRF streams
 * run at once; each stream is squeezed to 64·MAX_ETA bytes and a smaller η
 * reads a prefix, which is the same SHAKE output. */
static void sample_noise(poly *const *polys, const unsigned *eta, unsigned count,
                         const uint8_t s[SYM_BYTES], uint8_t nonce0)
{
    uint8_t buf[4][PRF_BYTES(MAX_ETA)];
    unsigned t = 0;

    if (qcn_mlkem_use_avx2()) {
        for (; t + 4 <= count; t += 4) {
            uint8_t *out[4] = {buf[0], buf[1], buf[2], buf[3]};
            uint8_t nonce[4];
            unsigned need = 0;
            for (unsigned u = 0; u < 4; u++) {
                nonce[u] = (uint8_t)(nonce0 + t + u);
                need = eta[t + u] > need ? eta[t + u] : need;
            }
            qcn_mlkem_prf_x4_avx2(out, PRF_BYTES(need), s, nonce);
            for (unsigned u = 0; u < 4; u++)
                cbd_from_bytes(polys[t + u], buf[u], eta[t + u]);
        }
    }
    for (; t < count; t++) {
        struct qcn_keccak prf;
        uint8_t b = (uint8_t)(nonce0 + t);
        qcn_shake256_init(&prf);
        qcn_keccak_absorb(&prf, s, SYM_BYTES);
        qcn_keccak_absorb(&prf, &b, 1);
        qcn_keccak_squeeze(&prf, buf[0], PRF_BYTES(eta[t]));
        qcn_keccak_clear(&prf);
        cbd_from_bytes(polys[t], buf[0], eta[t]);
    }
    qcn_wipe(buf, sizeof buf);
}

/* ---- hash functions (§4.1) --------------------------------------------- */

/* G = SHA3-512 over the concatenation a || b (b may be empty). */
static void hash_g(uint8_t out[2 * SYM_BYTES], const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen)
{
    qcn_keccak_hash2(out, 2 * SYM_BYTES, QCN_SHA3_512_RATE, QCN_SHA3_DS, a, alen, b, blen);
}

/* J(z, c) = SHAKE256(z || c, 32). */
static void hash_j(uint8_t out[SYM_BYTES], const uint8_t z[SYM_BYTES], const uint8_t *c,
                   size_t clen)
{
    qcn_keccak_hash2(out, SYM_BYTES, QCN_SHAKE256_RATE, QCN_SHAKE_DS, z, SYM_BYTES, c, clen);
}

/* ---- K-PKE (§5) -------------------------------------------------------- */

/* Alg 13 K-PKE.KeyGen. Writes ek_pke (384k+32) and dk_pke (384k). */
static void kpke_keygen(const struct params *p, uint8_t *ek, uint8_t *dk,
                        const uint8_t d[SYM_BYTES])
{
    uint8_t in[SYM_BYTES + 1];
    uint8_t rs[2 * SYM_BYTES]; /* ρ || σ */
    poly a[MAX_K][MAX_K];
    poly s[MAX_K], e[MAX_K], t;
    poly *noise[2 * MAX_K];
    unsigned etas[2 * MAX_K];
    const unsigned k = p->k;

    memcpy(in, d, SYM_BYTES);
    in[SYM_BYTES] = (uint8_t)k; /* line 1: G(d || k), the FIPS 203 domain separation */
    hash_g(rs, in, sizeof in, NULL, 0);
    DECLASSIFY(rs, SYM_BYTES); /* ρ is published in ek */
    gen_matrix(a, rs, k, 0);
    /* Lines 8-15: s[i] with N = i, e[i] with N = k + i. */
    for (unsigned i = 0; i < k; i++) {
        noise[i] = &s[i];
        noise[k + i] = &e[i];
        etas[i] = etas[k + i] = p->eta1;
    }
    sample_noise(noise, etas, 2 * k, rs + SYM_BYTES, 0);
    for (unsigned i = 0; i < k; i++) {
        poly_ntt(&s[i]);
        poly_ntt(&e[i]);
    }
    for (unsigned i = 0; i < k; i++) {
        memset(&t, 0, sizeof t);
        for (unsigned j = 0; j < k; j++)
            poly_basemul_acc(&t, &a[i][j], &s[j]);
        poly_tomont(&t);
        poly_add(&t, &e[i]);
        poly_reduce(&t);
        poly_tobytes(ek + POLY_BYTES * i, &t);
        poly_tobytes(dk + POLY_BYTES * i, &s[i]);
    }
    memcpy(ek + POLY_BYTES * k, rs, SYM_BYTES);

    qcn_wipe(in, sizeof in);
    qcn_wipe(rs, sizeof rs);
    qcn_wipe(s, sizeof s);
    qcn_wipe(e, sizeof e);
    qcn_wipe(&t, sizeof t);
}

/* Alg 14 K-PKE.Encrypt(ek_pke, m, r) -> c. t̂ is decoded from ek (public). */
static void kpke_encrypt(const struct params *p, uint8_t *c, const uint8_t *ek,
                         const uint8_t m[SYM_BYTES], const uint8_t r[SYM_BYTES])
{
    poly at[MAX_K][MAX_K];
    poly that[MAX_K], y[MAX_K], e1[MAX_K], u, v, e2, mu;
    poly *noise[2 * MAX_K + 1];
    unsigned etas[2 * MAX_K + 1];
    const unsigned k = p->k;

    for (unsigned i = 0; i < k; i++)
        poly_frombytes(&that[i], ek + POLY_BYTES * i);
    gen_matrix(at, ek + POLY_BYTES * k, k, 1);
    /* Lines 9-17: y[i] with N = i (η1), e1[i] with N = k + i (η2), e2 with
     * N = 2k (η2). */
    for (unsigned i = 0; i < k; i++) {
        noise[i] = &y[i];
        etas[i] = p->eta1;
        noise[k + i] = &e1[i];
        etas[k + i] = p->eta2;
    }
    noise[2 * k] = &e2;
    etas[2 * k] = p->eta2;
    sample_noise(noise, etas, 2 * k + 1, r, 0);
    for (unsigned i = 0; i < k; i++)
        poly_ntt(&y[i]);
    for (unsigned i = 0; i < k; i++) {
        memset(&u, 0, sizeof u);
        for (unsigned j = 0; j < k; j++)
            poly_basemul_acc(&u, &at[i][j], &y[j]);
        poly_invntt(&u);
        poly_add(&u, &e1[i]);
        poly_reduce(&u);
        poly_compress(c + COMPRESSED_POLY_BYTES(p->du) * i, &u, p->du);
    }
    memset(&v, 0, sizeof v);
    for (unsigned j = 0; j < k; j++)
        poly_basemul_acc(&v, &that[j], &y[j]);
    poly_invntt(&v);
    poly_add(&v, &e2);
    poly_frommsg(&mu, m);
    poly_add(&v, &mu);
    poly_reduce(&v);
    poly_compress(c + COMPRESSED_POLY_BYTES(p->du) * k, &v, p->dv);

    qcn_wipe(y, sizeof y);
    qcn_wipe(e1, sizeof e1);
    qcn_wipe(&u, sizeof u);
    qcn_wipe(&v, sizeof v);
    qcn_wipe(&e2, sizeof e2);
    qcn_wipe(&mu, sizeof mu);
}

/* Alg 15 K-PKE.Decrypt(dk_pke, c) -> m. */
static void kpke_decrypt(const struct params *p, uint8_t m[SYM_BYTES], const uint8_t *dk,
                         const uint8_t *c)
{
    poly u, s, v, w;
    const unsigned k = p->k;

    memset(&w, 0, sizeof w);
    for (unsigned i = 0; i < k; i++) {
        poly_decompress(&u, c + COMPRESSED_POLY_BYTES(p->du) * i, p->du);
        poly_ntt(&u);
        poly_frombytes(&s, dk + POLY_BYTES * i);
        poly_basemul_acc(&w, &s, &u);
    }
    poly_invntt(&w);
    poly_decompress(&v, c + COMPRESSED_POLY_BYTES(p->du) * k, p->dv);
    poly_sub(&w, &v, &w);
    poly_reduce(&w);
    /* Compress_1: 1 iff the coefficient is nearer q/2 than 0. */
    memset(m, 0, SYM_BYTES);
    for (unsigned i = 0; i < N; i++) {
        uint32_t x = (uint32_t)to_positive(w.c[i]);
        uint32_t bit = div_q((x << 1) + (Q - 1) / 2) & 1;
        m[i / 8] = (uint8_t)(m[i / 8] | (bit << (i % 8)));
    }
    qcn_wipe(&s, sizeof s);
    qcn_wipe(&w, sizeof w);
    qcn_wipe(&v, sizeof v);
    qcn_wipe(&u, sizeof u);
}

/* ---- ML-KEM (§6, §7) --------------------------------------------------- */

int qcn_mlkem_check_ek(int param, const uint8_t *ek)
{
    struct params p;
    if (!params_of(param, &p))
        return QCN_ERR_BAD_PARAM_SET;
    if (ek == NULL)
        return QCN_ERR_INVALID_ARG;
    /* §7.2 modulus check: ByteEncode_12(ByteDecode_12(ek)) == ek, i.e. every
     * 12-bit value is below q. ek is public; early exit is fine. */
    for (size_t i = 0; i < POLY_BYTES * p.k; i += 3) {
        unsigned t0 = (unsigned)(ek[i] | (ek[i + 1] << 8)) & 0xfff;
        unsigned t1 = (unsigned)((ek[i + 1] >> 4) | (ek[i + 2] << 4));
        if (t0 >= Q || t1 >= Q)
            return QCN_ERR_KEY_CHECK;
    }
    return QCN_OK;
}

int qcn_mlkem_check_dk(int param, const uint8_t *dk)
{
    struct params p;
    uint8_t h[SYM_BYTES];
    int eq;
    if (!params_of(param, &p))
        return QCN_ERR_BAD_PARAM_SET;
    if (dk == NULL)
        return QCN_ERR_INVALID_ARG;
    /* §7.3 hash check: H(dk[384k : 768k+32]) == dk[768k+32 : 768k+64]. Both
     * sides are public (ek and its hash), the comparison is still CT. */
    qcn_sha3_256(h, dk + POLY_BYTES * p.k, POLY_BYTES * p.k + SYM_BYTES);
    eq = qcn_ct_equal(h, dk + 2 * POLY_BYTES * p.k + SYM_BYTES, SYM_BYTES);
    return eq ? QCN_OK : QCN_ERR_KEY_CHECK;
}

int qcn_mlkem_keygen(int param, uint8_t *ek, uint8_t *dk, const uint8_t d[QCN_MLKEM_SEED_BYTES],
                     const uint8_t z[QCN_MLKEM_SEED_BYTES])
{
    struct params p;
    uint8_t dz[2 * SYM_BYTES];
    size_t eklen;

    if (!params_of(param, &p))
        return QCN_ERR_BAD_PARAM_SET;
    if (ek == NULL || dk == NULL || (d == NULL) != (z == NULL))
        return QCN_ERR_INVALID_ARG;
    if (d == NULL) {
        qcn_rng_bytes(dz, sizeof dz); /* Alg 19 lines 1-2 */
    } else {
        memcpy(dz, d, SYM_BYTES);
        memcpy(dz + SYM_BYTES, z, SYM_BYTES);
    }
    eklen = POLY_BYTES * p.k + SYM_BYTES;
    /* Alg 16: dk = dk_pke || ek || H(ek) || z */
    kpke_keygen(&p, ek, dk, dz);
    memcpy(dk + POLY_BYTES * p.k, ek, eklen);
    qcn_sha3_256(dk + POLY_BYTES * p.k + eklen, ek, eklen);
    memcpy(dk + POLY_BYTES * p.k + eklen + SYM_BYTES, dz + SYM_BYTES, SYM_BYTES);
    qcn_wipe(dz, sizeof dz);
    return QCN_OK;
}

int qcn_mlkem_encaps(int param, uint8_t *ct, uint8_t ss[QCN_MLKEM_SS_BYTES], const uint8_t *ek,
                     const uint8_t m[QCN_MLKEM_MSG_BYTES])
{
    struct params p;
    uint8_t mh[2 * SYM_BYTES]; /* m || H(ek) */
    uint8_t kr[2 * SYM_BYTES]; /* K || r */
    size_t eklen;
    int err;

    if (!params_of(param, &p)) {
        err = QCN_ERR_BAD_PARAM_SET;
        goto fail;
    }
    if (ct == NULL || ss == NULL || ek == NULL) {
        err = QCN_ERR_INVALID_ARG;
        goto fail;
    }
    eklen = POLY_BYTES * p.k + SYM_BYTES;
    err = qcn_mlkem_check_ek(param, ek);
    if (err != QCN_OK)
        goto fail;
    if (m == NULL)
        qcn_rng_bytes(mh, SYM_BYTES); /* Alg 20 line 1 */
    else
        memcpy(mh, m, SYM_BYTES);
    qcn_sha3_256(mh + SYM_BYTES, ek, eklen);
    hash_g(kr, mh, sizeof mh, NULL, 0); /* Alg 17 line 1 */
    kpke_encrypt(&p, ct, ek, mh, kr + SYM_BYTES);
    memcpy(ss, kr, SYM_BYTES);
    qcn_wipe(mh, sizeof mh);
    qcn_wipe(kr, sizeof kr);
    return QCN_OK;
fail:
    /* Whatever output the caller passed is zeroed (ct only when its size is
     * known, i.e. the parameter set is). */
    if (ct != NULL)
        memset(ct, 0, qcn_mlkem_ct_bytes(param));
    if (ss != NULL)
        memset(ss, 0, QCN_MLKEM_SS_BYTES);
    return err;
}

/* Alg 18 Decaps_internal on a checked dk. */
static void decaps_internal(const struct params *p, uint8_t ss[SYM_BYTES], const uint8_t *dk,
                            const uint8_t *c)
{
    const size_t k = p->k;
    const size_t ctlen = COMPRESSED_POLY_BYTES(p->du) * k + COMPRESSED_POLY_BYTES(p->dv);
    const uint8_t *ek = dk + POLY_BYTES * k;
    const uint8_t *h = ek + POLY_BYTES * k + SYM_BYTES;
    const uint8_t *z = h + SYM_BYTES;
    uint8_t mh[2 * SYM_BYTES]; /* m' || h */
    uint8_t kr[2 * SYM_BYTES]; /* K' || r' */
    uint8_t kbar[SYM_BYTES];
    uint8_t cprime[QCN_MLKEM_MAX_CT_BYTES];
    uint32_t diff = 0;
    uint8_t mask;

    kpke_decrypt(p, mh, dk, c);
    memcpy(mh + SYM_BYTES, h, SYM_BYTES);
    hash_g(kr, mh, sizeof mh, NULL, 0);
    hash_j(kbar, z, c, ctlen);
    kpke_encrypt(p, cprime, ek, mh, kr + SYM_BYTES);
    /* Lines 9-11: K' if c == c', else K̄, chosen by a mask so neither the
     * branch nor the timing tells which (no memcmp, no early exit). */
    for (size_t i = 0; i < ctlen; i++)
        diff |= (uint32_t)(c[i] ^ cprime[i]);
    /* diff in [0, 255]: (0 - diff) >> 31 is 1 iff diff != 0. */
    mask = (uint8_t)(0u - ((0u - diff) >> 31));
    __asm__("" : "+r"(mask)); /* keep the compiler from turning the select into a branch */
    for (size_t i = 0; i < SYM_BYTES; i++)
        ss[i] = (uint8_t)(kr[i] ^ (mask & (kr[i] ^ kbar[i])));

    qcn_wipe(mh, sizeof mh);
    qcn_wipe(kr, sizeof kr);
    qcn_wipe(kbar, sizeof kbar);
    qcn_wipe(cprime, sizeof cprime);
}

int qcn_mlkem_decaps(int param, uint8_t ss[QCN_MLKEM_SS_BYTES], const uint8_t *dk,
                     const uint8_t *ct)
{
    struct params p;
    int err;

    if (!params_of(param, &p))
        err = QCN_ERR_BAD_PARAM_SET;
    else if (ss == NULL || dk == NULL || ct == NULL)
        err = QCN_ERR_INVALID_ARG;
    else
        err = qcn_mlkem_check_dk(param, dk);
    if (err != QCN_OK) {
        if (ss != NULL)
            memset(ss, 0, QCN_MLKEM_SS_BYTES);
        return err;
    }
    decaps_internal(&p, ss, dk, ct);
    return QCN_OK;
}
