/* chain_internal.h - what chain.c, chain_block.c, genesis.c and mempool.c
 * share. Not part of the chain's public contract. */
#ifndef QCN_CHAIN_CHAIN_INTERNAL_H
#define QCN_CHAIN_CHAIN_INTERNAL_H

#include "chain/chain.h"
#include "chain/verify.h"

struct qcn_chain {
    struct qcn_chain_params params;
    const struct qcn_state_reader *rd;
    struct qcn_statedb *db;
    struct qcn_header head;
    uint8_t head_hash[QCN_HASH_BYTES];
    struct qcn_chain_vm vm;
    int has_vm;
    struct qcn_chain_evm *evm; /* the built-in EVM (evm_exec.c); NULL if never attached */
    struct qcn_verify_pool *pool;
    int pending;        /* a built/applied block awaits commit_done or abort */
    struct qcn_buf tmp; /* key records during execution */
    struct qcn_chain_stats stats;
    struct qcn_writeset_pool *wpool; /* block bodies' arena chunks, reused (statedb_batch.h) */
};

/* Per-block execution context. */
struct qcn_exec {
    const struct qcn_header *header; /* the block being built or applied */
    uint64_t base_fee;
    uint64_t gas_limit;
    uint64_t gas_used;
    uint64_t verifications; /* signatures verified during execution (not reused) */
};

/* Frees c->evm (evm_exec.c). */
void qcn_chain_evm_free(struct qcn_chain *c);

int qcn_chain_tx_static_check(const struct qcn_chain *c, const struct qcn_tx *tx);
/* The sender's key record into rec and its hash into kh (kh may be NULL). */
int qcn_chain_tx_resolve_key(struct qcn_chain *c, struct qcn_buf *rec, uint8_t *kh, int *recorded,
                             const struct qcn_tx *tx);
/* Validates and executes tx in the current block. QCN_OK: included (r filled,
 * status may be 0). Any other error: the transaction is invalid here and the
 * state may hold partial changes: the caller reverts to its snapshot. */
int qcn_chain_tx_execute(struct qcn_chain *c, struct qcn_exec *x, struct qcn_tx *tx,
                         struct qcn_receipt *r);

#endif
