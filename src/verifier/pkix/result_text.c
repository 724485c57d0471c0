/*
 * The verification result as text for people: what `avow evidence verify`
 * prints. Everything that comes from the input (claim values and names,
 * certificate names, failure details) goes through the one escaping of
 * core/escape.c, as in avow_evidence_to_text.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <avow/kat.h>

#include "core/escape.h"
#include "core/internal.h"
#include "verifier/verify_int.h"

#define UTF8_SHOWN  200 /* bytes of a text value shown before it is cut */
#define BYTES_SHOWN 32  /* bytes of a binary value shown in hex */

static const char *nonce_text(avow_nonce_state s)
{
    switch (s) {
    case AVOW_NONCE_MATCH:
        return "matches the expected nonce";
    case AVOW_NONCE_MISMATCH:
        return "DIFFERS from the expected nonce";
    case AVOW_NONCE_ABSENT:
        return "absent";
    case AVOW_NONCE_NOT_CHECKED:
        break;
    }
    return "not checked (no expected nonce)";
}

/* The fields of the SignerIdentifier, in the module's order: "key id + certificate". */
static void sid_text(unsigned fields, avow_sid_kind kind, char *buf, size_t n)
{
    static const char *const names[] = {"key id", "public key", "certificate"};
    if (fields == 0)
        fields = AVOW_SID_FIELD(kind);
    buf[0] = '\0';
    size_t used = 0;
    for (int k = AVOW_SID_KEYID; k <= AVOW_SID_CERT; k++) {
        if (!(fields & AVOW_SID_FIELD(k)))
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used > 0 ? " + " : "", names[k]);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

static void put_text(BIO *b, const char *s)
{
    avow__escape_bio(b, (const uint8_t *)s, strlen(s), 0);
}

static void put_name(BIO *b, const char *label, const X509_NAME *n)
{
    char *s = X509_NAME_oneline(n, NULL, 0);
    BIO_puts(b, label);
    put_text(b, s != NULL ? s : "?");
    BIO_puts(b, "\n");
    OPENSSL_free(s);
}

static void put_sig(BIO *b, size_t i, const avow_sig_result *s)
{
    const char *alg = avow_sigalg_name(s->alg);
    BIO_printf(b, "Signature [%lu]: %s", (unsigned long)i, s->status == AVOW_OK ? "OK" : "FAILED");
    if (s->status != AVOW_OK)
        BIO_printf(b, " (%s)", avow_errname(s->status) != NULL ? avow_errname(s->status) : "?");
    char sid[48];
    sid_text(s->sid_fields, s->sid_kind, sid, sizeof(sid));
    BIO_printf(b, "\n    signer: %s, algorithm: %s, key: %s\n", sid,
               alg != NULL ? alg : "unsupported",
               s->key_source != NULL ? s->key_source : "unresolved");
    if (s->cert != NULL)
        put_name(b, "    subject: ", X509_get_subject_name(s->cert));
    for (int j = 1; s->chain != NULL && j < sk_X509_num(s->chain); j++)
        put_name(b, "    chain:   ", X509_get_subject_name(sk_X509_value(s->chain, j)));
    BIO_printf(b, "    ak-spki: %s\n",
               s->ak_spki > 0    ? "signer key listed"
               : s->ak_spki == 0 ? "signer key NOT listed"
                                 : "no ak-spki claim");
    if (s->status != AVOW_OK) {
        BIO_puts(b, "    reason: ");
        put_text(b, s->detail[0] != '\0' ? s->detail : avow_strerror(s->status));
        BIO_puts(b, "\n");
    }
}

static void put_time(BIO *b, time_t t)
{
    struct tm tm;
    if (OPENSSL_gmtime(&t, &tm) == NULL)
        BIO_printf(b, "@%lld", (long long)t);
    else
        BIO_printf(b, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_value(BIO *b, const avow_claim_value *v)
{
    if (!v->present) {
        BIO_puts(b, "(no value)");
        return;
    }
    switch (v->type) {
    case AVOW_CV_TEXT: {
        /* Cut long text between characters, and say it was cut. */
        size_t n = v->bytes.len;
        if (n > UTF8_SHOWN) {
            n = UTF8_SHOWN;
            while (n > 0 && (v->bytes.ptr[n] & 0xc0) == 0x80)
                n--;
        }
        BIO_puts(b, "\"");
        avow__escape_bio(b, v->bytes.ptr, n, AVOW_ESCAPE_QUOTED);
        BIO_puts(b, "\"");
        if (n < v->bytes.len)
            BIO_printf(b, "... (%lu bytes)", (unsigned long)v->bytes.len);
        break;
    }
    case AVOW_CV_BOOL:
        BIO_puts(b, v->integer ? "true" : "false");
        break;
    case AVOW_CV_INT:
        BIO_printf(b, "%lld", (long long)v->integer);
        break;
    case AVOW_CV_TIME:
        put_time(b, (time_t)v->time);
        break;
    case AVOW_CV_NAMES:
        for (size_t i = 0; i < v->nnames; i++) {
            BIO_puts(b, i > 0 ? ", " : "");
            avow__escape_bio(b, (const uint8_t *)v->names[i], strlen(v->names[i]), 0);
        }
        break;
    case AVOW_CV_BYTES:
    case AVOW_CV_OPAQUE:
    default:
        for (size_t i = 0; i < v->bytes.len && i < BYTES_SHOWN; i++)
            BIO_printf(b, "%02x", v->bytes.ptr[i]);
        if (v->bytes.len > BYTES_SHOWN)
            BIO_printf(b, "... (%lu bytes)", (unsigned long)v->bytes.len);
        break;
    }
}

static void put_result(BIO *b, const avow_evidence_result *r)
{
    BIO_printf(b, "Evidence: %s\n", r->trusted ? "TRUSTED" : "NOT TRUSTED");
    if (!r->trusted)
        BIO_printf(b, "Reason: %s (%s)\n", avow_strerror(r->status),
                   avow_errname(r->status) != NULL ? avow_errname(r->status) : "?");
    BIO_printf(b, "Nonce: %s\n", nonce_text(r->nonce));
    if (r->nsigs == 0)
        BIO_puts(b, "Signatures: none (unsigned Evidence is never trusted)\n");
    for (size_t i = 0; i < r->nsigs; i++)
        put_sig(b, i, &r->sigs[i]);
    BIO_printf(b, "Claims (%lu):\n", (unsigned long)r->claims.count);
    for (size_t i = 0; i < r->claims.count; i++) {
        const avow_nclaim *c = &r->claims.items[i];
        BIO_puts(b, "    ");
        put_text(b, c->element);
        BIO_printf(b, "[%lu].", (unsigned long)c->element_index);
        put_text(b, c->name);
        BIO_puts(b, " = ");
        put_value(b, &c->value);
        BIO_puts(b, c->signed_by != 0 ? "" : "  (not covered by a verified signature)");
        /* avow's platform token claim is verified as a statement of its own (the combined form) */
        BIO_puts(b, c->known                                        ? "\n"
                    : strcmp(c->name, AVOW_OID_PLATFORM_TOKEN) == 0 ? "  (platform token: verified "
                                                                      "as a nested statement)\n"
                                                                    : "  (unknown claim, not "
                                                                      "appraised)\n");
    }
    if (r->unknown_elements > 0)
        BIO_printf(b, "Unknown elements: %lu (kept, not appraised)\n",
                   (unsigned long)r->unknown_elements);
}

avow_err avow_evidence_result_to_text(const avow_evidence_result *r, avow_buf *out)
{
    if (out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    if (r == NULL)
        return AVOW_ERR_ARG;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    put_result(b, r);
    avow_err err = avow__text_take(b, out);
    BIO_free(b);
    avow__ossl_clear();
    return err;
}
