/* store.c - LMDB environment, tables, snapshots, map growth, backup.
 *
 * Crash safety comes from LMDB itself: a write transaction builds new pages
 * copy-on-write and its commit ends by writing one of the two meta pages, so
 * a crash before that meta write leaves the previous meta (the last committed
 * block) in force, and a crash after it finds the new one. What we add is
 * the discipline that makes this mean "a block": every change of a block goes
 * through one batch and one commit (batch.c), with LMDB's default full sync
 * (fdatasync of data and meta) and never MDB_NOSYNC/MDB_NOMETASYNC/MDB_MAPASYNC.
 *
 * Map growth (LMDB docs, mdb_env_set_mapsize): allowed only while no
 * transaction of this process is active. Snapshots therefore register in a
 * counter; a grower sets `growing` (new snapshots wait), waits for the counter
 * to reach zero, resizes, and wakes the waiters. */
#include "store/store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

/* LMDB's names of the tables, in enum order. (Schema 1 filed them under
 * names shifted against the enum; schema 2 names them for what they hold.) */
static const char *const table_names[QCN_STORE_TABLES] = {
    "meta",     "headers", "bodies", "receipts", "canon",   "txindex",   "trie",
    "accounts", "storage", "code",   "keyrecs",  "acckeys", "trieroots",
};

static const char meta_schema_key[] = "schema";

const char *qcn_store_table_name(int table)
{
    if (table < 0 || table >= QCN_STORE_TABLES)
        return NULL;
    return table_names[table];
}

int qcn_store_map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return QCN_OK;
    case MDB_NOTFOUND:
        return QCN_ERR_NOT_FOUND;
    case MDB_MAP_FULL:
        return QCN_ERR_STORE_FULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_BAD_TXN:
        return QCN_ERR_STORE_CORRUPT;
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
        return QCN_ERR_STORE_SCHEMA;
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
        return QCN_ERR_BUSY;
    case ENOMEM:
        return QCN_ERR_NOMEM;
    case ENOENT:
        return QCN_ERR_NOT_FOUND;
    case EIO:
    case ENOSPC:
    case EACCES:
    case EROFS:
        return QCN_ERR_IO;
    default:
        return QCN_ERR_STORE;
    }
}

static int file_exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return 0;
    return stat(path, &st) == 0;
}

/* mkdir -p with mode 0700 (the data directory holds keys too). */
int qcn_store_mkdirs(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return QCN_ERR_INVALID_ARG;
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return QCN_ERR_IO;
        if (i < n)
            path[i] = '/';
    }
    return QCN_OK;
}

static void cond_deadline(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000u);
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int qcn_store_active_enter(struct qcn_store *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->growing)
        pthread_cond_wait(&s->cond, &s->lock);
    s->active++;
    pthread_mutex_unlock(&s->lock);
    return QCN_OK;
}

void qcn_store_active_leave(struct qcn_store *s)
{
    pthread_mutex_lock(&s->lock);
    s->active--;
    if (s->active == 0)
        pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int qcn_store_resize(struct qcn_store *s, uint64_t new_size, unsigned wait_ms)
{
    struct timespec deadline;
    int rc, err = QCN_OK;

    cond_deadline(&deadline, wait_ms);
    pthread_mutex_lock(&s->lock);
    while (s->growing)
        pthread_cond_wait(&s->cond, &s->lock);
    s->growing = 1;
    while (s->active > 0) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == ETIMEDOUT && s->active > 0) {
            err = QCN_ERR_STORE_FULL;
            goto out;
        }
    }
    rc = mdb_env_set_mapsize(s->env, (size_t)new_size);
    if (rc != MDB_SUCCESS) {
        QCN_LOG(QCN_LOG_ERROR, "store", "map resize to %llu failed: %s",
                (unsigned long long)new_size, mdb_strerror(rc));
        err = rc == ENOMEM || rc == ENOSPC ? QCN_ERR_STORE_FULL : qcn_store_map_err(rc);
        goto out;
    }
    if (new_size != 0) {
        s->grow_count++;
        QCN_LOG(QCN_LOG_INFO, "store", "map grown to %llu MiB",
                (unsigned long long)(new_size >> 20));
    }
out:
    s->growing = 0;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int qcn_store_txn_begin(struct qcn_store *s, unsigned flags, MDB_txn **out)
{
    int rc, tries;
    for (tries = 0; tries < 3; tries++) {
        rc = mdb_txn_begin(s->env, NULL, flags, out);
        if (rc != MDB_MAP_RESIZED)
            break;
        /* Another process grew the map: adopt its size (mapsize 0). The
         * caller's own active registration must be dropped meanwhile. */
        if (flags & MDB_RDONLY)
            qcn_store_active_leave(s);
        rc = qcn_store_resize(s, 0, s->grow_wait_ms);
        if (flags & MDB_RDONLY)
            (void)qcn_store_active_enter(s);
        if (rc != QCN_OK)
            return rc;
        rc = MDB_MAP_RESIZED;
    }
    if (rc != MDB_SUCCESS) {
        *out = NULL;
        QCN_LOG(QCN_LOG_ERROR, "store", "txn begin: %s", mdb_strerror(rc));
        return qcn_store_map_err(rc);
    }
    return QCN_OK;
}

/* Opens the tables. A fresh environment (empty main database) gets the tables
 * and the schema record; an existing one must have every table and our
 * schema version, otherwise it is not ours (or is from another version) and we
 * refuse it rather than misread it. */
static int open_tables(struct qcn_store *s, const char *dir)
{
    MDB_txn *txn = NULL;
    MDB_dbi main_dbi;
    MDB_stat st;
    MDB_val k, v;
    uint8_t ver[4];
    unsigned flags = s->read_only ? MDB_RDONLY : 0;
    int i, rc, err, fresh;

    err = qcn_store_txn_begin(s, flags, &txn);
    if (err != QCN_OK)
        return err;
    rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    if (rc == MDB_SUCCESS)
        rc = mdb_stat(txn, main_dbi, &st);
    if (rc != MDB_SUCCESS) {
        QCN_LOG(QCN_LOG_ERROR, "store", "%s: main table: %s", dir, mdb_strerror(rc));
        err = qcn_store_map_err(rc);
        goto out;
    }
    fresh = st.ms_entries == 0;
    if (fresh && s->read_only) {
        QCN_LOG(QCN_LOG_ERROR, "store", "%s: empty store (run `qcn init` first)", dir);
        err = QCN_ERR_NOT_FOUND;
        goto out;
    }
    /* The schema record first: a store of another version is named as such
     * rather than as "a table is missing". */
    rc = mdb_dbi_open(txn, table_names[QCN_STORE_META], fresh ? MDB_CREATE : 0,
                      &s->dbi[QCN_STORE_META]);
    k.mv_data = (void *)meta_schema_key;
    k.mv_size = sizeof meta_schema_key - 1;
    if (rc == MDB_SUCCESS && !fresh) {
        rc = mdb_get(txn, s->dbi[QCN_STORE_META], &k, &v);
        if (rc != MDB_SUCCESS || v.mv_size != 4 ||
            qcn_load_be32(v.mv_data) != QCN_STORE_SCHEMA_VERSION) {
            QCN_LOG(QCN_LOG_ERROR, "store",
                    "%s: unknown schema version %s%u (this build reads %u; a store of "
                    "another schema cannot be read: re-create it with `qcn init` and sync, "
                    "or use the qcn build that wrote it)",
                    dir, rc == MDB_SUCCESS && v.mv_size == 4 ? "" : "(missing) ",
                    rc == MDB_SUCCESS && v.mv_size == 4 ? qcn_load_be32(v.mv_data) : 0u,
                    QCN_STORE_SCHEMA_VERSION);
            err = rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? QCN_ERR_STORE_SCHEMA
                                                          : qcn_store_map_err(rc);
            goto out;
        }
    }
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
        QCN_LOG(QCN_LOG_ERROR, "store",
                "%s: not a qcn store of schema %u (table 'meta' missing); refusing to open", dir,
                QCN_STORE_SCHEMA_VERSION);
        err = QCN_ERR_STORE_SCHEMA;
        goto out;
    }
    if (rc != MDB_SUCCESS) {
        QCN_LOG(QCN_LOG_ERROR, "store", "%s: table 'meta': %s", dir, mdb_strerror(rc));
        err = qcn_store_map_err(rc);
        goto out;
    }
    for (i = 1; i < QCN_STORE_TABLES; i++) {
        rc = mdb_dbi_open(txn, table_names[i], fresh ? MDB_CREATE : 0, &s->dbi[i]);
        if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
            QCN_LOG(QCN_LOG_ERROR, "store",
                    "%s: not a qcn store of schema %u (table '%s' missing); refusing to open", dir,
                    QCN_STORE_SCHEMA_VERSION, table_names[i]);
            err = QCN_ERR_STORE_SCHEMA;
            goto out;
        }
        if (rc != MDB_SUCCESS) {
            QCN_LOG(QCN_LOG_ERROR, "store", "%s: table '%s': %s", dir, table_names[i],
                    mdb_strerror(rc));
            err = qcn_store_map_err(rc);
            goto out;
        }
    }
    if (fresh) {
        qcn_store_be32(ver, QCN_STORE_SCHEMA_VERSION);
        v.mv_data = ver;
        v.mv_size = sizeof ver;
        rc = mdb_put(txn, s->dbi[QCN_STORE_META], &k, &v, 0);
        if (rc == MDB_SUCCESS) {
            rc = mdb_txn_commit(txn);
            txn = NULL;
        }
        err = qcn_store_map_err(rc);
        goto out;
    }
    /* Commit even a read-only transaction: LMDB closes the table handles
     * opened in a transaction that is aborted. */
    rc = mdb_txn_commit(txn);
    txn = NULL;
    err = qcn_store_map_err(rc);
out:
    if (txn != NULL)
        mdb_txn_abort(txn);
    return err;
}

int qcn_store_open(struct qcn_store **out, const char *dir, const struct qcn_store_opts *opts)
{
    struct qcn_store *s = NULL;
    struct qcn_store_opts def = {0};
    pthread_condattr_t ca;
    unsigned flags;
    int rc, dead = 0, err;

    *out = NULL;
    if (opts == NULL)
        opts = &def;
    if (!file_exists(dir, "data.mdb")) {
        if (!opts->create || opts->read_only) {
            QCN_LOG(QCN_LOG_ERROR, "store", "%s: no store here (run `qcn init` first)", dir);
            return QCN_ERR_NOT_FOUND;
        }
        err = qcn_store_mkdirs(dir);
        if (err != QCN_OK) {
            QCN_LOG(QCN_LOG_ERROR, "store", "%s: cannot create directory: %s", dir,
                    strerror(errno));
            return err;
        }
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return QCN_ERR_NOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->commit_lock, NULL);
    s->read_only = opts->read_only;
    s->grow_wait_ms = opts->grow_wait_ms ? opts->grow_wait_ms : QCN_STORE_DEFAULT_GROW_WAIT_MS;
    s->map_size = opts->map_size ? opts->map_size : QCN_STORE_DEFAULT_MAP_SIZE;

    rc = mdb_env_create(&s->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(s->env, QCN_STORE_TABLES + 2);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(s->env, (size_t)s->map_size);
    if (rc == MDB_SUCCESS && opts->max_readers)
        rc = mdb_env_set_maxreaders(s->env, opts->max_readers);
    if (rc != MDB_SUCCESS) {
        err = qcn_store_map_err(rc);
        goto fail;
    }
    /* MDB_NOTLS: snapshots are not tied to the thread that began them (the
     * loop thread and worker threads both read). No NOSYNC flag of any kind:
     * a commit returns only once the block is on disk. */
    flags = MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0u);
    rc = mdb_env_open(s->env, dir, flags, 0600);
    if (rc != MDB_SUCCESS) {
        err = qcn_store_map_err(rc);
        QCN_LOG(QCN_LOG_ERROR, "store", "%s: cannot open store: %s%s", dir, mdb_strerror(rc),
                err == QCN_ERR_STORE_CORRUPT ? " (the data file is corrupted or not LMDB)" : "");
        goto fail;
    }
    /* Reader slots of a process that was killed are stale; clear them so they
     * do not pin old pages forever. */
    (void)mdb_reader_check(s->env, &dead);
    if (dead > 0)
        QCN_LOG(QCN_LOG_INFO, "store", "cleared %d stale reader slot(s)", dead);
    {
        MDB_envinfo info;
        if (mdb_env_info(s->env, &info) == MDB_SUCCESS)
            s->map_size = info.me_mapsize;
    }
    err = open_tables(s, dir);
    if (err != QCN_OK)
        goto fail;
    *out = s;
    return QCN_OK;
fail:
    qcn_store_close(s);
    return err;
}

void qcn_store_close(struct qcn_store *s)
{
    if (s == NULL)
        return;
    if (s->env != NULL)
        mdb_env_close(s->env);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->commit_lock);
    free(s);
}

void qcn_store_info_get(struct qcn_store *s, struct qcn_store_info *out)
{
    MDB_envinfo info;
    MDB_stat st;
    memset(out, 0, sizeof *out);
    if (mdb_env_info(s->env, &info) == MDB_SUCCESS && mdb_env_stat(s->env, &st) == MDB_SUCCESS) {
        out->map_size = info.me_mapsize;
        out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    }
    pthread_mutex_lock(&s->lock);
    out->grow_count = s->grow_count;
    out->commits = s->commits;
    pthread_mutex_unlock(&s->lock);
}

int qcn_store_backup(struct qcn_store *s, const char *dir)
{
    int rc, err, tries;

    if (file_exists(dir, "data.mdb")) {
        QCN_LOG(QCN_LOG_ERROR, "store", "backup: %s already holds a store", dir);
        return QCN_ERR_EXISTS;
    }
    err = qcn_store_mkdirs(dir);
    if (err != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "store", "backup: cannot create %s: %s", dir, strerror(errno));
        return err;
    }
    /* mdb_env_copy2 runs its own read transaction: count it as active so a
     * grower in this process waits for it. A writer in another process that
     * grew the map makes the copy fail with MDB_MAP_RESIZED; adopt the new
     * size and copy again (the partial file is replaced). */
    for (tries = 0; tries < 3; tries++) {
        (void)qcn_store_active_enter(s);
        rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
        qcn_store_active_leave(s);
        if (rc != MDB_MAP_RESIZED)
            break;
        err = qcn_store_resize(s, 0, s->grow_wait_ms);
        if (err != QCN_OK)
            return err;
        {
            char path[4096];
            int n = snprintf(path, sizeof path, "%s/data.mdb", dir);
            if (n > 0 && (size_t)n < sizeof path)
                (void)unlink(path);
        }
    }
    if (rc != MDB_SUCCESS) {
        QCN_LOG(QCN_LOG_ERROR, "store", "backup to %s failed: %s", dir, mdb_strerror(rc));
        return rc == EEXIST ? QCN_ERR_EXISTS : qcn_store_map_err(rc);
    }
    return QCN_OK;
}

int qcn_store_snap_begin(struct qcn_store *s, struct qcn_store_snap **out)
{
    struct qcn_store_snap *r;
    int err;

    *out = NULL;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        return QCN_ERR_NOMEM;
    r->s = s;
    (void)qcn_store_active_enter(s);
    err = qcn_store_txn_begin(s, MDB_RDONLY, &r->txn);
    if (err != QCN_OK) {
        qcn_store_active_leave(s);
        free(r);
        return err;
    }
    *out = r;
    return QCN_OK;
}

void qcn_store_snap_end(struct qcn_store_snap *r)
{
    if (r == NULL)
        return;
    mdb_txn_abort(r->txn);
    qcn_store_active_leave(r->s);
    free(r);
}

int qcn_store_snap_get(struct qcn_store_snap *r, int table, const void *key, size_t keylen,
                       struct qcn_view *val)
{
    MDB_val k, v;
    int rc;
    k.mv_data = (void *)key;
    k.mv_size = keylen;
    rc = mdb_get(r->txn, r->s->dbi[table], &k, &v);
    if (rc != MDB_SUCCESS)
        return qcn_store_map_err(rc);
    *val = qcn_view_make(v.mv_data, v.mv_size);
    return QCN_OK;
}

int qcn_store_iterate(struct qcn_store_snap *r, int table, const void *prefix, size_t prefixlen,
                      qcn_store_iter_fn fn, void *ctx)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    int rc, ret = QCN_OK;
    MDB_cursor_op op;

    if (table < 0 || table >= QCN_STORE_TABLES || prefixlen > QCN_STORE_MAX_KEY ||
        (prefixlen > 0 && prefix == NULL))
        return QCN_ERR_INVALID_ARG;
    rc = mdb_cursor_open(r->txn, r->s->dbi[table], &c);
    if (rc != MDB_SUCCESS)
        return qcn_store_map_err(rc);
    k.mv_data = (void *)prefix;
    k.mv_size = prefixlen;
    op = prefixlen > 0 ? MDB_SET_RANGE : MDB_FIRST;
    for (;;) {
        rc = mdb_cursor_get(c, &k, &v, op);
        op = MDB_NEXT;
        if (rc == MDB_NOTFOUND)
            break;
        if (rc != MDB_SUCCESS) {
            ret = qcn_store_map_err(rc);
            break;
        }
        if (prefixlen > 0 && (k.mv_size < prefixlen || memcmp(k.mv_data, prefix, prefixlen) != 0))
            break;
        ret = fn(ctx, qcn_view_make(k.mv_data, k.mv_size), qcn_view_make(v.mv_data, v.mv_size));
        if (ret != 0)
            break;
    }
    mdb_cursor_close(c);
    return ret;
}
