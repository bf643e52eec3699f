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
#define QCN_SHA3_512_RATE 72
#define QCN_KECCAK256_BYTES 32
#define QCN_SHA3_256_BYTES 32
#define QCN_SHA3_512_BYTES 64

struct qcn_keccak {
    uint64_t s[QCN_KECCAK_STATE_LANES];
    unsigned rate;  /* bytes per block */
    unsigned pos;   /* byte offset inside the current block */
    uint8_t dsbyte; /* domain separation + first padding bit */
    uint8_t squeezing;
};

/* The permutation itself, 24 rounds, on 25 little-endian lanes. */
void qcn_keccak_f1600(uint64_t s[QCN_KECCAK_STATE_LANES]);

/* Starts a sponge with the given rate (bytes) and domain byte: 0x01 Keccak,
 * 0x06 SHA3, 0x1f SHAKE. */
void qcn_keccak_init(struct qcn_keccak *k, unsigned rate, uint8_t dsbyte);
void qcn_keccak_absorb(struct qcn_keccak *k, const uint8_t *in, size_t len);
/* Pads and switches to squeezing; implicit on the first squeeze. */
void qcn_keccak_finalize(struct qcn_keccak *k);
void qcn_keccak_squeeze(struct qcn_keccak *k, uint8_t *out, size_t len);
/* Squeezes whole blocks straight from the permutation (SHAKE streams in
 * ML-DSA/ML-KEM sampling); only valid right after finalize or a previous
 * squeeze_blocks call. Writes nblocks*rate bytes. */
void qcn_keccak_squeeze_blocks(struct qcn_keccak *k, uint8_t *out, size_t nblocks);
void qcn_keccak_clear(struct qcn_keccak *k);

static inline void qcn_shake128_init(struct qcn_keccak *k)
{
    qcn_keccak_init(k, QCN_SHAKE128_RATE, 0x1f);
}
static inline void qcn_shake256_init(struct qcn_keccak *k)
{
    qcn_keccak_init(k, QCN_SHAKE256_RATE, 0x1f);
}

/* One-shot helpers. */
void qcn_keccak256(uint8_t out[QCN_KECCAK256_BYTES], const uint8_t *in, size_t len);
void qcn_sha3_256(uint8_t out[QCN_SHA3_256_BYTES], const uint8_t *in, size_t len);
void qcn_sha3_512(uint8_t out[QCN_SHA3_512_BYTES], const uint8_t *in, size_t len);
void qcn_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
void qcn_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);

#endif
