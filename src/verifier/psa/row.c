/*
 * The registry row of the PSA attestation token (RFC 9783): decoded by
 * formats/psa.c, verified with the IAK the verifier holds for the token's
 * instance id (a public key for COSE_Sign1, a secret for COSE_Mac0, never
 * the other way round), and turned into `psa:*` claims whose nonce plays
 * the nonce role, so freshness and policy work through appraisal.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <avow/psa.h>

#include "core/escape.h"
#include "core/internal.h"
#include "core/json.h"
#include "core/x509_int.h"
#include "formats/psa_int.h"
#include "verifier/registry_int.h"
#include "verifier/verify_int.h"

/* What verify learnt. */
typedef struct psa_verified {
    avow_err status;
    const char *key_source; /* NULL when no key was found */
    char detail[160];
} psa_verified;

/* An uncompressed point: 0x04 || x || y of P-256, P-384 or P-521. */
static int ec_point(const uint8_t *bits, size_t n)
{
    return (n == 65 || n == 97 || n == 133) && bits[0] == 0x04;
}

/* 0x01 || SHA-256(uncompressed point) from the bits of an EC SubjectPublicKeyInfo. */
static int derived_id(const uint8_t *spki, size_t len, uint8_t out[AVOW_PSA_INSTANCE_ID_LEN])
{
    const uint8_t *bits;
    size_t n;
    if (!avow__spki_bits(spki, len, &bits, &n) || !ec_point(bits, n))
        return 0;
    out[0] = 0x01;
    if (SHA256(bits, n, out + 1) == NULL) {
        avow__ossl_clear();
        return 0;
    }
    return 1;
}

avow_err avow_psa_instance_id_of_key(const EVP_PKEY *pub, uint8_t out[AVOW_PSA_INSTANCE_ID_LEN])
{
    if (pub == NULL || out == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC)
        return AVOW_ERR_ARG;
    uint8_t *der = NULL;
    int n = i2d_PUBKEY((EVP_PKEY *)pub, &der);
    if (n <= 0) {
        avow__ossl_clear();
        return AVOW_ERR_CRYPTO;
    }
    int ok = derived_id(der, (size_t)n, out);
    OPENSSL_free(der);
    return ok ? AVOW_OK : AVOW_ERR_CRYPTO;
}

static avow_err psa_decode(const avow_statement_type *row, const avow_profile *profile,
                           const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row, (void)profile;
    avow__psa *t = NULL;
    avow_err rc = avow__psa_decode(stmt, len, &t, diag);
    *native = t;
    return rc;
}

/* The public IAK for an instance id: the explicit key id first, then the derived one. */
static const avow__vkey *find_iak(const avow_verifier *v, avow_view id, const char **source)
{
    for (size_t i = 0; i < v->nkeys; i++)
        if (v->keys[i].id != NULL && v->keys[i].id_len == id.len &&
            memcmp(v->keys[i].id, id.ptr, id.len) == 0) {
            *source = "key set (instance id)";
            return &v->keys[i];
        }
    if (id.len != AVOW_PSA_INSTANCE_ID_LEN || id.ptr[0] != 0x01)
        return NULL;
    for (size_t i = 0; i < v->nkeys; i++) {
        /* TF-M's derivation over an uncompressed EC point; the hash was made when added. */
        const uint8_t *bits;
        size_t n;
        if (avow__spki_bits(v->keys[i].spki, v->keys[i].spki_len, &bits, &n) && ec_point(bits, n) &&
            memcmp(v->keys[i].bits_sha256, id.ptr + 1, AVOW__SHA256_LEN) == 0) {
            *source = "key set (instance id derived from the key)";
            return &v->keys[i];
        }
    }
    return NULL;
}

static avow_err psa_verify(const avow_statement_type *row, const avow_verifier *v,
                           const void *native, const avow_verify_opts *opts, void **verified,
                           avow_diag *diag)
{
    (void)row, (void)opts;
    const avow__psa *t = native;
    psa_verified *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "psa", "out of memory");
    *verified = r;
    avow_err rc;
    const avow__vsecret *sec = avow__verifier_secret(v, t->instance_id.ptr, t->instance_id.len);
    const char *src = NULL;
    const avow__vkey *k = find_iak(v, t->instance_id, &src);
    if (avow_cose_msg_kind(t->cose) == AVOW_COSE_MAC0) {
        if (sec != NULL) {
            r->key_source = "secret (instance id)";
            rc = avow_cose_verify_mac0(t->cose, sec->key, sec->key_len, NULL, 0, diag);
        } else if (k != NULL) {
            /* A MAC made with a public key as its secret would verify for anyone. */
            rc = avow__fail(diag, AVOW_ERR_COSE_ALG, "psa.cose.protected.alg",
                            "a COSE_Mac0 for an instance id whose IAK is a public key");
        } else {
            rc = avow__fail(diag, AVOW_ERR_KEY_UNKNOWN, "psa.instance_id",
                            "no symmetric IAK for this instance id");
        }
    } else if (k != NULL) {
        r->key_source = src;
        rc = avow_cose_verify_sign1(t->cose, k->pub, NULL, 0, diag);
    } else if (sec != NULL) {
        rc = avow__fail(diag, AVOW_ERR_COSE_ALG, "psa.cose.protected.alg",
                        "a COSE_Sign1 for an instance id whose IAK is a secret");
    } else {
        rc = avow__fail(diag, AVOW_ERR_KEY_UNKNOWN, "psa.instance_id",
                        "no IAK for this instance id");
    }
    r->status = rc;
    if (rc != AVOW_OK && diag != NULL) {
        /* The field and as much of the detail as fits. */
        size_t n = strlen(diag->field);
        if (n > sizeof(r->detail) - 3)
            n = sizeof(r->detail) - 3;
        memcpy(r->detail, diag->field, n);
        memcpy(r->detail + n, ": ", 2);
        size_t m = strnlen(diag->detail, sizeof(diag->detail));
        if (m > sizeof(r->detail) - n - 3)
            m = sizeof(r->detail) - n - 3;
        memcpy(r->detail + n + 2, diag->detail, m);
        r->detail[n + 2 + m] = '\0';
    }
    return rc;
}

static const avow_vocab_element PSA_ELEMENTS[] = {
    {"platform", 0},
    {"sw-component", 0},
};

/* The order of the claims below is the order to_claims writes them in. */
static const avow_vocab_claim PSA_CLAIMS[] = {
    {"platform", "profile", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    {"platform", "client-id", AVOW_CV_INT, AVOW_TV_NONE, 0},
    {"platform", "security-lifecycle", AVOW_CV_INT, AVOW_TV_INSTANCE_IDENTITY, 0},
    {"platform", "lifecycle", AVOW_CV_TEXT, AVOW_TV_INSTANCE_IDENTITY, 0},
    {"platform", "implementation-id", AVOW_CV_BYTES, AVOW_TV_HARDWARE, 0},
    {"platform", "boot-seed", AVOW_CV_BYTES, AVOW_TV_NONE, 0},
    {"platform", "certification-reference", AVOW_CV_TEXT, AVOW_TV_HARDWARE, 0},
    {"platform", "nonce", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, AVOW_ROLE_NONCE},
    {"platform", "instance-id", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, 0},
    {"platform", "verification-service", AVOW_CV_TEXT, AVOW_TV_NONE, 0},
    {"platform", "no-sw-measurements", AVOW_CV_BOOL, AVOW_TV_EXECUTABLES, 0},
    {"sw-component", "measurement-type", AVOW_CV_TEXT, AVOW_TV_EXECUTABLES, 0},
    {"sw-component", "measurement-value", AVOW_CV_BYTES, AVOW_TV_EXECUTABLES, 0},
    {"sw-component", "version", AVOW_CV_TEXT, AVOW_TV_EXECUTABLES, 0},
    {"sw-component", "signer-id", AVOW_CV_BYTES, AVOW_TV_EXECUTABLES, 0},
    {"sw-component", "measurement-desc", AVOW_CV_TEXT, AVOW_TV_EXECUTABLES, 0},
};
#define NPLATFORM 11u
#define NSWCLAIMS 5u

static const avow_vocabulary PSA_VOCAB = {"psa", 2, PSA_ELEMENTS,
                                          sizeof(PSA_CLAIMS) / sizeof(PSA_CLAIMS[0]), PSA_CLAIMS};

static void put(avow_claimset *out, size_t idx, size_t el, uint32_t sb, avow_view bytes,
                int64_t integer)
{
    avow_nclaim *c = &out->items[out->count++];
    const avow_vocab_claim *vc = &PSA_CLAIMS[idx];
    c->element = vc->element;
    c->element_index = el;
    c->name = vc->name;
    c->known = 1;
    c->roles = vc->roles;
    c->value.type = vc->type;
    c->value.present = 1;
    c->value.bytes = bytes;
    c->value.integer = integer;
    c->signed_by = sb;
}

static avow_view cstr(const char *s)
{
    avow_view v = {(const uint8_t *)s, strlen(s)};
    return v;
}

static avow_err psa_claims(const avow_statement_type *row, const void *native, const void *verified,
                           avow_claimset *out)
{
    (void)row;
    const avow__psa *t = native;
    const psa_verified *r = verified;
    uint32_t sb = r != NULL && r->status == AVOW_OK ? 1u : 0u;
    avow_err rc = avow_claimset_alloc(out, NPLATFORM + NSWCLAIMS * t->nsw, 0, NULL);
    if (rc != AVOW_OK)
        return rc;
    avow_view none = {NULL, 0};
    out->count = 0;
    put(out, 0, 0, sb,
        t->profile_name.ptr != NULL ? t->profile_name : cstr(avow__psa_profile_name(t->profile)),
        0);
    put(out, 1, 0, sb, none, t->client_id);
    put(out, 2, 0, sb, none, t->lifecycle);
    put(out, 3, 0, sb, cstr(avow__psa_lifecycle_name(t->lifecycle)), 0);
    put(out, 4, 0, sb, t->implementation_id, 0);
    if (t->boot_seed.ptr != NULL)
        put(out, 5, 0, sb, t->boot_seed, 0);
    if (t->cert_ref.ptr != NULL)
        put(out, 6, 0, sb, t->cert_ref, 0);
    put(out, 7, 0, sb, t->nonce, 0);
    put(out, 8, 0, sb, t->instance_id, 0);
    if (t->vsi.ptr != NULL)
        put(out, 9, 0, sb, t->vsi, 0);
    if (t->no_sw_measurements)
        put(out, 10, 0, sb, none, 1);
    for (size_t i = 0; i < t->nsw; i++) {
        const avow__psa_sw *c = &t->sw[i];
        const avow_view *f[NSWCLAIMS] = {&c->type, &c->value, &c->version, &c->signer_id, &c->desc};
        for (size_t j = 0; j < NSWCLAIMS; j++)
            if (f[j]->ptr != NULL)
                put(out, NPLATFORM + j, 1 + i, sb, *f[j], 0);
    }
    return AVOW_OK;
}

static void text_hex(BIO *b, const char *label, avow_view v)
{
    BIO_printf(b, "    %s: ", label);
    for (size_t i = 0; i < v.len; i++)
        BIO_printf(b, "%02x", v.ptr[i]);
    BIO_printf(b, "\n");
}

static void text_str(BIO *b, const char *label, avow_view v)
{
    BIO_printf(b, "    %s: \"", label);
    avow__escape_bio(b, v.ptr, v.len, AVOW_ESCAPE_QUOTED);
    BIO_printf(b, "\"\n");
}

static avow_err psa_text(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row;
    const avow__psa *t = native;
    const psa_verified *r = verified;
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return AVOW_ERR_NOMEM;
    int64_t alg = avow_cose_msg_alg(t->cose);
    const char *an = avow_cose_alg_name(alg);
    BIO_printf(b, "PSA attestation token (RFC 9783):\n");
    BIO_printf(b, "  Envelope: COSE_%s, alg %s (%lld)\n",
               avow_cose_msg_kind(t->cose) == AVOW_COSE_SIGN1 ? "Sign1" : "Mac0",
               an != NULL ? an : "unknown", (long long)alg);
    if (r != NULL) {
        if (r->status == AVOW_OK)
            BIO_printf(b, "  Verified: yes, IAK from the %s\n", r->key_source);
        else {
            BIO_printf(b, "  Verified: no (%s): ", avow_errname(r->status));
            avow__escape_bio(b, (const uint8_t *)r->detail, strlen(r->detail), 0);
            BIO_printf(b, "\n");
        }
    }
    BIO_printf(b, "  Claims:\n");
    BIO_printf(b, "    profile: %s\n", avow__psa_profile_name(t->profile));
    BIO_printf(b, "    client id: %lld (%s)\n", (long long)t->client_id,
               t->client_id < 0 ? "non-secure" : "secure");
    BIO_printf(b, "    security lifecycle: 0x%04llx (%s)\n", (unsigned long long)t->lifecycle,
               avow__psa_lifecycle_name(t->lifecycle));
    text_hex(b, "implementation id", t->implementation_id);
    text_hex(b, "instance id", t->instance_id);
    text_hex(b, "nonce", t->nonce);
    if (t->boot_seed.ptr != NULL)
        text_hex(b, "boot seed", t->boot_seed);
    if (t->cert_ref.ptr != NULL)
        text_str(b, "certification reference", t->cert_ref);
    if (t->vsi.ptr != NULL)
        text_str(b, "verification service", t->vsi);
    if (t->no_sw_measurements)
        BIO_printf(b, "    no software measurements\n");
    for (size_t i = 0; i < t->nsw; i++) {
        const avow__psa_sw *c = &t->sw[i];
        BIO_printf(b, "    software component %zu:\n", i);
        if (c->type.ptr != NULL)
            text_str(b, "  measurement type", c->type);
        text_hex(b, "  measurement value", c->value);
        if (c->version.ptr != NULL)
            text_str(b, "  version", c->version);
        if (c->signer_id.ptr != NULL)
            text_hex(b, "  signer id", c->signer_id);
        if (c->desc.ptr != NULL)
            text_str(b, "  measurement description", c->desc);
    }
    if (t->nunknown > 0) {
        BIO_printf(b, "    unknown claims (ignored): %zu, keys", t->nunknown);
        for (size_t i = 0; i < t->nunknown && i < AVOW__PSA_MAX_UNKNOWN; i++)
            BIO_printf(b, " %lld", (long long)t->unknown[i]);
        BIO_printf(b, "\n");
    }
    avow_err rc = avow__text_take(b, out);
    BIO_free(b);
    return rc;
}

static json_t *jtext(avow_view v)
{
    return json_stringn((const char *)v.ptr, v.len);
}

static avow_err psa_json(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row;
    const avow__psa *t = native;
    const psa_verified *r = verified;
    int bad = 0;
    json_t *o = json_object(), *c = json_object(), *sw = json_array(), *unk = json_array();
    if (o == NULL || c == NULL || sw == NULL || unk == NULL) {
        json_decref(o), json_decref(c), json_decref(sw), json_decref(unk);
        return AVOW_ERR_NOMEM;
    }
    int64_t alg = avow_cose_msg_alg(t->cose);
    const char *an = avow_cose_alg_name(alg);
    avow__json_put(o, "type", json_string(AVOW_PSA_ROW_NAME), &bad);
    avow__json_put(
        o, "envelope",
        json_string(avow_cose_msg_kind(t->cose) == AVOW_COSE_SIGN1 ? "COSE_Sign1" : "COSE_Mac0"),
        &bad);
    avow__json_put(o, "alg", json_integer((json_int_t)alg), &bad);
    avow__json_put(o, "alg_name", an != NULL ? json_string(an) : json_null(), &bad);
    if (r != NULL) {
        avow__json_put(o, "verified", json_boolean(r->status == AVOW_OK), &bad);
        avow__json_put(o, "status", avow__json_errname(r->status), &bad);
        avow__json_put(o, "key_source", r->key_source ? json_string(r->key_source) : json_null(),
                       &bad);
        if (r->status != AVOW_OK)
            avow__json_put(o, "detail", avow__json_text(r->detail), &bad);
    }
    avow__json_put(c, "profile", json_string(avow__psa_profile_name(t->profile)), &bad);
    avow__json_put(c, "client_id", json_integer((json_int_t)t->client_id), &bad);
    avow__json_put(c, "security_lifecycle", json_integer((json_int_t)t->lifecycle), &bad);
    avow__json_put(c, "lifecycle", json_string(avow__psa_lifecycle_name(t->lifecycle)), &bad);
    avow__json_put(c, "implementation_id",
                   avow__json_hex(t->implementation_id.ptr, t->implementation_id.len), &bad);
    avow__json_put(c, "instance_id", avow__json_hex(t->instance_id.ptr, t->instance_id.len), &bad);
    avow__json_put(c, "nonce", avow__json_hex(t->nonce.ptr, t->nonce.len), &bad);
    if (t->boot_seed.ptr != NULL)
        avow__json_put(c, "boot_seed", avow__json_hex(t->boot_seed.ptr, t->boot_seed.len), &bad);
    if (t->cert_ref.ptr != NULL)
        avow__json_put(c, "certification_reference", jtext(t->cert_ref), &bad);
    if (t->vsi.ptr != NULL)
        avow__json_put(c, "verification_service", jtext(t->vsi), &bad);
    if (t->no_sw_measurements)
        avow__json_put(c, "no_sw_measurements", json_true(), &bad);
    for (size_t i = 0; i < t->nsw; i++) {
        const avow__psa_sw *s = &t->sw[i];
        json_t *e = json_object();
        if (e == NULL || json_array_append_new(sw, e) != 0) {
            bad = 1;
            break;
        }
        if (s->type.ptr != NULL)
            avow__json_put(e, "measurement_type", jtext(s->type), &bad);
        avow__json_put(e, "measurement_value", avow__json_hex(s->value.ptr, s->value.len), &bad);
        if (s->version.ptr != NULL)
            avow__json_put(e, "version", jtext(s->version), &bad);
        if (s->signer_id.ptr != NULL)
            avow__json_put(e, "signer_id", avow__json_hex(s->signer_id.ptr, s->signer_id.len),
                           &bad);
        if (s->desc.ptr != NULL)
            avow__json_put(e, "measurement_desc", jtext(s->desc), &bad);
    }
    if (t->nsw > 0)
        avow__json_put(c, "sw_components", sw, &bad);
    else
        json_decref(sw);
    for (size_t i = 0; i < t->nunknown && i < AVOW__PSA_MAX_UNKNOWN; i++)
        if (json_array_append_new(unk, json_integer((json_int_t)t->unknown[i])) != 0)
            bad = 1;
    avow__json_put(o, "claims", c, &bad);
    avow__json_put(o, "unknown_claims", unk, &bad);
    avow_err rc = bad ? AVOW_ERR_NOMEM : avow__json_dump(o, JSON_INDENT(2), 1, out);
    json_decref(o);
    return rc;
}

static void psa_free(const avow_statement_type *row, void *native, void *verified)
{
    (void)row;
    avow__psa_free(native);
    OPENSSL_free(verified);
}

/* DER content octets of AVOW_OID_PSA_TOKEN (1.3.6.1.4.1.99999.9783.1). */
const avow_statement_type avow__psa_row = {
    sizeof(avow_statement_type),
    AVOW_PSA_ROW_NAME,
    AVOW_TYPE_OID_FIXED,
    {11, "\x2b\x06\x01\x04\x01\x86\x8d\x1f\xcc\x37\x01"},
    &PSA_VOCAB,
    "avow_psa_token",
    "avow_psa_verified",
    psa_decode,
    psa_verify,
    psa_claims,
    psa_text,
    psa_json,
    psa_free,
    NULL,
    NULL,
    0,
    NULL,
};
