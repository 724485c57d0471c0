/*
 * TLS client-certificate authentication of enrolling clients. GnuTLS (in
 * libmicrohttpd) asks for a certificate when the configuration names
 * est.client_ca, but does not judge it; here OpenSSL does, as everywhere
 * else in avow: the peer's chain as GnuTLS received it, verified against
 * the client CA file with the TLS-client purpose at the current time.
 */
#include <string.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "core/internal.h"
#include "service/service_int.h"

#define PEER_CHAIN_MAX 8u

int svc_tls_client_ok(svc_req *r, avow_diag *d)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL) {
        avow__fail(d, AVOW_ERR_AUTH, "tls", "not a TLS connection");
        return 0;
    }
    gnutls_session_t session = (gnutls_session_t)ci->tls_session;
    unsigned n = 0;
    const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);
    if (peers == NULL || n == 0) {
        avow__fail(d, AVOW_ERR_AUTH, "tls", "no client certificate");
        return 0;
    }
    if (n > PEER_CHAIN_MAX)
        n = PEER_CHAIN_MAX;
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    int ok = chain != NULL;
    for (unsigned i = 0; ok && i < n; i++) {
        const unsigned char *p = peers[i].data;
        X509 *c = d2i_X509(NULL, &p, (long)peers[i].size);
        if (c == NULL || p != peers[i].data + peers[i].size) {
            X509_free(c);
            ok = 0;
        } else if (i == 0) {
            leaf = c;
        } else if (!sk_X509_push(chain, c)) {
            X509_free(c);
            ok = 0;
        }
    }
    X509_STORE_CTX *ctx = ok ? X509_STORE_CTX_new() : NULL;
    if (ctx != NULL && X509_STORE_CTX_init(ctx, r->s->client_store, leaf, chain) == 1 &&
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
        X509_verify_cert(ctx) == 1) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, r->user,
                                  (int)sizeof(r->user));
        ok = 1;
    } else {
        int e = ctx != NULL ? X509_STORE_CTX_get_error(ctx) : X509_V_ERR_UNSPECIFIED;
        avow__fail(d, AVOW_ERR_AUTH, "tls", "client certificate refused: %s",
                   ok ? X509_verify_cert_error_string(e) : "not DER");
        ok = 0;
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    ERR_clear_error();
    return ok;
}
