/*
 * Normalised claims of PKIX Evidence. Known names are the static strings of
 * the claim table; dotted OIDs of unknown elements and claims are written
 * behind the items array in the same allocation, so a claim set costs one
 * allocation however many unknown OIDs it holds.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <avow/claims.h>
#include <avow/profile.h>

#include "core/internal.h"
#include "verifier/verify_int.h"

#define OID_TEXT_MAX 160 /* dotted text of AVOW_OID_MAX-ish content, with room to spare */

/* Dotted text of oid into buf; returns its length (without the NUL). */
static size_t oid_text(avow_view oid, char *buf)
{
    avow_oid_to_text(oid.ptr, oid.len, buf, OID_TEXT_MAX);
    return strlen(buf);
}

static int claim_known(const avow_claim *c)
{
    return c->id != AVOW_CLAIM_UNKNOWN && avow_claim_info_get(c->id) != NULL;
}

avow_err avow__claimset_build(const avow_evidence *ev, uint32_t signed_by, avow_claimset *out,
                              size_t *unknown_elements, size_t *unknown_claims)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    out->count = 0;
    out->items = NULL;
    size_t n = 0, text = 0, unk_el = 0, unk_cl = 0;
    size_t nel = ev != NULL ? avow_evidence_element_count(ev) : 0;
    char buf[OID_TEXT_MAX];

    /* First pass: how many items and how many bytes of dotted names. */
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        size_t el_text = 0;
        if (el->kind == AVOW_ELEMENT_UNKNOWN) {
            unk_el++;
            el_text = oid_text(el->oid, buf) + 1;
        }
        for (size_t c = 0; c < el->nclaims; c++) {
            n++;
            text += el_text; /* each item of an unknown element gets its own copy */
            if (!claim_known(&el->claims[c])) {
                unk_cl++;
                text += oid_text(el->claims[c].oid, buf) + 1;
            }
        }
    }
    if (unknown_elements != NULL)
        *unknown_elements = unk_el;
    if (unknown_claims != NULL)
        *unknown_claims = unk_cl;
    if (n == 0)
        return AVOW_OK;

    avow_nclaim *items = OPENSSL_zalloc(n * sizeof(*items) + text);
    if (items == NULL)
        return AVOW_ERR_NOMEM;
    char *strings = (char *)(items + n);
    size_t k = 0;
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            avow_nclaim *it = &items[k++];
            if (el->kind == AVOW_ELEMENT_UNKNOWN) {
                size_t l = oid_text(el->oid, strings);
                it->element = strings;
                strings += l + 1;
            } else {
                it->element = avow_element_name(el->kind);
            }
            it->element_index = e;
            if (claim_known(cl)) {
                it->name = avow_claim_info_get(cl->id)->name;
                it->known = 1;
            } else {
                size_t l = oid_text(cl->oid, strings);
                it->name = strings;
                strings += l + 1;
                it->known = 0;
            }
            it->value = cl->value;
            it->signed_by = signed_by;
        }
    }
    out->items = items;
    out->count = n;
    return AVOW_OK;
}

void avow_claimset_clear(avow_claimset *set)
{
    if (set == NULL)
        return;
    OPENSSL_free(set->items);
    set->items = NULL;
    set->count = 0;
}

const avow_nclaim *avow_claimset_find(const avow_claimset *set, const char *element,
                                      const char *name, const avow_nclaim *after)
{
    if (set == NULL || set->items == NULL)
        return NULL;
    size_t i = 0;
    if (after != NULL) {
        if (after < set->items || after >= set->items + set->count)
            return NULL;
        i = (size_t)(after - set->items) + 1;
    }
    for (; i < set->count; i++) {
        const avow_nclaim *it = &set->items[i];
        if (element != NULL && strcmp(it->element, element) != 0)
            continue;
        if (name != NULL && strcmp(it->name, name) != 0)
            continue;
        return it;
    }
    return NULL;
}
