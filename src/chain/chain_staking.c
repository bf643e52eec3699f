/* chain_staking.c - staking applied by the ledger (docs/consensus.md §6, §8):
 * the staking state lives in the storage of the staking system account
 * (layout in chain_staking.h), transactions to 0x...5200 run through
 * staking.c, and every block ends with qcn_staking_end_block. */
#include "chain/chain_staking.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain_internal.h"
#include "codec/vote.h"
#include "util/log.h"

/* Storage slot `region * 2^64 + i` of the staking account: region 0 holds
 * the state blob, region 1 the parameters (chain_staking.h). */
static void slot_index(uint8_t slot[32], uint8_t region, uint64_t i)
{
    size_t k;
    memset(slot, 0, 32);
    slot[23] = region;
    for (k = 0; k < 8; k++)
        slot[31 - k] = (uint8_t)(i >> (8 * k));
}

/* The blob stored in region into b (reset first); *present = 0 when its
 * length slot is empty. */
static int blob_load(struct qcn_statedb *db, uint8_t region, struct qcn_buf *b, int *present)
{
    uint8_t slot[32], val[32];
    uint64_t len = 0, i, n;
    size_t k;
    int err;

    *present = 0;
    qcn_buf_reset(b);
    slot_index(slot, region, 0);
    if ((err = qcn_statedb_storage_get(db, val, qcn_staking_address, slot)) != QCN_OK)
        return err;
    for (k = 0; k < 24; k++) {
        if (val[k] != 0)
            return QCN_ERR_STORE_CORRUPT;
    }
    for (k = 24; k < 32; k++)
        len = (len << 8) | val[k];
    if (len == 0)
        return QCN_OK;
    if (len > QCN_CHAIN_STAKING_MAX_BLOB)
        return QCN_ERR_STORE_CORRUPT;
    if ((err = qcn_buf_reserve(b, (size_t)len)) != QCN_OK)
        return err;
    n = (len + 31) / 32;
    for (i = 0; i < n; i++) {
        size_t take = (size_t)(len - 32 * i < 32 ? len - 32 * i : 32);
        slot_index(slot, region, 1 + i);
        if ((err = qcn_statedb_storage_get(db, val, qcn_staking_address, slot)) != QCN_OK ||
            (err = qcn_buf_append(b, val, take)) != QCN_OK)
            return err;
    }
    *present = 1;
    return QCN_OK;
}

/* Writes nw as region's blob, touching only the slots whose bytes changed
 * (most blocks change a few reward counters), and zeroing slots the old,
 * longer blob used, so the storage trie holds exactly the new blob. */
static int blob_store(struct qcn_statedb *db, uint8_t region, const struct qcn_buf *nw)
{
    struct qcn_buf old;
    uint8_t slot[32], a[32], b[32];
    uint64_t nold, nnew, i;
    int present, err;

    if (nw->len == 0)
        return QCN_ERR_INTERNAL; /* an RLP list is never empty */
    qcn_buf_init(&old, QCN_CHAIN_STAKING_MAX_BLOB);
    if ((err = blob_load(db, region, &old, &present)) != QCN_OK)
        goto out;
    nold = (old.len + 31) / 32;
    nnew = (nw->len + 31) / 32;
    for (i = 0; i < (nold > nnew ? nold : nnew); i++) {
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        if (i < nold)
            memcpy(a, old.p + 32 * i, old.len - 32 * i < 32 ? old.len - 32 * i : 32);
        if (i < nnew)
            memcpy(b, nw->p + 32 * i, nw->len - 32 * i < 32 ? nw->len - 32 * i : 32);
        if (memcmp(a, b, 32) == 0)
            continue;
        slot_index(slot, region, 1 + i);
        if ((err = qcn_statedb_storage_set(db, qcn_staking_address, slot, b)) != QCN_OK)
            goto out;
    }
    if (old.len != nw->len) {
        slot_index(slot, region, 0);
        slot_index(b, 0, nw->len);
        if ((err = qcn_statedb_storage_set(db, qcn_staking_address, slot, b)) != QCN_OK)
            goto out;
    }
    err = QCN_OK;
out:
    qcn_buf_clear(&old);
    return err;
}

/* The chain's staking parameters: stored at genesis, else the defaults. */
static int params_load(struct qcn_statedb *db, struct qcn_staking_params *p)
{
    struct qcn_buf b;
    int present, err;

    qcn_staking_params_default(p);
    qcn_buf_init(&b, QCN_CHAIN_STAKING_MAX_PARAMS);
    err = blob_load(db, QCN_CHAIN_STAKING_REGION_PARAMS, &b, &present);
    if (err == QCN_OK && present && qcn_staking_params_decode(p, qcn_buf_view(&b)) != QCN_OK) {
        qcn_staking_params_default(p);
        err = QCN_ERR_STORE_CORRUPT;
    }
    qcn_buf_clear(&b);
    return err;
}

static int state_load(struct qcn_statedb *db, struct qcn_staking *s, int *present)
{
    struct qcn_staking_params p;
    struct qcn_buf b;
    int err;

    *present = 0;
    qcn_buf_init(&b, QCN_CHAIN_STAKING_MAX_BLOB);
    err = params_load(db, &p);
    qcn_staking_init(s, &p);
    if (err != QCN_OK ||
        (err = blob_load(db, QCN_CHAIN_STAKING_REGION_STATE, &b, present)) != QCN_OK || !*present)
        goto out;
    if (qcn_staking_decode(s, &p, qcn_buf_view(&b)) != QCN_OK) {
        qcn_staking_init(s, &p);
        err = QCN_ERR_STORE_CORRUPT;
    }
out:
    qcn_buf_clear(&b);
    return err;
}

static int state_store(struct qcn_statedb *db, const struct qcn_staking *s)
{
    struct qcn_buf nw;
    int err;

    qcn_buf_init(&nw, QCN_CHAIN_STAKING_MAX_BLOB);
    err = qcn_staking_encode(&nw, s);
    if (err == QCN_OK)
        err = blob_store(db, QCN_CHAIN_STAKING_REGION_STATE, &nw);
    qcn_buf_clear(&nw);
    return err;
}

int qcn_chain_staking_load(struct qcn_chain *c, struct qcn_staking *s, int *present)
{
    return state_load(c->db, s, present);
}

int qcn_chain_staking_store(struct qcn_chain *c, const struct qcn_staking *s)
{
    return state_store(c->db, s);
}

int qcn_chain_staking_params(struct qcn_chain *c, struct qcn_staking_params *p)
{
    return params_load(c->db, p);
}

/* "genesis: <what>[: validator i]" into err (may be NULL). */
static void gerr(char *err, size_t errlen, const char *what, size_t i, int has_i)
{
    if (err == NULL || errlen == 0)
        return;
    if (has_i)
        snprintf(err, errlen, "genesis: validators[%zu]: %s", i, what);
    else
        snprintf(err, errlen, "genesis: %s", what);
}

int qcn_chain_staking_genesis(struct qcn_statedb *db, const struct qcn_genesis *g, char *err,
                              size_t errlen)
{
    struct qcn_staking s;
    struct qcn_account esc;
    struct qcn_buf b;
    struct qcn_u256 total = qcn_u256_from_u64(0);
    uint64_t power = 0;
    const char *why = NULL;
    size_t i;
    int exists, e;

    qcn_staking_init(&s, &g->staking);
    qcn_buf_init(&b, QCN_CHAIN_STAKING_MAX_BLOB);
    if (!g->has_staking && g->nvalidators == 0) {
        e = QCN_OK; /* no staking at genesis: nothing written, roots as before */
        goto out;
    }
    if ((e = qcn_staking_params_check(&g->staking, &why)) != QCN_OK) {
        gerr(err, errlen, why, 0, 0);
        e = QCN_ERR_BAD_JSON;
        goto out;
    }
    if ((e = qcn_staking_params_encode(&b, &g->staking)) != QCN_OK ||
        (e = blob_store(db, QCN_CHAIN_STAKING_REGION_PARAMS, &b)) != QCN_OK)
        goto out;
    if (g->nvalidators == 0)
        goto out;
    for (i = 0; i < g->nvalidators; i++) {
        const struct qcn_genesis_validator *v = &g->validators[i];
        struct qcn_u256 wei;
        uint64_t gwei;
        if (__builtin_mul_overflow(v->power, QCN_STAKING_GWEI_PER_COIN, &gwei) ||
            __builtin_add_overflow(power, v->power, &power) ||
            power > QCN_STAKING_MAX_TOTAL_POWER) {
            gerr(err, errlen, "power too large (total power at most 2^62)", i, 1);
            e = QCN_ERR_BAD_JSON;
            goto out;
        }
        e = qcn_staking_genesis_add(&s, v->operator_addr, v->pubkey, v->beacon_tip, gwei,
                                    v->commission_bps);
        if (e == QCN_ERR_STAKING) {
            gerr(err, errlen,
                 "duplicate identity or operator, power under staking.min_self_stake_gwei, or "
                 "commission over staking.max_commission_bps",
                 i, 1);
            e = QCN_ERR_BAD_JSON;
        }
        if (e != QCN_OK)
            goto out;
        wei = qcn_u256_mul_u64_u64(gwei, 1000000000u); /* wei per gwei */
        if (qcn_u256_add(&total, &total, &wei)) {
            e = QCN_ERR_OVERFLOW;
            goto out;
        }
    }
    /* The stake is escrowed in the staking account like staked values
     * (§6), so the accounts add up: an undelegation is paid out of it. */
    if ((e = qcn_statedb_account_get(db, &esc, &exists, qcn_staking_address)) != QCN_OK)
        goto out;
    if (qcn_u256_add(&esc.balance, &esc.balance, &total)) {
        e = QCN_ERR_OVERFLOW;
        goto out;
    }
    if ((e = qcn_statedb_account_put(db, qcn_staking_address, &esc)) != QCN_OK ||
        (e = state_store(db, &s)) != QCN_OK)
        goto out;
out:
    qcn_buf_clear(&b);
    qcn_staking_clear(&s);
    return e;
}

/* Removes gwei from the staking account's escrow (down to zero). */
static int escrow_burn(struct qcn_chain *c, uint64_t gwei)
{
    struct qcn_account esc;
    struct qcn_u256 wei = qcn_u256_mul_u64_u64(gwei, 1000000000u); /* wei per gwei */
    int exists, err;
    if ((err = qcn_statedb_account_get(c->db, &esc, &exists, qcn_staking_address)) != QCN_OK)
        return err;
    if (qcn_u256_cmp(&esc.balance, &wei) >= 0)
        (void)qcn_u256_sub(&esc.balance, &esc.balance, &wei);
    else
        esc.balance = qcn_u256_from_u64(0);
    return qcn_statedb_account_put(c->db, qcn_staking_address, &esc);
}

/* Pays amount gwei to addr out of the staking account's escrow (where
 * create/delegate values went); whatever the escrow cannot cover is minted
 * (rewards are issuance, docs/consensus.md §6), so a reward withdrawn early
 * is minted when the escrowed stake behind it is finally paid out. */
static int pay(struct qcn_chain *c, const uint8_t addr[QCN_ADDRESS_BYTES], uint64_t gwei)
{
    struct qcn_account to;
    struct qcn_u256 wei = qcn_u256_mul_u64_u64(gwei, 1000000000u); /* wei per gwei */
    int exists, err;

    if (gwei == 0)
        return QCN_OK;
    if ((err = escrow_burn(c, gwei)) != QCN_OK)
        return err;
    if ((err = qcn_statedb_account_get(c->db, &to, &exists, addr)) != QCN_OK)
        return err;
    if (qcn_u256_add(&to.balance, &to.balance, &wei))
        return QCN_ERR_OVERFLOW;
    return qcn_statedb_account_put(c->db, addr, &to);
}

/* value in wei -> gwei: whole gwei and at most UINT64_MAX gwei, else failed. */
static int value_gwei(uint64_t *out, const struct qcn_u256 *v)
{
    __extension__ typedef unsigned __int128 u128;
    u128 w;
    if (v->w[2] != 0 || v->w[3] != 0)
        return QCN_ERR_STAKING;
    w = ((u128)v->w[1] << 64) | v->w[0];
    if (w % 1000000000u != 0 || w / 1000000000u > UINT64_MAX)
        return QCN_ERR_STAKING;
    *out = (uint64_t)(w / 1000000000u);
    return QCN_OK;
}

int qcn_chain_staking_tx(struct qcn_chain *c, const struct qcn_exec *x, const struct qcn_tx *tx,
                         uint64_t *gas)
{
    struct qcn_staking s;
    struct qcn_staking_credits cr;
    struct qcn_account from, esc;
    uint64_t gwei = 0, burnt;
    size_t i;
    int present, exists, err;

    *gas = QCN_CHAIN_STAKING_OP_GAS;
    if ((err = value_gwei(&gwei, &tx->value)) != QCN_OK)
        return err;
    if ((err = qcn_chain_staking_load(c, &s, &present)) != QCN_OK)
        goto out;
    /* The value goes into escrow first (the sender could afford it: checked
     * with the fee); a failure reverts this with the rest. */
    if (!qcn_u256_is_zero(&tx->value)) {
        if ((err = qcn_statedb_account_get(c->db, &from, &exists, tx->from)) != QCN_OK ||
            (err = qcn_statedb_account_get(c->db, &esc, &exists, qcn_staking_address)) != QCN_OK)
            goto out;
        if (qcn_u256_cmp(&from.balance, &tx->value) < 0) {
            err = QCN_ERR_TX_FUNDS;
            goto out;
        }
        (void)qcn_u256_sub(&from.balance, &from.balance, &tx->value);
        if ((err = qcn_statedb_account_put(c->db, tx->from, &from)) != QCN_OK)
            goto out;
        if ((err = qcn_statedb_account_get(c->db, &esc, &exists, qcn_staking_address)) != QCN_OK)
            goto out;
        if (qcn_u256_add(&esc.balance, &esc.balance, &tx->value)) {
            err = QCN_ERR_OVERFLOW;
            goto out;
        }
        if ((err = qcn_statedb_account_put(c->db, qcn_staking_address, &esc)) != QCN_OK)
            goto out;
    }
    memset(&cr, 0, sizeof cr);
    burnt = s.burnt;
    err = qcn_staking_apply_tx(&s, c->params.chain_id, x->header->height, tx->from, gwei,
                               tx->data.p, tx->data.len, &cr);
    if (err != QCN_OK) {
        /* The receipt has no reason field: say it where an operator can
         * look (debug level: anyone can send failing transactions). */
        QCN_LOG(QCN_LOG_DEBUG, "staking", "block %llu: staking transaction failed: %s",
                (unsigned long long)x->header->height, qcn_err_str(err));
        goto out;
    }
    /* Slashed stake (op 7) leaves the escrow: burnt, so that the escrow
     * keeps holding exactly what staking owes. */
    if (s.burnt > burnt && (err = escrow_burn(c, s.burnt - burnt)) != QCN_OK)
        goto out;
    if ((err = qcn_chain_staking_store(c, &s)) != QCN_OK)
        goto out;
    for (i = 0; i < cr.n && i < sizeof cr.c / sizeof cr.c[0]; i++) {
        if ((err = pay(c, cr.c[i].address, cr.c[i].amount)) != QCN_OK)
            goto out;
    }
out:
    qcn_staking_clear(&s);
    return err;
}

int qcn_chain_staking_end_block(struct qcn_chain *c, const struct qcn_header *h)
{
    struct qcn_staking s;
    struct qcn_staking_payouts po = {0, NULL};
    struct qcn_commit cert;
    uint8_t(*signers)[QCN_ADDRESS_BYTES] = NULL;
    size_t nsigners = 0, i;
    int present, err;

    memset(&cert, 0, sizeof cert);
    if ((err = qcn_chain_staking_load(c, &s, &present)) != QCN_OK || !present)
        goto out;
    if (h->commit_len != 0 &&
        qcn_commit_decode(&cert, qcn_view_make(h->commit, h->commit_len)) == QCN_OK) {
        /* The certificate is checked by consensus; here only its signer
         * list matters (downtime, §6). */
        signers = calloc(cert.nsigs ? cert.nsigs : 1, sizeof *signers);
        if (signers == NULL) {
            err = QCN_ERR_NOMEM;
            goto out;
        }
        for (i = 0; i < cert.nsigs; i++)
            memcpy(signers[i], cert.sigs[i].validator, QCN_ADDRESS_BYTES);
        nsigners = cert.nsigs;
    } else {
        /* No certificate (block 1, or an engine without one): nobody is
         * counted as missing. */
        signers = calloc(s.nval ? s.nval : 1, sizeof *signers);
        if (signers == NULL) {
            err = QCN_ERR_NOMEM;
            goto out;
        }
        for (i = 0; i < s.nval; i++)
            memcpy(signers[i], s.val[i].identity, QCN_ADDRESS_BYTES);
        nsigners = s.nval;
    }
    /* Fees: the base fee is burnt and the tip already paid to the proposer
     * (chain.c), so staking rewards are the issuance only. */
    if ((err = qcn_staking_end_block(&s, h->height, 0, (const uint8_t(*)[QCN_ADDRESS_BYTES])signers,
                                     nsigners, &po)) != QCN_OK)
        goto out;
    if ((err = qcn_chain_staking_store(c, &s)) != QCN_OK)
        goto out;
    for (i = 0; i < po.n; i++) {
        if ((err = pay(c, po.c[i].address, po.c[i].amount)) != QCN_OK)
            goto out;
    }
out:
    free(po.c);
    free(signers);
    qcn_commit_clear(&cert);
    qcn_staking_clear(&s);
    return err;
}
