/* receipt.c - typed receipts (EIP-2718 / EIP-658 layout; docs/protocol.md §6). */
#include "codec/receipt.h"

#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"

int qcn_receipt_add_log(struct qcn_receipt *r, const uint8_t addr[QCN_ADDRESS_BYTES],
                        const uint8_t (*topics)[QCN_HASH_BYTES], uint32_t ntopics,
                        const uint8_t *data, size_t len)
{
    struct qcn_log *logs, *lg;
    uint32_t i;

    if (ntopics > QCN_LOG_MAX_TOPICS || len > QCN_LOG_MAX_DATA || r->nlogs >= QCN_RECEIPT_MAX_LOGS)
        return QCN_ERR_TOO_LARGE;
    logs = realloc(r->logs, (r->nlogs + 1) * sizeof *logs);
    if (logs == NULL)
        return QCN_ERR_NOMEM;
    r->logs = logs;
    lg = &logs[r->nlogs];
    memset(lg, 0, sizeof *lg);
    if (len) {
        lg->data = malloc(len);
        if (lg->data == NULL)
            return QCN_ERR_NOMEM;
        memcpy(lg->data, data, len);
    }
    lg->data_len = len;
    memcpy(lg->address, addr, QCN_ADDRESS_BYTES);
    lg->ntopics = ntopics;
    qcn_bloom_add(r->bloom, addr, QCN_ADDRESS_BYTES);
    for (i = 0; i < ntopics; i++) {
        memcpy(lg->topics[i], topics[i], QCN_HASH_BYTES);
        qcn_bloom_add(r->bloom, topics[i], QCN_HASH_BYTES);
    }
    r->nlogs++;
    return QCN_OK;
}

void qcn_receipt_clear(struct qcn_receipt *r)
{
    uint32_t i;
    for (i = 0; i < r->nlogs; i++)
        free(r->logs[i].data);
    free(r->logs);
    memset(r, 0, sizeof *r);
}

int qcn_receipt_encode(struct qcn_buf *b, const struct qcn_receipt *r)
{
    size_t l, ll, g, tl;
    uint32_t i, j;
    int err;

    if ((err = qcn_buf_append_u8(b, QCN_TX_TYPE)) != QCN_OK)
        return err;
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_rlp_put_u64(b, r->status)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, r->cumulative_gas)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, r->bloom, QCN_BLOOM_BYTES)) != QCN_OK)
        return err;
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < r->nlogs; i++) {
        const struct qcn_log *lg = &r->logs[i];
        g = qcn_rlp_list_begin(b);
        if ((err = qcn_rlp_put_bytes(b, lg->address, QCN_ADDRESS_BYTES)) != QCN_OK)
            return err;
        tl = qcn_rlp_list_begin(b);
        for (j = 0; j < lg->ntopics; j++) {
            if ((err = qcn_rlp_put_bytes(b, lg->topics[j], QCN_HASH_BYTES)) != QCN_OK)
                return err;
        }
        if ((err = qcn_rlp_list_end(b, tl)) != QCN_OK ||
            (err = qcn_rlp_put_bytes(b, lg->data, lg->data_len)) != QCN_OK ||
            (err = qcn_rlp_list_end(b, g)) != QCN_OK)
            return err;
    }
    if ((err = qcn_rlp_list_end(b, ll)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

static int decode_log(struct qcn_receipt *r, const struct qcn_rlp_item *item)
{
    struct qcn_rlp_item f[3], t;
    struct qcn_rlp_iter it;
    uint8_t addr[QCN_ADDRESS_BYTES], topics[QCN_LOG_MAX_TOPICS][QCN_HASH_BYTES];
    struct qcn_view data;
    uint32_t n = 0;
    int err;

    if (qcn_rlp_split(f, 3, item) != QCN_OK ||
        qcn_rlp_get_fixed(addr, QCN_ADDRESS_BYTES, &f[0]) != QCN_OK || !f[1].is_list ||
        qcn_rlp_get_bytes(&data, QCN_LOG_MAX_DATA, &f[2]) != QCN_OK)
        return QCN_ERR_CODEC;
    qcn_rlp_iter_init(&it, &f[1]);
    while ((err = qcn_rlp_iter_next(&it, &t)) == QCN_OK) {
        if (n >= QCN_LOG_MAX_TOPICS || qcn_rlp_get_fixed(topics[n], QCN_HASH_BYTES, &t) != QCN_OK)
            return QCN_ERR_CODEC;
        n++;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_CODEC;
    return qcn_receipt_add_log(r, addr, (const uint8_t(*)[QCN_HASH_BYTES])topics, n, data.p,
                               data.len);
}

int qcn_receipt_decode(struct qcn_receipt *out, struct qcn_view in)
{
    struct qcn_rlp_item top, f[4], item;
    struct qcn_rlp_iter it;
    uint8_t bloom[QCN_BLOOM_BYTES];
    uint64_t status;
    int err;

    memset(out, 0, sizeof *out);
    if (in.len > QCN_RECEIPT_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (in.len < 2 || in.p[0] != QCN_TX_TYPE)
        return QCN_ERR_CODEC;
    if (qcn_rlp_decode(&top, qcn_view_make(in.p + 1, in.len - 1)) != QCN_OK ||
        qcn_rlp_split(f, 4, &top) != QCN_OK || qcn_rlp_get_u64(&status, &f[0]) != QCN_OK ||
        status > 1 || qcn_rlp_get_u64(&out->cumulative_gas, &f[1]) != QCN_OK ||
        qcn_rlp_get_fixed(bloom, QCN_BLOOM_BYTES, &f[2]) != QCN_OK || !f[3].is_list) {
        err = QCN_ERR_CODEC;
        goto out;
    }
    out->status = (uint8_t)status;
    qcn_rlp_iter_init(&it, &f[3]);
    while ((err = qcn_rlp_iter_next(&it, &item)) == QCN_OK) {
        if ((err = decode_log(out, &item)) != QCN_OK)
            goto out;
    }
    if (err != QCN_ERR_NOT_FOUND) {
        err = QCN_ERR_CODEC;
        goto out;
    }
    /* The bloom is derived from the logs; a stored one that differs is corrupt. */
    err = memcmp(bloom, out->bloom, QCN_BLOOM_BYTES) == 0 ? QCN_OK : QCN_ERR_CODEC;
out:
    if (err != QCN_OK)
        qcn_receipt_clear(out);
    return err;
}

int qcn_receipts_encode(struct qcn_buf *b, const struct qcn_receipt *rs, size_t n)
{
    struct qcn_buf one;
    size_t l = qcn_rlp_list_begin(b), i;
    int err = QCN_OK;

    qcn_buf_init(&one, QCN_RECEIPT_MAX_BYTES);
    for (i = 0; i < n && err == QCN_OK; i++) {
        qcn_buf_reset(&one);
        err = qcn_receipt_encode(&one, &rs[i]);
        if (err == QCN_OK)
            err = qcn_rlp_put_bytes(b, one.p, one.len);
    }
    qcn_buf_clear(&one);
    if (err != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

int qcn_receipts_decode(struct qcn_receipt **out, size_t *n, struct qcn_view in)
{
    struct qcn_rlp_item top, item;
    struct qcn_rlp_iter it;
    struct qcn_receipt *rs = NULL;
    size_t count = 0, i;
    int err;

    *out = NULL;
    *n = 0;
    if (qcn_rlp_decode(&top, in) != QCN_OK || !top.is_list || qcn_rlp_count(&count, &top) != QCN_OK)
        return QCN_ERR_CODEC;
    if (count > QCN_BLOCK_MAX_TXS)
        return QCN_ERR_TOO_LARGE;
    rs = calloc(count ? count : 1, sizeof *rs);
    if (rs == NULL)
        return QCN_ERR_NOMEM;
    qcn_rlp_iter_init(&it, &top);
    for (i = 0; i < count; i++) {
        if (qcn_rlp_iter_next(&it, &item) != QCN_OK || item.is_list) {
            err = QCN_ERR_CODEC;
            goto fail;
        }
        if ((err = qcn_receipt_decode(&rs[i], item.payload)) != QCN_OK)
            goto fail;
    }
    *out = rs;
    *n = count;
    return QCN_OK;
fail:
    while (i > 0)
        qcn_receipt_clear(&rs[--i]);
    free(rs);
    return err;
}
