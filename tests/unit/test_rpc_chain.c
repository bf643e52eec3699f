/* rpc/chain_backend: the RPC over a real LMDB store, chain and mempool, as the
 * node wires it: genesis, a signed transfer submitted through
 * eth_sendRawTransaction, a block built and committed, then every read
 * through the dispatcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "chain/chain.h"
#include "chain/mempool.h"
#include "crypto/keccak.h"
#include "crypto/mldsa.h"
#include "rpc/chain_backend.h"
#include "rpc/rpc.h"
#include "state/mpt.h"
#include "store/store.h"
#include "util/hex.h"

#define CHAIN_ID 4242
#define FUNDS 1000000000000000000ull

struct env {
    char dir[64];
    struct qcn_store *store;
    struct qcn_store_rd rd;
    struct qcn_state_reader sr;
    struct qcn_chain *chain;
    struct qcn_mempool *mp;
    struct qcn_rpc_chain_src src;
    struct qcn_rpc *rpc;
    uint8_t pk[QCN_MLDSA65_PK_BYTES], sk[QCN_MLDSA65_SK_BYTES];
    uint8_t addr[QCN_ADDRESS_BYTES], to[QCN_ADDRESS_BYTES];
};

static struct env E;

static void commit_writes(const struct qcn_writeset *ws)
{
    struct qcn_store_write *w = calloc(ws->n, sizeof *w);
    assert_non_null(w);
    for (size_t i = 0; i < ws->n; i++) {
        w[i].table = ws->w[i].table;
        w[i].del = ws->w[i].del;
        w[i].klen = ws->w[i].klen;
        w[i].vlen = ws->w[i].vlen;
        w[i].key = ws->w[i].key;
        w[i].val = ws->w[i].val;
    }
    qcn_store_rd_release(&E.rd); /* an open snapshot would stop map growth */
    assert_int_equal(qcn_store_write_commit(E.store, w, ws->n), QCN_OK);
    free(w);
}

/* The node's submit: prepare + verify + admit (synchronously here). */
static int submit(void *user, const uint8_t *raw, size_t len,
                  void (*done)(void *, int, const uint8_t *), void *ctx)
{
    struct qcn_tx *tx = NULL;
    uint8_t zero[QCN_HASH_BYTES] = {0};
    int err = qcn_tx_decode(&tx, qcn_view_make(raw, len));
    (void)user;
    if (err != QCN_OK) {
        done(ctx, err, zero);
        return err;
    }
    qcn_mempool_submit(E.mp, E.chain, NULL, &tx, 1, &err, 1000);
    done(ctx, err, tx->hash);
    qcn_tx_unref(tx);
    return err;
}

static char *signed_transfer(uint64_t nonce, uint64_t value, int with_pk)
{
    struct qcn_tx_fields f;
    struct qcn_tx_sig sig;
    struct qcn_buf b;
    static uint8_t s[QCN_MLDSA65_SIG_BYTES];
    uint8_t h[QCN_HASH_BYTES];
    char *hexs;

    memset(&f, 0, sizeof f);
    f.chain_id = CHAIN_ID;
    f.nonce = nonce;
    f.max_priority_fee = 2;
    f.max_fee = 2000000000;
    f.gas_limit = 200000;
    memcpy(f.from, E.addr, QCN_ADDRESS_BYTES);
    f.has_to = 1;
    memcpy(f.to, E.to, QCN_ADDRESS_BYTES);
    f.value = qcn_u256_from_u64(value);
    f.scheme = QCN_SCHEME_MLDSA65;
    assert_int_equal(qcn_tx_sighash(h, &f), QCN_OK);
    assert_int_equal(qcn_tx_sign_hash(s, QCN_SCHEME_MLDSA65, E.sk, h, 1), QCN_OK);
    sig.key_index = 0;
    sig.sig = qcn_view_make(s, sizeof s);
    qcn_buf_init(&b, QCN_TX_MAX_BYTES);
    assert_int_equal(
        qcn_tx_encode(&b, &f, with_pk ? qcn_view_make(E.pk, sizeof E.pk) : qcn_view_make(NULL, 0),
                      &sig, 1),
        QCN_OK);
    hexs = malloc(2 * b.len + 3);
    hexs[0] = '0';
    hexs[1] = 'x';
    qcn_hex_encode(hexs + 2, b.p, b.len);
    qcn_buf_clear(&b);
    return hexs;
}

static json_t *call(const char *method, const char *params)
{
    size_t cap = strlen(params) + 128;
    char *req = malloc(cap);
    struct qcn_buf out;
    json_t *j;
    snprintf(req, cap, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method,
             params);
    qcn_buf_init(&out, 1 << 24);
    assert_int_equal(
        qcn_rpc_handle_sync(E.rpc, NULL, NULL, 0, (const uint8_t *)req, strlen(req), &out), QCN_OK);
    j = json_loadb((const char *)out.p, out.len, 0, NULL);
    assert_non_null(j);
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

static int setup(void **state)
{
    struct qcn_store_opts opts = {0};
    struct qcn_genesis g;
    struct qcn_block_result res;
    struct qcn_mempool_config mc;
    struct qcn_rpc_backend be;
    struct qcn_rpc_config cfg = {0};
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    (void)state;

    memset(&E, 0, sizeof E);
    snprintf(E.dir, sizeof E.dir, "/tmp/qcn-rpc-chain-XXXXXX");
    if (mkdtemp(E.dir) == NULL)
        return -1;
    opts.create = 1;
    if (qcn_store_open(&E.store, E.dir, &opts) != QCN_OK)
        return -1;
    memset(seed, 3, sizeof seed);
    if (qcn_mldsa_keygen(qcn_scheme_param(QCN_SCHEME_MLDSA65), E.pk, E.sk, seed) != QCN_OK)
        return -1;
    qcn_address_from_key(E.addr, QCN_SCHEME_MLDSA65, E.pk, sizeof E.pk);
    memset(E.to, 0x77, sizeof E.to);

    memset(&g, 0, sizeof g);
    g.params.chain_id = CHAIN_ID;
    g.params.block_gas_limit = 30000000;
    g.params.initial_base_fee = 1000;
    g.params.min_base_fee = 7;
    g.timestamp = 1700000000;
    g.alloc = calloc(1, sizeof *g.alloc);
    g.nalloc = 1;
    memcpy(g.alloc[0].address, E.addr, QCN_ADDRESS_BYTES);
    g.alloc[0].balance = qcn_u256_from_u64(FUNDS);
    if (qcn_genesis_build(&g, &res) != QCN_OK)
        return -1;
    qcn_store_rd_init(&E.rd, E.store);
    E.sr.ctx = &E.rd;
    E.sr.get = qcn_store_rd_get;
    commit_writes(&res.writes);
    if (qcn_chain_open(&E.chain, &g.params, &E.sr, &res.block.header) != QCN_OK)
        return -1;
    qcn_block_result_clear(&res);
    qcn_genesis_clear(&g);
    qcn_mempool_config_default(&mc);
    if (qcn_mempool_new(&E.mp, &mc) != QCN_OK)
        return -1;

    E.src.store = E.store;
    E.src.chain = E.chain;
    E.src.mempool = E.mp;
    E.src.submit_tx = submit;
    qcn_rpc_chain_backend(&be, &E.src);
    cfg.chain_id = CHAIN_ID;
    return qcn_rpc_new(&E.rpc, &cfg, &be) == QCN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char path[128];
    (void)state;
    qcn_rpc_free(E.rpc);
    qcn_mempool_free(E.mp);
    qcn_chain_free(E.chain);
    qcn_store_rd_release(&E.rd);
    qcn_store_close(E.store);
    snprintf(path, sizeof path, "%s/data.mdb", E.dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", E.dir);
    unlink(path);
    rmdir(E.dir);
    return 0;
}

static void test_transfer_through_rpc(void **state)
{
    struct qcn_build_args a;
    struct qcn_block_result res;
    char addr[43], to[43], req[512], txh[67], *raw, *body;
    json_t *r, *b;
    (void)state;

    addr[0] = to[0] = '0';
    addr[1] = to[1] = 'x';
    qcn_hex_encode(addr + 2, E.addr, 20);
    qcn_hex_encode(to + 2, E.to, 20);

    r = call("eth_blockNumber", "[]");
    assert_string_equal(json_string_value(result(r)), "0x0");
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"latest\"]", addr);
    r = call("eth_getBalance", req);
    assert_string_equal(json_string_value(result(r)), "0xde0b6b3a7640000");
    json_decref(r);
    r = call("qcn_getAccountKey", req);
    assert_true(json_is_null(result(r))); /* no transaction yet: no recorded key */
    json_decref(r);

    /* submit through eth_sendRawTransaction */
    raw = signed_transfer(0, 12345, 1);
    body = malloc(strlen(raw) + 8);
    snprintf(body, strlen(raw) + 8, "[\"%s\"]", raw);
    r = call("eth_sendRawTransaction", body);
    snprintf(txh, sizeof txh, "%s", json_string_value(result(r)));
    json_decref(r);
    r = call("qcn_mempoolStatus", "[]");
    assert_int_equal(json_integer_value(json_object_get(result(r), "pending")), 1);
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"pending\"]", addr);
    r = call("eth_getTransactionCount", req);
    assert_string_equal(json_string_value(result(r)), "0x1");
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\"]", txh);
    r = call("eth_getTransactionByHash", req);
    assert_true(json_is_null(json_object_get(result(r), "blockNumber")));
    json_decref(r);
    /* the same transaction again: the mempool's reason */
    r = call("eth_sendRawTransaction", body);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
                     -32000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                        "transaction already known");
    json_decref(r);
    free(body);
    free(raw);

    /* the node builds and commits a block */
    memset(&a, 0, sizeof a);
    a.timestamp = 1700000005;
    memset(a.proposer, 0xee, sizeof a.proposer);
    assert_int_equal(qcn_chain_block_build(E.chain, E.mp, &a, &res), QCN_OK);
    assert_int_equal(res.block.ntx, 1);
    commit_writes(&res.writes);
    qcn_chain_block_commit_done(E.chain, &res, E.mp);
    qcn_block_result_clear(&res);

    r = call("eth_blockNumber", "[]");
    assert_string_equal(json_string_value(result(r)), "0x1");
    json_decref(r);
    r = call("eth_getBlockByNumber", "[\"latest\",true]");
    b = result(r);
    assert_int_equal(json_array_size(json_object_get(b, "transactions")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(b, "transactions"), 0), "hash")),
                        txh);
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\"]", txh);
    r = call("eth_getTransactionReceipt", req);
    b = result(r);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "0x1");
    assert_string_equal(json_string_value(json_object_get(b, "blockNumber")), "0x1");
    assert_string_equal(json_string_value(json_object_get(b, "to")), to);
    json_decref(r);
    r = call("eth_getTransactionByHash", req);
    assert_string_equal(json_string_value(json_object_get(result(r), "blockNumber")), "0x1");
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"latest\"]", to);
    r = call("eth_getBalance", req);
    assert_string_equal(json_string_value(result(r)), "0x3039");
    json_decref(r);
    snprintf(req, sizeof req, "[\"%s\",\"latest\"]", addr);
    r = call("eth_getTransactionCount", req);
    assert_string_equal(json_string_value(result(r)), "0x1");
    json_decref(r);
    /* the first transaction recorded the sender's key */
    r = call("qcn_getAccountKey", req);
    assert_string_equal(json_string_value(json_object_get(result(r), "name")), "ML-DSA-65");
    json_decref(r);
    r = call("eth_getBlockReceipts", "[\"0x1\"]");
    assert_int_equal(json_array_size(result(r)), 1);
    json_decref(r);
    r = call("eth_getBlockByNumber", "[\"0x0\",false]");
    assert_string_equal(json_string_value(json_object_get(result(r), "number")), "0x0");
    json_decref(r);
    /* EIP-1186 proof of the sender, checked here against the block's state root */
    {
        json_t *blk = call("eth_getBlockByNumber", "[\"latest\",false]"), *proof, *nodes;
        struct qcn_view views[QCN_MPT_MAX_PROOF_NODES], leaf;
        uint8_t root[32], key[32], *bufs[QCN_MPT_MAX_PROOF_NODES];
        size_t count, len;
        int found = 0;

        assert_int_equal(
            qcn_hex_decode_exact(root, 32,
                                 json_string_value(json_object_get(result(blk), "stateRoot"))),
            QCN_OK);
        json_decref(blk);
        snprintf(req, sizeof req, "[\"%s\",[\"0x0\"],\"latest\"]", addr);
        r = call("eth_getProof", req);
        proof = result(r);
        assert_string_equal(json_string_value(json_object_get(proof, "nonce")), "0x1");
        assert_int_equal(json_array_size(json_object_get(proof, "storageProof")), 1);
        nodes = json_object_get(proof, "accountProof");
        count = json_array_size(nodes);
        assert_true(count > 0 && count <= QCN_MPT_MAX_PROOF_NODES);
        for (size_t i = 0; i < count; i++) {
            const char *hx = json_string_value(json_array_get(nodes, i));
            bufs[i] = malloc(strlen(hx) / 2);
            assert_int_equal(qcn_hex_decode(bufs[i], strlen(hx) / 2, &len, hx, strlen(hx)), QCN_OK);
            views[i] = qcn_view_make(bufs[i], len);
        }
        qcn_keccak256(key, E.addr, 20);
        assert_int_equal(qcn_mpt_verify_proof(&found, &leaf, root, key, 32, views, count), QCN_OK);
        assert_true(found);
        /* a proof against another root fails */
        root[0] ^= 1;
        assert_int_equal(qcn_mpt_verify_proof(&found, &leaf, root, key, 32, views, count),
                         QCN_ERR_STATE_PROOF);
        for (size_t i = 0; i < count; i++)
            free(bufs[i]);
        json_decref(r);
    }
    /* a stale nonce now */
    raw = signed_transfer(0, 1, 0);
    body = malloc(strlen(raw) + 8);
    snprintf(body, strlen(raw) + 8, "[\"%s\"]", raw);
    r = call("eth_sendRawTransaction", body);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                        "nonce too low");
    json_decref(r);
    free(body);
    free(raw);
}

/* The one-object service the node starts: address parsing, a real listener
 * on the loop, and the two-step shutdown leaving the loop empty. */
static void test_service_lifecycle(void **state)
{
    struct qcn_rpc_service *svc = NULL;
    uv_loop_t loop;
    char token[96];
    (void)state;

    snprintf(token, sizeof token, "%s/rpc.token", E.dir);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(qcn_rpc_service_start(&svc, &loop, "localhost", token, CHAIN_ID, &E.src, NULL),
                     QCN_ERR_CONFIG);
    assert_int_equal(
        qcn_rpc_service_start(&svc, &loop, "127.0.0.1:99999", token, CHAIN_ID, &E.src, NULL),
        QCN_ERR_CONFIG);
    assert_int_equal(qcn_rpc_service_start(&svc, &loop, ":8545", token, CHAIN_ID, &E.src, NULL),
                     QCN_ERR_CONFIG);
    assert_null(svc);
    assert_int_equal(
        qcn_rpc_service_start(&svc, &loop, "127.0.0.1:0", token, CHAIN_ID, &E.src, NULL), QCN_OK);
    assert_true(qcn_rpc_service_port(svc) > 0);
    assert_non_null(qcn_rpc_service_rpc(svc));
    /* a missing token file was created with a fresh token, mode 0600 */
    {
        struct stat st;
        assert_int_equal(stat(token, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_true(st.st_size >= 64);
    }
    qcn_rpc_service_stop(svc);
    uv_run(&loop, UV_RUN_DEFAULT);
    qcn_rpc_service_free(svc);
    assert_int_equal(uv_loop_close(&loop), 0);
    unlink(token);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_through_rpc),
        cmocka_unit_test(test_service_lifecycle),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
