/* evm.c - eth_call's machine: one message on our EVM over a throw-away
 * overlay of committed state (vm/evm.h, vm/state.h). The overlay's backend
 * reads accounts, code and storage through the RPC backend's functions;
 * code is fetched with the account (the RPC backend has no code-by-hash
 * lookup) and kept for the run. */
#include "rpc/evm.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "vm/evm.h"
#include "vm/state.h"

struct qcn_rpc_evm {
    struct qcn_rpc_backend state;
    struct qcn_vm *vm; /* kept between runs: its stacks stay allocated */
};

int qcn_rpc_evm_new(struct qcn_rpc_evm **out, const struct qcn_rpc_backend *state)
{
    struct qcn_rpc_evm *e = calloc(1, sizeof *e);
    *out = NULL;
    if (e == NULL)
        return QCN_ERR_NOMEM;
    e->state = *state;
    e->vm = qcn_vm_new();
    if (e->vm == NULL) {
        free(e);
        return QCN_ERR_NOMEM;
    }
    *out = e;
    return QCN_OK;
}

void qcn_rpc_evm_free(struct qcn_rpc_evm *e)
{
    if (e == NULL)
        return;
    qcn_vm_free(e->vm);
    free(e);
}

struct vm_code_ent {
    struct vm_code_ent *next;
    uint8_t hash[QCN_HASH_BYTES];
    struct qcn_buf code;
};

struct vm_src {
    const struct qcn_rpc_backend *be;
    struct vm_code_ent *codes;
};

static int vm_load_account(void *c, const uint8_t addr[QCN_VM_ADDRESS_BYTES], int *found,
                           uint64_t *nonce, struct qcn_u256 *balance,
                           uint8_t code_hash[QCN_VM_HASH_BYTES], int *has_storage)
{
    struct vm_src *src = c;
    const struct qcn_rpc_backend *b = src->be;
    struct vm_code_ent *e;
    int rc;

    *found = 0;
    *nonce = 0;
    *balance = qcn_u256_from_u64(0);
    *has_storage = 0;
    memcpy(code_hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES);
    rc = b->account(b->user, addr, nonce, balance);
    if (rc != QCN_OK && rc != QCN_ERR_NOT_FOUND)
        return rc;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return QCN_ERR_NOMEM;
    qcn_buf_init(&e->code, QCN_VM_MAX_INITCODE_SIZE);
    rc = b->code != NULL ? b->code(b->user, addr, &e->code) : QCN_ERR_NOT_FOUND;
    if (rc != QCN_OK || e->code.len == 0) {
        qcn_buf_clear(&e->code);
        free(e);
        *found = *nonce != 0 || !qcn_u256_is_zero(balance);
        return rc == QCN_OK || rc == QCN_ERR_NOT_FOUND ? QCN_OK : rc;
    }
    qcn_keccak256(e->hash, e->code.p, e->code.len);
    memcpy(code_hash, e->hash, QCN_HASH_BYTES);
    e->next = src->codes;
    src->codes = e;
    *found = 1;
    return QCN_OK;
}

static int vm_load_storage(void *c, const uint8_t addr[QCN_VM_ADDRESS_BYTES],
                           const uint8_t key[QCN_U256_BYTES], uint8_t value[QCN_U256_BYTES])
{
    struct vm_src *src = c;
    const struct qcn_rpc_backend *b = src->be;
    int rc = b->storage != NULL ? b->storage(b->user, addr, key, value) : QCN_ERR_NOT_FOUND;
    if (rc == QCN_ERR_NOT_FOUND) {
        memset(value, 0, QCN_U256_BYTES);
        return QCN_OK;
    }
    return rc;
}

static int vm_load_code(void *c, const uint8_t code_hash[QCN_VM_HASH_BYTES], struct qcn_buf *out)
{
    struct vm_src *src = c;
    qcn_buf_reset(out);
    for (struct vm_code_ent *e = src->codes; e != NULL; e = e->next)
        if (memcmp(e->hash, code_hash, QCN_HASH_BYTES) == 0)
            return qcn_buf_append(out, e->code.p, e->code.len);
    return QCN_ERR_NOT_FOUND;
}

int qcn_rpc_evm_exec(void *user, const struct qcn_header *head, const struct qcn_rpc_exec_msg *m,
                     enum qcn_rpc_exec_status *status, uint64_t *gas_used, struct qcn_buf *out)
{
    struct qcn_rpc_evm *e = user;
    struct vm_src src = {&e->state, NULL};
    struct qcn_vm_state_backend be = {&src, vm_load_account, vm_load_storage, vm_load_code};
    struct qcn_vm_block_env env;
    struct qcn_vm_tx_env txe;
    struct qcn_vm_message msg;
    struct qcn_vm_result res;
    struct qcn_vm_state *st;
    int err = QCN_OK;

    *status = QCN_RPC_EXEC_FAILURE;
    *gas_used = 0;
    if (e->state.account == NULL)
        return QCN_ERR_UNSUPPORTED;
    st = qcn_vm_state_new(&be);
    if (st == NULL)
        return QCN_ERR_NOMEM;
    memset(&env, 0, sizeof env);
    memcpy(env.coinbase, head->proposer, QCN_ADDRESS_BYTES);
    env.number = head->height;
    env.timestamp = head->timestamp;
    env.gas_limit = head->gas_limit;
    memcpy(env.prevrandao, head->mix, QCN_HASH_BYTES);
    env.base_fee = qcn_u256_from_u64(head->base_fee);
    env.chain_id = qcn_u256_from_u64(m->chain_id);
    memset(&txe, 0, sizeof txe);
    memcpy(txe.origin, m->from, QCN_ADDRESS_BYTES);
    memset(&msg, 0, sizeof msg);
    msg.kind = m->has_to ? QCN_VM_CALL : QCN_VM_CREATE;
    msg.gas = m->gas > INT64_MAX ? INT64_MAX : (int64_t)m->gas;
    memcpy(msg.sender, m->from, QCN_ADDRESS_BYTES);
    if (m->has_to) {
        memcpy(msg.recipient, m->to, QCN_ADDRESS_BYTES);
        memcpy(msg.code_address, m->to, QCN_ADDRESS_BYTES);
    }
    msg.value = qcn_u256_from_be(m->value);
    msg.input = m->data;
    msg.input_len = m->data_len;
    qcn_vm_state_begin_tx(st);
    if (qcn_vm_warm_tx(e->vm, st, &env, m->from, m->has_to ? m->to : NULL, NULL, 0) != QCN_OK ||
        qcn_vm_execute(e->vm, st, &env, &txe, &msg, &res) != QCN_OK) {
        err = qcn_vm_state_error(st) != QCN_OK ? qcn_vm_state_error(st) : QCN_ERR_VM;
        goto out;
    }
    *status = res.status == QCN_VM_SUCCESS  ? QCN_RPC_EXEC_SUCCESS
              : res.status == QCN_VM_REVERT ? QCN_RPC_EXEC_REVERT
                                            : QCN_RPC_EXEC_FAILURE;
    *gas_used = (uint64_t)msg.gas - (uint64_t)(res.gas_left > 0 ? res.gas_left : 0);
    if (msg.kind == QCN_VM_CREATE && res.status == QCN_VM_SUCCESS) {
        /* A creation answers with the code it deployed (as geth does). */
        struct qcn_vm_account *acc = qcn_vm_state_account(st, res.created);
        struct qcn_vm_code *code = acc != NULL ? qcn_vm_state_code(st, acc) : NULL;
        if (code != NULL && code->len > 0)
            err = qcn_buf_append(out, code->bytes, code->len);
    } else if (res.output_len > 0) {
        err = qcn_buf_append(out, res.output, res.output_len);
    }
out:
    qcn_vm_state_free(st);
    while (src.codes != NULL) {
        struct vm_code_ent *c = src.codes;
        src.codes = c->next;
        qcn_buf_clear(&c->code);
        free(c);
    }
    return err;
}
