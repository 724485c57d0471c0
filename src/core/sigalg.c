/*
 * The signature algorithms avow accepts: the one table of their facts
 * (avow/sigalg.h), names, strict AlgorithmIdentifier DER in both
 * directions, key fit, and verification through EVP_DigestVerify (one-shot
 * with no digest for Ed25519, ML-DSA and SLH-DSA).
 *
 * The DER reader below is deliberately tiny: an AlgorithmIdentifier has a
 * handful of fixed shapes, so checking each byte against the one shape we
 * accept gives precise field names in errors and no BER leniency.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include <avow/profile.h>

#include "core/internal.h"
#include "core/sigalg_int.h"

#define FAM_NONE    AVOW_SIGALG_FAMILY_NONE
#define FAM_ECDSA   AVOW_SIGALG_FAMILY_ECDSA
#define FAM_PKCS1   AVOW_SIGALG_FAMILY_RSA_PKCS1
#define FAM_PSS     AVOW_SIGALG_FAMILY_RSA_PSS
#define FAM_ED25519 AVOW_SIGALG_FAMILY_EDDSA
#define FAM_ML_DSA  AVOW_SIGALG_FAMILY_ML_DSA
#define FAM_SLH_DSA AVOW_SIGALG_FAMILY_SLH_DSA

/* A post-quantum row: no hash, no curve, no salt; one key type and a fixed signature size. */
#define PQ_ROW(alg, name, fam, key_type, sig_len)                                                  \
    {                                                                                              \
        (alg), (name), NULL, (fam), AVOW_HASH_NONE, NULL, 0, 0, NULL, 0, 0, 0, (key_type),         \
            (sig_len)                                                                              \
    }

/*
 * The one table. JOSE binds each ES* name to a curve (RFC 7518 section
 * 3.4); X.509's ecdsa-with-SHA* names do not, so the curve columns are
 * consulted only under AVOW_SIGALG_FIT_JOSE. PSS always uses MGF1 with the
 * same hash and a salt of the hash length (what avow_sigalg_to_der writes).
 */
static const avow_sigalg_desc ROWS[] = {
    {AVOW_SIGALG_ECDSA_SHA256, "ecdsa-sha256", "ES256", FAM_ECDSA, AVOW_HASH_SHA256, "SHA256", 32,
     1, "P-256", NID_X9_62_prime256v1, 32, 0, NULL, 0},
    {AVOW_SIGALG_ECDSA_SHA384, "ecdsa-sha384", "ES384", FAM_ECDSA, AVOW_HASH_SHA384, "SHA384", 48,
     1, "P-384", NID_secp384r1, 48, 0, NULL, 0},
    {AVOW_SIGALG_ECDSA_SHA512, "ecdsa-sha512", "ES512", FAM_ECDSA, AVOW_HASH_SHA512, "SHA512", 64,
     1, "P-521", NID_secp521r1, 66, 0, NULL, 0},
    {AVOW_SIGALG_RSA_PKCS1_SHA256, "rsa-pkcs1-sha256", "RS256", FAM_PKCS1, AVOW_HASH_SHA256,
     "SHA256", 32, 1, NULL, 0, 0, 0, NULL, 0},
    {AVOW_SIGALG_RSA_PKCS1_SHA384, "rsa-pkcs1-sha384", "RS384", FAM_PKCS1, AVOW_HASH_SHA384,
     "SHA384", 48, 1, NULL, 0, 0, 0, NULL, 0},
    {AVOW_SIGALG_RSA_PKCS1_SHA512, "rsa-pkcs1-sha512", "RS512", FAM_PKCS1, AVOW_HASH_SHA512,
     "SHA512", 64, 1, NULL, 0, 0, 0, NULL, 0},
    {AVOW_SIGALG_RSA_PSS_SHA256, "rsa-pss-sha256", "PS256", FAM_PSS, AVOW_HASH_SHA256, "SHA256", 32,
     1, NULL, 0, 0, 32, NULL, 0},
    {AVOW_SIGALG_RSA_PSS_SHA384, "rsa-pss-sha384", "PS384", FAM_PSS, AVOW_HASH_SHA384, "SHA384", 48,
     1, NULL, 0, 0, 48, NULL, 0},
    {AVOW_SIGALG_RSA_PSS_SHA512, "rsa-pss-sha512", "PS512", FAM_PSS, AVOW_HASH_SHA512, "SHA512", 64,
     1, NULL, 0, 0, 64, NULL, 0},
    {AVOW_SIGALG_ED25519, "ed25519", "EdDSA", FAM_ED25519, AVOW_HASH_NONE, NULL, 0, 0, NULL, 0, 0,
     0, NULL, 0},
    /*
     * Pure ML-DSA and SLH-DSA with the empty context, as RFC 9881 and RFC 9909
     * use them in X.509; OpenSSL's defaults. No JOSE name: JOSE and COSE
     * registrations for them are still drafts, and avow's tokens stay
     * classical. Signature sizes: FIPS 204 table 2, FIPS 205 table 2.
     */
    PQ_ROW(AVOW_SIGALG_ML_DSA_44, "ml-dsa-44", FAM_ML_DSA, "ML-DSA-44", 2420),
    PQ_ROW(AVOW_SIGALG_ML_DSA_65, "ml-dsa-65", FAM_ML_DSA, "ML-DSA-65", 3309),
    PQ_ROW(AVOW_SIGALG_ML_DSA_87, "ml-dsa-87", FAM_ML_DSA, "ML-DSA-87", 4627),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHA2_128S, "slh-dsa-sha2-128s", FAM_SLH_DSA, "SLH-DSA-SHA2-128s",
           7856),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHA2_128F, "slh-dsa-sha2-128f", FAM_SLH_DSA, "SLH-DSA-SHA2-128f",
           17088),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHA2_192S, "slh-dsa-sha2-192s", FAM_SLH_DSA, "SLH-DSA-SHA2-192s",
           16224),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHA2_192F, "slh-dsa-sha2-192f", FAM_SLH_DSA, "SLH-DSA-SHA2-192f",
           35664),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHA2_256S, "slh-dsa-sha2-256s", FAM_SLH_DSA, "SLH-DSA-SHA2-256s",
           29792),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHA2_256F, "slh-dsa-sha2-256f", FAM_SLH_DSA, "SLH-DSA-SHA2-256f",
           49856),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHAKE_128S, "slh-dsa-shake-128s", FAM_SLH_DSA, "SLH-DSA-SHAKE-128s",
           7856),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHAKE_128F, "slh-dsa-shake-128f", FAM_SLH_DSA, "SLH-DSA-SHAKE-128f",
           17088),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHAKE_192S, "slh-dsa-shake-192s", FAM_SLH_DSA, "SLH-DSA-SHAKE-192s",
           16224),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHAKE_192F, "slh-dsa-shake-192f", FAM_SLH_DSA, "SLH-DSA-SHAKE-192f",
           35664),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHAKE_256S, "slh-dsa-shake-256s", FAM_SLH_DSA, "SLH-DSA-SHAKE-256s",
           29792),
    PQ_ROW(AVOW_SIGALG_SLH_DSA_SHAKE_256F, "slh-dsa-shake-256f", FAM_SLH_DSA, "SLH-DSA-SHAKE-256f",
           49856),
};
#define NROWS (sizeof(ROWS) / sizeof(ROWS[0]))

typedef avow_sigalg_desc alg_row;

/* Content octets of the OIDs involved. */
static const uint8_t OID_ECDSA[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03}; /* + 2/3/4 */
static const uint8_t OID_PKCS1[] = {0x2a, 0x86, 0x48, 0x86,
                                    0xf7, 0x0d, 0x01, 0x01}; /* + 0b/0c/0d */
static const uint8_t OID_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t OID_MGF1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t OID_SHA2[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02}; /* + 1/2/3 */
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};
/* nistAlgorithms sigAlgs, 2.16.840.1.101.3.4.3 (RFC 9881 section 2, RFC 9909 section 3). */
static const uint8_t OID_NIST_SIG[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03};

/* The last arc under sigAlgs of each post-quantum row. */
static const struct {
    avow_sigalg alg;
    uint8_t last;
} NIST_SIG_LAST[] = {
    {AVOW_SIGALG_ML_DSA_44, 17},          {AVOW_SIGALG_ML_DSA_65, 18},
    {AVOW_SIGALG_ML_DSA_87, 19},          {AVOW_SIGALG_SLH_DSA_SHA2_128S, 20},
    {AVOW_SIGALG_SLH_DSA_SHA2_128F, 21},  {AVOW_SIGALG_SLH_DSA_SHA2_192S, 22},
    {AVOW_SIGALG_SLH_DSA_SHA2_192F, 23},  {AVOW_SIGALG_SLH_DSA_SHA2_256S, 24},
    {AVOW_SIGALG_SLH_DSA_SHA2_256F, 25},  {AVOW_SIGALG_SLH_DSA_SHAKE_128S, 26},
    {AVOW_SIGALG_SLH_DSA_SHAKE_128F, 27}, {AVOW_SIGALG_SLH_DSA_SHAKE_192S, 28},
    {AVOW_SIGALG_SLH_DSA_SHAKE_192F, 29}, {AVOW_SIGALG_SLH_DSA_SHAKE_256S, 30},
    {AVOW_SIGALG_SLH_DSA_SHAKE_256F, 31},
};
#define NIST_SIG_N (sizeof(NIST_SIG_LAST) / sizeof(NIST_SIG_LAST[0]))
/* HashML-DSA (32..34) and HashSLH-DSA (35..46): pre-hash modes that X.509 does not use. */
#define NIST_SIG_PREHASH_FIRST 32
#define NIST_SIG_PREHASH_LAST  46

/* Last OID octet per hash, indexed by avow_hash (no entry for AVOW_HASH_NONE). */
static const uint8_t ECDSA_LAST[] = {0, 0x02, 0x03, 0x04};
static const uint8_t PKCS1_LAST[] = {0, 0x0b, 0x0c, 0x0d};
static const uint8_t SHA2_LAST[] = {0, 0x01, 0x02, 0x03};

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

static const alg_row *row_by(avow_sigalg_family fam, avow_hash h)
{
    for (size_t i = 0; i < NROWS; i++)
        if (ROWS[i].family == fam && ROWS[i].hash == h)
            return &ROWS[i];
    return NULL;
}

const avow_sigalg_desc *avow_sigalg_info(avow_sigalg alg)
{
    return row_of(alg);
}

static int is_pq(const alg_row *r)
{
    return r->family == FAM_ML_DSA || r->family == FAM_SLH_DSA;
}

/* 1 when this build can sign and verify under r. */
static int row_supported(const alg_row *r)
{
    return !is_pq(r) || AVOW__HAVE_PQ;
}

avow_err avow_sigalg_supported(avow_sigalg alg)
{
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return AVOW_ERR_SIG_ALG;
    return row_supported(r) ? AVOW_OK : AVOW_ERR_UNSUPPORTED;
}

const avow_sigalg_desc *avow_sigalg_info_at(size_t i)
{
    return i < NROWS ? &ROWS[i] : NULL;
}

const char *avow_sigalg_name(avow_sigalg alg)
{
    const alg_row *r = row_of(alg);
    return r != NULL ? r->name : NULL;
}

const char *avow_sigalg_jose_name(avow_sigalg alg)
{
    const alg_row *r = row_of(alg);
    return r != NULL ? r->jose : NULL;
}

avow_sigalg avow_sigalg_by_jose_name(const char *name)
{
    if (name == NULL)
        return AVOW_SIGALG_NONE;
    for (size_t i = 0; i < NROWS; i++)
        if (ROWS[i].jose != NULL && strcmp(ROWS[i].jose, name) == 0)
            return ROWS[i].alg;
    return AVOW_SIGALG_NONE;
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
    case AVOW_HASH_SHA256:
        return EVP_sha256();
    case AVOW_HASH_SHA384:
        return EVP_sha384();
    case AVOW_HASH_SHA512:
        return EVP_sha512();
    case AVOW_HASH_NONE:
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
    switch (r->family) {
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
        der[PSS_SALT_AT] = (uint8_t)r->pss_salt_len;
        return put(out, der, sizeof(der));
    case FAM_ED25519: {
        static const uint8_t e[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
        return put(out, e, sizeof(e));
    }
    case FAM_ML_DSA:
    case FAM_SLH_DSA:
        /* RFC 9881 section 2, RFC 9909 section 3: parameters absent. */
        for (size_t i = 0; i < NIST_SIG_N; i++) {
            if (NIST_SIG_LAST[i].alg != alg)
                continue;
            uint8_t e[] = {0x30, 0x0b, 0x06, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            memcpy(e + 4, OID_NIST_SIG, sizeof(OID_NIST_SIG));
            e[12] = NIST_SIG_LAST[i].last;
            return put(out, e, sizeof(e));
        }
        break;
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

static avow_hash hash_of_last(const uint8_t *table, uint8_t last)
{
    for (int i = AVOW_HASH_SHA256; i <= AVOW_HASH_SHA512; i++)
        if (table[i] == last)
            return (avow_hash)i;
    return AVOW_HASH_NONE;
}

/*
 * A hash AlgorithmIdentifier inside RSASSA-PSS-params: SHA-2 only, parameters
 * absent or NULL (RFC 4055 section 2.1 asks verifiers to take both).
 */
static avow_hash pss_hash(cur c)
{
    cur seq, oid, nul;
    if (!get_tlv(&c, 0x30, &seq) || c.n != 0 || !get_tlv(&seq, 0x06, &oid))
        return AVOW_HASH_NONE;
    if (oid.n != sizeof(OID_SHA2) + 1 || memcmp(oid.p, OID_SHA2, sizeof(OID_SHA2)) != 0)
        return AVOW_HASH_NONE;
    if (seq.n != 0 && (!get_tlv(&seq, 0x05, &nul) || nul.n != 0 || seq.n != 0))
        return AVOW_HASH_NONE;
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
    avow_hash hash = pss_hash(h);
    if (hash == AVOW_HASH_NONE)
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
    const alg_row *row = row_by(FAM_PSS, hash);
    if (!get_tlv(&seq, 0xa2, &s))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.saltLength",
                          "saltLength absent (the default 20 is not the hash length)");
    if (!get_tlv(&s, 0x02, &salt) || s.n != 0 || salt.n != 1 || salt.p[0] != row->pss_salt_len)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.saltLength",
                          "saltLength must equal the hash length (%zu)", row->pss_salt_len);
    if (peek_tag(&seq, 0xa3))
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters.trailerField",
                          "trailerField must be absent");
    if (seq.n != 0)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "parameters", "unexpected data after saltLength");
    *alg = row->alg;
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
        r = row_by(FAM_ED25519, AVOW_HASH_NONE);
    else if (oid.n == sizeof(OID_NIST_SIG) + 1 &&
             memcmp(oid.p, OID_NIST_SIG, sizeof(OID_NIST_SIG)) == 0) {
        for (size_t i = 0; i < NIST_SIG_N && r == NULL; i++)
            if (NIST_SIG_LAST[i].last == last)
                r = row_of(NIST_SIG_LAST[i].alg);
        if (r == NULL && last >= NIST_SIG_PREHASH_FIRST && last <= NIST_SIG_PREHASH_LAST)
            return avow__fail(diag, AVOW_ERR_SIG_ALG, "algorithm",
                              "pre-hash HashML-DSA / HashSLH-DSA (2.16.840.1.101.3.4.3.%u) is not "
                              "accepted: X.509 uses the pure modes (RFC 9881, RFC 9909)",
                              (unsigned)last);
    }
    if (r == NULL) {
        char text[128];
        avow_oid_to_text(oid.p, oid.n, text, sizeof(text));
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "algorithm", "unsupported algorithm %s", text);
    }
    if (r->family == FAM_PKCS1) {
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

const avow_sigalg_desc *avow__sigalg_spki_pq_row(const uint8_t *spki, size_t len)
{
    cur in = {spki, len}, seq, alg;
    if (spki == NULL || !get_tlv(&in, 0x30, &seq) || in.n != 0)
        return NULL;
    const uint8_t *alg_der = seq.p;
    if (!get_tlv(&seq, 0x30, &alg))
        return NULL;
    avow_sigalg a = AVOW_SIGALG_NONE;
    if (avow_sigalg_from_der(alg_der, (size_t)(alg.p + alg.n - alg_der), &a, NULL) != AVOW_OK)
        return NULL;
    const alg_row *r = row_of(a);
    return r != NULL && is_pq(r) ? r : NULL;
}

/* --- keys --- */

/* The post-quantum row of pkey's parameter set; NULL for other keys and in builds without them. */
static const alg_row *pq_row_of_key(const EVP_PKEY *pkey)
{
#if AVOW__HAVE_PQ
    for (size_t i = 0; i < NROWS; i++)
        if (ROWS[i].key_type != NULL && EVP_PKEY_is_a(pkey, ROWS[i].key_type))
            return &ROWS[i];
#else
    (void)pkey;
#endif
    return NULL;
}

static avow_sigalg_family key_family(const EVP_PKEY *pkey, int *is_pss_key)
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
    const alg_row *pq = pq_row_of_key(pkey);
    return pq != NULL ? pq->family : FAM_NONE;
}

/* NID of an EC key's curve; NID_undef when it has none avow can name. */
static int key_curve_nid(const EVP_PKEY *pkey)
{
    char name[64];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1 || len == 0) {
        avow__ossl_clear();
        return NID_undef;
    }
    /* Providers report the SN ("prime256v1") or the NIST name ("P-256"). */
    int nid = OBJ_sn2nid(name);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(name);
    avow__ossl_clear();
    return nid;
}

avow_err avow_sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey, unsigned flags)
{
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return AVOW_ERR_SIG_ALG;
    if (pkey == NULL)
        return AVOW_ERR_ARG;
    if (!row_supported(r))
        return AVOW_ERR_UNSUPPORTED;
    if (is_pq(r))
        return pq_row_of_key(pkey) == r ? AVOW_OK : AVOW_ERR_ALG_MISMATCH;
    int pss_key;
    avow_sigalg_family kf = key_family(pkey, &pss_key);
    int fits = r->family == FAM_PSS ? kf == FAM_PKCS1 || kf == FAM_PSS : kf == r->family;
    if (fits && r->family == FAM_ECDSA && (flags & AVOW_SIGALG_FIT_JOSE))
        fits = key_curve_nid(pkey) == r->ec_nid;
    return fits ? AVOW_OK : AVOW_ERR_ALG_MISMATCH;
}

const avow_sigalg_desc *avow__sigalg_ec_row_of_key(const EVP_PKEY *pkey)
{
    int pss_key;
    if (pkey == NULL || key_family(pkey, &pss_key) != FAM_ECDSA)
        return NULL;
    int nid = key_curve_nid(pkey);
    for (size_t i = 0; i < NROWS && nid != NID_undef; i++)
        if (ROWS[i].family == FAM_ECDSA && ROWS[i].ec_nid == nid)
            return &ROWS[i];
    return NULL;
}

const avow_sigalg_desc *avow__sigalg_ec_row_of_crv(const char *crv)
{
    for (size_t i = 0; i < NROWS && crv != NULL; i++)
        if (ROWS[i].ec_curve != NULL && strcmp(ROWS[i].ec_curve, crv) == 0)
            return &ROWS[i];
    return NULL;
}

int avow__sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey)
{
    return avow_sigalg_fits_key(alg, pkey, 0) == AVOW_OK;
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
    case FAM_ML_DSA:
    case FAM_SLH_DSA: {
        const alg_row *pq = pq_row_of_key(pkey);
        if (pq == NULL)
            break;
        *alg = pq->alg;
        return AVOW_OK;
    }
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
    if (r->family != FAM_PSS)
        return 1;
    const EVP_MD *md = avow__sigalg_md(alg);
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)r->pss_salt_len) > 0;
}

/* --- verification --- */

/* r||s is twice a coordinate of one of the table's curves; DER always opens with a SEQUENCE. */
static int looks_raw_ecdsa(const uint8_t *sig, size_t len)
{
    if (sig[0] == 0x30)
        return 0;
    for (size_t i = 0; i < NROWS; i++)
        if (ROWS[i].family == FAM_ECDSA && len == 2 * ROWS[i].ec_coord_len)
            return 1;
    return 0;
}

/* What every verification refuses before any cryptography, with its own message. */
static avow_err verify_checks(avow_sigalg alg, EVP_PKEY *pkey, const uint8_t *data, size_t data_len,
                              const uint8_t *sig, size_t sig_len, avow_diag *diag)
{
    if (pkey == NULL || (data == NULL && data_len != 0) || sig == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "NULL argument");
    const alg_row *r = row_of(alg);
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_SIG_ALG, "signatureAlgorithm",
                          "unsupported signature algorithm %d", (int)alg);
    if (!row_supported(r))
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "signatureAlgorithm",
                          "%s needs a build against OpenSSL 3.5 or later (this one: %s)", r->name,
                          OPENSSL_VERSION_TEXT);
    if (!avow__sigalg_fits_key(alg, pkey))
        return avow__fail(diag, AVOW_ERR_ALG_MISMATCH, "signatureAlgorithm",
                          "%s cannot be used with a %s key", r->name,
                          EVP_PKEY_get0_type_name(pkey) != NULL ? EVP_PKEY_get0_type_name(pkey)
                                                                : "unknown");
    if (sig_len == 0)
        return avow__fail(diag, AVOW_ERR_SIG_INVALID, "signatureValue", "empty signature");
    if (r->family == FAM_ECDSA && sig[0] != 0x30)
        return avow__fail(diag, AVOW_ERR_SIG_INVALID, "signatureValue",
                          looks_raw_ecdsa(sig, sig_len)
                              ? "ECDSA signature is raw r||s; a DER ECDSA-Sig-Value is required"
                              : "ECDSA signature is not a DER ECDSA-Sig-Value");
    /* FIPS 204 and 205 fix the size; saying so is clearer than "does not verify". */
    if (r->sig_len != 0 && sig_len != r->sig_len)
        return avow__fail(diag, AVOW_ERR_SIG_INVALID, "signatureValue",
                          "%s signature is %zu bytes, not %zu", r->name, sig_len, r->sig_len);
    return AVOW_OK;
}

avow_err avow_sigalg_verify(avow_sigalg alg, EVP_PKEY *pkey, const uint8_t *data, size_t data_len,
                            const uint8_t *sig, size_t sig_len, avow_diag *diag)
{
    avow_err rc = verify_checks(alg, pkey, data, data_len, sig, sig_len, diag);
    if (rc != AVOW_OK)
        return rc;
    const alg_row *r = row_of(alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, NULL, "EVP_MD_CTX_new");
    EVP_PKEY_CTX *pctx = NULL;
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

avow_err avow__sigalg_verify_prepared(avow_sigalg alg, EVP_PKEY *pkey, EVP_PKEY_CTX *prepared,
                                      const EVP_MD *md, const uint8_t *data, size_t data_len,
                                      const uint8_t *sig, size_t sig_len, avow_diag *diag)
{
    const alg_row *r = row_of(alg);
    if (prepared == NULL || md == NULL || r == NULL || r->family != FAM_ECDSA ||
        EVP_MD_get_type(md) != EVP_MD_get_type(avow__sigalg_md(alg)))
        return avow_sigalg_verify(alg, pkey, data, data_len, sig, sig_len, diag);
    avow_err rc = verify_checks(alg, pkey, data, data_len, sig, sig_len, diag);
    if (rc != AVOW_OK)
        return rc;
    /* What EVP_DigestVerify does for ECDSA: the hash, then the check of the signature on it. */
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, data_len, digest, &n, md, NULL) != 1)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "signatureAlgorithm",
                               "cannot hash for %s verification", r->name);
    if (EVP_PKEY_verify(prepared, sig, sig_len, digest, n) != 1)
        return avow__fail_ossl(diag, AVOW_ERR_SIG_INVALID, "signatureValue",
                               "%s signature does not verify", r->name);
    return AVOW_OK;
}
