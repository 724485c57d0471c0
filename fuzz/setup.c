/*
 * The fixed verifier set-up of the fuzz targets and the seed generator
 * (setup.h). Made once per process from the PEM files of fuzz/keys/.
 */
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#ifndef AVOW_FUZZ_KEYS
#error "AVOW_FUZZ_KEYS must name the folder of the fuzz keys"
#endif

const uint8_t FZ_NONCE[16] = {0xf0, 0x22, 0x5e, 0xed, 0x00, 0x11, 0x22, 0x33,
                              0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};

const char FZ_RICH_POLICY[] =
    "{\"name\": \"fuzz-rich\", \"description\": \"every operator over every claim type\",\n"
    " \"statements\": {\"unknown\": \"reject\", \"required\": [\"pkix-evidence\"]},\n"
    " \"rules\": [\n"
    "  {\"id\": \"sensitive\", \"element\": \"key\", \"claim\": \"sensitive\", \"equals\": true,"
    " \"required\": true},\n"
    "  {\"id\": \"extractable\", \"claim\": \"extractable\", \"equals\": false, \"scope\": "
    "\"all-keys\"},\n"
    "  {\"id\": \"never\", \"claim\": \"never-extractable\", \"equals\": true, \"on_fail\": "
    "\"warning\"},\n"
    "  {\"id\": \"local\", \"claim\": \"pkix:local\", \"present\": true},\n"
    "  {\"id\": \"fips\", \"element\": \"platform\", \"claim\": \"fipslevel\", \"min\": 2, "
    "\"max\": 4, \"vector\": \"hardware\"},\n"
    "  {\"id\": \"dbg\", \"claim\": \"dbgstat\", \"in\": [0, 1]},\n"
    "  {\"id\": \"model\", \"claim\": \"hwmodel\", \"in\": [\"HSM-9000\", \"HSM-9100\"], "
    "\"on_fail\": \"warning\"},\n"
    "  {\"id\": \"vendor\", \"claim\": \"vendor\", \"equals\": \"Acme\"},\n"
    "  {\"id\": \"sw\", \"claim\": \"swversion\", \"version_at_least\": \"2.6\"},\n"
    "  {\"id\": \"fipsver\", \"claim\": \"fipsver\", \"version_at_least\": \"v140.3\"},\n"
    "  {\"id\": \"boot\", \"claim\": \"fipsboot\", \"equals\": true, \"vector\": \"none\"},\n"
    "  {\"id\": \"uptime\", \"claim\": \"uptime\", \"min\": 0},\n"
    "  {\"id\": \"bootcount\", \"claim\": \"bootcount\", \"max\": 1000000},\n"
    "  {\"id\": \"serial\", \"claim\": \"hwserial\", \"present\": true},\n"
    "  {\"id\": \"oem\", \"claim\": \"oemid\", \"in\": [\"OEM\", \"0\"]},\n"
    "  {\"id\": \"expiry\", \"claim\": \"expiry\", \"present\": true},\n"
    "  {\"id\": \"purpose\", \"claim\": \"purpose\", \"present\": true},\n"
    "  {\"id\": \"ident\", \"claim\": \"identifier\", \"in\": [\"k1\", \"key-1\"]},\n"
    "  {\"id\": \"ts\", \"claim\": \"timestamp\", \"present\": true},\n"
    "  {\"id\": \"akspki\", \"claim\": \"ak-spki\", \"present\": true},\n"
    "  {\"id\": \"nonce\", \"claim\": \"nonce\", \"present\": true, \"required\": true, \"when\": "
    "\"nonce-expected\", \"vector\": \"instance-identity\"},\n"
    "  {\"id\": \"no-debug\", \"claim\": \"1.2.3.888.2\", \"present\": false},\n"
    "  {\"id\": \"oid\", \"element\": \"1.2.3.888.0\", \"claim\": \"1.2.3.888.1\", \"equals\": 5,"
    " \"vector\": \"configuration\"},\n"
    "  {\"id\": \"prefixed\", \"claim\": \"pkix:fipsmodule\", \"equals\": \"00\", \"vector\": "
    "\"executables\"}\n"
    " ]}\n";

void fz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    ERR_print_errors_fp(stderr);
    abort();
}

int fz_text_ok(const avow_buf *b)
{
    return b->ptr != NULL && b->ptr[b->len] == '\0';
}

char *fz_lines(const uint8_t *data, size_t size, char **part, int n)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return NULL;
    memcpy(text, data, size);
    text[size] = '\0';
    char *p = text;
    for (int i = 0; i < n; i++) {
        char *nl = p != NULL ? strchr(p, '\n') : NULL;
        if (nl != NULL)
            *nl = '\0';
        part[i] = p != NULL && p[0] != '\0' ? p : NULL;
        p = nl != NULL ? nl + 1 : NULL;
    }
    return text;
}

static FILE *open_key(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", AVOW_FUZZ_KEYS, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "fuzz set-up: cannot open %s\n", path);
        abort();
    }
    return f;
}

static X509 *load_cert(const char *name)
{
    FILE *f = open_key(name);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    FZ_CHECK(x != NULL);
    return x;
}

static EVP_PKEY *load_key(const char *name)
{
    FILE *f = open_key(name);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    FZ_CHECK(k != NULL);
    return k;
}

static avow_signer *signer(EVP_PKEY *k)
{
    avow_signer *s = NULL;
    FZ_CHECK(avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &s, NULL) == AVOW_OK);
    return s;
}

static fz_setup *make(void)
{
    static fz_setup s;
    s.ca = load_cert("ca.crt");
    s.ak = load_cert("ak.crt");
    s.ca_key = load_key("ca.key");
    s.ak_key = load_key("ak.key");
    s.ks_key = load_key("ks.key");
    s.req_key = load_key("req.key");
    s.ear_key = load_key("ear.key");

    FZ_CHECK(avow_verifier_new(NULL, &s.v_anchor) == AVOW_OK);
    FZ_CHECK(avow_verifier_add_anchor(s.v_anchor, s.ca, NULL) == AVOW_OK);
    avow_verifier_set_time(s.v_anchor, FZ_NOW);

    FZ_CHECK(avow_verifier_new(NULL, &s.v_keys) == AVOW_OK);
    FZ_CHECK(avow_verifier_add_anchor(s.v_keys, s.ca, NULL) == AVOW_OK);
    /* ks_key by the key ids derived from it (ks_id is one), the AK by its SKI. */
    FZ_CHECK(avow_verifier_add_key(s.v_keys, NULL, 0, s.ks_key, NULL) == AVOW_OK);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(s.ak);
    FZ_CHECK(ski != NULL);
    FZ_CHECK(avow_verifier_add_key(s.v_keys, ASN1_STRING_get0_data(ski),
                                   (size_t)ASN1_STRING_length(ski), s.ak_key, NULL) == AVOW_OK);
    avow_verifier_set_time(s.v_keys, FZ_NOW);

    FZ_CHECK(avow_policy_default(&s.def) == AVOW_OK);
    avow_diag d;
    if (avow_policy_parse(FZ_RICH_POLICY, strlen(FZ_RICH_POLICY), &s.rich, &d) != AVOW_OK) {
        fprintf(stderr, "fuzz set-up: rich policy: %s: %s\n", d.field, d.detail);
        abort();
    }

    s.ak_signer = signer(s.ak_key);
    FZ_CHECK(avow_signer_set1_cert(s.ak_signer, s.ak, NULL) == AVOW_OK);
    s.ks_signer = signer(s.ks_key);
    s.req_signer = signer(s.req_key);
    s.ear_signer = signer(s.ear_key);
    FZ_CHECK(avow_ca_new(signer(s.ca_key), s.ca, &s.ca_issuer, NULL) == AVOW_OK); /* owns it */
    ERR_clear_error();
    return &s;
}

const fz_setup *fz_get(void)
{
    static const fz_setup *s;
    if (s == NULL)
        s = make();
    return s;
}

void fz_check_result(const avow_evidence *ev, const avow_evidence_result *r, avow_err rc)
{
    FZ_CHECK(r != NULL && r->status == rc && r->trusted == (rc == AVOW_OK));
    FZ_CHECK(r->nsigs == avow_evidence_signature_count(ev));
    for (size_t i = 0; i < r->nsigs; i++) {
        const avow_signature_block *b = avow_evidence_get0_signature(ev, i);
        FZ_CHECK(b->sid_fields != 0 && (b->sid_fields & ~(unsigned)AVOW_SID_ALL) == 0);
        FZ_CHECK(b->sid_fields & AVOW_SID_FIELD(b->sid_kind));
        FZ_CHECK(r->sigs[i].sid_fields == b->sid_fields && r->sigs[i].sid_kind == b->sid_kind);
    }
    size_t nel = avow_evidence_element_count(ev), nclaims = 0, unk_el = 0, unk_cl = 0;
    for (size_t e = 0; e < nel; e++) {
        const avow_element *el = avow_evidence_get0_element(ev, e);
        nclaims += el->nclaims;
        unk_el += el->kind == AVOW_ELEMENT_UNKNOWN;
        for (size_t c = 0; c < el->nclaims; c++)
            unk_cl += avow_claim_info_get(el->claims[c].id) == NULL;
    }
    FZ_CHECK(r->claims.count == nclaims);
    FZ_CHECK(r->unknown_elements == unk_el && r->unknown_claims == unk_cl);
    for (size_t i = 0; i < r->claims.count; i++) {
        const avow_nclaim *it = &r->claims.items[i];
        FZ_CHECK(it->element != NULL && it->name != NULL);
        FZ_CHECK(strlen(it->element) < 160 && strlen(it->name) < 160 && it->name[0] != '\0');
        FZ_CHECK(it->element_index < nel);
        FZ_CHECK(avow_claimset_find(&r->claims, it->element, it->name, NULL) != NULL);
        FZ_CHECK(rc != AVOW_OK || it->signed_by != 0);
    }
    avow_buf json = {0};
    FZ_CHECK(avow_evidence_result_to_json(r, &json) == AVOW_OK && fz_text_ok(&json));
    avow_buf_free(&json);
}

void fz_check_ear(const avow_ear *ear, int sign)
{
    const fz_setup *s = fz_get();
    avow_buf json = {0}, again = {0};
    FZ_CHECK(avow_ear_to_json(ear, &json, NULL) == AVOW_OK && fz_text_ok(&json));
    avow_ear *back = NULL;
    avow_diag d;
    if (avow_ear_from_json((const char *)json.ptr, json.len, &back, &d) != AVOW_OK) {
        fprintf(stderr, "EAR does not read back: %s: %s\n%s\n", d.field, d.detail, json.ptr);
        abort();
    }
    FZ_CHECK(avow_ear_to_json(back, &again, NULL) == AVOW_OK);
    FZ_CHECK(again.len == json.len && memcmp(again.ptr, json.ptr, json.len) == 0);
    avow_buf_free(&again);
    avow_ear_free(back);
    if (sign) {
        avow_buf jwt = {0}, payload = {0};
        FZ_CHECK(avow_ear_sign_jwt(ear, s->ear_signer, "fuzz", &jwt, NULL) == AVOW_OK &&
                 fz_text_ok(&jwt));
        FZ_CHECK(avow_ear_verify_jwt((const char *)jwt.ptr, jwt.len, s->ear_key, FZ_NOW, 60,
                                     &payload, NULL) == AVOW_OK);
        FZ_CHECK(payload.len == json.len && memcmp(payload.ptr, json.ptr, json.len) == 0);
        avow_buf_free(&payload);
        avow_buf_free(&jwt);
    }
    avow_buf_free(&json);
}

/* The spki claim of the first key element, as the attested key. */
static const avow_nclaim *first_spki(const avow_claimset *claims)
{
    const avow_nclaim *c = avow_claimset_find(claims, "key", "spki", NULL);
    return c != NULL && c->value.present && c->value.type == AVOW_VALUE_BYTES ? c : NULL;
}

void fz_appraise(const avow_claimset *claims, avow_err verify_status, const char *verify_detail,
                 avow_nonce_state nonce, int nonce_expected, int sign)
{
    const fz_setup *s = fz_get();
    const avow_policy *pols[2] = {s->def, s->rich};
    const avow_nclaim *spki = first_spki(claims);
    for (int p = 0; p < 2; p++) {
        avow_policy_input in = {
            .size = sizeof(avow_policy_input),
            .key_element = p == 0 || spki == NULL ? AVOW_POLICY_NO_ELEMENT : spki->element_index,
            .key_spki = spki != NULL && p == 0 ? spki->value.bytes.ptr : NULL,
            .key_spki_len = spki != NULL && p == 0 ? spki->value.bytes.len : 0,
            .nonce_expected = nonce_expected,
        };
        avow_policy_report *rep = NULL;
        avow_err e = avow_policy_eval(pols[p], claims, &in, &rep, NULL);
        FZ_CHECK((e == AVOW_OK || e == AVOW_ERR_POLICY) && rep != NULL);
        FZ_CHECK(rep->satisfied == (e == AVOW_OK) &&
                 rep->nrules == avow_policy_rule_count(pols[p]));
        FZ_CHECK(rep->npass + rep->nfail + rep->nunknown + rep->nskipped == rep->nrules);
        avow_buf json = {0};
        FZ_CHECK(avow_policy_report_to_json(rep, &json) == AVOW_OK && fz_text_ok(&json));
        avow_buf_free(&json);

        avow_ear_statement st = {
            .size = sizeof(avow_ear_statement),
            .name = "pkix-evidence",
            .verify_status = verify_status,
            .verify_detail = verify_detail,
            .report = rep,
            .nonce = nonce,
            .freshness = AVOW_OK,
            .akpub = spki != NULL ? spki->value.bytes.ptr : NULL,
            .akpub_len = spki != NULL ? spki->value.bytes.len : 0,
        };
        avow_ear_opts eo = {
            .size = sizeof(avow_ear_opts),
            .iat = FZ_NOW,
            .ttl = 300,
            .nonce = nonce_expected ? FZ_NONCE : NULL,
            .nonce_len = nonce_expected ? sizeof(FZ_NONCE) : 0,
            .build = "fuzz",
        };
        avow_ear *ear = NULL;
        FZ_CHECK(avow_ear_build(&st, 1, &eo, &ear, NULL) == AVOW_OK && ear != NULL);
        FZ_CHECK(ear->nsubmods == 1 && !avow_tier_worse(ear->submods[0].status, ear->status));
        FZ_CHECK(verify_status == AVOW_OK || ear->status != AVOW_TIER_AFFIRMING);
        fz_check_ear(ear, sign && p == 1);
        avow_ear_free(ear);
        avow_policy_report_free(rep);
    }
}

void fz_statements(avow_statements_in *in, const avow_statement_in *st, size_t n)
{
    avow_statements_in_init(in);
    in->nstatements = n;
    in->statements = st;
    in->possession = AVOW_OK;
}
