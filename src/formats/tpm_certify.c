/*
 * The tcg-attest-tpm-certify statement (csr-attestation, TPM appendix):
 * a DER SEQUENCE of two or three OCTET STRINGs read strictly here, the TPM
 * structures inside them read only through libtss2-mu, each to its last
 * byte. What the row needs is copied out in plain C types (tpm_int.h).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <tss2/tss2_mu.h>

#include "core/der.h"
#include "core/internal.h"
#include "formats/tpm_int.h"

int avow_tpm_available(void)
{
    return 1;
}

const char *avow__tpm_hash_name(uint16_t alg)
{
    switch (alg) {
    case AVOW__TPM_ALG_SHA256:
        return "SHA256";
    case AVOW__TPM_ALG_SHA384:
        return "SHA384";
    case AVOW__TPM_ALG_SHA512:
        return "SHA512";
    default:
        return NULL;
    }
}

const char *avow__tpm_alg_name(uint16_t alg)
{
    switch (alg) {
    case AVOW__TPM_ALG_RSA:
        return "rsa";
    case AVOW__TPM_ALG_SHA1:
        return "sha1";
    case AVOW__TPM_ALG_SHA256:
        return "sha256";
    case AVOW__TPM_ALG_SHA384:
        return "sha384";
    case AVOW__TPM_ALG_SHA512:
        return "sha512";
    case AVOW__TPM_ALG_NULL:
        return "null";
    case AVOW__TPM_ALG_RSASSA:
        return "rsassa";
    case AVOW__TPM_ALG_RSAPSS:
        return "rsapss";
    case AVOW__TPM_ALG_ECDSA:
        return "ecdsa";
    case AVOW__TPM_ALG_ECC:
        return "ecc";
    default:
        return "unknown";
    }
}

void avow__tpm_free(avow__tpm_certify *t)
{
    if (t == NULL)
        return;
    OPENSSL_free(t->der);
    OPENSSL_free(t->sig_bytes);
    OPENSSL_free(t->spki);
    OPENSSL_free(t);
}

static void blob(avow__tpm_blob *dst, const uint8_t *src, uint16_t n)
{
    /* The MU unmarshallers bound n by the TPM2B's array already; this is belt and braces. */
    if (n > sizeof(dst->b))
        n = sizeof(dst->b);
    dst->len = n;
    memcpy(dst->b, src, n);
}

/* A Certify TPMS_ATTEST, the whole of p[0..len). */
static avow_err read_attest(const uint8_t *p, size_t len, TPMS_ATTEST *a, avow_diag *diag)
{
    size_t off = 0;
    memset(a, 0, sizeof(*a));
    TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(p, len, &off, a);
    if (rc != TSS2_RC_SUCCESS) {
        avow_err e = avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmSAttest",
                                "TPMS_ATTEST does not unmarshal (TSS2_RC 0x%x)", (unsigned)rc);
        avow__set_backend(diag, AVOW_BACKEND_TPM, rc);
        return e;
    }
    if (off != len)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmSAttest",
                          "%zu bytes after the TPMS_ATTEST", len - off);
    if (a->magic != TPM2_GENERATED_VALUE)
        return avow__fail(diag, AVOW_ERR_TPM_MAGIC, "tpmSAttest.magic",
                          "magic 0x%08x, not TPM_GENERATED_VALUE (0xff544347)", (unsigned)a->magic);
    if (a->type != TPM2_ST_ATTEST_CERTIFY)
        return avow__fail(diag, AVOW_ERR_TPM_ATTEST_TYPE, "tpmSAttest.type",
                          "type 0x%04x, not TPM_ST_ATTEST_CERTIFY (0x8017)", (unsigned)a->type);
    return AVOW_OK;
}

static avow_err read_signature(const uint8_t *p, size_t len, TPMT_SIGNATURE *s, int *is_tpmt,
                               avow_diag *diag)
{
    size_t off = 0;
    memset(s, 0, sizeof(*s));
    *is_tpmt = 0;
    if (len == 0)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "signature", "empty");
    TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(p, len, &off, s);
    /* The appendix's sample carries a bare RSA signature instead: kept to be shown, never
     * verified, since it names no scheme and avow does not guess one. */
    *is_tpmt = rc == TSS2_RC_SUCCESS && off == len;
    return AVOW_OK;
}

static avow_err read_public(const uint8_t *p, size_t len, TPMT_PUBLIC *pub, avow_diag *diag)
{
    size_t off = 0;
    memset(pub, 0, sizeof(*pub));
    TSS2_RC rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(p, len, &off, pub);
    if (rc != TSS2_RC_SUCCESS) {
        avow_err e = avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmTPublic",
                                "TPMT_PUBLIC does not unmarshal (TSS2_RC 0x%x)", (unsigned)rc);
        avow__set_backend(diag, AVOW_BACKEND_TPM, rc);
        return e;
    }
    if (off != len)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmTPublic",
                          "%zu bytes after the TPMT_PUBLIC", len - off);
    return AVOW_OK;
}

/* A tag and a DER length (below 64 KiB) at o; returns the header's length. */
static size_t put_len(uint8_t *o, uint8_t tag, size_t n)
{
    size_t i = 0;
    o[i++] = tag;
    if (n < 0x80) {
        o[i++] = (uint8_t)n;
    } else if (n < 0x100) {
        o[i++] = 0x81;
        o[i++] = (uint8_t)n;
    } else {
        o[i++] = 0x82;
        o[i++] = (uint8_t)(n >> 8);
        o[i++] = (uint8_t)n;
    }
    return i;
}

/*
 * The unsigned big-endian v[0..n) as a DER INTEGER at o (minimal: leading
 * zeros dropped, one 0x00 before a set high bit); returns its length. The
 * ECDSA-Sig-Value is written here rather than through ECDSA_SIG and two
 * BIGNUMs, which cost a tenth of what the rest of the decode does.
 */
static size_t der_uint(uint8_t *o, const uint8_t *v, size_t n)
{
    while (n > 1 && v[0] == 0)
        v++, n--;
    int pad = v[0] & 0x80;
    size_t h = put_len(o, 0x02, n + (pad ? 1 : 0));
    if (pad)
        o[h++] = 0x00;
    memcpy(o + h, v, n);
    return h + n;
}

/* RSA signature bytes, or r and s as a DER ECDSA-Sig-Value. */
static avow_err take_signature(avow__tpm_certify *t, const TPMT_SIGNATURE *s, avow_diag *diag)
{
    t->sig_alg = s->sigAlg;
    if (s->sigAlg == TPM2_ALG_RSASSA || s->sigAlg == TPM2_ALG_RSAPSS) {
        const TPMS_SIGNATURE_RSA *r =
            s->sigAlg == TPM2_ALG_RSASSA ? &s->signature.rsassa : &s->signature.rsapss;
        t->sig_hash = r->hash;
        if (r->sig.size == 0)
            return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "signature.sig", "empty RSA signature");
        t->sig_bytes = OPENSSL_memdup(r->sig.buffer, r->sig.size);
        t->sig_len = r->sig.size;
        return t->sig_bytes != NULL
                   ? AVOW_OK
                   : avow__fail(diag, AVOW_ERR_NOMEM, "signature", "out of memory");
    }
    if (s->sigAlg == TPM2_ALG_ECDSA) {
        const TPMS_SIGNATURE_ECC *e = &s->signature.ecdsa;
        t->sig_hash = e->hash;
        if (e->signatureR.size == 0 || e->signatureS.size == 0)
            return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "signature.signatureR",
                              "empty ECDSA r or s");
        /* Sized for the largest TPM2B_ECC_PARAMETERs, whatever the curve. */
        uint8_t der[3 + 2 * (3 + 1 + sizeof(e->signatureR.buffer))];
        size_t rl = 0, sl = 0;
        uint8_t ri[3 + 1 + sizeof(e->signatureR.buffer)], si[sizeof(ri)];
        rl = der_uint(ri, e->signatureR.buffer, e->signatureR.size);
        sl = der_uint(si, e->signatureS.buffer, e->signatureS.size);
        size_t h = put_len(der, 0x30, rl + sl);
        memcpy(der + h, ri, rl);
        memcpy(der + h + rl, si, sl);
        if ((t->sig_bytes = OPENSSL_memdup(der, h + rl + sl)) == NULL)
            return avow__fail(diag, AVOW_ERR_NOMEM, "signature", "out of memory");
        t->sig_len = h + rl + sl;
        return AVOW_OK;
    }
    /* Other schemes (HMAC, SM2, ECSCHNORR, null) are kept by name and refused by the row. */
    return AVOW_OK;
}

static const char *curve_group(uint16_t c)
{
    switch (c) {
    case TPM2_ECC_NIST_P256:
        return "P-256";
    case TPM2_ECC_NIST_P384:
        return "P-384";
    case TPM2_ECC_NIST_P521:
        return "P-521";
    default:
        return NULL;
    }
}

/* b of y^2 = x^3 - 3x + b (FIPS 186-4 D.1.2, SEC 2 2.4-2.6), big-endian at the field's length. */
static const uint8_t P256_B[32] = {0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd,
                                   0x55, 0x76, 0x98, 0x86, 0xbc, 0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53,
                                   0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b};
static const uint8_t P384_B[48] = {
    0xb3, 0x31, 0x2f, 0xa7, 0xe2, 0x3e, 0xe7, 0xe4, 0x98, 0x8e, 0x05, 0x6b, 0xe3, 0xf8, 0x2d, 0x19,
    0x18, 0x1d, 0x9c, 0x6e, 0xfe, 0x81, 0x41, 0x12, 0x03, 0x14, 0x08, 0x8f, 0x50, 0x13, 0x87, 0x5a,
    0xc6, 0x56, 0x39, 0x8d, 0x8a, 0x2e, 0xd1, 0x9d, 0x2a, 0x85, 0xc8, 0xed, 0xd3, 0xec, 0x2a, 0xef};
static const uint8_t P521_B[66] = {
    0x00, 0x51, 0x95, 0x3e, 0xb9, 0x61, 0x8e, 0x1c, 0x9a, 0x1f, 0x92, 0x9a, 0x21, 0xa0,
    0xb6, 0x85, 0x40, 0xee, 0xa2, 0xda, 0x72, 0x5b, 0x99, 0xb3, 0x15, 0xf3, 0xb8, 0xb4,
    0x89, 0x91, 0x8e, 0xf1, 0x09, 0xe1, 0x56, 0x19, 0x39, 0x51, 0xec, 0x7e, 0x93, 0x7b,
    0x16, 0x52, 0xc0, 0xbd, 0x3b, 0xb1, 0xbf, 0x07, 0x35, 0x73, 0xdf, 0x88, 0x3d, 0x2c,
    0x34, 0xf1, 0xef, 0x45, 0x1f, 0xd4, 0x6b, 0x50, 0x3f, 0x00};

/*
 * The SubjectPublicKeyInfo DER before the BIT STRING's point (RFC 5480:
 * id-ecPublicKey with the named curve, the BIT STRING with no unused bits).
 */
static const uint8_t P256_SPKI[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const uint8_t P384_SPKI[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};
static const uint8_t P521_SPKI[] = {0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81,
                                    0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00};

/*
 * Whether the affine point (x, y), each fl bytes, is on the NIST curve with
 * prime p and coefficient b: x and y below p and y^2 = x^3 - 3x + b mod p
 * (the curves have cofactor 1: on the curve is in the group; an uncompressed
 * point is never the point at infinity). The equation by hand, not through
 * an EC_GROUP: making the group (EC_GROUP_new_by_curve_name) costs an eighth
 * of the signature check, on every decode, and a group made once would have
 * to be held somewhere the row's decode cannot reach (docs/tpm.md, Cost).
 * Returns 1 on the curve, 0 off it, -1 when out of memory.
 */
static int on_curve(const BIGNUM *p, const uint8_t *b_be, const uint8_t *x_be, const uint8_t *y_be,
                    size_t fl)
{
    BN_CTX *ctx = BN_CTX_new();
    if (ctx == NULL)
        return -1;
    BN_CTX_start(ctx);
    BIGNUM *x = BN_CTX_get(ctx), *y = BN_CTX_get(ctx), *b = BN_CTX_get(ctx);
    BIGNUM *l = BN_CTX_get(ctx), *r = BN_CTX_get(ctx);
    int rc = -1;
    if (r != NULL && BN_bin2bn(x_be, (int)fl, x) != NULL && BN_bin2bn(y_be, (int)fl, y) != NULL &&
        BN_bin2bn(b_be, (int)fl, b) != NULL) {
        if (BN_cmp(x, p) >= 0 || BN_cmp(y, p) >= 0)
            rc = 0;
        else if (BN_mod_sqr(l, y, p, ctx) && BN_mod_sqr(r, x, p, ctx) && BN_sub_word(r, 3) &&
                 BN_mod_mul(r, r, x, p, ctx) && BN_mod_add(r, r, b, p, ctx))
            rc = BN_cmp(l, r) == 0;
    }
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return rc;
}

/*
 * An EC point's SubjectPublicKeyInfo, the point checked to be on the curve.
 * Written from the fixed RFC 5480 prefix, not through an EVP_PKEY or
 * X509_PUBKEY: OpenSSL 3.0's provider encoder lookup behind i2d_PUBKEY
 * costs more than the signature check, and the statement is decoded once
 * per verification.
 */
static avow_err ec_spki(avow__tpm_certify *t, const uint8_t *point, size_t n, avow_diag *diag)
{
    size_t fl = (n - 1) / 2;
    const BIGNUM *p = t->curve == TPM2_ECC_NIST_P256   ? BN_get0_nist_prime_256()
                      : t->curve == TPM2_ECC_NIST_P384 ? BN_get0_nist_prime_384()
                                                       : BN_get0_nist_prime_521();
    const uint8_t *b = fl == 32 ? P256_B : fl == 48 ? P384_B : P521_B;
    const uint8_t *pre = fl == 32 ? P256_SPKI : fl == 48 ? P384_SPKI : P521_SPKI;
    size_t pl = fl == 32 ? sizeof(P256_SPKI) : fl == 48 ? sizeof(P384_SPKI) : sizeof(P521_SPKI);
    int on = on_curve(p, b, point + 1, point + 1 + fl, fl);
    if (on < 0)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "tpmTPublic", "out of memory");
    if (on == 0)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmTPublic.unique.ecc",
                          "the point is not on %s", curve_group(t->curve));
    uint8_t *der = OPENSSL_malloc(pl + n);
    if (der == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "tpmTPublic", "out of memory");
    memcpy(der, pre, pl);
    memcpy(der + pl, point, n);
    t->spki = der;
    t->spki_len = pl + n;
    return AVOW_OK;
}

/* The certified key as a SubjectPublicKeyInfo (RSA or a NIST curve); others get none. */
static avow_err make_spki(avow__tpm_certify *t, const TPMT_PUBLIC *pub, avow_diag *diag)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *n = NULL, *e = NULL;
    uint8_t point[1 + 2 * 66];
    const char *kt = NULL;
    avow_err rc = AVOW_OK;
    if (bld == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "tpmTPublic", "out of memory");
    if (pub->type == TPM2_ALG_RSA) {
        const TPM2B_PUBLIC_KEY_RSA *u = &pub->unique.rsa;
        uint32_t exp = pub->parameters.rsaDetail.exponent;
        t->rsa_bits = pub->parameters.rsaDetail.keyBits;
        if (u->size == 0 || (size_t)u->size * 8 != t->rsa_bits) {
            rc = avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmTPublic.unique.rsa",
                            "modulus of %u bytes for keyBits %u", (unsigned)u->size,
                            (unsigned)t->rsa_bits);
            goto done;
        }
        n = BN_bin2bn(u->buffer, u->size, NULL);
        e = BN_new();
        if (n == NULL || e == NULL || !BN_set_word(e, exp == 0 ? 65537u : exp) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
            rc = avow__fail_ossl(diag, AVOW_ERR_NOMEM, "tpmTPublic", "out of memory");
            goto done;
        }
        kt = "RSA";
    } else if (pub->type == TPM2_ALG_ECC) {
        t->curve = pub->parameters.eccDetail.curveID;
        const char *g = curve_group(t->curve);
        size_t fl = t->curve == TPM2_ECC_NIST_P256 ? 32 : t->curve == TPM2_ECC_NIST_P384 ? 48 : 66;
        const TPMS_ECC_POINT *u = &pub->unique.ecc;
        if (g == NULL)
            goto done; /* shown by its curve id, no SPKI */
        if (u->x.size == 0 || u->x.size > fl || u->y.size == 0 || u->y.size > fl) {
            rc = avow__fail(diag, AVOW_ERR_TPM_STRUCT, "tpmTPublic.unique.ecc",
                            "coordinates of %u and %u bytes on %s", (unsigned)u->x.size,
                            (unsigned)u->y.size, g);
            goto done;
        }
        /* TPM coordinates may be shorter than the field: left-pad them. */
        memset(point, 0, sizeof(point));
        point[0] = 0x04;
        memcpy(point + 1 + fl - u->x.size, u->x.buffer, u->x.size);
        memcpy(point + 1 + 2 * fl - u->y.size, u->y.buffer, u->y.size);
        rc = ec_spki(t, point, 1 + 2 * fl, diag);
        goto done;
        kt = "EC";
    } else {
        goto done; /* keyedHash and symcipher objects have no public key */
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, kt, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        rc = avow__fail_ossl(diag, AVOW_ERR_TPM_STRUCT, "tpmTPublic.unique",
                             "the public key is not a valid %s key", kt);
        goto done;
    }
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(pk, &der);
    if (dl <= 0) {
        rc = avow__fail_ossl(diag, AVOW_ERR_NOMEM, "tpmTPublic", "cannot encode the key");
        goto done;
    }
    t->spki = der;
    t->spki_len = (size_t)dl;
done:
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return rc;
}

/* One OCTET STRING at p[*off..end): its contents into *v. */
static avow_err octets(const uint8_t *p, size_t end, size_t *off, const char *field, avow_view *v,
                       avow_diag *diag)
{
    uint8_t tag;
    size_t hdr, body;
    avow_err rc = avow__der_header(p + *off, end - *off, &tag, &hdr, &body);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, field, "bad DER header");
    if (tag != 0x04)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, field, "tag 0x%02x, not OCTET STRING", tag);
    if (body == 0 || body > AVOW_TPM_MAX_PART)
        return avow__fail(diag, body == 0 ? AVOW_ERR_TPM_STRUCT : AVOW_ERR_TOO_LARGE, field,
                          "%zu bytes (1..%d)", body, AVOW_TPM_MAX_PART);
    v->ptr = p + *off + hdr;
    v->len = body;
    *off += hdr + body;
    return AVOW_OK;
}

static avow_err decode_into(avow__tpm_certify *t, avow_diag *diag)
{
    const uint8_t *p = t->der;
    size_t len = t->der_len;
    uint8_t tag;
    size_t hdr, body;
    avow_err rc = avow__der_check(p, len, 2);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "stmt", "not one DER value");
    rc = avow__der_header(p, len, &tag, &hdr, &body);
    if (rc != AVOW_OK)
        return avow__fail(diag, rc, "stmt", "bad DER header");
    if (tag != 0x30)
        return avow__fail(diag, AVOW_ERR_WRONG_TAG, "stmt", "tag 0x%02x, not SEQUENCE", tag);
    size_t off = hdr, end = hdr + body;
    if ((rc = octets(p, end, &off, "tpmSAttest", &t->attest, diag)) != AVOW_OK ||
        (rc = octets(p, end, &off, "signature", &t->sig, diag)) != AVOW_OK)
        return rc;
    if (off < end && (rc = octets(p, end, &off, "tpmTPublic", &t->pub, diag)) != AVOW_OK)
        return rc;
    if (off != end)
        return avow__fail(diag, AVOW_ERR_TRAILING, "stmt", "more than three fields");

    TPMS_ATTEST a;
    if ((rc = read_attest(t->attest.ptr, t->attest.len, &a, diag)) != AVOW_OK)
        return rc;
    blob(&t->qualified_signer, a.qualifiedSigner.name, a.qualifiedSigner.size);
    blob(&t->extra_data, a.extraData.buffer, a.extraData.size);
    blob(&t->name, a.attested.certify.name.name, a.attested.certify.name.size);
    blob(&t->qualified_name, a.attested.certify.qualifiedName.name,
         a.attested.certify.qualifiedName.size);
    t->clock = a.clockInfo.clock;
    t->reset_count = a.clockInfo.resetCount;
    t->restart_count = a.clockInfo.restartCount;
    t->safe = a.clockInfo.safe != 0;
    t->firmware = a.firmwareVersion;
    for (int i = 0; i < 8; i++)
        t->firmware_be[i] = (uint8_t)(t->firmware >> (56 - 8 * i));

    TPMT_SIGNATURE s;
    int is_tpmt = 0;
    if ((rc = read_signature(t->sig.ptr, t->sig.len, &s, &is_tpmt, diag)) != AVOW_OK)
        return rc;
    if (is_tpmt && (rc = take_signature(t, &s, diag)) != AVOW_OK)
        return rc;

    if (t->pub.ptr != NULL) {
        TPMT_PUBLIC pub;
        if ((rc = read_public(t->pub.ptr, t->pub.len, &pub, diag)) != AVOW_OK)
            return rc;
        t->pub_type = pub.type;
        t->name_alg = pub.nameAlg;
        t->attributes = pub.objectAttributes;
        if ((rc = make_spki(t, &pub, diag)) != AVOW_OK)
            return rc;
    }
    return AVOW_OK;
}

avow_err avow__tpm_decode(const uint8_t *stmt, size_t len, avow__tpm_certify **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "out", "no output");
    *out = NULL;
    if (stmt == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_TRUNCATED, "stmt", "empty statement");
    if (len > 3 * AVOW_TPM_MAX_PART + 16)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "stmt", "%zu bytes", len);
    avow__tpm_certify *t = OPENSSL_zalloc(sizeof(*t));
    if (t == NULL || (t->der = OPENSSL_memdup(stmt, len)) == NULL) {
        OPENSSL_free(t);
        return avow__fail(diag, AVOW_ERR_NOMEM, "stmt", "out of memory");
    }
    t->der_len = len;
    avow_err rc = decode_into(t, diag);
    if (rc != AVOW_OK) {
        avow__tpm_free(t);
        return rc;
    }
    *out = t;
    return AVOW_OK;
}

avow_err avow_tpm_name(const uint8_t *pub, size_t pub_len, uint8_t *out, size_t cap, size_t *len,
                       avow_diag *diag)
{
    if (pub == NULL || out == NULL || len == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "pub", "no input or output");
    TPMT_PUBLIC p;
    avow_err rc = read_public(pub, pub_len, &p, diag);
    if (rc != AVOW_OK)
        return rc;
    const char *h = avow__tpm_hash_name(p.nameAlg);
    if (h == NULL)
        return avow__fail(diag, AVOW_ERR_TPM_NAME_ALG, "tpmTPublic.nameAlg",
                          "nameAlg 0x%04x (%s) is not SHA-256, SHA-384 or SHA-512",
                          (unsigned)p.nameAlg, avow__tpm_alg_name(p.nameAlg));
    const EVP_MD *md = EVP_get_digestbyname(h);
    unsigned int n = 0;
    if (md == NULL || cap < 2 + (size_t)EVP_MD_get_size(md))
        return avow__fail(diag, md == NULL ? AVOW_ERR_CRYPTO : AVOW_ERR_ARG, "out",
                          "no room for the name");
    out[0] = (uint8_t)(p.nameAlg >> 8);
    out[1] = (uint8_t)p.nameAlg;
    if (!EVP_Digest(pub, pub_len, out + 2, &n, md, NULL))
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "tpmTPublic", "digest failed");
    *len = 2 + n;
    return AVOW_OK;
}

/* tag, DER length, contents. */
static size_t put_tlv(uint8_t *o, uint8_t tag, const uint8_t *c, size_t n)
{
    size_t i = put_len(o, tag, n);
    if (c != NULL)
        memcpy(o + i, c, n);
    return i + (c != NULL ? n : 0);
}

avow_err avow_tpm_certify_encode(const uint8_t *attest, size_t attest_len, const uint8_t *sig,
                                 size_t sig_len, const uint8_t *pub, size_t pub_len, avow_buf *out,
                                 avow_diag *diag)
{
    if (out == NULL || attest == NULL || sig == NULL || (pub == NULL && pub_len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "attest", "missing part");
    out->ptr = NULL;
    out->len = 0;
    if (attest_len == 0 || sig_len == 0 || (pub != NULL && pub_len == 0) ||
        attest_len > AVOW_TPM_MAX_PART || sig_len > AVOW_TPM_MAX_PART ||
        pub_len > AVOW_TPM_MAX_PART)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "attest", "parts of 1..%d bytes",
                          AVOW_TPM_MAX_PART);
    TPMS_ATTEST a;
    avow_err rc = read_attest(attest, attest_len, &a, diag);
    if (rc != AVOW_OK)
        return rc;
    TPMT_SIGNATURE s;
    size_t off = 0;
    TSS2_RC trc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, sig_len, &off, &s);
    if (trc != TSS2_RC_SUCCESS || off != sig_len)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "signature",
                          "not one TPMT_SIGNATURE (TSS2_RC 0x%x)", (unsigned)trc);
    if (pub != NULL) {
        TPMT_PUBLIC p;
        if ((rc = read_public(pub, pub_len, &p, diag)) != AVOW_OK)
            return rc;
    }
    size_t body = 4 + attest_len + 4 + sig_len + (pub != NULL ? 4 + pub_len : 0);
    uint8_t *o = OPENSSL_malloc(body + 4);
    if (o == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "stmt", "out of memory");
    /* Each part is below 64 KiB, so every length fits the 0x82 form. */
    size_t inner = 0;
    uint8_t tmp[4];
    inner += put_tlv(tmp, 0x04, NULL, attest_len) + attest_len;
    inner += put_tlv(tmp, 0x04, NULL, sig_len) + sig_len;
    if (pub != NULL)
        inner += put_tlv(tmp, 0x04, NULL, pub_len) + pub_len;
    size_t h = put_tlv(o, 0x30, NULL, inner);
    uint8_t *q = o + h;
    q += put_tlv(q, 0x04, attest, attest_len);
    q += put_tlv(q, 0x04, sig, sig_len);
    if (pub != NULL)
        q += put_tlv(q, 0x04, pub, pub_len);
    out->ptr = o;
    out->len = (size_t)(q - o);
    return AVOW_OK;
}

avow_err avow_tpm_public_spki(const uint8_t *pub, size_t pub_len, avow_buf *spki, avow_diag *diag)
{
    if (spki != NULL)
        spki->ptr = NULL, spki->len = 0;
    if (pub == NULL || spki == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "pub", "no TPM2B_PUBLIC or output");
    TPM2B_PUBLIC p;
    memset(&p, 0, sizeof(p));
    size_t off = 0;
    TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, pub_len, &off, &p);
    if (rc != TSS2_RC_SUCCESS) {
        avow_err e = avow__fail(diag, AVOW_ERR_TPM_STRUCT, "pub",
                                "TPM2B_PUBLIC does not unmarshal (TSS2_RC 0x%x)", (unsigned)rc);
        avow__set_backend(diag, AVOW_BACKEND_TPM, rc);
        return e;
    }
    if (off != pub_len)
        return avow__fail(diag, AVOW_ERR_TPM_STRUCT, "pub", "%zu bytes after the TPM2B_PUBLIC",
                          pub_len - off);
    avow__tpm_certify t;
    memset(&t, 0, sizeof(t));
    avow_err e = make_spki(&t, &p.publicArea, diag);
    if (e != AVOW_OK)
        return e;
    if (t.spki == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "pub.type",
                          "the key (type 0x%04x) has no public key avow reads",
                          (unsigned)p.publicArea.type);
    spki->ptr = t.spki;
    spki->len = t.spki_len;
    return AVOW_OK;
}
