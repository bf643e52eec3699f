/* evm.h - struct qcn_rpc_backend's exec over our EVM (src/vm): a message run
 * on a throw-away journaled overlay (vm/state.h) whose committed state is read
 * through another backend's account, code and storage functions. Nothing is
 * ever written back. Kept apart from the dispatcher so that code which does
 * not execute contracts (the fuzzer's in-memory chain) does not link the EVM.
 * Not thread-safe: one struct qcn_rpc_evm per thread (the loop thread). */
#ifndef QCN_RPC_EVM_H
#define QCN_RPC_EVM_H

#include "rpc/rpc.h"

struct qcn_rpc_evm;

/* state: the account/code/storage functions to read (copied; exec unused).
 * QCN_ERR_NOMEM. */
QCN_MUST_CHECK int qcn_rpc_evm_new(struct qcn_rpc_evm **out, const struct qcn_rpc_backend *state);
void qcn_rpc_evm_free(struct qcn_rpc_evm *e);

/* The exec function: user is the struct qcn_rpc_evm. */
int qcn_rpc_evm_exec(void *user, const struct qcn_header *head, const struct qcn_rpc_exec_msg *m,
                     enum qcn_rpc_exec_status *status, uint64_t *gas_used, struct qcn_buf *out);

#endif
