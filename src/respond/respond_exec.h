/*
 * respond_exec.h - the exec response action: run a fixed program with templated
 * arguments, no shell, a clean environment, captured output and a timeout.
 *
 * Templates: in argv[1..], "{ip}", "{rule}", "{incident}", "{level}" and
 * "{reason}" are replaced by the matching value.  A substitution stays
 * inside its argv element: nothing is split, nothing reaches a shell.
 * "{{" writes a literal "{"; any other "{" that does not open a known
 * placeholder is a configuration error, found by respond_exec_check().
 * argv[0] must be an absolute path and holds no placeholder.
 */
#ifndef HIKESHI_RESPOND_EXEC_H
#define HIKESHI_RESPOND_EXEC_H

#include <stddef.h>

#include "util/buf.h"

/* Arguments a command may have, argv[0] included. */
#define RESPOND_EXEC_ARGC_MAX 64
/* Longest value substituted for a placeholder, in bytes. */
#define RESPOND_EXEC_VALUE_MAX 1024
/* Longest argument after substitution, in bytes. */
#define RESPOND_EXEC_ARG_MAX (8 * 1024)
/* Output (stdout and stderr together) kept by default; the rest is read,
 * counted and dropped. */
#define RESPOND_EXEC_OUTPUT_CAP (64 * 1024)
/* Largest stdin body respond_exec_run_stdin() accepts. */
#define RESPOND_EXEC_STDIN_MAX (1024 * 1024)
/* Defaults and bounds for the run time of one command. */
#define RESPOND_EXEC_TIMEOUT_MS_DEFAULT 30000
/* After SIGTERM, how long the command has before SIGKILL. */
#define RESPOND_EXEC_KILL_GRACE_MS 2000

/* The placeholders, in the order of the value arrays of struct respond_vars. */
enum respond_var {
    RESPOND_VAR_IP,
    RESPOND_VAR_RULE,
    RESPOND_VAR_INCIDENT,
    RESPOND_VAR_LEVEL,
    RESPOND_VAR_REASON,
    RESPOND_VAR_COUNT,
};

/*
 * Values for the placeholders, borrowed for the call.  value[i] points to
 * len[i] bytes (no NUL needed); NULL means "not known", and a template that
 * uses an unknown value is refused rather than given an empty string.
 */
struct respond_vars {
    const char *value[RESPOND_VAR_COUNT];
    size_t len[RESPOND_VAR_COUNT];
};

/* One command.  argv is borrowed and NULL-terminated. */
struct respond_exec_conf {
    const char *const *argv;
    unsigned timeout_ms; /* 0 = RESPOND_EXEC_TIMEOUT_MS_DEFAULT */
    size_t output_cap;   /* 0 = RESPOND_EXEC_OUTPUT_CAP */
};

/*
 * How a run ended.  Filled by respond_exec_run*() in every case; `output`
 * is owned by the result: release it with respond_exec_result_done().
 */
struct respond_exec_result {
    int spawned; /* 1 if the program was started */
    int exited;  /* 1 if it exited; exit_status is then valid */
    int exit_status;
    int signal;            /* the signal that ended it, 0 if it exited */
    int timed_out;         /* 1 if the timeout fired and it was signalled */
    struct buf output;     /* stdout+stderr interleaved, up to the cap */
    size_t output_dropped; /* bytes read past the cap and discarded */
    unsigned duration_ms;
    char reason[256]; /* one printable sentence */
};

/*
 * Checks a command at configuration time: argv[0] present and absolute,
 * at most RESPOND_EXEC_ARGC_MAX elements, every placeholder known, every
 * "{" closed.  Returns 0, or -EINVAL with *reterr_why set to a static
 * sentence (reterr_why may be NULL).
 */
int respond_exec_check(const struct respond_exec_conf *c, const char **reterr_why);

/*
 * Appends argument template `tmpl` with its placeholders replaced from
 * `vars` to `out`, as a run would pass it (the fuzz target and tests see
 * exactly what the program would).  0, or -EINVAL with *reterr_why (a
 * static sentence) for a bad template or value, -ENOMEM / -E2BIG from out.
 */
int respond_exec_render(const char *tmpl, const struct respond_vars *vars, struct buf *out,
                        const char **reterr_why);

/*
 * Runs the command with placeholders replaced from `vars`, environment
 * PATH=/usr/sbin:/usr/bin:/sbin:/bin and LANG=C only, working directory /,
 * stdin /dev/null, stdout and stderr captured, in its own process group.
 * No descriptor other than 0-2 reaches it.  At the timeout the group gets
 * SIGTERM, then SIGKILL RESPOND_EXEC_KILL_GRACE_MS later.  The child is
 * always reaped before return.  BLOCKS the calling thread until then.
 *
 * Returns 0 if the program exited with status 0; -EIO if it exited with
 * another status or died of a signal; -ETIMEDOUT if the timeout killed it;
 * -EINVAL for a bad command or a value that is refused (NUL byte, longer
 * than RESPOND_EXEC_VALUE_MAX, unknown, or one that would start an argument
 * with "-"); -ECHILD if its status was lost (SIGCHLD must not be ignored);
 * -ENOMEM; or the error of posix_spawn (e.g. -ENOENT, -EACCES).
 * *ret is filled in every case.
 */
int respond_exec_run(const struct respond_exec_conf *c, const struct respond_vars *vars,
                     struct respond_exec_result *ret);

/*
 * As respond_exec_run(), with `body` (`body_len` bytes, at most
 * RESPOND_EXEC_STDIN_MAX, else -E2BIG) written to the program's stdin,
 * which is then closed.  A program that exits without reading it all is
 * not an error of this call.  For sendmail -t and the like.
 */
int respond_exec_run_stdin(const struct respond_exec_conf *c, const struct respond_vars *vars,
                           const char *body, size_t body_len, struct respond_exec_result *ret);

/* Frees the result's output.  Safe on a zeroed or already-done result. */
void respond_exec_result_done(struct respond_exec_result *r);

#endif
