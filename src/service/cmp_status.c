/*
 * A refused certification request as CMP tells it: the PKIFailureInfo bit
 * that fits the avow code, and a text naming the failed checks and rules
 * with their codes, so a client's log says why without the server's.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/cmp.h>

#include <avow/ar4si.h>
#include <avow/bytes.h>
#include <avow/ear.h>

#include "core/internal.h"
#include "service/cmp_int.h"

int avow__cmp_fail_bit(avow_err err)
{
    switch (err) {
    case AVOW_ERR_POP:
        return OSSL_CMP_PKIFAILUREINFO_badPOP;
    case AVOW_ERR_NONCE_EXPIRED:
        return OSSL_CMP_PKIFAILUREINFO_badTime;
    case AVOW_ERR_NONCE_REPLAY:
    case AVOW_ERR_NONCE_UNKNOWN:
    case AVOW_ERR_NONCE_MISSING:
    case AVOW_ERR_NONCE_MISMATCH:
        return OSSL_CMP_PKIFAILUREINFO_badRequest;
    case AVOW_ERR_KEY_BINDING:
    case AVOW_ERR_NO_ATTESTATION:
    case AVOW_ERR_DUP_ATTRIBUTE:
    case AVOW_ERR_BAD_SUBJECT:
    case AVOW_ERR_CA_VALIDITY:
        return OSSL_CMP_PKIFAILUREINFO_badCertTemplate;
    case AVOW_ERR_SIG_ALG:
    case AVOW_ERR_UNSUPPORTED:
        return OSSL_CMP_PKIFAILUREINFO_badAlg;
    case AVOW_ERR_UNSIGNED:
    case AVOW_ERR_SIG_INVALID:
    case AVOW_ERR_ALG_MISMATCH:
    case AVOW_ERR_KEY_UNKNOWN:
    case AVOW_ERR_CHAIN:
    case AVOW_ERR_AK_EKU:
    case AVOW_ERR_AK_KU:
    case AVOW_ERR_AK_SPKI:
    case AVOW_ERR_AK_CA:
    case AVOW_ERR_UNTRUSTED:
    case AVOW_ERR_POLICY:
    case AVOW_ERR_NOT_AFFIRMING:
        return OSSL_CMP_PKIFAILUREINFO_notAuthorized;
    case AVOW_ERR_NONCE_LIMIT:
    case AVOW_ERR_STORE:
    case AVOW_ERR_STORE_BUSY:
    case AVOW_ERR_CA_EXPIRED:
        return OSSL_CMP_PKIFAILUREINFO_systemUnavail;
    case AVOW_ERR_NOMEM:
    case AVOW_ERR_IO:
    case AVOW_ERR_CRYPTO:
    case AVOW_ERR_PKCS11:
    case AVOW_ERR_PIN:
    case AVOW_ERR_STATE:
    case AVOW_ERR_INTERNAL:
    case AVOW_ERR_CONFIG:
    case AVOW_ERR_CMP:
        return OSSL_CMP_PKIFAILUREINFO_systemFailure;
    default:
        /* What is left is the request's own encoding: ASN.1, claims, statement types. */
        return OSSL_CMP_PKIFAILUREINFO_badDataFormat;
    }
}

/* Appends text to buf at *at; stops at cap - 1. */
static void put(char *buf, size_t cap, size_t *at, const char *text)
{
    size_t n = strlen(text);
    if (*at + 1 >= cap)
        return;
    if (n > cap - 1 - *at)
        n = cap - 1 - *at;
    memcpy(buf + *at, text, n);
    *at += n;
    buf[*at] = '\0';
}

/* The reasons that cost the EAR its affirming tier, worst tier first. */
static avow_err ear_text(const avow_ear *ear, char *raw, size_t cap, size_t *at)
{
    avow_err worst_code = AVOW_ERR_NOT_AFFIRMING;
    avow_tier worst = AVOW_TIER_NONE;
    for (avow_tier t = AVOW_TIER_CONTRAINDICATED;; t = AVOW_TIER_WARNING) {
        for (size_t i = 0; i < ear->nsubmods; i++)
            for (size_t j = 0; j < ear->submods[i].nreasons; j++) {
                const avow_ear_reason *r = &ear->submods[i].reasons[j];
                if (r->tier != t)
                    continue;
                if (worst == AVOW_TIER_NONE) {
                    worst = t;
                    worst_code = r->code;
                }
                char one[384];
                const char *name = avow_errname(r->code);
                snprintf(one, sizeof(one), "; %s %s %s%s%s", r->is_rule ? "rule" : "check", r->name,
                         name != NULL ? name : "?", r->detail[0] != '\0' ? ": " : "", r->detail);
                put(raw, cap, at, one);
            }
        if (t == AVOW_TIER_WARNING)
            break;
    }
    return worst_code;
}

avow_err avow__cmp_refusal_text(avow_err err, const avow_appraisal *ap, const avow_diag *d,
                                char *buf, size_t cap)
{
    char raw[1024];
    size_t at = 0;
    raw[0] = '\0';
    avow_err code = err;
    const avow_ear *ear = ap != NULL ? avow_appraisal_get0_ear(ap) : NULL;
    if (err == AVOW_ERR_NOT_AFFIRMING && ear != NULL) {
        const char *tier = avow_tier_name(avow_appraisal_tier(ap));
        put(raw, sizeof(raw), &at, "attestation result ");
        put(raw, sizeof(raw), &at, tier != NULL ? tier : "not affirming");
        code = ear_text(ear, raw, sizeof(raw), &at);
    } else {
        const char *name = avow_errname(err);
        snprintf(raw, sizeof(raw), "%s: %s%s%s%s%s", name != NULL ? name : "?", avow_strerror(err),
                 d != NULL && d->field[0] != '\0' ? ": " : "", d != NULL ? d->field : "",
                 d != NULL && d->detail[0] != '\0' ? ": " : "", d != NULL ? d->detail : "");
    }
    /* PKIFreeText is UTF8String and lands in logs: escape what the request put in it. */
    avow_buf esc = {0};
    if (avow_escape_text((const uint8_t *)raw, strlen(raw), 0, &esc) == AVOW_OK &&
        esc.ptr != NULL) {
        size_t n = esc.len < cap - 1 ? esc.len : cap - 1;
        while (n > 0 && n < esc.len && (esc.ptr[n] & 0xC0) == 0x80)
            n--; /* do not cut a UTF-8 sequence */
        memcpy(buf, esc.ptr, n);
        buf[n] = '\0';
    } else {
        avow__strlcpy(buf, "request refused", cap);
    }
    avow_buf_free(&esc);
    return code;
}
