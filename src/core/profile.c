#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include <avow/profile.h>

/* The draft appends at most three one-byte sub-arcs to id-evidence. */
#define ARC_HEADROOM 3

/*
 * Dotted text to DER content octets. Written out rather than through
 * OBJ_txt2obj, which is slow (BIGNUM and table lookups) and accepts names:
 * the profile must be exactly the numbers the user wrote.
 */
avow_err avow_oid_from_text(avow_oid *o, const char *text)
{
    if (o == NULL || text == NULL)
        return AVOW_ERR_OID;
    uint64_t arcs[AVOW_OID_MAX];
    size_t n = 0;
    const char *p = text;
    for (;;) {
        if (*p < '0' || *p > '9' || n == AVOW_OID_MAX)
            return AVOW_ERR_OID;
        if (*p == '0' && p[1] >= '0' && p[1] <= '9')
            return AVOW_ERR_OID; /* no leading zeros */
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > (UINT64_MAX - 9) / 10 / 2) /* keep room for 40 * first + second */
                return AVOW_ERR_OID;
            v = v * 10 + (uint64_t)(*p++ - '0');
        }
        arcs[n++] = v;
        if (*p == '\0')
            break;
        if (*p++ != '.')
            return AVOW_ERR_OID;
    }
    if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
        return AVOW_ERR_OID;
    uint8_t der[AVOW_OID_MAX];
    size_t len = 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t v = i == 1 ? arcs[0] * 40 + arcs[1] : arcs[i];
        uint8_t tmp[10];
        size_t k = 0;
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v != 0);
        if (len + k > AVOW_OID_MAX)
            return AVOW_ERR_OID;
        while (k > 0) {
            k--;
            der[len++] = (uint8_t)(tmp[k] | (k > 0 ? 0x80 : 0));
        }
    }
    o->len = (uint8_t)len;
    memcpy(o->der, der, len);
    return AVOW_OK;
}

/* Appends n bytes of s at text position *at, keeping what fits in buf[0..cap-1). */
static void put(char *buf, size_t cap, size_t *at, const char *s, size_t n)
{
    if (*at + 1 < cap) {
        size_t room = cap - 1 - *at;
        memcpy(buf + *at, s, n < room ? n : room);
    }
    *at += n;
}

/*
 * One function both sizes and writes, so a caller that asks for the length
 * first and writes second gets the same text twice. The content is judged
 * whole before any arc is written: an OID that cannot be rendered gives only
 * its placeholder, never arcs followed by a placeholder.
 */
size_t avow_oid_to_text(const uint8_t *der, size_t len, char *buf, size_t cap)
{
    const char *bad = NULL;
    if (der == NULL || len == 0 || (der[len - 1] & 0x80)) {
        bad = "(bad oid)"; /* nothing, or an unterminated last sub-identifier */
    } else {
        uint64_t acc = 0;
        for (size_t i = 0; i < len && bad == NULL; i++) {
            if (acc > (UINT64_MAX >> 7))
                bad = "(oid too long)"; /* an arc of 2^64 or more */
            acc = (acc << 7) | (der[i] & 0x7f);
            if (!(der[i] & 0x80))
                acc = 0;
        }
    }
    size_t at = 0;
    if (bad != NULL) {
        put(buf, cap, &at, bad, strlen(bad));
    } else {
        uint64_t acc = 0;
        int first = 1;
        for (size_t i = 0; i < len; i++) {
            acc = (acc << 7) | (der[i] & 0x7f);
            if (der[i] & 0x80)
                continue;
            char arc[48];
            int n;
            if (first) {
                unsigned top = acc < 40 ? 0 : acc < 80 ? 1 : 2;
                n = snprintf(arc, sizeof(arc), "%u.%llu", top,
                             (unsigned long long)(acc - 40u * top));
                first = 0;
            } else {
                n = snprintf(arc, sizeof(arc), ".%llu", (unsigned long long)acc);
            }
            put(buf, cap, &at, arc, n > 0 ? (size_t)n : 0);
            acc = 0;
        }
    }
    if (cap > 0)
        buf[at < cap ? at : cap - 1] = '\0';
    return at;
}

char *avow__oid_text(const uint8_t *der, size_t len)
{
    size_t n = avow_oid_to_text(der, len, NULL, 0);
    char *s = OPENSSL_malloc(n + 1);
    if (s != NULL)
        avow_oid_to_text(der, len, s, n + 1);
    return s;
}

void avow_profile_default(avow_profile *p)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof(*p));
    /* The defaults are compile-time constants validated by the tests. */
    if (avow_oid_from_text(&p->evidence_arc, AVOW_DEFAULT_EVIDENCE_ARC) != AVOW_OK ||
        avow_oid_from_text(&p->ak_eku, AVOW_DEFAULT_AK_EKU) != AVOW_OK)
        abort();
}

avow_err avow_profile_set(avow_profile *p, const char *evidence_arc, const char *ak_eku,
                          avow_diag *diag)
{
    if (p == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "profile", "no profile given");
    avow_oid arc = p->evidence_arc, eku = p->ak_eku;
    if (evidence_arc != NULL) {
        if (avow_oid_from_text(&arc, evidence_arc) != AVOW_OK)
            return avow__fail(diag, AVOW_ERR_OID, "evidence-arc", "'%s' is not a dotted OID",
                              evidence_arc);
        if (arc.len + ARC_HEADROOM > AVOW_OID_MAX)
            return avow__fail(diag, AVOW_ERR_OID, "evidence-arc",
                              "'%s' is too long to carry the claim sub-arcs", evidence_arc);
    }
    if (ak_eku != NULL && avow_oid_from_text(&eku, ak_eku) != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_OID, "ak-eku", "'%s' is not a dotted OID", ak_eku);
    p->evidence_arc = arc;
    p->ak_eku = eku;
    return AVOW_OK;
}
