/*
 * procedures.c - reading the procedures file (YAML through util/ydoc; the
 * language is in docs/incident.md "Procedures per box") and showing its
 * boxes as JSON.  See procedures.h.
 */
#include "incident/procedures.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident/csf.h"
#include "incident/incident.h"
#include "util/readfile.h"
#include "util/ydoc.h"

static const char *const level_names[PROCEDURES_LEVELS] = {"Green", "Yellow", "Orange", "Red"};

void procedure_set_init(struct procedure_set *set)
{
    memset(set, 0, sizeof(*set));
}

static void box_clear(struct procedure_box *b)
{
    for (size_t i = 0; i < b->ntasks; i++)
        playbook_task_def_free(&b->tasks[i]);
    free(b->tasks);
    free(b->inform);
    memset(b, 0, sizeof(*b));
}

void procedure_set_done(struct procedure_set *set)
{
    if (!set)
        return;
    for (int c = 0; c < PROCEDURES_CATEGORIES; c++)
        for (int l = 0; l < PROCEDURES_LEVELS; l++)
            box_clear(&set->box[c][l]);
    free(set->file);
    memset(set, 0, sizeof(*set));
}

int procedure_box_name(enum asset_category c, enum triage_alert_level l, char *buf, size_t size)
{
    if (c < ASSET_CAT_A || c > ASSET_CAT_D || (int)l < 0 || (int)l >= PROCEDURES_LEVELS ||
        size < PROCEDURES_BOX_NAME_MAX) {
        if (size)
            buf[0] = '\0';
        return -EINVAL;
    }
    snprintf(buf, size, "%c-%s", 'A' + (c - ASSET_CAT_A), level_names[l]);
    return 0;
}

const struct procedure_box *procedure_box_get(const struct procedure_set *set,
                                              enum asset_category c, enum triage_alert_level l)
{
    const struct procedure_box *b;

    if (!set || c < ASSET_CAT_A || c > ASSET_CAT_D || (int)l < 0 || (int)l >= PROCEDURES_LEVELS)
        return NULL;
    b = &set->box[c - ASSET_CAT_A][l];
    return b->defined ? b : NULL;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* "B-Orange" (the level in any case) to its category and level. */
static int box_from_name(const char *s, size_t len, enum asset_category *ret_c,
                         enum triage_alert_level *ret_l)
{
    if (len < 3 || s[1] != '-' || incident_category_from_name(s, 1, ret_c) < 0 ||
        *ret_c == ASSET_CAT_NONE || incident_level_from_name(s + 2, len - 2, ret_l) < 0)
        return -EINVAL;
    return 0;
}

/* ---- inform: [{party, channel, tlp, disclose}] ---- */

struct inform_build {
    struct procedure_inform *in;
    int has_party, has_disclose, has_channel, has_tlp;
    yaml_node_t *disclose_node, *tlp_node;
};

static int kw_inform_party(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct inform_build *b = arg;
    const char *s;
    size_t len;
    char name[32];

    s = ydoc_scalar(v, &len);
    if (!s || len >= sizeof(name))
        return ydoc_failf(d, v, "expected a party name");
    memcpy(name, s, len);
    name[len] = '\0';
    if (message_party_from_name(name, &b->in->party) < 0)
        return ydoc_failf(d, v,
                          "party is one of csirt, isp, carrier, press, partner, shareholder, "
                          "police, regulator, reporter, responsible");
    b->has_party = 1;
    return 0;
}

static int kw_inform_channel(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct inform_build *b = arg;
    const char *s;
    size_t len;
    char name[16];

    s = ydoc_scalar(v, &len);
    if (!s || len >= sizeof(name))
        return ydoc_failf(d, v, "expected smtp, webhook or export");
    memcpy(name, s, len);
    name[len] = '\0';
    if (message_channel_from_name(name, &b->in->channel) < 0)
        return ydoc_failf(d, v, "expected smtp, webhook or export");
    b->has_channel = 1;
    return 0;
}

static int kw_inform_tlp(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct inform_build *b = arg;
    const char *s;
    size_t len;
    char name[24];

    s = ydoc_scalar(v, &len);
    if (!s || len >= sizeof(name))
        return ydoc_failf(d, v, "expected a TLP marking (TLP:CLEAR, TLP:GREEN, TLP:AMBER, ...)");
    memcpy(name, s, len);
    name[len] = '\0';
    if (message_tlp_from_name(name, &b->in->tlp) < 0)
        return ydoc_failf(d, v,
                          "expected TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT or TLP:RED");
    b->has_tlp = 1;
    b->tlp_node = v;
    return 0;
}

static int kw_inform_disclose(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct inform_build *b = arg;
    size_t n;
    int r;

    if ((r = ydoc_list(d, v, 1, MESSAGE_FIELD_COUNT, &n)) < 0)
        return r;
    if (n == 0)
        return ydoc_failf(d, v, "name at least one field");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *f = ydoc_list_at(d, v, i);
        const char *s = ydoc_scalar(f, NULL);
        enum message_field mf;

        if (!s || message_field_from_name(s, &mf) < 0)
            return ydoc_failf(d, f ? f : v,
                              "unknown field (title, summary, type, category, level, phase, "
                              "method, entities, impact, threats, countermeasures, advice)");
        if (b->in->disclose & MESSAGE_FIELD_BIT(mf))
            return ydoc_failf(d, f, "field %s named twice", message_field_name(mf));
        b->in->disclose |= MESSAGE_FIELD_BIT(mf);
    }
    b->has_disclose = 1;
    b->disclose_node = v;
    return 0;
}

static const struct ydoc_key inform_keys[] = {
    {"channel", kw_inform_channel},
    {"disclose", kw_inform_disclose},
    {"party", kw_inform_party},
    {"tlp", kw_inform_tlp},
};
static const struct ydoc_table inform_table = {
    inform_keys, YDOC_NKEYS(inform_keys),
    "a party to inform is a mapping with party, channel, tlp and disclose",
    "unknown key (party, channel, tlp, disclose)"};

/* One inform entry, checked against the party's disclosure rule: what the
 * rule would refuse at drafting is refused where the file says it. */
static int inform_parse(struct ydoc *d, yaml_node_t *n, struct procedure_inform *in)
{
    struct inform_build b = {.in = in};
    const struct message_rule *rule;
    int r;

    if ((r = ydoc_walk(d, n, &inform_table, &b)) < 0)
        return r;
    if (!b.has_party)
        return ydoc_fail(d, n, "a party to inform needs a party");
    if (!b.has_disclose)
        return ydoc_fail(d, n, "a party to inform needs disclose: the fields that may go");
    rule = message_rule(in->party);
    if (!b.has_channel)
        in->channel = rule->channel;
    if (!b.has_tlp)
        in->tlp = rule->max_tlp;
    else if (in->tlp > rule->max_tlp)
        return ydoc_failf(d, b.tlp_node, "the %s party receives at most %s",
                          message_party_name(in->party), message_tlp_name(rule->max_tlp));
    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++)
        if ((in->disclose & MESSAGE_FIELD_BIT(f)) && !(rule->allowed & MESSAGE_FIELD_BIT(f)))
            return ydoc_failf(d, b.disclose_node,
                              "the disclosure rule of the %s party does not allow the field %s",
                              message_party_name(in->party),
                              message_field_name((enum message_field)f));
    return 0;
}

/* ---- a box: {tasks, inform} ---- */

static int kw_box_tasks(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct procedure_box *b = arg;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_failf(d, v, "expected a list of tasks");
    /* Owned by the box, freed with it on every path. */
    return playbook_task_list_parse(d, v, PROCEDURES_MAX_TASKS,
                                    "a procedure task names its NIST CSF function (function: "
                                    "identify, protect, detect, respond or recover)",
                                    &b->tasks, &b->ntasks);
}

static int kw_box_inform(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct procedure_box *b = arg;
    size_t n;
    int r;

    if (v->type != YAML_SEQUENCE_NODE)
        return ydoc_failf(d, v, "expected a list of parties to inform");
    if ((r = ydoc_list(d, v, 0, PROCEDURES_MAX_INFORM, &n)) < 0)
        return r;
    if (n == 0)
        return 0;
    if (!(b->inform = calloc(n, sizeof(*b->inform))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *in = ydoc_list_at(d, v, i);

        if (!in)
            return ydoc_fail(d, v, "empty entry");
        if ((r = inform_parse(d, in, &b->inform[i])) < 0)
            return r;
        for (size_t j = 0; j < i; j++)
            if (b->inform[j].party == b->inform[i].party)
                return ydoc_fail(d, in, "a box informs each party once");
        b->ninform++;
    }
    return 0;
}

static const struct ydoc_key box_keys[] = {
    {"inform", kw_box_inform},
    {"tasks", kw_box_tasks},
};
static const struct ydoc_table box_table = {box_keys, YDOC_NKEYS(box_keys),
                                            "a box is a mapping with tasks and inform",
                                            "unknown key (tasks, inform)"};

static int box_pair(struct ydoc *d, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct procedure_set *set = arg;
    struct procedure_box *b;
    enum asset_category c;
    enum triage_alert_level l;
    const char *s;
    size_t len;
    int r;

    s = ydoc_scalar(k, &len);
    if (!s || box_from_name(s, len, &c, &l) < 0)
        return ydoc_fail(d, k,
                         "a box is named CATEGORY-LEVEL: A to D and Red, Orange, Yellow or Green, "
                         "e.g. B-Orange");
    b = &set->box[c - ASSET_CAT_A][l];
    if (b->defined)
        return ydoc_fail(d, k, "this box is defined twice");
    b->defined = 1;
    b->category = c;
    b->level = l;
    (void)procedure_box_name(c, l, b->name, sizeof(b->name));
    set->ndefined++;
    if ((r = ydoc_walk(d, v, &box_table, b)) < 0)
        return r;
    if (b->ntasks == 0 && b->ninform == 0)
        return ydoc_fail(d, v, "a box holds at least one task or party to inform");
    return 0;
}

int procedure_set_parse(struct procedure_set *set, const char *text, size_t len, const char *file,
                        struct parse_err *reterr)
{
    struct ydoc d = {.err = reterr};
    yaml_node_t *root;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if (len > PROCEDURES_MAX_FILE_BYTES)
        return ydoc_fail_at(&d, 1, 1, "procedures file too large");
    if ((r = ydoc_load(&d, text, len, reterr)) < 0)
        goto out;
    if (!(root = ydoc_root(&d))) {
        r = ydoc_fail_at(&d, 1, 1, "empty procedures file: name at least one box");
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        r = ydoc_fail(&d, root, "the procedures file maps box names (B-Orange, ...) to procedures");
        goto out;
    }
    if ((r = ydoc_pairs(&d, root, box_pair, set)) < 0)
        goto out;
    if (file && !(set->file = strdup(file)))
        r = -ENOMEM;
out:
    ydoc_done(&d);
    if (r < 0) {
        procedure_set_done(set);
        procedure_set_init(set);
    }
    return r;
}

int procedure_set_load(struct procedure_set *set, const char *path, struct parse_err *reterr)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    if (reterr)
        memset(reterr, 0, sizeof(*reterr));
    if ((r = readfile_all(path, PROCEDURES_MAX_FILE_BYTES, &text, &len)) < 0)
        return r;
    r = procedure_set_parse(set, text, len, path, reterr);
    free(text);
    return r;
}

/* ------------------------------------------------------------------ */
/* Showing                                                             */

/* A duration in the largest unit that divides it ("72h", "30m"). */
static void dur_text(int64_t us, char *buf, size_t size)
{
    int64_t s = us / 1000000;

    if (s % 86400 == 0)
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, size, "%llds", (long long)s);
}

static int json_key_str(struct buf *out, const char *key, const char *s)
{
    int r = buf_printf(out, "\"%s\":", key);

    return r < 0 ? r : buf_json_str(out, s ? s : "", s ? strlen(s) : 0);
}

static int task_json(struct buf *out, const struct playbook_task_def *t)
{
    char due[32];
    int r;

    if ((r = buf_putc(out, '{')) < 0 || (r = json_key_str(out, "title", t->title)) < 0 ||
        (r = buf_putc(out, ',')) < 0 ||
        (r = json_key_str(out, "description", t->description)) < 0 ||
        (r = buf_putc(out, ',')) < 0 || (r = json_key_str(out, "owner", t->owner)) < 0)
        return r;
    if ((r = buf_printf(out, ",\"required\":%s,\"function\":\"%s\"", t->required ? "true" : "false",
                        csf_function_name(t->function))) < 0)
        return r;
    if (t->due_us > 0) {
        dur_text(t->due_us, due, sizeof(due));
        r = buf_printf(out, ",\"due\":\"%s\",\"due_seconds\":%lld}", due,
                       (long long)(t->due_us / 1000000));
    } else {
        r = buf_puts(out, ",\"due\":null,\"due_seconds\":null}");
    }
    return r;
}

static int inform_json(struct buf *out, const struct procedure_inform *in)
{
    int r, first = 1;

    if ((r = buf_printf(out, "{\"party\":\"%s\",\"channel\":\"%s\",\"tlp\":\"%s\",\"disclose\":[",
                        message_party_name(in->party), message_channel_name(in->channel),
                        message_tlp_name(in->tlp))) < 0)
        return r;
    for (int f = 0; f < MESSAGE_FIELD_COUNT; f++) {
        if (!(in->disclose & MESSAGE_FIELD_BIT(f)))
            continue;
        if ((r = buf_printf(out, "%s\"%s\"", first ? "" : ",",
                            message_field_name((enum message_field)f))) < 0)
            return r;
        first = 0;
    }
    return buf_puts(out, "]}");
}

static int box_json(struct buf *out, const struct procedure_box *b)
{
    int r;

    if ((r = buf_printf(out, "{\"box\":\"%s\",\"level\":\"%s\",\"category\":\"%s\",\"tasks\":[",
                        b->name, level_names[b->level], incident_category_name(b->category))) < 0)
        return r;
    for (size_t i = 0; i < b->ntasks; i++)
        if ((i && (r = buf_putc(out, ',')) < 0) || (r = task_json(out, &b->tasks[i])) < 0)
            return r;
    if ((r = buf_puts(out, "],\"inform\":[")) < 0)
        return r;
    for (size_t i = 0; i < b->ninform; i++)
        if ((i && (r = buf_putc(out, ',')) < 0) || (r = inform_json(out, &b->inform[i])) < 0)
            return r;
    return buf_puts(out, "]}");
}

int procedure_set_json(const struct procedure_set *set, enum asset_category c, int l,
                       struct buf *out, size_t *ret_n)
{
    size_t n = 0;
    int r;

    if (ret_n)
        *ret_n = 0;
    for (int ci = 0; set && ci < PROCEDURES_CATEGORIES; ci++) {
        if (c != ASSET_CAT_NONE && (int)(c - ASSET_CAT_A) != ci)
            continue;
        for (int li = PROCEDURES_LEVELS - 1; li >= 0; li--) {
            const struct procedure_box *b = &set->box[ci][li];

            if (!b->defined || (l >= 0 && l != li))
                continue;
            if ((n && (r = buf_putc(out, ',')) < 0) || (r = box_json(out, b)) < 0)
                return r;
            n++;
        }
    }
    if (ret_n)
        *ret_n = n;
    return 0;
}
