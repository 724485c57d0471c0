/*
 * The steps the token routes share (token_front.h): the JSON body, the cnf
 * key, the PoP-bound Evidence statement, repeated headers.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/token_front.h"

const char *svc_token_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_length(v) > 0 &&
                   strlen(json_string_value(v)) == json_string_length(v)
               ? json_string_value(v)
               : NULL;
}

avow_err svc_token_body(const svc_req *r, const char *what, const char *const *keys, size_t n,
                        json_t **root, avow_diag *d)
{
    static const char *const ct[] = {"application/json"};
    *root = NULL;
    if (!svc_ctype_is(r, ct, 1))
        return avow__fail(d, AVOW_ERR_CONTENT_TYPE, "Content-Type", "want application/json");
    avow_err err = avow__json_load((const char *)r->body, r->body_len, r->s->cfg.body_max, what,
                                   "body", root, d);
    if (err != AVOW_OK)
        return err;
    if (!json_is_object(*root))
        return avow__fail(d, AVOW_ERR_MALFORMED, "body", "not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(*root, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(k, keys[i]) != 0)
            i++;
        if (i == n)
            return avow__fail(d, AVOW_ERR_MALFORMED, "body", "unknown member \"%.60s\"", k);
    }
    return AVOW_OK;
}

avow_err svc_token_cnf(json_t *root, EVP_PKEY **out, avow_diag *d)
{
    json_t *jwk = json_object_get(root, "cnf_jwk");
    const char *pem = svc_token_str(root, "cnf_key");
    if (jwk != NULL && pem != NULL)
        return avow__fail(d, AVOW_ERR_ARG, "cnf_jwk", "give cnf_jwk or cnf_key, not both");
    if (jwk != NULL) {
        if (!json_is_object(jwk))
            return avow__fail(d, AVOW_ERR_MALFORMED, "cnf_jwk", "not a JSON object");
        char *text = json_dumps(jwk, JSON_COMPACT);
        if (text == NULL)
            return avow__fail(d, AVOW_ERR_NOMEM, "cnf_jwk", "no memory");
        avow_err err = avow_jwk_import(text, strlen(text), out, d);
        free(text);
        return err;
    }
    if (pem == NULL)
        return AVOW_OK;
    BIO *b = BIO_new_mem_buf(pem, -1);
    *out = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (*out == NULL)
        return avow__fail_ossl(d, AVOW_ERR_MALFORMED, "cnf_key", "not a PEM public key");
    ERR_clear_error();
    return AVOW_OK;
}

avow_err svc_token_evidence_in(const avow_service *s, const char *pop, EVP_PKEY *cnf,
                               const avow_oauth_verify_opts *vo, avow_view der, avow_view spki,
                               svc_token_evidence *in, avow_diag *d)
{
    avow_err possession = avow_oauth_possession(pop, cnf, vo, d);
    if (possession == AVOW_ERR_STORE || possession == AVOW_ERR_STORE_BUSY)
        return possession;
    avow__strlcpy(in->why, d->detail, sizeof(in->why));
    avow_diag_clear(d);
    const avow_oid *arc = &avow_verifier_get0_profile(s->v)->evidence_arc;
    in->st.type.ptr = arc->der;
    in->st.type.len = arc->len;
    in->st.der = der;
    avow_statements_in_init(&in->sin);
    in->sin.nstatements = 1;
    in->sin.statements = &in->st;
    in->sin.key = spki;
    in->sin.possession = possession;
    in->sin.possession_detail = possession != AVOW_OK ? in->why : NULL;
    return AVOW_OK;
}

void svc_token_keep(const char **v, size_t *n, size_t max, const char *value)
{
    if (*n < max)
        v[(*n)++] = value;
}
