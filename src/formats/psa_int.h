/*
 * The PSA attestation token (RFC 9783) as decoded by psa.c: the COSE
 * envelope and the claims, each checked for type and size. The row in
 * src/verifier/psa/ verifies it and makes its claims; nothing else reads
 * this.
 */
#ifndef AVOW_PSA_INT_H
#define AVOW_PSA_INT_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/cose.h>
#include <avow/err.h>

#include "formats/cbor_strict.h"

/* The profiles avow reads (the claim keys differ between them). */
typedef enum avow__psa_profile {
    AVOW__PSA_TFM = 0,   /* "tag:psacertified.org,2023:psa#tfm" (RFC 9783) */
    AVOW__PSA_2_0_0 = 1, /* "http://arm.com/psa/2.0.0" (boot seed at 2397) */
    AVOW__PSA_LEGACY = 2 /* "PSA_IOT_PROFILE_1" (keys -75000...) */
} avow__psa_profile;

#define AVOW__PSA_MAX_SW      32u   /* software components */
#define AVOW__PSA_MAX_TEXT    1024u /* bytes of one text claim */
#define AVOW__PSA_MAX_UNKNOWN 32u   /* unknown claim keys remembered for display */

typedef struct avow__psa_sw {
    avow_view type, value, version, signer_id, desc; /* ptr NULL: absent */
} avow__psa_sw;

typedef struct avow__psa {
    avow_cose_msg *cose;
    cbor_item_t *claims; /* the payload's map; the views below point into it */
    avow__psa_profile profile;
    avow_view profile_name; /* empty when a legacy token names none */
    avow_view nonce, instance_id, implementation_id, boot_seed, cert_ref, vsi;
    int64_t client_id;
    int64_t lifecycle;
    int no_sw_measurements; /* legacy -75007 */
    size_t nsw;
    avow__psa_sw sw[AVOW__PSA_MAX_SW];
    size_t nunknown;                        /* claims with keys of no known claim */
    int64_t unknown[AVOW__PSA_MAX_UNKNOWN]; /* their integer keys (text keys as 0) */
} avow__psa;

/* Largest PSA token avow reads. */
#define AVOW__PSA_MAX_SIZE (16u * 1024u)

/*
 * Decodes a PSA token: a tagged COSE_Sign1 or COSE_Mac0 (RFC 9783 section 5;
 * arguments in non-preferred form are tolerated, as it asks), or the same
 * inside a DER OCTET STRING (how a statement of a PKIX request carries it).
 * Claims: every claim of the profile checked for CBOR type and size,
 * mandatory ones present, unknown claims kept by key and otherwise
 * ignored (EAT). Errors: the CBOR and COSE ones, AVOW_ERR_CLAIM_TYPE,
 * AVOW_ERR_CLAIM_VALUE, AVOW_ERR_MISSING_CLAIM, AVOW_ERR_EMPTY,
 * AVOW_ERR_PSA_PROFILE; the field names the claim ("psa.nonce",
 * "psa.sw_components[1].measurement_value"). Free with avow__psa_free.
 */
avow_err avow__psa_decode(const uint8_t *in, size_t len, avow__psa **out, avow_diag *d);
void avow__psa_free(avow__psa *t);

/* The profile's name as the token writes it ("PSA_IOT_PROFILE_1" when absent). */
const char *avow__psa_profile_name(avow__psa_profile p);

/* The name of a security lifecycle's state ("secured"), or "invalid". */
const char *avow__psa_lifecycle_name(int64_t lifecycle);

#endif
