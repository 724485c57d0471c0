/*
 * The inside of an attestation request and of the answer report, shared by
 * the request codec, the filler (src/attester/fill.c) and the answer check
 * (src/verifier/pkix/answers.c). Only those files include it.
 */
#ifndef AVOW_EVIDENCE_REQUEST_INT_H
#define AVOW_EVIDENCE_REQUEST_INT_H

#include <avow/evidence_request.h>

#include "core/internal.h"

/*
 * A request is a TbsEvidence, so it is held as an Evidence without
 * signatures whose claims may lack values (AVOW_DECODE_ALLOW_VALUELESS):
 * the Evidence decoder and builder apply every structural rule, and this
 * module adds the request's own.
 */
struct avow_evidence_request {
    avow_evidence *ev;
};

/* "request.reportedElements[e]" and, for c >= 0, ".claims[c]" into buf. */
void avow__request_field(char *buf, size_t cap, const char *root, size_t e, long c);

/* The claim's short name or, for a claim outside the table, its dotted OID, into buf. */
void avow__claim_label(const avow_claim *c, char *buf, size_t cap);

/* The first identifier value of a key element (empty view when none has a value). */
avow_view avow__key_identifier(const avow_element *el);

/* An empty report; NULL on no memory. */
avow_answer_report *avow__report_new(void);

/*
 * Appends an entry: every member of *a but key and detail is taken (strings
 * copied); key is the identifier (empty: none) and the detail is formatted.
 * Errors: AVOW_ERR_NOMEM.
 */
avow_err avow__report_add(avow_answer_report *r, const avow_answer *a, avow_view key,
                          const char *fmt, ...) AVOW_PRINTF(4, 5);

void avow__report_set_status(avow_answer_report *r, avow_err status);

#endif
