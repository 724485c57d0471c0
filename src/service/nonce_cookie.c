/*
 * The tie of an EST nonce to the client that fetched it
 * (attestation-freshness-08: "tied to the TLS session or an HTTP cookie").
 * The nonce answer sets a cookie holding the nonce and an HMAC-SHA256 of it
 * under a key only this process knows; simpleenroll takes the nonce from a
 * cookie whose MAC holds and requires the Evidence to carry that nonce. So
 * Evidence seen in transit, or a nonce learnt elsewhere, is no use to
 * another client. The key is random per process: a restart makes clients
 * fetch a new nonce (docs/serve.md).
 */
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "service/service_int.h"

#define COOKIE_NAME "avow-est-nonce"
#define MAC_LEN     16u

static int mac_of(const avow_service *s, const uint8_t *nonce, size_t len, uint8_t out[MAC_LEN])
{
    uint8_t full[32];
    size_t got = 0;
    uint8_t msg[sizeof(COOKIE_NAME) + AVOW_NONCE_MAX_LEN];
    if (len > AVOW_NONCE_MAX_LEN)
        return 0;
    memcpy(msg, COOKIE_NAME, sizeof(COOKIE_NAME)); /* with its NUL: a domain separator */
    memcpy(msg + sizeof(COOKIE_NAME), nonce, len);
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->cookie_key, sizeof(s->cookie_key), msg,
                  sizeof(COOKIE_NAME) + len, full, sizeof(full), &got) == NULL ||
        got != sizeof(full))
        return 0;
    memcpy(out, full, MAC_LEN);
    OPENSSL_cleanse(full, sizeof(full));
    return 1;
}

void svc_nonce_cookie_set(const avow_service *s, const uint8_t *nonce, size_t len, svc_resp *out)
{
    uint8_t mac[MAC_LEN];
    avow_buf n64 = {0}, m64 = {0};
    if (mac_of(s, nonce, len, mac) && avow_b64url_encode(nonce, len, &n64) == AVOW_OK &&
        avow_b64url_encode(mac, MAC_LEN, &m64) == AVOW_OK)
        snprintf(out->set_cookie, sizeof(out->set_cookie),
                 COOKIE_NAME "=%.*s.%.*s; Path=/.well-known/est/; Max-Age=%u; HttpOnly; "
                             "SameSite=Strict%s",
                 (int)n64.len, (const char *)n64.ptr, (int)m64.len, (const char *)m64.ptr,
                 s->cfg.nonce_ttl, s->cfg.plain_http ? "" : "; Secure");
    avow_buf_free(&n64);
    avow_buf_free(&m64);
}

int svc_nonce_cookie_get(const svc_req *r, avow_buf *nonce)
{
    nonce->ptr = NULL;
    nonce->len = 0;
    const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE_NAME);
    const char *dot = v != NULL ? strchr(v, '.') : NULL;
    if (dot == NULL || dot == v || (size_t)(dot - v) > 100 || strlen(dot + 1) > 40)
        return 0;
    avow_buf got = {0};
    uint8_t want[MAC_LEN];
    int ok = avow_b64url_decode(v, (size_t)(dot - v), nonce, NULL) == AVOW_OK &&
             nonce->len >= AVOW_NONCE_MIN_LEN &&
             avow_b64url_decode(dot + 1, strlen(dot + 1), &got, NULL) == AVOW_OK &&
             got.len == MAC_LEN && mac_of(r->s, nonce->ptr, nonce->len, want) &&
             CRYPTO_memcmp(want, got.ptr, MAC_LEN) == 0;
    avow_buf_free(&got);
    if (!ok)
        avow_buf_free(nonce);
    return ok;
}
