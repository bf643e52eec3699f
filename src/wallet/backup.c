/* backup.c - bech32m paper backups (backup.h). The checksum follows BIP-173
 * (polymod, hrp expansion, charset) with BIP-350's bech32m constant. */
#include "wallet/backup.h"

#include <string.h>

#include "util/mem.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
#define BECH32M_CONST 0x2bc830a3u
#define HRP_LEN (sizeof QCN_BACKUP_HRP - 1)
#define DATA_CHARS 53 /* ceil(33 * 8 / 5) */
#define CHECK_CHARS 6

/* BIP-173 polymod over 5-bit values. */
static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau, 0x3d4233ddu,
                                    0x2a1462b3u};
    uint32_t top = chk >> 25;
    int i;
    chk = ((chk & 0x1ffffffu) << 5) ^ v;
    for (i = 0; i < 5; i++)
        chk ^= gen[i] & (0u - ((top >> i) & 1u)); /* no branch on seed-derived bits */
    return chk;
}

static uint32_t polymod_hrp(void)
{
    uint32_t chk = 1;
    size_t i;
    for (i = 0; i < HRP_LEN; i++)
        chk = polymod_step(chk, (uint8_t)((uint8_t)QCN_BACKUP_HRP[i] >> 5));
    chk = polymod_step(chk, 0);
    for (i = 0; i < HRP_LEN; i++)
        chk = polymod_step(chk, (uint8_t)((uint8_t)QCN_BACKUP_HRP[i] & 31u));
    return chk;
}

/* charset[v] without a secret-indexed table load (cache timing). */
static char ct_char(uint8_t v)
{
    uint32_t out = 0, j;
    for (j = 0; j < 32; j++) {
        uint32_t eq = ((j ^ v) - 1u) >> 31;
        out |= (uint32_t)(uint8_t)charset[j] & (0u - eq);
    }
    return (char)out;
}

int qcn_backup_encode(char out[QCN_BACKUP_TEXT_BYTES], uint8_t scheme,
                      const uint8_t seed[QCN_MLDSA_SEED_BYTES])
{
    uint8_t payload[QCN_BACKUP_PAYLOAD_BYTES], d[DATA_CHARS + CHECK_CHARS];
    char compact[QCN_BACKUP_CHARS];
    uint32_t acc = 0, chk;
    unsigned bits = 0;
    size_t i, n = 0, o = 0;

    out[0] = '\0';
    if (scheme < 1 || scheme > 3)
        return QCN_ERR_INVALID_ARG;
    payload[0] = (uint8_t)(QCN_BACKUP_VERSION << 4 | scheme);
    memcpy(payload + 1, seed, QCN_MLDSA_SEED_BYTES);
    /* 8-bit bytes -> 5-bit groups, zero-padded at the end (BIP-173 convertbits) */
    for (i = 0; i < sizeof payload; i++) {
        acc = (acc << 8 | payload[i]) & 0xfffu;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            d[n++] = (uint8_t)((acc >> bits) & 31u);
        }
    }
    if (bits > 0)
        d[n++] = (uint8_t)((acc << (5 - bits)) & 31u);
    chk = polymod_hrp();
    for (i = 0; i < DATA_CHARS; i++)
        chk = polymod_step(chk, d[i]);
    for (i = 0; i < CHECK_CHARS; i++)
        chk = polymod_step(chk, 0);
    chk ^= BECH32M_CONST;
    for (i = 0; i < CHECK_CHARS; i++)
        d[DATA_CHARS + i] = (uint8_t)((chk >> (5 * (5 - i))) & 31u);
    memcpy(compact, QCN_BACKUP_HRP, HRP_LEN);
    compact[HRP_LEN] = '1';
    for (i = 0; i < DATA_CHARS + CHECK_CHARS; i++)
        compact[HRP_LEN + 1 + i] = ct_char(d[i]);
    for (i = 0; i < QCN_BACKUP_CHARS; i++) {
        if (i > 0 && i % 5 == 0)
            out[o++] = ' ';
        out[o++] = compact[i];
    }
    out[o] = '\0';
    qcn_wipe(payload, sizeof payload);
    qcn_wipe(d, sizeof d);
    qcn_wipe(compact, sizeof compact);
    return QCN_OK;
}

/* Index of lower-case c in the charset, or -1, scanning the whole table so
 * the time does not depend on the (secret) character. */
static int charset_index(char c)
{
    uint32_t found = 0, idx = 0, j;
    for (j = 0; j < 32; j++) {
        uint32_t eq = ((uint32_t)((uint8_t)charset[j] ^ (uint8_t)c) - 1u) >> 31;
        found |= eq;
        idx |= j & (0u - eq);
    }
    return found ? (int)idx : -1;
}

int qcn_backup_decode(uint8_t *scheme, uint8_t seed[QCN_MLDSA_SEED_BYTES], const char *text)
{
    char compact[QCN_BACKUP_CHARS];
    uint8_t d[DATA_CHARS + CHECK_CHARS], payload[QCN_BACKUP_PAYLOAD_BYTES];
    uint32_t chk, acc = 0;
    unsigned bits = 0;
    size_t i, n = 0, len, o = 0;
    int lower = 0, upper = 0, err = QCN_ERR_BACKUP_CHECKSUM;

    *scheme = 0;
    memset(seed, 0, QCN_MLDSA_SEED_BYTES);
    if (text == NULL)
        return QCN_ERR_BACKUP_CHECKSUM;
    len = strnlen(text, QCN_BACKUP_MAX_INPUT + 1);
    if (len > QCN_BACKUP_MAX_INPUT)
        return QCN_ERR_BACKUP_CHECKSUM;
    for (i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-')
            continue;
        if (n == QCN_BACKUP_CHARS)
            goto out; /* too long */
        if (c >= 'a' && c <= 'z')
            lower = 1;
        if (c >= 'A' && c <= 'Z') {
            upper = 1;
            c = (char)(c - 'A' + 'a');
        }
        compact[n++] = c;
    }
    /* BIP-173: mixed case is invalid; length and prefix are fixed here. */
    if (n != QCN_BACKUP_CHARS || (lower && upper) ||
        memcmp(compact, QCN_BACKUP_HRP, HRP_LEN) != 0 || compact[HRP_LEN] != '1')
        goto out;
    for (i = 0; i < DATA_CHARS + CHECK_CHARS; i++) {
        int v = charset_index(compact[HRP_LEN + 1 + i]);
        if (v < 0)
            goto out;
        d[i] = (uint8_t)v;
    }
    chk = polymod_hrp();
    for (i = 0; i < DATA_CHARS + CHECK_CHARS; i++)
        chk = polymod_step(chk, d[i]);
    if (chk != BECH32M_CONST)
        goto out;
    for (i = 0; i < DATA_CHARS; i++) {
        acc = (acc << 5 | d[i]) & 0xfffu;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            payload[o++] = (uint8_t)((acc >> bits) & 0xffu);
        }
    }
    /* 53 * 5 = 265 bits: one padding bit, which must be zero */
    if (o != sizeof payload || bits != 1 || (acc & 1u) != 0)
        goto out;
    if ((payload[0] >> 4) != QCN_BACKUP_VERSION || (payload[0] & 0x0f) < 1 ||
        (payload[0] & 0x0f) > 3) {
        err = QCN_ERR_UNSUPPORTED;
        goto out;
    }
    *scheme = (uint8_t)(payload[0] & 0x0f);
    memcpy(seed, payload + 1, QCN_MLDSA_SEED_BYTES);
    err = QCN_OK;
out:
    qcn_wipe(compact, sizeof compact);
    qcn_wipe(d, sizeof d);
    qcn_wipe(payload, sizeof payload);
    return err;
}
