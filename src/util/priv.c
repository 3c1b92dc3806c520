/*
 * priv.c - privilege drop, capabilities, no_new_privs and the seccomp
 * filters of the daemon and of the firewall helper.  priv.h says what and
 * why; this file says how.
 *
 * Capabilities go through the raw capget/capset calls and prctl, not
 * libcap: a few dozen lines, and nothing more to link into the helper.
 */
#include "util/priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Sanitizer runtimes stop the world at exit (LeakSanitizer ptraces the
 * threads from a clone): their builds keep the process dumpable and let
 * those calls through. */
#if defined(__SANITIZE_ADDRESS__)
#define PRIV_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_SANITIZER 1
#endif
#endif
#ifndef PRIV_SANITIZER
#define PRIV_SANITIZER 0
#endif

#define PRIV_CAP_WORDS 2 /* _LINUX_CAPABILITY_VERSION_3: 64 capabilities */
#define PRIV_DROP_ROUNDS 1000
#define PRIV_DROP_PAUSE_NS 2000000L

static struct priv_id priv_target_id;
static int priv_target_set;
static int priv_target_filter = 1;

void priv_set_target(const struct priv_id *id, int seccomp)
{
    priv_target_set = id != NULL;
    if (id)
        priv_target_id = *id;
    priv_target_filter = seccomp;
}

const struct priv_id *priv_target(void)
{
    return priv_target_set ? &priv_target_id : NULL;
}

int priv_target_seccomp(void)
{
    return priv_target_filter;
}

/* ---- looking up the user ------------------------------------------------- */

int priv_lookup(const char *user, const char *group, struct priv_id *ret, char *errbuf,
                size_t errlen)
{
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    char buf[16384];
    int n = PRIV_GROUPS_MAX, e;

    memset(ret, 0, sizeof(*ret));
    if (!user) {
        e = getpwnam_r("hikeshi", &pw, buf, sizeof(buf), &pwp);
        user = e == 0 && pwp ? "hikeshi" : "nobody";
    }
    e = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
    if (e != 0 || !pwp) {
        snprintf(errbuf, errlen, "security.user: no user '%s' on this system%s%s", user,
                 e ? ": " : "", e ? strerror(e) : "");
        return -ENOENT;
    }
    ret->uid = pw.pw_uid;
    ret->gid = pw.pw_gid;
    snprintf(ret->user, sizeof(ret->user), "%s", pw.pw_name);
    /* The user's own groups, before `buf` is reused for the group. */
    if (getgrouplist(pw.pw_name, pw.pw_gid, ret->groups, &n) < 0) {
        snprintf(errbuf, errlen, "security.user: user '%s' is in more than %d groups", user,
                 PRIV_GROUPS_MAX);
        return -E2BIG;
    }
    ret->ngroups = (size_t)n;
    if (group) {
        e = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
        if (e != 0 || !grp) {
            snprintf(errbuf, errlen, "security.group: no group '%s' on this system", group);
            return -ENOENT;
        }
        ret->gid = gr.gr_gid;
        snprintf(ret->group, sizeof(ret->group), "%s", gr.gr_name);
        /* The named group replaces the primary one in the list too. */
        if (ret->ngroups > 0)
            ret->groups[0] = gr.gr_gid;
    } else {
        e = getgrgid_r(ret->gid, &gr, buf, sizeof(buf), &grp);
        if (e == 0 && grp)
            snprintf(ret->group, sizeof(ret->group), "%s", gr.gr_name);
        else
            snprintf(ret->group, sizeof(ret->group), "%u", (unsigned)ret->gid);
    }
    if (ret->uid == 0 || ret->gid == 0) {
        snprintf(errbuf, errlen,
                 "security.user: '%s' (uid %u, gid %u) would keep root; name an unprivileged "
                 "user and group",
                 ret->user, (unsigned)ret->uid, (unsigned)ret->gid);
        return -EPERM;
    }
    for (size_t i = 0; i < ret->ngroups; i++) {
        if (ret->groups[i] == 0) {
            snprintf(errbuf, errlen, "security.user: '%s' is a member of group root (gid 0)",
                     ret->user);
            return -EPERM;
        }
    }
    return 0;
}

/* ---- the data directory -------------------------------------------------- */

int priv_prepare_dir(const struct priv_id *id, const char *dir, char *errbuf, size_t errlen)
{
    struct stat st;
    struct dirent *de;
    DIR *d = NULL;
    int dfd, r = 0;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "data_dir %s: %s", dir, strerror(-r));
        return r;
    }
    if (fstat(dfd, &st) < 0) {
        r = -errno;
        goto fail;
    }
    {
        struct stat root;
        if (stat("/", &root) == 0 && root.st_dev == st.st_dev && root.st_ino == st.st_ino) {
            snprintf(errbuf, errlen,
                     "data_dir %s is the root directory: refusing to hand it to user %s", dir,
                     id->user);
            close(dfd);
            return -EPERM;
        }
    }
    if ((st.st_uid != id->uid || st.st_gid != id->gid) && fchown(dfd, id->uid, id->gid) < 0) {
        r = -errno;
        goto fail;
    }
    if ((st.st_mode & 07777) != 0750 && fchmod(dfd, 0750) < 0) {
        r = -errno;
        goto fail;
    }
    if (!(d = fdopendir(dfd))) {
        r = -errno;
        goto fail;
    }
    while ((de = readdir(d)) != NULL) {
        mode_t want;

        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((st.st_uid != id->uid || st.st_gid != id->gid) &&
            fchownat(dfd, de->d_name, id->uid, id->gid, AT_SYMLINK_NOFOLLOW) < 0) {
            r = -errno;
            snprintf(errbuf, errlen, "data_dir %s: chown %s to %s:%s: %s", dir, de->d_name,
                     id->user, id->group, strerror(-r));
            closedir(d);
            return r;
        }
        want = st.st_mode & 0740; /* no group write, nothing for others */
        if ((st.st_mode & 07777) != want && fchmodat(dfd, de->d_name, want, 0) < 0) {
            r = -errno;
            snprintf(errbuf, errlen, "data_dir %s: chmod %s: %s", dir, de->d_name, strerror(-r));
            closedir(d);
            return r;
        }
    }
    closedir(d);
    return 0;
fail:
    snprintf(errbuf, errlen, "data_dir %s: giving it to %s:%s: %s", dir, id->user, id->group,
             strerror(-r));
    if (d)
        closedir(d);
    else
        close(dfd);
    return r;
}

/* ---- /proc status -------------------------------------------------------- */

static uint64_t status_hex(const char *text, const char *key)
{
    const char *p = strstr(text, key);

    return p ? strtoull(p + strlen(key), NULL, 16) : UINT64_MAX;
}

static void status_ids(const char *text, const char *key, long out[4])
{
    const char *p = strstr(text, key);
    char *end;

    for (int i = 0; i < 4; i++)
        out[i] = -1;
    if (!p)
        return;
    p += strlen(key);
    for (int i = 0; i < 4; i++) {
        out[i] = strtol(p, &end, 10);
        if (end == p) {
            out[i] = -1;
            return;
        }
        p = end;
    }
}

int priv_status_read(pid_t tid, struct priv_status *ret)
{
    char path[64], text[4096];
    const char *p;
    ssize_t n, len = 0;
    int fd, r = 0;

    memset(ret, 0, sizeof(*ret));
    if (tid)
        snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    while (len < (ssize_t)sizeof(text) - 1 &&
           (n = read(fd, text + len, sizeof(text) - 1 - (size_t)len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        len += n;
    }
    close(fd);
    if (r < 0)
        return r;
    text[len] = '\0';
    ret->cap_inh = status_hex(text, "\nCapInh:");
    ret->cap_prm = status_hex(text, "\nCapPrm:");
    ret->cap_eff = status_hex(text, "\nCapEff:");
    ret->cap_bnd = status_hex(text, "\nCapBnd:");
    ret->cap_amb = status_hex(text, "\nCapAmb:");
    status_ids(text, "\nUid:", ret->uid);
    status_ids(text, "\nGid:", ret->gid);
    p = strstr(text, "\nNoNewPrivs:");
    ret->no_new_privs = p ? (int)strtol(p + 12, NULL, 10) : -1;
    p = strstr(text, "\nSeccomp:");
    ret->seccomp = p ? (int)strtol(p + 9, NULL, 10) : -1;
    if (ret->cap_eff == UINT64_MAX || ret->uid[0] < 0)
        return -EIO;
    return 0;
}

/* ---- capabilities, per thread ------------------------------------------- */

static int cap_get(struct __user_cap_data_struct data[PRIV_CAP_WORDS])
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};

    return (int)syscall(SYS_capget, &h, data);
}

static int cap_set(struct __user_cap_data_struct data[PRIV_CAP_WORDS])
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};

    return (int)syscall(SYS_capset, &h, data);
}

/* What each thread does to itself; set before the threads are signalled. */
static volatile sig_atomic_t priv_clear_all;     /* 1: permitted and effective too */
static volatile sig_atomic_t priv_keep_cap = -1; /* the one capability kept, or -1 */

/*
 * Empties the calling thread's bounding set (all but priv_keep_cap), its
 * ambient and inheritable sets, and with priv_clear_all its permitted and
 * effective sets; sets no_new_privs.  Async-signal-safe: system calls
 * only, errno preserved.  The bounding set needs CAP_SETPCAP, which a root
 * thread has until its uid changes: so this runs before the setuid.
 */
static void priv_thread_drop(void)
{
    struct __user_cap_data_struct data[PRIV_CAP_WORDS];
    int saved = errno;

    for (int cap = 0; cap < 64; cap++) {
        int have = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (have < 0)
            break; /* past the kernel's last capability */
        if (have > 0 && cap != priv_keep_cap)
            (void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    }
    (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (cap_get(data) == 0) {
        for (int w = 0; w < PRIV_CAP_WORDS; w++) {
            uint32_t keep = 0;
            if (priv_keep_cap >= 0 && priv_keep_cap / 32 == w)
                keep = 1u << (priv_keep_cap % 32);
            data[w].inheritable = 0;
            if (priv_clear_all) {
                data[w].permitted &= keep;
                data[w].effective &= keep;
            }
        }
        (void)cap_set(data);
    }
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    errno = saved;
}

static void priv_on_signal(int sig)
{
    (void)sig;
    priv_thread_drop();
}

/* 1 when thread status `s` shows nothing left to drop in priv_thread_drop. */
static int thread_clean(const struct priv_status *s, int bounding)
{
    if (s->cap_inh || s->cap_amb || s->no_new_privs != 1)
        return 0;
    if (bounding && s->cap_bnd)
        return 0;
    if (priv_clear_all && (s->cap_prm || s->cap_eff))
        return 0;
    return 1;
}

/*
 * Has every other thread run priv_thread_drop (signal `sig`) until a scan
 * of /proc/self/task finds each one clean.  A thread being created while
 * we scan is found by a later round; one whose creator was already clean
 * inherits a clean state.  -ETIMEDOUT when some thread does not comply
 * (it blocks the signal), naming it.
 */
static int drop_other_threads(int sig, int bounding, char *errbuf, size_t errlen)
{
    pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
    struct timespec pause = {0, PRIV_DROP_PAUSE_NS};
    long stuck = 0;

    for (int round = 0; round < PRIV_DROP_ROUNDS; round++) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        int pending = 0;

        if (!d) {
            int r = -errno;
            snprintf(errbuf, errlen, "/proc/self/task: %s", strerror(-r));
            return r;
        }
        while ((de = readdir(d)) != NULL) {
            struct priv_status s;
            long tid = strtol(de->d_name, NULL, 10);

            if (tid <= 0 || tid == self)
                continue;
            if (priv_status_read((pid_t)tid, &s) < 0)
                continue; /* it exited */
            if (thread_clean(&s, bounding))
                continue;
            pending++;
            stuck = tid;
            if (syscall(SYS_tgkill, pid, (pid_t)tid, sig) < 0 && errno != ESRCH) {
                int r = -errno;
                closedir(d);
                snprintf(errbuf, errlen, "signalling thread %ld: %s", tid, strerror(-r));
                return r;
            }
        }
        closedir(d);
        if (!pending)
            return 0;
        nanosleep(&pause, NULL);
    }
    snprintf(errbuf, errlen, "thread %ld did not drop its capabilities", stuck);
    return -ETIMEDOUT;
}

/* Checks every thread's final state; -EPERM naming the first that fails. */
static int verify_threads(const struct priv_id *id, int root, int bounding, char *errbuf,
                          size_t errlen)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int r = 0;

    if (!d) {
        r = -errno;
        snprintf(errbuf, errlen, "/proc/self/task: %s", strerror(-r));
        return r;
    }
    while (r == 0 && (de = readdir(d)) != NULL) {
        struct priv_status s;
        long tid = strtol(de->d_name, NULL, 10);
        const char *why = NULL;

        if (tid <= 0 || priv_status_read((pid_t)tid, &s) < 0)
            continue;
        if (s.cap_prm || s.cap_eff || s.cap_inh || s.cap_amb)
            why = "still holds capabilities";
        else if (bounding && s.cap_bnd)
            why = "kept a bounding set";
        else if (s.no_new_privs != 1)
            why = "lacks no_new_privs";
        else if (root) {
            for (int i = 0; i < 4 && !why; i++)
                if (s.uid[i] != (long)id->uid || s.gid[i] != (long)id->gid)
                    why = "kept another uid or gid";
        }
        if (why) {
            snprintf(errbuf, errlen, "thread %ld %s after the drop", tid, why);
            r = -EPERM;
        }
    }
    closedir(d);
    return r;
}

int priv_drop(const struct priv_id *id, char *errbuf, size_t errlen)
{
    struct sigaction sa, old;
    struct __user_cap_data_struct data[PRIV_CAP_WORDS];
    int root = geteuid() == 0 || getuid() == 0, sig = SIGRTMAX - 2, bounding, r;

    if (errlen)
        errbuf[0] = '\0';
    if (root && !id) {
        snprintf(errbuf, errlen, "running as root with no user to become");
        return -EINVAL;
    }
    if (cap_get(data) < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "capget: %s", strerror(-r));
        return r;
    }
    /* Emptying the bounding set takes CAP_SETPCAP: root has it; a non-root
     * start with a few ambient capabilities usually does not, and keeps a
     * bounding set it can never use (no_new_privs, no permitted set). */
    bounding = (data[CAP_SETPCAP / 32].effective >> (CAP_SETPCAP % 32)) & 1u;
    priv_keep_cap = -1;
    /* Root: the uid change below empties permitted and effective in every
     * thread, and each thread needs CAP_SETUID until then (glibc runs the
     * setuid in each one).  Not root: nothing else will empty them. */
    priv_clear_all = !root;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = priv_on_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "sigaction: %s", strerror(-r));
        return r;
    }
    r = drop_other_threads(sig, bounding, errbuf, errlen);
    priv_thread_drop();
    if (r == 0 && root) {
        if (setgroups(id->ngroups, id->groups) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
            setresuid(id->uid, id->uid, id->uid) < 0) {
            r = -errno;
            snprintf(errbuf, errlen, "becoming %s:%s: %s", id->user, id->group, strerror(-r));
        }
    }
    /* A stray signal of that number from now on is ignored, not fatal. */
    sa.sa_handler = SIG_IGN;
    (void)sigaction(sig, &sa, NULL);
    if (r < 0)
        return r;
    if (root && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(errbuf, errlen, "uid 0 could be taken back after the drop");
        return -EPERM;
    }
    if (PRIV_SANITIZER)
        (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if ((r = verify_threads(id, root, bounding, errbuf, errlen)) < 0)
        return r;
    return root ? PRIV_DROPPED : PRIV_NOT_ROOT;
}

/* ---- seccomp ------------------------------------------------------------- */

/* The running daemon: inputs, pipeline, store, HTTP, response, reloads. */
/* clang-format off */
static const char *const daemon_calls[] = {
    /* memory (PCRE2's JIT maps executable pages) */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "membarrier",
    /* threads, signals, time */
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "exit", "exit_group",
    "sched_yield", "sched_getaffinity", "gettid", "getpid", "getppid", "tgkill", "tkill",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "rt_sigpending",
    "sigaltstack", "restart_syscall", "nanosleep", "clock_nanosleep", "clock_gettime",
    "clock_getres", "gettimeofday", "time", "getrusage", "times",
    /* descriptors */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3", "fcntl", "fsync",
    "fdatasync", "ftruncate", "fallocate", "flock", "fadvise64", "sendfile", "splice",
    "copy_file_range",
    /* files: the store, the rules and settings read again on SIGHUP,
     * followed files after rotation, playbooks, case files */
    "openat", "open", "stat", "fstat", "lstat", "newfstatat", "statx", "access", "faccessat",
    "faccessat2", "getdents64", "readlink", "readlinkat", "unlink", "unlinkat", "rename",
    "renameat", "renameat2", "mkdir", "mkdirat", "fchmod", "getcwd", "umask", "statfs", "fstatfs",
    "utimensat", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    /* sockets: syslog and HTTP accept, webhook and DNS connect out */
    "bind", "listen", "connect", "accept", "accept4", "getsockname", "getpeername", "setsockopt",
    "getsockopt", "shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
    "socketpair",
    /* waiting */
    "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2", "pipe", "pipe2", "timerfd_create",
    "timerfd_settime", "timerfd_gettime",
    /* identity and the system, asked by libc, libcurl, SQLite */
    "getrandom", "uname", "sysinfo", "prlimit64", "getrlimit", "getuid", "geteuid", "getgid",
    "getegid", "getresuid", "getresgid", "getgroups", "getpgrp", "getpriority",
    /* children: the exec action's timeout kills its own child */
    "wait4", "waitid", "kill", "pidfd_open", "pidfd_send_signal",
};
/* clang-format on */

/* posix_spawn and a small program run by the exec or mail action. */
/* clang-format off */
static const char *const spawn_calls[] = {
    "execve",          "execveat", "vfork",  "fork",    "arch_prctl",
    "set_tid_address", "chdir",    "fchdir", "setpgid", "getpgid",
    "getsid",          "setsid",   "alarm",  "pause",   "rt_sigsuspend",
};
/* clang-format on */

/* LeakSanitizer's stop-the-world at exit, in sanitizer builds only. */
/* clang-format off */
static const char *const sanitizer_calls[] = {
    "ptrace", "process_vm_readv", "sched_getparam", "sched_getscheduler", "prctl", "sigaltstack",
    "sched_getaffinity", "getdents", "getdents64", "readlink", "wait4", "prlimit64", "getrlimit",
    "sched_yield",
};
/* clang-format on */

/* The firewall helper: netlink to nf_tables, and the basics. */
/* clang-format off */
static const char *const helper_calls[] = {
    "read", "write", "close", "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex",
    "exit", "exit_group", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "getpid", "gettid",
    "tgkill", "clock_gettime", "gettimeofday", "nanosleep", "clock_nanosleep", "restart_syscall",
    "poll", "ppoll", "select", "pselect6", "bind", "getsockname", "setsockopt", "getsockopt",
    "sendto", "recvfrom", "sendmsg", "recvmsg", "fstat", "newfstatat", "lseek", "openat",
    "getrandom", "fcntl", "getuid", "geteuid", "getgid", "getegid",
};
/* clang-format on */

/* One argument comparison, every field set (libseccomp's SCMP_A0() macros
 * leave datum_b to the compiler, which clang's -Wextra reports). */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
                                   scmp_datum_t b)
{
    struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};

    return c;
}

static int add_calls(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        int r;

        if (nr == __NR_SCMP_ERROR)
            continue; /* not on this architecture */
        if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

/* socket(2) for the families we use only: not AF_PACKET, AF_ALG and the
 * other rarely used families whose kernel code a compromise would reach. */
static int add_socket(scmp_filter_ctx ctx, int netlink_only)
{
    static const int fams[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
    int r;

    for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
        if (netlink_only && fams[i] != AF_NETLINK)
            continue;
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                             arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)fams[i], 0));
        if (r < 0)
            return r;
    }
    return 0;
}

/* ioctl(2): the descriptor and terminal queries libc and libraries make,
 * not terminal injection (TIOCSTI) or device control. */
static int add_ioctl(scmp_filter_ctx ctx)
{
    static const unsigned long reqs[] = {FIONREAD, FIONBIO,    FIOCLEX,  FIONCLEX,
                                         TCGETS,   TIOCGWINSZ, TIOCGPGRP};
    int r;

    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             arg_cmp(1, SCMP_CMP_EQ, (scmp_datum_t)reqs[i], 0));
        if (r < 0)
            return r;
    }
    return 0;
}

/* clone(2) for threads and posix_spawn, never with a new namespace (a
 * user namespace is a large kernel surface that no_new_privs leaves
 * open); clone3 hides its flags in memory, so it answers ENOSYS and
 * glibc falls back to clone. */
static int add_clone(scmp_filter_ctx ctx)
{
    const scmp_datum_t ns = 0x7e020000u; /* CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET} */
    int r;

#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__) ||        \
    defined(__riscv)
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                         arg_cmp(0, SCMP_CMP_MASKED_EQ, ns, 0));
#else
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
#endif
    if (r < 0)
        return r;
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

/* prctl(2): thread names (pthread_setname_np) and reading the bounding
 * set; not changing dumpable, seccomp or capabilities. */
static int add_prctl(scmp_filter_ctx ctx)
{
    static const int ops[] = {PR_SET_NAME, PR_GET_NAME, PR_CAPBSET_READ, PR_GET_DUMPABLE};
    int r;

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                             arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)ops[i], 0));
        if (r < 0)
            return r;
    }
    return 0;
}

static int load_filter(scmp_filter_ctx ctx, int tsync, char *errbuf, size_t errlen)
{
    int r;

    /* Denied calls reach the kernel's audit log (type=1326) when it has
     * one; the attribute is missing on old kernels, which is no error. */
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    if (tsync && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
        snprintf(errbuf, errlen, "seccomp: synchronising the threads: %s", strerror(-r));
        return r;
    }
    if ((r = seccomp_load(ctx)) < 0) {
        snprintf(errbuf, errlen, "seccomp: loading the filter: %s", strerror(-r));
        return r;
    }
    return 0;
}

int priv_seccomp_daemon(unsigned extra, char *errbuf, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    int r;

    if (errlen)
        errbuf[0] = '\0';
    if (!ctx) {
        snprintf(errbuf, errlen, "seccomp: out of memory");
        return -ENOMEM;
    }
    r = add_calls(ctx, daemon_calls, sizeof(daemon_calls) / sizeof(daemon_calls[0]));
    if (r == 0 && (extra & PRIV_SECCOMP_SPAWN))
        r = add_calls(ctx, spawn_calls, sizeof(spawn_calls) / sizeof(spawn_calls[0]));
    if (r == 0 && PRIV_SANITIZER)
        r = add_calls(ctx, sanitizer_calls, sizeof(sanitizer_calls) / sizeof(sanitizer_calls[0]));
    if (r == 0)
        r = add_socket(ctx, 0);
    if (r == 0)
        r = add_ioctl(ctx);
    if (r == 0)
        r = add_clone(ctx);
    if (r == 0 && !PRIV_SANITIZER)
        r = add_prctl(ctx);
    if (r < 0) {
        snprintf(errbuf, errlen, "seccomp: building the filter: %s", strerror(-r));
        seccomp_release(ctx);
        return r;
    }
    r = load_filter(ctx, 1, errbuf, errlen);
    seccomp_release(ctx);
    return r;
}

/* ---- the firewall helper ------------------------------------------------- */

int priv_confine_helper(const struct priv_id *id, int seccomp, char *errbuf, size_t errlen)
{
    struct __user_cap_data_struct data[PRIV_CAP_WORDS];
    int root = geteuid() == 0, r;

    if (errlen)
        errbuf[0] = '\0';
    /* Single-threaded (a fresh fork): this thread is the process.  The
     * bounding set first, while CAP_SETPCAP is still effective. */
    priv_keep_cap = CAP_NET_ADMIN;
    priv_clear_all = 0;
    priv_thread_drop();
    if (root && id) {
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(id->ngroups, id->groups) < 0 ||
            setresgid(id->gid, id->gid, id->gid) < 0 || setresuid(id->uid, id->uid, id->uid) < 0) {
            r = -errno;
            snprintf(errbuf, errlen, "firewall helper: becoming %s:%s: %s", id->user, id->group,
                     strerror(-r));
            return r;
        }
        (void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }
    /* Permitted and effective: CAP_NET_ADMIN if we had it, nothing else
     * (KEEPCAPS kept the permitted set; effective was emptied). */
    if (cap_get(data) < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "firewall helper: capget: %s", strerror(-r));
        return r;
    }
    for (int w = 0; w < PRIV_CAP_WORDS; w++) {
        uint32_t keep = CAP_NET_ADMIN / 32 == w ? 1u << (CAP_NET_ADMIN % 32) : 0;
        data[w].permitted &= keep;
        data[w].effective = data[w].permitted;
        data[w].inheritable = 0;
    }
    if (cap_set(data) < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "firewall helper: capset: %s", strerror(-r));
        return r;
    }
    priv_keep_cap = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        r = -errno;
        snprintf(errbuf, errlen, "firewall helper: no_new_privs: %s", strerror(-r));
        return r;
    }
    if (seccomp) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));

        if (!ctx) {
            snprintf(errbuf, errlen, "firewall helper: seccomp: out of memory");
            return -ENOMEM;
        }
        r = add_calls(ctx, helper_calls, sizeof(helper_calls) / sizeof(helper_calls[0]));
        if (r == 0)
            r = add_socket(ctx, 1);
        if (r == 0 && PRIV_SANITIZER)
            r = add_calls(ctx, sanitizer_calls,
                          sizeof(sanitizer_calls) / sizeof(sanitizer_calls[0]));
        if (r == 0 && PRIV_SANITIZER)
            r = add_clone(ctx);
        if (r < 0) {
            snprintf(errbuf, errlen, "firewall helper: seccomp: %s", strerror(-r));
            seccomp_release(ctx);
            return r;
        }
        r = load_filter(ctx, 0, errbuf, errlen);
        seccomp_release(ctx);
        if (r < 0)
            return r;
    }
    return 0;
}
