/* pow.c - SHA3 proof of work (pow.h; docs/consensus.md §10). */
#include "consensus/pow.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "util/log.h"

#define DEFAULT_TARGET_S 2u

uint64_t qcn_pow_next_difficulty(uint64_t parent_d, uint64_t parent_ts, uint64_t ts,
                                 uint64_t target_s)
{
    int64_t x;
    uint64_t step, d;
    if (target_s == 0)
        target_s = 1;
    if (parent_d < QCN_POW_MIN_DIFFICULTY)
        parent_d = QCN_POW_MIN_DIFFICULTY;
    /* ts >= parent_ts is a chain rule; a lower one counts as 0 s */
    x = 1 - (int64_t)((ts > parent_ts ? ts - parent_ts : 0) / target_s);
    if (x < -99)
        x = -99;
    step = parent_d / QCN_POW_ADJUST_DIV;
    if (x >= 0) {
        d = parent_d + step * (uint64_t)x;
        if (d < parent_d)
            d = UINT64_MAX;
    } else {
        uint64_t down = step * (uint64_t)(-x);
        d = down >= parent_d ? 0 : parent_d - down;
    }
    return d < QCN_POW_MIN_DIFFICULTY ? QCN_POW_MIN_DIFFICULTY : d;
}

static int seal_hash(uint8_t out[32], const struct qcn_header *h)
{
    struct qcn_header t = *h;
    int err;
    /* the header without its nonce: extra = difficulty only */
    t.extra_len = 8;
    err = qcn_header_hash(out, &t);
    return err;
}

static void work_of(uint8_t out[32], const uint8_t seal[32], uint64_t nonce)
{
    uint8_t in[40];
    memcpy(in, seal, 32);
    qcn_store_be64(in + 32, nonce);
    qcn_sha3_256(out, in, sizeof in);
}

static int meets(const uint8_t work[32], uint64_t difficulty)
{
    return difficulty > 0 && qcn_load_be64(work) <= UINT64_MAX / difficulty;
}

int qcn_pow_work(uint8_t out[32], const struct qcn_header *h)
{
    uint8_t seal[32];
    int err;
    if (h->extra_len != QCN_POW_EXTRA_BYTES)
        return QCN_ERR_CODEC;
    if ((err = seal_hash(seal, h)) != QCN_OK)
        return err;
    work_of(out, seal, qcn_load_be64(h->extra + 8));
    return QCN_OK;
}

int qcn_pow_verify(const struct qcn_header *h, const struct qcn_header *parent, uint64_t target_s)
{
    uint8_t work[32];
    uint64_t want, pd = QCN_POW_MIN_DIFFICULTY, pts = 0;
    if (h->extra_len != QCN_POW_EXTRA_BYTES)
        return QCN_ERR_BLOCK_INVALID;
    if (parent != NULL && parent->height > 0) {
        if (parent->extra_len != QCN_POW_EXTRA_BYTES)
            return QCN_ERR_BLOCK_INVALID;
        pd = qcn_load_be64(parent->extra);
    }
    if (parent != NULL)
        pts = parent->timestamp;
    want = parent != NULL && parent->height > 0
               ? qcn_pow_next_difficulty(pd, pts, h->timestamp, target_s)
               : QCN_POW_MIN_DIFFICULTY;
    if (qcn_load_be64(h->extra) != want)
        return QCN_ERR_BLOCK_INVALID;
    if (qcn_pow_work(work, h) != QCN_OK || !meets(work, want))
        return QCN_ERR_BLOCK_INVALID;
    return QCN_OK;
}

int qcn_pow_seal(struct qcn_header *h, uint64_t difficulty, uint64_t *nonce, uint64_t max_tries)
{
    uint8_t seal[32], work[32];
    uint64_t i;
    int err;
    qcn_store_be64(h->extra, difficulty);
    h->extra_len = 8;
    if ((err = seal_hash(seal, h)) != QCN_OK)
        return err;
    h->extra_len = QCN_POW_EXTRA_BYTES;
    for (i = 0; i < max_tries; i++, (*nonce)++) {
        work_of(work, seal, *nonce);
        if (meets(work, difficulty)) {
            qcn_store_be64(h->extra + 8, *nonce);
            return QCN_OK;
        }
    }
    return QCN_ERR_NOT_FOUND;
}

/* ---- the engine ---- */

struct qcn_pow {
    struct qcn_pos_host host;
    struct qcn_pow_config cfg;
    int running;
    uint64_t mined;
    /* the block being mined */
    int have;
    uint64_t on_height; /* head it builds on */
    struct qcn_block blk;
    uint64_t difficulty, nonce;
};

int qcn_pow_new(struct qcn_pow **out, const struct qcn_pos_host *host,
                const struct qcn_pow_config *cfg)
{
    struct qcn_pow *p = calloc(1, sizeof *p);
    *out = NULL;
    if (p == NULL)
        return QCN_ERR_NOMEM;
    p->host = *host;
    p->cfg = *cfg;
    if (p->cfg.target_s == 0)
        p->cfg.target_s = DEFAULT_TARGET_S;
    *out = p;
    return QCN_OK;
}

static void drop_work(struct qcn_pow *p)
{
    if (p->have)
        qcn_block_clear(&p->blk);
    p->have = 0;
}

/* Builds a new candidate on the head. */
static int new_work(struct qcn_pow *p)
{
    struct qcn_pos_build a;
    struct qcn_buf b;
    struct qcn_header parent;
    uint8_t hash[32], extra[QCN_POW_EXTRA_BYTES];
    uint64_t hh;
    int err;

    drop_work(p);
    p->host.head(p->host.ctx, &hh, hash);
    memset(&parent, 0, sizeof parent);
    if ((err = p->host.get_header(p->host.ctx, hh, &parent)) != QCN_OK)
        return err;
    memset(&a, 0, sizeof a);
    memset(extra, 0, sizeof extra);
    a.height = hh + 1;
    memcpy(a.proposer, p->cfg.coinbase, QCN_ADDRESS_BYTES);
    /* PoW has no beacon: the mix is the parent hash (predictable; docs). */
    memcpy(a.mix, hash, 32);
    a.extra = extra;
    a.extra_len = sizeof extra;
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    err = p->host.build_block(p->host.ctx, &a, &b, hash);
    if (err == QCN_OK)
        err = qcn_block_decode(&p->blk, qcn_buf_view(&b));
    qcn_buf_clear(&b);
    if (err != QCN_OK) {
        qcn_header_clear(&parent);
        return err;
    }
    p->have = 1;
    p->on_height = hh;
    p->difficulty = hh == 0 ? QCN_POW_MIN_DIFFICULTY
                            : qcn_pow_next_difficulty(parent.extra_len == QCN_POW_EXTRA_BYTES
                                                          ? qcn_load_be64(parent.extra)
                                                          : QCN_POW_MIN_DIFFICULTY,
                                                      parent.timestamp, p->blk.header.timestamp,
                                                      p->cfg.target_s);
    p->nonce = 0;
    qcn_header_clear(&parent);
    return QCN_OK;
}

int qcn_pow_start(struct qcn_pow *p)
{
    p->running = 1;
    p->host.timer_set(p->host.ctx, 0);
    return QCN_OK;
}

void qcn_pow_stop(struct qcn_pow *p)
{
    if (!p->running)
        return;
    p->running = 0;
    p->host.timer_cancel(p->host.ctx);
}

void qcn_pow_free(struct qcn_pow *p)
{
    if (p == NULL)
        return;
    drop_work(p);
    free(p);
}

void qcn_pow_on_timer(struct qcn_pow *p)
{
    uint8_t hash[32];
    uint64_t hh;
    int err;
    if (!p->running)
        return;
    p->host.head(p->host.ctx, &hh, hash);
    if (!p->have || p->on_height != hh) {
        if ((err = new_work(p)) != QCN_OK) {
            QCN_LOG(QCN_LOG_WARN, "pow", "cannot build a block: %s", qcn_err_str(err));
            p->host.timer_set(p->host.ctx, 200);
            return;
        }
    }
    err = qcn_pow_seal(&p->blk.header, p->difficulty, &p->nonce, QCN_POW_HASHES_PER_SLICE);
    if (err == QCN_OK) {
        struct qcn_buf b;
        qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
        err = qcn_block_encode(&b, &p->blk);
        if (err == QCN_OK)
            err = p->host.commit_block(p->host.ctx, b.p, b.len, NULL, 0);
        if (err == QCN_OK) {
            p->mined++;
            p->host.broadcast(p->host.ctx, QCN_POS_MSG_PROPOSAL, b.p, b.len);
        }
        qcn_buf_clear(&b);
        drop_work(p);
    } else if (err != QCN_ERR_NOT_FOUND) {
        drop_work(p);
    }
    p->host.timer_set(p->host.ctx, 0);
}

int qcn_pow_on_block(struct qcn_pow *p, const uint8_t *raw, size_t len)
{
    struct qcn_block blk;
    struct qcn_header parent;
    uint8_t hash[32];
    uint64_t hh;
    int err;
    if ((err = qcn_block_decode(&blk, qcn_view_make(raw, len))) != QCN_OK)
        return QCN_ERR_BLOCK_INVALID;
    p->host.head(p->host.ctx, &hh, hash);
    if (blk.header.height != hh + 1 || memcmp(blk.header.parent_hash, hash, 32) != 0) {
        qcn_block_clear(&blk);
        return QCN_ERR_BLOCK_PARENT;
    }
    memset(&parent, 0, sizeof parent);
    err = p->host.get_header(p->host.ctx, hh, &parent);
    if (err == QCN_OK)
        err = qcn_pow_verify(&blk.header, &parent, p->cfg.target_s);
    qcn_header_clear(&parent);
    qcn_block_clear(&blk);
    if (err != QCN_OK)
        return QCN_ERR_BLOCK_INVALID;
    err = p->host.commit_block(p->host.ctx, raw, len, NULL, 0);
    if (err == QCN_OK)
        drop_work(p); /* the head moved: mine on the new one */
    return err;
}

uint64_t qcn_pow_mined(const struct qcn_pow *p)
{
    return p->mined;
}
