/*
 * A statement type defined here, outside the library: a "toy" key
 * attestation carried as an OCTET STRING holding JSON and signed with an
 * Ed25519 key the row trusts. Registered as a row, its statements go
 * through the same calls as PKIX Evidence (request verification, key
 * binding, freshness, policy on its own vocabulary, the EAR, request
 * display) with no change to library code: the seams are format-neutral.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include <avow/appraise.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/request_verify.h>

#define TOY_OID "1.3.6.1.4.1.99999.7"

/* --- the format --- */

/* A decoded toy statement; views point into `content`. */
typedef struct toy {
    avow_buf content; /* the JSON text */
    json_t *root;
    avow_buf spki, nonce, sig;
    const char *color;
    int exportable;
} toy;

static void toy_free(toy *t)
{
    if (t == NULL)
        return;
    json_decref(t->root);
    avow_buf_free(&t->content);
    avow_buf_free(&t->spki);
    avow_buf_free(&t->nonce);
    avow_buf_free(&t->sig);
    free(t);
}

static int unhex(const char *h, avow_buf *out)
{
    size_t n = h != NULL ? strlen(h) : 0;
    if (n == 0 || n % 2 != 0)
        return 0;
    out->ptr = OPENSSL_malloc(n / 2);
    out->len = n / 2;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return 0;
        out->ptr[i] = (uint8_t)v;
    }
    return 1;
}

static char *hex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

/* What the signature covers: the fields in a fixed order. */
static avow_buf signed_part(const avow_buf *spki, const avow_buf *nonce, const char *color,
                            int exportable)
{
    char *hs = hex(spki->ptr, spki->len), *hn = hex(nonce->ptr, nonce->len);
    size_t cap = strlen(hs) + strlen(hn) + strlen(color) + 32;
    avow_buf b = {OPENSSL_malloc(cap), 0};
    b.len = (size_t)snprintf((char *)b.ptr, cap, "toy-v1|%s|%s|%s|%d", hs, hn, color, exportable);
    free(hs);
    free(hn);
    return b;
}

static avow_err toy_decode(const avow_statement_type *row, const avow_profile *profile,
                           const uint8_t *stmt, size_t len, void **native, avow_diag *diag)
{
    (void)row, (void)profile;
    /* An OCTET STRING of at most 64 KiB: 04 len | 04 81 len | 04 82 hi lo. */
    size_t hdr = 2, body = len >= 2 ? stmt[1] : 0;
    if (len >= 3 && stmt[1] == 0x81)
        hdr = 3, body = stmt[2];
    else if (len >= 4 && stmt[1] == 0x82)
        hdr = 4, body = (size_t)stmt[2] << 8 | stmt[3];
    if (len < 2 || stmt[0] != 0x04 || hdr + body != len) {
        if (diag != NULL) {
            diag->code = AVOW_ERR_MALFORMED;
            snprintf(diag->field, sizeof(diag->field), "toy");
            snprintf(diag->detail, sizeof(diag->detail), "not an OCTET STRING");
        }
        return AVOW_ERR_MALFORMED;
    }
    toy *t = calloc(1, sizeof(*t));
    t->content.ptr = OPENSSL_malloc(body + 1);
    memcpy(t->content.ptr, stmt + hdr, body);
    t->content.len = body;
    t->root = json_loadb((const char *)t->content.ptr, body, JSON_REJECT_DUPLICATES, NULL);
    json_t *color = json_object_get(t->root, "color"),
           *exp = json_object_get(t->root, "exportable");
    if (!json_is_string(color) || !json_is_boolean(exp) ||
        !unhex(json_string_value(json_object_get(t->root, "spki")), &t->spki) ||
        !unhex(json_string_value(json_object_get(t->root, "nonce")), &t->nonce) ||
        !unhex(json_string_value(json_object_get(t->root, "sig")), &t->sig)) {
        toy_free(t);
        return AVOW_ERR_JSON;
    }
    t->color = json_string_value(color);
    t->exportable = json_is_true(exp);
    *native = t;
    return AVOW_OK;
}

/* Trusted when the Ed25519 key the row holds (row->arg) signed the fields. */
static avow_err toy_verify(const avow_statement_type *row, const avow_verifier *v,
                           const void *native, const avow_verify_opts *opts, void **verified,
                           avow_diag *diag)
{
    (void)v, (void)opts;
    const toy *t = native;
    avow_buf msg = signed_part(&t->spki, &t->nonce, t->color, t->exportable);
    avow_err rc = avow_sigalg_verify(AVOW_SIGALG_ED25519, row->arg, msg.ptr, msg.len, t->sig.ptr,
                                     t->sig.len, diag);
    avow_buf_free(&msg);
    *verified = rc == AVOW_OK ? (void *)t : NULL;
    return rc;
}

static const avow_vocab_element TOY_ELEMENTS[] = {
    {"toy", 0},
    {"toy-key", AVOW_VOCAB_KEY_ELEMENT},
};
static const avow_vocab_claim TOY_CLAIMS[] = {
    {"toy", "nonce", AVOW_CV_BYTES, AVOW_TV_INSTANCE_IDENTITY, AVOW_ROLE_NONCE},
    {"toy", "color", AVOW_CV_TEXT, AVOW_TV_HARDWARE, 0},
    {"toy-key", "pub", AVOW_CV_BYTES, AVOW_TV_STORAGE_OPAQUE, AVOW_ROLE_KEY_SPKI},
    {"toy-key", "exportable", AVOW_CV_BOOL, AVOW_TV_STORAGE_OPAQUE, 0},
};
static const avow_vocabulary TOY_VOCAB = {"toy", 2, TOY_ELEMENTS, 4, TOY_CLAIMS};

static avow_err toy_claims(const avow_statement_type *row, const void *native, const void *verified,
                           avow_claimset *out)
{
    (void)row;
    const toy *t = native;
    avow_err rc = avow_claimset_alloc(out, 4, 0, NULL);
    if (rc != AVOW_OK)
        return rc;
    uint32_t sb = verified != NULL ? 1 : 0;
    for (size_t i = 0; i < 4; i++) {
        avow_nclaim *c = &out->items[i];
        c->element = TOY_CLAIMS[i].element;
        c->element_index = i < 2 ? 0 : 1;
        c->name = TOY_CLAIMS[i].name;
        c->known = 1;
        c->roles = TOY_CLAIMS[i].roles;
        c->value.type = TOY_CLAIMS[i].type;
        c->value.present = 1;
        c->signed_by = sb;
    }
    out->items[0].value.bytes = (avow_view){t->nonce.ptr, t->nonce.len};
    out->items[1].value.bytes = (avow_view){(const uint8_t *)t->color, strlen(t->color)};
    out->items[2].value.bytes = (avow_view){t->spki.ptr, t->spki.len};
    out->items[3].value.integer = t->exportable;
    return AVOW_OK;
}

static avow_err toy_text(const avow_statement_type *row, const void *native, const void *verified,
                         avow_buf *out)
{
    (void)row, (void)verified;
    const toy *t = native;
    char line[128];
    int n = snprintf(line, sizeof(line), "Toy attestation: color %s, exportable %s\n", t->color,
                     t->exportable ? "yes" : "no");
    out->ptr = (uint8_t *)OPENSSL_strdup(line);
    out->len = (size_t)n;
    return AVOW_OK;
}

static void toy_row_free(const avow_statement_type *row, void *native, void *verified)
{
    (void)row, (void)verified; /* verified is native itself */
    toy_free(native);
}

/* --- the test fixture --- */

typedef struct fx {
    EVP_PKEY *toy_key;  /* the attester's Ed25519 key, trusted by the row */
    EVP_PKEY *csr_key;  /* the key the request certifies */
    EVP_PKEY *other;    /* another key */
    avow_verifier *v;   /* no anchors: the toy row brings its own trust */
    avow_registry *reg; /* with the toy row */
    char db[64];
    avow_nonce_store *nonces;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->toy_key = tu_key_ed25519();
    f->csr_key = tu_key_ec("P-256");
    f->other = tu_key_ec("P-256");
    OK(avow_verifier_new(NULL, &f->v));
    OK(avow_registry_new(&f->reg));
    avow_statement_type row = {.size = sizeof(avow_statement_type),
                               .name = "toy",
                               .oid_kind = AVOW_TYPE_OID_FIXED,
                               .vocab = &TOY_VOCAB,
                               .native_name = "toy",
                               .decode = toy_decode,
                               .verify = toy_verify,
                               .to_claims = toy_claims,
                               .to_text = toy_text,
                               .free = toy_row_free,
                               .arg = f->toy_key};
    OK(avow_oid_from_text(&row.oid, TOY_OID));
    OK(avow_registry_add(f->reg, &row, NULL));
    snprintf(f->db, sizeof(f->db), "/tmp/avow-toy-%ld.db", (long)getpid());
    unlink(f->db);
    OK(avow_nonce_store_open_sqlite(f->db, &f->nonces, NULL));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_nonce_store_free(f->nonces);
    unlink(f->db);
    avow_registry_free(f->reg);
    avow_verifier_free(f->v);
    EVP_PKEY_free(f->toy_key);
    EVP_PKEY_free(f->csr_key);
    EVP_PKEY_free(f->other);
    free(f);
    return 0;
}

typedef struct toy_spec {
    EVP_PKEY *attested;
    const avow_buf *nonce;
    const char *color;
    int exportable;
    int break_sig;
} toy_spec;

/* A toy statement about s->attested, signed by the toy key, in a CSR for f->csr_key. */
static avow_request *toy_request(fx *f, const toy_spec *s)
{
    avow_buf spki = tu_spki(s->attested);
    avow_buf msg = signed_part(&spki, s->nonce, s->color, s->exportable);
    avow_signer *ts = NULL;
    avow_buf sig = {0};
    OK(avow_signer_new_pkey(f->toy_key, AVOW_SIGALG_ED25519, &ts, NULL));
    OK(avow_signer_sign(ts, msg.ptr, msg.len, &sig, NULL));
    if (s->break_sig)
        sig.ptr[0] ^= 1;
    char *hs = hex(spki.ptr, spki.len), *hn = hex(s->nonce->ptr, s->nonce->len),
         *hg = hex(sig.ptr, sig.len);
    char json[2048];
    int n = snprintf(json, sizeof(json),
                     "{\"spki\":\"%s\",\"nonce\":\"%s\",\"color\":\"%s\",\"exportable\":%s,"
                     "\"sig\":\"%s\"}",
                     hs, hn, s->color, s->exportable ? "true" : "false", hg);
    free(hs);
    free(hn);
    free(hg);

    avow_request_builder *b = NULL;
    OK(avow_request_builder_new(AVOW_REQUEST_PKCS10, &b));
    OK(avow_request_builder_set_subject(b, "CN=toy device", NULL));
    OK(avow_request_builder_add_octets(b, TOY_OID, (const uint8_t *)json, (size_t)n, NULL));
    avow_signer *cs = NULL;
    avow_buf der = {0};
    OK(avow_signer_new_pkey(f->csr_key, AVOW_SIGALG_NONE, &cs, NULL));
    OK(avow_request_builder_sign(b, cs, &der, NULL));
    avow_request *r = NULL;
    OK(avow_request_decode(der.ptr, der.len, AVOW_REQUEST_AUTO, 0, &r, NULL));
    avow_buf_free(&der);
    avow_signer_free(cs);
    avow_request_builder_free(b);
    avow_signer_free(ts);
    avow_buf_free(&sig);
    avow_buf_free(&msg);
    avow_buf_free(&spki);
    return r;
}

static const char TOY_POLICY[] =
    "{\"name\":\"toy-policy\",\"rules\":["
    "{\"id\":\"blue\",\"claim\":\"toy:color\",\"equals\":\"blue\",\"required\":true},"
    "{\"id\":\"not-exportable\",\"element\":\"toy-key\",\"claim\":\"exportable\","
    "\"equals\":false,\"required\":true},"
    "{\"id\":\"fresh\",\"claim\":\"nonce\",\"present\":true,\"required\":true,"
    "\"when\":\"nonce-expected\"}]}";

static avow_policy *toy_policy(fx *f)
{
    avow_policy *p = NULL;
    avow_diag d = {0};
    /* The built-in types do not know the toy's claims... */
    assert_int_equal(avow_policy_parse(TOY_POLICY, sizeof(TOY_POLICY) - 1, &p, &d),
                     AVOW_ERR_BAD_POLICY);
    assert_string_equal(d.field, "rules[0].claim");
    /* ...a registry with the toy row does. */
    OK(avow_policy_parse_reg(TOY_POLICY, sizeof(TOY_POLICY) - 1, f->reg, &p, &d));
    return p;
}

static avow_appraisal *appraise(fx *f, const avow_request *r, const avow_policy *p, avow_err want)
{
    avow_appraise_opts o;
    avow_appraise_opts_init(&o);
    o.registry = f->reg;
    o.policy = p;
    o.nonces = f->nonces;
    avow_appraisal *a = NULL;
    avow_diag d = {0};
    avow_err rc = avow_appraise_request(f->v, r, &o, &a, &d);
    if (rc != want)
        print_error("appraise: %s %s: %s\n", avow_errname(rc), d.field, d.detail);
    assert_int_equal(rc, want);
    assert_non_null(a);
    TU_NO_OSSL_ERR();
    return a;
}

static const avow_ear_reason *reason(const avow_appraisal *a, const char *name)
{
    const avow_ear *e = avow_appraisal_get0_ear(a);
    for (size_t i = 0; i < e->nsubmods; i++)
        for (size_t j = 0; j < e->submods[i].nreasons; j++)
            if (strcmp(e->submods[i].reasons[j].name, name) == 0)
                return &e->submods[i].reasons[j];
    return NULL;
}

static avow_buf fresh_nonce(fx *f)
{
    avow_buf n = {0};
    OK(avow_nonce_issue(f->nonces, 0, 0, 0, &n, NULL));
    return n;
}

/* --- the tests --- */

static void test_verification(void **state)
{
    fx *f = *state;
    avow_buf nonce = fresh_nonce(f);
    toy_spec s = {f->csr_key, &nonce, "blue", 0, 0};
    avow_request *r = toy_request(f, &s);

    /* Without the row the type is unknown; with it the statement verifies and binds. */
    avow_verification *res = NULL;
    assert_int_equal(avow_request_verify(f->v, r, NULL, &res, NULL), AVOW_ERR_STATEMENT_TYPE);
    avow_verification_free(res);
    avow_verification_opts o;
    avow_verification_opts_init(&o);
    o.registry = f->reg;
    o.nonce = nonce.ptr;
    o.nonce_len = nonce.len;
    OK(avow_request_verify(f->v, r, &o, &res, NULL));
    const avow_statement_result *st = avow_verification_get0(res, 0);
    assert_string_equal(avow_statement_result_type_name(st), "toy");
    assert_string_equal(avow_statement_result_type_oid(st), TOY_OID);
    assert_int_equal(avow_statement_result_nonce_state(st), AVOW_NONCE_MATCH);
    avow_view n = avow_statement_result_nonce(st);
    assert_int_equal(n.len, nonce.len);
    assert_memory_equal(n.ptr, nonce.ptr, n.len);
    assert_int_equal(avow_statement_result_key_count(st), 1);
    assert_string_equal(avow_verification_bound_by(res), "key-spki");
    size_t stmt = 9, el = 9;
    assert_true(avow_verification_bound(res, &stmt, &el));
    assert_int_equal(stmt, 0);
    assert_int_equal(el, 1);
    assert_non_null(avow_statement_result_get0_native(st, "toy"));
    assert_null(avow_statement_result_get0_native(st, "avow_evidence"));
    avow_verification_free(res);

    /* A wrong nonce, a broken signature, another key: each its own failure. */
    uint8_t wrong[32] = {1};
    o.nonce = wrong;
    o.nonce_len = sizeof(wrong);
    assert_int_equal(avow_request_verify(f->v, r, &o, NULL, NULL), AVOW_ERR_NONCE_MISMATCH);
    avow_request_free(r);
    o.nonce = nonce.ptr;
    o.nonce_len = nonce.len;
    s.break_sig = 1;
    r = toy_request(f, &s);
    assert_int_equal(avow_request_verify(f->v, r, &o, NULL, NULL), AVOW_ERR_SIG_INVALID);
    avow_request_free(r);
    s.break_sig = 0;
    s.attested = f->other;
    r = toy_request(f, &s);
    assert_int_equal(avow_request_verify(f->v, r, &o, NULL, NULL), AVOW_ERR_KEY_BINDING);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

static void test_appraisal(void **state)
{
    fx *f = *state;
    avow_policy *p = toy_policy(f);

    /* Blue, not exportable, fresh: affirming, the nonce consumed once. */
    avow_buf nonce = fresh_nonce(f);
    toy_spec s = {f->csr_key, &nonce, "blue", 0, 0};
    avow_request *r = toy_request(f, &s);
    avow_appraisal *a = appraise(f, r, p, AVOW_OK);
    const avow_ear *e = avow_appraisal_get0_ear(a);
    assert_int_equal(e->nsubmods, 1);
    assert_string_equal(e->submods[0].name, "toy");
    assert_string_equal(e->submods[0].policy_ids[0], "toy-policy");
    assert_true(e->submods[0].vector_set & (1u << AVOW_TV_HARDWARE));
    const avow_policy_report *rep = avow_appraisal_get0_report(a);
    assert_int_equal(rep->npass, 3);
    avow_appraisal_free(a);
    a = appraise(f, r, p, AVOW_ERR_NOT_AFFIRMING); /* the same request again */
    assert_int_equal(avow_appraisal_freshness(a), AVOW_ERR_NONCE_REPLAY);
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);

    /* A red one fails the policy rule on the toy's own claim. */
    nonce = fresh_nonce(f);
    s.nonce = &nonce;
    s.color = "red";
    r = toy_request(f, &s);
    a = appraise(f, r, p, AVOW_ERR_NOT_AFFIRMING);
    assert_int_equal(avow_appraisal_tier(a), AVOW_TIER_CONTRAINDICATED);
    assert_non_null(reason(a, "blue"));
    assert_null(reason(a, "not-exportable"));
    assert_non_null(strstr(reason(a, "blue")->detail, "\"red\""));
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);

    /* An exportable key fails the rule on the key element. */
    nonce = fresh_nonce(f);
    s.nonce = &nonce;
    s.color = "blue";
    s.exportable = 1;
    r = toy_request(f, &s);
    a = appraise(f, r, p, AVOW_ERR_NOT_AFFIRMING);
    assert_non_null(reason(a, "not-exportable"));
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);

    /* The default policy asks for PKIX key claims the toy does not have: not affirming. */
    nonce = fresh_nonce(f);
    s.nonce = &nonce;
    s.exportable = 0;
    r = toy_request(f, &s);
    a = appraise(f, r, NULL, AVOW_ERR_NOT_AFFIRMING);
    assert_non_null(reason(a, "key-sensitive"));
    avow_appraisal_free(a);
    avow_request_free(r);
    avow_buf_free(&nonce);
    avow_policy_free(p);
}

static void test_show(void **state)
{
    fx *f = *state;
    avow_buf nonce = fresh_nonce(f);
    toy_spec s = {f->csr_key, &nonce, "blue", 0, 0};
    avow_request *r = toy_request(f, &s);
    avow_buf text = {0};
    OK(avow_request_to_text(r, f->reg, NULL, &text, NULL));
    assert_non_null(strstr((const char *)text.ptr, "(toy), "));
    assert_non_null(strstr((const char *)text.ptr, "Toy attestation: color blue, exportable no"));
    avow_buf_free(&text);
    /* Without the row: named by its OID only, shown as bytes in JSON. */
    OK(avow_request_to_json(r, NULL, NULL, &text, NULL));
    assert_non_null(strstr((const char *)text.ptr, "\"octets_hex\""));
    assert_non_null(strstr((const char *)text.ptr, "\"name\": \"unknown\""));
    avow_buf_free(&text);
    avow_request_free(r);
    avow_buf_free(&nonce);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appraisal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_show, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
