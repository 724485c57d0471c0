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

#ifdef __cplusplus
}
#endif
#endif
