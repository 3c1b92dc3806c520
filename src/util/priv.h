/*
 * priv.h - least privilege for the daemon: the OpenBSD daemons' model on
 * Linux.  Started as root, `hikeshi run` binds its ports, opens its store
 * and files, reads its keys and forks the firewall helper; then it becomes
 * an unprivileged user for good (supplementary groups, gid and uid, all
 * capabilities including the bounding set, no_new_privs) and confines
 * itself with a seccomp allowlist of the system calls the running daemon
 * makes.  The firewall helper keeps CAP_NET_ADMIN and nothing else.
 *
 * Why every thread: credentials and capabilities are per thread on Linux,
 * and by the time every port is bound the inputs, the pipeline and the
 * HTTP server already run threads of their own.  glibc carries setuid and
 * setgroups to every thread itself; the capability bounding set, the
 * ambient and inheritable sets and no_new_privs are not, so priv_drop()
 * signals each thread to drop them in place, and checks the result of
 * every thread in /proc/self/task before it returns.
 */
#ifndef HIKESHI_UTIL_PRIV_H
#define HIKESHI_UTIL_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Supplementary groups kept from /etc/group for the target user. */
#define PRIV_GROUPS_MAX 64

/* Who the daemon becomes; resolved while the name service is still
 * readable (before the drop and the filter). */
struct priv_id {
    uid_t uid;
    gid_t gid;
    gid_t groups[PRIV_GROUPS_MAX]; /* the user's own groups, gid first */
    size_t ngroups;
    char user[64];
    char group[64];
};

/*
 * Looks up `user` (NULL: "hikeshi" when that account exists, else "nobody")
 * and `group` (NULL: the user's primary group) into *ret, with the
 * supplementary groups /etc/group gives the user (so that `adduser hikeshi
 * adm` lets it reopen /var/log files after rotation; root's own groups are
 * never kept).  -ENOENT for an unknown user or group, -EPERM for uid 0 or
 * gid 0 (that would keep root), with a sentence in errbuf.
 */
int priv_lookup(const char *user, const char *group, struct priv_id *ret, char *errbuf,
                size_t errlen);

/*
 * Run as root before priv_drop(): makes `dir` (the data_dir) belong to
 * `id` with mode 0750, and the regular files directly inside it (the store
 * and its -wal/-shm, alerts.jsonl, audit.log) too, their group and other
 * write bits and other read bits cleared (0640 at most).  Symbolic links
 * are neither followed nor changed; subdirectories are left alone.
 * Refuses "/" (a mistaken data_dir must not hand the system to the user).
 * 0 or -errno with a sentence in errbuf.
 */
int priv_prepare_dir(const struct priv_id *id, const char *dir, char *errbuf, size_t errlen);

/* What priv_drop() did. */
enum priv_result {
    PRIV_DROPPED = 0, /* was root: now id's uid and gids, no capabilities */
    PRIV_NOT_ROOT,    /* was not root: capabilities (if any) dropped, uid kept */
};

/*
 * Drops privileges in every thread of the process: the ambient and
 * inheritable capability sets emptied, the bounding set too when the
 * thread may (CAP_SETPCAP: started as root; started by systemd as a user
 * with ambient capabilities it stays the unit's CapabilityBoundingSet=,
 * which nothing can use again once permitted is empty under
 * no_new_privs), no_new_privs set, and
 * when root: supplementary groups, gid and uid become id's (id may be NULL
 * when not root), which empties the permitted and effective sets.  Then
 * checks /proc/self/task/\* : every thread's Uid and Gid (when root), its
 * capability sets and NoNewPrivs; and that setuid(0) now fails.
 * Returns PRIV_DROPPED or PRIV_NOT_ROOT, or -errno with a sentence in
 * errbuf (the caller must not go on: some thread may still be privileged).
 */
int priv_drop(const struct priv_id *id, char *errbuf, size_t errlen);

/* Syscall groups beyond the daemon's own, for priv_seccomp_daemon(). */
#define PRIV_SECCOMP_SPAWN                                                                         \
    0x1u /* posix_spawn and execve for the exec and                                                \
            mail actions, and what a small program                                                 \
            (a shell script) needs once started */

/*
 * Installs the daemon's seccomp filter on every thread (TSYNC): an
 * allowlist of the system calls the running daemon makes; any other call
 * fails with EPERM and is logged by the kernel's audit (dmesg or
 * journalctl -k: "type=1326 ... syscall=N").  EPERM rather than killing
 * the process: a call we missed on some rare path then fails as an error
 * the daemon reports, instead of letting whoever steers input down that
 * path blind the monitor.  Programs run by the exec and mail actions
 * inherit the filter (extra = PRIV_SECCOMP_SPAWN).  Call after priv_drop().
 * 0 or -errno with a sentence in errbuf.
 */
int priv_seccomp_daemon(unsigned extra, char *errbuf, size_t errlen);

/*
 * For the firewall helper, single-threaded, right after its fork and once
 * libnftables is set up: keeps CAP_NET_ADMIN only (permitted and
 * effective; bounding, inheritable and ambient sets otherwise empty).
 * When root and `id` is given, it also becomes id's uid and gids, keeping
 * CAP_NET_ADMIN across the switch (PR_SET_KEEPCAPS).  Sets no_new_privs
 * and, with `seccomp`, its own filter: netlink messages, memory, exit.
 * 0 or -errno with a sentence in errbuf.
 */
int priv_confine_helper(const struct priv_id *id, int seccomp, char *errbuf, size_t errlen);

/*
 * The identity the daemon will drop to, recorded by priv_set_target()
 * before the firewall helper is forked so that the helper can take it
 * too; NULL when none was set (not root, or before the lookup).  Set once
 * at start-up, before any thread; read-only afterwards.
 */
void priv_set_target(const struct priv_id *id, int seccomp);
const struct priv_id *priv_target(void);
int priv_target_seccomp(void);

/*
 * Reads capability sets and flags of thread `tid` of this process (0: the
 * process itself) from /proc: for tests and the drop's own check.
 */
struct priv_status {
    uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
    long uid[4], gid[4]; /* real, effective, saved, filesystem */
    int no_new_privs;
    int seccomp; /* 0 none, 1 strict, 2 filter */
};
int priv_status_read(pid_t tid, struct priv_status *ret);

#endif
