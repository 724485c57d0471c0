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
 * Writes the name of oid at *at, never past end, and returns it. Sized by
 * name_size, the same rule that sized the allocation, so the bound is only a
 * backstop.
 */
static const char *name_put(avow_view oid, char **at, const char *end)
{
    size_t need = name_size(oid);
    if (need == 0 || (size_t)(end - *at) < need)
        return OID_NAME_LONG;
    char *s = *at;
    avow_oid_to_text(oid.ptr, oid.len, s, need);
    *at += need;
    return s;
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

    /* First pass: how many items and how many bytes of dotted names. The
     * items of one unknown element share its name. */
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        if (el->kind == AVOW_ELEMENT_UNKNOWN) {
            unk_el++;
            if (el->nclaims > 0)
                text += name_size(el->oid);
        }
        for (size_t c = 0; c < el->nclaims; c++) {
            n++;
            if (!claim_known(&el->claims[c])) {
                unk_cl++;
                text += name_size(el->claims[c].oid);
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
    const char *end = strings + text;
    size_t k = 0;
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        const char *element = avow_element_name(el->kind);
        if (el->kind == AVOW_ELEMENT_UNKNOWN && el->nclaims > 0)
            element = name_put(el->oid, &strings, end);
        for (size_t c = 0; c < el->nclaims; c++) {
            const avow_claim *cl = &el->claims[c];
            avow_nclaim *it = &items[k++];
            it->element = element;
            it->element_index = e;
            if (claim_known(cl)) {
                it->name = avow_claim_info_get(cl->id)->name;
                it->known = 1;
            } else {
                it->name = name_put(cl->oid, &strings, end);
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
