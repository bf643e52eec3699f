/* genesis_init.c - `qcn init`: genesis JSON -> block 0 -> one store commit. */
#include <stdio.h>
#include <string.h>

#include "chain/chain.h"
#include "node/node_internal.h"
#include "node/tools.h"
#include "util/log.h"

int qcn_node_init_genesis(const char *dir, const char *json, size_t len, uint8_t hash[32],
                          char *err, size_t errlen)
{
    struct qcn_genesis g;
    struct qcn_block_result res;
    struct qcn_store *s = NULL;
    struct qcn_store_snap *r = NULL;
    struct qcn_store_opts so = {0};
    uint8_t head[32];
    uint64_t height;
    int rc;

    memset(hash, 0, 32);
    memset(&g, 0, sizeof g);
    qcn_block_result_init(&res);
    rc = qcn_genesis_parse_json(&g, json, len, err, errlen);
    if (rc != QCN_OK)
        goto out;
    rc = qcn_genesis_build(&g, &res);
    if (rc != QCN_OK) {
        snprintf(err, errlen, "cannot build the genesis block: %s", qcn_err_str(rc));
        goto out;
    }
    so.create = 1;
    rc = qcn_store_open(&s, dir, &so);
    if (rc != QCN_OK) {
        snprintf(err, errlen, "%s: cannot open the store: %s", dir, qcn_err_str(rc));
        goto out;
    }
    rc = qcn_store_snap_begin(s, &r);
    if (rc == QCN_OK)
        rc = qcn_store_head_get(r, NULL, &height, head);
    qcn_store_snap_end(r);
    if (rc == QCN_OK) {
        snprintf(err, errlen, "%s already holds a chain (height %llu)%s", dir,
                 (unsigned long long)height,
                 memcmp(head, res.block.hash, 32) == 0 && height == 0 ? ", the same genesis" : "");
        rc = QCN_ERR_EXISTS;
        goto out;
    }
    if (rc != QCN_ERR_NOT_FOUND) {
        snprintf(err, errlen, "%s: store unreadable: %s", dir, qcn_err_str(rc));
        goto out;
    }
    rc = qcn_node_commit_writes(s, &res.writes);
    if (rc != QCN_OK) {
        snprintf(err, errlen, "writing the genesis block failed: %s", qcn_err_str(rc));
        goto out;
    }
    memcpy(hash, res.block.hash, 32);
out:
    qcn_store_close(s);
    qcn_block_result_clear(&res);
    qcn_genesis_clear(&g);
    return rc;
}
