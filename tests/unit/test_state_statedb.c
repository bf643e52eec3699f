/* State database: accounts, key records and storage over the trie; commit
 * roots equal a from-scratch recomputation (qcn_mpt_root over every account);
 * journal revert, rollback of an unwritten commit, reopening from the flat
 * tables, EIP-161 deletion; the account record's exact Ethereum encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/keyrec.h"
#include "crypto/keccak.h"
#include "state/account.h"
#include "state/mpt.h"
#include "state/statedb.h"
#include "state/statedb_mem.h"
#include "util/hex.h"

#define NADDR 300

static void addr_of(uint8_t a[20], unsigned i)
{
    memset(a, 0, 20);
    a[0] = 0xa0;
    a[18] = (uint8_t)(i >> 8);
    a[19] = (uint8_t)i;
}

static void check_root(struct qcn_statedb *db, const uint8_t root[32], unsigned n)
{
    uint8_t(*addrs)[20] = calloc(n + 1, 20), scratch[32];
    unsigned i;
    assert_non_null(addrs);
    for (i = 0; i < n; i++)
        addr_of(addrs[i], i);
    assert_int_equal(qcn_statedb_root_from_scratch(db, scratch, (const uint8_t(*)[20])addrs, n),
                     QCN_OK);
    assert_memory_equal(scratch, root, 32);
    free(addrs);
}

/* Write sets: large values (a block's body) get a chunk of their own,
 * mapped with its pages populated (statedb_batch.c); small and large writes
 * interleave, keep their bytes and order, and clear frees both kinds. */
static void test_writeset_chunks(void **state)
{
    struct qcn_writeset ws;
    uint8_t *big, key[8], val[100];
    size_t i, sizes[3] = {(size_t)5 << 20, 300u * 1024u, (size_t)9 << 20};
    (void)state;

    qcn_writeset_init(&ws);
    for (i = 0; i < 3; i++) {
        size_t j;
        memset(key, (int)i, sizeof key);
        assert_int_equal(
            qcn_writeset_put_alloc(&ws, QCN_TABLE_BODY, key, sizeof key, sizes[i], &big), QCN_OK);
        for (j = 0; j < sizes[i]; j += 4096)
            big[j] = (uint8_t)(i + j / 4096);
        big[sizes[i] - 1] = 0xee;
        memset(val, (int)(0x40 + i), sizeof val);
        assert_int_equal(qcn_writeset_put(&ws, QCN_TABLE_ACCOUNT, key, sizeof key, val, sizeof val),
                         QCN_OK);
    }
    assert_int_equal(ws.n, 6);
    for (i = 0; i < 3; i++) {
        const struct qcn_write *b = &ws.w[2 * i], *a = &ws.w[2 * i + 1];
        size_t j;
        assert_int_equal(b->vlen, sizes[i]);
        for (j = 0; j < sizes[i]; j += 4096)
            assert_int_equal(b->val[j], (uint8_t)(i + j / 4096));
        assert_int_equal(b->val[sizes[i] - 1], 0xee);
        assert_int_equal(a->vlen, sizeof val);
        assert_int_equal(a->val[0], 0x40 + i);
        assert_int_equal(a->key[0], i);
    }
    qcn_writeset_clear(&ws);
    assert_int_equal(ws.n, 0);
}

/* A pool hands a cleared set's large chunk to the next set that needs one
 * of that size or less (no new mapping), keeps at most
 * QCN_WRITESET_POOL_CHUNKS chunks (preferring the larger ones), and the
 * reused memory holds the new values. */
static void test_writeset_pool(void **state)
{
    struct qcn_writeset_pool *pool;
    struct qcn_writeset ws[QCN_WRITESET_POOL_CHUNKS + 1];
    uint8_t *big[QCN_WRITESET_POOL_CHUNKS + 1], *again, key[8] = {1};
    size_t i, j, size;
    (void)state;

    assert_int_equal(qcn_writeset_pool_new(&pool), QCN_OK);
    for (i = 0; i <= QCN_WRITESET_POOL_CHUNKS; i++) {
        qcn_writeset_init(&ws[i]);
        qcn_writeset_set_pool(&ws[i], pool);
        size = (i + 2) * ((size_t)1 << 20); /* 2, 3, ... MiB */
        assert_int_equal(
            qcn_writeset_put_alloc(&ws[i], QCN_TABLE_BODY, key, sizeof key, size, &big[i]), QCN_OK);
        memset(big[i], (int)i, size);
    }
    for (i = 0; i <= QCN_WRITESET_POOL_CHUNKS; i++)
        qcn_writeset_clear(&ws[i]);
    /* Chunks are whole MiB: value i (i + 2 MiB, plus its key) had an
     * (i + 3) MiB chunk. The smallest did not stay: a 2 MiB value now gets
     * value 1's chunk, a 4 MiB one value 2's, the best fit. */
    qcn_writeset_init(&ws[0]);
    qcn_writeset_set_pool(&ws[0], pool);
    assert_int_equal(
        qcn_writeset_put_alloc(&ws[0], QCN_TABLE_BODY, key, sizeof key, (size_t)2 << 20, &again),
        QCN_OK);
    assert_ptr_equal(again, big[1]);
    assert_int_equal(
        qcn_writeset_put_alloc(&ws[0], QCN_TABLE_BODY, key, sizeof key, (size_t)4 << 20, &again),
        QCN_OK);
    assert_ptr_equal(again, big[2]);
    memset(again, 0x77, (size_t)4 << 20);
    for (j = 0; j < ((size_t)4 << 20); j += 4093)
        assert_int_equal(ws[0].w[1].val[j], 0x77);
    assert_int_equal(ws[0].w[0].vlen, (size_t)2 << 20);
    /* Small writes still work beside the pooled chunks. */
    assert_int_equal(qcn_writeset_put(&ws[0], QCN_TABLE_ACCOUNT, key, sizeof key, key, 8), QCN_OK);
    assert_int_equal(ws[0].n, 3);
    qcn_writeset_clear(&ws[0]);
    qcn_writeset_pool_free(pool);
}

static void test_account_encoding(void **state)
{
    struct qcn_account a, d;
    struct qcn_buf b;
    char hex[300];
    (void)state;
    qcn_account_init(&a);
    qcn_buf_init(&b, 256);
    assert_int_equal(qcn_account_encode(&b, &a), QCN_OK);
    /* Ethereum's empty account: [0, 0, emptyRoot, emptyCodeHash]. */
    assert_string_equal(qcn_hex_encode(hex, b.p, b.len),
                        "f8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b4"
                        "21a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    assert_memory_equal(qcn_empty_trie_root, QCN_MPT_EMPTY_ROOT, 32);
    {
        uint8_t h[32];
        qcn_keccak256(h, NULL, 0);
        assert_memory_equal(h, qcn_empty_code_hash, 32);
    }
    a.nonce = 7;
    a.balance.w[3] = 1;
    qcn_buf_reset(&b);
    assert_int_equal(qcn_account_encode(&b, &a), QCN_OK);
    assert_int_equal(qcn_account_decode(&d, qcn_buf_view(&b)), QCN_OK);
    assert_memory_equal(&a, &d, sizeof a);
    assert_int_not_equal(qcn_account_decode(&d, qcn_view_make(b.p, b.len - 1)), QCN_OK);
    qcn_buf_clear(&b);
}

static void test_commit_roots(void **state)
{
    struct qcn_memstore *ms;
    struct qcn_statedb *db, *db2;
    struct qcn_writeset ws;
    struct qcn_account a;
    uint8_t addr[20], root[32], root2[32], slot[32], val[32], got[32], kh[32];
    uint8_t rec[] = {0xc3, 0x01, 0x81, 0x80}; /* opaque to the state layer */
    struct qcn_buf rb;
    unsigned i;
    int exists;
    (void)state;

    assert_int_equal(qcn_memstore_new(&ms), QCN_OK);
    assert_int_equal(qcn_statedb_new(&db, qcn_memstore_reader(ms), qcn_empty_trie_root), QCN_OK);
    for (i = 0; i < NADDR; i++) {
        addr_of(addr, i);
        qcn_account_init(&a);
        a.nonce = i % 3;
        a.balance = qcn_u256_from_u64(1000 + i);
        assert_int_equal(qcn_statedb_account_put(db, addr, &a), QCN_OK);
        if (i % 10 == 0)
            assert_int_equal(qcn_statedb_key_set(db, addr, rec, sizeof rec), QCN_OK);
    }
    /* Storage on account 5. */
    addr_of(addr, 5);
    memset(slot, 0, 32);
    slot[31] = 1;
    memset(val, 0, 32);
    val[31] = 0x42;
    assert_int_equal(qcn_statedb_storage_set(db, addr, slot, val), QCN_OK);
    qcn_writeset_init(&ws);
    assert_int_equal(qcn_statedb_commit(db, root, &ws), QCN_OK);
    assert_memory_not_equal(root, qcn_empty_trie_root, 32);
    check_root(db, root, NADDR);
    assert_true(ws.n > NADDR);
    assert_int_equal(qcn_memstore_apply(ms, &ws), QCN_OK);
    qcn_statedb_finalize(db);
    qcn_writeset_clear(&ws);
    assert_int_equal(qcn_memstore_count(ms, QCN_TABLE_ACCOUNT), NADDR);
    assert_int_equal(qcn_memstore_count(ms, QCN_TABLE_ACCKEY), NADDR / 10);
    assert_int_equal(qcn_memstore_count(ms, QCN_TABLE_KEYREC), 1);

    /* A fresh database over the store reads the same state from the flat tables. */
    assert_int_equal(qcn_statedb_new(&db2, qcn_memstore_reader(ms), root), QCN_OK);
    addr_of(addr, 7);
    assert_int_equal(qcn_statedb_account_get(db2, &a, &exists, addr), QCN_OK);
    assert_true(exists);
    assert_int_equal(a.balance.w[0], 1007);
    addr_of(addr, 5);
    assert_int_equal(qcn_statedb_storage_get(db2, got, addr, slot), QCN_OK);
    assert_memory_equal(got, val, 32);
    assert_int_equal(qcn_statedb_account_get(db2, &a, &exists, addr), QCN_OK);
    assert_memory_not_equal(a.storage_root, qcn_empty_trie_root, 32);
    qcn_buf_init(&rb, 4096);
    addr_of(addr, 20);
    assert_int_equal(qcn_statedb_key_get(db2, kh, &rb, addr), QCN_OK);
    assert_int_equal(rb.len, sizeof rec);
    addr_of(addr, 21);
    assert_int_equal(qcn_statedb_key_get(db2, kh, &rb, addr), QCN_ERR_NOT_FOUND);

    /* Second block on db2: change some, empty one (EIP-161 delete), clear storage. */
    addr_of(addr, 1);
    qcn_account_init(&a);
    assert_int_equal(qcn_statedb_account_put(db2, addr, &a), QCN_OK); /* empty: leaves the trie */
    addr_of(addr, 2);
    a.balance = qcn_u256_from_u64(5);
    a.nonce = 9;
    assert_int_equal(qcn_statedb_account_put(db2, addr, &a), QCN_OK);
    addr_of(addr, 5);
    memset(val, 0, 32);
    assert_int_equal(qcn_statedb_storage_set(db2, addr, slot, val), QCN_OK);
    qcn_writeset_init(&ws);
    assert_int_equal(qcn_statedb_commit(db2, root2, &ws), QCN_OK);
    check_root(db2, root2, NADDR);
    assert_int_equal(qcn_memstore_apply(ms, &ws), QCN_OK);
    qcn_statedb_finalize(db2);
    qcn_writeset_clear(&ws);
    assert_int_equal(qcn_memstore_count(ms, QCN_TABLE_ACCOUNT), NADDR - 1);
    addr_of(addr, 5);
    assert_int_equal(qcn_statedb_account_get(db2, &a, &exists, addr), QCN_OK);
    assert_memory_equal(a.storage_root, qcn_empty_trie_root, 32);

    /* Proofs at the finalized root verify against it (present and absent). */
    {
        struct qcn_mpt_proof ap, sp[2];
        uint8_t slots[2][32], path[32], rt[32];
        struct qcn_view v;
        int found;
        qcn_mpt_proof_init(&ap);
        qcn_mpt_proof_init(&sp[0]);
        qcn_mpt_proof_init(&sp[1]);
        memset(slots, 0, sizeof slots);
        slots[0][31] = 1;
        slots[1][31] = 2;
        addr_of(addr, 5);
        assert_int_equal(qcn_statedb_prove(db2, &ap, addr, (const uint8_t(*)[32])slots, 2, sp),
                         QCN_OK);
        qcn_statedb_root(db2, rt);
        qcn_account_path(path, addr);
        assert_int_equal(qcn_mpt_verify_proof(&found, &v, rt, path, 32, ap.node, ap.count), QCN_OK);
        assert_true(found);
        assert_int_equal(qcn_account_decode(&a, v), QCN_OK);
        /* Account 5's storage was cleared this block: absence proofs. */
        qcn_keccak256(path, slots[0], 32);
        assert_int_equal(
            qcn_mpt_verify_proof(&found, &v, a.storage_root, path, 32, sp[0].node, sp[0].count),
            QCN_OK);
        assert_false(found);
        addr_of(addr, 1); /* deleted as empty */
        assert_int_equal(qcn_statedb_prove(db2, &ap, addr, NULL, 0, NULL), QCN_OK);
        qcn_account_path(path, addr);
        assert_int_equal(qcn_mpt_verify_proof(&found, &v, rt, path, 32, ap.node, ap.count), QCN_OK);
        assert_false(found);
        /* Account 20's key commitment: RLP(key hash). */
        {
            uint8_t kh2[32];
            addr_of(addr, 20);
            assert_int_equal(qcn_statedb_key_get(db2, kh2, NULL, addr), QCN_OK);
            assert_int_equal(qcn_statedb_prove_key(db2, &ap, addr), QCN_OK);
            qcn_account_key_path(path, addr);
            assert_int_equal(qcn_mpt_verify_proof(&found, &v, rt, path, 32, ap.node, ap.count),
                             QCN_OK);
            assert_true(found);
            assert_int_equal(v.len, 33);
            assert_int_equal(v.p[0], 0xa0);
            assert_memory_equal(v.p + 1, kh2, 32);
        }
        /* Not while a change is pending. */
        addr_of(addr, 3);
        qcn_account_init(&a);
        a.nonce = 77;
        assert_int_equal(qcn_statedb_account_put(db2, addr, &a), QCN_OK);
        assert_int_equal(qcn_statedb_prove(db2, &ap, addr, NULL, 0, NULL), QCN_ERR_STATE);
        qcn_statedb_rollback(db2);
        assert_int_equal(qcn_statedb_prove(db2, &ap, addr, NULL, 0, NULL), QCN_OK);
        qcn_mpt_proof_clear(&ap);
        qcn_mpt_proof_clear(&sp[0]);
        qcn_mpt_proof_clear(&sp[1]);
    }

    /* The first database, still at the old root, never saw these writes. */
    qcn_statedb_root(db, root2);
    assert_memory_equal(root2, root, 32);
    qcn_buf_clear(&rb);
    qcn_statedb_free(db);
    qcn_statedb_free(db2);
    qcn_memstore_free(ms);
}

static void test_revert_and_rollback(void **state)
{
    struct qcn_memstore *ms;
    struct qcn_statedb *db;
    struct qcn_writeset ws;
    struct qcn_account a;
    uint8_t addr[20], root0[32], root[32], kh[32];
    uint8_t rec1[] = {0xc2, 0x01, 0x01}, rec2[] = {0xc2, 0x02, 0x02};
    size_t mark;
    int exists;
    (void)state;

    assert_int_equal(qcn_memstore_new(&ms), QCN_OK);
    assert_int_equal(qcn_statedb_new(&db, qcn_memstore_reader(ms), qcn_empty_trie_root), QCN_OK);
    addr_of(addr, 1);
    qcn_account_init(&a);
    a.balance = qcn_u256_from_u64(100);
    assert_int_equal(qcn_statedb_account_put(db, addr, &a), QCN_OK);
    assert_int_equal(qcn_statedb_key_set(db, addr, rec1, sizeof rec1), QCN_OK);
    qcn_writeset_init(&ws);
    assert_int_equal(qcn_statedb_commit(db, root0, &ws), QCN_OK);
    assert_int_equal(qcn_memstore_apply(ms, &ws), QCN_OK);
    qcn_statedb_finalize(db);
    qcn_writeset_clear(&ws);

    /* Journal: changes after the mark disappear, the ones before stay. */
    a.balance = qcn_u256_from_u64(50);
    assert_int_equal(qcn_statedb_account_put(db, addr, &a), QCN_OK);
    mark = qcn_statedb_snapshot(db);
    a.balance = qcn_u256_from_u64(1);
    assert_int_equal(qcn_statedb_account_put(db, addr, &a), QCN_OK);
    assert_int_equal(qcn_statedb_key_set(db, addr, rec2, sizeof rec2), QCN_OK);
    assert_int_equal(qcn_statedb_key_set(db, addr, rec1, sizeof rec1), QCN_OK);
    assert_int_equal(qcn_statedb_key_set(db, addr, rec2, sizeof rec2), QCN_OK);
    qcn_statedb_revert(db, mark);
    assert_int_equal(qcn_statedb_account_get(db, &a, &exists, addr), QCN_OK);
    assert_int_equal(a.balance.w[0], 50);
    assert_int_equal(qcn_statedb_key_get(db, kh, NULL, addr), QCN_OK);
    {
        uint8_t h1[32];
        qcn_keyrec_hash(h1, rec1, sizeof rec1);
        assert_memory_equal(kh, h1, 32);
    }
    /* Commit, but the store "fails": rollback returns to root0 and the old values. */
    assert_int_equal(qcn_statedb_key_set(db, addr, rec2, sizeof rec2), QCN_OK);
    qcn_writeset_init(&ws);
    assert_int_equal(qcn_statedb_commit(db, root, &ws), QCN_OK);
    assert_memory_not_equal(root, root0, 32);
    qcn_writeset_clear(&ws);
    qcn_statedb_rollback(db);
    qcn_statedb_root(db, root);
    assert_memory_equal(root, root0, 32);
    assert_int_equal(qcn_statedb_account_get(db, &a, &exists, addr), QCN_OK);
    assert_int_equal(a.balance.w[0], 100);
    /* And the same block again commits to the same root as before. */
    a.balance = qcn_u256_from_u64(50);
    assert_int_equal(qcn_statedb_account_put(db, addr, &a), QCN_OK);
    qcn_writeset_init(&ws);
    assert_int_equal(qcn_statedb_commit(db, root, &ws), QCN_OK);
    check_root(db, root, 2);
    qcn_writeset_clear(&ws);
    qcn_statedb_free(db);
    qcn_memstore_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writeset_chunks),     cmocka_unit_test(test_writeset_pool),
        cmocka_unit_test(test_account_encoding),    cmocka_unit_test(test_commit_roots),
        cmocka_unit_test(test_revert_and_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
