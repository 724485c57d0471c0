/*
 * libFuzzer target for the relying party's inputs: the input as a CMW (JSON
 * and CBOR records, the CBOR tag form, auto-detected and each form asked
 * for), then, when it carries an EAR JWT, verified with the fixed EAR key and
 * reported; the input as media type text and as a JOSE typ; and as a JWK set
 * with a key selected for the JWT it may wrap. What decodes must re-encode to
 * what decodes the same: a CBOR record to the very same bytes (preferred
 * serialisation has one encoding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ear(const avow_cmw *c)
{
    avow_buf jwt = {0}, rep = {0};
    avow_diag d;
    if (avow_cmw_get_ear_jwt(c, &jwt, &d) != AVOW_OK)
        return;
    FZ_CHECK(jwt.ptr != NULL && jwt.ptr[jwt.len] == '\0');
    avow_ear_verify_opts o;
    avow_ear_verify_opts_init(&o);
    o.now = FZ_NOW;
    o.flags = AVOW_EAR_VERIFY_IAT_NOT_FUTURE;
    avow_jws *jws = NULL;
    avow_err rc =
        avow_ear_verify_jws((const char *)jwt.ptr, jwt.len, fz_get()->ear_key, &o, &jws, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc == AVOW_OK) {
        rc = avow_ear_report(jws, NULL, 0, NULL, 0, 0, &rep, &d);
        FZ_CHECK(rc != AVOW_OK || fz_text_ok(&rep));
        avow_buf_free(&rep);
        (void)avow_ear_report(jws, NULL, 0, NULL, 0, AVOW_EAR_REPORT_JSON, &rep, &d);
        avow_buf_free(&rep);
        avow_jws_free(jws);
    } else {
        FZ_CHECK(jws == NULL && d.code == rc);
    }
    avow_buf h = {0}, p = {0};
    if (avow_jws_decode_unverified((const char *)jwt.ptr, jwt.len, &h, &p, &d) == AVOW_OK) {
        (void)avow_ear_report(NULL, (const char *)h.ptr, h.len, (const char *)p.ptr, p.len, 0, &rep,
                              &d);
        avow_buf_free(&rep);
    }
    avow_buf_free(&h);
    avow_buf_free(&p);
    avow_buf_free(&jwt);
}

static void cmw(const uint8_t *data, size_t size, avow_cmw_form form)
{
    avow_cmw *c = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_cmw_decode(data, size, form, &c, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(c == NULL && d.code == rc && d.field[0] != '\0');
        return;
    }
    FZ_CHECK(c->value.len > 0 && (c->type != NULL) != (c->has_content_format != 0));
    if (c->type != NULL && (c->form == AVOW_CMW_FORM_JSON || c->form == AVOW_CMW_FORM_CBOR)) {
        avow_buf enc = {0};
        FZ_CHECK(avow_cmw_encode(c->form, c->type, c->value.ptr, c->value.len, c->indicator, &enc,
                                 NULL) == AVOW_OK);
        if (c->form == AVOW_CMW_FORM_CBOR)
            FZ_CHECK(enc.len == size && memcmp(enc.ptr, data, size) == 0);
        avow_cmw *again = NULL;
        FZ_CHECK(avow_cmw_decode(enc.ptr, enc.len, c->form, &again, NULL) == AVOW_OK);
        FZ_CHECK(strcmp(again->type, c->type) == 0 && again->indicator == c->indicator &&
                 again->value.len == c->value.len &&
                 memcmp(again->value.ptr, c->value.ptr, c->value.len) == 0);
        avow_cmw_free(again);
        avow_buf_free(&enc);
    }
    check_ear(c);
    avow_cmw_free(c);
}

static void media(const uint8_t *data, size_t size)
{
    avow_media_type *mt = NULL;
    avow_diag d;
    if (avow_media_type_parse((const char *)data, size, &mt, &d) == AVOW_OK) {
        FZ_CHECK(mt->type[0] != '\0' && mt->subtype[0] != '\0' &&
                 mt->nparams <= AVOW_MEDIA_TYPE_MAX_PARAMS);
        for (size_t i = 0; i < mt->nparams; i++)
            FZ_CHECK(avow_media_type_param(mt, mt->params[i].name) == mt->params[i].value);
        avow_media_type_free(mt);
    } else {
        FZ_CHECK(mt == NULL);
    }
    char *s = malloc(size + 1);
    FZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    (void)avow_ear_typ_ok(s);
    (void)avow_ear_media_type_ok(s, size);
    free(s);
}

static void jwks(const uint8_t *data, size_t size)
{
    avow_jwks *set = NULL;
    avow_diag d;
    if (avow_jwks_parse((const char *)data, size, &set, &d) != AVOW_OK) {
        FZ_CHECK(set == NULL && ERR_peek_error() == 0);
        return;
    }
    FZ_CHECK(avow_jwks_count(set) > 0);
    static const char *const algs[] = {"ES256", "ES384", "RS256", "PS256", "EdDSA", "none"};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        EVP_PKEY *k = NULL;
        if (avow_jwks_select(set, NULL, algs[i], &k, &d) == AVOW_OK)
            FZ_CHECK(k != NULL && avow_sigalg_fits_key(avow_sigalg_by_jose_name(algs[i]), k,
                                                       AVOW_SIGALG_FIT_JOSE) == AVOW_OK);
        EVP_PKEY_free(k);
    }
    FZ_CHECK(ERR_peek_error() == 0);
    avow_jwks_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fz_get();
    cmw(data, size, AVOW_CMW_FORM_AUTO);
    cmw(data, size, AVOW_CMW_FORM_CBOR_TAG);
    if (size <= AVOW_MEDIA_TYPE_MAX_LEN + 1)
        media(data, size);
    jwks(data, size);
    ERR_clear_error();
    return 0;
}
