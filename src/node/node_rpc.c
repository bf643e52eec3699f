/* node_rpc.c - the JSON-RPC service on the node's loop and the node's
 * metrics (node_rpc.h; docs/rpc.md "Wiring it into the node", docs/node.md).
 *
 * The service (rpc/chain_backend.h) reads the store, chain and pool itself;
 * the node only supplies submission (qcn_node_tx_submit, so RPC
 * transactions take the same decode -> checks -> ML-DSA -> pool path as any
 * other) and the facts only it knows (engine, counters). */
#include "node/node_rpc.h"

#include <stdlib.h>
#include <string.h>

#include "node/node_p2p.h"
#include "rpc/chain_backend.h"
#include "util/log.h"
#include "util/metrics.h"

struct node_rpc {
    struct qcn_metrics *metrics;
    struct qcn_metric *commit_s; /* qcn_block_commit_seconds */
    struct qcn_metric *verify_s; /* qcn_verify_seconds */
    struct qcn_rpc_service *svc; /* NULL when rpc.enabled is false */
    /* The service's own submission callback: admissions reported with it
     * were already announced to newPendingTransactions by the service. */
    void (*svc_done)(void *, int, const uint8_t *);
};

static int rpc_submit(void *user, const uint8_t *raw, size_t len,
                      void (*done)(void *, int, const uint8_t *), void *ctx)
{
    struct qcn_node *n = user;
    struct node_rpc *r = n->rpc;
    r->svc_done = done;
    return qcn_node_tx_submit(n, raw, len, done, ctx);
}

static int rpc_node_info(void *user, json_t **out)
{
    const struct qcn_node *n = user;
    *out = json_pack(
        "{s:s,s:I,s:I,s:I,s:I,s:I}", "engine", n->cfg.engine, "blocksProduced",
        (json_int_t)n->stats.blocks, "txsSubmitted", (json_int_t)n->stats.txs_submitted,
        "txsAdmitted", (json_int_t)n->stats.txs_admitted, "txsRejected",
        (json_int_t)n->stats.txs_rejected, "peerCount", (json_int_t)qcn_node_p2p_peer_count(n));
    return *out != NULL ? QCN_OK : QCN_ERR_NOMEM;
}

static int rpc_net_status(void *user, json_t **out)
{
    return qcn_node_p2p_status_json(user, out);
}

static void rpc_on_block(void *ctx, struct qcn_node *n, const struct qcn_block *blk)
{
    struct node_rpc *r = ctx;
    (void)n;
    if (r->svc != NULL)
        qcn_rpc_notify_block(qcn_rpc_service_rpc(r->svc), blk, NULL);
}

static int metrics_init(struct node_rpc *r)
{
    int err = qcn_metrics_new(&r->metrics);
    if (err == QCN_OK)
        err = qcn_metrics_histogram_register(
            r->metrics, &r->commit_s, "qcn_block_commit_seconds",
            "Time to write one block to the store (one LMDB transaction)", NULL,
            qcn_metrics_latency_buckets, qcn_metrics_latency_buckets_len);
    if (err == QCN_OK)
        err = qcn_metrics_histogram_register(
            r->metrics, &r->verify_s, "qcn_verify_seconds",
            "Time to verify one transaction's ML-DSA signature(s) on the thread pool", NULL,
            qcn_metrics_latency_buckets, qcn_metrics_latency_buckets_len);
    return err;
}

int qcn_node_rpc_start(struct qcn_node *n)
{
    struct node_rpc *r;
    struct qcn_rpc_chain_src src;
    struct qcn_rpc_config base;
    char token[QCN_CONFIG_MAX_PATH + 16];
    int err;

    r = calloc(1, sizeof *r);
    if (r == NULL)
        return QCN_ERR_NOMEM;
    n->rpc = r;
    err = metrics_init(r);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "metrics: %s", qcn_err_str(err));
        return err;
    }
    if (!n->cfg.rpc_enabled)
        return QCN_OK;
    if (qcn_node_config_path(&n->cfg, token, sizeof token, QCN_NODE_RPC_TOKEN_FILE) != QCN_OK)
        return QCN_ERR_CONFIG;
    memset(&src, 0, sizeof src);
    src.store = n->store;
    src.chain = n->chain;
    src.mempool = n->mempool;
    src.submit_tx = rpc_submit;
    src.submit_user = n;
    src.node_info = rpc_node_info;
    src.node_info_user = n;
    src.net_status = rpc_net_status;
    src.net_status_user = n;
    /* 0 in a cap = the rpc module's default (rpc/rpc.h). */
    memset(&base, 0, sizeof base);
    base.cors = n->cfg.rpc_cors[0] != '\0' ? n->cfg.rpc_cors : NULL;
    base.max_body = (size_t)n->cfg.rpc_max_body;
    base.max_batch = (size_t)n->cfg.rpc_max_batch;
    base.rate_per_sec = (uint32_t)n->cfg.rpc_rate_per_sec;
    base.logs_range = n->cfg.rpc_logs_range;
    base.metrics = r->metrics;
    err = qcn_rpc_service_start(&r->svc, &n->loop, n->cfg.rpc_addr, token,
                                qcn_chain_params(n->chain)->chain_id, &src, &base);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "rpc on %s: %s", n->cfg.rpc_addr, qcn_err_str(err));
        r->svc = NULL;
        return err;
    }
    QCN_LOG(QCN_LOG_INFO, "node", "rpc listening on %s (port %d)", n->cfg.rpc_addr,
            qcn_rpc_service_port(r->svc));
    return qcn_node_on_block(n, rpc_on_block, r);
}

int qcn_node_rpc_register(struct qcn_node *n, const struct qcn_rpc_method *methods, size_t count)
{
    struct node_rpc *r = n->rpc;
    if (r == NULL || r->svc == NULL)
        return QCN_OK;
    return qcn_rpc_register(qcn_rpc_service_rpc(r->svc), methods, count);
}

void qcn_node_rpc_stop(struct qcn_node *n)
{
    struct node_rpc *r = n->rpc;
    if (r != NULL && r->svc != NULL)
        qcn_rpc_service_stop(r->svc);
}

void qcn_node_rpc_free(struct qcn_node *n)
{
    struct node_rpc *r = n->rpc;
    if (r == NULL)
        return;
    qcn_rpc_service_free(r->svc);
    qcn_metrics_free(r->metrics);
    free(r);
    n->rpc = NULL;
}

void qcn_node_rpc_tx_admitted(struct qcn_node *n, const uint8_t hash[32], qcn_node_submit_cb cb)
{
    struct node_rpc *r = n->rpc;
    if (r == NULL || r->svc == NULL || (r->svc_done != NULL && cb == r->svc_done))
        return;
    qcn_rpc_notify_pending_tx(qcn_rpc_service_rpc(r->svc), hash);
}

void qcn_node_metrics_commit(struct qcn_node *n, double seconds)
{
    struct node_rpc *r = n->rpc;
    if (r != NULL)
        qcn_metrics_histogram_observe(r->commit_s, seconds);
}

void qcn_node_metrics_verify(struct qcn_node *n, double seconds)
{
    struct node_rpc *r = n->rpc;
    if (r != NULL)
        qcn_metrics_histogram_observe(r->verify_s, seconds);
}

struct qcn_metrics *qcn_node_metrics(const struct qcn_node *n)
{
    const struct node_rpc *r = n->rpc;
    return r != NULL ? r->metrics : NULL;
}
