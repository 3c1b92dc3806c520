/*
 * intel_feed.h - feeds fetched by URL on a schedule (intel.feeds, issue 20):
 * a thread of the daemon that fetches each configured feed with libcurl,
 * asking only for what changed (If-None-Match / If-Modified-Since), and
 * imports what it got as that feed in one store transaction, so that a
 * feed that fails to download, to parse, or holds no indicator at all
 * never replaces the one held.  A MISP feed is its manifest.json and the
 * event files it names, all fetched before anything is imported.  After
 * each import the daemon is told (updated()) so that it reloads the
 * matcher.  docs/intel.md, "Feeds by URL".
 */
#ifndef HIKESHI_INTEL_INTEL_FEED_H
#define HIKESHI_INTEL_INTEL_FEED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct config_intel_feed;
struct intel_feed_run;

/* One feed's figures for /metrics (process-wide, one slot per configured
 * feed, filled at start). */
struct intel_feed_stat {
    char name[65];
    _Atomic uint64_t updated;       /* fetches imported */
    _Atomic uint64_t not_modified;  /* fetches answered 304 */
    _Atomic uint64_t failed;        /* fetches or imports that failed: the feed kept */
    _Atomic uint64_t indicators;    /* indicators taken by the last import */
    _Atomic int64_t last_success_s; /* when it was last imported or found unchanged; 0: never */
};
/* The slots in use; *ret points at the first. */
size_t intel_feed_stats(const struct intel_feed_stat **ret);

struct intel_feed_run_opts {
    const char *data_dir;                  /* the store, and intel-feeds/ for state */
    const struct config_intel_feed *feeds; /* copied at start */
    size_t nfeeds;
    const char *warninglists; /* NULL: none applied */
    /* Called from the feed thread after a feed was imported (not on 304
     * or failure), to reload the matcher. */
    void (*updated)(void *ctx, const char *feed);
    void *ctx;
};

/*
 * Loads the warninglists, opens its own store connection, reads each
 * feed's saved ETag and Last-Modified (DATA_DIR/intel-feeds/NAME.state),
 * and starts the thread; each feed is fetched at once, then every
 * interval.  libcurl must be initialised (curl_global_init) by the caller.
 * 0, or a negative errno with err[errlen] saying what failed.
 */
int intel_feed_run_start(const struct intel_feed_run_opts *o, struct intel_feed_run **ret,
                         char *err, size_t errlen);
/* Stops the thread (a transfer under way is aborted) and frees.  NULL is
 * a no-op. */
void intel_feed_run_stop(struct intel_feed_run *r);

#endif
