/* params.h - strict parsing of Ethereum JSON-RPC values (EIP-1474 encoding)
 * and their encoding back to JSON.
 *
 * Quantities are "0x" followed by lower- or upper-case hex digits with no
 * leading zeros ("0x0" is zero; "0x", "0x00", "12" and 12 are rejected).
 * Data is "0x" followed by an even number of hex digits. Addresses are 20
 * bytes, hashes 32. Every parser takes the field name used in the error
 * message ("params[0] (address)") and fails with -32602 naming it; outputs
 * are zeroed on failure. Thread-safe (no state). */
#ifndef QCN_RPC_PARAMS_H
#define QCN_RPC_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rpc/rpc.h"

#define QCN_RPC_ADDRESS_BYTES 20
#define QCN_RPC_HASH_BYTES 32
#define QCN_RPC_U256_BYTES 32

/* Block selectors: a number, or a tag resolved against the head later. */
enum qcn_rpc_block_tag {
    QCN_RPC_BLOCK_NUMBER = 0,
    QCN_RPC_BLOCK_LATEST,
    QCN_RPC_BLOCK_EARLIEST,
    QCN_RPC_BLOCK_PENDING,
    QCN_RPC_BLOCK_SAFE,
    QCN_RPC_BLOCK_FINALIZED,
    QCN_RPC_BLOCK_HASH, /* EIP-1898 {"blockHash": ...} */
};

struct qcn_rpc_block_ref {
    enum qcn_rpc_block_tag tag;
    uint64_t number;
    uint8_t hash[QCN_RPC_HASH_BYTES];
    int require_canonical;
};

/* Each returns 0 or QCN_RPC_INVALID_PARAMS with err filled. */
int qcn_rpc_parse_u64(struct qcn_rpc_error *err, uint64_t *out, const json_t *v, const char *field);
/* A quantity up to 2^256-1 as 32 big-endian bytes. */
int qcn_rpc_parse_u256(struct qcn_rpc_error *err, uint8_t out[QCN_RPC_U256_BYTES], const json_t *v,
                       const char *field);
/* Exactly n bytes of data (addresses, hashes, storage keys). */
int qcn_rpc_parse_fixed(struct qcn_rpc_error *err, uint8_t *out, size_t n, const json_t *v,
                        const char *field);
/* Variable-length data, at most max bytes, appended to out (reset first). */
int qcn_rpc_parse_data(struct qcn_rpc_error *err, struct qcn_buf *out, size_t max, const json_t *v,
                       const char *field);
/* "latest", "earliest", "pending", "safe", "finalized", a quantity, or an
 * EIP-1898 object {"blockNumber": q} / {"blockHash": h, "requireCanonical": b}.
 * A missing value (v == NULL) means "latest". */
int qcn_rpc_parse_block(struct qcn_rpc_error *err, struct qcn_rpc_block_ref *out, const json_t *v,
                        const char *field);

/* The i-th positional parameter, or NULL if absent. params may be NULL. */
json_t *qcn_rpc_param(json_t *params, size_t i);
/* Fails with -32602 if params has more than max positional entries or is
 * not an array (an object or NULL counts as no parameters only if max_required
 * is 0). */
int qcn_rpc_params_check(struct qcn_rpc_error *err, json_t *params, size_t min, size_t max);

/* Encoders: new references, NULL on allocation failure. */
json_t *qcn_rpc_json_u64(uint64_t v);
json_t *qcn_rpc_json_u256(const uint8_t v[QCN_RPC_U256_BYTES]);
json_t *qcn_rpc_json_data(const uint8_t *p, size_t len);

#endif
