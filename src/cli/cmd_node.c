/* qcn node: runs a node (docs/node.md). Settings: defaults, then the config
 * file (<datadir>/qcn.conf or --config), then flags; later wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "node/config.h"
#include "node/node.h"
#include "util/log.h"

static void node_usage(FILE *f)
{
    fprintf(f, "usage: qcn node [options]\n"
               "  --datadir DIR         data directory (default ~/.qcn)\n"
               "  --config FILE         config file (default <datadir>/qcn.conf if present)\n"
               "  --set KEY=VALUE       any config key (see docs/node.md); repeatable\n"
               "  --engine NAME         consensus engine (dev)\n"
               "  --dev                 the dev engine (single node)\n"
               "  --period MS           dev engine block period; 0 = when transactions wait\n"
               "  --rpc-addr HOST:PORT  JSON-RPC listen address (default 127.0.0.1:8545)\n"
               "  --no-rpc              do not serve JSON-RPC\n"
               "  --rpc-cors ORIGINS    allowed browser origins, comma-separated, * = any\n"
               "  --log-level LEVEL     error|warn|info|debug|trace\n"
               "  --print-config        print the effective configuration and exit\n");
}

/* Flags that take a value and the config key they set ("" = special). */
struct flag {
    const char *flag;
    const char *key;
};
static const struct flag flags[] = {
    {"--engine", "engine"},
    {"--period", "dev.period_ms"},
    {"--rpc-addr", "rpc.addr"},
    {"--log-level", "log.level"},
    {"--rpc-cors", "rpc.cors"},
    {"--datadir", "datadir"},
    {"--dev-load", ""},
    {"--config", ""},
    {"--set", ""},
};

static const struct flag *find_flag(const char *a)
{
    size_t i;
    for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(a, flags[i].flag) == 0)
            return &flags[i];
    return NULL;
}

int qcn_cmd_node(int argc, char **argv)
{
    struct qcn_node_config cfg;
    struct qcn_node *n = NULL;
    const char *config_file = NULL;
    char path[QCN_CONFIG_MAX_PATH + 16], err[700];
    int i, rc, print = 0, explicit_config = 0;

    qcn_node_config_default(&cfg);
    /* Pass 1: the data directory and the config file decide where the file
     * comes from; everything else waits until the file is applied. */
    for (i = 1; i < argc; i++) {
        const struct flag *f = find_flag(argv[i]);
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            node_usage(stdout);
            return QCN_EXIT_OK;
        }
        if (f == NULL)
            continue;
        if (i + 1 >= argc)
            return qcn_cli_usage_error("node", "%s needs a value", argv[i]);
        if (strcmp(f->flag, "--datadir") == 0 &&
            qcn_node_config_set(&cfg, "datadir", argv[i + 1], err, sizeof err) != QCN_OK)
            return qcn_cli_usage_error("node", "%s", err);
        if (strcmp(f->flag, "--config") == 0) {
            config_file = argv[i + 1];
            explicit_config = 1;
        }
        i++;
    }
    if (config_file == NULL) {
        if (qcn_node_config_path(&cfg, path, sizeof path, QCN_CONFIG_FILE_NAME) != QCN_OK)
            return qcn_cli_usage_error("node", "data directory path too long");
        config_file = path;
    }
    rc = qcn_node_config_load(&cfg, config_file, err, sizeof err);
    if (rc == QCN_ERR_NOT_FOUND && !explicit_config)
        rc = QCN_OK;
    if (rc != QCN_OK)
        return qcn_cli_usage_error("node", "config: %s", err);
    /* Pass 2: flags override the file. */
    for (i = 1; i < argc; i++) {
        const struct flag *f = find_flag(argv[i]);
        const char *key = NULL, *val = NULL;
        char kv[QCN_CONFIG_MAX_LINE];
        if (strcmp(argv[i], "--dev") == 0) {
            key = "engine";
            val = "dev";
        } else if (strcmp(argv[i], "--no-rpc") == 0) {
            key = "rpc.enabled";
            val = "false";
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print = 1;
            continue;
        } else if (f == NULL) {
            return qcn_cli_usage_error("node", "unknown option '%s' (see qcn node --help)",
                                       argv[i]);
        } else if (strcmp(f->flag, "--set") == 0) {
            char *eq;
            if (snprintf(kv, sizeof kv, "%s", argv[i + 1]) >= (int)sizeof kv ||
                (eq = strchr(kv, '=')) == NULL)
                return qcn_cli_usage_error("node", "--set expects KEY=VALUE");
            *eq = '\0';
            key = kv;
            val = eq + 1;
            i++;
        } else if (strcmp(f->flag, "--dev-load") == 0) {
            char *end;
            unsigned long long v = strtoull(argv[i + 1], &end, 10);
            if (*end != '\0' || argv[i + 1][0] == '\0' || v > 100000)
                return qcn_cli_usage_error("node", "--dev-load expects 0..100000");
            cfg.dev_load_tps = v;
            i++;
            continue;
        } else if (f->key[0] == '\0') {
            i++;
            continue;
        } else {
            key = f->key;
            val = argv[++i];
        }
        if (qcn_node_config_set(&cfg, key, val, err, sizeof err) != QCN_OK)
            return qcn_cli_usage_error("node", "%s", err);
    }
    if (print) {
        qcn_node_config_dump(&cfg, stdout);
        return QCN_EXIT_OK;
    }
    qcn_log_configure(cfg.log_level, NULL, cfg.log_json);
    rc = qcn_node_new(&n, &cfg);
    if (rc != QCN_OK) {
        fprintf(stderr, "qcn node: %s\n", qcn_err_str(rc));
        return rc == QCN_ERR_CONFIG ? QCN_EXIT_USAGE : QCN_EXIT_NO;
    }
    rc = qcn_node_run(n);
    qcn_node_free(n);
    return rc == QCN_OK ? QCN_EXIT_OK : QCN_EXIT_NO;
}
