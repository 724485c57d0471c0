/*
 * Project Wycheproof's signature vectors (tests/vectors/wycheproof/, the
 * README there names the source) through avow_sigalg_verify: every test
 * case of every file, none skipped. "valid" must verify, "invalid" must be
 * AVOW_ERR_SIG_INVALID, and each "acceptable" case has the verdict of the
 * table below, by its flags (docs/design.md, "Signature and chain
 * strictness", says why). A case whose flags the table does not decide fails
 * the test, so a new kind of case in an updated file needs a decision.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

typedef struct vfile {
    const char *name;
    const char *schema;
    avow_sigalg alg;
} vfile;

static const vfile FILES[] = {
    {"ecdsa_secp256r1_sha256_test.json", "ecdsa_verify_schema_v1.json", AVOW_SIGALG_ECDSA_SHA256},
    {"ecdsa_secp384r1_sha384_test.json", "ecdsa_verify_schema_v1.json", AVOW_SIGALG_ECDSA_SHA384},
    {"ecdsa_secp384r1_sha256_test.json", "ecdsa_verify_schema_v1.json", AVOW_SIGALG_ECDSA_SHA256},
    {"ecdsa_secp521r1_sha512_test.json", "ecdsa_verify_schema_v1.json", AVOW_SIGALG_ECDSA_SHA512},
    {"ed25519_test.json", "eddsa_verify_schema_v1.json", AVOW_SIGALG_ED25519},
    {"rsa_pss_2048_sha256_mgf1_32_test.json", "rsassa_pss_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PSS_SHA256},
    {"rsa_pss_2048_sha256_mgf1_32_params_test.json",
     "rsassa_pss_with_parameters_verify_schema.json", AVOW_SIGALG_RSA_PSS_SHA256},
    {"rsa_pss_2048_sha384_mgf1_48_test.json", "rsassa_pss_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PSS_SHA384},
    {"rsa_pss_4096_sha512_mgf1_64_test.json", "rsassa_pss_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PSS_SHA512},
    {"rsa_pss_4096_sha512_mgf1_64_params_test.json",
     "rsassa_pss_with_parameters_verify_schema.json", AVOW_SIGALG_RSA_PSS_SHA512},
    {"rsa_signature_2048_sha256_test.json", "rsassa_pkcs1_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PKCS1_SHA256},
    {"rsa_signature_2048_sha384_test.json", "rsassa_pkcs1_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PKCS1_SHA384},
    {"rsa_signature_2048_sha512_test.json", "rsassa_pkcs1_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PKCS1_SHA512},
    {"rsa_signature_3072_sha256_test.json", "rsassa_pkcs1_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PKCS1_SHA256},
    {"rsa_signature_4096_sha512_test.json", "rsassa_pkcs1_verify_schema_v1.json",
     AVOW_SIGALG_RSA_PKCS1_SHA512},
};

/*
 * The verdicts avow gives "acceptable" cases, by flag (docs/design.md has
 * the same table with the reasons).
 */
static const struct {
    const char *flag;
    int verifies;
} ACCEPTABLE[] = {
    /* PKCS#1 v1.5 DigestInfo without the NULL hash parameters (RFC 8017 section 9.2 note 2). */
    {"MissingNull", 0},
};

static int acceptable_verdict(json_t *flags, int *verifies)
{
    size_t i;
    json_t *f;
    int decided = 0;
    json_array_foreach(flags, i, f)
    {
        for (size_t k = 0; k < sizeof(ACCEPTABLE) / sizeof(ACCEPTABLE[0]); k++) {
            if (json_is_string(f) && strcmp(json_string_value(f), ACCEPTABLE[k].flag) == 0) {
                if (decided && *verifies != ACCEPTABLE[k].verifies)
                    return 0; /* two flags that disagree: undecided */
                *verifies = ACCEPTABLE[k].verifies;
                decided = 1;
            }
        }
    }
    return decided;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    /* Never NULL, even for an empty value: the signature pointer must be valid. */
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("no string %s", key);
    return json_string_value(v);
}

static EVP_PKEY *group_key(json_t *group)
{
    size_t len;
    uint8_t *der = unhex(str(group, "publicKeyDer"), &len);
    const unsigned char *p = der;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    if (key == NULL || p != der + len)
        fail_msg("publicKeyDer does not load");
    free(der);
    return key;
}

typedef struct tally {
    size_t run, valid, invalid, acceptable, mismatches;
} tally;

static void run_file(const vfile *vf, tally *t)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/wycheproof/%s", AVOW_VECTORS, vf->name);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL)
        fail_msg("%s: %s (line %d)", path, err.text, err.line);
    assert_string_equal(str(root, "schema"), vf->schema);
    json_int_t declared = json_integer_value(json_object_get(root, "numberOfTests"));
    size_t run = 0, gi;
    json_t *group;
    json_array_foreach(json_object_get(root, "testGroups"), gi, group)
    {
        EVP_PKEY *key = group_key(group);
        size_t ti;
        json_t *tc;
        json_array_foreach(json_object_get(group, "tests"), ti, tc)
        {
            size_t mlen, slen;
            uint8_t *msg = unhex(str(tc, "msg"), &mlen);
            uint8_t *sig = unhex(str(tc, "sig"), &slen);
            const char *result = str(tc, "result");
            int want = 0;
            if (strcmp(result, "valid") == 0) {
                want = 1;
                t->valid++;
            } else if (strcmp(result, "invalid") == 0) {
                want = 0;
                t->invalid++;
            } else if (strcmp(result, "acceptable") == 0) {
                t->acceptable++;
                if (!acceptable_verdict(json_object_get(tc, "flags"), &want))
                    fail_msg("%s tcId %lld: an acceptable case no rule decides (%s)", vf->name,
                             (long long)json_integer_value(json_object_get(tc, "tcId")),
                             str(tc, "comment"));
            } else {
                fail_msg("%s: result %s", vf->name, result);
            }
            avow_diag d = {0};
            avow_err rc =
                avow_sigalg_verify(vf->alg, key, mlen > 0 ? msg : NULL, mlen, sig, slen, &d);
            TU_NO_OSSL_ERR();
            int ok = want ? rc == AVOW_OK : rc == AVOW_ERR_SIG_INVALID;
            if (!ok) {
                json_t *flags = json_object_get(tc, "flags");
                char *ftext = json_dumps(flags, JSON_COMPACT);
                print_message("%s tcId %lld (%s, %s %s): avow says %s (%s)\n", vf->name,
                              (long long)json_integer_value(json_object_get(tc, "tcId")), result,
                              str(tc, "comment"), ftext != NULL ? ftext : "", avow_errname(rc),
                              d.detail);
                free(ftext);
                t->mismatches++;
            }
            if (rc != AVOW_OK)
                assert_int_equal(d.code, rc);
            free(msg);
            free(sig);
            run++;
        }
        EVP_PKEY_free(key);
    }
    if ((json_int_t)run != declared)
        fail_msg("%s: %zu cases run, the file declares %lld", vf->name, run, (long long)declared);
    t->run += run;
    json_decref(root);
}

static void test_vectors(void **state)
{
    (void)state;
    tally t = {0};
    for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
        tally ft = {0};
        run_file(&FILES[i], &ft);
        print_message("%-48s %4zu cases (%zu valid, %zu invalid, %zu acceptable), %zu wrong\n",
                      FILES[i].name, ft.run, ft.valid, ft.invalid, ft.acceptable, ft.mismatches);
        t.run += ft.run;
        t.mismatches += ft.mismatches;
    }
    assert_true(t.run > 3000);
    assert_int_equal(t.mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
