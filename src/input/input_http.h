/*
 * input_http.h - the Elasticsearch bulk API as an input (internal to
 * src/input/; the rest of the program goes through input.h).
 */
#ifndef HIKESHI_INPUT_INPUT_HTTP_H
#define HIKESHI_INPUT_INPUT_HTTP_H

#include "input/input.h"

struct input_http;

/* Listens on c->listen and serves the bulk API.  0, or a negative errno
 * with a message in errbuf. */
int input_http_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                     struct input_http **ret, char *errbuf, size_t errlen);
/* Finishes the requests in progress (their records queued), then stops. */
void input_http_stop(struct input_http *h);
/* Frees a stopped input.  NULL is a no-op. */
void input_http_free(struct input_http *h);
/* "127.0.0.1:9200": the address bound. */
const char *input_http_bound_address(const struct input_http *h);

#endif
