/*
 * cli.h - the subcommands of hikeshi(8), one file each, and the few
 * helpers they share.  Exit codes: 0 success, 1 runtime failure, 2 usage or
 * configuration error.
 */
#ifndef HIKESHI_CLI_CLI_H
#define HIKESHI_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

int cli_run_main(int argc, char **argv);
int cli_scan_main(int argc, char **argv);
int cli_rules_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);
int cli_user_main(int argc, char **argv);
int cli_incident_main(int argc, char **argv);
int cli_archive_main(int argc, char **argv);
int cli_intel_main(int argc, char **argv);
int cli_hunt_main(int argc, char **argv);
int cli_evidence_main(int argc, char **argv);
int cli_exercise_main(int argc, char **argv);
int cli_attest_main(int argc, char **argv);
/* cli_evidence.c: adds the item `q` to the register of CONFIG's data_dir
 * (signing key `key`, its verification key KEY.pub) and, when `out_dir` is
 * given, exports it alone as a signed bundle there.  *ret_id its number.
 * A CLI_EXIT_* status; what failed is printed, prefixed with `who`. */
struct evidence_add_req;
int cli_evidence_add_export(const char *who, const char *cfg_path, const char *key,
                            struct evidence_add_req *q, const char *out_dir, long long *ret_id);

/* Loads `path` (or the defaults when NULL) and reports a bad file on
 * stderr as "FILE:LINE:COL: message".  Returns the config or NULL. */
struct config *cli_load_config(const char *path);
/* Prints "hikeshi CMD: msg" and the hint to use --help; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when `path`'s directory is `dir` or below it (both resolved with
 * realpath(3)); 0 otherwise or when either cannot be resolved.  For keys
 * that must live outside the data they seal. */
int cli_path_inside(const char *path, const char *dir);

/* A time given on the command line: ISO 8601 or epoch seconds, the whole
 * string.  0, or -EINVAL. */
int cli_parse_time(const char *s, int64_t *ret_us);
/* One CSV column as scan and hunt write it: always quoted, a quote
 * doubled, a newline made a space so one record stays one line. */
void cli_csv_field(FILE *f, const char *s, size_t len);
/* The printable bytes of s in dst (at most size - 4 of them, others made
 * spaces), with "..." when cut; returns dst. */
const char *cli_clip(char *dst, size_t size, const char *s, size_t len);

#endif
