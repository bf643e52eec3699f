/* keccak.h - Keccak-f[1600] and the sponges built on it (FIPS 202):
 * Keccak-256 (Ethereum's pre-standard padding), SHA3-256/512, SHAKE128/256.
 *
 * A struct qcn_keccak is caller-owned storage; absorb and squeeze may be called
 * any number of times (absorb before the first squeeze). Not thread-safe per
 * context; contexts are independent. Wipe a context that saw secrets with
 * qcn_keccak_clear. */
#ifndef QCN_CRYPTO_KECCAK_H
#define QCN_CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define QCN_KECCAK_STATE_LANES 25
#define QCN_SHAKE128_RATE 168
#define QCN_SHAKE256_RATE 136
#define QCN_SHA3_256_RATE 136
#define QCN_KECCAK256_RATE 136
#define QCN_SHA3_512_RATE 72
#define QCN_KECCAK256_BYTES 32
#define QCN_SHA3_256_BYTES 32
#define QCN_SHA3_512_BYTES 64
/* Domain-separation bytes (the suffix bits plus the first padding bit). */
#define QCN_KECCAK_DS 0x01 /* Keccak-256 as Ethereum uses it */
#define QCN_SHA3_DS 0x06   /* FIPS 202 SHA3-* */
#define QCN_SHAKE_DS 0x1f  /* FIPS 202 SHAKE* */

struct qcn_keccak {
    uint64_t s[QCN_KECCAK_STATE_LANES];
    unsigned rate;  /* bytes per block */
    unsigned pos;   /* byte offset inside the current block */
    uint8_t dsbyte; /* domain separation + first padding bit */
    uint8_t squeezing;
};

/* The permutation itself, 24 rounds, on 25 little-endian lanes. */
void qcn_keccak_f1600(uint64_t s[QCN_KECCAK_STATE_LANES]);

/* Starts a sponge with the given rate (bytes, a multiple of 8 below 200) and
 * domain byte (QCN_KECCAK_DS, QCN_SHA3_DS or QCN_SHAKE_DS). None of these
 * functions can fail or allocate. */
void qcn_keccak_init(struct qcn_keccak *k, unsigned rate, uint8_t dsbyte);
/* Absorbs len bytes; only before the first squeeze. */
void qcn_keccak_absorb(struct qcn_keccak *k, const uint8_t *in, size_t len);
/* Pads and switches to squeezing; implicit on the first squeeze. */
void qcn_keccak_finalize(struct qcn_keccak *k);
/* Writes the next len output bytes. */
void qcn_keccak_squeeze(struct qcn_keccak *k, uint8_t *out, size_t len);
/* Squeezes whole blocks straight from the permutation (SHAKE streams in
 * ML-DSA/ML-KEM sampling); only valid right after finalize or a previous
 * squeeze_blocks call. Writes nblocks*rate bytes. */
void qcn_keccak_squeeze_blocks(struct qcn_keccak *k, uint8_t *out, size_t nblocks);
/* Wipes k (it may have absorbed secrets); init it again to reuse. */
void qcn_keccak_clear(struct qcn_keccak *k);

/* qcn_keccak_init for SHAKE128 / SHAKE256. */
static inline void qcn_shake128_init(struct qcn_keccak *k)
{
    qcn_keccak_init(k, QCN_SHAKE128_RATE, QCN_SHAKE_DS);
}
static inline void qcn_shake256_init(struct qcn_keccak *k)
{
    qcn_keccak_init(k, QCN_SHAKE256_RATE, QCN_SHAKE_DS);
}

/* One sponge (rate, domain byte as for qcn_keccak_init) over a || b, either
 * of which may be empty (NULL only with length 0): outlen bytes of output.
 * The state is wiped. Cannot fail; thread-safe. */
void qcn_keccak_hash2(uint8_t *out, size_t outlen, unsigned rate, uint8_t dsbyte, const uint8_t *a,
                      size_t alen, const uint8_t *b, size_t blen);

/* One-shot helpers: the digest (or outlen bytes of XOF output) of in.
 * Cannot fail; thread-safe; the internal state is wiped. */
void qcn_keccak256(uint8_t out[QCN_KECCAK256_BYTES], const uint8_t *in, size_t len);
void qcn_sha3_256(uint8_t out[QCN_SHA3_256_BYTES], const uint8_t *in, size_t len);
void qcn_sha3_512(uint8_t out[QCN_SHA3_512_BYTES], const uint8_t *in, size_t len);
void qcn_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
void qcn_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);

/* Keccak-256 of four independent inputs: out[t] = qcn_keccak256(in[t],
 * len[t]) for t < 4 (in[t] may be NULL only with len[t] 0; the outputs must
 * not overlap the inputs). On CPUs with AVX2 the blocks that all four inputs
 * still have go through the four-way permutation (keccak_x4.h), about three
 * times the throughput of four one-way sponges; the tails finish one by one.
 * Same results on every CPU. Cannot fail; thread-safe; states are wiped. */
#define QCN_KECCAK_X4_WAYS 4
void qcn_keccak256_x4(uint8_t *const out[QCN_KECCAK_X4_WAYS],
                      const uint8_t *const in[QCN_KECCAK_X4_WAYS],
                      const size_t len[QCN_KECCAK_X4_WAYS]);

#endif
