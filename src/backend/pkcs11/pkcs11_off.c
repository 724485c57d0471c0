/*
 * avow/pkcs11.h in a library built with AVOW_WITH_PKCS11=OFF: compiled
 * instead of the real back end and of the PKCS#11 claim source, so the
 * API (and a program linked against it) stays the same while p11-kit is
 * neither needed nor linked. Every call says why it cannot work; out
 * parameters are cleared so the callers' clean-up paths stay the same.
 * avow_p11_uri_redact and avow_p11_keygen_params_init live in
 * pkcs11_common.c, which every build has.
 */
#include <stddef.h>

#include <avow/pkcs11.h>

#include "core/internal.h"

static avow_err off(avow_diag *diag)
{
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "pkcs11",
                      "avow was built without PKCS#11 (AVOW_WITH_PKCS11=OFF)");
}

#define CLEAR(p, v)                                                                                \
    do {                                                                                           \
        if ((p) != NULL)                                                                           \
            *(p) = (v);                                                                            \
    } while (0)

avow_err avow_p11_module_load(const char *module, avow_p11_module **out, avow_diag *diag)
{
    (void)module;
    CLEAR(out, NULL);
    return off(diag);
}

void avow_p11_module_free(avow_p11_module *m)
{
    (void)m;
}

avow_err avow_p11_session_open(avow_p11_module *m, const char *uri, unsigned flags,
                               avow_p11_session **out, avow_diag *diag)
{
    (void)m;
    (void)uri;
    (void)flags;
    CLEAR(out, NULL);
    return off(diag);
}

void avow_p11_session_free(avow_p11_session *s)
{
    (void)s;
}

avow_err avow_p11_login(avow_p11_session *s, const char *pin, avow_diag *diag)
{
    (void)s;
    (void)pin;
    return off(diag);
}

avow_err avow_p11_pin_resolve(const char *uri, const char *spec, avow_buf *pin, avow_diag *diag)
{
    (void)uri;
    (void)spec;
    if (pin != NULL) {
        pin->ptr = NULL;
        pin->len = 0;
    }
    return off(diag);
}

avow_err avow_p11_open(const char *module, const char *uri, const char *pin_spec, unsigned flags,
                       avow_p11_session **out, avow_diag *diag)
{
    (void)module;
    (void)uri;
    (void)pin_spec;
    (void)flags;
    CLEAR(out, NULL);
    return off(diag);
}

avow_err avow_p11_uri_get_object(const char *uri, avow_buf *label, avow_buf *id, avow_diag *diag)
{
    (void)uri;
    avow_buf *b[2] = {label, id};
    for (int i = 0; i < 2; i++) {
        if (b[i] != NULL) {
            b[i]->ptr = NULL;
            b[i]->len = 0;
        }
    }
    return off(diag);
}

avow_err avow_p11_uri_format_object(const char *token_uri, const char *label, const uint8_t *id,
                                    size_t id_len, avow_buf *out, avow_diag *diag)
{
    (void)token_uri;
    (void)label;
    (void)id;
    (void)id_len;
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    return off(diag);
}

avow_err avow_p11_find_object(avow_p11_session *s, const char *uri, uint64_t default_class,
                              avow_p11_handle *out, avow_diag *diag)
{
    (void)s;
    (void)uri;
    (void)default_class;
    CLEAR(out, 0);
    return off(diag);
}

avow_err avow_p11_find_key(avow_p11_session *s, const char *uri, avow_p11_handle *out,
                           avow_diag *diag)
{
    return avow_p11_find_object(s, uri, 3 /* CKO_PRIVATE_KEY */, out, diag);
}

avow_err avow_p11_get1_pubkey(avow_p11_session *s, avow_p11_handle key, EVP_PKEY **out,
                              avow_diag *diag)
{
    (void)s;
    (void)key;
    CLEAR(out, NULL);
    return off(diag);
}

avow_err avow_p11_get1_cert(avow_p11_session *s, avow_p11_handle key, X509 **out, avow_diag *diag)
{
    (void)s;
    (void)key;
    CLEAR(out, NULL);
    return off(diag);
}

avow_err avow_p11_add_platform_claims(avow_p11_session *s, avow_evidence *ev, size_t element,
                                      avow_diag *diag)
{
    (void)s;
    (void)ev;
    (void)element;
    return off(diag);
}

avow_err avow_p11_add_key_claims(avow_p11_session *s, avow_p11_handle key, avow_evidence *ev,
                                 size_t *index, avow_diag *diag)
{
    (void)s;
    (void)key;
    (void)ev;
    (void)index;
    return off(diag);
}

avow_err avow_p11_add_key_claims_uri(avow_p11_session *s, const char *uri, avow_evidence *ev,
                                     size_t *index, avow_diag *diag)
{
    (void)s;
    (void)uri;
    (void)ev;
    (void)index;
    return off(diag);
}

avow_err avow_p11_signer_new(avow_p11_session *s, avow_p11_handle key, avow_sigalg alg,
                             avow_signer **out, avow_diag *diag)
{
    (void)s;
    (void)key;
    (void)alg;
    CLEAR(out, NULL);
    return off(diag);
}

avow_err avow_p11_keygen(avow_p11_session *s, const avow_p11_keygen_params *p,
                         avow_p11_handle *priv, avow_p11_handle *pub, avow_diag *diag)
{
    (void)s;
    (void)p;
    CLEAR(priv, 0);
    CLEAR(pub, 0);
    return off(diag);
}
