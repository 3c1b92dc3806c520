/*
 * comms_advice.c - the advice texts of comms_advice.h.  Written for a
 * reporter outside the CSIRT: what to do now and, above all, what not to
 * do so that evidence survives (MISSION.md sections 4 and 8).
 */
#include "incident/comms_advice.h"

#include <errno.h>
#include <string.h>

static const char *const leak_names[COMMS_LEAK_COUNT] = {
    "none", "loss", "misdelivery", "insider", "p2p", "malware", "unauthorised", "rumour",
};

static const char *const leak_advice[COMMS_LEAK_COUNT] = {
    NULL,
    "Tell us when and where the device or papers were last seen and what they held. "
    "Report a theft to the police and keep the receipt number. If the device can be locked "
    "or wiped remotely, ask us before you do it: we may need its location first.",
    "Do not send a correction to all recipients yet. Tell us who received it, when, and "
    "what it contained; ask the recipients by phone to delete it without forwarding. If it "
    "was published on the web, tell us the address; we take it down and record what was "
    "visible and since when.",
    "Do not confront the person and do not change their access yourself. Keep what you "
    "noticed (dates, messages, files) and tell only us and your manager.",
    "Do not download the leaked file yourself from the file-sharing network. Send us where "
    "you saw it (network, file name, hash) and when; we record it and begin the take-down.",
    "Disconnect the computer from the network (unplug the cable, switch off Wi-Fi) but keep "
    "it powered on. Do not run scans, delete files or log in again; write down what you saw "
    "and when.",
    "Do not log in to the affected system or change passwords on it yet. Keep the logs and "
    "messages you have; tell us the time you noticed and what showed it.",
    "Do not answer or comment on the post. Send us its address and a screen copy with the "
    "time you saw it; we verify the claim before anything is said publicly.",
};

const char *comms_leak_name(enum comms_leak k)
{
    return (unsigned)k < COMMS_LEAK_COUNT ? leak_names[k] : "?";
}

int comms_leak_from_name(const char *s, enum comms_leak *ret)
{
    for (int i = 0; i < COMMS_LEAK_COUNT; i++)
        if (strcmp(s, leak_names[i]) == 0) {
            *ret = (enum comms_leak)i;
            return 0;
        }
    return -EINVAL;
}

enum comms_leak comms_leak_from_tag(const char *tag)
{
    enum comms_leak k = COMMS_LEAK_NONE;

    if (strncmp(tag, "leak:", 5) != 0 || comms_leak_from_name(tag + 5, &k) < 0)
        return COMMS_LEAK_NONE;
    return k;
}

const char *comms_advice(enum triage_type type, enum comms_leak leak)
{
    if ((unsigned)leak < COMMS_LEAK_COUNT && leak != COMMS_LEAK_NONE)
        return leak_advice[leak];
    switch (type) {
    case TRIAGE_TYPE_DAMAGE:
    case TRIAGE_TYPE_INTRUDED:
        return "Disconnect the affected computer from the network but leave it powered on. "
               "Do not shut it down, run scans or delete anything: evidence lives in its "
               "memory and logs. Write down what you saw and when, and who touched it.";
    case TRIAGE_TYPE_PROBE:
        return "No action is needed on your side. Keep the logs or messages that showed it; "
               "we tell you if we need them.";
    case TRIAGE_TYPE_POLICY:
    case TRIAGE_TYPE_ANOMALOUS:
        return "Do not confront the person involved. Keep what you noticed and tell only us.";
    case TRIAGE_TYPE_VULNERABLE:
    case TRIAGE_TYPE_EXT_VULN_INFO:
        return "Do not test the weakness further. Tell us the system, the version and how you "
               "learnt of it; we assess it and tell the owner.";
    case TRIAGE_TYPE_EXT_VIRUS:
        return "Do not open attachments or links from the message concerned; forward it to us "
               "as an attachment and delete it.";
    default:
        return "Keep what you saw (messages, logs, screen copies) as it is and tell us the "
               "time you noticed. Do not try to fix it yourself; we call you back.";
    }
}
