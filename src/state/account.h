/* account.h - Ethereum-style accounts as stored in the state trie.
 *
 *   account = RLP([nonce, balance, storage_root, code_hash])   (Yellow Paper §4.1)
 *
 * kept byte-for-byte Ethereum-compatible so eth_getProof works. The account's
 * signing key is not in this record: see statedb.h (key records). Pure
 * functions, thread-safe. */
#ifndef QCN_STATE_ACCOUNT_H
#define QCN_STATE_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "codec/u256.h"
#include "util/bytes.h"
#include "util/err.h"

/* Keccak-256(RLP("")): the root of an empty trie. */
extern const uint8_t qcn_empty_trie_root[QCN_HASH_BYTES];
/* Keccak-256(""): the code hash of an account without code. */
extern const uint8_t qcn_empty_code_hash[QCN_HASH_BYTES];

#define QCN_ACCOUNT_MAX_BYTES 128u

struct qcn_account {
    uint64_t nonce;
    struct qcn_u256 balance;
    uint8_t storage_root[QCN_HASH_BYTES];
    uint8_t code_hash[QCN_HASH_BYTES];
};

/* A fresh account: nonce 0, balance 0, empty storage, no code. */
void qcn_account_init(struct qcn_account *a);
/* EIP-161 emptiness: nonce 0, balance 0, no code. */
int qcn_account_is_empty(const struct qcn_account *a);
int qcn_account_has_code(const struct qcn_account *a);

QCN_MUST_CHECK int qcn_account_encode(struct qcn_buf *b, const struct qcn_account *a);
/* Strict: canonical RLP, nonce <= 8 bytes, balance <= 32 bytes, 32-byte roots.
 * QCN_ERR_CODEC on anything else. */
QCN_MUST_CHECK int qcn_account_decode(struct qcn_account *out, struct qcn_view in);

/* Trie paths. Accounts: Keccak-256(address). The key-record commitment of an
 * address lives in the same trie at Keccak-256(address || "qcn-key") with value
 * RLP(Keccak-256(key record)), so the state root commits to every recorded key while the
 * account leaf keeps Ethereum's layout (docs/protocol.md §4). */
void qcn_account_path(uint8_t out[QCN_HASH_BYTES], const uint8_t addr[QCN_ADDRESS_BYTES]);
void qcn_account_key_path(uint8_t out[QCN_HASH_BYTES], const uint8_t addr[QCN_ADDRESS_BYTES]);
#define QCN_ACCOUNT_KEY_PATH_TAG "qcn-key"

#endif
