/*
 * comms_smtp.c - the smtp channel (comms_smtp.h): the mail written in
 * memory, then read by libcurl's upload callback.
 */
#include "incident/comms_smtp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "util/buf.h"

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct upload *u = ud;
    size_t n = size * nmemb;

    if (n > u->left)
        n = u->left;
    memcpy(ptr, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static int header_ok(const char *s)
{
    return !strpbrk(s, "\r\n");
}

static int address_ok(const char *s)
{
    const char *at = strchr(s, '@');

    return at && at != s && at[1] && !strchr(at + 1, '@') && !strpbrk(s, " <>\"\r\n\t,");
}

/* The body with every line ended by CRLF, and a line starting with a dot
 * left as it is: libcurl does the SMTP dot-stuffing itself. */
static int put_body(struct buf *b, const char *body)
{
    int r = 0;

    for (const char *p = body; *p && r == 0; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            r = buf_putc(b, '\r');
        if (r == 0)
            r = buf_putc(b, *p);
    }
    if (r == 0 && b->len >= 2 && memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
        r = buf_puts(b, "\r\n");
    return r;
}

int comms_smtp_send(const struct comms_smtp_conf *c, const struct comms_smtp_mail *m, char *why,
                    size_t why_size)
{
    char date[64], errbuf[CURL_ERROR_SIZE] = "", domain[256];
    struct curl_slist *rcpt = NULL;
    struct upload up;
    struct buf b;
    struct tm tm;
    time_t now = time(NULL);
    const char *at;
    CURL *h;
    CURLcode rc;
    int r;

    if (!address_ok(c->from) || !address_ok(m->to) || !header_ok(m->subject) ||
        !header_ok(m->ref)) {
        snprintf(why, why_size, "a header value holds CR or LF, or an address is not one");
        return -EINVAL;
    }
    at = strchr(c->from, '@');
    snprintf(domain, sizeof(domain), "%s", at + 1);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    buf_init(&b, 256 * 1024);
    r = buf_printf(&b,
                   "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
                   "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                   "X-Hikeshi-Ref: %s\r\n\r\n",
                   c->from, m->to, m->subject, date, m->ref, domain, m->ref);
    if (r == 0)
        r = put_body(&b, m->body);
    if (r < 0) {
        buf_done(&b);
        snprintf(why, why_size, "out of memory or mail too large");
        return -ENOMEM;
    }
    if (!(h = curl_easy_init()) || !(rcpt = curl_slist_append(NULL, m->to))) {
        if (h)
            curl_easy_cleanup(h);
        buf_done(&b);
        snprintf(why, why_size, "out of memory");
        return -ENOMEM;
    }
    up.p = b.data;
    up.left = b.len;
    if (curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout_ms ? c->timeout_ms : 30000)) !=
            CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, c->from) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_READDATA, &up) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
        snprintf(why, why_size, "libcurl refused an option");
        r = -EIO;
    } else if ((rc = curl_easy_perform(h)) != CURLE_OK) {
        snprintf(why, why_size, "%s: %s", c->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        r = -EIO;
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    buf_done(&b);
    return r;
}
