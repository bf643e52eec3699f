/* Validator sets (consensus/valset.h) and the beacon (consensus/beacon.h):
 * weighted proposer selection (determinism and frequencies), commit
 * certificates verified against real ML-DSA-65 precommits (quorum, members,
 * signatures, height and block), the hash-chain beacon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "consensus/beacon.h"
#include "consensus/valset.h"
#include "crypto/keccak.h"
#include "crypto/mldsa.h"

#define NK 5
static uint8_t pk[NK][QCN_VOTE_PK_BYTES], sk[NK][QCN_VOTE_SK_BYTES];

static int setup(void **state)
{
    uint8_t seed[32];
    int i;
    (void)state;
    for (i = 0; i < NK; i++) {
        memset(seed, 0x20 + i, sizeof seed);
        if (qcn_mldsa_keygen(QCN_MLDSA65, pk[i], sk[i], seed) != QCN_OK)
            return -1;
    }
    return 0;
}

static void make_set(struct qcn_valset *vs, const uint64_t *powers, int n)
{
    uint8_t tip[32] = {0};
    int i;
    qcn_valset_init(vs);
    for (i = 0; i < n; i++) {
        tip[0] = (uint8_t)i;
        assert_int_equal(qcn_valset_add(vs, pk[i], powers[i], tip), QCN_OK);
    }
}

static int idx_of_key(const struct qcn_valset *vs, int k)
{
    uint8_t a[20];
    qcn_address_from_key(a, QCN_SCHEME_MLDSA65, pk[k], QCN_VOTE_PK_BYTES);
    return qcn_valset_find(vs, a);
}

static void test_set_rules(void **state)
{
    static const uint64_t pw[4] = {10, 20, 30, 40};
    struct qcn_valset vs, d;
    struct qcn_buf b;
    uint8_t tip[32] = {0};
    size_t i;
    (void)state;
    make_set(&vs, pw, 4);
    assert_int_equal(vs.n, 4);
    assert_int_equal(vs.total, 100);
    for (i = 1; i < vs.n; i++)
        assert_true(memcmp(vs.v[i - 1].address, vs.v[i].address, 20) < 0);
    assert_int_equal(qcn_valset_add(&vs, pk[0], 5, tip), QCN_ERR_EXISTS);
    assert_int_equal(qcn_valset_add(&vs, pk[4], 0, tip), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_valset_add(&vs, pk[4], QCN_VALSET_MAX_TOTAL_POWER, tip),
                     QCN_ERR_TOO_LARGE);
    assert_int_equal(vs.n, 4);
    assert_true(qcn_valset_quorum(&vs, 67));
    assert_false(qcn_valset_quorum(&vs, 66));
    /* encode/decode round trip; tampered order refused */
    qcn_buf_init(&b, 1u << 20);
    assert_int_equal(qcn_valset_encode(&b, &vs), QCN_OK);
    assert_int_equal(qcn_valset_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.total, 100);
    assert_memory_equal(d.v, vs.v, 4 * sizeof *vs.v);
    qcn_valset_clear(&d);
    b.len -= 3;
    assert_int_not_equal(qcn_valset_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.n, 0);
    qcn_buf_clear(&b);
    qcn_valset_clear(&vs);
}

static void test_proposer_weighted(void **state)
{
    static const uint64_t pw[4] = {1, 2, 3, 4};
    struct qcn_valset vs;
    uint8_t beacon[32];
    unsigned counts[4] = {0, 0, 0, 0};
    uint32_t h, r;
    int i;
    (void)state;
    make_set(&vs, pw, 4);
    memset(beacon, 0x5c, sizeof beacon);
    for (h = 1; h <= 5000; h++)
        for (r = 0; r < 4; r++)
            counts[qcn_valset_proposer(&vs, beacon, h, r)]++;
    /* 20000 draws; expected power/10 of them each, within 10 % */
    for (i = 0; i < 4; i++) {
        double want = 20000.0 * (double)vs.v[i].power / 10.0;
        assert_true(counts[i] > want * 0.9 && counts[i] < want * 1.1);
    }
    /* deterministic, and the beacon changes the draw */
    assert_int_equal(qcn_valset_proposer(&vs, beacon, 77, 3),
                     qcn_valset_proposer(&vs, beacon, 77, 3));
    {
        unsigned differ = 0;
        uint8_t other[32];
        memset(other, 0x5d, sizeof other);
        for (h = 1; h <= 200; h++)
            differ +=
                qcn_valset_proposer(&vs, beacon, h, 0) != qcn_valset_proposer(&vs, other, h, 0);
        assert_true(differ > 50);
    }
    qcn_valset_clear(&vs);
}

static void sign_precommit(struct qcn_commit *c, int k, uint64_t chain_id, const uint8_t *hash,
                           uint64_t height, uint32_t round)
{
    struct qcn_vote v;
    memset(&v, 0, sizeof v);
    v.chain_id = chain_id;
    v.height = height;
    v.round = round;
    v.type = QCN_VOTE_PRECOMMIT;
    v.has_block = 1;
    memcpy(v.block_hash, hash, 32);
    qcn_address_from_key(v.validator, QCN_SCHEME_MLDSA65, pk[k], QCN_VOTE_PK_BYTES);
    assert_int_equal(qcn_vote_sign(&v, sk[k], 1), QCN_OK);
    assert_int_equal(qcn_commit_add_sig(c, v.validator, v.sig), QCN_OK);
}

static int verify(const struct qcn_valset *vs, const struct qcn_commit *c, uint64_t chain_id,
                  uint64_t height, const uint8_t *hash)
{
    struct qcn_buf b;
    struct qcn_commit out;
    int err;
    qcn_buf_init(&b, QCN_COMMIT_MAX_BYTES);
    assert_int_equal(qcn_commit_encode(&b, c), QCN_OK);
    err = qcn_commit_verify(vs, chain_id, height, hash, qcn_buf_view(&b), &out);
    if (err == QCN_OK)
        assert_int_equal(out.nsigs, c->nsigs);
    else
        assert_null(out.sigs);
    qcn_commit_clear(&out);
    qcn_buf_clear(&b);
    return err;
}

static void test_commit_certificates(void **state)
{
    static const uint64_t eq[4] = {1, 1, 1, 1};
    static const uint64_t heavy[4] = {7, 1, 1, 1};
    struct qcn_valset vs;
    struct qcn_commit c;
    uint8_t hash[32], other[32];
    (void)state;
    memset(hash, 0xa5, 32);
    memset(other, 0xa6, 32);
    make_set(&vs, eq, 4);

    qcn_commit_init(&c, 10, 2, hash);
    sign_precommit(&c, 0, 7, hash, 10, 2);
    sign_precommit(&c, 1, 7, hash, 10, 2);
    assert_int_equal(verify(&vs, &c, 7, 10, hash), QCN_ERR_CONSENSUS_CERT); /* 2 of 4 */
    sign_precommit(&c, 2, 7, hash, 10, 2);
    assert_int_equal(verify(&vs, &c, 7, 10, hash), QCN_OK); /* 3 of 4 */
    assert_int_equal(verify(&vs, &c, 7, 11, hash), QCN_ERR_CONSENSUS_CERT);
    assert_int_equal(verify(&vs, &c, 7, 10, other), QCN_ERR_CONSENSUS_CERT);
    assert_int_equal(verify(&vs, &c, 8, 10, hash), QCN_ERR_CONSENSUS_CERT); /* other chain */
    c.sigs[1].sig[17] ^= 1;
    assert_int_equal(verify(&vs, &c, 7, 10, hash), QCN_ERR_CONSENSUS_CERT);
    qcn_commit_clear(&c);

    /* a signer outside the set */
    qcn_commit_init(&c, 10, 2, hash);
    sign_precommit(&c, 0, 7, hash, 10, 2);
    sign_precommit(&c, 1, 7, hash, 10, 2);
    sign_precommit(&c, 2, 7, hash, 10, 2);
    sign_precommit(&c, 4, 7, hash, 10, 2);
    assert_int_equal(verify(&vs, &c, 7, 10, hash), QCN_ERR_CONSENSUS_CERT);
    qcn_commit_clear(&c);

    /* a precommit signed for another round does not fit the certificate's round */
    qcn_commit_init(&c, 10, 2, hash);
    sign_precommit(&c, 0, 7, hash, 10, 2);
    sign_precommit(&c, 1, 7, hash, 10, 2);
    sign_precommit(&c, 2, 7, hash, 10, 1);
    assert_int_equal(verify(&vs, &c, 7, 10, hash), QCN_ERR_CONSENSUS_CERT);
    qcn_commit_clear(&c);
    qcn_valset_clear(&vs);

    /* weighted: the 7/10 validator alone is more than 2/3 */
    make_set(&vs, heavy, 4);
    qcn_commit_init(&c, 3, 0, hash);
    sign_precommit(&c, 0, 7, hash, 3, 0);
    assert_int_equal(verify(&vs, &c, 7, 3, hash), QCN_OK);
    qcn_commit_clear(&c);
    qcn_commit_init(&c, 3, 0, hash);
    sign_precommit(&c, 1, 7, hash, 3, 0);
    sign_precommit(&c, 2, 7, hash, 3, 0);
    sign_precommit(&c, 3, 7, hash, 3, 0);
    assert_int_equal(verify(&vs, &c, 7, 3, hash), QCN_ERR_CONSENSUS_CERT);
    qcn_commit_clear(&c);
    /* garbage */
    {
        uint8_t junk[40];
        memset(junk, 0xc0, sizeof junk);
        assert_int_equal(qcn_commit_verify(&vs, 7, 3, hash, qcn_view_make(junk, sizeof junk), NULL),
                         QCN_ERR_CONSENSUS_CERT);
    }
    (void)idx_of_key;
    qcn_valset_clear(&vs);
}

static void test_beacon_chain(void **state)
{
    struct qcn_beacon_chain ch;
    struct qcn_valset vs;
    static const uint64_t pw[2] = {1, 1};
    uint8_t seed[32], last[32], r[32], mix[32], mix2[32], c[32];
    uint64_t j, i;
    int k;
    (void)state;
    memset(seed, 0x42, sizeof seed);
    assert_int_equal(qcn_beacon_chain_init(&ch, seed, 3000), QCN_OK);
    /* tip = H^3000(seed) */
    memcpy(c, seed, 32);
    for (i = 0; i < 3000; i++) {
        uint8_t t[32];
        qcn_keccak256(t, c, 32);
        memcpy(c, t, 32);
    }
    assert_memory_equal(ch.tip, c, 32);
    memcpy(last, ch.tip, 32);
    for (j = 1; j <= 3000; j += (j < 1100 ? 1 : 97)) {
        assert_int_equal(qcn_beacon_chain_reveal(&ch, j, r), QCN_OK);
        if (j <= 1100) {
            assert_int_equal(qcn_beacon_check_reveal(last, r), QCN_OK);
            assert_int_equal(qcn_beacon_check_reveal(r, last), QCN_ERR_CONSENSUS_BEACON);
            memcpy(last, r, 32);
        }
    }
    assert_int_equal(qcn_beacon_chain_reveal(&ch, 3000, r), QCN_OK);
    assert_memory_equal(r, seed, 32); /* the last reveal is the seed itself */
    assert_int_equal(qcn_beacon_chain_reveal(&ch, 3001, r), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_beacon_chain_reveal(&ch, 0, r), QCN_ERR_INVALID_ARG);

    /* through the set: the right proposer with the right reveal advances the mix */
    qcn_valset_init(&vs);
    assert_int_equal(qcn_valset_add(&vs, pk[0], pw[0], ch.tip), QCN_OK);
    assert_int_equal(qcn_valset_add(&vs, pk[1], pw[1], ch.tip), QCN_OK);
    k = idx_of_key(&vs, 0);
    memset(mix, 0, 32);
    assert_int_equal(qcn_beacon_chain_reveal(&ch, 1, r), QCN_OK);
    assert_int_equal(qcn_valset_beacon_apply(&vs, vs.v[k].address, r, mix, mix2), QCN_OK);
    assert_int_equal(vs.v[k].beacon_reveals, 1);
    /* replaying the same reveal fails (it must be the next preimage) */
    assert_int_equal(qcn_valset_beacon_apply(&vs, vs.v[k].address, r, mix2, mix),
                     QCN_ERR_CONSENSUS_BEACON);
    assert_int_equal(vs.v[k].beacon_reveals, 1);
    {
        uint8_t expect[32], in[10 + 64];
        memcpy(in, "QCN-BEACON", 10);
        memset(in + 10, 0, 32);
        memcpy(in + 42, r, 32);
        qcn_keccak256(expect, in, sizeof in);
        assert_memory_equal(mix2, expect, 32);
    }
    {
        uint8_t stranger[20];
        memset(stranger, 0xee, 20);
        assert_int_equal(qcn_valset_beacon_apply(&vs, stranger, r, mix2, mix),
                         QCN_ERR_CONSENSUS_VALIDATOR);
    }
    qcn_valset_clear(&vs);
    qcn_beacon_chain_clear(&ch);
    assert_null(ch.check);
}

static void test_beacon_seed(void **state)
{
    uint8_t a[32], b[32];
    char path[] = "/tmp/qcn-beacon-XXXXXX";
    int fd;
    (void)state;
    assert_int_equal(qcn_beacon_seed(a, NULL), QCN_OK);
    assert_int_equal(qcn_beacon_seed(b, ""), QCN_OK);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(qcn_beacon_seed(a, "/dev/urandom"), QCN_OK);
    assert_int_equal(qcn_beacon_seed(a, "/nonexistent/hwrng"), QCN_ERR_IO);
    /* a source shorter than the bytes asked for is an error, not a fallback */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "short", 5), 5);
    close(fd);
    assert_int_equal(qcn_beacon_seed(a, path), QCN_ERR_IO);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_rules),           cmocka_unit_test(test_proposer_weighted),
        cmocka_unit_test(test_commit_certificates), cmocka_unit_test(test_beacon_chain),
        cmocka_unit_test(test_beacon_seed),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
