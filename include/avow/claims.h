/*
 * avow/claims.h - normalised claims: what every evidence verifier hands to
 * appraisal, whatever the format (PKIX Evidence, TPM, PSA...). Policy and
 * results read these and never the DER, CBOR or JSON they came from.
 */
#ifndef AVOW_CLAIMS_H
#define AVOW_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include <avow/evidence.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The dotted OID naming an unknown element or claim is at most 159 bytes;
 * an OID whose text is longer, or that has an arc of 2^64 or more, is named
 * "(oid too long)" (never a cut text, which could equal another OID's).
 */
typedef struct avow_nclaim {
    const char *element; /* "transaction", "platform", "key", or the dotted OID of an unknown one */
    size_t element_index; /* position of the element in its statement */
    const char *name;     /* claim short name, or the dotted OID of an unknown claim */
    int known;            /* 0 for claims outside the format's table (kept, not appraised) */
    avow_value value;     /* views borrowed from the evidence the set was made from */
    uint32_t signed_by;   /* bit i set: signature i verified and covers this claim */
} avow_nclaim;

typedef struct avow_claimset {
    size_t count;
    avow_nclaim *items;
} avow_claimset;

/* Frees the items array and the names made for unknown OIDs. No-op for NULL. */
AVOW_EXPORT void avow_claimset_clear(avow_claimset *set);

/*
 * First claim `name` in an element of kind `element` (NULL = any element),
 * starting after `after` (NULL = from the start). Borrowed; NULL at the end.
 */
AVOW_EXPORT const avow_nclaim *avow_claimset_find(const avow_claimset *set, const char *element,
                                                  const char *name, const avow_nclaim *after);

#ifdef __cplusplus
}
#endif
#endif
