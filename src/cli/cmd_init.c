/* qcn init: writes a chain's genesis block into a data directory.
 *   qcn init --genesis FILE [--datadir DIR]
 *   qcn init --dev [--datadir DIR]   a dev chain: makes (or reuses) the
 *       UNENCRYPTED development key <datadir>/dev.key, writes a genesis file
 *       <datadir>/genesis.json that funds it, and initialises from that. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "node/config.h"
#include "node/devkey.h"
#include "node/tools.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/mem.h"

#define DEV_CHAIN_ID 1337u
#define GENESIS_MAX_FILE (64u * 1024u * 1024u)

static void init_usage(FILE *f)
{
    fprintf(f, "usage: qcn init (--genesis FILE | --dev) [--datadir DIR] [--chain-id N]\n"
               "  --genesis FILE  genesis JSON (docs/protocol.md, genesis)\n"
               "  --dev           a dev chain with a funded, UNENCRYPTED dev key\n"
               "  --datadir DIR   data directory (default ~/.qcn)\n"
               "  --chain-id N    chain id of the dev chain (default 1337)\n");
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    *out = NULL;
    *len = 0;
    if (f == NULL)
        return QCN_ERR_NOT_FOUND;
    buf = malloc(GENESIS_MAX_FILE + 1);
    if (buf == NULL) {
        fclose(f);
        return QCN_ERR_NOMEM;
    }
    n = fread(buf, 1, GENESIS_MAX_FILE + 1, f);
    fclose(f);
    if (n > GENESIS_MAX_FILE) {
        free(buf);
        return QCN_ERR_TOO_LARGE;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return QCN_OK;
}

/* The dev genesis: the dev key gets 10^9 coins (10^27 wei), a block gas
 * limit of 2*10^9 (room for 10,000 transfers), a base fee of 1 gwei. */
static int write_dev_genesis(const char *path, const struct qcn_dev_key *k, uint64_t chain_id)
{
    struct qcn_buf b;
    FILE *f;
    int err;
    if (access(path, F_OK) == 0)
        return QCN_OK; /* keep an edited one */
    qcn_buf_init(&b, 1u << 20);
    /* The dev key's public key is recorded at genesis: its transactions
     * need not carry it. */
    err = qcn_dev_genesis_json(&b, chain_id, 2000000000ull, k, 1, "0x33b2e3c9fd0803ce8000000", 1);
    if (err == QCN_OK) {
        f = fopen(path, "wx");
        if (f == NULL)
            err = QCN_ERR_IO;
        else if (fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0)
            err = QCN_ERR_IO;
    }
    qcn_buf_clear(&b);
    return err;
}

int qcn_cmd_init(int argc, char **argv)
{
    struct qcn_node_config cfg;
    struct qcn_dev_key *k = NULL;
    const char *genesis = NULL;
    char gpath[QCN_CONFIG_MAX_PATH + 16], kpath[QCN_CONFIG_MAX_PATH + 16];
    char sdir[QCN_CONFIG_MAX_PATH + 16], err[600], hx[65], ax[41];
    char *json = NULL;
    size_t len;
    uint8_t hash[32];
    uint64_t chain_id = DEV_CHAIN_ID;
    int i, dev = 0, rc, ret = QCN_EXIT_USAGE;

    qcn_node_config_default(&cfg);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            init_usage(stdout);
            return QCN_EXIT_OK;
        } else if (strcmp(argv[i], "--dev") == 0) {
            dev = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--genesis") == 0) {
            genesis = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--datadir") == 0) {
            if (qcn_node_config_set(&cfg, "datadir", argv[++i], err, sizeof err) != QCN_OK)
                return qcn_cli_usage_error("init", "%s", err);
        } else if (i + 1 < argc && strcmp(argv[i], "--chain-id") == 0) {
            char *end;
            chain_id = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || chain_id == 0)
                return qcn_cli_usage_error("init", "--chain-id expects a positive integer");
        } else {
            return qcn_cli_usage_error("init", "unknown or incomplete option '%s'", argv[i]);
        }
    }
    if (dev == (genesis != NULL))
        return qcn_cli_usage_error("init", "give exactly one of --genesis FILE and --dev");
    qcn_log_configure(QCN_LOG_WARN, NULL, 0);
    if (qcn_store_mkdirs(cfg.datadir) != QCN_OK || access(cfg.datadir, W_OK) != 0)
        return qcn_cli_usage_error("init", "cannot create %s", cfg.datadir);
    if (qcn_node_config_path(&cfg, sdir, sizeof sdir, QCN_CONFIG_STORE_DIR) != QCN_OK ||
        qcn_node_config_path(&cfg, kpath, sizeof kpath, QCN_CONFIG_DEV_KEY_FILE) != QCN_OK ||
        qcn_node_config_path(&cfg, gpath, sizeof gpath, "genesis.json") != QCN_OK)
        return qcn_cli_usage_error("init", "data directory path too long");
    if (dev) {
        k = qcn_secure_alloc(sizeof *k);
        if (k == NULL)
            return QCN_EXIT_NO;
        rc = qcn_dev_key_load(k, kpath);
        if (rc == QCN_ERR_NOT_FOUND) {
            rc = qcn_dev_key_generate(k);
            if (rc == QCN_OK)
                rc = qcn_dev_key_save(k, kpath);
        }
        if (rc != QCN_OK) {
            fprintf(stderr, "qcn init: dev key %s: %s\n", kpath, qcn_err_str(rc));
            ret = QCN_EXIT_NO;
            goto out;
        }
        rc = write_dev_genesis(gpath, k, chain_id);
        if (rc != QCN_OK) {
            fprintf(stderr, "qcn init: cannot write %s\n", gpath);
            ret = QCN_EXIT_NO;
            goto out;
        }
        genesis = gpath;
    }
    rc = read_file(genesis, &json, &len);
    if (rc != QCN_OK) {
        fprintf(stderr, "qcn init: cannot read %s: %s\n", genesis, qcn_err_str(rc));
        goto out;
    }
    rc = qcn_node_init_genesis(sdir, json, len, hash, err, sizeof err);
    if (rc != QCN_OK) {
        fprintf(stderr, "qcn init: %s\n", err);
        ret = rc == QCN_ERR_EXISTS ? QCN_EXIT_NO : QCN_EXIT_USAGE;
        goto out;
    }
    printf("genesis 0x%s written to %s\n", qcn_hex_encode(hx, hash, 32), sdir);
    if (dev)
        printf("dev key 0x%s in %s (UNENCRYPTED, development only)\n",
               qcn_hex_encode(ax, k->address, sizeof k->address), kpath);
    ret = QCN_EXIT_OK;
out:
    free(json);
    qcn_secure_free(k);
    return ret;
}
