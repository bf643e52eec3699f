/* qcn crypto keygen|sign|verify --alg ml-dsa-44|65|87: ML-DSA (FIPS 204) with
 * hex in and hex out, for scripts, interop tests and debugging. `--alg
 * ml-kem-*` is handed, with the same argv, to qcn_cli_crypto_kem
 * (cmd_crypto_kem.c).
 *
 * Output is `name: hex` lines, or one JSON object with --json. Exit 0
 * success, 1 a signature that does not verify, 2 bad input (malformed hex, a
 * wrong length, an unknown option or algorithm) with a message naming the
 * argument. Secrets printed on request (keygen's sk and seed) are the point
 * of the command; every buffer that held one is wiped before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_hexargs.h"
#include "crypto/mldsa.h"
#include "util/mem.h"

#define CMD "crypto"
/* Messages arrive on the command line (the kernel caps one argument at 128
 * KiB); the cap keeps a future stdin path honest too. */
#define QCN_CLI_CRYPTO_MAX_MSG_BYTES (1u << 20)

struct dsa_args {
    const char *op, *alg;
    int param;
    const char *seed, *sk, *pk, *msg, *sig, *ctx;
    int json, deterministic;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: qcn crypto <operation> --alg <algorithm> [options] [--json]\n"
               "\nML-DSA (FIPS 204), --alg ml-dsa-44 | ml-dsa-65 | ml-dsa-87:\n"
               "  qcn crypto keygen --alg ml-dsa-65 [--seed HEX32]\n"
               "      -> pk, sk, seed (seed drawn at random if absent)\n"
               "  qcn crypto sign --alg ml-dsa-65 (--seed HEX32 | --sk HEX) --msg HEX [--ctx HEX]\n"
               "                  [--deterministic]\n"
               "      -> sig (hedged with fresh randomness unless --deterministic)\n"
               "  qcn crypto verify --alg ml-dsa-65 --pk HEX --msg HEX --sig HEX [--ctx HEX]\n"
               "      -> valid (exit 0 if the signature verifies, 1 if not)\n"
               "\nML-KEM (FIPS 203), --alg ml-kem-512 | ml-kem-768 | ml-kem-1024:\n"
               "  qcn crypto keygen --alg ml-kem-768 [--seed HEX64]        -> ek, dk, seed\n"
               "  qcn crypto encaps --alg ml-kem-768 --pk EK_HEX [--m HEX32] -> ct, ss\n"
               "  qcn crypto decaps --alg ml-kem-768 --sk DK_HEX --ct CT_HEX -> ss\n"
               "\nHex may have a 0x prefix; an empty string is an empty --msg or --ctx.\n"
               "Exit status: 0 success, 1 verification failed, 2 bad input.\n");
}

static const struct qcn_cli_alg dsa_algs[] = {
    {"ml-dsa-44", QCN_MLDSA44}, {"ml-dsa-65", QCN_MLDSA65}, {"ml-dsa-87", QCN_MLDSA87}, {NULL, 0}};

static int is_kem(const char *alg)
{
    return strncmp(alg, "ml-kem", 6) == 0 || strncmp(alg, "ML-KEM", 6) == 0;
}

/* Returns QCN_EXIT_OK, QCN_EXIT_USAGE after printing why, or -1 for --help. */
static int parse(struct dsa_args *a, int argc, char **argv)
{
    int rc;
    memset(a, 0, sizeof *a);
    a->op = argv[1];
    {
        const struct qcn_cli_opt opts[] = {
            {"--json", NULL, NULL, &a->json}, {"--deterministic", NULL, NULL, &a->deterministic},
            {"--alg", NULL, &a->alg, NULL},   {"--seed", NULL, &a->seed, NULL},
            {"--sk", NULL, &a->sk, NULL},     {"--pk", NULL, &a->pk, NULL},
            {"--msg", NULL, &a->msg, NULL},   {"--sig", NULL, &a->sig, NULL},
            {"--ctx", NULL, &a->ctx, NULL},   {NULL, NULL, NULL, NULL}};
        rc = qcn_cli_opts_parse(CMD, a->op, opts, argc, argv, 2, usage);
    }
    if (rc != QCN_EXIT_OK)
        return rc;
    if (a->alg == NULL)
        return qcn_cli_usage_error(CMD, "--alg is required (ml-dsa-44, ml-dsa-65, ml-dsa-87, "
                                        "ml-kem-512, ml-kem-768, ml-kem-1024)");
    a->param = qcn_cli_alg_param(dsa_algs, a->alg);
    if (a->param == 0)
        return qcn_cli_usage_error(CMD,
                                   "--alg: unknown algorithm '%s' (ml-dsa-44, ml-dsa-65, "
                                   "ml-dsa-87, ml-kem-512, ml-kem-768, ml-kem-1024)",
                                   a->alg);
    return QCN_EXIT_OK;
}

static int only(const struct dsa_args *a, int seed, int sk, int pk, int msg, int sig, int ctx,
                const char *allowed)
{
    if ((!seed && a->seed) || (!sk && a->sk) || (!pk && a->pk) || (!msg && a->msg) ||
        (!sig && a->sig) || (!ctx && a->ctx))
        return qcn_cli_usage_error(CMD, "%s takes only %s", a->op, allowed);
    return QCN_EXIT_OK;
}

/* --msg (required) and --ctx (optional, empty if absent) into heap memory
 * the caller frees, also on failure. */
static int decode_msg_ctx(const struct dsa_args *a, uint8_t **msg, size_t *msglen, uint8_t **ctx,
                          size_t *ctxlen)
{
    int rc = qcn_cli_hex_var(CMD, msg, msglen, QCN_CLI_CRYPTO_MAX_MSG_BYTES, "--msg", a->msg);
    if (rc == QCN_EXIT_OK && a->ctx != NULL)
        rc = qcn_cli_hex_var(CMD, ctx, ctxlen, QCN_MLDSA_MAX_CTX_BYTES, "--ctx", a->ctx);
    return rc;
}

static int run_keygen(const struct dsa_args *a)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES], pk[QCN_MLDSA_MAX_PK_BYTES], sk[QCN_MLDSA_MAX_SK_BYTES];
    int rc = only(a, 1, 0, 0, 0, 0, 0, "--alg, --seed and --json");

    if (rc != QCN_EXIT_OK || a->deterministic)
        return rc != QCN_EXIT_OK ? rc : qcn_cli_usage_error(CMD, "keygen takes no --deterministic");
    rc = qcn_cli_hex_or_random(CMD, seed, sizeof seed, "--seed", a->seed, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    if (qcn_mldsa_keygen(a->param, pk, sk, seed) != QCN_OK) {
        rc = qcn_cli_usage_error(CMD, "keygen failed");
        goto out;
    }
    {
        const struct qcn_cli_field f[] = {{"pk", pk, qcn_mldsa_pk_bytes(a->param)},
                                          {"sk", sk, qcn_mldsa_sk_bytes(a->param)},
                                          {"seed", seed, sizeof seed},
                                          {NULL, NULL, 0}};
        qcn_cli_fields_print(f, a->json, NULL);
    }
    rc = QCN_EXIT_OK;
out:
    qcn_wipe(seed, sizeof seed);
    qcn_wipe(sk, sizeof sk);
    return rc;
}

static int run_sign(const struct dsa_args *a)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES], pk[QCN_MLDSA_MAX_PK_BYTES], sk[QCN_MLDSA_MAX_SK_BYTES];
    uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES], *msg = NULL, *ctx = NULL;
    size_t msglen = 0, ctxlen = 0;
    int rc = only(a, 1, 1, 0, 1, 0, 1,
                  "--alg, --seed or --sk, --msg, --ctx, --deterministic "
                  "and --json");
    int err;

    if (rc != QCN_EXIT_OK)
        return rc;
    if ((a->seed == NULL) == (a->sk == NULL))
        return qcn_cli_usage_error(CMD, "sign needs exactly one of --seed and --sk");
    if (a->msg == NULL)
        return qcn_cli_usage_error(CMD, "sign needs --msg (the message, hex)");
    if (a->seed != NULL) {
        rc = qcn_cli_hex_exact(CMD, seed, sizeof seed, "--seed", a->seed, a->alg);
        if (rc != QCN_EXIT_OK)
            goto out;
        if (qcn_mldsa_keygen(a->param, pk, sk, seed) != QCN_OK) {
            rc = qcn_cli_usage_error(CMD, "keygen failed");
            goto out;
        }
    } else {
        rc = qcn_cli_hex_exact(CMD, sk, qcn_mldsa_sk_bytes(a->param), "--sk", a->sk, a->alg);
        if (rc != QCN_EXIT_OK)
            goto out;
    }
    rc = decode_msg_ctx(a, &msg, &msglen, &ctx, &ctxlen);
    if (rc != QCN_EXIT_OK)
        goto out;
    err = qcn_mldsa_sign(a->param, sig, sk, msg, msglen, ctx, ctxlen,
                         a->deterministic ? QCN_MLDSA_DETERMINISTIC : QCN_MLDSA_HEDGED, NULL);
    if (err == QCN_ERR_BAD_KEY) {
        rc = qcn_cli_usage_error(CMD,
                                 "--sk: malformed %s secret key (a coefficient of s1 or s2 "
                                 "is out of range)",
                                 a->alg);
        goto out;
    }
    if (err != QCN_OK) {
        rc = qcn_cli_usage_error(CMD, "sign failed: %s", qcn_err_str(err));
        goto out;
    }
    {
        const struct qcn_cli_field f[] = {{"sig", sig, qcn_mldsa_sig_bytes(a->param)},
                                          {NULL, NULL, 0}};
        qcn_cli_fields_print(f, a->json, NULL);
    }
    rc = QCN_EXIT_OK;
out:
    qcn_wipe(seed, sizeof seed);
    qcn_wipe(sk, sizeof sk);
    free(msg);
    free(ctx);
    return rc;
}

static int run_verify(const struct dsa_args *a)
{
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES], sig[QCN_MLDSA_MAX_SIG_BYTES], *msg = NULL, *ctx = NULL;
    size_t msglen = 0, ctxlen = 0;
    int rc = only(a, 0, 0, 1, 1, 1, 1, "--alg, --pk, --msg, --sig, --ctx and --json");
    int err;

    if (rc != QCN_EXIT_OK || a->deterministic)
        return rc != QCN_EXIT_OK ? rc : qcn_cli_usage_error(CMD, "verify takes no --deterministic");
    if (a->pk == NULL || a->msg == NULL || a->sig == NULL)
        return qcn_cli_usage_error(CMD, "verify needs --pk, --msg and --sig");
    rc = qcn_cli_hex_exact(CMD, pk, qcn_mldsa_pk_bytes(a->param), "--pk", a->pk, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    rc = qcn_cli_hex_exact(CMD, sig, qcn_mldsa_sig_bytes(a->param), "--sig", a->sig, a->alg);
    if (rc != QCN_EXIT_OK)
        goto out;
    rc = decode_msg_ctx(a, &msg, &msglen, &ctx, &ctxlen);
    if (rc != QCN_EXIT_OK)
        goto out;
    err = qcn_mldsa_verify(a->param, pk, msg, msglen, ctx, ctxlen, sig,
                           qcn_mldsa_sig_bytes(a->param));
    if (err != QCN_OK && err != QCN_ERR_BAD_SIGNATURE) {
        rc = qcn_cli_usage_error(CMD, "verify failed: %s", qcn_err_str(err));
        goto out;
    }
    if (a->json)
        printf("{\"valid\":%s}\n", err == QCN_OK ? "true" : "false");
    else
        printf("valid: %s\n", err == QCN_OK ? "true" : "false");
    fflush(stdout);
    rc = err == QCN_OK ? QCN_EXIT_OK : QCN_EXIT_NO;
out:
    free(msg);
    free(ctx);
    return rc;
}

int qcn_cmd_crypto(int argc, char **argv)
{
    struct dsa_args a;
    int i, rc;

    if (argc < 2) {
        usage(stderr);
        return QCN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return QCN_EXIT_OK;
    }
    for (i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], "--alg") == 0 && is_kem(argv[i + 1]))
            return qcn_cli_crypto_kem(argc, argv);
    rc = parse(&a, argc, argv);
    if (rc == -1)
        return QCN_EXIT_OK;
    if (rc != QCN_EXIT_OK)
        return rc;
    if (strcmp(a.op, "keygen") == 0)
        return run_keygen(&a);
    if (strcmp(a.op, "sign") == 0)
        return run_sign(&a);
    if (strcmp(a.op, "verify") == 0)
        return run_verify(&a);
    return qcn_cli_usage_error(CMD, "unknown operation '%s' for %s (keygen, sign, verify)", a.op,
                               a.alg);
}
