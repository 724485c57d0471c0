/*
 * avow/sigalg.h - the signature algorithms avow signs and verifies with.
 *
 * One table holds every fact a caller needs about an algorithm: its family
 * and hash, the JOSE "alg" name, the curve JOSE binds to an ECDSA name and
 * its coordinate size, the PSS salt length, whether the message is hashed
 * before the key's primitive runs, and for the post-quantum rows the one
 * key type (parameter set) they fit and their fixed signature size. X.509
 * (AlgorithmIdentifier DER), JOSE (src/formats/jose.c) and the PKCS#11
 * signer all read it, so no other file maps algorithms.
 *
 * ML-DSA (FIPS 204) and SLH-DSA (FIPS 205) rows are in every build, so
 * their names and AlgorithmIdentifiers are always known; signing and
 * verifying with them needs OpenSSL 3.5 or later at build time. In a build
 * against an older OpenSSL, avow_sigalg_supported() answers
 * AVOW_ERR_UNSUPPORTED for them, and so do the signer and
 * avow_sigalg_verify.
 */
#ifndef AVOW_SIGALG_H
#define AVOW_SIGALG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Signature algorithms avow signs and verifies with. */
typedef enum avow_sigalg {
    AVOW_SIGALG_NONE = 0,
    AVOW_SIGALG_ECDSA_SHA256,     /* ecdsa-with-SHA256 (P-256) */
    AVOW_SIGALG_ECDSA_SHA384,     /* ecdsa-with-SHA384 (P-384) */
    AVOW_SIGALG_ECDSA_SHA512,     /* ecdsa-with-SHA512 (P-521) */
    AVOW_SIGALG_RSA_PKCS1_SHA256, /* sha256WithRSAEncryption */
    AVOW_SIGALG_RSA_PKCS1_SHA384,
    AVOW_SIGALG_RSA_PKCS1_SHA512,
    AVOW_SIGALG_RSA_PSS_SHA256, /* RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 */
    AVOW_SIGALG_RSA_PSS_SHA384, /* RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 */
    AVOW_SIGALG_RSA_PSS_SHA512, /* RSASSA-PSS, SHA-512, MGF1-SHA-512, salt 64 */
    AVOW_SIGALG_ED25519,        /* id-Ed25519 */
    /* Pure ML-DSA, empty context (FIPS 204; RFC 9881): the whole message meets the key. */
    AVOW_SIGALG_ML_DSA_44, /* id-ml-dsa-44 */
    AVOW_SIGALG_ML_DSA_65, /* id-ml-dsa-65 */
    AVOW_SIGALG_ML_DSA_87, /* id-ml-dsa-87 */
    /* Pure SLH-DSA, empty context (FIPS 205; RFC 9909), every parameter set. */
    AVOW_SIGALG_SLH_DSA_SHA2_128S, /* id-slh-dsa-sha2-128s */
    AVOW_SIGALG_SLH_DSA_SHA2_128F,
    AVOW_SIGALG_SLH_DSA_SHA2_192S,
    AVOW_SIGALG_SLH_DSA_SHA2_192F,
    AVOW_SIGALG_SLH_DSA_SHA2_256S,
    AVOW_SIGALG_SLH_DSA_SHA2_256F,
    AVOW_SIGALG_SLH_DSA_SHAKE_128S, /* id-slh-dsa-shake-128s */
    AVOW_SIGALG_SLH_DSA_SHAKE_128F,
    AVOW_SIGALG_SLH_DSA_SHAKE_192S,
    AVOW_SIGALG_SLH_DSA_SHAKE_192F,
    AVOW_SIGALG_SLH_DSA_SHAKE_256S,
    AVOW_SIGALG_SLH_DSA_SHAKE_256F
} avow_sigalg;

/* The key primitive an algorithm uses; a key type fits one family (RSA keys fit two). */
typedef enum avow_sigalg_family {
    AVOW_SIGALG_FAMILY_NONE = 0,
    AVOW_SIGALG_FAMILY_ECDSA,     /* EC keys */
    AVOW_SIGALG_FAMILY_RSA_PKCS1, /* RSA keys (rsaEncryption), never RSA-PSS keys */
    AVOW_SIGALG_FAMILY_RSA_PSS,   /* RSA and RSA-PSS keys */
    AVOW_SIGALG_FAMILY_EDDSA,     /* Ed25519 keys */
    AVOW_SIGALG_FAMILY_ML_DSA,    /* ML-DSA keys of the row's parameter set only */
    AVOW_SIGALG_FAMILY_SLH_DSA    /* SLH-DSA keys of the row's parameter set only */
} avow_sigalg_family;

/* Message digests of the table. */
typedef enum avow_hash {
    AVOW_HASH_NONE = 0, /* the primitive takes the whole message (PureEdDSA, ML-DSA, SLH-DSA) */
    AVOW_HASH_SHA256,
    AVOW_HASH_SHA384,
    AVOW_HASH_SHA512
} avow_hash;

/* Everything avow knows about one algorithm. Rows are static: never freed. */
typedef struct avow_sigalg_desc {
    avow_sigalg alg;
    const char *name; /* avow's short name: "ecdsa-sha256", "rsa-pss-sha384", "ed25519" */
    const char *jose; /* JOSE "alg" (RFC 7518, RFC 8037): "ES256", "PS384", "EdDSA" */
    avow_sigalg_family family;
    avow_hash hash;
    const char *hash_name; /* OpenSSL digest name ("SHA256"); NULL for AVOW_HASH_NONE */
    size_t hash_len;       /* digest bytes; 0 for AVOW_HASH_NONE */
    /*
     * 1: the message is hashed first and only the digest meets the key, so
     * a token can be handed the digest computed outside it (CKM_ECDSA,
     * CKM_RSA_PKCS, CKM_RSA_PKCS_PSS); 0: the key needs the whole message.
     */
    int prehash;
    /* ECDSA: the curve JOSE binds to the name (RFC 7518 section 3.4); X.509 binds none. */
    const char *ec_curve; /* "P-256", "P-384", "P-521" (the JWK "crv"); NULL otherwise */
    int ec_nid;           /* the curve's OpenSSL NID; 0 otherwise */
    size_t ec_coord_len;  /* bytes of a coordinate, and of r and of s in raw r||s */
    size_t pss_salt_len;  /* RSASSA-PSS salt bytes (the hash length); 0 otherwise */
    /*
     * ML-DSA, SLH-DSA: the OpenSSL key type of the one parameter set the row
     * fits ("ML-DSA-65", "SLH-DSA-SHA2-128s"), and the signature's fixed size
     * in bytes (FIPS 204 table 2, FIPS 205 table 2). NULL and 0 otherwise.
     */
    const char *key_type;
    size_t sig_len;
} avow_sigalg_desc;

/* The facts of alg; NULL for NONE and values not in the table. */
AVOW_EXPORT const avow_sigalg_desc *avow_sigalg_info(avow_sigalg alg);

/* Row i of the table (0, 1, ...); NULL past the last, so callers can walk every algorithm. */
AVOW_EXPORT const avow_sigalg_desc *avow_sigalg_info_at(size_t i);

/*
 * Whether this build signs and verifies with alg: AVOW_OK;
 * AVOW_ERR_UNSUPPORTED for the ML-DSA and SLH-DSA rows in a build against
 * OpenSSL older than 3.5; AVOW_ERR_SIG_ALG for NONE and values not in the
 * table.
 */
AVOW_EXPORT avow_err avow_sigalg_supported(avow_sigalg alg);

/* Short name ("ecdsa-sha256", "rsa-pss-sha256", "ed25519", "ml-dsa-65", "slh-dsa-sha2-128s"...),
 * NULL for NONE. */
AVOW_EXPORT const char *avow_sigalg_name(avow_sigalg alg);
/* Algorithm by short name; AVOW_SIGALG_NONE when unknown. */
AVOW_EXPORT avow_sigalg avow_sigalg_by_name(const char *name);

/* JOSE "alg" of alg ("ES256", ...); NULL for NONE and for rows JOSE has no name for here (ML-DSA,
 * SLH-DSA). */
AVOW_EXPORT const char *avow_sigalg_jose_name(avow_sigalg alg);
/*
 * Algorithm by JOSE "alg" name, compared exactly (JOSE names are
 * case-sensitive); AVOW_SIGALG_NONE for "none", the HS* MACs and every
 * name not in the table.
 */
AVOW_EXPORT avow_sigalg avow_sigalg_by_jose_name(const char *name);

/*
 * DER AlgorithmIdentifier of alg (parameters absent for ECDSA, Ed25519,
 * ML-DSA and SLH-DSA, NULL for PKCS#1 v1.5, RSASSA-PSS-params for PSS), in
 * every build. Caller frees *out.
 */
AVOW_EXPORT avow_err avow_sigalg_to_der(avow_sigalg alg, avow_buf *out);

/*
 * Parses a DER AlgorithmIdentifier strictly (exact PSS parameters, no
 * parameters where none belong), in every build: an ML-DSA row comes back
 * even where avow_sigalg_supported() refuses it. The pre-hash HashML-DSA
 * and HashSLH-DSA identifiers are refused. Errors: AVOW_ERR_SIG_ALG.
 */
AVOW_EXPORT avow_err avow_sigalg_from_der(const uint8_t *der, size_t len, avow_sigalg *alg,
                                          avow_diag *diag);

/*
 * The algorithm a key signs with by default: ECDSA with the hash that fits
 * its curve, RSA PKCS#1 v1.5 SHA-256 (or PSS when pss is 1), Ed25519, the
 * ML-DSA or SLH-DSA row of the key's parameter set.
 */
AVOW_EXPORT avow_err avow_sigalg_for_key(const EVP_PKEY *pkey, int pss, avow_sigalg *alg);

/* avow_sigalg_fits_key flags. */
#define AVOW_SIGALG_FIT_JOSE 0x1u /* also the curve JOSE binds: ES256 only with P-256, ... */

/*
 * Whether pkey may sign or verify under alg: its key type belongs to alg's
 * family (EC/ECDSA, RSA/PKCS#1, RSA or RSA-PSS/PSS, Ed25519), or for ML-DSA
 * and SLH-DSA is the row's one parameter set; with
 * AVOW_SIGALG_FIT_JOSE an ECDSA key must also be on the curve of the JOSE
 * name. Returns AVOW_OK, AVOW_ERR_ALG_MISMATCH, AVOW_ERR_SIG_ALG (alg not
 * in the table), AVOW_ERR_UNSUPPORTED (not in this build, avow_sigalg_supported)
 * or AVOW_ERR_ARG (pkey NULL).
 */
AVOW_EXPORT avow_err avow_sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey, unsigned flags);

/*
 * Verifies sig over data with pkey under alg. Refuses an algorithm that does
 * not fit the key type (AVOW_ERR_ALG_MISMATCH); ECDSA signatures must be the
 * DER ECDSA-Sig-Value, never raw r||s; ML-DSA and SLH-DSA signatures must
 * have their parameter set's size. Returns AVOW_OK or AVOW_ERR_SIG_INVALID;
 * AVOW_ERR_UNSUPPORTED for an algorithm this build cannot verify
 * (avow_sigalg_supported).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_sigalg_verify(avow_sigalg alg, EVP_PKEY *pkey,
                                                        const uint8_t *data, size_t data_len,
                                                        const uint8_t *sig, size_t sig_len,
                                                        avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
