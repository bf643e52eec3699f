/* node_pos.h - the node as the host of the `pos` and `pow` engines
 * (consensus/pos.h, consensus/pow.h; docs/consensus.md §8): their
 * struct qcn_pos_host over the node's chain, store and pool, their entries
 * in the node's engine registry, and the hooks the p2p side calls.
 * Internal to src/node; loop thread only.
 *
 * Settings come from <datadir>/consensus.conf (consensus/pos_config.h, as
 * `qcn testnet init` writes it). Certificates: the one for the head is
 * stored in META under "pos.commit" || block hash before the block is
 * committed (so a block on disk always has its certificate on disk); the
 * certificate of any older block h is the commit field of block h+1. */
#ifndef QCN_NODE_NODE_POS_H
#define QCN_NODE_NODE_POS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/block.h"
#include "consensus/engine.h"
#include "consensus/pos.h"
#include "node/node.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_NODE_POS_CONFIG_FILE "consensus.conf"
/* How long p2p waits before syncing the one block a peer is ahead
 * (qcn_p2p_config.sync_lag_ms) on a pos node. */
#define QCN_NODE_POS_SYNC_LAG_MS 2000u
/* META key prefix of a block's stored certificate (followed by its hash). */
#define QCN_NODE_POS_COMMIT_KEY "pos.commit"

/* Engines that need the node itself (ctx of the engine host is the node). */
extern const struct qcn_engine_ops qcn_node_engine_pos;
extern const struct qcn_engine_ops qcn_node_engine_pow;

/* As qcn_engine_init, but also knows "pos" and "pow"; host->ctx must be the
 * struct qcn_node. QCN_ERR_NOT_FOUND (no such engine), QCN_ERR_CONFIG (pos:
 * consensus.conf missing or bad; a message has been logged). */
QCN_MUST_CHECK int qcn_node_engine_init(struct qcn_engine *e, const char *name,
                                        const struct qcn_engine_host *host,
                                        const struct qcn_engine_config *cfg);

/* How consensus messages leave this node (the p2p side sets it when it
 * starts: qcn_p2p_broadcast_consensus). Without one, a pos validator only
 * finalizes alone (a set where it holds more than 2/3 of the power). */
typedef void (*qcn_node_pos_send_fn)(void *ctx, uint8_t kind, const uint8_t *payload, size_t len);
void qcn_node_pos_set_broadcast(struct qcn_node *n, qcn_node_pos_send_fn fn, void *ctx);
/* As above plus a way to send to one peer (qcn_p2p_send_consensus), which
 * turns on compact proposals (docs/consensus.md §2.1). NULL fn: none. */
typedef void (*qcn_node_pos_send_to_fn)(void *ctx, const uint8_t peer[QCN_POS_PEER_BYTES],
                                        uint8_t kind, const uint8_t *payload, size_t len);
void qcn_node_pos_set_transport(struct qcn_node *n, qcn_node_pos_send_fn fn,
                                qcn_node_pos_send_to_fn to, void *ctx);

/* A consensus message from a peer (p2p's on_consensus): QCN_OK = well
 * formed and signed (relay it), else the reason (score the peer down).
 * QCN_ERR_UNSUPPORTED when the node does not run pos. */
QCN_MUST_CHECK int qcn_node_pos_on_message(struct qcn_node *n, uint8_t kind, const uint8_t *payload,
                                           size_t len);
/* The same naming the peer (QCN_POS_PEER_BYTES, may be NULL). */
QCN_MUST_CHECK int qcn_node_pos_on_peer_message(struct qcn_node *n, const uint8_t *peer,
                                                uint8_t kind, const uint8_t *payload, size_t len);

/* The stored certificate of the block with this hash (the head's, or one
 * block sync stored), appended to out. QCN_ERR_NOT_FOUND. */
QCN_MUST_CHECK int qcn_node_pos_commit_get(struct qcn_node *n, const uint8_t hash[32],
                                           struct qcn_buf *out);

/* Block sync's apply (p2p's apply_block) under pos: the certificate must
 * finalize blk (qcn_pos_verify_synced), and blk's own commit field must
 * certify its parent (the head); then the certificate is stored and the
 * block imported (qcn_node_import_block), and the engine moves on.
 * QCN_ERR_CONSENSUS_CERT for a missing or bad certificate; the import's
 * errors. Under any other engine: qcn_node_import_block alone. */
QCN_MUST_CHECK int qcn_node_pos_sync_apply(struct qcn_node *n, const struct qcn_block *blk,
                                           const uint8_t *raw, size_t raw_len, const uint8_t *cert,
                                           size_t cert_len);

/* The engine's status; QCN_ERR_UNSUPPORTED when the node does not run pos. */
QCN_MUST_CHECK int qcn_node_pos_status(struct qcn_node *n, struct qcn_pos_status *out);

#endif
