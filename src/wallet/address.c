/* address.c - EIP-55 checksummed addresses (address.h). */
#include "wallet/address.h"

#include <string.h>

#include "crypto/keccak.h"
#include "util/hex.h"

/* EIP-55: hash the lower-case hex text, upper-case letter i iff hash nibble i >= 8. */
static void checksum_case(char digits[2 * QCN_ADDRESS_BYTES])
{
    uint8_t h[QCN_KECCAK256_BYTES];
    size_t i;

    qcn_keccak256(h, (const uint8_t *)digits, 2 * QCN_ADDRESS_BYTES);
    for (i = 0; i < 2 * QCN_ADDRESS_BYTES; i++) {
        unsigned nib = (i % 2 == 0) ? (unsigned)(h[i / 2] >> 4) : (unsigned)(h[i / 2] & 0x0f);
        if (digits[i] >= 'a' && digits[i] <= 'f' && nib >= 8)
            digits[i] = (char)(digits[i] - 'a' + 'A');
    }
}

void qcn_address_to_text(char out[QCN_ADDRESS_TEXT_BYTES], const uint8_t addr[QCN_ADDRESS_BYTES])
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, addr, QCN_ADDRESS_BYTES);
    checksum_case(out + 2);
}

int qcn_address_from_text(uint8_t out[QCN_ADDRESS_BYTES], const char *text)
{
    char lower[2 * QCN_ADDRESS_BYTES + 1], want[2 * QCN_ADDRESS_BYTES];
    int has_lower = 0, has_upper = 0;
    size_t i;

    memset(out, 0, QCN_ADDRESS_BYTES);
    if (text == NULL || strlen(text) != 2 + 2 * QCN_ADDRESS_BYTES || text[0] != '0' ||
        (text[1] != 'x' && text[1] != 'X'))
        return QCN_ERR_BAD_HEX;
    for (i = 0; i < 2 * QCN_ADDRESS_BYTES; i++) {
        char c = text[2 + i];
        if (c >= 'a' && c <= 'f')
            has_lower = 1;
        else if (c >= 'A' && c <= 'F') {
            has_upper = 1;
            c = (char)(c - 'A' + 'a');
        } else if (c < '0' || c > '9')
            return QCN_ERR_BAD_HEX;
        lower[i] = c;
    }
    lower[2 * QCN_ADDRESS_BYTES] = '\0';
    if (has_lower && has_upper) {
        memcpy(want, lower, sizeof want);
        checksum_case(want);
        if (memcmp(want, text + 2, sizeof want) != 0)
            return QCN_ERR_ADDRESS_CHECKSUM;
    }
    return qcn_hex_decode_exact(out, QCN_ADDRESS_BYTES, lower);
}
