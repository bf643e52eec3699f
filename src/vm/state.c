/* state.c - the journaled world-state overlay (see state.h).
 *
 * Accounts, slots and transient slots live in arrays indexed through
 * open-addressing hash tables of (index + 1); the journal records the old
 * value of everything it lets change so a revert can walk it backwards.
 * Accounts are allocated one by one so their pointers stay stable while the
 * interpreter holds them; slots are referenced by index. */
#include "vm/state.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"

const uint8_t qcn_vm_empty_code_hash[QCN_VM_HASH_BYTES] = {
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
    0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70};

#define SLOT_WARM 0x1u
#define SLOT_DIRTY 0x2u
#define CODE_BUCKETS 256
#define MAX_CODE_LOAD (16u * 1024 * 1024) /* cap on code a backend may hand us */

struct slot {
    uint32_t acct;
    uint32_t flags;
    struct qcn_u256 key;
    struct qcn_u256 value;
    struct qcn_u256 original;
};

struct tslot {
    uint32_t acct;
    struct qcn_u256 key;
    struct qcn_u256 value;
};

enum jkind { J_ACCT, J_SLOT, J_SLOT_WARM, J_TSLOT, J_REFUND, J_LOG };

struct jent {
    uint8_t kind;
    uint32_t idx;
    uint32_t flags;
    uint64_t nonce;
    struct qcn_u256 val;
    struct qcn_vm_code *code;
    uint8_t code_hash[QCN_VM_HASH_BYTES];
    int64_t refund;
};

struct index {
    uint32_t *tab; /* entry index + 1; 0 is free */
    size_t mask;   /* capacity - 1 (power of two) */
};

struct qcn_vm_state {
    struct qcn_vm_state_backend be;
    int has_backend;
    int err;

    struct qcn_vm_account **accts;
    uint32_t nacct, acap;
    struct index aidx;

    struct slot *slots;
    uint32_t nslot, scap;
    struct index sidx;

    struct tslot *tslots;
    uint32_t ntslot, tcap;
    struct index tidx;

    struct qcn_vm_code *codes[CODE_BUCKETS];
    struct qcn_vm_code empty_code;
    struct qcn_vm_code_cache *cache; /* shared, optional */

    struct jent *journal;
    size_t njournal, jcap;

    struct qcn_vm_log *logs;
    size_t nlog, lcap;

    int64_t refund;
};

static uint8_t empty_code_pad[QCN_VM_CODE_PAD];
static uint8_t empty_code_jumpdest[1];

static int64_t slot_get(struct qcn_vm_state *st, struct qcn_vm_account *a,
                        const struct qcn_u256 *key);
static void free_chain(struct qcn_vm_code *c);

static void set_err(struct qcn_vm_state *st, int err)
{
    if (st->err == QCN_OK)
        st->err = err;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_addr(const uint8_t *a)
{
    uint64_t x = qcn_load_le64(a) ^ mix64(qcn_load_le64(a + 8)) ^ mix64(qcn_load_le32(a + 16) + 1);
    return mix64(x);
}

static uint64_t hash_slot(uint32_t acct, const struct qcn_u256 *k)
{
    uint64_t x = mix64(k->w[0] ^ ((uint64_t)acct << 32)) ^ k->w[1] ^ mix64(k->w[2] + k->w[3]);
    return mix64(x);
}

static int index_init(struct index *ix, size_t cap)
{
    ix->tab = calloc(cap, sizeof *ix->tab);
    ix->mask = cap - 1;
    return ix->tab == NULL ? QCN_ERR_NOMEM : QCN_OK;
}

/* Grows the array at *arr (element size esz) to hold one more entry. */
static int grow(void **arr, uint32_t *cap, uint32_t n, size_t esz)
{
    void *np;
    uint32_t ncap;
    if (n < *cap)
        return QCN_OK;
    if (*cap >= UINT32_MAX / 4)
        return QCN_ERR_TOO_LARGE;
    ncap = *cap == 0 ? 64 : *cap * 2;
    np = realloc(*arr, (size_t)ncap * esz);
    if (np == NULL)
        return QCN_ERR_NOMEM;
    *arr = np;
    *cap = ncap;
    return QCN_OK;
}

/* Rebuilds an index at double size when it is half full. hashes come from
 * the entries themselves via the callback. */
static int index_maybe_grow(struct index *ix, uint32_t n, uint64_t (*h)(const void *, uint32_t),
                            const void *arr)
{
    struct index nx;
    if ((size_t)n * 2 < ix->mask + 1)
        return QCN_OK;
    if (index_init(&nx, (ix->mask + 1) * 2) != QCN_OK)
        return QCN_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        size_t pos = (size_t)h(arr, i) & nx.mask;
        while (nx.tab[pos] != 0)
            pos = (pos + 1) & nx.mask;
        nx.tab[pos] = i + 1;
    }
    free(ix->tab);
    *ix = nx;
    return QCN_OK;
}

static uint64_t acct_hash_cb(const void *arr, uint32_t i)
{
    struct qcn_vm_account *const *a = arr;
    return hash_addr(a[i]->addr);
}
static uint64_t slot_hash_cb(const void *arr, uint32_t i)
{
    const struct slot *s = arr;
    return hash_slot(s[i].acct, &s[i].key);
}
static uint64_t tslot_hash_cb(const void *arr, uint32_t i)
{
    const struct tslot *s = arr;
    return hash_slot(s[i].acct, &s[i].key);
}

struct qcn_vm_state *qcn_vm_state_new(const struct qcn_vm_state_backend *backend)
{
    struct qcn_vm_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    if (backend != NULL) {
        st->be = *backend;
        st->has_backend = 1;
    }
    memcpy(st->empty_code.hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES);
    st->empty_code.bytes = empty_code_pad;
    st->empty_code.len = 0;
    st->empty_code.jumpdest = empty_code_jumpdest;
    if (index_init(&st->aidx, 64) != QCN_OK || index_init(&st->sidx, 256) != QCN_OK ||
        index_init(&st->tidx, 64) != QCN_OK) {
        qcn_vm_state_free(st);
        return NULL;
    }
    return st;
}

static void free_logs(struct qcn_vm_state *st, size_t from)
{
    for (size_t i = from; i < st->nlog; i++)
        free(st->logs[i].data);
    st->nlog = from;
}

void qcn_vm_state_free(struct qcn_vm_state *st)
{
    if (st == NULL)
        return;
    for (uint32_t i = 0; i < st->nacct; i++)
        free(st->accts[i]);
    free(st->accts);
    free(st->aidx.tab);
    free(st->slots);
    free(st->sidx.tab);
    free(st->tslots);
    free(st->tidx.tab);
    for (int b = 0; b < CODE_BUCKETS; b++)
        free_chain(st->codes[b]);
    free(st->journal);
    free_logs(st, 0);
    free(st->logs);
    free(st);
}

int qcn_vm_state_error(const struct qcn_vm_state *st)
{
    return st->err;
}

static int journal_push(struct qcn_vm_state *st, const struct jent *e)
{
    if (st->njournal == st->jcap) {
        size_t ncap = st->jcap == 0 ? 256 : st->jcap * 2;
        struct jent *nj = realloc(st->journal, ncap * sizeof *nj);
        if (nj == NULL) {
            set_err(st, QCN_ERR_NOMEM);
            return QCN_ERR_NOMEM;
        }
        st->journal = nj;
        st->jcap = ncap;
    }
    st->journal[st->njournal++] = *e;
    return QCN_OK;
}

static void journal_acct(struct qcn_vm_state *st, const struct qcn_vm_account *a)
{
    struct jent e;
    e.kind = J_ACCT;
    e.idx = a->index;
    e.flags = a->flags;
    e.nonce = a->nonce;
    e.val = a->balance;
    e.code = a->code;
    memcpy(e.code_hash, a->code_hash, QCN_VM_HASH_BYTES);
    e.refund = 0;
    (void)journal_push(st, &e);
}

#define CACHE_BUCKETS 4096

/* Code shared across states (see state.h): the ledger keeps one for the life
 * of the node so each contract is analysed once, not once per transaction. */
struct qcn_vm_code_cache {
    struct qcn_vm_code *buckets[CACHE_BUCKETS];
    size_t bytes, max_bytes;
};

static size_t cache_bucket(const uint8_t hash[32])
{
    return ((size_t)hash[0] << 8 | hash[1]) % CACHE_BUCKETS;
}

struct qcn_vm_code_cache *qcn_vm_code_cache_new(size_t max_bytes)
{
    struct qcn_vm_code_cache *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->max_bytes = max_bytes;
    return c;
}

static void free_chain(struct qcn_vm_code *c)
{
    struct qcn_vm_code *n;
    for (; c != NULL; c = n) {
        n = c->next;
        free(c->bytes);
        free(c->jumpdest);
        free(c);
    }
}

void qcn_vm_code_cache_free(struct qcn_vm_code_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t b = 0; b < CACHE_BUCKETS; b++)
        free_chain(cache->buckets[b]);
    free(cache);
}

size_t qcn_vm_code_cache_bytes(const struct qcn_vm_code_cache *cache)
{
    return cache->bytes;
}

void qcn_vm_state_use_code_cache(struct qcn_vm_state *st, struct qcn_vm_code_cache *cache)
{
    st->cache = cache;
}

static struct qcn_vm_code *chain_find(struct qcn_vm_code *c, const uint8_t hash[32])
{
    for (; c != NULL; c = c->next)
        if (memcmp(c->hash, hash, QCN_VM_HASH_BYTES) == 0)
            return c;
    return NULL;
}

static struct qcn_vm_code *code_find(struct qcn_vm_state *st, const uint8_t hash[32])
{
    struct qcn_vm_code *c;
    if (memcmp(hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES) == 0)
        return &st->empty_code;
    c = chain_find(st->codes[hash[0]], hash);
    if (c == NULL && st->cache != NULL)
        c = chain_find(st->cache->buckets[cache_bucket(hash)], hash);
    return c;
}

static struct qcn_vm_code *code_insert(struct qcn_vm_state *st, const uint8_t hash[32],
                                       const uint8_t *bytes, size_t len)
{
    struct qcn_vm_code *c = code_find(st, hash);
    struct qcn_vm_code **head;
    if (c != NULL)
        return c;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->bytes = calloc(len + QCN_VM_CODE_PAD, 1);
    if (c->bytes == NULL) {
        free(c);
        return NULL;
    }
    if (len > 0)
        memcpy(c->bytes, bytes, len);
    c->len = len;
    memcpy(c->hash, hash, QCN_VM_HASH_BYTES);
    /* Into the shared cache while it has room (entries there are never
     * freed before the cache, so states may keep pointers to them), else
     * into this state's own table. */
    if (st->cache != NULL && len <= st->cache->max_bytes - st->cache->bytes &&
        st->cache->bytes <= st->cache->max_bytes) {
        head = &st->cache->buckets[cache_bucket(hash)];
        st->cache->bytes += len;
    } else {
        head = &st->codes[hash[0]];
    }
    c->next = *head;
    *head = c;
    return c;
}

void qcn_vm_code_forget_analysis(struct qcn_vm_code *code)
{
    if (code->len == 0)
        return; /* the shared empty code's static bitmap */
    free(code->jumpdest);
    code->jumpdest = NULL;
}

int qcn_vm_code_analyse(struct qcn_vm_code *code)
{
    uint8_t *bm;
    size_t i;
    if (code->jumpdest != NULL)
        return QCN_OK;
    bm = calloc(code->len / 8 + 1, 1);
    if (bm == NULL)
        return QCN_ERR_NOMEM;
    /* Yellow Paper 9.4.3: a 0x5b byte is a valid destination only if it is
     * an opcode, not inside the immediate data of a PUSH1..PUSH32. */
    for (i = 0; i < code->len; i++) {
        uint8_t op = code->bytes[i];
        if (op == 0x5b)
            bm[i / 8] = (uint8_t)(bm[i / 8] | (1u << (i % 8)));
        else if (op >= 0x60 && op <= 0x7f)
            i += (size_t)(op - 0x5f);
    }
    code->jumpdest = bm;
    return QCN_OK;
}

struct qcn_vm_account *qcn_vm_state_account(struct qcn_vm_state *st,
                                            const uint8_t addr[QCN_VM_ADDRESS_BYTES])
{
    size_t pos = (size_t)hash_addr(addr) & st->aidx.mask;
    struct qcn_vm_account *a;
    uint32_t e;

    while ((e = st->aidx.tab[pos]) != 0) {
        a = st->accts[e - 1];
        if (memcmp(a->addr, addr, QCN_VM_ADDRESS_BYTES) == 0)
            return a;
        pos = (pos + 1) & st->aidx.mask;
    }
    if (grow((void **)&st->accts, &st->acap, st->nacct, sizeof *st->accts) != QCN_OK) {
        set_err(st, QCN_ERR_NOMEM);
        return NULL;
    }
    a = calloc(1, sizeof *a);
    if (a == NULL) {
        set_err(st, QCN_ERR_NOMEM);
        return NULL;
    }
    memcpy(a->addr, addr, QCN_VM_ADDRESS_BYTES);
    memcpy(a->code_hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES);
    a->code = &st->empty_code;
    if (st->has_backend && st->be.load_account != NULL) {
        int found = 0, has_storage = 0;
        uint64_t nonce = 0;
        struct qcn_u256 bal = qcn_u256_from_u64(0);
        uint8_t ch[QCN_VM_HASH_BYTES];
        int err = st->be.load_account(st->be.ctx, addr, &found, &nonce, &bal, ch, &has_storage);
        if (err != QCN_OK) {
            set_err(st, err);
            free(a);
            return NULL;
        }
        if (found) {
            a->flags = QCN_VM_ACC_EXISTS | (has_storage ? QCN_VM_ACC_HAS_STORAGE : 0);
            a->nonce = nonce;
            a->balance = bal;
            memcpy(a->code_hash, ch, QCN_VM_HASH_BYTES);
            a->code = code_find(st, ch);
        }
    }
    a->index = st->nacct;
    st->accts[st->nacct++] = a;
    st->aidx.tab[pos] = a->index + 1;
    if (index_maybe_grow(&st->aidx, st->nacct, acct_hash_cb, st->accts) != QCN_OK) {
        set_err(st, QCN_ERR_NOMEM);
        return NULL;
    }
    return a;
}

int qcn_vm_state_seed_account(struct qcn_vm_state *st, const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                              uint64_t nonce, const struct qcn_u256 *balance, const uint8_t *code,
                              size_t code_len)
{
    struct qcn_vm_account *a = qcn_vm_state_account(st, addr);
    struct qcn_vm_code *c;
    uint8_t h[QCN_VM_HASH_BYTES];
    if (a == NULL)
        return st->err;
    qcn_keccak256(h, code, code_len);
    c = code_insert(st, h, code, code_len);
    if (c == NULL)
        return QCN_ERR_NOMEM;
    a->flags |= QCN_VM_ACC_EXISTS;
    a->nonce = nonce;
    a->balance = *balance;
    a->code = c;
    memcpy(a->code_hash, h, QCN_VM_HASH_BYTES);
    return QCN_OK;
}

int qcn_vm_state_seed_storage(struct qcn_vm_state *st, const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                              const struct qcn_u256 *key, const struct qcn_u256 *value)
{
    struct qcn_vm_account *a = qcn_vm_state_account(st, addr);
    int64_t i;
    if (a == NULL)
        return st->err;
    i = slot_get(st, a, key);
    if (i < 0)
        return st->err;
    st->slots[i].value = *value;
    st->slots[i].original = *value;
    if (!qcn_u256_is_zero(value))
        a->flags |= QCN_VM_ACC_HAS_STORAGE;
    return QCN_OK;
}

int qcn_vm_account_is_empty(const struct qcn_vm_account *a)
{
    return a->nonce == 0 && qcn_u256_is_zero(&a->balance) &&
           memcmp(a->code_hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES) == 0;
}

int qcn_vm_account_is_dead(const struct qcn_vm_account *a)
{
    return !(a->flags & QCN_VM_ACC_EXISTS) || qcn_vm_account_is_empty(a);
}

static void mark_changed(struct qcn_vm_state *st, struct qcn_vm_account *a)
{
    journal_acct(st, a);
    a->flags |= QCN_VM_ACC_EXISTS | QCN_VM_ACC_DIRTY | QCN_VM_ACC_TOUCHED;
}

void qcn_vm_state_touch(struct qcn_vm_state *st, struct qcn_vm_account *a)
{
    mark_changed(st, a);
}

void qcn_vm_state_set_nonce(struct qcn_vm_state *st, struct qcn_vm_account *a, uint64_t nonce)
{
    mark_changed(st, a);
    a->nonce = nonce;
}

void qcn_vm_state_set_balance(struct qcn_vm_state *st, struct qcn_vm_account *a,
                              const struct qcn_u256 *balance)
{
    mark_changed(st, a);
    a->balance = *balance;
}

int qcn_vm_state_add_balance(struct qcn_vm_state *st, struct qcn_vm_account *a,
                             const struct qcn_u256 *v)
{
    struct qcn_u256 r;
    if (qcn_u256_add(&r, &a->balance, v) != 0)
        return QCN_ERR_OVERFLOW;
    mark_changed(st, a);
    a->balance = r;
    return QCN_OK;
}

int qcn_vm_state_sub_balance(struct qcn_vm_state *st, struct qcn_vm_account *a,
                             const struct qcn_u256 *v)
{
    struct qcn_u256 r;
    if (qcn_u256_sub(&r, &a->balance, v) != 0)
        return QCN_ERR_OVERFLOW;
    mark_changed(st, a);
    a->balance = r;
    return QCN_OK;
}

int qcn_vm_state_set_code(struct qcn_vm_state *st, struct qcn_vm_account *a, const uint8_t *code,
                          size_t len)
{
    uint8_t h[QCN_VM_HASH_BYTES];
    struct qcn_vm_code *c;
    qcn_keccak256(h, code, len);
    c = code_insert(st, h, code, len);
    if (c == NULL) {
        set_err(st, QCN_ERR_NOMEM);
        return QCN_ERR_NOMEM;
    }
    mark_changed(st, a);
    a->code = c;
    memcpy(a->code_hash, h, QCN_VM_HASH_BYTES);
    return QCN_OK;
}

void qcn_vm_state_create_account(struct qcn_vm_state *st, struct qcn_vm_account *a)
{
    mark_changed(st, a);
    a->flags |= QCN_VM_ACC_CREATED;
    a->nonce = 1;
}

void qcn_vm_state_mark_destructed(struct qcn_vm_state *st, struct qcn_vm_account *a)
{
    mark_changed(st, a);
    a->flags |= QCN_VM_ACC_DESTRUCTED;
}

int qcn_vm_state_warm_account(struct qcn_vm_state *st, struct qcn_vm_account *a)
{
    if (a->flags & QCN_VM_ACC_WARM)
        return 0;
    journal_acct(st, a);
    a->flags |= QCN_VM_ACC_WARM;
    return 1;
}

struct qcn_vm_code *qcn_vm_state_code(struct qcn_vm_state *st, struct qcn_vm_account *a)
{
    struct qcn_buf b;
    struct qcn_vm_code *c;
    uint8_t h[QCN_VM_HASH_BYTES];
    int err;

    if (a->code != NULL)
        return a->code;
    c = code_find(st, a->code_hash);
    if (c != NULL) {
        a->code = c;
        return c;
    }
    if (!st->has_backend || st->be.load_code == NULL) {
        set_err(st, QCN_ERR_STATE);
        return NULL;
    }
    qcn_buf_init(&b, MAX_CODE_LOAD);
    err = st->be.load_code(st->be.ctx, a->code_hash, &b);
    if (err == QCN_OK) {
        qcn_keccak256(h, b.p, b.len);
        if (memcmp(h, a->code_hash, QCN_VM_HASH_BYTES) != 0)
            err = QCN_ERR_STATE;
    }
    if (err == QCN_OK) {
        c = code_insert(st, h, b.p, b.len);
        if (c == NULL)
            err = QCN_ERR_NOMEM;
    }
    qcn_buf_clear(&b);
    if (err != QCN_OK) {
        set_err(st, err);
        return NULL;
    }
    a->code = c;
    return c;
}

/* Finds or creates the slot entry for (a, key); returns its index or -1. */
static int64_t slot_get(struct qcn_vm_state *st, struct qcn_vm_account *a,
                        const struct qcn_u256 *key)
{
    size_t pos = (size_t)hash_slot(a->index, key) & st->sidx.mask;
    uint32_t e;
    struct slot *s;

    while ((e = st->sidx.tab[pos]) != 0) {
        s = &st->slots[e - 1];
        if (s->acct == a->index && qcn_u256_eq(&s->key, key))
            return (int64_t)(e - 1);
        pos = (pos + 1) & st->sidx.mask;
    }
    if (grow((void **)&st->slots, &st->scap, st->nslot, sizeof *st->slots) != QCN_OK) {
        set_err(st, QCN_ERR_NOMEM);
        return -1;
    }
    s = &st->slots[st->nslot];
    memset(s, 0, sizeof *s);
    s->acct = a->index;
    s->key = *key;
    if (st->has_backend && st->be.load_storage != NULL && !(a->flags & QCN_VM_ACC_WIPED) &&
        (a->flags & QCN_VM_ACC_EXISTS)) {
        uint8_t k[QCN_U256_BYTES], v[QCN_U256_BYTES];
        int err;
        qcn_u256_to_be32(k, key);
        err = st->be.load_storage(st->be.ctx, a->addr, k, v);
        if (err != QCN_OK) {
            set_err(st, err);
            return -1;
        }
        qcn_u256_from_be32(&s->value, v);
        s->original = s->value;
    }
    st->nslot++;
    st->sidx.tab[pos] = st->nslot;
    if (index_maybe_grow(&st->sidx, st->nslot, slot_hash_cb, st->slots) != QCN_OK) {
        set_err(st, QCN_ERR_NOMEM);
        return -1;
    }
    return (int64_t)(st->nslot - 1);
}

int qcn_vm_state_sload(struct qcn_vm_state *st, struct qcn_vm_account *a,
                       const struct qcn_u256 *key, struct qcn_u256 *value,
                       struct qcn_u256 *original, int *was_cold)
{
    int64_t i = slot_get(st, a, key);
    struct slot *s;
    if (i < 0)
        return st->err;
    s = &st->slots[i];
    *value = s->value;
    if (original != NULL)
        *original = s->original;
    if (was_cold != NULL) {
        *was_cold = !(s->flags & SLOT_WARM);
        if (*was_cold) {
            struct jent e = {0};
            e.kind = J_SLOT_WARM;
            e.idx = (uint32_t)i;
            if (journal_push(st, &e) != QCN_OK)
                return QCN_ERR_NOMEM;
            s->flags |= SLOT_WARM;
        }
    }
    return QCN_OK;
}

int qcn_vm_state_warm_slot(struct qcn_vm_state *st, struct qcn_vm_account *a,
                           const struct qcn_u256 *key)
{
    struct qcn_u256 v;
    int cold;
    return qcn_vm_state_sload(st, a, key, &v, NULL, &cold);
}

int qcn_vm_state_sstore(struct qcn_vm_state *st, struct qcn_vm_account *a,
                        const struct qcn_u256 *key, const struct qcn_u256 *value)
{
    int64_t i = slot_get(st, a, key);
    struct slot *s;
    struct jent e = {0};
    if (i < 0)
        return st->err;
    s = &st->slots[i];
    e.kind = J_SLOT;
    e.idx = (uint32_t)i;
    e.val = s->value;
    e.flags = s->flags;
    if (journal_push(st, &e) != QCN_OK)
        return QCN_ERR_NOMEM;
    s->value = *value;
    s->flags |= SLOT_DIRTY;
    if (!(a->flags & QCN_VM_ACC_DIRTY)) {
        journal_acct(st, a);
        a->flags |= QCN_VM_ACC_DIRTY;
    }
    return QCN_OK;
}

static int64_t tslot_get(struct qcn_vm_state *st, const struct qcn_vm_account *a,
                         const struct qcn_u256 *key, int create)
{
    size_t pos = (size_t)hash_slot(a->index, key) & st->tidx.mask;
    uint32_t e;
    struct tslot *s;
    while ((e = st->tidx.tab[pos]) != 0) {
        s = &st->tslots[e - 1];
        if (s->acct == a->index && qcn_u256_eq(&s->key, key))
            return (int64_t)(e - 1);
        pos = (pos + 1) & st->tidx.mask;
    }
    if (!create)
        return -2;
    if (grow((void **)&st->tslots, &st->tcap, st->ntslot, sizeof *st->tslots) != QCN_OK) {
        set_err(st, QCN_ERR_NOMEM);
        return -1;
    }
    s = &st->tslots[st->ntslot];
    memset(s, 0, sizeof *s);
    s->acct = a->index;
    s->key = *key;
    st->ntslot++;
    st->tidx.tab[pos] = st->ntslot;
    if (index_maybe_grow(&st->tidx, st->ntslot, tslot_hash_cb, st->tslots) != QCN_OK) {
        set_err(st, QCN_ERR_NOMEM);
        return -1;
    }
    return (int64_t)(st->ntslot - 1);
}

int qcn_vm_state_tload(struct qcn_vm_state *st, struct qcn_vm_account *a,
                       const struct qcn_u256 *key, struct qcn_u256 *value)
{
    int64_t i = tslot_get(st, a, key, 0);
    if (i == -1)
        return st->err;
    *value = i < 0 ? qcn_u256_from_u64(0) : st->tslots[i].value;
    return QCN_OK;
}

int qcn_vm_state_tstore(struct qcn_vm_state *st, struct qcn_vm_account *a,
                        const struct qcn_u256 *key, const struct qcn_u256 *value)
{
    int64_t i = tslot_get(st, a, key, 1);
    struct jent e = {0};
    if (i < 0)
        return st->err;
    e.kind = J_TSLOT;
    e.idx = (uint32_t)i;
    e.val = st->tslots[i].value;
    if (journal_push(st, &e) != QCN_OK)
        return QCN_ERR_NOMEM;
    st->tslots[i].value = *value;
    return QCN_OK;
}

void qcn_vm_state_add_refund(struct qcn_vm_state *st, int64_t delta)
{
    struct jent e = {0};
    e.kind = J_REFUND;
    e.refund = st->refund;
    (void)journal_push(st, &e);
    st->refund += delta;
}

int64_t qcn_vm_state_refund(const struct qcn_vm_state *st)
{
    return st->refund;
}

int qcn_vm_state_add_log(struct qcn_vm_state *st, const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                         const uint8_t (*topics)[QCN_U256_BYTES], unsigned ntopics,
                         const uint8_t *data, size_t len)
{
    struct qcn_vm_log *l;
    struct jent e = {0};
    if (ntopics > QCN_VM_MAX_LOG_TOPICS)
        return QCN_ERR_INVALID_ARG;
    if (st->nlog == st->lcap) {
        size_t ncap = st->lcap == 0 ? 16 : st->lcap * 2;
        struct qcn_vm_log *nl = realloc(st->logs, ncap * sizeof *nl);
        if (nl == NULL)
            goto nomem;
        st->logs = nl;
        st->lcap = ncap;
    }
    l = &st->logs[st->nlog];
    memset(l, 0, sizeof *l);
    memcpy(l->addr, addr, QCN_VM_ADDRESS_BYTES);
    l->ntopics = ntopics;
    if (ntopics > 0)
        memcpy(l->topics, topics, ntopics * sizeof topics[0]);
    l->data = malloc(len > 0 ? len : 1);
    if (l->data == NULL)
        goto nomem;
    if (len > 0)
        memcpy(l->data, data, len);
    l->len = len;
    e.kind = J_LOG;
    e.idx = (uint32_t)st->nlog;
    if (journal_push(st, &e) != QCN_OK) {
        free(l->data);
        return QCN_ERR_NOMEM;
    }
    st->nlog++;
    return QCN_OK;
nomem:
    set_err(st, QCN_ERR_NOMEM);
    return QCN_ERR_NOMEM;
}

const struct qcn_vm_log *qcn_vm_state_logs(const struct qcn_vm_state *st, size_t *count)
{
    *count = st->nlog;
    return st->logs;
}

size_t qcn_vm_state_snapshot(const struct qcn_vm_state *st)
{
    return st->njournal;
}

void qcn_vm_state_revert(struct qcn_vm_state *st, size_t snapshot)
{
    while (st->njournal > snapshot) {
        const struct jent *e = &st->journal[--st->njournal];
        switch (e->kind) {
        case J_ACCT: {
            struct qcn_vm_account *a = st->accts[e->idx];
            a->flags = e->flags;
            a->nonce = e->nonce;
            a->balance = e->val;
            a->code = e->code;
            memcpy(a->code_hash, e->code_hash, QCN_VM_HASH_BYTES);
            break;
        }
        case J_SLOT:
            st->slots[e->idx].value = e->val;
            st->slots[e->idx].flags =
                (st->slots[e->idx].flags & SLOT_WARM) | (e->flags & SLOT_DIRTY);
            break;
        case J_SLOT_WARM:
            st->slots[e->idx].flags &= ~SLOT_WARM;
            break;
        case J_TSLOT:
            st->tslots[e->idx].value = e->val;
            break;
        case J_REFUND:
            st->refund = e->refund;
            break;
        case J_LOG:
            free_logs(st, e->idx);
            break;
        default:
            break;
        }
    }
}

static void clear_tx_sets(struct qcn_vm_state *st)
{
    const uint32_t tx_flags =
        QCN_VM_ACC_WARM | QCN_VM_ACC_TOUCHED | QCN_VM_ACC_DESTRUCTED | QCN_VM_ACC_CREATED;
    for (uint32_t i = 0; i < st->nacct; i++)
        st->accts[i]->flags &= ~tx_flags;
    for (uint32_t i = 0; i < st->nslot; i++) {
        st->slots[i].flags &= ~SLOT_WARM;
        st->slots[i].original = st->slots[i].value;
    }
    st->ntslot = 0;
    memset(st->tidx.tab, 0, (st->tidx.mask + 1) * sizeof *st->tidx.tab);
    st->njournal = 0;
    st->refund = 0;
}

void qcn_vm_state_begin_tx(struct qcn_vm_state *st)
{
    free_logs(st, 0);
    clear_tx_sets(st);
    st->err = QCN_OK;
}

void qcn_vm_state_finalize_tx(struct qcn_vm_state *st)
{
    for (uint32_t i = 0; i < st->nacct; i++) {
        struct qcn_vm_account *a = st->accts[i];
        int destroy = 0;
        /* EIP-6780: SELFDESTRUCT deletes only an account created in the
         * same transaction (the flag is only set then). */
        if (a->flags & QCN_VM_ACC_DESTRUCTED)
            destroy = 1;
        /* EIP-161 (d): touched accounts left empty are deleted. */
        if ((a->flags & QCN_VM_ACC_TOUCHED) && (a->flags & QCN_VM_ACC_EXISTS) &&
            qcn_vm_account_is_empty(a))
            destroy = 1;
        if (!destroy)
            continue;
        a->flags = (a->flags & ~(QCN_VM_ACC_EXISTS | QCN_VM_ACC_HAS_STORAGE)) | QCN_VM_ACC_DIRTY |
                   QCN_VM_ACC_WIPED;
        a->nonce = 0;
        a->balance = qcn_u256_from_u64(0);
        a->code = &st->empty_code;
        memcpy(a->code_hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES);
        for (uint32_t j = 0; j < st->nslot; j++) {
            if (st->slots[j].acct == i) {
                st->slots[j].value = qcn_u256_from_u64(0);
                st->slots[j].flags &= ~SLOT_DIRTY;
            }
        }
    }
    clear_tx_sets(st);
}

static int walk(const struct qcn_vm_state *st, const struct qcn_vm_change_visitor *v, int dirty)
{
    uint32_t *order = NULL, *start = NULL;
    int rc = 0;

    /* Group slots by account with a counting sort. */
    start = calloc((size_t)st->nacct + 1, sizeof *start);
    order = malloc(((size_t)st->nslot + 1) * sizeof *order);
    if (start == NULL || order == NULL) {
        rc = QCN_ERR_NOMEM;
        goto out;
    }
    for (uint32_t j = 0; j < st->nslot; j++)
        start[st->slots[j].acct + 1]++;
    for (uint32_t i = 0; i < st->nacct; i++)
        start[i + 1] += start[i];
    {
        uint32_t *fill = calloc((size_t)st->nacct + 1, sizeof *fill);
        if (fill == NULL) {
            rc = QCN_ERR_NOMEM;
            goto out;
        }
        for (uint32_t j = 0; j < st->nslot; j++) {
            uint32_t acc = st->slots[j].acct;
            order[start[acc] + fill[acc]++] = j;
        }
        free(fill);
    }
    for (uint32_t i = 0; i < st->nacct; i++) {
        const struct qcn_vm_account *a = st->accts[i];
        int exists = (a->flags & QCN_VM_ACC_EXISTS) != 0;
        if (dirty ? !(a->flags & QCN_VM_ACC_DIRTY) : !exists)
            continue;
        if (v->account != NULL && (rc = v->account(v->ctx, a, !exists)) != 0)
            goto out;
        if (!exists)
            continue;
        for (uint32_t k = start[i]; k < start[i + 1]; k++) {
            const struct slot *s = &st->slots[order[k]];
            uint8_t key[QCN_U256_BYTES], val[QCN_U256_BYTES];
            if (dirty ? !(s->flags & SLOT_DIRTY) : qcn_u256_is_zero(&s->value))
                continue;
            qcn_u256_to_be32(key, &s->key);
            qcn_u256_to_be32(val, &s->value);
            if (v->slot != NULL && (rc = v->slot(v->ctx, a, key, val)) != 0)
                goto out;
        }
        if (v->account_done != NULL && (rc = v->account_done(v->ctx, a)) != 0)
            goto out;
    }
out:
    free(start);
    free(order);
    return rc;
}

int qcn_vm_state_walk_changes(const struct qcn_vm_state *st, const struct qcn_vm_change_visitor *v)
{
    return walk(st, v, 1);
}

int qcn_vm_state_walk_all(const struct qcn_vm_state *st, const struct qcn_vm_change_visitor *v)
{
    return walk(st, v, 0);
}

void qcn_vm_state_clear_dirty(struct qcn_vm_state *st)
{
    for (uint32_t i = 0; i < st->nacct; i++)
        st->accts[i]->flags &= ~(QCN_VM_ACC_DIRTY | QCN_VM_ACC_WIPED);
    for (uint32_t j = 0; j < st->nslot; j++)
        st->slots[j].flags &= ~SLOT_DIRTY;
}
