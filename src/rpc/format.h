/* format.h - QCN ledger objects as Ethereum JSON-RPC objects (execution-apis
 * shapes; see format.c for the fields with no Ethereum counterpart).
 * Every function returns a new reference, or NULL on allocation failure.
 * Pure, thread-safe. */
#ifndef QCN_RPC_FORMAT_H
#define QCN_RPC_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/block.h"
#include "codec/receipt.h"
#include "codec/tx.h"
#include "rpc/params.h"

/* Where a transaction sits in a committed block. */
struct qcn_rpc_tx_pos {
    uint8_t block_hash[QCN_HASH_BYTES];
    uint64_t block_number;
    uint64_t index;
    uint64_t base_fee;
};

/* EIP-1559 price actually paid: min(max_fee, base_fee + max_priority_fee). */
uint64_t qcn_rpc_effective_gas_price(const struct qcn_tx *tx, uint64_t base_fee);

/* pos NULL: a pending transaction (block fields null). */
json_t *qcn_rpc_tx_json(const struct qcn_tx *tx, const struct qcn_rpc_tx_pos *pos);
/* The header fields of a block object (also the newHeads payload). */
json_t *qcn_rpc_header_json(const struct qcn_header *h, const uint8_t hash[QCN_HASH_BYTES]);
/* A block object: transactions as hashes, or full objects when full != 0. */
json_t *qcn_rpc_block_json(const struct qcn_block *blk, int full);
/* Receipt of blk->txs[index]; rs holds the block's n receipts (gas used is
 * derived from the cumulative gas, log indexes count across the block). */
json_t *qcn_rpc_receipt_json(const struct qcn_block *blk, const struct qcn_receipt *rs, size_t n,
                             size_t index);
json_t *qcn_rpc_log_json(const struct qcn_log *l, const struct qcn_rpc_tx_pos *pos,
                         const uint8_t tx_hash[QCN_HASH_BYTES], uint64_t log_index);
/* Encoded size of the block in bytes (the "size" field). */
int qcn_rpc_block_size(const struct qcn_block *blk, uint64_t *out);
json_t *qcn_rpc_hash_json(const uint8_t hash[QCN_HASH_BYTES]);

#endif
