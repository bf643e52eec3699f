/* rng.h - the process's cryptographic random source (the OS CSPRNG through
 * libsodium). One of the few process-wide things; thread-safe. */
#ifndef QCN_CRYPTO_RNG_H
#define QCN_CRYPTO_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Fills out with n random bytes. Aborts the process if the OS cannot supply
 * randomness: continuing would silently produce weak keys. */
void qcn_rng_bytes(uint8_t *out, size_t n);

#endif
