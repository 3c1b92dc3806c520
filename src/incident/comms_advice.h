/*
 * comms_advice.h - first-step advice for whoever reported an incident
 * from outside (MISSION.md section 8, "advice on first steps"), by the
 * incident's type and, for information leaks, by the kind of leak (the
 * leak playbooks, playbooks/leak-*.yaml).  The intake's answer and the
 * "advice" field of a message carry it.
 */
#ifndef HIKESHI_INCIDENT_COMMS_ADVICE_H
#define HIKESHI_INCIDENT_COMMS_ADVICE_H

#include "triage/triage.h"

/* The kinds of information leak (MISSION.md section 2). */
enum comms_leak {
    COMMS_LEAK_NONE = 0,
    COMMS_LEAK_LOSS,         /* loss or theft of a device or papers */
    COMMS_LEAK_MISDELIVERY,  /* misdelivery, mistaken publication on the web */
    COMMS_LEAK_INSIDER,      /* an insider took it */
    COMMS_LEAK_P2P,          /* leak through P2P file sharing */
    COMMS_LEAK_MALWARE,      /* malware sent it out */
    COMMS_LEAK_UNAUTHORISED, /* unauthorised access from outside */
    COMMS_LEAK_RUMOUR,       /* a rumour or blog post says so */
    COMMS_LEAK_COUNT
};

/* "loss", "misdelivery", "insider", "p2p", "malware", "unauthorised",
 * "rumour" ("none" for NONE); inverse: 0 or -EINVAL. */
const char *comms_leak_name(enum comms_leak k);
int comms_leak_from_name(const char *s, enum comms_leak *ret);
/* The leak kind an incident's tag names ("leak:p2p"), or NONE. */
enum comms_leak comms_leak_from_tag(const char *tag);

/* The advice (static text, never NULL): the leak kind's when it is not
 * NONE, else the type's. */
const char *comms_advice(enum triage_type type, enum comms_leak leak);

#endif
