/* devkey.c - the dev key file and the transfer signer (devkey.h). */
#include "node/devkey.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/rng.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/mem.h"

int qcn_dev_key_from_seed(struct qcn_dev_key *k, const uint8_t seed[QCN_MLDSA_SEED_BYTES])
{
    int err;
    memmove(k->seed, seed, QCN_MLDSA_SEED_BYTES);
    k->scheme = QCN_SCHEME_MLDSA65;
    err = qcn_mldsa_keygen(QCN_MLDSA65, k->pk, k->sk, k->seed);
    if (err != QCN_OK) {
        qcn_wipe(k, sizeof *k);
        return err;
    }
    qcn_address_from_key(k->address, k->scheme, k->pk, sizeof k->pk);
    return QCN_OK;
}

int qcn_dev_key_generate(struct qcn_dev_key *k)
{
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    int err;
    qcn_rng_bytes(seed, sizeof seed);
    err = qcn_dev_key_from_seed(k, seed);
    qcn_wipe(seed, sizeof seed);
    return err;
}

int qcn_dev_key_save(const struct qcn_dev_key *k, const char *path)
{
    char seedhex[2 * QCN_MLDSA_SEED_BYTES + 3], addrhex[2 * QCN_ADDRESS_BYTES + 3];
    char *text = NULL;
    json_t *o = NULL;
    size_t len;
    FILE *f = NULL;
    int fd, err = QCN_OK;

    seedhex[0] = addrhex[0] = '0';
    seedhex[1] = addrhex[1] = 'x';
    qcn_hex_encode(seedhex + 2, k->seed, sizeof k->seed);
    qcn_hex_encode(addrhex + 2, k->address, sizeof k->address);
    o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "warning", QCN_DEV_KEY_WARNING, "algorithm",
                  "ML-DSA-65", "scheme", (int)k->scheme, "address", addrhex, "seed", seedhex);
    if (o == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    text = json_dumps(o, JSON_INDENT(2));
    if (text == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = errno == EEXIST ? QCN_ERR_EXISTS : QCN_ERR_IO;
        goto out;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        err = QCN_ERR_IO;
        goto out;
    }
    len = strlen(text);
    if (fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF || fflush(f) != 0 ||
        fsync(fileno(f)) != 0)
        err = QCN_ERR_IO;
out:
    if (f != NULL && fclose(f) != 0)
        err = QCN_ERR_IO;
    if (text != NULL) {
        qcn_wipe(text, strlen(text));
        free(text);
    }
    json_decref(o);
    qcn_wipe(seedhex, sizeof seedhex);
    return err;
}

int qcn_dev_key_load(struct qcn_dev_key *k, const char *path)
{
    json_error_t jerr;
    json_t *o = NULL;
    const char *seedhex, *addrhex;
    uint8_t seed[QCN_MLDSA_SEED_BYTES], addr[QCN_ADDRESS_BYTES];
    int err;

    if (access(path, F_OK) != 0)
        return QCN_ERR_NOT_FOUND;
    o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL || json_unpack(o, "{s:s, s:s}", "seed", &seedhex, "address", &addrhex) != 0 ||
        qcn_hex_decode_exact(seed, sizeof seed, seedhex) != QCN_OK ||
        qcn_hex_decode_exact(addr, sizeof addr, addrhex) != QCN_OK) {
        QCN_LOG(QCN_LOG_ERROR, "devkey", "%s: not a dev key file", path);
        err = QCN_ERR_BAD_JSON;
        goto out;
    }
    err = qcn_dev_key_from_seed(k, seed);
    if (err == QCN_OK && memcmp(addr, k->address, sizeof addr) != 0) {
        QCN_LOG(QCN_LOG_ERROR, "devkey", "%s: address does not match the seed", path);
        err = QCN_ERR_BAD_KEY;
    }
out:
    if (err != QCN_OK)
        qcn_wipe(k, sizeof *k);
    qcn_wipe(seed, sizeof seed);
    json_decref(o);
    return err;
}

int qcn_dev_transfer_sign(struct qcn_buf *out, const struct qcn_dev_key *k,
                          const struct qcn_dev_transfer *t)
{
    struct qcn_tx_fields f;
    struct qcn_tx_sig sig;
    uint8_t sighash[QCN_HASH_BYTES], s[QCN_MLDSA65_SIG_BYTES];
    int err;

    qcn_buf_reset(out);
    memset(&f, 0, sizeof f);
    f.chain_id = t->chain_id;
    f.nonce = t->nonce;
    f.max_priority_fee = t->max_priority_fee;
    f.max_fee = t->max_fee;
    f.gas_limit = t->gas_limit;
    memcpy(f.from, k->address, sizeof f.from);
    f.has_to = 1;
    memcpy(f.to, t->to, sizeof f.to);
    f.value = qcn_u256_from_u64(t->value);
    f.scheme = k->scheme;
    err = qcn_tx_sighash(sighash, &f);
    if (err == QCN_OK)
        err = qcn_tx_sign_hash(s, k->scheme, k->sk, sighash, 0);
    if (err != QCN_OK)
        return err;
    sig.key_index = 0;
    sig.sig = qcn_view_make(s, sizeof s);
    return qcn_tx_encode(
        out, &f, t->with_pubkey ? qcn_view_make(k->pk, sizeof k->pk) : qcn_view_make(NULL, 0), &sig,
        1);
}

int qcn_dev_genesis_json(struct qcn_buf *out, uint64_t chain_id, uint64_t gas_limit,
                         const struct qcn_dev_key *keys, size_t n, const char *balance_hex,
                         int record_keys)
{
    char line[256], hex[2 * QCN_MLDSA65_PK_BYTES + 1];
    size_t i;
    int len, err;

    qcn_buf_reset(out);
    len = snprintf(line, sizeof line,
                   "{\n  \"chain_id\": %llu,\n  \"timestamp\": 0,\n  \"gas_limit\": %llu,\n"
                   "  \"base_fee\": 1000000000,\n  \"min_base_fee\": 7,\n  \"alloc\": {\n",
                   (unsigned long long)chain_id, (unsigned long long)gas_limit);
    if (len < 0 || (size_t)len >= sizeof line)
        return QCN_ERR_INTERNAL;
    err = qcn_buf_append(out, line, (size_t)len);
    for (i = 0; i < n && err == QCN_OK; i++) {
        len = snprintf(line, sizeof line, "    \"0x%s\": {\"balance\": \"%s\"",
                       qcn_hex_encode(hex, keys[i].address, QCN_ADDRESS_BYTES), balance_hex);
        if (len < 0 || (size_t)len >= sizeof line)
            return QCN_ERR_TOO_LARGE;
        err = qcn_buf_append(out, line, (size_t)len);
        if (err == QCN_OK && record_keys) {
            qcn_hex_encode(hex, keys[i].pk, sizeof keys[i].pk);
            static const char pre[] = ", \"scheme\": \"ml-dsa-65\", \"public_key\": \"0x";
            err = qcn_buf_append(out, pre, sizeof pre - 1);
            if (err == QCN_OK)
                err = qcn_buf_append(out, hex, 2 * sizeof keys[i].pk);
            if (err == QCN_OK)
                err = qcn_buf_append_u8(out, '"');
        }
        if (err == QCN_OK)
            err =
                qcn_buf_append(out, i + 1 < n ? "},\n" : "}\n", strlen(i + 1 < n ? "},\n" : "}\n"));
    }
    if (err == QCN_OK)
        err = qcn_buf_append(out, "  }\n}\n", strlen("  }\n}\n"));
    return err;
}
