/* Unit tests for the EVM: jumpdest analysis, gas helpers, address
 * derivation, small programs with exact gas, SSTORE refunds, reverts and
 * the journaled state overlay (snapshots, EIP-161 deletion, change walk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/keccak.h"
#include "util/hex.h"
#include "vm/evm.h"
#include "vm/state.h"
#include "vm/tx.h"

static const uint8_t CONTRACT[20] = {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
                                     0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};
static const uint8_t CALLER[20] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                   0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    assert_int_equal(qcn_hex_decode(out, cap, &n, hex, strlen(hex)), QCN_OK);
    return n;
}

static void test_jumpdest_analysis(void **state)
{
    (void)state;
    struct qcn_vm_state *st = qcn_vm_state_new(NULL);
    struct qcn_u256 zero = qcn_u256_from_u64(0);
    struct qcn_vm_account *a;
    struct qcn_vm_code *c;
    uint8_t code[64];
    /* 0: JUMPDEST, 1: PUSH2 5b 5b, 4: JUMPDEST, 5: PUSH32 (truncated, eats the rest) */
    size_t n = unhex(code, sizeof code, "5b615b5b5b7f5b5b");
    assert_non_null(st);
    assert_int_equal(qcn_vm_state_seed_account(st, CONTRACT, 0, &zero, code, n), QCN_OK);
    a = qcn_vm_state_account(st, CONTRACT);
    c = qcn_vm_state_code(st, a);
    assert_non_null(c);
    assert_int_equal(qcn_vm_code_analyse(c), QCN_OK);
    assert_true(qcn_vm_code_is_jumpdest(c, 0));
    assert_false(qcn_vm_code_is_jumpdest(c, 2));
    assert_false(qcn_vm_code_is_jumpdest(c, 3));
    assert_true(qcn_vm_code_is_jumpdest(c, 4));
    assert_false(qcn_vm_code_is_jumpdest(c, 6));
    assert_false(qcn_vm_code_is_jumpdest(c, 7));
    assert_false(qcn_vm_code_is_jumpdest(c, 1000));
    /* The padding after the code reads as zeros (STOP). */
    assert_int_equal(c->bytes[n], 0);
    assert_int_equal(c->bytes[n + QCN_VM_CODE_PAD - 1], 0);
    qcn_vm_state_free(st);
}

static void test_gas_helpers(void **state)
{
    (void)state;
    assert_int_equal(qcn_vm_memory_cost(0), 0);
    assert_int_equal(qcn_vm_memory_cost(1), 3);
    assert_int_equal(qcn_vm_memory_cost(32), 98);            /* 96 + 1024/512 */
    assert_int_equal(qcn_vm_memory_cost(1024), 3072 + 2048); /* 32 KiB */
    assert_int_equal(qcn_vm_all_but_64th(64), 63);
    assert_int_equal(qcn_vm_all_but_64th(100000), 100000 - 1562);

    struct qcn_vm_eth_tx tx;
    uint64_t g;
    uint8_t data[40] = {0};
    memset(&tx, 0, sizeof tx);
    data[0] = 1;
    tx.data = data;
    tx.data_len = 40;
    assert_int_equal(qcn_vm_intrinsic_gas(&g, &tx), QCN_OK);
    assert_int_equal(g, 21000 + 16 + 39 * 4);
    tx.is_create = 1;
    assert_int_equal(qcn_vm_intrinsic_gas(&g, &tx), QCN_OK);
    assert_int_equal(g, 21000 + 32000 + 16 + 39 * 4 + 2 * 2); /* EIP-3860: 2 words */

    struct qcn_u256 fee;
    qcn_vm_blob_base_fee(&fee, 0);
    assert_int_equal(fee.w[0], 1);
    qcn_vm_blob_base_fee(&fee, 3338477); /* e^1 */
    assert_int_equal(fee.w[0], 2);
    qcn_vm_blob_base_fee(&fee, 10 * 3338477ULL); /* e^10 = 22026.47 */
    assert_int_equal(fee.w[0], 22026);
}

static void test_addresses(void **state)
{
    (void)state;
    uint8_t sender[20], want[20], got[20], salt[32] = {0}, init[1] = {0};
    unhex(sender, 20, "6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0");
    qcn_vm_create_address(got, sender, 0);
    unhex(want, 20, "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d");
    assert_memory_equal(got, want, 20);
    qcn_vm_create_address(got, sender, 1);
    unhex(want, 20, "343c43a37d37dff08ae8c4a11544c718abb4fcf8");
    assert_memory_equal(got, want, 20);
    /* EIP-1014 example 0. */
    memset(sender, 0, 20);
    qcn_vm_create2_address(got, sender, salt, init, 1);
    unhex(want, 20, "4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38");
    assert_memory_equal(got, want, 20);
}

struct env {
    struct qcn_vm *vm;
    struct qcn_vm_state *st;
    struct qcn_vm_block_env blk;
    struct qcn_vm_tx_env tx;
};

static void env_init(struct env *e, const char *code_hex)
{
    uint8_t code[512];
    size_t n = unhex(code, sizeof code, code_hex);
    struct qcn_u256 bal = qcn_u256_from_u64(1000000);
    memset(e, 0, sizeof *e);
    e->vm = qcn_vm_new();
    e->st = qcn_vm_state_new(NULL);
    assert_non_null(e->vm);
    assert_non_null(e->st);
    assert_int_equal(qcn_vm_state_seed_account(e->st, CONTRACT, 1, &bal, code, n), QCN_OK);
    assert_int_equal(qcn_vm_state_seed_account(e->st, CALLER, 0, &bal, NULL, 0), QCN_OK);
    e->blk.gas_limit = 30000000;
    e->blk.number = 1;
    qcn_vm_state_begin_tx(e->st);
}

static void env_clear(struct env *e)
{
    qcn_vm_free(e->vm);
    qcn_vm_state_free(e->st);
}

static int run(struct env *e, int64_t gas, struct qcn_vm_result *r)
{
    struct qcn_vm_message m;
    memset(&m, 0, sizeof m);
    m.kind = QCN_VM_CALL;
    m.gas = gas;
    memcpy(m.recipient, CONTRACT, 20);
    memcpy(m.code_address, CONTRACT, 20);
    memcpy(m.sender, CALLER, 20);
    return qcn_vm_execute(e->vm, e->st, &e->blk, &e->tx, &m, r);
}

static void test_add_return_exact_gas(void **state)
{
    (void)state;
    struct env e;
    struct qcn_vm_result r;
    /* PUSH1 2 PUSH1 3 ADD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN */
    env_init(&e, "6002600301600052602060"
                 "00f3");
    assert_int_equal(run(&e, 100, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_SUCCESS);
    assert_int_equal(r.gas_left, 100 - 24); /* 6 x 3 + ADD 3 + 1 word of memory 3 */
    assert_int_equal(r.output_len, 32);
    assert_int_equal(r.output[31], 5);
    /* One gas short: exceptional halt, everything consumed. */
    assert_int_equal(run(&e, 23, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_FAILURE);
    assert_int_equal(r.gas_left, 0);
    env_clear(&e);
}

static void test_bad_jump_and_underflow(void **state)
{
    (void)state;
    struct env e;
    struct qcn_vm_result r;
    /* PUSH1 4 JUMP PUSH1 5b -- jumps into push data */
    env_init(&e, "600456605b");
    assert_int_equal(run(&e, 1000, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_FAILURE);
    assert_int_equal(r.gas_left, 0);
    env_clear(&e);
    env_init(&e, "01"); /* ADD on an empty stack */
    assert_int_equal(run(&e, 1000, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_FAILURE);
    env_clear(&e);
    env_init(&e, "0c"); /* undefined opcode */
    assert_int_equal(run(&e, 1000, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_FAILURE);
    env_clear(&e);
}

static void test_sstore_gas_and_refund(void **state)
{
    (void)state;
    struct env e;
    struct qcn_vm_result r;
    struct qcn_u256 one = qcn_u256_from_u64(1), key = qcn_u256_from_u64(0), v;
    /* PUSH1 0 PUSH1 0 SSTORE: clear a slot whose original value is 1 */
    env_init(&e, "6000600055");
    assert_int_equal(qcn_vm_state_seed_storage(e.st, CONTRACT, &key, &one), QCN_OK);
    assert_int_equal(run(&e, 10000, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_SUCCESS);
    assert_int_equal(r.gas_left, 10000 - 6 - 2100 - 2900); /* cold + reset */
    assert_int_equal(qcn_vm_state_refund(e.st), 4800);
    assert_int_equal(
        qcn_vm_state_sload(e.st, qcn_vm_state_account(e.st, CONTRACT), &key, &v, NULL, NULL),
        QCN_OK);
    assert_true(qcn_u256_is_zero(&v));
    env_clear(&e);

    /* At or below the 2300 stipend SSTORE fails (EIP-2200). */
    env_init(&e, "6001600055");
    assert_int_equal(run(&e, 2306, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_FAILURE);
    env_clear(&e);
}

static void test_revert_rolls_back(void **state)
{
    (void)state;
    struct env e;
    struct qcn_vm_result r;
    struct qcn_u256 key = qcn_u256_from_u64(0), v;
    /* SSTORE(0, 7); LOG0(0,0); REVERT(0, 0) */
    env_init(&e, "600760005560006000a060006000fd");
    assert_int_equal(run(&e, 100000, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_REVERT);
    assert_true(r.gas_left > 0);
    assert_int_equal(
        qcn_vm_state_sload(e.st, qcn_vm_state_account(e.st, CONTRACT), &key, &v, NULL, NULL),
        QCN_OK);
    assert_true(qcn_u256_is_zero(&v));
    size_t nlogs;
    (void)qcn_vm_state_logs(e.st, &nlogs);
    assert_int_equal(nlogs, 0);
    assert_int_equal(qcn_vm_state_refund(e.st), 0);
    env_clear(&e);
}

static void test_static_call_write_fails(void **state)
{
    (void)state;
    struct env e;
    struct qcn_vm_result r;
    struct qcn_vm_message m;
    env_init(&e, "6001600055"); /* SSTORE */
    memset(&m, 0, sizeof m);
    m.kind = QCN_VM_STATICCALL;
    m.is_static = 1;
    m.gas = 100000;
    memcpy(m.recipient, CONTRACT, 20);
    memcpy(m.code_address, CONTRACT, 20);
    memcpy(m.sender, CALLER, 20);
    assert_int_equal(qcn_vm_execute(e.vm, e.st, &e.blk, &e.tx, &m, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_FAILURE);
    env_clear(&e);
}

struct walk_ctx {
    int accounts, deleted, slots;
};

static int w_account(void *ctx, const struct qcn_vm_account *a, int deleted)
{
    struct walk_ctx *w = ctx;
    (void)a;
    w->accounts++;
    w->deleted += deleted;
    return 0;
}

static int w_slot(void *ctx, const struct qcn_vm_account *a, const uint8_t key[32],
                  const uint8_t value[32])
{
    struct walk_ctx *w = ctx;
    (void)a;
    (void)key;
    (void)value;
    w->slots++;
    return 0;
}

static void test_state_journal_and_eip161(void **state)
{
    (void)state;
    struct qcn_vm_state *st = qcn_vm_state_new(NULL);
    struct qcn_u256 zero = qcn_u256_from_u64(0), ten = qcn_u256_from_u64(10);
    struct qcn_u256 k = qcn_u256_from_u64(3), v = qcn_u256_from_u64(9), got;
    uint8_t empty_addr[20] = {1}, rich[20] = {2};
    struct qcn_vm_account *e, *r;
    struct walk_ctx w = {0, 0, 0};
    struct qcn_vm_change_visitor vis = {&w, w_account, w_slot, NULL};
    size_t snap;

    assert_int_equal(qcn_vm_state_seed_account(st, empty_addr, 0, &zero, NULL, 0), QCN_OK);
    assert_int_equal(qcn_vm_state_seed_account(st, rich, 0, &ten, NULL, 0), QCN_OK);
    qcn_vm_state_begin_tx(st);
    e = qcn_vm_state_account(st, empty_addr);
    r = qcn_vm_state_account(st, rich);
    snap = qcn_vm_state_snapshot(st);
    assert_int_equal(qcn_vm_state_sstore(st, r, &k, &v), QCN_OK);
    assert_int_equal(qcn_vm_state_sub_balance(st, r, &ten), QCN_OK);
    assert_int_equal(qcn_vm_state_sub_balance(st, r, &ten), QCN_ERR_OVERFLOW);
    qcn_vm_state_revert(st, snap);
    assert_int_equal(r->balance.w[0], 10);
    assert_int_equal(qcn_vm_state_sload(st, r, &k, &got, NULL, NULL), QCN_OK);
    assert_true(qcn_u256_is_zero(&got));
    /* Touch the empty account (a zero-value transfer) and write a slot. */
    assert_int_equal(qcn_vm_state_add_balance(st, e, &zero), QCN_OK);
    assert_int_equal(qcn_vm_state_sstore(st, r, &k, &v), QCN_OK);
    qcn_vm_state_finalize_tx(st);
    assert_false(e->flags & QCN_VM_ACC_EXISTS); /* EIP-161 deletion */
    assert_true(r->flags & QCN_VM_ACC_EXISTS);
    assert_int_equal(qcn_vm_state_walk_changes(st, &vis), 0);
    assert_int_equal(w.accounts, 2);
    assert_int_equal(w.deleted, 1);
    assert_int_equal(w.slots, 1);
    qcn_vm_state_clear_dirty(st);
    memset(&w, 0, sizeof w);
    assert_int_equal(qcn_vm_state_walk_changes(st, &vis), 0);
    assert_int_equal(w.accounts, 0);
    qcn_vm_state_free(st);
}

/* A backend with one contract (code that adds its slot 0 to the calldata
 * word and stores it back) for the lazy-loading and change-walk tests. */
struct fake_backend {
    uint8_t code[64];
    size_t code_len;
    uint8_t code_hash[32];
    int account_loads, storage_loads, code_loads;
};

static int fb_account(void *ctx, const uint8_t addr[20], int *found, uint64_t *nonce,
                      struct qcn_u256 *balance, uint8_t code_hash[32], int *has_storage)
{
    struct fake_backend *fb = ctx;
    fb->account_loads++;
    *found = memcmp(addr, CONTRACT, 20) == 0;
    if (*found) {
        *nonce = 1;
        *balance = qcn_u256_from_u64(5);
        memcpy(code_hash, fb->code_hash, 32);
        *has_storage = 1;
    }
    return QCN_OK;
}

static int fb_storage(void *ctx, const uint8_t addr[20], const uint8_t key[32], uint8_t value[32])
{
    struct fake_backend *fb = ctx;
    (void)addr;
    fb->storage_loads++;
    memset(value, 0, 32);
    if (key[31] == 0)
        value[31] = 40;
    return QCN_OK;
}

static int fb_code(void *ctx, const uint8_t hash[32], struct qcn_buf *out)
{
    struct fake_backend *fb = ctx;
    fb->code_loads++;
    if (memcmp(hash, fb->code_hash, 32) != 0)
        return QCN_ERR_NOT_FOUND;
    qcn_buf_reset(out);
    return qcn_buf_append(out, fb->code, fb->code_len);
}

struct slot_seen {
    int n;
    uint8_t value[32];
};

static int seen_slot(void *ctx, const struct qcn_vm_account *a, const uint8_t key[32],
                     const uint8_t value[32])
{
    struct slot_seen *s = ctx;
    (void)a;
    (void)key;
    s->n++;
    memcpy(s->value, value, 32);
    return 0;
}

static void test_backend_lazy_loading(void **state)
{
    (void)state;
    struct fake_backend fb;
    struct qcn_vm_state_backend be = {&fb, fb_account, fb_storage, fb_code};
    struct qcn_vm_state *st;
    struct qcn_vm *vm = qcn_vm_new();
    struct qcn_vm_block_env blk;
    struct qcn_vm_tx_env txe;
    struct qcn_vm_message m;
    struct qcn_vm_result r;
    struct slot_seen seen = {0, {0}};
    struct qcn_vm_change_visitor v = {&seen, NULL, seen_slot, NULL};
    uint8_t input[32] = {0};

    memset(&fb, 0, sizeof fb);
    /* PUSH1 0 CALLDATALOAD PUSH1 0 SLOAD ADD PUSH1 0 SSTORE */
    fb.code_len = unhex(fb.code, sizeof fb.code,
                        "600035600054016000"
                        "55");
    qcn_keccak256(fb.code_hash, fb.code, fb.code_len);
    st = qcn_vm_state_new(&be);
    assert_non_null(st);
    assert_non_null(vm);
    memset(&blk, 0, sizeof blk);
    memset(&txe, 0, sizeof txe);
    memset(&m, 0, sizeof m);
    m.kind = QCN_VM_CALL;
    m.gas = 100000;
    memcpy(m.recipient, CONTRACT, 20);
    memcpy(m.code_address, CONTRACT, 20);
    memcpy(m.sender, CALLER, 20);
    input[31] = 2;
    m.input = input;
    m.input_len = 32;
    qcn_vm_state_begin_tx(st);
    assert_int_equal(qcn_vm_execute(vm, st, &blk, &txe, &m, &r), QCN_OK);
    assert_int_equal(r.status, QCN_VM_SUCCESS);
    qcn_vm_state_finalize_tx(st);
    assert_int_equal(fb.code_loads, 1);
    assert_int_equal(fb.storage_loads, 1);
    assert_int_equal(qcn_vm_state_walk_changes(st, &v), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.value[31], 42);
    /* A second run reuses the loaded code and slot. */
    qcn_vm_state_begin_tx(st);
    assert_int_equal(qcn_vm_execute(vm, st, &blk, &txe, &m, &r), QCN_OK);
    assert_int_equal(fb.code_loads, 1);
    assert_int_equal(fb.storage_loads, 1);
    qcn_vm_state_free(st);
    /* With a shared code cache, a later state (the next transaction) finds
     * the code, and its analysis, without asking the backend again. */
    {
        struct qcn_vm_code_cache *cache = qcn_vm_code_cache_new(1 << 20);
        struct qcn_vm_code *c;
        assert_non_null(cache);
        fb.code_loads = 0;
        for (int i = 0; i < 2; i++) {
            st = qcn_vm_state_new(&be);
            assert_non_null(st);
            qcn_vm_state_use_code_cache(st, cache);
            qcn_vm_state_begin_tx(st);
            assert_int_equal(qcn_vm_execute(vm, st, &blk, &txe, &m, &r), QCN_OK);
            assert_int_equal(r.status, QCN_VM_SUCCESS);
            c = qcn_vm_state_code(st, qcn_vm_state_account(st, CONTRACT));
            assert_non_null(c);
            assert_non_null(c->jumpdest);
            qcn_vm_state_free(st);
        }
        assert_int_equal(fb.code_loads, 1);
        assert_int_equal(qcn_vm_code_cache_bytes(cache), fb.code_len);
        qcn_vm_code_cache_free(cache);
    }
    st = qcn_vm_state_new(&be);
    /* A backend that hands back the wrong code is an error, not a crash. */
    fb.code[0] = 0x00;
    qcn_vm_state_free(st);
    st = qcn_vm_state_new(&be);
    assert_non_null(st);
    qcn_vm_state_begin_tx(st);
    assert_int_equal(qcn_vm_execute(vm, st, &blk, &txe, &m, &r), QCN_ERR_STATE);
    qcn_vm_state_free(st);
    qcn_vm_free(vm);
}

static void test_create_nonce_modes(void **state)
{
    (void)state;
    struct env e;
    struct qcn_vm_message m;
    struct qcn_vm_result r;
    struct qcn_u256 bal = qcn_u256_from_u64(1000000);
    uint8_t want[20], sender[20] = {0x5e};
    uint8_t init[1] = {0x00}; /* STOP: deploys empty code */

    for (int bumped = 0; bumped <= 1; bumped++) {
        env_init(&e, "00");
        assert_int_equal(qcn_vm_state_seed_account(e.st, sender, 5, &bal, NULL, 0), QCN_OK);
        qcn_vm_state_begin_tx(e.st);
        memset(&m, 0, sizeof m);
        m.kind = QCN_VM_CREATE;
        m.gas = 100000;
        memcpy(m.sender, sender, 20);
        m.input = init;
        m.input_len = sizeof init;
        m.nonce_bumped = bumped;
        assert_int_equal(qcn_vm_execute(e.vm, e.st, &e.blk, &e.tx, &m, &r), QCN_OK);
        assert_int_equal(r.status, QCN_VM_SUCCESS);
        /* Our ledger bumps first: the address is the one of nonce 4. */
        qcn_vm_create_address(want, sender, bumped ? 4 : 5);
        assert_memory_equal(r.created, want, 20);
        assert_int_equal(qcn_vm_state_account(e.st, sender)->nonce, bumped ? 5 : 6);
        assert_int_equal(qcn_vm_state_account(e.st, want)->nonce, 1);
        env_clear(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jumpdest_analysis),
        cmocka_unit_test(test_gas_helpers),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_add_return_exact_gas),
        cmocka_unit_test(test_bad_jump_and_underflow),
        cmocka_unit_test(test_sstore_gas_and_refund),
        cmocka_unit_test(test_revert_rolls_back),
        cmocka_unit_test(test_static_call_write_fails),
        cmocka_unit_test(test_state_journal_and_eip161),
        cmocka_unit_test(test_backend_lazy_loading),
        cmocka_unit_test(test_create_nonce_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
