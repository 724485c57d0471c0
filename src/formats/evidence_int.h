/*
 * The inside of avow_evidence. The OpenSSL template object is the single
 * source of truth; `elements`/`sigs` are an index over it whose views point
 * into that object (or into `kept` blobs), rebuilt after every change.
 */
#ifndef AVOW_EVIDENCE_INT_H
#define AVOW_EVIDENCE_INT_H

#include <stdatomic.h>

#include <avow/evidence.h>

#include "formats/evidence_asn1.h"

struct avow_evidence {
    avow_profile profile;
    unsigned flags; /* AVOW_DECODE_* in force */
    AVOW_EVIDENCE_ASN1 *asn1;
    int64_t version;

    avow_element *elements;
    size_t nelements;
    avow_claim *claims; /* every claim, elements[i].claims points into it */
    size_t nclaims;
    avow_signature_block *sigs;
    size_t nsigs;

    avow_buf input; /* decoded: a copy of the input, which the template object's views point into */
    avow_view
        tbs;      /* DER of tbs once fixed: in input (decoded) or an owned blob (first signature) */
    void **owned; /* blobs the template object's views point into (builder); freed last */
    size_t nowned, capowned;
    int frozen;   /* claims may no longer change */
    int building; /* under construction: empty lists and a missing identifier are allowed for now */

    void **kept; /* blobs the index owns (OPENSSL_malloc) */
    size_t nkept, capkept;
    void **kept_purposes; /* AVOW_PURPOSES_ASN1 stacks the index decoded */
    size_t npurp, cappurp;

    /*
     * Embedded certificates stay DER (sigs[i].cert_der, inter_der) and are
     * decoded on first use; a const Evidence may be read by several threads,
     * so a decoded object is published with a compare-and-swap (the loser
     * frees its copy). Part of the index: freed when it is rebuilt.
     */
    avow_view *inter_der;
    size_t ninter;
    _Atomic(X509 *) *sid_x509;            /* nsigs slots */
    _Atomic(STACK_OF(X509) *) inter_x509; /* all intermediates, or NULL */
};

/* Takes p (OPENSSL_malloc) into ev's owned blobs; returns p, or NULL (p freed) on no memory. */
void *avow__evidence_own(avow_evidence *ev, void *p);

/* Rebuilds the index from ev->asn1 and applies every structural rule. */
avow_err avow__evidence_index(avow_evidence *ev, avow_diag *diag);

/*
 * An embedded certificate must be DER (avow__der_check_cert): AVOW_ERR_NOT_DER
 * and the other codes of that check, with field + "." + the part at fault.
 * It is checked on its bytes; nothing is decoded. walked: the bytes lie
 * inside an input avow__der_check accepted whole.
 */
avow_err avow__evidence_cert_der_check(const uint8_t *der, size_t len, int walked,
                                       const char *field, avow_diag *diag);

/*
 * cert as an embedded certificate of ev: checked as above (field), its DER
 * kept in ev's owned blobs, *out a new AVOW_RAW view of it (OPENSSL_free).
 */
avow_err avow__evidence_cert_raw(avow_evidence *ev, X509 *cert, const char *field, AVOW_RAW **out,
                                 avow_diag *diag);

/* Full rules on a built Evidence; leave = 1 ends construction on success. */
avow_err avow__evidence_check(avow_evidence *ev, int leave, avow_diag *diag);

/* Drops the index (keeps ev->asn1). */
void avow__evidence_unindex(avow_evidence *ev);

/* OID helpers against the profile's arc: content = arc || sub-arcs. */
int avow__arc_suffix(const avow_profile *p, const uint8_t *oid, size_t len, uint8_t *suffix,
                     size_t nsuffix);
ASN1_OBJECT *avow__arc_object(const avow_profile *p, const uint8_t *suffix, size_t nsuffix);
/* Points r at the content octets of arc || suffix, in a blob ev owns; 0 on failure. */
int avow__arc_set(avow_evidence *ev, const uint8_t *suffix, size_t nsuffix, AVOW_RAW *r);

/* The claim table as a vocabulary (avow_evidence_vocabulary), for const rows. */
extern const avow_vocabulary avow__pkix_vocabulary;

/* Claim table lookups by (element, number). */
const avow_claim_info *avow__claim_by_arc(uint8_t element, uint8_t number);

/*
 * The combined form (evidence_nested.c): whether a claim is a platform token,
 * and the i-th platform token of ev (the claim value's DER TLV, a CMW as
 * id-pe-cmw reads it) with where it sits; 0 past the last.
 */
int avow__evidence_is_platform_token(const avow_claim *cl);
size_t avow__evidence_platform_token(const avow_evidence *ev, size_t i, avow_view *cmw,
                                     size_t *element, size_t *claim);

#endif
