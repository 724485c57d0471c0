/*
 * Filling an attestation request: the attester reads the form the verifier
 * sent and answers exactly what it asks, from claim sources (claims JSON, a
 * PKCS#11 token through the token claim source, an Evidence a program
 * built), reporting each requested claim it cannot supply and why. The
 * Evidence it makes is signed by the caller as any other.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <avow/pkcs11.h>

#include "formats/evidence_int.h"
#include "formats/evidence_request_int.h"

/* --- claim sources --- */

typedef enum pool_kind { POOL_CLAIMS = 0, POOL_P11 } pool_kind;

/* One source: the claims it can give, as an Evidence under construction. */
typedef struct pool {
    char *name;
    pool_kind kind;
    avow_evidence *ev;
    unsigned p11_flags;
    avow_p11_session *session; /* borrowed, for AVOW_SOURCE_P11_FIND_KEYS */
} pool;

struct avow_claim_source {
    avow_profile profile;
    pool pools[AVOW_CLAIM_SOURCE_MAX];
    size_t n;
};

avow_err avow_claim_source_new(const avow_profile *profile, avow_claim_source **out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    *out = OPENSSL_zalloc(sizeof(**out));
    if (*out == NULL)
        return AVOW_ERR_NOMEM;
    if (profile != NULL)
        (*out)->profile = *profile;
    else
        avow_profile_default(&(*out)->profile);
    return AVOW_OK;
}

void avow_claim_source_free(avow_claim_source *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        OPENSSL_free(s->pools[i].name);
        avow_evidence_free(s->pools[i].ev);
    }
    OPENSSL_free(s);
}

static avow_err room(const avow_claim_source *s, const char *what, avow_diag *diag)
{
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, what, "no claim source");
    if (s->n >= AVOW_CLAIM_SOURCE_MAX)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, what, "more than %u claim sources",
                          AVOW_CLAIM_SOURCE_MAX);
    return AVOW_OK;
}

/* Takes ev into the next pool; on failure ev stays the caller's. */
static avow_err push(avow_claim_source *s, const char *name, const char *def, pool_kind kind,
                     avow_evidence *ev, avow_diag *diag)
{
    pool *p = &s->pools[s->n];
    memset(p, 0, sizeof(*p));
    p->name = OPENSSL_strdup(name != NULL && name[0] != '\0' ? name : def);
    if (p->name == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "source", "out of memory");
    p->kind = kind;
    p->ev = ev;
    s->n++;
    return AVOW_OK;
}

avow_err avow_claim_source_add_json(avow_claim_source *s, const char *name, const char *json,
                                    size_t len, const avow_claims_json_opts *opts, avow_diag *diag)
{
    avow_err rc = room(s, "claims", diag);
    avow_evidence *ev = NULL;
    if (rc == AVOW_OK)
        rc = avow_evidence_new(&s->profile, &ev);
    if (rc == AVOW_OK)
        rc = avow_evidence_add_claims_json_ex(ev, json, len, opts, diag);
    if (rc == AVOW_OK)
        rc = push(s, name, "claims", POOL_CLAIMS, ev, diag);
    if (rc != AVOW_OK)
        avow_evidence_free(ev);
    return rc;
}

avow_err avow_claim_source_add0_evidence(avow_claim_source *s, const char *name, avow_evidence *ev,
                                         avow_diag *diag)
{
    avow_err rc = room(s, "evidence", diag);
    if (rc == AVOW_OK && ev == NULL)
        rc = avow__fail(diag, AVOW_ERR_ARG, "evidence", "no Evidence");
    return rc == AVOW_OK ? push(s, name, "evidence", POOL_CLAIMS, ev, diag) : rc;
}

avow_err avow_claim_source_add_pkcs11(avow_claim_source *s, const char *name,
                                      struct avow_p11_session *session, unsigned flags,
                                      const char *const *key_uris, size_t nkeys, avow_diag *diag)
{
    avow_err rc = room(s, "pkcs11", diag);
    if (rc != AVOW_OK)
        return rc;
    if (session == NULL || (key_uris == NULL && nkeys > 0) ||
        (flags & ~(unsigned)(AVOW_SOURCE_P11_PLATFORM | AVOW_SOURCE_P11_FIND_KEYS)) != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "pkcs11", "no session, no key URIs or bad flags");
    avow_evidence *ev = NULL;
    size_t el = 0;
    rc = avow_evidence_new(&s->profile, &ev);
    if (rc == AVOW_OK && (flags & AVOW_SOURCE_P11_PLATFORM)) {
        rc = avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &el, diag);
        if (rc == AVOW_OK)
            rc = avow_p11_add_platform_claims(session, ev, el, diag);
    }
    for (size_t i = 0; rc == AVOW_OK && i < nkeys; i++)
        rc = avow_p11_add_key_claims_uri(session, key_uris[i], ev, NULL, diag);
    if (rc == AVOW_OK)
        rc = push(s, name, "token", POOL_P11, ev, diag);
    if (rc != AVOW_OK) {
        avow_evidence_free(ev);
        return rc;
    }
    s->pools[s->n - 1].p11_flags = flags;
    s->pools[s->n - 1].session = (flags & AVOW_SOURCE_P11_FIND_KEYS) ? session : NULL;
    return AVOW_OK;
}

/* What the token claim source (pkcs11_claims.c, docs/pkcs11.md) says when it has no value for a
 * claim it maps; NULL for a claim PKCS#11 has no attribute for. */
static const char *p11_unset(avow_claim_id id)
{
    switch (id) {
    case AVOW_CLAIM_VENDOR:
        return "the token's manufacturerID is blank";
    case AVOW_CLAIM_HWMODEL:
        return "the token's model is blank";
    case AVOW_CLAIM_HWSERIAL:
        return "the token's serialNumber is blank";
    case AVOW_CLAIM_SWNAME:
        return "the module's libraryDescription is blank";
    case AVOW_CLAIM_HWVERSION:
    case AVOW_CLAIM_SWVERSION:
        return "the token information was not read";
    case AVOW_CLAIM_KEY_IDENTIFIER:
        return "the key has neither CKA_LABEL nor CKA_ID";
    case AVOW_CLAIM_KEY_SPKI:
        return "a secret key has no public key";
    case AVOW_CLAIM_KEY_EXTRACTABLE:
        return "the key does not report CKA_EXTRACTABLE";
    case AVOW_CLAIM_KEY_SENSITIVE:
        return "the key does not report CKA_SENSITIVE";
    case AVOW_CLAIM_KEY_NEVER_EXTRACTABLE:
        return "the key does not report CKA_NEVER_EXTRACTABLE";
    case AVOW_CLAIM_KEY_LOCAL:
        return "the key does not report CKA_LOCAL";
    case AVOW_CLAIM_KEY_EXPIRY:
        return "the key has no CKA_END_DATE";
    case AVOW_CLAIM_KEY_PURPOSE:
        return "none of the key's usage attributes (CKA_SIGN, CKA_DECRYPT, ...) is true";
    default:
        return NULL;
    }
}

/* --- filling --- */

/* One key element of a source; members sharing an identifier value form one key (group). */
typedef struct member {
    size_t pool, el;
    size_t group;
} member;

typedef struct fctx {
    const avow_evidence_request *req;
    avow_claim_source *src;
    const avow_fill_opts *o;
    avow_evidence *out;
    avow_answer_report *rep;
    avow_diag *diag;
    member *m;
    size_t nm, ngroups;
    size_t *taken_by; /* per group: request element + 1 that names it, 0 when none */
    size_t missing;
    char first_missing[96];
} fctx;

static size_t npools(const fctx *c)
{
    return c->src != NULL ? c->src->n : 0;
}

static const avow_element *member_el(const fctx *c, const member *m)
{
    return avow_evidence_get0_element(c->src->pools[m->pool].ev, m->el);
}

static int has_identifier(const avow_element *el, avow_view id)
{
    for (size_t i = 0; i < el->nclaims; i++) {
        const avow_claim *cl = &el->claims[i];
        if (cl->id == AVOW_CLAIM_KEY_IDENTIFIER && cl->value.present &&
            cl->value.bytes.len == id.len && memcmp(cl->value.bytes.ptr, id.ptr, id.len) == 0)
            return 1;
    }
    return 0;
}

static int share_identifier(const avow_element *a, const avow_element *b)
{
    for (size_t i = 0; i < a->nclaims; i++)
        if (a->claims[i].id == AVOW_CLAIM_KEY_IDENTIFIER && a->claims[i].value.present &&
            has_identifier(b, a->claims[i].value.bytes))
            return 1;
    return 0;
}

/* Every key element of every source, grouped by shared identifier values. */
static avow_err collect_keys(fctx *c)
{
    size_t total = 0;
    for (size_t p = 0; p < npools(c); p++)
        total += avow_evidence_element_count(c->src->pools[p].ev);
    OPENSSL_free(c->m);
    OPENSSL_free(c->taken_by);
    c->m = OPENSSL_zalloc((total + 1) * sizeof(*c->m));
    c->taken_by = OPENSSL_zalloc((total + 1) * sizeof(*c->taken_by));
    c->nm = c->ngroups = 0;
    if (c->m == NULL || c->taken_by == NULL)
        return avow__fail(c->diag, AVOW_ERR_NOMEM, "source", "out of memory");
    for (size_t p = 0; p < npools(c); p++) {
        const avow_evidence *ev = c->src->pools[p].ev;
        for (size_t e = 0; e < avow_evidence_element_count(ev); e++) {
            const avow_element *el = avow_evidence_get0_element(ev, e);
            if (el->kind != AVOW_ELEMENT_KEY)
                continue;
            member *m = &c->m[c->nm];
            m->pool = p;
            m->el = e;
            m->group = c->ngroups;
            for (size_t k = 0; k < c->nm; k++) {
                if (share_identifier(member_el(c, &c->m[k]), el)) {
                    m->group = c->m[k].group;
                    break;
                }
            }
            if (m->group == c->ngroups)
                c->ngroups++;
            c->nm++;
        }
    }
    return AVOW_OK;
}

static long group_named(const fctx *c, avow_view id)
{
    for (size_t k = 0; k < c->nm; k++)
        if (has_identifier(member_el(c, &c->m[k]), id))
            return (long)c->m[k].group;
    return -1;
}

/* A key the request names and no source holds yet: tokens that look keys up are asked. */
static avow_err look_up(fctx *c, avow_view id, int *found)
{
    *found = 0;
    if (memchr(id.ptr, 0, id.len) != NULL)
        return AVOW_OK; /* no C string, so no CKA_LABEL a URI can name */
    char *label = OPENSSL_malloc(id.len + 1);
    if (label == NULL)
        return avow__fail(c->diag, AVOW_ERR_NOMEM, "identifier", "out of memory");
    memcpy(label, id.ptr, id.len);
    label[id.len] = '\0';
    avow_buf hexid = {0};
    int is_hex = avow__unhex(label, &hexid) == AVOW_OK;
    avow_err rc = AVOW_OK;
    for (size_t p = 0; p < npools(c) && !*found && rc == AVOW_OK; p++) {
        pool *pl = &c->src->pools[p];
        if (pl->session == NULL)
            continue;
        /* CKA_LABEL first, then CKA_ID for an identifier in hex: the two pkcs11_claims.c writes */
        for (int by_id = 0; by_id < 2 && !*found && rc == AVOW_OK; by_id++) {
            if (by_id && (!is_hex || hexid.len == 0))
                break;
            avow_buf uri = {0};
            avow_diag d;
            avow_diag_clear(&d);
            rc = avow_p11_uri_format_object(NULL, by_id ? NULL : label, by_id ? hexid.ptr : NULL,
                                            by_id ? hexid.len : 0, &uri, c->diag);
            if (rc == AVOW_OK)
                rc = avow_p11_add_key_claims_uri(pl->session, (const char *)uri.ptr, pl->ev, NULL,
                                                 &d);
            avow_buf_free(&uri);
            if (rc == AVOW_OK)
                *found = 1;
            else if (rc == AVOW_ERR_NOT_FOUND)
                rc = AVOW_OK;
            else if (c->diag != NULL)
                *c->diag = d;
        }
    }
    OPENSSL_free(label);
    avow_buf_free(&hexid);
    return rc != AVOW_OK ? rc : *found ? collect_keys(c) : AVOW_OK;
}

static avow_err note(fctx *c, avow_answer_kind kind, avow_answer_reason reason,
                     avow_element_kind el, const avow_claim *cl, avow_view key, const char *field,
                     const char *detail)
{
    char name[80];
    avow_answer a;
    memset(&a, 0, sizeof(a));
    a.kind = kind;
    a.reason = reason;
    a.element = el;
    a.claim = cl != NULL ? cl->id : AVOW_CLAIM_UNKNOWN;
    if (cl != NULL) {
        avow__claim_label(cl, name, sizeof(name));
        a.name = name;
    }
    a.field = field;
    if (kind == AVOW_ANSWER_MISSING) {
        a.code = AVOW_ERR_UNANSWERED;
        a.fails = (c->o->flags & AVOW_FILL_STRICT) != 0;
        if (c->missing++ == 0)
            avow__strlcpy(c->first_missing, field, sizeof(c->first_missing));
    }
    if (avow__report_add(c->rep, &a, key, "%s", detail) != AVOW_OK)
        return avow__fail(c->diag, AVOW_ERR_NOMEM, "report", "out of memory");
    return AVOW_OK;
}

/* Appends "name: why" for one source to the detail. */
static void why(char *buf, size_t cap, const char *name, const char *text)
{
    size_t n = strlen(buf);
    if (n < cap)
        snprintf(buf + n, cap - n, "%s%s: %s", n > 0 ? "; " : "", name, text);
}

/*
 * Why no source gave claim id: a token that maps it but has no value says
 * so (NOT_SET), otherwise no source can give it (NO_SOURCE). members NULL:
 * every source that reports platform or transaction claims; else those of
 * one key.
 */
static avow_answer_reason explain(const fctx *c, avow_claim_id id, const member *members,
                                  size_t nmembers, char *buf, size_t cap)
{
    avow_answer_reason r = AVOW_REASON_NO_SOURCE;
    buf[0] = '\0';
    size_t n = members != NULL ? nmembers : npools(c);
    for (size_t i = 0; i < n; i++) {
        const pool *p = &c->src->pools[members != NULL ? members[i].pool : i];
        if (p->kind == POOL_P11) {
            if (members == NULL && !(p->p11_flags & AVOW_SOURCE_P11_PLATFORM))
                continue;
            const char *t = p11_unset(id);
            if (t != NULL)
                r = AVOW_REASON_NOT_SET;
            why(buf, cap, p->name, t != NULL ? t : "PKCS#11 has no attribute for it");
        } else {
            why(buf, cap, p->name, members != NULL ? "not in its key element" : "not given");
        }
    }
    if (buf[0] == '\0')
        avow__strlcpy(buf, "no claim source gives it", cap);
    return r;
}

/* The output element of a request element, made when its first claim is supplied. */
typedef struct out_el {
    avow_element_kind kind;
    int made;
    size_t index;
} out_el;

static avow_err add_to(fctx *c, out_el *oe, avow_claim_id id, const avow_value *v)
{
    avow_err rc = AVOW_OK;
    if (!oe->made) {
        rc = avow_evidence_add_element(c->out, oe->kind, &oe->index, c->diag);
        oe->made = rc == AVOW_OK;
    }
    return rc == AVOW_OK ? avow_evidence_add_claim(c->out, oe->index, id, v, c->diag) : rc;
}

/* The first source's claim `id` in its element of `kind` (transaction, platform). */
static const avow_element *source_element(const fctx *c, avow_element_kind kind, avow_claim_id id,
                                          size_t *pool_out)
{
    for (size_t p = 0; p < npools(c); p++) {
        const avow_evidence *ev = c->src->pools[p].ev;
        for (size_t e = 0; e < avow_evidence_element_count(ev); e++) {
            const avow_element *el = avow_evidence_get0_element(ev, e);
            if (el->kind != kind)
                continue;
            for (size_t i = 0; i < el->nclaims; i++) {
                if (el->claims[i].id == id && el->claims[i].value.present) {
                    if (pool_out != NULL)
                        *pool_out = p;
                    return el;
                }
            }
        }
    }
    return NULL;
}

/* Every value of claim id in el (ak-spki repeats). */
static avow_err add_all(fctx *c, out_el *oe, const avow_element *el, avow_claim_id id)
{
    avow_err rc = AVOW_OK;
    for (size_t i = 0; rc == AVOW_OK && i < el->nclaims; i++)
        if (el->claims[i].id == id && el->claims[i].value.present)
            rc = add_to(c, oe, id, &el->claims[i].value);
    return rc;
}

/* A transaction or platform element of the request. */
static avow_err fill_single(fctx *c, size_t e, const avow_element *rel)
{
    out_el oe = {rel->kind, 0, 0};
    avow_view none = {NULL, 0};
    char field[96], detail[256];
    avow_err rc = AVOW_OK;
    for (size_t j = 0; rc == AVOW_OK && j < rel->nclaims; j++) {
        const avow_claim *want = &rel->claims[j];
        avow__request_field(field, sizeof(field), "request", e, (long)j);
        if (want->id == AVOW_CLAIM_UNKNOWN)
            continue; /* reported as ignored already */
        if (want->id == AVOW_CLAIM_NONCE) {
            rc = add_to(c, &oe, AVOW_CLAIM_NONCE, &want->value);
            continue;
        }
        if (want->id == AVOW_CLAIM_AK_SPKI && c->o->nsigner_spkis > 0) {
            for (size_t k = 0; rc == AVOW_OK && k < c->o->nsigner_spkis; k++) {
                avow_value v = {.type = AVOW_VALUE_BYTES, .present = 1};
                v.bytes = c->o->signer_spkis[k];
                rc = add_to(c, &oe, AVOW_CLAIM_AK_SPKI, &v);
            }
            continue;
        }
        const avow_element *sel = source_element(c, rel->kind, want->id, NULL);
        if (sel != NULL) {
            rc = add_all(c, &oe, sel, want->id);
            continue;
        }
        if (want->id == AVOW_CLAIM_TIMESTAMP) {
            avow_value v = {.type = AVOW_VALUE_TIME, .present = 1};
            v.time = c->o->now_given ? (time_t)c->o->now : time(NULL);
            rc = add_to(c, &oe, AVOW_CLAIM_TIMESTAMP, &v);
            continue;
        }
        if (want->id == AVOW_CLAIM_AK_SPKI) {
            rc = note(c, AVOW_ANSWER_MISSING, AVOW_REASON_NO_SIGNER, rel->kind, want, none, field,
                      "no signing key was given, and ak-spki names the keys that sign");
            continue;
        }
        avow_answer_reason r = explain(c, want->id, NULL, 0, detail, sizeof(detail));
        rc = note(c, AVOW_ANSWER_MISSING, r, rel->kind, want, none, field, detail);
    }
    return rc;
}

/* The members of group g, in source order, into a scratch array of c->nm entries. */
static size_t members_of(const fctx *c, size_t g, member *out)
{
    size_t n = 0;
    for (size_t k = 0; k < c->nm; k++)
        if (c->m[k].group == g)
            out[n++] = c->m[k];
    return n;
}

/* Whether value v of an identifier is already in the output element. */
static int out_has_identifier(const fctx *c, const out_el *oe, avow_view v)
{
    return oe->made && has_identifier(avow_evidence_get0_element(c->out, oe->index), v);
}

/* One key element of the output: key group g answering request element e. */
static avow_err fill_key(fctx *c, size_t e, const avow_element *rel, size_t g, avow_view sel,
                         member *scratch)
{
    out_el oe = {AVOW_ELEMENT_KEY, 0, 0};
    char field[96], detail[256];
    size_t n = members_of(c, g, scratch);
    avow_err rc = AVOW_OK;
    avow_view key = sel;
    /* identifier first: the one the request names, else every one the sources know */
    if (sel.len > 0) {
        avow_value v = {.type = AVOW_VALUE_UTF8, .present = 1, .bytes = sel};
        rc = add_to(c, &oe, AVOW_CLAIM_KEY_IDENTIFIER, &v);
    } else {
        for (size_t k = 0; rc == AVOW_OK && k < n; k++) {
            const avow_element *el = member_el(c, &scratch[k]);
            for (size_t i = 0; rc == AVOW_OK && i < el->nclaims; i++) {
                const avow_claim *cl = &el->claims[i];
                if (cl->id != AVOW_CLAIM_KEY_IDENTIFIER || !cl->value.present ||
                    out_has_identifier(c, &oe, cl->value.bytes))
                    continue;
                if (key.len == 0)
                    key = cl->value.bytes;
                rc = add_to(c, &oe, AVOW_CLAIM_KEY_IDENTIFIER, &cl->value);
            }
        }
    }
    if (rc != AVOW_OK)
        return rc;
    if (!oe.made) {
        avow__request_field(field, sizeof(field), "request", e, -1);
        return note(c, AVOW_ANSWER_MISSING, AVOW_REASON_NO_IDENTIFIER, AVOW_ELEMENT_KEY, NULL, key,
                    field, "a source key without identifier cannot be described");
    }
    for (size_t j = 0; rc == AVOW_OK && j < rel->nclaims; j++) {
        const avow_claim *want = &rel->claims[j];
        if (want->id == AVOW_CLAIM_UNKNOWN || want->id == AVOW_CLAIM_KEY_IDENTIFIER)
            continue;
        const avow_claim *found = NULL;
        for (size_t k = 0; found == NULL && k < n; k++) {
            const avow_element *el = member_el(c, &scratch[k]);
            for (size_t i = 0; found == NULL && i < el->nclaims; i++)
                if (el->claims[i].id == want->id && el->claims[i].value.present)
                    found = &el->claims[i];
        }
        if (found != NULL) {
            rc = add_to(c, &oe, want->id, &found->value);
            continue;
        }
        avow__request_field(field, sizeof(field), "request", e, (long)j);
        avow_answer_reason r = explain(c, want->id, scratch, n, detail, sizeof(detail));
        rc = note(c, AVOW_ANSWER_MISSING, r, AVOW_ELEMENT_KEY, want, key, field, detail);
    }
    return rc;
}

/* Each key the request names, to its group (looked up in tokens when no source has it yet). */
static avow_err resolve_named(fctx *c)
{
    char field[96];
    for (size_t e = 0; e < avow_evidence_request_element_count(c->req); e++) {
        avow_view sel = avow_evidence_request_key_selector(c->req, e);
        if (sel.len == 0)
            continue;
        long g = group_named(c, sel);
        if (g < 0) {
            int found = 0;
            avow_err rc = look_up(c, sel, &found);
            if (rc != AVOW_OK)
                return rc;
            g = found ? group_named(c, sel) : -1;
        }
        avow__request_field(field, sizeof(field), "request", e, -1);
        if (g < 0)
            return avow__fail(c->diag, AVOW_ERR_NOT_FOUND, field,
                              "no claim source has a key with identifier \"%.*s\"",
                              (int)(sel.len > 64 ? 64 : sel.len), (const char *)sel.ptr);
        if (c->taken_by[g] != 0)
            return avow__fail(c->diag, AVOW_ERR_DUP_KEY, field,
                              "names the key reportedElements[%zu] names", c->taken_by[g] - 1);
        c->taken_by[g] = e + 1;
    }
    return AVOW_OK;
}

/* Unknown claim types are left out, as the draft asks (section 7.2): said once per claim. */
static avow_err note_ignored(fctx *c)
{
    char field[96];
    for (size_t e = 0; e < avow_evidence_request_element_count(c->req); e++) {
        const avow_element *rel = avow_evidence_request_get0_element(c->req, e);
        for (size_t j = 0; j < rel->nclaims; j++) {
            if (rel->claims[j].id != AVOW_CLAIM_UNKNOWN)
                continue;
            avow__request_field(field, sizeof(field), "request", e, (long)j);
            avow_err rc =
                note(c, AVOW_ANSWER_IGNORED, AVOW_REASON_UNKNOWN_TYPE, rel->kind, &rel->claims[j],
                     avow__key_identifier(rel), field, "unknown claim type, left out");
            if (rc != AVOW_OK)
                return rc;
        }
    }
    return AVOW_OK;
}

static avow_err fill_elements(fctx *c)
{
    char field[96];
    avow_view none = {NULL, 0};
    member *scratch = OPENSSL_zalloc((c->nm + 1) * sizeof(*scratch));
    avow_err rc = scratch != NULL ? AVOW_OK : AVOW_ERR_NOMEM;
    for (size_t e = 0; rc == AVOW_OK && e < avow_evidence_request_element_count(c->req); e++) {
        const avow_element *rel = avow_evidence_request_get0_element(c->req, e);
        if (rel->kind != AVOW_ELEMENT_KEY) {
            rc = fill_single(c, e, rel);
            continue;
        }
        avow_view sel = avow__key_identifier(rel);
        if (sel.len > 0) {
            for (size_t g = 0; g < c->ngroups; g++)
                if (c->taken_by[g] == e + 1)
                    rc = fill_key(c, e, rel, g, sel, scratch);
            continue;
        }
        /* the attester's key: every key of the sources that no other element names */
        size_t done = 0;
        for (size_t g = 0; rc == AVOW_OK && g < c->ngroups; g++) {
            if (c->taken_by[g] != 0)
                continue;
            rc = fill_key(c, e, rel, g, none, scratch);
            done++;
        }
        if (rc == AVOW_OK && done == 0) {
            avow__request_field(field, sizeof(field), "request", e, -1);
            rc = note(c, AVOW_ANSWER_MISSING, AVOW_REASON_NO_KEY, AVOW_ELEMENT_KEY, NULL, none,
                      field, "no key was given to attest");
        }
    }
    OPENSSL_free(scratch);
    return rc == AVOW_ERR_NOMEM ? avow__fail(c->diag, rc, "evidence", "out of memory") : rc;
}

void avow_fill_opts_init(avow_fill_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_evidence_fill(const avow_evidence_request *req, avow_claim_source *src,
                            const avow_fill_opts *opts, avow_evidence **out,
                            avow_answer_report **report, avow_diag *diag)
{
    avow_fill_opts none;
    avow_fill_opts_init(&none);
    const avow_fill_opts *o = opts != NULL ? opts : &none;
    if (out != NULL)
        *out = NULL;
    if (report != NULL)
        *report = NULL;
    if (req == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "request", "no request or no output pointer");
    if (o->size != sizeof(*o) || (o->nsigner_spkis > 0 && o->signer_spkis == NULL) ||
        (o->flags & ~(unsigned)AVOW_FILL_STRICT) != 0)
        return avow__fail(diag, AVOW_ERR_ARG, "opts", "options not set up with their _init");
    fctx c;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.src = src;
    c.o = o;
    c.diag = diag;
    c.rep = avow__report_new();
    avow_err rc = c.rep != NULL ? AVOW_OK : avow__fail(diag, AVOW_ERR_NOMEM, "report", "no memory");
    if (rc == AVOW_OK)
        rc = avow_evidence_new(avow_evidence_request_get0_profile(req), &c.out);
    if (rc == AVOW_OK)
        rc = collect_keys(&c);
    if (rc == AVOW_OK)
        rc = resolve_named(&c);
    if (rc == AVOW_OK)
        rc = note_ignored(&c);
    if (rc == AVOW_OK)
        rc = fill_elements(&c);
    int judged = rc == AVOW_OK;
    if (rc == AVOW_OK && avow_evidence_element_count(c.out) == 0)
        rc = avow__fail(diag, AVOW_ERR_EMPTY, "request",
                        "none of the requested claims could be supplied");
    else if (rc == AVOW_OK && c.missing > 0 && (o->flags & AVOW_FILL_STRICT))
        rc = avow__fail(diag, AVOW_ERR_UNANSWERED, c.first_missing,
                        "%zu requested claim(s) cannot be supplied", c.missing);
    /* What is handed back meets the full Evidence rules once signed. */
    if (rc == AVOW_OK)
        rc = avow__evidence_check(c.out, 0, diag);
    OPENSSL_free(c.m);
    OPENSSL_free(c.taken_by);
    avow__report_set_status(c.rep, rc);
    if (report != NULL && judged &&
        (rc == AVOW_OK || rc == AVOW_ERR_EMPTY || rc == AVOW_ERR_UNANSWERED)) {
        *report = c.rep;
        c.rep = NULL;
    }
    avow_answer_report_free(c.rep);
    if (rc != AVOW_OK) {
        avow_evidence_free(c.out);
        return rc;
    }
    *out = c.out;
    return AVOW_OK;
}
