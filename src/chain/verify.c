/* verify.c - transaction signature checks and the worker pool that runs them
 * across all cores.
 *
 * A batch is a shared index counter: every worker (and the caller) takes the
 * next index until the batch is exhausted, so a slow ML-DSA-87 signature does
 * not hold up a whole stripe. The caller participates, so a pool of N threads
 * uses N+1 cores worth of work when the caller is otherwise idle; size the
 * pool as (cores - 1) for that case, or cores when the caller should stay
 * free. */
#include "chain/verify.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/keyrec.h"

int qcn_tx_verify_with(struct qcn_tx *tx, const uint8_t *rec, size_t reclen)
{
    struct qcn_keyrec kr;
    uint32_t i;
    int err;

    tx->verified = 0;
    if (rec == NULL || reclen == 0)
        return QCN_ERR_TX_MISSING_KEY;
    err = qcn_keyrec_decode(&kr, qcn_view_make(rec, reclen));
    if (err != QCN_OK)
        return err == QCN_ERR_TX_UNKNOWN_SCHEME ? err : QCN_ERR_TX_KEY_MISMATCH;
    if (kr.kind != tx->scheme)
        return QCN_ERR_TX_KEY_MISMATCH;
    if (kr.kind != QCN_SCHEME_MULTISIG) {
        if (tx->nsigs != 1 || tx->sigs[0].key_index != 0)
            return QCN_ERR_TX_BAD_SIGNATURE;
    } else if (tx->nsigs < kr.threshold) {
        return QCN_ERR_TX_MULTISIG;
    }
    /* Every carried signature must verify: a transaction never carries junk
     * that later readers would have to ignore. Indices are strictly increasing
     * (codec), so each key counts once. */
    for (i = 0; i < tx->nsigs; i++) {
        const struct qcn_tx_sig *s = &tx->sigs[i];
        const struct qcn_keyrec_key *k;
        if (s->key_index >= kr.nkeys)
            return QCN_ERR_TX_MULTISIG;
        k = &kr.keys[s->key_index];
        err = qcn_tx_verify_sig(k->scheme, k->pk.p, k->pk.len, tx->sighash, s->sig.p, s->sig.len);
        if (err != QCN_OK)
            return err;
    }
    qcn_keyrec_hash(tx->verified_key_hash, rec, reclen);
    tx->verified = 1;
    return QCN_OK;
}

int qcn_tx_verify(struct qcn_tx *tx)
{
    return qcn_tx_verify_with(tx, tx->key_record, tx->key_record_len);
}

struct qcn_verify_pool {
    pthread_t *threads;
    unsigned nthreads;
    pthread_mutex_t mu;
    pthread_cond_t work;      /* a new batch, or stop */
    pthread_cond_t done;      /* the last worker left the batch */
    pthread_mutex_t batch_mu; /* one batch at a time */
    uint64_t generation;
    int stop;
    /* the current batch */
    struct qcn_tx *const *txs;
    int *errs;
    size_t n;
    size_t next; /* atomic */
    unsigned busy;
};

/* Works on one batch through copies of its description taken under the
 * lock: the caller cannot finish (and reuse the pool for another batch) while
 * this thread is counted busy, so the copies stay valid; a thread that joins
 * after the batch was closed sees n == 0 and leaves. */
static void run_batch(struct qcn_verify_pool *p, struct qcn_tx *const *txs, int *errs, size_t n)
{
    size_t i;
    for (;;) {
        i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= n)
            break;
        errs[i] = txs[i]->verified ? QCN_OK : qcn_tx_verify(txs[i]);
    }
}

static void *worker(void *arg)
{
    struct qcn_verify_pool *p = arg;
    struct qcn_tx *const *txs;
    uint64_t seen = 0;
    size_t n;
    int *errs;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        p->busy++;
        txs = p->txs;
        errs = p->errs;
        n = p->n;
        pthread_mutex_unlock(&p->mu);
        run_batch(p, txs, errs, n);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int qcn_verify_pool_new(struct qcn_verify_pool **out, unsigned nthreads)
{
    struct qcn_verify_pool *p;
    long cpus;
    unsigned i;

    *out = NULL;
    if (nthreads == 0) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (nthreads > 256)
        return QCN_ERR_INVALID_ARG;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return QCN_ERR_NOMEM;
    p->threads = calloc(nthreads, sizeof *p->threads);
    if (p->threads == NULL) {
        free(p);
        return QCN_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->batch_mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        qcn_verify_pool_free(p);
        return QCN_ERR_INTERNAL;
    }
    *out = p;
    return QCN_OK;
}

void qcn_verify_pool_free(struct qcn_verify_pool *p)
{
    unsigned i;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->batch_mu);
    free(p->threads);
    free(p);
}

unsigned qcn_verify_pool_threads(const struct qcn_verify_pool *p)
{
    return p ? p->nthreads : 0;
}

void qcn_tx_verify_batch(struct qcn_verify_pool *p, struct qcn_tx *const *txs, size_t n, int *errs)
{
    size_t i;
    if (p == NULL || n < 2) {
        for (i = 0; i < n; i++)
            errs[i] = txs[i]->verified ? QCN_OK : qcn_tx_verify(txs[i]);
        return;
    }
    pthread_mutex_lock(&p->batch_mu);
    pthread_mutex_lock(&p->mu);
    p->txs = txs;
    p->errs = errs;
    p->n = n;
    __atomic_store_n(&p->next, 0, __ATOMIC_RELAXED);
    p->generation++;
    p->busy++; /* the caller */
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    run_batch(p, txs, errs, n);
    pthread_mutex_lock(&p->mu);
    p->busy--;
    /* Workers that never woke for this generation see next >= n and leave at
     * once; the ones inside finish their current transaction first. */
    while (p->busy != 0)
        pthread_cond_wait(&p->done, &p->mu);
    p->txs = NULL;
    p->errs = NULL;
    p->n = 0;
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->batch_mu);
}
