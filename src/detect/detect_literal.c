/*
 * detect_literal.c - the minimal built-in matcher.
 */
#include "detect/detect_literal.h"

#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "util/config.h"

struct detect_literal *detect_literal_new(const struct config *c)
{
    struct detect_literal *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    if (c->nmatches == 0)
        return d;
    d->rules = calloc(c->nmatches, sizeof(*d->rules));
    if (!d->rules)
        goto fail;
    for (size_t i = 0; i < c->nmatches; i++) {
        const struct config_match *m = &c->matches[i];
        struct detect_rule *r = &d->rules[d->nrules++];

        if (!(r->id = strdup(m->id)) || !(r->title = strdup(m->title)) ||
            !(r->author = strdup(m->author)) || !(r->level = strdup(m->level)))
            goto fail;
        for (size_t j = 0; j < m->nwhere && j < 8; j++) {
            r->cond[j].field = field_intern(m->where[j].field, strlen(m->where[j].field));
            if (!(r->cond[j].value = strdup(m->where[j].value)))
                goto fail;
            r->cond[j].len = strlen(r->cond[j].value);
            r->ncond++;
        }
    }
    return d;
fail:
    detect_literal_free(d);
    return NULL;
}

void detect_literal_free(struct detect_literal *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nrules; i++) {
        struct detect_rule *r = &d->rules[i];
        free(r->id);
        free(r->title);
        free(r->author);
        free(r->level);
        for (size_t j = 0; j < r->ncond; j++)
            free(r->cond[j].value);
    }
    free(d->rules);
    free(d);
}

/* 1 if any value of `field` equals the literal. */
static int field_has(const struct event *ev, uint32_t field, const char *v, size_t len)
{
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct event_field *f = &ev->fields[i];
        if (f->id == field && f->len == len && memcmp(f->val, v, len) == 0)
            return 1;
    }
    return 0;
}

size_t detect_literal_match(const struct detect_literal *d, const struct event *ev,
                            void (*cb)(void *arg, const struct detect_rule *rule), void *arg)
{
    size_t hits = 0;

    for (size_t i = 0; i < d->nrules; i++) {
        const struct detect_rule *r = &d->rules[i];
        size_t j;

        for (j = 0; j < r->ncond; j++)
            if (r->cond[j].field == FIELD_NONE ||
                !field_has(ev, r->cond[j].field, r->cond[j].value, r->cond[j].len))
                break;
        if (j == r->ncond && r->ncond > 0) {
            hits++;
            if (cb)
                cb(arg, r);
        }
    }
    return hits;
}
