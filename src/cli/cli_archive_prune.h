/*
 * cli_archive_prune.h - `hikeshi archive prune`, and how `archive verify`
 * reports segments removed by retention (cli_archive_prune.c).
 */
#ifndef HIKESHI_CLI_CLI_ARCHIVE_PRUNE_H
#define HIKESHI_CLI_CLI_ARCHIVE_PRUNE_H

#include <stdio.h>

#include "archive/archive.h"
#include "util/buf.h"

struct archive_retention_input;
struct config;

/* archive.retention.inputs as the archive's retention takes them: a
 * malloc'd array in *ret (names borrowed from cfg), NULL when none;
 * returns the count, or -ENOMEM. */
long cli_retention_inputs(const struct config *cfg, struct archive_retention_input **ret);
/* argv[0] is "prune".  Returns a CLI_EXIT_* status. */
int cli_archive_prune_main(int argc, char **argv);
/* One line saying what retention removed (nothing when it removed
 * nothing): segments, record numbers, time range, the signing epochs. */
void cli_archive_removed_text(FILE *out, const struct archive_verify_result *res);
/* Appends ,"removed":{...} to verify's JSON object. */
void cli_archive_removed_json(struct buf *b, const struct archive_verify_result *res);

#endif
