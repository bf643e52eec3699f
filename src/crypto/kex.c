/* kex.c - hybrid X25519 + ML-KEM-768 key agreement (construction in kex.h).
 *
 * The combiner hashes both shared secrets together with everything public
 * that was exchanged. Including the ML-KEM ciphertext and ek keeps the
 * combination secure even if one KEM is only IND-CPA-like in the hybrid
 * setting (the concern behind X-Wing's and TLS's transcript binding);
 * including X25519 publics binds the classical half the same way. SHAKE256
 * with length-prefixed fields is the KDF: one primitive already in the
 * binary, no failure paths, and a 64-byte output in one call. */
#include "crypto/kex.h"

#include <string.h>

#include <sodium.h>

#include "crypto/keccak.h"
#include "crypto/rng.h"
#include "util/bytes.h"
#include "util/mem.h"

static void absorb_prefixed(struct qcn_keccak *h, const uint8_t *p, size_t n)
{
    uint8_t len[8];
    qcn_store_be64(len, (uint64_t)n);
    qcn_keccak_absorb(h, len, sizeof len);
    if (n > 0)
        qcn_keccak_absorb(h, p, n);
}

static void derive(uint8_t secret[QCN_KEX_SECRET_BYTES], const uint8_t *context, size_t context_len,
                   const uint8_t init_msg[QCN_KEX_INIT_MSG_BYTES],
                   const uint8_t resp_msg[QCN_KEX_RESP_MSG_BYTES],
                   const uint8_t ss_mlkem[QCN_MLKEM_SS_BYTES],
                   const uint8_t ss_x25519[QCN_KEX_X25519_BYTES])
{
    struct qcn_keccak h;
    qcn_shake256_init(&h);
    absorb_prefixed(&h, (const uint8_t *)QCN_KEX_LABEL, sizeof QCN_KEX_LABEL - 1);
    absorb_prefixed(&h, context, context_len);
    qcn_keccak_absorb(&h, init_msg, QCN_KEX_INIT_MSG_BYTES);
    qcn_keccak_absorb(&h, resp_msg, QCN_KEX_RESP_MSG_BYTES);
    qcn_keccak_absorb(&h, ss_mlkem, QCN_MLKEM_SS_BYTES);
    qcn_keccak_absorb(&h, ss_x25519, QCN_KEX_X25519_BYTES);
    qcn_keccak_squeeze(&h, secret, QCN_KEX_SECRET_BYTES);
    qcn_keccak_clear(&h);
}

/* X25519 with the low-order check: libsodium's crypto_scalarmult returns -1
 * when the result is all zero (the peer sent a small-order point, RFC 7748
 * §6.1), which would make the classical half contribute nothing. */
static int x25519(uint8_t out[QCN_KEX_X25519_BYTES], const uint8_t sk[QCN_KEX_X25519_BYTES],
                  const uint8_t pk[QCN_KEX_X25519_BYTES])
{
    if (crypto_scalarmult(out, sk, pk) != 0) {
        qcn_wipe(out, QCN_KEX_X25519_BYTES);
        return QCN_ERR_BAD_KEY;
    }
    return QCN_OK;
}

/* The peer's message must have exactly its size, and the context (which
 * may be NULL only when empty) at most QCN_KEX_MAX_CONTEXT_BYTES. */
static int check_msg(const uint8_t *msg, size_t len, size_t want, const uint8_t *context,
                     size_t context_len)
{
    if (msg == NULL || len != want || (context == NULL && context_len != 0))
        return QCN_ERR_INVALID_ARG;
    if (context_len > QCN_KEX_MAX_CONTEXT_BYTES)
        return QCN_ERR_TOO_LARGE;
    return QCN_OK;
}

int qcn_kex_initiator_start(struct qcn_kex_initiator *st, uint8_t msg_out[QCN_KEX_INIT_MSG_BYTES])
{
    int err;
    memset(st, 0, sizeof *st);
    if (qcn_mem_init() != QCN_OK) {
        err = QCN_ERR_CRYPTO_BACKEND;
        goto out;
    }
    qcn_rng_bytes(st->x25519_sk, QCN_KEX_X25519_BYTES);
    if (crypto_scalarmult_base(st->init_msg, st->x25519_sk) != 0) {
        err = QCN_ERR_CRYPTO_BACKEND;
        goto out;
    }
    err = qcn_mlkem_keygen(QCN_MLKEM768, st->init_msg + QCN_KEX_X25519_BYTES, st->mlkem_dk, NULL,
                           NULL);
    if (err != QCN_OK)
        goto out;
    memcpy(msg_out, st->init_msg, QCN_KEX_INIT_MSG_BYTES);
    st->started = 1;
out:
    if (err != QCN_OK) {
        qcn_kex_initiator_clear(st);
        memset(msg_out, 0, QCN_KEX_INIT_MSG_BYTES);
    }
    return err;
}

int qcn_kex_respond(uint8_t secret[QCN_KEX_SECRET_BYTES], uint8_t msg_out[QCN_KEX_RESP_MSG_BYTES],
                    const uint8_t *init_msg, size_t init_len, const uint8_t *context,
                    size_t context_len)
{
    uint8_t x_sk[QCN_KEX_X25519_BYTES];
    uint8_t ss_x[QCN_KEX_X25519_BYTES];
    uint8_t ss_k[QCN_MLKEM_SS_BYTES];
    int err;

    memset(secret, 0, QCN_KEX_SECRET_BYTES);
    memset(msg_out, 0, QCN_KEX_RESP_MSG_BYTES);
    memset(x_sk, 0, sizeof x_sk);
    memset(ss_x, 0, sizeof ss_x);
    memset(ss_k, 0, sizeof ss_k);
    err = check_msg(init_msg, init_len, QCN_KEX_INIT_MSG_BYTES, context, context_len);
    if (err != QCN_OK)
        goto out;
    if (qcn_mem_init() != QCN_OK) {
        err = QCN_ERR_CRYPTO_BACKEND;
        goto out;
    }
    /* Encaps runs the §7.2 modulus check on the peer's ek. */
    err = qcn_mlkem_encaps(QCN_MLKEM768, msg_out + QCN_KEX_X25519_BYTES, ss_k,
                           init_msg + QCN_KEX_X25519_BYTES, NULL);
    if (err != QCN_OK)
        goto out;
    qcn_rng_bytes(x_sk, sizeof x_sk);
    if (crypto_scalarmult_base(msg_out, x_sk) != 0) {
        err = QCN_ERR_CRYPTO_BACKEND;
        goto out;
    }
    err = x25519(ss_x, x_sk, init_msg);
    if (err != QCN_OK)
        goto out;
    derive(secret, context, context_len, init_msg, msg_out, ss_k, ss_x);
out:
    if (err != QCN_OK) {
        qcn_wipe(secret, QCN_KEX_SECRET_BYTES);
        memset(msg_out, 0, QCN_KEX_RESP_MSG_BYTES);
    }
    qcn_wipe(x_sk, sizeof x_sk);
    qcn_wipe(ss_x, sizeof ss_x);
    qcn_wipe(ss_k, sizeof ss_k);
    return err;
}

int qcn_kex_initiator_finish(struct qcn_kex_initiator *st, uint8_t secret[QCN_KEX_SECRET_BYTES],
                             const uint8_t *resp_msg, size_t resp_len, const uint8_t *context,
                             size_t context_len)
{
    uint8_t ss_x[QCN_KEX_X25519_BYTES];
    uint8_t ss_k[QCN_MLKEM_SS_BYTES];
    int err;

    memset(secret, 0, QCN_KEX_SECRET_BYTES);
    memset(ss_x, 0, sizeof ss_x);
    memset(ss_k, 0, sizeof ss_k);
    err = st->started ? check_msg(resp_msg, resp_len, QCN_KEX_RESP_MSG_BYTES, context, context_len)
                      : QCN_ERR_INVALID_ARG;
    if (err != QCN_OK)
        goto out;
    err = x25519(ss_x, st->x25519_sk, resp_msg);
    if (err != QCN_OK)
        goto out;
    /* A modified ciphertext decapsulates to the implicit-rejection key: the
     * secrets then differ and the first AEAD frame fails. */
    err = qcn_mlkem_decaps(QCN_MLKEM768, ss_k, st->mlkem_dk, resp_msg + QCN_KEX_X25519_BYTES);
    if (err != QCN_OK)
        goto out;
    derive(secret, context, context_len, st->init_msg, resp_msg, ss_k, ss_x);
out:
    if (err != QCN_OK)
        qcn_wipe(secret, QCN_KEX_SECRET_BYTES);
    qcn_wipe(ss_x, sizeof ss_x);
    qcn_wipe(ss_k, sizeof ss_k);
    return err;
}

void qcn_kex_initiator_clear(struct qcn_kex_initiator *st)
{
    if (st != NULL)
        qcn_wipe(st, sizeof *st);
}
