#include "util/mem.h"

#include <sodium.h>

#include "util/err.h"

int qcn_mem_init(void)
{
    return sodium_init() < 0 ? QCN_ERR_CRYPTO_BACKEND : QCN_OK;
}

void qcn_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        sodium_memzero(p, n);
}

int qcn_ct_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void *qcn_secure_alloc(size_t n)
{
    if (sodium_init() < 0)
        return NULL;
    return sodium_malloc(n);
}

void qcn_secure_free(void *p)
{
    /* sodium_free wipes the region before unmapping it. */
    sodium_free(p);
}
