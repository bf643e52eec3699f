/* wal.h - the validator's write-ahead log of what it is about to sign.
 *
 * Rule (docs/consensus.md §7): before a proposal or vote is signed or sent,
 * its (height, round, kind, value) is appended to the log and fsync'ed.
 * qcn_wal_sign_intent is the only way to get permission to sign: it refuses
 * a second, different value for the same (height, round, kind), and any
 * height below the log's floor (heights whose records were pruned). So a
 * validator killed at any instant and restarted never signs two different
 * messages for one (height, round, kind): whatever it may have sent is in
 * the log before it could have been sent. On restart the records of the
 * current height are replayed into the state machine
 * (qcn_tm_restore_vote) so it also keeps its lock.
 *
 * File: a sequence of records
 *   record = be32(len) || body || check       check = Keccak-256(body)[0..8]
 *   body   = kind(1) || be64(height) || be32(round) || has_value(1) || value(32)
 * kind: 1 prevote, 2 precommit, 3 proposal, 0x7f floor (height only: the
 * lowest height still covered). A torn last record (short, or a bad check at
 * the very end of the file) is truncated on open; a bad record followed by
 * more data means the disk lied: open fails with QCN_ERR_CONSENSUS_WAL
 * rather than guess (the operator must look).
 *
 * Not thread-safe (the node's loop thread owns it). */
#ifndef QCN_CONSENSUS_WAL_H
#define QCN_CONSENSUS_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define QCN_WAL_VALUE_BYTES 32
#define QCN_WAL_BODY_BYTES (1u + 8u + 4u + 1u + QCN_WAL_VALUE_BYTES)
#define QCN_WAL_CHECK_BYTES 8u
/* Records kept in memory and on disk; prune at each new height keeps the
 * log small (a height has a few records per round). */
#define QCN_WAL_MAX_RECORDS 20000u

enum qcn_wal_kind {
    QCN_WAL_PREVOTE = 1, /* = enum qcn_vote_type */
    QCN_WAL_PRECOMMIT = 2,
    QCN_WAL_PROPOSAL = 3,
};

struct qcn_wal_record {
    uint8_t kind;
    uint64_t height;
    uint32_t round;
    int has_value;
    uint8_t value[QCN_WAL_VALUE_BYTES];
};

struct qcn_wal;

/* Opens (creating) the log at path and reads it back. QCN_ERR_IO,
 * QCN_ERR_CONSENSUS_WAL (corrupt before its end), QCN_ERR_TOO_LARGE,
 * QCN_ERR_NOMEM. *truncated (may be NULL) gets the bytes of a torn tail
 * that were cut off. */
QCN_MUST_CHECK int qcn_wal_open(struct qcn_wal **out, const char *path, uint64_t *truncated);
void qcn_wal_close(struct qcn_wal *w);

/* Permission to sign: QCN_OK if (height, round, kind) has no record (one is
 * appended and fsync'ed before returning) or has this very value;
 * QCN_ERR_CONSENSUS_DOUBLE_SIGN if it has another value or height is below
 * the floor; QCN_ERR_IO / QCN_ERR_CONSENSUS_WAL if the record could not be
 * made durable (then do not sign). */
QCN_MUST_CHECK int qcn_wal_sign_intent(struct qcn_wal *w, uint8_t kind, uint64_t height,
                                       uint32_t round, int has_value,
                                       const uint8_t value[QCN_WAL_VALUE_BYTES]);

/* The records of one height, in log order: *out points into the log (valid
 * until the next call that changes it). Returns the count. */
size_t qcn_wal_records(const struct qcn_wal *w, uint64_t height, const struct qcn_wal_record **out);

/* Drops the records below height (they can never be signed again: the
 * floor rises to height). Rewrites the file atomically (temp file, fsync,
 * rename, fsync of the directory). QCN_ERR_IO. */
QCN_MUST_CHECK int qcn_wal_prune(struct qcn_wal *w, uint64_t height);

uint64_t qcn_wal_floor(const struct qcn_wal *w);

#endif
