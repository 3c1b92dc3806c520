/*
 * detect_literal.h - the minimal built-in matcher: rules whose conditions
 * are "field equals literal", all of which must hold.
 *
 * It exists so that the path from an event to a stored alert is exercised
 * end to end before the Sigma engine lands, which replaces it.
 */
#ifndef HIKESHI_DETECT_DETECT_LITERAL_H
#define HIKESHI_DETECT_DETECT_LITERAL_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct event;

/* A compiled rule; strings are owned by the rule set. */
struct detect_rule {
    char *id;
    char *title;
    char *author;
    char *level;
    size_t ncond;
    struct {
        uint32_t field;
        char *value;
        size_t len;
    } cond[8];
};

struct detect_literal {
    struct detect_rule *rules;
    size_t nrules;
};

/* Compiles the config's `match` rules (interning their field names).
 * NULL on allocation failure. */
struct detect_literal *detect_literal_new(const struct config *c);
/* Frees the rule set.  NULL is a no-op. */
void detect_literal_free(struct detect_literal *d);

/* Calls cb for each rule that matches `ev`, in rule order; returns how many
 * matched. */
size_t detect_literal_match(const struct detect_literal *d, const struct event *ev,
                            void (*cb)(void *arg, const struct detect_rule *rule), void *arg);

#endif
