/*
 * avow/err.h - the one error enum of avow and the per-call diagnostic record.
 *
 * Every public function returns avow_err. Numbers are grouped in ranges and
 * never renumbered: 1-99 API misuse and environment, 100-199 malformed input,
 * 200-299 verification and policy, 300-399 back ends, 900+ internal.
 */
#ifndef AVOW_ERR_H
#define AVOW_ERR_H

#include <stddef.h>
#include <stdint.h>

#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, number, message). Append only; do not reorder or renumber. */
#define AVOW_ERRORS(X)                                                                             \
    X(AVOW_OK, 0, "success")                                                                       \
    X(AVOW_ERR_ARG, 1, "invalid argument")                                                         \
    X(AVOW_ERR_NOMEM, 2, "out of memory")                                                          \
    X(AVOW_ERR_STATE, 3, "object is not in a state for this call")                                 \
    X(AVOW_ERR_IO, 4, "cannot read or write a file")                                               \
    X(AVOW_ERR_CONFIG, 5, "invalid configuration")                                                 \
    X(AVOW_ERR_UNSUPPORTED, 6, "unsupported feature or algorithm")                                 \
    X(AVOW_ERR_USAGE, 7, "invalid command-line usage")                                             \
    X(AVOW_ERR_NOT_FOUND, 8, "object not found")                                                   \
    X(AVOW_ERR_NONCE_LIMIT, 9, "too many outstanding nonces")                                      \
    X(AVOW_ERR_PERMISSION, 10, "file is open to group or others")                                  \
    X(AVOW_ERR_AMBIGUOUS, 13, "more than one token or object matches")                             \
    X(AVOW_ERR_NO_PIN, 14, "a PIN is needed and none was given")                                   \
    X(AVOW_ERR_LISTEN, 15, "cannot listen on the address")                                         \
    X(AVOW_ERR_TRUNCATED, 100, "input is truncated")                                               \
    X(AVOW_ERR_TRAILING, 101, "trailing bytes after the structure")                                \
    X(AVOW_ERR_NOT_DER, 102, "encoding is not DER")                                                \
    X(AVOW_ERR_WRONG_TAG, 103, "unexpected ASN.1 tag")                                             \
    X(AVOW_ERR_MALFORMED, 104, "malformed structure")                                              \
    X(AVOW_ERR_TOO_LARGE, 105, "input exceeds a size or count limit")                              \
    X(AVOW_ERR_VERSION, 106, "unsupported version")                                                \
    X(AVOW_ERR_EMPTY, 107, "a list that needs at least one entry is empty")                        \
    X(AVOW_ERR_CLAIM_TYPE, 108, "claim value has the wrong type")                                  \
    X(AVOW_ERR_CLAIM_VALUE, 109, "claim value is out of range")                                    \
    X(AVOW_ERR_DUP_ELEMENT, 110, "element repeated that may appear once")                          \
    X(AVOW_ERR_DUP_CLAIM, 111, "claim repeated that may appear once")                              \
    X(AVOW_ERR_DUP_KEY, 112, "two key elements describe the same key")                             \
    X(AVOW_ERR_MISSING_CLAIM, 113, "a mandatory claim is missing")                                 \
    X(AVOW_ERR_SIGNER_ID, 114, "signer identifier holds no usable field")                          \
    X(AVOW_ERR_PEM, 115, "bad PEM armour")                                                         \
    X(AVOW_ERR_JSON, 116, "bad JSON input")                                                        \
    X(AVOW_ERR_BAD_CERT, 117, "certificate cannot be parsed")                                      \
    X(AVOW_ERR_BAD_SPKI, 118, "public key info cannot be parsed")                                  \
    X(AVOW_ERR_VALUE_MISSING, 119, "claim has no value")                                           \
    X(AVOW_ERR_CLAIM_PLACE, 120, "claim stands in an element it does not belong")                  \
    X(AVOW_ERR_OID, 121, "invalid object identifier")                                              \
    X(AVOW_ERR_BAD_TIME, 122, "invalid time value")                                                \
    X(AVOW_ERR_NO_ATTESTATION, 123, "request carries no attestation")                              \
    X(AVOW_ERR_DUP_ATTRIBUTE, 124, "attestation attribute or extension repeated")                  \
    X(AVOW_ERR_BAD_POLICY, 125, "appraisal policy document is invalid")                            \
    X(AVOW_ERR_SIGNER_MISMATCH, 126, "signer identifier fields name different keys")               \
    X(AVOW_ERR_REQUEST_VALUE, 128, "requested claim carries a value it may not, or lacks one")     \
    X(AVOW_ERR_REQUEST_UNKNOWN, 129, "request names an unknown element or unknown claim value")    \
    X(AVOW_ERR_MEDIA_TYPE, 130, "malformed media type")                                            \
    X(AVOW_ERR_CBOR, 131, "CBOR is not well-formed")                                               \
    X(AVOW_ERR_CMW, 132, "malformed conceptual message wrapper (CMW)")                             \
    X(AVOW_ERR_JWKS, 133, "malformed JWK set")                                                     \
    X(AVOW_ERR_BAD_SAN, 135, "subjectAltName entry is malformed")                                  \
    X(AVOW_ERR_BAD_DN, 136, "distinguished name text is malformed")                                \
    X(AVOW_ERR_BASE64, 140, "bad base64 encoding")                                                 \
    X(AVOW_ERR_CONTENT_TYPE, 141, "unsupported media type or method")                              \
    X(AVOW_ERR_CMP, 150, "CMP message cannot be processed")                                        \
    X(AVOW_ERR_OAUTH_HEADER, 160, "OAuth attestation header missing, repeated or not token68")     \
    X(AVOW_ERR_OAUTH_TYP, 161, "token typ is not the one its OAuth role requires")                 \
    X(AVOW_ERR_OAUTH_CLAIM, 162, "OAuth token claim missing or of the wrong type")                 \
    X(AVOW_ERR_OAUTH_CNF, 163, "cnf is not a public asymmetric JWK")                               \
    X(AVOW_ERR_CBOR_INDEFINITE, 171, "CBOR uses an indefinite length")                             \
    X(AVOW_ERR_CBOR_NOT_PREFERRED, 172, "CBOR is not in its shortest (deterministic) form")        \
    X(AVOW_ERR_CBOR_DUP_KEY, 173, "CBOR map repeats a key")                                        \
    X(AVOW_ERR_COSE, 174, "COSE message is malformed")                                             \
    X(AVOW_ERR_PSA_PROFILE, 175, "PSA token names a profile avow does not know")                   \
    X(AVOW_ERR_TPM_STRUCT, 180, "TPM structure is malformed or has trailing bytes")                \
    X(AVOW_ERR_TPM_MAGIC, 181, "TPMS_ATTEST magic is not TPM_GENERATED_VALUE")                     \
    X(AVOW_ERR_TPM_ATTEST_TYPE, 182, "TPMS_ATTEST is not the result of TPM2_Certify")              \
    X(AVOW_ERR_RESULT_STALE, 190, "attestation result is older than the accepted age")             \
    X(AVOW_ERR_RESULT_UNTRUSTED, 191, "attestation result not signed by a trusted verifier key")   \
    X(AVOW_ERR_UNSIGNED, 200, "evidence carries no signature")                                     \
    X(AVOW_ERR_SIG_INVALID, 201, "signature does not verify")                                      \
    X(AVOW_ERR_SIG_ALG, 202, "signature algorithm not supported")                                  \
    X(AVOW_ERR_ALG_MISMATCH, 203, "signature algorithm does not fit the key")                      \
    X(AVOW_ERR_KEY_UNKNOWN, 204, "signer key cannot be resolved")                                  \
    X(AVOW_ERR_CHAIN, 205, "certificate chain does not reach a trust anchor")                      \
    X(AVOW_ERR_AK_EKU, 206, "signer certificate lacks the attestation-key EKU")                    \
    X(AVOW_ERR_AK_KU, 207, "signer certificate lacks keyUsage digitalSignature")                   \
    X(AVOW_ERR_AK_SPKI, 208, "signer key is not listed in the ak-spki claims")                     \
    X(AVOW_ERR_NONCE_MISSING, 209, "evidence carries no nonce")                                    \
    X(AVOW_ERR_NONCE_MISMATCH, 210, "nonce differs from the expected one")                         \
    X(AVOW_ERR_UNTRUSTED, 211, "evidence is not trusted")                                          \
    X(AVOW_ERR_POP, 212, "request signature (proof of possession) does not verify")                \
    X(AVOW_ERR_KEY_BINDING, 213, "request key is not the attested key")                            \
    X(AVOW_ERR_NONCE_REPLAY, 214, "nonce was already used")                                        \
    X(AVOW_ERR_NONCE_UNKNOWN, 215, "nonce was not issued by this verifier")                        \
    X(AVOW_ERR_NONCE_EXPIRED, 216, "nonce has expired")                                            \
    X(AVOW_ERR_POLICY, 217, "appraisal policy is not satisfied")                                   \
    X(AVOW_ERR_STATEMENT_TYPE, 218, "no verifier for the statement type")                          \
    X(AVOW_ERR_NOT_AFFIRMING, 219, "attestation result is not affirming")                          \
    X(AVOW_ERR_EXPIRED, 220, "token or result has expired")                                        \
    X(AVOW_ERR_CA_EXPIRED, 221, "CA certificate is expired or not yet valid")                      \
    X(AVOW_ERR_CA_VALIDITY, 222, "validity would run past the CA certificate")                     \
    X(AVOW_ERR_BAD_SUBJECT, 223, "subject holds control characters")                               \
    X(AVOW_ERR_AK_CA, 225, "signer certificate is a CA certificate")                               \
    X(AVOW_ERR_UNANSWERED, 228, "a requested claim is missing from the evidence")                  \
    X(AVOW_ERR_UNREQUESTED, 229, "evidence carries a claim or element that was not requested")     \
    X(AVOW_ERR_KID_UNKNOWN, 232, "no key of the key set matches the token's key id")               \
    X(AVOW_ERR_KEY_USE, 233, "the key's use, key_ops or alg does not allow this signature")        \
    X(AVOW_ERR_NOT_EAR, 234, "the wrapper does not carry an attestation result (EAR)")             \
    X(AVOW_ERR_SAN_REFUSED, 237, "requested subjectAltName is not a kind the CA copies")           \
    X(AVOW_ERR_SAN_UNHANDLED, 238, "request asks for subjectAltNames: copy, set or drop them")     \
    X(AVOW_ERR_AUTH, 242, "client authentication failed")                                          \
    X(AVOW_ERR_OAUTH_ATTESTER, 260, "client attestation is not from a trusted attester")           \
    X(AVOW_ERR_OAUTH_CLIENT_ID, 261, "client_id differs from the client attestation's sub")        \
    X(AVOW_ERR_OAUTH_EXPIRED, 262, "client attestation has expired")                               \
    X(AVOW_ERR_OAUTH_STALE, 263, "client attestation is older than this server accepts")           \
    X(AVOW_ERR_OAUTH_POP_SIG, 264, "PoP is not signed by the attestation's cnf key")               \
    X(AVOW_ERR_OAUTH_AUD, 265, "PoP audience is not this server")                                  \
    X(AVOW_ERR_OAUTH_IAT, 266, "PoP iat is outside the accepted window")                           \
    X(AVOW_ERR_OAUTH_CHALLENGE_MISSING, 267, "a challenge is required and the PoP carries none")   \
    X(AVOW_ERR_OAUTH_CHALLENGE, 268, "challenge is unknown, used or expired")                      \
    X(AVOW_ERR_OAUTH_REPLAY, 269, "PoP jti was already used")                                      \
    X(AVOW_ERR_OAUTH_METHOD, 270, "PoP method not accepted by this server")                        \
    X(AVOW_ERR_DPOP_KEY, 271, "DPoP key differs from the attestation's cnf key")                   \
    X(AVOW_ERR_DPOP_HTM, 272, "DPoP htm differs from the request method")                          \
    X(AVOW_ERR_DPOP_HTU, 273, "DPoP htu differs from the request URL")                             \
    X(AVOW_ERR_DPOP_ATH, 274, "DPoP ath missing or not the access token's hash")                   \
    X(AVOW_ERR_OAUTH_KEY_BINDING, 275, "attested key is not the cnf key")                          \
    X(AVOW_ERR_OAUTH_GRANT, 276, "token request malformed or its grant type not supported")        \
    X(AVOW_ERR_OAUTH_CLIENT_UNKNOWN, 277, "client_id is not one this server accepts")              \
    X(AVOW_ERR_MAC_INVALID, 280, "MAC does not verify")                                            \
    X(AVOW_ERR_COSE_ALG, 281, "COSE algorithm is not allowed here")                                \
    X(AVOW_ERR_TPM_NAME, 290, "certified name is not the name of the given TPMT_PUBLIC")           \
    X(AVOW_ERR_TPM_NO_PUBLIC, 291, "TPM statement carries no TPMT_PUBLIC of the certified key")    \
    X(AVOW_ERR_TPM_NAME_ALG, 292, "TPM name or signature hash algorithm is not accepted")          \
    X(AVOW_ERR_CRYPTO, 300, "cryptographic library failure")                                       \
    X(AVOW_ERR_PKCS11, 301, "PKCS#11 module failure")                                              \
    X(AVOW_ERR_PIN, 302, "PKCS#11 login failed")                                                   \
    X(AVOW_ERR_STORE, 303, "store back end failure")                                               \
    X(AVOW_ERR_JOSE, 304, "JOSE library failure")                                                  \
    X(AVOW_ERR_STORE_BUSY, 305, "store is busy or locked; try again")                              \
    X(AVOW_ERR_KAT_UNLINKED, 310, "key attestation is not bound by any platform attestation")      \
    X(AVOW_ERR_KAT_LINK_BROKEN, 311,                                                               \
      "platform token nonce is not the hash of the key it must bind")                              \
    X(AVOW_ERR_KAT_LINK_SWAPPED, 312, "platform token binds the key of another statement")         \
    X(AVOW_ERR_KAT_LINK_WRONG_KEY, 313, "platform token binds the attested key, not its signer")   \
    X(AVOW_ERR_KAT_COSE_KEY, 314, "COSE_Key is malformed or of a kind avow does not read")         \
    X(AVOW_ERR_KAT_BUNDLE, 315, "key attestation bundle (CMW collection) is malformed")            \
    X(AVOW_ERR_NESTED, 316, "a statement nested in another does not verify")                       \
    X(AVOW_ERR_WIMSE_HEADER, 330, "WIMSE token header missing, repeated or not one JWT")           \
    X(AVOW_ERR_WIMSE_TYP, 331, "token typ is not the one its WIMSE role requires")                 \
    X(AVOW_ERR_WIMSE_CLAIM, 332, "WIMSE token claim missing, repeated or of the wrong type")       \
    X(AVOW_ERR_WIMSE_CNF, 333, "WIT cnf is not a public asymmetric JWK with an asymmetric alg")    \
    X(AVOW_ERR_WIMSE_IDENTIFIER, 334, "not a valid Workload Identifier")                           \
    X(AVOW_ERR_WIMSE_ISSUER, 335, "WIT is not signed by a trusted issuer key")                     \
    X(AVOW_ERR_WIMSE_ISS, 336, "WIT iss is not the expected identity server")                      \
    X(AVOW_ERR_WIMSE_EXPIRED, 337, "WIMSE token has expired")                                      \
    X(AVOW_ERR_WIMSE_LIFETIME, 338, "WIMSE token exp lies too far in the future")                  \
    X(AVOW_ERR_WIMSE_NOT_YET, 339, "WIMSE token nbf or iat lies in the future")                    \
    X(AVOW_ERR_WIMSE_TRUST_DOMAIN, 340, "workload identifier is not in the accepted trust domain") \
    X(AVOW_ERR_WIMSE_WPT_ALG, 341, "WPT alg differs from the WIT's cnf.jwk.alg")                   \
    X(AVOW_ERR_WIMSE_WPT_SIG, 342, "WPT is not signed by the WIT's cnf key")                       \
    X(AVOW_ERR_WIMSE_AUD, 343, "WPT aud is not this workload")                                     \
    X(AVOW_ERR_WIMSE_WTH, 344, "WPT wth is not the hash of the WIT")                               \
    X(AVOW_ERR_WIMSE_ATH, 345, "WPT ath missing or not the access token's hash")                   \
    X(AVOW_ERR_WIMSE_TTH, 346, "WPT tth missing or not the Txn-Token's hash")                      \
    X(AVOW_ERR_WIMSE_OTH, 347, "WPT oth missing, not understood or not the hash of its token")     \
    X(AVOW_ERR_WIMSE_REPLAY, 348, "WPT jti was already used")                                      \
    X(AVOW_ERR_WIMSE_IDMAP, 349, "identifier policy document is invalid")                          \
    X(AVOW_ERR_WIMSE_NO_IDENTIFIER, 350, "no identifier policy rule yields an identifier")         \
    X(AVOW_ERR_WIMSE_KEY_BINDING, 351, "attested key is not the workload (cnf) key")               \
    X(AVOW_ERR_WIMSE_WIC_SAN, 352, "WIC does not carry exactly one URI subjectAltName")            \
    X(AVOW_ERR_WIMSE_WIC, 353, "WIC is not an end-entity certificate for signatures")              \
    X(AVOW_ERR_WIMSE_IDMAP_CLAIM, 354, "identifier policy names a claim no vocabulary has")        \
    X(AVOW_ERR_TPM_KEY_KIND, 380,                                                                  \
      "TPM key file holds no signing key avow loads (type, nameAlg, parameters or attributes)")    \
    X(AVOW_ERR_TPM_KEY_BLOB, 381, "TPM2B_PRIVATE is not a key blob wrapped under avow's primary")  \
    X(AVOW_ERR_INTERNAL, 900, "internal error")

typedef enum avow_err {
#define AVOW_ERR_ENUM_(name, num, msg) name = num,
    AVOW_ERRORS(AVOW_ERR_ENUM_)
#undef AVOW_ERR_ENUM_
} avow_err;

/* Static message for err; "unknown error" for a value not in the enum. */
AVOW_EXPORT const char *avow_strerror(avow_err err);

/* Symbolic name ("AVOW_ERR_TRUNCATED"), or NULL for a value not in the enum. */
AVOW_EXPORT const char *avow_errname(avow_err err);

/* Which library a back-end code in avow_diag.backend comes from. */
typedef enum avow_backend {
    AVOW_BACKEND_NONE = 0,
    AVOW_BACKEND_OPENSSL = 1, /* ERR_get_error() */
    AVOW_BACKEND_PKCS11 = 2,  /* CK_RV */
    AVOW_BACKEND_SQLITE = 3,  /* extended result code */
    AVOW_BACKEND_TPM = 4,     /* TSS2_RC */
    AVOW_BACKEND_REDIS = 5,   /* hiredis error type */
    AVOW_BACKEND_OS = 6       /* errno */
} avow_backend;

/* "openssl", "pkcs11", "sqlite", "tpm", "redis", "os"; NULL for NONE and unknown values. */
AVOW_EXPORT const char *avow_backend_name(avow_backend b);

/*
 * Detail of one failed call, filled by functions that take an avow_diag *
 * (which may be NULL). `field` names the part of the input at fault, for
 * example "tbs.reportedElements[1].claims[0].value"; `backend` keeps the
 * raw code of the library `source` names when one caused it.
 */
typedef struct avow_diag {
    avow_err code;
    avow_backend source;
    uint64_t backend;
    char field[96];
    char detail[256];
} avow_diag;

/* Clears d (no-op for NULL). */
AVOW_EXPORT void avow_diag_clear(avow_diag *d);

#ifdef __cplusplus
}
#endif
#endif
