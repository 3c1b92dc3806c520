/*
 * evidence_plan.c - reading collection plans (evidence_plan.h) through
 * util/ydoc, strictly: unknown keys, a step out of the volatile-first
 * order, a kind that is no file evidence or an id given twice are refused
 * with the line and a sentence saying which step and why.
 */
#include "evidence/evidence_plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/readfile.h"
#include "util/ydoc.h"

/* The kinds a collection step yields: the file kinds of evidence_kinds
 * (evidence_register.c); archive excerpts are not collected from a host. */
static const char *const step_kinds[] = {"disk-image", "memory-dump", "pcap",
                                         "log-bundle", "screenshot",  "other"};
static const char *const order_names[] = {"volatile", "disk", "logs"};

const char *evidence_plan_order_name(enum evidence_plan_order o)
{
    return (unsigned)o < 3 ? order_names[o] : "?";
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= EVIDENCE_PLAN_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static void step_free(struct evidence_plan_step *s)
{
    free(s->id);
    free(s->what);
    free(s->tool);
    free(s->command);
    free(s->notes);
}

void evidence_plan_done(struct evidence_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsteps; i++)
        step_free(&p->steps[i]);
    free(p->steps);
    free(p->name);
    free(p->title);
    free(p->file);
    memset(p, 0, sizeof(*p));
}

/* ---- a step ---- */

struct step_build {
    struct evidence_plan_step *s;
    int have_order;
};

static int kw_step_id(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct evidence_plan_step *s = ((struct step_build *)arg)->s;
    int r = ydoc_strdup(d, v, 1, EVIDENCE_PLAN_NAME_MAX, &s->id);

    if (r == 0 && !name_ok(s->id))
        return ydoc_fail(d, v, "id: 1 to 32 of a-z, 0-9 and -");
    return r;
}

static int kw_step_what(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, EVIDENCE_PLAN_TEXT_MAX, &((struct step_build *)arg)->s->what);
}

static int kw_step_order(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct step_build *b = arg;
    int i, r;

    r = ydoc_name(d, v, order_names, 3, 0, "order: volatile, disk or logs", &i);
    if (r == 0) {
        b->s->order = (enum evidence_plan_order)i;
        b->have_order = 1;
    }
    return r;
}

static int kw_step_kind(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    int i, r;

    r = ydoc_name(d, v, step_kinds, YDOC_NKEYS(step_kinds), 0,
                  "kind: disk-image, memory-dump, pcap, log-bundle, screenshot or other", &i);
    if (r == 0)
        ((struct step_build *)arg)->s->kind = step_kinds[i];
    return r;
}

static int kw_step_tool(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, EVIDENCE_PLAN_TEXT_MAX, &((struct step_build *)arg)->s->tool);
}

static int kw_step_command(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, EVIDENCE_PLAN_TEXT_MAX, &((struct step_build *)arg)->s->command);
}

static int kw_step_notes(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, EVIDENCE_PLAN_TEXT_MAX, &((struct step_build *)arg)->s->notes);
}

static const struct ydoc_key step_keys[] = {
    {"command", kw_step_command}, {"id", kw_step_id},       {"kind", kw_step_kind},
    {"notes", kw_step_notes},     {"order", kw_step_order}, {"tool", kw_step_tool},
    {"what", kw_step_what},
};
static const struct ydoc_table step_table = {
    step_keys, YDOC_NKEYS(step_keys),
    "a step is a mapping with id, what, order, kind, tool, command, notes",
    "unknown step key (id, what, order, kind, tool, command, notes)"};

/* Fills an absent optional text with "". */
static int dflt(char **s)
{
    return *s || (*s = strdup("")) ? 0 : -ENOMEM;
}

static int parse_step(struct ydoc *d, yaml_node_t *n, struct evidence_plan_step *s)
{
    struct step_build b = {s, 0};
    int r;

    if ((r = ydoc_walk(d, n, &step_table, &b)) < 0)
        return r;
    if (!s->id)
        return ydoc_fail(d, n, "a step needs an id");
    if (!s->what)
        return ydoc_failf(d, n, "step %s needs what (what to collect)", s->id);
    if (!b.have_order)
        return ydoc_failf(d, n, "step %s needs order (volatile, disk or logs)", s->id);
    if (!s->kind)
        return ydoc_failf(d, n, "step %s needs kind (the evidence it yields)", s->id);
    if ((r = dflt(&s->tool)) < 0 || (r = dflt(&s->command)) < 0 || (r = dflt(&s->notes)) < 0)
        return r;
    return 0;
}

/* ---- the plan ---- */

static int kw_plan(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct evidence_plan *p = arg;
    int r = ydoc_strdup(d, v, 1, EVIDENCE_PLAN_NAME_MAX, &p->name);

    if (r == 0 && !name_ok(p->name))
        return ydoc_fail(d, v, "plan: the asset class, 1 to 32 of a-z, 0-9 and -");
    return r;
}

static int kw_title(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, EVIDENCE_PLAN_TEXT_MAX, &((struct evidence_plan *)arg)->title);
}

static int kw_steps(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct evidence_plan *p = arg;
    size_t cnt = 0;
    int r;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "steps is a list of steps, in the order they are taken");
    (void)ydoc_list(d, v, 0, SIZE_MAX, &cnt);
    if (cnt == 0)
        return ydoc_fail(d, v, "a plan has at least one step");
    if (cnt > EVIDENCE_PLAN_STEPS_MAX)
        return ydoc_fail(d, v, "too many steps (at most 64)");
    if (!(p->steps = calloc(cnt, sizeof(*p->steps))))
        return -ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *n = ydoc_list_at(d, v, i);
        struct evidence_plan_step *s = &p->steps[i];

        p->nsteps = i + 1;
        if ((r = parse_step(d, n, s)) < 0)
            return r;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->steps[j].id, s->id) == 0)
                return ydoc_failf(d, n, "step %s is given twice", s->id);
        /* Volatile first: what a reboot or time destroys before what lasts. */
        if (i > 0 && s->order < p->steps[i - 1].order)
            return ydoc_failf(d, n,
                              "step %s (%s) comes after step %s (%s): collect volatile data "
                              "first, then disks, then logs",
                              s->id, order_names[s->order], p->steps[i - 1].id,
                              order_names[p->steps[i - 1].order]);
    }
    return 0;
}

static const struct ydoc_key plan_keys[] = {
    {"plan", kw_plan},
    {"steps", kw_steps},
    {"title", kw_title},
};
static const struct ydoc_table plan_table = {plan_keys, YDOC_NKEYS(plan_keys),
                                             "a plan file is a mapping with plan, title, steps",
                                             "unknown key (plan, title, steps)"};

int evidence_plan_parse(const char *text, size_t len, const char *file, struct evidence_plan *ret,
                        struct parse_err *reterr)
{
    struct ydoc d = {.err = reterr};
    yaml_node_t *root;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (len > EVIDENCE_PLAN_FILE_MAX)
        return ydoc_fail_at(&d, 1, 1, "plan file too large (at most 64 KiB)");
    if ((r = ydoc_load(&d, text, len, reterr)) < 0)
        goto out;
    if (!(root = ydoc_root(&d))) {
        r = ydoc_fail_at(&d, 1, 1, "an empty plan file");
        goto out;
    }
    if ((r = ydoc_walk(&d, root, &plan_table, ret)) < 0)
        goto out;
    if (!ret->name || !ret->nsteps) {
        r = ydoc_fail(&d, root,
                      !ret->name ? "a plan needs plan (its asset class)" : "a plan needs steps");
        goto out;
    }
    if (!ret->title && !(ret->title = strdup(ret->name)))
        r = -ENOMEM;
    if (r == 0 && !(ret->file = strdup(file ? file : "-")))
        r = -ENOMEM;
out:
    ydoc_done(&d);
    return r;
}

/* ---- a directory of plans ---- */

void evidence_plan_set_done(struct evidence_plan_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        evidence_plan_done(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int yaml_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);

    return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct evidence_plan *)a)->name, ((const struct evidence_plan *)b)->name);
}

int evidence_plan_load_dir(const char *dir, struct evidence_plan_set *ret, char *ret_err,
                           size_t errlen)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, yaml_file, alphasort), r = 0;

    memset(ret, 0, sizeof(*ret));
    ret_err[0] = '\0';
    if (n < 0) {
        r = -errno;
        snprintf(ret_err, errlen, "%s: %s", dir, strerror(-r));
        return r;
    }
    if (n > EVIDENCE_PLANS_MAX) {
        snprintf(ret_err, errlen, "%s: more than %d plan files", dir, EVIDENCE_PLANS_MAX);
        r = -EINVAL;
    } else if (n > 0 && !(ret->v = calloc((size_t)n, sizeof(*ret->v)))) {
        r = -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        char path[4096], *text = NULL;
        struct parse_err e = {0};
        size_t len = 0;

        if (r == 0 &&
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= sizeof(path)) {
            snprintf(ret_err, errlen, "%s: path too long", dir);
            r = -EINVAL;
        }
        if (r == 0 && (r = readfile_all(path, EVIDENCE_PLAN_FILE_MAX, &text, &len)) < 0)
            snprintf(ret_err, errlen, "%s: %s", path,
                     r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
        if (r == 0) {
            r = evidence_plan_parse(text, len, path, &ret->v[ret->n], &e);
            if (r == -EINVAL)
                ydoc_err_format(ret_err, errlen, path, &e);
            if (r < 0)
                evidence_plan_done(&ret->v[ret->n]);
            else
                ret->n++;
        }
        if (r == 0)
            for (size_t j = 0; j + 1 < ret->n; j++)
                if (strcmp(ret->v[j].name, ret->v[ret->n - 1].name) == 0) {
                    snprintf(ret_err, errlen, "%s: plan %s is also given by %s", path,
                             ret->v[j].name, ret->v[j].file);
                    r = -EINVAL;
                }
        free(text);
        free(names[i]);
    }
    free(names);
    if (r < 0) {
        evidence_plan_set_done(ret);
        return r;
    }
    if (ret->n > 1)
        qsort(ret->v, ret->n, sizeof(*ret->v), by_name);
    return 0;
}

const struct evidence_plan *evidence_plan_find(const struct evidence_plan_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

const struct evidence_plan_step *evidence_plan_find_ref(const struct evidence_plan_set *s,
                                                        const char *ref,
                                                        const struct evidence_plan **ret_plan)
{
    const struct evidence_plan *p;
    const char *slash = strchr(ref, '/');
    char cls[EVIDENCE_PLAN_NAME_MAX + 1];

    if (!slash || (size_t)(slash - ref) > EVIDENCE_PLAN_NAME_MAX)
        return NULL;
    snprintf(cls, sizeof(cls), "%.*s", (int)(slash - ref), ref);
    if (!(p = evidence_plan_find(s, cls)))
        return NULL;
    for (size_t i = 0; i < p->nsteps; i++)
        if (strcmp(p->steps[i].id, slash + 1) == 0) {
            if (ret_plan)
                *ret_plan = p;
            return &p->steps[i];
        }
    return NULL;
}
