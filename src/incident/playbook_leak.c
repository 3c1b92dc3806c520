/*
 * playbook_leak.c - information-leak playbooks (see playbook_leak.h):
 * loading the files of playbooks/leak/ (tasks read by playbook.c's task
 * parser, so that they speak the playbook language) and adding a leak
 * type's tasks to an incident's checklist once.
 */
#include "incident/playbook_leak.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ydoc.h"

static void leak_clear(struct playbook_leak *pb)
{
    free(pb->name);
    free(pb->file);
    playbook_phase_tasks_free(pb->tasks, pb->ntasks);
    memset(pb, 0, sizeof(*pb));
}

void playbook_leak_set_init(struct playbook_leak_set *set)
{
    memset(set, 0, sizeof(*set));
}

void playbook_leak_set_done(struct playbook_leak_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        leak_clear(&set->pb[i]);
    free(set->pb);
    playbook_issues_free(set->issues, set->nissues);
    memset(set, 0, sizeof(*set));
}

/* One file while it is read: which required keys were seen. */
struct leak_build {
    struct playbook_leak *pb;
    int has_leak, has_phases;
};

static int leak_phase(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct playbook_leak *pb = ((struct leak_build *)arg)->pb;

    /* Owned by pb: leak_clear() releases them on every path. */
    return playbook_phase_parse(d, k, v, pb->tasks, pb->ntasks,
                                "a leak playbook's task names its function (identify, "
                                "protect, detect, respond, recover)");
}

static int kw_phases(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    if (v->type != YAML_MAPPING_NODE)
        return ydoc_fail(d, v, "phases is a mapping of phase name to a list of tasks");
    ((struct leak_build *)arg)->has_phases = 1;
    return ydoc_pairs(d, v, leak_phase, arg);
}

/* leak: a list of leak type names, or [common]. */
static int kw_leak(struct ydoc *d, yaml_node_t *k, yaml_node_t *n, void *arg)
{
    struct playbook_leak *pb = ((struct leak_build *)arg)->pb;
    size_t cnt;

    if (n->type != YAML_SEQUENCE_NODE)
        return ydoc_fail(d, n, "leak is a list of leak types, or [common]");
    (void)ydoc_list(d, n, 0, SIZE_MAX, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *v = ydoc_list_at(d, n, i);
        enum incident_leak l;
        const char *s;
        size_t len;

        if (ydoc_scalar_is(v, "common")) {
            pb->common = 1;
            continue;
        }
        s = ydoc_scalar(v, &len);
        if (!s || incident_leak_from_name(s, len, &l) < 0)
            return ydoc_fail(d, v ? v : n,
                             "unknown leak type (loss-theft, misdelivery, insider, p2p, malware, "
                             "unauthorised-access, rumour, common)");
        pb->leaks |= 1u << l;
    }
    if (!pb->leaks && !pb->common)
        return ydoc_fail(d, n, "a leak playbook serves at least one leak type, or common");
    if (pb->leaks && pb->common)
        return ydoc_fail(d, n, "common stands alone: the common stages serve every leak type");
    ((struct leak_build *)arg)->has_leak = 1;
    return 0;
}

static int kw_name(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    return ydoc_strdup(d, v, 1, PLAYBOOK_TITLE_MAX, &((struct leak_build *)arg)->pb->name);
}

static const struct ydoc_key leak_keys[] = {
    {"leak", kw_leak},
    {"name", kw_name},
    {"phases", kw_phases},
};
static const struct ydoc_table leak_table = {
    leak_keys, YDOC_NKEYS(leak_keys), "a leak playbook is a mapping with name, leak and phases",
    "unknown key (name, leak, phases)"};

static int parse_doc(struct ydoc *d, struct playbook_leak *pb)
{
    struct leak_build b = {pb, 0, 0};
    yaml_node_t *root = ydoc_root(d);
    int r;

    if (!root)
        return ydoc_fail_at(d, 1, 1, "empty playbook");
    if ((r = ydoc_walk(d, root, &leak_table, &b)) < 0)
        return r;
    if (!pb->name)
        return ydoc_fail(d, root, "a leak playbook needs a name");
    if (!b.has_leak)
        return ydoc_fail(d, root, "a leak playbook needs leak (its leak types, or [common])");
    if (!b.has_phases)
        return ydoc_fail(d, root, "a leak playbook needs phases");
    return 0;
}

int playbook_leak_parse(struct playbook_leak_set *set, const char *text, size_t len,
                        const char *file, struct parse_err *reterr)
{
    struct ydoc d = {.err = reterr};
    struct playbook_leak pb;
    struct playbook_leak *p;
    int r;

    memset(&pb, 0, sizeof(pb));
    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (len > PLAYBOOK_MAX_FILE_BYTES)
        return ydoc_fail_at(&d, 1, 1, "playbook file too large");
    if ((r = ydoc_load(&d, text, len, reterr)) < 0 || (r = parse_doc(&d, &pb)) < 0)
        goto out;
    for (size_t i = 0; i < set->n; i++) {
        if ((set->pb[i].leaks & pb.leaks) || (set->pb[i].common && pb.common)) {
            r = ydoc_fail(&d, ydoc_root(&d), "a leak type is already served by another playbook");
            goto out;
        }
    }
    if (!(pb.file = strdup(file ? file : "-"))) {
        r = -ENOMEM;
        goto out;
    }
    if (!(p = realloc(set->pb, (set->n + 1) * sizeof(*p)))) {
        r = -ENOMEM;
        goto out;
    }
    set->pb = p;
    p[set->n++] = pb;
    memset(&pb, 0, sizeof(pb));
out:
    leak_clear(&pb);
    ydoc_done(&d);
    return r;
}

static int parse_into_set(void *set, const char *text, size_t len, const char *file,
                          struct parse_err *reterr)
{
    return playbook_leak_parse(set, text, len, file, reterr);
}

int playbook_leak_set_load_dir(struct playbook_leak_set *set, const char *dir)
{
    struct playbook_issues iss = {&set->issues, &set->nissues, &set->issues_dropped};

    return playbook_dir_load(dir, parse_into_set, set, &iss);
}

const struct playbook_leak *playbook_leak_find(const struct playbook_leak_set *set,
                                               enum incident_leak leak)
{
    if (!set || leak == INCIDENT_LEAK_NONE || (unsigned)leak >= INCIDENT_LEAK_COUNT)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        if (set->pb[i].leaks & (1u << leak))
            return &set->pb[i];
    return NULL;
}

const struct playbook_leak *playbook_leak_common(const struct playbook_leak_set *set)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (set->pb[i].common)
            return &set->pb[i];
    return NULL;
}

void playbook_leak_box(enum incident_leak leak, char *box, size_t size)
{
    snprintf(box, size, "%s:%s", PLAYBOOK_LEAK_BOX_COMMON, incident_leak_name(leak));
}

static int has_box(const struct playbook_checklist *cl, const char *box)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->t[i].box && strcmp(cl->t[i].box, box) == 0)
            return 1;
    return 0;
}

static size_t count(const struct playbook_leak *pb)
{
    size_t n = 0;

    for (int p = 0; pb && p < INCIDENT_PHASE_COUNT; p++)
        n += pb->ntasks[p];
    return n;
}

static int append(const struct playbook_leak *pb, int64_t now_us, const char *box,
                  struct playbook_checklist *cl)
{
    int r, n = 0;

    for (int p = 0; p < INCIDENT_PHASE_COUNT; p++) {
        if (!pb->ntasks[p])
            continue;
        r = playbook_tasks_append(cl, (enum incident_phase)p, pb->tasks[p], pb->ntasks[p], now_us,
                                  box);
        if (r < 0)
            return r;
        n += r;
    }
    return n;
}

int playbook_leak_tasks(const struct playbook_leak_set *set, enum incident_leak leak,
                        int64_t now_us, struct playbook_checklist *cl)
{
    char box[PLAYBOOK_LEAK_BOX_MAX];
    const struct playbook_leak *own, *common;
    size_t total = 0;
    int r, n = 0;

    if (leak == INCIDENT_LEAK_NONE || (unsigned)leak >= INCIDENT_LEAK_COUNT)
        return -EINVAL;
    playbook_leak_box(leak, box, sizeof(box));
    own = playbook_leak_find(set, leak);
    common = playbook_leak_common(set);
    if (own && has_box(cl, box))
        own = NULL;
    if (common && has_box(cl, PLAYBOOK_LEAK_BOX_COMMON))
        common = NULL;
    total = count(own) + count(common);
    /* Checked up front so that a full checklist gets none rather than
     * the type's tasks without the common ones. */
    if (total > PLAYBOOK_CHECKLIST_MAX || cl->n > PLAYBOOK_CHECKLIST_MAX - total)
        return -E2BIG;
    if (own) {
        if ((r = append(own, now_us, box, cl)) < 0)
            return r;
        n += r;
    }
    if (common) {
        if ((r = append(common, now_us, PLAYBOOK_LEAK_BOX_COMMON, cl)) < 0)
            return r;
        n += r;
    }
    return n;
}
