/*
 * decode_auditd.c - Linux audit records (auditd's log, and the same records
 * through syslog), SELinux AVC and AppArmor denials among them.
 *
 * A record is "type=T msg=audit(SECS.MS:SERIAL): " followed by key=value
 * pairs separated by spaces: values are bare words, "double quoted" strings
 * (never escaped: auditd hex-encodes a string that would need escaping),
 * or, for user-space records, one 'single quoted' msg holding more pairs.
 * Values are views into the record, except hex-decoded strings, the
 * lowercased action and the joined command line, which go to the arena;
 * each is at most as long as the record, so the record's cap bounds them.
 */
#include "decode/decode_auditd.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decode/decode_fieldid.h"
#include "decode/decode_util.h"
#include "decode/decode_zeek_tsv.h"
#include "event/event.h"
#include "event/field.h"
#include "event/time.h"
#include "util/arena.h"
#include "util/limits.h"

#define LIT(s) s, sizeof(s) - 1

/* Audit keys are short words (the longest of the kernel's and auditd's is
 * under 32 bytes); a longer "key" is not one, and the word is skipped. */
#define AUDITD_KEY_MAX 64

/* x86_64 system call numbers (the kernel's uapi unistd_64.h), so that rules
 * naming a call (SigmaHQ's SYSCALL: 'socket') match records of the raw log
 * format, which carries only the number. */
static const char *const x86_64_syscalls[] = {
    [0] = "read",
    [1] = "write",
    [2] = "open",
    [3] = "close",
    [4] = "stat",
    [5] = "fstat",
    [6] = "lstat",
    [7] = "poll",
    [8] = "lseek",
    [9] = "mmap",
    [10] = "mprotect",
    [11] = "munmap",
    [12] = "brk",
    [13] = "rt_sigaction",
    [14] = "rt_sigprocmask",
    [15] = "rt_sigreturn",
    [16] = "ioctl",
    [17] = "pread64",
    [18] = "pwrite64",
    [19] = "readv",
    [20] = "writev",
    [21] = "access",
    [22] = "pipe",
    [23] = "select",
    [24] = "sched_yield",
    [25] = "mremap",
    [26] = "msync",
    [27] = "mincore",
    [28] = "madvise",
    [29] = "shmget",
    [30] = "shmat",
    [31] = "shmctl",
    [32] = "dup",
    [33] = "dup2",
    [34] = "pause",
    [35] = "nanosleep",
    [36] = "getitimer",
    [37] = "alarm",
    [38] = "setitimer",
    [39] = "getpid",
    [40] = "sendfile",
    [41] = "socket",
    [42] = "connect",
    [43] = "accept",
    [44] = "sendto",
    [45] = "recvfrom",
    [46] = "sendmsg",
    [47] = "recvmsg",
    [48] = "shutdown",
    [49] = "bind",
    [50] = "listen",
    [51] = "getsockname",
    [52] = "getpeername",
    [53] = "socketpair",
    [54] = "setsockopt",
    [55] = "getsockopt",
    [56] = "clone",
    [57] = "fork",
    [58] = "vfork",
    [59] = "execve",
    [60] = "exit",
    [61] = "wait4",
    [62] = "kill",
    [63] = "uname",
    [64] = "semget",
    [65] = "semop",
    [66] = "semctl",
    [67] = "shmdt",
    [68] = "msgget",
    [69] = "msgsnd",
    [70] = "msgrcv",
    [71] = "msgctl",
    [72] = "fcntl",
    [73] = "flock",
    [74] = "fsync",
    [75] = "fdatasync",
    [76] = "truncate",
    [77] = "ftruncate",
    [78] = "getdents",
    [79] = "getcwd",
    [80] = "chdir",
    [81] = "fchdir",
    [82] = "rename",
    [83] = "mkdir",
    [84] = "rmdir",
    [85] = "creat",
    [86] = "link",
    [87] = "unlink",
    [88] = "symlink",
    [89] = "readlink",
    [90] = "chmod",
    [91] = "fchmod",
    [92] = "chown",
    [93] = "fchown",
    [94] = "lchown",
    [95] = "umask",
    [96] = "gettimeofday",
    [97] = "getrlimit",
    [98] = "getrusage",
    [99] = "sysinfo",
    [100] = "times",
    [101] = "ptrace",
    [102] = "getuid",
    [103] = "syslog",
    [104] = "getgid",
    [105] = "setuid",
    [106] = "setgid",
    [107] = "geteuid",
    [108] = "getegid",
    [109] = "setpgid",
    [110] = "getppid",
    [111] = "getpgrp",
    [112] = "setsid",
    [113] = "setreuid",
    [114] = "setregid",
    [115] = "getgroups",
    [116] = "setgroups",
    [117] = "setresuid",
    [118] = "getresuid",
    [119] = "setresgid",
    [120] = "getresgid",
    [121] = "getpgid",
    [122] = "setfsuid",
    [123] = "setfsgid",
    [124] = "getsid",
    [125] = "capget",
    [126] = "capset",
    [127] = "rt_sigpending",
    [128] = "rt_sigtimedwait",
    [129] = "rt_sigqueueinfo",
    [130] = "rt_sigsuspend",
    [131] = "sigaltstack",
    [132] = "utime",
    [133] = "mknod",
    [134] = "uselib",
    [135] = "personality",
    [136] = "ustat",
    [137] = "statfs",
    [138] = "fstatfs",
    [139] = "sysfs",
    [140] = "getpriority",
    [141] = "setpriority",
    [142] = "sched_setparam",
    [143] = "sched_getparam",
    [144] = "sched_setscheduler",
    [145] = "sched_getscheduler",
    [146] = "sched_get_priority_max",
    [147] = "sched_get_priority_min",
    [148] = "sched_rr_get_interval",
    [149] = "mlock",
    [150] = "munlock",
    [151] = "mlockall",
    [152] = "munlockall",
    [153] = "vhangup",
    [154] = "modify_ldt",
    [155] = "pivot_root",
    [156] = "_sysctl",
    [157] = "prctl",
    [158] = "arch_prctl",
    [159] = "adjtimex",
    [160] = "setrlimit",
    [161] = "chroot",
    [162] = "sync",
    [163] = "acct",
    [164] = "settimeofday",
    [165] = "mount",
    [166] = "umount2",
    [167] = "swapon",
    [168] = "swapoff",
    [169] = "reboot",
    [170] = "sethostname",
    [171] = "setdomainname",
    [172] = "iopl",
    [173] = "ioperm",
    [174] = "create_module",
    [175] = "init_module",
    [176] = "delete_module",
    [177] = "get_kernel_syms",
    [178] = "query_module",
    [179] = "quotactl",
    [180] = "nfsservctl",
    [181] = "getpmsg",
    [182] = "putpmsg",
    [183] = "afs_syscall",
    [184] = "tuxcall",
    [185] = "security",
    [186] = "gettid",
    [187] = "readahead",
    [188] = "setxattr",
    [189] = "lsetxattr",
    [190] = "fsetxattr",
    [191] = "getxattr",
    [192] = "lgetxattr",
    [193] = "fgetxattr",
    [194] = "listxattr",
    [195] = "llistxattr",
    [196] = "flistxattr",
    [197] = "removexattr",
    [198] = "lremovexattr",
    [199] = "fremovexattr",
    [200] = "tkill",
    [201] = "time",
    [202] = "futex",
    [203] = "sched_setaffinity",
    [204] = "sched_getaffinity",
    [205] = "set_thread_area",
    [206] = "io_setup",
    [207] = "io_destroy",
    [208] = "io_getevents",
    [209] = "io_submit",
    [210] = "io_cancel",
    [211] = "get_thread_area",
    [212] = "lookup_dcookie",
    [213] = "epoll_create",
    [214] = "epoll_ctl_old",
    [215] = "epoll_wait_old",
    [216] = "remap_file_pages",
    [217] = "getdents64",
    [218] = "set_tid_address",
    [219] = "restart_syscall",
    [220] = "semtimedop",
    [221] = "fadvise64",
    [222] = "timer_create",
    [223] = "timer_settime",
    [224] = "timer_gettime",
    [225] = "timer_getoverrun",
    [226] = "timer_delete",
    [227] = "clock_settime",
    [228] = "clock_gettime",
    [229] = "clock_getres",
    [230] = "clock_nanosleep",
    [231] = "exit_group",
    [232] = "epoll_wait",
    [233] = "epoll_ctl",
    [234] = "tgkill",
    [235] = "utimes",
    [236] = "vserver",
    [237] = "mbind",
    [238] = "set_mempolicy",
    [239] = "get_mempolicy",
    [240] = "mq_open",
    [241] = "mq_unlink",
    [242] = "mq_timedsend",
    [243] = "mq_timedreceive",
    [244] = "mq_notify",
    [245] = "mq_getsetattr",
    [246] = "kexec_load",
    [247] = "waitid",
    [248] = "add_key",
    [249] = "request_key",
    [250] = "keyctl",
    [251] = "ioprio_set",
    [252] = "ioprio_get",
    [253] = "inotify_init",
    [254] = "inotify_add_watch",
    [255] = "inotify_rm_watch",
    [256] = "migrate_pages",
    [257] = "openat",
    [258] = "mkdirat",
    [259] = "mknodat",
    [260] = "fchownat",
    [261] = "futimesat",
    [262] = "newfstatat",
    [263] = "unlinkat",
    [264] = "renameat",
    [265] = "linkat",
    [266] = "symlinkat",
    [267] = "readlinkat",
    [268] = "fchmodat",
    [269] = "faccessat",
    [270] = "pselect6",
    [271] = "ppoll",
    [272] = "unshare",
    [273] = "set_robust_list",
    [274] = "get_robust_list",
    [275] = "splice",
    [276] = "tee",
    [277] = "sync_file_range",
    [278] = "vmsplice",
    [279] = "move_pages",
    [280] = "utimensat",
    [281] = "epoll_pwait",
    [282] = "signalfd",
    [283] = "timerfd_create",
    [284] = "eventfd",
    [285] = "fallocate",
    [286] = "timerfd_settime",
    [287] = "timerfd_gettime",
    [288] = "accept4",
    [289] = "signalfd4",
    [290] = "eventfd2",
    [291] = "epoll_create1",
    [292] = "dup3",
    [293] = "pipe2",
    [294] = "inotify_init1",
    [295] = "preadv",
    [296] = "pwritev",
    [297] = "rt_tgsigqueueinfo",
    [298] = "perf_event_open",
    [299] = "recvmmsg",
    [300] = "fanotify_init",
    [301] = "fanotify_mark",
    [302] = "prlimit64",
    [303] = "name_to_handle_at",
    [304] = "open_by_handle_at",
    [305] = "clock_adjtime",
    [306] = "syncfs",
    [307] = "sendmmsg",
    [308] = "setns",
    [309] = "getcpu",
    [310] = "process_vm_readv",
    [311] = "process_vm_writev",
    [312] = "kcmp",
    [313] = "finit_module",
    [314] = "sched_setattr",
    [315] = "sched_getattr",
    [316] = "renameat2",
    [317] = "seccomp",
    [318] = "getrandom",
    [319] = "memfd_create",
    [320] = "kexec_file_load",
    [321] = "bpf",
    [322] = "execveat",
    [323] = "userfaultfd",
    [324] = "membarrier",
    [325] = "mlock2",
    [326] = "copy_file_range",
    [327] = "preadv2",
    [328] = "pwritev2",
    [329] = "pkey_mprotect",
    [330] = "pkey_alloc",
    [331] = "pkey_free",
    [332] = "statx",
    [333] = "io_pgetevents",
    [334] = "rseq",
    [424] = "pidfd_send_signal",
    [425] = "io_uring_setup",
    [426] = "io_uring_enter",
    [427] = "io_uring_register",
    [428] = "open_tree",
    [429] = "move_mount",
    [430] = "fsopen",
    [431] = "fsconfig",
    [432] = "fsmount",
    [433] = "fspick",
    [434] = "pidfd_open",
    [435] = "clone3",
    [436] = "close_range",
    [437] = "openat2",
    [438] = "pidfd_getfd",
    [439] = "faccessat2",
    [440] = "process_madvise",
    [441] = "epoll_pwait2",
    [442] = "mount_setattr",
    [443] = "quotactl_fd",
    [444] = "landlock_create_ruleset",
    [445] = "landlock_add_rule",
    [446] = "landlock_restrict_self",
    [447] = "memfd_secret",
    [448] = "process_mrelease",
    [449] = "futex_waitv",
    [450] = "set_mempolicy_home_node",
};

/* The numeric record types the kernel writes when no auditd names them
 * (linux/audit.h and libaudit's table). */
static const struct type_num {
    unsigned num;
    const char *name;
} type_nums[] = {
    {1006, "LOGIN"},
    {1100, "USER_AUTH"},
    {1101, "USER_ACCT"},
    {1103, "CRED_ACQ"},
    {1104, "CRED_DISP"},
    {1105, "USER_START"},
    {1106, "USER_END"},
    {1107, "USER_AVC"},
    {1109, "USER_ERR"},
    {1112, "USER_LOGIN"},
    {1123, "USER_CMD"},
    {1130, "SERVICE_START"},
    {1131, "SERVICE_STOP"},
    {1300, "SYSCALL"},
    {1302, "PATH"},
    {1305, "CONFIG_CHANGE"},
    {1306, "SOCKADDR"},
    {1307, "CWD"},
    {1309, "EXECVE"},
    {1320, "EOE"},
    {1325, "NETFILTER_CFG"},
    {1326, "SECCOMP"},
    {1327, "PROCTITLE"},
    {1334, "BPF"},
    {1400, "AVC"},
    {1401, "SELINUX_ERR"},
    {1502, "APPARMOR_ALLOWED"},
    {1503, "APPARMOR_DENIED"},
    {1505, "APPARMOR_STATUS"},
    {1700, "ANOM_PROMISCUOUS"},
    {1701, "ANOM_ABEND"},
    {1702, "ANOM_LINK"},
};

/* What the ECS names are made of; the first value of each key wins. */
struct audit_rec {
    struct decode_span type;
    int is_execve, is_avc, is_proctitle; /* of the record being read */
    int saw_syscall, saw_execve;         /* of the records read so far */
    int has_execve;                      /* a joined event with an EXECVE: its SYSCALL's a0..a3
                                            (pointers) are left out, a0... are the arguments */
    struct decode_span syscall, arch, syscall_name, success, res, uid, acct, enriched_uid, addr,
        exe, cwd, path, name, key, proctitle, apparmor, seresult, pid, ppid, auid;
    /* EXECVE: the arguments joined, in a buffer of the record's length. */
    char *cmd;
    size_t cmd_n, cmd_cap;
};

static int span_is(struct decode_span s, const char *lit, size_t n)
{
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static int starts(const char *p, size_t n, const char *lit, size_t ln)
{
    return n >= ln && memcmp(p, lit, ln) == 0;
}

/* Byte classes for the pair scanner, which looks at every byte of the
 * record: a table instead of a chain of comparisons. */
#define CL_SEP 1 /* between pairs: blank, tab, the enriched format's 0x1d */
#define CL_KEY 2 /* in a key: [A-Za-z0-9_-] and the brackets of a0[1] */
static unsigned char byte_class(char c)
{
    static const unsigned char cls[256] = {
        [' '] = CL_SEP, ['\t'] = CL_SEP, [0x1d] = CL_SEP, ['_'] = CL_KEY, ['-'] = CL_KEY,
        ['['] = CL_KEY, [']'] = CL_KEY,  ['0'] = CL_KEY,  ['1'] = CL_KEY, ['2'] = CL_KEY,
        ['3'] = CL_KEY, ['4'] = CL_KEY,  ['5'] = CL_KEY,  ['6'] = CL_KEY, ['7'] = CL_KEY,
        ['8'] = CL_KEY, ['9'] = CL_KEY,  ['A'] = CL_KEY,  ['B'] = CL_KEY, ['C'] = CL_KEY,
        ['D'] = CL_KEY, ['E'] = CL_KEY,  ['F'] = CL_KEY,  ['G'] = CL_KEY, ['H'] = CL_KEY,
        ['I'] = CL_KEY, ['J'] = CL_KEY,  ['K'] = CL_KEY,  ['L'] = CL_KEY, ['M'] = CL_KEY,
        ['N'] = CL_KEY, ['O'] = CL_KEY,  ['P'] = CL_KEY,  ['Q'] = CL_KEY, ['R'] = CL_KEY,
        ['S'] = CL_KEY, ['T'] = CL_KEY,  ['U'] = CL_KEY,  ['V'] = CL_KEY, ['W'] = CL_KEY,
        ['X'] = CL_KEY, ['Y'] = CL_KEY,  ['Z'] = CL_KEY,  ['a'] = CL_KEY, ['b'] = CL_KEY,
        ['c'] = CL_KEY, ['d'] = CL_KEY,  ['e'] = CL_KEY,  ['f'] = CL_KEY, ['g'] = CL_KEY,
        ['h'] = CL_KEY, ['i'] = CL_KEY,  ['j'] = CL_KEY,  ['k'] = CL_KEY, ['l'] = CL_KEY,
        ['m'] = CL_KEY, ['n'] = CL_KEY,  ['o'] = CL_KEY,  ['p'] = CL_KEY, ['q'] = CL_KEY,
        ['r'] = CL_KEY, ['s'] = CL_KEY,  ['t'] = CL_KEY,  ['u'] = CL_KEY, ['v'] = CL_KEY,
        ['w'] = CL_KEY, ['x'] = CL_KEY,  ['y'] = CL_KEY,  ['z'] = CL_KEY,
    };

    return cls[(unsigned char)c];
}

static int is_sep(char c)
{
    return byte_class(c) & CL_SEP;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* auditd writes hex in upper case, an even number of digits. */
static int is_hex(struct decode_span v)
{
    if (v.n < 2 || v.n % 2)
        return 0;
    for (size_t i = 0; i < v.n; i++)
        if (hexval(v.p[i]) < 0)
            return 0;
    return 1;
}

/* An EXECVE argument key: a<digits>, or a<digits>[<digits>] for a piece of
 * a long argument. */
static int is_arg_key(struct decode_span k)
{
    size_t i = 1;

    if (k.n < 2 || k.p[0] != 'a')
        return 0;
    while (i < k.n && k.p[i] >= '0' && k.p[i] <= '9')
        i++;
    if (i == 1)
        return 0;
    if (i == k.n)
        return 1;
    if (k.p[i] != '[' || k.p[k.n - 1] != ']' || k.n - i < 3)
        return 0;
    for (size_t j = i + 1; j + 1 < k.n; j++)
        if (k.p[j] < '0' || k.p[j] > '9')
            return 0;
    return 1;
}

/* Decodes hex into the arena; NULs become spaces when `nul_space` (the
 * proctitle's argument separators), and trailing ones are dropped. */
static int unhex(struct event *ev, struct decode_span v, int nul_space, struct decode_span *ret)
{
    char *o = arena_alloc(ev->arena, v.n / 2 ? v.n / 2 : 1);
    size_t n = 0;

    if (!o)
        return -ENOMEM;
    for (size_t i = 0; i + 1 < v.n; i += 2) {
        char c = (char)(hexval(v.p[i]) * 16 + hexval(v.p[i + 1]));
        if (c == '\0' && nul_space)
            c = ' ';
        o[n++] = c;
    }
    while (nul_space && n && o[n - 1] == ' ')
        n--;
    ret->p = o;
    ret->n = n;
    return 0;
}

static void first(struct decode_span *dst, struct decode_span v)
{
    if (!dst->p && v.n)
        *dst = v;
}

/* Appends an EXECVE argument to the command line: a space before each
 * argument, none before the second and later pieces of a split one. */
static void cmd_append(struct audit_rec *rec, struct decode_span k, struct decode_span v)
{
    const char *br = memchr(k.p, '[', k.n);
    int piece = br && !(br + 2 < k.p + k.n && br[1] == '0' && br[2] == ']');

    if (!rec->cmd)
        return;
    if (rec->cmd_n && !piece && rec->cmd_n < rec->cmd_cap)
        rec->cmd[rec->cmd_n++] = ' ';
    if (v.n > rec->cmd_cap - rec->cmd_n)
        v.n = rec->cmd_cap - rec->cmd_n;
    memcpy(rec->cmd + rec->cmd_n, v.p, v.n);
    rec->cmd_n += v.n;
}

/*
 * The keys the decoder looks at: where each goes (the ECS names are made
 * of them), and whether auditd hex-encodes its unquoted value
 * (audit_log_untrustedstring in the kernel, and auditd's user-space
 * counterparts).  Every pair's key is looked up once, in the entries of
 * its length: the table is sorted by length, key_by_len[] says where each
 * length starts.
 */
struct audit_key {
    const char *s;
    uint8_t n;
    uint8_t hex; /* unquoted hex values are encoded strings */
    int16_t off; /* of a struct decode_span in struct audit_rec; -1: none */
};

#define KEY(s, hex, f)                                                                             \
    {                                                                                              \
        s, sizeof(s) - 1, hex, (int16_t)offsetof(struct audit_rec, f)                              \
    }
#define KEY_HEX(s)                                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1, 1, -1                                                                    \
    }
static const struct audit_key audit_keys[] = {
    /* 3 */
    KEY("res", 0, res),
    KEY("uid", 0, uid),
    KEY("UID", 0, enriched_uid),
    KEY("exe", 1, exe),
    KEY("cwd", 1, cwd),
    KEY("key", 1, key),
    KEY("pid", 0, pid),
    KEY_HEX("cmd"),
    /* 4 */
    KEY("arch", 0, arch),
    KEY("acct", 1, acct),
    KEY("addr", 0, addr),
    KEY("path", 1, path),
    KEY("name", 1, name),
    KEY("ppid", 0, ppid),
    KEY("auid", 0, auid),
    KEY_HEX("comm"),
    KEY_HEX("data"),
    /* 7 */
    KEY("syscall", 0, syscall),
    KEY("SYSCALL", 0, syscall_name),
    KEY("success", 0, success),
    /* 8 */
    KEY("apparmor", 0, apparmor),
    KEY_HEX("old-name"),
    KEY_HEX("new-name"),
    /* 9 */
    KEY("proctitle", 1, proctitle),
};
#undef KEY
#undef KEY_HEX
/* audit_keys[key_by_len[n]] .. audit_keys[key_by_len[n + 1] - 1]: length n */
static const uint8_t key_by_len[] = {0, 0, 0, 0, 8, 17, 17, 17, 20, 23, 24};

static const struct audit_key *key_find(struct decode_span k)
{
    if (k.n + 1 >= sizeof(key_by_len))
        return NULL;
    for (unsigned i = key_by_len[k.n]; i < key_by_len[k.n + 1]; i++)
        if (k.p[0] == audit_keys[i].s[0] && memcmp(k.p, audit_keys[i].s, k.n) == 0)
            return &audit_keys[i];
    return NULL;
}

/* Adds field `name` through the per-thread id cache (decode_fieldid.h):
 * the record's names and this decoder's own come back on every record. */
static int add_named(struct event *ev, const char *name, size_t n, struct decode_span v)
{
    if (!v.n)
        return 0;
    return decode_util_add(ev, decode_fieldid_intern(name, n), v);
}

/*
 * What a key came to, kept per thread by its place in the record and the
 * key before it (the records of one kind write their keys in one order):
 * its words (the first and last 8 or 4 bytes, or for 1 to 3 bytes the
 * first, middle and last: with the length, every byte, so that equal words
 * and length are an equal key), its audit_keys[] entry (NULL: none), and its
 * id for the dictionary generation `gen` (FIELD_NONE: not asked yet, or
 * refused, which is not kept).  key_find()'s compares and
 * decode_fieldid_intern()'s hash for each of a record's 10-30 pairs were a
 * third of its instructions (issue 24).
 */
struct auditd_key_memo {
    uint64_t a, b;
    uint32_t len, id, gen;
    const struct audit_key *ak;
};
#define AUDITD_KEY_MEMOS 1024

/* Where the memo of key k (1 to 16 bytes) at `place` is, after the key
 * whose token *tok holds; *ret_a and *ret_b: k's words; *tok becomes k's. */
static struct auditd_key_memo *key_memo(struct decode_span k, uint64_t *ret_a, uint64_t *ret_b,
                                        uint32_t *tok, size_t place)
{
    static _Thread_local struct auditd_key_memo memos[AUDITD_KEY_MEMOS];
    struct auditd_key_memo *m = &memos[decode_fieldid_memo_slot(*tok, place, AUDITD_KEY_MEMOS)];
    uint64_t a = 0, b = 0;

    if (k.n >= 8) {
        memcpy(&a, k.p, 8);
        memcpy(&b, k.p + k.n - 8, 8);
    } else if (k.n >= 4) {
        uint32_t x, y;

        memcpy(&x, k.p, 4);
        memcpy(&y, k.p + k.n - 4, 4);
        a = x;
        b = y;
    } else { /* 1 to 3 bytes, without a call to memcpy of a variable length */
        a = (unsigned char)k.p[0] | (uint64_t)(unsigned char)k.p[k.n / 2] << 8 |
            (uint64_t)(unsigned char)k.p[k.n - 1] << 16;
    }
    *ret_a = a;
    *ret_b = b;
    *tok = (uint32_t)((a ^ (b >> 7) ^ k.n) * 0x9e3779b97f4a7c15ull >> 32);
    return m;
}

/* The key's id: from the memo (when there is one and it holds it for
 * gen), else asked and kept. */
static inline uint32_t key_id(struct auditd_key_memo *m, uint32_t gen, struct decode_span k)
{
    uint32_t id;

    if (m && m->id != FIELD_NONE && m->gen == gen)
        return m->id;
    id = decode_fieldid_intern(k.p, k.n);
    if (m && id != FIELD_NONE) {
        m->id = id;
        m->gen = gen;
    }
    return id;
}

/* The pair k=v.  *tok and place: where the key's memo is (see key_memo());
 * *tok becomes this key's. */
static int add_pair(struct event *ev, struct audit_rec *rec, struct decode_span k,
                    struct decode_span v, int quoted, uint32_t *tok, size_t place, uint32_t gen)
{
    struct auditd_key_memo *m = NULL;
    const struct audit_key *ak;
    int arg, r;

    if (k.n <= DECODE_FIELDID_MEMO_NAME) {
        uint64_t a, b;

        m = key_memo(k, &a, &b, tok, place);
        if (m->len != k.n || m->a != a || m->b != b) {
            m->a = a;
            m->b = b;
            m->len = (uint32_t)k.n;
            m->ak = key_find(k);
            m->id = FIELD_NONE;
        }
        ak = m->ak;
    } else {
        *tok = (uint32_t)k.n;
        ak = key_find(k);
    }
    /* a0..., a0[1]...: an EXECVE's arguments, a SYSCALL's pointers */
    arg = !ak && k.p[0] == 'a' && (rec->is_execve || rec->has_execve) && is_arg_key(k);
    if (!quoted && (span_is(v, LIT("(null)")) || span_is(v, LIT("?"))))
        return 0;
    if (arg && !rec->is_execve)
        return 0; /* a joined execve: a0... are the arguments */
    if (!quoted && ((ak && ak->hex) || arg) && is_hex(v)) {
        int title = rec->is_proctitle && ak && ak->off == offsetof(struct audit_rec, proctitle);
        if ((r = unhex(ev, v, title, &v)) < 0)
            return r;
    }
    if (ak && ak->off >= 0)
        first((struct decode_span *)(void *)((char *)rec + ak->off), v);
    else if (arg)
        cmd_append(rec, k, v);
    if (!v.n) /* as add_named(): the name is not even asked for */
        return 0;
    return decode_util_add(ev, key_id(m, gen, k), v);
}

/* "avc:  denied  { read write } for ..." (SELinux): the result and the
 * permissions; returns the offset after the closing brace, or `i`. */
static size_t avc_head(struct event *ev, struct audit_rec *rec, const char *p, size_t n, size_t i,
                       int *ret_r)
{
    struct decode_span res, perms;
    const char *close;

    *ret_r = 0;
    if (!starts(p + i, n - i, LIT("avc:")))
        return i;
    i += 4;
    while (i < n && is_sep(p[i]))
        i++;
    res.p = p + i;
    while (i < n && !is_sep(p[i]))
        i++;
    res.n = (size_t)(p + i - res.p);
    while (i < n && is_sep(p[i]))
        i++;
    rec->is_avc = 1;
    first(&rec->seresult, res);
    if ((*ret_r = add_named(ev, LIT("seresult"), res)) < 0)
        return i;
    if (i >= n || p[i] != '{' || !(close = memchr(p + i, '}', n - i)))
        return i;
    perms.p = p + i + 1;
    perms.n = (size_t)(close - perms.p);
    while (perms.n && perms.p[0] == ' ') {
        perms.p++;
        perms.n--;
    }
    while (perms.n && perms.p[perms.n - 1] == ' ')
        perms.n--;
    *ret_r = add_named(ev, LIT("seperms"), perms);
    return (size_t)(close - p) + 1;
}

/*
 * The pair scanner's two questions, where the next byte that is no key
 * byte is and where the next separator is, answered 16 bytes a step where
 * SSE2 is there (x86-64's baseline): a byte a step with the class table
 * was a fifth of a record's instructions (issue 24).  The 16-byte loads
 * stay inside [i, n); the last bytes go a byte a step.
 */
#ifdef __SSE2__
static inline unsigned key_bytes16(__m128i x)
{
    /* With bit 5 set, letters are a-z (and only they: '@' and '`' become
     * 0x60); bytes from 0x80 on are negative to the signed compares, and
     * in no range. */
    __m128i lo = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8('a' - 1)),
                                  _mm_cmplt_epi8(lo, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
    __m128i other = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('_')), _mm_cmpeq_epi8(x, _mm_set1_epi8('-'))),
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('[')), _mm_cmpeq_epi8(x, _mm_set1_epi8(']'))));

    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), other));
}

static inline unsigned sep_bytes16(__m128i x)
{
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\t'))),
        _mm_cmpeq_epi8(x, _mm_set1_epi8(0x1d))));
}
#endif

/* The first i' >= i whose byte is no key byte, or n. */
static inline size_t skip_key(const char *p, size_t i, size_t n)
{
#ifdef __SSE2__
    while (i + 16 <= n) {
        unsigned m = ~key_bytes16(_mm_loadu_si128((const __m128i *)(const void *)(p + i))) & 0xffff;
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < n && (byte_class(p[i]) & CL_KEY))
        i++;
    return i;
}

/* The first i' >= i whose byte is a separator, or n. */
static inline size_t to_sep(const char *p, size_t i, size_t n)
{
#ifdef __SSE2__
    while (i + 16 <= n) {
        unsigned m = sep_bytes16(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < n && !is_sep(p[i]))
        i++;
    return i;
}

/*
 * The pairs of (p, n).  Words that are not key=value ("for", the kernel's
 * "initialized") are skipped.  A single-quoted msg='...' is read as pairs
 * once (depth 0 only); deeper it is one value.
 */
static int pairs(struct event *ev, struct audit_rec *rec, const char *p, size_t n, int depth)
{
    size_t i = 0, place = 0;
    uint32_t tok = (uint32_t)depth, gen = field_generation();
    int r;

    while (i < n && is_sep(p[i]))
        i++;
    i = avc_head(ev, rec, p, n, i, &r);
    if (r < 0)
        return r;
    while (i < n) {
        struct decode_span k, v;
        int quoted = 0;

        if (is_sep(p[i])) {
            i++;
            continue;
        }
        k.p = p + i;
        i = skip_key(p, i, n);
        k.n = (size_t)(p + i - k.p);
        if (i >= n || p[i] != '=' || k.n == 0 || k.n > AUDITD_KEY_MAX) {
            /* not a pair: skip the word (a quoted word whole) */
            if (i < n && (p[i] == '"' || p[i] == '\'')) {
                const char *q = memchr(p + i + 1, p[i], n - i - 1);
                i = q ? (size_t)(q - p) + 1 : n;
            }
            i = to_sep(p, i, n);
            continue;
        }
        i++;
        if (i < n && (p[i] == '"' || p[i] == '\'')) {
            char qc = p[i];
            const char *q = memchr(p + i + 1, qc, n - i - 1);
            v.p = p + i + 1;
            v.n = q ? (size_t)(q - v.p) : n - i - 1; /* cut: up to the end */
            i = q ? (size_t)(q - p) + 1 : n;
            if (qc == '\'' && depth == 0 && span_is(k, LIT("msg"))) {
                if ((r = pairs(ev, rec, v.p, v.n, 1)) < 0)
                    return r;
                continue;
            }
            quoted = 1;
        } else {
            v.p = p + i;
            i = to_sep(p, i, n);
            v.n = (size_t)(p + i - v.p);
        }
        if ((r = add_pair(ev, rec, k, v, quoted, &tok, place++, gen)) < 0)
            return r;
    }
    return 0;
}

/* The record type's name: a numeric one translated when known. */
static struct decode_span type_name(struct decode_span t)
{
    unsigned num = 0;

    if (!t.n || t.n > 5)
        return t;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return t;
        num = num * 10 + (unsigned)(t.p[i] - '0');
    }
    for (size_t i = 0; i < sizeof(type_nums) / sizeof(type_nums[0]); i++)
        if (type_nums[i].num == num)
            return decode_util_cstr(type_nums[i].name);
    return t;
}

static int add_lower(struct event *ev, uint32_t id, struct decode_span s)
{
    char *t;

    if (!s.n)
        return 0;
    if (!(t = arena_alloc(ev->arena, s.n)))
        return -ENOMEM;
    for (size_t k = 0; k < s.n; k++)
        t[k] = (s.p[k] >= 'A' && s.p[k] <= 'Z') ? (char)(s.p[k] - 'A' + 'a') : s.p[k];
    return decode_util_add(ev, id, (struct decode_span){t, s.n});
}

static const char *outcome(const struct audit_rec *rec)
{
    if ((rec->is_avc && span_is(rec->seresult, LIT("denied"))) ||
        span_is(rec->apparmor, LIT("DENIED")))
        return "failure";
    if (span_is(rec->success, LIT("yes")) || span_is(rec->res, LIT("success")) ||
        span_is(rec->res, LIT("1")))
        return "success";
    if (span_is(rec->success, LIT("no")) || span_is(rec->res, LIT("failed")) ||
        span_is(rec->res, LIT("0")))
        return "failure";
    return NULL;
}

static int emit_ecs(struct event *ev, struct audit_rec *rec)
{
    struct decode_span t = rec->type;
    const char *out = outcome(rec);
    int denied = out && (rec->is_avc || rec->apparmor.n) && strcmp(out, "failure") == 0;
    int r;

    if ((r = decode_util_add(ev, FIELD_EVENT_MODULE, decode_util_cstr("auditd"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_DATASET, decode_util_cstr("auditd.log"))) < 0 ||
        (r = decode_util_add(ev, FIELD_EVENT_KIND, decode_util_cstr("event"))) < 0 ||
        (r = add_lower(ev, FIELD_EVENT_ACTION, t)) < 0)
        return r;
    if (span_is(t, LIT("USER_AUTH")) || span_is(t, LIT("USER_LOGIN")) ||
        span_is(t, LIT("USER_ERR")) || span_is(t, LIT("USER_ACCT"))) {
        if ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("authentication"))) < 0)
            return r;
    }
    /* A program started: the call and its arguments, joined (EXECVE
     * records are written only for an execve that loaded the program). */
    if (rec->saw_syscall && rec->saw_execve &&
        ((r = decode_util_add(ev, FIELD_EVENT_CATEGORY, decode_util_cstr("process"))) < 0 ||
         (r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("start"))) < 0))
        return r;
    if (out && (r = decode_util_add(ev, FIELD_EVENT_OUTCOME, decode_util_cstr(out))) < 0)
        return r;
    if (denied) {
        const char *prod = rec->apparmor.n ? "apparmor" : "selinux";
        if ((r = decode_util_add(ev, FIELD_EVENT_TYPE, decode_util_cstr("denied"))) < 0 ||
            (r = decode_util_add(ev, FIELD_OBSERVER_PRODUCT, decode_util_cstr(prod))) < 0)
            return r;
    }
    if ((r = decode_util_add(ev, FIELD_USER_ID, rec->uid)) < 0 ||
        (r = decode_util_add(ev, FIELD_USER_NAME, rec->acct.n ? rec->acct : rec->enriched_uid)) <
            0 ||
        (r = decode_util_add(ev, FIELD_PROCESS_WORKING_DIRECTORY, rec->cwd)) < 0 ||
        (r = decode_util_add(ev, FIELD_RULE_NAME, rec->key)) < 0 ||
        (r = add_named(ev, LIT("process.executable"), rec->exe)) < 0 ||
        (r = add_named(ev, LIT("process.pid"), rec->pid)) < 0 ||
        (r = add_named(ev, LIT("process.parent.pid"), rec->ppid)) < 0)
        return r;
    /* 4294967295 is (uid_t)-1: no login uid (a daemon's process). */
    if (!span_is(rec->auid, LIT("4294967295")) &&
        (r = add_named(ev, LIT("user.audit.id"), rec->auid)) < 0)
        return r;
    if (decode_util_is_ip(rec->addr.p, rec->addr.n) &&
        (r = decode_util_add(ev, FIELD_SOURCE_IP, rec->addr)) < 0)
        return r;
    if (rec->path.n) {
        if ((r = decode_util_add(ev, FIELD_FILE_PATH, rec->path)) < 0 ||
            (rec->is_avc && (r = add_named(ev, LIT("file.name"), rec->name)) < 0))
            return r;
    } else if (rec->name.n) {
        if ((r = rec->is_avc ? add_named(ev, LIT("file.name"), rec->name)
                             : decode_util_add(ev, FIELD_FILE_PATH, rec->name)) < 0)
            return r;
    }
    /* EXECVE's arguments over the proctitle, which the kernel cuts at 128
     * bytes, when an event joined both. */
    if (rec->cmd_n)
        r = decode_util_add(ev, FIELD_PROCESS_COMMAND_LINE,
                            (struct decode_span){rec->cmd, rec->cmd_n});
    else if (rec->proctitle.n)
        r = decode_util_add(ev, FIELD_PROCESS_COMMAND_LINE, rec->proctitle);
    if (r < 0)
        return r;
    /* The call's name for rules that name it, when the enriched format did
     * not give it. */
    if (!rec->syscall_name.n && rec->syscall.n && span_is(rec->arch, LIT("c000003e"))) {
        unsigned num = 0;
        size_t i = 0;
        while (i < rec->syscall.n && i < 4 && rec->syscall.p[i] >= '0' && rec->syscall.p[i] <= '9')
            num = num * 10 + (unsigned)(rec->syscall.p[i++] - '0');
        if (i == rec->syscall.n && num < sizeof(x86_64_syscalls) / sizeof(x86_64_syscalls[0]) &&
            x86_64_syscalls[num] &&
            (r = add_named(ev, LIT("SYSCALL"), decode_util_cstr(x86_64_syscalls[num]))) < 0)
            return r;
    }
    return 0;
}

/* "SECS.MS:SERIAL)" at p[i]: the time and the serial; returns the offset
 * after the ')' or 0 when malformed. */
static size_t stamp(const char *p, size_t n, size_t i, struct decode_span *ret_time,
                    struct decode_span *ret_serial)
{
    size_t s = i;

    while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
        i++;
    if (i == s || i >= n || p[i] != ':')
        return 0;
    ret_time->p = p + s;
    ret_time->n = i - s;
    s = ++i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i == s || i >= n || p[i] != ')')
        return 0;
    ret_serial->p = p + s;
    ret_serial->n = i - s;
    return i + 1;
}

/* What precedes a record's pairs. */
struct audit_head {
    struct decode_span node, type, tm, serial;
    size_t body; /* offset of the pairs */
};

/*
 * Reads "[node=N ][[uptime] ][audit: ][type=T ](msg=)audit(TIME:SERIAL): "
 * at the start of (p, len).  0, -ENOENT (not an audit record) or -EINVAL
 * (a malformed stamp, with *reterr).  The type is left as written.
 */
static int head(const char *p, size_t len, struct audit_head *h, struct parse_err *reterr)
{
    size_t i = 0;

    memset(h, 0, sizeof(*h));
    if (starts(p, len, LIT("node="))) {
        h->node.p = p + 5;
        for (i = 5; i < len && !is_sep(p[i]);)
            i++;
        h->node.n = i - 5;
        while (i < len && p[i] == ' ')
            i++;
    }
    /* "[ 1234.567890] " kernel uptime, when the syslog daemon kept it. */
    if (i < len && p[i] == '[') {
        size_t k = i + 1;
        while (k < len && (p[k] == ' ' || p[k] == '.' || (p[k] >= '0' && p[k] <= '9')))
            k++;
        if (k < len && p[k] == ']' && k > i + 1) {
            i = k + 1;
            while (i < len && p[i] == ' ')
                i++;
        }
    }
    if (starts(p + i, len - i, LIT("audit: ")))
        i += 7;
    if (starts(p + i, len - i, LIT("type="))) {
        h->type.p = p + i + 5;
        for (i += 5; i < len && p[i] != ' ';)
            i++;
        h->type.n = (size_t)(p + i - h->type.p);
        while (i < len && p[i] == ' ')
            i++;
    }
    if (starts(p + i, len - i, LIT("msg=audit(")))
        i += 10;
    else if (starts(p + i, len - i, LIT("audit(")))
        i += 6;
    else
        return -ENOENT;
    if (!(h->body = stamp(p, len, i, &h->tm, &h->serial))) {
        parse_err_set(reterr, i, "audit( stamp is not TIME:SERIAL)");
        return -EINVAL;
    }
    if (h->body < len && p[h->body] == ':')
        h->body++;
    return 0;
}

/*
 * Adds the fields of one record (whose head `h` was read) to ev and what
 * its ECS names are made of to rec.  `first`: the first record of the
 * event, which gives the time, node and serial; a joined event's later
 * records add only their type and pairs.
 */
static int record(struct event *ev, struct audit_rec *rec, const struct audit_head *h,
                  const char *p, size_t len, int is_first)
{
    struct decode_span type = type_name(h->type);
    int64_t us;
    size_t used;
    int r;

    rec->is_execve = span_is(type, LIT("EXECVE"));
    rec->is_proctitle = span_is(type, LIT("PROCTITLE"));
    rec->saw_execve |= rec->is_execve;
    rec->saw_syscall |= span_is(type, LIT("SYSCALL"));
    first(&rec->type, type);
    if (is_first) {
        /* A stamp the kernel wrote oddly (an overflowed fraction) costs
         * the time only; the record is still what it says. */
        if (time_parse_epoch(h->tm.p, h->tm.n, &us, &used) == 0 && used == h->tm.n &&
            (r = event_set_time(ev, us, h->tm.p, h->tm.n)) < 0)
            return r;
        if ((r = add_named(ev, LIT("node"), h->node)) < 0 ||
            (r = add_named(ev, LIT("event.sequence"), h->serial)) < 0)
            return r;
    }
    if ((r = add_named(ev, LIT("type"), type)) < 0)
        return r;
    return pairs(ev, rec, p + h->body, len - h->body, 0);
}

/* The event's command line buffer: as long as its records, which bounds
 * the arguments joined. */
static int cmd_buffer(struct event *ev, struct audit_rec *rec, size_t cap)
{
    rec->cmd_cap = cap;
    if (cap && !(rec->cmd = arena_alloc(ev->arena, cap)))
        return -ENOMEM;
    return 0;
}

/*
 * Joining.  The kernel writes a system call's records (SYSCALL, EXECVE,
 * CWD, PATH..., PROCTITLE, EOE) one by one, each with the call's serial;
 * another CPU's records may come in between.  Each stream holds the
 * records of up to LIMIT_AUDITD_JOIN_OPEN serials, copied (the caller's
 * bytes last one call), and a serial is complete on its EOE, when a
 * record is LIMIT_AUDITD_JOIN_WINDOW_MS later than it, when it reaches a
 * cap, or when more serials are open than the cap (the oldest).  The
 * caller takes the complete ones after each record (decode_auditd_flush)
 * and every one at the end of the stream.
 */
enum held_state { HELD_FREE, HELD_OPEN, HELD_DONE };

/*
 * A held record's head (struct audit_head) as offsets into the record
 * (UINT32_MAX: the span is absent): read when the record was held, and not
 * again when its event is built (reading it twice was 12 % of a record's
 * instructions, issue 24).
 */
struct auditd_held_head {
    uint32_t off[4], n[4]; /* node, type, tm, serial */
    uint32_t body;
};

static void head_pack(struct auditd_held_head *o, const struct audit_head *h, const char *p)
{
    const struct decode_span *s[4] = {&h->node, &h->type, &h->tm, &h->serial};

    for (int k = 0; k < 4; k++) {
        o->off[k] = s[k]->p ? (uint32_t)(s[k]->p - p) : UINT32_MAX;
        o->n[k] = (uint32_t)s[k]->n;
    }
    o->body = (uint32_t)h->body;
}

/* The head as head() read it from the record's bytes, now at p. */
static void head_unpack(struct audit_head *h, const struct auditd_held_head *o, const char *p)
{
    struct decode_span *s[4] = {&h->node, &h->type, &h->tm, &h->serial};

    for (int k = 0; k < 4; k++) {
        s[k]->p = o->off[k] == UINT32_MAX ? NULL : p + o->off[k];
        s[k]->n = o->n[k];
    }
    h->body = o->body;
}

struct auditd_held {
    enum held_state state;
    uint64_t serial;
    int64_t ms;                                  /* the records' time */
    uint64_t order;                              /* when opened: oldest first */
    uint32_t nrec;                               /* <= LIMIT_AUDITD_JOIN_RECORDS */
    uint32_t len;                                /* bytes of buf used */
    uint32_t node_n;                             /* the node= name, at buf + 5 */
    int has_execve;                              /* an EXECVE record is held */
    uint32_t rec_end[LIMIT_AUDITD_JOIN_RECORDS]; /* record k: rec_end[k-1]..rec_end[k] */
    struct auditd_held_head heads[LIMIT_AUDITD_JOIN_RECORDS]; /* record k's head */
    char buf[LIMIT_AUDITD_JOIN_BYTES];                        /* the records, back to back */
};

struct decode_auditd_join {
    uint64_t next_order;
    uint32_t ndone; /* slots HELD_DONE */
    /* One more than may be open: the oldest is completed to make room and
     * taken by the caller before the next record. */
    struct auditd_held held[LIMIT_AUDITD_JOIN_OPEN + 1];
};

/* The record types of a system call's event, the ones joined.  Others
 * (user-space records, AVC, kernel records of their own) stand alone. */
static int is_call_record(struct decode_span t)
{
    static const char *const types[] = {"SYSCALL",   "EXECVE",   "CWD",        "PATH",
                                        "PROCTITLE", "SOCKADDR", "EOE",        "FD_PAIR",
                                        "MMAP",      "CAPSET",   "BPRM_FCAPS", "OBJ_PID"};

    if (t.n < 3 || t.n > 10 || t.p[0] < 'B' || t.p[0] > 'S')
        return 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (t.n == strlen(types[i]) && memcmp(t.p, types[i], t.n) == 0)
            return 1;
    return 0;
}

/* The stamp's time "SECS.MMM" (as the kernel writes it) in milliseconds;
 * 0 when it is not that. */
static int stamp_ms(struct decode_span t, int64_t *ret)
{
    int64_t v = 0;
    size_t i = 0, f;

    while (i < t.n && i < 12 && t.p[i] >= '0' && t.p[i] <= '9')
        v = v * 10 + (t.p[i++] - '0');
    if (i == 0 || i + 4 != t.n || t.p[i] != '.')
        return 0;
    for (f = i + 1; f < t.n; f++) {
        if (t.p[f] < '0' || t.p[f] > '9')
            return 0;
        v = v * 10 + (t.p[f] - '0');
    }
    *ret = v;
    return 1;
}

/* Decimal digits to a number; 0 when it is not one (or too long). */
static int to_u64(struct decode_span s, uint64_t *ret)
{
    uint64_t v = 0;

    if (!s.n || s.n > 18)
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    *ret = v;
    return 1;
}

static void done(struct decode_auditd_join *j, struct auditd_held *h)
{
    if (h->state == HELD_OPEN) {
        h->state = HELD_DONE;
        j->ndone++;
    }
}

/*
 * Holds record (p, len) of head `hd` in stream s: -EAGAIN when held, 0
 * when it is to be decoded alone (not joinable, a serial already taken,
 * a cap, no memory for the join).
 */
static int hold(struct decode_stream *s, const struct audit_head *hd, const char *p, size_t len)
{
    struct decode_auditd_join *j = s->auditd;
    struct auditd_held *h = NULL, *fresh = NULL, *oldest = NULL;
    uint64_t serial;
    int64_t ms;
    unsigned open = 0;

    if (!to_u64(hd->serial, &serial) || !stamp_ms(hd->tm, &ms) || len > LIMIT_AUDITD_JOIN_BYTES ||
        hd->node.n > 255)
        return 0;
    if (!j && !(j = s->auditd = calloc(1, sizeof(*j))))
        return 0;
    for (size_t k = 0; k < LIMIT_AUDITD_JOIN_OPEN + 1; k++) {
        struct auditd_held *x = &j->held[k];

        if (x->state == HELD_FREE) {
            if (!fresh)
                fresh = x;
            continue;
        }
        if (x->state != HELD_OPEN)
            continue;
        if (x->serial == serial && x->node_n == hd->node.n &&
            (!hd->node.n || memcmp(x->buf + 5, hd->node.p, hd->node.n) == 0)) {
            h = x;
            continue;
        }
        /* a serial this much older than the record has had its records */
        if (x->ms + LIMIT_AUDITD_JOIN_WINDOW_MS < ms) {
            done(j, x);
            continue;
        }
        open++;
        if (!oldest || x->order < oldest->order)
            oldest = x;
    }
    if (h) {
        if (h->nrec == LIMIT_AUDITD_JOIN_RECORDS || len > sizeof(h->buf) - h->len) {
            done(j, h); /* full: this record goes alone */
            return 0;
        }
    } else {
        if (open >= LIMIT_AUDITD_JOIN_OPEN && oldest)
            done(j, oldest);
        if (!fresh)
            return 0; /* the caller did not take the complete ones */
        h = fresh;
        h->state = HELD_OPEN;
        h->serial = serial;
        h->ms = ms;
        h->order = j->next_order++;
        h->nrec = 0;
        h->len = 0;
        h->node_n = (uint32_t)hd->node.n;
        h->has_execve = 0;
    }
    memcpy(h->buf + h->len, p, len);
    h->len += (uint32_t)len;
    head_pack(&h->heads[h->nrec], hd, p);
    h->rec_end[h->nrec++] = h->len;
    if (span_is(hd->type, LIT("EOE")))
        done(j, h);
    else if (span_is(hd->type, LIT("EXECVE")))
        h->has_execve = 1;
    return -EAGAIN;
}

static int decode_one(struct event *ev, const struct audit_head *h, const char *p, size_t len)
{
    struct audit_rec rec;
    int r;

    memset(&rec, 0, sizeof(rec));
    if (span_is(type_name(h->type), LIT("EXECVE")) && (r = cmd_buffer(ev, &rec, len - h->body)) < 0)
        return r;
    if ((r = record(ev, &rec, h, p, len, 1)) < 0 || (r = emit_ecs(ev, &rec)) < 0)
        return r;
    ev->decoder = "auditd";
    return 0;
}

int decode_auditd(struct event *ev, const char *p, size_t len, const struct decode_ctx *ctx,
                  struct parse_err *reterr)
{
    struct audit_head h;
    int r;

    if ((r = head(p, len, &h, reterr)) < 0)
        return r;
    /* Joined only when the record is the whole input record (audit.log),
     * not a syslog message whose header fields a held record would lose. */
    if (ctx && ctx->stream && p == ev->raw && len == ev->raw_len && is_call_record(h.type) &&
        (r = hold(ctx->stream, &h, p, len)) < 0)
        return r;
    return decode_one(ev, &h, p, len);
}

int decode_auditd_holding(const struct decode_stream *s)
{
    const struct decode_auditd_join *j = s ? s->auditd : NULL;

    if (!j)
        return 0;
    for (size_t k = 0; k < LIMIT_AUDITD_JOIN_OPEN + 1; k++)
        if (j->held[k].state != HELD_FREE)
            return 1;
    return 0;
}

int decode_auditd_flush(struct event *ev, struct decode_stream *s, int all,
                        struct parse_err *reterr)
{
    struct decode_auditd_join *j = s ? s->auditd : NULL;
    struct auditd_held *h = NULL;
    struct audit_rec rec;
    char *raw;
    size_t at = 0;
    int r = 0;

    if (!j || (!all && !j->ndone))
        return -ENOENT;
    for (size_t k = 0; k < LIMIT_AUDITD_JOIN_OPEN + 1; k++) {
        struct auditd_held *x = &j->held[k];
        if ((x->state == HELD_DONE || (all && x->state == HELD_OPEN)) &&
            (!h || x->order < h->order))
            h = x;
    }
    if (!h)
        return -ENOENT;
    /* The event's raw text: its records, one a line, in the arena (the
     * slot is reused as soon as this returns). */
    if (!(raw = arena_alloc(ev->arena, (size_t)h->len + h->nrec))) {
        r = -ENOMEM;
        goto out;
    }
    memset(&rec, 0, sizeof(rec));
    if ((r = cmd_buffer(ev, &rec, h->len)) < 0)
        goto out;
    ev->raw = raw;
    ev->raw_len = 0;
    rec.has_execve = h->has_execve;
    for (uint32_t k = 0; k < h->nrec; k++) {
        struct audit_head hd;
        size_t n = h->rec_end[k] - at;
        char *p = raw + ev->raw_len;

        memcpy(p, h->buf + at, n);
        ev->raw_len += n;
        if (k + 1 < h->nrec)
            raw[ev->raw_len++] = '\n';
        at = h->rec_end[k];
        head_unpack(&hd, &h->heads[k], p); /* read when it was held */
        if ((r = record(ev, &rec, &hd, p, n, k == 0)) < 0)
            goto out;
    }
    if ((r = emit_ecs(ev, &rec)) < 0)
        goto out;
    ev->decoder = "auditd";
out:
    if (h->state == HELD_DONE)
        j->ndone--;
    h->state = HELD_FREE;
    return r;
}
