/*
 * respond_fw.c - the firewall helper process and its narrow protocol.
 * respond_fw.h says what it does and why it is a separate process.
 *
 * Protocol (SOCK_SEQPACKET, one message each way, fixed sizes):
 *   request: magic, op (add / delete / test), family (4 or 6), 16 address
 *            bytes (IPv4 in the first 4, the rest zero), timeout in seconds
 *            (add only; 0 otherwise);
 *   answer:  a negative errno or 0 (test: 1 when present), and a message.
 * The first answer, sent before any request, is the result of the setup.
 */
#include "respond/respond_fw.h"
#include "util/priv.h"
#include "respond/respond_never.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FW_MAGIC 0x57464b48u /* "HKFW" */
#define FW_ANSWER_WAIT_MS 5000
#define FW_STOP_WAIT_MS 2000
#define FW_CMD_MAX 512

enum fw_op {
    FW_OP_ADD = RESPOND_FW_OP_ADD,
    FW_OP_DEL = RESPOND_FW_OP_DEL,
    FW_OP_TEST = RESPOND_FW_OP_TEST,
};

struct fw_req {
    uint32_t magic;
    uint8_t op;
    uint8_t family; /* 4 or 6 */
    uint8_t pad[2]; /* zero */
    uint8_t addr[16];
    uint32_t timeout_s;
};

struct fw_ans {
    int32_t err;
    char msg[480]; /* NUL-terminated, printable */
};

_Static_assert(sizeof(struct fw_req) == RESPOND_FW_REQUEST_SIZE, "request layout");

struct respond_fw {
    int sock;
    pid_t pid;
    int dead; /* the helper stopped answering */
    struct respond_fw_conf conf;
    struct respond_never never; /* the helper's own copy; conf.never points here */
};

/* ---- names and requests -------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n = strnlen(s, RESPOND_FW_NAME_MAX);

    if (n == 0 || n >= RESPOND_FW_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* The conf with its defaults filled in. */
static void conf_norm(const struct respond_fw_conf *in, struct respond_fw_conf *out)
{
    *out = *in;
    if (!out->family[0])
        snprintf(out->family, sizeof(out->family), "inet");
    if (!out->table[0])
        snprintf(out->table, sizeof(out->table), "hikeshi");
    if (!out->set4[0])
        snprintf(out->set4, sizeof(out->set4), "block4");
    if (!out->set6[0])
        snprintf(out->set6, sizeof(out->set6), "block6");
}

int respond_fw_conf_check(const struct respond_fw_conf *c, const char **reterr_why)
{
    struct respond_fw_conf n;
    const char *why = NULL;

    if (!c) {
        why = "no firewall configuration";
    } else {
        /* The fields must be terminated within their arrays. */
        if (!memchr(c->family, '\0', sizeof(c->family)) ||
            !memchr(c->table, '\0', sizeof(c->table)) || !memchr(c->set4, '\0', sizeof(c->set4)) ||
            !memchr(c->set6, '\0', sizeof(c->set6))) {
            why = "a firewall name is not terminated";
        } else {
            conf_norm(c, &n);
            if (strcmp(n.family, "inet") != 0 && strcmp(n.family, "ip") != 0 &&
                strcmp(n.family, "ip6") != 0)
                why = "family must be inet, ip or ip6";
            else if (!name_ok(n.table) || !name_ok(n.set4) || !name_ok(n.set6))
                why = "table and set names may hold only letters, digits and _, not first a digit";
            else if (strcmp(n.set4, n.set6) == 0)
                why = "set4 and set6 must differ";
        }
    }
    if (reterr_why)
        *reterr_why = why;
    return why ? -EINVAL : 0;
}

static int family_allowed(const struct respond_fw_conf *c, int family)
{
    if (strcmp(c->family, "ip") == 0)
        return family == 4;
    if (strcmp(c->family, "ip6") == 0)
        return family == 6;
    return family == 4 || family == 6;
}

int respond_fw_request_render(const struct respond_fw_conf *c, const void *req, size_t len,
                              char *cmd, size_t cmdlen, const char **reterr_why)
{
    struct respond_fw_conf n;
    struct fw_req q;
    char addr[INET6_ADDRSTRLEN];
    const char *why = NULL, *set;
    int w;

    if (cmdlen)
        cmd[0] = '\0';
    if (respond_fw_conf_check(c, &why) < 0)
        goto out;
    conf_norm(c, &n);
    if (len != sizeof(q)) {
        why = "request of the wrong size";
        goto out;
    }
    memcpy(&q, req, sizeof(q));
    if (q.magic != FW_MAGIC) {
        why = "request with a bad magic number";
    } else if (q.op != FW_OP_ADD && q.op != FW_OP_DEL && q.op != FW_OP_TEST) {
        why = "unknown operation";
    } else if (q.family != 4 && q.family != 6) {
        why = "family is not 4 or 6";
    } else if (!family_allowed(&n, q.family)) {
        why = "address family not served by this table";
    } else if (q.pad[0] || q.pad[1]) {
        why = "padding is not zero";
    } else if (q.op == FW_OP_ADD && (q.timeout_s == 0 || q.timeout_s > RESPOND_FW_TIMEOUT_MAX_S)) {
        why = "timeout out of range";
    } else if (q.op != FW_OP_ADD && q.timeout_s != 0) {
        why = "timeout given for an operation without one";
    } else if (q.family == 4) {
        for (int i = 4; i < 16 && !why; i++)
            if (q.addr[i])
                why = "IPv4 request with bytes past the address";
    }
    if (why)
        goto out;
    if (!inet_ntop(q.family == 4 ? AF_INET : AF_INET6, q.addr, addr, sizeof(addr))) {
        why = "address does not print";
        goto out;
    }
    set = q.family == 4 ? n.set4 : n.set6;
    if (q.op == FW_OP_ADD)
        w = snprintf(cmd, cmdlen, "add element %s %s %s { %s timeout %us }", n.family, n.table,
                     set, addr, (unsigned)q.timeout_s);
    else
        w = snprintf(cmd, cmdlen, "%s element %s %s %s { %s }",
                     q.op == FW_OP_DEL ? "delete" : "get", n.family, n.table, set, addr);
    if (w < 0 || (size_t)w >= cmdlen)
        why = "command buffer too small";
out:
    if (why && cmdlen)
        cmd[0] = '\0';
    if (reterr_why)
        *reterr_why = why;
    return why ? -EINVAL : 0;
}

/* ---- the helper process ------------------------------------------------- */

/* nft's error text, cut to printable ASCII on one line. */
static void nft_msg(struct nft_ctx *ctx, char *out, size_t size)
{
    const char *e = nft_ctx_get_error_buffer(ctx);
    size_t j = 0;

    for (size_t i = 0; e && e[i] && j + 1 < size; i++) {
        unsigned char ch = (unsigned char)e[i];
        out[j++] = ch >= ' ' && ch <= '~' ? (char)ch : ' ';
    }
    while (j > 0 && out[j - 1] == ' ')
        j--;
    out[j] = '\0';
}

/* Runs `cmd`; 0, or -EPERM / -ENOENT / -EEXIST / -EIO from nft's message. */
static int nft_run(struct nft_ctx *ctx, const char *cmd, char *msg, size_t size)
{
    int rc = nft_run_cmd_from_buffer(ctx, cmd);

    msg[0] = '\0';
    if (rc == 0) {
        /* Drain the buffers for the next command. */
        (void)nft_ctx_get_output_buffer(ctx);
        (void)nft_ctx_get_error_buffer(ctx);
        return 0;
    }
    nft_msg(ctx, msg, size);
    (void)nft_ctx_get_output_buffer(ctx);
    if (strstr(msg, "Operation not permitted"))
        return -EPERM;
    if (strstr(msg, "No such file or directory"))
        return -ENOENT;
    if (strstr(msg, "File exists"))
        return -EEXIST;
    if (strstr(msg, "Operation not supported") || strstr(msg, "Protocol not supported"))
        return -EOPNOTSUPP;
    return -EIO;
}

/* Appends to cmd; the names were checked, so nothing is cut in practice. */
static void cat(char *cmd, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *cmd, size_t size, const char *fmt, ...)
{
    size_t n = strlen(cmd);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd + n, size - n, fmt, ap);
    va_end(ap);
}

static int helper_setup(struct nft_ctx *ctx, const struct respond_fw_conf *c, char *msg,
                        size_t size)
{
    char cmd[2048] = "";
    int v4 = family_allowed(c, 4), v6 = family_allowed(c, 6), r;

    if (!c->create) {
        if (v4) {
            snprintf(cmd, sizeof(cmd), "list set %s %s %s", c->family, c->table, c->set4);
            if ((r = nft_run(ctx, cmd, msg, size)) < 0)
                return r;
        }
        if (v6) {
            snprintf(cmd, sizeof(cmd), "list set %s %s %s", c->family, c->table, c->set6);
            if ((r = nft_run(ctx, cmd, msg, size)) < 0)
                return r;
        }
        return 0;
    }
    /* One buffer, one kernel transaction: a restart flushes and re-adds the
     * drop rules instead of adding them twice. */
    cat(cmd, sizeof(cmd), "add table %s %s\n", c->family, c->table);
    if (v4)
        cat(cmd, sizeof(cmd), "add set %s %s %s { type ipv4_addr; flags timeout; }\n", c->family,
            c->table, c->set4);
    if (v6)
        cat(cmd, sizeof(cmd), "add set %s %s %s { type ipv6_addr; flags timeout; }\n", c->family,
            c->table, c->set6);
    cat(cmd, sizeof(cmd),
        "add chain %s %s input { type filter hook input priority -10; policy accept; }\n",
        c->family, c->table);
    cat(cmd, sizeof(cmd), "flush chain %s %s input\n", c->family, c->table);
    /* Sessions already up survive a block (an administrator's SSH). */
    cat(cmd, sizeof(cmd), "add rule %s %s input ct state established,related accept\n", c->family,
        c->table);
    if (v4)
        cat(cmd, sizeof(cmd), "add rule %s %s input ip saddr @%s drop\n", c->family, c->table,
            c->set4);
    if (v6)
        cat(cmd, sizeof(cmd), "add rule %s %s input ip6 saddr @%s drop\n", c->family, c->table,
            c->set6);
    r = nft_run(ctx, cmd, msg, size);
    if (r == -EPERM) {
        /* Seen once on a fresh network namespace: the first ruleset with a
         * conntrack match was refused, the same batch a moment later
         * accepted.  One retry; a real lack of CAP_NET_ADMIN fails again. */
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        r = nft_run(ctx, cmd, msg, size);
    }
    return r;
}

static void answer(int sock, int err, const char *msg)
{
    struct fw_ans a;

    memset(&a, 0, sizeof(a));
    a.err = err;
    snprintf(a.msg, sizeof(a.msg), "%s", msg ? msg : "");
    (void)send(sock, &a, sizeof(a), MSG_NOSIGNAL);
}

int respond_fw_request_never(const struct respond_fw_conf *c, const void *req, size_t len,
                             const struct respond_never_src *host, char *why, size_t whylen)
{
    struct respond_never live;
    const struct respond_never_entry *e;
    struct asset_net a;
    struct fw_req q;
    char text[INET6_ADDRSTRLEN];
    int r;

    if (whylen)
        why[0] = '\0';
    if (!c || len != sizeof(q))
        return 0; /* refused by respond_fw_request_render */
    memcpy(&q, req, sizeof(q));
    if (q.op != FW_OP_ADD || (q.family != 4 && q.family != 6))
        return 0;
    memset(&a, 0, sizeof(a));
    a.family = q.family == 4 ? AF_INET : AF_INET6;
    a.prefix = q.family == 4 ? 32 : 128;
    memcpy(a.addr, q.addr, q.family == 4 ? 4 : 16);
    if (!inet_ntop(a.family, a.addr, text, sizeof(text)))
        snprintf(text, sizeof(text), "?");
    if ((e = respond_never_find(c->never, &a))) {
        snprintf(why, whylen, "the firewall helper refuses to block %s: %s", text, e->why);
        return 1;
    }
    /* Read now, not at fork: an address the host gained since counts. */
    respond_never_init(&live);
    r = respond_never_add_host(&live, host);
    if (r >= 0 && (e = respond_never_find(&live, &a))) {
        snprintf(why, whylen, "the firewall helper refuses to block %s: %s", text, e->why);
        r = 1;
    } else {
        r = r < 0 ? r : 0;
    }
    respond_never_done(&live);
    return r;
}

static void helper_serve(struct nft_ctx *ctx, const struct respond_fw_conf *c, int sock)
{
    for (;;) {
        unsigned char buf[sizeof(struct fw_req) + 1];
        char cmd[FW_CMD_MAX], msg[sizeof(((struct fw_ans *)0)->msg)];
        const char *why = NULL;
        struct fw_req q;
        ssize_t n = recv(sock, buf, sizeof(buf), 0);
        int r;

        if (n == 0)
            return; /* the daemon closed its end */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (respond_fw_request_render(c, buf, (size_t)n, cmd, sizeof(cmd), &why) < 0) {
            answer(sock, -EINVAL, why);
            continue;
        }
        if ((r = respond_fw_request_never(c, buf, (size_t)n, NULL, msg, sizeof(msg))) != 0) {
            answer(sock, r < 0 ? r : -EACCES, r < 0 ? "out of memory" : msg);
            continue;
        }
        memcpy(&q, buf, sizeof(q));
        if (q.op == FW_OP_ADD) {
            /* An element already there keeps its old timeout on add: take
             * it out first, so the new ban counts from now. */
            char del[FW_CMD_MAX];
            struct fw_req d = q;

            d.op = FW_OP_DEL;
            d.timeout_s = 0;
            if (respond_fw_request_render(c, &d, sizeof(d), del, sizeof(del), &why) < 0) {
                answer(sock, -EINVAL, why);
                continue;
            }
            r = nft_run(ctx, del, msg, sizeof(msg));
            if (r < 0 && r != -ENOENT) {
                answer(sock, r, msg);
                continue;
            }
            r = nft_run(ctx, cmd, msg, sizeof(msg));
        } else {
            r = nft_run(ctx, cmd, msg, sizeof(msg));
            if (q.op == FW_OP_TEST) {
                if (r == 0)
                    r = 1;
                else if (r == -ENOENT)
                    r = 0;
            }
        }
        answer(sock, r, r < 0 ? msg : "");
    }
}

static void helper_main(const struct respond_fw_conf *c, int sock, pid_t parent)
{
    struct nft_ctx *ctx;
    sigset_t none;
    char msg[sizeof(((struct fw_ans *)0)->msg)] = "";
    int r;

    /* The daemon blocks its signals for sigwait(); the helper must die
     * with it, so unblock them here. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(1);
    prctl(PR_SET_NAME, "hikeshi-fw");
    /* Only the socket (as 3) and stdio stay open. */
    if (sock != 3) {
        if (dup2(sock, 3) < 0)
            _exit(1);
        close(sock);
        sock = 3;
    }
    close_range(4, ~0U, 0);
    ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        answer(sock, -ENOMEM, "nftables context: out of memory");
        _exit(1);
    }
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    /* Least privilege before the first nft command: CAP_NET_ADMIN and
     * nothing else, as the daemon's unprivileged user when it starts as
     * root, with no_new_privs and a filter of its own. */
    if ((r = priv_confine_helper(priv_target(), priv_target_seccomp(), msg, sizeof(msg))) < 0) {
        answer(sock, r, msg);
        nft_ctx_free(ctx);
        _exit(1);
    }
    r = helper_setup(ctx, c, msg, sizeof(msg));
    answer(sock, r, msg);
    if (r == 0)
        helper_serve(ctx, c, sock);
    nft_ctx_free(ctx);
    _exit(r == 0 ? 0 : 1);
}

/* ---- the daemon's side -------------------------------------------------- */

static int recv_answer(struct respond_fw *fw, struct fw_ans *a, int wait_ms)
{
    struct pollfd p = {.fd = fw->sock, .events = POLLIN};
    ssize_t n;
    int pr;

    do
        pr = poll(&p, 1, wait_ms);
    while (pr < 0 && errno == EINTR);
    if (pr <= 0) {
        fw->dead = 1;
        return -EPIPE;
    }
    n = recv(fw->sock, a, sizeof(*a), 0);
    if (n != (ssize_t)sizeof(*a)) {
        fw->dead = 1;
        return -EPIPE;
    }
    a->msg[sizeof(a->msg) - 1] = '\0';
    return 0;
}

static void reap(pid_t pid)
{
    for (int i = 0; i < FW_STOP_WAIT_MS / 10; i++) {
        pid_t w = waitpid(pid, NULL, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            return;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int respond_fw_start(const struct respond_fw_conf *c, struct respond_fw **ret, char *errbuf,
                     size_t errlen)
{
    struct respond_fw *fw;
    struct fw_ans a;
    const char *why;
    int sv[2], r;
    pid_t parent = getpid(), pid;

    *ret = NULL;
    if (errlen)
        errbuf[0] = '\0';
    if (respond_fw_conf_check(c, &why) < 0) {
        snprintf(errbuf, errlen, "%s", why);
        return -EINVAL;
    }
    if (!(fw = calloc(1, sizeof(*fw)))) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    conf_norm(c, &fw->conf);
    /* The helper's own copy, so that nothing the daemon changes later
     * reaches it (it lives on in the child's memory after fork). */
    respond_never_init(&fw->never);
    for (size_t i = 0; c->never && i < c->never->n; i++) {
        if ((r = respond_never_add(&fw->never, &c->never->v[i].net, c->never->v[i].why)) < 0) {
            snprintf(errbuf, errlen, "the helper's never-block list: %s", strerror(-r));
            respond_never_done(&fw->never);
            free(fw);
            return r;
        }
    }
    fw->conf.never = &fw->never;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "socketpair: %s", strerror(-r));
        respond_never_done(&fw->never);
        free(fw);
        return r;
    }
    pid = fork();
    if (pid < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "fork: %s", strerror(-r));
        close(sv[0]);
        close(sv[1]);
        respond_never_done(&fw->never);
        free(fw);
        return r;
    }
    if (pid == 0) {
        close(sv[0]);
        helper_main(&fw->conf, sv[1], parent); /* never returns */
    }
    close(sv[1]);
    fw->sock = sv[0];
    fw->pid = pid;
    /* Setting up may take the kernel a moment; more than the per-request wait. */
    if ((r = recv_answer(fw, &a, 4 * FW_ANSWER_WAIT_MS)) < 0) {
        snprintf(errbuf, errlen, "the firewall helper did not answer");
    } else if (a.err < 0) {
        r = a.err;
        snprintf(errbuf, errlen, "%s %s %s: %s%s%s", r == -ENOENT && !fw->conf.create
                                                         ? "the sets of table"
                                                         : "setting up table",
                 fw->conf.family, fw->conf.table,
                 r == -EPERM ? "not permitted (hikeshi must run as root or with CAP_NET_ADMIN)"
                             : strerror(-r),
                 a.msg[0] ? "; nft: " : "", a.msg);
    }
    if (r < 0) {
        close(fw->sock);
        reap(fw->pid);
        respond_never_done(&fw->never);
        free(fw);
        return r;
    }
    *ret = fw;
    return 0;
}

static int request(struct respond_fw *fw, enum fw_op op, const char *address, uint32_t timeout_s,
                   char *errbuf, size_t errlen)
{
    struct fw_req q;
    struct fw_ans a;
    int r;

    if (errlen)
        errbuf[0] = '\0';
    if (!fw || !address) {
        snprintf(errbuf, errlen, "no firewall helper or no address");
        return -EINVAL;
    }
    if (fw->dead) {
        snprintf(errbuf, errlen, "the firewall helper is gone");
        return -EPIPE;
    }
    memset(&q, 0, sizeof(q));
    q.magic = FW_MAGIC;
    q.op = (uint8_t)op;
    q.timeout_s = op == FW_OP_ADD ? timeout_s : 0;
    if (inet_pton(AF_INET, address, q.addr) == 1) {
        q.family = 4;
    } else if (inet_pton(AF_INET6, address, q.addr) == 1) {
        q.family = 6;
    } else {
        snprintf(errbuf, errlen, "not an IPv4 or IPv6 address");
        return -EINVAL;
    }
    if (!family_allowed(&fw->conf, q.family)) {
        snprintf(errbuf, errlen, "an IPv%d address, but table %s %s is for the other family",
                 q.family, fw->conf.family, fw->conf.table);
        return -EINVAL;
    }
    if (op == FW_OP_ADD && (timeout_s == 0 || timeout_s > RESPOND_FW_TIMEOUT_MAX_S)) {
        snprintf(errbuf, errlen, "block time out of range");
        return -EINVAL;
    }
    if (send(fw->sock, &q, sizeof(q), MSG_NOSIGNAL) != (ssize_t)sizeof(q)) {
        fw->dead = 1;
        snprintf(errbuf, errlen, "the firewall helper is gone");
        return -EPIPE;
    }
    if ((r = recv_answer(fw, &a, FW_ANSWER_WAIT_MS)) < 0) {
        snprintf(errbuf, errlen, "the firewall helper did not answer");
        return r;
    }
    if (a.err < 0)
        snprintf(errbuf, errlen, "%s", a.msg[0] ? a.msg : strerror(-a.err));
    return a.err;
}

int respond_fw_block(struct respond_fw *fw, const char *address, uint32_t timeout_s, char *errbuf,
                     size_t errlen)
{
    return request(fw, FW_OP_ADD, address, timeout_s, errbuf, errlen);
}

int respond_fw_unblock(struct respond_fw *fw, const char *address, char *errbuf, size_t errlen)
{
    return request(fw, FW_OP_DEL, address, 0, errbuf, errlen);
}

int respond_fw_is_blocked(struct respond_fw *fw, const char *address, char *errbuf,
                          size_t errlen)
{
    return request(fw, FW_OP_TEST, address, 0, errbuf, errlen);
}

pid_t respond_fw_pid(const struct respond_fw *fw)
{
    return fw ? fw->pid : 0;
}

int respond_fw_request_encode(int op, int family, const unsigned char *addr, uint32_t timeout_s,
                              void *buf, size_t len)
{
    struct fw_req q;

    if (len < sizeof(q))
        return -ENOSPC;
    memset(&q, 0, sizeof(q));
    q.magic = FW_MAGIC;
    q.op = (uint8_t)op;
    q.family = (uint8_t)family;
    memcpy(q.addr, addr, family == 4 ? 4 : 16);
    q.timeout_s = timeout_s;
    memcpy(buf, &q, sizeof(q));
    return (int)sizeof(q);
}

void respond_fw_stop(struct respond_fw *fw)
{
    if (!fw)
        return;
    close(fw->sock);
    reap(fw->pid);
    respond_never_done(&fw->never);
    free(fw);
}
