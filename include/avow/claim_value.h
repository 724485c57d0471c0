/*
 * avow/claim_value.h - the value of a normalised claim, whatever format it
 * came from. A statement type maps its own encodings (ASN.1 types, CBOR
 * major types, TPM attribute bits) onto these few kinds, so appraisal and
 * results compare values without knowing the format.
 */
#ifndef AVOW_CLAIM_VALUE_H
#define AVOW_CLAIM_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum avow_cv_type {
    AVOW_CV_BYTES = 0, /* a byte string (identifiers, hashes, keys) */
    AVOW_CV_TEXT,      /* UTF-8 text, not NUL-terminated */
    AVOW_CV_BOOL,      /* integer 0 or 1 */
    AVOW_CV_INT,       /* signed 64-bit integer */
    AVOW_CV_TIME,      /* seconds since the epoch, UTC */
    AVOW_CV_NAMES,     /* a list of names: key purposes ("sign", "decrypt") or dotted OIDs */
    AVOW_CV_OPAQUE     /* a value the format could not map: its own encoding, as bytes */
} avow_cv_type;

/*
 * One value. Which fields are meaningful follows `type`; every pointer is
 * borrowed from the claim set (or the statement) the value belongs to.
 */
typedef struct avow_claim_value {
    avow_cv_type type;
    int present;     /* 0: the claim carries no value (attestation requests) */
    avow_view bytes; /* BYTES, TEXT, OPAQUE */
    int64_t integer; /* INT; BOOL as 0 or 1 */
    int64_t time;    /* TIME */
    size_t nnames;   /* NAMES */
    const char *const *names;
} avow_claim_value;

/* "bytes", "text", "bool", "int", "time", "names", "opaque"; NULL for other values. */
AVOW_EXPORT const char *avow_cv_type_name(avow_cv_type t);

#ifdef __cplusplus
}
#endif
#endif
