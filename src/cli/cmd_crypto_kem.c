/* qcn crypto <op> --alg ml-kem-*: replaced by the ML-KEM work. */
#include "cli/cli.h"

int qcn_cli_crypto_kem(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return qcn_cli_usage_error("crypto", "ML-KEM is not in this build yet");
}
