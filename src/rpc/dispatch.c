/* dispatch.c - JSON-RPC 2.0 request handling (https://www.jsonrpc.org/specification):
 * section 4 (request object), 4.1 (notifications get no response), 5
 * (response object), 5.1 (error codes), 6 (batch: an array of calls, an
 * empty array is an invalid request, all-notification batches get no
 * response).
 *
 * Caps are applied before the expensive work: the body size, then the
 * nesting depth by a linear scan (so a 1 MB "[[[[..." never reaches the
 * recursive parser), then the batch size before any call runs. */
#include "rpc/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/rng.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

int qcn_rpc_error_set(struct qcn_rpc_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

int qcn_rpc_error_param(struct qcn_rpc_error *err, const char *field, const char *fmt, ...)
{
    char why[QCN_RPC_MAX_ERROR_MESSAGE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return qcn_rpc_error_set(err, QCN_RPC_INVALID_PARAMS, "invalid params: %s: %s", field, why);
}

void qcn_rpc_new_id(char out[2 + 32 + 1])
{
    uint8_t raw[16];
    qcn_rng_bytes(raw, sizeof raw);
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, raw, sizeof raw);
}

/* The token file holds one line; surrounding whitespace is ignored. A
 * missing file gets a fresh 256-bit token so admin access never defaults to
 * "no password". */
static int token_load(struct qcn_rpc *rpc, const char *path)
{
    uint8_t raw[32];
    char buf[QCN_RPC_MAX_TOKEN + 2];
    ssize_t n;
    size_t len, start = 0;
    int fd, err = QCN_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        qcn_rng_bytes(raw, sizeof raw);
        qcn_hex_encode(buf, raw, sizeof raw);
        qcn_wipe(raw, sizeof raw);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, buf, 64) != 64 || write(fd, "\n", 1) != 1) {
            err = QCN_ERR_IO;
            goto out;
        }
        close(fd);
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        err = QCN_ERR_IO;
        goto out;
    }
    n = read(fd, buf, sizeof buf);
    if (n < 0) {
        err = QCN_ERR_IO;
        goto out;
    }
    len = (size_t)n;
    if (len > QCN_RPC_MAX_TOKEN) {
        err = QCN_ERR_CONFIG;
        goto out;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                       buf[len - 1] == '\t'))
        len--;
    while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
        start++;
    if (len - start < 16) { /* a short token is a guessable token */
        err = QCN_ERR_CONFIG;
        goto out;
    }
    memcpy(rpc->token, buf + start, len - start);
    rpc->token_len = len - start;
out:
    if (fd >= 0)
        close(fd);
    qcn_wipe(buf, sizeof buf);
    return err;
}

int qcn_rpc_new(struct qcn_rpc **out, const struct qcn_rpc_config *config,
                const struct qcn_rpc_backend *backend)
{
    struct qcn_rpc *rpc;
    struct qcn_rpc_config *c;
    int err;

    *out = NULL;
    rpc = calloc(1, sizeof *rpc);
    if (rpc == NULL)
        return QCN_ERR_NOMEM;
    if (config != NULL)
        rpc->config = *config;
    if (backend != NULL)
        rpc->backend = *backend;
    c = &rpc->config;
    if (c->addr == NULL)
        c->addr = "127.0.0.1";
    if (c->port == 0)
        c->port = QCN_RPC_DEFAULT_PORT;
    if (c->max_body == 0)
        c->max_body = QCN_RPC_DEFAULT_MAX_BODY;
    if (c->max_batch == 0)
        c->max_batch = QCN_RPC_DEFAULT_MAX_BATCH;
    if (c->max_depth <= 0)
        c->max_depth = QCN_RPC_DEFAULT_MAX_DEPTH;
    if (c->rate_burst == 0)
        c->rate_burst = c->rate_per_sec;
    if (c->logs_range == 0)
        c->logs_range = QCN_RPC_DEFAULT_LOGS_RANGE;
    if (c->max_logs == 0)
        c->max_logs = QCN_RPC_DEFAULT_MAX_LOGS;
    if (c->call_gas_cap == 0)
        c->call_gas_cap = QCN_RPC_DEFAULT_CALL_GAS_CAP;
    if (c->ws_queue == 0)
        c->ws_queue = QCN_RPC_DEFAULT_WS_QUEUE;
    if (c->max_subs == 0)
        c->max_subs = QCN_RPC_DEFAULT_MAX_SUBS;
    if (c->max_filters == 0)
        c->max_filters = QCN_RPC_DEFAULT_MAX_FILTERS;
    if (c->network_id == 0)
        c->network_id = c->chain_id;
    snprintf(rpc->client_version, sizeof rpc->client_version, "%s",
             c->client_version != NULL ? c->client_version : "qcn/v" QCN_VERSION);
    c->client_version = rpc->client_version;

    if (c->metrics != NULL) {
        rpc->metrics = c->metrics;
    } else {
        if ((err = qcn_metrics_new(&rpc->metrics)) != QCN_OK)
            goto fail;
        rpc->own_metrics = 1;
    }
    c->metrics = rpc->metrics;
    if ((err = qcn_metrics_counter_register(
             rpc->metrics, &rpc->m_unknown, "qcn_rpc_unknown_method_total",
             "Calls to methods that do not exist", NULL)) != QCN_OK ||
        (err = qcn_metrics_counter_register(rpc->metrics, &rpc->m_errors, "qcn_rpc_errors_total",
                                            "Calls answered with a JSON-RPC error", NULL)) !=
            QCN_OK ||
        (err = qcn_metrics_counter_register(rpc->metrics, &rpc->m_batch_rejects,
                                            "qcn_rpc_rejected_requests_total",
                                            "Requests refused before dispatch (parse error, "
                                            "depth, batch or body cap)",
                                            NULL)) != QCN_OK ||
        (err = qcn_metrics_gauge_register(rpc->metrics, &rpc->m_subs, "qcn_rpc_subscriptions",
                                          "Live WebSocket subscriptions", NULL)) != QCN_OK ||
        (err = qcn_metrics_gauge_register(rpc->metrics, &rpc->m_head, "qcn_head_height",
                                          "Height of the head block", NULL)) != QCN_OK ||
        (err = qcn_metrics_gauge_register(rpc->metrics, &rpc->m_mempool, "qcn_mempool_size",
                                          "Transactions in the mempool", NULL)) != QCN_OK ||
        (err = qcn_metrics_gauge_register(rpc->metrics, &rpc->m_mempool_bytes, "qcn_mempool_bytes",
                                          "Bytes of transactions in the mempool", NULL)) !=
            QCN_OK ||
        (err = qcn_metrics_counter_register(rpc->metrics, &rpc->m_blocks, "qcn_blocks_total",
                                            "Blocks committed while this process ran", NULL)) !=
            QCN_OK ||
        (err = qcn_metrics_counter_register(
             rpc->metrics, &rpc->m_txs, "qcn_txs_committed_total",
             "Transactions in committed blocks (rate() of it is txs/s)", NULL)) != QCN_OK)
        goto fail;

    if (c->admin_token_file != NULL && (err = token_load(rpc, c->admin_token_file)) != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "rpc", "cannot use admin token file %s: %s", c->admin_token_file,
                qcn_err_str(err));
        goto fail;
    }
    rpc->methods = calloc(QCN_RPC_MAX_METHODS, sizeof *rpc->methods);
    if (rpc->methods == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    if ((err = qcn_rpc_register(rpc, qcn_rpc_methods_base, qcn_rpc_methods_base_len)) != QCN_OK ||
        (err = qcn_rpc_register(rpc, qcn_rpc_methods_subs, qcn_rpc_methods_subs_len)) != QCN_OK ||
        (err = qcn_rpc_register(rpc, qcn_rpc_methods_eth, qcn_rpc_methods_eth_len)) != QCN_OK)
        goto fail;
    *out = rpc;
    return QCN_OK;
fail:
    qcn_rpc_free(rpc);
    return err;
}

void qcn_rpc_free(struct qcn_rpc *rpc)
{
    if (rpc == NULL)
        return;
    qcn_rpc_subs_free_all(rpc);
    free(rpc->methods);
    if (rpc->own_metrics)
        qcn_metrics_free(rpc->metrics);
    qcn_wipe(rpc->token, sizeof rpc->token);
    free(rpc);
}

struct qcn_metrics *qcn_rpc_metrics(struct qcn_rpc *rpc)
{
    return rpc->metrics;
}

int qcn_rpc_register(struct qcn_rpc *rpc, const struct qcn_rpc_method *methods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rpc_method_entry *e = NULL;
        size_t len = strlen(methods[i].name);
        if (len == 0 || len > QCN_RPC_MAX_METHOD_NAME || methods[i].handler == NULL)
            return QCN_ERR_INVALID_ARG;
        for (size_t j = 0; j < rpc->nmethods; j++)
            if (strcmp(rpc->methods[j].name, methods[i].name) == 0)
                e = &rpc->methods[j];
        if (e == NULL) {
            if (rpc->nmethods >= QCN_RPC_MAX_METHODS)
                return QCN_ERR_TOO_LARGE;
            e = &rpc->methods[rpc->nmethods++];
            memcpy(e->name, methods[i].name, len + 1);
        }
        e->handler = methods[i].handler;
        e->flags = methods[i].flags;
    }
    return QCN_OK;
}

static struct rpc_method_entry *method_find(struct qcn_rpc *rpc, const char *name)
{
    for (size_t i = 0; i < rpc->nmethods; i++)
        if (strcmp(rpc->methods[i].name, name) == 0)
            return &rpc->methods[i];
    return NULL;
}

/* Nesting depth of arrays and objects, outside strings, in one pass. */
static int depth_ok(const uint8_t *p, size_t len, int max)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

static json_t *error_response(json_t *id, int code, const char *message, json_t *data)
{
    json_t *e = json_pack("{s:i,s:s}", "code", code, "message", message);
    json_t *r;
    if (e != NULL && data != NULL)
        json_object_set(e, "data", data);
    r = json_pack("{s:s,s:O?,s:o?}", "jsonrpc", "2.0", "id", id != NULL ? id : json_null(), "error",
                  e);
    return r;
}

static int id_valid(const json_t *id)
{
    return id == NULL || json_is_string(id) || json_is_number(id) || json_is_null(id);
}

static int token_ok(struct qcn_rpc *rpc, const char *token, size_t token_len)
{
    if (rpc->token_len == 0 || token == NULL)
        return 0;
    if (token_len != rpc->token_len) {
        /* Same work as a real compare; the length itself is not secret. */
        (void)qcn_ct_equal(rpc->token, rpc->token, rpc->token_len);
        return 0;
    }
    return qcn_ct_equal(rpc->token, token, token_len);
}

static void method_metrics(struct qcn_rpc *rpc, struct rpc_method_entry *m)
{
    const char *lab[] = {"method", m->name, NULL};
    if (m->calls == NULL &&
        qcn_metrics_counter_register(rpc->metrics, &m->calls, "qcn_rpc_requests_total",
                                     "JSON-RPC calls by method", lab) != QCN_OK)
        m->calls = NULL;
    if (m->latency == NULL &&
        qcn_metrics_histogram_register(
            rpc->metrics, &m->latency, "qcn_rpc_request_duration_seconds",
            "JSON-RPC call latency by method", lab, qcn_metrics_latency_buckets,
            qcn_metrics_latency_buckets_len) != QCN_OK)
        m->latency = NULL;
}

/* One request in flight: its response slots (one per call; NULL for
 * notifications and calls still deferred) and the count of deferred calls.
 * It answers when the synchronous pass is over and nothing is deferred. */
struct qcn_rpc_request {
    struct qcn_rpc_request *next; /* rpc->requests, only while deferred */
    struct qcn_rpc *rpc;
    struct qcn_rpc_conn *conn;
    json_t **slots;
    size_t nslots;
    int batch;
    size_t deferred;
    int dispatching;
    int cancelled;
    int listed;
    int oom;
    qcn_rpc_reply_fn reply;
    void *reply_ctx;
};

struct qcn_rpc_call {
    struct qcn_rpc_request *req;
    size_t slot;
    json_t *id; /* NULL for a notification */
    struct rpc_method_entry *m;
    uint64_t t0;
};

static void request_unlist(struct qcn_rpc_request *req)
{
    if (!req->listed)
        return;
    for (struct qcn_rpc_request **pp = &req->rpc->requests; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == req) {
            *pp = req->next;
            break;
        }
    }
    req->listed = 0;
}

static void request_free(struct qcn_rpc_request *req)
{
    request_unlist(req);
    for (size_t i = 0; i < req->nslots; i++)
        json_decref(req->slots[i]);
    free(req->slots);
    free(req);
}

static json_t *response_for(json_t *id, json_t *result, const struct qcn_rpc_error *err)
{
    if (result != NULL)
        return json_pack("{s:s,s:O,s:O}", "jsonrpc", "2.0", "id", id, "result", result);
    return error_response(id, err->code, err->message, err->data);
}

/* Runs one call into slot i. */
static void call_one(struct qcn_rpc *rpc, struct qcn_rpc_request *req, struct qcn_rpc_ctx *ctx,
                     json_t *call, size_t i)
{
    struct qcn_rpc_error err = {0};
    struct rpc_method_entry *m;
    json_t *id, *jv, *method, *params, *result = NULL;
    const char *name;
    uint64_t t0;
    int rc;

    if (!json_is_object(call)) {
        req->slots[i] = error_response(NULL, QCN_RPC_INVALID_REQUEST,
                                       "invalid request: a call must be a JSON object", NULL);
        goto check;
    }
    id = json_object_get(call, "id");
    if (!id_valid(id)) {
        req->slots[i] =
            error_response(NULL, QCN_RPC_INVALID_REQUEST,
                           "invalid request: id must be a string, number or null", NULL);
        goto check;
    }
    jv = json_object_get(call, "jsonrpc");
    if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0) {
        req->slots[i] = error_response(id, QCN_RPC_INVALID_REQUEST,
                                       "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
        goto check;
    }
    method = json_object_get(call, "method");
    if (!json_is_string(method)) {
        req->slots[i] = error_response(id, QCN_RPC_INVALID_REQUEST,
                                       "invalid request: \"method\" must be a string", NULL);
        goto check;
    }
    params = json_object_get(call, "params");
    if (params != NULL && !json_is_array(params) && !json_is_object(params)) {
        req->slots[i] =
            error_response(id, QCN_RPC_INVALID_REQUEST,
                           "invalid request: \"params\" must be an array or object", NULL);
        goto check;
    }
    name = json_string_value(method);
    m = method_find(rpc, name);
    if (m == NULL) {
        qcn_metrics_counter_inc(rpc->m_unknown);
        qcn_rpc_error_set(&err, QCN_RPC_METHOD_NOT_FOUND,
                          "the method %.64s does not exist/is not available", name);
        goto answer;
    }
    method_metrics(rpc, m);
    qcn_metrics_counter_inc(m->calls);
    if ((m->flags & QCN_RPC_ADMIN) && !ctx->admin) {
        qcn_rpc_error_set(&err, QCN_RPC_UNAUTHORIZED,
                          "unauthorized: %s needs an admin token (Authorization: Bearer <token>)",
                          m->name);
        goto answer;
    }
    if ((m->flags & QCN_RPC_WS_ONLY) && ctx->conn == NULL) {
        qcn_rpc_error_set(&err, QCN_RPC_METHOD_NOT_FOUND,
                          "%s needs a WebSocket connection (notifications are not supported over "
                          "HTTP)",
                          m->name);
        goto answer;
    }
    t0 = qcn_time_mono_ns();
    ctx->deferred = NULL;
    ctx->priv = &(struct qcn_rpc_call){req, i, id, m, t0};
    rc = m->handler(ctx, params, &result, &err);
    ctx->priv = NULL;
    if (rc == QCN_RPC_DEFERRED && ctx->deferred != NULL)
        return; /* qcn_rpc_call_done fills the slot (it may already have) */
    qcn_metrics_histogram_observe(m->latency, (double)(qcn_time_mono_ns() - t0) / 1e9);
    if (rc == 0 && result == NULL)
        result = json_null(); /* a handler that succeeds without a result answers null */
    if (rc != 0) {
        json_decref(result);
        result = NULL;
        if (err.code == 0 || rc == QCN_RPC_DEFERRED)
            qcn_rpc_error_set(&err, QCN_RPC_INTERNAL_ERROR, "internal error");
    }
answer:
    if (result == NULL)
        qcn_metrics_counter_inc(rpc->m_errors);
    if (id != NULL) /* a notification runs but is never answered (spec 4.1) */
        req->slots[i] = response_for(id, result, &err);
    if (id != NULL && req->slots[i] == NULL)
        req->oom = 1;
    json_decref(result);
    json_decref(err.data);
    return;
check:
    if (req->slots[i] == NULL)
        req->oom = 1;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return qcn_buf_append(data, buffer, size) == QCN_OK ? 0 : -1;
}

static int emit(struct qcn_buf *out, json_t *resp)
{
    size_t before = out->len;
    if (resp == NULL)
        return QCN_ERR_NOMEM;
    if (json_dump_callback(resp, dump_cb, out, JSON_COMPACT) != 0) {
        out->len = before;
        return out->max - out->len < 64 ? QCN_ERR_TOO_LARGE : QCN_ERR_NOMEM;
    }
    return QCN_OK;
}

static void reply_error(struct qcn_rpc *rpc, qcn_rpc_reply_fn reply, void *ctx, int code,
                        const char *msg)
{
    struct qcn_buf out;
    json_t *r = error_response(NULL, code, msg, NULL);
    int err;
    qcn_metrics_counter_inc(rpc->m_batch_rejects);
    qcn_buf_init(&out, QCN_RPC_MAX_RESPONSE);
    err = emit(&out, r);
    json_decref(r);
    reply(ctx, err, (const char *)out.p, out.len);
    qcn_buf_clear(&out);
}

/* Builds the answer from the slots and hands it to the transport. */
static void request_finish(struct qcn_rpc_request *req)
{
    struct qcn_buf out;
    json_t *resp = NULL;
    int err = QCN_OK;

    if (req->cancelled)
        goto out;
    qcn_buf_init(&out, QCN_RPC_MAX_RESPONSE);
    if (req->oom) {
        err = QCN_ERR_NOMEM;
    } else if (req->batch) {
        resp = json_array();
        if (resp == NULL)
            err = QCN_ERR_NOMEM;
        for (size_t i = 0; i < req->nslots && err == QCN_OK; i++)
            if (req->slots[i] != NULL && json_array_append(resp, req->slots[i]) != 0)
                err = QCN_ERR_NOMEM;
        if (err == QCN_OK && json_array_size(resp) > 0)
            err = emit(&out, resp);
    } else if (req->slots[0] != NULL) {
        err = emit(&out, req->slots[0]);
    }
    json_decref(resp);
    if (err == QCN_ERR_TOO_LARGE) {
        qcn_buf_clear(&out);
        reply_error(req->rpc, req->reply, req->reply_ctx, QCN_RPC_LIMIT_EXCEEDED,
                    "response exceeds the size cap; narrow the request");
    } else {
        req->reply(req->reply_ctx, err, (const char *)out.p, out.len);
        qcn_buf_clear(&out);
    }
out:
    request_free(req);
}

struct qcn_rpc_call *qcn_rpc_defer(struct qcn_rpc_ctx *ctx)
{
    struct qcn_rpc_call *c;
    if (ctx->priv == NULL)
        return NULL;
    c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    *c = *(struct qcn_rpc_call *)ctx->priv;
    json_incref(c->id);
    c->req->deferred++;
    ctx->deferred = c;
    return c;
}

void qcn_rpc_call_done(struct qcn_rpc_call *call, json_t *result, const struct qcn_rpc_error *err)
{
    struct qcn_rpc_request *req = call->req;
    struct qcn_rpc *rpc = req->rpc;
    struct qcn_rpc_error fallback = {0};

    qcn_metrics_histogram_observe(call->m->latency, (double)(qcn_time_mono_ns() - call->t0) / 1e9);
    if (result == NULL && err == NULL) {
        qcn_rpc_error_set(&fallback, QCN_RPC_INTERNAL_ERROR, "internal error");
        err = &fallback;
    }
    if (result == NULL)
        qcn_metrics_counter_inc(rpc->m_errors);
    if (call->id != NULL && !req->cancelled) {
        req->slots[call->slot] = response_for(call->id, result, err);
        if (req->slots[call->slot] == NULL)
            req->oom = 1;
    }
    json_decref(result);
    json_decref(call->id);
    free(call);
    if (--req->deferred == 0 && !req->dispatching)
        request_finish(req);
}

void qcn_rpc_request_cancel(struct qcn_rpc_request *req)
{
    if (req != NULL)
        req->cancelled = 1;
}

void qcn_rpc_requests_cancel_conn(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn)
{
    for (struct qcn_rpc_request *r = rpc->requests; r != NULL; r = r->next)
        if (r->conn == conn)
            r->cancelled = 1;
}

void qcn_rpc_handle(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn, const char *token,
                    size_t token_len, const uint8_t *body, size_t len, qcn_rpc_reply_fn reply,
                    void *reply_ctx, size_t *ncalls, struct qcn_rpc_request **pending)
{
    struct qcn_rpc_ctx ctx = {rpc, conn, 0, &rpc->config, &rpc->backend, NULL, NULL};
    struct qcn_rpc_request *req = NULL;
    json_error_t jerr;
    json_t *doc = NULL;
    char msg[QCN_RPC_MAX_ERROR_MESSAGE];
    size_t n;

    if (ncalls != NULL)
        *ncalls = 1;
    if (pending != NULL)
        *pending = NULL;
    if (len > rpc->config.max_body) {
        snprintf(msg, sizeof msg, "request of %zu bytes exceeds the body cap of %zu bytes", len,
                 rpc->config.max_body);
        reply_error(rpc, reply, reply_ctx, QCN_RPC_LIMIT_EXCEEDED, msg);
        return;
    }
    if (!depth_ok(body, len, rpc->config.max_depth)) {
        snprintf(msg, sizeof msg, "parse error: JSON nested deeper than %d levels",
                 rpc->config.max_depth);
        reply_error(rpc, reply, reply_ctx, QCN_RPC_PARSE_ERROR, msg);
        return;
    }
    doc = json_loadb((const char *)body, len, JSON_DECODE_ANY, &jerr);
    if (doc == NULL) {
        snprintf(msg, sizeof msg, "parse error: %s at line %d column %d", jerr.text, jerr.line,
                 jerr.column);
        reply_error(rpc, reply, reply_ctx, QCN_RPC_PARSE_ERROR, msg);
        return;
    }
    n = json_is_array(doc) ? json_array_size(doc) : 1;
    if (ncalls != NULL)
        *ncalls = n;
    if (json_is_array(doc) && n == 0) {
        reply_error(rpc, reply, reply_ctx, QCN_RPC_INVALID_REQUEST, "invalid request: empty batch");
        goto out;
    }
    if (json_is_array(doc) && n > rpc->config.max_batch) {
        snprintf(msg, sizeof msg,
                 "invalid request: batch of %zu calls exceeds the batch cap of %zu", n,
                 rpc->config.max_batch);
        reply_error(rpc, reply, reply_ctx, QCN_RPC_INVALID_REQUEST, msg);
        goto out;
    }
    req = calloc(1, sizeof *req);
    if (req != NULL)
        req->slots = calloc(n, sizeof *req->slots);
    if (req == NULL || req->slots == NULL) {
        free(req);
        reply(reply_ctx, QCN_ERR_NOMEM, NULL, 0);
        goto out;
    }
    req->rpc = rpc;
    req->conn = conn;
    req->nslots = n;
    req->batch = json_is_array(doc);
    req->reply = reply;
    req->reply_ctx = reply_ctx;
    req->dispatching = 1;
    ctx.admin = token_ok(rpc, token, token_len);
    for (size_t i = 0; i < n && !req->oom; i++)
        call_one(rpc, req, &ctx, req->batch ? json_array_get(doc, i) : doc, i);
    req->dispatching = 0;
    if (req->deferred == 0) {
        request_finish(req);
    } else {
        req->next = rpc->requests;
        rpc->requests = req;
        req->listed = 1;
        if (pending != NULL)
            *pending = req;
    }
out:
    json_decref(doc);
}

struct sync_reply {
    struct qcn_buf *out;
    int err;
    int done;
};

static void sync_reply_fn(void *ctx, int err, const char *text, size_t len)
{
    struct sync_reply *s = ctx;
    s->done = 1;
    s->err = err;
    if (err == QCN_OK && len > 0)
        s->err = qcn_buf_append(s->out, text, len);
}

int qcn_rpc_handle_sync(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn, const char *token,
                        size_t token_len, const uint8_t *body, size_t len, struct qcn_buf *out)
{
    struct sync_reply s = {out, QCN_OK, 0};
    struct qcn_rpc_request *pending = NULL;

    qcn_rpc_handle(rpc, conn, token, token_len, body, len, sync_reply_fn, &s, NULL, &pending);
    if (!s.done) {
        qcn_rpc_request_cancel(pending);
        return QCN_ERR_BUSY;
    }
    return s.err;
}
