/* The EVM over the ledger's state database (vm/statedb_glue.h): a contract
 * seeded into a qcn_statedb runs through the backend, its changes are
 * written back and committed, and the committed state root must equal the
 * root the EVM's own overlay computes for the same run without a database
 * (two independent trie paths: statedb's incremental trie and the one-shot
 * secure root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "state/account.h"
#include "state/statedb.h"
#include "state/statedb_mem.h"
#include "util/hex.h"
#include "vm/evm.h"
#include "vm/statedb_glue.h"
#include "vm/statetest.h"

static const uint8_t CONTRACT[20] = {0xc0, 0x17, 0x4a, 0xc7};
static const uint8_t CALLER[20] = {0xca, 0x11, 0xe4};
static const uint8_t COINBASE[20] = {0xcb};

/* Stores calldata word 0 + 1 at slot 1, clears slot 2, logs, sends 3 wei to
 * a fresh address (creating it) and creates a child contract (10 wei, 9
 * bytes of init code that return nothing). */
static const char *CODE = "6000356001016001556000600255"   /* sstore(1, cd0 + 1); sstore(2, 0) */
                          "60006000a0"                     /* log0(0, 0) */
                          "6000600060006000600360ab5af150" /* call(gas, 0xab, 3) */
                          "6c600160005260206000f30000000060005260096013600af050"; /* create */

struct world {
    struct qcn_memstore *ms;
    struct qcn_statedb *db;
};

static void commit(struct world *w)
{
    uint8_t root[32];
    struct qcn_writeset ws;
    qcn_writeset_init(&ws);
    assert_int_equal(qcn_statedb_commit(w->db, root, &ws), QCN_OK);
    assert_int_equal(qcn_memstore_apply(w->ms, &ws), QCN_OK);
    qcn_statedb_finalize(w->db);
    qcn_writeset_clear(&ws);
}

static void run_message(struct qcn_vm_state *st)
{
    struct qcn_vm *vm = qcn_vm_new();
    struct qcn_vm_block_env blk;
    struct qcn_vm_tx_env txe;
    struct qcn_vm_message m;
    struct qcn_vm_result r;
    uint8_t input[32] = {0};
    assert_non_null(vm);
    memset(&blk, 0, sizeof blk);
    memcpy(blk.coinbase, COINBASE, 20);
    blk.gas_limit = 30000000;
    memset(&txe, 0, sizeof txe);
    memcpy(txe.origin, CALLER, 20);
    memset(&m, 0, sizeof m);
    m.kind = QCN_VM_CALL;
    m.gas = 1000000;
    memcpy(m.recipient, CONTRACT, 20);
    memcpy(m.code_address, CONTRACT, 20);
    memcpy(m.sender, CALLER, 20);
    m.value = qcn_u256_from_u64(10);
    input[31] = 41;
    m.input = input;
    m.input_len = sizeof input;
    qcn_vm_state_begin_tx(st);
    assert_int_equal(qcn_vm_warm_tx(vm, st, &blk, CALLER, CONTRACT, NULL, 0), QCN_OK);
    assert_int_equal(qcn_vm_execute(vm, st, &blk, &txe, &m, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_SUCCESS);
    qcn_vm_state_finalize_tx(st);
    qcn_vm_free(vm);
}

static void test_statedb_roundtrip(void **state)
{
    (void)state;
    struct world w;
    struct qcn_account acc;
    uint8_t code[128], h[32], root_db[32], root_vm[32], slot[32] = {0}, val[32];
    size_t n;
    struct qcn_vm_state_backend be;
    struct qcn_vm_state *st, *mem;
    struct qcn_u256 bal = qcn_u256_from_u64(1000), two = qcn_u256_from_u64(2), k2;
    int exists;

    assert_int_equal(qcn_hex_decode(code, sizeof code, &n, CODE, strlen(CODE)), QCN_OK);
    assert_int_equal(qcn_memstore_new(&w.ms), QCN_OK);
    assert_int_equal(qcn_statedb_new(&w.db, qcn_memstore_reader(w.ms), qcn_empty_trie_root),
                     QCN_OK);

    /* Seed: the contract (code, balance, slot 2 = 2) and the caller. */
    qcn_account_init(&acc);
    acc.nonce = 1;
    acc.balance = bal;
    assert_int_equal(qcn_statedb_code_put(w.db, code, n, h), QCN_OK);
    memcpy(acc.code_hash, h, 32);
    assert_int_equal(qcn_statedb_account_put(w.db, CONTRACT, &acc), QCN_OK);
    slot[31] = 2;
    memset(val, 0, 32);
    val[31] = 2;
    assert_int_equal(qcn_statedb_storage_set(w.db, CONTRACT, slot, val), QCN_OK);
    qcn_account_init(&acc);
    acc.balance = bal;
    assert_int_equal(qcn_statedb_account_put(w.db, CALLER, &acc), QCN_OK);
    commit(&w);

    /* Run over the database and write back. */
    be = qcn_vm_statedb_backend(w.db);
    st = qcn_vm_state_new(&be);
    assert_non_null(st);
    run_message(st);
    assert_int_equal(qcn_vm_state_write_statedb(st, w.db), QCN_OK);
    qcn_vm_state_free(st);
    commit(&w);
    qcn_statedb_root(w.db, root_db);

    slot[31] = 1;
    assert_int_equal(qcn_statedb_storage_get(w.db, val, CONTRACT, slot), QCN_OK);
    assert_int_equal(val[31], 42);
    slot[31] = 2;
    assert_int_equal(qcn_statedb_storage_get(w.db, val, CONTRACT, slot), QCN_OK);
    assert_int_equal(val[31], 0);
    {
        uint8_t fresh[20] = {0};
        fresh[19] = 0xab;
        assert_int_equal(qcn_statedb_account_get(w.db, &acc, &exists, fresh), QCN_OK);
        assert_true(exists);
        assert_int_equal(acc.balance.w[0], 3);
    }

    /* The same run on a database-free overlay gives the same root. */
    mem = qcn_vm_state_new(NULL);
    assert_non_null(mem);
    assert_int_equal(qcn_vm_state_seed_account(mem, CONTRACT, 1, &bal, code, n), QCN_OK);
    k2 = two;
    assert_int_equal(qcn_vm_state_seed_storage(mem, CONTRACT, &k2, &two), QCN_OK);
    assert_int_equal(qcn_vm_state_seed_account(mem, CALLER, 0, &bal, NULL, 0), QCN_OK);
    run_message(mem);
    assert_int_equal(qcn_vm_state_root_all(root_vm, mem), QCN_OK);
    assert_memory_equal(root_db, root_vm, 32);
    qcn_vm_state_free(mem);

    qcn_statedb_free(w.db);
    qcn_memstore_free(w.ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statedb_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
