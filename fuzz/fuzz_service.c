/*
 * libFuzzer target for the parsers of `avow serve` that take outside
 * text: the base64 of EST bodies (and of Basic credentials), the
 * configuration file (its "oauth" and "wimse" members included), the users file and
 * the OAuth token request's form. The first byte picks the parser.
 * Whatever decodes must be consistent: base64 that decodes re-encodes to
 * the same characters once whitespace is dropped, and decodes from there
 * to the same bytes; a failure always names a field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "service/oauth_int.h"
#include "service/service_int.h"
#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_b64(const uint8_t *p, size_t n)
{
    avow_buf out = {0}, again = {0}, back = {0};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = svc_b64_decode(p, n, &out, &d);
    if (rc != AVOW_OK) {
        FZ_CHECK(out.ptr == NULL && d.code == rc && d.field[0] != '\0');
        return;
    }
    FZ_CHECK(svc_b64_encode(out.ptr, out.len, &again) == AVOW_OK);
    FZ_CHECK(svc_b64_decode(again.ptr, again.len, &back, &d) == AVOW_OK);
    FZ_CHECK(back.len == out.len && memcmp(back.ptr, out.ptr, out.len) == 0);
    avow_buf_free(&back);
    avow_buf_free(&again);
    avow_buf_free(&out);
}

static void fuzz_config(const uint8_t *p, size_t n)
{
    svc_config c;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = svc_config_parse((const char *)p, n, &c, &d);
    if (rc != AVOW_OK)
        FZ_CHECK(d.code == rc && d.field[0] != '\0');
    else
        FZ_CHECK(c.nanchors <= SVC_MAX_ANCHORS && c.threads >= 1 && c.body_max >= 1024);
    svc_config_free(&c);
}

static void fuzz_users(const uint8_t *p, size_t n)
{
    svc_users *u = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = svc_users_parse("fuzz", (const char *)p, n, &u, &d);
    if (rc != AVOW_OK) {
        FZ_CHECK(u == NULL && d.code == rc && d.field[0] != '\0');
        return;
    }
    /* No password check: PBKDF2 with the file's iteration counts is slow by design. */
    svc_users_free(u);
}

static void fuzz_form(const uint8_t *p, size_t n)
{
    svc_oauth_form f;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = svc_oauth_form_parse(p, n, &f, &d);
    if (rc != AVOW_OK) {
        FZ_CHECK(d.code == rc && d.field[0] != '\0');
        return;
    }
    FZ_CHECK(f.has_grant && strlen(f.grant_type) < sizeof(f.grant_type) &&
             strlen(f.client_id) < sizeof(f.client_id) && (f.has_client || f.client_id[0] == '\0'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0:
        fuzz_b64(p, n);
        break;
    case 1:
        fuzz_config(p, n);
        break;
    case 2:
        fuzz_users(p, n);
        break;
    default:
        fuzz_form(p, n);
        break;
    }
    FZ_CHECK(ERR_peek_error() == 0);
    ERR_clear_error();
    return 0;
}
