/* devkey.h - the DEVELOPMENT key of a local dev chain, and a small signer of
 * native transfers used by the dev load generator and `qcn bench chain`.
 *
 * <datadir>/dev.key is a JSON file holding an ML-DSA-65 key seed IN THE
 * CLEAR, marked as a development key in the file itself. It exists so that
 * `make run` has a funded account to play with; it must never hold real
 * funds. (The wallet's encrypted keystore is `qcn keys`.) The file is
 * created with mode 0600. */
#ifndef QCN_NODE_DEVKEY_H
#define QCN_NODE_DEVKEY_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "crypto/mldsa.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_DEV_KEY_WARNING                                                                        \
    "DEVELOPMENT KEY - stored unencrypted - for local dev chains only - never use it for real "    \
    "funds"
#define QCN_DEV_KEY_MAX_FILE 4096

/* A single ML-DSA-65 signing key. Keep it in qcn_secure_alloc memory. */
struct qcn_dev_key {
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    uint8_t scheme; /* QCN_SCHEME_MLDSA65 */
    uint8_t address[QCN_ADDRESS_BYTES];
    uint8_t pk[QCN_MLDSA65_PK_BYTES];
    uint8_t sk[QCN_MLDSA65_SK_BYTES];
};

/* Derives the key pair and address from seed (FIPS 204 KeyGen_internal). */
QCN_MUST_CHECK int qcn_dev_key_from_seed(struct qcn_dev_key *k,
                                         const uint8_t seed[QCN_MLDSA_SEED_BYTES]);
/* A fresh random key. */
QCN_MUST_CHECK int qcn_dev_key_generate(struct qcn_dev_key *k);
/* Writes k to path (mode 0600, refusing to overwrite: QCN_ERR_EXISTS). */
QCN_MUST_CHECK int qcn_dev_key_save(const struct qcn_dev_key *k, const char *path);
/* Reads path. QCN_ERR_NOT_FOUND, QCN_ERR_BAD_JSON (not a dev key file),
 * QCN_ERR_BAD_KEY (the address does not match the seed). k is wiped on
 * failure. */
QCN_MUST_CHECK int qcn_dev_key_load(struct qcn_dev_key *k, const char *path);

/* A signed native transfer from k: gas_limit 0 means "exactly the intrinsic
 * gas" (computed by the caller with qcn_tx_intrinsic_gas; see
 * qcn_dev_transfer_gas). with_pubkey attaches the public key (needed until
 * the chain has recorded the sender's key). out is reset first. */
struct qcn_dev_transfer {
    uint64_t chain_id;
    uint64_t nonce;
    uint64_t max_priority_fee;
    uint64_t max_fee;
    uint64_t gas_limit;
    uint8_t to[QCN_ADDRESS_BYTES];
    uint64_t value;
    int with_pubkey;
};
QCN_MUST_CHECK int qcn_dev_transfer_sign(struct qcn_buf *out, const struct qcn_dev_key *k,
                                         const struct qcn_dev_transfer *t);

/* Genesis JSON (chain/chain.h's format) for a dev or bench chain: chain_id,
 * block gas limit, each of the n keys' addresses funded with balance_hex wei
 * ("0x..."); with record_keys, their ML-DSA-65 public keys are recorded at
 * genesis so their transactions may omit the key. out is reset first. */
QCN_MUST_CHECK int qcn_dev_genesis_json(struct qcn_buf *out, uint64_t chain_id, uint64_t gas_limit,
                                        const struct qcn_dev_key *keys, size_t n,
                                        const char *balance_hex, int record_keys);

#endif
