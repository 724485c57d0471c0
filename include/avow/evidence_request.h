/*
 * avow/evidence_request.h - attestation requests: the verifier hands the
 * attester an empty form naming the claims it wants, the attester fills in
 * what it can and signs (draft-ietf-rats-pkix-key-attestation-07, section 7,
 * which is informative).
 *
 * A request is a TbsEvidence whose claims carry no value, except
 *   - the transaction nonce, which carries the verifier's nonce, and
 *   - a key element's identifier, which may carry the identifier of the key
 *     the request is about (the attester fails when it has no such key).
 * A key element whose identifier has no value asks about "the attester's
 * key": the keys the attester was pointed at (a pkcs11: URI, a claims
 * document). A requested ak-spki asks for one ak-spki claim per signing key.
 *
 * Three parts, each in its own file, and nothing else in avow uses them, so
 * requests can follow the draft (its -08 revision may move them to another
 * document) without touching the Evidence code:
 *   building, DER and PEM, strict decoding  src/formats/evidence_request.c
 *   filling from claim sources              src/attester/fill.c
 *   checking that Evidence answers one      src/verifier/pkix/answers.c
 * with the report that filling and checking give
 * (src/formats/evidence_request_report.c). docs/requests-evidence.md
 * describes the flow, the rules and the command line.
 */
#ifndef AVOW_EVIDENCE_REQUEST_H
#define AVOW_EVIDENCE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/evidence.h>
#include <avow/export.h>
#include <avow/profile.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The PEM label of a request: avow's choice (the draft defines none). */
#define AVOW_EVIDENCE_REQUEST_PEM_LABEL "EVIDENCE REQUEST"
/* Limits: a request is small; elements and claims as in Evidence. */
#define AVOW_EVIDENCE_REQUEST_MAX_SIZE (64u * 1024u)

typedef struct avow_evidence_request avow_evidence_request;

/* --- building --- */

/* An empty request (version 1). profile NULL = compiled-in defaults.
 * Caller frees *out with avow_evidence_request_free. */
AVOW_EXPORT avow_err avow_evidence_request_new(const avow_profile *profile,
                                               avow_evidence_request **out);

/* No-op for NULL. */
AVOW_EXPORT void avow_evidence_request_free(avow_evidence_request *req);

/*
 * The transaction nonce the Evidence must repeat (copied; at least one
 * byte). Errors: AVOW_ERR_ARG (empty), AVOW_ERR_DUP_CLAIM (set twice).
 */
AVOW_EXPORT avow_err avow_evidence_request_set_nonce(avow_evidence_request *req,
                                                     const uint8_t *nonce, size_t len,
                                                     avow_diag *diag);

/*
 * Asks for a transaction or platform claim (timestamp, ak-spki, vendor,
 * fipslevel, ...), in the one element of its kind (made at the first claim).
 * Errors: AVOW_ERR_ARG for the nonce (avow_evidence_request_set_nonce), key
 * claims (avow_evidence_request_want_key) and unknown ids,
 * AVOW_ERR_DUP_CLAIM when already asked.
 */
AVOW_EXPORT avow_err avow_evidence_request_want(avow_evidence_request *req, avow_claim_id id,
                                                avow_diag *diag);

/*
 * Appends a key element. identifier names the key the request is about;
 * NULL asks about the attester's key (at most one such element, else
 * AVOW_ERR_REQUEST_VALUE). Either way the element asks for identifier,
 * which every key element of Evidence carries. *index (may be NULL)
 * receives the element's position, for avow_evidence_request_want_key.
 * Errors: AVOW_ERR_DUP_KEY for an identifier already named.
 */
AVOW_EXPORT avow_err avow_evidence_request_add_key(avow_evidence_request *req,
                                                   const char *identifier, size_t *index,
                                                   avow_diag *diag);

/*
 * Asks for key claim id (spki, extractable, purpose, ...) in the key element
 * at `element`. identifier is always asked: wanting it again is a no-op.
 * Errors: AVOW_ERR_ARG (not a key element, not a key claim),
 * AVOW_ERR_DUP_CLAIM.
 */
AVOW_EXPORT avow_err avow_evidence_request_want_key(avow_evidence_request *req, size_t element,
                                                    avow_claim_id id, avow_diag *diag);

/*
 * Adds the elements and claims of a claims JSON document
 * (docs/claims-json.md) in which `null` asks for a claim: {"transaction":
 * {"nonce": {"hex": "..."}, "timestamp": null}, "platform": {"vendor":
 * null}, "keys": [{"identifier": "tls", "spki": null}]}. A key element
 * without identifier gets one without value. The printed form that
 * avow_evidence_request_to_json writes is read too. Errors: those of
 * avow_evidence_add_claims_json, and the request's own rules
 * (AVOW_ERR_REQUEST_VALUE: a value other than the nonce's and an
 * identifier's, a nonce without value, ...). On failure req may hold part
 * of the document: free it.
 */
AVOW_EXPORT avow_err avow_evidence_request_add_json(avow_evidence_request *req, const char *json,
                                                    size_t len, avow_diag *diag);

/* --- encoding and decoding --- */

/*
 * DER of the request: the TbsEvidence alone. *out is the caller's
 * (avow_buf_free). Errors: AVOW_ERR_EMPTY (nothing asked), and the rules
 * of avow_evidence_request_decode.
 */
AVOW_EXPORT avow_err avow_evidence_request_encode(const avow_evidence_request *req, avow_buf *out,
                                                  avow_diag *diag);

/*
 * Decodes a DER TbsEvidence as a request, strictly: DER only, no trailing
 * bytes, at most AVOW_EVIDENCE_REQUEST_MAX_SIZE bytes, version 1, and the
 * Evidence rules on structure (AVOW_ERR_DUP_ELEMENT, AVOW_ERR_DUP_CLAIM,
 * AVOW_ERR_DUP_KEY, AVOW_ERR_MISSING_CLAIM for a key element without
 * identifier, AVOW_ERR_CLAIM_TYPE / AVOW_ERR_CLAIM_VALUE for the values it
 * may carry, the limits of avow/evidence.h), then the request's own rules:
 *   AVOW_ERR_REQUEST_VALUE    a known claim other than nonce and identifier
 *                             with a value, a nonce without one, two
 *                             identifier values in one key element, two
 *                             key elements without identifier value
 *   AVOW_ERR_REQUEST_UNKNOWN  an element type outside the -07 table, or a
 *                             claim type outside it that carries a value
 *                             (the draft tells the attester to fail both;
 *                             an unknown claim without value is kept, and
 *                             filling leaves it out)
 * diag->field names the part at fault ("request.reportedElements[1].claims[0]").
 * flags must be 0. profile NULL = compiled-in defaults. *out is the
 * caller's (avow_evidence_request_free).
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_evidence_request_decode(const uint8_t *der, size_t len,
                                                                  const avow_profile *profile,
                                                                  unsigned flags,
                                                                  avow_evidence_request **out,
                                                                  avow_diag *diag);

/* --- reading (borrowed from req, valid until it is changed or freed) --- */

AVOW_EXPORT const avow_profile *avow_evidence_request_get0_profile(const avow_evidence_request *r);
AVOW_EXPORT size_t avow_evidence_request_element_count(const avow_evidence_request *req);
/* Element i; its claims have value.present 0 except the nonce and selecting identifiers. */
AVOW_EXPORT const avow_element *avow_evidence_request_get0_element(const avow_evidence_request *r,
                                                                   size_t i);
/* The nonce the request carries; ptr NULL and len 0 when it has none. */
AVOW_EXPORT avow_view avow_evidence_request_get0_nonce(const avow_evidence_request *req);
/* The identifier value of key element i (not NUL-terminated); empty when it names no key. */
AVOW_EXPORT avow_view avow_evidence_request_key_selector(const avow_evidence_request *req,
                                                         size_t i);

/*
 * The request as JSON: {"version": 1, "elements": [...]}, the printed form
 * of avow_evidence_to_json with null for every claim asked without a value;
 * avow_evidence_request_add_json reads it back. *out is NUL-terminated and
 * the caller's.
 */
AVOW_EXPORT avow_err avow_evidence_request_to_json(const avow_evidence_request *req, avow_buf *out);

/* --- the report of filling and of checking an answer --- */

/* What one entry says. */
typedef enum avow_answer_kind {
    AVOW_ANSWER_MISSING = 0, /* requested, not supplied (fill) or not in the Evidence (check) */
    AVOW_ANSWER_IGNORED,     /* requested claim of a type outside the -07 table: left out */
    AVOW_ANSWER_UNREQUESTED, /* check: in the Evidence, not requested */
    AVOW_ANSWER_MISMATCH     /* check: the nonce differs from the request's */
} avow_answer_kind;

/* Why, for programs; the entry's detail says it for people. */
typedef enum avow_answer_reason {
    AVOW_REASON_NO_SOURCE = 0, /* fill: no claim source has a mapping for the claim */
    AVOW_REASON_NOT_SET,       /* fill: a source maps it, but has no value (a key without
                                  CKA_END_DATE, a blank token serial number) */
    AVOW_REASON_NO_SIGNER,     /* fill: ak-spki asked, and no signing key given */
    AVOW_REASON_NO_KEY,        /* fill: key claims of the attester's key, and no key given */
    AVOW_REASON_NO_IDENTIFIER, /* fill: the key has no identifier, so no element can describe it */
    AVOW_REASON_UNKNOWN_TYPE,  /* a claim type outside the -07 table */
    AVOW_REASON_ABSENT,        /* check: not in the Evidence */
    AVOW_REASON_NOT_REQUESTED, /* check: not asked for */
    AVOW_REASON_VALUE_DIFFERS  /* check: the nonce */
} avow_answer_reason;

typedef struct avow_answer {
    avow_answer_kind kind;
    avow_answer_reason reason;
    avow_err code;             /* the error it stands for: AVOW_ERR_UNANSWERED (missing),
                                  AVOW_ERR_UNREQUESTED, AVOW_ERR_NONCE_MISSING,
                                  AVOW_ERR_NONCE_MISMATCH; AVOW_OK when ignored */
    int fails;                 /* 1 when this entry made the call fail under its flags */
    avow_element_kind element; /* the element's kind (AVOW_ELEMENT_UNKNOWN: an element outside
                                  the table) */
    avow_claim_id claim;       /* AVOW_CLAIM_UNKNOWN for a claim outside the table, and for an
                                  entry about a whole element */
    const char *name;          /* the claim's short name or dotted OID; NULL: the whole element */
    const char *key;           /* key elements: the key's identifier; NULL when none is known */
    const char *field;         /* "request.reportedElements[2].claims[1]" or, for what is in
                                  the Evidence, "tbs.reportedElements[0].claims[3]" */
    const char *detail;        /* for people: "the key has no CKA_END_DATE" */
} avow_answer;

typedef struct avow_answer_report avow_answer_report;

/* The status the call that made the report returned. */
AVOW_EXPORT avow_err avow_answer_report_status(const avow_answer_report *r);
AVOW_EXPORT size_t avow_answer_report_count(const avow_answer_report *r);
/* Entry i, borrowed from r; NULL past the end. */
AVOW_EXPORT const avow_answer *avow_answer_report_get0(const avow_answer_report *r, size_t i);
/* No-op for NULL. */
AVOW_EXPORT void avow_answer_report_free(avow_answer_report *r);

/*
 * {"status": "AVOW_OK", "missing": N, "ignored": N, "unrequested": N,
 *  "answers": [{"status": "missing", "reason": "not-set", "code":
 *  "AVOW_ERR_UNANSWERED", "fails": false, "element": "key", "key": "tls",
 *  "claim": "expiry", "field": "...", "detail": "..."}]}. NUL-terminated,
 * the caller's (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_answer_report_to_json(const avow_answer_report *r, avow_buf *out);

/*
 * One line per entry for people: `missing: key "tls" expiry
 * (request.reportedElements[2].claims[4]): the key has no CKA_END_DATE`.
 * Names, identifiers and details are escaped (avow_escape_text). Empty text
 * for an empty report. NUL-terminated, the caller's (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_answer_report_to_text(const avow_answer_report *r, avow_buf *out);

/* --- filling (the attester) --- */

struct avow_p11_session;

/*
 * Where the attester finds claim values: an ordered list of sources, each a
 * set of elements and claims with values (an unsigned Evidence under
 * construction). When filling, the first source that has a claim supplies
 * it; key elements of several sources that share an identifier describe one
 * key, so a claims document can add to what a token says about a key.
 */
typedef struct avow_claim_source avow_claim_source;

/* profile NULL = compiled-in defaults; give the request's. Caller frees *out. */
AVOW_EXPORT avow_err avow_claim_source_new(const avow_profile *profile, avow_claim_source **out);
/* No-op for NULL. */
AVOW_EXPORT void avow_claim_source_free(avow_claim_source *s);

/* At most this many sources in one avow_claim_source. */
#define AVOW_CLAIM_SOURCE_MAX 16u

/*
 * A claims JSON document (docs/claims-json.md) as one source; opts resolve
 * "now" and "auto" as in avow_evidence_add_claims_json_ex (NULL: the current
 * time and no signer keys). name (copied) says where the claims came from in
 * the report ("claims.json"). Errors: those of
 * avow_evidence_add_claims_json_ex, AVOW_ERR_TOO_LARGE past
 * AVOW_CLAIM_SOURCE_MAX sources.
 */
AVOW_EXPORT avow_err avow_claim_source_add_json(avow_claim_source *s, const char *name,
                                                const char *json, size_t len,
                                                const avow_claims_json_opts *opts, avow_diag *diag);

/*
 * An Evidence the caller built (avow_evidence_new and the add calls; no
 * signature needed) as one source. On success s owns ev; on failure the
 * caller still does.
 */
AVOW_EXPORT avow_err avow_claim_source_add0_evidence(avow_claim_source *s, const char *name,
                                                     avow_evidence *ev, avow_diag *diag);

/* avow_claim_source_add_pkcs11 flags */
enum {
    /* Read the platform claims of the session's token (avow_p11_add_platform_claims). */
    AVOW_SOURCE_P11_PLATFORM = 1u << 0,
    /* Look up keys a request names: a private key whose CKA_LABEL is the
     * identifier, else (for an identifier in hex) whose CKA_ID it is. The
     * session is then borrowed by s and must stay open until s is freed. */
    AVOW_SOURCE_P11_FIND_KEYS = 1u << 1
};

/*
 * A PKCS#11 token as one source: with AVOW_SOURCE_P11_PLATFORM its platform
 * claims, and a key element for each of the nkeys key URIs
 * (avow_p11_add_key_claims_uri), read now; with AVOW_SOURCE_P11_FIND_KEYS
 * also the keys a request names, read when filling. The report says which
 * claims PKCS#11 cannot give (oemid, the FIPS claims, ...) and which this
 * token or key has no value for (docs/pkcs11.md has the mapping). name
 * (copied; NULL: "token") names the source in the report. Errors: those of
 * the avow_p11_* calls (AVOW_ERR_UNSUPPORTED in a build without PKCS#11).
 */
AVOW_EXPORT avow_err avow_claim_source_add_pkcs11(avow_claim_source *s, const char *name,
                                                  struct avow_p11_session *session, unsigned flags,
                                                  const char *const *key_uris, size_t nkeys,
                                                  avow_diag *diag);

/* avow_fill_opts flags */
enum {
    /* Fail (AVOW_ERR_UNANSWERED) unless every requested claim of a known type is supplied. */
    AVOW_FILL_STRICT = 1u << 0
};

typedef struct avow_fill_opts {
    size_t size; /* set by avow_fill_opts_init */
    unsigned flags;
    /* timestamp, when no source has one: `now` when now_given, else the current time */
    int now_given;
    int64_t now;
    /* ak-spki: one claim per signing key (DER SubjectPublicKeyInfo, borrowed) */
    size_t nsigner_spkis;
    const avow_view *signer_spkis;
} avow_fill_opts;

/* Zeroes o and sets its size. No-op for NULL. */
AVOW_EXPORT void avow_fill_opts_init(avow_fill_opts *o);

/*
 * Fills req from src (may be NULL: then only the nonce, the timestamp and
 * ak-spki can be supplied). The Evidence has the request's elements in its
 * order with exactly the requested claims that can be supplied, in the
 * request's order:
 *   nonce      the request's value
 *   timestamp  the first source's, else the clock of opts
 *   ak-spki    one per opts->signer_spkis, else the sources'
 *   others     from the first source that has them; a key element that
 *              names an identifier is the source key with that identifier
 *              (and only that identifier is reported), a key element
 *              without one stands for every source key no other element
 *              names (with all its identifiers)
 * Claims of unknown types are left out (AVOW_ANSWER_IGNORED) and elements
 * left without a claim are dropped. *out is an unsigned Evidence under
 * construction, the caller's: add intermediates, sign (avow_evidence_sign),
 * encode. *report (report may be NULL) lists every requested claim not
 * supplied, with its reason, and is the caller's (avow_answer_report_free).
 * Errors: AVOW_ERR_NOT_FOUND when no source has a key the request names
 * (the draft tells the attester to fail), AVOW_ERR_UNANSWERED with
 * AVOW_FILL_STRICT and a claim not supplied, AVOW_ERR_EMPTY when nothing
 * at all could be supplied, any error of avow_evidence_add_claim (two
 * sources giving one key two public keys, say) or of a token; *out is
 * then NULL, and *report is set for AVOW_ERR_UNANSWERED and AVOW_ERR_EMPTY
 * only.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_evidence_fill(
    const avow_evidence_request *req, avow_claim_source *src, const avow_fill_opts *opts,
    avow_evidence **out, avow_answer_report **report, avow_diag *diag);

/* --- checking an answer (the verifier, a CA, a service; before appraisal) --- */

/* avow_evidence_answers flags; 0 checks the nonce, the keys named and that nothing else is
 * there */
enum {
    /* Every requested claim of a known type must be in the Evidence (else AVOW_ERR_UNANSWERED);
     * by default a missing claim is reported and left to the policy. */
    AVOW_ANSWERS_STRICT = 1u << 0,
    /* Claims and elements that were not requested are reported, not refused
     * (by default AVOW_ERR_UNREQUESTED: the draft asks not to disclose them). */
    AVOW_ANSWERS_ALLOW_UNREQUESTED = 1u << 1
};

/*
 * Whether ev answers req: compares what the Evidence holds with what was
 * asked, element by element (transaction with transaction, platform with
 * platform, a key element of the request that names an identifier with the
 * Evidence's key element carrying it, one that names none with every other
 * key element), and claim type by claim type. Always checked, whatever the
 * flags: the request's nonce is in the Evidence (AVOW_ERR_NONCE_MISSING)
 * with the same value (AVOW_ERR_NONCE_MISMATCH), and every key the request
 * names has its element (AVOW_ERR_UNANSWERED). Then, by flags, a requested
 * claim that is absent (AVOW_ERR_UNANSWERED with AVOW_ANSWERS_STRICT) and a
 * claim or element that was not requested (AVOW_ERR_UNREQUESTED unless
 * AVOW_ANSWERS_ALLOW_UNREQUESTED); an unknown claim type the request asks
 * for is never required. Signatures are not looked at: verify the Evidence
 * (avow_verify_evidence) as well. Returns AVOW_OK or the first failing
 * entry's code, with diag naming its field; *report (report may be NULL)
 * lists every finding either way and is the caller's
 * (avow_answer_report_free). Errors: AVOW_ERR_ARG for NULL arguments or
 * unknown flags.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_evidence_answers(const avow_evidence *ev,
                                                           const avow_evidence_request *req,
                                                           unsigned flags,
                                                           avow_answer_report **report,
                                                           avow_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
