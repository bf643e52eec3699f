/* chain_staking.h - the ledger side of staking (docs/consensus.md §6, §8):
 * transactions to the staking system address (0x...5200) executed through
 * chain/staking.c, and the end-of-block step, against a staking state kept
 * in the storage of the staking system account, in two regions (slot
 * numbers as 256-bit integers):
 *   slot 0              = be256(length of the qcn_staking_encode blob)
 *   slot 1 + i          = bytes [32 i, 32 i + 32) of the blob (zero padded)
 *   slot 2^64           = be256(length of the qcn_staking_params_encode blob)
 *   slot 2^64 + 1 + i   = its bytes, the same way
 * so both are covered by the state root (the parameters by block 0's hash)
 * and written in the block's one store transaction (crash-safe like every
 * other state change). No slot 0 = no staking state: the end-of-block step
 * is then a no-op, so chains without staking keep their roots. No
 * parameters stored = qcn_staking_params_default. The genesis writes both
 * when its file has a "staking" object or "validators"
 * (qcn_chain_staking_genesis). Not thread-safe (one chain, its owner's
 * thread). */
#ifndef QCN_CHAIN_CHAIN_STAKING_H
#define QCN_CHAIN_CHAIN_STAKING_H

#include <stdint.h>

#include "chain/chain.h"
#include "chain/staking.h"

/* Gas of a staking operation on top of the intrinsic gas. */
#define QCN_CHAIN_STAKING_OP_GAS 25000u
/* Cap on the stored blob (the staking state's own caps keep it far under). */
#define QCN_CHAIN_STAKING_MAX_BLOB (32u * 1024u * 1024u)
#define QCN_CHAIN_STAKING_MAX_PARAMS 1024u
/* Storage regions (the slot's byte 23; layout above). */
#define QCN_CHAIN_STAKING_REGION_STATE 0u
#define QCN_CHAIN_STAKING_REGION_PARAMS 1u

struct qcn_exec;

/* Executes a staking transaction (tx->to is the staking address) in the
 * current block: moves value (whole gwei) from the sender to the staking
 * address, applies the operation and pays its credits. *gas = operation gas.
 * QCN_ERR_STAKING / QCN_ERR_CODEC: the operation failed (the caller reverts
 * to its snapshot: nothing changed); QCN_ERR_NOMEM, QCN_ERR_STORE*,
 * QCN_ERR_STATE (stored blob corrupt): fatal for the block. */
QCN_MUST_CHECK int qcn_chain_staking_tx(struct qcn_chain *c, const struct qcn_exec *x,
                                        const struct qcn_tx *tx, uint64_t *gas);

/* End of block h (build and apply alike): if a staking state exists, runs
 * qcn_staking_end_block with the signers of h's commit certificate (every
 * active validator when h carries none: no liveness information) and pays
 * the payouts. Deterministic in (state, h). */
QCN_MUST_CHECK int qcn_chain_staking_end_block(struct qcn_chain *c, const struct qcn_header *h);

/* The staking state at the head into s (initialised here with the chain's
 * parameters; qcn_staking_clear it). *present = 0 (and s empty) when the
 * chain has none. QCN_ERR_STORE_CORRUPT for a blob that does not decode. */
QCN_MUST_CHECK int qcn_chain_staking_load(struct qcn_chain *c, struct qcn_staking *s, int *present);

/* The chain's staking parameters (stored at genesis, else the defaults). */
QCN_MUST_CHECK int qcn_chain_staking_params(struct qcn_chain *c, struct qcn_staking_params *p);

/* Replaces the stored staking state with s (tests, genesis tooling). */
QCN_MUST_CHECK int qcn_chain_staking_store(struct qcn_chain *c, const struct qcn_staking *s);

/* Block 0's staking (qcn_genesis_build calls it on the genesis state db):
 * nothing when g has neither has_staking nor validators; else g->staking is
 * checked and stored, and every validator added with
 * qcn_staking_genesis_add (self stake = power coins, active at once) and
 * its stake credited to the staking account (escrow). QCN_ERR_BAD_JSON
 * with a message in err (errlen bytes, may be NULL) naming the bad
 * parameter or validator; state errors. */
QCN_MUST_CHECK int qcn_chain_staking_genesis(struct qcn_statedb *db, const struct qcn_genesis *g,
                                             char *err, size_t errlen);

#endif
