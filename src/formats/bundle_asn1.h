/*
 * ASN.1 schema of the csr-attestation attribute value as OpenSSL templates
 * (pure schema, no callbacks), and the strict decoder / encoder over them.
 *
 * One statement template serves every version: the -15 `hint` is an
 * OPTIONAL third field that the latest shape never carries.
 */
#ifndef AVOW_BUNDLE_ASN1_H
#define AVOW_BUNDLE_ASN1_H

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include <avow/request.h>

/* AttestationStatement / EvidenceStatement { type, stmt ANY, hint UTF8String OPTIONAL } */
typedef struct {
    ASN1_OBJECT *type;
    ASN1_TYPE *stmt;
    ASN1_TYPE *hint; /* OPTIONAL; an open type so that IA5String samples are read too */
} AVOW_STMT_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_STMT_ASN1)
DEFINE_STACK_OF(AVOW_STMT_ASN1)

/* OtherCertificateFormat ::= SEQUENCE { otherCertFormat OID, otherCert ANY } */
typedef struct {
    ASN1_OBJECT *format;
    ASN1_TYPE *cert;
} AVOW_OTHERCERT_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_OTHERCERT_ASN1)

/* LimitedCertChoices ::= CHOICE { certificate Certificate, other [3] IMPLICIT
 * OtherCertificateFormat } */
typedef struct {
    int type; /* 0 certificate, 1 other */
    union {
        X509 *cert;
        AVOW_OTHERCERT_ASN1 *other;
    } d;
} AVOW_CERTCHOICE_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_CERTCHOICE_ASN1)
DEFINE_STACK_OF(AVOW_CERTCHOICE_ASN1)

/* AttestationBundle / EvidenceBundle */
typedef struct {
    STACK_OF(AVOW_STMT_ASN1) * stmts;
    STACK_OF(AVOW_CERTCHOICE_ASN1) * certs; /* OPTIONAL */
} AVOW_BUNDLE_ASN1;
DECLARE_ASN1_FUNCTIONS(AVOW_BUNDLE_ASN1)
DEFINE_STACK_OF(AVOW_BUNDLE_ASN1)

/* EvidenceBundles ::= SEQUENCE SIZE (1..MAX) OF EvidenceBundle (-15) */
typedef STACK_OF(AVOW_BUNDLE_ASN1) AVOW_BUNDLES_ASN1;
DECLARE_ASN1_ITEM(AVOW_BUNDLES_ASN1)

/* The decoded attribute value: template objects plus avow's views over them. */
typedef struct avow__bundle {
    avow_bundle_version version;
    AVOW_BUNDLES_ASN1 *bundles; /* every shape is held as a list; LATEST/HINTED have one entry */
    avow_statement *stmts;
    size_t nstmts;
    avow_buf *stmt_der;     /* owned DER of each stmt (views in stmts[] point here) */
    STACK_OF(X509) * certs; /* references of their own */
    avow_other_cert *others;
    size_t nothers;
    avow_buf *other_der;
} avow__bundle;

/*
 * Decodes an attribute/extension value strictly (see docs/requests.md for
 * how the version is recognised). On failure b is cleared.
 */
avow_err avow__bundle_decode(const uint8_t *der, size_t len, avow__bundle *b, avow_diag *diag);
void avow__bundle_clear(avow__bundle *b);

/* One statement to write. */
typedef struct avow__stmt_in {
    avow_oid type;
    avow_buf der;
    char *hint; /* OPENSSL_malloc'd or NULL */
} avow__stmt_in;

/* Encodes statements and certs in the shape of version. *out owned by the caller. */
avow_err avow__bundle_encode(avow_bundle_version version, const avow__stmt_in *stmts, size_t n,
                             STACK_OF(X509) * certs, avow_buf *out, avow_diag *diag);

/* The id-aa-attestation object (caller frees with ASN1_OBJECT_free). */
ASN1_OBJECT *avow__attestation_oid(void);

#endif
