/* statedb.c - world state over the Merkle-Patricia trie with a flat cache.
 *
 * Every address touched since the last finalize has an entry holding its
 * finalized ("orig") and current ("cur") account, key record and storage
 * slots. Changes are journaled so a failed transaction can be undone. Commit
 * walks the dirty entries only: storage tries first (they set the accounts'
 * storage roots), then the account trie, whose new nodes go into the write
 * set together with the flat rows. Reads of untouched addresses go to the
 * store's flat tables, never to the trie, which is why a transfer costs two
 * flat lookups and the trie work is done once per block. */
#include "state/statedb.h"

#include <stdlib.h>
#include <string.h>

#include "codec/keyrec.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "state/mpt.h"
#include "state/statedb_hmap.h"

/* Clean cache entries kept after a finalize before the cache is emptied (and
 * the trie's clean nodes with it). An entry is ~400 bytes, so this bounds the
 * cache near 100 MB; the flat tables refill it. */
#define CACHE_MAX_ENTRIES (1u << 18)
#define STORAGE_KEY_BYTES (QCN_ADDRESS_BYTES + 32)

struct slot {
    uint8_t key[32];
    uint8_t orig[32];
    uint8_t cur[32];
};

struct entry {
    uint8_t addr[QCN_ADDRESS_BYTES];
    int orig_exists, exists;
    struct qcn_account orig, cur;
    int key_loaded;
    int key_orig_exists, key_exists;
    uint8_t *key_orig, *key_cur; /* owned record bytes (NULL when absent) */
    size_t key_orig_len, key_cur_len;
    uint8_t key_orig_hash[QCN_HASH_BYTES], key_hash[QCN_HASH_BYTES];
    struct qcn_hmap *storage; /* slot -> struct slot, lazily created */
    int dirty;
};

enum { J_ACCOUNT, J_KEY, J_SLOT };

struct jrec {
    int kind;
    struct entry *e;
    struct qcn_account acct;
    int exists;
    uint8_t *key; /* J_KEY: the previous record, owned by the journal */
    size_t key_len;
    uint8_t key_hash[QCN_HASH_BYTES];
    struct slot *s;
    uint8_t val[32];
};

struct code {
    uint8_t hash[QCN_HASH_BYTES];
    size_t len;
    uint8_t *bytes;
};

struct qcn_statedb {
    const struct qcn_state_reader *rd;
    struct qcn_mpt_nodestore ns;
    struct qcn_mpt *trie;
    uint8_t root[QCN_HASH_BYTES];           /* last commit */
    uint8_t finalized_root[QCN_HASH_BYTES]; /* last finalize */
    struct qcn_hmap cache;                  /* address -> struct entry */
    struct entry **dirty;
    size_t ndirty, capdirty;
    struct jrec *j;
    size_t nj, capj;
    struct code *codes; /* new code since the last finalize */
    size_t ncodes;
    struct qcn_writeset *ws; /* set during commit: where node puts go */
    uint64_t gen;            /* the generation new trie nodes are filed under */
    struct qcn_buf tmp;
};

/* The node store is a located one (mpt.h): TRIE rows are keyed by
 * BE64(generation) || node hash, where the generation is the height of the
 * block whose commit wrote the node (qcn_statedb_set_gen), so one block's new
 * nodes are adjacent keys at the end of the table instead of scattered over
 * it by their hashes (docs/storage.md). TRIEROOT maps each committed root's
 * hash to its generation, for opening a trie at a root. */
static int ns_get_at(void *ctx, uint64_t *loc, const uint8_t hash[QCN_MPT_HASH_BYTES],
                     struct qcn_buf *out)
{
    struct qcn_statedb *db = ctx;
    uint8_t key[8 + QCN_HASH_BYTES];
    int err;

    if (*loc == QCN_MPT_LOC_ANY) {
        err = db->rd->get(db->rd->ctx, QCN_TABLE_TRIEROOT, hash, QCN_HASH_BYTES, &db->tmp);
        if (err != QCN_OK)
            return err;
        if (db->tmp.len != 8)
            return QCN_ERR_STORE_CORRUPT;
        *loc = qcn_load_be64(db->tmp.p);
        if (*loc == QCN_MPT_LOC_ANY)
            return QCN_ERR_STORE_CORRUPT;
    }
    qcn_store_be64(key, *loc);
    memcpy(key + 8, hash, QCN_HASH_BYTES);
    err = db->rd->get(db->rd->ctx, QCN_TABLE_TRIE, key, sizeof key, &db->tmp);
    if (err == QCN_OK)
        err = qcn_buf_append(out, db->tmp.p, db->tmp.len);
    return err;
}

static int ns_put_at(void *ctx, uint64_t *loc, const uint8_t hash[QCN_MPT_HASH_BYTES],
                     const uint8_t *rec, size_t len, int is_root)
{
    struct qcn_statedb *db = ctx;
    uint8_t key[8 + QCN_HASH_BYTES];
    int err;

    if (db->ws == NULL)
        return QCN_ERR_INTERNAL;
    qcn_store_be64(key, db->gen);
    memcpy(key + 8, hash, QCN_HASH_BYTES);
    err = qcn_writeset_put(db->ws, QCN_TABLE_TRIE, key, sizeof key, rec, len);
    if (err == QCN_OK && is_root)
        err = qcn_writeset_put(db->ws, QCN_TABLE_TRIEROOT, hash, QCN_HASH_BYTES, key, 8);
    if (err == QCN_OK)
        *loc = db->gen;
    return err;
}

void qcn_statedb_set_gen(struct qcn_statedb *db, uint64_t gen)
{
    db->gen = gen < QCN_MPT_LOC_ANY ? gen : QCN_MPT_LOC_ANY - 1;
}

int qcn_statedb_new(struct qcn_statedb **out, const struct qcn_state_reader *rd,
                    const uint8_t root[QCN_HASH_BYTES])
{
    struct qcn_statedb *db;
    int err;

    *out = NULL;
    db = calloc(1, sizeof *db);
    if (db == NULL)
        return QCN_ERR_NOMEM;
    db->rd = rd;
    db->ns.ctx = db;
    db->ns.get_at = ns_get_at;
    db->ns.put_at = ns_put_at;
    qcn_buf_init(&db->tmp, QCN_MPT_MAX_NODE_BYTES);
    memcpy(db->root, root, QCN_HASH_BYTES);
    memcpy(db->finalized_root, root, QCN_HASH_BYTES);
    err = qcn_hmap_init(&db->cache, QCN_ADDRESS_BYTES);
    if (err == QCN_OK)
        err = qcn_mpt_open(&db->trie, &db->ns, root);
    if (err != QCN_OK) {
        qcn_statedb_free(db);
        return err;
    }
    *out = db;
    return QCN_OK;
}

static int free_slot(void *ctx, const uint8_t *key, void *val)
{
    (void)ctx;
    (void)key;
    free(val);
    return 0;
}

static void entry_free(struct entry *e)
{
    if (e->key_cur != e->key_orig)
        free(e->key_cur);
    free(e->key_orig);
    if (e->storage != NULL) {
        qcn_hmap_foreach(e->storage, free_slot, NULL);
        qcn_hmap_clear(e->storage);
        free(e->storage);
    }
    free(e);
}

static int free_entry_cb(void *ctx, const uint8_t *key, void *val)
{
    (void)ctx;
    (void)key;
    entry_free(val);
    return 0;
}

static void journal_drop(struct qcn_statedb *db)
{
    size_t i;
    for (i = 0; i < db->nj; i++)
        free(db->j[i].key);
    db->nj = 0;
}

static void codes_drop(struct qcn_statedb *db)
{
    size_t i;
    for (i = 0; i < db->ncodes; i++)
        free(db->codes[i].bytes);
    free(db->codes);
    db->codes = NULL;
    db->ncodes = 0;
}

static void cache_drop(struct qcn_statedb *db)
{
    qcn_hmap_foreach(&db->cache, free_entry_cb, NULL);
    qcn_hmap_clear(&db->cache);
}

void qcn_statedb_free(struct qcn_statedb *db)
{
    if (db == NULL)
        return;
    journal_drop(db);
    free(db->j);
    codes_drop(db);
    if (db->cache.b != NULL)
        cache_drop(db);
    free(db->dirty);
    qcn_mpt_free(db->trie);
    qcn_buf_clear(&db->tmp);
    free(db);
}

void qcn_statedb_root(const struct qcn_statedb *db, uint8_t root[QCN_HASH_BYTES])
{
    memcpy(root, db->root, QCN_HASH_BYTES);
}

static int get_entry(struct qcn_statedb *db, struct entry **out, const uint8_t *addr)
{
    struct entry *e = qcn_hmap_get(&db->cache, addr);
    int err;

    if (e != NULL) {
        *out = e;
        return QCN_OK;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return QCN_ERR_NOMEM;
    memcpy(e->addr, addr, QCN_ADDRESS_BYTES);
    err = db->rd->get(db->rd->ctx, QCN_TABLE_ACCOUNT, addr, QCN_ADDRESS_BYTES, &db->tmp);
    if (err == QCN_OK) {
        err = qcn_account_decode(&e->orig, qcn_buf_view(&db->tmp));
        if (err != QCN_OK)
            err = QCN_ERR_STORE_CORRUPT;
        e->orig_exists = 1;
    } else if (err == QCN_ERR_NOT_FOUND) {
        qcn_account_init(&e->orig);
        err = QCN_OK;
    }
    if (err == QCN_OK)
        err = qcn_hmap_put(&db->cache, addr, e);
    if (err != QCN_OK) {
        free(e);
        return err;
    }
    e->cur = e->orig;
    e->exists = e->orig_exists;
    *out = e;
    return QCN_OK;
}

static int mark_dirty(struct qcn_statedb *db, struct entry *e)
{
    if (e->dirty)
        return QCN_OK;
    if (db->ndirty == db->capdirty) {
        size_t n = db->capdirty ? db->capdirty * 2 : 256;
        struct entry **d = realloc(db->dirty, n * sizeof *d);
        if (d == NULL)
            return QCN_ERR_NOMEM;
        db->dirty = d;
        db->capdirty = n;
    }
    db->dirty[db->ndirty++] = e;
    e->dirty = 1;
    return QCN_OK;
}

static struct jrec *journal_add(struct qcn_statedb *db, int kind, struct entry *e)
{
    struct jrec *r;
    if (db->nj == db->capj) {
        size_t n = db->capj ? db->capj * 2 : 1024;
        struct jrec *j = realloc(db->j, n * sizeof *j);
        if (j == NULL)
            return NULL;
        db->j = j;
        db->capj = n;
    }
    r = &db->j[db->nj++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->e = e;
    return r;
}

int qcn_statedb_account_get(struct qcn_statedb *db, struct qcn_account *out, int *exists,
                            const uint8_t addr[QCN_ADDRESS_BYTES])
{
    struct entry *e;
    int err = get_entry(db, &e, addr);
    if (err != QCN_OK) {
        qcn_account_init(out);
        *exists = 0;
        return err;
    }
    *out = e->cur;
    *exists = e->exists;
    return QCN_OK;
}

int qcn_statedb_account_put(struct qcn_statedb *db, const uint8_t addr[QCN_ADDRESS_BYTES],
                            const struct qcn_account *a)
{
    struct entry *e;
    struct jrec *r;
    int err = get_entry(db, &e, addr);
    if (err != QCN_OK)
        return err;
    if ((err = mark_dirty(db, e)) != QCN_OK)
        return err;
    r = journal_add(db, J_ACCOUNT, e);
    if (r == NULL)
        return QCN_ERR_NOMEM;
    r->acct = e->cur;
    r->exists = e->exists;
    e->cur = *a;
    e->exists = 1;
    return QCN_OK;
}

static int load_key(struct qcn_statedb *db, struct entry *e)
{
    uint8_t h[QCN_HASH_BYTES];
    int err;
    if (e->key_loaded)
        return QCN_OK;
    err = db->rd->get(db->rd->ctx, QCN_TABLE_ACCKEY, e->addr, QCN_ADDRESS_BYTES, &db->tmp);
    if (err == QCN_OK) {
        if (db->tmp.len != QCN_HASH_BYTES)
            return QCN_ERR_STORE_CORRUPT;
        memcpy(h, db->tmp.p, QCN_HASH_BYTES);
        err = db->rd->get(db->rd->ctx, QCN_TABLE_KEYREC, h, QCN_HASH_BYTES, &db->tmp);
        if (err == QCN_ERR_NOT_FOUND)
            return QCN_ERR_STORE_CORRUPT;
        if (err != QCN_OK)
            return err;
        if (db->tmp.len == 0 || db->tmp.len > QCN_KEYREC_MAX_BYTES)
            return QCN_ERR_STORE_CORRUPT;
        e->key_orig = malloc(db->tmp.len);
        if (e->key_orig == NULL)
            return QCN_ERR_NOMEM;
        memcpy(e->key_orig, db->tmp.p, db->tmp.len);
        e->key_orig_len = db->tmp.len;
        e->key_orig_exists = 1;
        qcn_keyrec_hash(e->key_orig_hash, e->key_orig, e->key_orig_len);
        if (memcmp(e->key_orig_hash, h, QCN_HASH_BYTES) != 0) {
            free(e->key_orig);
            e->key_orig = NULL;
            return QCN_ERR_STORE_CORRUPT;
        }
    } else if (err != QCN_ERR_NOT_FOUND) {
        return err;
    }
    e->key_cur = e->key_orig;
    e->key_cur_len = e->key_orig_len;
    e->key_exists = e->key_orig_exists;
    memcpy(e->key_hash, e->key_orig_hash, QCN_HASH_BYTES);
    e->key_loaded = 1;
    return QCN_OK;
}

int qcn_statedb_key_get(struct qcn_statedb *db, uint8_t key_hash[QCN_HASH_BYTES],
                        struct qcn_buf *rec, const uint8_t addr[QCN_ADDRESS_BYTES])
{
    struct entry *e;
    int err;

    memset(key_hash, 0, QCN_HASH_BYTES);
    if (rec != NULL)
        qcn_buf_reset(rec);
    if ((err = get_entry(db, &e, addr)) != QCN_OK || (err = load_key(db, e)) != QCN_OK)
        return err;
    if (!e->key_exists)
        return QCN_ERR_NOT_FOUND;
    memcpy(key_hash, e->key_hash, QCN_HASH_BYTES);
    if (rec != NULL)
        return qcn_buf_append(rec, e->key_cur, e->key_cur_len);
    return QCN_OK;
}

int qcn_statedb_key_set(struct qcn_statedb *db, const uint8_t addr[QCN_ADDRESS_BYTES],
                        const uint8_t *rec, size_t len)
{
    struct entry *e;
    struct jrec *r;
    uint8_t *copy;
    int err;

    if (len == 0 || len > QCN_KEYREC_MAX_BYTES)
        return QCN_ERR_INVALID_ARG;
    if ((err = get_entry(db, &e, addr)) != QCN_OK || (err = load_key(db, e)) != QCN_OK ||
        (err = mark_dirty(db, e)) != QCN_OK)
        return err;
    copy = malloc(len);
    if (copy == NULL)
        return QCN_ERR_NOMEM;
    memcpy(copy, rec, len);
    r = journal_add(db, J_KEY, e);
    if (r == NULL) {
        free(copy);
        return QCN_ERR_NOMEM;
    }
    /* The journal takes the previous record unless it is the finalized one,
     * which the entry keeps owning. */
    r->key = e->key_cur != e->key_orig ? e->key_cur : NULL;
    r->key_len = e->key_cur_len;
    r->exists = e->key_exists;
    memcpy(r->key_hash, e->key_hash, QCN_HASH_BYTES);
    e->key_cur = copy;
    e->key_cur_len = len;
    e->key_exists = 1;
    qcn_keyrec_hash(e->key_hash, copy, len);
    return QCN_OK;
}

static int get_slot(struct qcn_statedb *db, struct slot **out, struct entry *e,
                    const uint8_t key[32])
{
    struct slot *s;
    uint8_t k[STORAGE_KEY_BYTES];
    int err;

    if (e->storage == NULL) {
        e->storage = malloc(sizeof *e->storage);
        if (e->storage == NULL)
            return QCN_ERR_NOMEM;
        if ((err = qcn_hmap_init(e->storage, 32)) != QCN_OK) {
            free(e->storage);
            e->storage = NULL;
            return err;
        }
    }
    s = qcn_hmap_get(e->storage, key);
    if (s != NULL) {
        *out = s;
        return QCN_OK;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return QCN_ERR_NOMEM;
    memcpy(s->key, key, 32);
    if (e->orig_exists) {
        memcpy(k, e->addr, QCN_ADDRESS_BYTES);
        memcpy(k + QCN_ADDRESS_BYTES, key, 32);
        err = db->rd->get(db->rd->ctx, QCN_TABLE_STORAGE, k, sizeof k, &db->tmp);
        if (err == QCN_OK) {
            if (db->tmp.len > 32) {
                free(s);
                return QCN_ERR_STORE_CORRUPT;
            }
            memcpy(s->orig + 32 - db->tmp.len, db->tmp.p, db->tmp.len);
        } else if (err != QCN_ERR_NOT_FOUND) {
            free(s);
            return err;
        }
    }
    memcpy(s->cur, s->orig, 32);
    if ((err = qcn_hmap_put(e->storage, key, s)) != QCN_OK) {
        free(s);
        return err;
    }
    *out = s;
    return QCN_OK;
}

int qcn_statedb_storage_get(struct qcn_statedb *db, uint8_t val[32],
                            const uint8_t addr[QCN_ADDRESS_BYTES], const uint8_t slot[32])
{
    struct entry *e;
    struct slot *s;
    int err;
    memset(val, 0, 32);
    if ((err = get_entry(db, &e, addr)) != QCN_OK || (err = get_slot(db, &s, e, slot)) != QCN_OK)
        return err;
    memcpy(val, s->cur, 32);
    return QCN_OK;
}

int qcn_statedb_storage_set(struct qcn_statedb *db, const uint8_t addr[QCN_ADDRESS_BYTES],
                            const uint8_t slot[32], const uint8_t val[32])
{
    struct entry *e;
    struct slot *s;
    struct jrec *r;
    int err;
    if ((err = get_entry(db, &e, addr)) != QCN_OK || (err = get_slot(db, &s, e, slot)) != QCN_OK ||
        (err = mark_dirty(db, e)) != QCN_OK)
        return err;
    r = journal_add(db, J_SLOT, e);
    if (r == NULL)
        return QCN_ERR_NOMEM;
    r->s = s;
    memcpy(r->val, s->cur, 32);
    memcpy(s->cur, val, 32);
    return QCN_OK;
}

int qcn_statedb_code_get(struct qcn_statedb *db, struct qcn_buf *out,
                         const uint8_t code_hash[QCN_HASH_BYTES])
{
    size_t i;
    qcn_buf_reset(out);
    if (memcmp(code_hash, qcn_empty_code_hash, QCN_HASH_BYTES) == 0)
        return QCN_OK;
    for (i = 0; i < db->ncodes; i++) {
        if (memcmp(db->codes[i].hash, code_hash, QCN_HASH_BYTES) == 0)
            return qcn_buf_append(out, db->codes[i].bytes, db->codes[i].len);
    }
    return db->rd->get(db->rd->ctx, QCN_TABLE_CODE, code_hash, QCN_HASH_BYTES, out);
}

int qcn_statedb_code_put(struct qcn_statedb *db, const uint8_t *code, size_t len,
                         uint8_t code_hash[QCN_HASH_BYTES])
{
    struct code *c;
    qcn_keccak256(code_hash, code, len);
    if (len == 0)
        return QCN_OK;
    c = realloc(db->codes, (db->ncodes + 1) * sizeof *c);
    if (c == NULL)
        return QCN_ERR_NOMEM;
    db->codes = c;
    c = &db->codes[db->ncodes];
    c->bytes = malloc(len);
    if (c->bytes == NULL)
        return QCN_ERR_NOMEM;
    memcpy(c->bytes, code, len);
    memcpy(c->hash, code_hash, QCN_HASH_BYTES);
    c->len = len;
    db->ncodes++;
    return QCN_OK;
}

size_t qcn_statedb_snapshot(struct qcn_statedb *db)
{
    return db->nj;
}

void qcn_statedb_revert(struct qcn_statedb *db, size_t mark)
{
    while (db->nj > mark) {
        struct jrec *r = &db->j[--db->nj];
        struct entry *e = r->e;
        switch (r->kind) {
        case J_ACCOUNT:
            e->cur = r->acct;
            e->exists = r->exists;
            break;
        case J_KEY:
            if (e->key_cur != e->key_orig)
                free(e->key_cur);
            e->key_cur = r->key != NULL ? r->key : e->key_orig;
            e->key_cur_len = r->key != NULL ? r->key_len : e->key_orig_len;
            e->key_exists = r->exists;
            memcpy(e->key_hash, r->key_hash, QCN_HASH_BYTES);
            break;
        default:
            memcpy(r->s->cur, r->val, 32);
            break;
        }
    }
}

/* Removes an account from the trie: EIP-161 empty and no recorded key. */
static int deletable(const struct entry *e)
{
    return !e->exists || (qcn_account_is_empty(&e->cur) && !(e->key_loaded && e->key_exists));
}

/* Minimal big-endian bytes of a 32-byte word (RLP integer payload). */
static size_t strip(const uint8_t v[32], const uint8_t **p)
{
    size_t i = 0;
    while (i < 32 && v[i] == 0)
        i++;
    *p = v + i;
    return 32 - i;
}

struct storage_commit {
    struct qcn_statedb *db;
    struct entry *e;
    struct qcn_mpt *t;
    int err;
};

static int commit_slot(void *ctx, const uint8_t *key, void *val)
{
    struct storage_commit *sc = ctx;
    struct slot *s = val;
    uint8_t path[32], k[STORAGE_KEY_BYTES], enc[34];
    const uint8_t *p;
    size_t n;
    struct qcn_buf b;
    (void)key;

    if (memcmp(s->orig, s->cur, 32) == 0)
        return 0;
    qcn_keccak256(path, s->key, 32);
    memcpy(k, sc->e->addr, QCN_ADDRESS_BYTES);
    memcpy(k + QCN_ADDRESS_BYTES, s->key, 32);
    n = strip(s->cur, &p);
    if (n == 0) {
        sc->err = qcn_mpt_delete(sc->t, path, sizeof path);
        if (sc->err == QCN_OK)
            sc->err = qcn_writeset_del(sc->db->ws, QCN_TABLE_STORAGE, k, sizeof k);
        return sc->err != QCN_OK;
    }
    /* Ethereum stores RLP(value) in the storage trie. */
    b.p = enc;
    b.len = 0;
    b.cap = sizeof enc;
    b.max = sizeof enc;
    sc->err = qcn_rlp_put_bytes(&b, p, n);
    if (sc->err == QCN_OK)
        sc->err = qcn_mpt_put(sc->t, path, sizeof path, b.p, b.len);
    if (sc->err == QCN_OK)
        sc->err = qcn_writeset_put(sc->db->ws, QCN_TABLE_STORAGE, k, sizeof k, p, n);
    return sc->err != QCN_OK;
}

static int commit_storage(struct qcn_statedb *db, struct entry *e)
{
    struct storage_commit sc = {db, e, NULL, QCN_OK};
    uint8_t root[QCN_HASH_BYTES];
    int err;

    if (e->storage == NULL || e->storage->n == 0)
        return QCN_OK;
    err = qcn_mpt_open(&sc.t, &db->ns, e->cur.storage_root);
    if (err != QCN_OK)
        return err;
    qcn_hmap_foreach(e->storage, commit_slot, &sc);
    err = sc.err;
    if (err == QCN_OK && qcn_mpt_dirty(sc.t)) {
        err = qcn_mpt_commit(sc.t, root);
        if (err == QCN_OK)
            memcpy(e->cur.storage_root, root, QCN_HASH_BYTES);
    }
    qcn_mpt_free(sc.t);
    return err;
}

static int commit_entry(struct qcn_statedb *db, struct entry *e, struct qcn_buf *b)
{
    uint8_t path[QCN_HASH_BYTES], enc[40];
    int err, changed;
    size_t n;

    if ((err = commit_storage(db, e)) != QCN_OK)
        return err;
    changed = e->exists != e->orig_exists || memcmp(&e->cur, &e->orig, sizeof e->cur) != 0;
    /* Whether an empty account may leave the trie depends on its key record. */
    if (changed && qcn_account_is_empty(&e->cur) && (err = load_key(db, e)) != QCN_OK)
        return err;
    if (changed) {
        qcn_account_path(path, e->addr);
        if (deletable(e)) {
            err = qcn_mpt_delete(db->trie, path, sizeof path);
            if (err == QCN_OK && e->orig_exists)
                err = qcn_writeset_del(db->ws, QCN_TABLE_ACCOUNT, e->addr, QCN_ADDRESS_BYTES);
        } else {
            qcn_buf_reset(b);
            err = qcn_account_encode(b, &e->cur);
            if (err == QCN_OK)
                err = qcn_mpt_put(db->trie, path, sizeof path, b->p, b->len);
            if (err == QCN_OK)
                err = qcn_writeset_put(db->ws, QCN_TABLE_ACCOUNT, e->addr, QCN_ADDRESS_BYTES, b->p,
                                       b->len);
        }
        if (err != QCN_OK)
            return err;
    }
    if (e->key_loaded && e->key_exists &&
        (!e->key_orig_exists || memcmp(e->key_hash, e->key_orig_hash, QCN_HASH_BYTES) != 0)) {
        qcn_account_key_path(path, e->addr);
        enc[0] = 0x80 + QCN_HASH_BYTES; /* RLP string header of a 32-byte hash */
        memcpy(enc + 1, e->key_hash, QCN_HASH_BYTES);
        n = 1 + QCN_HASH_BYTES;
        err = qcn_mpt_put(db->trie, path, sizeof path, enc, n);
        if (err == QCN_OK)
            err = qcn_writeset_put(db->ws, QCN_TABLE_KEYREC, e->key_hash, QCN_HASH_BYTES,
                                   e->key_cur, e->key_cur_len);
        if (err == QCN_OK)
            err = qcn_writeset_put(db->ws, QCN_TABLE_ACCKEY, e->addr, QCN_ADDRESS_BYTES,
                                   e->key_hash, QCN_HASH_BYTES);
        if (err != QCN_OK)
            return err;
    }
    return QCN_OK;
}

int qcn_statedb_commit(struct qcn_statedb *db, uint8_t root[QCN_HASH_BYTES],
                       struct qcn_writeset *ws)
{
    struct qcn_buf b;
    size_t i;
    int err = QCN_OK;

    qcn_buf_init(&b, QCN_ACCOUNT_MAX_BYTES);
    db->ws = ws;
    for (i = 0; i < db->ndirty && err == QCN_OK; i++)
        err = commit_entry(db, db->dirty[i], &b);
    for (i = 0; i < db->ncodes && err == QCN_OK; i++)
        err = qcn_writeset_put(ws, QCN_TABLE_CODE, db->codes[i].hash, QCN_HASH_BYTES,
                               db->codes[i].bytes, db->codes[i].len);
    if (err == QCN_OK)
        err = qcn_mpt_commit(db->trie, db->root);
    db->ws = NULL;
    qcn_buf_clear(&b);
    journal_drop(db);
    if (err != QCN_OK) {
        memset(root, 0, QCN_HASH_BYTES);
        return err;
    }
    memcpy(root, db->root, QCN_HASH_BYTES);
    return QCN_OK;
}

static int finalize_slot(void *ctx, const uint8_t *key, void *val)
{
    struct slot *s = val;
    (void)ctx;
    (void)key;
    memcpy(s->orig, s->cur, 32);
    return 0;
}

void qcn_statedb_finalize(struct qcn_statedb *db)
{
    size_t i;
    for (i = 0; i < db->ndirty; i++) {
        struct entry *e = db->dirty[i];
        e->orig = e->cur;
        e->orig_exists = e->exists;
        if (e->key_loaded && e->key_cur != e->key_orig) {
            free(e->key_orig);
            e->key_orig = e->key_cur;
            e->key_orig_len = e->key_cur_len;
            e->key_orig_exists = e->key_exists;
            memcpy(e->key_orig_hash, e->key_hash, QCN_HASH_BYTES);
        }
        if (e->storage != NULL)
            qcn_hmap_foreach(e->storage, finalize_slot, NULL);
        e->dirty = 0;
    }
    db->ndirty = 0;
    journal_drop(db);
    codes_drop(db);
    memcpy(db->finalized_root, db->root, QCN_HASH_BYTES);
    if (db->cache.n > CACHE_MAX_ENTRIES) {
        cache_drop(db);
        if (qcn_hmap_init(&db->cache, QCN_ADDRESS_BYTES) != QCN_OK)
            abort(); /* a 64-bucket allocation; nothing sensible to continue with */
        qcn_mpt_evict(db->trie);
    }
}

static int rollback_slot(void *ctx, const uint8_t *key, void *val)
{
    struct slot *s = val;
    (void)ctx;
    (void)key;
    memcpy(s->cur, s->orig, 32);
    return 0;
}

void qcn_statedb_rollback(struct qcn_statedb *db)
{
    size_t i;
    struct qcn_mpt *t;

    qcn_statedb_revert(db, 0);
    for (i = 0; i < db->ndirty; i++) {
        struct entry *e = db->dirty[i];
        e->cur = e->orig;
        e->exists = e->orig_exists;
        if (e->key_loaded && e->key_cur != e->key_orig) {
            free(e->key_cur);
            e->key_cur = e->key_orig;
            e->key_cur_len = e->key_orig_len;
            e->key_exists = e->key_orig_exists;
            memcpy(e->key_hash, e->key_orig_hash, QCN_HASH_BYTES);
        }
        if (e->storage != NULL)
            qcn_hmap_foreach(e->storage, rollback_slot, NULL);
        e->dirty = 0;
    }
    db->ndirty = 0;
    codes_drop(db);
    memcpy(db->root, db->finalized_root, QCN_HASH_BYTES);
    /* The trie may sit at an uncommitted or a committed-but-unwritten root. */
    if (qcn_mpt_open(&t, &db->ns, db->finalized_root) == QCN_OK) {
        qcn_mpt_free(db->trie);
        db->trie = t;
    } else {
        qcn_mpt_discard(db->trie);
    }
}

int qcn_statedb_root_from_scratch(struct qcn_statedb *db, uint8_t root[QCN_HASH_BYTES],
                                  const uint8_t (*addrs)[QCN_ADDRESS_BYTES], size_t naddrs)
{
    struct qcn_mpt_kv *kv = NULL;
    uint8_t(*paths)[QCN_HASH_BYTES] = NULL;
    uint8_t(*vals)[QCN_ACCOUNT_MAX_BYTES] = NULL;
    struct qcn_buf b;
    size_t i, n = 0;
    int err = QCN_OK;

    memset(root, 0, QCN_HASH_BYTES);
    qcn_buf_init(&b, QCN_ACCOUNT_MAX_BYTES);
    kv = calloc(2 * naddrs + 1, sizeof *kv);
    paths = calloc(2 * naddrs + 1, sizeof *paths);
    vals = calloc(2 * naddrs + 1, sizeof *vals);
    if (kv == NULL || paths == NULL || vals == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < naddrs; i++) {
        struct entry *e;
        if ((err = get_entry(db, &e, addrs[i])) != QCN_OK || (err = load_key(db, e)) != QCN_OK)
            goto out;
        if (!deletable(e)) {
            qcn_buf_reset(&b);
            if ((err = qcn_account_encode(&b, &e->cur)) != QCN_OK)
                goto out;
            qcn_account_path(paths[n], e->addr);
            memcpy(vals[n], b.p, b.len);
            kv[n] = (struct qcn_mpt_kv){paths[n], QCN_HASH_BYTES, vals[n], b.len};
            n++;
        }
        if (e->key_exists) {
            qcn_account_key_path(paths[n], e->addr);
            vals[n][0] = 0x80 + QCN_HASH_BYTES;
            memcpy(vals[n] + 1, e->key_hash, QCN_HASH_BYTES);
            kv[n] = (struct qcn_mpt_kv){paths[n], QCN_HASH_BYTES, vals[n], 1 + QCN_HASH_BYTES};
            n++;
        }
    }
    err = qcn_mpt_root(root, kv, n);
out:
    free(kv);
    free(paths);
    free(vals);
    qcn_buf_clear(&b);
    return err;
}

static int settled(const struct qcn_statedb *db)
{
    return db->ndirty == 0 && db->nj == 0 && !qcn_mpt_dirty(db->trie) &&
           memcmp(db->root, db->finalized_root, QCN_HASH_BYTES) == 0;
}

int qcn_statedb_prove_key(struct qcn_statedb *db, struct qcn_mpt_proof *proof,
                          const uint8_t addr[QCN_ADDRESS_BYTES])
{
    uint8_t path[QCN_HASH_BYTES];
    if (!settled(db))
        return QCN_ERR_STATE;
    qcn_account_key_path(path, addr);
    return qcn_mpt_prove(db->trie, proof, path, sizeof path);
}

int qcn_statedb_prove(struct qcn_statedb *db, struct qcn_mpt_proof *account_proof,
                      const uint8_t addr[QCN_ADDRESS_BYTES], const uint8_t (*slots)[32],
                      size_t nslots, struct qcn_mpt_proof *storage_proofs)
{
    struct qcn_account a;
    struct qcn_mpt *st = NULL;
    uint8_t path[QCN_HASH_BYTES];
    size_t i;
    int err, exists;

    /* Proofs are over what the store holds: nothing may be in flight. */
    if (!settled(db))
        return QCN_ERR_STATE;
    qcn_account_path(path, addr);
    if ((err = qcn_mpt_prove(db->trie, account_proof, path, sizeof path)) != QCN_OK)
        return err;
    if (nslots == 0)
        return QCN_OK;
    if ((err = qcn_statedb_account_get(db, &a, &exists, addr)) != QCN_OK)
        return err;
    if ((err = qcn_mpt_open(&st, &db->ns, a.storage_root)) != QCN_OK)
        return err;
    for (i = 0; i < nslots && err == QCN_OK; i++) {
        qcn_keccak256(path, slots[i], 32);
        err = qcn_mpt_prove(st, &storage_proofs[i], path, sizeof path);
    }
    qcn_mpt_free(st);
    return err;
}
