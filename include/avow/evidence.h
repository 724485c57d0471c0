/*
 * avow/evidence.h - PKIX Evidence (draft-ietf-rats-pkix-key-attestation-07):
 * the data model, strict DER decoding, encoding and signing.
 *
 *   Evidence ::= SEQUENCE { tbs TbsEvidence, signatures SEQUENCE OF SignatureBlock,
 *                           intermediateCertificates [0] SEQUENCE OF Certificate OPTIONAL }
 *
 * An avow_evidence is either decoded from DER (read-only afterwards except for
 * adding signatures) or built claim by claim and then signed. Everything the
 * accessors return is borrowed from the avow_evidence and lives until
 * avow_evidence_free().
 */
#ifndef AVOW_EVIDENCE_H
#define AVOW_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include <avow/bytes.h>
#include <avow/claims.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_EVIDENCE_PEM_LABEL "EVIDENCE"

/* Element types: id-evidence-element.N */
typedef enum avow_element_kind {
    AVOW_ELEMENT_TRANSACTION = 0,
    AVOW_ELEMENT_PLATFORM = 1,
    AVOW_ELEMENT_KEY = 2,
    AVOW_ELEMENT_UNKNOWN = 99 /* kept and reported, ignored by verification */
} avow_element_kind;

/* Claims of the -07 claim table. The number is the order of the table, not an OID. */
typedef enum avow_claim_id {
    AVOW_CLAIM_NONCE = 0,
    AVOW_CLAIM_TIMESTAMP,
    AVOW_CLAIM_AK_SPKI,
    AVOW_CLAIM_VENDOR,
    AVOW_CLAIM_OEMID,
    AVOW_CLAIM_HWMODEL,
    AVOW_CLAIM_HWVERSION,
    AVOW_CLAIM_HWSERIAL,
    AVOW_CLAIM_SWNAME,
    AVOW_CLAIM_SWVERSION,
    AVOW_CLAIM_DBGSTAT,
    AVOW_CLAIM_UPTIME,
    AVOW_CLAIM_BOOTCOUNT,
    AVOW_CLAIM_FIPSBOOT,
    AVOW_CLAIM_FIPSVER,
    AVOW_CLAIM_FIPSLEVEL,
    AVOW_CLAIM_FIPSMODULE,
    AVOW_CLAIM_KEY_IDENTIFIER,
    AVOW_CLAIM_KEY_SPKI,
    AVOW_CLAIM_KEY_EXTRACTABLE,
    AVOW_CLAIM_KEY_SENSITIVE,
    AVOW_CLAIM_KEY_NEVER_EXTRACTABLE,
    AVOW_CLAIM_KEY_LOCAL,
    AVOW_CLAIM_KEY_EXPIRY,
    AVOW_CLAIM_KEY_PURPOSE,
    AVOW_CLAIM_COUNT_,
    AVOW_CLAIM_UNKNOWN = 99
} avow_claim_id;

/* Declared ASN.1 value type of a claim. */
typedef enum avow_value_type {
    AVOW_VALUE_BYTES = 0, /* OCTET STRING */
    AVOW_VALUE_UTF8,      /* UTF8String */
    AVOW_VALUE_BOOL,      /* BOOLEAN */
    AVOW_VALUE_INT,       /* INTEGER, held as int64_t */
    AVOW_VALUE_TIME,      /* GeneralizedTime */
    AVOW_VALUE_OIDS,      /* SEQUENCE OF OBJECT IDENTIFIER (key purpose) */
    AVOW_VALUE_RAW        /* unknown claim: the value's whole DER TLV */
} avow_value_type;

/* Key capabilities: id-evidence-key-capability.N */
typedef enum avow_capability {
    AVOW_CAP_ENCRYPT = 0,
    AVOW_CAP_DECRYPT,
    AVOW_CAP_WRAP,
    AVOW_CAP_UNWRAP,
    AVOW_CAP_SIGN,
    AVOW_CAP_SIGN_RECOVER,
    AVOW_CAP_VERIFY,
    AVOW_CAP_VERIFY_RECOVER,
    AVOW_CAP_DERIVE,
    AVOW_CAP_COUNT_,
    AVOW_CAP_UNKNOWN = 99
} avow_capability;

/* Static facts of one claim in the table. */
typedef struct avow_claim_info {
    avow_claim_id id;
    avow_element_kind element;
    const char *name; /* the draft's short name: "nonce", "hwmodel", "never-extractable" */
    avow_value_type type;
    int repeatable;    /* 1 for identifier and ak-spki */
    uint8_t arc_claim; /* claim OID = arc .1 .element .arc_claim */
} avow_claim_info;

/*
 * The claim table as a vocabulary of normalised claims (avow/claims.h):
 * element kinds "transaction", "platform", "key" (a key element), each
 * claim with its normalised type, default trustworthiness-vector key and
 * roles (nonce: AVOW_ROLE_NONCE, spki: AVOW_ROLE_KEY_SPKI, identifier:
 * AVOW_ROLE_KEY_ID). Static.
 */
AVOW_EXPORT const avow_vocabulary *avow_evidence_vocabulary(void);
/* The vocabulary entry of a claim of the table; NULL for unknown ids. */
AVOW_EXPORT const avow_vocab_claim *avow_evidence_vocab_claim(avow_claim_id id);

/* Table row for id, or NULL for AVOW_CLAIM_UNKNOWN or out-of-range values. */
AVOW_EXPORT const avow_claim_info *avow_claim_info_get(avow_claim_id id);
/* Looks a claim up by its short name; NULL when unknown. */
AVOW_EXPORT const avow_claim_info *avow_claim_info_by_name(const char *name);
/* Name of an element kind ("transaction", "platform", "key", "unknown"). */
AVOW_EXPORT const char *avow_element_name(avow_element_kind kind);
/* Short name of a capability ("sign", "derive", ...), NULL when unknown. */
AVOW_EXPORT const char *avow_capability_name(avow_capability cap);
/* Capability by short name; AVOW_CAP_UNKNOWN when unknown. */
AVOW_EXPORT avow_capability avow_capability_by_name(const char *name);

/*
 * One OID of a key purpose list. Decoded: both fields set. When building,
 * an empty oid means "the capability cap under the profile's arc".
 */
typedef struct avow_purpose {
    avow_capability cap; /* AVOW_CAP_UNKNOWN for a third-party OID */
    avow_view oid;       /* DER content octets of the OID */
} avow_purpose;

/* A claim value. Which fields are meaningful follows `type`. */
typedef struct avow_value {
    avow_value_type type;
    int present;      /* 0: the claim carries no value (requests only) */
    avow_view bytes;  /* BYTES, UTF8 (not NUL-terminated), TIME (the DER text), RAW */
    int64_t integer;  /* INT; BOOL as 0/1 */
    time_t time;      /* TIME as seconds since the epoch, UTC */
    size_t npurposes; /* OIDS */
    const avow_purpose *purposes;
} avow_value;

typedef struct avow_claim {
    avow_claim_id id; /* AVOW_CLAIM_UNKNOWN when the OID is not in the table */
    avow_view oid;    /* DER content octets of claimType */
    avow_value value;
} avow_claim;

typedef struct avow_element {
    avow_element_kind kind;
    avow_view oid; /* DER content octets of elementType */
    size_t nclaims;
    const avow_claim *claims;
} avow_element;

/*
 * The fields of a SignerIdentifier. In -07 it is a SEQUENCE of three
 * OPTIONAL fields of which at least one is present, so a block may carry
 * several; they must then name one key (the decoder checks that the
 * subjectPublicKeyInfo is the certificate's key, the verifier that the
 * keyId identifies it).
 */
typedef enum avow_sid_kind {
    AVOW_SID_KEYID = 0,
    AVOW_SID_SPKI = 1,
    AVOW_SID_CERT = 2
} avow_sid_kind;

/* The fields of a SignerIdentifier as bits (avow_signature_block.sid_fields). */
#define AVOW_SID_FIELD(kind) (1u << (unsigned)(kind))
#define AVOW_SID_HAS_KEYID   AVOW_SID_FIELD(AVOW_SID_KEYID)
#define AVOW_SID_HAS_SPKI    AVOW_SID_FIELD(AVOW_SID_SPKI)
#define AVOW_SID_HAS_CERT    AVOW_SID_FIELD(AVOW_SID_CERT)
#define AVOW_SID_ALL         (AVOW_SID_HAS_KEYID | AVOW_SID_HAS_SPKI | AVOW_SID_HAS_CERT)

typedef struct avow_signature_block {
    /* The field the key is taken from, in the draft's order: the certificate,
     * else the subjectPublicKeyInfo, else the keyId. */
    avow_sid_kind sid_kind;
    avow_view key_id; /* keyId, when sid_fields has AVOW_SID_HAS_KEYID */
    avow_view spki;   /* DER SubjectPublicKeyInfo, when AVOW_SID_HAS_SPKI */
    avow_view
        cert_der; /* DER certificate, when AVOW_SID_HAS_CERT (avow_evidence_get0_signer_cert) */
    avow_view algorithm; /* DER AlgorithmIdentifier */
    avow_view value;     /* signatureValue */
    unsigned sid_fields; /* AVOW_SID_HAS_* of every field present; never 0 */
} avow_signature_block;

typedef struct avow_evidence avow_evidence;

/* Decoding flags; 0 is fully strict. */
enum {
    /* Read intermediateCertificates as EXPLICIT [0] { SEQUENCE OF Certificate }
     * (the literal reading of the module) instead of IMPLICIT [0], which is what
     * the reference implementation and every published sample use. */
    AVOW_DECODE_EXPLICIT_INTERMEDIATES = 1u << 0,
    /* Accept claims without a value (attestation requests). */
    AVOW_DECODE_ALLOW_VALUELESS = 1u << 1
};

/* Limits a decoder enforces. */
#define AVOW_EVIDENCE_MAX_SIZE       (256u * 1024u)
#define AVOW_EVIDENCE_MAX_ELEMENTS   64u
#define AVOW_EVIDENCE_MAX_CLAIMS     256u /* per element */
#define AVOW_EVIDENCE_MAX_SIGNATURES 16u
#define AVOW_EVIDENCE_MAX_CERTS      16u /* intermediateCertificates */
#define AVOW_EVIDENCE_MAX_PURPOSES   32u

/*
 * Decodes DER Evidence. Rejects BER, trailing bytes, version != 1, empty
 * lists, values of the wrong type for a known claim, repeated platform or
 * transaction elements, a non-repeatable claim given twice, two key elements
 * for one key, a key element without identifier, and sizes over the limits.
 * A SignerIdentifier must hold at least one field (AVOW_ERR_SIGNER_ID), and
 * its subjectPublicKeyInfo must be its certificate's key when it has both
 * (AVOW_ERR_SIGNER_MISMATCH). Embedded certificates (sid certificate,
 * intermediateCertificates) must be DER in the rules a re-encoding would
 * check and those the TLV walk cannot see: [1]/[2] IMPLICIT unique
 * identifiers primitive, no DEFAULT value written (version v1, critical
 * FALSE, basicConstraints cA FALSE), every extnValue one DER TLV, key usage
 * bits without trailing zeros, SET OF in names sorted, DER times;
 * AVOW_ERR_NOT_DER names the certificate and the part
 * ("intermediateCertificates[1].tbsCertificate.extensions[0].critical").
 * Unknown elements and claims are kept. profile NULL = compiled-in defaults.
 * On success *out is owned by the caller (avow_evidence_free).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_evidence_decode(const uint8_t *der, size_t len,
                                                          const avow_profile *profile,
                                                          unsigned flags, avow_evidence **out,
                                                          avow_diag *diag);

/* DER of the whole Evidence; *out is owned by the caller (avow_buf_free). */
AVOW_EXPORT avow_err avow_evidence_encode(const avow_evidence *ev, avow_buf *out);

/* No-op for NULL. */
AVOW_EXPORT void avow_evidence_free(avow_evidence *ev);

/* --- reading --- */
AVOW_EXPORT const avow_profile *avow_evidence_get0_profile(const avow_evidence *ev);
AVOW_EXPORT int64_t avow_evidence_version(const avow_evidence *ev);
AVOW_EXPORT size_t avow_evidence_element_count(const avow_evidence *ev);
AVOW_EXPORT const avow_element *avow_evidence_get0_element(const avow_evidence *ev, size_t i);
AVOW_EXPORT size_t avow_evidence_signature_count(const avow_evidence *ev);
AVOW_EXPORT const avow_signature_block *avow_evidence_get0_signature(const avow_evidence *ev,
                                                                     size_t i);
/*
 * Embedded certificates are kept as their DER and decoded (d2i_X509) on
 * first use, at most once per Evidence; a verifier whose chain cache knows
 * the bytes never decodes them. The decoder checks them as DER and by their
 * schema (above); what only OpenSSL's decoder would refuse is found where a
 * certificate is used: these getters return NULL, and the verifier refuses
 * the signature with AVOW_ERR_BAD_CERT. The objects returned are borrowed,
 * valid until the Evidence changes or is freed; calls from several threads
 * on one const Evidence are safe.
 */
/* The certificate of SignatureBlock i's sid; NULL when it has none or it cannot be decoded. */
AVOW_EXPORT X509 *avow_evidence_get0_signer_cert(const avow_evidence *ev, size_t i);
/* intermediateCertificates: their number, and the DER of one (borrowed; empty when out of range).
 */
AVOW_EXPORT size_t avow_evidence_intermediate_count(const avow_evidence *ev);
AVOW_EXPORT avow_view avow_evidence_intermediate_der(const avow_evidence *ev, size_t i);
/* intermediateCertificates decoded; NULL when there are none or one cannot be decoded. */
AVOW_EXPORT STACK_OF(X509) * avow_evidence_get0_intermediates(const avow_evidence *ev);
/* DER of tbs: the bytes every signature covers. Borrowed. */
AVOW_EXPORT avow_view avow_evidence_tbs(const avow_evidence *ev);
/* First claim `id` of the first element of its kind; NULL when absent. */
AVOW_EXPORT const avow_claim *avow_evidence_find_claim(const avow_evidence *ev, avow_claim_id id);

/* --- building --- */

/* An empty Evidence (version 1) to fill; caller frees with avow_evidence_free. */
AVOW_EXPORT avow_err avow_evidence_new(const avow_profile *profile, avow_evidence **out);

/* Appends an element of a known kind; *index receives its position (may be NULL). */
AVOW_EXPORT avow_err avow_evidence_add_element(avow_evidence *ev, avow_element_kind kind,
                                               size_t *index, avow_diag *diag);

/*
 * Appends a claim to element `element`. The value's type must be the claim's
 * declared type and the claim must belong to the element's kind; bytes are
 * copied. For AVOW_VALUE_OIDS pass purposes/npurposes (cap or oid of each).
 * Errors: AVOW_ERR_CLAIM_TYPE, AVOW_ERR_CLAIM_PLACE, AVOW_ERR_DUP_CLAIM,
 * AVOW_ERR_CLAIM_VALUE (fipslevel outside 1..4, dbgstat outside 0..4,
 * negative counters, spki that is not a SubjectPublicKeyInfo, bad UTF-8).
 */
AVOW_EXPORT avow_err avow_evidence_add_claim(avow_evidence *ev, size_t element, avow_claim_id id,
                                             const avow_value *value, avow_diag *diag);

/* Convenience wrappers over avow_evidence_add_claim. */
AVOW_EXPORT avow_err avow_evidence_add_bytes(avow_evidence *ev, size_t element, avow_claim_id id,
                                             const uint8_t *p, size_t len, avow_diag *diag);
AVOW_EXPORT avow_err avow_evidence_add_utf8(avow_evidence *ev, size_t element, avow_claim_id id,
                                            const char *s, avow_diag *diag);
AVOW_EXPORT avow_err avow_evidence_add_bool(avow_evidence *ev, size_t element, avow_claim_id id,
                                            int b, avow_diag *diag);
AVOW_EXPORT avow_err avow_evidence_add_int(avow_evidence *ev, size_t element, avow_claim_id id,
                                           int64_t v, avow_diag *diag);
AVOW_EXPORT avow_err avow_evidence_add_time(avow_evidence *ev, size_t element, avow_claim_id id,
                                            time_t t, avow_diag *diag);
AVOW_EXPORT avow_err avow_evidence_add_purposes(avow_evidence *ev, size_t element,
                                                const avow_capability *caps, size_t ncaps,
                                                avow_diag *diag);

/* How avow_evidence_add_claims_json_ex resolves the special values. */
typedef struct avow_claims_json_opts {
    size_t size;   /* set by avow_claims_json_opts_init */
    int now_given; /* 1: "timestamp": "now" is `now`; 0: the current time */
    int64_t now;
    /* "ak-spki": "auto" becomes one ak-spki claim per key here (DER SPKIs, borrowed). */
    size_t nsigner_spkis;
    const avow_view *signer_spkis;
} avow_claims_json_opts;

AVOW_EXPORT void avow_claims_json_opts_init(avow_claims_json_opts *o);

/*
 * Adds the elements and claims described by a JSON document (the format of
 * docs/claims-json.md; the "elements" array that avow_evidence_to_json prints
 * is accepted as input too). "timestamp": "now" and "ak-spki": "auto" are
 * resolved from opts (NULL: the current time, and no signer keys, so "auto"
 * is AVOW_ERR_ARG). Errors: AVOW_ERR_JSON naming the JSON path, or any error
 * of avow_evidence_add_claim.
 */
AVOW_EXPORT avow_err avow_evidence_add_claims_json(avow_evidence *ev, const char *json, size_t len,
                                                   avow_diag *diag);
AVOW_EXPORT avow_err avow_evidence_add_claims_json_ex(avow_evidence *ev, const char *json,
                                                      size_t len, const avow_claims_json_opts *opts,
                                                      avow_diag *diag);

/*
 * Appends a certificate to intermediateCertificates (reference taken:
 * X509_up_ref). A certificate that is not DER is refused as the decoder
 * refuses it (AVOW_ERR_NOT_DER; see avow_evidence_decode).
 */
AVOW_EXPORT avow_err avow_evidence_add_intermediate(avow_evidence *ev, X509 *cert, avow_diag *diag);

struct avow_signer;

/*
 * Signs the DER of tbs with signer and appends a SignatureBlock whose sid
 * holds the fields of sid_fields (AVOW_SID_HAS_*, at least one):
 * certificate needs a signer with a certificate; keyId is the certificate's
 * SubjectKeyIdentifier, or the SHA-1 of the public key bits as RFC 5280
 * method 1 when there is none; subjectPublicKeyInfo is the signer's key.
 * After the first signature the claims are frozen (AVOW_ERR_STATE on
 * further adds). Errors: AVOW_ERR_ARG (no field, an unknown bit, a
 * certificate the signer lacks), AVOW_ERR_NOT_DER (the signer's certificate
 * is not DER), the signer's.
 */
AVOW_EXPORT avow_err avow_evidence_sign_sid(avow_evidence *ev, struct avow_signer *signer,
                                            unsigned sid_fields, avow_diag *diag);

/* avow_evidence_sign_sid with the one field `sid`. */
AVOW_EXPORT avow_err avow_evidence_sign(avow_evidence *ev, struct avow_signer *signer,
                                        avow_sid_kind sid, avow_diag *diag);

/*
 * The combined form (docs/kat.md): a platform token (a PSA token, RFC 9783)
 * inside the Evidence, under its signatures. The token is wrapped as a CBOR
 * CMW record of media_type (NULL: AVOW_PSA_MEDIA_TYPE) with the evidence
 * indicator and added to the platform element (made when there is none) as
 * the claim AVOW_OID_PLATFORM_TOKEN (avow/kat.h), whose value is an
 * id-pe-cmw CMW (the OCTET STRING of its cbor choice). The verifier hands it
 * to the statement type of id-pe-cmw. At most one per Evidence
 * (AVOW_ERR_DUP_CLAIM); errors also AVOW_ERR_TOO_LARGE (over
 * AVOW_EVIDENCE_MAX_PLATFORM_TOKEN), AVOW_ERR_STATE (signed),
 * AVOW_ERR_MEDIA_TYPE, AVOW_ERR_NOMEM.
 */
#define AVOW_EVIDENCE_MAX_PLATFORM_TOKEN (64u * 1024u)
AVOW_EXPORT avow_err avow_evidence_add_platform_token(avow_evidence *ev, const char *media_type,
                                                      const uint8_t *token, size_t len,
                                                      avow_diag *diag);

/* --- showing --- */

/*
 * Human-readable dump in the manner of `openssl x509 -text`: every element,
 * claim (with its name, type and value), signature block and certificate.
 * *out is NUL-terminated text owned by the caller (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_evidence_to_text(const avow_evidence *ev, avow_buf *out);

/*
 * The Evidence as JSON: {"version":1,"elements":[{"type":"platform","oid":...,
 * "claims":[{"name":...,"oid":...,"type":...,"value":...}]}],"signatures":[...],
 * "intermediates":[...]}. Bytes as lowercase hex, times as RFC 3339, purposes
 * as names (or dotted OIDs). *out is NUL-terminated, owned by the caller.
 */
AVOW_EXPORT avow_err avow_evidence_to_json(const avow_evidence *ev, avow_buf *out);

#ifdef __cplusplus
}
#endif
#endif
