/* chain_backend.h - a ready-made struct qcn_rpc_backend over the node's
 * store, chain and mempool, so wiring the RPC into the node is a few lines:
 *
 *   struct qcn_rpc_chain_src src = {.store = n->store, .chain = n->chain,
 *                                   .mempool = n->mempool, .submit_tx = node_submit,
 *                                   .submit_user = n};
 *   qcn_rpc_chain_backend(&backend, &src);
 *   qcn_rpc_new(&rpc, &config, &backend);
 *   ...   qcn_rpc_free(rpc); qcn_rpc_chain_src_clear(&src);
 *
 * or, simpler, qcn_rpc_service_start below.
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
    int (*net_status)(void *user, json_t **out); /* may be NULL (no p2p) */
    void *net_status_user;
    struct qcn_rpc_evm *evm; /* internal: zero it; made on the first eth_call */
};

/* Fills out; out->user is src. exec runs our EVM (rpc/evm.h) over the head
 * state. */
void qcn_rpc_chain_backend(struct qcn_rpc_backend *out, struct qcn_rpc_chain_src *src);
/* Frees what the backend made (the EVM); src itself is the caller's. */
void qcn_rpc_chain_src_clear(struct qcn_rpc_chain_src *src);

/* The whole RPC service in one object: dispatcher + server + this backend,
 * with newPendingTransactions sent for every transaction submitted through
 * it. The node's wiring is then:
 *
 *   qcn_rpc_service_start(&svc, &n->loop, n->cfg.rpc_addr, "<datadir>/rpc.token",
 *                         chain_id, &src);             in qcn_node_run
 *   qcn_rpc_notify_block(qcn_rpc_service_rpc(svc), blk, NULL);   block listener
 *   qcn_rpc_notify_pending_tx(qcn_rpc_service_rpc(svc), hash);   other admissions
 *   qcn_rpc_service_stop(svc);                          in qcn_node_stop
 *   qcn_rpc_service_free(svc);                          after the loop drained
 *
 * addr is "host:port" (IPv6 as "[::1]:8545"; port 0 = any free port). src
 * is copied. base may be NULL
 * (defaults) or carry other settings (cors, caps, metrics); its addr, port,
 * chain_id and admin_token_file are replaced. QCN_ERR_CONFIG for a bad
 * address, QCN_ERR_IO if the port cannot be bound, QCN_ERR_NOMEM. */
struct qcn_rpc_service;
QCN_MUST_CHECK int qcn_rpc_service_start(struct qcn_rpc_service **out, void *loop, const char *addr,
                                         const char *token_file, uint64_t chain_id,
                                         const struct qcn_rpc_chain_src *src,
                                         const struct qcn_rpc_config *base);
struct qcn_rpc *qcn_rpc_service_rpc(struct qcn_rpc_service *s);
int qcn_rpc_service_port(const struct qcn_rpc_service *s);
void qcn_rpc_service_stop(struct qcn_rpc_service *s);
void qcn_rpc_service_free(struct qcn_rpc_service *s);

#endif
