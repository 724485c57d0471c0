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

/* Room for the dotted text of any OID the decoder accepts, and for the placeholder. */
#define OID_TEXT_MAX 160

/*
 * Dotted text of oid, measured and written by the same call: the text is
 * made in a local buffer and copied, so the bytes counted in the first
 * pass are exactly the bytes written in the second. dst NULL: measure only.
 */
static size_t oid_text(avow_view oid, char *dst)
{
    char buf[OID_TEXT_MAX];
    avow_oid_to_text(oid.ptr, oid.len, buf, sizeof(buf));
    size_t n = strlen(buf);
    if (dst != NULL)
        memcpy(dst, buf, n + 1);
    return n + 1;
}

static const avow_vocab_claim *vocab_of(const avow_claim *c)
{
    return c->id != AVOW_CLAIM_UNKNOWN ? avow_evidence_vocab_claim(c->id) : NULL;
}

/* Bytes behind the items that claim c needs (names of unknowns, purpose lists). */
static size_t extra_of(const avow_claim *c, size_t el_text)
{
    size_t n = el_text; /* each item of an unknown element gets its own copy of the name */
    if (vocab_of(c) == NULL)
        n += oid_text(c->oid, NULL);
    if (c->value.type == AVOW_VALUE_OIDS && c->value.present) {
        n += c->value.npurposes * sizeof(const char *);
        for (size_t i = 0; i < c->value.npurposes; i++)
            if (avow_capability_name(c->value.purposes[i].cap) == NULL)
                n += oid_text(c->value.purposes[i].oid, NULL);
    }
    return n;
}

/* Pointer arrays first, so they stay aligned; strings after them. */
typedef struct area {
    const char **ptrs;
    char *text;
} area;

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
            if (name == NULL) {
                size_t l = oid_text(in->purposes[i].oid, a->text);
                name = a->text;
                a->text += l;
            }
            *a->ptrs++ = name;
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

    /* First pass: how many items, pointers and bytes of names. */
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        size_t el_text = 0;
        if (el->kind == AVOW_ELEMENT_UNKNOWN) {
            unk_el++;
            el_text = oid_text(el->oid, NULL);
        }
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            n++;
            unk_cl += vocab_of(cl) == NULL;
            if (cl->value.type == AVOW_VALUE_OIDS && cl->value.present)
                ptrs += cl->value.npurposes;
            extra += extra_of(cl, el_text);
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
              behind != NULL ? behind + ptrs * sizeof(const char *) : NULL};
    size_t k = 0;
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            const avow_vocab_claim *vc = vocab_of(cl);
            avow_nclaim *it = &out->items[k++];
            if (el->kind == AVOW_ELEMENT_UNKNOWN) {
                it->element = a.text;
                a.text += oid_text(el->oid, a.text);
            } else {
                it->element = avow_element_name(el->kind);
            }
            it->element_index = e;
            if (vc != NULL) {
                it->name = vc->name;
                it->known = 1;
                it->roles = vc->roles;
                convert_value(&cl->value, vc->type, &a, &it->value);
            } else {
                it->name = a.text;
                a.text += oid_text(cl->oid, a.text);
                convert_value(&cl->value, AVOW_CV_OPAQUE, &a, &it->value);
            }
            it->signed_by = signed_by;
        }
    }
    return AVOW_OK;
}
