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
#include "crypto/mldsa.h"

/* ---- the expanded-key cache ------------------------------------------------
 *
 * A chained hash table over a fixed bucket array plus a doubly linked LRU
 * list, all under one mutex: lookups are a hash and a few compares, while
 * the work they save (ExpandA: k*l SHAKE128 streams) and the verification
 * itself run unlocked. An entry is found by (record hash, key index) and
 * used only if its stored public key equals the one being verified, so a
 * hash collision can cost a miss but never a wrong answer. */
#define KEYCACHE_BUCKETS 8192 /* power of two, >= QCN_VERIFY_KEYCACHE_MAX_ENTRIES */

struct kc_entry {
    uint8_t rec_hash[QCN_HASH_BYTES];
    uint32_t key_index;
    uint8_t scheme;
    unsigned refs; /* users outside the lock */
    int in_table;  /* 0 once evicted: the last user frees it */
    size_t bytes;  /* accounted size */
    struct kc_entry *hnext, *prev, *next;
    uint8_t *pk; /* copy of the encoded public key */
    size_t pklen;
    struct qcn_mldsa_pk_expanded *x;
};

static struct {
    pthread_mutex_t mu;
    struct kc_entry *buckets[KEYCACHE_BUCKETS];
    struct kc_entry *head, *tail; /* most / least recently used */
    size_t entries, bytes, max_entries, max_bytes;
    uint64_t hits, misses, evictions;
} kc = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .max_entries = QCN_VERIFY_KEYCACHE_MAX_ENTRIES,
        .max_bytes = QCN_VERIFY_KEYCACHE_MAX_BYTES};

static size_t kc_bucket(const uint8_t rec_hash[QCN_HASH_BYTES], uint32_t key_index)
{
    uint64_t h;
    memcpy(&h, rec_hash, sizeof h); /* Keccak output: already uniform */
    return (size_t)((h ^ (uint64_t)key_index * 0x9e3779b97f4a7c15ull) & (KEYCACHE_BUCKETS - 1));
}

static void kc_entry_free(struct kc_entry *e)
{
    if (e == NULL)
        return;
    free(e->x);
    free(e->pk);
    free(e);
}

static void kc_lru_unlink(struct kc_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        kc.head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        kc.tail = e->prev;
    e->prev = e->next = NULL;
}

static void kc_lru_push_front(struct kc_entry *e)
{
    e->prev = NULL;
    e->next = kc.head;
    if (kc.head)
        kc.head->prev = e;
    kc.head = e;
    if (kc.tail == NULL)
        kc.tail = e;
}

/* Under kc.mu: removes e from the table; frees it unless someone uses it. */
static void kc_remove_locked(struct kc_entry *e)
{
    struct kc_entry **pp = &kc.buckets[kc_bucket(e->rec_hash, e->key_index)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    kc_lru_unlink(e);
    e->in_table = 0;
    kc.entries--;
    kc.bytes -= e->bytes;
    if (e->refs == 0)
        kc_entry_free(e);
}

static void kc_evict_locked(size_t want_entries, size_t want_bytes)
{
    while (kc.tail != NULL && (kc.entries > want_entries || kc.bytes > want_bytes)) {
        kc_remove_locked(kc.tail);
        kc.evictions++;
    }
}

static void kc_release(struct kc_entry *e)
{
    int dead;
    pthread_mutex_lock(&kc.mu);
    e->refs--;
    dead = e->refs == 0 && !e->in_table;
    pthread_mutex_unlock(&kc.mu);
    if (dead)
        kc_entry_free(e);
}

/* An expanded key for (rec_hash, key_index, scheme, pk) with a reference
 * held, or NULL (no memory, or caching disabled): the caller then verifies
 * the plain way. */
static struct kc_entry *kc_get(const uint8_t rec_hash[QCN_HASH_BYTES], uint32_t key_index,
                               uint8_t scheme, int param, const uint8_t *pk, size_t pklen)
{
    size_t b = kc_bucket(rec_hash, key_index), xbytes, total;
    struct kc_entry *e, *n;

    pthread_mutex_lock(&kc.mu);
    for (e = kc.buckets[b]; e != NULL; e = e->hnext) {
        if (e->key_index == key_index && e->scheme == scheme && e->pklen == pklen &&
            memcmp(e->rec_hash, rec_hash, QCN_HASH_BYTES) == 0 && memcmp(e->pk, pk, pklen) == 0) {
            e->refs++;
            kc.hits++;
            kc_lru_unlink(e);
            kc_lru_push_front(e);
            pthread_mutex_unlock(&kc.mu);
            return e;
        }
    }
    kc.misses++;
    if (kc.max_entries == 0) {
        pthread_mutex_unlock(&kc.mu);
        return NULL;
    }
    pthread_mutex_unlock(&kc.mu);

    /* Expand unlocked; two threads missing on one key both expand, and the
     * second to insert uses the first one's entry. */
    xbytes = qcn_mldsa_pk_expanded_bytes(param);
    if (xbytes == 0 || __builtin_add_overflow(xbytes, sizeof *n + pklen, &total))
        return NULL;
    n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->pk = malloc(pklen);
    n->x = aligned_alloc(32, xbytes);
    if (n->pk == NULL || n->x == NULL || qcn_mldsa_pk_expand(param, n->x, pk, pklen) != QCN_OK) {
        kc_entry_free(n);
        return NULL;
    }
    memcpy(n->pk, pk, pklen);
    n->pklen = pklen;
    memcpy(n->rec_hash, rec_hash, QCN_HASH_BYTES);
    n->key_index = key_index;
    n->scheme = scheme;
    n->bytes = total;
    n->refs = 1;

    pthread_mutex_lock(&kc.mu);
    for (e = kc.buckets[b]; e != NULL; e = e->hnext) {
        if (e->key_index == key_index && e->scheme == scheme && e->pklen == pklen &&
            memcmp(e->rec_hash, rec_hash, QCN_HASH_BYTES) == 0 && memcmp(e->pk, pk, pklen) == 0)
            break;
    }
    if (e != NULL) {
        e->refs++;
        pthread_mutex_unlock(&kc.mu);
        kc_entry_free(n);
        return e;
    }
    if (kc.max_entries == 0 || total > kc.max_bytes) {
        pthread_mutex_unlock(&kc.mu);
        n->in_table = 0;
        return n; /* private: freed by kc_release */
    }
    kc_evict_locked(kc.max_entries - 1, kc.max_bytes - total);
    n->in_table = 1;
    n->hnext = kc.buckets[b];
    kc.buckets[b] = n;
    kc_lru_push_front(n);
    kc.entries++;
    kc.bytes += total;
    pthread_mutex_unlock(&kc.mu);
    return n;
}

void qcn_verify_keycache_stats(struct qcn_verify_keycache_stats *out)
{
    pthread_mutex_lock(&kc.mu);
    out->hits = kc.hits;
    out->misses = kc.misses;
    out->evictions = kc.evictions;
    out->entries = kc.entries;
    out->bytes = kc.bytes;
    out->max_entries = kc.max_entries;
    out->max_bytes = kc.max_bytes;
    pthread_mutex_unlock(&kc.mu);
}

void qcn_verify_keycache_set_limits(size_t max_entries, size_t max_bytes)
{
    pthread_mutex_lock(&kc.mu);
    kc.max_entries = max_entries < QCN_VERIFY_KEYCACHE_MAX_ENTRIES
                         ? max_entries
                         : QCN_VERIFY_KEYCACHE_MAX_ENTRIES;
    kc.max_bytes =
        max_bytes < QCN_VERIFY_KEYCACHE_MAX_BYTES ? max_bytes : QCN_VERIFY_KEYCACHE_MAX_BYTES;
    kc_evict_locked(kc.max_entries, kc.max_bytes);
    pthread_mutex_unlock(&kc.mu);
}

void qcn_verify_keycache_clear(void)
{
    pthread_mutex_lock(&kc.mu);
    kc_evict_locked(0, 0);
    kc.hits = kc.misses = kc.evictions = 0;
    pthread_mutex_unlock(&kc.mu);
}

/* One signature under key k (index key_index of the record hashed to
 * rec_hash): through the cache for ML-DSA keys of the right size, else the
 * codec's plain check. Same results either way. */
static int verify_one(const struct qcn_keyrec_key *k, uint32_t key_index,
                      const uint8_t rec_hash[QCN_HASH_BYTES], const uint8_t sighash[QCN_HASH_BYTES],
                      const uint8_t *sig, size_t siglen)
{
    int param = qcn_scheme_param(k->scheme);
    struct kc_entry *e;
    int rc;
    if (param == 0 || k->pk.len != qcn_mldsa_pk_bytes(param) ||
        siglen != qcn_mldsa_sig_bytes(param))
        return qcn_tx_verify_sig(k->scheme, k->pk.p, k->pk.len, sighash, sig, siglen);
    e = kc_get(rec_hash, key_index, k->scheme, param, k->pk.p, k->pk.len);
    if (e == NULL)
        return qcn_tx_verify_sig(k->scheme, k->pk.p, k->pk.len, sighash, sig, siglen);
    /* The same message and context as qcn_tx_verify_sig (codec/tx.c). */
    rc = qcn_mldsa_verify_expanded(e->x, sighash, QCN_HASH_BYTES, (const uint8_t *)QCN_TX_SIG_CTX,
                                   QCN_TX_SIG_CTX_LEN, sig, siglen);
    kc_release(e);
    return rc == QCN_OK ? QCN_OK : QCN_ERR_TX_BAD_SIGNATURE;
}

int qcn_tx_verify_with(struct qcn_tx *tx, const uint8_t *rec, size_t reclen)
{
    uint8_t rec_hash[QCN_HASH_BYTES];
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
    if (rec == tx->key_record && tx->key_record_hash_of == tx->key_record)
        memcpy(rec_hash, tx->key_record_hash, QCN_HASH_BYTES); /* set with the record */
    else
        qcn_keyrec_hash(rec_hash, rec, reclen);
    /* Every carried signature must verify: a transaction never carries junk
     * that later readers would have to ignore. Indices are strictly increasing
     * (codec), so each key counts once. */
    for (i = 0; i < tx->nsigs; i++) {
        const struct qcn_tx_sig *s = &tx->sigs[i];
        if (s->key_index >= kr.nkeys)
            return QCN_ERR_TX_MULTISIG;
        err = verify_one(&kr.keys[s->key_index], s->key_index, rec_hash, tx->sighash, s->sig.p,
                         s->sig.len);
        if (err != QCN_OK)
            return err;
    }
    memcpy(tx->verified_key_hash, rec_hash, QCN_HASH_BYTES);
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
