/* AVX2 ML-DSA arithmetic: NTT / inverse NTT / pointwise Montgomery products
 * on eight coefficients per instruction, and samplers fed by four Keccak-f
 * states run side by side in 256-bit registers (one 64-bit lane per state).
 *
 * Every function carries __attribute__((target("avx2"))) and is reached only
 * through qcn_mldsa_impl_avx2, which the dispatcher selects after checking
 * __builtin_cpu_supports("avx2"); nothing here is compiled with a global
 * -mavx2. Results are bit-identical to the portable code: each butterfly does
 * the same integer operations in the same order (the unit test and the ACVP
 * vectors check both back ends).
 *
 * NTT layout (FIPS 204 Alg 41/42): layers with distance >= 8 pair whole
 * vectors with a broadcast zeta. For distances 4, 2 and 1 a block of eight
 * vectors (64 coefficients) is transposed 8x8 so that each vector holds one
 * coefficient position of eight consecutive 8-coefficient groups; the pairs
 * are then again whole vectors, with per-lane zetas from the tables below
 * (the bit-reversed zetas regrouped by position; generated from
 * qcn_mldsa_zetas). */
#include "crypto/mldsa_internal.h"

#ifdef QCN_MLDSA_HAVE_AVX2

#include <immintrin.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/keccak_x4.h"
#include "util/mem.h"

#define AVX2 __attribute__((target("avx2")))
#define N QCN_MLDSA_N

/* Per-lane zetas for the last three forward layers and the first three
 * inverse layers, each followed by its product with q^-1 mod 2^32:
 *   fz4[g] = zetas[32 + g], fz2[h][g] = zetas[64 + 2g + h],
 *   fz1[m][g] = zetas[128 + 4g + m], and the inverse tables the negated
 *   zetas in the order Alg 42 consumes them. */
static const int32_t fz4[32] __attribute__((aligned(32))) = {
    2706023,  95776,    3077325, 3530437,  -1661693, -3592148, -2537516, 3915439,
    -3861115, -3043716, 3574422, -2867647, 3539968,  -300467,  2348700,  -539299,
    -1699267, -1643818, 3505694, -3821735, 3507263,  -2140649, -1600420, 3699596,
    811944,   531354,   954230,  3881043,  3900724,  -2556880, 2071892,  -2797779,
};
static const int32_t fz4q[32] __attribute__((aligned(32))) = {
    -1846138265, -1631226336, -1404529459, 1838055109, 1594295555,  -1076973524, -1898723372,
    -594436433,  -202001019,  -475984260,  -561427818, 1797021249,  -1061813248, 2059733581,
    -1661512036, -1104976547, -1750224323, -901666090, 418987550,   1831915353,  -1925356481,
    992097815,   879957084,   2024403852,  1484874664, -1636082790, -285388938,  -1983539117,
    -1495136972, -950076368,  -1714807468, -952438995,
};
static const int32_t fz2[64] __attribute__((aligned(32))) = {
    -3930395, -3677745, -1452451, 2176455,  -1257611, -4083598, -3190144, -3632928,
    3412210,  2147896,  -2967645, -411027,  -671102,  -22981,   -381987,  1852771,
    -3343383, 508951,   44288,    904516,   -3724342, 1653064,  2389356,  759969,
    189548,   3159746,  -2409325, 1315589,  1285669,  -812732,  -3019102, -3628969,
    -1528703, -3041255, 3475950,  -1585221, 1939314,  -1000202, -3157330, 126922,
    -983419,  2715295,  -3693493, -2477047, -1228525, -1308169, 1349076,  -1430430,
    264944,   3097992,  -1100098, 3958618,  -8578,    -3249728, -210977,  -1316856,
    -3553272, -1851402, -177440,  1341330,  -1584928, -1439742, -3881060, 3839961,
};
static const int32_t fz2q[64] __attribute__((aligned(32))) = {
    -1574918427, 1350681039,  -2143979939, 1599739335,  -1285853323, -993005454,  -1440787840,
    568627424,   -783134478,  -588790216,  289871779,   -1262003603, 2135294594,  -1018755525,
    -889861155,  1665705315,  1321868265,  1225434135,  -1784632064, 666258756,   675310538,
    -1555941048, -1999506068, -1499481951, -695180180,  -1375177022, 1777179795,  334803717,
    -178766299,  -518252220,  1957047970,  1146323031,  -654783359,  -1974159335, 1651689966,
    140455867,   -1039411342, 1955560694,  1529189038,  -2131021878, -247357819,  1518161567,
    -86965173,   1708872713,  1787797779,  1638590967,  -120646188,  -1669960606, -916321552,
    1155548552,  2143745726,  1210558298,  -1261461890, -318346816,  628664287,   -1729304568,
    1422575624,  1424130038,  -1185330464, 235321234,   168022240,   1206536194,  985155484,
    -894060583,
};
static const int32_t fz1[128] __attribute__((aligned(32))) = {
    2091667,  -3342478, 266997,   -3520352, 900702,   495491,   -655327,  -3556995, 342297,
    3437287,  2842341,  4055324,  -3767016, -2994039, -1333058, -451100,  -1279661, 1500165,
    -542412,  -2584293, -2013608, 1957272,  -3183426, 810149,   -3038916, 2213111,  -426683,
    -1667432, -2939036, 183443,   -554416,  3937738,  3407706,  2244091,  2434439,  -3759364,
    1859098,  -1613174, -3122442, -525098,  286988,   -3342277, 2691481,  1247620,  1250494,
    1869119,  1237275,  1312455,  1917081,  777191,   -2831860, -3724270, 2432395,  3369112,
    162844,   1652634,  3523897,  -975884,  1723600,  -1104333, -2235985, -976891,  3919660,
    1400424,  2316500,  -2446433, -1235728, -1197226, 909542,   -43260,   2031748,  -768622,
    -2437823, 1735879,  -2590150, 2486353,  2635921,  1903435,  -3318210, 3306115,  -2546312,
    2235880,  -1671176, 594136,   2454455,  185531,   1616392,  -3694233, 3866901,  1717735,
    -1803090, -260646,  -420899,  1612842,  -48306,   -846154,  3817976,  -3562462, 3513181,
    -3193378, 819034,   -522500,  3207046,  -3595838, 4108315,  203044,   1265009,  1595974,
    -3548272, -1050970, -1430225, -1962642, -1374803, 3406031,  -1846953, -3776993, -164721,
    -1207385, 3014001,  -1799107, 269760,   472078,   1910376,  -3833893, -2286327, -3545687,
    -1362209, 1976782,
};
static const int32_t fz1q[128] __attribute__((aligned(32))) = {
    -898413,     -1363460238, -605900043,  2027833504,  14253662,    1014493059,  863641633,
    1819892093,  2124962073,  -1223601433, -1920467227, -1637785316, -1536588520, 694382729,
    235104446,   -1045062172, 831969619,   -300448763,  756955444,   -260312805,  1554794072,
    1339088280,  -2040058690, -853476187,  -2047270596, -1723816713, -1591599803, -440824168,
    1119856484,  1544891539,  155290192,   -973777462,  991903578,   912367099,   -44694137,
    1176904444,  -421552614,  -818371958,  1747917558,  -325927722,  908452108,   1851023419,
    -1176751719, -1354528380, -72690498,   -314284737,  985022747,   963438279,   -1078959975,
    604552167,   -1021949428, 608791570,   173440395,   -2126092136, -1316619236, -1039370342,
    6087993,     -110126092,  565464272,   -1758099917, -1600929361, 879867909,   -1809756372,
    400711272,   1363007700,  30313375,    -326425360,  1683520342,  -517299994,  2027935492,
    -1372618620, 128353682,   -1123881663, 137583815,   -635454918,  -642772911,  45766801,
    671509323,   -2070602178, 419615363,   1216882040,  -270590488,  -1276805128, 371462360,
    -1357098057, -384158533,  827959816,   -596344473,  702390549,   -279505433,  -260424530,
    -71875110,   -1208667171, -1499603926, 2036925262,  -540420426,  746144248,   -1420958686,
    2032221021,  1904936414,  1257750362,  1926727420,  1931587462,  1258381762,  885133339,
    1629985060,  1967222129,  6363718,     -1287922800, 1136965286,  1779436847,  1116720494,
    1042326957,  1405999311,  713994583,   940195359,   -1542497137, 2061661095,  -883155599,
    1726753853,  -1547952704, 394851342,   283780712,   776003547,   1123958025,  201262505,
    1934038751,  374860238,
};
static const int32_t iz4[32] __attribute__((aligned(32))) = {
    2797779,  -2071892, 2556880, -3900724, -3881043, -954230,  -531354, -811944,
    -3699596, 1600420,  2140649, -3507263, 3821735,  -3505694, 1643818, 1699267,
    539299,   -2348700, 300467,  -3539968, 2867647,  -3574422, 3043716, 3861115,
    -3915439, 2537516,  3592148, 1661693,  -3530437, -3077325, -95776,  -2706023,
};
static const int32_t iz4q[32] __attribute__((aligned(32))) = {
    952438995,   1714807468,  950076368,  1495136972, 1983539117,  285388938,   1636082790,
    -1484874664, -2024403852, -879957084, -992097815, 1925356481,  -1831915353, -418987550,
    901666090,   1750224323,  1104976547, 1661512036, -2059733581, 1061813248,  -1797021249,
    561427818,   475984260,   202001019,  594436433,  1898723372,  1076973524,  -1594295555,
    -1838055109, 1404529459,  1631226336, 1846138265,
};
static const int32_t iz2[64] __attribute__((aligned(32))) = {
    -3839961, 3881060,  1439742,  1584928,  -1341330, 177440,   1851402,  3553272,
    1316856,  210977,   3249728,  8578,     -3958618, 1100098,  -3097992, -264944,
    1430430,  -1349076, 1308169,  1228525,  2477047,  3693493,  -2715295, 983419,
    -126922,  3157330,  1000202,  -1939314, 1585221,  -3475950, 3041255,  1528703,
    3628969,  3019102,  812732,   -1285669, -1315589, 2409325,  -3159746, -189548,
    -759969,  -2389356, -1653064, 3724342,  -904516,  -44288,   -508951,  3343383,
    -1852771, 381987,   22981,    671102,   411027,   2967645,  -2147896, -3412210,
    3632928,  3190144,  4083598,  1257611,  -2176455, 1452451,  3677745,  3930395,
};
static const int32_t iz2q[64] __attribute__((aligned(32))) = {
    894060583,   -985155484,  -1206536194, -168022240, -235321234,  1185330464,  -1424130038,
    -1422575624, 1729304568,  -628664287,  318346816,  1261461890,  -1210558298, -2143745726,
    -1155548552, 916321552,   1669960606,  120646188,  -1638590967, -1787797779, -1708872713,
    86965173,    -1518161567, 247357819,   2131021878, -1529189038, -1955560694, 1039411342,
    -140455867,  -1651689966, 1974159335,  654783359,  -1146323031, -1957047970, 518252220,
    178766299,   -334803717,  -1777179795, 1375177022, 695180180,   1499481951,  1999506068,
    1555941048,  -675310538,  -666258756,  1784632064, -1225434135, -1321868265, -1665705315,
    889861155,   1018755525,  -2135294594, 1262003603, -289871779,  588790216,   783134478,
    -568627424,  1440787840,  993005454,   1285853323, -1599739335, 2143979939,  -1350681039,
    1574918427,
};
static const int32_t iz1[128] __attribute__((aligned(32))) = {
    -1976782, 1362209,  3545687,  2286327,  3833893,  -1910376, -472078,  -269760,  1799107,
    -3014001, 1207385,  164721,   3776993,  1846953,  -3406031, 1374803,  1962642,  1430225,
    1050970,  3548272,  -1595974, -1265009, -203044,  -4108315, 3595838,  -3207046, 522500,
    -819034,  3193378,  -3513181, 3562462,  -3817976, 846154,   48306,    -1612842, 420899,
    260646,   1803090,  -1717735, -3866901, 3694233,  -1616392, -185531,  -2454455, -594136,
    1671176,  -2235880, 2546312,  -3306115, 3318210,  -1903435, -2635921, -2486353, 2590150,
    -1735879, 2437823,  768622,   -2031748, 43260,    -909542,  1197226,  1235728,  2446433,
    -2316500, -1400424, -3919660, 976891,   2235985,  1104333,  -1723600, 975884,   -3523897,
    -1652634, -162844,  -3369112, -2432395, 3724270,  2831860,  -777191,  -1917081, -1312455,
    -1237275, -1869119, -1250494, -1247620, -2691481, 3342277,  -286988,  525098,   3122442,
    1613174,  -1859098, 3759364,  -2434439, -2244091, -3407706, -3937738, 554416,   -183443,
    2939036,  1667432,  426683,   -2213111, 3038916,  -810149,  3183426,  -1957272, 2013608,
    2584293,  542412,   -1500165, 1279661,  451100,   1333058,  2994039,  3767016,  -4055324,
    -2842341, -3437287, -342297,  3556995,  655327,   -495491,  -900702,  3520352,  -266997,
    3342478,  -2091667,
};
static const int32_t iz1q[128] __attribute__((aligned(32))) = {
    -374860238,  -1934038751, -201262505,  -1123958025, -776003547,  -283780712,  -394851342,
    1547952704,  -1726753853, 883155599,   -2061661095, 1542497137,  -940195359,  -713994583,
    -1405999311, -1042326957, -1116720494, -1779436847, -1136965286, 1287922800,  -6363718,
    -1967222129, -1629985060, -885133339,  -1258381762, -1931587462, -1926727420, -1257750362,
    -1904936414, -2032221021, 1420958686,  -746144248,  540420426,   -2036925262, 1499603926,
    1208667171,  71875110,    260424530,   279505433,   -702390549,  596344473,   -827959816,
    384158533,   1357098057,  -371462360,  1276805128,  270590488,   -1216882040, -419615363,
    2070602178,  -671509323,  -45766801,   642772911,   635454918,   -137583815,  1123881663,
    -128353682,  1372618620,  -2027935492, 517299994,   -1683520342, 326425360,   -30313375,
    -1363007700, -400711272,  1809756372,  -879867909,  1600929361,  1758099917,  -565464272,
    110126092,   -6087993,    1039370342,  1316619236,  2126092136,  -173440395,  -608791570,
    1021949428,  -604552167,  1078959975,  -963438279,  -985022747,  314284737,   72690498,
    1354528380,  1176751719,  -1851023419, -908452108,  325927722,   -1747917558, 818371958,
    421552614,   -1176904444, 44694137,    -912367099,  -991903578,  973777462,   -155290192,
    -1544891539, -1119856484, 440824168,   1591599803,  1723816713,  2047270596,  853476187,
    2040058690,  -1339088280, -1554794072, 260312805,   -756955444,  300448763,   -831969619,
    1045062172,  -235104446,  -694382729,  1536588520,  1637785316,  1920467227,  1223601433,
    -2124962073, -1819892093, -863641633,  -1014493059, -14253662,   -2027833504, 605900043,
    1363460238,  898413,
};

/* ---- Montgomery arithmetic ------------------------------------------------ */

/* (a * b) * 2^-32 mod q per 32-bit lane, bq = b * q^-1 mod 2^32. Same
 * integer result as mont_reduce((int64_t)a * b) in mldsa_poly.c. */
static inline AVX2 __m256i montmul(__m256i a, __m256i b, __m256i bq)
{
    const __m256i q = _mm256_set1_epi32(QCN_MLDSA_Q);
    __m256i t = _mm256_mullo_epi32(a, bq);
    __m256i pe = _mm256_mul_epi32(a, b);
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
    __m256i te = _mm256_mul_epi32(t, q);
    __m256i to = _mm256_mul_epi32(_mm256_srli_epi64(t, 32), q);
    __m256i re = _mm256_srli_epi64(_mm256_sub_epi64(pe, te), 32);
    __m256i ro = _mm256_sub_epi64(po, to);
    return _mm256_blend_epi32(re, ro, 0xaa);
}

static inline AVX2 void ct_butterfly(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
    __m256i t = montmul(*b, z, zq);
    *b = _mm256_sub_epi32(*a, t);
    *a = _mm256_add_epi32(*a, t);
}

static inline AVX2 void gs_butterfly(__m256i *a, __m256i *b, __m256i z, __m256i zq)
{
    __m256i t = *a;
    *a = _mm256_add_epi32(t, *b);
    *b = montmul(_mm256_sub_epi32(t, *b), z, zq);
}

static inline AVX2 void transpose8(__m256i v[8])
{
    __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
    __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    v[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    v[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    v[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    v[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    v[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    v[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    v[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    v[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

static inline AVX2 __m256i load(const int32_t *p)
{
    return _mm256_load_si256((const __m256i *)(const void *)p);
}

static inline AVX2 void store(int32_t *p, __m256i v)
{
    _mm256_store_si256((__m256i *)(void *)p, v);
}

/* Broadcast zeta k (negated for the inverse transform) and its q^-1 product. */
static inline AVX2 void zeta_at(__m256i *z, __m256i *zq, unsigned k, int negate)
{
    *z = _mm256_set1_epi32(negate ? -qcn_mldsa_zetas[k] : qcn_mldsa_zetas[k]);
    *zq = _mm256_set1_epi32(negate ? -qcn_mldsa_zetas_qinv[k] : qcn_mldsa_zetas_qinv[k]);
}

/* Two passes over the polynomial instead of one per layer. Pass 1 holds the
 * eight vectors at coefficient offsets 8i + 32m (m = 0..7) and runs the
 * distance 128, 64 and 32 layers on them; pass 2 holds one 64-coefficient
 * block and runs distances 16 and 8, then (transposed) 4, 2 and 1. The
 * butterflies and zetas are exactly those of ntt_ref. */
static AVX2 void ntt_avx2(int32_t a[N])
{
    unsigned i, m, blk, c;
    __m256i z, zq;
    for (i = 0; i < 4; i++) {
        __m256i v[8];
#pragma GCC unroll 8
        for (m = 0; m < 8; m++)
            v[m] = load(a + 8 * i + 32 * m);
        zeta_at(&z, &zq, 1, 0);
#pragma GCC unroll 8
        for (m = 0; m < 4; m++)
            ct_butterfly(&v[m], &v[m + 4], z, zq);
#pragma GCC unroll 8
        for (m = 0; m < 8; m++)
            if ((m & 2) == 0) {
                zeta_at(&z, &zq, 2 + (m >> 2), 0);
                ct_butterfly(&v[m], &v[m + 2], z, zq);
            }
#pragma GCC unroll 8
        for (m = 0; m < 8; m += 2) {
            zeta_at(&z, &zq, 4 + (m >> 1), 0);
            ct_butterfly(&v[m], &v[m + 1], z, zq);
        }
#pragma GCC unroll 8
        for (m = 0; m < 8; m++)
            store(a + 8 * i + 32 * m, v[m]);
    }
    for (blk = 0; blk < 4; blk++) {
        __m256i v[8];
        unsigned g = 8 * blk;
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            v[c] = load(a + 64 * blk + 8 * c);
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            if ((c & 2) == 0) {
                zeta_at(&z, &zq, 8 + 2 * blk + (c >> 2), 0);
                ct_butterfly(&v[c], &v[c + 2], z, zq);
            }
#pragma GCC unroll 8
        for (c = 0; c < 8; c += 2) {
            zeta_at(&z, &zq, 16 + 4 * blk + (c >> 1), 0);
            ct_butterfly(&v[c], &v[c + 1], z, zq);
        }
        transpose8(v);
/* v[c] lane r is coefficient c of group g + r. */
#pragma GCC unroll 8
        for (c = 0; c < 4; c++)
            ct_butterfly(&v[c], &v[c + 4], load(fz4 + g), load(fz4q + g));
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            if ((c & 2) == 0)
                ct_butterfly(&v[c], &v[c + 2], load(fz2 + 32 * (c >> 2) + g),
                             load(fz2q + 32 * (c >> 2) + g));
#pragma GCC unroll 8
        for (c = 0; c < 8; c += 2)
            ct_butterfly(&v[c], &v[c + 1], load(fz1 + 32 * (c >> 1) + g),
                         load(fz1q + 32 * (c >> 1) + g));
        transpose8(v);
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            store(a + 64 * blk + 8 * c, v[c]);
    }
}

/* The mirror image of ntt_avx2: pass 1 per 64-coefficient block (distances
 * 1, 2, 4 transposed, then 8 and 16), pass 2 on the stride-32 vectors
 * (distances 32, 64, and 128 with the final scaling folded in). */
static AVX2 void invntt_avx2(int32_t a[N])
{
    unsigned i, m, blk, c;
    __m256i z, zq;
    const __m256i f = _mm256_set1_epi32(QCN_MLDSA_INVNTT_F);
    const __m256i fq =
        _mm256_set1_epi32((int32_t)((uint32_t)QCN_MLDSA_INVNTT_F * (uint32_t)QCN_MLDSA_QINV));
    const __m256i zf = _mm256_set1_epi32(QCN_MLDSA_INVNTT_ZF);
    const __m256i zfq =
        _mm256_set1_epi32((int32_t)((uint32_t)QCN_MLDSA_INVNTT_ZF * (uint32_t)QCN_MLDSA_QINV));
    for (blk = 0; blk < 4; blk++) {
        __m256i v[8];
        unsigned g = 8 * blk;
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            v[c] = load(a + 64 * blk + 8 * c);
        transpose8(v);
#pragma GCC unroll 8
        for (c = 0; c < 8; c += 2)
            gs_butterfly(&v[c], &v[c + 1], load(iz1 + 32 * (c >> 1) + g),
                         load(iz1q + 32 * (c >> 1) + g));
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            if ((c & 2) == 0)
                gs_butterfly(&v[c], &v[c + 2], load(iz2 + 32 * (c >> 2) + g),
                             load(iz2q + 32 * (c >> 2) + g));
#pragma GCC unroll 8
        for (c = 0; c < 4; c++)
            gs_butterfly(&v[c], &v[c + 4], load(iz4 + g), load(iz4q + g));
        transpose8(v);
#pragma GCC unroll 8
        for (c = 0; c < 8; c += 2) {
            zeta_at(&z, &zq, 31 - 4 * blk - (c >> 1), 1);
            gs_butterfly(&v[c], &v[c + 1], z, zq);
        }
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            if ((c & 2) == 0) {
                zeta_at(&z, &zq, 15 - 2 * blk - (c >> 2), 1);
                gs_butterfly(&v[c], &v[c + 2], z, zq);
            }
#pragma GCC unroll 8
        for (c = 0; c < 8; c++)
            store(a + 64 * blk + 8 * c, v[c]);
    }
    for (i = 0; i < 4; i++) {
        __m256i v[8];
#pragma GCC unroll 8
        for (m = 0; m < 8; m++)
            v[m] = load(a + 8 * i + 32 * m);
#pragma GCC unroll 8
        for (m = 0; m < 8; m += 2) {
            zeta_at(&z, &zq, 7 - (m >> 1), 1);
            gs_butterfly(&v[m], &v[m + 1], z, zq);
        }
#pragma GCC unroll 8
        for (m = 0; m < 8; m++)
            if ((m & 2) == 0) {
                zeta_at(&z, &zq, 3 - (m >> 2), 1);
                gs_butterfly(&v[m], &v[m + 2], z, zq);
            }
/* Distance 128 with the scaling folded in, as in invntt_ref. */
#pragma GCC unroll 8
        for (m = 0; m < 4; m++) {
            __m256i x = v[m], y = v[m + 4];
            store(a + 8 * i + 32 * m, montmul(_mm256_add_epi32(x, y), f, fq));
            store(a + 8 * i + 32 * (m + 4), montmul(_mm256_sub_epi32(x, y), zf, zfq));
        }
    }
}

static AVX2 void pointwise_avx2(int32_t c[N], const int32_t a[N], const int32_t b[N])
{
    const __m256i qinv = _mm256_set1_epi32(QCN_MLDSA_QINV);
    unsigned i;
    for (i = 0; i < N; i += 8) {
        __m256i y = load(b + i);
        store(c + i, montmul(load(a + i), y, _mm256_mullo_epi32(y, qinv)));
    }
}

static AVX2 void pointwise_acc_avx2(int32_t c[N], const int32_t a[N], const int32_t b[N])
{
    const __m256i qinv = _mm256_set1_epi32(QCN_MLDSA_QINV);
    unsigned i;
    for (i = 0; i < N; i += 8) {
        __m256i y = load(b + i);
        __m256i p = montmul(load(a + i), y, _mm256_mullo_epi32(y, qinv));
        store(c + i, _mm256_add_epi32(load(c + i), p));
    }
}

/* ---- four Keccak-f[1600] states at once ------------------------------------ */

/* Four sponges over seed || nonce[t] (one block: seedlen + 2 < rate), padded
 * for SHAKE; the first x4_squeeze_block permutes. st[i][t] is lane i of
 * state t (keccak_x4.h). */
static void x4_absorb(uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES], unsigned rate,
                      const uint8_t *seed, size_t seedlen, const uint16_t nonce[4])
{
    uint64_t blk[4][QCN_SHAKE128_RATE / 8];
    unsigned t, j;
    for (t = 0; t < 4; t++) {
        uint8_t *b = (uint8_t *)blk[t];
        memset(b, 0, rate);
        memcpy(b, seed, seedlen);
        b[seedlen] = (uint8_t)nonce[t];
        b[seedlen + 1] = (uint8_t)(nonce[t] >> 8);
        b[seedlen + 2] ^= QCN_SHAKE_DS;
        b[rate - 1] ^= 0x80;
    }
    for (j = 0; j < QCN_KECCAK_STATE_LANES; j++)
        for (t = 0; t < 4; t++)
            st[j][t] = j < rate / 8 ? blk[t][j] : 0;
    qcn_wipe(blk, sizeof blk);
}

/* Permutes, then writes the next output block of each state to out[t]
 * (rate bytes): one permutation per block squeezed, none wasted. */
static void x4_squeeze_block(uint64_t st[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES],
                             unsigned rate, uint8_t *out[4])
{
    unsigned j, t;
    qcn_keccak_x4_f1600(st);
    for (j = 0; j < rate / 8; j++)
        for (t = 0; t < 4; t++)
            memcpy(out[t] + 8 * j, &st[j][t], 8);
}

/* compact_idx[m] lists the positions of the set bits of m, for moving the
 * accepted candidates of eight to the front (vpermd). Public data only. */
static const uint8_t compact_idx[256][8] = {
    {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 0},
    {0, 1, 0, 0, 0, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 0, 0}, {0, 2, 0, 0, 0, 0, 0, 0},
    {1, 2, 0, 0, 0, 0, 0, 0}, {0, 1, 2, 0, 0, 0, 0, 0}, {3, 0, 0, 0, 0, 0, 0, 0},
    {0, 3, 0, 0, 0, 0, 0, 0}, {1, 3, 0, 0, 0, 0, 0, 0}, {0, 1, 3, 0, 0, 0, 0, 0},
    {2, 3, 0, 0, 0, 0, 0, 0}, {0, 2, 3, 0, 0, 0, 0, 0}, {1, 2, 3, 0, 0, 0, 0, 0},
    {0, 1, 2, 3, 0, 0, 0, 0}, {4, 0, 0, 0, 0, 0, 0, 0}, {0, 4, 0, 0, 0, 0, 0, 0},
    {1, 4, 0, 0, 0, 0, 0, 0}, {0, 1, 4, 0, 0, 0, 0, 0}, {2, 4, 0, 0, 0, 0, 0, 0},
    {0, 2, 4, 0, 0, 0, 0, 0}, {1, 2, 4, 0, 0, 0, 0, 0}, {0, 1, 2, 4, 0, 0, 0, 0},
    {3, 4, 0, 0, 0, 0, 0, 0}, {0, 3, 4, 0, 0, 0, 0, 0}, {1, 3, 4, 0, 0, 0, 0, 0},
    {0, 1, 3, 4, 0, 0, 0, 0}, {2, 3, 4, 0, 0, 0, 0, 0}, {0, 2, 3, 4, 0, 0, 0, 0},
    {1, 2, 3, 4, 0, 0, 0, 0}, {0, 1, 2, 3, 4, 0, 0, 0}, {5, 0, 0, 0, 0, 0, 0, 0},
    {0, 5, 0, 0, 0, 0, 0, 0}, {1, 5, 0, 0, 0, 0, 0, 0}, {0, 1, 5, 0, 0, 0, 0, 0},
    {2, 5, 0, 0, 0, 0, 0, 0}, {0, 2, 5, 0, 0, 0, 0, 0}, {1, 2, 5, 0, 0, 0, 0, 0},
    {0, 1, 2, 5, 0, 0, 0, 0}, {3, 5, 0, 0, 0, 0, 0, 0}, {0, 3, 5, 0, 0, 0, 0, 0},
    {1, 3, 5, 0, 0, 0, 0, 0}, {0, 1, 3, 5, 0, 0, 0, 0}, {2, 3, 5, 0, 0, 0, 0, 0},
    {0, 2, 3, 5, 0, 0, 0, 0}, {1, 2, 3, 5, 0, 0, 0, 0}, {0, 1, 2, 3, 5, 0, 0, 0},
    {4, 5, 0, 0, 0, 0, 0, 0}, {0, 4, 5, 0, 0, 0, 0, 0}, {1, 4, 5, 0, 0, 0, 0, 0},
    {0, 1, 4, 5, 0, 0, 0, 0}, {2, 4, 5, 0, 0, 0, 0, 0}, {0, 2, 4, 5, 0, 0, 0, 0},
    {1, 2, 4, 5, 0, 0, 0, 0}, {0, 1, 2, 4, 5, 0, 0, 0}, {3, 4, 5, 0, 0, 0, 0, 0},
    {0, 3, 4, 5, 0, 0, 0, 0}, {1, 3, 4, 5, 0, 0, 0, 0}, {0, 1, 3, 4, 5, 0, 0, 0},
    {2, 3, 4, 5, 0, 0, 0, 0}, {0, 2, 3, 4, 5, 0, 0, 0}, {1, 2, 3, 4, 5, 0, 0, 0},
    {0, 1, 2, 3, 4, 5, 0, 0}, {6, 0, 0, 0, 0, 0, 0, 0}, {0, 6, 0, 0, 0, 0, 0, 0},
    {1, 6, 0, 0, 0, 0, 0, 0}, {0, 1, 6, 0, 0, 0, 0, 0}, {2, 6, 0, 0, 0, 0, 0, 0},
    {0, 2, 6, 0, 0, 0, 0, 0}, {1, 2, 6, 0, 0, 0, 0, 0}, {0, 1, 2, 6, 0, 0, 0, 0},
    {3, 6, 0, 0, 0, 0, 0, 0}, {0, 3, 6, 0, 0, 0, 0, 0}, {1, 3, 6, 0, 0, 0, 0, 0},
    {0, 1, 3, 6, 0, 0, 0, 0}, {2, 3, 6, 0, 0, 0, 0, 0}, {0, 2, 3, 6, 0, 0, 0, 0},
    {1, 2, 3, 6, 0, 0, 0, 0}, {0, 1, 2, 3, 6, 0, 0, 0}, {4, 6, 0, 0, 0, 0, 0, 0},
    {0, 4, 6, 0, 0, 0, 0, 0}, {1, 4, 6, 0, 0, 0, 0, 0}, {0, 1, 4, 6, 0, 0, 0, 0},
    {2, 4, 6, 0, 0, 0, 0, 0}, {0, 2, 4, 6, 0, 0, 0, 0}, {1, 2, 4, 6, 0, 0, 0, 0},
    {0, 1, 2, 4, 6, 0, 0, 0}, {3, 4, 6, 0, 0, 0, 0, 0}, {0, 3, 4, 6, 0, 0, 0, 0},
    {1, 3, 4, 6, 0, 0, 0, 0}, {0, 1, 3, 4, 6, 0, 0, 0}, {2, 3, 4, 6, 0, 0, 0, 0},
    {0, 2, 3, 4, 6, 0, 0, 0}, {1, 2, 3, 4, 6, 0, 0, 0}, {0, 1, 2, 3, 4, 6, 0, 0},
    {5, 6, 0, 0, 0, 0, 0, 0}, {0, 5, 6, 0, 0, 0, 0, 0}, {1, 5, 6, 0, 0, 0, 0, 0},
    {0, 1, 5, 6, 0, 0, 0, 0}, {2, 5, 6, 0, 0, 0, 0, 0}, {0, 2, 5, 6, 0, 0, 0, 0},
    {1, 2, 5, 6, 0, 0, 0, 0}, {0, 1, 2, 5, 6, 0, 0, 0}, {3, 5, 6, 0, 0, 0, 0, 0},
    {0, 3, 5, 6, 0, 0, 0, 0}, {1, 3, 5, 6, 0, 0, 0, 0}, {0, 1, 3, 5, 6, 0, 0, 0},
    {2, 3, 5, 6, 0, 0, 0, 0}, {0, 2, 3, 5, 6, 0, 0, 0}, {1, 2, 3, 5, 6, 0, 0, 0},
    {0, 1, 2, 3, 5, 6, 0, 0}, {4, 5, 6, 0, 0, 0, 0, 0}, {0, 4, 5, 6, 0, 0, 0, 0},
    {1, 4, 5, 6, 0, 0, 0, 0}, {0, 1, 4, 5, 6, 0, 0, 0}, {2, 4, 5, 6, 0, 0, 0, 0},
    {0, 2, 4, 5, 6, 0, 0, 0}, {1, 2, 4, 5, 6, 0, 0, 0}, {0, 1, 2, 4, 5, 6, 0, 0},
    {3, 4, 5, 6, 0, 0, 0, 0}, {0, 3, 4, 5, 6, 0, 0, 0}, {1, 3, 4, 5, 6, 0, 0, 0},
    {0, 1, 3, 4, 5, 6, 0, 0}, {2, 3, 4, 5, 6, 0, 0, 0}, {0, 2, 3, 4, 5, 6, 0, 0},
    {1, 2, 3, 4, 5, 6, 0, 0}, {0, 1, 2, 3, 4, 5, 6, 0}, {7, 0, 0, 0, 0, 0, 0, 0},
    {0, 7, 0, 0, 0, 0, 0, 0}, {1, 7, 0, 0, 0, 0, 0, 0}, {0, 1, 7, 0, 0, 0, 0, 0},
    {2, 7, 0, 0, 0, 0, 0, 0}, {0, 2, 7, 0, 0, 0, 0, 0}, {1, 2, 7, 0, 0, 0, 0, 0},
    {0, 1, 2, 7, 0, 0, 0, 0}, {3, 7, 0, 0, 0, 0, 0, 0}, {0, 3, 7, 0, 0, 0, 0, 0},
    {1, 3, 7, 0, 0, 0, 0, 0}, {0, 1, 3, 7, 0, 0, 0, 0}, {2, 3, 7, 0, 0, 0, 0, 0},
    {0, 2, 3, 7, 0, 0, 0, 0}, {1, 2, 3, 7, 0, 0, 0, 0}, {0, 1, 2, 3, 7, 0, 0, 0},
    {4, 7, 0, 0, 0, 0, 0, 0}, {0, 4, 7, 0, 0, 0, 0, 0}, {1, 4, 7, 0, 0, 0, 0, 0},
    {0, 1, 4, 7, 0, 0, 0, 0}, {2, 4, 7, 0, 0, 0, 0, 0}, {0, 2, 4, 7, 0, 0, 0, 0},
    {1, 2, 4, 7, 0, 0, 0, 0}, {0, 1, 2, 4, 7, 0, 0, 0}, {3, 4, 7, 0, 0, 0, 0, 0},
    {0, 3, 4, 7, 0, 0, 0, 0}, {1, 3, 4, 7, 0, 0, 0, 0}, {0, 1, 3, 4, 7, 0, 0, 0},
    {2, 3, 4, 7, 0, 0, 0, 0}, {0, 2, 3, 4, 7, 0, 0, 0}, {1, 2, 3, 4, 7, 0, 0, 0},
    {0, 1, 2, 3, 4, 7, 0, 0}, {5, 7, 0, 0, 0, 0, 0, 0}, {0, 5, 7, 0, 0, 0, 0, 0},
    {1, 5, 7, 0, 0, 0, 0, 0}, {0, 1, 5, 7, 0, 0, 0, 0}, {2, 5, 7, 0, 0, 0, 0, 0},
    {0, 2, 5, 7, 0, 0, 0, 0}, {1, 2, 5, 7, 0, 0, 0, 0}, {0, 1, 2, 5, 7, 0, 0, 0},
    {3, 5, 7, 0, 0, 0, 0, 0}, {0, 3, 5, 7, 0, 0, 0, 0}, {1, 3, 5, 7, 0, 0, 0, 0},
    {0, 1, 3, 5, 7, 0, 0, 0}, {2, 3, 5, 7, 0, 0, 0, 0}, {0, 2, 3, 5, 7, 0, 0, 0},
    {1, 2, 3, 5, 7, 0, 0, 0}, {0, 1, 2, 3, 5, 7, 0, 0}, {4, 5, 7, 0, 0, 0, 0, 0},
    {0, 4, 5, 7, 0, 0, 0, 0}, {1, 4, 5, 7, 0, 0, 0, 0}, {0, 1, 4, 5, 7, 0, 0, 0},
    {2, 4, 5, 7, 0, 0, 0, 0}, {0, 2, 4, 5, 7, 0, 0, 0}, {1, 2, 4, 5, 7, 0, 0, 0},
    {0, 1, 2, 4, 5, 7, 0, 0}, {3, 4, 5, 7, 0, 0, 0, 0}, {0, 3, 4, 5, 7, 0, 0, 0},
    {1, 3, 4, 5, 7, 0, 0, 0}, {0, 1, 3, 4, 5, 7, 0, 0}, {2, 3, 4, 5, 7, 0, 0, 0},
    {0, 2, 3, 4, 5, 7, 0, 0}, {1, 2, 3, 4, 5, 7, 0, 0}, {0, 1, 2, 3, 4, 5, 7, 0},
    {6, 7, 0, 0, 0, 0, 0, 0}, {0, 6, 7, 0, 0, 0, 0, 0}, {1, 6, 7, 0, 0, 0, 0, 0},
    {0, 1, 6, 7, 0, 0, 0, 0}, {2, 6, 7, 0, 0, 0, 0, 0}, {0, 2, 6, 7, 0, 0, 0, 0},
    {1, 2, 6, 7, 0, 0, 0, 0}, {0, 1, 2, 6, 7, 0, 0, 0}, {3, 6, 7, 0, 0, 0, 0, 0},
    {0, 3, 6, 7, 0, 0, 0, 0}, {1, 3, 6, 7, 0, 0, 0, 0}, {0, 1, 3, 6, 7, 0, 0, 0},
    {2, 3, 6, 7, 0, 0, 0, 0}, {0, 2, 3, 6, 7, 0, 0, 0}, {1, 2, 3, 6, 7, 0, 0, 0},
    {0, 1, 2, 3, 6, 7, 0, 0}, {4, 6, 7, 0, 0, 0, 0, 0}, {0, 4, 6, 7, 0, 0, 0, 0},
    {1, 4, 6, 7, 0, 0, 0, 0}, {0, 1, 4, 6, 7, 0, 0, 0}, {2, 4, 6, 7, 0, 0, 0, 0},
    {0, 2, 4, 6, 7, 0, 0, 0}, {1, 2, 4, 6, 7, 0, 0, 0}, {0, 1, 2, 4, 6, 7, 0, 0},
    {3, 4, 6, 7, 0, 0, 0, 0}, {0, 3, 4, 6, 7, 0, 0, 0}, {1, 3, 4, 6, 7, 0, 0, 0},
    {0, 1, 3, 4, 6, 7, 0, 0}, {2, 3, 4, 6, 7, 0, 0, 0}, {0, 2, 3, 4, 6, 7, 0, 0},
    {1, 2, 3, 4, 6, 7, 0, 0}, {0, 1, 2, 3, 4, 6, 7, 0}, {5, 6, 7, 0, 0, 0, 0, 0},
    {0, 5, 6, 7, 0, 0, 0, 0}, {1, 5, 6, 7, 0, 0, 0, 0}, {0, 1, 5, 6, 7, 0, 0, 0},
    {2, 5, 6, 7, 0, 0, 0, 0}, {0, 2, 5, 6, 7, 0, 0, 0}, {1, 2, 5, 6, 7, 0, 0, 0},
    {0, 1, 2, 5, 6, 7, 0, 0}, {3, 5, 6, 7, 0, 0, 0, 0}, {0, 3, 5, 6, 7, 0, 0, 0},
    {1, 3, 5, 6, 7, 0, 0, 0}, {0, 1, 3, 5, 6, 7, 0, 0}, {2, 3, 5, 6, 7, 0, 0, 0},
    {0, 2, 3, 5, 6, 7, 0, 0}, {1, 2, 3, 5, 6, 7, 0, 0}, {0, 1, 2, 3, 5, 6, 7, 0},
    {4, 5, 6, 7, 0, 0, 0, 0}, {0, 4, 5, 6, 7, 0, 0, 0}, {1, 4, 5, 6, 7, 0, 0, 0},
    {0, 1, 4, 5, 6, 7, 0, 0}, {2, 4, 5, 6, 7, 0, 0, 0}, {0, 2, 4, 5, 6, 7, 0, 0},
    {1, 2, 4, 5, 6, 7, 0, 0}, {0, 1, 2, 4, 5, 6, 7, 0}, {3, 4, 5, 6, 7, 0, 0, 0},
    {0, 3, 4, 5, 6, 7, 0, 0}, {1, 3, 4, 5, 6, 7, 0, 0}, {0, 1, 3, 4, 5, 6, 7, 0},
    {2, 3, 4, 5, 6, 7, 0, 0}, {0, 2, 3, 4, 5, 6, 7, 0}, {1, 2, 3, 4, 5, 6, 7, 0},
    {0, 1, 2, 3, 4, 5, 6, 7},
};

/* qcn_mldsa_rej_uniform with eight candidates per step: 24 bytes are spread
 * into eight 3-byte lanes, masked to 23 bits, compared with q, and the
 * accepted ones packed to the front and stored. The stream is public. The
 * scalar parser finishes the tail (fewer than eight free slots or fewer than
 * 32 readable bytes). */
static AVX2 unsigned rej_uniform_avx2(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen)
{
    const __m256i spread = _mm256_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, 0,
                                            1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6);
    const __m256i mask23 = _mm256_set1_epi32(0x7fffff);
    const __m256i q = _mm256_set1_epi32(QCN_MLDSA_Q);
    size_t pos = 0;

    while (ctr + 8 <= N && pos + 32 <= buflen) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(buf + pos));
        __m256i idx;
        unsigned m;
        /* Bytes 0..11 stay in the low half, bytes 12..23 move to the start
         * of the high half, then each 3-byte group becomes a lane. */
        v = _mm256_permutevar8x32_epi32(v, lanes);
        v = _mm256_and_si256(_mm256_shuffle_epi8(v, spread), mask23);
        m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(q, v)));
        idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)compact_idx[m]));
        _mm256_storeu_si256((__m256i *)(void *)(a + ctr), _mm256_permutevar8x32_epi32(v, idx));
        ctr += (unsigned)__builtin_popcount(m);
        pos += 24;
    }
    return qcn_mldsa_rej_uniform(a, ctr, buf + pos, buflen - pos);
}

/* qcn_mldsa_rej_eta with eight nibbles (four bytes) per step. The stream is
 * secret: the coefficients are computed for all eight lanes without
 * branches, and only the accept mask, which depends only on the nibbles that
 * are discarded (see qcn_mldsa_rej_eta), is declassified before it selects
 * the packing permutation and advances the count. */
static AVX2 unsigned rej_eta_avx2(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen,
                                  int eta)
{
    const __m256i shifts = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
    const __m256i fifteen = _mm256_set1_epi32(15);
    const __m256i bound = _mm256_set1_epi32(eta == 2 ? 15 : 9);
    const __m256i etav = _mm256_set1_epi32(eta);
    size_t pos = 0;

    while (ctr + 8 <= N && pos + 4 <= buflen) {
        __m128i b;
        __m256i v, c, idx;
        uint32_t w;
        unsigned m;
        memcpy(&w, buf + pos, 4);
        b = _mm_cvtsi32_si128((int)w);
        b = _mm_unpacklo_epi8(b, b);
        v = _mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(b), shifts), fifteen);
        m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(bound, v)));
        if (eta == 2) {
            /* 2 - (v mod 5), v mod 5 = v - floor(205 v / 1024) * 5 for v < 15 */
            __m256i q5 = _mm256_srli_epi32(_mm256_mullo_epi32(v, _mm256_set1_epi32(205)), 10);
            v = _mm256_sub_epi32(v, _mm256_mullo_epi32(q5, _mm256_set1_epi32(5)));
        }
        c = _mm256_sub_epi32(etav, v);
        QCN_MLDSA_DECLASSIFY(&m, sizeof m);
        idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)compact_idx[m]));
        _mm256_storeu_si256((__m256i *)(void *)(a + ctr), _mm256_permutevar8x32_epi32(c, idx));
        ctr += (unsigned)__builtin_popcount(m);
        pos += 4;
    }
    return qcn_mldsa_rej_eta(a, ctr, buf + pos, buflen - pos, eta);
}

/* Blocks squeezed before the first parse: five SHAKE128 blocks give 280
 * RejNTTPoly candidates, two SHAKE256 blocks 544 RejBoundedPoly nibbles,
 * enough almost always. */
#define UNIFORM_BLOCKS 5
#define ETA_BLOCKS 2
#define REJ_BUF_BYTES (UNIFORM_BLOCKS * QCN_SHAKE128_RATE)

typedef unsigned (*rej_parser)(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen,
                               int eta);

static AVX2 unsigned rej_uniform_parser(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen,
                                        int eta)
{
    (void)eta;
    return rej_uniform_avx2(a, ctr, buf, buflen);
}

/* The one shape of RejNTTPoly (Alg 30) and RejBoundedPoly (Alg 31) over four
 * SHAKE streams seed || nonce[t]: squeeze `blocks` blocks of each, parse
 * them, then (rarely) squeeze all four one block at a time until every lane
 * in use has N coefficients. secret: the streams are wiped afterwards. */
static AVX2 void rej_sample_4x(struct qcn_mldsa_poly *out[4], unsigned rate, unsigned blocks,
                               const uint8_t *seed, size_t seedlen, const uint16_t nonce[4],
                               rej_parser rej, int eta, int secret)
{
    uint8_t buf[4][REJ_BUF_BYTES];
    unsigned ctr[4] = {0, 0, 0, 0}, t, b, more;
    uint64_t s[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES];

    x4_absorb(s, rate, seed, seedlen, nonce);
    for (b = 0; b < blocks; b++) {
        uint8_t *o[4];
        for (t = 0; t < 4; t++)
            o[t] = buf[t] + b * rate;
        x4_squeeze_block(s, rate, o);
    }
    for (t = 0; t < 4; t++)
        if (out[t] != NULL)
            ctr[t] = rej(out[t]->c, 0, buf[t], (size_t)blocks * rate, eta);
    do {
        more = 0;
        for (t = 0; t < 4; t++)
            more |= out[t] != NULL && ctr[t] < N;
        if (more) {
            uint8_t *o[4] = {buf[0], buf[1], buf[2], buf[3]};
            x4_squeeze_block(s, rate, o);
            for (t = 0; t < 4; t++)
                if (out[t] != NULL && ctr[t] < N)
                    ctr[t] = rej(out[t]->c, ctr[t], buf[t], rate, eta);
        }
    } while (more);
    if (secret) {
        for (t = 0; t < 4; t++)
            qcn_wipe(buf[t], (size_t)blocks * rate);
        qcn_wipe(s, sizeof s);
    }
}

static AVX2 void uniform_4x_avx2(struct qcn_mldsa_poly *out[4],
                                 const uint8_t rho[QCN_MLDSA_RHO_BYTES], const uint16_t nonce[4])
{
    rej_sample_4x(out, QCN_SHAKE128_RATE, UNIFORM_BLOCKS, rho, QCN_MLDSA_RHO_BYTES, nonce,
                  rej_uniform_parser, 0, 0);
}

static AVX2 void eta_4x_avx2(struct qcn_mldsa_poly *out[4],
                             const uint8_t rhoprime[QCN_MLDSA_RHOPRIME_BYTES],
                             const uint16_t nonce[4], int eta)
{
    rej_sample_4x(out, QCN_SHAKE256_RATE, ETA_BLOCKS, rhoprime, QCN_MLDSA_RHOPRIME_BYTES, nonce,
                  rej_eta_avx2, eta, 1);
}

static AVX2 void gamma1_4x_avx2(struct qcn_mldsa_poly *out[4],
                                const uint8_t rhopp[QCN_MLDSA_RHOPP_BYTES], const uint16_t nonce[4],
                                int gamma1_bits)
{
    /* +2: unpack_gamma1 reads up to two bytes past the last field. */
    uint8_t buf[4][5 * QCN_SHAKE256_RATE + 2];
    unsigned t, b, used = 0;
    uint64_t s[QCN_KECCAK_STATE_LANES][QCN_KECCAK_X4_STATES];

    for (t = 0; t < 4; t++)
        used += out[t] != NULL;
    if (used == 1) {
        /* One stream (the tail of l = 5 or 7): the scalar sponge is cheaper. */
        for (t = 0; t < 4; t++)
            if (out[t] != NULL)
                qcn_mldsa_poly_gamma1_ref(out[t], rhopp, nonce[t], gamma1_bits);
        return;
    }
    memset(buf, 0, sizeof buf);
    x4_absorb(s, QCN_SHAKE256_RATE, rhopp, QCN_MLDSA_RHOPP_BYTES, nonce);
    for (b = 0; b < 5; b++) {
        uint8_t *o[4];
        for (t = 0; t < 4; t++)
            o[t] = buf[t] + b * QCN_SHAKE256_RATE;
        x4_squeeze_block(s, QCN_SHAKE256_RATE, o);
    }
    for (t = 0; t < 4; t++)
        if (out[t] != NULL)
            qcn_mldsa_unpack_gamma1(out[t]->c, buf[t], gamma1_bits);
    qcn_wipe(buf, sizeof buf);
    qcn_wipe(s, sizeof s);
}

/* ---- coefficient kernels (same integer results as mldsa_poly.c) ---------- */

static inline AVX2 __m256i reduce32_v(__m256i a)
{
    __m256i t = _mm256_srai_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(1 << 22)), 23);
    return _mm256_sub_epi32(a, _mm256_mullo_epi32(t, _mm256_set1_epi32(QCN_MLDSA_Q)));
}

static inline AVX2 __m256i freeze_v(__m256i a)
{
    a = reduce32_v(a);
    return _mm256_add_epi32(
        a, _mm256_and_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(QCN_MLDSA_Q)));
}

/* qcn_mldsa_decompose1 on eight lanes. */
struct dcv {
    __m256i g2m1, mul, top, two_g2;
    __m128i pre, post;
};

static inline AVX2 void dcv_init(struct dcv *v, unsigned gamma2)
{
    struct qcn_mldsa_dc d;
    qcn_mldsa_dc_init(&d, gamma2);
    v->g2m1 = _mm256_set1_epi32(d.g2 - 1);
    v->mul = _mm256_set1_epi32((int32_t)d.mul);
    v->top = _mm256_set1_epi32((int32_t)d.top);
    v->two_g2 = _mm256_set1_epi32(d.two_g2);
    v->pre = _mm_cvtsi32_si128((int)d.pre);
    v->post = _mm_cvtsi32_si128((int)d.post);
}

static inline AVX2 __m256i decompose_v(const struct dcv *v, __m256i *a0, __m256i a)
{
    __m256i x = _mm256_srl_epi32(_mm256_add_epi32(a, v->g2m1), v->pre);
    __m256i a1 = _mm256_srl_epi32(_mm256_mullo_epi32(x, v->mul), v->post);
    __m256i wrap = _mm256_cmpeq_epi32(a1, v->top);
    *a0 = _mm256_add_epi32(_mm256_sub_epi32(a, _mm256_mullo_epi32(a1, v->two_g2)), wrap);
    return _mm256_andnot_si256(wrap, a1);
}

static AVX2 void reduce_avx2(int32_t a[N])
{
    unsigned i;
    for (i = 0; i < N; i += 8)
        store(a + i, reduce32_v(load(a + i)));
}

static AVX2 void add_reduce_avx2(int32_t c[N], const int32_t a[N], const int32_t b[N])
{
    unsigned i;
    for (i = 0; i < N; i += 8)
        store(c + i, reduce32_v(_mm256_add_epi32(load(a + i), load(b + i))));
}

static AVX2 void sub_freeze_avx2(int32_t c[N], const int32_t a[N], const int32_t b[N])
{
    unsigned i;
    for (i = 0; i < N; i += 8)
        store(c + i, freeze_v(_mm256_sub_epi32(load(a + i), load(b + i))));
}

static AVX2 void freeze_highbits_avx2(int32_t w1[N], int32_t w[N], unsigned gamma2)
{
    struct dcv v;
    unsigned i;
    dcv_init(&v, gamma2);
    for (i = 0; i < N; i += 8) {
        __m256i a0, x = freeze_v(load(w + i));
        store(w + i, x);
        store(w1 + i, decompose_v(&v, &a0, x));
    }
}

static AVX2 void lowbits_avx2(int32_t a0[N], const int32_t a[N], unsigned gamma2)
{
    struct dcv v;
    unsigned i;
    dcv_init(&v, gamma2);
    for (i = 0; i < N; i += 8) {
        __m256i lo;
        (void)decompose_v(&v, &lo, load(a + i));
        store(a0 + i, lo);
    }
}

static AVX2 uint32_t exceeds_avx2(const int32_t a[N], int32_t bound)
{
    const __m256i b = _mm256_set1_epi32(bound - 1);
    __m256i acc = _mm256_setzero_si256();
    unsigned i;
    for (i = 0; i < N; i += 8)
        acc = _mm256_or_si256(acc, _mm256_cmpgt_epi32(_mm256_abs_epi32(load(a + i)), b));
    return (uint32_t)(1 ^ _mm256_testz_si256(acc, acc));
}

static AVX2 unsigned make_hint_avx2(uint8_t h[N], const int32_t r[N], const int32_t ct0[N],
                                    unsigned gamma2)
{
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i count = _mm256_setzero_si256(), hv[4];
    struct dcv v;
    unsigned i, t;
    int32_t lanes[8];
    dcv_init(&v, gamma2);
    for (i = 0; i < N; i += 32) {
        for (t = 0; t < 4; t++) {
            __m256i a0, x = load(r + i + 8 * t);
            __m256i hi1 =
                decompose_v(&v, &a0, freeze_v(_mm256_add_epi32(x, load(ct0 + i + 8 * t))));
            __m256i hi2 = decompose_v(&v, &a0, x);
            hv[t] = _mm256_andnot_si256(_mm256_cmpeq_epi32(hi1, hi2), one);
            count = _mm256_add_epi32(count, hv[t]);
        }
        /* 32 words of 0/1 to 32 bytes in coefficient order. */
        _mm256_storeu_si256(
            (__m256i *)(void *)(h + i),
            _mm256_permutevar8x32_epi32(_mm256_packs_epi16(_mm256_packs_epi32(hv[0], hv[1]),
                                                           _mm256_packs_epi32(hv[2], hv[3])),
                                        order));
    }
    _mm256_storeu_si256((__m256i *)(void *)lanes, count);
    for (t = 1; t < 8; t++)
        lanes[0] += lanes[t];
    return (unsigned)lanes[0];
}

static AVX2 void use_hint_avx2(int32_t w1[N], const int32_t w[N], const uint8_t h[N],
                               unsigned gamma2)
{
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    const __m256i minus1 = _mm256_set1_epi32(-1);
    struct dcv v;
    __m256i topm1;
    unsigned i;
    dcv_init(&v, gamma2);
    topm1 = _mm256_sub_epi32(v.top, one);
    for (i = 0; i < N; i += 8) {
        __m256i a0, a1 = decompose_v(&v, &a0, freeze_v(load(w + i)));
        __m256i hint =
            _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(h + i)));
        __m256i hm = _mm256_cmpgt_epi32(hint, zero);
        __m256i delta = _mm256_blendv_epi8(minus1, one, _mm256_cmpgt_epi32(a0, zero));
        a1 = _mm256_add_epi32(a1, _mm256_and_si256(delta, hm));
        a1 = _mm256_andnot_si256(_mm256_cmpeq_epi32(a1, v.top), a1);
        a1 = _mm256_blendv_epi8(a1, topm1, _mm256_cmpgt_epi32(zero, a1));
        store(w1 + i, a1);
    }
}

const struct qcn_mldsa_impl qcn_mldsa_impl_avx2 = {
    .name = "avx2",
    .ntt = ntt_avx2,
    .invntt = invntt_avx2,
    .pointwise = pointwise_avx2,
    .pointwise_acc = pointwise_acc_avx2,
    .uniform_4x = uniform_4x_avx2,
    .eta_4x = eta_4x_avx2,
    .gamma1_4x = gamma1_4x_avx2,
    .reduce = reduce_avx2,
    .add_reduce = add_reduce_avx2,
    .sub_freeze = sub_freeze_avx2,
    .freeze_highbits = freeze_highbits_avx2,
    .lowbits = lowbits_avx2,
    .exceeds = exceeds_avx2,
    .make_hint = make_hint_avx2,
    .use_hint = use_hint_avx2,
};

#endif
