/* internal.h - shared between the files of src/rpc; not a public contract. */
#ifndef QCN_RPC_INTERNAL_H
#define QCN_RPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/params.h"
#include "rpc/rpc.h"
#include "util/metrics.h"

struct rpc_method_entry {
    char name[QCN_RPC_MAX_METHOD_NAME + 1];
    qcn_rpc_handler handler;
    unsigned flags;
    struct qcn_metric *calls; /* registered on first call */
    struct qcn_metric *latency;
};

enum sub_kind { SUB_NEW_HEADS, SUB_PENDING_TX, SUB_LOGS, SUB_KIND_COUNT };

struct log_criteria {
    json_t *addresses; /* NULL = any, else array of lower-case hex strings */
    json_t *topics;    /* NULL = any, else array of (null | array of lower-case strings) */
};

struct rpc_sub {
    struct rpc_sub *next;
    char id[2 + 32 + 1];
    enum sub_kind kind;
    struct qcn_rpc_conn *conn;
    struct log_criteria crit;
};

struct rpc_filter {
    struct rpc_filter *next;
    char id[2 + 32 + 1];
    enum sub_kind kind;
    uint64_t last_poll_ms;
    json_t *changes; /* array of pending results */
    int overflowed;
    struct log_criteria crit;
};

struct qcn_rpc {
    struct qcn_rpc_config config;
    struct qcn_rpc_backend backend;
    char client_version[96];
    char token[QCN_RPC_MAX_TOKEN + 1];
    size_t token_len; /* 0 = admin disabled */
    struct rpc_method_entry *methods;
    size_t nmethods;
    struct qcn_metrics *metrics;
    int own_metrics;
    struct qcn_metric *m_unknown, *m_errors, *m_batch_rejects, *m_subs, *m_head, *m_mempool;
    struct qcn_metric *m_mempool_bytes, *m_blocks, *m_txs;
    uint64_t next_conn_id;
    struct rpc_sub *subs;
    size_t nsubs;
    struct rpc_filter *filters;
    size_t nfilters;
    struct qcn_rpc_request *requests; /* with deferred calls outstanding */
    struct qcn_vm *vm;                /* the EVM for eth_call/eth_estimateGas, made on first use */
};

/* Cancels the in-flight requests of a connection (on detach). */
void qcn_rpc_requests_cancel_conn(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn);

/* Built-in method tables (methods_*.c). */
extern const struct qcn_rpc_method qcn_rpc_methods_base[];
extern const size_t qcn_rpc_methods_base_len;
extern const struct qcn_rpc_method qcn_rpc_methods_subs[];
extern const size_t qcn_rpc_methods_subs_len;
extern const struct qcn_rpc_method qcn_rpc_methods_eth[];
extern const size_t qcn_rpc_methods_eth_len;

/* Parses a log filter object ({address, topics}) into crit. */
int qcn_rpc_log_criteria_parse(struct qcn_rpc_error *err, struct log_criteria *crit,
                               const json_t *filter, const char *field);
void qcn_rpc_log_criteria_clear(struct log_criteria *crit);
/* 1 if the log object matches. */
int qcn_rpc_log_criteria_match(const struct log_criteria *crit, const json_t *log);

/* Frees all subscriptions and filters (dispatcher teardown). */
void qcn_rpc_subs_free_all(struct qcn_rpc *rpc);

/* A fresh random 16-byte id as "0x" + 32 hex digits. */
void qcn_rpc_new_id(char out[2 + 32 + 1]);

#endif
