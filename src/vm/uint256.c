/* uint256.c - the long 256-bit operations: division (Knuth, TAOCP vol. 2,
 * 4.3.1, Algorithm D, on 64-bit digits), modular add/mul with full-width
 * intermediates, exponentiation and the signed/byte-level helpers. */
#include "vm/uint256.h"

#include "util/hex.h"

#include <string.h>

#define MAX_LIMBS 8 /* a 512-bit dividend (MULMOD) */

static int trimmed_len(const uint64_t *a, int n)
{
    while (n > 0 && a[n - 1] == 0)
        n--;
    return n;
}

/* (hi:lo) / d for hi < d: one hardware division where there is one (the
 * 128-by-64 division in C is a libgcc call, twice, for quotient and
 * remainder). */
static inline uint64_t div_2by1(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__)
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
    *rem = r;
    return q;
#else
    qcn_u128 num = (qcn_u128)hi << 64 | lo;
    *rem = (uint64_t)(num % d);
    return (uint64_t)(num / d);
#endif
}

/* Division by an invariant normalised divisor with a precomputed
 * reciprocal (Moller and Granlund, "Improved division by invariant
 * integers", IEEE TC 2011, algorithms 2 and 4): two multiplications instead
 * of a hardware division per quotient digit. d has its top bit set. */
static inline uint64_t reciprocal_2by1(uint64_t d)
{
    uint64_t r;
    return div_2by1(~d, ~(uint64_t)0, d, &r);
}

static inline uint64_t udivrem_2by1(uint64_t u1, uint64_t u0, uint64_t d, uint64_t v, uint64_t *rem)
{
    qcn_u128 q = (qcn_u128)v * u1 + ((qcn_u128)u1 << 64 | u0);
    uint64_t q1 = (uint64_t)(q >> 64) + 1, q0 = (uint64_t)q;
    uint64_t r = u0 - q1 * d;
    if (r > q0) {
        q1--;
        r += d;
    }
    if (r >= d) {
        q1++;
        r -= d;
    }
    *rem = r;
    return q1;
}

/* q[0..m-n] = u / v, r[0..n) = u % v, where u has m limbs, v has n limbs,
 * v[n-1] != 0 and m >= n. q and r must not alias u or v. */
static void divrem(uint64_t *q, uint64_t *r, const uint64_t *u, int m, const uint64_t *v, int n)
{
    uint64_t un[MAX_LIMBS + 1], vn[QCN_U256_LIMBS], recip;
    int s, i, j;

    if (n == 1) {
        uint64_t rem = 0;
        for (i = m - 1; i >= 0; i--)
            q[i] = div_2by1(rem, u[i], v[0], &rem);
        r[0] = rem;
        return;
    }
    /* Normalise so the divisor's top bit is set: this bounds the quotient
     * estimate qhat to at most two too large (Theorem B). */
    s = __builtin_clzll(v[n - 1]);
    for (i = n - 1; i > 0; i--)
        vn[i] = s != 0 ? v[i] << s | v[i - 1] >> (64 - s) : v[i];
    vn[0] = v[0] << s;
    un[m] = s != 0 ? u[m - 1] >> (64 - s) : 0;
    for (i = m - 1; i > 0; i--)
        un[i] = s != 0 ? u[i] << s | u[i - 1] >> (64 - s) : u[i];
    un[0] = u[0] << s;

    recip = reciprocal_2by1(vn[n - 1]);
    for (j = m - n; j >= 0; j--) {
        uint64_t qd, rd, borrow = 0, carry = 0, t, b1, b2;
        int rhat_big = 0;

        /* qhat = min(floor(top two digits / v1), B - 1), then corrected
         * with the third digit (step D3). un[j+n] <= vn[n-1] always. */
        if (un[j + n] >= vn[n - 1]) {
            qd = UINT64_MAX;
            rhat_big = __builtin_add_overflow(un[j + n - 1], vn[n - 1], &rd);
        } else {
            qd = udivrem_2by1(un[j + n], un[j + n - 1], vn[n - 1], recip, &rd);
        }
        while (!rhat_big && (qcn_u128)qd * vn[n - 2] > ((qcn_u128)rd << 64 | un[j + n - 2])) {
            qd--;
            rhat_big = __builtin_add_overflow(rd, vn[n - 1], &rd);
        }
        for (i = 0; i < n; i++) {
            qcn_u128 p = (qcn_u128)qd * vn[i] + carry;
            uint64_t plo = (uint64_t)p;
            carry = (uint64_t)(p >> 64);
            t = un[i + j] - plo;
            b1 = un[i + j] < plo;
            b2 = t < borrow;
            un[i + j] = t - borrow;
            borrow = b1 + b2;
        }
        t = un[j + n] - carry;
        b1 = un[j + n] < carry;
        b2 = t < borrow;
        un[j + n] = t - borrow;
        if (b1 + b2 != 0) {
            /* qhat was one too large (probability ~2/2^64): add back. */
            uint64_t c = 0;
            qd--;
            for (i = 0; i < n; i++) {
                qcn_u128 sum = (qcn_u128)un[i + j] + vn[i] + c;
                un[i + j] = (uint64_t)sum;
                c = (uint64_t)(sum >> 64);
            }
            un[j + n] += c;
        }
        q[j] = qd;
    }
    for (i = 0; i < n; i++)
        r[i] = s != 0 ? un[i] >> s | un[i + 1] << (64 - s) : un[i];
}

/* rem = u mod v for a u of m <= 8 limbs. */
static void mod_wide(struct qcn_u256 *rem, const uint64_t *u, int m, const struct qcn_u256 *v)
{
    uint64_t q[MAX_LIMBS], r[QCN_U256_LIMBS] = {0, 0, 0, 0};
    int n = trimmed_len(v->w, QCN_U256_LIMBS);
    m = trimmed_len(u, m);
    if (n == 0) {
        memset(rem, 0, sizeof *rem);
        return;
    }
    if (m < n) {
        memset(rem, 0, sizeof *rem);
        memcpy(rem->w, u, (size_t)m * sizeof(uint64_t));
        return;
    }
    divrem(q, r, u, m, v->w, n);
    memcpy(rem->w, r, sizeof r);
}

void qcn_u256_divmod(struct qcn_u256 *q, struct qcn_u256 *rem, const struct qcn_u256 *a,
                     const struct qcn_u256 *b)
{
    uint64_t qq[QCN_U256_LIMBS] = {0, 0, 0, 0}, rr[QCN_U256_LIMBS] = {0, 0, 0, 0};
    int m = trimmed_len(a->w, QCN_U256_LIMBS), n = trimmed_len(b->w, QCN_U256_LIMBS);

    if (n == 0) {
        /* Division by zero is zero (Yellow Paper, DIV and MOD). */
    } else if (m < n || (m == n && qcn_u256_lt(a, b))) {
        memcpy(rr, a->w, sizeof rr);
    } else if ((b->w[n - 1] & (b->w[n - 1] - 1)) == 0 && trimmed_len(b->w, n - 1) == 0) {
        /* A power of two: contracts divide by 2^k to shift (sha1_divs). */
        unsigned k = (unsigned)(n - 1) * 64 + (unsigned)__builtin_ctzll(b->w[n - 1]);
        struct qcn_u256 t, mask = *b;
        qcn_u256_shr(&t, a, k);
        memcpy(qq, t.w, sizeof qq);
        (void)qcn_u256_sub(&mask, &mask, &(struct qcn_u256){{1, 0, 0, 0}});
        qcn_u256_and(&t, a, &mask);
        memcpy(rr, t.w, sizeof rr);
    } else if (m == 1) {
        qq[0] = a->w[0] / b->w[0];
        rr[0] = a->w[0] % b->w[0];
    } else {
        divrem(qq, rr, a->w, m, b->w, n);
    }
    if (q != NULL)
        memcpy(q->w, qq, sizeof qq);
    if (rem != NULL)
        memcpy(rem->w, rr, sizeof rr);
}

static int is_neg(const struct qcn_u256 *a)
{
    return (int)(a->w[3] >> 63);
}

void qcn_u256_sdiv(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b)
{
    struct qcn_u256 x = *a, y = *b, q;
    int na = is_neg(a), nb = is_neg(b);
    if (na)
        qcn_u256_neg(&x, &x);
    if (nb)
        qcn_u256_neg(&y, &y);
    qcn_u256_divmod(&q, NULL, &x, &y);
    /* -2^255 / -1 overflows back to -2^255, which the negation reproduces. */
    if (na != nb)
        qcn_u256_neg(&q, &q);
    *r = q;
}

void qcn_u256_smod(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b)
{
    struct qcn_u256 x = *a, y = *b, m;
    int na = is_neg(a);
    if (na)
        qcn_u256_neg(&x, &x);
    if (is_neg(b))
        qcn_u256_neg(&y, &y);
    qcn_u256_divmod(NULL, &m, &x, &y);
    /* The result takes the dividend's sign (Yellow Paper, SMOD). */
    if (na)
        qcn_u256_neg(&m, &m);
    *r = m;
}

void qcn_u256_addmod(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b,
                     const struct qcn_u256 *m)
{
    uint64_t wide[5];
    struct qcn_u256 s;
    unsigned carry;
    if (qcn_u256_is_zero(m)) {
        memset(r, 0, sizeof *r);
        return;
    }
    carry = qcn_u256_add(&s, a, b);
    if (qcn_u256_lt(a, m) && qcn_u256_lt(b, m)) {
        /* Both reduced (the usual case in field arithmetic): a + b < 2m,
         * so one conditional subtraction is enough. */
        if (carry || !qcn_u256_lt(&s, m))
            (void)qcn_u256_sub(&s, &s, m);
        *r = s;
        return;
    }
    memcpy(wide, s.w, sizeof s.w);
    wide[4] = carry;
    mod_wide(r, wide, 5, m);
}

void qcn_u256_mulmod(struct qcn_u256 *r, const struct qcn_u256 *a, const struct qcn_u256 *b,
                     const struct qcn_u256 *m)
{
    uint64_t wide[MAX_LIMBS] = {0};
    if (qcn_u256_is_zero(m)) {
        memset(r, 0, sizeof *r);
        return;
    }
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < QCN_U256_LIMBS; j++) {
            qcn_u128 p = (qcn_u128)a->w[i] * b->w[j] + wide[i + j] + carry;
            wide[i + j] = (uint64_t)p;
            carry = (uint64_t)(p >> 64);
        }
        wide[i + QCN_U256_LIMBS] = carry;
    }
    mod_wide(r, wide, MAX_LIMBS, m);
}

void qcn_u256_exp(struct qcn_u256 *r, const struct qcn_u256 *base, const struct qcn_u256 *exp)
{
    struct qcn_u256 acc = qcn_u256_from_u64(1), b = *base;
    unsigned bits = qcn_u256_bit_len(exp);
    for (unsigned i = 0; i < bits; i++) {
        if ((exp->w[i / 64] >> (i % 64)) & 1)
            qcn_u256_mul(&acc, &acc, &b);
        if (i + 1 < bits)
            qcn_u256_mul(&b, &b, &b);
    }
    *r = acc;
}

void qcn_u256_sar(struct qcn_u256 *r, const struct qcn_u256 *a, unsigned n)
{
    if (!is_neg(a)) {
        qcn_u256_shr(r, a, n);
        return;
    }
    /* For negative a, a >> n (arithmetic) == ~((~a) >> n (logical)). */
    struct qcn_u256 t;
    qcn_u256_not(&t, a);
    qcn_u256_shr(&t, &t, n);
    qcn_u256_not(r, &t);
}

void qcn_u256_signextend(struct qcn_u256 *r, const struct qcn_u256 *b, const struct qcn_u256 *x)
{
    unsigned bit, limb, off;
    uint64_t mask;
    struct qcn_u256 t = *x;
    if (!qcn_u256_fits_u64(b) || b->w[0] >= 31) {
        *r = t;
        return;
    }
    bit = (unsigned)b->w[0] * 8 + 7;
    limb = bit / 64;
    off = bit % 64;
    mask = off == 63 ? ~(uint64_t)0 : ((uint64_t)1 << (off + 1)) - 1;
    if ((t.w[limb] >> off) & 1) {
        t.w[limb] |= ~mask;
        for (unsigned i = limb + 1; i < QCN_U256_LIMBS; i++)
            t.w[i] = ~(uint64_t)0;
    } else {
        t.w[limb] &= mask;
        for (unsigned i = limb + 1; i < QCN_U256_LIMBS; i++)
            t.w[i] = 0;
    }
    *r = t;
}

void qcn_u256_byte(struct qcn_u256 *r, const struct qcn_u256 *i, const struct qcn_u256 *x)
{
    uint64_t v = 0;
    if (qcn_u256_fits_u64(i) && i->w[0] < 32) {
        unsigned pos = 31 - (unsigned)i->w[0]; /* byte index from the low end */
        v = (x->w[pos / 8] >> (8 * (pos % 8))) & 0xff;
    }
    *r = qcn_u256_from_u64(v);
}

void qcn_u256_from_be_n(struct qcn_u256 *r, const uint8_t *in, size_t len)
{
    uint8_t buf[QCN_U256_BYTES] = {0};
    if (len > QCN_U256_BYTES) {
        in += len - QCN_U256_BYTES;
        len = QCN_U256_BYTES;
    }
    if (len > 0)
        memcpy(buf + QCN_U256_BYTES - len, in, len);
    qcn_u256_from_be32(r, buf);
}

int qcn_u256_parse(struct qcn_u256 *r, const char *s)
{
    struct qcn_u256 v = qcn_u256_from_u64(0);
    memset(r, 0, sizeof *r);
    if (s == NULL || *s == '\0')
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (*s == '\0')
            return 0; /* "0x" is zero in the fixtures */
        for (; *s != '\0'; s++) {
            int d = qcn_hex_nibble(*s);
            if (d < 0 || (v.w[3] >> 60) != 0)
                return -1;
            qcn_u256_shl(&v, &v, 4);
            v.w[0] |= (uint64_t)d;
        }
    } else {
        struct qcn_u256 ten = qcn_u256_from_u64(10);
        for (; *s != '\0'; s++) {
            struct qcn_u256 t, d;
            if (*s < '0' || *s > '9')
                return -1;
            /* Conservative: refuses a few decimal values just below 2^256
             * rather than risk a silent wrap (the fixtures use hex). */
            if (v.w[3] >= UINT64_MAX / 10)
                return -1;
            qcn_u256_mul(&t, &v, &ten);
            d = qcn_u256_from_u64((uint64_t)(*s - '0'));
            if (qcn_u256_add(&t, &t, &d) != 0)
                return -1;
            v = t;
        }
    }
    *r = v;
    return 0;
}
