/* compact.c - compact proposals and block-transaction fetches (compact.h,
 * docs/consensus.md §2.1). */
#include "codec/compact.h"

#include <string.h>

#include "codec/p2p_msg.h"
#include "codec/rlp.h"

_Static_assert(QCN_COMPACT_MAX_BYTES <= QCN_P2P_MAX_CONSENSUS_COMPACT_BYTES,
               "a compact proposal fits its p2p kind");
_Static_assert(QCN_BLOCKTX_REQ_MAX_BYTES <= QCN_P2P_MAX_CONSENSUS_BLOCKTX_REQ_BYTES,
               "a block-txs request fits its p2p kind");
_Static_assert(QCN_BLOCKTX_MAX_BYTES <= QCN_P2P_MAX_CONSENSUS_BLOCKTX_BYTES,
               "a block-txs answer fits its p2p kind");

/* RLP header bytes an entry or list of up to QCN_BLOCKTX_MAX_BYTES needs, at most. */
#define LIST_HDR_MAX 5u

int qcn_compact_proposal_encode(struct qcn_buf *b, const struct qcn_proposal *p,
                                const uint8_t *header, size_t header_len, const uint8_t *hashes,
                                size_t n)
{
    struct qcn_rlp_item h;
    size_t start = b->len, l;
    int err;
    if (n > QCN_COMPACT_MAX_TXS || header_len > QCN_HEADER_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&h, qcn_view_make(header, header_len)) != QCN_OK || !h.is_list)
        return QCN_ERR_CODEC;
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_proposal_encode(b, p)) != QCN_OK ||
        (err = qcn_rlp_put_raw(b, header, header_len)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, hashes, n * QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_list_end(b, l)) != QCN_OK) {
        b->len = start;
        return err;
    }
    if (b->len - start > QCN_COMPACT_MAX_BYTES) {
        b->len = start;
        return QCN_ERR_TOO_LARGE;
    }
    return QCN_OK;
}

int qcn_compact_proposal_decode(struct qcn_compact_proposal *out, struct qcn_view in)
{
    struct qcn_rlp_item top, it[3];
    struct qcn_view hv;
    int err;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_COMPACT_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(it, 3, &top) != QCN_OK ||
        !it[0].is_list || !it[1].is_list || it[0].raw.len > QCN_PROPOSAL_MAX_BYTES ||
        it[1].raw.len > QCN_HEADER_MAX_BYTES) {
        err = QCN_ERR_CODEC;
        goto fail;
    }
    if ((err = qcn_proposal_decode(&out->proposal, it[0].raw)) != QCN_OK)
        goto fail;
    if ((err = qcn_rlp_get_bytes(&hv, (size_t)QCN_COMPACT_MAX_TXS * QCN_HASH_BYTES, &it[2])) !=
            QCN_OK ||
        hv.len % QCN_HASH_BYTES != 0) {
        err = err != QCN_OK ? err : QCN_ERR_CODEC;
        goto fail;
    }
    out->header = it[1].raw;
    out->hashes = hv.p;
    out->n = hv.len / QCN_HASH_BYTES;
    return QCN_OK;
fail:
    memset(out, 0, sizeof *out);
    return err == QCN_ERR_TOO_LARGE ? err : QCN_ERR_CODEC;
}

int qcn_blocktx_req_encode(struct qcn_buf *b, const uint8_t block_hash[QCN_HASH_BYTES],
                           const uint32_t *idx, size_t k)
{
    uint8_t tmp[QCN_BLOCKTX_REQ_MAX_IDX * 4u];
    size_t start = b->len, l, i;
    int err;
    if (k == 0)
        return QCN_ERR_CODEC;
    if (k > QCN_BLOCKTX_REQ_MAX_IDX)
        return QCN_ERR_TOO_LARGE;
    for (i = 0; i < k; i++) {
        if (i > 0 && idx[i] <= idx[i - 1])
            return QCN_ERR_CODEC;
        qcn_store_be32(tmp + 4 * i, idx[i]);
    }
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_rlp_put_bytes(b, block_hash, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, tmp, 4 * k)) != QCN_OK ||
        (err = qcn_rlp_list_end(b, l)) != QCN_OK) {
        b->len = start;
        return err;
    }
    return QCN_OK;
}

int qcn_blocktx_req_decode(struct qcn_blocktx_req *out, struct qcn_view in)
{
    struct qcn_rlp_item top, it[2];
    struct qcn_view v;
    size_t i;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_BLOCKTX_REQ_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(it, 2, &top) != QCN_OK ||
        qcn_rlp_get_fixed(out->block_hash, QCN_HASH_BYTES, &it[0]) != QCN_OK ||
        qcn_rlp_get_bytes(&v, QCN_BLOCKTX_REQ_MAX_IDX * 4u, &it[1]) != QCN_OK || v.len == 0 ||
        v.len % 4 != 0)
        goto fail;
    for (i = 1; i < v.len / 4; i++)
        if (qcn_load_be32(v.p + 4 * i) <= qcn_load_be32(v.p + 4 * (i - 1)))
            goto fail;
    out->idx = v.p;
    out->k = v.len / 4;
    return QCN_OK;
fail:
    memset(out, 0, sizeof *out);
    return QCN_ERR_CODEC;
}

int qcn_blocktx_begin(struct qcn_blocktx_writer *w, struct qcn_buf *b,
                      const uint8_t block_hash[QCN_HASH_BYTES])
{
    int err;
    memset(w, 0, sizeof *w);
    w->b = b;
    w->start = b->len;
    w->last = -1;
    w->outer = qcn_rlp_list_begin(b);
    if ((err = qcn_rlp_put_bytes(b, block_hash, QCN_HASH_BYTES)) != QCN_OK) {
        b->len = w->start;
        return err;
    }
    w->list = qcn_rlp_list_begin(b);
    return QCN_OK;
}

int qcn_blocktx_add(struct qcn_blocktx_writer *w, uint32_t index, const uint8_t *tx, size_t len)
{
    struct qcn_buf *b = w->b;
    size_t before = b->len, l, need;
    int err;
    if (len == 0 || len > QCN_TX_MAX_BYTES || (int64_t)index <= w->last)
        return QCN_ERR_CODEC;
    /* entry: list header + index (<= 5) + string header (<= 4) + len; then
     * the two enclosing list headers */
    need = (b->len - w->start) + LIST_HDR_MAX + 5u + 4u + len + 2u * LIST_HDR_MAX;
    if (w->count >= QCN_BLOCKTX_MAX_TXS || need > QCN_BLOCKTX_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_rlp_put_u64(b, index)) != QCN_OK || (err = qcn_rlp_put_bytes(b, tx, len)) ||
        (err = qcn_rlp_list_end(b, l)) != QCN_OK) {
        b->len = before;
        return err;
    }
    w->count++;
    w->last = index;
    return QCN_OK;
}

int qcn_blocktx_end(struct qcn_blocktx_writer *w)
{
    int err;
    if (w->count == 0) {
        w->b->len = w->start;
        return QCN_ERR_NOT_FOUND;
    }
    if ((err = qcn_rlp_list_end(w->b, w->list)) != QCN_OK ||
        (err = qcn_rlp_list_end(w->b, w->outer)) != QCN_OK) {
        w->b->len = w->start;
        return err;
    }
    return QCN_OK;
}

static int entry_read(const struct qcn_rlp_item *e, uint32_t *index, struct qcn_view *tx)
{
    struct qcn_rlp_item f[2];
    uint64_t i;
    if (!e->is_list || qcn_rlp_split(f, 2, e) != QCN_OK || qcn_rlp_get_u64(&i, &f[0]) != QCN_OK ||
        i > UINT32_MAX || qcn_rlp_get_bytes(tx, QCN_TX_MAX_BYTES, &f[1]) != QCN_OK || tx->len == 0)
        return QCN_ERR_CODEC;
    *index = (uint32_t)i;
    return QCN_OK;
}

int qcn_blocktx_decode(struct qcn_blocktx *out, struct qcn_view in)
{
    struct qcn_rlp_item top, it[2], e;
    struct qcn_rlp_iter iter;
    struct qcn_view tx;
    int64_t last = -1;
    uint32_t index;
    int err;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_BLOCKTX_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(it, 2, &top) != QCN_OK ||
        qcn_rlp_get_fixed(out->block_hash, QCN_HASH_BYTES, &it[0]) != QCN_OK || !it[1].is_list)
        goto fail;
    qcn_rlp_iter_init(&iter, &it[1]);
    while ((err = qcn_rlp_iter_next(&iter, &e)) == QCN_OK) {
        if (out->count >= QCN_BLOCKTX_MAX_TXS || entry_read(&e, &index, &tx) != QCN_OK ||
            (int64_t)index <= last)
            goto fail;
        last = index;
        out->count++;
    }
    if (err != QCN_ERR_NOT_FOUND || out->count == 0)
        goto fail;
    out->list = it[1].payload;
    return QCN_OK;
fail:
    memset(out, 0, sizeof *out);
    return QCN_ERR_CODEC;
}

int qcn_blocktx_next(const struct qcn_blocktx *m, size_t *pos, uint32_t *index, struct qcn_view *tx)
{
    struct qcn_rlp_item list, e;
    struct qcn_rlp_iter iter;
    int err;
    if (*pos >= m->list.len)
        return QCN_ERR_NOT_FOUND;
    /* iterate over the rest of the payload as if it were a list */
    memset(&list, 0, sizeof list);
    list.is_list = 1;
    list.payload = qcn_view_make(m->list.p + *pos, m->list.len - *pos);
    qcn_rlp_iter_init(&iter, &list);
    if ((err = qcn_rlp_iter_next(&iter, &e)) != QCN_OK)
        return err == QCN_ERR_NOT_FOUND ? err : QCN_ERR_CODEC;
    if ((err = entry_read(&e, index, tx)) != QCN_OK)
        return err;
    *pos += e.raw.len;
    return QCN_OK;
}
