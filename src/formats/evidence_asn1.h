/*
 * ASN.1 schema of PKIX Evidence (-07) as OpenSSL templates: pure schema, no
 * callbacks. Decoded once, then indexed into avow's own model.
 */
#ifndef AVOW_EVIDENCE_ASN1_H
#define AVOW_EVIDENCE_ASN1_H

#include <openssl/asn1t.h>
#include <openssl/x509.h>

/*
 * Element and claim types are OBJECT IDENTIFIERs read as their raw content
 * octets (an embedded string under the universal OID tag): an ASN1_OBJECT
 * would cost two allocations and a search of OpenSSL's OID table each, and
 * avow only compares them against its arc. The index checks their encoding.
 */
typedef struct {
    ASN1_STRING type;
    ASN1_TYPE *value; /* open type, OPTIONAL */
} AVOW_CLAIM_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_CLAIM_ASN1)
DEFINE_STACK_OF(AVOW_CLAIM_ASN1)

typedef struct {
    ASN1_STRING type;
    STACK_OF(AVOW_CLAIM_ASN1) *claims;
} AVOW_ELEMENT_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_ELEMENT_ASN1)
DEFINE_STACK_OF(AVOW_ELEMENT_ASN1)

typedef struct {
    ASN1_INTEGER *version;
    STACK_OF(AVOW_ELEMENT_ASN1) *elements;
} AVOW_TBS_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_TBS_ASN1)

/*
 * SubjectPublicKeyInfo as plain structure. X509_PUBKEY would decode the key
 * itself through OpenSSL 3's decoder machinery, which costs more than a
 * signature check; the key is parsed only where it is used.
 */
typedef struct {
    X509_ALGOR *algorithm;
    ASN1_BIT_STRING *key;
} AVOW_SPKI_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_SPKI_ASN1)

typedef struct {
    ASN1_OCTET_STRING *key_id; /* [0] EXPLICIT */
    AVOW_SPKI_ASN1 *spki;      /* [1] EXPLICIT */
    X509 *cert;                /* [2] EXPLICIT */
} AVOW_SID_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_SID_ASN1)

typedef struct {
    AVOW_SID_ASN1 *sid;
    X509_ALGOR *alg;
    ASN1_OCTET_STRING *value;
} AVOW_SIG_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_SIG_ASN1)
DEFINE_STACK_OF(AVOW_SIG_ASN1)

typedef struct {
    AVOW_TBS_ASN1 *tbs;
    STACK_OF(AVOW_SIG_ASN1) *sigs;
    STACK_OF(X509) *certs; /* intermediateCertificates [0] OPTIONAL */
} AVOW_EVIDENCE_ASN1;
/* Two encodings of one structure: [0] IMPLICIT (deployed) and [0] EXPLICIT (module text). */
DECLARE_ASN1_FUNCTIONS(AVOW_EVIDENCE_ASN1)
DECLARE_ASN1_ITEM(AVOW_EVIDENCE_EXPLICIT_ASN1)

/* KeyPurposes ::= SEQUENCE OF OBJECT IDENTIFIER */
typedef STACK_OF(ASN1_OBJECT) AVOW_PURPOSES_ASN1;
DECLARE_ASN1_ITEM(AVOW_PURPOSES_ASN1)

#endif
