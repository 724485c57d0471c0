/*
 * PKIX Evidence as normalised claims: each claim of the Evidence becomes an
 * avow_nclaim with the name, normalised type and roles of the PKIX
 * vocabulary (formats/evidence_claims.c). Names of unknown elements and
 * claims (their dotted OIDs), and the name lists of key purposes, are
 * written behind the items in the same allocation, so a claim set costs
 * one allocation however many of them it holds.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <avow/claims.h>
#include <avow/profile.h>

#include "core/internal.h"
#include "verifier/verify_int.h"

/*
 * Bytes of a dotted name, NUL included. An OID whose text is longer is named
 * by the static placeholder instead: a cut name could equal another OID's
 * (one a policy asks for), and the bound keeps a small Evidence from asking
 * for megabytes of names.
 */
#define OID_NAME_MAX 160

static const char OID_NAME_LONG[] = "(oid too long)";

/* Bytes the name of oid takes behind the items (NUL included); 0: the placeholder. */
static size_t name_size(avow_view oid)
{
    size_t n = avow_oid_to_text(oid.ptr, oid.len, NULL, 0);
    return n < OID_NAME_MAX ? n + 1 : 0;
}

/*
 * A purpose is a value, not a name, and printed values are read back: its
 * OID is always written whole (the decoder bounds the input, so this is
 * bounded too). The placeholder only stands for an OID that has no text.
 */
static size_t value_size(avow_view oid)
{
    return avow_oid_to_text(oid.ptr, oid.len, NULL, 0) + 1;
}

/* Pointer arrays first, so they stay aligned; strings after them, never past end. */
typedef struct area {
    const char **ptrs;
    char *text;
    const char *end;
} area;

/*
 * Writes the name of oid into the area and returns it. Sized by name_size,
 * the same rule that sized the allocation, so the bound is only a backstop.
 */
static const char *text_put(avow_view oid, size_t need, area *a)
{
    if (need == 0 || a->text == NULL || (size_t)(a->end - a->text) < need)
        return OID_NAME_LONG;
    char *s = a->text;
    avow_oid_to_text(oid.ptr, oid.len, s, need);
    a->text += need;
    return s;
}

static const char *name_put(avow_view oid, area *a)
{
    return text_put(oid, name_size(oid), a);
}

static const avow_vocab_claim *vocab_of(const avow_claim *c)
{
    return c->id != AVOW_CLAIM_UNKNOWN ? avow_evidence_vocab_claim(c->id) : NULL;
}

/* Bytes behind the items that claim c needs (its name when unknown, its purpose list). */
static size_t extra_of(const avow_claim *c)
{
    size_t n = 0;
    if (vocab_of(c) == NULL)
        n += name_size(c->oid);
    if (c->value.type == AVOW_VALUE_OIDS && c->value.present) {
        n += c->value.npurposes * sizeof(const char *);
        for (size_t i = 0; i < c->value.npurposes; i++)
            if (avow_capability_name(c->value.purposes[i].cap) == NULL)
                n += value_size(c->value.purposes[i].oid);
    }
    return n;
}

static void convert_value(const avow_value *in, avow_cv_type type, area *a, avow_claim_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    out->present = in->present;
    if (!in->present)
        return;
    switch (in->type) {
    case AVOW_VALUE_BOOL:
    case AVOW_VALUE_INT:
        out->integer = in->integer;
        return;
    case AVOW_VALUE_TIME:
        out->time = (int64_t)in->time;
        return;
    case AVOW_VALUE_OIDS:
        out->names = a->ptrs;
        out->nnames = in->npurposes;
        for (size_t i = 0; i < in->npurposes; i++) {
            const char *name = avow_capability_name(in->purposes[i].cap);
            *a->ptrs++ = name != NULL
                             ? name
                             : text_put(in->purposes[i].oid, value_size(in->purposes[i].oid), a);
        }
        return;
    case AVOW_VALUE_BYTES:
    case AVOW_VALUE_UTF8:
    case AVOW_VALUE_RAW:
        out->bytes = in->bytes;
        return;
    }
}

avow_err avow__claimset_build(const avow_evidence *ev, uint32_t signed_by, avow_claimset *out,
                              size_t *unknown_elements, size_t *unknown_claims)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    out->count = 0;
    out->items = NULL;
    size_t n = 0, ptrs = 0, extra = 0, unk_el = 0, unk_cl = 0;
    size_t nel = ev != NULL ? avow_evidence_element_count(ev) : 0;

    /* First pass: how many items, pointers and bytes of names. The items of
     * one unknown element share its name. */
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        if (el->kind == AVOW_ELEMENT_UNKNOWN) {
            unk_el++;
            if (el->nclaims > 0)
                extra += name_size(el->oid);
        }
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            n++;
            unk_cl += vocab_of(cl) == NULL;
            if (cl->value.type == AVOW_VALUE_OIDS && cl->value.present)
                ptrs += cl->value.npurposes;
            extra += extra_of(cl);
        }
    }
    if (unknown_elements != NULL)
        *unknown_elements = unk_el;
    if (unknown_claims != NULL)
        *unknown_claims = unk_cl;
    if (n == 0)
        return AVOW_OK;

    char *behind = NULL;
    avow_err rc = avow_claimset_alloc(out, n, extra, &behind);
    if (rc != AVOW_OK)
        return rc;
    area a = {(const char **)(void *)behind,
              behind != NULL ? behind + ptrs * sizeof(const char *) : NULL,
              behind != NULL ? behind + extra : NULL};
    size_t k = 0;
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        const char *element = avow_element_name(el->kind);
        if (el->kind == AVOW_ELEMENT_UNKNOWN && el->nclaims > 0)
            element = name_put(el->oid, &a);
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            const avow_vocab_claim *vc = vocab_of(cl);
            avow_nclaim *it = &out->items[k++];
            it->element = element;
            it->element_index = e;
            if (vc != NULL) {
                it->name = vc->name;
                it->known = 1;
                it->roles = vc->roles;
                convert_value(&cl->value, vc->type, &a, &it->value);
            } else {
                it->name = name_put(cl->oid, &a);
                convert_value(&cl->value, AVOW_CV_OPAQUE, &a, &it->value);
            }
            it->signed_by = signed_by;
        }
    }
    return AVOW_OK;
}
