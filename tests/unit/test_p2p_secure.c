/* Unit tests for p2p/secure: the handshake state machine without sockets
 * (ids learned, wrong signature, downgrade by a middlebox, version floor,
 * replayed handshake messages, wrong chain) and sealed frames (round trip,
 * flipped byte, replay, reorder, rekeying across the boundary). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/secure.h"
#include "util/mem.h"

static struct qcn_p2p_identity id_a, id_b;
static uint8_t m1[QCN_P2P_HS_INIT_BYTES], m2[QCN_P2P_HS_RESP_BYTES], m3[QCN_P2P_HS_FIN_BYTES];
static struct qcn_p2p_hs ha, hb;

static int setup(void **state)
{
    uint8_t seed[32];
    (void)state;
    memset(seed, 1, sizeof seed);
    if (qcn_p2p_identity_from_seed(&id_a, seed) != QCN_OK)
        return -1;
    memset(seed, 2, sizeof seed);
    return qcn_p2p_identity_from_seed(&id_b, seed) == QCN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    qcn_p2p_identity_clear(&id_a);
    qcn_p2p_identity_clear(&id_b);
    return 0;
}

static void params(struct qcn_p2p_hs_params *p, const struct qcn_p2p_identity *id)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->chain_id = 1337;
    p->version = QCN_P2P_VERSION;
    p->min_version = QCN_P2P_MIN_VERSION;
}

static void test_handshake_ok(void **state)
{
    (void)state;
    struct qcn_p2p_hs_params pa, pb;
    uint8_t as[32], ar[32], bs[32], br[32];
    params(&pa, &id_a);
    params(&pb, &id_b);
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_OK);
    assert_int_equal(qcn_p2p_hs_accept(&hb, m3, sizeof m3), QCN_OK);
    assert_memory_equal(ha.peer_id, id_b.node_id, QCN_P2P_NODE_ID_BYTES);
    assert_memory_equal(hb.peer_id, id_a.node_id, QCN_P2P_NODE_ID_BYTES);
    assert_memory_not_equal(id_a.node_id, id_b.node_id, QCN_P2P_NODE_ID_BYTES);
    assert_int_equal(qcn_p2p_hs_keys(&ha, as, ar), QCN_OK);
    assert_int_equal(qcn_p2p_hs_keys(&hb, bs, br), QCN_OK);
    assert_memory_equal(as, br, 32);
    assert_memory_equal(ar, bs, 32);
    assert_memory_not_equal(as, ar, 32);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
}

static void test_bad_signature(void **state)
{
    (void)state;
    struct qcn_p2p_hs_params pa, pb;
    params(&pa, &id_a);
    params(&pb, &id_b);
    /* responder signs badly: initiator refuses */
    pb.faults = QCN_P2P_FAULT_BAD_SIG;
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_ERR_BAD_SIGNATURE);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* initiator signs badly: responder refuses */
    pb.faults = 0;
    pa.faults = QCN_P2P_FAULT_BAD_SIG;
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_OK);
    assert_int_equal(qcn_p2p_hs_accept(&hb, m3, sizeof m3), QCN_ERR_BAD_SIGNATURE);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* a middlebox swaps in its own identity key: the signature no longer matches */
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    pa.faults = 0;
    qcn_p2p_hs_clear(&ha);
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    memcpy(m2 + QCN_P2P_HS_RESP_UNSIGNED_BYTES - QCN_P2P_ID_PK_BYTES, id_a.pk, QCN_P2P_ID_PK_BYTES);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_ERR_BAD_SIGNATURE);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
}

static void test_downgrade(void **state)
{
    (void)state;
    struct qcn_p2p_hs_params pa, pb;
    params(&pa, &id_a);
    params(&pb, &id_b);
    /* Both speak 1..2; a middlebox rewrites the offered version to 1. The
     * responder picks 1 and signs the rewritten HS_INIT, which the initiator
     * never sent: refused. */
    pa.version = pb.version = 2;
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    m1[5] = 1; /* version (be16 at offset 4) */
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    assert_int_equal(hb.version, 1);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_ERR_BAD_SIGNATURE);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* untouched, both pick 2 */
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_OK);
    assert_int_equal(ha.version, 2);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* an initiator that only offers a version under the responder's floor */
    pa.version = 1;
    pa.min_version = 1;
    pb.min_version = 2;
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_ERR_UNSUPPORTED);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* a responder that answers with a version under the initiator's floor */
    params(&pa, &id_a);
    params(&pb, &id_b);
    pa.version = 2;
    pa.min_version = 2;
    pb.version = 1;
    pb.min_version = 1;
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_ERR_UNSUPPORTED);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
}

static void test_replay_and_chain(void **state)
{
    (void)state;
    struct qcn_p2p_hs_params pa, pb;
    static uint8_t old1[sizeof m1], old2[sizeof m2], old3[sizeof m3];
    struct qcn_p2p_hs hc;
    params(&pa, &id_a);
    params(&pb, &id_b);
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_finish(&ha, m3, m2, sizeof m2), QCN_OK);
    assert_int_equal(qcn_p2p_hs_accept(&hb, m3, sizeof m3), QCN_OK);
    memcpy(old1, m1, sizeof m1);
    memcpy(old2, m2, sizeof m2);
    memcpy(old3, m3, sizeof m3);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* recorded HS_INIT + HS_FIN replayed to a responder: its fresh nonce and
     * kex make the old signature worthless */
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, old1, sizeof old1), QCN_OK);
    assert_memory_not_equal(m2, old2, sizeof m2);
    assert_int_equal(qcn_p2p_hs_accept(&hb, old3, sizeof old3), QCN_ERR_BAD_SIGNATURE);
    qcn_p2p_hs_clear(&hb);
    /* recorded HS_RESP replayed to a new initiator */
    assert_int_equal(qcn_p2p_hs_initiate(&hc, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_finish(&hc, m3, old2, sizeof old2), QCN_ERR_BAD_SIGNATURE);
    qcn_p2p_hs_clear(&hc);
    /* wrong chain id */
    pb.chain_id = 1;
    assert_int_equal(qcn_p2p_hs_initiate(&ha, &pa, m1), QCN_OK);
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, sizeof m1), QCN_ERR_HANDSHAKE);
    qcn_p2p_hs_clear(&ha);
    qcn_p2p_hs_clear(&hb);
    /* garbage */
    assert_int_equal(qcn_p2p_hs_respond(&hb, &pb, m2, m1, 10), QCN_ERR_CODEC);
    qcn_p2p_hs_clear(&hb);
}

static void pair(struct qcn_p2p_cipher *s, struct qcn_p2p_cipher *r, uint64_t rekey_frames)
{
    uint8_t key[32];
    memset(key, 0x5a, sizeof key);
    assert_int_equal(qcn_p2p_cipher_init(s, key, rekey_frames, 0), QCN_OK);
    assert_int_equal(qcn_p2p_cipher_init(r, key, rekey_frames, 0), QCN_OK);
}

static int open_frame(struct qcn_p2p_cipher *r, const uint8_t *fr, size_t len, uint8_t *pt)
{
    static uint8_t tmp[4096];
    memcpy(tmp, fr, len);
    return qcn_p2p_open(r, pt, tmp, tmp + 4, len - 4);
}

static void test_frames(void **state)
{
    (void)state;
    struct qcn_p2p_cipher s, r;
    struct qcn_buf f1, f2;
    uint8_t pt[64], msg1[40], msg2[41];
    memset(msg1, 'a', sizeof msg1);
    memset(msg2, 'b', sizeof msg2);
    qcn_buf_init(&f1, 4096);
    qcn_buf_init(&f2, 4096);

    /* round trip, then a replay of the same frame fails */
    pair(&s, &r, 0);
    assert_int_equal(qcn_p2p_seal(&s, &f1, msg1, sizeof msg1), QCN_OK);
    assert_int_equal(f1.len, 4 + sizeof msg1 + 16);
    assert_int_equal(open_frame(&r, f1.p, f1.len, pt), QCN_OK);
    assert_memory_equal(pt, msg1, sizeof msg1);
    assert_int_equal(open_frame(&r, f1.p, f1.len, pt), QCN_ERR_DECRYPT);
    /* the cipher is dead afterwards, even for the right next frame */
    assert_int_equal(qcn_p2p_seal(&s, &f2, msg2, sizeof msg2), QCN_OK);
    assert_int_equal(open_frame(&r, f2.p, f2.len, pt), QCN_ERR_DECRYPT);
    qcn_p2p_cipher_clear(&s);
    qcn_p2p_cipher_clear(&r);

    /* every flipped byte (header, body, tag) fails */
    for (size_t i = 0; i < 4 + sizeof msg1 + 16; i++) {
        qcn_buf_reset(&f1);
        pair(&s, &r, 0);
        assert_int_equal(qcn_p2p_seal(&s, &f1, msg1, sizeof msg1), QCN_OK);
        f1.p[i] ^= 0x01;
        assert_int_equal(open_frame(&r, f1.p, f1.len, pt), QCN_ERR_DECRYPT);
        qcn_p2p_cipher_clear(&s);
        qcn_p2p_cipher_clear(&r);
    }

    /* reordered: frame 2 first fails */
    qcn_buf_reset(&f1);
    qcn_buf_reset(&f2);
    pair(&s, &r, 0);
    assert_int_equal(qcn_p2p_seal(&s, &f1, msg1, sizeof msg1), QCN_OK);
    assert_int_equal(qcn_p2p_seal(&s, &f2, msg2, sizeof msg2), QCN_OK);
    assert_int_equal(open_frame(&r, f2.p, f2.len, pt), QCN_ERR_DECRYPT);
    qcn_p2p_cipher_clear(&s);
    qcn_p2p_cipher_clear(&r);

    /* rekey every 3 frames: 10 frames in order all open, keys changed 3 times,
     * and a frame from before the boundary does not open after it */
    pair(&s, &r, 3);
    {
        uint8_t key0[32];
        memcpy(key0, s.key, 32);
        for (int i = 0; i < 10; i++) {
            qcn_buf_reset(&f1);
            msg1[0] = (uint8_t)i;
            assert_int_equal(qcn_p2p_seal(&s, &f1, msg1, sizeof msg1), QCN_OK);
            assert_int_equal(open_frame(&r, f1.p, f1.len, pt), QCN_OK);
            assert_int_equal(pt[0], i);
            if (i == 1)
                memcpy(f2.p, f1.p, f1.len), f2.len = f1.len; /* frame #1 (key 0, counter 1) */
        }
        assert_int_equal(s.rekeys, 3);
        assert_int_equal(r.rekeys, 3);
        assert_memory_equal(s.key, r.key, 32);
        assert_memory_not_equal(s.key, key0, 32);
        assert_int_equal(open_frame(&r, f2.p, f2.len, pt), QCN_ERR_DECRYPT);
    }
    qcn_p2p_cipher_clear(&s);
    qcn_p2p_cipher_clear(&r);

    /* the byte bound: 100 plaintext bytes per key, 40-byte frames -> a new
     * key after every third frame */
    {
        uint8_t key[32];
        memset(key, 0x5a, sizeof key);
        assert_int_equal(qcn_p2p_cipher_init(&s, key, 0, 100), QCN_OK);
        assert_int_equal(qcn_p2p_cipher_init(&r, key, 0, 100), QCN_OK);
        for (int i = 0; i < 7; i++) {
            qcn_buf_reset(&f1);
            assert_int_equal(qcn_p2p_seal(&s, &f1, msg1, sizeof msg1), QCN_OK);
            assert_int_equal(open_frame(&r, f1.p, f1.len, pt), QCN_OK);
        }
        assert_int_equal(s.rekeys, 2);
        assert_int_equal(r.rekeys, 2);
        assert_int_equal(s.counter, 1);
    }
    qcn_p2p_cipher_clear(&s);
    qcn_p2p_cipher_clear(&r);
    qcn_buf_clear(&f1);
    qcn_buf_clear(&f2);
}

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    /* RFC 5869 A.1 with an info string of 10 bytes "\xf0..\xf9" is binary, so
     * check instead a property: different info, different output; same
     * inputs, same output; and the output differs from the ikm. */
    uint8_t ikm[22], salt[13], o1[42], o2[42], o3[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    assert_int_equal(qcn_p2p_hkdf(o1, sizeof o1, ikm, sizeof ikm, salt, sizeof salt, "a"), QCN_OK);
    assert_int_equal(qcn_p2p_hkdf(o2, sizeof o2, ikm, sizeof ikm, salt, sizeof salt, "a"), QCN_OK);
    assert_int_equal(qcn_p2p_hkdf(o3, sizeof o3, ikm, sizeof ikm, salt, sizeof salt, "b"), QCN_OK);
    assert_memory_equal(o1, o2, sizeof o1);
    assert_memory_not_equal(o1, o3, sizeof o1);
    /* RFC 5869 A.3: empty salt and info */
    static const uint8_t okm3[42] = {
        0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f, 0x71, 0x5f, 0x80, 0x2a, 0x06, 0x3c,
        0x5a, 0x31, 0xb8, 0xa1, 0x1f, 0x5c, 0x5e, 0xe1, 0x87, 0x9e, 0xc3, 0x45, 0x4e, 0x5f,
        0x3c, 0x73, 0x8d, 0x2d, 0x9d, 0x20, 0x13, 0x95, 0xfa, 0xa4, 0xb6, 0x1a, 0x96, 0xc8};
    assert_int_equal(qcn_p2p_hkdf(o1, sizeof o1, ikm, sizeof ikm, NULL, 0, ""), QCN_OK);
    assert_memory_equal(o1, okm3, sizeof okm3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_ok), cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_downgrade),    cmocka_unit_test(test_replay_and_chain),
        cmocka_unit_test(test_frames),       cmocka_unit_test(test_hkdf_rfc5869),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
