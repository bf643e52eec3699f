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

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int qcn_hex_decode(uint8_t *out, size_t cap, size_t *outlen, const char *hex, size_t hexlen)
{
    size_t i, n;

    *outlen = 0;
    if (hexlen >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        hexlen -= 2;
    }
    if (hexlen % 2 != 0)
        return QCN_ERR_BAD_HEX;
    n = hexlen / 2;
    if (n > cap)
        return QCN_ERR_TOO_LARGE;
    for (i = 0; i < n; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            memset(out, 0, cap);
            return QCN_ERR_BAD_HEX;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = n;
    return QCN_OK;
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
