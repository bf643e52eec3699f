/* rpcclient.h - a small JSON-RPC 2.0 client over HTTP (libcurl) for the
 * wallet commands (docs/rpc.md is the server side).
 *
 * One blocking call at a time, each bounded by a timeout. Errors are kept
 * apart: QCN_ERR_NODE_UNREACHABLE when no HTTP answer came back (connection
 * refused, DNS, timeout: the message starts "cannot reach node at URL"),
 * QCN_ERR_RPC when the node answered with a JSON-RPC error (its code,
 * message and data are kept verbatim, e.g. "insufficient funds"),
 * QCN_ERR_BAD_JSON for an answer that is not a JSON-RPC response. Responses
 * over QCN_WALLET_RPC_MAX_RESPONSE are refused. Not thread-safe per client. */
#ifndef QCN_WALLET_RPCCLIENT_H
#define QCN_WALLET_RPCCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/tx.h"
#include "codec/u256.h"
#include "util/err.h"

#define QCN_WALLET_RPC_DEFAULT_URL "http://127.0.0.1:8545"
#define QCN_WALLET_RPC_MAX_RESPONSE (64u << 20) /* the server's own cap */
#define QCN_WALLET_RPC_TIMEOUT_MS 30000
#define QCN_WALLET_RPC_MAX_URL 1024
#define QCN_WALLET_RPC_MAX_MESSAGE 2048

struct qcn_rpc_client;

/* A client for url (http:// or https://). NULL on failure (bad URL, no memory). */
struct qcn_rpc_client *qcn_rpc_client_new(const char *url, long timeout_ms);
void qcn_rpc_client_free(struct qcn_rpc_client *c);

/* Calls method with params (a JSON array; the reference is stolen; NULL = [])
 * and returns the "result" in *result (a new reference, may be JSON null). */
QCN_MUST_CHECK int qcn_rpc_client_call(struct qcn_rpc_client *c, json_t **result,
                                       const char *method, json_t *params);

/* The last error: message (never NULL; "" after success), JSON-RPC code (0
 * when the failure was not a JSON-RPC error), data (borrowed, may be NULL). */
const char *qcn_rpc_client_message(const struct qcn_rpc_client *c);
int qcn_rpc_client_code(const struct qcn_rpc_client *c);
json_t *qcn_rpc_client_data(const struct qcn_rpc_client *c);
const char *qcn_rpc_client_url(const struct qcn_rpc_client *c);

/* Calls that expect a hex quantity: u64 or u256. QCN_ERR_BAD_JSON when the
 * result is not one. */
QCN_MUST_CHECK int qcn_rpc_client_u64(struct qcn_rpc_client *c, uint64_t *out, const char *method,
                                      json_t *params);
QCN_MUST_CHECK int qcn_rpc_client_u256(struct qcn_rpc_client *c, struct qcn_u256 *out,
                                       const char *method, json_t *params);

/* Hex quantity helpers ("0x1a" -> 26). QCN_ERR_BAD_JSON if v is not one. */
QCN_MUST_CHECK int qcn_json_quantity_u64(uint64_t *out, const json_t *v);
/* "0x" + lower-case hex of data (a new JSON string). */
json_t *qcn_json_hex(const uint8_t *p, size_t len);
/* "0x..." quantity without leading zeros. */
json_t *qcn_json_quantity(uint64_t v);

#endif
