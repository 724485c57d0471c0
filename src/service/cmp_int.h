/*
 * Pieces of the CMP server (avow/cmp_server.h) shared by its files:
 * the freshness-nonce ITAVs (cmp_nonce.c) and the PKIStatusInfo of a
 * refusal (cmp_status.c).
 */
#ifndef AVOW_CMP_INT_H
#define AVOW_CMP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/asn1t.h>
#include <openssl/cmp.h>

#include <avow/appraise.h>
#include <avow/err.h>

/*
 * draft-ietf-lamps-attestation-freshness, section "ASN.1 Representation":
 *   NonceRequest ::= SEQUENCE { len INTEGER (8..64) OPTIONAL,
 *       type OBJECT IDENTIFIER OPTIONAL, reqInfo ANY DEFINED BY type OPTIONAL }
 *   NonceResponse ::= SEQUENCE { nonce OCTET STRING (SIZE(0 | 8..64)),
 *       expiry INTEGER OPTIONAL, type OBJECT IDENTIFIER OPTIONAL,
 *       respInfo ANY DEFINED BY type OPTIONAL }
 */
typedef struct AVOW_NONCEREQ_ASN1_st {
    ASN1_INTEGER *len;
    ASN1_OBJECT *type;
    ASN1_TYPE *info;
} AVOW_NONCEREQ_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_NONCEREQ_ASN1)

typedef struct AVOW_NONCERSP_ASN1_st {
    ASN1_OCTET_STRING *nonce;
    ASN1_INTEGER *expiry;
    ASN1_OBJECT *type;
    ASN1_TYPE *info;
} AVOW_NONCERSP_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_NONCERSP_ASN1)

#define AVOW_CMP_NONCE_MIN 8u
#define AVOW_CMP_NONCE_MAX 64u

/*
 * Reads the value of a nonceRequest ITAV: absent (OpenSSL's `openssl cmp
 * -infotype` sends none) means every field absent; otherwise a DER
 * NonceRequest with len within 8..64 and reqInfo only beside a type.
 * *len is 0 when none was asked for. Errors name field "genm.nonceRequest".
 */
avow_err avow__cmp_nonce_request_read(const ASN1_TYPE *value, size_t *len, avow_diag *d);

/* A nonceResponse ITAV of type oid (copied) carrying nonce and expiry (seconds). NULL: no memory.
 */
OSSL_CMP_ITAV *avow__cmp_nonce_response(const ASN1_OBJECT *oid, const uint8_t *nonce, size_t len,
                                        int64_t expiry);

/* The PKIFailureInfo bit (OSSL_CMP_PKIFAILUREINFO_*) that says what err refused. */
int avow__cmp_fail_bit(avow_err err);

/*
 * Why a request was refused, for the PKIStatusInfo: for a non-affirming
 * appraisal the EAR's failed checks and rules, each with its avow code
 * ("contraindicated: check freshness AVOW_ERR_NONCE_REPLAY: ..."), else the
 * code with the diag's field and detail. Escaped, at most cap - 1 bytes.
 * Returns the code the failInfo is chosen by: the worst reason's.
 */
avow_err avow__cmp_refusal_text(avow_err err, const avow_appraisal *ap, const avow_diag *d,
                                char *buf, size_t cap);

#endif
