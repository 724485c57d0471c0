/*
 * EAR as a JWT: the EAR's JSON in a JWS of the JOSE module (avow/jose.h),
 * typ "eat+jwt", and on the way in the EAR's own checks of the verified
 * claims (eat_profile, exp, nbf, iat). The typ and the CMW type are read as
 * media types (RFC 9110) rather than compared as strings, so that every
 * spelling a conforming sender may use is taken and nothing else is.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include <avow/cmw.h>
#include <avow/ear.h>
#include <avow/jose.h>

#include "core/internal.h"
#include "verifier/ear_int.h"

#define JWT_MAX_LEN (AVOW_EAR_MAX_SIZE * 2u)

avow_err avow_ear_sign_jwt(const avow_ear *ear, avow_signer *signer, const char *kid, avow_buf *out,
                           avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (ear == NULL || signer == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwt", "no EAR, signer or output");
    avow_buf payload = {0};
    avow_err rc = avow_ear_to_json(ear, &payload, diag);
    if (rc != AVOW_OK)
        return rc;
    avow_jws_sign_opts o = {sizeof(avow_jws_sign_opts), AVOW_EAR_JWT_TYP, kid, NULL, 0, "jwt"};
    rc = avow_jws_sign(signer, payload.ptr, payload.len, &o, out, diag);
    avow_buf_free(&payload);
    return rc;
}

/* The profiles avow reads; icase for the media type parameter, which RFC 9782 makes
 * case-insensitive (the claim is compared exactly). */
static int profile_known(const char *p, int icase)
{
    static const char *const known[] = {AVOW_EAR_PROFILE, AVOW_EAR_PROFILE_02,
                                        AVOW_EAR_PROFILE_VERAISON};
    for (size_t i = 0; p != NULL && i < sizeof(known) / sizeof(known[0]); i++)
        if ((icase ? strcasecmp(p, known[i]) : strcmp(p, known[i])) == 0)
            return 1;
    return 0;
}

/* application/eat+jwt or application/eat-jwt, eat_profile absent or known. */
static int ear_media(const avow_media_type *mt)
{
    if (!avow_media_type_is(mt, "application", "eat+jwt") &&
        !avow_media_type_is(mt, "application", "eat-jwt"))
        return 0;
    const char *prof = avow_media_type_param(mt, "eat_profile");
    return prof == NULL || profile_known(prof, 1);
}

int avow_ear_media_type_ok(const char *media, size_t len)
{
    avow_media_type *mt = NULL;
    if (media == NULL || avow_media_type_parse(media, len, &mt, NULL) != AVOW_OK)
        return 0;
    int ok = ear_media(mt);
    avow_media_type_free(mt);
    return ok;
}

int avow_ear_typ_ok(const char *typ)
{
    if (typ == NULL)
        return 1;
    /* RFC 7515 section 4.1.9: a typ without '/' means "application/" + typ (a '/' inside
     * a parameter, as in eat_profile="tag:...rats/ear#03", does not count). */
    size_t n = strlen(typ);
    const char *semi = memchr(typ, ';', n);
    const char *slash = memchr(typ, '/', semi != NULL ? (size_t)(semi - typ) : n);
    char buf[AVOW_MEDIA_TYPE_MAX_LEN + 16];
    if (slash == NULL) {
        if (n > AVOW_MEDIA_TYPE_MAX_LEN)
            return 0;
        memcpy(buf, "application/", 12);
        memcpy(buf + 12, typ, n);
        typ = buf;
        n += 12;
    }
    avow_media_type *mt = NULL;
    if (avow_media_type_parse(typ, n, &mt, NULL) != AVOW_OK)
        return 0;
    int ok = ear_media(mt) || (avow_media_type_is(mt, "application", "jwt") && mt->nparams == 0);
    avow_media_type_free(mt);
    return ok;
}

static int typ_pred(const char *typ, void *arg)
{
    (void)arg;
    return avow_ear_typ_ok(typ);
}

static avow_err check_payload(const json_t *p, time_t now, unsigned leeway, unsigned flags,
                              avow_diag *d)
{
    json_t *prof = json_object_get(p, "eat_profile");
    if (!json_is_string(prof) || !profile_known(json_string_value(prof), 0))
        return avow__fail(d, AVOW_ERR_VERSION, "jwt.payload.eat_profile",
                          "payload is not an EAR of a profile avow reads");
    unsigned jf = 0;
    if (flags & AVOW_EAR_VERIFY_IAT_NOT_FUTURE)
        jf |= AVOW__JWT_IAT_NOT_FUTURE;
    if (flags & AVOW_EAR_VERIFY_EXP_REQUIRED)
        jf |= AVOW__JWT_EXP_REQUIRED;
    return avow__jwt_check_times(p, (int64_t)now, leeway, jf, "jwt.payload", "EAR", d);
}

void avow_ear_verify_opts_init(avow_ear_verify_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_ear_verify_jws(const char *jwt, size_t len, EVP_PKEY *pub,
                             const avow_ear_verify_opts *opts, avow_jws **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    avow_ear_verify_opts none;
    avow_ear_verify_opts_init(&none);
    if (opts == NULL)
        opts = &none;
    if (opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_ear_verify_opts_init");
    if (jwt == NULL || pub == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwt", "no token, key or output");
    time_t now = opts->now != 0 ? opts->now : time(NULL);
    avow_jws_verify_opts o = {.size = sizeof(avow_jws_verify_opts)};
    o.typ_ok = typ_pred;
    o.max_len = JWT_MAX_LEN;
    o.flags = AVOW_JWS_PAYLOAD_JSON;
    o.field = "jwt";
    avow_jws *jws = NULL;
    avow_err rc = avow_jws_verify(jwt, len, pub, &o, &jws, diag);
    if (rc == AVOW_OK)
        rc = check_payload(avow__jws_get0_payload_json(jws), now, opts->leeway, opts->flags, diag);
    if (rc != AVOW_OK) {
        avow_jws_free(jws);
        return rc;
    }
    *out = jws;
    return AVOW_OK;
}

avow_err avow_ear_verify_jwt(const char *jwt, size_t len, EVP_PKEY *pub, time_t now,
                             unsigned leeway, avow_buf *payload, avow_diag *diag)
{
    if (payload != NULL) {
        payload->ptr = NULL;
        payload->len = 0;
    }
    if (jwt == NULL || pub == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "jwt", "no token or key");
    avow_ear_verify_opts o;
    avow_ear_verify_opts_init(&o);
    o.now = now;
    o.leeway = leeway;
    avow_jws *jws = NULL;
    avow_err rc = avow_ear_verify_jws(jwt, len, pub, &o, &jws, diag);
    if (rc == AVOW_OK && payload != NULL)
        avow__jws_take_payload(jws, payload);
    avow_jws_free(jws);
    return rc;
}

avow_err avow_cmw_get_ear_jwt(const avow_cmw *cmw, avow_buf *jwt, avow_diag *diag)
{
    if (jwt != NULL) {
        jwt->ptr = NULL;
        jwt->len = 0;
    }
    if (cmw == NULL || jwt == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cmw", "no CMW or output");
    if (cmw->type == NULL)
        return avow__fail(diag, AVOW_ERR_NOT_EAR, "cmw[0]",
                          "content-format %u names no EAR media type avow knows",
                          (unsigned)cmw->content_format);
    if (!avow_ear_media_type_ok(cmw->type, strlen(cmw->type)))
        return avow__fail(diag, AVOW_ERR_NOT_EAR, "cmw[0]",
                          "media type \"%.120s\" is not an EAR JWT (application/eat+jwt with an "
                          "EAR profile)",
                          cmw->type);
    if (cmw->indicator != 0 && !(cmw->indicator & AVOW_CMW_IND_ATTESTATION_RESULTS))
        return avow__fail(diag, AVOW_ERR_NOT_EAR, "cmw[2]",
                          "indicator %u does not include attestation-results",
                          (unsigned)cmw->indicator);
    if (cmw->value.len == 0 || memchr(cmw->value.ptr, 0, cmw->value.len) != NULL)
        return avow__fail(diag, AVOW_ERR_CMW, "cmw[1]", "value is not a JWT");
    jwt->ptr = OPENSSL_malloc(cmw->value.len + 1);
    if (jwt->ptr == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    memcpy(jwt->ptr, cmw->value.ptr, cmw->value.len);
    jwt->ptr[cmw->value.len] = '\0';
    jwt->len = cmw->value.len;
    return AVOW_OK;
}
