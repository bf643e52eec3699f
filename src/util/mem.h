/* mem.h - secret hygiene: wiping, constant-time comparison, guarded memory.
 * Thin names over libsodium so the rest of the code says what it means. */
#ifndef QCN_UTIL_MEM_H
#define QCN_UTIL_MEM_H

#include <stddef.h>

/* Initialises libsodium once per process. Returns QCN_OK or QCN_ERR_CRYPTO_BACKEND.
 * Thread-safe (libsodium serialises its own init). */
int qcn_mem_init(void);

/* Overwrites n bytes with zeros in a way the compiler may not drop. */
void qcn_wipe(void *p, size_t n);

/* 1 if the n bytes at a and b are equal, else 0, in time independent of the
 * contents. */
int qcn_ct_equal(const void *a, const void *b, size_t n);

/* Guarded allocation for long-lived secrets (guard pages, canary, mlock).
 * Returns NULL on failure. qcn_secure_free wipes before freeing; NULL is a no-op. */
void *qcn_secure_alloc(size_t n);
void qcn_secure_free(void *p);

#endif
