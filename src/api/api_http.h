/*
 * api_http.h - the HTTP endpoint on libmicrohttpd: /metrics (Prometheus
 * text format) and the JSON API under /api/v1/ (docs/api.md), whose routes
 * are in api_routes.c and /metrics in api_metrics.c.  This file is the
 * transport: bodies (at most 256 KiB), the rate limit per client address,
 * the API's store connection, the audit log (DATA_DIR/audit.log) and the
 * playbooks.  It calls the routes, never the other way.
 */
#ifndef HIKESHI_API_API_HTTP_H
#define HIKESHI_API_API_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "api/api_routes.h" /* struct api_sources */

struct config_http;
struct api_http;

/*
 * Listens on `listen` ("127.0.0.1:8080"; port 0 picks a free one) with its
 * own polling thread (epoll: no client stalls another by being slow) and a
 * reaper thread for the request deadline.  HTTPS when src->http asks for it
 * and by default off loopback, with a self-signed certificate made in
 * data_dir when none is given; clear text off loopback is refused unless
 * http.insecure_cleartext.  Reads the key here: call before dropping
 * privileges.  Returns 0 or a negative errno with a message in errbuf.
 */
int api_http_start(const char *listen, const struct api_sources *src, struct api_http **ret,
                   char *errbuf, size_t errlen);
/* Stops and frees.  NULL is a no-op. */
void api_http_stop(struct api_http *h);
/* The port actually bound. */
unsigned api_http_port(const struct api_http *h);
/* 1 when it serves HTTPS. */
int api_http_tls(const struct api_http *h);
/* 1 when a daemon on `listen` with `conf` serves HTTPS, 0 when plain
 * HTTP, -errno when `listen` does not parse (for clients of the API). */
int api_http_wants_tls(const char *listen, const struct config_http *conf);

#endif
