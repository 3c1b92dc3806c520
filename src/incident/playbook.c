/*
 * playbook.c - loading playbooks (libyaml document API) and the task
 * checklists of incidents.
 */
#include "incident/playbook.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/readfile.h"

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static void task_def_free(struct playbook_task_def *t)
{
    free(t->title);
    free(t->description);
    free(t->owner);
}

static void playbook_clear(struct playbook *pb)
{
    free(pb->name);
    free(pb->file);
    for (int p = 0; p < INCIDENT_PHASE_COUNT; p++) {
        for (size_t i = 0; i < pb->ntasks[p]; i++)
            task_def_free(&pb->tasks[p][i]);
        free(pb->tasks[p]);
    }
    memset(pb, 0, sizeof(*pb));
}

void playbook_set_init(struct playbook_set *set)
{
    memset(set, 0, sizeof(*set));
}

void playbook_set_done(struct playbook_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        playbook_clear(&set->pb[i]);
    free(set->pb);
    for (size_t i = 0; i < set->nissues; i++) {
        free(set->issues[i].file);
        free(set->issues[i].msg);
    }
    free(set->issues);
    memset(set, 0, sizeof(*set));
}

/* Parser state for one file. */
struct pctx {
    yaml_document_t *doc;
    struct parse_err *err;
};

static int fail_at(struct pctx *c, const yaml_node_t *n, const char *msg)
{
    if (c->err) {
        c->err->off = n ? n->start_mark.index : 0;
        c->err->line = n ? (unsigned)n->start_mark.line + 1 : 1;
        c->err->col = n ? (unsigned)n->start_mark.column + 1 : 1;
        c->err->msg = msg;
    }
    return -EINVAL;
}

static int scalar_is(const yaml_node_t *n, const char *s)
{
    size_t l = strlen(s);
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == l &&
           memcmp(n->data.scalar.value, s, l) == 0;
}

/* A scalar string of at most `max` bytes without NUL, copied to the heap. */
static int scalar_dup(struct pctx *c, const yaml_node_t *n, size_t max, int nonempty,
                      const char *what, char **ret)
{
    (void)what;
    if (!n || n->type != YAML_SCALAR_NODE)
        return fail_at(c, n, "expected a text value");
    if (n->data.scalar.length > max)
        return fail_at(c, n, "text too long");
    if (nonempty && n->data.scalar.length == 0)
        return fail_at(c, n, "empty text");
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
        return fail_at(c, n, "NUL byte in text");
    *ret = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    return *ret ? 0 : -ENOMEM;
}

static int parse_task(struct pctx *c, const yaml_node_t *n, struct playbook_task_def *t)
{
    int r;

    if (n->type != YAML_MAPPING_NODE)
        return fail_at(c, n, "a task is a mapping with title, description, owner, required");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        /* The text keys: which field, its cap, whether it may be empty. */
        char **slot = NULL;
        size_t max = 0;
        int is_title = 0;

        if (scalar_is(k, "title")) {
            slot = &t->title;
            max = PLAYBOOK_TITLE_MAX;
            is_title = 1;
        } else if (scalar_is(k, "description")) {
            slot = &t->description;
            max = PLAYBOOK_TEXT_MAX;
        } else if (scalar_is(k, "owner")) {
            slot = &t->owner;
            max = PLAYBOOK_ROLE_MAX;
        }
        if (max > 0) {
            if (*slot)
                return fail_at(c, k, "duplicate key");
            if ((r = scalar_dup(c, v, max, is_title, "", slot)) < 0)
                return r;
        } else if (scalar_is(k, "required")) {
            if (scalar_is(v, "true") || scalar_is(v, "yes"))
                t->required = 1;
            else if (scalar_is(v, "false") || scalar_is(v, "no"))
                t->required = 0;
            else
                return fail_at(c, v, "required must be true or false");
        } else {
            return fail_at(c, k, "unknown task key (title, description, owner, required)");
        }
    }
    if (!t->title)
        return fail_at(c, n, "a task needs a title");
    if (!t->description && !(t->description = strdup("")))
        return -ENOMEM;
    if (!t->owner && !(t->owner = strdup("")))
        return -ENOMEM;
    return 0;
}

static int parse_phases(struct pctx *c, const yaml_node_t *n, struct playbook *pb)
{
    int r;

    if (n->type != YAML_MAPPING_NODE)
        return fail_at(c, n, "phases is a mapping of phase name to a list of tasks");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        enum incident_phase ph;
        struct playbook_task_def *tasks;
        size_t cnt;

        if (!k || k->type != YAML_SCALAR_NODE ||
            incident_phase_from_name((const char *)k->data.scalar.value, k->data.scalar.length,
                                     &ph) < 0 ||
            ph == INCIDENT_PHASE_NEW || ph == INCIDENT_PHASE_CLOSED ||
            (unsigned)ph >= INCIDENT_PHASE_COUNT)
            return fail_at(c, k, "unknown phase (first_aid, emergency, watch, full_response)");
        if (pb->tasks[ph])
            return fail_at(c, k, "duplicate phase");
        if (!v || v->type != YAML_SEQUENCE_NODE)
            return fail_at(c, v ? v : k, "a phase holds a list of tasks");
        cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (cnt > PLAYBOOK_MAX_TASKS)
            return fail_at(c, v, "too many tasks in one phase");
        if (cnt == 0)
            continue;
        /* Owned by pb at once: playbook_clear() in playbook_parse() releases
         * it on every path.  clang-analyzer loses the store through the
         * symbolic index `ph` and reports a leak that cannot happen. */
        pb->tasks[ph] = calloc(cnt, sizeof(*pb->tasks[ph]));
        tasks = pb->tasks[ph]; /* NOLINT(clang-analyzer-unix.Malloc) */
        if (!tasks)
            return -ENOMEM;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *tn = yaml_document_get_node(c->doc, *it);
            /* Count first so that a failed task is freed with the rest. */
            struct playbook_task_def *t = &tasks[pb->ntasks[ph]++];
            if (!tn)
                return fail_at(c, v, "empty task");
            if ((r = parse_task(c, tn, t)) < 0)
                return r;
        }
    }
    return 0;
}

static int parse_types(struct pctx *c, const yaml_node_t *n, struct playbook *pb)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(c, n, "types is a list of incident type names");
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *v = yaml_document_get_node(c->doc, *it);
        enum triage_type t;
        if (scalar_is(v, "default")) {
            pb->is_default = 1;
            continue;
        }
        if (!v || v->type != YAML_SCALAR_NODE ||
            incident_type_from_name((const char *)v->data.scalar.value, v->data.scalar.length, &t) <
                0 ||
            t == TRIAGE_TYPE_NONE)
            return fail_at(c, v ? v : n, "unknown incident type (MISSION.md section 2 names)");
        pb->types |= 1u << t;
    }
    if (!pb->types && !pb->is_default)
        return fail_at(c, n, "a playbook serves at least one type");
    return 0;
}

static int parse_doc(struct pctx *c, struct playbook *pb)
{
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    const yaml_node_t *types = NULL, *phases = NULL;
    int r;

    if (!root)
        return fail_at(c, NULL, "empty playbook");
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(c, root, "a playbook is a mapping with name, types and phases");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (!v)
            return fail_at(c, k, "missing value");
        if (scalar_is(k, "name")) {
            if (pb->name)
                return fail_at(c, k, "duplicate key");
            if ((r = scalar_dup(c, v, PLAYBOOK_TITLE_MAX, 1, "name", &pb->name)) < 0)
                return r;
        } else if (scalar_is(k, "types")) {
            if (types)
                return fail_at(c, k, "duplicate key");
            types = v;
            if ((r = parse_types(c, v, pb)) < 0)
                return r;
        } else if (scalar_is(k, "phases")) {
            if (phases)
                return fail_at(c, k, "duplicate key");
            phases = v;
            if ((r = parse_phases(c, v, pb)) < 0)
                return r;
        } else {
            return fail_at(c, k, "unknown key (name, types, phases)");
        }
    }
    if (!pb->name)
        return fail_at(c, root, "a playbook needs a name");
    if (!types)
        return fail_at(c, root, "a playbook needs types");
    if (!phases)
        return fail_at(c, root, "a playbook needs phases");
    return 0;
}

int playbook_parse(struct playbook_set *set, const char *text, size_t len, const char *file,
                   struct parse_err *reterr)
{
    yaml_parser_t yp;
    yaml_document_t doc;
    struct playbook pb;
    struct pctx c = {&doc, reterr};
    int r, loaded = 0;

    memset(&pb, 0, sizeof(pb));
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (len > PLAYBOOK_MAX_FILE_BYTES)
        return fail_at(&c, NULL, "playbook file too large");
    if (!yaml_parser_initialize(&yp))
        return -ENOMEM;
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    if (!yaml_parser_load(&yp, &doc)) {
        if (reterr) {
            reterr->off = yp.problem_mark.index;
            reterr->line = (unsigned)yp.problem_mark.line + 1;
            reterr->col = (unsigned)yp.problem_mark.column + 1;
            /* libyaml's problem strings are static literals. */
            reterr->msg = yp.problem ? yp.problem : "YAML syntax error";
        }
        r = yp.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        yaml_parser_delete(&yp);
        return r;
    }
    loaded = 1;
    if ((r = parse_doc(&c, &pb)) < 0)
        goto out;
    for (size_t i = 0; i < set->n; i++) {
        if ((set->pb[i].types & pb.types) || (set->pb[i].is_default && pb.is_default)) {
            r = fail_at(&c, yaml_document_get_root_node(&doc),
                        "a type is already served by another playbook");
            goto out;
        }
    }
    if (!(pb.file = strdup(file ? file : "-"))) {
        r = -ENOMEM;
        goto out;
    }
    {
        struct playbook *p = realloc(set->pb, (set->n + 1) * sizeof(*p));
        if (!p) {
            r = -ENOMEM;
            goto out;
        }
        set->pb = p;
        p[set->n++] = pb;
        memset(&pb, 0, sizeof(pb));
    }
out:
    playbook_clear(&pb);
    if (loaded)
        yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    return r;
}

static int add_issue(struct playbook_set *set, const char *file, unsigned line, unsigned col,
                     const char *msg)
{
    struct playbook_issue *is;
    if (set->nissues >= PLAYBOOK_MAX_ISSUES) {
        set->issues_dropped++;
        return 0;
    }
    is = realloc(set->issues, (set->nissues + 1) * sizeof(*is));
    if (!is)
        return -ENOMEM;
    set->issues = is;
    is = &is[set->nissues];
    is->file = strdup(file);
    is->msg = strdup(msg);
    if (!is->file || !is->msg) {
        free(is->file);
        free(is->msg);
        return -ENOMEM;
    }
    is->line = line;
    is->col = col;
    set->nissues++;
    return 0;
}

static int yaml_name(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    if (d->d_name[0] == '.')
        return 0;
    return (n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(d->d_name + n - 4, ".yml") == 0);
}

int playbook_set_load_dir(struct playbook_set *set, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, yaml_name, alphasort);
    int r = 0, loaded = 0;

    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        char path[4096];
        char *text = NULL;
        size_t len;
        struct parse_err e = {0};

        if (r < 0 || i >= PLAYBOOK_MAX_FILES) {
            if (r == 0)
                r = add_issue(set, dir, 0, 0, "too many playbook files; the rest are ignored");
            free(names[i]);
            continue;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= sizeof(path)) {
            r = add_issue(set, names[i]->d_name, 0, 0, "path too long");
        } else if ((r = readfile_all(path, PLAYBOOK_MAX_FILE_BYTES, &text, &len)) < 0) {
            r = r == -ENOMEM ? r : add_issue(set, path, 0, 0, strerror(-r));
        } else if ((r = playbook_parse(set, text, len, path, &e)) < 0) {
            r = r == -ENOMEM ? r : add_issue(set, path, e.line, e.col, e.msg ? e.msg : "invalid");
        } else {
            loaded++;
        }
        free(text);
        free(names[i]);
    }
    free(names);
    return r < 0 ? r : loaded;
}

const struct playbook *playbook_find(const struct playbook_set *set, enum triage_type type)
{
    const struct playbook *def = NULL;
    if ((unsigned)type >= TRIAGE_TYPE_ALL_COUNT)
        return NULL;
    for (size_t i = 0; i < set->n; i++) {
        if (set->pb[i].types & (1u << type))
            return &set->pb[i];
        if (set->pb[i].is_default)
            def = &set->pb[i];
    }
    return def;
}

/* ------------------------------------------------------------------ */
/* Checklists                                                          */

void playbook_checklist_init(struct playbook_checklist *cl)
{
    memset(cl, 0, sizeof(*cl));
    cl->next_id = 1;
}

static void task_free(struct playbook_task *t)
{
    free(t->title);
    free(t->description);
    free(t->owner);
    free(t->assignee);
    free(t->done_by);
}

void playbook_checklist_done(struct playbook_checklist *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < cl->n; i++)
        task_free(&cl->t[i]);
    free(cl->t);
    memset(cl, 0, sizeof(*cl));
}

static int reserve(struct playbook_checklist *cl, size_t more)
{
    size_t cap;
    struct playbook_task *t;
    if (more > PLAYBOOK_CHECKLIST_MAX - cl->n)
        return -E2BIG;
    if (cl->n + more <= cl->cap)
        return 0;
    cap = cl->cap ? cl->cap : 8;
    while (cap < cl->n + more)
        cap *= 2;
    if (!(t = realloc(cl->t, cap * sizeof(*t))))
        return -ENOMEM;
    cl->t = t;
    cl->cap = cap;
    return 0;
}

/* Appends one task; room must be reserved. */
static int push(struct playbook_checklist *cl, enum incident_phase phase, const char *title,
                const char *description, const char *owner, int required, int added)
{
    struct playbook_task *t = &cl->t[cl->n];
    memset(t, 0, sizeof(*t));
    t->title = strdup(title);
    t->description = strdup(description ? description : "");
    t->owner = strdup(owner ? owner : "");
    if (!t->title || !t->description || !t->owner) {
        task_free(t);
        return -ENOMEM;
    }
    if (cl->next_id == 0)
        cl->next_id = 1;
    t->id = cl->next_id++;
    t->phase = phase;
    t->required = required ? 1 : 0;
    t->added = added;
    cl->n++;
    return 0;
}

int playbook_tasks_for(const struct playbook_set *set, enum triage_type type,
                       enum incident_phase phase, struct playbook_checklist *cl)
{
    const struct playbook *pb = playbook_find(set, type);
    size_t n, before = cl->n;
    int r;

    if (!pb || (unsigned)phase >= INCIDENT_PHASE_COUNT || !(n = pb->ntasks[phase]))
        return 0;
    if ((r = reserve(cl, n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct playbook_task_def *d = &pb->tasks[phase][i];
        if ((r = push(cl, phase, d->title, d->description, d->owner, d->required, 0)) < 0) {
            /* Nothing added: drop the tasks of this call again. */
            while (cl->n > before)
                task_free(&cl->t[--cl->n]);
            return r;
        }
    }
    return (int)n;
}

static int text_ok(const char *s, size_t max)
{
    return !s || strlen(s) <= max;
}

int playbook_task_add(struct playbook_checklist *cl, enum incident_phase phase, const char *title,
                      const char *description, const char *owner, int required, uint32_t *ret_id)
{
    int r;
    if (!title || !title[0] || !text_ok(title, PLAYBOOK_TITLE_MAX) ||
        !text_ok(description, PLAYBOOK_TEXT_MAX) || !text_ok(owner, PLAYBOOK_ROLE_MAX) ||
        (unsigned)phase >= INCIDENT_PHASE_COUNT)
        return -EINVAL;
    if ((r = reserve(cl, 1)) < 0 ||
        (r = push(cl, phase, title, description, owner, required, 1)) < 0)
        return r;
    if (ret_id)
        *ret_id = cl->t[cl->n - 1].id;
    return 0;
}

static struct playbook_task *find_task(const struct playbook_checklist *cl, uint32_t id)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->t[i].id == id)
            return &cl->t[i];
    return NULL;
}

const struct playbook_task *playbook_task_get(const struct playbook_checklist *cl, uint32_t id)
{
    return find_task(cl, id);
}

int playbook_task_tick(struct playbook_checklist *cl, uint32_t id, int done, const char *who,
                       int64_t now_us)
{
    struct playbook_task *t = find_task(cl, id);
    char *by = NULL;
    if (!t)
        return -ENOENT;
    if (done) {
        if (!who || !who[0] || strlen(who) > INCIDENT_NAME_MAX)
            return -EINVAL;
        if (!(by = strdup(who)))
            return -ENOMEM;
    }
    free(t->done_by);
    t->done_by = by;
    t->done = done ? 1 : 0;
    t->done_us = done ? now_us : 0;
    return 0;
}

int playbook_task_assign(struct playbook_checklist *cl, uint32_t id, const char *assignee)
{
    struct playbook_task *t = find_task(cl, id);
    char *a = NULL;
    if (!t)
        return -ENOENT;
    if (!text_ok(assignee, INCIDENT_NAME_MAX))
        return -EINVAL;
    if (assignee && assignee[0] && !(a = strdup(assignee)))
        return -ENOMEM;
    free(t->assignee);
    t->assignee = a;
    return 0;
}

size_t playbook_checklist_blocking(const struct playbook_checklist *cl, enum incident_phase phase,
                                   char *why, size_t whylen)
{
    size_t n = 0, off = 0;

    for (size_t i = 0; i < cl->n; i++)
        if (cl->t[i].phase == phase && cl->t[i].required && !cl->t[i].done)
            n++;
    if (!n || !why || !whylen)
        return n;
    off = (size_t)snprintf(why, whylen, "%zu required task%s of %s %s open:", n, n == 1 ? "" : "s",
                           incident_phase_name(phase), n == 1 ? "is" : "are");
    for (size_t i = 0, k = 0; i < cl->n && off < whylen; i++) {
        const struct playbook_task *t = &cl->t[i];
        if (t->phase != phase || !t->required || t->done)
            continue;
        off += (size_t)snprintf(why + off, whylen - off, "%s \"%s\"", k++ ? "," : "", t->title);
    }
    return n;
}
