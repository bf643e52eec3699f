/* qcn crypto: filled in by the ML-DSA / ML-KEM work. */
#include "cli/cli.h"

int qcn_cmd_crypto(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return qcn_cli_usage_error("crypto", "no algorithms are available in this build yet");
}
