/* rpc.h - JSON-RPC 2.0 over HTTP and WebSocket on one port (libwebsockets on
 * the node's libuv loop), a method table, subscriptions and filters.
 *
 * Two layers:
 *   - the dispatcher (struct qcn_rpc): parses a request body (one call or a
 *     batch), applies the caps, finds the method, runs it, builds the
 *     response text. It does no I/O, so tests and the fuzzer drive it
 *     directly.
 *   - the server (struct qcn_rpc_server): libwebsockets glue. HTTP POST and
 *     WebSocket text frames go to the dispatcher; GET /health and GET
 *     /metrics are served beside them; CORS, body cap, per-connection rate
 *     limit and the admin bearer token are enforced here.
 *
 * Threads: everything runs on the one libuv loop thread that owns node state
 * (STYLE.md "State, logging, threads"). Every function here, and every
 * backend callback, is called on that thread only; none is thread-safe.
 *
 * Chain access goes through struct qcn_rpc_backend, a small table of
 * function pointers the node implements over its store and chain, so
 * src/rpc does not depend on src/node (dependency order: chain <- rpc <- node).
 * A NULL backend function makes the methods that need it answer "not
 * available" (-32601-style error -32004), never crash. */
#ifndef QCN_RPC_RPC_H
#define QCN_RPC_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/block.h"
#include "codec/receipt.h"
#include "codec/tx.h"
#include "codec/u256.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/metrics.h"

/* JSON-RPC 2.0 error codes (spec section 5.1) and the Ethereum conventions
 * (EIP-1474) the clients understand. */
#define QCN_RPC_PARSE_ERROR (-32700)
#define QCN_RPC_INVALID_REQUEST (-32600)
#define QCN_RPC_METHOD_NOT_FOUND (-32601)
#define QCN_RPC_INVALID_PARAMS (-32602)
#define QCN_RPC_INTERNAL_ERROR (-32603)
#define QCN_RPC_SERVER_ERROR (-32000)       /* generic; also mempool rejections */
#define QCN_RPC_RESOURCE_NOT_FOUND (-32001) /* EIP-1474 */
#define QCN_RPC_UNAUTHORIZED (-32002)       /* admin method without a valid token */
#define QCN_RPC_TX_REJECTED (-32003)        /* EIP-1474 "transaction rejected" */
#define QCN_RPC_UNAVAILABLE (-32004)        /* method exists, backend does not serve it */
#define QCN_RPC_LIMIT_EXCEEDED (-32005)     /* EIP-1474: rate limit, range cap, batch cap */
#define QCN_RPC_EXECUTION_REVERTED 3        /* geth/ethers convention, data = revert bytes */

/* Defaults and hard caps. A config value of 0 means "the default". */
#define QCN_RPC_DEFAULT_PORT 8545
#define QCN_RPC_DEFAULT_MAX_BODY (5u << 20)
#define QCN_RPC_DEFAULT_MAX_BATCH 1000
#define QCN_RPC_DEFAULT_MAX_DEPTH 64
#define QCN_RPC_DEFAULT_LOGS_RANGE 10000
#define QCN_RPC_DEFAULT_MAX_LOGS 10000
#define QCN_RPC_DEFAULT_CALL_GAS_CAP 50000000ull
#define QCN_RPC_DEFAULT_WS_QUEUE (16u << 20)
#define QCN_RPC_DEFAULT_MAX_SUBS 1024 /* per server */
#define QCN_RPC_DEFAULT_MAX_FILTERS 1024
#define QCN_RPC_FILTER_TIMEOUT_MS (5u * 60u * 1000u)
#define QCN_RPC_FILTER_MAX_CHANGES 10000 /* per filter between two polls */
#define QCN_RPC_MAX_RESPONSE (64u << 20)
#define QCN_RPC_MAX_METHODS 256
#define QCN_RPC_MAX_METHOD_NAME 64
#define QCN_RPC_MAX_TOKEN 256
#define QCN_RPC_MAX_ERROR_MESSAGE 256

struct qcn_rpc_config {
    const char *addr;      /* listen address; NULL = 127.0.0.1 */
    int port;              /* 0 = QCN_RPC_DEFAULT_PORT; -1 = an ephemeral port (tests) */
    const char *cors;      /* comma-separated allowed origins, "*" = any; NULL = none */
    size_t max_body;       /* request body cap in bytes (HTTP body or WS message) */
    size_t max_batch;      /* calls per batch */
    int max_depth;         /* JSON nesting cap, checked before parsing */
    uint32_t rate_per_sec; /* calls per second per connection; 0 = unlimited */
    uint32_t rate_burst;   /* token bucket size; 0 = rate_per_sec */
    uint64_t logs_range;   /* eth_getLogs block-range cap */
    size_t max_logs;       /* eth_getLogs result cap */
    uint64_t call_gas_cap; /* most gas one eth_call/eth_estimateGas run may burn */
    size_t ws_queue;       /* bytes queued to one WS client before it is cut off */
    size_t max_subs;
    size_t max_filters;
    const char *admin_token_file; /* NULL = admin methods disabled */
    uint64_t chain_id;
    uint64_t network_id;         /* net_version; 0 = chain_id */
    const char *client_version;  /* web3_clientVersion; NULL = "qcn/<version>" */
    struct qcn_metrics *metrics; /* shared registry; NULL = the server makes its own */
};

struct qcn_rpc_error {
    int code;
    char message[QCN_RPC_MAX_ERROR_MESSAGE];
    json_t *data; /* optional, owned (a new reference), sent as "data" */
};

/* Sets code and a printf-style message; returns code so handlers can
 * `return qcn_rpc_error_set(...)`. Messages are truncated to the cap. */
int qcn_rpc_error_set(struct qcn_rpc_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* -32602 "invalid params: <field>: <why>". Returns QCN_RPC_INVALID_PARAMS. */
int qcn_rpc_error_param(struct qcn_rpc_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct qcn_rpc;
struct qcn_rpc_conn;
struct qcn_rpc_call;
struct qcn_mpt_proof;
struct qcn_rpc_request;

/* Per-call context given to handlers. */
struct qcn_rpc_ctx {
    struct qcn_rpc *rpc;
    struct qcn_rpc_conn *conn; /* the WebSocket connection, NULL over HTTP */
    int admin;                 /* 1 if the request carried the admin token */
    const struct qcn_rpc_config *config;
    const struct qcn_rpc_backend *backend;
    struct qcn_rpc_call *deferred; /* set by qcn_rpc_defer */
    void *priv;                    /* the dispatcher's */
};

/* A handler returns 0 and sets *result to a new reference, or returns the
 * nonzero JSON-RPC error code after filling err (qcn_rpc_error_set), or
 * returns QCN_RPC_DEFERRED after qcn_rpc_defer (the answer comes later through
 * qcn_rpc_call_done). params is the request's "params" (an array, an object,
 * or NULL when absent), borrowed for the call. */
typedef int (*qcn_rpc_handler)(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                               struct qcn_rpc_error *err);

/* Not a JSON-RPC code: "the answer will come through qcn_rpc_call_done". */
#define QCN_RPC_DEFERRED 0x7fffffff

/* Takes a handle for answering this call later (e.g. after a transaction's
 * signatures were verified on worker threads). NULL on allocation failure.
 * The handler must then return QCN_RPC_DEFERRED. */
struct qcn_rpc_call *qcn_rpc_defer(struct qcn_rpc_ctx *ctx);
/* Answers a deferred call exactly once, on the loop thread, possibly before
 * the handler has returned. result (stolen) on success, or NULL and err. If the
 * client went away meanwhile the answer is dropped. */
void qcn_rpc_call_done(struct qcn_rpc_call *call, json_t *result, const struct qcn_rpc_error *err);

#define QCN_RPC_ADMIN 1u   /* needs Authorization: Bearer <token> */
#define QCN_RPC_WS_ONLY 2u /* needs a WebSocket connection (subscriptions) */

struct qcn_rpc_method {
    const char *name;
    qcn_rpc_handler handler;
    unsigned flags;
};

/* A message to execute without committing (eth_call, eth_estimateGas). */
struct qcn_rpc_exec_msg {
    uint8_t from[QCN_ADDRESS_BYTES];
    int has_to; /* 0: a creation with data as init code */
    uint8_t to[QCN_ADDRESS_BYTES];
    uint8_t value[32]; /* big-endian */
    const uint8_t *data;
    size_t data_len;
    uint64_t gas;
    uint64_t chain_id;
};

enum qcn_rpc_exec_status {
    QCN_RPC_EXEC_SUCCESS = 0,
    QCN_RPC_EXEC_REVERT = 1,  /* REVERT: output holds the revert data */
    QCN_RPC_EXEC_FAILURE = 2, /* exceptional halt (out of gas, bad opcode, ...) */
};

/* What the node supplies. Every function is optional (NULL: the methods that
 * need it answer -32004 "not available"). All run on the loop thread and read
 * the committed head state. Return QCN_OK, QCN_ERR_NOT_FOUND (answered as
 * JSON null where Ethereum does so), or another qcn_err (answered as -32000
 * with qcn_err_str's text). Outputs are owned by the caller. */
struct qcn_rpc_backend {
    void *user;
    /* Height of the current head block. */
    int (*head_number)(void *user, uint64_t *out);
    /* Extra fields for qcn_nodeInfo (peers, consensus engine, ...): a new
     * JSON object merged into the answer. */
    int (*node_info)(void *user, json_t **out);
    /* The peer-to-peer network, for net_listening, net_peerCount and
     * qcn_peers: a new JSON object {"listening": bool (a listener is up),
     * "nodeId": "0x..", "port": n, "peers": [ {"nodeId", "addr", "inbound",
     * "height", "score", "partitioned"} ...]} listing the connected peers
     * whose handshake is complete. NULL: the node runs no p2p (no peers, not
     * listening). */
    int (*net_status)(void *user, json_t **out);
    /* A canonical block with its transactions (out->hash filled). The caller
     * frees it with qcn_block_clear. */
    int (*block_by_number)(void *user, uint64_t number, struct qcn_block *out);
    int (*block_by_hash)(void *user, const uint8_t hash[QCN_HASH_BYTES], struct qcn_block *out);
    /* A block's receipts in transaction order: *out is a malloc'd array of *n
     * (the caller runs qcn_receipt_clear on each, then free). gas_used and
     * effective_gas_price may be left 0: the RPC layer derives them. */
    int (*block_receipts)(void *user, const uint8_t block_hash[QCN_HASH_BYTES],
                          struct qcn_receipt **out, size_t *n);
    /* Where a committed transaction is (TXINDEX). */
    int (*tx_location)(void *user, const uint8_t tx_hash[QCN_HASH_BYTES],
                       uint8_t block_hash[QCN_HASH_BYTES], uint32_t *index);
    /* Head-state account; QCN_ERR_NOT_FOUND counts as the empty account. */
    int (*account)(void *user, const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t *nonce,
                   struct qcn_u256 *balance);
    int (*code)(void *user, const uint8_t addr[QCN_ADDRESS_BYTES], struct qcn_buf *out);
    int (*storage)(void *user, const uint8_t addr[QCN_ADDRESS_BYTES],
                   const uint8_t slot[QCN_HASH_BYTES], uint8_t out[QCN_HASH_BYTES]);
    /* The account's key record (codec/keyrec.h encoding), appended to out. */
    int (*key_record)(void *user, const uint8_t addr[QCN_ADDRESS_BYTES], struct qcn_buf *out);
    /* Mempool: a pooled transaction (new reference), the next nonce counting
     * pooled transactions, and the pool's size. */
    int (*pending_tx)(void *user, const uint8_t hash[QCN_HASH_BYTES], struct qcn_tx **out);
    int (*pending_nonce)(void *user, const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t *out);
    int (*mempool_status)(void *user, size_t *count, size_t *bytes);
    /* Base fee the next block must carry (EIP-1559). */
    int (*next_base_fee)(void *user, uint64_t *out);
    /* eth_getProof: Merkle proofs at the head state (state/statedb.h
     * qcn_statedb_prove): the account's path into acc, each slot's path in
     * the account's storage trie into storage[i]. Proofs arrive
     * qcn_mpt_proof_init'ed; the caller clears them. */
    int (*prove)(void *user, const uint8_t addr[QCN_ADDRESS_BYTES], const uint8_t (*slots)[32],
                 size_t nslots, struct qcn_mpt_proof *acc, struct qcn_mpt_proof *storage);
    /* Runs m over the head state with head as the block context and throws
     * every change away: *status, *gas_used (of m.gas) and the output (the
     * return or revert data; for a creation, the deployed code) appended to
     * out. QCN_OK, QCN_ERR_TOO_LARGE (output over out's cap), or a state or
     * allocation error. rpc/evm.h has the EVM implementation. */
    int (*exec)(void *user, const struct qcn_header *head, const struct qcn_rpc_exec_msg *m,
                enum qcn_rpc_exec_status *status, uint64_t *gas_used, struct qcn_buf *out);
    /* Submits an encoded transaction. done(done_ctx, err, hash) is called
     * exactly once on the loop thread, possibly before submit_tx returns:
     * QCN_OK once the transaction is in the pool, or the rejection reason. */
    int (*submit_tx)(void *user, const uint8_t *raw, size_t len,
                     void (*done)(void *done_ctx, int err, const uint8_t hash[QCN_HASH_BYTES]),
                     void *done_ctx);
};

/* ---- dispatcher ---- */

/* Creates a dispatcher with the built-in methods (web3_, net_, eth_, qcn_)
 * registered. config and backend are copied (strings inside are not: they
 * must outlive the dispatcher). Reads the admin token file if set (a missing
 * file is created with a fresh random token, mode 0600). QCN_ERR_NOMEM,
 * QCN_ERR_IO, QCN_ERR_CONFIG. */
QCN_MUST_CHECK int qcn_rpc_new(struct qcn_rpc **out, const struct qcn_rpc_config *config,
                               const struct qcn_rpc_backend *backend);
void qcn_rpc_free(struct qcn_rpc *rpc);

/* Adds methods (the table must outlive the dispatcher). A name already
 * registered is replaced, so the node can override a built-in.
 * QCN_ERR_TOO_LARGE past QCN_RPC_MAX_METHODS, QCN_ERR_INVALID_ARG for a name
 * over the length cap. */
QCN_MUST_CHECK int qcn_rpc_register(struct qcn_rpc *rpc, const struct qcn_rpc_method *methods,
                                    size_t n);

/* Receives a request's complete answer: the response text (len 0 when the
 * request held only notifications), or err != QCN_OK (QCN_ERR_NOMEM) when no
 * answer could be built. text lives for the call only. */
typedef void (*qcn_rpc_reply_fn)(void *ctx, int err, const char *text, size_t len);

/* Handles one request body (a call or a batch). conn is NULL for HTTP.
 * token is the bearer token the client presented (NULL if none). *ncalls
 * gets the number of calls (for rate limiting; may be NULL). reply is
 * called exactly once: before this returns if no call was deferred,
 * otherwise later; in that case *pending (may be NULL) gets a handle the
 * transport passes to qcn_rpc_request_cancel if its client goes away
 * (WebSocket requests are also cancelled by qcn_rpc_conn_detach). */
void qcn_rpc_handle(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn, const char *token,
                    size_t token_len, const uint8_t *body, size_t len, qcn_rpc_reply_fn reply,
                    void *reply_ctx, size_t *ncalls, struct qcn_rpc_request **pending);
/* The client is gone: reply will not be called. */
void qcn_rpc_request_cancel(struct qcn_rpc_request *req);

/* Synchronous form for tests and the fuzzer: appends the answer to out.
 * QCN_ERR_BUSY if a call deferred (the request is cancelled). */
QCN_MUST_CHECK int qcn_rpc_handle_sync(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn,
                                       const char *token, size_t token_len, const uint8_t *body,
                                       size_t len, struct qcn_buf *out);

/* The metrics registry the dispatcher uses (its own or the config's). */
struct qcn_metrics *qcn_rpc_metrics(struct qcn_rpc *rpc);

/* ---- connections (subscriptions) ---- */

/* A WebSocket connection as the dispatcher sees it: a sink for messages.
 * send() queues one complete text message and returns QCN_OK, or
 * QCN_ERR_CLOSED / QCN_ERR_TOO_LARGE if the connection is (now) cut off. */
struct qcn_rpc_conn {
    int (*send)(struct qcn_rpc_conn *c, const char *text, size_t len);
    uint64_t id; /* set by the dispatcher on attach */
    int cut;     /* set once a send failed: nothing more is delivered */
};

/* Attach before the first request over it; detach drops its subscriptions. */
void qcn_rpc_conn_attach(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn);
void qcn_rpc_conn_detach(struct qcn_rpc *rpc, struct qcn_rpc_conn *conn);

/* ---- events from the node ----
 * Each call delivers to every matching subscription and filter, in call
 * order; a subscriber whose queue is over its cap is cut off rather than
 * skipped, so a live subscriber never sees a gap. */

/* result: the JSON the subscribers get (a new-heads header object, a tx
 * hash string, a log object); borrowed. kind: "newHeads",
 * "newPendingTransactions" or "logs". For "logs" the object is matched
 * against each subscription's address/topics filter. */
void qcn_rpc_notify_json(struct qcn_rpc *rpc, const char *kind, json_t *result);

/* A block was committed: newHeads (its header object), then logs (one event
 * per log, in block order). receipts: the block's blk->ntx receipts, or NULL
 * to have them read through the backend (the block is committed). Call once
 * per block, in height order, after the commit. */
void qcn_rpc_notify_block(struct qcn_rpc *rpc, const struct qcn_block *blk,
                          const struct qcn_receipt *receipts);

/* A transaction entered the mempool: newPendingTransactions (its hash). */
void qcn_rpc_notify_pending_tx(struct qcn_rpc *rpc, const uint8_t hash[QCN_HASH_BYTES]);

/* ---- server ---- */

struct qcn_rpc_server;

/* Creates the libwebsockets context on loop (a uv_loop_t *, passed as void *
 * so this header does not pull in uv.h) and starts listening. rpc stays owned
 * by the caller and must outlive the server. QCN_ERR_IO if the port cannot be
 * bound, QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_rpc_server_new(struct qcn_rpc_server **out, void *loop, struct qcn_rpc *rpc);

/* The port actually bound (useful with port = -1). */
int qcn_rpc_server_port(const struct qcn_rpc_server *s);

/* Shutting down takes two steps because libwebsockets closes its libuv
 * handles asynchronously:
 *   qcn_rpc_server_stop(s)   on the loop thread: closes every connection and
 *                            starts closing lws's handles;
 *   ...the loop runs until those handles are closed (uv_run returns)...
 *   qcn_rpc_server_free(s)   finishes the teardown and frees s.
 * Free the dispatcher (qcn_rpc_free) after the server. NULL is a no-op. */
void qcn_rpc_server_stop(struct qcn_rpc_server *s);
void qcn_rpc_server_free(struct qcn_rpc_server *s);

#endif
