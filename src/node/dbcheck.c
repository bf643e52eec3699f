/* dbcheck.c - `qcn db check`: re-derive what the store claims and report
 * every disagreement (docs/storage.md "Checking a store").
 *
 * For every canonical block 0..head:
 *   - CANON[h] names a header whose Keccak-256 is that hash and whose height
 *     is h; its parent hash is CANON[h-1];
 *   - the body decodes (every transaction strictly, codec/tx.h) and the MPT
 *     root over RLP(index) -> Keccak-256(envelope) (the transaction hash)
 *     equals the header's transactions root;
 *   - the stored receipts give the header's receipts root the same way
 *     (codec/receipt.h), one receipt per transaction;
 *   - every transaction's TXINDEX entry points at (this block, its index).
 * For the head state (the flat tables hold the current state only):
 *   - every trie node reachable from the head's state root (and from each
 *     account's storage root) is stored and hashes to its reference;
 *   - every flat account (ACCOUNT) decodes, its storage root equals the root
 *     of its flat STORAGE rows, every ACCKEY has its KEYREC whose hash it is;
 *   - the secure-trie root over accounts and key commitments (state/account.h
 *     paths) equals the head header's state root.
 * The store is only read: a check runs beside a live node on a snapshot. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/block.h"
#include "codec/receipt.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "node/node_internal.h"
#include "node/tools.h"
#include "state/account.h"
#include "state/mpt.h"
#include "util/hex.h"

struct check {
    struct qcn_store_snap *r;
    FILE *out;
    uint64_t problems;
};

static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct check *c, const char *fmt, ...)
{
    va_list ap;
    c->problems++;
    if (c->out == NULL || c->problems > 100)
        return;
    fputs("MISMATCH: ", c->out);
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->out);
}

/* RLP of a small integer (index keys): at most 1 + 8 bytes. */
static size_t rlp_index(uint8_t out[9], uint64_t v)
{
    size_t n = 0, i;
    uint8_t be[8];
    if (v == 0) {
        out[0] = 0x80;
        return 1;
    }
    if (v < 0x80) {
        out[0] = (uint8_t)v;
        return 1;
    }
    qcn_store_be64(be, v);
    while (be[n] == 0)
        n++;
    out[0] = (uint8_t)(0x80 + (8 - n));
    for (i = n; i < 8; i++)
        out[1 + i - n] = be[i];
    return 1 + 8 - n;
}

/* Root over RLP(index) -> item for the string items of an RLP list; with
 * hash_items, RLP(index) -> Keccak-256(item). The receipts root is the
 * former (as Ethereum builds it); the transactions root the latter
 * (docs/protocol.md: the trie holds each transaction's hash, which binds its
 * envelope, so large PQ envelopes are not hashed twice). */
static int list_root(uint8_t root[32], size_t *count, struct qcn_view list, int hash_items)
{
    uint8_t(*hashes)[32] = NULL;
    struct qcn_rlp_item l, it;
    struct qcn_rlp_iter iter;
    struct qcn_mpt_kv *kv = NULL;
    uint8_t(*keys)[9] = NULL;
    size_t n = 0, cap = 0;
    int err;

    *count = 0;
    err = qcn_rlp_decode(&l, list);
    if (err != QCN_OK || !l.is_list)
        return QCN_ERR_CODEC;
    err = qcn_rlp_count(&cap, &l);
    if (err != QCN_OK || cap > QCN_BLOCK_MAX_TXS)
        return QCN_ERR_CODEC;
    kv = calloc(cap ? cap : 1, sizeof *kv);
    keys = calloc(cap ? cap : 1, sizeof *keys);
    hashes = hash_items ? calloc(cap ? cap : 1, sizeof *hashes) : NULL;
    if (kv == NULL || keys == NULL || (hash_items && hashes == NULL)) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    qcn_rlp_iter_init(&iter, &l);
    while ((err = qcn_rlp_iter_next(&iter, &it)) == QCN_OK) {
        if (it.is_list || n >= cap) {
            err = QCN_ERR_CODEC;
            goto out;
        }
        kv[n].key = keys[n];
        kv[n].key_len = rlp_index(keys[n], n);
        if (hash_items) {
            qcn_keccak256(hashes[n], it.payload.p, it.payload.len);
            kv[n].value = hashes[n];
            kv[n].value_len = 32;
        } else {
            kv[n].value = it.payload.p;
            kv[n].value_len = it.payload.len;
        }
        n++;
    }
    if (err != QCN_ERR_NOT_FOUND)
        goto out;
    err = qcn_mpt_root(root, kv, n);
    *count = n;
out:
    free(kv);
    free(keys);
    free(hashes);
    return err;
}

static void hex32(char out[67], const uint8_t h[32])
{
    out[0] = '0';
    out[1] = 'x';
    qcn_hex_encode(out + 2, h, 32);
}

static void check_block(struct check *c, uint64_t height, const uint8_t hash[32],
                        uint8_t parent_out[32], struct qcn_header *hdr_out)
{
    struct qcn_view hv, bv, rv;
    struct qcn_header h;
    struct qcn_block blk;
    uint8_t got[32], root[32];
    size_t ntx = 0, nrc = 0, i;
    char hx[67];
    int err;

    memset(&h, 0, sizeof h);
    memset(&blk, 0, sizeof blk);
    hex32(hx, hash);
    err = qcn_store_get(c->r, NULL, QCN_STORE_HEADER, hash, 32, &hv);
    if (err != QCN_OK) {
        problem(c, "block %llu (%s): header missing", (unsigned long long)height, hx);
        return;
    }
    qcn_keccak256(got, hv.p, hv.len);
    if (memcmp(got, hash, 32) != 0)
        problem(c, "block %llu: header does not hash to its canonical hash %s",
                (unsigned long long)height, hx);
    if (qcn_header_decode(&h, hv) != QCN_OK) {
        problem(c, "block %llu: header does not decode", (unsigned long long)height);
        return;
    }
    if (h.height != height)
        problem(c, "block %llu: header says height %llu", (unsigned long long)height,
                (unsigned long long)h.height);
    if (height > 0 && memcmp(h.parent_hash, parent_out, 32) != 0)
        problem(c, "block %llu: parent hash is not block %llu's hash", (unsigned long long)height,
                (unsigned long long)(height - 1));
    err = qcn_store_get(c->r, NULL, QCN_STORE_BODY, hash, 32, &bv);
    if (err != QCN_OK) {
        problem(c, "block %llu: body missing", (unsigned long long)height);
    } else {
        if (qcn_header_copy(&blk.header, &h) != QCN_OK || qcn_block_body_decode(&blk, bv) != QCN_OK)
            problem(c, "block %llu: body does not decode", (unsigned long long)height);
        if (list_root(root, &ntx, bv, 1) != QCN_OK)
            problem(c, "block %llu: body is not a list of envelopes", (unsigned long long)height);
        else if (memcmp(root, h.tx_root, 32) != 0)
            problem(c, "block %llu: transactions root mismatch", (unsigned long long)height);
    }
    err = qcn_store_get(c->r, NULL, QCN_STORE_RECEIPTS, hash, 32, &rv);
    if (err != QCN_OK) {
        problem(c, "block %llu: receipts missing", (unsigned long long)height);
    } else if (list_root(root, &nrc, rv, 0) != QCN_OK) {
        problem(c, "block %llu: receipts are not a list", (unsigned long long)height);
    } else {
        if (memcmp(root, h.receipts_root, 32) != 0)
            problem(c, "block %llu: receipts root mismatch", (unsigned long long)height);
        if (nrc != ntx)
            problem(c, "block %llu: %zu receipts for %zu transactions", (unsigned long long)height,
                    nrc, ntx);
    }
    for (i = 0; i < blk.ntx; i++) {
        uint8_t bh[32];
        uint32_t index;
        err = qcn_store_txindex_get(c->r, NULL, blk.txs[i]->hash, bh, &index);
        if (err != QCN_OK || memcmp(bh, hash, 32) != 0 || index != i) {
            hex32(hx, blk.txs[i]->hash);
            problem(c, "block %llu: tx %zu (%s) index entry %s", (unsigned long long)height, i, hx,
                    err != QCN_OK ? "missing" : "points elsewhere");
        }
    }
    qcn_block_clear(&blk);
    memcpy(parent_out, hash, 32);
    if (hdr_out != NULL) {
        qcn_header_clear(hdr_out);
        *hdr_out = h;
    } else {
        qcn_header_clear(&h);
    }
}

/* ---- State. */

struct kvs {
    struct qcn_mpt_kv *kv;
    size_t n, cap;
    struct qcn_buf mem; /* owns every key and value */
    struct qcn_buf offs;
};

struct state_walk {
    struct check *c;
    struct kvs top;
    uint64_t accounts;
};

/* Collects (key, value) copies; views are fixed up after the walk (the
 * buffer grows). Keys and values are stored back to back with offsets. */
static int kvs_add(struct kvs *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    uint8_t rec[32];
    int err;
    qcn_store_be64(rec, s->mem.len);
    qcn_store_be64(rec + 8, kl);
    qcn_store_be64(rec + 16, vl);
    err = qcn_buf_append(&s->mem, k, kl);
    if (err == QCN_OK)
        err = qcn_buf_append(&s->mem, v, vl);
    if (err == QCN_OK)
        err = qcn_buf_append(&s->offs, rec, 24);
    if (err == QCN_OK)
        s->n++;
    return err;
}

static int kvs_root(struct kvs *s, uint8_t root[32])
{
    size_t i;
    int err;
    s->kv = calloc(s->n ? s->n : 1, sizeof *s->kv);
    if (s->kv == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < s->n; i++) {
        const uint8_t *rec = s->offs.p + 24 * i;
        uint64_t off = qcn_load_be64(rec), kl = qcn_load_be64(rec + 8);
        s->kv[i].key = s->mem.p + off;
        s->kv[i].key_len = kl;
        s->kv[i].value = s->mem.p + off + kl;
        s->kv[i].value_len = qcn_load_be64(rec + 16);
    }
    err = qcn_mpt_root(root, s->kv, s->n);
    free(s->kv);
    s->kv = NULL;
    return err;
}

static void kvs_init(struct kvs *s)
{
    memset(s, 0, sizeof *s);
    qcn_buf_init(&s->mem, (size_t)1 << 40);
    qcn_buf_init(&s->offs, (size_t)1 << 40);
}

static void kvs_clear(struct kvs *s)
{
    qcn_buf_clear(&s->mem);
    qcn_buf_clear(&s->offs);
}

static int storage_row(void *ctx, struct qcn_view key, struct qcn_view val)
{
    struct kvs *s = ctx;
    uint8_t path[32];
    struct qcn_buf enc;
    int err;
    if (key.len != QCN_ADDRESS_BYTES + 32)
        return QCN_ERR_STORE_CORRUPT;
    qcn_keccak256(path, key.p + QCN_ADDRESS_BYTES, 32);
    qcn_buf_init(&enc, 64);
    err = qcn_rlp_put_bytes(&enc, val.p, val.len);
    if (err == QCN_OK)
        err = kvs_add(s, path, 32, enc.p, enc.len);
    qcn_buf_clear(&enc);
    return err;
}

static int account_row(void *ctx, struct qcn_view key, struct qcn_view val)
{
    struct state_walk *w = ctx;
    struct qcn_account a;
    struct kvs st;
    uint8_t path[32], root[32];
    char hx[2 * QCN_ADDRESS_BYTES + 1];
    int err;

    w->accounts++;
    if (key.len != QCN_ADDRESS_BYTES || qcn_account_decode(&a, val) != QCN_OK) {
        problem(w->c, "flat account row of %zu-byte key does not decode", key.len);
        return QCN_OK;
    }
    qcn_hex_encode(hx, key.p, key.len);
    kvs_init(&st);
    err = qcn_store_iterate(w->c->r, QCN_STORE_STORAGE, key.p, key.len, storage_row, &st);
    if (err == QCN_OK)
        err = kvs_root(&st, root);
    kvs_clear(&st);
    if (err != QCN_OK) {
        problem(w->c, "account 0x%s: storage rows unreadable (%s)", hx, qcn_err_str(err));
    } else if (memcmp(root, a.storage_root, 32) != 0) {
        problem(w->c, "account 0x%s: storage root does not match its storage rows", hx);
    }
    qcn_account_path(path, key.p);
    return kvs_add(&w->top, path, 32, val.p, val.len);
}

static int acckey_row(void *ctx, struct qcn_view key, struct qcn_view val)
{
    struct state_walk *w = ctx;
    struct qcn_view rec;
    struct qcn_buf enc;
    uint8_t path[32], h[32];
    char hx[2 * QCN_ADDRESS_BYTES + 1];
    int err;

    if (key.len != QCN_ADDRESS_BYTES || val.len != 32) {
        problem(w->c, "malformed key-hash row");
        return QCN_OK;
    }
    qcn_hex_encode(hx, key.p, key.len);
    err = qcn_store_get(w->c->r, NULL, QCN_STORE_KEYREC, val.p, 32, &rec);
    if (err != QCN_OK) {
        problem(w->c, "account 0x%s: key record missing", hx);
    } else {
        qcn_keccak256(h, rec.p, rec.len);
        if (memcmp(h, val.p, 32) != 0)
            problem(w->c, "account 0x%s: key record does not hash to its key hash", hx);
    }
    qcn_account_key_path(path, key.p);
    qcn_buf_init(&enc, 64);
    err = qcn_rlp_put_bytes(&enc, val.p, 32);
    if (err == QCN_OK)
        err = kvs_add(&w->top, path, 32, enc.p, enc.len);
    qcn_buf_clear(&enc);
    return err;
}

/* ---- The stored trie: every node reachable from the head's state root is
 * in TRIE and hashes to its reference (Yellow Paper App. D: children of 32
 * bytes or more are referenced by hash, smaller ones embedded), and every
 * account leaf's storage trie is complete too. Recursion depth is bounded
 * by the key length (64 nibbles per trie, two tries deep). */
#define TRIE_MAX_DEPTH 160

struct trie_walk {
    struct check *c;
    uint64_t nodes;
    int stop;
};

static void walk_ref(struct trie_walk *w, const struct qcn_rlp_item *ref, uint64_t gen, int depth);

static void walk_value(struct trie_walk *w, struct qcn_view v, int depth)
{
    struct qcn_account a;
    /* Account leaves lead to storage tries; other values (storage slots,
     * key-record commitments) do not decode as accounts. */
    if (qcn_account_decode(&a, v) != QCN_OK)
        return;
    if (memcmp(a.storage_root, QCN_MPT_EMPTY_ROOT, 32) != 0) {
        struct qcn_rlp_item ref;
        ref.is_list = 0;
        ref.payload = qcn_view_make(a.storage_root, 32);
        ref.raw = ref.payload;
        walk_ref(w, &ref, QCN_STORE_TRIE_ANY, depth + 1);
    }
}

/* The gen of the j-th hash-referenced child of a node (its record's
 * locators, store.h); QCN_STORE_TRIE_ANY once they run out (the count is
 * checked after the walk of the node's children). */
static uint64_t next_gen(const uint8_t *locs, size_t nlocs, size_t *j,
                         const struct qcn_rlp_item *ref)
{
    if (ref->is_list || ref->payload.len != 32)
        return QCN_STORE_TRIE_ANY;
    if (*j >= nlocs) {
        (*j)++;
        return QCN_STORE_TRIE_ANY;
    }
    return qcn_load_be64(locs + 8 * (*j)++);
}

static void walk_node(struct trie_walk *w, struct qcn_view node, const uint8_t *locs, size_t nlocs,
                      int depth)
{
    struct qcn_rlp_item list, items[17];
    size_t n = 0, i, j = 0;

    if (depth > TRIE_MAX_DEPTH || w->stop)
        return;
    if (qcn_rlp_decode(&list, node) != QCN_OK || !list.is_list ||
        qcn_rlp_count(&n, &list) != QCN_OK || (n != 2 && n != 17) ||
        qcn_rlp_split(items, n, &list) != QCN_OK) {
        problem(w->c, "trie node does not decode");
        return;
    }
    if (n == 17) {
        for (i = 0; i < 16; i++)
            walk_ref(w, &items[i], next_gen(locs, nlocs, &j, &items[i]), depth + 1);
        if (!items[16].is_list && items[16].payload.len > 0)
            walk_value(w, items[16].payload, depth);
        if (j != nlocs)
            problem(w->c, "trie node record with %zu child locators for %zu children", nlocs, j);
        return;
    }
    if (items[0].is_list || items[0].payload.len == 0) {
        problem(w->c, "trie node with a malformed path");
        return;
    }
    if (items[0].payload.p[0] & 0x20) { /* HP flag: a leaf */
        if (!items[1].is_list)
            walk_value(w, items[1].payload, depth);
    } else {
        walk_ref(w, &items[1], next_gen(locs, nlocs, &j, &items[1]), depth + 1);
    }
    if (j != nlocs)
        problem(w->c, "trie node record with %zu child locators for %zu children", nlocs, j);
}

static void walk_ref(struct trie_walk *w, const struct qcn_rlp_item *ref, uint64_t gen, int depth)
{
    struct qcn_view rec, node;
    const uint8_t *locs;
    size_t nlocs;
    uint8_t h[32];
    char hx[67];

    if (w->stop)
        return;
    if (ref->is_list) { /* an embedded node: too short to have children by hash */
        walk_node(w, ref->raw, NULL, 0, depth);
        return;
    }
    if (ref->payload.len == 0)
        return;
    if (ref->payload.len != 32) {
        problem(w->c, "trie reference of %zu bytes", ref->payload.len);
        return;
    }
    hex32(hx, ref->payload.p);
    if (qcn_store_trie_get(w->c->r, NULL, &gen, ref->payload.p, &rec) != QCN_OK) {
        problem(w->c, "trie node %s missing", hx);
        if (w->c->problems > 100)
            w->stop = 1;
        return;
    }
    if (qcn_store_trie_split(rec, &node, &locs, &nlocs) != QCN_OK) {
        problem(w->c, "trie node %s: malformed record", hx);
        return;
    }
    qcn_keccak256(h, node.p, node.len);
    if (memcmp(h, ref->payload.p, 32) != 0) {
        problem(w->c, "trie node %s does not hash to its key", hx);
        return;
    }
    w->nodes++;
    walk_node(w, node, locs, nlocs, depth);
}

int qcn_node_db_check(struct qcn_store *s, FILE *out, struct qcn_db_check_result *res)
{
    struct check c;
    struct state_walk w;
    struct qcn_header head;
    uint8_t hash[32], parent[32], root[32];
    uint64_t height, h;
    char hx[67];
    int err;

    memset(res, 0, sizeof *res);
    memset(&c, 0, sizeof c);
    memset(&head, 0, sizeof head);
    memset(parent, 0, sizeof parent);
    c.out = out;
    err = qcn_store_snap_begin(s, &c.r);
    if (err != QCN_OK)
        return err;
    err = qcn_store_head_get(c.r, NULL, &height, hash);
    if (err != QCN_OK) {
        if (err == QCN_ERR_NOT_FOUND)
            problem(&c, "no head: the store holds no chain");
        else
            problem(&c, "head unreadable: %s", qcn_err_str(err));
        err = QCN_OK;
        goto out;
    }
    res->height = height;
    memcpy(res->head, hash, 32);
    for (h = 0; h <= height; h++) {
        uint8_t ch[32];
        if (qcn_store_canon_get(c.r, NULL, h, ch) != QCN_OK) {
            problem(&c, "block %llu: no canonical hash", (unsigned long long)h);
            continue;
        }
        if (h == height && memcmp(ch, hash, 32) != 0)
            problem(&c, "head hash differs from the canonical hash at its height");
        check_block(&c, h, ch, parent, h == height ? &head : NULL);
        res->blocks++;
    }
    if (qcn_store_canon_get(c.r, NULL, height + 1, parent) == QCN_OK)
        problem(&c, "a canonical block above the head exists (half-written?)");
    memset(&w, 0, sizeof w);
    w.c = &c;
    kvs_init(&w.top);
    err = qcn_store_iterate(c.r, QCN_STORE_ACCOUNT, NULL, 0, account_row, &w);
    if (err == QCN_OK)
        err = qcn_store_iterate(c.r, QCN_STORE_ACCKEY, NULL, 0, acckey_row, &w);
    if (err == QCN_OK)
        err = kvs_root(&w.top, root);
    kvs_clear(&w.top);
    res->accounts = w.accounts;
    if (err != QCN_OK) {
        problem(&c, "state tables unreadable: %s", qcn_err_str(err));
        err = QCN_OK;
    } else {
        memcpy(res->state_root, root, 32);
        if (memcmp(root, head.state_root, 32) != 0) {
            hex32(hx, root);
            problem(&c, "state root: flat state gives %s, head header says ", hx);
            hex32(hx, head.state_root);
            if (out != NULL && c.problems <= 100)
                fprintf(out, "          %s\n", hx);
        }
    }
    if (memcmp(head.state_root, QCN_MPT_EMPTY_ROOT, 32) != 0) {
        struct trie_walk tw;
        struct qcn_rlp_item ref;
        memset(&tw, 0, sizeof tw);
        tw.c = &c;
        ref.is_list = 0;
        ref.payload = qcn_view_make(head.state_root, 32);
        ref.raw = ref.payload;
        walk_ref(&tw, &ref, QCN_STORE_TRIE_ANY, 0);
        res->trie_nodes = tw.nodes;
    }
out:
    qcn_header_clear(&head);
    res->problems = c.problems;
    qcn_store_snap_end(c.r);
    return err;
}
