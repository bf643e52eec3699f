#include "util/bytes.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void qcn_buf_init(struct qcn_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void qcn_buf_clear(struct qcn_buf *b)
{
    if (b->p != NULL) {
        qcn_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void qcn_buf_reset(struct qcn_buf *b)
{
    b->len = 0;
}

int qcn_buf_reserve(struct qcn_buf *b, size_t n)
{
    size_t need, ncap;
    uint8_t *np;

    if (__builtin_add_overflow(b->len, n, &need) || need > b->max)
        return QCN_ERR_TOO_LARGE;
    if (need <= b->cap)
        return QCN_OK;
    /* Grow geometrically, but never past the cap, so a capped buffer never
     * allocates more than its cap. Copy rather than realloc so the old bytes
     * can be wiped. */
    ncap = b->cap < 64 ? 64 : b->cap;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    np = malloc(ncap);
    if (np == NULL)
        return QCN_ERR_NOMEM;
    if (b->p != NULL) {
        memcpy(np, b->p, b->len);
        qcn_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = np;
    b->cap = ncap;
    return QCN_OK;
}

int qcn_buf_append(struct qcn_buf *b, const void *p, size_t n)
{
    int err = qcn_buf_reserve(b, n);
    if (err != QCN_OK)
        return err;
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return QCN_OK;
}

int qcn_buf_append_u8(struct qcn_buf *b, uint8_t v)
{
    return qcn_buf_append(b, &v, 1);
}

int qcn_buf_insert(struct qcn_buf *b, size_t off, const void *p, size_t n)
{
    int err;
    if (off > b->len)
        return QCN_ERR_INVALID_ARG;
    err = qcn_buf_reserve(b, n);
    if (err != QCN_OK)
        return err;
    if (n > 0) {
        memmove(b->p + off + n, b->p + off, b->len - off);
        memcpy(b->p + off, p, n);
    }
    b->len += n;
    return QCN_OK;
}

void qcn_reader_init(struct qcn_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->failed = 0;
}

size_t qcn_reader_left(const struct qcn_reader *r)
{
    return r->failed ? 0 : r->len - r->pos;
}

static const uint8_t *take(struct qcn_reader *r, size_t n)
{
    const uint8_t *p;
    if (r->failed || n > r->len - r->pos) {
        r->failed = 1;
        return NULL;
    }
    p = r->p + r->pos;
    r->pos += n;
    return p;
}

int qcn_reader_u8(struct qcn_reader *r, uint8_t *out)
{
    const uint8_t *p = take(r, 1);
    *out = p ? p[0] : 0;
    return p ? 0 : -1;
}

int qcn_reader_be16(struct qcn_reader *r, uint16_t *out)
{
    const uint8_t *p = take(r, 2);
    *out = p ? qcn_load_be16(p) : 0;
    return p ? 0 : -1;
}

int qcn_reader_be32(struct qcn_reader *r, uint32_t *out)
{
    const uint8_t *p = take(r, 4);
    *out = p ? qcn_load_be32(p) : 0;
    return p ? 0 : -1;
}

int qcn_reader_be64(struct qcn_reader *r, uint64_t *out)
{
    const uint8_t *p = take(r, 8);
    *out = p ? qcn_load_be64(p) : 0;
    return p ? 0 : -1;
}

int qcn_reader_copy(struct qcn_reader *r, void *out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (p == NULL) {
        if (n > 0)
            memset(out, 0, n);
        return -1;
    }
    if (n > 0)
        memcpy(out, p, n);
    return 0;
}

int qcn_reader_view(struct qcn_reader *r, struct qcn_view *out, size_t n)
{
    const uint8_t *p = take(r, n);
    out->p = p;
    out->len = p ? n : 0;
    return p ? 0 : -1;
}

int qcn_reader_finish(const struct qcn_reader *r)
{
    if (r->failed)
        return QCN_ERR_TRUNCATED;
    if (r->pos != r->len)
        return QCN_ERR_TRAILING;
    return QCN_OK;
}
