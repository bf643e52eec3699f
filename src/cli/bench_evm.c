/* qcn bench evm [FILE|DIR...] [--min-time SECONDS] [--json]
 *
 * The interpreter benchmark the way evmone-bench runs it ("execute": code
 * analysis cached): for every input of the evm-benchmarks fixtures, run the
 * `to` contract's code as a message call with data[i] as calldata and a gas
 * budget of 10^9, repeatedly, on the fixture's pre state (reverted after
 * each run so every run costs the same gas). Reports the best time per
 * input with the jump-destination analysis cached ("execute") and redone
 * each run ("total"), its gas and Mgas/s, and the geometric means.
 *
 * Default input: ../shared/vectors/evm-benchmarks/benchmarks (or
 * $QCN_EVM_BENCH_DIR). Timings on a shared machine are noisy: the best of
 * several runs is reported. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/hex.h"
#include "util/time.h"
#include "vm/evm.h"
#include "vm/state.h"

#define CMD "bench evm"
#define BENCH_GAS 1000000000LL
#define MAX_INPUT_BYTES (1u << 20)
#define MAX_BENCH_FILES 256
#define MAX_PATH_LEN 4096
#define MAX_RUNS 100000

int qcn_bench_evm(int argc, char **argv);

struct result {
    char name[160];
    int64_t gas;
    double best_ns;       /* execute: analysis cached */
    double best_total_ns; /* analysis + execute */
    int ok;
};

static int decode_hex_alloc(uint8_t **out, size_t *len, const char *s)
{
    size_t n = strlen(s);
    *out = NULL;
    *len = 0;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n / 2 > MAX_INPUT_BYTES)
        return QCN_ERR_TOO_LARGE;
    *out = malloc(n / 2 + 1);
    if (*out == NULL)
        return QCN_ERR_NOMEM;
    if (qcn_hex_decode(*out, n / 2 + 1, len, s, n) != QCN_OK) {
        free(*out);
        *out = NULL;
        return QCN_ERR_BAD_HEX;
    }
    return QCN_OK;
}

static int parse_u256(struct qcn_u256 *out, json_t *v)
{
    const char *s = json_string_value(v);
    return s != NULL && qcn_u256_parse(out, s) == 0 ? QCN_OK : QCN_ERR_BAD_JSON;
}

/* Seeds st with the fixture's pre state. */
static int seed_pre(struct qcn_vm_state *st, json_t *pre)
{
    const char *key;
    json_t *acc;
    json_object_foreach(pre, key, acc)
    {
        uint8_t addr[QCN_VM_ADDRESS_BYTES], *code = NULL;
        size_t code_len = 0;
        struct qcn_u256 bal, nonce;
        json_t *storage = json_object_get(acc, "storage"), *sv;
        const char *sk;
        int err;
        if (qcn_hex_decode_exact(addr, sizeof addr, key) != QCN_OK ||
            parse_u256(&bal, json_object_get(acc, "balance")) != QCN_OK ||
            parse_u256(&nonce, json_object_get(acc, "nonce")) != QCN_OK ||
            !qcn_u256_fits_u64(&nonce) || json_string_value(json_object_get(acc, "code")) == NULL)
            return QCN_ERR_BAD_JSON;
        err = decode_hex_alloc(&code, &code_len, json_string_value(json_object_get(acc, "code")));
        if (err == QCN_OK)
            err = qcn_vm_state_seed_account(st, addr, nonce.w[0], &bal, code, code_len);
        free(code);
        if (err != QCN_OK)
            return err;
        json_object_foreach(storage, sk, sv)
        {
            struct qcn_u256 k, v;
            if (qcn_u256_parse(&k, sk) != 0 || parse_u256(&v, sv) != QCN_OK)
                return QCN_ERR_BAD_JSON;
            if (!qcn_u256_is_zero(&v) &&
                (err = qcn_vm_state_seed_storage(st, addr, &k, &v)) != QCN_OK)
                return err;
        }
    }
    return QCN_OK;
}

static int bench_file(const char *path, double min_time_s, struct result *res, size_t *nres,
                      size_t maxres)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr), *test;
    const char *tname;
    int err = QCN_OK;

    if (root == NULL) {
        fprintf(stderr, "qcn bench evm: %s: %s\n", path, jerr.text);
        return QCN_ERR_BAD_JSON;
    }
    json_object_foreach(root, tname, test)
    {
        json_t *tx = json_object_get(test, "transaction");
        json_t *datas = json_object_get(tx, "data"), *d;
        json_t *labels = json_object_get(json_object_get(test, "_info"), "labels");
        struct qcn_vm_block_env blk;
        struct qcn_vm_tx_env txe;
        struct qcn_vm *vm = qcn_vm_new();
        struct qcn_vm_state *st = qcn_vm_state_new(NULL);
        uint8_t to[QCN_VM_ADDRESS_BYTES], sender[QCN_VM_ADDRESS_BYTES];
        size_t i;

        memset(&blk, 0, sizeof blk);
        memset(&txe, 0, sizeof txe);
        blk.gas_limit = (uint64_t)BENCH_GAS;
        blk.number = 1;
        blk.chain_id = qcn_u256_from_u64(1);
        if (vm == NULL || st == NULL ||
            qcn_hex_decode_exact(to, sizeof to, json_string_value(json_object_get(tx, "to"))) !=
                QCN_OK ||
            qcn_hex_decode_exact(sender, sizeof sender,
                                 json_string_value(json_object_get(tx, "sender"))) != QCN_OK ||
            !json_is_array(datas) || seed_pre(st, json_object_get(test, "pre")) != QCN_OK) {
            err = QCN_ERR_BAD_JSON;
        }
        memcpy(txe.origin, sender, sizeof sender);
        json_array_foreach(datas, i, d)
        {
            struct result *r;
            uint8_t *input = NULL;
            size_t input_len = 0;
            struct qcn_vm_message m;
            struct qcn_vm_result out;
            struct qcn_vm_code *code;
            const char *label;
            char key[24];
            uint64_t total = 0;
            int runs = 0;

            if (err != QCN_OK || *nres >= maxres)
                break;
            r = &res[(*nres)++];
            memset(r, 0, sizeof *r);
            snprintf(key, sizeof key, "%zu", i);
            label = json_string_value(json_object_get(labels, key));
            snprintf(r->name, sizeof r->name, "%s/%s", tname, label != NULL ? label : key);
            if (json_string_value(d) == NULL ||
                decode_hex_alloc(&input, &input_len, json_string_value(d)) != QCN_OK) {
                err = QCN_ERR_BAD_JSON;
                break;
            }
            memset(&m, 0, sizeof m);
            m.kind = QCN_VM_CALL;
            m.gas = BENCH_GAS;
            memcpy(m.recipient, to, sizeof to);
            memcpy(m.code_address, to, sizeof to);
            memcpy(m.sender, sender, sizeof sender);
            m.input = input;
            m.input_len = input_len;
            r->best_ns = 1e300;
            r->best_total_ns = 1e300;
            code = qcn_vm_state_code(st, qcn_vm_state_account(st, to));
            if (code == NULL) {
                err = QCN_ERR_BAD_JSON;
                free(input);
                break;
            }
            /* One warm-up run analyses the code and sizes the pools; then
             * runs alternate between cached analysis (odd) and fresh
             * analysis (even). */
            while (runs < MAX_RUNS && (runs < 5 || (double)total < 2 * min_time_s * 1e9)) {
                size_t snap;
                uint64_t t0, t1;
                int fresh = runs > 0 && runs % 2 == 0;
                if (fresh)
                    qcn_vm_code_forget_analysis(code);
                qcn_vm_state_begin_tx(st);
                snap = qcn_vm_state_snapshot(st);
                t0 = qcn_time_mono_ns();
                err = qcn_vm_execute(vm, st, &blk, &txe, &m, &out);
                t1 = qcn_time_mono_ns();
                qcn_vm_state_revert(st, snap);
                if (err != QCN_OK)
                    break;
                if (runs > 0) {
                    double *best = fresh ? &r->best_total_ns : &r->best_ns;
                    total += t1 - t0;
                    if ((double)(t1 - t0) < *best)
                        *best = (double)(t1 - t0);
                }
                r->gas = BENCH_GAS - out.gas_left;
                r->ok = out.status == QCN_VM_SUCCESS;
                runs++;
            }
            free(input);
        }
        qcn_vm_free(vm);
        qcn_vm_state_free(st);
        if (err != QCN_OK)
            break;
    }
    json_decref(root);
    return err;
}

static int collect(char **files, size_t *n, const char *path, int depth)
{
    struct stat sb;
    DIR *dir;
    struct dirent *de;
    if (depth > 8 || stat(path, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        if (*n >= MAX_BENCH_FILES || (files[*n] = strdup(path)) == NULL)
            return -1;
        (*n)++;
        return 0;
    }
    dir = opendir(path);
    if (dir == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL) {
        char sub[MAX_PATH_LEN];
        size_t l = strlen(de->d_name);
        struct stat ss;
        int k;
        if (de->d_name[0] == '.')
            continue;
        k = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (k < 0 || (size_t)k >= sizeof sub || stat(sub, &ss) != 0)
            continue;
        if (S_ISDIR(ss.st_mode) || (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0))
            if (collect(files, n, sub, depth + 1) != 0) {
                closedir(dir);
                return -1;
            }
    }
    closedir(dir);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int qcn_bench_evm(int argc, char **argv)
{
    char *files[MAX_BENCH_FILES];
    size_t nfiles = 0, nres = 0, maxres = 1024;
    struct result *res = NULL;
    double min_time = 0.2, logsum = 0, tlogsum = 0;
    int json = 0, rc = QCN_EXIT_OK, counted = 0;
    const char *env_dir = getenv("QCN_EVM_BENCH_DIR");

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc) {
            char *end;
            min_time = strtod(argv[++i], &end);
            if (*end != '\0' || min_time < 0 || min_time > 60) {
                rc = qcn_cli_usage_error(CMD, "--min-time wants 0..60 seconds");
                goto out;
            }
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: qcn bench evm [FILE|DIR...] [--min-time SECONDS] [--json]\n");
            goto out;
        } else if (argv[i][0] == '-') {
            rc = qcn_cli_usage_error(CMD, "unknown option '%s'", argv[i]);
            goto out;
        } else if (collect(files, &nfiles, argv[i], 0) != 0) {
            rc = qcn_cli_usage_error(CMD, "cannot read '%s'", argv[i]);
            goto out;
        }
    }
    if (nfiles == 0) {
        const char *dflt =
            env_dir != NULL ? env_dir : "../shared/vectors/evm-benchmarks/benchmarks";
        if (collect(files, &nfiles, dflt, 0) != 0 || nfiles == 0) {
            rc = qcn_cli_usage_error(CMD, "no benchmark fixtures at '%s' (give a path)", dflt);
            goto out;
        }
    }
    qsort(files, nfiles, sizeof files[0], cmp_str);
    res = calloc(maxres, sizeof *res);
    if (res == NULL) {
        rc = qcn_cli_usage_error(CMD, "out of memory");
        goto out;
    }
    for (size_t f = 0; f < nfiles; f++) {
        if (bench_file(files[f], min_time, res, &nres, maxres) != QCN_OK) {
            rc = qcn_cli_usage_error(CMD, "%s: not a benchmark fixture", files[f]);
            goto out;
        }
    }
    if (json)
        printf("{\"inputs\":[");
    else
        printf("%-45s %12s %11s %9s %11s %9s\n", "input", "gas", "exec_us", "Mgas/s", "total_us",
               "Mgas/s");
    for (size_t i = 0; i < nres; i++) {
        double us = res[i].best_ns / 1e3, tus = res[i].best_total_ns / 1e3;
        double mgas = res[i].best_ns > 0 ? (double)res[i].gas / us : 0;
        double tmgas = res[i].best_total_ns > 0 ? (double)res[i].gas / tus : 0;
        if (mgas > 0 && tmgas > 0) {
            logsum += log(mgas);
            tlogsum += log(tmgas);
            counted++;
        }
        if (json)
            printf("%s{\"name\":\"%s\",\"gas\":%lld,\"time_us\":%.3f,\"mgas_s\":%.1f,"
                   "\"total_us\":%.3f,\"total_mgas_s\":%.1f,\"success\":%s}",
                   i ? "," : "", res[i].name, (long long)res[i].gas, us, mgas, tus, tmgas,
                   res[i].ok ? "true" : "false");
        else
            printf("%-45s %12lld %11.2f %9.1f %11.2f %9.1f%s\n", res[i].name, (long long)res[i].gas,
                   us, mgas, tus, tmgas, res[i].ok ? "" : "  (did not succeed)");
    }
    if (json)
        printf("],\"geomean_mgas_s\":%.1f,\"geomean_total_mgas_s\":%.1f}\n",
               counted ? exp(logsum / counted) : 0.0, counted ? exp(tlogsum / counted) : 0.0);
    else
        printf("geometric mean: %.1f Mgas/s execute (analysis cached), %.1f Mgas/s total "
               "(analysis + execute), over %d inputs, best of runs\n",
               counted ? exp(logsum / counted) : 0.0, counted ? exp(tlogsum / counted) : 0.0,
               counted);
out:
    for (size_t f = 0; f < nfiles; f++)
        free(files[f]);
    free(res);
    return rc;
}
