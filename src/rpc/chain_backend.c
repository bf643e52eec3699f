/* chain_backend.c - struct qcn_rpc_backend over store + chain + mempool.
 * Store rows (store/store.h, state/statedb_batch.h): CANON be64 height ->
 * block hash; HEADER hash -> header RLP; BODY hash -> RLP list of
 * envelopes; RECEIPTS hash -> RLP list of receipts; TXINDEX tx hash -> block
 * hash || be32 index. */
#include "rpc/chain_backend.h"

#include <string.h>

#include "rpc/evm.h"
#include "state/account.h"
#include "state/statedb.h"

static int snap_get(struct qcn_rpc_chain_src *src, struct qcn_store_snap **snap, int table,
                    const void *key, size_t klen, struct qcn_view *val)
{
    int err;
    if (*snap == NULL && (err = qcn_store_snap_begin(src->store, snap)) != QCN_OK)
        return err;
    return qcn_store_get(*snap, NULL, table, key, klen, val);
}

/* The head as committed in the store, not the chain's: the node may have
 * built the next block while its commit is still in flight, and a client that
 * reads eth_blockNumber then asks for that block must find it. */
static int cb_head(void *u, uint64_t *out)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_store_snap *snap = NULL;
    uint8_t hash[QCN_HASH_BYTES];
    int err = qcn_store_snap_begin(src->store, &snap);

    if (err == QCN_OK)
        err = qcn_store_head_get(snap, NULL, out, hash);
    qcn_store_snap_end(snap);
    if (err != QCN_OK)
        *out = qcn_chain_head(src->chain)->height;
    return QCN_OK;
}

static int node_info(void *u, json_t **out)
{
    struct qcn_rpc_chain_src *src = u;
    if (src->node_info == NULL) {
        *out = json_object();
        return *out != NULL ? QCN_OK : QCN_ERR_NOMEM;
    }
    return src->node_info(src->node_info_user, out);
}

static int net_status(void *u, json_t **out)
{
    struct qcn_rpc_chain_src *src = u;
    return src->net_status(src->net_status_user, out);
}

static int block_at(struct qcn_rpc_chain_src *src, struct qcn_store_snap **snap,
                    const uint8_t hash[QCN_HASH_BYTES], struct qcn_block *out)
{
    struct qcn_view v;
    int err;

    memset(out, 0, sizeof *out);
    if ((err = snap_get(src, snap, QCN_STORE_HEADER, hash, QCN_HASH_BYTES, &v)) != QCN_OK)
        return err;
    if ((err = qcn_header_decode(&out->header, v)) != QCN_OK)
        return err;
    memcpy(out->hash, hash, QCN_HASH_BYTES);
    err = snap_get(src, snap, QCN_STORE_BODY, hash, QCN_HASH_BYTES, &v);
    if (err == QCN_ERR_NOT_FOUND)
        return QCN_OK; /* a block without a body row has no transactions */
    if (err == QCN_OK)
        err = qcn_block_body_decode(out, v);
    if (err != QCN_OK)
        qcn_block_clear(out);
    return err;
}

static int cb_block_by_hash(void *u, const uint8_t hash[QCN_HASH_BYTES], struct qcn_block *out)
{
    struct qcn_store_snap *snap = NULL;
    int err = block_at(u, &snap, hash, out);
    qcn_store_snap_end(snap);
    return err;
}

static int cb_block_by_number(void *u, uint64_t n, struct qcn_block *out)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_store_snap *snap = NULL;
    struct qcn_view v;
    uint8_t key[8], hash[QCN_HASH_BYTES];
    int err;

    memset(out, 0, sizeof *out);
    qcn_store_be64(key, n);
    err = snap_get(src, &snap, QCN_STORE_CANON, key, sizeof key, &v);
    if (err == QCN_OK && v.len != QCN_HASH_BYTES)
        err = QCN_ERR_STORE_CORRUPT;
    if (err == QCN_OK) {
        memcpy(hash, v.p, QCN_HASH_BYTES);
        err = block_at(src, &snap, hash, out);
    }
    qcn_store_snap_end(snap);
    return err;
}

static int cb_block_receipts(void *u, const uint8_t hash[QCN_HASH_BYTES], struct qcn_receipt **out,
                             size_t *n)
{
    struct qcn_store_snap *snap = NULL;
    struct qcn_view v;
    int err;

    *out = NULL;
    *n = 0;
    err = snap_get(u, &snap, QCN_STORE_RECEIPTS, hash, QCN_HASH_BYTES, &v);
    if (err == QCN_ERR_NOT_FOUND) {
        err = QCN_OK; /* no row: a block without transactions */
    } else if (err == QCN_OK) {
        err = qcn_receipts_decode(out, n, v);
    }
    qcn_store_snap_end(snap);
    return err;
}

static int cb_tx_location(void *u, const uint8_t tx_hash[QCN_HASH_BYTES],
                          uint8_t block_hash[QCN_HASH_BYTES], uint32_t *index)
{
    struct qcn_store_snap *snap = NULL;
    struct qcn_view v;
    int err = snap_get(u, &snap, QCN_STORE_TXINDEX, tx_hash, QCN_HASH_BYTES, &v);

    if (err == QCN_OK && v.len != QCN_HASH_BYTES + 4)
        err = QCN_ERR_STORE_CORRUPT;
    if (err == QCN_OK) {
        memcpy(block_hash, v.p, QCN_HASH_BYTES);
        *index = qcn_load_be32(v.p + QCN_HASH_BYTES);
    }
    qcn_store_snap_end(snap);
    return err;
}

static int cb_account(void *u, const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t *nonce,
                      struct qcn_u256 *balance)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_account a;
    int err = qcn_chain_account_get(src->chain, &a, addr);
    if (err != QCN_OK)
        return err;
    *nonce = a.nonce;
    *balance = a.balance;
    return QCN_OK;
}

static int cb_code(void *u, const uint8_t addr[QCN_ADDRESS_BYTES], struct qcn_buf *out)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_account a;
    int err = qcn_chain_account_get(src->chain, &a, addr);
    if (err != QCN_OK)
        return err;
    if (memcmp(a.code_hash, qcn_empty_code_hash, QCN_HASH_BYTES) == 0)
        return QCN_ERR_NOT_FOUND;
    return qcn_statedb_code_get(qcn_chain_state(src->chain), out, a.code_hash);
}

static int cb_storage(void *u, const uint8_t addr[QCN_ADDRESS_BYTES],
                      const uint8_t slot[QCN_HASH_BYTES], uint8_t out[QCN_HASH_BYTES])
{
    struct qcn_rpc_chain_src *src = u;
    return qcn_statedb_storage_get(qcn_chain_state(src->chain), out, addr, slot);
}

static int cb_key_record(void *u, const uint8_t addr[QCN_ADDRESS_BYTES], struct qcn_buf *out)
{
    struct qcn_rpc_chain_src *src = u;
    uint8_t kh[QCN_HASH_BYTES];
    return qcn_chain_key_get(src->chain, kh, out, addr);
}

static int cb_pending_tx(void *u, const uint8_t hash[QCN_HASH_BYTES], struct qcn_tx **out)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_tx *tx = src->mempool != NULL ? qcn_mempool_get(src->mempool, hash) : NULL;
    *out = tx != NULL ? qcn_tx_ref(tx) : NULL;
    return tx != NULL ? QCN_OK : QCN_ERR_NOT_FOUND;
}

static int cb_pending_nonce(void *u, const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t *out)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_account a;
    int err = qcn_chain_account_get(src->chain, &a, addr);
    if (err == QCN_ERR_NOT_FOUND) {
        a.nonce = 0;
        err = QCN_OK;
    }
    if (err != QCN_OK)
        return err;
    *out = src->mempool != NULL ? qcn_mempool_pending_nonce(src->mempool, addr, a.nonce) : a.nonce;
    return QCN_OK;
}

static int cb_mempool_status(void *u, size_t *count, size_t *bytes)
{
    struct qcn_rpc_chain_src *src = u;
    *count = src->mempool != NULL ? qcn_mempool_count(src->mempool) : 0;
    *bytes = src->mempool != NULL ? qcn_mempool_bytes(src->mempool) : 0;
    return QCN_OK;
}

static int cb_next_base_fee(void *u, uint64_t *out)
{
    struct qcn_rpc_chain_src *src = u;
    *out = qcn_chain_next_base_fee(src->chain);
    return QCN_OK;
}

static int cb_prove(void *u, const uint8_t addr[QCN_ADDRESS_BYTES], const uint8_t (*slots)[32],
                    size_t nslots, struct qcn_mpt_proof *acc, struct qcn_mpt_proof *storage)
{
    struct qcn_rpc_chain_src *src = u;
    return qcn_statedb_prove(qcn_chain_state(src->chain), acc, addr, slots, nslots, storage);
}

/* eth_call / eth_estimateGas through the chain's own executor
 * (qcn_chain_call, chain/evm_exec.c): the same EVM path, state database and
 * code cache as block execution, in the context of the block a transaction
 * sent now lands in (NUMBER = head + 1, the next base fee), so an estimate
 * holds for code that depends on the block number (ERC20Votes checkpoints:
 * docs/contracts.md). head is not needed: the chain knows its own. */
static int cb_exec(void *u, const struct qcn_header *head, const struct qcn_rpc_exec_msg *m,
                   enum qcn_rpc_exec_status *status, uint64_t *gas_used, struct qcn_buf *out)
{
    struct qcn_rpc_chain_src *src = u;
    struct qcn_chain_call call;
    struct qcn_chain_call_result res;
    int err;

    (void)head;
    if (m->gas == 0) {
        /* qcn_chain_call reads 0 as "the block gas limit": keep the caller's cap. */
        *status = QCN_RPC_EXEC_FAILURE;
        *gas_used = 0;
        return QCN_OK;
    }
    memset(&call, 0, sizeof call);
    memcpy(call.from, m->from, QCN_ADDRESS_BYTES);
    call.has_to = m->has_to;
    memcpy(call.to, m->to, QCN_ADDRESS_BYTES);
    call.value = qcn_u256_load_be(m->value);
    call.data = qcn_view_make(m->data, m->data_len);
    call.gas = m->gas;
    memset(&res, 0, sizeof res);
    res.output = *out; /* the caller's buffer and cap, handed back below */
    err = qcn_chain_call(src->chain, &res, &call);
    *out = res.output;
    *status = res.status == QCN_CHAIN_CALL_SUCCESS  ? QCN_RPC_EXEC_SUCCESS
              : res.status == QCN_CHAIN_CALL_REVERT ? QCN_RPC_EXEC_REVERT
                                                    : QCN_RPC_EXEC_FAILURE;
    *gas_used = res.gas_used;
    return err;
}

static int cb_submit(void *u, const uint8_t *raw, size_t len,
                     void (*done)(void *done_ctx, int err, const uint8_t hash[QCN_HASH_BYTES]),
                     void *done_ctx)
{
    struct qcn_rpc_chain_src *src = u;
    return src->submit_tx(src->submit_user, raw, len, done, done_ctx);
}

void qcn_rpc_chain_backend(struct qcn_rpc_backend *out, struct qcn_rpc_chain_src *src)
{
    memset(out, 0, sizeof *out);
    out->user = src;
    out->head_number = cb_head;
    out->node_info = node_info;
    out->net_status = src->net_status != NULL ? net_status : NULL;
    out->block_by_number = cb_block_by_number;
    out->block_by_hash = cb_block_by_hash;
    out->block_receipts = cb_block_receipts;
    out->tx_location = cb_tx_location;
    out->account = cb_account;
    out->code = cb_code;
    out->storage = cb_storage;
    out->key_record = cb_key_record;
    out->pending_tx = cb_pending_tx;
    out->pending_nonce = cb_pending_nonce;
    out->mempool_status = cb_mempool_status;
    out->next_base_fee = cb_next_base_fee;
    out->prove = cb_prove;
    out->exec = cb_exec;
    out->submit_tx = src->submit_tx != NULL ? cb_submit : NULL;
}

void qcn_rpc_chain_src_clear(struct qcn_rpc_chain_src *src)
{
    qcn_rpc_evm_free(src->evm);
    src->evm = NULL;
}
