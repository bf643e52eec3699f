/* evm.h - the Ethereum Virtual Machine under Cancun rules: message calls and
 * contract creation over a journaled world state (state.h).
 *
 * Two layers:
 *  - qcn_vm_execute() runs one message (a call or a creation) at a given
 *    depth with a gas budget in a block environment. It transfers value,
 *    reverts the state on failure and reports the gas left and the output.
 *    It does no transaction-level accounting (no intrinsic gas, no gas
 *    purchase, no refunds, no fees): the ledger does its own for our chain's
 *    transactions, and tx.h does Ethereum's for state tests.
 *  - tx.h validates and applies an Ethereum-format transaction.
 *
 * A struct qcn_vm is the reusable machine: per-depth stacks and memories,
 * allocated on first use and kept, so the interpreter loop does not allocate
 * once warm. One qcn_vm per thread; not thread-safe. */
#ifndef QCN_VM_EVM_H
#define QCN_VM_EVM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"
#include "vm/state.h"
#include "vm/uint256.h"

#define QCN_VM_MAX_DEPTH 1024 /* deepest message depth (0-based) that may run */
#define QCN_VM_STACK_LIMIT 1024
#define QCN_VM_MAX_MEMORY (1ULL << 32) /* bytes; far beyond any payable gas */
#define QCN_VM_MAX_BLOB_HASHES 6       /* EIP-4844 MAX_BLOB_GAS_PER_BLOCK / GAS_PER_BLOB */

/* The block a message executes in. */
struct qcn_vm_block_env {
    uint8_t coinbase[QCN_VM_ADDRESS_BYTES];
    uint64_t number;
    uint64_t timestamp;
    uint64_t gas_limit;
    uint8_t prevrandao[QCN_U256_BYTES];
    struct qcn_u256 base_fee;
    struct qcn_u256 chain_id;
    struct qcn_u256 blob_base_fee; /* BLOBBASEFEE (EIP-7516); zero on our chain */
    /* BLOCKHASH for number in [current-256, current-1]; NULL: zero. */
    int (*blockhash)(void *ctx, uint64_t number, uint8_t out[QCN_U256_BYTES]);
    void *blockhash_ctx;
};

/* What the transaction contributes to the environment. */
struct qcn_vm_tx_env {
    uint8_t origin[QCN_VM_ADDRESS_BYTES];
    struct qcn_u256 gas_price;                    /* effective gas price (GASPRICE) */
    const uint8_t (*blob_hashes)[QCN_U256_BYTES]; /* BLOBHASH (EIP-4844) */
    size_t nblob_hashes;
};

enum qcn_vm_kind {
    QCN_VM_CALL,
    QCN_VM_CALLCODE,
    QCN_VM_DELEGATECALL,
    QCN_VM_STATICCALL,
    QCN_VM_CREATE,
    QCN_VM_CREATE2,
};

struct qcn_vm_message {
    enum qcn_vm_kind kind;
    int is_static;
    int depth; /* 0 for a transaction's own message */
    int64_t gas;
    uint8_t recipient[QCN_VM_ADDRESS_BYTES];    /* whose storage and balance; ignored for creates */
    uint8_t sender[QCN_VM_ADDRESS_BYTES];       /* CALLER */
    uint8_t code_address[QCN_VM_ADDRESS_BYTES]; /* whose code runs (calls only) */
    struct qcn_u256 value; /* transferred, or the apparent value for DELEGATECALL */
    const uint8_t *input;  /* calldata, or the init code for creates */
    size_t input_len;
    struct qcn_u256 salt; /* CREATE2 */
    /* Depth-0 creates only: the caller has already incremented the
     * sender's nonce for this transaction (our ledger does so before the
     * VM runs); the address is then derived from nonce - 1 and the nonce is
     * not incremented again. 0 (state tests): derive from the current nonce
     * and increment it. */
    int nonce_bumped;
};

enum qcn_vm_status {
    QCN_VM_SUCCESS = 0,
    QCN_VM_REVERT = 1,  /* REVERT: state undone, unused gas returned */
    QCN_VM_FAILURE = 2, /* exceptional halt: state undone, all gas consumed */
};

struct qcn_vm_result {
    enum qcn_vm_status status;
    int64_t gas_left;
    const uint8_t *output; /* valid until the next qcn_vm_execute on this vm */
    size_t output_len;
    uint8_t created[QCN_VM_ADDRESS_BYTES]; /* new contract address (creates) */
};

struct qcn_vm;

/* Allocates a machine. Returns NULL on allocation failure. */
struct qcn_vm *qcn_vm_new(void);
void qcn_vm_free(struct qcn_vm *vm);

/* Writes an EIP-3155-style JSON line per executed opcode to f (NULL: off).
 * gasCost in the trace is the opcode's static cost. */
void qcn_vm_set_trace(struct qcn_vm *vm, FILE *f);

/* Restricts precompiles to Ethereum's 0x01-0x0a (on: state tests, whose
 * contracts live at addresses such as 0x0100 where our own post-quantum
 * precompiles sit). Off by default. */
void qcn_vm_set_ethereum_only(struct qcn_vm *vm, int on);

/* The precompile id of addr as this vm sees it (see precompile.h), or 0. */
int qcn_vm_precompile_id(const struct qcn_vm *vm, const uint8_t addr[QCN_VM_ADDRESS_BYTES]);

/* Executes msg over st. Returns QCN_OK with *res filled (the status says
 * whether the message succeeded), or an error when the state backend or an
 * allocation failed; the transaction must then be abandoned. For creates the
 * address is derived here (Yellow Paper 7, EIP-1014) and the sender's nonce
 * incremented (unless msg->nonce_bumped). Warm sets are the caller's job at
 * depth 0 (qcn_vm_warm_tx). The refund counter (qcn_vm_state_refund) must be
 * read before qcn_vm_state_finalize_tx, which resets it; the EIP-3529 cap
 * (gas used / 5) is the caller's. */
QCN_MUST_CHECK int qcn_vm_execute(struct qcn_vm *vm, struct qcn_vm_state *st,
                                  const struct qcn_vm_block_env *block,
                                  const struct qcn_vm_tx_env *tx, const struct qcn_vm_message *msg,
                                  struct qcn_vm_result *res);

/* One EIP-2930 access-list entry: an address and its storage keys. */
struct qcn_vm_access_entry {
    uint8_t addr[QCN_VM_ADDRESS_BYTES];
    const uint8_t (*keys)[QCN_U256_BYTES];
    size_t nkeys;
};

/* Warms what a transaction starts with (EIP-2929, EIP-2930, EIP-3651): the
 * active precompiles, the coinbase, the sender, the recipient (to may be
 * NULL for a creation) and the access list. Call after
 * qcn_vm_state_begin_tx(). Returns QCN_OK or a state error. */
QCN_MUST_CHECK int qcn_vm_warm_tx(const struct qcn_vm *vm, struct qcn_vm_state *st,
                                  const struct qcn_vm_block_env *block,
                                  const uint8_t sender[QCN_VM_ADDRESS_BYTES], const uint8_t *to,
                                  const struct qcn_vm_access_entry *access, size_t naccess);

/* CREATE address: keccak256(rlp([sender, nonce]))[12:]. */
void qcn_vm_create_address(uint8_t out[QCN_VM_ADDRESS_BYTES],
                           const uint8_t sender[QCN_VM_ADDRESS_BYTES], uint64_t nonce);
/* CREATE2 address (EIP-1014): keccak256(0xff ++ sender ++ salt ++ keccak256(init))[12:]. */
void qcn_vm_create2_address(uint8_t out[QCN_VM_ADDRESS_BYTES],
                            const uint8_t sender[QCN_VM_ADDRESS_BYTES],
                            const uint8_t salt[QCN_U256_BYTES], const uint8_t *init, size_t len);

/* Gas helpers (exposed for tests and the transaction layer). */
/* Total memory cost for a memory of `words` 32-byte words: 3w + w^2/512. */
static inline int64_t qcn_vm_memory_cost(uint64_t words)
{
    return (int64_t)(3 * words + words * words / 512);
}
/* EIP-150: all but one 64th. */
static inline int64_t qcn_vm_all_but_64th(int64_t gas)
{
    return gas - gas / 64;
}

#endif
