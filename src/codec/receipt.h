/* receipt.h - transaction receipts (EIP-658 status form, EIP-2718 typed).
 *
 *   receipt = 0x51 || RLP([status, cumulative_gas_used, logs_bloom, logs])
 *   log     = [address, [topic, ...], data]
 *   receipts root = MPT root over RLP(index) -> receipt (as Ethereum)
 *   stored list   = RLP([receipt_as_string, ...]) per block
 *
 * A receipt owns its logs (heap). docs/protocol.md §6 is the normative text. */
#ifndef QCN_CODEC_RECEIPT_H
#define QCN_CODEC_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/block.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_LOG_MAX_TOPICS 4
#define QCN_RECEIPT_MAX_LOGS 1024u
#define QCN_LOG_MAX_DATA (1024u * 1024u)
#define QCN_RECEIPT_MAX_BYTES (8u * 1024u * 1024u)

struct qcn_log {
    uint8_t address[QCN_ADDRESS_BYTES];
    uint32_t ntopics;
    uint8_t topics[QCN_LOG_MAX_TOPICS][QCN_HASH_BYTES];
    uint8_t *data; /* owned */
    size_t data_len;
};

struct qcn_receipt {
    uint8_t status; /* 1 success, 0 failure */
    uint64_t cumulative_gas;
    uint8_t bloom[QCN_BLOOM_BYTES];
    uint32_t nlogs;
    struct qcn_log *logs; /* owned array */
    /* Not encoded (derivable): this transaction's own gas and price. */
    uint64_t gas_used;
    uint64_t effective_gas_price;
};

/* Appends r's envelope to b. QCN_OK, or QCN_ERR_TOO_LARGE / a codec error
 * when r breaks a cap (b's contents are then unspecified: reset it). */
QCN_MUST_CHECK int qcn_receipt_encode(struct qcn_buf *b, const struct qcn_receipt *r);
/* Strict decode into *out, which then owns its logs (qcn_receipt_clear
 * frees them); gas_used and effective_gas_price are left 0. On failure *out
 * is cleared and owns nothing. Thread-safe (touches only its arguments). */
QCN_MUST_CHECK int qcn_receipt_decode(struct qcn_receipt *out, struct qcn_view in);
/* Appends a log (copies data) and folds it into the bloom. */
QCN_MUST_CHECK int qcn_receipt_add_log(struct qcn_receipt *r, const uint8_t addr[QCN_ADDRESS_BYTES],
                                       const uint8_t (*topics)[QCN_HASH_BYTES], uint32_t ntopics,
                                       const uint8_t *data, size_t len);
/* Frees r's logs and zeroes r; safe on a zeroed or cleared receipt. */
void qcn_receipt_clear(struct qcn_receipt *r);

/* A block's receipts as stored: RLP list of receipt encodings (strings). */
QCN_MUST_CHECK int qcn_receipts_encode(struct qcn_buf *b, const struct qcn_receipt *rs, size_t n);
/* Decodes into a new array *out of *n receipts (free each, then the array). */
QCN_MUST_CHECK int qcn_receipts_decode(struct qcn_receipt **out, size_t *n, struct qcn_view in);

#endif
