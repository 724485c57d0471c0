/*
 * avow/psa.h - the PSA attestation token (RFC 9783) as a statement type.
 * Everything else goes through the registry (avow/registry.h): a token is
 * verified with avow_statement_verify or avow_appraise under this type
 * OID, its claims come out as `psa:*` normalised claims, and it is shown
 * through its row. These are the few facts a caller needs to get there.
 *
 * The IAK is looked up in the verifier by the token's instance id:
 * avow_verifier_add_key with the 33-byte instance id as key id for an
 * asymmetric IAK (an EC key added without an id is also found by the
 * instance id TF-M derives from it, 0x01 || SHA-256 of the uncompressed
 * point), avow_verifier_add_secret for the symmetric IAK of a COSE_Mac0.
 */
#ifndef AVOW_PSA_H
#define AVOW_PSA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The statement type of a PSA token. No OID is assigned to the format;
 * this one is avow's placeholder (docs/oids.md). A token inside a CMW
 * (id-pe-cmw) is that row's business.
 */
#define AVOW_OID_PSA_TOKEN "1.3.6.1.4.1.99999.9783.1"
#define AVOW_PSA_ROW_NAME  "psa-token"
/* The CMW media type avow writes for a PSA token (RFC 9782's eat+cwt with RFC 9783's profile);
 * the CMW row also reads the older PSA profiles and application/psa-attestation-token. */
#define AVOW_PSA_MEDIA_TYPE "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\""

/* Bytes of a PSA instance id (a UEID of type RAND). */
#define AVOW_PSA_INSTANCE_ID_LEN 33

/*
 * The instance id TF-M derives from an EC IAK: 0x01 || SHA-256 of the
 * uncompressed public point. Errors: AVOW_ERR_ARG (not an EC key),
 * AVOW_ERR_CRYPTO.
 */
AVOW_EXPORT avow_err avow_psa_instance_id_of_key(const EVP_PKEY *pub,
                                                 uint8_t out[AVOW_PSA_INSTANCE_ID_LEN]);

#ifdef __cplusplus
}
#endif
#endif
