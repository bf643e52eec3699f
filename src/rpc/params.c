/* params.c - EIP-1474 value encoding: quantities are compact hex with a 0x
 * prefix and no leading zeros; unformatted data is 0x plus two hex digits
 * per byte. Strictness here is what keeps "0x" + 100 digits or "0x00" from
 * quietly meaning something. */
#include "rpc/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

/* Checks the shape of a quantity string; returns the digits and their count. */
static int quantity_digits(struct qcn_rpc_error *err, const char **digits, size_t *ndigits,
                           const json_t *v, const char *field)
{
    const char *s;
    size_t n;

    if (v == NULL)
        return qcn_rpc_error_param(err, field, "missing");
    if (!json_is_string(v))
        return qcn_rpc_error_param(err, field, "expected a hex quantity string like \"0x1a\"");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return qcn_rpc_error_param(err, field, "hex quantity needs a 0x prefix and digits");
    for (size_t i = 2; i < n; i++)
        if (qcn_hex_nibble(s[i]) < 0)
            return qcn_rpc_error_param(err, field, "invalid hex digit");
    if (s[2] == '0' && n > 3)
        return qcn_rpc_error_param(err, field, "hex quantity has leading zeros");
    *digits = s + 2;
    *ndigits = n - 2;
    return 0;
}

int qcn_rpc_parse_u64(struct qcn_rpc_error *err, uint64_t *out, const json_t *v, const char *field)
{
    const char *d;
    size_t n;
    uint64_t r = 0;
    int rc;

    *out = 0;
    if ((rc = quantity_digits(err, &d, &n, v, field)) != 0)
        return rc;
    if (n > 16)
        return qcn_rpc_error_param(err, field, "quantity overflows 64 bits");
    for (size_t i = 0; i < n; i++)
        r = r << 4 | (uint64_t)qcn_hex_nibble(d[i]);
    *out = r;
    return 0;
}

int qcn_rpc_parse_u256(struct qcn_rpc_error *err, uint8_t out[QCN_RPC_U256_BYTES], const json_t *v,
                       const char *field)
{
    const char *d;
    size_t n;
    int rc;

    memset(out, 0, QCN_RPC_U256_BYTES);
    if ((rc = quantity_digits(err, &d, &n, v, field)) != 0)
        return rc;
    if (n > 2 * QCN_RPC_U256_BYTES)
        return qcn_rpc_error_param(err, field, "quantity overflows 256 bits");
    /* Fill from the least significant digit. */
    for (size_t i = 0; i < n; i++) {
        size_t pos = n - 1 - i; /* digit index from the left */
        uint8_t nib = (uint8_t)qcn_hex_nibble(d[pos]);
        size_t byte = QCN_RPC_U256_BYTES - 1 - i / 2;
        out[byte] = (uint8_t)(out[byte] | (i % 2 ? nib << 4 : nib));
    }
    return 0;
}

static int data_shape(struct qcn_rpc_error *err, const char **hex, size_t *nbytes, const json_t *v,
                      const char *field)
{
    const char *s;
    size_t n;

    if (v == NULL)
        return qcn_rpc_error_param(err, field, "missing");
    if (!json_is_string(v))
        return qcn_rpc_error_param(err, field, "expected a 0x-prefixed hex string");
    s = json_string_value(v);
    n = json_string_length(v);
    if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return qcn_rpc_error_param(err, field, "hex data needs a 0x prefix");
    if ((n - 2) % 2 != 0)
        return qcn_rpc_error_param(err, field, "hex data has an odd number of digits");
    for (size_t i = 2; i < n; i++)
        if (qcn_hex_nibble(s[i]) < 0)
            return qcn_rpc_error_param(err, field, "invalid hex digit");
    *hex = s + 2;
    *nbytes = (n - 2) / 2;
    return 0;
}

int qcn_rpc_parse_fixed(struct qcn_rpc_error *err, uint8_t *out, size_t n, const json_t *v,
                        const char *field)
{
    const char *hex;
    size_t got;
    int rc;

    memset(out, 0, n);
    if ((rc = data_shape(err, &hex, &got, v, field)) != 0)
        return rc;
    if (got != n)
        return qcn_rpc_error_param(err, field, "expected %zu bytes, got %zu", n, got);
    if (qcn_hex_decode_exact(out, n, hex) != QCN_OK) {
        memset(out, 0, n);
        return qcn_rpc_error_param(err, field, "malformed hex");
    }
    return 0;
}

int qcn_rpc_parse_data(struct qcn_rpc_error *err, struct qcn_buf *out, size_t max, const json_t *v,
                       const char *field)
{
    const char *hex;
    size_t got, dec = 0;
    int rc;

    qcn_buf_reset(out);
    if ((rc = data_shape(err, &hex, &got, v, field)) != 0)
        return rc;
    if (got > max)
        return qcn_rpc_error_param(err, field, "%zu bytes exceeds the cap of %zu", got, max);
    if (qcn_buf_reserve(out, got) != QCN_OK)
        return qcn_rpc_error_set(err, QCN_RPC_INTERNAL_ERROR, "out of memory");
    if (got > 0 && qcn_hex_decode(out->p, got, &dec, hex, 2 * got) != QCN_OK)
        return qcn_rpc_error_param(err, field, "malformed hex");
    out->len = dec;
    return 0;
}

int qcn_rpc_parse_block(struct qcn_rpc_error *err, struct qcn_rpc_block_ref *out, const json_t *v,
                        const char *field)
{
    static const struct {
        const char *name;
        enum qcn_rpc_block_tag tag;
    } tags[] = {{"latest", QCN_RPC_BLOCK_LATEST},
                {"earliest", QCN_RPC_BLOCK_EARLIEST},
                {"pending", QCN_RPC_BLOCK_PENDING},
                {"safe", QCN_RPC_BLOCK_SAFE},
                {"finalized", QCN_RPC_BLOCK_FINALIZED}};
    char sub[96];

    memset(out, 0, sizeof *out);
    out->tag = QCN_RPC_BLOCK_LATEST;
    if (v == NULL)
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
            if (strcmp(s, tags[i].name) == 0) {
                out->tag = tags[i].tag;
                return 0;
            }
        }
        out->tag = QCN_RPC_BLOCK_NUMBER;
        if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
            return qcn_rpc_error_param(
                err, field,
                "expected a block number or one of latest, earliest, pending, safe, finalized");
        return qcn_rpc_parse_u64(err, &out->number, v, field);
    }
    if (json_is_object(v)) {
        json_t *num = json_object_get(v, "blockNumber");
        json_t *hash = json_object_get(v, "blockHash");
        json_t *canon = json_object_get(v, "requireCanonical");
        if ((num == NULL) == (hash == NULL))
            return qcn_rpc_error_param(err, field, "needs exactly one of blockNumber, blockHash");
        if (num != NULL) {
            snprintf(sub, sizeof sub, "%s.blockNumber", field);
            return qcn_rpc_parse_block(err, out, num, sub);
        }
        snprintf(sub, sizeof sub, "%s.blockHash", field);
        out->tag = QCN_RPC_BLOCK_HASH;
        if (canon != NULL && !json_is_boolean(canon))
            return qcn_rpc_error_param(err, field, "requireCanonical must be a boolean");
        out->require_canonical = canon != NULL && json_is_true(canon);
        return qcn_rpc_parse_fixed(err, out->hash, QCN_RPC_HASH_BYTES, hash, sub);
    }
    return qcn_rpc_error_param(err, field, "expected a block number, tag or object");
}

json_t *qcn_rpc_param(json_t *params, size_t i)
{
    if (params == NULL || !json_is_array(params))
        return NULL;
    return json_array_get(params, i);
}

int qcn_rpc_params_check(struct qcn_rpc_error *err, json_t *params, size_t min, size_t max)
{
    size_t n;

    if (params == NULL || (json_is_object(params) && json_object_size(params) == 0))
        n = 0;
    else if (json_is_array(params))
        n = json_array_size(params);
    else
        return qcn_rpc_error_param(err, "params", "expected an array of positional parameters");
    if (n < min)
        return qcn_rpc_error_param(err, "params", "expected at least %zu parameters, got %zu", min,
                                   n);
    if (n > max)
        return qcn_rpc_error_param(err, "params", "expected at most %zu parameters, got %zu", max,
                                   n);
    return 0;
}

json_t *qcn_rpc_json_u64(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "0x%llx", (unsigned long long)v);
    return json_string(s);
}

json_t *qcn_rpc_json_u256(const uint8_t v[QCN_RPC_U256_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    char s[2 + 2 * QCN_RPC_U256_BYTES + 1];
    size_t n = 2;
    int started = 0;

    s[0] = '0';
    s[1] = 'x';
    for (size_t i = 0; i < QCN_RPC_U256_BYTES; i++) {
        uint8_t nib[2] = {(uint8_t)(v[i] >> 4), (uint8_t)(v[i] & 15)};
        for (int k = 0; k < 2; k++) {
            if (!started && nib[k] == 0)
                continue;
            started = 1;
            s[n++] = digits[nib[k]];
        }
    }
    if (!started)
        s[n++] = '0';
    s[n] = '\0';
    return json_string(s);
}

json_t *qcn_rpc_json_data(const uint8_t *p, size_t len)
{
    json_t *j;
    char *s;
    size_t n;

    if (__builtin_mul_overflow(len, 2, &n) || __builtin_add_overflow(n, 3, &n))
        return NULL;
    s = malloc(n);
    if (s == NULL)
        return NULL;
    s[0] = '0';
    s[1] = 'x';
    qcn_hex_encode(s + 2, p, len);
    j = json_stringn_nocheck(s, n - 1);
    free(s);
    return j;
}
