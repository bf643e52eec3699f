/* qcn bench <what>: performance measurements. Each area registers one entry. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int qcn_bench_crypto(int argc, char **argv);
int qcn_bench_evm(int argc, char **argv);
int qcn_bench_net(int argc, char **argv);

struct bench_entry {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct bench_entry benches[] = {
    {"chain", qcn_bench_chain},
    {"crypto", qcn_bench_crypto},
    {"evm", qcn_bench_evm},
    {"net", qcn_bench_net},
    {NULL, NULL},
};

int qcn_cmd_bench(int argc, char **argv)
{
    const struct bench_entry *b;
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: qcn bench <area> [--json]\nareas:");
        for (b = benches; b->name != NULL; b++)
            printf(" %s", b->name);
        printf("\n");
        return argc < 2 ? QCN_EXIT_USAGE : QCN_EXIT_OK;
    }
    for (b = benches; b->name != NULL; b++)
        if (strcmp(argv[1], b->name) == 0)
            return b->run(argc - 1, argv + 1);
    return qcn_cli_usage_error("bench", "unknown area '%s'", argv[1]);
}
