/*
 * avow/cmw.h - the RATS Conceptual Message Wrapper (CMW, RFC 9999) in its
 * JSON and CBOR record forms and the CBOR tag form, and the media types
 * (RFC 9110 section 8.3.1) that name what a wrapper carries.
 *
 * Reading is strict: bounded sizes, definite CBOR lengths in preferred
 * serialisation only, no repeated map keys or JSON members, each field
 * checked; an error names the field ("cmw[0]", "cmw[2]"). docs/ear.md has
 * the choices where the RFC leaves room.
 */
#ifndef AVOW_CMW_H
#define AVOW_CMW_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- media types --- */

#define AVOW_MEDIA_TYPE_MAX_LEN    1024u /* bytes of media type text */
#define AVOW_MEDIA_TYPE_MAX_PARAMS 16u

typedef struct avow_media_param {
    char *name;  /* lower case (names are case-insensitive) */
    char *value; /* as written, a quoted-string unquoted and unescaped */
} avow_media_param;

/* A parsed media type; read-only for callers. */
typedef struct avow_media_type {
    char *type;    /* lower case */
    char *subtype; /* lower case */
    size_t nparams;
    avow_media_param *params;
} avow_media_type;

/*
 * Parses media type text by RFC 9110: type "/" subtype as tokens, then
 * parameters `OWS ";" OWS name=value`, a value a token or a quoted-string
 * (backslash pairs unescaped); optional whitespace around the whole text;
 * no whitespace around "=". A parameter name given twice (in any case),
 * bytes outside printable ASCII (obs-text included), an empty or overlong
 * text, and more than AVOW_MEDIA_TYPE_MAX_PARAMS parameters are refused
 * with AVOW_ERR_MEDIA_TYPE (AVOW_ERR_TOO_LARGE for the bounds), diag->field
 * naming the part ("media-type.subtype", "media-type.params[1]").
 * *out is the caller's (avow_media_type_free).
 */
AVOW_EXPORT avow_err avow_media_type_parse(const char *text, size_t len, avow_media_type **out,
                                           avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_media_type_free(avow_media_type *mt);

/* Borrowed: the value of parameter name (matched case-insensitively); NULL when absent. */
AVOW_EXPORT const char *avow_media_type_param(const avow_media_type *mt, const char *name);

/* 1 when mt is type/subtype (compared case-insensitively), 0 otherwise. */
AVOW_EXPORT int avow_media_type_is(const avow_media_type *mt, const char *type,
                                   const char *subtype);

/* --- CMW --- */

#define AVOW_CMW_MAX_SIZE   (1024u * 1024u) /* an encoded CMW */
#define AVOW_CBOR_MAX_DEPTH 16u             /* nesting of arrays, maps and tags */

/* The forms of a CMW. */
typedef enum avow_cmw_form {
    AVOW_CMW_FORM_AUTO = 0,     /* decode: JSON when the text opens with '[' or '{', else CBOR */
    AVOW_CMW_FORM_JSON = 1,     /* ["type", "base64url value", ind?] */
    AVOW_CMW_FORM_CBOR = 2,     /* [type (text or content-format uint), value (bstr), ind?] */
    AVOW_CMW_FORM_CBOR_TAG = 3, /* #6.TN(bstr), TN from a CoAP content-format (RFC 9277) */
} avow_cmw_form;

/* Indicator bits (cm-type). */
#define AVOW_CMW_IND_REFERENCE_VALUES    0x01u
#define AVOW_CMW_IND_ENDORSEMENTS        0x02u
#define AVOW_CMW_IND_EVIDENCE            0x04u
#define AVOW_CMW_IND_ATTESTATION_RESULTS 0x08u
#define AVOW_CMW_IND_TRUST_ANCHORS       0x10u

/* The CBOR tag numbers of the tag form: TN(content-format) for C-F 0..65024. */
#define AVOW_CMW_TN_MIN 1668546817ull
#define AVOW_CMW_TN_MAX 1668612095ull

/* A decoded CMW record or tag; read-only for callers, grows only at its end. */
typedef struct avow_cmw {
    avow_cmw_form form;
    char *type;              /* media type text; NULL when a content-format names the type */
    int has_content_format;  /* CBOR record with a uint type, and the tag form */
    uint16_t content_format; /* CoAP Content-Format */
    avow_buf value;          /* the wrapped message (not empty) */
    uint32_t indicator;      /* 0: absent */
} avow_cmw;

/*
 * Decodes a CMW of the given form (AUTO detects it). JSON: a record of 2 or
 * 3 elements, the type a media type avow_media_type_parse accepts, the value
 * strict non-empty base64url, the indicator an integer 1..2^32-1; members or
 * trailing text refused. CBOR: well-formed, definite lengths, preferred
 * serialisation (the shortest heads), depth at most AVOW_CBOR_MAX_DEPTH, no
 * repeated map keys, nothing after the item; a record [type, value, ind?]
 * with type text (a media type) or a content-format uint (0..65535), value a
 * non-empty byte string, ind a uint 1..2^32-1; or the tag form. Collections
 * (a JSON object, a CBOR map) are refused with AVOW_ERR_UNSUPPORTED.
 * Errors: AVOW_ERR_CMW (shape, diag->field "cmw[1]"), AVOW_ERR_CBOR,
 * AVOW_ERR_JSON, AVOW_ERR_MEDIA_TYPE, AVOW_ERR_TRAILING, AVOW_ERR_TOO_LARGE
 * (over AVOW_CMW_MAX_SIZE), AVOW_ERR_UNSUPPORTED. *out is the caller's
 * (avow_cmw_free).
 */
AVOW_EXPORT avow_err avow_cmw_decode(const uint8_t *p, size_t len, avow_cmw_form form,
                                     avow_cmw **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_cmw_free(avow_cmw *cmw);

/*
 * Encodes a CMW record of value under media type `type` (checked with
 * avow_media_type_parse), with the indicator when ind is not 0:
 * AVOW_CMW_FORM_JSON gives compact JSON text, AVOW_CMW_FORM_CBOR the CBOR
 * array in preferred serialisation. (The tag form needs a content-format,
 * which avow has for no media type it writes.) *out is the caller's
 * (avow_buf_free); JSON text is NUL-terminated (len excludes the NUL).
 * Errors: AVOW_ERR_ARG (empty value, other forms), AVOW_ERR_MEDIA_TYPE,
 * AVOW_ERR_TOO_LARGE, AVOW_ERR_NOMEM.
 */
AVOW_EXPORT avow_err avow_cmw_encode(avow_cmw_form form, const char *type, const uint8_t *value,
                                     size_t len, uint32_t ind, avow_buf *out, avow_diag *diag);

/* "json", "cbor", "cbor-tag"; NULL for another value. */
AVOW_EXPORT const char *avow_cmw_form_name(avow_cmw_form form);

#ifdef __cplusplus
}
#endif
#endif
