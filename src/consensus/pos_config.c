/* pos_config.c - consensus.conf for the pos engine (pos_config.h). */
#include "consensus/pos_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mldsa.h"
#include "util/hex.h"
#include "util/mem.h"

/* Splits off the next line of *p (NUL-terminated in place); NULL at the end. */
static char *next_line(char **p)
{
    char *line = *p, *nl;
    if (line == NULL || *line == '\0')
        return NULL;
    nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = line + strlen(line);
    }
    return line;
}

static int read_all(const char *path, char **out, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    *out = NULL;
    if (f == NULL)
        return errno == ENOENT ? QCN_ERR_NOT_FOUND : QCN_ERR_IO;
    buf = malloc(max + 1);
    if (buf == NULL) {
        fclose(f);
        return QCN_ERR_NOMEM;
    }
    n = fread(buf, 1, max + 1, f);
    fclose(f);
    if (n > max) {
        qcn_wipe(buf, max + 1);
        free(buf);
        return QCN_ERR_TOO_LARGE;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return QCN_OK;
}

/* The first line that is not blank or a '#' comment, trimmed, decoded as
 * hex into out (want bytes exactly, or up to want when exact is 0). */
static int read_hex_file(const char *path, uint8_t *out, size_t want, size_t *got, size_t max)
{
    char *txt, *line, *cur;
    size_t len, n = 0;
    int err = read_all(path, &txt, &len, max);
    if (err != QCN_OK)
        return err;
    err = QCN_ERR_CONFIG;
    cur = txt;
    while ((line = next_line(&cur)) != NULL) {
        size_t l = strlen(line);
        while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = '\0';
        if (l == 0 || line[0] == '#')
            continue;
        if (qcn_hex_decode(out, want, &n, line, l) == QCN_OK)
            err = QCN_OK;
        break;
    }
    if (got)
        *got = n;
    qcn_wipe(txt, len);
    free(txt);
    return err;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (v[0] < '0' || v[0] > '9')
        return -1;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno || *end ? -1 : 0;
}

int qcn_pos_settings_load(struct qcn_pos_settings *s, const char *path, char *err, size_t errlen)
{
    char *txt = NULL, *line, *cur;
    size_t len, lineno = 0;
    int rc, have_chain = 0, have_vals = 0;

    memset(s, 0, sizeof *s);
    if (errlen)
        err[0] = '\0';
    if ((rc = read_all(path, &txt, &len, QCN_POS_CONFIG_MAX_FILE)) != QCN_OK) {
        snprintf(err, errlen, "%s: %s", path, qcn_err_str(rc));
        return rc;
    }
    rc = QCN_OK;
    cur = txt;
    while (rc == QCN_OK && (line = next_line(&cur)) != NULL) {
        char *eq, *k, *v, *e;
        uint64_t x;
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0' || *line == '#' || *line == '\r')
            continue;
        eq = strchr(line, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%zu: expected key = value", path, lineno);
            rc = QCN_ERR_CONFIG;
            break;
        }
        *eq = '\0';
        k = line;
        v = eq + 1;
        for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
            e[-1] = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\t'); e--)
            e[-1] = '\0';
        if (strcmp(k, "pos.chain_id") == 0 && parse_u64(v, &x) == 0 && x > 0) {
            s->cfg.chain_id = x;
            have_chain = 1;
        } else if (strcmp(k, "pos.validators") == 0) {
            size_t n;
            s->validators = malloc(QCN_POS_CONFIG_MAX_VALSET_HEX / 2);
            if (s->validators == NULL) {
                rc = QCN_ERR_NOMEM;
                break;
            }
            if (read_hex_file(v, s->validators, QCN_POS_CONFIG_MAX_VALSET_HEX / 2, &n,
                              QCN_POS_CONFIG_MAX_VALSET_HEX + 4096) != QCN_OK) {
                snprintf(err, errlen, "%s:%zu: cannot read the validator set from %s", path, lineno,
                         v);
                rc = QCN_ERR_CONFIG;
                break;
            }
            s->cfg.validators = s->validators;
            s->cfg.validators_len = n;
            have_vals = 1;
        } else if (strcmp(k, "pos.validator_key") == 0) {
            uint8_t seed[QCN_MLDSA_SEED_BYTES];
            size_t n = 0;
            if (read_hex_file(v, seed, sizeof seed, &n, 4096) != QCN_OK || n != sizeof seed ||
                qcn_mldsa_keygen(QCN_MLDSA65, s->cfg.pk, s->cfg.sk, seed) != QCN_OK) {
                snprintf(err, errlen, "%s:%zu: cannot read a validator key from %s", path, lineno,
                         v);
                rc = QCN_ERR_CONFIG;
            } else {
                s->cfg.has_key = 1;
            }
            qcn_wipe(seed, sizeof seed);
        } else if (strcmp(k, "pos.beacon_seed") == 0) {
            size_t n = 0;
            if (read_hex_file(v, s->cfg.beacon_seed, sizeof s->cfg.beacon_seed, &n, 4096) !=
                    QCN_OK ||
                n != sizeof s->cfg.beacon_seed) {
                snprintf(err, errlen, "%s:%zu: cannot read a beacon seed from %s", path, lineno, v);
                rc = QCN_ERR_CONFIG;
            }
        } else if (strcmp(k, "pos.beacon_length") == 0 && parse_u64(v, &x) == 0 && x > 0) {
            s->cfg.beacon_length = x;
        } else if (strcmp(k, "pos.wal") == 0 && strlen(v) < sizeof s->wal_path && v[0]) {
            memcpy(s->wal_path, v, strlen(v) + 1);
            s->cfg.wal_path = s->wal_path;
        } else if (strcmp(k, "pos.block_interval_ms") == 0 && parse_u64(v, &x) == 0 &&
                   x <= 600000) {
            s->cfg.block_interval_ms = x;
        } else if (strcmp(k, "pos.test_fault") == 0) {
#ifdef QCN_TEST_FAULTS
            if (strcmp(v, "double_sign") == 0) {
                s->cfg.fault_double_sign = 1;
            } else {
                snprintf(err, errlen, "%s:%zu: pos.test_fault: unknown fault '%s' (double_sign)",
                         path, lineno, v);
                rc = QCN_ERR_CONFIG;
            }
#else
            snprintf(err, errlen,
                     "%s:%zu: pos.test_fault: this build has no test faults (they are compiled "
                     "in only with -DQCN_TEST_FAULTS=ON, for e2e tests; never on a real network)",
                     path, lineno);
            rc = QCN_ERR_CONFIG;
#endif
        } else {
            snprintf(err, errlen, "%s:%zu: unknown key or bad value: %s", path, lineno, k);
            rc = QCN_ERR_CONFIG;
        }
    }
    if (rc == QCN_OK && (!have_chain || !have_vals)) {
        snprintf(err, errlen, "%s: pos.chain_id and pos.validators are required", path);
        rc = QCN_ERR_CONFIG;
    }
    if (rc == QCN_OK && s->cfg.has_key && (s->cfg.wal_path == NULL || s->cfg.beacon_length == 0)) {
        snprintf(err, errlen, "%s: a validator needs pos.wal, pos.beacon_seed, pos.beacon_length",
                 path);
        rc = QCN_ERR_CONFIG;
    }
    qcn_wipe(txt, len);
    free(txt);
    if (rc != QCN_OK)
        qcn_pos_settings_clear(s);
    return rc;
}

void qcn_pos_settings_clear(struct qcn_pos_settings *s)
{
    free(s->validators);
    qcn_wipe(s, sizeof *s);
}
