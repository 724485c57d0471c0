/*
 * Times from people (avow/times.h): "now", "@SECONDS" and RFC 3339 UTC, each
 * meaning exactly the time it says (@0 is 1970), refused out of range rather
 * than clamped; RFC 3339 text out. And the one RFC 3339 reader behind them,
 * which claims JSON reads through too, with any offset.
 */
#include "testutil.h"

#include <string.h>
#include <time.h>

#include <avow/times.h>

static time_t parse_ok(const char *text)
{
    avow_diag d;
    avow_diag_clear(&d);
    time_t t = 12345;
    avow_err err = avow_time_parse(text, &t, &d);
    if (err != AVOW_OK)
        fail_msg("\"%s\": %s: %s", text, d.field, d.detail);
    return t;
}

static void parse_bad(const char *text)
{
    avow_diag d;
    avow_diag_clear(&d);
    time_t t = 12345;
    avow_err err = avow_time_parse(text, &t, &d);
    if (err != AVOW_ERR_BAD_TIME)
        fail_msg("\"%s\": got %s, want AVOW_ERR_BAD_TIME", text, avow_errname(err));
    assert_string_equal(d.field, "time");
    assert_true(d.detail[0] != '\0');
    assert_int_equal(t, 12345); /* nothing written on failure */
}

static void test_seconds(void **state)
{
    (void)state;
    /* An explicit time means that time: @0 is the epoch, not "now". */
    assert_int_equal(parse_ok("@0"), 0);
    assert_int_equal(parse_ok("@1"), 1);
    assert_int_equal(parse_ok("@0001"), 1);
    assert_int_equal(parse_ok("@1738324800"), 1738324800);
    if (sizeof(time_t) >= 8)
        assert_true((long long)parse_ok("@253402300799") == AVOW_TIME_MAX);
    const char *bad[] = {"@",
                         "@-1",
                         "@+1",
                         "@ 1",
                         "@1 ",
                         "@1e3",
                         "@0x10",
                         "@12a",
                         "@253402300800",
                         "@9223372036854775807",
                         "@9223372036854775808",
                         "@99999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i]);
}

static void test_rfc3339(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2025-01-31T12:00:00Z"), tu_utc(2025, 1, 31, 12, 0, 0));
    assert_int_equal(parse_ok("2025-01-31t12:00:00z"), tu_utc(2025, 1, 31, 12, 0, 0));
    assert_int_equal(parse_ok("2025-01-31 12:00:00Z"), tu_utc(2025, 1, 31, 12, 0, 0));
    assert_int_equal(parse_ok("2025-01-31T12:00:00+00:00"), tu_utc(2025, 1, 31, 12, 0, 0));
    assert_int_equal(parse_ok("2025-01-31T12:00:00-00:00"), tu_utc(2025, 1, 31, 12, 0, 0));
    /* Whole seconds: a fraction is dropped, never rounded up. */
    assert_int_equal(parse_ok("2025-01-31T12:00:00.999999999999Z"), tu_utc(2025, 1, 31, 12, 0, 0));
    assert_int_equal(parse_ok("2024-02-29T23:59:59Z"), tu_utc(2024, 2, 29, 23, 59, 59));
    if (sizeof(time_t) >= 8)
        assert_true((long long)parse_ok("9999-12-31T23:59:59Z") == AVOW_TIME_MAX);
    const char *bad[] = {
        "",
        "Now",
        "yesterday",
        "1969-12-31T23:59:59Z",      /* before 1970: out of range */
        "0000-01-01T00:00:00Z",      /* a GeneralizedTime, but not a time to check at */
        "2025-01-31T12:00:00",       /* no zone */
        "2025-01-31T12:00:00+01:00", /* UTC only */
        "2025-01-31T12:00:00-05:00",
        "2025-01-31T12:00:00+0000",
        "2025-01-31T12:00:00.Z",
        "2025-01-31T12:00Z",
        "2025-1-31T12:00:00Z",
        "2025-01-31T12:00:00Z ",
        " 2025-01-31T12:00:00Z",
        "2025-01-31X12:00:00Z",
        "2025-02-29T00:00:00Z", /* not a leap year */
        "2025-13-01T00:00:00Z",
        "2025-00-01T00:00:00Z",
        "2025-01-32T00:00:00Z",
        "2025-01-31T24:00:00Z",
        "2025-01-31T23:60:00Z",
        "2025-06-30T23:59:60Z", /* no leap seconds */
        "+2025-01-31T12:00:00Z",
        "10000-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i]);
}

static void test_now(void **state)
{
    (void)state;
    time_t before = time(NULL);
    time_t t = parse_ok("now");
    assert_true(t >= before && t <= time(NULL));
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_time_parse(NULL, &t, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_time_parse("now", NULL, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_time_parse("bad", &t, NULL), AVOW_ERR_BAD_TIME);
}

static void test_format(void **state)
{
    (void)state;
    char buf[AVOW_TIME_TEXT_SIZE];
    OK(avow_time_format(0, buf, sizeof(buf)));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    OK(avow_time_format(tu_utc(2025, 1, 31, 12, 0, 5), buf, sizeof(buf)));
    assert_string_equal(buf, "2025-01-31T12:00:05Z");
    OK(avow_time_format(-1, buf, sizeof(buf)));
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    if (sizeof(time_t) >= 8) {
        OK(avow_time_format((time_t)AVOW_TIME_MAX, buf, sizeof(buf)));
        assert_string_equal(buf, "9999-12-31T23:59:59Z");
        assert_int_equal(avow_time_format((time_t)AVOW_TIME_MAX + 1, buf, sizeof(buf)),
                         AVOW_ERR_BAD_TIME);
        assert_string_equal(buf, "");
        assert_int_equal(avow_time_format((time_t)-62167219201LL, buf, sizeof(buf)),
                         AVOW_ERR_BAD_TIME);
    }
    char small[AVOW_TIME_TEXT_SIZE - 1];
    assert_int_equal(avow_time_format(0, small, sizeof(small)), AVOW_ERR_ARG);
    assert_string_equal(small, "");
    assert_int_equal(avow_time_format(0, NULL, 32), AVOW_ERR_ARG);
    /* What one writes the other reads back. */
    const time_t samples[] = {0, 1, 951782400, 1738324800, 4102444799};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        OK(avow_time_format(samples[i], buf, sizeof(buf)));
        assert_int_equal(parse_ok(buf), samples[i]);
    }
}

/* The claims JSON reader goes through the same parser, with offsets allowed. */
static time_t claims_time(const char *value, avow_err want)
{
    char doc[160];
    snprintf(doc, sizeof(doc), "{\"transaction\":{\"timestamp\":\"%s\"}}", value);
    avow_profile p;
    avow_profile_default(&p);
    avow_evidence *ev = NULL;
    OK(avow_evidence_new(&p, &ev));
    avow_diag d;
    avow_diag_clear(&d);
    avow_err err = avow_evidence_add_claims_json(ev, doc, strlen(doc), &d);
    if (err != want)
        fail_msg("\"%s\": got %s, want %s (%s)", value, avow_errname(err), avow_errname(want),
                 d.detail);
    time_t t = err == AVOW_OK ? avow_evidence_get0_element(ev, 0)->claims[0].value.time : 0;
    avow_evidence_free(ev);
    return t;
}

static void test_claims_json_offsets(void **state)
{
    (void)state;
    time_t noon = tu_utc(2025, 1, 31, 12, 0, 0);
    assert_int_equal(claims_time("2025-01-31T12:00:00Z", AVOW_OK), noon);
    assert_int_equal(claims_time("2025-01-31T13:30:00+01:30", AVOW_OK), noon);
    assert_int_equal(claims_time("2025-01-31T07:00:00-05:00", AVOW_OK), noon);
    assert_int_equal(claims_time("2025-01-31 12:00:00.5z", AVOW_OK), noon);
    assert_int_equal(claims_time("2025-02-01T11:59:00+23:59", AVOW_OK), noon);
    assert_int_equal(claims_time("1969-12-31T23:59:59Z", AVOW_OK), -1);
    claims_time("2025-01-31T12:00:00+24:00", AVOW_ERR_BAD_TIME);
    claims_time("2025-01-31T12:00:00+01:60", AVOW_ERR_BAD_TIME);
    claims_time("2025-01-31T12:00:00+0100", AVOW_ERR_BAD_TIME);
    claims_time("2025-01-31T12:00:00+01", AVOW_ERR_BAD_TIME);
    claims_time("2025-01-31T12:00:00", AVOW_ERR_BAD_TIME);
    claims_time("@0", AVOW_ERR_BAD_TIME);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_claims_json_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
