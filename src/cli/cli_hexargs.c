/* Shared by cmd_crypto.c and cmd_crypto_kem.c; see cli_hexargs.h. */
#include "cli/cli_hexargs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/rng.h"
#include "util/hex.h"
#include "util/mem.h"

/* Bytes hex-encoded per step when printing: keys of any size go through one
 * small buffer instead of a static one sized for the largest key. */
#define HEX_CHUNK_BYTES 64

static int is_opt(const struct qcn_cli_opt *o, const char *arg)
{
    return strcmp(arg, o->name) == 0 || (o->alias != NULL && strcmp(arg, o->alias) == 0);
}

int qcn_cli_opts_parse(const char *cmd, const char *op, const struct qcn_cli_opt *opts, int argc,
                       char **argv, int first, void (*help)(FILE *))
{
    int i;
    for (i = first; i < argc; i++) {
        const char *arg = argv[i];
        const struct qcn_cli_opt *o;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            help(stdout);
            return -1;
        }
        for (o = opts; o->name != NULL && !is_opt(o, arg); o++)
            ;
        if (o->name == NULL)
            return qcn_cli_usage_error(cmd, "unknown option '%s' for %s", arg, op);
        if (o->value == NULL) {
            *o->flag = 1;
            continue;
        }
        if (i + 1 >= argc)
            return qcn_cli_usage_error(cmd, "%s needs a value", arg);
        if (*o->value != NULL)
            return qcn_cli_usage_error(cmd, "%s given twice", arg);
        *o->value = argv[++i];
    }
    return QCN_EXIT_OK;
}

/* alg equals name (lower case) letter for letter, or in upper case. */
static int same_name(const char *alg, const char *name)
{
    size_t i, n = strlen(name);
    int lower = 1, upper = 1;
    if (strlen(alg) != n)
        return 0;
    for (i = 0; i < n; i++) {
        lower &= alg[i] == name[i];
        upper &= alg[i] == (char)toupper((unsigned char)name[i]);
    }
    return lower || upper;
}

int qcn_cli_alg_param(const struct qcn_cli_alg *algs, const char *alg)
{
    for (; algs->name != NULL; algs++)
        if (same_name(alg, algs->name))
            return algs->param;
    return 0;
}

size_t qcn_cli_hex_digits(const char *hex)
{
    size_t len = strlen(hex);
    if (len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        len -= 2;
    return len;
}

int qcn_cli_hex_exact(const char *cmd, uint8_t *out, size_t n, const char *opt, const char *hex,
                      const char *alg)
{
    size_t len = qcn_cli_hex_digits(hex), got = 0;
    int err;
    if (len != 2 * n) {
        memset(out, 0, n);
        return qcn_cli_usage_error(cmd,
                                   "%s: wrong length for %s: expected %zu bytes (%zu hex digits), "
                                   "got %zu hex digits",
                                   opt, alg, n, 2 * n, len);
    }
    err = qcn_hex_decode(out, n, &got, hex, strlen(hex));
    if (err != QCN_OK || got != n) {
        memset(out, 0, n);
        return qcn_cli_usage_error(cmd, "%s: malformed hex (%s)", opt, qcn_err_str(err));
    }
    return QCN_EXIT_OK;
}

int qcn_cli_hex_or_random(const char *cmd, uint8_t *out, size_t n, const char *opt, const char *hex,
                          const char *alg)
{
    if (hex != NULL)
        return qcn_cli_hex_exact(cmd, out, n, opt, hex, alg);
    qcn_rng_bytes(out, n);
    return QCN_EXIT_OK;
}

int qcn_cli_hex_var(const char *cmd, uint8_t **out, size_t *outlen, size_t cap, const char *opt,
                    const char *hex)
{
    size_t len = qcn_cli_hex_digits(hex), n;
    int err;
    *out = NULL;
    *outlen = 0;
    if (len % 2 != 0)
        return qcn_cli_usage_error(cmd, "%s: malformed hex (odd number of digits)", opt);
    n = len / 2;
    if (n > cap)
        return qcn_cli_usage_error(cmd, "%s: %zu bytes is over the limit of %zu", opt, n, cap);
    /* One spare byte so that an empty value is still a valid pointer. */
    *out = malloc(n + 1);
    if (*out == NULL)
        return qcn_cli_usage_error(cmd, "%s: out of memory", opt);
    err = qcn_hex_decode(*out, n, outlen, hex, strlen(hex));
    if (err != QCN_OK) {
        free(*out);
        *out = NULL;
        *outlen = 0;
        return qcn_cli_usage_error(cmd, "%s: malformed hex (%s)", opt, qcn_err_str(err));
    }
    return QCN_EXIT_OK;
}

static void print_hex(const uint8_t *p, size_t n)
{
    char hex[2 * HEX_CHUNK_BYTES + 1];
    size_t off, k;
    for (off = 0; off < n; off += k) {
        k = n - off < HEX_CHUNK_BYTES ? n - off : HEX_CHUNK_BYTES;
        fputs(qcn_hex_encode(hex, p + off, k), stdout);
    }
    qcn_wipe(hex, sizeof hex);
}

void qcn_cli_fields_print(const struct qcn_cli_field *f, int json, const char *json_alg)
{
    if (json) {
        const char *sep = "{";
        if (json_alg != NULL) {
            printf("{\"alg\":\"%s\"", json_alg);
            sep = ",";
        }
        for (; f->name != NULL; f++, sep = ",") {
            printf("%s\"%s\":\"", sep, f->name);
            print_hex(f->p, f->n);
            fputs("\"", stdout);
        }
        fputs(sep[0] == '{' ? "{}\n" : "}\n", stdout);
    } else {
        for (; f->name != NULL; f++) {
            printf("%s: ", f->name);
            print_hex(f->p, f->n);
            fputs("\n", stdout);
        }
    }
    fflush(stdout);
}
