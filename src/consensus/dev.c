/* dev.c - the dev engine: a single node that makes every block itself.
 *
 * period_ms > 0: a block every period, transactions or not (a steady clock
 * for front-end work, like geth's --dev.period).
 * period_ms == 0: a block as soon as transactions wait. The timer is armed
 * with delay 0 on the first transaction, so every transaction that arrives in
 * the same loop iteration lands in the same block; while the pool still has
 * ready transactions after a block (the block was full), the next one follows
 * at once.
 * A failed block (store full, a transient error) is retried after retry_ms
 * rather than in a tight loop. The host may commit asynchronously: while a
 * commit is in flight produce_block answers QCN_ERR_BUSY and the engine
 * waits for on_block, which reports the new height (or the old one if the
 * commit failed). There is no vote and no certificate: finality
 * is "the store committed it". */
#include <stdlib.h>

#include "consensus/engine.h"
#include "util/log.h"

#define DEV_DEFAULT_RETRY_MS 200u
#define DEV_MAX_PERIOD_MS (24u * 3600u * 1000u)

struct dev {
    struct qcn_engine_host host;
    struct qcn_engine_config cfg;
    int running;
    int armed;
    int want;             /* a block was due while a commit was in flight */
    uint64_t last_height; /* head height at the last on_block */
    uint64_t blocks;
    uint64_t failures;
};

static void arm(struct dev *d, uint64_t delay_ms)
{
    d->armed = 1;
    d->host.timer_set(d->host.ctx, delay_ms);
}

static int dev_create(void **state, const struct qcn_engine_host *host,
                      const struct qcn_engine_config *cfg)
{
    struct dev *d;
    *state = NULL;
    if (cfg->period_ms > DEV_MAX_PERIOD_MS)
        return QCN_ERR_CONFIG;
    d = calloc(1, sizeof *d);
    if (d == NULL)
        return QCN_ERR_NOMEM;
    d->host = *host;
    d->cfg = *cfg;
    if (d->cfg.retry_ms == 0)
        d->cfg.retry_ms = DEV_DEFAULT_RETRY_MS;
    *state = d;
    return QCN_OK;
}

static int dev_start(void *state)
{
    struct dev *d = state;
    d->running = 1;
    d->last_height = d->host.head_height(d->host.ctx);
    if (d->cfg.period_ms > 0)
        arm(d, d->cfg.period_ms);
    else if (d->host.pending_txs(d->host.ctx) > 0)
        arm(d, 0);
    QCN_LOG(QCN_LOG_INFO, "dev", "dev engine started (%s%llu ms)",
            d->cfg.period_ms ? "a block every " : "on demand, ",
            (unsigned long long)d->cfg.period_ms);
    return QCN_OK;
}

static void dev_stop(void *state)
{
    struct dev *d = state;
    if (!d->running)
        return;
    d->running = 0;
    if (d->armed)
        d->host.timer_cancel(d->host.ctx);
    d->armed = 0;
}

static void dev_destroy(void *state)
{
    free(state);
}

static void dev_on_timer(void *state)
{
    struct dev *d = state;
    size_t ntx = 0;
    int err;

    d->armed = 0;
    if (!d->running)
        return;
    if (d->cfg.period_ms == 0 && d->host.pending_txs(d->host.ctx) == 0)
        return;
    err = d->host.produce_block(d->host.ctx, d->cfg.max_txs, &ntx);
    if (err == QCN_ERR_BUSY) {
        /* The previous block is still being written: on_block resumes. */
        d->want = 1;
        return;
    }
    if (err != QCN_OK) {
        d->failures++;
        QCN_LOG(QCN_LOG_WARN, "dev", "block at height %llu failed: %s; retrying in %llu ms",
                (unsigned long long)(d->host.head_height(d->host.ctx) + 1), qcn_err_str(err),
                (unsigned long long)d->cfg.retry_ms);
        arm(d, d->cfg.retry_ms);
        return;
    }
    d->blocks++;
    if (!d->running) /* produce_block's callbacks may have stopped us */
        return;
    if (d->cfg.period_ms > 0)
        arm(d, d->cfg.period_ms);
    else if (d->host.pending_txs(d->host.ctx) > 0)
        arm(d, 0);
}

static void dev_on_tx(void *state)
{
    struct dev *d = state;
    if (d->running && d->cfg.period_ms == 0 && !d->armed)
        arm(d, 0);
}

/* The host committed a block (or, with an unchanged height, failed to):
 * resume what waited for the commit. */
static void dev_on_block(void *state, uint64_t height)
{
    struct dev *d = state;
    int want = d->want;
    d->want = 0;
    if (!d->running)
        return;
    if (height <= d->last_height) {
        d->failures++;
        arm(d, d->cfg.retry_ms);
        return;
    }
    d->last_height = height;
    if (want || (d->cfg.period_ms == 0 && d->host.pending_txs(d->host.ctx) > 0))
        arm(d, 0);
}

const struct qcn_engine_ops qcn_engine_dev = {
    .name = "dev",
    .summary = "single node; a block every period, or on demand with period 0",
    .create = dev_create,
    .start = dev_start,
    .stop = dev_stop,
    .destroy = dev_destroy,
    .on_timer = dev_on_timer,
    .on_tx = dev_on_tx,
    .on_block = dev_on_block,
};
