/* chain_block.c - building and applying blocks (docs/protocol.md §5).
 *
 * Both paths run the same executor over the head state, then derive the
 * transactions root (MPT over RLP(index) -> envelope, as Ethereum), the
 * receipts root (RLP(index) -> typed receipt), the bloom and the state root,
 * and turn everything the block changes into one write set. Applying compares
 * each derived value with the header and rolls the state back on any
 * difference, so a bad block changes nothing. */
#include "chain/chain_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain_staking.h"
#include "chain/mempool.h"
#include "codec/rlp.h"
#include "state/mpt.h"

void qcn_block_result_init(struct qcn_block_result *r)
{
    memset(r, 0, sizeof *r);
    qcn_writeset_init(&r->writes);
}

static void free_receipts(struct qcn_receipt *rs, size_t n)
{
    size_t i;
    if (rs == NULL)
        return;
    for (i = 0; i < n; i++)
        qcn_receipt_clear(&rs[i]);
    free(rs);
}

void qcn_block_result_clear(struct qcn_block_result *r)
{
    free_receipts(r->receipts, r->block.ntx);
    qcn_block_clear(&r->block);
    qcn_writeset_clear(&r->writes);
    memset(r, 0, sizeof *r);
}

/* Root of the trie RLP(i) -> item i, for transactions (envelopes) or
 * receipts (encoded into enc). */
static int index_root(uint8_t root[QCN_HASH_BYTES], struct qcn_tx *const *txs,
                      const struct qcn_receipt *rs, size_t n)
{
    struct qcn_mpt_kv *kv = NULL;
    uint8_t(*keys)[9] = NULL;
    size_t *offs = NULL, i;
    struct qcn_buf kb, enc;
    int err = QCN_OK;

    if (n == 0) {
        memcpy(root, QCN_MPT_EMPTY_ROOT, QCN_HASH_BYTES);
        return QCN_OK;
    }
    qcn_buf_init(&kb, 16);
    qcn_buf_init(&enc, QCN_BLOCK_MAX_BYTES);
    kv = calloc(n, sizeof *kv);
    keys = calloc(n, sizeof *keys);
    offs = calloc(n + 1, sizeof *offs);
    if (kv == NULL || keys == NULL || offs == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n && err == QCN_OK; i++) {
        qcn_buf_reset(&kb);
        if ((err = qcn_rlp_put_u64(&kb, i)) != QCN_OK)
            break;
        memcpy(keys[i], kb.p, kb.len);
        kv[i].key = keys[i];
        kv[i].key_len = kb.len;
        if (rs != NULL) {
            offs[i] = enc.len;
            err = qcn_receipt_encode(&enc, &rs[i]);
        } else {
            /* docs/protocol.md §8: the trie holds each transaction's hash (which
             * binds the envelope), not the envelope: hashing 3-5 KB PQ
             * envelopes a second time would double the block's hashing. */
            kv[i].value = txs[i]->hash;
            kv[i].value_len = QCN_HASH_BYTES;
        }
    }
    if (err == QCN_OK && rs != NULL) {
        offs[n] = enc.len;
        for (i = 0; i < n; i++) {
            kv[i].value = enc.p + offs[i];
            kv[i].value_len = offs[i + 1] - offs[i];
        }
    }
    if (err == QCN_OK)
        err = qcn_mpt_root(root, kv, n);
out:
    free(kv);
    free(keys);
    free(offs);
    qcn_buf_clear(&kb);
    qcn_buf_clear(&enc);
    return err;
}

/* RLP header of a string (base 0x80) or list (base 0xc0) of len bytes. */
static size_t put_header(uint8_t *out, size_t len, uint8_t base)
{
    size_t n = qcn_rlp_header_len(len), i;
    if (n == 1) {
        out[0] = (uint8_t)(base + len);
        return 1;
    }
    out[0] = (uint8_t)(base + 55 + (n - 1));
    for (i = 1; i < n; i++)
        out[i] = (uint8_t)(len >> (8 * (n - 1 - i)));
    return n;
}

/* The body (RLP list of envelopes) goes straight into the write set: it is
 * most of a block's bytes, so it is copied once. Same bytes as
 * qcn_block_body_encode. body_alloc reserves the value (its key, the block
 * hash, is not known yet: it is written by body_key once the header is
 * sealed); body_fill copies the envelopes in and may run on another thread,
 * as it touches only that value and the (immutable) envelopes. */
struct body {
    uint8_t *p;
    size_t len, payload; /* the whole value; the list's payload */
    size_t widx;         /* the write's index in the set */
};

static int body_alloc(struct qcn_writeset *ws, const struct qcn_block *blk, struct body *bd)
{
    static const uint8_t no_key[QCN_HASH_BYTES];
    size_t payload = 0, i;
    int err;

    for (i = 0; i < blk->ntx; i++)
        payload += qcn_rlp_header_len(blk->txs[i]->raw_len) + blk->txs[i]->raw_len;
    bd->payload = payload;
    bd->len = qcn_rlp_header_len(payload) + payload;
    err = qcn_writeset_put_alloc(ws, QCN_TABLE_BODY, no_key, QCN_HASH_BYTES, bd->len, &bd->p);
    bd->widx = ws->n - 1;
    return err;
}

static void body_fill(const struct body *bd, const struct qcn_block *blk)
{
    size_t i, o;
    o = put_header(bd->p, bd->payload, 0xc0);
    for (i = 0; i < blk->ntx; i++) {
        o += put_header(bd->p + o, blk->txs[i]->raw_len, 0x80);
        memcpy(bd->p + o, blk->txs[i]->raw, blk->txs[i]->raw_len);
        o += blk->txs[i]->raw_len;
    }
}

/* The key lives in the set's own arena (statedb_batch.c), writable memory
 * that the set hands out read-only. */
static void body_key(struct qcn_writeset *ws, const struct body *bd, const struct qcn_block *blk)
{
    memcpy((uint8_t *)(uintptr_t)ws->w[bd->widx].key, blk->hash, QCN_HASH_BYTES);
}

/* Header, receipts, canonical index, tx index and head pointer (the body
 * is seal's). */
static int block_rows(struct qcn_block_result *res)
{
    struct qcn_block *blk = &res->block;
    struct qcn_buf b;
    uint8_t hk[8], ti[QCN_HASH_BYTES + 4];
    size_t i;
    int err;

    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    /* Receipts of a transfer block are ~300 bytes each: reserve once. */
    err = qcn_buf_reserve(&b, QCN_HEADER_MAX_BYTES < 512 * (blk->ntx + 1) ? 512 * (blk->ntx + 1)
                                                                          : QCN_HEADER_MAX_BYTES);
    if (err == QCN_OK)
        err = qcn_header_encode(&b, &blk->header);
    if (err == QCN_OK)
        err =
            qcn_writeset_put(&res->writes, QCN_TABLE_HEADER, blk->hash, QCN_HASH_BYTES, b.p, b.len);
    if (err == QCN_OK) {
        qcn_buf_reset(&b);
        err = qcn_receipts_encode(&b, res->receipts, blk->ntx);
    }
    if (err == QCN_OK)
        err = qcn_writeset_put(&res->writes, QCN_TABLE_RECEIPTS, blk->hash, QCN_HASH_BYTES, b.p,
                               b.len);
    qcn_store_be64(hk, blk->header.height);
    if (err == QCN_OK)
        err = qcn_writeset_put(&res->writes, QCN_TABLE_CANON, hk, sizeof hk, blk->hash,
                               QCN_HASH_BYTES);
    memcpy(ti, blk->hash, QCN_HASH_BYTES);
    for (i = 0; i < blk->ntx && err == QCN_OK; i++) {
        qcn_store_be32(ti + QCN_HASH_BYTES, (uint32_t)i);
        err = qcn_writeset_put(&res->writes, QCN_TABLE_TXINDEX, blk->txs[i]->hash, QCN_HASH_BYTES,
                               ti, sizeof ti);
    }
    if (err == QCN_OK)
        err = qcn_writeset_put(&res->writes, QCN_TABLE_META, (const uint8_t *)"head", 4, blk->hash,
                               QCN_HASH_BYTES);
    qcn_buf_clear(&b);
    return err;
}

/* The transactions and receipts roots and the body's bytes, produced on a
 * helper thread while the caller folds the state into the trie: the three
 * are independent, and for a block of thousands of transfers each is
 * milliseconds of hashing or copying. The helper only reads the
 * transactions and receipts, which nothing changes meanwhile, and writes two
 * header fields the other side does not touch and the body's reserved bytes. */
struct roots_job {
    struct qcn_block_result *res;
    struct body body;
    int err;
};

static void *roots_main(void *arg)
{
    struct roots_job *j = arg;
    struct qcn_header *h = &j->res->block.header;
    j->err = index_root(h->tx_root, j->res->block.txs, NULL, j->res->block.ntx);
    if (j->err == QCN_OK)
        j->err = index_root(h->receipts_root, NULL, j->res->receipts, j->res->block.ntx);
    body_fill(&j->body, &j->res->block);
    return NULL;
}

/* Blocks smaller than this compute their roots inline (a thread costs tens
 * of microseconds). */
#define SEAL_PARALLEL_MIN_TXS 256

/* Fills the derived header fields and the write set after execution. */
static int seal(struct qcn_chain *c, struct qcn_block_result *res, uint64_t gas_used)
{
    struct qcn_header *h = &res->block.header;
    struct roots_job rj;
    pthread_t th;
    int threaded = 0;
    size_t i;
    int err;

    h->gas_used = gas_used;
    memset(h->bloom, 0, QCN_BLOOM_BYTES);
    for (i = 0; i < res->block.ntx; i++) {
        size_t j;
        for (j = 0; j < QCN_BLOOM_BYTES; j++)
            h->bloom[j] |= res->receipts[i].bloom[j];
    }
    rj.res = res;
    rj.err = QCN_OK;
    if ((err = body_alloc(&res->writes, &res->block, &rj.body)) != QCN_OK)
        return err;
    if (res->block.ntx >= SEAL_PARALLEL_MIN_TXS)
        threaded = pthread_create(&th, NULL, roots_main, &rj) == 0;
    /* Staking's end of block (chain_staking.c) in build and apply alike.
     * New trie nodes are filed under this block's height (statedb.h), so
     * they land together at the end of the store's trie table. */
    qcn_statedb_set_gen(c->db, h->height);
    err = qcn_chain_staking_end_block(c, h);
    if (err == QCN_OK)
        err = qcn_statedb_commit(c->db, h->state_root, &res->writes);
    if (threaded)
        pthread_join(th, NULL);
    else
        (void)roots_main(&rj);
    if (err == QCN_OK)
        err = rj.err;
    if (err == QCN_OK)
        err = qcn_header_hash(res->block.hash, h);
    if (err != QCN_OK)
        return err;
    body_key(&res->writes, &rj.body, &res->block);
    return block_rows(res);
}

int qcn_chain_block_build(struct qcn_chain *c, struct qcn_mempool *mp,
                          const struct qcn_build_args *args, struct qcn_block_result *out)
{
    struct qcn_header *h;
    struct qcn_exec x;
    struct qcn_tx **cand = NULL;
    size_t ncand = 0, i, mark, body = 0;
    int err;

    qcn_block_result_init(out);
    qcn_writeset_set_pool(&out->writes, c->wpool);
    if (c->pending)
        return QCN_ERR_BLOCK_PENDING;
    if (args->extra_len > QCN_HEADER_MAX_EXTRA)
        return QCN_ERR_TOO_LARGE;
    h = &out->block.header;
    memcpy(h->parent_hash, c->head_hash, QCN_HASH_BYTES);
    h->height = c->head.height + 1;
    h->timestamp = args->timestamp < c->head.timestamp ? c->head.timestamp : args->timestamp;
    memcpy(h->proposer, args->proposer, QCN_ADDRESS_BYTES);
    h->gas_limit = c->params.block_gas_limit;
    h->base_fee = qcn_chain_next_base_fee(c);
    memcpy(h->mix, args->mix, QCN_HASH_BYTES);
    h->extra_len = args->extra_len;
    if (args->extra_len)
        memcpy(h->extra, args->extra, args->extra_len);
    if ((err = qcn_header_set_commit(h, args->commit, args->commit_len)) != QCN_OK)
        goto fail;

    memset(&x, 0, sizeof x);
    x.header = h;
    x.base_fee = h->base_fee;
    x.gas_limit = h->gas_limit;
    if (mp != NULL) {
        err = qcn_mempool_select(mp, c, h->base_fee, h->gas_limit,
                                 args->max_txs ? args->max_txs : QCN_BLOCK_MAX_TXS, &cand, &ncand);
        if (err != QCN_OK)
            goto fail;
    }
    out->block.txs = calloc(ncand ? ncand : 1, sizeof *out->block.txs);
    out->receipts = calloc(ncand ? ncand : 1, sizeof *out->receipts);
    if (out->block.txs == NULL || out->receipts == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    for (i = 0; i < ncand; i++) {
        struct qcn_receipt *r = &out->receipts[out->block.ntx];
        if (cand[i]->raw_len > QCN_BLOCK_MAX_TX_BYTES - body)
            continue; /* no room in this block's byte budget; stays pooled */
        mark = qcn_statedb_snapshot(c->db);
        err = qcn_chain_tx_execute(c, &x, cand[i], r);
        if (err == QCN_ERR_NOMEM || err == QCN_ERR_STORE || err == QCN_ERR_STORE_CORRUPT ||
            err == QCN_ERR_INTERNAL)
            goto fail;
        if (err != QCN_OK) {
            /* Invalid here (a stale nonce, a key rotated by an earlier
             * transaction, a fee under this block's base fee): skip it. Only
             * transactions that can never become valid leave the pool. */
            qcn_statedb_revert(c->db, mark);
            qcn_receipt_clear(r);
            if (mp != NULL && err != QCN_ERR_TX_GAS_LIMIT && err != QCN_ERR_TX_FEE_LOW &&
                err != QCN_ERR_TX_NONCE_HIGH)
                (void)qcn_mempool_remove(mp, cand[i]->hash);
            continue;
        }
        body += cand[i]->raw_len;
        out->block.txs[out->block.ntx++] = cand[i];
        cand[i] = NULL;
        if (x.gas_limit - x.gas_used < QCN_GAS_TX)
            break;
    }
    if ((err = seal(c, out, x.gas_used)) != QCN_OK)
        goto fail;
    c->pending = 1;
    err = QCN_OK;
    goto done;
fail:
    qcn_statedb_rollback(c->db);
    qcn_block_result_clear(out);
done:
    for (i = 0; i < ncand; i++)
        qcn_tx_unref(cand[i]);
    free(cand);
    return err;
}

/* Signatures of the block's transactions that nobody has checked yet are
 * verified up front, in parallel, against the keys recorded at the head. A
 * key rotated inside the block changes the record hash, so the executor then
 * verifies that transaction again, serially, against the new key. */
static void preverify(struct qcn_chain *c, struct qcn_mempool *mp, struct qcn_block *blk)
{
    struct qcn_tx **unverified;
    uint8_t kh[QCN_HASH_BYTES];
    int *errs;
    size_t i, n = 0;
    int recorded;

    unverified = calloc(blk->ntx ? blk->ntx : 1, sizeof *unverified);
    errs = calloc(blk->ntx ? blk->ntx : 1, sizeof *errs);
    if (unverified == NULL || errs == NULL)
        goto out;
    for (i = 0; i < blk->ntx; i++) {
        struct qcn_tx *tx = blk->txs[i], *pooled;
        if (tx->verified)
            continue;
        pooled = mp != NULL ? qcn_mempool_get(mp, tx->hash) : NULL;
        if (pooled != NULL && pooled->verified) {
            /* Same hash, same bytes: the pool's verdict holds. */
            tx->verified = 1;
            memcpy(tx->verified_key_hash, pooled->verified_key_hash, QCN_HASH_BYTES);
            continue;
        }
        if (qcn_chain_tx_resolve_key(c, &c->tmp, kh, &recorded, tx) != QCN_OK)
            continue; /* the executor reports the precise reason */
        free(tx->key_record);
        tx->key_record_hash_of = NULL;
        tx->key_record = malloc(c->tmp.len);
        if (tx->key_record == NULL) {
            tx->key_record_len = 0;
            continue;
        }
        memcpy(tx->key_record, c->tmp.p, c->tmp.len);
        tx->key_record_len = c->tmp.len;
        memcpy(tx->key_record_hash, kh, QCN_HASH_BYTES);
        tx->key_record_hash_of = tx->key_record;
        unverified[n++] = tx;
    }
    qcn_tx_verify_batch(c->pool, unverified, n, errs);
    c->stats.batch_verifies += n;
out:
    free(unverified);
    free(errs);
}

int qcn_chain_block_apply(struct qcn_chain *c, struct qcn_mempool *mp, struct qcn_block *blk,
                          struct qcn_block_result *out)
{
    const struct qcn_header *bh = &blk->header;
    struct qcn_header *h;
    struct qcn_exec x;
    size_t i;
    int err;

    qcn_block_result_init(out);
    qcn_writeset_set_pool(&out->writes, c->wpool);
    if (c->pending)
        return QCN_ERR_BLOCK_PENDING;
    if (memcmp(bh->parent_hash, c->head_hash, QCN_HASH_BYTES) != 0 ||
        bh->height != c->head.height + 1)
        return QCN_ERR_BLOCK_PARENT;
    if (bh->timestamp < c->head.timestamp)
        return QCN_ERR_BLOCK_TIMESTAMP;
    if (bh->gas_limit != c->params.block_gas_limit)
        return QCN_ERR_BLOCK_GAS_LIMIT;
    if (bh->base_fee != qcn_chain_next_base_fee(c))
        return QCN_ERR_BLOCK_BASE_FEE;
    if (bh->gas_used > bh->gas_limit)
        return QCN_ERR_BLOCK_GAS_USED;
    if (blk->ntx > QCN_BLOCK_MAX_TXS)
        return QCN_ERR_TOO_LARGE;
    {
        size_t body = 0, i2;
        for (i2 = 0; i2 < blk->ntx; i2++) {
            body += blk->txs[i2]->raw_len; /* each <= 128 KiB, at most 65536 */
            if (body > QCN_BLOCK_MAX_TX_BYTES)
                return QCN_ERR_TOO_LARGE;
        }
    }

    preverify(c, mp, blk);

    /* Take the block over; the result owns its transactions from here. */
    out->block = *blk;
    memset(blk, 0, sizeof *blk);
    h = &out->block.header;
    out->receipts = calloc(out->block.ntx ? out->block.ntx : 1, sizeof *out->receipts);
    if (out->receipts == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    memset(&x, 0, sizeof x);
    x.header = h;
    x.base_fee = h->base_fee;
    x.gas_limit = h->gas_limit;
    for (i = 0; i < out->block.ntx; i++) {
        err = qcn_chain_tx_execute(c, &x, out->block.txs[i], &out->receipts[i]);
        if (err != QCN_OK)
            goto fail;
    }
    if (x.gas_used != h->gas_used) {
        err = QCN_ERR_BLOCK_GAS_USED;
        goto fail;
    }
    {
        /* seal() rewrites the derived fields; compare them with the block's. */
        struct qcn_header claimed = *h;
        uint8_t claimed_hash[QCN_HASH_BYTES];
        memcpy(claimed_hash, out->block.hash, QCN_HASH_BYTES);
        if ((err = seal(c, out, x.gas_used)) != QCN_OK)
            goto fail;
        if (memcmp(claimed.tx_root, h->tx_root, QCN_HASH_BYTES) != 0)
            err = QCN_ERR_BLOCK_TX_ROOT;
        else if (memcmp(claimed.receipts_root, h->receipts_root, QCN_HASH_BYTES) != 0)
            err = QCN_ERR_BLOCK_RECEIPTS_ROOT;
        else if (memcmp(claimed.bloom, h->bloom, QCN_BLOOM_BYTES) != 0)
            err = QCN_ERR_BLOCK_BLOOM;
        else if (memcmp(claimed.state_root, h->state_root, QCN_HASH_BYTES) != 0)
            err = QCN_ERR_STATE_ROOT;
        if (err != QCN_OK) {
            /* Give the caller its block back as it came. */
            memcpy(h->tx_root, claimed.tx_root, QCN_HASH_BYTES);
            memcpy(h->receipts_root, claimed.receipts_root, QCN_HASH_BYTES);
            memcpy(h->bloom, claimed.bloom, QCN_BLOOM_BYTES);
            memcpy(h->state_root, claimed.state_root, QCN_HASH_BYTES);
            memcpy(out->block.hash, claimed_hash, QCN_HASH_BYTES);
            goto fail;
        }
    }
    c->pending = 1;
    return QCN_OK;
fail:
    qcn_statedb_rollback(c->db);
    free_receipts(out->receipts, out->block.ntx);
    out->receipts = NULL;
    *blk = out->block;
    memset(&out->block, 0, sizeof out->block);
    qcn_block_result_clear(out);
    return err;
}

void qcn_chain_block_commit_done(struct qcn_chain *c, const struct qcn_block_result *res,
                                 struct qcn_mempool *mp)
{
    struct qcn_header h;
    if (!c->pending)
        return;
    qcn_statedb_finalize(c->db);
    if (qcn_header_copy(&h, &res->block.header) == QCN_OK) {
        qcn_header_clear(&c->head);
        c->head = h;
    } else {
        /* Out of memory copying a commit certificate: keep every field but it. */
        uint8_t *keep = c->head.commit;
        c->head = res->block.header;
        c->head.commit = keep;
    }
    memcpy(c->head_hash, res->block.hash, QCN_HASH_BYTES);
    c->pending = 0;
    c->stats.blocks++;
    c->stats.txs += res->block.ntx;
    if (mp != NULL)
        qcn_mempool_on_block(mp, c, res->block.txs, res->block.ntx);
}

void qcn_chain_block_abort(struct qcn_chain *c, const struct qcn_block_result *res)
{
    (void)res;
    if (!c->pending)
        return;
    qcn_statedb_rollback(c->db);
    c->pending = 0;
}
