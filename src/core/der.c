#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "core/der.h"

avow_err avow__der_header(const uint8_t *p, size_t len, uint8_t *tag, size_t *hdr, size_t *body)
{
    if (len < 2)
        return AVOW_ERR_TRUNCATED;
    if ((p[0] & 0x1f) == 0x1f)
        return AVOW_ERR_MALFORMED; /* high tag numbers appear nowhere in these formats */
    if (p[0] == 0x00)
        return AVOW_ERR_NOT_DER; /* end-of-contents belongs to BER's indefinite form */
    *tag = p[0];
    size_t n;
    size_t h;
    if (p[1] < 0x80) {
        n = p[1];
        h = 2;
    } else if (p[1] == 0x80) {
        return AVOW_ERR_NOT_DER; /* indefinite length is BER only */
    } else {
        size_t k = p[1] & 0x7f;
        if (k > sizeof(size_t) || k > 4)
            return AVOW_ERR_TOO_LARGE;
        if (len < 2 + k)
            return AVOW_ERR_TRUNCATED;
        if (p[2] == 0)
            return AVOW_ERR_NOT_DER; /* leading zero octet in the length */
        n = 0;
        for (size_t i = 0; i < k; i++)
            n = (n << 8) | p[2 + i];
        if (n < 0x80)
            return AVOW_ERR_NOT_DER; /* long form where the short one fits */
        h = 2 + k;
    }
    if (n > len - h)
        return AVOW_ERR_TRUNCATED;
    *hdr = h;
    *body = n;
    return AVOW_OK;
}

static avow_err check_one(const uint8_t *p, size_t len, size_t *used, unsigned depth)
{
    uint8_t tag;
    size_t h, n;
    avow_err rc = avow__der_header(p, len, &tag, &h, &n);
    if (rc != AVOW_OK)
        return rc;
    const uint8_t *c = p + h;
    if (tag & 0x20) {
        /* BER may split a universal string into a constructed one; DER never does. */
        if ((tag & 0xc0) == 0 && tag != 0x30 && tag != 0x31)
            return AVOW_ERR_NOT_DER;
        if (depth == 0)
            return AVOW_ERR_TOO_LARGE;
        for (size_t off = 0; off < n;) {
            size_t u;
            rc = check_one(c + off, n - off, &u, depth - 1);
            if (rc != AVOW_OK)
                return rc;
            off += u;
        }
    } else if (tag == 0x10 || tag == 0x11) {
        /* SEQUENCE and SET are constructed in every encoding (X.690 8.9.1, 8.11.1). */
        return AVOW_ERR_MALFORMED;
    } else if (tag == 0x01) { /* BOOLEAN */
        if (n != 1 || (c[0] != 0x00 && c[0] != 0xff))
            return AVOW_ERR_NOT_DER;
    } else if (tag == 0x05) { /* NULL */
        if (n != 0)
            return AVOW_ERR_NOT_DER;
    } else if (tag == 0x06) { /* OBJECT IDENTIFIER: minimal sub-identifiers */
        if (!avow__oid_content_valid(c, n))
            return AVOW_ERR_OID;
    } else if (tag == 0x03) { /* BIT STRING: unused bits counted right and zero */
        if (n == 0 || c[0] > 7 || (n == 1 && c[0] != 0) ||
            (n > 1 && (c[n - 1] & ((1u << c[0]) - 1)) != 0))
            return AVOW_ERR_NOT_DER;
    } else if (tag == 0x02 || tag == 0x0a) { /* INTEGER, ENUMERATED */
        if (n == 0)
            return AVOW_ERR_MALFORMED;
        if (n > 1 && ((c[0] == 0x00 && !(c[1] & 0x80)) || (c[0] == 0xff && (c[1] & 0x80))))
            return AVOW_ERR_NOT_DER;
    }
    *used = h + n;
    return AVOW_OK;
}

avow_err avow__der_check(const uint8_t *p, size_t len, unsigned max_depth)
{
    size_t used;
    avow_err rc = check_one(p, len, &used, max_depth);
    if (rc != AVOW_OK)
        return rc;
    return used == len ? AVOW_OK : AVOW_ERR_TRAILING;
}

int avow__oid_content_valid(const uint8_t *p, size_t len)
{
    if (len == 0 || (p[len - 1] & 0x80))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] == 0x80 && (i == 0 || !(p[i - 1] & 0x80)))
            return 0; /* a sub-identifier may not start with a 0x80 padding octet */
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const uint8_t *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(unsigned y, unsigned m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dm[m - 1] + (m == 2 && leap);
}

/* Seconds since the epoch of a checked calendar date and time of day (no leap seconds). */
static avow_err civil_seconds(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                              unsigned s, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || (int)d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59)
        return AVOW_ERR_BAD_TIME;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return AVOW_OK;
}

static avow_err to_epoch(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                         time_t *out)
{
    int64_t t;
    if (civil_seconds(y, mo, d, h, mi, s, &t) != AVOW_OK || (int64_t)(time_t)t != t)
        return AVOW_ERR_BAD_TIME;
    *out = (time_t)t;
    return AVOW_OK;
}

avow_err avow__gentime_parse(const uint8_t *s, size_t len, time_t *out)
{
    unsigned y, mo, d, h, mi, sec;
    if (len < 15 || s[len - 1] != 'Z')
        return AVOW_ERR_BAD_TIME;
    if (!digits(s, 4, &y) || !digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d) ||
        !digits(s + 8, 2, &h) || !digits(s + 10, 2, &mi) || !digits(s + 12, 2, &sec))
        return AVOW_ERR_BAD_TIME;
    size_t rest = len - 15;
    if (rest > 0) {
        /* DER (X.690 11.7): a fraction uses '.', has digits, no trailing zero. */
        unsigned ignored;
        if (s[14] != '.' || rest < 2 || !digits(s + 15, rest - 1, &ignored) || s[len - 2] == '0')
            return AVOW_ERR_BAD_TIME;
    }
    return to_epoch(y, mo, d, h, mi, sec, out);
}

avow_err avow__gentime_format(time_t t, char out[16])
{
    int64_t days = (int64_t)t / 86400, secs = (int64_t)t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return AVOW_ERR_BAD_TIME;
    /* The modulos are no-ops on these ranges; they tell the compiler the width fits. */
    snprintf(out, 16, "%04u%02u%02u%02u%02u%02uZ", (unsigned)y % 10000u, m % 100u, d % 100u,
             (unsigned)(secs / 3600) % 100u, (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
    return AVOW_OK;
}

int avow__gentime_fits(time_t t)
{
    char g[16];
    return avow__gentime_format(t, g) == AVOW_OK;
}

avow_err avow__rfc3339_format(time_t t, char out[21])
{
    char g[16];
    avow_err rc = avow__gentime_format(t, g);
    if (rc != AVOW_OK)
        return rc;
    snprintf(out, 21, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", g, g + 4, g + 6, g + 8, g + 10, g + 12);
    return AVOW_OK;
}

/* "hh:mm" of an offset, at most 23:59. */
static int offset_minutes(const uint8_t *s, int *out)
{
    unsigned h, m;
    if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &m) || h > 23 || m > 59)
        return 0;
    *out = (int)(h * 60 + m);
    return 1;
}

avow_err avow__rfc3339_parse(const char *str, unsigned flags, time_t *out)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t len = strlen(str);
    unsigned y, mo, d, h, mi, sec;
    /* RFC 3339 5.6 lets a space stand for the 'T' "for the sake of readability". */
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return AVOW_ERR_BAD_TIME;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return AVOW_ERR_BAD_TIME;
    size_t i = 19;
    if (s[i] == '.') {
        size_t j = i + 1;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j == i + 1)
            return AVOW_ERR_BAD_TIME;
        i = j; /* whole seconds only: the fraction is dropped */
    }
    int offset = 0; /* minutes east of UTC */
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        offset = 0;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && offset_minutes(s + i + 1, &offset)) {
        if (s[i] == '-')
            offset = -offset;
        /* -00:00 is UTC as well (RFC 3339 4.3: the local offset is unknown). */
        if (offset != 0 && !(flags & AVOW__RFC3339_ANY_OFFSET))
            return AVOW_ERR_BAD_TIME;
    } else {
        return AVOW_ERR_BAD_TIME;
    }
    int64_t t;
    if (civil_seconds(y, mo, d, h, mi, sec, &t) != AVOW_OK)
        return AVOW_ERR_BAD_TIME;
    t -= (int64_t)offset * 60;
    if ((int64_t)(time_t)t != t)
        return AVOW_ERR_BAD_TIME;
    *out = (time_t)t;
    return AVOW_OK;
}

/* OpenSSL's reason for a failed d2i, mapped to the closest avow code. */
avow_err avow__d2i_reason(void)
{
    unsigned long e = ERR_peek_error();
    if (ERR_GET_LIB(e) != ERR_LIB_ASN1)
        return AVOW_ERR_MALFORMED;
    switch (ERR_GET_REASON(e)) {
    case ASN1_R_TOO_LONG:
    case ASN1_R_HEADER_TOO_LONG:
    case ASN1_R_NOT_ENOUGH_DATA:
        return AVOW_ERR_TRUNCATED;
    case ASN1_R_WRONG_TAG:
    case ASN1_R_MSTRING_WRONG_TAG:
    case ASN1_R_TYPE_NOT_CONSTRUCTED:
    case ASN1_R_TYPE_NOT_PRIMITIVE:
        return AVOW_ERR_WRONG_TAG;
    case ASN1_R_NESTED_TOO_DEEP:
        return AVOW_ERR_TOO_LARGE;
    case ASN1_R_SEQUENCE_LENGTH_MISMATCH: /* content left after the last field */
        return AVOW_ERR_TRAILING;
    case ASN1_R_INVALID_OBJECT_ENCODING:
        return AVOW_ERR_OID;
    case ASN1_R_ILLEGAL_PADDING:
    case ASN1_R_INVALID_BIT_STRING_BITS_LEFT:
        return AVOW_ERR_NOT_DER;
/*
 * OpenSSL 3.5 refuses a time without seconds while decoding; 3.0 decodes it
 * and der_cert.c refuses it as not DER. Same input, same code.
 */
#ifdef ASN1_R_UTCTIME_IS_TOO_SHORT
    case ASN1_R_UTCTIME_IS_TOO_SHORT:
        return AVOW_ERR_NOT_DER;
#endif
#ifdef ASN1_R_GENERALIZEDTIME_IS_TOO_SHORT
    case ASN1_R_GENERALIZEDTIME_IS_TOO_SHORT:
        return AVOW_ERR_NOT_DER;
#endif
    default:
        return AVOW_ERR_MALFORMED;
    }
}
