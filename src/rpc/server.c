/* server.c - libwebsockets glue: HTTP/1.1 (POST JSON-RPC, GET /health, GET
 * /metrics, OPTIONS preflight) and WebSocket on one listening socket, on the
 * caller's libuv loop (LWS_SERVER_OPTION_LIBUV with foreign_loops: lws adds
 * its watchers to that loop, so every callback below runs on the loop thread
 * that owns node state and no locking is needed). See docs/rpc.md for why
 * libwebsockets.
 *
 * One protocol handles both: lws gives HTTP requests to protocols[0] and a
 * WebSocket upgrade without a subprotocol also binds protocols[0]. The
 * per-session struct is therefore used either as an HTTP session (body
 * buffer, pending response) or as a WebSocket connection (receive buffer,
 * send queue), never both at once.
 *
 * Caps (rpc.h): request body (Content-Length checked before reading, and
 * again while reading since the header may lie), WebSocket message size,
 * per-connection token-bucket rate, per-connection send queue (a client that
 * does not read is disconnected with 1008 rather than buffered forever). */
#include <libwebsockets.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpc/internal.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/time.h"

#define MAX_CORS_ORIGINS 32
#define MAX_ORIGIN 256
#define HEADER_SPACE 2048
/* Bytes handed to lws_write per writeable callback for HTTP bodies. */
#define HTTP_CHUNK (64u * 1024u)
/* Bodies up to this size leave in the same write as the headers. */
#define SMALL_BODY (16u * 1024u)
/* Seconds a client gets to deliver a request body. */
#define BODY_TIMEOUT_S 30

struct qcn_rpc_server {
    struct qcn_rpc *rpc;
    struct lws_context *ctx;
    int stopping;
    int port;
    char origins[MAX_CORS_ORIGINS][MAX_ORIGIN];
    size_t norigins;
    int any_origin;
    struct qcn_metric *m_ws_conns, *m_ws_cut, *m_http, *m_rate_limited;
};

struct ws_msg {
    struct ws_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
};

enum sess_kind { SESS_HTTP = 0, SESS_WS = 1 };

/* Per-connection state that must outlive one HTTP transaction: lws gives
 * each keep-alive request a fresh per-session struct, so this hangs off the
 * wsi's opaque pointer and is freed with the wsi (LWS_CALLBACK_WSI_DESTROY). */
struct conn_state {
    double tokens;
    uint64_t refill_ms;
};

struct pss {
    struct qcn_rpc_conn conn; /* WebSocket sink for the dispatcher */
    struct lws *wsi;
    struct qcn_rpc_server *srv;
    enum sess_kind kind;
    /* request */
    struct qcn_buf in;
    char token[QCN_RPC_MAX_TOKEN + 1];
    size_t token_len;
    char cors[MAX_ORIGIN]; /* value for Access-Control-Allow-Origin, "" = none */
    int too_large;
    int close_after;
    int responded; /* answered early (before the body): ignore the body */
    int direct;    /* inside body completion: the caller writes the answer */
    /* HTTP response: headers go out in one writeable callback, the body in
     * the following ones (lws allows one lws_write per callback) */
    unsigned char *resp; /* LWS_PRE headroom + body */
    size_t resp_len, resp_off;
    unsigned status;
    const char *ctype;
    int headers_sent;
    struct qcn_rpc_request *pending; /* a deferred answer is on its way */
    /* WebSocket send queue */
    struct ws_msg *qhead, *qtail;
    size_t qbytes;
    int cutting;
};

static void lws_log_to_qcn(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    QCN_LOG(level == LLL_ERR ? QCN_LOG_ERROR : QCN_LOG_WARN, "lws", "%.*s", (int)n, line);
}

static struct qcn_rpc_server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* ---- helpers ---- */

static int origin_allowed(struct qcn_rpc_server *s, const char *origin)
{
    if (s->any_origin)
        return 1;
    for (size_t i = 0; i < s->norigins; i++)
        if (strcasecmp(s->origins[i], origin) == 0)
            return 1;
    return 0;
}

/* Reads the Origin header. Returns 1 if the request may proceed (no Origin:
 * not a browser; or an allowed one) and fills p->cors with the value to echo. */
static int cors_check(struct qcn_rpc_server *s, struct pss *p)
{
    char origin[MAX_ORIGIN];
    int n = lws_hdr_total_length(p->wsi, WSI_TOKEN_ORIGIN);

    p->cors[0] = '\0';
    if (n <= 0)
        return 1;
    if (n >= (int)sizeof origin ||
        lws_hdr_copy(p->wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return 0;
    if (!origin_allowed(s, origin))
        return 0;
    snprintf(p->cors, sizeof p->cors, "%s", s->any_origin ? "*" : origin);
    return 1;
}

static void token_read(struct pss *p)
{
    char auth[QCN_RPC_MAX_TOKEN + 16];
    int n = lws_hdr_total_length(p->wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

    p->token_len = 0;
    if (n <= 7 || n >= (int)sizeof auth ||
        lws_hdr_copy(p->wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        return;
    if (strncasecmp(auth, "Bearer ", 7) != 0)
        return;
    p->token_len = strlen(auth + 7);
    memcpy(p->token, auth + 7, p->token_len + 1);
}

/* Token bucket: rate_per_sec tokens a second up to rate_burst. Takes n
 * tokens; returns 0 if the bucket was empty. The balance may go negative
 * after a batch so a big batch is paid for by the following requests. */
static int rate_take(struct qcn_rpc_server *s, struct pss *p, double n)
{
    const struct qcn_rpc_config *c = &s->rpc->config;
    struct conn_state *cs;
    uint64_t now;

    if (c->rate_per_sec == 0)
        return 1;
    now = qcn_time_mono_ms();
    cs = lws_get_opaque_user_data(p->wsi);
    if (cs == NULL) {
        cs = calloc(1, sizeof *cs);
        if (cs == NULL)
            return 0;
        cs->tokens = c->rate_burst;
        cs->refill_ms = now;
        lws_set_opaque_user_data(p->wsi, cs);
    }
    cs->tokens += (double)(now - cs->refill_ms) * c->rate_per_sec / 1000.0;
    if (cs->tokens > c->rate_burst)
        cs->tokens = c->rate_burst;
    cs->refill_ms = now;
    if (cs->tokens < 1.0)
        return 0;
    cs->tokens -= n;
    return 1;
}

static void http_reset(struct pss *p)
{
    if (p->pending != NULL) {
        qcn_rpc_request_cancel(p->pending);
        p->pending = NULL;
    }
    p->headers_sent = 0;
    qcn_buf_clear(&p->in);
    free(p->resp);
    p->resp = NULL;
    p->resp_len = p->resp_off = 0;
    p->too_large = 0;
    p->close_after = 0;
    p->responded = 0;
    qcn_wipe(p->token, sizeof p->token);
    p->token_len = 0;
}

/* Queues a response (body copied); the writeable callbacks send it.
 * Returns 0, or -1 to close the connection. */
static int http_respond(struct pss *p, unsigned code, const char *ctype, const void *body,
                        size_t len)
{
    p->responded = 1;
    free(p->resp);
    p->resp = malloc(LWS_PRE + len + 1);
    if (p->resp == NULL)
        return -1;
    if (len > 0)
        memcpy(p->resp + LWS_PRE, body, len);
    p->resp_len = len;
    p->resp_off = 0;
    p->status = code;
    p->ctype = ctype;
    p->headers_sent = 0;
    qcn_metrics_counter_inc(p->srv->m_http);
    if (!p->direct)
        lws_callback_on_writable(p->wsi);
    return 0;
}

/* Builds the status line and headers into hdr (after LWS_PRE); returns
 * their length, or -1. */
static int http_build_headers(struct pss *p, unsigned char *hdr, size_t cap)
{
    unsigned char *start = hdr + LWS_PRE, *pos = start, *end = hdr + cap - 1;
    unsigned code = p->status;

    if (lws_add_http_common_headers(p->wsi, code, p->ctype, p->resp_len, &pos, end))
        return -1;
    if (p->cors[0] != '\0' &&
        (lws_add_http_header_by_name(p->wsi, (const unsigned char *)"access-control-allow-origin:",
                                     (const unsigned char *)p->cors, (int)strlen(p->cors), &pos,
                                     end) ||
         lws_add_http_header_by_name(p->wsi, (const unsigned char *)"vary:",
                                     (const unsigned char *)"Origin", 6, &pos, end)))
        return -1;
    if (code == HTTP_STATUS_NO_CONTENT &&
        (lws_add_http_header_by_name(p->wsi, (const unsigned char *)"access-control-allow-methods:",
                                     (const unsigned char *)"POST, GET, OPTIONS", 18, &pos, end) ||
         lws_add_http_header_by_name(p->wsi, (const unsigned char *)"access-control-allow-headers:",
                                     (const unsigned char *)"Content-Type, Authorization", 27, &pos,
                                     end) ||
         lws_add_http_header_by_name(p->wsi, (const unsigned char *)"access-control-max-age:",
                                     (const unsigned char *)"600", 3, &pos, end)))
        return -1;
    if (p->close_after && lws_add_http_header_by_name(p->wsi, (const unsigned char *)"connection:",
                                                      (const unsigned char *)"close", 5, &pos, end))
        return -1;
    if (lws_finalize_http_header(p->wsi, &pos, end))
        return -1;
    return (int)(pos - start);
}

/* Sends the headers, and the whole body with them when it is small: one
 * write per response instead of two (HTTP/1.1 only; h2 is not enabled). */
static int http_write_headers(struct pss *p)
{
    unsigned char hdr[LWS_PRE + HEADER_SPACE + SMALL_BODY];
    int n = http_build_headers(p, hdr, LWS_PRE + HEADER_SPACE);
    size_t total;

    if (n < 0)
        return -1;
    total = (size_t)n;
    if (p->resp_len <= SMALL_BODY) {
        if (p->resp_len > 0)
            memcpy(hdr + LWS_PRE + total, p->resp + LWS_PRE, p->resp_len);
        total += p->resp_len;
        p->resp_off = p->resp_len;
    }
    if (lws_write(p->wsi, hdr + LWS_PRE, total, LWS_WRITE_HTTP_HEADERS) != (int)total)
        return -1;
    p->headers_sent = 1;
    return 0;
}

static int http_error(struct pss *p, unsigned status, int rpc_code, const char *msg)
{
    json_t *j = json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", "error", "code",
                          rpc_code, "message", msg);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    int rc;
    json_decref(j);
    if (text == NULL)
        return -1;
    rc = http_respond(p, status, "application/json", text, strlen(text));
    free(text);
    return rc;
}

static int serve_health(struct qcn_rpc_server *s, struct pss *p)
{
    const struct qcn_rpc_backend *b = &s->rpc->backend;
    uint64_t head = 0;
    int ok = 1;
    char body[256];

    if (b->head_number != NULL)
        ok = b->head_number(b->user, &head) == QCN_OK;
    snprintf(body, sizeof body, "{\"status\":\"%s\",\"chainId\":%llu,\"head\":%llu}",
             ok ? "ok" : "unavailable", (unsigned long long)s->rpc->config.chain_id,
             (unsigned long long)head);
    return http_respond(p, ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE,
                        "application/json", body, strlen(body));
}

static int serve_metrics(struct qcn_rpc_server *s, struct pss *p)
{
    const struct qcn_rpc_backend *b = &s->rpc->backend;
    struct qcn_buf out;
    uint64_t head;
    int rc;

    size_t count, bytes;

    if (b->head_number != NULL && b->head_number(b->user, &head) == QCN_OK)
        qcn_metrics_gauge_set(s->rpc->m_head, (double)head);
    if (b->mempool_status != NULL && b->mempool_status(b->user, &count, &bytes) == QCN_OK) {
        qcn_metrics_gauge_set(s->rpc->m_mempool, (double)count);
        qcn_metrics_gauge_set(s->rpc->m_mempool_bytes, (double)bytes);
    }
    qcn_buf_init(&out, QCN_METRICS_MAX_TEXT);
    if (qcn_metrics_render(s->rpc->metrics, &out) != QCN_OK) {
        qcn_buf_clear(&out);
        return http_error(p, HTTP_STATUS_INTERNAL_SERVER_ERROR, QCN_RPC_INTERNAL_ERROR,
                          "metrics exposition failed");
    }
    rc =
        http_respond(p, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", out.p, out.len);
    qcn_buf_clear(&out);
    return rc;
}

static int on_http(struct qcn_rpc_server *s, struct pss *p, const char *uri)
{
    const struct qcn_rpc_config *c = &s->rpc->config;
    char cl[32];
    unsigned long long len;
    char *endp;

    http_reset(p);
    p->kind = SESS_HTTP;
    if (!cors_check(s, p)) {
        p->close_after = 1;
        return http_error(p, HTTP_STATUS_FORBIDDEN, QCN_RPC_INVALID_REQUEST,
                          "origin not allowed (see --rpc.cors)");
    }
    if (lws_hdr_total_length(p->wsi, WSI_TOKEN_OPTIONS_URI) > 0)
        return http_respond(p, HTTP_STATUS_NO_CONTENT, "text/plain", NULL, 0);
    if (lws_hdr_total_length(p->wsi, WSI_TOKEN_GET_URI) > 0) {
        if (strcmp(uri, "/health") == 0)
            return serve_health(s, p);
        if (strcmp(uri, "/metrics") == 0)
            return serve_metrics(s, p);
        return http_error(p, HTTP_STATUS_NOT_FOUND, QCN_RPC_INVALID_REQUEST,
                          "not found: POST JSON-RPC to /, or GET /health, /metrics");
    }
    if (lws_hdr_total_length(p->wsi, WSI_TOKEN_POST_URI) <= 0) {
        p->close_after = 1;
        return http_error(p, HTTP_STATUS_METHOD_NOT_ALLOWED, QCN_RPC_INVALID_REQUEST,
                          "method not allowed: use POST");
    }
    if (lws_hdr_copy(p->wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        p->close_after = 1;
        return http_error(p, HTTP_STATUS_LENGTH_REQUIRED, QCN_RPC_INVALID_REQUEST,
                          "a Content-Length header is required");
    }
    len = strtoull(cl, &endp, 10);
    if (*endp != '\0' || endp == cl || len > c->max_body) {
        char msg[128];
        /* The body is not read: answer and close, so its bytes are never
         * taken for the next request. */
        p->close_after = 1;
        snprintf(msg, sizeof msg, "request body exceeds the cap of %zu bytes", c->max_body);
        return http_error(p, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, QCN_RPC_LIMIT_EXCEEDED, msg);
    }
    if (!rate_take(s, p, 1.0)) {
        qcn_metrics_counter_inc(s->m_rate_limited);
        p->close_after = len > 0;
        return http_error(p, 429, QCN_RPC_LIMIT_EXCEEDED, "rate limit exceeded");
    }
    token_read(p);
    qcn_buf_init(&p->in, c->max_body);
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_HTTP_CONTENT, BODY_TIMEOUT_S);
    return 0;
}

static void http_reply(void *ctx, int err, const char *text, size_t len)
{
    struct pss *p = ctx;
    p->pending = NULL;
    if (err != QCN_OK) {
        if (http_error(p, HTTP_STATUS_INTERNAL_SERVER_ERROR, QCN_RPC_INTERNAL_ERROR,
                       "internal error: response could not be built") != 0)
            lws_set_timeout(p->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        return;
    }
    if (http_respond(p, HTTP_STATUS_OK, "application/json", text, len) != 0)
        lws_set_timeout(p->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

static int on_http_body_done(struct qcn_rpc_server *s, struct pss *p)
{
    size_t ncalls = 1;
    struct qcn_rpc_request *pending = NULL;

    lws_set_timeout(p->wsi, NO_PENDING_TIMEOUT, 0);
    if (p->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body exceeds the cap of %zu bytes",
                 s->rpc->config.max_body);
        p->close_after = 1;
        return http_error(p, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, QCN_RPC_LIMIT_EXCEEDED, msg);
    }
    p->direct = 1;
    qcn_rpc_handle(s->rpc, NULL, p->token_len ? p->token : NULL, p->token_len, p->in.p, p->in.len,
                   http_reply, p, &ncalls, &pending);
    p->direct = 0;
    p->pending = pending;
    qcn_wipe(p->token, sizeof p->token);
    p->token_len = 0;
    qcn_buf_clear(&p->in);
    if (ncalls > 1)
        (void)rate_take(s, p, (double)(ncalls - 1));
    if (p->resp == NULL)
        return 0; /* deferred: http_reply comes later and asks for writeable */
    if (p->resp_len > SMALL_BODY || p->close_after) {
        lws_callback_on_writable(p->wsi);
        return 0;
    }
    /* Answered at once and small: write it now, in this callback, and end
     * the transaction (as lws's own lws_http_redirect does), saving a trip
     * through the loop per request. */
    if (http_write_headers(p) != 0)
        return -1;
    free(p->resp);
    p->resp = NULL;
    return lws_http_transaction_completed(p->wsi) ? -1 : 0;
}

static int on_http_writeable(struct pss *p)
{
    size_t n;
    int final;

    if (p->resp == NULL)
        return 0;
    if (!p->headers_sent) {
        if (http_write_headers(p) != 0)
            return -1;
        if (p->resp_off < p->resp_len) {
            lws_callback_on_writable(p->wsi);
            return 0;
        }
        goto done;
    }
    n = p->resp_len - p->resp_off;
    if (n > HTTP_CHUNK)
        n = HTTP_CHUNK;
    final = p->resp_off + n == p->resp_len;
    /* lws may use the LWS_PRE bytes before the chunk; those were already sent. */
    if (lws_write(p->wsi, p->resp + LWS_PRE + p->resp_off, n,
                  final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    p->resp_off += n;
    if (!final) {
        lws_callback_on_writable(p->wsi);
        return 0;
    }
done:
    free(p->resp);
    p->resp = NULL;
    if (p->close_after)
        return -1;
    if (lws_http_transaction_completed(p->wsi))
        return -1;
    return 0;
}

/* ---- WebSocket ---- */

static void ws_queue_free(struct pss *p)
{
    while (p->qhead != NULL) {
        struct ws_msg *m = p->qhead;
        p->qhead = m->next;
        free(m);
    }
    p->qtail = NULL;
    p->qbytes = 0;
}

static int ws_send(struct qcn_rpc_conn *c, const char *text, size_t len)
{
    struct pss *p = (struct pss *)c; /* conn is the first member */
    struct ws_msg *m;
    size_t total;

    if (p->cutting)
        return QCN_ERR_CLOSED;
    if (__builtin_add_overflow(p->qbytes, len, &total) || total > p->srv->rpc->config.ws_queue) {
        /* The client is not reading: cut it off rather than buffer forever
         * or drop messages it would never know it missed. */
        p->cutting = 1;
        ws_queue_free(p);
        qcn_metrics_counter_inc(p->srv->m_ws_cut);
        lws_callback_on_writable(p->wsi);
        return QCN_ERR_TOO_LARGE;
    }
    m = malloc(sizeof *m + LWS_PRE + len);
    if (m == NULL) {
        p->cutting = 1;
        lws_callback_on_writable(p->wsi);
        return QCN_ERR_NOMEM;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (p->qtail != NULL)
        p->qtail->next = m;
    else
        p->qhead = m;
    p->qtail = m;
    p->qbytes = total;
    lws_callback_on_writable(p->wsi);
    return QCN_OK;
}

static void ws_reply(void *ctx, int err, const char *text, size_t len)
{
    struct pss *p = ctx;
    if (err == QCN_OK && len > 0 && ws_send(&p->conn, text, len) != QCN_OK)
        p->conn.cut = 1;
}

static int on_ws_receive(struct qcn_rpc_server *s, struct pss *p, const void *in, size_t len)
{
    size_t ncalls = 1;

    if (p->cutting)
        return 0;
    if (qcn_buf_append(&p->in, in, len) != QCN_OK) {
        lws_close_reason(p->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message too large", 17);
        return -1;
    }
    if (!lws_is_final_fragment(p->wsi) || lws_remaining_packet_payload(p->wsi) > 0)
        return 0;
    if (!rate_take(s, p, 1.0)) {
        static const char limited[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32005,"
                                      "\"message\":\"rate limit exceeded\"}}";
        qcn_metrics_counter_inc(s->m_rate_limited);
        ws_reply(p, QCN_OK, limited, sizeof limited - 1);
    } else {
        /* Answers to deferred calls arrive later through ws_reply; the
         * connection's detach cancels them if it closes first. */
        qcn_rpc_handle(s->rpc, &p->conn, p->token_len ? p->token : NULL, p->token_len, p->in.p,
                       p->in.len, ws_reply, p, &ncalls, NULL);
        if (ncalls > 1)
            (void)rate_take(s, p, (double)(ncalls - 1));
    }
    qcn_buf_reset(&p->in);
    return 0;
}

static int on_ws_writeable(struct pss *p)
{
    struct ws_msg *m;

    if (p->cutting) {
        lws_close_reason(p->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                         (unsigned char *)"send queue over its cap", 23);
        return -1;
    }
    m = p->qhead;
    if (m == NULL)
        return 0;
    if (lws_write(p->wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
        return -1;
    p->qhead = m->next;
    if (p->qhead == NULL)
        p->qtail = NULL;
    p->qbytes -= m->len;
    free(m);
    if (p->qhead != NULL)
        lws_callback_on_writable(p->wsi);
    return 0;
}

/* ---- the callback ---- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct pss *p = user;
    struct qcn_rpc_server *s;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        s = server_of(wsi);
        p->wsi = wsi;
        p->srv = s;
        return on_http(s, p, in != NULL ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        if (p->too_large || p->responded)
            return 0;
        if (qcn_buf_append(&p->in, in, len) != QCN_OK) {
            p->too_large = 1;
            qcn_buf_clear(&p->in);
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (p->responded)
            return 0;
        return on_http_body_done(server_of(wsi), p);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_http_writeable(p);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (p != NULL && p->kind == SESS_HTTP)
            http_reset(p);
        break;

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        s = server_of(wsi);
        p->wsi = wsi;
        p->srv = s;
        return cors_check(s, p) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED:
        s = server_of(wsi);
        /* The HTTP phase of the upgrade owns nothing; start clean. */
        memset(p, 0, sizeof *p);
        p->wsi = wsi;
        p->srv = s;
        p->kind = SESS_WS;
        p->conn.send = ws_send;
        token_read(p);
        qcn_buf_init(&p->in, s->rpc->config.max_body);
        qcn_rpc_conn_attach(s->rpc, &p->conn);
        qcn_metrics_gauge_add(s->m_ws_conns, 1);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_ws_receive(server_of(wsi), p, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_ws_writeable(p);
    case LWS_CALLBACK_CLOSED:
        if (p != NULL && p->kind == SESS_WS) {
            s = server_of(wsi);
            qcn_rpc_conn_detach(s->rpc, &p->conn);
            ws_queue_free(p);
            qcn_buf_clear(&p->in);
            qcn_wipe(p->token, sizeof p->token);
            qcn_metrics_gauge_add(s->m_ws_conns, -1);
            p->kind = SESS_HTTP;
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        free(lws_get_opaque_user_data(wsi));
        lws_set_opaque_user_data(wsi, NULL);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"qcn-jsonrpc", callback, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void cors_parse(struct qcn_rpc_server *s, const char *list)
{
    const char *p = list;
    while (p != NULL && *p != '\0' && s->norigins < MAX_CORS_ORIGINS) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 1 && *p == '*')
            s->any_origin = 1;
        else if (n > 0 && n < MAX_ORIGIN) {
            memcpy(s->origins[s->norigins], p, n);
            s->origins[s->norigins++][n] = '\0';
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
}

int qcn_rpc_server_new(struct qcn_rpc_server **out, void *loop, struct qcn_rpc *rpc)
{
    struct lws_context_creation_info info;
    struct qcn_rpc_server *s;
    struct lws_vhost *vh;
    void *loops[1] = {loop};
    int err;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return QCN_ERR_NOMEM;
    s->rpc = rpc;
    cors_parse(s, rpc->config.cors);
    if ((err = qcn_metrics_gauge_register(rpc->metrics, &s->m_ws_conns, "qcn_rpc_ws_connections",
                                          "Open WebSocket connections", NULL)) != QCN_OK ||
        (err = qcn_metrics_counter_register(rpc->metrics, &s->m_ws_cut, "qcn_rpc_ws_cutoffs_total",
                                            "WebSocket clients cut off for a full send queue",
                                            NULL)) != QCN_OK ||
        (err =
             qcn_metrics_counter_register(rpc->metrics, &s->m_http, "qcn_rpc_http_responses_total",
                                          "HTTP responses sent", NULL)) != QCN_OK ||
        (err = qcn_metrics_counter_register(
             rpc->metrics, &s->m_rate_limited, "qcn_rpc_rate_limited_total",
             "Requests refused by the per-connection rate limit", NULL)) != QCN_OK) {
        free(s);
        return err;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_qcn);
    memset(&info, 0, sizeof info);
    info.port = rpc->config.port < 0 ? 0 : rpc->config.port;
    info.iface = rpc->config.addr;
    info.protocols = protocols;
    info.user = s;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (strchr(rpc->config.addr, ':') == NULL)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.keepalive_timeout = 60;
    info.timeout_secs = BODY_TIMEOUT_S;
    info.server_string = "qcn";
    /* lws clears s->ctx once the context is wholly gone (see server_free). */
    info.pcontext = &s->ctx;
    s->ctx = lws_create_context(&info);
    if (s->ctx == NULL) {
        QCN_LOG(QCN_LOG_ERROR, "rpc", "cannot listen on %s:%d", rpc->config.addr, rpc->config.port);
        free(s);
        return QCN_ERR_IO;
    }
    vh = lws_get_vhost_by_name(s->ctx, "default");
    s->port = vh != NULL ? lws_get_vhost_listen_port(vh) : info.port;
    QCN_LOG(QCN_LOG_INFO, "rpc", "JSON-RPC on http://%s:%d (HTTP and WebSocket)", rpc->config.addr,
            s->port);
    *out = s;
    return QCN_OK;
}

int qcn_rpc_server_port(const struct qcn_rpc_server *s)
{
    return s->port;
}

void qcn_rpc_server_stop(struct qcn_rpc_server *s)
{
    if (s == NULL || s->stopping)
        return;
    s->stopping = 1;
    /* With a foreign libuv loop this closes every connection and starts
     * closing lws's handles; the loop must run for them to close. */
    if (s->ctx != NULL)
        lws_context_destroy(s->ctx);
}

void qcn_rpc_server_free(struct qcn_rpc_server *s)
{
    if (s == NULL)
        return;
    qcn_rpc_server_stop(s);
    /* The second call finishes what the handles' close callbacks left
     * (lws's foreign-loop teardown); a no-op if it already completed. */
    if (s->ctx != NULL)
        lws_context_destroy(s->ctx);
    free(s);
}
