/* Staking rules (chain/staking.h): create, delegate, undelegate with
 * unbonding, rewards split by power and commission, withdraw, edit limits,
 * downtime jailing and unjail, double-sign slashing from real ML-DSA-65
 * evidence (validator and delegators cut, dropped at the next epoch, never
 * twice), top-N set at epoch boundaries, state round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/staking.h"
#include "codec/rlp.h"
#include "crypto/mldsa.h"

#define COIN QCN_STAKING_GWEI_PER_COIN
#define CHAIN 99

static uint8_t pk[5][QCN_VOTE_PK_BYTES], sk[5][QCN_VOTE_SK_BYTES];
static uint8_t op[5][20], alice[20], bob[20];
static const uint8_t tip[32] = {7};

static int setup(void **state)
{
    uint8_t seed[32];
    int i;
    (void)state;
    for (i = 0; i < 5; i++) {
        memset(seed, 0x30 + i, 32);
        if (qcn_mldsa_keygen(QCN_MLDSA65, pk[i], sk[i], seed) != QCN_OK)
            return -1;
        memset(op[i], 0xa0 + i, 20);
    }
    memset(alice, 0xcc, 20);
    memset(bob, 0xdd, 20);
    return 0;
}

static void params(struct qcn_staking_params *p)
{
    qcn_staking_params_default(p);
    p->max_validators = 3;
    p->epoch_length = 10;
    p->unbonding_blocks = 5;
    p->issuance_per_block = 0;
    p->downtime_window = 10;
    p->downtime_max_missed = 3;
    p->jail_blocks = 4;
}

static void genesis(struct qcn_staking *s)
{
    struct qcn_staking_params p;
    int i;
    params(&p);
    qcn_staking_init(s, &p);
    for (i = 0; i < 3; i++)
        assert_int_equal(
            qcn_staking_genesis_add(s, op[i], pk[i], tip, (uint64_t)(2000 + 1000 * i) * COIN, 1000),
            QCN_OK);
}

static int tx(struct qcn_staking *s, uint64_t h, const uint8_t *sender, uint64_t value,
              struct qcn_buf *data, struct qcn_staking_credits *cr)
{
    return qcn_staking_apply_tx(s, CHAIN, h, sender, value, data->p, data->len, cr);
}

static void data_create(struct qcn_buf *b, int k, uint64_t commission)
{
    size_t l;
    qcn_buf_reset(b);
    l = qcn_rlp_list_begin(b);
    assert_int_equal(qcn_rlp_put_u64(b, QCN_STAKING_CREATE), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(b, pk[k], QCN_VOTE_PK_BYTES), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(b, commission), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(b, tip, 32), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(b, l), QCN_OK);
}

static void data_op_addr(struct qcn_buf *b, uint64_t opcode, const uint8_t *addr, int with_amount,
                         uint64_t amount)
{
    size_t l;
    qcn_buf_reset(b);
    l = qcn_rlp_list_begin(b);
    assert_int_equal(qcn_rlp_put_u64(b, opcode), QCN_OK);
    if (addr)
        assert_int_equal(qcn_rlp_put_bytes(b, addr, 20), QCN_OK);
    if (with_amount)
        assert_int_equal(qcn_rlp_put_u64(b, amount), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(b, l), QCN_OK);
}

static void end_all_signed(struct qcn_staking *s, uint64_t h, uint64_t fees,
                           struct qcn_staking_payouts *po)
{
    uint8_t sig[5][20];
    size_t i, n = 0;
    for (i = 0; i < s->nval; i++)
        if (s->val[i].active)
            memcpy(sig[n++], s->val[i].identity, 20);
    assert_int_equal(qcn_staking_end_block(s, h, fees, (const uint8_t(*)[20])sig, n, po), QCN_OK);
}

static uint64_t total_rewards(const struct qcn_staking *s)
{
    uint64_t t = 0;
    size_t i;
    for (i = 0; i < s->nrew; i++)
        t += s->rew[i].amount;
    return t;
}

static void test_create_delegate_epoch(void **state)
{
    struct qcn_staking s;
    struct qcn_staking_credits cr;
    struct qcn_staking_payouts po;
    struct qcn_buf b;
    size_t act[8], n;
    uint64_t h;
    (void)state;
    qcn_buf_init(&b, 8192);
    genesis(&s);
    assert_int_equal(qcn_staking_active(&s, act, 8), 3);
    /* below the minimum self stake */
    data_create(&b, 3, 500);
    assert_int_equal(tx(&s, 1, op[3], 999 * COIN, &b, &cr), QCN_ERR_STAKING);
    /* commission over the cap */
    data_create(&b, 3, 9000);
    assert_int_equal(tx(&s, 1, op[3], 5000 * COIN, &b, &cr), QCN_ERR_STAKING);
    data_create(&b, 3, 500);
    assert_int_equal(tx(&s, 1, op[3], 1500 * COIN, &b, &cr), QCN_OK);
    /* the same identity key twice */
    assert_int_equal(tx(&s, 1, alice, 1500 * COIN, &b, &cr), QCN_ERR_STAKING);
    assert_false(qcn_staking_validator_get(&s, op[3])->active);
    /* alice delegates 3000 to it: 4500 beats validator 0's 2000 */
    data_op_addr(&b, QCN_STAKING_DELEGATE, op[3], 0, 0);
    assert_int_equal(tx(&s, 2, alice, 3000 * COIN, &b, &cr), QCN_OK);
    assert_int_equal(qcn_staking_delegation_get(&s, alice, op[3]), 3000 * COIN);
    /* no value on undelegate */
    data_op_addr(&b, QCN_STAKING_UNDELEGATE, op[3], 1, COIN);
    assert_int_equal(tx(&s, 2, alice, 1, &b, &cr), QCN_ERR_STAKING);
    for (h = 2; h < 10; h++) {
        end_all_signed(&s, h, 0, &po);
        free(po.c);
    }
    assert_false(qcn_staking_validator_get(&s, op[3])->active);
    end_all_signed(&s, 10, 0, &po); /* epoch boundary */
    free(po.c);
    n = qcn_staking_active(&s, act, 8);
    assert_int_equal(n, 3);
    assert_true(qcn_staking_validator_get(&s, op[3])->active);
    assert_false(qcn_staking_validator_get(&s, op[0])->active); /* the smallest dropped */
    assert_memory_equal(s.val[act[0]].address, op[3], 20);      /* largest first */
    qcn_staking_clear(&s);
    qcn_buf_clear(&b);
}

static void test_rewards_undelegate_withdraw(void **state)
{
    struct qcn_staking s;
    struct qcn_staking_credits cr;
    struct qcn_staking_payouts po;
    struct qcn_buf b;
    uint64_t before, fees = 9 * COIN + 7, r_alice, r_op1;
    (void)state;
    qcn_buf_init(&b, 8192);
    genesis(&s);
    data_op_addr(&b, QCN_STAKING_DELEGATE, op[1], 0, 0);
    assert_int_equal(tx(&s, 1, alice, 3000 * COIN, &b, &cr), QCN_OK); /* op1: 3000 + 3000 */
    before = s.burnt;
    end_all_signed(&s, 2, fees, &po);
    free(po.c);
    /* everything is paid or burnt as dust, nothing created */
    assert_int_equal(total_rewards(&s) + (s.burnt - before), fees);
    assert_true(s.burnt - before < 100);
    /* op1's share: power 6000 of 2000 + 6000 + 4000 = 1/2; 10 % commission;
     * alice holds half of op1's stake */
    r_alice = qcn_staking_rewards_get(&s, alice);
    r_op1 = qcn_staking_rewards_get(&s, op[1]);
    assert_true(r_alice > 0 && r_op1 > r_alice);
    assert_true(r_alice * 2 > fees * 9 / 20 - 10 && r_alice * 2 < fees * 9 / 20 + 10);
    /* withdraw pays out once */
    data_op_addr(&b, QCN_STAKING_WITHDRAW, NULL, 0, 0);
    assert_int_equal(tx(&s, 3, alice, 0, &b, &cr), QCN_OK);
    assert_int_equal(cr.n, 1);
    assert_memory_equal(cr.c[0].address, alice, 20);
    assert_int_equal(cr.c[0].amount, r_alice);
    assert_int_equal(tx(&s, 3, alice, 0, &b, &cr), QCN_ERR_STAKING);
    assert_int_equal(tx(&s, 3, bob, 0, &b, &cr), QCN_ERR_STAKING);
    /* undelegate: stake leaves at once, money after the unbonding period */
    data_op_addr(&b, QCN_STAKING_UNDELEGATE, op[1], 1, 4000 * COIN);
    assert_int_equal(tx(&s, 4, alice, 0, &b, &cr), QCN_ERR_STAKING); /* more than delegated */
    data_op_addr(&b, QCN_STAKING_UNDELEGATE, op[1], 1, 1000 * COIN);
    assert_int_equal(tx(&s, 4, alice, 0, &b, &cr), QCN_OK);
    assert_int_equal(qcn_staking_validator_get(&s, op[1])->total_stake, 5000 * COIN);
    end_all_signed(&s, 8, 0, &po);
    assert_int_equal(po.n, 0);
    free(po.c);
    end_all_signed(&s, 9, 0, &po);
    assert_int_equal(po.n, 1);
    assert_memory_equal(po.c[0].address, alice, 20);
    assert_int_equal(po.c[0].amount, 1000 * COIN);
    free(po.c);
    end_all_signed(&s, 10, 0, &po);
    assert_int_equal(po.n, 0);
    free(po.c);
    /* edit: commission moves at most max_commission_change_bps at a time */
    {
        size_t l;
        qcn_buf_reset(&b);
        l = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_put_u64(&b, QCN_STAKING_EDIT), QCN_OK);
        assert_int_equal(qcn_rlp_put_u64(&b, 1500), QCN_OK);
        assert_int_equal(qcn_rlp_put_bytes(&b, NULL, 0), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
        assert_int_equal(tx(&s, 11, op[1], 0, &b, &cr), QCN_ERR_STAKING);
        qcn_buf_reset(&b);
        l = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_put_u64(&b, QCN_STAKING_EDIT), QCN_OK);
        assert_int_equal(qcn_rlp_put_u64(&b, 1100), QCN_OK);
        assert_int_equal(qcn_rlp_put_bytes(&b, NULL, 0), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
        assert_int_equal(tx(&s, 11, op[1], 0, &b, &cr), QCN_OK);
        assert_int_equal(qcn_staking_validator_get(&s, op[1])->commission_bps, 1100);
        assert_int_equal(tx(&s, 11, alice, 0, &b, &cr), QCN_ERR_STAKING); /* not a validator */
    }
    /* malformed data */
    {
        uint8_t junk[3] = {0xc2, 0x63, 0x01};
        assert_int_equal(qcn_staking_apply_tx(&s, CHAIN, 12, alice, 0, junk, 3, &cr),
                         QCN_ERR_CODEC);
    }
    qcn_staking_clear(&s);
    qcn_buf_clear(&b);
}

static void test_downtime_jail_unjail(void **state)
{
    struct qcn_staking s;
    struct qcn_staking_credits cr;
    struct qcn_staking_payouts po;
    struct qcn_buf b;
    uint8_t sig[2][20];
    uint64_t h;
    (void)state;
    qcn_buf_init(&b, 8192);
    genesis(&s);
    /* validator 2 never signs */
    memcpy(sig[0], qcn_staking_validator_get(&s, op[0])->identity, 20);
    memcpy(sig[1], qcn_staking_validator_get(&s, op[1])->identity, 20);
    for (h = 2; h <= 5; h++) {
        assert_int_equal(qcn_staking_end_block(&s, h, 0, (const uint8_t(*)[20])sig, 2, &po),
                         QCN_OK);
        free(po.c);
    }
    assert_int_equal(qcn_staking_validator_get(&s, op[2])->jailed_until, 5 + 4);
    assert_int_equal(qcn_staking_validator_get(&s, op[0])->jailed_until, 0);
    for (h = 6; h <= 10; h++) {
        assert_int_equal(qcn_staking_end_block(&s, h, 0, (const uint8_t(*)[20])sig, 2, &po),
                         QCN_OK);
        free(po.c);
    }
    assert_false(qcn_staking_validator_get(&s, op[2])->active); /* out at the epoch */
    data_op_addr(&b, QCN_STAKING_UNJAIL, NULL, 0, 0);
    assert_int_equal(tx(&s, 8, op[2], 0, &b, &cr), QCN_ERR_STAKING); /* too early */
    assert_int_equal(tx(&s, 11, op[2], 0, &b, &cr), QCN_OK);
    assert_int_equal(tx(&s, 11, op[2], 0, &b, &cr), QCN_ERR_STAKING); /* not jailed any more */
    for (h = 11; h <= 20; h++) {
        end_all_signed(&s, h, 0, &po);
        free(po.c);
    }
    assert_true(qcn_staking_validator_get(&s, op[2])->active); /* back at the next epoch */
    qcn_staking_clear(&s);
    qcn_buf_clear(&b);
}

static void sign_vote_by(struct qcn_vote *v, int k, uint64_t height, uint8_t fill)
{
    memset(v, 0, sizeof *v);
    v->chain_id = CHAIN;
    v->height = height;
    v->round = 1;
    v->type = QCN_VOTE_PRECOMMIT;
    v->has_block = 1;
    memset(v->block_hash, fill, 32);
    qcn_address_from_key(v->validator, QCN_SCHEME_MLDSA65, pk[k], QCN_VOTE_PK_BYTES);
    assert_int_equal(qcn_vote_sign(v, sk[k], 1), QCN_OK);
}

static void sign_vote(struct qcn_vote *v, int k, uint8_t fill)
{
    sign_vote_by(v, k, 38, fill);
}

/* data = RLP([7, evidence]) */
static void evidence_data(struct qcn_buf *b, const struct qcn_evidence *e)
{
    size_t l;
    qcn_buf_reset(b);
    l = qcn_rlp_list_begin(b);
    assert_int_equal(qcn_rlp_put_u64(b, QCN_STAKING_EVIDENCE), QCN_OK);
    assert_int_equal(qcn_evidence_encode(b, e), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(b, l), QCN_OK);
}

static void test_double_sign_slashing(void **state)
{
    struct qcn_staking s, d;
    struct qcn_staking_credits cr;
    struct qcn_staking_payouts po;
    struct qcn_vote x, y;
    struct qcn_evidence e;
    struct qcn_buf b, ev, enc1, enc2;
    uint64_t h, before_alice, before_total;
    size_t l;
    (void)state;
    qcn_buf_init(&b, 16384);
    qcn_buf_init(&ev, 16384);
    genesis(&s);
    data_op_addr(&b, QCN_STAKING_DELEGATE, op[2], 0, 0);
    assert_int_equal(tx(&s, 1, alice, 1000 * COIN, &b, &cr), QCN_OK);
    before_alice = qcn_staking_delegation_get(&s, alice, op[2]);
    before_total = qcn_staking_validator_get(&s, op[2])->total_stake;

    sign_vote(&x, 2, 0x01);
    sign_vote(&y, 2, 0x02);
    assert_int_equal(qcn_evidence_make(&e, &x, &y), QCN_OK);
    assert_int_equal(qcn_evidence_encode(&ev, &e), QCN_OK);
    qcn_buf_reset(&b);
    l = qcn_rlp_list_begin(&b);
    assert_int_equal(qcn_rlp_put_u64(&b, QCN_STAKING_EVIDENCE), QCN_OK);
    assert_int_equal(qcn_rlp_put_raw(&b, ev.p, ev.len), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
    /* evidence from the wrong chain, or with a forged vote, is refused */
    assert_int_equal(qcn_staking_apply_tx(&s, CHAIN + 1, 40, bob, 0, b.p, b.len, &cr),
                     QCN_ERR_CONSENSUS_EVIDENCE);
    {
        struct qcn_buf bad;
        qcn_buf_init(&bad, 16384);
        assert_int_equal(qcn_buf_append(&bad, b.p, b.len), QCN_OK);
        bad.p[bad.len - 100] ^= 1; /* inside the second signature */
        assert_int_equal(qcn_staking_apply_tx(&s, CHAIN, 40, bob, 0, bad.p, bad.len, &cr),
                         QCN_ERR_CONSENSUS_EVIDENCE);
        qcn_buf_clear(&bad);
    }
    {
        uint8_t who[QCN_ADDRESS_BYTES], id[QCN_ADDRESS_BYTES];
        assert_int_equal(qcn_staking_evidence_check(&s, CHAIN, 40, ev.p, ev.len, who), QCN_OK);
        qcn_address_from_key(id, QCN_SCHEME_MLDSA65, pk[2], QCN_VOTE_PK_BYTES);
        assert_memory_equal(who, id, QCN_ADDRESS_BYTES);
    }
    assert_int_equal(tx(&s, 40, bob, 0, &b, &cr), QCN_OK);
    /* 5 % cut from the validator and its delegators, burnt */
    assert_int_equal(qcn_staking_delegation_get(&s, alice, op[2]),
                     before_alice - before_alice / 20);
    assert_int_equal(qcn_staking_validator_get(&s, op[2])->total_stake,
                     before_total - before_total / 20);
    assert_int_equal(s.burnt, before_total / 20);
    assert_true(qcn_staking_validator_get(&s, op[2])->tombstoned);
    /* the same offence is punished once, and a tombstoned validator's
     * other double signs are refused too; neither changes anything */
    qcn_buf_init(&enc1, 1u << 20);
    qcn_buf_init(&enc2, 1u << 20);
    assert_int_equal(qcn_staking_encode(&enc1, &s), QCN_OK);
    assert_int_equal(tx(&s, 41, bob, 0, &b, &cr), QCN_ERR_STAKING_REPLAY);
    /* an offence more than unbonding_blocks (5) old: its stake has left */
    sign_vote_by(&x, 1, 35, 0x01);
    sign_vote_by(&y, 1, 35, 0x02);
    assert_int_equal(qcn_evidence_make(&e, &x, &y), QCN_OK);
    evidence_data(&b, &e);
    assert_int_equal(tx(&s, 41, bob, 0, &b, &cr), QCN_ERR_STAKING_EXPIRED);
    {
        struct qcn_buf one;
        qcn_buf_init(&one, QCN_EVIDENCE_MAX_BYTES);
        assert_int_equal(qcn_evidence_encode(&one, &e), QCN_OK);
        assert_int_equal(qcn_staking_evidence_check(&s, CHAIN, 41, one.p, one.len, NULL),
                         QCN_ERR_STAKING_EXPIRED);
        /* one block earlier it was still in time */
        assert_int_equal(qcn_staking_evidence_check(&s, CHAIN, 40, one.p, one.len, NULL), QCN_OK);
        qcn_buf_clear(&one);
    }
    assert_int_equal(qcn_staking_evidence_check(&s, CHAIN, 40, ev.p, ev.len, NULL),
                     QCN_ERR_STAKING_REPLAY);
    sign_vote_by(&x, 2, 39, 0x01);
    sign_vote_by(&y, 2, 39, 0x02);
    assert_int_equal(qcn_evidence_make(&e, &x, &y), QCN_OK);
    evidence_data(&b, &e);
    assert_int_equal(tx(&s, 41, bob, 0, &b, &cr), QCN_ERR_STAKING_TOMBSTONED);
    /* evidence against a key staking does not know */
    sign_vote_by(&x, 4, 39, 0x01);
    sign_vote_by(&y, 4, 39, 0x02);
    assert_int_equal(qcn_evidence_make(&e, &x, &y), QCN_OK);
    evidence_data(&b, &e);
    assert_int_equal(tx(&s, 41, bob, 0, &b, &cr), QCN_ERR_STAKING_UNKNOWN);
    assert_int_equal(qcn_staking_encode(&enc2, &s), QCN_OK);
    assert_int_equal(enc1.len, enc2.len);
    assert_memory_equal(enc1.p, enc2.p, enc1.len);
    qcn_buf_clear(&enc1);
    qcn_buf_clear(&enc2);
    /* dropped from the set at the next epoch, voting until then with the
     * power frozen at the last boundary; unjail is impossible */
    assert_true(qcn_staking_validator_get(&s, op[2])->active);
    /* (frozen at genesis: alice's delegation came within the epoch) */
    assert_int_equal(qcn_staking_validator_get(&s, op[2])->epoch_power, 4000);
    for (h = 41; h <= 50; h++) {
        end_all_signed(&s, h, 0, &po);
        free(po.c);
    }
    assert_false(qcn_staking_validator_get(&s, op[2])->active);
    assert_int_equal(qcn_staking_validator_get(&s, op[2])->epoch_power, 0);
    assert_int_equal(qcn_staking_validator_get(&s, op[2])->prev_power, 4000);
    assert_int_equal(qcn_staking_validator_get(&s, op[1])->prev_power,
                     qcn_staking_validator_get(&s, op[1])->epoch_power);
    data_op_addr(&b, QCN_STAKING_UNJAIL, NULL, 0, 0);
    assert_int_equal(tx(&s, 1000, op[2], 0, &b, &cr), QCN_ERR_STAKING);

    /* state round trip */
    qcn_buf_init(&enc1, 1u << 20);
    qcn_buf_init(&enc2, 1u << 20);
    assert_int_equal(qcn_staking_encode(&enc1, &s), QCN_OK);
    assert_int_equal(qcn_staking_decode(&d, &s.params, qcn_buf_view(&enc1)), QCN_OK);
    assert_int_equal(qcn_staking_encode(&enc2, &d), QCN_OK);
    assert_int_equal(enc1.len, enc2.len);
    assert_memory_equal(enc1.p, enc2.p, enc1.len);
    assert_int_equal(d.nval, s.nval);
    assert_int_equal(d.burnt, s.burnt);
    assert_true(qcn_staking_validator_get(&d, op[2])->tombstoned);
    enc1.len -= 5;
    qcn_staking_clear(&d);
    assert_int_not_equal(qcn_staking_decode(&d, &s.params, qcn_buf_view(&enc1)), QCN_OK);
    qcn_staking_clear(&d);
    qcn_buf_clear(&enc1);
    qcn_buf_clear(&enc2);
    qcn_staking_clear(&s);
    qcn_buf_clear(&b);
    qcn_buf_clear(&ev);
}

/* Parameters as chain parameters: every range rule names its parameter;
 * the RLP form round-trips and refuses out-of-range values. */
static void test_params(void **state)
{
    struct qcn_staking_params p, d;
    struct qcn_buf b;
    const char *why = NULL;
    (void)state;
    qcn_staking_params_default(&p);
    assert_int_equal(qcn_staking_params_check(&p, &why), QCN_OK);
    assert_null(why);
#define BAD(field, value, name)                                                                    \
    do {                                                                                           \
        qcn_staking_params_default(&p);                                                            \
        p.field = value;                                                                           \
        assert_int_equal(qcn_staking_params_check(&p, &why), QCN_ERR_CONFIG);                      \
        assert_non_null(strstr(why, name));                                                        \
    } while (0)
    BAD(min_self_stake, COIN - 1, "min_self_stake_gwei");
    BAD(max_validators, 0, "max_validators");
    BAD(max_validators, 257, "max_validators");
    BAD(epoch_length, 0, "epoch_length");
    BAD(unbonding_blocks, QCN_STAKING_MAX_PERIOD + 1, "unbonding_blocks");
    BAD(slash_double_sign_bps, 10001, "slash_double_sign_bps");
    BAD(max_commission_bps, 10001, "max_commission_bps");
    BAD(max_commission_change_bps, 10001, "max_commission_change_bps");
    BAD(downtime_window, 0, "downtime_window");
    BAD(jail_blocks, 0, "jail_blocks");
#undef BAD
    qcn_staking_params_default(&p);
    p.epoch_length = 10;
    p.slash_double_sign_bps = 1234;
    p.issuance_per_block = 0;
    qcn_buf_init(&b, 1024);
    assert_int_equal(qcn_staking_params_encode(&b, &p), QCN_OK);
    assert_int_equal(qcn_staking_params_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_memory_equal(&d, &p, sizeof p);
    b.len--;
    assert_int_equal(qcn_staking_params_decode(&d, qcn_buf_view(&b)), QCN_ERR_CODEC);
    qcn_buf_reset(&b);
    p.epoch_length = 0;
    assert_int_equal(qcn_staking_params_encode(&b, &p), QCN_OK);
    assert_int_equal(qcn_staking_params_decode(&d, qcn_buf_view(&b)), QCN_ERR_CONFIG);
    assert_int_equal(d.epoch_length, 0);
    qcn_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_create_delegate_epoch),
        cmocka_unit_test(test_rewards_undelegate_withdraw),
        cmocka_unit_test(test_downtime_jail_unjail),
        cmocka_unit_test(test_double_sign_slashing),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
