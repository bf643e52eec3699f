/* node_internal.h - shared between the node's .c files; not a public API. */
#ifndef QCN_NODE_NODE_INTERNAL_H
#define QCN_NODE_NODE_INTERNAL_H

#include <uv.h>

#include "chain/chain.h"
#include "codec/block.h"
#include "node/node.h"
#include "state/statedb_batch.h"

/* Blocks built and waiting for the disk at most (pipelined commits). */
#define QCN_NODE_MAX_COMMITS 2

/* Mempool expiry and the load generator's tick. */
#define QCN_NODE_HOUSEKEEPING_MS 50

struct qcn_verify_job;
struct commit_job;

struct qcn_node_priv {
    struct qcn_state_reader sr;      /* the chain's view of the store (n->rd) */
    uv_check_t flush;                /* dispatches a part-filled verify job */
    struct qcn_verify_job *open_job; /* collecting submissions, not yet queued */

    /* The committer thread: writes one block at a time, off the loop, so
     * neither the loop nor a queue of signature checks waits for the disk.
     * Guarded by lock: job (handed over by the loop), done (handed back). */
    uv_thread_t committer;
    int committer_started;
    int sync_ready; /* lock and cond initialised */
    uv_mutex_t lock;
    uv_cond_t cond;
    struct commit_job *queue; /* staged blocks, oldest first */
    struct commit_job *done;  /* written (or failed), oldest first */
    struct commit_job *done_tail;
    int failed; /* a commit failed: nothing after it may be written */
    int quit;
    uv_async_t committed; /* wakes the loop when done is set */
};

/* Writes a chain write set in one store transaction. */
QCN_MUST_CHECK int qcn_node_commit_writes(struct qcn_store *s, const struct qcn_writeset *ws);

/* Reads the chain parameters (META "params") and the head header. head must
 * be cleared by the caller (qcn_header_clear) on success. */
QCN_MUST_CHECK int qcn_node_read_head(struct qcn_store *s, struct qcn_chain_params *params,
                                      struct qcn_header *head, uint8_t hash[32]);

/* The hidden load generator (load.c). */
QCN_MUST_CHECK int qcn_node_load_init(struct qcn_node *n, uint64_t tps);
void qcn_node_load_tick(struct qcn_node *n);
void qcn_node_load_free(struct qcn_node *n);

#endif
