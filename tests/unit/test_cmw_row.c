/*
 * The CMW rows through the library: an EAR JWT made with avow_ear_sign_jwt
 * for a key, wrapped in a CBOR or JSON CMW (id-pe-cmw) or the TCG DICE
 * wrapper, verified by avow_statement_verify under the verifier's result
 * keys (the passport model): the attested key from akpub or a cnf jwk, the
 * `ear:*` claims, and the refusals (kid, attester keys, age, nonce, status,
 * two different keys, alg none).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include <avow/avow.h>

#include "testutil.h"

static const uint8_t OID_CMW[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x23};
static const uint8_t OID_DICE[] = {0x67, 0x81, 0x05, 0x05, 0x04, 0x09};
static const uint8_t NONCE[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
#define IAT ((time_t)1800000000)

typedef struct fx {
    EVP_PKEY *dev, *ver, *other;
    avow_buf spki;
    avow_signer *signer;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->dev = tu_key_ec("P-256");
    f->ver = tu_key_ec("P-256");
    f->other = tu_key_ec("P-384");
    f->spki = tu_spki(f->dev);
    OK(avow_signer_new_pkey(f->ver, AVOW_SIGALG_NONE, &f->signer, NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    EVP_PKEY_free(f->dev);
    EVP_PKEY_free(f->ver);
    EVP_PKEY_free(f->other);
    avow_buf_free(&f->spki);
    avow_signer_free(f->signer);
    free(f);
    return 0;
}

/* An EAR about key (may be NULL) of status `verify` (AVOW_OK: affirming), signed by f's verifier.
 */
static avow_buf ear_jwt(fx *f, const avow_buf *key, avow_err verify, const char *kid)
{
    avow_ear_statement st;
    avow_ear_statement_init(&st);
    st.name = "pkix-evidence";
    st.verify_status = verify;
    st.nonce = AVOW_NONCE_MATCH;
    st.akpub = key != NULL ? key->ptr : NULL;
    st.akpub_len = key != NULL ? key->len : 0;
    avow_ear_opts o;
    avow_ear_opts_init(&o);
    o.iat = IAT;
    o.nonce = NONCE;
    o.nonce_len = sizeof(NONCE);
    avow_ear *ear = NULL;
    OK(avow_ear_build(&st, 1, &o, &ear, NULL));
    avow_buf jwt = {0};
    OK(avow_ear_sign_jwt(ear, f->signer, kid, &jwt, NULL));
    avow_ear_free(ear);
    return jwt;
}

/* DER tag + length + content (content under 64 KiB). */
static avow_buf tlv(uint8_t tag, const uint8_t *p, size_t n)
{
    avow_buf b = {OPENSSL_malloc(n + 4), 0};
    b.ptr[b.len++] = tag;
    if (n < 0x80) {
        b.ptr[b.len++] = (uint8_t)n;
    } else if (n < 0x100) {
        b.ptr[b.len++] = 0x81;
        b.ptr[b.len++] = (uint8_t)n;
    } else {
        b.ptr[b.len++] = 0x82;
        b.ptr[b.len++] = (uint8_t)(n >> 8);
        b.ptr[b.len++] = (uint8_t)n;
    }
    memcpy(b.ptr + b.len, p, n);
    b.len += n;
    return b;
}

/* The id-pe-cmw statement of jwt: the CBOR record in an OCTET STRING, or JSON in a UTF8String. */
static avow_buf cmw_stmt(const avow_buf *jwt, avow_cmw_form form)
{
    avow_buf c = {0};
    OK(avow_cmw_encode(form, AVOW_EAR_MEDIA_TYPE_JWT, jwt->ptr, jwt->len,
                       AVOW_CMW_IND_ATTESTATION_RESULTS, &c, NULL));
    avow_buf s = tlv(form == AVOW_CMW_FORM_JSON ? 0x0c : 0x04, c.ptr, c.len);
    avow_buf_free(&c);
    return s;
}

static avow_verifier *verifier(fx *f, const char *kid, time_t at)
{
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v));
    OK(avow_verifier_add_result_key(v, kid, f->ver, NULL));
    avow_verifier_set_time(v, at);
    return v;
}

/* Verifies stmt under the CMW (or DICE) type; returns the status, *out the result. */
static avow_err run(const avow_verifier *v, int dice, const avow_buf *stmt, const uint8_t *nonce,
                    avow_statement_result **out)
{
    avow_verify_opts o;
    avow_verify_opts_init(&o);
    o.nonce = nonce;
    o.nonce_len = nonce != NULL ? sizeof(NONCE) : 0;
    avow_statement_result *r = NULL;
    avow_err rc = avow_statement_verify(v, NULL, dice ? OID_DICE : OID_CMW,
                                        dice ? sizeof(OID_DICE) : sizeof(OID_CMW), stmt->ptr,
                                        stmt->len, &o, &r, NULL);
    assert_non_null(r);
    assert_int_equal(avow_statement_result_status(r), rc);
    if (out != NULL)
        *out = r;
    else
        avow_statement_result_free(r);
    return rc;
}

static const char *text_claim(const avow_statement_result *r, const char *name)
{
    static char buf[128];
    const avow_nclaim *c =
        avow_claimset_find(avow_statement_result_get0_claims(r), NULL, name, NULL);
    if (c == NULL)
        return NULL;
    snprintf(buf, sizeof(buf), "%.*s", (int)c->value.bytes.len, (const char *)c->value.bytes.ptr);
    return buf;
}

static void test_affirming(void **state)
{
    fx *f = *state;
    avow_buf jwt = ear_jwt(f, &f->spki, AVOW_OK, "ver-1");
    avow_verifier *v = verifier(f, "ver-1", IAT + 10);
    for (int form = AVOW_CMW_FORM_JSON; form <= AVOW_CMW_FORM_CBOR; form++) {
        avow_buf s = cmw_stmt(&jwt, (avow_cmw_form)form);
        avow_statement_result *r = NULL;
        OK(run(v, 0, &s, NULL, &r));
        assert_string_equal(avow_statement_result_type_name(r), "id-pe-cmw");
        assert_non_null(avow_statement_result_find_key(r, f->spki.ptr, f->spki.len));
        assert_string_equal(text_claim(r, "status"), "affirming");
        assert_string_equal(text_claim(r, "submod"), "pkix-evidence");
        assert_non_null(avow_claimset_find(avow_statement_result_get0_claims(r), "submod",
                                           "instance-identity", NULL));
        avow_statement_result_free(r);
        /* the expected nonce is the EAR's, or it is not */
        OK(run(v, 0, &s, NONCE, NULL));
        uint8_t other[sizeof(NONCE)];
        memcpy(other, NONCE, sizeof(other));
        other[0] ^= 1;
        assert_int_equal(run(v, 0, &s, other, NULL), AVOW_ERR_NONCE_MISMATCH);
        avow_buf_free(&s);
    }
    /* the TCG DICE wrapper around the JSON record */
    avow_buf c = {0};
    OK(avow_cmw_encode(AVOW_CMW_FORM_JSON, AVOW_EAR_MEDIA_TYPE_JWT, jwt.ptr, jwt.len, 0, &c, NULL));
    avow_buf os = tlv(0x04, c.ptr, c.len);
    avow_buf seq = tlv(0x30, os.ptr, os.len);
    avow_statement_result *r = NULL;
    OK(run(v, 1, &seq, NULL, &r));
    assert_string_equal(avow_statement_result_type_name(r), "tcg-dice-conceptual-message-wrapper");
    avow_statement_result_free(r);
    /* the DICE shape under id-pe-cmw, and a bare OCTET STRING under the DICE type: refused */
    assert_int_equal(run(v, 0, &seq, NULL, NULL), AVOW_ERR_WRONG_TAG);
    assert_int_equal(run(v, 1, &os, NULL, NULL), AVOW_ERR_WRONG_TAG);
    avow_buf_free(&c);
    avow_buf_free(&os);
    avow_buf_free(&seq);
    avow_verifier_free(v);
    avow_buf_free(&jwt);
}

static void test_refusals(void **state)
{
    fx *f = *state;
    avow_buf jwt = ear_jwt(f, &f->spki, AVOW_OK, "ver-1");
    avow_buf s = cmw_stmt(&jwt, AVOW_CMW_FORM_CBOR);

    /* a key for another kid, and the verifier's key given as an attester's key */
    avow_verifier *v = verifier(f, "ver-2", IAT + 10);
    assert_int_equal(run(v, 0, &s, NULL, NULL), AVOW_ERR_RESULT_UNTRUSTED);
    avow_verifier_free(v);
    OK(avow_verifier_new(NULL, &v));
    OK(avow_verifier_add_key(v, NULL, 0, f->ver, NULL));
    avow_verifier_set_time(v, IAT + 10);
    assert_int_equal(run(v, 0, &s, NULL, NULL), AVOW_ERR_RESULT_UNTRUSTED);
    /* a key of another type first does not hide the right one */
    OK(avow_verifier_add_result_key(v, NULL, f->other, NULL));
    assert_int_equal(run(v, 0, &s, NULL, NULL), AVOW_ERR_RESULT_UNTRUSTED);
    OK(avow_verifier_add_result_key(v, NULL, f->ver, NULL));
    OK(run(v, 0, &s, NULL, NULL));

    /* age: 300 s by default, configurable, 0 = a nonce is needed */
    avow_verifier_set_time(v, IAT + AVOW_RESULT_MAX_AGE_DEFAULT + 1);
    assert_int_equal(run(v, 0, &s, NULL, NULL), AVOW_ERR_RESULT_STALE);
    avow_verifier_set_result_max_age(v, 3600);
    OK(run(v, 0, &s, NULL, NULL));
    avow_verifier_set_result_max_age(v, 0);
    assert_int_equal(run(v, 0, &s, NULL, NULL), AVOW_ERR_RESULT_STALE);
    OK(run(v, 0, &s, NONCE, NULL));
    /* issued in the future (beyond the leeway) */
    avow_verifier_set_time(v, IAT - 3600);
    assert_int_equal(run(v, 0, &s, NONCE, NULL), AVOW_ERR_BAD_TIME);
    avow_verifier_set_time(v, IAT + 10);
    avow_verifier_set_result_max_age(v, AVOW_RESULT_MAX_AGE_DEFAULT);

    /* not affirming: still claims for the report, but refused */
    avow_buf bad = ear_jwt(f, &f->spki, AVOW_ERR_SIG_INVALID, NULL);
    avow_buf bs = cmw_stmt(&bad, AVOW_CMW_FORM_JSON);
    avow_statement_result *r = NULL;
    assert_int_equal(run(v, 0, &bs, NULL, &r), AVOW_ERR_NOT_AFFIRMING);
    assert_string_equal(text_claim(r, "status"), "contraindicated");
    avow_statement_result_free(r);

    /* alg none over the same payload */
    const char *dot = strchr((const char *)jwt.ptr, '.');
    const char *dot2 = strchr(dot + 1, '.');
    char none[4096];
    snprintf(none, sizeof(none), "eyJhbGciOiJub25lIiwidHlwIjoiZWF0K2p3dCJ9%.*s.", (int)(dot2 - dot),
             dot);
    avow_buf nj = {(uint8_t *)none, strlen(none)};
    avow_buf ns = cmw_stmt(&nj, AVOW_CMW_FORM_JSON);
    assert_int_equal(run(v, 0, &ns, NULL, NULL), AVOW_ERR_SIG_ALG);

    /* a CMW whose indicator says it is not a result */
    avow_buf c = {0};
    OK(avow_cmw_encode(AVOW_CMW_FORM_JSON, AVOW_EAR_MEDIA_TYPE_JWT, jwt.ptr, jwt.len,
                       AVOW_CMW_IND_EVIDENCE, &c, NULL));
    avow_buf es = tlv(0x0c, c.ptr, c.len);
    assert_int_equal(run(v, 0, &es, NULL, NULL), AVOW_ERR_NOT_EAR);
    /* another media type: a statement of unknown type */
    avow_buf_free(&c);
    OK(avow_cmw_encode(AVOW_CMW_FORM_JSON, "application/example", jwt.ptr, jwt.len, 0, &c, NULL));
    avow_buf us = tlv(0x0c, c.ptr, c.len);
    assert_int_equal(run(v, 0, &us, NULL, NULL), AVOW_ERR_STATEMENT_TYPE);

    avow_buf_free(&c);
    avow_buf_free(&es);
    avow_buf_free(&us);
    avow_buf_free(&ns);
    avow_buf_free(&bs);
    avow_buf_free(&bad);
    avow_verifier_free(v);
    avow_buf_free(&s);
    avow_buf_free(&jwt);
}

/* An EAR whose key is a cnf jwk (no akpub), and one whose two keys differ. */
static void test_cnf_jwk(void **state)
{
    fx *f = *state;
    avow_buf jwk = {0};
    for (int both = 0; both <= 1; both++) {
        avow_buf jwt = ear_jwt(f, both ? &f->spki : NULL, AVOW_OK, NULL);
        avow_buf payload = {0};
        OK(avow_jws_decode_unverified((const char *)jwt.ptr, jwt.len, NULL, &payload, NULL));
        json_t *o = json_loadb((const char *)payload.ptr, payload.len, 0, NULL);
        assert_non_null(o);
        OK(avow_jwk_export(both ? f->other : f->dev, &jwk, NULL));
        json_t *k = json_loadb((const char *)jwk.ptr, jwk.len, 0, NULL);
        json_object_set_new(o, "cnf", json_pack("{s:o}", "jwk", k));
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        avow_jws_sign_opts so;
        avow_jws_sign_opts_init(&so);
        so.typ = AVOW_EAR_JWT_TYP;
        avow_buf signed_jwt = {0};
        OK(avow_jws_sign(f->signer, (const uint8_t *)text, strlen(text), &so, &signed_jwt, NULL));
        free(text);
        avow_buf s = cmw_stmt(&signed_jwt, AVOW_CMW_FORM_CBOR);
        avow_verifier *v = verifier(f, NULL, IAT + 10);
        avow_statement_result *r = NULL;
        if (!both) {
            OK(run(v, 0, &s, NULL, &r));
            assert_non_null(avow_statement_result_find_key(r, f->spki.ptr, f->spki.len));
            avow_statement_result_free(r);
        } else {
            assert_int_equal(run(v, 0, &s, NULL, NULL), AVOW_ERR_MALFORMED);
        }
        avow_verifier_free(v);
        avow_buf_free(&s);
        avow_buf_free(&signed_jwt);
        avow_buf_free(&payload);
        avow_buf_free(&jwk);
        avow_buf_free(&jwt);
    }
}

/* What does not decode is still shown (found by fuzz_cmw_row: the text of a CMW that is none). */
static void test_undecodable(void **state)
{
    (void)state;
    avow_verifier *v = NULL;
    OK(avow_verifier_new(NULL, &v));
    static const uint8_t bad_json[] = {0x0c, 0x01, '['};
    static const uint8_t bad_psa[] = {0x0c, 0x2a, '[', '"', 'a', 'p', 'p', 'l', 'i', 'c', 'a',
                                      't',  'i',  'o', 'n', '/', 'p', 's', 'a', '-', 'a', 't',
                                      't',  'e',  's', 't', 'a', 't', 'i', 'o', 'n', '-', 't',
                                      'o',  'k',  'e', 'n', '"', ',', '"', 'Y', 'Q', '"', ']'};
    const avow_buf in[] = {{(uint8_t *)bad_json, sizeof(bad_json)},
                           {(uint8_t *)bad_psa, sizeof(bad_psa)}};
    for (size_t i = 0; i < 2; i++) {
        avow_statement_result *r = NULL;
        assert_int_not_equal(run(v, 0, &in[i], NULL, &r), AVOW_OK);
        avow_buf t = {0}, j = {0};
        OK(avow_statement_result_to_text(r, &t, NULL));
        OK(avow_statement_result_to_json(r, &j, NULL));
        assert_true(t.len > 0 && j.len > 0);
        avow_buf_free(&t);
        avow_buf_free(&j);
        avow_statement_result_free(r);
    }
    avow_verifier_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affirming),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cnf_jwk),
        cmocka_unit_test(test_undecodable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
