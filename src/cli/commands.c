/* The subcommand table. One line per subcommand; keep it sorted by name. */
#include "cli/cli.h"

#include <stddef.h>

const struct qcn_cli_cmd qcn_cli_commands[] = {
    {"bench", "measure crypto, chain, evm and network performance", qcn_cmd_bench},
    {"crypto", "ML-DSA / ML-KEM operations, hex in and hex out", qcn_cmd_crypto},
    {"db", "store tools: backup, check, info", qcn_cmd_db},
    {"evm", "run Ethereum state tests against the EVM (statetest)", qcn_cmd_evm},
    {"init", "initialise a data directory from a genesis file (or --dev)", qcn_cmd_init},
    {"keys", "encrypted keystore: new, list, show, import, export, delete, rotate", qcn_cmd_keys},
    {"multisig", "M-of-N accounts: create, propose, sign, submit, show", qcn_cmd_multisig},
    {"node", "run a node", qcn_cmd_node},
    {"query", "read balances, nonces, accounts, blocks, transactions, receipts", qcn_cmd_query},
    {"testnet", "local N-validator network: init, run, status", qcn_cmd_testnet},
    {"tx", "send, build, sign, submit and wait for transactions", qcn_cmd_tx},
    {NULL, NULL, NULL},
};
