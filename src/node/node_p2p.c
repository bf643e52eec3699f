/* node_p2p.c - the node as the host of the peer-to-peer network: see
 * node_p2p.h and docs/p2p.md §8. Blocks fetched by sync go through
 * qcn_node_import_block (applied and committed synchronously on the loop),
 * so a block is either fully committed (head advanced, listeners told) or
 * not at all; while the committer thread holds a produced block, sync is
 * told to wait (QCN_ERR_BUSY). */
#include "node/node_p2p.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/chain.h"
#include "chain/mempool.h"
#include "codec/block.h"
#include "crypto/rng.h"
#include "node/node.h"
#include "node/node_pos.h"
#include "node/node_rpc.h"
#include "p2p/p2p.h"
#include "rpc/chain_backend.h"
#include "rpc/params.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "util/log.h"
#include "util/mem.h"

struct node_p2p {
    struct qcn_node *n;
    qcn_p2p *p;
    struct qcn_p2p_identity id;
};

static struct node_p2p *np_of(struct qcn_node *n)
{
    return n->p2p;
}

/* Reads <datadir>/p2p.key (exactly 32 bytes), or creates it. */
static int load_identity(struct qcn_node *n, struct qcn_p2p_identity *id)
{
    char path[QCN_CONFIG_MAX_PATH];
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    ssize_t got;
    int fd, err;

    err = qcn_node_config_path(&n->cfg, path, sizeof path, QCN_NODE_P2P_KEY_FILE);
    if (err != QCN_OK)
        return err;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        got = read(fd, seed, sizeof seed);
        {
            uint8_t extra;
            ssize_t more = read(fd, &extra, 1);
            close(fd);
            if (got != (ssize_t)sizeof seed || more != 0) {
                QCN_LOG(QCN_LOG_ERROR, "node", "%s is not a 32-byte p2p key", path);
                qcn_wipe(seed, sizeof seed);
                return QCN_ERR_CONFIG;
            }
        }
    } else if (errno == ENOENT) {
        qcn_rng_bytes(seed, sizeof seed);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, seed, sizeof seed) != (ssize_t)sizeof seed || fsync(fd) != 0) {
            if (fd >= 0)
                close(fd);
            qcn_wipe(seed, sizeof seed);
            QCN_LOG(QCN_LOG_ERROR, "node", "cannot write %s", path);
            return QCN_ERR_IO;
        }
        close(fd);
    } else {
        QCN_LOG(QCN_LOG_ERROR, "node", "cannot read %s", path);
        return QCN_ERR_IO;
    }
    err = qcn_p2p_identity_from_seed(id, seed);
    qcn_wipe(seed, sizeof seed);
    return err;
}

static void cb_get_head(void *ctx, uint64_t *height, uint8_t hash[QCN_HASH_BYTES])
{
    struct node_p2p *np = ctx;
    *height = qcn_node_head_height(np->n);
    qcn_node_head_hash(np->n, hash);
}

/* One transaction from a peer on its way through admission. */
struct tx_from_peer {
    struct node_p2p *np;
    uint8_t peer[QCN_P2P_NODE_ID_BYTES];
};

/* Admission's verdict. Admitted transactions are announced from the node's
 * admission path (qcn_node_p2p_tx_admitted); a signature that failed on the
 * thread pool costs the sender what an invalid transaction costs (the early,
 * synchronous rejections are scored by p2p from cb_on_tx's return value). */
static void on_submitted(void *ctx, int err, const uint8_t hash[32])
{
    struct tx_from_peer *t = ctx;
    (void)hash;
    if (err == QCN_ERR_TX_BAD_SIGNATURE && t->np->p != NULL)
        (void)qcn_p2p_penalize(t->np->p, t->peer, QCN_P2P_PENALTY_INVALID,
                               "transaction signature does not verify");
    free(t);
}

static int cb_on_tx(void *ctx, const uint8_t *raw, size_t len, const uint8_t peer[20])
{
    struct node_p2p *np = ctx;
    struct tx_from_peer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return QCN_ERR_NOMEM;
    t->np = np;
    memcpy(t->peer, peer, sizeof t->peer);
    /* on_submitted runs exactly once, possibly before this returns */
    return qcn_node_tx_submit(np->n, raw, len, on_submitted, t);
}

static int cb_has_tx(void *ctx, const uint8_t hash[QCN_HASH_BYTES])
{
    struct node_p2p *np = ctx;
    return qcn_mempool_get(np->n->mempool, hash) != NULL;
}

static int cb_get_tx(void *ctx, const uint8_t hash[QCN_HASH_BYTES], struct qcn_buf *out)
{
    struct node_p2p *np = ctx;
    struct qcn_tx *tx = qcn_mempool_get(np->n->mempool, hash);
    if (tx == NULL)
        return QCN_ERR_NOT_FOUND;
    return qcn_buf_append(out, tx->raw, tx->raw_len);
}

/* The canonical block at height, re-encoded from its stored header and body
 * (docs/storage.md: CANON, HEADER, BODY). */
static int cb_get_block(void *ctx, uint64_t height, struct qcn_buf *block, struct qcn_buf *commit)
{
    struct node_p2p *np = ctx;
    struct qcn_store_snap *snap = NULL;
    struct qcn_block blk;
    struct qcn_view v;
    uint8_t hash[QCN_HASH_BYTES];
    int err;

    memset(&blk, 0, sizeof blk);
    if (height > qcn_node_head_height(np->n))
        return QCN_ERR_NOT_FOUND;
    err = qcn_store_snap_begin(np->n->store, &snap);
    if (err == QCN_OK)
        err = qcn_store_canon_get(snap, NULL, height, hash);
    if (err == QCN_OK)
        err = qcn_store_get(snap, NULL, QCN_STORE_HEADER, hash, sizeof hash, &v);
    if (err == QCN_OK)
        err = qcn_header_decode(&blk.header, v);
    if (err == QCN_OK)
        err = qcn_store_get(snap, NULL, QCN_STORE_BODY, hash, sizeof hash, &v);
    if (err == QCN_OK)
        err = qcn_block_body_decode(&blk, v);
    if (err == QCN_OK)
        err = qcn_block_encode(block, &blk);
    qcn_block_clear(&blk);
    /* The block's own commit certificate travels with it: for any block
     * below the head it is the commit field of the next header
     * (docs/protocol.md §5), so a syncing node can check finality block by
     * block. (The head's certificate lives with the engine.) */
    if (err == QCN_OK && height < qcn_node_head_height(np->n)) {
        struct qcn_header next;
        memset(&next, 0, sizeof next);
        err = qcn_store_canon_get(snap, NULL, height + 1, hash);
        if (err == QCN_OK)
            err = qcn_store_get(snap, NULL, QCN_STORE_HEADER, hash, sizeof hash, &v);
        if (err == QCN_OK)
            err = qcn_header_decode(&next, v);
        if (err == QCN_OK && next.commit_len > 0)
            err = qcn_buf_append(commit, next.commit, next.commit_len);
        qcn_header_clear(&next);
    } else if (err == QCN_OK) {
        int cerr = qcn_node_pos_commit_get(np->n, hash, commit);
        if (cerr != QCN_OK && cerr != QCN_ERR_NOT_FOUND && cerr != QCN_ERR_UNSUPPORTED)
            err = cerr;
    }
    qcn_store_snap_end(snap);
    return err;
}

/* A block from sync with its certificate: under pos the certificate must
 * finalize it (qcn_node_pos_sync_apply); under other engines this is
 * qcn_node_import_block, which decodes it again (strictly), applies it
 * through the chain, commits it in one store transaction and tells the block
 * listeners (our on_block below announces it onwards) and the engine.
 * QCN_ERR_BUSY while a block of ours is being committed. */
static int cb_apply_block(void *ctx, struct qcn_block *blk, const uint8_t *raw, size_t raw_len,
                          const uint8_t *commit, size_t commit_len)
{
    struct node_p2p *np = ctx;
    if (np->n->stopping)
        return QCN_ERR_BUSY;
    return qcn_node_pos_sync_apply(np->n, blk, raw, raw_len, commit, commit_len);
}

/* Proposals and votes from peers go to the engine; its verdict decides
 * relaying (QCN_OK) or a penalty. A node without pos only relays. */
static int cb_consensus(void *ctx, const uint8_t peer[QCN_P2P_NODE_ID_BYTES], uint8_t kind,
                        const uint8_t *payload, size_t len)
{
    struct node_p2p *np = ctx;
    int err;
    err = qcn_node_pos_on_peer_message(np->n, peer, kind, payload, len);
    return err == QCN_ERR_UNSUPPORTED ? QCN_OK : err;
}

/* The engine's outgoing proposals and votes. */
static void send_consensus(void *ctx, uint8_t kind, const uint8_t *payload, size_t len)
{
    struct node_p2p *np = ctx;
    int err;
    if (np->p == NULL)
        return;
    err = qcn_p2p_broadcast_consensus(np->p, kind, payload, len);
    if (err != QCN_OK)
        QCN_LOG(QCN_LOG_WARN, "node", "consensus message (kind %u, %zu bytes) not sent: %s",
                (unsigned)kind, len, qcn_err_str(err));
}

/* The engine's point-to-point messages (a compact proposal's missing
 * transactions: the request and the answer). A peer that left meanwhile is
 * not an error: the engine asks another. */
static void send_consensus_to(void *ctx, const uint8_t peer[QCN_POS_PEER_BYTES], uint8_t kind,
                              const uint8_t *payload, size_t len)
{
    struct node_p2p *np = ctx;
    int err;
    if (np->p == NULL)
        return;
    err = qcn_p2p_send_consensus(np->p, peer, kind, payload, len);
    if (err != QCN_OK && err != QCN_ERR_NOT_FOUND)
        QCN_LOG(QCN_LOG_WARN, "node", "consensus message (kind %u, %zu bytes) not sent: %s",
                (unsigned)kind, len, qcn_err_str(err));
}

static void cb_synced(void *ctx, uint64_t height)
{
    (void)ctx;
    QCN_LOG(QCN_LOG_INFO, "node", "caught up with peers at height %llu",
            (unsigned long long)height);
}

static void on_block(void *ctx, struct qcn_node *n, const struct qcn_block *blk)
{
    struct node_p2p *np = ctx;
    (void)n;
    if (np->p == NULL)
        return;
    qcn_p2p_broadcast_block(np->p, blk->header.height, blk->hash);
    qcn_p2p_head_changed(np->p);
}

/* "a:1,b:2" -> cfg.bootnodes */
static int parse_bootnodes(struct qcn_p2p_config *pc, const char *list)
{
    const char *s = list;
    while (*s != 0) {
        const char *e = strchr(s, ',');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        while (len > 0 && *s == ' ')
            s++, len--;
        while (len > 0 && s[len - 1] == ' ')
            len--;
        if (len > 0) {
            if (pc->nbootnodes >= QCN_P2P_MAX_BOOTNODES || len >= QCN_P2P_MAX_ADDR_TEXT)
                return QCN_ERR_CONFIG;
            memcpy(pc->bootnodes[pc->nbootnodes], s, len);
            pc->bootnodes[pc->nbootnodes][len] = 0;
            pc->nbootnodes++;
        }
        if (e == NULL)
            break;
        s = e + 1;
    }
    return QCN_OK;
}

/* "0x" + 40 hex digits */
static void id_hex(char out[2 + 2 * QCN_P2P_NODE_ID_BYTES + 1], const uint8_t id[20])
{
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < QCN_P2P_NODE_ID_BYTES; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", id[i]);
}

#ifdef QCN_TEST_FAULTS
/* qcn_admin_p2pPartition([ids]): the test partition (p2p.h
 * qcn_p2p_fault_partition, docs/p2p.md §10). params[0] is the complete list
 * of node ids to cut off ("0x" + 40 hex each, at most
 * QCN_P2P_MAX_PARTITION); [] heals. Answers the number of ids now cut off.
 * Registered only when p2p.test_faults is on (admin token required). */
static int rpc_partition(struct qcn_rpc_ctx *ctx, json_t *params, json_t **result,
                         struct qcn_rpc_error *err)
{
    const struct qcn_rpc_chain_src *src = ctx->backend->user;
    struct qcn_node *n = src->node_info_user;
    struct node_p2p *np = n != NULL ? n->p2p : NULL;
    uint8_t ids[QCN_P2P_MAX_PARTITION][QCN_P2P_NODE_ID_BYTES];
    json_t *list = qcn_rpc_param(params, 0);
    size_t i, cnt;
    int rc;

    if (qcn_rpc_params_check(err, params, 1, 1))
        return err->code;
    if (!json_is_array(list))
        return qcn_rpc_error_param(err, "params[0] (node ids)",
                                   "expected an array of node ids ([] heals)");
    cnt = json_array_size(list);
    if (cnt > QCN_P2P_MAX_PARTITION)
        return qcn_rpc_error_param(err, "params[0] (node ids)", "%zu ids, at most %d", cnt,
                                   QCN_P2P_MAX_PARTITION);
    for (i = 0; i < cnt; i++) {
        char field[48];
        snprintf(field, sizeof field, "params[0][%zu] (node id)", i);
        if (qcn_rpc_parse_fixed(err, ids[i], QCN_P2P_NODE_ID_BYTES, json_array_get(list, i),
                                field) != 0)
            return err->code;
    }
    if (np == NULL || np->p == NULL)
        return qcn_rpc_error_set(err, QCN_RPC_UNAVAILABLE, "p2p is not running");
    rc = qcn_p2p_fault_partition(np->p, (const uint8_t(*)[QCN_P2P_NODE_ID_BYTES])ids, cnt);
    if (rc != QCN_OK)
        return qcn_rpc_error_set(err, QCN_RPC_SERVER_ERROR, "%s", qcn_err_str(rc));
    *result = json_integer((json_int_t)cnt);
    return *result != NULL ? 0 : qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
}

static const struct qcn_rpc_method fault_methods[] = {
    {"qcn_admin_p2pPartition", rpc_partition, QCN_RPC_ADMIN},
};
#endif

/* p2p.test_faults (docs/node.md): the test partition's admin method. The
 * config refuses the key in a build without QCN_TEST_FAULTS. */
static int faults_start(struct qcn_node *n)
{
    if (!n->cfg.p2p_test_faults)
        return QCN_OK;
#ifdef QCN_TEST_FAULTS
    QCN_LOG(QCN_LOG_WARN, "node",
            "p2p.test_faults is on: TEST BUILD, the admin RPC method qcn_admin_p2pPartition can "
            "cut this node off from its peers; never use this on a real network");
    return qcn_node_rpc_register(n, fault_methods, sizeof fault_methods / sizeof fault_methods[0]);
#else
    QCN_LOG(QCN_LOG_ERROR, "node", "p2p.test_faults: this build has no test faults");
    return QCN_ERR_CONFIG;
#endif
}

int qcn_node_p2p_start(struct qcn_node *n)
{
    struct node_p2p *np;
    struct qcn_p2p_config pc;
    struct qcn_p2p_callbacks cb;
    struct qcn_store_snap *snap = NULL;
    int err;

    if (n->cfg.p2p_listen[0] == 0 && n->cfg.p2p_bootnodes[0] == 0)
        return QCN_OK;
    np = calloc(1, sizeof *np);
    if (np == NULL)
        return QCN_ERR_NOMEM;
    np->n = n;
    n->p2p = np;
    err = load_identity(n, &np->id);
    if (err != QCN_OK)
        return err;
    qcn_p2p_config_default(&pc);
    pc.chain_id = qcn_chain_params(n->chain)->chain_id;
    pc.identity = &np->id;
    if (strlen(n->cfg.p2p_listen) >= sizeof pc.listen)
        return QCN_ERR_CONFIG;
    memcpy(pc.listen, n->cfg.p2p_listen, strlen(n->cfg.p2p_listen) + 1);
    {
        /* A pos validator one block behind is normally committing that
         * block from its proposal: sync only if that does not happen. */
        struct qcn_pos_status st;
        if (qcn_node_pos_status(n, &st) == QCN_OK)
            pc.sync_lag_ms = QCN_NODE_POS_SYNC_LAG_MS;
    }
    err = parse_bootnodes(&pc, n->cfg.p2p_bootnodes);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "p2p.bootnodes: too many or too long");
        return err;
    }
    err = qcn_store_snap_begin(n->store, &snap);
    if (err == QCN_OK)
        err = qcn_store_canon_get(snap, NULL, 0, pc.genesis_hash);
    qcn_store_snap_end(snap);
    if (err != QCN_OK)
        return err;

    memset(&cb, 0, sizeof cb);
    cb.ctx = np;
    cb.get_head = cb_get_head;
    cb.on_tx = cb_on_tx;
    cb.has_tx = cb_has_tx;
    cb.get_tx = cb_get_tx;
    cb.get_block = cb_get_block;
    cb.apply_block = cb_apply_block;
    cb.on_synced = cb_synced;
    cb.on_consensus = cb_consensus;
    err = qcn_p2p_new(&np->p, &n->loop, &pc, &cb);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "node", "p2p: %s", qcn_err_str(err));
        return err;
    }
    err = qcn_node_on_block(n, on_block, np);
    if (err == QCN_OK)
        err = qcn_p2p_start(np->p);
    if (err != QCN_OK)
        return err;
    qcn_node_pos_set_transport(n, send_consensus, send_consensus_to, np);
    err = faults_start(n);
    if (err != QCN_OK)
        return err;
    {
        char hex[2 + 2 * QCN_P2P_NODE_ID_BYTES + 1];
        id_hex(hex, np->id.node_id);
        QCN_LOG(QCN_LOG_INFO, "node", "p2p node id %s, port %u, %zu bootnode(s)", hex,
                (unsigned)qcn_p2p_listen_port(np->p), pc.nbootnodes);
    }
    return QCN_OK;
}

void qcn_node_p2p_stop(struct qcn_node *n)
{
    struct node_p2p *np = np_of(n);
    if (np != NULL && np->p != NULL)
        qcn_p2p_stop(np->p);
}

void qcn_node_p2p_free(struct qcn_node *n)
{
    struct node_p2p *np = np_of(n);
    if (np == NULL)
        return;
    qcn_node_pos_set_broadcast(n, NULL, NULL);
    qcn_p2p_free(np->p);
    qcn_p2p_identity_clear(&np->id);
    free(np);
    n->p2p = NULL;
}

void qcn_node_p2p_tx_admitted(struct qcn_node *n, const uint8_t hash[32])
{
    struct node_p2p *np = np_of(n);
    if (np != NULL && np->p != NULL)
        qcn_p2p_broadcast_tx_hash(np->p, hash);
}

size_t qcn_node_p2p_peer_count(const struct qcn_node *n)
{
    const struct node_p2p *np = n->p2p;
    if (np == NULL || np->p == NULL)
        return 0;
    return qcn_p2p_peers(np->p, NULL, 0);
}

int qcn_node_p2p_status_json(const struct qcn_node *n, struct json_t **out)
{
    const struct node_p2p *np = n->p2p;
    struct qcn_p2p_peer_info *infos = NULL;
    json_t *st = NULL, *peers = NULL;
    char hex[2 + 2 * QCN_P2P_NODE_ID_BYTES + 1];
    size_t cnt = 0, i;
    int err = QCN_ERR_NOMEM;

    *out = NULL;
    peers = json_array();
    if (peers == NULL)
        goto out;
    if (np != NULL && np->p != NULL) {
        cnt = qcn_p2p_peers(np->p, NULL, 0);
        infos = calloc(cnt > 0 ? cnt : 1, sizeof *infos);
        if (infos == NULL)
            goto out;
        cnt = qcn_p2p_peers(np->p, infos, cnt);
        for (i = 0; i < cnt; i++) {
            id_hex(hex, infos[i].node_id);
            if (json_array_append_new(
                    peers, json_pack("{s:s,s:s,s:b,s:I,s:i,s:b}", "nodeId", hex, "addr",
                                     infos[i].addr, "inbound", infos[i].inbound, "height",
                                     (json_int_t)infos[i].head_height, "score", (int)infos[i].score,
                                     "partitioned", infos[i].partitioned)) != 0)
                goto out;
        }
        id_hex(hex, np->id.node_id);
        st = json_pack("{s:b,s:s,s:i,s:O}", "listening", qcn_p2p_listen_port(np->p) != 0, "nodeId",
                       hex, "port", (int)qcn_p2p_listen_port(np->p), "peers", peers);
    } else {
        st = json_pack("{s:b,s:n,s:i,s:O}", "listening", 0, "nodeId", "port", 0, "peers", peers);
    }
    if (st != NULL) {
        *out = st;
        err = QCN_OK;
    }
out:
    free(infos);
    json_decref(peers);
    return err;
}
