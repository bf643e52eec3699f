/* node.c - the node's life cycle, its loop, signals, the engine host, block
 * production and the admission pipeline.
 *
 * Why the pieces are where they are:
 *  - One loop thread owns the chain, the pool and the store's write side, so
 *    none of them needs a lock (STYLE.md "State, logging, threads").
 *  - ML-DSA verification is the expensive part of admission (FIPS 204
 *    Verify), with decoding (two Keccak-256 over a 3-5 KB envelope) next:
 *    both run on libuv's thread pool in chunks of QCN_NODE_VERIFY_CHUNK,
 *    sized to the number of cores; only the stateful steps (the chain's
 *    checks, the mempool) run on the loop. The verified flag set on the
 *    transaction is reused when the block executes it (chain/verify.h), so
 *    each signature is checked once.
 *  - Blocks are built and executed on the loop and written by the committer
 *    thread, in order, each in one LMDB write transaction (store.h), so the
 *    head on disk only ever moves from one complete block to the next; the
 *    pipeline that lets the next block be built meanwhile is described at
 *    committer_main. */
#include "node/node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "chain/chain.h"
#include "chain/mempool.h"
#include "chain/verify.h"
#include "codec/block.h"
#include "codec/tx.h"
#include "crypto/keccak.h"
#include "node/node_internal.h"
#include "node/node_p2p.h"
#include "node/node_pos.h"
#include "node/node_rpc.h"
#include "state/statedb_batch.h"
#include "util/log.h"
#include "util/time.h"

/* The store's tables are numbered as the ledger's logical tables, so a write
 * set maps onto the store without translation. */
_Static_assert((int)QCN_STORE_META == (int)QCN_TABLE_META, "table numbering");
_Static_assert((int)QCN_STORE_HEADER == (int)QCN_TABLE_HEADER, "table numbering");
_Static_assert((int)QCN_STORE_BODY == (int)QCN_TABLE_BODY, "table numbering");
_Static_assert((int)QCN_STORE_RECEIPTS == (int)QCN_TABLE_RECEIPTS, "table numbering");
_Static_assert((int)QCN_STORE_CANON == (int)QCN_TABLE_CANON, "table numbering");
_Static_assert((int)QCN_STORE_TXINDEX == (int)QCN_TABLE_TXINDEX, "table numbering");
_Static_assert((int)QCN_STORE_TRIE == (int)QCN_TABLE_TRIE, "table numbering");
_Static_assert((int)QCN_STORE_ACCOUNT == (int)QCN_TABLE_ACCOUNT, "table numbering");
_Static_assert((int)QCN_STORE_STORAGE == (int)QCN_TABLE_STORAGE, "table numbering");
_Static_assert((int)QCN_STORE_CODE == (int)QCN_TABLE_CODE, "table numbering");
_Static_assert((int)QCN_STORE_KEYREC == (int)QCN_TABLE_KEYREC, "table numbering");
_Static_assert((int)QCN_STORE_ACCKEY == (int)QCN_TABLE_ACCKEY, "table numbering");
_Static_assert((int)QCN_STORE_TRIEROOT == (int)QCN_TABLE_TRIEROOT, "table numbering");
_Static_assert((int)QCN_STORE_TABLES == (int)QCN_TABLE_COUNT, "table numbering");

/* ---- Writing a chain write set. */

int qcn_node_commit_writes(struct qcn_store *s, const struct qcn_writeset *ws)
{
    struct qcn_store_write *w;
    size_t i;
    int err;

    if (ws->n == 0)
        return QCN_OK;
    w = malloc(ws->n * sizeof *w);
    if (w == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < ws->n; i++) {
        w[i].table = ws->w[i].table;
        w[i].del = ws->w[i].del;
        w[i].klen = ws->w[i].klen;
        w[i].vlen = ws->w[i].vlen;
        w[i].key = ws->w[i].key;
        w[i].val = ws->w[i].val;
    }
    err = qcn_store_write_commit(s, w, ws->n);
    free(w);
    return err;
}

int qcn_node_read_head(struct qcn_store *s, struct qcn_chain_params *params,
                       struct qcn_header *head, uint8_t hash[32])
{
    struct qcn_store_snap *r = NULL;
    struct qcn_view v;
    uint64_t height;
    int err;

    memset(head, 0, sizeof *head);
    err = qcn_store_snap_begin(s, &r);
    if (err != QCN_OK)
        return err;
    err = qcn_store_head_get(r, NULL, &height, hash);
    if (err == QCN_ERR_NOT_FOUND) {
        QCN_LOG(QCN_LOG_ERROR, "node", "the store has no chain yet (run `qcn init`)");
        goto out;
    }
    if (err != QCN_OK)
        goto out;
    err = qcn_store_get(r, NULL, QCN_STORE_META, "params", 6, &v);
    if (err == QCN_OK)
        err = qcn_chain_params_decode(params, v);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "chain parameters missing or unreadable: %s",
                qcn_err_str(err));
        err = QCN_ERR_STORE_CORRUPT;
        goto out;
    }
    err = qcn_store_get(r, NULL, QCN_STORE_HEADER, hash, 32, &v);
    if (err == QCN_OK)
        err = qcn_header_decode(head, v);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "head header unreadable: %s", qcn_err_str(err));
        err = QCN_ERR_STORE_CORRUPT;
    }
out:
    qcn_store_snap_end(r);
    return err;
}

/* ---- Engine host. */

static uint64_t host_now(void *ctx)
{
    (void)ctx;
    return qcn_time_mono_ms();
}

static void on_engine_timer(uv_timer_t *t)
{
    struct qcn_node *n = t->data;
    if (n->engine.ops != NULL && !n->stopping)
        n->engine.ops->on_timer(n->engine.state);
}

static void host_timer_set(void *ctx, uint64_t delay_ms)
{
    struct qcn_node *n = ctx;
    /* libuv 1.44 runs a timer armed with 0 from inside a timer callback in the
     * same pass of its timer phase, before any I/O: an engine that re-arms 0
     * while waiting for a commit would spin without ever seeing it finish.
     * One millisecond puts the callback after the next poll, as engine.h
     * promises. */
    if (delay_ms == 0)
        delay_ms = 1;
    uv_timer_start(&n->engine_timer, on_engine_timer, delay_ms, 0);
}

static void host_timer_cancel(void *ctx)
{
    struct qcn_node *n = ctx;
    uv_timer_stop(&n->engine_timer);
}

static size_t host_pending(void *ctx)
{
    struct qcn_node *n = ctx;
    return qcn_mempool_count(n->mempool);
}

static uint64_t host_head_height(void *ctx)
{
    return qcn_node_head_height(ctx);
}

static int produce_async(struct qcn_node *n, size_t max_txs, size_t *ntx);

static int host_produce(void *ctx, size_t max_txs, size_t *ntx)
{
    return produce_async(ctx, max_txs, ntx);
}

uint64_t qcn_node_head_height(const struct qcn_node *n)
{
    return qcn_chain_head(n->chain)->height;
}

void qcn_node_head_hash(const struct qcn_node *n, uint8_t out[32])
{
    qcn_chain_head_hash(n->chain, out);
}

int qcn_node_on_block(struct qcn_node *n, qcn_node_block_cb fn, void *ctx)
{
    if (n->nblock_listeners >= QCN_NODE_MAX_BLOCK_LISTENERS)
        return QCN_ERR_TOO_LARGE;
    n->block_listeners[n->nblock_listeners].fn = fn;
    n->block_listeners[n->nblock_listeners].ctx = ctx;
    n->nblock_listeners++;
    return QCN_OK;
}

/* A block between build and its durable commit. */
struct commit_job {
    struct qcn_node *n;
    struct qcn_block_result res;
    struct qcn_store_write *w; /* res.writes as store writes (sorted by the commit) */
    size_t nw;
    struct qcn_store_overlay *ov; /* the same writes, readable before they land */
    int err;
    uint64_t t0, t1, t2; /* build start, build end, commit end (ns) */
    struct commit_job *next;
};

static void job_free(struct commit_job *j)
{
    qcn_store_overlay_free(j->ov);
    free(j->w);
    qcn_block_result_clear(&j->res);
    free(j);
}

static int build_block(struct qcn_node *n, size_t max_txs, struct commit_job **out)
{
    struct commit_job *j;
    struct qcn_build_args args;
    uint8_t parent[32];
    int err;

    *out = NULL;
    j = calloc(1, sizeof *j);
    if (j == NULL)
        return QCN_ERR_NOMEM;
    j->n = n;
    memset(&args, 0, sizeof args);
    args.timestamp = qcn_time_unix_s();
    if (n->cfg.has_coinbase)
        memcpy(args.proposer, n->cfg.coinbase, sizeof args.proposer);
    /* The dev engine has no beacon: the mix is a hash of the parent, which is
     * at least unpredictable before the parent exists (documented as such;
     * the pos engine brings the real beacon). */
    qcn_chain_head_hash(n->chain, parent);
    qcn_keccak256(args.mix, parent, sizeof parent);
    args.max_txs = max_txs;
    qcn_block_result_init(&j->res);
    j->t0 = qcn_time_mono_ns();
    err = qcn_chain_block_build(n->chain, n->mempool, &args, &j->res);
    j->t1 = qcn_time_mono_ns();
    if (err != QCN_OK) {
        qcn_block_result_clear(&j->res);
        free(j);
        return err;
    }
    *out = j;
    return QCN_OK;
}

static void count_block(struct qcn_node *n, const struct commit_job *j)
{
    n->stats.blocks++;
    n->stats.txs_committed += j->res.block.ntx;
    n->stats.last_build_us = (j->t1 - j->t0) / 1000;
    n->stats.last_commit_us = (j->t2 - j->t1) / 1000;
    n->stats.build_us += (j->t1 - j->t0) / 1000;
    n->stats.commit_us += (j->t2 - j->t1) / 1000;
    qcn_node_metrics_commit(n, (double)(j->t2 - j->t1) / 1e9);
    QCN_LOG(QCN_LOG_INFO, "node", "block %llu txs=%zu build=%llums commit=%llums",
            (unsigned long long)j->res.block.header.height, j->res.block.ntx,
            (unsigned long long)((j->t1 - j->t0) / 1000000),
            (unsigned long long)((j->t2 - j->t1) / 1000000));
}

/* The block is on disk: now, and only now, it is reported committed. */
static void announce_block(struct qcn_node *n, const struct commit_job *j)
{
    size_t i;
    for (i = 0; i < n->nblock_listeners; i++)
        n->block_listeners[i].fn(n->block_listeners[i].ctx, n, &j->res.block);
    if (n->engine.ops != NULL && !n->stopping)
        n->engine.ops->on_block(n->engine.state, j->res.block.header.height);
}

/* Synchronous form: write, then advance the head (or forget the block). */
static int commit_sync(struct qcn_node *n, struct commit_job *j)
{
    int err;
    /* The chain's snapshot must not stay open across the commit: it would
     * keep the map from growing, and reads after the commit must see it. */
    qcn_store_rd_release(&n->rd);
    err = qcn_node_commit_writes(n->store, &j->res.writes);
    j->t2 = qcn_time_mono_ns();
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_WARN, "node", "block %llu not committed: %s; dropped",
                (unsigned long long)j->res.block.header.height, qcn_err_str(err));
        qcn_chain_block_abort(n->chain, &j->res);
    } else {
        qcn_chain_block_commit_done(n->chain, &j->res, n->mempool);
        count_block(n, j);
        announce_block(n, j);
    }
    job_free(j);
    return err;
}

/* ---- The committer thread and the pipeline.
 *
 * Asynchronous blocks (the engine's) are pipelined: block k is built,
 * its writes are indexed in an overlay that the chain's store reader
 * consults before LMDB, and the chain is told the block is done, so block
 * k+1 can be built on it at once, while the committer thread writes block k
 * (one synced LMDB transaction). Commits happen strictly in order, so the
 * disk only ever holds a prefix of the chain; a block is reported committed
 * (listeners, the engine's on_block) only after its own commit returned.
 * At most QCN_NODE_MAX_COMMITS blocks wait for the disk. If a commit fails,
 * the chain in memory is ahead of the disk: nothing after it is written,
 * the node stops with an error, and a restart resumes from the last block
 * on disk (none of the lost blocks was reported committed). */

static void committer_main(void *arg)
{
    struct qcn_node *n = arg;
    struct qcn_node_priv *p = n->priv;
    struct commit_job *j;

    uv_mutex_lock(&p->lock);
    for (;;) {
        while (p->queue == NULL && !p->quit)
            uv_cond_wait(&p->cond, &p->lock);
        if (p->queue == NULL)
            break;
        j = p->queue;
        p->queue = j->next;
        j->next = NULL;
        if (p->failed) {
            j->err = QCN_ERR_STORE;
        } else {
            uv_mutex_unlock(&p->lock);
            j->err = qcn_store_write_commit(n->store, j->w, j->nw);
            j->t2 = qcn_time_mono_ns();
            uv_mutex_lock(&p->lock);
            if (j->err != QCN_OK)
                p->failed = 1;
        }
        if (p->done_tail != NULL)
            p->done_tail->next = j;
        else
            p->done = j;
        p->done_tail = j;
        uv_async_send(&p->committed);
    }
    uv_mutex_unlock(&p->lock);
}

static void on_committed(uv_async_t *h)
{
    struct qcn_node *n = h->data;
    struct qcn_node_priv *p = n->priv;
    struct commit_job *j, *next;

    uv_mutex_lock(&p->lock);
    j = p->done;
    p->done = p->done_tail = NULL;
    uv_mutex_unlock(&p->lock);
    for (; j != NULL; j = next) {
        next = j->next;
        /* The oldest overlay is this block's: its writes are on disk now. */
        qcn_store_rd_pop(&n->rd);
        n->commit_inflight--;
        if (j->err == QCN_OK) {
            count_block(n, j);
            announce_block(n, j);
        } else if (n->exit_code == QCN_OK) {
            QCN_LOG(QCN_LOG_ERROR, "node",
                    "block %llu could not be written: %s; stopping (a restart resumes from "
                    "the last block on disk)",
                    (unsigned long long)j->res.block.header.height, qcn_err_str(j->err));
            n->exit_code = j->err;
            qcn_node_stop(n);
        }
        job_free(j);
    }
    n->rd.transient = n->commit_inflight > 0;
    if (n->commit_inflight == 0)
        uv_unref((uv_handle_t *)&p->committed);
}

int qcn_node_produce_block(struct qcn_node *n, size_t max_txs, size_t *ntx)
{
    struct commit_job *j;
    int err;

    *ntx = 0;
    if (n->commit_inflight > 0)
        return QCN_ERR_BUSY;
    err = build_block(n, max_txs, &j);
    if (err != QCN_OK)
        return err;
    *ntx = j->res.block.ntx;
    return commit_sync(n, j);
}

int qcn_node_import_block(struct qcn_node *n, const uint8_t *raw, size_t len)
{
    struct commit_job *j;
    struct qcn_block blk;
    int err;

    if (n->commit_inflight > 0)
        return QCN_ERR_BUSY;
    memset(&blk, 0, sizeof blk);
    err = qcn_block_decode(&blk, qcn_view_make(raw, len));
    if (err != QCN_OK)
        return err;
    j = calloc(1, sizeof *j);
    if (j == NULL) {
        qcn_block_clear(&blk);
        return QCN_ERR_NOMEM;
    }
    j->n = n;
    qcn_block_result_init(&j->res);
    j->t0 = qcn_time_mono_ns();
    err = qcn_chain_block_apply(n->chain, n->mempool, &blk, &j->res);
    j->t1 = qcn_time_mono_ns();
    qcn_block_clear(&blk);
    if (err != QCN_OK) {
        job_free(j);
        return err;
    }
    return commit_sync(n, j);
}

/* The engine's produce_block: build on the loop, stage for the committer
 * (see the pipeline above). QCN_ERR_BUSY while QCN_NODE_MAX_COMMITS blocks
 * wait for the disk or after a failed commit. */
static int produce_async(struct qcn_node *n, size_t max_txs, size_t *ntx)
{
    struct qcn_node_priv *p = n->priv;
    struct commit_job *j, **tail;
    size_t i;
    int err;

    *ntx = 0;
    if (n->commit_inflight >= QCN_NODE_MAX_COMMITS || n->exit_code != QCN_OK)
        return QCN_ERR_BUSY;
    err = build_block(n, max_txs, &j);
    if (err != QCN_OK)
        return err;
    j->nw = j->res.writes.n;
    j->w = malloc((j->nw ? j->nw : 1) * sizeof *j->w);
    if (j->w == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    for (i = 0; i < j->nw; i++) {
        const struct qcn_write *src = &j->res.writes.w[i];
        j->w[i].table = src->table;
        j->w[i].del = src->del;
        j->w[i].klen = src->klen;
        j->w[i].vlen = src->vlen;
        j->w[i].key = src->key;
        j->w[i].val = src->val;
    }
    err = qcn_store_overlay_new(&j->ov, j->w, j->nw);
    if (err == QCN_OK)
        err = qcn_store_rd_push(&n->rd, j->ov);
    if (err != QCN_OK)
        goto fail;
    /* From here the chain reads the block's writes through the overlay, as
     * if they were in the store: the chain may move on to the next block. */
    qcn_chain_block_commit_done(n->chain, &j->res, n->mempool);
    *ntx = j->res.block.ntx;
    if (n->commit_inflight++ == 0)
        uv_ref((uv_handle_t *)&p->committed);
    n->rd.transient = 1;
    qcn_store_rd_release(&n->rd);
    uv_mutex_lock(&p->lock);
    for (tail = &p->queue; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = j;
    uv_cond_signal(&p->cond);
    uv_mutex_unlock(&p->lock);
    return QCN_OK;
fail:
    qcn_chain_block_abort(n->chain, &j->res);
    job_free(j);
    return err;
}

/* ---- Admission, in chunks of QCN_NODE_VERIFY_CHUNK transactions:
 *   decode (worker: strict parsing and the Keccak-256 of the envelope and of
 *   the signed payload) -> chain checks and key resolution (loop: they read
 *   the state) -> ML-DSA verification (worker) -> mempool (loop).
 * Only the stateful steps run on the loop, so one core is not the limit
 * of how fast transactions can come in. */

struct sub {
    uint8_t *raw; /* the submitted bytes, until decoded */
    size_t len;
    struct qcn_tx *tx;
    qcn_node_submit_cb cb;
    void *ctx;
    int err;
};

struct qcn_verify_job {
    uv_work_t req;
    struct qcn_node *n;
    size_t count;
    struct sub subs[QCN_NODE_VERIFY_CHUNK];
};

static const uint8_t zero_hash[32];

/* Reports a submission's final result and drops it. */
static void sub_finish(struct qcn_node *n, struct sub *s, int err)
{
    if (err == QCN_OK) {
        n->stats.txs_admitted++;
        qcn_node_rpc_tx_admitted(n, s->tx->hash, s->cb); /* newPendingTransactions */
    } else {
        n->stats.txs_rejected++;
    }
    if (s->cb != NULL)
        s->cb(s->ctx, err, s->tx != NULL ? s->tx->hash : zero_hash);
    qcn_tx_unref(s->tx);
    free(s->raw);
    s->tx = NULL;
    s->raw = NULL;
    n->verify_inflight--;
}

static void verify_work(uv_work_t *req)
{
    struct qcn_verify_job *j = req->data;
    size_t i;
    for (i = 0; i < j->count; i++) {
        uint64_t t0 = qcn_time_mono_ns();
        j->subs[i].err = qcn_tx_verify(j->subs[i].tx);
        qcn_node_metrics_verify(j->n, (double)(qcn_time_mono_ns() - t0) / 1e9);
    }
}

static void verify_done(uv_work_t *req, int status)
{
    struct qcn_verify_job *j = req->data;
    struct qcn_node *n = j->n;
    uint64_t now = qcn_time_unix_ms(), t0 = qcn_time_mono_ns();
    size_t i, admitted = 0;

    for (i = 0; i < j->count; i++) {
        struct sub *s = &j->subs[i];
        int err = s->err;
        if (status == UV_ECANCELED || n->stopping)
            err = QCN_ERR_CLOSED;
        else if (err == QCN_OK)
            err = qcn_mempool_add(n->mempool, n->chain, s->tx, now);
        if (err == QCN_OK) {
            admitted++;
            qcn_node_p2p_tx_admitted(n, s->tx->hash); /* announce to peers */
        }
        sub_finish(n, s, err);
    }
    n->verify_jobs--;
    free(j);
    n->stats.admit_us += (qcn_time_mono_ns() - t0) / 1000;
    if (admitted > 0 && n->engine.ops != NULL && !n->stopping)
        n->engine.ops->on_tx(n->engine.state);
}

/* The chunk is decoded in one call so that the envelopes are hashed four
 * at a time (qcn_tx_decode_many): a 3.4 KB envelope's Keccak-256 is most of
 * its decoding. */
static void decode_work(uv_work_t *req)
{
    struct qcn_verify_job *j = req->data;
    struct qcn_view in[QCN_NODE_VERIFY_CHUNK];
    struct qcn_tx *out[QCN_NODE_VERIFY_CHUNK];
    int errs[QCN_NODE_VERIFY_CHUNK];
    size_t i;
    for (i = 0; i < j->count; i++)
        in[i] = qcn_view_make(j->subs[i].raw, j->subs[i].len);
    qcn_tx_decode_many(out, errs, in, j->count);
    for (i = 0; i < j->count; i++) {
        struct sub *s = &j->subs[i];
        s->tx = out[i];
        s->err = errs[i];
        free(s->raw);
        s->raw = NULL;
    }
}

/* Decoded: the chain's checks on the loop, then the survivors go back to
 * the pool for their signatures (the same job, compacted). */
static void decode_done(uv_work_t *req, int status)
{
    struct qcn_verify_job *j = req->data;
    struct qcn_node *n = j->n;
    uint64_t t0 = qcn_time_mono_ns();
    size_t i, kept = 0;

    for (i = 0; i < j->count; i++) {
        struct sub *s = &j->subs[i];
        int err = s->err;
        if (status == UV_ECANCELED || n->stopping)
            err = QCN_ERR_CLOSED;
        else if (err == QCN_OK && qcn_mempool_get(n->mempool, s->tx->hash) != NULL)
            err = QCN_ERR_TX_KNOWN;
        else if (err == QCN_OK)
            err = qcn_chain_tx_prepare(n->chain, s->tx);
        if (err != QCN_OK) {
            sub_finish(n, s, err);
            continue;
        }
        j->subs[kept++] = *s;
    }
    j->count = kept;
    n->stats.submit_us += (qcn_time_mono_ns() - t0) / 1000;
    if (kept == 0 || uv_queue_work(&n->loop, &j->req, verify_work, verify_done) != 0) {
        for (i = 0; i < j->count; i++)
            sub_finish(n, &j->subs[i], kept == 0 ? QCN_OK : QCN_ERR_INTERNAL);
        n->verify_jobs--;
        free(j);
    }
}

static int dispatch_job(struct qcn_node *n)
{
    struct qcn_node_priv *p = n->priv;
    struct qcn_verify_job *j = p->open_job;
    size_t i;
    if (j == NULL)
        return QCN_OK;
    p->open_job = NULL;
    uv_check_stop(&p->flush);
    n->verify_jobs++;
    if (uv_queue_work(&n->loop, &j->req, decode_work, decode_done) != 0) {
        /* Cannot happen with valid arguments; answer the callers anyway. */
        for (i = 0; i < j->count; i++)
            sub_finish(n, &j->subs[i], QCN_ERR_INTERNAL);
        n->verify_jobs--;
        free(j);
        return QCN_ERR_INTERNAL;
    }
    return QCN_OK;
}

static void on_flush(uv_check_t *h)
{
    (void)dispatch_job(h->data);
}

static int tx_submit(struct qcn_node *n, const uint8_t *raw, size_t len, qcn_node_submit_cb cb,
                     void *ctx)
{
    struct qcn_node_priv *p = n->priv;
    struct qcn_verify_job *j;
    struct sub *s;
    int err;

    n->stats.txs_submitted++;
    if (n->stopping)
        err = QCN_ERR_CLOSED;
    else if (len > QCN_TX_MAX_BYTES)
        err = QCN_ERR_TX_OVERSIZED;
    else if (n->verify_inflight >= QCN_NODE_MAX_VERIFY_QUEUE)
        err = QCN_ERR_TX_POOL_FULL;
    else
        err = QCN_OK;
    if (err != QCN_OK)
        goto fail;
    j = p->open_job;
    if (j == NULL) {
        j = calloc(1, sizeof *j);
        if (j == NULL) {
            err = QCN_ERR_NOMEM;
            goto fail;
        }
        j->n = n;
        j->req.data = j;
        p->open_job = j;
        uv_check_start(&p->flush, on_flush);
    }
    s = &j->subs[j->count];
    memset(s, 0, sizeof *s);
    s->raw = malloc(len ? len : 1);
    if (s->raw == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    if (len > 0)
        memcpy(s->raw, raw, len);
    s->len = len;
    s->cb = cb;
    s->ctx = ctx;
    j->count++;
    n->verify_inflight++;
    if (j->count == QCN_NODE_VERIFY_CHUNK)
        (void)dispatch_job(n);
    return QCN_OK;
fail:
    n->stats.txs_rejected++;
    if (cb != NULL)
        cb(ctx, err, zero_hash);
    return err;
}

int qcn_node_tx_submit(struct qcn_node *n, const uint8_t *raw, size_t len, qcn_node_submit_cb cb,
                       void *ctx)
{
    uint64_t t0 = qcn_time_mono_ns();
    int err = tx_submit(n, raw, len, cb, ctx);
    n->stats.submit_us += (qcn_time_mono_ns() - t0) / 1000;
    return err;
}

/* ---- Signals, housekeeping, life cycle. */

static void on_signal(uv_signal_t *h, int signum)
{
    struct qcn_node *n = h->data;
    QCN_LOG(QCN_LOG_INFO, "node", "%s received: shutting down",
            signum == SIGINT ? "SIGINT" : "SIGTERM");
    qcn_node_stop(n);
}

static void on_housekeeping(uv_timer_t *t)
{
    struct qcn_node *n = t->data;
    size_t dropped = qcn_mempool_expire(n->mempool, qcn_time_unix_ms());
    if (dropped > 0)
        QCN_LOG(QCN_LOG_DEBUG, "node", "expired %zu pool entries", dropped);
    if (n->load != NULL)
        qcn_node_load_tick(n);
}

static int lock_datadir(struct qcn_node *n)
{
    char path[QCN_CONFIG_MAX_PATH + 16];
    if (qcn_node_config_path(&n->cfg, path, sizeof path, "LOCK") != QCN_OK)
        return QCN_ERR_CONFIG;
    if (access(n->cfg.datadir, F_OK) != 0) {
        QCN_LOG(QCN_LOG_ERROR, "node", "%s does not exist (run `qcn init` first)", n->cfg.datadir);
        return QCN_ERR_NOT_FOUND;
    }
    n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->lock_fd < 0) {
        QCN_LOG(QCN_LOG_ERROR, "node", "%s: %s", path, strerror(errno));
        return QCN_ERR_IO;
    }
    if (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        QCN_LOG(QCN_LOG_ERROR, "node", "%s is in use by another qcn process", n->cfg.datadir);
        return QCN_ERR_BUSY;
    }
    return QCN_OK;
}

static void mempool_config(struct qcn_mempool_config *mc, const struct qcn_node_config *c)
{
    qcn_mempool_config_default(mc);
    mc->max_count = (uint32_t)c->pool_max_count;
    mc->max_bytes = (size_t)c->pool_max_bytes;
    mc->max_per_sender = (uint32_t)c->pool_max_per_sender;
    mc->max_nonce_gap = c->pool_max_nonce_gap;
    mc->expiry_ms = c->pool_expiry_s * 1000u;
    mc->replace_bump_pct = (uint32_t)c->pool_replace_bump_pct;
    mc->min_priority_fee = c->pool_min_priority_fee;
}

int qcn_node_new(struct qcn_node **out, const struct qcn_node_config *cfg)
{
    struct qcn_node *n;
    struct qcn_node_priv *p;
    struct qcn_store_opts so = {0};
    struct qcn_chain_params params;
    struct qcn_header head;
    struct qcn_mempool_config mc;
    struct qcn_engine_host host;
    struct qcn_engine_config ec;
    char dir[QCN_CONFIG_MAX_PATH + 16];
    uint8_t hash[32];
    int err;

    *out = NULL;
    memset(&head, 0, sizeof head);
    n = calloc(1, sizeof *n);
    p = calloc(1, sizeof *p);
    if (n == NULL || p == NULL) {
        free(n);
        free(p);
        return QCN_ERR_NOMEM;
    }
    n->priv = p;
    n->cfg = *cfg;
    n->lock_fd = -1;
    err = lock_datadir(n);
    if (err != QCN_OK)
        goto fail;
    err = qcn_node_config_path(&n->cfg, dir, sizeof dir, QCN_CONFIG_STORE_DIR);
    if (err != QCN_OK)
        goto fail;
    so.map_size = cfg->store_map_size_mb << 20;
    err = qcn_store_open(&n->store, dir, &so);
    if (err != QCN_OK)
        goto fail;
    err = qcn_node_read_head(n->store, &params, &head, hash);
    if (err != QCN_OK)
        goto fail;
    qcn_store_rd_init(&n->rd, n->store);
    p->sr.ctx = &n->rd;
    p->sr.get = qcn_store_rd_get;
    err = qcn_chain_open(&n->chain, &params, &p->sr, &head);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "cannot open the chain: %s", qcn_err_str(err));
        goto fail;
    }
    mempool_config(&mc, cfg);
    err = qcn_mempool_new(&n->mempool, &mc);
    if (err != QCN_OK)
        goto fail;

    /* Signature checks run on libuv's thread pool, which reads its size from
     * the environment once, at its first use (below, in this process). */
    if (getenv("UV_THREADPOOL_SIZE") == NULL) {
        char v[24];
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t threads =
            cfg->verify_threads ? cfg->verify_threads : (uint64_t)(ncpu > 0 ? ncpu : 1);
        snprintf(v, sizeof v, "%llu", (unsigned long long)threads);
        setenv("UV_THREADPOOL_SIZE", v, 0);
    }
    if (uv_loop_init(&n->loop) != 0) {
        err = QCN_ERR_INTERNAL;
        goto fail;
    }
    n->loop_ready = 1;
    uv_timer_init(&n->loop, &n->engine_timer);
    uv_timer_init(&n->loop, &n->housekeeping);
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    uv_check_init(&n->loop, &p->flush);
    uv_async_init(&n->loop, &p->committed, on_committed);
    p->committed.data = n;
    /* Referenced only while a commit is in flight (the loop must wait for
     * it, and only for it). */
    uv_unref((uv_handle_t *)&p->committed);
    if (uv_mutex_init(&p->lock) != 0) {
        err = QCN_ERR_INTERNAL;
        goto fail;
    }
    if (uv_cond_init(&p->cond) != 0) {
        uv_mutex_destroy(&p->lock);
        err = QCN_ERR_INTERNAL;
        goto fail;
    }
    p->sync_ready = 1;
    if (uv_thread_create(&p->committer, committer_main, n) != 0) {
        err = QCN_ERR_INTERNAL;
        goto fail;
    }
    p->committer_started = 1;
    n->engine_timer.data = n;
    n->housekeeping.data = n;
    n->sigint.data = n;
    n->sigterm.data = n;
    p->flush.data = n;
    n->handles_open = 1;

    host.ctx = n;
    host.now_ms = host_now;
    host.timer_set = host_timer_set;
    host.timer_cancel = host_timer_cancel;
    host.pending_txs = host_pending;
    host.produce_block = host_produce;
    host.head_height = host_head_height;
    memset(&ec, 0, sizeof ec);
    ec.period_ms = cfg->dev_period_ms;
    ec.max_txs = (size_t)cfg->dev_max_txs;
    err = qcn_node_engine_init(&n->engine, cfg->engine, &host, &ec); /* + pos, pow */
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "engine '%s': %s", cfg->engine,
                err == QCN_ERR_NOT_FOUND ? "no such engine" : qcn_err_str(err));
        err = QCN_ERR_CONFIG;
        goto fail;
    }
    if (cfg->dev_load_tps > 0) {
        err = qcn_node_load_init(n, cfg->dev_load_tps);
        if (err != QCN_OK)
            goto fail;
    }
    QCN_LOG(QCN_LOG_INFO, "node", "chain %llu at height %llu, engine %s, data in %s",
            (unsigned long long)params.chain_id, (unsigned long long)head.height, cfg->engine,
            cfg->datadir);
    qcn_header_clear(&head);
    *out = n;
    return QCN_OK;
fail:
    qcn_header_clear(&head);
    qcn_node_free(n);
    return err;
}

/* The RPC server (src/rpc) on this loop: node_rpc.c starts it with
 * qcn_rpc_service_start over the store, chain and pool, with submissions
 * through qcn_node_tx_submit, and the shared metrics registry. */
static int rpc_start(struct qcn_node *n)
{
    return qcn_node_rpc_start(n);
}

static void rpc_stop(struct qcn_node *n)
{
    qcn_node_rpc_stop(n);
}

int qcn_node_run(struct qcn_node *n)
{
    int err;
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    uv_timer_start(&n->housekeeping, on_housekeeping, QCN_NODE_HOUSEKEEPING_MS,
                   QCN_NODE_HOUSEKEEPING_MS);
    err = rpc_start(n);
    if (err == QCN_OK)
        err = qcn_node_p2p_start(n); /* only when p2p.listen or p2p.bootnodes is set */
    if (err != QCN_OK)
        return err;
    err = n->engine.ops->start(n->engine.state);
    if (err != QCN_OK)
        return err;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    QCN_LOG(QCN_LOG_INFO, "node", "stopped at height %llu (%llu blocks, %llu txs this run)",
            (unsigned long long)qcn_node_head_height(n), (unsigned long long)n->stats.blocks,
            (unsigned long long)n->stats.txs_committed);
    return n->exit_code;
}

static void on_close(uv_handle_t *h)
{
    (void)h;
}

void qcn_node_stop(struct qcn_node *n)
{
    struct qcn_node_priv *p = n->priv;
    if (n->stopping)
        return;
    n->stopping = 1;
    if (n->engine.ops != NULL)
        n->engine.ops->stop(n->engine.state);
    rpc_stop(n);
    qcn_node_p2p_stop(n);
    /* Verification jobs already queued finish (a chunk takes milliseconds)
     * and are drained by uv_run; their callers hear QCN_ERR_CLOSED. */
    (void)dispatch_job(n);
    if (n->handles_open) {
        uv_close((uv_handle_t *)&n->engine_timer, on_close);
        uv_close((uv_handle_t *)&n->housekeeping, on_close);
        uv_close((uv_handle_t *)&n->sigint, on_close);
        uv_close((uv_handle_t *)&n->sigterm, on_close);
        uv_close((uv_handle_t *)&p->flush, on_close);
        n->handles_open = 0;
    }
}

void qcn_node_free(struct qcn_node *n)
{
    struct qcn_node_priv *p;
    if (n == NULL)
        return;
    p = n->priv;
    if (n->loop_ready) {
        if (!n->stopping)
            qcn_node_stop(n);
        /* A block still being written is finished (and its head advanced)
         * before anything closes: stopping never abandons a commit. */
        while (n->commit_inflight)
            uv_run(&n->loop, UV_RUN_ONCE);
        if (p->committer_started) {
            uv_mutex_lock(&p->lock);
            p->quit = 1;
            uv_cond_signal(&p->cond);
            uv_mutex_unlock(&p->lock);
            uv_thread_join(&p->committer);
            p->committer_started = 0;
        }
        uv_close((uv_handle_t *)&p->committed, on_close);
        if (p->sync_ready) {
            uv_cond_destroy(&p->cond);
            uv_mutex_destroy(&p->lock);
            p->sync_ready = 0;
        }
        /* Run the loop until every close callback and work item is done. */
        uv_run(&n->loop, UV_RUN_DEFAULT);
        qcn_node_rpc_free(n); /* after the loop closed its handles */
        qcn_node_p2p_free(n);
        if (uv_loop_close(&n->loop) != 0)
            QCN_LOG(QCN_LOG_WARN, "node", "loop closed with handles still open");
    }
    qcn_engine_clear(&n->engine);
    qcn_node_load_free(n);
    qcn_mempool_free(n->mempool);
    qcn_chain_free(n->chain);
    qcn_store_rd_release(&n->rd);
    qcn_store_close(n->store);
    if (n->lock_fd >= 0)
        close(n->lock_fd);
    free(p);
    free(n);
}
