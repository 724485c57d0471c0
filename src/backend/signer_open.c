/*
 * A signer from a reference: the one place that tells a key file from a
 * pkcs11: URI and opens either, so that every command, the CA and the
 * service take keys the same way. Token keys go through the public
 * avow_p11_* calls only, so this file builds with PKCS#11 on or off.
 */
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/pkcs11.h>
#include <avow/signer.h>

#include "core/internal.h"

/* Far above any private key file (an RSA-16384 PEM is about 13 KiB). */
#define KEY_FILE_MAX (1024u * 1024u)

void avow_signer_open_opts_init(avow_signer_open_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->alg = AVOW_SIGALG_NONE;
}

static avow_err pick_alg(EVP_PKEY *pub, const avow_signer_open_opts *o, const char *field,
                         avow_sigalg *alg, avow_diag *diag)
{
    *alg = o->alg;
    if (*alg != AVOW_SIGALG_NONE)
        return AVOW_OK;
    avow_err rc = avow_sigalg_for_key(pub, o->pss, alg);
    if (rc != AVOW_OK)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, field,
                          "no signature algorithm for this key type");
    return AVOW_OK;
}

static avow_err open_file(const char *path, const avow_signer_open_opts *o, avow_signer **out,
                          avow_diag *diag)
{
    avow_buf raw = {0};
    avow_err rc = avow_read_file(path, KEY_FILE_MAX, &raw, diag);
    if (rc != AVOW_OK)
        return rc;
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    const unsigned char *p = raw.ptr;
    size_t len = raw.len;
    int ok = dctx != NULL && OSSL_DECODER_from_data(dctx, &p, &len) == 1 && pkey != NULL;
    OSSL_DECODER_CTX_free(dctx);
    avow_buf_free(&raw); /* cleansed: it held the private key */
    if (!ok) {
        EVP_PKEY_free(pkey);
        return avow__fail_ossl(diag, AVOW_ERR_MALFORMED, path,
                               "no unencrypted private key in PEM or DER");
    }
    /* The decoders try every format in turn and queue the failures of the others. */
    avow__ossl_clear();
    avow_sigalg alg = AVOW_SIGALG_NONE;
    rc = pick_alg(pkey, o, path, &alg, diag);
    if (rc == AVOW_OK && (rc = avow_signer_new_pkey(pkey, alg, out, diag)) != AVOW_OK)
        avow__fail(diag, rc, path, "cannot sign with this key as %s",
                   avow_sigalg_name(alg) != NULL ? avow_sigalg_name(alg) : "asked");
    EVP_PKEY_free(pkey);
    return rc;
}

/* The token's certificate for the key, when it has one; its absence is no error. */
static avow_err token_cert(avow_p11_session *s, avow_p11_handle key, avow_signer *sg,
                           avow_diag *diag)
{
    X509 *cert = NULL;
    avow_diag tmp;
    avow_diag_clear(&tmp);
    avow_err rc = avow_p11_get1_cert(s, key, &cert, &tmp);
    if (rc == AVOW_ERR_NOT_FOUND)
        return AVOW_OK;
    if (rc != AVOW_OK) {
        if (diag != NULL)
            *diag = tmp;
        return rc;
    }
    rc = avow_signer_set1_cert(sg, cert, NULL);
    X509_free(cert);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "certificate",
                          "the token's certificate with the key's CKA_ID is for another key");
    return AVOW_OK;
}

static avow_err open_token(const char *uri, const avow_signer_open_opts *o, avow_signer **out,
                           avow_diag *diag)
{
    avow_p11_session *s = NULL;
    avow_p11_handle key = 0;
    EVP_PKEY *pub = NULL;
    avow_sigalg alg = o->alg;
    avow_err rc = avow_p11_open(o->pkcs11_module, uri, o->pin_source, AVOW_P11_LOGIN, &s, diag);
    if (rc == AVOW_OK)
        rc = avow_p11_find_key(s, uri, &key, diag);
    /* Only PSS needs the key type up front; the signer picks every other default itself. */
    if (rc == AVOW_OK && alg == AVOW_SIGALG_NONE && o->pss) {
        rc = avow_p11_get1_pubkey(s, key, &pub, diag);
        if (rc == AVOW_OK)
            rc = pick_alg(pub, o, "key", &alg, diag);
    }
    if (rc == AVOW_OK)
        rc = avow_p11_signer_new(s, key, alg, out, diag);
    if (rc == AVOW_OK && (o->flags & AVOW_SIGNER_OPEN_TOKEN_CERT) &&
        (rc = token_cert(s, key, *out, diag)) != AVOW_OK) {
        avow_signer_free(*out);
        *out = NULL;
    }
    EVP_PKEY_free(pub);
    avow_p11_session_free(s); /* the signer keeps its own reference */
    return rc;
}

avow_err avow_signer_open(const char *ref, const avow_signer_open_opts *o, avow_signer **out,
                          avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (ref == NULL || ref[0] == '\0' || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "key", "no key or no output");
    avow_signer_open_opts none;
    avow_signer_open_opts_init(&none);
    if (o == NULL)
        o = &none;
    if (o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_signer_open_opts_init");
    if ((o->flags & ~(unsigned)AVOW_SIGNER_OPEN_TOKEN_CERT) != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "opts.flags", "unknown flags 0x%x", o->flags);
    if (o->alg != AVOW_SIGALG_NONE && avow_sigalg_info(o->alg) == NULL)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "opts.alg", "algorithm %d is not in the table",
                          (int)o->alg);
    /* p11-kit takes the scheme in lower case only, so that is what names a token key. */
    if (strncmp(ref, "pkcs11:", 7) == 0)
        return open_token(ref, o, out, diag);
    return open_file(ref, o, out, diag);
}
