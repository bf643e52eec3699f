/* Headers, blocks and receipts: exact round trips, block hash = Keccak-256 of
 * the header encoding, strict rejection of malformed encodings, logs bloom. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/block.h"
#include "codec/receipt.h"
#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "unit/test_chain_helpers.h"

static void sample_header(struct qcn_header *h)
{
    uint8_t cert[300];
    memset(h, 0, sizeof *h);
    memset(h->parent_hash, 1, 32);
    h->height = 12345;
    h->timestamp = 1700000000;
    memset(h->proposer, 2, 20);
    memset(h->state_root, 3, 32);
    memset(h->tx_root, 4, 32);
    memset(h->receipts_root, 5, 32);
    h->bloom[7] = 0x80;
    h->gas_limit = 30000000;
    h->gas_used = 21000;
    h->base_fee = 1000000000;
    memset(h->mix, 6, 32);
    h->extra_len = 3;
    memcpy(h->extra, "qcn", 3);
    memset(cert, 7, sizeof cert);
    assert_int_equal(qcn_header_set_commit(h, cert, sizeof cert), QCN_OK);
}

static void test_header_roundtrip(void **state)
{
    struct qcn_header h, d;
    struct qcn_buf b, b2;
    uint8_t hash[32], hash2[32];
    (void)state;

    sample_header(&h);
    qcn_buf_init(&b, QCN_HEADER_MAX_BYTES);
    qcn_buf_init(&b2, QCN_HEADER_MAX_BYTES);
    assert_int_equal(qcn_header_encode(&b, &h), QCN_OK);
    assert_int_equal(qcn_header_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.height, 12345);
    assert_int_equal(d.commit_len, 300);
    assert_int_equal(d.extra_len, 3);
    assert_int_equal(qcn_header_encode(&b2, &d), QCN_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.p, b2.p, b.len);
    assert_int_equal(qcn_header_hash(hash, &d), QCN_OK);
    qcn_keccak256(hash2, b.p, b.len);
    assert_memory_equal(hash, hash2, 32);
    qcn_header_clear(&d);
    /* Trailing byte, truncation. */
    assert_int_equal(qcn_buf_append_u8(&b, 0), QCN_OK);
    assert_int_not_equal(qcn_header_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_not_equal(qcn_header_decode(&d, qcn_view_make(b.p, b.len - 2)), QCN_OK);
    qcn_header_clear(&d);
    qcn_header_clear(&h);
    qcn_buf_clear(&b);
    qcn_buf_clear(&b2);
}

/* A header with one field of the wrong size or type. */
static void test_header_rejects(void **state)
{
    struct qcn_buf b;
    struct qcn_header d;
    uint8_t z[300];
    int field;
    (void)state;

    memset(z, 0, sizeof z);
    qcn_buf_init(&b, QCN_HEADER_MAX_BYTES);
    for (field = 0; field < 15; field++) {
        size_t l;
        static const size_t sizes[14] = {32, 8, 8, 20, 32, 32, 32, 256, 8, 8, 8, 32, 3, 0};
        int i;
        qcn_buf_reset(&b);
        l = qcn_rlp_list_begin(&b);
        for (i = 0; i < 14; i++) {
            size_t n = sizes[i];
            int is_int = i == 1 || i == 2 || i == 8 || i == 9 || i == 10;
            if (i == field)
                n = is_int    ? 9
                    : i == 12 ? QCN_HEADER_MAX_EXTRA + 1
                    : i == 13 ? QCN_HEADER_MAX_COMMIT + 1
                              : n + 1;
            if (is_int && i != field)
                assert_int_equal(qcn_rlp_put_u64(&b, 5), QCN_OK);
            else if (n > sizeof z) {
                uint8_t *big = calloc(1, n);
                assert_non_null(big);
                big[0] = 1;
                assert_int_equal(qcn_rlp_put_bytes(&b, big, n), QCN_OK);
                free(big);
            } else {
                z[0] = 1;
                assert_int_equal(qcn_rlp_put_bytes(&b, z, n), QCN_OK);
            }
        }
        if (field == 14)
            assert_int_equal(qcn_rlp_put_u64(&b, 1), QCN_OK); /* a 15th field */
        assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
        assert_int_not_equal(qcn_header_decode(&d, qcn_buf_view(&b)), QCN_OK);
    }
    qcn_buf_clear(&b);
}

static void test_block_roundtrip(void **state)
{
    struct tkey k;
    struct qcn_tx_fields f;
    struct qcn_block blk, d;
    struct qcn_buf b, b2;
    uint8_t hh[32];
    size_t i;
    (void)state;

    tkey_make(&k, QCN_SCHEME_MLDSA44, 9);
    memset(&blk, 0, sizeof blk);
    sample_header(&blk.header);
    blk.ntx = 3;
    blk.txs = calloc(3, sizeof *blk.txs);
    assert_non_null(blk.txs);
    for (i = 0; i < 3; i++) {
        tfields(&f, 1, k.addr, i, k.addr, 10, k.scheme);
        assert_int_equal(tsign(&blk.txs[i], &f, &k, i == 0), QCN_OK);
    }
    qcn_buf_init(&b, QCN_BLOCK_MAX_BYTES);
    qcn_buf_init(&b2, QCN_BLOCK_MAX_BYTES);
    assert_int_equal(qcn_block_encode(&b, &blk), QCN_OK);
    assert_int_equal(qcn_block_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(d.ntx, 3);
    for (i = 0; i < 3; i++)
        assert_memory_equal(d.txs[i]->hash, blk.txs[i]->hash, 32);
    assert_int_equal(qcn_header_hash(hh, &blk.header), QCN_OK);
    assert_memory_equal(d.hash, hh, 32);
    assert_int_equal(qcn_block_encode(&b2, &d), QCN_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.p, b2.p, b.len);
    /* A corrupted transaction inside fails the whole block with its reason. */
    qcn_block_clear(&d);
    qcn_buf_reset(&b2);
    {
        size_t l = qcn_rlp_list_begin(&b2), bl;
        assert_int_equal(qcn_header_encode(&b2, &blk.header), QCN_OK);
        bl = qcn_rlp_list_begin(&b2);
        assert_int_equal(qcn_rlp_put_bytes(&b2, blk.txs[0]->raw, blk.txs[0]->raw_len - 1), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b2, bl), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b2, l), QCN_OK);
        assert_int_equal(qcn_block_decode(&d, qcn_buf_view(&b2)), QCN_ERR_TX_MALFORMED);
        assert_int_equal(d.ntx, 0);
        assert_null(d.txs);
    }
    /* Body alone. */
    qcn_buf_reset(&b2);
    assert_int_equal(qcn_block_body_encode(&b2, blk.txs, blk.ntx), QCN_OK);
    memset(&d, 0, sizeof d);
    assert_int_equal(qcn_block_body_decode(&d, qcn_buf_view(&b2)), QCN_OK);
    assert_int_equal(d.ntx, 3);
    qcn_block_clear(&d);
    qcn_block_clear(&blk);
    qcn_buf_clear(&b);
    qcn_buf_clear(&b2);
}

static void test_receipts(void **state)
{
    struct qcn_receipt r[2], *d;
    struct qcn_buf b, b2;
    uint8_t addr[20], topics[2][32], data[40], probe[256];
    size_t n, i, bits = 0;
    (void)state;

    memset(r, 0, sizeof r);
    memset(addr, 0x42, sizeof addr);
    memset(topics, 0x17, sizeof topics);
    memset(data, 0x99, sizeof data);
    r[0].status = 1;
    r[0].cumulative_gas = 21000;
    r[1].status = 0;
    r[1].cumulative_gas = 60000;
    assert_int_equal(
        qcn_receipt_add_log(&r[1], addr, (const uint8_t(*)[32])topics, 2, data, sizeof data),
        QCN_OK);
    assert_int_equal(qcn_receipt_add_log(&r[1], addr, NULL, 0, NULL, 0), QCN_OK);
    for (i = 0; i < 256; i++)
        bits += (size_t)__builtin_popcount(r[1].bloom[i]);
    assert_true(bits >= 3 && bits <= 6); /* address: 3 bits; one topic value: up to 3 more */
    memset(probe, 0, sizeof probe);
    qcn_bloom_add(probe, addr, 20);
    for (i = 0; i < 256; i++)
        assert_int_equal(probe[i] & r[1].bloom[i], probe[i]);
    qcn_buf_init(&b, QCN_RECEIPT_MAX_BYTES);
    qcn_buf_init(&b2, QCN_RECEIPT_MAX_BYTES);
    assert_int_equal(qcn_receipts_encode(&b, r, 2), QCN_OK);
    assert_int_equal(qcn_receipts_decode(&d, &n, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(d[1].nlogs, 2);
    assert_int_equal(d[1].logs[0].ntopics, 2);
    assert_int_equal(d[1].logs[0].data_len, sizeof data);
    assert_memory_equal(d[1].bloom, r[1].bloom, 256);
    assert_int_equal(qcn_receipts_encode(&b2, d, n), QCN_OK);
    assert_memory_equal(b.p, b2.p, b.len);
    for (i = 0; i < n; i++)
        qcn_receipt_clear(&d[i]);
    free(d);
    /* A receipt whose bloom does not match its logs is rejected. */
    qcn_buf_reset(&b);
    r[0].bloom[0] = 1;
    assert_int_equal(qcn_receipt_encode(&b, &r[0]), QCN_OK);
    assert_int_equal(qcn_receipt_decode(&r[0], qcn_buf_view(&b)), QCN_ERR_CODEC);
    qcn_buf_reset(&b);
    assert_int_equal(qcn_receipt_encode(&b, &r[1]), QCN_OK);
    b.p[0] = 0x02;
    assert_int_equal(qcn_receipt_decode(&r[0], qcn_buf_view(&b)), QCN_ERR_CODEC);
    qcn_receipt_clear(&r[0]);
    qcn_receipt_clear(&r[1]);
    qcn_buf_clear(&b);
    qcn_buf_clear(&b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_header_rejects),
        cmocka_unit_test(test_block_roundtrip),
        cmocka_unit_test(test_receipts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
