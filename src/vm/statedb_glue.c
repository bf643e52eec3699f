/* statedb_glue.c - the EVM overlay over the ledger's state database. */
#include "vm/statedb_glue.h"

#include <string.h>

#include "state/account.h"

static int load_account(void *ctx, const uint8_t addr[QCN_VM_ADDRESS_BYTES], int *found,
                        uint64_t *nonce, struct qcn_u256 *balance,
                        uint8_t code_hash[QCN_VM_HASH_BYTES], int *has_storage)
{
    struct qcn_account a;
    int exists = 0, err;
    err = qcn_statedb_account_get(ctx, &a, &exists, addr);
    if (err != QCN_OK)
        return err;
    *found = exists;
    *nonce = a.nonce;
    *balance = a.balance;
    memcpy(code_hash, a.code_hash, QCN_VM_HASH_BYTES);
    *has_storage = memcmp(a.storage_root, qcn_empty_trie_root, QCN_HASH_BYTES) != 0;
    return QCN_OK;
}

static int load_storage(void *ctx, const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                        const uint8_t key[QCN_U256_BYTES], uint8_t value[QCN_U256_BYTES])
{
    return qcn_statedb_storage_get(ctx, value, addr, key);
}

static int load_code(void *ctx, const uint8_t code_hash[QCN_VM_HASH_BYTES], struct qcn_buf *out)
{
    return qcn_statedb_code_get(ctx, out, code_hash);
}

struct qcn_vm_state_backend qcn_vm_statedb_backend(struct qcn_statedb *db)
{
    struct qcn_vm_state_backend be = {db, load_account, load_storage, load_code};
    return be;
}

static int put_account(void *ctx, const struct qcn_vm_account *a, int deleted)
{
    struct qcn_statedb *db = ctx;
    struct qcn_account acc;
    int exists = 0, err;

    /* Keep the storage root the database maintains; replace the rest. */
    err = qcn_statedb_account_get(db, &acc, &exists, a->addr);
    if (err != QCN_OK)
        return err;
    if (deleted) {
        /* Empty under EIP-161: the database drops it (and its storage). */
        qcn_account_init(&acc);
        return qcn_statedb_account_put(db, a->addr, &acc);
    }
    if (a->code != NULL && a->code->len > 0 &&
        memcmp(acc.code_hash, a->code_hash, QCN_VM_HASH_BYTES) != 0) {
        uint8_t h[QCN_HASH_BYTES];
        err = qcn_statedb_code_put(db, a->code->bytes, a->code->len, h);
        if (err != QCN_OK)
            return err;
    }
    acc.nonce = a->nonce;
    acc.balance = a->balance;
    memcpy(acc.code_hash, a->code_hash, QCN_VM_HASH_BYTES);
    return qcn_statedb_account_put(db, a->addr, &acc);
}

static int put_slot(void *ctx, const struct qcn_vm_account *a, const uint8_t key[QCN_U256_BYTES],
                    const uint8_t value[QCN_U256_BYTES])
{
    return qcn_statedb_storage_set(ctx, a->addr, key, value);
}

int qcn_vm_state_write_statedb(struct qcn_vm_state *st, struct qcn_statedb *db)
{
    struct qcn_vm_change_visitor v = {db, put_account, put_slot, NULL};
    int err = qcn_vm_state_walk_changes(st, &v);
    if (err == QCN_OK)
        qcn_vm_state_clear_dirty(st);
    return err;
}
