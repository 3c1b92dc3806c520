/*
 * respond_policy_priv.h - what the policy's loader (respond_policy_parse.c)
 * and its decision (respond_policy.c) share: time units and the lookups of
 * the names the decision owns.  Included by those two files only;
 * respond_policy.h is the interface.
 */
#ifndef HIKESHI_RESPOND_RESPOND_POLICY_PRIV_H
#define HIKESHI_RESPOND_RESPOND_POLICY_PRIV_H

#include <stdint.h>

#define US_PER_S INT64_C(1000000)
#define US_PER_MIN (60 * US_PER_S)
#define US_PER_DAY (86400 * US_PER_S)

/* The enum respond_kind of a name ("rule", "correlation", ...), or -1. */
int respond_policy_kind_lookup(const char *s);
/* The bit number of an action name ("block" 0, "webhook" 1, ...), or -1. */
int respond_policy_action_lookup(const char *s);

#endif
