/* err.h - the one error enum of QuantumChain Nexus.
 *
 * Every fallible function returns an enum qcn_err; QCN_OK is 0. Numbers are
 * stable (they reach users, logs and peers), grouped by subsystem in blocks of
 * 100 so subsystems can add codes without renumbering anyone else's:
 *   1-99 general, 100 crypto, 200 codec, 300 store, 400 state, 500 vm,
 *   600 chain (transaction and block rejection reasons), 700 consensus,
 *   800 p2p, 900 rpc, 1000 node/cli.
 * Add a code by appending one X() line inside its block. */
#ifndef QCN_UTIL_ERR_H
#define QCN_UTIL_ERR_H

#define QCN_ERRORS(X)                                                                              \
    X(QCN_OK, 0, "ok")                                                                             \
    X(QCN_ERR_NOMEM, 1, "out of memory")                                                           \
    X(QCN_ERR_INVALID_ARG, 2, "invalid argument")                                                  \
    X(QCN_ERR_TRUNCATED, 3, "input truncated")                                                     \
    X(QCN_ERR_TRAILING, 4, "trailing bytes after input")                                           \
    X(QCN_ERR_TOO_LARGE, 5, "input exceeds its size cap")                                          \
    X(QCN_ERR_BAD_HEX, 6, "malformed hex string")                                                  \
    X(QCN_ERR_IO, 7, "i/o error")                                                                  \
    X(QCN_ERR_NOT_FOUND, 8, "not found")                                                           \
    X(QCN_ERR_EXISTS, 9, "already exists")                                                         \
    X(QCN_ERR_OVERFLOW, 10, "arithmetic overflow")                                                 \
    X(QCN_ERR_UNSUPPORTED, 11, "not supported")                                                    \
    X(QCN_ERR_INTERNAL, 12, "internal error")                                                      \
    X(QCN_ERR_BUSY, 13, "resource busy")                                                           \
    X(QCN_ERR_TIMEOUT, 14, "timed out")                                                            \
    X(QCN_ERR_CLOSED, 15, "closed")                                                                \
    X(QCN_ERR_BAD_JSON, 16, "malformed JSON")                                                      \
    X(QCN_ERR_CRYPTO_BACKEND, 100, "crypto library failure")                                       \
    X(QCN_ERR_BAD_PARAM_SET, 101, "unknown parameter set")                                         \
    X(QCN_ERR_BAD_KEY, 102, "malformed key")                                                       \
    X(QCN_ERR_BAD_SIGNATURE, 103, "signature does not verify")                                     \
    X(QCN_ERR_BAD_CIPHERTEXT, 104, "malformed ciphertext")                                         \
    X(QCN_ERR_CONTEXT_TOO_LONG, 105, "context string longer than 255 bytes")                       \
    X(QCN_ERR_RNG, 106, "random number generator failure")                                         \
    X(QCN_ERR_KEY_CHECK, 107, "key failed its FIPS 203 check")                                     \
    X(QCN_ERR_DECRYPT, 108, "decryption failed (wrong key or corrupted data)")                     \
    X(QCN_ERR_RLP, 200, "malformed RLP")                                                           \
    X(QCN_ERR_RLP_NONCANONICAL, 201, "non-canonical RLP encoding")                                 \
    X(QCN_ERR_RLP_TYPE, 202, "RLP item has the wrong type (list vs string)")                       \
    X(QCN_ERR_RLP_DEPTH, 203, "RLP nesting too deep")                                              \
    X(QCN_ERR_CODEC, 204, "malformed encoding")                                                    \
    X(QCN_ERR_STORE, 300, "storage engine error")                                                  \
    X(QCN_ERR_STORE_CORRUPT, 301, "store is corrupted")                                            \
    X(QCN_ERR_STORE_FULL, 302, "store map is full")                                                \
    X(QCN_ERR_STORE_SCHEMA, 303, "store schema version unknown or not a qcn store")                \
    X(QCN_ERR_STATE, 400, "state error")                                                           \
    X(QCN_ERR_STATE_ROOT, 401, "state root mismatch")                                              \
    X(QCN_ERR_STATE_PROOF, 402, "Merkle proof does not verify")                                    \
    X(QCN_ERR_STATE_MISSING_NODE, 403, "trie node missing from the node store")                    \
    X(QCN_ERR_VM, 500, "evm error")                                                                \
    X(QCN_ERR_VM_OUT_OF_GAS, 501, "out of gas")                                                    \
    X(QCN_ERR_VM_PRECOMPILE, 502, "precompile failed on its input")                                \
    X(QCN_ERR_VM_TX_NONCE, 503, "transaction nonce does not match the sender's nonce")             \
    X(QCN_ERR_VM_TX_NONCE_MAX, 504, "sender nonce is at its maximum (EIP-2681)")                   \
    X(QCN_ERR_VM_TX_SENDER_CODE, 505, "sender has code (EIP-3607)")                                \
    X(QCN_ERR_VM_TX_INITCODE, 506, "initcode exceeds its size limit (EIP-3860)")                   \
    X(QCN_ERR_VM_TX_BLOB, 507, "invalid blob transaction (EIP-4844)")                              \
    X(QCN_ERR_VM_STATETEST, 508, "malformed state test")                                           \
    X(QCN_ERR_TX_BAD_SIGNATURE, 600, "bad signature")                                              \
    X(QCN_ERR_TX_WRONG_CHAIN, 601, "wrong chain id")                                               \
    X(QCN_ERR_TX_NONCE_LOW, 602, "nonce too low")                                                  \
    X(QCN_ERR_TX_NONCE_GAP, 603, "nonce gap over the cap")                                         \
    X(QCN_ERR_TX_FUNDS, 604, "insufficient funds")                                                 \
    X(QCN_ERR_TX_FEE_LOW, 605, "fee too low")                                                      \
    X(QCN_ERR_TX_OVERSIZED, 606, "transaction oversized")                                          \
    X(QCN_ERR_TX_POOL_FULL, 607, "pool full")                                                      \
    X(QCN_ERR_TX_UNKNOWN_SCHEME, 608, "unknown signature scheme")                                  \
    X(QCN_ERR_TX_MALFORMED, 609, "malformed transaction")                                          \
    X(QCN_ERR_TX_INTRINSIC_GAS, 610, "gas limit below intrinsic gas")                              \
    X(QCN_ERR_TX_GAS_LIMIT, 611, "gas limit exceeds block gas limit")                              \
    X(QCN_ERR_TX_KNOWN, 612, "transaction already known")                                          \
    X(QCN_ERR_TX_REPLACEMENT_UNDERPRICED, 613, "replacement transaction underpriced")              \
    X(QCN_ERR_TX_KEY_MISMATCH, 614, "public key does not match the sender's recorded key")         \
    X(QCN_ERR_TX_MISSING_KEY, 615, "public key missing and not recorded on chain")                 \
    X(QCN_ERR_TX_MULTISIG, 616, "multisig threshold not met")                                      \
    X(QCN_ERR_TX_SENDER_LIMIT, 617, "too many pending transactions from this sender")              \
    X(QCN_ERR_TX_EXPIRED, 618, "transaction expired from the pool")                                \
    X(QCN_ERR_TX_VM_UNAVAILABLE, 619, "contract execution is not available yet")                   \
    X(QCN_ERR_TX_FEE_FIELDS, 620, "max priority fee above max fee")                                \
    X(QCN_ERR_TX_NONCE_HIGH, 621, "nonce ahead of the account nonce")                              \
    X(QCN_ERR_TX_SENDER_CODE, 622, "sender is a contract")                                         \
    X(QCN_ERR_BLOCK_INVALID, 650, "invalid block")                                                 \
    X(QCN_ERR_BLOCK_PARENT, 651, "block does not extend the head")                                 \
    X(QCN_ERR_BLOCK_TIMESTAMP, 652, "block timestamp before its parent's")                         \
    X(QCN_ERR_BLOCK_GAS_LIMIT, 653, "block gas limit differs from the chain's")                    \
    X(QCN_ERR_BLOCK_GAS_USED, 654, "block gas used mismatch or over the limit")                    \
    X(QCN_ERR_BLOCK_BASE_FEE, 655, "block base fee mismatch")                                      \
    X(QCN_ERR_BLOCK_TX_ROOT, 656, "transactions root mismatch")                                    \
    X(QCN_ERR_BLOCK_RECEIPTS_ROOT, 657, "receipts root mismatch")                                  \
    X(QCN_ERR_BLOCK_BLOOM, 658, "logs bloom mismatch")                                             \
    X(QCN_ERR_BLOCK_PENDING, 659, "another block is pending commit")                               \
    X(QCN_ERR_CONSENSUS, 700, "consensus error")                                                   \
    X(QCN_ERR_CONSENSUS_STALE, 701, "consensus message for another height or round window")        \
    X(QCN_ERR_CONSENSUS_EQUIVOCATION, 702, "conflicting consensus messages from one validator")    \
    X(QCN_ERR_CONSENSUS_DOUBLE_SIGN, 703, "refused to sign a vote conflicting with a signed one")  \
    X(QCN_ERR_CONSENSUS_CERT, 704, "invalid commit certificate")                                   \
    X(QCN_ERR_CONSENSUS_VALIDATOR, 705, "not a validator of this height")                          \
    X(QCN_ERR_CONSENSUS_BEACON, 706, "beacon reveal does not hash to the last revealed value")     \
    X(QCN_ERR_CONSENSUS_WAL, 707, "consensus write-ahead log is corrupt or unwritable")            \
    X(QCN_ERR_CONSENSUS_EVIDENCE, 708, "invalid double-sign evidence")                             \
    X(QCN_ERR_STAKING, 709, "staking operation rejected")                                          \
    X(QCN_ERR_STAKING_UNKNOWN, 710, "evidence names no validator known to staking")                \
    X(QCN_ERR_STAKING_TOMBSTONED, 711, "validator already tombstoned for double signing")          \
    X(QCN_ERR_STAKING_REPLAY, 712, "this double sign has already been punished")                   \
    X(QCN_ERR_STAKING_EXPIRED, 713, "double-sign evidence older than the unbonding period")        \
    X(QCN_ERR_P2P, 800, "peer-to-peer protocol error")                                             \
    X(QCN_ERR_HANDSHAKE, 801, "handshake failed")                                                  \
    X(QCN_ERR_RPC, 900, "rpc error")                                                               \
    X(QCN_ERR_CONFIG, 1000, "invalid configuration")                                               \
    X(QCN_ERR_USAGE, 1001, "invalid command-line usage")                                           \
    X(QCN_ERR_PASSWORD, 1002, "wrong password")                                                    \
    X(QCN_ERR_KEYSTORE_FORMAT, 1050, "not a qcn keystore file (or an unsupported version)")        \
    X(QCN_ERR_BACKUP_CHECKSUM, 1051, "backup text is mistyped (checksum mismatch)")                \
    X(QCN_ERR_ADDRESS_CHECKSUM, 1052, "address checksum mismatch (mixed-case address mistyped)")   \
    X(QCN_ERR_AMOUNT, 1053, "invalid amount")                                                      \
    X(QCN_ERR_NODE_UNREACHABLE, 1054, "cannot reach the node")

enum qcn_err {
#define QCN_ERR_ENUM_(name, num, msg) name = num,
    QCN_ERRORS(QCN_ERR_ENUM_)
#undef QCN_ERR_ENUM_
};

/* Marks a function whose error result must be looked at. */
#define QCN_MUST_CHECK __attribute__((warn_unused_result))

/* Returns a static, human-readable message for err ("unknown error" for a
 * number outside the enum). Thread-safe. */
const char *qcn_err_str(int err);

/* Returns the symbolic name ("QCN_ERR_TX_NONCE_LOW") for err, or "QCN_ERR_?". */
const char *qcn_err_name(int err);

#endif
