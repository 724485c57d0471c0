/*
 * Decoding the PSA attestation token (RFC 9783): the COSE envelope, then
 * every claim of the token's profile checked for CBOR type and size. The
 * 2023 profile of the RFC, the "http://arm.com/psa/2.0.0" profile that
 * TF-M and Veraison still emit, and the legacy PSA_IOT_PROFILE_1 differ
 * only in claim keys and a few sizes, so one table per profile drives one
 * reader.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/psa_int.h"

#define TFM_NAME    "tag:psacertified.org,2023:psa#tfm"
#define P200_NAME   "http://arm.com/psa/2.0.0"
#define LEGACY_NAME "PSA_IOT_PROFILE_1"

enum {
    C_NONCE,
    C_INSTANCE,
    C_PROFILE,
    C_CLIENT,
    C_LIFECYCLE,
    C_IMPL,
    C_BOOT,
    C_CERT,
    C_SW,
    C_VSI,
    C_NOSW,
    C_COUNT
};

static const char *const claim_field[C_COUNT] = {"psa.nonce",
                                                 "psa.instance_id",
                                                 "psa.profile",
                                                 "psa.client_id",
                                                 "psa.security_lifecycle",
                                                 "psa.implementation_id",
                                                 "psa.boot_seed",
                                                 "psa.certification_reference",
                                                 "psa.sw_components",
                                                 "psa.verification_service",
                                                 "psa.no_sw_measurements"};

/* Claim keys by profile; 0 = the profile has no such claim. */
static const int64_t claim_key[3][C_COUNT] = {
    {10, 256, 265, 2394, 2395, 2396, 268, 2398, 2399, 2400, 0},
    {10, 256, 265, 2394, 2395, 2396, 2397, 2398, 2399, 2400, 0},
    {-75008, -75009, -75000, -75001, -75002, -75003, -75004, -75005, -75006, -75010, -75007},
};

const char *avow__psa_profile_name(avow__psa_profile p)
{
    return p == AVOW__PSA_TFM ? TFM_NAME : p == AVOW__PSA_2_0_0 ? P200_NAME : LEGACY_NAME;
}

const char *avow__psa_lifecycle_name(int64_t lc)
{
    static const char *const names[] = {
        "unknown",           "assembly-and-test",         "psa-rot-provisioning", "secured",
        "non-psa-rot-debug", "recoverable-psa-rot-debug", "decommissioned"};
    /* major state in bits 15:8 (0x00, 0x10 ... 0x60), bits 7:0 implementation defined */
    if (lc < 0 || lc > 0xffff || ((lc >> 8) & 0x0f) != 0 || (lc >> 12) > 6)
        return "invalid";
    return names[lc >> 12];
}

void avow__psa_free(avow__psa *t)
{
    if (t == NULL)
        return;
    if (t->claims != NULL)
        cbor_decref(&t->claims);
    avow_cose_msg_free(t->cose);
    OPENSSL_free(t);
}

static avow_view bview(const cbor_item_t *it)
{
    avow_view v = {cbor_bytestring_handle(it), cbor_bytestring_length(it)};
    return v;
}

static avow_view tview(const cbor_item_t *it)
{
    avow_view v = {cbor_string_handle(it), cbor_string_length(it)};
    return v;
}

static int hash_size(size_t n)
{
    return n == 32 || n == 48 || n == 64;
}

static avow_err want_bytes(const cbor_item_t *v, const char *field, avow_view *out, avow_diag *d)
{
    if (!cbor_isa_bytestring(v))
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, field, "not a byte string");
    *out = bview(v);
    return AVOW_OK;
}

static avow_err want_text(const cbor_item_t *v, const char *field, avow_view *out, avow_diag *d)
{
    if (!cbor_isa_string(v))
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, field, "not a text string");
    *out = tview(v);
    if (out->len == 0 || out->len > AVOW__PSA_MAX_TEXT)
        return avow__fail(d, AVOW_ERR_CLAIM_VALUE, field, "%zu bytes of text; 1 to %u", out->len,
                          AVOW__PSA_MAX_TEXT);
    if (!avow__utf8_valid(out->ptr, out->len))
        return avow__fail(d, AVOW_ERR_CLAIM_VALUE, field, "not UTF-8");
    return AVOW_OK;
}

static avow_err want_hash(const cbor_item_t *v, const char *field, avow_view *out, avow_diag *d)
{
    avow_err rc = want_bytes(v, field, out, d);
    if (rc == AVOW_OK && !hash_size(out->len))
        return avow__fail(d, AVOW_ERR_CLAIM_VALUE, field, "%zu bytes; a hash of 32, 48 or 64",
                          out->len);
    return rc;
}

/* [0-9]{13}-[0-9]{5}, or with ean13_ok also the 13 digits alone (legacy hardware version). */
static int cert_ref_ok(avow_view v, int ean13_ok)
{
    if (v.len != 19 && !(ean13_ok && v.len == 13))
        return 0;
    for (size_t i = 0; i < v.len; i++) {
        if (i == 13) {
            if (v.ptr[i] != '-')
                return 0;
        } else if (v.ptr[i] < '0' || v.ptr[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* A failure at psa.sw_components[i] (or its member `name`). */
static avow_err sw_fail(avow_diag *d, avow_err code, size_t i, const char *name, const char *detail)
{
    char f[96];
    if (name != NULL)
        snprintf(f, sizeof(f), "%s[%zu].%s", claim_field[C_SW], i, name);
    else
        snprintf(f, sizeof(f), "%s[%zu]", claim_field[C_SW], i);
    return avow__fail(d, code, f, "%s", detail);
}

static avow_err read_sw(avow__psa *t, const cbor_item_t *v, avow_diag *d)
{
    const char *base = claim_field[C_SW];
    if (!cbor_isa_array(v))
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, base, "not an array");
    size_t n = cbor_array_size(v);
    if (n == 0)
        return avow__fail(d, AVOW_ERR_EMPTY, base, "no software component");
    if (n > AVOW__PSA_MAX_SW)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, base, "%zu components; at most %u", n,
                          AVOW__PSA_MAX_SW);
    cbor_item_t **a = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        avow__psa_sw *c = &t->sw[i];
        if (!cbor_isa_map(a[i]))
            return sw_fail(d, AVOW_ERR_CLAIM_TYPE, i, NULL, "not a map");
        struct cbor_pair *pr = cbor_map_handle(a[i]);
        for (size_t j = 0; j < cbor_map_size(a[i]); j++) {
            int64_t k;
            if (!avow__cbor_int(pr[j].key, &k))
                continue; /* no text keys are defined: ignored like unknown ones */
            avow_err rc = AVOW_OK;
            const char *name = NULL;
            switch (k) {
            case 1:
                rc = want_text(pr[j].value, name = "measurement_type", &c->type, d);
                break;
            case 2:
                rc = want_hash(pr[j].value, name = "measurement_value", &c->value, d);
                break;
            case 4:
                rc = want_text(pr[j].value, name = "version", &c->version, d);
                break;
            case 5:
                rc = want_hash(pr[j].value, name = "signer_id", &c->signer_id, d);
                break;
            case 6:
                rc = want_text(pr[j].value, name = "measurement_desc", &c->desc, d);
                break;
            default:
                break;
            }
            if (rc != AVOW_OK) {
                /* The field is named only now: building it for every value costs more than
                 * the checks. */
                if (d != NULL)
                    snprintf(d->field, sizeof(d->field), "%s[%zu].%s", base, i, name);
                return rc;
            }
        }
        if (c->value.ptr == NULL)
            return sw_fail(d, AVOW_ERR_MISSING_CLAIM, i, "measurement_value",
                           "a component needs its measurement");
        /* RFC 9783 makes the signer id mandatory; the legacy profile left it optional. */
        if (c->signer_id.ptr == NULL && t->profile != AVOW__PSA_LEGACY)
            return sw_fail(d, AVOW_ERR_MISSING_CLAIM, i, "signer_id",
                           "a component needs its signer id");
    }
    t->nsw = n;
    return AVOW_OK;
}

static avow_err read_claim(avow__psa *t, int c, const cbor_item_t *v, avow_diag *d)
{
    const char *f = claim_field[c];
    avow_err rc;
    int64_t i;
    switch (c) {
    case C_NONCE:
        /* One value: RFC 9783 allows no array of nonces. */
        rc = want_bytes(v, f, &t->nonce, d);
        if (rc == AVOW_OK && !hash_size(t->nonce.len))
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f, "%zu bytes; 32, 48 or 64", t->nonce.len);
        return rc;
    case C_INSTANCE:
        rc = want_bytes(v, f, &t->instance_id, d);
        if (rc == AVOW_OK && t->instance_id.len != 33)
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f, "%zu bytes; a UEID of 33",
                              t->instance_id.len);
        if (rc == AVOW_OK && t->instance_id.ptr[0] != 0x01)
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f,
                              "UEID type 0x%02x; a PSA instance id is RAND (0x01)",
                              t->instance_id.ptr[0]);
        return rc;
    case C_PROFILE:
        return want_text(v, f, &t->profile_name, d);
    case C_CLIENT:
        if (!cbor_is_int(v))
            return avow__fail(d, AVOW_ERR_CLAIM_TYPE, f, "not an integer");
        if (!avow__cbor_int(v, &i) || i < INT32_MIN || i > INT32_MAX || i == 0)
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f, "not a 32-bit client id other than 0");
        t->client_id = i;
        return AVOW_OK;
    case C_LIFECYCLE:
        if (!cbor_isa_uint(v))
            return avow__fail(d, AVOW_ERR_CLAIM_TYPE, f, "not an unsigned integer");
        if (!avow__cbor_int(v, &i) || strcmp(avow__psa_lifecycle_name(i), "invalid") == 0)
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f,
                              "0x%llx is in no security lifecycle range",
                              (unsigned long long)cbor_get_int(v));
        t->lifecycle = i;
        return AVOW_OK;
    case C_IMPL:
        rc = want_bytes(v, f, &t->implementation_id, d);
        if (rc == AVOW_OK && t->implementation_id.len != 32)
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f, "%zu bytes; 32",
                              t->implementation_id.len);
        return rc;
    case C_BOOT:
        rc = want_bytes(v, f, &t->boot_seed, d);
        if (rc != AVOW_OK)
            return rc;
        /* RFC 9783: 8 to 32 bytes; the legacy profile fixed 32. */
        if (t->profile == AVOW__PSA_LEGACY ? t->boot_seed.len != 32
                                           : t->boot_seed.len < 8 || t->boot_seed.len > 32)
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f, "%zu bytes; %s", t->boot_seed.len,
                              t->profile == AVOW__PSA_LEGACY ? "32" : "8 to 32");
        return AVOW_OK;
    case C_CERT:
        rc = want_text(v, f, &t->cert_ref, d);
        if (rc == AVOW_OK && !cert_ref_ok(t->cert_ref, t->profile != AVOW__PSA_TFM))
            return avow__fail(d, AVOW_ERR_CLAIM_VALUE, f, "not EAN-13 \"-\" 5 digits");
        return rc;
    case C_SW:
        return read_sw(t, v, d);
    case C_VSI:
        return want_text(v, f, &t->vsi, d);
    case C_NOSW:
        if (!cbor_isa_uint(v))
            return avow__fail(d, AVOW_ERR_CLAIM_TYPE, f, "not an unsigned integer");
        t->no_sw_measurements = 1;
        return AVOW_OK;
    default:
        return AVOW_ERR_INTERNAL;
    }
}

static const cbor_item_t *find_key(const cbor_item_t *map, int64_t key)
{
    struct cbor_pair *pr = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        int64_t k;
        if (avow__cbor_int(pr[i].key, &k) && k == key)
            return pr[i].value;
    }
    return NULL;
}

static int text_is(const cbor_item_t *v, const char *s)
{
    return cbor_isa_string(v) && cbor_string_length(v) == strlen(s) &&
           memcmp(cbor_string_handle(v), s, strlen(s)) == 0;
}

static avow_err pick_profile(avow__psa *t, avow_diag *d)
{
    const cbor_item_t *p = find_key(t->claims, 265);
    if (p != NULL) {
        if (!cbor_isa_string(p))
            return avow__fail(d, AVOW_ERR_CLAIM_TYPE, "psa.profile", "not a text string");
        if (text_is(p, TFM_NAME))
            t->profile = AVOW__PSA_TFM;
        else if (text_is(p, P200_NAME))
            t->profile = AVOW__PSA_2_0_0;
        else
            return avow__fail(d, AVOW_ERR_PSA_PROFILE, "psa.profile",
                              "not " TFM_NAME " or " P200_NAME);
        return AVOW_OK;
    }
    p = find_key(t->claims, -75000);
    if (p != NULL) {
        if (!cbor_isa_string(p))
            return avow__fail(d, AVOW_ERR_CLAIM_TYPE, "psa.profile", "not a text string");
        if (!text_is(p, LEGACY_NAME))
            return avow__fail(d, AVOW_ERR_PSA_PROFILE, "psa.profile", "not " LEGACY_NAME);
        t->profile = AVOW__PSA_LEGACY;
        return AVOW_OK;
    }
    /* The legacy profile made its profile claim optional: its nonce or instance id tell. */
    if (find_key(t->claims, -75008) != NULL || find_key(t->claims, -75009) != NULL) {
        t->profile = AVOW__PSA_LEGACY;
        return AVOW_OK;
    }
    return avow__fail(d, AVOW_ERR_MISSING_CLAIM, "psa.profile", "no profile claim (265)");
}

static avow_err read_claims(avow__psa *t, avow_diag *d)
{
    if (!cbor_isa_map(t->claims))
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, "psa", "the claims set is not a map");
    avow_err rc = pick_profile(t, d);
    if (rc != AVOW_OK)
        return rc;
    const int64_t *keys = claim_key[t->profile];
    int seen[C_COUNT] = {0};
    struct cbor_pair *pr = cbor_map_handle(t->claims);
    for (size_t i = 0; i < cbor_map_size(t->claims); i++) {
        int64_t k = 0;
        int c = C_COUNT;
        if (avow__cbor_int(pr[i].key, &k))
            for (c = 0; c < C_COUNT; c++)
                if (keys[c] != 0 && keys[c] == k)
                    break;
        if (c == C_COUNT) {
            /* EAT: a receiver must not fail on claims it does not know. */
            if (t->nunknown < AVOW__PSA_MAX_UNKNOWN)
                t->unknown[t->nunknown] = k;
            t->nunknown++;
            continue;
        }
        if ((rc = read_claim(t, c, pr[i].value, d)) != AVOW_OK)
            return rc;
        seen[c] = 1;
    }
    static const int mandatory[] = {C_NONCE, C_INSTANCE, C_CLIENT, C_LIFECYCLE, C_IMPL};
    for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++)
        if (!seen[mandatory[i]])
            return avow__fail(d, AVOW_ERR_MISSING_CLAIM, claim_field[mandatory[i]],
                              "claim %lld is mandatory", (long long)keys[mandatory[i]]);
    if (t->profile == AVOW__PSA_LEGACY && !seen[C_BOOT])
        return avow__fail(d, AVOW_ERR_MISSING_CLAIM, claim_field[C_BOOT],
                          "claim -75004 is mandatory in " LEGACY_NAME);
    if (!seen[C_SW] && !seen[C_NOSW])
        return avow__fail(d, AVOW_ERR_MISSING_CLAIM, claim_field[C_SW], "claim %lld is mandatory",
                          (long long)keys[C_SW]);
    if (seen[C_SW] && seen[C_NOSW])
        return avow__fail(d, AVOW_ERR_CLAIM_VALUE, claim_field[C_NOSW],
                          "software components and \"no software measurements\" together");
    return AVOW_OK;
}

avow_err avow__psa_decode(const uint8_t *in, size_t len, avow__psa **out, avow_diag *d)
{
    if (out == NULL || in == NULL || len == 0)
        return avow__fail(d, AVOW_ERR_ARG, "psa", "no token");
    *out = NULL;
    if (len > AVOW__PSA_MAX_SIZE)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "psa", "%zu bytes; at most %u", len,
                          AVOW__PSA_MAX_SIZE);
    /* A DER OCTET STRING around the token (a statement in a PKIX request); CBOR never
     * starts a COSE message with 0x04, so the two cannot be confused. */
    if (in[0] == 0x04) {
        uint8_t tag;
        size_t h, n;
        if (avow__der_header(in, len, &tag, &h, &n) != AVOW_OK || h + n != len)
            return avow__fail(d, AVOW_ERR_NOT_DER, "psa", "not one DER OCTET STRING");
        in += h;
        len = n;
        if (len == 0)
            return avow__fail(d, AVOW_ERR_EMPTY, "psa", "empty OCTET STRING");
    }
    avow__psa *t = OPENSSL_zalloc(sizeof(*t));
    if (t == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "psa", "out of memory");
    avow_err rc = avow_cose_decode(in, len, AVOW_COSE_ANY,
                                   AVOW_COSE_TAGGED | AVOW_COSE_NON_PREFERRED, &t->cose, d);
    if (rc == AVOW_OK) {
        avow_view pl = avow_cose_msg_payload(t->cose);
        rc = avow__cbor_load(pl.ptr, pl.len, AVOW__CBOR_NON_PREFERRED, "psa", &t->claims, d);
    }
    if (rc == AVOW_OK)
        rc = read_claims(t, d);
    if (rc != AVOW_OK) {
        avow__psa_free(t);
        return rc;
    }
    *out = t;
    return AVOW_OK;
}
