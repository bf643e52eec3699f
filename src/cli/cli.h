/* cli.h - the qcn command table and helpers shared by subcommands.
 *
 * Each subcommand lives in its own cmd_<name>.c and exposes one
 * `int qcn_cmd_<name>(int argc, char **argv)` that returns the process exit
 * status: 0 success, 1 a negative answer (a signature that does not verify, a
 * check that found a mismatch), 2 bad input or usage. */
#ifndef QCN_CLI_CLI_H
#define QCN_CLI_CLI_H

#include <stdio.h>

#define QCN_EXIT_OK 0
#define QCN_EXIT_NO 1
#define QCN_EXIT_USAGE 2

struct qcn_cli_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

/* The table, NULL-terminated, defined in commands.c. */
extern const struct qcn_cli_cmd qcn_cli_commands[];

/* Prints "qcn <cmd>: <message>" to stderr and returns QCN_EXIT_USAGE. */
int qcn_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int qcn_cmd_crypto(int argc, char **argv);
/* `qcn crypto <op> --alg ml-kem-*`: called by qcn_cmd_crypto (cmd_crypto_kem.c). */
int qcn_cli_crypto_kem(int argc, char **argv);
int qcn_cmd_bench(int argc, char **argv);
int qcn_cmd_node(int argc, char **argv);
int qcn_cmd_init(int argc, char **argv);
int qcn_cmd_db(int argc, char **argv);
int qcn_bench_chain(int argc, char **argv);
int qcn_cmd_evm(int argc, char **argv);
int qcn_cmd_keys(int argc, char **argv);
int qcn_cmd_query(int argc, char **argv);
int qcn_cmd_tx(int argc, char **argv);
int qcn_cmd_multisig(int argc, char **argv);
int qcn_cmd_testnet(int argc, char **argv);

#endif
