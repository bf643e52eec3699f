#include "codec/rlp.h"

#include <string.h>

/* Reads one item header at the start of in. On success *hdr is the header
 * length and *plen the payload length, both checked to fit inside in. */
static int read_header(struct qcn_view in, int *is_list, size_t *hdr, size_t *plen)
{
    uint8_t b0;
    size_t lenlen, len, i;

    if (in.len == 0)
        return QCN_ERR_RLP;
    b0 = in.p[0];
    if (b0 < 0x80) {
        *is_list = 0;
        *hdr = 0;
        *plen = 1;
        return QCN_OK;
    }
    if (b0 <= 0xb7 || (b0 >= 0xc0 && b0 <= 0xf7)) {
        *is_list = b0 >= 0xc0;
        len = (size_t)(b0 - (*is_list ? 0xc0 : 0x80));
        if (len > in.len - 1)
            return QCN_ERR_RLP;
        /* A single byte below 0x80 has exactly one encoding: itself. */
        if (!*is_list && len == 1 && in.p[1] < 0x80)
            return QCN_ERR_RLP_NONCANONICAL;
        *hdr = 1;
        *plen = len;
        return QCN_OK;
    }
    *is_list = b0 >= 0xf8;
    lenlen = (size_t)(b0 - (*is_list ? 0xf7 : 0xb7));
    if (lenlen > in.len - 1 || lenlen > sizeof(size_t))
        return QCN_ERR_RLP;
    if (in.p[1] == 0)
        return QCN_ERR_RLP_NONCANONICAL;
    len = 0;
    for (i = 0; i < lenlen; i++)
        len = len << 8 | in.p[1 + i];
    if (len < 56)
        return QCN_ERR_RLP_NONCANONICAL;
    if (len > in.len - 1 - lenlen)
        return QCN_ERR_RLP;
    *hdr = 1 + lenlen;
    *plen = len;
    return QCN_OK;
}

/* Decodes the first item of in; *used gets its total length. */
static int decode_prefix(struct qcn_rlp_item *out, struct qcn_view in, size_t *used)
{
    size_t hdr, plen;
    int is_list, err;

    memset(out, 0, sizeof *out);
    err = read_header(in, &is_list, &hdr, &plen);
    if (err != QCN_OK)
        return err;
    out->is_list = is_list;
    out->payload = qcn_view_make(in.p + hdr, plen);
    out->raw = qcn_view_make(in.p, hdr + plen);
    *used = hdr + plen;
    return QCN_OK;
}

int qcn_rlp_decode(struct qcn_rlp_item *out, struct qcn_view in)
{
    size_t used;
    int err = decode_prefix(out, in, &used);
    if (err != QCN_OK)
        return err;
    if (used != in.len) {
        memset(out, 0, sizeof *out);
        return QCN_ERR_TRAILING;
    }
    return QCN_OK;
}

void qcn_rlp_iter_init(struct qcn_rlp_iter *it, const struct qcn_rlp_item *list)
{
    it->rest = list->is_list ? list->payload : qcn_view_make(NULL, 0);
}

int qcn_rlp_iter_next(struct qcn_rlp_iter *it, struct qcn_rlp_item *out)
{
    size_t used;
    int err;

    if (it->rest.len == 0) {
        memset(out, 0, sizeof *out);
        return QCN_ERR_NOT_FOUND;
    }
    err = decode_prefix(out, it->rest, &used);
    if (err != QCN_OK)
        return err;
    it->rest.p += used;
    it->rest.len -= used;
    return QCN_OK;
}

int qcn_rlp_count(size_t *count, const struct qcn_rlp_item *list)
{
    struct qcn_rlp_iter it;
    struct qcn_rlp_item item;
    int err;

    *count = 0;
    if (!list->is_list)
        return QCN_ERR_RLP_TYPE;
    qcn_rlp_iter_init(&it, list);
    while ((err = qcn_rlp_iter_next(&it, &item)) == QCN_OK)
        (*count)++;
    if (err != QCN_ERR_NOT_FOUND) {
        *count = 0;
        return err;
    }
    return QCN_OK;
}

int qcn_rlp_split(struct qcn_rlp_item *items, size_t n, const struct qcn_rlp_item *list)
{
    struct qcn_rlp_iter it;
    struct qcn_rlp_item extra;
    size_t i;
    int err;

    if (!list->is_list)
        return QCN_ERR_RLP_TYPE;
    qcn_rlp_iter_init(&it, list);
    for (i = 0; i < n; i++) {
        err = qcn_rlp_iter_next(&it, &items[i]);
        if (err == QCN_ERR_NOT_FOUND)
            return QCN_ERR_RLP;
        if (err != QCN_OK)
            return err;
    }
    err = qcn_rlp_iter_next(&it, &extra);
    if (err == QCN_OK)
        return QCN_ERR_RLP;
    return err == QCN_ERR_NOT_FOUND ? QCN_OK : err;
}

int qcn_rlp_get_bytes(struct qcn_view *out, size_t max, const struct qcn_rlp_item *it)
{
    *out = qcn_view_make(NULL, 0);
    if (it->is_list)
        return QCN_ERR_RLP_TYPE;
    if (it->payload.len > max)
        return QCN_ERR_TOO_LARGE;
    *out = it->payload;
    return QCN_OK;
}

int qcn_rlp_get_fixed(uint8_t *out, size_t n, const struct qcn_rlp_item *it)
{
    memset(out, 0, n);
    if (it->is_list)
        return QCN_ERR_RLP_TYPE;
    if (it->payload.len != n)
        return QCN_ERR_RLP;
    if (n > 0)
        memcpy(out, it->payload.p, n);
    return QCN_OK;
}

int qcn_rlp_get_uint_be(uint8_t *out, size_t n, const struct qcn_rlp_item *it)
{
    size_t len = it->payload.len;

    memset(out, 0, n);
    if (it->is_list)
        return QCN_ERR_RLP_TYPE;
    if (len > 0 && it->payload.p[0] == 0)
        return QCN_ERR_RLP_NONCANONICAL;
    if (len > n)
        return QCN_ERR_OVERFLOW;
    if (len > 0)
        memcpy(out + (n - len), it->payload.p, len);
    return QCN_OK;
}

int qcn_rlp_get_u64(uint64_t *out, const struct qcn_rlp_item *it)
{
    uint8_t be[8];
    int err = qcn_rlp_get_uint_be(be, sizeof be, it);
    *out = err == QCN_OK ? qcn_load_be64(be) : 0;
    return err;
}

size_t qcn_rlp_header_len(size_t len)
{
    size_t n = 1;
    if (len < 56)
        return 1;
    while (len > 0) {
        n++;
        len >>= 8;
    }
    return n;
}

/* Writes the header for a payload of len bytes into hdr; returns its size. */
static size_t make_header(uint8_t hdr[9], size_t len, uint8_t short_base, uint8_t long_base)
{
    size_t n, i;
    if (len < 56) {
        hdr[0] = (uint8_t)(short_base + len);
        return 1;
    }
    n = qcn_rlp_header_len(len) - 1;
    hdr[0] = (uint8_t)(long_base + n);
    for (i = 0; i < n; i++)
        hdr[n - i] = (uint8_t)(len >> (8 * i));
    return n + 1;
}

int qcn_rlp_put_bytes(struct qcn_buf *b, const uint8_t *p, size_t len)
{
    uint8_t hdr[9];
    size_t h;
    int err;

    if (len == 1 && p[0] < 0x80)
        return qcn_buf_append(b, p, 1);
    h = make_header(hdr, len, 0x80, 0xb7);
    err = qcn_buf_reserve(b, h + len);
    if (err != QCN_OK)
        return err;
    err = qcn_buf_append(b, hdr, h);
    return err == QCN_OK ? qcn_buf_append(b, p, len) : err;
}

int qcn_rlp_put_uint_be(struct qcn_buf *b, const uint8_t *p, size_t n)
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    return qcn_rlp_put_bytes(b, p, n);
}

int qcn_rlp_put_u64(struct qcn_buf *b, uint64_t v)
{
    uint8_t be[8];
    qcn_store_be64(be, v);
    return qcn_rlp_put_uint_be(b, be, sizeof be);
}

int qcn_rlp_put_raw(struct qcn_buf *b, const uint8_t *p, size_t len)
{
    return qcn_buf_append(b, p, len);
}

size_t qcn_rlp_list_begin(const struct qcn_buf *b)
{
    return b->len;
}

int qcn_rlp_list_end(struct qcn_buf *b, size_t begin)
{
    uint8_t hdr[9];
    size_t h;
    if (begin > b->len)
        return QCN_ERR_INVALID_ARG;
    h = make_header(hdr, b->len - begin, 0xc0, 0xf7);
    return qcn_buf_insert(b, begin, hdr, h);
}
