/*
 * avow/tpm.h - TPM 2.0 key attestation: the TCG tcg-attest-tpm-certify
 * statement of the csr-attestation draft's TPM appendix (type 2.23.133.20.1,
 * AVOW_OID_TPM_CERTIFY in avow/request.h):
 *
 *   Tcg-csr-tpm-certify ::= SEQUENCE {
 *     tpmSAttest  OCTET STRING,          -- TPMS_ATTEST from TPM2_Certify
 *     signature   OCTET STRING,          -- TPMT_SIGNATURE over tpmSAttest by the AK
 *     tpmTPublic  OCTET STRING OPTIONAL  -- TPMT_PUBLIC of the certified key
 *   }
 *
 * The TPM structures are read with tpm2-tss's libtss2-mu (a build without
 * AVOW_WITH_TPM refuses them with AVOW_ERR_UNSUPPORTED). The registry row
 * (docs/tpm.md) verifies the AK certificate (extendedKeyUsage
 * AVOW_OID_TCG_AK_EKU) to the verifier's anchors, the signature with the
 * scheme the TPMT_SIGNATURE names, extraData as the nonce and certifiedName
 * as the name of the given TPMT_PUBLIC, and turns objectAttributes into key
 * claims the default policy judges.
 */
#ifndef AVOW_TPM_H
#define AVOW_TPM_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/sigalg.h>
#include <avow/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_TPM_ROW_NAME "tcg-attest-tpm-certify"
/* tcg-kp-AIKCertificate: the extendedKeyUsage of a TPM attestation key's certificate. */
#define AVOW_OID_TCG_AK_EKU "2.23.133.8.3"

/* Upper bounds of the three parts (a TPMS_ATTEST or TPMT_PUBLIC fits in a TPM2B). */
#define AVOW_TPM_MAX_PART 4096

/* TPMA_OBJECT bits the claims are made of (TPM 2.0 Part 2, 8.3). */
#define AVOW_TPMA_FIXED_TPM             (1u << 1)
#define AVOW_TPMA_FIXED_PARENT          (1u << 4)
#define AVOW_TPMA_SENSITIVE_DATA_ORIGIN (1u << 5)
#define AVOW_TPMA_USER_WITH_AUTH        (1u << 6)
#define AVOW_TPMA_ENCRYPTED_DUPLICATION (1u << 11)
#define AVOW_TPMA_RESTRICTED            (1u << 16)
#define AVOW_TPMA_DECRYPT               (1u << 17)
#define AVOW_TPMA_SIGN                  (1u << 18)

/* 1 when this library reads TPM structures (built with AVOW_WITH_TPM), else 0. */
AVOW_EXPORT int avow_tpm_available(void);

/*
 * The statement's DER from the marshalled TPMS_ATTEST (not the TPM2B), the
 * marshalled TPMT_SIGNATURE and the marshalled TPMT_PUBLIC (pub NULL: left
 * out). Each part is checked to be what it claims (a Certify TPMS_ATTEST,
 * a TPMT_SIGNATURE, a TPMT_PUBLIC; no trailing bytes). *out is the
 * caller's (avow_buf_free). Errors: AVOW_ERR_ARG, AVOW_ERR_TOO_LARGE,
 * AVOW_ERR_TPM_*, AVOW_ERR_UNSUPPORTED, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_certify_encode(const uint8_t *attest, size_t attest_len,
                                             const uint8_t *sig, size_t sig_len, const uint8_t *pub,
                                             size_t pub_len, avow_buf *out, avow_diag *diag);

/*
 * The TPM name of a marshalled TPMT_PUBLIC: nameAlg (2 bytes, big-endian)
 * || H_nameAlg(pub), into out (cap bytes; *len gets the length).
 * Errors: AVOW_ERR_ARG, AVOW_ERR_TPM_STRUCT, AVOW_ERR_TPM_NAME_ALG, AVOW_ERR_UNSUPPORTED.
 */
AVOW_EXPORT avow_err avow_tpm_name(const uint8_t *pub, size_t pub_len, uint8_t *out, size_t cap,
                                   size_t *len, avow_diag *diag);

/*
 * A signer over a loaded TPM signing key (not restricted): esys is the
 * caller's ESYS_CONTEXT * (borrowed: it must outlive the signer, and is
 * used from one thread at a time), key its ESYS_TR handle with an empty
 * authValue, pub its public key (reference taken), alg ECDSA or RSA PKCS#1
 * v1.5 with SHA-2 (NONE: the key's default). The digest is made outside the
 * TPM and signed by TPM2_Sign. Caller frees *out with avow_signer_free.
 * Errors: AVOW_ERR_ARG, AVOW_ERR_UNSUPPORTED (also without AVOW_WITH_TPM),
 * AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_signer_new(void *esys, uint32_t key, EVP_PKEY *pub, avow_sigalg alg,
                                         avow_signer **out, avow_diag *diag);

/*
 * The attester: TPM2_Certify of the loaded key `key` by the loaded AK `ak`
 * (ESYS_TR handles on the caller's ESYS_CONTEXT *esys, empty authValues,
 * the AK's own signing scheme) with qualifyingData = nonce (at most 64
 * bytes), TPM2_ReadPublic of the key, and the statement made of them as
 * avow_tpm_certify_encode makes it. *out is the caller's (avow_buf_free).
 * Errors: AVOW_ERR_ARG, AVOW_ERR_TOO_LARGE (nonce), AVOW_ERR_CRYPTO (a TPM
 * command failed; diag->backend holds the TSS2_RC), AVOW_ERR_UNSUPPORTED.
 */
AVOW_EXPORT avow_err avow_tpm_certify(void *esys, uint32_t key, uint32_t ak, const uint8_t *nonce,
                                      size_t nonce_len, avow_buf *out, avow_diag *diag);

/*
 * A TPM reached through a TCTI (tpm2-tss's tctildr configuration string:
 * "swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0", "mssim:..."),
 * with its ESYS context and the parent of avow's keys: a primary of the
 * owner hierarchy made on open from a fixed template (ECC P-256 storage
 * key, AES-128-CFB, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|
 * noDA|restricted|decrypt, nameAlg SHA-256, empty unique; docs/tpm.md), so
 * the same TPM gives the same parent every time and nothing is persisted.
 * Keys are kept outside the TPM as their TPM2B_PUBLIC and TPM2B_PRIVATE
 * (the tpm2-tools "-u key.pub -r key.priv" files) and loaded for a command;
 * avow_tpm_free flushes the primary and every key loaded through it. One
 * thread at a time.
 */
typedef struct avow_tpm avow_tpm;

/*
 * Opens the TPM of tcti (NULL: tctildr's default) and makes the primary.
 * Errors: AVOW_ERR_ARG, AVOW_ERR_IO (no TCTI or no TPM answers),
 * AVOW_ERR_CRYPTO (a TPM command failed; diag->backend holds the TSS2_RC),
 * AVOW_ERR_UNSUPPORTED (built without AVOW_WITH_TPM), AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_open(const char *tcti, avow_tpm **out, avow_diag *diag);

/* Flushes what was loaded, closes the TPM. No-op for NULL. */
AVOW_EXPORT void avow_tpm_free(avow_tpm *t);

/* The ESYS_CONTEXT * (borrowed) for avow_tpm_signer_new and avow_tpm_certify. */
AVOW_EXPORT void *avow_tpm_get0_esys(const avow_tpm *t);

/* What avow_tpm_keygen makes under the primary. */
typedef enum avow_tpm_key_kind {
    /* An unrestricted signing key that never leaves the TPM (fixedTPM,
     * fixedParent, sensitiveDataOrigin, userWithAuth, sign): the key a
     * request asks a certificate for. */
    AVOW_TPM_KEY_SIGN = 0,
    /* A restricted signing key with a fixed scheme (ECDSA or RSASSA with
     * SHA-256) and the same attributes: an attestation key for TPM2_Certify. */
    AVOW_TPM_KEY_AK = 1,
    /* AVOW_TPM_KEY_SIGN with fixedTPM and fixedParent clear: a key that can
     * be duplicated to another TPM (what a verifier must refuse). */
    AVOW_TPM_KEY_DUPLICABLE = 2
} avow_tpm_key_kind;

typedef enum avow_tpm_key_type { AVOW_TPM_EC_P256 = 0, AVOW_TPM_RSA_2048 = 1 } avow_tpm_key_type;

/*
 * TPM2_Create of a key of `kind` and `type` with an empty authValue under
 * the primary. *pub and *priv get the marshalled TPM2B_PUBLIC and
 * TPM2B_PRIVATE (the caller's, avow_buf_free). The key is not loaded.
 * Errors: AVOW_ERR_ARG, AVOW_ERR_CRYPTO, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_keygen(avow_tpm *t, avow_tpm_key_kind kind, avow_tpm_key_type type,
                                     avow_buf *pub, avow_buf *priv, avow_diag *diag);

/*
 * TPM2_Load of a key avow_tpm_keygen (or tpm2_create under the same
 * primary) made: pub and priv are the marshalled TPM2B_PUBLIC and
 * TPM2B_PRIVATE, each read to its last byte. *key gets the ESYS_TR handle
 * (flushed by avow_tpm_free), *pkey (may be NULL) its public key (the
 * caller's). At most four keys per avow_tpm.
 * The files are checked by avow_tpm_key_check first.
 * Errors: AVOW_ERR_ARG, those of avow_tpm_key_check, AVOW_ERR_TOO_LARGE,
 * AVOW_ERR_CRYPTO (TPM2_Load failed: another parent, another TPM),
 * AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_load(avow_tpm *t, const uint8_t *pub, size_t pub_len,
                                   const uint8_t *priv, size_t priv_len, uint32_t *key,
                                   EVP_PKEY **pkey, avow_diag *diag);

/*
 * Whether pub and priv (either may be NULL, not both) are key files
 * avow_tpm_load takes, read without a TPM: each one TPM2B to its last byte
 * with its size field equal to the rest of the file; the TPM2B_PUBLIC an
 * ECC (NIST P-256, P-384, P-521) or RSA (2048, 3072, 4096 bits) key with
 * sign set, nameAlg SHA-256, -384 or -512, and a public key the verifier
 * reads (a point on the curve, a modulus of keyBits); the TPM2B_PRIVATE an
 * outer integrity HMAC of SHA-256's length (avow's primary) followed by an
 * encrypted sensitive area. diag.field names the field (key.pub.nameAlg,
 * key.priv.integrity, ...).
 * Errors: AVOW_ERR_ARG, AVOW_ERR_TPM_STRUCT (sizes, trailing bytes, what
 * libtss2-mu refuses), AVOW_ERR_TPM_NAME_ALG, AVOW_ERR_TPM_KEY_KIND (type,
 * curve, key size, attributes), AVOW_ERR_TPM_KEY_BLOB (the private area's
 * parts), AVOW_ERR_UNSUPPORTED (built without AVOW_WITH_TPM), AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_key_check(const uint8_t *pub, size_t pub_len, const uint8_t *priv,
                                        size_t priv_len, avow_diag *diag);

/*
 * The public key (DER SubjectPublicKeyInfo, the caller's) of a marshalled
 * TPM2B_PUBLIC, for an AK certificate or a check; needs no TPM.
 * Errors: AVOW_ERR_ARG, AVOW_ERR_TPM_STRUCT, AVOW_ERR_UNSUPPORTED, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_tpm_public_spki(const uint8_t *pub, size_t pub_len, avow_buf *spki,
                                          avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
