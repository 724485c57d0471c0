/* The claim table of draft-ietf-rats-pkix-key-attestation-07, section 5. */
#include <string.h>

#include <openssl/objects.h>

#include "formats/evidence_int.h"

#define T AVOW_ELEMENT_TRANSACTION
#define P AVOW_ELEMENT_PLATFORM
#define K AVOW_ELEMENT_KEY

static const avow_claim_info claims[AVOW_CLAIM_COUNT_] = {
    {AVOW_CLAIM_NONCE, T, "nonce", AVOW_VALUE_BYTES, 0, 0},
    {AVOW_CLAIM_TIMESTAMP, T, "timestamp", AVOW_VALUE_TIME, 0, 1},
    {AVOW_CLAIM_AK_SPKI, T, "ak-spki", AVOW_VALUE_BYTES, 1, 2},
    {AVOW_CLAIM_VENDOR, P, "vendor", AVOW_VALUE_UTF8, 0, 0},
    {AVOW_CLAIM_OEMID, P, "oemid", AVOW_VALUE_BYTES, 0, 1},
    {AVOW_CLAIM_HWMODEL, P, "hwmodel", AVOW_VALUE_BYTES, 0, 2},
    {AVOW_CLAIM_HWVERSION, P, "hwversion", AVOW_VALUE_UTF8, 0, 3},
    {AVOW_CLAIM_HWSERIAL, P, "hwserial", AVOW_VALUE_UTF8, 0, 4},
    {AVOW_CLAIM_SWNAME, P, "swname", AVOW_VALUE_UTF8, 0, 5},
    {AVOW_CLAIM_SWVERSION, P, "swversion", AVOW_VALUE_UTF8, 0, 6},
    {AVOW_CLAIM_DBGSTAT, P, "dbgstat", AVOW_VALUE_INT, 0, 7},
    {AVOW_CLAIM_UPTIME, P, "uptime", AVOW_VALUE_INT, 0, 8},
    {AVOW_CLAIM_BOOTCOUNT, P, "bootcount", AVOW_VALUE_INT, 0, 9},
    {AVOW_CLAIM_FIPSBOOT, P, "fipsboot", AVOW_VALUE_BOOL, 0, 10},
    {AVOW_CLAIM_FIPSVER, P, "fipsver", AVOW_VALUE_UTF8, 0, 11},
    {AVOW_CLAIM_FIPSLEVEL, P, "fipslevel", AVOW_VALUE_INT, 0, 12},
    {AVOW_CLAIM_FIPSMODULE, P, "fipsmodule", AVOW_VALUE_UTF8, 0, 13},
    {AVOW_CLAIM_KEY_IDENTIFIER, K, "identifier", AVOW_VALUE_UTF8, 1, 0},
    {AVOW_CLAIM_KEY_SPKI, K, "spki", AVOW_VALUE_BYTES, 0, 1},
    {AVOW_CLAIM_KEY_EXTRACTABLE, K, "extractable", AVOW_VALUE_BOOL, 0, 2},
    {AVOW_CLAIM_KEY_SENSITIVE, K, "sensitive", AVOW_VALUE_BOOL, 0, 3},
    {AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, K, "never-extractable", AVOW_VALUE_BOOL, 0, 4},
    {AVOW_CLAIM_KEY_LOCAL, K, "local", AVOW_VALUE_BOOL, 0, 5},
    {AVOW_CLAIM_KEY_EXPIRY, K, "expiry", AVOW_VALUE_TIME, 0, 6},
    {AVOW_CLAIM_KEY_PURPOSE, K, "purpose", AVOW_VALUE_OIDS, 0, 7},
};

static const char *const capabilities[AVOW_CAP_COUNT_] = {
    "encrypt",      "decrypt", "wrap",           "unwrap", "sign",
    "sign-recover", "verify",  "verify-recover", "derive",
};

const avow_claim_info *avow_claim_info_get(avow_claim_id id)
{
    if ((unsigned)id >= AVOW_CLAIM_COUNT_)
        return NULL;
    return &claims[id];
}

const avow_claim_info *avow_claim_info_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < AVOW_CLAIM_COUNT_; i++)
        if (strcmp(claims[i].name, name) == 0)
            return &claims[i];
    /* The module spells dbgstat "debugstat"; accept both. */
    if (strcmp(name, "debugstat") == 0)
        return &claims[AVOW_CLAIM_DBGSTAT];
    return NULL;
}

const avow_claim_info *avow__claim_by_arc(uint8_t element, uint8_t number)
{
    for (size_t i = 0; i < AVOW_CLAIM_COUNT_; i++)
        if ((uint8_t)claims[i].element == element && claims[i].arc_claim == number)
            return &claims[i];
    return NULL;
}

const char *avow_element_name(avow_element_kind kind)
{
    switch (kind) {
    case AVOW_ELEMENT_TRANSACTION:
        return "transaction";
    case AVOW_ELEMENT_PLATFORM:
        return "platform";
    case AVOW_ELEMENT_KEY:
        return "key";
    case AVOW_ELEMENT_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *avow_capability_name(avow_capability cap)
{
    if ((unsigned)cap >= AVOW_CAP_COUNT_)
        return NULL;
    return capabilities[cap];
}

avow_capability avow_capability_by_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < AVOW_CAP_COUNT_; i++)
        if (strcmp(capabilities[i], name) == 0)
            return (avow_capability)i;
    return AVOW_CAP_UNKNOWN;
}

/*
 * Every sub-arc the draft hangs below id-evidence is below 128, so each takes
 * one content byte: an element is arc.0.e, a claim arc.1.e.n, a capability arc.2.n.
 */
int avow__arc_suffix(const avow_profile *p, const uint8_t *oid, size_t len, uint8_t *suffix,
                     size_t nsuffix)
{
    const avow_oid *arc = &p->evidence_arc;
    if (len != (size_t)arc->len + nsuffix || memcmp(oid, arc->der, arc->len) != 0)
        return 0;
    for (size_t i = 0; i < nsuffix; i++) {
        if (oid[arc->len + i] & 0x80)
            return 0;
        suffix[i] = oid[arc->len + i];
    }
    return 1;
}

ASN1_OBJECT *avow__arc_object(const avow_profile *p, const uint8_t *suffix, size_t nsuffix)
{
    const avow_oid *arc = &p->evidence_arc;
    unsigned char der[2 + AVOW_OID_MAX + 3];
    if (nsuffix > 3)
        return NULL;
    size_t n = 0;
    der[n++] = V_ASN1_OBJECT;
    der[n++] = (unsigned char)(arc->len + nsuffix);
    memcpy(der + n, arc->der, arc->len);
    n += arc->len;
    memcpy(der + n, suffix, nsuffix);
    n += nsuffix;
    const unsigned char *q = der;
    return d2i_ASN1_OBJECT(NULL, &q, (long)n);
}

int avow__arc_set(avow_evidence *ev, const uint8_t *suffix, size_t nsuffix, AVOW_RAW *r)
{
    const avow_oid *arc = &ev->profile.evidence_arc;
    if (nsuffix > 3)
        return 0;
    uint8_t *der = avow__evidence_own(ev, OPENSSL_malloc((size_t)arc->len + nsuffix));
    if (der == NULL)
        return 0;
    memcpy(der, arc->der, arc->len);
    memcpy(der + arc->len, suffix, nsuffix);
    r->type = V_ASN1_OBJECT;
    r->p = der;
    r->len = (int)(arc->len + nsuffix);
    return 1;
}
