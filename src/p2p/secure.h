/* secure.h - the authenticated handshake and the sealed frames of a p2p
 * connection, as pure functions over bytes (no sockets): the transport in
 * p2p.c drives them, and tests and fuzzers drive them directly.
 *
 * Handshake (docs/p2p.md §2), initiator I dials responder R:
 *   I -> R  HS_INIT  version, min_version, chain id, nonce_I, kex init, pk_I
 *   R -> I  HS_RESP  chosen version, nonce_R, kex resp, pk_R,
 *                    sig_R = ML-DSA-65(sk_R, SHA-256(T || HS_INIT || HS_RESP\sig),
 *                                       ctx "QCN-P2P-HS-RESP")
 *   I -> R  HS_FIN   sig_I = ML-DSA-65(sk_I, SHA-256(T || HS_INIT || HS_RESP),
 *                                       ctx "QCN-P2P-HS-FIN")
 * with T = "QCN-P2P-HS-v1". Keys: HKDF-SHA256(ikm = the 64-byte hybrid kex
 * secret, salt = SHA-256(T || HS_INIT || HS_RESP || HS_FIN), info =
 * "QCN-P2P-v1 i2r" / "QCN-P2P-v1 r2i"), 32 bytes each.
 *
 * Frames (docs/p2p.md §3): be32(len(ct)) || ChaCha20-Poly1305(key, nonce =
 * 0^4 || be64(counter), aad = the 4 length bytes, plaintext), counter per
 * direction from 0, never sent; after rekey_frames frames or rekey_bytes
 * plaintext bytes the key becomes HKDF-SHA256(ikm = key, salt = "", info =
 * "QCN-P2P-v1 rekey") and the counter restarts at 0.
 *
 * Threads: no shared state; one object per connection, one thread at a time.
 * ML-DSA signing needs ~100 KiB of stack (crypto/mldsa.h). */
#ifndef QCN_P2P_SECURE_H
#define QCN_P2P_SECURE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/p2p_msg.h"
#include "crypto/kex.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_P2P_KEY_BYTES 32
#define QCN_P2P_TAG_BYTES 16
#define QCN_P2P_FRAME_HDR_BYTES 4
#define QCN_P2P_TRANSCRIPT_LABEL "QCN-P2P-HS-v1"
#define QCN_P2P_SIG_CTX_RESP "QCN-P2P-HS-RESP"
#define QCN_P2P_SIG_CTX_FIN "QCN-P2P-HS-FIN"
#define QCN_P2P_KEX_CONTEXT "QCN-P2P-v1"
#define QCN_P2P_INFO_I2R "QCN-P2P-v1 i2r"
#define QCN_P2P_INFO_R2I "QCN-P2P-v1 r2i"
#define QCN_P2P_INFO_REKEY "QCN-P2P-v1 rekey"
/* Default rekey bounds (per direction). */
#define QCN_P2P_REKEY_FRAMES_DEFAULT (1u << 20)
#define QCN_P2P_REKEY_BYTES_DEFAULT (1ull << 32)

/* A node identity: ML-DSA-65 key pair and its node id (the account address of
 * the key, codec/tx.h qcn_address_from_key with scheme QCN_P2P_ID_SCHEME).
 * sk lives in guarded memory (qcn_secure_alloc). */
struct qcn_p2p_identity {
    uint8_t pk[QCN_P2P_ID_PK_BYTES];
    uint8_t *sk;
    uint8_t node_id[QCN_P2P_NODE_ID_BYTES];
};
/* Derives the key pair from a 32-byte seed (deterministic; ML-DSA KeyGen).
 * QCN_ERR_NOMEM, crypto errors; id is zeroed on failure. */
QCN_MUST_CHECK int qcn_p2p_identity_from_seed(struct qcn_p2p_identity *id,
                                              const uint8_t seed[QCN_MLDSA_SEED_BYTES]);
/* A fresh random identity. */
QCN_MUST_CHECK int qcn_p2p_identity_generate(struct qcn_p2p_identity *id);
void qcn_p2p_identity_clear(struct qcn_p2p_identity *id);
/* Node id of an identity public key. */
void qcn_p2p_node_id(uint8_t out[QCN_P2P_NODE_ID_BYTES], const uint8_t pk[QCN_P2P_ID_PK_BYTES]);

/* Test-only faults (never set outside tests). */
#define QCN_P2P_FAULT_BAD_SIG 0x1u /* sign, then flip a bit of the signature */

struct qcn_p2p_hs_params {
    const struct qcn_p2p_identity *id; /* must outlive the handshake */
    uint64_t chain_id;
    uint16_t version;     /* highest version spoken */
    uint16_t min_version; /* lowest version accepted */
    uint32_t faults;      /* QCN_P2P_FAULT_* (tests) */
};

enum qcn_p2p_role {
    QCN_P2P_INITIATOR = 1,
    QCN_P2P_RESPONDER = 2,
};

/* One handshake. Caller-provided storage; end it with qcn_p2p_hs_clear on
 * every path (it holds ephemeral secrets). Fields are private except the
 * results documented at qcn_p2p_hs_keys. */
struct qcn_p2p_hs {
    int role;
    int state;
    struct qcn_p2p_hs_params prm;
    struct qcn_kex_initiator kex;
    uint8_t init_msg[QCN_P2P_HS_INIT_BYTES];
    uint8_t resp_msg[QCN_P2P_HS_RESP_BYTES];
    uint8_t fin_msg[QCN_P2P_HS_FIN_BYTES];
    uint8_t secret[QCN_KEX_SECRET_BYTES];
    /* results */
    uint16_t version;
    uint8_t peer_pk[QCN_P2P_ID_PK_BYTES];
    uint8_t peer_id[QCN_P2P_NODE_ID_BYTES];
};

/* Initiator: prepares HS_INIT (fresh nonce and ephemeral keys) into out
 * (QCN_P2P_HS_INIT_BYTES). */
QCN_MUST_CHECK int qcn_p2p_hs_initiate(struct qcn_p2p_hs *hs, const struct qcn_p2p_hs_params *prm,
                                       uint8_t out[QCN_P2P_HS_INIT_BYTES]);
/* Responder: takes HS_INIT (len bytes from the peer), writes HS_RESP into out
 * (QCN_P2P_HS_RESP_BYTES). Refuses: malformed (QCN_ERR_CODEC), another chain
 * id (QCN_ERR_HANDSHAKE), a version range that does not meet ours
 * (QCN_ERR_UNSUPPORTED: the peer's highest version is below our minimum, or
 * ours below its minimum), a bad kex message. */
QCN_MUST_CHECK int qcn_p2p_hs_respond(struct qcn_p2p_hs *hs, const struct qcn_p2p_hs_params *prm,
                                      uint8_t out[QCN_P2P_HS_RESP_BYTES], const uint8_t *in,
                                      size_t len);
/* Initiator: takes HS_RESP, checks the version choice and the responder's
 * signature over the transcript (QCN_ERR_BAD_SIGNATURE), derives the secret,
 * writes HS_FIN into out (QCN_P2P_HS_FIN_BYTES). The handshake is complete
 * for the initiator. */
QCN_MUST_CHECK int qcn_p2p_hs_finish(struct qcn_p2p_hs *hs, uint8_t out[QCN_P2P_HS_FIN_BYTES],
                                     const uint8_t *in, size_t len);
/* Responder: takes HS_FIN and checks the initiator's signature. */
QCN_MUST_CHECK int qcn_p2p_hs_accept(struct qcn_p2p_hs *hs, const uint8_t *in, size_t len);
/* After completion: the two traffic keys (send = ours -> peer). */
QCN_MUST_CHECK int qcn_p2p_hs_keys(struct qcn_p2p_hs *hs, uint8_t send[QCN_P2P_KEY_BYTES],
                                   uint8_t recv[QCN_P2P_KEY_BYTES]);
void qcn_p2p_hs_clear(struct qcn_p2p_hs *hs);

/* One direction of sealed frames. */
struct qcn_p2p_cipher {
    uint8_t key[QCN_P2P_KEY_BYTES];
    uint64_t counter; /* frames under the current key */
    uint64_t bytes;   /* plaintext bytes under the current key */
    uint64_t rekey_frames;
    uint64_t rekey_bytes;
    uint64_t rekeys; /* how many times the key changed */
    int dead;        /* a frame failed to open: nothing opens after it */
    void *evp;       /* EVP_CIPHER_CTX */
};
/* rekey_frames / rekey_bytes 0 take the defaults. */
QCN_MUST_CHECK int qcn_p2p_cipher_init(struct qcn_p2p_cipher *c,
                                       const uint8_t key[QCN_P2P_KEY_BYTES], uint64_t rekey_frames,
                                       uint64_t rekey_bytes);
void qcn_p2p_cipher_clear(struct qcn_p2p_cipher *c);
/* Appends one frame (header || ciphertext || tag) sealing pt to out. len
 * must not exceed QCN_P2P_MAX_MSG_BYTES (QCN_ERR_TOO_LARGE). */
QCN_MUST_CHECK int qcn_p2p_seal(struct qcn_p2p_cipher *c, struct qcn_buf *out, const uint8_t *pt,
                                size_t len);
/* Opens a frame body (ct, ctlen bytes = plaintext + tag) whose 4-byte header
 * was hdr; plaintext (ctlen - 16 bytes) into pt. QCN_ERR_DECRYPT if it does
 * not authenticate under the next counter (a forged, replayed or reordered
 * frame): the connection must close; the cipher is then unusable. */
QCN_MUST_CHECK int qcn_p2p_open(struct qcn_p2p_cipher *c, uint8_t *pt,
                                const uint8_t hdr[QCN_P2P_FRAME_HDR_BYTES], const uint8_t *ct,
                                size_t ctlen);

/* HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF. */
QCN_MUST_CHECK int qcn_p2p_hkdf(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
                                const uint8_t *salt, size_t saltlen, const char *info);

#endif
