/* rpcclient.c - JSON-RPC over libcurl (rpcclient.h). */
#include "wallet/rpcclient.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/hex.h"
#include "wallet/amount.h"

struct qcn_rpc_client {
    CURL *curl;
    struct curl_slist *headers;
    char url[QCN_WALLET_RPC_MAX_URL];
    char message[QCN_WALLET_RPC_MAX_MESSAGE];
    int code;
    json_t *data;
    uint64_t next_id;
    struct qcn_buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    struct qcn_buf *b = user;
    size_t len = size * n;
    if (qcn_buf_append(b, p, len) != QCN_OK)
        return 0; /* over the cap: curl aborts the transfer */
    return len;
}

struct qcn_rpc_client *qcn_rpc_client_new(const char *url, long timeout_ms)
{
    struct qcn_rpc_client *c;
    size_t n;

    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return NULL;
    n = strnlen(url, QCN_WALLET_RPC_MAX_URL);
    if (n >= QCN_WALLET_RPC_MAX_URL)
        return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    memcpy(c->url, url, n + 1);
    qcn_buf_init(&c->body, QCN_WALLET_RPC_MAX_RESPONSE);
    c->curl = curl_easy_init();
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->curl == NULL || c->headers == NULL) {
        qcn_rpc_client_free(c);
        return NULL;
    }
    c->next_id = 1;
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->body);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    return c;
}

void qcn_rpc_client_free(struct qcn_rpc_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    json_decref(c->data);
    qcn_buf_clear(&c->body);
    free(c);
}

const char *qcn_rpc_client_message(const struct qcn_rpc_client *c)
{
    return c->message;
}

int qcn_rpc_client_code(const struct qcn_rpc_client *c)
{
    return c->code;
}

json_t *qcn_rpc_client_data(const struct qcn_rpc_client *c)
{
    return c->data;
}

const char *qcn_rpc_client_url(const struct qcn_rpc_client *c)
{
    return c->url;
}

int qcn_rpc_client_call(struct qcn_rpc_client *c, json_t **result, const char *method,
                        json_t *params)
{
    json_t *req = NULL, *resp = NULL, *e, *r;
    json_error_t jerr;
    char *text = NULL;
    CURLcode cc;
    long status = 0;
    int err = QCN_OK;

    *result = NULL;
    c->message[0] = '\0';
    c->code = 0;
    json_decref(c->data);
    c->data = NULL;
    if (params == NULL)
        params = json_array();
    req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id", (json_int_t)c->next_id++, "method",
                    method, "params", params);
    text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
    if (text == NULL) {
        snprintf(c->message, sizeof c->message, "out of memory");
        err = QCN_ERR_NOMEM;
        goto out;
    }
    qcn_buf_reset(&c->body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
    cc = curl_easy_perform(c->curl);
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR)
            snprintf(c->message, sizeof c->message, "answer from %s exceeds %u bytes", c->url,
                     QCN_WALLET_RPC_MAX_RESPONSE);
        else
            snprintf(c->message, sizeof c->message, "cannot reach node at %s: %s", c->url,
                     curl_easy_strerror(cc));
        err = cc == CURLE_WRITE_ERROR ? QCN_ERR_TOO_LARGE : QCN_ERR_NODE_UNREACHABLE;
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    resp = json_loadb((const char *)c->body.p, c->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (resp == NULL || !json_is_object(resp)) {
        snprintf(c->message, sizeof c->message,
                 "%s answered HTTP %ld without a JSON-RPC response (is it a qcn node?)", c->url,
                 status);
        err = QCN_ERR_BAD_JSON;
        goto out;
    }
    e = json_object_get(resp, "error");
    if (e != NULL && !json_is_null(e)) {
        json_t *m = json_object_get(e, "message");
        c->code = (int)json_integer_value(json_object_get(e, "code"));
        snprintf(c->message, sizeof c->message, "%s",
                 json_is_string(m) ? json_string_value(m) : "error without a message");
        c->data = json_incref(json_object_get(e, "data"));
        err = QCN_ERR_RPC;
        goto out;
    }
    r = json_object_get(resp, "result");
    if (r == NULL) {
        snprintf(c->message, sizeof c->message, "%s: response without a result", c->url);
        err = QCN_ERR_BAD_JSON;
        goto out;
    }
    *result = json_incref(r);
out:
    free(text);
    json_decref(req);
    json_decref(resp);
    return err;
}

int qcn_json_quantity_u64(uint64_t *out, const json_t *v)
{
    struct qcn_u256 u;
    *out = 0;
    if (!json_is_string(v) || qcn_u256_from_hex(&u, json_string_value(v)) != QCN_OK ||
        u.w[1] != 0 || u.w[2] != 0 || u.w[3] != 0)
        return QCN_ERR_BAD_JSON;
    *out = u.w[0];
    return QCN_OK;
}

int qcn_rpc_client_u64(struct qcn_rpc_client *c, uint64_t *out, const char *method, json_t *params)
{
    json_t *r;
    int err = qcn_rpc_client_call(c, &r, method, params);
    *out = 0;
    if (err != QCN_OK)
        return err;
    err = qcn_json_quantity_u64(out, r);
    if (err != QCN_OK)
        snprintf(c->message, sizeof c->message, "%s: result is not a quantity", method);
    json_decref(r);
    return err;
}

int qcn_rpc_client_u256(struct qcn_rpc_client *c, struct qcn_u256 *out, const char *method,
                        json_t *params)
{
    json_t *r;
    int err = qcn_rpc_client_call(c, &r, method, params);
    *out = qcn_u256_from_u64(0);
    if (err != QCN_OK)
        return err;
    if (!json_is_string(r) || qcn_u256_from_hex(out, json_string_value(r)) != QCN_OK) {
        snprintf(c->message, sizeof c->message, "%s: result is not a quantity", method);
        err = QCN_ERR_BAD_JSON;
    }
    json_decref(r);
    return err;
}

json_t *qcn_json_hex(const uint8_t *p, size_t len)
{
    char *s = malloc(2 * len + 3);
    json_t *j;
    if (s == NULL)
        return NULL;
    s[0] = '0';
    s[1] = 'x';
    qcn_hex_encode(s + 2, p, len);
    j = json_string(s);
    free(s);
    return j;
}

json_t *qcn_json_quantity(uint64_t v)
{
    char s[2 + 16 + 1];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_string(s);
}
