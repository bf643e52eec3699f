/* qcn - the node, the wallet, the local-network launcher and the operator's
 * toolbox in one program. main() only dispatches to a subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/mem.h"

int qcn_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "qcn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return QCN_EXIT_USAGE;
}

static void print_help(FILE *f)
{
    const struct qcn_cli_cmd *c;
    fprintf(f,
            "qcn %s - QuantumChain Nexus, a post-quantum Layer-1 node\n\n"
            "usage: qcn <command> [options]\n\ncommands:\n",
            QCN_VERSION);
    for (c = qcn_cli_commands; c->name != NULL; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n  --version  print the version\n  --help     this text\n"
               "\n`qcn <command> --help` describes one command.\n");
}

int main(int argc, char **argv)
{
    const struct qcn_cli_cmd *c;

    if (qcn_mem_init() != 0) {
        fprintf(stderr, "qcn: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2) {
        print_help(stderr);
        return QCN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("qcn %s\n", QCN_VERSION);
        return QCN_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return QCN_EXIT_OK;
    }
    for (c = qcn_cli_commands; c->name != NULL; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "qcn: unknown command '%s' (see qcn --help)\n", argv[1]);
    return QCN_EXIT_USAGE;
}
