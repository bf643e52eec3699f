/* service.c - dispatcher + server + chain backend as one object, so the
 * node's wiring stays a handful of lines (chain_backend.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/chain_backend.h"
#include "util/log.h"

#define MAX_HOST 256

struct qcn_rpc_service {
    struct qcn_rpc *rpc;
    struct qcn_rpc_server *srv;
    struct qcn_rpc_chain_src src;  /* what the backend reads */
    struct qcn_rpc_chain_src node; /* the caller's, for submission */
    char host[MAX_HOST];
};

struct submission {
    struct qcn_rpc_service *s;
    void (*done)(void *, int, const uint8_t *);
    void *ctx;
};

static void submitted(void *ctx, int err, const uint8_t hash[QCN_HASH_BYTES])
{
    struct submission *sub = ctx;
    if (err == QCN_OK)
        qcn_rpc_notify_pending_tx(sub->s->rpc, hash);
    sub->done(sub->ctx, err, hash);
    free(sub);
}

static int submit(void *user, const uint8_t *raw, size_t len,
                  void (*done)(void *, int, const uint8_t *), void *ctx)
{
    struct qcn_rpc_service *s = user;
    struct submission *sub = malloc(sizeof *sub);
    uint8_t zero[QCN_HASH_BYTES] = {0};

    if (sub == NULL) {
        done(ctx, QCN_ERR_NOMEM, zero);
        return QCN_ERR_NOMEM;
    }
    sub->s = s;
    sub->done = done;
    sub->ctx = ctx;
    return s->node.submit_tx(s->node.submit_user, raw, len, submitted, sub);
}

/* "host:port" or "[v6]:port" into host and port (0..65535; 0 = any free
 * port, as the config's -1). */
static int split_addr(char *host, size_t cap, int *port, const char *addr)
{
    const char *colon = strrchr(addr, ':'), *h = addr;
    size_t n;
    char *end;
    long p;

    if (colon == NULL)
        return QCN_ERR_CONFIG;
    n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        h = addr + 1;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return QCN_ERR_CONFIG;
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || p < 0 || p > 65535)
        return QCN_ERR_CONFIG;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = p == 0 ? -1 : (int)p;
    return QCN_OK;
}

int qcn_rpc_service_start(struct qcn_rpc_service **out, void *loop, const char *addr,
                          const char *token_file, uint64_t chain_id,
                          const struct qcn_rpc_chain_src *src, const struct qcn_rpc_config *base)
{
    struct qcn_rpc_service *s;
    struct qcn_rpc_config cfg;
    struct qcn_rpc_backend be;
    int err;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return QCN_ERR_NOMEM;
    if (base != NULL)
        cfg = *base;
    else
        memset(&cfg, 0, sizeof cfg);
    err = split_addr(s->host, sizeof s->host, &cfg.port, addr);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "rpc", "rpc address '%s': expected host:port", addr);
        free(s);
        return err;
    }
    cfg.addr = s->host;
    cfg.chain_id = chain_id;
    cfg.admin_token_file = token_file;
    s->node = *src;
    s->src = *src;
    s->src.evm = NULL;
    if (src->submit_tx != NULL) {
        s->src.submit_tx = submit;
        s->src.submit_user = s;
    }
    qcn_rpc_chain_backend(&be, &s->src);
    err = qcn_rpc_new(&s->rpc, &cfg, &be);
    if (err == QCN_OK)
        err = qcn_rpc_server_new(&s->srv, loop, s->rpc);
    if (err != QCN_OK) {
        qcn_rpc_free(s->rpc);
        free(s);
        return err;
    }
    *out = s;
    return QCN_OK;
}

struct qcn_rpc *qcn_rpc_service_rpc(struct qcn_rpc_service *s)
{
    return s != NULL ? s->rpc : NULL;
}

int qcn_rpc_service_port(const struct qcn_rpc_service *s)
{
    return qcn_rpc_server_port(s->srv);
}

void qcn_rpc_service_stop(struct qcn_rpc_service *s)
{
    if (s != NULL)
        qcn_rpc_server_stop(s->srv);
}

void qcn_rpc_service_free(struct qcn_rpc_service *s)
{
    if (s == NULL)
        return;
    qcn_rpc_server_free(s->srv);
    qcn_rpc_free(s->rpc);
    qcn_rpc_chain_src_clear(&s->src);
    free(s);
}
