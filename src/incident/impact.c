/*
 * impact.c - names, the recommended level and the JSON and text forms of
 * the impact and threat analysis (impact.h, where the rule is written).
 */
#include "incident/impact.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const category_names[IMPACT_CATEGORY_COUNT] = {"none", "society",
                                                                  "third_parties", "own"};
static const char *const category_text[IMPACT_CATEGORY_COUNT] = {
    "not yet known", "society at large", "specific third parties", "own organisation"};
static const char *const scale_names[IMPACT_SCALE_COUNT] = {"none", "limited", "significant",
                                                            "severe"};
static const char *const state_names[IMPACT_STATE_COUNT] = {"none", "possible", "likely",
                                                            "occurring"};
static const char *const layer_names[IMPACT_LAYER_COUNT] = {"technical_general",
                                                            "technical_specific", "business"};
static const char *const layer_text[IMPACT_LAYER_COUNT] = {
    "Technical, general", "Technical, specific to the system", "Business"};
static const char *const function_names[IMPACT_FUNCTION_COUNT] = {"deter", "prevent", "defend",
                                                                  "detect", "recover"};

#define NAME(tab, i, n) ((unsigned)(i) < (n) ? (tab)[i] : "?")

const char *impact_category_name(enum impact_category c)
{
    return NAME(category_names, c, IMPACT_CATEGORY_COUNT);
}

const char *impact_scale_name(enum impact_scale s)
{
    return NAME(scale_names, s, IMPACT_SCALE_COUNT);
}

const char *impact_state_name(enum impact_state s)
{
    return NAME(state_names, s, IMPACT_STATE_COUNT);
}

const char *impact_layer_name(enum impact_layer l)
{
    return NAME(layer_names, l, IMPACT_LAYER_COUNT);
}

const char *impact_function_name(enum impact_function f)
{
    return NAME(function_names, f, IMPACT_FUNCTION_COUNT);
}

static int lookup(const char *const *tab, int n, const char *s, int *ret)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, tab[i]) == 0) {
            *ret = i;
            return 0;
        }
    return -EINVAL;
}

int impact_category_from_name(const char *s, enum impact_category *ret)
{
    int i = 0, r = lookup(category_names, IMPACT_CATEGORY_COUNT, s, &i);

    *ret = (enum impact_category)i;
    return r;
}

int impact_scale_from_name(const char *s, enum impact_scale *ret)
{
    int i = 0, r = lookup(scale_names, IMPACT_SCALE_COUNT, s, &i);

    *ret = (enum impact_scale)i;
    return r;
}

int impact_state_from_name(const char *s, enum impact_state *ret)
{
    int i = 0, r = lookup(state_names, IMPACT_STATE_COUNT, s, &i);

    *ret = (enum impact_state)i;
    return r;
}

int impact_function_from_name(const char *s, enum impact_function *ret)
{
    int i = 0, r = lookup(function_names, IMPACT_FUNCTION_COUNT, s, &i);

    *ret = (enum impact_function)i;
    return r;
}

enum triage_alert_level impact_recommend(const struct impact *im, char *why, size_t why_size)
{
    int wide = im->category == IMPACT_CATEGORY_SOCIETY || im->scale >= IMPACT_SCALE_SIGNIFICANT;
    enum triage_alert_level l;
    const char *rule;

    switch (im->state) {
    case IMPACT_STATE_OCCURRING:
        l = wide ? TRIAGE_RED : TRIAGE_ORANGE;
        rule = wide ? "damage is occurring to society at large or at a significant scale"
                    : "damage is occurring, limited in scale";
        break;
    case IMPACT_STATE_LIKELY:
        wide = wide || im->category == IMPACT_CATEGORY_THIRD;
        l = wide ? TRIAGE_ORANGE : TRIAGE_YELLOW;
        rule = wide ? "damage is likely, beyond the organisation or at a significant scale"
                    : "damage is likely, inside the organisation and limited";
        break;
    case IMPACT_STATE_POSSIBLE:
        l = TRIAGE_YELLOW;
        rule = "damage is possible: watch";
        break;
    default:
        l = TRIAGE_GREEN;
        rule = "no damage expected";
        break;
    }
    if (why && why_size)
        snprintf(why, why_size, "%s (%s, scale %s, state %s)", rule,
                 impact_category_name(im->category), impact_scale_name(im->scale),
                 impact_state_name(im->state));
    return l;
}

static int json_opt(struct buf *b, const char *key, const char *v)
{
    int r = buf_printf(b, ",\"%s\":", key);

    if (r == 0)
        r = v && v[0] ? buf_json_str(b, v, strlen(v)) : buf_puts(b, "null");
    return r;
}

int impact_json(const struct impact *im, struct buf *out)
{
    char why[300];
    enum triage_alert_level l = impact_recommend(im, why, sizeof(why));
    int r = buf_printf(out, "{\"category\":\"%s\",\"scale\":\"%s\",\"state\":\"%s\"",
                       impact_category_name(im->category), impact_scale_name(im->scale),
                       impact_state_name(im->state));

    if (r == 0)
        r = json_opt(out, "whom", im->whom);
    if (r == 0)
        r = json_opt(out, "description", im->description);
    if (r == 0)
        r = buf_puts(out, ",\"threats\":{");
    for (int i = 0; r == 0 && i < IMPACT_LAYER_COUNT; i++) {
        r = buf_printf(out, "%s\"%s\":{\"direct\":", i ? "," : "", layer_names[i]);
        if (r == 0)
            r = im->direct[i] && im->direct[i][0]
                    ? buf_json_str(out, im->direct[i], strlen(im->direct[i]))
                    : buf_puts(out, "null");
        if (r == 0)
            r = json_opt(out, "secondary", im->secondary[i]);
        if (r == 0)
            r = buf_putc(out, '}');
    }
    if (r == 0)
        r = buf_printf(out, "},\"recommended_level\":\"%s\",\"rule\":", triage_level_name(l));
    if (r == 0)
        r = buf_json_str(out, why, strlen(why));
    if (r == 0)
        r = buf_putc(out, '}');
    return r;
}

int impact_text(const struct impact *im, struct buf *out)
{
    char why[300];
    enum triage_alert_level l = impact_recommend(im, why, sizeof(why));
    int r =
        buf_printf(out, "Impact on the %s, scale %s, damage %s.",
                   category_text[(unsigned)im->category < IMPACT_CATEGORY_COUNT ? im->category : 0],
                   impact_scale_name(im->scale), impact_state_name(im->state));

    if (r == 0 && im->whom && im->whom[0])
        r = buf_printf(out, " Affected: %s.", im->whom);
    if (r == 0 && im->description && im->description[0])
        r = buf_printf(out, " %s", im->description);
    if (r == 0)
        r = buf_printf(out, "\nRecommended level: %s (%s).", triage_level_name(l), why);
    return r;
}

int impact_threats_text(const struct impact *im, struct buf *out)
{
    int r = 0, any = 0;

    for (int i = 0; r == 0 && i < IMPACT_LAYER_COUNT; i++) {
        if (im->direct[i] && im->direct[i][0]) {
            r = buf_printf(out, "%s%s, direct: %s", any ? "\n" : "", layer_text[i], im->direct[i]);
            any = 1;
        }
        if (r == 0 && im->secondary[i] && im->secondary[i][0]) {
            r = buf_printf(out, "%s%s, secondary (from the countermeasure): %s", any ? "\n" : "",
                           layer_text[i], im->secondary[i]);
            any = 1;
        }
    }
    if (r == 0 && !any)
        r = buf_puts(out, "No threat analysed yet.");
    return r;
}
