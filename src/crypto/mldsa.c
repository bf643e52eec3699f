/* ML-DSA (FIPS 204): key generation, signing and verification for the three
 * parameter sets, the pure / pre-hash / internal / external-mu interfaces,
 * and the byte encodings (§7.1-7.2).
 *
 * Constant time: signing and key generation never branch on, or index memory
 * by, secret data. The exceptions FIPS 204 allows are declassified explicitly
 * (QCN_MLDSA_DECLASSIFY): each iteration's rejection decision (§6.2, the
 * iteration count is public), the accept pattern of rejection samplers (it
 * concerns only discarded bytes), and the outputs. tests/ct/ct_mldsa.c checks
 * this under valgrind.
 *
 * Bounds: see mldsa_internal.h for the NTT bounds. reduce32 maps |a| < 2^31 -
 * 2^22 to |a| <= 6283008; freeze maps that to [0, q). A norm check on a
 * reduce32 output is exact for bounds below q - 6283008, which all FIPS 204
 * bounds (gamma1 - beta, gamma2 - beta, gamma2) are. */
#include "crypto/mldsa.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/keccak.h"
#include "crypto/mldsa_internal.h"
#include "crypto/rng.h"
#include "util/mem.h"

#define N QCN_MLDSA_N
#define Q QCN_MLDSA_Q
#define D_BITS 13
/* t1 coefficients are 23 - d = 10 bits wide (pkEncode, Alg 22). */
#define T1_BITS 10
/* tr and K inside skEncode (Alg 24): rho || K || tr || ... */
#define SK_KEY_OFF QCN_MLDSA_RHO_BYTES
#define SK_TR_OFF (QCN_MLDSA_RHO_BYTES + QCN_MLDSA_KEY_BYTES)
#define MAX_K 8
#define MAX_L 7
/* FIPS 204 Appendix C: a bounded loop must allow at least 814 iterations. */
#define MAX_SIGN_ITERATIONS 1000

typedef struct qcn_mldsa_poly poly;

/* FIPS 204 Table 1. */
struct params {
    int id;
    unsigned k, l, eta, tau, beta, gamma1_bits, gamma2, omega, ctilde_bytes;
    unsigned eta_bits, w1_bits;
    size_t pk_bytes, sk_bytes, sig_bytes;
};

static const struct params params_44 = {
    QCN_MLDSA44,
    4,
    4,
    2,
    39,
    78,
    17,
    (Q - 1) / 88,
    80,
    32,
    3,
    6,
    QCN_MLDSA44_PK_BYTES,
    QCN_MLDSA44_SK_BYTES,
    QCN_MLDSA44_SIG_BYTES,
};
static const struct params params_65 = {
    QCN_MLDSA65,
    6,
    5,
    4,
    49,
    196,
    19,
    (Q - 1) / 32,
    55,
    48,
    4,
    4,
    QCN_MLDSA65_PK_BYTES,
    QCN_MLDSA65_SK_BYTES,
    QCN_MLDSA65_SIG_BYTES,
};
static const struct params params_87 = {
    QCN_MLDSA87,
    8,
    7,
    2,
    60,
    120,
    19,
    (Q - 1) / 32,
    75,
    64,
    3,
    4,
    QCN_MLDSA87_PK_BYTES,
    QCN_MLDSA87_SK_BYTES,
    QCN_MLDSA87_SIG_BYTES,
};

static const struct params *params_get(int param)
{
    switch (param) {
    case QCN_MLDSA44:
        return &params_44;
    case QCN_MLDSA65:
        return &params_65;
    case QCN_MLDSA87:
        return &params_87;
    default:
        return NULL;
    }
}

size_t qcn_mldsa_pk_bytes(int param)
{
    const struct params *p = params_get(param);
    return p ? p->pk_bytes : 0;
}

size_t qcn_mldsa_sk_bytes(int param)
{
    const struct params *p = params_get(param);
    return p ? p->sk_bytes : 0;
}

size_t qcn_mldsa_sig_bytes(int param)
{
    const struct params *p = params_get(param);
    return p ? p->sig_bytes : 0;
}

/* ---- scalar helpers (branch-free; defined in mldsa_internal.h) ------------ */

#define reduce32 qcn_mldsa_reduce32
#define freeze qcn_mldsa_freeze
#define ct_nonzero qcn_mldsa_ct_nonzero

int32_t qcn_mldsa_decompose(int32_t *a0, int32_t a, unsigned gamma2)
{
    struct qcn_mldsa_dc d;
    qcn_mldsa_dc_init(&d, gamma2);
    return qcn_mldsa_decompose1(&d, a0, a);
}

/* Power2Round (Alg 35) of a in [0, q). */
static inline int32_t power2round(int32_t *a0, int32_t a)
{
    int32_t a1 = (a + (1 << (D_BITS - 1)) - 1) >> D_BITS;
    *a0 = a - (a1 << D_BITS);
    return a1;
}

/* ---- bit packing (Alg 16-19) ------------------------------------------- */

/* qcn_mldsa_pack_bits / unpack_bits (mldsa_internal.h) get constant shifts
 * only when bits and neg are constants, so each encoding FIPS 204 uses has
 * its own instance, listed once here: the unsigned w1 (4 or 6 bits) and t1
 * (10), the signed s1/s2 (eta: 3 or 4), t0 (d = 13) and z (gamma1: 18 or
 * 20; unpacked by qcn_mldsa_unpack_gamma1, which ExpandMask shares). */
#define BIT_CODECS(X) X(4, 0) X(6, 0) X(10, 0) X(3, 1) X(4, 1) X(13, 1) X(18, 1) X(20, 1)

#define DEFINE_BIT_CODEC(bits, neg)                                                                \
    static void pack_##bits##_##neg(uint8_t *out, const int32_t *a, int32_t base)                  \
    {                                                                                              \
        qcn_mldsa_pack_bits(out, a, bits, base, neg);                                              \
    }                                                                                              \
    static void unpack_##bits##_##neg(int32_t *a, const uint8_t *in, int32_t base)                 \
    {                                                                                              \
        qcn_mldsa_unpack_bits(a, in, bits, base, neg);                                             \
    }
BIT_CODECS(DEFINE_BIT_CODEC)

struct bit_codec {
    unsigned bits;
    int neg;
    void (*pack)(uint8_t *out, const int32_t *a, int32_t base);
    void (*unpack)(int32_t *a, const uint8_t *in, int32_t base);
};

#define BIT_CODEC_ENTRY(bits, neg) {bits, neg, pack_##bits##_##neg, unpack_##bits##_##neg},
static const struct bit_codec bit_codecs[] = {BIT_CODECS(BIT_CODEC_ENTRY)};

/* An encoding outside the list is a bug in this file, not bad input. */
static const struct bit_codec *bit_codec_of(unsigned bits, int neg)
{
    size_t i;
    for (i = 0; i < sizeof bit_codecs / sizeof bit_codecs[0]; i++)
        if (bit_codecs[i].bits == bits && bit_codecs[i].neg == neg)
            return &bit_codecs[i];
    abort();
}

/* Packs neg ? base - a[i] : a[i] into bits-bit little-endian fields. */
static void pack_poly(uint8_t *out, const int32_t *a, unsigned bits, int32_t base, int neg)
{
    bit_codec_of(bits, neg)->pack(out, a, base);
}

/* The inverse of pack_poly. */
static void unpack_poly(int32_t *a, const uint8_t *in, unsigned bits, int32_t base, int neg)
{
    bit_codec_of(bits, neg)->unpack(a, in, base);
}

static size_t poly_packed_bytes(unsigned bits)
{
    return (size_t)N * bits / 8;
}

/* ---- hashing helpers ----------------------------------------------------- */

/* H (FIPS 204 §3.7): SHAKE256 of a || b. */
static void shake256_2(uint8_t *out, size_t outlen, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen)
{
    qcn_keccak_hash2(out, outlen, QCN_SHAKE256_RATE, QCN_SHAKE_DS, a, alen, b, blen);
}

/* SampleInBall (Alg 29). c is kept as two 256-bit sets (non-zero, negative)
 * so the swap c[i] <- c[j], c[j] <- +-1 touches every word instead of
 * indexing by the secret j. Only the accept decision "j <= i" of each byte is
 * declassified; it concerns only the rejected byte. */
static void sample_in_ball(poly *c, const uint8_t *ctilde, size_t ctlen, unsigned tau)
{
    uint8_t buf[QCN_SHAKE256_RATE];
    uint64_t nz[4] = {0, 0, 0, 0}, ng[4] = {0, 0, 0, 0}, signs = 0;
    struct qcn_keccak k;
    unsigned i, pos, w;

    qcn_shake256_init(&k);
    qcn_keccak_absorb(&k, ctilde, ctlen);
    qcn_keccak_finalize(&k);
    qcn_keccak_squeeze_blocks(&k, buf, 1);
    for (i = 0; i < 8; i++)
        signs |= (uint64_t)buf[i] << (8 * i);
    pos = 8;
    for (i = N - tau; i < N; i++) {
        uint32_t j, vnz = 0, vng = 0;
        uint64_t onehot[4], sign;
        for (;;) {
            uint8_t reject;
            if (pos >= QCN_SHAKE256_RATE) {
                qcn_keccak_squeeze_blocks(&k, buf, 1);
                pos = 0;
            }
            j = buf[pos++];
            reject = (uint8_t)((i - j) >> 31);
            QCN_MLDSA_DECLASSIFY(&reject, sizeof reject);
            if (!reject)
                break;
        }
        for (w = 0; w < 4; w++) {
            uint64_t is_w = (uint64_t)(ct_nonzero(w ^ (j >> 6)) ^ 1);
            onehot[w] = (0 - is_w) & ((uint64_t)1 << (j & 63));
            vnz |=
                ct_nonzero((uint32_t)((nz[w] & onehot[w]) >> 32) | (uint32_t)(nz[w] & onehot[w]));
            vng |=
                ct_nonzero((uint32_t)((ng[w] & onehot[w]) >> 32) | (uint32_t)(ng[w] & onehot[w]));
        }
        /* c[i] <- c[j] (i is public), then c[j] <- sign. */
        nz[i >> 6] = (nz[i >> 6] & ~((uint64_t)1 << (i & 63))) | ((uint64_t)vnz << (i & 63));
        ng[i >> 6] = (ng[i >> 6] & ~((uint64_t)1 << (i & 63))) | ((uint64_t)vng << (i & 63));
        sign = 0 - ((signs >> (i + tau - N)) & 1);
        for (w = 0; w < 4; w++) {
            nz[w] |= onehot[w];
            ng[w] = (ng[w] & ~onehot[w]) | (onehot[w] & sign);
        }
    }
    for (i = 0; i < N; i++) {
        int32_t isnz = (int32_t)((nz[i >> 6] >> (i & 63)) & 1);
        int32_t isng = (int32_t)((ng[i >> 6] >> (i & 63)) & 1);
        c->c[i] = isnz - 2 * isng;
    }
    qcn_wipe(buf, sizeof buf);
    qcn_wipe(nz, sizeof nz);
    qcn_wipe(ng, sizeof ng);
    qcn_keccak_clear(&k);
}

/* ---- matrix / vector helpers ----------------------------------------------- */

/* ExpandA (Alg 32) for the four entries e = idx..idx+3 that are below k*l:
 * A[r][s] (e = r*l + s) from rho || s || r, i.e. nonce 256 r + s, into
 * dst[e - idx]. */
static void expand_a_4(const struct qcn_mldsa_impl *im, poly *dst,
                       const uint8_t rho[QCN_MLDSA_RHO_BYTES], unsigned idx, const struct params *p)
{
    unsigned n = p->k * p->l, t;
    poly *out[4];
    uint16_t nonce[4];
    for (t = 0; t < 4; t++) {
        unsigned e = idx + t;
        out[t] = e < n ? &dst[t] : NULL;
        nonce[t] = (uint16_t)(e < n ? ((e / p->l) << 8) | (e % p->l) : 0);
    }
    im->uniform_4x(out, rho, nonce);
}

/* The whole of ExpandA into mat[k*l] (signing). */
static void expand_a(const struct qcn_mldsa_impl *im, poly *mat,
                     const uint8_t rho[QCN_MLDSA_RHO_BYTES], const struct params *p)
{
    unsigned n = p->k * p->l, idx;
    for (idx = 0; idx < n; idx += 4)
        expand_a_4(im, mat + idx, rho, idx, p);
}

/* out[i] = sum_j A[i][j] * v[j] for NTT-domain v, generating A four entries at
 * a time so the whole matrix is never held (key generation, verification). */
static void matrix_mul_stream(const struct qcn_mldsa_impl *im, poly *out,
                              const uint8_t rho[QCN_MLDSA_RHO_BYTES], const poly *v,
                              const struct params *p)
{
    poly a[4];
    unsigned n = p->k * p->l, idx, t;
    for (idx = 0; idx < n; idx += 4) {
        expand_a_4(im, a, rho, idx, p);
        for (t = 0; t < 4 && idx + t < n; t++) {
            unsigned e = idx + t, i = e / p->l, j = e % p->l;
            if (j == 0)
                im->pointwise(out[i].c, a[t].c, v[j].c);
            else
                im->pointwise_acc(out[i].c, a[t].c, v[j].c);
        }
    }
}

/* polys[first..first+count) from the sampler, nonces base + index. */
static void sample_eta(const struct qcn_mldsa_impl *im, poly *v, unsigned count,
                       const uint8_t rhoprime[QCN_MLDSA_RHOPRIME_BYTES], unsigned nonce_base,
                       unsigned eta)
{
    unsigned i, t;
    for (i = 0; i < count; i += 4) {
        poly *o[4];
        uint16_t nonce[4];
        for (t = 0; t < 4; t++) {
            o[t] = i + t < count ? &v[i + t] : NULL;
            nonce[t] = (uint16_t)(nonce_base + i + t);
        }
        im->eta_4x(o, rhoprime, nonce, (int)eta);
    }
}

/* ---- encodings (Alg 22-27) ------------------------------------------------- */

static void pk_encode(uint8_t *pk, const uint8_t rho[QCN_MLDSA_RHO_BYTES], const poly *t1,
                      const struct params *p)
{
    unsigned i;
    memcpy(pk, rho, QCN_MLDSA_RHO_BYTES);
    for (i = 0; i < p->k; i++)
        pack_poly(pk + QCN_MLDSA_RHO_BYTES + i * poly_packed_bytes(T1_BITS), t1[i].c, T1_BITS, 0,
                  0);
}

static void pk_decode(uint8_t rho[QCN_MLDSA_RHO_BYTES], poly *t1, const uint8_t *pk,
                      const struct params *p)
{
    unsigned i;
    memcpy(rho, pk, QCN_MLDSA_RHO_BYTES);
    for (i = 0; i < p->k; i++)
        unpack_poly(t1[i].c, pk + QCN_MLDSA_RHO_BYTES + i * poly_packed_bytes(T1_BITS), T1_BITS, 0,
                    0);
}

struct sk_parts {
    uint8_t rho[QCN_MLDSA_RHO_BYTES], key[QCN_MLDSA_KEY_BYTES], tr[QCN_MLDSA_TR_BYTES];
    poly s1[MAX_L], s2[MAX_K], t0[MAX_K];
};

static void sk_encode(uint8_t *sk, const struct sk_parts *s, const struct params *p)
{
    size_t eb = poly_packed_bytes(p->eta_bits), tb = poly_packed_bytes(D_BITS);
    uint8_t *o = sk + QCN_MLDSA_SK_HEADER_BYTES;
    unsigned i;
    memcpy(sk, s->rho, QCN_MLDSA_RHO_BYTES);
    memcpy(sk + SK_KEY_OFF, s->key, QCN_MLDSA_KEY_BYTES);
    memcpy(sk + SK_TR_OFF, s->tr, QCN_MLDSA_TR_BYTES);
    for (i = 0; i < p->l; i++, o += eb)
        pack_poly(o, s->s1[i].c, p->eta_bits, (int32_t)p->eta, 1);
    for (i = 0; i < p->k; i++, o += eb)
        pack_poly(o, s->s2[i].c, p->eta_bits, (int32_t)p->eta, 1);
    for (i = 0; i < p->k; i++, o += tb)
        pack_poly(o, s->t0[i].c, D_BITS, 1 << (D_BITS - 1), 1);
}

/* skDecode (Alg 25) plus the range check FIPS 204 leaves to the caller: each
 * s1/s2 field must be at most 2 eta. The check accumulates without branches
 * and only its final verdict is declassified. Returns 0 if valid. */
static uint32_t sk_decode(struct sk_parts *s, const uint8_t *sk, const struct params *p)
{
    size_t eb = poly_packed_bytes(p->eta_bits), tb = poly_packed_bytes(D_BITS);
    const uint8_t *in = sk + QCN_MLDSA_SK_HEADER_BYTES;
    uint32_t bad = 0;
    unsigned i, j;
    memcpy(s->rho, sk, QCN_MLDSA_RHO_BYTES);
    memcpy(s->key, sk + SK_KEY_OFF, QCN_MLDSA_KEY_BYTES);
    memcpy(s->tr, sk + SK_TR_OFF, QCN_MLDSA_TR_BYTES);
    for (i = 0; i < p->l + p->k; i++, in += eb) {
        poly *a = i < p->l ? &s->s1[i] : &s->s2[i - p->l];
        unpack_poly(a->c, in, p->eta_bits, (int32_t)p->eta, 1);
        for (j = 0; j < N; j++)
            bad |= (uint32_t)(a->c[j] + (int32_t)p->eta) >> 31;
    }
    for (i = 0; i < p->k; i++, in += tb)
        unpack_poly(s->t0[i].c, in, D_BITS, 1 << (D_BITS - 1), 1);
    /* rho and tr are public (rho is in pk, tr = H(pk)). */
    QCN_MLDSA_DECLASSIFY(s->rho, sizeof s->rho);
    QCN_MLDSA_DECLASSIFY(s->tr, sizeof s->tr);
    QCN_MLDSA_DECLASSIFY(&bad, sizeof bad);
    return bad;
}

static void w1_encode(uint8_t *out, const poly *w1, const struct params *p)
{
    unsigned i;
    for (i = 0; i < p->k; i++)
        pack_poly(out + i * poly_packed_bytes(p->w1_bits), w1[i].c, p->w1_bits, 0, 0);
}

struct sig_parts {
    uint8_t ctilde[QCN_MLDSA_MAX_CTILDE_BYTES];
    poly z[MAX_L];
    uint8_t h[MAX_K][N];
};

static void sig_encode(uint8_t *sig, const struct sig_parts *s, const struct params *p)
{
    size_t zb = poly_packed_bytes(p->gamma1_bits + 1);
    uint8_t *o = sig + p->ctilde_bytes, *hint;
    unsigned i, j, idx = 0;
    memcpy(sig, s->ctilde, p->ctilde_bytes);
    for (i = 0; i < p->l; i++, o += zb)
        pack_poly(o, s->z[i].c, p->gamma1_bits + 1, (int32_t)1 << p->gamma1_bits, 1);
    /* HintBitPack (Alg 20). */
    hint = o;
    memset(hint, 0, p->omega + p->k);
    for (i = 0; i < p->k; i++) {
        for (j = 0; j < N; j++)
            if (s->h[i][j] && idx < p->omega)
                hint[idx++] = (uint8_t)j;
        hint[p->omega + i] = (uint8_t)idx;
    }
}

/* sigDecode (Alg 27) with HintBitUnpack (Alg 21): the hint indices of each
 * row must be strictly increasing, the running counts non-decreasing and at
 * most omega, and unused index bytes zero. Returns 0 if well formed. */
static int sig_decode(struct sig_parts *s, const uint8_t *sig, const struct params *p)
{
    size_t zb = poly_packed_bytes(p->gamma1_bits + 1);
    const uint8_t *in = sig + p->ctilde_bytes, *hint;
    unsigned i, idx = 0;
    memcpy(s->ctilde, sig, p->ctilde_bytes);
    for (i = 0; i < p->l; i++, in += zb)
        qcn_mldsa_unpack_gamma1(s->z[i].c, in, (int)p->gamma1_bits);
    hint = in;
    memset(s->h, 0, sizeof s->h);
    for (i = 0; i < p->k; i++) {
        unsigned end = hint[p->omega + i], first = idx;
        if (end < idx || end > p->omega)
            return -1;
        for (; idx < end; idx++) {
            if (idx > first && hint[idx - 1] >= hint[idx])
                return -1;
            s->h[i][hint[idx]] = 1;
        }
    }
    for (; idx < p->omega; idx++)
        if (hint[idx] != 0)
            return -1;
    return 0;
}

/* ---- KeyGen (Alg 6) ----------------------------------------------------- */

struct keygen_state {
    uint8_t seedbuf[QCN_MLDSA_RHO_BYTES + QCN_MLDSA_RHOPRIME_BYTES + QCN_MLDSA_KEY_BYTES];
    struct sk_parts sk;
    poly s1hat[MAX_L], t[MAX_K], t1[MAX_K];
};

int qcn_mldsa_keygen(int param, uint8_t *pk, uint8_t *sk, const uint8_t seed[QCN_MLDSA_SEED_BYTES])
{
    const struct params *p = params_get(param);
    const struct qcn_mldsa_impl *im = qcn_mldsa_impl_get();
    struct keygen_state st;
    uint8_t kl[2];
    const uint8_t *rhoprime;
    unsigned i, j;

    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    kl[0] = (uint8_t)p->k;
    kl[1] = (uint8_t)p->l;
    shake256_2(st.seedbuf, sizeof st.seedbuf, seed, QCN_MLDSA_SEED_BYTES, kl, 2);
    /* rho goes into pk: public from here on. */
    QCN_MLDSA_DECLASSIFY(st.seedbuf, QCN_MLDSA_RHO_BYTES);
    memcpy(st.sk.rho, st.seedbuf, QCN_MLDSA_RHO_BYTES);
    rhoprime = st.seedbuf + QCN_MLDSA_RHO_BYTES;
    memcpy(st.sk.key, rhoprime + QCN_MLDSA_RHOPRIME_BYTES, QCN_MLDSA_KEY_BYTES);

    /* ExpandS (Alg 33): s1 with nonces 0..l-1, s2 with l..l+k-1. */
    sample_eta(im, st.sk.s1, p->l, rhoprime, 0, p->eta);
    sample_eta(im, st.sk.s2, p->k, rhoprime, p->l, p->eta);

    for (i = 0; i < p->l; i++) {
        st.s1hat[i] = st.sk.s1[i];
        im->ntt(st.s1hat[i].c);
    }
    matrix_mul_stream(im, st.t, st.sk.rho, st.s1hat, p);
    for (i = 0; i < p->k; i++) {
        im->reduce(st.t[i].c);
        im->invntt(st.t[i].c);
        for (j = 0; j < N; j++) {
            int32_t t = freeze(st.t[i].c[j] + st.sk.s2[i].c[j]);
            st.t1[i].c[j] = power2round(&st.sk.t0[i].c[j], t);
        }
        QCN_MLDSA_DECLASSIFY(st.t1[i].c, sizeof st.t1[i].c);
    }
    pk_encode(pk, st.sk.rho, st.t1, p);
    shake256_2(st.sk.tr, QCN_MLDSA_TR_BYTES, pk, p->pk_bytes, NULL, 0);
    sk_encode(sk, &st.sk, p);
    qcn_wipe(&st, sizeof st);
    return QCN_OK;
}

/* ---- Sign_internal (Alg 7) on mu ---------------------------------------- */

struct sign_state {
    struct sk_parts sk;
    poly s1hat[MAX_L], s2hat[MAX_K], t0hat[MAX_K];
    poly y[MAX_L], yhat[MAX_L], w[MAX_K], w1[MAX_K], r[MAX_K], tmp, c;
    struct sig_parts out;
    /* ExpandMask output for nonces yfirst .. yfirst + 3 (ynext: none yet). */
    poly ycache[4];
    unsigned yfirst, yvalid;
    uint8_t rhopp[QCN_MLDSA_RHOPP_BYTES],
        keybuf[QCN_MLDSA_KEY_BYTES + QCN_MLDSA_RND_BYTES + QCN_MLDSA_MU_BYTES];
    uint8_t w1buf[MAX_K * N * 6 / 8];
};

/* y polynomial number `nonce` of the ExpandMask stream (Alg 34: iteration
 * kappa uses nonces kappa .. kappa + l - 1, so the stream is consumed in
 * order). Four are made at a time so that every 4-way SHAKE256 batch is
 * full, whatever l is; the few made past the accepted iteration are wiped
 * with the rest of the state. */
static void mask_poly(const struct qcn_mldsa_impl *im, struct sign_state *st, poly *out,
                      unsigned nonce, unsigned gamma1_bits)
{
    if (!st->yvalid || nonce < st->yfirst || nonce >= st->yfirst + 4) {
        poly *o[4] = {&st->ycache[0], &st->ycache[1], &st->ycache[2], &st->ycache[3]};
        uint16_t n[4] = {(uint16_t)nonce, (uint16_t)(nonce + 1), (uint16_t)(nonce + 2),
                         (uint16_t)(nonce + 3)};
        im->gamma1_4x(o, st->rhopp, n, (int)gamma1_bits);
        st->yfirst = nonce;
        st->yvalid = 1;
    }
    *out = st->ycache[nonce - st->yfirst];
}

static int sign_mu(const struct params *p, uint8_t *sig, const uint8_t *sk,
                   const uint8_t mu[QCN_MLDSA_MU_BYTES], const uint8_t rnd[QCN_MLDSA_RND_BYTES])
{
    const struct qcn_mldsa_impl *im = qcn_mldsa_impl_get();
    struct sign_state *st, stbuf;
    /* The matrix A is public (ExpandA of rho): kept outside the wiped state. */
    poly mat[MAX_K * MAX_L];
    unsigned i, j, iter;
    int32_t zbound = ((int32_t)1 << p->gamma1_bits) - (int32_t)p->beta;
    int32_t r0bound = (int32_t)(p->gamma2 - p->beta);
    int rc = QCN_ERR_INTERNAL;

    st = &stbuf;
    st->yvalid = 0;
    if (sk_decode(&st->sk, sk, p) != 0) {
        rc = QCN_ERR_BAD_KEY;
        goto out;
    }
    for (i = 0; i < p->l; i++) {
        st->s1hat[i] = st->sk.s1[i];
        im->ntt(st->s1hat[i].c);
    }
    for (i = 0; i < p->k; i++) {
        st->s2hat[i] = st->sk.s2[i];
        im->ntt(st->s2hat[i].c);
        st->t0hat[i] = st->sk.t0[i];
        im->ntt(st->t0hat[i].c);
    }
    expand_a(im, mat, st->sk.rho, p);

    /* rho'' = H(K || rnd || mu, 64) (Alg 7 line 7). */
    memcpy(st->keybuf, st->sk.key, QCN_MLDSA_KEY_BYTES);
    memcpy(st->keybuf + QCN_MLDSA_KEY_BYTES, rnd, QCN_MLDSA_RND_BYTES);
    memcpy(st->keybuf + QCN_MLDSA_KEY_BYTES + QCN_MLDSA_RND_BYTES, mu, QCN_MLDSA_MU_BYTES);
    shake256_2(st->rhopp, QCN_MLDSA_RHOPP_BYTES, st->keybuf, sizeof st->keybuf, NULL, 0);

    for (iter = 0; iter < MAX_SIGN_ITERATIONS; iter++) {
        uint32_t reject = 0, hcount = 0;
        struct qcn_keccak k;

        for (i = 0; i < p->l; i++) {
            mask_poly(im, st, &st->y[i], iter * p->l + i, p->gamma1_bits);
            st->yhat[i] = st->y[i];
            im->ntt(st->yhat[i].c);
        }
        for (i = 0; i < p->k; i++) {
            im->pointwise(st->w[i].c, mat[i * p->l].c, st->yhat[0].c);
            for (j = 1; j < p->l; j++)
                im->pointwise_acc(st->w[i].c, mat[i * p->l + j].c, st->yhat[j].c);
            im->reduce(st->w[i].c);
            im->invntt(st->w[i].c);
            im->freeze_highbits(st->w1[i].c, st->w[i].c, p->gamma2);
        }
        w1_encode(st->w1buf, st->w1, p);
        qcn_shake256_init(&k);
        qcn_keccak_absorb(&k, mu, QCN_MLDSA_MU_BYTES);
        qcn_keccak_absorb(&k, st->w1buf, p->k * poly_packed_bytes(p->w1_bits));
        qcn_keccak_squeeze(&k, st->out.ctilde, p->ctilde_bytes);
        qcn_keccak_clear(&k);
        sample_in_ball(&st->c, st->out.ctilde, p->ctilde_bytes, p->tau);
        im->ntt(st->c.c);

        /* z = y + c s1 (line 16), first rejection test on ||z||. */
        for (i = 0; i < p->l; i++) {
            im->pointwise(st->out.z[i].c, st->c.c, st->s1hat[i].c);
            im->invntt(st->out.z[i].c);
            im->add_reduce(st->out.z[i].c, st->out.z[i].c, st->y[i].c);
            reject |= im->exceeds(st->out.z[i].c, zbound);
        }
        /* r = w - c s2, r0 = LowBits(r) (line 17). */
        for (i = 0; i < p->k; i++) {
            im->pointwise(st->tmp.c, st->c.c, st->s2hat[i].c);
            im->invntt(st->tmp.c);
            im->sub_freeze(st->r[i].c, st->w[i].c, st->tmp.c);
            im->lowbits(st->tmp.c, st->r[i].c, p->gamma2);
            reject |= im->exceeds(st->tmp.c, r0bound);
        }
        QCN_MLDSA_DECLASSIFY(&reject, sizeof reject);
        if (reject)
            continue;

        /* h = MakeHint(-ct0, w - cs2 + ct0) (Alg 39: HighBits(r') != HighBits(r' - ct0)
         * with r' = r + ct0), and the ||ct0|| and hint-weight tests. */
        for (i = 0; i < p->k; i++) {
            im->pointwise(st->tmp.c, st->c.c, st->t0hat[i].c);
            im->invntt(st->tmp.c);
            im->reduce(st->tmp.c);
            reject |= im->exceeds(st->tmp.c, (int32_t)p->gamma2);
            hcount += im->make_hint(st->out.h[i], st->r[i].c, st->tmp.c, p->gamma2);
        }
        reject |= (uint32_t)((int32_t)p->omega - (int32_t)hcount) >> 31;
        QCN_MLDSA_DECLASSIFY(&reject, sizeof reject);
        if (reject)
            continue;

        /* Accepted: everything in the signature is public. */
        QCN_MLDSA_DECLASSIFY(&st->out, sizeof st->out);
        sig_encode(sig, &st->out, p);
        rc = QCN_OK;
        goto out;
    }

out:
    if (rc != QCN_OK)
        memset(sig, 0, p->sig_bytes);
    qcn_wipe(st, sizeof *st);
    return rc;
}

/* ---- Verify_internal (Alg 8) on mu -------------------------------------- */

struct verify_state {
    uint8_t rho[QCN_MLDSA_RHO_BYTES], ctilde2[QCN_MLDSA_MAX_CTILDE_BYTES];
    poly t1[MAX_K], zhat[MAX_L], w[MAX_K], c, tmp;
    struct sig_parts s;
    uint8_t w1buf[MAX_K * N * 6 / 8];
};

/* w' = A-hat z-hat - c-hat t1-hat 2^d (Alg 8 line 9) and the c~ check,
 * with A either streamed from rho (ahat NULL) or taken from an expanded key,
 * and t1 either decoded from pk (t1hat NULL) or already transformed. */
static int verify_core(const struct params *p, const uint8_t *pk, const int32_t (*ahat)[N],
                       const int32_t (*t1hat)[N], const uint8_t mu[QCN_MLDSA_MU_BYTES],
                       const uint8_t *sig, size_t siglen)
{
    const struct qcn_mldsa_impl *im = qcn_mldsa_impl_get();
    struct verify_state st;
    struct qcn_keccak k;
    int32_t zbound = ((int32_t)1 << p->gamma1_bits) - (int32_t)p->beta;
    unsigned i, j;

    if (siglen != p->sig_bytes)
        return QCN_ERR_BAD_SIGNATURE;
    if (sig_decode(&st.s, sig, p) != 0)
        return QCN_ERR_BAD_SIGNATURE;
    for (i = 0; i < p->l; i++)
        if (im->exceeds(st.s.z[i].c, zbound))
            return QCN_ERR_BAD_SIGNATURE;
    if (t1hat == NULL)
        pk_decode(st.rho, st.t1, pk, p);

    /* w' = A z - c t1 2^d (line 9), with -c so the subtraction is an
     * accumulation. */
    sample_in_ball(&st.c, st.s.ctilde, p->ctilde_bytes, p->tau);
    for (j = 0; j < N; j++)
        st.c.c[j] = -st.c.c[j];
    im->ntt(st.c.c);
    for (i = 0; i < p->l; i++) {
        st.zhat[i] = st.s.z[i];
        im->ntt(st.zhat[i].c);
    }
    if (ahat == NULL) {
        matrix_mul_stream(im, st.w, st.rho, st.zhat, p);
    } else {
        for (i = 0; i < p->k; i++) {
            im->pointwise(st.w[i].c, ahat[i * p->l], st.zhat[0].c);
            for (j = 1; j < p->l; j++)
                im->pointwise_acc(st.w[i].c, ahat[i * p->l + j], st.zhat[j].c);
        }
    }
    for (i = 0; i < p->k; i++) {
        if (t1hat == NULL) {
            for (j = 0; j < N; j++)
                st.t1[i].c[j] *= 1 << D_BITS;
            im->ntt(st.t1[i].c);
            im->pointwise_acc(st.w[i].c, st.c.c, st.t1[i].c);
        } else {
            im->pointwise_acc(st.w[i].c, st.c.c, t1hat[i]);
        }
        im->reduce(st.w[i].c);
        im->invntt(st.w[i].c);
        im->use_hint(st.w[i].c, st.w[i].c, st.s.h[i], p->gamma2);
    }
    w1_encode(st.w1buf, st.w, p);
    qcn_shake256_init(&k);
    qcn_keccak_absorb(&k, mu, QCN_MLDSA_MU_BYTES);
    qcn_keccak_absorb(&k, st.w1buf, p->k * poly_packed_bytes(p->w1_bits));
    qcn_keccak_squeeze(&k, st.ctilde2, p->ctilde_bytes);
    return memcmp(st.ctilde2, st.s.ctilde, p->ctilde_bytes) == 0 ? QCN_OK : QCN_ERR_BAD_SIGNATURE;
}

static int verify_mu(const struct params *p, const uint8_t *pk,
                     const uint8_t mu[QCN_MLDSA_MU_BYTES], const uint8_t *sig, size_t siglen)
{
    return verify_core(p, pk, NULL, NULL, mu, sig, siglen);
}

/* ---- message formatting (Alg 2-5) and mu = H(tr || M', 64) --------------- */

/* HashML-DSA's pre-hash functions (FIPS 204 §5.4): each one's OID is
 * 2.16.840.1.101.3.4.2.<oid_last> (DER: oid_prefix then that byte), and its
 * digest comes from OpenSSL (md) or from our Keccak (rate, dlen, ds). */
#define PREHASH_OID_BYTES 11
#define PREHASH_MAX_DIGEST_BYTES 64
#define SHA3_224_RATE 144
#define SHA3_384_RATE 104

static const uint8_t oid_prefix[PREHASH_OID_BYTES - 1] = {0x06, 0x09, 0x60, 0x86, 0x48,
                                                          0x01, 0x65, 0x03, 0x04, 0x02};

struct prehash_fn {
    int hash;
    uint8_t oid_last;
    const EVP_MD *(*md)(void);
    unsigned rate;
    size_t dlen;
    uint8_t ds;
};

static const struct prehash_fn prehash_fns[] = {
    {QCN_MLDSA_HASH_SHA2_256, 0x01, EVP_sha256, 0, 0, 0},
    {QCN_MLDSA_HASH_SHA2_384, 0x02, EVP_sha384, 0, 0, 0},
    {QCN_MLDSA_HASH_SHA2_512, 0x03, EVP_sha512, 0, 0, 0},
    {QCN_MLDSA_HASH_SHA2_224, 0x04, EVP_sha224, 0, 0, 0},
    {QCN_MLDSA_HASH_SHA2_512_224, 0x05, EVP_sha512_224, 0, 0, 0},
    {QCN_MLDSA_HASH_SHA2_512_256, 0x06, EVP_sha512_256, 0, 0, 0},
    {QCN_MLDSA_HASH_SHA3_224, 0x07, NULL, SHA3_224_RATE, 28, QCN_SHA3_DS},
    {QCN_MLDSA_HASH_SHA3_256, 0x08, NULL, QCN_SHA3_256_RATE, QCN_SHA3_256_BYTES, QCN_SHA3_DS},
    {QCN_MLDSA_HASH_SHA3_384, 0x09, NULL, SHA3_384_RATE, 48, QCN_SHA3_DS},
    {QCN_MLDSA_HASH_SHA3_512, 0x0a, NULL, QCN_SHA3_512_RATE, QCN_SHA3_512_BYTES, QCN_SHA3_DS},
    {QCN_MLDSA_HASH_SHAKE128, 0x0b, NULL, QCN_SHAKE128_RATE, 32, QCN_SHAKE_DS},
    {QCN_MLDSA_HASH_SHAKE256, 0x0c, NULL, QCN_SHAKE256_RATE, 64, QCN_SHAKE_DS},
};

struct prefix {
    uint8_t b[2 + QCN_MLDSA_MAX_CTX_BYTES + PREHASH_OID_BYTES + PREHASH_MAX_DIGEST_BYTES];
    size_t len;
};

/* PH_M for HashML-DSA (Alg 4 lines 10-22): OID || digest, into out (room
 * for PREHASH_OID_BYTES + PREHASH_MAX_DIGEST_BYTES). */
static int prehash(uint8_t *out, size_t *outlen, int hash, const uint8_t *msg, size_t msglen)
{
    const struct prehash_fn *f = NULL;
    unsigned int mdlen = 0;
    struct qcn_keccak k;
    size_t i, dlen;

    for (i = 0; i < sizeof prehash_fns / sizeof prehash_fns[0]; i++)
        if (prehash_fns[i].hash == hash)
            f = &prehash_fns[i];
    if (f == NULL)
        return QCN_ERR_INVALID_ARG;
    memcpy(out, oid_prefix, sizeof oid_prefix);
    out[sizeof oid_prefix] = f->oid_last;
    if (f->md != NULL) {
        if (EVP_Digest(msg, msglen, out + PREHASH_OID_BYTES, &mdlen, f->md(), NULL) != 1)
            return QCN_ERR_CRYPTO_BACKEND;
        dlen = mdlen;
    } else {
        qcn_keccak_init(&k, f->rate, f->ds);
        qcn_keccak_absorb(&k, msg, msglen);
        qcn_keccak_squeeze(&k, out + PREHASH_OID_BYTES, f->dlen);
        qcn_keccak_clear(&k);
        dlen = f->dlen;
    }
    *outlen = PREHASH_OID_BYTES + dlen;
    return QCN_OK;
}

/* mu = H(tr || prefix || msg, 64); tr from sk or computed from pk. */
static void compute_mu(uint8_t mu[QCN_MLDSA_MU_BYTES], const uint8_t tr[QCN_MLDSA_TR_BYTES],
                       const uint8_t *pre, size_t prelen, const uint8_t *msg, size_t msglen)
{
    struct qcn_keccak k;
    qcn_shake256_init(&k);
    qcn_keccak_absorb(&k, tr, QCN_MLDSA_TR_BYTES);
    qcn_keccak_absorb(&k, pre, prelen);
    qcn_keccak_absorb(&k, msg, msglen);
    qcn_keccak_squeeze(&k, mu, QCN_MLDSA_MU_BYTES);
}

static int choose_rnd(uint8_t out[QCN_MLDSA_RND_BYTES], int mode, const uint8_t *rnd)
{
    if (rnd != NULL) {
        memcpy(out, rnd, QCN_MLDSA_RND_BYTES);
        return QCN_OK;
    }
    if (mode == QCN_MLDSA_HEDGED) {
        qcn_rng_bytes(out, QCN_MLDSA_RND_BYTES);
        return QCN_OK;
    }
    if (mode == QCN_MLDSA_DETERMINISTIC) {
        memset(out, 0, QCN_MLDSA_RND_BYTES);
        return QCN_OK;
    }
    return QCN_ERR_INVALID_ARG;
}

/* Builds the M' prefix: domain byte, context, and for HashML-DSA OID || PH. */
static int build_prefix(struct prefix *pf, int pure, int hash, const uint8_t *msg, size_t msglen,
                        const uint8_t *ctx, size_t ctxlen)
{
    size_t phlen = 0;
    int rc;
    if (ctxlen > QCN_MLDSA_MAX_CTX_BYTES)
        return QCN_ERR_CONTEXT_TOO_LONG;
    pf->b[0] = pure ? 0 : 1;
    pf->b[1] = (uint8_t)ctxlen;
    if (ctxlen > 0)
        memcpy(pf->b + 2, ctx, ctxlen);
    pf->len = 2 + ctxlen;
    if (!pure) {
        rc = prehash(pf->b + pf->len, &phlen, hash, msg, msglen);
        if (rc != QCN_OK)
            return rc;
        pf->len += phlen;
    }
    return QCN_OK;
}

static int sign_formatted(const struct params *p, uint8_t *sig, const uint8_t *sk,
                          const struct prefix *pf, const uint8_t *msg, size_t msglen, int mode,
                          const uint8_t *rnd)
{
    uint8_t mu[QCN_MLDSA_MU_BYTES], r[QCN_MLDSA_RND_BYTES];
    int rc = choose_rnd(r, mode, rnd);
    if (rc == QCN_OK) {
        /* tr sits at sk[SK_TR_OFF..) (skEncode, Alg 24). */
        compute_mu(mu, sk + SK_TR_OFF, pf->b, pf->len, msg, msglen);
        rc = sign_mu(p, sig, sk, mu, r);
    } else {
        memset(sig, 0, p->sig_bytes);
    }
    qcn_wipe(r, sizeof r);
    qcn_wipe(mu, sizeof mu);
    return rc;
}

int qcn_mldsa_sign(int param, uint8_t *sig, const uint8_t *sk, const uint8_t *msg, size_t msglen,
                   const uint8_t *ctx, size_t ctxlen, int mode, const uint8_t *rnd)
{
    const struct params *p = params_get(param);
    struct prefix pf;
    int rc;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    rc = build_prefix(&pf, 1, 0, msg, msglen, ctx, ctxlen);
    if (rc != QCN_OK) {
        memset(sig, 0, p->sig_bytes);
        return rc;
    }
    return sign_formatted(p, sig, sk, &pf, msg, msglen, mode, rnd);
}

int qcn_mldsa_hash_sign(int param, uint8_t *sig, const uint8_t *sk, int hash, const uint8_t *msg,
                        size_t msglen, const uint8_t *ctx, size_t ctxlen, int mode,
                        const uint8_t *rnd)
{
    const struct params *p = params_get(param);
    struct prefix pf;
    int rc;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    rc = build_prefix(&pf, 0, hash, msg, msglen, ctx, ctxlen);
    if (rc != QCN_OK) {
        memset(sig, 0, p->sig_bytes);
        return rc;
    }
    return sign_formatted(p, sig, sk, &pf, NULL, 0, mode, rnd);
}

int qcn_mldsa_sign_internal(int param, uint8_t *sig, const uint8_t *sk, const uint8_t *mprime,
                            size_t mprimelen, const uint8_t rnd[QCN_MLDSA_RND_BYTES])
{
    const struct params *p = params_get(param);
    uint8_t mu[QCN_MLDSA_MU_BYTES];
    int rc;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    compute_mu(mu, sk + SK_TR_OFF, NULL, 0, mprime, mprimelen);
    rc = sign_mu(p, sig, sk, mu, rnd);
    qcn_wipe(mu, sizeof mu);
    return rc;
}

int qcn_mldsa_sign_mu(int param, uint8_t *sig, const uint8_t *sk,
                      const uint8_t mu[QCN_MLDSA_MU_BYTES], const uint8_t rnd[QCN_MLDSA_RND_BYTES])
{
    const struct params *p = params_get(param);
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    return sign_mu(p, sig, sk, mu, rnd);
}

static int verify_formatted(const struct params *p, const uint8_t *pk, const struct prefix *pf,
                            const uint8_t *msg, size_t msglen, const uint8_t *sig, size_t siglen)
{
    uint8_t tr[QCN_MLDSA_TR_BYTES], mu[QCN_MLDSA_MU_BYTES];
    shake256_2(tr, sizeof tr, pk, p->pk_bytes, NULL, 0);
    compute_mu(mu, tr, pf->b, pf->len, msg, msglen);
    return verify_mu(p, pk, mu, sig, siglen);
}

int qcn_mldsa_verify(int param, const uint8_t *pk, const uint8_t *msg, size_t msglen,
                     const uint8_t *ctx, size_t ctxlen, const uint8_t *sig, size_t siglen)
{
    const struct params *p = params_get(param);
    struct prefix pf;
    int rc;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    rc = build_prefix(&pf, 1, 0, msg, msglen, ctx, ctxlen);
    if (rc != QCN_OK)
        return rc;
    return verify_formatted(p, pk, &pf, msg, msglen, sig, siglen);
}

int qcn_mldsa_hash_verify(int param, const uint8_t *pk, int hash, const uint8_t *msg, size_t msglen,
                          const uint8_t *ctx, size_t ctxlen, const uint8_t *sig, size_t siglen)
{
    const struct params *p = params_get(param);
    struct prefix pf;
    int rc;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    rc = build_prefix(&pf, 0, hash, msg, msglen, ctx, ctxlen);
    if (rc != QCN_OK)
        return rc;
    return verify_formatted(p, pk, &pf, NULL, 0, sig, siglen);
}

int qcn_mldsa_verify_internal(int param, const uint8_t *pk, const uint8_t *mprime, size_t mprimelen,
                              const uint8_t *sig, size_t siglen)
{
    const struct params *p = params_get(param);
    struct prefix pf;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    pf.len = 0;
    return verify_formatted(p, pk, &pf, mprime, mprimelen, sig, siglen);
}

int qcn_mldsa_verify_mu(int param, const uint8_t *pk, const uint8_t mu[QCN_MLDSA_MU_BYTES],
                        const uint8_t *sig, size_t siglen)
{
    const struct params *p = params_get(param);
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    return verify_mu(p, pk, mu, sig, siglen);
}

int qcn_mldsa_pk_tr(int param, uint8_t tr[QCN_MLDSA_TR_BYTES], const uint8_t *pk)
{
    const struct params *p = params_get(param);
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    shake256_2(tr, QCN_MLDSA_TR_BYTES, pk, p->pk_bytes, NULL, 0);
    return QCN_OK;
}

/* ---- expanded public keys ------------------------------------------------ */

size_t qcn_mldsa_pk_expanded_bytes(int param)
{
    const struct params *p = params_get(param);
    size_t n;
    if (p == NULL)
        return 0;
    n = offsetof(struct qcn_mldsa_pk_expanded, ahat) + (size_t)p->k * p->l * N * sizeof(int32_t);
    return (n + 31) & ~(size_t)31;
}

int qcn_mldsa_pk_expand(int param, struct qcn_mldsa_pk_expanded *out, const uint8_t *pk,
                        size_t pklen)
{
    const struct params *p = params_get(param);
    const struct qcn_mldsa_impl *im = qcn_mldsa_impl_get();
    uint8_t rho[QCN_MLDSA_RHO_BYTES];
    poly t1[MAX_K], a[4];
    unsigned i, j, n, idx, t;

    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    if (pk == NULL || pklen != p->pk_bytes)
        return QCN_ERR_BAD_KEY;
    out->param = p->id;
    out->k = p->k;
    out->l = p->l;
    shake256_2(out->tr, QCN_MLDSA_TR_BYTES, pk, p->pk_bytes, NULL, 0);
    pk_decode(rho, t1, pk, p);
    /* The same transforms verify_core applies to a streamed key. */
    for (i = 0; i < p->k; i++) {
        for (j = 0; j < N; j++)
            t1[i].c[j] *= 1 << D_BITS;
        im->ntt(t1[i].c);
        memcpy(out->t1hat[i], t1[i].c, sizeof t1[i].c);
    }
    n = p->k * p->l;
    for (idx = 0; idx < n; idx += 4) {
        expand_a_4(im, a, rho, idx, p);
        for (t = 0; t < 4 && idx + t < n; t++)
            memcpy(out->ahat[idx + t], a[t].c, sizeof a[t].c);
    }
    return QCN_OK;
}

static const struct params *expanded_params(const struct qcn_mldsa_pk_expanded *pk)
{
    const struct params *p = pk ? params_get(pk->param) : NULL;
    if (p == NULL || p->k != pk->k || p->l != pk->l)
        return NULL;
    return p;
}

int qcn_mldsa_verify_expanded(const struct qcn_mldsa_pk_expanded *pk, const uint8_t *msg,
                              size_t msglen, const uint8_t *ctx, size_t ctxlen, const uint8_t *sig,
                              size_t siglen)
{
    const struct params *p = expanded_params(pk);
    uint8_t mu[QCN_MLDSA_MU_BYTES];
    struct prefix pf;
    int rc;
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    rc = build_prefix(&pf, 1, 0, msg, msglen, ctx, ctxlen);
    if (rc != QCN_OK)
        return rc;
    compute_mu(mu, pk->tr, pf.b, pf.len, msg, msglen);
    return verify_core(p, NULL, (const int32_t(*)[N])pk->ahat, (const int32_t(*)[N])pk->t1hat, mu,
                       sig, siglen);
}

int qcn_mldsa_verify_internal_expanded(const struct qcn_mldsa_pk_expanded *pk,
                                       const uint8_t *mprime, size_t mprimelen, const uint8_t *sig,
                                       size_t siglen)
{
    const struct params *p = expanded_params(pk);
    uint8_t mu[QCN_MLDSA_MU_BYTES];
    if (p == NULL)
        return QCN_ERR_BAD_PARAM_SET;
    compute_mu(mu, pk->tr, NULL, 0, mprime, mprimelen);
    return verify_core(p, NULL, (const int32_t(*)[N])pk->ahat, (const int32_t(*)[N])pk->t1hat, mu,
                       sig, siglen);
}

/* ---- decode/encode round trips (fuzz targets, tests) --------------------- */

int qcn_mldsa_pk_reencode(int param, uint8_t *out, const uint8_t *pk, size_t pklen)
{
    const struct params *p = params_get(param);
    uint8_t rho[QCN_MLDSA_RHO_BYTES];
    poly t1[MAX_K];
    if (p == NULL || pklen != p->pk_bytes)
        return -1;
    pk_decode(rho, t1, pk, p);
    pk_encode(out, rho, t1, p);
    return 0;
}

int qcn_mldsa_sig_reencode(int param, uint8_t *out, const uint8_t *sig, size_t siglen)
{
    const struct params *p = params_get(param);
    struct sig_parts s;
    if (p == NULL || siglen != p->sig_bytes || sig_decode(&s, sig, p) != 0)
        return -1;
    sig_encode(out, &s, p);
    return 0;
}

int qcn_mldsa_sk_reencode(int param, uint8_t *out, const uint8_t *sk, size_t sklen)
{
    const struct params *p = params_get(param);
    struct sk_parts s;
    int rc = -1;
    if (p == NULL || sklen != p->sk_bytes)
        return -1;
    if (sk_decode(&s, sk, p) == 0) {
        sk_encode(out, &s, p);
        rc = 0;
    }
    qcn_wipe(&s, sizeof s);
    return rc;
}
