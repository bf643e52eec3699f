/* pos_config.h - loads the pos engine's settings (docs/consensus.md §8):
 * `<datadir>/consensus.conf`, as `qcn testnet init` writes it:
 *   pos.chain_id = N
 *   pos.validators = PATH        hex of the validator set (valset.h RLP)
 *   pos.validator_key = PATH     test key file: '#' comment lines, then the
 *                                hex ML-DSA-65 seed (absent: observer)
 *   pos.beacon_seed = PATH       '#' comment lines, then the hex seed
 *   pos.beacon_length = N
 *   pos.wal = PATH
 *   pos.block_interval_ms = N
 *   pos.test_fault = double_sign  tests only: sign a conflicting prevote
 *                                each round (cfg.fault_double_sign); an
 *                                error unless built with QCN_TEST_FAULTS
 * Same syntax as qcn.conf (key = value, '#' comments). An unknown key or a
 * bad value is an error naming the line. Keystore-encrypted keys are the
 * caller's (they need a password): it fills cfg->sk/pk itself. */
#ifndef QCN_CONSENSUS_POS_CONFIG_H
#define QCN_CONSENSUS_POS_CONFIG_H

#include <stddef.h>

#include "consensus/pos.h"

#define QCN_POS_CONFIG_MAX_FILE (64u * 1024u)
#define QCN_POS_CONFIG_MAX_VALSET_HEX (2u * 1024u * 1024u)

/* Everything a struct qcn_pos_config points to, owned. */
struct qcn_pos_settings {
    struct qcn_pos_config cfg; /* validators and wal_path point into this struct */
    uint8_t *validators;
    char wal_path[1024];
};

/* Reads path into s (zeroed first). QCN_ERR_CONFIG with a message in err,
 * QCN_ERR_NOT_FOUND (no file), QCN_ERR_IO, QCN_ERR_NOMEM. Secrets (seed,
 * secret key, beacon seed) are wiped by qcn_pos_settings_clear. */
QCN_MUST_CHECK int qcn_pos_settings_load(struct qcn_pos_settings *s, const char *path, char *err,
                                         size_t errlen);
void qcn_pos_settings_clear(struct qcn_pos_settings *s);

#endif
