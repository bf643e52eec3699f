/* wal.c - append-only, checksummed, fsync'ed log of signing intents
 * (wal.h; docs/consensus.md §7).
 *
 * Why a record is written before signing and not after sending: the only
 * dangerous crash is one after a signature left the process; writing first
 * means such a signature always has its record, and a crash between the
 * write and the send merely leaves a record for a vote nobody saw, which is
 * harmless (the validator will just re-sign the same value). */
#include "consensus/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/keccak.h"
#include "util/bytes.h"

#define WAL_FLOOR 0x7f
#define WAL_RECORD_BYTES (4u + QCN_WAL_BODY_BYTES + QCN_WAL_CHECK_BYTES)
#define WAL_MAX_PATH 4096

struct qcn_wal {
    int fd;
    char path[WAL_MAX_PATH];
    uint64_t floor;
    size_t n;
    struct qcn_wal_record *recs; /* QCN_WAL_MAX_RECORDS */
    struct qcn_wal_record *scratch;
};

static void encode(uint8_t out[WAL_RECORD_BYTES], const struct qcn_wal_record *r)
{
    uint8_t *b = out + 4, h[QCN_KECCAK256_BYTES];
    qcn_store_be32(out, QCN_WAL_BODY_BYTES);
    b[0] = r->kind;
    qcn_store_be64(b + 1, r->height);
    qcn_store_be32(b + 9, r->round);
    b[13] = r->has_value ? 1 : 0;
    memcpy(b + 14, r->value, QCN_WAL_VALUE_BYTES);
    qcn_keccak256(h, b, QCN_WAL_BODY_BYTES);
    memcpy(b + QCN_WAL_BODY_BYTES, h, QCN_WAL_CHECK_BYTES);
}

/* 1: decoded; 0: bad check or form. */
static int decode(struct qcn_wal_record *r, const uint8_t *b)
{
    uint8_t h[QCN_KECCAK256_BYTES];
    qcn_keccak256(h, b, QCN_WAL_BODY_BYTES);
    if (memcmp(h, b + QCN_WAL_BODY_BYTES, QCN_WAL_CHECK_BYTES) != 0)
        return 0;
    memset(r, 0, sizeof *r);
    r->kind = b[0];
    r->height = qcn_load_be64(b + 1);
    r->round = qcn_load_be32(b + 9);
    if (b[13] > 1)
        return 0;
    r->has_value = b[13];
    memcpy(r->value, b + 14, QCN_WAL_VALUE_BYTES);
    if (r->kind != QCN_WAL_PREVOTE && r->kind != QCN_WAL_PRECOMMIT && r->kind != QCN_WAL_PROPOSAL &&
        r->kind != WAL_FLOOR)
        return 0;
    return 1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return QCN_ERR_IO;
        }
        p += k;
        n -= (size_t)k;
    }
    return QCN_OK;
}

static int fsync_dir(const char *path)
{
    char dir[WAL_MAX_PATH];
    int fd, err = QCN_OK;
    memcpy(dir, path, strlen(path) + 1);
    fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return QCN_ERR_IO;
    if (fsync(fd) != 0)
        err = QCN_ERR_IO;
    close(fd);
    return err;
}

static int load(struct qcn_wal *w, uint64_t *truncated)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t size, off = 0;
    int err = QCN_OK;

    if (fstat(w->fd, &st) != 0)
        return QCN_ERR_IO;
    size = (size_t)st.st_size;
    if (size > (size_t)QCN_WAL_MAX_RECORDS * WAL_RECORD_BYTES + WAL_RECORD_BYTES)
        return QCN_ERR_TOO_LARGE;
    if (size > 0) {
        buf = malloc(size);
        if (buf == NULL)
            return QCN_ERR_NOMEM;
        if (pread(w->fd, buf, size, 0) != (ssize_t)size) {
            err = QCN_ERR_IO;
            goto out;
        }
    }
    while (off < size) {
        struct qcn_wal_record r;
        size_t left = size - off;
        if (left < WAL_RECORD_BYTES || qcn_load_be32(buf + off) != QCN_WAL_BODY_BYTES ||
            !decode(&r, buf + off + 4)) {
            /* Torn tail: the last, partially written record. Anything else
             * is corruption we must not paper over. */
            if (left > WAL_RECORD_BYTES) {
                err = QCN_ERR_CONSENSUS_WAL;
                goto out;
            }
            if (ftruncate(w->fd, (off_t)off) != 0 || fsync(w->fd) != 0) {
                err = QCN_ERR_IO;
                goto out;
            }
            if (truncated)
                *truncated = left;
            break;
        }
        if (r.kind == WAL_FLOOR) {
            if (r.height > w->floor)
                w->floor = r.height;
        } else {
            if (w->n >= QCN_WAL_MAX_RECORDS) {
                err = QCN_ERR_TOO_LARGE;
                goto out;
            }
            w->recs[w->n++] = r;
        }
        off += WAL_RECORD_BYTES;
    }
out:
    free(buf);
    return err;
}

int qcn_wal_open(struct qcn_wal **out, const char *path, uint64_t *truncated)
{
    struct qcn_wal *w;
    int err;
    *out = NULL;
    if (truncated)
        *truncated = 0;
    if (strlen(path) >= WAL_MAX_PATH)
        return QCN_ERR_TOO_LARGE;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        return QCN_ERR_NOMEM;
    w->fd = -1;
    memcpy(w->path, path, strlen(path) + 1);
    w->recs = calloc(QCN_WAL_MAX_RECORDS, sizeof *w->recs);
    w->scratch = calloc(QCN_WAL_MAX_RECORDS, sizeof *w->scratch);
    if (w->recs == NULL || w->scratch == NULL) {
        err = QCN_ERR_NOMEM;
        goto fail;
    }
    w->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        err = QCN_ERR_IO;
        goto fail;
    }
    if ((err = load(w, truncated)) != QCN_OK)
        goto fail;
    if ((err = fsync_dir(path)) != QCN_OK)
        goto fail;
    *out = w;
    return QCN_OK;
fail:
    qcn_wal_close(w);
    return err;
}

void qcn_wal_close(struct qcn_wal *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->recs);
    free(w->scratch);
    free(w);
}

static int append(struct qcn_wal *w, const struct qcn_wal_record *r)
{
    uint8_t rec[WAL_RECORD_BYTES];
    encode(rec, r);
    if (write_all(w->fd, rec, sizeof rec) != QCN_OK || fdatasync(w->fd) != 0)
        return QCN_ERR_IO;
    return QCN_OK;
}

int qcn_wal_sign_intent(struct qcn_wal *w, uint8_t kind, uint64_t height, uint32_t round,
                        int has_value, const uint8_t value[QCN_WAL_VALUE_BYTES])
{
    struct qcn_wal_record r;
    size_t i;
    int err;

    if (kind != QCN_WAL_PREVOTE && kind != QCN_WAL_PRECOMMIT && kind != QCN_WAL_PROPOSAL)
        return QCN_ERR_INVALID_ARG;
    if (height < w->floor)
        return QCN_ERR_CONSENSUS_DOUBLE_SIGN;
    for (i = 0; i < w->n; i++) {
        const struct qcn_wal_record *x = &w->recs[i];
        if (x->kind != kind || x->height != height || x->round != round)
            continue;
        if (x->has_value != (has_value ? 1 : 0))
            return QCN_ERR_CONSENSUS_DOUBLE_SIGN;
        if (has_value && memcmp(x->value, value, QCN_WAL_VALUE_BYTES) != 0)
            return QCN_ERR_CONSENSUS_DOUBLE_SIGN;
        return QCN_OK;
    }
    if (w->n >= QCN_WAL_MAX_RECORDS)
        return QCN_ERR_TOO_LARGE;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.height = height;
    r.round = round;
    r.has_value = has_value ? 1 : 0;
    if (has_value)
        memcpy(r.value, value, QCN_WAL_VALUE_BYTES);
    if ((err = append(w, &r)) != QCN_OK)
        return err;
    w->recs[w->n++] = r;
    return QCN_OK;
}

size_t qcn_wal_records(const struct qcn_wal *w, uint64_t height, const struct qcn_wal_record **out)
{
    size_t i, k = 0;
    for (i = 0; i < w->n; i++)
        if (w->recs[i].height == height)
            w->scratch[k++] = w->recs[i];
    *out = w->scratch;
    return k;
}

int qcn_wal_prune(struct qcn_wal *w, uint64_t height)
{
    char tmp[WAL_MAX_PATH + 8];
    uint8_t rec[WAL_RECORD_BYTES];
    struct qcn_wal_record fl;
    size_t i, k = 0;
    int fd = -1, err = QCN_OK, n;

    if (height <= w->floor)
        return QCN_OK;
    n = snprintf(tmp, sizeof tmp, "%s.tmp", w->path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return QCN_ERR_TOO_LARGE;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return QCN_ERR_IO;
    memset(&fl, 0, sizeof fl);
    fl.kind = WAL_FLOOR;
    fl.height = height;
    encode(rec, &fl);
    if ((err = write_all(fd, rec, sizeof rec)) != QCN_OK)
        goto out;
    for (i = 0; i < w->n; i++) {
        if (w->recs[i].height < height)
            continue;
        encode(rec, &w->recs[i]);
        if ((err = write_all(fd, rec, sizeof rec)) != QCN_OK)
            goto out;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        err = QCN_ERR_IO;
        goto out;
    }
    fd = -1;
    if (rename(tmp, w->path) != 0 || fsync_dir(w->path) != QCN_OK) {
        err = QCN_ERR_IO;
        goto out;
    }
    /* The old descriptor points at the replaced file: reopen. */
    close(w->fd);
    w->fd = open(w->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (w->fd < 0) {
        err = QCN_ERR_IO;
        goto out;
    }
    for (i = 0; i < w->n; i++)
        if (w->recs[i].height >= height)
            w->recs[k++] = w->recs[i];
    w->n = k;
    w->floor = height;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    return err;
}

uint64_t qcn_wal_floor(const struct qcn_wal *w)
{
    return w->floor;
}
