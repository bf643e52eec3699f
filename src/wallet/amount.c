/* amount.c - exact decimal amounts over 256-bit integers (amount.h). */
#include "wallet/amount.h"

#include <string.h>

/* r = r * 10 + digit, reporting overflow. */
static int mul10_add(struct qcn_u256 *r, unsigned digit)
{
    struct qcn_u256 d = qcn_u256_from_u64(digit);
    if (qcn_u256_mul_u64(r, r, 10))
        return QCN_ERR_OVERFLOW;
    if (qcn_u256_add(r, r, &d))
        return QCN_ERR_OVERFLOW;
    return QCN_OK;
}

/* q = a / 10, returns a % 10 (schoolbook division, most significant limb first). */
static unsigned div10(struct qcn_u256 *q, const struct qcn_u256 *a)
{
    __extension__ typedef unsigned __int128 u128;
    u128 rem = 0;
    int i;
    for (i = 3; i >= 0; i--) {
        u128 cur = (rem << 64) | a->w[i];
        q->w[i] = (uint64_t)(cur / 10);
        rem = cur % 10;
    }
    return (unsigned)rem;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int qcn_amount_parse(struct qcn_u256 *out, const char *text)
{
    struct qcn_u256 v = qcn_u256_from_u64(0);
    size_t len, i = 0, frac = 0;
    int err;

    *out = v;
    if (text == NULL)
        return QCN_ERR_AMOUNT;
    len = strnlen(text, QCN_AMOUNT_MAX_CHARS + 1);
    if (len == 0 || len > QCN_AMOUNT_MAX_CHARS || !is_digit(text[0]))
        return QCN_ERR_AMOUNT;
    for (; i < len && is_digit(text[i]); i++)
        if ((err = mul10_add(&v, (unsigned)(text[i] - '0'))) != QCN_OK)
            return err;
    if (i < len) {
        if (text[i] != '.' || i + 1 == len)
            return QCN_ERR_AMOUNT;
        for (i++; i < len; i++, frac++) {
            if (!is_digit(text[i]) || frac == QCN_AMOUNT_DECIMALS)
                return QCN_ERR_AMOUNT;
            if ((err = mul10_add(&v, (unsigned)(text[i] - '0'))) != QCN_OK)
                return err;
        }
    }
    for (; frac < QCN_AMOUNT_DECIMALS; frac++)
        if ((err = mul10_add(&v, 0)) != QCN_OK)
            return err;
    *out = v;
    return QCN_OK;
}

int qcn_u256_from_hex(struct qcn_u256 *out, const char *hex)
{
    struct qcn_u256 v = qcn_u256_from_u64(0);
    size_t i, len;

    *out = v;
    if (hex == NULL || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X'))
        return QCN_ERR_BAD_HEX;
    len = strnlen(hex, QCN_AMOUNT_MAX_CHARS + 1);
    if (len <= 2 || len > QCN_AMOUNT_MAX_CHARS)
        return QCN_ERR_BAD_HEX;
    for (i = 2; i < len; i++) {
        char c = hex[i];
        unsigned d;
        if (is_digit(c))
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return QCN_ERR_BAD_HEX;
        if (v.w[3] >> 60)
            return QCN_ERR_OVERFLOW;
        v.w[3] = v.w[3] << 4 | v.w[2] >> 60;
        v.w[2] = v.w[2] << 4 | v.w[1] >> 60;
        v.w[1] = v.w[1] << 4 | v.w[0] >> 60;
        v.w[0] = v.w[0] << 4 | d;
    }
    *out = v;
    return QCN_OK;
}

int qcn_amount_parse_wei(struct qcn_u256 *out, const char *text)
{
    struct qcn_u256 v = qcn_u256_from_u64(0);
    size_t len, i;
    int err;

    *out = v;
    if (text == NULL)
        return QCN_ERR_AMOUNT;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        err = qcn_u256_from_hex(out, text);
        return err == QCN_ERR_BAD_HEX ? QCN_ERR_AMOUNT : err;
    }
    len = strnlen(text, QCN_AMOUNT_MAX_CHARS + 1);
    if (len == 0 || len > QCN_AMOUNT_MAX_CHARS)
        return QCN_ERR_AMOUNT;
    for (i = 0; i < len; i++) {
        if (!is_digit(text[i]))
            return QCN_ERR_AMOUNT;
        if ((err = mul10_add(&v, (unsigned)(text[i] - '0'))) != QCN_OK)
            return err;
    }
    *out = v;
    return QCN_OK;
}

void qcn_u256_format_dec(char out[QCN_AMOUNT_TEXT_BYTES], const struct qcn_u256 *v)
{
    char rev[QCN_AMOUNT_TEXT_BYTES];
    struct qcn_u256 q = *v;
    size_t n = 0, i;

    do {
        rev[n++] = (char)('0' + div10(&q, &q));
    } while (!qcn_u256_is_zero(&q));
    for (i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    out[n] = '\0';
}

void qcn_amount_format(char out[QCN_AMOUNT_TEXT_BYTES], const struct qcn_u256 *wei)
{
    char dec[QCN_AMOUNT_TEXT_BYTES];
    size_t n, ip, o = 0, i, fl;

    qcn_u256_format_dec(dec, wei);
    n = strlen(dec);
    /* integer part: the digits above 10^18, or "0" */
    if (n > QCN_AMOUNT_DECIMALS) {
        ip = n - QCN_AMOUNT_DECIMALS;
        memcpy(out, dec, ip);
        o = ip;
    } else {
        ip = 0;
        out[o++] = '0';
    }
    /* fraction: left-padded to 18 digits, trailing zeros dropped */
    {
        char frac[QCN_AMOUNT_DECIMALS];
        size_t have = n - ip;
        memset(frac, '0', sizeof frac);
        memcpy(frac + (QCN_AMOUNT_DECIMALS - have), dec + ip, have);
        fl = QCN_AMOUNT_DECIMALS;
        while (fl > 0 && frac[fl - 1] == '0')
            fl--;
        if (fl > 0) {
            out[o++] = '.';
            for (i = 0; i < fl; i++)
                out[o++] = frac[i];
        }
    }
    out[o] = '\0';
}
