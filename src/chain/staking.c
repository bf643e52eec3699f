/* staking.c - delegated proof of stake (staking.h; docs/consensus.md §6).
 *
 * Rewards are paid eagerly at the end of every block into per-address
 * withdrawable balances (O(delegations) per block, fine at the caps here;
 * a large network would use lazy F1-style accounting instead). Rounding
 * dust of a split is burnt, so no gwei is ever created by rounding. */
#include "chain/staking.h"

#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"

__extension__ typedef unsigned __int128 u128;

const uint8_t qcn_staking_address[QCN_ADDRESS_BYTES] = {0, 0, 0, 0, 0, 0, 0, 0, 0,    0,
                                                        0, 0, 0, 0, 0, 0, 0, 0, 0x52, 0x00};

void qcn_staking_params_default(struct qcn_staking_params *p)
{
    memset(p, 0, sizeof *p);
    p->min_self_stake = 1000 * QCN_STAKING_GWEI_PER_COIN;
    p->max_validators = 100;
    p->epoch_length = 100;
    p->unbonding_blocks = 1000;
    p->slash_double_sign_bps = 500; /* 5 % */
    p->max_commission_bps = 5000;
    p->max_commission_change_bps = 100;
    p->downtime_window = 100;
    p->downtime_max_missed = 50;
    p->jail_blocks = 100;
    p->issuance_per_block = 2 * QCN_STAKING_GWEI_PER_COIN;
}

int qcn_staking_params_check(const struct qcn_staking_params *p, const char **why)
{
    const char *w = NULL;
    if (p->min_self_stake < QCN_STAKING_GWEI_PER_COIN)
        w = "min_self_stake_gwei must be at least one coin (1000000000)";
    else if (p->max_validators < 1 || p->max_validators > QCN_COMMIT_MAX_SIGS)
        w = "max_validators must be 1..256 (a certificate's signer cap)";
    else if (p->epoch_length < 1 || p->epoch_length > QCN_STAKING_MAX_PERIOD)
        w = "epoch_length must be 1..2^40 blocks";
    else if (p->unbonding_blocks > QCN_STAKING_MAX_PERIOD)
        w = "unbonding_blocks must be at most 2^40";
    else if (p->slash_double_sign_bps > QCN_STAKING_BPS)
        w = "slash_double_sign_bps must be at most 10000";
    else if (p->max_commission_bps > QCN_STAKING_BPS)
        w = "max_commission_bps must be at most 10000";
    else if (p->max_commission_change_bps > QCN_STAKING_BPS)
        w = "max_commission_change_bps must be at most 10000";
    else if (p->downtime_window < 1 || p->downtime_window > QCN_STAKING_MAX_PERIOD)
        w = "downtime_window must be 1..2^40 blocks";
    else if (p->jail_blocks < 1 || p->jail_blocks > QCN_STAKING_MAX_PERIOD)
        w = "jail_blocks must be 1..2^40 blocks";
    if (why != NULL)
        *why = w;
    return w == NULL ? QCN_OK : QCN_ERR_CONFIG;
}

#define PARAMS_FIELDS 11

int qcn_staking_params_encode(struct qcn_buf *b, const struct qcn_staking_params *p)
{
    const uint64_t f[PARAMS_FIELDS] = {p->min_self_stake,
                                       p->max_validators,
                                       p->epoch_length,
                                       p->unbonding_blocks,
                                       p->slash_double_sign_bps,
                                       p->max_commission_bps,
                                       p->max_commission_change_bps,
                                       p->downtime_window,
                                       p->downtime_max_missed,
                                       p->jail_blocks,
                                       p->issuance_per_block};
    size_t start = b->len, l = qcn_rlp_list_begin(b), i;
    int err = QCN_OK;
    for (i = 0; i < PARAMS_FIELDS && err == QCN_OK; i++)
        err = qcn_rlp_put_u64(b, f[i]);
    if (err == QCN_OK)
        err = qcn_rlp_list_end(b, l);
    if (err != QCN_OK)
        b->len = start;
    return err;
}

int qcn_staking_params_decode(struct qcn_staking_params *p, struct qcn_view in)
{
    struct qcn_rlp_item top, it[PARAMS_FIELDS];
    uint64_t f[PARAMS_FIELDS];
    size_t i;

    memset(p, 0, sizeof *p);
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(it, PARAMS_FIELDS, &top) != QCN_OK)
        return QCN_ERR_CODEC;
    for (i = 0; i < PARAMS_FIELDS; i++)
        if (qcn_rlp_get_u64(&f[i], &it[i]) != QCN_OK)
            return QCN_ERR_CODEC;
    if (f[1] > UINT32_MAX || f[4] > UINT32_MAX || f[5] > UINT32_MAX || f[6] > UINT32_MAX)
        return QCN_ERR_CONFIG;
    p->min_self_stake = f[0];
    p->max_validators = (uint32_t)f[1];
    p->epoch_length = f[2];
    p->unbonding_blocks = f[3];
    p->slash_double_sign_bps = (uint32_t)f[4];
    p->max_commission_bps = (uint32_t)f[5];
    p->max_commission_change_bps = (uint32_t)f[6];
    p->downtime_window = f[7];
    p->downtime_max_missed = f[8];
    p->jail_blocks = f[9];
    p->issuance_per_block = f[10];
    if (qcn_staking_params_check(p, NULL) != QCN_OK) {
        memset(p, 0, sizeof *p);
        return QCN_ERR_CONFIG;
    }
    return QCN_OK;
}

void qcn_staking_init(struct qcn_staking *s, const struct qcn_staking_params *p)
{
    memset(s, 0, sizeof *s);
    s->params = *p;
}

void qcn_staking_clear(struct qcn_staking *s)
{
    free(s->val);
    free(s->del);
    free(s->unb);
    free(s->rew);
    free(s->slashed);
    memset(s, 0, sizeof *s);
}

uint64_t qcn_staking_power(const struct qcn_staking_validator *v)
{
    return v->total_stake / QCN_STAKING_GWEI_PER_COIN;
}

static struct qcn_staking_validator *val_find(const struct qcn_staking *s, const uint8_t *addr)
{
    size_t i;
    for (i = 0; i < s->nval; i++)
        if (memcmp(s->val[i].address, addr, QCN_ADDRESS_BYTES) == 0)
            return &s->val[i];
    return NULL;
}

static struct qcn_staking_validator *val_by_identity(const struct qcn_staking *s, const uint8_t *id)
{
    size_t i;
    for (i = 0; i < s->nval; i++)
        if (memcmp(s->val[i].identity, id, QCN_ADDRESS_BYTES) == 0)
            return &s->val[i];
    return NULL;
}

const struct qcn_staking_validator *qcn_staking_validator_get(const struct qcn_staking *s,
                                                              const uint8_t addr[QCN_ADDRESS_BYTES])
{
    return val_find(s, addr);
}

static struct qcn_staking_delegation *del_find(const struct qcn_staking *s, const uint8_t *d,
                                               const uint8_t *v)
{
    size_t i;
    for (i = 0; i < s->ndel; i++)
        if (memcmp(s->del[i].delegator, d, QCN_ADDRESS_BYTES) == 0 &&
            memcmp(s->del[i].validator, v, QCN_ADDRESS_BYTES) == 0)
            return &s->del[i];
    return NULL;
}

uint64_t qcn_staking_delegation_get(const struct qcn_staking *s,
                                    const uint8_t delegator[QCN_ADDRESS_BYTES],
                                    const uint8_t validator[QCN_ADDRESS_BYTES])
{
    const struct qcn_staking_delegation *d = del_find(s, delegator, validator);
    return d ? d->amount : 0;
}

uint64_t qcn_staking_rewards_get(const struct qcn_staking *s, const uint8_t addr[QCN_ADDRESS_BYTES])
{
    size_t i;
    for (i = 0; i < s->nrew; i++)
        if (memcmp(s->rew[i].address, addr, QCN_ADDRESS_BYTES) == 0)
            return s->rew[i].amount;
    return 0;
}

/* Grows an array by one element (zeroed); NULL on NOMEM or past cap. */
static void *grow(void **arr, size_t *n, size_t elem, size_t cap)
{
    void *p;
    if (*n >= cap)
        return NULL;
    p = realloc(*arr, (*n + 1) * elem);
    if (p == NULL)
        return NULL;
    *arr = p;
    memset((uint8_t *)p + *n * elem, 0, elem);
    return (uint8_t *)p + (*n)++ * elem;
}

static int reward_add(struct qcn_staking *s, const uint8_t *addr, uint64_t amount)
{
    struct qcn_staking_reward *r;
    size_t i;
    if (amount == 0)
        return QCN_OK;
    for (i = 0; i < s->nrew; i++)
        if (memcmp(s->rew[i].address, addr, QCN_ADDRESS_BYTES) == 0)
            return __builtin_add_overflow(s->rew[i].amount, amount, &s->rew[i].amount)
                       ? QCN_ERR_OVERFLOW
                       : QCN_OK;
    r = grow((void **)&s->rew, &s->nrew, sizeof *r, QCN_STAKING_MAX_DELEGATIONS);
    if (r == NULL)
        return QCN_ERR_NOMEM;
    memcpy(r->address, addr, QCN_ADDRESS_BYTES);
    r->amount = amount;
    return QCN_OK;
}

static int delegate(struct qcn_staking *s, struct qcn_staking_validator *v, const uint8_t *who,
                    uint64_t amount)
{
    struct qcn_staking_delegation *d = del_find(s, who, v->address);
    uint64_t total, self = v->self_stake;
    if (amount == 0)
        return QCN_ERR_STAKING;
    if (__builtin_add_overflow(v->total_stake, amount, &total) ||
        (memcmp(who, v->address, QCN_ADDRESS_BYTES) == 0 &&
         __builtin_add_overflow(self, amount, &self)))
        return QCN_ERR_OVERFLOW;
    if (d == NULL) {
        d = grow((void **)&s->del, &s->ndel, sizeof *d, QCN_STAKING_MAX_DELEGATIONS);
        if (d == NULL)
            return QCN_ERR_NOMEM;
        memcpy(d->delegator, who, QCN_ADDRESS_BYTES);
        memcpy(d->validator, v->address, QCN_ADDRESS_BYTES);
    }
    d->amount += amount; /* <= total, no overflow */
    v->total_stake = total;
    v->self_stake = self;
    return QCN_OK;
}

static int create(struct qcn_staking *s, const uint8_t *op, const uint8_t *pk, const uint8_t *tip,
                  uint64_t stake, uint32_t commission, int active)
{
    struct qcn_staking_validator *v, *arr;
    uint8_t id[QCN_ADDRESS_BYTES];
    int err;
    qcn_address_from_key(id, QCN_SCHEME_MLDSA65, pk, QCN_VOTE_PK_BYTES);
    if (val_find(s, op) || val_by_identity(s, id) || stake < s->params.min_self_stake ||
        commission > s->params.max_commission_bps)
        return QCN_ERR_STAKING;
    if (s->nval >= QCN_STAKING_MAX_CANDIDATES)
        return QCN_ERR_STAKING;
    arr = realloc(s->val, (s->nval + 1) * sizeof *arr);
    if (arr == NULL)
        return QCN_ERR_NOMEM;
    s->val = arr;
    v = &arr[s->nval];
    memset(v, 0, sizeof *v);
    memcpy(v->address, op, QCN_ADDRESS_BYTES);
    memcpy(v->identity, id, QCN_ADDRESS_BYTES);
    memcpy(v->pubkey, pk, QCN_VOTE_PK_BYTES);
    memcpy(v->beacon_tip, tip, 32);
    v->commission_bps = commission;
    v->active = active;
    s->nval++;
    if ((err = delegate(s, v, op, stake)) != QCN_OK) {
        s->nval--;
        return err;
    }
    if (active) /* genesis: in the set of block 1 and of "block 0" */
        v->epoch_power = v->prev_power = qcn_staking_power(v);
    return QCN_OK;
}

int qcn_staking_genesis_add(struct qcn_staking *s, const uint8_t operator_addr[QCN_ADDRESS_BYTES],
                            const uint8_t pubkey[QCN_VOTE_PK_BYTES], const uint8_t beacon_tip[32],
                            uint64_t stake_gwei, uint32_t commission_bps)
{
    return create(s, operator_addr, pubkey, beacon_tip, stake_gwei, commission_bps, 1);
}

static void slash_key(uint8_t out[32], const struct qcn_vote *v)
{
    uint8_t in[QCN_ADDRESS_BYTES + 8 + 4 + 1];
    memcpy(in, v->validator, QCN_ADDRESS_BYTES);
    qcn_store_be64(in + 20, v->height);
    qcn_store_be32(in + 28, v->round);
    in[32] = v->type;
    qcn_keccak256(out, in, sizeof in);
}

static uint64_t cut(uint64_t amount, uint32_t bps)
{
    return (uint64_t)((u128)amount * bps / QCN_STAKING_BPS);
}

/* The checks of qcn_staking_evidence_check; *v and key for slash(). */
static int evidence_check(const struct qcn_staking *s, uint64_t chain_id, uint64_t height,
                          const uint8_t *data, size_t len, struct qcn_staking_validator **vout,
                          uint8_t key[32])
{
    struct qcn_evidence e;
    struct qcn_staking_validator *v;
    size_t i;

    /* The decoder accepts only two votes of one validator for the same
     * (chain, height, round, type) with different values, in canonical
     * order (codec/vote.h). */
    if (qcn_evidence_decode(&e, qcn_view_make(data, len)) != QCN_OK || e.a.chain_id != chain_id)
        return QCN_ERR_CONSENSUS_EVIDENCE;
    /* Stake that was bonded at the offence has been paid out once the
     * unbonding period passed; a slash then would fall on whoever bonded
     * since, who did nothing wrong. Height h + unbonding_blocks is the last
     * block whose transactions still see unbonding entries begun at h (they
     * are released at the end of that block). */
    if (e.a.height < height && height - e.a.height > s->params.unbonding_blocks)
        return QCN_ERR_STAKING_EXPIRED;
    v = val_by_identity(s, e.a.validator);
    if (v == NULL)
        return QCN_ERR_STAKING_UNKNOWN;
    /* The cheap refusals before the two signature checks: nodes ask this
     * about every piece of evidence they hold after every block. */
    slash_key(key, &e.a);
    for (i = 0; i < s->nslashed; i++)
        if (memcmp(s->slashed[i], key, 32) == 0)
            return QCN_ERR_STAKING_REPLAY; /* punished once per offence */
    /* A tombstoned validator was slashed for another offence: it is out
     * for ever, and its later votes (it may keep equivocating until the
     * epoch ends) are not punished again. */
    if (v->tombstoned)
        return QCN_ERR_STAKING_TOMBSTONED;
    if (qcn_vote_verify(&e.a, v->pubkey) != QCN_OK || qcn_vote_verify(&e.b, v->pubkey) != QCN_OK)
        return QCN_ERR_CONSENSUS_EVIDENCE;
    if (vout != NULL)
        *vout = v;
    return QCN_OK;
}

int qcn_staking_evidence_check(const struct qcn_staking *s, uint64_t chain_id, uint64_t height,
                               const uint8_t *ev, size_t len, uint8_t validator[QCN_ADDRESS_BYTES])
{
    struct qcn_staking_validator *v = NULL;
    uint8_t key[32];
    int err = evidence_check(s, chain_id, height, ev, len, &v, key);
    if (err == QCN_OK && validator != NULL)
        memcpy(validator, v->identity, QCN_ADDRESS_BYTES);
    return err;
}

static int slash(struct qcn_staking *s, uint64_t chain_id, uint64_t height, const uint8_t *data,
                 size_t len)
{
    struct qcn_staking_validator *v = NULL;
    uint8_t key[32];
    size_t i;
    uint8_t(*sl)[32];
    int err;

    if ((err = evidence_check(s, chain_id, height, data, len, &v, key)) != QCN_OK)
        return err;
    if (s->nslashed >= QCN_STAKING_MAX_SLASHED)
        return QCN_ERR_STAKING;
    sl = realloc(s->slashed, (s->nslashed + 1) * sizeof *sl);
    if (sl == NULL)
        return QCN_ERR_NOMEM;
    s->slashed = sl;
    memcpy(s->slashed[s->nslashed++], key, 32);
    for (i = 0; i < s->ndel; i++) {
        struct qcn_staking_delegation *d = &s->del[i];
        uint64_t c;
        if (memcmp(d->validator, v->address, QCN_ADDRESS_BYTES) != 0)
            continue;
        c = cut(d->amount, s->params.slash_double_sign_bps);
        d->amount -= c;
        v->total_stake -= c;
        if (memcmp(d->delegator, v->address, QCN_ADDRESS_BYTES) == 0)
            v->self_stake -= c;
        s->burnt += c;
    }
    for (i = 0; i < s->nunb; i++) {
        struct qcn_staking_unbonding *u = &s->unb[i];
        uint64_t c;
        if (memcmp(u->validator, v->address, QCN_ADDRESS_BYTES) != 0)
            continue;
        c = cut(u->amount, s->params.slash_double_sign_bps);
        u->amount -= c;
        s->burnt += c;
    }
    v->tombstoned = 1;
    v->jailed_until = UINT64_MAX;
    return QCN_OK;
}

int qcn_staking_apply_tx(struct qcn_staking *s, uint64_t chain_id, uint64_t height,
                         const uint8_t sender[QCN_ADDRESS_BYTES], uint64_t value_gwei,
                         const uint8_t *data, size_t len, struct qcn_staking_credits *credits)
{
    struct qcn_rlp_item top, it[4];
    struct qcn_staking_validator *v;
    uint8_t addr[QCN_ADDRESS_BYTES], tip[32], pk[QCN_VOTE_PK_BYTES];
    uint64_t op, x;
    size_t n;
    int err;

    memset(credits, 0, sizeof *credits);
    if (qcn_rlp_decode(&top, qcn_view_make(data, len)) != QCN_OK || !top.is_list ||
        qcn_rlp_count(&n, &top) != QCN_OK || n < 1 || n > 4)
        return QCN_ERR_CODEC;
    if (qcn_rlp_split(it, n, &top) != QCN_OK || qcn_rlp_get_u64(&op, &it[0]) != QCN_OK)
        return QCN_ERR_CODEC;
    /* Only create and delegate take value. */
    if (value_gwei != 0 && op != QCN_STAKING_CREATE && op != QCN_STAKING_DELEGATE)
        return QCN_ERR_STAKING;
    switch (op) {
    case QCN_STAKING_CREATE:
        if (n != 4 || qcn_rlp_get_fixed(pk, sizeof pk, &it[1]) != QCN_OK ||
            qcn_rlp_get_u64(&x, &it[2]) != QCN_OK || x > QCN_STAKING_BPS ||
            qcn_rlp_get_fixed(tip, 32, &it[3]) != QCN_OK)
            return QCN_ERR_CODEC;
        return create(s, sender, pk, tip, value_gwei, (uint32_t)x, 0);
    case QCN_STAKING_DELEGATE:
        if (n != 2 || qcn_rlp_get_fixed(addr, QCN_ADDRESS_BYTES, &it[1]) != QCN_OK)
            return QCN_ERR_CODEC;
        v = val_find(s, addr);
        if (v == NULL || v->tombstoned)
            return QCN_ERR_STAKING;
        return delegate(s, v, sender, value_gwei);
    case QCN_STAKING_UNDELEGATE: {
        struct qcn_staking_delegation *d;
        struct qcn_staking_unbonding *u;
        uint64_t rel;
        if (n != 3 || qcn_rlp_get_fixed(addr, QCN_ADDRESS_BYTES, &it[1]) != QCN_OK ||
            qcn_rlp_get_u64(&x, &it[2]) != QCN_OK)
            return QCN_ERR_CODEC;
        v = val_find(s, addr);
        d = v ? del_find(s, sender, addr) : NULL;
        if (d == NULL || x == 0 || x > d->amount)
            return QCN_ERR_STAKING;
        if (__builtin_add_overflow(height, s->params.unbonding_blocks, &rel))
            return QCN_ERR_OVERFLOW;
        u = grow((void **)&s->unb, &s->nunb, sizeof *u, QCN_STAKING_MAX_UNBONDING);
        if (u == NULL)
            return QCN_ERR_STAKING;
        memcpy(u->delegator, sender, QCN_ADDRESS_BYTES);
        memcpy(u->validator, addr, QCN_ADDRESS_BYTES);
        u->amount = x;
        u->release_height = rel;
        d->amount -= x;
        v->total_stake -= x;
        if (memcmp(sender, v->address, QCN_ADDRESS_BYTES) == 0)
            v->self_stake -= x;
        return QCN_OK;
    }
    case QCN_STAKING_WITHDRAW: {
        size_t i;
        if (n != 1)
            return QCN_ERR_CODEC;
        for (i = 0; i < s->nrew; i++) {
            if (memcmp(s->rew[i].address, sender, QCN_ADDRESS_BYTES) != 0 || s->rew[i].amount == 0)
                continue;
            memcpy(credits->c[0].address, sender, QCN_ADDRESS_BYTES);
            credits->c[0].amount = s->rew[i].amount;
            credits->n = 1;
            s->rew[i].amount = 0;
            return QCN_OK;
        }
        return QCN_ERR_STAKING; /* nothing to withdraw */
    }
    case QCN_STAKING_EDIT: {
        struct qcn_view t;
        uint64_t diff;
        if (n != 3 || qcn_rlp_get_u64(&x, &it[1]) != QCN_OK ||
            qcn_rlp_get_bytes(&t, 32, &it[2]) != QCN_OK || (t.len != 0 && t.len != 32))
            return QCN_ERR_CODEC;
        v = val_find(s, sender);
        if (v == NULL || x > s->params.max_commission_bps)
            return QCN_ERR_STAKING;
        diff = x > v->commission_bps ? x - v->commission_bps : v->commission_bps - x;
        if (diff > s->params.max_commission_change_bps)
            return QCN_ERR_STAKING;
        v->commission_bps = (uint32_t)x;
        if (t.len == 32)
            memcpy(v->beacon_tip, t.p, 32);
        return QCN_OK;
    }
    case QCN_STAKING_UNJAIL:
        if (n != 1)
            return QCN_ERR_CODEC;
        v = val_find(s, sender);
        if (v == NULL || v->tombstoned || v->jailed_until == 0 || v->jailed_until > height)
            return QCN_ERR_STAKING;
        v->jailed_until = 0;
        v->missed = 0;
        v->window_start = height;
        return QCN_OK;
    case QCN_STAKING_EVIDENCE: {
        struct qcn_view ev;
        if (n != 2 || !it[1].is_list)
            return QCN_ERR_CODEC;
        ev = it[1].raw;
        err = slash(s, chain_id, height, ev.p, ev.len);
        return err;
    }
    default:
        return QCN_ERR_CODEC;
    }
}

static int by_stake_desc(const void *a, const void *b, void *ctx)
{
    const struct qcn_staking *s = ctx;
    const struct qcn_staking_validator *x = &s->val[*(const size_t *)a];
    const struct qcn_staking_validator *y = &s->val[*(const size_t *)b];
    if (x->total_stake != y->total_stake)
        return x->total_stake > y->total_stake ? -1 : 1;
    return memcmp(x->address, y->address, QCN_ADDRESS_BYTES);
}

size_t qcn_staking_active(const struct qcn_staking *s, size_t *out, size_t max)
{
    size_t i, k = 0;
    for (i = 0; i < s->nval; i++)
        if (s->val[i].active && k < max)
            out[k++] = i;
    qsort_r(out, k, sizeof *out, by_stake_desc, (void *)s);
    return k;
}

static int recompute_set(struct qcn_staking *s)
{
    size_t *idx, i, k = 0;
    if (s->nval == 0)
        return QCN_OK;
    for (i = 0; i < s->nval; i++)
        s->val[i].prev_power = s->val[i].epoch_power;
    idx = malloc(s->nval * sizeof *idx);
    if (idx == NULL)
        return QCN_ERR_NOMEM;
    for (i = 0; i < s->nval; i++) {
        const struct qcn_staking_validator *v = &s->val[i];
        if (!v->tombstoned && v->jailed_until == 0 && v->self_stake >= s->params.min_self_stake &&
            qcn_staking_power(v) >= 1)
            idx[k++] = i;
    }
    /* Never an empty set: a chain with no eligible validator keeps the old
     * one (it cannot make blocks otherwise). */
    if (k > 0) {
        qsort_r(idx, k, sizeof *idx, by_stake_desc, s);
        for (i = 0; i < s->nval; i++)
            s->val[i].active = 0;
        for (i = 0; i < k && i < s->params.max_validators; i++)
            s->val[idx[i]].active = 1;
    }
    /* Powers freeze here for the epoch (an old set kept because nobody is
     * eligible votes with at least 1 each, so it is never empty). */
    for (i = 0; i < s->nval; i++) {
        struct qcn_staking_validator *v = &s->val[i];
        uint64_t pw = qcn_staking_power(v);
        v->epoch_power = v->active ? (pw > 0 ? pw : 1) : 0;
    }
    free(idx);
    return QCN_OK;
}

static int payout_add(struct qcn_staking_payouts *out, const uint8_t *addr, uint64_t amount)
{
    struct qcn_staking_credit *c;
    if (out->n >= QCN_STAKING_MAX_CREDITS)
        return QCN_ERR_TOO_LARGE;
    c = realloc(out->c, (out->n + 1) * sizeof *c);
    if (c == NULL)
        return QCN_ERR_NOMEM;
    out->c = c;
    memcpy(c[out->n].address, addr, QCN_ADDRESS_BYTES);
    c[out->n].amount = amount;
    out->n++;
    return QCN_OK;
}

/* Whether v earns this block's rewards: in the set and not jailed (a jailed
 * or tombstoned validator stays in the set until the epoch ends, unpaid). */
static int earns(const struct qcn_staking_validator *v)
{
    return v->active && v->jailed_until == 0 && v->total_stake > 0;
}

static int distribute(struct qcn_staking *s, uint64_t total)
{
    uint64_t power = 0, paid = 0;
    size_t i, j;
    int err;
    for (i = 0; i < s->nval; i++)
        if (earns(&s->val[i]))
            power += qcn_staking_power(&s->val[i]);
    if (power == 0 || total == 0) {
        s->burnt += total;
        return QCN_OK;
    }
    for (i = 0; i < s->nval; i++) {
        struct qcn_staking_validator *v = &s->val[i];
        uint64_t share, comm, rest, given = 0;
        if (!earns(v))
            continue;
        share = (uint64_t)((u128)total * qcn_staking_power(v) / power);
        comm = cut(share, v->commission_bps);
        rest = share - comm;
        for (j = 0; j < s->ndel; j++) {
            const struct qcn_staking_delegation *d = &s->del[j];
            uint64_t r;
            if (memcmp(d->validator, v->address, QCN_ADDRESS_BYTES) != 0 || d->amount == 0)
                continue;
            r = (uint64_t)((u128)rest * d->amount / v->total_stake);
            if ((err = reward_add(s, d->delegator, r)) != QCN_OK)
                return err;
            given += r;
        }
        /* the operator gets its commission and the split's dust */
        if ((err = reward_add(s, v->address, comm + (rest - given))) != QCN_OK)
            return err;
        paid += share;
    }
    s->burnt += total - paid;
    return QCN_OK;
}

int qcn_staking_end_block(struct qcn_staking *s, uint64_t height, uint64_t fees_gwei,
                          const uint8_t (*signers)[QCN_ADDRESS_BYTES], size_t nsigners,
                          struct qcn_staking_payouts *out)
{
    uint64_t total;
    size_t i, j;
    int err;

    memset(out, 0, sizeof *out);
    if (__builtin_add_overflow(fees_gwei, s->params.issuance_per_block, &total))
        return QCN_ERR_OVERFLOW;
    if ((err = distribute(s, total)) != QCN_OK)
        goto fail;
    /* Downtime (the certificate in block h names who signed h - 1). */
    for (i = 0; i < s->nval && height > 1; i++) {
        struct qcn_staking_validator *v = &s->val[i];
        int signed_it = 0;
        if (!v->active || v->jailed_until != 0)
            continue;
        if (s->params.downtime_window && height - v->window_start >= s->params.downtime_window) {
            v->window_start = height;
            v->missed = 0;
        }
        for (j = 0; j < nsigners && !signed_it; j++)
            signed_it = memcmp(signers[j], v->identity, QCN_ADDRESS_BYTES) == 0;
        if (!signed_it && ++v->missed > s->params.downtime_max_missed)
            v->jailed_until = height + s->params.jail_blocks;
    }
    /* Matured unbondings are paid out. */
    for (i = 0; i < s->nunb;) {
        if (s->unb[i].release_height <= height) {
            if (s->unb[i].amount > 0 &&
                (err = payout_add(out, s->unb[i].delegator, s->unb[i].amount)) != QCN_OK)
                goto fail;
            s->unb[i] = s->unb[--s->nunb];
        } else {
            i++;
        }
    }
    if (s->params.epoch_length && height % s->params.epoch_length == 0 &&
        (err = recompute_set(s)) != QCN_OK)
        goto fail;
    return QCN_OK;
fail:
    free(out->c);
    memset(out, 0, sizeof *out);
    return err;
}

/* ---- persistence ---- */

int qcn_staking_encode(struct qcn_buf *b, const struct qcn_staking *s)
{
    size_t start = b->len, l, ll, e, i;
    int err = QCN_OK;
#define PUT(x)                                                                                     \
    do {                                                                                           \
        if ((err = (x)) != QCN_OK)                                                                 \
            goto fail;                                                                             \
    } while (0)
    l = qcn_rlp_list_begin(b);
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < s->nval; i++) {
        const struct qcn_staking_validator *v = &s->val[i];
        e = qcn_rlp_list_begin(b);
        PUT(qcn_rlp_put_bytes(b, v->address, QCN_ADDRESS_BYTES));
        PUT(qcn_rlp_put_bytes(b, v->pubkey, QCN_VOTE_PK_BYTES));
        PUT(qcn_rlp_put_bytes(b, v->beacon_tip, 32));
        PUT(qcn_rlp_put_u64(b, v->commission_bps));
        PUT(qcn_rlp_put_u64(b, v->self_stake));
        PUT(qcn_rlp_put_u64(b, v->total_stake));
        PUT(qcn_rlp_put_u64(b, v->jailed_until));
        PUT(qcn_rlp_put_u64(b, (uint64_t)v->tombstoned));
        PUT(qcn_rlp_put_u64(b, (uint64_t)v->active));
        PUT(qcn_rlp_put_u64(b, v->missed));
        PUT(qcn_rlp_put_u64(b, v->window_start));
        PUT(qcn_rlp_put_u64(b, v->epoch_power));
        PUT(qcn_rlp_put_u64(b, v->prev_power));
        PUT(qcn_rlp_list_end(b, e));
    }
    PUT(qcn_rlp_list_end(b, ll));
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < s->ndel; i++) {
        e = qcn_rlp_list_begin(b);
        PUT(qcn_rlp_put_bytes(b, s->del[i].delegator, QCN_ADDRESS_BYTES));
        PUT(qcn_rlp_put_bytes(b, s->del[i].validator, QCN_ADDRESS_BYTES));
        PUT(qcn_rlp_put_u64(b, s->del[i].amount));
        PUT(qcn_rlp_list_end(b, e));
    }
    PUT(qcn_rlp_list_end(b, ll));
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < s->nunb; i++) {
        e = qcn_rlp_list_begin(b);
        PUT(qcn_rlp_put_bytes(b, s->unb[i].delegator, QCN_ADDRESS_BYTES));
        PUT(qcn_rlp_put_bytes(b, s->unb[i].validator, QCN_ADDRESS_BYTES));
        PUT(qcn_rlp_put_u64(b, s->unb[i].amount));
        PUT(qcn_rlp_put_u64(b, s->unb[i].release_height));
        PUT(qcn_rlp_list_end(b, e));
    }
    PUT(qcn_rlp_list_end(b, ll));
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < s->nrew; i++) {
        e = qcn_rlp_list_begin(b);
        PUT(qcn_rlp_put_bytes(b, s->rew[i].address, QCN_ADDRESS_BYTES));
        PUT(qcn_rlp_put_u64(b, s->rew[i].amount));
        PUT(qcn_rlp_list_end(b, e));
    }
    PUT(qcn_rlp_list_end(b, ll));
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < s->nslashed; i++)
        PUT(qcn_rlp_put_bytes(b, s->slashed[i], 32));
    PUT(qcn_rlp_list_end(b, ll));
    PUT(qcn_rlp_put_u64(b, s->burnt));
    PUT(qcn_rlp_list_end(b, l));
#undef PUT
    return QCN_OK;
fail:
    b->len = start;
    return err;
}

static int get_flag(int *out, const struct qcn_rlp_item *it)
{
    uint64_t x;
    if (qcn_rlp_get_u64(&x, it) != QCN_OK || x > 1)
        return QCN_ERR_CODEC;
    *out = (int)x;
    return QCN_OK;
}

int qcn_staking_decode(struct qcn_staking *s, const struct qcn_staking_params *p,
                       struct qcn_view in)
{
    struct qcn_rlp_item top, part[6], e, f[13];
    struct qcn_rlp_iter it;
    uint64_t x;
    int err = QCN_ERR_CODEC, ierr = QCN_ERR_NOT_FOUND;

    qcn_staking_init(s, p);
    if (qcn_rlp_decode(&top, in) != QCN_OK || qcn_rlp_split(part, 6, &top) != QCN_OK ||
        !part[0].is_list || !part[1].is_list || !part[2].is_list || !part[3].is_list ||
        !part[4].is_list)
        goto fail;
    qcn_rlp_iter_init(&it, &part[0]);
    while ((ierr = qcn_rlp_iter_next(&it, &e)) == QCN_OK) {
        struct qcn_staking_validator *v =
            grow((void **)&s->val, &s->nval, sizeof *v, QCN_STAKING_MAX_CANDIDATES);
        if (v == NULL || qcn_rlp_split(f, 13, &e) != QCN_OK ||
            qcn_rlp_get_fixed(v->address, QCN_ADDRESS_BYTES, &f[0]) != QCN_OK ||
            qcn_rlp_get_fixed(v->pubkey, QCN_VOTE_PK_BYTES, &f[1]) != QCN_OK ||
            qcn_rlp_get_fixed(v->beacon_tip, 32, &f[2]) != QCN_OK ||
            qcn_rlp_get_u64(&x, &f[3]) != QCN_OK || x > QCN_STAKING_BPS ||
            qcn_rlp_get_u64(&v->self_stake, &f[4]) != QCN_OK ||
            qcn_rlp_get_u64(&v->total_stake, &f[5]) != QCN_OK ||
            qcn_rlp_get_u64(&v->jailed_until, &f[6]) != QCN_OK ||
            get_flag(&v->tombstoned, &f[7]) != QCN_OK || get_flag(&v->active, &f[8]) != QCN_OK ||
            qcn_rlp_get_u64(&v->missed, &f[9]) != QCN_OK ||
            qcn_rlp_get_u64(&v->window_start, &f[10]) != QCN_OK ||
            qcn_rlp_get_u64(&v->epoch_power, &f[11]) != QCN_OK ||
            qcn_rlp_get_u64(&v->prev_power, &f[12]) != QCN_OK)
            goto fail;
        v->commission_bps = (uint32_t)x;
        qcn_address_from_key(v->identity, QCN_SCHEME_MLDSA65, v->pubkey, QCN_VOTE_PK_BYTES);
    }
    if (ierr != QCN_ERR_NOT_FOUND)
        goto fail;
    qcn_rlp_iter_init(&it, &part[1]);
    while ((ierr = qcn_rlp_iter_next(&it, &e)) == QCN_OK) {
        struct qcn_staking_delegation *d =
            grow((void **)&s->del, &s->ndel, sizeof *d, QCN_STAKING_MAX_DELEGATIONS);
        if (d == NULL || qcn_rlp_split(f, 3, &e) != QCN_OK ||
            qcn_rlp_get_fixed(d->delegator, QCN_ADDRESS_BYTES, &f[0]) != QCN_OK ||
            qcn_rlp_get_fixed(d->validator, QCN_ADDRESS_BYTES, &f[1]) != QCN_OK ||
            qcn_rlp_get_u64(&d->amount, &f[2]) != QCN_OK)
            goto fail;
    }
    if (ierr != QCN_ERR_NOT_FOUND)
        goto fail;
    qcn_rlp_iter_init(&it, &part[2]);
    while ((ierr = qcn_rlp_iter_next(&it, &e)) == QCN_OK) {
        struct qcn_staking_unbonding *u =
            grow((void **)&s->unb, &s->nunb, sizeof *u, QCN_STAKING_MAX_UNBONDING);
        if (u == NULL || qcn_rlp_split(f, 4, &e) != QCN_OK ||
            qcn_rlp_get_fixed(u->delegator, QCN_ADDRESS_BYTES, &f[0]) != QCN_OK ||
            qcn_rlp_get_fixed(u->validator, QCN_ADDRESS_BYTES, &f[1]) != QCN_OK ||
            qcn_rlp_get_u64(&u->amount, &f[2]) != QCN_OK ||
            qcn_rlp_get_u64(&u->release_height, &f[3]) != QCN_OK)
            goto fail;
    }
    if (ierr != QCN_ERR_NOT_FOUND)
        goto fail;
    qcn_rlp_iter_init(&it, &part[3]);
    while ((ierr = qcn_rlp_iter_next(&it, &e)) == QCN_OK) {
        struct qcn_staking_reward *r =
            grow((void **)&s->rew, &s->nrew, sizeof *r, QCN_STAKING_MAX_DELEGATIONS);
        if (r == NULL || qcn_rlp_split(f, 2, &e) != QCN_OK ||
            qcn_rlp_get_fixed(r->address, QCN_ADDRESS_BYTES, &f[0]) != QCN_OK ||
            qcn_rlp_get_u64(&r->amount, &f[1]) != QCN_OK)
            goto fail;
    }
    if (ierr != QCN_ERR_NOT_FOUND)
        goto fail;
    qcn_rlp_iter_init(&it, &part[4]);
    while ((ierr = qcn_rlp_iter_next(&it, &e)) == QCN_OK) {
        uint8_t(*sl)[32];
        if (s->nslashed >= QCN_STAKING_MAX_SLASHED)
            goto fail;
        sl = realloc(s->slashed, (s->nslashed + 1) * sizeof *sl);
        if (sl == NULL)
            goto fail;
        s->slashed = sl;
        if (qcn_rlp_get_fixed(s->slashed[s->nslashed], 32, &e) != QCN_OK)
            goto fail;
        s->nslashed++;
    }
    if (ierr != QCN_ERR_NOT_FOUND || qcn_rlp_get_u64(&s->burnt, &part[5]) != QCN_OK)
        goto fail;
    return QCN_OK;
fail:
    qcn_staking_clear(s);
    return err;
}
