/*
 * avow/sigalg.h - the signature algorithms avow signs and verifies with.
 *
 * One table holds every fact a caller needs about an algorithm: its family
 * and hash, the JOSE "alg" name, the curve JOSE binds to an ECDSA name and
 * its coordinate size, the PSS salt length, and whether the message is
 * hashed before the key's primitive runs. X.509 (AlgorithmIdentifier DER),
 * JOSE (src/formats/jose.c) and the PKCS#11 signer all read it, so no other
 * file maps algorithms.
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
    AVOW_SIGALG_ED25519         /* id-Ed25519 */
} avow_sigalg;

/* The key primitive an algorithm uses; a key type fits one family (RSA keys fit two). */
typedef enum avow_sigalg_family {
    AVOW_SIGALG_FAMILY_NONE = 0,
    AVOW_SIGALG_FAMILY_ECDSA,     /* EC keys */
    AVOW_SIGALG_FAMILY_RSA_PKCS1, /* RSA keys (rsaEncryption), never RSA-PSS keys */
    AVOW_SIGALG_FAMILY_RSA_PSS,   /* RSA and RSA-PSS keys */
    AVOW_SIGALG_FAMILY_EDDSA      /* Ed25519 keys */
} avow_sigalg_family;

/* Message digests of the table. */
typedef enum avow_hash {
    AVOW_HASH_NONE = 0, /* the primitive takes the whole message (PureEdDSA) */
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
} avow_sigalg_desc;

/* The facts of alg; NULL for NONE and values not in the table. */
AVOW_EXPORT const avow_sigalg_desc *avow_sigalg_info(avow_sigalg alg);

/* Row i of the table (0, 1, ...); NULL past the last, so callers can walk every algorithm. */
AVOW_EXPORT const avow_sigalg_desc *avow_sigalg_info_at(size_t i);

/* Short name ("ecdsa-sha256", "rsa-pss-sha256", "ed25519"...), NULL for NONE. */
AVOW_EXPORT const char *avow_sigalg_name(avow_sigalg alg);
/* Algorithm by short name; AVOW_SIGALG_NONE when unknown. */
AVOW_EXPORT avow_sigalg avow_sigalg_by_name(const char *name);

/* JOSE "alg" of alg ("ES256", ...); NULL for NONE. */
AVOW_EXPORT const char *avow_sigalg_jose_name(avow_sigalg alg);
/*
 * Algorithm by JOSE "alg" name, compared exactly (JOSE names are
 * case-sensitive); AVOW_SIGALG_NONE for "none", the HS* MACs and every
 * name not in the table.
 */
AVOW_EXPORT avow_sigalg avow_sigalg_by_jose_name(const char *name);

/*
 * DER AlgorithmIdentifier of alg (parameters absent for ECDSA and Ed25519,
 * NULL for PKCS#1 v1.5, RSASSA-PSS-params for PSS). Caller frees *out.
 */
AVOW_EXPORT avow_err avow_sigalg_to_der(avow_sigalg alg, avow_buf *out);

/*
 * Parses a DER AlgorithmIdentifier strictly (exact PSS parameters, no
 * parameters where none belong). Errors: AVOW_ERR_SIG_ALG.
 */
AVOW_EXPORT avow_err avow_sigalg_from_der(const uint8_t *der, size_t len, avow_sigalg *alg,
                                          avow_diag *diag);

/*
 * The algorithm a key signs with by default: ECDSA with the hash that fits
 * its curve, RSA PKCS#1 v1.5 SHA-256 (or PSS when pss is 1), Ed25519.
 */
AVOW_EXPORT avow_err avow_sigalg_for_key(const EVP_PKEY *pkey, int pss, avow_sigalg *alg);

/* avow_sigalg_fits_key flags. */
#define AVOW_SIGALG_FIT_JOSE 0x1u /* also the curve JOSE binds: ES256 only with P-256, ... */

/*
 * Whether pkey may sign or verify under alg: its key type belongs to alg's
 * family (EC/ECDSA, RSA/PKCS#1, RSA or RSA-PSS/PSS, Ed25519); with
 * AVOW_SIGALG_FIT_JOSE an ECDSA key must also be on the curve of the JOSE
 * name. Returns AVOW_OK, AVOW_ERR_ALG_MISMATCH, AVOW_ERR_SIG_ALG (alg not
 * in the table) or AVOW_ERR_ARG (pkey NULL).
 */
AVOW_EXPORT avow_err avow_sigalg_fits_key(avow_sigalg alg, const EVP_PKEY *pkey, unsigned flags);

/*
 * Verifies sig over data with pkey under alg. Refuses an algorithm that does
 * not fit the key type (AVOW_ERR_ALG_MISMATCH); ECDSA signatures must be the
 * DER ECDSA-Sig-Value, never raw r||s. Returns AVOW_OK or AVOW_ERR_SIG_INVALID.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_sigalg_verify(avow_sigalg alg, EVP_PKEY *pkey,
                                                        const uint8_t *data, size_t data_len,
                                                        const uint8_t *sig, size_t sig_len,
                                                        avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
