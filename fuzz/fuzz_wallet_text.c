/* libFuzzer target: the wallet's text parsers - paper backups
 * (wallet/backup.h), addresses (wallet/address.h), amounts
 * (wallet/amount.h) and transaction files (wallet/txfile.h). Each either
 * refuses the input or accepts it with a round trip: a decoded backup
 * re-encodes to the same characters, an accepted address prints back to the
 * same digits, an amount formats and re-parses to the same value, and a
 * transaction file re-serialises to an equal file. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/mem.h"
#include "wallet/address.h"
#include "wallet/amount.h"
#include "wallet/backup.h"
#include "wallet/txfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_backup(const char *s)
{
    uint8_t seed[32], seed2[32], scheme, scheme2;
    char out[QCN_BACKUP_TEXT_BYTES];
    if (qcn_backup_decode(&scheme, seed, s) != QCN_OK)
        return;
    if (qcn_backup_encode(out, scheme, seed) != QCN_OK ||
        qcn_backup_decode(&scheme2, seed2, out) != QCN_OK || scheme2 != scheme ||
        memcmp(seed, seed2, 32) != 0)
        abort();
}

static void check_address(const char *s)
{
    uint8_t a[QCN_ADDRESS_BYTES];
    char t[QCN_ADDRESS_TEXT_BYTES];
    if (qcn_address_from_text(a, s) != QCN_OK)
        return;
    qcn_address_to_text(t, a);
    if (strncasecmp(t, s, sizeof t) != 0)
        abort();
}

static void check_amount(const char *s)
{
    struct qcn_u256 v, w;
    char t[QCN_AMOUNT_TEXT_BYTES];
    if (qcn_amount_parse(&v, s) == QCN_OK) {
        qcn_amount_format(t, &v);
        if (qcn_amount_parse(&w, t) != QCN_OK || qcn_u256_cmp(&v, &w) != 0)
            abort();
    }
    if (qcn_amount_parse_wei(&v, s) == QCN_OK) {
        qcn_u256_format_dec(t, &v);
        if (qcn_amount_parse_wei(&w, t) != QCN_OK || qcn_u256_cmp(&v, &w) != 0)
            abort();
    }
}

static void check_txfile(const uint8_t *data, size_t size)
{
    static struct qcn_txfile *t, *u;
    json_error_t jerr;
    json_t *j, *j2 = NULL;
    char msg[512];
    if (t == NULL && ((t = qcn_txfile_new()) == NULL || (u = qcn_txfile_new()) == NULL))
        abort();
    j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return;
    if (qcn_txfile_from_json(t, j, msg, sizeof msg) == QCN_OK) {
        if (qcn_txfile_to_json(&j2, t) != QCN_OK ||
            qcn_txfile_from_json(u, j2, msg, sizeof msg) != QCN_OK || u->nsigs != t->nsigs ||
            memcmp(&u->f.value, &t->f.value, sizeof t->f.value) != 0 || u->f.nonce != t->f.nonce ||
            u->data.len != t->data.len)
            abort();
    }
    json_decref(j2);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    if (size > 1u << 20)
        return 0;
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_backup(s);
    check_address(s);
    check_amount(s);
    free(s);
    check_txfile(data, size);
    return 0;
}
