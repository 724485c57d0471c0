/*
 * "avow evidence verify": loads anchors, certificates and keys into a
 * verifier, runs avow_verify_evidence and prints its result. The exit status
 * is 0 only for trusted Evidence.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include <avow/avow.h>

#include "cli/cli.h"
#include "cli/evidence_cmds.h"

const cli_opt cli_evidence_verify_opts[] = {
    {"in", CLI_VALUE, "FILE", "Evidence to verify (default: stdin)"},
    {"inform", CLI_VALUE, "PEM|DER", "input format (default: detected)"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "untrusted certificates for path building"},
    {"key-id", CLI_MULTI, "HEX", "key id of the matching -key-pub"},
    {"key-pub", CLI_MULTI, "FILE", "trusted raw public key for signatures with that key id"},
    {"nonce", CLI_VALUE, "HEX", "expected nonce"},
    {"require-nonce", CLI_FLAG, NULL, "fail when the Evidence carries no nonce"},
    {"any", CLI_FLAG, NULL, "trust when one signature verifies (default: all must)"},
    {"ignore-ak-spki", CLI_FLAG, NULL, "do not require signer keys to be listed in ak-spki"},
    {"at", CLI_VALUE, "TIME", "check certificates at TIME: now, @SECONDS or RFC 3339 UTC"},
    CLI_VERIFY_STRICTNESS_OPTS,
    {"json", CLI_FLAG, NULL, "print the result as JSON"},
    {"arc", CLI_VALUE, "OID",
     "id-evidence arc (default: $AVOW_EVIDENCE_ARC or " AVOW_DEFAULT_EVIDENCE_ARC ")"},
    {"eku", CLI_VALUE, "OID",
     "attestation-key EKU (default: $AVOW_AK_EKU or " AVOW_DEFAULT_AK_EKU ")"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err add_keys(avow_verifier *v, const cli_args *a, avow_diag *d)
{
    size_t n = cli_count(a, "key-pub");
    if (cli_count(a, "key-id") != n)
        return cli_fail(d, AVOW_ERR_USAGE, "key-id", "give one -key-id per -key-pub");
    for (size_t i = 0; i < n; i++) {
        uint8_t id[64];
        size_t idlen = 0;
        EVP_PKEY *pub = NULL;
        avow_err err =
            cli_parse_hex("key-id", cli_get_n(a, "key-id", i), id, sizeof(id), &idlen, d);
        if (err == AVOW_OK)
            err = cli_load_public_key(cli_get_n(a, "key-pub", i), &pub, d);
        if (err == AVOW_OK)
            err = avow_verifier_add_key(v, id, idlen, pub);
        EVP_PKEY_free(pub);
        if (err != AVOW_OK)
            return err;
    }
    return AVOW_OK;
}

static avow_err setup(avow_verifier **v, const cli_args *a, avow_diag *d)
{
    if (cli_count(a, "CAfile") == 0 && cli_count(a, "key-pub") == 0)
        return cli_fail(d, AVOW_ERR_USAGE, "CAfile", "give -CAfile and/or -key-id/-key-pub");
    avow_profile p;
    avow_err err = cli_evidence_profile(a, &p, d);
    if (err == AVOW_OK)
        err = cli_verifier_from_args(a, &p, v, d);
    if (err == AVOW_OK)
        err = add_keys(*v, a, d);
    return err;
}

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
    return "not checked (no -nonce given)";
}

static const char *sid_text(avow_sid_kind k)
{
    return k == AVOW_SID_KEYID ? "key id" : k == AVOW_SID_SPKI ? "public key" : "certificate";
}

static void print_name(const char *label, const X509_NAME *n)
{
    char *s = X509_NAME_oneline(n, NULL, 0);
    printf("%s%s\n", label, s != NULL ? s : "?");
    OPENSSL_free(s);
}

static void print_sig(size_t i, const avow_sig_result *s)
{
    const char *alg = avow_sigalg_name(s->alg);
    printf("Signature [%lu]: %s", (unsigned long)i, s->status == AVOW_OK ? "OK" : "FAILED");
    if (s->status != AVOW_OK)
        printf(" (%s)", avow_errname(s->status) != NULL ? avow_errname(s->status) : "?");
    printf("\n    signer: %s, algorithm: %s, key: %s\n", sid_text(s->sid_kind),
           alg != NULL ? alg : "unsupported", s->key_source != NULL ? s->key_source : "unresolved");
    if (s->cert != NULL)
        print_name("    subject: ", X509_get_subject_name(s->cert));
    for (int j = 1; s->chain != NULL && j < sk_X509_num(s->chain); j++)
        print_name("    chain:   ", X509_get_subject_name(sk_X509_value(s->chain, j)));
    printf("    ak-spki: %s\n", s->ak_spki > 0    ? "signer key listed"
                                : s->ak_spki == 0 ? "signer key NOT listed"
                                                  : "no ak-spki claim");
    if (s->status != AVOW_OK)
        printf("    reason: %s\n", s->detail[0] != '\0' ? s->detail : avow_strerror(s->status));
}

static void print_value(const avow_value *v)
{
    char buf[32];
    if (!v->present) {
        fputs("(no value)", stdout);
        return;
    }
    switch (v->type) {
    case AVOW_VALUE_UTF8:
        printf("\"%.*s\"", v->bytes.len > 200 ? 200 : (int)v->bytes.len,
               (const char *)v->bytes.ptr);
        break;
    case AVOW_VALUE_BOOL:
        fputs(v->integer ? "true" : "false", stdout);
        break;
    case AVOW_VALUE_INT:
        printf("%lld", (long long)v->integer);
        break;
    case AVOW_VALUE_TIME:
        cli_format_time(v->time, buf, sizeof(buf));
        fputs(buf, stdout);
        break;
    case AVOW_VALUE_OIDS:
        for (size_t i = 0; i < v->npurposes; i++) {
            const char *name = avow_capability_name(v->purposes[i].cap);
            char oid[96];
            if (name == NULL) {
                avow_oid_to_text(v->purposes[i].oid.ptr, v->purposes[i].oid.len, oid, sizeof(oid));
                name = oid;
            }
            printf("%s%s", i > 0 ? ", " : "", name);
        }
        break;
    case AVOW_VALUE_BYTES:
    case AVOW_VALUE_RAW:
    default:
        for (size_t i = 0; i < v->bytes.len && i < 32; i++)
            printf("%02x", v->bytes.ptr[i]);
        if (v->bytes.len > 32)
            printf("... (%lu bytes)", (unsigned long)v->bytes.len);
        break;
    }
}

static void print_result(const avow_evidence_result *r)
{
    printf("Evidence: %s\n", r->trusted ? "TRUSTED" : "NOT TRUSTED");
    if (!r->trusted)
        printf("Reason: %s (%s)\n", avow_strerror(r->status),
               avow_errname(r->status) != NULL ? avow_errname(r->status) : "?");
    printf("Nonce: %s\n", nonce_text(r->nonce));
    if (r->nsigs == 0)
        puts("Signatures: none (unsigned Evidence is never trusted)");
    for (size_t i = 0; i < r->nsigs; i++)
        print_sig(i, &r->sigs[i]);
    printf("Claims (%lu):\n", (unsigned long)r->claims.count);
    for (size_t i = 0; i < r->claims.count; i++) {
        const avow_nclaim *c = &r->claims.items[i];
        printf("    %s[%lu].%s = ", c->element, (unsigned long)c->element_index, c->name);
        print_value(&c->value);
        fputs(c->signed_by != 0 ? "" : "  (not covered by a verified signature)", stdout);
        fputs(c->known ? "\n" : "  (unknown claim, not appraised)\n", stdout);
    }
    if (r->unknown_elements > 0)
        printf("Unknown elements: %lu (kept, not appraised)\n", (unsigned long)r->unknown_elements);
}

int cli_evidence_verify(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    avow_verifier *v = NULL;
    avow_evidence *ev = NULL;
    avow_evidence_result *r = NULL;
    uint8_t nonce[256];
    avow_verify_opts vo;
    memset(&vo, 0, sizeof(vo));

    avow_err err = setup(&v, a, &d);
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &vo.nonce_len, &d);
        vo.nonce = nonce;
    }
    if (err == AVOW_OK)
        err = cli_evidence_load(a, avow_verifier_profile(v), &ev, &d);
    if (err != AVOW_OK) {
        avow_verifier_free(v);
        avow_evidence_free(ev);
        return cli_report(err, &d);
    }

    avow_err verdict = avow_verify_evidence(v, ev, &vo, &r, &d);
    int rc = CLI_EXIT_OK;
    if (r != NULL && cli_flag(a, "json")) {
        avow_buf json = {0};
        err = avow_evidence_result_to_json(r, &json);
        if (err == AVOW_OK)
            err = cli_print(&json, &d);
        avow_buf_free(&json);
        if (err != AVOW_OK)
            rc = cli_report(err, &d);
    } else if (r != NULL) {
        print_result(r);
        fflush(stdout);
    }
    if (verdict != AVOW_OK && rc == CLI_EXIT_OK) {
        cli_report(verdict, &d);
        /* Malformed content found while verifying is still "not trusted". */
        rc = cli_exit_code(verdict) == CLI_EXIT_MALFORMED || cli_exit_code(verdict) == CLI_EXIT_OK
                 ? CLI_EXIT_FAIL
                 : cli_exit_code(verdict);
    }
    avow_evidence_result_free(r);
    avow_evidence_free(ev);
    avow_verifier_free(v);
    return rc;
}
