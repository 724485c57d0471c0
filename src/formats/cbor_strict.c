/*
 * The strict CBOR check (cbor_int.h). It walks the heads itself, without
 * allocating, before libcbor decodes: libcbor accepts indefinite lengths,
 * non-shortest heads and repeated keys, and frees nested items recursively,
 * so unbounded nesting must never reach it.
 */
#include <string.h>

#include "core/internal.h"
#include "formats/cbor_int.h"

#define MAX_MAP_KEYS 64u /* keys compared pairwise per map */

typedef struct walker {
    const uint8_t *p;
    size_t len;
    size_t pos;
    unsigned max_depth;
    const char *field;
    avow_diag *diag;
} walker;

/* One head: major type, its argument, whether the additional information is 31. */
static avow_err head(walker *w, int *major, uint64_t *arg)
{
    size_t at = w->pos;
    if (w->pos >= w->len)
        return avow__fail(w->diag, AVOW_ERR_TRUNCATED, w->field, "input ends at offset %zu", at);
    uint8_t ib = w->p[w->pos++];
    *major = ib >> 5;
    unsigned ai = ib & 0x1f;
    if (ai < 24) {
        *arg = ai;
        return AVOW_OK;
    }
    if (ai == 31)
        return avow__fail(w->diag, AVOW_ERR_CBOR, w->field,
                          "indefinite length or break at offset %zu: definite lengths only", at);
    if (ai > 27)
        return avow__fail(w->diag, AVOW_ERR_CBOR, w->field,
                          "reserved additional information %u at offset %zu", ai, at);
    size_t n = (size_t)1 << (ai - 24);
    if (w->len - w->pos < n)
        return avow__fail(w->diag, AVOW_ERR_TRUNCATED, w->field,
                          "head at offset %zu runs past the input", at);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | w->p[w->pos++];
    *arg = v;
    if (*major == 7) {
        /* floats (ai 25..27) have no shorter form to check here; simple values do */
        if (ai == 24 && v < 32)
            return avow__fail(w->diag, AVOW_ERR_CBOR, w->field,
                              "simple value %u in two bytes at offset %zu", (unsigned)v, at);
        return AVOW_OK;
    }
    static const uint64_t floor_of[] = {24, 0x100, 0x10000, 0x100000000ull};
    if (v < floor_of[ai - 24])
        return avow__fail(w->diag, AVOW_ERR_CBOR, w->field,
                          "head at offset %zu is longer than its value needs (preferred "
                          "serialisation)",
                          at);
    return AVOW_OK;
}

/* RFC 3629 UTF-8: shortest forms, no surrogates, at most U+10FFFF. */
static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

static avow_err item(walker *w, unsigned depth);

static avow_err map_items(walker *w, uint64_t n, unsigned depth, size_t at)
{
    size_t ks[MAX_MAP_KEYS], ke[MAX_MAP_KEYS];
    if (n > MAX_MAP_KEYS)
        return avow__fail(w->diag, AVOW_ERR_TOO_LARGE, w->field,
                          "map at offset %zu has %llu entries, limit %u", at, (unsigned long long)n,
                          MAX_MAP_KEYS);
    for (uint64_t i = 0; i < n; i++) {
        ks[i] = w->pos;
        avow_err rc = item(w, depth + 1);
        if (rc != AVOW_OK)
            return rc;
        ke[i] = w->pos;
        for (uint64_t j = 0; j < i; j++)
            if (ke[j] - ks[j] == ke[i] - ks[i] &&
                memcmp(w->p + ks[j], w->p + ks[i], ke[i] - ks[i]) == 0)
                return avow__fail(w->diag, AVOW_ERR_CBOR, w->field,
                                  "map at offset %zu repeats the key at offset %zu", at, ks[i]);
        if ((rc = item(w, depth + 1)) != AVOW_OK)
            return rc;
    }
    return AVOW_OK;
}

static avow_err item(walker *w, unsigned depth)
{
    size_t at = w->pos;
    if (depth > w->max_depth)
        return avow__fail(w->diag, AVOW_ERR_TOO_LARGE, w->field,
                          "nesting deeper than %u at offset %zu", w->max_depth, at);
    int major = 0;
    uint64_t arg = 0;
    avow_err rc = head(w, &major, &arg);
    if (rc != AVOW_OK)
        return rc;
    switch (major) {
    case 0:
    case 1:
    case 7:
        return AVOW_OK;
    case 2:
    case 3:
        if (arg > w->len - w->pos)
            return avow__fail(w->diag, AVOW_ERR_TRUNCATED, w->field,
                              "string at offset %zu runs past the input", at);
        if (major == 3 && !utf8_ok(w->p + w->pos, (size_t)arg))
            return avow__fail(w->diag, AVOW_ERR_CBOR, w->field,
                              "text string at offset %zu is not valid UTF-8", at);
        w->pos += (size_t)arg;
        return AVOW_OK;
    case 4:
        /* each element takes at least one byte: a count beyond the input is truncated */
        if (arg > w->len - w->pos)
            return avow__fail(w->diag, AVOW_ERR_TRUNCATED, w->field,
                              "array at offset %zu has more elements than bytes left", at);
        for (uint64_t i = 0; i < arg; i++)
            if ((rc = item(w, depth + 1)) != AVOW_OK)
                return rc;
        return AVOW_OK;
    case 5:
        if (arg > (w->len - w->pos) / 2)
            return avow__fail(w->diag, AVOW_ERR_TRUNCATED, w->field,
                              "map at offset %zu has more entries than bytes left", at);
        return map_items(w, arg, depth, at);
    default: /* 6: a tag and its content */
        return item(w, depth + 1);
    }
}

avow_err avow__cbor_check(const uint8_t *p, size_t len, unsigned max_depth, const char *field,
                          avow_diag *diag)
{
    if (p == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_TRUNCATED, field, "no CBOR input");
    walker w = {p, len, 0, max_depth, field, diag};
    avow_err rc = item(&w, 0);
    if (rc != AVOW_OK)
        return rc;
    if (w.pos != len)
        return avow__fail(diag, AVOW_ERR_TRAILING, field, "%zu bytes after the CBOR item",
                          len - w.pos);
    return AVOW_OK;
}
