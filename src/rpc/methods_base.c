/* methods_base.c - methods that need no chain: web3_, net_, eth_chainId,
 * eth_syncing, qcn_nodeInfo, qcn_peers, and the admin introspection method.
 * Answers follow the Ethereum JSON-RPC spec (execution-apis) shapes. */
#include "rpc/internal.h"

#include <stdio.h>
#include <string.h>

#include "crypto/keccak.h"

static int web3_client_version(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                               struct qcn_rpc_error *err)
{
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    *result = json_string(ctx->config->client_version);
    return 0;
}

static int web3_sha3(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                     struct qcn_rpc_error *err)
{
    struct qcn_buf data;
    uint8_t h[QCN_KECCAK256_BYTES];
    int rc;
    (void)ctx;

    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    qcn_buf_init(&data, ctx->config->max_body);
    rc = qcn_rpc_parse_data(err, &data, ctx->config->max_body, qcn_rpc_param(params, 0),
                            "params[0] (data)");
    if (rc == 0) {
        qcn_keccak256(h, data.p, data.len);
        *result = qcn_rpc_json_data(h, sizeof h);
    }
    qcn_buf_clear(&data);
    return rc;
}

static int net_version(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                       struct qcn_rpc_error *err)
{
    char s[24];
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    /* net_version is a decimal string (execution-apis), unlike eth_chainId. */
    snprintf(s, sizeof s, "%llu", (unsigned long long)ctx->config->network_id);
    *result = json_string(s);
    return 0;
}

/* The node's p2p status object (rpc.h, backend net_status), or NULL when the
 * node runs no p2p. Returns 0, or an error code with err filled. */
static int net_status(struct qcn_rpc_ctx *ctx, json_t **st, struct qcn_rpc_error *err)
{
    int rc;
    *st = NULL;
    if (ctx->backend->net_status == NULL)
        return 0;
    if ((rc = ctx->backend->net_status(ctx->backend->user, st)) != QCN_OK)
        return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "%s", qcn_err_str(rc));
    if (!json_is_object(*st)) {
        json_decref(*st);
        *st = NULL;
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "p2p status is not an object");
    }
    return 0;
}

/* True only while the p2p listener is up (a node without p2p, or one that
 * only dials out, is not listening). */
static int net_listening(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err)
{
    json_t *st;
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if (net_status(ctx, &st, err) != 0)
        return err->code;
    *result = json_boolean(st != NULL && json_is_true(json_object_get(st, "listening")));
    json_decref(st);
    return 0;
}

/* The connected peers whose handshake is complete (a quantity). */
static int net_peer_count(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                          struct qcn_rpc_error *err)
{
    json_t *st;
    size_t n = 0;
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if (net_status(ctx, &st, err) != 0)
        return err->code;
    if (st != NULL)
        n = json_array_size(json_object_get(st, "peers"));
    json_decref(st);
    *result = qcn_rpc_json_u64(n);
    return 0;
}

/* The whole p2p status: our node id and port, and every peer. */
static int qcn_peers(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                     struct qcn_rpc_error *err)
{
    json_t *st;
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if (net_status(ctx, &st, err) != 0)
        return err->code;
    if (st == NULL)
        st = json_pack("{s:b,s:n,s:i,s:[]}", "listening", 0, "nodeId", "port", 0, "peers");
    if (st == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    *result = st;
    return 0;
}

static int eth_chain_id(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                        struct qcn_rpc_error *err)
{
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    *result = qcn_rpc_json_u64(ctx->config->chain_id);
    return 0;
}

static int eth_syncing(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                       struct qcn_rpc_error *err)
{
    (void)ctx;
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    *result = json_false();
    return 0;
}

/* Maps a backend failure to a JSON-RPC error with the error enum's text. */
static int backend_error(struct qcn_rpc_error *err, int rc)
{
    return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "%s", qcn_err_str(rc));
}

static int eth_block_number(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                            struct qcn_rpc_error *err)
{
    uint64_t n;
    int rc;

    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    if (ctx->backend->head_number == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "eth_blockNumber: no chain attached");
    if ((rc = ctx->backend->head_number(ctx->backend->user, &n)) != QCN_OK)
        return backend_error(err, rc);
    *result = qcn_rpc_json_u64(n);
    return 0;
}

static int qcn_node_info(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err)
{
    json_t *info, *extra = NULL;
    uint64_t head;
    int rc;

    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    info = json_pack("{s:s,s:o,s:s}", "clientVersion", ctx->config->client_version, "chainId",
                     qcn_rpc_json_u64(ctx->config->chain_id), "rpc", "json-rpc 2.0; http+ws");
    if (info == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    if (ctx->backend->head_number != NULL &&
        ctx->backend->head_number(ctx->backend->user, &head) == QCN_OK)
        json_object_set_new(info, "headNumber", qcn_rpc_json_u64(head));
    if (ctx->backend->node_info != NULL) {
        if ((rc = ctx->backend->node_info(ctx->backend->user, &extra)) != QCN_OK) {
            json_decref(info);
            return backend_error(err, rc);
        }
        if (json_is_object(extra))
            json_object_update(info, extra);
        json_decref(extra);
    }
    *result = info;
    return 0;
}

/* Admin: the live RPC limits, so operators can see what a client hits. */
static int qcn_admin_rpc_config(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                struct qcn_rpc_error *err)
{
    const struct qcn_rpc_config *c = ctx->config;
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    *result = json_pack("{s:s,s:i,s:s?,s:I,s:I,s:i,s:I,s:I,s:I,s:I,s:I}", "addr", c->addr, "port",
                        c->port, "cors", c->cors, "maxBody", (json_int_t)c->max_body, "maxBatch",
                        (json_int_t)c->max_batch, "maxDepth", c->max_depth, "ratePerSec",
                        (json_int_t)c->rate_per_sec, "rateBurst", (json_int_t)c->rate_burst,
                        "logsRange", (json_int_t)c->logs_range, "wsQueue", (json_int_t)c->ws_queue,
                        "maxSubscriptions", (json_int_t)c->max_subs);
    return 0;
}

const struct qcn_rpc_method qcn_rpc_methods_base[] = {
    {"web3_clientVersion", web3_client_version, 0},
    {"web3_sha3", web3_sha3, 0},
    {"net_version", net_version, 0},
    {"net_listening", net_listening, 0},
    {"net_peerCount", net_peer_count, 0},
    {"eth_chainId", eth_chain_id, 0},
    {"eth_syncing", eth_syncing, 0},
    {"eth_blockNumber", eth_block_number, 0},
    {"qcn_nodeInfo", qcn_node_info, 0},
    {"qcn_peers", qcn_peers, 0},
    {"qcn_admin_rpcConfig", qcn_admin_rpc_config, QCN_RPC_ADMIN},
};
const size_t qcn_rpc_methods_base_len =
    sizeof qcn_rpc_methods_base / sizeof qcn_rpc_methods_base[0];
