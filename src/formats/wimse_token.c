/*
 * WIMSE tokens as claims sets: the WIT (the identity server's) and the WPT
 * (the workload's), and the Workload Identifier grammar both sides check.
 * Framing and signing are the JOSE module's, through a signer, so a
 * workload key in a token signs without leaving it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/jose.h>
#include <avow/wimse.h>

#include "core/internal.h"
#include "formats/jose_int.h"
#include "formats/oauth_int.h"
#include "formats/wimse_int.h"

void avow_wimse_issue_opts_init(avow_wimse_issue_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->result = AVOW_WIMSE_RESULT_DIGEST;
}

void avow_wimse_wpt_opts_init(avow_wimse_wpt_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_wimse_request_init(avow_wimse_request *r)
{
    if (r == NULL)
        return;
    memset(r, 0, sizeof(*r));
    r->size = sizeof(*r);
}

void avow_wimse_verify_opts_init(avow_wimse_verify_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->leeway = AVOW_WIMSE_DEFAULT_LEEWAY;
    o->wit_max_ttl = AVOW_WIMSE_MAX_WIT_TTL;
    o->wpt_max_ttl = AVOW_WIMSE_MAX_WPT_TTL;
    o->max_token = AVOW_WIMSE_MAX_TOKEN;
}

/* ---- identifiers ---- */

static const char *const DEFAULT_SCHEMES[] = {"spiffe", "wimse", NULL};

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static int hexdigit(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

avow_err avow__wimse_identifier_check(const char *uri, size_t len, const char *const *schemes,
                                      const char *field, avow_buf *td, avow_diag *d)
{
    if (td != NULL) {
        td->ptr = NULL;
        td->len = 0;
    }
    if (uri == NULL)
        return avow__fail(d, AVOW_ERR_ARG, field, "no identifier");
    if (len == 0 || len > AVOW_WIMSE_MAX_URI)
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                          "an identifier is 1 to %u bytes, this one %zu", AVOW_WIMSE_MAX_URI, len);
    if (memchr(uri, '\0', len) != NULL)
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field, "the identifier holds a NUL");
    const char *colon = memchr(uri, ':', len);
    if (colon == NULL)
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field, "not a URI (no scheme)");
    size_t slen = (size_t)(colon - uri);
    int known = 0;
    for (const char *const *s = schemes != NULL ? schemes : DEFAULT_SCHEMES; *s != NULL; s++)
        if (strlen(*s) == slen && memcmp(*s, uri, slen) == 0)
            known = 1;
    if (!known)
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                          "scheme \"%.*s\" is not one accepted for workload identifiers",
                          (int)(slen > 32 ? 32 : slen), uri);
    size_t i = slen + 1;
    if (len - i < 2 || uri[i] != '/' || uri[i + 1] != '/')
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                          "no authority (\"//trust-domain\") after the scheme");
    i += 2;
    size_t tstart = i;
    int label = 0;
    for (; i < len && uri[i] != '/'; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c == '.') {
            if (label == 0)
                return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                                  "the trust domain has an empty label");
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            label++;
        } else {
            return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                              "the trust domain holds '%c' (lower-case letters, digits, '-', "
                              "'_', '.' only; no port, no userinfo)",
                              c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
    size_t tlen = i - tstart;
    if (tlen == 0 || label == 0 || tlen > 255)
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                          tlen == 0 ? "the trust domain is empty"
                                    : "the trust domain ends in '.' or is over 255 bytes");
    if (i == len)
        return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                          "no path: a trust domain alone names no workload");
    while (i < len) {
        i++; /* the '/' */
        size_t seg = i;
        while (i < len && uri[i] != '/') {
            unsigned char c = (unsigned char)uri[i];
            if (c == '%') {
                if (len - i < 3 || !hexdigit((unsigned char)uri[i + 1]) ||
                    !hexdigit((unsigned char)uri[i + 2]))
                    return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                                      "a '%%' in the path is not followed by two hex digits");
                i += 3;
                continue;
            }
            if (!unreserved(c))
                return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                                  c == '?' || c == '#'
                                      ? "the identifier has a query or fragment"
                                      : "the path holds a character outside unreserved and "
                                        "percent-encodings");
            i++;
        }
        size_t sl = i - seg;
        if (sl == 0 || (sl == 1 && uri[seg] == '.') ||
            (sl == 2 && uri[seg] == '.' && uri[seg + 1] == '.'))
            return avow__fail(d, AVOW_ERR_WIMSE_IDENTIFIER, field,
                              "the path has an empty, \".\" or \"..\" segment (or a trailing '/')");
    }
    if (td != NULL) {
        char *t = OPENSSL_strndup(uri + tstart, tlen);
        if (t == NULL)
            return avow__fail(d, AVOW_ERR_NOMEM, field, "out of memory");
        td->ptr = (uint8_t *)t;
        td->len = tlen;
    }
    return AVOW_OK;
}

avow_err avow_wimse_identifier_check(const char *uri, size_t len, const char *const *schemes,
                                     avow_buf *trust_domain, avow_diag *diag)
{
    return avow__wimse_identifier_check(uri, len, schemes, "sub", trust_domain, diag);
}

/* ---- hashes ---- */

avow_err avow__wimse_hash(const char *text, size_t len, char **out)
{
    uint8_t h[32];
    unsigned n = 0;
    *out = NULL;
    if (EVP_Digest(text, len, h, &n, EVP_sha256(), NULL) != 1 || n != sizeof(h))
        return AVOW_ERR_CRYPTO;
    *out = avow__b64url_encode(h, n);
    return *out != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
}

/* oth's value: the field value without leading and trailing spaces (and tabs), hashed. */
avow_err avow__wimse_oth_hash(const char *value, char **out)
{
    size_t a = 0, b = strlen(value);
    while (a < b && (value[a] == ' ' || value[a] == '\t'))
        a++;
    while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t'))
        b--;
    return avow__wimse_hash(value + a, b - a, out);
}

/* A header field name: an RFC 9110 token, lower-cased into *out (OPENSSL_free). */
avow_err avow__wimse_field_name(const char *name, char **out)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    size_t n = name != NULL ? strlen(name) : 0;
    *out = NULL;
    if (n == 0 || n > 128)
        return AVOW_ERR_ARG;
    char *s = OPENSSL_malloc(n + 1);
    if (s == NULL)
        return AVOW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(tchar, c) != NULL) ||
            c == '\0') {
            OPENSSL_free(s);
            return AVOW_ERR_ARG;
        }
        s[i] = (char)c;
    }
    s[n] = '\0';
    *out = s;
    return AVOW_OK;
}

/* ---- signing ---- */

const char *avow__wimse_jwk_alg(const EVP_PKEY *key)
{
    avow_sigalg alg = AVOW_SIGALG_NONE;
    if (key == NULL || avow_sigalg_for_key(key, 0, &alg) != AVOW_OK)
        return NULL;
    return avow_sigalg_jose_name(alg);
}

static int64_t now_or(int64_t t)
{
    return t != 0 ? t : (int64_t)time(NULL);
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return v == NULL || json_object_set_new(o, k, json_string(v)) == 0;
}

static avow_err sign_claims(avow_signer *signer, json_t *claims, const char *typ, const char *kid,
                            const char *field, avow_buf *out, avow_diag *d)
{
    char *text = json_dumps(claims, JSON_SORT_KEYS | JSON_COMPACT);
    if (text == NULL)
        return avow__fail(d, AVOW_ERR_ARG, field, "claims cannot be encoded (not UTF-8?)");
    avow_jws_sign_opts so;
    avow_jws_sign_opts_init(&so);
    so.typ = typ;
    so.kid = kid;
    so.field = field;
    avow_err rc = avow_jws_sign(signer, (const uint8_t *)text, strlen(text), &so, out, d);
    free(text);
    return rc;
}

avow_err avow_wimse_wit_sign(avow_signer *issuer, const char *sub, EVP_PKEY *cnf_key,
                             const char *ear_jwt, const avow_wimse_issue_opts *o, avow_buf *wit,
                             avow_diag *d)
{
    if (wit != NULL) {
        wit->ptr = NULL;
        wit->len = 0;
    }
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_wimse_issue_opts_init");
    if (issuer == NULL || wit == NULL || sub == NULL || cnf_key == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "wit", "no issuer, output, sub or cnf key");
    if (o->ttl > AVOW_WIMSE_MAX_WIT_TTL)
        return avow__fail(d, AVOW_ERR_ARG, "opts.ttl", "a WIT lives at most %u s (asked: %u)",
                          AVOW_WIMSE_MAX_WIT_TTL, o->ttl);
    if (o->result > AVOW_WIMSE_RESULT_EAR)
        return avow__fail(d, AVOW_ERR_ARG, "opts.result", "unknown result mode %u", o->result);
    avow_err rc = avow__wimse_identifier_check(sub, strlen(sub), NULL, "wit.claims.sub", NULL, d);
    if (rc != AVOW_OK)
        return rc;
    const char *alg = avow__wimse_jwk_alg(cnf_key);
    if (alg == NULL)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, "wit.claims.cnf.jwk.alg",
                          "the workload key has no JOSE signature algorithm");
    json_t *jwk = NULL;
    if ((rc = avow__jwk_to_json(cnf_key, &jwk, d)) != AVOW_OK)
        return rc;
    char *jti = NULL, *digest = NULL;
    if (o->jti == NULL && (rc = avow__oauth_random_id(&jti)) != AVOW_OK) {
        json_decref(jwk);
        return avow__fail(d, rc, "wit.claims.jti", "no random jti");
    }
    if (ear_jwt != NULL && o->result == AVOW_WIMSE_RESULT_DIGEST &&
        (rc = avow__wimse_hash(ear_jwt, strlen(ear_jwt), &digest)) != AVOW_OK) {
        json_decref(jwk);
        OPENSSL_free(jti);
        return avow__fail(d, rc, "wit.claims." AVOW_WIMSE_CLAIM_EAR_SHA256, "cannot hash the EAR");
    }
    int64_t now = now_or(o->now);
    unsigned ttl = o->ttl != 0 ? o->ttl : AVOW_WIMSE_DEFAULT_WIT_TTL;
    json_t *c = json_object(), *cnf = json_object();
    int ok = c != NULL && cnf != NULL && json_object_set_new(jwk, "alg", json_string(alg)) == 0 &&
             json_object_set_new(cnf, "jwk", jwk) == 0;
    jwk = NULL;
    ok = ok && json_object_set_new(c, "cnf", cnf) == 0;
    cnf = NULL;
    ok = ok && set_str(c, "iss", o->iss) && set_str(c, "sub", sub) &&
         set_str(c, "jti", o->jti != NULL ? o->jti : jti) &&
         json_object_set_new(c, "iat", json_integer(now)) == 0 &&
         json_object_set_new(c, "exp", json_integer(now + (int64_t)ttl)) == 0;
    if (ok && ear_jwt != NULL && o->result == AVOW_WIMSE_RESULT_EAR)
        ok = set_str(c, AVOW_WIMSE_CLAIM_EAR, ear_jwt);
    if (ok && digest != NULL)
        ok = set_str(c, AVOW_WIMSE_CLAIM_EAR_SHA256, digest);
    if (!ok)
        rc = avow__fail(d, AVOW_ERR_ARG, "wit.claims", "a claim cannot be encoded (not UTF-8?)");
    else
        rc = sign_claims(issuer, c, AVOW_WIMSE_TYP_WIT, o->kid, "wit", wit, d);
    json_decref(c);
    json_decref(cnf);
    json_decref(jwk);
    OPENSSL_free(jti);
    OPENSSL_free(digest);
    return rc;
}

avow_err avow_wimse_wpt_sign(avow_signer *workload, const avow_wimse_wpt_opts *o, avow_buf *out,
                             avow_diag *d)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (o == NULL || o->size != sizeof(*o))
        return avow__fail(d, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_wimse_wpt_opts_init");
    if (workload == NULL || out == NULL)
        return avow__fail(d, AVOW_ERR_ARG, "wpt", "no workload signer or output");
    if (o->wit == NULL || o->wit[0] == '\0')
        return avow__fail(d, AVOW_ERR_ARG, "wpt.claims.wth", "no WIT to bind the WPT to");
    if (o->aud == NULL || o->aud[0] == '\0')
        return avow__fail(d, AVOW_ERR_ARG, "wpt.claims.aud", "no aud");
    if (o->ttl > AVOW_WIMSE_MAX_WPT_TTL)
        return avow__fail(d, AVOW_ERR_ARG, "opts.ttl", "a WPT lives at most %u s (asked: %u)",
                          AVOW_WIMSE_MAX_WPT_TTL, o->ttl);
    if (o->n_other_tokens > AVOW_WIMSE_MAX_OTH ||
        (o->n_other_tokens > 0 && o->other_tokens == NULL))
        return avow__fail(d, AVOW_ERR_ARG, "wpt.claims.oth", "at most %u other tokens",
                          AVOW_WIMSE_MAX_OTH);
    int64_t now = now_or(o->now);
    unsigned ttl = o->ttl != 0 ? o->ttl : AVOW_WIMSE_DEFAULT_WPT_TTL;
    json_t *c = json_object(), *oth = NULL;
    char *jti = NULL, *h = NULL;
    avow_err rc = c != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
    if (rc == AVOW_OK && o->jti == NULL)
        rc = avow__oauth_random_id(&jti);
    int ok = rc == AVOW_OK && set_str(c, "aud", o->aud) &&
             set_str(c, "jti", o->jti != NULL ? o->jti : jti) &&
             json_object_set_new(c, "iat", json_integer(now)) == 0 &&
             json_object_set_new(c, "exp", json_integer(now + (int64_t)ttl)) == 0;
    if (ok && (rc = avow__wimse_hash(o->wit, strlen(o->wit), &h)) == AVOW_OK) {
        ok = set_str(c, "wth", h);
        OPENSSL_free(h);
        h = NULL;
    }
    if (ok && rc == AVOW_OK && o->access_token != NULL &&
        (rc = avow__wimse_hash(o->access_token, strlen(o->access_token), &h)) == AVOW_OK) {
        ok = set_str(c, "ath", h);
        OPENSSL_free(h);
        h = NULL;
    }
    if (ok && rc == AVOW_OK && o->txn_token != NULL &&
        (rc = avow__wimse_hash(o->txn_token, strlen(o->txn_token), &h)) == AVOW_OK) {
        ok = set_str(c, "tth", h);
        OPENSSL_free(h);
        h = NULL;
    }
    if (ok && rc == AVOW_OK && o->n_other_tokens > 0) {
        oth = json_object();
        ok = oth != NULL;
        for (size_t i = 0; ok && rc == AVOW_OK && i < o->n_other_tokens; i++) {
            char *name = NULL;
            if (o->other_tokens[i].value == NULL ||
                avow__wimse_field_name(o->other_tokens[i].name, &name) != AVOW_OK) {
                json_decref(c);
                json_decref(oth);
                OPENSSL_free(jti);
                return avow__fail(d, AVOW_ERR_ARG, "wpt.claims.oth",
                                  "other token %zu has no value or a bad header field name", i);
            }
            if (json_object_get(oth, name) != NULL) {
                OPENSSL_free(name);
                json_decref(c);
                json_decref(oth);
                OPENSSL_free(jti);
                return avow__fail(d, AVOW_ERR_ARG, "wpt.claims.oth",
                                  "a header field is named twice among the other tokens");
            }
            if ((rc = avow__wimse_oth_hash(o->other_tokens[i].value, &h)) == AVOW_OK)
                ok = set_str(oth, name, h);
            OPENSSL_free(h);
            h = NULL;
            OPENSSL_free(name);
        }
        ok = ok && rc == AVOW_OK && json_object_set_new(c, "oth", oth) == 0;
        oth = NULL;
    }
    if (rc != AVOW_OK)
        rc = avow__fail(d, rc, "wpt.claims", "cannot build the claims (%s)", avow_strerror(rc));
    else if (!ok)
        rc = avow__fail(d, AVOW_ERR_ARG, "wpt.claims", "a claim cannot be encoded (not UTF-8?)");
    else
        rc = sign_claims(workload, c, AVOW_WIMSE_TYP_WPT, NULL, "wpt", out, d);
    json_decref(c);
    json_decref(oth);
    OPENSSL_free(jti);
    return rc;
}
