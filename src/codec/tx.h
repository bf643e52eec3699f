/* tx.h - the QuantumChain Nexus transaction: an EIP-2718 typed envelope
 * (type byte QCN_TX_TYPE) carrying post-quantum (ML-DSA) signatures.
 *
 * Byte format (docs/protocol.md §2 is the normative text):
 *
 *   envelope  = 0x51 || RLP([chain_id, nonce, max_priority_fee_per_gas,
 *                            max_fee_per_gas, gas_limit, from, to, value, data,
 *                            access_list, scheme, public_key, signatures])
 *   unsigned  = RLP([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
 *                    gas_limit, from, to, value, data, access_list, scheme])
 *   sighash   = Keccak-256(0x51 || unsigned)
 *   signature = ML-DSA.Sign(sk, sighash, ctx = "QCN-TX-v1")       (FIPS 204 Alg 2)
 *   tx hash   = Keccak-256(envelope)
 *
 *   chain_id, nonce, fees, gas_limit: RLP integers of at most 8 bytes.
 *   from: 20 bytes (the sender; ML-DSA has no key recovery, so it is explicit).
 *   to: 20 bytes, or the empty string for contract creation.
 *   value: RLP integer of at most 32 bytes.
 *   access_list: EIP-2930 [[address, [slot, ...]], ...].
 *   scheme: 1 = ML-DSA-44, 2 = ML-DSA-65, 3 = ML-DSA-87, 0x80 = multisig.
 *   public_key: empty, or the sender's key (single-key schemes only).
 *   signatures: [[key_index, sig], ...], key_index strictly increasing;
 *               exactly [[0, sig]] for a single-key scheme.
 *
 * A decoded transaction owns a copy of its envelope; every view inside it points
 * into that copy. Transactions are reference counted so the mempool, a block
 * being built and a verification job can share one; the count is atomic, the
 * rest of the object is not synchronised (one writer at a time). */
#ifndef QCN_CODEC_TX_H
#define QCN_CODEC_TX_H

#include <stddef.h>
#include <stdint.h>

#include "codec/u256.h"
#include "util/bytes.h"
#include "util/err.h"

/* EIP-2718 type byte. Ethereum uses 0x00-0x04 (legacy-less types 1..4) and
 * reserves 0x7f; legacy RLP transactions start with a byte >= 0xc0. 0x51 ('Q')
 * is far above every type Ethereum has assigned or proposed, so a QCN envelope
 * is never mistaken for an Ethereum transaction and vice versa. */
#define QCN_TX_TYPE 0x51

#define QCN_ADDRESS_BYTES 20
#define QCN_HASH_BYTES 32

/* Signing context (FIPS 204 ctx) for transactions. */
#define QCN_TX_SIG_CTX "QCN-TX-v1"
#define QCN_TX_SIG_CTX_LEN 9

/* Signature scheme ids (the byte hashed into addresses). */
enum qcn_scheme {
    QCN_SCHEME_MLDSA44 = 1,
    QCN_SCHEME_MLDSA65 = 2,
    QCN_SCHEME_MLDSA87 = 3,
    QCN_SCHEME_MULTISIG = 0x80,
};
#define QCN_SCHEME_DEFAULT QCN_SCHEME_MLDSA65

/* Caps on what a peer or client can make us decode. */
#define QCN_TX_MAX_BYTES (128u * 1024u)  /* whole envelope */
#define QCN_TX_MAX_DATA (64u * 1024u)    /* data field */
#define QCN_TX_MAX_ACCESS_ADDRESSES 256u /* access-list entries */
#define QCN_TX_MAX_ACCESS_KEYS 1024u     /* storage keys over all entries */
#define QCN_MULTISIG_MAX_KEYS 16u        /* keys in a multisig set */
#define QCN_TX_MAX_SIGS QCN_MULTISIG_MAX_KEYS

struct qcn_tx_sig {
    uint32_t key_index;
    struct qcn_view sig;
};

struct qcn_tx {
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t max_priority_fee; /* wei per gas */
    uint64_t max_fee;          /* wei per gas */
    uint64_t gas_limit;
    uint8_t from[QCN_ADDRESS_BYTES];
    int has_to; /* 0: contract creation */
    uint8_t to[QCN_ADDRESS_BYTES];
    struct qcn_u256 value;
    struct qcn_view data;
    struct qcn_view access_list; /* the raw RLP list (EIP-2930 layout) */
    uint32_t access_addresses;
    uint32_t access_keys;
    uint8_t scheme;
    struct qcn_view pubkey; /* empty when omitted */
    uint32_t nsigs;
    struct qcn_tx_sig sigs[QCN_TX_MAX_SIGS];

    uint8_t hash[QCN_HASH_BYTES];    /* Keccak-256(envelope) */
    uint8_t sighash[QCN_HASH_BYTES]; /* the message that was signed */
    uint8_t *raw;                    /* owned envelope */
    size_t raw_len;

    /* Verification cache (chain/verify.h): set once the signatures verified
     * against the key record whose hash is verified_key_hash. Execution skips
     * a second verification when the sender's record still has that hash. */
    int verified;
    uint8_t verified_key_hash[QCN_HASH_BYTES];
    /* The sender's key record (codec/keyrec.h encoding) resolved for
     * verification by qcn_chain_tx_prepare; owned, may be NULL. */
    uint8_t *key_record;
    size_t key_record_len;
    /* Keccak-256 of key_record when whoever set key_record knew it (the
     * chain: it is the sender's recorded key hash); valid only while
     * key_record_hash_of == key_record, so verification need not hash the
     * record again. */
    const uint8_t *key_record_hash_of;
    uint8_t key_record_hash[QCN_HASH_BYTES];

    /* Mempool bookkeeping (chain/mempool.c); not part of the encoding. */
    uint64_t arrival_ms;
    int refs; /* atomic */
};

/* The fields a signer fills to build a transaction (codec only: no keys). */
struct qcn_tx_fields {
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t max_priority_fee;
    uint64_t max_fee;
    uint64_t gas_limit;
    uint8_t from[QCN_ADDRESS_BYTES];
    int has_to;
    uint8_t to[QCN_ADDRESS_BYTES];
    struct qcn_u256 value;
    struct qcn_view data;
    struct qcn_view access_list; /* encoded RLP list; empty view = [] */
    uint8_t scheme;
};

/* Decodes an envelope strictly (canonical RLP, every field in range, no
 * trailing bytes, all caps). On success *out is a new transaction with one
 * reference, owning a copy of in. QCN_ERR_TX_OVERSIZED (in.len or a field over
 * its cap), QCN_ERR_TX_MALFORMED (layout or type byte), QCN_ERR_TX_UNKNOWN_SCHEME,
 * QCN_ERR_NOMEM. *out is NULL on failure. Thread-safe. */
QCN_MUST_CHECK int qcn_tx_decode(struct qcn_tx **out, struct qcn_view in);
/* qcn_tx_decode of in[0..n): out[i] and errs[i] as qcn_tx_decode's *out and
 * result for in[i]. The envelopes' hashes are computed four at a time
 * (qcn_keccak256_x4), which is most of the cost of decoding a PQ envelope.
 * Thread-safe. */
void qcn_tx_decode_many(struct qcn_tx **out, int *errs, const struct qcn_view *in, size_t n);

/* Reference counting (atomic). unref frees at zero; NULL is a no-op. */
struct qcn_tx *qcn_tx_ref(struct qcn_tx *tx);
void qcn_tx_unref(struct qcn_tx *tx);

/* Appends RLP of the unsigned payload (without the type byte) to b. */
QCN_MUST_CHECK int qcn_tx_encode_unsigned(struct qcn_buf *b, const struct qcn_tx_fields *f);
/* sighash = Keccak-256(QCN_TX_TYPE || unsigned payload). */
QCN_MUST_CHECK int qcn_tx_sighash(uint8_t out[QCN_HASH_BYTES], const struct qcn_tx_fields *f);
/* Appends the full envelope (type byte included). pubkey may be empty;
 * sigs[0..nsigs) must be in increasing key_index order. */
QCN_MUST_CHECK int qcn_tx_encode(struct qcn_buf *b, const struct qcn_tx_fields *f,
                                 struct qcn_view pubkey, const struct qcn_tx_sig *sigs,
                                 size_t nsigs);
/* Copies the signed fields of a decoded transaction. Views point into tx. */
void qcn_tx_fields_from(struct qcn_tx_fields *f, const struct qcn_tx *tx);

/* Address of a single key: last 20 bytes of Keccak-256(scheme || pk). */
void qcn_address_from_key(uint8_t out[QCN_ADDRESS_BYTES], uint8_t scheme, const uint8_t *pk,
                          size_t pklen);

/* ML-DSA parameter set (44/65/87) of a single-key scheme id, or 0. */
int qcn_scheme_param(uint8_t scheme);
/* Public key and signature sizes of a single-key scheme, or 0 if unknown. */
size_t qcn_scheme_pk_bytes(uint8_t scheme);
size_t qcn_scheme_sig_bytes(uint8_t scheme);

/* Signs sighash with a single ML-DSA key under QCN_TX_SIG_CTX. sig must hold
 * qcn_scheme_sig_bytes(scheme). deterministic != 0 uses rnd = 0 (tests and the
 * worked examples of docs/protocol.md); otherwise hedged. Returns QCN_OK,
 * QCN_ERR_TX_UNKNOWN_SCHEME (sig untouched: its size is unknown) or an error
 * of qcn_mldsa_sign (sig zeroed). sk is read, not kept; the caller wipes it.
 * Thread-safe. */
QCN_MUST_CHECK int qcn_tx_sign_hash(uint8_t *sig, uint8_t scheme, const uint8_t *sk,
                                    const uint8_t sighash[QCN_HASH_BYTES], int deterministic);

/* Verifies one signature over sighash. QCN_OK or QCN_ERR_TX_BAD_SIGNATURE,
 * QCN_ERR_TX_UNKNOWN_SCHEME. Thread-safe. */
QCN_MUST_CHECK int qcn_tx_verify_sig(uint8_t scheme, const uint8_t *pk, size_t pklen,
                                     const uint8_t sighash[QCN_HASH_BYTES], const uint8_t *sig,
                                     size_t siglen);

#endif
