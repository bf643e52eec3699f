/* address.h - addresses as text: EIP-55 mixed-case checksum over our 20-byte
 * addresses (docs/wallet.md).
 *
 * The checksum is EIP-55's: Keccak-256 of the 40 lower-case hex digits (as
 * ASCII); digit i is written in upper case when it is a letter and nibble i of
 * that hash is >= 8. Parsing accepts an all-lower-case or all-upper-case
 * address as is (no checksum to check) and requires a mixed-case one to carry
 * the right checksum. Pure functions, thread-safe. */
#ifndef QCN_WALLET_ADDRESS_H
#define QCN_WALLET_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "util/err.h"

/* "0x" + 40 digits + NUL */
#define QCN_ADDRESS_TEXT_BYTES (2 + 2 * QCN_ADDRESS_BYTES + 1)

/* Writes the checksummed form of addr ("0x" + 40 mixed-case digits) to out. */
void qcn_address_to_text(char out[QCN_ADDRESS_TEXT_BYTES], const uint8_t addr[QCN_ADDRESS_BYTES]);

/* Parses "0x" + 40 hex digits (the prefix is required). QCN_ERR_BAD_HEX for
 * anything that is not exactly that, QCN_ERR_ADDRESS_CHECKSUM for a mixed-case
 * address whose case does not match its checksum. out is zeroed on failure. */
QCN_MUST_CHECK int qcn_address_from_text(uint8_t out[QCN_ADDRESS_BYTES], const char *text);

#endif
