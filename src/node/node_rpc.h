/* node_rpc.h - the node's side of the JSON-RPC server (src/rpc,
 * docs/rpc.md "Wiring it into the node") and of the metrics registry it
 * serves on GET /metrics. Internal to src/node.
 *
 * One registry (util/metrics.h) per node holds the RPC's own series and the
 * node's: qcn_block_commit_seconds (store commit of each block) and
 * qcn_verify_seconds (ML-DSA check of each admitted-or-refused transaction).
 * The registry exists whether or not RPC is enabled; it is freed by
 * qcn_node_rpc_free after the loop (and the thread pool) drained.
 *
 * Threads: everything on the loop thread, except qcn_node_metrics_verify
 * (thread pool; the registry's updates are atomic). */
#ifndef QCN_NODE_NODE_RPC_H
#define QCN_NODE_NODE_RPC_H

#include <stdint.h>

#include "node/node.h"
#include "util/err.h"

/* File in the data directory holding the admin bearer token. */
#define QCN_NODE_RPC_TOKEN_FILE "rpc.token"

/* Extra RPC methods the node serves on top of src/rpc's set. */
struct qcn_rpc_method;

/* Creates the metrics registry and, when rpc.enabled, starts the server on
 * n->loop at rpc.addr with rpc.cors and the caps from the config, and a
 * block listener that sends newHeads. QCN_ERR_CONFIG (bad address),
 * QCN_ERR_IO (port in use), QCN_ERR_NOMEM; a message has been logged. */
QCN_MUST_CHECK int qcn_node_rpc_start(struct qcn_node *n);
/* Adds methods (static storage) to the running server, e.g. the consensus
 * engine's status. No-op when RPC is off. */
QCN_MUST_CHECK int qcn_node_rpc_register(struct qcn_node *n, const struct qcn_rpc_method *methods,
                                         size_t count);
/* Stops listening (loop thread; handles close as the loop drains). */
void qcn_node_rpc_stop(struct qcn_node *n);
/* Frees the server and the registry after the loop drained. */
void qcn_node_rpc_free(struct qcn_node *n);

/* A transaction reached the pool. cb is the submitter's callback: the RPC's
 * own submissions already sent newPendingTransactions, every other source
 * (p2p, the load generator) gets it sent here. */
void qcn_node_rpc_tx_admitted(struct qcn_node *n, const uint8_t hash[32], qcn_node_submit_cb cb);

/* Observations (seconds). No-ops before start and after free. */
void qcn_node_metrics_commit(struct qcn_node *n, double seconds);
void qcn_node_metrics_verify(struct qcn_node *n, double seconds);

/* The registry (NULL before start). */
struct qcn_metrics *qcn_node_metrics(const struct qcn_node *n);

#endif
