/*
 * api_web.c - looking up the web console's compiled-in files.
 */
#include "api/api_web.h"

#include <string.h>

int api_web_path(const char *path)
{
    return strcmp(path, "/") == 0 || strncmp(path, "/ui/", 4) == 0;
}

const struct web_asset *api_web_find(const char *path)
{
    size_t lo = 0, hi = web_assets_count;

    if (strcmp(path, "/") == 0)
        path = "/ui/index.html";
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, web_assets[mid].path);

        if (c == 0)
            return &web_assets[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
