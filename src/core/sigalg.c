/*
 * The signature algorithms avow accepts: names, strict AlgorithmIdentifier
 * DER in both directions, and verification through EVP_DigestVerify.
 *
 * The DER reader below is deliberately tiny: an AlgorithmIdentifier has a
 * handful of fixed shapes, so checking each byte against the one shape we
 * accept gives precise field names in errors and no BER leniency.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <avow/profile.h>

#include "core/internal.h"
#include "core/sigalg_int.h"

enum family { FAM_NONE = 0, FAM_ECDSA, FAM_PKCS1, FAM_PSS, FAM_ED25519 };
enum hash { H_NONE = -1, H_SHA256 = 0, H_SHA384 = 1, H_SHA512 = 2 };

typedef struct alg_row {
    avow_sigalg alg;
    const char *name;
    enum family fam;
    enum hash hash;
} alg_row;

static const alg_row ROWS[] = {
    {AVOW_SIGALG_ECDSA_SHA256, "ecdsa-sha256", FAM_ECDSA, H_SHA256},
    {AVOW_SIGALG_ECDSA_SHA384, "ecdsa-sha384", FAM_ECDSA, H_SHA384},
    {AVOW_SIGALG_ECDSA_SHA512, "ecdsa-sha512", FAM_ECDSA, H_SHA512},
    {AVOW_SIGALG_RSA_PKCS1_SHA256, "rsa-pkcs1-sha256", FAM_PKCS1, H_SHA256},
    {AVOW_SIGALG_RSA_PKCS1_SHA384, "rsa-pkcs1-sha384", FAM_PKCS1, H_SHA384},
    {AVOW_SIGALG_RSA_PKCS1_SHA512, "rsa-pkcs1-sha512", FAM_PKCS1, H_SHA512},
    {AVOW_SIGALG_RSA_PSS_SHA256, "rsa-pss-sha256", FAM_PSS, H_SHA256},
    {AVOW_SIGALG_RSA_PSS_SHA384, "rsa-pss-sha384", FAM_PSS, H_SHA384},
    {AVOW_SIGALG_RSA_PSS_SHA512, "rsa-pss-sha512", FAM_PSS, H_SHA512},
    {AVOW_SIGALG_ED25519, "ed25519", FAM_ED25519, H_NONE},
};
#define NROWS (sizeof(ROWS) / sizeof(ROWS[0]))

/* Content octets of the OIDs involved. */
static const uint8_t OID_ECDSA[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03}; /* + 2/3/4 */
static const uint8_t OID_PKCS1[] = {0x2a, 0x86, 0x48, 0x86,
                                    0xf7, 0x0d, 0x01, 0x01}; /* + 0b/0c/0d */
static const uint8_t OID_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t OID_MGF1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t OID_SHA2[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02}; /* + 1/2/3 */
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};

static const uint8_t ECDSA_LAST[] = {0x02, 0x03, 0x04};
static const uint8_t PKCS1_LAST[] = {0x0b, 0x0c, 0x0d};
static const uint8_t SHA2_LAST[] = {0x01, 0x02, 0x03};
static const size_t HASH_LEN[] = {32, 48, 64};

/*
 * RSASSA-PSS-params as the Web PKI writes them (hash parameters NULL, the
 * form of RFC 4055's sha256Identifier): the two 0x01 bytes marked below
 * select the hash and the last byte is the salt length.
 */
static const uint8_t PSS_TEMPLATE[] =
    {
        0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
        0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06,
        0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, /* [29] hash */
        0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86,
        0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06,
        0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, /* [59] MGF1 hash */
        0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20                    /* [66] salt */
};
#define PSS_HASH_AT     29
#define PSS_MGF_HASH_AT 59
#define PSS_SALT_AT     66

static const alg_row *row_of(avow_sigalg alg)
{
    for (size_t i = 0; i < NROWS; i++)
        if (ROWS[i].alg == alg)
            return &ROWS[i];
    return NULL;
}

static const alg_row *row_by(enum family fam, enum hash h)
{
    for (size_t i = 0; i < NROWS; i++)
        if (ROWS[i].fam == fam && ROWS[i].hash == h)
            return &ROWS[i];
    return NULL;
}

const char *avow_sigalg_name(avow_sigalg alg)
{
    const alg_row *r = row_of(alg);
    return r != NULL ? r->name : NULL;
}

avow_sigalg avow_sigalg_by_name(const char *name)
{
    if (name == NULL)
        return AVOW_SIGALG_NONE;
    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(ROWS[i].name, name) == 0)
            return ROWS[i].alg;
    return AVOW_SIGALG_NONE;
}

const EVP_MD *avow__sigalg_md(avow_sigalg alg)
{
    /* The static getters need no fetch and no shared cache of our own. */
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return NULL;
    switch (r->hash) {
    case H_SHA256:
        return EVP_sha256();
    case H_SHA384:
        return EVP_sha384();
    case H_SHA512:
        return EVP_sha512();
    case H_NONE:
        break;
    }
    return NULL;
}

/* --- encoding --- */

static avow_err put(avow_buf *out, const uint8_t *der, size_t len)
{
    out->ptr = avow__memdup(der, len);
    if (out->ptr == NULL)
        return AVOW_ERR_NOMEM;
    out->len = len;
    return AVOW_OK;
}

avow_err avow_sigalg_to_der(avow_sigalg alg, avow_buf *out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return AVOW_ERR_SIG_ALG;
    uint8_t der[sizeof(PSS_TEMPLATE)];
    switch (r->fam) {
    case FAM_ECDSA: {
        uint8_t e[] = {0x30, 0x0a, 0x06, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(e + 4, OID_ECDSA, sizeof(OID_ECDSA));
        e[11] = ECDSA_LAST[r->hash];
        return put(out, e, sizeof(e));
    }
    case FAM_PKCS1: {
        uint8_t e[] = {0x30, 0x0d, 0x06, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0x00};
        memcpy(e + 4, OID_PKCS1, sizeof(OID_PKCS1));
        e[12] = PKCS1_LAST[r->hash];
        return put(out, e, sizeof(e));
    }
    case FAM_PSS:
        memcpy(der, PSS_TEMPLATE, sizeof(der));
        der[PSS_HASH_AT] = SHA2_LAST[r->hash];
        der[PSS_MGF_HASH_AT] = SHA2_LAST[r->hash];
        der[PSS_SALT_AT] = (uint8_t)HASH_LEN[r->hash];
        return put(out, der, sizeof(der));
    case FAM_ED25519: {
        static const uint8_t e[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
        return put(out, e, sizeof(e));
    }
    case FAM_NONE:
        break;
    }
    return AVOW_ERR_SIG_ALG;
}

/* --- strict decoding --- */

typedef struct cur {
    const uint8_t *p;
    size_t n;
} cur;

/* Takes one TLV with the given tag off c; DER lengths only (no long form for < 128). */
static int get_tlv(cur *c, uint8_t tag, cur *content)
{
    if (c->n < 2 || c->p[0] != tag)
        return 0;
    size_t len = c->p[1], hdr = 2;
    if (len == 0x81) {
        if (c->n < 3 || c->p[2] < 0x80)
            return 0;
        len = c->p[2];
        hdr = 3;
    } else if (len == 0x82) {
        if (c->n < 4 || c->p[2] == 0)
            return 0;
        len = (size_t)c->p[2] << 8 | c->p[3];
        hdr = 4;
    } else if (len > 0x80) {
        return 0; /* nothing in an AlgorithmIdentifier needs more */
    } else if (len == 0x80) {
        return 0; /* indefinite length is BER */
    }
    if (c->n - hdr < len)
        return 0;
    content->p = c->p + hdr;
    content->n = len;
    c->p += hdr + len;
    c->n -= hdr + len;
    return 1;
}

static int peek_tag(const cur *c, uint8_t tag)
{
    return c->n > 0 && c->p[0] == tag;
}

static int oid_is(const cur *oid, const uint8_t *prefix, size_t plen, int last)
{
    size_t want = plen + (last >= 0 ? 1 : 0);
    if (oid->n != want || memcmp(oid->p, prefix, plen) != 0)
        return 0;
    return last < 0 || oid->p[plen] == (uint8_t)last;
}

static enum hash hash_of_last(const uint8_t *table, uint8_t last)
{
    for (int i = 0; i < 3; i++)
        if (table[i] == last)
            return (enum hash)i;
    return H_NONE;
}

/*
 * A hash AlgorithmIdentifier inside RSASSA-PSS-params: SHA-2 only, parameters
 * absent or NULL (RFC 4055 section 2.1 asks verifiers to take both).
 */
static enum hash pss_hash(cur c)
{
    cur seq, oid, nul;
    if (!get_tlv(&c, 0x30, &seq) || c.n != 0 || !get_tlv(&seq, 0x06, &oid))
        return H_NONE;
    if (oid.n != sizeof(OID_SHA2) + 1 || memcmp(oid.p, OID_SHA2, sizeof(OID_SHA2)) != 0)
        return H_NONE;
    if (seq.n != 0 && (!get_tlv(&seq, 0x05, &nul) || nul.n != 0 || seq.n != 0))
        return H_NONE;
    return hash_of_last(SHA2_LAST, oid.p[sizeof(OID_SHA2)]);
}

static avow_err pss_params(cur params, avow_sigalg *alg, avow_diag *diag)
{
    cur seq, h, m, s;
    if (!get_tlv(&params, 0x30, &seq) || params.n != 0)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters",
                          "RSASSA-PSS parameters must be one RSASSA-PSS-params SEQUENCE");
    if (!get_tlv(&seq, 0xa0, &h))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.hashAlgorithm",
                          "hashAlgorithm absent (the SHA-1 default is not accepted)");
    enum hash hash = pss_hash(h);
    if (hash == H_NONE)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.hashAlgorithm",
                          "hashAlgorithm must be SHA-256, SHA-384 or SHA-512");
    if (!get_tlv(&seq, 0xa1, &m))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.maskGenAlgorithm",
                          "maskGenAlgorithm absent (the MGF1-SHA-1 default is not accepted)");
    cur mseq, moid;
    if (!get_tlv(&m, 0x30, &mseq) || m.n != 0 || !get_tlv(&mseq, 0x06, &moid) ||
        !oid_is(&moid, OID_MGF1, sizeof(OID_MGF1), -1))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.maskGenAlgorithm",
                          "maskGenAlgorithm must be MGF1");
    if (pss_hash(mseq) != hash)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.maskGenAlgorithm.parameters",
                          "MGF1 must use the same hash as hashAlgorithm");
    cur salt;
    if (!get_tlv(&seq, 0xa2, &s))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.saltLength",
                          "saltLength absent (the default 20 is not the hash length)");
    if (!get_tlv(&s, 0x02, &salt) || s.n != 0 || salt.n != 1 || salt.p[0] != HASH_LEN[hash])
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.saltLength",
                          "saltLength must equal the hash length (%zu)", HASH_LEN[hash]);
    if (peek_tag(&seq, 0xa3))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.trailerField",
                          "trailerField must be absent");
    if (seq.n != 0)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters", "unexpected data after saltLength");
    *alg = row_by(FAM_PSS, hash)->alg;
    return AVOW_OK;
}

avow_err avow_sigalg_from_der(const uint8_t *der, size_t len, avow_sigalg *alg, avow_diag *diag)
{
    if (alg == NULL || (der == NULL && len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "NULL argument");
    *alg = AVOW_SIGALG_NONE;
    cur in = {der, len}, seq, oid;
    if (!get_tlv(&in, 0x30, &seq))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "", "not a DER AlgorithmIdentifier SEQUENCE");
    if (in.n != 0)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "", "trailing bytes after AlgorithmIdentifier");
    if (!get_tlv(&seq, 0x06, &oid))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "algorithm", "algorithm is not an OID");
    cur params = seq; /* whatever follows the OID */
    const alg_row *r = NULL;
    uint8_t last = oid.n > 0 ? oid.p[oid.n - 1] : 0;
    if (oid.n == sizeof(OID_ECDSA) + 1 && memcmp(oid.p, OID_ECDSA, sizeof(OID_ECDSA)) == 0)
        r = row_by(FAM_ECDSA, hash_of_last(ECDSA_LAST, last));
    else if (oid_is(&oid, OID_PSS, sizeof(OID_PSS), -1))
        return pss_params(params, alg, diag);
    else if (oid.n == sizeof(OID_PKCS1) + 1 && memcmp(oid.p, OID_PKCS1, sizeof(OID_PKCS1)) == 0)
        r = row_by(FAM_PKCS1, hash_of_last(PKCS1_LAST, last));
    else if (oid_is(&oid, OID_ED25519, sizeof(OID_ED25519), -1))
        r = row_by(FAM_ED25519, H_NONE);
    if (r == NULL) {
        char text[128];
        avow_oid_to_text(oid.p, oid.n, text, sizeof(text));
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "algorithm", "unsupported algorithm %s", text);
    }
    if (r->fam == FAM_PKCS1) {
        /* RFC 4055 section 5: NULL is what signers write, but verifiers must take the
         * parameters absent too. Anything else stays refused. */
        cur nul;
        if (params.n != 0 && (!get_tlv(&params, 0x05, &nul) || nul.n != 0 || params.n != 0))
            return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters",
                              "%s takes NULL or absent parameters", r->name);
    } else if (params.n != 0) {
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters",
                          "%s takes no parameters (they must be absent)", r->name);
    }
    *alg = r->alg;
    return AVOW_OK;
}

/* --- keys --- */

static enum family key_family(const EVP_PKEY *pkey, int *is_pss_key)
{
    *is_pss_key = 0;
    /* get_id, not get_base_id: the latter searches ENGINE tables under a lock on every call. */
    switch (EVP_PKEY_get_id(pkey)) {
    case EVP_PKEY_EC:
        return FAM_ECDSA;
    case EVP_PKEY_RSA:
        return FAM_PKCS1;
    case EVP_PKEY_RSA_PSS:
        *is_pss_key = 1;
        return FAM_PSS;
    case EVP_PKEY_ED25519:
        return FAM_ED25519;
    default:
        break;
    }
    /* Keys of provider-only key managers (PKCS#11 providers) carry no legacy id. */
    if (EVP_PKEY_is_a(pkey, "EC"))
        return FAM_ECDSA;
    if (EVP_PKEY_is_a(pkey, "RSA"))
        return FAM_PKCS1;
    if (EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        *is_pss_key = 1;
        return FAM_PSS;
    }
    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return FAM_ED25519;
    return FAM_NONE;
}

int avow__sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey)
{
    const alg_row *r = row_of(alg);
    if (r == NULL || pkey == NULL)
        return 0;
    int pss_key;
    enum family kf = key_family(pkey, &pss_key);
    if (r->fam == FAM_PSS)
        return kf == FAM_PKCS1 || kf == FAM_PSS;
    return kf == r->fam;
}

avow_err avow_sigalg_for_key(const EVP_PKEY *pkey, int pss, avow_sigalg *alg)
{
    if (pkey == NULL || alg == NULL)
        return AVOW_ERR_ARG;
    *alg = AVOW_SIGALG_NONE;
    int pss_key;
    switch (key_family(pkey, &pss_key)) {
    case FAM_ECDSA: {
        int bits = EVP_PKEY_get_bits(pkey);
        *alg = bits <= 256   ? AVOW_SIGALG_ECDSA_SHA256
               : bits <= 384 ? AVOW_SIGALG_ECDSA_SHA384
                             : AVOW_SIGALG_ECDSA_SHA512;
        return AVOW_OK;
    }
    case FAM_PKCS1:
        *alg = pss ? AVOW_SIGALG_RSA_PSS_SHA256 : AVOW_SIGALG_RSA_PKCS1_SHA256;
        return AVOW_OK;
    case FAM_PSS:
        *alg = AVOW_SIGALG_RSA_PSS_SHA256;
        return AVOW_OK;
    case FAM_ED25519:
        *alg = AVOW_SIGALG_ED25519;
        return AVOW_OK;
    case FAM_NONE:
        break;
    }
    return AVOW_ERR_UNSUPPORTED;
}

int avow__sigalg_set_padding(avow_sigalg alg, EVP_PKEY_CTX *pctx)
{
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return 0;
    if (r->fam != FAM_PSS)
        return 1;
    const EVP_MD *md = avow__sigalg_md(alg);
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)HASH_LEN[r->hash]) > 0;
}

/* --- verification --- */

/* r||s of P-256, P-384 and P-521 is 64, 96 or 132 bytes; DER always opens with a SEQUENCE. */
static int looks_raw_ecdsa(const uint8_t *sig, size_t len)
{
    return (len == 64 || len == 96 || len == 132) && sig[0] != 0x30;
}

avow_err avow_sigalg_verify(avow_sigalg alg, EVP_PKEY *pkey, const uint8_t *data, size_t data_len,
                            const uint8_t *sig, size_t sig_len, avow_diag *diag)
{
    if (pkey == NULL || (data == NULL && data_len != 0) || sig == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "NULL argument");
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "signatureAlgorithm",
                          "unsupported signature algorithm %d", (int)alg);
    if (!avow__sigalg_fits_key(alg, pkey))
        return avow__fail(diag, AVOW_ERR_ALG_MISMATCH, "signatureAlgorithm",
                          "%s cannot be used with a %s key", r->name,
                          EVP_PKEY_get0_type_name(pkey) != NULL ? EVP_PKEY_get0_type_name(pkey)
                                                                : "unknown");
    if (sig_len == 0)
        return avow__fail(diag, AVOW_ERR_SIG_INVALID, "signatureValue", "empty signature");
    if (r->fam == FAM_ECDSA && sig[0] != 0x30)
        return avow__fail(diag, AVOW_ERR_SIG_INVALID, "signatureValue",
                          looks_raw_ecdsa(sig, sig_len)
                              ? "ECDSA signature is raw r||s; a DER ECDSA-Sig-Value is required"
                              : "ECDSA signature is not a DER ECDSA-Sig-Value");

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, NULL, "EVP_MD_CTX_new");
    EVP_PKEY_CTX *pctx = NULL;
    avow_err rc = AVOW_OK;
    if (EVP_DigestVerifyInit(ctx, &pctx, avow__sigalg_md(alg), NULL, pkey) != 1 ||
        !avow__sigalg_set_padding(alg, pctx)) {
        rc = avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "signatureAlgorithm",
                             "cannot set up %s verification", r->name);
    } else if (EVP_DigestVerify(ctx, sig, sig_len, data, data_len) != 1) {
        rc = avow__fail_ossl(diag, AVOW_ERR_SIG_INVALID, "signatureValue",
                             "%s signature does not verify", r->name);
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}
