/* precompile.c - the precompile table, address lookup and the common run
 * wrapper that prices a call before running it (Yellow Paper Appendix E;
 * Cancun's set is 0x01-0x0a, EIP-4844 added 0x0a). Our post-quantum
 * contracts live at 0x0100-0x0103 (docs/precompiles.md), far from the range
 * Ethereum keeps growing (0x0b-0x11 are BLS12-381 in Prague). */
#include "vm/precompile.h"

#include <string.h>

#include "vm/precompile_impl.h"

struct precompile {
    int id;
    qcn_vm_pc_price_fn price;
    qcn_vm_pc_exec_fn exec;
};

static int kzg_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    (void)inlen;
    *gas = QCN_VM_GAS_KZG_POINT_EVAL;
    return QCN_OK;
}

/* EIP-4844's point evaluation needs the KZG trusted setup and exists to check
 * blob commitments. Our chain carries no blobs and ships no setup, so the
 * address is reserved (warm, per EIP-2929) and every call fails. */
static int kzg_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    (void)out;
    (void)in;
    (void)inlen;
    return QCN_ERR_VM_PRECOMPILE;
}

static const struct precompile precompiles[] = {
    {QCN_VM_PC_ECRECOVER, qcn_vm_pc_ecrecover_price, qcn_vm_pc_ecrecover_exec},
    {QCN_VM_PC_SHA256, qcn_vm_pc_sha256_price, qcn_vm_pc_sha256_exec},
    {QCN_VM_PC_RIPEMD160, qcn_vm_pc_ripemd160_price, qcn_vm_pc_ripemd160_exec},
    {QCN_VM_PC_IDENTITY, qcn_vm_pc_identity_price, qcn_vm_pc_identity_exec},
    {QCN_VM_PC_MODEXP, qcn_vm_pc_modexp_price, qcn_vm_pc_modexp_exec},
    {QCN_VM_PC_BN254_ADD, qcn_vm_pc_bn254_add_price, qcn_vm_pc_bn254_add_exec},
    {QCN_VM_PC_BN254_MUL, qcn_vm_pc_bn254_mul_price, qcn_vm_pc_bn254_mul_exec},
    {QCN_VM_PC_BN254_PAIRING, qcn_vm_pc_bn254_pairing_price, qcn_vm_pc_bn254_pairing_exec},
    {QCN_VM_PC_BLAKE2F, qcn_vm_pc_blake2f_price, qcn_vm_pc_blake2f_exec},
    {QCN_VM_PC_KZG_POINT_EVAL, kzg_price, kzg_exec},
    {QCN_VM_PC_MLDSA44_VERIFY, qcn_vm_pc_mldsa44_price, qcn_vm_pc_mldsa44_exec},
    {QCN_VM_PC_MLDSA65_VERIFY, qcn_vm_pc_mldsa65_price, qcn_vm_pc_mldsa65_exec},
    {QCN_VM_PC_MLDSA87_VERIFY, qcn_vm_pc_mldsa87_price, qcn_vm_pc_mldsa87_exec},
    {QCN_VM_PC_SHAKE256, qcn_vm_pc_shake256_price, qcn_vm_pc_shake256_exec},
};

#define NPRECOMPILES (sizeof precompiles / sizeof precompiles[0])

static const struct precompile *find(int id)
{
    size_t i;
    for (i = 0; i < NPRECOMPILES; i++)
        if (precompiles[i].id == id)
            return &precompiles[i];
    return NULL;
}

int qcn_vm_precompile_lookup(const uint8_t addr[QCN_VM_ADDRESS_BYTES])
{
    size_t i;
    int id;
    for (i = 0; i < QCN_VM_ADDRESS_BYTES - 2; i++)
        if (addr[i] != 0)
            return 0;
    id = (int)qcn_load_be16(addr + QCN_VM_ADDRESS_BYTES - 2);
    return find(id) != NULL ? id : 0;
}

size_t qcn_vm_precompile_addresses(uint8_t (*addrs)[QCN_VM_ADDRESS_BYTES], size_t max)
{
    size_t i;
    for (i = 0; i < NPRECOMPILES && i < max; i++) {
        memset(addrs[i], 0, QCN_VM_ADDRESS_BYTES);
        qcn_store_be16(addrs[i] + QCN_VM_ADDRESS_BYTES - 2, (uint16_t)precompiles[i].id);
    }
    return NPRECOMPILES;
}

int qcn_vm_precompile_run(int id, struct qcn_buf *out, uint64_t *gas_used, const uint8_t *in,
                          size_t inlen, uint64_t gas_available)
{
    const struct precompile *pc = find(id);
    uint64_t price = 0;
    int err;

    qcn_buf_reset(out);
    if (pc == NULL) {
        err = QCN_ERR_INVALID_ARG;
        goto out;
    }
    if (in == NULL && inlen != 0) {
        err = QCN_ERR_INVALID_ARG;
        goto out;
    }
    err = pc->price(&price, in, inlen);
    if (err != QCN_OK)
        goto out;
    if (price > gas_available) {
        err = QCN_ERR_VM_OUT_OF_GAS;
        goto out;
    }
    err = pc->exec(out, in, inlen);
out:
    if (err != QCN_OK) {
        /* A failed precompile consumes all gas and returns nothing (YP E,
         * EIP-150's all-but-one-64th already applied by the caller). Input
         * errors are QCN_ERR_VM_OUT_OF_GAS or QCN_ERR_VM_PRECOMPILE; anything
         * else (QCN_ERR_NOMEM, an out buffer whose cap is too small) is a
         * local failure the caller must not mistake for a consensus result. */
        qcn_buf_reset(out);
        *gas_used = gas_available;
        return err;
    }
    *gas_used = price;
    return QCN_OK;
}

int qcn_vm_pc_linear_price(uint64_t *gas, uint64_t base, uint64_t per_word, size_t n)
{
    uint64_t g;
    if (__builtin_mul_overflow(per_word, qcn_vm_pc_words(n), &g) ||
        __builtin_add_overflow(g, base, &g))
        return QCN_ERR_VM_OUT_OF_GAS;
    *gas = g;
    return QCN_OK;
}

void qcn_vm_pc_read_padded(uint8_t *dst, size_t n, const uint8_t *in, size_t inlen, size_t off)
{
    size_t avail = off < inlen ? inlen - off : 0;
    if (avail > n)
        avail = n;
    if (avail > 0)
        memcpy(dst, in + off, avail);
    memset(dst + avail, 0, n - avail);
}
