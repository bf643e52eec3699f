/* genesis.c - the genesis file (docs/protocol.md §8) and block 0.
 *
 * Numbers may be JSON integers or strings ("123" decimal, "0x7b" hex);
 * balances are strings or integers up to 2^256-1. Every field is checked and
 * a bad one is named in the error message. */
#include "chain/chain_internal.h"
#include "chain/chain_staking.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/keyrec.h"
#include "state/mpt.h"
#include "state/statedb_mem.h"
#include "util/hex.h"

static void set_err(char *err, size_t errlen, const char *what, const char *name)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "genesis: %s%s%s", what, name ? ": " : "", name ? name : "");
}

/* Decimal or 0x-hex string, or a JSON integer, into a u256. */
static int parse_u256(struct qcn_u256 *out, const json_t *v)
{
    const char *s;
    size_t i, len;
    uint8_t be[32];

    *out = qcn_u256_from_u64(0);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return QCN_ERR_BAD_JSON;
        *out = qcn_u256_from_u64((uint64_t)json_integer_value(v));
        return QCN_OK;
    }
    if (!json_is_string(v))
        return QCN_ERR_BAD_JSON;
    s = json_string_value(v);
    len = json_string_length(v);
    if (len == 0)
        return QCN_ERR_BAD_JSON;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        char padded[67];
        size_t digits = len - 2;
        if (digits > 64)
            return QCN_ERR_BAD_JSON;
        memset(padded, '0', 64);
        memcpy(padded + 64 - digits, s + 2, digits);
        padded[64] = 0;
        if (qcn_hex_decode_exact(be, 32, padded) != QCN_OK)
            return QCN_ERR_BAD_JSON;
        *out = qcn_u256_load_be(be);
        return QCN_OK;
    }
    for (i = 0; i < len; i++) {
        struct qcn_u256 d;
        if (s[i] < '0' || s[i] > '9')
            return QCN_ERR_BAD_JSON;
        d = qcn_u256_from_u64((uint64_t)(s[i] - '0'));
        if (qcn_u256_mul_u64(out, out, 10) || qcn_u256_add(out, out, &d))
            return QCN_ERR_BAD_JSON;
    }
    return QCN_OK;
}

static int parse_u64(uint64_t *out, const json_t *v)
{
    struct qcn_u256 u;
    int err = parse_u256(&u, v);
    if (err != QCN_OK || u.w[1] || u.w[2] || u.w[3])
        return QCN_ERR_BAD_JSON;
    *out = u.w[0];
    return QCN_OK;
}

static int parse_scheme(uint8_t *out, const json_t *v)
{
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 1 || i > 3)
            return QCN_ERR_BAD_JSON;
        *out = (uint8_t)i;
        return QCN_OK;
    }
    if (s == NULL)
        return QCN_ERR_BAD_JSON;
    if (strcmp(s, "ml-dsa-44") == 0)
        *out = QCN_SCHEME_MLDSA44;
    else if (strcmp(s, "ml-dsa-65") == 0)
        *out = QCN_SCHEME_MLDSA65;
    else if (strcmp(s, "ml-dsa-87") == 0)
        *out = QCN_SCHEME_MLDSA87;
    else
        return QCN_ERR_BAD_JSON;
    return QCN_OK;
}

/* One allocation: {"balance", "nonce"?, "scheme"?, "public_key"?}, keyed by
 * address (or by "" / any name when the public key gives the address). */
static int parse_alloc(struct qcn_genesis_alloc *a, const char *key, const json_t *v, char *err,
                       size_t errlen)
{
    const json_t *bal = json_object_get(v, "balance"), *pk = json_object_get(v, "public_key");
    const json_t *sch = json_object_get(v, "scheme"), *nonce = json_object_get(v, "nonce");
    uint8_t pkb[QCN_MLDSA_MAX_PK_BYTES], derived[QCN_ADDRESS_BYTES], scheme = QCN_SCHEME_DEFAULT;
    size_t pklen, klen = strlen(key);
    int have_addr = 0;
    struct qcn_keyrec kr;
    struct qcn_buf b;
    int e;

    if (!json_is_object(v)) {
        set_err(err, errlen, "allocation is not an object", key);
        return QCN_ERR_BAD_JSON;
    }
    if (klen == 42 || klen == 40) {
        if (qcn_hex_decode_exact(a->address, QCN_ADDRESS_BYTES, key) != QCN_OK) {
            set_err(err, errlen, "bad address", key);
            return QCN_ERR_BAD_JSON;
        }
        have_addr = 1;
    }
    if (bal != NULL && parse_u256(&a->balance, bal) != QCN_OK) {
        set_err(err, errlen, "bad balance", key);
        return QCN_ERR_BAD_JSON;
    }
    if (nonce != NULL && parse_u64(&a->nonce, nonce) != QCN_OK) {
        set_err(err, errlen, "bad nonce", key);
        return QCN_ERR_BAD_JSON;
    }
    if (sch != NULL && parse_scheme(&scheme, sch) != QCN_OK) {
        set_err(err, errlen, "bad scheme (ml-dsa-44, ml-dsa-65, ml-dsa-87)", key);
        return QCN_ERR_BAD_JSON;
    }
    if (pk == NULL) {
        if (!have_addr) {
            set_err(err, errlen, "allocation needs an address or a public key", key);
            return QCN_ERR_BAD_JSON;
        }
        return QCN_OK;
    }
    if (!json_is_string(pk) ||
        qcn_hex_decode(pkb, sizeof pkb, &pklen, json_string_value(pk), json_string_length(pk)) !=
            QCN_OK ||
        qcn_keyrec_single(&kr, scheme, qcn_view_make(pkb, pklen)) != QCN_OK) {
        set_err(err, errlen, "bad public key for its scheme", key);
        return QCN_ERR_BAD_JSON;
    }
    qcn_address_from_key(derived, scheme, pkb, pklen);
    if (have_addr && memcmp(derived, a->address, QCN_ADDRESS_BYTES) != 0) {
        set_err(err, errlen, "address does not match its public key", key);
        return QCN_ERR_BAD_JSON;
    }
    memcpy(a->address, derived, QCN_ADDRESS_BYTES);
    qcn_buf_init(&b, QCN_KEYREC_MAX_BYTES);
    e = qcn_keyrec_encode(&b, &kr);
    if (e == QCN_OK) {
        a->key_record = b.p; /* ownership moves to the allocation */
        a->key_record_len = b.len;
        return QCN_OK;
    }
    qcn_buf_clear(&b);
    return e;
}

/* The "staking" object (docs/protocol.md §8): any of the parameters by
 * name over the defaults; an unknown name is an error (a typo must not
 * silently leave a default in force). Amounts are gwei, named so. */
static int parse_staking(struct qcn_staking_params *p, const json_t *obj, char *err, size_t errlen)
{
    const char *key;
    const json_t *v;

    qcn_staking_params_default(p);
    if (!json_is_object(obj)) {
        set_err(err, errlen, "staking is not an object", NULL);
        return QCN_ERR_BAD_JSON;
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        uint64_t x;
        if (parse_u64(&x, v) != QCN_OK) {
            set_err(err, errlen, "bad staking parameter (an unsigned integer)", key);
            return QCN_ERR_BAD_JSON;
        }
        if (strcmp(key, "min_self_stake_gwei") == 0)
            p->min_self_stake = x;
        else if (strcmp(key, "epoch_length") == 0)
            p->epoch_length = x;
        else if (strcmp(key, "unbonding_blocks") == 0)
            p->unbonding_blocks = x;
        else if (strcmp(key, "downtime_window") == 0)
            p->downtime_window = x;
        else if (strcmp(key, "downtime_max_missed") == 0)
            p->downtime_max_missed = x;
        else if (strcmp(key, "jail_blocks") == 0)
            p->jail_blocks = x;
        else if (strcmp(key, "issuance_per_block_gwei") == 0)
            p->issuance_per_block = x;
        else if (x > UINT32_MAX) {
            set_err(err, errlen, "staking parameter out of range", key);
            return QCN_ERR_BAD_JSON;
        } else if (strcmp(key, "max_validators") == 0)
            p->max_validators = (uint32_t)x;
        else if (strcmp(key, "slash_double_sign_bps") == 0)
            p->slash_double_sign_bps = (uint32_t)x;
        else if (strcmp(key, "max_commission_bps") == 0)
            p->max_commission_bps = (uint32_t)x;
        else if (strcmp(key, "max_commission_change_bps") == 0)
            p->max_commission_change_bps = (uint32_t)x;
        else {
            set_err(err, errlen, "unknown staking parameter", key);
            return QCN_ERR_BAD_JSON;
        }
    }
    return QCN_OK;
}

/* One of "validators": {"public_key", "power", "beacon_tip", "operator"?,
 * "commission_bps"?}; err names it by index. */
static int parse_validator(struct qcn_genesis_validator *gv, size_t idx, const json_t *v, char *err,
                           size_t errlen)
{
    const char *key, *bad = NULL;
    const json_t *f;
    char name[32];
    int have_pk = 0, have_power = 0, have_tip = 0, have_op = 0;

    snprintf(name, sizeof name, "validators[%zu]", idx);
    if (!json_is_object(v)) {
        set_err(err, errlen, "validator is not an object", name);
        return QCN_ERR_BAD_JSON;
    }
    json_object_foreach((json_t *)v, key, f)
    {
        const char *str = json_string_value(f);
        uint64_t x;
        if (strcmp(key, "public_key") == 0) {
            if (str == NULL || qcn_hex_decode_exact(gv->pubkey, sizeof gv->pubkey, str) != QCN_OK)
                bad = "public_key must be hex of an ML-DSA-65 public key (1952 bytes)";
            have_pk = 1;
        } else if (strcmp(key, "power") == 0) {
            if (parse_u64(&gv->power, f) != QCN_OK || gv->power == 0)
                bad = "power must be a positive integer (coins of self stake)";
            have_power = 1;
        } else if (strcmp(key, "beacon_tip") == 0) {
            if (str == NULL ||
                qcn_hex_decode_exact(gv->beacon_tip, sizeof gv->beacon_tip, str) != QCN_OK)
                bad = "beacon_tip must be 32 bytes of hex";
            have_tip = 1;
        } else if (strcmp(key, "operator") == 0) {
            if (str == NULL ||
                qcn_hex_decode_exact(gv->operator_addr, QCN_ADDRESS_BYTES, str) != QCN_OK)
                bad = "operator must be an address (0x + 40 hex digits)";
            have_op = 1;
        } else if (strcmp(key, "commission_bps") == 0) {
            if (parse_u64(&x, f) != QCN_OK || x > QCN_STAKING_BPS)
                bad = "commission_bps must be 0..10000";
            else
                gv->commission_bps = (uint32_t)x;
        } else {
            bad = "unknown field (public_key, power, beacon_tip, operator, commission_bps)";
        }
        if (bad != NULL)
            break;
    }
    if (bad == NULL && (!have_pk || !have_power || !have_tip))
        bad = "public_key, power and beacon_tip are required";
    if (bad != NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "genesis: %s: %s", name, bad);
        return QCN_ERR_BAD_JSON;
    }
    if (!have_op)
        qcn_address_from_key(gv->operator_addr, QCN_SCHEME_MLDSA65, gv->pubkey, sizeof gv->pubkey);
    return QCN_OK;
}

/* Runs the genesis staking step over a scratch state, so that every rule
 * it applies (parameter ranges, duplicates, minimum stake, total power)
 * is reported by the parser with its message. */
static int check_staking(const struct qcn_genesis *g, char *err, size_t errlen)
{
    struct qcn_memstore *ms = NULL;
    struct qcn_statedb *db = NULL;
    int e;

    if ((e = qcn_memstore_new(&ms)) == QCN_OK &&
        (e = qcn_statedb_new(&db, qcn_memstore_reader(ms), QCN_MPT_EMPTY_ROOT)) == QCN_OK)
        e = qcn_chain_staking_genesis(db, g, err, errlen);
    qcn_statedb_free(db);
    qcn_memstore_free(ms);
    return e;
}

int qcn_genesis_parse_json(struct qcn_genesis *out, const char *json, size_t len, char *err,
                           size_t errlen)
{
    json_t *root = NULL, *alloc, *v;
    json_error_t je;
    const char *key;
    size_t n, i = 0, elen;
    int e = QCN_ERR_BAD_JSON;

    memset(out, 0, sizeof *out);
    if (err != NULL && errlen > 0)
        err[0] = 0;
    if (len > QCN_GENESIS_MAX_BYTES) {
        set_err(err, errlen, "file too large", NULL);
        return QCN_ERR_TOO_LARGE;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
        set_err(err, errlen, "not a JSON object", root == NULL ? je.text : NULL);
        goto fail;
    }
    if (parse_u64(&out->params.chain_id, json_object_get(root, "chain_id")) != QCN_OK ||
        out->params.chain_id == 0) {
        set_err(err, errlen, "chain_id missing or invalid", NULL);
        goto fail;
    }
    out->params.block_gas_limit = 1000000000;
    out->params.initial_base_fee = 1000000000;
    if ((v = json_object_get(root, "gas_limit")) != NULL &&
        (parse_u64(&out->params.block_gas_limit, v) != QCN_OK ||
         out->params.block_gas_limit < QCN_GAS_TX)) {
        set_err(err, errlen, "bad gas_limit", NULL);
        goto fail;
    }
    if ((v = json_object_get(root, "base_fee")) != NULL &&
        parse_u64(&out->params.initial_base_fee, v) != QCN_OK) {
        set_err(err, errlen, "bad base_fee", NULL);
        goto fail;
    }
    out->params.min_base_fee = out->params.initial_base_fee;
    if ((v = json_object_get(root, "min_base_fee")) != NULL &&
        parse_u64(&out->params.min_base_fee, v) != QCN_OK) {
        set_err(err, errlen, "bad min_base_fee", NULL);
        goto fail;
    }
    if ((v = json_object_get(root, "timestamp")) != NULL &&
        parse_u64(&out->timestamp, v) != QCN_OK) {
        set_err(err, errlen, "bad timestamp", NULL);
        goto fail;
    }
    if ((v = json_object_get(root, "extra")) != NULL &&
        (!json_is_string(v) ||
         qcn_hex_decode(out->extra, sizeof out->extra, &elen, json_string_value(v),
                        json_string_length(v)) != QCN_OK)) {
        set_err(err, errlen, "bad extra (hex, at most 64 bytes)", NULL);
        goto fail;
    }
    out->extra_len = v != NULL ? elen : 0;
    alloc = json_object_get(root, "alloc");
    if (alloc != NULL && !json_is_object(alloc)) {
        set_err(err, errlen, "alloc is not an object", NULL);
        goto fail;
    }
    n = alloc != NULL ? json_object_size(alloc) : 0;
    if (n > QCN_GENESIS_MAX_ALLOC) {
        set_err(err, errlen, "too many allocations", NULL);
        e = QCN_ERR_TOO_LARGE;
        goto fail;
    }
    out->alloc = calloc(n ? n : 1, sizeof *out->alloc);
    if (out->alloc == NULL) {
        e = QCN_ERR_NOMEM;
        goto fail;
    }
    if (alloc != NULL) {
        json_object_foreach(alloc, key, v)
        {
            e = parse_alloc(&out->alloc[i], key, v, err, errlen);
            out->nalloc = ++i;
            if (e != QCN_OK)
                goto fail;
        }
    }
    qcn_staking_params_default(&out->staking);
    if ((v = json_object_get(root, "staking")) != NULL) {
        if ((e = parse_staking(&out->staking, v, err, errlen)) != QCN_OK)
            goto fail;
        out->has_staking = 1;
    }
    if ((v = json_object_get(root, "validators")) != NULL) {
        size_t nv = json_is_array(v) ? json_array_size(v) : 0;
        if (!json_is_array(v)) {
            set_err(err, errlen, "validators is not an array", NULL);
            e = QCN_ERR_BAD_JSON;
            goto fail;
        }
        if (nv > QCN_GENESIS_MAX_VALIDATORS) {
            set_err(err, errlen, "too many validators", NULL);
            e = QCN_ERR_TOO_LARGE;
            goto fail;
        }
        out->validators = calloc(nv ? nv : 1, sizeof *out->validators);
        if (out->validators == NULL) {
            e = QCN_ERR_NOMEM;
            goto fail;
        }
        out->nvalidators = nv;
        for (i = 0; i < nv; i++)
            if ((e = parse_validator(&out->validators[i], i, json_array_get(v, i), err, errlen)) !=
                QCN_OK)
                goto fail;
    }
    if ((e = check_staking(out, err, errlen)) != QCN_OK)
        goto fail;
    /* Two entries for one address (by key and by address) would be ambiguous. */
    for (i = 0; i < out->nalloc; i++) {
        size_t j;
        for (j = 0; j < i; j++) {
            if (memcmp(out->alloc[i].address, out->alloc[j].address, QCN_ADDRESS_BYTES) == 0) {
                set_err(err, errlen, "address allocated twice", NULL);
                e = QCN_ERR_BAD_JSON;
                goto fail;
            }
        }
    }
    json_decref(root);
    return QCN_OK;
fail:
    json_decref(root);
    qcn_genesis_clear(out);
    return e == QCN_OK ? QCN_ERR_BAD_JSON : e;
}

void qcn_genesis_clear(struct qcn_genesis *g)
{
    size_t i;
    for (i = 0; i < g->nalloc; i++)
        free(g->alloc[i].key_record);
    free(g->alloc);
    free(g->validators);
    memset(g, 0, sizeof *g);
}

int qcn_genesis_build(const struct qcn_genesis *g, struct qcn_block_result *out)
{
    struct qcn_memstore *ms = NULL;
    struct qcn_statedb *db = NULL;
    struct qcn_header *h;
    struct qcn_account a;
    struct qcn_buf b;
    uint8_t hk[8];
    size_t i;
    int err, exists;

    qcn_block_result_init(out);
    qcn_buf_init(&b, 4096);
    /* Block 0's state is built over an empty in-memory store: nothing is read. */
    if ((err = qcn_memstore_new(&ms)) != QCN_OK ||
        (err = qcn_statedb_new(&db, qcn_memstore_reader(ms), QCN_MPT_EMPTY_ROOT)) != QCN_OK)
        goto out;
    for (i = 0; i < g->nalloc && err == QCN_OK; i++) {
        const struct qcn_genesis_alloc *al = &g->alloc[i];
        if ((err = qcn_statedb_account_get(db, &a, &exists, al->address)) != QCN_OK)
            break;
        a.balance = al->balance;
        a.nonce = al->nonce;
        err = qcn_statedb_account_put(db, al->address, &a);
        if (err == QCN_OK && al->key_record != NULL)
            err = qcn_statedb_key_set(db, al->address, al->key_record, al->key_record_len);
    }
    /* Staking after the allocations: the escrow adds to whatever the
     * staking account was given. */
    if (err != QCN_OK || (err = qcn_chain_staking_genesis(db, g, NULL, 0)) != QCN_OK)
        goto out;
    h = &out->block.header;
    h->height = 0;
    h->timestamp = g->timestamp;
    h->gas_limit = g->params.block_gas_limit;
    h->base_fee = g->params.initial_base_fee;
    h->extra_len = g->extra_len;
    memcpy(h->extra, g->extra, g->extra_len);
    memcpy(h->tx_root, QCN_MPT_EMPTY_ROOT, QCN_HASH_BYTES);
    memcpy(h->receipts_root, QCN_MPT_EMPTY_ROOT, QCN_HASH_BYTES);
    if ((err = qcn_statedb_commit(db, h->state_root, &out->writes)) != QCN_OK ||
        (err = qcn_header_hash(out->block.hash, h)) != QCN_OK)
        goto out;
    out->receipts = calloc(1, sizeof *out->receipts);
    if (out->receipts == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    qcn_store_be64(hk, 0);
    if ((err = qcn_header_encode(&b, h)) != QCN_OK ||
        (err = qcn_writeset_put(&out->writes, QCN_TABLE_HEADER, out->block.hash, QCN_HASH_BYTES,
                                b.p, b.len)) != QCN_OK ||
        (err = qcn_writeset_put(&out->writes, QCN_TABLE_BODY, out->block.hash, QCN_HASH_BYTES,
                                (const uint8_t *)"\xc0", 1)) != QCN_OK ||
        (err = qcn_writeset_put(&out->writes, QCN_TABLE_RECEIPTS, out->block.hash, QCN_HASH_BYTES,
                                (const uint8_t *)"\xc0", 1)) != QCN_OK ||
        (err = qcn_writeset_put(&out->writes, QCN_TABLE_CANON, hk, sizeof hk, out->block.hash,
                                QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_writeset_put(&out->writes, QCN_TABLE_META, (const uint8_t *)"genesis", 7,
                                out->block.hash, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_writeset_put(&out->writes, QCN_TABLE_META, (const uint8_t *)"head", 4,
                                out->block.hash, QCN_HASH_BYTES)) != QCN_OK)
        goto out;
    qcn_buf_reset(&b);
    if ((err = qcn_chain_params_encode(&b, &g->params)) != QCN_OK)
        goto out;
    err = qcn_writeset_put(&out->writes, QCN_TABLE_META, (const uint8_t *)"params", 6, b.p, b.len);
out:
    if (err != QCN_OK)
        qcn_block_result_clear(out);
    qcn_statedb_free(db);
    qcn_memstore_free(ms);
    qcn_buf_clear(&b);
    return err;
}
