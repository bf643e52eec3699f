/* amount.h - exact coin amounts as text (docs/wallet.md "Amounts").
 *
 * One coin is 10^18 wei, as ether. Amounts are unsigned 256-bit integers of
 * wei; text is parsed and printed with integer arithmetic only (no floating
 * point anywhere), so "1.5" is exactly 1500000000000000000 wei.
 *
 * Accepted coin text: one or more decimal digits, optionally followed by '.'
 * and one to 18 digits ("1", "1.5", "0.000000000000000001"). Refused, with
 * QCN_ERR_AMOUNT: empty text, a sign, spaces, an exponent ("1e18"), hex, a
 * leading or trailing '.', more than 18 decimals, more than
 * QCN_AMOUNT_MAX_CHARS characters; QCN_ERR_OVERFLOW past 2^256 - 1 wei.
 * Pure functions, thread-safe. */
#ifndef QCN_WALLET_AMOUNT_H
#define QCN_WALLET_AMOUNT_H

#include <stddef.h>

#include "codec/u256.h"
#include "util/err.h"

#define QCN_AMOUNT_DECIMALS 18
/* 2^256 - 1 has 78 digits; a decimal point and 18 more digits fit in 100. */
#define QCN_AMOUNT_MAX_CHARS 100
/* Room for any formatted amount: 78 digits, '.', NUL. */
#define QCN_AMOUNT_TEXT_BYTES 82

/* Coins ("1.5") -> wei. out is zero on failure. */
QCN_MUST_CHECK int qcn_amount_parse(struct qcn_u256 *out, const char *text);

/* Wei as a decimal integer ("1500000000000000000") or 0x-hex ("0x14d1120d7b160000"). */
QCN_MUST_CHECK int qcn_amount_parse_wei(struct qcn_u256 *out, const char *text);

/* Wei -> coins with no trailing zeros ("1.5", "0", "0.000000000000000001").
 * out holds at least QCN_AMOUNT_TEXT_BYTES. */
void qcn_amount_format(char out[QCN_AMOUNT_TEXT_BYTES], const struct qcn_u256 *wei);

/* Wei -> decimal integer text. out holds at least QCN_AMOUNT_TEXT_BYTES. */
void qcn_u256_format_dec(char out[QCN_AMOUNT_TEXT_BYTES], const struct qcn_u256 *v);

/* Big-endian bytes of any length up to 32 -> u256 (QCN_ERR_OVERFLOW beyond). */
QCN_MUST_CHECK int qcn_u256_from_hex(struct qcn_u256 *out, const char *hex);

#endif
