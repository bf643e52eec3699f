/* methods_eth.c - the chain-facing eth_ and qcn_ methods, over the backend
 * (rpc.h). Method semantics follow the Ethereum execution-apis
 * specification; the differences are ours to state:
 *   - state queries answer for the head block only (no archive): a block
 *     selector naming another block gets -32000 saying so;
 *   - eth_call and eth_estimateGas run the EVM (src/vm) over a throw-away
 *     overlay of the head state, with the head block as context;
 *   - eth_estimateGas is the intrinsic gas of our transaction type, which
 *     includes the post-quantum signature bytes (chain/chain.h gas schedule).
 * Every handler runs on the loop thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "codec/keyrec.h"
#include "crypto/keccak.h"
#include "state/account.h"
#include "state/mpt.h"
#include "rpc/format.h"
#include "rpc/internal.h"

#define MAX_FEE_HISTORY_BLOCKS 1024
#define MAX_REWARD_PERCENTILES 100
/* Default priority fee suggested to wallets: 1 gwei, as geth. */
#define SUGGESTED_TIP 1000000000ull

#define NEED(fn, name)                                                                             \
    do {                                                                                           \
        if (ctx->backend->fn == NULL)                                                              \
            return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE,                                     \
                                     "%s is not available: no chain attached", name);              \
    } while (0)

static int backend_error(struct qcn_rpc_error *err, int rc)
{
    return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "%s", qcn_err_str(rc));
}

static int head(struct qcn_rpc_ctx *ctx, uint64_t *out, struct qcn_rpc_error *err)
{
    int rc;
    if (ctx->backend->head_number == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "no chain attached");
    if ((rc = ctx->backend->head_number(ctx->backend->user, out)) != QCN_OK)
        return backend_error(err, rc);
    return 0;
}

/* Loads the block a selector names. *found = 0 (and 0 returned) if there is
 * no such block. */
static int load_block(struct qcn_rpc_ctx *ctx, const struct qcn_rpc_block_ref *ref,
                      struct qcn_block *blk, int *found, struct qcn_rpc_error *err)
{
    const struct qcn_rpc_backend *b = ctx->backend;
    uint64_t n = 0;
    int rc;

    memset(blk, 0, sizeof *blk);
    *found = 0;
    if (ref->tag == QCN_RPC_BLOCK_HASH) {
        if (b->block_by_hash == NULL)
            return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "no chain attached");
        rc = b->block_by_hash(b->user, ref->hash, blk);
    } else {
        if (b->block_by_number == NULL)
            return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "no chain attached");
        if (ref->tag == QCN_RPC_BLOCK_NUMBER)
            n = ref->number;
        else if (ref->tag != QCN_RPC_BLOCK_EARLIEST && head(ctx, &n, err))
            return err->code;
        rc = b->block_by_number(b->user, n, blk);
    }
    if (rc == QCN_ERR_NOT_FOUND) {
        if (ref->tag == QCN_RPC_BLOCK_HASH && ref->require_canonical)
            return qcn_rpc_error_set(err, QCN_RPC_RESOURCE_NOT_FOUND, "block not found");
        return 0;
    }
    if (rc != QCN_OK)
        return backend_error(err, rc);
    *found = 1;
    return 0;
}

/* State methods read the head state only; say so for any other block. */
static int require_head(struct qcn_rpc_ctx *ctx, const struct qcn_rpc_block_ref *ref,
                        struct qcn_rpc_error *err)
{
    uint64_t h, want;
    struct qcn_block blk;
    int found;

    if (ref->tag == QCN_RPC_BLOCK_LATEST || ref->tag == QCN_RPC_BLOCK_PENDING ||
        ref->tag == QCN_RPC_BLOCK_SAFE || ref->tag == QCN_RPC_BLOCK_FINALIZED)
        return 0;
    if (head(ctx, &h, err))
        return err->code;
    if (ref->tag == QCN_RPC_BLOCK_EARLIEST) {
        want = 0;
    } else if (ref->tag == QCN_RPC_BLOCK_NUMBER) {
        want = ref->number;
    } else {
        if (load_block(ctx, ref, &blk, &found, err))
            return err->code;
        if (!found) {
            return qcn_rpc_error_set(err, QCN_RPC_RESOURCE_NOT_FOUND, "block not found");
        }
        want = blk.header.height;
        qcn_block_clear(&blk);
    }
    if (want > h)
        return qcn_rpc_error_set(err, QCN_RPC_RESOURCE_NOT_FOUND,
                                 "block %llu is beyond the head (%llu)", (unsigned long long)want,
                                 (unsigned long long)h);
    if (want != h)
        return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR,
                                 "historical state is not available: this node serves the state "
                                 "of the head block (%llu) only",
                                 (unsigned long long)h);
    return 0;
}

static int parse_addr_block(struct qcn_rpc_ctx *ctx, json_t *params, uint8_t addr[20],
                            struct qcn_rpc_error *err)
{
    struct qcn_rpc_block_ref ref;
    if (qcn_rpc_params_check(err, params, 1, 2) ||
        qcn_rpc_parse_fixed(err, addr, QCN_ADDRESS_BYTES, qcn_rpc_param(params, 0),
                            "params[0] (address)") ||
        qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 1), "params[1] (block)") ||
        require_head(ctx, &ref, err))
        return err->code;
    return 0;
}

static int eth_get_balance(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                           struct qcn_rpc_error *err)
{
    uint8_t addr[QCN_ADDRESS_BYTES], be[QCN_U256_BYTES];
    struct qcn_u256 bal = {{0, 0, 0, 0}};
    uint64_t nonce;
    int rc;

    NEED(account, "eth_getBalance");
    if (parse_addr_block(ctx, params, addr, err))
        return err->code;
    rc = ctx->backend->account(ctx->backend->user, addr, &nonce, &bal);
    if (rc != QCN_OK && rc != QCN_ERR_NOT_FOUND)
        return backend_error(err, rc);
    if (rc == QCN_ERR_NOT_FOUND)
        bal = qcn_u256_from_u64(0);
    qcn_u256_to_be(be, &bal);
    *result = qcn_rpc_json_u256(be);
    return 0;
}

static int eth_get_transaction_count(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                     struct qcn_rpc_error *err)
{
    uint8_t addr[QCN_ADDRESS_BYTES];
    struct qcn_rpc_block_ref ref;
    struct qcn_u256 bal;
    uint64_t nonce = 0;
    int rc;

    NEED(account, "eth_getTransactionCount");
    if (qcn_rpc_params_check(err, params, 1, 2) ||
        qcn_rpc_parse_fixed(err, addr, QCN_ADDRESS_BYTES, qcn_rpc_param(params, 0),
                            "params[0] (address)") ||
        qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 1), "params[1] (block)") ||
        require_head(ctx, &ref, err))
        return err->code;
    if (ref.tag == QCN_RPC_BLOCK_PENDING && ctx->backend->pending_nonce != NULL) {
        rc = ctx->backend->pending_nonce(ctx->backend->user, addr, &nonce);
    } else {
        rc = ctx->backend->account(ctx->backend->user, addr, &nonce, &bal);
        if (rc == QCN_ERR_NOT_FOUND) {
            nonce = 0;
            rc = QCN_OK;
        }
    }
    if (rc != QCN_OK)
        return backend_error(err, rc);
    *result = qcn_rpc_json_u64(nonce);
    return 0;
}

static int eth_get_code(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                        struct qcn_rpc_error *err)
{
    uint8_t addr[QCN_ADDRESS_BYTES];
    struct qcn_buf code;
    int rc;

    NEED(code, "eth_getCode");
    if (parse_addr_block(ctx, params, addr, err))
        return err->code;
    qcn_buf_init(&code, QCN_RPC_MAX_RESPONSE / 2);
    rc = ctx->backend->code(ctx->backend->user, addr, &code);
    if (rc == QCN_OK || rc == QCN_ERR_NOT_FOUND)
        *result = qcn_rpc_json_data(code.p, rc == QCN_OK ? code.len : 0);
    qcn_buf_clear(&code);
    if (rc != QCN_OK && rc != QCN_ERR_NOT_FOUND)
        return backend_error(err, rc);
    return 0;
}

static int eth_get_storage_at(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                              struct qcn_rpc_error *err)
{
    uint8_t addr[QCN_ADDRESS_BYTES], slot[QCN_HASH_BYTES], val[QCN_HASH_BYTES];
    struct qcn_rpc_block_ref ref;
    json_t *js;
    int rc;

    NEED(storage, "eth_getStorageAt");
    if (qcn_rpc_params_check(err, params, 2, 3) ||
        qcn_rpc_parse_fixed(err, addr, QCN_ADDRESS_BYTES, qcn_rpc_param(params, 0),
                            "params[0] (address)"))
        return err->code;
    /* The slot is a quantity in the spec, but clients also send 32-byte data. */
    js = qcn_rpc_param(params, 1);
    if (json_is_string(js) && json_string_length(js) == 2 + 2 * QCN_HASH_BYTES) {
        if (qcn_rpc_parse_fixed(err, slot, QCN_HASH_BYTES, js, "params[1] (slot)"))
            return err->code;
    } else if (qcn_rpc_parse_u256(err, slot, js, "params[1] (slot)")) {
        return err->code;
    }
    if (qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 2), "params[2] (block)") ||
        require_head(ctx, &ref, err))
        return err->code;
    memset(val, 0, sizeof val);
    rc = ctx->backend->storage(ctx->backend->user, addr, slot, val);
    if (rc != QCN_OK && rc != QCN_ERR_NOT_FOUND)
        return backend_error(err, rc);
    if (rc == QCN_ERR_NOT_FOUND)
        memset(val, 0, sizeof val);
    *result = qcn_rpc_json_data(val, sizeof val);
    return 0;
}

/* params[0] of the ...ByHash / ...ByNumber pairs: a 32-byte block hash, or a
 * block number or tag. Returns 0, or the error code set in err. */
static int parse_block_param(struct qcn_rpc_error *err, struct qcn_rpc_block_ref *ref, json_t *p,
                             int by_hash)
{
    if (!by_hash)
        return qcn_rpc_parse_block(err, ref, p, "params[0] (block)");
    memset(ref, 0, sizeof *ref);
    ref->tag = QCN_RPC_BLOCK_HASH;
    return qcn_rpc_parse_fixed(err, ref->hash, QCN_HASH_BYTES, p, "params[0] (block hash)");
}

static int eth_get_block(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err, int by_hash)
{
    struct qcn_rpc_block_ref ref;
    struct qcn_block blk;
    json_t *full;
    int found;

    if (qcn_rpc_params_check(err, params, 1, 2))
        return err->code;
    if (parse_block_param(err, &ref, qcn_rpc_param(params, 0), by_hash))
        return err->code;
    full = qcn_rpc_param(params, 1);
    if (full != NULL && !json_is_boolean(full))
        return qcn_rpc_error_param(err, "params[1] (full transactions)", "expected a boolean");
    if (load_block(ctx, &ref, &blk, &found, err))
        return err->code;
    if (!found) {
        *result = json_null();
        return 0;
    }
    *result = qcn_rpc_block_json(&blk, full != NULL && json_is_true(full));
    qcn_block_clear(&blk);
    if (*result == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    return 0;
}

static int eth_get_block_by_number(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                   struct qcn_rpc_error *err)
{
    return eth_get_block(ctx, params, result, err, 0);
}

static int eth_get_block_by_hash(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                 struct qcn_rpc_error *err)
{
    return eth_get_block(ctx, params, result, err, 1);
}

static int block_tx_count(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                          struct qcn_rpc_error *err, int by_hash)
{
    struct qcn_rpc_block_ref ref;
    struct qcn_block blk;
    int found;

    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    if (parse_block_param(err, &ref, qcn_rpc_param(params, 0), by_hash))
        return err->code;
    if (load_block(ctx, &ref, &blk, &found, err))
        return err->code;
    *result = found ? qcn_rpc_json_u64(blk.ntx) : json_null();
    qcn_block_clear(&blk);
    return 0;
}

static int eth_get_block_tx_count_by_number(struct qcn_rpc_ctx *ctx, json_t *params,
                                            json_t **result, struct qcn_rpc_error *err)
{
    return block_tx_count(ctx, params, result, err, 0);
}

static int eth_get_block_tx_count_by_hash(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                          struct qcn_rpc_error *err)
{
    return block_tx_count(ctx, params, result, err, 1);
}

static void receipts_free(struct qcn_receipt *rs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qcn_receipt_clear(&rs[i]);
    free(rs);
}

/* Loads a block's receipts and checks they match its transactions. */
static int load_receipts(struct qcn_rpc_ctx *ctx, const struct qcn_block *blk,
                         struct qcn_receipt **rs, size_t *n, struct qcn_rpc_error *err)
{
    int rc;
    *rs = NULL;
    *n = 0;
    if (ctx->backend->block_receipts == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "receipts are not available");
    rc = ctx->backend->block_receipts(ctx->backend->user, blk->hash, rs, n);
    if (rc != QCN_OK)
        return backend_error(err, rc);
    if (*n != blk->ntx) {
        receipts_free(*rs, *n);
        *rs = NULL;
        *n = 0;
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR,
                                 "store holds %zu receipts for a block of %zu transactions", *n,
                                 blk->ntx);
    }
    return 0;
}

static int eth_get_block_receipts(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                  struct qcn_rpc_error *err)
{
    struct qcn_rpc_block_ref ref;
    struct qcn_block blk;
    struct qcn_receipt *rs;
    size_t n;
    json_t *arr;
    int found;

    if (qcn_rpc_params_check(err, params, 1, 1) ||
        qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 0), "params[0] (block)") ||
        load_block(ctx, &ref, &blk, &found, err))
        return err->code;
    if (!found) {
        *result = json_null();
        return 0;
    }
    if (load_receipts(ctx, &blk, &rs, &n, err)) {
        qcn_block_clear(&blk);
        return err->code;
    }
    arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        if (json_array_append_new(arr, qcn_rpc_receipt_json(&blk, rs, n, i)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    receipts_free(rs, n);
    qcn_block_clear(&blk);
    if (arr == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    *result = arr;
    return 0;
}

/* Finds a committed transaction: *found = 0 if unknown. */
static int locate_tx(struct qcn_rpc_ctx *ctx, const uint8_t hash[QCN_HASH_BYTES],
                     struct qcn_block *blk, uint32_t *index, int *found, struct qcn_rpc_error *err)
{
    const struct qcn_rpc_backend *b = ctx->backend;
    struct qcn_rpc_block_ref ref;
    int rc;

    *found = 0;
    memset(blk, 0, sizeof *blk);
    if (b->tx_location == NULL)
        return 0;
    memset(&ref, 0, sizeof ref);
    ref.tag = QCN_RPC_BLOCK_HASH;
    rc = b->tx_location(b->user, hash, ref.hash, index);
    if (rc == QCN_ERR_NOT_FOUND)
        return 0;
    if (rc != QCN_OK)
        return backend_error(err, rc);
    if (load_block(ctx, &ref, blk, found, err))
        return err->code;
    if (*found && *index >= blk->ntx) {
        qcn_block_clear(blk);
        *found = 0;
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "transaction index out of range");
    }
    return 0;
}

static int eth_get_transaction_by_hash(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                       struct qcn_rpc_error *err)
{
    uint8_t hash[QCN_HASH_BYTES];
    struct qcn_block blk;
    struct qcn_tx *tx = NULL;
    uint32_t index = 0;
    int found;

    if (qcn_rpc_params_check(err, params, 1, 1) ||
        qcn_rpc_parse_fixed(err, hash, QCN_HASH_BYTES, qcn_rpc_param(params, 0),
                            "params[0] (transaction hash)") ||
        locate_tx(ctx, hash, &blk, &index, &found, err))
        return err->code;
    if (found) {
        struct qcn_rpc_tx_pos pos;
        memcpy(pos.block_hash, blk.hash, QCN_HASH_BYTES);
        pos.block_number = blk.header.height;
        pos.index = index;
        pos.base_fee = blk.header.base_fee;
        *result = qcn_rpc_tx_json(blk.txs[index], &pos);
        qcn_block_clear(&blk);
    } else if (ctx->backend->pending_tx != NULL &&
               ctx->backend->pending_tx(ctx->backend->user, hash, &tx) == QCN_OK && tx != NULL) {
        *result = qcn_rpc_tx_json(tx, NULL);
        qcn_tx_unref(tx);
    } else {
        *result = json_null();
    }
    if (*result == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    return 0;
}

static int eth_get_transaction_receipt(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                       struct qcn_rpc_error *err)
{
    uint8_t hash[QCN_HASH_BYTES];
    struct qcn_block blk;
    struct qcn_receipt *rs;
    uint32_t index = 0;
    size_t n;
    int found;

    if (qcn_rpc_params_check(err, params, 1, 1) ||
        qcn_rpc_parse_fixed(err, hash, QCN_HASH_BYTES, qcn_rpc_param(params, 0),
                            "params[0] (transaction hash)") ||
        locate_tx(ctx, hash, &blk, &index, &found, err))
        return err->code;
    if (!found) {
        *result = json_null();
        return 0;
    }
    if (load_receipts(ctx, &blk, &rs, &n, err)) {
        qcn_block_clear(&blk);
        return err->code;
    }
    *result = qcn_rpc_receipt_json(&blk, rs, n, index);
    receipts_free(rs, n);
    qcn_block_clear(&blk);
    if (*result == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    return 0;
}

/* ---- logs ---- */

static int resolve_number(struct qcn_rpc_ctx *ctx, const struct qcn_rpc_block_ref *ref,
                          uint64_t head_n, uint64_t *out, struct qcn_rpc_error *err)
{
    struct qcn_block blk;
    int found;
    switch (ref->tag) {
    case QCN_RPC_BLOCK_NUMBER:
        *out = ref->number;
        return 0;
    case QCN_RPC_BLOCK_EARLIEST:
        *out = 0;
        return 0;
    case QCN_RPC_BLOCK_HASH:
        if (load_block(ctx, ref, &blk, &found, err))
            return err->code;
        if (!found)
            return qcn_rpc_error_set(err, QCN_RPC_RESOURCE_NOT_FOUND, "block not found");
        *out = blk.header.height;
        qcn_block_clear(&blk);
        return 0;
    default:
        *out = head_n;
        return 0;
    }
}

static int eth_get_logs(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                        struct qcn_rpc_error *err)
{
    struct log_criteria crit;
    struct qcn_rpc_block_ref from_ref, to_ref, hash_ref;
    json_t *filter, *bh, *out = NULL;
    uint64_t head_n = 0, from = 0, to = 0;
    int rc = 0;

    NEED(block_by_number, "eth_getLogs");
    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    filter = qcn_rpc_param(params, 0);
    if (!json_is_object(filter))
        return qcn_rpc_error_param(err, "params[0] (filter)", "expected a filter object");
    if (head(ctx, &head_n, err))
        return err->code;
    bh = json_object_get(filter, "blockHash");
    if (bh != NULL) {
        if (json_object_get(filter, "fromBlock") != NULL ||
            json_object_get(filter, "toBlock") != NULL)
            return qcn_rpc_error_param(err, "params[0] (filter)",
                                       "blockHash excludes fromBlock and toBlock (EIP-234)");
        memset(&hash_ref, 0, sizeof hash_ref);
        hash_ref.tag = QCN_RPC_BLOCK_HASH;
        if (qcn_rpc_parse_fixed(err, hash_ref.hash, QCN_HASH_BYTES, bh,
                                "params[0] (filter).blockHash") ||
            resolve_number(ctx, &hash_ref, head_n, &from, err))
            return err->code;
        to = from;
    } else {
        if (qcn_rpc_parse_block(err, &from_ref, json_object_get(filter, "fromBlock"),
                                "params[0] (filter).fromBlock") ||
            qcn_rpc_parse_block(err, &to_ref, json_object_get(filter, "toBlock"),
                                "params[0] (filter).toBlock") ||
            resolve_number(ctx, &from_ref, head_n, &from, err) ||
            resolve_number(ctx, &to_ref, head_n, &to, err))
            return err->code;
    }
    if (to > head_n)
        to = head_n;
    if (from > to) {
        *result = json_array();
        return 0;
    }
    if (to - from >= ctx->config->logs_range)
        return qcn_rpc_error_set(err, QCN_RPC_LIMIT_EXCEEDED,
                                 "block range of %llu exceeds the eth_getLogs cap of %llu blocks",
                                 (unsigned long long)(to - from + 1),
                                 (unsigned long long)ctx->config->logs_range);
    if (qcn_rpc_log_criteria_parse(err, &crit, filter, "params[0] (filter)"))
        return err->code;
    out = json_array();
    if (out == NULL) {
        qcn_rpc_log_criteria_clear(&crit);
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    }
    for (uint64_t num = from; num <= to && rc == 0; num++) {
        struct qcn_block blk;
        struct qcn_receipt *rs;
        size_t n;
        uint64_t log_index = 0;

        memset(&blk, 0, sizeof blk);
        if (ctx->backend->block_by_number(ctx->backend->user, num, &blk) != QCN_OK)
            continue;
        if (blk.ntx == 0) {
            qcn_block_clear(&blk);
            continue;
        }
        if (load_receipts(ctx, &blk, &rs, &n, err)) {
            qcn_block_clear(&blk);
            rc = err->code;
            break;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            struct qcn_rpc_tx_pos pos;
            memcpy(pos.block_hash, blk.hash, QCN_HASH_BYTES);
            pos.block_number = num;
            pos.index = i;
            pos.base_fee = blk.header.base_fee;
            for (uint32_t k = 0; k < rs[i].nlogs && rc == 0; k++, log_index++) {
                json_t *l = qcn_rpc_log_json(&rs[i].logs[k], &pos, blk.txs[i]->hash, log_index);
                if (l == NULL) {
                    rc = qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
                } else if (!qcn_rpc_log_criteria_match(&crit, l)) {
                    json_decref(l);
                } else if (json_array_size(out) >= ctx->config->max_logs) {
                    json_decref(l);
                    rc = qcn_rpc_error_set(err, QCN_RPC_LIMIT_EXCEEDED,
                                           "query returned more than %zu logs; narrow the range",
                                           ctx->config->max_logs);
                } else {
                    json_array_append_new(out, l);
                }
            }
        }
        receipts_free(rs, n);
        qcn_block_clear(&blk);
    }
    qcn_rpc_log_criteria_clear(&crit);
    if (rc != 0) {
        json_decref(out);
        return rc;
    }
    *result = out;
    return 0;
}

/* ---- fees ---- */

static int next_base_fee(struct qcn_rpc_ctx *ctx, uint64_t *out, struct qcn_rpc_error *err)
{
    int rc;
    NEED(next_base_fee, "fee data");
    if ((rc = ctx->backend->next_base_fee(ctx->backend->user, out)) != QCN_OK)
        return backend_error(err, rc);
    return 0;
}

static int eth_gas_price(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err)
{
    uint64_t base, price;
    if (qcn_rpc_params_check(err, params, 0, 0) || next_base_fee(ctx, &base, err))
        return err->code;
    if (__builtin_add_overflow(base, SUGGESTED_TIP, &price))
        price = UINT64_MAX;
    *result = qcn_rpc_json_u64(price);
    return 0;
}

static int eth_max_priority_fee(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                struct qcn_rpc_error *err)
{
    (void)ctx;
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    *result = qcn_rpc_json_u64(SUGGESTED_TIP);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Rewards at the given percentiles of gas used, over effective tips sorted
 * ascending (execution-apis eth_feeHistory). */
static json_t *block_rewards(struct qcn_rpc_ctx *ctx, const struct qcn_block *blk,
                             const double *pct, size_t npct)
{
    struct qcn_receipt *rs = NULL;
    struct qcn_rpc_error e = {0};
    uint64_t(*tips)[2] = NULL; /* tip, gas used */
    json_t *arr = json_array();
    size_t n = 0;

    if (arr == NULL)
        return NULL;
    if (blk->ntx == 0 || load_receipts(ctx, blk, &rs, &n, &e) != 0) {
        for (size_t i = 0; i < npct; i++)
            json_array_append_new(arr, qcn_rpc_json_u64(0));
        return arr;
    }
    tips = calloc(n, sizeof *tips);
    if (tips == NULL) {
        receipts_free(rs, n);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t price = qcn_rpc_effective_gas_price(blk->txs[i], blk->header.base_fee);
        uint64_t prev = i > 0 ? rs[i - 1].cumulative_gas : 0;
        tips[i][0] = price > blk->header.base_fee ? price - blk->header.base_fee : 0;
        tips[i][1] = rs[i].cumulative_gas > prev ? rs[i].cumulative_gas - prev : 0;
    }
    qsort(tips, n, sizeof *tips, cmp_u64);
    for (size_t p = 0; p < npct; p++) {
        double threshold = (double)blk->header.gas_used * pct[p] / 100.0, sum = 0;
        size_t i = 0;
        for (; i + 1 < n; i++) {
            sum += (double)tips[i][1];
            if (sum >= threshold)
                break;
        }
        json_array_append_new(arr, qcn_rpc_json_u64(tips[i][0]));
    }
    free(tips);
    receipts_free(rs, n);
    return arr;
}

static int eth_fee_history(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                           struct qcn_rpc_error *err)
{
    struct qcn_rpc_block_ref ref;
    json_t *jcount, *jpct, *bases = NULL, *ratios = NULL, *rewards = NULL;
    double pct[MAX_REWARD_PERCENTILES];
    size_t npct = 0;
    uint64_t count = 0, newest = 0, head_n = 0, oldest = 0, next_base = 0;
    int rc = 0;

    NEED(block_by_number, "eth_feeHistory");
    if (qcn_rpc_params_check(err, params, 2, 3))
        return err->code;
    jcount = qcn_rpc_param(params, 0);
    if (json_is_integer(jcount) && json_integer_value(jcount) >= 0)
        count = (uint64_t)json_integer_value(jcount);
    else if (qcn_rpc_parse_u64(err, &count, jcount, "params[0] (block count)"))
        return err->code;
    if (count == 0 || count > MAX_FEE_HISTORY_BLOCKS)
        return qcn_rpc_error_param(err, "params[0] (block count)", "must be 1 to %d",
                                   MAX_FEE_HISTORY_BLOCKS);
    jpct = qcn_rpc_param(params, 2);
    if (jpct != NULL && !json_is_null(jpct)) {
        if (!json_is_array(jpct) || json_array_size(jpct) > MAX_REWARD_PERCENTILES)
            return qcn_rpc_error_param(err, "params[2] (reward percentiles)",
                                       "expected an array of at most %d numbers",
                                       MAX_REWARD_PERCENTILES);
        for (size_t i = 0; i < json_array_size(jpct); i++) {
            json_t *v = json_array_get(jpct, i);
            double d = json_number_value(v);
            if (!json_is_number(v) || d < 0 || d > 100 || (i > 0 && d < pct[i - 1]))
                return qcn_rpc_error_param(err, "params[2] (reward percentiles)",
                                           "entries must be increasing numbers from 0 to 100");
            pct[npct++] = d;
        }
    }
    if (qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 1), "params[1] (newest block)") ||
        head(ctx, &head_n, err) || resolve_number(ctx, &ref, head_n, &newest, err))
        return err->code;
    if (newest > head_n)
        newest = head_n;
    if (count > newest + 1)
        count = newest + 1;
    oldest = newest + 1 - count;
    bases = json_array();
    ratios = json_array();
    rewards = npct > 0 ? json_array() : NULL;
    if (bases == NULL || ratios == NULL || (npct > 0 && rewards == NULL)) {
        rc = qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
        goto out;
    }
    for (uint64_t num = oldest; num <= newest; num++) {
        struct qcn_block blk;
        int r = ctx->backend->block_by_number(ctx->backend->user, num, &blk);
        if (r != QCN_OK) {
            rc = backend_error(err, r);
            goto out;
        }
        json_array_append_new(bases, qcn_rpc_json_u64(blk.header.base_fee));
        json_array_append_new(
            ratios, json_real(blk.header.gas_limit > 0
                                  ? (double)blk.header.gas_used / (double)blk.header.gas_limit
                                  : 0.0));
        if (rewards != NULL)
            json_array_append_new(rewards, block_rewards(ctx, &blk, pct, npct));
        if (num == newest) {
            /* The block after newest: from the chain if newest is the head. */
            next_base = blk.header.base_fee;
            if (num == head_n && ctx->backend->next_base_fee != NULL)
                (void)ctx->backend->next_base_fee(ctx->backend->user, &next_base);
        }
        qcn_block_clear(&blk);
    }
    if (newest < head_n) {
        struct qcn_block nb;
        if (ctx->backend->block_by_number(ctx->backend->user, newest + 1, &nb) == QCN_OK) {
            next_base = nb.header.base_fee;
            qcn_block_clear(&nb);
        }
    }
    json_array_append_new(bases, qcn_rpc_json_u64(next_base));
    *result = json_pack("{s:o,s:O,s:O}", "oldestBlock", qcn_rpc_json_u64(oldest), "baseFeePerGas",
                        bases, "gasUsedRatio", ratios);
    if (*result != NULL && rewards != NULL)
        json_object_set(*result, "reward", rewards);
out:
    json_decref(bases);
    json_decref(ratios);
    json_decref(rewards);
    return rc;
}

/* ---- calls and gas estimates (native transfers until the EVM is wired) ---- */

struct call_args {
    uint8_t from[QCN_ADDRESS_BYTES];
    int has_from;
    uint8_t to[QCN_ADDRESS_BYTES];
    int has_to;
    uint8_t value[QCN_U256_BYTES];
    struct qcn_buf data;
    uint64_t gas;
    int has_gas;
};

static int parse_call(struct qcn_rpc_error *err, struct call_args *a, json_t *obj, size_t max_data)
{
    json_t *v;
    memset(a, 0, sizeof *a);
    qcn_buf_init(&a->data, max_data);
    if (!json_is_object(obj))
        return qcn_rpc_error_param(err, "params[0] (call)", "expected a call object");
    if ((v = json_object_get(obj, "from")) != NULL && !json_is_null(v)) {
        if (qcn_rpc_parse_fixed(err, a->from, QCN_ADDRESS_BYTES, v, "params[0] (call).from"))
            return err->code;
        a->has_from = 1;
    }
    if ((v = json_object_get(obj, "to")) != NULL && !json_is_null(v)) {
        if (qcn_rpc_parse_fixed(err, a->to, QCN_ADDRESS_BYTES, v, "params[0] (call).to"))
            return err->code;
        a->has_to = 1;
    }
    if ((v = json_object_get(obj, "value")) != NULL && !json_is_null(v) &&
        qcn_rpc_parse_u256(err, a->value, v, "params[0] (call).value"))
        return err->code;
    if ((v = json_object_get(obj, "gas")) != NULL && !json_is_null(v)) {
        if (qcn_rpc_parse_u64(err, &a->gas, v, "params[0] (call).gas"))
            return err->code;
        a->has_gas = 1;
    }
    v = json_object_get(obj, "input");
    if (v == NULL || json_is_null(v))
        v = json_object_get(obj, "data");
    if (v != NULL && !json_is_null(v) &&
        qcn_rpc_parse_data(err, &a->data, max_data, v, "params[0] (call).input"))
        return err->code;
    return 0;
}

static int target_has_code(struct qcn_rpc_ctx *ctx, const struct call_args *a, int *has_code,
                           struct qcn_rpc_error *err)
{
    struct qcn_buf code;
    int rc;
    *has_code = 0;
    if (!a->has_to || ctx->backend->code == NULL)
        return 0;
    qcn_buf_init(&code, QCN_RPC_MAX_RESPONSE / 2);
    rc = ctx->backend->code(ctx->backend->user, a->to, &code);
    *has_code = rc == QCN_OK && code.len > 0;
    qcn_buf_clear(&code);
    if (rc != QCN_OK && rc != QCN_ERR_NOT_FOUND)
        return backend_error(err, rc);
    return 0;
}

/* ---- eth_call and eth_estimateGas: messages run by the backend's exec
 * (for the node: the EVM over a throw-away overlay of the head state,
 * rpc/evm.c), with the head block as context ---- */

struct evm_outcome {
    enum qcn_rpc_exec_status status;
    uint64_t used;
    struct qcn_buf output;
};

static int evm_run(struct qcn_rpc_ctx *ctx, const struct call_args *a, uint64_t gas,
                   const struct qcn_block *head_blk, struct evm_outcome *out,
                   struct qcn_rpc_error *err)
{
    struct qcn_rpc_exec_msg m;
    int rc;

    memset(&m, 0, sizeof m);
    memcpy(m.from, a->from, QCN_ADDRESS_BYTES);
    m.has_to = a->has_to;
    memcpy(m.to, a->to, QCN_ADDRESS_BYTES);
    memcpy(m.value, a->value, QCN_U256_BYTES);
    m.data = a->data.p;
    m.data_len = a->data.len;
    m.gas = gas;
    m.chain_id = ctx->config->chain_id;
    qcn_buf_init(&out->output, QCN_RPC_MAX_RESPONSE / 4);
    out->status = QCN_RPC_EXEC_FAILURE;
    out->used = 0;
    rc = ctx->backend->exec(ctx->backend->user, &head_blk->header, &m, &out->status, &out->used,
                            &out->output);
    if (rc == QCN_ERR_TOO_LARGE) {
        qcn_buf_clear(&out->output);
        return qcn_rpc_error_set(err, QCN_RPC_LIMIT_EXCEEDED, "call output exceeds the size cap");
    }
    if (rc != QCN_OK) {
        qcn_buf_clear(&out->output);
        return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "execution aborted: %s",
                                 qcn_err_str(rc));
    }
    return 0;
}

/* EIP-140 revert: error code 3 with the returned bytes as data, and the
 * Error(string) reason (selector 0x08c379a0) in the message when present. */
static int reverted(struct qcn_rpc_error *err, const struct qcn_buf *out)
{
    const uint8_t *p = out->p;
    qcn_rpc_error_set(err, QCN_RPC_EXECUTION_REVERTED, "execution reverted");
    if (out->len >= 4 + 64 && p[0] == 0x08 && p[1] == 0xc3 && p[2] == 0x79 && p[3] == 0xa0) {
        uint64_t len = qcn_load_be64(p + 4 + 32 + 24);
        if (len <= out->len - 4 - 64 && len < 200)
            qcn_rpc_error_set(err, QCN_RPC_EXECUTION_REVERTED, "execution reverted: %.*s", (int)len,
                              (const char *)(p + 4 + 64));
    }
    err->data = qcn_rpc_json_data(out->p, out->len);
    return err->code;
}

static int head_block(struct qcn_rpc_ctx *ctx, struct qcn_block *blk, struct qcn_rpc_error *err)
{
    struct qcn_rpc_block_ref latest;
    int found;
    memset(&latest, 0, sizeof latest);
    latest.tag = QCN_RPC_BLOCK_LATEST;
    if (load_block(ctx, &latest, blk, &found, err))
        return err->code;
    if (!found)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "head block not found");
    return 0;
}

static int eth_call(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                    struct qcn_rpc_error *err)
{
    struct call_args a;
    struct qcn_rpc_block_ref ref;
    struct qcn_block blk;
    struct evm_outcome o;
    uint64_t gas;
    int has_code = 0, rc;

    if (qcn_rpc_params_check(err, params, 1, 3)) /* the third is geth's state override */
        return err->code;
    rc = parse_call(err, &a, qcn_rpc_param(params, 0), QCN_TX_MAX_DATA);
    if (rc == 0 && (qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 1), "params[1] (block)") ||
                    require_head(ctx, &ref, err) || target_has_code(ctx, &a, &has_code, err)))
        rc = err->code;
    if (rc == 0 && a.has_to && !has_code) {
        *result = json_string("0x"); /* an account without code returns nothing */
        goto out;
    }
    if (rc == 0 && ctx->backend->exec == NULL)
        rc = qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE,
                               "eth_call: this node cannot execute contract code");
    if (rc == 0 && head_block(ctx, &blk, err))
        rc = err->code;
    if (rc != 0)
        goto out;
    /* The cap bounds the loop thread's time per call, whatever is asked. */
    gas = a.has_gas ? a.gas : blk.header.gas_limit;
    if (gas > ctx->config->call_gas_cap)
        gas = ctx->config->call_gas_cap;
    rc = evm_run(ctx, &a, gas, &blk, &o, err);
    qcn_block_clear(&blk);
    if (rc != 0)
        goto out;
    if (o.status == QCN_RPC_EXEC_SUCCESS)
        *result = qcn_rpc_json_data(o.output.p, o.output.len);
    else if (o.status == QCN_RPC_EXEC_REVERT)
        rc = reverted(err, &o.output);
    else
        rc = qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR,
                               "execution failed (out of gas, invalid opcode or stack error)");
    qcn_buf_clear(&o.output);
out:
    qcn_buf_clear(&a.data);
    return rc;
}

/* Default scheme's sizes when the sender is unknown: ML-DSA-65. */
static int intrinsic_gas(struct qcn_rpc_ctx *ctx, const struct call_args *a, uint64_t *gas,
                         struct qcn_rpc_error *err)
{
    uint64_t g = QCN_GAS_TX, sig_bytes = 0, pk_bytes = 0, nsigs = 1;
    uint8_t scheme = QCN_SCHEME_DEFAULT;
    struct qcn_buf rec;
    struct qcn_keyrec kr;
    int recorded = 0;

    for (size_t i = 0; i < a->data.len; i++)
        g += a->data.p[i] == 0 ? QCN_GAS_DATA_ZERO : QCN_GAS_DATA_NONZERO;
    if (!a->has_to)
        g += QCN_GAS_TX_CREATE + QCN_GAS_INITCODE_WORD * ((a->data.len + 31) / 32);
    qcn_buf_init(&rec, QCN_KEYREC_MAX_BYTES);
    if (a->has_from && ctx->backend->key_record != NULL &&
        ctx->backend->key_record(ctx->backend->user, a->from, &rec) == QCN_OK &&
        qcn_keyrec_decode(&kr, qcn_buf_view(&rec)) == QCN_OK) {
        recorded = 1;
        if (kr.kind == QCN_SCHEME_MULTISIG) {
            nsigs = kr.threshold;
            for (uint32_t i = 0; i < kr.threshold && i < kr.nkeys; i++)
                sig_bytes += qcn_scheme_sig_bytes(kr.keys[i].scheme);
        } else {
            scheme = kr.kind;
        }
    }
    qcn_buf_clear(&rec);
    if (sig_bytes == 0)
        sig_bytes = qcn_scheme_sig_bytes(scheme);
    if (!recorded)
        pk_bytes = qcn_scheme_pk_bytes(scheme); /* the first transaction carries the key */
    g += QCN_GAS_SIG_BYTE * sig_bytes + QCN_GAS_PUBKEY_BYTE * pk_bytes + QCN_GAS_SIG_VERIFY * nsigs;
    (void)err;
    *gas = g;
    return 0;
}

/* Smallest execution gas with which the message succeeds: one run at the cap,
 * then a binary search (the 63/64 rule of EIP-150 makes the gas used at the
 * cap an underestimate of the gas needed). */
static int execution_gas(struct qcn_rpc_ctx *ctx, const struct call_args *a, uint64_t cap,
                         uint64_t *out, struct qcn_rpc_error *err)
{
    struct qcn_block blk;
    struct evm_outcome o;
    uint64_t lo, hi;
    int rc;

    if (head_block(ctx, &blk, err))
        return err->code;
    rc = evm_run(ctx, a, cap, &blk, &o, err);
    if (rc == 0) {
        if (o.status == QCN_RPC_EXEC_REVERT)
            rc = reverted(err, &o.output); /* copies the data */
        else if (o.status != QCN_RPC_EXEC_SUCCESS)
            rc = qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR,
                                   "gas required exceeds allowance (%llu) or execution failed",
                                   (unsigned long long)cap);
        qcn_buf_clear(&o.output);
    }
    lo = rc == 0 && o.used > 0 ? o.used - 1 : 0;
    hi = cap;
    while (rc == 0 && hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        rc = evm_run(ctx, a, mid, &blk, &o, err);
        if (rc != 0)
            break;
        if (o.status == QCN_RPC_EXEC_SUCCESS)
            hi = mid;
        else
            lo = mid;
        qcn_buf_clear(&o.output);
    }
    qcn_block_clear(&blk);
    *out = hi;
    return rc;
}

static int eth_estimate_gas(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                            struct qcn_rpc_error *err)
{
    struct call_args a;
    struct qcn_rpc_block_ref ref;
    uint64_t gas = 0, exec = 0, cap;
    int has_code = 0, rc;

    if (qcn_rpc_params_check(err, params, 1, 3))
        return err->code;
    rc = parse_call(err, &a, qcn_rpc_param(params, 0), QCN_TX_MAX_DATA);
    if (rc == 0 && (qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 1), "params[1] (block)") ||
                    require_head(ctx, &ref, err) || target_has_code(ctx, &a, &has_code, err)))
        rc = err->code;
    if (rc == 0 && a.has_from && ctx->backend->account != NULL) {
        struct qcn_u256 bal = {{0, 0, 0, 0}}, val = qcn_u256_from_be(a.value);
        uint64_t nonce;
        int r = ctx->backend->account(ctx->backend->user, a.from, &nonce, &bal);
        if ((r == QCN_OK || r == QCN_ERR_NOT_FOUND) && qcn_u256_cmp(&bal, &val) < 0)
            rc = qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "insufficient funds for transfer");
    }
    if (rc == 0)
        rc = intrinsic_gas(ctx, &a, &gas, err);
    if (rc == 0 && (has_code || !a.has_to)) {
        /* Contract call or creation: the EVM's part on top of the intrinsic gas. */
        cap = a.has_gas ? a.gas : ctx->config->call_gas_cap;
        if (cap > ctx->config->call_gas_cap)
            cap = ctx->config->call_gas_cap;
        if (cap <= gas)
            rc = qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR,
                                   "gas %llu is below the intrinsic gas %llu",
                                   (unsigned long long)cap, (unsigned long long)gas);
        else if (ctx->backend->exec == NULL)
            rc = qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE,
                                   "eth_estimateGas: this node cannot execute contract code");
        else
            rc = execution_gas(ctx, &a, cap - gas, &exec, err);
        gas += exec;
    }
    if (rc == 0)
        *result = qcn_rpc_json_u64(gas);
    qcn_buf_clear(&a.data);
    return rc;
}

/* ---- transactions in ---- */

static void submitted(void *done_ctx, int code, const uint8_t hash[QCN_HASH_BYTES])
{
    struct qcn_rpc_call *call = done_ctx;
    struct qcn_rpc_error err = {0};
    if (code == QCN_OK) {
        qcn_rpc_call_done(call, qcn_rpc_json_data(hash, QCN_HASH_BYTES), NULL);
        return;
    }
    /* The mempool's reason, in the words wallets already match on
     * ("nonce too low", "insufficient funds", ...), with our stable name. */
    qcn_rpc_error_set(&err, QCN_RPC_SERVER_ERROR, "%s", qcn_err_str(code));
    err.data = json_pack("{s:s,s:i}", "reason", qcn_err_name(code), "code", code);
    qcn_rpc_call_done(call, NULL, &err);
    json_decref(err.data);
}

static int eth_send_raw_transaction(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                    struct qcn_rpc_error *err)
{
    struct qcn_buf raw;
    struct qcn_rpc_call *call;
    int rc;
    (void)result;

    NEED(submit_tx, "eth_sendRawTransaction");
    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    qcn_buf_init(&raw, QCN_TX_MAX_BYTES);
    if (qcn_rpc_parse_data(err, &raw, QCN_TX_MAX_BYTES, qcn_rpc_param(params, 0),
                           "params[0] (transaction)")) {
        qcn_buf_clear(&raw);
        return err->code;
    }
    if (raw.len == 0 || raw.p[0] != QCN_TX_TYPE) {
        qcn_buf_clear(&raw);
        return qcn_rpc_error_param(err, "params[0] (transaction)",
                                   "not a QCN transaction (EIP-2718 type 0x%02x expected; "
                                   "Ethereum's ECDSA transactions are not accepted)",
                                   QCN_TX_TYPE);
    }
    call = qcn_rpc_defer(ctx);
    if (call == NULL) {
        qcn_buf_clear(&raw);
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    }
    /* submit_tx calls submitted() exactly once, maybe right away. */
    rc = ctx->backend->submit_tx(ctx->backend->user, raw.p, raw.len, submitted, call);
    (void)rc;
    qcn_buf_clear(&raw);
    return QCN_RPC_DEFERRED;
}

/* ---- qcn_ ---- */

static const char *scheme_name(uint8_t s)
{
    switch (s) {
    case QCN_SCHEME_MLDSA44:
        return "ML-DSA-44";
    case QCN_SCHEME_MLDSA65:
        return "ML-DSA-65";
    case QCN_SCHEME_MLDSA87:
        return "ML-DSA-87";
    case QCN_SCHEME_MULTISIG:
        return "multisig";
    default:
        return "unknown";
    }
}

static int qcn_get_account_key(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                               struct qcn_rpc_error *err)
{
    uint8_t addr[QCN_ADDRESS_BYTES], kh[QCN_HASH_BYTES];
    struct qcn_buf rec;
    struct qcn_keyrec kr;
    json_t *keys, *o;
    int rc;

    NEED(key_record, "qcn_getAccountKey");
    if (parse_addr_block(ctx, params, addr, err))
        return err->code;
    qcn_buf_init(&rec, QCN_KEYREC_MAX_BYTES);
    rc = ctx->backend->key_record(ctx->backend->user, addr, &rec);
    if (rc == QCN_ERR_NOT_FOUND) {
        qcn_buf_clear(&rec);
        *result = json_null(); /* no key recorded yet: its first transaction will */
        return 0;
    }
    if (rc == QCN_OK)
        rc = qcn_keyrec_decode(&kr, qcn_buf_view(&rec));
    if (rc != QCN_OK) {
        qcn_buf_clear(&rec);
        return backend_error(err, rc);
    }
    qcn_keyrec_hash(kh, rec.p, rec.len);
    keys = json_array();
    for (uint32_t i = 0; keys != NULL && i < kr.nkeys; i++)
        json_array_append_new(keys,
                              json_pack("{s:i,s:s,s:o}", "scheme", kr.keys[i].scheme, "name",
                                        scheme_name(kr.keys[i].scheme), "publicKey",
                                        qcn_rpc_json_data(kr.keys[i].pk.p, kr.keys[i].pk.len)));
    o = json_pack("{s:o,s:i,s:s,s:i,s:o,s:o,s:o}", "address", qcn_rpc_json_data(addr, sizeof addr),
                  "scheme", kr.kind, "name", scheme_name(kr.kind), "threshold", kr.threshold,
                  "keys", keys, "keyHash", qcn_rpc_json_data(kh, sizeof kh), "record",
                  qcn_rpc_json_data(rec.p, rec.len));
    if (o != NULL && kr.kind != QCN_SCHEME_MULTISIG)
        json_object_set(o, "publicKey", json_object_get(json_array_get(keys, 0), "publicKey"));
    qcn_buf_clear(&rec);
    if (o == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    *result = o;
    return 0;
}

static int qcn_mempool_status(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                              struct qcn_rpc_error *err)
{
    size_t count = 0, bytes = 0;
    uint64_t base = 0;
    int rc;

    NEED(mempool_status, "qcn_mempoolStatus");
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if ((rc = ctx->backend->mempool_status(ctx->backend->user, &count, &bytes)) != QCN_OK)
        return backend_error(err, rc);
    if (ctx->backend->next_base_fee != NULL)
        (void)ctx->backend->next_base_fee(ctx->backend->user, &base);
    *result = json_pack("{s:I,s:I,s:o}", "pending", (json_int_t)count, "bytes", (json_int_t)bytes,
                        "nextBaseFee", qcn_rpc_json_u64(base));
    return 0;
}

#define MAX_PROOF_SLOTS 1024

static json_t *proof_json(const struct qcn_mpt_proof *p)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < p->count; i++)
        if (json_array_append_new(a, qcn_rpc_json_data(p->node[i].p, p->node[i].len)) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

/* EIP-1186. The account fields come from the proven leaf itself (checked
 * against the head's state root), so the answer is consistent with its proof. */
static int eth_get_proof(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err)
{
    uint8_t addr[QCN_ADDRESS_BYTES], key[QCN_HASH_BYTES], be[QCN_U256_BYTES];
    uint8_t(*slots)[32] = NULL;
    struct qcn_mpt_proof acc, *sp = NULL;
    struct qcn_rpc_block_ref ref;
    struct qcn_account a;
    struct qcn_block head_blk;
    struct qcn_view leaf;
    json_t *jslots, *sproofs = NULL, *o = NULL;
    size_t n = 0;
    int rc = 0, found = 0, have_head;
    char field[64];

    NEED(prove, "eth_getProof");
    if (qcn_rpc_params_check(err, params, 2, 3) ||
        qcn_rpc_parse_fixed(err, addr, QCN_ADDRESS_BYTES, qcn_rpc_param(params, 0),
                            "params[0] (address)"))
        return err->code;
    jslots = qcn_rpc_param(params, 1);
    if (!json_is_array(jslots) || json_array_size(jslots) > MAX_PROOF_SLOTS)
        return qcn_rpc_error_param(err, "params[1] (storage keys)",
                                   "expected an array of at most %d slots", MAX_PROOF_SLOTS);
    if (qcn_rpc_parse_block(err, &ref, qcn_rpc_param(params, 2), "params[2] (block)") ||
        require_head(ctx, &ref, err))
        return err->code;
    n = json_array_size(jslots);
    slots = calloc(n + 1, sizeof *slots);
    sp = calloc(n + 1, sizeof *sp);
    if (slots == NULL || sp == NULL) {
        rc = qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *js = json_array_get(jslots, i);
        snprintf(field, sizeof field, "params[1][%zu] (storage key)", i);
        if (json_is_string(js) && json_string_length(js) == 2 + 2 * QCN_HASH_BYTES
                ? qcn_rpc_parse_fixed(err, slots[i], 32, js, field)
                : qcn_rpc_parse_u256(err, slots[i], js, field)) {
            rc = err->code;
            goto out;
        }
    }
    qcn_mpt_proof_init(&acc);
    for (size_t i = 0; i < n; i++)
        qcn_mpt_proof_init(&sp[i]);
    rc = ctx->backend->prove(ctx->backend->user, addr, (const uint8_t(*)[32])slots, n, &acc, sp);
    if (rc != QCN_OK) {
        rc = backend_error(err, rc);
        goto clear;
    }
    /* The leaf, verified against the head's state root. */
    qcn_account_init(&a);
    have_head = 0;
    {
        struct qcn_rpc_block_ref latest = {0};
        latest.tag = QCN_RPC_BLOCK_LATEST;
        if (load_block(ctx, &latest, &head_blk, &have_head, err) != 0) {
            rc = err->code;
            goto clear;
        }
    }
    qcn_keccak256(key, addr, sizeof addr);
    if (!have_head ||
        qcn_mpt_verify_proof(&found, &leaf, head_blk.header.state_root, key, sizeof key, acc.node,
                             acc.count) != QCN_OK ||
        (found && qcn_account_decode(&a, leaf) != QCN_OK)) {
        if (have_head)
            qcn_block_clear(&head_blk);
        rc = qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR,
                               "account proof does not verify against the head state root");
        goto clear;
    }
    qcn_block_clear(&head_blk);
    sproofs = json_array();
    for (size_t i = 0; sproofs != NULL && i < n; i++) {
        uint8_t val[32] = {0};
        if (ctx->backend->storage != NULL)
            (void)ctx->backend->storage(ctx->backend->user, addr, slots[i], val);
        json_array_append_new(
            sproofs, json_pack("{s:o,s:o,s:o}", "key", qcn_rpc_json_data(slots[i], 32), "value",
                               qcn_rpc_json_u256(val), "proof", proof_json(&sp[i])));
    }
    qcn_u256_to_be(be, &a.balance);
    o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "address", qcn_rpc_json_data(addr, sizeof addr),
                  "accountProof", proof_json(&acc), "balance", qcn_rpc_json_u256(be), "nonce",
                  qcn_rpc_json_u64(a.nonce), "codeHash",
                  qcn_rpc_json_data(a.code_hash, QCN_HASH_BYTES), "storageHash",
                  qcn_rpc_json_data(a.storage_root, QCN_HASH_BYTES), "storageProof", sproofs);
    sproofs = NULL;
    if (o == NULL)
        rc = qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    *result = o;
clear:
    qcn_mpt_proof_clear(&acc);
    for (size_t i = 0; i < n; i++)
        qcn_mpt_proof_clear(&sp[i]);
out:
    json_decref(sproofs);
    free(slots);
    free(sp);
    return rc;
}

const struct qcn_rpc_method qcn_rpc_methods_eth[] = {
    {"eth_gasPrice", eth_gas_price, 0},
    {"eth_maxPriorityFeePerGas", eth_max_priority_fee, 0},
    {"eth_feeHistory", eth_fee_history, 0},
    {"eth_getBalance", eth_get_balance, 0},
    {"eth_getTransactionCount", eth_get_transaction_count, 0},
    {"eth_getCode", eth_get_code, 0},
    {"eth_getStorageAt", eth_get_storage_at, 0},
    {"eth_call", eth_call, 0},
    {"eth_estimateGas", eth_estimate_gas, 0},
    {"eth_sendRawTransaction", eth_send_raw_transaction, 0},
    {"eth_getTransactionByHash", eth_get_transaction_by_hash, 0},
    {"eth_getTransactionReceipt", eth_get_transaction_receipt, 0},
    {"eth_getBlockByNumber", eth_get_block_by_number, 0},
    {"eth_getBlockByHash", eth_get_block_by_hash, 0},
    {"eth_getBlockReceipts", eth_get_block_receipts, 0},
    {"eth_getBlockTransactionCountByNumber", eth_get_block_tx_count_by_number, 0},
    {"eth_getBlockTransactionCountByHash", eth_get_block_tx_count_by_hash, 0},
    {"eth_getLogs", eth_get_logs, 0},
    {"eth_getProof", eth_get_proof, 0},
    {"qcn_getAccountKey", qcn_get_account_key, 0},
    {"qcn_mempoolStatus", qcn_mempool_status, 0},
};
const size_t qcn_rpc_methods_eth_len = sizeof qcn_rpc_methods_eth / sizeof qcn_rpc_methods_eth[0];
