/* qcn multisig - native M-of-N accounts (docs/protocol.md §3-4, docs/wallet.md):
 * create, propose, sign, submit, show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/hex.h"
#include "wallet/address.h"
#include "wallet/amount.h"
#include "wallet/cli_util.h"
#include "wallet/keystore.h"
#include "wallet/txfile.h"

/* --keys text: 16 public keys in hex with separators */
#define MAX_KEYS_ARG (QCN_MULTISIG_MAX_KEYS * (2 * QCN_MLDSA_MAX_PK_BYTES + 3) + 1)

static const char usage[] =
    "usage: qcn multisig <command> [options]\n"
    "  create --threshold M --keys A,B,C --from NAME [--value X] [--name NAME]\n"
    "        create an M-of-N account (keys: key names or 0x public keys); prints its address\n"
    "  propose --multisig NAME|ADDR --to NAME|ADDR --value X --out FILE\n"
    "        write an unsigned transfer from the multisig account\n"
    "  sign FILE --key NAME        add this key's signature to the shared file\n"
    "  submit FILE [--wait]        send it once the threshold is met (--force: send anyway)\n"
    "  show NAME|ADDR|FILE         the account's key set, or a proposal's signatures\n"
    "options: --rpc URL, --keystore DIR, --password-file FILE (or QCN_PASSWORD), --json,\n"
    "  --value-wei WEI, --max-fee N, --tip N, --nonce N, --gas-limit N, --timeout S\n";

struct mctx {
    struct qcn_wargs a;
    char dir[QCN_KEYSTORE_PATH_MAX];
    int json;
};

static json_t *addr_json(const uint8_t a[QCN_ADDRESS_BYTES])
{
    char t[QCN_ADDRESS_TEXT_BYTES];
    qcn_address_to_text(t, a);
    return json_string(t);
}

static uint8_t scheme_of_pk_len(size_t n)
{
    if (n == QCN_MLDSA44_PK_BYTES)
        return QCN_SCHEME_MLDSA44;
    if (n == QCN_MLDSA65_PK_BYTES)
        return QCN_SCHEME_MLDSA65;
    if (n == QCN_MLDSA87_PK_BYTES)
        return QCN_SCHEME_MLDSA87;
    return 0;
}

/* "A,B,0x..." -> keys; names are read from the keystore (no password). */
static int parse_keys(struct mctx *x, const char *list, struct qcn_txfile_key *keys, uint32_t *n)
{
    size_t len = strnlen(list, MAX_KEYS_ARG);
    char *buf, *p, *comma;
    int rc = 0;

    *n = 0;
    if (len >= MAX_KEYS_ARG)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "--keys is too long");
    buf = malloc(len + 1);
    if (buf == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    memcpy(buf, list, len + 1);
    p = buf;
    for (;;) {
        struct qcn_txfile_key *k = &keys[*n];
        uint8_t acct[QCN_ADDRESS_BYTES];
        comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*n == QCN_MULTISIG_MAX_KEYS) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "at most %u keys",
                                QCN_MULTISIG_MAX_KEYS);
            break;
        }
        if (strncmp(p, "0x", 2) == 0) {
            if (qcn_hex_decode(k->pk, sizeof k->pk, &k->pk_len, p, strlen(p)) != QCN_OK ||
                (k->scheme = scheme_of_pk_len(k->pk_len)) == 0) {
                rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                                    "--keys: '%.20s...' is not an ML-DSA public key (1312, "
                                    "1952 or 2592 bytes of hex)",
                                    p);
                break;
            }
        } else if ((rc = qcn_wcli_key_public(&x->a, x->dir, p, &k->scheme, k->pk, &k->pk_len,
                                             acct)) != 0) {
            break;
        }
        for (uint32_t i = 0; i < *n && rc == 0; i++)
            if (keys[i].pk_len == k->pk_len && memcmp(keys[i].pk, k->pk, k->pk_len) == 0)
                rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "--keys: '%.20s' is listed twice",
                                    p);
        if (rc != 0)
            break;
        (*n)++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    free(buf);
    return rc;
}

static int save_descriptor(struct mctx *x, const char *name, const uint8_t addr[20],
                           uint32_t threshold, const struct qcn_txfile_key *keys, uint32_t n,
                           const char *keynames)
{
    char path[QCN_KEYSTORE_PATH_MAX], *text;
    json_t *o, *arr = json_array();
    int err;
    uint32_t i;

    if (snprintf(path, sizeof path, "%s/%s.multisig", x->dir, name) >= (int)sizeof path)
        return QCN_ERR_TOO_LARGE;
    for (i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, json_pack("{s:i,s:o}", "scheme", keys[i].scheme, "publicKey",
                                             qcn_json_hex(keys[i].pk, keys[i].pk_len)));
    o = json_pack("{s:s,s:s,s:o,s:i,s:s,s:o}", "format", "qcn-multisig/1", "name", name, "address",
                  addr_json(addr), "threshold", (int)threshold, "keyNames", keynames, "keys", arr);
    text = o != NULL ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (text == NULL)
        return QCN_ERR_NOMEM;
    if ((err = qcn_keystore_dir_create(x->dir)) == QCN_OK)
        err = qcn_wallet_file_create(path, (const uint8_t *)text, strlen(text), 0600);
    free(text);
    return err;
}

static int receipt_ok(const json_t *r)
{
    uint64_t st;
    return qcn_json_quantity_u64(&st, json_object_get(r, "status")) == QCN_OK && st == 1;
}

static int cmd_create(struct mctx *x)
{
    const char *from = qcn_wargs_get(&x->a, "from"), *klist = qcn_wargs_get(&x->a, "keys");
    const char *name = qcn_wargs_get(&x->a, "name"), *v = qcn_wargs_get(&x->a, "value");
    const char *vw = qcn_wargs_get(&x->a, "value-wei");
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_txfile_key *keys = calloc(QCN_MULTISIG_MAX_KEYS, sizeof *keys);
    struct qcn_wallet_key *k = NULL;
    struct qcn_rpc_client *c = NULL;
    struct qcn_buf data;
    uint8_t maddr[QCN_ADDRESS_BYTES], hash[QCN_HASH_BYTES];
    char at[QCN_ADDRESS_TEXT_BYTES], hx[2 * QCN_HASH_BYTES + 3], path[QCN_KEYSTORE_PATH_MAX];
    json_t *receipt = NULL;
    uint64_t thr;
    uint32_t n = 0;
    int has, rc, err;

    qcn_buf_init(&data, QCN_TX_MAX_DATA);
    if (t == NULL || keys == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
        goto out;
    }
    if (from == NULL || klist == NULL || x->a.npos != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn multisig create --threshold M --keys A,B,C --from NAME");
        goto out;
    }
    if ((rc = qcn_wargs_u64(&x->a, "threshold", &thr, &has)) != 0)
        goto out;
    if ((rc = parse_keys(x, klist, keys, &n)) != 0)
        goto out;
    if (!has || thr < 1 || thr > n) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "--threshold must be between 1 and the number of keys (%u)", n);
        goto out;
    }
    if (name != NULL) {
        if (!qcn_keystore_name_valid(name) ||
            snprintf(path, sizeof path, "%s/%s.multisig", x->dir, name) >= (int)sizeof path) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "--name: not a usable name");
            goto out;
        }
        if (access(path, F_OK) == 0) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "a multisig named %s exists (%s)", name,
                                path);
            goto out;
        }
    }
    if (v != NULL && vw != NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "give --value or --value-wei, not both");
        goto out;
    }
    err = v != NULL    ? qcn_amount_parse(&t->f.value, v)
          : vw != NULL ? qcn_amount_parse_wei(&t->f.value, vw)
                       : QCN_OK;
    if (err != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "invalid amount '%s'", v ? v : vw);
        goto out;
    }
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        goto out;
    (void)qcn_wargs_get(&x->a, "timeout");
    qcn_wargs_fees(&x->a);
    (void)qcn_wargs_get(&x->a, "password-file");
    (void)qcn_wargs_flag(&x->a, "wait");
    (void)qcn_wargs_flag(&x->a, "force");
    if ((rc = qcn_wargs_check(&x->a)) != 0)
        goto out;
    if ((rc = qcn_wcli_unlock(&x->a, x->dir, from, &k)) != 0)
        goto out;
    t->f.has_to = 1;
    memcpy(t->f.to, qcn_wallet_key_manager, QCN_ADDRESS_BYTES);
    if (qcn_keyop_multisig(&data, 2, (uint32_t)thr, keys, n) != QCN_OK ||
        qcn_txfile_set_data(t, data.p, data.len) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot encode the key set");
        goto out;
    }
    if ((rc = qcn_wcli_sender(&x->a, c, t, k)) != 0)
        goto out;
    /* protocol §3: the address follows from the creator and its nonce */
    if (qcn_multisig_address(maddr, t->f.from, t->f.nonce, (uint32_t)thr, keys, n) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "the key set is not a valid multisig");
        goto out;
    }
    qcn_address_to_text(at, maddr);
    if ((rc = qcn_wcli_sign_submit(&x->a, c, t, k, hash)) != 0)
        goto out;
    qcn_wcli_hash_hex(hx, hash);
    fprintf(stderr, "creation transaction %s sent; multisig address %s\n", hx, at);
    if ((rc = qcn_wcli_wait(&x->a, c, hash, &receipt)) != 0)
        goto out;
    if (!receipt_ok(receipt)) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO,
                            "the creation failed on chain (status 0): is %s already in use?", at);
        goto out;
    }
    if (name != NULL &&
        (err = save_descriptor(x, name, maddr, (uint32_t)thr, keys, n, klist)) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "created %s, but saving the name %s failed: %s", at, name,
                            qcn_err_str(err));
        goto out;
    }
    if (x->json)
        rc = qcn_wcli_print_json(json_pack("{s:s,s:I,s:I,s:s,s:s?}", "address", at, "threshold",
                                           (json_int_t)thr, "keys", (json_int_t)n, "transaction",
                                           hx, "name", name));
    else
        printf("%s\nmultisig %llu of %u created in transaction %s\n", at, (unsigned long long)thr,
               n, hx);
out:
    json_decref(receipt);
    qcn_buf_clear(&data);
    qcn_wallet_key_free(k);
    qcn_rpc_client_free(c);
    free(keys);
    qcn_txfile_free(t);
    return rc;
}

/* Key set of a multisig account from the node (qcn_getAccountKey). */
static int chain_keyset(struct mctx *x, struct qcn_rpc_client *c, const uint8_t addr[20],
                        struct qcn_txfile *t)
{
    json_t *r = NULL, *keys;
    char at[QCN_ADDRESS_TEXT_BYTES];
    size_t i;
    int err = qcn_rpc_client_call(c, &r, "qcn_getAccountKey",
                                  json_pack("[o,s]", qcn_json_hex(addr, 20), "latest"));
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(&x->a, c, err, "qcn_getAccountKey");
    qcn_address_to_text(at, addr);
    keys = json_object_get(r, "keys");
    if (json_integer_value(json_object_get(r, "scheme")) != QCN_SCHEME_MULTISIG ||
        !json_is_array(keys) || json_array_size(keys) == 0 ||
        json_array_size(keys) > QCN_MULTISIG_MAX_KEYS) {
        json_decref(r);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "%s is not a multisig account on this chain", at);
    }
    t->threshold = (uint32_t)json_integer_value(json_object_get(r, "threshold"));
    t->nkeys = (uint32_t)json_array_size(keys);
    for (i = 0; i < t->nkeys; i++) {
        json_t *k = json_array_get(keys, i);
        const char *pk = json_string_value(json_object_get(k, "publicKey"));
        t->keys[i].scheme = (uint8_t)json_integer_value(json_object_get(k, "scheme"));
        if (pk == NULL ||
            qcn_hex_decode(t->keys[i].pk, sizeof t->keys[i].pk, &t->keys[i].pk_len, pk,
                           strlen(pk)) != QCN_OK ||
            t->keys[i].pk_len != qcn_scheme_pk_bytes(t->keys[i].scheme)) {
            json_decref(r);
            return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "malformed key set from the node");
        }
    }
    json_decref(r);
    if (t->threshold < 1 || t->threshold > t->nkeys)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "malformed threshold from the node");
    return 0;
}

static int cmd_propose(struct mctx *x)
{
    const char *ms = qcn_wargs_get(&x->a, "multisig"), *to = qcn_wargs_get(&x->a, "to");
    const char *out = qcn_wargs_get(&x->a, "out"), *v = qcn_wargs_get(&x->a, "value");
    const char *vw = qcn_wargs_get(&x->a, "value-wei");
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_rpc_client *c = NULL;
    char at[QCN_ADDRESS_TEXT_BYTES];
    int rc, err;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (ms == NULL || to == NULL || out == NULL || (v != NULL) + (vw != NULL) != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn multisig propose --multisig NAME|ADDR --to NAME|ADDR "
                            "--value COINS --out FILE");
        goto out;
    }
    if ((rc = qcn_wcli_resolve(&x->a, x->dir, ms, t->f.from)) != 0 ||
        (rc = qcn_wcli_resolve(&x->a, x->dir, to, t->f.to)) != 0)
        goto out;
    t->f.has_to = 1;
    t->f.scheme = QCN_SCHEME_MULTISIG;
    err = v != NULL ? qcn_amount_parse(&t->f.value, v) : qcn_amount_parse_wei(&t->f.value, vw);
    if (err != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "invalid amount '%s'", v ? v : vw);
        goto out;
    }
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        goto out;
    qcn_wargs_fees(&x->a);
    if ((rc = qcn_wargs_check(&x->a)) != 0 || (rc = chain_keyset(x, c, t->f.from, t)) != 0 ||
        (rc = qcn_wcli_fill(&x->a, c, t)) != 0)
        goto out;
    if ((err = qcn_txfile_save(t, out)) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot write %s: %s", out,
                            qcn_err_str(err));
        goto out;
    }
    qcn_address_to_text(at, t->f.from);
    if (x->json)
        rc = qcn_wcli_print_json(json_pack("{s:s,s:s,s:I,s:i,s:i}", "file", out, "from", at,
                                           "nonce", (json_int_t)t->f.nonce, "threshold",
                                           (int)t->threshold, "keys", (int)t->nkeys));
    else
        printf("wrote proposal %s (from %s, nonce %llu, needs %u of %u signatures)\n", out, at,
               (unsigned long long)t->f.nonce, t->threshold, t->nkeys);
out:
    qcn_rpc_client_free(c);
    qcn_txfile_free(t);
    return rc;
}

static int load_file(struct mctx *x, struct qcn_txfile *t, const char *path)
{
    char msg[512];
    if (qcn_txfile_load(t, path, msg, sizeof msg) != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s", msg);
    if (t->f.scheme != QCN_SCHEME_MULTISIG)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "%s is a single-key transaction: use qcn tx sign/submit", path);
    return 0;
}

static int cmd_sign(struct mctx *x)
{
    const char *file = x->a.npos == 2 ? x->a.pos[1] : NULL, *key = qcn_wargs_get(&x->a, "key");
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_wallet_key *k = NULL;
    int rc, err;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (file == NULL || key == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn multisig sign FILE --key NAME");
        goto out;
    }
    (void)qcn_wargs_get(&x->a, "password-file");
    if ((rc = qcn_wargs_check(&x->a)) != 0 || (rc = load_file(x, t, file)) != 0)
        goto out;
    if ((rc = qcn_wcli_unlock(&x->a, x->dir, key, &k)) != 0)
        goto out;
    err = qcn_txfile_sign(t, k);
    if (err == QCN_ERR_NOT_FOUND) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "key %s is not one of the %u keys of this multisig", key, t->nkeys);
        goto out;
    }
    if (err == QCN_OK)
        err = qcn_txfile_save(t, file);
    if (err != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "signing failed: %s", qcn_err_str(err));
        goto out;
    }
    if (x->json)
        rc = qcn_wcli_print_json(json_pack("{s:s,s:i,s:i,s:b}", "file", file, "signatures",
                                           (int)t->nsigs, "threshold", (int)t->threshold,
                                           "complete", qcn_txfile_missing(t) == 0));
    else
        printf("signed %s with %s: %u of %u signatures%s\n", file, key, t->nsigs, t->threshold,
               qcn_txfile_missing(t) == 0 ? " (ready to submit)" : "");
out:
    qcn_wallet_key_free(k);
    qcn_txfile_free(t);
    return rc;
}

static int cmd_submit(struct mctx *x)
{
    const char *file = x->a.npos == 2 ? x->a.pos[1] : NULL;
    int force = qcn_wargs_flag(&x->a, "force"), wait = qcn_wargs_flag(&x->a, "wait"), rc;
    struct qcn_txfile *t = qcn_txfile_new();
    struct qcn_rpc_client *c = NULL;
    uint8_t hash[QCN_HASH_BYTES];
    char hx[QCN_WCLI_HASH_TEXT_BYTES];
    json_t *receipt = NULL;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if (file == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn multisig submit FILE");
        goto out;
    }
    (void)qcn_wargs_get(&x->a, "timeout");
    if ((rc = qcn_wcli_rpc(&x->a, &c)) != 0 || (rc = qcn_wargs_check(&x->a)) != 0 ||
        (rc = load_file(x, t, file)) != 0)
        goto out;
    if ((rc = qcn_wcli_submit(&x->a, c, t, hash, force)) != 0)
        goto out;
    qcn_wcli_hash_hex(hx, hash);
    if (!x->json)
        printf("%s\n", hx);
    fflush(stdout);
    if (wait) {
        if ((rc = qcn_wcli_wait(&x->a, c, hash, &receipt)) != 0)
            goto out;
        if (!receipt_ok(receipt))
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO, "%s was included but failed", hx);
        else if (!x->json)
            printf("status success\n");
    }
    if (x->json)
        qcn_wcli_print_json(json_pack("{s:s,s:i,s:O?}", "hash", hx, "signatures",
                                      (int)(t->nsigs < t->threshold ? t->nsigs : t->threshold),
                                      "receipt", receipt));
out:
    json_decref(receipt);
    qcn_rpc_client_free(c);
    qcn_txfile_free(t);
    return rc;
}

static int show_file(struct mctx *x, const char *path)
{
    struct qcn_txfile *t = qcn_txfile_new();
    char from[QCN_ADDRESS_TEXT_BYTES], to[QCN_ADDRESS_TEXT_BYTES], coins[QCN_AMOUNT_TEXT_BYTES + 8];
    uint32_t i, j;
    int rc;

    if (t == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    if ((rc = load_file(x, t, path)) != 0)
        goto out;
    if (x->json) {
        json_t *j0 = NULL;
        if (qcn_txfile_to_json(&j0, t) == QCN_OK) {
            json_object_set_new(j0, "missingSignatures", json_integer(qcn_txfile_missing(t)));
            json_object_del(j0, "raw");
        }
        rc = qcn_wcli_print_json(j0);
        goto out;
    }
    qcn_address_to_text(from, t->f.from);
    qcn_address_to_text(to, t->f.to);
    qcn_wcli_coins(coins, sizeof coins, &t->f.value);
    printf("proposal %s\nfrom     %s (multisig %u of %u)\nto       %s\nvalue    %s\nnonce    "
           "%llu\n",
           path, from, t->threshold, t->nkeys, to, coins, (unsigned long long)t->f.nonce);
    for (i = 0; i < t->nkeys; i++) {
        int signed_ = 0;
        for (j = 0; j < t->nsigs; j++)
            if (t->sigs[j].index == i)
                signed_ = 1;
        printf("  key %u  %s  %s\n", i, qcn_scheme_to_name(t->keys[i].scheme),
               signed_ ? "signed" : "not signed");
    }
    printf("status   %u of %u signatures%s\n", t->nsigs, t->threshold,
           qcn_txfile_missing(t) == 0 ? ", ready to submit" : "");
out:
    qcn_txfile_free(t);
    return rc;
}

static int cmd_show(struct mctx *x)
{
    const char *what = x->a.npos == 2 ? x->a.pos[1] : NULL;
    struct qcn_txfile *t;
    struct qcn_rpc_client *c = NULL;
    uint8_t addr[QCN_ADDRESS_BYTES];
    char at[QCN_ADDRESS_TEXT_BYTES], coins[QCN_AMOUNT_TEXT_BYTES + 8];
    struct qcn_u256 bal;
    uint32_t i;
    int rc, err;

    if (what == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "usage: qcn multisig show NAME|ADDR|FILE");
    if (strncmp(what, "0x", 2) != 0 && access(what, F_OK) == 0 && strchr(what, '/') != NULL) {
        if ((rc = qcn_wargs_check(&x->a)) != 0)
            return rc;
        return show_file(x, what);
    }
    if (strncmp(what, "0x", 2) != 0 && access(what, F_OK) == 0) {
        char kp[QCN_KEYSTORE_PATH_MAX];
        if (snprintf(kp, sizeof kp, "%s/%s.multisig", x->dir, what) >= (int)sizeof kp ||
            access(kp, F_OK) != 0) {
            if ((rc = qcn_wargs_check(&x->a)) != 0)
                return rc;
            return show_file(x, what);
        }
    }
    if ((rc = qcn_wcli_resolve(&x->a, x->dir, what, addr)) != 0 ||
        (rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        return rc;
    t = qcn_txfile_new();
    if (t == NULL) {
        qcn_rpc_client_free(c);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
    }
    if ((rc = qcn_wargs_check(&x->a)) != 0 || (rc = chain_keyset(x, c, addr, t)) != 0)
        goto out;
    err = qcn_rpc_client_u256(c, &bal, "eth_getBalance",
                              json_pack("[o,s]", qcn_json_hex(addr, 20), "latest"));
    if (err != QCN_OK) {
        rc = qcn_wcli_rpc_error(&x->a, c, err, "eth_getBalance");
        goto out;
    }
    qcn_address_to_text(at, addr);
    qcn_wcli_coins(coins, sizeof coins, &bal);
    if (x->json) {
        json_t *keys = json_array();
        char dec[QCN_AMOUNT_TEXT_BYTES];
        qcn_u256_format_dec(dec, &bal);
        for (i = 0; keys != NULL && i < t->nkeys; i++)
            json_array_append_new(
                keys, json_pack("{s:s,s:o}", "scheme", qcn_scheme_to_name(t->keys[i].scheme),
                                "publicKey", qcn_json_hex(t->keys[i].pk, t->keys[i].pk_len)));
        rc = qcn_wcli_print_json(json_pack("{s:s,s:i,s:o,s:s}", "address", at, "threshold",
                                           (int)t->threshold, "keys", keys, "balanceWei", dec));
        goto out;
    }
    printf("multisig %s\nthreshold %u of %u\nbalance  %s\n", at, t->threshold, t->nkeys, coins);
    for (i = 0; i < t->nkeys; i++) {
        uint8_t ka[QCN_ADDRESS_BYTES];
        char kt[QCN_ADDRESS_TEXT_BYTES];
        qcn_address_from_key(ka, t->keys[i].scheme, t->keys[i].pk, t->keys[i].pk_len);
        qcn_address_to_text(kt, ka);
        printf("  key %u  %s  (key address %s)\n", i, qcn_scheme_to_name(t->keys[i].scheme), kt);
    }
out:
    qcn_txfile_free(t);
    qcn_rpc_client_free(c);
    return rc;
}

int qcn_cmd_multisig(int argc, char **argv)
{
    struct mctx x;
    int rc;

    memset(&x, 0, sizeof x);
    if ((rc = qcn_wcli_begin(&x.a, "multisig", usage, argc, argv, &x.json)) >= 0)
        return rc;
    if ((rc = qcn_wcli_keystore_dir(&x.a, x.dir, sizeof x.dir)) != 0)
        return rc;
    if (strcmp(argv[1], "create") == 0)
        return cmd_create(&x);
    if (strcmp(argv[1], "propose") == 0)
        return cmd_propose(&x);
    if (strcmp(argv[1], "sign") == 0)
        return cmd_sign(&x);
    if (strcmp(argv[1], "submit") == 0)
        return cmd_submit(&x);
    if (strcmp(argv[1], "show") == 0)
        return cmd_show(&x);
    return qcn_cli_usage_error("multisig", "unknown command '%s' (see qcn multisig --help)",
                               argv[1]);
}
