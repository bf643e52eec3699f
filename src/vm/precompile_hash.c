/* precompile_hash.c - ECRECOVER (0x01), SHA-256 (0x02), RIPEMD-160 (0x03),
 * identity (0x04), per the Yellow Paper Appendix E, and our SHAKE256
 * (0x0103, docs/precompiles.md). */
#include <string.h>

#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "crypto/keccak.h"
#include "vm/precompile_impl.h"

#define ECRECOVER_INPUT_BYTES 128u
#define SECP256K1_PUBKEY_UNCOMPRESSED_BYTES 65u
#define ADDRESS_OFFSET 12u /* address = last 20 bytes of a 32-byte word */
#define ECRECOVER_V_OFF 32u
#define ECRECOVER_RS_OFF 64u

int qcn_vm_pc_ecrecover_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    (void)inlen;
    *gas = QCN_VM_GAS_ECRECOVER;
    return QCN_OK;
}

/* YP Appendix E: input (h, v, r, s), each a 32-byte word, zero-padded. An
 * invalid signature is not a failure: the call succeeds with empty output. */
int qcn_vm_pc_ecrecover_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    uint8_t buf[ECRECOVER_INPUT_BYTES], pub[SECP256K1_PUBKEY_UNCOMPRESSED_BYTES];
    uint8_t hash[QCN_KECCAK256_BYTES], word[QCN_VM_WORD_BYTES];
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_pubkey pk;
    size_t i, publen = sizeof pub;
    int recid;

    qcn_vm_pc_read_padded(buf, sizeof buf, in, inlen, 0);
    /* v is a full word that must equal 27 or 28. */
    for (i = ECRECOVER_V_OFF; i < ECRECOVER_RS_OFF - 1; i++)
        if (buf[i] != 0)
            return QCN_OK;
    if (buf[ECRECOVER_RS_OFF - 1] != 27 && buf[ECRECOVER_RS_OFF - 1] != 28)
        return QCN_OK;
    recid = buf[ECRECOVER_RS_OFF - 1] - 27;
    /* parse_compact rejects r, s >= n; recover rejects r = 0 or s = 0.
     * Unlike transactions (EIP-2), the precompile accepts high s. */
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &sig,
                                                             buf + ECRECOVER_RS_OFF, recid))
        return QCN_OK;
    if (!secp256k1_ecdsa_recover(secp256k1_context_static, &pk, &sig, buf))
        return QCN_OK;
    if (!secp256k1_ec_pubkey_serialize(secp256k1_context_static, pub, &publen, &pk,
                                       SECP256K1_EC_UNCOMPRESSED))
        return QCN_ERR_INTERNAL;
    qcn_keccak256(hash, pub + 1, publen - 1);
    memset(word, 0, ADDRESS_OFFSET);
    memcpy(word + ADDRESS_OFFSET, hash + ADDRESS_OFFSET, sizeof word - ADDRESS_OFFSET);
    return qcn_buf_append(out, word, sizeof word);
}

int qcn_vm_pc_sha256_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    return qcn_vm_pc_linear_price(gas, QCN_VM_GAS_SHA256_BASE, QCN_VM_GAS_SHA256_WORD, inlen);
}

/* One-shot EVP digest into a 32-byte word, right-aligned (RIPEMD-160's 20
 * bytes are left-padded with zeros, YP Appendix E). */
static int evp_word(struct qcn_buf *out, const char *name, const uint8_t *in, size_t inlen)
{
    static const uint8_t empty[1] = {0};
    uint8_t word[QCN_VM_WORD_BYTES], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD *alg = EVP_MD_fetch(NULL, name, NULL);
    int ok;

    if (alg == NULL)
        return QCN_ERR_CRYPTO_BACKEND;
    ok = EVP_Digest(inlen > 0 ? in : empty, inlen, md, &mdlen, alg, NULL);
    EVP_MD_free(alg);
    if (!ok || mdlen > sizeof word)
        return QCN_ERR_CRYPTO_BACKEND;
    memset(word, 0, sizeof word - mdlen);
    memcpy(word + sizeof word - mdlen, md, mdlen);
    return qcn_buf_append(out, word, sizeof word);
}

int qcn_vm_pc_sha256_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    return evp_word(out, "SHA256", in, inlen);
}

int qcn_vm_pc_ripemd160_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    return qcn_vm_pc_linear_price(gas, QCN_VM_GAS_RIPEMD160_BASE, QCN_VM_GAS_RIPEMD160_WORD, inlen);
}

/* OpenSSL 3.0.7+ serves RIPEMD160 from the default provider (Debian 12 ships
 * 3.0.x >= 3.0.9), so no legacy provider is needed. */
int qcn_vm_pc_ripemd160_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    return evp_word(out, "RIPEMD160", in, inlen);
}

int qcn_vm_pc_identity_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    (void)in;
    return qcn_vm_pc_linear_price(gas, QCN_VM_GAS_IDENTITY_BASE, QCN_VM_GAS_IDENTITY_WORD, inlen);
}

int qcn_vm_pc_identity_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    return qcn_buf_append(out, in, inlen);
}

/* SHAKE256 (0x0103): input = outlen (32-byte big-endian word) || data.
 * Price: 30 + 6 per data word + 6 per output word, like SHA3 (KECCAK256)
 * with the squeeze priced as absorb. An outlen that does not fit 64 bits
 * makes the price overflow (out of gas). */
static int shake_outlen(uint64_t *outlen, const uint8_t *in, size_t inlen)
{
    size_t i;
    if (inlen < QCN_VM_WORD_BYTES)
        return QCN_ERR_VM_PRECOMPILE;
    for (i = 0; i < QCN_VM_WORD_BYTES - 8; i++)
        if (in[i] != 0)
            return QCN_ERR_VM_OUT_OF_GAS;
    *outlen = qcn_load_be64(in + QCN_VM_WORD_BYTES - 8);
    return QCN_OK;
}

int qcn_vm_pc_shake256_price(uint64_t *gas, const uint8_t *in, size_t inlen)
{
    uint64_t outlen, g, outwords;
    int err = shake_outlen(&outlen, in, inlen);

    if (err == QCN_ERR_VM_PRECOMPILE) {
        /* Malformed; charge the base so the failure is decided in exec. */
        *gas = QCN_VM_GAS_SHAKE256_BASE;
        return QCN_OK;
    }
    if (err != QCN_OK)
        return err;
    err = qcn_vm_pc_linear_price(&g, QCN_VM_GAS_SHAKE256_BASE, QCN_VM_GAS_SHAKE256_WORD,
                                 inlen - QCN_VM_WORD_BYTES);
    if (err != QCN_OK)
        return err;
    outwords = outlen / QCN_VM_WORD_BYTES + (outlen % QCN_VM_WORD_BYTES != 0);
    if (__builtin_mul_overflow(outwords, (uint64_t)QCN_VM_GAS_SHAKE256_WORD, &outwords) ||
        __builtin_add_overflow(g, outwords, &g))
        return QCN_ERR_VM_OUT_OF_GAS;
    *gas = g;
    return QCN_OK;
}

int qcn_vm_pc_shake256_exec(struct qcn_buf *out, const uint8_t *in, size_t inlen)
{
    uint64_t outlen;
    int err = shake_outlen(&outlen, in, inlen);

    if (err != QCN_OK)
        return QCN_ERR_VM_PRECOMPILE;
    if (outlen > QCN_VM_SHAKE256_MAX_OUT_BYTES)
        return QCN_ERR_VM_PRECOMPILE;
    if (outlen == 0)
        return QCN_OK;
    err = qcn_buf_reserve(out, (size_t)outlen);
    if (err != QCN_OK)
        return err;
    qcn_shake256(out->p + out->len, (size_t)outlen, in + QCN_VM_WORD_BYTES,
                 inlen - QCN_VM_WORD_BYTES);
    out->len += (size_t)outlen;
    return QCN_OK;
}
