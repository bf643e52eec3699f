/* mpt.c - the incremental Merkle-Patricia trie over a node store, its proofs,
 * and the node decoder they share (Yellow Paper, Appendix D).
 *
 * In memory the trie is a tree of struct node. A node not loaded yet is a
 * K_HASH stub holding its hash; traversals resolve stubs through the store,
 * re-hashing what the store returns (the store is outside input). Every node
 * caches its reference (its own RLP if shorter than 32 bytes, else its hash);
 * a change clears the cached references on the path from the root and marks
 * those nodes dirty. Commit re-encodes dirty nodes bottom-up and writes the
 * hash-referenced ones. Deletion collapses branches left with one entry and
 * merges chained extensions/leaves, so the shape is always the canonical one
 * and roots equal the one-shot builder's (mpt_root.c). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "state/mpt.h"

const uint8_t QCN_MPT_EMPTY_ROOT[QCN_MPT_HASH_BYTES] = {
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21};

#define MAX_NIBBLES (2 * QCN_MPT_MAX_KEY_BYTES)
#define BRANCH_WIDTH 16
#define BRANCH_ITEMS 17
#define PAIR_ITEMS 2

enum kind { K_EMPTY = 0, K_LEAF, K_EXT, K_BRANCH, K_HASH };

/* How a node is referenced, which decides what shapes are canonical there. */
enum ref_flags {
    AT_ROOT = 1,   /* the root: hashed even when shorter than 32 bytes */
    UNDER_EXT = 2, /* an extension's child: must be a branch */
};

struct node {
    uint8_t kind;
    uint8_t dirty;   /* created or changed since the last commit */
    uint8_t ref_len; /* 0: not computed; 1..31: ref is the node's RLP; 32: its hash */
    uint8_t ref[QCN_MPT_HASH_BYTES];
    uint64_t loc;                   /* located stores: where the node is (stubs, clean nodes) */
    uint32_t plen;                  /* path nibbles (leaf, extension) */
    uint32_t vlen;                  /* value bytes (leaf, branch) */
    struct node *kid[BRANCH_WIDTH]; /* branch children; an extension uses kid[0] */
    uint8_t data[];                 /* plen nibbles (one per byte), then the value */
};

struct qcn_mpt {
    struct qcn_mpt_nodestore store;
    struct node *root;                     /* NULL: the empty trie (or not loaded) */
    uint8_t root_hash[QCN_MPT_HASH_BYTES]; /* the last committed (or opened) root */
    int root_unloaded;                     /* root is NULL but stands for root_hash: load on use */
    int changed;                           /* uncommitted changes exist */
    size_t changes;                        /* puts and deletes since then (a size hint) */
    int poisoned;       /* a change failed half-way: only discard or free are safe */
    struct qcn_buf io;  /* bytes read from the store */
    struct qcn_buf enc; /* node encoding scratch */
    struct qcn_buf rec; /* located stores: the record written */
    int located;        /* the store has get_at/put_at */
};

/* ------------------------------------------------------------------------
 * Nibbles and hex-prefix encoding (Appendix C) */

static void key_to_nibbles(uint8_t *nib, const uint8_t *key, size_t key_len)
{
    size_t i;
    for (i = 0; i < key_len; i++) {
        nib[2 * i] = key[i] >> 4;
        nib[2 * i + 1] = key[i] & 0x0f;
    }
}

static size_t common_prefix(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t i, n = an < bn ? an : bn;
    for (i = 0; i < n && a[i] == b[i]; i++)
        ;
    return i;
}

/* ------------------------------------------------------------------------
 * Decoding one node from bytes we did not write (a store or a proof). */

struct pnode {
    int kind; /* K_EMPTY, K_LEAF, K_EXT or K_BRANCH */
    size_t plen;
    uint8_t path[MAX_NIBBLES];
    struct qcn_view val;
    struct qcn_rlp_item kid[BRANCH_WIDTH]; /* an extension's child is kid[0] */
};

/* A child reference: the empty string, a 32-byte hash, or an embedded node
 * whose whole RLP is shorter than 32 bytes (anything longer must be hashed). */
static int check_ref(const struct qcn_rlp_item *it)
{
    if (it->is_list)
        return it->raw.len < QCN_MPT_HASH_BYTES ? QCN_OK : QCN_ERR_STORE_CORRUPT;
    return it->payload.len == 0 || it->payload.len == QCN_MPT_HASH_BYTES ? QCN_OK
                                                                         : QCN_ERR_STORE_CORRUPT;
}

static int ref_is_empty(const struct qcn_rlp_item *it)
{
    return !it->is_list && it->payload.len == 0;
}

static int parse_hp(struct pnode *pn, const struct qcn_rlp_item *it, int *leaf)
{
    const uint8_t *p = it->payload.p;
    size_t len = it->payload.len, i;
    unsigned flag;

    if (it->is_list || len == 0)
        return QCN_ERR_STORE_CORRUPT;
    flag = p[0] >> 4;
    /* Flags 0/1: extension, even/odd; 2/3: leaf. An even path pads with a
     * zero nibble. */
    if (flag > 3 || (!(flag & 1) && (p[0] & 0x0f) != 0))
        return QCN_ERR_STORE_CORRUPT;
    if (len - 1 > MAX_NIBBLES / 2 || 2 * (len - 1) + (flag & 1) > MAX_NIBBLES)
        return QCN_ERR_STORE_CORRUPT;
    pn->plen = 0;
    if (flag & 1)
        pn->path[pn->plen++] = p[0] & 0x0f;
    for (i = 1; i < len; i++) {
        pn->path[pn->plen++] = p[i] >> 4;
        pn->path[pn->plen++] = p[i] & 0x0f;
    }
    *leaf = flag >= 2;
    return QCN_OK;
}

/* Decodes one node (children are checked as references, not descended into).
 * The empty string is accepted only if allow_empty (the empty root). Views in
 * pn point into raw. */
static int parse_node(struct pnode *pn, struct qcn_view raw, int allow_empty)
{
    struct qcn_rlp_item top, items[BRANCH_ITEMS];
    struct qcn_rlp_iter it;
    size_t count = 0, i, used;
    int err, leaf;

    pn->kind = K_EMPTY;
    pn->plen = 0;
    pn->val = qcn_view_make(NULL, 0);
    if (raw.len > QCN_MPT_MAX_NODE_BYTES || qcn_rlp_decode(&top, raw) != QCN_OK)
        return QCN_ERR_STORE_CORRUPT;
    if (!top.is_list)
        return allow_empty && top.payload.len == 0 ? QCN_OK : QCN_ERR_STORE_CORRUPT;
    qcn_rlp_iter_init(&it, &top);
    for (;;) {
        struct qcn_rlp_item x;
        err = qcn_rlp_iter_next(&it, &x);
        if (err == QCN_ERR_NOT_FOUND)
            break;
        if (err != QCN_OK || count == BRANCH_ITEMS)
            return QCN_ERR_STORE_CORRUPT;
        items[count++] = x;
    }
    if (count == PAIR_ITEMS) {
        err = parse_hp(pn, &items[0], &leaf);
        if (err != QCN_OK)
            return err;
        if (leaf) {
            /* An empty value is no entry: a leaf always holds one. */
            if (items[1].is_list || items[1].payload.len == 0 ||
                items[1].payload.len > QCN_MPT_MAX_VALUE_BYTES)
                return QCN_ERR_STORE_CORRUPT;
            pn->kind = K_LEAF;
            pn->val = items[1].payload;
            return QCN_OK;
        }
        if (pn->plen == 0 || check_ref(&items[1]) != QCN_OK || ref_is_empty(&items[1]))
            return QCN_ERR_STORE_CORRUPT;
        pn->kind = K_EXT;
        pn->kid[0] = items[1];
        return QCN_OK;
    }
    if (count != BRANCH_ITEMS)
        return QCN_ERR_STORE_CORRUPT;
    used = 0;
    for (i = 0; i < BRANCH_WIDTH; i++) {
        if (check_ref(&items[i]) != QCN_OK)
            return QCN_ERR_STORE_CORRUPT;
        pn->kid[i] = items[i];
        used += !ref_is_empty(&items[i]);
    }
    if (items[16].is_list || items[16].payload.len > QCN_MPT_MAX_VALUE_BYTES)
        return QCN_ERR_STORE_CORRUPT;
    pn->val = items[16].payload;
    /* A branch with fewer than two entries is never canonical: it would have
     * been collapsed into a leaf or an extension. */
    if (used + (pn->val.len > 0) < 2)
        return QCN_ERR_STORE_CORRUPT;
    pn->kind = K_BRANCH;
    return QCN_OK;
}

/* Checks an embedded child and, recursively, its embedded children. */
static int check_embedded(const struct qcn_rlp_item *it, int flags, int depth)
{
    struct pnode pn;
    size_t i;
    int err;

    if (!it->is_list)
        return QCN_OK; /* empty or a hash: nothing inside to check */
    /* Each level is at least 2 bytes shorter than its parent (< 32 bytes). */
    if (depth > QCN_MPT_HASH_BYTES)
        return QCN_ERR_STORE_CORRUPT;
    err = parse_node(&pn, it->raw, 0);
    if (err != QCN_OK)
        return err;
    if ((flags & UNDER_EXT) && pn.kind != K_BRANCH)
        return QCN_ERR_STORE_CORRUPT;
    if (pn.kind == K_EXT)
        return check_embedded(&pn.kid[0], UNDER_EXT, depth + 1);
    if (pn.kind == K_BRANCH) {
        for (i = 0; i < BRANCH_WIDTH; i++) {
            err = check_embedded(&pn.kid[i], 0, depth + 1);
            if (err != QCN_OK)
                return err;
        }
    }
    return QCN_OK;
}

int qcn_mpt_node_check(const uint8_t *node, size_t len, int allow_empty)
{
    struct qcn_rlp_item top;
    if (node == NULL && len > 0)
        return QCN_ERR_INVALID_ARG;
    if (qcn_rlp_decode(&top, qcn_view_make(node, len)) != QCN_OK)
        return QCN_ERR_STORE_CORRUPT;
    if (!top.is_list) {
        struct pnode pn;
        return parse_node(&pn, top.raw, allow_empty);
    }
    return check_embedded(&top, 0, 0);
}

/* ------------------------------------------------------------------------
 * In-memory nodes */

static uint8_t *node_path(struct node *n)
{
    return n->data;
}

static uint8_t *node_val(struct node *n)
{
    return n->data + n->plen;
}

/* A new dirty node. path2 is appended to path (for merges); value may be
 * NULL when vlen is 0. */
/* How many kid[] slots a node of this kind uses. */
static size_t kid_count(int kind)
{
    return kind == K_BRANCH ? BRANCH_WIDTH : kind == K_EXT ? 1 : 0;
}

static struct node *node_new(int kind, const uint8_t *path, size_t plen, const uint8_t *path2,
                             size_t plen2, const uint8_t *val, size_t vlen)
{
    struct node *n;
    size_t total = plen + plen2;

    if (total > MAX_NIBBLES || vlen > QCN_MPT_MAX_VALUE_BYTES)
        return NULL;
    n = calloc(1, sizeof *n + total + vlen);
    if (n == NULL)
        return NULL;
    n->kind = (uint8_t)kind;
    n->dirty = 1;
    n->plen = (uint32_t)total;
    n->vlen = (uint32_t)vlen;
    if (plen)
        memcpy(n->data, path, plen);
    if (plen2)
        memcpy(n->data + plen, path2, plen2);
    if (vlen)
        memcpy(n->data + total, val, vlen);
    return n;
}

static struct node *stub_new(const uint8_t hash[QCN_MPT_HASH_BYTES], uint64_t loc)
{
    struct node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->kind = K_HASH;
    n->loc = loc;
    n->ref_len = QCN_MPT_HASH_BYTES;
    memcpy(n->ref, hash, QCN_MPT_HASH_BYTES);
    return n;
}

static void node_free(struct node *n)
{
    size_t i;
    if (n == NULL)
        return;
    if (n->kind == K_BRANCH) {
        for (i = 0; i < BRANCH_WIDTH; i++)
            node_free(n->kid[i]);
    } else if (n->kind == K_EXT) {
        node_free(n->kid[0]);
    }
    free(n);
}

static void mark(struct node *n)
{
    n->dirty = 1;
    n->ref_len = 0;
}

/* Builds the in-memory node for raw (and its embedded children). The result
 * is clean: it is in the store, or inside a parent that is. */
static int build_node(struct node **out, struct qcn_view raw, int flags, int depth)
{
    struct pnode pn;
    struct node *n = NULL;
    size_t i, nk;
    int err;

    *out = NULL;
    if (depth > QCN_MPT_HASH_BYTES)
        return QCN_ERR_STORE_CORRUPT;
    err = parse_node(&pn, raw, 0);
    if (err != QCN_OK)
        return err;
    if ((flags & UNDER_EXT) && pn.kind != K_BRANCH)
        return QCN_ERR_STORE_CORRUPT;
    n = node_new(pn.kind, pn.path, pn.plen, NULL, 0, pn.val.p, pn.val.len);
    if (n == NULL)
        return QCN_ERR_NOMEM;
    n->dirty = 0;
    nk = kid_count(pn.kind);
    for (i = 0; i < nk; i++) {
        const struct qcn_rlp_item *k = &pn.kid[i];
        int kflags = pn.kind == K_EXT ? UNDER_EXT : 0;
        if (ref_is_empty(k))
            continue;
        if (!k->is_list) {
            n->kid[i] = stub_new(k->payload.p, QCN_MPT_LOC_ANY);
            if (n->kid[i] == NULL) {
                err = QCN_ERR_NOMEM;
                goto out;
            }
        } else {
            err = build_node(&n->kid[i], k->raw, kflags, depth + 1);
            if (err != QCN_OK)
                goto out;
        }
    }
    if (raw.len < QCN_MPT_HASH_BYTES) {
        n->ref_len = (uint8_t)raw.len;
        memcpy(n->ref, raw.p, raw.len);
    }
out:
    if (err != QCN_OK) {
        node_free(n);
        return err;
    }
    *out = n;
    return QCN_OK;
}

/* Gives the hash-referenced children of n (a node just built from the
 * store: those are exactly its K_HASH stubs, as an embedded child is too
 * short to hold a hash) the locators of its record, in order. The count
 * must match exactly: a record that does not fit its node is corrupt. */
static int set_kid_locs(struct node *n, const uint8_t *locs, size_t nlocs)
{
    size_t i, j = 0, nk = kid_count(n->kind);
    for (i = 0; i < nk; i++) {
        if (n->kid[i] == NULL || n->kid[i]->kind != K_HASH)
            continue;
        if (j == nlocs)
            return QCN_ERR_STORE_CORRUPT;
        n->kid[i]->loc = qcn_load_be64(locs + 8 * j++);
    }
    return j == nlocs ? QCN_OK : QCN_ERR_STORE_CORRUPT;
}

/* Fetches, verifies and decodes the node stored under hash (at loc, for a
 * located store). */
static int load(struct qcn_mpt *t, struct node **out, const uint8_t hash[QCN_MPT_HASH_BYTES],
                uint64_t loc, int flags)
{
    uint8_t h[QCN_MPT_HASH_BYTES];
    struct qcn_view raw, locs = {NULL, 0};
    int err;

    *out = NULL;
    qcn_buf_reset(&t->io);
    err = t->located ? t->store.get_at(t->store.ctx, &loc, hash, &t->io)
                     : t->store.get(t->store.ctx, hash, &t->io);
    if (err == QCN_ERR_NOT_FOUND)
        return QCN_ERR_STATE_MISSING_NODE;
    if (err == QCN_ERR_TOO_LARGE)
        return QCN_ERR_STORE_CORRUPT;
    if (err != QCN_OK)
        return err;
    raw = qcn_buf_view(&t->io);
    if (t->located) {
        /* k || k x BE64 || RLP (mpt.h) */
        size_t k;
        if (raw.len < 1 || raw.p[0] > QCN_MPT_MAX_LOCS || raw.len < 1 + 8 * (size_t)raw.p[0])
            return QCN_ERR_STORE_CORRUPT;
        k = raw.p[0];
        locs = qcn_view_make(raw.p + 1, 8 * k);
        raw = qcn_view_make(raw.p + 1 + 8 * k, raw.len - 1 - 8 * k);
    }
    qcn_keccak256(h, raw.p, raw.len);
    if (memcmp(h, hash, sizeof h) != 0)
        return QCN_ERR_STORE_CORRUPT;
    /* Only the root may be referenced by hash while shorter than 32 bytes. */
    if (raw.len < QCN_MPT_HASH_BYTES && !(flags & AT_ROOT))
        return QCN_ERR_STORE_CORRUPT;
    err = build_node(out, raw, flags, 0);
    if (err == QCN_OK && t->located)
        err = set_kid_locs(*out, locs.p, locs.len / 8);
    if (err != QCN_OK) {
        node_free(*out);
        *out = NULL;
        return err;
    }
    (*out)->loc = loc;
    if (raw.len >= QCN_MPT_HASH_BYTES) {
        (*out)->ref_len = QCN_MPT_HASH_BYTES;
        memcpy((*out)->ref, hash, QCN_MPT_HASH_BYTES);
    }
    return QCN_OK;
}

/* Replaces a stub in *slot by the node it stands for. */
static int resolve(struct qcn_mpt *t, struct node **slot, int flags)
{
    struct node *n;
    int err;

    if (*slot == NULL || (*slot)->kind != K_HASH)
        return QCN_OK;
    err = load(t, &n, (*slot)->ref, (*slot)->loc, flags);
    if (err != QCN_OK)
        return err;
    free(*slot);
    *slot = n;
    return QCN_OK;
}

/* Loads the root after a discard or an eviction (which allocate nothing, so
 * they cannot fail). */
static int ensure_root(struct qcn_mpt *t)
{
    int err;
    if (!t->root_unloaded)
        return QCN_OK;
    err = load(t, &t->root, t->root_hash, QCN_MPT_LOC_ANY, AT_ROOT);
    if (err == QCN_OK)
        t->root_unloaded = 0;
    return err;
}

/* ------------------------------------------------------------------------
 * Opening, reading */

int qcn_mpt_open(struct qcn_mpt **out, const struct qcn_mpt_nodestore *store,
                 const uint8_t root[QCN_MPT_HASH_BYTES])
{
    struct qcn_mpt *t;
    int err = QCN_OK;

    *out = NULL;
    if (store == NULL || ((store->get == NULL || store->put == NULL) &&
                          (store->get_at == NULL || store->put_at == NULL)))
        return QCN_ERR_INVALID_ARG;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return QCN_ERR_NOMEM;
    t->store = *store;
    t->located = store->get_at != NULL && store->put_at != NULL;
    qcn_buf_init(&t->io, QCN_MPT_MAX_NODE_BYTES + 1 + 8 * QCN_MPT_MAX_LOCS);
    qcn_buf_init(&t->enc, QCN_MPT_MAX_NODE_BYTES);
    qcn_buf_init(&t->rec, QCN_MPT_MAX_NODE_BYTES + 1 + 8 * QCN_MPT_MAX_LOCS);
    memcpy(t->root_hash, root ? root : QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES);
    if (memcmp(t->root_hash, QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES) != 0)
        err = load(t, &t->root, t->root_hash, QCN_MPT_LOC_ANY, AT_ROOT);
    if (err != QCN_OK) {
        qcn_mpt_free(t);
        return err;
    }
    *out = t;
    return QCN_OK;
}

void qcn_mpt_free(struct qcn_mpt *t)
{
    if (t == NULL)
        return;
    node_free(t->root);
    qcn_buf_clear(&t->io);
    qcn_buf_clear(&t->enc);
    qcn_buf_clear(&t->rec);
    free(t);
}

static int check_key(const uint8_t *key, size_t key_len)
{
    if (key_len > QCN_MPT_MAX_KEY_BYTES || (key == NULL && key_len > 0))
        return QCN_ERR_INVALID_ARG;
    return QCN_OK;
}

/* Walks to the node holding the value for nib[0..klen), or to NULL. */
static int lookup(struct qcn_mpt *t, const uint8_t **val, size_t *vlen, const uint8_t *nib,
                  size_t klen)
{
    struct node **slot = &t->root, *n;
    size_t pos = 0;
    int flags = AT_ROOT, err;

    *val = NULL;
    *vlen = 0;
    err = ensure_root(t);
    if (err != QCN_OK)
        return err;
    for (;;) {
        err = resolve(t, slot, flags);
        if (err != QCN_OK)
            return err;
        n = *slot;
        if (n == NULL)
            return QCN_ERR_NOT_FOUND;
        switch (n->kind) {
        case K_LEAF:
            if (n->plen != klen - pos || memcmp(node_path(n), nib + pos, n->plen) != 0)
                return QCN_ERR_NOT_FOUND;
            *val = node_val(n);
            *vlen = n->vlen;
            return QCN_OK;
        case K_EXT:
            if (n->plen > klen - pos || memcmp(node_path(n), nib + pos, n->plen) != 0)
                return QCN_ERR_NOT_FOUND;
            pos += n->plen;
            slot = &n->kid[0];
            flags = UNDER_EXT;
            break;
        case K_BRANCH:
            if (pos == klen) {
                if (n->vlen == 0)
                    return QCN_ERR_NOT_FOUND;
                *val = node_val(n);
                *vlen = n->vlen;
                return QCN_OK;
            }
            slot = &n->kid[nib[pos++]];
            flags = 0;
            break;
        default:
            return QCN_ERR_INTERNAL;
        }
    }
}

int qcn_mpt_get(struct qcn_mpt *t, struct qcn_buf *value, const uint8_t *key, size_t key_len)
{
    uint8_t nib[MAX_NIBBLES];
    const uint8_t *v;
    size_t vlen;
    int err;

    qcn_buf_reset(value);
    err = check_key(key, key_len);
    if (err != QCN_OK)
        return err;
    key_to_nibbles(nib, key, key_len);
    err = lookup(t, &v, &vlen, nib, 2 * key_len);
    if (err == QCN_OK)
        err = qcn_buf_append(value, v, vlen);
    if (err != QCN_OK)
        qcn_buf_reset(value);
    return err;
}

/* ------------------------------------------------------------------------
 * Changes. Each function works on the subtree in *slot for the key nibbles
 * [pos, klen), sets *changed when it changed anything, and leaves the
 * subtree canonical. */

/* Replaces branch n by a copy with another value (values live inline). */
static struct node *branch_with_value(struct node *n, const uint8_t *val, size_t vlen)
{
    struct node *x = node_new(K_BRANCH, NULL, 0, NULL, 0, val, vlen);
    if (x == NULL)
        return NULL;
    memcpy(x->kid, n->kid, sizeof x->kid);
    free(n);
    return x;
}

/* The key (its nibbles key[0..rest)) and n, a leaf or an extension, part
 * at nibble m of n's path: a branch there, under an extension for the
 * shared part, holding n's remainder and a leaf for the rest of the key. At
 * most one of the two ends at the branch and puts its value there. Every
 * node is allocated before anything is linked, so running out of memory
 * leaves the trie as it was. Frees n on success. */
static int split(struct node **slot, struct node *n, size_t m, const uint8_t *key, size_t rest,
                 const uint8_t *val, size_t vlen)
{
    struct node *b, *old = NULL, *leaf = NULL, *ext = NULL;
    int old_ends = n->kind == K_LEAF && m == n->plen;
    size_t r = old_ends ? 0 : n->plen - m - 1;

    if (old_ends)
        b = node_new(K_BRANCH, NULL, 0, NULL, 0, node_val(n), n->vlen);
    else
        b = node_new(K_BRANCH, NULL, 0, NULL, 0, m == rest ? val : NULL, m == rest ? vlen : 0);
    if (b == NULL)
        goto nomem;
    if (!old_ends && (n->kind == K_LEAF || r > 0)) {
        old = n->kind == K_LEAF
                  ? node_new(K_LEAF, node_path(n) + m + 1, r, NULL, 0, node_val(n), n->vlen)
                  : node_new(K_EXT, node_path(n) + m + 1, r, NULL, 0, NULL, 0);
        if (old == NULL)
            goto nomem;
    }
    if (m < rest) {
        leaf = node_new(K_LEAF, key + m + 1, rest - m - 1, NULL, 0, val, vlen);
        if (leaf == NULL)
            goto nomem;
    }
    if (m > 0) {
        ext = node_new(K_EXT, key, m, NULL, 0, NULL, 0);
        if (ext == NULL)
            goto nomem;
    }
    if (!old_ends) {
        /* An extension's remainder keeps its child; an empty one is just it. */
        if (n->kind == K_EXT && old != NULL)
            old->kid[0] = n->kid[0];
        else if (n->kind == K_EXT)
            old = n->kid[0];
        b->kid[node_path(n)[m]] = old;
    }
    if (leaf != NULL)
        b->kid[key[m]] = leaf;
    if (ext != NULL)
        ext->kid[0] = b;
    free(n);
    *slot = ext != NULL ? ext : b;
    return QCN_OK;
nomem:
    free(b);
    free(old);
    free(leaf);
    return QCN_ERR_NOMEM;
}

static int insert(struct qcn_mpt *t, struct node **slot, const uint8_t *nib, size_t klen,
                  size_t pos, int flags, const uint8_t *val, size_t vlen, int *changed)
{
    struct node *n, *x;
    size_t m, rest = klen - pos;
    int err;

    err = resolve(t, slot, flags);
    if (err != QCN_OK)
        return err;
    n = *slot;
    if (n == NULL) {
        x = node_new(K_LEAF, nib + pos, rest, NULL, 0, val, vlen);
        if (x == NULL)
            return QCN_ERR_NOMEM;
        *slot = x;
        *changed = 1;
        return QCN_OK;
    }
    switch (n->kind) {
    case K_LEAF:
        m = common_prefix(node_path(n), n->plen, nib + pos, rest);
        if (m == n->plen && m == rest) {
            if (n->vlen == vlen && memcmp(node_val(n), val, vlen) == 0)
                return QCN_OK;
            x = node_new(K_LEAF, nib + pos, rest, NULL, 0, val, vlen);
            if (x == NULL)
                return QCN_ERR_NOMEM;
            free(n);
            *slot = x;
            *changed = 1;
            return QCN_OK;
        }
        err = split(slot, n, m, nib + pos, rest, val, vlen);
        if (err == QCN_OK)
            *changed = 1;
        return err;
    case K_EXT:
        m = common_prefix(node_path(n), n->plen, nib + pos, rest);
        if (m == n->plen) {
            err = insert(t, &n->kid[0], nib, klen, pos + m, UNDER_EXT, val, vlen, changed);
            if (*changed)
                mark(n);
            return err;
        }
        err = split(slot, n, m, nib + pos, rest, val, vlen);
        if (err == QCN_OK)
            *changed = 1;
        return err;
    case K_BRANCH:
        if (pos == klen) {
            if (n->vlen == vlen && memcmp(node_val(n), val, vlen) == 0)
                return QCN_OK;
            x = branch_with_value(n, val, vlen);
            if (x == NULL)
                return QCN_ERR_NOMEM;
            *slot = x;
            *changed = 1;
            return QCN_OK;
        }
        err = insert(t, &n->kid[nib[pos]], nib, klen, pos + 1, 0, val, vlen, changed);
        if (*changed)
            mark(n);
        return err;
    default:
        return QCN_ERR_INTERNAL;
    }
}

/* An extension whose child changed: merge it with a child that is no longer
 * a branch (Appendix D: an extension is always followed by a branch). */
static int fix_ext(struct qcn_mpt *t, struct node **slot)
{
    struct node *n = *slot, *c, *x;
    int err;

    if (n->kid[0] == NULL) {
        free(n);
        *slot = NULL;
        return QCN_OK;
    }
    err = resolve(t, &n->kid[0], 0);
    if (err != QCN_OK)
        return err;
    c = n->kid[0];
    if (c->kind == K_BRANCH)
        return QCN_OK;
    if (c->kind == K_LEAF)
        x = node_new(K_LEAF, node_path(n), n->plen, node_path(c), c->plen, node_val(c), c->vlen);
    else
        x = node_new(K_EXT, node_path(n), n->plen, node_path(c), c->plen, NULL, 0);
    if (x == NULL)
        return n->plen + c->plen > MAX_NIBBLES ? QCN_ERR_STORE_CORRUPT : QCN_ERR_NOMEM;
    if (c->kind == K_EXT)
        x->kid[0] = c->kid[0];
    free(c);
    free(n);
    *slot = x;
    return QCN_OK;
}

/* A branch that lost an entry: with one entry left it becomes a leaf (only a
 * value) or joins its one child under its nibble. */
static int fix_branch(struct qcn_mpt *t, struct node **slot)
{
    struct node *n = *slot, *c, *x;
    size_t i, used = 0, last = 0;
    uint8_t nibble;
    int err;

    for (i = 0; i < BRANCH_WIDTH; i++) {
        if (n->kid[i] != NULL) {
            used++;
            last = i;
        }
    }
    if (used + (n->vlen > 0) >= 2)
        return QCN_OK;
    if (used == 0) {
        x = NULL;
        if (n->vlen > 0) {
            x = node_new(K_LEAF, NULL, 0, NULL, 0, node_val(n), n->vlen);
            if (x == NULL)
                return QCN_ERR_NOMEM;
        }
        free(n);
        *slot = x;
        return QCN_OK;
    }
    err = resolve(t, &n->kid[last], 0);
    if (err != QCN_OK)
        return err;
    c = n->kid[last];
    nibble = (uint8_t)last;
    if (c->kind == K_BRANCH) {
        x = node_new(K_EXT, &nibble, 1, NULL, 0, NULL, 0);
        if (x == NULL)
            return QCN_ERR_NOMEM;
        x->kid[0] = c;
        free(n);
        *slot = x;
        return QCN_OK;
    }
    if (c->kind == K_LEAF)
        x = node_new(K_LEAF, &nibble, 1, node_path(c), c->plen, node_val(c), c->vlen);
    else
        x = node_new(K_EXT, &nibble, 1, node_path(c), c->plen, NULL, 0);
    if (x == NULL)
        return 1 + c->plen > MAX_NIBBLES ? QCN_ERR_STORE_CORRUPT : QCN_ERR_NOMEM;
    if (c->kind == K_EXT)
        x->kid[0] = c->kid[0];
    free(c);
    free(n);
    *slot = x;
    return QCN_OK;
}

static int remove_key(struct qcn_mpt *t, struct node **slot, const uint8_t *nib, size_t klen,
                      size_t pos, int flags, int *changed)
{
    struct node *n, *x;
    size_t rest = klen - pos;
    int err;

    err = resolve(t, slot, flags);
    if (err != QCN_OK)
        return err;
    n = *slot;
    if (n == NULL)
        return QCN_OK;
    switch (n->kind) {
    case K_LEAF:
        if (n->plen == rest && memcmp(node_path(n), nib + pos, rest) == 0) {
            free(n);
            *slot = NULL;
            *changed = 1;
        }
        return QCN_OK;
    case K_EXT:
        if (n->plen > rest || memcmp(node_path(n), nib + pos, n->plen) != 0)
            return QCN_OK;
        err = remove_key(t, &n->kid[0], nib, klen, pos + n->plen, UNDER_EXT, changed);
        if (!*changed)
            return err;
        mark(n);
        return err != QCN_OK ? err : fix_ext(t, slot);
    case K_BRANCH:
        if (pos == klen) {
            if (n->vlen == 0)
                return QCN_OK;
            x = branch_with_value(n, NULL, 0);
            if (x == NULL)
                return QCN_ERR_NOMEM;
            *slot = x;
            *changed = 1;
            return fix_branch(t, slot);
        }
        err = remove_key(t, &n->kid[nib[pos]], nib, klen, pos + 1, 0, changed);
        if (!*changed)
            return err;
        mark(n);
        return err != QCN_OK ? err : fix_branch(t, slot);
    default:
        return QCN_ERR_INTERNAL;
    }
}

static int apply(struct qcn_mpt *t, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    uint8_t nib[MAX_NIBBLES];
    int err, changed = 0;

    if (t->poisoned)
        return QCN_ERR_STATE;
    err = check_key(key, key_len);
    if (err != QCN_OK)
        return err;
    if (value_len > QCN_MPT_MAX_VALUE_BYTES || (value == NULL && value_len > 0))
        return QCN_ERR_INVALID_ARG;
    err = ensure_root(t);
    if (err != QCN_OK)
        return err;
    key_to_nibbles(nib, key, key_len);
    if (value_len == 0)
        err = remove_key(t, &t->root, nib, 2 * key_len, 0, AT_ROOT, &changed);
    else
        err = insert(t, &t->root, nib, 2 * key_len, 0, AT_ROOT, value, value_len, &changed);
    if (changed) {
        t->changed = 1;
        t->changes++;
    }
    /* A failure part-way through a restructuring can leave a non-canonical
     * shape behind; refuse to build on it. */
    if (err != QCN_OK)
        t->poisoned = 1;
    return err;
}

int qcn_mpt_put(struct qcn_mpt *t, const uint8_t *key, size_t key_len, const uint8_t *value,
                size_t value_len)
{
    return apply(t, key, key_len, value, value_len);
}

int qcn_mpt_delete(struct qcn_mpt *t, const uint8_t *key, size_t key_len)
{
    return apply(t, key, key_len, NULL, 0);
}

int qcn_mpt_update(struct qcn_mpt *t, const struct qcn_mpt_kv *kvs, size_t n)
{
    size_t i;
    int err;

    if (n > 0 && kvs == NULL)
        return QCN_ERR_INVALID_ARG;
    for (i = 0; i < n; i++) {
        err = apply(t, kvs[i].key, kvs[i].key_len, kvs[i].value, kvs[i].value_len);
        if (err != QCN_OK)
            return err;
    }
    return QCN_OK;
}

/* ------------------------------------------------------------------------
 * Hashing and committing */

/* Node encoding writes straight into the scratch buffer: the payload length
 * is known up front, so no list header has to be inserted afterwards. */

/* Writes an RLP header for a payload of len bytes at base (0x80 strings,
 * 0xc0 lists); returns its length. */
static size_t write_header(uint8_t *o, size_t len, uint8_t base)
{
    size_t nb = 0, i, v = len;
    if (len < 56) {
        o[0] = (uint8_t)(base + len);
        return 1;
    }
    while (v > 0) {
        nb++;
        v >>= 8;
    }
    o[0] = (uint8_t)(base + 55 + nb);
    for (i = 0; i < nb; i++)
        o[nb - i] = (uint8_t)(len >> (8 * i));
    return 1 + nb;
}

static size_t header_len(size_t len)
{
    size_t nb = 0;
    if (len < 56)
        return 1;
    while (len > 0) {
        nb++;
        len >>= 8;
    }
    return 1 + nb;
}

static size_t str_len(const uint8_t *p, size_t n)
{
    return n == 1 && p[0] < 0x80 ? 1 : header_len(n) + n;
}

static size_t write_str(uint8_t *o, const uint8_t *p, size_t n)
{
    size_t h;
    if (n == 1 && p[0] < 0x80) {
        o[0] = p[0];
        return 1;
    }
    h = write_header(o, n, 0x80);
    if (n)
        memcpy(o + h, p, n);
    return h + n;
}

static size_t ref_size(const struct node *c)
{
    if (c == NULL)
        return 1;
    return c->ref_len == QCN_MPT_HASH_BYTES ? 1 + QCN_MPT_HASH_BYTES : c->ref_len;
}

static size_t write_ref(uint8_t *o, const struct node *c)
{
    if (c == NULL) {
        o[0] = 0x80;
        return 1;
    }
    if (c->ref_len == QCN_MPT_HASH_BYTES)
        return write_str(o, c->ref, QCN_MPT_HASH_BYTES);
    memcpy(o, c->ref, c->ref_len);
    return c->ref_len;
}

/* Hex-prefix encoding (Appendix C) of a nibble path; returns its length. */
static size_t hex_prefix(uint8_t *hp, const uint8_t *path, size_t n, int leaf)
{
    size_t i = 0, o = 1;
    hp[0] = (uint8_t)(leaf ? 0x20 : 0x00);
    if (n & 1) {
        hp[0] = (uint8_t)(hp[0] | 0x10 | path[0]);
        i = 1;
    }
    for (; i < n; i += 2)
        hp[o++] = (uint8_t)(path[i] << 4 | path[i + 1]);
    return o;
}

/* Encodes n into enc; every child's reference must be known. */
static int encode_into(struct qcn_buf *enc, struct node *n)
{
    uint8_t hp[MAX_NIBBLES / 2 + 1], *o;
    size_t hplen = 0, payload = 0, i, w;
    int err;

    switch (n->kind) {
    case K_LEAF:
    case K_EXT:
        hplen = hex_prefix(hp, node_path(n), n->plen, n->kind == K_LEAF);
        payload = str_len(hp, hplen) +
                  (n->kind == K_LEAF ? str_len(node_val(n), n->vlen) : ref_size(n->kid[0]));
        break;
    case K_BRANCH:
        for (i = 0; i < BRANCH_WIDTH; i++)
            payload += ref_size(n->kid[i]);
        payload += str_len(node_val(n), n->vlen);
        break;
    default:
        return QCN_ERR_INTERNAL;
    }
    qcn_buf_reset(enc);
    err = qcn_buf_reserve(enc, header_len(payload) + payload);
    if (err != QCN_OK)
        return err;
    o = enc->p;
    w = write_header(o, payload, 0xc0);
    if (n->kind == K_BRANCH) {
        for (i = 0; i < BRANCH_WIDTH; i++)
            w += write_ref(o + w, n->kid[i]);
        w += write_str(o + w, node_val(n), n->vlen);
    } else {
        w += write_str(o + w, hp, hplen);
        if (n->kind == K_LEAF)
            w += write_str(o + w, node_val(n), n->vlen);
        else
            w += write_ref(o + w, n->kid[0]);
    }
    enc->len = w;
    return QCN_OK;
}

static int encode(struct qcn_mpt *t, struct node *n)
{
    return encode_into(&t->enc, n);
}

/* A node's reference from its encoding: itself if shorter than 32 bytes
 * (embedded in the parent), else its hash. */
static void set_ref(struct node *n, const struct qcn_buf *enc)
{
    if (enc->len < QCN_MPT_HASH_BYTES) {
        memcpy(n->ref, enc->p, enc->len);
        n->ref_len = (uint8_t)enc->len;
    } else {
        qcn_keccak256(n->ref, enc->p, enc->len);
        n->ref_len = QCN_MPT_HASH_BYTES;
    }
}

/* Runs fn on each child of n in order (children first: the post-order walks
 * below); stops at the first error. */
static int each_kid(struct qcn_mpt *t, struct node *n, int (*fn)(struct qcn_mpt *, struct node *))
{
    size_t i, nk = kid_count(n->kind);
    int err;
    for (i = 0; i < nk; i++) {
        if (n->kid[i] != NULL) {
            err = fn(t, n->kid[i]);
            if (err != QCN_OK)
                return err;
        }
    }
    return QCN_OK;
}

/* Computes the references of n and everything below it that lacks one. The
 * recursion only follows nodes without a reference: changed paths. */
static int hash_into_one(struct qcn_buf *enc, struct node *n)
{
    size_t i, nk;
    int err;

    if (n->ref_len != 0)
        return QCN_OK;
    nk = kid_count(n->kind);
    for (i = 0; i < nk; i++) {
        if (n->kid[i] != NULL && (err = hash_into_one(enc, n->kid[i])) != QCN_OK)
            return err;
    }
    err = encode_into(enc, n);
    if (err != QCN_OK)
        return err;
    set_ref(n, enc);
    return QCN_OK;
}

/* The same references, hashed four nodes at a time (qcn_keccak256_x4): the
 * nodes lacking a reference are grouped by height (a node's height is one
 * more than its highest such child), and a group's nodes only need the
 * references of lower groups, so each group is encoded and hashed in fours,
 * lowest first. A block's state change is thousands of nodes per height. */
struct hash_list {
    struct node **n;
    uint32_t *h;
    size_t len, cap;
};

static int collect(struct hash_list *l, struct node *n, uint32_t *height)
{
    size_t i, nk = kid_count(n->kind);
    uint32_t h = 0, kh;
    int err;

    for (i = 0; i < nk; i++) {
        if (n->kid[i] == NULL || n->kid[i]->ref_len != 0)
            continue;
        if ((err = collect(l, n->kid[i], &kh)) != QCN_OK)
            return err;
        if (kh + 1 > h)
            h = kh + 1;
    }
    if (l->len == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 1024;
        struct node **nn = realloc(l->n, nc * sizeof *nn);
        uint32_t *nh;
        if (nn == NULL)
            return QCN_ERR_NOMEM;
        l->n = nn;
        nh = realloc(l->h, nc * sizeof *nh);
        if (nh == NULL)
            return QCN_ERR_NOMEM;
        l->h = nh;
        l->cap = nc;
    }
    l->n[l->len] = n;
    l->h[l->len] = h;
    l->len++;
    *height = h;
    return QCN_OK;
}

static int hash_into(struct qcn_buf *enc, struct node *n)
{
    struct hash_list l = {0};
    struct qcn_buf e[QCN_KECCAK_X4_WAYS];
    struct node *wait[QCN_KECCAK_X4_WAYS];
    uint8_t *out[QCN_KECCAK_X4_WAYS];
    const uint8_t *in[QCN_KECCAK_X4_WAYS];
    size_t len[QCN_KECCAK_X4_WAYS], i, k, nw = 0;
    uint32_t top, h;
    int err;

    if (n->ref_len != 0)
        return QCN_OK;
    err = collect(&l, n, &top);
    if (err != QCN_OK || l.len < 2 * QCN_KECCAK_X4_WAYS) {
        free(l.n);
        free(l.h);
        return hash_into_one(enc, n); /* small change, or no memory for the list */
    }
    for (k = 0; k < QCN_KECCAK_X4_WAYS; k++)
        qcn_buf_init(&e[k], QCN_MPT_MAX_NODE_BYTES);
    /* One pass per height over the post-order list (heights are small: the
     * trie's depth). */
    for (h = 0; h <= top && err == QCN_OK; h++) {
        for (i = 0; i < l.len && err == QCN_OK; i++) {
            struct node *x = l.n[i];
            if (l.h[i] != h)
                continue;
            err = encode_into(&e[nw], x);
            if (err != QCN_OK)
                break;
            if (e[nw].len < QCN_MPT_HASH_BYTES) {
                set_ref(x, &e[nw]); /* embedded in its parent: no hash */
                continue;
            }
            wait[nw++] = x;
            if (nw < QCN_KECCAK_X4_WAYS)
                continue;
            for (k = 0; k < QCN_KECCAK_X4_WAYS; k++) {
                out[k] = wait[k]->ref;
                in[k] = e[k].p;
                len[k] = e[k].len;
            }
            qcn_keccak256_x4(out, in, len);
            for (k = 0; k < QCN_KECCAK_X4_WAYS; k++)
                wait[k]->ref_len = QCN_MPT_HASH_BYTES;
            nw = 0;
        }
        /* This height's last one to three nodes, before the next height
         * needs their references. */
        for (k = 0; k < nw; k++)
            set_ref(wait[k], &e[k]);
        nw = 0;
    }
    for (k = 0; k < QCN_KECCAK_X4_WAYS; k++)
        qcn_buf_clear(&e[k]);
    free(l.n);
    free(l.h);
    return err;
}

static int hash_node(struct qcn_mpt *t, struct node *n)
{
    return hash_into(&t->enc, n);
}

/* Hashing a large change on two threads. Hashing touches nothing but the
 * nodes below the one hashed (their references) and the encoding buffer it
 * is given, so disjoint subtrees hash in parallel; the store is never
 * called (a node lacking a reference is in memory, and so are its
 * children or their references). The root's upper children go to a helper
 * thread with its own buffer, the lower ones stay here; the root itself and
 * every write follow on this thread. Worth a thread only for changes of
 * hundreds of keys (a block of transfers), hence PAR_HASH_MIN_CHANGES. */
#define PAR_HASH_MIN_CHANGES 512

struct hash_half {
    struct node *n;
    size_t from, to;
    struct qcn_buf enc;
    int err;
};

static void *hash_half_main(void *arg)
{
    struct hash_half *h = arg;
    size_t i;
    h->err = QCN_OK;
    for (i = h->from; i < h->to && h->err == QCN_OK; i++) {
        if (h->n->kid[i] != NULL)
            h->err = hash_into(&h->enc, h->n->kid[i]);
    }
    return NULL;
}

/* Computes the references below the root, in parallel when the change is
 * large and the root is a branch; the root's own reference is left to the
 * caller. Any failure is returned after both halves are done. */
static int prehash(struct qcn_mpt *t)
{
    struct node *r = t->root;
    struct hash_half hi, lo;
    pthread_t th;
    int err;

    if (r == NULL || r->kind != K_BRANCH || r->ref_len != 0 || t->changes < PAR_HASH_MIN_CHANGES)
        return QCN_OK;
    hi.n = lo.n = r;
    lo.from = 0;
    lo.to = hi.from = BRANCH_WIDTH / 2;
    hi.to = BRANCH_WIDTH;
    qcn_buf_init(&hi.enc, QCN_MPT_MAX_NODE_BYTES);
    lo.enc = t->enc; /* borrowed; handed back below */
    if (pthread_create(&th, NULL, hash_half_main, &hi) != 0) {
        qcn_buf_clear(&hi.enc);
        return QCN_OK; /* no thread: the caller hashes everything itself */
    }
    (void)hash_half_main(&lo);
    t->enc = lo.enc;
    pthread_join(th, NULL);
    qcn_buf_clear(&hi.enc);
    err = lo.err != QCN_OK ? lo.err : hi.err;
    return err;
}

static void root_of(const struct qcn_mpt *t, uint8_t root[QCN_MPT_HASH_BYTES])
{
    const struct node *r = t->root;
    if (r == NULL)
        memcpy(root, QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES);
    else if (r->ref_len == QCN_MPT_HASH_BYTES)
        memcpy(root, r->ref, QCN_MPT_HASH_BYTES);
    else
        qcn_keccak256(root, r->ref, r->ref_len);
}

int qcn_mpt_hash(struct qcn_mpt *t, uint8_t root[QCN_MPT_HASH_BYTES])
{
    int err;

    memset(root, 0, QCN_MPT_HASH_BYTES);
    if (t->poisoned)
        return QCN_ERR_STATE;
    if (!t->changed) {
        memcpy(root, t->root_hash, QCN_MPT_HASH_BYTES);
        return QCN_OK;
    }
    if (t->root != NULL) {
        err = prehash(t);
        if (err == QCN_OK)
            err = hash_node(t, t->root);
        if (err != QCN_OK)
            return err;
    }
    root_of(t, root);
    return QCN_OK;
}

/* A located store's record for n (encoded in t->enc, reference set):
 * k || the BE64 locators of its hash-referenced children || RLP (mpt.h).
 * Children are written first (write_node is post-order), so each one's
 * locator is known. */
static int put_located(struct qcn_mpt *t, struct node *n, int is_root)
{
    size_t i, nk = kid_count(n->kind), k = 0;
    uint8_t *p;
    int err;

    qcn_buf_reset(&t->rec);
    err = qcn_buf_reserve(&t->rec, 1 + 8 * QCN_MPT_MAX_LOCS + t->enc.len);
    if (err != QCN_OK)
        return err;
    p = t->rec.p;
    for (i = 0; i < nk; i++) {
        const struct node *c = n->kid[i];
        if (c == NULL || c->ref_len != QCN_MPT_HASH_BYTES)
            continue;
        qcn_store_be64(p + 1 + 8 * k++, c->loc);
    }
    p[0] = (uint8_t)k;
    memcpy(p + 1 + 8 * k, t->enc.p, t->enc.len);
    t->rec.len = 1 + 8 * k + t->enc.len;
    return t->store.put_at(t->store.ctx, &n->loc, n->ref, t->rec.p, t->rec.len, is_root);
}

/* Marks n for writing without forgetting its reference (its content did
 * not change). */
static void mark_dirty_keep_ref(struct node *n)
{
    n->dirty = 1;
}

/* Computes the missing references of, and writes, the dirty nodes below and
 * including n, children first, in one pass (each node is encoded once). Only
 * hash-referenced nodes go to the store. A node is marked clean only once it
 * is written, so a failed commit can be retried. */
static int write_node(struct qcn_mpt *t, struct node *n)
{
    int err;

    if (!n->dirty)
        return QCN_OK;
    err = each_kid(t, n, write_node);
    if (err != QCN_OK)
        return err;
    err = encode(t, n);
    if (err != QCN_OK)
        return err;
    if (n->ref_len == 0)
        set_ref(n, &t->enc);
    if (n->ref_len == QCN_MPT_HASH_BYTES) {
        err = t->located ? put_located(t, n, n == t->root)
                         : t->store.put(t->store.ctx, n->ref, t->enc.p, t->enc.len);
        if (err != QCN_OK)
            return err;
    }
    n->dirty = 0;
    return QCN_OK;
}

int qcn_mpt_commit(struct qcn_mpt *t, uint8_t root[QCN_MPT_HASH_BYTES])
{
    uint8_t h[QCN_MPT_HASH_BYTES];
    int err;

    memset(root, 0, QCN_MPT_HASH_BYTES);
    if (t->poisoned)
        return QCN_ERR_STATE;
    if (!t->changed) {
        memcpy(root, t->root_hash, QCN_MPT_HASH_BYTES);
        return QCN_OK;
    }
    if (t->root != NULL) {
        /* A located store indexes committed roots: the root is written even
         * when a change left it as it was. */
        err = prehash(t);
        if (err != QCN_OK)
            return err;
        if (t->located)
            mark_dirty_keep_ref(t->root);
        err = write_node(t, t->root);
        /* A root shorter than 32 bytes is stored under its hash too, so the
         * trie can be reopened at it. */
        if (err == QCN_OK && t->root->ref_len < QCN_MPT_HASH_BYTES) {
            qcn_keccak256(h, t->root->ref, t->root->ref_len);
            if (t->located) {
                uint8_t rec[1 + QCN_MPT_HASH_BYTES];
                uint64_t loc = 0;
                rec[0] = 0; /* too short to hold a hash: no children by hash */
                memcpy(rec + 1, t->root->ref, t->root->ref_len);
                err = t->store.put_at(t->store.ctx, &loc, h, rec, 1u + t->root->ref_len, 1);
            } else {
                err = t->store.put(t->store.ctx, h, t->root->ref, t->root->ref_len);
            }
        }
        if (err != QCN_OK)
            return err;
    }
    root_of(t, t->root_hash);
    t->changed = 0;
    t->changes = 0;
    memcpy(root, t->root_hash, QCN_MPT_HASH_BYTES);
    return QCN_OK;
}

void qcn_mpt_discard(struct qcn_mpt *t)
{
    node_free(t->root);
    t->root = NULL;
    t->root_unloaded = memcmp(t->root_hash, QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES) != 0;
    t->changed = 0;
    t->changes = 0;
    t->poisoned = 0;
}

static void evict(struct node **slot)
{
    struct node *n = *slot, *s;
    size_t i, nk;

    if (n == NULL || n->kind == K_HASH)
        return;
    if (!n->dirty && n->ref_len == QCN_MPT_HASH_BYTES) {
        s = stub_new(n->ref, n->loc);
        if (s != NULL) {
            node_free(n);
            *slot = s;
        }
        return;
    }
    nk = kid_count(n->kind);
    for (i = 0; i < nk; i++)
        evict(&n->kid[i]);
}

void qcn_mpt_evict(struct qcn_mpt *t)
{
    struct node *r = t->root;
    if (r != NULL && !t->changed && !r->dirty && r->ref_len == QCN_MPT_HASH_BYTES) {
        node_free(r);
        t->root = NULL;
        t->root_unloaded = 1;
        return;
    }
    evict(&t->root);
}

int qcn_mpt_dirty(const struct qcn_mpt *t)
{
    return t->changed;
}

/* ------------------------------------------------------------------------
 * Proofs */

void qcn_mpt_proof_init(struct qcn_mpt_proof *p)
{
    p->count = 0;
    qcn_buf_init(&p->data, (size_t)QCN_MPT_MAX_PROOF_NODES * QCN_MPT_MAX_NODE_BYTES);
}

void qcn_mpt_proof_clear(struct qcn_mpt_proof *p)
{
    p->count = 0;
    qcn_buf_clear(&p->data);
}

int qcn_mpt_prove(struct qcn_mpt *t, struct qcn_mpt_proof *proof, const uint8_t *key,
                  size_t key_len)
{
    uint8_t nib[MAX_NIBBLES];
    size_t off[QCN_MPT_MAX_PROOF_NODES + 1], pos = 0, klen = 2 * key_len, i;
    struct node **slot = &t->root, *n;
    int flags = AT_ROOT, err;

    proof->count = 0;
    qcn_buf_reset(&proof->data);
    err = check_key(key, key_len);
    if (err != QCN_OK)
        return err;
    if (t->changed || t->poisoned)
        return QCN_ERR_STATE;
    err = ensure_root(t);
    if (err != QCN_OK)
        return err;
    key_to_nibbles(nib, key, key_len);
    for (;;) {
        err = resolve(t, slot, flags);
        if (err != QCN_OK)
            goto out;
        n = *slot;
        if (n == NULL)
            break;
        /* Hash-referenced nodes travel in the proof; embedded ones are
         * already inside their parent. */
        if (flags & AT_ROOT || n->ref_len == QCN_MPT_HASH_BYTES) {
            if (proof->count == QCN_MPT_MAX_PROOF_NODES) {
                err = QCN_ERR_STORE_CORRUPT;
                goto out;
            }
            err = encode(t, n);
            if (err == QCN_OK)
                err = qcn_buf_append(&proof->data, t->enc.p, t->enc.len);
            if (err != QCN_OK)
                goto out;
            off[proof->count++] = proof->data.len - t->enc.len;
        }
        if (n->kind == K_LEAF)
            break;
        if (n->kind == K_EXT) {
            if (n->plen > klen - pos || memcmp(node_path(n), nib + pos, n->plen) != 0)
                break;
            pos += n->plen;
            slot = &n->kid[0];
            flags = UNDER_EXT;
            continue;
        }
        if (pos == klen)
            break;
        slot = &n->kid[nib[pos++]];
        flags = 0;
    }
    off[proof->count] = proof->data.len;
    for (i = 0; i < proof->count; i++)
        proof->node[i] = qcn_view_make(proof->data.p + off[i], off[i + 1] - off[i]);
out:
    if (err != QCN_OK) {
        proof->count = 0;
        qcn_buf_reset(&proof->data);
    }
    return err;
}

int qcn_mpt_verify_proof(int *found, struct qcn_view *value, const uint8_t root[QCN_MPT_HASH_BYTES],
                         const uint8_t *key, size_t key_len, const struct qcn_view *nodes,
                         size_t count)
{
    uint8_t nib[MAX_NIBBLES], hash[QCN_MPT_HASH_BYTES], h[QCN_MPT_HASH_BYTES];
    struct pnode pn;
    struct qcn_view raw = {NULL, 0};
    struct qcn_rlp_item next;
    size_t pos = 0, idx = 0, klen = 2 * key_len;
    int by_hash = 1, flags = AT_ROOT, err;

    *found = 0;
    *value = qcn_view_make(NULL, 0);
    err = check_key(key, key_len);
    if (err != QCN_OK)
        return err;
    if (count > QCN_MPT_MAX_PROOF_NODES || (count > 0 && nodes == NULL))
        return QCN_ERR_INVALID_ARG;
    key_to_nibbles(nib, key, key_len);
    memcpy(hash, root, sizeof hash);
    /* The empty trie proves every key absent with no nodes at all. */
    if (count == 0 && memcmp(root, QCN_MPT_EMPTY_ROOT, QCN_MPT_HASH_BYTES) == 0)
        return QCN_OK;
    for (;;) {
        if (by_hash) {
            if (idx == count)
                goto bad;
            raw = nodes[idx++];
            if (raw.len > QCN_MPT_MAX_NODE_BYTES || (raw.p == NULL && raw.len > 0))
                goto bad;
            qcn_keccak256(h, raw.p, raw.len);
            if (memcmp(h, hash, sizeof h) != 0)
                goto bad;
            if (raw.len < QCN_MPT_HASH_BYTES && !(flags & AT_ROOT))
                goto bad;
        }
        if (parse_node(&pn, raw, flags & AT_ROOT) != QCN_OK)
            goto bad;
        if ((flags & UNDER_EXT) && pn.kind != K_BRANCH)
            goto bad;
        if (pn.kind == K_EMPTY)
            break;
        if (pn.kind == K_LEAF) {
            if (pn.plen == klen - pos && memcmp(pn.path, nib + pos, pn.plen) == 0) {
                *found = 1;
                *value = pn.val;
            }
            break;
        }
        if (pn.kind == K_EXT) {
            if (pn.plen > klen - pos || memcmp(pn.path, nib + pos, pn.plen) != 0)
                break;
            pos += pn.plen;
            next = pn.kid[0];
            flags = UNDER_EXT;
        } else {
            if (pos == klen) {
                if (pn.val.len > 0) {
                    *found = 1;
                    *value = pn.val;
                }
                break;
            }
            next = pn.kid[nib[pos++]];
            flags = 0;
            if (ref_is_empty(&next))
                break;
        }
        by_hash = !next.is_list;
        if (by_hash)
            memcpy(hash, next.payload.p, sizeof hash);
        else
            raw = next.raw;
    }
    /* Every node must have been used: extra nodes mean the proof is for
     * something else. */
    if (idx != count)
        goto bad;
    return QCN_OK;
bad:
    *found = 0;
    *value = qcn_view_make(NULL, 0);
    return QCN_ERR_STATE_PROOF;
}
