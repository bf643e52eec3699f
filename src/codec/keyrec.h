/* keyrec.h - an account's recorded signing key(s): the "key record".
 *
 *   single key:  RLP([scheme, public_key])                 scheme in {1,2,3}
 *   multisig:    RLP([0x80, threshold, [[scheme, public_key], ...]])
 *   key hash  =  Keccak-256(record)
 *
 * The state trie commits to the record through its hash (docs/protocol.md §4);
 * the record itself lives in the KEYREC table, keyed by that hash, and the
 * ACCKEY table maps each address to its current key hash.
 * A decoded record's views point into the bytes it was decoded from. */
#ifndef QCN_CODEC_KEYREC_H
#define QCN_CODEC_KEYREC_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "crypto/mldsa.h"
#include "util/bytes.h"
#include "util/err.h"

/* Largest encoded record: 16 ML-DSA-87 keys plus headers. */
#define QCN_KEYREC_MAX_BYTES (QCN_MULTISIG_MAX_KEYS * (QCN_MLDSA_MAX_PK_BYTES + 16u) + 64u)

struct qcn_keyrec_key {
    uint8_t scheme;
    struct qcn_view pk;
};

struct qcn_keyrec {
    uint8_t kind;       /* a single-key scheme id, or QCN_SCHEME_MULTISIG */
    uint32_t threshold; /* 1 for a single key */
    uint32_t nkeys;     /* 1 for a single key */
    struct qcn_keyrec_key keys[QCN_MULTISIG_MAX_KEYS];
};

/* Decodes and validates a record: known schemes, exact key sizes,
 * 1 <= threshold <= nkeys <= QCN_MULTISIG_MAX_KEYS, no key listed twice.
 * QCN_ERR_CODEC (layout), QCN_ERR_TX_UNKNOWN_SCHEME, QCN_ERR_BAD_KEY,
 * QCN_ERR_TX_MULTISIG (threshold or count out of range, duplicate key). */
QCN_MUST_CHECK int qcn_keyrec_decode(struct qcn_keyrec *out, struct qcn_view in);

/* Appends the encoding of rec (validated as by decode) to b. */
QCN_MUST_CHECK int qcn_keyrec_encode(struct qcn_buf *b, const struct qcn_keyrec *rec);

/* Single-key record from (scheme, pk), checked for size. */
QCN_MUST_CHECK int qcn_keyrec_single(struct qcn_keyrec *out, uint8_t scheme, struct qcn_view pk);

/* The key hash of an encoded record rec (len bytes, as qcn_keyrec_encode
 * wrote it): Keccak-256(rec). Cannot fail; thread-safe. */
void qcn_keyrec_hash(uint8_t out[QCN_HASH_BYTES], const uint8_t *rec, size_t len);

/* Address of a multisig account created by creator at creator_nonce:
 * last 20 bytes of Keccak-256(0x80 || creator || be64(creator_nonce) || key_hash). */
void qcn_address_multisig(uint8_t out[QCN_ADDRESS_BYTES], const uint8_t creator[QCN_ADDRESS_BYTES],
                          uint64_t creator_nonce, const uint8_t key_hash[QCN_HASH_BYTES]);

#endif
