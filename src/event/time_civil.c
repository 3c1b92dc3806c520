/*
 * time_civil.c - the proleptic Gregorian calendar as day counts: the two
 * conversions both time.c (timestamps in records) and tz.c (the rules of
 * a zone) stand on, in a file of their own so that neither calls the other
 * for them.
 */
#include "event/time_civil.h"

int64_t time_from_civil(int year, int month, int day, int hour, int min, int sec)
{
    /* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
     * days_from_civil algorithm). */
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;

    return days * 86400 + hour * 3600 + min * 60 + sec;
}

void time_civil_from_days(int64_t z, int *ret_y, int *ret_m, int *ret_d)
{
    int64_t era, doe, yoe, y, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *ret_y = (int)(y + (*ret_m <= 2));
}
