/* Portable ML-DSA arithmetic (FIPS 204 §7.5-7.6, Appendix B) and samplers
 * (§7.3), plus the run-time choice between this and the AVX2 table.
 *
 * Coefficients are int32 in Montgomery or normal form as each function says;
 * nothing here branches on or indexes by a coefficient value, except the
 * rejection samplers, whose accept decisions concern only discarded bytes
 * (see rej_eta). */
#include "crypto/mldsa_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mldsa.h"
#include "util/mem.h"

/* zeta^brv8(k) * 2^32 mod q, centred, zeta = 1753 (FIPS 204 Appendix B). */
const int32_t qcn_mldsa_zetas[QCN_MLDSA_N] = {
    0,        25847,    -2608894, -518909,  237124,   -777960,  -876248,  466468,   1826347,
    2353451,  -359251,  -2091905, 3119733,  -2884855, 3111497,  2680103,  2725464,  1024112,
    -1079900, 3585928,  -549488,  -1119584, 2619752,  -2108549, -2118186, -3859737, -1399561,
    -3277672, 1757237,  -19422,   4010497,  280005,   2706023,  95776,    3077325,  3530437,
    -1661693, -3592148, -2537516, 3915439,  -3861115, -3043716, 3574422,  -2867647, 3539968,
    -300467,  2348700,  -539299,  -1699267, -1643818, 3505694,  -3821735, 3507263,  -2140649,
    -1600420, 3699596,  811944,   531354,   954230,   3881043,  3900724,  -2556880, 2071892,
    -2797779, -3930395, -1528703, -3677745, -3041255, -1452451, 3475950,  2176455,  -1585221,
    -1257611, 1939314,  -4083598, -1000202, -3190144, -3157330, -3632928, 126922,   3412210,
    -983419,  2147896,  2715295,  -2967645, -3693493, -411027,  -2477047, -671102,  -1228525,
    -22981,   -1308169, -381987,  1349076,  1852771,  -1430430, -3343383, 264944,   508951,
    3097992,  44288,    -1100098, 904516,   3958618,  -3724342, -8578,    1653064,  -3249728,
    2389356,  -210977,  759969,   -1316856, 189548,   -3553272, 3159746,  -1851402, -2409325,
    -177440,  1315589,  1341330,  1285669,  -1584928, -812732,  -1439742, -3019102, -3881060,
    -3628969, 3839961,  2091667,  3407706,  2316500,  3817976,  -3342478, 2244091,  -2446433,
    -3562462, 266997,   2434439,  -1235728, 3513181,  -3520352, -3759364, -1197226, -3193378,
    900702,   1859098,  909542,   819034,   495491,   -1613174, -43260,   -522500,  -655327,
    -3122442, 2031748,  3207046,  -3556995, -525098,  -768622,  -3595838, 342297,   286988,
    -2437823, 4108315,  3437287,  -3342277, 1735879,  203044,   2842341,  2691481,  -2590150,
    1265009,  4055324,  1247620,  2486353,  1595974,  -3767016, 1250494,  2635921,  -3548272,
    -2994039, 1869119,  1903435,  -1050970, -1333058, 1237275,  -3318210, -1430225, -451100,
    1312455,  3306115,  -1962642, -1279661, 1917081,  -2546312, -1374803, 1500165,  777191,
    2235880,  3406031,  -542412,  -2831860, -1671176, -1846953, -2584293, -3724270, 594136,
    -3776993, -2013608, 2432395,  2454455,  -164721,  1957272,  3369112,  185531,   -1207385,
    -3183426, 162844,   1616392,  3014001,  810149,   1652634,  -3694233, -1799107, -3038916,
    3523897,  3866901,  269760,   2213111,  -975884,  1717735,  472078,   -426683,  1723600,
    -1803090, 1910376,  -1667432, -1104333, -260646,  -3833893, -2939036, -2235985, -420899,
    -2286327, 183443,   -976891,  1612842,  -3545687, -554416,  3919660,  -48306,   -1362209,
    3937738,  1400424,  -846154,  1976782,
};

/* zetas[k] * q^-1 mod 2^32, as int32. */
const int32_t qcn_mldsa_zetas_qinv[QCN_MLDSA_N] = {
    -513,        1830765815,  -1929875198, -1927777021, 1640767044,  1477910808,  1612161320,
    1640734244,  308362795,   -1815525077, -1374673747, -1091570561, -1929495947, 515185417,
    -285697463,  625853735,   1727305304,  2082316400,  -1364982364, 858240904,   1806278032,
    222489248,   -346752664,  684667771,   1654287830,  -878576921,  -1257667337, -748618600,
    329347125,   1837364258,  -1443016191, -1170414139, -1846138265, -1631226336, -1404529459,
    1838055109,  1594295555,  -1076973524, -1898723372, -594436433,  -202001019,  -475984260,
    -561427818,  1797021249,  -1061813248, 2059733581,  -1661512036, -1104976547, -1750224323,
    -901666090,  418987550,   1831915353,  -1925356481, 992097815,   879957084,   2024403852,
    1484874664,  -1636082790, -285388938,  -1983539117, -1495136972, -950076368,  -1714807468,
    -952438995,  -1574918427, -654783359,  1350681039,  -1974159335, -2143979939, 1651689966,
    1599739335,  140455867,   -1285853323, -1039411342, -993005454,  1955560694,  -1440787840,
    1529189038,  568627424,   -2131021878, -783134478,  -247357819,  -588790216,  1518161567,
    289871779,   -86965173,   -1262003603, 1708872713,  2135294594,  1787797779,  -1018755525,
    1638590967,  -889861155,  -120646188,  1665705315,  -1669960606, 1321868265,  -916321552,
    1225434135,  1155548552,  -1784632064, 2143745726,  666258756,   1210558298,  675310538,
    -1261461890, -1555941048, -318346816,  -1999506068, 628664287,   -1499481951, -1729304568,
    -695180180,  1422575624,  -1375177022, 1424130038,  1777179795,  -1185330464, 334803717,
    235321234,   -178766299,  168022240,   -518252220,  1206536194,  1957047970,  985155484,
    1146323031,  -894060583,  -898413,     991903578,   1363007700,  746144248,   -1363460238,
    912367099,   30313375,    -1420958686, -605900043,  -44694137,   -326425360,  2032221021,
    2027833504,  1176904444,  1683520342,  1904936414,  14253662,    -421552614,  -517299994,
    1257750362,  1014493059,  -818371958,  2027935492,  1926727420,  863641633,   1747917558,
    -1372618620, 1931587462,  1819892093,  -325927722,  128353682,   1258381762,  2124962073,
    908452108,   -1123881663, 885133339,   -1223601433, 1851023419,  137583815,   1629985060,
    -1920467227, -1176751719, -635454918,  1967222129,  -1637785316, -1354528380, -642772911,
    6363718,     -1536588520, -72690498,   45766801,    -1287922800, 694382729,   -314284737,
    671509323,   1136965286,  235104446,   985022747,   -2070602178, 1779436847,  -1045062172,
    963438279,   419615363,   1116720494,  831969619,   -1078959975, 1216882040,  1042326957,
    -300448763,  604552167,   -270590488,  1405999311,  756955444,   -1021949428, -1276805128,
    713994583,   -260312805,  608791570,   371462360,   940195359,   1554794072,  173440395,
    -1357098057, -1542497137, 1339088280,  -2126092136, -384158533,  2061661095,  -2040058690,
    -1316619236, 827959816,   -883155599,  -853476187,  -1039370342, -596344473,  1726753853,
    -2047270596, 6087993,     702390549,   -1547952704, -1723816713, -110126092,  -279505433,
    394851342,   -1591599803, 565464272,   -260424530,  283780712,   -440824168,  -1758099917,
    -71875110,   776003547,   1119856484,  -1600929361, -1208667171, 1123958025,  1544891539,
    879867909,   -1499603926, 201262505,   155290192,   -1809756372, 2036925262,  1934038751,
    -973777462,  400711272,   -540420426,  374860238,
};

/* Montgomery multiplication: for |a * b| < 2^31 q returns a * b * 2^-32 mod
 * q with |r| < q, given bq = b * q^-1 mod 2^32. t = a * b * q^-1 mod 2^32
 * makes the low 32 bits of a*b - t*q zero; it is taken from the 32-bit
 * product a * bq, which saves a 64-bit multiply. q is passed in as qv, a
 * value the compiler cannot see (opaque_q), so that t * q stays one imul
 * instead of the five-instruction shift sequence GCC picks for the
 * constant: the butterflies are throughput-bound. */
static inline int32_t mont_mul(int32_t a, int32_t b, int32_t bq, int64_t qv)
{
    int32_t t = (int32_t)((uint32_t)a * (uint32_t)bq);
    return (int32_t)(((int64_t)a * b - (int64_t)t * qv) >> 32);
}

static inline int64_t opaque_q(void)
{
    int64_t qv = QCN_MLDSA_Q;
    __asm__("" : "+r"(qv));
    return qv;
}

/* FIPS 204 Alg 41, Cooley-Tukey butterflies, no intermediate reduction: each
 * layer grows the bound by at most q, so inputs below q stay below 9q. */
static void ntt_ref(int32_t a[QCN_MLDSA_N])
{
    const int64_t qv = opaque_q();
    unsigned len, start, j, k = 0;
    for (len = 128; len > 2; len >>= 1) {
        for (start = 0; start < QCN_MLDSA_N; start = j + len) {
            int32_t zeta = qcn_mldsa_zetas[++k], zq = qcn_mldsa_zetas_qinv[k];
            for (j = start; j < start + len; j++) {
                int32_t t = mont_mul(a[j + len], zeta, zq, qv);
                a[j + len] = a[j] - t;
                a[j] = a[j] + t;
            }
        }
    }
    /* The last two layers (distances 2 and 1, zetas 64.. and 128..) in one
     * pass over groups of four: no per-block inner loop. */
    for (j = 0; j < QCN_MLDSA_N; j += 4) {
        unsigned g = j / 4;
        int32_t a0 = a[j], a1 = a[j + 1], a2 = a[j + 2], a3 = a[j + 3], t;
        int32_t z = qcn_mldsa_zetas[64 + g], zq = qcn_mldsa_zetas_qinv[64 + g];
        t = mont_mul(a2, z, zq, qv), a2 = a0 - t, a0 += t;
        t = mont_mul(a3, z, zq, qv), a3 = a1 - t, a1 += t;
        t = mont_mul(a1, qcn_mldsa_zetas[128 + 2 * g], qcn_mldsa_zetas_qinv[128 + 2 * g], qv);
        a1 = a0 - t, a0 += t;
        t = mont_mul(a3, qcn_mldsa_zetas[129 + 2 * g], qcn_mldsa_zetas_qinv[129 + 2 * g], qv);
        a3 = a2 - t, a2 += t;
        a[j] = a0, a[j + 1] = a1, a[j + 2] = a2, a[j + 3] = a3;
    }
}

/* FIPS 204 Alg 42, Gentleman-Sande. The sums double per layer; with inputs
 * below q the largest after 8 layers is 256q < 2^31. The final factor
 * 2^64/256 both divides by 256 and leaves one factor R; it is folded into
 * the last layer (the sums are multiplied by F, the differences by
 * zeta * F * R^-1 instead of zeta). */
static void invntt_ref(int32_t a[QCN_MLDSA_N])
{
    const int64_t qv = opaque_q();
    const int32_t f = QCN_MLDSA_INVNTT_F, zf = QCN_MLDSA_INVNTT_ZF;
    const int32_t fq = (int32_t)((uint32_t)f * (uint32_t)QCN_MLDSA_QINV);
    const int32_t zfq = (int32_t)((uint32_t)zf * (uint32_t)QCN_MLDSA_QINV);
    unsigned len, start, j, k = QCN_MLDSA_N / 4;
    /* The first two layers (distances 1 and 2; zetas 255.. down and 127..
     * down) in one pass over groups of four. */
    for (j = 0; j < QCN_MLDSA_N; j += 4) {
        unsigned g = j / 4;
        int32_t a0 = a[j], a1 = a[j + 1], a2 = a[j + 2], a3 = a[j + 3], t;
        t = a0, a0 = t + a1;
        a1 =
            mont_mul(t - a1, -qcn_mldsa_zetas[255 - 2 * g], -qcn_mldsa_zetas_qinv[255 - 2 * g], qv);
        t = a2, a2 = t + a3;
        a3 =
            mont_mul(t - a3, -qcn_mldsa_zetas[254 - 2 * g], -qcn_mldsa_zetas_qinv[254 - 2 * g], qv);
        t = a0, a0 = t + a2;
        a2 = mont_mul(t - a2, -qcn_mldsa_zetas[127 - g], -qcn_mldsa_zetas_qinv[127 - g], qv);
        t = a1, a1 = t + a3;
        a3 = mont_mul(t - a3, -qcn_mldsa_zetas[127 - g], -qcn_mldsa_zetas_qinv[127 - g], qv);
        a[j] = a0, a[j + 1] = a1, a[j + 2] = a2, a[j + 3] = a3;
    }
    for (len = 4; len < QCN_MLDSA_N / 2; len <<= 1) {
        for (start = 0; start < QCN_MLDSA_N; start = j + len) {
            int32_t zeta = -qcn_mldsa_zetas[--k], zq = -qcn_mldsa_zetas_qinv[k];
            for (j = start; j < start + len; j++) {
                int32_t t = a[j];
                a[j] = t + a[j + len];
                a[j + len] = mont_mul(t - a[j + len], zeta, zq, qv);
            }
        }
    }
    for (j = 0; j < QCN_MLDSA_N / 2; j++) {
        int32_t t = a[j];
        a[j] = mont_mul(t + a[j + 128], f, fq, qv);
        a[j + 128] = mont_mul(t - a[j + 128], zf, zfq, qv);
    }
}

static void pointwise_ref(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                          const int32_t b[QCN_MLDSA_N])
{
    const int64_t qv = opaque_q();
    unsigned i;
    for (i = 0; i < QCN_MLDSA_N; i++)
        c[i] = mont_mul(a[i], b[i], (int32_t)((uint32_t)b[i] * (uint32_t)QCN_MLDSA_QINV), qv);
}

static void pointwise_acc_ref(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                              const int32_t b[QCN_MLDSA_N])
{
    const int64_t qv = opaque_q();
    unsigned i;
    for (i = 0; i < QCN_MLDSA_N; i++)
        c[i] += mont_mul(a[i], b[i], (int32_t)((uint32_t)b[i] * (uint32_t)QCN_MLDSA_QINV), qv);
}

/* CoeffFromThreeBytes (Alg 14) over a buffer: 23-bit little-endian values,
 * rejected when >= q. The stream is public (derived from rho). The store is
 * unconditional and the count advances by the accept bit, which avoids a
 * mispredicted branch per candidate; a rejected value is overwritten later. */
unsigned qcn_mldsa_rej_uniform(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen)
{
    size_t pos = 0;
    while (ctr < QCN_MLDSA_N && pos + 3 <= buflen) {
        uint32_t t = (uint32_t)buf[pos] | ((uint32_t)buf[pos + 1] << 8) |
                     ((uint32_t)(buf[pos + 2] & 0x7f) << 16);
        pos += 3;
        a[ctr] = (int32_t)t;
        ctr += (t - QCN_MLDSA_Q) >> 31;
    }
    return ctr;
}

static inline int32_t eta_coeff(uint32_t b, int eta)
{
    int32_t v = (int32_t)b;
    return eta == 2 ? 2 - (v - ((205 * v) >> 10) * 5) : 4 - v;
}

/* CoeffFromHalfByte (Alg 15) over a buffer. The stream is secret. Whether a
 * nibble is rejected depends only on that nibble, which is then discarded, so
 * the accept pattern says nothing about the accepted coefficients: it is
 * computed without branches for a whole buffer, declassified, and only then
 * used to decide where each coefficient goes. The coefficient values
 * themselves are computed branch-free (b mod 5 as a multiply and shift) and
 * stored unconditionally while two slots are free. */
unsigned qcn_mldsa_rej_eta(int32_t *a, unsigned ctr, const uint8_t *buf, size_t buflen, int eta)
{
    uint8_t accept[2 * QCN_SHAKE256_RATE];
    uint32_t bound = eta == 2 ? 15 : 9;
    size_t pos = 0;

    while (ctr < QCN_MLDSA_N && pos < buflen) {
        const uint8_t *p = buf + pos;
        size_t n = buflen - pos, i;
        if (n > QCN_SHAKE256_RATE)
            n = QCN_SHAKE256_RATE;
        for (i = 0; i < n; i++) {
            accept[2 * i] = (uint8_t)(((uint32_t)(p[i] & 15) - bound) >> 31);
            accept[2 * i + 1] = (uint8_t)(((uint32_t)(p[i] >> 4) - bound) >> 31);
        }
        QCN_MLDSA_DECLASSIFY(accept, 2 * n);
        for (i = 0; i < n && ctr + 2 <= QCN_MLDSA_N; i++) {
            a[ctr] = eta_coeff(p[i] & 15u, eta);
            ctr += accept[2 * i];
            a[ctr] = eta_coeff((uint32_t)p[i] >> 4, eta);
            ctr += accept[2 * i + 1];
        }
        for (; i < n && ctr < QCN_MLDSA_N; i++) {
            if (accept[2 * i])
                a[ctr++] = eta_coeff(p[i] & 15u, eta);
            if (accept[2 * i + 1] && ctr < QCN_MLDSA_N)
                a[ctr++] = eta_coeff((uint32_t)p[i] >> 4, eta);
        }
        pos += n;
    }
    qcn_wipe(accept, sizeof accept);
    return ctr;
}

void qcn_mldsa_unpack_gamma1(int32_t *a, const uint8_t *buf, int gamma1_bits)
{
    /* BitUnpack(v, gamma1 - 1, gamma1) (Alg 19): 18- or 20-bit fields. */
    if (gamma1_bits == 17)
        qcn_mldsa_unpack_bits(a, buf, 18, (int32_t)1 << 17, 1);
    else
        qcn_mldsa_unpack_bits(a, buf, 20, (int32_t)1 << 19, 1);
}

static void seed_stream(struct qcn_keccak *k, unsigned rate, const uint8_t *seed, size_t seedlen,
                        uint16_t nonce)
{
    uint8_t nb[2] = {(uint8_t)nonce, (uint8_t)(nonce >> 8)};
    qcn_keccak_init(k, rate, QCN_SHAKE_DS);
    qcn_keccak_absorb(k, seed, seedlen);
    qcn_keccak_absorb(k, nb, 2);
    qcn_keccak_finalize(k);
}

/* RejNTTPoly (Alg 30): five blocks give 280 candidates, enough almost always. */
void qcn_mldsa_poly_uniform_ref(struct qcn_mldsa_poly *a, const uint8_t rho[QCN_MLDSA_RHO_BYTES],
                                uint16_t nonce)
{
    uint8_t buf[5 * QCN_SHAKE128_RATE];
    struct qcn_keccak k;
    unsigned ctr;

    seed_stream(&k, QCN_SHAKE128_RATE, rho, QCN_MLDSA_RHO_BYTES, nonce);
    qcn_keccak_squeeze_blocks(&k, buf, 5);
    ctr = qcn_mldsa_rej_uniform(a->c, 0, buf, sizeof buf);
    while (ctr < QCN_MLDSA_N) {
        qcn_keccak_squeeze_blocks(&k, buf, 1);
        ctr = qcn_mldsa_rej_uniform(a->c, ctr, buf, QCN_SHAKE128_RATE);
    }
}

/* RejBoundedPoly (Alg 31). */
void qcn_mldsa_poly_eta_ref(struct qcn_mldsa_poly *a,
                            const uint8_t rhoprime[QCN_MLDSA_RHOPRIME_BYTES], uint16_t nonce,
                            int eta)
{
    uint8_t buf[2 * QCN_SHAKE256_RATE];
    struct qcn_keccak k;
    unsigned ctr;

    seed_stream(&k, QCN_SHAKE256_RATE, rhoprime, QCN_MLDSA_RHOPRIME_BYTES, nonce);
    qcn_keccak_squeeze_blocks(&k, buf, 2);
    ctr = qcn_mldsa_rej_eta(a->c, 0, buf, sizeof buf, eta);
    while (ctr < QCN_MLDSA_N) {
        qcn_keccak_squeeze_blocks(&k, buf, 1);
        ctr = qcn_mldsa_rej_eta(a->c, ctr, buf, QCN_SHAKE256_RATE, eta);
    }
    qcn_wipe(buf, sizeof buf);
    qcn_keccak_clear(&k);
}

/* One ExpandMask polynomial (Alg 34): 576 or 640 bytes fit in five blocks. */
void qcn_mldsa_poly_gamma1_ref(struct qcn_mldsa_poly *a, const uint8_t rhopp[QCN_MLDSA_RHOPP_BYTES],
                               uint16_t nonce, int gamma1_bits)
{
    /* +2: unpack_gamma1 reads up to two bytes past the last field. */
    uint8_t buf[5 * QCN_SHAKE256_RATE + 2] = {0};
    struct qcn_keccak k;

    seed_stream(&k, QCN_SHAKE256_RATE, rhopp, QCN_MLDSA_RHOPP_BYTES, nonce);
    qcn_keccak_squeeze_blocks(&k, buf, 5);
    qcn_mldsa_unpack_gamma1(a->c, buf, gamma1_bits);
    qcn_wipe(buf, sizeof buf);
    qcn_keccak_clear(&k);
}

static void uniform_4x_ref(struct qcn_mldsa_poly *out[4], const uint8_t rho[QCN_MLDSA_RHO_BYTES],
                           const uint16_t nonce[4])
{
    unsigned i;
    for (i = 0; i < 4; i++)
        if (out[i] != NULL)
            qcn_mldsa_poly_uniform_ref(out[i], rho, nonce[i]);
}

static void eta_4x_ref(struct qcn_mldsa_poly *out[4],
                       const uint8_t rhoprime[QCN_MLDSA_RHOPRIME_BYTES], const uint16_t nonce[4],
                       int eta)
{
    unsigned i;
    for (i = 0; i < 4; i++)
        if (out[i] != NULL)
            qcn_mldsa_poly_eta_ref(out[i], rhoprime, nonce[i], eta);
}

static void gamma1_4x_ref(struct qcn_mldsa_poly *out[4], const uint8_t rhopp[QCN_MLDSA_RHOPP_BYTES],
                          const uint16_t nonce[4], int gamma1_bits)
{
    unsigned i;
    for (i = 0; i < 4; i++)
        if (out[i] != NULL)
            qcn_mldsa_poly_gamma1_ref(out[i], rhopp, nonce[i], gamma1_bits);
}

static void reduce_ref(int32_t a[QCN_MLDSA_N])
{
    unsigned i;
    for (i = 0; i < QCN_MLDSA_N; i++)
        a[i] = qcn_mldsa_reduce32(a[i]);
}

static void add_reduce_ref(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                           const int32_t b[QCN_MLDSA_N])
{
    unsigned i;
    for (i = 0; i < QCN_MLDSA_N; i++)
        c[i] = qcn_mldsa_reduce32(a[i] + b[i]);
}

static void sub_freeze_ref(int32_t c[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N],
                           const int32_t b[QCN_MLDSA_N])
{
    unsigned i;
    for (i = 0; i < QCN_MLDSA_N; i++)
        c[i] = qcn_mldsa_freeze(a[i] - b[i]);
}

static void freeze_highbits_ref(int32_t w1[QCN_MLDSA_N], int32_t w[QCN_MLDSA_N], unsigned gamma2)
{
    struct qcn_mldsa_dc d;
    unsigned i;
    int32_t a0;
    qcn_mldsa_dc_init(&d, gamma2);
    for (i = 0; i < QCN_MLDSA_N; i++) {
        w[i] = qcn_mldsa_freeze(w[i]);
        w1[i] = qcn_mldsa_decompose1(&d, &a0, w[i]);
    }
}

static void lowbits_ref(int32_t a0[QCN_MLDSA_N], const int32_t a[QCN_MLDSA_N], unsigned gamma2)
{
    struct qcn_mldsa_dc d;
    unsigned i;
    qcn_mldsa_dc_init(&d, gamma2);
    for (i = 0; i < QCN_MLDSA_N; i++)
        (void)qcn_mldsa_decompose1(&d, &a0[i], a[i]);
}

static uint32_t exceeds_ref(const int32_t a[QCN_MLDSA_N], int32_t bound)
{
    uint32_t bad = 0;
    unsigned i;
    for (i = 0; i < QCN_MLDSA_N; i++) {
        int32_t t = a[i] >> 31;
        int32_t abs = a[i] - (t & 2 * a[i]);
        bad |= (uint32_t)(bound - 1 - abs) >> 31;
    }
    return bad;
}

static unsigned make_hint_ref(uint8_t h[QCN_MLDSA_N], const int32_t r[QCN_MLDSA_N],
                              const int32_t ct0[QCN_MLDSA_N], unsigned gamma2)
{
    struct qcn_mldsa_dc d;
    unsigned i, count = 0;
    qcn_mldsa_dc_init(&d, gamma2);
    for (i = 0; i < QCN_MLDSA_N; i++) {
        int32_t a0, hi1, hi2;
        hi1 = qcn_mldsa_decompose1(&d, &a0, qcn_mldsa_freeze(r[i] + ct0[i]));
        hi2 = qcn_mldsa_decompose1(&d, &a0, r[i]);
        h[i] = (uint8_t)qcn_mldsa_ct_nonzero((uint32_t)(hi1 ^ hi2));
        count += h[i];
    }
    return count;
}

/* Public data only (verification): branches are fine here. */
static void use_hint_ref(int32_t w1[QCN_MLDSA_N], const int32_t w[QCN_MLDSA_N],
                         const uint8_t h[QCN_MLDSA_N], unsigned gamma2)
{
    struct qcn_mldsa_dc d;
    unsigned i;
    qcn_mldsa_dc_init(&d, gamma2);
    for (i = 0; i < QCN_MLDSA_N; i++) {
        int32_t a0, a1 = qcn_mldsa_decompose1(&d, &a0, qcn_mldsa_freeze(w[i]));
        if (h[i]) {
            if (a0 > 0)
                a1 = a1 + 1 == (int32_t)d.top ? 0 : a1 + 1;
            else
                a1 = a1 == 0 ? (int32_t)d.top - 1 : a1 - 1;
        }
        w1[i] = a1;
    }
}

const struct qcn_mldsa_impl qcn_mldsa_impl_portable = {
    .name = "portable",
    .ntt = ntt_ref,
    .invntt = invntt_ref,
    .pointwise = pointwise_ref,
    .pointwise_acc = pointwise_acc_ref,
    .uniform_4x = uniform_4x_ref,
    .eta_4x = eta_4x_ref,
    .gamma1_4x = gamma1_4x_ref,
    .reduce = reduce_ref,
    .add_reduce = add_reduce_ref,
    .sub_freeze = sub_freeze_ref,
    .freeze_highbits = freeze_highbits_ref,
    .lowbits = lowbits_ref,
    .exceeds = exceeds_ref,
    .make_hint = make_hint_ref,
    .use_hint = use_hint_ref,
};

/* The selection is process-wide and made once; it depends only on the CPU
 * and the environment, so every thread sees the same answer. Tests and
 * benchmarks may force a table (qcn_mldsa_backend_set); the pointer is read
 * and written atomically. */
static const struct qcn_mldsa_impl *selected;
static pthread_once_t select_once = PTHREAD_ONCE_INIT;

#ifdef QCN_MLDSA_HAVE_AVX2
static int cpu_has_avx2(void)
{
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}
#endif

static void select_impl(void)
{
    const char *env = getenv("QCN_NO_AVX2");
    const struct qcn_mldsa_impl *im = &qcn_mldsa_impl_portable;
#ifdef QCN_MLDSA_HAVE_AVX2
    if ((env == NULL || env[0] == '\0' || strcmp(env, "0") == 0) && cpu_has_avx2())
        im = &qcn_mldsa_impl_avx2;
#else
    (void)env;
#endif
    __atomic_store_n(&selected, im, __ATOMIC_RELEASE);
}

const struct qcn_mldsa_impl *qcn_mldsa_impl_get(void)
{
    pthread_once(&select_once, select_impl);
    return __atomic_load_n(&selected, __ATOMIC_ACQUIRE);
}

int qcn_mldsa_backend_set(int backend)
{
    const struct qcn_mldsa_impl *im = NULL;
    pthread_once(&select_once, select_impl);
    if (backend == QCN_MLDSA_BACKEND_PORTABLE)
        im = &qcn_mldsa_impl_portable;
#ifdef QCN_MLDSA_HAVE_AVX2
    else if (backend == QCN_MLDSA_BACKEND_AVX2 && cpu_has_avx2())
        im = &qcn_mldsa_impl_avx2;
#endif
    if (im == NULL)
        return QCN_ERR_UNSUPPORTED;
    __atomic_store_n(&selected, im, __ATOMIC_RELEASE);
    return QCN_OK;
}

const char *qcn_mldsa_backend_name(void)
{
    return qcn_mldsa_impl_get()->name;
}
