/* rlp.h - Recursive Length Prefix (Ethereum Yellow Paper, Appendix B), strict.
 *
 * Decoding accepts only the one canonical encoding of each value: a single
 * byte below 0x80 must stand for itself, a length below 56 must use the short
 * form, a long-form length has no leading zero byte, and an item must fill its
 * input exactly. Integers have no leading zero bytes (zero is the empty string).
 * Encoding always writes canonical RLP.
 *
 * Decoded items are views into the caller's input: they live as long as it. */
#ifndef QCN_CODEC_RLP_H
#define QCN_CODEC_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

/* Deepest list nesting the decoder helpers accept. */
#define QCN_RLP_MAX_DEPTH 64

struct qcn_rlp_item {
    int is_list;
    struct qcn_view payload; /* string bytes, or the concatenated list items */
    struct qcn_view raw;     /* the whole item including its header */
};

/* Decodes exactly one item filling all of in. QCN_ERR_RLP (truncated or bad
 * header), QCN_ERR_RLP_NONCANONICAL, QCN_ERR_TRAILING. */
QCN_MUST_CHECK int qcn_rlp_decode(struct qcn_rlp_item *out, struct qcn_view in);

/* Iterates over a list's items: init with the list item, then call next until
 * it returns QCN_ERR_NOT_FOUND (end). Any other error is a malformed list. */
struct qcn_rlp_iter {
    struct qcn_view rest;
};
void qcn_rlp_iter_init(struct qcn_rlp_iter *it, const struct qcn_rlp_item *list);
QCN_MUST_CHECK int qcn_rlp_iter_next(struct qcn_rlp_iter *it, struct qcn_rlp_item *out);

/* Splits a list into exactly n items (QCN_ERR_RLP if the count differs, or
 * QCN_ERR_RLP_TYPE if it is not a list). */
QCN_MUST_CHECK int qcn_rlp_split(struct qcn_rlp_item *items, size_t n,
                                 const struct qcn_rlp_item *list);
/* Counts a list's items; QCN_ERR_RLP if malformed. */
QCN_MUST_CHECK int qcn_rlp_count(size_t *count, const struct qcn_rlp_item *list);

/* Typed readers: each requires a string item and canonical integers. */
QCN_MUST_CHECK int qcn_rlp_get_u64(uint64_t *out, const struct qcn_rlp_item *it);
/* Big-endian unsigned integer of at most n bytes, right-aligned into out[n]. */
QCN_MUST_CHECK int qcn_rlp_get_uint_be(uint8_t *out, size_t n, const struct qcn_rlp_item *it);
/* A byte string of exactly n bytes. */
QCN_MUST_CHECK int qcn_rlp_get_fixed(uint8_t *out, size_t n, const struct qcn_rlp_item *it);
/* A byte string of at most max bytes (view into the input). */
QCN_MUST_CHECK int qcn_rlp_get_bytes(struct qcn_view *out, size_t max,
                                     const struct qcn_rlp_item *it);

/* Encoding into a capped buffer. Lists: remember qcn_rlp_list_begin's return
 * (an offset) and pass it to qcn_rlp_list_end, which inserts the header. */
QCN_MUST_CHECK int qcn_rlp_put_bytes(struct qcn_buf *b, const uint8_t *p, size_t len);
QCN_MUST_CHECK int qcn_rlp_put_u64(struct qcn_buf *b, uint64_t v);
/* Big-endian integer of n bytes; leading zeros are stripped. */
QCN_MUST_CHECK int qcn_rlp_put_uint_be(struct qcn_buf *b, const uint8_t *p, size_t n);
/* Appends already-encoded RLP as is. */
QCN_MUST_CHECK int qcn_rlp_put_raw(struct qcn_buf *b, const uint8_t *p, size_t len);
size_t qcn_rlp_list_begin(const struct qcn_buf *b);
QCN_MUST_CHECK int qcn_rlp_list_end(struct qcn_buf *b, size_t begin);

/* Size of the header for a payload of len bytes (1..9). */
size_t qcn_rlp_header_len(size_t len);

#endif
