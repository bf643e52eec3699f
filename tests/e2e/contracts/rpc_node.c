/* rpc_node: a real node (src/node: store, chain with the EVM, mempool, dev
 * engine, committer) with the JSON-RPC service (src/rpc) started on its loop
 * exactly as rpc/chain_backend.h describes the wiring. Stand-in for
 * `qcn node` in the contracts e2e test while node.c does not start the RPC
 * yet (tests/cmake/contracts.cmake picks `qcn node` once it does).
 * Usage: rpc_node DATADIR HOST:PORT [PERIOD_MS]. Runs until SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"
#include "node/node.h"
#include "rpc/chain_backend.h"

static struct qcn_rpc_service *svc;
static uv_signal_t sigterm, sigint;

/* The node stops itself on these signals; the RPC service must close its
 * handles too, or the loop never drains. */
static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    qcn_rpc_service_stop(svc);
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
}

static int submit(void *user, const uint8_t *raw, size_t len,
                  void (*done)(void *done_ctx, int err, const uint8_t hash[QCN_HASH_BYTES]),
                  void *done_ctx)
{
    return qcn_node_tx_submit(user, raw, len, done, done_ctx);
}

static void on_block(void *ctx, struct qcn_node *n, const struct qcn_block *blk)
{
    (void)ctx;
    (void)n;
    qcn_rpc_notify_block(qcn_rpc_service_rpc(svc), blk, NULL);
}

int main(int argc, char **argv)
{
    struct qcn_node_config cfg;
    struct qcn_node *n = NULL;
    struct qcn_rpc_chain_src src;
    char err[256], token[QCN_CONFIG_MAX_PATH + 16];
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: rpc_node DATADIR HOST:PORT [PERIOD_MS]\n");
        return 2;
    }
    qcn_node_config_default(&cfg);
    if (qcn_node_config_set(&cfg, "datadir", argv[1], err, sizeof err) != QCN_OK ||
        qcn_node_config_set(&cfg, "dev.period_ms", argc > 3 ? argv[3] : "0", err, sizeof err) !=
            QCN_OK) {
        fprintf(stderr, "rpc_node: %s\n", err);
        return 2;
    }
    if (qcn_node_new(&n, &cfg) != QCN_OK)
        return 1;
    memset(&src, 0, sizeof src);
    src.store = n->store;
    src.chain = n->chain;
    src.mempool = n->mempool;
    src.submit_tx = submit;
    src.submit_user = n;
    snprintf(token, sizeof token, "%s/rpc.token", cfg.datadir);
    rc = qcn_rpc_service_start(&svc, &n->loop, argv[2], token, qcn_chain_params(n->chain)->chain_id,
                               &src, NULL);
    if (rc == QCN_OK)
        rc = qcn_node_on_block(n, on_block, NULL);
    if (rc == QCN_OK) {
        uv_signal_init(&n->loop, &sigterm);
        uv_signal_init(&n->loop, &sigint);
        uv_signal_start(&sigterm, on_signal, SIGTERM);
        uv_signal_start(&sigint, on_signal, SIGINT);
    }
    if (rc == QCN_OK)
        rc = qcn_node_run(n);
    if (rc != QCN_OK)
        fprintf(stderr, "rpc_node: %s\n", qcn_err_str(rc));
    qcn_rpc_service_free(svc);
    qcn_node_free(n);
    return rc == QCN_OK ? 0 : 1;
}
