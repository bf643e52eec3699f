/* beacon.c - hash-chain commit-reveal beacon (beacon.h; docs/consensus.md §4). */
#include "consensus/beacon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "crypto/keccak.h"
#include "crypto/rng.h"
#include "util/mem.h"

#define MIX_DOMAIN "QCN-BEACON"
#define MIX_DOMAIN_LEN 10
#define SEED_DOMAIN "QCN-BEACON-SEED"
#define SEED_DOMAIN_LEN 15
#define V QCN_BEACON_VALUE_BYTES

static void link_next(uint8_t c[V])
{
    uint8_t t[V];
    qcn_keccak256(t, c, V);
    memcpy(c, t, V);
    qcn_wipe(t, sizeof t);
}

int qcn_beacon_chain_init(struct qcn_beacon_chain *ch, const uint8_t seed[V], uint64_t length)
{
    uint8_t c[V];
    uint64_t i;
    memset(ch, 0, sizeof *ch);
    if (length == 0 || length > QCN_BEACON_MAX_LENGTH)
        return QCN_ERR_INVALID_ARG;
    ch->ncheck = (size_t)(length / QCN_BEACON_CHECKPOINT_EVERY + 1);
    ch->check = qcn_secure_alloc(ch->ncheck * V);
    if (ch->check == NULL) {
        ch->ncheck = 0;
        return QCN_ERR_NOMEM;
    }
    ch->length = length;
    memcpy(c, seed, V);
    for (i = 0; i <= length; i++) {
        if (i % QCN_BEACON_CHECKPOINT_EVERY == 0)
            memcpy(ch->check + (size_t)(i / QCN_BEACON_CHECKPOINT_EVERY) * V, c, V);
        if (i < length)
            link_next(c);
    }
    memcpy(ch->tip, c, V);
    qcn_wipe(c, sizeof c);
    return QCN_OK;
}

void qcn_beacon_chain_clear(struct qcn_beacon_chain *ch)
{
    if (ch->check) {
        qcn_wipe(ch->check, ch->ncheck * V);
        qcn_secure_free(ch->check);
    }
    memset(ch, 0, sizeof *ch);
}

int qcn_beacon_chain_reveal(const struct qcn_beacon_chain *ch, uint64_t j, uint8_t out[V])
{
    uint64_t idx, i;
    memset(out, 0, V);
    if (ch->check == NULL || j == 0 || j > ch->length)
        return QCN_ERR_INVALID_ARG;
    idx = ch->length - j;
    memcpy(out, ch->check + (size_t)(idx / QCN_BEACON_CHECKPOINT_EVERY) * V, V);
    for (i = idx - idx % QCN_BEACON_CHECKPOINT_EVERY; i < idx; i++)
        link_next(out);
    return QCN_OK;
}

int qcn_beacon_check_reveal(const uint8_t last[V], const uint8_t reveal[V])
{
    uint8_t h[V];
    qcn_keccak256(h, reveal, V);
    return memcmp(h, last, V) == 0 ? QCN_OK : QCN_ERR_CONSENSUS_BEACON;
}

void qcn_beacon_next(uint8_t mix[V], const uint8_t prev[V], const uint8_t reveal[V])
{
    uint8_t in[MIX_DOMAIN_LEN + 2 * V];
    memcpy(in, MIX_DOMAIN, MIX_DOMAIN_LEN);
    memcpy(in + MIX_DOMAIN_LEN, prev, V);
    memcpy(in + MIX_DOMAIN_LEN + V, reveal, V);
    qcn_keccak256(mix, in, sizeof in);
}

static int read_full(const char *path, uint8_t *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), err = QCN_OK;
    size_t got = 0;
    if (fd < 0)
        return QCN_ERR_IO;
    while (got < n) {
        ssize_t k = read(fd, out + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            err = QCN_ERR_IO;
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    return err;
}

int qcn_beacon_seed(uint8_t seed[V], const char *path)
{
    uint8_t in[SEED_DOMAIN_LEN + 2 * QCN_BEACON_ENTROPY_BYTES];
    size_t len = SEED_DOMAIN_LEN;
    int err = QCN_OK;

    memset(seed, 0, V);
    memcpy(in, SEED_DOMAIN, SEED_DOMAIN_LEN);
    if (path != NULL && path[0] != '\0') {
        if ((err = read_full(path, in + len, QCN_BEACON_ENTROPY_BYTES)) != QCN_OK)
            goto out;
        len += QCN_BEACON_ENTROPY_BYTES;
    }
    qcn_rng_bytes(in + len, QCN_BEACON_ENTROPY_BYTES);
    len += QCN_BEACON_ENTROPY_BYTES;
    qcn_sha3_256(seed, in, len);
out:
    qcn_wipe(in, sizeof in);
    return err;
}
