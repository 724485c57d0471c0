/*
 * avow/claims.h - normalised claims: what every statement type hands to
 * appraisal, whatever the format (PKIX Evidence, TPM, PSA...). Policy and
 * results read these and never the DER, CBOR or JSON they came from.
 *
 * A claim stands in an element (a group of claims about one thing: the
 * platform, one key, the transaction) and may play a role that appraisal
 * needs without knowing the format's names: the nonce that proves
 * freshness, the public key an element describes, a name of that key.
 * Each statement type declares its claims once, in a vocabulary; the
 * policy parser checks rules against the vocabularies of the registered
 * types, and the claims a type produces carry the roles its vocabulary
 * gives them.
 */
#ifndef AVOW_CLAIMS_H
#define AVOW_CLAIMS_H

#include <stddef.h>
#include <stdint.h>

#include <avow/ar4si.h>
#include <avow/claim_value.h>
#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Roles of a claim (avow_nclaim.roles, avow_vocab_claim.roles). */
enum {
    /* The freshness nonce of the statement (at most one per statement). */
    AVOW_ROLE_NONCE = 1u << 0,
    /* The DER SubjectPublicKeyInfo of the key its element describes. */
    AVOW_ROLE_KEY_SPKI = 1u << 1,
    /* A name of the key its element describes (a label, a key id). */
    AVOW_ROLE_KEY_ID = 1u << 2
};

/* Flags of an element kind (avow_vocab_element.flags). */
enum {
    /* The element describes one key: policy rules on it have a scope
     * (the attested key, or every key). */
    AVOW_VOCAB_KEY_ELEMENT = 1u << 0
};

/* One element kind of a vocabulary. */
typedef struct avow_vocab_element {
    const char *name; /* "platform", "key", ... */
    unsigned flags;   /* AVOW_VOCAB_* */
} avow_vocab_element;

/* One claim of a vocabulary. */
typedef struct avow_vocab_claim {
    const char *element; /* name of the element kind it stands in */
    const char *name;    /* short name, unique within the vocabulary */
    avow_cv_type type;
    avow_tv_key vector; /* the trustworthiness-vector key a rule on it speaks for by default */
    unsigned roles;     /* AVOW_ROLE_* */
} avow_vocab_claim;

/*
 * What a statement type can say. `prefix` qualifies names in policies
 * ("pkix:hwmodel"); an unqualified name is looked up in every registered
 * vocabulary.
 */
typedef struct avow_vocabulary {
    const char *prefix;
    size_t nelements;
    const avow_vocab_element *elements;
    size_t nclaims;
    const avow_vocab_claim *claims;
} avow_vocabulary;

/* The element kind called name, or NULL. */
AVOW_EXPORT const avow_vocab_element *avow_vocab_element_find(const avow_vocabulary *v,
                                                              const char *name);
/* The claim called name (in element `element`, or any element when NULL), or NULL. */
AVOW_EXPORT const avow_vocab_claim *avow_vocab_claim_find(const avow_vocabulary *v,
                                                          const char *element, const char *name);

/*
 * The dotted OID naming an unknown element or claim is at most 159 bytes;
 * an OID whose text is longer, or that has an arc of 2^64 or more, is named
 * "(oid too long)" (never a cut text, which could equal another OID's).
 */
typedef struct avow_nclaim {
    const char *element;  /* element kind, or the dotted OID / format tag of an unknown one */
    size_t element_index; /* position of the element in its statement */
    const char *name;     /* claim short name, or the dotted OID of an unknown claim */
    int known;            /* 0 for claims outside the vocabulary (kept, not appraised) */
    unsigned roles;       /* AVOW_ROLE_* from the vocabulary */
    avow_claim_value value;
    uint32_t signed_by; /* bit i set: signature i verified and covers this claim */
} avow_nclaim;

/*
 * A list of claims. The items array is one allocation (OPENSSL_malloc),
 * freed by avow_claimset_clear; strings and values are either static,
 * borrowed from the statement the set was made from, or stored behind the
 * items in the same allocation (avow_claimset_alloc).
 */
typedef struct avow_claimset {
    size_t count;
    avow_nclaim *items;
} avow_claimset;

/*
 * Allocates room for n zeroed items plus `extra` bytes behind them, for
 * strings the items point to; *extra_out (may be NULL) receives that area.
 * Errors: AVOW_ERR_NOMEM, AVOW_ERR_TOO_LARGE.
 */
AVOW_EXPORT avow_err avow_claimset_alloc(avow_claimset *set, size_t n, size_t extra,
                                         char **extra_out);

/* Frees the items array (and what lies behind it). No-op for NULL. */
AVOW_EXPORT void avow_claimset_clear(avow_claimset *set);

/*
 * First claim `name` in an element of kind `element` (NULL = any element),
 * starting after `after` (NULL = from the start). Borrowed; NULL at the end.
 */
AVOW_EXPORT const avow_nclaim *avow_claimset_find(const avow_claimset *set, const char *element,
                                                  const char *name, const avow_nclaim *after);

/* First claim with every role in `roles`, after `after` (NULL = from the start). */
AVOW_EXPORT const avow_nclaim *avow_claimset_find_role(const avow_claimset *set, unsigned roles,
                                                       const avow_nclaim *after);

#ifdef __cplusplus
}
#endif
#endif
