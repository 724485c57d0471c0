/*
 * The registry row of tcg-attest-tpm-certify: the signature over the
 * TPMS_ATTEST by an attestation key the verifier trusts (a key of its key
 * set, or a certificate with the TCG AK EKU chaining to its anchors),
 * certifiedName as the name of the given TPMT_PUBLIC, and that key's
 * objectAttributes as claims on the key vocabulary the default policy
 * speaks (docs/tpm.md has the mapping). extraData plays the nonce role and
 * the certified key's SPKI the key role, so freshness and binding are the
 * generic appraisal's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <avow/tpm.h>

#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"
#include "formats/tpm_int.h"
#include "verifier/registry_int.h"
#include "verifier/verify_int.h"

/* DER content octets of AVOW_OID_TCG_AK_EKU (2.23.133.8.3). */
static const uint8_t TCG_AK_EKU[] = {0x67, 0x81, 0x05, 0x08, 0x03};

typedef struct tpm_verified {
    avow_err status;
    const char *key_source; /* NULL until an AK verified the signature */
    char ak_subject[160];
    char detail[200];
} tpm_verified;

static avow_err vfail(tpm_verified *r, avow_err code, const char *fmt, ...) AVOW_PRINTF(3, 4);

static avow_err vfail(tpm_verified *r, avow_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    r->status = code;
    return code;
}

static avow_err tpm_decode(const avow_statement_type *row, const avow_profile *profile,
                           const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row, (void)profile;
    avow__tpm_certify *t = NULL;
    avow_err rc = avow__tpm_decode(stmt, len, &t, diag);
    *native = t;
    return rc;
}

/* Whether pk can make the TPMT_SIGNATURE's scheme: RSA for RSASSA/RSAPSS, EC for ECDSA. */
static int key_fits(const EVP_PKEY *pk, uint16_t alg)
{
    int id = EVP_PKEY_get_base_id(pk);
    if (alg == AVOW__TPM_ALG_RSASSA || alg == AVOW__TPM_ALG_RSAPSS)
        return id == EVP_PKEY_RSA;
    return alg == AVOW__TPM_ALG_ECDSA && id == EVP_PKEY_EC;
}

/*
 * The verifier's digest (fetched once when it was made) for a TPM hash
 * algorithm, or NULL: fetching by name on every verification goes through
 * OpenSSL 3's method store and its locks.
 */
static const EVP_MD *tpm_md(const avow_verifier *v, uint16_t alg)
{
    switch (alg) {
    case AVOW__TPM_ALG_SHA256:
        return v->md[0];
    case AVOW__TPM_ALG_SHA384:
        return v->md[1];
    case AVOW__TPM_ALG_SHA512:
        return v->md[2];
    default:
        return NULL;
    }
}

/* The signature over the TPMS_ATTEST with pk, with exactly the scheme the TPM named. */
static int sig_ok(const avow_verifier *v, const avow__tpm_certify *t, EVP_PKEY *pk)
{
    const EVP_MD *md = tpm_md(v, t->sig_hash);
    if (md == NULL || !key_fits(pk, t->sig_alg))
        return 0;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int ok = mc != NULL && EVP_DigestVerifyInit(mc, &pc, md, NULL, pk) == 1;
    if (ok && t->sig_alg == AVOW__TPM_ALG_RSASSA)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1;
    else if (ok && t->sig_alg == AVOW__TPM_ALG_RSAPSS)
        /* TPMs use a salt of the hash's length or the largest that fits (Part 1, B.7):
         * the salt is read from the signature, the scheme and hash stay fixed. */
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_AUTO) == 1;
    ok = ok && EVP_DigestVerify(mc, t->sig_bytes, t->sig_len, t->attest.ptr, t->attest.len) == 1;
    EVP_MD_CTX_free(mc);
    avow__ossl_clear();
    return ok;
}

static int has_ak_eku(X509 *x, int *none)
{
    int crit = 0;
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
    int found = 0;
    for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
        if ((size_t)OBJ_length(o) == sizeof(TCG_AK_EKU) &&
            memcmp(OBJ_get0_data(o), TCG_AK_EKU, sizeof(TCG_AK_EKU)) == 0)
            found = 1;
    }
    *none = eku == NULL;
    EXTENDED_KEY_USAGE_free(eku);
    return found;
}

/*
 * A path from the AK certificate to the anchors, through the verifier's
 * chain cache (chain_cache.c says what a hit promises: what this
 * X509_verify_cert would find). A path validated here goes into the cache
 * with the PKIX row's facts, which that row judges on its own hits; the
 * TCG profile below is read from the certificate on every call.
 */
static avow_err ak_path(const avow_verifier *v, const avow_verify_opts *opts, X509 *cert,
                        tpm_verified *r)
{
    uint8_t leaf[AVOW__SHA256_LEN];
    int cached =
        v->cache != NULL && avow__cert_sha256(avow__chain_cache_md(v->cache), cert, leaf) == 1;
    avow__callcerts cc;
    memset(&cc, 0, sizeof(cc));
    cc.extra = opts != NULL ? opts->untrusted : NULL;
    avow__chain_hit hit;
    int64_t at = v->at_set ? (int64_t)v->at : (int64_t)time(NULL);
    if (cached && avow__chain_cache_get(v, leaf, at, &cc, 0, &hit)) {
        avow__chain_hit_clear(&hit);
        avow__callcerts_clear(&cc);
        return AVOW_OK;
    }
    avow__callcerts_clear(&cc);
    STACK_OF(X509) *untrusted = sk_X509_dup(v->untrusted);
    for (int i = 0; untrusted != NULL && opts != NULL && i < sk_X509_num(opts->untrusted); i++)
        if (!sk_X509_push(untrusted, sk_X509_value(opts->untrusted, i))) {
            sk_X509_free(untrusted);
            untrusted = NULL;
        }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    avow_err rc = AVOW_OK;
    if (untrusted == NULL || ctx == NULL || !X509_STORE_CTX_init(ctx, v->store, cert, untrusted)) {
        rc = vfail(r, AVOW_ERR_NOMEM, "cannot set up path building");
    } else {
        /* ANY, as the PKIX row: the AK EKU is unknown to OpenSSL and judged below. */
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
        if (v->at_set)
            X509_STORE_CTX_set_time(ctx, 0, v->at);
        if (X509_verify_cert(ctx) != 1) {
            int err = X509_STORE_CTX_get_error(ctx);
            rc = vfail(r, AVOW_ERR_CHAIN, "AK certificate chain: %s (depth %d)",
                       X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
        } else if (cached) {
            STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(ctx);
            if (chain != NULL) {
                avow__akfacts facts;
                avow__ak_facts(v, cert, chain, &facts);
                avow__chain_cache_put(v, leaf, chain, &facts);
            }
            sk_X509_pop_free(chain, X509_free);
        }
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    avow__ossl_clear();
    return rc;
}

/* The AK certificate: a path to the anchors, then the TCG AK profile. */
static avow_err trust_ak(const avow_verifier *v, const avow_verify_opts *opts, X509 *cert,
                         tpm_verified *r)
{
    avow_err rc = ak_path(v, opts, cert, r);
    if (rc != AVOW_OK)
        return rc;
    if (!(X509_get_extension_flags(cert) & EXFLAG_KUSAGE) ||
        !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE))
        return vfail(r, AVOW_ERR_AK_KU, "AK certificate has no keyUsage digitalSignature");
    int none = 0;
    if (!has_ak_eku(cert, &none))
        return vfail(r, AVOW_ERR_AK_EKU,
                     "AK certificate %s extendedKeyUsage %s (tcg-kp-AIKCertificate)",
                     none ? "has no" : "lacks", AVOW_OID_TCG_AK_EKU);
    uint32_t xf = X509_get_extension_flags(cert);
    unsigned flags = v->flags | (opts != NULL ? opts->flags : 0);
    if ((xf & EXFLAG_BCONS) && (xf & EXFLAG_CA) && !(flags & AVOW_VERIFY_ALLOW_AK_CA))
        return vfail(r, AVOW_ERR_AK_CA, "AK certificate has basicConstraints CA:TRUE");
    return AVOW_OK;
}

/*
 * The AK is the trusted key whose signature verifies: the key set first, then the
 * certificates of the verifier and of the call (the AttestationBundle's).
 */
static avow_err find_ak(const avow_verifier *v, const avow_verify_opts *opts,
                        const avow__tpm_certify *t, tpm_verified *r)
{
    int fitting = 0;
    for (size_t i = 0; i < v->nkeys; i++) {
        fitting += key_fits(v->keys[i].pub, t->sig_alg);
        if (sig_ok(v, t, v->keys[i].pub)) {
            r->key_source = "key set";
            return AVOW_OK;
        }
    }
    STACK_OF(X509) * lists[2] = {opts != NULL ? opts->untrusted : NULL, v->untrusted};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < sk_X509_num(lists[l]); i++) {
            X509 *x = sk_X509_value(lists[l], i);
            EVP_PKEY *pk = X509_get0_pubkey(x);
            if (pk == NULL)
                continue;
            fitting += key_fits(pk, t->sig_alg);
            if (!sig_ok(v, t, pk))
                continue;
            r->key_source = "certificate";
            X509_NAME_oneline(X509_get_subject_name(x), r->ak_subject, sizeof(r->ak_subject));
            return trust_ak(v, opts, x, r);
        }
    avow__ossl_clear();
    if (fitting == 0)
        return vfail(r, AVOW_ERR_KEY_UNKNOWN,
                     "no key of the key set and no certificate holds a %s key to check the %s "
                     "signature",
                     t->sig_alg == AVOW__TPM_ALG_ECDSA ? "EC" : "RSA",
                     avow__tpm_alg_name(t->sig_alg));
    return vfail(r, AVOW_ERR_SIG_INVALID,
                 "the %s signature over tpmSAttest verifies under none of %d candidate keys",
                 avow__tpm_alg_name(t->sig_alg), fitting);
}

/*
 * certifiedName against nameAlg || H(tpmTPublic), over the bytes decode
 * already read (nameAlg from them too), with the verifier's digest.
 */
static avow_err check_name(const avow_verifier *v, const avow__tpm_certify *t, tpm_verified *r)
{
    const EVP_MD *md = tpm_md(v, t->name_alg);
    if (md == NULL)
        return vfail(r, AVOW_ERR_TPM_NAME_ALG,
                     "tpmTPublic: nameAlg 0x%04x (%s) is not SHA-256, SHA-384 or SHA-512",
                     (unsigned)t->name_alg, avow__tpm_alg_name(t->name_alg));
    uint8_t name[2 + EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    name[0] = (uint8_t)(t->name_alg >> 8);
    name[1] = (uint8_t)t->name_alg;
    if (!EVP_Digest(t->pub.ptr, t->pub.len, name + 2, &n, md, NULL)) {
        avow__ossl_clear();
        return vfail(r, AVOW_ERR_CRYPTO, "tpmTPublic: digest failed");
    }
    if (2 + (size_t)n != t->name.len || CRYPTO_memcmp(name, t->name.b, 2 + (size_t)n) != 0)
        return vfail(r, AVOW_ERR_TPM_NAME,
                     "attested.certify.name is not nameAlg || H(tpmTPublic) of the given key");
    return AVOW_OK;
}

static avow_err tpm_verify(const avow_statement_type *row, const avow_verifier *v,
                           const void *native, const avow_verify_opts *opts, void **verified,
                           avow_diag *diag)
{
    (void)row;
    const avow__tpm_certify *t = native;
    tpm_verified *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "tpm", "out of memory");
    *verified = r;
    avow_err rc;
    if (t->sig_alg == 0)
        rc = vfail(r, AVOW_ERR_SIG_ALG,
                   "signature is not a TPMT_SIGNATURE: a bare signature names no scheme, and avow "
                   "does not guess one");
    else if (t->sig_alg != AVOW__TPM_ALG_RSASSA && t->sig_alg != AVOW__TPM_ALG_RSAPSS &&
             t->sig_alg != AVOW__TPM_ALG_ECDSA)
        rc = vfail(r, AVOW_ERR_SIG_ALG, "TPMT_SIGNATURE.sigAlg 0x%04x (%s) is not accepted",
                   (unsigned)t->sig_alg, avow__tpm_alg_name(t->sig_alg));
    else if (avow__tpm_hash_name(t->sig_hash) == NULL)
        rc = vfail(r, AVOW_ERR_TPM_NAME_ALG, "signature hash 0x%04x (%s) is not accepted",
                   (unsigned)t->sig_hash, avow__tpm_alg_name(t->sig_hash));
    else
        rc = find_ak(v, opts, t, r);
    if (rc == AVOW_OK && t->pub.ptr == NULL)
        rc = vfail(r, AVOW_ERR_TPM_NO_PUBLIC,
                   "no tpmTPublic: the certified key's name cannot be checked");
    if (rc == AVOW_OK)
        rc = check_name(v, t, r);
    if (rc == AVOW_OK && t->spki == NULL)
        rc = vfail(r, AVOW_ERR_UNSUPPORTED, "the certified key (type 0x%04x) has no SPKI form",
                   (unsigned)t->pub_type);
    r->status = rc;
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "tpm", "%s", r->detail);
    return AVOW_OK;
}

static const avow_vocab_element TPM_ELEMENTS[] = {
    {"attestation", 0},
    {"key", AVOW_VOCAB_KEY_ELEMENT},
};

enum {
    C_NONCE,
    C_CLOCK,
    C_RESET,
    C_RESTART,
    C_SAFE,
    C_FIRMWARE,
    C_SIGNER,
    C_SPKI,
    C_NAME,
    C_ATTRIBUTES,
    C_FIXED_TPM,
    C_FIXED_PARENT,
    C_SDO,
    C_USER_AUTH,
    C_RESTRICTED,
    C_SIGN,
    C_DECRYPT,
    C_ENC_DUP,
    C_EXTRACTABLE,
    C_NEVER_EXTRACTABLE,
    C_SENSITIVE,
    C_LOCAL,
    C_COUNT
};

/* In the order of the enum above. */
static const avow_vocab_claim TPM_CLAIMS[C_COUNT] = {
    {"attestation", "nonce", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, AVOW_ROLE_NONCE},
    {"attestation", "clock", AVOW_CV_INT, AVOW_TV_NONE, 0},
    {"attestation", "reset-count", AVOW_CV_INT, AVOW_TV_NONE, 0},
    {"attestation", "restart-count", AVOW_CV_INT, AVOW_TV_NONE, 0},
    {"attestation", "clock-safe", AVOW_CV_BOOL, AVOW_TV_NONE, 0},
    {"attestation", "firmware-version", AVOW_CV_BYTES, AVOW_TV_HARDWARE, 0},
    {"attestation", "qualified-signer", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, 0},
    {"key", "spki", AVOW_CV_BYTES, AVOW_TV_STORAGE_OPAQUE, AVOW_ROLE_KEY_SPKI},
    {"key", "tpm-name", AVOW_CV_BYTES, AVOW_TV_STORAGE_OPAQUE, AVOW_ROLE_KEY_ID},
    {"key", "object-attributes", AVOW_CV_INT, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "fixed-tpm", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "fixed-parent", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "sensitive-data-origin", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "user-with-auth", AVOW_CV_BOOL, AVOW_TV_CONFIGURATION, 0},
    {"key", "restricted", AVOW_CV_BOOL, AVOW_TV_CONFIGURATION, 0},
    {"key", "sign", AVOW_CV_BOOL, AVOW_TV_CONFIGURATION, 0},
    {"key", "decrypt", AVOW_CV_BOOL, AVOW_TV_CONFIGURATION, 0},
    {"key", "encrypted-duplication", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    /* The key vocabulary the default policy speaks (the PKIX row's names and types). */
    {"key", "extractable", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "never-extractable", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "sensitive", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
    {"key", "local", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
};

static const avow_vocabulary TPM_VOCAB = {"tpm", 2, TPM_ELEMENTS, C_COUNT, TPM_CLAIMS};

static void put(avow_claimset *out, int idx, uint32_t sb, avow_view bytes, int64_t integer)
{
    avow_nclaim *c = &out->items[out->count++];
    const avow_vocab_claim *vc = &TPM_CLAIMS[idx];
    c->element = vc->element;
    c->element_index = strcmp(vc->element, "key") == 0 ? 1 : 0;
    c->name = vc->name;
    c->known = 1;
    c->roles = vc->roles;
    c->value.type = vc->type;
    c->value.present = 1;
    c->value.bytes = bytes;
    c->value.integer = integer;
    c->signed_by = sb;
}

static avow_view bv(const uint8_t *p, size_t n)
{
    avow_view v = {p, n};
    return v;
}

static int64_t clamp(uint64_t x)
{
    return x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
}

/*
 * fixedTPM and fixedParent: the key cannot be duplicated, so it never leaves
 * this TPM (never-extractable, not extractable). Its sensitive part leaves
 * only wrapped unless it may be duplicated without the inner wrapper
 * (encryptedDuplication clear), hence "sensitive". sensitiveDataOrigin: the
 * TPM made the key (local).
 */
static avow_err tpm_claims(const avow_statement_type *row, const void *native, const void *verified,
                           avow_claimset *out)
{
    (void)row;
    const avow__tpm_certify *t = native;
    const tpm_verified *r = verified;
    uint32_t sb = r != NULL && r->status == AVOW_OK ? 1u : 0u;
    avow_err rc = avow_claimset_alloc(out, C_COUNT, 0, NULL);
    if (rc != AVOW_OK)
        return rc;
    avow_view none = {NULL, 0};
    out->count = 0;
    put(out, C_NONCE, sb, bv(t->extra_data.b, t->extra_data.len), 0);
    put(out, C_CLOCK, sb, none, clamp(t->clock));
    put(out, C_RESET, sb, none, t->reset_count);
    put(out, C_RESTART, sb, none, t->restart_count);
    put(out, C_SAFE, sb, none, t->safe);
    put(out, C_FIRMWARE, sb, bv(t->firmware_be, 8), 0);
    put(out, C_SIGNER, sb, bv(t->qualified_signer.b, t->qualified_signer.len), 0);
    if (t->pub.ptr == NULL)
        return AVOW_OK;
    uint32_t a = t->attributes;
    int fixed = (a & AVOW_TPMA_FIXED_TPM) && (a & AVOW_TPMA_FIXED_PARENT);
    if (t->spki != NULL)
        put(out, C_SPKI, sb, bv(t->spki, t->spki_len), 0);
    put(out, C_NAME, sb, bv(t->name.b, t->name.len), 0);
    put(out, C_ATTRIBUTES, sb, none, a);
    put(out, C_FIXED_TPM, sb, none, (a & AVOW_TPMA_FIXED_TPM) != 0);
    put(out, C_FIXED_PARENT, sb, none, (a & AVOW_TPMA_FIXED_PARENT) != 0);
    put(out, C_SDO, sb, none, (a & AVOW_TPMA_SENSITIVE_DATA_ORIGIN) != 0);
    put(out, C_USER_AUTH, sb, none, (a & AVOW_TPMA_USER_WITH_AUTH) != 0);
    put(out, C_RESTRICTED, sb, none, (a & AVOW_TPMA_RESTRICTED) != 0);
    put(out, C_SIGN, sb, none, (a & AVOW_TPMA_SIGN) != 0);
    put(out, C_DECRYPT, sb, none, (a & AVOW_TPMA_DECRYPT) != 0);
    put(out, C_ENC_DUP, sb, none, (a & AVOW_TPMA_ENCRYPTED_DUPLICATION) != 0);
    put(out, C_EXTRACTABLE, sb, none, !fixed);
    put(out, C_NEVER_EXTRACTABLE, sb, none, fixed);
    put(out, C_SENSITIVE, sb, none, fixed || (a & AVOW_TPMA_ENCRYPTED_DUPLICATION) != 0);
    put(out, C_LOCAL, sb, none, (a & AVOW_TPMA_SENSITIVE_DATA_ORIGIN) != 0);
    return AVOW_OK;
}

static void hex(BIO *b, const char *label, const uint8_t *p, size_t n)
{
    BIO_printf(b, "    %s: ", label);
    for (size_t i = 0; i < n; i++)
        BIO_printf(b, "%02x", p[i]);
    BIO_printf(b, "\n");
}

static const char *const ATTR_NAMES[32] = {
    [1] = "fixedTPM",     [2] = "stClear",
    [4] = "fixedParent",  [5] = "sensitiveDataOrigin",
    [6] = "userWithAuth", [7] = "adminWithPolicy",
    [10] = "noDA",        [11] = "encryptedDuplication",
    [16] = "restricted",  [17] = "decrypt",
    [18] = "sign",        [19] = "x509sign",
};

static avow_err tpm_text(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row;
    const avow__tpm_certify *t = native;
    const tpm_verified *r = verified;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    BIO_printf(b, "TPM 2.0 key attestation (tcg-attest-tpm-certify):\n");
    if (t->sig_alg != 0)
        BIO_printf(b, "  Signature: %s with %s, %zu bytes\n", avow__tpm_alg_name(t->sig_alg),
                   avow__tpm_alg_name(t->sig_hash), t->sig_len);
    else
        BIO_printf(b, "  Signature: %zu bytes, not a TPMT_SIGNATURE (no scheme)\n", t->sig.len);
    if (r != NULL) {
        if (r->status == AVOW_OK)
            BIO_printf(b, "  Verified: yes, AK from the %s%s%s\n", r->key_source,
                       r->ak_subject[0] ? " " : "", r->ak_subject);
        else {
            BIO_printf(b, "  Verified: no (%s): ", avow_errname(r->status));
            avow__escape_bio(b, (const uint8_t *)r->detail, strlen(r->detail), 0);
            BIO_printf(b, "\n");
        }
    }
    BIO_printf(b, "  Attestation (TPMS_ATTEST, TPM_ST_ATTEST_CERTIFY):\n");
    hex(b, "qualified signer", t->qualified_signer.b, t->qualified_signer.len);
    hex(b, "extra data (nonce)", t->extra_data.b, t->extra_data.len);
    BIO_printf(b, "    clock: %llu ms, reset count %u, restart count %u, safe %s\n",
               (unsigned long long)t->clock, (unsigned)t->reset_count, (unsigned)t->restart_count,
               t->safe ? "yes" : "no");
    BIO_printf(b, "    firmware version: 0x%016llx\n", (unsigned long long)t->firmware);
    hex(b, "certified name", t->name.b, t->name.len);
    hex(b, "qualified name", t->qualified_name.b, t->qualified_name.len);
    if (t->pub.ptr != NULL) {
        BIO_printf(b, "  Certified key (TPMT_PUBLIC):\n");
        BIO_printf(b, "    type: %s, nameAlg: %s", avow__tpm_alg_name(t->pub_type),
                   avow__tpm_alg_name(t->name_alg));
        if (t->pub_type == AVOW__TPM_ALG_RSA)
            BIO_printf(b, ", %u bits", (unsigned)t->rsa_bits);
        else if (t->pub_type == AVOW__TPM_ALG_ECC)
            BIO_printf(b, ", curve 0x%04x", (unsigned)t->curve);
        BIO_printf(b, "\n    objectAttributes: 0x%08x", (unsigned)t->attributes);
        for (int i = 0; i < 32; i++)
            if ((t->attributes >> i) & 1u)
                BIO_printf(b, " %s", ATTR_NAMES[i] != NULL ? ATTR_NAMES[i] : "reserved");
        BIO_printf(b, "\n");
    } else {
        BIO_printf(b, "  Certified key: no TPMT_PUBLIC\n");
    }
    avow_err rc = avow__text_take(b, out);
    BIO_free(b);
    return rc;
}

static avow_err tpm_json(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row;
    const avow__tpm_certify *t = native;
    const tpm_verified *r = verified;
    int bad = 0;
    json_t *o = json_object(), *a = json_object(), *k = json_object(), *attrs = json_array();
    if (o == NULL || a == NULL || k == NULL || attrs == NULL) {
        json_decref(o), json_decref(a), json_decref(k), json_decref(attrs);
        return AVOW_ERR_NOMEM;
    }
    avow__json_put(o, "type", json_string(AVOW_TPM_ROW_NAME), &bad);
    avow__json_put(o, "sig_alg",
                   t->sig_alg != 0 ? json_string(avow__tpm_alg_name(t->sig_alg)) : json_null(),
                   &bad);
    avow__json_put(o, "sig_hash",
                   t->sig_alg != 0 ? json_string(avow__tpm_alg_name(t->sig_hash)) : json_null(),
                   &bad);
    if (r != NULL) {
        avow__json_put(o, "verified", json_boolean(r->status == AVOW_OK), &bad);
        avow__json_put(o, "status", avow__json_errname(r->status), &bad);
        avow__json_put(o, "key_source", r->key_source ? json_string(r->key_source) : json_null(),
                       &bad);
        if (r->ak_subject[0])
            avow__json_put(o, "ak_subject", avow__json_text(r->ak_subject), &bad);
        if (r->status != AVOW_OK)
            avow__json_put(o, "detail", avow__json_text(r->detail), &bad);
    }
    avow__json_put(a, "qualified_signer",
                   avow__json_hex(t->qualified_signer.b, t->qualified_signer.len), &bad);
    avow__json_put(a, "extra_data", avow__json_hex(t->extra_data.b, t->extra_data.len), &bad);
    avow__json_put(a, "clock", json_integer((json_int_t)clamp(t->clock)), &bad);
    avow__json_put(a, "reset_count", json_integer((json_int_t)t->reset_count), &bad);
    avow__json_put(a, "restart_count", json_integer((json_int_t)t->restart_count), &bad);
    avow__json_put(a, "safe", json_boolean(t->safe), &bad);
    avow__json_put(a, "firmware_version", avow__json_hex(t->firmware_be, 8), &bad);
    avow__json_put(a, "name", avow__json_hex(t->name.b, t->name.len), &bad);
    avow__json_put(a, "qualified_name", avow__json_hex(t->qualified_name.b, t->qualified_name.len),
                   &bad);
    avow__json_put(o, "attest", a, &bad);
    if (t->pub.ptr != NULL) {
        avow__json_put(k, "type", json_string(avow__tpm_alg_name(t->pub_type)), &bad);
        avow__json_put(k, "name_alg", json_string(avow__tpm_alg_name(t->name_alg)), &bad);
        avow__json_put(k, "object_attributes", json_integer((json_int_t)t->attributes), &bad);
        for (int i = 0; i < 32; i++)
            if (((t->attributes >> i) & 1u) &&
                json_array_append_new(
                    attrs, json_string(ATTR_NAMES[i] != NULL ? ATTR_NAMES[i] : "reserved")) != 0)
                bad = 1;
        avow__json_put(k, "attributes", attrs, &bad);
        attrs = NULL;
        if (t->spki != NULL)
            avow__json_put(k, "spki", avow__json_hex(t->spki, t->spki_len), &bad);
        avow__json_put(o, "key", k, &bad);
    } else {
        json_decref(k);
        avow__json_put(o, "key", json_null(), &bad);
    }
    json_decref(attrs);
    avow_err rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2), 1, out);
    json_decref(o);
    return rc;
}

static void tpm_free(const avow_statement_type *row, void *native, void *verified)
{
    (void)row;
    avow__tpm_free(native);
    OPENSSL_free(verified);
}

/* DER content octets of AVOW_OID_TPM_CERTIFY (2.23.133.20.1). */
const avow_statement_type avow__tpm_row = {
    sizeof(avow_statement_type),
    AVOW_TPM_ROW_NAME,
    AVOW_TYPE_OID_FIXED,
    {5, "\x67\x81\x05\x14\x01"},
    &TPM_VOCAB,
    "avow_tpm_certify",
    "avow_tpm_verified",
    tpm_decode,
    tpm_verify,
    tpm_claims,
    tpm_text,
    tpm_json,
    tpm_free,
    NULL,
    NULL,
    0,
    NULL,
};
