/* password.h - where a keystore password comes from (docs/wallet.md).
 *
 * In order: a file (--password-file: its first line, without the line end),
 * the QCN_PASSWORD environment variable (scripts), or a prompt on the
 * controlling terminal with echo off (termios). With none of these the call
 * fails with a message saying how to give one. The password lands in
 * caller-provided memory (keep it in qcn_secure_alloc memory); every
 * intermediate copy is wiped. Not thread-safe (terminal state). */
#ifndef QCN_WALLET_PASSWORD_H
#define QCN_WALLET_PASSWORD_H

#include <stddef.h>

#include "util/err.h"

#define QCN_PASSWORD_MAX 1024 /* bytes, without the NUL */

/* Reads a password into out (cap >= QCN_PASSWORD_MAX + 1, NUL-terminated),
 * *len its length. With confirm, a prompt asks twice and refuses a mismatch.
 * QCN_ERR_NOT_FOUND (no source), QCN_ERR_IO (unreadable file, terminal
 * error), QCN_ERR_TOO_LARGE, QCN_ERR_INVALID_ARG (empty, or the two
 * entries differ). A message for the user is left in msg (msgcap bytes). */
QCN_MUST_CHECK int qcn_password_read(char *out, size_t cap, size_t *len, const char *file,
                                     const char *prompt, int confirm, char *msg, size_t msgcap);

#endif
