/*
 * avow_verify_evidence: draft-ietf-rats-pkix-key-attestation-07 section 6.
 * Per SignatureBlock: resolve a trusted key from the sid, check the AK
 * certificate profile (KU digitalSignature, EKU id-kp-attestationKey),
 * verify the signature over tbs, then bind the signer to ak-spki claims.
 * Afterwards the nonce. Only the verifier's setup is read, never written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/sigalg_int.h"
#include "verifier/verify_int.h"

typedef struct vctx {
    const avow_verifier *v;
    const avow_evidence *ev;
    unsigned flags;             /* the verifier's and this call's AVOW_VERIFY_* */
    STACK_OF(X509) * extra;     /* avow_verify_opts.untrusted: this call's certificates */
    STACK_OF(X509) * untrusted; /* verifier + call + intermediateCertificates, built on first use */
    int own_untrusted;
    avow__callcerts cc; /* the call's certificates as the chain cache compares them */
    int keep;           /* the caller reads the result: signer certificate and chain kept */
    /* Of the block being verified: */
    size_t idx;
    avow_view spki;         /* the signer's DER SPKI when known without encoding it */
    EVP_PKEY *key_ref;      /* a reference to r->key held for the block (a cache hit's) */
    EVP_PKEY_CTX *prepared; /* the cache's prepared verification of the key, or NULL */
} vctx;

static avow_err sig_fail(avow_sig_result *r, avow_err code, const char *fmt, ...) AVOW_PRINTF(3, 4);

static avow_err sig_fail(avow_sig_result *r, avow_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    r->status = code;
    return code;
}

static STACK_OF(X509) * untrusted_of(vctx *c)
{
    if (c->untrusted != NULL)
        return c->untrusted;
    STACK_OF(X509) *im = avow_evidence_get0_intermediates(c->ev);
    if (sk_X509_num(im) <= 0 && sk_X509_num(c->extra) <= 0) {
        c->untrusted = c->v->untrusted;
        return c->untrusted;
    }
    /* A borrowed view of all lists: the stack holds no references of its own. */
    STACK_OF(X509) *all = sk_X509_dup(c->v->untrusted);
    for (int i = 0; all != NULL && i < sk_X509_num(c->extra); i++) {
        if (!sk_X509_push(all, sk_X509_value(c->extra, i))) {
            sk_X509_free(all);
            all = NULL;
        }
    }
    for (int i = 0; all != NULL && i < sk_X509_num(im); i++) {
        if (!sk_X509_push(all, sk_X509_value(im, i))) {
            sk_X509_free(all);
            all = NULL;
        }
    }
    if (all == NULL)
        return NULL;
    c->untrusted = all;
    c->own_untrusted = 1;
    return all;
}

static int eku_has(const EXTENDED_KEY_USAGE *eku, const avow_oid *want, int or_any)
{
    for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
        if ((size_t)OBJ_length(o) == want->len &&
            memcmp(OBJ_get0_data(o), want->der, want->len) == 0)
            return 1;
        if (or_any && OBJ_obj2nid(o) == NID_anyExtendedKeyUsage)
            return 1;
    }
    return 0;
}

/*
 * The AK certificate profile of -07 (checked by us, not by OpenSSL's
 * purposes) depends on the certificate and its chain alone, so it is read
 * once into facts, kept with a cached chain, and judged with this call's
 * flags (ak_judge).
 *
 * RFC 5280 leaves EKU in CA certificates to applications; the common reading
 * (and OpenSSL's for its own purposes) is that an intermediate carrying one
 * constrains what it may certify. So an intermediate, not the anchor, with an
 * EKU must allow the attestation-key EKU, or anyExtendedKeyUsage.
 */
void avow__ak_facts(const avow_verifier *v, X509 *cert, STACK_OF(X509) * chain, avow__akfacts *f)
{
    memset(f, 0, sizeof(*f));
    uint32_t xf = X509_get_extension_flags(cert);
    f->ku = (xf & EXFLAG_KUSAGE) && (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE);
    int crit = 0;
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
    f->eku = eku_has(eku, &v->profile.ak_eku, 0) ? 1 : eku == NULL && crit == -1 ? -1 : 0;
    EXTENDED_KEY_USAGE_free(eku);
    f->ca = (xf & EXFLAG_BCONS) && (xf & EXFLAG_CA);
    int n = sk_X509_num(chain);
    for (int i = 1; i < n - 1 && f->chain_eku == 0; i++) {
        X509 *ca = sk_X509_value(chain, i);
        if (!(X509_get_extension_flags(ca) & EXFLAG_XKUSAGE))
            continue;
        EXTENDED_KEY_USAGE *ceku = X509_get_ext_d2i(ca, NID_ext_key_usage, NULL, NULL);
        if (!eku_has(ceku, &v->profile.ak_eku, 1))
            f->chain_eku = i;
        EXTENDED_KEY_USAGE_free(ceku);
    }
}

static avow_err ak_judge(const avow_verifier *v, unsigned flags, const avow__akfacts *f,
                         avow_sig_result *r)
{
    char oid[128];
    if (!f->ku)
        return sig_fail(r, AVOW_ERR_AK_KU, "signer certificate has no keyUsage digitalSignature");
    if (f->eku != 1) {
        avow_oid_to_text(v->profile.ak_eku.der, v->profile.ak_eku.len, oid, sizeof(oid));
        return sig_fail(r, AVOW_ERR_AK_EKU, "signer certificate %s extendedKeyUsage %s",
                        f->eku == -1 ? "has no" : "lacks", oid);
    }
    /* An attestation key signs Evidence, not certificates: a CA certificate for it
     * would let the AK's holder mint further AKs under the anchor. */
    if (f->ca && !(flags & AVOW_VERIFY_ALLOW_AK_CA))
        return sig_fail(r, AVOW_ERR_AK_CA,
                        "signer certificate has basicConstraints CA:TRUE; an attestation key is "
                        "not a CA");
    if (f->chain_eku != 0 && !(flags & AVOW_VERIFY_IGNORE_CA_EKU)) {
        avow_oid_to_text(v->profile.ak_eku.der, v->profile.ak_eku.len, oid, sizeof(oid));
        return sig_fail(r, AVOW_ERR_AK_EKU,
                        "intermediate certificate (chain depth %d) has an extendedKeyUsage "
                        "without %s or anyExtendedKeyUsage",
                        f->chain_eku, oid);
    }
    return AVOW_OK;
}

/* Drops what the previous attempt at a signer left. */
static void release_signer(vctx *c, avow_sig_result *r)
{
    sk_X509_pop_free(r->chain, X509_free);
    r->chain = NULL;
    EVP_PKEY_free(c->key_ref);
    EVP_PKEY_CTX_free(c->prepared);
    c->key_ref = NULL;
    c->prepared = NULL;
    c->spki.ptr = NULL;
    c->spki.len = 0;
}

static int64_t verification_time(const vctx *c)
{
    return c->v->at_set ? (int64_t)c->v->at : (int64_t)time(NULL);
}

/*
 * Builds a path from cert to an anchor at the verifier's time; on success
 * r->chain holds it.
 */
static avow_err validate_path(vctx *c, X509 *cert, avow_sig_result *r)
{
    STACK_OF(X509) *untrusted = untrusted_of(c);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (untrusted == NULL || ctx == NULL) {
        X509_STORE_CTX_free(ctx);
        return sig_fail(r, AVOW_ERR_NOMEM, "out of memory building the chain");
    }
    avow_err rc = AVOW_OK;
    if (!X509_STORE_CTX_init(ctx, c->v->store, cert, untrusted)) {
        rc = sig_fail(r, AVOW_ERR_NOMEM, "cannot set up path building");
    } else {
        /* ANY: the AK EKU is unknown to OpenSSL; ak_judge judges it. */
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
        if (c->v->at_set)
            X509_STORE_CTX_set_time(ctx, 0, c->v->at);
        if (X509_verify_cert(ctx) != 1) {
            int err = X509_STORE_CTX_get_error(ctx);
            rc = sig_fail(r, AVOW_ERR_CHAIN, "certificate chain: %s (depth %d)",
                          X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
        } else {
            r->chain = X509_STORE_CTX_get1_chain(ctx);
            if (r->chain == NULL)
                rc = sig_fail(r, AVOW_ERR_NOMEM, "out of memory keeping the chain");
        }
    }
    X509_STORE_CTX_free(ctx);
    return rc;
}

/*
 * A certificate as signer: the path, then the AK profile; sets key/cert on
 * success. cert is a certificate the verifier or the call holds, or NULL
 * for the embedded certificate of the block being verified (der), which is
 * then decoded only if the chain cache does not know its bytes. A chain
 * found in the cache stands for the path validation and the reading of the
 * profile (chain_cache.c says when one may); a path validated here goes
 * into the cache.
 */
static avow_err trust_signer(vctx *c, X509 *cert, avow_view der, avow_sig_result *r)
{
    release_signer(c, r);
    r->cert = cert;
    r->key = NULL;
    r->key_source = "certificate";
    if (cert == NULL && avow__cert_spki(der.ptr, der.len, &c->spki.ptr, &c->spki.len) != 1)
        c->spki.len = 0;
    uint8_t leaf[AVOW__SHA256_LEN];
    const EVP_MD *md = avow__chain_cache_md(c->v->cache);
    int cached = c->v->cache != NULL && (cert != NULL ? avow__cert_sha256(md, cert, leaf)
                                                      : avow__sha256(md, der.ptr, der.len, leaf));
    avow__chain_hit hit;
    if (cached && avow__chain_cache_get(c->v, leaf, verification_time(c), &c->cc,
                                        c->keep || cert != NULL, &hit)) {
        r->chain = hit.chain;
        if (r->chain != NULL)
            r->cert = sk_X509_value(r->chain, 0); /* the same bytes; the result holds it */
        r->key = c->key_ref = hit.key;
        c->prepared = hit.verify;
        hit.chain = NULL;
        hit.key = NULL;
        hit.verify = NULL;
        return ak_judge(c->v, c->flags, &hit.facts, r);
    }
    if (cert == NULL && (cert = avow_evidence_get0_signer_cert(c->ev, c->idx)) == NULL)
        return sig_fail(r, AVOW_ERR_BAD_CERT,
                        "sid.certificate cannot be decoded (OpenSSL refuses it)");
    r->cert = cert;
    r->key = X509_get0_pubkey(cert);
    if (r->key == NULL)
        return sig_fail(r, AVOW_ERR_BAD_CERT, "signer certificate has an unusable public key");
    avow_err rc = validate_path(c, cert, r);
    if (rc != AVOW_OK)
        return rc;
    avow__akfacts facts;
    avow__ak_facts(c->v, cert, r->chain, &facts);
    if (cached)
        avow__chain_cache_put(c->v, leaf, r->chain, &facts);
    return ak_judge(c->v, c->flags, &facts, r);
}

static avow_err trust_cert(vctx *c, X509 *cert, avow_sig_result *r)
{
    avow_view none = {NULL, 0};
    return trust_signer(c, cert, none, r);
}

static int ski_is(X509 *x, avow_view id)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    return ski != NULL && (size_t)ASN1_STRING_length(ski) == id.len &&
           memcmp(ASN1_STRING_get0_data(ski), id.ptr, id.len) == 0;
}

/* DER comparison of a certificate's SubjectPublicKeyInfo with spki. */
static int spki_is(X509 *x, avow_view spki)
{
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    int eq = n > 0 && (size_t)n == spki.len && memcmp(der, spki.ptr, spki.len) == 0;
    OPENSSL_free(der);
    return eq;
}

/*
 * Candidate certificates are tried in turn; the first that is trusted wins,
 * otherwise the first one's failure is what the caller sees.
 */
static avow_err try_cert(vctx *c, X509 *cert, avow_sig_result *r, avow_sig_result *first,
                         int *tried)
{
    avow_err rc = trust_cert(c, cert, r);
    if (rc == AVOW_OK)
        return AVOW_OK;
    if ((*tried)++ == 0) {
        first->status = r->status;
        memcpy(first->detail, r->detail, sizeof(first->detail));
    }
    release_signer(c, r);
    return rc;
}

static void untried(avow_sig_result *r)
{
    r->key = NULL;
    r->cert = NULL;
    r->key_source = NULL;
}

/* Key i of the key set as the signer, with a copy of its prepared verification. */
static avow_err use_key(vctx *c, size_t i, avow_sig_result *r)
{
    const avow__vkey *k = &c->v->keys[i];
    r->key = k->pub;
    r->key_source = "key set";
    c->spki.ptr = k->spki;
    c->spki.len = k->spki_len;
    /* No copy (no memory) only costs the fetches of the usual way. */
    if (k->verify != NULL && (c->prepared = EVP_PKEY_CTX_dup(k->verify)) == NULL)
        avow__ossl_clear();
    return AVOW_OK;
}

/* An SPKI signer: a key of the key set with that DER, or a known certificate with it. */
static avow_err resolve_spki(vctx *c, const avow_signature_block *b, avow_sig_result *r)
{
    const avow_verifier *v = c->v;
    avow_sig_result first = {0};
    int tried = 0;
    for (size_t i = 0; i < v->nkeys; i++) {
        if (v->keys[i].spki_len == b->spki.len &&
            memcmp(v->keys[i].spki, b->spki.ptr, b->spki.len) == 0) {
            return use_key(c, i, r);
        }
    }
    for (size_t i = 0; i < v->ncerts; i++) {
        if (v->certs[i].spki_len == b->spki.len &&
            memcmp(v->certs[i].spki, b->spki.ptr, b->spki.len) == 0 &&
            try_cert(c, v->certs[i].cert, r, &first, &tried) == AVOW_OK)
            return AVOW_OK;
    }
    for (int i = 0; i < sk_X509_num(c->extra); i++) {
        X509 *x = sk_X509_value(c->extra, i);
        if (spki_is(x, b->spki) && try_cert(c, x, r, &first, &tried) == AVOW_OK)
            return AVOW_OK;
    }
    untried(r);
    if (tried > 0)
        return sig_fail(r, first.status, "%s", first.detail);
    return sig_fail(r, AVOW_ERR_KEY_UNKNOWN,
                    "sid.subjectPublicKeyInfo is neither in the key set nor the key of a "
                    "known certificate (a bare SPKI is not trusted)");
}

static int key_id_is(const uint8_t *id, size_t len, avow_view want)
{
    return id != NULL && len == want.len && memcmp(id, want.ptr, len) == 0;
}

/*
 * A keyId signer: the key set by the caller's key ids, then by the ids
 * derived from its keys (RFC 5280 method 1, RFC 7093), then the
 * SubjectKeyIdentifiers of the known certificates.
 */
static avow_err resolve_key_id(vctx *c, const avow_signature_block *b, avow_sig_result *r)
{
    const avow_verifier *v = c->v;
    avow_sig_result first = {0};
    int tried = 0;
    for (size_t i = 0; i < v->nkeys; i++) {
        if (key_id_is(v->keys[i].id, v->keys[i].id_len, b->key_id)) {
            return use_key(c, i, r);
        }
    }
    for (size_t i = 0; i < v->nkeys; i++) {
        if (avow__key_ids_find(&v->keys[i].ids, b->key_id.ptr, b->key_id.len) >= 0) {
            return use_key(c, i, r);
        }
    }
    for (size_t i = 0; i < v->ncerts; i++)
        if (ski_is(v->certs[i].cert, b->key_id) &&
            try_cert(c, v->certs[i].cert, r, &first, &tried) == AVOW_OK)
            return AVOW_OK;
    for (int i = 0; i < sk_X509_num(c->extra); i++)
        if (ski_is(sk_X509_value(c->extra, i), b->key_id) &&
            try_cert(c, sk_X509_value(c->extra, i), r, &first, &tried) == AVOW_OK)
            return AVOW_OK;
    STACK_OF(X509) *im = avow_evidence_get0_intermediates(c->ev);
    for (int i = 0; i < sk_X509_num(im); i++)
        if (ski_is(sk_X509_value(im, i), b->key_id) &&
            try_cert(c, sk_X509_value(im, i), r, &first, &tried) == AVOW_OK)
            return AVOW_OK;
    untried(r);
    if (tried > 0)
        return sig_fail(r, first.status, "%s", first.detail);
    return sig_fail(r, AVOW_ERR_KEY_UNKNOWN,
                    "sid.keyId matches no key in the key set (by its key id or one derived from "
                    "the key) and no certificate's SubjectKeyIdentifier");
}

/*
 * Whether a keyId names the key whose DER SPKI is spki: an identifier
 * derived from it, the caller's key id for it in the key set, or the
 * SubjectKeyIdentifier of a certificate of that key (cert, or one the
 * verifier knows). Only a SignerIdentifier with several fields asks.
 */
static int key_id_names(const vctx *c, avow_view id, avow_view spki, X509 *cert)
{
    avow__key_ids ids;
    if (avow__key_ids_of_spki(spki.ptr, spki.len, &ids) == AVOW_OK &&
        avow__key_ids_find(&ids, id.ptr, id.len) >= 0)
        return 1;
    if (cert != NULL && ski_is(cert, id))
        return 1;
    const avow_verifier *v = c->v;
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].spki_len == spki.len && memcmp(v->keys[i].spki, spki.ptr, spki.len) == 0 &&
            key_id_is(v->keys[i].id, v->keys[i].id_len, id))
            return 1;
    for (size_t i = 0; i < v->ncerts; i++)
        if (v->certs[i].spki_len == spki.len && memcmp(v->certs[i].spki, spki.ptr, spki.len) == 0 &&
            ski_is(v->certs[i].cert, id))
            return 1;
    for (int i = 0; i < sk_X509_num(c->extra); i++)
        if (spki_is(sk_X509_value(c->extra, i), spki) && ski_is(sk_X509_value(c->extra, i), id))
            return 1;
    STACK_OF(X509) *im = avow_evidence_get0_intermediates(c->ev);
    for (int i = 0; i < sk_X509_num(im); i++)
        if (spki_is(sk_X509_value(im, i), spki) && ski_is(sk_X509_value(im, i), id))
            return 1;
    return 0;
}

X509 *avow__evidence_signer_cert_in(const avow_evidence *ev, size_t i, STACK_OF(X509) * certs,
                                    char *where, size_t where_cap)
{
    const avow_signature_block *b = avow_evidence_get0_signature(ev, i);
    if (where != NULL && where_cap > 0)
        where[0] = '\0';
    if (b == NULL)
        return NULL;
    X509 *found = NULL;
    if (b->sid_fields & AVOW_SID_HAS_CERT) {
        found = avow_evidence_get0_signer_cert(ev, i);
        if (found != NULL && where != NULL)
            snprintf(where, where_cap, "sid.certificate");
    } else if (b->sid_fields & AVOW_SID_HAS_SPKI) {
        for (int k = 0; found == NULL && k < sk_X509_num(certs); k++) {
            X509 *x = sk_X509_value(certs, k);
            if (!spki_is(x, b->spki))
                continue;
            avow__key_ids ids;
            /* the verifier's key_id_names without a key set: derived from the key, or the SKI */
            if ((b->sid_fields & AVOW_SID_HAS_KEYID) && !ski_is(x, b->key_id) &&
                !(avow__key_ids_of_spki(b->spki.ptr, b->spki.len, &ids) == AVOW_OK &&
                  avow__key_ids_find(&ids, b->key_id.ptr, b->key_id.len) >= 0))
                continue;
            found = x;
            if (where != NULL)
                snprintf(where, where_cap, "certs[%d]", k);
        }
    } else if (b->sid_fields & AVOW_SID_HAS_KEYID) {
        for (int k = 0; found == NULL && k < sk_X509_num(certs); k++)
            if (ski_is(sk_X509_value(certs, k), b->key_id)) {
                found = sk_X509_value(certs, k);
                if (where != NULL)
                    snprintf(where, where_cap, "certs[%d]", k);
            }
        STACK_OF(X509) *im = found == NULL ? avow_evidence_get0_intermediates(ev) : NULL;
        for (int k = 0; found == NULL && k < sk_X509_num(im); k++)
            if (ski_is(sk_X509_value(im, k), b->key_id)) {
                found = sk_X509_value(im, k);
                if (where != NULL)
                    snprintf(where, where_cap, "intermediateCertificates[%d]", k);
            }
    }
    avow__ossl_clear();
    return found;
}

/*
 * The key of a signature block, taken from its SignerIdentifier in the
 * draft's order (certificate, else subjectPublicKeyInfo, else keyId). A
 * keyId given beside either of the others must name the same key: the
 * decoder already holds the subjectPublicKeyInfo to the certificate's key.
 */
static avow_err resolve_key(vctx *c, const avow_signature_block *b, avow_sig_result *r)
{
    int with_key_id = (b->sid_fields & AVOW_SID_HAS_KEYID) != 0;
    if (b->sid_fields & AVOW_SID_HAS_CERT) {
        if (b->cert_der.len == 0)
            return sig_fail(r, AVOW_ERR_KEY_UNKNOWN, "sid.certificate is empty");
        if (with_key_id) {
            /* The SubjectKeyIdentifier may be what the keyId names: decoded for this form. */
            X509 *cert = avow_evidence_get0_signer_cert(c->ev, c->idx);
            const uint8_t *p = NULL;
            size_t n = 0;
            if (cert == NULL)
                return sig_fail(r, AVOW_ERR_BAD_CERT,
                                "sid.certificate cannot be decoded (OpenSSL refuses it)");
            avow_view spki = {NULL, 0};
            if (avow__cert_spki(b->cert_der.ptr, b->cert_der.len, &p, &n)) {
                spki.ptr = p;
                spki.len = n;
            }
            int ok = spki.len > 0 && key_id_names(c, b->key_id, spki, cert);
            avow__ossl_clear();
            if (!ok)
                return sig_fail(r, AVOW_ERR_SIGNER_MISMATCH,
                                "sid.keyId does not identify the key of sid.certificate (not its "
                                "SubjectKeyIdentifier, an id derived from its key or the key "
                                "set's id for it)");
        }
        return trust_signer(c, NULL, b->cert_der, r);
    }
    if (b->sid_fields & AVOW_SID_HAS_SPKI) {
        if (with_key_id && !key_id_names(c, b->key_id, b->spki, NULL))
            return sig_fail(r, AVOW_ERR_SIGNER_MISMATCH,
                            "sid.keyId does not identify sid.subjectPublicKeyInfo (not an id "
                            "derived from it, the key set's id for it or a SubjectKeyIdentifier "
                            "of a certificate of it)");
        return resolve_spki(c, b, r);
    }
    if (with_key_id)
        return resolve_key_id(c, b, r);
    return sig_fail(r, AVOW_ERR_KEY_UNKNOWN, "the SignerIdentifier holds no field");
}

/*
 * DER SPKI of the resolved key. i2d_PUBKEY goes through OpenSSL's encoder
 * framework and costs as much as an ECDSA verify, so the forms we already
 * hold are used: the key set's precomputed DER, or the certificate's parsed
 * X509_PUBKEY. *owned is set when the bytes must be freed.
 */
static int signer_spki(const vctx *c, const avow_sig_result *r, avow_view *out, uint8_t **owned)
{
    *owned = NULL;
    if (c->spki.len > 0) {
        *out = c->spki;
        return 1;
    }
    if (r->cert == NULL) {
        for (size_t i = 0; i < c->v->nkeys; i++)
            if (c->v->keys[i].pub == r->key) {
                out->ptr = c->v->keys[i].spki;
                out->len = c->v->keys[i].spki_len;
                return 1;
            }
    }
    unsigned char *der = NULL;
    int n = r->cert != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(r->cert), &der)
                            : i2d_PUBKEY(r->key, &der);
    if (n <= 0) {
        avow__ossl_clear();
        return 0;
    }
    *owned = der;
    out->ptr = der;
    out->len = (size_t)n;
    return 1;
}

/* 1 listed, 0 not listed, -1 no ak-spki claim, -2 the signer's SPKI cannot be encoded. */
static int ak_spki_state(const vctx *c, const avow_sig_result *r)
{
    avow_view spki = {NULL, 0};
    uint8_t *owned = NULL;
    int claims = 0, listed = 0, have = 0;
    size_t nel = avow_evidence_element_count(c->ev);
    for (size_t e = 0; e < nel && !listed; e++) {
        const avow_element *el = avow_evidence_get0_element(c->ev, e);
        if (el->kind != AVOW_ELEMENT_TRANSACTION)
            continue;
        for (size_t i = 0; i < el->nclaims && !listed; i++) {
            const avow_claim *cl = &el->claims[i];
            if (cl->id != AVOW_CLAIM_AK_SPKI || !cl->value.present)
                continue;
            claims++;
            if (!have && !(have = signer_spki(c, r, &spki, &owned)))
                return -2;
            listed = cl->value.bytes.len == spki.len &&
                     memcmp(cl->value.bytes.ptr, spki.ptr, spki.len) == 0;
        }
    }
    OPENSSL_free(owned);
    return claims == 0 ? -1 : listed;
}

/*
 * ECDSA's strength is the smaller of the curve's and the hash's, and a
 * signer picks the hash: SHA-1-era or truncated combinations are refused by
 * default, as the EAR JWT path does by binding ES256/384/512 to the curve.
 * The hash that fits is avow_sigalg_for_key's choice for the key.
 */
static int ecdsa_hash_fits(avow_sigalg alg, const EVP_PKEY *key, avow_sigalg *want)
{
    *want = alg;
    if (alg != AVOW_SIGALG_ECDSA_SHA256 && alg != AVOW_SIGALG_ECDSA_SHA384 &&
        alg != AVOW_SIGALG_ECDSA_SHA512)
        return 1;
    return avow_sigalg_for_key(key, 0, want) == AVOW_OK && *want == alg;
}

static void verify_block(vctx *c, size_t idx, unsigned flags, avow_sig_result *r)
{
    const avow_signature_block *b = avow_evidence_get0_signature(c->ev, idx);
    r->sid_kind = b->sid_kind;
    r->sid_fields = b->sid_fields;
    avow_diag d = {0};
    if (avow_sigalg_from_der(b->algorithm.ptr, b->algorithm.len, &r->alg, &d) != AVOW_OK) {
        sig_fail(r, AVOW_ERR_SIG_ALG, "signatureAlgorithm%s%s: %s", d.field[0] ? "." : "", d.field,
                 d.detail);
        return;
    }
    /* Said before the key is looked for: such a build cannot even parse an ML-DSA key. */
    if (avow_sigalg_supported(r->alg) != AVOW_OK) {
        sig_fail(r, AVOW_ERR_UNSUPPORTED,
                 "%s signatures need avow built against OpenSSL 3.5 or later",
                 avow_sigalg_name(r->alg));
        return;
    }
    if (resolve_key(c, b, r) != AVOW_OK)
        return;
    avow_sigalg want;
    if (!(flags & AVOW_VERIFY_ANY_ECDSA_HASH) && avow__sigalg_fits_key(r->alg, r->key) &&
        !ecdsa_hash_fits(r->alg, r->key, &want)) {
        sig_fail(r, AVOW_ERR_ALG_MISMATCH, "%s on a %d-bit curve: the hash must fit the curve (%s)",
                 avow_sigalg_name(r->alg), EVP_PKEY_get_bits(r->key),
                 want != AVOW_SIGALG_NONE ? avow_sigalg_name(want) : "unknown curve");
        return;
    }
    avow_view tbs = avow_evidence_tbs(c->ev);
    avow_err rc =
        avow__sigalg_verify_prepared(r->alg, r->key, c->prepared, avow__verifier_md(c->v, r->alg),
                                     tbs.ptr, tbs.len, b->value.ptr, b->value.len, &d);
    if (rc != AVOW_OK) {
        sig_fail(r, rc, "%s", d.detail);
        return;
    }
    r->ak_spki = ak_spki_state(c, r);
    if (r->ak_spki == -2) {
        sig_fail(r, AVOW_ERR_NOMEM, "cannot encode the signer's SPKI");
        return;
    }
    if (r->ak_spki == 0 && !(flags & AVOW_VERIFY_IGNORE_AK_SPKI)) {
        sig_fail(r, AVOW_ERR_AK_SPKI, "signer SPKI is not among the ak-spki claims");
        return;
    }
    r->status = AVOW_OK;
}

static avow_nonce_state check_nonce(const avow_evidence *ev, const avow_verify_opts *opts)
{
    if (opts == NULL || opts->nonce == NULL)
        return AVOW_NONCE_NOT_CHECKED;
    const avow_claim *n = avow_evidence_find_claim(ev, AVOW_CLAIM_NONCE);
    if (n == NULL || !n->value.present)
        return AVOW_NONCE_ABSENT;
    return avow__ct_equal(n->value.bytes.ptr, n->value.bytes.len, opts->nonce, opts->nonce_len)
               ? AVOW_NONCE_MATCH
               : AVOW_NONCE_MISMATCH;
}

static int has_nonce(const avow_evidence *ev)
{
    const avow_claim *n = avow_evidence_find_claim(ev, AVOW_CLAIM_NONCE);
    return n != NULL && n->value.present;
}

/*
 * Every signature block; *signed_by gets a bit per block that verified. The
 * first failure decides, unless AVOW_VERIFY_ANY_SIGNATURE and one verified.
 */
static avow_err verify_signatures(vctx *c, avow_sig_result *sigs, size_t nsigs, uint32_t *signed_by,
                                  avow_diag *diag)
{
    size_t first_bad = nsigs;
    for (size_t i = 0; i < nsigs; i++) {
        sigs[i].ak_spki = -1;
        c->idx = i;
        verify_block(c, i, c->flags, &sigs[i]);
        /* The block's chain stays in its result; what else it held goes. */
        STACK_OF(X509) *chain = sigs[i].chain;
        sigs[i].chain = NULL;
        release_signer(c, &sigs[i]);
        sigs[i].chain = chain;
        if (!c->keep)
            sigs[i].key = NULL; /* its reference was the block's; nobody reads it now */
        if (sigs[i].status == AVOW_OK)
            *signed_by |= (uint32_t)1 << (i & 31);
        else if (first_bad == nsigs)
            first_bad = i;
    }
    if (c->own_untrusted)
        sk_X509_free(c->untrusted);
    avow__callcerts_clear(&c->cc);
    if (nsigs == 0)
        return avow__fail(diag, AVOW_ERR_UNSIGNED, "signatures",
                          "evidence has no SignatureBlock; its claims must not be relied on");
    if (first_bad < nsigs && (*signed_by == 0 || !(c->flags & AVOW_VERIFY_ANY_SIGNATURE))) {
        char field[48];
        snprintf(field, sizeof(field), "signatures[%zu]", first_bad);
        return avow__fail(diag, sigs[first_bad].status, field, "%s", sigs[first_bad].detail);
    }
    return AVOW_OK;
}

static avow_err nonce_verdict(const avow_evidence *ev, avow_nonce_state state, unsigned flags,
                              avow_diag *diag)
{
    if (state == AVOW_NONCE_ABSENT || ((flags & AVOW_VERIFY_REQUIRE_NONCE) && !has_nonce(ev)))
        return avow__fail(diag, AVOW_ERR_NONCE_MISSING, "tbs.transaction.nonce",
                          "evidence carries no nonce");
    if (state == AVOW_NONCE_MISMATCH)
        return avow__fail(diag, AVOW_ERR_NONCE_MISMATCH, "tbs.transaction.nonce",
                          "nonce differs from the expected one");
    return AVOW_OK;
}

void avow_evidence_result_free(avow_evidence_result *r)
{
    if (r == NULL)
        return;
    /* The result owns its sigs array and each chain; everything else is borrowed. */
    avow_sig_result *sigs = (avow_sig_result *)r->sigs;
    for (size_t i = 0; i < r->nsigs; i++)
        sk_X509_pop_free(sigs[i].chain, X509_free);
    OPENSSL_free(sigs);
    avow_claimset_clear(&r->claims);
    OPENSSL_free(r);
}

avow_err avow_verify_evidence(const avow_verifier *v, const avow_evidence *ev,
                              const avow_verify_opts *opts, avow_evidence_result **out,
                              avow_diag *diag)
{
    return avow__verify_evidence(v, ev, opts, out != NULL, out, diag);
}

avow_err avow__verify_evidence(const avow_verifier *v, const avow_evidence *ev,
                               const avow_verify_opts *opts, int want_claims,
                               avow_evidence_result **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (v == NULL || ev == NULL || (opts != NULL && opts->nonce == NULL && opts->nonce_len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "verify", "NULL argument");
    if (opts != NULL && opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_verify_opts_init");
    unsigned flags = v->flags | (opts != NULL ? opts->flags : 0);
    size_t nsigs = avow_evidence_signature_count(ev);

    /*
     * A caller who only wants the verdict (the hot path) gets no heap
     * result at all: the per-signature records live on the stack.
     */
    avow_evidence_result local_res;
    avow_sig_result local_sigs[AVOW_EVIDENCE_MAX_SIGNATURES];
    int on_stack = out == NULL && nsigs <= AVOW_EVIDENCE_MAX_SIGNATURES;
    avow_evidence_result *res;
    avow_sig_result *sigs;
    if (on_stack) {
        memset(&local_res, 0, sizeof(local_res));
        memset(local_sigs, 0, nsigs * sizeof(local_sigs[0]));
        res = &local_res;
        sigs = local_sigs;
    } else {
        res = OPENSSL_zalloc(sizeof(*res));
        sigs = nsigs > 0 ? OPENSSL_zalloc(nsigs * sizeof(*sigs)) : NULL;
        if (res == NULL || (nsigs > 0 && sigs == NULL)) {
            OPENSSL_free(res);
            OPENSSL_free(sigs);
            return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
        }
    }
    res->sigs = sigs;
    res->nsigs = nsigs;

    vctx c;
    memset(&c, 0, sizeof(c));
    c.v = v;
    c.ev = ev;
    c.flags = flags;
    c.extra = opts != NULL ? opts->untrusted : NULL;
    c.keep = out != NULL;
    c.cc.extra = c.extra;
    c.cc.ev = ev;
    uint32_t signed_by = 0;
    avow_err rc = verify_signatures(&c, sigs, nsigs, &signed_by, diag);
    res->nonce = check_nonce(ev, opts);
    if (rc == AVOW_OK)
        rc = nonce_verdict(ev, res->nonce, flags, diag);

    /* Only a caller who reads the result pays for the claim set. */
    avow_err crc = out == NULL || !want_claims
                       ? AVOW_OK
                       : avow__claimset_build(ev, signed_by, &res->claims, &res->unknown_elements,
                                              &res->unknown_claims);
    if (crc != AVOW_OK && rc == AVOW_OK)
        rc = avow__fail(diag, crc, NULL, "cannot build the claim set");
    res->status = rc;
    res->trusted = rc == AVOW_OK;
    /* X509_verify_cert and friends may queue errors a caller must not inherit. */
    avow__ossl_clear();
    if (out != NULL) {
        *out = res;
    } else if (on_stack) {
        for (size_t i = 0; i < nsigs; i++)
            sk_X509_pop_free(sigs[i].chain, X509_free);
    } else {
        avow_evidence_result_free(res);
    }
    return rc;
}
