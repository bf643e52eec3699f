/* block.c - headers, bodies and blocks (docs/protocol.md §5). Strict like
 * every decoder here: one block has one encoding and so one hash. */
#include "codec/block.h"

#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"

enum {
    H_PARENT,
    H_HEIGHT,
    H_TIMESTAMP,
    H_PROPOSER,
    H_STATE_ROOT,
    H_TX_ROOT,
    H_RECEIPTS_ROOT,
    H_BLOOM,
    H_GAS_LIMIT,
    H_GAS_USED,
    H_BASE_FEE,
    H_MIX,
    H_EXTRA,
    H_COMMIT,
    H_COUNT
};

int qcn_header_encode(struct qcn_buf *b, const struct qcn_header *h)
{
    size_t l = qcn_rlp_list_begin(b);
    int err;

    if ((err = qcn_rlp_put_bytes(b, h->parent_hash, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, h->height)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, h->timestamp)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->proposer, QCN_ADDRESS_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->state_root, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->tx_root, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->receipts_root, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->bloom, QCN_BLOOM_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, h->gas_limit)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, h->gas_used)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, h->base_fee)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->mix, QCN_HASH_BYTES)) != QCN_OK)
        return err;
    if (h->extra_len > QCN_HEADER_MAX_EXTRA || h->commit_len > QCN_HEADER_MAX_COMMIT)
        return QCN_ERR_TOO_LARGE;
    if ((err = qcn_rlp_put_bytes(b, h->extra, h->extra_len)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, h->commit, h->commit_len)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

static int decode_items(struct qcn_header *out, const struct qcn_rlp_item *top)
{
    struct qcn_rlp_item f[H_COUNT];
    struct qcn_view extra, commit;

    if (top->raw.len > QCN_HEADER_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_split(f, H_COUNT, top) != QCN_OK)
        return QCN_ERR_CODEC;
    if (qcn_rlp_get_fixed(out->parent_hash, QCN_HASH_BYTES, &f[H_PARENT]) != QCN_OK ||
        qcn_rlp_get_u64(&out->height, &f[H_HEIGHT]) != QCN_OK ||
        qcn_rlp_get_u64(&out->timestamp, &f[H_TIMESTAMP]) != QCN_OK ||
        qcn_rlp_get_fixed(out->proposer, QCN_ADDRESS_BYTES, &f[H_PROPOSER]) != QCN_OK ||
        qcn_rlp_get_fixed(out->state_root, QCN_HASH_BYTES, &f[H_STATE_ROOT]) != QCN_OK ||
        qcn_rlp_get_fixed(out->tx_root, QCN_HASH_BYTES, &f[H_TX_ROOT]) != QCN_OK ||
        qcn_rlp_get_fixed(out->receipts_root, QCN_HASH_BYTES, &f[H_RECEIPTS_ROOT]) != QCN_OK ||
        qcn_rlp_get_fixed(out->bloom, QCN_BLOOM_BYTES, &f[H_BLOOM]) != QCN_OK ||
        qcn_rlp_get_u64(&out->gas_limit, &f[H_GAS_LIMIT]) != QCN_OK ||
        qcn_rlp_get_u64(&out->gas_used, &f[H_GAS_USED]) != QCN_OK ||
        qcn_rlp_get_u64(&out->base_fee, &f[H_BASE_FEE]) != QCN_OK ||
        qcn_rlp_get_fixed(out->mix, QCN_HASH_BYTES, &f[H_MIX]) != QCN_OK ||
        qcn_rlp_get_bytes(&extra, QCN_HEADER_MAX_EXTRA, &f[H_EXTRA]) != QCN_OK ||
        qcn_rlp_get_bytes(&commit, QCN_HEADER_MAX_COMMIT, &f[H_COMMIT]) != QCN_OK)
        return QCN_ERR_CODEC;
    out->extra_len = extra.len;
    if (extra.len)
        memcpy(out->extra, extra.p, extra.len);
    return qcn_header_set_commit(out, commit.p, commit.len);
}

int qcn_header_decode(struct qcn_header *out, struct qcn_view in)
{
    struct qcn_rlp_item top;
    int err;

    memset(out, 0, sizeof *out);
    if (in.len > QCN_HEADER_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK || !top.is_list)
        return QCN_ERR_CODEC;
    err = decode_items(out, &top);
    if (err != QCN_OK)
        qcn_header_clear(out);
    return err;
}

int qcn_header_hash(uint8_t out[QCN_HASH_BYTES], const struct qcn_header *h)
{
    struct qcn_buf b;
    int err;
    qcn_buf_init(&b, QCN_HEADER_MAX_BYTES);
    err = qcn_header_encode(&b, h);
    if (err == QCN_OK)
        qcn_keccak256(out, b.p, b.len);
    else
        memset(out, 0, QCN_HASH_BYTES);
    qcn_buf_clear(&b);
    return err;
}

int qcn_header_set_commit(struct qcn_header *h, const uint8_t *p, size_t len)
{
    uint8_t *c = NULL;
    if (len > QCN_HEADER_MAX_COMMIT)
        return QCN_ERR_TOO_LARGE;
    if (len) {
        c = malloc(len);
        if (c == NULL)
            return QCN_ERR_NOMEM;
        memcpy(c, p, len);
    }
    free(h->commit);
    h->commit = c;
    h->commit_len = len;
    return QCN_OK;
}

int qcn_header_copy(struct qcn_header *dst, const struct qcn_header *src)
{
    *dst = *src;
    dst->commit = NULL;
    dst->commit_len = 0;
    return qcn_header_set_commit(dst, src->commit, src->commit_len);
}

void qcn_header_clear(struct qcn_header *h)
{
    free(h->commit);
    memset(h, 0, sizeof *h);
}

int qcn_block_body_encode(struct qcn_buf *b, struct qcn_tx *const *txs, size_t ntx)
{
    size_t l = qcn_rlp_list_begin(b), i;
    int err;
    for (i = 0; i < ntx; i++) {
        if ((err = qcn_rlp_put_bytes(b, txs[i]->raw, txs[i]->raw_len)) != QCN_OK)
            return err;
    }
    return qcn_rlp_list_end(b, l);
}

int qcn_block_encode(struct qcn_buf *b, const struct qcn_block *blk)
{
    size_t l = qcn_rlp_list_begin(b);
    int err;
    if ((err = qcn_header_encode(b, &blk->header)) != QCN_OK ||
        (err = qcn_block_body_encode(b, blk->txs, blk->ntx)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

static int decode_body_item(struct qcn_block *blk, const struct qcn_rlp_item *list)
{
    struct qcn_rlp_iter it;
    struct qcn_rlp_item item;
    size_t n;
    int err;

    if (!list->is_list || qcn_rlp_count(&n, list) != QCN_OK)
        return QCN_ERR_CODEC;
    if (n > QCN_BLOCK_MAX_TXS)
        return QCN_ERR_TOO_LARGE;
    blk->txs = calloc(n ? n : 1, sizeof *blk->txs);
    if (blk->txs == NULL)
        return QCN_ERR_NOMEM;
    qcn_rlp_iter_init(&it, list);
    while ((err = qcn_rlp_iter_next(&it, &item)) == QCN_OK) {
        if (item.is_list)
            return QCN_ERR_CODEC;
        err = qcn_tx_decode(&blk->txs[blk->ntx], item.payload);
        if (err != QCN_OK)
            return err;
        blk->ntx++;
    }
    return err == QCN_ERR_NOT_FOUND ? QCN_OK : QCN_ERR_CODEC;
}

int qcn_block_body_decode(struct qcn_block *blk, struct qcn_view in)
{
    struct qcn_rlp_item top;
    int err;
    if (blk->txs != NULL || blk->ntx != 0)
        return QCN_ERR_INVALID_ARG;
    if (in.len > QCN_BLOCK_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK)
        return QCN_ERR_CODEC;
    err = decode_body_item(blk, &top);
    if (err != QCN_OK) {
        size_t i;
        for (i = 0; i < blk->ntx; i++)
            qcn_tx_unref(blk->txs[i]);
        free(blk->txs);
        blk->txs = NULL;
        blk->ntx = 0;
    }
    return err;
}

int qcn_block_decode(struct qcn_block *out, struct qcn_view in)
{
    struct qcn_rlp_item top, parts[2];
    int err;

    memset(out, 0, sizeof *out);
    if (in.len > QCN_BLOCK_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(parts, 2, &top) != QCN_OK ||
        !parts[0].is_list) {
        err = QCN_ERR_CODEC;
        goto out;
    }
    err = decode_items(&out->header, &parts[0]);
    if (err != QCN_OK)
        goto out;
    qcn_keccak256(out->hash, parts[0].raw.p, parts[0].raw.len);
    err = decode_body_item(out, &parts[1]);
out:
    if (err != QCN_OK)
        qcn_block_clear(out);
    return err;
}

void qcn_block_clear(struct qcn_block *blk)
{
    size_t i;
    for (i = 0; i < blk->ntx; i++)
        qcn_tx_unref(blk->txs[i]);
    free(blk->txs);
    qcn_header_clear(&blk->header);
    memset(blk, 0, sizeof *blk);
}

void qcn_bloom_add(uint8_t bloom[QCN_BLOOM_BYTES], const uint8_t *item, size_t len)
{
    uint8_t h[QCN_HASH_BYTES];
    unsigned i, bit;
    qcn_keccak256(h, item, len);
    /* Yellow Paper eq. 28: bits from byte pairs (0,1), (2,3), (4,5), mod 2048. */
    for (i = 0; i < 6; i += 2) {
        bit = ((unsigned)h[i] << 8 | h[i + 1]) & 2047u;
        bloom[QCN_BLOOM_BYTES - 1 - bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
}
