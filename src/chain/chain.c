/* chain.c - the ledger rules (docs/protocol.md §3, §7): fees (EIP-1559),
 * intrinsic gas, transaction validity, execution of native transactions
 * (transfers and key-manager operations), and the head the node builds on.
 * Block building and applying live in chain_block.c. */
#include "chain/chain_internal.h"

#include <stdlib.h>
#include <string.h>

#include "chain/chain_staking.h"
#include "chain/mempool.h"
#include "codec/keyrec.h"
#include "codec/rlp.h"

const uint8_t qcn_key_manager_address[QCN_ADDRESS_BYTES] = {0, 0, 0, 0, 0, 0, 0, 0,    0,    0,
                                                            0, 0, 0, 0, 0, 0, 0, 0x00, 0x51, 0x00};

int qcn_chain_params_encode(struct qcn_buf *b, const struct qcn_chain_params *p)
{
    size_t l = qcn_rlp_list_begin(b);
    int err;
    if ((err = qcn_rlp_put_u64(b, p->chain_id)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, p->block_gas_limit)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, p->initial_base_fee)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, p->min_base_fee)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

int qcn_chain_params_decode(struct qcn_chain_params *p, struct qcn_view in)
{
    struct qcn_rlp_item top, f[4];
    memset(p, 0, sizeof *p);
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(f, 4, &top) != QCN_OK ||
        qcn_rlp_get_u64(&p->chain_id, &f[0]) != QCN_OK ||
        qcn_rlp_get_u64(&p->block_gas_limit, &f[1]) != QCN_OK ||
        qcn_rlp_get_u64(&p->initial_base_fee, &f[2]) != QCN_OK ||
        qcn_rlp_get_u64(&p->min_base_fee, &f[3]) != QCN_OK) {
        memset(p, 0, sizeof *p);
        return QCN_ERR_CODEC;
    }
    return QCN_OK;
}

/* EIP-1559 §"Specification": the base fee moves by at most 1/8 per block
 * towards keeping blocks half full. Integer arithmetic exactly as the EIP
 * (128-bit intermediate so huge fees cannot overflow); floored at min_base_fee. */
uint64_t qcn_chain_base_fee_next(const struct qcn_chain_params *p, uint64_t parent_base_fee,
                                 uint64_t parent_gas_used, uint64_t parent_gas_limit)
{
    __extension__ typedef unsigned __int128 u128;
    uint64_t target = parent_gas_limit / QCN_ELASTICITY_MULTIPLIER, delta, next;
    u128 d;

    if (target == 0 || parent_gas_used == target) {
        next = parent_base_fee;
    } else if (parent_gas_used > target) {
        d = (u128)parent_base_fee * (parent_gas_used - target) / target /
            QCN_BASE_FEE_CHANGE_DENOMINATOR;
        delta = d > UINT64_MAX ? UINT64_MAX : (uint64_t)d;
        if (delta < 1)
            delta = 1;
        if (__builtin_add_overflow(parent_base_fee, delta, &next))
            next = UINT64_MAX;
    } else {
        d = (u128)parent_base_fee * (target - parent_gas_used) / target /
            QCN_BASE_FEE_CHANGE_DENOMINATOR;
        delta = (uint64_t)d; /* <= parent_base_fee / 8 */
        next = parent_base_fee - delta;
    }
    return next < p->min_base_fee ? p->min_base_fee : next;
}

uint64_t qcn_chain_next_base_fee(const struct qcn_chain *c)
{
    /* Block 1 starts at the configured fee whatever the genesis block did. */
    if (c->head.height == 0)
        return c->params.initial_base_fee;
    return qcn_chain_base_fee_next(&c->params, c->head.base_fee, c->head.gas_used,
                                   c->head.gas_limit);
}

int qcn_tx_intrinsic_gas(uint64_t *gas, const struct qcn_tx *tx)
{
    uint64_t g = QCN_GAS_TX, t, zeros = 0, words;
    size_t i;
    int ovf = 0;

    for (i = 0; i < tx->data.len; i++)
        zeros += tx->data.p[i] == 0;
    ovf |= __builtin_mul_overflow(zeros, (uint64_t)QCN_GAS_DATA_ZERO, &t);
    ovf |= __builtin_add_overflow(g, t, &g);
    ovf |=
        __builtin_mul_overflow((uint64_t)tx->data.len - zeros, (uint64_t)QCN_GAS_DATA_NONZERO, &t);
    ovf |= __builtin_add_overflow(g, t, &g);
    if (!tx->has_to) {
        /* EIP-3860: creation pays per 32-byte word of init code. */
        words = ((uint64_t)tx->data.len + 31) / 32;
        ovf |= __builtin_add_overflow(g, (uint64_t)QCN_GAS_TX_CREATE, &g);
        ovf |= __builtin_add_overflow(g, words * QCN_GAS_INITCODE_WORD, &g);
    }
    ovf |= __builtin_add_overflow(g, (uint64_t)tx->access_addresses * QCN_GAS_ACCESS_ADDRESS, &g);
    ovf |= __builtin_add_overflow(g, (uint64_t)tx->access_keys * QCN_GAS_ACCESS_KEY, &g);
    /* Post-quantum signatures are large: block space prices every byte carried,
     * plus a fixed charge per verification (docs/protocol.md §3). */
    for (i = 0; i < tx->nsigs; i++) {
        ovf |= __builtin_add_overflow(g, (uint64_t)tx->sigs[i].sig.len * QCN_GAS_SIG_BYTE, &g);
        ovf |= __builtin_add_overflow(g, (uint64_t)QCN_GAS_SIG_VERIFY, &g);
    }
    ovf |= __builtin_add_overflow(g, (uint64_t)tx->pubkey.len * QCN_GAS_PUBKEY_BYTE, &g);
    *gas = ovf ? 0 : g;
    return ovf ? QCN_ERR_OVERFLOW : QCN_OK;
}

int qcn_chain_open(struct qcn_chain **out, const struct qcn_chain_params *p,
                   const struct qcn_state_reader *rd, const struct qcn_header *head)
{
    struct qcn_chain *c;
    int err;

    *out = NULL;
    if (p->block_gas_limit < QCN_GAS_TX || p->chain_id == 0)
        return QCN_ERR_INVALID_ARG;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return QCN_ERR_NOMEM;
    c->params = *p;
    c->rd = rd;
    qcn_buf_init(&c->tmp, QCN_KEYREC_MAX_BYTES);
    err = qcn_header_copy(&c->head, head);
    if (err == QCN_OK)
        err = qcn_writeset_pool_new(&c->wpool);
    if (err == QCN_OK)
        err = qcn_header_hash(c->head_hash, &c->head);
    if (err == QCN_OK)
        err = qcn_statedb_new(&c->db, rd, head->state_root);
    if (err == QCN_OK)
        err = qcn_chain_evm_attach(c);
    if (err != QCN_OK) {
        qcn_chain_free(c);
        return err;
    }
    *out = c;
    return QCN_OK;
}

void qcn_chain_free(struct qcn_chain *c)
{
    if (c == NULL)
        return;
    qcn_statedb_free(c->db);
    qcn_writeset_pool_free(c->wpool);
    qcn_chain_evm_free(c);
    qcn_header_clear(&c->head);
    qcn_buf_clear(&c->tmp);
    free(c);
}

const struct qcn_chain_params *qcn_chain_params(const struct qcn_chain *c)
{
    return &c->params;
}

const struct qcn_header *qcn_chain_head(const struct qcn_chain *c)
{
    return &c->head;
}

void qcn_chain_head_hash(const struct qcn_chain *c, uint8_t out[QCN_HASH_BYTES])
{
    memcpy(out, c->head_hash, QCN_HASH_BYTES);
}

void qcn_chain_stats_get(const struct qcn_chain *c, struct qcn_chain_stats *out)
{
    *out = c->stats;
}

struct qcn_statedb *qcn_chain_state(struct qcn_chain *c)
{
    return c->db;
}

void qcn_chain_set_vm(struct qcn_chain *c, const struct qcn_chain_vm *vm)
{
    if (vm != NULL && vm->execute != NULL) {
        c->vm = *vm;
        c->has_vm = 1;
    } else {
        c->has_vm = 0;
    }
}

void qcn_chain_get_vm(const struct qcn_chain *c, struct qcn_chain_vm *out)
{
    if (c->has_vm) {
        *out = c->vm;
    } else {
        out->ctx = NULL;
        out->execute = NULL;
    }
}

void qcn_chain_set_verify_pool(struct qcn_chain *c, struct qcn_verify_pool *pool)
{
    c->pool = pool;
}

int qcn_chain_account_get(struct qcn_chain *c, struct qcn_account *out,
                          const uint8_t addr[QCN_ADDRESS_BYTES])
{
    int exists;
    return qcn_statedb_account_get(c->db, out, &exists, addr);
}

int qcn_chain_key_get(struct qcn_chain *c, uint8_t key_hash[QCN_HASH_BYTES], struct qcn_buf *rec,
                      const uint8_t addr[QCN_ADDRESS_BYTES])
{
    return qcn_statedb_key_get(c->db, key_hash, rec, addr);
}

/* Does executing tx need the EVM? Creation, or a call to an account with code
 * or to a precompile. Transfers to code-less accounts stay on the native path. */
static int needs_vm(struct qcn_chain *c, const struct qcn_tx *tx, int *need)
{
    struct qcn_account to;
    int err;
    *need = 0;
    if (!tx->has_to || qcn_chain_is_precompile(tx->to)) {
        *need = 1;
        return QCN_OK;
    }
    if (memcmp(tx->to, qcn_key_manager_address, QCN_ADDRESS_BYTES) == 0 ||
        memcmp(tx->to, qcn_staking_address, QCN_ADDRESS_BYTES) == 0)
        return QCN_OK;
    err = qcn_chain_account_get(c, &to, tx->to);
    if (err == QCN_OK)
        *need = qcn_account_has_code(&to);
    return err;
}

/* Checks that hold whatever the state: the chain id, the scheme, the fee
 * fields, the gas limit against intrinsic gas and the block. */
int qcn_chain_tx_static_check(const struct qcn_chain *c, const struct qcn_tx *tx)
{
    uint64_t ig;
    int err;

    if (tx->chain_id != c->params.chain_id)
        return QCN_ERR_TX_WRONG_CHAIN;
    if (tx->scheme != QCN_SCHEME_MULTISIG && qcn_scheme_param(tx->scheme) == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    if (tx->max_priority_fee > tx->max_fee)
        return QCN_ERR_TX_FEE_FIELDS;
    if ((err = qcn_tx_intrinsic_gas(&ig, tx)) != QCN_OK)
        return err;
    if (tx->gas_limit < ig)
        return QCN_ERR_TX_INTRINSIC_GAS;
    if (tx->gas_limit > c->params.block_gas_limit)
        return QCN_ERR_TX_GAS_LIMIT;
    /* EIP-3860: init code over the limit makes a creation invalid, not failed. */
    if (!tx->has_to && tx->data.len > QCN_CHAIN_MAX_INITCODE)
        return QCN_ERR_VM_TX_INITCODE;
    return QCN_OK;
}

/* The key the sender's signatures must verify against, as an encoded record
 * in rec: the recorded one, or (first use) the attached public key, which
 * must hash to the sender's address. *recorded says which. */
int qcn_chain_tx_resolve_key(struct qcn_chain *c, struct qcn_buf *rec, uint8_t *kh_out,
                             int *recorded, const struct qcn_tx *tx)
{
    struct qcn_keyrec kr;
    uint8_t kh[QCN_HASH_BYTES], a[QCN_ADDRESS_BYTES];
    int err;

    *recorded = 0;
    err = qcn_statedb_key_get(c->db, kh, rec, tx->from);
    if (kh_out != NULL)
        memcpy(kh_out, kh, QCN_HASH_BYTES);
    if (err == QCN_OK) {
        *recorded = 1;
        if (tx->pubkey.len != 0) {
            /* An attached key must be the recorded one (after a rotation the
             * old key is refused even though it hashes to the address). */
            if (qcn_keyrec_decode(&kr, qcn_buf_view(rec)) != QCN_OK ||
                kr.kind == QCN_SCHEME_MULTISIG || kr.kind != tx->scheme ||
                kr.keys[0].pk.len != tx->pubkey.len ||
                memcmp(kr.keys[0].pk.p, tx->pubkey.p, tx->pubkey.len) != 0)
                return QCN_ERR_TX_KEY_MISMATCH;
        }
        return QCN_OK;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return err;
    if (tx->scheme == QCN_SCHEME_MULTISIG || tx->pubkey.len == 0)
        return QCN_ERR_TX_MISSING_KEY;
    qcn_address_from_key(a, tx->scheme, tx->pubkey.p, tx->pubkey.len);
    if (memcmp(a, tx->from, QCN_ADDRESS_BYTES) != 0)
        return QCN_ERR_TX_KEY_MISMATCH;
    if ((err = qcn_keyrec_single(&kr, tx->scheme, tx->pubkey)) != QCN_OK)
        return err;
    qcn_buf_reset(rec);
    if ((err = qcn_keyrec_encode(rec, &kr)) != QCN_OK)
        return err;
    if (kh_out != NULL)
        qcn_keyrec_hash(kh_out, rec->p, rec->len);
    return QCN_OK;
}

int qcn_chain_tx_prepare(struct qcn_chain *c, struct qcn_tx *tx)
{
    uint8_t kh[QCN_HASH_BYTES];
    int err, need, recorded;
    uint8_t *copy;

    if ((err = qcn_chain_tx_static_check(c, tx)) != QCN_OK)
        return err;
    if ((err = needs_vm(c, tx, &need)) != QCN_OK)
        return err;
    if (need && !c->has_vm)
        return QCN_ERR_TX_VM_UNAVAILABLE;
    if ((err = qcn_chain_tx_resolve_key(c, &c->tmp, kh, &recorded, tx)) != QCN_OK)
        return err;
    copy = malloc(c->tmp.len);
    if (copy == NULL)
        return QCN_ERR_NOMEM;
    memcpy(copy, c->tmp.p, c->tmp.len);
    free(tx->key_record);
    tx->key_record = copy;
    tx->key_record_len = c->tmp.len;
    /* The record's hash is known here (the state's key hash, or computed
     * for an attached key): verification reuses it. */
    memcpy(tx->key_record_hash, kh, QCN_HASH_BYTES);
    tx->key_record_hash_of = copy;
    return QCN_OK;
}

/* ---- Execution (docs/protocol.md §3, §7) */

static int add_balance(struct qcn_statedb *db, const uint8_t addr[QCN_ADDRESS_BYTES],
                       const struct qcn_u256 *v)
{
    struct qcn_account a;
    int exists, err;
    if (qcn_u256_is_zero(v))
        return QCN_OK;
    if ((err = qcn_statedb_account_get(db, &a, &exists, addr)) != QCN_OK)
        return err;
    if (qcn_u256_add(&a.balance, &a.balance, v))
        return QCN_ERR_OVERFLOW;
    return qcn_statedb_account_put(db, addr, &a);
}

static int sub_balance(struct qcn_statedb *db, const uint8_t addr[QCN_ADDRESS_BYTES],
                       const struct qcn_u256 *v)
{
    struct qcn_account a;
    int exists, err;
    if ((err = qcn_statedb_account_get(db, &a, &exists, addr)) != QCN_OK)
        return err;
    if (qcn_u256_sub(&a.balance, &a.balance, v))
        return QCN_ERR_TX_FUNDS;
    return qcn_statedb_account_put(db, addr, &a);
}

/* Parses key-manager [threshold, [[scheme, pk], ...]] into a multisig record. */
static int parse_multisig(struct qcn_buf *out, const struct qcn_rlp_item *thr,
                          const struct qcn_rlp_item *keys)
{
    struct qcn_keyrec kr;
    struct qcn_rlp_iter it;
    struct qcn_rlp_item pair, p[2];
    uint64_t t, s;
    int err;

    memset(&kr, 0, sizeof kr);
    if (qcn_rlp_get_u64(&t, thr) != QCN_OK || !keys->is_list)
        return QCN_ERR_TX_MALFORMED;
    if (t == 0 || t > QCN_MULTISIG_MAX_KEYS)
        return QCN_ERR_TX_MULTISIG;
    kr.kind = QCN_SCHEME_MULTISIG;
    kr.threshold = (uint32_t)t;
    qcn_rlp_iter_init(&it, keys);
    while ((err = qcn_rlp_iter_next(&it, &pair)) == QCN_OK) {
        if (kr.nkeys >= QCN_MULTISIG_MAX_KEYS)
            return QCN_ERR_TX_MULTISIG;
        if (qcn_rlp_split(p, 2, &pair) != QCN_OK || qcn_rlp_get_u64(&s, &p[0]) != QCN_OK ||
            qcn_rlp_get_bytes(&kr.keys[kr.nkeys].pk, QCN_MLDSA_MAX_PK_BYTES, &p[1]) != QCN_OK)
            return QCN_ERR_TX_MALFORMED;
        if (s > 0xff)
            return QCN_ERR_TX_UNKNOWN_SCHEME;
        kr.keys[kr.nkeys].scheme = (uint8_t)s;
        kr.nkeys++;
    }
    if (err != QCN_ERR_NOT_FOUND)
        return QCN_ERR_TX_MALFORMED;
    qcn_buf_reset(out);
    return qcn_keyrec_encode(out, &kr);
}

/* Key-manager operations. Returns QCN_OK (applied), or an error that makes
 * the transaction fail (status 0) without invalidating it. *gas gets the
 * operation's gas. */
static int key_op(struct qcn_chain *c, const struct qcn_tx *tx, uint64_t *gas)
{
    struct qcn_rlp_item top, f[3];
    struct qcn_keyrec kr;
    struct qcn_account a;
    uint8_t kh[QCN_HASH_BYTES], addr[QCN_ADDRESS_BYTES];
    uint64_t op, s;
    size_t n;
    int err, exists;

    *gas = QCN_GAS_KEY_RECORD;
    if (qcn_rlp_decode(&top, tx->data) != QCN_OK || !top.is_list ||
        qcn_rlp_count(&n, &top) != QCN_OK || n != 3 || qcn_rlp_split(f, 3, &top) != QCN_OK ||
        qcn_rlp_get_u64(&op, &f[0]) != QCN_OK)
        return QCN_ERR_TX_MALFORMED;
    switch (op) {
    case QCN_KEY_OP_ROTATE:
        /* [1, scheme, public_key]: the sender's account answers to a new key
         * from now on; the signature that authorised this was the old key's. */
        if (!qcn_u256_is_zero(&tx->value))
            return QCN_ERR_TX_MALFORMED;
        if (qcn_rlp_get_u64(&s, &f[1]) != QCN_OK ||
            qcn_rlp_get_bytes(&kr.keys[0].pk, QCN_MLDSA_MAX_PK_BYTES, &f[2]) != QCN_OK)
            return QCN_ERR_TX_MALFORMED;
        if (s > 0xff)
            return QCN_ERR_TX_UNKNOWN_SCHEME;
        if ((err = qcn_keyrec_single(&kr, (uint8_t)s, kr.keys[0].pk)) != QCN_OK)
            return err;
        qcn_buf_reset(&c->tmp);
        if ((err = qcn_keyrec_encode(&c->tmp, &kr)) != QCN_OK)
            return err;
        return qcn_statedb_key_set(c->db, tx->from, c->tmp.p, c->tmp.len);
    case QCN_KEY_OP_MULTISIG_SET:
        if (!qcn_u256_is_zero(&tx->value))
            return QCN_ERR_TX_MALFORMED;
        if ((err = parse_multisig(&c->tmp, &f[1], &f[2])) != QCN_OK)
            return err;
        return qcn_statedb_key_set(c->db, tx->from, c->tmp.p, c->tmp.len);
    case QCN_KEY_OP_MULTISIG_CREATE:
        *gas = QCN_GAS_KEY_RECORD + QCN_GAS_MULTISIG_CREATE;
        if ((err = parse_multisig(&c->tmp, &f[1], &f[2])) != QCN_OK)
            return err;
        qcn_keyrec_hash(kh, c->tmp.p, c->tmp.len);
        /* tx->nonce is the creator's nonce before this transaction. */
        qcn_address_multisig(addr, tx->from, tx->nonce, kh);
        if ((err = qcn_statedb_account_get(c->db, &a, &exists, addr)) != QCN_OK)
            return err;
        if (a.nonce != 0 || qcn_account_has_code(&a))
            return QCN_ERR_EXISTS;
        err = qcn_statedb_key_get(c->db, kh, NULL, addr);
        if (err == QCN_OK)
            return QCN_ERR_EXISTS;
        if (err != QCN_ERR_NOT_FOUND)
            return err;
        if ((err = qcn_statedb_key_set(c->db, addr, c->tmp.p, c->tmp.len)) != QCN_OK)
            return err;
        if ((err = sub_balance(c->db, tx->from, &tx->value)) != QCN_OK)
            return err;
        /* Unfunded, the new account is only its key record (docs §7). */
        return add_balance(c->db, addr, &tx->value);
    default:
        return QCN_ERR_TX_MALFORMED;
    }
}

int qcn_chain_tx_execute(struct qcn_chain *c, struct qcn_exec *x, struct qcn_tx *tx,
                         struct qcn_receipt *r)
{
    struct qcn_account sender;
    struct qcn_u256 cost, fee, t;
    uint8_t kh[QCN_HASH_BYTES];
    uint64_t ig, price, tip, gas, opgas = 0;
    int err, exists, recorded, need;
    size_t inner;

    memset(r, 0, sizeof *r);
    if ((err = qcn_chain_tx_static_check(c, tx)) != QCN_OK)
        return err;
    if (tx->max_fee < x->base_fee)
        return QCN_ERR_TX_FEE_LOW;
    {
        uint64_t end;
        if (__builtin_add_overflow(x->gas_used, tx->gas_limit, &end) || end > x->gas_limit)
            return QCN_ERR_TX_GAS_LIMIT;
    }
    if ((err = needs_vm(c, tx, &need)) != QCN_OK)
        return err;
    if (need && !c->has_vm)
        return QCN_ERR_TX_VM_UNAVAILABLE;
    if ((err = qcn_statedb_account_get(c->db, &sender, &exists, tx->from)) != QCN_OK)
        return err;
    if (tx->nonce < sender.nonce)
        return QCN_ERR_TX_NONCE_LOW;
    if (tx->nonce > sender.nonce)
        return QCN_ERR_TX_NONCE_HIGH;
    if (sender.nonce == UINT64_MAX)
        return QCN_ERR_OVERFLOW; /* EIP-2681 */
    if (qcn_account_has_code(&sender))
        return QCN_ERR_TX_SENDER_CODE; /* EIP-3607 */
    /* The common case: a recorded key, none attached, and the signature
     * checked on admission (or in a batch before this block) against a
     * record with the hash the sender has now. Only that hash is needed: no
     * copy of the record, no second verification. Anything else takes the
     * full path below, which reaches the same verdicts. */
    if (tx->verified && tx->pubkey.len == 0 &&
        qcn_statedb_key_get(c->db, kh, NULL, tx->from) == QCN_OK &&
        memcmp(kh, tx->verified_key_hash, QCN_HASH_BYTES) == 0) {
        recorded = 1;
        c->stats.reused_verifies++;
    } else {
        if ((err = qcn_chain_tx_resolve_key(c, &c->tmp, kh, &recorded, tx)) != QCN_OK)
            return err;
        if (!tx->verified || memcmp(kh, tx->verified_key_hash, QCN_HASH_BYTES) != 0) {
            x->verifications++;
            c->stats.exec_verifies++;
            if ((err = qcn_tx_verify_with(tx, c->tmp.p, c->tmp.len)) != QCN_OK)
                return err;
        } else {
            c->stats.reused_verifies++;
        }
    }
    /* EIP-1559: the sender must afford gas_limit * max_fee + value. */
    cost = qcn_u256_mul_u64_u64(tx->gas_limit, tx->max_fee);
    if (qcn_u256_add(&cost, &cost, &tx->value) || qcn_u256_cmp(&sender.balance, &cost) < 0)
        return QCN_ERR_TX_FUNDS;

    /* Valid: from here on the transaction is included whatever happens. */
    tip = tx->max_fee - x->base_fee;
    if (tip > tx->max_priority_fee)
        tip = tx->max_priority_fee;
    price = x->base_fee + tip;
    fee = qcn_u256_mul_u64_u64(tx->gas_limit, price);
    (void)qcn_u256_sub(&sender.balance, &sender.balance, &fee);
    sender.nonce++;
    if ((err = qcn_statedb_account_put(c->db, tx->from, &sender)) != QCN_OK)
        return err;
    if (!recorded && (err = qcn_statedb_key_set(c->db, tx->from, c->tmp.p, c->tmp.len)) != QCN_OK)
        return err;
    if ((err = qcn_tx_intrinsic_gas(&ig, tx)) != QCN_OK)
        return err;
    gas = ig;
    r->status = 1;
    inner = qcn_statedb_snapshot(c->db);
    if (tx->has_to && (memcmp(tx->to, qcn_key_manager_address, QCN_ADDRESS_BYTES) == 0 ||
                       memcmp(tx->to, qcn_staking_address, QCN_ADDRESS_BYTES) == 0)) {
        /* Native system operations: key manager, or staking (chain_staking.c). */
        if (memcmp(tx->to, qcn_key_manager_address, QCN_ADDRESS_BYTES) == 0)
            err = key_op(c, tx, &opgas);
        else
            err = qcn_chain_staking_tx(c, x, tx, &opgas);
        if (err == QCN_OK && opgas > tx->gas_limit - gas)
            err = QCN_ERR_VM_OUT_OF_GAS;
        if (err == QCN_OK) {
            gas += opgas;
        } else if (err == QCN_ERR_NOMEM || err == QCN_ERR_STORE || err == QCN_ERR_STORE_CORRUPT) {
            return err;
        } else {
            qcn_statedb_revert(c->db, inner);
            r->status = 0;
            gas = tx->gas_limit; /* a failed native operation consumes all gas */
        }
    } else if (need) {
        uint8_t st = 0;
        uint64_t used = 0;
        err = c->vm.execute(c->vm.ctx, c->db, x->header, tx, tx->gas_limit - gas, &st, &used, r);
        if (err != QCN_OK)
            return err;
        if (used > tx->gas_limit - gas)
            return QCN_ERR_INTERNAL;
        if (!st)
            qcn_statedb_revert(c->db, inner);
        r->status = st;
        gas += used;
    } else {
        if ((err = sub_balance(c->db, tx->from, &tx->value)) != QCN_OK ||
            (err = add_balance(c->db, tx->to, &tx->value)) != QCN_OK)
            return err;
    }
    /* Refund unused gas; pay the producer its tip; the base fee is burned. */
    t = qcn_u256_mul_u64_u64(tx->gas_limit - gas, price);
    if ((err = add_balance(c->db, tx->from, &t)) != QCN_OK)
        return err;
    t = qcn_u256_mul_u64_u64(gas, tip);
    if ((err = add_balance(c->db, x->header->proposer, &t)) != QCN_OK)
        return err;
    x->gas_used += gas;
    r->cumulative_gas = x->gas_used;
    r->gas_used = gas;
    r->effective_gas_price = price;
    return QCN_OK;
}
