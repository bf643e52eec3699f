/* hset.h - a fixed-capacity set of 32-byte hashes with a 64-bit value each
 * (open addressing, linear probing, backward-shift deletion). Keys are
 * cryptographic hashes, so their first 8 bytes index the table directly.
 * Used for duplicate suppression (two generations, see seen_* in p2p.c) and
 * for the table of requested transactions. Not thread-safe. Internal to
 * src/p2p. */
#ifndef QCN_P2P_HSET_H
#define QCN_P2P_HSET_H

#include <stddef.h>
#include <stdint.h>

struct qcn_p2p_hset {
    uint8_t (*keys)[32];
    uint64_t *vals;
    uint8_t *used;
    size_t mask; /* slots - 1 (slots a power of two) */
    size_t count;
    size_t limit; /* max entries (half the slots) */
};

/* Room for max_entries (rounded so the table stays at most half full).
 * QCN_ERR_NOMEM. */
int qcn_p2p_hset_init(struct qcn_p2p_hset *s, size_t max_entries);
void qcn_p2p_hset_clear(struct qcn_p2p_hset *s);
void qcn_p2p_hset_reset(struct qcn_p2p_hset *s);
/* 1 and *val (may be NULL) if present. */
int qcn_p2p_hset_get(const struct qcn_p2p_hset *s, const uint8_t key[32], uint64_t *val);
/* Inserts or updates. 0, or -1 when full. */
int qcn_p2p_hset_put(struct qcn_p2p_hset *s, const uint8_t key[32], uint64_t val);
/* Removes; 1 if it was present. */
int qcn_p2p_hset_del(struct qcn_p2p_hset *s, const uint8_t key[32]);

#endif
