/*
 * Normalised claims and vocabularies: the format-neutral pieces that every
 * statement type fills and every appraisal reads.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <avow/claims.h>

#include "core/internal.h"

const char *avow_cv_type_name(avow_cv_type t)
{
    switch (t) {
    case AVOW_CV_BYTES:
        return "bytes";
    case AVOW_CV_TEXT:
        return "text";
    case AVOW_CV_BOOL:
        return "bool";
    case AVOW_CV_INT:
        return "int";
    case AVOW_CV_TIME:
        return "time";
    case AVOW_CV_NAMES:
        return "names";
    case AVOW_CV_OPAQUE:
        return "opaque";
    }
    return NULL;
}

const avow_vocab_element *avow_vocab_element_find(const avow_vocabulary *v, const char *name)
{
    for (size_t i = 0; v != NULL && name != NULL && i < v->nelements; i++)
        if (strcmp(v->elements[i].name, name) == 0)
            return &v->elements[i];
    return NULL;
}

const avow_vocab_claim *avow_vocab_claim_find(const avow_vocabulary *v, const char *element,
                                              const char *name)
{
    for (size_t i = 0; v != NULL && name != NULL && i < v->nclaims; i++) {
        const avow_vocab_claim *c = &v->claims[i];
        if (strcmp(c->name, name) == 0 && (element == NULL || strcmp(c->element, element) == 0))
            return c;
    }
    return NULL;
}

/* A claim set never needs more than this; it keeps n * sizeof + extra far from overflow. */
#define MAX_ITEMS (1u << 20)
#define MAX_EXTRA (64u << 20)

avow_err avow_claimset_alloc(avow_claimset *set, size_t n, size_t extra, char **extra_out)
{
    if (set == NULL)
        return AVOW_ERR_ARG;
    set->count = 0;
    set->items = NULL;
    if (extra_out != NULL)
        *extra_out = NULL;
    if (n > MAX_ITEMS || extra > MAX_EXTRA)
        return AVOW_ERR_TOO_LARGE;
    if (n == 0 && extra == 0)
        return AVOW_OK;
    avow_nclaim *items = OPENSSL_zalloc(n * sizeof(*items) + extra);
    if (items == NULL)
        return AVOW_ERR_NOMEM;
    set->items = items;
    set->count = n;
    if (extra_out != NULL)
        *extra_out = extra > 0 ? (char *)(items + n) : NULL;
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

/* Index after `after`, or count when after is not an item of set. */
static size_t start_after(const avow_claimset *set, const avow_nclaim *after)
{
    if (after == NULL)
        return 0;
    if (after < set->items || after >= set->items + set->count)
        return set->count;
    return (size_t)(after - set->items) + 1;
}

const avow_nclaim *avow_claimset_find(const avow_claimset *set, const char *element,
                                      const char *name, const avow_nclaim *after)
{
    if (set == NULL || set->items == NULL)
        return NULL;
    for (size_t i = start_after(set, after); i < set->count; i++) {
        const avow_nclaim *it = &set->items[i];
        if (element != NULL && strcmp(it->element, element) != 0)
            continue;
        if (name != NULL && strcmp(it->name, name) != 0)
            continue;
        return it;
    }
    return NULL;
}

const avow_nclaim *avow_claimset_find_role(const avow_claimset *set, unsigned roles,
                                           const avow_nclaim *after)
{
    if (set == NULL || set->items == NULL || roles == 0)
        return NULL;
    for (size_t i = start_after(set, after); i < set->count; i++)
        if ((set->items[i].roles & roles) == roles)
            return &set->items[i];
    return NULL;
}
