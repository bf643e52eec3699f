/* backup.h - the paper backup of a key: its scheme and 32-byte seed as
 * bech32m text (BIP-350's checksum over BIP-173's format), docs/keystore.md
 * "Paper backup".
 *
 *   payload = (version << 4 | scheme) || seed        33 bytes, version 1
 *   text    = "qcnseed" "1" base32(payload) checksum  67 characters
 *
 * The bech32m checksum is a BCH code that detects every error touching up to
 * four characters in strings of this length (BIP-173 "Checksum design"), so
 * any single mistyped character is caught with certainty, not just with high
 * probability. Printed in groups of five characters for copying by hand;
 * decoding ignores spaces, tabs, newlines and '-', and accepts all lower or
 * all upper case. Pure functions, thread-safe; secrets on the stack are wiped. */
#ifndef QCN_WALLET_BACKUP_H
#define QCN_WALLET_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mldsa.h"
#include "util/err.h"

#define QCN_BACKUP_HRP "qcnseed"
#define QCN_BACKUP_VERSION 1
#define QCN_BACKUP_PAYLOAD_BYTES (1 + QCN_MLDSA_SEED_BYTES)
/* hrp(7) + '1' + 53 data characters + 6 checksum characters */
#define QCN_BACKUP_CHARS 67
/* grouped: the compact text with a space after every five characters */
#define QCN_BACKUP_TEXT_BYTES (QCN_BACKUP_CHARS + QCN_BACKUP_CHARS / 5 + 2)
/* decoding refuses longer input before looking at it */
#define QCN_BACKUP_MAX_INPUT 1024

/* Writes the grouped backup text of (scheme, seed) to out (NUL-terminated).
 * QCN_ERR_INVALID_ARG for a scheme outside 1..3. */
QCN_MUST_CHECK int qcn_backup_encode(char out[QCN_BACKUP_TEXT_BYTES], uint8_t scheme,
                                     const uint8_t seed[QCN_MLDSA_SEED_BYTES]);

/* Parses backup text. QCN_ERR_BACKUP_CHECKSUM for any text that is not a
 * valid backup (wrong characters, length, prefix, mixed case or checksum),
 * QCN_ERR_UNSUPPORTED for a valid backup of an unknown version or scheme.
 * seed and scheme are zeroed on failure. */
QCN_MUST_CHECK int qcn_backup_decode(uint8_t *scheme, uint8_t seed[QCN_MLDSA_SEED_BYTES],
                                     const char *text);

#endif
