/* cli_hexargs.h - what the hex-in, hex-out `qcn crypto` subcommands share
 * (cmd_crypto.c for ML-DSA, cmd_crypto_kem.c for ML-KEM): table-driven option
 * parsing, hex arguments of an exact or a capped length with messages that
 * name the option, and `name: hex` lines or one JSON object on stdout.
 *
 * Every function reports bad input through qcn_cli_usage_error (a line on
 * stderr) and returns a process exit status from cli.h. None keeps state
 * between calls; all are thread-safe except that output interleaves on
 * stdout/stderr. */
#ifndef QCN_CLI_CLI_HEXARGS_H
#define QCN_CLI_CLI_HEXARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* One option of a table ended by name NULL. An option with value != NULL
 * takes the next argument (*value points into argv, so it lives as long as
 * argv); otherwise it is a flag and *flag is set to 1. alias, if not NULL, is
 * a second spelling ("--ek" for "--pk"). */
struct qcn_cli_opt {
    const char *name;
    const char *alias;
    const char **value;
    int *flag;
};

/* Parses argv[first..argc) against opts. Every *value must be NULL and
 * every *flag 0 on entry. Returns QCN_EXIT_OK; QCN_EXIT_USAGE after saying
 * why (an option unknown to op, a missing value, an option given twice); or
 * -1 when --help or -h was given, after calling help(stdout). */
QCN_MUST_CHECK int qcn_cli_opts_parse(const char *cmd, const char *op,
                                      const struct qcn_cli_opt *opts, int argc, char **argv,
                                      int first, void (*help)(FILE *));

/* An algorithm name and the parameter set it selects; a table of them ends
 * with name NULL. */
struct qcn_cli_alg {
    const char *name; /* lower case, e.g. "ml-dsa-65" */
    int param;
};

/* The param of the entry whose name is alg, spelled all in lower or all in
 * upper case ("ml-kem-768", "ML-KEM-768"), or 0. */
int qcn_cli_alg_param(const struct qcn_cli_alg *algs, const char *alg);

/* The number of hex digits in hex, not counting a 0x/0X prefix. */
size_t qcn_cli_hex_digits(const char *hex);

/* Decodes option opt's value hex into exactly n bytes of out. Returns
 * QCN_EXIT_OK, or QCN_EXIT_USAGE after naming opt, the length alg expects
 * and the length given (or the malformed hex); out is zeroed then. */
QCN_MUST_CHECK int qcn_cli_hex_exact(const char *cmd, uint8_t *out, size_t n, const char *opt,
                                     const char *hex, const char *alg);

/* As qcn_cli_hex_exact when hex is not NULL; otherwise fills out with n
 * bytes from qcn_rng_bytes (an option left out means "draw it"). */
QCN_MUST_CHECK int qcn_cli_hex_or_random(const char *cmd, uint8_t *out, size_t n, const char *opt,
                                         const char *hex, const char *alg);

/* Decodes option opt's value (an empty string is zero bytes, at most cap
 * bytes) into heap memory at *out, which the caller owns and frees with
 * free(). Returns QCN_EXIT_OK, or QCN_EXIT_USAGE after saying why, with
 * *out NULL and *outlen 0. */
QCN_MUST_CHECK int qcn_cli_hex_var(const char *cmd, uint8_t **out, size_t *outlen, size_t cap,
                                   const char *opt, const char *hex);

/* One output field; an array of them ends with name NULL. */
struct qcn_cli_field {
    const char *name;
    const uint8_t *p;
    size_t n;
};

/* Prints the fields to stdout as `name: hex` lines or, with json, as one
 * object {"name":"hex",...} on one line, preceded by "alg":json_alg when
 * json_alg is not NULL. Encodes through a small stack buffer that is wiped
 * afterwards (fields may be secret keys); flushes stdout. */
void qcn_cli_fields_print(const struct qcn_cli_field *f, int json, const char *json_alg);

#endif
