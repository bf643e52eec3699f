/* The signing write-ahead log (consensus/wal.h): a validator killed between
 * recording and sending refuses, after restart, to sign a conflicting vote;
 * torn tails are cut, corruption in the middle is refused; pruning raises
 * the floor. Uses real files and a real kill -9 of a child process. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "consensus/tendermint.h"
#include "consensus/wal.h"

#define REC_BYTES (4 + QCN_WAL_BODY_BYTES + QCN_WAL_CHECK_BYTES)

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/qcn-wal-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/wal", dir);
    return 0;
}

static int teardown(void **state)
{
    char tmp[160];
    (void)state;
    unlink(path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    rmdir(dir);
    return 0;
}

static void fresh(void)
{
    unlink(path);
}

static void test_conflicts_refused(void **state)
{
    struct qcn_wal *w;
    const struct qcn_wal_record *r;
    uint8_t v[32], x[32];
    (void)state;
    fresh();
    memset(v, 1, 32);
    memset(x, 2, 32);
    assert_int_equal(qcn_wal_open(&w, path, NULL), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 9, 0, 1, v), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 9, 0, 1, v), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 9, 0, 1, x),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 9, 0, 0, NULL),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    /* other round, other kind, other height: independent */
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 9, 1, 1, x), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 9, 0, 0, NULL), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PROPOSAL, 10, 0, 1, x), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, 9, 10, 0, 1, x), QCN_ERR_INVALID_ARG);
    assert_int_equal(qcn_wal_records(w, 9, &r), 3);
    assert_int_equal(r[0].kind, QCN_WAL_PREVOTE);
    assert_memory_equal(r[0].value, v, 32);
    assert_int_equal(r[2].kind, QCN_WAL_PRECOMMIT);
    assert_int_equal(r[2].has_value, 0);
    qcn_wal_close(w);
    /* survives reopen */
    assert_int_equal(qcn_wal_open(&w, path, NULL), QCN_OK);
    assert_int_equal(qcn_wal_records(w, 9, &r), 3);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 9, 1, 1, v),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    qcn_wal_close(w);
}

static uint32_t wal_test_proposer(void *ctx, uint64_t h, uint32_t rd)
{
    (void)ctx;
    return (uint32_t)((h + rd) % 4);
}
static int wal_test_value(void *ctx, uint64_t h, uint32_t rd, uint8_t out[32])
{
    (void)ctx;
    memset(out, (int)(h + rd), 32);
    return 0;
}

static void test_kill_between_append_and_send(void **state)
{
    struct qcn_wal *w;
    const struct qcn_wal_record *r;
    uint8_t v[32], x[32];
    pid_t pid;
    int status;
    (void)state;
    fresh();
    memset(v, 0xa1, 32);
    memset(x, 0xb2, 32);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the validator: records its precommit for v, then dies before it
         * could send (or at the moment it sent: we cannot tell) */
        if (qcn_wal_open(&w, path, NULL) != QCN_OK ||
            qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 42, 3, 1, v) != QCN_OK ||
            qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 42, 3, 1, v) != QCN_OK)
            _exit(1);
        raise(SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    assert_int_equal(qcn_wal_open(&w, path, NULL), QCN_OK);
    /* restarted: a conflicting precommit (x, or nil) is refused, the same is allowed */
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 42, 3, 1, x),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 42, 3, 0, NULL),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 42, 3, 1, v), QCN_OK);

    /* and the replayed records restore the state machine's lock */
    {
        static const uint64_t pw[4] = {1, 1, 1, 1};
        static const struct qcn_tm_config cfg = {1000, 500, 1000, 500, 1000, 500};
        struct qcn_tm *tm;
        struct qcn_tm_state st;
        struct qcn_tm_callbacks cb;
        size_t i, n;
        memset(&cb, 0, sizeof cb);
        cb.proposer = wal_test_proposer;
        cb.get_value = wal_test_value;
        n = qcn_wal_records(w, 42, &r);
        assert_int_equal(n, 2);
        assert_int_equal(qcn_tm_new(&tm, &cfg, &cb), QCN_OK);
        assert_int_equal(qcn_tm_prepare_height(tm, 42, pw, 4, 0), QCN_OK);
        for (i = 0; i < n; i++)
            assert_int_equal(
                qcn_tm_restore_vote(tm, r[i].round, r[i].kind, r[i].has_value, r[i].value), QCN_OK);
        qcn_tm_begin(tm);
        qcn_tm_get_state(tm, &st);
        assert_int_equal(st.round, 3);
        assert_int_equal(st.locked_round, 3);
        assert_memory_equal(st.locked_value, v, 32);
        qcn_tm_free(tm);
    }
    qcn_wal_close(w);
}

static long file_size(void)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

static void flip_byte(long off)
{
    FILE *f = fopen(path, "r+b");
    int c;
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    c = fgetc(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    fputc(c ^ 0x40, f);
    fclose(f);
}

static void test_torn_tail_and_corruption(void **state)
{
    struct qcn_wal *w;
    const struct qcn_wal_record *r;
    uint8_t v[32];
    uint64_t cut;
    FILE *f;
    (void)state;
    fresh();
    memset(v, 7, 32);
    assert_int_equal(qcn_wal_open(&w, path, NULL), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 1, 0, 1, v), QCN_OK);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 1, 0, 1, v), QCN_OK);
    qcn_wal_close(w);
    assert_int_equal(file_size(), 2 * REC_BYTES);

    /* a partial record (as a crash in the middle of write leaves) */
    f = fopen(path, "ab");
    assert_non_null(f);
    fwrite(v, 1, 30, f);
    fclose(f);
    assert_int_equal(qcn_wal_open(&w, path, &cut), QCN_OK);
    assert_int_equal(cut, 30);
    assert_int_equal(file_size(), 2 * REC_BYTES);
    assert_int_equal(qcn_wal_records(w, 1, &r), 2);
    /* appending after the cut works and is read back */
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 1, 1, 0, NULL), QCN_OK);
    qcn_wal_close(w);
    assert_int_equal(qcn_wal_open(&w, path, &cut), QCN_OK);
    assert_int_equal(cut, 0);
    assert_int_equal(qcn_wal_records(w, 1, &r), 3);
    qcn_wal_close(w);

    /* a full-length last record with a bad checksum: cut */
    flip_byte(2 * REC_BYTES + 10);
    assert_int_equal(qcn_wal_open(&w, path, &cut), QCN_OK);
    assert_int_equal(cut, REC_BYTES);
    assert_int_equal(qcn_wal_records(w, 1, &r), 2);
    qcn_wal_close(w);

    /* a bad record followed by good ones: refused, file untouched */
    flip_byte(10);
    assert_int_equal(qcn_wal_open(&w, path, &cut), QCN_ERR_CONSENSUS_WAL);
    assert_null(w);
    assert_int_equal(file_size(), 2 * REC_BYTES);
}

static void test_prune_floor(void **state)
{
    struct qcn_wal *w;
    const struct qcn_wal_record *r;
    uint8_t v[32];
    uint64_t h;
    (void)state;
    fresh();
    memset(v, 3, 32);
    assert_int_equal(qcn_wal_open(&w, path, NULL), QCN_OK);
    for (h = 1; h <= 3; h++)
        assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, h, 0, 1, v), QCN_OK);
    assert_int_equal(qcn_wal_prune(w, 3), QCN_OK);
    assert_int_equal(qcn_wal_floor(w), 3);
    assert_int_equal(qcn_wal_records(w, 2, &r), 0);
    assert_int_equal(qcn_wal_records(w, 3, &r), 1);
    /* below the floor nothing is signed any more: we no longer know */
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 2, 5, 1, v),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PRECOMMIT, 3, 0, 1, v), QCN_OK);
    qcn_wal_close(w);
    assert_int_equal(file_size(), 3 * REC_BYTES);
    assert_int_equal(qcn_wal_open(&w, path, NULL), QCN_OK);
    assert_int_equal(qcn_wal_floor(w), 3);
    assert_int_equal(qcn_wal_records(w, 3, &r), 2);
    assert_int_equal(qcn_wal_sign_intent(w, QCN_WAL_PREVOTE, 3, 0, 0, NULL),
                     QCN_ERR_CONSENSUS_DOUBLE_SIGN);
    qcn_wal_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conflicts_refused),
        cmocka_unit_test(test_kill_between_append_and_send),
        cmocka_unit_test(test_torn_tail_and_corruption),
        cmocka_unit_test(test_prune_floor),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
