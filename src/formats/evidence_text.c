/*
 * avow_evidence_to_text: a human dump in the manner of `openssl x509 -text`.
 * Written through a memory BIO so certificate names and times come from the
 * same OpenSSL printers users already know.
 */
#include <inttypes.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include <avow/evidence.h>

#include "core/escape.h"
#include "core/internal.h"
#include "formats/evidence_int.h"
#include "formats/show_util.h"

#define HEX_PER_LINE 32

static void put_hex(BIO *b, const uint8_t *p, size_t len, int indent)
{
    if (len == 0) {
        BIO_puts(b, "(empty)");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && i % HEX_PER_LINE == 0)
            BIO_printf(b, "\n%*s", indent, "");
        BIO_printf(b, "%02x", p[i]);
    }
}

/* Claims come from the attester: one escaping for every text view (core/escape.c). */
static void put_quoted(BIO *b, const uint8_t *p, size_t len)
{
    BIO_puts(b, "\"");
    avow__escape_bio(b, p, len, AVOW_ESCAPE_QUOTED);
    BIO_puts(b, "\"");
}

/* A line "<pad><label>: <name>" with the name escaped: certificates come from the input too. */
static void put_name(BIO *b, const char *pad, const char *label, const X509_NAME *n)
{
    char name[512];
    avow__show_name(n, name, sizeof(name));
    BIO_printf(b, "%s%s: ", pad, label);
    avow__escape_bio(b, (const uint8_t *)name, strlen(name), 0);
    BIO_puts(b, "\n");
}

static void put_purposes(BIO *b, const avow_value *v)
{
    for (size_t i = 0; i < v->npurposes; i++) {
        const avow_purpose *pu = &v->purposes[i];
        const char *name = avow_capability_name(pu->cap);
        char oid[128];
        if (i > 0)
            BIO_puts(b, ", ");
        if (name != NULL) {
            BIO_puts(b, name);
        } else {
            avow_oid_to_text(pu->oid.ptr, pu->oid.len, oid, sizeof(oid));
            BIO_puts(b, oid);
        }
    }
    if (v->npurposes == 0)
        BIO_puts(b, "(none)");
}

static void put_value(BIO *b, const avow_claim *c, int indent)
{
    const avow_value *v = &c->value;
    char tmp[96];
    if (!v->present) {
        BIO_puts(b, "(no value)");
        return;
    }
    switch (v->type) {
    case AVOW_VALUE_BYTES:
        if (c->id == AVOW_CLAIM_AK_SPKI || c->id == AVOW_CLAIM_KEY_SPKI) {
            avow__show_spki(v->bytes.ptr, v->bytes.len, tmp, sizeof(tmp));
            BIO_printf(b, "%s, %lu bytes\n%*s", tmp, (unsigned long)v->bytes.len, indent, "");
            put_hex(b, v->bytes.ptr, v->bytes.len, indent);
        } else {
            put_hex(b, v->bytes.ptr, v->bytes.len, indent);
            if (avow__show_printable(v->bytes.ptr, v->bytes.len)) {
                BIO_puts(b, " (");
                put_quoted(b, v->bytes.ptr, v->bytes.len);
                BIO_puts(b, ")");
            }
        }
        break;
    case AVOW_VALUE_UTF8:
        put_quoted(b, v->bytes.ptr, v->bytes.len);
        break;
    case AVOW_VALUE_BOOL:
        BIO_puts(b, v->integer ? "true" : "false");
        break;
    case AVOW_VALUE_INT:
        BIO_printf(b, "%lld", (long long)v->integer);
        break;
    case AVOW_VALUE_TIME:
        avow__show_rfc3339(v->time, tmp, sizeof(tmp));
        BIO_puts(b, tmp);
        break;
    case AVOW_VALUE_OIDS:
        put_purposes(b, v);
        break;
    case AVOW_VALUE_RAW:
    default:
        BIO_puts(b, "DER ");
        put_hex(b, v->bytes.ptr, v->bytes.len, indent);
        break;
    }
}

static void put_element(BIO *b, const avow_element *el, size_t index)
{
    char oid[128];
    avow_oid_to_text(el->oid.ptr, el->oid.len, oid, sizeof(oid));
    BIO_printf(b, "        [%lu] %s (%s)\n", (unsigned long)index, avow_element_name(el->kind),
               oid);
    for (size_t i = 0; i < el->nclaims; i++) {
        const avow_claim *c = &el->claims[i];
        const avow_claim_info *info = avow_claim_info_get(c->id);
        avow_oid_to_text(c->oid.ptr, c->oid.len, oid, sizeof(oid));
        /* avow's own claim (the combined form) is no claim of the draft, but avow reads it */
        const char *name = info != NULL                          ? info->name
                           : avow__evidence_is_platform_token(c) ? "platform-token (avow)"
                                                                 : "unknown claim";
        BIO_printf(b, "            %s (%s) %s: ", name, oid, avow__show_asn1_name(c->value.type));
        put_value(b, c, 16);
        BIO_puts(b, "\n");
    }
}

static void put_cert(BIO *b, X509 *x, const char *pad)
{
    char name[512], nb[32], na[32], key[96];
    put_name(b, pad, "Subject", X509_get_subject_name(x));
    put_name(b, pad, "Issuer", X509_get_issuer_name(x));
    avow__show_serial(x, name, sizeof(name));
    BIO_printf(b, "%sSerial: %s\n", pad, name);
    avow__show_validity(x, nb, sizeof(nb), na, sizeof(na));
    BIO_printf(b, "%sValidity: %s to %s\n", pad, nb, na);
    avow__show_cert_key(x, key, sizeof(key));
    BIO_printf(b, "%sKey: %s\n", pad, key);
    avow__ossl_clear();
}

static void put_signature(BIO *b, const avow_evidence *ev, size_t index)
{
    const avow_signature_block *s = avow_evidence_get0_signature(ev, index);
    char name[64], oid[128], key[96];
    BIO_printf(b, "        [%lu] Signer: ", (unsigned long)index);
    /* Every field present, in the module's order; one field reads as it always did. */
    const char *sep = "";
    if (s->sid_fields & AVOW_SID_HAS_KEYID) {
        BIO_puts(b, "key id ");
        put_hex(b, s->key_id.ptr, s->key_id.len, 20);
        sep = ", ";
    }
    if (s->sid_fields & AVOW_SID_HAS_SPKI) {
        avow__show_spki(s->spki.ptr, s->spki.len, key, sizeof(key));
        BIO_printf(b, "%spublic key %s", sep, key);
        sep = ", ";
    }
    if (s->sid_fields & AVOW_SID_HAS_CERT)
        BIO_printf(b, "%scertificate", sep);
    BIO_puts(b, "\n");
    X509 *cert = avow_evidence_get0_signer_cert(ev, index);
    if (cert != NULL)
        put_cert(b, cert, "                ");
    avow__show_sigalg(s->algorithm, name, sizeof(name), oid, sizeof(oid));
    BIO_printf(b, "            Algorithm: %s (%s)\n", name, oid);
    BIO_printf(b, "            Signature: %lu bytes\n", (unsigned long)s->value.len);
}

avow_err avow_evidence_to_text(const avow_evidence *ev, avow_buf *out)
{
    if (ev == NULL || out == NULL)
        return AVOW_ERR_ARG;
    out->ptr = NULL;
    out->len = 0;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;

    size_t nel = avow_evidence_element_count(ev);
    BIO_printf(b, "PKIX Evidence:\n    Version: %lld\n", (long long)avow_evidence_version(ev));
    BIO_printf(b, "    Reported elements: %lu\n", (unsigned long)nel);
    for (size_t i = 0; i < nel; i++)
        put_element(b, avow_evidence_get0_element(ev, i), i);

    size_t nsig = avow_evidence_signature_count(ev);
    BIO_printf(b, "    Signatures: %lu%s\n", (unsigned long)nsig, nsig == 0 ? " (unsigned)" : "");
    for (size_t i = 0; i < nsig; i++)
        put_signature(b, ev, i);

    STACK_OF(X509) *inter = avow_evidence_get0_intermediates(ev);
    int ninter = inter != NULL ? sk_X509_num(inter) : 0;
    if (ninter > 0) {
        BIO_printf(b, "    Intermediate certificates: %d\n", ninter);
        for (int i = 0; i < ninter; i++) {
            BIO_printf(b, "        [%d]\n", i);
            put_cert(b, sk_X509_value(inter, i), "            ");
        }
    }

    avow_err err = avow__text_take(b, out);
    BIO_free(b);
    avow__ossl_clear();
    return err;
}
