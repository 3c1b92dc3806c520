/*
 * input.c - starts and stops inputs, dispatching on their type.
 *
 * The table of kinds is small on purpose: each kind keeps its thread and
 * state in its own file (input_syslog.c, input_file.c), and this file only
 * routes the calls.
 */
#include "input/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "input/input_file.h"
#include "input/input_http.h"
#include "input/input_relp.h"
#include "input/input_syslog.h"

struct input {
    enum input_type type;
    struct input_syslog *syslog; /* UDP and TCP */
    struct input_file *file;     /* file and stdin */
    struct input_http *http;     /* http-bulk */
    struct input_relp *relp;     /* relp */
    int stopped;
};

int input_start(const struct input_conf *c, struct queue *q, struct input_stats *stats,
                const struct file_pos *start, struct input **ret, char *errbuf, size_t errlen)
{
    struct input *in;
    int r;

    *ret = NULL;
    in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    in->type = c->type;
    switch (c->type) {
    case INPUT_SYSLOG_UDP:
    case INPUT_SYSLOG_TCP:
    case INPUT_SYSLOG_TLS:
    case INPUT_GELF_UDP:
    case INPUT_GELF_TCP:
    case INPUT_JSON_TCP:
        r = input_syslog_start(c, q, stats, &in->syslog, errbuf, errlen);
        break;
    case INPUT_HTTP_BULK: r = input_http_start(c, q, stats, &in->http, errbuf, errlen); break;
    case INPUT_RELP: r = input_relp_start(c, q, stats, &in->relp, errbuf, errlen); break;
    case INPUT_FILE:
    case INPUT_STDIN:
        r = input_file_start(c, q, stats, start, &in->file, errbuf, errlen);
        break;
    default:
        snprintf(errbuf, errlen, "unknown input type %d", (int)c->type);
        r = -EINVAL;
        break;
    }
    if (r < 0) {
        free(in);
        return r;
    }
    *ret = in;
    return 0;
}

void input_stop(struct input *in)
{
    if (!in || in->stopped)
        return;
    if (in->syslog)
        input_syslog_stop(in->syslog);
    if (in->file)
        input_file_stop(in->file);
    if (in->http)
        input_http_stop(in->http);
    if (in->relp)
        input_relp_stop(in->relp);
    in->stopped = 1;
}

void input_free(struct input *in)
{
    if (!in)
        return;
    input_stop(in);
    input_syslog_free(in->syslog);
    input_file_free(in->file);
    input_http_free(in->http);
    input_relp_free(in->relp);
    free(in);
}

const char *input_bound_address(const struct input *in)
{
    if (in && in->http)
        return input_http_bound_address(in->http);
    if (in && in->relp)
        return input_relp_bound_address(in->relp);
    if (!in || !in->syslog)
        return NULL;
    return input_syslog_bound_address(in->syslog);
}
