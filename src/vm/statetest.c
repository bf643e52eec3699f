/* statetest.c - the GeneralStateTest runner (see statetest.h and
 * ../shared/vectors/ethereum-state-tests/README.md for the procedure). */
#include "vm/statetest.h"

#include <jansson.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "state/account.h"
#include "state/mpt.h"
#include "state/statedb.h"
#include "state/statedb_mem.h"
#include "util/hex.h"
#include "util/mem.h"
#include "vm/evm.h"
#include "vm/state.h"
#include "vm/statedb_glue.h"
#include "vm/tx.h"

#define MAX_CODE_HEX (4u * 1024 * 1024) /* bytes of code or data in a fixture */
#define ACCOUNT_RLP_MAX 160
#define SLOT_RLP_MAX 40
#define LOGS_RLP_MAX (64u * 1024 * 1024)

struct bytes {
    uint8_t *p;
    size_t len;
};

/* ------------------------------------------------------------------------ */
/* JSON helpers: every fixture value is a 0x-hex string. */

static int j_u256(struct qcn_u256 *out, const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL || qcn_u256_parse(out, s) != 0)
        return QCN_ERR_VM_STATETEST;
    return QCN_OK;
}

static int j_u64(uint64_t *out, const json_t *v)
{
    struct qcn_u256 t;
    *out = 0;
    if (j_u256(&t, v) != QCN_OK || !qcn_u256_fits_u64(&t))
        return QCN_ERR_VM_STATETEST;
    *out = t.w[0];
    return QCN_OK;
}

static int j_addr(uint8_t out[QCN_VM_ADDRESS_BYTES], const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return QCN_ERR_VM_STATETEST;
    return qcn_hex_decode_exact(out, QCN_VM_ADDRESS_BYTES, s) == QCN_OK ? QCN_OK
                                                                        : QCN_ERR_VM_STATETEST;
}

static int j_word(uint8_t out[QCN_U256_BYTES], const json_t *v)
{
    struct qcn_u256 t;
    int err = j_u256(&t, v);
    qcn_u256_to_be32(out, &t);
    return err;
}

static int j_bytes(struct bytes *out, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n, len;
    out->p = NULL;
    out->len = 0;
    if (s == NULL)
        return QCN_ERR_VM_STATETEST;
    n = strlen(s);
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n / 2 > MAX_CODE_HEX)
        return QCN_ERR_TOO_LARGE;
    out->p = malloc(n / 2 + 1);
    if (out->p == NULL)
        return QCN_ERR_NOMEM;
    if (qcn_hex_decode(out->p, n / 2 + 1, &len, s, n) != QCN_OK) {
        free(out->p);
        out->p = NULL;
        return QCN_ERR_VM_STATETEST;
    }
    out->len = len;
    return QCN_OK;
}

/* ------------------------------------------------------------------------ */
/* State root: secure trie of rlp([nonce, balance, storageRoot, codeHash]). */

struct slot_rec {
    uint8_t key[QCN_U256_BYTES];
    uint8_t val[SLOT_RLP_MAX];
    size_t vlen;
};

struct acct_rec {
    uint8_t addr[QCN_VM_ADDRESS_BYTES];
    uint8_t val[ACCOUNT_RLP_MAX];
    size_t vlen;
};

struct root_ctx {
    struct slot_rec *slots;
    size_t nslot, scap;
    struct acct_rec *accts;
    size_t nacct, acap;
};

static int root_account(void *ctx, const struct qcn_vm_account *a, int deleted)
{
    struct root_ctx *rc = ctx;
    (void)a;
    (void)deleted;
    rc->nslot = 0;
    return 0;
}

static int put_uint(struct qcn_buf *b, const struct qcn_u256 *v)
{
    uint8_t w[QCN_U256_BYTES];
    qcn_u256_to_be32(w, v);
    return qcn_rlp_put_uint_be(b, w, QCN_U256_BYTES);
}

static int root_slot(void *ctx, const struct qcn_vm_account *a, const uint8_t key[QCN_U256_BYTES],
                     const uint8_t value[QCN_U256_BYTES])
{
    struct root_ctx *rc = ctx;
    struct slot_rec *s;
    struct qcn_buf b;
    int err;
    (void)a;
    if (rc->nslot == rc->scap) {
        size_t ncap = rc->scap == 0 ? 64 : rc->scap * 2;
        struct slot_rec *ns = realloc(rc->slots, ncap * sizeof *ns);
        if (ns == NULL)
            return QCN_ERR_NOMEM;
        rc->slots = ns;
        rc->scap = ncap;
    }
    s = &rc->slots[rc->nslot];
    memcpy(s->key, key, QCN_U256_BYTES);
    qcn_buf_init(&b, SLOT_RLP_MAX);
    err = qcn_rlp_put_uint_be(&b, value, QCN_U256_BYTES);
    if (err == QCN_OK) {
        memcpy(s->val, b.p, b.len);
        s->vlen = b.len;
        rc->nslot++;
    }
    qcn_buf_clear(&b);
    return err;
}

static int root_account_done(void *ctx, const struct qcn_vm_account *a)
{
    struct root_ctx *rc = ctx;
    struct qcn_mpt_kv *kvs = NULL;
    uint8_t sroot[QCN_MPT_HASH_BYTES];
    struct qcn_buf b;
    struct acct_rec *r;
    size_t begin;
    int err;

    kvs = calloc(rc->nslot + 1, sizeof *kvs);
    if (kvs == NULL)
        return QCN_ERR_NOMEM;
    for (size_t i = 0; i < rc->nslot; i++) {
        kvs[i].key = rc->slots[i].key;
        kvs[i].key_len = QCN_U256_BYTES;
        kvs[i].value = rc->slots[i].val;
        kvs[i].value_len = rc->slots[i].vlen;
    }
    err = qcn_mpt_secure_root(sroot, kvs, rc->nslot);
    free(kvs);
    if (err != QCN_OK)
        return err;
    if (rc->nacct == rc->acap) {
        size_t ncap = rc->acap == 0 ? 64 : rc->acap * 2;
        struct acct_rec *na = realloc(rc->accts, ncap * sizeof *na);
        if (na == NULL)
            return QCN_ERR_NOMEM;
        rc->accts = na;
        rc->acap = ncap;
    }
    r = &rc->accts[rc->nacct];
    memcpy(r->addr, a->addr, QCN_VM_ADDRESS_BYTES);
    qcn_buf_init(&b, ACCOUNT_RLP_MAX);
    begin = qcn_rlp_list_begin(&b);
    if ((err = qcn_rlp_put_u64(&b, a->nonce)) != QCN_OK ||
        (err = put_uint(&b, &a->balance)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(&b, sroot, sizeof sroot)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(&b, a->code_hash, QCN_VM_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_list_end(&b, begin)) != QCN_OK)
        goto out;
    memcpy(r->val, b.p, b.len);
    r->vlen = b.len;
    rc->nacct++;
out:
    qcn_buf_clear(&b);
    return err;
}

int qcn_vm_state_root_all(uint8_t root[32], const struct qcn_vm_state *st)
{
    struct root_ctx rc;
    struct qcn_vm_change_visitor v = {&rc, root_account, root_slot, root_account_done};
    struct qcn_mpt_kv *kvs = NULL;
    int err;

    memset(&rc, 0, sizeof rc);
    memset(root, 0, QCN_MPT_HASH_BYTES);
    err = qcn_vm_state_walk_all(st, &v);
    if (err != QCN_OK)
        goto out;
    kvs = calloc(rc.nacct + 1, sizeof *kvs);
    if (kvs == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < rc.nacct; i++) {
        kvs[i].key = rc.accts[i].addr;
        kvs[i].key_len = QCN_VM_ADDRESS_BYTES;
        kvs[i].value = rc.accts[i].val;
        kvs[i].value_len = rc.accts[i].vlen;
    }
    err = qcn_mpt_secure_root(root, kvs, rc.nacct);
out:
    free(kvs);
    free(rc.slots);
    free(rc.accts);
    return err;
}

/* keccak256(rlp([[address, [topics...], data], ...])). */
static int logs_hash(uint8_t out[QCN_KECCAK256_BYTES], const struct qcn_vm_state *st)
{
    size_t n, outer, inner, tl;
    const struct qcn_vm_log *logs = qcn_vm_state_logs(st, &n);
    struct qcn_buf b;
    int err = QCN_OK;

    qcn_buf_init(&b, LOGS_RLP_MAX);
    outer = qcn_rlp_list_begin(&b);
    for (size_t i = 0; i < n && err == QCN_OK; i++) {
        inner = qcn_rlp_list_begin(&b);
        err = qcn_rlp_put_bytes(&b, logs[i].addr, QCN_VM_ADDRESS_BYTES);
        tl = qcn_rlp_list_begin(&b);
        for (unsigned t = 0; t < logs[i].ntopics && err == QCN_OK; t++)
            err = qcn_rlp_put_bytes(&b, logs[i].topics[t], QCN_U256_BYTES);
        if (err == QCN_OK)
            err = qcn_rlp_list_end(&b, tl);
        if (err == QCN_OK)
            err = qcn_rlp_put_bytes(&b, logs[i].data, logs[i].len);
        if (err == QCN_OK)
            err = qcn_rlp_list_end(&b, inner);
    }
    if (err == QCN_OK)
        err = qcn_rlp_list_end(&b, outer);
    if (err == QCN_OK)
        qcn_keccak256(out, b.p, b.len);
    qcn_buf_clear(&b);
    return err;
}

/* ------------------------------------------------------------------------ */
/* One test. */

struct pre_acct {
    uint8_t addr[QCN_VM_ADDRESS_BYTES];
    uint64_t nonce;
    struct qcn_u256 balance;
    struct bytes code;
    struct qcn_u256 *keys, *vals;
    size_t nslots;
};

struct test {
    const char *file;
    const char *name;
    struct qcn_vm_block_env env;
    struct pre_acct *pre;
    size_t npre;
    json_t *tx;
};

static void free_pre(struct test *t)
{
    for (size_t i = 0; i < t->npre; i++) {
        free(t->pre[i].code.p);
        free(t->pre[i].keys);
        free(t->pre[i].vals);
    }
    free(t->pre);
    t->pre = NULL;
    t->npre = 0;
}

static int parse_env(struct qcn_vm_block_env *e, const json_t *env)
{
    uint64_t excess = 0;
    json_t *rnd;
    memset(e, 0, sizeof *e);
    if (!json_is_object(env) || j_addr(e->coinbase, json_object_get(env, "currentCoinbase")) ||
        j_u64(&e->number, json_object_get(env, "currentNumber")) ||
        j_u64(&e->timestamp, json_object_get(env, "currentTimestamp")) ||
        j_u64(&e->gas_limit, json_object_get(env, "currentGasLimit")))
        return QCN_ERR_VM_STATETEST;
    if (json_object_get(env, "currentBaseFee") != NULL &&
        j_u256(&e->base_fee, json_object_get(env, "currentBaseFee")))
        return QCN_ERR_VM_STATETEST;
    rnd = json_object_get(env, "currentRandom");
    if (rnd == NULL)
        rnd = json_object_get(env, "currentDifficulty");
    if (rnd != NULL && j_word(e->prevrandao, rnd))
        return QCN_ERR_VM_STATETEST;
    if (json_object_get(env, "currentExcessBlobGas") != NULL &&
        j_u64(&excess, json_object_get(env, "currentExcessBlobGas")))
        return QCN_ERR_VM_STATETEST;
    qcn_vm_blob_base_fee(&e->blob_base_fee, excess);
    e->chain_id = qcn_u256_from_u64(1);
    return QCN_OK;
}

static int parse_pre(struct test *t, json_t *pre)
{
    const char *key;
    json_t *acc;
    size_t i = 0;
    if (!json_is_object(pre))
        return QCN_ERR_VM_STATETEST;
    t->pre = calloc(json_object_size(pre) + 1, sizeof *t->pre);
    if (t->pre == NULL)
        return QCN_ERR_NOMEM;
    json_object_foreach(pre, key, acc)
    {
        struct pre_acct *p = &t->pre[i++];
        json_t *storage = json_object_get(acc, "storage");
        const char *sk;
        json_t *sv;
        int err;
        t->npre = i;
        if (qcn_hex_decode_exact(p->addr, QCN_VM_ADDRESS_BYTES, key) != QCN_OK ||
            j_u64(&p->nonce, json_object_get(acc, "nonce")) ||
            j_u256(&p->balance, json_object_get(acc, "balance")))
            return QCN_ERR_VM_STATETEST;
        if ((err = j_bytes(&p->code, json_object_get(acc, "code"))) != QCN_OK)
            return err;
        if (storage != NULL && !json_is_object(storage))
            return QCN_ERR_VM_STATETEST;
        if (storage != NULL && json_object_size(storage) > 0) {
            p->keys = calloc(json_object_size(storage), sizeof *p->keys);
            p->vals = calloc(json_object_size(storage), sizeof *p->vals);
            if (p->keys == NULL || p->vals == NULL)
                return QCN_ERR_NOMEM;
            json_object_foreach(storage, sk, sv)
            {
                if (qcn_u256_parse(&p->keys[p->nslots], sk) != 0 || j_u256(&p->vals[p->nslots], sv))
                    return QCN_ERR_VM_STATETEST;
                p->nslots++;
            }
        }
    }
    return QCN_OK;
}

static int seed(struct qcn_vm_state *st, const struct test *t)
{
    int err;
    for (size_t i = 0; i < t->npre; i++) {
        const struct pre_acct *p = &t->pre[i];
        err = qcn_vm_state_seed_account(st, p->addr, p->nonce, &p->balance, p->code.p, p->code.len);
        if (err != QCN_OK)
            return err;
        for (size_t k = 0; k < p->nslots; k++) {
            if (qcn_u256_is_zero(&p->vals[k]))
                continue; /* the README: zero-valued slots are absent */
            err = qcn_vm_state_seed_storage(st, p->addr, &p->keys[k], &p->vals[k]);
            if (err != QCN_OK)
                return err;
        }
    }
    return QCN_OK;
}

/* Access list storage for one case. */
struct alist {
    struct qcn_vm_access_entry *e;
    uint8_t (*keys)[QCN_U256_BYTES];
    size_t n;
};

static int parse_access_list(struct alist *al, const json_t *list)
{
    size_t nkeys = 0, k = 0, idx;
    json_t *ent;
    memset(al, 0, sizeof *al);
    if (list == NULL || json_is_null(list))
        return QCN_OK;
    if (!json_is_array(list))
        return QCN_ERR_VM_STATETEST;
    json_array_foreach(list, idx, ent)
    {
        json_t *ks = json_object_get(ent, "storageKeys");
        if (!json_is_array(ks))
            return QCN_ERR_VM_STATETEST;
        nkeys += json_array_size(ks);
    }
    al->e = calloc(json_array_size(list) + 1, sizeof *al->e);
    al->keys = calloc(nkeys + 1, sizeof *al->keys);
    if (al->e == NULL || al->keys == NULL)
        return QCN_ERR_NOMEM;
    json_array_foreach(list, idx, ent)
    {
        json_t *ks = json_object_get(ent, "storageKeys"), *kv;
        size_t j;
        struct qcn_vm_access_entry *e = &al->e[al->n++];
        if (j_addr(e->addr, json_object_get(ent, "address")))
            return QCN_ERR_VM_STATETEST;
        e->keys = (const uint8_t(*)[QCN_U256_BYTES]) & al->keys[k];
        json_array_foreach(ks, j, kv)
        {
            if (j_word(al->keys[k++], kv))
                return QCN_ERR_VM_STATETEST;
            e->nkeys++;
        }
    }
    return QCN_OK;
}

static void hex32(char out[65], const uint8_t in[32])
{
    qcn_hex_encode(out, in, 32);
}

/* Older fixtures name the sender only by its secret key: the address is
 * keccak256(uncompressed public key without its 0x04 prefix)[12:]. */
static int sender_from_key(uint8_t out[QCN_VM_ADDRESS_BYTES], const json_t *key)
{
    uint8_t sk[32], pub[65], h[QCN_KECCAK256_BYTES];
    size_t publen = sizeof pub;
    secp256k1_context *ctx;
    secp256k1_pubkey pk;
    int ok;
    if (json_string_value(key) == NULL ||
        qcn_hex_decode_exact(sk, sizeof sk, json_string_value(key)) != QCN_OK)
        return QCN_ERR_VM_STATETEST;
    ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == NULL)
        return QCN_ERR_NOMEM;
    ok = secp256k1_ec_pubkey_create(ctx, &pk, sk) &&
         secp256k1_ec_pubkey_serialize(ctx, pub, &publen, &pk, SECP256K1_EC_UNCOMPRESSED);
    secp256k1_context_destroy(ctx);
    qcn_wipe(sk, sizeof sk);
    if (!ok)
        return QCN_ERR_VM_STATETEST;
    qcn_keccak256(h, pub + 1, sizeof pub - 1);
    memcpy(out, h + 12, QCN_VM_ADDRESS_BYTES);
    return QCN_OK;
}

/* The ledger's state database as the pre state (--statedb): an in-memory
 * store, the pre accounts committed into it, the EVM reading through the
 * backend and writing back, and the root taken from the database's trie. */
struct sdb {
    struct qcn_memstore *ms;
    struct qcn_statedb *db;
};

static int sdb_commit(struct sdb *s, uint8_t root[QCN_HASH_BYTES])
{
    struct qcn_writeset ws;
    int err;
    qcn_writeset_init(&ws);
    err = qcn_statedb_commit(s->db, root, &ws);
    if (err == QCN_OK)
        err = qcn_memstore_apply(s->ms, &ws);
    if (err == QCN_OK)
        qcn_statedb_finalize(s->db);
    qcn_writeset_clear(&ws);
    return err;
}

static void sdb_close(struct sdb *s)
{
    qcn_statedb_free(s->db);
    qcn_memstore_free(s->ms);
    s->db = NULL;
    s->ms = NULL;
}

static int sdb_open(struct sdb *s, const struct test *t)
{
    uint8_t root[QCN_HASH_BYTES];
    int err;
    memset(s, 0, sizeof *s);
    if ((err = qcn_memstore_new(&s->ms)) != QCN_OK ||
        (err = qcn_statedb_new(&s->db, qcn_memstore_reader(s->ms), qcn_empty_trie_root)) != QCN_OK)
        return err;
    for (size_t i = 0; i < t->npre; i++) {
        const struct pre_acct *p = &t->pre[i];
        struct qcn_account a;
        qcn_account_init(&a);
        a.nonce = p->nonce;
        a.balance = p->balance;
        if (p->code.len > 0 &&
            (err = qcn_statedb_code_put(s->db, p->code.p, p->code.len, a.code_hash)) != QCN_OK)
            return err;
        if ((err = qcn_statedb_account_put(s->db, p->addr, &a)) != QCN_OK)
            return err;
        for (size_t k = 0; k < p->nslots; k++) {
            uint8_t key[QCN_U256_BYTES], val[QCN_U256_BYTES];
            if (qcn_u256_is_zero(&p->vals[k]))
                continue;
            qcn_u256_to_be32(key, &p->keys[k]);
            qcn_u256_to_be32(val, &p->vals[k]);
            if ((err = qcn_statedb_storage_set(s->db, p->addr, key, val)) != QCN_OK)
                return err;
        }
    }
    return sdb_commit(s, root);
}

/* Runs one post entry. Returns QCN_OK with *pass set, or a fixture error. */
static int run_case(struct qcn_vm *vm, const struct test *t, const json_t *post,
                    const struct qcn_vm_statetest_opts *opts, int *pass, char *why, size_t whylen)
{
    const json_t *tx = t->tx, *ix = json_object_get(post, "indexes");
    struct qcn_vm_eth_tx etx;
    struct qcn_vm_tx_result res = {QCN_VM_FAILURE, 0, NULL, 0, {0}};
    struct qcn_vm_state *st = NULL;
    struct sdb sdb = {NULL, NULL};
    struct qcn_vm_state_backend be;
    struct bytes data = {NULL, 0};
    struct alist al = {NULL, NULL, 0};
    uint8_t(*blobs)[QCN_U256_BYTES] = NULL;
    uint8_t root[32], lh[32], want_root[32], want_logs[32];
    json_int_t di, gi, vi;
    json_t *blob_list, *al_list;
    int err, rej = QCN_OK, bad_tx = 0;

    *pass = 0;
    why[0] = '\0';
    if (!json_is_object(ix))
        return QCN_ERR_VM_STATETEST;
    di = json_integer_value(json_object_get(ix, "data"));
    gi = json_integer_value(json_object_get(ix, "gas"));
    vi = json_integer_value(json_object_get(ix, "value"));
    if (j_word(want_root, json_object_get(post, "hash")) ||
        j_word(want_logs, json_object_get(post, "logs")))
        return QCN_ERR_VM_STATETEST;

    memset(&etx, 0, sizeof etx);
    if (json_object_get(tx, "sender") != NULL) {
        if (j_addr(etx.sender, json_object_get(tx, "sender")))
            return QCN_ERR_VM_STATETEST;
    } else if (sender_from_key(etx.sender, json_object_get(tx, "secretKey")) != QCN_OK) {
        return QCN_ERR_VM_STATETEST;
    }
    {
        const char *to = json_string_value(json_object_get(tx, "to"));
        if (to == NULL)
            return QCN_ERR_VM_STATETEST;
        if (to[0] == '\0')
            etx.is_create = 1;
        else if (qcn_hex_decode_exact(etx.to, QCN_VM_ADDRESS_BYTES, to) != QCN_OK)
            return QCN_ERR_VM_STATETEST;
    }
    /* Out-of-range scalars (a nonce or gas limit past 2^64) make the
     * transaction invalid rather than the fixture. */
    if (j_u64(&etx.nonce, json_object_get(tx, "nonce")))
        bad_tx = 1;
    if (j_u64(&etx.gas_limit, json_array_get(json_object_get(tx, "gasLimit"), (size_t)gi)))
        bad_tx = 1;
    if (j_u256(&etx.value, json_array_get(json_object_get(tx, "value"), (size_t)vi)))
        bad_tx = 1;
    if ((err = j_bytes(&data, json_array_get(json_object_get(tx, "data"), (size_t)di))) != QCN_OK)
        goto out;
    etx.data = data.p;
    etx.data_len = data.len;
    al_list = json_object_get(tx, "accessLists");
    if (al_list != NULL) {
        etx.type = 1;
        if ((err = parse_access_list(&al, json_array_get(al_list, (size_t)di))) != QCN_OK)
            goto out;
        etx.access_list = al.e;
        etx.naccess = al.n;
    }
    if (json_object_get(tx, "maxFeePerGas") != NULL) {
        etx.type = 2;
        if (j_u256(&etx.max_fee, json_object_get(tx, "maxFeePerGas")) ||
            j_u256(&etx.max_priority_fee, json_object_get(tx, "maxPriorityFeePerGas")))
            bad_tx = 1;
    } else if (j_u256(&etx.gas_price, json_object_get(tx, "gasPrice"))) {
        bad_tx = 1;
    }
    blob_list = json_object_get(tx, "blobVersionedHashes");
    if (blob_list != NULL) {
        size_t i;
        json_t *h;
        etx.type = 3;
        if (j_u256(&etx.max_fee_per_blob_gas, json_object_get(tx, "maxFeePerBlobGas")))
            bad_tx = 1;
        blobs = calloc(json_array_size(blob_list) + 1, sizeof *blobs);
        if (blobs == NULL) {
            err = QCN_ERR_NOMEM;
            goto out;
        }
        json_array_foreach(blob_list, i, h)
        {
            if (j_word(blobs[i], h)) {
                err = QCN_ERR_VM_STATETEST;
                goto out;
            }
        }
        etx.blob_hashes = (const uint8_t(*)[QCN_U256_BYTES])blobs;
        etx.nblob_hashes = json_array_size(blob_list);
    }

    if (opts->statedb) {
        if ((err = sdb_open(&sdb, t)) != QCN_OK)
            goto out;
        be = qcn_vm_statedb_backend(sdb.db);
        st = qcn_vm_state_new(&be);
    } else {
        st = qcn_vm_state_new(NULL);
    }
    if (st == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    if (!opts->statedb && (err = seed(st, t)) != QCN_OK)
        goto out;
    qcn_vm_state_begin_tx(st);
    if (!bad_tx) {
        rej = qcn_vm_eth_tx_apply(vm, st, &t->env, &etx, &res);
        if (rej != QCN_OK && qcn_vm_state_error(st) != QCN_OK) {
            err = rej;
            goto out;
        }
        if (rej != QCN_OK)
            qcn_vm_state_begin_tx(st); /* rejected: nothing applied, no logs */
    }
    if (opts->statedb) {
        if ((rej == QCN_OK && !bad_tx &&
             (err = qcn_vm_state_write_statedb(st, sdb.db)) != QCN_OK) ||
            (err = sdb_commit(&sdb, root)) != QCN_OK)
            goto out;
    } else if ((err = qcn_vm_state_root_all(root, st)) != QCN_OK) {
        goto out;
    }
    if ((err = logs_hash(lh, st)) != QCN_OK)
        goto out;
    *pass = memcmp(root, want_root, 32) == 0 && memcmp(lh, want_logs, 32) == 0;
    if (opts->trace != NULL) {
        /* The end-of-transaction line of an EIP-3155 trace. */
        char r[65];
        hex32(r, root);
        fprintf(opts->trace,
                "{\"stateRoot\":\"0x%s\",\"gasUsed\":\"0x%llx\",\"status\":\"%s\","
                "\"pass\":%s}\n",
                r, (unsigned long long)(rej == QCN_OK && !bad_tx ? res.gas_used : 0),
                bad_tx                         ? "unparseable"
                : rej != QCN_OK                ? qcn_err_name(rej)
                : res.status == QCN_VM_SUCCESS ? "success"
                : res.status == QCN_VM_REVERT  ? "revert"
                                               : "failure",
                *pass ? "true" : "false");
    }
    if (!*pass) {
        char a[65], b[65];
        const char *exc = json_string_value(json_object_get(post, "expectException"));
        if (memcmp(root, want_root, 32) != 0) {
            hex32(a, root);
            hex32(b, want_root);
            snprintf(why, whylen, "root %s want %s", a, b);
        } else {
            hex32(a, lh);
            hex32(b, want_logs);
            snprintf(why, whylen, "logs %s want %s", a, b);
        }
        if (rej != QCN_OK || bad_tx || exc != NULL) {
            size_t l = strlen(why);
            snprintf(why + l, whylen - l, " (we: %s; expected: %s)",
                     bad_tx          ? "unparseable tx"
                     : rej != QCN_OK ? qcn_err_name(rej)
                                     : "valid",
                     exc != NULL ? exc : "valid");
        }
    }
out:
    qcn_vm_state_free(st);
    sdb_close(&sdb);
    free(data.p);
    free(al.e);
    free(al.keys);
    free(blobs);
    return err;
}

static int run_test(struct qcn_vm *vm, struct test *t, json_t *test,
                    const struct qcn_vm_statetest_opts *opts, struct qcn_vm_statetest_stats *stats)
{
    json_t *post = json_object_get(json_object_get(test, "post"), opts->fork);
    json_t *entry, *cid;
    size_t i;
    int err;

    if (post == NULL) {
        stats->tests_skipped++;
        return QCN_OK;
    }
    if (!json_is_array(post))
        return QCN_ERR_VM_STATETEST;
    if ((err = parse_env(&t->env, json_object_get(test, "env"))) != QCN_OK ||
        (err = parse_pre(t, json_object_get(test, "pre"))) != QCN_OK)
        goto out;
    /* Newer execution-spec-tests fixtures carry the chain id in "config". */
    cid = json_object_get(json_object_get(test, "config"), "chainid");
    if (cid != NULL && j_u256(&t->env.chain_id, cid) != QCN_OK) {
        err = QCN_ERR_VM_STATETEST;
        goto out;
    }
    t->tx = json_object_get(test, "transaction");
    if (!json_is_object(t->tx)) {
        err = QCN_ERR_VM_STATETEST;
        goto out;
    }
    json_array_foreach(post, i, entry)
    {
        char why[512];
        int pass = 0;
        json_t *ix = json_object_get(entry, "indexes");
        err = run_case(vm, t, entry, opts, &pass, why, sizeof why);
        stats->cases++;
        if (err != QCN_OK) {
            snprintf(why, sizeof why, "error %s", qcn_err_name(err));
            err = QCN_OK;
        }
        stats->passed += (size_t)pass;
        if (opts->report != NULL && (!pass || opts->verbose))
            fprintf(opts->report, "%s %s %s [d=%lld g=%lld v=%lld] %s\n", pass ? "PASS" : "FAIL",
                    t->file, t->name, (long long)json_integer_value(json_object_get(ix, "data")),
                    (long long)json_integer_value(json_object_get(ix, "gas")),
                    (long long)json_integer_value(json_object_get(ix, "value")), why);
    }
out:
    free_pre(t);
    return err;
}

int qcn_vm_statetest_run_file(const char *path, const struct qcn_vm_statetest_opts *opts,
                              struct qcn_vm_statetest_stats *stats)
{
    json_error_t jerr;
    json_t *root = NULL, *test;
    struct qcn_vm *vm = NULL;
    const char *name;
    struct qcn_vm_statetest_opts o = *opts;
    int err = QCN_OK;

    if (o.fork == NULL)
        o.fork = "Cancun";
    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        if (o.report != NULL)
            fprintf(o.report, "ERROR %s: %s (line %d)\n", path, jerr.text, jerr.line);
        return QCN_ERR_BAD_JSON;
    }
    if (!json_is_object(root)) {
        err = QCN_ERR_VM_STATETEST;
        goto out;
    }
    vm = qcn_vm_new();
    if (vm == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    qcn_vm_set_trace(vm, o.trace);
    qcn_vm_set_ethereum_only(vm, 1);
    json_object_foreach(root, name, test)
    {
        struct test t;
        memset(&t, 0, sizeof t);
        t.file = path;
        t.name = name;
        err = run_test(vm, &t, test, &o, stats);
        if (err != QCN_OK) {
            if (o.report != NULL)
                fprintf(o.report, "ERROR %s %s: %s\n", path, name, qcn_err_name(err));
            goto out;
        }
    }
out:
    qcn_vm_free(vm);
    json_decref(root);
    return err;
}
