/*
 * PKCS#11 modules, token selection by RFC 7512 URI, sessions, login, PINs,
 * and the attribute/find helpers the other pkcs11_*.c files share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <p11-kit/p11-kit.h>

#include "backend/pkcs11/pkcs11_int.h"

avow_err avow__p11_fail(avow_diag *d, avow_err code, CK_RV rv, const char *fn, const char *ctx)
{
    const char *text = p11_kit_strerror(rv);
    avow__fail(d, code, "pkcs11", "%s: %s (CKR 0x%lx)%s%s", fn, text != NULL ? text : "error",
               (unsigned long)rv, ctx != NULL ? "; " : "", ctx != NULL ? ctx : "");
    avow__set_backend(d, AVOW_BACKEND_PKCS11, (uint64_t)rv);
    return code;
}

/* --- modules --- */

/*
 * p11-kit knows registered modules by name but loads them only all at once;
 * take the file name of the one asked for and load that alone, so one call
 * does not initialise every module on the system.
 */
static avow_err module_path_for_name(const char *name, char **path, avow_diag *diag)
{
    CK_FUNCTION_LIST **all = p11_kit_modules_load(NULL, 0);
    if (all == NULL)
        return avow__fail(diag, AVOW_ERR_PKCS11, "module", "p11_kit_modules_load: %s",
                          p11_kit_message() ? p11_kit_message() : "failed");
    CK_FUNCTION_LIST *m = p11_kit_module_for_name(all, name);
    char *file = m != NULL ? p11_kit_module_get_filename(m) : NULL;
    p11_kit_modules_release(all);
    if (file == NULL)
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "module",
                          "no PKCS#11 module named \"%s\" is registered with p11-kit", name);
    *path = file;
    return AVOW_OK;
}

avow_err avow_p11_module_load(const char *module, avow_p11_module **out, avow_diag *diag)
{
    if (module == NULL || *module == '\0' || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "module", "no module given");
    *out = NULL;

    char *byname = NULL;
    const char *path = module;
    if (strchr(module, '/') == NULL) {
        avow_err e = module_path_for_name(module, &byname, diag);
        if (e != AVOW_OK)
            return e;
        path = byname;
    } else if (access(module, F_OK) != 0) {
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "module", "PKCS#11 module %s: %s", module,
                          strerror(errno));
    }

    /* Managed (the default) so that two avow_p11_modules over one library,
     * or another user in the process, each get their own C_Initialize. */
    CK_FUNCTION_LIST *fl = p11_kit_module_load(path, 0);
    if (fl == NULL) {
        const char *msg = p11_kit_message();
        avow__fail(diag, AVOW_ERR_PKCS11, "module", "p11_kit_module_load %s: %s", path,
                   msg != NULL ? msg : "cannot load");
        free(byname);
        return AVOW_ERR_PKCS11;
    }
    free(byname);

    CK_RV rv = p11_kit_module_initialize(fl);
    /* Modules built on OpenSSL (SoftHSM) share our error queue and leave
     * entries in it (engines they could not load); they are not ours. */
    avow__ossl_clear();
    if (rv != CKR_OK) {
        p11_kit_module_release(fl);
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_Initialize", module);
    }

    avow_p11_module *m = OPENSSL_zalloc(sizeof(*m));
    if (m == NULL) {
        p11_kit_module_finalize(fl);
        p11_kit_module_release(fl);
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    }
    m->fl = fl;
    atomic_init(&m->refs, 1);
    *out = m;
    return AVOW_OK;
}

void avow_p11_module_free(avow_p11_module *m)
{
    if (m == NULL || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    p11_kit_module_finalize(m->fl);
    p11_kit_module_release(m->fl);
    avow__ossl_clear();
    OPENSSL_free(m);
}

/* --- URIs --- */

/* The URI as error messages show it: the PIN value never. */
#define REDACTED(var, text)                                                                        \
    char var[200];                                                                                 \
    avow_p11_uri_redact((text), 0, var, sizeof(var))

/* --- sessions --- */

static avow_err parse_uri(const char *text, P11KitUri **out, avow_diag *diag)
{
    P11KitUri *uri = p11_kit_uri_new();
    if (uri == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    int r = p11_kit_uri_parse(text != NULL ? text : "pkcs11:", P11_KIT_URI_FOR_ANY, uri);
    REDACTED(shown, text);
    if (r != P11_KIT_URI_OK) {
        p11_kit_uri_free(uri);
        return avow__fail(diag, AVOW_ERR_ARG, "uri", "PKCS#11 URI \"%s\": %s", shown,
                          p11_kit_uri_message(r));
    }
    /* p11-kit matches nothing when the URI holds attributes it does not
     * know; say so instead of a puzzling "not found". */
    if (p11_kit_uri_any_unrecognized(uri)) {
        p11_kit_uri_free(uri);
        return avow__fail(diag, AVOW_ERR_ARG, "uri",
                          "PKCS#11 URI \"%s\" has attributes p11-kit does not recognise", shown);
    }
    *out = uri;
    return AVOW_OK;
}

avow_err avow_p11_uri_get_object(const char *uri, avow_buf *label, avow_buf *id, avow_diag *diag)
{
    avow_buf none_l = {0}, none_i = {0};
    avow_buf *l = label != NULL ? label : &none_l, *i = id != NULL ? id : &none_i;
    l->ptr = i->ptr = NULL;
    l->len = i->len = 0;
    P11KitUri *pu = NULL;
    avow_err e = parse_uri(uri, &pu, diag);
    if (e != AVOW_OK)
        return e;
    const CK_ATTRIBUTE *lab = p11_kit_uri_get_attribute(pu, CKA_LABEL);
    const CK_ATTRIBUTE *ida = p11_kit_uri_get_attribute(pu, CKA_ID);
    REDACTED(shown, uri);
    if (lab != NULL && lab->ulValueLen > 0 && memchr(lab->pValue, '\0', lab->ulValueLen) != NULL)
        e = avow__fail(diag, AVOW_ERR_ARG, "uri", "object= of \"%s\" holds a NUL byte", shown);
    if (e == AVOW_OK && label != NULL && lab != NULL && lab->ulValueLen > 0) {
        l->ptr = OPENSSL_malloc(lab->ulValueLen + 1);
        if (l->ptr == NULL) {
            e = avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
        } else {
            memcpy(l->ptr, lab->pValue, lab->ulValueLen);
            l->ptr[lab->ulValueLen] = '\0';
            l->len = lab->ulValueLen;
        }
    }
    if (e == AVOW_OK && id != NULL && ida != NULL && ida->ulValueLen > 0) {
        i->ptr = avow__memdup(ida->pValue, ida->ulValueLen);
        if (i->ptr == NULL)
            e = avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
        else
            i->len = ida->ulValueLen;
    }
    p11_kit_uri_free(pu);
    if (e != AVOW_OK) {
        avow_buf_free(l);
        avow_buf_free(i);
    }
    return e;
}

avow_err avow_p11_uri_format_object(const char *token_uri, const char *label, const uint8_t *id,
                                    size_t id_len, avow_buf *out, avow_diag *diag)
{
    if (out == NULL || (id == NULL && id_len > 0))
        return avow__fail(diag, AVOW_ERR_ARG, "id", "no output, or an id length without an id");
    out->ptr = NULL;
    out->len = 0;
    P11KitUri *pu = NULL;
    avow_err e = parse_uri(token_uri, &pu, diag);
    if (e != AVOW_OK)
        return e;
    /* Only the token part of the caller's URI is kept: its own object
     * attributes would name another object, its PIN must not be printed. */
    p11_kit_uri_clear_attributes(pu);
    p11_kit_uri_set_pin_value(pu, NULL);
    p11_kit_uri_set_pin_source(pu, NULL);
    CK_ATTRIBUTE attr;
    int r = P11_KIT_URI_OK;
    if (label != NULL && label[0] != '\0') {
        attr.type = CKA_LABEL;
        attr.pValue = (void *)label;
        attr.ulValueLen = (CK_ULONG)strlen(label);
        r = p11_kit_uri_set_attribute(pu, &attr);
    }
    if (r == P11_KIT_URI_OK && id != NULL && id_len > 0) {
        attr.type = CKA_ID;
        attr.pValue = (void *)id;
        attr.ulValueLen = (CK_ULONG)id_len;
        r = p11_kit_uri_set_attribute(pu, &attr);
    }
    char *text = NULL;
    if (r == P11_KIT_URI_OK)
        r = p11_kit_uri_format(pu, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &text);
    p11_kit_uri_free(pu);
    if (r != P11_KIT_URI_OK || text == NULL) {
        free(text);
        return avow__fail(diag, r == P11_KIT_URI_NO_MEMORY ? AVOW_ERR_NOMEM : AVOW_ERR_ARG, "uri",
                          "cannot format the object's URI: %s", p11_kit_uri_message(r));
    }
    size_t n = strlen(text);
    out->ptr = avow__memdup((const uint8_t *)text, n + 1);
    free(text); /* p11-kit's allocation */
    if (out->ptr == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    out->len = n;
    return AVOW_OK;
}

static avow_err pick_slot(CK_FUNCTION_LIST *fl, P11KitUri *uri, const char *text, CK_SLOT_ID *slot,
                          CK_TOKEN_INFO *tinfo, avow_diag *diag)
{
    CK_INFO info;
    CK_RV rv = fl->C_GetInfo(&info);
    if (rv != CKR_OK)
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_GetInfo", NULL);
    if (!p11_kit_uri_match_module_info(uri, &info))
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "uri",
                          "the module's library-* attributes do not match \"%s\"", text);

    CK_ULONG n = 0;
    rv = fl->C_GetSlotList(CK_TRUE, NULL, &n);
    if (rv != CKR_OK)
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_GetSlotList", NULL);
    if (n == 0)
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "uri", "the module has no token present");
    CK_SLOT_ID *slots = OPENSSL_malloc(n * sizeof(*slots));
    if (slots == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    rv = fl->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK) {
        OPENSSL_free(slots);
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_GetSlotList", NULL);
    }

    avow__ossl_clear();
    CK_SLOT_ID want_id = p11_kit_uri_get_slot_id(uri);
    size_t matches = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_SLOT_INFO si;
        CK_TOKEN_INFO ti;
        if (want_id != (CK_SLOT_ID)-1 && slots[i] != want_id)
            continue;
        if (fl->C_GetSlotInfo(slots[i], &si) != CKR_OK || !p11_kit_uri_match_slot_info(uri, &si))
            continue;
        /* A token that vanished between the two calls is simply skipped. */
        if (fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        /* Uninitialised tokens (SoftHSM's spare slot) hold no keys to attest. */
        if (!(ti.flags & CKF_TOKEN_INITIALIZED) || !p11_kit_uri_match_token_info(uri, &ti))
            continue;
        if (matches++ == 0) {
            *slot = slots[i];
            *tinfo = ti;
        }
    }
    OPENSSL_free(slots);
    avow__ossl_clear();
    REDACTED(shown, text);
    if (matches == 0)
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "uri", "no initialised token matches \"%s\"",
                          shown);
    /* Attesting the wrong device is worse than asking: demand a precise URI. */
    if (matches > 1)
        return avow__fail(diag, AVOW_ERR_AMBIGUOUS, "uri",
                          "%zu tokens match \"%s\"; add token=, serial= or slot-id=", matches,
                          shown);
    return AVOW_OK;
}

avow_err avow_p11_session_open(avow_p11_module *m, const char *uri, unsigned flags,
                               avow_p11_session **out, avow_diag *diag)
{
    if (m == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, NULL, "no module or output");
    *out = NULL;
    const char *text = uri != NULL ? uri : "pkcs11:";
    P11KitUri *pu = NULL;
    avow_err e = parse_uri(text, &pu, diag);
    if (e != AVOW_OK)
        return e;

    avow_p11_session *s = OPENSSL_zalloc(sizeof(*s));
    if (s == NULL) {
        p11_kit_uri_free(pu);
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    }
    e = pick_slot(m->fl, pu, text, &s->slot, &s->token, diag);
    p11_kit_uri_free(pu);
    if (e != AVOW_OK) {
        OPENSSL_free(s);
        return e;
    }
    CK_FLAGS sf = CKF_SERIAL_SESSION | ((flags & AVOW_P11_RW) ? CKF_RW_SESSION : 0);
    CK_RV rv = m->fl->C_OpenSession(s->slot, sf, NULL, NULL, &s->h);
    avow__ossl_clear();
    if (rv != CKR_OK) {
        OPENSSL_free(s);
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_OpenSession", NULL);
    }
    atomic_fetch_add(&m->refs, 1);
    s->mod = m;
    s->fl = m->fl;
    atomic_init(&s->refs, 1);
    *out = s;
    return AVOW_OK;
}

void avow__p11_session_ref(avow_p11_session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void avow_p11_session_free(avow_p11_session *s)
{
    if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    s->fl->C_CloseSession(s->h);
    avow__ossl_clear();
    avow_buf_free(&s->pin);
    avow_p11_module_free(s->mod);
    OPENSSL_free(s);
}

avow_err avow_p11_login(avow_p11_session *s, const char *pin, avow_diag *diag)
{
    if (s == NULL || pin == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "pin", "no session or PIN");
    size_t len = strlen(pin);
    CK_RV rv = s->fl->C_Login(s->h, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)len);
    avow__ossl_clear();
    switch (rv) {
    case CKR_OK:
    case CKR_USER_ALREADY_LOGGED_IN:
        break;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_EXPIRED:
    case CKR_PIN_LOCKED:
        return avow__p11_fail(diag, AVOW_ERR_PIN, rv, "C_Login", NULL);
    default:
        return avow__p11_fail(diag, AVOW_ERR_PKCS11, rv, "C_Login", NULL);
    }
    s->logged_in = 1;
    avow_buf_free(&s->pin);
    if (len > 0) {
        s->pin.ptr = avow__memdup((const uint8_t *)pin, len + 1);
        if (s->pin.ptr == NULL)
            return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
        s->pin.len = len + 1;
    }
    return AVOW_OK;
}

/* --- PINs --- */

#define PIN_MAX 1024

static avow_err pin_set(avow_buf *pin, const char *text, size_t len, avow_diag *diag)
{
    pin->ptr = OPENSSL_malloc(len + 1);
    if (pin->ptr == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, NULL, "out of memory");
    memcpy(pin->ptr, text, len);
    pin->ptr[len] = '\0';
    pin->len = len;
    return AVOW_OK;
}

/*
 * A PIN file others can read leaks the PIN, one they can write swaps it:
 * refuse both, as ssh refuses such keys. Checked on the open file, so a
 * rename in between cannot slip another file in.
 */
static avow_err pin_from_file(const char *path, avow_buf *pin, avow_diag *diag)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return avow__fail(diag, AVOW_ERR_IO, "pin", "PIN file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return avow__fail(diag, AVOW_ERR_IO, "pin", "PIN file %s: %s", path, strerror(errno));
    }
    if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
        fclose(f);
        return avow__fail(diag, AVOW_ERR_PERMISSION, "pin",
                          "PIN file %s is mode %04o: group or others may read or write it; "
                          "chmod 600 it",
                          path, (unsigned)(st.st_mode & 07777));
    }
    char line[PIN_MAX + 2];
    char *got = fgets(line, sizeof(line), f);
    int ferr = ferror(f);
    fclose(f);
    if (got == NULL && ferr)
        return avow__fail(diag, AVOW_ERR_IO, "pin", "PIN file %s: read error", path);
    size_t len = got != NULL ? strlen(line) : 0;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    avow_err e = pin_set(pin, line, len, diag);
    OPENSSL_cleanse(line, sizeof(line));
    return e;
}

avow_err avow_p11_pin_resolve(const char *uri, const char *spec, avow_buf *pin, avow_diag *diag)
{
    if (pin == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "pin", "no output");
    pin->ptr = NULL;
    pin->len = 0;
    if (spec != NULL) {
        if (strncmp(spec, "env:", 4) == 0) {
            const char *v = getenv(spec + 4);
            if (v == NULL)
                return avow__fail(diag, AVOW_ERR_NO_PIN, "pin",
                                  "environment variable %s is not set", spec + 4);
            return pin_set(pin, v, strlen(v), diag);
        }
        if (strncmp(spec, "file:", 5) == 0)
            return pin_from_file(spec + 5, pin, diag);
        if (strncmp(spec, "pass:", 5) == 0)
            return pin_set(pin, spec + 5, strlen(spec + 5), diag);
        return avow__fail(diag, AVOW_ERR_ARG, "pin",
                          "PIN source must start with env:, file: or pass:");
    }
    if (uri == NULL)
        return avow__fail(diag, AVOW_ERR_NO_PIN, "pin", "no PIN given");

    P11KitUri *pu = NULL;
    avow_err e = parse_uri(uri, &pu, diag);
    if (e != AVOW_OK)
        return e;
    const char *value = p11_kit_uri_get_pin_value(pu);
    const char *source = p11_kit_uri_get_pin_source(pu);
    if (value != NULL)
        e = pin_set(pin, value, strlen(value), diag);
    else if (source != NULL)
        e = pin_from_file(strncmp(source, "file:", 5) == 0 ? source + 5 : source, pin, diag);
    else
        e = avow__fail(diag, AVOW_ERR_NO_PIN, "pin",
                       "no PIN given and the URI has neither pin-value nor pin-source");
    p11_kit_uri_free(pu);
    return e;
}

avow_err avow_p11_open(const char *module, const char *uri, const char *pin_spec, unsigned flags,
                       avow_p11_session **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "pkcs11-module", "no output");
    *out = NULL;
    if (module == NULL || module[0] == '\0')
        return avow__fail(diag, AVOW_ERR_ARG, "pkcs11-module", "no PKCS#11 module given");
    avow_buf pin = {0};
    avow_err e = avow_p11_pin_resolve(uri, pin_spec, &pin, diag);
    if (e == AVOW_ERR_NO_PIN && pin_spec == NULL && !(flags & AVOW_P11_LOGIN)) {
        e = AVOW_OK; /* no PIN anywhere and none needed: public objects only */
        avow_diag_clear(diag);
    }
    avow_p11_module *m = NULL;
    if (e == AVOW_OK)
        e = avow_p11_module_load(module, &m, diag);
    avow_p11_session *s = NULL;
    if (e == AVOW_OK)
        e = avow_p11_session_open(m, uri, flags & AVOW_P11_RW, &s, diag);
    avow_p11_module_free(m); /* the session holds its own reference */
    if (e == AVOW_OK && pin.ptr != NULL)
        e = avow_p11_login(s, (const char *)pin.ptr, diag);
    avow_buf_free(&pin);
    if (e != AVOW_OK) {
        avow_p11_session_free(s);
        return e;
    }
    *out = s;
    return AVOW_OK;
}

/* --- attributes and objects --- */

avow_err avow__p11_attr(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, avow_buf *out,
                        int *present, avow_diag *d)
{
    out->ptr = NULL;
    out->len = 0;
    *present = 0;
    CK_ATTRIBUTE a = {t, NULL, 0};
    CK_RV rv = s->fl->C_GetAttributeValue(s->h, o, &a, 1);
    avow__ossl_clear();
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
        return AVOW_OK;
    if (rv != CKR_OK) {
        char ctx[48];
        snprintf(ctx, sizeof(ctx), "attribute 0x%lx", (unsigned long)t);
        return avow__p11_fail(d, AVOW_ERR_PKCS11, rv, "C_GetAttributeValue", ctx);
    }
    *present = 1;
    if (a.ulValueLen == 0)
        return AVOW_OK;
    a.pValue = OPENSSL_malloc(a.ulValueLen);
    if (a.pValue == NULL)
        return avow__fail(d, AVOW_ERR_NOMEM, NULL, "out of memory");
    rv = s->fl->C_GetAttributeValue(s->h, o, &a, 1);
    avow__ossl_clear();
    if (rv != CKR_OK) {
        OPENSSL_free(a.pValue);
        *present = 0;
        char ctx[48];
        snprintf(ctx, sizeof(ctx), "attribute 0x%lx", (unsigned long)t);
        return avow__p11_fail(d, AVOW_ERR_PKCS11, rv, "C_GetAttributeValue", ctx);
    }
    out->ptr = a.pValue;
    out->len = a.ulValueLen;
    return AVOW_OK;
}

avow_err avow__p11_bool(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, int *val,
                        avow_diag *d)
{
    avow_buf b;
    int present;
    *val = -1;
    avow_err e = avow__p11_attr(s, o, t, &b, &present, d);
    if (e != AVOW_OK)
        return e;
    if (present && b.len == sizeof(CK_BBOOL))
        *val = b.ptr[0] != CK_FALSE;
    avow_buf_free(&b);
    return AVOW_OK;
}

avow_err avow__p11_ulong(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                         CK_ULONG *val, int *present, avow_diag *d)
{
    avow_buf b;
    avow_err e = avow__p11_attr(s, o, t, &b, present, d);
    if (e != AVOW_OK)
        return e;
    if (*present && b.len == sizeof(CK_ULONG))
        memcpy(val, b.ptr, sizeof(CK_ULONG));
    else
        *present = 0;
    avow_buf_free(&b);
    return AVOW_OK;
}

avow_err avow__p11_find(avow_p11_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out,
                        CK_ULONG max, CK_ULONG *count, avow_diag *d)
{
    *count = 0;
    CK_RV rv = s->fl->C_FindObjectsInit(s->h, tmpl, n);
    if (rv != CKR_OK)
        return avow__p11_fail(d, AVOW_ERR_PKCS11, rv, "C_FindObjectsInit", NULL);
    CK_OBJECT_HANDLE extra;
    CK_ULONG got = 0;
    rv = s->fl->C_FindObjects(s->h, out, max, &got);
    CK_ULONG more = 0;
    if (rv == CKR_OK && got == max)
        rv = s->fl->C_FindObjects(s->h, &extra, 1, &more);
    CK_RV rv2 = s->fl->C_FindObjectsFinal(s->h);
    avow__ossl_clear();
    if (rv != CKR_OK)
        return avow__p11_fail(d, AVOW_ERR_PKCS11, rv, "C_FindObjects", NULL);
    if (rv2 != CKR_OK)
        return avow__p11_fail(d, AVOW_ERR_PKCS11, rv2, "C_FindObjectsFinal", NULL);
    *count = got + more;
    return AVOW_OK;
}

avow_err avow__p11_partner(avow_p11_session *s, CK_OBJECT_HANDLE o, CK_OBJECT_HANDLE *pub,
                           avow_diag *d)
{
    *pub = 0;
    CK_ULONG cls = 0;
    int present = 0;
    avow_err e = avow__p11_ulong(s, o, CKA_CLASS, &cls, &present, d);
    if (e != AVOW_OK)
        return e;
    if (present && cls == CKO_PUBLIC_KEY) {
        *pub = o;
        return AVOW_OK;
    }
    if (!present || cls != CKO_PRIVATE_KEY)
        return AVOW_OK;

    /* Key pairs are tied by CKA_ID by convention (pkcs11-tool, p11-kit,
     * OpenSC); the label is the fallback for keys made without one. */
    CK_ATTRIBUTE_TYPE by[2] = {CKA_ID, CKA_LABEL};
    for (int i = 0; i < 2; i++) {
        avow_buf v;
        e = avow__p11_attr(s, o, by[i], &v, &present, d);
        if (e != AVOW_OK)
            return e;
        if (!present || v.len == 0) {
            avow_buf_free(&v);
            continue;
        }
        CK_OBJECT_CLASS pc = CKO_PUBLIC_KEY;
        CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &pc, sizeof(pc)}, {by[i], v.ptr, v.len}};
        CK_OBJECT_HANDLE h = 0;
        CK_ULONG n = 0;
        e = avow__p11_find(s, tmpl, 2, &h, 1, &n, d);
        avow_buf_free(&v);
        if (e != AVOW_OK)
            return e;
        if (n == 1)
            *pub = h;
        return AVOW_OK;
    }
    return AVOW_OK;
}

avow_err avow_p11_find_object(avow_p11_session *s, const char *uri, uint64_t default_class,
                              avow_p11_handle *out, avow_diag *diag)
{
    if (s == NULL || uri == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "uri", "no session, URI or output");
    *out = 0;
    CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)default_class;
    if ((uint64_t)cls != default_class)
        return avow__fail(diag, AVOW_ERR_ARG, "default_class", "class %llu does not fit a CK_ULONG",
                          (unsigned long long)default_class);
    P11KitUri *pu = NULL;
    avow_err e = parse_uri(uri, &pu, diag);
    if (e != AVOW_OK)
        return e;
    REDACTED(shown, uri);
    if (!p11_kit_uri_match_token_info(pu, &s->token)) {
        p11_kit_uri_free(pu);
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "uri",
                          "\"%s\" names another token than the session's", shown);
    }
    if (p11_kit_uri_get_attribute(pu, CKA_LABEL) == NULL &&
        p11_kit_uri_get_attribute(pu, CKA_ID) == NULL) {
        p11_kit_uri_free(pu);
        return avow__fail(diag, AVOW_ERR_ARG, "uri", "\"%s\" has neither object= nor id=", shown);
    }

    CK_ULONG n = 0;
    CK_ATTRIBUTE *given = p11_kit_uri_get_attributes(pu, &n);
    CK_ATTRIBUTE tmpl[8];
    CK_ULONG nt = 0;
    int has_class = 0;
    for (CK_ULONG i = 0; i < n && nt < 7; i++) {
        tmpl[nt++] = given[i];
        has_class |= given[i].type == CKA_CLASS;
    }
    if (!has_class) {
        tmpl[nt].type = CKA_CLASS;
        tmpl[nt].pValue = &cls;
        tmpl[nt].ulValueLen = sizeof(cls);
        nt++;
    }
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG found = 0;
    e = avow__p11_find(s, tmpl, nt, &h, 1, &found, diag);
    p11_kit_uri_free(pu);
    if (e != AVOW_OK)
        return e;
    if (found == 0)
        return avow__fail(diag, AVOW_ERR_NOT_FOUND, "uri",
                          "no object matches \"%s\" (class %lu unless type= says otherwise)%s",
                          shown, (unsigned long)cls,
                          !s->logged_in ? "; private objects need a login first" : "");
    if (found > 1)
        return avow__fail(diag, AVOW_ERR_AMBIGUOUS, "uri", "more than one object matches \"%s\"",
                          shown);
    *out = h;
    return AVOW_OK;
}

avow_err avow_p11_find_key(avow_p11_session *s, const char *uri, avow_p11_handle *out,
                           avow_diag *diag)
{
    return avow_p11_find_object(s, uri, CKO_PRIVATE_KEY, out, diag);
}
