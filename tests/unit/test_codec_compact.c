/* Unit tests for codec/compact: compact proposals and the block-transaction
 * request and answer round-trip exactly; truncation, trailing bytes,
 * unordered or duplicate indexes, empty lists and sizes over their caps are
 * refused with zeroed outputs; the answer writer splits at its cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/compact.h"
#include "codec/rlp.h"

static void strict(const struct qcn_buf *b, int (*dec)(const uint8_t *, size_t))
{
    struct qcn_buf c;
    for (size_t cut = 0; cut < b->len; cut++)
        assert_int_not_equal(dec(b->p, cut), QCN_OK);
    qcn_buf_init(&c, b->len + 1);
    assert_int_equal(qcn_buf_append(&c, b->p, b->len), QCN_OK);
    assert_int_equal(qcn_buf_append_u8(&c, 0), QCN_OK);
    assert_int_not_equal(dec(c.p, c.len), QCN_OK);
    qcn_buf_clear(&c);
}

static int dec_compact(const uint8_t *p, size_t n)
{
    struct qcn_compact_proposal cp;
    int err = qcn_compact_proposal_decode(&cp, qcn_view_make(p, n));
    if (err != QCN_OK)
        assert_true(cp.header.p == NULL && cp.n == 0 && cp.proposal.height == 0);
    return err;
}

static int dec_req(const uint8_t *p, size_t n)
{
    struct qcn_blocktx_req r;
    int err = qcn_blocktx_req_decode(&r, qcn_view_make(p, n));
    if (err != QCN_OK)
        assert_true(r.k == 0 && r.idx == NULL);
    return err;
}

static int dec_txs(const uint8_t *p, size_t n)
{
    struct qcn_blocktx m;
    int err = qcn_blocktx_decode(&m, qcn_view_make(p, n));
    if (err != QCN_OK)
        assert_true(m.count == 0 && m.list.p == NULL);
    return err;
}

static void test_compact_roundtrip(void **state)
{
    struct qcn_proposal pr;
    struct qcn_compact_proposal cp;
    struct qcn_header h;
    struct qcn_buf hb, b, b2;
    uint8_t hashes[5][32];
    (void)state;
    memset(&h, 0, sizeof h);
    h.height = 9;
    h.gas_limit = 30000000;
    qcn_buf_init(&hb, QCN_HEADER_MAX_BYTES);
    assert_int_equal(qcn_header_encode(&hb, &h), QCN_OK);
    memset(&pr, 0, sizeof pr);
    pr.chain_id = 5;
    pr.height = 9;
    pr.round = 2;
    pr.pol_round = 1;
    memset(pr.block_hash, 0xab, 32);
    memset(pr.proposer, 0xcd, 20);
    memset(pr.sig, 0x17, sizeof pr.sig);
    for (int i = 0; i < 5; i++)
        memset(hashes[i], 0x30 + i, 32);
    for (size_t n = 0; n <= 5; n += 5) {
        qcn_buf_init(&b, QCN_COMPACT_MAX_BYTES);
        qcn_buf_init(&b2, QCN_COMPACT_MAX_BYTES);
        assert_int_equal(qcn_compact_proposal_encode(&b, &pr, hb.p, hb.len, &hashes[0][0], n),
                         QCN_OK);
        assert_int_equal(qcn_compact_proposal_decode(&cp, qcn_buf_view(&b)), QCN_OK);
        assert_int_equal(cp.n, n);
        assert_int_equal(cp.proposal.round, 2);
        assert_int_equal(cp.proposal.pol_round, 1);
        assert_int_equal(cp.header.len, hb.len);
        assert_memory_equal(cp.header.p, hb.p, hb.len);
        if (n > 0)
            assert_memory_equal(cp.hashes, hashes, n * 32);
        assert_int_equal(qcn_compact_proposal_encode(&b2, &cp.proposal, cp.header.p, cp.header.len,
                                                     cp.hashes, cp.n),
                         QCN_OK);
        assert_int_equal(b.len, b2.len);
        assert_memory_equal(b.p, b2.p, b.len);
        strict(&b, dec_compact);
        qcn_buf_clear(&b);
        qcn_buf_clear(&b2);
    }
    /* the header must be one RLP list; too many hashes are refused */
    qcn_buf_init(&b, QCN_COMPACT_MAX_BYTES);
    assert_int_equal(qcn_compact_proposal_encode(&b, &pr, hb.p, hb.len - 1, &hashes[0][0], 1),
                     QCN_ERR_CODEC);
    assert_int_equal(
        qcn_compact_proposal_encode(&b, &pr, hb.p, hb.len, &hashes[0][0], QCN_COMPACT_MAX_TXS + 1),
        QCN_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    /* a hash list that is not a multiple of 32 bytes */
    {
        size_t l = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_proposal_encode(&b, &pr), QCN_OK);
        assert_int_equal(qcn_rlp_put_raw(&b, hb.p, hb.len), QCN_OK);
        assert_int_equal(qcn_rlp_put_bytes(&b, &hashes[0][0], 33), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
        assert_int_equal(dec_compact(b.p, b.len), QCN_ERR_CODEC);
    }
    qcn_buf_clear(&b);
    qcn_buf_clear(&hb);
}

static void test_request(void **state)
{
    uint8_t bh[32];
    uint32_t idx[4] = {0, 3, 4, 70000};
    struct qcn_blocktx_req r;
    struct qcn_buf b;
    (void)state;
    memset(bh, 0x5a, 32);
    qcn_buf_init(&b, QCN_BLOCKTX_REQ_MAX_BYTES);
    assert_int_equal(qcn_blocktx_req_encode(&b, bh, idx, 4), QCN_OK);
    assert_int_equal(qcn_blocktx_req_decode(&r, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(r.k, 4);
    assert_memory_equal(r.block_hash, bh, 32);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(qcn_blocktx_req_index(&r, i), idx[i]);
    strict(&b, dec_req);
    qcn_buf_reset(&b);
    /* empty, unordered, duplicate, too many */
    assert_int_equal(qcn_blocktx_req_encode(&b, bh, idx, 0), QCN_ERR_CODEC);
    idx[1] = 5;
    assert_int_equal(qcn_blocktx_req_encode(&b, bh, idx, 4), QCN_ERR_CODEC);
    idx[1] = 4;
    assert_int_equal(qcn_blocktx_req_encode(&b, bh, idx, 4), QCN_ERR_CODEC);
    assert_int_equal(qcn_blocktx_req_encode(&b, bh, idx, QCN_BLOCKTX_REQ_MAX_IDX + 1),
                     QCN_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    /* the decoder refuses the same by itself */
    {
        uint8_t raw[8];
        size_t l = qcn_rlp_list_begin(&b);
        qcn_store_be32(raw, 9);
        qcn_store_be32(raw + 4, 9);
        assert_int_equal(qcn_rlp_put_bytes(&b, bh, 32), QCN_OK);
        assert_int_equal(qcn_rlp_put_bytes(&b, raw, 8), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
        assert_int_equal(dec_req(b.p, b.len), QCN_ERR_CODEC);
        qcn_buf_reset(&b);
        l = qcn_rlp_list_begin(&b);
        assert_int_equal(qcn_rlp_put_bytes(&b, bh, 32), QCN_OK);
        assert_int_equal(qcn_rlp_put_bytes(&b, raw, 0), QCN_OK);
        assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
        assert_int_equal(dec_req(b.p, b.len), QCN_ERR_CODEC);
    }
    qcn_buf_clear(&b);
}

static void test_answer(void **state)
{
    static uint8_t tx[QCN_TX_MAX_BYTES];
    struct qcn_blocktx_writer w;
    struct qcn_blocktx m;
    struct qcn_buf b;
    struct qcn_view v;
    uint8_t bh[32];
    uint32_t index;
    size_t pos = 0, added = 0;
    int err;
    (void)state;
    memset(bh, 0x6b, 32);
    memset(tx, 0x99, sizeof tx);
    qcn_buf_init(&b, QCN_BLOCKTX_MAX_BYTES);
    /* nothing added: nothing to send */
    assert_int_equal(qcn_blocktx_begin(&w, &b, bh), QCN_OK);
    assert_int_equal(qcn_blocktx_end(&w), QCN_ERR_NOT_FOUND);
    assert_int_equal(b.len, 0);
    assert_int_equal(qcn_blocktx_begin(&w, &b, bh), QCN_OK);
    assert_int_equal(qcn_blocktx_add(&w, 2, tx, 1), QCN_OK);
    assert_int_equal(qcn_blocktx_add(&w, 2, tx, 10), QCN_ERR_CODEC); /* not ascending */
    assert_int_equal(qcn_blocktx_add(&w, 3, tx, 0), QCN_ERR_CODEC);  /* empty */
    assert_int_equal(qcn_blocktx_add(&w, 3, tx, QCN_TX_MAX_BYTES + 1), QCN_ERR_CODEC);
    assert_int_equal(qcn_blocktx_add(&w, 70000, tx, 3000), QCN_OK);
    assert_int_equal(qcn_blocktx_end(&w), QCN_OK);
    assert_int_equal(qcn_blocktx_decode(&m, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(m.count, 2);
    assert_memory_equal(m.block_hash, bh, 32);
    assert_int_equal(qcn_blocktx_next(&m, &pos, &index, &v), QCN_OK);
    assert_int_equal(index, 2);
    assert_int_equal(v.len, 1);
    assert_int_equal(qcn_blocktx_next(&m, &pos, &index, &v), QCN_OK);
    assert_int_equal(index, 70000);
    assert_int_equal(v.len, 3000);
    assert_int_equal(qcn_blocktx_next(&m, &pos, &index, &v), QCN_ERR_NOT_FOUND);
    strict(&b, dec_txs);
    /* the writer stops at its cap: the refused entry is not in the message */
    qcn_buf_reset(&b);
    assert_int_equal(qcn_blocktx_begin(&w, &b, bh), QCN_OK);
    while ((err = qcn_blocktx_add(&w, (uint32_t)added, tx, sizeof tx)) == QCN_OK)
        added++;
    assert_int_equal(err, QCN_ERR_TOO_LARGE);
    assert_true(added >= QCN_BLOCKTX_MAX_BYTES / sizeof tx - 1);
    assert_int_equal(qcn_blocktx_end(&w), QCN_OK);
    assert_true(b.len <= QCN_BLOCKTX_MAX_BYTES);
    assert_int_equal(qcn_blocktx_decode(&m, qcn_buf_view(&b)), QCN_OK);
    assert_int_equal(m.count, added);
    qcn_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compact_roundtrip),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
