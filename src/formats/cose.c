/*
 * COSE_Sign1 and COSE_Mac0 (RFC 9052): strict decoding over the CBOR walk
 * and libcbor, the to-be-signed structures, verification and signing
 * through OpenSSL. The key decides what may verify: a public key only a
 * signature of its own type and curve, a secret only an HMAC.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>

#include <avow/cose.h>
#include <avow/sigalg.h>

#include "core/internal.h"
#include "formats/cbor_strict.h"

struct avow_cose_msg {
    cbor_item_t *root;
    cbor_item_t *prot_map; /* the decoded protected header; NULL when empty */
    avow_cose_kind kind;
    int tagged;
    int64_t alg;
    avow_view prot, payload, sig, kid;
};

#define H_ALG  1
#define H_CRIT 2
#define H_CTY  3
#define H_KID  4

const char *avow_cose_alg_name(int64_t alg)
{
    switch (alg) {
    case AVOW_COSE_ES256:
        return "ES256";
    case AVOW_COSE_ES384:
        return "ES384";
    case AVOW_COSE_ES512:
        return "ES512";
    case AVOW_COSE_EDDSA:
        return "EdDSA";
    case AVOW_COSE_HMAC256:
        return "HMAC 256/256";
    case AVOW_COSE_HMAC384:
        return "HMAC 384/384";
    case AVOW_COSE_HMAC512:
        return "HMAC 512/512";
    default:
        return NULL;
    }
}

static avow_view bstr_view(const cbor_item_t *it)
{
    avow_view v = {cbor_bytestring_handle(it), cbor_bytestring_length(it)};
    return v;
}

/* An integer label's value; 0 for a text label (or one that does not fit). */
static int label_int(const cbor_item_t *k, int64_t *v)
{
    return avow__cbor_int(k, v);
}

static int label_ok(const cbor_item_t *k)
{
    return cbor_is_int(k) || (cbor_isa_string(k) && cbor_string_is_definite(k));
}

/* Whether a text or integer label is in a header map. */
static int map_has_label(const cbor_item_t *map, const cbor_item_t *label)
{
    if (map == NULL)
        return 0;
    struct cbor_pair *pr = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        const cbor_item_t *k = pr[i].key;
        int64_t a, b;
        if (label_int(k, &a) && label_int(label, &b) && a == b)
            return 1;
        if (cbor_isa_string(k) && cbor_isa_string(label) &&
            cbor_string_length(k) == cbor_string_length(label) &&
            memcmp(cbor_string_handle(k), cbor_string_handle(label), cbor_string_length(k)) == 0)
            return 1;
    }
    return 0;
}

/* Checks one header bucket; prot 1 for the protected one. */
static avow_err check_headers(avow_cose_msg *m, const cbor_item_t *map, int prot,
                              const cbor_item_t *other, avow_diag *d)
{
    const char *b = prot ? "cose.protected" : "cose.unprotected";
    char f[64];
    struct cbor_pair *pr = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        const cbor_item_t *k = pr[i].key, *v = pr[i].value;
        if (!label_ok(k))
            return avow__fail(d, AVOW_ERR_COSE, b, "header label %zu is not an integer or text", i);
        if (map_has_label(other, k))
            return avow__fail(d, AVOW_ERR_COSE, b,
                              "header label %zu is in both the protected and unprotected bucket",
                              i);
        int64_t l;
        if (!label_int(k, &l))
            continue; /* text labels: private, ignored unless critical */
        switch (l) {
        case H_ALG:
            snprintf(f, sizeof(f), "%s.alg", b);
            if (!prot)
                return avow__fail(d, AVOW_ERR_COSE, f,
                                  "alg must be protected (covered by the signature)");
            if (cbor_isa_string(v))
                return avow__fail(d, AVOW_ERR_UNSUPPORTED, f, "text algorithm names");
            if (!avow__cbor_int(v, &m->alg))
                return avow__fail(d, AVOW_ERR_COSE, f, "alg is not an integer");
            break;
        case H_CRIT: {
            snprintf(f, sizeof(f), "%s.crit", b);
            if (!prot)
                return avow__fail(d, AVOW_ERR_COSE, f, "crit must be protected");
            if (!cbor_isa_array(v) || cbor_array_size(v) == 0)
                return avow__fail(d, AVOW_ERR_COSE, f, "crit is not a non-empty array");
            cbor_item_t **a = cbor_array_handle(v);
            for (size_t j = 0; j < cbor_array_size(v); j++) {
                int64_t c;
                /* Only the labels this module interprets can be critical to it. */
                if (!label_int(a[j], &c) || c < H_ALG || c > H_KID || c == H_CRIT)
                    return avow__fail(d, AVOW_ERR_COSE, f,
                                      "critical header %zu is not one avow understands", j);
                if (!map_has_label(map, a[j]))
                    return avow__fail(d, AVOW_ERR_COSE, f, "critical header %zu is absent", j);
            }
            break;
        }
        case H_CTY:
            snprintf(f, sizeof(f), "%s.content_type", b);
            if (!cbor_isa_uint(v) && !cbor_isa_string(v))
                return avow__fail(d, AVOW_ERR_COSE, f, "content type is not a uint or text");
            break;
        case H_KID:
            snprintf(f, sizeof(f), "%s.kid", b);
            if (!cbor_isa_bytestring(v))
                return avow__fail(d, AVOW_ERR_COSE, f, "kid is not a byte string");
            m->kid = bstr_view(v);
            break;
        default:
            break; /* x5chain and others: not used to find keys, ignored */
        }
    }
    return AVOW_OK;
}

avow_err avow_cose_decode(const uint8_t *in, size_t len, avow_cose_kind kind, unsigned flags,
                          avow_cose_msg **out, avow_diag *d)
{
    if (out == NULL || (in == NULL && len > 0))
        return avow__fail(d, AVOW_ERR_ARG, "cose", "no input or output");
    *out = NULL;
    if (kind != AVOW_COSE_ANY && kind != AVOW_COSE_SIGN1 && kind != AVOW_COSE_MAC0)
        return avow__fail(d, AVOW_ERR_ARG, "kind", "not a COSE kind avow reads");
    if ((flags & AVOW_COSE_TAGGED) && (flags & AVOW_COSE_UNTAGGED))
        return avow__fail(d, AVOW_ERR_ARG, "flags", "tagged and untagged at once");
    if (len > AVOW_COSE_MAX_SIZE)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, "cose", "%zu bytes; at most %u", len,
                          AVOW_COSE_MAX_SIZE);
    unsigned cf = (flags & AVOW_COSE_NON_PREFERRED) ? AVOW__CBOR_NON_PREFERRED : 0;
    avow_cose_msg *m = OPENSSL_zalloc(sizeof(*m));
    if (m == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "cose", "out of memory");
    /* The tag is read here: libcbor 0.8 refuses tags 16 to 23 written in the head byte
     * (0xd0..0xd7), which are exactly COSE's. The walk checks the whole input first. */
    avow_err rc = avow__cbor_check(in, len, cf, "cose", d);
    if (rc != AVOW_OK)
        goto fail;
    unsigned major;
    uint64_t t;
    size_t hlen = 0;
    if (!avow__cbor_head_read(in, len, &major, &t, &hlen)) {
        rc = avow__fail(d, AVOW_ERR_CBOR, "cose", "no CBOR head");
        goto fail;
    }
    if (major == 6) {
        if (t != AVOW_COSE_SIGN1 && t != AVOW_COSE_MAC0) {
            rc = avow__fail(d, AVOW_ERR_COSE, "cose.tag", "tag %llu is not COSE_Sign1 or Mac0",
                            (unsigned long long)t);
            goto fail;
        }
        if (flags & AVOW_COSE_UNTAGGED) {
            rc = avow__fail(d, AVOW_ERR_COSE, "cose.tag", "the message must be untagged");
            goto fail;
        }
        if (kind != AVOW_COSE_ANY && (uint64_t)kind != t) {
            rc = avow__fail(d, AVOW_ERR_COSE, "cose.tag", "tag %llu where %s was expected",
                            (unsigned long long)t, kind == AVOW_COSE_SIGN1 ? "Sign1" : "Mac0");
            goto fail;
        }
        m->kind = (avow_cose_kind)t;
        m->tagged = 1;
    } else {
        hlen = 0;
        if (flags & AVOW_COSE_TAGGED) {
            rc = avow__fail(d, AVOW_ERR_COSE, "cose.tag", "the message must carry its tag");
            goto fail;
        }
        if (kind == AVOW_COSE_ANY) {
            rc = avow__fail(d, AVOW_ERR_COSE, "cose.tag",
                            "an untagged message is neither Sign1 nor Mac0 by itself");
            goto fail;
        }
        m->kind = kind;
    }
    if ((rc = avow__cbor_load(in + hlen, len - hlen, cf, "cose", &m->root, d)) != AVOW_OK)
        goto fail;
    const cbor_item_t *arr = m->root;
    if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4) {
        rc = avow__fail(d, AVOW_ERR_COSE, "cose", "not an array of four items");
        goto fail;
    }
    cbor_item_t **a = cbor_array_handle(arr);
    if (!cbor_isa_bytestring(a[0])) {
        rc = avow__fail(d, AVOW_ERR_COSE, "cose.protected", "not a byte string");
        goto fail;
    }
    if (!cbor_isa_map(a[1])) {
        rc = avow__fail(d, AVOW_ERR_COSE, "cose.unprotected", "not a map");
        goto fail;
    }
    if (cbor_is_null(a[2])) {
        rc = avow__fail(d, AVOW_ERR_UNSUPPORTED, "cose.payload", "detached payload");
        goto fail;
    }
    if (!cbor_isa_bytestring(a[2])) {
        rc = avow__fail(d, AVOW_ERR_COSE, "cose.payload", "not a byte string");
        goto fail;
    }
    if (!cbor_isa_bytestring(a[3])) {
        rc = avow__fail(d, AVOW_ERR_COSE,
                        m->kind == AVOW_COSE_SIGN1 ? "cose.signature" : "cose.tag_value",
                        "not a byte string");
        goto fail;
    }
    m->prot = bstr_view(a[0]);
    m->payload = bstr_view(a[2]);
    m->sig = bstr_view(a[3]);
    if (m->prot.len > 0) {
        rc = avow__cbor_load(m->prot.ptr, m->prot.len, cf, "cose.protected", &m->prot_map, d);
        if (rc != AVOW_OK)
            goto fail;
        if (!cbor_isa_map(m->prot_map)) {
            rc = avow__fail(d, AVOW_ERR_COSE, "cose.protected", "not a map");
            goto fail;
        }
    }
    int have_alg = 0;
    if (m->prot_map != NULL) {
        if ((rc = check_headers(m, m->prot_map, 1, a[1], d)) != AVOW_OK)
            goto fail;
        struct cbor_pair *pr = cbor_map_handle(m->prot_map);
        for (size_t i = 0; i < cbor_map_size(m->prot_map); i++) {
            int64_t l;
            if (label_int(pr[i].key, &l) && l == H_ALG)
                have_alg = 1;
        }
    }
    if ((rc = check_headers(m, a[1], 0, m->prot_map, d)) != AVOW_OK)
        goto fail;
    if (!have_alg) {
        rc = avow__fail(d, AVOW_ERR_COSE, "cose.protected.alg", "no protected alg");
        goto fail;
    }
    *out = m;
    return AVOW_OK;
fail:
    avow_cose_msg_free(m);
    return rc;
}

void avow_cose_msg_free(avow_cose_msg *m)
{
    if (m == NULL)
        return;
    if (m->root != NULL)
        cbor_decref(&m->root);
    if (m->prot_map != NULL)
        cbor_decref(&m->prot_map);
    OPENSSL_free(m);
}

avow_cose_kind avow_cose_msg_kind(const avow_cose_msg *m)
{
    return m != NULL ? m->kind : AVOW_COSE_ANY;
}

int avow_cose_msg_tagged(const avow_cose_msg *m)
{
    return m != NULL && m->tagged;
}

int64_t avow_cose_msg_alg(const avow_cose_msg *m)
{
    return m != NULL ? m->alg : 0;
}

avow_view avow_cose_msg_payload(const avow_cose_msg *m)
{
    avow_view none = {NULL, 0};
    return m != NULL ? m->payload : none;
}

avow_view avow_cose_msg_protected(const avow_cose_msg *m)
{
    avow_view none = {NULL, 0};
    return m != NULL ? m->prot : none;
}

avow_view avow_cose_msg_signature(const avow_cose_msg *m)
{
    avow_view none = {NULL, 0};
    return m != NULL ? m->sig : none;
}

avow_view avow_cose_msg_kid(const avow_cose_msg *m)
{
    avow_view none = {NULL, 0};
    return m != NULL ? m->kid : none;
}

avow_err avow_cose_tbs(avow_cose_kind kind, const uint8_t *prot, size_t prot_len,
                       const uint8_t *aad, size_t aad_len, const uint8_t *payload,
                       size_t payload_len, avow_buf *out)
{
    if (out == NULL || (kind != AVOW_COSE_SIGN1 && kind != AVOW_COSE_MAC0) ||
        (prot == NULL && prot_len > 0) || (aad == NULL && aad_len > 0) ||
        (payload == NULL && payload_len > 0))
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    const char *ctx = kind == AVOW_COSE_SIGN1 ? "Signature1" : "MAC0";
    size_t clen = strlen(ctx);
    if (prot_len > SIZE_MAX / 4 || aad_len > SIZE_MAX / 4 || payload_len > SIZE_MAX / 4)
        return AVOW_ERR_TOO_LARGE;
    size_t cap = 1 + 9 + clen + 9 + prot_len + 9 + aad_len + 9 + payload_len;
    uint8_t *b = OPENSSL_malloc(cap);
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    size_t n = 0;
    /* [context, body_protected, external_aad, payload] (RFC 9052 4.4 and 6.3). */
    avow__cbor_head(b, &n, 4, 4);
    avow__cbor_head(b, &n, 3, clen);
    memcpy(b + n, ctx, clen);
    n += clen;
    avow__cbor_head(b, &n, 2, prot_len);
    if (prot_len > 0)
        memcpy(b + n, prot, prot_len);
    n += prot_len;
    avow__cbor_head(b, &n, 2, aad_len);
    if (aad_len > 0)
        memcpy(b + n, aad, aad_len);
    n += aad_len;
    avow__cbor_head(b, &n, 2, payload_len);
    if (payload_len > 0)
        memcpy(b + n, payload, payload_len);
    n += payload_len;
    out->ptr = b;
    out->len = n;
    return AVOW_OK;
}

/* The avow algorithm and the size of r and s for a COSE signature alg; 0 when none. */
static int sign_alg(int64_t alg, avow_sigalg *sa, size_t *n)
{
    switch (alg) {
    case AVOW_COSE_ES256:
        *sa = AVOW_SIGALG_ECDSA_SHA256, *n = 32;
        return 1;
    case AVOW_COSE_ES384:
        *sa = AVOW_SIGALG_ECDSA_SHA384, *n = 48;
        return 1;
    case AVOW_COSE_ES512:
        *sa = AVOW_SIGALG_ECDSA_SHA512, *n = 66;
        return 1;
    case AVOW_COSE_EDDSA:
        *sa = AVOW_SIGALG_ED25519, *n = 0;
        return 1;
    default:
        return 0;
    }
}

static const EVP_MD *mac_md(int64_t alg)
{
    switch (alg) {
    case AVOW_COSE_HMAC256:
        return EVP_sha256();
    case AVOW_COSE_HMAC384:
        return EVP_sha384();
    case AVOW_COSE_HMAC512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* Raw r||s (2n bytes) to a DER ECDSA-Sig-Value. */
static avow_err raw_to_der(const uint8_t *raw, size_t n, avow_buf *der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)n, NULL), *s = BN_bin2bn(raw + n, (int)n, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return AVOW_ERR_NOMEM;
    }
    der->ptr = NULL;
    int len = i2d_ECDSA_SIG(sig, &der->ptr);
    ECDSA_SIG_free(sig);
    if (len <= 0)
        return AVOW_ERR_NOMEM;
    der->len = (size_t)len;
    return AVOW_OK;
}

/* DER ECDSA-Sig-Value to raw r||s of 2n bytes. */
static avow_err der_to_raw(const avow_buf *der, size_t n, avow_buf *raw)
{
    const uint8_t *p = der->ptr;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der->len);
    if (sig == NULL)
        return AVOW_ERR_CRYPTO;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    raw->ptr = OPENSSL_malloc(2 * n);
    avow_err rc = AVOW_OK;
    if (raw->ptr == NULL)
        rc = AVOW_ERR_NOMEM;
    else if (BN_bn2binpad(r, raw->ptr, (int)n) != (int)n ||
             BN_bn2binpad(s, raw->ptr + n, (int)n) != (int)n)
        rc = AVOW_ERR_CRYPTO;
    ECDSA_SIG_free(sig);
    if (rc != AVOW_OK) {
        OPENSSL_free(raw->ptr);
        raw->ptr = NULL;
        return rc;
    }
    raw->len = 2 * n;
    return AVOW_OK;
}

avow_err avow_cose_verify_sign1(const avow_cose_msg *m, EVP_PKEY *pub, const uint8_t *aad,
                                size_t aad_len, avow_diag *d)
{
    if (m == NULL || pub == NULL || (aad == NULL && aad_len > 0))
        return avow__fail(d, AVOW_ERR_ARG, "cose", "no message or key");
    if (m->kind != AVOW_COSE_SIGN1)
        return avow__fail(d, AVOW_ERR_COSE_ALG, "cose.protected.alg",
                          "a COSE_Mac0 is not verified with a public key");
    avow_sigalg sa;
    size_t n;
    if (!sign_alg(m->alg, &sa, &n))
        return avow__fail(d, AVOW_ERR_COSE_ALG, "cose.protected.alg",
                          "alg %lld is not a signature algorithm avow verifies", (long long)m->alg);
    avow_err rc = avow_sigalg_fits_key(sa, pub, AVOW_SIGALG_FIT_JOSE);
    if (rc != AVOW_OK)
        return avow__fail(d, rc == AVOW_ERR_ALG_MISMATCH ? rc : AVOW_ERR_ALG_MISMATCH,
                          "cose.protected.alg", "%s does not fit the key",
                          avow_cose_alg_name(m->alg));
    size_t want = n > 0 ? 2 * n : 64;
    if (m->sig.len != want)
        return avow__fail(d, AVOW_ERR_SIG_INVALID, "cose.signature",
                          "%zu bytes; %s signatures are %zu", m->sig.len,
                          avow_cose_alg_name(m->alg), want);
    avow_buf tbs = {0}, der = {0};
    rc = avow_cose_tbs(AVOW_COSE_SIGN1, m->prot.ptr, m->prot.len, aad, aad_len, m->payload.ptr,
                       m->payload.len, &tbs);
    if (rc != AVOW_OK)
        return avow__fail(d, rc, "cose", "cannot build the Sig_structure");
    const uint8_t *sig = m->sig.ptr;
    size_t sig_len = m->sig.len;
    if (n > 0) {
        if ((rc = raw_to_der(m->sig.ptr, n, &der)) != AVOW_OK) {
            avow_buf_free(&tbs);
            avow__ossl_clear();
            return avow__fail(d, rc, "cose.signature", "cannot convert r||s");
        }
        sig = der.ptr;
        sig_len = der.len;
    }
    rc = avow_sigalg_verify(sa, pub, tbs.ptr, tbs.len, sig, sig_len, d);
    if (rc != AVOW_OK && d != NULL)
        snprintf(d->field, sizeof(d->field), "cose.signature");
    avow_buf_free(&tbs);
    OPENSSL_free(der.ptr);
    return rc;
}

/* HMAC of the MAC_structure into tag (at most EVP_MAX_MD_SIZE); returns its length, 0 on error. */
static size_t mac_compute(const EVP_MD *md, const uint8_t *key, size_t key_len, const uint8_t *prot,
                          size_t prot_len, const uint8_t *aad, size_t aad_len,
                          const uint8_t *payload, size_t payload_len, uint8_t tag[EVP_MAX_MD_SIZE])
{
    avow_buf tbs = {0};
    if (avow_cose_tbs(AVOW_COSE_MAC0, prot, prot_len, aad, aad_len, payload, payload_len, &tbs) !=
        AVOW_OK)
        return 0;
    unsigned int tl = 0;
    uint8_t *r = HMAC(md, key, (int)key_len, tbs.ptr, tbs.len, tag, &tl);
    avow_buf_free(&tbs);
    return r != NULL ? tl : 0;
}

#define MIN_MAC_KEY 16u
#define MAX_MAC_KEY 1024u

avow_err avow_cose_verify_mac0(const avow_cose_msg *m, const uint8_t *key, size_t key_len,
                               const uint8_t *aad, size_t aad_len, avow_diag *d)
{
    if (m == NULL || key == NULL || (aad == NULL && aad_len > 0))
        return avow__fail(d, AVOW_ERR_ARG, "cose", "no message or key");
    if (key_len < MIN_MAC_KEY || key_len > MAX_MAC_KEY)
        return avow__fail(d, AVOW_ERR_ARG, "key", "HMAC key of %zu bytes; %u to %u", key_len,
                          MIN_MAC_KEY, MAX_MAC_KEY);
    if (m->kind != AVOW_COSE_MAC0)
        return avow__fail(d, AVOW_ERR_COSE_ALG, "cose.protected.alg",
                          "a COSE_Sign1 is not verified with a secret key");
    const EVP_MD *md = mac_md(m->alg);
    if (md == NULL)
        return avow__fail(d, AVOW_ERR_COSE_ALG, "cose.protected.alg",
                          "alg %lld is not an HMAC algorithm avow verifies", (long long)m->alg);
    uint8_t tag[EVP_MAX_MD_SIZE];
    size_t tl = mac_compute(md, key, key_len, m->prot.ptr, m->prot.len, aad, aad_len,
                            m->payload.ptr, m->payload.len, tag);
    if (tl == 0)
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "cose", "HMAC failed");
    /* The size is public (it follows the alg); the bytes are compared in constant time. */
    int ok = m->sig.len == tl && CRYPTO_memcmp(tag, m->sig.ptr, tl) == 0;
    OPENSSL_cleanse(tag, sizeof(tag));
    if (!ok)
        return avow__fail(d, AVOW_ERR_MAC_INVALID, "cose.tag_value", "the MAC does not verify");
    return AVOW_OK;
}

/* [prot, {}, payload, sig] with the tag when asked, into out. */
static avow_err assemble(avow_cose_kind kind, const uint8_t *prot, size_t prot_len,
                         const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
                         unsigned flags, avow_buf *out)
{
    size_t cap = 2 + 1 + 9 + prot_len + 1 + 9 + len + 9 + sig_len;
    uint8_t *b = OPENSSL_malloc(cap);
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    size_t n = 0;
    if (flags & AVOW_COSE_TAGGED)
        avow__cbor_head(b, &n, 6, (uint64_t)kind);
    avow__cbor_head(b, &n, 4, 4);
    avow__cbor_head(b, &n, 2, prot_len);
    memcpy(b + n, prot, prot_len);
    n += prot_len;
    avow__cbor_head(b, &n, 5, 0);
    avow__cbor_head(b, &n, 2, len);
    if (len > 0)
        memcpy(b + n, payload, len);
    n += len;
    avow__cbor_head(b, &n, 2, sig_len);
    memcpy(b + n, sig, sig_len);
    n += sig_len;
    out->ptr = b;
    out->len = n;
    return AVOW_OK;
}

/* {1: alg} */
static size_t prot_alg(int64_t alg, uint8_t prot[16])
{
    size_t n = 0;
    avow__cbor_head(prot, &n, 5, 1);
    avow__cbor_head(prot, &n, 0, H_ALG);
    if (alg < 0)
        avow__cbor_head(prot, &n, 1, (uint64_t)(-1 - alg));
    else
        avow__cbor_head(prot, &n, 0, (uint64_t)alg);
    return n;
}

avow_err avow_cose_sign1(const uint8_t *payload, size_t len, avow_signer *signer, unsigned flags,
                         avow_buf *out, avow_diag *d)
{
    if (out == NULL || signer == NULL || (payload == NULL && len > 0) || len > AVOW_COSE_MAX_SIZE)
        return avow__fail(d, AVOW_ERR_ARG, "cose", "no signer, payload or output");
    out->ptr = NULL;
    out->len = 0;
    int64_t alg;
    size_t n;
    switch (avow_signer_alg(signer)) {
    case AVOW_SIGALG_ECDSA_SHA256:
        alg = AVOW_COSE_ES256, n = 32;
        break;
    case AVOW_SIGALG_ECDSA_SHA384:
        alg = AVOW_COSE_ES384, n = 48;
        break;
    case AVOW_SIGALG_ECDSA_SHA512:
        alg = AVOW_COSE_ES512, n = 66;
        break;
    case AVOW_SIGALG_ED25519:
        alg = AVOW_COSE_EDDSA, n = 0;
        break;
    default:
        return avow__fail(d, AVOW_ERR_COSE_ALG, "signer", "no COSE algorithm for %s",
                          avow_sigalg_name(avow_signer_alg(signer)));
    }
    avow_sigalg sa;
    size_t cn;
    (void)sign_alg(alg, &sa, &cn);
    if (avow_sigalg_fits_key(sa, avow_signer_get0_pubkey(signer), AVOW_SIGALG_FIT_JOSE) != AVOW_OK)
        return avow__fail(d, AVOW_ERR_ALG_MISMATCH, "signer", "%s needs its own curve",
                          avow_cose_alg_name(alg));
    uint8_t prot[16];
    size_t plen = prot_alg(alg, prot);
    avow_buf tbs = {0}, sig = {0}, raw = {0};
    avow_err rc = avow_cose_tbs(AVOW_COSE_SIGN1, prot, plen, NULL, 0, payload, len, &tbs);
    if (rc == AVOW_OK)
        rc = avow_signer_sign(signer, tbs.ptr, tbs.len, &sig, d);
    if (rc == AVOW_OK && n > 0 && (rc = der_to_raw(&sig, n, &raw)) != AVOW_OK)
        avow__fail_ossl(d, rc, "signer", "the signature is not a DER ECDSA-Sig-Value");
    if (rc == AVOW_OK) {
        const avow_buf *s = n > 0 ? &raw : &sig;
        rc = assemble(AVOW_COSE_SIGN1, prot, plen, payload, len, s->ptr, s->len, flags, out);
    }
    avow_buf_free(&tbs);
    avow_buf_free(&sig);
    avow_buf_free(&raw);
    return rc;
}

avow_err avow_cose_mac0(const uint8_t *payload, size_t len, int64_t alg, const uint8_t *key,
                        size_t key_len, unsigned flags, avow_buf *out, avow_diag *d)
{
    if (out == NULL || key == NULL || (payload == NULL && len > 0) || len > AVOW_COSE_MAX_SIZE)
        return avow__fail(d, AVOW_ERR_ARG, "cose", "no key, payload or output");
    out->ptr = NULL;
    out->len = 0;
    const EVP_MD *md = mac_md(alg);
    if (md == NULL)
        return avow__fail(d, AVOW_ERR_COSE_ALG, "alg", "alg %lld is not an HMAC algorithm",
                          (long long)alg);
    if (key_len < MIN_MAC_KEY || key_len > MAX_MAC_KEY)
        return avow__fail(d, AVOW_ERR_ARG, "key", "HMAC key of %zu bytes; %u to %u", key_len,
                          MIN_MAC_KEY, MAX_MAC_KEY);
    uint8_t prot[16], tag[EVP_MAX_MD_SIZE];
    size_t plen = prot_alg(alg, prot);
    size_t tl = mac_compute(md, key, key_len, prot, plen, NULL, 0, payload, len, tag);
    if (tl == 0)
        return avow__fail_ossl(d, AVOW_ERR_CRYPTO, "cose", "HMAC failed");
    avow_err rc = assemble(AVOW_COSE_MAC0, prot, plen, payload, len, tag, tl, flags, out);
    OPENSSL_cleanse(tag, sizeof(tag));
    return rc;
}
