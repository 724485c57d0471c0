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

/* The default policy's text, generated from policies/avow-default.json. */
extern const char avow__default_policy_json[];

#endif
