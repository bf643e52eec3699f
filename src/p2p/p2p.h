/* p2p.h - the peer-to-peer network of a node: TCP on a libuv loop, the
 * authenticated post-quantum handshake and sealed frames (p2p/secure.h),
 * peers (limits, dial backoff, bootnodes, peer exchange, scores, bans, rate
 * limits), gossip (transactions announced by hash and fetched on request,
 * block announcements, consensus messages) and block sync. docs/p2p.md is
 * the normative description of the wire protocol.
 *
 * Life cycle (all on the loop thread):
 *   qcn_p2p_new(&p, loop, &cfg, &cbs)   allocates; cfg and cbs are copied
 *   qcn_p2p_start(p)                    listens, dials bootnodes, starts timers
 *   ... the loop runs ...
 *   qcn_p2p_stop(p)                     says goodbye, closes every handle
 *   (let the loop run until the close callbacks have fired: uv_run)
 *   qcn_p2p_free(p)
 *
 * The p2p layer never touches the chain or the store itself: it asks its host
 * through the callbacks below (the node implements them), so it is testable
 * with in-memory hosts. Threads: everything, callbacks included, runs on the
 * loop thread; no function here is thread-safe. */
#ifndef QCN_P2P_P2P_H
#define QCN_P2P_P2P_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "codec/block.h"
#include "codec/p2p_msg.h"
#include "p2p/secure.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_P2P_MAX_BOOTNODES 16
#define QCN_P2P_MAX_ADDR_TEXT 64    /* "host:port" */
#define QCN_P2P_MAX_KNOWN_ADDRS 256 /* address book entries */
#define QCN_P2P_SEEN_CACHE 8192     /* tx and block hashes remembered for duplicate suppression */
#define QCN_P2P_CONSENSUS_SEEN_CACHE 4096 /* consensus message ids, likewise */
/* Default of cfg.consensus_redeliver_ms. */
#define QCN_P2P_CONSENSUS_REDELIVER_MS 2000u
#define QCN_P2P_MAX_BANS 256
#define QCN_P2P_MAX_PENDING_TX_REQ 4096 /* tx hashes requested, not yet answered */
/* Bytes queued for sending to one peer; beyond it the peer is too slow and
 * is dropped (back-pressure instead of unbounded memory). */
#define QCN_P2P_MAX_SEND_QUEUE (128u * 1024u * 1024u)

/* Score changes (docs/p2p.md §5). A peer starts at 0; at cfg.ban_score or
 * below it is disconnected and banned for cfg.ban_ms. */
#define QCN_P2P_PENALTY_MALFORMED 25   /* undecodable message, bad enum */
#define QCN_P2P_PENALTY_OVERSIZE 50    /* a count or length over its cap */
#define QCN_P2P_PENALTY_INVALID 40     /* invalid tx/block/consensus data */
#define QCN_P2P_PENALTY_UNSOLICITED 10 /* data nobody asked for */
#define QCN_P2P_PENALTY_RATE 5         /* a message over the rate limit (dropped) */
#define QCN_P2P_PENALTY_TIMEOUT 10     /* a sync request not answered in time */
#define QCN_P2P_BAN_SCORE_DEFAULT (-100)

struct qcn_p2p_config {
    uint64_t chain_id;
    uint8_t genesis_hash[QCN_HASH_BYTES];
    const struct qcn_p2p_identity *identity; /* must outlive the p2p object */
    char listen[QCN_P2P_MAX_ADDR_TEXT];      /* "ip:port"; "" = no listener; port 0 = any */
    char bootnodes[QCN_P2P_MAX_BOOTNODES][QCN_P2P_MAX_ADDR_TEXT]; /* "ip:port" */
    size_t nbootnodes;
    uint32_t max_inbound;          /* default 32 */
    uint32_t max_outbound;         /* default 8 */
    uint64_t dial_backoff_min_ms;  /* default 500 */
    uint64_t dial_backoff_max_ms;  /* default 60000 */
    uint64_t handshake_timeout_ms; /* default 10000 */
    uint64_t ping_interval_ms;     /* default 15000; idle peers are pinged */
    uint64_t sync_timeout_ms;      /* default 10000 */
    uint64_t pex_interval_ms;      /* default 30000: ask every peer for addresses */
    /* Rekey bounds are part of the protocol (both ends must use the same):
     * leave 0 (QCN_P2P_REKEY_*_DEFAULT); tests set small values on both. */
    uint64_t rekey_frames;
    uint64_t rekey_bytes;
    uint32_t rate_msgs_per_s;  /* default 2000 (burst: one second's worth) */
    uint64_t rate_bytes_per_s; /* default 64 MiB */
    int32_t ban_score;         /* default QCN_P2P_BAN_SCORE_DEFAULT */
    uint64_t ban_ms;           /* default 600000 */
    int ban_ip;                /* also ban the peer's IP (default 1) */
    uint32_t sync_batch;       /* blocks per request, default 32 (<= 64) */
    int relay_consensus;       /* re-gossip accepted consensus messages (default 1) */
    /* A broadcast consensus message already handed to the engine is handed
     * to it again when it arrives this long after (and never relayed
     * again): engines repeat what a peer may have dropped while it was
     * behind, so byte-identical repeats must not be suppressed for good
     * (docs/p2p.md §6). Default QCN_P2P_CONSENSUS_REDELIVER_MS. */
    uint32_t consensus_redeliver_ms;
    /* A peer exactly one block ahead is synced from only after we stayed
     * behind it this long (0, the default: at once). Under BFT consensus
     * that block is usually the one we are committing ourselves from its
     * proposal: fetching it would send the whole block again. */
    uint64_t sync_lag_ms;
    uint16_t version;     /* tests only: default QCN_P2P_VERSION */
    uint16_t min_version; /* tests only: default QCN_P2P_MIN_VERSION */
    uint32_t faults;      /* tests only: QCN_P2P_FAULT_* */
};

/* Fills defaults (everything but chain_id, genesis_hash and identity). */
void qcn_p2p_config_default(struct qcn_p2p_config *c);

/* What the p2p layer asks of its host. Any pointer may be NULL (the feature
 * is then off: e.g. no get_block means this node serves no blocks). Data
 * handed to a callback lives only during the call. */
struct qcn_p2p_callbacks {
    void *ctx;
    /* The committed head. */
    void (*get_head)(void *ctx, uint64_t *height, uint8_t hash[QCN_HASH_BYTES]);
    /* A transaction body fetched from a peer (after we asked for it). The
     * host admits it (and, once admitted, calls qcn_p2p_broadcast_tx_hash).
     * Return QCN_OK or any error; a malformed envelope (QCN_ERR_TX_MALFORMED,
     * QCN_ERR_TX_OVERSIZED, bad signature) scores the sender down. */
    int (*on_tx)(void *ctx, const uint8_t *raw, size_t len,
                 const uint8_t peer[QCN_P2P_NODE_ID_BYTES]);
    /* 1 if the host already has the transaction (pool or chain). */
    int (*has_tx)(void *ctx, const uint8_t hash[QCN_HASH_BYTES]);
    /* Appends the envelope of a pooled transaction to out; QCN_ERR_NOT_FOUND. */
    int (*get_tx)(void *ctx, const uint8_t hash[QCN_HASH_BYTES], struct qcn_buf *out);
    /* Appends the encoded block at height to block and its commit
     * certificate, if known separately (the head's), to commit.
     * QCN_ERR_NOT_FOUND past the head. */
    int (*get_block)(void *ctx, uint64_t height, struct qcn_buf *block, struct qcn_buf *commit);
    /* A block fetched by sync, decoded (blk, hash set) and as received (raw,
     * raw_len bytes), with the commit certificate its sender had for it (may
     * be empty): verify and apply it on top of the head (the host may take
     * either form; blk may be consumed). QCN_OK (the head advanced), or the rejection
     * (the sender is scored down unless the error is QCN_ERR_BLOCK_PARENT,
     * i.e. we moved on meanwhile, or QCN_ERR_BUSY / QCN_ERR_STORE_FULL: the
     * host cannot take a block right now and sync asks again later). */
    int (*apply_block)(void *ctx, struct qcn_block *blk, const uint8_t *raw, size_t raw_len,
                       const uint8_t *commit, size_t commit_len);
    /* A consensus message (kind: enum qcn_p2p_consensus_kind). Return QCN_OK
     * if valid (it is then relayed when cfg.relay_consensus, the first time
     * only), another error to score the sender down. The same broadcast
     * bytes come at most once per cfg.consensus_redeliver_ms. */
    int (*on_consensus)(void *ctx, const uint8_t peer[QCN_P2P_NODE_ID_BYTES], uint8_t kind,
                        const uint8_t *payload, size_t len);
    /* Sync reached the best head any peer reported. */
    void (*on_synced)(void *ctx, uint64_t height);
    /* A peer finished its handshake (connected 1) or left (0). */
    void (*on_peer)(void *ctx, const uint8_t peer[QCN_P2P_NODE_ID_BYTES], int connected);
};

typedef struct qcn_p2p qcn_p2p;

QCN_MUST_CHECK int qcn_p2p_new(qcn_p2p **out, uv_loop_t *loop, const struct qcn_p2p_config *cfg,
                               const struct qcn_p2p_callbacks *cbs);
/* Listens (if cfg.listen) and dials the bootnodes. QCN_ERR_IO (bind/listen
 * failed), QCN_ERR_CONFIG (an address that does not parse). Sets SIGPIPE to
 * ignored for the whole process (writes to a closed peer must not kill it). */
QCN_MUST_CHECK int qcn_p2p_start(qcn_p2p *p);
/* The port actually listened on (after start; 0 if none). */
uint16_t qcn_p2p_listen_port(const qcn_p2p *p);
/* Closes every connection and handle (asynchronous: run the loop after). */
void qcn_p2p_stop(qcn_p2p *p);
/* 1 once every handle closed after qcn_p2p_stop. */
int qcn_p2p_closed(const qcn_p2p *p);
/* Frees a stopped, closed object. NULL is a no-op. */
void qcn_p2p_free(qcn_p2p *p);

/* Adds an address to dial ("ip:port"). QCN_ERR_CONFIG, QCN_ERR_TOO_LARGE. */
QCN_MUST_CHECK int qcn_p2p_dial(qcn_p2p *p, const char *addr);

/* Gossip. The hash/payload is recorded as seen (a copy coming back is not
 * re-announced). */
void qcn_p2p_broadcast_tx_hash(qcn_p2p *p, const uint8_t hash[QCN_HASH_BYTES]);
void qcn_p2p_broadcast_block(qcn_p2p *p, uint64_t height, const uint8_t hash[QCN_HASH_BYTES]);
/* QCN_ERR_TOO_LARGE over the kind's cap, QCN_ERR_CODEC for an unknown kind. */
QCN_MUST_CHECK int qcn_p2p_broadcast_consensus(qcn_p2p *p, uint8_t kind, const uint8_t *payload,
                                               size_t len);
/* Sends a consensus message to one connected peer (the point-to-point
 * kinds, QCN_P2P_CONSENSUS_IS_DIRECT, or any other). QCN_ERR_NOT_FOUND (no
 * such open connection), QCN_ERR_TOO_LARGE, QCN_ERR_CODEC as above. */
QCN_MUST_CHECK int qcn_p2p_send_consensus(qcn_p2p *p, const uint8_t node_id[QCN_P2P_NODE_ID_BYTES],
                                          uint8_t kind, const uint8_t *payload, size_t len);
/* Scores a connected peer down by amount (for invalid data found later,
 * e.g. a transaction whose signature failed on a worker thread, or a
 * consensus message the engine rejects after the callback). A peer that
 * reaches the threshold is banned. Returns 1 if the peer was connected. */
int qcn_p2p_penalize(qcn_p2p *p, const uint8_t node_id[QCN_P2P_NODE_ID_BYTES], int32_t amount,
                     const char *why);

/* Tells p2p the head moved (a block was committed by anyone): updates the
 * status it advertises and the sync state. */
void qcn_p2p_head_changed(qcn_p2p *p);

struct qcn_p2p_peer_info {
    uint8_t node_id[QCN_P2P_NODE_ID_BYTES];
    char addr[QCN_P2P_MAX_ADDR_TEXT];
    int inbound;
    int32_t score;
    uint64_t head_height;
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t rekeys_in, rekeys_out;
    uint16_t version;
    int partitioned; /* the test fault drops its messages (qcn_p2p_fault_partition) */
    int ready;       /* its STATUS was heard: gossip and consensus now go to it */
};
/* Fills up to max established peers; returns how many there are. */
size_t qcn_p2p_peers(const qcn_p2p *p, struct qcn_p2p_peer_info *out, size_t max);

struct qcn_p2p_stats {
    uint64_t dials; /* outbound connection attempts */
    uint64_t handshakes_ok;
    uint64_t handshakes_failed;
    uint64_t frames_rejected; /* failed to open: connection closed */
    uint64_t oversize_frames;
    uint64_t bans;
    uint64_t refused_banned;  /* connections refused because of a ban */
    uint64_t refused_full;    /* refused: max inbound reached */
    uint64_t tx_announced_in; /* hashes received in announcements */
    uint64_t tx_requested;    /* hashes we asked for */
    uint64_t tx_bodies_in;    /* bodies received */
    uint64_t tx_bodies_out;   /* bodies served */
    uint64_t dup_suppressed;  /* announcements/messages dropped as already seen */
    uint64_t blocks_synced;   /* applied through sync */
    uint64_t blocks_rejected; /* sync blocks that failed to apply */
    uint64_t consensus_in;
    uint64_t rate_limited;
    int syncing;
    uint64_t best_height;   /* highest head a peer reported */
    uint64_t fault_dropped; /* messages dropped by the test partition (both directions) */
};
void qcn_p2p_stats_get(const qcn_p2p *p, struct qcn_p2p_stats *out);

/* 1 if node_id is banned now. */
int qcn_p2p_is_banned(const qcn_p2p *p, const uint8_t node_id[QCN_P2P_NODE_ID_BYTES]);

#ifdef QCN_TEST_FAULTS
/* Test-only network partition (docs/p2p.md §10), compiled only with the
 * QCN_TEST_FAULTS build option. Replaces the set of peers cut off from this
 * node by ids[0..n) (n == 0 heals). Every message to or from a listed peer
 * after the handshake is dropped, in both directions. Connections stay up
 * while cut (the liveness timeout does not count, and a listed peer is
 * never asked for blocks); a connection that is healed is closed and
 * dialled again, so both ends start over with a fresh handshake and STATUS
 * exchange, as after a real partition. Handshakes are not affected.
 * QCN_OK, or QCN_ERR_TOO_LARGE past QCN_P2P_MAX_PARTITION ids (nothing
 * changes then). Loop thread only. */
#define QCN_P2P_MAX_PARTITION 64
QCN_MUST_CHECK int qcn_p2p_fault_partition(qcn_p2p *p, const uint8_t (*ids)[QCN_P2P_NODE_ID_BYTES],
                                           size_t n);
/* The current set: fills up to max ids, returns how many there are. */
size_t qcn_p2p_fault_partition_get(const qcn_p2p *p, uint8_t (*ids)[QCN_P2P_NODE_ID_BYTES],
                                   size_t max);
#endif

#endif
