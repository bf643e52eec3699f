/* libFuzzer target, differential: arbitrary bytecode and calldata run as a
 * transaction twice, once over the EVM's own overlay (state root from
 * qcn_vm_state_root_all) and once over the ledger's qcn_statedb through
 * vm/statedb_glue.h (root from its incremental trie). The roots must agree;
 * nothing may crash or leak.
 *
 * Input layout as fuzz_vm_execute: byte 0 = calldata length, calldata, code. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/account.h"
#include "state/statedb.h"
#include "state/statedb_mem.h"
#include "vm/evm.h"
#include "vm/statedb_glue.h"
#include "vm/statetest.h"
#include "vm/tx.h"

#define FUZZ_GAS 60000
#define FUZZ_MAX_CODE 24576

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t contract[20] = {0xc0, 0xde};
static const uint8_t sender[20] = {0x5e, 0x4d};

static void setup(struct qcn_vm_block_env *blk, struct qcn_vm_eth_tx *tx, const uint8_t *cd,
                  size_t cdlen)
{
    memset(blk, 0, sizeof *blk);
    blk->gas_limit = 30000000;
    blk->number = 100;
    blk->base_fee = qcn_u256_from_u64(1);
    blk->chain_id = qcn_u256_from_u64(1);
    blk->coinbase[0] = 0xcb;
    memset(tx, 0, sizeof *tx);
    tx->type = 2;
    memcpy(tx->sender, sender, 20);
    memcpy(tx->to, contract, 20);
    tx->gas_limit = FUZZ_GAS;
    tx->max_fee = qcn_u256_from_u64(2);
    tx->max_priority_fee = qcn_u256_from_u64(1);
    tx->value = qcn_u256_from_u64(cdlen);
    tx->data = cd;
    tx->data_len = cdlen;
}

static int commit(struct qcn_memstore *ms, struct qcn_statedb *db, uint8_t root[32])
{
    struct qcn_writeset ws;
    int err;
    qcn_writeset_init(&ws);
    err = qcn_statedb_commit(db, root, &ws);
    if (err == QCN_OK)
        err = qcn_memstore_apply(ms, &ws);
    if (err == QCN_OK)
        qcn_statedb_finalize(db);
    qcn_writeset_clear(&ws);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qcn_vm *vm = NULL;
    struct qcn_vm_state *mem = NULL, *st = NULL;
    struct qcn_memstore *ms = NULL;
    struct qcn_statedb *db = NULL;
    struct qcn_vm_block_env blk;
    struct qcn_vm_eth_tx tx;
    struct qcn_vm_tx_result res;
    struct qcn_vm_state_backend be;
    struct qcn_account acc;
    struct qcn_u256 rich = qcn_u256_from_u64(1000000000000ULL), some = qcn_u256_from_u64(7);
    struct qcn_u256 k = qcn_u256_from_u64(1);
    uint8_t root_mem[32], root_db[32], key[32] = {0}, val[32] = {0};
    const uint8_t *code;
    size_t cdlen, code_len;
    int e1, e2;

    if (size < 1)
        return 0;
    cdlen = data[0];
    if (cdlen > size - 1)
        cdlen = size - 1;
    code = data + 1 + cdlen;
    code_len = size - 1 - cdlen;
    if (code_len > FUZZ_MAX_CODE)
        code_len = FUZZ_MAX_CODE;
    setup(&blk, &tx, data + 1, cdlen);

    vm = qcn_vm_new();
    mem = qcn_vm_state_new(NULL);
    if (vm == NULL || mem == NULL || qcn_memstore_new(&ms) != QCN_OK ||
        qcn_statedb_new(&db, qcn_memstore_reader(ms), qcn_empty_trie_root) != QCN_OK)
        goto out;

    /* The same pre state both ways. */
    if (qcn_vm_state_seed_account(mem, contract, 1, &some, code, code_len) != QCN_OK ||
        qcn_vm_state_seed_storage(mem, contract, &k, &some) != QCN_OK ||
        qcn_vm_state_seed_account(mem, sender, 0, &rich, NULL, 0) != QCN_OK)
        goto out;
    qcn_account_init(&acc);
    acc.nonce = 1;
    acc.balance = some;
    if (code_len > 0 && qcn_statedb_code_put(db, code, code_len, acc.code_hash) != QCN_OK)
        goto out;
    key[31] = 1;
    val[31] = 7;
    if (qcn_statedb_account_put(db, contract, &acc) != QCN_OK ||
        qcn_statedb_storage_set(db, contract, key, val) != QCN_OK)
        goto out;
    qcn_account_init(&acc);
    acc.balance = rich;
    if (qcn_statedb_account_put(db, sender, &acc) != QCN_OK || commit(ms, db, root_db) != QCN_OK)
        goto out;

    e1 = qcn_vm_eth_tx_apply(vm, mem, &blk, &tx, &res);
    be = qcn_vm_statedb_backend(db);
    st = qcn_vm_state_new(&be);
    if (st == NULL)
        goto out;
    e2 = qcn_vm_eth_tx_apply(vm, st, &blk, &tx, &res);
    if (e1 != e2)
        abort();
    if (e1 != QCN_OK)
        goto out;
    if (qcn_vm_state_write_statedb(st, db) != QCN_OK || commit(ms, db, root_db) != QCN_OK ||
        qcn_vm_state_root_all(root_mem, mem) != QCN_OK)
        goto out;
    if (memcmp(root_mem, root_db, 32) != 0)
        abort();
out:
    qcn_vm_state_free(st);
    qcn_vm_state_free(mem);
    qcn_statedb_free(db);
    qcn_memstore_free(ms);
    qcn_vm_free(vm);
    return 0;
}
