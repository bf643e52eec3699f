/* chain_backend.h - a ready-made struct qcn_rpc_backend over the node's
 * store, chain and mempool, so wiring the RPC into the node is a few lines:
 *
 *   struct qcn_rpc_chain_src src = {n->store, n->chain, n->mempool,
 *                                   node_submit, n, node_info, n};
 *   qcn_rpc_chain_backend(&backend, &src);
 *   qcn_rpc_new(&rpc, &config, &backend);
 *
 * Reads: blocks, receipts and the transaction index from the store (a short
 * snapshot per call; table formats in docs/storage.md), head state through
 * the chain (committed head only), the pool through the mempool. Submission
 * and node facts stay with the node (signature checks on its workers,
 * gossip). src must outlive the dispatcher. Loop thread only. */
#ifndef QCN_RPC_CHAIN_BACKEND_H
#define QCN_RPC_CHAIN_BACKEND_H

#include "chain/chain.h"
#include "chain/mempool.h"
#include "rpc/rpc.h"
#include "store/store.h"

struct qcn_rpc_chain_src {
    struct qcn_store *store;
    struct qcn_chain *chain;
    struct qcn_mempool *mempool; /* may be NULL */
    /* as struct qcn_rpc_backend's submit_tx (NULL: read-only node) */
    int (*submit_tx)(void *user, const uint8_t *raw, size_t len,
                     void (*done)(void *done_ctx, int err, const uint8_t hash[QCN_HASH_BYTES]),
                     void *done_ctx);
    void *submit_user;
    int (*node_info)(void *user, json_t **out); /* may be NULL */
    void *node_info_user;
};

/* Fills out; out->user is src. */
void qcn_rpc_chain_backend(struct qcn_rpc_backend *out, struct qcn_rpc_chain_src *src);

#endif
