/*
 * test_priv.c - util/priv.c: the user lookup, the data directory's owner
 * and modes, the drop across threads, the firewall helper's single
 * capability, and what the seccomp filters let through and refuse.
 *
 * Every drop and filter happens in a forked child (they cannot be undone),
 * which reports through its exit status.  The drop from root and the
 * helper's switch of uid need root; run unprivileged, those cases check
 * the non-root path instead (capabilities and no_new_privs only).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/priv.h"

/* Sanitizer builds let ptrace and prctl through (LeakSanitizer stops the
 * world at exit): those two refusals are checked in the other builds. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_SANITIZER 1
#endif
#endif
#ifndef TEST_SANITIZER
#define TEST_SANITIZER 0
#endif

/* Runs fn in a child; returns its exit status (or 100 + signal). */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    int st;

    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void test_lookup(void **state)
{
    struct priv_id id;
    char err[256];

    (void)state;
    assert_int_equal(priv_lookup("nobody", NULL, &id, err, sizeof(err)), 0);
    assert_int_not_equal(id.uid, 0);
    assert_true(id.ngroups >= 1);
    assert_string_equal(id.user, "nobody");
    /* The default: hikeshi when it exists, else nobody; never root. */
    assert_int_equal(priv_lookup(NULL, NULL, &id, err, sizeof(err)), 0);
    assert_true(strcmp(id.user, "hikeshi") == 0 || strcmp(id.user, "nobody") == 0);
    assert_int_equal(priv_lookup("root", NULL, &id, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "root"));
    assert_int_equal(priv_lookup("nobody", "root", &id, err, sizeof(err)), -EPERM);
    assert_int_equal(priv_lookup("no-such-user-hk", NULL, &id, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no-such-user-hk"));
    assert_int_equal(priv_lookup("nobody", "no-such-group-hk", &id, err, sizeof(err)), -ENOENT);
}

static void test_prepare_dir(void **state)
{
    char dir[] = "/tmp/hikeshi-priv-XXXXXX", path[256], link[256];
    struct priv_id id;
    struct stat st;
    char err[256];
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0777), 0);
    snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0666);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0666), 0);
    close(fd);
    snprintf(link, sizeof(link), "%s/passwd", dir);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(priv_lookup("nobody", NULL, &id, err, sizeof(err)), 0);
    assert_int_equal(priv_prepare_dir(&id, "/", err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "root directory"));
    if (geteuid() != 0) {
        /* chown needs root: the call fails, saying so. */
        assert_true(priv_prepare_dir(&id, dir, err, sizeof(err)) < 0);
    } else {
        assert_int_equal(priv_prepare_dir(&id, dir, err, sizeof(err)), 0);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(st.st_uid, id.uid);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_uid, id.uid);
        assert_int_equal(st.st_gid, id.gid);
        /* The link's target is untouched. */
        assert_int_equal(stat("/etc/passwd", &st), 0);
        assert_int_equal(st.st_uid, 0);
    }
    unlink(link);
    unlink(path);
    rmdir(dir);
}

/* ---- the drop across threads ------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stop;

/* Threads waiting the ways the daemon's threads wait. */
static void *wait_cond(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stop)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *wait_poll(void *arg)
{
    struct pollfd p = {.fd = *(int *)arg, .events = POLLIN};

    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void *wait_sleep(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200 && !__atomic_load_n(&stop, __ATOMIC_RELAXED); i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Exit 0 when the drop held in every thread, else a code saying what. */
static int child_drop(void)
{
    pthread_t t[3];
    struct priv_id id;
    struct priv_status s;
    int pfd[2], root = geteuid() == 0, r;
    char err[256];

    if (pipe(pfd) < 0)
        return 2;
    if (pthread_create(&t[0], NULL, wait_cond, NULL) ||
        pthread_create(&t[1], NULL, wait_poll, &pfd[0]) ||
        pthread_create(&t[2], NULL, wait_sleep, NULL))
        return 3;
    if (priv_lookup("nobody", NULL, &id, err, sizeof(err)) < 0)
        return 4;
    r = priv_drop(root ? &id : NULL, err, sizeof(err));
    if (r != (root ? PRIV_DROPPED : PRIV_NOT_ROOT)) {
        fprintf(stderr, "priv_drop: %d %s\n", r, err);
        return 5;
    }
    /* Every thread, by /proc, independently of priv_drop's own check:
     * the signal reached the other threads, not only the caller. */
    {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        int n = 0;

        if (!d)
            return 10;
        while ((de = readdir(d)) != NULL) {
            struct priv_status ts;
            long tid = strtol(de->d_name, NULL, 10);

            if (tid <= 0)
                continue;
            if (priv_status_read((pid_t)tid, &ts) < 0 || ts.cap_eff || ts.cap_prm || ts.cap_inh ||
                ts.cap_amb || ts.no_new_privs != 1 || (root && ts.cap_bnd) ||
                (root && ts.uid[0] != (long)id.uid)) {
                closedir(d);
                return 11;
            }
            n++;
        }
        closedir(d);
        if (n != 4)
            return 12;
    }
    if (priv_status_read(0, &s) < 0 || s.cap_eff || s.cap_prm || s.cap_inh || s.cap_amb ||
        s.no_new_privs != 1)
        return 6;
    if (root && (s.cap_bnd || s.uid[0] != (long)id.uid || s.uid[1] != (long)id.uid ||
                 s.uid[2] != (long)id.uid || s.gid[0] != (long)id.gid))
        return 7;
    if (root && (setuid(0) == 0 || errno != EPERM))
        return 8;
    pthread_mutex_lock(&mu);
    stop = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (write(pfd[1], "x", 1) != 1)
        return 9;
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    return 0;
}

static void test_drop_threads(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_drop), 0);
}

/* ---- seccomp --------------------------------------------------------------- */

static int child_filter(void)
{
    char err[256];
    struct priv_status s;
    int fd, sv[2];

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 2;
    if (priv_seccomp_daemon(0, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    if (priv_status_read(0, &s) < 0 || s.seccomp != 2)
        return 4;
    /* What the daemon does: allowed. */
    if (getpid() <= 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[0], "a", 1) != 1)
        return 5;
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return 6;
    close(fd);
    if ((fd = open("/etc/hostname", O_RDONLY)) < 0 && errno == EPERM)
        return 7;
    if (fd >= 0)
        close(fd);
    /* What it never does: EPERM (not killed, not the call's own error). */
    errno = 0;
    if (socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EPERM)
        return 10;
    errno = 0;
    if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
        return 11;
    errno = 0;
    if (!TEST_SANITIZER && (syscall(SYS_ptrace, 0, 0, 0, 0) == 0 || errno != EPERM))
        return 12;
    errno = 0;
    if (syscall(SYS_execve, "/bin/true", NULL, NULL) == 0 || errno != EPERM)
        return 13;
    errno = 0;
    if (ioctl(0, TIOCSTI, "x") == 0 || errno != EPERM)
        return 14;
    errno = 0;
    if (!TEST_SANITIZER && (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0 || errno != EPERM))
        return 15;
#ifdef SYS_clone3
    errno = 0;
    if (syscall(SYS_clone3, NULL, 0) == 0 || errno != ENOSYS)
        return 16;
#endif
    errno = 0;
    if (syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0) == 0 || errno != EPERM)
        return 17;
    return 0;
}

static void test_filter(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_filter), 0);
}

/* The spawn group: execve allowed, and the program runs under the filter. */
static int child_filter_spawn(void)
{
    char err[256];
    pid_t pid;
    int st;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return 2;
    if (priv_seccomp_daemon(PRIV_SECCOMP_SPAWN, err, sizeof(err)) < 0)
        return 3;
    pid = fork();
    if (pid < 0)
        return 4;
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
        _exit(1);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
        return 5;
    return 0;
}

static void test_filter_spawn(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_filter_spawn), 0);
}

/* The helper: CAP_NET_ADMIN alone (root), or nothing more than it had. */
static int child_helper(void)
{
    struct priv_id id;
    struct priv_status s;
    char err[256];
    int root = geteuid() == 0;

    if (priv_lookup("nobody", NULL, &id, err, sizeof(err)) < 0)
        return 2;
    if (priv_confine_helper(root ? &id : NULL, 1, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    if (priv_status_read(0, &s) < 0)
        return 4;
    if (s.no_new_privs != 1 || s.seccomp != 2 || s.cap_inh || s.cap_amb)
        return 5;
    if (root && (s.cap_eff != (1ull << CAP_NET_ADMIN) || s.cap_prm != (1ull << CAP_NET_ADMIN) ||
                 s.cap_bnd != (1ull << CAP_NET_ADMIN) || s.uid[0] != (long)id.uid ||
                 s.uid[1] != (long)id.uid))
        return 6;
    if (!root && (s.cap_eff & ~(1ull << CAP_NET_ADMIN)))
        return 7;
    /* Its filter: netlink sockets only. */
    errno = 0;
    if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
        return 8;
    if (socket(AF_NETLINK, SOCK_RAW, 12 /* NETLINK_NETFILTER */) < 0)
        return 9;
    return 0;
}

static void test_helper(void **state)
{
    (void)state;
    assert_int_equal(in_child(child_helper), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),       cmocka_unit_test(test_prepare_dir),
        cmocka_unit_test(test_drop_threads), cmocka_unit_test(test_filter),
        cmocka_unit_test(test_filter_spawn), cmocka_unit_test(test_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
