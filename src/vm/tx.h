/* tx.h - Ethereum-format transactions under Cancun rules, as the state tests
 * define them: legacy, EIP-2930 (access lists), EIP-1559 (fee market) and
 * EIP-4844 (blob-carrying) transactions, validated against the sender's
 * account and the block, then applied: gas purchase, nonce, warm sets,
 * execution (evm.h), refund capped at gasUsed/5 (EIP-3529), the priority
 * fee to the coinbase, and the end-of-transaction deletions.
 *
 * Our own chain's transactions have their own signatures and fee rules: the
 * ledger calls qcn_vm_execute() directly and does not use this file. */
#ifndef QCN_VM_TX_H
#define QCN_VM_TX_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "vm/evm.h"
#include "vm/state.h"
#include "vm/uint256.h"

#define QCN_VM_TX_GAS 21000
#define QCN_VM_TX_CREATE_GAS 32000
#define QCN_VM_TX_DATA_ZERO_GAS 4
#define QCN_VM_TX_DATA_NONZERO_GAS 16
#define QCN_VM_TX_ACCESS_ADDR_GAS 2400
#define QCN_VM_TX_ACCESS_KEY_GAS 1900
#define QCN_VM_GAS_PER_BLOB 131072 /* EIP-4844 */
#define QCN_VM_BLOB_HASH_VERSION 0x01
#define QCN_VM_MAX_REFUND_QUOTIENT 5 /* EIP-3529 */

struct qcn_vm_eth_tx {
    int type; /* 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844 */
    uint8_t sender[QCN_VM_ADDRESS_BYTES];
    int is_create;
    uint8_t to[QCN_VM_ADDRESS_BYTES];
    uint64_t nonce;
    uint64_t gas_limit;
    struct qcn_u256 gas_price;        /* types 0 and 1 */
    struct qcn_u256 max_fee;          /* types 2 and 3 */
    struct qcn_u256 max_priority_fee; /* types 2 and 3 */
    struct qcn_u256 max_fee_per_blob_gas;
    const uint8_t (*blob_hashes)[QCN_U256_BYTES];
    size_t nblob_hashes;
    struct qcn_u256 value;
    const uint8_t *data;
    size_t data_len;
    const struct qcn_vm_access_entry *access_list;
    size_t naccess;
};

struct qcn_vm_tx_result {
    enum qcn_vm_status status;
    uint64_t gas_used;     /* after the refund */
    const uint8_t *output; /* valid until the vm runs again */
    size_t output_len;
    uint8_t created[QCN_VM_ADDRESS_BYTES];
};

/* Blob base fee from the block's excess blob gas (EIP-4844
 * fake_exponential(1, excess, 3338477)). */
void qcn_vm_blob_base_fee(struct qcn_u256 *out, uint64_t excess_blob_gas);

/* Intrinsic gas (Yellow Paper 6.2 with EIP-2028, EIP-2930, EIP-3860).
 * Returns QCN_OK or QCN_ERR_OVERFLOW. */
QCN_MUST_CHECK int qcn_vm_intrinsic_gas(uint64_t *out, const struct qcn_vm_eth_tx *tx);

/* Validates tx against st and block, then applies it and finalizes the
 * transaction in st (qcn_vm_state_finalize_tx; the logs are then in
 * qcn_vm_state_logs). Returns:
 *  - QCN_OK: the transaction was included (it may still have failed or
 *    reverted: see res->status);
 *  - a rejection, with st unchanged: QCN_ERR_VM_TX_NONCE, _NONCE_MAX,
 *    _SENDER_CODE, _INITCODE, _BLOB, QCN_ERR_TX_FUNDS, QCN_ERR_TX_FEE_LOW,
 *    QCN_ERR_TX_INTRINSIC_GAS, QCN_ERR_TX_GAS_LIMIT;
 *  - a state backend or allocation error (abandon the state). */
QCN_MUST_CHECK int qcn_vm_eth_tx_apply(struct qcn_vm *vm, struct qcn_vm_state *st,
                                       const struct qcn_vm_block_env *block,
                                       const struct qcn_vm_eth_tx *tx,
                                       struct qcn_vm_tx_result *res);

#endif
