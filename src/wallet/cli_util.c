/* cli_util.c - shared plumbing of the wallet subcommands (cli_util.h). */
#include "wallet/cli_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/hex.h"
#include "util/mem.h"
#include "wallet/address.h"
#include "wallet/amount.h"
#include "wallet/password.h"

static const char *const bool_flags[] = {"json",   "wait", "backup",     "force", "hex",
                                         "no-key", "full", "public-key", "help",  NULL};

static int is_bool_flag(const char *name, size_t n)
{
    size_t i;
    for (i = 0; bool_flags[i] != NULL; i++)
        if (strlen(bool_flags[i]) == n && strncmp(bool_flags[i], name, n) == 0)
            return 1;
    return 0;
}

int qcn_wcli_error(const struct qcn_wargs *a, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "qcn %s: ", a->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

int qcn_wargs_parse(struct qcn_wargs *a, const char *cmd, int argc, char **argv)
{
    int i;
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    for (i = 0; i < argc; i++) {
        const char *s = argv[i], *eq;
        size_t n;
        if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
            if (a->npos == QCN_WCLI_MAX_POS)
                return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "too many arguments");
            a->pos[a->npos++] = s;
            continue;
        }
        if (a->nopt == QCN_WCLI_MAX_OPTS)
            return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "too many options");
        s += 2;
        eq = strchr(s, '=');
        n = eq != NULL ? (size_t)(eq - s) : strlen(s);
        a->opt[a->nopt].name = s;
        if (is_bool_flag(s, n)) {
            if (eq != NULL)
                return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "--%.*s takes no value", (int)n, s);
            a->opt[a->nopt].value = NULL;
        } else if (eq != NULL) {
            a->opt[a->nopt].value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "--%s needs a value", s);
            a->opt[a->nopt].value = argv[++i];
        }
        a->nopt++;
    }
    return 0;
}

static int opt_is(const char *optname, const char *name)
{
    size_t n = strlen(name);
    return strncmp(optname, name, n) == 0 && (optname[n] == '\0' || optname[n] == '=');
}

const char *qcn_wargs_get(struct qcn_wargs *a, const char *name)
{
    const char *v = NULL;
    int i;
    for (i = 0; i < a->nopt; i++)
        if (opt_is(a->opt[i].name, name) && a->opt[i].value != NULL) {
            a->opt[i].used = 1;
            v = a->opt[i].value; /* the last one wins */
        }
    return v;
}

int qcn_wargs_flag(struct qcn_wargs *a, const char *name)
{
    int i, found = 0;
    for (i = 0; i < a->nopt; i++)
        if (opt_is(a->opt[i].name, name) && a->opt[i].value == NULL) {
            a->opt[i].used = 1;
            found = 1;
        }
    return found;
}

void qcn_wargs_common(struct qcn_wargs *a)
{
    static const char *const common[] = {"rpc",      "rpc-timeout", "password-file",
                                         "keystore", "datadir",     NULL};
    size_t i;
    for (i = 0; common[i] != NULL; i++)
        (void)qcn_wargs_get(a, common[i]);
    (void)qcn_wargs_flag(a, "json");
}

void qcn_wargs_fees(struct qcn_wargs *a)
{
    static const char *const fees[] = {"nonce", "chain-id", "tip", "max-fee", "gas-limit", NULL};
    size_t i;
    for (i = 0; fees[i] != NULL; i++)
        (void)qcn_wargs_get(a, fees[i]);
}

int qcn_wcli_begin(struct qcn_wargs *a, const char *cmd, const char *usage, int argc, char **argv,
                   int *json)
{
    int rc;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? QCN_WCLI_EXIT_USAGE : QCN_WCLI_EXIT_OK;
    }
    if ((rc = qcn_wargs_parse(a, cmd, argc - 1, argv + 1)) != 0)
        return rc;
    *json = qcn_wargs_flag(a, "json");
    qcn_wargs_common(a);
    return -1;
}

int qcn_wargs_check(struct qcn_wargs *a)
{
    int i;
    for (i = 0; i < a->nopt; i++)
        if (!a->opt[i].used)
            return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "unknown option --%s (see --help)",
                                  a->opt[i].name);
    return 0;
}

int qcn_wargs_u64(struct qcn_wargs *a, const char *name, uint64_t *out, int *has)
{
    const char *v = qcn_wargs_get(a, name);
    struct qcn_u256 u;
    *out = 0;
    *has = 0;
    if (v == NULL)
        return 0;
    if (qcn_amount_parse_wei(&u, v) != QCN_OK || u.w[1] || u.w[2] || u.w[3])
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "--%s: expected an unsigned 64-bit integer, got '%s'", name, v);
    *out = u.w[0];
    *has = 1;
    return 0;
}

int qcn_wcli_print_json(json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_INDENT(2)) : NULL;
    if (s != NULL) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(j);
    return 0;
}

int qcn_wcli_keystore_dir(struct qcn_wargs *a, char *out, size_t cap)
{
    const char *ks = qcn_wargs_get(a, "keystore"), *dd = qcn_wargs_get(a, "datadir"), *home;
    int n;
    if (ks != NULL)
        n = snprintf(out, cap, "%s", ks);
    else if (dd != NULL)
        n = snprintf(out, cap, "%s/keystore", dd);
    else if ((ks = getenv("QCN_KEYSTORE")) != NULL && ks[0] != '\0')
        n = snprintf(out, cap, "%s", ks);
    else if ((home = getenv("HOME")) != NULL && home[0] != '\0')
        n = snprintf(out, cap, "%s/.qcn/keystore", home);
    else
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "no keystore directory: give --keystore DIR (HOME is not set)");
    if (n < 0 || (size_t)n >= cap)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "keystore path too long");
    return 0;
}

int qcn_wcli_kdf(struct qcn_wargs *a, struct qcn_kdf_params *out)
{
    uint64_t v;
    int has, rc;
    if (qcn_kdf_params_default(out) != QCN_OK)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "QCN_KEYSTORE_KDF must be OPS:MEM_KIB within %u..%u and %u..%u",
                              QCN_KEYSTORE_MIN_OPS, QCN_KEYSTORE_MAX_OPS, QCN_KEYSTORE_MIN_MEM_KIB,
                              QCN_KEYSTORE_MAX_MEM_KIB);
    if ((rc = qcn_wargs_u64(a, "kdf-ops", &v, &has)) != 0)
        return rc;
    if (has)
        out->ops = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    if ((rc = qcn_wargs_u64(a, "kdf-mem-kib", &v, &has)) != 0)
        return rc;
    if (has)
        out->mem_kib = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    if (qcn_kdf_params_check(out) != QCN_OK)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "KDF parameters out of range: passes %u..%u, memory %u..%u KiB",
                              QCN_KEYSTORE_MIN_OPS, QCN_KEYSTORE_MAX_OPS, QCN_KEYSTORE_MIN_MEM_KIB,
                              QCN_KEYSTORE_MAX_MEM_KIB);
    return 0;
}

int qcn_wcli_key_public(struct qcn_wargs *a, const char *dir, const char *name, uint8_t *scheme,
                        uint8_t *pk, size_t *pk_len, uint8_t account[QCN_ADDRESS_BYTES])
{
    struct qcn_keystore_file f;
    struct qcn_buf b;
    int err;
    qcn_buf_init(&b, QCN_KEYSTORE_MAX_FILE);
    err = qcn_keystore_read(&b, dir, name);
    if (err == QCN_OK)
        err = qcn_keystore_parse(&f, b.p, b.len);
    else if (err == QCN_ERR_TOO_LARGE)
        err = QCN_ERR_KEYSTORE_FORMAT;
    if (err == QCN_OK) {
        *scheme = f.scheme;
        memcpy(pk, f.pk.p, f.pk.len);
        *pk_len = f.pk.len;
        memcpy(account, f.address, QCN_ADDRESS_BYTES);
    }
    qcn_buf_clear(&b);
    if (err == QCN_ERR_NOT_FOUND)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "no key named '%s' in %s", name, dir);
    if (err == QCN_ERR_INVALID_ARG)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "'%s' is not a key name (letters, digits, '.', '_', '-')", name);
    if (err != QCN_OK)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "key '%s': %s", name, qcn_err_str(err));
    return 0;
}

static int multisig_descriptor_address(const char *dir, const char *name,
                                       uint8_t out[QCN_ADDRESS_BYTES])
{
    char path[QCN_KEYSTORE_PATH_MAX];
    json_error_t jerr;
    json_t *j;
    int n, err = QCN_ERR_NOT_FOUND;
    if (!qcn_keystore_name_valid(name))
        return QCN_ERR_INVALID_ARG;
    n = snprintf(path, sizeof path, "%s/%s.multisig", dir, name);
    if (n < 0 || (size_t)n >= sizeof path || access(path, F_OK) != 0)
        return QCN_ERR_NOT_FOUND;
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (j != NULL && json_is_string(json_object_get(j, "address")))
        err = qcn_address_from_text(out, json_string_value(json_object_get(j, "address")));
    else
        err = QCN_ERR_BAD_JSON;
    json_decref(j);
    return err;
}

int qcn_wcli_resolve(struct qcn_wargs *a, const char *dir, const char *what,
                     uint8_t out[QCN_ADDRESS_BYTES])
{
    uint8_t scheme, pk[QCN_MLDSA_MAX_PK_BYTES];
    size_t pklen;
    char path[QCN_KEYSTORE_PATH_MAX];
    int err;

    if (what == NULL)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "an address or key name is required");
    if (strncmp(what, "0x", 2) == 0 || strncmp(what, "0X", 2) == 0) {
        err = qcn_address_from_text(out, what);
        if (err == QCN_ERR_ADDRESS_CHECKSUM)
            return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                                  "bad address checksum in %s (a mixed-case address must match "
                                  "its EIP-55 checksum; check for a typo)",
                                  what);
        if (err != QCN_OK)
            return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                                  "'%s' is not an address (0x and 40 hex digits)", what);
        return 0;
    }
    if (qcn_keystore_path(path, sizeof path, dir, what) == QCN_OK && access(path, F_OK) == 0)
        return qcn_wcli_key_public(a, dir, what, &scheme, pk, &pklen, out);
    err = multisig_descriptor_address(dir, what, out);
    if (err == QCN_OK)
        return 0;
    if (err != QCN_ERR_NOT_FOUND && err != QCN_ERR_INVALID_ARG)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "multisig '%s': %s", what, qcn_err_str(err));
    return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                          "'%s' is neither an address nor a key or multisig name in %s", what, dir);
}

static int read_password(struct qcn_wargs *a, char **pw, size_t *len, const char *prompt,
                         int confirm)
{
    char msg[256];
    const char *file = qcn_wargs_get(a, "password-file");
    int err;
    *pw = qcn_secure_alloc(QCN_PASSWORD_MAX + 1);
    *len = 0;
    if (*pw == NULL)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "out of memory");
    err = qcn_password_read(*pw, QCN_PASSWORD_MAX + 1, len, file, prompt, confirm, msg, sizeof msg);
    if (err != QCN_OK) {
        qcn_secure_free(*pw);
        *pw = NULL;
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "%s", msg);
    }
    return 0;
}

int qcn_wcli_new_password(struct qcn_wargs *a, char **pw, size_t *len, const char *prompt)
{
    return read_password(a, pw, len, prompt, 1);
}

int qcn_wcli_unlock(struct qcn_wargs *a, const char *dir, const char *name,
                    struct qcn_wallet_key **k)
{
    *k = qcn_wallet_key_new();
    if (*k == NULL)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "out of guarded memory");
    return qcn_wcli_open_key(a, dir, name, *k);
}

int qcn_wcli_open_key(struct qcn_wargs *a, const char *dir, const char *name,
                      struct qcn_wallet_key *k)
{
    char prompt[128], *pw = NULL;
    size_t len;
    int rc, err;
    uint8_t scheme, acct[QCN_ADDRESS_BYTES], *pk = malloc(QCN_MLDSA_MAX_PK_BYTES);
    size_t pklen;

    if (pk == NULL)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "out of memory");
    /* a missing or malformed file is reported before asking for a password */
    rc = qcn_wcli_key_public(a, dir, name, &scheme, pk, &pklen, acct);
    free(pk);
    if (rc != 0)
        return rc;
    snprintf(prompt, sizeof prompt, "Password for key %s: ", name);
    if ((rc = read_password(a, &pw, &len, prompt, 0)) != 0)
        return rc;
    err = qcn_keystore_load(k, dir, name, pw, len);
    qcn_secure_free(pw);
    if (err == QCN_ERR_PASSWORD)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "wrong password for key %s (the key file is unchanged)", name);
    if (err != QCN_OK)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "key %s: %s", name, qcn_err_str(err));
    return 0;
}

int qcn_wcli_rpc(struct qcn_wargs *a, struct qcn_rpc_client **out)
{
    const char *url = qcn_wargs_get(a, "rpc");
    uint64_t t;
    int has, rc;
    if ((rc = qcn_wargs_u64(a, "rpc-timeout", &t, &has)) != 0)
        return rc;
    if (url == NULL)
        url = getenv("QCN_RPC");
    if (url == NULL || url[0] == '\0')
        url = QCN_WALLET_RPC_DEFAULT_URL;
    *out =
        qcn_rpc_client_new(url, has ? (long)(t > 600000 ? 600000 : t) : QCN_WALLET_RPC_TIMEOUT_MS);
    if (*out == NULL)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "--rpc: '%s' is not an http:// or https:// URL", url);
    return 0;
}

int qcn_wcli_rpc_error(const struct qcn_wargs *a, struct qcn_rpc_client *c, int err,
                       const char *what)
{
    json_t *d = qcn_rpc_client_data(c), *reason = d != NULL ? json_object_get(d, "reason") : NULL;
    if (err == QCN_ERR_NODE_UNREACHABLE)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "%s", qcn_rpc_client_message(c));
    if (err == QCN_ERR_RPC && json_is_string(reason))
        return qcn_wcli_error(a, QCN_WCLI_EXIT_NO, "%s: node refused: %s (%s)", what,
                              qcn_rpc_client_message(c), json_string_value(reason));
    if (err == QCN_ERR_RPC)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_NO, "%s: node answered: %s (code %d)", what,
                              qcn_rpc_client_message(c), qcn_rpc_client_code(c));
    return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "%s: %s", what,
                          qcn_rpc_client_message(c)[0] ? qcn_rpc_client_message(c)
                                                       : qcn_err_str(err));
}

static json_t *addr_param(const uint8_t a[QCN_ADDRESS_BYTES])
{
    return qcn_json_hex(a, QCN_ADDRESS_BYTES);
}

int qcn_wcli_fill(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t)
{
    uint64_t v, base = 0;
    int has, rc, err, has_max, has_tip;
    json_t *r;

    if ((rc = qcn_wargs_u64(a, "chain-id", &v, &has)) != 0)
        return rc;
    if (has)
        t->f.chain_id = v;
    else if (c == NULL)
        goto offline;
    else if ((err = qcn_rpc_client_u64(c, &t->f.chain_id, "eth_chainId", NULL)) != QCN_OK)
        return qcn_wcli_rpc_error(a, c, err, "eth_chainId");
    if ((rc = qcn_wargs_u64(a, "nonce", &v, &has)) != 0)
        return rc;
    if (has)
        t->f.nonce = v;
    else if (c == NULL)
        goto offline;
    else if ((err = qcn_rpc_client_u64(c, &t->f.nonce, "eth_getTransactionCount",
                                       json_pack("[o,s]", addr_param(t->f.from), "pending"))) !=
             QCN_OK)
        return qcn_wcli_rpc_error(a, c, err, "eth_getTransactionCount");
    if ((rc = qcn_wargs_u64(a, "tip", &t->f.max_priority_fee, &has_tip)) != 0 ||
        (rc = qcn_wargs_u64(a, "max-fee", &t->f.max_fee, &has_max)) != 0)
        return rc;
    if (!has_tip) {
        if (c == NULL)
            goto offline;
        if ((err = qcn_rpc_client_u64(c, &t->f.max_priority_fee, "eth_maxPriorityFeePerGas",
                                      NULL)) != QCN_OK)
            return qcn_wcli_rpc_error(a, c, err, "eth_maxPriorityFeePerGas");
    }
    if (!has_max) {
        json_t *bases;
        if (c == NULL)
            goto offline;
        /* the last entry of baseFeePerGas is the next block's base fee */
        err = qcn_rpc_client_call(c, &r, "eth_feeHistory", json_pack("[s,s,[]]", "0x1", "latest"));
        if (err != QCN_OK)
            return qcn_wcli_rpc_error(a, c, err, "eth_feeHistory");
        bases = json_object_get(r, "baseFeePerGas");
        err = qcn_json_quantity_u64(&base, json_array_get(bases, json_array_size(bases) - 1));
        json_decref(r);
        if (err != QCN_OK)
            return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "eth_feeHistory: no base fee");
        /* twice the next base fee covers six full blocks of +12.5% each */
        if (__builtin_mul_overflow(base, 2, &t->f.max_fee) ||
            __builtin_add_overflow(t->f.max_fee, t->f.max_priority_fee, &t->f.max_fee))
            return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "fee overflow");
    }
    if (t->f.max_priority_fee > t->f.max_fee)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "--tip is above the max fee");
    if ((rc = qcn_wargs_u64(a, "gas-limit", &v, &has)) != 0)
        return rc;
    t->f.gas_limit = has ? v : qcn_txfile_gas(t);
    /* A call with data may run contract code: the node's estimate includes
     * execution; the local figure is intrinsic gas only (protocol §5). An
     * estimate the node cannot give (no EVM yet, a revert) leaves the local
     * one, and the node's admission says what is wrong. */
    if (!has && c != NULL && t->data.len > 0 && t->f.has_to &&
        memcmp(t->f.to, qcn_wallet_key_manager, QCN_ADDRESS_BYTES) != 0) {
        char val[2 + 64 + 1];
        uint8_t be[32];
        uint64_t est;
        size_t z = 0;
        qcn_u256_to_be(be, &t->f.value);
        while (z < 31 && be[z] == 0)
            z++;
        val[0] = '0';
        val[1] = 'x';
        qcn_hex_encode(val + 2, be + z, 32 - z);
        if (val[2] == '0' && val[3] != '\0')
            memmove(val + 2, val + 3, strlen(val + 3) + 1); /* quantities have no leading zero */
        if (qcn_rpc_client_u64(c, &est, "eth_estimateGas",
                               json_pack("[{s:o,s:o,s:s,s:o}]", "from", addr_param(t->f.from), "to",
                                         addr_param(t->f.to), "value", val, "data",
                                         qcn_json_hex(t->data.p, t->data.len))) == QCN_OK &&
            est > t->f.gas_limit)
            t->f.gas_limit = est;
    }
    return 0;
offline:
    return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                          "without a node, give --chain-id, --nonce, --tip and --max-fee");
}

int qcn_wcli_attach_key(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t,
                        uint8_t scheme, const uint8_t *pk, size_t pk_len)
{
    json_t *r = NULL, *rpk;
    size_t n = 0;
    int err, force = qcn_wargs_flag(a, "force"), nokey = qcn_wargs_flag(a, "no-key");
    int match = 0;
    uint8_t *buf;

    t->pk_len = 0;
    if (c == NULL) {
        if (!nokey) {
            memcpy(t->pk, pk, pk_len);
            t->pk_len = pk_len;
        }
        return 0;
    }
    err = qcn_rpc_client_call(c, &r, "qcn_getAccountKey",
                              json_pack("[o,s]", addr_param(t->f.from), "latest"));
    if (err != QCN_OK)
        return qcn_wcli_rpc_error(a, c, err, "qcn_getAccountKey");
    if (json_is_null(r)) {
        /* first transaction of the account: it carries its key (protocol §4) */
        json_decref(r);
        if (!nokey) {
            memcpy(t->pk, pk, pk_len);
            t->pk_len = pk_len;
        }
        return 0;
    }
    rpk = json_object_get(r, "publicKey");
    buf = malloc(QCN_MLDSA_MAX_PK_BYTES);
    if (buf != NULL && json_is_string(rpk) &&
        json_integer_value(json_object_get(r, "scheme")) == scheme &&
        qcn_hex_decode(buf, QCN_MLDSA_MAX_PK_BYTES, &n, json_string_value(rpk),
                       strlen(json_string_value(rpk))) == QCN_OK &&
        n == pk_len && memcmp(buf, pk, pk_len) == 0)
        match = 1;
    free(buf);
    json_decref(r);
    if (!match && !force) {
        char at[QCN_ADDRESS_TEXT_BYTES];
        qcn_address_to_text(at, t->f.from);
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                              "this key is not the key recorded on chain for %s (was the "
                              "account rotated to another key?); --force sends anyway",
                              at);
    }
    return 0;
}

int qcn_wcli_submit(struct qcn_wargs *a, struct qcn_rpc_client *c, const struct qcn_txfile *t,
                    uint8_t hash[QCN_HASH_BYTES], int allow_short)
{
    struct qcn_buf env;
    json_t *r = NULL;
    size_t n = 0;
    int err, rc = 0;

    qcn_buf_init(&env, QCN_TX_MAX_BYTES);
    err = qcn_txfile_encode(t, &env, hash, allow_short);
    if (err == QCN_ERR_TX_MULTISIG) {
        rc = qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                            "%u more signature(s) needed before submitting (--force sends it "
                            "anyway)",
                            qcn_txfile_missing(t));
        goto out;
    }
    if (err != QCN_OK) {
        rc = qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "cannot encode the transaction: %s",
                            qcn_err_str(err));
        goto out;
    }
    err = qcn_rpc_client_call(c, &r, "eth_sendRawTransaction",
                              json_pack("[o]", qcn_json_hex(env.p, env.len)));
    if (err != QCN_OK) {
        rc = qcn_wcli_rpc_error(a, c, err, "transaction rejected");
        goto out;
    }
    {
        uint8_t h[QCN_HASH_BYTES];
        if (!json_is_string(r) ||
            qcn_hex_decode(h, sizeof h, &n, json_string_value(r), strlen(json_string_value(r))) !=
                QCN_OK ||
            n != sizeof h || memcmp(h, hash, sizeof h) != 0)
            rc = qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE,
                                "the node answered with another transaction hash");
    }
out:
    json_decref(r);
    qcn_buf_clear(&env);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int qcn_wcli_wait(struct qcn_wargs *a, struct qcn_rpc_client *c, const uint8_t hash[QCN_HASH_BYTES],
                  json_t **receipt)
{
    char hex[2 * QCN_HASH_BYTES + 3];
    uint64_t timeout, head = 0;
    int has, rc, err, tty = isatty(STDERR_FILENO);
    double start = now_s(), last_line = -100;
    json_t *r;

    *receipt = NULL;
    if ((rc = qcn_wargs_u64(a, "timeout", &timeout, &has)) != 0)
        return rc;
    if (!has)
        timeout = QCN_WCLI_WAIT_DEFAULT_S;
    if (timeout > QCN_WCLI_WAIT_MAX_S)
        timeout = QCN_WCLI_WAIT_MAX_S;
    hex[0] = '0';
    hex[1] = 'x';
    qcn_hex_encode(hex + 2, hash, QCN_HASH_BYTES);
    for (;;) {
        double el = now_s() - start;
        err = qcn_rpc_client_call(c, &r, "eth_getTransactionReceipt", json_pack("[s]", hex));
        if (err != QCN_OK) {
            if (tty)
                fputc('\n', stderr);
            return qcn_wcli_rpc_error(a, c, err, "eth_getTransactionReceipt");
        }
        if (!json_is_null(r)) {
            if (tty)
                fprintf(stderr, "\r\033[K");
            uint64_t bn;
            if (qcn_json_quantity_u64(&bn, json_object_get(r, "blockNumber")) != QCN_OK)
                bn = 0;
            fprintf(stderr, "included in block %llu after %.1f s\n", (unsigned long long)bn, el);
            *receipt = r;
            return 0;
        }
        json_decref(r);
        if (el >= (double)timeout) {
            if (tty)
                fputc('\n', stderr);
            return qcn_wcli_error(a, QCN_WCLI_EXIT_NO,
                                  "no receipt for %s after %llu s (still pending, or dropped)", hex,
                                  (unsigned long long)timeout);
        }
        if (qcn_rpc_client_u64(c, &head, "eth_blockNumber", NULL) != QCN_OK)
            head = 0;
        if (tty)
            fprintf(stderr, "\rwaiting for %.12s... %.1f s / %llu s, head block %llu", hex, el,
                    (unsigned long long)timeout, (unsigned long long)head);
        else if (el - last_line >= 5.0) {
            fprintf(stderr, "waiting for %s: %.0f s of %llu s, head block %llu\n", hex, el,
                    (unsigned long long)timeout, (unsigned long long)head);
            last_line = el;
        }
        usleep(200 * 1000);
    }
}

void qcn_wcli_coins(char *out, size_t cap, const struct qcn_u256 *wei)
{
    char t[QCN_AMOUNT_TEXT_BYTES];
    qcn_amount_format(t, wei);
    snprintf(out, cap, "%s QCN", t);
}

int qcn_wcli_sender(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t,
                    const struct qcn_wallet_key *k)
{
    int rc;
    memcpy(t->f.from, k->account, QCN_ADDRESS_BYTES);
    t->f.scheme = k->scheme;
    if ((rc = qcn_wcli_attach_key(a, c, t, k->scheme, k->pk, k->pk_len)) != 0)
        return rc;
    return qcn_wcli_fill(a, c, t);
}

int qcn_wcli_sign_submit(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t,
                         const struct qcn_wallet_key *k, uint8_t hash[QCN_HASH_BYTES])
{
    if (qcn_txfile_sign(t, k) != QCN_OK)
        return qcn_wcli_error(a, QCN_WCLI_EXIT_USAGE, "signing failed");
    return qcn_wcli_submit(a, c, t, hash, 0);
}

void qcn_wcli_hash_hex(char out[QCN_WCLI_HASH_TEXT_BYTES], const uint8_t h[QCN_HASH_BYTES])
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, h, QCN_HASH_BYTES);
}
