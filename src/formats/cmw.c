/*
 * CMW (RFC 9999) records in JSON and CBOR and the CBOR tag form. The CBOR
 * is checked byte by byte first (cbor_strict.c), then decoded and encoded
 * with libcbor; an encoder of our own writes exactly what the reader takes,
 * which a check of the output confirms.
 */
#include <stdio.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/cmw.h>

#include "core/internal.h"
#include "core/json.h"
#include "formats/cbor_strict.h"
#include "formats/jose_int.h"

/* The public depth limit is the strict walk's own. */
_Static_assert(AVOW_CBOR_MAX_DEPTH == AVOW__CBOR_MAX_DEPTH, "CBOR depth limits differ");

const char *avow_cmw_form_name(avow_cmw_form form)
{
    switch (form) {
    case AVOW_CMW_FORM_JSON:
        return "json";
    case AVOW_CMW_FORM_CBOR:
        return "cbor";
    case AVOW_CMW_FORM_CBOR_TAG:
        return "cbor-tag";
    default:
        return NULL;
    }
}

void avow_cmw_free(avow_cmw *cmw)
{
    if (cmw == NULL)
        return;
    OPENSSL_free(cmw->type);
    avow_buf_free(&cmw->value);
    OPENSSL_free(cmw);
}

/* The record's type: a media type the parser accepts, kept as written. */
static avow_err set_type(avow_cmw *c, const char *t, size_t n, avow_diag *d)
{
    avow_media_type *mt = NULL;
    avow_err rc = avow_media_type_parse(t, n, &mt, d);
    avow_media_type_free(mt);
    if (rc != AVOW_OK) {
        if (d != NULL)
            avow__strlcpy(d->field, "cmw[0]", sizeof(d->field));
        return rc;
    }
    if ((c->type = OPENSSL_malloc(n + 1)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "cmw[0]", "out of memory");
    memcpy(c->type, t, n);
    c->type[n] = '\0';
    return AVOW_OK;
}

static avow_err set_indicator(avow_cmw *c, uint64_t v, avow_diag *d)
{
    if (v == 0 || v > UINT32_MAX)
        return avow__fail(d, AVOW_ERR_CMW, "cmw[2]",
                          "indicator %llu: it must be 1 to 2^32-1 when present",
                          (unsigned long long)v);
    c->indicator = (uint32_t)v;
    return AVOW_OK;
}

/* --- JSON --- */

static avow_err decode_json(const uint8_t *p, size_t len, avow_cmw *c, avow_diag *d)
{
    json_t *root = NULL;
    avow_err rc = avow__json_load((const char *)p, len, AVOW_CMW_MAX_SIZE, "CMW", "cmw", &root, d);
    if (rc != AVOW_OK)
        return rc;
    c->form = AVOW_CMW_FORM_JSON;
    size_t n = json_array_size(root);
    json_t *type = json_array_get(root, 0), *val = json_array_get(root, 1);
    if (json_is_object(root)) {
        rc = avow__fail(d, AVOW_ERR_UNSUPPORTED, "cmw", "CMW collections are not supported");
    } else if (!json_is_array(root) || n < 2 || n > 3) {
        rc = avow__fail(d, AVOW_ERR_CMW, "cmw",
                        "a JSON CMW record is an array [type, value] or [type, value, ind]");
    } else if (!json_is_string(type)) {
        rc = avow__fail(d, AVOW_ERR_CMW, "cmw[0]", "the type must be a media type string");
    } else if (!json_is_string(val) || json_string_length(val) == 0) {
        rc = avow__fail(d, AVOW_ERR_CMW, "cmw[1]", "the value must be non-empty base64url text");
    } else if ((rc = set_type(c, json_string_value(type), json_string_length(type), d)) ==
               AVOW_OK) {
        rc = avow__b64url_decode(json_string_value(val), json_string_length(val), &c->value);
        if (rc == AVOW_ERR_NOMEM)
            rc = avow__fail(d, rc, "cmw[1]", "out of memory");
        else if (rc != AVOW_OK || c->value.len == 0)
            rc = avow__fail(d, AVOW_ERR_CMW, "cmw[1]",
                            "the value is not canonical unpadded base64url");
        json_t *ind = json_array_get(root, 2);
        if (rc == AVOW_OK && n == 3) {
            if (!json_is_integer(ind) || json_integer_value(ind) < 0)
                rc = avow__fail(d, AVOW_ERR_CMW, "cmw[2]",
                                "the indicator must be an unsigned integer");
            else
                rc = set_indicator(c, (uint64_t)json_integer_value(ind), d);
        }
    }
    json_decref(root);
    return rc;
}

/* --- CBOR --- */

static avow_err decode_record(const cbor_item_t *it, avow_cmw *c, avow_diag *d)
{
    size_t n = cbor_array_size(it);
    cbor_item_t **a = cbor_array_handle(it);
    if (n < 2 || n > 3)
        return avow__fail(d, AVOW_ERR_CMW, "cmw", "a CBOR CMW record has 2 or 3 elements, not %zu",
                          n);
    c->form = AVOW_CMW_FORM_CBOR;
    avow_err rc;
    if (cbor_isa_string(a[0])) {
        rc = set_type(c, (const char *)cbor_string_handle(a[0]), cbor_string_length(a[0]), d);
        if (rc != AVOW_OK)
            return rc;
    } else if (cbor_isa_uint(a[0])) {
        uint64_t cf = cbor_get_int(a[0]);
        if (cf > UINT16_MAX)
            return avow__fail(d, AVOW_ERR_CMW, "cmw[0]", "content-format %llu does not fit 16 bits",
                              (unsigned long long)cf);
        c->has_content_format = 1;
        c->content_format = (uint16_t)cf;
    } else {
        return avow__fail(d, AVOW_ERR_CMW, "cmw[0]",
                          "the type must be a text media type or a content-format uint");
    }
    if (!cbor_isa_bytestring(a[1]) || cbor_bytestring_length(a[1]) == 0)
        return avow__fail(d, AVOW_ERR_CMW, "cmw[1]", "the value must be a non-empty byte string");
    size_t vl = cbor_bytestring_length(a[1]);
    if ((c->value.ptr = avow__memdup(cbor_bytestring_handle(a[1]), vl)) == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "cmw[1]", "out of memory");
    c->value.len = vl;
    if (n == 3) {
        if (!cbor_isa_uint(a[2]))
            return avow__fail(d, AVOW_ERR_CMW, "cmw[2]", "the indicator must be a uint");
        return set_indicator(c, cbor_get_int(a[2]), d);
    }
    return AVOW_OK;
}

static avow_err decode_tag(const cbor_item_t *it, avow_cmw *c, avow_diag *d)
{
    uint64_t tn = cbor_tag_value(it);
    c->form = AVOW_CMW_FORM_CBOR_TAG;
    uint64_t off = tn - AVOW_CMW_TN_MIN;
    if (tn < AVOW_CMW_TN_MIN || tn > AVOW_CMW_TN_MAX || off % 256 == 255)
        return avow__fail(d, AVOW_ERR_CMW, "cmw.tag",
                          "tag %llu is not the tag of a content-format (RFC 9277)",
                          (unsigned long long)tn);
    c->has_content_format = 1;
    c->content_format = (uint16_t)(off - off / 256);
    cbor_item_t *v = cbor_tag_item(it);
    avow_err rc = AVOW_OK;
    if (!cbor_isa_bytestring(v) || cbor_bytestring_length(v) == 0)
        rc = avow__fail(d, AVOW_ERR_CMW, "cmw.value",
                        "the tagged value must be a non-empty byte string");
    else if ((c->value.ptr = avow__memdup(cbor_bytestring_handle(v), cbor_bytestring_length(v))) ==
             NULL)
        rc = avow__fail(d, AVOW_ERR_NOMEM, "cmw.value", "out of memory");
    else
        c->value.len = cbor_bytestring_length(v);
    cbor_decref(&v);
    return rc;
}

static avow_err decode_cbor(const uint8_t *p, size_t len, avow_cmw *c, avow_diag *d)
{
    avow_err rc = avow__cbor_check(p, len, 0, "cmw", d);
    if (rc != AVOW_OK)
        return rc;
    struct cbor_load_result res;
    cbor_item_t *it = cbor_load(p, len, &res);
    if (it == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
        if (it != NULL)
            cbor_decref(&it);
        return avow__fail(d, res.error.code == CBOR_ERR_MEMERROR ? AVOW_ERR_NOMEM : AVOW_ERR_CBOR,
                          "cmw", "libcbor cannot decode the item (error %d at offset %zu)",
                          (int)res.error.code, res.error.position);
    }
    if (cbor_isa_array(it))
        rc = decode_record(it, c, d);
    else if (cbor_isa_tag(it))
        rc = decode_tag(it, c, d);
    else if (cbor_isa_map(it))
        rc = avow__fail(d, AVOW_ERR_UNSUPPORTED, "cmw", "CMW collections are not supported");
    else
        rc = avow__fail(d, AVOW_ERR_CMW, "cmw",
                        "a CBOR CMW is a record (array) or a tag, not major type %d",
                        (int)cbor_typeof(it));
    cbor_decref(&it);
    return rc;
}

static int looks_json(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && (p[i] == '[' || p[i] == '{');
}

avow_err avow_cmw_decode(const uint8_t *p, size_t len, avow_cmw_form form, avow_cmw **out,
                         avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || p == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cmw", "no input or output");
    if (len > AVOW_CMW_MAX_SIZE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "cmw", "CMW of %zu bytes, limit %u", len,
                          AVOW_CMW_MAX_SIZE);
    if (form == AVOW_CMW_FORM_AUTO)
        form = looks_json(p, len) ? AVOW_CMW_FORM_JSON : AVOW_CMW_FORM_CBOR;
    avow_cmw *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmw", "out of memory");
    avow_err rc;
    if (form == AVOW_CMW_FORM_JSON)
        rc = decode_json(p, len, c, diag);
    else if (form == AVOW_CMW_FORM_CBOR || form == AVOW_CMW_FORM_CBOR_TAG)
        rc = decode_cbor(p, len, c, diag);
    else
        rc = avow__fail(diag, AVOW_ERR_ARG, "cmw", "unknown CMW form %d", (int)form);
    if (rc == AVOW_OK && form == AVOW_CMW_FORM_CBOR_TAG && c->form != AVOW_CMW_FORM_CBOR_TAG)
        rc = avow__fail(diag, AVOW_ERR_CMW, "cmw", "a CBOR record where the tag form was asked");
    if (rc != AVOW_OK) {
        avow_cmw_free(c);
        return rc;
    }
    *out = c;
    return AVOW_OK;
}

/* --- encoding --- */

static cbor_item_t *build_uint(uint64_t v)
{
    if (v <= UINT8_MAX)
        return cbor_build_uint8((uint8_t)v);
    if (v <= UINT16_MAX)
        return cbor_build_uint16((uint16_t)v);
    if (v <= UINT32_MAX)
        return cbor_build_uint32((uint32_t)v);
    return cbor_build_uint64(v);
}

/* Pushes it (taking the caller's reference); 0 when it is NULL or the push fails. */
static int push(cbor_item_t *arr, cbor_item_t *it)
{
    if (it == NULL)
        return 0;
    int ok = cbor_array_push(arr, it);
    cbor_decref(&it);
    return ok;
}

static avow_err encode_cbor(const char *type, const uint8_t *value, size_t len, uint32_t ind,
                            avow_buf *out, avow_diag *d)
{
    cbor_item_t *arr = cbor_new_definite_array(ind != 0 ? 3 : 2);
    int ok = arr != NULL && push(arr, cbor_build_stringn(type, strlen(type))) &&
             push(arr, cbor_build_bytestring(value, len)) &&
             (ind == 0 || push(arr, build_uint(ind)));
    unsigned char *buf = NULL;
    size_t cap = 0, n = ok ? cbor_serialize_alloc(arr, &buf, &cap) : 0;
    if (arr != NULL)
        cbor_decref(&arr);
    if (n == 0) {
        free(buf);
        return avow__fail(d, AVOW_ERR_NOMEM, "cmw", "cannot encode the CBOR record");
    }
    out->ptr = avow__memdup(buf, n);
    free(buf);
    if (out->ptr == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, "cmw", "out of memory");
    out->len = n;
    /* What avow writes, avow reads: the same strict check on the way out. */
    avow_err rc = avow__cbor_check(out->ptr, out->len, 0, "cmw", d);
    if (rc != AVOW_OK) {
        avow_buf_free(out);
        return avow__fail(d, AVOW_ERR_INTERNAL, "cmw", "encoder wrote CBOR the reader refuses");
    }
    return AVOW_OK;
}

static avow_err encode_json(const char *type, const uint8_t *value, size_t len, uint32_t ind,
                            avow_buf *out, avow_diag *d)
{
    char *b64 = avow__b64url_encode(value, len);
    json_t *rec = b64 == NULL ? NULL
                  : ind != 0  ? json_pack("[ssI]", type, b64, (json_int_t)ind)
                              : json_pack("[ss]", type, b64);
    OPENSSL_free(b64);
    avow_err rc = rec != NULL ? avow__json_dump(rec, JSON_COMPACT, 0, out) : AVOW_ERR_NOMEM;
    json_decref(rec);
    return rc == AVOW_OK ? AVOW_OK : avow__fail(d, rc, "cmw", "cannot encode the JSON record");
}

avow_err avow_cmw_encode(avow_cmw_form form, const char *type, const uint8_t *value, size_t len,
                         uint32_t ind, avow_buf *out, avow_diag *diag)
{
    if (out != NULL) {
        out->ptr = NULL;
        out->len = 0;
    }
    if (out == NULL || type == NULL || value == NULL || len == 0)
        return avow__fail(diag, AVOW_ERR_ARG, "cmw", "no type, value or output");
    /* base64url grows by 4/3: keep the JSON form inside the reader's limit too */
    if (len > AVOW_CMW_MAX_SIZE / 4 * 3 - AVOW_MEDIA_TYPE_MAX_LEN - 32)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "cmw[1]", "value of %zu bytes is too large",
                          len);
    avow_media_type *mt = NULL;
    avow_err rc = avow_media_type_parse(type, strlen(type), &mt, diag);
    avow_media_type_free(mt);
    if (rc != AVOW_OK) {
        if (diag != NULL)
            avow__strlcpy(diag->field, "cmw[0]", sizeof(diag->field));
        return rc;
    }
    if (form == AVOW_CMW_FORM_JSON)
        return encode_json(type, value, len, ind, out, diag);
    if (form == AVOW_CMW_FORM_CBOR)
        return encode_cbor(type, value, len, ind, out, diag);
    return avow__fail(diag, AVOW_ERR_ARG, "cmw", "avow writes the JSON and CBOR record forms");
}
