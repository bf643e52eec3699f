/* kex.h - hybrid key agreement for the peer-to-peer handshake:
 * X25519 (RFC 7748) combined with ML-KEM-768 (FIPS 203).
 *
 * The session secret stays safe while EITHER component holds: X25519 guards
 * against a flaw in the young ML-KEM, ML-KEM guards against a quantum
 * computer that records traffic today and breaks X25519 later.
 *
 * Message flow (one round trip; the initiator is the side that dialled):
 *
 *   initiator                                          responder
 *   qcn_kex_initiator_start()
 *        -- init msg: X25519 pub X_i (32) || ML-KEM-768 ek (1184) -->
 *                                                      qcn_kex_respond()
 *        <-- resp msg: X25519 pub X_r (32) || ML-KEM-768 ct (1088) --
 *   qcn_kex_initiator_finish()
 *
 * Both sides then hold the same 64-byte secret:
 *
 *   secret = SHAKE256(
 *       be64(len(LABEL))   || LABEL        LABEL = "QCN-KEX-X25519-MLKEM768-v1"
 *    || be64(len(context)) || context      caller-supplied transcript/context
 *    || init msg (1216)    || resp msg (1120)
 *    || ss_mlkem (32)      || ss_x25519 (32), 64 bytes)
 *
 * where ss_x25519 = X25519(x_i, X_r) = X25519(x_r, X_i) and ss_mlkem is the
 * ML-KEM-768 shared key. Every field has a fixed length or a length prefix, so
 * distinct inputs never encode to the same string. `context` is whatever both
 * sides must agree on and that is not in the two messages: the protocol
 * version, both hello messages, chain id / genesis hash, the identity keys.
 * If the two sides pass different contexts they derive different secrets,
 * which the handshake detects at its first authenticated message (the secret
 * itself is NOT authenticated: bind it to the ML-DSA identities by signing
 * the transcript, as the p2p handshake does).
 *
 * The caller splits the 64 bytes into keys (e.g. bytes 0-31 initiator->
 * responder AEAD key, 32-63 responder->initiator) and wipes them after use.
 *
 * Errors (outputs are zeroed on every failure):
 *   QCN_ERR_INVALID_ARG     a message of the wrong length
 *   QCN_ERR_TOO_LARGE       context longer than QCN_KEX_MAX_CONTEXT_BYTES
 *   QCN_ERR_KEY_CHECK       the ML-KEM ek fails the FIPS 203 §7.2 check
 *   QCN_ERR_BAD_KEY         an X25519 public value of low order (shared
 *                           secret all zero); the peer is misbehaving
 *   QCN_ERR_CRYPTO_BACKEND  libsodium could not be initialised
 *
 * context may be NULL when context_len is 0.
 *
 * Thread-safety: the functions keep no global state; a struct
 * qcn_kex_initiator must not be used by two threads at once. No heap
 * allocation. Randomness comes from qcn_rng_bytes. */
#ifndef QCN_CRYPTO_KEX_H
#define QCN_CRYPTO_KEX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mlkem.h"
#include "util/err.h"

#define QCN_KEX_X25519_BYTES 32
#define QCN_KEX_INIT_MSG_BYTES (QCN_KEX_X25519_BYTES + QCN_MLKEM768_EK_BYTES) /* 1216 */
#define QCN_KEX_RESP_MSG_BYTES (QCN_KEX_X25519_BYTES + QCN_MLKEM768_CT_BYTES) /* 1120 */
#define QCN_KEX_SECRET_BYTES 64
/* Cap on the caller-supplied context: it may carry peer-influenced bytes
 * (hello messages), so it has a named bound. */
#define QCN_KEX_MAX_CONTEXT_BYTES 65536
#define QCN_KEX_LABEL "QCN-KEX-X25519-MLKEM768-v1"

/* The initiator's state between start and finish. Caller-owned storage
 * (stack or struct member); holds the ephemeral secrets, so always end it
 * with qcn_kex_initiator_clear, on success and on error. Fields are private. */
struct qcn_kex_initiator {
    uint8_t x25519_sk[QCN_KEX_X25519_BYTES];
    uint8_t mlkem_dk[QCN_MLKEM768_DK_BYTES];
    uint8_t init_msg[QCN_KEX_INIT_MSG_BYTES]; /* kept for the transcript */
    int started;
};

/* Generates fresh ephemeral X25519 and ML-KEM-768 key pairs into st and
 * writes the message to send, msg_out (QCN_KEX_INIT_MSG_BYTES). Returns
 * QCN_OK or QCN_ERR_CRYPTO_BACKEND (st is then cleared). */
QCN_MUST_CHECK int qcn_kex_initiator_start(struct qcn_kex_initiator *st,
                                           uint8_t msg_out[QCN_KEX_INIT_MSG_BYTES]);

/* Responder side, one call: checks the initiator's message (init_msg,
 * init_len bytes, from the network), encapsulates to its ek, draws an
 * ephemeral X25519 key, writes the reply to msg_out
 * (QCN_KEX_RESP_MSG_BYTES) and the session secret to secret. The ephemeral
 * secrets are wiped before returning. On error both outputs are zeroed and
 * nothing should be sent except an abort. */
QCN_MUST_CHECK int qcn_kex_respond(uint8_t secret[QCN_KEX_SECRET_BYTES],
                                   uint8_t msg_out[QCN_KEX_RESP_MSG_BYTES], const uint8_t *init_msg,
                                   size_t init_len, const uint8_t *context, size_t context_len);

/* Initiator side, after the responder's message (resp_msg, resp_len bytes)
 * arrived: decapsulates, completes X25519 and derives secret. A modified
 * ML-KEM ciphertext is not detected here (implicit rejection yields a
 * different secret, caught by the first AEAD frame). st stays started; clear
 * it. QCN_ERR_INVALID_ARG also if st was not started. */
QCN_MUST_CHECK int qcn_kex_initiator_finish(struct qcn_kex_initiator *st,
                                            uint8_t secret[QCN_KEX_SECRET_BYTES],
                                            const uint8_t *resp_msg, size_t resp_len,
                                            const uint8_t *context, size_t context_len);

/* Wipes st. Safe on a zeroed, started or finished state. */
void qcn_kex_initiator_clear(struct qcn_kex_initiator *st);

#endif
