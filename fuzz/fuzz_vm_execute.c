/* libFuzzer target: arbitrary bytecode and calldata run as an Ethereum
 * transaction (tx.h) against a small state, with a gas cap. The contract
 * can call itself, a twin with the same code, the precompiles, create
 * contracts and self-destruct. Must never crash, leak or trip a sanitizer;
 * afterwards the change walk must visit a consistent state.
 *
 * Input layout: byte 0 = calldata length (0..255), then the calldata, then
 * the code. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vm/evm.h"
#include "vm/state.h"
#include "vm/tx.h"

#define FUZZ_GAS 300000
#define FUZZ_MAX_CODE 24576

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_account(void *ctx, const struct qcn_vm_account *a, int deleted)
{
    size_t *n = ctx;
    (void)a;
    (void)deleted;
    (*n)++;
    return 0;
}

static int on_slot(void *ctx, const struct qcn_vm_account *a, const uint8_t key[32],
                   const uint8_t value[32])
{
    size_t *n = ctx;
    (void)a;
    (void)key;
    (void)value;
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t contract[20] = {0xc0, 0xde};
    static const uint8_t twin[20] = {0xc0, 0xdf};
    static const uint8_t sender[20] = {0x5e, 0x4d};
    struct qcn_vm *vm;
    struct qcn_vm_state *st;
    struct qcn_vm_block_env blk;
    struct qcn_vm_eth_tx tx;
    struct qcn_vm_tx_result res;
    struct qcn_u256 rich = qcn_u256_from_u64(1000000000000ULL), some = qcn_u256_from_u64(7);
    struct qcn_u256 k = qcn_u256_from_u64(1);
    struct qcn_vm_change_visitor v;
    size_t calldata_len, code_len, visited = 0;

    if (size < 1)
        return 0;
    calldata_len = data[0];
    if (calldata_len > size - 1)
        calldata_len = size - 1;
    code_len = size - 1 - calldata_len;
    if (code_len > FUZZ_MAX_CODE)
        code_len = FUZZ_MAX_CODE;

    vm = qcn_vm_new();
    st = qcn_vm_state_new(NULL);
    if (vm == NULL || st == NULL)
        goto out;
    if (qcn_vm_state_seed_account(st, contract, 1, &some, data + 1 + calldata_len, code_len) !=
            QCN_OK ||
        qcn_vm_state_seed_account(st, twin, 1, &some, data + 1 + calldata_len, code_len) !=
            QCN_OK ||
        qcn_vm_state_seed_storage(st, contract, &k, &some) != QCN_OK ||
        qcn_vm_state_seed_account(st, sender, 0, &rich, NULL, 0) != QCN_OK)
        goto out;

    memset(&blk, 0, sizeof blk);
    blk.gas_limit = 30000000;
    blk.number = 100;
    blk.timestamp = 1000;
    blk.base_fee = qcn_u256_from_u64(1);
    blk.chain_id = qcn_u256_from_u64(1);
    blk.blob_base_fee = qcn_u256_from_u64(1);
    blk.coinbase[0] = 0xcb;

    memset(&tx, 0, sizeof tx);
    tx.type = 2;
    memcpy(tx.sender, sender, 20);
    memcpy(tx.to, contract, 20);
    tx.gas_limit = FUZZ_GAS;
    tx.max_fee = qcn_u256_from_u64(2);
    tx.max_priority_fee = qcn_u256_from_u64(1);
    tx.value = qcn_u256_from_u64(calldata_len);
    tx.data = data + 1;
    tx.data_len = calldata_len;

    if (qcn_vm_eth_tx_apply(vm, st, &blk, &tx, &res) == QCN_OK) {
        if (res.gas_used > FUZZ_GAS)
            __builtin_trap();
        memset(&v, 0, sizeof v);
        v.ctx = &visited;
        v.account = on_account;
        v.slot = on_slot;
        (void)qcn_vm_state_walk_changes(st, &v);
        qcn_vm_state_clear_dirty(st);
    }
out:
    qcn_vm_free(vm);
    qcn_vm_state_free(st);
    return 0;
}
