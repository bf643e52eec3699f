/* load.c - the hidden dev load generator (`qcn node --dev-load N`): signs
 * native transfers from the dev key at about N per second and feeds them
 * through qcn_node_tx_submit, the same path RPC submissions take. It exists
 * for the crash test (tests/e2e/crash_test.sh) and for watching a dev chain
 * under load before the RPC server is wired.
 *
 * It prints one line per committed transaction to stdout, AFTER the store
 * commit returned:  "committed <height> 0x<txhash>". A line printed is
 * therefore a transaction the node has reported committed; the crash test
 * checks every one of them is still there after kill -9. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/mempool.h"
#include "crypto/rng.h"
#include "node/devkey.h"
#include "node/node_internal.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/mem.h"

#define LOAD_TIP 1000000000ull /* 1 gwei */
#define LOAD_MAX_PER_TICK 4096u

struct load {
    struct qcn_dev_key *key; /* secure memory */
    uint64_t tps;
    uint64_t carry_milli; /* fractional transactions carried between ticks */
    uint64_t next_nonce;
    size_t inflight;
    int resync;
    int with_pubkey; /* 0 once the chain has recorded the dev key */
    uint64_t gas;
    struct qcn_buf enc;
    struct qcn_ratelimit rl;
    uint64_t sent, rejected;
};

static void on_block(void *ctx, struct qcn_node *n, const struct qcn_block *blk)
{
    char hex[2 * QCN_HASH_BYTES + 1];
    size_t i;
    (void)ctx;
    (void)n;
    for (i = 0; i < blk->ntx; i++)
        printf("committed %llu 0x%s\n", (unsigned long long)blk->header.height,
               qcn_hex_encode(hex, blk->txs[i]->hash, QCN_HASH_BYTES));
    fflush(stdout);
}

static void on_submitted(void *ctx, int err, const uint8_t hash[32])
{
    struct qcn_node *n = ctx;
    struct load *l = n->load;
    (void)hash;
    if (l == NULL)
        return;
    l->inflight--;
    if (err != QCN_OK && err != QCN_ERR_CLOSED) {
        l->rejected++;
        l->resync = 1;
        QCN_LOG_RATELIMITED(&l->rl, QCN_LOG_WARN, "load", "transfer refused: %s", qcn_err_str(err));
    }
}

/* Intrinsic gas of a transfer that carries the public key: sign a probe
 * transaction, decode it and ask the chain rules. */
static int transfer_gas(struct qcn_node *n, struct load *l, uint64_t *gas)
{
    struct qcn_dev_transfer t;
    struct qcn_tx *tx = NULL;
    int err;
    memset(&t, 0, sizeof t);
    t.chain_id = qcn_chain_params(n->chain)->chain_id;
    t.gas_limit = 1000000;
    t.with_pubkey = l->with_pubkey;
    err = qcn_dev_transfer_sign(&l->enc, l->key, &t);
    if (err == QCN_OK)
        err = qcn_tx_decode(&tx, qcn_buf_view(&l->enc));
    if (err == QCN_OK)
        err = qcn_tx_intrinsic_gas(gas, tx);
    qcn_tx_unref(tx);
    return err;
}

int qcn_node_load_init(struct qcn_node *n, uint64_t tps)
{
    struct load *l = calloc(1, sizeof *l);
    char path[QCN_CONFIG_MAX_PATH + 16];
    int err;

    if (l == NULL)
        return QCN_ERR_NOMEM;
    qcn_buf_init(&l->enc, QCN_TX_MAX_BYTES);
    l->tps = tps;
    l->resync = 1;
    l->key = qcn_secure_alloc(sizeof *l->key);
    if (l->key == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    err = qcn_node_config_path(&n->cfg, path, sizeof path, QCN_CONFIG_DEV_KEY_FILE);
    if (err == QCN_OK)
        err = qcn_dev_key_load(l->key, path);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "load", "--dev-load needs the dev key %s (`qcn init --dev`): %s",
                path, qcn_err_str(err));
        goto fail;
    }
    {
        uint8_t kh[QCN_HASH_BYTES];
        l->with_pubkey = qcn_chain_key_get(n->chain, kh, NULL, l->key->address) != QCN_OK;
    }
    err = transfer_gas(n, l, &l->gas);
    if (err != QCN_OK)
        goto fail;
    n->load = l;
    err = qcn_node_on_block(n, on_block, l);
    if (err != QCN_OK) {
        n->load = NULL;
        goto fail;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    QCN_LOG(QCN_LOG_INFO, "load", "dev load generator: %llu transfers/s", (unsigned long long)tps);
    return QCN_OK;
fail:
    qcn_secure_free(l->key);
    qcn_buf_clear(&l->enc);
    free(l);
    return err;
}

void qcn_node_load_tick(struct qcn_node *n)
{
    struct load *l = n->load;
    struct qcn_account acct;
    struct qcn_dev_transfer t;
    uint64_t want, limit, pool_next, cap;
    int err;

    if (n->stopping)
        return;
    err = qcn_chain_account_get(n->chain, &acct, l->key->address);
    if (err != QCN_OK)
        return;
    pool_next = qcn_mempool_pending_nonce(n->mempool, l->key->address, acct.nonce);
    if (l->resync && l->inflight == 0) {
        l->next_nonce = pool_next;
        l->resync = 0;
    }
    if (l->next_nonce < acct.nonce)
        l->next_nonce = acct.nonce;
    /* Stay inside the pool's per-sender and nonce-gap caps. */
    cap = n->cfg.pool_max_per_sender < n->cfg.pool_max_nonce_gap ? n->cfg.pool_max_per_sender
                                                                 : n->cfg.pool_max_nonce_gap;
    limit = acct.nonce + (cap > 1 ? cap - 1 : 1);
    l->carry_milli += l->tps * QCN_NODE_HOUSEKEEPING_MS;
    want = l->carry_milli / 1000;
    l->carry_milli %= 1000;
    if (want > LOAD_MAX_PER_TICK)
        want = LOAD_MAX_PER_TICK;
    memset(&t, 0, sizeof t);
    t.chain_id = qcn_chain_params(n->chain)->chain_id;
    t.max_priority_fee = LOAD_TIP;
    t.max_fee = 2 * qcn_chain_next_base_fee(n->chain) + LOAD_TIP;
    t.gas_limit = l->gas;
    t.value = 1;
    t.with_pubkey = l->with_pubkey;
    while (want > 0 && l->next_nonce < limit) {
        t.nonce = l->next_nonce;
        qcn_rng_bytes(t.to, sizeof t.to);
        if (qcn_dev_transfer_sign(&l->enc, l->key, &t) != QCN_OK)
            break;
        l->inflight++;
        l->next_nonce++;
        l->sent++;
        want--;
        (void)qcn_node_tx_submit(n, l->enc.p, l->enc.len, on_submitted, n);
    }
}

void qcn_node_load_free(struct qcn_node *n)
{
    struct load *l = n->load;
    if (l == NULL)
        return;
    n->load = NULL;
    qcn_secure_free(l->key);
    qcn_buf_clear(&l->enc);
    free(l);
}
