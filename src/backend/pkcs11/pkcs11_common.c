/*
 * The parts of avow/pkcs11.h that need no token and no p11-kit: URI
 * redaction and the key generation defaults. Compiled in every build, so a
 * library without PKCS#11 still keeps PINs out of what it prints.
 */
#include <string.h>
#include <strings.h>

#include <avow/pkcs11.h>

#include "core/internal.h"

/* Whether the attribute name of comp[0..n) (before '='), percent-decoded, is name, any case. */
static int attr_is(const char *comp, size_t n, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < n && comp[i] != '='; i++) {
        char c = comp[i];
        if (c == '%' && i + 2 < n && avow__hexval(comp[i + 1]) >= 0 &&
            avow__hexval(comp[i + 2]) >= 0) {
            c = (char)(avow__hexval(comp[i + 1]) << 4 | avow__hexval(comp[i + 2]));
            i += 2;
        }
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (name[k] == '\0' || name[k] != c)
            return 0;
        k++;
    }
    return name[k] == '\0';
}

static int secret_attr(const char *comp, size_t n, unsigned flags)
{
    if (attr_is(comp, n, "pin-value"))
        return 1;
    return (flags & AVOW_P11_REDACT_PIN_SOURCE) &&
           (attr_is(comp, n, "pin-source") || attr_is(comp, n, "pinfile"));
}

typedef struct outbuf {
    char *p;
    size_t cap, len;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++) {
        if (o->len + 1 < o->cap)
            o->p[o->len] = s[i];
    }
    if (o->cap > 0)
        o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

size_t avow_p11_uri_redact(const char *uri, unsigned flags, char *buf, size_t cap)
{
    outbuf o = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    if (uri == NULL)
        return 0;
    if (strncasecmp(uri, "pkcs11:", 7) != 0) {
        put(&o, uri, strlen(uri));
        return o.len;
    }
    put(&o, uri, 7);
    /* Path attributes are separated by ';', query attributes (after '?') by '&'. */
    const char *p = uri + 7;
    int query = 0, first = 1;
    while (*p != '\0') {
        const char sep = query ? '&' : ';';
        size_t n = strcspn(p, query ? "&" : ";?");
        if (!secret_attr(p, n, flags) && n > 0) {
            if (!first)
                put(&o, &sep, 1);
            put(&o, p, n);
            first = 0;
        }
        p += n;
        if (*p == '?') {
            /* The '?' is written once a query attribute is kept. */
            query = 1;
            first = 1;
            p++;
            const char *q = p;
            int kept = 0;
            while (*q != '\0') {
                size_t m = strcspn(q, "&");
                kept |= m > 0 && !secret_attr(q, m, flags);
                q += m + (q[m] == '&');
            }
            if (kept)
                put(&o, "?", 1);
        } else if (*p != '\0') {
            p++;
        }
    }
    return o.len;
}

void avow_p11_keygen_params_init(avow_p11_keygen_params *p)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof(*p));
    p->size = sizeof(*p);
    p->type = AVOW_P11_KEY_EC_P256;
    p->sensitive = 1;
}
