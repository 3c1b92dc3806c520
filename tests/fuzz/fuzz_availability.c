/*
 * fuzz_availability.c - contacts' quiet hours and on-call rotas
 * (incident/availability.h): any bytes as either value; a value that
 * checks must give a state at any instant, and the same one twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/availability.h"

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
    char *s;
    const char *why;
    size_t at;
    int64_t t = 0;

    if (n < 8)
        return 0;
    memcpy(&t, d, 8);
    s = malloc(n - 8 + 1);
    if (!s)
        return 0;
    memcpy(s, d + 8, n - 8);
    s[n - 8] = '\0';
    if (avail_check_quiet(s, &why, &at) < 0 && (!why || at > strlen(s)))
        abort();
    if (avail_check_on_call(s, &why, &at) < 0 && (!why || at > strlen(s)))
        abort();
    t %= INT64_C(4102444800000000); /* within +-2100 */
    if (avail_state_at(s, s, NULL, t) != avail_state_at(s, s, NULL, t))
        abort();
    free(s);
    return 0;
}
