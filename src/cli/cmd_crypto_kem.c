/* qcn crypto keygen|encaps|decaps --alg ml-kem-512|768|1024: ML-KEM (FIPS 203)
 * with hex in and hex out, for scripts, interop tests and debugging.
 *
 * Reached through qcn_cmd_crypto, which passes the argv of `qcn crypto`
 * (argv[0] "crypto", argv[1] the operation). Output is `name: hex` lines, or
 * one JSON object with --json. Exit 0 success, 2 bad input (malformed hex,
 * wrong length, a key that fails its FIPS 203 check) with a message that
 * names the argument. Secrets printed on request are the point of the
 * command; the buffers holding them are wiped before returning. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_hexargs.h"
#include "crypto/mlkem.h"
#include "util/mem.h"

#define CMD "crypto"

struct kem_args {
    const char *op;
    const char *alg;
    int param;
    const char *seed, *pk, *m, *sk, *ct;
    int json;
};

static void usage(FILE *f)
{
    fprintf(f, "usage:\n"
               "  qcn crypto keygen --alg ml-kem-{512,768,1024} [--seed HEX64] [--json]\n"
               "      -> ek, dk, seed (seed = d || z, 64 bytes; drawn at random if absent)\n"
               "  qcn crypto encaps --alg ml-kem-N --pk EK_HEX [--m HEX32] [--json]\n"
               "      -> ct, ss\n"
               "  qcn crypto decaps --alg ml-kem-N --sk DK_HEX --ct CT_HEX [--json]\n"
               "      -> ss\n");
}

static const struct qcn_cli_alg kem_algs[] = {{"ml-kem-512", QCN_MLKEM512},
                                              {"ml-kem-768", QCN_MLKEM768},
                                              {"ml-kem-1024", QCN_MLKEM1024},
                                              {NULL, 0}};

static int parse(struct kem_args *a, int argc, char **argv)
{
    int rc;
    memset(a, 0, sizeof *a);
    if (argc < 2)
        return qcn_cli_usage_error(CMD, "missing operation (keygen, encaps or decaps)");
    a->op = argv[1];
    {
        const struct qcn_cli_opt opts[] = {
            {"--json", NULL, NULL, &a->json}, {"--alg", NULL, &a->alg, NULL},
            {"--seed", NULL, &a->seed, NULL}, {"--pk", "--ek", &a->pk, NULL},
            {"--m", NULL, &a->m, NULL},       {"--sk", "--dk", &a->sk, NULL},
            {"--ct", NULL, &a->ct, NULL},     {NULL, NULL, NULL, NULL}};
        rc = qcn_cli_opts_parse(CMD, a->op, opts, argc, argv, 2, usage);
    }
    if (rc != QCN_EXIT_OK)
        return rc;
    if (a->alg == NULL)
        return qcn_cli_usage_error(CMD, "--alg is required (ml-kem-512, ml-kem-768, ml-kem-1024)");
    a->param = qcn_cli_alg_param(kem_algs, a->alg);
    if (a->param == 0)
        return qcn_cli_usage_error(
            CMD, "--alg: unknown algorithm '%s' (ml-kem-512, ml-kem-768, ml-kem-1024)", a->alg);
    return QCN_EXIT_OK;
}

/* The first option given that op does not take, or NULL. */
static const char *extra_option(const struct kem_args *a, int seed, int pk, int m, int sk, int ct)
{
    if (!seed && a->seed)
        return "--seed";
    if (!pk && a->pk)
        return "--pk";
    if (!m && a->m)
        return "--m";
    if (!sk && a->sk)
        return "--sk";
    if (!ct && a->ct)
        return "--ct";
    return NULL;
}

/* Prints the fields with "alg" first in JSON, spelled in lower case whatever
 * the case of --alg. */
static void print_fields(const struct kem_args *a, const struct qcn_cli_field *f)
{
    char alg[sizeof "ml-kem-1024"];
    snprintf(alg, sizeof alg, "ml-kem-%d", a->param);
    qcn_cli_fields_print(f, a->json, alg);
}

static int run_keygen(const struct kem_args *a)
{
    uint8_t seed[2 * QCN_MLKEM_SEED_BYTES];
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], dk[QCN_MLKEM_MAX_DK_BYTES];
    int rc;

    const char *extra = extra_option(a, 1, 0, 0, 0, 0);
    if (extra != NULL)
        return qcn_cli_usage_error(CMD, "keygen does not take %s (only --alg, --seed, --json)",
                                   extra);
    rc = qcn_cli_hex_or_random(CMD, seed, sizeof seed, "--seed", a->seed, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    if (qcn_mlkem_keygen(a->param, ek, dk, seed, seed + QCN_MLKEM_SEED_BYTES) != QCN_OK) {
        rc = qcn_cli_usage_error(CMD, "keygen failed");
        goto out;
    }
    {
        const struct qcn_cli_field f[] = {{"ek", ek, qcn_mlkem_ek_bytes(a->param)},
                                          {"dk", dk, qcn_mlkem_dk_bytes(a->param)},
                                          {"seed", seed, sizeof seed},
                                          {NULL, NULL, 0}};
        print_fields(a, f);
    }
    rc = QCN_EXIT_OK;
out:
    qcn_wipe(seed, sizeof seed);
    qcn_wipe(dk, sizeof dk);
    return rc;
}

static int run_encaps(const struct kem_args *a)
{
    uint8_t ek[QCN_MLKEM_MAX_EK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t m[QCN_MLKEM_MSG_BYTES], ss[QCN_MLKEM_SS_BYTES];
    int rc, err;

    const char *extra = extra_option(a, 0, 1, 1, 0, 0);
    if (extra != NULL)
        return qcn_cli_usage_error(CMD, "encaps does not take %s (only --alg, --pk, --m, --json)",
                                   extra);
    if (a->pk == NULL)
        return qcn_cli_usage_error(CMD, "encaps needs --pk (the encapsulation key ek, hex)");
    rc = qcn_cli_hex_exact(CMD, ek, qcn_mlkem_ek_bytes(a->param), "--pk", a->pk, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    rc = qcn_cli_hex_or_random(CMD, m, sizeof m, "--m", a->m, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    err = qcn_mlkem_encaps(a->param, ct, ss, ek, m);
    if (err == QCN_ERR_KEY_CHECK) {
        rc = qcn_cli_usage_error(CMD, "--pk: the encapsulation key fails the FIPS 203 section 7.2 "
                                      "modulus check (a coefficient is >= q)");
        goto out;
    }
    if (err != QCN_OK) {
        rc = qcn_cli_usage_error(CMD, "encaps failed: %s", qcn_err_str(err));
        goto out;
    }
    {
        const struct qcn_cli_field f[] = {
            {"ct", ct, qcn_mlkem_ct_bytes(a->param)}, {"ss", ss, sizeof ss}, {NULL, NULL, 0}};
        print_fields(a, f);
    }
    rc = QCN_EXIT_OK;
out:
    qcn_wipe(m, sizeof m);
    qcn_wipe(ss, sizeof ss);
    return rc;
}

static int run_decaps(const struct kem_args *a)
{
    uint8_t dk[QCN_MLKEM_MAX_DK_BYTES], ct[QCN_MLKEM_MAX_CT_BYTES];
    uint8_t ss[QCN_MLKEM_SS_BYTES];
    int rc, err;

    const char *extra = extra_option(a, 0, 0, 0, 1, 1);
    if (extra != NULL)
        return qcn_cli_usage_error(CMD, "decaps does not take %s (only --alg, --sk, --ct, --json)",
                                   extra);
    if (a->sk == NULL || a->ct == NULL)
        return qcn_cli_usage_error(CMD, "decaps needs --sk (the decapsulation key dk, hex) and "
                                        "--ct (the ciphertext, hex)");
    rc = qcn_cli_hex_exact(CMD, dk, qcn_mlkem_dk_bytes(a->param), "--sk", a->sk, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    rc = qcn_cli_hex_exact(CMD, ct, qcn_mlkem_ct_bytes(a->param), "--ct", a->ct, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    err = qcn_mlkem_decaps(a->param, ss, dk, ct);
    if (err == QCN_ERR_KEY_CHECK) {
        rc = qcn_cli_usage_error(CMD, "--sk: the decapsulation key fails the FIPS 203 section 7.3 "
                                      "hash check (H(ek) inside dk does not match)");
        goto out;
    }
    if (err != QCN_OK) {
        rc = qcn_cli_usage_error(CMD, "decaps failed: %s", qcn_err_str(err));
        goto out;
    }
    {
        const struct qcn_cli_field f[] = {{"ss", ss, sizeof ss}, {NULL, NULL, 0}};
        print_fields(a, f);
    }
    rc = QCN_EXIT_OK;
out:
    qcn_wipe(dk, sizeof dk);
    qcn_wipe(ss, sizeof ss);
    return rc;
}

int qcn_cli_crypto_kem(int argc, char **argv)
{
    struct kem_args a;
    int rc = parse(&a, argc, argv);
    if (rc < 0)
        return QCN_EXIT_OK; /* --help */
    if (rc != QCN_EXIT_OK)
        return rc;
    if (strcmp(a.op, "keygen") == 0)
        return run_keygen(&a);
    if (strcmp(a.op, "encaps") == 0)
        return run_encaps(&a);
    if (strcmp(a.op, "decaps") == 0)
        return run_decaps(&a);
    usage(stderr);
    return qcn_cli_usage_error(CMD, "unknown ML-KEM operation '%s' (keygen, encaps, decaps)", a.op);
}
