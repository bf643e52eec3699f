/* account.c - the Ethereum account record (Yellow Paper §4.1) and the trie
 * paths of accounts and key-record commitments (docs/protocol.md §4). */
#include "state/account.h"

#include <string.h>

#include "codec/rlp.h"
#include "crypto/keccak.h"

const uint8_t qcn_empty_trie_root[QCN_HASH_BYTES] = {
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21};
const uint8_t qcn_empty_code_hash[QCN_HASH_BYTES] = {
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
    0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70};

void qcn_account_init(struct qcn_account *a)
{
    memset(a, 0, sizeof *a);
    memcpy(a->storage_root, qcn_empty_trie_root, QCN_HASH_BYTES);
    memcpy(a->code_hash, qcn_empty_code_hash, QCN_HASH_BYTES);
}

int qcn_account_has_code(const struct qcn_account *a)
{
    return memcmp(a->code_hash, qcn_empty_code_hash, QCN_HASH_BYTES) != 0;
}

int qcn_account_is_empty(const struct qcn_account *a)
{
    return a->nonce == 0 && qcn_u256_is_zero(&a->balance) && !qcn_account_has_code(a);
}

int qcn_account_encode(struct qcn_buf *b, const struct qcn_account *a)
{
    uint8_t v[QCN_U256_BYTES];
    size_t l = qcn_rlp_list_begin(b);
    int err;

    qcn_u256_to_be(v, &a->balance);
    if ((err = qcn_rlp_put_u64(b, a->nonce)) != QCN_OK ||
        (err = qcn_rlp_put_uint_be(b, v, sizeof v)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, a->storage_root, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, a->code_hash, QCN_HASH_BYTES)) != QCN_OK)
        return err;
    return qcn_rlp_list_end(b, l);
}

int qcn_account_decode(struct qcn_account *out, struct qcn_view in)
{
    struct qcn_rlp_item top, f[4];
    uint8_t v[QCN_U256_BYTES];

    memset(out, 0, sizeof *out);
    if (in.len > QCN_ACCOUNT_MAX_BYTES || qcn_rlp_decode(&top, in) != QCN_OK ||
        qcn_rlp_split(f, 4, &top) != QCN_OK || qcn_rlp_get_u64(&out->nonce, &f[0]) != QCN_OK ||
        qcn_rlp_get_uint_be(v, sizeof v, &f[1]) != QCN_OK ||
        qcn_rlp_get_fixed(out->storage_root, QCN_HASH_BYTES, &f[2]) != QCN_OK ||
        qcn_rlp_get_fixed(out->code_hash, QCN_HASH_BYTES, &f[3]) != QCN_OK) {
        memset(out, 0, sizeof *out);
        return QCN_ERR_CODEC;
    }
    out->balance = qcn_u256_load_be(v);
    return QCN_OK;
}

void qcn_account_path(uint8_t out[QCN_HASH_BYTES], const uint8_t addr[QCN_ADDRESS_BYTES])
{
    qcn_keccak256(out, addr, QCN_ADDRESS_BYTES);
}

void qcn_account_key_path(uint8_t out[QCN_HASH_BYTES], const uint8_t addr[QCN_ADDRESS_BYTES])
{
    uint8_t in[QCN_ADDRESS_BYTES + sizeof QCN_ACCOUNT_KEY_PATH_TAG - 1];
    memcpy(in, addr, QCN_ADDRESS_BYTES);
    memcpy(in + QCN_ADDRESS_BYTES, QCN_ACCOUNT_KEY_PATH_TAG, sizeof QCN_ACCOUNT_KEY_PATH_TAG - 1);
    qcn_keccak256(out, in, sizeof in);
}
