/* store_internal.h - shared between the store's .c files; not a public API. */
#ifndef QCN_STORE_STORE_INTERNAL_H
#define QCN_STORE_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>

#include "store/store.h"

struct qcn_store {
    MDB_env *env;
    MDB_dbi dbi[QCN_STORE_TABLES];
    int read_only;
    unsigned grow_wait_ms;
    uint64_t map_size;
    /* lock guards active, growing, grow_count, commits; cond signals changes. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned active; /* open read transactions of this process */
    int growing;
    uint64_t grow_count;
    uint64_t commits;
    pthread_mutex_t commit_lock; /* one batch commit at a time */
};

struct qcn_store_snap {
    struct qcn_store *s;
    MDB_txn *txn;
};

int qcn_store_map_err(int rc);
int qcn_store_active_enter(struct qcn_store *s);
void qcn_store_active_leave(struct qcn_store *s);
/* Sets the map size (0 = adopt the size another process set) once no
 * snapshot is open, waiting at most wait_ms; QCN_ERR_STORE_FULL on timeout. */
int qcn_store_resize(struct qcn_store *s, uint64_t new_size, unsigned wait_ms);
int qcn_store_txn_begin(struct qcn_store *s, unsigned flags, MDB_txn **out);
int qcn_store_snap_get(struct qcn_store_snap *r, int table, const void *key, size_t keylen,
                       struct qcn_view *val);

#endif
