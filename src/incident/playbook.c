/*
 * playbook.c - loading playbooks (YAML, read through util/ydoc) and the task
 * checklists of incidents.
 */
#include "incident/playbook.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/readfile.h"
#include "util/ydoc.h"

/* ------------------------------------------------------------------ */
/* Loading                                                             */

void playbook_task_def_free(struct playbook_task_def *t)
{
    free(t->title);
    free(t->description);
    free(t->owner);
    free(t->collect);
    memset(t, 0, sizeof(*t));
}

void playbook_phase_tasks_free(struct playbook_task_def **tasks, const size_t *ntasks)
{
    for (int p = 0; p < INCIDENT_PHASE_COUNT; p++) {
        for (size_t i = 0; i < ntasks[p]; i++)
            playbook_task_def_free(&tasks[p][i]);
        free(tasks[p]);
    }
}

void playbook_issues_free(struct playbook_issue *issues, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(issues[i].file);
        free(issues[i].msg);
    }
    free(issues);
}

static void playbook_clear(struct playbook *pb)
{
    free(pb->name);
    free(pb->file);
    playbook_phase_tasks_free(pb->tasks, pb->ntasks);
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
    playbook_issues_free(set->issues, set->nissues);
    memset(set, 0, sizeof(*set));
}

/* One playbook while it is read: which of the required keys were seen. */
struct pb_build {
    struct playbook *pb;
    int has_types, has_phases;
};

/* ---- a task: {title, description, owner, required, ...} ---- */

static int kw_task_title(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, PLAYBOOK_TITLE_MAX, &((struct playbook_task_def *)arg)->title);
}

static int kw_task_description(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, PLAYBOOK_TEXT_MAX, &((struct playbook_task_def *)arg)->description);
}

static int kw_task_owner(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 0, PLAYBOOK_ROLE_MAX, &((struct playbook_task_def *)arg)->owner);
}

static int kw_task_required(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, "required must be true or false",
                     &((struct playbook_task_def *)arg)->required);
}

static int kw_task_needs_evidence(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_bool(d, v, "needs_evidence must be true or false",
                     &((struct playbook_task_def *)arg)->needs_evidence);
}

/* "CLASS/STEP" of a collection plan: each part 1 to 32 of a-z, 0-9, -.
 * Whether the step exists is checked against the plans (`hikeshi evidence
 * plan --check`), which this module does not read. */
static int kw_task_collect(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    char **dst = &((struct playbook_task_def *)arg)->collect;
    const char *slash;
    size_t a, b;
    int r = ydoc_strdup(d, v, 3, 65, dst);

    if (r < 0)
        return r;
    slash = strchr(*dst, '/');
    a = slash ? (size_t)(slash - *dst) : 0;
    b = slash ? strlen(slash + 1) : 0;
    if (!slash || a == 0 || a > 32 || b == 0 || b > 32 || strspn(*dst, ok) != a ||
        strspn(slash + 1, ok) != b)
        return ydoc_fail(d, v, "collect names a collection plan step: CLASS/STEP (a-z, 0-9, -)");
    return 0;
}

/* The NIST CSF function the task serves (csf.h). */
static int kw_task_function(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    size_t len;
    const char *s = ydoc_scalar(v, &len);

    if (!s || csf_function_from_name(s, len, &((struct playbook_task_def *)arg)->function) < 0)
        return ydoc_fail(d, v, "function is one of identify, protect, detect, respond, recover");
    return 0;
}

/* A deadline counted from when the task is made: "72h", "30m", "2d". */
static int kw_task_due(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_duration(d, v, 0, &((struct playbook_task_def *)arg)->due_us);
}

static const struct ydoc_key task_keys[] = {
    {"collect", kw_task_collect},
    {"description", kw_task_description},
    {"due", kw_task_due},
    {"function", kw_task_function},
    {"needs_evidence", kw_task_needs_evidence},
    {"owner", kw_task_owner},
    {"required", kw_task_required},
    {"title", kw_task_title},
};
static const struct ydoc_table task_table = {
    task_keys, YDOC_NKEYS(task_keys),
    "a task is a mapping with title, description, owner, required, needs_evidence, collect,"
    " function, due",
    "unknown task key (title, description, owner, required, needs_evidence, collect, function,"
    " due)"};

int playbook_task_def_parse(struct ydoc *d, yaml_node_t *n, struct playbook_task_def *t)
{
    int r;

    if ((r = ydoc_walk(d, n, &task_table, t)) < 0)
        return r;
    if (!t->title)
        return ydoc_fail(d, n, "a task needs a title");
    if (!t->description && !(t->description = strdup("")))
        return -ENOMEM;
    if (!t->owner && !(t->owner = strdup("")))
        return -ENOMEM;
    return 0;
}

int playbook_task_list_parse(struct ydoc *d, yaml_node_t *v, size_t max, const char *need_function,
                             struct playbook_task_def **tasks, size_t *ntasks)
{
    struct playbook_task_def *arr;
    size_t cnt;
    int r;

    (void)ydoc_list(d, v, 0, SIZE_MAX, &cnt);
    if (cnt > max)
        return ydoc_failf(d, v, "too many tasks (at most %zu)", max);
    if (cnt == 0)
        return 0;
    /* Stored at once: the caller frees it on every path.  clang-analyzer
     * loses the store through a caller's symbolic index and reports a leak
     * that cannot happen. */
    *tasks = calloc(cnt, sizeof(**tasks));
    arr = *tasks; /* NOLINT(clang-analyzer-unix.Malloc) */
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *tn = ydoc_list_at(d, v, i);
        /* Counted first so that a failed task is freed with the rest. */
        struct playbook_task_def *t = &arr[(*ntasks)++];

        if (!tn)
            return ydoc_fail(d, v, "empty task");
        if ((r = playbook_task_def_parse(d, tn, t)) < 0)
            return r;
        if (need_function && t->function == CSF_NONE)
            return ydoc_fail(d, tn, need_function);
    }
    return 0;
}

/* ---- phases: phase name -> list of tasks ---- */

int playbook_phase_parse(struct ydoc *d, yaml_node_t *k, yaml_node_t *v,
                         struct playbook_task_def **tasks, size_t *ntasks,
                         const char *need_function)
{
    enum incident_phase ph;
    const char *s;
    size_t len;

    s = ydoc_scalar(k, &len);
    if (!s || incident_phase_from_name(s, len, &ph) < 0 || ph == INCIDENT_PHASE_NEW ||
        ph == INCIDENT_PHASE_CLOSED || (unsigned)ph >= INCIDENT_PHASE_COUNT)
        return ydoc_fail(d, k, "unknown phase (first_aid, emergency, watch, full_response)");
    if (tasks[ph])
        return ydoc_fail(d, k, "duplicate phase");
    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, v, "a phase holds a list of tasks");
    return playbook_task_list_parse(d, v, PLAYBOOK_MAX_TASKS, need_function, &tasks[ph],
                                    &ntasks[ph]);
}

static int phase_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct playbook *pb = ((struct pb_build *)arg)->pb;

    /* Owned by pb: playbook_clear() in playbook_parse() releases them on
     * every path. */
    return playbook_phase_parse(d, k, v, pb->tasks, pb->ntasks, NULL);
}

static int kw_phases(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    if (v->type != YAML_MAPPING_NODE)
        return ydoc_fail(d, v, "phases is a mapping of phase name to a list of tasks");
    ((struct pb_build *)arg)->has_phases = 1;
    return ydoc_pairs(d, v, phase_pair, arg);
}

/* ---- types: a list of incident type names, or default ---- */

static int kw_types(struct ydoc *d, yaml_node_t *k, yaml_node_t *n, void *arg)
{
    struct playbook *pb = ((struct pb_build *)arg)->pb;
    size_t cnt;

    if (n->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, n, "types is a list of incident type names");
    (void)ydoc_list(d, n, 0, SIZE_MAX, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *v = ydoc_list_at(d, n, i);
        enum triage_type t;
        const char *s;
        size_t len;

        if (ydoc_scalar_is(v, "default")) {
            pb->is_default = 1;
            continue;
        }
        s = ydoc_scalar(v, &len);
        if (!s || incident_type_from_name(s, len, &t) < 0 || t == TRIAGE_TYPE_NONE)
            return ydoc_fail(d, v ? v : n, "unknown incident type (MISSION.md section 2 names)");
        pb->types |= 1u << t;
    }
    if (!pb->types && !pb->is_default)
        return ydoc_fail(d, n, "a playbook serves at least one type");
    ((struct pb_build *)arg)->has_types = 1;
    return 0;
}

static int kw_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, PLAYBOOK_TITLE_MAX, &((struct pb_build *)arg)->pb->name);
}

static const struct ydoc_key playbook_keys[] = {
    {"name", kw_name},
    {"phases", kw_phases},
    {"types", kw_types},
};
static const struct ydoc_table playbook_table = {
    playbook_keys, YDOC_NKEYS(playbook_keys), "a playbook is a mapping with name, types and phases",
    "unknown key (name, types, phases)"};

static int parse_doc(struct ydoc *d, struct playbook *pb)
{
    struct pb_build b = {pb, 0, 0};
    yaml_node_t *root = ydoc_root(d);
    int r;

    if (!root)
        return ydoc_fail_at(d, 1, 1, "empty playbook");
    if ((r = ydoc_walk(d, root, &playbook_table, &b)) < 0)
        return r;
    if (!pb->name)
        return ydoc_fail(d, root, "a playbook needs a name");
    if (!b.has_types)
        return ydoc_fail(d, root, "a playbook needs types");
    if (!b.has_phases)
        return ydoc_fail(d, root, "a playbook needs phases");
    return 0;
}

int playbook_parse(struct playbook_set *set, const char *text, size_t len, const char *file,
                   struct parse_err *reterr)
{
    struct ydoc d = {.err = reterr};
    struct playbook pb;
    int r;

    memset(&pb, 0, sizeof(pb));
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (len > PLAYBOOK_MAX_FILE_BYTES)
        return ydoc_fail_at(&d, 1, 1, "playbook file too large");
    if ((r = ydoc_load(&d, text, len, reterr)) < 0 || (r = parse_doc(&d, &pb)) < 0)
        goto out;
    for (size_t i = 0; i < set->n; i++) {
        if ((set->pb[i].types & pb.types) || (set->pb[i].is_default && pb.is_default)) {
            r = ydoc_fail(&d, ydoc_root(&d), "a type is already served by another playbook");
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
    ydoc_done(&d);
    return r;
}

/* Records one issue of a directory load (at most PLAYBOOK_MAX_ISSUES; the
 * rest are counted as dropped).  0 or -ENOMEM. */
static int add_issue(struct playbook_issues *iss, const char *file, unsigned line, unsigned col,
                     const char *msg)
{
    struct playbook_issue *is;

    if (*iss->n >= PLAYBOOK_MAX_ISSUES) {
        (*iss->dropped)++;
        return 0;
    }
    is = realloc(*iss->v, (*iss->n + 1) * sizeof(*is));
    if (!is)
        return -ENOMEM;
    *iss->v = is;
    is = &is[*iss->n];
    is->file = strdup(file);
    is->msg = strdup(msg);
    if (!is->file || !is->msg) {
        free(is->file);
        free(is->msg);
        return -ENOMEM;
    }
    is->line = line;
    is->col = col;
    (*iss->n)++;
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

int playbook_dir_load(const char *dir, playbook_file_parse_fn *parse, void *set,
                      struct playbook_issues *iss)
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
                r = add_issue(iss, dir, 0, 0, "too many playbook files; the rest are ignored");
            free(names[i]);
            continue;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= sizeof(path)) {
            r = add_issue(iss, names[i]->d_name, 0, 0, "path too long");
        } else if ((r = readfile_all(path, PLAYBOOK_MAX_FILE_BYTES, &text, &len)) < 0) {
            r = r == -ENOMEM ? r : add_issue(iss, path, 0, 0, strerror(-r));
        } else if ((r = parse(set, text, len, path, &e)) < 0) {
            r = r == -ENOMEM ? r : add_issue(iss, path, e.line, e.col, e.msg ? e.msg : "invalid");
        } else {
            loaded++;
        }
        free(text);
        free(names[i]);
    }
    free(names);
    return r < 0 ? r : loaded;
}

static int parse_into_set(void *set, const char *text, size_t len, const char *file,
                          struct parse_err *reterr)
{
    return playbook_parse(set, text, len, file, reterr);
}

int playbook_set_load_dir(struct playbook_set *set, const char *dir)
{
    struct playbook_issues iss = {&set->issues, &set->nissues, &set->issues_dropped};

    return playbook_dir_load(dir, parse_into_set, set, &iss);
}

const struct playbook_task_def *playbook_task_def_find(const struct playbook_set *set,
                                                       enum triage_type type,
                                                       const struct playbook_task *t)
{
    const struct playbook *pb;

    if (!set || t->added || (unsigned)t->phase >= INCIDENT_PHASE_COUNT ||
        !(pb = playbook_find(set, type)))
        return NULL;
    for (size_t i = 0; i < pb->ntasks[t->phase]; i++)
        if (strcmp(pb->tasks[t->phase][i].title, t->title) == 0)
            return &pb->tasks[t->phase][i];
    return NULL;
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
    free(t->box);
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

int playbook_tasks_append(struct playbook_checklist *cl, enum incident_phase phase,
                          const struct playbook_task_def *defs, size_t n, int64_t now_us,
                          const char *box)
{
    size_t before = cl->n;
    int r;

    if ((unsigned)phase >= INCIDENT_PHASE_COUNT || n > INT32_MAX)
        return -EINVAL;
    if ((r = reserve(cl, n)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct playbook_task_def *d = &defs[i];
        struct playbook_task *t;

        if ((r = push(cl, phase, d->title, d->description, d->owner, d->required, 0)) < 0)
            goto undo;
        t = &cl->t[cl->n - 1];
        t->function = d->function;
        t->due_us = d->due_us > 0 ? now_us + d->due_us : 0;
        if (box && !(t->box = strdup(box))) {
            r = -ENOMEM;
            goto undo;
        }
    }
    return (int)n;
undo:
    /* Nothing added: drop the tasks of this call again. */
    while (cl->n > before)
        task_free(&cl->t[--cl->n]);
    return r;
}

int playbook_tasks_for(const struct playbook_set *set, enum triage_type type,
                       enum incident_phase phase, int64_t now_us, struct playbook_checklist *cl)
{
    const struct playbook *pb = playbook_find(set, type);

    if (!pb || (unsigned)phase >= INCIDENT_PHASE_COUNT || !pb->ntasks[phase])
        return 0;
    return playbook_tasks_append(cl, phase, pb->tasks[phase], pb->ntasks[phase], now_us, NULL);
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
