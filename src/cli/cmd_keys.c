/* qcn keys - the encrypted keystore (docs/wallet.md, docs/keystore.md):
 * new, list, show, import, export, delete, rotate. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/hex.h"
#include "util/mem.h"
#include "wallet/address.h"
#include "wallet/amount.h"
#include "wallet/backup.h"
#include "wallet/cli_util.h"
#include "wallet/keystore.h"
#include "wallet/password.h"
#include "wallet/txfile.h"

#define MAX_LIST 4096 /* keys listed from one directory */

static const char usage[] =
    "usage: qcn keys <command> [options]\n"
    "  new NAME [--scheme ml-dsa-44|65|87]          create a key (default ml-dsa-65)\n"
    "  list                                         keys in the keystore\n"
    "  show NAME [--public-key]                     address, scheme, file, KDF parameters\n"
    "  import NAME --backup [--backup-file FILE]    restore from a paper backup (stdin)\n"
    "  import NAME --seed-file FILE [--scheme S]    from a hex seed file\n"
    "  import NAME --dev-key DATADIR/dev.key        the dev chain's development key\n"
    "  export NAME --backup | --hex                 print the paper backup (or raw seed)\n"
    "  delete NAME [--force]                        delete (asks the password unless --force)\n"
    "  rotate NAME --to-alg ml-dsa-87               move the account to a new key on chain\n"
    "options: --keystore DIR | --datadir DIR, --password-file FILE (or QCN_PASSWORD),\n"
    "  --kdf-ops N --kdf-mem-kib N (new keys), --account ADDR (import of a rotated key),\n"
    "  --rpc URL, --timeout S (rotate), --json\n";

struct kctx {
    struct qcn_wargs a;
    char dir[QCN_KEYSTORE_PATH_MAX];
    int json;
};

static int key_path(struct kctx *x, char *out, size_t cap, const char *name)
{
    if (qcn_keystore_path(out, cap, x->dir, name) != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "'%s' is not a usable key name (letters, digits, '.', '_', '-'; "
                              "at most %d)",
                              name, QCN_KEYSTORE_NAME_MAX);
    return 0;
}

/* Prints a stored key: name, account address, scheme. */
static int report_key(struct kctx *x, const char *name, const struct qcn_wallet_key *k,
                      const char *verb)
{
    char at[QCN_ADDRESS_TEXT_BYTES], path[QCN_KEYSTORE_PATH_MAX];
    if (qcn_keystore_path(path, sizeof path, x->dir, name) != QCN_OK)
        path[0] = '\0';
    qcn_address_to_text(at, k->account);
    if (x->json)
        return qcn_wcli_print_json(json_pack("{s:s,s:s,s:s,s:s}", "name", name, "address", at,
                                             "scheme", qcn_scheme_to_name(k->scheme), "file",
                                             path));
    printf("%s key %s\naddress %s\nscheme  %s\nfile    %s\n", verb, name, at,
           qcn_scheme_to_name(k->scheme), path);
    return 0;
}

static int save_new(struct kctx *x, const char *name, const struct qcn_wallet_key *k)
{
    struct qcn_kdf_params kdf;
    char *pw = NULL, prompt[128], path[QCN_KEYSTORE_PATH_MAX];
    size_t len;
    int rc, err;

    if ((rc = key_path(x, path, sizeof path, name)) != 0 || (rc = qcn_wcli_kdf(&x->a, &kdf)) != 0)
        return rc;
    if (access(path, F_OK) == 0)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "a key named %s already exists (%s)",
                              name, path);
    snprintf(prompt, sizeof prompt, "New password for key %s: ", name);
    if ((rc = qcn_wcli_new_password(&x->a, &pw, &len, prompt)) != 0)
        return rc;
    err = qcn_keystore_save(x->dir, name, k, pw, len, &kdf);
    qcn_secure_free(pw);
    if (err != QCN_OK)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot store key %s in %s: %s", name,
                              x->dir, qcn_err_str(err));
    return 0;
}

static int cmd_new(struct kctx *x)
{
    const char *name = x->a.pos[1], *sn = qcn_wargs_get(&x->a, "scheme");
    uint8_t scheme = sn != NULL ? qcn_scheme_from_name(sn) : QCN_SCHEME_DEFAULT;
    struct qcn_wallet_key *k;
    int rc;

    if (name == NULL || x->a.npos != 2)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn keys new NAME");
    if (scheme == 0)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "--scheme: expected ml-dsa-44, ml-dsa-65 or ml-dsa-87");
    if ((rc = qcn_wargs_check(&x->a)) != 0)
        return rc;
    k = qcn_wallet_key_new();
    if (k == NULL)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of guarded memory");
    rc = qcn_wallet_key_generate(k, scheme) == QCN_OK
             ? save_new(x, name, k)
             : qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "key generation failed");
    if (rc == 0)
        rc = report_key(x, name, k, "created");
    qcn_wallet_key_free(k);
    return rc;
}

static int cmp_str(const void *p, const void *q)
{
    return strcmp(*(char *const *)p, *(char *const *)q);
}

static int cmd_list(struct kctx *x)
{
    DIR *d;
    struct dirent *e;
    char *names[MAX_LIST];
    size_t n = 0, i, ext = strlen(QCN_KEYSTORE_EXT);
    json_t *arr = x->json ? json_array() : NULL;
    int rc;

    if ((rc = qcn_wargs_check(&x->a)) != 0)
        return rc;
    d = opendir(x->dir);
    if (d == NULL && errno != ENOENT)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot read %s", x->dir);
    while (d != NULL && (e = readdir(d)) != NULL && n < MAX_LIST) {
        size_t l = strlen(e->d_name);
        if (l <= ext || strcmp(e->d_name + l - ext, QCN_KEYSTORE_EXT) != 0)
            continue;
        names[n] = strndup(e->d_name, l - ext);
        if (names[n] != NULL && qcn_keystore_name_valid(names[n]))
            n++;
        else
            free(names[n]);
    }
    if (d != NULL)
        closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    if (!x->json && n == 0)
        printf("no keys in %s (qcn keys new NAME creates one)\n", x->dir);
    for (i = 0; i < n; i++) {
        uint8_t scheme = 0, acct[QCN_ADDRESS_BYTES], pk[QCN_MLDSA_MAX_PK_BYTES];
        size_t pklen;
        char at[QCN_ADDRESS_TEXT_BYTES];
        struct qcn_wargs quiet = x->a;
        if (qcn_wcli_key_public(&quiet, x->dir, names[i], &scheme, pk, &pklen, acct) != 0) {
            free(names[i]);
            continue;
        }
        qcn_address_to_text(at, acct);
        if (x->json)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", names[i], "address", at,
                                                 "scheme", qcn_scheme_to_name(scheme)));
        else
            printf("%-20s %s  %s\n", names[i], at, qcn_scheme_to_name(scheme));
        free(names[i]);
    }
    if (x->json)
        return qcn_wcli_print_json(json_pack("{s:s,s:o}", "keystore", x->dir, "keys", arr));
    return 0;
}

static int cmd_show(struct kctx *x)
{
    const char *name = x->a.pos[1];
    char path[QCN_KEYSTORE_PATH_MAX], at[QCN_ADDRESS_TEXT_BYTES], kt[QCN_ADDRESS_TEXT_BYTES];
    struct qcn_keystore_file f;
    struct qcn_buf b;
    uint8_t kaddr[QCN_ADDRESS_BYTES];
    int rc, err, with_pk = qcn_wargs_flag(&x->a, "public-key");

    if (name == NULL || x->a.npos != 2)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn keys show NAME");
    if ((rc = qcn_wargs_check(&x->a)) != 0 || (rc = key_path(x, path, sizeof path, name)) != 0)
        return rc;
    qcn_buf_init(&b, QCN_KEYSTORE_MAX_FILE);
    err = qcn_keystore_read(&b, x->dir, name);
    if (err == QCN_OK)
        err = qcn_keystore_parse(&f, b.p, b.len);
    if (err != QCN_OK) {
        qcn_buf_clear(&b);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "key %s: %s", name,
                              err == QCN_ERR_NOT_FOUND ? "no such key" : qcn_err_str(err));
    }
    qcn_address_to_text(at, f.address);
    qcn_address_from_key(kaddr, f.scheme, f.pk.p, f.pk.len);
    qcn_address_to_text(kt, kaddr);
    if (x->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:i,s:i},s:i}", "name", name, "address",
                              at, "keyAddress", kt, "scheme", qcn_scheme_to_name(f.scheme), "file",
                              path, "kdf", "algorithm", "argon2id13", "ops", (int)f.kdf.ops,
                              "memKiB", (int)f.kdf.mem_kib, "version", QCN_KEYSTORE_VERSION);
        if (with_pk && o != NULL)
            json_object_set_new(o, "publicKey", qcn_json_hex(f.pk.p, f.pk.len));
        qcn_buf_clear(&b);
        return qcn_wcli_print_json(o);
    }
    printf("name     %s\naddress  %s\n", name, at);
    if (memcmp(kaddr, f.address, QCN_ADDRESS_BYTES) != 0)
        printf("key      %s (rotated onto the address above)\n", kt);
    printf("scheme   %s\nfile     %s (format v%d)\nkdf      argon2id, %u passes, %u KiB\n",
           qcn_scheme_to_name(f.scheme), path, QCN_KEYSTORE_VERSION, f.kdf.ops, f.kdf.mem_kib);
    if (with_pk) {
        char *hex = malloc(2 * f.pk.len + 1);
        if (hex != NULL)
            printf("public   0x%s\n", qcn_hex_encode(hex, f.pk.p, f.pk.len));
        free(hex);
    }
    qcn_buf_clear(&b);
    return 0;
}

/* Reads text input (a backup, a seed) from a file or stdin, capped. */
static int read_text(struct kctx *x, char *out, size_t cap, const char *file)
{
    struct qcn_buf b;
    int err;
    size_t n;
    qcn_buf_init(&b, cap - 1);
    if (file != NULL) {
        err = qcn_wallet_file_read(&b, file, cap - 1);
    } else {
        char chunk[256];
        err = QCN_OK;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0 && err == QCN_OK)
            err = qcn_buf_append(&b, chunk, n);
        qcn_wipe(chunk, sizeof chunk);
    }
    if (err != QCN_OK) {
        qcn_buf_clear(&b);
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot read %s: %s",
                              file != NULL ? file : "standard input", qcn_err_str(err));
    }
    memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    qcn_buf_clear(&b);
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
        i++;
    memmove(s, s + i, n - i + 1);
}

static int cmd_import(struct kctx *x)
{
    const char *name = x->a.pos[1], *seedfile = qcn_wargs_get(&x->a, "seed-file");
    const char *devkey = qcn_wargs_get(&x->a, "dev-key"), *acct = qcn_wargs_get(&x->a, "account");
    const char *bfile = qcn_wargs_get(&x->a, "backup-file"), *sn = qcn_wargs_get(&x->a, "scheme");
    int backup = qcn_wargs_flag(&x->a, "backup"), rc = 0, err;
    uint8_t account[QCN_ADDRESS_BYTES], scheme = QCN_SCHEME_DEFAULT;
    struct qcn_wallet_key *k = qcn_wallet_key_new();
    char *text = qcn_secure_alloc(QCN_BACKUP_MAX_INPUT + 1);
    size_t n;

    if (k == NULL || text == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of guarded memory");
        goto out;
    }
    if (name == NULL || x->a.npos != 2 || (backup + (seedfile != NULL) + (devkey != NULL)) != 1) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "usage: qcn keys import NAME --backup [--backup-file FILE] | "
                            "--seed-file FILE [--scheme S] | --dev-key FILE");
        goto out;
    }
    if (sn != NULL && (scheme = qcn_scheme_from_name(sn)) == 0) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "--scheme: expected ml-dsa-44, ml-dsa-65 or ml-dsa-87");
        goto out;
    }
    if (acct != NULL && (rc = qcn_wcli_resolve(&x->a, x->dir, acct, account)) != 0)
        goto out;
    if (backup) {
        if (isatty(STDIN_FILENO) && bfile == NULL)
            fprintf(stderr, "Type the backup text, then Ctrl-D:\n");
        if ((rc = read_text(x, text, QCN_BACKUP_MAX_INPUT + 1, bfile)) != 0)
            goto out;
        err = qcn_backup_decode(&scheme, k->seed, text);
        if (err != QCN_OK) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s; nothing was imported",
                                err == QCN_ERR_BACKUP_CHECKSUM
                                    ? "the backup text has a typo (its checksum does not match)"
                                    : "this backup is of an unknown version or scheme");
            goto out;
        }
    } else if (seedfile != NULL) {
        if ((rc = read_text(x, text, QCN_BACKUP_MAX_INPUT + 1, seedfile)) != 0)
            goto out;
        trim(text);
        if (qcn_hex_decode(k->seed, QCN_MLDSA_SEED_BYTES, &n, text, strlen(text)) != QCN_OK ||
            n != QCN_MLDSA_SEED_BYTES) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                                "%s: expected a 32-byte seed as 64 hex digits", seedfile);
            goto out;
        }
    } else {
        json_error_t jerr;
        json_t *j = json_load_file(devkey, JSON_REJECT_DUPLICATES, &jerr);
        const char *s = j != NULL ? json_string_value(json_object_get(j, "seed")) : NULL;
        err = s != NULL ? qcn_hex_decode_exact(k->seed, QCN_MLDSA_SEED_BYTES, s) : QCN_ERR_BAD_JSON;
        if (j != NULL && s != NULL)
            qcn_wipe((void *)s, strlen(s));
        json_decref(j);
        if (err != QCN_OK) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s is not a dev key file", devkey);
            goto out;
        }
        scheme = QCN_SCHEME_MLDSA65; /* the dev key is ML-DSA-65 (docs/node.md) */
    }
    if ((rc = qcn_wargs_check(&x->a)) != 0)
        goto out;
    if (qcn_wallet_key_from_seed(k, scheme, k->seed, acct != NULL ? account : NULL) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "key expansion failed");
        goto out;
    }
    if ((rc = save_new(x, name, k)) == 0)
        rc = report_key(x, name, k, "imported");
out:
    qcn_secure_free(text);
    qcn_wallet_key_free(k);
    return rc;
}

static int cmd_export(struct kctx *x)
{
    const char *name = x->a.pos[1];
    int backup = qcn_wargs_flag(&x->a, "backup"), hex = qcn_wargs_flag(&x->a, "hex"), rc;
    struct qcn_wallet_key *k;
    char *out, at[QCN_ADDRESS_TEXT_BYTES];

    if (name == NULL || x->a.npos != 2 || backup + hex != 1)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "usage: qcn keys export NAME --backup (or --hex for the raw seed)");
    if ((rc = qcn_wargs_check(&x->a)) != 0)
        return rc;
    k = qcn_wallet_key_new();
    out = qcn_secure_alloc(QCN_BACKUP_TEXT_BYTES + 2 * QCN_MLDSA_SEED_BYTES + 3);
    if (k == NULL || out == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of guarded memory");
        goto out;
    }
    if ((rc = qcn_wcli_open_key(&x->a, x->dir, name, k)) != 0)
        goto out;
    if (backup) {
        if (qcn_backup_encode(out, k->scheme, k->seed) != QCN_OK) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot encode the backup");
            goto out;
        }
    } else {
        out[0] = '0';
        out[1] = 'x';
        qcn_hex_encode(out + 2, k->seed, QCN_MLDSA_SEED_BYTES);
    }
    qcn_address_to_text(at, k->account);
    if (x->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "name", name, "address", at, "scheme",
                              qcn_scheme_to_name(k->scheme), backup ? "backup" : "seed", out);
        if (o != NULL && memcmp(k->account, k->key_address, QCN_ADDRESS_BYTES) != 0)
            json_object_set_new(o, "account", json_string(at));
        qcn_wcli_print_json(o);
    } else {
        printf("%s\n", out);
        fprintf(stderr, "%s of key %s (%s, address %s). Anyone who has it controls the account.\n",
                backup ? "paper backup" : "raw seed", name, qcn_scheme_to_name(k->scheme), at);
        if (memcmp(k->account, k->key_address, QCN_ADDRESS_BYTES) != 0)
            fprintf(stderr, "this key was rotated onto %s: restore it with --account %s\n", at, at);
    }
out:
    qcn_secure_free(out);
    qcn_wallet_key_free(k);
    return rc;
}

static int cmd_delete(struct kctx *x)
{
    const char *name = x->a.pos[1];
    char path[QCN_KEYSTORE_PATH_MAX];
    struct qcn_wallet_key *k;
    int rc, force = qcn_wargs_flag(&x->a, "force");

    if (name == NULL || x->a.npos != 2)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "usage: qcn keys delete NAME [--force]");
    if ((rc = qcn_wargs_check(&x->a)) != 0 || (rc = key_path(x, path, sizeof path, name)) != 0)
        return rc;
    if (access(path, F_OK) != 0)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "no key named %s in %s", name, x->dir);
    if (!force) {
        /* proving the password first keeps a typo in NAME from deleting another key */
        rc = qcn_wcli_unlock(&x->a, x->dir, name, &k);
        qcn_wallet_key_free(k);
        if (rc != 0)
            return rc;
    }
    if (unlink(path) != 0)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot delete %s: %s", path,
                              strerror(errno));
    if (x->json)
        return qcn_wcli_print_json(json_pack("{s:s,s:s}", "deleted", name, "file", path));
    printf("deleted key %s (%s)\n", name, path);
    return 0;
}

/* The first free name NAME.old, NAME.old2, ... for the replaced key. */
static int old_name(struct kctx *x, char *out, size_t cap, const char *name)
{
    char path[QCN_KEYSTORE_PATH_MAX];
    int i;
    for (i = 1; i < 100; i++) {
        if (i == 1)
            snprintf(out, cap, "%s.old", name);
        else
            snprintf(out, cap, "%s.old%d", name, i);
        if (qcn_keystore_path(path, sizeof path, x->dir, out) != QCN_OK)
            return -1;
        if (access(path, F_OK) != 0)
            return 0;
    }
    return -1;
}

static int cmd_rotate(struct kctx *x)
{
    const char *name = x->a.pos[1], *alg = qcn_wargs_get(&x->a, "to-alg");
    char next[QCN_KEYSTORE_NAME_MAX + 8], old[QCN_KEYSTORE_NAME_MAX + 8];
    char pnext[QCN_KEYSTORE_PATH_MAX], pcur[QCN_KEYSTORE_PATH_MAX], pold[QCN_KEYSTORE_PATH_MAX];
    char at[QCN_ADDRESS_TEXT_BYTES], hx[QCN_WCLI_HASH_TEXT_BYTES], *pw = NULL;
    uint8_t scheme = alg != NULL ? qcn_scheme_from_name(alg) : 0, hash[QCN_HASH_BYTES];
    struct qcn_wallet_key *k = NULL, *nk = NULL;
    struct qcn_rpc_client *c = NULL;
    struct qcn_txfile *t = NULL;
    struct qcn_kdf_params kdf;
    struct qcn_buf data;
    json_t *receipt = NULL;
    size_t pwlen = 0;
    int rc, err;

    qcn_buf_init(&data, QCN_TX_MAX_DATA);
    if (name == NULL || x->a.npos != 2 || scheme == 0)
        return qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                              "usage: qcn keys rotate NAME --to-alg ml-dsa-44|65|87");
    snprintf(next, sizeof next, "%s.next", name);
    if ((rc = key_path(x, pcur, sizeof pcur, name)) != 0 ||
        (rc = key_path(x, pnext, sizeof pnext, next)) != 0 ||
        (rc = qcn_wcli_kdf(&x->a, &kdf)) != 0 || (rc = qcn_wcli_rpc(&x->a, &c)) != 0)
        goto out;
    k = qcn_wallet_key_new();
    nk = qcn_wallet_key_new();
    t = qcn_txfile_new();
    if (k == NULL || nk == NULL || t == NULL) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of memory");
        goto out;
    }
    /* the password of the current key also protects the new one */
    {
        char prompt[128];
        uint8_t s0, a0[QCN_ADDRESS_BYTES], *pk0 = malloc(QCN_MLDSA_MAX_PK_BYTES);
        size_t l0;
        rc = pk0 != NULL ? qcn_wcli_key_public(&x->a, x->dir, name, &s0, pk0, &l0, a0)
                         : qcn_wcli_error(&x->a, 2, "out of memory");
        free(pk0);
        if (rc != 0)
            goto out;
        snprintf(prompt, sizeof prompt, "Password for key %s: ", name);
        pw = qcn_secure_alloc(QCN_PASSWORD_MAX + 1);
        if (pw == NULL) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "out of guarded memory");
            goto out;
        }
        {
            char msg[256];
            if (qcn_password_read(pw, QCN_PASSWORD_MAX + 1, &pwlen,
                                  qcn_wargs_get(&x->a, "password-file"), prompt, 0, msg,
                                  sizeof msg) != QCN_OK) {
                rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "%s", msg);
                goto out;
            }
        }
    }
    if ((rc = qcn_wargs_check(&x->a)) != 0)
        goto out;
    err = qcn_keystore_load(k, x->dir, name, pw, pwlen);
    if (err != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            err == QCN_ERR_PASSWORD ? "wrong password for key %s (the key "
                                                      "file is unchanged)"
                                                    : "key %s: cannot open it",
                            name);
        goto out;
    }
    qcn_address_to_text(at, k->account);
    /* A NAME.next left by an interrupted rotation is reused, not replaced. */
    if (access(pnext, F_OK) == 0) {
        err = qcn_keystore_load(nk, x->dir, next, pw, pwlen);
        if (err != QCN_OK || memcmp(nk->account, k->account, QCN_ADDRESS_BYTES) != 0 ||
            nk->scheme != scheme) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                                "%s exists but is not a pending %s rotation of %s; move it away",
                                pnext, qcn_scheme_to_name(scheme), name);
            goto out;
        }
        fprintf(stderr, "resuming the rotation with the pending key %s\n", next);
    } else {
        if (qcn_wallet_key_generate(nk, scheme) != QCN_OK) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "key generation failed");
            goto out;
        }
        memcpy(nk->account, k->account, QCN_ADDRESS_BYTES);
        err = qcn_keystore_save(x->dir, next, nk, pw, pwlen, &kdf);
        if (err != QCN_OK) {
            rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot store %s: %s", next,
                                qcn_err_str(err));
            goto out;
        }
    }
    /* The rotation transaction: key manager op 1, signed by the current key. */
    t->f.has_to = 1;
    memcpy(t->f.to, qcn_wallet_key_manager, QCN_ADDRESS_BYTES);
    if (qcn_keyop_rotate(&data, nk->scheme, nk->pk, nk->pk_len) != QCN_OK ||
        qcn_txfile_set_data(t, data.p, data.len) != QCN_OK) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE, "cannot encode the rotation");
        goto out;
    }
    if ((rc = qcn_wcli_sender(&x->a, c, t, k)) != 0 ||
        (rc = qcn_wcli_sign_submit(&x->a, c, t, k, hash)) != 0)
        goto out;
    qcn_wcli_hash_hex(hx, hash);
    fprintf(stderr, "rotation transaction %s sent\n", hx);
    if ((rc = qcn_wcli_wait(&x->a, c, hash, &receipt)) != 0)
        goto out;
    if (strcmp(json_string_value(json_object_get(receipt, "status")) != NULL
                   ? json_string_value(json_object_get(receipt, "status"))
                   : "",
               "0x1") != 0) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_NO,
                            "the rotation failed on chain (status 0); key %s is unchanged and "
                            "the new key stays in %s",
                            name, next);
        goto out;
    }
    /* Confirmed: NAME -> NAME.old, NAME.next -> NAME (each a rename, nothing overwritten). */
    if (old_name(x, old, sizeof old, name) != 0 ||
        qcn_keystore_path(pold, sizeof pold, x->dir, old) != QCN_OK || link(pcur, pold) != 0 ||
        unlink(pcur) != 0 || link(pnext, pcur) != 0 || unlink(pnext) != 0) {
        rc = qcn_wcli_error(&x->a, QCN_WCLI_EXIT_USAGE,
                            "rotated on chain, but renaming the key files failed (%s): the new "
                            "key is %s",
                            strerror(errno), pnext);
        goto out;
    }
    if (x->json) {
        rc = qcn_wcli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", name, "address", at,
                                           "scheme", qcn_scheme_to_name(nk->scheme), "oldKey", old,
                                           "transaction", hx));
    } else {
        printf("rotated %s (%s) to %s in transaction %s\nthe previous key is kept as %s\n", name,
               at, qcn_scheme_to_name(nk->scheme), hx, old);
    }
out:
    json_decref(receipt);
    qcn_buf_clear(&data);
    qcn_txfile_free(t);
    qcn_rpc_client_free(c);
    qcn_wallet_key_free(k);
    qcn_wallet_key_free(nk);
    qcn_secure_free(pw);
    return rc;
}

int qcn_cmd_keys(int argc, char **argv)
{
    struct kctx x;
    const char *sub;
    int rc;

    memset(&x, 0, sizeof x);
    if ((rc = qcn_wcli_begin(&x.a, "keys", usage, argc, argv, &x.json)) >= 0)
        return rc;
    sub = argv[1];
    if (qcn_wargs_flag(&x.a, "help")) {
        fputs(usage, stdout);
        return QCN_EXIT_OK;
    }
    if ((rc = qcn_wcli_keystore_dir(&x.a, x.dir, sizeof x.dir)) != 0)
        return rc;
    if (strcmp(sub, "new") == 0)
        return cmd_new(&x);
    if (strcmp(sub, "list") == 0)
        return cmd_list(&x);
    if (strcmp(sub, "show") == 0)
        return cmd_show(&x);
    if (strcmp(sub, "import") == 0)
        return cmd_import(&x);
    if (strcmp(sub, "export") == 0)
        return cmd_export(&x);
    if (strcmp(sub, "delete") == 0)
        return cmd_delete(&x);
    if (strcmp(sub, "rotate") == 0)
        return cmd_rotate(&x);
    return qcn_cli_usage_error("keys", "unknown command '%s' (see qcn keys --help)", sub);
}
