/*
 * time_civil.h - civil dates (proleptic Gregorian, UTC) to and from day
 * and second counts since 1970-01-01.  Pure arithmetic; below both time.h
 * and tz.h, which include it.
 */
#ifndef HIKESHI_EVENT_TIME_CIVIL_H
#define HIKESHI_EVENT_TIME_CIVIL_H

#include <stdint.h>

/* Seconds since the epoch of a civil UTC date-time; no range checks beyond
 * what the callers did. */
int64_t time_from_civil(int year, int month, int day, int hour, int min, int sec);

/* The civil date of a day count from 1970-01-01. */
void time_civil_from_days(int64_t days, int *ret_y, int *ret_m, int *ret_d);

#endif
