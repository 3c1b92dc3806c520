/*
 * intel_import.c - one feed file (or MISP feed directory) into the store:
 * the format told from the content, every entry through the warninglists,
 * the whole feed replaced in one transaction so that a file that fails to
 * parse leaves the indicators already held from that feed as they were.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "intel/intel.h"
#include "store/store_intel.h"
#include "util/readfile.h"

/* The largest feed file read whole. */
#define IMPORT_FILE_MAX (512 * 1024 * 1024)

struct import {
    const struct intel_import_opts *o;
    struct intel_import_stats *stats;
    struct store_intel_batch *b;
    const char *file; /* the file being read, for reports */
    const char *dir;  /* a MISP feed's directory */
    struct intel_sink sink;
    int err; /* the first error of a MISP feed's events */
    char *errbuf;
    size_t errlen;
};

static void on_bad(void *ctx, const char *where, const char *why)
{
    struct import *im = ctx;

    im->stats->refused++;
    if (im->o->report)
        im->o->report(im->o->report_ctx, im->file, where, why);
}

static int on_ind(void *ctx, const struct intel_ind *ind)
{
    struct import *im = ctx;
    const char *list = im->o->warn ? intel_warn_check(im->o->warn, ind->type, ind->value) : NULL;
    const char *kinds[INTEL_TAGS_MAX], *values[INTEL_TAGS_MAX];
    int tlp = ind->tlp;
    struct store_intel_rec rec;
    int r;

    if (list) {
        char why[INTEL_VALUE_MAX + 256];
        im->stats->warned++;
        snprintf(why, sizeof(why), "%s %s is on the warninglist \"%.128s\": not imported",
                 intel_type_name(ind->type), ind->value, list);
        if (im->o->report)
            im->o->report(im->o->report_ctx, im->file, ind->ref[0] ? ind->ref : "-", why);
        return 0;
    }
    if (tlp < 0)
        tlp = im->o->tlp >= 0 ? im->o->tlp : INTEL_TLP_AMBER;
    else if (im->o->tlp > tlp)
        tlp = im->o->tlp; /* --tlp is a floor: never loosened */
    for (size_t i = 0; i < ind->ntags; i++) {
        kinds[i] = intel_tag_kind_name(ind->tags[i].kind);
        values[i] = ind->tags[i].value;
    }
    rec = (struct store_intel_rec){
        .type = intel_type_name(ind->type),
        .value = ind->value,
        .tlp = intel_tlp_name((enum intel_tlp)tlp),
        .ref = ind->ref[0] ? ind->ref : NULL,
        .confidence = ind->confidence >= 0     ? ind->confidence
                      : im->o->confidence >= 0 ? im->o->confidence
                                               : 50,
        .valid_from_us = ind->valid_from_us,
        .valid_until_us = ind->valid_until_us,
        .ntags = ind->ntags,
        .tag_kind = kinds,
        .tag_value = values,
    };
    if ((r = store_intel_feed_put(im->b, &rec)) < 0)
        return r;
    im->stats->taken++;
    return 0;
}

/* The format of a file from its first bytes and keys. */
static const char *sniff(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    if (i < len && buf[i] == '{') {
        /* a cheap look: parsers check for real */
        const char *end = buf + (len - i < 4096 ? len : i + 4096);
        if (memmem(buf + i, (size_t)(end - (buf + i)), "\"Event\"", 7))
            return "misp";
        return "stix";
    }
    return "csv";
}

static int parse_file(struct import *im, const char *path, const char *force)
{
    struct parse_err perr = {0, 0, 0, NULL};
    const char *fmt;
    char *buf;
    size_t len;
    int r;

    im->file = path;
    if ((r = readfile_all(path, IMPORT_FILE_MAX, &buf, &len)) < 0) {
        snprintf(im->errbuf, im->errlen, "%s: %s", path,
                 r == -EFBIG ? "larger than 512 MiB" : strerror(-r));
        return r;
    }
    fmt = force ? force : sniff(buf, len);
    if (!force)
        snprintf(im->stats->format, sizeof(im->stats->format), "%s", fmt);
    if (strcmp(fmt, "stix") == 0)
        r = intel_stix_parse(buf, len, &im->sink, &perr);
    else if (strcmp(fmt, "misp") == 0)
        r = intel_misp_parse_event(buf, len, &im->sink, &perr);
    else
        r = intel_csv_parse(buf, len, im->o->type, &im->sink, &perr);
    free(buf);
    im->stats->files++;
    if (r == -EINVAL)
        snprintf(im->errbuf, im->errlen, "%s: byte %zu: %s (%s); the feed is left as it was", path,
                 perr.off, perr.msg ? perr.msg : "unreadable", fmt);
    else if (r < 0)
        snprintf(im->errbuf, im->errlen, "%s: %s", path, strerror(-r));
    return r;
}

static int feed_event(void *ctx, const char *uuid)
{
    struct import *im = ctx;
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/%s.json", im->dir, uuid) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    return parse_file(im, path, "misp");
}

/* The feed's default name: the file's (or directory's) base name without
 * its extension. */
static void base_name(const char *path, char *out, size_t cap)
{
    size_t end = strlen(path), beg;
    char *dot;

    while (end > 1 && path[end - 1] == '/')
        end--;
    beg = end;
    while (beg > 0 && path[beg - 1] != '/')
        beg--;
    snprintf(out, cap, "%.*s", (int)(end - beg), path + beg);
    if ((dot = strrchr(out, '.')) && dot != out)
        *dot = '\0';
}

int intel_import_path(struct store *st, const char *path, const struct intel_import_opts *o,
                      struct intel_import_stats *ret, char *err, size_t errlen)
{
    struct import im = {o, ret, NULL, path, NULL, {on_ind, on_bad, NULL}, 0, err, errlen};
    char feed[256];
    struct stat sb;
    int r;

    memset(ret, 0, sizeof(*ret));
    err[0] = '\0';
    im.sink.ctx = &im;
    if (stat(path, &sb) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    if (o->feed)
        snprintf(feed, sizeof(feed), "%s", o->feed);
    else
        base_name(path, feed, sizeof(feed));
    if ((r = store_intel_feed_begin(st, feed, o->now_us, &im.b)) < 0) {
        snprintf(err, errlen, "opening the store for feed %s failed", feed);
        return r;
    }
    if (S_ISDIR(sb.st_mode)) {
        char mpath[PATH_MAX];
        char *buf;
        size_t len;
        struct parse_err perr = {0, 0, 0, NULL};

        snprintf(ret->format, sizeof(ret->format), "misp-feed");
        im.dir = path;
        if (snprintf(mpath, sizeof(mpath), "%s/manifest.json", path) >= (int)sizeof(mpath)) {
            r = -ENAMETOOLONG;
            snprintf(err, errlen, "%s: path too long", path);
        } else if ((r = readfile_all(mpath, IMPORT_FILE_MAX, &buf, &len)) < 0) {
            snprintf(err, errlen, "%s: %s (a directory is read as a MISP feed)", mpath,
                     strerror(-r));
        } else {
            im.file = mpath;
            r = intel_misp_manifest(buf, len, feed_event, &im, &im.sink, &perr);
            free(buf);
            if (r == -EINVAL && !err[0])
                snprintf(err, errlen, "%s: byte %zu: %s; the feed is left as it was", mpath,
                         perr.off, perr.msg ? perr.msg : "unreadable");
        }
    } else {
        r = parse_file(&im, path, o->format);
        if (o->format)
            snprintf(ret->format, sizeof(ret->format), "%s", o->format);
    }
    if (r == 0 && o->require_any && ret->taken == 0) {
        snprintf(err, errlen,
                 "%s: no indicator in it (%zu refused, %zu on warninglists): not taken as an "
                 "empty feed; the feed is left as it was",
                 path, ret->refused, ret->warned);
        r = -ENODATA;
    }
    if (r < 0) {
        if (!err[0])
            snprintf(err, errlen, "%s: %s", path, strerror(-r));
        store_intel_feed_abort(im.b);
        return r;
    }
    if ((r = store_intel_feed_commit(im.b, &ret->removed)) < 0)
        snprintf(err, errlen, "storing feed %s failed", feed);
    return r;
}
