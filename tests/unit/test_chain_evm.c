/* Contracts in the chain (chain/evm_exec.c): creation from raw bytecode in a
 * signed transaction, calls, storage, logs and bloom in receipts, reverts
 * and out-of-gas that leave only the nonce and the fee, refunds, the block
 * context a contract sees, precompile targets, qcn_chain_call and
 * qcn_chain_estimate_gas (the estimate is exactly enough: one gas less
 * fails), a second chain replaying the blocks to the same roots, and the
 * state root checked from scratch after every block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"
#include "unit/test_chain_env.h"
#include "util/hex.h"

/* Runtime code (assembled by hand; offsets in the comments):
 *   no calldata: return sload(0)
 *   else v = word 0, flag = word 1:
 *     sstore(0, v); mstore(0, v); log1(0, 32, topic 0x77)
 *     flag 0: stop; flag 1: revert(0, 32) (returns v); else loop forever
 *   00 CALLDATASIZE PUSH1 0f JUMPI
 *   04 PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
 *   0f JUMPDEST PUSH1 32 CALLDATALOAD PUSH1 0 CALLDATALOAD DUP1 PUSH1 0 SSTORE
 *      PUSH1 0 MSTORE PUSH1 77 PUSH1 32 PUSH1 0 LOG1
 *      DUP1 ISZERO PUSH1 39 JUMPI PUSH1 1 EQ PUSH1 33 JUMPI
 *   2f JUMPDEST PUSH1 2f JUMP
 *   33 JUMPDEST PUSH1 32 PUSH1 0 REVERT
 *   39 JUMPDEST STOP */
static const char MAIN_RUNTIME[] =
    "36600f5760005460005260206000f35b60203560003580600055600052607760"
    "206000a180156039576001146033575b602f565b60206000fd5b00";
/* Stores COINBASE, PREVRANDAO, CHAINID, BASEFEE, NUMBER, TIMESTAMP, GASLIMIT,
 * ORIGIN, GASPRICE in slots 0..8 and BLOCKHASH(NUMBER - 1) in slot 9. */
static const char ENV_RUNTIME[] =
    "41600055446001554660025548600355436004554260055545600655326007553a600855600143034060095500";
/* sstore(0, 0); stop (PUSH1 0 PUSH1 0 SSTORE STOP): 3 + 3 + 2100 + 2900 gas. */
static const char CLEAR_RUNTIME[] = "600060005500";
#define CLEAR_EXEC_GAS (3 + 3 + 2100 + 2900)
#define SSTORE_CLEARS_REFUND 4800 /* EIP-3529 */

#define TOPIC_BYTE 0x77
#define GAS 300000

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    assert_int_equal(qcn_hex_decode_exact(out, n, hex), QCN_OK);
    return n;
}

/* Init code that optionally sets slot 0 to 1, then returns runtime. */
static size_t make_init(uint8_t *out, size_t cap, const char *runtime_hex, int preset)
{
    uint8_t rt[256];
    size_t n = unhex(rt, sizeof rt, runtime_hex), o = 0;
    if (preset) {
        static const uint8_t set1[] = {0x60, 0x01, 0x60, 0x00, 0x55}; /* sstore(0, 1) */
        memcpy(out, set1, sizeof set1);
        o = sizeof set1;
    }
    /* PUSH1 n DUP1 PUSH1 off PUSH1 0 CODECOPY PUSH1 0 RETURN */
    {
        uint8_t copy[] = {0x60, (uint8_t)n, 0x80, 0x60, 0, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3};
        copy[4] = (uint8_t)(o + sizeof copy);
        assert_true(o + sizeof copy + n <= cap);
        memcpy(out + o, copy, sizeof copy);
        o += sizeof copy;
    }
    memcpy(out + o, rt, n);
    return o + n;
}

/* keccak256(rlp([sender, nonce]))[12:], computed here independently of the VM. */
static void expected_create_address(uint8_t out[20], const uint8_t sender[20], uint64_t nonce)
{
    struct qcn_buf b;
    uint8_t h[32];
    size_t l;
    qcn_buf_init(&b, 64);
    l = qcn_rlp_list_begin(&b);
    assert_int_equal(qcn_rlp_put_bytes(&b, sender, 20), QCN_OK);
    assert_int_equal(qcn_rlp_put_u64(&b, nonce), QCN_OK);
    assert_int_equal(qcn_rlp_list_end(&b, l), QCN_OK);
    qcn_keccak256(h, b.p, b.len);
    memcpy(out, h + 12, 20);
    qcn_buf_clear(&b);
}

/* Yellow Paper §4.3.1 M3:2048, independently of codec's qcn_bloom_add. */
static int bloom_has(const uint8_t bloom[QCN_BLOOM_BYTES], const uint8_t *item, size_t len)
{
    uint8_t h[32];
    int i;
    qcn_keccak256(h, item, len);
    for (i = 0; i < 3; i++) {
        unsigned bit = ((unsigned)h[2 * i] << 8 | h[2 * i + 1]) & 2047u;
        if (!(bloom[QCN_BLOOM_BYTES - 1 - bit / 8] & (1u << (bit % 8))))
            return 0;
    }
    return 1;
}

static struct qcn_tx *signed_tx(const struct tkey *k, uint64_t nonce, const uint8_t *to,
                                uint64_t value, const uint8_t *data, size_t len, uint64_t gas,
                                int with_pk)
{
    struct qcn_tx_fields f;
    struct qcn_tx *tx;
    tfields(&f, ENV_CHAIN_ID, k->addr, nonce, to, value, k->scheme);
    f.max_fee = 5000;
    f.max_priority_fee = 10;
    f.gas_limit = gas;
    f.data = qcn_view_make(data, len);
    assert_int_equal(tsign(&tx, &f, k, with_pk), QCN_OK);
    return tx;
}

/* Builds the next block with this mix (PREVRANDAO), stores and commits it,
 * checks the root from scratch, and returns it in keep. */
static void block_with(struct env *e, const uint8_t mix[32], struct qcn_block_result *keep)
{
    struct qcn_build_args a;
    memset(&a, 0, sizeof a);
    a.timestamp = qcn_chain_head(e->c)->timestamp + 7;
    memcpy(a.proposer, e->proposer, QCN_ADDRESS_BYTES);
    memcpy(a.mix, mix, 32);
    assert_int_equal(qcn_chain_block_build(e->c, e->mp, &a, keep), QCN_OK);
    assert_int_equal(qcn_memstore_apply(e->ms, &keep->writes), QCN_OK);
    qcn_chain_block_commit_done(e->c, keep, e->mp);
    env_check_root(e);
}

static void slot(struct env *e, uint8_t out[32], const uint8_t addr[20], uint8_t index)
{
    uint8_t k[32] = {0};
    k[31] = index;
    assert_int_equal(qcn_statedb_storage_get(qcn_chain_state(e->c), out, addr, k), QCN_OK);
}

static uint64_t slot_u64(struct env *e, const uint8_t addr[20], uint8_t index)
{
    uint8_t v[32];
    slot(e, v, addr, index);
    return qcn_load_be64(v + 24);
}

static void word(uint8_t out[64], uint64_t v, uint64_t flag)
{
    memset(out, 0, 64);
    qcn_store_be64(out + 24, v);
    qcn_store_be64(out + 56, flag);
}

/* A replica applies every block the producer built and must agree. */
struct replica {
    struct env e;
};

static void replay(struct replica *r, const struct qcn_block_result *res)
{
    struct qcn_block blk;
    struct qcn_block_result out;
    wire_copy_block(&blk, &res->block);
    assert_int_equal(qcn_chain_block_apply(r->e.c, NULL, &blk, &out), QCN_OK);
    assert_memory_equal(out.block.hash, res->block.hash, 32);
    assert_int_equal(qcn_memstore_apply(r->e.ms, &out.writes), QCN_OK);
    qcn_chain_block_commit_done(r->e.c, &out, NULL);
    qcn_block_result_clear(&out);
}

/* Counts calls into the VM hook (wrapping the built-in one). */
struct counting {
    struct qcn_chain_vm inner;
    int calls;
};
static int counting_execute(void *ctx, struct qcn_statedb *db, const struct qcn_header *hdr,
                            const struct qcn_tx *tx, uint64_t gas_available, uint8_t *status,
                            uint64_t *gas_used, struct qcn_receipt *receipt)
{
    struct counting *k = ctx;
    k->calls++;
    return k->inner.execute(k->inner.ctx, db, hdr, tx, gas_available, status, gas_used, receipt);
}

static void test_deploy_call_logs_revert_oog(void **state)
{
    struct env e;
    struct replica rep;
    struct qcn_block_result res;
    struct qcn_account acc;
    struct counting cnt;
    struct qcn_chain_vm hook;
    const struct tkey *k;
    uint8_t init[512], rt[256], caddr[20], calldata[64], v[32], mix[32], kh[32];
    uint8_t root_before[32];
    size_t ilen, rlen;
    uint64_t ig, nonce;
    struct qcn_u256 bal_before, bal_after, d;
    (void)state;

    env_init(&e);
    env_init(&rep.e);
    k = &e.keys[0];
    memset(mix, 0x5a, sizeof mix);
    memset(&cnt, 0, sizeof cnt);
    qcn_chain_get_vm(e.c, &cnt.inner);
    assert_non_null(cnt.inner.execute);
    hook.ctx = &cnt;
    hook.execute = counting_execute;
    qcn_chain_set_vm(e.c, &hook);

    /* 1. Creation: the address is Ethereum's, the code is the runtime. */
    ilen = make_init(init, sizeof init, MAIN_RUNTIME, 0);
    rlen = unhex(rt, sizeof rt, MAIN_RUNTIME);
    expected_create_address(caddr, k->addr, 0);
    env_track(&e, caddr);
    env_track(&rep.e, caddr);
    assert_int_equal(env_submit(&e, signed_tx(k, 0, NULL, 0, init, ilen, GAS, 1)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.block.ntx, 1);
    assert_int_equal(res.receipts[0].status, 1);
    assert_int_equal(cnt.calls, 1);
    replay(&rep, &res);
    qcn_block_result_clear(&res);
    assert_int_equal(qcn_chain_account_get(e.c, &acc, caddr), QCN_OK);
    assert_int_equal(acc.nonce, 1); /* EIP-161: a new contract starts at nonce 1 */
    {
        struct qcn_buf code;
        uint8_t h[32];
        qcn_buf_init(&code, 1 << 16);
        assert_int_equal(qcn_statedb_code_get(qcn_chain_state(e.c), &code, acc.code_hash), QCN_OK);
        assert_int_equal(code.len, rlen);
        assert_memory_equal(code.p, rt, rlen);
        qcn_keccak256(h, rt, rlen);
        assert_memory_equal(h, acc.code_hash, 32);
        qcn_buf_clear(&code);
    }
    assert_int_equal(env_nonce(&e, k->addr), 1);

    /* 2. A call that stores and logs: storage, receipt log, bloom. */
    word(calldata, 0x1234, 0);
    assert_int_equal(env_submit(&e, signed_tx(k, 1, caddr, 0, calldata, 64, GAS, 0)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.receipts[0].status, 1);
    assert_int_equal(res.receipts[0].nlogs, 1);
    {
        const struct qcn_log *lg = &res.receipts[0].logs[0];
        uint8_t topic[32] = {0};
        topic[31] = TOPIC_BYTE;
        assert_memory_equal(lg->address, caddr, 20);
        assert_int_equal(lg->ntopics, 1);
        assert_memory_equal(lg->topics[0], topic, 32);
        assert_int_equal(lg->data_len, 32);
        assert_memory_equal(lg->data, calldata, 32);
        assert_true(bloom_has(res.receipts[0].bloom, caddr, 20));
        assert_true(bloom_has(res.receipts[0].bloom, topic, 32));
        assert_true(bloom_has(res.block.header.bloom, caddr, 20));
        assert_true(bloom_has(res.block.header.bloom, topic, 32));
        topic[31] = TOPIC_BYTE + 1;
        assert_false(bloom_has(res.receipts[0].bloom, topic, 32) &&
                     bloom_has(res.receipts[0].bloom, k->addr, 20));
    }
    replay(&rep, &res);
    qcn_block_result_clear(&res);
    assert_int_equal(slot_u64(&e, caddr, 0), 0x1234);

    /* 3. Revert: the slot keeps its value, no log; only nonce and fee move. */
    bal_before = env_balance(&e, k->addr);
    word(calldata, 0x9999, 1);
    {
        struct qcn_tx *tx = signed_tx(k, 2, caddr, 0, calldata, 64, GAS, 0);
        assert_int_equal(qcn_tx_intrinsic_gas(&ig, tx), QCN_OK);
        assert_int_equal(env_submit(&e, tx), QCN_OK);
    }
    block_with(&e, mix, &res);
    assert_int_equal(res.block.ntx, 1);
    assert_int_equal(res.receipts[0].status, 0);
    assert_int_equal(res.receipts[0].nlogs, 0);
    assert_true(res.receipts[0].gas_used > ig && res.receipts[0].gas_used < GAS);
    bal_after = env_balance(&e, k->addr);
    assert_int_equal(qcn_u256_sub(&d, &bal_before, &bal_after), 0);
    {
        struct qcn_u256 fee =
            qcn_u256_mul_u64_u64(res.receipts[0].gas_used, res.receipts[0].effective_gas_price);
        assert_int_equal(qcn_u256_cmp(&d, &fee), 0);
    }
    replay(&rep, &res);
    qcn_block_result_clear(&res);
    assert_int_equal(slot_u64(&e, caddr, 0), 0x1234);
    assert_int_equal(env_nonce(&e, k->addr), 3);

    /* 4. Out of gas (an endless loop): all gas consumed, nothing else changes. */
    qcn_statedb_root(qcn_chain_state(e.c), root_before);
    word(calldata, 0x5555, 2);
    assert_int_equal(env_submit(&e, signed_tx(k, 3, caddr, 0, calldata, 64, 100000, 0)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.receipts[0].status, 0);
    assert_int_equal(res.receipts[0].gas_used, 100000);
    assert_int_equal(res.receipts[0].nlogs, 0);
    replay(&rep, &res);
    qcn_block_result_clear(&res);
    assert_int_equal(slot_u64(&e, caddr, 0), 0x1234);
    assert_int_equal(env_nonce(&e, k->addr), 4);

    /* 5. A transfer to a code-less account stays on the native path. */
    nonce = 4;
    cnt.calls = 0;
    assert_int_equal(env_submit(&e, env_transfer(&e, k, nonce, e.keys[1].addr, 5, 0)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.receipts[0].status, 1);
    assert_int_equal(qcn_tx_intrinsic_gas(&ig, res.block.txs[0]), QCN_OK);
    assert_int_equal(res.receipts[0].gas_used, ig);
    assert_int_equal(cnt.calls, 0);
    replay(&rep, &res);
    qcn_block_result_clear(&res);

    /* 6. Value sent to a contract whose code stops: the balance moves. */
    word(calldata, 0x42, 0);
    assert_int_equal(env_submit(&e, signed_tx(k, 5, caddr, 777, calldata, 64, GAS, 0)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.receipts[0].status, 1);
    assert_int_equal(cnt.calls, 1);
    replay(&rep, &res);
    qcn_block_result_clear(&res);
    assert_int_equal(env_balance(&e, caddr).w[0], 777);

    /* Replica and producer agree on everything, including the key records. */
    {
        uint8_t ha[32], hb[32];
        qcn_chain_head_hash(e.c, ha);
        qcn_chain_head_hash(rep.e.c, hb);
        assert_memory_equal(ha, hb, 32);
        assert_int_equal(qcn_chain_key_get(rep.e.c, kh, NULL, k->addr), QCN_OK);
        env_check_root(&rep.e);
    }
    slot(&e, v, caddr, 0);
    assert_int_equal(qcn_load_be64(v + 24), 0x42);
    env_free(&rep.e);
    env_free(&e);
}

static void test_block_context(void **state)
{
    struct env e;
    struct qcn_block_result res;
    const struct tkey *k;
    uint8_t init[256], caddr[20], mix[32], v[32], zero[32] = {0}, parent[32];
    size_t ilen;
    uint64_t base_fee;
    (void)state;

    env_init(&e);
    k = &e.keys[1];
    for (int i = 0; i < 32; i++)
        mix[i] = (uint8_t)(0xa0 + i);
    ilen = make_init(init, sizeof init, ENV_RUNTIME, 0);
    expected_create_address(caddr, k->addr, 0);
    env_track(&e, caddr);
    assert_int_equal(env_submit(&e, signed_tx(k, 0, NULL, 0, init, ilen, GAS, 1)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.receipts[0].status, 1);
    qcn_block_result_clear(&res);

    /* Call it in block 2 from key 1 (ORIGIN). */
    qcn_chain_head_hash(e.c, parent);
    base_fee = qcn_chain_next_base_fee(e.c);
    mix[0] ^= 0xff;
    assert_int_equal(env_submit(&e, signed_tx(k, 1, caddr, 0, NULL, 0, GAS, 0)), QCN_OK);
    block_with(&e, mix, &res);
    assert_int_equal(res.receipts[0].status, 1);

    slot(&e, v, caddr, 0); /* COINBASE = the block's proposer */
    assert_memory_equal(v, zero, 12);
    assert_memory_equal(v + 12, res.block.header.proposer, 20);
    assert_memory_equal(v + 12, e.proposer, 20);
    slot(&e, v, caddr, 1); /* PREVRANDAO = the header's mix */
    assert_memory_equal(v, mix, 32);
    assert_memory_equal(v, res.block.header.mix, 32);
    assert_int_equal(slot_u64(&e, caddr, 2), ENV_CHAIN_ID);
    assert_int_equal(slot_u64(&e, caddr, 3), base_fee);
    assert_int_equal(slot_u64(&e, caddr, 3), res.block.header.base_fee);
    assert_int_equal(slot_u64(&e, caddr, 4), 2);
    assert_int_equal(slot_u64(&e, caddr, 5), res.block.header.timestamp);
    assert_int_equal(slot_u64(&e, caddr, 6), res.block.header.gas_limit);
    slot(&e, v, caddr, 7); /* ORIGIN */
    assert_memory_equal(v + 12, k->addr, 20);
    /* GASPRICE: the effective price = base fee + min(tip, max_fee - base fee) */
    assert_int_equal(slot_u64(&e, caddr, 8), base_fee + 10);
    assert_int_equal(slot_u64(&e, caddr, 8), res.receipts[0].effective_gas_price);
    slot(&e, v, caddr, 9); /* BLOCKHASH(NUMBER - 1) = the parent */
    assert_memory_equal(v, parent, 32);
    qcn_block_result_clear(&res);
    env_free(&e);
}

static void test_refund_and_precompile(void **state)
{
    struct env e;
    struct qcn_block_result res;
    const struct tkey *k;
    uint8_t init[256], caddr[20], sha[20] = {0}, data[100];
    size_t ilen;
    uint64_t ig;
    (void)state;

    env_init(&e);
    k = &e.keys[2];
    /* A contract whose slot 0 is 1 and whose code clears it. */
    ilen = make_init(init, sizeof init, CLEAR_RUNTIME, 1);
    expected_create_address(caddr, k->addr, 0);
    env_track(&e, caddr);
    assert_int_equal(env_submit(&e, signed_tx(k, 0, NULL, 0, init, ilen, GAS, 1)), QCN_OK);
    assert_int_equal(env_block(&e, NULL), 1);
    assert_int_equal(slot_u64(&e, caddr, 0), 1);
    {
        struct qcn_tx *tx = signed_tx(k, 1, caddr, 0, NULL, 0, GAS, 0);
        assert_int_equal(qcn_tx_intrinsic_gas(&ig, tx), QCN_OK);
        assert_int_equal(env_submit(&e, tx), QCN_OK);
    }
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    /* EIP-3529: the 4800 refund is below a fifth of what was spent. */
    assert_true(SSTORE_CLEARS_REFUND <= (ig + CLEAR_EXEC_GAS) / 5);
    assert_int_equal(res.receipts[0].gas_used, ig + CLEAR_EXEC_GAS - SSTORE_CLEARS_REFUND);
    assert_int_equal(slot_u64(&e, caddr, 0), 0);
    qcn_block_result_clear(&res);

    /* A transaction straight to the SHA-256 precompile runs it: 60 + 12/word. */
    sha[19] = 0x02;
    memset(data, 0xab, sizeof data);
    {
        struct qcn_tx *tx = signed_tx(k, 2, sha, 0, data, sizeof data, GAS, 0);
        assert_int_equal(qcn_tx_intrinsic_gas(&ig, tx), QCN_OK);
        assert_int_equal(env_submit(&e, tx), QCN_OK);
    }
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    assert_int_equal(res.receipts[0].gas_used, ig + 60 + 12 * ((sizeof data + 31) / 32));
    qcn_block_result_clear(&res);
    env_free(&e);
}

static void test_failed_creation_and_limits(void **state)
{
    struct env e;
    struct qcn_block_result res;
    struct qcn_account acc;
    const struct tkey *k;
    static uint8_t big[QCN_CHAIN_MAX_INITCODE + 1];
    static const uint8_t reverting_init[] = {0x60, 0x00, 0x60, 0x00, 0xfd}; /* revert(0, 0) */
    uint8_t caddr[20];
    (void)state;

    env_init(&e);
    k = &e.keys[0];
    expected_create_address(caddr, k->addr, 0);
    env_track(&e, caddr);
    assert_int_equal(
        env_submit(&e, signed_tx(k, 0, NULL, 0, reverting_init, sizeof reverting_init, GAS, 1)),
        QCN_OK);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 0);
    qcn_block_result_clear(&res);
    assert_int_equal(qcn_chain_account_get(e.c, &acc, caddr), QCN_OK);
    assert_true(qcn_account_is_empty(&acc));
    assert_int_equal(env_nonce(&e, k->addr), 1);

    /* EIP-3860: init code over 49152 bytes is refused outright. */
    assert_int_equal(env_submit(&e, signed_tx(k, 1, NULL, 0, big, sizeof big, 2000000, 0)),
                     QCN_ERR_VM_TX_INITCODE);
    /* Without a VM hook, contract transactions are refused as before. */
    qcn_chain_set_vm(e.c, NULL);
    assert_int_equal(
        env_submit(&e, signed_tx(k, 1, NULL, 0, reverting_init, sizeof reverting_init, GAS, 0)),
        QCN_ERR_TX_VM_UNAVAILABLE);
    assert_int_equal(qcn_chain_evm_attach(e.c), QCN_OK);
    assert_int_equal(
        env_submit(&e, signed_tx(k, 1, NULL, 0, reverting_init, sizeof reverting_init, GAS, 0)),
        QCN_OK);
    env_free(&e);
}

static void test_call_and_estimate(void **state)
{
    struct env e;
    struct qcn_block_result res;
    struct qcn_chain_call call;
    struct qcn_chain_call_result out;
    const struct tkey *k;
    uint8_t init[512], caddr[20], calldata[64], root0[32], root1[32];
    size_t ilen;
    uint64_t est, ig;
    (void)state;

    env_init(&e);
    k = &e.keys[0];
    qcn_buf_init(&out.output, 1 << 16);

    /* Estimating the creation, then deploying with exactly that gas. */
    ilen = make_init(init, sizeof init, MAIN_RUNTIME, 0);
    memset(&call, 0, sizeof call);
    memcpy(call.from, k->addr, 20);
    call.data = qcn_view_make(init, ilen);
    call.scheme = k->scheme;
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 0), QCN_OK);
    assert_int_equal(out.status, QCN_CHAIN_CALL_SUCCESS);
    {
        /* A creation's call output is the deployed code. */
        uint8_t rt[256];
        size_t rlen = unhex(rt, sizeof rt, MAIN_RUNTIME);
        assert_int_equal(out.output.len, rlen);
        assert_memory_equal(out.output.p, rt, rlen);
    }
    expected_create_address(caddr, k->addr, 0);
    assert_memory_equal(out.created, caddr, 20);
    env_track(&e, caddr);
    {
        struct qcn_tx *tx = signed_tx(k, 0, NULL, 0, init, ilen, est, 1);
        uint64_t cig;
        assert_int_equal(qcn_tx_intrinsic_gas(&ig, tx), QCN_OK);
        assert_int_equal(qcn_chain_call_intrinsic_gas(e.c, &cig, &call), QCN_OK);
        assert_int_equal(cig, ig);
        assert_int_equal(env_submit(&e, tx), QCN_OK);
    }
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    assert_true(res.receipts[0].gas_used <= est);
    qcn_block_result_clear(&res);

    /* A read: returns slot 0; nothing is committed by a call. */
    memset(&call, 0, sizeof call);
    memcpy(call.from, k->addr, 20);
    call.has_to = 1;
    memcpy(call.to, caddr, 20);
    word(calldata, 0xbeef, 0);
    call.data = qcn_view_make(calldata, 64);
    qcn_statedb_root(qcn_chain_state(e.c), root0);
    assert_int_equal(qcn_chain_call(e.c, &out, &call), QCN_OK);
    assert_int_equal(out.status, QCN_CHAIN_CALL_SUCCESS);
    assert_true(out.gas_used > 20000); /* a fresh SSTORE ran */
    call.data = qcn_view_make(NULL, 0);
    assert_int_equal(qcn_chain_call(e.c, &out, &call), QCN_OK);
    assert_int_equal(out.status, QCN_CHAIN_CALL_SUCCESS);
    assert_int_equal(out.output.len, 32);
    assert_int_equal(qcn_load_be64(out.output.p + 24), 0); /* the write above was dropped */
    qcn_statedb_root(qcn_chain_state(e.c), root1);
    assert_memory_equal(root0, root1, 32);
    env_check_root(&e);

    /* A reverting call: status and revert data; the estimate reports it too. */
    word(calldata, 0xdead, 1);
    call.data = qcn_view_make(calldata, 64);
    assert_int_equal(qcn_chain_call(e.c, &out, &call), QCN_OK);
    assert_int_equal(out.status, QCN_CHAIN_CALL_REVERT);
    assert_int_equal(out.output.len, 32);
    assert_int_equal(qcn_load_be64(out.output.p + 24), 0xdead);
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 0), QCN_OK);
    assert_int_equal(est, 0);
    assert_int_equal(out.status, QCN_CHAIN_CALL_REVERT);
    assert_int_equal(qcn_load_be64(out.output.p + 24), 0xdead);
    /* Endless loop: failure at any cap. */
    word(calldata, 1, 2);
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 1000000), QCN_OK);
    assert_int_equal(out.status, QCN_CHAIN_CALL_FAILURE);
    assert_int_equal(est, 0);

    /* The estimate is exactly enough: one gas less fails on chain. */
    word(calldata, 0x7777, 0);
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 0), QCN_OK);
    assert_int_equal(out.status, QCN_CHAIN_CALL_SUCCESS);
    assert_int_equal(env_submit(&e, signed_tx(k, 1, caddr, 0, calldata, 64, est - 1, 0)), QCN_OK);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 0);
    qcn_block_result_clear(&res);
    assert_int_equal(slot_u64(&e, caddr, 0), 0);
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 0), QCN_OK);
    assert_int_equal(env_submit(&e, signed_tx(k, 2, caddr, 0, calldata, 64, est, 0)), QCN_OK);
    assert_int_equal(env_block(&e, &res), 1);
    assert_int_equal(res.receipts[0].status, 1);
    assert_true(res.receipts[0].gas_used <= est);
    /* No refund here: the difference is the 63/64 and SSTORE-sentry slack only. */
    assert_true(est - res.receipts[0].gas_used < 2300 + est / 64);
    qcn_block_result_clear(&res);
    assert_int_equal(slot_u64(&e, caddr, 0), 0x7777);

    /* A transfer estimate is the intrinsic gas alone. */
    memcpy(call.to, e.keys[3].addr, 20);
    call.data = qcn_view_make(NULL, 0);
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 0), QCN_OK);
    {
        struct qcn_tx *tx = env_transfer(&e, k, 3, e.keys[3].addr, 0, 0);
        assert_int_equal(qcn_tx_intrinsic_gas(&ig, tx), QCN_OK);
        qcn_tx_unref(tx);
    }
    assert_int_equal(est, ig);
    /* An account that has never sent a transaction must attach its key. */
    memcpy(call.from, e.keys[4].addr, 20);
    call.scheme = e.keys[4].scheme;
    assert_int_equal(qcn_chain_estimate_gas(e.c, &est, &out, &call, 0), QCN_OK);
    {
        struct qcn_tx *tx = env_transfer(&e, &e.keys[4], 0, e.keys[3].addr, 0, 1);
        assert_int_equal(qcn_tx_intrinsic_gas(&ig, tx), QCN_OK);
        qcn_tx_unref(tx);
    }
    assert_int_equal(est, ig);
    /* Oversized init code is refused, as for a transaction. */
    {
        static uint8_t big[QCN_CHAIN_MAX_INITCODE + 1];
        call.has_to = 0;
        call.data = qcn_view_make(big, sizeof big);
        assert_int_equal(qcn_chain_call(e.c, &out, &call), QCN_ERR_VM_TX_INITCODE);
    }
    qcn_buf_clear(&out.output);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deploy_call_logs_revert_oog),
        cmocka_unit_test(test_block_context),
        cmocka_unit_test(test_refund_and_precompile),
        cmocka_unit_test(test_failed_creation_and_limits),
        cmocka_unit_test(test_call_and_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
