/* node_p2p.h - the node's side of the peer-to-peer network (src/p2p,
 * docs/p2p.md): starts it on the node's loop from the config keys
 * p2p.listen and p2p.bootnodes, and implements its host callbacks over the
 * node's store, chain and mempool. Internal to src/node; loop thread only. */
#ifndef QCN_NODE_NODE_P2P_H
#define QCN_NODE_NODE_P2P_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct qcn_node;
struct json_t;

/* File holding the node's 32-byte p2p identity seed (created 0600 on first
 * start; the ML-DSA-65 identity key is derived from it). */
#define QCN_NODE_P2P_KEY_FILE "p2p.key"

/* Starts p2p when p2p.listen or p2p.bootnodes is set (otherwise does
 * nothing): loads or creates the identity, listens, dials the bootnodes;
 * with p2p.test_faults (test builds) registers the admin RPC method
 * qcn_admin_p2pPartition (docs/p2p.md §10), so RPC must have started first.
 * QCN_ERR_CONFIG (a bad address), QCN_ERR_IO (cannot listen, key file). */
QCN_MUST_CHECK int qcn_node_p2p_start(struct qcn_node *n);
/* Closes every connection (asynchronous; the node's loop drains it). */
void qcn_node_p2p_stop(struct qcn_node *n);
/* Frees the p2p state after the loop has drained. */
void qcn_node_p2p_free(struct qcn_node *n);
/* A transaction entered the pool: announce it to peers. */
void qcn_node_p2p_tx_admitted(struct qcn_node *n, const uint8_t hash[32]);

/* Connected peers whose handshake is complete (0 without p2p). */
size_t qcn_node_p2p_peer_count(const struct qcn_node *n);
/* The p2p status as the RPC's net_status wants it (rpc/rpc.h): a new JSON
 * object {"listening", "nodeId", "port", "peers": [...]}; without p2p,
 * listening false, nodeId null, no peers. QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_node_p2p_status_json(const struct qcn_node *n, struct json_t **out);

#endif
