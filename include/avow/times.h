/*
 * avow/times.h - times as people write them: read ("now", "@SECONDS", RFC
 * 3339 UTC) and written (RFC 3339 UTC). What `avow ... -at TIME` and
 * `avow evidence create -timestamp TIME` take, for any caller that takes a
 * time from a person.
 *
 * A time given here means that time: "@0" is 1970-01-01T00:00:00Z, never
 * "the current time" (docs/design.md, "Times"), and a time out of range is
 * refused, never clamped.
 */
#ifndef AVOW_TIMES_H
#define AVOW_TIMES_H

#include <stddef.h>
#include <time.h>

#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 9999-12-31T23:59:59Z, the last second a GeneralizedTime (four-digit year) can say. */
#define AVOW_TIME_MAX 253402300799LL

/* Bytes of "YYYY-MM-DDTHH:MM:SSZ" with its NUL. */
#define AVOW_TIME_TEXT_SIZE 21u

/*
 * Reads a time given by a person:
 *   "now"        the current time;
 *   "@SECONDS"   decimal seconds since 1970-01-01T00:00:00Z, digits only
 *                ("@0" is that second itself);
 *   RFC 3339 UTC "2025-01-31T12:00:00Z": 't' and 'z', a space for the 'T',
 *                the offsets +00:00 and -00:00 and a fraction of a second
 *                (dropped: times are whole seconds) are accepted; any other
 *                offset is not.
 * The time must lie in 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z
 * (0 .. AVOW_TIME_MAX) and fit time_t. Errors: AVOW_ERR_ARG (text or out
 * NULL), AVOW_ERR_BAD_TIME (diag field "time") for anything else: a sign,
 * spaces, digits past the range, a date that does not exist. *out is
 * written only on success.
 */
AVOW_EXPORT avow_err avow_time_parse(const char *text, time_t *out, avow_diag *diag);

/*
 * t as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" into buf, NUL-terminated.
 * Errors: AVOW_ERR_ARG (buf NULL or cap under AVOW_TIME_TEXT_SIZE),
 * AVOW_ERR_BAD_TIME (t outside the years 0000 to 9999); buf is then ""
 * when it has room.
 */
AVOW_EXPORT avow_err avow_time_format(time_t t, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
