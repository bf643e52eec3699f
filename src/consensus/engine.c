/* engine.c - the engine registry. Add one line per engine to qcn_engines. */
#include "consensus/engine.h"

#include <string.h>

const struct qcn_engine_ops *const qcn_engines[] = {
    &qcn_engine_dev,
    NULL,
};

const struct qcn_engine_ops *qcn_engine_find(const char *name)
{
    size_t i;
    for (i = 0; qcn_engines[i] != NULL; i++)
        if (strcmp(qcn_engines[i]->name, name) == 0)
            return qcn_engines[i];
    return NULL;
}

int qcn_engine_init(struct qcn_engine *e, const char *name, const struct qcn_engine_host *host,
                    const struct qcn_engine_config *cfg)
{
    const struct qcn_engine_ops *ops = qcn_engine_find(name);
    int err;
    e->ops = NULL;
    e->state = NULL;
    if (ops == NULL)
        return QCN_ERR_NOT_FOUND;
    err = ops->create(&e->state, host, cfg);
    if (err != QCN_OK) {
        e->state = NULL;
        return err;
    }
    e->ops = ops;
    return QCN_OK;
}

void qcn_engine_clear(struct qcn_engine *e)
{
    if (e->ops == NULL)
        return;
    e->ops->stop(e->state);
    e->ops->destroy(e->state);
    e->ops = NULL;
    e->state = NULL;
}
