/*
 * comms_smtp.h - one message handed to an SMTP server through libcurl
 * (issue 25, the smtp channel of messages).  The message is written here
 * as RFC 5322 text: From, To, Subject, Date, Message-ID built from the
 * message's reference (a reply's In-Reply-To then names it), and a plain
 * UTF-8 body with its lines ended by CRLF.  Header values are refused
 * when they hold CR or LF, so nothing a person typed becomes a header.
 */
#ifndef HIKESHI_INCIDENT_COMMS_SMTP_H
#define HIKESHI_INCIDENT_COMMS_SMTP_H

#include <stddef.h>

struct comms_smtp_conf {
    const char *url;  /* smtp://host:port or smtps://host:port */
    const char *from; /* the envelope and From address */
    unsigned timeout_ms;
};

struct comms_smtp_mail {
    const char *to, *subject, *body, *ref;
};

/*
 * Sends one mail.  Returns 0 when the server accepted it (250 after
 * DATA), -EINVAL for a header value with CR or LF or an address that is
 * not one, -ENOMEM, or -EIO with the reason in `why` (the server's
 * answer or libcurl's error).  Blocks up to timeout_ms; thread-safe once
 * libcurl is initialised (respond_webhook_global_init).
 */
int comms_smtp_send(const struct comms_smtp_conf *c, const struct comms_smtp_mail *m, char *why,
                    size_t why_size);

#endif
