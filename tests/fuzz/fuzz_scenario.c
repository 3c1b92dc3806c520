/*
 * fuzz_scenario.c - libFuzzer target for the tabletop scenario parser
 * (src/exercise/scenario.c).
 *
 * The bytes are a scenario file.  When it loads, every record of the send
 * schedule is expanded at a time near the end of representable years and
 * must stay within SCENARIO_TEMPLATE_MAX bytes, and the expectations must
 * hold what the parser promises (a deadline on every decision but an
 * open-ended withhold, a category on every declaration).  Nothing may
 * crash, leak or read past the input; a refusal must carry a message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exercise/scenario.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario *s = NULL;
    struct scenario_send *v = NULL;
    struct parse_err e;
    struct buf b;
    size_t n = 0;
    int r;

    if (size > SCENARIO_MAX_FILE_BYTES)
        return 0;
    r = scenario_parse((const char *)data, size, "fuzz", &s, &e);
    if (r == -EINVAL) {
        if (!e.msg)
            abort();
        return 0;
    }
    if (r < 0)
        return 0;
    /* A withhold's embargo may be open-ended (within_us 0: until the end). */
    for (size_t i = 0; i < s->ndecisions; i++)
        if (s->decisions[i].within_us < 0 ||
            (s->decisions[i].within_us == 0 && s->decisions[i].kind != SCENARIO_DEC_WITHHOLD) ||
            (s->decisions[i].kind == SCENARIO_DEC_DECLARE) != (s->decisions[i].category != NULL))
            abort();
    buf_init(&b, SCENARIO_TEMPLATE_MAX * 4);
    /* The schedule can hold 200000 records: expand at most a few thousand. */
    if (s->total_records <= 4096 && scenario_sched(s, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct scenario_clock clk = {v[i].at_us + INT64_C(253402300799000000), v[i].n, "f"};
            const char *why;

            buf_reset(&b);
            r = scenario_expand(s, s->records[v[i].rec].text, &clk, &b, &why);
            if (r == 0 && b.len > SCENARIO_TEMPLATE_MAX)
                abort();
            if (r == -EINVAL && !why)
                abort();
        }
    }
    free(v);
    buf_done(&b);
    scenario_free(s);
    return 0;
}
