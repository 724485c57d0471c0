/*
 * avow/ar4si.h - the vocabulary of Attestation Results for Secure
 * Interactions (draft-ietf-rats-ar4si): trustworthiness tiers and the keys
 * of the trustworthiness vector. Policy rules speak for a vector key, claim
 * vocabularies name the key a claim informs by default, and the EAR carries
 * both; this header is the one place they are defined.
 */
#ifndef AVOW_AR4SI_H
#define AVOW_AR4SI_H

#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* AR4SI trustworthiness tiers with their numeric values. */
typedef enum avow_tier {
    AVOW_TIER_NONE = 0,
    AVOW_TIER_AFFIRMING = 2,
    AVOW_TIER_WARNING = 32,
    AVOW_TIER_CONTRAINDICATED = 96
} avow_tier;

/* "none", "affirming", "warning", "contraindicated"; NULL for other values. */
AVOW_EXPORT const char *avow_tier_name(avow_tier t);
/* Tier by name; returns AVOW_ERR_ARG when the name is not one of the four. */
AVOW_EXPORT avow_err avow_tier_by_name(const char *name, avow_tier *out);
/* Tier of an AR4SI trustworthiness-claim value (-1..1 none, 2..31 affirming, ...). */
AVOW_EXPORT avow_tier avow_tier_of_value(int value);
/* 1 when a is worse than b (affirming < none < warning < contraindicated). */
AVOW_EXPORT int avow_tier_worse(avow_tier a, avow_tier b);

/* Trustworthiness-vector keys, in the order of the AR4SI CBOR labels. */
typedef enum avow_tv_key {
    AVOW_TV_NONE = -1, /* a rule that speaks for no vector key */
    AVOW_TV_INSTANCE_IDENTITY = 0,
    AVOW_TV_CONFIGURATION,
    AVOW_TV_EXECUTABLES,
    AVOW_TV_FILE_SYSTEM,
    AVOW_TV_HARDWARE,
    AVOW_TV_RUNTIME_OPAQUE,
    AVOW_TV_STORAGE_OPAQUE,
    AVOW_TV_SOURCED_DATA,
    AVOW_TV_COUNT_
} avow_tv_key;

/* JSON name of a vector key ("instance-identity", ...); NULL for NONE and out of range. */
AVOW_EXPORT const char *avow_tv_name(avow_tv_key k);
/* Vector key by JSON name; AVOW_TV_NONE when unknown. */
AVOW_EXPORT avow_tv_key avow_tv_by_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
