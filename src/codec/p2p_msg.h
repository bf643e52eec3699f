/* p2p_msg.h - wire encodings of the peer-to-peer protocol (docs/p2p.md).
 *
 * Two families:
 *  - handshake messages, sent in the clear before any key exists, each with a
 *    fixed size (HS_INIT, HS_RESP, HS_FIN; docs/p2p.md §2);
 *  - session messages, the plaintext of one sealed frame: type (1 byte) ||
 *    body (docs/p2p.md §4). Every type has a named cap on its body and on every
 *    count inside it; decode checks caps before anything else.
 *
 * Integers are big-endian. Decoders are strict: exact lengths, counts within
 * caps, no trailing bytes, known types and enum values only. Decoded messages
 * hold VIEWS into the input (no allocation): they live as long as the input
 * buffer. Encoders append to a capped struct qcn_buf.
 *
 * Errors: QCN_ERR_CODEC (malformed: unknown type, bad enum value, length
 * mismatch, trailing bytes, truncated), QCN_ERR_TOO_LARGE (a count or length
 * over its cap), QCN_ERR_NOMEM / QCN_ERR_TOO_LARGE from the buffer on encode.
 * Outputs are zeroed on failure. Thread-safe (no state). */
#ifndef QCN_CODEC_P2P_MSG_H
#define QCN_CODEC_P2P_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "codec/block.h"
#include "crypto/kex.h"
#include "crypto/mldsa.h"
#include "util/bytes.h"
#include "util/err.h"

/* ---- handshake (docs/p2p.md §2) ---- */
#define QCN_P2P_MAGIC 0x51434e50u /* "QCNP" */
#define QCN_P2P_VERSION 1u        /* the version this build speaks (highest) */
#define QCN_P2P_MIN_VERSION 1u    /* the lowest version this build accepts */
#define QCN_P2P_NONCE_BYTES 32
#define QCN_P2P_ID_SCHEME 0x02 /* ML-DSA-65, the scheme byte of codec/tx.h */
#define QCN_P2P_ID_PK_BYTES QCN_MLDSA65_PK_BYTES
#define QCN_P2P_ID_SIG_BYTES QCN_MLDSA65_SIG_BYTES
#define QCN_P2P_NODE_ID_BYTES QCN_ADDRESS_BYTES

/* HS_INIT = magic(4) version(2) min_version(2) chain_id(8) nonce(32) kex_init(1216)
 *           id_scheme(1) id_pk(1952) */
#define QCN_P2P_HS_INIT_BYTES                                                                      \
    (4u + 2u + 2u + 8u + QCN_P2P_NONCE_BYTES + QCN_KEX_INIT_MSG_BYTES + 1u + QCN_P2P_ID_PK_BYTES)
/* HS_RESP = magic(4) version(2) nonce(32) kex_resp(1120) id_scheme(1) id_pk(1952) sig(3309) */
#define QCN_P2P_HS_RESP_UNSIGNED_BYTES                                                             \
    (4u + 2u + QCN_P2P_NONCE_BYTES + QCN_KEX_RESP_MSG_BYTES + 1u + QCN_P2P_ID_PK_BYTES)
#define QCN_P2P_HS_RESP_BYTES (QCN_P2P_HS_RESP_UNSIGNED_BYTES + QCN_P2P_ID_SIG_BYTES)
/* HS_FIN = magic(4) sig(3309) */
#define QCN_P2P_HS_FIN_BYTES (4u + QCN_P2P_ID_SIG_BYTES)
/* Largest handshake message (the receive buffer before keys exist). */
#define QCN_P2P_HS_MAX_BYTES QCN_P2P_HS_RESP_BYTES

struct qcn_p2p_hs_init {
    uint16_t version;
    uint16_t min_version;
    uint64_t chain_id;
    uint8_t nonce[QCN_P2P_NONCE_BYTES];
    uint8_t kex[QCN_KEX_INIT_MSG_BYTES];
    uint8_t id_scheme;
    uint8_t id_pk[QCN_P2P_ID_PK_BYTES];
};
struct qcn_p2p_hs_resp {
    uint16_t version;
    uint8_t nonce[QCN_P2P_NONCE_BYTES];
    uint8_t kex[QCN_KEX_RESP_MSG_BYTES];
    uint8_t id_scheme;
    uint8_t id_pk[QCN_P2P_ID_PK_BYTES];
    uint8_t sig[QCN_P2P_ID_SIG_BYTES];
};
struct qcn_p2p_hs_fin {
    uint8_t sig[QCN_P2P_ID_SIG_BYTES];
};

/* Encoders write exactly the fixed size into out. with_sig = 0 writes the
 * unsigned prefix of HS_RESP (QCN_P2P_HS_RESP_UNSIGNED_BYTES), what the
 * responder's signature covers. */
void qcn_p2p_hs_init_encode(uint8_t out[QCN_P2P_HS_INIT_BYTES], const struct qcn_p2p_hs_init *m);
void qcn_p2p_hs_resp_encode(uint8_t *out, const struct qcn_p2p_hs_resp *m, int with_sig);
void qcn_p2p_hs_fin_encode(uint8_t out[QCN_P2P_HS_FIN_BYTES], const struct qcn_p2p_hs_fin *m);
/* Decoders: exact length, magic, scheme == QCN_P2P_ID_SCHEME. Versions are
 * not judged here (the handshake does it). */
QCN_MUST_CHECK int qcn_p2p_hs_init_decode(struct qcn_p2p_hs_init *out, struct qcn_view in);
QCN_MUST_CHECK int qcn_p2p_hs_resp_decode(struct qcn_p2p_hs_resp *out, struct qcn_view in);
QCN_MUST_CHECK int qcn_p2p_hs_fin_decode(struct qcn_p2p_hs_fin *out, struct qcn_view in);

/* ---- session messages (docs/p2p.md §4) ---- */
enum qcn_p2p_msg_type {
    QCN_P2P_MSG_STATUS = 0x01,
    QCN_P2P_MSG_PING = 0x02,
    QCN_P2P_MSG_PONG = 0x03,
    QCN_P2P_MSG_GET_PEERS = 0x04,
    QCN_P2P_MSG_PEERS = 0x05,
    QCN_P2P_MSG_TX_ANNOUNCE = 0x06,
    QCN_P2P_MSG_TX_REQUEST = 0x07,
    QCN_P2P_MSG_TX_BODIES = 0x08,
    QCN_P2P_MSG_NEW_BLOCK = 0x09,
    QCN_P2P_MSG_GET_BLOCKS = 0x0a,
    QCN_P2P_MSG_BLOCKS = 0x0b,
    QCN_P2P_MSG_CONSENSUS = 0x0c,
    QCN_P2P_MSG_GOODBYE = 0x0d,
};
#define QCN_P2P_MSG_TYPE_MAX QCN_P2P_MSG_GOODBYE

/* Caps (counts and bytes). */
#define QCN_P2P_MAX_PEER_ADDRS 64u /* addresses in one PEERS */
#define QCN_P2P_MAX_TX_HASHES 256u /* hashes in one TX_ANNOUNCE / TX_REQUEST */
#define QCN_P2P_MAX_TX_BODIES 64u  /* bodies in one TX_BODIES */
#define QCN_P2P_MAX_TX_BODIES_BYTES (2u * 1024u * 1024u)
#define QCN_P2P_MAX_BLOCKS_PER_MSG 64u /* blocks asked for / sent at once */
/* A BLOCKS message carries at least one whole block, so its cap is one block
 * at the chain's byte budget plus a header and a commit certificate, plus
 * room for smaller companions. */
#define QCN_P2P_MAX_BLOCK_BYTES (QCN_BLOCK_MAX_TX_BYTES + QCN_HEADER_MAX_BYTES + 65536u)
#define QCN_P2P_MAX_BLOCKS_BYTES (QCN_P2P_MAX_BLOCK_BYTES + 8u * 1024u * 1024u)
/* Consensus payloads: a proposal carries a block; votes and the rest are small. */
#define QCN_P2P_MAX_CONSENSUS_PROPOSAL_BYTES QCN_P2P_MAX_BLOCK_BYTES
#define QCN_P2P_MAX_CONSENSUS_VOTE_BYTES (16u * 1024u)
#define QCN_P2P_MAX_CONSENSUS_OTHER_BYTES (256u * 1024u)
/* Compact proposals and the block-transaction fetch (codec/compact.h). */
#define QCN_P2P_MAX_CONSENSUS_COMPACT_BYTES (4u * 1024u * 1024u)
#define QCN_P2P_MAX_CONSENSUS_BLOCKTX_REQ_BYTES (128u * 1024u)
#define QCN_P2P_MAX_CONSENSUS_BLOCKTX_BYTES (4u * 1024u * 1024u)
#define QCN_P2P_MAX_GOODBYE_TEXT 128u
/* The global cap on one frame's plaintext (type + body); any larger frame
 * closes the connection before a byte of it is buffered. */
#define QCN_P2P_MAX_MSG_BYTES (QCN_P2P_MAX_BLOCKS_BYTES + 64u)

enum qcn_p2p_consensus_kind {
    QCN_P2P_CONSENSUS_PROPOSAL = 1,
    QCN_P2P_CONSENSUS_PREVOTE = 2,
    QCN_P2P_CONSENSUS_PRECOMMIT = 3,
    QCN_P2P_CONSENSUS_EVIDENCE = 4,
    QCN_P2P_CONSENSUS_OTHER = 5,
    /* Compact proposal (header + transaction hashes): gossiped like 1-5. */
    QCN_P2P_CONSENSUS_COMPACT = 6,
    /* Point to point (qcn_p2p_send_consensus), never relayed and not
     * duplicate-suppressed: a request for a proposal's missing transactions
     * and the answer. */
    QCN_P2P_CONSENSUS_BLOCKTX_REQ = 7,
    QCN_P2P_CONSENSUS_BLOCKTX = 8,
};
#define QCN_P2P_CONSENSUS_KIND_MAX QCN_P2P_CONSENSUS_BLOCKTX
/* 1 for the point-to-point kinds. */
#define QCN_P2P_CONSENSUS_IS_DIRECT(k)                                                             \
    ((k) == QCN_P2P_CONSENSUS_BLOCKTX_REQ || (k) == QCN_P2P_CONSENSUS_BLOCKTX)

enum qcn_p2p_goodbye_reason {
    QCN_P2P_BYE_SHUTDOWN = 1,
    QCN_P2P_BYE_TOO_MANY_PEERS = 2,
    QCN_P2P_BYE_BANNED = 3,
    QCN_P2P_BYE_PROTOCOL = 4,
    QCN_P2P_BYE_WRONG_CHAIN = 5,
    QCN_P2P_BYE_DUPLICATE = 6,
    QCN_P2P_BYE_SELF = 7,
};
#define QCN_P2P_BYE_MAX QCN_P2P_BYE_SELF

/* An IPv4 or IPv6 address with port. family 4: the first 4 bytes of ip. */
struct qcn_p2p_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t ip[16];
    uint16_t port;
};

struct qcn_p2p_msg {
    uint8_t type;
    union {
        struct { /* STATUS */
            uint64_t chain_id;
            uint64_t head_height;
            uint8_t head_hash[QCN_HASH_BYTES];
            uint8_t genesis_hash[QCN_HASH_BYTES];
            uint16_t listen_port; /* 0: not listening */
        } status;
        uint64_t ping_nonce; /* PING, PONG */
        struct {             /* PEERS */
            uint32_t n;
            struct qcn_p2p_addr addrs[QCN_P2P_MAX_PEER_ADDRS];
        } peers;
        struct { /* TX_ANNOUNCE, TX_REQUEST: n hashes of 32 bytes, packed */
            uint32_t n;
            const uint8_t *hashes;
        } tx_hashes;
        struct { /* TX_BODIES */
            uint32_t n;
            struct qcn_view bodies[QCN_P2P_MAX_TX_BODIES];
        } tx_bodies;
        struct { /* NEW_BLOCK */
            uint64_t height;
            uint8_t hash[QCN_HASH_BYTES];
        } new_block;
        struct { /* GET_BLOCKS */
            uint64_t start;
            uint32_t count;
        } get_blocks;
        struct { /* BLOCKS: each an encoded block and its own commit
                  * certificate (empty unless the sender knows it) */
            uint32_t n;
            struct qcn_view blocks[QCN_P2P_MAX_BLOCKS_PER_MSG];
            struct qcn_view commits[QCN_P2P_MAX_BLOCKS_PER_MSG];
        } blocks;
        struct { /* CONSENSUS */
            uint8_t kind;
            struct qcn_view payload;
        } consensus;
        struct { /* GOODBYE */
            uint8_t reason;
            struct qcn_view text;
        } goodbye;
    } u;
};

/* Cap on a CONSENSUS payload of the given kind, 0 for an unknown kind. */
size_t qcn_p2p_consensus_cap(uint8_t kind);

/* Appends type || body for m to b. Checks the same caps as decode
 * (QCN_ERR_TOO_LARGE, QCN_ERR_CODEC for an unknown type or enum value). */
QCN_MUST_CHECK int qcn_p2p_msg_encode(struct qcn_buf *b, const struct qcn_p2p_msg *m);
/* Decodes one frame's plaintext. out's views point into in. */
QCN_MUST_CHECK int qcn_p2p_msg_decode(struct qcn_p2p_msg *out, struct qcn_view in);

#endif
