/* engine.h - the consensus-engine interface: one small table of function
 * pointers per engine (dev now; pos and pow later), as Redis does for its
 * event-loop backends.
 *
 * An engine decides WHEN a block is made (and, for BFT engines, which block
 * is final); the node does the work. The engine never touches the loop, the
 * store or the chain directly: it talks to its host (the node) through
 * struct qcn_engine_host, and the host calls the engine's on_* hooks. Timers
 * are the host's: the engine asks for one with timer_set and the host calls
 * on_timer when it fires. This keeps engines free of libuv and testable with
 * a fake host and a fake clock.
 *
 * Threads: every call (both directions) happens on the node's loop thread. */
#ifndef QCN_CONSENSUS_ENGINE_H
#define QCN_CONSENSUS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_ENGINE_MAX_NAME 16

/* What an engine may ask of its host. ctx is the host's. */
struct qcn_engine_host {
    void *ctx;
    /* Milliseconds on a monotonic clock. */
    uint64_t (*now_ms)(void *ctx);
    /* (Re)arms the engine's single timer to fire after delay_ms (0: as soon
     * as possible but after pending I/O: a later loop iteration, within about
     * a millisecond); replaces any armed one. */
    void (*timer_set)(void *ctx, uint64_t delay_ms);
    void (*timer_cancel)(void *ctx);
    /* Transactions ready for the next block. */
    size_t (*pending_txs)(void *ctx);
    /* Builds the next block from the pool (at most max_txs transactions, 0 =
     * as many as fit), executes it and starts its commit to the store. The
     * commit may finish later (the node writes on a worker thread): the head
     * has advanced when the host calls on_block with the new height; a
     * commit that failed calls on_block with the unchanged height. *ntx gets
     * the transaction count. Errors: QCN_ERR_BUSY (a commit is still in
     * flight: wait for on_block), QCN_ERR_STORE_FULL (try again later),
     * others (the block was dropped; the chain is unchanged). */
    int (*produce_block)(void *ctx, size_t max_txs, size_t *ntx);
    /* Height of the committed head. */
    uint64_t (*head_height)(void *ctx);
};

/* Engine settings the node reads from its config (docs/node.md). */
struct qcn_engine_config {
    uint64_t period_ms; /* dev: block interval; 0 = as soon as transactions wait */
    size_t max_txs;     /* dev: cap per block; 0 = gas limit only */
    uint64_t retry_ms;  /* dev: back-off after a failed block; 0 = 200 */
};

struct qcn_engine_ops {
    const char *name;
    const char *summary;
    /* Allocates the engine's state. host is copied. QCN_ERR_NOMEM,
     * QCN_ERR_CONFIG (a setting out of range for this engine). */
    int (*create)(void **state, const struct qcn_engine_host *host,
                  const struct qcn_engine_config *cfg);
    /* Begins producing/participating. */
    int (*start)(void *state);
    /* Stops: no block is started after this returns (the host also cancels
     * the timer). Idempotent. */
    void (*stop)(void *state);
    void (*destroy)(void *state);
    /* Hooks from the host. */
    void (*on_timer)(void *state);
    void (*on_tx)(void *state);                     /* a transaction entered the pool */
    void (*on_block)(void *state, uint64_t height); /* a commit finished (see produce_block) */
};

/* A running engine: its table and its state. */
struct qcn_engine {
    const struct qcn_engine_ops *ops;
    void *state;
};

/* The registered engines, NULL-terminated (engine.c; one line per engine). */
extern const struct qcn_engine_ops *const qcn_engines[];

/* The engine called name, or NULL. */
const struct qcn_engine_ops *qcn_engine_find(const char *name);

/* Creates e from the engine called name. QCN_ERR_NOT_FOUND (no such engine),
 * or the engine's create error. e is zeroed on failure. */
QCN_MUST_CHECK int qcn_engine_init(struct qcn_engine *e, const char *name,
                                   const struct qcn_engine_host *host,
                                   const struct qcn_engine_config *cfg);
/* Stops and destroys; a zeroed e is a no-op. */
void qcn_engine_clear(struct qcn_engine *e);

/* The dev engine (dev.c). */
extern const struct qcn_engine_ops qcn_engine_dev;

#endif
