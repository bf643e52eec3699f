#include "crypto/rng.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

void qcn_rng_bytes(uint8_t *out, size_t n)
{
    if (sodium_init() < 0) {
        fputs("qcn: no randomness available (libsodium init failed)\n", stderr);
        abort();
    }
    randombytes_buf(out, n);
}
