/* pos.h - the `pos` engine: Tendermint BFT (consensus/tendermint.h) over a
 * stake-weighted validator set (consensus/valset.h) with the randomness
 * beacon (consensus/beacon.h), the signing WAL (consensus/wal.h) and commit
 * certificates (codec/vote.h). docs/consensus.md is the normative text.
 *
 * Like every engine it never touches the loop, the store, the chain or the
 * network itself: it asks its host (struct qcn_pos_host; the node
 * implements it over its chain, store and src/p2p) and the host calls the
 * qcn_pos_on_* hooks. The engine.h interface has no way to carry consensus
 * messages or to build a block without committing it, so pos has this
 * richer host; the node wires it (docs/consensus.md §8 lists the hooks).
 *
 * What the engine checks itself on a proposal, before asking the host to
 * execute the block (check_block): the proposal signature by the round's
 * proposer, block hash = proposal hash, header height and parent, header
 * proposer = the drawn proposer, extra = the proposer's next beacon reveal,
 * mix = the beacon step, and commit = a valid certificate for the parent.
 *
 * Threads: everything on the host's loop thread; not thread-safe. */
#ifndef QCN_CONSENSUS_POS_H
#define QCN_CONSENSUS_POS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/block.h"
#include "codec/vote.h"
#include "consensus/tendermint.h"
#include "consensus/valset.h"
#include "util/bytes.h"
#include "util/err.h"

/* Consensus message kinds on the wire (= enum qcn_p2p_consensus_kind). */
enum qcn_pos_msg_kind {
    QCN_POS_MSG_PROPOSAL = 1, /* codec/vote.h proposal message (proposal + block) */
    QCN_POS_MSG_PREVOTE = 2,  /* codec/vote.h vote */
    QCN_POS_MSG_PRECOMMIT = 3,
    QCN_POS_MSG_EVIDENCE = 4, /* codec/vote.h evidence */
    /* codec/compact.h (docs/consensus.md §2.1): a proposal as header +
     * transaction hashes, and the point-to-point fetch of the transactions
     * a receiver lacks. Used when the host has get_tx and send_to. */
    QCN_POS_MSG_COMPACT = 6,
    QCN_POS_MSG_BLOCKTX_REQ = 7,
    QCN_POS_MSG_BLOCKTX = 8,
};
#define QCN_POS_PEER_BYTES 20 /* a peer's id as the host names it (p2p node id) */

/* Messages for the next height held until we get there (a peer that is a
 * little ahead), and proposals' blocks kept per height. */
#define QCN_POS_MAX_FUTURE_MSGS 1024u
#define QCN_POS_MAX_FUTURE_BYTES (64u * 1024u * 1024u)
#define QCN_POS_MAX_BLOCKS_PER_HEIGHT 64u
#define QCN_POS_MAX_VOTES_PER_HEIGHT 65536u
#define QCN_POS_MAX_EVIDENCE 256u
#define QCN_POS_MAX_TIMERS 16u
/* Compact proposals being completed at once (missing transactions asked
 * for), peers remembered per proposal to ask, requests served per peer and
 * height, and how long before a missing transaction is asked again. */
#define QCN_POS_MAX_PARTIALS 4u
#define QCN_POS_MAX_SOURCES 8u
#define QCN_POS_MAX_SERVE_PEERS 32u
#define QCN_POS_MAX_SERVES_PER_PEER 16u
#define QCN_POS_REFETCH_MS 500u

struct qcn_pos_build {
    uint64_t height;
    uint8_t proposer[QCN_ADDRESS_BYTES];
    uint8_t mix[QCN_HASH_BYTES];
    const uint8_t *extra; /* the beacon reveal */
    size_t extra_len;
    const uint8_t *commit; /* the parent's commit certificate (empty at height 1) */
    size_t commit_len;
};

struct qcn_pos_host {
    void *ctx;
    uint64_t (*now_ms)(void *ctx);
    /* One timer, as engine.h: (re)arm after delay_ms, or cancel. */
    void (*timer_set)(void *ctx, uint64_t delay_ms);
    void (*timer_cancel)(void *ctx);
    /* The committed head's height and hash. */
    void (*head)(void *ctx, uint64_t *height, uint8_t hash[QCN_HASH_BYTES]);
    /* The committed header at height (<= head), copied into out (the caller
     * clears it). QCN_ERR_NOT_FOUND. */
    int (*get_header)(void *ctx, uint64_t height, struct qcn_header *out);
    /* The commit certificate of the head as stored by commit_block or by
     * block sync (appended to out); QCN_ERR_NOT_FOUND if none (genesis). */
    int (*get_head_commit)(void *ctx, struct qcn_buf *out);
    /* Builds (without committing) the next block from the pool with these
     * header fields; appends the encoded block to out and gives its hash. */
    int (*build_block)(void *ctx, const struct qcn_pos_build *args, struct qcn_buf *out,
                       uint8_t hash[QCN_HASH_BYTES]);
    /* Validates and executes an encoded block on top of the head without
     * committing it: QCN_OK if valid, else the reason. */
    int (*check_block)(void *ctx, const uint8_t *block, size_t len);
    /* Commits a decided block (one build_block or check_block saw) and
     * stores cert as the head's commit certificate. Synchronous: QCN_OK
     * means the head is now this block. */
    int (*commit_block)(void *ctx, const uint8_t *block, size_t len, const uint8_t *cert,
                        size_t cert_len);
    /* Sends a consensus message to every peer (kind: enum qcn_pos_msg_kind). */
    void (*broadcast)(void *ctx, uint8_t kind, const uint8_t *payload, size_t len);
    /* Optional (NULL: the genesis set for every height): the validator set
     * that decides height (staking's active set of that height's epoch),
     * filled into out (initialised by the caller; beacon_last = each
     * validator's registered tip). Must be the same on every node. */
    int (*get_valset)(void *ctx, uint64_t height, struct qcn_valset *out);
    /* Optional pair (both or none; none: proposals carry the whole block).
     * get_tx appends the envelope of a pooled transaction with this
     * Keccak-256 to out (QCN_ERR_NOT_FOUND); send_to sends a message to one
     * peer (a name given to qcn_pos_on_peer_message). */
    int (*get_tx)(void *ctx, const uint8_t hash[QCN_HASH_BYTES], struct qcn_buf *out);
    void (*send_to)(void *ctx, const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                    const uint8_t *payload, size_t len);
};

struct qcn_pos_config {
    uint64_t chain_id;
    /* The genesis validator set (valset.h encoding, with beacon tips). */
    const uint8_t *validators;
    size_t validators_len;
    /* This node's validator key (ML-DSA-65; copied into guarded memory),
     * or has_key = 0 for an observer that follows but never signs. */
    int has_key;
    uint8_t sk[QCN_VOTE_SK_BYTES];
    uint8_t pk[QCN_VOTE_PK_BYTES];
    /* The beacon hash-chain seed and length whose tip is registered. */
    uint8_t beacon_seed[QCN_BEACON_BYTES];
    uint64_t beacon_length;
    /* Path of the signing WAL (required with a key). */
    const char *wal_path;
    struct qcn_tm_config timeouts; /* zero: defaults (docs/consensus.md §3) */
    uint64_t gossip_ms;            /* re-broadcast own messages; 0 = 1000 */
    /* Pause between a commit and the next height (Tendermint's
     * timeout_commit: late precommits still arrive, blocks are paced);
     * 0 = none. */
    uint64_t block_interval_ms;
    /* Tests only: sign a second, conflicting prevote each round (the
     * double-sign fault of the e2e tests; skips the WAL for it). */
    int fault_double_sign;
};

struct qcn_pos;

/* QCN_ERR_CONFIG (bad validator set, key not in ... is fine: then it only
 * follows), QCN_ERR_NOMEM, WAL errors. cfg's secret fields are copied (wipe
 * yours). */
QCN_MUST_CHECK int qcn_pos_new(struct qcn_pos **out, const struct qcn_pos_host *host,
                               const struct qcn_pos_config *cfg);
/* Reads the chain's headers to rebuild the beacon state, replays the WAL
 * and starts the height after the head. */
QCN_MUST_CHECK int qcn_pos_start(struct qcn_pos *p);
void qcn_pos_stop(struct qcn_pos *p);
void qcn_pos_free(struct qcn_pos *p);

/* Hooks from the host. */
void qcn_pos_on_timer(struct qcn_pos *p);
/* A consensus message from a peer: QCN_OK if it was well formed and
 * correctly signed (relay it), even if stale or a duplicate; an error (the
 * peer is scored down) for a forged or malformed one. */
QCN_MUST_CHECK int qcn_pos_on_message(struct qcn_pos *p, uint8_t kind, const uint8_t *payload,
                                      size_t len);
/* As qcn_pos_on_message, naming the peer it came from (needed to fetch a
 * compact proposal's missing transactions from it and to answer its
 * requests; NULL = unknown). */
QCN_MUST_CHECK int qcn_pos_on_peer_message(struct qcn_pos *p,
                                           const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                                           const uint8_t *payload, size_t len);
/* The head moved without us (block sync): catch up and start the next height. */
void qcn_pos_on_head_changed(struct qcn_pos *p);

/* Block sync's check of a block fetched from a peer together with its
 * certificate: the certificate finalizes the block's hash at its height
 * under the current set. QCN_OK or QCN_ERR_CONSENSUS_CERT. */
QCN_MUST_CHECK int qcn_pos_verify_synced(const struct qcn_pos *p, const struct qcn_block *blk,
                                         const uint8_t *cert, size_t cert_len);

struct qcn_pos_status {
    uint64_t height;
    uint32_t round;
    uint8_t step;
    int64_t locked_round, valid_round; /* the machine's, -1 if none */
    int is_validator;
    uint8_t address[QCN_ADDRESS_BYTES];
    uint64_t committed;      /* blocks committed by consensus in this run */
    uint64_t rounds_skipped; /* rounds beyond 0 before a decision */
    uint64_t equivocations;  /* double signs detected */
    uint64_t wal_refusals;   /* signatures the WAL refused */
    uint64_t bad_msgs;       /* messages refused as forged or malformed */
    uint64_t compact_in;     /* compact proposals completed */
    uint64_t txs_from_pool;  /* their transactions found in the pool */
    uint64_t txs_fetched;    /* ... and fetched from a peer */
    uint64_t txs_served;     /* transactions sent to peers that lacked them */
    size_t evidence;         /* evidence held */
};
void qcn_pos_status_get(const struct qcn_pos *p, struct qcn_pos_status *out);
/* Evidence held (encoded, codec/vote.h), i < status.evidence. */
QCN_MUST_CHECK int qcn_pos_evidence_get(const struct qcn_pos *p, size_t i, struct qcn_buf *out);

#endif
