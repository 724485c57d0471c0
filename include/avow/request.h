/*
 * avow/request.h - attested certificate requests (draft-ietf-lamps-csr-attestation):
 * a PKCS#10 CSR with the id-aa-attestation attribute, or a CRMF CertReqMsg
 * with the id-aa-attestation extension in its CertTemplate, each carrying
 * one AttestationBundle:
 *
 *   AttestationStatement ::= SEQUENCE { type OBJECT IDENTIFIER, stmt ANY DEFINED BY type }
 *   AttestationBundle ::= SEQUENCE {
 *       attestations SEQUENCE SIZE (1..MAX) OF AttestationStatement,
 *       certs SEQUENCE SIZE (1..MAX) OF LimitedCertChoices OPTIONAL }
 *
 * Older shapes are read too and reported (avow_bundle_version); see
 * docs/requests.md for how they are told apart. Everything an accessor
 * returns is borrowed from the avow_request and lives until avow_request_free().
 */
#ifndef AVOW_REQUEST_H
#define AVOW_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/crmf.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/profile.h>
#include <avow/signer.h>
#include <avow/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PEM labels. PKCS#10 is also read under "NEW CERTIFICATE REQUEST" (openssl req -newhdr). */
#define AVOW_CSR_PEM_LABEL     "CERTIFICATE REQUEST"
#define AVOW_CSR_PEM_LABEL_NEW "NEW CERTIFICATE REQUEST"
/* A single CRMF CertReqMsg (RFC 4211); the label is avow's choice, no RFC assigns one. */
#define AVOW_CRMF_PEM_LABEL "CERTIFICATE REQUEST MESSAGE"

/* Object identifiers (dotted) of the request formats and the statement types avow knows. */
#define AVOW_OID_ATTESTATION                                                                       \
    "1.2.840.113549.1.9.16.2.59"                  /* id-aa-attestation (= id-aa-evidence)          \
                                                   */
#define AVOW_OID_TPM_CERTIFY "2.23.133.20.1"      /* tcg-attest-tpm-certify */
#define AVOW_OID_CMW         "1.3.6.1.5.5.7.1.35" /* id-pe-cmw */
#define AVOW_OID_DICE_CMW    "2.23.133.5.4.9"     /* TCG DICE conceptual-message wrapper */

/* Limits the decoder enforces. */
#define AVOW_REQUEST_MAX_SIZE       (1024u * 1024u)
#define AVOW_REQUEST_MAX_STATEMENTS 16u /* over all bundles */
#define AVOW_REQUEST_MAX_CERTS      32u /* over all bundles, X.509 and other */
#define AVOW_REQUEST_MAX_BUNDLES    8u  /* -15 EvidenceBundles */

typedef enum avow_request_kind {
    AVOW_REQUEST_AUTO = 0, /* decode: tell PKCS#10 from CRMF by the PEM label or the DER shape */
    AVOW_REQUEST_PKCS10 = 1,
    AVOW_REQUEST_CRMF = 2
} avow_request_kind;

/* Which shape of the attribute value a request used. */
typedef enum avow_bundle_version {
    AVOW_BUNDLE_LATEST = 1, /* -16..-29: one AttestationBundle, statements {type, stmt} */
    AVOW_BUNDLE_DRAFT15 =
        2, /* -15: EvidenceBundles = SEQUENCE OF EvidenceBundle, {type, stmt, hint} */
    AVOW_BUNDLE_HINTED = 3 /* one EvidenceBundle whose statements carry a hint (pre -16 samples,
                              e.g. the draft repository's tcgAttestTpmCertify.pem) */
} avow_bundle_version;

/* "latest (-16..-29 AttestationBundle)", "-15 (EvidenceBundles with hint)", ...; NULL when unknown.
 */
AVOW_EXPORT const char *avow_bundle_version_name(avow_bundle_version v);
/* "pkcs10", "crmf"; NULL when unknown. */
AVOW_EXPORT const char *avow_request_kind_name(avow_request_kind k);

/* One statement of the bundle(s). Views are borrowed from the request. */
typedef struct avow_statement {
    avow_view type;      /* DER content octets of the type OID */
    char type_text[128]; /* the same OID, dotted */
    avow_view der;       /* stmt: its whole DER TLV */
    avow_view octets;    /* when stmt is an OCTET STRING (CBOR, JSON): its content; else empty */
    avow_view hint;      /* -15 / hinted shapes: the hint text (not NUL-terminated); else empty */
    size_t bundle;       /* which EvidenceBundle it came from (always 0 but for -15) */
} avow_statement;

/* A certs entry that is not an X.509 certificate: other [3] OtherCertificateFormat. */
typedef struct avow_other_cert {
    avow_view format; /* DER content octets of otherCertFormat */
    avow_view der;    /* otherCert: its whole DER TLV */
    size_t bundle;
} avow_other_cert;

typedef struct avow_request avow_request;

/* Decoding flags; 0 is fully strict. */
enum {
    /* Accept a request without the attestation attribute/extension (statement count 0)
     * instead of failing with AVOW_ERR_NO_ATTESTATION. */
    AVOW_REQUEST_ALLOW_NONE = 1u << 0
};

/*
 * Decodes a request given as DER or PEM ("CERTIFICATE REQUEST", "NEW
 * CERTIFICATE REQUEST" for PKCS#10; "CERTIFICATE REQUEST MESSAGE" for CRMF).
 * kind AUTO picks PKCS#10 or CRMF from the label or, for DER, the shape
 * (a PKCS#10 CertificationRequest ends in a BIT STRING signature); DER of
 * neither shape is AVOW_ERR_MALFORMED at field "request".
 * Strict: DER only (re-encode and compare), no trailing bytes, at most one
 * attestation attribute/extension (AVOW_ERR_DUP_ATTRIBUTE) holding exactly
 * one value, none = AVOW_ERR_NO_ATTESTATION (unless AVOW_REQUEST_ALLOW_NONE),
 * non-empty lists, only certificate / other [3] in certs, limits above.
 * The proof of possession is checked here but does not fail the decode:
 * read it with avow_request_pop(). *out is owned by the caller.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_request_decode(const uint8_t *in, size_t len,
                                                         avow_request_kind kind, unsigned flags,
                                                         avow_request **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_request_free(avow_request *r);

AVOW_EXPORT avow_request_kind avow_request_get_kind(const avow_request *r);
/* 0 when the request carries no attestation (AVOW_REQUEST_ALLOW_NONE). */
AVOW_EXPORT avow_bundle_version avow_request_get_version(const avow_request *r);
/* DER of the whole request as decoded. Borrowed. */
AVOW_EXPORT avow_view avow_request_der(const avow_request *r);
/* Subject name (borrowed; NULL when a CRMF template has none). */
AVOW_EXPORT const X509_NAME *avow_request_get0_subject(const avow_request *r);
/* The subject in RFC 4514 text, most specific first ("CN=foo,O=bar": avow_name_text);
 * empty for no subject. *out NUL-terminated, caller frees. */
AVOW_EXPORT avow_err avow_request_subject_text(const avow_request *r, avow_buf *out);
/*
 * The subjectAltName the request asks for: the extension in PKCS#10's
 * extensionRequest attribute (RFC 2986, PKCS#9) or in the CRMF certTemplate's
 * extensions. *out NULL when there is none (AVOW_OK), else the caller's
 * (GENERAL_NAMES_free). Strict: one extensionRequest attribute with one
 * value, one subjectAltName extension (AVOW_ERR_DUP_ATTRIBUTE), its value
 * one DER GeneralNames (AVOW_ERR_NOT_DER, AVOW_ERR_MALFORMED), 1 to
 * AVOW_SAN_MAX names (AVOW_ERR_EMPTY, AVOW_ERR_TOO_LARGE). The names are
 * not judged here: avow_san_check does that.
 */
AVOW_EXPORT avow_err avow_request_get1_sans(const avow_request *r, GENERAL_NAMES **out,
                                            avow_diag *diag);
/* The requested public key (borrowed) and its DER SubjectPublicKeyInfo (borrowed). */
AVOW_EXPORT EVP_PKEY *avow_request_get0_pubkey(const avow_request *r);
AVOW_EXPORT avow_view avow_request_spki(const avow_request *r);

AVOW_EXPORT size_t avow_request_statement_count(const avow_request *r);
AVOW_EXPORT const avow_statement *avow_request_get0_statement(const avow_request *r, size_t i);
/* The X.509 certificates of every bundle's certs, in order; borrowed, NULL when none. */
AVOW_EXPORT STACK_OF(X509) * avow_request_get0_certs(const avow_request *r);
AVOW_EXPORT size_t avow_request_other_cert_count(const avow_request *r);
AVOW_EXPORT const avow_other_cert *avow_request_get0_other_cert(const avow_request *r, size_t i);

/*
 * Proof of possession: AVOW_OK when the request's signature verifies under
 * its own public key (PKCS#10 self-signature, the same check as
 * `openssl req -verify`; CRMF POPOSigningKey over the DER CertRequest),
 * AVOW_ERR_POP otherwise. *detail (may be NULL) gets a static-lifetime or
 * request-owned message.
 */
AVOW_EXPORT avow_err avow_request_pop(const avow_request *r, const char **detail);

/* The underlying OpenSSL objects, for a CA that issues from them. Borrowed; NULL for the other
 * kind. */
AVOW_EXPORT X509_REQ *avow_request_get0_x509_req(const avow_request *r);
AVOW_EXPORT OSSL_CRMF_MSG *avow_request_get0_crmf(const avow_request *r);

/* --- building --- */

typedef struct avow_request_builder avow_request_builder;

/* kind PKCS10 or CRMF. Caller frees with avow_request_builder_free. */
AVOW_EXPORT avow_err avow_request_builder_new(avow_request_kind kind, avow_request_builder **out);
/* No-op for NULL. */
AVOW_EXPORT void avow_request_builder_free(avow_request_builder *b);

/*
 * Subject from text: RFC 4514 "CN=foo,O=bar" (most specific first, so the
 * DER holds O then CN) or OpenSSL's "/O=bar/CN=foo" (DER order), read by
 * avow_name_parse. Errors: AVOW_ERR_BAD_DN naming the attribute, AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_request_builder_set_subject(avow_request_builder *b, const char *text,
                                                      avow_diag *diag);

/*
 * Adds subjectAltNames from a list ("DNS:host,IP:192.0.2.1,URI:...,email:...",
 * avow_san_parse); may be called again to add more. The request carries them
 * as a subjectAltName extension: in PKCS#10's extensionRequest attribute,
 * beside the attestation attribute, or in the CRMF certTemplate's
 * extensions. Errors: AVOW_ERR_BAD_SAN (field "san[i]"), AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_request_builder_add_san(avow_request_builder *b, const char *text,
                                                  avow_diag *diag);

/*
 * Which shape to write: LATEST (default), DRAFT15 or HINTED (for
 * interoperability tests with older readers). Hints are written only in
 * the older shapes.
 */
AVOW_EXPORT avow_err avow_request_builder_set_version(avow_request_builder *b,
                                                      avow_bundle_version v);

/* A statement of any type: type as dotted text, stmt as one DER TLV (copied, checked strictly). */
AVOW_EXPORT avow_err avow_request_builder_add_statement(avow_request_builder *b,
                                                        const char *type_oid, const uint8_t *der,
                                                        size_t len, avow_diag *diag);
/* PKIX Evidence: type = the profile's id-evidence arc (profile NULL = defaults), stmt = the DER
 * Evidence. */
AVOW_EXPORT avow_err avow_request_builder_add_evidence(avow_request_builder *b,
                                                       const avow_profile *profile,
                                                       const uint8_t *der, size_t len,
                                                       avow_diag *diag);
/* A non-ASN.1 statement (CBOR, JSON) wrapped in an OCTET STRING. */
AVOW_EXPORT avow_err avow_request_builder_add_octets(avow_request_builder *b, const char *type_oid,
                                                     const uint8_t *data, size_t len,
                                                     avow_diag *diag);
/* A CMW statement (type id-pe-cmw): CMW ::= CHOICE { json UTF8String, cbor OCTET STRING }. */
AVOW_EXPORT avow_err avow_request_builder_add_cmw(avow_request_builder *b, int json,
                                                  const uint8_t *data, size_t len, avow_diag *diag);
/* Sets the hint of statement i (written only in the DRAFT15 and HINTED shapes). */
AVOW_EXPORT avow_err avow_request_builder_set_hint(avow_request_builder *b, size_t i,
                                                   const char *hint, avow_diag *diag);
/* Appends an X.509 certificate to the bundle's certs (reference taken). */
AVOW_EXPORT avow_err avow_request_builder_add_cert(avow_request_builder *b, X509 *cert,
                                                   avow_diag *diag);

/*
 * Assembles the request for the signer's public key and signs it through the
 * signer (so a key in a token signs without leaving it): PKCS#10 over the
 * CertificationRequestInfo, CRMF a POPOSigningKey over the CertRequest.
 * *der (DER) owned by the caller (avow_buf_free). At least one statement is
 * needed (AVOW_ERR_EMPTY).
 */
AVOW_EXPORT avow_err avow_request_builder_sign(avow_request_builder *b, avow_signer *signer,
                                               avow_buf *der, avow_diag *diag);

/* DER request -> PEM under the label of its kind. *pem NUL-terminated, caller frees. */
AVOW_EXPORT avow_err avow_request_to_pem(avow_request_kind kind, const uint8_t *der, size_t len,
                                         avow_buf *pem);

#ifdef __cplusplus
}
#endif
#endif
