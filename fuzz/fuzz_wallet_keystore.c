/* libFuzzer target: the keystore file parser (wallet/keystore.h,
 * docs/keystore.md). Any input either is refused with
 * QCN_ERR_KEYSTORE_FORMAT and an all-zero result, or parses into views that
 * lie inside the input and account for every byte exactly (header, public key
 * of the scheme's size, sealed seed). Inputs with cheap KDF parameters also go
 * through decryption, which must refuse them (the fuzzer cannot forge the
 * Poly1305 tag) without touching anything else. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "wallet/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return p >= data && n <= size && (size_t)(p - data) <= size - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t zero[sizeof(struct qcn_keystore_file)];
    static struct qcn_wallet_key *k;
    struct qcn_keystore_file f;
    int err;

    if (k == NULL) {
        if (qcn_mem_init() != 0)
            abort();
        k = qcn_wallet_key_new();
        if (k == NULL)
            abort();
    }
    err = qcn_keystore_parse(&f, data, size);
    if (err != QCN_OK) {
        if (err != QCN_ERR_KEYSTORE_FORMAT || memcmp(&f, zero, sizeof f) != 0)
            abort();
        return 0;
    }
    if (f.pk.len != qcn_scheme_pk_bytes(f.scheme) || f.ct.len != QCN_KEYSTORE_CT_BYTES ||
        f.header.len != QCN_KEYSTORE_FIXED_HEADER + f.pk.len || f.header.p != data ||
        f.header.len + f.ct.len != size || !inside(f.pk.p, f.pk.len, data, size) ||
        !inside(f.ct.p, f.ct.len, data, size) ||
        !inside(f.salt, QCN_KEYSTORE_SALT_BYTES, data, size) ||
        !inside(f.nonce, QCN_KEYSTORE_NONCE_BYTES, data, size) ||
        qcn_kdf_params_check(&f.kdf) != QCN_OK)
        abort();
    if (f.kdf.ops <= 2 && f.kdf.mem_kib <= 64) {
        err = qcn_keystore_open(k, &f, "fuzz", 4);
        if (err != QCN_ERR_PASSWORD && err != QCN_ERR_KEYSTORE_FORMAT && err != QCN_OK)
            abort();
        if (err != QCN_OK && (k->scheme != 0 || k->pk_len != 0))
            abort();
    }
    return 0;
}
