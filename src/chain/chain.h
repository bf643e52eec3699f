/* chain.h - the ledger rules: transaction validation, fees (EIP-1559),
 * execution of native transactions, block building and applying, genesis.
 *
 * Flow for the node (one loop thread owns the chain):
 *   genesis:  qcn_genesis_parse_json -> qcn_genesis_build(&res) -> store writes
 *             res.writes in one transaction -> qcn_chain_open(head = genesis header)
 *   produce:  qcn_chain_block_build(chain, mempool, args, &res)
 *   import:   qcn_block_decode -> qcn_chain_block_apply(chain, &blk, &res)
 *   then:     the store writes res.writes in ONE write transaction, and
 *             on success qcn_chain_block_commit_done(chain, &res, mempool),
 *             on failure qcn_chain_block_abort(chain, &res);
 *             finally qcn_block_result_clear(&res).
 * Only one block may be pending (built or applied, not yet done/aborted).
 *
 * Contract creation and calls to accounts with code (or to a precompile) are
 * delegated to a VM hook (qcn_chain_set_vm). qcn_chain_open installs the
 * built-in EVM (src/vm, chain/evm_exec.c; docs/contracts.md); a chain whose
 * hook was removed (qcn_chain_set_vm(c, NULL)) rejects such transactions with
 * QCN_ERR_TX_VM_UNAVAILABLE, at admission and in blocks. */
#ifndef QCN_CHAIN_CHAIN_H
#define QCN_CHAIN_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "chain/staking.h"
#include "codec/block.h"
#include "codec/receipt.h"
#include "codec/tx.h"
#include "state/statedb.h"
#include "state/statedb_batch.h"
#include "util/err.h"

/* Gas schedule (docs/protocol.md §3). */
#define QCN_GAS_TX 21000u              /* base, as Ethereum */
#define QCN_GAS_TX_CREATE 32000u       /* extra for creation */
#define QCN_GAS_DATA_ZERO 4u           /* EIP-2028 */
#define QCN_GAS_DATA_NONZERO 16u       /* EIP-2028 */
#define QCN_GAS_INITCODE_WORD 2u       /* EIP-3860 */
#define QCN_GAS_ACCESS_ADDRESS 2400u   /* EIP-2930 */
#define QCN_GAS_ACCESS_KEY 1900u       /* EIP-2930 */
#define QCN_GAS_SIG_BYTE 16u           /* per signature byte carried */
#define QCN_GAS_PUBKEY_BYTE 16u        /* per public-key byte carried */
#define QCN_GAS_SIG_VERIFY 3000u       /* per signature verified */
#define QCN_GAS_KEY_RECORD 20000u      /* key manager: record/replace a key */
#define QCN_GAS_MULTISIG_CREATE 32000u /* key manager: new multisig account */
/* EIP-1559 */
#define QCN_BASE_FEE_CHANGE_DENOMINATOR 8u
#define QCN_ELASTICITY_MULTIPLIER 2u

/* The key-manager system address: transactions to it carry key operations in
 * data (docs/protocol.md §7). 0x...5100, outside Ethereum's precompile range. */
extern const uint8_t qcn_key_manager_address[QCN_ADDRESS_BYTES];
enum qcn_key_op {
    QCN_KEY_OP_ROTATE = 1,          /* data = RLP([1, scheme, public_key]) */
    QCN_KEY_OP_MULTISIG_CREATE = 2, /* data = RLP([2, threshold, [[scheme, pk], ...]]) */
    QCN_KEY_OP_MULTISIG_SET = 3,    /* data = RLP([3, threshold, [[scheme, pk], ...]]) */
};

struct qcn_chain_params {
    uint64_t chain_id;
    uint64_t block_gas_limit;
    uint64_t initial_base_fee; /* base fee of block 1 */
    uint64_t min_base_fee;     /* floor of the EIP-1559 update */
};
/* META "params" value: RLP([chain_id, block_gas_limit, initial_base_fee, min_base_fee]). */
QCN_MUST_CHECK int qcn_chain_params_encode(struct qcn_buf *b, const struct qcn_chain_params *p);
QCN_MUST_CHECK int qcn_chain_params_decode(struct qcn_chain_params *p, struct qcn_view in);

/* Everything one block produces. writes holds every row to commit
 * (state/statedb_batch.h): state (TRIE, ACCOUNT, STORAGE, CODE, KEYREC,
 * ACCKEY), HEADER, BODY, RECEIPTS, CANON, TXINDEX and META "head" (plus META
 * "params" and "genesis" for block 0). The node stages every write into one
 * store batch and commits it in one transaction. */
struct qcn_block_result {
    struct qcn_block block;
    struct qcn_receipt *receipts; /* block.ntx of them */
    struct qcn_writeset writes;
};
void qcn_block_result_init(struct qcn_block_result *r);
void qcn_block_result_clear(struct qcn_block_result *r);

/* Genesis (docs/protocol.md §8). */
struct qcn_genesis_alloc {
    uint8_t address[QCN_ADDRESS_BYTES];
    struct qcn_u256 balance;
    uint64_t nonce;
    uint8_t *key_record; /* optional, owned; encoded codec/keyrec.h */
    size_t key_record_len;
};
/* A genesis validator (docs/consensus.md §6): staked and active from block 0,
 * self stake = power coins held in the staking account's escrow. */
struct qcn_genesis_validator {
    uint8_t pubkey[QCN_VOTE_PK_BYTES];        /* ML-DSA-65 consensus identity */
    uint8_t operator_addr[QCN_ADDRESS_BYTES]; /* default: the identity's address */
    uint8_t beacon_tip[32];
    uint64_t power; /* coins */
    uint32_t commission_bps;
};
struct qcn_genesis {
    struct qcn_chain_params params;
    uint64_t timestamp;
    size_t extra_len;
    uint8_t extra[QCN_HEADER_MAX_EXTRA];
    size_t nalloc;
    struct qcn_genesis_alloc *alloc;
    /* Staking (chain/chain_staking.h): has_staking when the file has a
     * "staking" object (staking = its values over the defaults, else the
     * defaults); validators from "validators". A genesis with neither writes
     * no staking state (dev chains keep their roots). */
    int has_staking;
    struct qcn_staking_params staking;
    size_t nvalidators;
    struct qcn_genesis_validator *validators;
};
#define QCN_GENESIS_MAX_BYTES (64u * 1024u * 1024u)
#define QCN_GENESIS_MAX_ALLOC 1000000u
#define QCN_GENESIS_MAX_VALIDATORS QCN_STAKING_MAX_CANDIDATES
/* Parses genesis JSON. QCN_ERR_BAD_JSON with a message in err (may be NULL,
 * errlen bytes) naming the bad field. */
QCN_MUST_CHECK int qcn_genesis_parse_json(struct qcn_genesis *out, const char *json, size_t len,
                                          char *err, size_t errlen);
void qcn_genesis_clear(struct qcn_genesis *g);
/* Builds block 0 and its writes (state, header, META "params" and "head"). */
QCN_MUST_CHECK int qcn_genesis_build(const struct qcn_genesis *g, struct qcn_block_result *out);

/* The chain: rules plus the head state. Not thread-safe (loop thread). */
struct qcn_chain;
struct qcn_mempool;

/* Opens the chain at head (copied) over the committed store rd (must outlive
 * the chain; must show the state at head). */
QCN_MUST_CHECK int qcn_chain_open(struct qcn_chain **out, const struct qcn_chain_params *p,
                                  const struct qcn_state_reader *rd, const struct qcn_header *head);
void qcn_chain_free(struct qcn_chain *c);
const struct qcn_chain_params *qcn_chain_params(const struct qcn_chain *c);
const struct qcn_header *qcn_chain_head(const struct qcn_chain *c);
void qcn_chain_head_hash(const struct qcn_chain *c, uint8_t out[QCN_HASH_BYTES]);
/* Base fee the next block must carry (EIP-1559 from the head). */
uint64_t qcn_chain_next_base_fee(const struct qcn_chain *c);
/* EIP-1559 update rule: base fee of a child of a block with these values. */
uint64_t qcn_chain_base_fee_next(const struct qcn_chain_params *p, uint64_t parent_base_fee,
                                 uint64_t parent_gas_used, uint64_t parent_gas_limit);

/* Head-state reads (committed head; no pending block). */
QCN_MUST_CHECK int qcn_chain_account_get(struct qcn_chain *c, struct qcn_account *out,
                                         const uint8_t addr[QCN_ADDRESS_BYTES]);
/* QCN_ERR_NOT_FOUND when the address has no recorded key. */
QCN_MUST_CHECK int qcn_chain_key_get(struct qcn_chain *c, uint8_t key_hash[QCN_HASH_BYTES],
                                     struct qcn_buf *rec, const uint8_t addr[QCN_ADDRESS_BYTES]);
/* The state database (head state; for the VM and RPC; do not hold across blocks). */
struct qcn_statedb *qcn_chain_state(struct qcn_chain *c);

/* Counters since open (for tests, metrics and benchmarks). */
struct qcn_chain_stats {
    uint64_t blocks;          /* committed (commit_done) */
    uint64_t txs;             /* committed transactions */
    uint64_t exec_verifies;   /* signatures verified during execution (not reused) */
    uint64_t batch_verifies;  /* verified in parallel before applying a block */
    uint64_t reused_verifies; /* executions that reused an earlier verification */
};
void qcn_chain_stats_get(const struct qcn_chain *c, struct qcn_chain_stats *out);

/* Intrinsic gas (docs/protocol.md §3); QCN_ERR_OVERFLOW is impossible under
 * the caps but still checked. */
QCN_MUST_CHECK int qcn_tx_intrinsic_gas(uint64_t *gas, const struct qcn_tx *tx);

/* Admission step 1 (loop thread): stateless checks against the chain rules
 * (chain id, scheme, fee fields, gas limit vs. intrinsic and block gas, VM
 * availability) and resolution of the sender's key from the head state into
 * tx->key_record (recorded key, or the attached public key checked against
 * the address). Specific errors: QCN_ERR_TX_WRONG_CHAIN, _UNKNOWN_SCHEME,
 * _MALFORMED, _INTRINSIC_GAS, _GAS_LIMIT, _KEY_MISMATCH, _MISSING_KEY,
 * _VM_UNAVAILABLE. Step 2 is qcn_tx_verify (chain/verify.h, any thread),
 * step 3 qcn_mempool_add. */
QCN_MUST_CHECK int qcn_chain_tx_prepare(struct qcn_chain *c, struct qcn_tx *tx);

/* The VM hook: executes a transaction whose target has code or that creates a
 * contract. Called after the fee was charged and the nonce bumped; returns
 * QCN_OK with status (1 ok, 0 reverted/failed), gas used (<= gas_available)
 * and logs added to receipt; any other error invalidates the block. */
struct qcn_chain_vm {
    void *ctx;
    int (*execute)(void *ctx, struct qcn_statedb *db, const struct qcn_header *hdr,
                   const struct qcn_tx *tx, uint64_t gas_available, uint8_t *status,
                   uint64_t *gas_used, struct qcn_receipt *receipt);
};
void qcn_chain_set_vm(struct qcn_chain *c, const struct qcn_chain_vm *vm);
/* The installed hook (execute NULL when none): lets a caller wrap it. */
void qcn_chain_get_vm(const struct qcn_chain *c, struct qcn_chain_vm *out);

/* ---- Contracts (chain/evm_exec.c, docs/contracts.md) ----
 *
 * The built-in hook runs the transaction's message through the EVM over the
 * chain's statedb: block context COINBASE = header proposer, PREVRANDAO =
 * header mix, CHAINID = params chain id, BASEFEE = header base fee, NUMBER,
 * TIMESTAMP, GASLIMIT from the header, BLOCKHASH from the canonical index;
 * GASPRICE = the effective price; creation addresses keccak(rlp([sender,
 * nonce]))[12:] (CREATE2 inside the VM); refund capped at a fifth of the
 * transaction's gas (EIP-3529); logs into the receipt. A transaction whose
 * logs exceed the receipt caps (codec/receipt.h; at most
 * QCN_CHAIN_MAX_LOG_BYTES in all) fails as if out of gas. */
#define QCN_CHAIN_MAX_LOG_BYTES (QCN_RECEIPT_MAX_BYTES - 4096u)
/* EIP-3860 init code limit (2 x EIP-170's 24576): larger creations are invalid. */
#define QCN_CHAIN_MAX_INITCODE 49152u

/* (Re)installs the built-in EVM as c's VM hook (qcn_chain_open does it).
 * QCN_ERR_NOMEM. Loop thread. */
QCN_MUST_CHECK int qcn_chain_evm_attach(struct qcn_chain *c);
/* 1 if addr is an active EVM precompile (a call to it runs the VM). */
int qcn_chain_is_precompile(const uint8_t addr[QCN_ADDRESS_BYTES]);

/* A message run against the head state without committing anything
 * (eth_call, eth_estimateGas). */
struct qcn_chain_call {
    uint8_t from[QCN_ADDRESS_BYTES]; /* CALLER and ORIGIN (zero address if unknown) */
    int has_to;                      /* 0: creation, data is the init code */
    uint8_t to[QCN_ADDRESS_BYTES];
    struct qcn_u256 value;
    struct qcn_view data;
    struct qcn_view access_list; /* EIP-2930 RLP list, or empty */
    uint64_t gas;                /* execution gas (after intrinsic); 0 = block gas limit */
    uint64_t timestamp;          /* TIMESTAMP; raised to the head's (0 = the head's) */
    uint8_t scheme;              /* intrinsic gas of an unrecorded sender; 0 = default */
};
enum {
    QCN_CHAIN_CALL_SUCCESS = 0,
    QCN_CHAIN_CALL_REVERT = 1,  /* REVERT: output holds the revert data */
    QCN_CHAIN_CALL_FAILURE = 2, /* exceptional halt (out of gas, invalid opcode, ...) */
};
struct qcn_chain_call_result {
    int status;
    uint64_t gas_used;                  /* execution gas consumed, before any refund */
    uint64_t refund;                    /* refund counter at the end (EIP-3529 cap not applied) */
    uint8_t created[QCN_ADDRESS_BYTES]; /* creations: the new address */
    struct qcn_buf output; /* caller-initialised (qcn_buf_init); its cap bounds the output */
};

/* Runs call against the head state in the context of the next block (NUMBER
 * = head + 1, BASEFEE = the next base fee, GASLIMIT = the block gas limit;
 * COINBASE and PREVRANDAO are the head's, TIMESTAMP as call->timestamp),
 * then drops every change. A call to an account without code is a plain
 * transfer (SUCCESS if the sender holds the value, output empty). A
 * creation's output is the deployed code. Returns QCN_OK with out filled
 * (status says how the message ended), QCN_ERR_TOO_LARGE when the output did
 * not fit out->output (the rest of out is valid), QCN_ERR_VM_TX_INITCODE,
 * QCN_ERR_TX_VM_UNAVAILABLE, or a state error. Loop thread; reads the head
 * state (or a pending block's, between build and commit). */
QCN_MUST_CHECK int qcn_chain_call(struct qcn_chain *c, struct qcn_chain_call_result *out,
                                  const struct qcn_chain_call *call);

/* Intrinsic gas a transaction carrying call would pay (qcn_tx_intrinsic_gas):
 * data, creation, access list, and the signatures of call->from's recorded
 * key (a multisig's threshold of its first keys), or, without a record, one
 * signature of call->scheme plus the attached public key. */
QCN_MUST_CHECK int qcn_chain_call_intrinsic_gas(struct qcn_chain *c, uint64_t *gas,
                                                const struct qcn_chain_call *call);

/* Gas limit a transaction carrying call needs: the intrinsic gas plus the
 * least execution gas with which the message succeeds (binary search up to
 * cap, 0 = block gas limit). QCN_OK with *gas > 0 and out->status SUCCESS;
 * QCN_OK with *gas = 0 and out->status REVERT (out->output = revert data,
 * e.g. Error(string)) or FAILURE when it fails even at the cap;
 * QCN_ERR_TX_INTRINSIC_GAS when the intrinsic gas exceeds cap; as
 * qcn_chain_call otherwise. A transaction sent with this gas limit uses at
 * most this much (less by the refund and the 63/64 slack; docs/contracts.md). */
QCN_MUST_CHECK int qcn_chain_estimate_gas(struct qcn_chain *c, uint64_t *gas,
                                          struct qcn_chain_call_result *out,
                                          const struct qcn_chain_call *call, uint64_t cap);

/* Optional: a verification pool (chain/verify.h) used by qcn_chain_block_apply
 * to check, in parallel, the signatures of block transactions not already
 * verified (by the mempool). NULL: verify on the calling thread. */
struct qcn_verify_pool;
void qcn_chain_set_verify_pool(struct qcn_chain *c, struct qcn_verify_pool *pool);

struct qcn_build_args {
    uint64_t timestamp; /* seconds; raised to the parent's if lower */
    uint8_t proposer[QCN_ADDRESS_BYTES];
    uint8_t mix[QCN_HASH_BYTES];
    const uint8_t *commit; /* previous block's commit certificate (may be NULL) */
    size_t commit_len;
    const uint8_t *extra;
    size_t extra_len;
    size_t max_txs; /* 0 = no cap beyond gas */
};

/* Builds the next block from the mempool (by effective tip, nonce order per
 * sender, within the gas limit; a transaction that fails validation is skipped
 * and dropped from the pool), executes it, fills every root and returns the
 * block and its writes. */
QCN_MUST_CHECK int qcn_chain_block_build(struct qcn_chain *c, struct qcn_mempool *mp,
                                         const struct qcn_build_args *args,
                                         struct qcn_block_result *out);

/* Validates and executes blk on top of the head: parent, height, timestamp,
 * gas limit, base fee, every transaction (signatures verified unless already
 * verified against the same key record, e.g. by the mempool), gas used,
 * transactions/receipts/state roots, bloom. On success blk's contents move
 * into out->block (blk is left empty). On failure the chain is unchanged and
 * the error says why (QCN_ERR_BLOCK_*, a QCN_ERR_TX_* of the offending
 * transaction, QCN_ERR_STATE_ROOT). mp may be NULL; when given, transactions
 * found in it reuse its verified copies. */
QCN_MUST_CHECK int qcn_chain_block_apply(struct qcn_chain *c, struct qcn_mempool *mp,
                                         struct qcn_block *blk, struct qcn_block_result *out);

/* The store committed res->writes: advance the head, keep the new state, and
 * (mp not NULL) drop included and now-stale transactions from the pool. */
void qcn_chain_block_commit_done(struct qcn_chain *c, const struct qcn_block_result *res,
                                 struct qcn_mempool *mp);
/* The store did not commit: forget the pending block's state. */
void qcn_chain_block_abort(struct qcn_chain *c, const struct qcn_block_result *res);

#endif
