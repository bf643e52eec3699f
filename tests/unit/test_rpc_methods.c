/* rpc/methods: the chain-facing methods over an in-memory chain (real codec
 * objects behind struct qcn_rpc_backend), through the dispatcher. The
 * network layer has its own test (test_rpc_server.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define FAKE_CHAIN_EVM 1 /* eth_call through the real EVM glue */
#include "rpc/params.h"
#include "rpc/rpc.h"
#include "rpc_fake_chain.h"
#include "util/hex.h"

static struct fake_chain FC;
static struct qcn_rpc *RPC;

static int setup(void **state)
{
    struct qcn_rpc_config cfg = {0};
    struct qcn_rpc_backend be;
    (void)state;
    if (fake_chain_init(&FC) != 0)
        return -1;
    fake_backend(&FC, &be);
    cfg.chain_id = FAKE_CHAIN_ID;
    cfg.logs_range = 2;
    return qcn_rpc_new(&RPC, &cfg, &be) == QCN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    qcn_rpc_free(RPC);
    fake_chain_clear(&FC);
    return 0;
}

/* Calls method with params (JSON text); returns the whole response. */
static json_t *call(const char *method, const char *params)
{
    size_t cap = strlen(params) + 128;
    char *req = malloc(cap);
    struct qcn_buf out;
    json_t *j;
    assert_non_null(req);
    snprintf(req, cap, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method,
             params);
    qcn_buf_init(&out, 1 << 24);
    assert_int_equal(
        qcn_rpc_handle_sync(RPC, NULL, NULL, 0, (const uint8_t *)req, strlen(req), &out), QCN_OK);
    assert_int_equal(qcn_buf_append_u8(&out, 0), QCN_OK);
    j = json_loads((const char *)out.p, 0, NULL);
    if (j == NULL)
        fail_msg("bad JSON: %s", (const char *)out.p);
    qcn_buf_clear(&out);
    free(req);
    return j;
}

static json_t *result(json_t *r)
{
    json_t *res = json_object_get(r, "result");
    if (res == NULL)
        fail_msg("error: %s", json_dumps(r, 0));
    return res;
}

static int code(json_t *r)
{
    return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

static const char *message(json_t *r)
{
    const char *m = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    return m != NULL ? m : "";
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, p, n);
}

static void test_params_strict(void **state)
{
    struct qcn_rpc_error err = {0};
    uint64_t v;
    uint8_t u[32], a[20];
    json_t *j;
    (void)state;

#define Q(s) (j = json_string(s))
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("0x0"), "f"), 0);
    json_decref(j);
    assert_int_equal(v, 0);
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("0xffffffffffffffff"), "f"), 0);
    json_decref(j);
    assert_true(v == UINT64_MAX);
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("0x10000000000000000"), "f"), -32602);
    json_decref(j);
    assert_non_null(strstr(err.message, "f: quantity overflows 64 bits"));
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("0x01"), "f"), -32602);
    json_decref(j);
    assert_non_null(strstr(err.message, "leading zeros"));
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("0x"), "f"), -32602);
    json_decref(j);
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("12"), "f"), -32602);
    json_decref(j);
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, Q("0xg"), "f"), -32602);
    json_decref(j);
    j = json_integer(5);
    assert_int_equal(qcn_rpc_parse_u64(&err, &v, j, "f"), -32602);
    json_decref(j);
    assert_int_equal(qcn_rpc_parse_u256(&err, u, Q("0x1ff"), "f"), 0);
    json_decref(j);
    assert_int_equal(u[30], 1);
    assert_int_equal(u[31], 0xff);
    j = qcn_rpc_json_u256(u);
    assert_string_equal(json_string_value(j), "0x1ff");
    json_decref(j);
    assert_int_equal(
        qcn_rpc_parse_u256(
            &err, u, Q("0x10000000000000000000000000000000000000000000000000000000000000000"), "f"),
        -32602);
    json_decref(j);
    assert_int_equal(qcn_rpc_parse_fixed(&err, a, 20,
                                         Q("0x00112233445566778899aabbccddeeff0011223"),
                                         "params[0] (address)"),
                     -32602);
    json_decref(j);
    assert_non_null(strstr(err.message, "params[0] (address)"));
    assert_int_equal(
        qcn_rpc_parse_fixed(&err, a, 20, Q("0x00112233445566778899aabbccddeeff001122"), "a"),
        -32602);
    json_decref(j);
    assert_non_null(strstr(err.message, "expected 20 bytes, got 19"));
    assert_int_equal(
        qcn_rpc_parse_fixed(&err, a, 20, Q("0x00112233445566778899AABBCCDDEEFF00112233"), "a"), 0);
    json_decref(j);
    assert_int_equal(a[10], 0xaa);
#undef Q
}

static void test_reads(void **state)
{
    char addr[43], req[256];
    json_t *r, *b;
    (void)state;

    hex(addr, FC.sender, 20);
    r = call("eth_blockNumber", "[]");
    assert_string_equal(json_string_value(result(r)), "0x2");
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"latest\"]", addr);
    r = call("eth_getBalance", req);
    assert_string_equal(json_string_value(result(r)), "0xde0b6b3a7640000");
    json_decref(r);
    r = call("eth_getTransactionCount", req);
    assert_string_equal(json_string_value(result(r)), "0x3");
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"pending\"]", addr);
    r = call("eth_getTransactionCount", req);
    assert_string_equal(json_string_value(result(r)), "0x4");
    json_decref(r);
    /* an unknown account is empty, not an error */
    r = call("eth_getBalance", "[\"0x0000000000000000000000000000000000000001\",\"0x2\"]");
    assert_string_equal(json_string_value(result(r)), "0x0");
    json_decref(r);
    /* history is refused with a reason, the future is not found */
    snprintf(req, sizeof req, "[\"%s\",\"0x1\"]", addr);
    r = call("eth_getBalance", req);
    assert_int_equal(code(r), -32000);
    assert_non_null(strstr(message(r), "historical state"));
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"0x9\"]", addr);
    r = call("eth_getBalance", req);
    assert_int_equal(code(r), -32001);
    json_decref(r);
    r = call("eth_getBalance", "[\"0x1234\",\"latest\"]");
    assert_int_equal(code(r), -32602);
    assert_non_null(strstr(message(r), "params[0] (address): expected 20 bytes, got 2"));
    json_decref(r);
    r = call("eth_getBalance", "[\"0x0000000000000000000000000000000000000001\",\"newest\"]");
    assert_int_equal(code(r), -32602);
    assert_non_null(strstr(message(r), "params[1] (block)"));
    json_decref(r);
    r = call("eth_getCode", "[\"0xc0de000000000000000000000000000000000000\",\"latest\"]");
    assert_string_equal(json_string_value(result(r)), "0x60006000f3");
    json_decref(r);
    r = call("eth_getStorageAt",
             "[\"0xc0de000000000000000000000000000000000000\",\"0x1\",\"latest\"]");
    assert_string_equal(json_string_value(result(r)),
                        "0x000000000000000000000000000000000000000000000000000000000000002a");
    json_decref(r);

    r = call("eth_getBlockByNumber", "[\"0x1\",false]");
    b = result(r);
    assert_string_equal(json_string_value(json_object_get(b, "number")), "0x1");
    assert_int_equal(json_array_size(json_object_get(b, "transactions")), 2);
    assert_true(json_is_string(json_array_get(json_object_get(b, "transactions"), 0)));
    assert_string_equal(json_string_value(json_object_get(b, "baseFeePerGas")), "0x3e8");
    assert_string_equal(json_string_value(json_object_get(b, "gasUsed")), "0x278d0");
    {
        char want[67];
        hex(want, FC.blocks[1].hash, 32);
        assert_string_equal(json_string_value(json_object_get(b, "hash")), want);
        hex(want, FC.blocks[0].hash, 32);
        assert_string_equal(json_string_value(json_object_get(b, "parentHash")), want);
        snprintf(req, sizeof req, "[\"%s\",true]", want);
    }
    json_decref(r);
    r = call("eth_getBlockByHash", req);
    b = result(r);
    assert_string_equal(json_string_value(json_object_get(b, "number")), "0x0");
    json_decref(r);
    r = call("eth_getBlockByNumber", "[\"latest\",true]");
    b = json_array_get(json_object_get(result(r), "transactions"), 0);
    assert_string_equal(json_string_value(json_object_get(b, "type")), "0x51");
    assert_string_equal(json_string_value(json_object_get(b, "nonce")), "0x2");
    assert_string_equal(json_string_value(json_object_get(b, "from")), addr);
    /* effective price: min(5000, 1000 + 2) */
    assert_string_equal(json_string_value(json_object_get(b, "gasPrice")), "0x3ea");
    json_decref(r);
    r = call("eth_getBlockByNumber", "[\"0x7\",false]");
    assert_true(json_is_null(result(r)));
    json_decref(r);
    r = call("eth_getBlockTransactionCountByNumber", "[\"0x1\"]");
    assert_string_equal(json_string_value(result(r)), "0x2");
    json_decref(r);
}

static void test_transactions_and_receipts(void **state)
{
    char h[67], req[256];
    json_t *r, *t;
    (void)state;

    hex(h, FC.blocks[1].txs[1]->hash, 32);
    snprintf(req, sizeof req, "[\"%s\"]", h);
    r = call("eth_getTransactionByHash", req);
    t = result(r);
    assert_string_equal(json_string_value(json_object_get(t, "blockNumber")), "0x1");
    assert_string_equal(json_string_value(json_object_get(t, "transactionIndex")), "0x1");
    assert_string_equal(json_string_value(json_object_get(t, "value")), "0x3e9");
    json_decref(r);
    r = call("eth_getTransactionReceipt", req);
    t = result(r);
    assert_string_equal(json_string_value(json_object_get(t, "status")), "0x1");
    assert_string_equal(json_string_value(json_object_get(t, "gasUsed")), "0x13c68");
    assert_string_equal(json_string_value(json_object_get(t, "cumulativeGasUsed")), "0x278d0");
    assert_int_equal(json_array_size(json_object_get(t, "logs")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(t, "logs"), 0), "logIndex")),
                        "0x0");
    json_decref(r);
    /* pending: block fields null */
    hex(h, FC.pending->hash, 32);
    snprintf(req, sizeof req, "[\"%s\"]", h);
    r = call("eth_getTransactionByHash", req);
    t = result(r);
    assert_true(json_is_null(json_object_get(t, "blockHash")));
    json_decref(r);
    r = call("eth_getTransactionReceipt", req);
    assert_true(json_is_null(result(r)));
    json_decref(r);
    r = call("eth_getBlockReceipts", "[\"0x1\"]");
    assert_int_equal(json_array_size(result(r)), 2);
    json_decref(r);
}

static void test_logs(void **state)
{
    json_t *r;
    (void)state;

    r = call("eth_getLogs", "[{\"fromBlock\":\"0x0\",\"toBlock\":\"latest\"}]");
    assert_int_equal(code(r), -32005);
    assert_non_null(strstr(message(r), "block range of 3 exceeds the eth_getLogs cap of 2"));
    json_decref(r);
    r = call("eth_getLogs",
             "[{\"fromBlock\":\"0x1\",\"toBlock\":\"0x2\",\"topics\":[\"0x"
             "1111111111111111111111111111111111111111111111111111111111111111\"]}]");
    assert_int_equal(json_array_size(result(r)), 1);
    json_decref(r);
    r = call("eth_getLogs",
             "[{\"fromBlock\":\"0x1\",\"toBlock\":\"0x2\",\"topics\":[null,\"0x"
             "1111111111111111111111111111111111111111111111111111111111111111\"]}]");
    assert_int_equal(json_array_size(result(r)), 0);
    json_decref(r);
    r = call("eth_getLogs", "[{\"fromBlock\":\"0x1\",\"toBlock\":\"0x2\",\"address\":"
                            "\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}]");
    assert_int_equal(json_array_size(result(r)), 1);
    json_decref(r);
}

static void test_fees_and_estimates(void **state)
{
    char addr[43], req[512];
    json_t *r, *res;
    (void)state;

    r = call("eth_gasPrice", "[]");
    assert_string_equal(json_string_value(result(r)), "0x3b9acd84"); /* 900 + 1 gwei */
    json_decref(r);
    r = call("eth_feeHistory", "[\"0x2\",\"latest\",[50]]");
    res = result(r);
    assert_string_equal(json_string_value(json_object_get(res, "oldestBlock")), "0x1");
    assert_int_equal(json_array_size(json_object_get(res, "baseFeePerGas")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(res, "baseFeePerGas"), 2)),
                        "0x384");
    assert_string_equal(
        json_string_value(json_array_get(json_array_get(json_object_get(res, "reward"), 0), 0)),
        "0x2");
    json_decref(r);
    r = call("eth_feeHistory", "[\"0x0\",\"latest\"]");
    assert_int_equal(code(r), -32602);
    json_decref(r);

    hex(addr, FC.sender, 20);
    /* recorded ML-DSA-65 key: 21000 + 3309*16 + 3000 */
    snprintf(req, sizeof req,
             "[{\"from\":\"%s\",\"to\":\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"value\":"
             "\"0x1\"}]",
             addr);
    r = call("eth_estimateGas", req);
    assert_string_equal(json_string_value(result(r)), "0x12c90"); /* 76944 */
    json_decref(r);
    /* unknown sender: its first transaction also carries the public key */
    r = call("eth_estimateGas", "[{\"to\":\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
                                "\"data\":\"0x0001\"}]");
    assert_string_equal(json_string_value(result(r)), "0x1a6a4"); /* 76944+20+31232 */
    json_decref(r);
    snprintf(req, sizeof req,
             "[{\"from\":\"%s\",\"to\":\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"value\":"
             "\"0xffffffffffffffffffffff\"}]",
             addr);
    r = call("eth_estimateGas", req);
    assert_int_equal(code(r), -32000);
    assert_non_null(strstr(message(r), "insufficient funds"));
    json_decref(r);
}

/* eth_call and eth_estimateGas run the EVM over the head state. */
static void test_evm_calls(void **state)
{
    json_t *r;
    const char *msg;
    (void)state;

    r = call("eth_call", "[{\"to\":\"0xc0de000000000000000000000000000000000000\",\"data\":\"0x\"},"
                         "\"latest\"]");
    assert_string_equal(json_string_value(result(r)), "0x");
    json_decref(r);
    r = call("eth_call", "[{\"to\":\"0xc0de010000000000000000000000000000000000\"},\"latest\"]");
    assert_string_equal(json_string_value(result(r)),
                        "0x000000000000000000000000000000000000000000000000000000000000002a");
    json_decref(r);
    /* storage comes from the backend */
    r = call("eth_call", "[{\"to\":\"0xc0de040000000000000000000000000000000000\"},\"latest\"]");
    assert_string_equal(json_string_value(result(r)),
                        "0x000000000000000000000000000000000000000000000000000000000000002a");
    json_decref(r);
    /* EIP-140 revert: code 3, the reason, the data */
    r = call("eth_call", "[{\"to\":\"0xc0de020000000000000000000000000000000000\"},\"latest\"]");
    assert_int_equal(code(r), 3);
    msg = message(r);
    assert_string_equal(msg, "execution reverted: no");
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "data")),
                           "0x08c379a0"));
    json_decref(r);
    /* out of gas, bounded by the call's gas */
    r = call("eth_call",
             "[{\"to\":\"0xc0de030000000000000000000000000000000000\",\"gas\":\"0x186a0\"},"
             "\"latest\"]");
    assert_int_equal(code(r), -32000);
    assert_non_null(strstr(message(r), "out of gas"));
    json_decref(r);
    /* estimates: intrinsic (76944 + 31232 for the public key of an unknown
     * sender) plus the EVM's part, found by search */
    r = call("eth_estimateGas", "[{\"to\":\"0xc0de010000000000000000000000000000000000\"}]");
    {
        uint64_t g = strtoull(json_string_value(result(r)) + 2, NULL, 16);
        assert_true(g > 76944 + 31232 && g < 76944 + 31232 + 100);
    }
    json_decref(r);
    r = call("eth_estimateGas", "[{\"to\":\"0xc0de020000000000000000000000000000000000\"}]");
    assert_int_equal(code(r), 3);
    json_decref(r);
    r = call("eth_estimateGas", "[{\"to\":\"0xc0de030000000000000000000000000000000000\"}]");
    assert_int_equal(code(r), -32000);
    assert_non_null(strstr(message(r), "exceeds allowance"));
    json_decref(r);
    /* a creation: the init code returns 42 as "runtime code" */
    r = call("eth_call", "[{\"data\":\"0x602a60005260206000f3\"}]");
    assert_string_equal(json_string_value(result(r)),
                        "0x000000000000000000000000000000000000000000000000000000000000002a");
    json_decref(r);
    r = call("eth_call", "[{\"to\":\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"},\"latest\"]");
    assert_string_equal(json_string_value(result(r)), "0x");
    json_decref(r);
}

static void test_send_raw(void **state)
{
    struct qcn_tx *tx = fake_tx(&FC, 9, 5, 1);
    char *req;
    size_t n;
    json_t *r;
    struct qcn_buf out;
    (void)state;

    assert_non_null(tx);
    n = 2 * tx->raw_len + 8;
    req = malloc(n + 3);
    req[0] = '[';
    req[1] = '"';
    hex(req + 2, tx->raw, tx->raw_len);
    memcpy(req + 2 + 2 * tx->raw_len + 2, "\"]", 3);
    /* accepted at once */
    FC.submit_async = 0;
    FC.submit_result = QCN_OK;
    r = call("eth_sendRawTransaction", req);
    {
        char want[67];
        hex(want, tx->hash, 32);
        assert_string_equal(json_string_value(result(r)), want);
    }
    json_decref(r);
    /* refused: the mempool's reason */
    FC.submit_result = QCN_ERR_TX_NONCE_LOW;
    r = call("eth_sendRawTransaction", req);
    assert_int_equal(code(r), -32000);
    assert_string_equal(message(r), "nonce too low");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(r, "error"), "data"), "reason")),
                        "QCN_ERR_TX_NONCE_LOW");
    json_decref(r);
    /* deferred: the synchronous form reports busy, then the late answer is
     * dropped without harm */
    FC.submit_async = 1;
    {
        char body[300000];
        snprintf(
            body, sizeof body,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":%s}",
            req);
        qcn_buf_init(&out, 1 << 20);
        assert_int_equal(
            qcn_rpc_handle_sync(RPC, NULL, NULL, 0, (const uint8_t *)body, strlen(body), &out),
            QCN_ERR_BUSY);
        assert_non_null(FC.held_done);
        FC.held_done(FC.held_ctx, QCN_OK, FC.held_hash);
        assert_int_equal(out.len, 0);
        qcn_buf_clear(&out);
    }
    FC.submit_async = 0;
    /* not our envelope type */
    r = call("eth_sendRawTransaction", "[\"0x02f8\"]");
    assert_int_equal(code(r), -32602);
    assert_non_null(strstr(message(r), "type 0x51"));
    json_decref(r);
    free(req);
    qcn_tx_unref(tx);
}

static void test_account_key_and_pool(void **state)
{
    char addr[43], req[128];
    json_t *r, *k;
    (void)state;

    hex(addr, FC.sender, 20);
    snprintf(req, sizeof req, "[\"%s\"]", addr);
    r = call("qcn_getAccountKey", req);
    k = result(r);
    assert_string_equal(json_string_value(json_object_get(k, "name")), "ML-DSA-65");
    assert_int_equal(json_integer_value(json_object_get(k, "threshold")), 1);
    assert_int_equal(json_string_length(json_object_get(k, "publicKey")), 2 + 2 * 1952);
    json_decref(r);
    r = call("qcn_getAccountKey", "[\"0x0000000000000000000000000000000000000001\"]");
    assert_true(json_is_null(result(r)));
    json_decref(r);
    r = call("qcn_mempoolStatus", "[]");
    assert_int_equal(json_integer_value(json_object_get(result(r), "pending")), 1);
    json_decref(r);
}

/* net_status for test_net_peers: mode 0 two peers, 1 a backend error, 2 not
 * an object. */
static int NET_MODE;

static int fake_net_status(void *user, json_t **out)
{
    (void)user;
    if (NET_MODE == 1)
        return QCN_ERR_IO;
    if (NET_MODE == 2) {
        *out = json_integer(7);
        return QCN_OK;
    }
    *out = json_pack("{s:b,s:s,s:i,s:[{s:s},{s:s}]}", "listening", 1, "nodeId",
                     "0x1111111111111111111111111111111111111111", "port", 30303, "peers", "nodeId",
                     "0x2222222222222222222222222222222222222222", "nodeId",
                     "0x3333333333333333333333333333333333333333");
    return *out != NULL ? QCN_OK : QCN_ERR_NOMEM;
}

/* net_peerCount, net_listening and qcn_peers follow the backend's p2p
 * status; without one the node has no peers and is not listening. */
static void test_net_peers(void **state)
{
    struct qcn_rpc *saved = RPC, *net = NULL;
    struct qcn_rpc_config cfg = {0};
    struct qcn_rpc_backend be;
    json_t *r;
    (void)state;

    r = call("net_peerCount", "[]");
    assert_string_equal(json_string_value(result(r)), "0x0");
    json_decref(r);
    r = call("net_listening", "[]");
    assert_true(json_is_false(result(r)));
    json_decref(r);
    r = call("qcn_peers", "[]");
    assert_int_equal(json_array_size(json_object_get(result(r), "peers")), 0);
    assert_true(json_is_null(json_object_get(result(r), "nodeId")));
    json_decref(r);
    r = call("net_peerCount", "[1]");
    assert_int_equal(code(r), QCN_RPC_INVALID_PARAMS);
    json_decref(r);

    fake_backend(&FC, &be);
    be.net_status = fake_net_status;
    cfg.chain_id = FAKE_CHAIN_ID;
    assert_int_equal(qcn_rpc_new(&net, &cfg, &be), QCN_OK);
    RPC = net;
    NET_MODE = 0;
    r = call("net_peerCount", "[]");
    assert_string_equal(json_string_value(result(r)), "0x2");
    json_decref(r);
    r = call("net_listening", "[]");
    assert_true(json_is_true(result(r)));
    json_decref(r);
    r = call("qcn_peers", "[]");
    assert_string_equal(json_string_value(json_object_get(result(r), "nodeId")),
                        "0x1111111111111111111111111111111111111111");
    assert_int_equal(json_array_size(json_object_get(result(r), "peers")), 2);
    json_decref(r);
    NET_MODE = 1;
    r = call("net_peerCount", "[]");
    assert_int_equal(code(r), QCN_RPC_SERVER_ERROR);
    assert_non_null(strstr(message(r), qcn_err_str(QCN_ERR_IO)));
    json_decref(r);
    NET_MODE = 2;
    r = call("net_listening", "[]");
    assert_int_equal(code(r), QCN_RPC_INTERNAL_ERROR);
    json_decref(r);
    RPC = saved;
    qcn_rpc_free(net);
}

/* A committed block: counted in the metrics, logs fanned out to filters. */
static void test_notify_block(void **state)
{
    struct qcn_metric *txs;
    char id[40], req[128];
    json_t *r;
    (void)state;

    r = call("eth_newFilter", "[{\"address\":\"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}]");
    snprintf(id, sizeof id, "%s", json_string_value(result(r)));
    json_decref(r);
    assert_int_equal(qcn_metrics_counter_register(qcn_rpc_metrics(RPC), &txs,
                                                  "qcn_txs_committed_total", "", NULL),
                     QCN_OK);
    assert_true(qcn_metrics_value(txs) == 0.0);
    qcn_rpc_notify_block(RPC, &FC.blocks[1], NULL); /* receipts read through the backend */
    qcn_rpc_notify_block(RPC, &FC.blocks[2], FC.receipts[2]);
    assert_true(qcn_metrics_value(txs) == 3.0);
    snprintf(req, sizeof req, "[\"%s\"]", id);
    r = call("eth_getFilterChanges", req);
    assert_int_equal(json_array_size(result(r)), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(result(r), 0), "blockNumber")), "0x1");
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_strict),
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_transactions_and_receipts),
        cmocka_unit_test(test_logs),
        cmocka_unit_test(test_fees_and_estimates),
        cmocka_unit_test(test_evm_calls),
        cmocka_unit_test(test_send_raw),
        cmocka_unit_test(test_account_key_and_pool),
        cmocka_unit_test(test_net_peers),
        cmocka_unit_test(test_notify_block),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
