/* cli_util.h - what the wallet subcommands (src/cli/cmd_keys.c, cmd_tx.c,
 * cmd_multisig.c, cmd_query.c) share: option parsing, the keystore
 * directory, names and addresses, password prompts, the node connection,
 * filling, signing, submitting and waiting for transactions, and output.
 *
 * Exit statuses (cli/cli.h): 0 success; 1 a negative answer (the node
 * refused a transaction, a transaction failed on chain, a wait timed out);
 * 2 bad input or usage, a wrong password, an unreachable node.
 * Single-threaded command-line code; nothing here is thread-safe. */
#ifndef QCN_WALLET_CLI_UTIL_H
#define QCN_WALLET_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "codec/tx.h"
#include "util/err.h"
#include "wallet/keystore.h"
#include "wallet/rpcclient.h"
#include "wallet/txfile.h"

#define QCN_WCLI_MAX_POS 8
#define QCN_WCLI_MAX_OPTS 32
#define QCN_WCLI_EXIT_OK 0
#define QCN_WCLI_EXIT_NO 1
#define QCN_WCLI_EXIT_USAGE 2
#define QCN_WCLI_WAIT_DEFAULT_S 60
#define QCN_WCLI_WAIT_MAX_S 3600

/* Parsed command line: positionals and --options. Boolean flags (listed in
 * cli_util.c: --json, --wait, --backup, --force, --hex, --no-key, --public-key,
 * --full, --value-wei) take no value; every other --option takes one, as
 * "--opt value" or "--opt=value". */
struct qcn_wargs {
    const char *cmd; /* "keys new", for messages */
    int npos;
    const char *pos[QCN_WCLI_MAX_POS];
    int nopt;
    struct {
        const char *name;
        const char *value; /* NULL for a boolean flag */
        int used;
    } opt[QCN_WCLI_MAX_OPTS];
};

/* The start of every wallet command (qcn CMD SUB [options]; argv[0] is CMD):
 * without SUB prints usage on stderr (status 2); SUB "help" or "--help"
 * prints it on stdout (status 0); otherwise qcn_wargs_parse of SUB and its
 * options into a, *json = --json, and qcn_wargs_common. Returns -1 to go on,
 * else the exit status. */
int qcn_wcli_begin(struct qcn_wargs *a, const char *cmd, const char *usage, int argc, char **argv,
                   int *json);
/* Parses argv[0..argc). Returns 0, or prints a usage error and returns 2. */
int qcn_wargs_parse(struct qcn_wargs *a, const char *cmd, int argc, char **argv);
/* The value of --name (marks it used) or NULL. */
const char *qcn_wargs_get(struct qcn_wargs *a, const char *name);
/* 1 if the boolean flag --name was given (marks it used). */
int qcn_wargs_flag(struct qcn_wargs *a, const char *name);
/* Marks the options every wallet command accepts (--rpc, --rpc-timeout,
 * --password-file, --keystore, --datadir, --json) as used, so a command
 * that does not need one still takes it. */
void qcn_wargs_common(struct qcn_wargs *a);
/* Marks the fee options a sending command accepts (--nonce, --chain-id,
 * --tip, --max-fee, --gas-limit; read later by qcn_wcli_fill). */
void qcn_wargs_fees(struct qcn_wargs *a);
/* Prints an error naming the first option nobody asked for; returns 2 (0 if none). */
int qcn_wargs_check(struct qcn_wargs *a);
/* --name as an unsigned 64-bit integer (decimal or 0x-hex). *has = 0 when absent.
 * Returns 0 or prints an error and returns 2. */
int qcn_wargs_u64(struct qcn_wargs *a, const char *name, uint64_t *out, int *has);

/* Prints "qcn <cmd>: <message>" on stderr; returns status. */
int qcn_wcli_error(const struct qcn_wargs *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints j (stolen) as indented JSON on stdout. Returns 0. */
int qcn_wcli_print_json(json_t *j);

/* Keystore directory: --keystore DIR, else --datadir DIR/keystore, else
 * $QCN_KEYSTORE, else ~/.qcn/keystore. */
int qcn_wcli_keystore_dir(struct qcn_wargs *a, char *out, size_t cap);
/* KDF parameters: --kdf-ops/--kdf-mem-kib over the defaults (QCN_KEYSTORE_KDF). */
int qcn_wcli_kdf(struct qcn_wargs *a, struct qcn_kdf_params *out);

/* Resolves NAME (a key in the keystore, or a multisig descriptor NAME.multisig)
 * or an address (0x..., EIP-55 checked) to an address. Returns 0 or prints
 * an error and returns 2. */
int qcn_wcli_resolve(struct qcn_wargs *a, const char *dir, const char *what,
                     uint8_t out[QCN_ADDRESS_BYTES]);

/* Reads the password (--password-file / QCN_PASSWORD / prompt) and opens
 * key NAME into k (caller: qcn_wallet_key_new). Wrong password: "wrong
 * password for key NAME", status 2, file untouched. */
int qcn_wcli_open_key(struct qcn_wargs *a, const char *dir, const char *name,
                      struct qcn_wallet_key *k);
/* qcn_wallet_key_new, then qcn_wcli_open_key. *k gets the key, or NULL
 * ("out of guarded memory", status 2); the caller frees *k
 * (qcn_wallet_key_free) on success and on failure alike. */
int qcn_wcli_unlock(struct qcn_wargs *a, const char *dir, const char *name,
                    struct qcn_wallet_key **k);
/* Reads a new password (asks twice on a terminal) into a guarded buffer
 * *pw (free with qcn_secure_free). */
int qcn_wcli_new_password(struct qcn_wargs *a, char **pw, size_t *len, const char *prompt);

/* The node: --rpc URL (default http://127.0.0.1:8545), --rpc-timeout MS. */
int qcn_wcli_rpc(struct qcn_wargs *a, struct qcn_rpc_client **out);
/* Prints an RPC failure the way users need it: unreachable node (status 2)
 * or the node's own reason (status 1). Returns the status. */
int qcn_wcli_rpc_error(const struct qcn_wargs *a, struct qcn_rpc_client *c, int err,
                       const char *what);

/* Fills what the node knows into t and leaves what the user gave: chain id
 * (--chain-id or eth_chainId), nonce (--nonce or eth_getTransactionCount
 * "pending"), tip (--tip or eth_maxPriorityFeePerGas), max fee (--max-fee or
 * 2 x next base fee + tip), gas limit (--gas-limit or qcn_txfile_gas). c may
 * be NULL when every value was given (offline build). All fees in wei/gas. */
int qcn_wcli_fill(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t);

/* Decides whether t carries the sender's public key (pk of key k_pk): yes when
 * the node has no key recorded for t->f.from (first transaction); with a
 * record that is not this key, fails (status 2) unless --force. Offline
 * (c == NULL): attached unless --no-key. */
int qcn_wcli_attach_key(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t,
                        uint8_t scheme, const uint8_t *pk, size_t pk_len);

/* Makes key k the sender of t (from, scheme), then qcn_wcli_attach_key and
 * qcn_wcli_fill. Set t's recipient and data first: the gas limit depends on
 * them. */
int qcn_wcli_sender(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t,
                    const struct qcn_wallet_key *k);
/* Signs t with k ("signing failed", status 2) and sends it (qcn_wcli_submit,
 * no short multisig); hash gets its hash. */
int qcn_wcli_sign_submit(struct qcn_wargs *a, struct qcn_rpc_client *c, struct qcn_txfile *t,
                         const struct qcn_wallet_key *k, uint8_t hash[QCN_HASH_BYTES]);

/* Sends the complete t (eth_sendRawTransaction); hash gets its hash.
 * allow_short lets a multisig with too few signatures go (--force). */
int qcn_wcli_submit(struct qcn_wargs *a, struct qcn_rpc_client *c, const struct qcn_txfile *t,
                    uint8_t hash[QCN_HASH_BYTES], int allow_short);

/* Waits for the receipt of hash (--timeout S, default 60), with a progress
 * line on stderr. *receipt gets it (new reference). Status 0 (included and
 * succeeded), 1 (failed on chain, or timed out), 2 (node unreachable). */
int qcn_wcli_wait(struct qcn_wargs *a, struct qcn_rpc_client *c, const uint8_t hash[QCN_HASH_BYTES],
                  json_t **receipt);

/* "0x" and 64 hex digits, NUL-terminated. */
#define QCN_WCLI_HASH_TEXT_BYTES (2 * QCN_HASH_BYTES + 3)
void qcn_wcli_hash_hex(char out[QCN_WCLI_HASH_TEXT_BYTES], const uint8_t h[QCN_HASH_BYTES]);

/* "1.5 QCN" */
void qcn_wcli_coins(char *out, size_t cap, const struct qcn_u256 *wei);

/* Public key of key NAME from its file header (no password needed). */
int qcn_wcli_key_public(struct qcn_wargs *a, const char *dir, const char *name, uint8_t *scheme,
                        uint8_t *pk, size_t *pk_len, uint8_t account[QCN_ADDRESS_BYTES]);

#endif
