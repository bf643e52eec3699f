/* Constant-time check for qcn_hex_nibble (util/hex.h), which decodes secret
 * seeds and keys given in hex: every possible char is marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED before the call, so memcheck reports a branch
 * or table index that depends on it. Run under `valgrind --error-exitcode=1`
 * (tests/cmake/ct.cmake); without valgrind it only checks the values. */
#include <stdio.h>

#include <valgrind/memcheck.h>

#include "util/hex.h"

static int reference(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int main(void)
{
    int c, failures = 0;
    for (c = 0; c < 256; c++) {
        char x = (char)c;
        int v;
        (void)VALGRIND_MAKE_MEM_UNDEFINED(&x, sizeof x);
        v = qcn_hex_nibble(x);
        (void)VALGRIND_MAKE_MEM_DEFINED(&v, sizeof v);
        if (v != reference(c)) {
            fprintf(stderr, "qcn_hex_nibble(%d) = %d, want %d\n", c, v, reference(c));
            failures++;
        }
    }
    return failures != 0;
}
