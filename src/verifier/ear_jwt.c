/*
 * EAR as a JWT: the EAR's JSON in a JWS of the JOSE module (avow/jose.h),
 * typ "eat-jwt", and on the way in the EAR's own checks of the verified
 * claims (eat_profile, exp, nbf).
 */
#include <string.h>
#include <time.h>

#include <jansson.h>

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

static avow_err check_payload(const json_t *p, time_t now, unsigned leeway, avow_diag *d)
{
    json_t *prof = json_object_get(p, "eat_profile");
    if (!json_is_string(prof) || (strcmp(json_string_value(prof), AVOW_EAR_PROFILE) != 0 &&
                                  strcmp(json_string_value(prof), AVOW_EAR_PROFILE_02) != 0))
        return avow__fail(d, AVOW_ERR_VERSION, "jwt.payload.eat_profile",
                          "payload is not an EAR of a profile avow reads");
    return avow__jwt_check_times(p, (int64_t)now, leeway, 0, "jwt.payload", "EAR", d);
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
    if (now == 0)
        now = time(NULL);
    /* eat-jwt, application/eat-jwt and the full media type with its eat_profile parameter. */
    static const char *const typs[] = {AVOW_EAR_JWT_TYP, AVOW_EAR_MEDIA_TYPE_JWT, NULL};
    avow_jws_verify_opts o = {.size = sizeof(avow_jws_verify_opts)};
    o.typs = typs;
    o.max_len = JWT_MAX_LEN;
    o.flags = AVOW_JWS_PAYLOAD_JSON;
    o.field = "jwt";
    avow_jws *jws = NULL;
    avow_err rc = avow_jws_verify(jwt, len, pub, &o, &jws, diag);
    if (rc == AVOW_OK)
        rc = check_payload(avow__jws_get0_payload_json(jws), now, leeway, diag);
    if (rc == AVOW_OK && payload != NULL)
        avow__jws_take_payload(jws, payload);
    avow_jws_free(jws);
    return rc;
}
