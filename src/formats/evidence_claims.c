/* The claim table of draft-ietf-rats-pkix-key-attestation-07, section 5. */
#include <string.h>

#include <openssl/objects.h>

#include <avow/claims.h>

#include "formats/evidence_int.h"

#define T AVOW_ELEMENT_TRANSACTION
#define P AVOW_ELEMENT_PLATFORM
#define K AVOW_ELEMENT_KEY

/*
 * X(id, element, name, ASN.1 value type, repeatable, claim arc,
 *   normalised type, trustworthiness-vector key, roles)
 * One list feeds the codec's table and the vocabulary that the verifier's
 * PKIX row hands to policy, so the two cannot drift apart.
 */
#define PKIX_CLAIMS(X)                                                                             \
    X(NONCE, T, "nonce", BYTES, 0, 0, BYTES, INSTANCE_IDENTITY, AVOW_ROLE_NONCE)                   \
    X(TIMESTAMP, T, "timestamp", TIME, 0, 1, TIME, INSTANCE_IDENTITY, 0)                           \
    X(AK_SPKI, T, "ak-spki", BYTES, 1, 2, BYTES, INSTANCE_IDENTITY, 0)                             \
    X(VENDOR, P, "vendor", UTF8, 0, 0, TEXT, HARDWARE, 0)                                          \
    X(OEMID, P, "oemid", BYTES, 0, 1, BYTES, HARDWARE, 0)                                          \
    X(HWMODEL, P, "hwmodel", BYTES, 0, 2, BYTES, HARDWARE, 0)                                      \
    X(HWVERSION, P, "hwversion", UTF8, 0, 3, TEXT, HARDWARE, 0)                                    \
    X(HWSERIAL, P, "hwserial", UTF8, 0, 4, TEXT, HARDWARE, 0)                                      \
    X(SWNAME, P, "swname", UTF8, 0, 5, TEXT, EXECUTABLES, 0)                                       \
    X(SWVERSION, P, "swversion", UTF8, 0, 6, TEXT, EXECUTABLES, 0)                                 \
    X(DBGSTAT, P, "dbgstat", INT, 0, 7, INT, CONFIGURATION, 0)                                     \
    X(UPTIME, P, "uptime", INT, 0, 8, INT, NONE, 0)                                                \
    X(BOOTCOUNT, P, "bootcount", INT, 0, 9, INT, NONE, 0)                                          \
    X(FIPSBOOT, P, "fipsboot", BOOL, 0, 10, BOOL, CONFIGURATION, 0)                                \
    X(FIPSVER, P, "fipsver", UTF8, 0, 11, TEXT, HARDWARE, 0)                                       \
    X(FIPSLEVEL, P, "fipslevel", INT, 0, 12, INT, HARDWARE, 0)                                     \
    X(FIPSMODULE, P, "fipsmodule", UTF8, 0, 13, TEXT, HARDWARE, 0)                                 \
    X(KEY_IDENTIFIER, K, "identifier", UTF8, 1, 0, TEXT, STORAGE_OPAQUE, AVOW_ROLE_KEY_ID)         \
    X(KEY_SPKI, K, "spki", BYTES, 0, 1, BYTES, STORAGE_OPAQUE, AVOW_ROLE_KEY_SPKI)                 \
    X(KEY_EXTRACTABLE, K, "extractable", BOOL, 0, 2, BOOL, STORAGE_OPAQUE, 0)                      \
    X(KEY_SENSITIVE, K, "sensitive", BOOL, 0, 3, BOOL, STORAGE_OPAQUE, 0)                          \
    X(KEY_NEVER_EXTRACTABLE, K, "never-extractable", BOOL, 0, 4, BOOL, STORAGE_OPAQUE, 0)          \
    X(KEY_LOCAL, K, "local", BOOL, 0, 5, BOOL, STORAGE_OPAQUE, 0)                                  \
    X(KEY_EXPIRY, K, "expiry", TIME, 0, 6, TIME, CONFIGURATION, 0)                                 \
    X(KEY_PURPOSE, K, "purpose", OIDS, 0, 7, NAMES, CONFIGURATION, 0)

#define CLAIM_INFO_(id, el, name, type, rep, arc, cv, tv, roles)                                   \
    {AVOW_CLAIM_##id, el, name, AVOW_VALUE_##type, rep, arc},
static const avow_claim_info claims[AVOW_CLAIM_COUNT_] = {PKIX_CLAIMS(CLAIM_INFO_)};
#undef CLAIM_INFO_

#define ELEMENT_NAME_T "transaction"
#define ELEMENT_NAME_P "platform"
#define ELEMENT_NAME_K "key"
#define VOCAB_CLAIM_(id, el, name, type, rep, arc, cv, tv, roles)                                  \
    {ELEMENT_NAME_##el, name, AVOW_CV_##cv, AVOW_TV_##tv, roles},
static const avow_vocab_claim vocab_claims_[AVOW_CLAIM_COUNT_] = {PKIX_CLAIMS(VOCAB_CLAIM_)};
#undef VOCAB_CLAIM_

static const char *const capabilities[AVOW_CAP_COUNT_] = {
    "encrypt",      "decrypt", "wrap",           "unwrap", "sign",
    "sign-recover", "verify",  "verify-recover", "derive",
};

static const avow_vocab_element vocab_elements_[] = {
    {ELEMENT_NAME_T, 0},
    {ELEMENT_NAME_P, 0},
    {ELEMENT_NAME_K, AVOW_VOCAB_KEY_ELEMENT},
};

const avow_vocabulary avow__pkix_vocabulary = {"pkix",
                                               sizeof(vocab_elements_) / sizeof(vocab_elements_[0]),
                                               vocab_elements_, AVOW_CLAIM_COUNT_, vocab_claims_};

const avow_vocabulary *avow_evidence_vocabulary(void)
{
    return &avow__pkix_vocabulary;
}

const avow_vocab_claim *avow_evidence_vocab_claim(avow_claim_id id)
{
    return (unsigned)id < AVOW_CLAIM_COUNT_ ? &vocab_claims_[id] : NULL;
}

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
        return ELEMENT_NAME_T;
    case AVOW_ELEMENT_PLATFORM:
        return ELEMENT_NAME_P;
    case AVOW_ELEMENT_KEY:
        return ELEMENT_NAME_K;
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
