/*
 * The registry row of the Key Attestation Token (draft-bft-rats-kat-06):
 * decoded by formats/kat.c, its COSE_Sign1 verified with the kak-pub it
 * carries. That proves only that the KAT is whole: the KAK is trusted
 * through a platform token whose nonce is the KAK's hash, which the
 * registry's second pass finds (AVOW_LINK_NEEDS_PLATFORM), so a KAT alone
 * never verifies. Claims are `kat:*`; the attested key (cnf) plays the key
 * role, so a CSR's key binds to it.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/kat.h>

#include "core/internal.h"
#include "core/escape.h"
#include "core/json.h"
#include "formats/kat_int.h"
#include "verifier/registry_int.h"

typedef struct kat_verified {
    avow_err status;
    char detail[160];
} kat_verified;

static avow_err kat_decode(const avow_statement_type *row, const avow_profile *profile,
                           const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row, (void)profile;
    avow__kat *k = NULL;
    avow_err rc = avow__kat_decode(stmt, len, &k, diag);
    *native = k;
    return rc;
}

static avow_err kat_verify(const avow_statement_type *row, const avow_verifier *v,
                           const void *native, const avow_verify_opts *opts, void **verified,
                           avow_diag *diag)
{
    (void)row, (void)v, (void)opts;
    const avow__kat *k = native;
    kat_verified *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "kat", "out of memory");
    *verified = r;
    r->status = avow_cose_verify_sign1(k->cose, k->kak.pub, NULL, 0, diag);
    if (r->status != AVOW_OK && diag != NULL)
        snprintf(r->detail, sizeof(r->detail), "%.60s: %.90s", diag->field, diag->detail);
    return r->status;
}

static const avow_vocab_element KAT_ELEMENTS[] = {
    {"token", 0},
    {"key", AVOW_VOCAB_KEY_ELEMENT},
};

static const avow_vocab_claim KAT_CLAIMS[] = {
    {"token", "nonce", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, AVOW_ROLE_NONCE},
    {"token", "kak-spki", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, 0},
    {"key", "spki", AVOW_CV_BYTES, AVOW_TV_NONE, AVOW_ROLE_KEY_SPKI},
    {"key", "cose-key", AVOW_CV_BYTES, AVOW_TV_NONE, 0},
};

static const avow_vocabulary KAT_VOCAB = {"kat", 2, KAT_ELEMENTS,
                                          sizeof(KAT_CLAIMS) / sizeof(KAT_CLAIMS[0]), KAT_CLAIMS};

static avow_err kat_claims(const avow_statement_type *row, const void *native, const void *verified,
                           avow_claimset *out)
{
    (void)row;
    const avow__kat *k = native;
    const kat_verified *r = verified;
    uint32_t sb = r != NULL && r->status == AVOW_OK ? 1u : 0u;
    avow_err rc = avow_claimset_alloc(out, 4, 0, NULL);
    if (rc != AVOW_OK)
        return rc;
    avow_view v[4] = {k->nonce,
                      {k->kak.spki.ptr, k->kak.spki.len},
                      {k->ik.spki.ptr, k->ik.spki.len},
                      {k->ik.enc.ptr, k->ik.enc.len}};
    for (size_t i = 0; i < 4; i++) {
        avow_nclaim *c = &out->items[i];
        c->element = KAT_CLAIMS[i].element;
        c->element_index = i < 2 ? 0 : 1;
        c->name = KAT_CLAIMS[i].name;
        c->known = 1;
        c->roles = KAT_CLAIMS[i].roles;
        c->value.type = AVOW_CV_BYTES;
        c->value.present = 1;
        c->value.bytes = v[i];
        c->signed_by = sb;
    }
    out->count = 4;
    return AVOW_OK;
}

/* The KAK that signs the KAT; the attested key as the KAT encodes it. */
static int kat_link_keys(const avow_statement_type *row, const void *native, const void *verified,
                         size_t i, avow_link_key *out)
{
    (void)row, (void)verified;
    const avow__kat *k = native;
    if (i > 1)
        return 0;
    memset(out, 0, sizeof(*out));
    out->role = i == 0 ? AVOW_LINK_SIGNER : AVOW_LINK_ATTESTED;
    const avow_buf *b = i == 0 ? &k->kak.enc : &k->ik.enc;
    out->encoding.ptr = b->ptr;
    out->encoding.len = b->len;
    out->form = "cose-key";
    return 1;
}

static const char *key_name(const avow__cose_key *c)
{
    return c->kty == 1 ? "Ed25519" : c->crv == 1 ? "P-256" : c->crv == 2 ? "P-384" : "P-521";
}

static void hex(BIO *b, const char *label, const uint8_t *p, size_t n)
{
    BIO_printf(b, "    %s: ", label);
    for (size_t i = 0; i < n; i++)
        BIO_printf(b, "%02x", p[i]);
    BIO_printf(b, "\n");
}

static avow_err kat_text(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row;
    const avow__kat *k = native;
    const kat_verified *r = verified;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    int64_t alg = avow_cose_msg_alg(k->cose);
    const char *an = avow_cose_alg_name(alg);
    uint8_t h[32];
    BIO_printf(b, "Key attestation token (draft-bft-rats-kat):\n");
    BIO_printf(b, "  Envelope: COSE_Sign1, alg %s (%lld)\n", an != NULL ? an : "unknown",
               (long long)alg);
    if (r != NULL)
        BIO_printf(b, "  Signature by kak-pub: %s%s%s\n",
                   r->status == AVOW_OK ? "valid" : "invalid", r->status == AVOW_OK ? "" : ": ",
                   r->detail);
    BIO_printf(b, "  Claims:\n");
    hex(b, "nonce", k->nonce.ptr, k->nonce.len);
    BIO_printf(b, "    attested key (cnf): %s\n", key_name(&k->ik));
    hex(b, "  COSE_Key", k->ik.enc.ptr, k->ik.enc.len);
    BIO_printf(b, "    key attestation key (kak-pub): %s\n", key_name(&k->kak));
    hex(b, "  COSE_Key", k->kak.enc.ptr, k->kak.enc.len);
    if (avow_kat_link_nonce(k->kak.enc.ptr, k->kak.enc.len, 32, h) == AVOW_OK)
        hex(b, "  link (SHA-256, the PAT's nonce)", h, 32);
    if (k->nunknown > 0)
        BIO_printf(b, "    unknown claims (ignored): %zu\n", k->nunknown);
    avow_err rc = avow__text_take(b, out);
    BIO_free(b);
    return rc;
}

static avow_err kat_json(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row;
    const avow__kat *k = native;
    const kat_verified *r = verified;
    int bad = 0;
    json_t *o = json_object(), *c = json_object();
    if (o == NULL || c == NULL) {
        json_decref(o), json_decref(c);
        return AVOW_ERR_NOMEM;
    }
    uint8_t h[32];
    int64_t alg = avow_cose_msg_alg(k->cose);
    avow__json_put(o, "type", json_string(AVOW_KAT_ROW_NAME), &bad);
    avow__json_put(o, "alg", json_integer((json_int_t)alg), &bad);
    if (r != NULL) {
        avow__json_put(o, "signature", avow__json_errname(r->status), &bad);
        if (r->status != AVOW_OK)
            avow__json_put(o, "detail", avow__json_text(r->detail), &bad);
    }
    avow__json_put(c, "nonce", avow__json_hex(k->nonce.ptr, k->nonce.len), &bad);
    avow__json_put(c, "cnf", avow__json_hex(k->ik.enc.ptr, k->ik.enc.len), &bad);
    avow__json_put(c, "kak_pub", avow__json_hex(k->kak.enc.ptr, k->kak.enc.len), &bad);
    avow__json_put(o, "claims", c, &bad);
    if (avow_kat_link_nonce(k->kak.enc.ptr, k->kak.enc.len, 32, h) == AVOW_OK)
        avow__json_put(o, "link_sha256", avow__json_hex(h, 32), &bad);
    avow__json_put(o, "unknown_claims", json_integer((json_int_t)k->nunknown), &bad);
    avow_err rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2), 1, out);
    json_decref(o);
    return rc;
}

static void kat_free(const avow_statement_type *row, void *native, void *verified)
{
    (void)row;
    avow__kat_free(native);
    OPENSSL_free(verified);
}

/* DER content octets of AVOW_OID_KAT (1.3.6.1.4.1.99999.9783.2). */
const avow_statement_type avow__kat_row = {
    sizeof(avow_statement_type),
    AVOW_KAT_ROW_NAME,
    AVOW_TYPE_OID_FIXED,
    {11, "\x2b\x06\x01\x04\x01\x86\x8d\x1f\xcc\x37\x02"},
    &KAT_VOCAB,
    "avow_kat",
    "avow_kat_verified",
    kat_decode,
    kat_verify,
    kat_claims,
    kat_text,
    kat_json,
    kat_free,
    NULL,
    kat_link_keys,
    AVOW_LINK_NEEDS_PLATFORM,
    NULL,
};
