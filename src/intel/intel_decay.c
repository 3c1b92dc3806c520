/*
 * intel_decay.c - an indicator's score falls with age unless it is
 * re-sighted or re-stated by its feed; past its expiry or under the floor
 * it is no longer matched, and `hikeshi intel expire` deletes it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel.h"
#include "store/store.h"
#include "store/store_intel.h"

double intel_score(int confidence, int64_t age_us, int64_t half_life_us)
{
    if (half_life_us <= 0 || age_us <= 0)
        return confidence;
    return confidence * exp2(-(double)age_us / (double)half_life_us);
}

int intel_live(int confidence, int64_t confirmed_us, int64_t valid_until_us, int64_t now_us,
               int64_t half_life_us, int min_score)
{
    if (valid_until_us && valid_until_us <= now_us)
        return 0;
    return intel_score(confidence, now_us - confirmed_us, half_life_us) >= min_score;
}

struct expire_ctx {
    int64_t now_us, half_life_us;
    int min_score;
    int64_t *ids;
    size_t n, cap;
};

static int expire_row(void *ctx, const struct store_intel_row *r)
{
    struct expire_ctx *x = ctx;
    int64_t confirmed = r->last_seen_us > r->last_sighted_us ? r->last_seen_us : r->last_sighted_us;

    if (intel_live(r->confidence, confirmed, r->valid_until_us, x->now_us, x->half_life_us,
                   x->min_score))
        return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? 2 * x->cap : 256;
        int64_t *ni = realloc(x->ids, nc * sizeof(*ni));
        if (!ni)
            return -ENOMEM;
        x->ids = ni;
        x->cap = nc;
    }
    x->ids[x->n++] = r->id;
    return 0;
}

int intel_expire(struct store *st, int64_t now_us, int64_t half_life_us, int min_score,
                 int64_t *ret_removed)
{
    struct expire_ctx x = {now_us, half_life_us, min_score, NULL, 0, 0};
    int r;

    *ret_removed = 0;
    /* collected first: the rows are not deleted under the reading cursor */
    if ((r = store_intel_each(st, NULL, expire_row, &x)) < 0)
        goto out;
    if ((r = store_begin(st)) < 0)
        goto out;
    for (size_t i = 0; i < x.n; i++)
        if ((r = store_intel_delete(st, x.ids[i])) < 0) {
            store_rollback(st);
            goto out;
        }
    if ((r = store_commit(st)) == 0)
        *ret_removed = (int64_t)x.n;
out:
    free(x.ids);
    return r;
}
