/* vote.c - consensus message encodings (docs/consensus.md §2).
 *
 * Everything is RLP with the strict decoder of codec/rlp.h, so each value
 * has exactly one encoding and the signing bytes a verifier rebuilds are the
 * bytes the signer signed. */
#include "codec/vote.h"

#include <stdlib.h>
#include <string.h>

#include "codec/block.h"
#include "codec/rlp.h"
#include "crypto/mldsa.h"
#include "util/mem.h"

_Static_assert(QCN_VOTE_PK_BYTES == QCN_MLDSA65_PK_BYTES, "vote keys are ML-DSA-65");
_Static_assert(QCN_VOTE_SK_BYTES == QCN_MLDSA65_SK_BYTES, "vote keys are ML-DSA-65");
_Static_assert(QCN_VOTE_SIG_BYTES == QCN_MLDSA65_SIG_BYTES, "vote signatures are ML-DSA-65");

static const uint8_t zero_hash[QCN_HASH_BYTES];

static int vote_form_ok(const struct qcn_vote *v)
{
    if (v->type != QCN_VOTE_PREVOTE && v->type != QCN_VOTE_PRECOMMIT)
        return 0;
    if (v->has_block > 1)
        return 0;
    if (!v->has_block && memcmp(v->block_hash, zero_hash, QCN_HASH_BYTES) != 0)
        return 0;
    return 1;
}

/* The fields shared by the vote and its signing bytes, inside an open list. */
static int vote_put_fields(struct qcn_buf *b, const struct qcn_vote *v)
{
    int err;
    if ((err = qcn_rlp_put_u64(b, v->chain_id)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, v->height)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, v->round)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, v->type)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, v->block_hash, v->has_block ? QCN_HASH_BYTES : 0)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, v->validator, QCN_ADDRESS_BYTES)) != QCN_OK)
        return err;
    return QCN_OK;
}

/* Ends a vote or proposal whose fields went into the list opened at l (err:
 * how writing them went): the signature last when with_sig, for the signing
 * bytes without it (§2). On any error b is cut back to start. */
static int signed_list_end(struct qcn_buf *b, size_t start, size_t l, int err,
                           const uint8_t sig[QCN_VOTE_SIG_BYTES], int with_sig)
{
    if (err == QCN_OK && with_sig)
        err = qcn_rlp_put_bytes(b, sig, QCN_VOTE_SIG_BYTES);
    if (err == QCN_OK)
        err = qcn_rlp_list_end(b, l);
    if (err != QCN_OK)
        b->len = start;
    return err;
}

static int vote_write(struct qcn_buf *b, const struct qcn_vote *v, int with_sig)
{
    size_t start = b->len, l;
    if (!vote_form_ok(v))
        return QCN_ERR_CODEC;
    l = qcn_rlp_list_begin(b);
    return signed_list_end(b, start, l, vote_put_fields(b, v), v->sig, with_sig);
}

int qcn_vote_encode(struct qcn_buf *b, const struct qcn_vote *v)
{
    return vote_write(b, v, 1);
}

int qcn_vote_sign_bytes(struct qcn_buf *b, const struct qcn_vote *v)
{
    return vote_write(b, v, 0);
}

static int get_u32(uint32_t *out, const struct qcn_rlp_item *it)
{
    uint64_t x;
    int err = qcn_rlp_get_u64(&x, it);
    if (err != QCN_OK)
        return err;
    if (x > UINT32_MAX)
        return QCN_ERR_CODEC;
    *out = (uint32_t)x;
    return QCN_OK;
}

static int vote_from_items(struct qcn_vote *v, const struct qcn_rlp_item *it)
{
    uint64_t type;
    struct qcn_view h;
    int err;
    if ((err = qcn_rlp_get_u64(&v->chain_id, &it[0])) != QCN_OK ||
        (err = qcn_rlp_get_u64(&v->height, &it[1])) != QCN_OK ||
        (err = get_u32(&v->round, &it[2])) != QCN_OK ||
        (err = qcn_rlp_get_u64(&type, &it[3])) != QCN_OK ||
        (err = qcn_rlp_get_bytes(&h, QCN_HASH_BYTES, &it[4])) != QCN_OK ||
        (err = qcn_rlp_get_fixed(v->validator, QCN_ADDRESS_BYTES, &it[5])) != QCN_OK ||
        (err = qcn_rlp_get_fixed(v->sig, QCN_VOTE_SIG_BYTES, &it[6])) != QCN_OK)
        return err;
    if (type != QCN_VOTE_PREVOTE && type != QCN_VOTE_PRECOMMIT)
        return QCN_ERR_CODEC;
    v->type = (uint8_t)type;
    if (h.len == QCN_HASH_BYTES) {
        v->has_block = 1;
        memcpy(v->block_hash, h.p, QCN_HASH_BYTES);
    } else if (h.len != 0) {
        return QCN_ERR_CODEC;
    }
    return QCN_OK;
}

int qcn_vote_decode(struct qcn_vote *out, struct qcn_view in)
{
    struct qcn_rlp_item top, it[7];
    int err;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_VOTE_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if ((err = qcn_rlp_decode(&top, in)) != QCN_OK ||
        (err = qcn_rlp_split(it, 7, &top)) != QCN_OK ||
        (err = vote_from_items(out, it)) != QCN_OK) {
        memset(out, 0, sizeof *out);
        return err;
    }
    return QCN_OK;
}

/* Signs the bytes in m under ctx; sig gets QCN_VOTE_SIG_BYTES. */
static int sign_buf(uint8_t *sig, const uint8_t *sk, const struct qcn_buf *m, const char *ctx,
                    size_t ctxlen, int deterministic)
{
    return qcn_mldsa_sign(QCN_MLDSA65, sig, sk, m->p, m->len, (const uint8_t *)ctx, ctxlen,
                          deterministic ? QCN_MLDSA_DETERMINISTIC : QCN_MLDSA_HEDGED, NULL);
}

static int verify_buf(const uint8_t *pk, const uint8_t addr[QCN_ADDRESS_BYTES],
                      const struct qcn_buf *m, const uint8_t *sig, const char *ctx, size_t ctxlen)
{
    uint8_t a[QCN_ADDRESS_BYTES];
    qcn_address_from_key(a, QCN_SCHEME_MLDSA65, pk, QCN_VOTE_PK_BYTES);
    if (memcmp(a, addr, QCN_ADDRESS_BYTES) != 0)
        return QCN_ERR_BAD_SIGNATURE;
    if (qcn_mldsa_verify(QCN_MLDSA65, pk, m->p, m->len, (const uint8_t *)ctx, ctxlen, sig,
                         QCN_VOTE_SIG_BYTES) != QCN_OK)
        return QCN_ERR_BAD_SIGNATURE;
    return QCN_OK;
}

int qcn_vote_sign(struct qcn_vote *v, const uint8_t *sk, int deterministic)
{
    struct qcn_buf m;
    int err;
    qcn_buf_init(&m, QCN_VOTE_MAX_BYTES);
    if ((err = qcn_vote_sign_bytes(&m, v)) == QCN_OK)
        err = sign_buf(v->sig, sk, &m, QCN_VOTE_SIG_CTX, QCN_VOTE_SIG_CTX_LEN, deterministic);
    qcn_buf_clear(&m);
    return err;
}

int qcn_vote_verify(const struct qcn_vote *v, const uint8_t *pk)
{
    struct qcn_buf m;
    int err;
    qcn_buf_init(&m, QCN_VOTE_MAX_BYTES);
    err = qcn_vote_sign_bytes(&m, v);
    if (err == QCN_OK)
        err = verify_buf(pk, v->validator, &m, v->sig, QCN_VOTE_SIG_CTX, QCN_VOTE_SIG_CTX_LEN);
    else
        err = QCN_ERR_BAD_SIGNATURE;
    qcn_buf_clear(&m);
    return err;
}

int qcn_vote_conflicts(const struct qcn_vote *a, const struct qcn_vote *b)
{
    if (a->chain_id != b->chain_id || a->height != b->height || a->round != b->round ||
        a->type != b->type || memcmp(a->validator, b->validator, QCN_ADDRESS_BYTES) != 0)
        return 0;
    if (a->has_block != b->has_block)
        return 1;
    return a->has_block && memcmp(a->block_hash, b->block_hash, QCN_HASH_BYTES) != 0;
}

/* Proposals. pol_round travels as pol_round + 1 so that "none" (-1) is 0. */
static int proposal_put_fields(struct qcn_buf *b, const struct qcn_proposal *p)
{
    int err;
    if ((err = qcn_rlp_put_u64(b, p->chain_id)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, p->height)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, p->round)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, (uint64_t)(p->pol_round + 1))) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, p->block_hash, QCN_HASH_BYTES)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, p->proposer, QCN_ADDRESS_BYTES)) != QCN_OK)
        return err;
    return QCN_OK;
}

static int proposal_write(struct qcn_buf *b, const struct qcn_proposal *p, int with_sig)
{
    size_t start = b->len, l;
    if (p->pol_round < -1 || p->pol_round >= (int64_t)p->round)
        return QCN_ERR_CODEC;
    l = qcn_rlp_list_begin(b);
    return signed_list_end(b, start, l, proposal_put_fields(b, p), p->sig, with_sig);
}

int qcn_proposal_encode(struct qcn_buf *b, const struct qcn_proposal *p)
{
    return proposal_write(b, p, 1);
}

int qcn_proposal_sign_bytes(struct qcn_buf *b, const struct qcn_proposal *p)
{
    return proposal_write(b, p, 0);
}

static int proposal_from_item(struct qcn_proposal *p, const struct qcn_rlp_item *top)
{
    struct qcn_rlp_item it[7];
    uint64_t pol;
    int err;
    if ((err = qcn_rlp_split(it, 7, top)) != QCN_OK ||
        (err = qcn_rlp_get_u64(&p->chain_id, &it[0])) != QCN_OK ||
        (err = qcn_rlp_get_u64(&p->height, &it[1])) != QCN_OK ||
        (err = get_u32(&p->round, &it[2])) != QCN_OK ||
        (err = qcn_rlp_get_u64(&pol, &it[3])) != QCN_OK ||
        (err = qcn_rlp_get_fixed(p->block_hash, QCN_HASH_BYTES, &it[4])) != QCN_OK ||
        (err = qcn_rlp_get_fixed(p->proposer, QCN_ADDRESS_BYTES, &it[5])) != QCN_OK ||
        (err = qcn_rlp_get_fixed(p->sig, QCN_VOTE_SIG_BYTES, &it[6])) != QCN_OK)
        return err;
    /* pol_round + 1 <= round, i.e. pol_round < round (paper line 28: vr < r). */
    if (pol > p->round)
        return QCN_ERR_CODEC;
    p->pol_round = (int64_t)pol - 1;
    return QCN_OK;
}

int qcn_proposal_decode(struct qcn_proposal *out, struct qcn_view in)
{
    struct qcn_rlp_item top;
    int err;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_PROPOSAL_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if ((err = qcn_rlp_decode(&top, in)) != QCN_OK ||
        (err = proposal_from_item(out, &top)) != QCN_OK) {
        memset(out, 0, sizeof *out);
        return err;
    }
    return QCN_OK;
}

int qcn_proposal_sign(struct qcn_proposal *p, const uint8_t *sk, int deterministic)
{
    struct qcn_buf m;
    int err;
    qcn_buf_init(&m, QCN_PROPOSAL_MAX_BYTES);
    if ((err = qcn_proposal_sign_bytes(&m, p)) == QCN_OK)
        err =
            sign_buf(p->sig, sk, &m, QCN_PROPOSAL_SIG_CTX, QCN_PROPOSAL_SIG_CTX_LEN, deterministic);
    qcn_buf_clear(&m);
    return err;
}

int qcn_proposal_verify(const struct qcn_proposal *p, const uint8_t *pk)
{
    struct qcn_buf m;
    int err;
    qcn_buf_init(&m, QCN_PROPOSAL_MAX_BYTES);
    err = qcn_proposal_sign_bytes(&m, p);
    if (err == QCN_OK)
        err =
            verify_buf(pk, p->proposer, &m, p->sig, QCN_PROPOSAL_SIG_CTX, QCN_PROPOSAL_SIG_CTX_LEN);
    else
        err = QCN_ERR_BAD_SIGNATURE;
    qcn_buf_clear(&m);
    return err;
}

int qcn_proposal_msg_encode(struct qcn_buf *b, const struct qcn_proposal *p, const uint8_t *block,
                            size_t block_len)
{
    size_t start = b->len, l;
    int err;
    if (block_len > QCN_BLOCK_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_proposal_encode(b, p)) != QCN_OK ||
        (err = qcn_rlp_put_raw(b, block, block_len)) != QCN_OK ||
        (err = qcn_rlp_list_end(b, l)) != QCN_OK) {
        b->len = start;
        return err;
    }
    return QCN_OK;
}

int qcn_proposal_msg_decode(struct qcn_proposal *out, struct qcn_view *block, struct qcn_view in)
{
    struct qcn_rlp_item top, it[2];
    int err;
    memset(out, 0, sizeof *out);
    memset(block, 0, sizeof *block);
    if (in.len > QCN_BLOCK_MAX_BYTES + QCN_PROPOSAL_MAX_BYTES + 16u)
        return QCN_ERR_TOO_LARGE;
    if ((err = qcn_rlp_decode(&top, in)) != QCN_OK || (err = qcn_rlp_split(it, 2, &top)) != QCN_OK)
        goto fail;
    if (!it[0].is_list || !it[1].is_list || it[0].raw.len > QCN_PROPOSAL_MAX_BYTES) {
        err = QCN_ERR_CODEC;
        goto fail;
    }
    if ((err = proposal_from_item(out, &it[0])) != QCN_OK)
        goto fail;
    *block = it[1].raw;
    return QCN_OK;
fail:
    memset(out, 0, sizeof *out);
    memset(block, 0, sizeof *block);
    return err;
}

/* Certificates. */
void qcn_commit_init(struct qcn_commit *c, uint64_t height, uint32_t round,
                     const uint8_t block_hash[QCN_HASH_BYTES])
{
    memset(c, 0, sizeof *c);
    c->height = height;
    c->round = round;
    memcpy(c->block_hash, block_hash, QCN_HASH_BYTES);
}

void qcn_commit_clear(struct qcn_commit *c)
{
    free(c->sigs);
    memset(c, 0, sizeof *c);
}

int qcn_commit_add_sig(struct qcn_commit *c, const uint8_t validator[QCN_ADDRESS_BYTES],
                       const uint8_t sig[QCN_VOTE_SIG_BYTES])
{
    struct qcn_commit_sig *s;
    size_t i = 0;
    int cmp = 1;
    while (i < c->nsigs && (cmp = memcmp(c->sigs[i].validator, validator, QCN_ADDRESS_BYTES)) < 0)
        i++;
    if (i < c->nsigs && cmp == 0)
        return QCN_ERR_EXISTS;
    if (c->nsigs >= QCN_COMMIT_MAX_SIGS)
        return QCN_ERR_TOO_LARGE;
    s = realloc(c->sigs, (c->nsigs + 1) * sizeof *s);
    if (s == NULL)
        return QCN_ERR_NOMEM;
    c->sigs = s;
    memmove(&s[i + 1], &s[i], (c->nsigs - i) * sizeof *s);
    memcpy(s[i].validator, validator, QCN_ADDRESS_BYTES);
    memcpy(s[i].sig, sig, QCN_VOTE_SIG_BYTES);
    c->nsigs++;
    return QCN_OK;
}

int qcn_commit_encode(struct qcn_buf *b, const struct qcn_commit *c)
{
    size_t start = b->len, l, ll, e, i;
    int err;
    if (c->nsigs > QCN_COMMIT_MAX_SIGS)
        return QCN_ERR_TOO_LARGE;
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_rlp_put_u64(b, c->height)) != QCN_OK ||
        (err = qcn_rlp_put_u64(b, c->round)) != QCN_OK ||
        (err = qcn_rlp_put_bytes(b, c->block_hash, QCN_HASH_BYTES)) != QCN_OK)
        goto fail;
    ll = qcn_rlp_list_begin(b);
    for (i = 0; i < c->nsigs; i++) {
        e = qcn_rlp_list_begin(b);
        if ((err = qcn_rlp_put_bytes(b, c->sigs[i].validator, QCN_ADDRESS_BYTES)) != QCN_OK ||
            (err = qcn_rlp_put_bytes(b, c->sigs[i].sig, QCN_VOTE_SIG_BYTES)) != QCN_OK ||
            (err = qcn_rlp_list_end(b, e)) != QCN_OK)
            goto fail;
    }
    if ((err = qcn_rlp_list_end(b, ll)) != QCN_OK || (err = qcn_rlp_list_end(b, l)) != QCN_OK)
        goto fail;
    return QCN_OK;
fail:
    b->len = start;
    return err;
}

int qcn_commit_decode(struct qcn_commit *out, struct qcn_view in)
{
    struct qcn_rlp_item top, it[4], e, pair[2];
    struct qcn_rlp_iter iter;
    size_t n, i;
    int err;

    memset(out, 0, sizeof *out);
    if (in.len > QCN_COMMIT_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if ((err = qcn_rlp_decode(&top, in)) != QCN_OK ||
        (err = qcn_rlp_split(it, 4, &top)) != QCN_OK ||
        (err = qcn_rlp_get_u64(&out->height, &it[0])) != QCN_OK ||
        (err = get_u32(&out->round, &it[1])) != QCN_OK ||
        (err = qcn_rlp_get_fixed(out->block_hash, QCN_HASH_BYTES, &it[2])) != QCN_OK)
        goto fail;
    if (!it[3].is_list) {
        err = QCN_ERR_RLP_TYPE;
        goto fail;
    }
    if ((err = qcn_rlp_count(&n, &it[3])) != QCN_OK)
        goto fail;
    if (n > QCN_COMMIT_MAX_SIGS) {
        err = QCN_ERR_TOO_LARGE;
        goto fail;
    }
    if (n > 0) {
        out->sigs = calloc(n, sizeof *out->sigs);
        if (out->sigs == NULL) {
            err = QCN_ERR_NOMEM;
            goto fail;
        }
    }
    qcn_rlp_iter_init(&iter, &it[3]);
    for (i = 0; i < n; i++) {
        if ((err = qcn_rlp_iter_next(&iter, &e)) != QCN_OK ||
            (err = qcn_rlp_split(pair, 2, &e)) != QCN_OK ||
            (err = qcn_rlp_get_fixed(out->sigs[i].validator, QCN_ADDRESS_BYTES, &pair[0])) !=
                QCN_OK ||
            (err = qcn_rlp_get_fixed(out->sigs[i].sig, QCN_VOTE_SIG_BYTES, &pair[1])) != QCN_OK)
            goto fail;
        /* Strictly ascending: canonical, and no signer counted twice. */
        if (i > 0 &&
            memcmp(out->sigs[i - 1].validator, out->sigs[i].validator, QCN_ADDRESS_BYTES) >= 0) {
            err = QCN_ERR_CODEC;
            goto fail;
        }
        out->nsigs = i + 1;
    }
    return QCN_OK;
fail:
    qcn_commit_clear(out);
    return err;
}

void qcn_commit_vote(struct qcn_vote *out, const struct qcn_commit *c, uint64_t chain_id, size_t i)
{
    memset(out, 0, sizeof *out);
    out->chain_id = chain_id;
    out->height = c->height;
    out->round = c->round;
    out->type = QCN_VOTE_PRECOMMIT;
    out->has_block = 1;
    memcpy(out->block_hash, c->block_hash, QCN_HASH_BYTES);
    memcpy(out->validator, c->sigs[i].validator, QCN_ADDRESS_BYTES);
    memcpy(out->sig, c->sigs[i].sig, QCN_VOTE_SIG_BYTES);
}

/* Evidence: nil sorts before any hash, hashes bytewise. */
static int vote_block_cmp(const struct qcn_vote *a, const struct qcn_vote *b)
{
    if (a->has_block != b->has_block)
        return a->has_block ? 1 : -1;
    return memcmp(a->block_hash, b->block_hash, QCN_HASH_BYTES);
}

int qcn_evidence_make(struct qcn_evidence *out, const struct qcn_vote *x, const struct qcn_vote *y)
{
    memset(out, 0, sizeof *out);
    if (!vote_form_ok(x) || !vote_form_ok(y) || !qcn_vote_conflicts(x, y))
        return QCN_ERR_CODEC;
    if (vote_block_cmp(x, y) < 0) {
        out->a = *x;
        out->b = *y;
    } else {
        out->a = *y;
        out->b = *x;
    }
    return QCN_OK;
}

int qcn_evidence_encode(struct qcn_buf *b, const struct qcn_evidence *e)
{
    size_t start = b->len, l;
    int err;
    if (!qcn_vote_conflicts(&e->a, &e->b) || vote_block_cmp(&e->a, &e->b) >= 0)
        return QCN_ERR_CODEC;
    l = qcn_rlp_list_begin(b);
    if ((err = qcn_vote_encode(b, &e->a)) != QCN_OK ||
        (err = qcn_vote_encode(b, &e->b)) != QCN_OK || (err = qcn_rlp_list_end(b, l)) != QCN_OK) {
        b->len = start;
        return err;
    }
    return QCN_OK;
}

int qcn_evidence_decode(struct qcn_evidence *out, struct qcn_view in)
{
    struct qcn_rlp_item top, it[2];
    int err;
    memset(out, 0, sizeof *out);
    if (in.len > QCN_EVIDENCE_MAX_BYTES)
        return QCN_ERR_TOO_LARGE;
    if ((err = qcn_rlp_decode(&top, in)) != QCN_OK ||
        (err = qcn_rlp_split(it, 2, &top)) != QCN_OK ||
        (err = qcn_vote_decode(&out->a, it[0].raw)) != QCN_OK ||
        (err = qcn_vote_decode(&out->b, it[1].raw)) != QCN_OK)
        goto fail;
    if (!qcn_vote_conflicts(&out->a, &out->b) || vote_block_cmp(&out->a, &out->b) >= 0) {
        err = QCN_ERR_CODEC;
        goto fail;
    }
    return QCN_OK;
fail:
    memset(out, 0, sizeof *out);
    return err;
}
