/* config.h - the node's settings: defaults, a key = value config file, and
 * command-line flags on top (flags win). Every key and its default is
 * documented in docs/node.md; keep that page and config_keys in config.c in
 * step.
 *
 * File format: one `key = value` per line; `#` starts a comment line; blank
 * lines are ignored; values are taken verbatim after trimming spaces (no
 * quotes). An unknown key or a bad value is an error naming the line. */
#ifndef QCN_NODE_CONFIG_H
#define QCN_NODE_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_CONFIG_MAX_PATH 4096
#define QCN_CONFIG_MAX_LINE 1024
#define QCN_CONFIG_MAX_FILE_BYTES (1024u * 1024u)
#define QCN_CONFIG_DEFAULT_DATADIR "~/.qcn"
#define QCN_CONFIG_FILE_NAME "qcn.conf"
#define QCN_CONFIG_STORE_DIR "chaindata"
#define QCN_CONFIG_DEV_KEY_FILE "dev.key"
#define QCN_CONFIG_MAX_ADDR 256

struct qcn_node_config {
    char datadir[QCN_CONFIG_MAX_PATH]; /* "~" already expanded */
    int log_level;                     /* enum qcn_log_level */
    int log_json;
    /* engine */
    char engine[16];
    uint64_t dev_period_ms;
    uint64_t dev_max_txs;
    int has_coinbase;
    uint8_t coinbase[20];
    /* rpc (served by src/rpc; the node passes these on) */
    char rpc_addr[QCN_CONFIG_MAX_ADDR]; /* host:port */
    int rpc_enabled;
    char rpc_cors[QCN_CONFIG_MAX_ADDR]; /* allowed origins, comma-separated, "*" = any; "" = none */
    uint64_t rpc_max_body;              /* the rpc caps (rpc/rpc.h); 0 = its default */
    uint64_t rpc_max_batch;
    uint64_t rpc_rate_per_sec;
    uint64_t rpc_logs_range;
    /* p2p (served by src/p2p through node_p2p.c); empty = off */
    char p2p_listen[QCN_CONFIG_MAX_ADDR];    /* host:port to listen on */
    char p2p_bootnodes[QCN_CONFIG_MAX_LINE]; /* host:port[,host:port...] to dial */
    /* Test builds only (QCN_TEST_FAULTS): serve qcn_admin_p2pPartition.
     * Setting it true in a build without the option is a config error. */
    int p2p_test_faults;
    /* mempool */
    uint64_t pool_max_count;
    uint64_t pool_max_bytes;
    uint64_t pool_max_per_sender;
    uint64_t pool_max_nonce_gap;
    uint64_t pool_expiry_s;
    uint64_t pool_replace_bump_pct;
    uint64_t pool_min_priority_fee;
    /* store */
    uint64_t store_map_size_mb;
    /* signature verification on libuv's thread pool; 0 = one per CPU */
    uint64_t verify_threads;
    /* hidden debug: a built-in load generator (transfers per second) */
    uint64_t dev_load_tps;
};

/* Fills every field with its default (docs/node.md). */
void qcn_node_config_default(struct qcn_node_config *c);

/* Expands a leading "~/" with $HOME into out (outlen bytes).
 * QCN_ERR_CONFIG (no HOME), QCN_ERR_TOO_LARGE. */
QCN_MUST_CHECK int qcn_node_config_expand_path(char *out, size_t outlen, const char *path);

/* Sets one key from its text value. QCN_ERR_CONFIG with a message in err
 * (errlen bytes) for an unknown key or a bad value; c is unchanged then. */
QCN_MUST_CHECK int qcn_node_config_set(struct qcn_node_config *c, const char *key,
                                       const char *value, char *err, size_t errlen);

/* Applies a config file's text (len bytes). Errors name the line. */
QCN_MUST_CHECK int qcn_node_config_parse(struct qcn_node_config *c, const char *text, size_t len,
                                         char *err, size_t errlen);

/* Reads and applies the file at path. QCN_ERR_NOT_FOUND if it does not
 * exist, QCN_ERR_IO, QCN_ERR_TOO_LARGE, or a parse error. */
QCN_MUST_CHECK int qcn_node_config_load(struct qcn_node_config *c, const char *path, char *err,
                                        size_t errlen);

/* Writes the effective configuration as a config file (every key). */
void qcn_node_config_dump(const struct qcn_node_config *c, FILE *f);

/* Builds "<datadir>/<name>" into out. QCN_ERR_TOO_LARGE if it does not fit. */
QCN_MUST_CHECK int qcn_node_config_path(const struct qcn_node_config *c, char *out, size_t outlen,
                                        const char *name);

#endif
