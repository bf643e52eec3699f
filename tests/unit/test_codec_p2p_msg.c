/* Unit tests for codec/p2p_msg: round trips of every message, caps checked
 * before use, strictness (truncation, trailing bytes, unknown types). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/p2p_msg.h"

static void roundtrip(const struct qcn_p2p_msg *m)
{
    struct qcn_buf b, b2;
    struct qcn_p2p_msg d;
    qcn_buf_init(&b, QCN_P2P_MAX_MSG_BYTES);
    qcn_buf_init(&b2, QCN_P2P_MAX_MSG_BYTES);
    assert_int_equal(qcn_p2p_msg_encode(&b, m), QCN_OK);
    assert_int_equal(qcn_p2p_msg_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.type, m->type);
    assert_int_equal(qcn_p2p_msg_encode(&b2, &d), QCN_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.p, b2.p, b.len);
    /* every strict prefix fails, one extra byte fails */
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_not_equal(qcn_p2p_msg_decode(&d, qcn_view_make(b.p, cut)), QCN_OK);
    assert_int_equal(qcn_buf_append_u8(&b, 0), QCN_OK);
    assert_int_equal(qcn_p2p_msg_decode(&d, qcn_buf_view(&b)), QCN_ERR_CODEC);
    assert_int_equal(d.type, 0);
    qcn_buf_clear(&b);
    qcn_buf_clear(&b2);
}

static void test_roundtrip_all(void **state)
{
    (void)state;
    struct qcn_p2p_msg m;
    uint8_t hashes[3 * 32];
    uint8_t body1[100], body2[5000], blk[300], commit[40], payload[77];
    memset(hashes, 0xab, sizeof hashes);
    memset(body1, 1, sizeof body1);
    memset(body2, 2, sizeof body2);
    memset(blk, 3, sizeof blk);
    memset(commit, 4, sizeof commit);
    memset(payload, 5, sizeof payload);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_STATUS;
    m.u.status.chain_id = 1337;
    m.u.status.head_height = 99;
    memset(m.u.status.head_hash, 7, 32);
    memset(m.u.status.genesis_hash, 8, 32);
    m.u.status.listen_port = 30303;
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_PING;
    m.u.ping_nonce = 0x0102030405060708ull;
    roundtrip(&m);
    m.type = QCN_P2P_MSG_PONG;
    roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_GET_PEERS;
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_PEERS;
    m.u.peers.n = 2;
    m.u.peers.addrs[0].family = 4;
    m.u.peers.addrs[0].ip[0] = 127;
    m.u.peers.addrs[0].ip[3] = 1;
    m.u.peers.addrs[0].port = 9000;
    m.u.peers.addrs[1].family = 6;
    m.u.peers.addrs[1].ip[15] = 1;
    m.u.peers.addrs[1].port = 9001;
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_TX_ANNOUNCE;
    m.u.tx_hashes.n = 3;
    m.u.tx_hashes.hashes = hashes;
    roundtrip(&m);
    m.type = QCN_P2P_MSG_TX_REQUEST;
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_TX_BODIES;
    m.u.tx_bodies.n = 2;
    m.u.tx_bodies.bodies[0] = qcn_view_make(body1, sizeof body1);
    m.u.tx_bodies.bodies[1] = qcn_view_make(body2, sizeof body2);
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_NEW_BLOCK;
    m.u.new_block.height = 5;
    memset(m.u.new_block.hash, 9, 32);
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_GET_BLOCKS;
    m.u.get_blocks.start = 10;
    m.u.get_blocks.count = QCN_P2P_MAX_BLOCKS_PER_MSG;
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_BLOCKS;
    m.u.blocks.n = 2;
    m.u.blocks.blocks[0] = qcn_view_make(blk, sizeof blk);
    m.u.blocks.blocks[1] = qcn_view_make(blk, 10);
    m.u.blocks.commits[1] = qcn_view_make(commit, sizeof commit);
    roundtrip(&m);
    m.u.blocks.n = 0;
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_CONSENSUS;
    m.u.consensus.kind = QCN_P2P_CONSENSUS_PREVOTE;
    m.u.consensus.payload = qcn_view_make(payload, sizeof payload);
    roundtrip(&m);

    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_GOODBYE;
    m.u.goodbye.reason = QCN_P2P_BYE_SHUTDOWN;
    m.u.goodbye.text = qcn_view_make("bye", 3);
    roundtrip(&m);
}

static int decode_hex_bytes(const uint8_t *p, size_t n)
{
    struct qcn_p2p_msg d;
    return qcn_p2p_msg_decode(&d, qcn_view_make(p, n));
}

static void test_caps_before_use(void **state)
{
    (void)state;
    /* TX_ANNOUNCE claiming 257 hashes with no bytes behind: TOO_LARGE, not truncated */
    uint8_t ann[] = {QCN_P2P_MSG_TX_ANNOUNCE, 0x01, 0x01};
    assert_int_equal(decode_hex_bytes(ann, sizeof ann), QCN_ERR_TOO_LARGE);
    /* zero hashes is malformed */
    uint8_t ann0[] = {QCN_P2P_MSG_TX_ANNOUNCE, 0x00, 0x00};
    assert_int_equal(decode_hex_bytes(ann0, sizeof ann0), QCN_ERR_CODEC);
    /* PEERS over 64 */
    uint8_t peers[] = {QCN_P2P_MSG_PEERS, 0x00, 65};
    assert_int_equal(decode_hex_bytes(peers, sizeof peers), QCN_ERR_TOO_LARGE);
    /* a tx body length over QCN_TX_MAX_BYTES */
    uint8_t bodies[] = {QCN_P2P_MSG_TX_BODIES, 0, 1, 0x00, 0x02, 0x00, 0x01};
    assert_int_equal(decode_hex_bytes(bodies, sizeof bodies), QCN_ERR_TOO_LARGE);
    /* GET_BLOCKS count 0 and over cap */
    uint8_t gb[] = {QCN_P2P_MSG_GET_BLOCKS, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(decode_hex_bytes(gb, sizeof gb), QCN_ERR_CODEC);
    gb[12] = QCN_P2P_MAX_BLOCKS_PER_MSG + 1;
    assert_int_equal(decode_hex_bytes(gb, sizeof gb), QCN_ERR_TOO_LARGE);
    /* vote payload over its kind's cap; unknown kind */
    uint8_t cv[] = {QCN_P2P_MSG_CONSENSUS, QCN_P2P_CONSENSUS_PRECOMMIT, 0, 1, 0, 1};
    assert_int_equal(decode_hex_bytes(cv, sizeof cv), QCN_ERR_TOO_LARGE);
    uint8_t ck[] = {QCN_P2P_MSG_CONSENSUS, 0x77, 0, 0, 0, 0};
    assert_int_equal(decode_hex_bytes(ck, sizeof ck), QCN_ERR_CODEC);
    /* unknown type, empty frame, bad goodbye reason, bad address family */
    uint8_t unk[] = {0x7f};
    assert_int_equal(decode_hex_bytes(unk, sizeof unk), QCN_ERR_CODEC);
    assert_int_equal(decode_hex_bytes(unk, 0), QCN_ERR_CODEC);
    uint8_t bye[] = {QCN_P2P_MSG_GOODBYE, 0x00, 0x00};
    assert_int_equal(decode_hex_bytes(bye, sizeof bye), QCN_ERR_CODEC);
    uint8_t fam[] = {QCN_P2P_MSG_PEERS, 0, 1, 5, 1, 2, 3, 4, 0, 80};
    assert_int_equal(decode_hex_bytes(fam, sizeof fam), QCN_ERR_CODEC);

    /* encoders refuse what decoders refuse */
    struct qcn_p2p_msg m;
    struct qcn_buf b;
    qcn_buf_init(&b, QCN_P2P_MAX_MSG_BYTES);
    memset(&m, 0, sizeof m);
    m.type = QCN_P2P_MSG_CONSENSUS;
    m.u.consensus.kind = QCN_P2P_CONSENSUS_PREVOTE;
    static uint8_t big[QCN_P2P_MAX_CONSENSUS_VOTE_BYTES + 1];
    m.u.consensus.payload = qcn_view_make(big, sizeof big);
    assert_int_equal(qcn_p2p_msg_encode(&b, &m), QCN_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    m.type = 0x55;
    assert_int_equal(qcn_p2p_msg_encode(&b, &m), QCN_ERR_CODEC);
    qcn_buf_clear(&b);
}

static void test_handshake_msgs(void **state)
{
    (void)state;
    static struct qcn_p2p_hs_init hi, hi2;
    static struct qcn_p2p_hs_resp hr, hr2;
    static struct qcn_p2p_hs_fin hf, hf2;
    static uint8_t bi[QCN_P2P_HS_INIT_BYTES], br[QCN_P2P_HS_RESP_BYTES], bf[QCN_P2P_HS_FIN_BYTES];
    memset(&hi, 0x11, sizeof hi);
    hi.version = 3;
    hi.min_version = 1;
    hi.chain_id = 42;
    hi.id_scheme = QCN_P2P_ID_SCHEME;
    qcn_p2p_hs_init_encode(bi, &hi);
    assert_int_equal(qcn_p2p_hs_init_decode(&hi2, qcn_view_make(bi, sizeof bi)), QCN_OK);
    assert_int_equal(hi2.version, 3);
    assert_int_equal(hi2.chain_id, 42);
    assert_memory_equal(hi2.id_pk, hi.id_pk, sizeof hi.id_pk);
    assert_int_equal(qcn_p2p_hs_init_decode(&hi2, qcn_view_make(bi, sizeof bi - 1)), QCN_ERR_CODEC);
    bi[0] ^= 1; /* magic */
    assert_int_equal(qcn_p2p_hs_init_decode(&hi2, qcn_view_make(bi, sizeof bi)), QCN_ERR_CODEC);
    bi[0] ^= 1;
    bi[4 + 2 + 2 + 8 + 32 + QCN_KEX_INIT_MSG_BYTES] = 3; /* scheme */
    assert_int_equal(qcn_p2p_hs_init_decode(&hi2, qcn_view_make(bi, sizeof bi)), QCN_ERR_CODEC);

    memset(&hr, 0x22, sizeof hr);
    hr.version = 1;
    hr.id_scheme = QCN_P2P_ID_SCHEME;
    qcn_p2p_hs_resp_encode(br, &hr, 1);
    assert_int_equal(qcn_p2p_hs_resp_decode(&hr2, qcn_view_make(br, sizeof br)), QCN_OK);
    assert_memory_equal(hr2.sig, hr.sig, sizeof hr.sig);
    assert_memory_equal(hr2.kex, hr.kex, sizeof hr.kex);
    assert_int_equal(
        qcn_p2p_hs_resp_decode(&hr2, qcn_view_make(br, QCN_P2P_HS_RESP_UNSIGNED_BYTES)),
        QCN_ERR_CODEC);

    memset(&hf, 0x33, sizeof hf);
    qcn_p2p_hs_fin_encode(bf, &hf);
    assert_int_equal(qcn_p2p_hs_fin_decode(&hf2, qcn_view_make(bf, sizeof bf)), QCN_OK);
    assert_memory_equal(hf2.sig, hf.sig, sizeof hf.sig);
    bf[3] ^= 0x80;
    assert_int_equal(qcn_p2p_hs_fin_decode(&hf2, qcn_view_make(bf, sizeof bf)), QCN_ERR_CODEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all),
        cmocka_unit_test(test_caps_before_use),
        cmocka_unit_test(test_handshake_msgs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
