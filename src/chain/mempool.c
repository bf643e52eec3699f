/* mempool.c - pending transactions: per-sender nonce queues, priority by
 * effective tip (EIP-1559), replacement with a fee bump, caps and eviction.
 *
 * Layout: a map from tx hash to entry, and a map from sender to a small
 * nonce-sorted array (at most max_per_sender entries, so linear work per
 * sender is bounded by the cap). Eviction takes, among the last (highest
 * nonce) entries of every sender, the one with the lowest tip: evicting from
 * the middle of a queue would strand the later nonces. */
#include "chain/mempool.h"

#include <stdlib.h>
#include <string.h>

#include "chain/chain_internal.h"
#include "codec/keyrec.h"
#include "state/statedb_hmap.h"

struct sender {
    uint8_t addr[QCN_ADDRESS_BYTES];
    size_t n;
    struct qcn_tx **txs; /* by nonce, ascending; capacity max_per_sender */
};

struct qcn_mempool {
    struct qcn_mempool_config cfg;
    struct qcn_hmap by_hash;   /* hash -> struct qcn_tx * */
    struct qcn_hmap by_sender; /* address -> struct sender * */
    size_t count;
    size_t bytes;
};

void qcn_mempool_config_default(struct qcn_mempool_config *cfg)
{
    cfg->max_count = 20000;
    cfg->max_bytes = (size_t)256 * 1024 * 1024;
    cfg->max_per_sender = 64;
    cfg->max_nonce_gap = 64;
    cfg->expiry_ms = (uint64_t)3 * 3600 * 1000;
    cfg->replace_bump_pct = 10;
    cfg->min_priority_fee = 0;
}

int qcn_mempool_new(struct qcn_mempool **out, const struct qcn_mempool_config *cfg)
{
    struct qcn_mempool *mp;
    int err;

    *out = NULL;
    if (cfg->max_count == 0 || cfg->max_per_sender == 0 || cfg->replace_bump_pct < 10)
        return QCN_ERR_INVALID_ARG;
    mp = calloc(1, sizeof *mp);
    if (mp == NULL)
        return QCN_ERR_NOMEM;
    mp->cfg = *cfg;
    if ((err = qcn_hmap_init(&mp->by_hash, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_hmap_init(&mp->by_sender, QCN_ADDRESS_BYTES)) != QCN_OK) {
        qcn_hmap_clear(&mp->by_hash);
        free(mp);
        return err;
    }
    *out = mp;
    return QCN_OK;
}

static int free_sender(void *ctx, const uint8_t *key, void *val)
{
    struct sender *s = val;
    size_t i;
    (void)ctx;
    (void)key;
    for (i = 0; i < s->n; i++)
        qcn_tx_unref(s->txs[i]);
    free(s->txs);
    free(s);
    return 0;
}

void qcn_mempool_free(struct qcn_mempool *mp)
{
    if (mp == NULL)
        return;
    qcn_hmap_foreach(&mp->by_sender, free_sender, NULL);
    qcn_hmap_clear(&mp->by_sender);
    qcn_hmap_clear(&mp->by_hash);
    free(mp);
}

size_t qcn_mempool_count(const struct qcn_mempool *mp)
{
    return mp->count;
}

size_t qcn_mempool_bytes(const struct qcn_mempool *mp)
{
    return mp->bytes;
}

struct qcn_tx *qcn_mempool_get(const struct qcn_mempool *mp, const uint8_t hash[QCN_HASH_BYTES])
{
    return qcn_hmap_get(&mp->by_hash, hash);
}

static uint64_t eff_tip(const struct qcn_tx *tx, uint64_t base_fee)
{
    uint64_t room = tx->max_fee > base_fee ? tx->max_fee - base_fee : 0;
    return room < tx->max_priority_fee ? room : tx->max_priority_fee;
}

/* Removes s->txs[i] from the pool. */
static void remove_at(struct qcn_mempool *mp, struct sender *s, size_t i)
{
    struct qcn_tx *tx = s->txs[i];
    (void)qcn_hmap_del(&mp->by_hash, tx->hash);
    mp->count--;
    mp->bytes -= tx->raw_len;
    memmove(&s->txs[i], &s->txs[i + 1], (s->n - i - 1) * sizeof *s->txs);
    s->n--;
    if (s->n == 0) {
        (void)qcn_hmap_del(&mp->by_sender, s->addr);
        free(s->txs);
        free(s);
    }
    qcn_tx_unref(tx);
}

int qcn_mempool_remove(struct qcn_mempool *mp, const uint8_t hash[QCN_HASH_BYTES])
{
    struct qcn_tx *tx = qcn_hmap_get(&mp->by_hash, hash);
    struct sender *s;
    size_t i;
    if (tx == NULL)
        return 0;
    s = qcn_hmap_get(&mp->by_sender, tx->from);
    for (i = 0; s != NULL && i < s->n; i++) {
        if (s->txs[i] == tx) {
            remove_at(mp, s, i);
            return 1;
        }
    }
    return 0;
}

struct cheapest {
    uint64_t base_fee;
    struct sender *s;
    uint64_t tip;
};

static int find_cheapest(void *ctx, const uint8_t *key, void *val)
{
    struct cheapest *c = ctx;
    struct sender *s = val;
    uint64_t t = eff_tip(s->txs[s->n - 1], c->base_fee);
    (void)key;
    if (c->s == NULL || t < c->tip) {
        c->s = s;
        c->tip = t;
    }
    return 0;
}

/* Once verified, a pooled transaction needs only the key hash it was
 * verified against (tx->verified_key_hash); its copy of the key record (up to
 * 40 KB for a multisig set) is dropped to keep the pool small. */
static void drop_key_record(struct qcn_tx *tx)
{
    free(tx->key_record);
    tx->key_record = NULL;
    tx->key_record_len = 0;
    tx->key_record_hash_of = NULL;
}

/* gas_limit * max_fee + value, saturating (an overflow cannot be afforded). */
static struct qcn_u256 tx_cost(const struct qcn_tx *tx)
{
    struct qcn_u256 c = qcn_u256_mul_u64_u64(tx->gas_limit, tx->max_fee);
    if (qcn_u256_add(&c, &c, &tx->value)) {
        c.w[0] = c.w[1] = c.w[2] = c.w[3] = UINT64_MAX;
    }
    return c;
}

/* a >= b * (100 + pct) / 100, without overflow. */
static int bumped(uint64_t a, uint64_t b, uint32_t pct)
{
    __extension__ typedef unsigned __int128 u128;
    return (u128)a * 100 >= (u128)b * (100u + pct);
}

int qcn_mempool_add(struct qcn_mempool *mp, struct qcn_chain *c, struct qcn_tx *tx, uint64_t now_ms)
{
    struct qcn_account acct;
    struct qcn_u256 cost;
    struct sender *s;
    struct qcn_tx *old = NULL;
    uint64_t base_fee = qcn_chain_next_base_fee(c), gap;
    size_t i, pos;
    int err;

    if (qcn_hmap_get(&mp->by_hash, tx->hash) != NULL)
        return QCN_ERR_TX_KNOWN;
    if (!tx->verified)
        return QCN_ERR_TX_BAD_SIGNATURE;
    if (tx->raw_len > QCN_TX_MAX_BYTES || tx->raw_len > mp->cfg.max_bytes)
        return QCN_ERR_TX_OVERSIZED;
    if ((err = qcn_chain_account_get(c, &acct, tx->from)) != QCN_OK)
        return err;
    if (tx->nonce < acct.nonce)
        return QCN_ERR_TX_NONCE_LOW;
    gap = tx->nonce - acct.nonce;
    if (gap > mp->cfg.max_nonce_gap)
        return QCN_ERR_TX_NONCE_GAP;
    if (tx->max_fee < base_fee || tx->max_priority_fee < mp->cfg.min_priority_fee)
        return QCN_ERR_TX_FEE_LOW;

    s = qcn_hmap_get(&mp->by_sender, tx->from);
    /* The balance must cover this transaction and every pooled one of the
     * sender before it (the one it replaces excepted), at their worst-case
     * cost, or the pool would hold transactions that can never all run. */
    cost = tx_cost(tx);
    for (i = 0; s != NULL && i < s->n && s->txs[i]->nonce < tx->nonce; i++) {
        struct qcn_u256 c2 = tx_cost(s->txs[i]);
        if (qcn_u256_add(&cost, &cost, &c2))
            return QCN_ERR_TX_FUNDS;
    }
    if (qcn_u256_cmp(&acct.balance, &cost) < 0)
        return QCN_ERR_TX_FUNDS;
    pos = 0;
    if (s != NULL) {
        while (pos < s->n && s->txs[pos]->nonce < tx->nonce)
            pos++;
        if (pos < s->n && s->txs[pos]->nonce == tx->nonce)
            old = s->txs[pos];
    }
    if (old != NULL) {
        /* Replacement: both fee caps must rise by the bump (as geth), so a
         * replacement cannot lower either what it pays or what it may pay. */
        if (!bumped(tx->max_fee, old->max_fee, mp->cfg.replace_bump_pct) ||
            !bumped(tx->max_priority_fee, old->max_priority_fee, mp->cfg.replace_bump_pct))
            return QCN_ERR_TX_REPLACEMENT_UNDERPRICED;
        if ((err = qcn_hmap_put(&mp->by_hash, tx->hash, tx)) != QCN_OK)
            return err;
        (void)qcn_hmap_del(&mp->by_hash, old->hash);
        mp->bytes = mp->bytes - old->raw_len + tx->raw_len;
        s->txs[pos] = qcn_tx_ref(tx);
        tx->arrival_ms = now_ms;
        drop_key_record(tx);
        qcn_tx_unref(old);
        return QCN_OK;
    }
    if (s != NULL && s->n >= mp->cfg.max_per_sender)
        return QCN_ERR_TX_SENDER_LIMIT;
    /* Full: evict the cheapest tail entries while the newcomer outbids them. */
    while (mp->count >= mp->cfg.max_count || mp->bytes + tx->raw_len > mp->cfg.max_bytes) {
        struct cheapest ch = {base_fee, NULL, 0};
        qcn_hmap_foreach(&mp->by_sender, find_cheapest, &ch);
        if (ch.s == NULL || ch.tip >= eff_tip(tx, base_fee) || ch.s == s)
            return QCN_ERR_TX_POOL_FULL;
        remove_at(mp, ch.s, ch.s->n - 1);
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return QCN_ERR_NOMEM;
        s->txs = calloc(mp->cfg.max_per_sender, sizeof *s->txs);
        if (s->txs == NULL || qcn_hmap_put(&mp->by_sender, tx->from, s) != QCN_OK) {
            free(s->txs);
            free(s);
            return QCN_ERR_NOMEM;
        }
        memcpy(s->addr, tx->from, QCN_ADDRESS_BYTES);
    }
    if ((err = qcn_hmap_put(&mp->by_hash, tx->hash, tx)) != QCN_OK) {
        if (s->n == 0) {
            (void)qcn_hmap_del(&mp->by_sender, s->addr);
            free(s->txs);
            free(s);
        }
        return err;
    }
    for (i = s->n; i > pos; i--)
        s->txs[i] = s->txs[i - 1];
    s->txs[pos] = qcn_tx_ref(tx);
    s->n++;
    mp->count++;
    mp->bytes += tx->raw_len;
    tx->arrival_ms = now_ms;
    drop_key_record(tx);
    return QCN_OK;
}

int qcn_mempool_tx_prepare(struct qcn_mempool *mp, struct qcn_chain *c, struct qcn_tx *tx)
{
    struct qcn_keyrec kr;
    struct qcn_buf rec;
    struct sender *s;
    uint8_t a[QCN_ADDRESS_BYTES];
    size_t i;
    int err = qcn_chain_tx_prepare(c, tx);

    if (err != QCN_ERR_TX_MISSING_KEY || tx->pubkey.len != 0 || tx->scheme == QCN_SCHEME_MULTISIG)
        return err;
    s = qcn_hmap_get(&mp->by_sender, tx->from);
    for (i = 0; s != NULL && i < s->n; i++) {
        const struct qcn_tx *sib = s->txs[i];
        if (sib->nonce >= tx->nonce || sib->pubkey.len == 0 || sib->scheme != tx->scheme)
            continue;
        /* Checked at the sibling's admission; checked again, it is cheap. */
        qcn_address_from_key(a, sib->scheme, sib->pubkey.p, sib->pubkey.len);
        if (memcmp(a, tx->from, QCN_ADDRESS_BYTES) != 0 ||
            qcn_keyrec_single(&kr, sib->scheme, sib->pubkey) != QCN_OK)
            continue;
        qcn_buf_init(&rec, QCN_KEYREC_MAX_BYTES);
        err = qcn_keyrec_encode(&rec, &kr);
        if (err != QCN_OK) {
            qcn_buf_clear(&rec);
            return err;
        }
        free(tx->key_record);
        tx->key_record = rec.p; /* ownership moves to the transaction */
        tx->key_record_len = rec.len;
        tx->key_record_hash_of = NULL; /* hashed when verified */
        return QCN_OK;
    }
    return QCN_ERR_TX_MISSING_KEY;
}

size_t qcn_mempool_submit(struct qcn_mempool *mp, struct qcn_chain *c, struct qcn_verify_pool *pool,
                          struct qcn_tx *const *txs, size_t n, int *errs, uint64_t now_ms)
{
    struct qcn_tx **ok;
    int *verrs;
    size_t i, m = 0, added = 0;

    ok = calloc(n ? n : 1, sizeof *ok);
    verrs = calloc(n ? n : 1, sizeof *verrs);
    if (ok == NULL || verrs == NULL) {
        for (i = 0; i < n; i++)
            errs[i] = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        errs[i] = qcn_hmap_get(&mp->by_hash, txs[i]->hash) != NULL
                      ? QCN_ERR_TX_KNOWN
                      : qcn_mempool_tx_prepare(mp, c, txs[i]);
        if (errs[i] == QCN_OK)
            ok[m++] = txs[i];
    }
    qcn_tx_verify_batch(pool, ok, m, verrs);
    for (i = 0, m = 0; i < n; i++) {
        if (errs[i] != QCN_OK)
            continue;
        errs[i] = verrs[m++];
        if (errs[i] == QCN_OK)
            errs[i] = qcn_mempool_add(mp, c, txs[i], now_ms);
        added += errs[i] == QCN_OK;
    }
out:
    free(ok);
    free(verrs);
    return added;
}

uint64_t qcn_mempool_pending_nonce(const struct qcn_mempool *mp,
                                   const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t state_nonce)
{
    struct sender *s = qcn_hmap_get(&mp->by_sender, addr);
    size_t i;
    uint64_t next = state_nonce;
    for (i = 0; s != NULL && i < s->n; i++) {
        if (s->txs[i]->nonce == next)
            next++;
        else if (s->txs[i]->nonce > next)
            break;
    }
    return next;
}

struct expire_ctx {
    uint64_t cutoff;
    struct qcn_tx **victims;
    size_t n, cap;
};

static int collect_expired(void *ctx, const uint8_t *key, void *val)
{
    struct expire_ctx *e = ctx;
    struct qcn_tx *tx = val;
    (void)key;
    if (tx->arrival_ms < e->cutoff && e->n < e->cap)
        e->victims[e->n++] = tx;
    return 0;
}

size_t qcn_mempool_expire(struct qcn_mempool *mp, uint64_t now_ms)
{
    struct expire_ctx e;
    size_t i, removed = 0;

    if (mp->cfg.expiry_ms == 0 || now_ms < mp->cfg.expiry_ms || mp->count == 0)
        return 0;
    e.cutoff = now_ms - mp->cfg.expiry_ms;
    e.n = 0;
    e.cap = mp->count;
    e.victims = calloc(e.cap, sizeof *e.victims);
    if (e.victims == NULL)
        return 0;
    qcn_hmap_foreach(&mp->by_hash, collect_expired, &e);
    for (i = 0; i < e.n; i++) {
        uint8_t h[QCN_HASH_BYTES];
        memcpy(h, e.victims[i]->hash, QCN_HASH_BYTES);
        removed += (size_t)qcn_mempool_remove(mp, h);
    }
    free(e.victims);
    return removed;
}

/* ---- Selection for a block: a max-heap of senders keyed by the tip of each
 * sender's next ready transaction. */

struct cursor {
    struct sender *s;
    size_t i; /* next index in s->txs */
    uint64_t tip;
};

struct select_ctx {
    struct qcn_mempool *mp;
    struct qcn_chain *c;
    uint64_t base_fee;
    struct cursor *heap;
    size_t n;
    int err;
};

static int heap_less(const struct cursor *a, const struct cursor *b)
{
    if (a->tip != b->tip)
        return a->tip < b->tip;
    /* Tie: earlier arrival first, so equal payers are served in order. */
    return a->s->txs[a->i]->arrival_ms > b->s->txs[b->i]->arrival_ms;
}

static void heap_up(struct cursor *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        struct cursor t;
        if (!heap_less(&h[p], &h[i]))
            break;
        t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static void heap_down(struct cursor *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct cursor t;
        if (l < n && heap_less(&h[m], &h[l]))
            m = l;
        if (r < n && heap_less(&h[m], &h[r]))
            m = r;
        if (m == i)
            break;
        t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
}

static int seed_sender(void *ctx, const uint8_t *key, void *val)
{
    struct select_ctx *x = ctx;
    struct sender *s = val;
    struct qcn_account a;
    size_t i = 0;
    (void)key;
    if ((x->err = qcn_chain_account_get(x->c, &a, s->addr)) != QCN_OK)
        return 1;
    /* Skip stale nonces (the block that made them stale will drop them). */
    while (i < s->n && s->txs[i]->nonce < a.nonce)
        i++;
    if (i == s->n || s->txs[i]->nonce != a.nonce || s->txs[i]->max_fee < x->base_fee)
        return 0;
    x->heap[x->n].s = s;
    x->heap[x->n].i = i;
    x->heap[x->n].tip = eff_tip(s->txs[i], x->base_fee);
    heap_up(x->heap, x->n);
    x->n++;
    return 0;
}

int qcn_mempool_select(struct qcn_mempool *mp, struct qcn_chain *c, uint64_t base_fee,
                       uint64_t gas_limit, size_t max, struct qcn_tx ***out, size_t *n)
{
    struct select_ctx x;
    struct qcn_tx **res;
    size_t cap = mp->count < max ? mp->count : max, k = 0;
    uint64_t left = gas_limit;

    *out = NULL;
    *n = 0;
    memset(&x, 0, sizeof x);
    x.mp = mp;
    x.c = c;
    x.base_fee = base_fee;
    x.heap = calloc(mp->by_sender.n ? mp->by_sender.n : 1, sizeof *x.heap);
    res = calloc(cap ? cap : 1, sizeof *res);
    if (x.heap == NULL || res == NULL) {
        free(x.heap);
        free(res);
        return QCN_ERR_NOMEM;
    }
    qcn_hmap_foreach(&mp->by_sender, seed_sender, &x);
    if (x.err != QCN_OK) {
        free(x.heap);
        free(res);
        return x.err;
    }
    while (x.n > 0 && k < cap && left >= QCN_GAS_TX) {
        struct cursor *top = &x.heap[0];
        struct qcn_tx *tx = top->s->txs[top->i];
        if (tx->gas_limit <= left) {
            res[k++] = qcn_tx_ref(tx);
            left -= tx->gas_limit;
            top->i++;
            if (top->i < top->s->n && top->s->txs[top->i]->nonce == tx->nonce + 1 &&
                top->s->txs[top->i]->max_fee >= base_fee) {
                top->tip = eff_tip(top->s->txs[top->i], base_fee);
                heap_down(x.heap, x.n, 0);
                continue;
            }
        }
        /* This sender is done (gap, fee, or it no longer fits). */
        x.heap[0] = x.heap[--x.n];
        heap_down(x.heap, x.n, 0);
    }
    free(x.heap);
    *out = res;
    *n = k;
    return QCN_OK;
}

void qcn_mempool_on_block(struct qcn_mempool *mp, struct qcn_chain *c,
                          struct qcn_tx *const *included, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        struct sender *s;
        struct qcn_account a;
        (void)qcn_mempool_remove(mp, included[i]->hash);
        s = qcn_hmap_get(&mp->by_sender, included[i]->from);
        if (s == NULL || qcn_chain_account_get(c, &a, s->addr) != QCN_OK)
            continue;
        /* Same nonce, other hash (a replacement lost the race): now stale. */
        while (s != NULL && s->n > 0 && s->txs[0]->nonce < a.nonce) {
            int last = s->n == 1;
            remove_at(mp, s, 0);
            if (last)
                s = NULL;
        }
    }
}

struct visit_ctx {
    int (*fn)(void *ctx, struct qcn_tx *tx);
    void *ctx;
};

static int visit(void *ctx, const uint8_t *key, void *val)
{
    struct visit_ctx *v = ctx;
    (void)key;
    return v->fn(v->ctx, val);
}

void qcn_mempool_foreach(const struct qcn_mempool *mp, int (*fn)(void *ctx, struct qcn_tx *tx),
                         void *ctx)
{
    struct visit_ctx v = {fn, ctx};
    qcn_hmap_foreach(&mp->by_hash, visit, &v);
}
