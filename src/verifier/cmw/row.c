/*
 * The registry rows of the RATS Conceptual Message Wrapper as a statement
 * (id-pe-cmw, CMW ::= CHOICE { json UTF8String, cbor OCTET STRING }, and
 * on read the TCG DICE wrapper SEQUENCE { cmw OCTET STRING }): the CMW is
 * decoded and its media type picks what verifies the value. An EAR JWT is
 * an Attestation Result (cmw/ear_result.c, the passport model); a PSA
 * token goes to the psa-token row. The media type names live here only.
 * A CMW of another media type is reported as a statement of unknown type.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/cmw.h>
#include <avow/ear.h>

#include "core/der.h"
#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"
#include "verifier/cmw/cmw_int.h"
#include "verifier/registry_int.h"

/* What a wrapper carries, by its media type. */
typedef enum cmw_kind { KIND_NONE = 0, KIND_EAR, KIND_PSA } cmw_kind;

typedef struct cmw_native {
    avow_cmw *cmw;
    cmw_kind kind;
    void *inner;  /* KIND_PSA: the psa-token row's decoded token */
    avow_buf jwt; /* KIND_EAR: the JWT, NUL-terminated */
} cmw_native;

typedef struct cmw_verified {
    avow__ear_result *ear;
    void *inner; /* KIND_PSA: what the psa-token row's verify learnt */
} cmw_verified;

/* eat_profile values of PSA tokens (RFC 9783, and the older ones Veraison lists). */
static const char *const PSA_PROFILES[] = {
    "tag:psacertified.org,2023:psa#tfm",
    "tag:psacertified.org,2019:psa#legacy",
    "http://arm.com/psa/2.0.0",
};

static int psa_profile(const char *p)
{
    for (size_t i = 0; i < sizeof(PSA_PROFILES) / sizeof(PSA_PROFILES[0]); i++)
        if (strcmp(p, PSA_PROFILES[i]) == 0)
            return 1;
    return 0;
}

/*
 * application/eat+cwt (RFC 9782) with a PSA eat_profile or none (the
 * token's own profile claim is checked by the psa-token row), the older
 * application/eat-cwt (parameter "profile" or "eat_profile"), and
 * application/psa-attestation-token.
 */
static int psa_media(const avow_media_type *mt)
{
    if (avow_media_type_is(mt, "application", "psa-attestation-token"))
        return 1;
    if (!avow_media_type_is(mt, "application", "eat+cwt") &&
        !avow_media_type_is(mt, "application", "eat-cwt"))
        return 0;
    const char *p = avow_media_type_param(mt, "eat_profile");
    if (p == NULL)
        p = avow_media_type_param(mt, "profile");
    return p == NULL || psa_profile(p);
}

static cmw_kind kind_of(const avow_cmw *cmw)
{
    if (cmw->type == NULL)
        return KIND_NONE; /* a content-format: none names a payload avow verifies */
    if (avow_ear_media_type_ok(cmw->type, strlen(cmw->type)))
        return KIND_EAR;
    avow_media_type *mt = NULL;
    cmw_kind k = KIND_NONE;
    if (avow_media_type_parse(cmw->type, strlen(cmw->type), &mt, NULL) == AVOW_OK && psa_media(mt))
        k = KIND_PSA;
    avow_media_type_free(mt);
    return k;
}

/* The CMW bytes and their form from the statement's DER. */
static avow_err unwrap(const avow_statement_type *row, const uint8_t *stmt, size_t len,
                       const uint8_t **p, size_t *n, avow_cmw_form *form, avow_diag *d)
{
    uint8_t tag;
    size_t h, b;
    int dice = row->arg != NULL;
    const char *field = dice ? "cmw (tcg-dice)" : "cmw";
    avow_err rc = avow__der_header(stmt, len, &tag, &h, &b);
    if (rc != AVOW_OK || h + b != len)
        return avow__fail(d, rc != AVOW_OK ? rc : AVOW_ERR_TRAILING, field, "not one DER value");
    if (dice) {
        /* SEQUENCE { cmw OCTET STRING }, the CMW in either form */
        if (tag != 0x30)
            return avow__fail(d, AVOW_ERR_WRONG_TAG, field, "want a SEQUENCE");
        stmt += h;
        len = b;
        rc = avow__der_header(stmt, len, &tag, &h, &b);
        if (rc != AVOW_OK || h + b != len || tag != 0x04)
            return avow__fail(d, rc != AVOW_OK ? rc : AVOW_ERR_WRONG_TAG, "cmw (tcg-dice).cmw",
                              "want one OCTET STRING");
        *form = AVOW_CMW_FORM_AUTO;
    } else if (tag == 0x0c) {
        *form = AVOW_CMW_FORM_JSON;
    } else if (tag == 0x04) {
        /* a CBOR record is an array; the tag form opens with a tag head */
        *form = b > 0 && (stmt[h] & 0xe0) == 0xc0 ? AVOW_CMW_FORM_CBOR_TAG : AVOW_CMW_FORM_CBOR;
    } else {
        return avow__fail(d, AVOW_ERR_WRONG_TAG, field,
                          "want json UTF8String or cbor OCTET STRING (tag 0x%02x)", tag);
    }
    if (b == 0)
        return avow__fail(d, AVOW_ERR_EMPTY, field, "empty");
    *p = stmt + h;
    *n = b;
    return AVOW_OK;
}

static avow_err cmw_decode(const avow_statement_type *row, const avow_profile *profile,
                           const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    avow_cmw_form form = AVOW_CMW_FORM_AUTO;
    avow_err rc = unwrap(row, stmt, len, &p, &n, &form, diag);
    if (rc != AVOW_OK)
        return rc;
    cmw_native *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    *native = c;
    if ((rc = avow_cmw_decode(p, n, form, &c->cmw, diag)) != AVOW_OK)
        return rc;
    c->kind = kind_of(c->cmw);
    if (c->kind == KIND_EAR)
        return avow_cmw_get_ear_jwt(c->cmw, &c->jwt, diag);
    if (c->kind == KIND_PSA) {
        rc = avow__psa_row.decode(&avow__psa_row, profile, c->cmw->value.ptr, c->cmw->value.len,
                                  &c->inner, diag);
        if (rc != AVOW_OK) {
            /* what did not decode is not shown as a token */
            avow__psa_row.free(&avow__psa_row, c->inner, NULL);
            c->inner = NULL;
        }
        return rc;
    }
    return AVOW_OK;
}

static avow_err cmw_verify(const avow_statement_type *row, const avow_verifier *v,
                           const void *native, const avow_verify_opts *opts, void **verified,
                           avow_diag *diag)
{
    (void)row;
    const cmw_native *c = native;
    if (c->kind == KIND_NONE)
        return avow__fail(diag, AVOW_ERR_STATEMENT_TYPE, "cmw[0]",
                          "no verifier for a CMW of this media type");
    cmw_verified *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    *verified = r;
    if (c->kind == KIND_PSA)
        return avow__psa_row.verify(&avow__psa_row, v, c->inner, opts, &r->inner, diag);
    return avow__ear_result_verify(v, (const char *)c->jwt.ptr, c->jwt.len,
                                   opts != NULL && opts->nonce != NULL, &r->ear, diag);
}

static avow_err cmw_claims(const avow_statement_type *row, const void *native, const void *verified,
                           avow_claimset *out)
{
    (void)row;
    const cmw_native *c = native;
    const cmw_verified *r = verified;
    if (c->kind == KIND_PSA)
        return avow__psa_row.to_claims(&avow__psa_row, c->inner, r != NULL ? r->inner : NULL, out);
    return avow__ear_result_claims(r != NULL ? r->ear : NULL, out);
}

static const char *media(const cmw_native *c)
{
    return c->cmw != NULL && c->cmw->type != NULL ? c->cmw->type : "(a content-format)";
}

static avow_err cmw_text(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    const cmw_native *c = native;
    const cmw_verified *r = verified;
    if (c->cmw == NULL) {
        avow_buf t = {(uint8_t *)OPENSSL_strdup("CMW: does not decode\n"), 21};
        *out = t;
        return out->ptr != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
    }
    if (c->kind == KIND_PSA && c->inner != NULL) {
        avow_buf inner = {0};
        avow_err rc =
            avow__psa_row.to_text(&avow__psa_row, c->inner, r != NULL ? r->inner : NULL, &inner);
        if (rc != AVOW_OK)
            return rc;
        BIO *b = BIO_new(BIO_s_mem());
        if (b == NULL) {
            avow_buf_free(&inner);
            return AVOW_ERR_NOMEM;
        }
        BIO_printf(b, "CMW (%s), %s form, media type \"", row->name,
                   avow_cmw_form_name(c->cmw->form));
        avow__escape_bio(b, (const uint8_t *)media(c), strlen(media(c)), AVOW_ESCAPE_QUOTED);
        BIO_printf(b, "\":\n");
        BIO_write(b, inner.ptr, (int)inner.len);
        avow_buf_free(&inner);
        rc = avow__text_take(b, out);
        BIO_free(b);
        return rc;
    }
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    BIO_printf(b, "CMW (%s), %s form, media type \"", row->name, avow_cmw_form_name(c->cmw->form));
    avow__escape_bio(b, (const uint8_t *)media(c), strlen(media(c)), AVOW_ESCAPE_QUOTED);
    BIO_printf(b, "\", %zu bytes:\n", c->cmw->value.len);
    if (c->kind == KIND_NONE) {
        BIO_printf(b, "  no verifier for this media type\n");
    } else if (c->kind == KIND_PSA) {
        BIO_printf(b, "  PSA attestation token: does not decode\n");
    } else {
        const avow__ear_result *e = r != NULL ? r->ear : NULL;
        BIO_printf(b, "  Attestation Result (EAR JWT)\n");
        if (e == NULL) {
            BIO_printf(b, "  Verified: not checked\n");
        } else if (e->ear == NULL) {
            BIO_printf(b, "  Verified: no (%s): ", avow_errname(e->status));
            avow__escape_bio(b, (const uint8_t *)e->detail, strlen(e->detail), 0);
            BIO_printf(b, "\n");
        } else {
            BIO_printf(b, "  Verified: %s, alg %s", e->status == AVOW_OK ? "yes" : "signature only",
                       e->alg);
            if (e->kid[0] != '\0') {
                BIO_printf(b, ", kid \"");
                avow__escape_bio(b, (const uint8_t *)e->kid, strlen(e->kid), AVOW_ESCAPE_QUOTED);
                BIO_printf(b, "\"");
            }
            BIO_printf(b, "\n  Status: %s\n", avow_tier_name(e->tier));
            for (size_t i = 0; i < e->ear->nsubmods; i++) {
                BIO_printf(b, "  Submod \"");
                const char *n = e->ear->submods[i].name;
                avow__escape_bio(b, (const uint8_t *)n, strlen(n), AVOW_ESCAPE_QUOTED);
                BIO_printf(b, "\": %s\n", avow_tier_name(e->ear->submods[i].status));
            }
            BIO_printf(b, "  Attested key: %s\n", e->akey != NULL ? e->akey : "none");
            if (e->status != AVOW_OK) {
                BIO_printf(b, "  Refused (%s): ", avow_errname(e->status));
                avow__escape_bio(b, (const uint8_t *)e->detail, strlen(e->detail), 0);
                BIO_printf(b, "\n");
            }
        }
    }
    avow_err rc = avow__text_take(b, out);
    BIO_free(b);
    return rc;
}

static avow_err cmw_json(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    const cmw_native *c = native;
    const cmw_verified *r = verified;
    int bad = 0;
    json_t *o = json_object();
    if (o == NULL)
        return AVOW_ERR_NOMEM;
    avow__json_put(o, "type", json_string(row->name), &bad);
    if (c->cmw == NULL) {
        avow__json_put(o, "decoded", json_false(), &bad);
        avow_err rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2), 1, out);
        json_decref(o);
        return rc;
    }
    avow__json_put(o, "form", json_string(avow_cmw_form_name(c->cmw->form)), &bad);
    avow__json_put(o, "media_type", avow__json_text(media(c)), &bad);
    if (c->kind == KIND_PSA && c->inner != NULL) {
        avow_buf inner = {0};
        avow_err rc =
            avow__psa_row.to_json(&avow__psa_row, c->inner, r != NULL ? r->inner : NULL, &inner);
        /* the PSA row escapes a NUL in a text claim as \u0000: read it back as such */
        json_t *j = rc == AVOW_OK
                        ? json_loadb((const char *)inner.ptr, inner.len, JSON_ALLOW_NUL, NULL)
                        : NULL;
        avow_buf_free(&inner);
        avow__json_put(o, "psa", j, &bad);
    } else if (c->kind == KIND_EAR) {
        const avow__ear_result *e = r != NULL ? r->ear : NULL;
        json_t *j = json_object();
        avow__json_put(o, "result", j, &bad);
        if (e != NULL && j != NULL) {
            avow__json_put(j, "verified", json_boolean(e->status == AVOW_OK), &bad);
            avow__json_put(j, "status", avow__json_errname(e->status), &bad);
            if (e->status != AVOW_OK)
                avow__json_put(j, "detail", avow__json_text(e->detail), &bad);
            if (e->ear != NULL) {
                avow__json_put(j, "alg", json_string(e->alg), &bad);
                avow__json_put(j, "ear_status", json_string(avow_tier_name(e->tier)), &bad);
                avow__json_put(j, "attested_key", e->akey ? json_string(e->akey) : json_null(),
                               &bad);
            }
        }
    }
    avow_err rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2), 1, out);
    json_decref(o);
    return rc;
}

static void cmw_free(const avow_statement_type *row, void *native, void *verified)
{
    (void)row;
    cmw_native *c = native;
    cmw_verified *r = verified;
    if (c != NULL && c->kind == KIND_PSA)
        avow__psa_row.free(&avow__psa_row, c->inner, r != NULL ? r->inner : NULL);
    if (c != NULL) {
        avow_cmw_free(c->cmw);
        avow_buf_free(&c->jwt);
        OPENSSL_free(c);
    }
    if (r != NULL) {
        avow__ear_result_free(r->ear);
        OPENSSL_free(r);
    }
}

/* DER content octets of AVOW_OID_CMW (1.3.6.1.5.5.7.1.35). */
const avow_statement_type avow__cmw_row = {
    sizeof(avow_statement_type),
    "id-pe-cmw",
    AVOW_TYPE_OID_FIXED,
    {8, "\x2b\x06\x01\x05\x05\x07\x01\x23"},
    &avow__ear_vocab,
    "avow_cmw",
    "avow_cmw_verified",
    cmw_decode,
    cmw_verify,
    cmw_claims,
    cmw_text,
    cmw_json,
    cmw_free,
    NULL,
    NULL,
    0,
    NULL,
};

/* DER content octets of AVOW_OID_DICE_CMW (2.23.133.5.4.9); arg marks the DICE shape. */
const avow_statement_type avow__dice_cmw_row = {
    sizeof(avow_statement_type),
    "tcg-dice-conceptual-message-wrapper",
    AVOW_TYPE_OID_FIXED,
    {6, "\x67\x81\x05\x05\x04\x09"},
    &avow__ear_vocab,
    "avow_cmw",
    "avow_cmw_verified",
    cmw_decode,
    cmw_verify,
    cmw_claims,
    cmw_text,
    cmw_json,
    cmw_free,
    (void *)"dice",
    NULL,
    0,
    NULL,
};
