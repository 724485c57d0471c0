/* Times from people and for people (avow/times.h), over the RFC 3339 reader of core/der.c. */
#include <string.h>

#include <avow/times.h>

#include "core/der.h"
#include "core/internal.h"

static avow_err out_of_range(const char *text, avow_diag *diag)
{
    return avow__fail(diag, AVOW_ERR_BAD_TIME, "time",
                      "\"%s\" is out of range (@0 .. @%lld, 1970-01-01T00:00:00Z .. "
                      "9999-12-31T23:59:59Z)",
                      text, (long long)AVOW_TIME_MAX);
}

/* "@SECONDS": digits only, accumulated with a bound so nothing overflows or clamps. */
static avow_err parse_seconds(const char *text, time_t *out, avow_diag *diag)
{
    const char *p = text + 1;
    if (*p == '\0')
        return avow__fail(diag, AVOW_ERR_BAD_TIME, "time", "\"%s\" is not @SECONDS", text);
    long long v = 0;
    int big = 0;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return avow__fail(diag, AVOW_ERR_BAD_TIME, "time", "\"%s\" is not @SECONDS", text);
        if (!big) {
            v = v * 10 + (*p - '0');
            big = v > AVOW_TIME_MAX;
        }
    }
    if (big || (long long)(time_t)v != v)
        return out_of_range(text, diag);
    *out = (time_t)v;
    return AVOW_OK;
}

avow_err avow_time_parse(const char *text, time_t *out, avow_diag *diag)
{
    if (text == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "time", "no text or no output");
    if (strcmp(text, "now") == 0) {
        time_t now = time(NULL);
        if (now == (time_t)-1)
            return avow__fail(diag, AVOW_ERR_BAD_TIME, "time", "the clock cannot be read");
        *out = now;
        return AVOW_OK;
    }
    if (text[0] == '@')
        return parse_seconds(text, out, diag);
    time_t t;
    if (avow__rfc3339_parse(text, 0, &t) != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_BAD_TIME, "time",
                          "\"%s\" is not YYYY-MM-DDTHH:MM:SSZ, @SECONDS or now", text);
    /* Four digits of year cannot pass AVOW_TIME_MAX; only years before 1970 are left. */
    if (t < 0)
        return out_of_range(text, diag);
    *out = t;
    return AVOW_OK;
}

avow_err avow_time_format(time_t t, char *buf, size_t cap)
{
    if (buf == NULL || cap < AVOW_TIME_TEXT_SIZE) {
        if (buf != NULL && cap > 0)
            buf[0] = '\0';
        return AVOW_ERR_ARG;
    }
    char text[AVOW_TIME_TEXT_SIZE];
    if (avow__rfc3339_format(t, text) != AVOW_OK) {
        buf[0] = '\0';
        return AVOW_ERR_BAD_TIME;
    }
    memcpy(buf, text, sizeof(text));
    return AVOW_OK;
}
