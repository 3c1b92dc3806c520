/*
 * respond_exec.c - run a response command: posix_spawn, no shell, captured output,
 * a timeout, and the child always reaped.
 *
 * posix_spawn (glibc: clone with CLONE_VFORK) rather than fork, so that a
 * large multi-threaded daemon neither copies its page tables nor runs
 * anything between fork and exec in a child of a threaded process.
 */
#include "respond/respond_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

/* Placeholder names, indexed by enum respond_var. */
static const char *const exec_var_names[RESPOND_VAR_COUNT] = {
    [RESPOND_VAR_IP] = "ip",
    [RESPOND_VAR_RULE] = "rule",
    [RESPOND_VAR_INCIDENT] = "incident",
    [RESPOND_VAR_LEVEL] = "level",
    [RESPOND_VAR_REASON] = "reason",
};

/* The whole environment of a command: nothing of the daemon's leaks in. */
static char exec_env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
static char exec_env_lang[] = "LANG=C";
static char *exec_envp[] = {exec_env_path, exec_env_lang, NULL};

static uint64_t exec_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void exec_set_reason(struct respond_exec_result *ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void exec_set_reason(struct respond_exec_result *ret, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ret->reason, sizeof(ret->reason), fmt, ap);
    va_end(ap);
}

/*
 * Expands one argument template into `out`.  With vars == NULL it only
 * checks the syntax (out may then be NULL).  On -EINVAL, *why is a static
 * sentence and *ret_var the placeholder concerned (-1 if none).
 */
static int exec_expand(const char *tmpl, const struct respond_vars *vars, struct buf *out,
                       const char **why, int *ret_var)
{
    const char *p = tmpl;

    *ret_var = -1;
    while (*p) {
        const char *lit = p;
        const char *close;
        size_t name_len;
        int var = -1;

        while (*p && *p != '{')
            p++;
        if (out && p > lit && buf_append(out, lit, (size_t)(p - lit)) < 0)
            goto too_long;
        if (!*p)
            break;
        if (p[1] == '{') {
            if (out && buf_putc(out, '{') < 0)
                goto too_long;
            p += 2;
            continue;
        }
        close = strchr(p, '}');
        if (!close) {
            *why = "an argument has a '{' that is not closed (write '{{' for a literal '{')";
            return -EINVAL;
        }
        name_len = (size_t)(close - p - 1);
        for (int i = 0; i < RESPOND_VAR_COUNT; i++)
            if (strlen(exec_var_names[i]) == name_len &&
                memcmp(exec_var_names[i], p + 1, name_len) == 0)
                var = i;
        if (var < 0) {
            *why = "an argument uses an unknown placeholder "
                   "(known: {ip} {rule} {incident} {level} {reason})";
            return -EINVAL;
        }
        p = close + 1;
        if (!vars)
            continue;
        *ret_var = var;
        if (!vars->value[var]) {
            *why = "no value is known for a placeholder the command uses";
            return -EINVAL;
        }
        if (vars->len[var] > RESPOND_EXEC_VALUE_MAX) {
            *why = "a value is longer than 1 KiB";
            return -EINVAL;
        }
        if (memchr(vars->value[var], '\0', vars->len[var])) {
            *why = "a value holds a NUL byte";
            return -EINVAL;
        }
        /* A value must not be able to turn itself into an option. */
        if (out->len == 0 && vars->len[var] > 0 && vars->value[var][0] == '-') {
            *why = "a value would start an argument with '-'";
            return -EINVAL;
        }
        if (buf_append(out, vars->value[var], vars->len[var]) < 0)
            goto too_long;
    }
    return 0;

too_long:
    *why = "an argument is longer than 8 KiB after substitution";
    return -EINVAL;
}

int respond_exec_check(const struct respond_exec_conf *c, const char **reterr_why)
{
    const char *why = NULL;
    size_t argc = 0;
    int var, r = -EINVAL;

    if (!c || !c->argv || !c->argv[0] || !c->argv[0][0]) {
        why = "the command has no program";
        goto out;
    }
    if (c->argv[0][0] != '/') {
        why = "the program must be given by an absolute path";
        goto out;
    }
    if (strchr(c->argv[0], '{')) {
        why = "the program path may not hold a placeholder";
        goto out;
    }
    while (c->argv[argc])
        argc++;
    if (argc > RESPOND_EXEC_ARGC_MAX) {
        why = "the command has more than 64 arguments";
        goto out;
    }
    for (size_t i = 1; i < argc; i++)
        if (exec_expand(c->argv[i], NULL, NULL, &why, &var) < 0)
            goto out;
    r = 0;
out:
    if (reterr_why)
        *reterr_why = r < 0 ? why : NULL;
    return r;
}

void respond_exec_result_done(struct respond_exec_result *r)
{
    if (r)
        buf_done(&r->output);
}

static void exec_free_args(char **args)
{
    for (size_t i = 0; args && args[i]; i++)
        free(args[i]);
    free(args);
}

/* Reads what the pipe holds; returns 0 at EOF or error (close it), 1 if open. */
static int exec_drain(int fd, struct respond_exec_result *ret)
{
    char chunk[16384];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n > 0) {
            size_t room = ret->output.cap - ret->output.len;
            size_t keep = (size_t)n < room ? (size_t)n : room;

            if (keep && buf_append(&ret->output, chunk, keep) < 0)
                keep = 0;
            ret->output_dropped += (size_t)n - keep;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 1 : 0;
    }
}

/* Writes more of the stdin body; returns 0 when done or refused, 1 if more. */
static int exec_feed(int fd, const char *body, size_t body_len, size_t *off)
{
    while (*off < body_len) {
        ssize_t n = write(fd, body + *off, body_len - *off);

        if (n > 0) {
            *off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* EPIPE: the program closed its stdin; that is its business. */
        return n < 0 && errno == EAGAIN ? 1 : 0;
    }
    return 0;
}

static void exec_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/*
 * Starts the program with the given stdin descriptor (-1: /dev/null) and
 * output descriptor.  Returns 0 or a positive errno, as posix_spawn does.
 */
static int exec_spawn(char **args, int in_fd, int out_fd, pid_t *ret_pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int e;

    e = posix_spawn_file_actions_init(&fa);
    if (e)
        return e;
    e = posix_spawnattr_init(&attr);
    if (e) {
        posix_spawn_file_actions_destroy(&fa);
        return e;
    }
    sigemptyset(&none);
    sigfillset(&all);
    if (in_fd >= 0)
        e = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    else
        e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!e)
        e = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (!e)
        e = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    /* Our descriptors are O_CLOEXEC already; this also covers those opened
     * by libraries that forgot. */
    if (!e)
        e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (!e)
        e = posix_spawn_file_actions_addchdir_np(&fa, "/");
    /* Own process group, so the timeout reaches the command's children;
     * default dispositions and an empty mask, whatever this thread has. */
    if (!e)
        e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                POSIX_SPAWN_SETSIGDEF);
    if (!e)
        e = posix_spawnattr_setpgroup(&attr, 0);
    if (!e)
        e = posix_spawnattr_setsigmask(&attr, &none);
    if (!e)
        e = posix_spawnattr_setsigdefault(&attr, &all);
    if (!e)
        e = posix_spawn(ret_pid, args[0], &fa, &attr, args, exec_envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return e;
}

static void exec_describe_end(struct respond_exec_result *ret, const char *prog, int status)
{
    if (WIFEXITED(status)) {
        ret->exited = 1;
        ret->exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        ret->signal = WTERMSIG(status);
    }
    if (ret->timed_out)
        exec_set_reason(ret, "%s timed out after %u ms and was %s", prog, ret->duration_ms,
                        ret->signal == SIGKILL   ? "killed (SIGKILL)"
                        : ret->signal == SIGTERM ? "terminated (SIGTERM)"
                        : ret->signal            ? "ended by a signal"
                                                 : "signalled; it then exited");
    else if (ret->exited)
        exec_set_reason(ret, "%s exited with status %d", prog, ret->exit_status);
    else {
        /* sigdescr_np, unlike strsignal, never writes a shared buffer. */
        const char *d = sigdescr_np(ret->signal);

        exec_set_reason(ret, "%s was killed by signal %d (%s)", prog, ret->signal,
                        d ? d : "unknown");
    }
}

/* A started command as the parent watches it. */
struct exec_child {
    pid_t pid;
    int pidfd;   /* -1: no pidfd, waitpid is polled on a short tick */
    int *out_fd; /* read end of its output pipe; closed (-1) at end of file */
    int *in_fd;  /* write end of its stdin pipe, or -1; closed once fed */
    int status;  /* its wait status, once reaped */
    int lost;    /* reaped by someone else: the status is unknown */
};

/*
 * Builds the argument vector from the templates in c->argv, expanding the
 * placeholders.  On success *ret_args (NULL-terminated, owned by the
 * caller: exec_free_args) and 0; on failure the reason in ret, nothing
 * allocated, and -errno.
 */
static int exec_build_args(const struct respond_exec_conf *c, const struct respond_vars *vars,
                           const char *prog, struct respond_exec_result *ret, char ***ret_args)
{
    char **args; /* heap: the analyzer follows it through posix_spawn */
    const char *why = NULL;
    int var, r;

    if (!(args = calloc(RESPOND_EXEC_ARGC_MAX + 1, sizeof(*args)))) {
        exec_set_reason(ret, "out of memory running %s", prog);
        return -ENOMEM;
    }
    for (size_t i = 0; c->argv[i]; i++) {
        struct buf a;

        buf_init(&a, RESPOND_EXEC_ARG_MAX);
        r = exec_expand(c->argv[i], vars, &a, &why, &var);
        if (r < 0) {
            buf_done(&a);
            if (var >= 0)
                exec_set_reason(ret, "refused to run %s: {%s}: %s", prog, exec_var_names[var], why);
            else
                exec_set_reason(ret, "refused to run %s: %s", prog, why);
            exec_free_args(args);
            return r;
        }
        /* Ownership moves to args[]; an empty argument never allocated. */
        args[i] = a.data ? a.data : strdup("");
        if (!args[i]) {
            exec_set_reason(ret, "out of memory running %s", prog);
            exec_free_args(args);
            return -ENOMEM;
        }
    }
    *ret_args = args;
    return 0;
}

/*
 * Waits for the command to end, reading its output into ret and feeding
 * it BODY, until DEADLINE (monotonic ms): then SIGTERM to its process
 * group, and SIGKILL after the grace.  Returns with the child reaped
 * (ch->status, or ch->lost) and ret->timed_out set when it was ended.
 */
static void exec_watch(struct exec_child *ch, uint64_t deadline, const char *body, size_t body_len,
                       struct respond_exec_result *ret)
{
    int reaped = 0, term_sent = 0, kill_sent = 0;
    uint64_t kill_at = 0;
    size_t in_off = 0;

    for (;;) {
        struct pollfd pfd[3];
        nfds_t n = 0;
        uint64_t now = exec_now_ms(), next;
        int tick;

        if (!reaped) {
            pid_t w = waitpid(ch->pid, &ch->status, WNOHANG);

            if (w == ch->pid) {
                reaped = 1;
            } else if (w < 0 && errno == ECHILD) {
                /* Someone else reaped it (SIGCHLD ignored?): status lost. */
                reaped = ch->lost = 1;
            }
        }
        if (reaped && *ch->out_fd < 0)
            break;
        if (!term_sent && now >= deadline) {
            /* The group may outlive the leader while it holds our pipe. */
            kill(-ch->pid, SIGTERM);
            term_sent = 1;
            ret->timed_out = 1;
            kill_at = now + RESPOND_EXEC_KILL_GRACE_MS;
        } else if (term_sent && !kill_sent && now >= kill_at) {
            kill(-ch->pid, SIGKILL);
            kill_sent = 1;
        }
        if (kill_sent && reaped)
            break;
        next = !term_sent ? deadline : !kill_sent ? kill_at : now + 100;
        tick = next > now ? (int)(next - now) : 0;
        if (!reaped && ch->pidfd < 0 && tick > 20)
            tick = 20;
        if (*ch->out_fd >= 0)
            pfd[n++] = (struct pollfd){.fd = *ch->out_fd, .events = POLLIN};
        if (*ch->in_fd >= 0)
            pfd[n++] = (struct pollfd){.fd = *ch->in_fd, .events = POLLOUT};
        if (!reaped && ch->pidfd >= 0)
            pfd[n++] = (struct pollfd){.fd = ch->pidfd, .events = POLLIN};
        if (poll(pfd, n, tick) < 0 && errno != EINTR) {
            /* Cannot watch the child any more: end it rather than leak it. */
            kill(-ch->pid, SIGKILL);
            if (!reaped && waitpid(ch->pid, &ch->status, 0) == ch->pid)
                reaped = 1;
            break;
        }
        if (*ch->out_fd >= 0 && !exec_drain(*ch->out_fd, ret))
            exec_close(ch->out_fd);
        if (*ch->in_fd >= 0 && !exec_feed(*ch->in_fd, body, body_len, &in_off))
            exec_close(ch->in_fd);
    }
    if (!reaped) {
        /* Only the poll failure above gets here. */
        while (waitpid(ch->pid, &ch->status, 0) < 0 && errno == EINTR)
            ;
    }
}

/* The calling thread's SIGPIPE as it was before a command ran. */
struct exec_sigpipe {
    sigset_t set, old_mask;
    int was_pending;
};

/* SIGPIPE from writing to a program that closed its stdin must not end
 * the daemon: block it here (exec_sigpipe_restore swallows the one we
 * cause). */
static void exec_sigpipe_block(struct exec_sigpipe *sp)
{
    sigset_t pending;

    sigemptyset(&sp->set);
    sigaddset(&sp->set, SIGPIPE);
    sigpending(&pending);
    sp->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sp->set, &sp->old_mask);
}

static void exec_sigpipe_restore(struct exec_sigpipe *sp)
{
    if (!sp->was_pending) {
        struct timespec zero = {0, 0};
        sigset_t pending;

        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE))
            (void)sigtimedwait(&sp->set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &sp->old_mask, NULL);
}

static int exec_run(const struct respond_exec_conf *c, const struct respond_vars *vars,
                    const char *body, size_t body_len, int with_stdin,
                    struct respond_exec_result *ret)
{
    static const struct respond_vars no_vars;
    char **args = NULL;
    char prog[160];
    const char *why = NULL;
    int outp[2] = {-1, -1}, inp[2] = {-1, -1};
    struct exec_child ch = {.pid = -1, .pidfd = -1, .out_fd = &outp[0], .in_fd = &inp[1]};
    struct exec_sigpipe sp;
    int e, r;
    uint64_t start;

    memset(ret, 0, sizeof(*ret));
    buf_init(&ret->output, c && c->output_cap ? c->output_cap : RESPOND_EXEC_OUTPUT_CAP);
    /* The check fails on a NULL c; "|| !c" says so to the analyzer. */
    if (respond_exec_check(c, &why) < 0 || !c) {
        exec_set_reason(ret, "refused to run the command: %s", why);
        return -EINVAL;
    }
    log_quote(prog, sizeof(prog), c->argv[0], strlen(c->argv[0]));
    if (with_stdin && ((!body && body_len) || body_len > RESPOND_EXEC_STDIN_MAX)) {
        exec_set_reason(ret, "refused to run %s: stdin body missing or over 1 MiB", prog);
        return body_len > RESPOND_EXEC_STDIN_MAX ? -E2BIG : -EINVAL;
    }
    if ((r = exec_build_args(c, vars ? vars : &no_vars, prog, ret, &args)) < 0)
        return r;

    /* posix_spawn reports exec failures itself, but not where clone
     * cannot share memory (valgrind, some seccomp filters): the child then
     * exits 127.  Checking first gives the same answer everywhere. */
    if (access(args[0], X_OK) < 0) {
        r = -errno;
        exec_set_reason(ret, "could not start %s: %s", prog, strerror(-r));
        goto out_args;
    }
    if (pipe2(outp, O_CLOEXEC) < 0 || (with_stdin && pipe2(inp, O_CLOEXEC) < 0)) {
        r = -errno;
        exec_set_reason(ret, "could not run %s: pipe: %s", prog, strerror(-r));
        goto out_fds;
    }
    exec_sigpipe_block(&sp);

    start = exec_now_ms();
    e = exec_spawn(args, inp[0], outp[1], &ch.pid);
    exec_close(&outp[1]);
    exec_close(&inp[0]);
    if (e) {
        r = -e;
        exec_set_reason(ret, "could not start %s: %s", prog, strerror(e));
        goto out_mask;
    }
    ret->spawned = 1;
    (void)fcntl(outp[0], F_SETFL, O_NONBLOCK);
    if (inp[1] >= 0) {
        (void)fcntl(inp[1], F_SETFL, O_NONBLOCK);
        if (body_len == 0)
            exec_close(&inp[1]);
    }
    /* Without pidfds (old kernels, seccomp) we fall back to polling
     * waitpid on a short tick. */
    ch.pidfd = pidfd_open(ch.pid, 0);
    exec_watch(&ch, start + (c->timeout_ms ? c->timeout_ms : RESPOND_EXEC_TIMEOUT_MS_DEFAULT), body,
               body_len, ret);
    ret->duration_ms = (unsigned)(exec_now_ms() - start);
    if (ch.lost) {
        exec_set_reason(ret, "%s ended but its status was lost (is SIGCHLD ignored?)", prog);
        r = -ECHILD;
        goto out_mask;
    }
    exec_describe_end(ret, prog, ch.status);
    if (ret->timed_out)
        r = -ETIMEDOUT;
    else if (ret->exited && ret->exit_status == 0)
        r = 0;
    else
        r = -EIO;

out_mask:
    exec_close(&inp[1]);
    exec_sigpipe_restore(&sp);
out_fds:
    exec_close(&ch.pidfd);
    exec_close(&outp[0]);
    exec_close(&outp[1]);
    exec_close(&inp[0]);
    exec_close(&inp[1]);
out_args:
    exec_free_args(args);
    return r;
}

int respond_exec_render(const char *tmpl, const struct respond_vars *vars, struct buf *out,
                        const char **reterr_why)
{
    static const struct respond_vars no_vars;
    int var;

    *reterr_why = NULL;
    return exec_expand(tmpl, vars ? vars : &no_vars, out, reterr_why, &var);
}

int respond_exec_run(const struct respond_exec_conf *c, const struct respond_vars *vars,
                     struct respond_exec_result *ret)
{
    return exec_run(c, vars, NULL, 0, 0, ret);
}

int respond_exec_run_stdin(const struct respond_exec_conf *c, const struct respond_vars *vars,
                           const char *body, size_t body_len, struct respond_exec_result *ret)
{
    return exec_run(c, vars, body, body_len, 1, ret);
}
