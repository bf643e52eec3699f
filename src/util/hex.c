#include "util/hex.h"

#include <string.h>

static const char digits[] = "0123456789abcdef";

char *qcn_hex_encode(char *out, const uint8_t *in, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

/* Range checks by sign instead of comparisons, so that decoding a secret
 * seed does not branch on its digits: for v in [-256, 255], (v | (hi - v))
 * >> 8 is 0 exactly when 0 <= v <= hi and -1 otherwise (both operands are
 * within a byte's distance of 0, and OR-ing in a negative one stays
 * negative; gcc and clang shift signed values arithmetically). */
int qcn_hex_nibble(char c)
{
    int x = (unsigned char)c, lower = x | 0x20; /* 'A'-'F' -> 'a'-'f' */
    int d = x - '0', a = lower - 'a';
    int dmask = ~((d | (9 - d)) >> 8), amask = ~((a | (5 - a)) >> 8);
    return (d & dmask) | ((a + 10) & amask) | ~(dmask | amask);
}

int qcn_hex_decode(uint8_t *out, size_t cap, size_t *outlen, const char *hex, size_t hexlen)
{
    size_t i, n;
    int err = QCN_ERR_BAD_HEX;

    *outlen = 0;
    if (hexlen >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        hexlen -= 2;
    }
    if (hexlen % 2 != 0)
        goto fail;
    n = hexlen / 2;
    if (n > cap) {
        err = QCN_ERR_TOO_LARGE;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        int hi = qcn_hex_nibble(hex[2 * i]), lo = qcn_hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            goto fail;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = n;
    return QCN_OK;
fail:
    if (cap > 0)
        memset(out, 0, cap);
    return err;
}

int qcn_hex_decode_exact(uint8_t *out, size_t n, const char *hex)
{
    size_t got;
    int err = qcn_hex_decode(out, n, &got, hex, strlen(hex));
    if (err == QCN_ERR_TOO_LARGE)
        err = QCN_ERR_BAD_HEX;
    if (err == QCN_OK && got != n) {
        memset(out, 0, n);
        err = QCN_ERR_BAD_HEX;
    }
    return err;
}
