/* mlkem_avx2.c - AVX2 versions of the ML-KEM NTT, inverse NTT and NTT-domain
 * multiplication, selected at run time (qcn_mlkem_have_avx2). Each function
 * carries __attribute__((target("avx2"))) so the rest of the binary stays
 * baseline x86-64.
 *
 * The arithmetic is the portable code's, 16 lanes at a time, so results are
 * bit-identical (tests/unit/test_crypto_mlkem.c compares them):
 *   Montgomery a·b·2^-16: hi(a·b) - hi(lo(lo(a·b)·q^-1)·q); the low halves
 *   of a·b and t·q are equal by construction, so this equals the scalar
 *   (a·b - t·q) >> 16.
 *   Barrett: (hi(a·V) + 2^9) >> 10 = floor((a·V + 2^25) / 2^26).
 * Layers with butterfly distance >= 16 work on whole vectors; the last three
 * (8, 4, 2) first regroup two vectors into "top" and "bottom" halves with
 * 128-bit, 64-bit and 32-bit interleaves, with the ζ of each butterfly laid
 * out to match (tables below, derived from the Appendix A table). */
#include "crypto/mlkem_internal.h"

#include <pthread.h>
#include <stdlib.h>

#include "crypto/keccak_x4.h"
#include "util/mem.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

/* ζ vectors for distance 8, 4 and 2, forward (k = 16.., 32.., 64..) and
 * inverse (k = 31.., 63.., 127.. downwards), for chunk c of 32 coefficients. */
static const int16_t fwd8[8][16] = {
    {573, 573, 573, 573, 573, 573, 573, 573, -1325, -1325, -1325, -1325, -1325, -1325, -1325,
     -1325},
    {264, 264, 264, 264, 264, 264, 264, 264, 383, 383, 383, 383, 383, 383, 383, 383},
    {-829, -829, -829, -829, -829, -829, -829, -829, 1458, 1458, 1458, 1458, 1458, 1458, 1458,
     1458},
    {-1602, -1602, -1602, -1602, -1602, -1602, -1602, -1602, -130, -130, -130, -130, -130, -130,
     -130, -130},
    {-681, -681, -681, -681, -681, -681, -681, -681, 1017, 1017, 1017, 1017, 1017, 1017, 1017,
     1017},
    {732, 732, 732, 732, 732, 732, 732, 732, 608, 608, 608, 608, 608, 608, 608, 608},
    {-1542, -1542, -1542, -1542, -1542, -1542, -1542, -1542, 411, 411, 411, 411, 411, 411, 411,
     411},
    {-205, -205, -205, -205, -205, -205, -205, -205, -1571, -1571, -1571, -1571, -1571, -1571,
     -1571, -1571},
};
static const int16_t fwd4[8][16] = {
    {1223, 1223, 1223, 1223, -552, -552, -552, -552, 652, 652, 652, 652, 1015, 1015, 1015, 1015},
    {-1293, -1293, -1293, -1293, -282, -282, -282, -282, 1491, 1491, 1491, 1491, -1544, -1544,
     -1544, -1544},
    {516, 516, 516, 516, -320, -320, -320, -320, -8, -8, -8, -8, -666, -666, -666, -666},
    {-1618, -1618, -1618, -1618, 126, 126, 126, 126, -1162, -1162, -1162, -1162, 1469, 1469, 1469,
     1469},
    {-853, -853, -853, -853, -271, -271, -271, -271, -90, -90, -90, -90, 830, 830, 830, 830},
    {107, 107, 107, 107, -247, -247, -247, -247, -1421, -1421, -1421, -1421, -951, -951, -951,
     -951},
    {-398, -398, -398, -398, -1508, -1508, -1508, -1508, 961, 961, 961, 961, -725, -725, -725,
     -725},
    {448, 448, 448, 448, 677, 677, 677, 677, -1065, -1065, -1065, -1065, -1275, -1275, -1275,
     -1275},
};
static const int16_t fwd2[8][16] = {
    {-1103, -1103, 430, 430, -1251, -1251, 871, 871, 555, 555, 843, 843, 1550, 1550, 105, 105},
    {422, 422, 587, 587, -291, -291, -460, -460, 177, 177, -235, -235, 1574, 1574, 1653, 1653},
    {-246, -246, 778, 778, -777, -777, 1483, 1483, 1159, 1159, -147, -147, -602, -602, 1119, 1119},
    {-1590, -1590, 644, 644, 418, 418, 329, 329, -872, -872, 349, 349, -156, -156, -75, -75},
    {817, 817, 1097, 1097, 1322, 1322, -1285, -1285, 603, 603, 610, 610, -1465, -1465, 384, 384},
    {-1215, -1215, -136, -136, -874, -874, 220, 220, 1218, 1218, -1335, -1335, -1187, -1187, -1659,
     -1659},
    {-1185, -1185, -1530, -1530, -1510, -1510, -854, -854, -1278, -1278, 794, 794, -870, -870, 478,
     478},
    {-108, -108, -308, -308, 958, 958, -1460, -1460, 996, 996, 991, 991, 1522, 1522, 1628, 1628},
};
static const int16_t inv8[8][16] = {
    {-1571, -1571, -1571, -1571, -1571, -1571, -1571, -1571, -205, -205, -205, -205, -205, -205,
     -205, -205},
    {411, 411, 411, 411, 411, 411, 411, 411, -1542, -1542, -1542, -1542, -1542, -1542, -1542,
     -1542},
    {608, 608, 608, 608, 608, 608, 608, 608, 732, 732, 732, 732, 732, 732, 732, 732},
    {1017, 1017, 1017, 1017, 1017, 1017, 1017, 1017, -681, -681, -681, -681, -681, -681, -681,
     -681},
    {-130, -130, -130, -130, -130, -130, -130, -130, -1602, -1602, -1602, -1602, -1602, -1602,
     -1602, -1602},
    {1458, 1458, 1458, 1458, 1458, 1458, 1458, 1458, -829, -829, -829, -829, -829, -829, -829,
     -829},
    {383, 383, 383, 383, 383, 383, 383, 383, 264, 264, 264, 264, 264, 264, 264, 264},
    {-1325, -1325, -1325, -1325, -1325, -1325, -1325, -1325, 573, 573, 573, 573, 573, 573, 573,
     573},
};
static const int16_t inv4[8][16] = {
    {-1275, -1275, -1275, -1275, -1065, -1065, -1065, -1065, 677, 677, 677, 677, 448, 448, 448,
     448},
    {-725, -725, -725, -725, 961, 961, 961, 961, -1508, -1508, -1508, -1508, -398, -398, -398,
     -398},
    {-951, -951, -951, -951, -1421, -1421, -1421, -1421, -247, -247, -247, -247, 107, 107, 107,
     107},
    {830, 830, 830, 830, -90, -90, -90, -90, -271, -271, -271, -271, -853, -853, -853, -853},
    {1469, 1469, 1469, 1469, -1162, -1162, -1162, -1162, 126, 126, 126, 126, -1618, -1618, -1618,
     -1618},
    {-666, -666, -666, -666, -8, -8, -8, -8, -320, -320, -320, -320, 516, 516, 516, 516},
    {-1544, -1544, -1544, -1544, 1491, 1491, 1491, 1491, -282, -282, -282, -282, -1293, -1293,
     -1293, -1293},
    {1015, 1015, 1015, 1015, 652, 652, 652, 652, -552, -552, -552, -552, 1223, 1223, 1223, 1223},
};
static const int16_t inv2[8][16] = {
    {1628, 1628, 1522, 1522, 991, 991, 996, 996, -1460, -1460, 958, 958, -308, -308, -108, -108},
    {478, 478, -870, -870, 794, 794, -1278, -1278, -854, -854, -1510, -1510, -1530, -1530, -1185,
     -1185},
    {-1659, -1659, -1187, -1187, -1335, -1335, 1218, 1218, 220, 220, -874, -874, -136, -136, -1215,
     -1215},
    {384, 384, -1465, -1465, 610, 610, 603, 603, -1285, -1285, 1322, 1322, 1097, 1097, 817, 817},
    {-75, -75, -156, -156, 349, 349, -872, -872, 329, 329, 418, 418, 644, 644, -1590, -1590},
    {1119, 1119, -602, -602, -147, -147, 1159, 1159, 1483, 1483, -777, -777, 778, 778, -246, -246},
    {1653, 1653, 1574, 1574, -235, -235, 177, 177, -460, -460, -291, -291, 587, 587, 422, 422},
    {105, 105, 1550, 1550, 843, 843, 555, 555, 871, 871, -1251, -1251, 430, 430, -1103, -1103},
};

/* QCN_NO_AVX2=1 selects the portable kernels for the whole process, as it does
 * for ML-DSA (mldsa_poly.c), so `make bench` can compare both paths. */
static int avx2_usable;
static pthread_once_t avx2_probe_once = PTHREAD_ONCE_INIT;

static void avx2_probe(void)
{
    const char *env = getenv("QCN_NO_AVX2");
    int off = env != NULL && env[0] != '\0' && strcmp(env, "0") != 0;
    avx2_usable = !off && __builtin_cpu_supports("avx2");
}

int qcn_mlkem_have_avx2(void)
{
    pthread_once(&avx2_probe_once, avx2_probe);
    return avx2_usable;
}

static inline AVX2 __m256i fqmul_v(__m256i a, __m256i b)
{
    const __m256i q = _mm256_set1_epi16(QCN_MLKEM_Q);
    const __m256i qinv = _mm256_set1_epi16(-3327);
    __m256i lo = _mm256_mullo_epi16(a, b);
    __m256i hi = _mm256_mulhi_epi16(a, b);
    __m256i t = _mm256_mullo_epi16(lo, qinv);
    return _mm256_sub_epi16(hi, _mm256_mulhi_epi16(t, q));
}

static inline AVX2 __m256i barrett_v(__m256i a)
{
    const __m256i v = _mm256_set1_epi16(20159);
    const __m256i q = _mm256_set1_epi16(QCN_MLKEM_Q);
    const __m256i r = _mm256_set1_epi16(1 << 9);
    __m256i t = _mm256_mulhi_epi16(a, v);
    t = _mm256_srai_epi16(_mm256_add_epi16(t, r), 10);
    return _mm256_sub_epi16(a, _mm256_mullo_epi16(t, q));
}

static inline AVX2 __m256i load(const int16_t *p)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

static inline AVX2 void store(int16_t *p, __m256i v)
{
    _mm256_storeu_si256((__m256i *)(void *)p, v);
}

/* Forward (Cooley-Tukey) butterfly: top += ζ·bot, bot = top - ζ·bot. */
static inline AVX2 void ct_bfly(__m256i *top, __m256i *bot, __m256i zeta)
{
    __m256i t = fqmul_v(*bot, zeta);
    *bot = _mm256_sub_epi16(*top, t);
    *top = _mm256_add_epi16(*top, t);
}

/* Inverse (Gentleman-Sande) butterfly: top = barrett(top + bot),
 * bot = ζ·(bot - top). */
static inline AVX2 void gs_bfly(__m256i *top, __m256i *bot, __m256i zeta)
{
    __m256i t = *top;
    *top = barrett_v(_mm256_add_epi16(t, *bot));
    *bot = fqmul_v(_mm256_sub_epi16(*bot, t), zeta);
}

/* Regrouping of two vectors A, B into butterfly halves and back. Distance 8:
 * 128-bit halves; 4: 64-bit halves; 2: 32-bit pairs after swapping the
 * middle two 32-bit words of each lane (0xD8 is its own inverse). */
static inline AVX2 void split8(__m256i a, __m256i b, __m256i *top, __m256i *bot)
{
    *top = _mm256_permute2x128_si256(a, b, 0x20);
    *bot = _mm256_permute2x128_si256(a, b, 0x31);
}

static inline AVX2 void split4(__m256i a, __m256i b, __m256i *top, __m256i *bot)
{
    *top = _mm256_unpacklo_epi64(a, b);
    *bot = _mm256_unpackhi_epi64(a, b);
}

static inline AVX2 void split2(__m256i a, __m256i b, __m256i *top, __m256i *bot)
{
    split4(_mm256_shuffle_epi32(a, 0xD8), _mm256_shuffle_epi32(b, 0xD8), top, bot);
}

static inline AVX2 void join2(__m256i top, __m256i bot, __m256i *a, __m256i *b)
{
    split4(top, bot, a, b);
    *a = _mm256_shuffle_epi32(*a, 0xD8);
    *b = _mm256_shuffle_epi32(*b, 0xD8);
}

AVX2 void qcn_mlkem_ntt_avx2(int16_t c[QCN_MLKEM_N])
{
    unsigned k = 1;
    for (unsigned len = 128; len >= 16; len >>= 1) {
        for (unsigned start = 0; start < QCN_MLKEM_N; start += 2 * len) {
            __m256i zeta = _mm256_set1_epi16(qcn_mlkem_zetas[k++]);
            for (unsigned j = start; j < start + len; j += 16) {
                __m256i top = load(c + j), bot = load(c + j + len);
                ct_bfly(&top, &bot, zeta);
                store(c + j, top);
                store(c + j + len, bot);
            }
        }
    }
    for (unsigned ch = 0; ch < 8; ch++) {
        __m256i a = load(c + 32 * ch), b = load(c + 32 * ch + 16), top, bot;
        split8(a, b, &top, &bot);
        ct_bfly(&top, &bot, load(fwd8[ch]));
        split8(top, bot, &a, &b); /* the 128-bit regrouping is an involution */
        split4(a, b, &top, &bot);
        ct_bfly(&top, &bot, load(fwd4[ch]));
        split4(top, bot, &a, &b);
        split2(a, b, &top, &bot);
        ct_bfly(&top, &bot, load(fwd2[ch]));
        join2(top, bot, &a, &b);
        store(c + 32 * ch, barrett_v(a));
        store(c + 32 * ch + 16, barrett_v(b));
    }
}

AVX2 void qcn_mlkem_invntt_avx2(int16_t c[QCN_MLKEM_N])
{
    const __m256i f = _mm256_set1_epi16(1441); /* 2^32/128 mod q, as in mlkem.c */
    unsigned k = 15;
    for (unsigned ch = 0; ch < 8; ch++) {
        __m256i a = load(c + 32 * ch), b = load(c + 32 * ch + 16), top, bot;
        split2(a, b, &top, &bot);
        gs_bfly(&top, &bot, load(inv2[ch]));
        join2(top, bot, &a, &b);
        split4(a, b, &top, &bot);
        gs_bfly(&top, &bot, load(inv4[ch]));
        split4(top, bot, &a, &b);
        split8(a, b, &top, &bot);
        gs_bfly(&top, &bot, load(inv8[ch]));
        split8(top, bot, &a, &b);
        store(c + 32 * ch, a);
        store(c + 32 * ch + 16, b);
    }
    for (unsigned len = 16; len <= 128; len <<= 1) {
        for (unsigned start = 0; start < QCN_MLKEM_N; start += 2 * len) {
            __m256i zeta = _mm256_set1_epi16(qcn_mlkem_zetas[k--]);
            for (unsigned j = start; j < start + len; j += 16) {
                __m256i top = load(c + j), bot = load(c + j + len);
                gs_bfly(&top, &bot, zeta);
                store(c + j, top);
                store(c + j + len, bot);
            }
        }
    }
    for (unsigned j = 0; j < QCN_MLKEM_N; j += 16)
        store(c + j, fqmul_v(load(c + j), f));
}

/* Alg 12 on 8 coefficient pairs per vector: even lanes get
 * a0·b0 + (a1·b1)·γ, odd lanes a0·b1 + a1·b0. */
AVX2 void qcn_mlkem_basemul_acc_avx2(int16_t r[QCN_MLKEM_N], const int16_t a[QCN_MLKEM_N],
                                     const int16_t b[QCN_MLKEM_N])
{
    const __m256i swap = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2,
                                          3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    for (unsigned j = 0; j < QCN_MLKEM_N; j += 16) {
        __m256i va = load(a + j), vb = load(b + j);
        /* γ_i for pair i sits in the odd lane of the pair. */
        __m256i g =
            _mm256_slli_epi32(_mm256_cvtepi16_epi32(_mm_loadu_si128(
                                  (const __m128i *)(const void *)(qcn_mlkem_gammas + j / 2))),
                              16);
        __m256i p = fqmul_v(va, vb);                                 /* a0b0, a1b1 */
        __m256i pg = fqmul_v(p, g);                                  /* -, (a1b1)γ */
        __m256i x = fqmul_v(va, _mm256_shuffle_epi8(vb, swap));      /* a0b1, a1b0 */
        __m256i c0 = _mm256_add_epi16(p, _mm256_srli_epi32(pg, 16)); /* even lanes */
        __m256i c1 = _mm256_add_epi16(x, _mm256_slli_epi32(x, 16));  /* odd lanes */
        __m256i sum = _mm256_blend_epi16(c0, c1, 0xAA);
        store(r + j, _mm256_add_epi16(load(r + j), sum));
    }
}

/* ---- four-way SHAKE for SampleNTT and the CBD PRF --------------------------
 * Four independent sponges on qcn_keccak_x4_f1600 (keccak_x4.c), where
 * ML-KEM needs several SHAKE streams of the same shape: the k·k matrix
 * entries (SHAKE128 of ρ||j||i) and the CBD noise (SHAKE256 of σ||N).
 * tests/unit/test_crypto_mlkem.c compares them with the scalar keccak.c. */

static uint64_t load64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Absorbs a 32-byte seed followed by the per-state suffix bytes (1 or 2),
 * with SHAKE padding (0x1f ... 0x80) for the given rate, into st. */
static void absorb_x4(uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES],
                      const uint8_t seed[QCN_MLKEM_SEED_BYTES], uint8_t suffix[4][2],
                      unsigned suffix_len, unsigned rate)
{
    for (unsigned i = 0; i < QCN_KECCAK_STATE_LANES; i++)
        for (unsigned t = 0; t < 4; t++)
            st[i][t] = i < 4 ? load64le(seed + 8 * i) : 0;
    for (unsigned t = 0; t < 4; t++) {
        uint64_t w = suffix[t][0];
        if (suffix_len == 2)
            w |= (uint64_t)suffix[t][1] << 8;
        st[4][t] = w | (uint64_t)QCN_SHAKE_DS << (8 * suffix_len);
        st[rate / 8 - 1][t] |= (uint64_t)0x80 << 56;
    }
}

/* The first rate bytes of state t. */
static void extract(uint8_t *out, uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES],
                    unsigned t, unsigned rate)
{
    for (unsigned i = 0; i < rate / 8; i++)
        for (unsigned b = 0; b < 8; b++)
            out[8 * i + b] = (uint8_t)(st[i][t] >> (8 * b));
}

void qcn_mlkem_sample_ntt_x4_avx2(int16_t *out[4], const uint8_t rho[QCN_MLKEM_SEED_BYTES],
                                  uint8_t idx[4][2])
{
    uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES];
    uint8_t buf[QCN_SHAKE128_RATE];
    unsigned n[4] = {0, 0, 0, 0};

    absorb_x4(st, rho, idx, 2, QCN_SHAKE128_RATE);
    while (n[0] < QCN_MLKEM_N || n[1] < QCN_MLKEM_N || n[2] < QCN_MLKEM_N || n[3] < QCN_MLKEM_N) {
        qcn_keccak_x4_f1600(st);
        for (unsigned t = 0; t < 4; t++) {
            extract(buf, st, t, QCN_SHAKE128_RATE);
            n[t] = qcn_mlkem_rej_uniform(out[t], n[t], buf, sizeof buf);
        }
    }
}

void qcn_mlkem_prf_x4_avx2(uint8_t *out[4], size_t outlen, const uint8_t seed[QCN_MLKEM_SEED_BYTES],
                           const uint8_t nonce[4])
{
    uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES];
    uint8_t buf[QCN_SHAKE256_RATE];
    uint8_t suffix[4][2] = {{nonce[0], 0}, {nonce[1], 0}, {nonce[2], 0}, {nonce[3], 0}};

    absorb_x4(st, seed, suffix, 1, QCN_SHAKE256_RATE);
    for (size_t done = 0; done < outlen; done += sizeof buf) {
        size_t take = outlen - done < sizeof buf ? outlen - done : sizeof buf;
        qcn_keccak_x4_f1600(st);
        for (unsigned t = 0; t < 4; t++) {
            extract(buf, st, t, QCN_SHAKE256_RATE);
            memcpy(out[t] + done, buf, take);
        }
    }
    qcn_wipe(st, sizeof st);
    qcn_wipe(buf, sizeof buf);
}

#else /* not x86: the portable kernels stand in */

int qcn_mlkem_have_avx2(void)
{
    return 0;
}

void qcn_mlkem_ntt_avx2(int16_t c[QCN_MLKEM_N])
{
    qcn_mlkem_ntt_ref(c);
}

void qcn_mlkem_invntt_avx2(int16_t c[QCN_MLKEM_N])
{
    qcn_mlkem_invntt_ref(c);
}

void qcn_mlkem_basemul_acc_avx2(int16_t r[QCN_MLKEM_N], const int16_t a[QCN_MLKEM_N],
                                const int16_t b[QCN_MLKEM_N])
{
    qcn_mlkem_basemul_acc_ref(r, a, b);
}

void qcn_mlkem_sample_ntt_x4_avx2(int16_t *out[4], const uint8_t rho[QCN_MLKEM_SEED_BYTES],
                                  uint8_t idx[4][2])
{
    (void)out, (void)rho, (void)idx;
    abort();
}

void qcn_mlkem_prf_x4_avx2(uint8_t *out[4], size_t outlen, const uint8_t seed[QCN_MLKEM_SEED_BYTES],
                           const uint8_t nonce[4])
{
    (void)out, (void)outlen, (void)seed, (void)nonce;
    abort();
}

#endif
