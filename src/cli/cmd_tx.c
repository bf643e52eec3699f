/* qcn tx - transfers and the offline flow (docs/wallet.md): send, build,
 * sign, submit, wait; contracts (docs/contracts.md): deploy, call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/chain.h"
#include "cli/cli.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "util/hex.h"
#include "wallet/address.h"
#include "wallet/amount.h"
#include "wallet/cli_util.h"
#include "wallet/keystore.h"
#include "wallet/txfile.h"

static const char usage[] =
    "usage: qcn tx <command> [options]\n"
    "  send --from NAME --to NAME|ADDR --value 1.5 [--wait]    sign and send a transfer\n"
    "  build --from NAME|ADDR --to NAME|ADDR --value X --out FILE    unsigned transaction file\n"
    "  sign FILE --from NAME [--out FILE2]                     sign it (no node needed)\n"
    "  submit FILE [--wait]                                    broadcast a signed file\n"
    "  wait 0xHASH [--timeout S]                               wait for the receipt\n"
    "  deploy --from NAME --bytecode FILE [--args 0xHEX] [--value X] [--wait]\n"
    "                        create a contract: FILE holds the init code as hex (solc --bin);\n"
    "                        --args: ABI-encoded constructor arguments, appended\n"
    "  call --to ADDR --data 0xHEX [--from NAME|ADDR] [--value X]   eth_call; prints the result\n"
    "amounts: --value COINS (18 decimals, exact) or --value-wei WEI; --data 0xHEX\n"
    "fees (wei per gas, from the node unless given): --max-fee N --tip N; --gas-limit N;\n"
    "  --nonce N; --chain-id N (build: all four given = no node needed)\n"
    "options: --rpc URL, --keystore DIR, --password-file FILE (or QCN_PASSWORD), --json,\n"
    "  --timeout S (wait, default 60), --force (send with a key the chain does not record)\n";

struct tctx {
    struct qcn_wargs a;
    char dir[QCN_KEYSTORE_PATH_MAX];
    int json;
};

/* --to, --value / --value-wei, --data into t. */
static int fill_payload(struct tctx *x, struct qcn_txfile *t)
{
    const char *to = qcn_wargs_get(&x->a, "to"), *v = qcn_wargs_get(&x->a, "value");
    const char *vw = qcn_wargs_get(&x->a, "value-wei"), *data = qcn_wargs_get(&x->a, "data");
    uint8_t *buf;
    size_t n = 0;
    int rc, err;

    if (to == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "--to NAME|ADDRESS is required");
    if ((rc = qcn_wcli_resolve(&x->a, x->dir, to, t->f.to)) != 0)
        return rc;
    t->f.has_to = 1;
    if ((v != NULL) + (vw != NULL) != 1)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "give exactly one of --value COINS and "
                              "--value-wei WEI");
    err = v != NULL ? qcn_amount_parse(&t->f.value, v) : qcn_amount_parse_wei(&t->f.value, vw);
    if (err == QCN_ERR_OVERFLOW)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "amount '%s' exceeds 2^256-1 wei",
                              v != NULL ? v : vw);
    if (err != QCN_OK)
        return qcn_wcli_error(
            &x->a, QCN_WCLI_EXIT_USAGE, "%s '%s': %s", v != NULL ? "--value" : "--value-wei",
            v != NULL ? v : vw,
            v != NULL ? "expected a plain decimal number of coins with at most 18 decimals "
                        "(like 1.5; no sign, exponent or spaces)"
                      : "expected a decimal or 0x-hex number of wei");
    if (data != NULL) {
        buf = malloc(QCN_TX_MAX_DATA);
        if (buf == NULL)
            return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
        err = strncmp(data, "0x", 2) == 0
                  ? qcn_hex_decode(buf, QCN_TX_MAX_DATA, &n, data, strlen(data))
                  : QCN_ERR_BAD_HEX;
        if (err == QCN_OK)
            err = qcn_txfile_set_data(t, buf, n);
        free(buf);
        if (err != QCN_OK)
            return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                                  "--data: expected 0x-hex of at most %u bytes", QCN_TX_MAX_DATA);
    }
    return 0;
}

/* After a successful submission: print the hash, wait if asked. */
static int finish(struct tctx *x, struct qcn_rpc_client *c, const struct qcn_txfile *t,
                  const uint8_t hash[QCN_HASH_BYTES])
{
    char hx[QCN_WCLI_HASH_TEXT_BYTES], from[QCN_ADDRESS_TEXT_BYTES];
    json_t *receipt = NULL, *o;
    int rc = 0, ok = 1, wait = qcn_wargs_flag(&x->a, "wait");
    uint64_t st = 0;

    qcn_wcli_hash_hex(hx, hash);
    qcn_address_to_text(from, t->f.from);
    if (!x->json)
        printf("%s\n", hx);
    fflush(stdout);
    if (wait) {
        rc = qcn_wcli_wait(&x->a, c, hash, &receipt);
        if (rc == 0) {
            if (qcn_json_quantity_u64(&st, json_object_get(receipt, "status")) != QCN_OK)
                st = 0;
            ok = st == 1;
            if (!x->json)
                printf("status %s\n", ok ? "success" : "failed (0)");
            if (!ok)
                rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO,
                                    "transaction %s was included but failed (status 0)", hx);
        }
    }
    if (x->json) {
        o = json_pack("{s:s,s:s,s:I}", "hash", hx, "from", from, "nonce", (json_int_t)t->f.nonce);
        if (receipt != NULL)
            json_object_set(o, "receipt", receipt);
        qcn_wcli_print_json(o);
    }
    json_decref(receipt);
    return rc;
}

static int cmd_send(struct tctx *x)
{
    const char *from = qcn_wargs_get(&x->a, "from");
    struct qcn_wallet_key *k = NULL;
    struct qcn_rpc_client *c = NULL;
    struct qcn_txfile *t = qcn_txfile_new();
    uint8_t hash[QCN_HASH_BYTES];
    int rc;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (from == NULL || x->a.npos != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn tx send --from NAME --to NAME|ADDR --value COINS");
        goto out;
    }
    /* everything that can be checked without the password first */
    if ((rc = fill_payload(x, t)) != 0 || (rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        goto out;
    (void)qcn_wargs_flag(&x->a, "wait");
    (void)qcn_wargs_flag(&x->a, "force");
    (void)qcn_wargs_flag(&x->a, "no-key");
    (void)qcn_wargs_get(&x->a, "timeout");
    qcn_wargs_fees(&x->a);
    if ((rc = qcn_wargs_check(&x->a)) != 0 ||
        (rc = qcn_wcli_unlock(&x->a, x->dir, from, &k)) != 0 ||
        (rc = qcn_wcli_sender(&x->a, c, t, k)) != 0 ||
        (rc = qcn_wcli_sign_submit(&x->a, c, t, k, hash)) != 0)
        goto out;
    rc = finish(x, c, t, hash);
out:
    qcn_wallet_key_free(k);
    qcn_rpc_client_free(c);
    qcn_txfile_free(t);
    return rc;
}

static int cmd_build(struct tctx *x)
{
    const char *from = qcn_wargs_get(&x->a, "from"), *out = qcn_wargs_get(&x->a, "out");
    const char *sn = qcn_wargs_get(&x->a, "scheme");
    uint8_t scheme = QCN_SCHEME_DEFAULT, *pk = NULL, acct[QCN_ADDRESS_BYTES];
    struct qcn_rpc_client *c = NULL;
    struct qcn_txfile *t = qcn_txfile_new();
    char path[QCN_KEYSTORE_PATH_MAX], at[QCN_ADDRESS_TEXT_BYTES];
    size_t pklen = 0;
    int rc, offline, err;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (from == NULL || out == NULL || x->a.npos != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn tx build --from NAME|ADDR --to NAME|ADDR --value COINS "
                            "--out FILE");
        goto out;
    }
    if ((rc = fill_payload(x, t)) != 0)
        goto out;
    pk = malloc(QCN_MLDSA_MAX_PK_BYTES);
    if (pk == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
        goto out;
    }
    if (strncmp(from, "0x", 2) != 0 &&
        qcn_keystore_path(path, sizeof path, x->dir, from) == QCN_OK && access(path, F_OK) == 0) {
        if ((rc = qcn_wcli_key_public(&x->a, x->dir, from, &scheme, pk, &pklen, acct)) != 0)
            goto out;
        memcpy(t->f.from, acct, QCN_ADDRESS_BYTES);
    } else {
        /* a bare address: no key to attach; the chain must know it already */
        if ((rc = qcn_wcli_resolve(&x->a, x->dir, from, t->f.from)) != 0)
            goto out;
        if (sn != NULL && (scheme = qcn_scheme_from_name(sn)) == 0) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                                "--scheme: expected ml-dsa-44, ml-dsa-65 or ml-dsa-87");
            goto out;
        }
    }
    t->f.scheme = scheme;
    offline = qcn_wargs_get(&x->a, "chain-id") != NULL && qcn_wargs_get(&x->a, "nonce") != NULL &&
              qcn_wargs_get(&x->a, "tip") != NULL && qcn_wargs_get(&x->a, "max-fee") != NULL;
    if (!offline && (rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        goto out;
    if (offline)
        (void)qcn_wargs_get(&x->a, "rpc");
    (void)qcn_wargs_get(&x->a, "gas-limit");
    (void)qcn_wargs_flag(&x->a, "force");
    (void)qcn_wargs_flag(&x->a, "no-key");
    if ((rc = qcn_wargs_check(&x->a)) != 0)
        goto out;
    if (pklen > 0) {
        if ((rc = qcn_wcli_attach_key(&x->a, c, t, scheme, pk, pklen)) != 0)
            goto out;
    }
    if ((rc = qcn_wcli_fill(&x->a, c, t)) != 0)
        goto out;
    err = qcn_txfile_save(t, out);
    if (err != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot write %s: %s", out,
                            qcn_err_str(err));
        goto out;
    }
    qcn_address_to_text(at, t->f.from);
    if (x->json)
        rc = qcn_wcli_print_json(json_pack("{s:s,s:s,s:I,s:I}", "file", out, "from", at, "nonce",
                                           (json_int_t)t->f.nonce, "gasLimit",
                                           (json_int_t)t->f.gas_limit));
    else
        printf("wrote unsigned transaction %s (from %s, nonce %llu, gas limit %llu)\n", out, at,
               (unsigned long long)t->f.nonce, (unsigned long long)t->f.gas_limit);
out:
    free(pk);
    qcn_rpc_client_free(c);
    qcn_txfile_free(t);
    return rc;
}

static int load_file(struct tctx *x, struct qcn_txfile *t, const char *path)
{
    char msg[512];
    if (qcn_txfile_load(t, path, msg, sizeof msg) != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s", msg);
    return 0;
}

static int cmd_sign(struct tctx *x)
{
    const char *file = x->a.npos == 2 ? x->a.pos[1] : NULL, *from = qcn_wargs_get(&x->a, "from");
    const char *out = qcn_wargs_get(&x->a, "out");
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_wallet_key *k = NULL;
    int rc, err;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (file == NULL || from == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn tx sign FILE --from NAME [--out FILE2]");
        goto out;
    }
    (void)qcn_wargs_get(&x->a, "password-file");
    if ((rc = qcn_wargs_check(&x->a)) != 0 || (rc = load_file(x, t, file)) != 0)
        goto out;
    if (t->f.scheme == QCN_SCHEME_MULTISIG) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "%s is a multisig transaction: use qcn multisig sign", file);
        goto out;
    }
    if ((rc = qcn_wcli_unlock(&x->a, x->dir, from, &k)) != 0)
        goto out;
    err = qcn_txfile_sign(t, k);
    if (err == QCN_ERR_TX_KEY_MISMATCH) {
        char at[QCN_ADDRESS_TEXT_BYTES];
        qcn_address_to_text(at, t->f.from);
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "key %s (%s) does not sign for %s, the sender of %s", from,
                            qcn_scheme_to_name(k->scheme), at, file);
        goto out;
    }
    if (err == QCN_OK)
        err = qcn_txfile_save(t, out != NULL ? out : file);
    if (err != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "signing failed: %s", qcn_err_str(err));
        goto out;
    }
    if (x->json) {
        json_t *j = NULL;
        if (qcn_txfile_to_json(&j, t) == QCN_OK)
            json_object_set_new(j, "file", json_string(out != NULL ? out : file));
        rc = qcn_wcli_print_json(j);
    } else {
        printf("signed %s\n", out != NULL ? out : file);
    }
out:
    qcn_wallet_key_free(k);
    qcn_txfile_free(t);
    return rc;
}

static int cmd_submit(struct tctx *x)
{
    const char *file = x->a.npos == 2 ? x->a.pos[1] : NULL;
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_rpc_client *c = NULL;
    uint8_t hash[QCN_HASH_BYTES];
    int rc;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (file == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn tx submit FILE [--wait]");
        goto out;
    }
    (void)qcn_wargs_flag(&x->a, "wait");
    (void)qcn_wargs_get(&x->a, "timeout");
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0 || (rc = qcn_wargs_check(&x->a)) != 0 ||
        (rc = load_file(x, t, file)) != 0)
        goto out;
    if (qcn_txfile_missing(t) > 0) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s is not signed yet (qcn tx sign)", file);
        goto out;
    }
    if ((rc = qcn_wcli_submit(&x->a, c, t, hash, 0)) != 0)
        goto out;
    rc = finish(x, c, t, hash);
out:
    qcn_rpc_client_free(c);
    qcn_txfile_free(t);
    return rc;
}

static int cmd_wait(struct tctx *x)
{
    struct qcn_rpc_client *c = NULL;
    uint8_t hash[QCN_HASH_BYTES];
    json_t *receipt = NULL;
    uint64_t st = 0;
    int rc;

    if (x->a.npos != 2 || strncmp(x->a.pos[1], "0x", 2) != 0 ||
        qcn_hex_decode_exact(hash, sizeof hash, x->a.pos[1]) != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "usage: qcn tx wait 0xHASH [--timeout S]");
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        return rc;
    (void)qcn_wargs_get(&x->a, "timeout");
    if ((rc = qcn_wargs_check(&x->a)) == 0)
        rc = qcn_wcli_wait(&x->a, c, hash, &receipt);
    if (rc == 0) {
        if (qcn_json_quantity_u64(&st, json_object_get(receipt, "status")) != QCN_OK)
            st = 0;
        if (x->json)
            qcn_wcli_print_json(json_incref(receipt));
        else
            printf("status %s\n", st == 1 ? "success" : "failed (0)");
        if (st != 1)
            rc = QCN_WCLI_EXIT_NO;
    }
    json_decref(receipt);
    qcn_rpc_client_free(c);
    return rc;
}

/* ---- contracts (docs/contracts.md) ---- */

/* Init code files: hex (solc --bin), optional 0x, whitespace around. */
#define DEPLOY_MAX_FILE (2u * QCN_TX_MAX_DATA + 64u)

/* Hex text (0x optional, surrounding whitespace ignored) appended to t's data. */
static int append_hex(struct qcn_buf *out, const char *p, size_t n)
{
    size_t got = 0;
    while (n > 0 && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\t'))
        n--;
    if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        n -= 2;
    }
    if (n % 2 != 0 || n / 2 > out->max - out->len || qcn_buf_reserve(out, n / 2) != QCN_OK)
        return QCN_ERR_BAD_HEX;
    if (qcn_hex_decode(out->p + out->len, out->max - out->len, &got, p, n) != QCN_OK)
        return QCN_ERR_BAD_HEX;
    out->len += got;
    return QCN_OK;
}

/* --value COINS / --value-wei WEI (optional, default 0) into v. */
static int parse_value(struct tctx *x, struct qcn_u256 *v)
{
    const char *c = qcn_wargs_get(&x->a, "value"), *w = qcn_wargs_get(&x->a, "value-wei");
    int err;
    *v = qcn_u256_from_u64(0);
    if (c != NULL && w != NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "give --value or --value-wei, not both");
    if (c == NULL && w == NULL)
        return 0;
    err = c != NULL ? qcn_amount_parse(v, c) : qcn_amount_parse_wei(v, w);
    if (err != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "bad amount '%s'", c != NULL ? c : w);
    return 0;
}

/* A JSON-RPC quantity: 0x-hex without leading zeros ("0x0" for zero). */
static json_t *quantity(const struct qcn_u256 *v)
{
    uint8_t be[32];
    char hex[64 + 1], txt[2 + 64 + 1];
    size_t z = 0;
    qcn_u256_to_be(be, v);
    qcn_hex_encode(hex, be, sizeof be);
    while (z < 63 && hex[z] == '0')
        z++;
    txt[0] = '0';
    txt[1] = 'x';
    memcpy(txt + 2, hex + z, 64 - z + 1);
    return json_string(txt);
}

/* keccak256(rlp([sender, nonce]))[12:] (Yellow Paper 7): where it lands. */
static void create_address(uint8_t out[QCN_ADDRESS_BYTES], const uint8_t from[QCN_ADDRESS_BYTES],
                           uint64_t nonce)
{
    struct qcn_buf b;
    uint8_t h[QCN_HASH_BYTES];
    size_t l;
    qcn_buf_init(&b, 64);
    l = qcn_rlp_list_begin(&b);
    if (qcn_rlp_put_bytes(&b, from, QCN_ADDRESS_BYTES) == QCN_OK &&
        qcn_rlp_put_u64(&b, nonce) == QCN_OK && qcn_rlp_list_end(&b, l) == QCN_OK) {
        qcn_keccak256(h, b.p, b.len);
        memcpy(out, h + 12, QCN_ADDRESS_BYTES);
    } else {
        memset(out, 0, QCN_ADDRESS_BYTES);
    }
    qcn_buf_clear(&b);
}

static int cmd_deploy(struct tctx *x)
{
    const char *from = qcn_wargs_get(&x->a, "from"), *file = qcn_wargs_get(&x->a, "bytecode");
    const char *args = qcn_wargs_get(&x->a, "args");
    struct qcn_wallet_key *k = NULL;
    struct qcn_rpc_client *c = NULL;
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_buf code, text;
    uint8_t hash[QCN_HASH_BYTES], addr[QCN_ADDRESS_BYTES];
    char atext[QCN_ADDRESS_TEXT_BYTES];
    uint64_t gas;
    int rc = 0, has_gas;
    FILE *f = NULL;

    qcn_buf_init(&code, QCN_TX_MAX_DATA);
    qcn_buf_init(&text, DEPLOY_MAX_FILE);
    if (t == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
        goto out;
    }
    if (from == NULL || file == NULL || x->a.npos != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn tx deploy --from NAME --bytecode FILE [--args 0xHEX]");
        goto out;
    }
    f = fopen(file, "rb");
    if (f == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot read %s", file);
        goto out;
    }
    for (;;) {
        char chunk[4096];
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n == 0)
            break;
        if (qcn_buf_append(&text, chunk, n) != QCN_OK) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s: larger than %u bytes of code",
                                file, QCN_TX_MAX_DATA);
            goto out;
        }
    }
    if (append_hex(&code, (const char *)text.p, text.len) != QCN_OK || code.len == 0) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "%s: expected the init code as hex (solc --bin), at most %u bytes",
                            file, QCN_TX_MAX_DATA);
        goto out;
    }
    if (args != NULL && append_hex(&code, args, strlen(args)) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "--args: expected 0x-hex ABI-encoded constructor arguments");
        goto out;
    }
    if (code.len > QCN_CHAIN_MAX_INITCODE) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "init code of %zu bytes is over the EIP-3860 limit of %u", code.len,
                            QCN_CHAIN_MAX_INITCODE);
        goto out;
    }
    t->f.has_to = 0;
    if ((rc = parse_value(x, &t->f.value)) != 0)
        goto out;
    if (qcn_txfile_set_data(t, code.p, code.len) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
        goto out;
    }
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        goto out;
    (void)qcn_wargs_flag(&x->a, "wait");
    (void)qcn_wargs_flag(&x->a, "force");
    (void)qcn_wargs_get(&x->a, "timeout");
    qcn_wargs_fees(&x->a);
    if ((rc = qcn_wargs_check(&x->a)) != 0 ||
        (rc = qcn_wcli_unlock(&x->a, x->dir, from, &k)) != 0 ||
        (rc = qcn_wcli_sender(&x->a, c, t, k)) != 0 ||
        (rc = qcn_wargs_u64(&x->a, "gas-limit", &gas, &has_gas)) != 0)
        goto out;
    if (!has_gas) {
        /* The node's estimate: our intrinsic gas (signature bytes included)
         * plus the constructor's execution; a revert is reported as is. */
        int err = qcn_rpc_client_u64(
            c, &t->f.gas_limit, "eth_estimateGas",
            json_pack("[{s:o,s:o,s:o}]", "from", qcn_json_hex(t->f.from, QCN_ADDRESS_BYTES),
                      "value", quantity(&t->f.value), "data", qcn_json_hex(code.p, code.len)));
        if (err != QCN_OK) {
            rc = qcn_wcli_rpc_error(&x->a, c, err, "eth_estimateGas");
            goto out;
        }
    }
    if ((rc = qcn_wcli_sign_submit(&x->a, c, t, k, hash)) != 0)
        goto out;
    create_address(addr, t->f.from, t->f.nonce);
    qcn_address_to_text(atext, addr);
    if (!x->json)
        printf("contract %s\n", atext);
    else
        fprintf(stderr, "contract %s\n", atext);
    rc = finish(x, c, t, hash);
out:
    if (f != NULL)
        fclose(f);
    qcn_buf_clear(&code);
    qcn_buf_clear(&text);
    qcn_wallet_key_free(k);
    qcn_rpc_client_free(c);
    qcn_txfile_free(t);
    return rc;
}

static int cmd_call(struct tctx *x)
{
    const char *to = qcn_wargs_get(&x->a, "to"), *data = qcn_wargs_get(&x->a, "data");
    const char *from = qcn_wargs_get(&x->a, "from");
    struct qcn_rpc_client *c = NULL;
    struct qcn_buf in;
    struct qcn_u256 value;
    uint8_t toa[QCN_ADDRESS_BYTES], froma[QCN_ADDRESS_BYTES];
    json_t *call, *r = NULL;
    int rc, err;

    qcn_buf_init(&in, QCN_TX_MAX_DATA);
    if (to == NULL || x->a.npos != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn tx call --to ADDR --data 0xHEX [--from NAME|ADDR]");
        goto out;
    }
    if ((rc = qcn_wcli_resolve(&x->a, x->dir, to, toa)) != 0 ||
        (from != NULL && (rc = qcn_wcli_resolve(&x->a, x->dir, from, froma)) != 0) ||
        (rc = parse_value(x, &value)) != 0)
        goto out;
    if (data != NULL && append_hex(&in, data, strlen(data)) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "--data: expected 0x-hex of at most %u bytes", QCN_TX_MAX_DATA);
        goto out;
    }
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0 || (rc = qcn_wargs_check(&x->a)) != 0)
        goto out;
    call = json_pack("{s:o,s:o,s:o}", "to", qcn_json_hex(toa, QCN_ADDRESS_BYTES), "data",
                     qcn_json_hex(in.p, in.len), "value", quantity(&value));
    if (call != NULL && from != NULL)
        json_object_set_new(call, "from", qcn_json_hex(froma, QCN_ADDRESS_BYTES));
    err = qcn_rpc_client_call(c, &r, "eth_call", json_pack("[o,s]", call, "latest"));
    if (err != QCN_OK) {
        json_t *d = qcn_rpc_client_data(c);
        rc = qcn_wcli_rpc_error(&x->a, c, err, "eth_call");
        if (json_is_string(d))
            fprintf(stderr, "revert data %s\n", json_string_value(d));
        goto out;
    }
    if (x->json)
        qcn_wcli_print_json(json_pack("{s:O}", "result", r));
    else
        printf("%s\n", json_is_string(r) ? json_string_value(r) : "0x");
    rc = 0;
out:
    json_decref(r);
    qcn_buf_clear(&in);
    qcn_rpc_client_free(c);
    return rc;
}

int qcn_cmd_tx(int argc, char **argv)
{
    struct tctx x;
    int rc;

    memset(&x, 0, sizeof x);
    if ((rc = qcn_wcli_begin(&x.a, "tx", usage, argc, argv, &x.json)) >= 0)
        return rc;
    if ((rc = qcn_wcli_keystore_dir(&x.a, x.dir, sizeof x.dir)) != 0)
        return rc;
    if (strcmp(argv[1], "send") == 0)
        return cmd_send(&x);
    if (strcmp(argv[1], "build") == 0)
        return cmd_build(&x);
    if (strcmp(argv[1], "sign") == 0)
        return cmd_sign(&x);
    if (strcmp(argv[1], "submit") == 0)
        return cmd_submit(&x);
    if (strcmp(argv[1], "wait") == 0)
        return cmd_wait(&x);
    if (strcmp(argv[1], "deploy") == 0)
        return cmd_deploy(&x);
    if (strcmp(argv[1], "call") == 0)
        return cmd_call(&x);
    return qcn_cli_usage_error("tx", "unknown command '%s' (see qcn tx --help)", argv[1]);
}
