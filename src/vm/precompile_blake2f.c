/* precompile_blake2f.c - BLAKE2F (0x09), EIP-152.
 * Input is exactly 213 bytes: rounds (4, big-endian) || h (8 x 8, little-
 * endian) || m (16 x 8, LE) || t (2 x 8, LE) || f (1, must be 0 or 1).
 * Output: the new h, 64 bytes LE. Gas: one per round. */
#include "vm/blake2f.h"
#include "vm/precompile_impl.h"

#define ROUNDS_BYTES 4u
#define H_OFF ROUNDS_BYTES
#define M_OFF (H_OFF + 8u * QCN_BLAKE2F_STATE_WORDS)
#define T_OFF (M_OFF + 8u * QCN_BLAKE2F_BLOCK_WORDS)
#define F_OFF (T_OFF + 16u)

int qcn_vm_pc_blake2f_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    /* A wrong length fails in exec; price it at 0 so it cannot be "out of
     * gas" first (EIP-152 fails it either way, consuming all gas). */
    *gas = inlen == QCN_VM_BLAKE2F_INPUT_BYTES ? qcn_load_be32(in) : 0;
    return QCN_OK;
}

int qcn_vm_pc_blake2f_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    uint64_t h[QCN_BLAKE2F_STATE_WORDS], m[QCN_BLAKE2F_BLOCK_WORDS], t[2];
    uint8_t res[8u * QCN_BLAKE2F_STATE_WORDS];
    size_t i;

    if (inlen != QCN_VM_BLAKE2F_INPUT_BYTES || in[F_OFF] > 1)
        return QCN_ERR_VM_PRECOMPILE;
    for (i = 0; i < QCN_BLAKE2F_STATE_WORDS; i++)
        h[i] = qcn_load_le64(in + H_OFF + 8 * i);
    for (i = 0; i < QCN_BLAKE2F_BLOCK_WORDS; i++)
        m[i] = qcn_load_le64(in + M_OFF + 8 * i);
    t[0] = qcn_load_le64(in + T_OFF);
    t[1] = qcn_load_le64(in + T_OFF + 8);
    qcn_vm_blake2f_compress(h, m, t, in[F_OFF], qcn_load_be32(in));
    for (i = 0; i < QCN_BLAKE2F_STATE_WORDS; i++)
        qcn_store_le64(res + 8 * i, h[i]);
    return qcn_buf_append(out, res, sizeof res);
}
