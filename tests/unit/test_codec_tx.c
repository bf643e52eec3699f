/* Transactions (type 0x51): exact round trips for every scheme, signing and
 * verification, and strict rejection of every malformed envelope a peer could
 * send (docs/protocol.md §2). Key records and multisig addresses too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec/keyrec.h"
#include "codec/rlp.h"
#include "codec/tx.h"
#include "crypto/keccak.h"
#include "unit/test_chain_helpers.h"
#include "util/hex.h"

static void roundtrip_scheme(uint8_t scheme)
{
    struct tkey k, to;
    struct qcn_tx_fields f, g;
    struct qcn_tx *tx, *tx2;
    struct qcn_buf b;
    uint8_t h[QCN_HASH_BYTES], data[5] = {0, 1, 2, 0, 3};
    int with_pk;

    tkey_make(&k, scheme, 1);
    tkey_make(&to, QCN_SCHEME_MLDSA44, 2);
    for (with_pk = 0; with_pk < 2; with_pk++) {
        tfields(&f, 7, k.addr, 42, to.addr, 1000000, scheme);
        f.data = qcn_view_make(data, sizeof data);
        f.value.w[3] = 0x0102030405060708ull; /* exercise all 32 value bytes */
        assert_int_equal(tsign(&tx, &f, &k, with_pk), QCN_OK);
        assert_int_equal(tx->chain_id, 7);
        assert_int_equal(tx->nonce, 42);
        assert_int_equal(tx->gas_limit, 200000);
        assert_int_equal(tx->scheme, scheme);
        assert_true(tx->has_to);
        assert_memory_equal(tx->to, to.addr, 20);
        assert_memory_equal(tx->from, k.addr, 20);
        assert_int_equal(qcn_u256_cmp(&tx->value, &f.value), 0);
        assert_int_equal(tx->data.len, sizeof data);
        assert_memory_equal(tx->data.p, data, sizeof data);
        assert_int_equal(tx->pubkey.len, with_pk ? k.pklen : 0);
        assert_int_equal(tx->nsigs, 1);
        /* The sighash recovered from raw items equals the re-encoded one. */
        assert_int_equal(qcn_tx_sighash(h, &f), QCN_OK);
        assert_memory_equal(h, tx->sighash, 32);
        assert_int_equal(qcn_tx_verify_sig(scheme, k.pk, k.pklen, tx->sighash, tx->sigs[0].sig.p,
                                           tx->sigs[0].sig.len),
                         QCN_OK);
        /* Re-encode from the decoded fields: byte-identical, same hash. */
        qcn_tx_fields_from(&g, tx);
        qcn_buf_init(&b, QCN_TX_MAX_BYTES);
        assert_int_equal(qcn_tx_encode(&b, &g, tx->pubkey, tx->sigs, tx->nsigs), QCN_OK);
        assert_int_equal(b.len, tx->raw_len);
        assert_memory_equal(b.p, tx->raw, b.len);
        assert_int_equal(qcn_tx_decode(&tx2, qcn_buf_view(&b)), QCN_OK);
        assert_memory_equal(tx2->hash, tx->hash, 32);
        qcn_keccak256(h, b.p, b.len);
        assert_memory_equal(h, tx->hash, 32);
        /* A signature over another chain id does not verify. */
        g.chain_id = 8;
        assert_int_equal(qcn_tx_sighash(h, &g), QCN_OK);
        assert_int_equal(
            qcn_tx_verify_sig(scheme, k.pk, k.pklen, h, tx->sigs[0].sig.p, tx->sigs[0].sig.len),
            QCN_ERR_TX_BAD_SIGNATURE);
        qcn_tx_unref(tx2);
        qcn_tx_unref(tx);
        qcn_buf_clear(&b);
    }
}

static void test_roundtrip_44(void **state)
{
    (void)state;
    roundtrip_scheme(QCN_SCHEME_MLDSA44);
}
static void test_roundtrip_65(void **state)
{
    (void)state;
    roundtrip_scheme(QCN_SCHEME_MLDSA65);
}
static void test_roundtrip_87(void **state)
{
    (void)state;
    roundtrip_scheme(QCN_SCHEME_MLDSA87);
}

static void test_creation_and_access_list(void **state)
{
    struct tkey k;
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    struct qcn_buf al;
    uint8_t addr[20], slot[32];
    size_t l, e, ks;
    (void)state;

    tkey_make(&k, QCN_SCHEME_MLDSA44, 3);
    memset(addr, 0xaa, sizeof addr);
    memset(slot, 0xbb, sizeof slot);
    qcn_buf_init(&al, 4096);
    l = qcn_rlp_list_begin(&al);
    e = qcn_rlp_list_begin(&al);
    assert_int_equal(qcn_rlp_put_bytes(&al, addr, 20), QCN_OK);
    ks = qcn_rlp_list_begin(&al);
    assert_int_equal(qcn_rlp_put_bytes(&al, slot, 32), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(&al, slot, 32), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&al, ks), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&al, e), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&al, l), QCN_OK);
    tfields(&f, 1, k.addr, 0, NULL, 0, k.scheme);
    f.access_list = qcn_buf_view(&al);
    assert_int_equal(tsign(&tx, &f, &k, 1), QCN_OK);
    assert_false(tx->has_to);
    assert_int_equal(tx->access_addresses, 1);
    assert_int_equal(tx->access_keys, 2);
    assert_int_equal(tx->access_list.len, al.len);
    assert_memory_equal(tx->access_list.p, al.p, al.len);
    qcn_tx_unref(tx);
    qcn_buf_clear(&al);
}

/* Hand-built envelopes with one thing wrong each. */
enum mut {
    M_NONE,
    M_TYPE,
    M_TRAILING,
    M_TRUNCATED,
    M_NONCE_ZERO_PREFIX,
    M_FEE_9_BYTES,
    M_VALUE_33_BYTES,
    M_TO_19,
    M_FROM_21,
    M_SCHEME_4,
    M_SCHEME_BIG,
    M_PK_SHORT,
    M_MULTISIG_PK,
    M_TWO_SIGS_SINGLE,
    M_SIG_INDEX_1,
    M_SIG_SHORT,
    M_NO_SIGS,
    M_MULTI_SIG_ORDER,
    M_MULTI_SIG_INDEX_16,
    M_EXTRA_FIELD,
    M_MISSING_FIELD,
    M_DATA_TOO_BIG,
    M_ACCESS_BAD_ADDR,
    M_ACCESS_TOO_MANY,
    M_ACCESS_NOT_LIST,
    M_OVERSIZED,
};

static void build(struct qcn_buf *b, enum mut m)
{
    static uint8_t big[QCN_TX_MAX_DATA + 1], sig[QCN_MLDSA_MAX_SIG_BYTES], pk[QCN_MLDSA65_PK_BYTES];
    uint8_t addr[21], slot[32], v[33];
    size_t l, al, e, ks, sl, p, i;
    uint8_t scheme = m == M_MULTISIG_PK || m == M_MULTI_SIG_ORDER || m == M_MULTI_SIG_INDEX_16
                         ? QCN_SCHEME_MULTISIG
                         : QCN_SCHEME_MLDSA65;

    memset(addr, 0x11, sizeof addr);
    memset(slot, 0x22, sizeof slot);
    memset(v, 0x33, sizeof v);
    memset(sig, 0x44, sizeof sig);
    memset(pk, 0x55, sizeof pk);
    qcn_buf_reset(b);
    assert_int_equal(qcn_buf_append_u8(b, m == M_TYPE ? 0x02 : QCN_TX_TYPE), QCN_OK);
    l = qcn_rlp_list_begin(b);
    assert_int_equal(qcn_rlp_put_u64(b, 1), QCN_OK);
    if (m == M_NONCE_ZERO_PREFIX) {
        uint8_t z[2] = {0, 5};
        assert_int_equal(qcn_rlp_put_bytes(b, z, 2), QCN_OK);
    } else {
        assert_int_equal(qcn_rlp_put_u64(b, 5), QCN_OK);
    }
    assert_int_equal(qcn_rlp_put_u64(b, 1), QCN_OK);
    if (m == M_FEE_9_BYTES)
        assert_int_equal(qcn_rlp_put_bytes(b, v, 9), QCN_OK);
    else
        assert_int_equal(qcn_rlp_put_u64(b, 100), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(b, 50000), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(b, addr, m == M_FROM_21 ? 21 : 20), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(b, addr, m == M_TO_19 ? 19 : 20), QCN_OK);
    assert_int_equal(qcn_rlp_put_bytes(b, v, m == M_VALUE_33_BYTES ? 33 : 32), QCN_OK);
    if (m == M_MISSING_FIELD)
        goto skip_data;
    assert_int_equal(qcn_rlp_put_bytes(b, big, m == M_DATA_TOO_BIG ? sizeof big : 3), QCN_OK);
skip_data:
    if (m == M_ACCESS_NOT_LIST) {
        assert_int_equal(qcn_rlp_put_bytes(b, addr, 20), QCN_OK);
    } else {
        al = qcn_rlp_list_begin(b);
        for (i = 0; i < (m == M_ACCESS_TOO_MANY ? QCN_TX_MAX_ACCESS_ADDRESSES + 1 : 1); i++) {
            e = qcn_rlp_list_begin(b);
            assert_int_equal(qcn_rlp_put_bytes(b, addr, m == M_ACCESS_BAD_ADDR ? 21 : 20), QCN_OK);
            ks = qcn_rlp_list_begin(b);
            assert_int_equal(qcn_rlp_put_bytes(b, slot, 32), QCN_OK);
            assert_int_equal(qcn_rlp_list_end(b, ks), QCN_OK);
            assert_int_equal(qcn_rlp_list_end(b, e), QCN_OK);
        }
        assert_int_equal(qcn_rlp_list_end(b, al), QCN_OK);
    }
    assert_int_equal(qcn_rlp_put_u64(b, m == M_SCHEME_4     ? 4
                                        : m == M_SCHEME_BIG ? 0x1002
                                                            : scheme),
                     QCN_OK);
    if (m == M_MULTISIG_PK)
        assert_int_equal(qcn_rlp_put_bytes(b, pk, sizeof pk), QCN_OK);
    else
        assert_int_equal(qcn_rlp_put_bytes(b, pk, m == M_PK_SHORT ? 100 : sizeof pk), QCN_OK);
    sl = qcn_rlp_list_begin(b);
    if (m != M_NO_SIGS) {
        size_t nsig = m == M_TWO_SIGS_SINGLE || m == M_MULTI_SIG_ORDER ? 2 : 1;
        for (i = 0; i < nsig; i++) {
            uint64_t idx = i;
            if (m == M_SIG_INDEX_1)
                idx = 1;
            if (m == M_MULTI_SIG_ORDER)
                idx = 1 - i;
            if (m == M_MULTI_SIG_INDEX_16)
                idx = 16;
            p = qcn_rlp_list_begin(b);
            assert_int_equal(qcn_rlp_put_u64(b, idx), QCN_OK);
            assert_int_equal(
                qcn_rlp_put_bytes(b, sig, m == M_SIG_SHORT ? 100 : QCN_MLDSA65_SIG_BYTES), QCN_OK);
            assert_int_equal(qcn_rlp_list_end(b, p), QCN_OK);
        }
    }
    assert_int_equal(qcn_rlp_list_end(b, sl), QCN_OK);
    if (m == M_EXTRA_FIELD)
        assert_int_equal(qcn_rlp_put_u64(b, 1), QCN_OK);
    for (i = 0; m == M_OVERSIZED && i < 3; i++)
        assert_int_equal(qcn_rlp_put_bytes(b, big, QCN_TX_MAX_DATA), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(b, l), QCN_OK);
    if (m == M_TRAILING)
        assert_int_equal(qcn_buf_append_u8(b, 0), QCN_OK);
    if (m == M_TRUNCATED)
        b->len -= 1;
}

static void test_strict_rejections(void **state)
{
    static const struct {
        enum mut m;
        int err;
    } cases[] = {
        {M_TYPE, QCN_ERR_TX_MALFORMED},
        {M_TRAILING, QCN_ERR_TX_MALFORMED},
        {M_TRUNCATED, QCN_ERR_TX_MALFORMED},
        {M_NONCE_ZERO_PREFIX, QCN_ERR_TX_MALFORMED},
        {M_FEE_9_BYTES, QCN_ERR_TX_MALFORMED},
        {M_VALUE_33_BYTES, QCN_ERR_TX_MALFORMED},
        {M_TO_19, QCN_ERR_TX_MALFORMED},
        {M_FROM_21, QCN_ERR_TX_MALFORMED},
        {M_SCHEME_4, QCN_ERR_TX_UNKNOWN_SCHEME},
        {M_SCHEME_BIG, QCN_ERR_TX_UNKNOWN_SCHEME},
        {M_PK_SHORT, QCN_ERR_TX_MALFORMED},
        {M_MULTISIG_PK, QCN_ERR_TX_MALFORMED},
        {M_TWO_SIGS_SINGLE, QCN_ERR_TX_MALFORMED},
        {M_SIG_INDEX_1, QCN_ERR_TX_MALFORMED},
        {M_SIG_SHORT, QCN_ERR_TX_MALFORMED},
        {M_NO_SIGS, QCN_ERR_TX_MALFORMED},
        {M_MULTI_SIG_ORDER, QCN_ERR_TX_MALFORMED},
        {M_MULTI_SIG_INDEX_16, QCN_ERR_TX_MALFORMED},
        {M_EXTRA_FIELD, QCN_ERR_TX_MALFORMED},
        {M_MISSING_FIELD, QCN_ERR_TX_MALFORMED},
        {M_DATA_TOO_BIG, QCN_ERR_TX_OVERSIZED},
        {M_ACCESS_BAD_ADDR, QCN_ERR_TX_MALFORMED},
        {M_ACCESS_TOO_MANY, QCN_ERR_TX_OVERSIZED},
        {M_ACCESS_NOT_LIST, QCN_ERR_TX_MALFORMED},
        {M_OVERSIZED, QCN_ERR_TX_OVERSIZED},
    };
    struct qcn_buf b;
    struct qcn_tx *tx;
    size_t i;
    (void)state;

    qcn_buf_init(&b, 4 * QCN_TX_MAX_BYTES);
    build(&b, M_NONE);
    assert_int_equal(qcn_tx_decode(&tx, qcn_buf_view(&b)), QCN_OK);
    qcn_tx_unref(tx);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build(&b, cases[i].m);
        tx = (struct qcn_tx *)&b; /* must be reset to NULL on failure */
        if (qcn_tx_decode(&tx, qcn_buf_view(&b)) != cases[i].err) {
            print_error("mutation %d: expected %d\n", (int)cases[i].m, cases[i].err);
            fail();
        }
        assert_null(tx);
    }
    /* Every strict prefix of a valid envelope is rejected. */
    build(&b, M_NONE);
    for (i = 0; i < b.len; i += 97) {
        assert_int_not_equal(qcn_tx_decode(&tx, qcn_view_make(b.p, i)), QCN_OK);
        assert_null(tx);
    }
    qcn_buf_clear(&b);
}

/* qcn_tx_decode_many agrees with qcn_tx_decode on each input: valid envelopes
 * of several lengths (so the four-way hashing has unequal tails) mixed with
 * rejected ones, in chunk sizes that leave 0-3 hashed one by one. */
static void test_decode_many_matches_decode(void **state)
{
    enum { N = 23 };
    static const enum mut bad[] = {M_TRUNCATED, M_SCHEME_4, M_DATA_TOO_BIG, M_TYPE};
    struct qcn_buf env[N];
    struct qcn_view in[N];
    struct qcn_tx *many[N], *one, *signed_tx;
    struct qcn_tx_fields f;
    struct tkey k, to;
    static uint8_t data[700];
    int errs[N], err;
    size_t i, n;
    (void)state;

    tkey_make(&k, QCN_SCHEME_MLDSA65, 1);
    tkey_make(&to, QCN_SCHEME_MLDSA44, 2);
    for (i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + 1);
    for (i = 0; i < N; i++) {
        qcn_buf_init(&env[i], 4 * QCN_TX_MAX_BYTES);
        if (i % 5 == 4) {
            build(&env[i], bad[(i / 5) % (sizeof bad / sizeof bad[0])]);
        } else {
            tfields(&f, 7, k.addr, i, to.addr, 1000, k.scheme);
            f.data = qcn_view_make(data, (i * 53) % sizeof data);
            assert_int_equal(tsign(&signed_tx, &f, &k, i % 3 == 0), QCN_OK);
            assert_int_equal(qcn_buf_append(&env[i], signed_tx->raw, signed_tx->raw_len), QCN_OK);
            qcn_tx_unref(signed_tx);
        }
        in[i] = qcn_buf_view(&env[i]);
    }
    for (n = 0; n <= N; n += n < 9 ? 1 : 7) {
        qcn_tx_decode_many(many, errs, in, n);
        for (i = 0; i < n; i++) {
            err = qcn_tx_decode(&one, in[i]);
            assert_int_equal(errs[i], err);
            if (err != QCN_OK) {
                assert_null(many[i]);
                continue;
            }
            assert_non_null(many[i]);
            assert_memory_equal(many[i]->hash, one->hash, QCN_HASH_BYTES);
            assert_memory_equal(many[i]->sighash, one->sighash, QCN_HASH_BYTES);
            assert_int_equal(many[i]->raw_len, one->raw_len);
            assert_memory_equal(many[i]->raw, one->raw, one->raw_len);
            assert_int_equal(many[i]->nonce, one->nonce);
            assert_int_equal(many[i]->data.len, one->data.len);
            qcn_tx_unref(one);
            qcn_tx_unref(many[i]);
        }
    }
    for (i = 0; i < N; i++)
        qcn_buf_clear(&env[i]);
}

static void test_keyrec(void **state)
{
    struct tkey a, b, c;
    const struct tkey *keys[3] = {&a, &b, &c};
    const struct tkey *dup[2] = {&a, &a};
    struct qcn_keyrec rec, rec2;
    struct qcn_buf buf, buf2;
    uint8_t h1[32], h2[32], m1[20], m2[20];
    (void)state;

    tkey_make(&a, QCN_SCHEME_MLDSA44, 10);
    tkey_make(&b, QCN_SCHEME_MLDSA65, 11);
    tkey_make(&c, QCN_SCHEME_MLDSA87, 12);
    qcn_buf_init(&buf, QCN_KEYREC_MAX_BYTES);
    qcn_buf_init(&buf2, QCN_KEYREC_MAX_BYTES);
    /* Single key round trip. */
    assert_int_equal(qcn_keyrec_single(&rec, a.scheme, qcn_view_make(a.pk, a.pklen)), QCN_OK);
    assert_int_equal(qcn_keyrec_encode(&buf, &rec), QCN_OK);
    assert_int_equal(qcn_keyrec_decode(&rec2, qcn_buf_view(&buf)), QCN_OK);
    assert_int_equal(rec2.kind, a.scheme);
    assert_int_equal(rec2.nkeys, 1);
    assert_int_equal(qcn_keyrec_encode(&buf2, &rec2), QCN_OK);
    assert_int_equal(buf.len, buf2.len);
    assert_memory_equal(buf.p, buf2.p, buf.len);
    /* Mixed-scheme 2-of-3 round trip. */
    qcn_buf_reset(&buf);
    qcn_buf_reset(&buf2);
    assert_int_equal(tmultisig_record(&buf, keys, 3, 2), QCN_OK);
    assert_int_equal(qcn_keyrec_decode(&rec2, qcn_buf_view(&buf)), QCN_OK);
    assert_int_equal(rec2.kind, QCN_SCHEME_MULTISIG);
    assert_int_equal(rec2.threshold, 2);
    assert_int_equal(rec2.nkeys, 3);
    assert_int_equal(rec2.keys[2].scheme, QCN_SCHEME_MLDSA87);
    assert_int_equal(qcn_keyrec_encode(&buf2, &rec2), QCN_OK);
    assert_memory_equal(buf.p, buf2.p, buf.len);
    qcn_keyrec_hash(h1, buf.p, buf.len);
    /* Threshold out of range, duplicate keys, wrong key size. */
    qcn_buf_reset(&buf2);
    assert_int_equal(tmultisig_record(&buf2, keys, 3, 4), QCN_ERR_TX_MULTISIG);
    qcn_buf_reset(&buf2);
    assert_int_equal(tmultisig_record(&buf2, keys, 3, 0), QCN_ERR_TX_MULTISIG);
    qcn_buf_reset(&buf2);
    assert_int_equal(tmultisig_record(&buf2, dup, 2, 1), QCN_ERR_TX_MULTISIG);
    assert_int_equal(qcn_keyrec_single(&rec, a.scheme, qcn_view_make(a.pk, a.pklen - 1)),
                     QCN_ERR_BAD_KEY);
    assert_int_equal(qcn_keyrec_single(&rec, 9, qcn_view_make(a.pk, a.pklen)),
                     QCN_ERR_TX_UNKNOWN_SCHEME);
    assert_int_not_equal(qcn_keyrec_decode(&rec, qcn_view_make(buf.p, buf.len - 1)), QCN_OK);
    /* Multisig addresses: deterministic, and differ by creator nonce and set. */
    qcn_address_multisig(m1, a.addr, 5, h1);
    qcn_address_multisig(m2, a.addr, 5, h1);
    assert_memory_equal(m1, m2, 20);
    qcn_address_multisig(m2, a.addr, 6, h1);
    assert_memory_not_equal(m1, m2, 20);
    memset(h2, 0, sizeof h2);
    qcn_address_multisig(m2, a.addr, 5, h2);
    assert_memory_not_equal(m1, m2, 20);
    qcn_buf_clear(&buf);
    qcn_buf_clear(&buf2);
}

static void test_multisig_envelope(void **state)
{
    struct tkey a, b, c;
    const struct tkey *keys[3] = {&a, &b, &c};
    uint32_t idx[2] = {0, 2};
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    uint8_t ms[20];
    (void)state;

    tkey_make(&a, QCN_SCHEME_MLDSA44, 20);
    tkey_make(&b, QCN_SCHEME_MLDSA65, 21);
    tkey_make(&c, QCN_SCHEME_MLDSA44, 22);
    memset(ms, 0x77, sizeof ms);
    tfields(&f, 1, ms, 0, a.addr, 5, QCN_SCHEME_MULTISIG);
    assert_int_equal(tsign_multi(&tx, &f, keys, idx, 2), QCN_OK);
    assert_int_equal(tx->nsigs, 2);
    assert_int_equal(tx->sigs[1].key_index, 2);
    assert_int_equal(tx->sigs[0].sig.len, QCN_MLDSA44_SIG_BYTES);
    assert_int_equal(qcn_tx_verify_sig(c.scheme, c.pk, c.pklen, tx->sighash, tx->sigs[1].sig.p,
                                       tx->sigs[1].sig.len),
                     QCN_OK);
    qcn_tx_unref(tx);
}

/* The worked example of docs/protocol.md §9: fixed fields, so the unsigned
 * payload and the sighash are fixed; printing them with QCN_PRINT_EXAMPLE=1
 * regenerates the document's hex. */
static void test_worked_example(void **state)
{
    struct qcn_tx_fields f;
    struct qcn_buf b;
    struct tkey k, to;
    struct qcn_tx *tx;
    uint8_t h[32];
    char hex[2 * 512 + 1];
    (void)state;

    tkey_make(&k, QCN_SCHEME_MLDSA44, 0x01);
    tkey_make(&to, QCN_SCHEME_MLDSA44, 0x02);
    tfields(&f, 1337, k.addr, 0, to.addr, 1000000000000000000ull, QCN_SCHEME_MLDSA44);
    f.max_priority_fee = 1000000000;
    f.max_fee = 2000000000;
    f.gas_limit = 100000;
    qcn_buf_init(&b, 4096);
    assert_int_equal(qcn_buf_append_u8(&b, QCN_TX_TYPE), QCN_OK);
    assert_int_equal(qcn_tx_encode_unsigned(&b, &f), QCN_OK);
    qcn_keccak256(h, b.p, b.len);
    /* docs/protocol.md §9 quotes these bytes; they must stay in step. */
    assert_string_equal(qcn_hex_encode(hex, b.p, b.len),
                        "51f84882053980843b9aca008477359400830186a09498a38a89a1dd5b13dba1f44294c01f"
                        "4ef3225c16940be5f657654678190057ee8300194d15d37353d3880de0b6b3a764000080c0"
                        "01");
    assert_string_equal(qcn_hex_encode(hex, h, 32),
                        "9020866ddbe79bf0470ee2e217998543a871d31b6b59d2887276b95c828abf4c");
    assert_int_equal(tsign(&tx, &f, &k, 1), QCN_OK);
    assert_memory_equal(h, tx->sighash, 32);
    if (getenv("QCN_PRINT_EXAMPLE") != NULL) {
        printf("seed(ML-DSA-44 keygen xi): 01 followed by 31 bytes 01\n");
        printf("from: %s\n", qcn_hex_encode(hex, k.addr, 20));
        printf("to: %s\n", qcn_hex_encode(hex, to.addr, 20));
        printf("signing input (type || unsigned): %s\n", qcn_hex_encode(hex, b.p, b.len));
        printf("sighash: %s\n", qcn_hex_encode(hex, h, 32));
        printf("envelope bytes: %zu\n", tx->raw_len);
        printf("envelope head: %s\n", qcn_hex_encode(hex, tx->raw, 160));
        printf("tx hash: %s\n", qcn_hex_encode(hex, tx->hash, 32));
    }
    qcn_tx_unref(tx);
    qcn_buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_44),
        cmocka_unit_test(test_roundtrip_65),
        cmocka_unit_test(test_roundtrip_87),
        cmocka_unit_test(test_creation_and_access_list),
        cmocka_unit_test(test_strict_rejections),
        cmocka_unit_test(test_keyrec),
        cmocka_unit_test(test_multisig_envelope),
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_decode_many_matches_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
