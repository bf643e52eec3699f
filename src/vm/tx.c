/* tx.c - Ethereum transaction validity and application, Cancun rules
 * (Yellow Paper 6; EIP-1559 fees, EIP-2930 access lists, EIP-3607,
 * EIP-3860, EIP-4844 blob gas, EIP-3529 refunds, EIP-3651 warm coinbase). */
#include "vm/tx.h"

#include <string.h>

#define BLOB_BASE_FEE_UPDATE_FRACTION 3338477
#define MIN_BLOB_BASE_FEE 1

/* r = a * b; returns 1 on overflow past 2^256. */
static int mul_u64_overflow(struct qcn_u256 *r, const struct qcn_u256 *a, uint64_t b)
{
    uint64_t carry = 0;
    struct qcn_u256 t;
    for (int i = 0; i < QCN_U256_LIMBS; i++) {
        qcn_u128 p = (qcn_u128)a->w[i] * b + carry;
        t.w[i] = (uint64_t)p;
        carry = (uint64_t)(p >> 64);
    }
    *r = t;
    return carry != 0;
}

void qcn_vm_blob_base_fee(struct qcn_u256 *out, uint64_t excess_blob_gas)
{
    /* fake_exponential(factor, numerator, denominator), EIP-4844. */
    struct qcn_u256 output = qcn_u256_from_u64(0), acc, den, t;
    uint64_t i = 1;
    acc = qcn_u256_from_u64((uint64_t)MIN_BLOB_BASE_FEE * BLOB_BASE_FEE_UPDATE_FRACTION);
    while (!qcn_u256_is_zero(&acc)) {
        if (qcn_u256_add(&output, &output, &acc) != 0 ||
            mul_u64_overflow(&t, &acc, excess_blob_gas) != 0 ||
            mul_u64_overflow(&den, &(struct qcn_u256){{BLOB_BASE_FEE_UPDATE_FRACTION, 0, 0, 0}},
                             i) != 0) {
            /* Far beyond any payable fee: saturate. */
            memset(out->w, 0xff, sizeof out->w);
            return;
        }
        qcn_u256_divmod(&acc, NULL, &t, &den);
        i++;
    }
    den = qcn_u256_from_u64(BLOB_BASE_FEE_UPDATE_FRACTION);
    qcn_u256_divmod(out, NULL, &output, &den);
}

int qcn_vm_intrinsic_gas(uint64_t *out, const struct qcn_vm_eth_tx *tx)
{
    uint64_t g = QCN_VM_TX_GAS, zeros = 0, t;
    *out = 0;
    for (size_t i = 0; i < tx->data_len; i++)
        zeros += tx->data[i] == 0;
    if (__builtin_mul_overflow(zeros, (uint64_t)QCN_VM_TX_DATA_ZERO_GAS, &t) ||
        __builtin_add_overflow(g, t, &g) ||
        __builtin_mul_overflow((uint64_t)(tx->data_len - zeros),
                               (uint64_t)QCN_VM_TX_DATA_NONZERO_GAS, &t) ||
        __builtin_add_overflow(g, t, &g))
        return QCN_ERR_OVERFLOW;
    if (tx->is_create) {
        uint64_t words = tx->data_len / 32 + (tx->data_len % 32 != 0);
        if (__builtin_add_overflow(g, (uint64_t)QCN_VM_TX_CREATE_GAS, &g) ||
            __builtin_add_overflow(g, 2 * words, &g))
            return QCN_ERR_OVERFLOW;
    }
    for (size_t i = 0; i < tx->naccess; i++) {
        if (__builtin_add_overflow(g, (uint64_t)QCN_VM_TX_ACCESS_ADDR_GAS, &g) ||
            __builtin_mul_overflow((uint64_t)tx->access_list[i].nkeys,
                                   (uint64_t)QCN_VM_TX_ACCESS_KEY_GAS, &t) ||
            __builtin_add_overflow(g, t, &g))
            return QCN_ERR_OVERFLOW;
    }
    *out = g;
    return QCN_OK;
}

static int validate(const struct qcn_vm_account *sender, const struct qcn_vm_block_env *block,
                    const struct qcn_vm_eth_tx *tx, uint64_t *intrinsic)
{
    struct qcn_u256 cost, t;
    const struct qcn_u256 *fee_cap = tx->type >= 2 ? &tx->max_fee : &tx->gas_price;
    int err;

    if (sender->nonce == UINT64_MAX)
        return QCN_ERR_VM_TX_NONCE_MAX;
    if (tx->nonce != sender->nonce)
        return QCN_ERR_VM_TX_NONCE;
    if (memcmp(sender->code_hash, qcn_vm_empty_code_hash, QCN_VM_HASH_BYTES) != 0)
        return QCN_ERR_VM_TX_SENDER_CODE;
    if (tx->type >= 2 && qcn_u256_lt(&tx->max_fee, &tx->max_priority_fee))
        return QCN_ERR_TX_FEE_LOW;
    if (qcn_u256_lt(fee_cap, &block->base_fee))
        return QCN_ERR_TX_FEE_LOW;
    if (tx->type == 3) {
        if (tx->is_create || tx->nblob_hashes == 0 || tx->nblob_hashes > QCN_VM_MAX_BLOB_HASHES)
            return QCN_ERR_VM_TX_BLOB;
        for (size_t i = 0; i < tx->nblob_hashes; i++)
            if (tx->blob_hashes[i][0] != QCN_VM_BLOB_HASH_VERSION)
                return QCN_ERR_VM_TX_BLOB;
        if (qcn_u256_lt(&tx->max_fee_per_blob_gas, &block->blob_base_fee))
            return QCN_ERR_TX_FEE_LOW;
    }
    /* Gas is signed 64-bit inside the VM; a limit past 2^63 could never be
     * paid for anyway. */
    if (tx->gas_limit > block->gas_limit || tx->gas_limit > (uint64_t)INT64_MAX)
        return QCN_ERR_TX_GAS_LIMIT;
    err = qcn_vm_intrinsic_gas(intrinsic, tx);
    if (err != QCN_OK || *intrinsic > tx->gas_limit)
        return QCN_ERR_TX_INTRINSIC_GAS;
    if (tx->is_create && tx->data_len > QCN_VM_MAX_INITCODE_SIZE)
        return QCN_ERR_VM_TX_INITCODE;
    /* The sender must afford the worst case: gasLimit x fee cap + value +
     * blob gas x blob fee cap (EIP-1559, EIP-4844). */
    if (mul_u64_overflow(&cost, fee_cap, tx->gas_limit) ||
        qcn_u256_add(&cost, &cost, &tx->value) != 0)
        return QCN_ERR_TX_FUNDS;
    if (tx->type == 3) {
        if (mul_u64_overflow(&t, &tx->max_fee_per_blob_gas,
                             (uint64_t)tx->nblob_hashes * QCN_VM_GAS_PER_BLOB) ||
            qcn_u256_add(&cost, &cost, &t) != 0)
            return QCN_ERR_TX_FUNDS;
    }
    if (qcn_u256_lt(&sender->balance, &cost))
        return QCN_ERR_TX_FUNDS;
    return QCN_OK;
}

int qcn_vm_eth_tx_apply(struct qcn_vm *vm, struct qcn_vm_state *st,
                        const struct qcn_vm_block_env *block, const struct qcn_vm_eth_tx *tx,
                        struct qcn_vm_tx_result *res)
{
    struct qcn_vm_account *sender, *coinbase;
    struct qcn_vm_tx_env env;
    struct qcn_vm_message msg;
    struct qcn_vm_result r;
    struct qcn_u256 price, cost, t, tip;
    uint64_t intrinsic = 0, gas_used, refund;
    int err;

    memset(res, 0, sizeof *res);
    qcn_vm_state_begin_tx(st);
    sender = qcn_vm_state_account(st, tx->sender);
    if (sender == NULL)
        return qcn_vm_state_error(st);
    err = validate(sender, block, tx, &intrinsic);
    if (err != QCN_OK)
        return err;

    /* Effective gas price: min(maxFee, baseFee + maxPriorityFee) (EIP-1559). */
    if (tx->type >= 2) {
        if (qcn_u256_add(&price, &block->base_fee, &tx->max_priority_fee) != 0 ||
            qcn_u256_lt(&tx->max_fee, &price))
            price = tx->max_fee;
    } else {
        price = tx->gas_price;
    }
    (void)mul_u64_overflow(&cost, &price, tx->gas_limit);
    if (tx->type == 3) {
        (void)mul_u64_overflow(&t, &block->blob_base_fee,
                               (uint64_t)tx->nblob_hashes * QCN_VM_GAS_PER_BLOB);
        (void)qcn_u256_add(&cost, &cost, &t);
    }
    if (qcn_vm_state_sub_balance(st, sender, &cost) != QCN_OK)
        return QCN_ERR_TX_FUNDS;
    if (!tx->is_create)
        qcn_vm_state_set_nonce(st, sender, sender->nonce + 1);
    err = qcn_vm_warm_tx(vm, st, block, tx->sender, tx->is_create ? NULL : tx->to, tx->access_list,
                         tx->naccess);
    if (err != QCN_OK)
        return err;

    memset(&env, 0, sizeof env);
    memcpy(env.origin, tx->sender, QCN_VM_ADDRESS_BYTES);
    env.gas_price = price;
    env.blob_hashes = tx->blob_hashes;
    env.nblob_hashes = tx->nblob_hashes;

    memset(&msg, 0, sizeof msg);
    msg.kind = tx->is_create ? QCN_VM_CREATE : QCN_VM_CALL;
    msg.depth = 0;
    msg.gas = (int64_t)(tx->gas_limit - intrinsic);
    memcpy(msg.sender, tx->sender, QCN_VM_ADDRESS_BYTES);
    memcpy(msg.recipient, tx->to, QCN_VM_ADDRESS_BYTES);
    memcpy(msg.code_address, tx->to, QCN_VM_ADDRESS_BYTES);
    msg.value = tx->value;
    msg.input = tx->data;
    msg.input_len = tx->data_len;
    err = qcn_vm_execute(vm, st, block, &env, &msg, &r);
    if (err != QCN_OK)
        return err;

    gas_used = tx->gas_limit - (uint64_t)r.gas_left;
    /* EIP-3529: the refund is capped at a fifth of the gas used. */
    refund = qcn_vm_state_refund(st) > 0 ? (uint64_t)qcn_vm_state_refund(st) : 0;
    if (refund > gas_used / QCN_VM_MAX_REFUND_QUOTIENT)
        refund = gas_used / QCN_VM_MAX_REFUND_QUOTIENT;
    gas_used -= refund;

    (void)mul_u64_overflow(&t, &price, tx->gas_limit - gas_used);
    if (qcn_vm_state_add_balance(st, sender, &t) != QCN_OK)
        return QCN_ERR_OVERFLOW;
    coinbase = qcn_vm_state_account(st, block->coinbase);
    if (coinbase == NULL)
        return qcn_vm_state_error(st);
    (void)qcn_u256_sub(&tip, &price, &block->base_fee);
    (void)mul_u64_overflow(&t, &tip, gas_used);
    /* Paid even when zero: the coinbase counts as touched (EIP-161). */
    if (qcn_vm_state_add_balance(st, coinbase, &t) != QCN_OK)
        return QCN_ERR_OVERFLOW;
    err = qcn_vm_state_error(st);
    if (err != QCN_OK)
        return err;
    qcn_vm_state_finalize_tx(st);

    res->status = r.status;
    res->gas_used = gas_used;
    res->output = r.output;
    res->output_len = r.output_len;
    memcpy(res->created, r.created, QCN_VM_ADDRESS_BYTES);
    return QCN_OK;
}
