/*
 * avow/ca.h - a small certification authority for attested requests, and
 * the relying party's reader of what it writes (the passport model).
 *
 * An avow_ca is a signer (the CA key may live in a PKCS#11 token: avow
 * never needs the private key) plus the CA certificate. It issues an X.509
 * v3 end-entity certificate for a request only when the request's appraisal
 * (avow_appraise_request) is affirming, and puts the Attestation Result into
 * the certificate: the id-pe-cmw extension (1.3.6.1.5.5.7.1.35, RFC 9999)
 * holding the CMW choice json, a UTF8String with the JSON CMW record
 *
 *   ["application/eat+jwt; eat_profile=\"tag:ietf.org,2026:rats/ear#03\"",
 *    "<base64url of the EAR JWT signed by the CA's key>"]
 *
 * docs/ca.md describes the certificate profile and the checks of the reader.
 */
#ifndef AVOW_CA_H
#define AVOW_CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/request.h>
#include <avow/signer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_CA_DEFAULT_DAYS      365u  /* issued certificates */
#define AVOW_CA_DEFAULT_ROOT_DAYS 3650u /* the self-signed CA certificate */
#define AVOW_CA_MAX_DAYS          36500u
#define AVOW_CA_LEEWAY            300 /* notBefore = now - this many seconds */
#define AVOW_CA_SERIAL_LEN        16u /* random bytes of a serial number (top bit clear) */
/* Ceiling of the CMW extension value a reader accepts (the DER UTF8String). */
#define AVOW_CA_MAX_CMW_SIZE (1024u * 1024u)

/* keyUsage bits of issued certificates (0 = AVOW_KU_DIGITAL_SIGNATURE). */
enum {
    AVOW_KU_DIGITAL_SIGNATURE = 1u << 0,
    AVOW_KU_NON_REPUDIATION = 1u << 1,
    AVOW_KU_KEY_ENCIPHERMENT = 1u << 2,
    AVOW_KU_DATA_ENCIPHERMENT = 1u << 3,
    AVOW_KU_KEY_AGREEMENT = 1u << 4
};

/* keyUsage bits by their OpenSSL names ("digitalSignature,keyAgreement"). Errors: AVOW_ERR_ARG. */
AVOW_EXPORT avow_err avow_ca_key_usage_parse(const char *text, unsigned *bits, avow_diag *diag);

/*
 * A self-signed CA certificate for the signer's public key: subject = issuer
 * = subject text (avow_name_parse: RFC 4514 "CN=avow demo CA,O=Example",
 * most specific first, or OpenSSL's "/O=Example/CN=avow demo CA"), random serial, validity now -
 * AVOW_CA_LEEWAY .. now + days (0 = AVOW_CA_DEFAULT_ROOT_DAYS; now 0 = the
 * current time), basicConstraints CA:TRUE critical, keyUsage keyCertSign,
 * cRLSign, digitalSignature critical, subjectKeyIdentifier (SHA-1 of the
 * key bits). Signed through the signer. *out owned by the caller (X509_free).
 */
AVOW_EXPORT avow_err avow_ca_make_root(avow_signer *signer, const char *subject, unsigned days,
                                       time_t now, X509 **out, avow_diag *diag);

typedef struct avow_ca avow_ca;

/*
 * A CA over signer and its certificate. The certificate's public key must
 * be the signer's (AVOW_ERR_KEY_BINDING otherwise) and it must be a CA
 * certificate (basicConstraints CA:TRUE, AVOW_ERR_BAD_CERT otherwise).
 * On success the CA owns signer (freed by avow_ca_free) and holds a
 * reference on cert; on failure both are still the caller's.
 */
AVOW_EXPORT avow_err avow_ca_new(avow_signer *signer, X509 *cert, avow_ca **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_ca_free(avow_ca *ca);

/* Borrowed from the CA. */
AVOW_EXPORT X509 *avow_ca_get0_cert(const avow_ca *ca);
AVOW_EXPORT avow_signer *avow_ca_get0_signer(const avow_ca *ca);

/* avow_ca_issue_opts.flags */
enum {
    /* End the certificate with the CA certificate when days would run past
     * it, instead of refusing with AVOW_ERR_CA_VALIDITY. */
    AVOW_CA_ISSUE_CAP_VALIDITY = 1u << 0,
    /* Copy the request's subjectAltName, each name of a kind in san_allow. */
    AVOW_CA_ISSUE_COPY_SAN = 1u << 1,
    /* Issue without the subjectAltName the request asks for. */
    AVOW_CA_ISSUE_DROP_SAN = 1u << 2
};

typedef struct avow_ca_issue_opts {
    size_t size;         /* set by avow_ca_issue_opts_init */
    const char *subject; /* subject text (avow_name_parse) overriding the request's; NULL = the
                            request's */
    unsigned days;       /* validity after now; 0 = AVOW_CA_DEFAULT_DAYS */
    time_t now;          /* 0 = the current time (no CA issues in 1970) */
    unsigned key_usage;  /* AVOW_KU_* bits; 0 = AVOW_KU_DIGITAL_SIGNATURE */
    const char *eku;     /* extendedKeyUsage: comma-separated names or dotted OIDs
                            ("clientAuth,1.3.6.1.5.5.7.3.2"); NULL = none */
    const char *kid;     /* JOSE "kid" of the EAR JWT; NULL = hex SubjectKeyIdentifier of the CA */
    avow_buf *jwt_out;   /* NULL, or receives the EAR JWT put in the certificate (avow_buf_free) */
    unsigned flags;      /* AVOW_CA_ISSUE_* */
    const char *san;     /* the certificate's subjectAltName ("DNS:host,IP:192.0.2.1",
                            avow_san_parse) in place of the request's; NULL = by flags */
    unsigned san_allow;  /* AVOW_SAN_* kinds AVOW_CA_ISSUE_COPY_SAN copies; 0 = AVOW_SAN_DNS */
} avow_ca_issue_opts;

/* Zeroes o and sets its size: call before filling an avow_ca_issue_opts. */
AVOW_EXPORT void avow_ca_issue_opts_init(avow_ca_issue_opts *o);

/*
 * Issues a certificate for req after its appraisal. Refuses unless
 * appraisal->status is AVOW_OK and the EAR is affirming
 * (AVOW_ERR_NOT_AFFIRMING), and unless the EAR carries the request's key as
 * an attested key (ear_veraison_key_attestation.akpub equal to the
 * request's SPKI in some submod: AVOW_ERR_KEY_BINDING). The certificate:
 * v3, random positive 16-byte serial, issuer = the CA certificate's subject,
 * subject from opts or the request (a request without a subject and no
 * override is AVOW_ERR_ARG), the request's public key, validity now -
 * AVOW_CA_LEEWAY .. now + days, basicConstraints CA:FALSE critical,
 * keyUsage critical, extendedKeyUsage when asked, subject and authority key
 * identifiers, and the CMW extension (non-critical) with the EAR JWT signed
 * by the CA's signer. The certificate is signed through the signer and its
 * signature checked with the CA's public key before it is returned.
 * Refused as well: a CA certificate not valid at now (AVOW_ERR_CA_EXPIRED,
 * field ca.notBefore or ca.notAfter); a notAfter past the CA certificate's
 * (AVOW_ERR_CA_VALIDITY, unless AVOW_CA_ISSUE_CAP_VALIDITY ends it with the
 * CA's); a subject attribute with a control character, C0, DEL or C1
 * (AVOW_ERR_BAD_SUBJECT, field "subject.CN" or the attribute at fault).
 * subjectAltName (docs/ca.md, "Names"): opts->san sets it; with
 * AVOW_CA_ISSUE_COPY_SAN the request's names are copied, each checked by
 * avow_san_check (AVOW_ERR_BAD_SAN) and of a kind in san_allow, a wildcard
 * DNS name only with AVOW_SAN_WILDCARD (AVOW_ERR_SAN_REFUSED, field
 * "request.subjectAltName[i]"); AVOW_CA_ISSUE_DROP_SAN leaves them out. A
 * request that asks for names with none of the three is refused
 * (AVOW_ERR_SAN_UNHANDLED): a certificate silently without the names asked
 * for would fail the client's TLS handshakes later. More than one of the
 * three is AVOW_ERR_ARG. The extension is critical only for an empty subject.
 * opts may be NULL. *cert owned by the caller (X509_free).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_ca_issue(avow_ca *ca, const avow_request *req,
                                                   const avow_appraisal *appraisal,
                                                   const avow_ca_issue_opts *opts, X509 **cert,
                                                   avow_diag *diag);

/* --- the relying party --- */

/*
 * The EAR JWT in cert's CMW extension, NOT verified (for display and
 * storage; use avow_cert_get_ear to rely on it). Strict: exactly one
 * id-pe-cmw extension (AVOW_ERR_DUP_ATTRIBUTE), its value exactly one DER
 * UTF8String (json) or OCTET STRING (cbor) (AVOW_ERR_NOT_DER,
 * AVOW_ERR_WRONG_TAG, AVOW_ERR_TRAILING), holding a CMW record that
 * avow_cmw_decode reads in that form (AVOW_ERR_JSON, AVOW_ERR_CBOR,
 * AVOW_ERR_CMW, AVOW_ERR_MEDIA_TYPE) and whose EAR avow_cmw_get_ear_jwt
 * takes (AVOW_ERR_NOT_EAR for another media type or indicator; avow/ear.h).
 * No extension is AVOW_ERR_NOT_FOUND. *jwt NUL-terminated (len excludes the NUL), owned by
 * the caller (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_cert_get_ear_jwt(const X509 *cert, avow_buf *jwt, avow_diag *diag);

/*
 * The relying party's check of a passport: avow_cert_get_ear_jwt, then the
 * JWT verified with the issuer's public key ca_pub (avow_ear_verify_jwt at
 * now, 0 = the current time, no leeway), the payload read as an EAR, and
 * the EAR must name the certificate's own public key as an attested key
 * (AVOW_ERR_KEY_BINDING otherwise). It does not check the certificate's
 * chain or validity: do that first. payload (may be NULL) receives the EAR
 * JSON, NUL-terminated, owned by the caller (avow_buf_free).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_cert_get_ear(X509 *cert, EVP_PKEY *ca_pub, time_t now,
                                                       avow_buf *payload, avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
