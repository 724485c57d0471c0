/*
 * The strict CBOR walk (cbor_strict.h). One pass over the bytes with an
 * explicit stack: a hostile input cannot recurse, and every limit is
 * checked before anything is allocated.
 */
#include <string.h>

#include <openssl/asn1.h>

#include "core/internal.h"
#include "formats/cbor_strict.h"

typedef struct head {
    unsigned major;
    unsigned ai;
    uint64_t arg;
    size_t hlen; /* bytes of the head */
} head;

typedef struct walk {
    const uint8_t *p;
    size_t len, pos, items;
    unsigned flags;
    const char *field;
    avow_diag *d;
} walk;

static avow_err read_head(walk *w, head *h)
{
    if (w->pos >= w->len)
        return avow__fail(w->d, AVOW_ERR_TRUNCATED, w->field, "CBOR ends at byte %zu", w->pos);
    uint8_t b = w->p[w->pos];
    h->major = b >> 5;
    h->ai = b & 0x1f;
    h->hlen = 1;
    h->arg = h->ai;
    if (h->ai >= 28 && h->ai <= 30)
        return avow__fail(w->d, AVOW_ERR_CBOR, w->field,
                          "reserved additional information %u at byte %zu", h->ai, w->pos);
    if (h->ai == 31) {
        /* Indefinite strings, arrays and maps, and the "break" code. */
        if (h->major >= 2 && h->major <= 5)
            return avow__fail(w->d, AVOW_ERR_CBOR_INDEFINITE, w->field,
                              "indefinite length at byte %zu", w->pos);
        return avow__fail(w->d, AVOW_ERR_CBOR, w->field, "unexpected break or code 31 at byte %zu",
                          w->pos);
    }
    if (h->ai >= 24) {
        size_t n = (size_t)1 << (h->ai - 24);
        if (w->len - w->pos - 1 < n)
            return avow__fail(w->d, AVOW_ERR_TRUNCATED, w->field, "CBOR head cut at byte %zu",
                              w->pos);
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v << 8 | w->p[w->pos + 1 + i];
        h->arg = v;
        h->hlen = 1 + n;
        if (h->major == 7) {
            /* Floats keep their width; a one-byte simple value must be 32 or more. */
            if (h->ai == 24 && v < 32)
                return avow__fail(w->d, AVOW_ERR_CBOR, w->field,
                                  "simple value %u in two bytes at byte %zu", (unsigned)v, w->pos);
        } else if (!(w->flags & AVOW__CBOR_NON_PREFERRED)) {
            uint64_t min = h->ai == 24 ? 24 : (uint64_t)1 << (8u << (h->ai - 25));
            if (v < min)
                return avow__fail(w->d, AVOW_ERR_CBOR_NOT_PREFERRED, w->field,
                                  "argument %llu in %zu bytes at byte %zu", (unsigned long long)v,
                                  n, w->pos);
        }
    }
    w->pos += h->hlen;
    return AVOW_OK;
}

/* One open container on the walk's stack. */
typedef struct frame {
    uint64_t left;    /* items still to read */
    int map;          /* 1: items alternate key, value */
    size_t keys_at;   /* index into the key list of this map's first key */
    uint64_t counted; /* items read so far (key/value parity) */
} frame;

/* A map key as the duplicate check compares it: integers and strings by value (so a key
 * written in a longer form is still the same key), anything else by its encoding. */
typedef struct keyspan {
    size_t at, len; /* the whole key */
    unsigned major; /* of its head */
    uint64_t arg;   /* its argument */
    size_t body;    /* where a string's content starts */
} keyspan;

static int same_key(const uint8_t *p, const keyspan *a, const keyspan *b)
{
    if (a->major != b->major)
        return 0;
    if (a->major <= 1)
        return a->arg == b->arg;
    if (a->major <= 3)
        return a->arg == b->arg && memcmp(p + a->body, p + b->body, (size_t)a->arg) == 0;
    return a->len == b->len && memcmp(p + a->at, p + b->at, a->len) == 0;
}

avow_err avow__cbor_check(const uint8_t *p, size_t len, unsigned flags, const char *field,
                          avow_diag *d)
{
    walk w = {p, len, 0, 0, flags, field != NULL ? field : "cbor", d};
    if (p == NULL && len > 0)
        return avow__fail(d, AVOW_ERR_ARG, w.field, "no input");
    frame st[AVOW__CBOR_MAX_DEPTH + 1];
    size_t depth = 0;
    /* Keys of the open maps, for the duplicate check (bounded by the item limit). */
    keyspan *keys = NULL;
    size_t nkeys = 0, capkeys = 0;
    avow_err rc = AVOW_OK;
    size_t tags = 0; /* tags stacked on the item being read */
    for (;;) {
        size_t start = w.pos;
        int is_key = depth > 0 && st[depth - 1].map && st[depth - 1].counted % 2 == 0;
        head h;
        if ((rc = read_head(&w, &h)) != AVOW_OK)
            goto out;
        if (++w.items > AVOW__CBOR_MAX_ITEMS) {
            rc = avow__fail(d, AVOW_ERR_TOO_LARGE, w.field, "more than %u CBOR items",
                            AVOW__CBOR_MAX_ITEMS);
            goto out;
        }
        if (h.major == 6) {
            if (depth + ++tags > AVOW__CBOR_MAX_DEPTH) {
                rc = avow__fail(d, AVOW_ERR_TOO_LARGE, w.field, "CBOR nested deeper than %u",
                                AVOW__CBOR_MAX_DEPTH);
                goto out;
            }
            continue; /* the tagged item follows */
        }
        tags = 0;
        int opened = 0;
        if (h.major == 2 || h.major == 3) {
            if (h.arg > w.len - w.pos) {
                rc = avow__fail(d, AVOW_ERR_TRUNCATED, w.field,
                                "string of %llu bytes at byte %zu runs past the end",
                                (unsigned long long)h.arg, start);
                goto out;
            }
            /* RFC 8949 section 5.3.1: a text string that is not UTF-8 is invalid CBOR. */
            if (h.major == 3 && !avow__utf8_valid(p + w.pos, (size_t)h.arg)) {
                rc = avow__fail(d, AVOW_ERR_CBOR, w.field,
                                "text string at byte %zu is not valid UTF-8", start);
                goto out;
            }
            w.pos += (size_t)h.arg;
        } else if (h.major == 4 || h.major == 5) {
            uint64_t n = h.arg;
            if (h.major == 5 && n > AVOW__CBOR_MAX_PAIRS) {
                rc = avow__fail(d, AVOW_ERR_TOO_LARGE, w.field, "map of %llu pairs at byte %zu",
                                (unsigned long long)n, start);
                goto out;
            }
            if (n > AVOW__CBOR_MAX_ITEMS || (h.major == 5 && (n *= 2) > AVOW__CBOR_MAX_ITEMS)) {
                rc = avow__fail(d, AVOW_ERR_TOO_LARGE, w.field, "container of %llu items",
                                (unsigned long long)h.arg);
                goto out;
            }
            if (n > 0) {
                if (depth >= AVOW__CBOR_MAX_DEPTH) {
                    rc = avow__fail(d, AVOW_ERR_TOO_LARGE, w.field, "CBOR nested deeper than %u",
                                    AVOW__CBOR_MAX_DEPTH);
                    goto out;
                }
                st[depth].left = n;
                st[depth].map = h.major == 5;
                st[depth].keys_at = nkeys;
                st[depth].counted = 0;
                opened = 1;
            }
        }
        if (is_key) {
            /* A key is complete only after its own content; containers as keys are compared by
             * their encoding once walked, which the pair loop below does not need: keys of PSA
             * and COSE are integers and strings. A container key is refused as such. */
            if (h.major >= 4 && h.major != 7) {
                rc = avow__fail(d, AVOW_ERR_CBOR, w.field,
                                "map key at byte %zu is an array or a map", start);
                goto out;
            }
            frame *f = &st[depth - 1];
            keyspan ks = {start, w.pos - start, h.major, h.arg, start + h.hlen};
            for (size_t k = f->keys_at; k < nkeys; k++)
                if (same_key(p, &keys[k], &ks)) {
                    rc = avow__fail(d, AVOW_ERR_CBOR_DUP_KEY, w.field,
                                    "map key at byte %zu repeats the key at byte %zu", start,
                                    keys[k].at);
                    goto out;
                }
            if (nkeys == capkeys) {
                size_t nc = capkeys ? 2 * capkeys : 16;
                keyspan *nk = OPENSSL_realloc(keys, nc * sizeof(*nk));
                if (nk == NULL) {
                    rc = avow__fail(d, AVOW_ERR_NOMEM, w.field, "out of memory");
                    goto out;
                }
                keys = nk;
                capkeys = nc;
            }
            keys[nkeys++] = ks;
        }
        if (opened) {
            depth++;
            continue;
        }
        /* The item is complete: close every container it completes. */
        while (depth > 0) {
            frame *f = &st[depth - 1];
            f->counted++;
            if (--f->left > 0)
                break;
            if (f->map)
                nkeys = f->keys_at;
            depth--;
        }
        if (depth == 0)
            break;
    }
    if (w.pos != len)
        rc =
            avow__fail(d, AVOW_ERR_TRAILING, w.field, "%zu bytes after the CBOR item", len - w.pos);
out:
    OPENSSL_free(keys);
    return rc;
}

avow_err avow__cbor_load(const uint8_t *p, size_t len, unsigned flags, const char *field,
                         cbor_item_t **out, avow_diag *d)
{
    *out = NULL;
    avow_err rc = avow__cbor_check(p, len, flags, field, d);
    if (rc != AVOW_OK)
        return rc;
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load(p, len, &res);
    if (it == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
        if (it != NULL)
            cbor_decref(&it);
        if (res.error.code == CBOR_ERR_MEMERROR)
            return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
        return avow__fail(d, AVOW_ERR_CBOR, field, "libcbor refused the item (error %d at %zu)",
                          (int)res.error.code, res.error.position);
    }
    *out = it;
    return AVOW_OK;
}

int avow__cbor_head_read(const uint8_t *p, size_t len, unsigned *major, uint64_t *arg, size_t *hlen)
{
    walk w = {p, len, 0, 0, AVOW__CBOR_NON_PREFERRED, "", NULL};
    head h;
    if (read_head(&w, &h) != AVOW_OK)
        return 0;
    *major = h.major;
    *arg = h.arg;
    *hlen = h.hlen;
    return 1;
}

void avow__cbor_head(uint8_t *out, size_t *n, unsigned major, uint64_t arg)
{
    uint8_t m = (uint8_t)(major << 5);
    size_t k = *n;
    if (arg < 24) {
        out[k++] = (uint8_t)(m | arg);
    } else {
        unsigned bytes = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffu ? 4 : 8;
        out[k++] = (uint8_t)(m | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
        for (unsigned i = bytes; i-- > 0;)
            out[k++] = (uint8_t)(arg >> (8 * i));
    }
    *n = k;
}

int avow__cbor_int(const cbor_item_t *it, int64_t *out)
{
    if (!cbor_is_int(it))
        return 0;
    uint64_t v = cbor_get_int(it);
    if (v > INT64_MAX)
        return 0;
    /* A negative integer -1-v: v <= INT64_MAX gives at least INT64_MIN. */
    *out = cbor_isa_uint(it) ? (int64_t)v : -1 - (int64_t)v;
    return 1;
}

int avow__utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned long c;
        int n = UTF8_getc(p + i, (int)(len - i > 8 ? 8 : len - i), &c);
        if (n <= 0 || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += (size_t)n;
    }
    return 1;
}
