/* txfile.h - the transaction file of the offline and multisig flows
 * (docs/wallet.md "Transaction files" documents the JSON).
 *
 * One JSON object holds the signed fields of a type-0x51 transaction
 * (docs/protocol.md §2), the public key to attach (if any), for a multisig
 * sender its key set and threshold, and the signatures gathered so far.
 * `qcn tx build` / `qcn multisig propose` write it unsigned; `qcn tx sign` /
 * `qcn multisig sign` add signatures (each one verified against the key it
 * claims before it is stored); once complete the file also carries the
 * envelope ("raw") and its hash, which `submit` broadcasts.
 *
 * The sighash in the file is recomputed on load and must match, so a file
 * edited after signing is refused instead of producing signatures over
 * fields the user never saw. Objects are not thread-safe. */
#ifndef QCN_WALLET_TXFILE_H
#define QCN_WALLET_TXFILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/keyrec.h"
#include "codec/tx.h"
#include "crypto/mldsa.h"
#include "util/bytes.h"
#include "util/err.h"
#include "wallet/keystore.h"

#define QCN_TXFILE_FORMAT "qcn-tx/1"
#define QCN_TXFILE_MAX_BYTES (1u << 20) /* the largest possible file is ~0.4 MiB */

/* Gas of the key-manager operations (docs/protocol.md §4-5). */
#define QCN_WALLET_GAS_KEY_RECORD 20000u
#define QCN_WALLET_GAS_MULTISIG_CREATE 52000u

/* The key-manager system address 0x...5100 (docs/protocol.md §1). */
extern const uint8_t qcn_wallet_key_manager[QCN_ADDRESS_BYTES];

struct qcn_txfile_key {
    uint8_t scheme;
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES];
    size_t pk_len;
};

struct qcn_txfile_sig {
    uint32_t index;
    uint8_t sig[QCN_MLDSA_MAX_SIG_BYTES];
    size_t len;
};

struct qcn_txfile {
    struct qcn_tx_fields f; /* f.data points into data */
    struct qcn_buf data;
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES]; /* public key to attach (single key) */
    size_t pk_len;                      /* 0: none attached */
    uint32_t threshold;                 /* multisig only */
    uint32_t nkeys;
    struct qcn_txfile_key keys[QCN_MULTISIG_MAX_KEYS];
    uint32_t nsigs; /* kept in increasing index order */
    struct qcn_txfile_sig sigs[QCN_TX_MAX_SIGS];
};

/* Heap object, zeroed; NULL on failure. free accepts NULL. */
struct qcn_txfile *qcn_txfile_new(void);
void qcn_txfile_free(struct qcn_txfile *t);
/* Copies data into the file's own buffer (at most QCN_TX_MAX_DATA bytes). */
QCN_MUST_CHECK int qcn_txfile_set_data(struct qcn_txfile *t, const uint8_t *p, size_t len);

/* The signing hash of the file's fields. */
QCN_MUST_CHECK int qcn_txfile_sighash(const struct qcn_txfile *t, uint8_t out[QCN_HASH_BYTES]);

/* Gas limit that covers the transaction once signed: intrinsic gas
 * (docs/protocol.md §5) with the signatures it will carry (for a multisig,
 * the threshold's largest signatures) and the attached key, plus the
 * key-manager operation's gas when sent to 0x...5100. */
uint64_t qcn_txfile_gas(const struct qcn_txfile *t);

/* Signs with k and stores the signature. Single key: k must sign for
 * t->f.from with t->f.scheme (QCN_ERR_TX_KEY_MISMATCH otherwise). Multisig:
 * k's public key must be in the set (QCN_ERR_NOT_FOUND otherwise); an
 * earlier signature of the same key is replaced. */
QCN_MUST_CHECK int qcn_txfile_sign(struct qcn_txfile *t, const struct qcn_wallet_key *k);

/* Signatures still needed (0 when complete). */
uint32_t qcn_txfile_missing(const struct qcn_txfile *t);

/* The envelope: single key -> [[0, sig]] with the attached key; multisig ->
 * the first `threshold` signatures by index (all of them with allow_short
 * when fewer were gathered, so a node can be shown refusing it). Appends to
 * out; hash gets the transaction hash. QCN_ERR_TX_MULTISIG if signatures are
 * missing and allow_short is 0. */
QCN_MUST_CHECK int qcn_txfile_encode(const struct qcn_txfile *t, struct qcn_buf *out,
                                     uint8_t hash[QCN_HASH_BYTES], int allow_short);

/* JSON form (format above). to_json adds "raw" and "hash" when complete. */
QCN_MUST_CHECK int qcn_txfile_to_json(json_t **out, const struct qcn_txfile *t);
/* Strict: unknown format, missing or malformed fields, a signature that does
 * not verify, or a sighash that does not match refuse the file with a message
 * naming the field in msg. */
QCN_MUST_CHECK int qcn_txfile_from_json(struct qcn_txfile *t, const json_t *j, char *msg,
                                        size_t msgcap);
QCN_MUST_CHECK int qcn_txfile_load(struct qcn_txfile *t, const char *path, char *msg,
                                   size_t msgcap);
/* Writes the file (mode 0600, atomic replace). */
QCN_MUST_CHECK int qcn_txfile_save(const struct qcn_txfile *t, const char *path);

/* Key-manager data (docs/protocol.md §4): rotate = RLP([1, scheme, pk]);
 * multisig create/set = RLP([op, threshold, [[scheme, pk], ...]]). */
QCN_MUST_CHECK int qcn_keyop_rotate(struct qcn_buf *out, uint8_t scheme, const uint8_t *pk,
                                    size_t pk_len);
QCN_MUST_CHECK int qcn_keyop_multisig(struct qcn_buf *out, uint8_t op, uint32_t threshold,
                                      const struct qcn_txfile_key *keys, uint32_t nkeys);
/* Address the create-multisig operation gives (protocol §3): from the
 * creator, its nonce before the transaction and the key record's hash.
 * QCN_ERR_TX_MULTISIG for a set the chain would refuse. */
QCN_MUST_CHECK int qcn_multisig_address(uint8_t out[QCN_ADDRESS_BYTES],
                                        const uint8_t creator[QCN_ADDRESS_BYTES], uint64_t nonce,
                                        uint32_t threshold, const struct qcn_txfile_key *keys,
                                        uint32_t nkeys);

#endif
