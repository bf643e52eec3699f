/* secure.c - handshake and frame sealing (docs/p2p.md §2-§3).
 *
 * Why it is built this way:
 *  - The hybrid kex (crypto/kex.h) is unauthenticated; each side signs the
 *    transcript hash of everything sent so far with its ML-DSA-65 identity
 *    key, so a man in the middle who substitutes kex messages, versions,
 *    nonces or identity keys breaks a signature. The two signatures use
 *    different ML-DSA contexts, so one side's signature can never be replayed
 *    as the other's (reflection).
 *  - Both sides contribute a fresh 32-byte nonce and fresh ephemeral keys, so
 *    a recorded handshake replayed to either side is signed over a different
 *    transcript and fails.
 *  - The versions offered by the initiator are in HS_INIT and hence in the
 *    signed transcript: a middlebox that lowers them makes the responder sign
 *    a transcript the initiator never sent (downgrade protection); the lowest
 *    acceptable version is enforced on both sides regardless.
 *  - Frame nonces are implicit counters: nothing to forge, and a replayed,
 *    dropped or reordered frame is opened under the wrong nonce and fails its
 *    Poly1305 tag. */
#include "p2p/secure.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "codec/tx.h"
#include "crypto/mldsa.h"
#include "crypto/rng.h"
#include "util/mem.h"

enum {
    HS_NONE = 0,
    HS_I_SENT_INIT,
    HS_R_SENT_RESP,
    HS_DONE,
    HS_FAILED,
};

void qcn_p2p_node_id(uint8_t out[QCN_P2P_NODE_ID_BYTES], const uint8_t pk[QCN_P2P_ID_PK_BYTES])
{
    qcn_address_from_key(out, QCN_P2P_ID_SCHEME, pk, QCN_P2P_ID_PK_BYTES);
}

int qcn_p2p_identity_from_seed(struct qcn_p2p_identity *id,
                               const uint8_t seed[QCN_MLDSA_SEED_BYTES])
{
    int err;
    memset(id, 0, sizeof *id);
    id->sk = qcn_secure_alloc(QCN_MLDSA65_SK_BYTES);
    if (id->sk == NULL)
        return QCN_ERR_NOMEM;
    err = qcn_mldsa_keygen(QCN_MLDSA65, id->pk, id->sk, seed);
    if (err != QCN_OK) {
        qcn_p2p_identity_clear(id);
        return err;
    }
    qcn_p2p_node_id(id->node_id, id->pk);
    return QCN_OK;
}

int qcn_p2p_identity_generate(struct qcn_p2p_identity *id)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    int err;
    qcn_rng_bytes(seed, sizeof seed);
    err = qcn_p2p_identity_from_seed(id, seed);
    qcn_wipe(seed, sizeof seed);
    return err;
}

void qcn_p2p_identity_clear(struct qcn_p2p_identity *id)
{
    qcn_secure_free(id->sk);
    memset(id, 0, sizeof *id);
}

int qcn_p2p_hkdf(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
                 const uint8_t *salt, size_t saltlen, const char *info)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM params[5];
    size_t n = 0;
    int err = QCN_ERR_CRYPTO_BACKEND;
    static const uint8_t empty[1] = {0};

    if (kdf == NULL)
        goto out;
    kctx = EVP_KDF_CTX_new(kdf);
    if (kctx == NULL)
        goto out;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                    (void *)(saltlen ? salt : empty), saltlen);
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[n] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, outlen, params) != 1)
        goto out;
    err = QCN_OK;
out:
    if (err != QCN_OK)
        qcn_wipe(out, outlen);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return err;
}

/* SHA-256(T || parts...) over the transcript. */
static int transcript_hash(uint8_t out[32], const uint8_t *a, size_t alen, const uint8_t *b,
                           size_t blen, const uint8_t *c, size_t clen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int olen = 0;
    int ok;
    if (md == NULL)
        return QCN_ERR_NOMEM;
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(md, QCN_P2P_TRANSCRIPT_LABEL, strlen(QCN_P2P_TRANSCRIPT_LABEL)) == 1 &&
         EVP_DigestUpdate(md, a, alen) == 1 && (blen == 0 || EVP_DigestUpdate(md, b, blen) == 1) &&
         (clen == 0 || EVP_DigestUpdate(md, c, clen) == 1) &&
         EVP_DigestFinal_ex(md, out, &olen) == 1 && olen == 32;
    EVP_MD_CTX_free(md);
    return ok ? QCN_OK : QCN_ERR_CRYPTO_BACKEND;
}

static int sign_th(const struct qcn_p2p_hs_params *prm, uint8_t sig[QCN_P2P_ID_SIG_BYTES],
                   const uint8_t th[32], const char *ctx)
{
    int err = qcn_mldsa_sign(QCN_MLDSA65, sig, prm->id->sk, th, 32, (const uint8_t *)ctx,
                             strlen(ctx), QCN_MLDSA_HEDGED, NULL);
    if (err == QCN_OK && (prm->faults & QCN_P2P_FAULT_BAD_SIG))
        sig[7] ^= 0x20;
    return err;
}

static int verify_th(const uint8_t pk[QCN_P2P_ID_PK_BYTES], const uint8_t sig[QCN_P2P_ID_SIG_BYTES],
                     const uint8_t th[32], const char *ctx)
{
    return qcn_mldsa_verify(QCN_MLDSA65, pk, th, 32, (const uint8_t *)ctx, strlen(ctx), sig,
                            QCN_P2P_ID_SIG_BYTES) == QCN_OK
               ? QCN_OK
               : QCN_ERR_BAD_SIGNATURE;
}

static void kex_context(uint8_t out[sizeof QCN_P2P_KEX_CONTEXT - 1 + 8], uint64_t chain_id)
{
    memcpy(out, QCN_P2P_KEX_CONTEXT, sizeof QCN_P2P_KEX_CONTEXT - 1);
    qcn_store_be64(out + sizeof QCN_P2P_KEX_CONTEXT - 1, chain_id);
}
#define KEX_CTX_BYTES (sizeof QCN_P2P_KEX_CONTEXT - 1 + 8)

int qcn_p2p_hs_initiate(struct qcn_p2p_hs *hs, const struct qcn_p2p_hs_params *prm,
                        uint8_t out[QCN_P2P_HS_INIT_BYTES])
{
    static __thread struct qcn_p2p_hs_init m;
    int err;
    memset(hs, 0, sizeof *hs);
    hs->role = QCN_P2P_INITIATOR;
    hs->prm = *prm;
    memset(&m, 0, sizeof m);
    m.version = prm->version;
    m.min_version = prm->min_version;
    m.chain_id = prm->chain_id;
    qcn_rng_bytes(m.nonce, sizeof m.nonce);
    err = qcn_kex_initiator_start(&hs->kex, m.kex);
    if (err != QCN_OK)
        goto out;
    m.id_scheme = QCN_P2P_ID_SCHEME;
    memcpy(m.id_pk, prm->id->pk, sizeof m.id_pk);
    qcn_p2p_hs_init_encode(hs->init_msg, &m);
    memcpy(out, hs->init_msg, QCN_P2P_HS_INIT_BYTES);
    hs->state = HS_I_SENT_INIT;
out:
    if (err != QCN_OK)
        hs->state = HS_FAILED;
    return err;
}

int qcn_p2p_hs_respond(struct qcn_p2p_hs *hs, const struct qcn_p2p_hs_params *prm,
                       uint8_t out[QCN_P2P_HS_RESP_BYTES], const uint8_t *in, size_t len)
{
    static __thread struct qcn_p2p_hs_init mi;
    static __thread struct qcn_p2p_hs_resp mr;
    uint8_t kctx[KEX_CTX_BYTES], th[32];
    int err;
    memset(hs, 0, sizeof *hs);
    hs->role = QCN_P2P_RESPONDER;
    hs->prm = *prm;
    hs->state = HS_FAILED;
    memset(&mr, 0, sizeof mr);
    err = qcn_p2p_hs_init_decode(&mi, qcn_view_make(in, len));
    if (err != QCN_OK)
        goto out;
    if (mi.chain_id != prm->chain_id) {
        err = QCN_ERR_HANDSHAKE;
        goto out;
    }
    /* The chosen version is the highest both speak; it must be at least
     * both minimums. */
    hs->version = mi.version < prm->version ? mi.version : prm->version;
    if (mi.min_version > mi.version || hs->version < prm->min_version ||
        hs->version < mi.min_version) {
        err = QCN_ERR_UNSUPPORTED;
        goto out;
    }
    memcpy(hs->init_msg, in, QCN_P2P_HS_INIT_BYTES);
    memcpy(hs->peer_pk, mi.id_pk, sizeof hs->peer_pk);
    qcn_p2p_node_id(hs->peer_id, hs->peer_pk);

    kex_context(kctx, prm->chain_id);
    mr.version = hs->version;
    qcn_rng_bytes(mr.nonce, sizeof mr.nonce);
    err = qcn_kex_respond(hs->secret, mr.kex, mi.kex, sizeof mi.kex, kctx, sizeof kctx);
    if (err != QCN_OK)
        goto out;
    mr.id_scheme = QCN_P2P_ID_SCHEME;
    memcpy(mr.id_pk, prm->id->pk, sizeof mr.id_pk);
    qcn_p2p_hs_resp_encode(hs->resp_msg, &mr, 0);
    err = transcript_hash(th, hs->init_msg, sizeof hs->init_msg, hs->resp_msg,
                          QCN_P2P_HS_RESP_UNSIGNED_BYTES, NULL, 0);
    if (err != QCN_OK)
        goto out;
    err = sign_th(prm, mr.sig, th, QCN_P2P_SIG_CTX_RESP);
    if (err != QCN_OK)
        goto out;
    qcn_p2p_hs_resp_encode(hs->resp_msg, &mr, 1);
    memcpy(out, hs->resp_msg, QCN_P2P_HS_RESP_BYTES);
    hs->state = HS_R_SENT_RESP;
out:
    if (err != QCN_OK) {
        qcn_wipe(hs->secret, sizeof hs->secret);
        memset(out, 0, QCN_P2P_HS_RESP_BYTES);
    }
    return err;
}

int qcn_p2p_hs_finish(struct qcn_p2p_hs *hs, uint8_t out[QCN_P2P_HS_FIN_BYTES], const uint8_t *in,
                      size_t len)
{
    static __thread struct qcn_p2p_hs_resp mr;
    static __thread struct qcn_p2p_hs_init mi;
    struct qcn_p2p_hs_fin mf;
    uint8_t kctx[KEX_CTX_BYTES], th[32];
    int err;
    if (hs->role != QCN_P2P_INITIATOR || hs->state != HS_I_SENT_INIT)
        return QCN_ERR_INVALID_ARG;
    hs->state = HS_FAILED;
    err = qcn_p2p_hs_resp_decode(&mr, qcn_view_make(in, len));
    if (err != QCN_OK)
        goto out;
    err = qcn_p2p_hs_init_decode(&mi, qcn_view_make(hs->init_msg, sizeof hs->init_msg));
    if (err != QCN_OK)
        goto out;
    if (mr.version > mi.version || mr.version < hs->prm.min_version) {
        err = QCN_ERR_UNSUPPORTED;
        goto out;
    }
    err = transcript_hash(th, hs->init_msg, sizeof hs->init_msg, in, QCN_P2P_HS_RESP_UNSIGNED_BYTES,
                          NULL, 0);
    if (err != QCN_OK)
        goto out;
    err = verify_th(mr.id_pk, mr.sig, th, QCN_P2P_SIG_CTX_RESP);
    if (err != QCN_OK)
        goto out;
    memcpy(hs->resp_msg, in, QCN_P2P_HS_RESP_BYTES);
    hs->version = mr.version;
    memcpy(hs->peer_pk, mr.id_pk, sizeof hs->peer_pk);
    qcn_p2p_node_id(hs->peer_id, hs->peer_pk);
    kex_context(kctx, hs->prm.chain_id);
    err = qcn_kex_initiator_finish(&hs->kex, hs->secret, mr.kex, sizeof mr.kex, kctx, sizeof kctx);
    if (err != QCN_OK)
        goto out;
    err = transcript_hash(th, hs->init_msg, sizeof hs->init_msg, hs->resp_msg, sizeof hs->resp_msg,
                          NULL, 0);
    if (err != QCN_OK)
        goto out;
    err = sign_th(&hs->prm, mf.sig, th, QCN_P2P_SIG_CTX_FIN);
    if (err != QCN_OK)
        goto out;
    qcn_p2p_hs_fin_encode(hs->fin_msg, &mf);
    memcpy(out, hs->fin_msg, QCN_P2P_HS_FIN_BYTES);
    hs->state = HS_DONE;
out:
    qcn_kex_initiator_clear(&hs->kex);
    if (err != QCN_OK) {
        qcn_wipe(hs->secret, sizeof hs->secret);
        memset(out, 0, QCN_P2P_HS_FIN_BYTES);
    }
    return err;
}

int qcn_p2p_hs_accept(struct qcn_p2p_hs *hs, const uint8_t *in, size_t len)
{
    struct qcn_p2p_hs_fin mf;
    uint8_t th[32];
    int err;
    if (hs->role != QCN_P2P_RESPONDER || hs->state != HS_R_SENT_RESP)
        return QCN_ERR_INVALID_ARG;
    hs->state = HS_FAILED;
    err = qcn_p2p_hs_fin_decode(&mf, qcn_view_make(in, len));
    if (err != QCN_OK)
        goto out;
    err = transcript_hash(th, hs->init_msg, sizeof hs->init_msg, hs->resp_msg, sizeof hs->resp_msg,
                          NULL, 0);
    if (err != QCN_OK)
        goto out;
    err = verify_th(hs->peer_pk, mf.sig, th, QCN_P2P_SIG_CTX_FIN);
    if (err != QCN_OK)
        goto out;
    memcpy(hs->fin_msg, in, QCN_P2P_HS_FIN_BYTES);
    hs->state = HS_DONE;
out:
    if (err != QCN_OK)
        qcn_wipe(hs->secret, sizeof hs->secret);
    return err;
}

int qcn_p2p_hs_keys(struct qcn_p2p_hs *hs, uint8_t send[QCN_P2P_KEY_BYTES],
                    uint8_t recv[QCN_P2P_KEY_BYTES])
{
    uint8_t th[32], i2r[QCN_P2P_KEY_BYTES], r2i[QCN_P2P_KEY_BYTES];
    int err;
    if (hs->state != HS_DONE)
        return QCN_ERR_INVALID_ARG;
    err = transcript_hash(th, hs->init_msg, sizeof hs->init_msg, hs->resp_msg, sizeof hs->resp_msg,
                          hs->fin_msg, sizeof hs->fin_msg);
    if (err == QCN_OK)
        err = qcn_p2p_hkdf(i2r, sizeof i2r, hs->secret, sizeof hs->secret, th, sizeof th,
                           QCN_P2P_INFO_I2R);
    if (err == QCN_OK)
        err = qcn_p2p_hkdf(r2i, sizeof r2i, hs->secret, sizeof hs->secret, th, sizeof th,
                           QCN_P2P_INFO_R2I);
    if (err == QCN_OK) {
        memcpy(send, hs->role == QCN_P2P_INITIATOR ? i2r : r2i, QCN_P2P_KEY_BYTES);
        memcpy(recv, hs->role == QCN_P2P_INITIATOR ? r2i : i2r, QCN_P2P_KEY_BYTES);
    } else {
        qcn_wipe(send, QCN_P2P_KEY_BYTES);
        qcn_wipe(recv, QCN_P2P_KEY_BYTES);
    }
    qcn_wipe(i2r, sizeof i2r);
    qcn_wipe(r2i, sizeof r2i);
    qcn_wipe(hs->secret, sizeof hs->secret);
    return err;
}

void qcn_p2p_hs_clear(struct qcn_p2p_hs *hs)
{
    qcn_kex_initiator_clear(&hs->kex);
    qcn_wipe(hs, sizeof *hs);
}

/* ---- frames ---- */

int qcn_p2p_cipher_init(struct qcn_p2p_cipher *c, const uint8_t key[QCN_P2P_KEY_BYTES],
                        uint64_t rekey_frames, uint64_t rekey_bytes)
{
    memset(c, 0, sizeof *c);
    c->evp = EVP_CIPHER_CTX_new();
    if (c->evp == NULL)
        return QCN_ERR_NOMEM;
    memcpy(c->key, key, QCN_P2P_KEY_BYTES);
    c->rekey_frames = rekey_frames ? rekey_frames : QCN_P2P_REKEY_FRAMES_DEFAULT;
    c->rekey_bytes = rekey_bytes ? rekey_bytes : QCN_P2P_REKEY_BYTES_DEFAULT;
    return QCN_OK;
}

void qcn_p2p_cipher_clear(struct qcn_p2p_cipher *c)
{
    EVP_CIPHER_CTX_free(c->evp);
    qcn_wipe(c, sizeof *c);
}

/* After every frame, in both directions identically: advance the counter,
 * and at a bound replace the key by HKDF of itself (the old key is gone, so
 * a later key compromise does not expose earlier frames). The counter never
 * exceeds rekey_frames, so the 64-bit nonce never repeats under one key. */
static int advance(struct qcn_p2p_cipher *c, size_t len)
{
    uint8_t next[QCN_P2P_KEY_BYTES];
    int err;
    c->counter++;
    c->bytes += len;
    if (c->counter < c->rekey_frames && c->bytes < c->rekey_bytes)
        return QCN_OK;
    err = qcn_p2p_hkdf(next, sizeof next, c->key, sizeof c->key, NULL, 0, QCN_P2P_INFO_REKEY);
    if (err != QCN_OK)
        return err;
    memcpy(c->key, next, sizeof next);
    qcn_wipe(next, sizeof next);
    c->counter = 0;
    c->bytes = 0;
    c->rekeys++;
    return QCN_OK;
}

static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
    memset(nonce, 0, 4);
    qcn_store_be64(nonce + 4, counter);
}

int qcn_p2p_seal(struct qcn_p2p_cipher *c, struct qcn_buf *out, const uint8_t *pt, size_t len)
{
    EVP_CIPHER_CTX *e = c->evp;
    uint8_t nonce[12];
    uint8_t *hdr, *ct;
    size_t start = out->len;
    int outl = 0, err;
    if (len > QCN_P2P_MAX_MSG_BYTES)
        return QCN_ERR_TOO_LARGE;
    err = qcn_buf_reserve(out, QCN_P2P_FRAME_HDR_BYTES + len + QCN_P2P_TAG_BYTES);
    if (err != QCN_OK)
        return err;
    hdr = out->p + start;
    ct = hdr + QCN_P2P_FRAME_HDR_BYTES;
    qcn_store_be32(hdr, (uint32_t)(len + QCN_P2P_TAG_BYTES));
    make_nonce(nonce, c->counter);
    if (EVP_EncryptInit_ex(e, EVP_chacha20_poly1305(), NULL, c->key, nonce) != 1 ||
        EVP_EncryptUpdate(e, NULL, &outl, hdr, QCN_P2P_FRAME_HDR_BYTES) != 1 ||
        (len > 0 && EVP_EncryptUpdate(e, ct, &outl, pt, (int)len) != 1) ||
        EVP_EncryptFinal_ex(e, ct + len, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_AEAD_GET_TAG, QCN_P2P_TAG_BYTES, ct + len) != 1)
        return QCN_ERR_CRYPTO_BACKEND;
    out->len = start + QCN_P2P_FRAME_HDR_BYTES + len + QCN_P2P_TAG_BYTES;
    return advance(c, len);
}

int qcn_p2p_open(struct qcn_p2p_cipher *c, uint8_t *pt, const uint8_t hdr[QCN_P2P_FRAME_HDR_BYTES],
                 const uint8_t *ct, size_t ctlen)
{
    EVP_CIPHER_CTX *e = c->evp;
    uint8_t nonce[12], tag[QCN_P2P_TAG_BYTES];
    size_t len;
    int outl = 0;
    if (c->dead || ctlen < QCN_P2P_TAG_BYTES || ctlen - QCN_P2P_TAG_BYTES > QCN_P2P_MAX_MSG_BYTES ||
        qcn_load_be32(hdr) != ctlen)
        return QCN_ERR_DECRYPT;
    len = ctlen - QCN_P2P_TAG_BYTES;
    memcpy(tag, ct + len, sizeof tag);
    make_nonce(nonce, c->counter);
    if (EVP_DecryptInit_ex(e, EVP_chacha20_poly1305(), NULL, c->key, nonce) != 1 ||
        EVP_DecryptUpdate(e, NULL, &outl, hdr, QCN_P2P_FRAME_HDR_BYTES) != 1 ||
        (len > 0 && EVP_DecryptUpdate(e, pt, &outl, ct, (int)len) != 1) ||
        EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_AEAD_SET_TAG, QCN_P2P_TAG_BYTES, tag) != 1 ||
        EVP_DecryptFinal_ex(e, pt + len, &outl) != 1) {
        qcn_wipe(pt, len);
        c->dead = 1;
        return QCN_ERR_DECRYPT;
    }
    return advance(c, len);
}
