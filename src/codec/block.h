/* block.h - block headers and blocks.
 *
 *   header = RLP([parent_hash, height, timestamp, proposer, state_root,
 *                 transactions_root, receipts_root, logs_bloom, gas_limit,
 *                 gas_used, base_fee, mix, extra, commit])
 *   block hash = Keccak-256(header)
 *   block      = RLP([header, [tx_envelope, ...]])     each envelope an RLP string
 *   body       = RLP([tx_envelope, ...])               (the store keeps it apart)
 *
 * parent_hash, state_root, transactions_root, receipts_root, mix: 32 bytes;
 * proposer: 20 bytes; logs_bloom: 256 bytes; height, timestamp (seconds),
 * gas_limit, gas_used, base_fee: RLP integers of at most 8 bytes; extra: at most
 * QCN_HEADER_MAX_EXTRA bytes; commit: the previous block's commit certificate
 * (opaque to this layer, consensus-defined), at most QCN_HEADER_MAX_COMMIT.
 * docs/protocol.md §5 is the normative text. */
#ifndef QCN_CODEC_BLOCK_H
#define QCN_CODEC_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_BLOOM_BYTES 256
#define QCN_HEADER_MAX_EXTRA 64u
#define QCN_HEADER_MAX_COMMIT (1024u * 1024u)
#define QCN_HEADER_MAX_BYTES (QCN_HEADER_MAX_COMMIT + 4096u)
#define QCN_BLOCK_MAX_TXS 65536u
#define QCN_BLOCK_MAX_BYTES (256u * 1024u * 1024u)
/* Consensus cap on the sum of a block's envelope sizes (chain/chain.h): gas
 * alone does not bound bytes (zero data bytes cost 4 gas), and a block must
 * fit one store record (the store caps values at 64 MiB). */
#define QCN_BLOCK_MAX_TX_BYTES (48u * 1024u * 1024u)

struct qcn_header {
    uint8_t parent_hash[QCN_HASH_BYTES];
    uint64_t height;
    uint64_t timestamp;
    uint8_t proposer[QCN_ADDRESS_BYTES];
    uint8_t state_root[QCN_HASH_BYTES];
    uint8_t tx_root[QCN_HASH_BYTES];
    uint8_t receipts_root[QCN_HASH_BYTES];
    uint8_t bloom[QCN_BLOOM_BYTES];
    uint64_t gas_limit;
    uint64_t gas_used;
    uint64_t base_fee;
    uint8_t mix[QCN_HASH_BYTES];
    size_t extra_len;
    uint8_t extra[QCN_HEADER_MAX_EXTRA];
    /* commit certificate: owned heap copy (NULL when empty) */
    uint8_t *commit;
    size_t commit_len;
};

struct qcn_block {
    struct qcn_header header;
    uint8_t hash[QCN_HASH_BYTES]; /* Keccak-256 of the encoded header */
    size_t ntx;
    struct qcn_tx **txs; /* each holds one reference */
};

/* Header. Encode appends; decode is strict (canonical RLP, exact sizes, caps)
 * and gives the header its own copy of commit. QCN_ERR_CODEC, QCN_ERR_TOO_LARGE. */
QCN_MUST_CHECK int qcn_header_encode(struct qcn_buf *b, const struct qcn_header *h);
QCN_MUST_CHECK int qcn_header_decode(struct qcn_header *out, struct qcn_view in);
/* Block hash of a header (encodes it; QCN_ERR_NOMEM only). */
QCN_MUST_CHECK int qcn_header_hash(uint8_t out[QCN_HASH_BYTES], const struct qcn_header *h);
/* Deep copy (commit duplicated). */
QCN_MUST_CHECK int qcn_header_copy(struct qcn_header *dst, const struct qcn_header *src);
/* Frees commit and zeroes the header. */
void qcn_header_clear(struct qcn_header *h);
/* Sets the commit certificate (copied). */
QCN_MUST_CHECK int qcn_header_set_commit(struct qcn_header *h, const uint8_t *p, size_t len);

/* Block. Decode is strict; every transaction is decoded as by qcn_tx_decode
 * (a bad one fails the block with that transaction's error). The block's hash
 * field is filled. qcn_block_clear drops the transaction references. */
QCN_MUST_CHECK int qcn_block_encode(struct qcn_buf *b, const struct qcn_block *blk);
QCN_MUST_CHECK int qcn_block_decode(struct qcn_block *out, struct qcn_view in);
/* Body only: RLP list of envelopes. */
QCN_MUST_CHECK int qcn_block_body_encode(struct qcn_buf *b, struct qcn_tx *const *txs, size_t ntx);
/* Decodes a body into a block whose header is already set. */
QCN_MUST_CHECK int qcn_block_body_decode(struct qcn_block *blk, struct qcn_view in);
void qcn_block_clear(struct qcn_block *blk);

/* Logs bloom (Yellow Paper §4.3.1): add the 3 bits of Keccak-256(item). */
void qcn_bloom_add(uint8_t bloom[QCN_BLOOM_BYTES], const uint8_t *item, size_t len);

#endif
