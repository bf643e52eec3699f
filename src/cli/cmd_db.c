/* qcn db: operator tools over a node's store (docs/storage.md).
 *   backup DIR   hot, consistent, compacted copy (mdb_env_copy2) while the
 *                node keeps running; the copy is itself a valid data dir store
 *   check        re-derives the state root and every block's transaction and
 *                receipt roots; exit 1 on any mismatch
 *   info         head, sizes
 *   verify-txs FILE  every "committed <height> 0x<hash>" line of FILE (the dev
 *                load generator's output) must be in the transaction index of
 *                a canonical block at that height; exit 1 otherwise */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "node/config.h"
#include "node/tools.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"

static void db_usage(FILE *f)
{
    fprintf(f, "usage: qcn db <backup DIR | check | info | verify-txs FILE> [--datadir DIR] "
               "[--json]\n"
               "  backup DIR       hot copy of the store into DIR (a new directory)\n"
               "  check            re-derive roots and report mismatches (exit 1 if any)\n"
               "  info             head height and hash, store size\n"
               "  verify-txs FILE  check 'committed <height> 0x<hash>' lines are stored\n");
}

static int open_ro(struct qcn_store **s, const struct qcn_node_config *cfg)
{
    struct qcn_store_opts o = {0};
    char dir[QCN_CONFIG_MAX_PATH + 16];
    int err;
    o.read_only = 1;
    if (qcn_node_config_path(cfg, dir, sizeof dir, QCN_CONFIG_STORE_DIR) != QCN_OK)
        return QCN_ERR_TOO_LARGE;
    err = qcn_store_open(s, dir, &o);
    if (err != QCN_OK)
        fprintf(stderr, "qcn db: cannot open the store in %s: %s\n", dir, qcn_err_str(err));
    return err;
}

static int db_check(struct qcn_store *s, int json)
{
    struct qcn_db_check_result r;
    char hx[65], sx[65];
    /* With --json the mismatch lines go to stderr, the summary to stdout. */
    int err = qcn_node_db_check(s, json ? stderr : stdout, &r);
    if (err != QCN_OK) {
        fprintf(stderr, "qcn db check: stopped: %s\n", qcn_err_str(err));
        return QCN_EXIT_USAGE;
    }
    if (json) {
        printf("{\"ok\":%s,\"height\":%llu,\"head\":\"0x%s\",\"blocks\":%llu,"
               "\"accounts\":%llu,\"state_root\":\"0x%s\",\"mismatches\":%llu}\n",
               r.problems == 0 ? "true" : "false", (unsigned long long)r.height,
               qcn_hex_encode(hx, r.head, 32), (unsigned long long)r.blocks,
               (unsigned long long)r.accounts, qcn_hex_encode(sx, r.state_root, 32),
               (unsigned long long)r.problems);
        return r.problems > 0 ? QCN_EXIT_NO : QCN_EXIT_OK;
    }
    printf("head %llu 0x%s\n", (unsigned long long)r.height, qcn_hex_encode(hx, r.head, 32));
    printf("blocks checked %llu, accounts %llu, trie nodes %llu, state root 0x%s\n",
           (unsigned long long)r.blocks, (unsigned long long)r.accounts,
           (unsigned long long)r.trie_nodes, qcn_hex_encode(hx, r.state_root, 32));
    if (r.problems > 0) {
        printf("FAILED: %llu mismatch(es)\n", (unsigned long long)r.problems);
        return QCN_EXIT_NO;
    }
    printf("OK\n");
    return QCN_EXIT_OK;
}

static int db_info(struct qcn_store *s, int json)
{
    struct qcn_store_snap *r = NULL;
    struct qcn_store_info info;
    uint8_t hash[32];
    uint64_t height;
    char hx[65];
    int err = qcn_store_snap_begin(s, &r);
    if (err == QCN_OK)
        err = qcn_store_head_get(r, NULL, &height, hash);
    qcn_store_snap_end(r);
    if (err != QCN_OK) {
        fprintf(stderr, "qcn db info: %s\n", qcn_err_str(err));
        return QCN_EXIT_NO;
    }
    qcn_store_info_get(s, &info);
    if (json) {
        printf("{\"height\":%llu,\"hash\":\"0x%s\",\"map_size\":%llu,\"used_bytes\":%llu}\n",
               (unsigned long long)height, qcn_hex_encode(hx, hash, 32),
               (unsigned long long)info.map_size, (unsigned long long)info.used_bytes);
        return QCN_EXIT_OK;
    }
    printf("height %llu\nhash 0x%s\nmap_size %llu\nused_bytes %llu\n", (unsigned long long)height,
           qcn_hex_encode(hx, hash, 32), (unsigned long long)info.map_size,
           (unsigned long long)info.used_bytes);
    return QCN_EXIT_OK;
}

static int db_verify_txs(struct qcn_store *s, const char *file)
{
    struct qcn_store_snap *r = NULL;
    char line[256];
    uint64_t checked = 0, missing = 0;
    FILE *f = fopen(file, "r");
    int err;

    if (f == NULL) {
        fprintf(stderr, "qcn db verify-txs: cannot open %s\n", file);
        return QCN_EXIT_USAGE;
    }
    err = qcn_store_snap_begin(s, &r);
    if (err != QCN_OK) {
        fclose(f);
        return QCN_EXIT_USAGE;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char hexhash[80];
        unsigned long long h;
        uint8_t txh[32], bh[32], ch[32];
        uint32_t idx;
        /* A line cut short by kill -9 is not a report: skip it. */
        if (strchr(line, '\n') == NULL || sscanf(line, "committed %llu %70s", &h, hexhash) != 2 ||
            strlen(hexhash) != 66)
            continue;
        checked++;
        if (qcn_hex_decode_exact(txh, 32, hexhash) != QCN_OK ||
            qcn_store_txindex_get(r, NULL, txh, bh, &idx) != QCN_OK ||
            qcn_store_canon_get(r, NULL, h, ch) != QCN_OK || memcmp(bh, ch, 32) != 0) {
            missing++;
            if (missing <= 20)
                printf("MISSING: %s at height %llu\n", hexhash, h);
        }
    }
    qcn_store_snap_end(r);
    fclose(f);
    printf("%llu committed transactions checked, %llu missing\n", (unsigned long long)checked,
           (unsigned long long)missing);
    return missing > 0 ? QCN_EXIT_NO : QCN_EXIT_OK;
}

int qcn_cmd_db(int argc, char **argv)
{
    struct qcn_node_config cfg;
    struct qcn_store *s = NULL;
    const char *sub = NULL, *arg = NULL;
    char err[600];
    int i, rc, json = 0;

    qcn_node_config_default(&cfg);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            db_usage(stdout);
            return QCN_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--datadir") == 0) {
            if (i + 1 >= argc)
                return qcn_cli_usage_error("db", "--datadir needs a value");
            if (qcn_node_config_set(&cfg, "datadir", argv[++i], err, sizeof err) != QCN_OK)
                return qcn_cli_usage_error("db", "%s", err);
        } else if (sub == NULL) {
            sub = argv[i];
        } else if (arg == NULL) {
            arg = argv[i];
        } else {
            return qcn_cli_usage_error("db", "unexpected argument '%s'", argv[i]);
        }
    }
    if (sub == NULL) {
        db_usage(stderr);
        return QCN_EXIT_USAGE;
    }
    if (strcmp(sub, "backup") != 0 && strcmp(sub, "check") != 0 && strcmp(sub, "info") != 0 &&
        strcmp(sub, "verify-txs") != 0)
        return qcn_cli_usage_error("db", "unknown subcommand '%s'", sub);
    if ((strcmp(sub, "backup") == 0 || strcmp(sub, "verify-txs") == 0) != (arg != NULL))
        return qcn_cli_usage_error("db", "%s: wrong number of arguments", sub);
    qcn_log_configure(QCN_LOG_WARN, NULL, 0);
    if (open_ro(&s, &cfg) != QCN_OK)
        return QCN_EXIT_USAGE;
    if (strcmp(sub, "backup") == 0) {
        rc = qcn_store_backup(s, arg);
        if (rc == QCN_OK)
            printf("backup written to %s\n", arg);
        else
            fprintf(stderr, "qcn db backup: %s\n", qcn_err_str(rc));
        rc = rc == QCN_OK ? QCN_EXIT_OK : QCN_EXIT_NO;
    } else if (strcmp(sub, "check") == 0) {
        rc = db_check(s, json);
    } else if (strcmp(sub, "info") == 0) {
        rc = db_info(s, json);
    } else {
        rc = db_verify_txs(s, arg);
    }
    qcn_store_close(s);
    return rc;
}
