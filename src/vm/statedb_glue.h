/* statedb_glue.h - runs the EVM over the ledger's state database
 * (state/statedb.h): a backend that reads accounts, storage and code from a
 * struct qcn_statedb, and a write-back of an overlay's changes into it.
 *
 * Use per transaction (or per block):
 *   struct qcn_vm_state_backend be = qcn_vm_statedb_backend(db);
 *   st = qcn_vm_state_new(&be);  begin_tx, warm, qcn_vm_execute, finalize_tx
 *   qcn_vm_state_write_statedb(st, db);   then the ledger commits db as usual.
 * The overlay must not outlive db. Not thread-safe (like both halves). */
#ifndef QCN_VM_STATEDB_GLUE_H
#define QCN_VM_STATEDB_GLUE_H

#include "state/statedb.h"
#include "util/err.h"
#include "vm/state.h"

/* A backend reading from db (which must outlive every state using it). */
struct qcn_vm_state_backend qcn_vm_statedb_backend(struct qcn_statedb *db);

/* Writes every change since the last clear_dirty into db: accounts (nonce,
 * balance, code hash; a deleted account is written as empty, which db drops
 * at commit), new code, and dirty storage slots; then clears the dirty
 * marks. Call after qcn_vm_state_finalize_tx. Returns QCN_OK or db's error
 * (db may then hold part of the changes: revert it to a snapshot taken
 * before). */
QCN_MUST_CHECK int qcn_vm_state_write_statedb(struct qcn_vm_state *st, struct qcn_statedb *db);

#endif
