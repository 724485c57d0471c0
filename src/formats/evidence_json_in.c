/*
 * avow_evidence_add_claims_json: claims from JSON (docs/claims-json.md).
 * Two shapes are read: a hand-written one keyed by element ("transaction",
 * "platform", "keys") and the "elements" array avow_evidence_to_json prints.
 * Values become avow_value and go through avow_evidence_add_claim, so the
 * builder alone decides what is a valid claim; this file only maps JSON and
 * names the JSON path when something is refused.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/evidence.h>

#include "core/der.h"
#include "core/internal.h"
#include "core/json.h"
#include "formats/show_util.h"

#define CLAIMS_JSON_MAX (1024u * 1024u)
#define PATH_CAP        96

/* How a plain JSON string reads for an OCTET STRING claim: text in the
 * hand-written form (hwmodel "HSM-9000"), hex in the printed "elements" form. */
typedef enum str_bytes { STR_IS_UTF8, STR_IS_HEX } str_bytes;

/* JSON paths for diagnostics; truncation only shortens the message. */
static void path_member(char *out, const char *base, const char *member)
{
    if (snprintf(out, PATH_CAP, "%s.%s", base, member) >= PATH_CAP)
        out[PATH_CAP - 1] = '\0';
}

static void path_index(char *out, const char *base, size_t i)
{
    if (snprintf(out, PATH_CAP, "%s[%lu]", base, (unsigned long)i) >= PATH_CAP)
        out[PATH_CAP - 1] = '\0';
}

static avow_err fail_json(avow_diag *d, const char *path, const char *msg)
{
    return avow__fail(d, AVOW_ERR_JSON, path, "%s", msg);
}

/* Keeps the builder's code and detail but points the field at the JSON path. */
static avow_err at_path(avow_diag *d, avow_err err, const char *path)
{
    if (err != AVOW_OK && d != NULL) {
        if (d->detail[0] == '\0' || d->code != err)
            avow__strlcpy(d->detail, avow_strerror(err), sizeof(d->detail));
        d->code = err;
        avow__strlcpy(d->field, path, sizeof(d->field));
    }
    return err;
}

static avow_err decode_base64(const char *s, const char *path, avow_buf *out, avow_diag *d)
{
    size_t n = strlen(s);
    if (n > CLAIMS_JSON_MAX)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, path, "base64 text too long");
    uint8_t *buf = OPENSSL_malloc(n / 4 * 3 + 3);
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int len = 0, fin = 0;
    avow_err err = AVOW_OK;
    if (buf == NULL || ctx == NULL) {
        err = AVOW_ERR_NOMEM;
    } else {
        EVP_DecodeInit(ctx);
        if (EVP_DecodeUpdate(ctx, buf, &len, (const unsigned char *)s, (int)n) < 0 ||
            EVP_DecodeFinal(ctx, buf + len, &fin) != 1)
            err = avow__fail(d, AVOW_ERR_JSON, path, "bad base64");
    }
    EVP_ENCODE_CTX_free(ctx);
    avow__ossl_clear();
    if (err != AVOW_OK) {
        OPENSSL_free(buf);
        return err;
    }
    out->ptr = buf;
    out->len = (size_t)len + (size_t)fin;
    return AVOW_OK;
}

/* A PEM public key, or a PEM certificate whose SubjectPublicKeyInfo is taken. */
static avow_err decode_pem_spki(const char *s, const char *path, avow_buf *out, avow_diag *d)
{
    const char *cert_begin = "-----BEGIN CERTIFICATE-----";
    int is_cert = strstr(s, cert_begin) != NULL;
    avow_buf der = {0};
    avow_err err = avow_unarmor((const uint8_t *)s, strlen(s),
                                is_cert ? "CERTIFICATE" : "PUBLIC KEY", CLAIMS_JSON_MAX, &der, d);
    if (err != AVOW_OK)
        return at_path(d, err, path);
    if (!is_cert) {
        *out = der;
        return AVOW_OK;
    }
    const unsigned char *p = der.ptr;
    X509 *x = d2i_X509(NULL, &p, (long)der.len);
    unsigned char *spki = NULL;
    int len = x != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki) : -1;
    X509_free(x);
    avow_buf_free(&der);
    if (len <= 0) {
        OPENSSL_free(spki);
        return avow__fail_ossl(d, AVOW_ERR_BAD_CERT, path, "certificate cannot be parsed");
    }
    out->ptr = spki;
    out->len = (size_t)len;
    return AVOW_OK;
}

/* A byte claim: "text", {"hex":..}, {"base64":..}, {"pem":..} or {"text":..}. */
static avow_err parse_bytes(const json_t *v, str_bytes mode, const char *path, avow_buf *out,
                            avow_diag *d)
{
    const char *s = json_string_value(v);
    if (s != NULL && mode == STR_IS_UTF8) {
        size_t n = json_string_length(v);
        out->ptr = avow__memdup((const uint8_t *)s, n);
        out->len = n;
        return n == 0 || out->ptr != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
    }
    if (s != NULL)
        return avow__unhex(s, out) == AVOW_OK ? AVOW_OK : fail_json(d, path, "bad hex");
    if (!json_is_object(v) || json_object_size(v) != 1)
        return avow__fail(
            d, AVOW_ERR_CLAIM_TYPE, path,
            "bytes are a string or one of {\"hex\"|\"base64\"|\"pem\"|\"text\": string}");
    const char *key = json_object_iter_key(json_object_iter((json_t *)v));
    s = json_string_value(json_object_get(v, key));
    if (s == NULL)
        return fail_json(d, path, "the encoding's value must be a string");
    if (strcmp(key, "hex") == 0)
        return avow__unhex(s, out) == AVOW_OK ? AVOW_OK : fail_json(d, path, "bad hex");
    if (strcmp(key, "base64") == 0)
        return decode_base64(s, path, out, d);
    if (strcmp(key, "pem") == 0)
        return decode_pem_spki(s, path, out, d);
    if (strcmp(key, "text") == 0)
        return parse_bytes(json_object_get(v, key), STR_IS_UTF8, path, out, d);
    return avow__fail(d, AVOW_ERR_JSON, path, "unknown byte encoding \"%s\"", key);
}

/* Each purpose carries its OID: a capability's is id-evidence.2.N of the
 * Evidence's profile, a third party's is given dotted. */
static avow_err parse_purposes(const avow_evidence *ev, const json_t *v, const char *path,
                               avow_purpose **items, avow_oid **oids, size_t *n, avow_diag *d)
{
    if (!json_is_array(v))
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, path, "purpose is an array of names or OIDs");
    size_t count = json_array_size(v);
    if (count > AVOW_EVIDENCE_MAX_PURPOSES)
        return avow__fail(d, AVOW_ERR_TOO_LARGE, path, "more than %u purposes",
                          AVOW_EVIDENCE_MAX_PURPOSES);
    *items = OPENSSL_zalloc((count + 1) * sizeof(**items));
    *oids = OPENSSL_zalloc((count + 1) * sizeof(**oids));
    if (*items == NULL || *oids == NULL)
        return AVOW_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        char sub[PATH_CAP];
        path_index(sub, path, i);
        const char *s = json_string_value(json_array_get(v, i));
        if (s == NULL)
            return avow__fail(d, AVOW_ERR_CLAIM_TYPE, sub, "purpose is a string");
        avow_oid *o = &(*oids)[i];
        (*items)[i].cap = avow_capability_by_name(s);
        if ((*items)[i].cap != AVOW_CAP_UNKNOWN) {
            const avow_oid *arc = &avow_evidence_get0_profile(ev)->evidence_arc;
            if (arc->len + 2u > AVOW_OID_MAX)
                return avow__fail(d, AVOW_ERR_OID, sub, "evidence arc too long");
            memcpy(o->der, arc->der, arc->len);
            o->der[arc->len] = 2;
            o->der[arc->len + 1] = (uint8_t)(*items)[i].cap;
            o->len = (uint8_t)(arc->len + 2);
        } else if (avow_oid_from_text(o, s) != AVOW_OK) {
            return avow__fail(d, AVOW_ERR_JSON, sub,
                              "\"%s\" is neither a capability name nor a dotted OID", s);
        }
        (*items)[i].oid.ptr = (*oids)[i].der;
        (*items)[i].oid.len = (*oids)[i].len;
    }
    *n = count;
    return AVOW_OK;
}

/* Maps one JSON value to the claim's declared type and adds it. */
static avow_err add_value(avow_evidence *ev, size_t element, const avow_claim_info *info,
                          const json_t *v, str_bytes mode, const char *path, avow_diag *d)
{
    avow_value val;
    avow_buf bytes = {0};
    avow_purpose *purposes = NULL;
    avow_oid *oids = NULL;
    avow_err err = AVOW_OK;
    memset(&val, 0, sizeof(val));
    val.type = info->type;
    val.present = !json_is_null(v);

    if (!val.present) {
        /* a claim without value: only requests carry these; the builder decides */
    } else if (info->type == AVOW_VALUE_BYTES) {
        err = parse_bytes(v, mode, path, &bytes, d);
        val.bytes.ptr = bytes.ptr;
        val.bytes.len = bytes.len;
    } else if (info->type == AVOW_VALUE_UTF8) {
        if (!json_is_string(v))
            err = avow__fail(d, AVOW_ERR_CLAIM_TYPE, path, "%s is a string", info->name);
        val.bytes.ptr = (const uint8_t *)json_string_value(v);
        val.bytes.len = json_string_length(v);
    } else if (info->type == AVOW_VALUE_BOOL) {
        if (!json_is_boolean(v))
            err = avow__fail(d, AVOW_ERR_CLAIM_TYPE, path, "%s is true or false", info->name);
        val.integer = json_is_true(v);
    } else if (info->type == AVOW_VALUE_INT) {
        if (!json_is_integer(v))
            err = avow__fail(d, AVOW_ERR_CLAIM_TYPE, path, "%s is an integer", info->name);
        val.integer = (int64_t)json_integer_value(v);
    } else if (info->type == AVOW_VALUE_TIME) {
        const char *s = json_string_value(v);
        if (s == NULL)
            err = avow__fail(d, AVOW_ERR_CLAIM_TYPE, path, "%s is an RFC 3339 string", info->name);
        else if (avow__rfc3339_parse(s, AVOW__RFC3339_ANY_OFFSET, &val.time) != AVOW_OK)
            err = avow__fail(d, AVOW_ERR_BAD_TIME, path, "\"%s\" is not an RFC 3339 time", s);
        else if (!avow__gentime_fits(val.time))
            err = avow__fail(d, AVOW_ERR_CLAIM_VALUE, path,
                             "\"%s\" is outside GeneralizedTime (years 0000 to 9999 in UTC)", s);
    } else if (info->type == AVOW_VALUE_OIDS) {
        err = parse_purposes(ev, v, path, &purposes, &oids, &val.npurposes, d);
        val.purposes = purposes;
    } else {
        err = avow__fail(d, AVOW_ERR_UNSUPPORTED, path, "claim type cannot be built from JSON");
    }

    if (err == AVOW_OK)
        err = at_path(d, avow_evidence_add_claim(ev, element, info->id, &val, d), path);
    avow_buf_free(&bytes);
    OPENSSL_free(purposes);
    OPENSSL_free(oids);
    return err;
}

/* A repeatable claim takes an array (one claim per entry) or a single value. */
static avow_err add_named(avow_evidence *ev, size_t element, avow_element_kind kind,
                          const char *name, const json_t *v, str_bytes mode, const char *path,
                          avow_diag *d)
{
    const avow_claim_info *info = avow_claim_info_by_name(name);
    if (info == NULL)
        return avow__fail(d, AVOW_ERR_JSON, path, "unknown claim \"%s\"", name);
    if (info->element != kind)
        return avow__fail(d, AVOW_ERR_CLAIM_PLACE, path, "%s belongs in a %s element, not %s", name,
                          avow_element_name(info->element), avow_element_name(kind));
    if (!info->repeatable || !json_is_array(v))
        return add_value(ev, element, info, v, mode, path, d);
    if (json_array_size(v) == 0)
        return avow__fail(d, AVOW_ERR_EMPTY, path, "%s: empty list", name);
    for (size_t i = 0; i < json_array_size(v); i++) {
        char sub[PATH_CAP];
        path_index(sub, path, i);
        avow_err err = add_value(ev, element, info, json_array_get(v, i), mode, sub, d);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

/* Transaction and platform may appear once, so claims given for them in
 * several places (a file and command-line flags) join the same element. */
static avow_err element_of_kind(avow_evidence *ev, avow_element_kind kind, int reuse, size_t *index)
{
    if (reuse) {
        for (size_t i = 0; i < avow_evidence_element_count(ev); i++) {
            if (avow_evidence_get0_element(ev, i)->kind == kind) {
                *index = i;
                return AVOW_OK;
            }
        }
    }
    return avow_evidence_add_element(ev, kind, index, NULL);
}

/* {"vendor": "Acme", "fipslevel": 3, ...} */
static avow_err add_keyed(avow_evidence *ev, avow_element_kind kind, int reuse, const json_t *obj,
                          const char *path, avow_diag *d)
{
    if (!json_is_object(obj))
        return fail_json(d, path, "expected an object of claim names to values");
    if (json_object_size(obj) == 0)
        return avow__fail(d, AVOW_ERR_EMPTY, path, "an element needs at least one claim");
    size_t index = 0;
    avow_err err = at_path(d, element_of_kind(ev, kind, reuse, &index), path);
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)obj, name, v)
    {
        if (err != AVOW_OK)
            break;
        char sub[PATH_CAP];
        path_member(sub, path, name);
        err = add_named(ev, index, kind, name, v, STR_IS_UTF8, sub, d);
    }
    return err;
}

static int kind_by_name(const char *s, avow_element_kind *kind)
{
    static const avow_element_kind kinds[] = {AVOW_ELEMENT_TRANSACTION, AVOW_ELEMENT_PLATFORM,
                                              AVOW_ELEMENT_KEY};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(avow_element_name(kinds[i]), s) == 0) {
            *kind = kinds[i];
            return 1;
        }
    }
    return 0;
}

/* One claim of the printed form: {"name":..,"oid":..,"type":..,"value":..}.
 * "oid" is informative (the profile decides OIDs); "type" is checked. */
static avow_err add_listed_claim(avow_evidence *ev, size_t index, avow_element_kind kind,
                                 const json_t *c, const char *path, avow_diag *d)
{
    if (!json_is_object(c))
        return fail_json(d, path, "a claim is an object");
    const char *name = json_string_value(json_object_get(c, "name"));
    if (name == NULL)
        return fail_json(d, path, "claim needs a \"name\" string");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)c, key, v)
    {
        if (strcmp(key, "name") != 0 && strcmp(key, "oid") != 0 && strcmp(key, "type") != 0 &&
            strcmp(key, "value") != 0) {
            char sub[PATH_CAP];
            path_member(sub, path, key);
            return fail_json(d, sub, "unknown member of a claim");
        }
    }
    const avow_claim_info *info = avow_claim_info_by_name(name);
    if (info == NULL) {
        char sub[PATH_CAP];
        path_member(sub, path, "name");
        return avow__fail(d, AVOW_ERR_JSON, sub, "unknown claim \"%s\"", name);
    }
    const char *type = json_string_value(json_object_get(c, "type"));
    avow_value_type t;
    if (type != NULL && (!avow__show_type_by_name(type, &t) || t != info->type)) {
        char sub[PATH_CAP];
        path_member(sub, path, "type");
        return avow__fail(d, AVOW_ERR_CLAIM_TYPE, sub, "%s is of type %s, not \"%s\"", name,
                          avow__show_type_name(info->type), type);
    }
    json_t *value = json_object_get(c, "value");
    char sub[PATH_CAP];
    path_member(sub, path, "value");
    if (value == NULL)
        return avow__fail(d, AVOW_ERR_VALUE_MISSING, sub, "claim has no \"value\" (use null)");
    if (info->repeatable && json_is_array(value))
        return fail_json(d, sub, "the printed form has one value per claim");
    return add_named(ev, index, kind, name, value, STR_IS_HEX, sub, d);
}

/* {"type":"platform","oid":..,"claims":[...]}: always a new element, so the
 * printed form reads back element for element. */
static avow_err add_listed_element(avow_evidence *ev, const json_t *el, const char *path,
                                   avow_diag *d)
{
    char sub[PATH_CAP];
    if (!json_is_object(el))
        return fail_json(d, path, "an element is an object");
    const char *type = json_string_value(json_object_get(el, "type"));
    avow_element_kind kind;
    path_member(sub, path, "type");
    if (type == NULL)
        return fail_json(d, sub, "element needs a \"type\" string");
    if (!kind_by_name(type, &kind))
        return avow__fail(d, AVOW_ERR_JSON, sub, "unknown element type \"%s\"", type);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)el, key, v)
    {
        if (strcmp(key, "type") != 0 && strcmp(key, "oid") != 0 && strcmp(key, "claims") != 0) {
            path_member(sub, path, key);
            return fail_json(d, sub, "unknown member of an element");
        }
    }
    const json_t *claims = json_object_get(el, "claims");
    path_member(sub, path, "claims");
    if (!json_is_array(claims))
        return fail_json(d, sub, "element needs a \"claims\" array");
    if (json_array_size(claims) == 0)
        return avow__fail(d, AVOW_ERR_EMPTY, sub, "an element needs at least one claim");
    size_t index = 0;
    avow_err err = at_path(d, avow_evidence_add_element(ev, kind, &index, d), path);
    for (size_t i = 0; err == AVOW_OK && i < json_array_size(claims); i++) {
        char base[PATH_CAP];
        path_member(base, path, "claims");
        path_index(sub, base, i);
        err = add_listed_claim(ev, index, kind, json_array_get(claims, i), sub, d);
    }
    return err;
}

static avow_err add_array(avow_evidence *ev, const json_t *arr, const char *path, int listed,
                          avow_diag *d)
{
    if (!json_is_array(arr))
        return fail_json(d, path, "expected an array");
    avow_err err = AVOW_OK;
    for (size_t i = 0; err == AVOW_OK && i < json_array_size(arr); i++) {
        char sub[PATH_CAP];
        path_index(sub, path, i);
        err = listed ? add_listed_element(ev, json_array_get(arr, i), sub, d)
                     : add_keyed(ev, AVOW_ELEMENT_KEY, 0, json_array_get(arr, i), sub, d);
    }
    return err;
}

static avow_err add_member(avow_evidence *ev, const char *key, const json_t *v, avow_diag *d)
{
    if (strcmp(key, "version") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) != 1)
            return avow__fail(d, AVOW_ERR_VERSION, key, "version must be 1");
        return AVOW_OK;
    }
    if (strcmp(key, "elements") == 0)
        return add_array(ev, v, key, 1, d);
    if (strcmp(key, "keys") == 0)
        return add_array(ev, v, key, 0, d);
    if (strcmp(key, "transaction") == 0)
        return add_keyed(ev, AVOW_ELEMENT_TRANSACTION, 1, v, key, d);
    if (strcmp(key, "platform") == 0)
        return add_keyed(ev, AVOW_ELEMENT_PLATFORM, 1, v, key, d);
    /* What `avow evidence show --json` prints besides the claims: signatures
     * are made anew by whoever signs, so they are read past. */
    if (strcmp(key, "signatures") == 0 || strcmp(key, "intermediates") == 0)
        return AVOW_OK;
    return avow__fail(d, AVOW_ERR_JSON, key, "unknown member \"%s\"", key);
}

/* --- the special values "now" and "auto" --- */

static int is_str(const json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static json_t *now_json(const avow_claims_json_opts *o)
{
    char buf[32];
    time_t t = o->now_given ? (time_t)o->now : time(NULL);
    avow__show_rfc3339(t, buf, sizeof(buf));
    return json_string(buf);
}

/* Lower-case hex of a view as a JSON string, wrapped as {"hex": ...} when wrap is 1. */
static json_t *hex_json(avow_view v, int wrap)
{
    char *h = avow__hex(v.ptr, v.len);
    json_t *s = h != NULL ? json_string(h) : NULL;
    OPENSSL_free(h);
    return wrap && s != NULL ? json_pack("{s:o}", "hex", s) : s;
}

static avow_err need_signers(const avow_claims_json_opts *o, const char *path, avow_diag *d)
{
    if (o->nsigner_spkis == 0)
        return avow__fail(d, AVOW_ERR_ARG, path,
                          "\"auto\" stands for the signers' keys, and none were given");
    return AVOW_OK;
}

/* In the printed form a claim is one object; "auto" ak-spki becomes one claim per key. */
static avow_err resolve_listed(json_t *claims, const avow_claims_json_opts *o, const char *path,
                               avow_diag *d)
{
    for (size_t j = 0; j < json_array_size(claims); j++) {
        json_t *cl = json_array_get(claims, j);
        const char *name = json_string_value(json_object_get(cl, "name"));
        json_t *value = json_object_get(cl, "value");
        if (name != NULL && strcmp(name, "timestamp") == 0 && is_str(value, "now")) {
            if (json_object_set_new(cl, "value", now_json(o)) != 0)
                return AVOW_ERR_NOMEM;
        } else if (name != NULL && strcmp(name, "ak-spki") == 0 && is_str(value, "auto")) {
            avow_err err = need_signers(o, path, d);
            if (err != AVOW_OK)
                return err;
            json_array_remove(claims, j);
            for (size_t k = 0; k < o->nsigner_spkis; k++) {
                /* the printed form holds bytes as plain hex */
                json_t *one = json_pack("{s:s,s:o}", "name", "ak-spki", "value",
                                        hex_json(o->signer_spkis[k], 0));
                if (one == NULL || json_array_insert_new(claims, j + k, one) != 0)
                    return AVOW_ERR_NOMEM;
            }
            j += o->nsigner_spkis - 1;
        }
    }
    return AVOW_OK;
}

/* "timestamp": "now" and "ak-spki": "auto", in both forms the reader takes. */
static avow_err resolve_specials(json_t *root, const avow_claims_json_opts *o, avow_diag *d)
{
    json_t *tx = json_object_get(root, "transaction");
    if (json_is_object(tx) && is_str(json_object_get(tx, "timestamp"), "now") &&
        json_object_set_new(tx, "timestamp", now_json(o)) != 0)
        return AVOW_ERR_NOMEM;
    if (json_is_object(tx) && is_str(json_object_get(tx, "ak-spki"), "auto")) {
        avow_err err = need_signers(o, "transaction.ak-spki", d);
        json_t *arr = err == AVOW_OK ? json_array() : NULL;
        for (size_t i = 0; arr != NULL && i < o->nsigner_spkis; i++)
            if (json_array_append_new(arr, hex_json(o->signer_spkis[i], 1)) != 0)
                err = AVOW_ERR_NOMEM;
        if (err != AVOW_OK) {
            json_decref(arr);
            return err;
        }
        if (arr == NULL || json_object_set_new(tx, "ak-spki", arr) != 0)
            return AVOW_ERR_NOMEM;
    }
    json_t *els = json_object_get(root, "elements");
    for (size_t i = 0; i < json_array_size(els); i++) {
        json_t *el = json_array_get(els, i);
        char path[PATH_CAP];
        snprintf(path, sizeof(path), "elements[%zu]", i);
        if (is_str(json_object_get(el, "type"), "transaction")) {
            avow_err err = resolve_listed(json_object_get(el, "claims"), o, path, d);
            if (err != AVOW_OK)
                return err;
        }
    }
    return AVOW_OK;
}

void avow_claims_json_opts_init(avow_claims_json_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_evidence_add_claims_json(avow_evidence *ev, const char *json, size_t len,
                                       avow_diag *diag)
{
    return avow_evidence_add_claims_json_ex(ev, json, len, NULL, diag);
}

avow_err avow_evidence_add_claims_json_ex(avow_evidence *ev, const char *json, size_t len,
                                          const avow_claims_json_opts *opts, avow_diag *diag)
{
    avow_claims_json_opts none;
    avow_claims_json_opts_init(&none);
    const avow_claims_json_opts *o = opts != NULL ? opts : &none;
    if (ev == NULL || (json == NULL && len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "json", "no evidence or no text");
    if (o->size != sizeof(*o) || (o->nsigner_spkis > 0 && o->signer_spkis == NULL))
        return avow__fail(diag, AVOW_ERR_ARG, "opts", "options not set up with their _init");
    json_t *root = NULL;
    avow_err err = avow__json_load(json, len, CLAIMS_JSON_MAX, "claims JSON", "json", &root, diag);
    if (err != AVOW_OK)
        return err;
    if (!json_is_object(root)) {
        err = fail_json(diag, "json", "the document must be a JSON object");
    } else if ((err = resolve_specials(root, o, diag)) == AVOW_OK) {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
            err = add_member(ev, key, v, diag);
            if (err != AVOW_OK)
                break;
        }
    }
    if (err == AVOW_ERR_NOMEM)
        avow__fail(diag, err, "json", "out of memory");
    json_decref(root);
    return err;
}
