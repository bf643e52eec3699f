/* Consensus message encodings (docs/consensus.md §2): round trips, signing
 * bytes bound to every field, strict decoding of what peers send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/rlp.h"
#include "codec/vote.h"
#include "crypto/mldsa.h"

struct key {
    uint8_t pk[QCN_VOTE_PK_BYTES];
    uint8_t sk[QCN_VOTE_SK_BYTES];
    uint8_t addr[QCN_ADDRESS_BYTES];
};

static struct key keys[2];

static int setup(void **state)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    int i;
    (void)state;
    for (i = 0; i < 2; i++) {
        memset(seed, 0x40 + i, sizeof seed);
        if (qcn_mldsa_keygen(QCN_MLDSA65, keys[i].pk, keys[i].sk, seed) != QCN_OK)
            return -1;
        qcn_address_from_key(keys[i].addr, QCN_SCHEME_MLDSA65, keys[i].pk, QCN_VOTE_PK_BYTES);
    }
    return 0;
}

static void make_vote(struct qcn_vote *v, uint8_t type, int nil, uint8_t fill)
{
    memset(v, 0, sizeof *v);
    v->chain_id = 7;
    v->height = 1234;
    v->round = 3;
    v->type = type;
    v->has_block = nil ? 0 : 1;
    if (!nil)
        memset(v->block_hash, fill, QCN_HASH_BYTES);
    memcpy(v->validator, keys[0].addr, QCN_ADDRESS_BYTES);
}

static void test_vote_roundtrip_and_sign(void **state)
{
    struct qcn_vote v, d, t;
    struct qcn_buf b;
    int nil;
    (void)state;
    qcn_buf_init(&b, QCN_VOTE_MAX_BYTES);
    for (nil = 0; nil <= 1; nil++) {
        make_vote(&v, QCN_VOTE_PRECOMMIT, nil, 0xab);
        assert_int_equal(qcn_vote_sign(&v, keys[0].sk, 1), QCN_OK);
        assert_int_equal(qcn_vote_verify(&v, keys[0].pk), QCN_OK);
        qcn_buf_reset(&b);
        assert_int_equal(qcn_vote_encode(&b, &v), QCN_OK);
        assert_true(b.len <= QCN_VOTE_MAX_BYTES);
        assert_int_equal(qcn_vote_decode(&d, qcn_buf_view(&b)), QCN_OK);
        assert_memory_equal(&d, &v, sizeof v);
        assert_int_equal(qcn_vote_verify(&d, keys[0].pk), QCN_OK);
        /* the other key does not verify (its address differs) */
        assert_int_equal(qcn_vote_verify(&d, keys[1].pk), QCN_ERR_BAD_SIGNATURE);
        /* every signed field is bound */
        t = v;
        t.chain_id++;
        assert_int_equal(qcn_vote_verify(&t, keys[0].pk), QCN_ERR_BAD_SIGNATURE);
        t = v;
        t.height++;
        assert_int_equal(qcn_vote_verify(&t, keys[0].pk), QCN_ERR_BAD_SIGNATURE);
        t = v;
        t.round++;
        assert_int_equal(qcn_vote_verify(&t, keys[0].pk), QCN_ERR_BAD_SIGNATURE);
        t = v;
        t.type = QCN_VOTE_PREVOTE;
        assert_int_equal(qcn_vote_verify(&t, keys[0].pk), QCN_ERR_BAD_SIGNATURE);
        t = v;
        t.has_block = 1;
        t.block_hash[5] ^= 1;
        assert_int_equal(qcn_vote_verify(&t, keys[0].pk), QCN_ERR_BAD_SIGNATURE);
        t = v;
        t.sig[100] ^= 1;
        assert_int_equal(qcn_vote_verify(&t, keys[0].pk), QCN_ERR_BAD_SIGNATURE);
    }
    qcn_buf_clear(&b);
}

static void test_vote_decode_rejects(void **state)
{
    struct qcn_vote v, d;
    struct qcn_buf b, x;
    size_t cut;
    (void)state;
    qcn_buf_init(&b, QCN_VOTE_MAX_BYTES);
    qcn_buf_init(&x, QCN_VOTE_MAX_BYTES * 2);
    make_vote(&v, QCN_VOTE_PREVOTE, 0, 0x11);
    assert_int_equal(qcn_vote_encode(&b, &v), QCN_OK);
    for (cut = 0; cut < b.len; cut += 97) {
        assert_int_not_equal(qcn_vote_decode(&d, qcn_view_make(b.p, cut)), QCN_OK);
        assert_int_equal(d.height, 0);
    }
    /* trailing byte */
    assert_int_equal(qcn_buf_append(&x, b.p, b.len), QCN_OK);
    assert_int_equal(qcn_buf_append_u8(&x, 0), QCN_OK);
    assert_int_not_equal(qcn_vote_decode(&d, qcn_buf_view(&x)), QCN_OK);
    /* bad type and nil-with-hash cannot be encoded */
    v.type = 3;
    assert_int_equal(qcn_vote_encode(&b, &v), QCN_ERR_CODEC);
    make_vote(&v, QCN_VOTE_PREVOTE, 1, 0);
    v.block_hash[0] = 1;
    assert_int_equal(qcn_vote_encode(&b, &v), QCN_ERR_CODEC);
    /* a hand-built vote with type 3 and with a 31-byte hash is refused */
    {
        uint8_t h[31] = {0};
        uint8_t sig[QCN_VOTE_SIG_BYTES] = {0};
        int t;
        for (t = 0; t < 2; t++) {
            size_t l;
            qcn_buf_reset(&x);
            l = qcn_rlp_list_begin(&x);
            assert_int_equal(qcn_rlp_put_u64(&x, 7), QCN_OK);
            assert_int_equal(qcn_rlp_put_u64(&x, 1), QCN_OK);
            assert_int_equal(qcn_rlp_put_u64(&x, 0), QCN_OK);
            assert_int_equal(qcn_rlp_put_u64(&x, t == 0 ? 3 : 1), QCN_OK);
            assert_int_equal(qcn_rlp_put_bytes(&x, h, t == 0 ? 0 : sizeof h), QCN_OK);
            assert_int_equal(qcn_rlp_put_bytes(&x, keys[0].addr, QCN_ADDRESS_BYTES), QCN_OK);
            assert_int_equal(qcn_rlp_put_bytes(&x, sig, sizeof sig), QCN_OK);
            assert_int_equal(qcn_rlp_list_end(&x, l), QCN_OK);
            assert_int_equal(qcn_vote_decode(&d, qcn_buf_view(&x)), QCN_ERR_CODEC);
        }
    }
    qcn_buf_clear(&b);
    qcn_buf_clear(&x);
}

static void test_proposal(void **state)
{
    struct qcn_proposal p, d;
    struct qcn_buf b;
    struct qcn_view blk;
    uint8_t fake_block[] = {0xc3, 0x01, 0x02, 0x03};
    (void)state;
    qcn_buf_init(&b, 1u << 20);
    memset(&p, 0, sizeof p);
    p.chain_id = 7;
    p.height = 10;
    p.round = 2;
    p.pol_round = 1;
    memset(p.block_hash, 0x5a, QCN_HASH_BYTES);
    memcpy(p.proposer, keys[1].addr, QCN_ADDRESS_BYTES);
    assert_int_equal(qcn_proposal_sign(&p, keys[1].sk, 1), QCN_OK);
    assert_int_equal(qcn_proposal_verify(&p, keys[1].pk), QCN_OK);
    assert_int_equal(qcn_proposal_encode(&b, &p), QCN_OK);
    assert_int_equal(qcn_proposal_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_memory_equal(&d, &p, sizeof p);
    /* the proposal signature is not a vote signature (different context) */
    {
        struct qcn_vote v;
        make_vote(&v, QCN_VOTE_PREVOTE, 0, 0x5a);
        memcpy(v.validator, keys[1].addr, QCN_ADDRESS_BYTES);
        memcpy(v.sig, p.sig, QCN_VOTE_SIG_BYTES);
        assert_int_equal(qcn_vote_verify(&v, keys[1].pk), QCN_ERR_BAD_SIGNATURE);
    }
    d.pol_round = -1;
    assert_int_equal(qcn_proposal_verify(&d, keys[1].pk), QCN_ERR_BAD_SIGNATURE);
    /* pol_round must be below round */
    d.pol_round = 2;
    qcn_buf_reset(&b);
    assert_int_equal(qcn_proposal_encode(&b, &d), QCN_ERR_CODEC);
    d.pol_round = -2;
    assert_int_equal(qcn_proposal_encode(&b, &d), QCN_ERR_CODEC);
    /* message with a block */
    qcn_buf_reset(&b);
    assert_int_equal(qcn_proposal_msg_encode(&b, &p, fake_block, sizeof fake_block), QCN_OK);
    assert_int_equal(qcn_proposal_msg_decode(&d, &blk, qcn_buf_view(&b)), QCN_OK);
    assert_memory_equal(&d, &p, sizeof p);
    assert_int_equal(blk.len, sizeof fake_block);
    assert_memory_equal(blk.p, fake_block, sizeof fake_block);
    b.len--;
    assert_int_not_equal(qcn_proposal_msg_decode(&d, &blk, qcn_buf_view(&b)), QCN_OK);
    assert_null(blk.p);
    qcn_buf_clear(&b);
}

static void test_commit(void **state)
{
    struct qcn_commit c, d;
    struct qcn_buf b;
    struct qcn_vote v;
    uint8_t hash[QCN_HASH_BYTES], sig[QCN_VOTE_SIG_BYTES], addr[QCN_ADDRESS_BYTES];
    int i;
    (void)state;
    memset(hash, 0x77, sizeof hash);
    qcn_buf_init(&b, QCN_COMMIT_MAX_BYTES);
    qcn_commit_init(&c, 99, 4, hash);
    /* inserted out of order: kept sorted */
    for (i = 5; i >= 0; i--) {
        memset(addr, 0x10 * i + 1, sizeof addr);
        memset(sig, i, sizeof sig);
        assert_int_equal(qcn_commit_add_sig(&c, addr, sig), QCN_OK);
    }
    assert_int_equal(qcn_commit_add_sig(&c, addr, sig), QCN_ERR_EXISTS);
    assert_int_equal(c.nsigs, 6);
    for (i = 1; i < 6; i++)
        assert_true(memcmp(c.sigs[i - 1].validator, c.sigs[i].validator, 20) < 0);
    assert_int_equal(qcn_commit_encode(&b, &c), QCN_OK);
    assert_int_equal(qcn_commit_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.height, 99);
    assert_int_equal(d.round, 4);
    assert_int_equal(d.nsigs, 6);
    assert_memory_equal(d.sigs, c.sigs, 6 * sizeof *c.sigs);
    qcn_commit_vote(&v, &d, 7, 2);
    assert_int_equal(v.type, QCN_VOTE_PRECOMMIT);
    assert_int_equal(v.height, 99);
    assert_memory_equal(v.validator, d.sigs[2].validator, 20);
    qcn_commit_clear(&d);
    /* unsorted (swap two signers) and duplicated signers are refused */
    {
        struct qcn_commit_sig tmp = c.sigs[0];
        c.sigs[0] = c.sigs[1];
        c.sigs[1] = tmp;
        qcn_buf_reset(&b);
        assert_int_equal(qcn_commit_encode(&b, &c), QCN_OK);
        assert_int_equal(qcn_commit_decode(&d, qcn_buf_view(&b)), QCN_ERR_CODEC);
        assert_null(d.sigs);
        c.sigs[0] = c.sigs[1];
        qcn_buf_reset(&b);
        assert_int_equal(qcn_commit_encode(&b, &c), QCN_OK);
        assert_int_equal(qcn_commit_decode(&d, qcn_buf_view(&b)), QCN_ERR_CODEC);
    }
    qcn_commit_clear(&c);
    /* the cap on signers */
    qcn_commit_init(&c, 1, 0, hash);
    for (i = 0; i < (int)QCN_COMMIT_MAX_SIGS; i++) {
        memset(addr, 0, sizeof addr);
        addr[0] = (uint8_t)(i >> 8);
        addr[1] = (uint8_t)i;
        assert_int_equal(qcn_commit_add_sig(&c, addr, sig), QCN_OK);
    }
    addr[0] = 0xff;
    assert_int_equal(qcn_commit_add_sig(&c, addr, sig), QCN_ERR_TOO_LARGE);
    qcn_buf_reset(&b);
    assert_int_equal(qcn_commit_encode(&b, &c), QCN_OK);
    assert_true(b.len <= QCN_COMMIT_MAX_BYTES);
    assert_int_equal(qcn_commit_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.nsigs, QCN_COMMIT_MAX_SIGS);
    qcn_commit_clear(&d);
    qcn_commit_clear(&c);
    qcn_buf_clear(&b);
}

static void test_evidence(void **state)
{
    struct qcn_vote x, y, z;
    struct qcn_evidence e, d;
    struct qcn_buf b;
    (void)state;
    qcn_buf_init(&b, QCN_EVIDENCE_MAX_BYTES);
    make_vote(&x, QCN_VOTE_PREVOTE, 0, 0xee);
    make_vote(&y, QCN_VOTE_PREVOTE, 0, 0x22);
    assert_int_equal(qcn_vote_sign(&x, keys[0].sk, 1), QCN_OK);
    assert_int_equal(qcn_vote_sign(&y, keys[0].sk, 1), QCN_OK);
    assert_true(qcn_vote_conflicts(&x, &y));
    assert_int_equal(qcn_evidence_make(&e, &x, &y), QCN_OK);
    assert_memory_equal(&e.a, &y, sizeof y); /* 0x22.. sorts first */
    assert_int_equal(qcn_evidence_encode(&b, &e), QCN_OK);
    assert_int_equal(qcn_evidence_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_memory_equal(&d, &e, sizeof e);
    /* reversed order is not canonical */
    {
        struct qcn_buf r;
        size_t l;
        qcn_buf_init(&r, QCN_EVIDENCE_MAX_BYTES);
        l = qcn_rlp_list_begin(&r);
        assert_int_equal(qcn_vote_encode(&r, &x), QCN_OK);
        assert_int_equal(qcn_vote_encode(&r, &y), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&r, l), QCN_OK);
        assert_int_equal(qcn_evidence_decode(&d, qcn_buf_view(&r)), QCN_ERR_CODEC);
        qcn_buf_clear(&r);
    }
    /* nil against a block conflicts; same block, other round or type does not */
    make_vote(&z, QCN_VOTE_PREVOTE, 1, 0);
    assert_true(qcn_vote_conflicts(&x, &z));
    z = x;
    assert_false(qcn_vote_conflicts(&x, &z));
    assert_int_equal(qcn_evidence_make(&e, &x, &z), QCN_ERR_CODEC);
    z = y;
    z.round++;
    assert_false(qcn_vote_conflicts(&x, &z));
    z = y;
    z.type = QCN_VOTE_PRECOMMIT;
    assert_false(qcn_vote_conflicts(&x, &z));
    z = y;
    memcpy(z.validator, keys[1].addr, 20);
    assert_false(qcn_vote_conflicts(&x, &z));
    qcn_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vote_roundtrip_and_sign),
        cmocka_unit_test(test_vote_decode_rejects),
        cmocka_unit_test(test_proposal),
        cmocka_unit_test(test_commit),
        cmocka_unit_test(test_evidence),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
