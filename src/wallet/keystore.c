/* keystore.c - encrypted key files (keystore.h; format in docs/keystore.md). */
#include "wallet/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/rng.h"
#include "util/mem.h"

/* Header offsets (docs/keystore.md "File format"). */
#define OFF_VERSION 4
#define OFF_KDF 5
#define OFF_AEAD 6
#define OFF_SCHEME 7
#define OFF_OPS 8
#define OFF_MEM 12
#define OFF_SALT 16
#define OFF_NONCE 32
#define OFF_ADDRESS 56
#define OFF_PKLEN 76
#define OFF_PK QCN_KEYSTORE_FIXED_HEADER
#define KDF_KEY_BYTES 32 /* crypto_aead_xchacha20poly1305_ietf_KEYBYTES */

int qcn_kdf_params_check(const struct qcn_kdf_params *p)
{
    if (p->ops < QCN_KEYSTORE_MIN_OPS || p->ops > QCN_KEYSTORE_MAX_OPS ||
        p->mem_kib < QCN_KEYSTORE_MIN_MEM_KIB || p->mem_kib > QCN_KEYSTORE_MAX_MEM_KIB)
        return QCN_ERR_INVALID_ARG;
    return QCN_OK;
}

static int parse_u32(uint32_t *out, const char *s, const char **end)
{
    unsigned long long v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned long long)(*p - '0');
        if (v > UINT32_MAX)
            return QCN_ERR_INVALID_ARG;
        p++;
    }
    if (p == s)
        return QCN_ERR_INVALID_ARG;
    *out = (uint32_t)v;
    *end = p;
    return QCN_OK;
}

int qcn_kdf_params_default(struct qcn_kdf_params *out)
{
    const char *env = getenv("QCN_KEYSTORE_KDF"), *p;
    struct qcn_kdf_params k;

    out->ops = QCN_KEYSTORE_DEFAULT_OPS;
    out->mem_kib = QCN_KEYSTORE_DEFAULT_MEM_KIB;
    if (env == NULL || env[0] == '\0')
        return QCN_OK;
    if (parse_u32(&k.ops, env, &p) != QCN_OK || *p != ':' ||
        parse_u32(&k.mem_kib, p + 1, &p) != QCN_OK || *p != '\0' ||
        qcn_kdf_params_check(&k) != QCN_OK)
        return QCN_ERR_INVALID_ARG;
    *out = k;
    return QCN_OK;
}

uint8_t qcn_scheme_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "ml-dsa-44") == 0 || strcmp(name, "ML-DSA-44") == 0 || strcmp(name, "44") == 0)
        return QCN_SCHEME_MLDSA44;
    if (strcmp(name, "ml-dsa-65") == 0 || strcmp(name, "ML-DSA-65") == 0 || strcmp(name, "65") == 0)
        return QCN_SCHEME_MLDSA65;
    if (strcmp(name, "ml-dsa-87") == 0 || strcmp(name, "ML-DSA-87") == 0 || strcmp(name, "87") == 0)
        return QCN_SCHEME_MLDSA87;
    return 0;
}

const char *qcn_scheme_to_name(uint8_t scheme)
{
    switch (scheme) {
    case QCN_SCHEME_MLDSA44:
        return "ml-dsa-44";
    case QCN_SCHEME_MLDSA65:
        return "ml-dsa-65";
    case QCN_SCHEME_MLDSA87:
        return "ml-dsa-87";
    case QCN_SCHEME_MULTISIG:
        return "multisig";
    default:
        return "unknown";
    }
}

struct qcn_wallet_key *qcn_wallet_key_new(void)
{
    struct qcn_wallet_key *k = qcn_secure_alloc(sizeof *k);
    if (k != NULL)
        memset(k, 0, sizeof *k);
    return k;
}

void qcn_wallet_key_free(struct qcn_wallet_key *k)
{
    if (k == NULL)
        return;
    qcn_wipe(k, sizeof *k);
    qcn_secure_free(k);
}

int qcn_wallet_key_from_seed(struct qcn_wallet_key *k, uint8_t scheme,
                             const uint8_t seed[QCN_MLDSA_SEED_BYTES], const uint8_t *account)
{
    int param = qcn_scheme_param(scheme), err;

    if (param == 0)
        return QCN_ERR_TX_UNKNOWN_SCHEME;
    if (seed != k->seed)
        memmove(k->seed, seed, QCN_MLDSA_SEED_BYTES);
    k->scheme = scheme;
    k->pk_len = qcn_scheme_pk_bytes(scheme);
    err = qcn_mldsa_keygen(param, k->pk, k->sk, k->seed);
    if (err != QCN_OK) {
        qcn_wipe(k, sizeof *k);
        return err;
    }
    qcn_address_from_key(k->key_address, scheme, k->pk, k->pk_len);
    memmove(k->account, account != NULL ? account : k->key_address, QCN_ADDRESS_BYTES);
    return QCN_OK;
}

int qcn_wallet_key_generate(struct qcn_wallet_key *k, uint8_t scheme)
{
    qcn_rng_bytes(k->seed, QCN_MLDSA_SEED_BYTES);
    return qcn_wallet_key_from_seed(k, scheme, k->seed, NULL);
}

int qcn_wallet_key_sign(const struct qcn_wallet_key *k, uint8_t *sig,
                        const uint8_t sighash[QCN_HASH_BYTES])
{
    return qcn_tx_sign_hash(sig, k->scheme, k->sk, sighash, 0);
}

int qcn_keystore_parse(struct qcn_keystore_file *out, const uint8_t *p, size_t len)
{
    size_t pklen;

    memset(out, 0, sizeof *out);
    if (p == NULL || len < QCN_KEYSTORE_FIXED_HEADER ||
        memcmp(p, QCN_KEYSTORE_MAGIC, QCN_KEYSTORE_MAGIC_BYTES) != 0 ||
        p[OFF_VERSION] != QCN_KEYSTORE_VERSION || p[OFF_KDF] != QCN_KEYSTORE_KDF_ARGON2ID13 ||
        p[OFF_AEAD] != QCN_KEYSTORE_AEAD_XCHACHA20POLY1305 || qcn_scheme_param(p[OFF_SCHEME]) == 0)
        return QCN_ERR_KEYSTORE_FORMAT;
    out->scheme = p[OFF_SCHEME];
    out->kdf.ops = qcn_load_be32(p + OFF_OPS);
    out->kdf.mem_kib = qcn_load_be32(p + OFF_MEM);
    pklen = qcn_load_be16(p + OFF_PKLEN);
    if (qcn_kdf_params_check(&out->kdf) != QCN_OK || pklen != qcn_scheme_pk_bytes(out->scheme) ||
        len != QCN_KEYSTORE_FIXED_HEADER + pklen + QCN_KEYSTORE_CT_BYTES) {
        memset(out, 0, sizeof *out);
        return QCN_ERR_KEYSTORE_FORMAT;
    }
    out->salt = p + OFF_SALT;
    out->nonce = p + OFF_NONCE;
    memcpy(out->address, p + OFF_ADDRESS, QCN_ADDRESS_BYTES);
    out->pk = qcn_view_make(p + OFF_PK, pklen);
    out->header = qcn_view_make(p, QCN_KEYSTORE_FIXED_HEADER + pklen);
    out->ct = qcn_view_make(p + QCN_KEYSTORE_FIXED_HEADER + pklen, QCN_KEYSTORE_CT_BYTES);
    return QCN_OK;
}

/* Argon2id(password, salt) -> 32-byte AEAD key, in guarded memory. */
static int derive(uint8_t *key, const char *pw, size_t pwlen, const uint8_t *salt,
                  const struct qcn_kdf_params *kdf)
{
    if (crypto_pwhash(key, KDF_KEY_BYTES, pw, pwlen, salt, kdf->ops, (size_t)kdf->mem_kib * 1024u,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return QCN_ERR_NOMEM; /* libsodium fails here only when it cannot get the memory */
    return QCN_OK;
}

int qcn_keystore_seal(struct qcn_buf *out, const struct qcn_wallet_key *k, const char *password,
                      size_t password_len, const struct qcn_kdf_params *kdf)
{
    uint8_t hdr[QCN_KEYSTORE_FIXED_HEADER], ct[QCN_KEYSTORE_CT_BYTES];
    uint8_t *key = NULL;
    size_t start = out->len, hlen;
    unsigned long long ctlen = 0;
    int err;

    if (qcn_kdf_params_check(kdf) != QCN_OK || qcn_scheme_param(k->scheme) == 0 ||
        k->pk_len != qcn_scheme_pk_bytes(k->scheme))
        return QCN_ERR_INVALID_ARG;
    memcpy(hdr, QCN_KEYSTORE_MAGIC, QCN_KEYSTORE_MAGIC_BYTES);
    hdr[OFF_VERSION] = QCN_KEYSTORE_VERSION;
    hdr[OFF_KDF] = QCN_KEYSTORE_KDF_ARGON2ID13;
    hdr[OFF_AEAD] = QCN_KEYSTORE_AEAD_XCHACHA20POLY1305;
    hdr[OFF_SCHEME] = k->scheme;
    qcn_store_be32(hdr + OFF_OPS, kdf->ops);
    qcn_store_be32(hdr + OFF_MEM, kdf->mem_kib);
    qcn_rng_bytes(hdr + OFF_SALT, QCN_KEYSTORE_SALT_BYTES);
    qcn_rng_bytes(hdr + OFF_NONCE, QCN_KEYSTORE_NONCE_BYTES);
    memcpy(hdr + OFF_ADDRESS, k->account, QCN_ADDRESS_BYTES);
    qcn_store_be16(hdr + OFF_PKLEN, (uint16_t)k->pk_len);
    if ((err = qcn_buf_append(out, hdr, sizeof hdr)) != QCN_OK ||
        (err = qcn_buf_append(out, k->pk, k->pk_len)) != QCN_OK)
        goto out;
    hlen = out->len - start;
    key = qcn_secure_alloc(KDF_KEY_BYTES);
    if (key == NULL) {
        err = QCN_ERR_NOMEM;
        goto out;
    }
    if ((err = derive(key, password, password_len, hdr + OFF_SALT, kdf)) != QCN_OK)
        goto out;
    /* The header (everything before the ciphertext) is the associated data. */
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, k->seed, QCN_MLDSA_SEED_BYTES,
                                                   out->p + start, hlen, NULL, hdr + OFF_NONCE,
                                                   key) != 0 ||
        ctlen != QCN_KEYSTORE_CT_BYTES) {
        err = QCN_ERR_CRYPTO_BACKEND;
        goto out;
    }
    err = qcn_buf_append(out, ct, sizeof ct);
out:
    if (err != QCN_OK && out->len > start)
        out->len = start;
    qcn_secure_free(key);
    qcn_wipe(ct, sizeof ct);
    return err;
}

int qcn_keystore_open(struct qcn_wallet_key *k, const struct qcn_keystore_file *f,
                      const char *password, size_t password_len)
{
    uint8_t *key = NULL;
    unsigned long long mlen = 0;
    int err;

    memset(k, 0, sizeof *k);
    key = qcn_secure_alloc(KDF_KEY_BYTES);
    if (key == NULL)
        return QCN_ERR_NOMEM;
    if ((err = derive(key, password, password_len, f->salt, &f->kdf)) != QCN_OK)
        goto out;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(k->seed, &mlen, NULL, f->ct.p, f->ct.len,
                                                   f->header.p, f->header.len, f->nonce,
                                                   key) != 0 ||
        mlen != QCN_MLDSA_SEED_BYTES) {
        err = QCN_ERR_PASSWORD;
        goto out;
    }
    if ((err = qcn_wallet_key_from_seed(k, f->scheme, k->seed, f->address)) != QCN_OK)
        goto out;
    if (k->pk_len != f->pk.len || !qcn_ct_equal(k->pk, f->pk.p, k->pk_len))
        err = QCN_ERR_KEYSTORE_FORMAT;
out:
    if (err != QCN_OK)
        qcn_wipe(k, sizeof *k);
    qcn_secure_free(key);
    return err;
}

/* ---- files ---- */

int qcn_keystore_name_valid(const char *name)
{
    size_t i, n;
    if (name == NULL)
        return 0;
    n = strnlen(name, QCN_KEYSTORE_NAME_MAX + 1);
    if (n == 0 || n > QCN_KEYSTORE_NAME_MAX || name[0] == '.' || name[0] == '-')
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int qcn_keystore_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n;
    if (!qcn_keystore_name_valid(name))
        return QCN_ERR_INVALID_ARG;
    n = snprintf(out, cap, "%s/%s%s", dir, name, QCN_KEYSTORE_EXT);
    if (n < 0 || (size_t)n >= cap)
        return QCN_ERR_TOO_LARGE;
    return QCN_OK;
}

int qcn_keystore_dir_create(const char *dir)
{
    char path[QCN_KEYSTORE_PATH_MAX];
    size_t i, n = strnlen(dir, sizeof path);

    if (n == 0 || n >= sizeof path)
        return QCN_ERR_INVALID_ARG;
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        /* parents keep the umask's mode; the keystore itself is private */
        if (mkdir(path, i == n ? 0700 : 0755) != 0 && errno != EEXIST)
            return QCN_ERR_IO;
        if (i < n)
            path[i] = '/';
    }
    return QCN_OK;
}

int qcn_wallet_file_read(struct qcn_buf *out, const char *path, size_t max)
{
    uint8_t chunk[4096];
    ssize_t r;
    int fd, err = QCN_OK;

    qcn_buf_reset(out);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? QCN_ERR_NOT_FOUND : QCN_ERR_IO;
    for (;;) {
        r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = QCN_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        if (out->len + (size_t)r > max) {
            err = QCN_ERR_TOO_LARGE;
            break;
        }
        if ((err = qcn_buf_append(out, chunk, (size_t)r)) != QCN_OK)
            break;
    }
    close(fd);
    qcn_wipe(chunk, sizeof chunk);
    if (err != QCN_OK)
        qcn_buf_reset(out);
    return err;
}

static int dir_of(char *out, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n;
    if (slash == NULL) {
        if (cap < 2)
            return QCN_ERR_TOO_LARGE;
        out[0] = '.';
        out[1] = '\0';
        return QCN_OK;
    }
    n = (size_t)(slash - path);
    if (n == 0)
        n = 1;
    if (n >= cap)
        return QCN_ERR_TOO_LARGE;
    memcpy(out, path, n);
    out[n] = '\0';
    return QCN_OK;
}

/* Writes p into a fresh temp file beside path; its name goes to tmp. */
static int write_temp(char *tmp, size_t cap, const char *path, const uint8_t *p, size_t len,
                      unsigned mode)
{
    size_t off = 0;
    int fd, n, err = QCN_OK;

    n = snprintf(tmp, cap, "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= cap)
        return QCN_ERR_TOO_LARGE;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return QCN_ERR_IO;
    if (fchmod(fd, (mode_t)mode) != 0)
        err = QCN_ERR_IO;
    while (err == QCN_OK && off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            err = QCN_ERR_IO;
        else
            off += (size_t)w;
    }
    if (err == QCN_OK && fsync(fd) != 0)
        err = QCN_ERR_IO;
    if (close(fd) != 0 && err == QCN_OK)
        err = QCN_ERR_IO;
    if (err != QCN_OK)
        unlink(tmp);
    return err;
}

static void sync_dir(const char *path)
{
    char dir[QCN_KEYSTORE_PATH_MAX];
    int fd;
    if (dir_of(dir, sizeof dir, path) != QCN_OK)
        return;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int qcn_wallet_file_create(const char *path, const uint8_t *p, size_t len, unsigned mode)
{
    char tmp[QCN_KEYSTORE_PATH_MAX];
    int err = write_temp(tmp, sizeof tmp, path, p, len, mode);
    if (err != QCN_OK)
        return err;
    /* link() never replaces: an existing key file is never overwritten. */
    if (link(tmp, path) != 0)
        err = errno == EEXIST ? QCN_ERR_EXISTS : QCN_ERR_IO;
    unlink(tmp);
    if (err == QCN_OK)
        sync_dir(path);
    return err;
}

int qcn_wallet_file_replace(const char *path, const uint8_t *p, size_t len, unsigned mode)
{
    char tmp[QCN_KEYSTORE_PATH_MAX];
    int err = write_temp(tmp, sizeof tmp, path, p, len, mode);
    if (err != QCN_OK)
        return err;
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return QCN_ERR_IO;
    }
    sync_dir(path);
    return QCN_OK;
}

int qcn_keystore_save(const char *dir, const char *name, const struct qcn_wallet_key *k,
                      const char *password, size_t password_len, const struct qcn_kdf_params *kdf)
{
    char path[QCN_KEYSTORE_PATH_MAX];
    struct qcn_buf b;
    int err;

    if ((err = qcn_keystore_path(path, sizeof path, dir, name)) != QCN_OK)
        return err;
    if ((err = qcn_keystore_dir_create(dir)) != QCN_OK)
        return err;
    if (access(path, F_OK) == 0)
        return QCN_ERR_EXISTS; /* before spending half a second on Argon2id */
    qcn_buf_init(&b, QCN_KEYSTORE_MAX_FILE);
    err = qcn_keystore_seal(&b, k, password, password_len, kdf);
    if (err == QCN_OK)
        err = qcn_wallet_file_create(path, b.p, b.len, 0600);
    qcn_buf_clear(&b);
    return err;
}

int qcn_keystore_read(struct qcn_buf *out, const char *dir, const char *name)
{
    char path[QCN_KEYSTORE_PATH_MAX];
    int err;
    if ((err = qcn_keystore_path(path, sizeof path, dir, name)) != QCN_OK)
        return err;
    return qcn_wallet_file_read(out, path, QCN_KEYSTORE_MAX_FILE);
}

int qcn_keystore_load(struct qcn_wallet_key *k, const char *dir, const char *name,
                      const char *password, size_t password_len)
{
    struct qcn_keystore_file f;
    struct qcn_buf b;
    int err;

    qcn_buf_init(&b, QCN_KEYSTORE_MAX_FILE);
    err = qcn_keystore_read(&b, dir, name);
    if (err == QCN_ERR_TOO_LARGE)
        err = QCN_ERR_KEYSTORE_FORMAT;
    if (err == QCN_OK)
        err = qcn_keystore_parse(&f, b.p, b.len);
    if (err == QCN_OK)
        err = qcn_keystore_open(k, &f, password, password_len);
    qcn_buf_clear(&b);
    return err;
}
