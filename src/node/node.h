/* node.h - the node: one struct qcn_node owning every piece of node state,
 * driven by one libuv loop (STYLE.md "State, logging, threads"; Redis's one
 * server struct).
 *
 * Life cycle:
 *   qcn_node_new(&n, &cfg)  takes <datadir>/LOCK, opens the store (which
 *                           `qcn init` created), the chain at the stored head,
 *                           the mempool and the consensus engine;
 *   qcn_node_run(n)         starts the engine and runs the loop until
 *                           SIGINT/SIGTERM or qcn_node_stop;
 *   qcn_node_free(n)        closes everything.
 * Shutdown is graceful: the engine stops (no new block starts), queued
 * signature checks are cancelled and running ones drained, handles close, the
 * store closes. A block is produced and committed synchronously on the loop
 * thread, so a signal never lands in the middle of one; and since every
 * block is one LMDB transaction, even kill -9 loses no committed block.
 *
 * Transactions enter through qcn_node_tx_submit: decoding on libuv's thread
 * pool, the chain's stateful checks on the loop, ML-DSA verification on the
 * thread pool (uv_queue_work, in chunks across all cores), admission to the
 * mempool back on the loop.
 *
 * Threads: everything here is called on the loop thread, except where noted. */
#ifndef QCN_NODE_NODE_H
#define QCN_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "consensus/engine.h"
#include "node/config.h"
#include "store/store.h"
#include "util/err.h"

struct qcn_chain;
struct qcn_mempool;
struct qcn_tx;
struct qcn_block;
struct qcn_node;
struct qcn_node_priv;

/* Called on the loop thread with a submission's final result: QCN_OK (the
 * transaction is in the pool) or the rejection reason (util/err.h 600-649,
 * QCN_ERR_CLOSED when the node is stopping). hash is the transaction hash
 * (zero if the bytes did not decode). */
typedef void (*qcn_node_submit_cb)(void *ctx, int err, const uint8_t hash[32]);

/* Called on the loop thread after each committed block (RPC subscriptions,
 * the load generator, tests). */
typedef void (*qcn_node_block_cb)(void *ctx, struct qcn_node *n, const struct qcn_block *blk);

#define QCN_NODE_MAX_BLOCK_LISTENERS 8
/* Transactions per uv_queue_work item: big enough to amortise the hop,
 * small enough that every core gets work. */
#define QCN_NODE_VERIFY_CHUNK 64
/* Transactions waiting for or under verification; beyond it submissions are
 * refused with QCN_ERR_TX_POOL_FULL (back-pressure on clients). */
#define QCN_NODE_MAX_VERIFY_QUEUE 100000

struct qcn_node_stats {
    uint64_t blocks;         /* blocks produced by this process */
    uint64_t txs_committed;  /* transactions in them */
    uint64_t txs_submitted;  /* calls to qcn_node_tx_submit */
    uint64_t txs_admitted;   /* reached the pool */
    uint64_t txs_rejected;   /* refused, any reason */
    uint64_t last_commit_us; /* store commit time of the last block */
    uint64_t last_build_us;  /* build + execute time of the last block */
    uint64_t build_us;       /* build + execute time, all blocks of this run */
    uint64_t commit_us;      /* store commit time, all blocks of this run */
    uint64_t submit_us;      /* loop time in qcn_node_tx_submit (decode, chain checks) */
    uint64_t admit_us;       /* loop time admitting verified transactions to the pool */
};

/* The node. Fields are read by the node's own files; other code uses the
 * accessors below. */
struct qcn_node {
    struct qcn_node_config cfg;
    uv_loop_t loop;
    int loop_ready;
    int lock_fd; /* flock on <datadir>/LOCK: one node per data directory */

    struct qcn_node_priv *priv; /* node.c's private parts (node_internal.h) */

    struct qcn_store *store;
    struct qcn_store_rd rd; /* the chain's reads of committed state */
    struct qcn_chain *chain;
    struct qcn_mempool *mempool;
    struct qcn_engine engine;

    uv_signal_t sigint, sigterm;
    uv_timer_t engine_timer;
    uv_timer_t housekeeping; /* mempool expiry, the load generator */
    int handles_open;
    int stopping;
    int exit_code;

    int commit_inflight; /* blocks staged for the committer thread, not yet on disk */

    /* verification in flight (uv_queue_work jobs) */
    size_t verify_inflight; /* transactions */
    size_t verify_jobs;     /* jobs not yet completed (after_work not run) */

    struct {
        qcn_node_block_cb fn;
        void *ctx;
    } block_listeners[QCN_NODE_MAX_BLOCK_LISTENERS];
    size_t nblock_listeners;

    /* The RPC server (src/rpc) runs on this loop; see node.c, rpc_start. */
    void *rpc;

    /* The peer-to-peer network (src/p2p), node_p2p.c's state. */
    void *p2p;

    /* The hidden load generator (`qcn node --dev-load N`), load.c. */
    void *load;

    struct qcn_node_stats stats;
};

/* Creates the node from cfg (copied): data directory lock, store, chain,
 * mempool, engine. QCN_ERR_NOT_FOUND (no chain in the data directory: run
 * `qcn init`), QCN_ERR_BUSY (another node holds the data directory),
 * QCN_ERR_CONFIG (unknown engine, bad setting), store errors. A message has
 * been logged on failure; *out is NULL. */
QCN_MUST_CHECK int qcn_node_new(struct qcn_node **out, const struct qcn_node_config *cfg);
/* Runs the loop until stopped; returns 0 after a clean stop, else an error. */
QCN_MUST_CHECK int qcn_node_run(struct qcn_node *n);
/* Asks the node to stop (loop thread; signals do the same). */
void qcn_node_stop(struct qcn_node *n);
/* Frees a stopped (or never run) node. NULL is a no-op. */
void qcn_node_free(struct qcn_node *n);

/* Submits one encoded transaction (copied). cb (may be NULL) gets the
 * final result on the loop thread: later, after decoding and the chain's
 * checks and signature verification (thread pool), or at once for an
 * immediate refusal (QCN_ERR_CLOSED, QCN_ERR_TX_OVERSIZED, QCN_ERR_TX_POOL_FULL
 * when QCN_NODE_MAX_VERIFY_QUEUE are already waiting, QCN_ERR_NOMEM), which
 * is also the return value. QCN_OK: taken. */
int qcn_node_tx_submit(struct qcn_node *n, const uint8_t *raw, size_t len, qcn_node_submit_cb cb,
                       void *ctx);

/* Registers a block listener. QCN_ERR_TOO_LARGE past the cap. */
QCN_MUST_CHECK int qcn_node_on_block(struct qcn_node *n, qcn_node_block_cb fn, void *ctx);

/* Produces one block now and commits it before returning (tests, bench,
 * tools). The engines use the asynchronous form (node.c, produce_async):
 * the commit runs on a worker and the head advances when the engine's
 * on_block is called. QCN_ERR_BUSY while an asynchronous commit is in
 * flight. */
QCN_MUST_CHECK int qcn_node_produce_block(struct qcn_node *n, size_t max_txs, size_t *ntx);

/* Imports a block made elsewhere (another proposer, block sync): decode
 * (strict), validate and execute on top of the head (qcn_chain_block_apply:
 * parent, height, every transaction, every root), commit in one store
 * transaction, then the block listeners and the engine's on_block, as for
 * a block of our own. On any failure the chain and the store are unchanged
 * and the error says why (codec, QCN_ERR_BLOCK_*, a transaction's
 * QCN_ERR_TX_*, QCN_ERR_STATE_ROOT); QCN_ERR_BUSY while a commit of ours is
 * in flight. */
QCN_MUST_CHECK int qcn_node_import_block(struct qcn_node *n, const uint8_t *raw, size_t len);

/* The committed head. */
uint64_t qcn_node_head_height(const struct qcn_node *n);
void qcn_node_head_hash(const struct qcn_node *n, uint8_t out[32]);

#endif
