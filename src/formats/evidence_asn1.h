/*
 * ASN.1 schema of PKIX Evidence (-07) as OpenSSL templates: pure schema,
 * no behaviour in callbacks. Decoded once, then indexed into avow's own model.
 */
#ifndef AVOW_EVIDENCE_ASN1_H
#define AVOW_EVIDENCE_ASN1_H

#include <openssl/asn1t.h>
#include <openssl/x509.h>

/*
 * A value kept as a view of its encoding, stored inside its parent
 * structure: no allocation and no copy. Two primitive items use it:
 * AVOW_RAW_OID (an OBJECT IDENTIFIER: the content octets) and AVOW_RAW_ANY
 * (an open type: the content octets of a universal primitive, the whole TLV
 * of a SEQUENCE, SET or non-universal tag, as OpenSSL's ANY does). An
 * ASN1_OBJECT and an ASN1_TYPE cost two to three allocations each, and
 * claims are most of an Evidence. The views point into the buffer decoded
 * from, so that buffer must outlive the structure (the decoder decodes its
 * own copy of the input); the index checks every value it reads.
 */
typedef struct {
    int type;               /* the tag (V_ASN1_OTHER for other classes); -1 when absent */
    const unsigned char *p; /* borrowed */
    int len;
} AVOW_RAW;
DECLARE_ASN1_ITEM(AVOW_RAW_OID)
DECLARE_ASN1_ITEM(AVOW_RAW_ANY)
/*
 * AVOW_RAW_SEQ: a SEQUENCE kept whole (p, len is its TLV; type is
 * V_ASN1_SEQUENCE when present). Embedded certificates are read as this:
 * d2i_X509 costs OpenSSL 3.0 more than a signature check (its provider key
 * decoder), so a certificate is decoded only where it is used, and a
 * verifier whose chain cache knows the bytes never decodes it.
 */
DECLARE_ASN1_ITEM(AVOW_RAW_SEQ)
DEFINE_STACK_OF(AVOW_RAW)

typedef struct {
    AVOW_RAW type;  /* claimType */
    AVOW_RAW value; /* open type, OPTIONAL */
} AVOW_CLAIM_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_CLAIM_ASN1)
DEFINE_STACK_OF(AVOW_CLAIM_ASN1)

typedef struct {
    AVOW_RAW type; /* elementType */
    STACK_OF(AVOW_CLAIM_ASN1) * claims;
} AVOW_ELEMENT_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_ELEMENT_ASN1)
DEFINE_STACK_OF(AVOW_ELEMENT_ASN1)

typedef struct {
    ASN1_INTEGER *version;
    STACK_OF(AVOW_ELEMENT_ASN1) * elements;
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
    AVOW_RAW cert;             /* [2] EXPLICIT Certificate, as its DER (AVOW_RAW_SEQ) */
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
    STACK_OF(AVOW_SIG_ASN1) * sigs;
    STACK_OF(AVOW_RAW) * certs; /* intermediateCertificates [0] OPTIONAL, each as its DER */
} AVOW_EVIDENCE_ASN1;
/* Two encodings of one structure: [0] IMPLICIT (deployed) and [0] EXPLICIT (module text). */
DECLARE_ASN1_FUNCTIONS(AVOW_EVIDENCE_ASN1)
DECLARE_ASN1_ITEM(AVOW_EVIDENCE_EXPLICIT_ASN1)

/* KeyPurposes ::= SEQUENCE OF OBJECT IDENTIFIER */
typedef STACK_OF(ASN1_OBJECT) AVOW_PURPOSES_ASN1;
DECLARE_ASN1_ITEM(AVOW_PURPOSES_ASN1)

#endif
