/*
 * The OAuth endpoints' state, opened once when the service starts: the
 * trusted Client Attester keys (our own first), shared secrets, the jti
 * replay set (SQLite, so it survives restarts) and the attester's signer.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/internal.h"
#include "service/oauth_int.h"

#define KEY_FILE_MAX (64u * 1024u)

/* A public key as PEM (SubjectPublicKeyInfo) or as one JWK. */
avow_err svc_public_key_load(const char *path, const char *field, EVP_PKEY **out, avow_diag *d)
{
    avow_buf raw = {0};
    avow_err err = avow_read_file(path, KEY_FILE_MAX, &raw, d);
    if (err != AVOW_OK)
        return err;
    size_t i = 0;
    while (i < raw.len && (raw.ptr[i] == ' ' || raw.ptr[i] == '\n' || raw.ptr[i] == '\r'))
        i++;
    if (i < raw.len && raw.ptr[i] == '{') {
        err = avow_jwk_import((const char *)raw.ptr, raw.len, out, d);
    } else {
        BIO *b = BIO_new_mem_buf(raw.ptr, (int)raw.len);
        *out = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (*out == NULL)
            err = avow__fail_ossl(d, AVOW_ERR_MALFORMED, field, "no PEM public key or JWK in %s",
                                  path);
    }
    avow_buf_free(&raw);
    return err;
}

static avow_err open_state(avow_service *s, svc_oauth *o, avow_diag *d)
{
    const svc_oauth_cfg *c = s->cfg.oauth;
    avow_err err = AVOW_OK;
    if (c->attester_key != NULL) {
        avow_signer_open_opts so;
        avow_signer_open_opts_init(&so);
        so.pkcs11_module = s->cfg.pkcs11_module;
        so.pin_source = s->cfg.pin_source;
        err = avow_signer_open(c->attester_key, &so, &o->own_signer, d);
        if (err != AVOW_OK)
            return err;
    }
    EVP_PKEY *own = avow_signer_get0_pubkey(svc_oauth_signer(s));
    if (own == NULL || EVP_PKEY_up_ref(own) != 1)
        return avow__fail(d, AVOW_ERR_INTERNAL, "oauth.attester_key", "no public key");
    o->keys[o->nkeys++] = own;
    for (size_t i = 0; err == AVOW_OK && i < c->nattester_keys; i++)
        if ((err = svc_public_key_load(c->attester_keys[i], "oauth.attester_keys",
                                       &o->keys[o->nkeys], d)) == AVOW_OK)
            o->nkeys++;
    for (size_t i = 0; err == AVOW_OK && i < c->nattester_secrets; i++) {
        err = avow_read_file(c->attester_secrets[i], KEY_FILE_MAX, &o->secret_bufs[i], d);
        if (err == AVOW_OK && o->secret_bufs[i].len < 32)
            err = avow__fail(d, AVOW_ERR_CONFIG, "oauth.attester_secrets",
                             "%s holds %zu bytes; a shared key needs at least 32",
                             c->attester_secrets[i], o->secret_bufs[i].len);
        o->secrets[i].key = o->secret_bufs[i].ptr;
        o->secrets[i].len = o->secret_bufs[i].len;
        o->nsecrets = i + 1;
    }
    char path[4096];
    if (err == AVOW_OK) {
        int n = c->replay_db != NULL
                    ? snprintf(path, sizeof(path), "%s", c->replay_db)
                    : snprintf(path, sizeof(path), "%s/oauth-replay.db", s->cfg.ca);
        if (n < 0 || (size_t)n >= sizeof(path))
            err = avow__fail(d, AVOW_ERR_CONFIG, "oauth.replay_db", "path too long");
    }
    if (err == AVOW_OK)
        err = avow_oauth_replay_open_sqlite(path, &o->replay, d);
    if (err == AVOW_OK)
        err = avow_oauth_key_cache_new(0, &o->key_cache, d);
    if (err == AVOW_OK) {
        /* Not the issuer itself: a PoP made for the attester must not pass at the token endpoint.
         */
        const char *base = c->attester_id != NULL ? c->attester_id : c->issuer;
        const char *tail = c->attester_id != NULL ? "" : SVC_OAUTH_ATTEST;
        size_t n = strlen(base) + strlen(tail) + 1;
        if ((o->attester_id = malloc(n)) == NULL)
            return avow__fail(d, AVOW_ERR_NOMEM, "oauth", "no memory");
        snprintf(o->attester_id, n, "%s%s", base, tail);
    }
    return err;
}

avow_err svc_oauth_setup(avow_service *s, avow_diag *d)
{
    if (s->cfg.oauth == NULL)
        return AVOW_OK;
    if ((s->oauth = calloc(1, sizeof(*s->oauth))) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "oauth", "no memory");
    return open_state(s, s->oauth, d);
}

void svc_oauth_free(avow_service *s)
{
    svc_oauth *o = s->oauth;
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->nkeys; i++)
        EVP_PKEY_free(o->keys[i]);
    for (size_t i = 0; i < o->nsecrets; i++)
        if (o->secret_bufs[i].ptr != NULL) {
            OPENSSL_cleanse(o->secret_bufs[i].ptr, o->secret_bufs[i].len);
            avow_buf_free(&o->secret_bufs[i]);
        }
    avow_oauth_replay_free(o->replay);
    avow_oauth_key_cache_free(o->key_cache);
    avow_signer_free(o->own_signer);
    free(o->attester_id);
    free(o);
    s->oauth = NULL;
}

avow_signer *svc_oauth_signer(const avow_service *s)
{
    if (s->oauth != NULL && s->oauth->own_signer != NULL)
        return s->oauth->own_signer;
    return avow_ca_get0_signer(avow_ca_dir_get0_ca(s->cd));
}

int svc_oauth_client_allowed(const avow_service *s, const char *client_id)
{
    const svc_oauth_cfg *c = s->cfg.oauth;
    if (c->nclients == 0)
        return 1;
    for (size_t i = 0; client_id != NULL && i < c->nclients; i++)
        if (strcmp(client_id, c->clients[i]) == 0)
            return 1;
    return 0;
}

void svc_oauth_verify_opts(const avow_service *s, avow_oauth_verify_opts *o)
{
    const svc_oauth_cfg *c = s->cfg.oauth;
    avow_oauth_verify_opts_init(o);
    o->audience = c->issuer;
    o->attester_keys = s->oauth->keys;
    o->nattester_keys = s->oauth->nkeys;
    o->attester_secrets = s->oauth->nsecrets > 0 ? s->oauth->secrets : NULL;
    o->nattester_secrets = s->oauth->nsecrets;
    o->leeway = c->leeway;
    o->pop_max_age = c->pop_max_age;
    o->attestation_max_age = c->attestation_max_age;
    o->challenges = avow_ca_dir_get0_store(s->cd);
    o->challenge_ttl = c->challenge_ttl;
    o->replay = s->oauth->replay;
    o->key_cache = s->oauth->key_cache;
    if (c->require_challenge)
        o->flags |= AVOW_OAUTH_REQUIRE_CHALLENGE;
    if (c->challenge_reusable)
        o->flags |= AVOW_OAUTH_CHALLENGE_REUSABLE;
    if (!c->pop_jwt)
        o->flags |= AVOW_OAUTH_NO_POP_JWT;
    if (!c->dpop_combined)
        o->flags |= AVOW_OAUTH_NO_COMBINED;
}
