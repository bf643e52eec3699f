/* qcn testnet: a local N-validator network on 127.0.0.1.
 *   qcn testnet init --validators N --dir D [--chain-id ID] [--base-port P]
 *                    [--stake COINS] [--beacon-length L] [--beacon.entropy PATH]
 *                    [--password-file F] [--fund-keys K] [--epoch-length E]
 *   qcn testnet run --dir D [--no-restart]
 *   qcn testnet status --dir D [--json] [--peers]
 * Layout and settings: docs/consensus.md §9. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "chain/staking.h"
#include "cli/bench_util.h"
#include "cli/cli.h"
#include "codec/tx.h"
#include "consensus/beacon.h"
#include "consensus/valset.h"
#include "crypto/mldsa.h"
#include "crypto/rng.h"
#include "util/hex.h"
#include "util/mem.h"
#include "wallet/keystore.h"
#include "wallet/rpcclient.h"

#define TN_MAX_VALIDATORS 64
#define TN_PATH 1024
#define TN_DEFAULT_BASE_PORT 30300u
#define TN_DEFAULT_CHAIN_ID 4242u
#define TN_DEFAULT_STAKE 10000u
#define TN_DEFAULT_BEACON_LENGTH 100000u
#define TN_MAX_RESTARTS 5
#define TN_PASSWORD_MAX 1024
#define TN_MAX_FUND_KEYS 100000u /* load keys funded by --fund-keys */

static uint64_t tn_default_epoch(void)
{
    struct qcn_staking_params p;
    qcn_staking_params_default(&p);
    return p.epoch_length;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: qcn testnet init --validators N --dir D [--chain-id ID] [--base-port P]\n"
            "                        [--stake COINS] [--beacon-length L]\n"
            "                        [--beacon.entropy PATH] [--password-file F]\n"
            "                        [--fund-keys K] [--epoch-length E]\n"
            "       qcn testnet run --dir D [--no-restart]\n"
            "       qcn testnet status --dir D [--json] [--peers]\n"
            "  init    keys, genesis, validator set and configs for N nodes on 127.0.0.1\n"
            "          (node i: p2p port P+2i, RPC port P+2i+1; default P = %u)\n"
            "          --fund-keys K: also fund the K public load keys of `qcn bench`\n"
            "          (cli/bench_util.h; keys recorded at genesis) - test networks only\n"
            "          --epoch-length E: staking epoch in blocks (genesis \"staking\";\n"
            "          default %llu): the validator set changes every E blocks\n"
            "  run     start and supervise the N `qcn node` processes until Ctrl-C\n"
            "  status  height, head hash, round and peer count of every node (over its\n"
            "          RPC); --peers lists each node's peers (node id, address)\n",
            TN_DEFAULT_BASE_PORT, (unsigned long long)tn_default_epoch());
}

static int write_file(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    const uint8_t *b = p;
    if (fd < 0)
        return QCN_ERR_IO;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            close(fd);
            return QCN_ERR_IO;
        }
        b += k;
        n -= (size_t)k;
    }
    if (fsync(fd) != 0) {
        close(fd);
        return QCN_ERR_IO;
    }
    return close(fd) == 0 ? QCN_OK : QCN_ERR_IO;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    *out = strtoull(s, &end, 10);
    return (errno != 0 || *end != '\0') ? -1 : 0;
}

static int node_dir(char *out, size_t cap, const char *dir, int i)
{
    int n = snprintf(out, cap, "%s/node%d", dir, i);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int read_password(const char *path, char *out, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL)
        return -1;
    n = fread(out, 1, cap - 1, f);
    fclose(f);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    out[n] = '\0';
    *len = n;
    return n > 0 ? 0 : -1;
}

struct tn_val {
    uint8_t seed[32];
    uint8_t pk[QCN_VOTE_PK_BYTES];
    uint8_t address[QCN_ADDRESS_BYTES];
    uint8_t beacon_seed[32];
    uint8_t tip[32];
};

static int tn_init(int argc, char **argv)
{
    const char *dir = NULL, *entropy = NULL, *pwfile = NULL;
    uint64_t n = 0, chain_id = TN_DEFAULT_CHAIN_ID, base = TN_DEFAULT_BASE_PORT,
             stake = TN_DEFAULT_STAKE, blen = TN_DEFAULT_BEACON_LENGTH, nfund = 0,
             epoch = tn_default_epoch();
    struct tn_val *v = NULL;
    struct qcn_valset vs;
    struct qcn_buf b;
    char path[TN_PATH + 64], nd[TN_PATH], pw[TN_PASSWORD_MAX], *hex = NULL, absdir[TN_PATH - 16];
    size_t pwlen = 0;
    uint64_t i;
    int a, ret = QCN_EXIT_USAGE, err;
    uint8_t sk[QCN_VOTE_SK_BYTES];

    for (a = 0; a < argc; a++) {
        const char *o = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(o, "--help") == 0) {
            usage(stdout);
            return QCN_EXIT_OK;
        }
        if (val == NULL)
            return qcn_cli_usage_error("testnet", "%s needs a value (or is unknown)", o);
        a++;
        if (strcmp(o, "--dir") == 0)
            dir = val;
        else if (strcmp(o, "--validators") == 0 && parse_u64(val, &n) == 0)
            ;
        else if (strcmp(o, "--chain-id") == 0 && parse_u64(val, &chain_id) == 0)
            ;
        else if (strcmp(o, "--base-port") == 0 && parse_u64(val, &base) == 0)
            ;
        else if (strcmp(o, "--stake") == 0 && parse_u64(val, &stake) == 0)
            ;
        else if (strcmp(o, "--beacon-length") == 0 && parse_u64(val, &blen) == 0)
            ;
        else if (strcmp(o, "--fund-keys") == 0 && parse_u64(val, &nfund) == 0 &&
                 nfund <= TN_MAX_FUND_KEYS)
            ;
        else if (strcmp(o, "--epoch-length") == 0 && parse_u64(val, &epoch) == 0 && epoch >= 1 &&
                 epoch <= QCN_STAKING_MAX_PERIOD)
            ;
        else if (strcmp(o, "--beacon.entropy") == 0)
            entropy = val;
        else if (strcmp(o, "--password-file") == 0)
            pwfile = val;
        else
            return qcn_cli_usage_error("testnet", "bad option or value: %s %s", o, val);
    }
    if (dir == NULL || n < 1 || n > TN_MAX_VALIDATORS)
        return qcn_cli_usage_error("testnet", "init needs --dir and --validators 1..%d",
                                   TN_MAX_VALIDATORS);
    if (chain_id == 0 || base < 1024 || base + 2 * n > 65535 || stake == 0 ||
        stake > UINT64_MAX / QCN_STAKING_GWEI_PER_COIN || blen == 0 || blen > (1u << 24))
        return qcn_cli_usage_error("testnet", "a setting is out of range");
    if (pwfile && read_password(pwfile, pw, sizeof pw, &pwlen) != 0)
        return qcn_cli_usage_error("testnet", "cannot read a password from %s", pwfile);
    if (mkdir(dir, 0700) != 0)
        return qcn_cli_usage_error("testnet", "cannot create %s (%s): it must not exist", dir,
                                   strerror(errno));
    /* Absolute paths in the configs: nodes may run from anywhere. */
    {
        char *rp = realpath(dir, NULL);
        if (rp == NULL || strlen(rp) >= sizeof absdir) {
            free(rp);
            return qcn_cli_usage_error("testnet", "%s: cannot resolve (or too long)", dir);
        }
        memcpy(absdir, rp, strlen(rp) + 1);
        free(rp);
        dir = absdir;
    }
    v = calloc(n, sizeof *v);
    qcn_valset_init(&vs);
    qcn_buf_init(&b, 64u * 1024u * 1024u);
    if (v == NULL)
        goto io;
    ret = QCN_EXIT_NO;

    /* Keys and beacon chains. */
    for (i = 0; i < n; i++) {
        struct qcn_beacon_chain ch;
        qcn_rng_bytes(v[i].seed, 32);
        if (qcn_mldsa_keygen(QCN_MLDSA65, v[i].pk, sk, v[i].seed) != QCN_OK)
            goto io;
        qcn_wipe(sk, sizeof sk);
        qcn_address_from_key(v[i].address, QCN_SCHEME_MLDSA65, v[i].pk, QCN_VOTE_PK_BYTES);
        if ((err = qcn_beacon_seed(v[i].beacon_seed, entropy)) != QCN_OK) {
            fprintf(stderr, "qcn testnet: reading --beacon.entropy %s: %s\n", entropy,
                    qcn_err_str(err));
            goto out;
        }
        if (qcn_beacon_chain_init(&ch, v[i].beacon_seed, blen) != QCN_OK)
            goto io;
        memcpy(v[i].tip, ch.tip, 32);
        qcn_beacon_chain_clear(&ch);
        if (qcn_valset_add(&vs, v[i].pk, stake, v[i].tip) != QCN_OK)
            goto io;
    }
    /* The validator set (RLP, hex) shared by every node. */
    if (qcn_valset_encode(&b, &vs) != QCN_OK)
        goto io;
    hex = malloc(2 * b.len + 2);
    if (hex == NULL)
        goto io;
    qcn_hex_encode(hex, b.p, b.len);
    hex[2 * b.len] = '\n';
    snprintf(path, sizeof path, "%s/validators.hex", dir);
    if (write_file(path, hex, 2 * b.len + 1, 0644) != QCN_OK)
        goto io;

    /* The ledger genesis: every validator's account funded (it pays the
     * gas of the evidence transactions its node sends, docs/consensus.md
     * §6), and the validators staked at genesis with their power as self
     * stake, so that staking decides the set from block 1. */
    {
        json_t *g = json_object(), *alloc = json_object(), *vals = json_array(),
               *stk = json_object();
        struct qcn_staking_params sp;
        char *txt, *vpk = malloc(2 + 2 * QCN_VOTE_PK_BYTES + 1);
        if (vpk == NULL) {
            json_decref(g);
            json_decref(alloc);
            json_decref(vals);
            json_decref(stk);
            goto io;
        }
        qcn_staking_params_default(&sp);
        json_object_set_new(stk, "epoch_length", json_integer((json_int_t)epoch));
        /* A small --stake still makes a valid set: the minimum follows it. */
        if (stake * QCN_STAKING_GWEI_PER_COIN < sp.min_self_stake)
            json_object_set_new(stk, "min_self_stake_gwei",
                                json_integer((json_int_t)(stake * QCN_STAKING_GWEI_PER_COIN)));
        json_object_set_new(g, "staking", stk);
        for (i = 0; i < n; i++) {
            char tx[2 + 64 + 1];
            vpk[0] = tx[0] = '0';
            vpk[1] = tx[1] = 'x';
            qcn_hex_encode(vpk + 2, v[i].pk, QCN_VOTE_PK_BYTES);
            qcn_hex_encode(tx + 2, v[i].tip, 32);
            json_array_append_new(vals, json_pack("{s:s,s:I,s:s}", "public_key", vpk, "power",
                                                  (json_int_t)stake, "beacon_tip", tx));
        }
        free(vpk);
        json_object_set_new(g, "validators", vals);
        json_object_set_new(g, "chain_id", json_integer((json_int_t)chain_id));
        json_object_set_new(g, "gas_limit", json_integer(2000000000));
        json_object_set_new(g, "base_fee", json_string("1000000000"));
        json_object_set_new(g, "extra", json_string("0x716e632d746573746e6574"));
        for (i = 0; i < n; i++) {
            char ax[2 + 2 * QCN_ADDRESS_BYTES + 1];
            ax[0] = '0';
            ax[1] = 'x';
            qcn_hex_encode(ax + 2, v[i].address, QCN_ADDRESS_BYTES);
            json_object_set_new(alloc, ax,
                                json_pack("{s:s}", "balance", "1000000000000000000000000"));
        }
        /* Load keys for `qcn bench net`: public, deterministic keys (see
         * cli/bench_util.h), their public keys recorded so that transfers
         * may omit them. */
        if (nfund > 0) {
            struct qcn_dev_key *lk = calloc(1, sizeof *lk);
            char *pkx = malloc(2 + 2 * QCN_MLDSA65_PK_BYTES + 1);
            err = lk != NULL && pkx != NULL ? QCN_OK : QCN_ERR_NOMEM;
            for (i = 0; i < nfund && err == QCN_OK; i++) {
                char ax[2 + 2 * QCN_ADDRESS_BYTES + 1];
                err = qcn_bench_keys_derive_one(lk, (size_t)i);
                if (err != QCN_OK)
                    break;
                ax[0] = pkx[0] = '0';
                ax[1] = pkx[1] = 'x';
                qcn_hex_encode(ax + 2, lk->address, QCN_ADDRESS_BYTES);
                qcn_hex_encode(pkx + 2, lk->pk, QCN_MLDSA65_PK_BYTES);
                json_object_set_new(alloc, ax,
                                    json_pack("{s:s,s:s,s:s}", "balance",
                                              "1000000000000000000000000", "scheme", "ml-dsa-65",
                                              "public_key", pkx));
            }
            if (lk != NULL)
                qcn_wipe(lk, sizeof *lk);
            free(lk);
            free(pkx);
            if (err != QCN_OK) {
                json_decref(g);
                json_decref(alloc);
                goto io;
            }
        }
        json_object_set_new(g, "alloc", alloc);
        txt = json_dumps(g, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(g);
        snprintf(path, sizeof path, "%s/genesis.json", dir);
        err = txt ? write_file(path, txt, strlen(txt), 0644) : QCN_ERR_NOMEM;
        free(txt);
        if (err != QCN_OK)
            goto io;
    }

    /* Per node: data directory (initialised from the genesis), key, beacon
     * seed, configs. */
    for (i = 0; i < n; i++) {
        char gen[TN_PATH], line[4096], sx[65];
        char *iargv[6];
        FILE *f;
        uint64_t j;
        int first;
        if (node_dir(nd, sizeof nd, dir, (int)i) != 0 || mkdir(nd, 0700) != 0)
            goto io;
        snprintf(gen, sizeof gen, "%s/genesis.json", dir);
        iargv[0] = (char *)"init";
        iargv[1] = (char *)"--genesis";
        iargv[2] = gen;
        iargv[3] = (char *)"--datadir";
        iargv[4] = nd;
        iargv[5] = NULL;
        if (qcn_cmd_init(5, iargv) != QCN_EXIT_OK)
            goto out;
        if (pwfile) {
            struct qcn_wallet_key *k = qcn_wallet_key_new();
            struct qcn_kdf_params kdf;
            snprintf(path, sizeof path, "%s/keystore", nd);
            err = k == NULL ? QCN_ERR_NOMEM : qcn_kdf_params_default(&kdf);
            if (err == QCN_OK)
                err = qcn_wallet_key_from_seed(k, QCN_SCHEME_MLDSA65, v[i].seed, NULL);
            if (err == QCN_OK)
                err = qcn_keystore_dir_create(path);
            if (err == QCN_OK)
                err = qcn_keystore_save(path, "validator", k, pw, pwlen, &kdf);
            qcn_wallet_key_free(k);
            if (err != QCN_OK)
                goto io;
        } else {
            qcn_hex_encode(sx, v[i].seed, 32);
            snprintf(line, sizeof line,
                     "# QCN TEST VALIDATOR KEY - UNENCRYPTED - LOCAL TESTNETS ONLY\n"
                     "# ML-DSA-65 seed of validator 0x");
            qcn_hex_encode(line + strlen(line), v[i].address, QCN_ADDRESS_BYTES);
            snprintf(line + strlen(line), sizeof line - strlen(line), "\n%s\n", sx);
            qcn_wipe(sx, sizeof sx);
            snprintf(path, sizeof path, "%s/validator.testkey", nd);
            err = write_file(path, line, strlen(line), 0600);
            qcn_wipe(line, sizeof line);
            if (err != QCN_OK)
                goto io;
        }
        qcn_hex_encode(sx, v[i].beacon_seed, 32);
        snprintf(line, sizeof line,
                 "# beacon hash-chain seed (secret until revealed; docs/consensus.md §4)\n%s\n",
                 sx);
        qcn_wipe(sx, sizeof sx);
        snprintf(path, sizeof path, "%s/beacon.seed", nd);
        err = write_file(path, line, strlen(line), 0600);
        qcn_wipe(line, sizeof line);
        if (err != QCN_OK)
            goto io;

        snprintf(path, sizeof path, "%s/qcn.conf", nd);
        f = fopen(path, "wx");
        if (f == NULL)
            goto io;
        fprintf(f, "# written by qcn testnet init: validator %llu of %llu\n", (unsigned long long)i,
                (unsigned long long)n);
        fprintf(f, "engine = pos\n");
        fprintf(f, "rpc.addr = 127.0.0.1:%llu\n", (unsigned long long)(base + 2 * i + 1));
        fprintf(f, "p2p.listen = 127.0.0.1:%llu\n", (unsigned long long)(base + 2 * i));
        fprintf(f, "p2p.bootnodes = ");
        for (j = 0, first = 1; j < n; j++) {
            if (j == i)
                continue;
            fprintf(f, "%s127.0.0.1:%llu", first ? "" : ",", (unsigned long long)(base + 2 * j));
            first = 0;
        }
        fprintf(f, "\n");
        if (fclose(f) != 0)
            goto io;
        snprintf(path, sizeof path, "%s/consensus.conf", nd);
        f = fopen(path, "wx");
        if (f == NULL)
            goto io;
        fprintf(f,
                "# pos engine settings (docs/consensus.md §8-9), read by the node's pos wiring\n"
                "pos.chain_id = %llu\n"
                "pos.validators = %s/validators.hex\n"
                "pos.validator_key = %s/%s\n"
                "pos.beacon_seed = %s/beacon.seed\n"
                "pos.beacon_length = %llu\n"
                "pos.wal = %s/consensus.wal\n"
                "pos.block_interval_ms = 1000\n",
                (unsigned long long)chain_id, dir, nd,
                pwfile ? "keystore/validator.key" : "validator.testkey", nd,
                (unsigned long long)blen, nd);
        if (fclose(f) != 0)
            goto io;
    }
    printf("testnet of %llu validators in %s (chain id %llu); validators:\n", (unsigned long long)n,
           dir, (unsigned long long)chain_id);
    for (i = 0; i < vs.n; i++) {
        char ax[41];
        qcn_hex_encode(ax, vs.v[i].address, QCN_ADDRESS_BYTES);
        printf("  0x%s  power %llu\n", ax, (unsigned long long)vs.v[i].power);
    }
    if (!pwfile)
        printf("keys are UNENCRYPTED test keys (validator.testkey); use --password-file to "
               "encrypt them\n");
    ret = QCN_EXIT_OK;
    goto out;
io:
    fprintf(stderr, "qcn testnet: init failed (%s)\n", strerror(errno));
    ret = QCN_EXIT_NO;
out:
    if (v) {
        qcn_wipe(v, n * sizeof *v);
        free(v);
    }
    qcn_wipe(pw, sizeof pw);
    free(hex);
    qcn_buf_clear(&b);
    qcn_valset_clear(&vs);
    return ret;
}

/* ---- run ---- */

static volatile sig_atomic_t tn_stop;

static void on_signal(int sig)
{
    (void)sig;
    tn_stop = 1;
}

static pid_t spawn(const char *self, const char *nd)
{
    char log[TN_PATH];
    pid_t pid;
    snprintf(log, sizeof log, "%s/node.log", nd);
    pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        char *args[5];
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        args[0] = (char *)"qcn";
        args[1] = (char *)"node";
        args[2] = (char *)"--datadir";
        args[3] = (char *)nd;
        args[4] = NULL;
        execv(self, args);
        _exit(127);
    }
    return pid;
}

static void write_pid(const char *nd, pid_t pid)
{
    char path[TN_PATH];
    FILE *f;
    snprintf(path, sizeof path, "%s/node.pid", nd);
    f = fopen(path, "w");
    if (f) {
        fprintf(f, "%ld\n", (long)pid);
        fclose(f);
    }
}

static int count_nodes(const char *dir)
{
    char nd[TN_PATH];
    struct stat st;
    int n = 0;
    while (n < TN_MAX_VALIDATORS && node_dir(nd, sizeof nd, dir, n) == 0 && stat(nd, &st) == 0)
        n++;
    return n;
}

static int tn_run(int argc, char **argv)
{
    const char *dir = NULL;
    char self[TN_PATH], nd[TN_PATH];
    pid_t pids[TN_MAX_VALIDATORS];
    int restarts[TN_MAX_VALIDATORS], n, i, a, restart = 1, alive;
    ssize_t sl;
    struct sigaction sa;

    for (a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc)
            dir = argv[++a];
        else if (strcmp(argv[a], "--no-restart") == 0)
            restart = 0;
        else
            return qcn_cli_usage_error("testnet", "run: unknown option %s", argv[a]);
    }
    if (dir == NULL)
        return qcn_cli_usage_error("testnet", "run needs --dir");
    n = count_nodes(dir);
    if (n == 0)
        return qcn_cli_usage_error("testnet", "no node0 in %s: run qcn testnet init first", dir);
    sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        return QCN_EXIT_NO;
    self[sl] = '\0';
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (i = 0; i < n; i++) {
        restarts[i] = 0;
        if (node_dir(nd, sizeof nd, dir, i) != 0)
            return QCN_EXIT_NO;
        pids[i] = spawn(self, nd);
        write_pid(nd, pids[i]);
        printf("node%d: pid %ld, log %s/node.log\n", i, (long)pids[i], nd);
    }
    fflush(stdout);
    while (!tn_stop) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0) {
            for (i = 0; i < n; i++) {
                if (pids[i] != p)
                    continue;
                fprintf(stderr, "node%d (pid %ld) exited (%s %d)\n", i, (long)p,
                        WIFSIGNALED(status) ? "signal" : "status",
                        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                pids[i] = 0;
                if (restart && restarts[i] < TN_MAX_RESTARTS &&
                    node_dir(nd, sizeof nd, dir, i) == 0) {
                    nanosleep(&(struct timespec){1, 0}, NULL);
                    restarts[i]++;
                    pids[i] = spawn(self, nd);
                    write_pid(nd, pids[i]);
                    fprintf(stderr, "node%d restarted (pid %ld)\n", i, (long)pids[i]);
                }
            }
            continue;
        }
        for (i = 0, alive = 0; i < n; i++)
            alive += pids[i] > 0;
        if (alive == 0)
            break;
        nanosleep(&ts, NULL);
    }
    /* Stop: SIGTERM (the node shuts down cleanly), SIGKILL after 15 s. */
    for (i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (a = 0; a < 75; a++) {
        for (i = 0, alive = 0; i < n; i++) {
            if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == pids[i])
                pids[i] = 0;
            alive += pids[i] > 0;
        }
        if (alive == 0)
            break;
        nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    }
    for (i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
    return QCN_EXIT_OK;
}

/* ---- status ---- */

static int conf_value(const char *nd, const char *key, char *out, size_t cap)
{
    char path[TN_PATH + 64], line[1024];
    size_t kl = strlen(key);
    FILE *f;
    snprintf(path, sizeof path, "%s/qcn.conf", nd);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        if (strncmp(p, key, kl) != 0)
            continue;
        p += kl;
        while (*p == ' ' || *p == '=')
            p++;
        p[strcspn(p, "\r\n")] = '\0';
        fclose(f);
        if (strlen(p) >= cap)
            return -1;
        memcpy(out, p, strlen(p) + 1);
        return 0;
    }
    fclose(f);
    return -1;
}

static int tn_status(int argc, char **argv)
{
    const char *dir = NULL;
    char nd[TN_PATH], addr[256], url[300];
    json_t *all;
    int n, i, a, as_json = 0, list_peers = 0, reachable = 0;

    for (a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc)
            dir = argv[++a];
        else if (strcmp(argv[a], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[a], "--peers") == 0)
            list_peers = 1;
        else
            return qcn_cli_usage_error("testnet", "status: unknown option %s", argv[a]);
    }
    if (dir == NULL)
        return qcn_cli_usage_error("testnet", "status needs --dir");
    n = count_nodes(dir);
    all = json_array();
    if (!as_json)
        printf("%-6s %-22s %8s %-68s %6s %6s\n", "node", "rpc", "height", "head", "round", "peers");
    for (i = 0; i < n; i++) {
        struct qcn_rpc_client *c;
        json_t *row = json_object(), *res = NULL;
        uint64_t height = 0, peers = 0;
        json_t *p2p = NULL;
        long long rnd = -1;
        int have_h = 0, have_p = 0;
        const char *hash = "-";
        char round[32] = "-";
        if (node_dir(nd, sizeof nd, dir, i) != 0 || conf_value(nd, "rpc.addr", addr, sizeof addr))
            snprintf(addr, sizeof addr, "?");
        snprintf(url, sizeof url, "http://%s", addr);
        c = qcn_rpc_client_new(url, 2000);
        if (c && qcn_rpc_client_u64(c, &height, "eth_blockNumber", NULL) == QCN_OK) {
            have_h = 1;
            reachable++;
            if (qcn_rpc_client_call(c, &res, "eth_getBlockByNumber",
                                    json_pack("[sb]", "latest", 0)) == QCN_OK &&
                json_is_object(res) && json_is_string(json_object_get(res, "hash")))
                hash = json_string_value(json_object_get(res, "hash"));
            if (qcn_rpc_client_u64(c, &peers, "net_peerCount", NULL) == QCN_OK)
                have_p = 1;
            /* the peers' node ids and addresses (qcn_peers), for --json and --peers */
            if (qcn_rpc_client_call(c, &p2p, "qcn_peers", NULL) != QCN_OK || !json_is_object(p2p)) {
                json_decref(p2p);
                p2p = NULL;
            }
            {
                json_t *st = NULL;
                if (qcn_rpc_client_call(c, &st, "qcn_consensusStatus", NULL) == QCN_OK &&
                    json_is_object(st) && json_is_integer(json_object_get(st, "round"))) {
                    rnd = (long long)json_integer_value(json_object_get(st, "round"));
                    snprintf(round, sizeof round, "%lld", rnd);
                }
                json_decref(st);
            }
        }
        json_object_set_new(row, "node", json_integer(i));
        json_object_set_new(row, "rpc", json_string(addr));
        json_object_set_new(row, "up", json_boolean(have_h));
        if (have_h) {
            json_object_set_new(row, "height", json_integer((json_int_t)height));
            json_object_set_new(row, "head", json_string(hash));
        }
        if (rnd >= 0)
            json_object_set_new(row, "round", json_integer((json_int_t)rnd));
        if (have_p)
            json_object_set_new(row, "peers", json_integer((json_int_t)peers));
        if (p2p != NULL) {
            json_t *list = json_array(), *pl = json_object_get(p2p, "peers");
            size_t k;
            for (k = 0; list != NULL && k < json_array_size(pl); k++) {
                json_t *pe = json_array_get(pl, k);
                json_array_append_new(
                    list, json_pack("{s:O?,s:O?,s:b}", "nodeId", json_object_get(pe, "nodeId"),
                                    "addr", json_object_get(pe, "addr"), "partitioned",
                                    json_is_true(json_object_get(pe, "partitioned"))));
            }
            json_object_set(row, "nodeId", json_object_get(p2p, "nodeId"));
            if (list != NULL)
                json_object_set_new(row, "peerList", list);
        }
        if (!as_json) {
            char hs[32] = "down", ps[32] = "-";
            if (have_h)
                snprintf(hs, sizeof hs, "%llu", (unsigned long long)height);
            if (have_p)
                snprintf(ps, sizeof ps, "%llu", (unsigned long long)peers);
            printf("node%-2d %-22s %8s %-68s %6s %6s\n", i, addr, hs, have_h ? hash : "-", round,
                   ps);
            if (list_peers && p2p != NULL) {
                json_t *pl = json_object_get(p2p, "peers");
                size_t k;
                for (k = 0; k < json_array_size(pl); k++) {
                    json_t *pe = json_array_get(pl, k);
                    const char *pid = json_string_value(json_object_get(pe, "nodeId"));
                    const char *pad = json_string_value(json_object_get(pe, "addr"));
                    printf("       peer %s %-22s %s height %lld%s\n", pid ? pid : "?",
                           pad ? pad : "?",
                           json_is_true(json_object_get(pe, "inbound")) ? "in " : "out",
                           (long long)json_integer_value(json_object_get(pe, "height")),
                           json_is_true(json_object_get(pe, "partitioned")) ? " (cut off)" : "");
                }
            }
        }
        json_array_append_new(all, row);
        json_decref(res);
        json_decref(p2p);
        qcn_rpc_client_free(c);
    }
    if (as_json) {
        char *s = json_dumps(all, JSON_COMPACT);
        if (s)
            printf("%s\n", s);
        free(s);
    }
    json_decref(all);
    return reachable == n && n > 0 ? QCN_EXIT_OK : QCN_EXIT_NO;
}

int qcn_cmd_testnet(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? QCN_EXIT_USAGE : QCN_EXIT_OK;
    }
    if (strcmp(argv[1], "init") == 0)
        return tn_init(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return tn_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "status") == 0)
        return tn_status(argc - 2, argv + 2);
    return qcn_cli_usage_error("testnet", "unknown subcommand %s", argv[1]);
}
