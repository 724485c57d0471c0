/*
 * avow/profile.h - the object identifiers that drafts leave unassigned.
 *
 * draft-ietf-rats-pkix-key-attestation leaves its OID arc (TBDMOD3) and the
 * attestation-key EKU (TBDMOD2) to IANA. avow compiles in the placeholders of
 * the draft's reference implementation and lets a user replace them at run
 * time. A profile is a plain value: no allocation, copy it freely.
 */
#ifndef AVOW_PROFILE_H
#define AVOW_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time defaults; override with -DAVOW_DEFAULT_EVIDENCE_ARC=... */
#ifndef AVOW_DEFAULT_EVIDENCE_ARC
#define AVOW_DEFAULT_EVIDENCE_ARC "1.3.6.1.5.5.999"
#endif
#ifndef AVOW_DEFAULT_AK_EKU
#define AVOW_DEFAULT_AK_EKU "1.3.6.1.5.5.7.3.999"
#endif

/* Environment variables that the CLI (not the library) reads for overrides. */
#define AVOW_ENV_EVIDENCE_ARC "AVOW_EVIDENCE_ARC"
#define AVOW_ENV_AK_EKU       "AVOW_AK_EKU"

#define AVOW_OID_MAX          40 /* bytes of OID content (after tag and length) */

typedef struct avow_oid {
    uint8_t len;
    uint8_t der[AVOW_OID_MAX]; /* content octets, without tag and length */
} avow_oid;

typedef struct avow_profile {
    avow_oid evidence_arc; /* id-evidence */
    avow_oid ak_eku;       /* id-kp-attestationKey */
} avow_profile;

/* Fills p with the compiled-in defaults. */
AVOW_EXPORT void avow_profile_default(avow_profile *p);

/*
 * Sets the arc and/or EKU from dotted text (NULL keeps the current value).
 * The arc must leave room for the draft's sub-arcs (at most 34 content bytes).
 * Errors: AVOW_ERR_OID for text that is not a valid OID.
 */
AVOW_EXPORT avow_err avow_profile_set(avow_profile *p, const char *evidence_arc, const char *ak_eku,
                                      avow_diag *diag);

/* Parses dotted text into o. Errors: AVOW_ERR_OID. */
AVOW_EXPORT avow_err avow_oid_from_text(avow_oid *o, const char *text);

/*
 * Dotted text of the OID content octets der[0..len), like snprintf: returns
 * the length of the whole text (without the NUL) and writes as much of it as
 * fits into buf, NUL-terminated when cap > 0; the text was cut when the
 * return is >= cap. buf may be NULL when cap is 0, to ask for the length.
 * The same content always gives the same text, whatever cap is, so a size
 * asked for first is the size written afterwards. Content that is no OID
 * (empty, an unterminated last sub-identifier) gives "(bad oid)", and an arc
 * of 2^64 or more gives "(oid too long)": the placeholder alone, never arcs
 * followed by a placeholder.
 */
AVOW_EXPORT size_t avow_oid_to_text(const uint8_t *der, size_t len, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
