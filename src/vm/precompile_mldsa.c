/* precompile_mldsa.c - ML-DSA-44/65/87 signature verification (FIPS 204
 * Algorithm 3, pure ML-DSA with a context string) at 0x0100, 0x0101, 0x0102.
 *
 * Input: abi.encode(bytes pk, bytes msg, bytes ctx, bytes sig), i.e. four
 * 32-byte offsets (relative to the start of the input), each pointing at a
 * 32-byte length followed by the bytes. This is what Solidity's
 * abi.encode(pk, msg, ctx, sig) produces, so a contract calls
 *   (bool ok, bytes memory out) = address(0x0100).staticcall(
 *       abi.encode(pk, msg, ctx, sig));
 * Output: a 32-byte word, 1 if the signature verifies, 0 if not (including a
 * signature of the wrong length). The call fails (consuming its gas) when the
 * encoding is malformed (an offset or length past the input), the public key
 * has the wrong length for the parameter set, or ctx exceeds 255 bytes.
 *
 * Price: base (per parameter set, measured, docs/precompiles.md) + 6 gas per
 * 32-byte word of input, the rate of KECCAK256, since verification hashes
 * the message (and pk, sig) with SHAKE256. */
#include "crypto/mldsa.h"
#include "vm/precompile_impl.h"

#define ABI_FIELDS 4u
#define GAS_PER_WORD 6u

struct abi_bytes {
    const uint8_t *p;
    size_t len;
};

/* A 32-byte ABI word that must fit in 64 bits and be <= limit. */
static int abi_word(uint64_t *v, const uint8_t *w, uint64_t limit)
{
    size_t i;
    for (i = 0; i < QCN_VM_WORD_BYTES - 8; i++)
        if (w[i] != 0)
            return -1;
    *v = qcn_load_be64(w + QCN_VM_WORD_BYTES - 8);
    return *v <= limit ? 0 : -1;
}

/* Decodes the head's i-th `bytes` argument, bounds-checked against inlen. */
static int abi_get_bytes(struct abi_bytes *b, const uint8_t *in, size_t inlen, size_t i)
{
    uint64_t off, len;
    if (abi_word(&off, in + i * QCN_VM_WORD_BYTES, (uint64_t)inlen - QCN_VM_WORD_BYTES) != 0)
        return -1;
    if (abi_word(&len, in + off, (uint64_t)inlen - off - QCN_VM_WORD_BYTES) != 0)
        return -1;
    b->p = in + off + QCN_VM_WORD_BYTES;
    b->len = (size_t)len;
    return 0;
}

static int price(uint64_t base, uint64_t *gas, size_t inlen)
{
    return qcn_vm_pc_linear_price(gas, base, GAS_PER_WORD, inlen);
}

static int verify(int param, struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    struct abi_bytes f[ABI_FIELDS];
    uint8_t res[QCN_VM_WORD_BYTES] = {0};
    size_t i;
    int err;

    if (inlen < ABI_FIELDS * QCN_VM_WORD_BYTES)
        return QCN_ERR_VM_PRECOMPILE;
    for (i = 0; i < ABI_FIELDS; i++)
        if (abi_get_bytes(&f[i], in, inlen, i) != 0)
            return QCN_ERR_VM_PRECOMPILE;
    if (f[0].len != qcn_mldsa_pk_bytes(param) || f[2].len > QCN_MLDSA_MAX_CTX_BYTES)
        return QCN_ERR_VM_PRECOMPILE;
    err = qcn_mldsa_verify(param, f[0].p, f[1].p, f[1].len, f[2].p, f[2].len, f[3].p, f[3].len);
    if (err == QCN_OK)
        res[QCN_VM_WORD_BYTES - 1] = 1;
    else if (err != QCN_ERR_BAD_SIGNATURE)
        return err == QCN_ERR_CONTEXT_TOO_LONG ? QCN_ERR_VM_PRECOMPILE : err;
    return qcn_buf_append(out, res, sizeof res);
}

int qcn_vm_pc_mldsa44_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    return price(QCN_VM_GAS_MLDSA44_BASE, gas, inlen);
}

int qcn_vm_pc_mldsa44_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    return verify(QCN_MLDSA44, out, in, inlen);
}

int qcn_vm_pc_mldsa65_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    return price(QCN_VM_GAS_MLDSA65_BASE, gas, inlen);
}

int qcn_vm_pc_mldsa65_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    return verify(QCN_MLDSA65, out, in, inlen);
}

int qcn_vm_pc_mldsa87_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    return price(QCN_VM_GAS_MLDSA87_BASE, gas, inlen);
}

int qcn_vm_pc_mldsa87_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    return verify(QCN_MLDSA87, out, in, inlen);
}
