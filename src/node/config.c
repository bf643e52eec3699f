/* config.c - defaults, key = value parsing, path helpers.
 * One table, config_keys, lists every key: parse, set and dump all use it,
 * so an undocumented key cannot sneak in without showing up in
 * `qcn node --print-config`. docs/node.md documents each one. */
#include "node/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/log.h"

enum kind { K_U64, K_BOOL, K_STR, K_LOGLEVEL, K_ADDR20, K_ENGINE, K_HOSTPORTS, K_ORIGINS };

struct key {
    const char *name;
    enum kind kind;
    size_t off;
    uint64_t min, max; /* K_U64 bounds */
};

#define OFF(f) offsetof(struct qcn_node_config, f)

static const struct key config_keys[] = {
    {"datadir", K_STR, OFF(datadir), 0, 0},
    {"log.level", K_LOGLEVEL, OFF(log_level), 0, 0},
    {"log.json", K_BOOL, OFF(log_json), 0, 0},
    {"engine", K_ENGINE, OFF(engine), 0, 0},
    {"dev.period_ms", K_U64, OFF(dev_period_ms), 0, 24ull * 3600 * 1000},
    {"dev.max_txs", K_U64, OFF(dev_max_txs), 0, 65536},
    {"dev.coinbase", K_ADDR20, OFF(coinbase), 0, 0},
    {"rpc.enabled", K_BOOL, OFF(rpc_enabled), 0, 0},
    {"rpc.addr", K_STR, OFF(rpc_addr), 0, 0},
    {"rpc.cors", K_ORIGINS, OFF(rpc_cors), 0, 0},
    {"rpc.max_body", K_U64, OFF(rpc_max_body), 0, 64ull << 20},
    {"rpc.max_batch", K_U64, OFF(rpc_max_batch), 0, 100000},
    {"rpc.rate_per_sec", K_U64, OFF(rpc_rate_per_sec), 0, 1000000},
    {"rpc.logs_range", K_U64, OFF(rpc_logs_range), 0, 1000000},
    {"p2p.listen", K_HOSTPORTS, OFF(p2p_listen), 0, 1},
    {"p2p.bootnodes", K_HOSTPORTS, OFF(p2p_bootnodes), 0, 0},
    {"p2p.test_faults", K_BOOL, OFF(p2p_test_faults), 0, 0},
    {"mempool.max_count", K_U64, OFF(pool_max_count), 1, 10000000},
    {"mempool.max_bytes", K_U64, OFF(pool_max_bytes), 1024, 1ull << 36},
    {"mempool.max_per_sender", K_U64, OFF(pool_max_per_sender), 1, 1000000},
    {"mempool.max_nonce_gap", K_U64, OFF(pool_max_nonce_gap), 0, 1000000},
    {"mempool.expiry_s", K_U64, OFF(pool_expiry_s), 0, 365ull * 24 * 3600},
    {"mempool.replace_bump_pct", K_U64, OFF(pool_replace_bump_pct), 10, 1000},
    {"mempool.min_priority_fee", K_U64, OFF(pool_min_priority_fee), 0, UINT64_MAX},
    {"store.map_size_mb", K_U64, OFF(store_map_size_mb), 1, 1ull << 24},
    {"verify.threads", K_U64, OFF(verify_threads), 0, 1024},
};

void qcn_node_config_default(struct qcn_node_config *c)
{
    memset(c, 0, sizeof *c);
    if (qcn_node_config_expand_path(c->datadir, sizeof c->datadir, QCN_CONFIG_DEFAULT_DATADIR) !=
        QCN_OK)
        snprintf(c->datadir, sizeof c->datadir, ".qcn");
    c->log_level = QCN_LOG_INFO;
    snprintf(c->engine, sizeof c->engine, "dev");
    c->dev_period_ms = 1000;
    c->rpc_enabled = 1;
    snprintf(c->rpc_addr, sizeof c->rpc_addr, "127.0.0.1:8545");
    /* The ledger's mempool defaults (chain/mempool.h). */
    c->pool_max_count = 20000;
    c->pool_max_bytes = 256ull << 20;
    c->pool_max_per_sender = 64;
    c->pool_max_nonce_gap = 64;
    c->pool_expiry_s = 3 * 3600;
    c->pool_replace_bump_pct = 10;
    c->store_map_size_mb = 1024;
}

int qcn_node_config_expand_path(char *out, size_t outlen, const char *path)
{
    int n;
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
        const char *home = getenv("HOME");
        if (home == NULL || home[0] == '\0')
            return QCN_ERR_CONFIG;
        n = snprintf(out, outlen, "%s%s", home, path + 1);
    } else {
        n = snprintf(out, outlen, "%s", path);
    }
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen > 0)
            out[0] = '\0';
        return QCN_ERR_TOO_LARGE;
    }
    return QCN_OK;
}

int qcn_node_config_path(const struct qcn_node_config *c, char *out, size_t outlen,
                         const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", c->datadir, name);
    if (n < 0 || (size_t)n >= outlen)
        return QCN_ERR_TOO_LARGE;
    return QCN_OK;
}

static int parse_u64(uint64_t *out, const char *s)
{
    char *end;
    unsigned long long v;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(int *out, const char *s)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0 ||
        strcmp(s, "on") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0 ||
        strcmp(s, "off") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

int qcn_node_config_set(struct qcn_node_config *c, const char *key, const char *value, char *err,
                        size_t errlen)
{
    const struct key *k = NULL;
    char *base = (char *)c;
    size_t i;
    uint64_t u;
    int b;

    for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++)
        if (strcmp(config_keys[i].name, key) == 0)
            k = &config_keys[i];
    if (k == NULL) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return QCN_ERR_CONFIG;
    }
    switch (k->kind) {
    case K_U64:
        if (parse_u64(&u, value) != 0 || u < k->min || u > k->max) {
            snprintf(err, errlen, "%s: expected an integer in [%llu, %llu], got '%s'", key,
                     (unsigned long long)k->min, (unsigned long long)k->max, value);
            return QCN_ERR_CONFIG;
        }
        memcpy(base + k->off, &u, sizeof u);
        break;
    case K_BOOL:
        if (parse_bool(&b, value) != 0) {
            snprintf(err, errlen, "%s: expected true or false, got '%s'", key, value);
            return QCN_ERR_CONFIG;
        }
#ifndef QCN_TEST_FAULTS
        if (b && k->off == OFF(p2p_test_faults)) {
            snprintf(err, errlen,
                     "%s: this qcn was built without test fault injection (QCN_TEST_FAULTS=OFF, "
                     "e.g. the release preset); the key is for e2e tests on test builds only",
                     key);
            return QCN_ERR_CONFIG;
        }
#endif
        memcpy(base + k->off, &b, sizeof b);
        break;
    case K_LOGLEVEL:
        b = qcn_log_level_parse(value);
        if (b < 0) {
            snprintf(err, errlen, "%s: expected error|warn|info|debug|trace, got '%s'", key, value);
            return QCN_ERR_CONFIG;
        }
        c->log_level = b;
        break;
    case K_ENGINE:
        if (value[0] == '\0' || strlen(value) >= sizeof c->engine) {
            snprintf(err, errlen, "%s: bad engine name '%s'", key, value);
            return QCN_ERR_CONFIG;
        }
        snprintf(c->engine, sizeof c->engine, "%s", value);
        break;
    case K_ADDR20: {
        uint8_t a[20];
        if (qcn_hex_decode_exact(a, sizeof a, value) != QCN_OK) {
            snprintf(err, errlen, "%s: expected a 20-byte hex address, got '%s'", key, value);
            return QCN_ERR_CONFIG;
        }
        memcpy(c->coinbase, a, sizeof a);
        c->has_coinbase = 1;
        break;
    }
    case K_HOSTPORTS: {
        /* Empty (off), or host:port items separated by commas; max = 1
         * allows a single item. */
        size_t cap = k->off == OFF(p2p_listen) ? sizeof c->p2p_listen : sizeof c->p2p_bootnodes;
        const char *item = value;
        if (strlen(value) >= cap) {
            snprintf(err, errlen, "%s: value too long", key);
            return QCN_ERR_CONFIG;
        }
        while (*item != '\0') {
            const char *comma = strchr(item, ',');
            size_t n = comma != NULL ? (size_t)(comma - item) : strlen(item);
            const char *colon = memchr(item, ':', n);
            if (n == 0 || colon == NULL || colon == item || colon + 1 == item + n ||
                (k->max == 1 && comma != NULL)) {
                snprintf(err, errlen, "%s: expected %s, got '%s'", key,
                         k->max == 1 ? "host:port" : "host:port[,host:port...]", value);
                return QCN_ERR_CONFIG;
            }
            item += n + (comma != NULL);
            if (comma != NULL && *item == '\0') {
                snprintf(err, errlen, "%s: trailing comma in '%s'", key, value);
                return QCN_ERR_CONFIG;
            }
        }
        snprintf(base + k->off, cap, "%s", value);
        break;
    }
    case K_ORIGINS: {
        /* Empty (none), "*", or origins separated by commas: printable,
         * no spaces (they are echoed in Access-Control-Allow-Origin). */
        const char *ch;
        if (strlen(value) >= sizeof c->rpc_cors) {
            snprintf(err, errlen, "%s: value too long", key);
            return QCN_ERR_CONFIG;
        }
        for (ch = value; *ch != '\0'; ch++)
            if (*ch <= ' ' || *ch > '~') {
                snprintf(err, errlen, "%s: expected origins separated by commas, got '%s'", key,
                         value);
                return QCN_ERR_CONFIG;
            }
        snprintf(c->rpc_cors, sizeof c->rpc_cors, "%s", value);
        break;
    }
    case K_STR: {
        char tmp[QCN_CONFIG_MAX_PATH];
        size_t cap = k->off == OFF(datadir) ? sizeof c->datadir : sizeof c->rpc_addr;
        if (value[0] == '\0') {
            snprintf(err, errlen, "%s: empty value", key);
            return QCN_ERR_CONFIG;
        }
        if (k->off == OFF(datadir)) {
            if (qcn_node_config_expand_path(tmp, sizeof tmp, value) != QCN_OK) {
                snprintf(err, errlen, "%s: cannot use '%s' (too long, or no $HOME)", key, value);
                return QCN_ERR_CONFIG;
            }
        } else if (strlen(value) >= cap || strchr(value, ':') == NULL) {
            snprintf(err, errlen, "%s: expected host:port, got '%s'", key, value);
            return QCN_ERR_CONFIG;
        } else {
            snprintf(tmp, sizeof tmp, "%s", value);
        }
        snprintf(base + k->off, cap, "%s", tmp);
        break;
    }
    }
    return QCN_OK;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int qcn_node_config_parse(struct qcn_node_config *c, const char *text, size_t len, char *err,
                          size_t errlen)
{
    char line[QCN_CONFIG_MAX_LINE + 1], msg[512];
    size_t pos = 0, lineno = 0;
    struct qcn_node_config tmp = *c;

    if (len > QCN_CONFIG_MAX_FILE_BYTES) {
        snprintf(err, errlen, "config file over %u bytes", QCN_CONFIG_MAX_FILE_BYTES);
        return QCN_ERR_TOO_LARGE;
    }
    while (pos < len) {
        size_t n = 0;
        char *l, *eq, *key, *val;
        lineno++;
        while (pos < len && text[pos] != '\n') {
            if (text[pos] == '\0' || n >= QCN_CONFIG_MAX_LINE) {
                snprintf(err, errlen, "line %zu: %s", lineno,
                         text[pos] == '\0' ? "NUL byte" : "line too long");
                return QCN_ERR_CONFIG;
            }
            line[n++] = text[pos++];
        }
        pos++; /* the newline */
        line[n] = '\0';
        l = trim(line);
        if (*l == '\0' || *l == '#')
            continue;
        eq = strchr(l, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "line %zu: expected key = value", lineno);
            return QCN_ERR_CONFIG;
        }
        *eq = '\0';
        key = trim(l);
        val = trim(eq + 1);
        if (qcn_node_config_set(&tmp, key, val, msg, sizeof msg) != QCN_OK) {
            snprintf(err, errlen, "line %zu: %s", lineno, msg);
            return QCN_ERR_CONFIG;
        }
    }
    *c = tmp;
    return QCN_OK;
}

int qcn_node_config_load(struct qcn_node_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;
    int rc;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? QCN_ERR_NOT_FOUND : QCN_ERR_IO;
    }
    buf = malloc(QCN_CONFIG_MAX_FILE_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        return QCN_ERR_NOMEM;
    }
    n = fread(buf, 1, QCN_CONFIG_MAX_FILE_BYTES + 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = QCN_ERR_IO;
    } else {
        char msg[600];
        rc = qcn_node_config_parse(c, buf, n, msg, sizeof msg);
        if (rc != QCN_OK)
            snprintf(err, errlen, "%s: %s", path, msg);
    }
    free(buf);
    fclose(f);
    return rc;
}

void qcn_node_config_dump(const struct qcn_node_config *c, FILE *f)
{
    static const char *const levels[] = {"error", "warn", "info", "debug", "trace"};
    const char *base = (const char *)c;
    size_t i;
    for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
        const struct key *k = &config_keys[i];
        uint64_t u;
        int b;
        if (k->kind == K_ADDR20 && !c->has_coinbase)
            fputs("# ", f);
        fprintf(f, "%s = ", k->name);
        switch (k->kind) {
        case K_U64:
            memcpy(&u, base + k->off, sizeof u);
            fprintf(f, "%llu\n", (unsigned long long)u);
            break;
        case K_BOOL:
            memcpy(&b, base + k->off, sizeof b);
            fprintf(f, "%s\n", b ? "true" : "false");
            break;
        case K_LOGLEVEL:
            fprintf(f, "%s\n",
                    c->log_level >= 0 && c->log_level <= 4 ? levels[c->log_level] : "info");
            break;
        case K_ENGINE:
        case K_STR:
        case K_HOSTPORTS:
        case K_ORIGINS:
            fprintf(f, "%s\n", base + k->off);
            break;
        case K_ADDR20: {
            char hex[41];
            /* Unset: the key stays commented out, so a dumped file reads
             * back to the same configuration. */
            if (c->has_coinbase)
                fprintf(f, "0x%s\n", qcn_hex_encode(hex, c->coinbase, sizeof c->coinbase));
            else
                fprintf(f, "\n# (dev.coinbase unset: blocks pay the zero address)\n");
            break;
        }
        }
    }
}
