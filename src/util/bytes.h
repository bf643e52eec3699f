/* bytes.h - byte views, capped growable buffers, a bounds-checked reader and
 * explicit byte-order loads and stores.
 *
 * Everything that reads bytes from a peer, a client or the disk goes through
 * struct qcn_reader: once a read fails the reader stays failed, so a decoder
 * can read a whole record and check once at the end. Everything that builds
 * bytes goes through struct qcn_buf, which refuses to grow past its cap. */
#ifndef QCN_UTIL_BYTES_H
#define QCN_UTIL_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A read-only window onto bytes owned by someone else. */
struct qcn_view {
    const uint8_t *p;
    size_t len;
};

static inline struct qcn_view qcn_view_make(const void *p, size_t len)
{
    struct qcn_view v = {(const uint8_t *)p, len};
    return v;
}

/* A growable byte buffer with a hard cap. p is heap memory owned by the
 * buffer; len bytes are valid; cap is the allocation; max is the cap on len. */
struct qcn_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max;
};

/* Prepares an empty buffer that will never hold more than max bytes. */
void qcn_buf_init(struct qcn_buf *b, size_t max);
/* Frees the memory (wiping it first: buffers often carry secrets). */
void qcn_buf_clear(struct qcn_buf *b);
/* Makes room for n more bytes. QCN_ERR_TOO_LARGE past max, QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_buf_reserve(struct qcn_buf *b, size_t n);
/* Appends n bytes; on failure the buffer is unchanged. */
QCN_MUST_CHECK int qcn_buf_append(struct qcn_buf *b, const void *p, size_t n);
QCN_MUST_CHECK int qcn_buf_append_u8(struct qcn_buf *b, uint8_t v);
/* Inserts n bytes at offset off (<= len), moving the tail. */
QCN_MUST_CHECK int qcn_buf_insert(struct qcn_buf *b, size_t off, const void *p, size_t n);
/* Drops the content, keeping the allocation. */
void qcn_buf_reset(struct qcn_buf *b);
static inline struct qcn_view qcn_buf_view(const struct qcn_buf *b)
{
    return qcn_view_make(b->p, b->len);
}

/* A bounds-checked cursor over a view. Not thread-safe; owns nothing. */
struct qcn_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int failed;
};

void qcn_reader_init(struct qcn_reader *r, const void *p, size_t len);
/* Each read returns 0 and fills its output, or marks the reader failed, zeroes
 * the output and returns -1. Reads after a failure keep failing. */
int qcn_reader_u8(struct qcn_reader *r, uint8_t *out);
int qcn_reader_be16(struct qcn_reader *r, uint16_t *out);
int qcn_reader_be32(struct qcn_reader *r, uint32_t *out);
int qcn_reader_be64(struct qcn_reader *r, uint64_t *out);
/* Copies n bytes out. */
int qcn_reader_copy(struct qcn_reader *r, void *out, size_t n);
/* Points out at the next n bytes without copying (valid while the input is). */
int qcn_reader_view(struct qcn_reader *r, struct qcn_view *out, size_t n);
size_t qcn_reader_left(const struct qcn_reader *r);
/* QCN_OK if nothing failed and every byte was consumed; QCN_ERR_TRUNCATED if a
 * read ran past the end; QCN_ERR_TRAILING if bytes are left over. */
QCN_MUST_CHECK int qcn_reader_finish(const struct qcn_reader *r);

/* Explicit byte order. Never memcpy a struct onto the wire or disk. */
static inline uint16_t qcn_load_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t qcn_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t qcn_load_be64(const uint8_t *p)
{
    return (uint64_t)qcn_load_be32(p) << 32 | qcn_load_be32(p + 4);
}
static inline uint32_t qcn_load_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint64_t qcn_load_le64(const uint8_t *p)
{
    return (uint64_t)qcn_load_le32(p + 4) << 32 | qcn_load_le32(p);
}
static inline void qcn_store_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void qcn_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void qcn_store_be64(uint8_t *p, uint64_t v)
{
    qcn_store_be32(p, (uint32_t)(v >> 32));
    qcn_store_be32(p + 4, (uint32_t)v);
}
static inline void qcn_store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void qcn_store_le64(uint8_t *p, uint64_t v)
{
    qcn_store_le32(p, (uint32_t)v);
    qcn_store_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
