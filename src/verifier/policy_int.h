/*
 * Internal model of a parsed appraisal policy: what policy_parse.c builds
 * and policy.c evaluates. Immutable once parsed.
 */
#ifndef AVOW_POLICY_INT_H
#define AVOW_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <avow/claims.h>
#include <avow/policy.h>
#include <avow/registry.h>

/* Operators a rule may carry (any combination; all must hold). */
enum {
    AVOW__OP_EQUALS = 1u << 0,
    AVOW__OP_IN = 1u << 1,
    AVOW__OP_MIN = 1u << 2,
    AVOW__OP_MAX = 1u << 3,
    AVOW__OP_VERSION = 1u << 4,
    AVOW__OP_PRESENT = 1u << 5
};

/* A literal of the policy document. */
typedef enum avow__lit_kind { AVOW__LIT_BOOL, AVOW__LIT_INT, AVOW__LIT_STR } avow__lit_kind;

typedef struct avow__lit {
    avow__lit_kind kind;
    int64_t i; /* BOOL as 0/1, INT */
    char *s;   /* STR, NUL-terminated, OPENSSL_malloc */
    size_t slen;
} avow__lit;

typedef enum avow__scope { AVOW__SCOPE_ATTESTED_KEY = 0, AVOW__SCOPE_ALL_KEYS } avow__scope;

#define AVOW__VERSION_PARTS 16u

typedef struct avow__rule {
    char *id;
    char *claim;    /* name matched against avow_nclaim.name (a vocabulary name or a dotted OID) */
    char *element;  /* element kind the claim must stand in; NULL = any */
    int known_type; /* 1: type below is the claim's type in its vocabulary */
    avow_cv_type type;
    int key_element;   /* 1: the element kind describes one key (AVOW_VOCAB_KEY_ELEMENT) */
    avow__scope scope; /* for rules on a key element */
    int required;
    int qualified;  /* 1: the claim named its vocabulary ("psa:lifecycle"): see policy.c */
    int when_nonce; /* applies only when a nonce was expected */
    avow_tier tier; /* on failure */
    avow_tv_key vector;
    unsigned ops;
    avow__lit equals;
    avow__lit *in;
    size_t nin;
    int64_t min, max;
    uint32_t version[AVOW__VERSION_PARTS];
    size_t nversion;
    int present; /* for AVOW__OP_PRESENT: 1 must be present, 0 must be absent */
} avow__rule;

struct avow_policy {
    char *name;
    size_t nrules;
    avow__rule *rules;
    int reject_unknown; /* "statements": {"unknown": "reject"} */
    size_t nrequired;   /* "statements": {"required": [...]} */
    char **required;
    size_t nlinked; /* "statements": {"linked": [...]} */
    char **linked;
};

/*
 * Parses a dotted numeric version ("2.6.10", optional leading 'v') into
 * parts; returns 0 when text is not one.
 */
int avow__version_parse(const char *text, size_t len, uint32_t *parts, size_t *nparts);

/*
 * A claim name as a policy writes it, found in the vocabularies of the
 * registered statement types: "psa:lifecycle" in the vocabulary of prefix
 * "psa", a bare "hwmodel" in every vocabulary that has it (in element kind
 * element when not NULL). The appraisal policy's loader and the WIMSE
 * identifier policy's both judge names this way, so one name means one
 * claim in both.
 */
typedef enum avow__claim_lookup {
    AVOW__CLAIM_FOUND = 0,
    AVOW__CLAIM_UNKNOWN,       /* no vocabulary (of the prefix, if any) has it */
    AVOW__CLAIM_NO_VOCABULARY, /* the prefix names no registered vocabulary */
    AVOW__CLAIM_AMBIGUOUS      /* bare, and of different types in two vocabularies */
} avow__claim_lookup;

typedef struct avow__claim_ref {
    const avow_vocabulary *vocab; /* where it was found first */
    const avow_vocab_claim *claim;
    const avow_vocabulary *other; /* AVOW__CLAIM_AMBIGUOUS: the vocabulary that differs */
    const char *name;             /* the name without its prefix: points into the argument */
    int same_element; /* 1: every vocabulary that has it puts it in the same element kind */
    int key_element;  /* 1: ... and that kind describes a key in each of them */
} avow__claim_ref;

/* reg NULL: the built-in types. out is always set (claim NULL unless FOUND). */
avow__claim_lookup avow__claim_find(const avow_registry *reg, const char *qname,
                                    const char *element, avow__claim_ref *out);

/* 1 when name is a dotted OID in canonical form: a claim outside every vocabulary. */
int avow__claim_is_oid(const char *name);

/* The default policy's text, generated from policies/avow-default.json. */
extern const char avow__default_policy_json[];

#endif
