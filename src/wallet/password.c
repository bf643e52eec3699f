/* password.c - password sources (password.h). */
#include "wallet/password.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util/mem.h"

/* Keeps the first line of buf (drops "\n" or "\r\n" and what follows). */
static size_t first_line(const char *buf, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            return i;
    return n;
}

static int from_file(char *out, size_t cap, size_t *len, const char *file, char *msg, size_t msgcap)
{
    char buf[QCN_PASSWORD_MAX + 2];
    size_t n = 0, l;
    ssize_t r;
    int fd = open(file, O_RDONLY | O_CLOEXEC), err = QCN_OK;

    if (fd < 0) {
        snprintf(msg, msgcap, "cannot read password file %s: %s", file, strerror(errno));
        return QCN_ERR_IO;
    }
    while (n < sizeof buf) {
        r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(msg, msgcap, "cannot read password file %s", file);
            err = QCN_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (err == QCN_OK) {
        l = first_line(buf, n);
        if (l > QCN_PASSWORD_MAX || l + 1 > cap) {
            snprintf(msg, msgcap, "password in %s is longer than %d bytes", file, QCN_PASSWORD_MAX);
            err = QCN_ERR_TOO_LARGE;
        } else {
            memcpy(out, buf, l);
            out[l] = '\0';
            *len = l;
        }
    }
    qcn_wipe(buf, sizeof buf);
    return err;
}

static int prompt_once(int fd, const char *prompt, char *out, size_t cap, size_t *len)
{
    struct termios old, quiet;
    char c;
    size_t n = 0;
    int err = QCN_OK, too_long = 0;
    ssize_t r;

    if (tcgetattr(fd, &old) != 0)
        return QCN_ERR_IO;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return QCN_ERR_IO;
    for (;;) {
        r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = QCN_ERR_IO;
            break;
        }
        if (c == '\n' || c == '\r')
            break;
        if (n + 1 >= cap || n >= QCN_PASSWORD_MAX)
            too_long = 1;
        else
            out[n++] = c;
    }
    c = 0;
    (void)tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0)
        err = QCN_ERR_IO;
    out[n] = '\0';
    *len = n;
    if (err == QCN_OK && too_long)
        err = QCN_ERR_TOO_LARGE;
    return err;
}

int qcn_password_read(char *out, size_t cap, size_t *len, const char *file, const char *prompt,
                      int confirm, char *msg, size_t msgcap)
{
    const char *env;
    char *again = NULL;
    size_t alen = 0;
    int fd, err;

    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    msg[0] = '\0';
    if (file != NULL) {
        err = from_file(out, cap, len, file, msg, msgcap);
    } else if ((env = getenv("QCN_PASSWORD")) != NULL) {
        size_t l = strnlen(env, QCN_PASSWORD_MAX + 1);
        if (l > QCN_PASSWORD_MAX || l + 1 > cap) {
            snprintf(msg, msgcap, "QCN_PASSWORD is longer than %d bytes", QCN_PASSWORD_MAX);
            return QCN_ERR_TOO_LARGE;
        }
        memcpy(out, env, l + 1);
        *len = l;
        err = QCN_OK;
    } else {
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || !isatty(fd)) {
            if (fd >= 0)
                close(fd);
            snprintf(msg, msgcap,
                     "no password given: use --password-file FILE, the QCN_PASSWORD "
                     "environment variable, or run on a terminal");
            return QCN_ERR_NOT_FOUND;
        }
        err = prompt_once(fd, prompt, out, cap, len);
        if (err == QCN_OK && confirm) {
            again = qcn_secure_alloc(QCN_PASSWORD_MAX + 1);
            if (again == NULL)
                err = QCN_ERR_NOMEM;
            else
                err = prompt_once(fd, "Repeat the password: ", again, QCN_PASSWORD_MAX + 1, &alen);
            if (err == QCN_OK && (alen != *len || !qcn_ct_equal(again, out, alen))) {
                snprintf(msg, msgcap, "the two passwords differ");
                err = QCN_ERR_INVALID_ARG;
            }
            qcn_secure_free(again);
        }
        close(fd);
        if (err != QCN_OK && msg[0] == '\0')
            snprintf(msg, msgcap, "could not read the password from the terminal (%s)",
                     qcn_err_str(err));
    }
    if (err == QCN_OK && *len == 0) {
        snprintf(msg, msgcap, "the password is empty");
        err = QCN_ERR_INVALID_ARG;
    }
    if (err != QCN_OK) {
        qcn_wipe(out, cap);
        *len = 0;
    }
    return err;
}
