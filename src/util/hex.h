/* hex.h - hex encoding and strict decoding. */
#ifndef QCN_UTIL_HEX_H
#define QCN_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Writes 2*len lower-case hex digits and a NUL to out, which the caller
 * provides with room for 2*len+1 bytes. Returns out. Thread-safe. */
char *qcn_hex_encode(char *out, const uint8_t *in, size_t len);

/* The value 0-15 of one hex digit (0-9, a-f, A-F), or -1 for any other
 * character. No branch or table index depends on c, so it may decode secret
 * keys and seeds. Pure; thread-safe. */
int qcn_hex_nibble(char c);

/* Decodes hex (an optional "0x"/"0X" prefix is skipped; upper or lower case)
 * into out, which holds cap bytes. *outlen gets the decoded length.
 * QCN_ERR_BAD_HEX for an odd length or a non-hex digit, QCN_ERR_TOO_LARGE if
 * it does not fit. out (all cap bytes) is zeroed and *outlen is 0 on failure.
 * Thread-safe (touches only its arguments). */
QCN_MUST_CHECK int qcn_hex_decode(uint8_t *out, size_t cap, size_t *outlen, const char *hex,
                                  size_t hexlen);

/* Decodes exactly n bytes from the NUL-terminated hex; anything else is
 * QCN_ERR_BAD_HEX, with out zeroed. */
QCN_MUST_CHECK int qcn_hex_decode_exact(uint8_t *out, size_t n, const char *hex);

#endif
