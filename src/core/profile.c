#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "core/internal.h"
#include <avow/profile.h>

/* The draft appends at most three one-byte sub-arcs to id-evidence. */
#define ARC_HEADROOM 3

avow_err avow_oid_from_text(avow_oid *o, const char *text)
{
    if (o == NULL || text == NULL || *text == '\0')
        return AVOW_ERR_OID;
    /* Only numeric dotted form: a name would make the arc depend on OpenSSL's table. */
    for (const char *p = text; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return AVOW_ERR_OID;
    ASN1_OBJECT *obj = OBJ_txt2obj(text, 1);
    if (obj == NULL) {
        avow__ossl_clear();
        return AVOW_ERR_OID;
    }
    int len = OBJ_length(obj);
    const unsigned char *der = OBJ_get0_data(obj);
    avow_err rc = AVOW_ERR_OID;
    if (len > 0 && len <= AVOW_OID_MAX && der != NULL) {
        o->len = (uint8_t)len;
        memcpy(o->der, der, (size_t)len);
        rc = AVOW_OK;
    }
    ASN1_OBJECT_free(obj);
    return rc;
}

void avow_oid_to_text(const uint8_t *der, size_t len, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    uint64_t acc = 0;
    int first = 1;
    for (size_t i = 0; i < len; i++) {
        if (acc > (UINT64_MAX >> 7)) {
            avow__strlcpy(buf, "(oid too long)", cap);
            return;
        }
        acc = (acc << 7) | (der[i] & 0x7f);
        if (der[i] & 0x80) {
            if (i + 1 == len) { /* unterminated sub-identifier */
                avow__strlcpy(buf, "(bad oid)", cap);
                return;
            }
            continue;
        }
        int n;
        if (first) {
            unsigned top = acc < 40 ? 0 : acc < 80 ? 1 : 2;
            n = snprintf(buf + used, cap - used, "%u.%llu", top,
                         (unsigned long long)(acc - 40u * top));
            first = 0;
        } else {
            n = snprintf(buf + used, cap - used, ".%llu", (unsigned long long)acc);
        }
        if (n < 0 || (size_t)n >= cap - used)
            return; /* truncated but terminated */
        used += (size_t)n;
        acc = 0;
    }
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
