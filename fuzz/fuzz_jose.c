/*
 * libFuzzer target for the JOSE module: the input as a JWS compact
 * serialisation (verified with each fixed key, and with the key its own
 * "jwk" header carries, as DPoP does), as a JWK, and as base64url. Whatever
 * verifies or imports must be consistent: a verified JWS names a key that
 * fits its algorithm, an imported JWK exports and thumbprints, and a
 * base64url decoding re-encodes to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void verify_with(const char *jws, size_t len, EVP_PKEY *key, unsigned flags)
{
    static const char *const typs[] = {"eat-jwt", "dpop+jwt", "JWT", NULL};
    avow_jws_verify_opts o;
    avow_jws_verify_opts_init(&o);
    o.flags = flags;
    o.typs = (flags & AVOW_JWS_PAYLOAD_JSON) ? typs : NULL;
    avow_jws *j = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_jws_verify(jws, len, key, &o, &j, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(j == NULL && d.code == rc && d.field[0] != '\0');
        return;
    }
    /* Nothing but a real signature under a fixed key verifies; the jwk path may. */
    FZ_CHECK(j != NULL && avow_jws_get0_key(j) != NULL);
    FZ_CHECK(avow_sigalg_fits_key(avow_jws_alg(j), avow_jws_get0_key(j), AVOW_SIGALG_FIT_JOSE) ==
             AVOW_OK);
    FZ_CHECK(fz_text_ok(avow_jws_get0_header(j)) && fz_text_ok(avow_jws_get0_payload(j)));
    (void)avow_jws_header_string(j, "kid");
    avow_jws_free(j);
}

static void jwk(const char *text, size_t len)
{
    EVP_PKEY *k = NULL;
    avow_diag d;
    avow_err rc = avow_jwk_import(text, len, &k, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(k == NULL && d.code == rc);
        return;
    }
    avow_buf out = {0}, tp = {0};
    FZ_CHECK(avow_jwk_export(k, &out, NULL) == AVOW_OK && fz_text_ok(&out));
    EVP_PKEY *again = NULL;
    FZ_CHECK(avow_jwk_import((const char *)out.ptr, out.len, &again, NULL) == AVOW_OK);
    FZ_CHECK(EVP_PKEY_eq(k, again) == 1);
    FZ_CHECK(avow_jwk_thumbprint(k, &tp, NULL) == AVOW_OK && tp.len == 43);
    EVP_PKEY_free(again);
    EVP_PKEY_free(k);
    avow_buf_free(&out);
    avow_buf_free(&tp);
    ERR_clear_error();
}

static void b64(const char *text, size_t len)
{
    avow_buf raw = {0}, back = {0};
    if (avow_b64url_decode(text, len, &raw, NULL) != AVOW_OK)
        return;
    FZ_CHECK(avow_b64url_encode(raw.ptr, raw.len, &back) == AVOW_OK);
    FZ_CHECK(back.len == len && (len == 0 || memcmp(back.ptr, text, len) == 0));
    avow_buf_free(&raw);
    avow_buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_setup *s = fz_get();
    const char *text = (const char *)data;
    verify_with(text, size, s->ear_key, AVOW_JWS_PAYLOAD_JSON);
    verify_with(text, size, s->ak_key, 0);
    verify_with(text, size, NULL, AVOW_JWS_KEY_FROM_JWK | AVOW_JWS_PAYLOAD_JSON);
    jwk(text, size);
    b64(text, size);
    return 0;
}
