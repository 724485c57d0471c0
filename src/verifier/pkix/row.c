/*
 * The registry row of PKIX Evidence (draft-ietf-rats-pkix-key-attestation):
 * statements of the profile's id-evidence type are decoded strictly under
 * the verifier's profile, verified with the Evidence verifier (the
 * certificates that came with them as untrusted), and turned into claims of
 * the PKIX vocabulary.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/internal.h"
#include "core/json.h"
#include "formats/evidence_int.h"
#include "verifier/registry_int.h"
#include "verifier/verify_int.h"

static avow_err pkix_decode(const avow_statement_type *row, const avow_profile *profile,
                            const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row;
    avow_evidence *ev = NULL;
    avow_err rc = avow_evidence_decode(stmt, len, profile, 0, &ev, diag);
    *native = ev;
    return rc;
}

static avow_err pkix_verify(const avow_statement_type *row, const avow_verifier *v,
                            const void *native, const avow_verify_opts *opts, void **verified,
                            avow_diag *diag)
{
    (void)row;
    avow_evidence_result *res = NULL;
    /* The claims are made once, by pkix_claims, from the signatures' outcome. */
    avow_err rc = avow__verify_evidence(v, native, opts, 0, &res, diag);
    *verified = res;
    return rc;
}

static avow_err pkix_claims(const avow_statement_type *row, const void *native,
                            const void *verified, avow_claimset *out)
{
    (void)row;
    const avow_evidence_result *res = verified;
    uint32_t signed_by = 0;
    for (size_t i = 0; res != NULL && i < res->nsigs; i++)
        if (res->sigs[i].status == AVOW_OK)
            signed_by |= (uint32_t)1 << (i & 31);
    return avow__claimset_build(native, signed_by, out, NULL, NULL);
}

static avow_err pkix_text(const avow_statement_type *row, const void *native, const void *verified,
                          avow_buf *out)
{
    (void)row;
    if (verified == NULL)
        return avow_evidence_to_text(native, out);
    avow_buf ev = {0}, res = {0};
    avow_err rc = avow_evidence_to_text(native, &ev);
    if (rc == AVOW_OK)
        rc = avow_evidence_result_to_text(verified, &res);
    if (rc == AVOW_OK) {
        out->ptr = OPENSSL_malloc(ev.len + res.len + 1);
        if (out->ptr == NULL) {
            rc = AVOW_ERR_NOMEM;
        } else {
            memcpy(out->ptr, ev.ptr, ev.len);
            memcpy(out->ptr + ev.len, res.ptr, res.len + 1);
            out->len = ev.len + res.len;
        }
    }
    avow_buf_free(&ev);
    avow_buf_free(&res);
    return rc;
}

static avow_err pkix_json(const avow_statement_type *row, const void *native, const void *verified,
                          avow_buf *out)
{
    (void)row;
    if (verified == NULL)
        return avow_evidence_to_json(native, out);
    avow_buf ev = {0}, res = {0};
    avow_err rc = avow_evidence_to_json(native, &ev);
    if (rc == AVOW_OK)
        rc = avow_evidence_result_to_json(verified, &res);
    json_t *o = rc == AVOW_OK ? json_object() : NULL;
    int bad = o == NULL;
    if (!bad) {
        avow__json_put(o, "evidence", json_loadb((const char *)ev.ptr, ev.len, 0, NULL), &bad);
        avow__json_put(o, "verification", json_loadb((const char *)res.ptr, res.len, 0, NULL),
                       &bad);
    }
    avow_buf_free(&ev);
    avow_buf_free(&res);
    if (rc == AVOW_OK)
        rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2) | JSON_SORT_KEYS, 0, out);
    json_decref(o);
    return rc;
}

static void pkix_free(const avow_statement_type *row, void *native, void *verified)
{
    (void)row;
    avow_evidence_result_free(verified); /* borrows from the Evidence: first */
    avow_evidence_free(native);
}

/* The signers whose signature verified, by their DER SubjectPublicKeyInfo (docs/kat.md). */
static int pkix_link_keys(const avow_statement_type *row, const void *native, const void *verified,
                          size_t i, avow_link_key *out)
{
    (void)row, (void)native;
    const avow_evidence_result *res = verified;
    for (size_t s = 0, seen = 0; res != NULL && s < res->nsigs; s++) {
        if (res->sigs[s].status != AVOW_OK || res->sigs[s].key == NULL || seen++ < i)
            continue;
        memset(out, 0, sizeof(*out));
        out->role = AVOW_LINK_SIGNER;
        out->key = res->sigs[s].key;
        out->form = "spki";
        return 1;
    }
    return 0;
}

/*
 * The combined form: each platform token claim (AVOW_OID_PLATFORM_TOKEN) is
 * a CMW as id-pe-cmw defines it, handed to that row as it stands.
 */
int avow__pkix_nested_unchecked(const void *native, size_t i, avow_nested_stmt *out)
{
    /* DER content octets of id-pe-cmw (1.3.6.1.5.5.7.1.35). */
    static const uint8_t cmw_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x23};
    size_t e = 0, c = 0;
    if (!avow__evidence_platform_token(native, i, &out->stmt, &e, &c))
        return 0;
    out->type.len = (uint8_t)sizeof(cmw_oid);
    memcpy(out->type.der, cmw_oid, sizeof(cmw_oid));
    snprintf(out->field, sizeof(out->field),
             "tbs.reportedElements[%zu].claims[%zu] (platform-token)", e, c);
    return 1;
}

/* Offered only under a verified signature, so the outer signature covers what is nested. */
static int pkix_nested(const avow_statement_type *row, const void *native, const void *verified,
                       size_t i, avow_nested_stmt *out)
{
    (void)row;
    return verified != NULL && avow__pkix_nested_unchecked(native, i, out);
}

const avow_statement_type avow__pkix_row = {
    sizeof(avow_statement_type),
    "pkix-evidence",
    AVOW_TYPE_OID_EVIDENCE_ARC,
    {0, {0}},
    &avow__pkix_vocabulary,
    "avow_evidence",
    "avow_evidence_result",
    pkix_decode,
    pkix_verify,
    pkix_claims,
    pkix_text,
    pkix_json,
    pkix_free,
    NULL,
    pkix_link_keys,
    0,
    pkix_nested,
};
