/*
 * api_web.h - the web console's static files, compiled into the daemon
 * (tools/embed_web.py writes web_assets[] from web/ at build time), and
 * the headers they are served with.
 *
 * The console is a page of our own scripts that talks to the JSON API with
 * the session cookie; the policy below lets it load nothing but our own
 * files, so text an attacker put in a log line can never become script.
 */
#ifndef HIKESHI_API_API_WEB_H
#define HIKESHI_API_API_WEB_H

#include <stddef.h>

/* One file: its URL path ("/ui/app.js"), media type, bytes and ETag. */
struct web_asset {
    const char *path;
    const char *type;
    const unsigned char *data;
    size_t len;
    const char *etag; /* a quoted strong entity tag */
};

/* Sorted by path (strcmp order); the generated file defines them. */
extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

/* The Content-Security-Policy of every console page and file. */
#define API_WEB_CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "                   \
    "frame-ancestors 'none'"

/* The policy of API answers: nothing in them is ever run or framed
 * elsewhere, not even a report's HTML opened on its own. */
#define API_WEB_CSP_API "default-src 'none'; frame-ancestors 'none'; sandbox"

/*
 * The file served at URL path `path` ("/" is the console's index.html), or
 * NULL when there is none.  `path` is the path without the query string.
 */
const struct web_asset *api_web_find(const char *path);

/* 1 when `path` is one the console's files live under ("/", "/ui/..."). */
int api_web_path(const char *path);

#endif
