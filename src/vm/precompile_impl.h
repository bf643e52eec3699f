/* precompile_impl.h - internal interface between the precompile dispatcher
 * (precompile.c) and the individual contracts (precompile_*.c). Not part of
 * the vm's public API: only src/vm/precompile*.c and their tests include it.
 *
 * Each contract has two functions:
 *  - a price function, run first, which computes the gas from the input alone
 *    (never allocating in proportion to a declared length), and returns
 *    QCN_ERR_VM_OUT_OF_GAS if the price does not fit in 64 bits;
 *  - an exec function, run only once the price is paid, which appends the
 *    return data to out (empty on entry) and returns QCN_OK, or
 *    QCN_ERR_VM_PRECOMPILE for input the contract rejects.
 * Thread-safe; no state outside the arguments. */
#ifndef QCN_VM_PRECOMPILE_IMPL_H
#define QCN_VM_PRECOMPILE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/err.h"

/* Precompile ids are the low 16 bits of their addresses. */
enum qcn_vm_precompile_id {
    QCN_VM_PC_ECRECOVER = 0x01,
    QCN_VM_PC_SHA256 = 0x02,
    QCN_VM_PC_RIPEMD160 = 0x03,
    QCN_VM_PC_IDENTITY = 0x04,
    QCN_VM_PC_MODEXP = 0x05,
    QCN_VM_PC_BN254_ADD = 0x06,
    QCN_VM_PC_BN254_MUL = 0x07,
    QCN_VM_PC_BN254_PAIRING = 0x08,
    QCN_VM_PC_BLAKE2F = 0x09,
    QCN_VM_PC_KZG_POINT_EVAL = 0x0a,
    QCN_VM_PC_MLDSA44_VERIFY = 0x100,
    QCN_VM_PC_MLDSA65_VERIFY = 0x101,
    QCN_VM_PC_MLDSA87_VERIFY = 0x102,
    QCN_VM_PC_SHAKE256 = 0x103,
};

/* Gas constants (Cancun). */
#define QCN_VM_GAS_ECRECOVER 3000u
#define QCN_VM_GAS_SHA256_BASE 60u
#define QCN_VM_GAS_SHA256_WORD 12u
#define QCN_VM_GAS_RIPEMD160_BASE 600u
#define QCN_VM_GAS_RIPEMD160_WORD 120u
#define QCN_VM_GAS_IDENTITY_BASE 15u
#define QCN_VM_GAS_IDENTITY_WORD 3u
#define QCN_VM_GAS_MODEXP_MIN 200u        /* EIP-2565 */
#define QCN_VM_GAS_BN254_ADD 150u         /* EIP-1108 */
#define QCN_VM_GAS_BN254_MUL 6000u        /* EIP-1108 */
#define QCN_VM_GAS_BN254_PAIR_BASE 45000u /* EIP-1108 */
#define QCN_VM_GAS_BN254_PAIR_PER 34000u  /* EIP-1108 */
#define QCN_VM_GAS_KZG_POINT_EVAL 50000u  /* EIP-4844 */
/* ML-DSA verify base prices, from the measured verify time of the portable
 * C back end relative to ECRECOVER's 3000 gas (docs/precompiles.md), plus 6
 * gas per input word: a node without AVX2 still earns ECRECOVER's gas/us. */
#define QCN_VM_GAS_MLDSA44_BASE 4400u
#define QCN_VM_GAS_MLDSA65_BASE 7400u
#define QCN_VM_GAS_MLDSA87_BASE 12400u
#define QCN_VM_GAS_SHAKE256_BASE 30u
#define QCN_VM_GAS_SHAKE256_WORD 6u

/* Sizes. */
#define QCN_VM_WORD_BYTES 32u
#define QCN_VM_BLAKE2F_INPUT_BYTES 213u
#define QCN_VM_BN254_PAIR_BYTES 192u
/* MODEXP operands longer than this are refused (QCN_ERR_VM_PRECOMPILE) even
 * when the gas would pay for them: with a 30M block gas limit EIP-2565 never
 * lets a call reach it (a 1 MiB modulus costs > 5e9 gas), so it only guards
 * against an absurd gas_available making us allocate gigabytes. */
#define QCN_VM_MODEXP_MAX_OPERAND_BYTES (1u << 20)
/* SHAKE256 output lengths above this are refused (QCN_ERR_VM_PRECOMPILE). */
#define QCN_VM_SHAKE256_MAX_OUT_BYTES 65536u

typedef int (*qcn_vm_pc_price_fn)(uint64_t *gas, const uint8_t *in, size_t inlen);
typedef int (*qcn_vm_pc_exec_fn)(struct qcn_buf *out, const uint8_t *in, size_t inlen);

/* Words of 32 bytes needed for n bytes, rounded up. */
static inline uint64_t qcn_vm_pc_words(size_t n)
{
    return (uint64_t)n / QCN_VM_WORD_BYTES + (n % QCN_VM_WORD_BYTES != 0);
}

/* base + per_word * words(n), or QCN_ERR_VM_OUT_OF_GAS if it overflows. */
int qcn_vm_pc_linear_price(uint64_t *gas, uint64_t base, uint64_t per_word, size_t n);

/* Copies in[off..off+n) into dst, zero-filling whatever lies past inlen (the
 * EVM's implicit zero padding of call data). */
void qcn_vm_pc_read_padded(uint8_t *dst, size_t n, const uint8_t *in, size_t inlen, size_t off);

/* precompile_hash.c */
int qcn_vm_pc_ecrecover_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_ecrecover_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_sha256_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_sha256_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_ripemd160_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_ripemd160_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_identity_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_identity_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_shake256_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_shake256_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);

/* precompile_modexp.c */
int qcn_vm_pc_modexp_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_modexp_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);

/* precompile_blake2f.c */
int qcn_vm_pc_blake2f_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_blake2f_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);

/* precompile_bn254.c */
int qcn_vm_pc_bn254_add_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_bn254_add_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_bn254_mul_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_bn254_mul_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_bn254_pairing_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_bn254_pairing_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);

/* precompile_mldsa.c */
int qcn_vm_pc_mldsa44_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_mldsa44_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_mldsa65_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_mldsa65_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);
int qcn_vm_pc_mldsa87_price(uint64_t *gas, const uint8_t *in, size_t inlen);
int qcn_vm_pc_mldsa87_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen);

#endif
