/* keystore.h - encrypted key files (docs/keystore.md is the byte-by-byte
 * format) and the keys they hold.
 *
 * A key is its 32-byte ML-DSA seed (FIPS 204 KeyGen_internal's xi). On disk
 * the seed is encrypted with XChaCha20-Poly1305 (libsodium's IETF variant)
 * under a key derived from the password by Argon2id v1.3 (crypto_pwhash),
 * with the whole header (format, KDF parameters, salt, nonce, account
 * address, public key) as associated data, so no header byte can be changed
 * without the decryption failing. The KDF parameters are in the header, so
 * files written with other parameters stay readable.
 *
 * Keystore files are written once and never modified: a new file is written
 * beside (mode 0600, fsync), then linked into place without replacing
 * anything, so a crash or a wrong password never damages an existing file.
 *
 * Secrets: struct qcn_wallet_key (seed and expanded secret key) lives in
 * qcn_secure_alloc memory (guard pages, mlock) and is wiped on free; the
 * derived key and every stack copy are wiped before returning. Not
 * thread-safe per object; distinct objects may be used from distinct threads. */
#ifndef QCN_WALLET_KEYSTORE_H
#define QCN_WALLET_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/tx.h"
#include "crypto/mldsa.h"
#include "util/bytes.h"
#include "util/err.h"

#define QCN_KEYSTORE_MAGIC "QCNK"
#define QCN_KEYSTORE_MAGIC_BYTES 4
#define QCN_KEYSTORE_VERSION 1
#define QCN_KEYSTORE_KDF_ARGON2ID13 1
#define QCN_KEYSTORE_AEAD_XCHACHA20POLY1305 1
#define QCN_KEYSTORE_SALT_BYTES 16   /* crypto_pwhash_SALTBYTES */
#define QCN_KEYSTORE_NONCE_BYTES 24  /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
#define QCN_KEYSTORE_TAG_BYTES 16    /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define QCN_KEYSTORE_FIXED_HEADER 78 /* everything before the public key */
#define QCN_KEYSTORE_CT_BYTES (QCN_MLDSA_SEED_BYTES + QCN_KEYSTORE_TAG_BYTES)
#define QCN_KEYSTORE_MAX_FILE                                                                      \
    (QCN_KEYSTORE_FIXED_HEADER + QCN_MLDSA_MAX_PK_BYTES + QCN_KEYSTORE_CT_BYTES)

/* Argon2id defaults: about 0.5 s on the development machine (3 passes over
 * 128 MiB measured 0.46 s; docs/keystore.md). Lower values are accepted for
 * tests (--kdf-ops/--kdf-mem-kib or QCN_KEYSTORE_KDF) but never chosen by
 * default. The caps bound what a hostile file can make us spend. */
#define QCN_KEYSTORE_DEFAULT_OPS 3u
#define QCN_KEYSTORE_DEFAULT_MEM_KIB (128u * 1024u)
#define QCN_KEYSTORE_MIN_OPS 1u /* crypto_pwhash_OPSLIMIT_MIN */
#define QCN_KEYSTORE_MAX_OPS 64u
#define QCN_KEYSTORE_MIN_MEM_KIB 8u                   /* crypto_pwhash_MEMLIMIT_MIN is 8192 bytes */
#define QCN_KEYSTORE_MAX_MEM_KIB (4u * 1024u * 1024u) /* 4 GiB */

#define QCN_KEYSTORE_NAME_MAX 64 /* [A-Za-z0-9._-], not starting with '.' */
#define QCN_KEYSTORE_PATH_MAX 4096
#define QCN_KEYSTORE_EXT ".key"

struct qcn_kdf_params {
    uint32_t ops;     /* Argon2id passes (crypto_pwhash opslimit) */
    uint32_t mem_kib; /* memory in KiB */
};

/* The parsed, public part of a keystore file. Views point into the bytes
 * it was parsed from. */
struct qcn_keystore_file {
    uint8_t scheme;
    struct qcn_kdf_params kdf;
    const uint8_t *salt;  /* QCN_KEYSTORE_SALT_BYTES */
    const uint8_t *nonce; /* QCN_KEYSTORE_NONCE_BYTES */
    uint8_t address[QCN_ADDRESS_BYTES];
    struct qcn_view pk;
    struct qcn_view header; /* the associated data: bytes [0, 78 + pk.len) */
    struct qcn_view ct;     /* sealed seed: QCN_KEYSTORE_CT_BYTES */
};

/* A key ready to sign. account is the address it signs for: the key's own
 * address, or the account it was rotated onto (keys rotate). */
struct qcn_wallet_key {
    uint8_t scheme;
    uint8_t seed[QCN_MLDSA_SEED_BYTES];
    uint8_t pk[QCN_MLDSA_MAX_PK_BYTES];
    size_t pk_len;
    uint8_t sk[QCN_MLDSA_MAX_SK_BYTES];
    uint8_t key_address[QCN_ADDRESS_BYTES]; /* address(scheme, pk), protocol §3 */
    uint8_t account[QCN_ADDRESS_BYTES];
};

/* The default KDF parameters, or those of QCN_KEYSTORE_KDF="OPS:MEM_KIB" when
 * set (tests). QCN_ERR_INVALID_ARG for a malformed or out-of-range value. */
QCN_MUST_CHECK int qcn_kdf_params_default(struct qcn_kdf_params *out);
/* QCN_OK if p is within the caps above. */
QCN_MUST_CHECK int qcn_kdf_params_check(const struct qcn_kdf_params *p);

/* "ml-dsa-44|65|87" (also "44", "65", "87") -> scheme id; 0 if unknown. */
uint8_t qcn_scheme_from_name(const char *name);
/* "ml-dsa-65" etc.; "multisig"; "unknown". */
const char *qcn_scheme_to_name(uint8_t scheme);

/* Allocates a key in guarded memory (NULL on failure) / wipes and frees it. */
struct qcn_wallet_key *qcn_wallet_key_new(void);
void qcn_wallet_key_free(struct qcn_wallet_key *k);
/* Expands seed into the key pair. account NULL = the key's own address. */
QCN_MUST_CHECK int qcn_wallet_key_from_seed(struct qcn_wallet_key *k, uint8_t scheme,
                                            const uint8_t seed[QCN_MLDSA_SEED_BYTES],
                                            const uint8_t *account);
/* A fresh key from the system RNG. */
QCN_MUST_CHECK int qcn_wallet_key_generate(struct qcn_wallet_key *k, uint8_t scheme);
/* Signs a transaction sighash (hedged ML-DSA, ctx "QCN-TX-v1"). sig holds
 * qcn_scheme_sig_bytes(k->scheme). */
QCN_MUST_CHECK int qcn_wallet_key_sign(const struct qcn_wallet_key *k, uint8_t *sig,
                                       const uint8_t sighash[QCN_HASH_BYTES]);

/* Parses a keystore file strictly: magic, version, known KDF/AEAD/scheme,
 * parameters within the caps, the public key of the scheme's exact size,
 * exact total length. QCN_ERR_KEYSTORE_FORMAT otherwise. Does no crypto. */
QCN_MUST_CHECK int qcn_keystore_parse(struct qcn_keystore_file *out, const uint8_t *p, size_t len);

/* Encrypts k's seed under password into a complete file image, appended to
 * out (cap it at QCN_KEYSTORE_MAX_FILE or more). */
QCN_MUST_CHECK int qcn_keystore_seal(struct qcn_buf *out, const struct qcn_wallet_key *k,
                                     const char *password, size_t password_len,
                                     const struct qcn_kdf_params *kdf);

/* Decrypts a parsed file into k (seed, key pair, account). QCN_ERR_PASSWORD
 * when the password is wrong or any byte of the file was altered (the AEAD
 * cannot tell the two apart), QCN_ERR_KEYSTORE_FORMAT if the decrypted seed
 * does not give the stored public key. k is wiped on failure. */
QCN_MUST_CHECK int qcn_keystore_open(struct qcn_wallet_key *k, const struct qcn_keystore_file *f,
                                     const char *password, size_t password_len);

/* ---- files in a keystore directory ---- */

/* 1 if name is usable as a key name. */
int qcn_keystore_name_valid(const char *name);
/* dir/name.key into out (cap bytes). QCN_ERR_INVALID_ARG for a bad name,
 * QCN_ERR_TOO_LARGE if it does not fit. */
QCN_MUST_CHECK int qcn_keystore_path(char *out, size_t cap, const char *dir, const char *name);
/* Creates dir (mode 0700) and missing parents. */
QCN_MUST_CHECK int qcn_keystore_dir_create(const char *dir);
/* Reads a whole file of at most max bytes into out (reset first).
 * QCN_ERR_NOT_FOUND, QCN_ERR_TOO_LARGE, QCN_ERR_IO. */
QCN_MUST_CHECK int qcn_wallet_file_read(struct qcn_buf *out, const char *path, size_t max);
/* Writes p to path atomically with the given mode, never replacing an
 * existing file (QCN_ERR_EXISTS): temp file, fsync, link, fsync of the dir. */
QCN_MUST_CHECK int qcn_wallet_file_create(const char *path, const uint8_t *p, size_t len,
                                          unsigned mode);
/* Same, but replaces an existing file atomically (rename). */
QCN_MUST_CHECK int qcn_wallet_file_replace(const char *path, const uint8_t *p, size_t len,
                                           unsigned mode);

/* Seals k and stores it as dir/name.key (QCN_ERR_EXISTS if present). */
QCN_MUST_CHECK int qcn_keystore_save(const char *dir, const char *name,
                                     const struct qcn_wallet_key *k, const char *password,
                                     size_t password_len, const struct qcn_kdf_params *kdf);
/* Loads dir/name.key into out (the raw file; parse with qcn_keystore_parse). */
QCN_MUST_CHECK int qcn_keystore_read(struct qcn_buf *out, const char *dir, const char *name);
/* Reads, parses and decrypts dir/name.key into k. */
QCN_MUST_CHECK int qcn_keystore_load(struct qcn_wallet_key *k, const char *dir, const char *name,
                                     const char *password, size_t password_len);

#endif
