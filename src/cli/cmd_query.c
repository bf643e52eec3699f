/* qcn query - read the chain through a node's JSON-RPC API (docs/wallet.md):
 * balance, nonce, account, block, tx, receipt, head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/hex.h"
#include "wallet/address.h"
#include "wallet/amount.h"
#include "wallet/cli_util.h"

static const char usage[] =
    "usage: qcn query <what> [options]\n"
    "  balance NAME|ADDR        balance in QCN and wei\n"
    "  nonce NAME|ADDR          confirmed and pending nonce\n"
    "  account NAME|ADDR        balance, nonce, code size, recorded key(s)\n"
    "  block [N|latest|HASH]    a block (--full: with transactions)\n"
    "  tx HASH                  a transaction\n"
    "  receipt HASH             a transaction's receipt\n"
    "  head                     chain id and head block\n"
    "options: --rpc URL (default http://127.0.0.1:8545), --json, --keystore DIR (names)\n";

struct qctx {
    struct qcn_wargs a;
    struct qcn_rpc_client *c;
    char dir[QCN_KEYSTORE_PATH_MAX];
    int json;
};

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "-";
}

/* An address from the node's JSON (lower case) in its checksummed form. */
static const char *addr_of(char out[QCN_ADDRESS_TEXT_BYTES], const json_t *o, const char *k)
{
    uint8_t a[QCN_ADDRESS_BYTES];
    const char *s = json_string_value(json_object_get(o, k));
    if (s == NULL || qcn_address_from_text(a, s) != QCN_OK)
        return s != NULL ? s : "-";
    qcn_address_to_text(out, a);
    return out;
}

static unsigned long long qty(const json_t *o, const char *k)
{
    uint64_t v;
    return qcn_json_quantity_u64(&v, json_object_get(o, k)) == QCN_OK ? (unsigned long long)v : 0;
}

static void coins_of(char *out, size_t cap, const json_t *v)
{
    struct qcn_u256 u;
    if (!json_is_string(v) || qcn_u256_from_hex(&u, json_string_value(v)) != QCN_OK)
        snprintf(out, cap, "-");
    else
        qcn_wcli_coins(out, cap, &u);
}

static int call(struct qctx *x, json_t **r, const char *method, json_t *params)
{
    int err = qcn_rpc_client_call(x->c, r, method, params);
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(&x->a, x->c, err, method);
    return 0;
}

static int who(struct qctx *x, uint8_t addr[QCN_ADDRESS_BYTES], char at[QCN_ADDRESS_TEXT_BYTES])
{
    int rc;
    if (x->a.npos != 2)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn query %s NAME|ADDRESS",
                              x->a.pos[0]);
    if ((rc = qcn_wcli_resolve(&x->a, x->dir, x->a.pos[1], addr)) != 0)
        return rc;
    qcn_address_to_text(at, addr);
    return 0;
}

static int q_balance(struct qctx *x)
{
    uint8_t addr[QCN_ADDRESS_BYTES];
    char at[QCN_ADDRESS_TEXT_BYTES], dec[QCN_AMOUNT_TEXT_BYTES], coins[QCN_AMOUNT_TEXT_BYTES];
    struct qcn_u256 bal;
    int rc, err;

    if ((rc = who(x, addr, at)) != 0)
        return rc;
    err = qcn_rpc_client_u256(x->c, &bal, "eth_getBalance",
                              json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "latest"));
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(&x->a, x->c, err, "eth_getBalance");
    qcn_u256_format_dec(dec, &bal);
    qcn_amount_format(coins, &bal);
    if (x->json)
        return qcn_wcli_print_json(
            json_pack("{s:s,s:s,s:s}", "address", at, "balanceWei", dec, "balance", coins));
    printf("%s QCN (%s wei)\n", coins, dec);
    return 0;
}

static int q_nonce(struct qctx *x)
{
    uint8_t addr[QCN_ADDRESS_BYTES];
    char at[QCN_ADDRESS_TEXT_BYTES];
    uint64_t n, p;
    int rc, err;

    if ((rc = who(x, addr, at)) != 0)
        return rc;
    err = qcn_rpc_client_u64(x->c, &n, "eth_getTransactionCount",
                             json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "latest"));
    if (err == QCN_OK)
        err = qcn_rpc_client_u64(x->c, &p, "eth_getTransactionCount",
                                 json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "pending"));
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(&x->a, x->c, err, "eth_getTransactionCount");
    if (x->json)
        return qcn_wcli_print_json(json_pack("{s:s,s:I,s:I}", "address", at, "nonce", (json_int_t)n,
                                             "pending", (json_int_t)p));
    printf("nonce %llu (pending %llu)\n", (unsigned long long)n, (unsigned long long)p);
    return 0;
}

static int q_account(struct qctx *x)
{
    uint8_t addr[QCN_ADDRESS_BYTES];
    char at[QCN_ADDRESS_TEXT_BYTES], dec[QCN_AMOUNT_TEXT_BYTES], coins[QCN_AMOUNT_TEXT_BYTES];
    struct qcn_u256 bal;
    uint64_t nonce;
    json_t *code = NULL, *key = NULL;
    size_t codelen;
    int rc, err;

    if ((rc = who(x, addr, at)) != 0)
        return rc;
    err = qcn_rpc_client_u256(x->c, &bal, "eth_getBalance",
                              json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "latest"));
    if (err == QCN_OK)
        err = qcn_rpc_client_u64(x->c, &nonce, "eth_getTransactionCount",
                                 json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "latest"));
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(&x->a, x->c, err, "account");
    if ((rc = call(x, &code, "eth_getCode",
                   json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "latest"))) != 0)
        return rc;
    if ((rc = call(x, &key, "qcn_getAccountKey",
                   json_pack("[o,s]", qcn_json_hex(addr, sizeof addr), "latest"))) != 0) {
        json_decref(code);
        return rc;
    }
    codelen = json_is_string(code) && strlen(json_string_value(code)) >= 2
                  ? (strlen(json_string_value(code)) - 2) / 2
                  : 0;
    qcn_u256_format_dec(dec, &bal);
    qcn_amount_format(coins, &bal);
    if (x->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:O}", "address", at, "balanceWei", dec,
                              "balance", coins, "nonce", (json_int_t)nonce, "codeSize",
                              (json_int_t)codelen, "key", key);
        json_decref(code);
        json_decref(key);
        return qcn_wcli_print_json(o);
    }
    printf("address  %s\nbalance  %s QCN (%s wei)\nnonce    %llu\ncode     %zu bytes\n", at, coins,
           dec, (unsigned long long)nonce, codelen);
    if (json_is_null(key))
        printf("key      none recorded (the first transaction records it)\n");
    else {
        json_t *keys = json_object_get(key, "keys");
        size_t i;
        if (json_integer_value(json_object_get(key, "scheme")) == 0x80)
            printf("key      multisig %lld of %zu\n",
                   (long long)json_integer_value(json_object_get(key, "threshold")),
                   json_array_size(keys));
        for (i = 0; i < json_array_size(keys); i++) {
            const char *pk = str(json_array_get(keys, i), "publicKey");
            printf("  [%zu]    %s %.18s...\n", i, str(json_array_get(keys, i), "name"), pk);
        }
        printf("keyHash  %s\n", str(key, "keyHash"));
    }
    json_decref(code);
    json_decref(key);
    return 0;
}

static int q_head(struct qctx *x)
{
    json_t *b = NULL;
    uint64_t chain;
    int rc, err = qcn_rpc_client_u64(x->c, &chain, "eth_chainId", NULL);
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(&x->a, x->c, err, "eth_chainId");
    if (x->a.npos != 1)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn query head");
    if ((rc = call(x, &b, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0))) != 0)
        return rc;
    if (x->json) {
        json_t *o =
            json_pack("{s:I,s:I,s:s,s:I,s:s}", "chainId", (json_int_t)chain, "number",
                      (json_int_t)qty(b, "number"), "hash", str(b, "hash"), "timestamp",
                      (json_int_t)qty(b, "timestamp"), "baseFeePerGas", str(b, "baseFeePerGas"));
        json_decref(b);
        return qcn_wcli_print_json(o);
    }
    printf("chain id %llu\nhead     %llu %s\ntime     %llu\nbase fee %llu wei/gas\n",
           (unsigned long long)chain, qty(b, "number"), str(b, "hash"), qty(b, "timestamp"),
           qty(b, "baseFeePerGas"));
    json_decref(b);
    return 0;
}

static int q_block(struct qctx *x)
{
    const char *id = x->a.npos >= 2 ? x->a.pos[1] : "latest";
    int full = qcn_wargs_flag(&x->a, "full"), rc;
    json_t *b = NULL, *params;
    char num[24], miner[QCN_ADDRESS_TEXT_BYTES];

    if (x->a.npos > 2)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn query block [N|latest|HASH]");
    if ((strncmp(id, "0x", 2) == 0 && strlen(id) == 66))
        params = json_pack("[s,b]", id, full);
    else if (strcmp(id, "latest") == 0 || strcmp(id, "earliest") == 0 ||
             strcmp(id, "pending") == 0 || strcmp(id, "finalized") == 0)
        params = json_pack("[s,b]", id, full);
    else {
        struct qcn_u256 n;
        if (qcn_amount_parse_wei(&n, id) != QCN_OK || n.w[1] || n.w[2] || n.w[3])
            return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                                  "'%s' is not a block number, tag or 32-byte hash", id);
        snprintf(num, sizeof num, "0x%llx", (unsigned long long)n.w[0]);
        params = json_pack("[s,b]", num, full);
    }
    if ((rc = call(x, &b, strlen(id) == 66 ? "eth_getBlockByHash" : "eth_getBlockByNumber",
                   params)) != 0)
        return rc;
    if (json_is_null(b)) {
        json_decref(b);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO, "no block %s", id);
    }
    if (x->json)
        return qcn_wcli_print_json(b);
    printf("block     %llu\nhash      %s\nparent    %s\ntime      %llu\nproposer  %s\n"
           "txs       %zu\ngas       %llu of %llu\nbase fee  %llu wei/gas\nstate     %s\n",
           qty(b, "number"), str(b, "hash"), str(b, "parentHash"), qty(b, "timestamp"),
           addr_of(miner, b, "miner"), json_array_size(json_object_get(b, "transactions")),
           qty(b, "gasUsed"), qty(b, "gasLimit"), qty(b, "baseFeePerGas"), str(b, "stateRoot"));
    if (!full) {
        json_t *txs = json_object_get(b, "transactions");
        size_t i;
        for (i = 0; i < json_array_size(txs); i++)
            printf("  %s\n", json_string_value(json_array_get(txs, i)) != NULL
                                 ? json_string_value(json_array_get(txs, i))
                                 : "-");
    }
    json_decref(b);
    return 0;
}

static int hash_arg(struct qctx *x)
{
    uint8_t h[QCN_HASH_BYTES];
    if (x->a.npos != 2 || strncmp(x->a.pos[1], "0x", 2) != 0 ||
        qcn_hex_decode_exact(h, sizeof h, x->a.pos[1]) != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "usage: qcn query %s 0xHASH (32 bytes, 64 hex digits)", x->a.pos[0]);
    return 0;
}

static int q_tx(struct qctx *x)
{
    char coins[QCN_AMOUNT_TEXT_BYTES + 8], fa[QCN_ADDRESS_TEXT_BYTES], ta[QCN_ADDRESS_TEXT_BYTES];
    char block[24];
    json_t *t = NULL;
    int rc;
    if ((rc = hash_arg(x)) != 0 ||
        (rc = call(x, &t, "eth_getTransactionByHash", json_pack("[s]", x->a.pos[1]))) != 0)
        return rc;
    if (json_is_null(t)) {
        json_decref(t);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO, "no transaction %s", x->a.pos[1]);
    }
    if (x->json)
        return qcn_wcli_print_json(t);
    coins_of(coins, sizeof coins, json_object_get(t, "value"));
    if (json_is_null(json_object_get(t, "blockNumber")))
        snprintf(block, sizeof block, "pending");
    else
        snprintf(block, sizeof block, "%llu", qty(t, "blockNumber"));
    printf("hash      %s\nfrom      %s\nto        %s\nvalue     %s\nnonce     %llu\n"
           "block     %s\ngas limit %llu\nmax fee   %llu wei/gas (tip %llu)\nscheme    %llu\n",
           str(t, "hash"), addr_of(fa, t, "from"), addr_of(ta, t, "to"), coins, qty(t, "nonce"),
           block, qty(t, "gas"), qty(t, "maxFeePerGas"), qty(t, "maxPriorityFeePerGas"),
           qty(t, "scheme"));
    json_decref(t);
    return 0;
}

static int q_receipt(struct qctx *x)
{
    json_t *r = NULL;
    struct qcn_u256 fee;
    char coins[QCN_AMOUNT_TEXT_BYTES + 8];
    int rc;
    if ((rc = hash_arg(x)) != 0 ||
        (rc = call(x, &r, "eth_getTransactionReceipt", json_pack("[s]", x->a.pos[1]))) != 0)
        return rc;
    if (json_is_null(r)) {
        json_decref(r);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO,
                              "no receipt for %s (unknown, or not included yet)", x->a.pos[1]);
    }
    if (x->json)
        return qcn_wcli_print_json(r);
    fee = qcn_u256_mul_u64_u64(qty(r, "gasUsed"), qty(r, "effectiveGasPrice"));
    qcn_wcli_coins(coins, sizeof coins, &fee);
    printf("tx        %s\nstatus    %s\nblock     %llu %s\ngas used  %llu\nprice     %llu "
           "wei/gas\nfee       %s\n",
           str(r, "transactionHash"), qty(r, "status") == 1 ? "success (1)" : "failed (0)",
           qty(r, "blockNumber"), str(r, "blockHash"), qty(r, "gasUsed"),
           qty(r, "effectiveGasPrice"), coins);
    json_decref(r);
    return 0;
}

int qcn_cmd_query(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(struct qctx *);
    } subs[] = {{"balance", q_balance}, {"nonce", q_nonce}, {"account", q_account},
                {"block", q_block},     {"tx", q_tx},       {"receipt", q_receipt},
                {"head", q_head}};
    struct qctx x;
    size_t i;
    int rc;

    memset(&x, 0, sizeof x);
    if ((rc = qcn_wcli_begin(&x.a, "query", usage, argc, argv, &x.json)) >= 0)
        return rc;
    for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        if ((rc = qcn_wcli_keystore_dir(&x.a, x.dir, sizeof x.dir)) != 0 ||
            (rc = qcn_wcli_rpc(&x.a, &x.c)) != 0)
            return rc;
        (void)qcn_wargs_flag(&x.a, "full");
        rc = qcn_wargs_check(&x.a);
        if (rc == 0)
            rc = subs[i].run(&x);
        qcn_rpc_client_free(x.c);
        return rc;
    }
    return qcn_cli_usage_error("query", "unknown query '%s' (see qcn query --help)", argv[1]);
}
