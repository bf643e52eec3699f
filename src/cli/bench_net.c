/* qcn bench net: a 4-validator local network (`qcn testnet init` + `qcn
 * testnet run`, pos engine over p2p) under a load generator sending pre-signed
 * native transfers through JSON-RPC (eth_sendRawTransaction, in JSON-RPC
 * batches over HTTP), spread over the 4 nodes' RPC ports at a fixed rate.
 *
 * Reports:
 *   - the ML-DSA-65 verification rate of this machine on all cores (the
 *     limit for comparison: every node checks every signature once);
 *   - sustained TPS: transfers committed from the first submission to the
 *     last commit, and how many of the offered ones were committed;
 *   - p50/p99 time from submission (just before the HTTP request carrying it)
 *     to finality (the block containing it is seen on node0 through
 *     eth_blockNumber/eth_getBlockByNumber polled every 20 ms; a block is
 *     final once committed under pos, docs/consensus.md);
 *   - bytes sent per transaction over p2p: the kernel's per-socket
 *     bytes_sent counters (`ss -tin`) of the established TCP connections on
 *     the validators' p2p ports, before and after the load (the node does not
 *     expose qcn_p2p_stats_get over RPC);
 *   - CPU per node: utime+stime from /proc/<pid>/stat over the measured
 *     period, in % of one core.
 * Every process it starts is stopped by pid (SIGTERM, then SIGKILL), even on
 * failure; ports are random; the whole run is bounded (load --seconds, then
 * at most BN_DRAIN_S to drain). Numbers on a shared machine are noisy. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/bench_util.h"
#include "cli/cli.h"
#include "codec/tx.h"
#include "crypto/rng.h"
#include "util/hex.h"
#include "util/time.h"
#include "wallet/rpcclient.h"

#define BN_NODES 4
#define BN_CHAIN_ID 4242u
#define BN_MAX_SECONDS 600u
#define BN_MAX_RATE 100000u
#define BN_MAX_SENDERS 20000u
#define BN_CONNS 16  /* submitter threads (HTTP connections), BN_CONNS / BN_NODES per node */
#define BN_BATCH 50u /* transfers per JSON-RPC batch (server cap: 1000) */
#define BN_MAX_RESPONSE (16u << 20) /* cap on one batch's HTTP answer */
#define BN_START_S 60               /* nodes up and producing blocks */
#define BN_DRAIN_S 20               /* after the load: waiting for commits */
#define BN_POLL_NS 20000000ull
/* Pause after a commit before the next height (pos.block_interval_ms;
 * testnet init writes 1000). Under load every pause is latency: at 2,000/s,
 * 50 ms gave p50 finality 2.06-2.13 s against 2.62-2.71 s at 200 ms in
 * interleaved runs (BENCHMARKS.md). */
#define BN_INTERVAL_MS 50u
#define BN_PATH 512

struct bn {
    size_t ntx, senders;
    unsigned rate, seconds, block_txs, interval_ms;
    int json, keep;
    uint16_t base;
    char tmp[64], dir[96], self[BN_PATH];
    struct qcn_dev_key *keys;
    uint8_t **raw;
    size_t *rawlen;
    uint8_t (*hash)[32];
    uint64_t *sub_ns, *fin_ns; /* per transfer; 0 = not yet */
    uint32_t *table;           /* open addressing: tx index + 1, by hash */
    size_t tcap;
    uint64_t t0;
    int stop; /* submitters: stop now */
    pid_t run_pid, node_pid[BN_NODES];
    /* results */
    size_t accepted, rejected, committed;
    char first_reject[256];
    pthread_mutex_t mu;
};

struct submitter {
    struct bn *b;
    unsigned node, conn;
    size_t accepted, rejected;
    uint64_t batches, http_ns; /* HTTP round trips and their total time */
    int err;
};

/* ---- processes ---- */

static pid_t spawn(const char *self, char *const *args, const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        /* If the bench dies without cleaning up, its children still stop. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(self, args);
        _exit(127);
    }
    return pid;
}

static int wait_pid(pid_t pid, unsigned ms)
{
    unsigned t;
    for (t = 0; t < ms; t += 50) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 0;
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    return -1;
}

static int pid_alive(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%ld", (long)pid);
    return stat(path, &st) == 0;
}

/* testnet run stops its nodes on SIGTERM; anything left gets SIGKILL. */
static void stop_all(struct bn *b)
{
    unsigned i;
    if (b->run_pid > 0) {
        kill(b->run_pid, SIGTERM);
        if (wait_pid(b->run_pid, 20000) != 0) {
            kill(b->run_pid, SIGKILL);
            waitpid(b->run_pid, NULL, 0);
        }
        b->run_pid = 0;
    }
    for (i = 0; i < BN_NODES; i++)
        if (b->node_pid[i] > 0 && pid_alive(b->node_pid[i])) {
            kill(b->node_pid[i], SIGKILL);
            b->node_pid[i] = 0;
        }
}

/* 1 when every port in [base, base + n) can be bound on 127.0.0.1 right now.
 * Probing without SO_REUSEADDR also refuses ports held by live outgoing
 * connections, which a listener could not take either. */
static int ports_free(uint16_t base, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
        if (fd < 0)
            return 0;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)(base + i));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (!ok)
            return 0;
    }
    return 1;
}

/* The last lines of a log on stderr, so a failed run explains itself even
 * after its directory is removed. */
static void print_tail(const char *path, unsigned lines)
{
    static char buf[8192];
    size_t n, i, start;
    unsigned seen = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len > (long)sizeof buf - 1)
            (void)fseek(f, len - (long)sizeof buf + 1, SEEK_SET);
        else
            rewind(f);
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (start = 0, i = n; i > 0; i--)
        if (buf[i - 1] == '\n' && i != n && ++seen == lines) {
            start = i;
            break;
        }
    fprintf(stderr, "---- %s (last %u lines)\n%s", path, lines, buf + start);
}

static int read_node_pid(const struct bn *b, unsigned i, pid_t *pid)
{
    char path[BN_PATH];
    long v = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/node%u/node.pid", b->dir, i);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld", &v) != 1)
        v = 0;
    fclose(f);
    *pid = (pid_t)v;
    return v > 0 ? 0 : -1;
}

/* utime + stime of pid in clock ticks (proc(5): fields 14 and 15). */
static int cpu_ticks(pid_t pid, unsigned long long *out)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (p == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *out = ut + st;
    return 0;
}

/* Sum of bytes_sent over established TCP sockets with an end on one of the
 * validators' p2p ports (each direction of a loopback connection is one
 * socket, so nothing counts twice). */
static int p2p_bytes_sent(const struct bn *b, unsigned long long *out)
{
    FILE *f = popen("ss -tinH state established 2>/dev/null", "r");
    char line[4096];
    int want = 0;
    *out = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] != ' ' && line[0] != '\t') {
            char a[128], c[128];
            const char *pa, *pc;
            unsigned long pl = 0, pr = 0;
            want = 0;
            if (sscanf(line, "%*s %*s %127s %127s", a, c) != 2)
                continue;
            pa = strrchr(a, ':');
            pc = strrchr(c, ':');
            if (pa == NULL || pc == NULL)
                continue;
            pl = strtoul(pa + 1, NULL, 10);
            pr = strtoul(pc + 1, NULL, 10);
            for (unsigned i = 0; i < BN_NODES; i++)
                if (pl == b->base + 2u * i || pr == b->base + 2u * i)
                    want = 1;
        } else if (want) {
            const char *s = strstr(line, "bytes_sent:");
            if (s != NULL)
                *out += strtoull(s + 11, NULL, 10);
            want = 0;
        }
    }
    return pclose(f) == 0 ? 0 : -1;
}

/* ---- transfers by hash ---- */

static size_t slot_of(const uint8_t h[32], size_t cap)
{
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)(v % cap);
}

static void table_put(struct bn *b, size_t i)
{
    size_t s = slot_of(b->hash[i], b->tcap);
    while (b->table[s] != 0)
        s = (s + 1) % b->tcap;
    b->table[s] = (uint32_t)(i + 1);
}

static long table_find(const struct bn *b, const uint8_t h[32])
{
    size_t s = slot_of(h, b->tcap);
    while (b->table[s] != 0) {
        size_t i = b->table[s] - 1;
        if (memcmp(b->hash[i], h, 32) == 0)
            return (long)i;
        s = (s + 1) % b->tcap;
    }
    return -1;
}

/* ---- submitters: one thread per node ---- */

struct resp {
    char *p;
    size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct resp *r = ctx;
    size_t k = sz * n;
    char *q;
    if (k > BN_MAX_RESPONSE - r->len)
        return 0;
    q = realloc(r->p, r->len + k + 1);
    if (q == NULL)
        return 0;
    memcpy(q + r->len, p, k);
    r->p = q;
    r->len += k;
    r->p[r->len] = '\0';
    return k;
}

/* Transfer i goes over connection (sender % BN_CONNS), to node (connection %
 * BN_NODES): a sender's nonces arrive at one node in order, one batch after
 * the other, so no node sees a nonce gap. */
static unsigned conn_of(const struct bn *b, size_t i)
{
    return (unsigned)((i % b->senders) % BN_CONNS);
}

static void *submit_worker(void *arg)
{
    struct submitter *s = arg;
    struct bn *b = s->b;
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char url[64], *body = NULL;
    size_t next = 0, cap = 0, batch[BN_BATCH];

    snprintf(url, sizeof url, "http://127.0.0.1:%u/", b->base + 2u * s->node + 1u);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    if (c == NULL || hdr == NULL) {
        s->err = QCN_ERR_NOMEM;
        goto out;
    }
    while (next < b->ntx && !__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        uint64_t now = qcn_time_mono_ns();
        size_t nb = 0, len = 0, k;
        struct resp r = {NULL, 0};
        CURLcode rcode;
        json_t *ans;
        /* Due: transfer i at t0 + i / rate. */
        while (next < b->ntx && nb < BN_BATCH &&
               b->t0 + (uint64_t)((double)next * 1e9 / b->rate) <= now) {
            if (conn_of(b, next) == s->conn)
                batch[nb++] = next;
            next++;
        }
        if (nb == 0) {
            nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
            continue;
        }
        for (k = 0; k < nb; k++)
            len += 2 * b->rawlen[batch[k]] + 128;
        if (len + 2 > cap) {
            char *q = realloc(body, len + 2);
            if (q == NULL) {
                s->err = QCN_ERR_NOMEM;
                goto out;
            }
            body = q;
            cap = len + 2;
        }
        len = 0;
        body[len++] = '[';
        for (k = 0; k < nb; k++) {
            size_t i = batch[k];
            int w = snprintf(body + len, cap - len,
                             "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":"
                             "\"eth_sendRawTransaction\",\"params\":[\"0x",
                             k ? "," : "", i);
            if (w < 0)
                break;
            len += (size_t)w;
            qcn_hex_encode(body + len, b->raw[i], b->rawlen[i]);
            len += 2 * b->rawlen[i];
            memcpy(body + len, "\"]}", 3);
            len += 3;
        }
        body[len++] = ']';
        now = qcn_time_mono_ns();
        for (k = 0; k < nb; k++)
            __atomic_store_n(&b->sub_ns[batch[k]], now, __ATOMIC_RELEASE);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        rcode = curl_easy_perform(c);
        s->batches++;
        s->http_ns += qcn_time_mono_ns() - now;
        if (rcode != CURLE_OK || r.p == NULL) {
            s->rejected += nb;
            free(r.p);
            continue;
        }
        ans = json_loadb(r.p, r.len, 0, NULL);
        free(r.p);
        for (k = 0; k < json_array_size(ans); k++) {
            json_t *e = json_array_get(ans, k), *err = json_object_get(e, "error");
            if (json_object_get(e, "result") != NULL && err == NULL) {
                s->accepted++;
            } else {
                s->rejected++;
                pthread_mutex_lock(&b->mu);
                if (b->first_reject[0] == '\0' && json_is_string(json_object_get(err, "message")))
                    snprintf(b->first_reject, sizeof b->first_reject, "%s",
                             json_string_value(json_object_get(err, "message")));
                pthread_mutex_unlock(&b->mu);
            }
        }
        if (!json_is_array(ans))
            s->rejected += nb;
        json_decref(ans);
    }
out:
    free(body);
    curl_slist_free_all(hdr);
    if (c != NULL)
        curl_easy_cleanup(c);
    return NULL;
}

/* ---- finality: blocks seen on node0 ---- */

static int poll_blocks(struct bn *b, struct qcn_rpc_client *rc, uint64_t *seen, size_t *mark,
                       uint64_t *last_ns)
{
    uint64_t h;
    int err = qcn_rpc_client_u64(rc, &h, "eth_blockNumber", NULL);
    if (err != QCN_OK)
        return err;
    while (*seen < h) {
        json_t *blk = NULL, *txs;
        uint64_t now;
        size_t k;
        err = qcn_rpc_client_call(rc, &blk, "eth_getBlockByNumber",
                                  json_pack("[ob]", qcn_json_quantity(*seen + 1), 0));
        if (err != QCN_OK)
            return err;
        now = qcn_time_mono_ns();
        txs = json_object_get(blk, "transactions");
        for (k = 0; k < json_array_size(txs); k++) {
            uint8_t hh[32];
            const char *s = json_string_value(json_array_get(txs, k));
            long i;
            if (s == NULL || strncmp(s, "0x", 2) != 0 || qcn_hex_decode_exact(hh, 32, s + 2))
                continue;
            i = table_find(b, hh);
            if (i >= 0 && b->fin_ns[i] == 0) {
                b->fin_ns[i] = now;
                (*mark)++;
                *last_ns = now;
            }
        }
        json_decref(blk);
        (*seen)++;
    }
    return QCN_OK;
}

static int cmp_u64(const void *a, const void *c)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)c;
    return x < y ? -1 : x > y;
}

static int parse_uint(const char *s, unsigned *out, unsigned max)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || s[0] == '\0' || v == 0 || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int rpc_up(uint16_t port, uint64_t *height)
{
    char url[64];
    struct qcn_rpc_client *c;
    int err;
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    c = qcn_rpc_client_new(url, 1000);
    if (c == NULL)
        return QCN_ERR_NOMEM;
    err = qcn_rpc_client_u64(c, height, "eth_blockNumber", NULL);
    qcn_rpc_client_free(c);
    return err;
}

int qcn_bench_net(int argc, char **argv)
{
    struct bn b;
    struct submitter sub[BN_CONNS];
    pthread_t th[BN_CONNS];
    unsigned started = 0, i, senders = 2000, threads;
    struct qcn_rpc_client *rc = NULL;
    unsigned long long cpu0[BN_NODES], cpu1[BN_NODES], net0 = 0, net1 = 0, gen0 = 0, gen1 = 0;
    uint64_t batches = 0, http_ns = 0, *lat = NULL, seen = 0, t_last = 0, t_end_load, t_meas0,
             t_meas1, gas = 0;
    double vrate = 0, secs, tps, p50 = 0, p99 = 0, wall;
    size_t k, nlat = 0, poll_fail = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int err = QCN_OK, have_net;
    ssize_t sl;
    char ports[16], cmd[128], keys[16], log[BN_PATH];

    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.mu, NULL);
    b.rate = 2000;
    b.block_txs = 3000;
    b.interval_ms = BN_INTERVAL_MS;
    b.seconds = 30;
    threads = ncpu > 0 && ncpu < 256 ? (unsigned)ncpu : 1;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--json") == 0) {
            b.json = 1;
        } else if (a + 1 < argc && strcmp(argv[a], "--block-txs") == 0) {
            if (parse_uint(argv[++a], &b.block_txs, 65536) != 0)
                return qcn_cli_usage_error("bench net", "bad --block-txs");
        } else if (a + 1 < argc && strcmp(argv[a], "--block-interval-ms") == 0) {
            const char *v = argv[++a];
            if (strcmp(v, "0") == 0)
                b.interval_ms = 0;
            else if (parse_uint(v, &b.interval_ms, 60000) != 0)
                return qcn_cli_usage_error("bench net", "bad --block-interval-ms");
        } else if (strcmp(argv[a], "--keep") == 0) {
            b.keep = 1;
        } else if (a + 1 < argc && strcmp(argv[a], "--rate") == 0) {
            if (parse_uint(argv[++a], &b.rate, BN_MAX_RATE) != 0)
                return qcn_cli_usage_error("bench net", "bad --rate");
        } else if (a + 1 < argc && strcmp(argv[a], "--seconds") == 0) {
            if (parse_uint(argv[++a], &b.seconds, BN_MAX_SECONDS) != 0)
                return qcn_cli_usage_error("bench net", "bad --seconds");
        } else if (a + 1 < argc && strcmp(argv[a], "--senders") == 0) {
            if (parse_uint(argv[++a], &senders, BN_MAX_SENDERS) != 0 || senders < BN_CONNS)
                return qcn_cli_usage_error("bench net", "bad --senders");
        } else {
            printf("usage: qcn bench net [--rate TPS] [--seconds S] [--senders N] [--block-txs N]\n"
                   "                     [--block-interval-ms MS] [--keep] [--json]\n"
                   "  4 validators (qcn testnet) on random ports; signed transfers offered at\n"
                   "  --rate per second (default 2000) for --seconds (default 30) through\n"
                   "  eth_sendRawTransaction from --senders funded load keys (default 2000);\n"
                   "  blocks of at most --block-txs transfers (default 3000), the next height\n"
                   "  --block-interval-ms after a commit (pos.block_interval_ms, default %u);\n"
                   "  --keep leaves the testnet directory (node logs) in /tmp\n",
                   BN_INTERVAL_MS);
            return strcmp(argv[a], "--help") == 0 ? QCN_EXIT_OK : QCN_EXIT_USAGE;
        }
    }
    b.senders = senders;
    b.ntx = (size_t)b.rate * b.seconds;
    sl = readlink("/proc/self/exe", b.self, sizeof b.self - 1);
    if (sl <= 0)
        return QCN_EXIT_NO;
    b.self[sl] = '\0';
    snprintf(b.tmp, sizeof b.tmp, "/tmp/qcn-bench-net-XXXXXX");
    if (mkdtemp(b.tmp) == NULL)
        return QCN_EXIT_NO;
    snprintf(b.dir, sizeof b.dir, "%s/net", b.tmp);
    snprintf(log, sizeof log, "%s/bench.log", b.tmp);
    /* Ports below the kernel's ephemeral range (32768+), in a band no other
     * test uses (tests/cmake: wallet 10000-19999, testnets 20000-31999), and
     * free right now: a node that cannot bind its p2p port stops. */
    for (i = 0; i < 64 && b.base == 0; i++) {
        uint8_t r[2];
        uint16_t base;
        qcn_rng_bytes(r, sizeof r);
        base = (uint16_t)(3000u + 2u * BN_NODES * (((unsigned)r[0] << 8 | r[1]) % 800u));
        if (ports_free(base, 2 * BN_NODES))
            b.base = base;
    }
    if (b.base == 0) {
        fprintf(stderr, "bench net: no free block of %u ports in 3000-9999\n", 2 * BN_NODES);
        err = QCN_ERR_IO;
        goto out;
    }

    b.keys = calloc(b.senders, sizeof *b.keys); /* public load keys, not secrets */
    b.raw = calloc(b.ntx, sizeof *b.raw);
    b.rawlen = calloc(b.ntx, sizeof *b.rawlen);
    b.hash = calloc(b.ntx, sizeof *b.hash);
    b.sub_ns = calloc(b.ntx, sizeof *b.sub_ns);
    b.fin_ns = calloc(b.ntx, sizeof *b.fin_ns);
    b.tcap = 2 * b.ntx + 1;
    b.table = calloc(b.tcap, sizeof *b.table);
    lat = calloc(b.ntx, sizeof *lat);
    if (!b.keys || !b.raw || !b.rawlen || !b.hash || !b.sub_ns || !b.fin_ns || !b.table || !lat) {
        err = QCN_ERR_NOMEM;
        goto out;
    }

    /* The network: keys, genesis (load keys funded), configs. */
    snprintf(ports, sizeof ports, "%u", b.base);
    snprintf(keys, sizeof keys, "%u", senders);
    {
        char *args[] = {
            (char *)"qcn", (char *)"testnet",     (char *)"init", (char *)"--validators",
            (char *)"4",   (char *)"--dir",       b.dir,          (char *)"--base-port",
            ports,         (char *)"--fund-keys", keys,           NULL};
        int status = 0;
        pid_t p = spawn(b.self, args, log);
        if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench net: qcn testnet init failed (see %s)\n", log);
            err = QCN_ERR_INTERNAL;
            goto out;
        }
    }
    /* Blocks of bounded size: a proposal carries its transfers (about 3.4 kB
     * each) to every validator within the round's timeout. */
    for (i = 0; i < BN_NODES; i++) {
        char path[BN_PATH];
        FILE *f;
        snprintf(path, sizeof path, "%s/node%u/qcn.conf", b.dir, i);
        f = fopen(path, "a");
        if (f == NULL || fprintf(f, "dev.max_txs = %u\n", b.block_txs) < 0 || fclose(f) != 0) {
            err = QCN_ERR_IO;
            goto out;
        }
        /* a later line overrides testnet init's pos.block_interval_ms */
        snprintf(path, sizeof path, "%s/node%u/consensus.conf", b.dir, i);
        f = fopen(path, "a");
        if (f == NULL || fprintf(f, "pos.block_interval_ms = %u\n", b.interval_ms) < 0 ||
            fclose(f) != 0) {
            err = QCN_ERR_IO;
            goto out;
        }
    }
    if (!b.json)
        fprintf(stderr, "bench net: testnet in %s, ports %u-%u; pre-signing %zu transfers\n", b.dir,
                b.base, b.base + 2 * BN_NODES - 1, b.ntx);
    err = qcn_bench_keys_derive(b.keys, b.senders);
    if (err == QCN_OK)
        err = qcn_bench_verify_rate(&b.keys[0], NULL, threads, &vrate);
    if (err == QCN_OK)
        err = qcn_bench_transfer_gas(&b.keys[0], BN_CHAIN_ID, &gas);
    if (err == QCN_OK)
        err = qcn_bench_presign(b.keys, b.senders, BN_CHAIN_ID, gas, 0, b.ntx, b.raw, b.rawlen,
                                threads);
    for (k = 0; err == QCN_OK && k < b.ntx; k++) {
        struct qcn_tx *tx = NULL;
        err = qcn_tx_decode(&tx, (struct qcn_view){b.raw[k], b.rawlen[k]});
        if (err == QCN_OK)
            memcpy(b.hash[k], tx->hash, 32);
        qcn_tx_unref(tx);
        table_put(&b, k);
    }
    if (err != QCN_OK)
        goto out;

    /* Start the nodes and wait until every RPC answers and blocks are made. */
    {
        char *args[] = {(char *)"qcn", (char *)"testnet",      (char *)"run", (char *)"--dir",
                        b.dir,         (char *)"--no-restart", NULL};
        uint64_t deadline = qcn_time_mono_ns() + (uint64_t)BN_START_S * 1000000000ull;
        b.run_pid = spawn(b.self, args, log);
        if (b.run_pid < 0) {
            b.run_pid = 0;
            err = QCN_ERR_INTERNAL;
            goto out;
        }
        for (;;) {
            unsigned up = 0;
            int exited;
            for (i = 0; i < BN_NODES; i++) {
                uint64_t h = 0;
                if (b.node_pid[i] == 0)
                    (void)read_node_pid(&b, i, &b.node_pid[i]);
                if (rpc_up((uint16_t)(b.base + 2 * i + 1), &h) == QCN_OK && h >= 2)
                    up++;
            }
            if (up == BN_NODES)
                break;
            exited = waitpid(b.run_pid, NULL, WNOHANG) == b.run_pid;
            if (qcn_time_mono_ns() > deadline || exited) {
                char path[BN_PATH];
                if (exited)
                    b.run_pid = 0;
                fprintf(stderr, "bench net: the network did not reach height 2 in %d s%s\n",
                        BN_START_S, exited ? " (qcn testnet run exited)" : "");
                print_tail(log, 20);
                for (i = 0; i < BN_NODES; i++) {
                    snprintf(path, sizeof path, "%s/node%u/node.log", b.dir, i);
                    print_tail(path, 25);
                }
                err = QCN_ERR_TIMEOUT;
                goto out;
            }
            nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        }
    }
    {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%u", b.base + 1);
        rc = qcn_rpc_client_new(url, 5000);
        if (rc == NULL || qcn_rpc_client_u64(rc, &seen, "eth_blockNumber", NULL) != QCN_OK) {
            err = QCN_ERR_NODE_UNREACHABLE;
            goto out;
        }
    }
    for (i = 0; i < BN_NODES; i++)
        if (cpu_ticks(b.node_pid[i], &cpu0[i]) != 0)
            cpu0[i] = 0;
    have_net = p2p_bytes_sent(&b, &net0) == 0;
    (void)cpu_ticks(getpid(), &gen0);

    /* Load. */
    if (!b.json)
        fprintf(stderr, "bench net: offering %u transfers/s for %u s\n", b.rate, b.seconds);
    b.t0 = qcn_time_mono_ns();
    t_meas0 = b.t0;
    for (i = 0; i < BN_CONNS; i++) {
        memset(&sub[i], 0, sizeof sub[i]);
        sub[i].b = &b;
        sub[i].conn = i;
        sub[i].node = i % BN_NODES;
        if (pthread_create(&th[i], NULL, submit_worker, &sub[i]) != 0) {
            err = QCN_ERR_INTERNAL;
            break;
        }
        started++;
    }
    t_end_load = b.t0 + (uint64_t)b.seconds * 1000000000ull;
    while (err == QCN_OK) {
        uint64_t now = qcn_time_mono_ns();
        size_t admitted = 0;
        if (now > t_end_load + (uint64_t)BN_DRAIN_S * 1000000000ull)
            break;
        if (now > t_end_load + 2000000000ull) {
            /* The submitters are done (or stuck: stop them at the deadline). */
            __atomic_store_n(&b.stop, 1, __ATOMIC_RELAXED);
        }
        /* A busy node0 may miss a poll (5 s timeout): keep polling until
         * the deadline; what it never answers is counted as not committed. */
        if (poll_blocks(&b, rc, &seen, &b.committed, &t_last) != QCN_OK && poll_fail++ == 0)
            fprintf(stderr, "bench net: node0 RPC (polls continue): %s\n",
                    qcn_rpc_client_message(rc));
        if (b.committed >= b.ntx)
            break;
        if (now > t_end_load) {
            /* Everything accepted is committed: done draining. */
            for (i = 0; i < started; i++)
                admitted += __atomic_load_n(&sub[i].accepted, __ATOMIC_RELAXED);
            if (b.stop && admitted <= b.committed)
                break;
        }
        nanosleep(&(struct timespec){0, BN_POLL_NS}, NULL);
    }
    __atomic_store_n(&b.stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        b.accepted += sub[i].accepted;
        b.rejected += sub[i].rejected;
        batches += sub[i].batches;
        http_ns += sub[i].http_ns;
    }
    if (err != QCN_OK)
        goto out;
    t_meas1 = qcn_time_mono_ns();
    for (i = 0; i < BN_NODES; i++)
        if (cpu_ticks(b.node_pid[i], &cpu1[i]) != 0)
            cpu1[i] = cpu0[i];
    if (cpu_ticks(getpid(), &gen1) != 0 || gen1 < gen0)
        gen1 = gen0;
    if (have_net)
        have_net = p2p_bytes_sent(&b, &net1) == 0;

    for (k = 0; k < b.ntx; k++)
        if (b.fin_ns[k] != 0 && b.sub_ns[k] != 0 && b.fin_ns[k] >= b.sub_ns[k])
            lat[nlat++] = b.fin_ns[k] - b.sub_ns[k];
    qsort(lat, nlat, sizeof *lat, cmp_u64);
    if (nlat > 0) {
        p50 = (double)lat[nlat / 2] / 1e9;
        p99 = (double)lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1] / 1e9;
    }
    secs = t_last > b.t0 ? (double)(t_last - b.t0) / 1e9 : 0;
    tps = secs > 0 ? (double)b.committed / secs : 0;
    wall = (double)(t_meas1 - t_meas0) / 1e9;
    {
        double hz = (double)sysconf(_SC_CLK_TCK), cpu[BN_NODES];
        double bpt = have_net && b.committed > 0 && net1 >= net0
                         ? (double)(net1 - net0) / (double)b.committed
                         : -1;
        double gen = 100.0 * (double)(gen1 - gen0) / hz / wall;
        for (i = 0; i < BN_NODES; i++)
            cpu[i] = 100.0 * (double)(cpu1[i] - cpu0[i]) / hz / wall;
        if (b.json) {
            printf("{\"machine_cores\":%u,\"mldsa65_verify_per_s\":%.0f,\"validators\":%d,"
                   "\"offered_rate\":%u,\"load_seconds\":%u,\"offered\":%zu,\"accepted\":%zu,"
                   "\"rejected\":%zu,\"committed\":%zu,\"seconds\":%.3f,\"tps\":%.0f,"
                   "\"finality_p50_s\":%.3f,\"finality_p99_s\":%.3f,\"p2p_bytes_per_tx\":%.0f,"
                   "\"cpu_pct\":[%.0f,%.0f,%.0f,%.0f],\"loadgen_cpu_pct\":%.0f}\n",
                   threads, vrate, BN_NODES, b.rate, b.seconds, b.ntx, b.accepted, b.rejected,
                   b.committed, secs, tps, p50, p99, bpt, cpu[0], cpu[1], cpu[2], cpu[3], gen);
        } else {
            printf("ML-DSA-65 verification on %u cores: %.0f /s (the limit for one node; each of "
                   "the %d validators checks every signature: %.0f /s for the network on this "
                   "machine)\n",
                   threads, vrate, BN_NODES, vrate / BN_NODES);
            printf("offered %zu transfers (%u /s for %u s, %zu senders) over %d nodes' RPC: "
                   "%zu accepted, %zu rejected%s%s%s\n",
                   b.ntx, b.rate, b.seconds, b.senders, BN_NODES, b.accepted, b.rejected,
                   b.first_reject[0] ? " (first: " : "", b.first_reject,
                   b.first_reject[0] ? ")" : "");
            printf("  %llu JSON-RPC batches of up to %u over %d connections, %.1f ms each on "
                   "average\n",
                   (unsigned long long)batches, BN_BATCH, BN_CONNS,
                   batches ? (double)http_ns / 1e6 / (double)batches : 0.0);
            if (b.accepted + b.rejected < b.ntx)
                printf("  %zu not sent: the load generator fell behind the offered rate\n",
                       b.ntx - b.accepted - b.rejected);
            if (poll_fail > 0)
                printf("  %zu polls of node0 failed (RPC timeout under load)\n", poll_fail);
            printf("sustained: %zu committed in %.3f s (first submission to last commit) = %.0f "
                   "TPS\n",
                   b.committed, secs, tps);
            printf("finality (submission to commit seen on node0): p50 %.3f s, p99 %.3f s over "
                   "%zu transfers\n",
                   p50, p99, nlat);
            if (bpt >= 0) {
                double avg = 0;
                for (k = 0; k < b.ntx; k++)
                    avg += (double)b.rawlen[k];
                avg = b.ntx ? avg / (double)b.ntx : 0;
                printf("p2p bytes sent per committed transfer (all 4 nodes, kernel socket "
                       "counters): %.0f = %.2f x the %.0f-byte transaction (each of the 3 other "
                       "validators needs it once: 3.00 is the floor for bodies alone)\n",
                       bpt, avg > 0 ? bpt / avg : 0, avg);
            } else
                printf("p2p bytes sent per transfer: unknown (ss -tin unavailable)\n");
            printf("CPU per node over %.1f s (%% of one core): %.0f %.0f %.0f %.0f; the load "
                   "generator (this process): %.0f\n",
                   wall, cpu[0], cpu[1], cpu[2], cpu[3], gen);
        }
    }
out:
    if (err != QCN_OK)
        fprintf(stderr, "bench net: %s\n", qcn_err_str(err));
    qcn_rpc_client_free(rc);
    stop_all(&b);
    if (b.raw != NULL)
        for (k = 0; k < b.ntx; k++)
            free(b.raw[k]);
    free(b.raw);
    free(b.rawlen);
    free(b.hash);
    free(b.sub_ns);
    free(b.fin_ns);
    free(b.table);
    free(b.keys);
    free(lat);
    pthread_mutex_destroy(&b.mu);
    if (b.keep)
        fprintf(stderr, "bench net: kept %s (node logs in node*/node.log)\n", b.tmp);
    else if (b.tmp[0] != '\0' && strncmp(b.tmp, "/tmp/qcn-bench-net-", 19) == 0) {
        int n = snprintf(cmd, sizeof cmd, "rm -rf %s", b.tmp);
        if (n > 0 && (size_t)n < sizeof cmd && system(cmd) != 0)
            fprintf(stderr, "bench net: could not remove %s\n", b.tmp);
    }
    return err == QCN_OK ? QCN_EXIT_OK : QCN_EXIT_NO;
}
