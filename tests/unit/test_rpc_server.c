/* rpc/server: a real libwebsockets server on an ephemeral 127.0.0.1 port,
 * running on a libuv loop in a second thread (as on the node's loop thread),
 * driven by real clients: libcurl for HTTP and a small raw-socket WebSocket
 * client (RFC 6455 framing, client side only) for subscriptions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "rpc/rpc.h"
#include "rpc_fake_chain.h"
#include "util/hex.h"
#include "util/time.h"

#define TOKEN "0123456789abcdef0123456789abcdef"
#define ALLOWED_ORIGIN "http://good.example"
#define TEST_MAX_BODY (1024u * 1024u)
#define TEST_WS_QUEUE (64u * 1024u)

/* ---- server harness ---- */

struct harness {
    struct fake_chain fc; /* first: the backend's user pointer is &fc */
    uv_loop_t loop;
    uv_async_t async;
    pthread_t thread;
    struct qcn_rpc *rpc;
    struct qcn_rpc_server *srv;
    int port;
    uint64_t head;
    char dir[64];
    char token_path[96];
    /* work for the loop thread, guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int emit_heads;   /* newHeads notifications to emit */
    size_t emit_size; /* padding per notification */
    int emit_logs;    /* emit two log events */
    int emit_done;
    int complete_held; /* answer the held eth_sendRawTransaction */
    int held_seen;     /* the loop saw a held submission (set on the loop) */
};

static int backend_head(void *user, uint64_t *out)
{
    struct harness *h = user; /* &h->fc == h */
    *out = h->head;
    return QCN_OK;
}

static void on_async(uv_async_t *a)
{
    struct harness *h = a->data;
    int stop, heads, logs, complete;
    size_t size;

    pthread_mutex_lock(&h->mu);
    complete = h->complete_held;
    h->complete_held = 0;
    h->held_seen = h->fc.held_done != NULL;
    stop = h->stop;
    heads = h->emit_heads;
    size = h->emit_size;
    logs = h->emit_logs;
    h->emit_heads = 0;
    h->emit_logs = 0;
    pthread_mutex_unlock(&h->mu);

    for (int i = 0; i < heads; i++) {
        char hash[67];
        char *pad = calloc(size + 1, 1);
        json_t *hdr;
        assert_non_null(pad);
        memset(pad, 'a', size);
        h->head++;
        snprintf(hash, sizeof hash, "0x%064llx", (unsigned long long)h->head);
        hdr = json_pack("{s:o,s:s,s:s}", "number", json_integer((json_int_t)h->head), "hash", hash,
                        "pad", pad);
        qcn_rpc_notify_json(h->rpc, "newHeads", hdr);
        qcn_rpc_notify_json(h->rpc, "newPendingTransactions", json_object_get(hdr, "hash"));
        json_decref(hdr);
        free(pad);
    }
    if (logs) {
        json_t *l1 = json_pack(
            "{s:s,s:[s]}", "address", "0x00000000000000000000000000000000000000AA", "topics",
            "0x0000000000000000000000000000000000000000000000000000000000000001");
        json_t *l2 = json_pack(
            "{s:s,s:[s]}", "address", "0x00000000000000000000000000000000000000bb", "topics",
            "0x0000000000000000000000000000000000000000000000000000000000000001");
        qcn_rpc_notify_json(h->rpc, "logs", l1);
        qcn_rpc_notify_json(h->rpc, "logs", l2);
        json_decref(l1);
        json_decref(l2);
    }
    if (complete && h->fc.held_done != NULL) {
        void (*done)(void *, int, const uint8_t *) = h->fc.held_done;
        h->fc.held_done = NULL;
        done(h->fc.held_ctx, QCN_OK, h->fc.held_hash);
    }
    if (stop) {
        qcn_rpc_server_stop(h->srv);
        uv_close((uv_handle_t *)&h->async, NULL);
    }
    pthread_mutex_lock(&h->mu);
    h->emit_done = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void *loop_main(void *arg)
{
    struct harness *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    return NULL;
}

static struct harness *harness_start(const struct qcn_rpc_config *extra)
{
    struct harness *h = calloc(1, sizeof *h);
    struct qcn_rpc_config cfg = {0};
    struct qcn_rpc_backend be = {0};

    assert_non_null(h);
    snprintf(h->dir, sizeof h->dir, "/tmp/qcn-rpc-test-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    snprintf(h->token_path, sizeof h->token_path, "%s/rpc.token", h->dir);
    {
        FILE *f = fopen(h->token_path, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", TOKEN);
        fclose(f);
    }
    if (extra != NULL)
        cfg = *extra;
    cfg.port = -1;
    cfg.chain_id = 0x1234;
    if (cfg.cors == NULL)
        cfg.cors = ALLOWED_ORIGIN;
    if (cfg.max_body == 0)
        cfg.max_body = TEST_MAX_BODY;
    if (cfg.max_batch == 0)
        cfg.max_batch = 100;
    if (cfg.ws_queue == 0)
        cfg.ws_queue = TEST_WS_QUEUE;
    cfg.admin_token_file = h->token_path;
    h->head = 41;
    assert_int_equal(fake_chain_init(&h->fc), 0);
    fake_backend(&h->fc, &be);
    h->fc.submit_async = 1; /* the mempool "verifies" until the test says so */
    be.head_number = backend_head;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    assert_int_equal(uv_async_init(&h->loop, &h->async, on_async), 0);
    h->async.data = h;
    assert_int_equal(qcn_rpc_new(&h->rpc, &cfg, &be), QCN_OK);
    assert_int_equal(qcn_rpc_server_new(&h->srv, &h->loop, h->rpc), QCN_OK);
    h->port = qcn_rpc_server_port(h->srv);
    assert_true(h->port > 0);
    assert_int_equal(pthread_create(&h->thread, NULL, loop_main, h), 0);
    return h;
}

/* Runs the async callback once with the given work and waits for it. */
static void harness_kick(struct harness *h, int heads, size_t size, int logs, int stop)
{
    pthread_mutex_lock(&h->mu);
    h->emit_heads = heads;
    h->emit_size = size;
    h->emit_logs = logs;
    h->stop = stop;
    h->emit_done = 0;
    uv_async_send(&h->async);
    while (!h->emit_done)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void harness_stop(struct harness *h)
{
    harness_kick(h, 0, 0, 0, 1);
    pthread_join(h->thread, NULL);
    /* lws closed its handles while the loop drained; finish and check the
     * loop is empty. */
    qcn_rpc_server_free(h->srv);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    qcn_rpc_free(h->rpc);
    fake_chain_clear(&h->fc);
    unlink(h->token_path);
    rmdir(h->dir);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

/* ---- HTTP client (libcurl) ---- */

struct http_resp {
    long status;
    char body[1 << 20];
    size_t len;
    char headers[8192];
    size_t hlen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct http_resp *r = ud;
    size_t k = sz * n;
    if (r->len + k >= sizeof r->body)
        k = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct http_resp *r = ud;
    size_t k = sz * n;
    if (r->hlen + k >= sizeof r->headers)
        k = sizeof r->headers - 1 - r->hlen;
    memcpy(r->headers + r->hlen, p, k);
    r->hlen += k;
    r->headers[r->hlen] = '\0';
    return sz * n;
}

/* method: "POST", "GET" or "OPTIONS". extra_header may be NULL. */
static struct http_resp *http(struct harness *h, const char *method, const char *path,
                              const char *body, size_t len, const char *hdr1, const char *hdr2)
{
    struct http_resp *r = calloc(1, sizeof *r);
    struct curl_slist *hs = NULL;
    char url[128];
    CURL *c = curl_easy_init();

    assert_non_null(r);
    assert_non_null(c);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", h->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:");
    if (hdr1 != NULL)
        hs = curl_slist_append(hs, hdr1);
    if (hdr2 != NULL)
        hs = curl_slist_append(hs, hdr2);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "OPTIONS") == 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "OPTIONS");
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return r;
}

static struct http_resp *post(struct harness *h, const char *body)
{
    return http(h, "POST", "/", body, strlen(body), NULL, NULL);
}

static json_t *post_json(struct harness *h, const char *body)
{
    struct http_resp *r = post(h, body);
    json_error_t e;
    json_t *j;
    assert_int_equal(r->status, 200);
    j = json_loads(r->body, 0, &e);
    if (j == NULL)
        fail_msg("bad JSON from server: %s", r->body);
    free(r);
    return j;
}

static int error_code(const json_t *resp)
{
    return (int)json_integer_value(json_object_get(json_object_get(resp, "error"), "code"));
}

static const char *error_message(const json_t *resp)
{
    return json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
}

static void hex_into(char *out, const uint8_t *p, size_t n)
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, p, n);
}

/* ---- tests: methods and errors ---- */

static struct harness *H;

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    H = harness_start(NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    harness_stop(H);
    curl_global_cleanup();
    return 0;
}

static void test_basic_methods(void **state)
{
    json_t *r;
    (void)state;

    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}");
    assert_string_equal(json_string_value(json_object_get(r, "result")), "0x1234");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"net_version\",\"params\":[]}");
    assert_string_equal(json_string_value(json_object_get(r, "result")), "4660");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "a");
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_blockNumber\"}");
    assert_string_equal(json_string_value(json_object_get(r, "result")), "0x29");
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_syncing\"}");
    assert_true(json_is_false(json_object_get(r, "result")));
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"web3_clientVersion\"}");
    assert_non_null(strstr(json_string_value(json_object_get(r, "result")), "qcn/"));
    json_decref(r);
    /* keccak256("") */
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"web3_sha3\",\"params\":[\"0x\"]}");
    assert_string_equal(json_string_value(json_object_get(r, "result")),
                        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"qcn_nodeInfo\"}");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "result"), "headNumber")), "0x29");
    json_decref(r);
}

static void test_errors(void **state)
{
    json_t *r;
    char *deep;
    (void)state;

    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
    assert_int_equal(error_code(r), -32700);
    assert_true(json_is_null(json_object_get(r, "id")));
    json_decref(r);

    r = post_json(H, "{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"eth_chainId\"}");
    assert_int_equal(error_code(r), -32600);
    assert_non_null(strstr(error_message(r), "2.0"));
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    json_decref(r);

    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1}");
    assert_int_equal(error_code(r), -32600);
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"eth_chainId\"}");
    assert_int_equal(error_code(r), -32600);
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":5}");
    assert_int_equal(error_code(r), -32600);
    json_decref(r);
    r = post_json(H, "42");
    assert_int_equal(error_code(r), -32600);
    json_decref(r);

    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_noSuchThing\"}");
    assert_int_equal(error_code(r), -32601);
    assert_non_null(strstr(error_message(r), "eth_noSuchThing"));
    json_decref(r);

    /* wrong parameter count, type and length: -32602 naming the field */
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[1]}");
    assert_int_equal(error_code(r), -32602);
    assert_non_null(strstr(error_message(r), "params"));
    json_decref(r);
    r = post_json(H,
                  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_sha3\",\"params\":[\"0x1\"]}");
    assert_int_equal(error_code(r), -32602);
    assert_non_null(strstr(error_message(r), "params[0] (data)"));
    assert_non_null(strstr(error_message(r), "odd"));
    json_decref(r);
    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_sha3\",\"params\":[12]}");
    assert_int_equal(error_code(r), -32602);
    json_decref(r);

    /* a huge number: refused by the parser, not truncated */
    r = post_json(H,
                  "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,\"method\":\"x\"}");
    assert_int_equal(error_code(r), -32700);
    json_decref(r);

    /* deep nesting: refused before parsing */
    deep = calloc(20001, 1);
    assert_non_null(deep);
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    r = post_json(H, deep);
    assert_int_equal(error_code(r), -32700);
    assert_non_null(strstr(error_message(r), "nested deeper"));
    json_decref(r);
    free(deep);
}

static void test_batches(void **state)
{
    json_t *r;
    char *big;
    size_t off = 0;
    static const char call[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"},";
    (void)state;

    r = post_json(H, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"},"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"},"
                     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"},5]");
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 3); /* the notification gets no answer */
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "result")),
                        "0x1234");
    assert_int_equal(error_code(json_array_get(r, 1)), -32601);
    assert_int_equal(error_code(json_array_get(r, 2)), -32600);
    json_decref(r);

    r = post_json(H, "[]");
    assert_int_equal(error_code(r), -32600);
    json_decref(r);

    /* all notifications: an empty 200 */
    {
        struct http_resp *hr = post(H, "[{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"}]");
        assert_int_equal(hr->status, 200);
        assert_int_equal(hr->len, 0);
        free(hr);
    }

    /* 10,000 calls: one clear error, nothing run */
    big = malloc(10000 * (sizeof call) + 2);
    assert_non_null(big);
    big[off++] = '[';
    for (int i = 0; i < 10000; i++) {
        memcpy(big + off, call, sizeof call - 1);
        off += sizeof call - 1;
    }
    big[off - 1] = ']';
    big[off] = '\0';
    r = post_json(H, big);
    assert_false(json_is_array(r));
    assert_int_equal(error_code(r), -32600);
    assert_non_null(strstr(error_message(r), "batch of 10000 calls exceeds the batch cap of 100"));
    json_decref(r);
    free(big);
}

static void test_body_cap(void **state)
{
    struct http_resp *r;
    char *body = malloc(TEST_MAX_BODY + 100);
    (void)state;

    assert_non_null(body);
    memset(body, ' ', TEST_MAX_BODY + 100);
    {
        static const char call[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}";
        memcpy(body, call, strlen(call));
    }
    r = http(H, "POST", "/", body, TEST_MAX_BODY + 100, NULL, NULL);
    assert_int_equal(r->status, 413);
    assert_non_null(strstr(r->body, "-32005"));
    free(r);
    /* just under the cap is served */
    r = http(H, "POST", "/", body, TEST_MAX_BODY, NULL, NULL);
    assert_int_equal(r->status, 200);
    if (strstr(r->body, "0x1234") == NULL)
        fail_msg("under the cap: %s", r->body);
    free(r);
    free(body);
    /* an empty body */
    r = http(H, "POST", "/", "", 0, NULL, NULL);
    assert_int_equal(r->status, 200);
    if (strstr(r->body, "-32700") == NULL)
        fail_msg("empty body: %s", r->body);
    free(r);
}

static void test_cors(void **state)
{
    static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}";
    struct http_resp *r;
    (void)state;

    r = http(H, "POST", "/", req, strlen(req), "Origin: " ALLOWED_ORIGIN, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strcasestr(r->headers, "access-control-allow-origin: " ALLOWED_ORIGIN));
    free(r);
    r = http(H, "POST", "/", req, strlen(req), "Origin: http://evil.example", NULL);
    assert_int_equal(r->status, 403);
    assert_null(strcasestr(r->headers, "access-control-allow-origin"));
    free(r);
    r = http(H, "OPTIONS", "/", NULL, 0, "Origin: " ALLOWED_ORIGIN,
             "Access-Control-Request-Method: POST");
    assert_int_equal(r->status, 204);
    assert_non_null(strcasestr(r->headers, "access-control-allow-methods: POST"));
    assert_non_null(strcasestr(r->headers, "access-control-allow-headers: Content-Type"));
    free(r);
    /* no Origin (not a browser): served, no CORS headers */
    r = http(H, "POST", "/", req, strlen(req), NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_null(strcasestr(r->headers, "access-control-allow-origin"));
    free(r);
}

static void test_admin(void **state)
{
    static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"qcn_admin_rpcConfig\"}";
    struct http_resp *r;
    json_t *j;
    (void)state;

    j = post_json(H, req);
    assert_int_equal(error_code(j), -32002);
    json_decref(j);
    r = http(H, "POST", "/", req, strlen(req), "Authorization: Bearer wrong-token-wrong-token",
             NULL);
    assert_non_null(strstr(r->body, "-32002"));
    free(r);
    r = http(H, "POST", "/", req, strlen(req), "Authorization: Bearer " TOKEN "x", NULL);
    assert_non_null(strstr(r->body, "-32002"));
    free(r);
    r = http(H, "POST", "/", req, strlen(req), "Authorization: Bearer " TOKEN, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"maxBatch\":100"));
    free(r);
}

static void test_health_metrics(void **state)
{
    struct http_resp *r;
    (void)state;

    r = http(H, "GET", "/health", NULL, 0, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"status\":\"ok\""));
    assert_non_null(strstr(r->body, "\"chainId\":4660"));
    free(r);
    r = http(H, "GET", "/metrics", NULL, 0, NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strcasestr(r->headers, "content-type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r->body, "qcn_rpc_requests_total{method=\"eth_chainId\"}"));
    assert_non_null(strstr(
        r->body, "qcn_rpc_request_duration_seconds_bucket{method=\"eth_chainId\",le=\"+Inf\"}"));
    assert_non_null(strstr(r->body, "# TYPE qcn_head_height gauge\nqcn_head_height "));
    assert_non_null(strstr(r->body, "qcn_rpc_unknown_method_total "));
    assert_non_null(strstr(r->body, "# TYPE qcn_txs_committed_total counter"));
    assert_non_null(strstr(r->body, "# TYPE qcn_mempool_size gauge"));
    free(r);
    r = http(H, "GET", "/nope", NULL, 0, NULL, NULL);
    assert_int_equal(r->status, 404);
    free(r);
}

static void test_filters_http(void **state)
{
    json_t *r, *res;
    char id[80], req[256];
    (void)state;

    /* subscriptions need a WebSocket */
    r = post_json(
        H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}");
    assert_int_equal(error_code(r), -32601);
    assert_non_null(strstr(error_message(r), "WebSocket"));
    json_decref(r);

    r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_newBlockFilter\"}");
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r, "result")));
    json_decref(r);
    assert_int_equal(strlen(id), 34);
    harness_kick(H, 3, 0, 0, 0);
    snprintf(
        req, sizeof req,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getFilterChanges\",\"params\":[\"%s\"]}",
        id);
    r = post_json(H, req);
    res = json_object_get(r, "result");
    assert_int_equal(json_array_size(res), 3);
    /* hashes, in block order */
    for (size_t i = 1; i < 3; i++)
        assert_true(strcmp(json_string_value(json_array_get(res, i - 1)),
                           json_string_value(json_array_get(res, i))) < 0);
    json_decref(r);
    r = post_json(H, req);
    assert_int_equal(json_array_size(json_object_get(r, "result")), 0);
    json_decref(r);

    /* a log filter with an address */
    {
        char lf[80];
        r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_newFilter\",\"params\":[{"
                         "\"address\":\"0x00000000000000000000000000000000000000aa\"}]}");
        snprintf(lf, sizeof lf, "%s", json_string_value(json_object_get(r, "result")));
        json_decref(r);
        harness_kick(H, 0, 0, 1, 0);
        snprintf(req, sizeof req,
                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getFilterChanges\",\"params\":[\"%"
                 "s\"]}",
                 lf);
        r = post_json(H, req);
        res = json_object_get(r, "result");
        assert_int_equal(json_array_size(res), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "address")),
                            "0x00000000000000000000000000000000000000AA");
        json_decref(r);
        r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_newFilter\",\"params\":[{"
                         "\"address\":\"0x00aa\"}]}");
        assert_int_equal(error_code(r), -32602);
        assert_non_null(strstr(error_message(r), "params[0] (filter).address"));
        json_decref(r);
    }

    snprintf(
        req, sizeof req,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_uninstallFilter\",\"params\":[\"%s\"]}",
        id);
    r = post_json(H, req);
    assert_true(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    snprintf(
        req, sizeof req,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getFilterChanges\",\"params\":[\"%s\"]}",
        id);
    r = post_json(H, req);
    assert_int_equal(error_code(r), -32000);
    assert_non_null(strstr(error_message(r), "filter not found"));
    json_decref(r);
}

/* ---- raw sockets: WebSocket client, concurrency ---- */

static int tcp_connect(int port, int rcvbuf)
{
    struct sockaddr_in a = {0};
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        assert_true(k > 0);
        b += k;
        n -= (size_t)k;
    }
}

static int recv_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t k = recv(fd, b, n, 0);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int ws_open(int port, const char *extra_header, int rcvbuf)
{
    char req[512], resp[2048];
    size_t n = 0;
    int fd = tcp_connect(port, rcvbuf);

    snprintf(req, sizeof req,
             "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
             extra_header != NULL ? extra_header : "");
    send_all(fd, req, strlen(req));
    while (n < sizeof resp - 1) {
        ssize_t k = recv(fd, resp + n, 1, 0);
        if (k <= 0)
            break;
        n++;
        resp[n] = '\0';
        if (n >= 4 && memcmp(resp + n - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    resp[n] = '\0';
    if (strstr(resp, " 101 ") == NULL) {
        close(fd);
        return -1;
    }
    /* RFC 6455 4.2.2: the accept value for this sample key */
    assert_non_null(strcasestr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    return fd;
}

static void ws_send_text(int fd, const char *text)
{
    size_t n = strlen(text), h = 0;
    uint8_t hdr[14], mask[4] = {1, 2, 3, 4};
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    hdr[h++] = 0x81;
    if (n < 126) {
        hdr[h++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(n >> 8);
        hdr[h++] = (uint8_t)n;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(hdr + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)text[i] ^ mask[i % 4];
    send_all(fd, hdr, h);
    send_all(fd, buf, n);
    free(buf);
}

/* Reads one message; returns a malloc'd NUL-terminated text, or NULL on
 * close/EOF/timeout. */
static char *ws_recv_text(int fd)
{
    for (;;) {
        uint8_t h[2], ext[8];
        uint64_t n;
        char *p;
        if (recv_all(fd, h, 2) != 0)
            return NULL;
        n = h[1] & 0x7f;
        if (n == 126) {
            if (recv_all(fd, ext, 2) != 0)
                return NULL;
            n = (uint64_t)ext[0] << 8 | ext[1];
        } else if (n == 127) {
            if (recv_all(fd, ext, 8) != 0)
                return NULL;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = n << 8 | ext[i];
        }
        p = malloc(n + 1);
        assert_non_null(p);
        if (recv_all(fd, p, n) != 0) {
            free(p);
            return NULL;
        }
        p[n] = '\0';
        if ((h[0] & 0x0f) == 0x8) { /* close */
            free(p);
            return NULL;
        }
        if ((h[0] & 0x0f) == 0x1)
            return p;
        free(p); /* ping/pong: skip */
    }
}

static json_t *ws_call(int fd, const char *req)
{
    char *t;
    json_t *j;
    ws_send_text(fd, req);
    t = ws_recv_text(fd);
    assert_non_null(t);
    j = json_loads(t, 0, NULL);
    free(t);
    assert_non_null(j);
    return j;
}

static void test_ws_subscriptions(void **state)
{
    int fd = ws_open(H->port, NULL, 0);
    json_t *r;
    char sub[80], req[256];
    uint64_t first = 0;
    (void)state;

    assert_true(fd >= 0);
    r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}");
    assert_string_equal(json_string_value(json_object_get(r, "result")), "0x1234");
    json_decref(r);
    r = ws_call(
        fd,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}");
    snprintf(sub, sizeof sub, "%s", json_string_value(json_object_get(r, "result")));
    json_decref(r);
    assert_int_equal(strlen(sub), 34);
    r = ws_call(
        fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_subscribe\",\"params\":[\"bogus\"]}");
    assert_int_equal(error_code(r), -32602);
    json_decref(r);

    /* 200 heads: every one, in order, no gaps */
    harness_kick(H, 200, 0, 0, 0);
    for (int i = 0; i < 200; i++) {
        char *t = ws_recv_text(fd);
        json_t *params, *res;
        uint64_t num;
        assert_non_null(t);
        r = json_loads(t, 0, NULL);
        free(t);
        assert_string_equal(json_string_value(json_object_get(r, "method")), "eth_subscription");
        params = json_object_get(r, "params");
        assert_string_equal(json_string_value(json_object_get(params, "subscription")), sub);
        res = json_object_get(params, "result");
        num = (uint64_t)json_integer_value(json_object_get(res, "number"));
        if (i == 0)
            first = num;
        assert_int_equal(num, first + (uint64_t)i);
        json_decref(r);
    }
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"eth_unsubscribe\",\"params\":[\"%s\"]}",
             sub);
    r = ws_call(fd, req);
    assert_true(json_is_true(json_object_get(r, "result")));
    json_decref(r);
    /* after unsubscribing, the next message is the answer to the next call */
    harness_kick(H, 5, 0, 0, 0);
    r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"eth_chainId\"}");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
    json_decref(r);
    r = ws_call(fd, req);
    assert_true(json_is_false(json_object_get(r, "result")));
    json_decref(r);

    /* pending transactions and logs subscriptions with a topic filter */
    r = ws_call(fd, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"eth_subscribe\",\"params\":["
                    "\"newPendingTransactions\"]}");
    json_decref(r);
    r = ws_call(fd,
                "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_subscribe\",\"params\":[\"logs\","
                "{\"address\":[\"0x00000000000000000000000000000000000000bb\"],\"topics\":["
                "\"0x0000000000000000000000000000000000000000000000000000000000000001\"]}]}");
    assert_non_null(json_object_get(r, "result"));
    json_decref(r);
    harness_kick(H, 1, 0, 1, 0);
    {
        char *t1 = ws_recv_text(fd), *t2 = ws_recv_text(fd);
        assert_non_null(t1);
        assert_non_null(t2);
        assert_non_null(strstr(t1, "\"result\":\"0x"));                          /* tx hash */
        assert_non_null(strstr(t2, "00000000000000000000000000000000000000bb")); /* matching log */
        free(t1);
        free(t2);
    }
    close(fd);
}

static void test_ws_origin_and_size(void **state)
{
    int fd;
    char *big;
    (void)state;

    assert_int_equal(ws_open(H->port, "Origin: http://evil.example\r\n", 0), -1);
    fd = ws_open(H->port, "Origin: " ALLOWED_ORIGIN "\r\n", 0);
    assert_true(fd >= 0);
    /* a message over the body cap closes the connection */
    big = malloc(TEST_MAX_BODY + 10);
    assert_non_null(big);
    memset(big, ' ', TEST_MAX_BODY + 9);
    big[TEST_MAX_BODY + 9] = '\0';
    ws_send_text(fd, big);
    assert_null(ws_recv_text(fd));
    free(big);
    close(fd);
}

static void test_ws_slow_client_cut_off(void **state)
{
    int slow = ws_open(H->port, NULL, 4096), fast = ws_open(H->port, NULL, 0);
    struct qcn_metric *cut;
    json_t *r;
    uint64_t expect = 0;
    int rounds = 0;
    (void)state;

    assert_true(slow >= 0 && fast >= 0);
    /* the registry is get-or-create: this is the server's own counter */
    assert_int_equal(qcn_metrics_counter_register(qcn_rpc_metrics(H->rpc), &cut,
                                                  "qcn_rpc_ws_cutoffs_total", "", NULL),
                     QCN_OK);
    assert_true(qcn_metrics_value(cut) == 0.0);
    r = ws_call(
        slow,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}");
    json_decref(r);
    r = ws_call(
        fast,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}");
    json_decref(r);
    /* 10 x 4 KiB per round: the fast client reads everything, the slow one
     * nothing, until kernel buffers and its 64 KiB queue are full */
    while (qcn_metrics_value(cut) == 0.0) {
        assert_true(++rounds < 2000);
        harness_kick(H, 10, 4 * 1024, 0, 0);
        for (int i = 0; i < 10; i++) {
            char *t = ws_recv_text(fast);
            json_t *j;
            assert_non_null(t);
            j = json_loads(t, 0, NULL);
            free(t);
            if (expect == 0)
                expect = (uint64_t)json_integer_value(json_object_get(
                    json_object_get(json_object_get(j, "params"), "result"), "number"));
            /* the fast client sees every head, in order */
            assert_int_equal(
                json_integer_value(json_object_get(
                    json_object_get(json_object_get(j, "params"), "result"), "number")),
                expect);
            expect++;
            json_decref(j);
        }
    }
    assert_true(qcn_metrics_value(cut) == 1.0);
    /* the slow client was cut off, not skipped: its stream ends in close/EOF,
     * and what it did get has no gaps */
    {
        uint64_t prev = 0;
        for (;;) {
            char *t = ws_recv_text(slow);
            json_t *j;
            uint64_t num;
            if (t == NULL)
                break;
            j = json_loads(t, 0, NULL);
            free(t);
            num = (uint64_t)json_integer_value(
                json_object_get(json_object_get(json_object_get(j, "params"), "result"), "number"));
            json_decref(j);
            if (prev != 0)
                assert_int_equal(num, prev + 1);
            prev = num;
        }
    }
    close(slow);
    /* the fast one is still served */
    r = ws_call(fast, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"eth_chainId\"}");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
    json_decref(r);
    close(fast);
}

#define NCONN 500

static void test_many_connections(void **state)
{
    static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}";
    char req[256];
    int *fds = calloc(NCONN, sizeof *fds);
    int half;
    (void)state;

    assert_non_null(fds);
    snprintf(req, sizeof req,
             "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    /* a client that disconnects mid-request (half a body), and one that
     * sends half a body and stays */
    half = tcp_connect(H->port, 0);
    send_all(half, req, strlen(req) - 10);
    {
        int gone = tcp_connect(H->port, 0);
        send_all(gone, req, strlen(req) - 10);
        close(gone);
    }
    for (int i = 0; i < NCONN; i++)
        fds[i] = tcp_connect(H->port, 0);
    for (int i = 0; i < NCONN; i++)
        send_all(fds[i], req, strlen(req));
    for (int i = 0; i < NCONN; i++) {
        char resp[1024];
        size_t n = 0;
        /* read until the JSON body has arrived */
        while (n < sizeof resp - 1 && (n == 0 || strstr(resp, "}") == NULL)) {
            ssize_t k = recv(fds[i], resp + n, sizeof resp - 1 - n, 0);
            assert_true(k > 0);
            n += (size_t)k;
            resp[n] = '\0';
        }
        assert_non_null(strstr(resp, "HTTP/1.1 200"));
        assert_non_null(strstr(resp, "\"result\":\"0x1234\""));
        close(fds[i]);
    }
    free(fds);
    close(half);
    {
        json_t *r = post_json(H, body);
        assert_string_equal(json_string_value(json_object_get(r, "result")), "0x1234");
        json_decref(r);
    }
}

/* Waits (through the loop) until a submission is held by the backend. */
static void wait_held(struct harness *h)
{
    for (int i = 0;; i++) {
        assert_true(i < 100000);
        harness_kick(h, 0, 0, 0, 0);
        pthread_mutex_lock(&h->mu);
        if (h->held_seen) {
            pthread_mutex_unlock(&h->mu);
            return;
        }
        pthread_mutex_unlock(&h->mu);
    }
}

static void complete_held(struct harness *h)
{
    pthread_mutex_lock(&h->mu);
    h->complete_held = 1;
    pthread_mutex_unlock(&h->mu);
    harness_kick(h, 0, 0, 0, 0);
}

/* eth_sendRawTransaction is answered only once the mempool has decided; the
 * answer reaches the client that waited, and a client that went away
 * meanwhile (HTTP or WebSocket) is forgotten without harm. */
static void test_deferred_answers(void **state)
{
    static const char pre[] =
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"eth_sendRawTransaction\",\"params\":[\"";
    struct qcn_tx *tx = fake_tx(&H->fc, 7, 1, 1);
    char *body, want[67], hdr[256];
    int fd;
    (void)state;

    assert_non_null(tx);
    body = malloc(sizeof pre + 2 * tx->raw_len + 8);
    assert_non_null(body);
    memcpy(body, pre, sizeof pre - 1);
    hex_into(body + sizeof pre - 1, tx->raw, tx->raw_len);
    memcpy(body + sizeof pre - 1 + 2 + 2 * tx->raw_len, "\"]}", 4);
    want[0] = '0';
    want[1] = 'x';
    qcn_hex_encode(want + 2, tx->hash, 32);

    /* HTTP: the answer arrives after the mempool's verdict */
    fd = tcp_connect(H->port, 0);
    snprintf(hdr, sizeof hdr,
             "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    send_all(fd, hdr, strlen(hdr));
    send_all(fd, body, strlen(body));
    wait_held(H);
    complete_held(H);
    {
        char resp[1024];
        size_t n = 0;
        while (n < sizeof resp - 1 && strstr(resp, "}") == NULL) {
            ssize_t k = recv(fd, resp + n, sizeof resp - 1 - n, 0);
            assert_true(k > 0);
            n += (size_t)k;
            resp[n] = '\0';
        }
        assert_non_null(strstr(resp, want));
    }
    close(fd);

    /* HTTP: the client leaves before the verdict */
    fd = tcp_connect(H->port, 0);
    send_all(fd, hdr, strlen(hdr));
    send_all(fd, body, strlen(body));
    wait_held(H);
    close(fd);
    harness_kick(H, 0, 0, 0, 0);
    complete_held(H);

    /* WebSocket: the same, answered and abandoned */
    fd = ws_open(H->port, NULL, 0);
    assert_true(fd >= 0);
    ws_send_text(fd, body);
    wait_held(H);
    complete_held(H);
    {
        char *t = ws_recv_text(fd);
        assert_non_null(t);
        assert_non_null(strstr(t, want));
        free(t);
    }
    ws_send_text(fd, body);
    wait_held(H);
    close(fd);
    harness_kick(H, 0, 0, 0, 0);
    complete_held(H);

    /* everyone else is still served */
    {
        json_t *r = post_json(H, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}");
        assert_string_equal(json_string_value(json_object_get(r, "result")), "0x1234");
        json_decref(r);
    }
    free(body);
    qcn_tx_unref(tx);
}

static void test_rate_limit(void **state)
{
    struct qcn_rpc_config cfg = {0};
    struct harness *h;
    static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}";
    CURL *c;
    char url[64];
    long codes[10], nconn = -1;
    int last = -1;
    struct http_resp *r = calloc(1, sizeof *r);
    (void)state;

    cfg.rate_per_sec = 1;
    cfg.rate_burst = 5;
    h = harness_start(&cfg);
    /* one keep-alive connection: the bucket is per connection */
    c = curl_easy_init();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", h->port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    for (int i = 0; i < 10; i++) {
        r->len = 0;
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &codes[i]);
        if (codes[i] == 429)
            break; /* the server closes after a 429; a new connection starts full */
        assert_int_equal(curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconn), CURLE_OK);
        if (i > 0)
            assert_int_equal(nconn, 0); /* the same keep-alive connection */
        last = i;
    }
    curl_easy_cleanup(c);
    /* a burst of 5 at 1/s: the first five pass; a call soon after is refused
     * (a slow machine may refill a token or two, never five) */
    assert_true(last >= 4 && last < 9);
    assert_int_equal(codes[last + 1], 429);
    assert_non_null(strstr(r->body, "rate limit exceeded"));
    /* another connection has its own bucket */
    {
        struct http_resp *o = post(h, req);
        assert_int_equal(o->status, 200);
        free(o);
    }
    free(r);
    harness_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_methods),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_admin),
        cmocka_unit_test(test_health_metrics),
        cmocka_unit_test(test_filters_http),
        cmocka_unit_test(test_ws_subscriptions),
        cmocka_unit_test(test_ws_origin_and_size),
        cmocka_unit_test(test_ws_slow_client_cut_off),
        cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_deferred_answers),
        cmocka_unit_test(test_rate_limit),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
