#include "util/err.h"

const char *qcn_err_str(int err)
{
    switch (err) {
#define QCN_ERR_MSG_(name, num, msg)                                                               \
    case num:                                                                                      \
        return msg;
        QCN_ERRORS(QCN_ERR_MSG_)
#undef QCN_ERR_MSG_
    default:
        return "unknown error";
    }
}

const char *qcn_err_name(int err)
{
    switch (err) {
#define QCN_ERR_NAME_(name, num, msg)                                                              \
    case num:                                                                                      \
        return #name;
        QCN_ERRORS(QCN_ERR_NAME_)
#undef QCN_ERR_NAME_
    default:
        return "QCN_ERR_?";
    }
}
