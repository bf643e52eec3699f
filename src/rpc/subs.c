/* subs.c - eth_subscribe/eth_unsubscribe (WebSocket push, geth's pub/sub
 * shape: {"method":"eth_subscription","params":{"subscription":id,"result":x}})
 * and the polling filters (eth_newFilter, eth_newBlockFilter,
 * eth_newPendingTransactionFilter, eth_getFilterChanges,
 * eth_uninstallFilter).
 *
 * Delivery without gaps: notifications go out in the order the node calls
 * qcn_rpc_notify_json, through each connection's send queue. When a queue is
 * over its cap the connection is cut off (its subscriptions dropped), never
 * silently skipped, so a client that is still connected has seen every
 * event. A filter that accumulates more than QCN_RPC_FILTER_MAX_CHANGES
 * between polls is marked overflowed and its next poll is an error telling
 * the client to re-create it. Idle filters expire after
 * QCN_RPC_FILTER_TIMEOUT_MS. */
#include "rpc/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/format.h"
#include "util/time.h"

#define MAX_FILTER_ADDRESSES 256
#define MAX_FILTER_TOPICS 4
#define MAX_TOPIC_ALTERNATIVES 64

static const char *const kind_names[SUB_KIND_COUNT] = {"newHeads", "newPendingTransactions",
                                                       "logs"};

static json_t *lower_hex(const json_t *v)
{
    char buf[2 + 64 + 1];
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= sizeof buf)
        return NULL;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[n] = '\0';
    return json_string(buf);
}

void qcn_rpc_log_criteria_clear(struct log_criteria *crit)
{
    json_decref(crit->addresses);
    json_decref(crit->topics);
    crit->addresses = NULL;
    crit->topics = NULL;
}

int qcn_rpc_log_criteria_parse(struct qcn_rpc_error *err, struct log_criteria *crit,
                               const json_t *filter, const char *field)
{
    uint8_t tmp[QCN_RPC_HASH_BYTES];
    char sub[128];
    const json_t *addr, *topics;
    size_t i, j;

    memset(crit, 0, sizeof *crit);
    if (filter == NULL || json_is_null(filter))
        return 0;
    if (!json_is_object(filter))
        return qcn_rpc_error_param(err, field, "expected a filter object");
    addr = json_object_get(filter, "address");
    topics = json_object_get(filter, "topics");
    if (addr != NULL && !json_is_null(addr)) {
        crit->addresses = json_array();
        if (json_is_string(addr)) {
            snprintf(sub, sizeof sub, "%s.address", field);
            if (qcn_rpc_parse_fixed(err, tmp, QCN_RPC_ADDRESS_BYTES, addr, sub))
                goto fail;
            json_array_append_new(crit->addresses, lower_hex(addr));
        } else if (json_is_array(addr)) {
            if (json_array_size(addr) > MAX_FILTER_ADDRESSES) {
                qcn_rpc_error_param(err, field, "more than %d addresses", MAX_FILTER_ADDRESSES);
                goto fail;
            }
            for (i = 0; i < json_array_size(addr); i++) {
                snprintf(sub, sizeof sub, "%s.address[%zu]", field, i);
                if (qcn_rpc_parse_fixed(err, tmp, QCN_RPC_ADDRESS_BYTES, json_array_get(addr, i),
                                        sub))
                    goto fail;
                json_array_append_new(crit->addresses, lower_hex(json_array_get(addr, i)));
            }
        } else {
            qcn_rpc_error_param(err, field, "address must be a string or an array");
            goto fail;
        }
    }
    if (topics != NULL && !json_is_null(topics)) {
        if (!json_is_array(topics) || json_array_size(topics) > MAX_FILTER_TOPICS) {
            qcn_rpc_error_param(err, field, "topics must be an array of at most %d entries",
                                MAX_FILTER_TOPICS);
            goto fail;
        }
        crit->topics = json_array();
        for (i = 0; i < json_array_size(topics); i++) {
            const json_t *t = json_array_get(topics, i);
            json_t *alts = NULL;
            if (json_is_null(t)) {
                json_array_append_new(crit->topics, json_null());
                continue;
            }
            alts = json_array();
            if (json_is_string(t)) {
                snprintf(sub, sizeof sub, "%s.topics[%zu]", field, i);
                if (qcn_rpc_parse_fixed(err, tmp, QCN_RPC_HASH_BYTES, t, sub)) {
                    json_decref(alts);
                    goto fail;
                }
                json_array_append_new(alts, lower_hex(t));
            } else if (json_is_array(t) && json_array_size(t) <= MAX_TOPIC_ALTERNATIVES) {
                for (j = 0; j < json_array_size(t); j++) {
                    snprintf(sub, sizeof sub, "%s.topics[%zu][%zu]", field, i, j);
                    if (qcn_rpc_parse_fixed(err, tmp, QCN_RPC_HASH_BYTES, json_array_get(t, j),
                                            sub)) {
                        json_decref(alts);
                        goto fail;
                    }
                    json_array_append_new(alts, lower_hex(json_array_get(t, j)));
                }
            } else {
                json_decref(alts);
                qcn_rpc_error_param(err, field,
                                    "topics[%zu] must be null, a hash or an array of at most %d "
                                    "hashes",
                                    i, MAX_TOPIC_ALTERNATIVES);
                goto fail;
            }
            /* An empty alternative list matches anything, like null. */
            json_array_append_new(crit->topics, json_array_size(alts) ? alts : json_null());
            if (json_array_size(alts) == 0)
                json_decref(alts);
        }
    }
    return 0;
fail:
    qcn_rpc_log_criteria_clear(crit);
    return err->code;
}

static int str_in(const json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (strcasecmp(json_string_value(json_array_get(arr, i)), s) == 0)
            return 1;
    return 0;
}

int qcn_rpc_log_criteria_match(const struct log_criteria *crit, const json_t *log)
{
    const json_t *addr = json_object_get(log, "address");
    const json_t *topics = json_object_get(log, "topics");

    if (crit->addresses != NULL &&
        (!json_is_string(addr) || !str_in(crit->addresses, json_string_value(addr))))
        return 0;
    if (crit->topics == NULL)
        return 1;
    for (size_t i = 0; i < json_array_size(crit->topics); i++) {
        const json_t *alts = json_array_get(crit->topics, i);
        const json_t *t;
        if (json_is_null(alts))
            continue;
        t = json_array_get(topics, i);
        if (!json_is_string(t) || !str_in(alts, json_string_value(t)))
            return 0;
    }
    return 1;
}

static void sub_free(struct rpc_sub *s)
{
    qcn_rpc_log_criteria_clear(&s->crit);
    free(s);
}

static void filter_free(struct rpc_filter *f)
{
    qcn_rpc_log_criteria_clear(&f->crit);
    json_decref(f->changes);
    free(f);
}

void qcn_rpc_subs_free_all(struct qcn_rpc *rpc)
{
    while (rpc->subs != NULL) {
        struct rpc_sub *s = rpc->subs;
        rpc->subs = s->next;
        sub_free(s);
    }
    while (rpc->filters != NULL) {
        struct rpc_filter *f = rpc->filters;
        rpc->filters = f->next;
        filter_free(f);
    }
    rpc->nsubs = rpc->nfilters = 0;
}

void qcn_rpc_conn_attach(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn)
{
    conn->id = ++rpc->next_conn_id;
    conn->cut = 0;
}

void qcn_rpc_conn_detach(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn)
{
    struct rpc_sub **pp = &rpc->subs;
    qcn_rpc_requests_cancel_conn(rpc, conn);
    while (*pp != NULL) {
        struct rpc_sub *s = *pp;
        if (s->conn == conn) {
            *pp = s->next;
            sub_free(s);
            rpc->nsubs--;
        } else {
            pp = &s->next;
        }
    }
    qcn_metrics_gauge_set(rpc->m_subs, (double)rpc->nsubs);
}

static int kind_parse(struct qcn_rpc_error *err, enum sub_kind *out, const json_t *v)
{
    if (!json_is_string(v))
        return qcn_rpc_error_param(err, "params[0] (subscription type)",
                                   "expected \"newHeads\", \"logs\" or \"newPendingTransactions\"");
    for (int k = 0; k < SUB_KIND_COUNT; k++) {
        if (strcmp(json_string_value(v), kind_names[k]) == 0) {
            *out = (enum sub_kind)k;
            return 0;
        }
    }
    return qcn_rpc_error_param(err, "params[0] (subscription type)",
                               "unknown type; expected newHeads, logs or newPendingTransactions");
}

static int eth_subscribe(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err)
{
    struct qcn_rpc *rpc = ctx->rpc;
    struct rpc_sub *s, **tail;
    enum sub_kind kind = SUB_NEW_HEADS;

    if (qcn_rpc_params_check(err, params, 1, 2) || kind_parse(err, &kind, qcn_rpc_param(params, 0)))
        return err->code;
    if (kind != SUB_LOGS && qcn_rpc_param(params, 1) != NULL)
        return qcn_rpc_error_param(err, "params[1]", "only logs subscriptions take a filter");
    if (rpc->nsubs >= rpc->config.max_subs)
        return qcn_rpc_error_set(err, QCN_RPC_LIMIT_EXCEEDED, "too many subscriptions (cap %zu)",
                                 rpc->config.max_subs);
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    if (kind == SUB_LOGS &&
        qcn_rpc_log_criteria_parse(err, &s->crit, qcn_rpc_param(params, 1), "params[1] (filter)")) {
        free(s);
        return err->code;
    }
    s->kind = kind;
    s->conn = ctx->conn;
    qcn_rpc_new_id(s->id);
    *result = json_string(s->id);
    if (*result == NULL) {
        sub_free(s);
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    }
    /* Append so notifications fan out in subscription order. */
    for (tail = &rpc->subs; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = s;
    rpc->nsubs++;
    qcn_metrics_gauge_set(rpc->m_subs, (double)rpc->nsubs);
    return 0;
}

static int eth_unsubscribe(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                           struct qcn_rpc_error *err)
{
    struct qcn_rpc *rpc = ctx->rpc;
    const json_t *id;

    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    id = qcn_rpc_param(params, 0);
    if (!json_is_string(id))
        return qcn_rpc_error_param(err, "params[0] (subscription id)", "expected a string");
    for (struct rpc_sub **pp = &rpc->subs; *pp != NULL; pp = &(*pp)->next) {
        struct rpc_sub *s = *pp;
        /* Only the connection that made a subscription may cancel it. */
        if (s->conn == ctx->conn && strcmp(s->id, json_string_value(id)) == 0) {
            *pp = s->next;
            sub_free(s);
            rpc->nsubs--;
            qcn_metrics_gauge_set(rpc->m_subs, (double)rpc->nsubs);
            *result = json_true();
            return 0;
        }
    }
    *result = json_false();
    return 0;
}

static void filters_expire(struct qcn_rpc *rpc, uint64_t now)
{
    struct rpc_filter **pp = &rpc->filters;
    while (*pp != NULL) {
        struct rpc_filter *f = *pp;
        if (now - f->last_poll_ms > QCN_RPC_FILTER_TIMEOUT_MS) {
            *pp = f->next;
            filter_free(f);
            rpc->nfilters--;
        } else {
            pp = &f->next;
        }
    }
}

static int filter_new(struct qcn_rpc_ctx *ctx, enum sub_kind kind, json_t *crit_json,
                      json_t **result, struct qcn_rpc_error *err)
{
    struct qcn_rpc *rpc = ctx->rpc;
    struct rpc_filter *f;
    uint64_t now = qcn_time_mono_ms();

    filters_expire(rpc, now);
    if (rpc->nfilters >= rpc->config.max_filters)
        return qcn_rpc_error_set(err, QCN_RPC_LIMIT_EXCEEDED, "too many filters (cap %zu)",
                                 rpc->config.max_filters);
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    if (kind == SUB_LOGS &&
        qcn_rpc_log_criteria_parse(err, &f->crit, crit_json, "params[0] (filter)")) {
        free(f);
        return err->code;
    }
    f->kind = kind;
    f->last_poll_ms = now;
    f->changes = json_array();
    qcn_rpc_new_id(f->id);
    *result = json_string(f->id);
    if (f->changes == NULL || *result == NULL) {
        json_decref(*result);
        *result = NULL;
        filter_free(f);
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    }
    f->next = rpc->filters;
    rpc->filters = f;
    rpc->nfilters++;
    return 0;
}

static int eth_new_block_filter(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                struct qcn_rpc_error *err)
{
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    return filter_new(ctx, SUB_NEW_HEADS, NULL, result, err);
}

static int eth_new_pending_filter(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                  struct qcn_rpc_error *err)
{
    if (qcn_rpc_params_check(err, params, 0, 0))
        return err->code;
    return filter_new(ctx, SUB_PENDING_TX, NULL, result, err);
}

static int eth_new_filter(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                          struct qcn_rpc_error *err)
{
    json_t *crit;
    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    crit = qcn_rpc_param(params, 0);
    if (!json_is_object(crit))
        return qcn_rpc_error_param(err, "params[0] (filter)", "expected a filter object");
    return filter_new(ctx, SUB_LOGS, crit, result, err);
}

static struct rpc_filter *filter_find(struct qcn_rpc *rpc, const json_t *id,
                                      struct rpc_filter ***prev)
{
    struct rpc_filter **pp;
    if (!json_is_string(id))
        return NULL;
    for (pp = &rpc->filters; *pp != NULL; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, json_string_value(id)) == 0) {
            if (prev != NULL)
                *prev = pp;
            return *pp;
        }
    }
    return NULL;
}

static int eth_get_filter_changes(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                  struct qcn_rpc_error *err)
{
    struct qcn_rpc *rpc = ctx->rpc;
    struct rpc_filter *f;

    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    filters_expire(rpc, qcn_time_mono_ms());
    f = filter_find(rpc, qcn_rpc_param(params, 0), NULL);
    if (f == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "filter not found");
    f->last_poll_ms = qcn_time_mono_ms();
    if (f->overflowed) {
        f->overflowed = 0;
        json_array_clear(f->changes);
        return qcn_rpc_error_set(err, QCN_RPC_LIMIT_EXCEEDED,
                                 "filter missed changes (more than %d between polls); poll more "
                                 "often or re-create it",
                                 QCN_RPC_FILTER_MAX_CHANGES);
    }
    *result = f->changes;
    f->changes = json_array();
    if (f->changes == NULL) {
        f->changes = *result;
        *result = NULL;
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    }
    return 0;
}

static int eth_uninstall_filter(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                                struct qcn_rpc_error *err)
{
    struct qcn_rpc *rpc = ctx->rpc;
    struct rpc_filter *f, **pp = NULL;

    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    f = filter_find(rpc, qcn_rpc_param(params, 0), &pp);
    if (f == NULL) {
        *result = json_false();
        return 0;
    }
    *pp = f->next;
    filter_free(f);
    rpc->nfilters--;
    *result = json_true();
    return 0;
}

static int kind_from_name(const char *kind)
{
    for (int k = 0; k < SUB_KIND_COUNT; k++)
        if (strcmp(kind, kind_names[k]) == 0)
            return k;
    return -1;
}

void qcn_rpc_notify_json(struct qcn_rpc *rpc, const char *kind_name, json_t *result)
{
    int kind = kind_from_name(kind_name);
    struct rpc_sub *s;
    char *text;
    json_t *msg;

    if (kind < 0 || result == NULL)
        return;
    for (struct rpc_filter *f = rpc->filters; f != NULL; f = f->next) {
        json_t *item;
        if ((int)f->kind != kind || f->overflowed)
            continue;
        if (kind == SUB_LOGS && !qcn_rpc_log_criteria_match(&f->crit, result))
            continue;
        /* Block filters report hashes (execution-apis eth_getFilterChanges). */
        item = kind == SUB_NEW_HEADS ? json_object_get(result, "hash") : result;
        if (item == NULL)
            continue;
        if (json_array_size(f->changes) >= QCN_RPC_FILTER_MAX_CHANGES ||
            json_array_append(f->changes, item) != 0)
            f->overflowed = 1;
    }
    for (s = rpc->subs; s != NULL; s = s->next) {
        if ((int)s->kind != kind || s->conn->cut)
            continue;
        if (kind == SUB_LOGS && !qcn_rpc_log_criteria_match(&s->crit, result))
            continue;
        msg = json_pack("{s:s,s:s,s:{s:s,s:O}}", "jsonrpc", "2.0", "method", "eth_subscription",
                        "params", "subscription", s->id, "result", result);
        text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
        /* A connection that cannot take the message is cut off, not skipped:
         * a gap would be invisible to the client. */
        if (text == NULL || s->conn->send(s->conn, text, strlen(text)) != QCN_OK)
            s->conn->cut = 1;
        free(text);
    }
    for (struct rpc_sub **pp = &rpc->subs; *pp != NULL;) {
        s = *pp;
        if (s->conn->cut) {
            *pp = s->next;
            sub_free(s);
            rpc->nsubs--;
        } else {
            pp = &s->next;
        }
    }
    qcn_metrics_gauge_set(rpc->m_subs, (double)rpc->nsubs);
}

void qcn_rpc_notify_block(struct qcn_rpc *rpc, const struct qcn_block *blk,
                          const struct qcn_receipt *receipts)
{
    json_t *h = qcn_rpc_header_json(&blk->header, blk->hash);
    struct qcn_receipt *loaded = NULL;
    size_t nloaded = 0;
    uint64_t log_index = 0;

    qcn_metrics_counter_inc(rpc->m_blocks);
    qcn_metrics_counter_add(rpc->m_txs, (double)blk->ntx);
    qcn_metrics_gauge_set(rpc->m_head, (double)blk->header.height);
    if (h != NULL)
        qcn_rpc_notify_json(rpc, "newHeads", h);
    json_decref(h);
    if (rpc->nsubs == 0 && rpc->nfilters == 0)
        return;
    if (receipts == NULL && blk->ntx > 0 && rpc->backend.block_receipts != NULL) {
        /* Committed already: the store has them. */
        if (rpc->backend.block_receipts(rpc->backend.user, blk->hash, &loaded, &nloaded) ==
                QCN_OK &&
            nloaded == blk->ntx)
            receipts = loaded;
    }
    if (receipts == NULL)
        goto out;
    for (size_t i = 0; i < blk->ntx; i++) {
        struct qcn_rpc_tx_pos pos;
        memcpy(pos.block_hash, blk->hash, QCN_HASH_BYTES);
        pos.block_number = blk->header.height;
        pos.index = i;
        pos.base_fee = blk->header.base_fee;
        for (uint32_t k = 0; k < receipts[i].nlogs; k++, log_index++) {
            json_t *l = qcn_rpc_log_json(&receipts[i].logs[k], &pos, blk->txs[i]->hash, log_index);
            if (l != NULL)
                qcn_rpc_notify_json(rpc, "logs", l);
            json_decref(l);
        }
    }
out:
    for (size_t i = 0; i < nloaded; i++)
        qcn_receipt_clear(&loaded[i]);
    free(loaded);
}

void qcn_rpc_notify_pending_tx(struct qcn_rpc *rpc, const uint8_t hash[QCN_HASH_BYTES])
{
    json_t *h;
    if (rpc->nsubs == 0 && rpc->nfilters == 0)
        return;
    h = qcn_rpc_json_data(hash, QCN_HASH_BYTES);
    if (h != NULL)
        qcn_rpc_notify_json(rpc, "newPendingTransactions", h);
    json_decref(h);
}

const struct qcn_rpc_method qcn_rpc_methods_subs[] = {
    {"eth_subscribe", eth_subscribe, QCN_RPC_WS_ONLY},
    {"eth_unsubscribe", eth_unsubscribe, QCN_RPC_WS_ONLY},
    {"eth_newFilter", eth_new_filter, 0},
    {"eth_newBlockFilter", eth_new_block_filter, 0},
    {"eth_newPendingTransactionFilter", eth_new_pending_filter, 0},
    {"eth_getFilterChanges", eth_get_filter_changes, 0},
    {"eth_uninstallFilter", eth_uninstall_filter, 0},
};
const size_t qcn_rpc_methods_subs_len =
    sizeof qcn_rpc_methods_subs / sizeof qcn_rpc_methods_subs[0];
