/* precompile_bn254.c - ECADD (0x06), ECMUL (0x07) and ECPAIRING (0x08) on
 * alt_bn128: EIP-196 and EIP-197, priced by EIP-1108.
 *
 * ECADD and ECMUL read their fixed-size input zero-padded (extra bytes are
 * ignored); ECPAIRING needs a multiple of 192 bytes. Coordinates >= p, points
 * off the curve and G2 points outside the order-r subgroup make the call
 * fail (QCN_ERR_VM_PRECOMPILE). */
#include "vm/bn254.h"
#include "vm/precompile_impl.h"

#define ADD_INPUT_BYTES (2u * QCN_BN254_G1_BYTES)
#define MUL_INPUT_BYTES (QCN_BN254_G1_BYTES + QCN_BN254_SCALAR_BYTES)
/* Pairs validated and folded into the Miller loop at a time: bounds the stack
 * and avoids a heap copy of the input. */
#define PAIRING_CHUNK 8u

int qcn_vm_pc_bn254_add_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    (void)inlen;
    *gas = QCN_VM_GAS_BN254_ADD;
    return QCN_OK;
}

int qcn_vm_pc_bn254_add_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    uint8_t buf[ADD_INPUT_BYTES], res[QCN_BN254_G1_BYTES];
    struct qcn_bn254_g1 a, b;

    qcn_vm_pc_read_padded(buf, sizeof buf, in, inlen, 0);
    if (qcn_bn254_g1_from_bytes(&a, buf) != 0 ||
        qcn_bn254_g1_from_bytes(&b, buf + QCN_BN254_G1_BYTES) != 0)
        return QCN_ERR_VM_PRECOMPILE;
    qcn_bn254_g1_add(&a, &a, &b);
    qcn_bn254_g1_to_bytes(res, &a);
    return qcn_buf_append(out, res, sizeof res);
}

int qcn_vm_pc_bn254_mul_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    (void)inlen;
    *gas = QCN_VM_GAS_BN254_MUL;
    return QCN_OK;
}

int qcn_vm_pc_bn254_mul_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    uint8_t buf[MUL_INPUT_BYTES], res[QCN_BN254_G1_BYTES];
    struct qcn_bn254_g1 a;

    qcn_vm_pc_read_padded(buf, sizeof buf, in, inlen, 0);
    if (qcn_bn254_g1_from_bytes(&a, buf) != 0)
        return QCN_ERR_VM_PRECOMPILE;
    qcn_bn254_g1_mul_glv(&a, &a, buf + QCN_BN254_G1_BYTES);
    qcn_bn254_g1_to_bytes(res, &a);
    return qcn_buf_append(out, res, sizeof res);
}

/* 45000 + 34000 per pair. A length that is not a multiple of 192 is priced
 * by its whole pairs and then fails. */
int qcn_vm_pc_bn254_pairing_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    uint64_t g;
    (void)in;
    if (__builtin_mul_overflow((uint64_t)(inlen / QCN_VM_BN254_PAIR_BYTES),
                               (uint64_t)QCN_VM_GAS_BN254_PAIR_PER, &g) ||
        __builtin_add_overflow(g, (uint64_t)QCN_VM_GAS_BN254_PAIR_BASE, &g))
        return QCN_ERR_VM_OUT_OF_GAS;
    *gas = g;
    return QCN_OK;
}

int qcn_vm_pc_bn254_pairing_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    struct qcn_bn254_g1 p[PAIRING_CHUNK];
    struct qcn_bn254_g2 q[PAIRING_CHUNK];
    struct qcn_bn254_fp12 acc, f;
    uint8_t res[QCN_VM_WORD_BYTES] = {0};
    size_t npairs, i, k;

    if (inlen % QCN_VM_BN254_PAIR_BYTES != 0)
        return QCN_ERR_VM_PRECOMPILE;
    npairs = inlen / QCN_VM_BN254_PAIR_BYTES;
    qcn_bn254_fp12_set_one(&acc);
    for (i = 0; i < npairs; i += k) {
        for (k = 0; k < PAIRING_CHUNK && i + k < npairs; k++) {
            const uint8_t *pair = in + (i + k) * QCN_VM_BN254_PAIR_BYTES;
            if (qcn_bn254_g1_from_bytes(&p[k], pair) != 0 ||
                qcn_bn254_g2_from_bytes(&q[k], pair + QCN_BN254_G1_BYTES) != 0)
                return QCN_ERR_VM_PRECOMPILE;
        }
        qcn_bn254_miller_loop(&f, p, q, k);
        qcn_bn254_fp12_mul(&acc, &acc, &f);
    }
    qcn_bn254_final_exp(&f, &acc);
    res[QCN_VM_WORD_BYTES - 1] = (uint8_t)qcn_bn254_fp12_is_one(&f);
    return qcn_buf_append(out, res, sizeof res);
}
