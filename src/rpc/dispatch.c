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
                                          "Height of the head block", NULL)) != QCN_OK)
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
        (err = qcn_rpc_register(rpc, qcn_rpc_methods_subs, qcn_rpc_methods_subs_len)) != QCN_OK)
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

/* Runs one call. Returns the response object (new reference) or NULL for a
 * notification. *oom is set if a response could not be built. */
static json_t *call_one(struct qcn_rpc *rpc, struct qcn_rpc_ctx *ctx, json_t *req, int *oom)
{
    struct qcn_rpc_error err = {0};
    struct rpc_method_entry *m;
    json_t *id, *jv, *method, *params, *result = NULL, *resp;
    const char *name;
    uint64_t t0;
    int rc;

    if (!json_is_object(req))
        return error_response(NULL, QCN_RPC_INVALID_REQUEST,
                              "invalid request: a call must be a JSON object", NULL);
    id = json_object_get(req, "id");
    if (!id_valid(id))
        return error_response(NULL, QCN_RPC_INVALID_REQUEST,
                              "invalid request: id must be a string, number or null", NULL);
    jv = json_object_get(req, "jsonrpc");
    if (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0)
        return error_response(id, QCN_RPC_INVALID_REQUEST,
                              "invalid request: \"jsonrpc\" must be \"2.0\"", NULL);
    method = json_object_get(req, "method");
    if (!json_is_string(method))
        return error_response(id, QCN_RPC_INVALID_REQUEST,
                              "invalid request: \"method\" must be a string", NULL);
    params = json_object_get(req, "params");
    if (params != NULL && !json_is_array(params) && !json_is_object(params))
        return error_response(id, QCN_RPC_INVALID_REQUEST,
                              "invalid request: \"params\" must be an array or object", NULL);
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
    rc = m->handler(ctx, params, &result, &err);
    qcn_metrics_histogram_observe(m->latency, (double)(qcn_time_mono_ns() - t0) / 1e9);
    if (rc == 0 && result == NULL) {
        /* A handler that succeeds without a result answers null. */
        result = json_null();
    }
    if (rc != 0) {
        json_decref(result);
        result = NULL;
        if (err.code == 0)
            qcn_rpc_error_set(&err, QCN_RPC_INTERNAL_ERROR, "internal error");
    }
answer:
    if (result == NULL)
        qcn_metrics_counter_inc(rpc->m_errors);
    if (id == NULL) { /* notification: run, never answer (spec 4.1) */
        json_decref(result);
        json_decref(err.data);
        return NULL;
    }
    if (result != NULL)
        resp = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", result);
    else
        resp = error_response(id, err.code, err.message, err.data);
    json_decref(err.data);
    if (resp == NULL)
        *oom = 1;
    return resp;
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

static int emit_error(struct qcn_rpc *rpc, struct qcn_buf *out, int code, const char *msg)
{
    json_t *r = error_response(NULL, code, msg, NULL);
    int err;
    qcn_metrics_counter_inc(rpc->m_batch_rejects);
    err = emit(out, r);
    json_decref(r);
    return err;
}

/* A response over the output cap is replaced by an error saying so. */
static int emit_result(struct qcn_rpc *rpc, struct qcn_buf *out, json_t *resp)
{
    int err = emit(out, resp);
    if (err == QCN_ERR_TOO_LARGE)
        err = emit_error(rpc, out, QCN_RPC_LIMIT_EXCEEDED,
                         "response exceeds the size cap; narrow the request");
    return err;
}

int qcn_rpc_handle(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn, const char *token,
                   size_t token_len, const uint8_t *body, size_t len, struct qcn_buf *out,
                   size_t *ncalls)
{
    struct qcn_rpc_ctx ctx = {rpc, conn, 0, &rpc->config, &rpc->backend};
    json_error_t jerr;
    json_t *req = NULL, *resp = NULL;
    char msg[QCN_RPC_MAX_ERROR_MESSAGE];
    int err = QCN_OK, oom = 0;

    if (ncalls != NULL)
        *ncalls = 1;
    if (len > rpc->config.max_body) {
        snprintf(msg, sizeof msg, "request of %zu bytes exceeds the body cap of %zu bytes", len,
                 rpc->config.max_body);
        return emit_error(rpc, out, QCN_RPC_LIMIT_EXCEEDED, msg);
    }
    if (!depth_ok(body, len, rpc->config.max_depth)) {
        snprintf(msg, sizeof msg, "parse error: JSON nested deeper than %d levels",
                 rpc->config.max_depth);
        return emit_error(rpc, out, QCN_RPC_PARSE_ERROR, msg);
    }
    req = json_loadb((const char *)body, len, JSON_DECODE_ANY, &jerr);
    if (req == NULL) {
        snprintf(msg, sizeof msg, "parse error: %s at line %d column %d", jerr.text, jerr.line,
                 jerr.column);
        return emit_error(rpc, out, QCN_RPC_PARSE_ERROR, msg);
    }
    ctx.admin = token_ok(rpc, token, token_len);

    if (json_is_array(req)) {
        size_t n = json_array_size(req);
        if (ncalls != NULL)
            *ncalls = n;
        if (n == 0) {
            err = emit_error(rpc, out, QCN_RPC_INVALID_REQUEST, "invalid request: empty batch");
            goto out;
        }
        if (n > rpc->config.max_batch) {
            snprintf(msg, sizeof msg,
                     "invalid request: batch of %zu calls exceeds the batch cap of %zu", n,
                     rpc->config.max_batch);
            err = emit_error(rpc, out, QCN_RPC_INVALID_REQUEST, msg);
            goto out;
        }
        resp = json_array();
        if (resp == NULL) {
            err = QCN_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < n && !oom; i++) {
            json_t *r = call_one(rpc, &ctx, json_array_get(req, i), &oom);
            if (r != NULL && json_array_append_new(resp, r) != 0)
                oom = 1;
        }
        if (oom) {
            err = QCN_ERR_NOMEM;
            goto out;
        }
        if (json_array_size(resp) > 0)
            err = emit_result(rpc, out, resp);
        goto out;
    }
    resp = call_one(rpc, &ctx, req, &oom);
    if (oom) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    if (resp != NULL)
        err = emit_result(rpc, out, resp);
out:
    json_decref(req);
    json_decref(resp);
    return err;
}
