/*
 * test_console.c - what the web console stands on, driven in memory: the
 * session cookie (login, who am I, logout, expiry), the CSRF token every
 * change made with the cookie must carry, a Bearer header taking
 * precedence over a cookie, and the compiled-in files' lookup.  The real
 * browser against the real daemon is e2e_console's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_routes.h"
#include "api/api_web.h"
#include "api/auth.h"
#include "event/time.h"
#include "incident/audit.h"
#include "incident/playbook.h"
#include "store/store.h"

#define PW "correct horse battery"

struct fix {
    char dir[64];
    char audit_path[128];
    struct store *st;
    struct audit *audit;
    struct playbook_set pb;
    struct incident_targets targets;
    struct api_ctx ctx;
    struct api_resp resp;
    char viewer[AUTH_TOKEN_STRLEN + 8]; /* "Bearer hks_..." of vic */
    int64_t pat_id;
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct audit_result ar;
    char h[AUTH_PWHASH_STRLEN], tok[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    char *err = NULL;
    int64_t uid;

    assert_non_null(f);
    assert_int_equal(auth_init(), 0);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hikeshi-test-console-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &f->st, &err), 0);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    assert_int_equal(audit_open(f->audit_path, &f->audit, &ar), 0);
    playbook_set_init(&f->pb);
    assert_true(playbook_set_load_dir(&f->pb, "playbooks") >= 7);
    incident_targets_default(&f->targets);
    f->ctx.cf = (struct casefile){
        .st = f->st, .audit = f->audit, .playbooks = &f->pb, .targets = &f->targets};
    assert_int_equal(auth_password_hash(PW, strlen(PW), h), 0);
    assert_int_equal(store_user_add(f->st, "pat", "analyst", h, &f->pat_id), 0);
    assert_int_equal(store_user_add(f->st, "vic", "viewer", h, &uid), 0);
    assert_int_equal(auth_token_new(tok, th), 0);
    assert_int_equal(store_token_add(f->st, uid, th, sizeof(th), "test", 0), 0);
    snprintf(f->viewer, sizeof(f->viewer), "Bearer %s", tok);
    buf_init(&f->resp.body, 16 * 1024 * 1024);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    buf_done(&f->resp.body);
    playbook_set_done(&f->pb);
    audit_free(f->audit);
    store_free(f->st);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* One request with any of a Bearer header, a session cookie and a CSRF
 * header; the status.  The body is NUL-terminated for strstr. */
static unsigned call(struct fix *f, const char *method, const char *path, const char *auth,
                     const char *cookie, const char *csrf, const char *body)
{
    struct api_req rq = {
        .method = method,
        .path = path,
        .authorization = auth,
        .session = cookie,
        .csrf = csrf,
        .content_type = body ? "application/json" : NULL,
        .client = "127.0.0.1",
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
        .now_us = time_now_us(),
    };

    api_dispatch(&f->ctx, &rq, &f->resp);
    assert_int_equal(buf_putc(&f->resp.body, '\0'), 0);
    f->resp.body.len--;
    return f->resp.status;
}

/* Copies the string value of "key" in the answer into out. */
static void field(struct fix *f, const char *key, char *out, size_t size)
{
    char pat[64];
    const char *p, *e;

    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    p = strstr(f->resp.body.data, pat);
    assert_non_null(p);
    p += strlen(pat);
    e = strchr(p, '"');
    assert_non_null(e);
    assert_true((size_t)(e - p) < size);
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
}

/* Logs pat in; the cookie's token and the CSRF token from the answer. */
static void login(struct fix *f, char tok[AUTH_TOKEN_STRLEN], char csrf[AUTH_CSRF_STRLEN])
{
    const char *c;

    assert_int_equal(call(f, "POST", "/api/v1/session", NULL, NULL, NULL,
                          "{\"name\":\"pat\",\"password\":\"" PW "\"}"),
                     201);
    c = f->resp.set_cookie;
    assert_memory_equal(c, AUTH_SESSION_COOKIE "=hks_", strlen(AUTH_SESSION_COOKIE) + 5);
    memcpy(tok, c + strlen(AUTH_SESSION_COOKIE) + 1, AUTH_TOKEN_LEN);
    tok[AUTH_TOKEN_LEN] = '\0';
    field(f, "csrf", csrf, AUTH_CSRF_STRLEN);
}

static void test_session_login_sets_a_strict_httponly_cookie(void **state)
{
    struct fix *f = *state;
    char tok[AUTH_TOKEN_STRLEN], csrf[AUTH_CSRF_STRLEN], want[AUTH_CSRF_STRLEN], exp[64];
    int64_t exp_us = 0, now = time_now_us();

    login(f, tok, csrf);
    assert_non_null(strstr(f->resp.set_cookie, "; HttpOnly"));
    assert_non_null(strstr(f->resp.set_cookie, "; SameSite=Strict"));
    assert_non_null(strstr(f->resp.set_cookie, "; Path=/"));
    assert_non_null(strstr(f->resp.set_cookie, "; Max-Age=43200"));
    assert_non_null(strstr(f->resp.body.data, "\"user\":\"pat\""));
    assert_non_null(strstr(f->resp.body.data, "\"role\":\"analyst\""));
    /* The CSRF token is the session's, not its text or hash. */
    assert_int_equal(auth_csrf_token(tok, strlen(tok), want), 0);
    assert_string_equal(csrf, want);
    assert_null(strstr(f->resp.body.data, tok));
    /* Expires 12 hours from now. */
    field(f, "expires", exp, sizeof(exp));
    assert_int_equal(time_parse_iso8601(exp, strlen(exp), 0, &exp_us, NULL), 0);
    assert_true(exp_us > now + (int64_t)(AUTH_SESSION_SECONDS - 60) * 1000000);
    assert_true(exp_us < now + (int64_t)(AUTH_SESSION_SECONDS + 60) * 1000000);
}

static void test_session_wrong_password_sets_no_cookie(void **state)
{
    struct fix *f = *state;

    assert_int_equal(call(f, "POST", "/api/v1/session", NULL, NULL, NULL,
                          "{\"name\":\"pat\",\"password\":\"wrong horse battery\"}"),
                     401);
    assert_string_equal(f->resp.set_cookie, "");
    assert_non_null(strstr(f->resp.body.data, "wrong name or password"));
    assert_int_equal(call(f, "POST", "/api/v1/session", NULL, NULL, NULL,
                          "{\"name\":\"nobody\",\"password\":\"" PW "\"}"),
                     401);
    assert_string_equal(f->resp.set_cookie, "");
    assert_int_equal(call(f, "POST", "/api/v1/session", NULL, NULL, NULL, "{\"name\":\"pat\"}"),
                     400);
}

static void test_session_get_tells_who_and_the_csrf(void **state)
{
    struct fix *f = *state;
    char tok[AUTH_TOKEN_STRLEN], csrf[AUTH_CSRF_STRLEN], again[AUTH_CSRF_STRLEN];

    login(f, tok, csrf);
    assert_int_equal(call(f, "GET", "/api/v1/session", NULL, tok, NULL, NULL), 200);
    assert_non_null(strstr(f->resp.body.data, "\"user\":\"pat\""));
    field(f, "csrf", again, sizeof(again));
    assert_string_equal(again, csrf);
    /* A Bearer token has no CSRF token and does not expire. */
    assert_int_equal(call(f, "GET", "/api/v1/session", f->viewer, NULL, NULL, NULL), 200);
    assert_non_null(strstr(f->resp.body.data, "\"csrf\":null"));
    assert_non_null(strstr(f->resp.body.data, "\"expires\":null"));
    assert_non_null(strstr(f->resp.body.data, "\"role\":\"viewer\""));
    /* Nothing at all, and a cookie that is not a token. */
    assert_int_equal(call(f, "GET", "/api/v1/session", NULL, NULL, NULL, NULL), 401);
    assert_int_equal(call(f, "GET", "/api/v1/incidents", NULL, "<script>", NULL, NULL), 401);
    assert_non_null(strstr(f->resp.body.data, "log in again"));
}

static void test_csrf_required_for_changes_with_the_cookie(void **state)
{
    struct fix *f = *state;
    char tok[AUTH_TOKEN_STRLEN], csrf[AUTH_CSRF_STRLEN], other[AUTH_CSRF_STRLEN];
    const char *inc = "{\"title\":\"made from the console\"}";
    int64_t n = 0;

    login(f, tok, csrf);
    /* Reading needs no CSRF token. */
    assert_int_equal(call(f, "GET", "/api/v1/incidents", NULL, tok, NULL, NULL), 200);
    /* A change without one, with a wrong one, with a truncated one. */
    assert_int_equal(call(f, "POST", "/api/v1/incidents", NULL, tok, NULL, inc), 403);
    assert_non_null(strstr(f->resp.body.data, "CSRF"));
    snprintf(other, sizeof(other), "%s", csrf);
    other[0] = other[0] == 'A' ? 'B' : 'A';
    assert_int_equal(call(f, "POST", "/api/v1/incidents", NULL, tok, other, inc), 403);
    other[0] = csrf[0];
    other[10] = '\0';
    assert_int_equal(call(f, "POST", "/api/v1/incidents", NULL, tok, other, inc), 403);
    assert_int_equal(call(f, "POST", "/api/v1/incidents", NULL, tok, "", inc), 403);
    assert_int_equal(store_incident_count(f->st, &n), 0);
    assert_int_equal(n, 0);
    /* The right one. */
    assert_int_equal(call(f, "POST", "/api/v1/incidents", NULL, tok, csrf, inc), 201);
    assert_non_null(strstr(f->resp.body.data, "made from the console"));
    assert_int_equal(store_incident_count(f->st, &n), 0);
    assert_int_equal(n, 1);
}

static void test_bearer_header_wins_over_the_cookie(void **state)
{
    struct fix *f = *state;
    char tok[AUTH_TOKEN_STRLEN], csrf[AUTH_CSRF_STRLEN];

    login(f, tok, csrf);
    /* The viewer's header with the analyst's cookie: the viewer decides. */
    assert_int_equal(call(f, "POST", "/api/v1/incidents", f->viewer, tok, csrf,
                          "{\"title\":\"x\"}"),
                     403);
    assert_non_null(strstr(f->resp.body.data, "vic may not do this"));
    assert_int_equal(call(f, "GET", "/api/v1/session", f->viewer, tok, NULL, NULL), 200);
    assert_non_null(strstr(f->resp.body.data, "\"user\":\"vic\""));
}

static void test_logout_ends_the_session(void **state)
{
    struct fix *f = *state;
    char tok[AUTH_TOKEN_STRLEN], csrf[AUTH_CSRF_STRLEN];
    struct audit_result ar;
    FILE *fp;
    char line[4096];
    int logins = 0, logouts = 0;

    login(f, tok, csrf);
    assert_int_equal(call(f, "DELETE", "/api/v1/session", NULL, tok, NULL, NULL), 403);
    assert_int_equal(call(f, "GET", "/api/v1/session", NULL, tok, NULL, NULL), 200);
    assert_int_equal(call(f, "DELETE", "/api/v1/session", NULL, tok, csrf, NULL), 200);
    assert_non_null(strstr(f->resp.set_cookie, AUTH_SESSION_COOKIE "=;"));
    assert_non_null(strstr(f->resp.set_cookie, "Max-Age=0"));
    assert_int_equal(call(f, "GET", "/api/v1/session", NULL, tok, NULL, NULL), 401);
    assert_int_equal(call(f, "GET", "/api/v1/incidents", NULL, tok, NULL, NULL), 401);
    /* Both are in the audit log, which still verifies. */
    assert_int_equal(audit_verify(f->audit_path, &ar), 0);
    fp = fopen(f->audit_path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        logins += strstr(line, "\"user.login\"") && strstr(line, "session") ? 1 : 0;
        logouts += strstr(line, "\"user.logout\"") && strstr(line, "\"pat\"") ? 1 : 0;
    }
    fclose(fp);
    assert_int_equal(logins, 1);
    assert_int_equal(logouts, 1);
}

static void test_expired_session_is_refused(void **state)
{
    struct fix *f = *state;
    char tok[AUTH_TOKEN_STRLEN], live[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN], lh[AUTH_TOKEN_HASHLEN];
    char *u = NULL, *r = NULL;
    int64_t exp = -1;

    assert_int_equal(auth_token_new(tok, th), 0);
    assert_int_equal(store_session_add(f->st, f->pat_id, th, sizeof(th), time_now_us() - 1), 0);
    assert_int_equal(store_token_find(f->st, th, sizeof(th), &u, &r, NULL), -ENOENT);
    assert_int_equal(call(f, "GET", "/api/v1/incidents", NULL, tok, NULL, NULL), 401);
    /* A later session's creation removes the expired one; the live one is
     * found with its expiry. */
    assert_int_equal(auth_token_new(live, lh), 0);
    assert_int_equal(
        store_session_add(f->st, f->pat_id, lh, sizeof(lh), time_now_us() + 3600000000LL), 0);
    assert_int_equal(store_token_revoke_hash(f->st, th, sizeof(th)), -ENOENT);
    assert_int_equal(store_token_find(f->st, lh, sizeof(lh), &u, &r, &exp), 0);
    assert_string_equal(u, "pat");
    assert_true(exp > time_now_us());
    free(u);
    free(r);
}

static void test_csrf_token_derivation(void **state)
{
    char a[AUTH_TOKEN_STRLEN], b[AUTH_TOKEN_STRLEN], ca[AUTH_CSRF_STRLEN], ca2[AUTH_CSRF_STRLEN],
        cb[AUTH_CSRF_STRLEN];
    unsigned char h[AUTH_TOKEN_HASHLEN];

    (void)state;
    assert_int_equal(auth_token_new(a, h), 0);
    assert_int_equal(auth_token_new(b, h), 0);
    assert_int_equal(auth_csrf_token(a, strlen(a), ca), 0);
    assert_int_equal(auth_csrf_token(a, strlen(a), ca2), 0);
    assert_int_equal(auth_csrf_token(b, strlen(b), cb), 0);
    assert_string_equal(ca, ca2);
    assert_string_not_equal(ca, cb);
    assert_int_equal(strlen(ca), AUTH_CSRF_STRLEN - 1);
    assert_int_equal(auth_csrf_check(a, strlen(a), ca), 0);
    assert_int_equal(auth_csrf_check(a, strlen(a), cb), -EACCES);
    assert_int_equal(auth_csrf_check(a, strlen(a), NULL), -EACCES);
    assert_int_equal(auth_csrf_check(a, strlen(a), ""), -EACCES);
    assert_int_equal(auth_csrf_token("hks_short", 9, ca), -EINVAL);
    assert_string_equal(ca, "");
}

/* The query of the triage queue: a map of key to value for call_q. */
struct q {
    const char *k[4], *v[4];
};

static const char *q_get(void *ctx, const char *key)
{
    const struct q *q = ctx;

    for (int i = 0; i < 4 && q->k[i]; i++)
        if (strcmp(q->k[i], key) == 0)
            return q->v[i];
    return NULL;
}

static unsigned call_q(struct fix *f, const char *path, struct q *q)
{
    struct api_req rq = {
        .method = "GET",
        .path = path,
        .authorization = f->viewer,
        .client = "127.0.0.1",
        .body = "",
        .query = q_get,
        .query_ctx = q,
        .now_us = time_now_us(),
    };

    api_dispatch(&f->ctx, &rq, &f->resp);
    assert_int_equal(buf_putc(&f->resp.body, '\0'), 0);
    f->resp.body.len--;
    return f->resp.status;
}

/* How many "kind": appear in the answer's alerts array. */
static int count_alerts(struct fix *f)
{
    int n = 0;

    for (const char *p = f->resp.body.data; (p = strstr(p, "\"kind\":")) != NULL; p++)
        n++;
    return n;
}

static void test_alert_queue_filters_and_total(void **state)
{
    struct fix *f = *state;
    char ent[64], title[64];
    int64_t hour = INT64_C(3600000000), t0 = INT64_C(1795458000000000);

    /* 120 aggregated alerts: three rules, sources 203.0.113.0-39, one an
     * hour apart. */
    for (int i = 0; i < 120; i++) {
        snprintf(ent, sizeof(ent), "source.ip=203.0.113.%d", i % 40);
        snprintf(title, sizeof(title), i % 3 == 0 ? "SSH Brute Force" : i % 3 == 1 ? "Port Scan"
                                                                                   : "Web SQLi");
        struct store_agg_rec a = {
            .id = i + 1, .kind = "rule", .rule_id = i % 3 == 0 ? "r-ssh" : "r-other",
            .rule_name = i % 3 == 0 ? "ssh_brute" : "other", .rule_title = title,
            .level = 1 + i % 5, .entity_key = ent, .count = 1, .first_us = t0 + i * hour,
            .last_us = t0 + i * hour,
        };
        assert_int_equal(store_agg_put(f->st, &a), 0);
    }
    /* Paging: 50 a page, the total of all. */
    assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"limit"}, {"50"}}), 200);
    assert_int_equal(count_alerts(f), 50);
    assert_non_null(strstr(f->resp.body.data, "\"total\":120}"));
    assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"limit", "offset"}, {"50", "100"}}),
                     200);
    assert_int_equal(count_alerts(f), 20);
    assert_non_null(strstr(f->resp.body.data, "\"total\":120}"));
    /* An entity: sources .7 are i = 7, 47, 87. */
    assert_int_equal(call_q(f, "/api/v1/alerts",
                            &(struct q){{"entity"}, {"source.ip=203.0.113.7"}}),
                     200);
    assert_int_equal(count_alerts(f), 3);
    assert_non_null(strstr(f->resp.body.data, "\"total\":3}"));
    /* A value alone matches it whole: .3 is not .30 to .39. */
    assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"entity"}, {"203.0.113.3"}}), 200);
    assert_non_null(strstr(f->resp.body.data, "\"total\":3}"));
    /* Search, any case, over title: "sqli" is i % 3 == 2, 40 of them. */
    assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"q", "limit"}, {"sqli", "500"}}),
                     200);
    assert_int_equal(count_alerts(f), 40);
    assert_null(strstr(f->resp.body.data, "Port Scan"));
    /* Time: the last seen in [t0 + 10 h, t0 + 19 h] (t0 18:20 UTC): ten. */
    assert_int_equal(call_q(f, "/api/v1/alerts",
                            &(struct q){{"since", "until"},
                                        {"2026-11-24T04:20:00Z", "2026-11-24T13:20:00Z"}}),
                     200);
    assert_non_null(strstr(f->resp.body.data, "\"total\":10}"));
    /* Combined with the rule and the level. */
    assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"rule", "level"}, {"r-ssh", "4"}}),
                     200);
    assert_non_null(strstr(f->resp.body.data, "\"total\":16}"));
    /* Bad values are refused with the reason. */
    assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"since"}, {"yesterday"}}), 400);
    assert_non_null(strstr(f->resp.body.data, "ISO 8601"));
    {
        char big[300];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(call_q(f, "/api/v1/alerts", &(struct q){{"q"}, {big}}), 400);
    }
}

/* A request with the admin's Bearer token (made here) or another header. */
static unsigned acall(struct fix *f, const char *method, const char *path, const char *auth,
                      const char *body)
{
    return call(f, method, path, auth, NULL, NULL, body);
}

static void make_admin(struct fix *f, char hdr[AUTH_TOKEN_STRLEN + 8])
{
    char tok[AUTH_TOKEN_STRLEN];
    unsigned char th[AUTH_TOKEN_HASHLEN];
    int64_t uid;

    assert_int_equal(store_user_add(f->st, "ada", "admin", NULL, &uid), 0);
    assert_int_equal(auth_token_new(tok, th), 0);
    assert_int_equal(store_token_add(f->st, uid, th, sizeof(th), "t", 0), 0);
    snprintf(hdr, AUTH_TOKEN_STRLEN + 8, "Bearer %s", tok);
}

static int audit_has(struct fix *f, const char *action)
{
    FILE *fp = fopen(f->audit_path, "r");
    char line[8192];
    int n = 0;

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp))
        n += strstr(line, action) != NULL;
    fclose(fp);
    return n;
}

static void test_users_and_tokens_by_an_admin(void **state)
{
    struct fix *f = *state;
    char admin[AUTH_TOKEN_STRLEN + 8], tok[AUTH_TOKEN_STRLEN + 8], tid[16];
    struct audit_result ar;
    const char *p;

    make_admin(f, admin);
    /* Only admins: an analyst's session and the viewer's token are 403. */
    assert_int_equal(acall(f, "GET", "/api/v1/users", f->viewer, NULL), 403);
    assert_int_equal(acall(f, "POST", "/api/v1/users", f->viewer, "{\"name\":\"x\",\"role\":\"admin\"}"),
                     403);
    assert_int_equal(acall(f, "GET", "/api/v1/users", admin, NULL), 200);
    assert_non_null(strstr(f->resp.body.data, "\"name\":\"pat\""));
    assert_non_null(strstr(f->resp.body.data, "\"has_password\":true"));
    /* Adding: refused with the reason, then made. */
    assert_int_equal(acall(f, "POST", "/api/v1/users", admin, "{\"name\":\"bob\"}"), 400);
    assert_int_equal(
        acall(f, "POST", "/api/v1/users", admin, "{\"name\":\"bob\",\"role\":\"root\"}"), 400);
    assert_non_null(strstr(f->resp.body.data, "viewer, analyst, lead or admin"));
    assert_int_equal(acall(f, "POST", "/api/v1/users", admin,
                           "{\"name\":\"<b>\",\"role\":\"viewer\"}"),
                     400);
    assert_int_equal(acall(f, "POST", "/api/v1/users", admin,
                           "{\"name\":\"bob\",\"role\":\"viewer\",\"password\":\"short\"}"),
                     400);
    assert_non_null(strstr(f->resp.body.data, "too short"));
    assert_int_equal(acall(f, "POST", "/api/v1/users", admin,
                           "{\"name\":\"bob\",\"role\":\"viewer\",\"shell\":\"/bin/sh\"}"),
                     400);
    assert_int_equal(acall(f, "POST", "/api/v1/users", admin,
                           "{\"name\":\"bob\",\"role\":\"viewer\",\"password\":\"" PW "\"}"),
                     201);
    assert_non_null(strstr(f->resp.body.data, "\"id\":4"));
    assert_int_equal(acall(f, "POST", "/api/v1/users", admin,
                           "{\"name\":\"bob\",\"role\":\"viewer\"}"),
                     409);
    /* bob logs in with the password the admin set. */
    assert_int_equal(call(f, "POST", "/api/v1/session", NULL, NULL, NULL,
                          "{\"name\":\"bob\",\"password\":\"" PW "\"}"),
                     201);
    /* Role change; an admin cannot demote or delete themselves. */
    assert_int_equal(acall(f, "PATCH", "/api/v1/users/4", admin, "{\"role\":\"analyst\"}"), 200);
    assert_non_null(strstr(f->resp.body.data, "\"role\":\"analyst\""));
    assert_int_equal(acall(f, "PATCH", "/api/v1/users/3", admin, "{\"role\":\"viewer\"}"), 422);
    assert_int_equal(acall(f, "DELETE", "/api/v1/users/3", admin, NULL), 422);
    assert_int_equal(acall(f, "PATCH", "/api/v1/users/99", admin, "{\"role\":\"viewer\"}"), 404);
    /* A token shown once; it works; it is listed without its text; revoked
     * it stops working. */
    assert_int_equal(acall(f, "POST", "/api/v1/users/4/tokens", admin, "{\"label\":\"laptop\"}"),
                     201);
    p = strstr(f->resp.body.data, "\"token\":\"hks_");
    assert_non_null(p);
    snprintf(tok, sizeof(tok), "Bearer %.*s", AUTH_TOKEN_LEN, p + 9);
    p = strstr(f->resp.body.data, "\"id\":");
    snprintf(tid, sizeof(tid), "%.*s", (int)strspn(p + 5, "0123456789"), p + 5);
    assert_int_equal(acall(f, "GET", "/api/v1/incidents", tok, NULL), 200);
    assert_int_equal(acall(f, "GET", "/api/v1/users/4/tokens", admin, NULL), 200);
    assert_non_null(strstr(f->resp.body.data, "\"label\":\"laptop\""));
    assert_non_null(strstr(f->resp.body.data, "\"session\":true")); /* bob's login */
    assert_null(strstr(f->resp.body.data, "hks_"));
    {
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/tokens/%s", tid);
        assert_int_equal(acall(f, "DELETE", path, admin, NULL), 200);
        assert_int_equal(acall(f, "DELETE", path, admin, NULL), 404);
    }
    assert_int_equal(acall(f, "GET", "/api/v1/incidents", tok, NULL), 401);
    /* Deleting a user ends its sessions and tokens. */
    assert_int_equal(acall(f, "DELETE", "/api/v1/users/4", admin, NULL), 200);
    assert_int_equal(acall(f, "GET", "/api/v1/users/4/tokens", admin, NULL), 404);
    /* All of it audited, the chain intact. */
    assert_int_equal(audit_verify(f->audit_path, &ar), 0);
    assert_int_equal(audit_has(f, "\"user.add\""), 1);
    assert_int_equal(audit_has(f, "\"user.update\""), 1);
    assert_int_equal(audit_has(f, "\"user.delete\""), 1);
    assert_int_equal(audit_has(f, "\"token.add\""), 1);
    assert_int_equal(audit_has(f, "\"token.revoke\""), 1);
}

static void test_stats_and_suppression_lift(void **state)
{
    struct fix *f = *state;
    int64_t now = time_now_us();
    struct store_agg_rec a = {.id = 1, .kind = "rule", .rule_id = "r1", .rule_name = "r",
                              .rule_title = "T", .level = 3,
                              .entity_key = "r1\x1fsource.ip=203.0.113.9", .count = 1,
                              .first_us = now, .last_us = now};
    struct store_alert_rec al = {.created_us = now, .time_us = now, .rule_id = "r1",
                                 .rule_title = "T", .rule_level = "medium", .input = "t",
                                 .kind = "rule", .fields_json = "{}", .fields_len = 2,
                                 .raw = "x", .raw_len = 1, .agg_id = 1};
    int64_t id;

    assert_int_equal(store_agg_put(f->st, &a), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_alert_add_rec(f->st, &al, &id), 0);
    assert_int_equal(call(f, "POST", "/api/v1/incidents", f->viewer, NULL, NULL, "{\"title\":\"x\"}"),
                     403);
    {
        char admin[AUTH_TOKEN_STRLEN + 8];
        make_admin(f, admin);
        assert_int_equal(acall(f, "POST", "/api/v1/incidents", admin,
                               "{\"title\":\"open one\",\"level\":\"Orange\",\"category\":\"B\"}"),
                         201);
        assert_int_equal(acall(f, "GET", "/api/v1/stats", f->viewer, NULL), 200);
        assert_non_null(strstr(f->resp.body.data, "\"alerts\":3,\"aggregated\":1,\"incidents\":1"));
        assert_non_null(strstr(f->resp.body.data, "\"Orange\":1"));
        assert_non_null(strstr(f->resp.body.data, "\"B\":1"));
        assert_non_null(strstr(f->resp.body.data, "\"title\":\"open one\""));
        /* 24 hourly buckets; the last holds the three alerts. */
        {
            int buckets = 0;
            for (const char *p = f->resp.body.data; (p = strstr(p, "\"alerts\":")) != NULL; p++)
                buckets++;
            assert_int_equal(buckets, 1 + 24);
            assert_non_null(strstr(f->resp.body.data, "\"alerts\":3}]"));
        }
        assert_int_equal(call_q(f, "/api/v1/stats", &(struct q){{"hours"}, {"0"}}), 400);
        assert_int_equal(call_q(f, "/api/v1/stats", &(struct q){{"hours"}, {"169"}}), 400);
        /* Suppress the alert, then lift it: it is no longer active. */
        assert_int_equal(acall(f, "POST", "/api/v1/alerts/1/suppress", admin,
                               "{\"reason\":\"noise\",\"expires\":\"2099-01-01\"}"),
                         201);
        assert_int_equal(acall(f, "DELETE", "/api/v1/suppressions/1", f->viewer, NULL), 403);
        assert_int_equal(acall(f, "DELETE", "/api/v1/suppressions/1", admin, NULL), 200);
        assert_non_null(strstr(f->resp.body.data, "\"active\":false"));
        assert_non_null(strstr(f->resp.body.data, "\"lifted_by\":\"ada\""));
        assert_int_equal(acall(f, "DELETE", "/api/v1/suppressions/1", admin, NULL), 409);
        assert_int_equal(acall(f, "DELETE", "/api/v1/suppressions/7", admin, NULL), 404);
        assert_int_equal(audit_has(f, "\"suppression.lift\""), 1);
    }
    /* Without the daemon's pipeline the rule list cannot be answered. */
    assert_int_equal(acall(f, "GET", "/api/v1/rules", f->viewer, NULL), 503);
}

static void test_web_assets_lookup(void **state)
{
    (void)state;
    /* The table is sorted (the lookup is a binary search) and each file is
     * found under its own path with a media type and an ETag. */
    for (size_t i = 0; i < web_assets_count; i++) {
        const struct web_asset *a = &web_assets[i];
        if (i)
            assert_true(strcmp(web_assets[i - 1].path, a->path) < 0);
        assert_ptr_equal(api_web_find(a->path), a);
        assert_memory_equal(a->path, "/ui/", 4);
        assert_non_null(a->type);
        assert_true(a->etag[0] == '"' && a->etag[strlen(a->etag) - 1] == '"');
    }
    if (api_web_find("/ui/index.html"))
        assert_ptr_equal(api_web_find("/"), api_web_find("/ui/index.html"));
    assert_null(api_web_find("/ui/../src/main.c"));
    assert_null(api_web_find("/ui/"));
    assert_null(api_web_find("/ui/nope.js"));
    assert_null(api_web_find("/api/v1/health"));
    assert_true(api_web_path("/"));
    assert_true(api_web_path("/ui/app.js"));
    assert_false(api_web_path("/api/v1/session"));
    assert_false(api_web_path("/metrics"));
    assert_false(api_web_path("/uix"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_login_sets_a_strict_httponly_cookie, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_session_wrong_password_sets_no_cookie, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_session_get_tells_who_and_the_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_required_for_changes_with_the_cookie, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bearer_header_wins_over_the_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_ends_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_session_is_refused, setup, teardown),
        cmocka_unit_test(test_csrf_token_derivation),
        cmocka_unit_test_setup_teardown(test_alert_queue_filters_and_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_and_tokens_by_an_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_and_suppression_lift, setup, teardown),
        cmocka_unit_test(test_web_assets_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
