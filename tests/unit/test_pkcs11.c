/*
 * The PKCS#11 back end against SoftHSM2: every test gets a fresh token in a
 * temporary directory, so the tests share nothing and may run in any order.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <avow/avow.h>
#include <avow/pkcs11.h>

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN_LABEL    "avow-test"
#define USER_PIN       "1234"

extern char **environ;

typedef struct fx {
    char dir[64];
    char conf[96];
    avow_p11_module *mod;
    avow_p11_session *s;
} fx;

/* Runs argv with stdout to out_path (NULL: /dev/null); returns the exit status. */
static int run(const char *out_path, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st = 0;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/avow-p11-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char tokens[96], text[256];
    snprintf(tokens, sizeof(tokens), "%s/tokens", f->dir);
    assert_int_equal(mkdir(tokens, 0700), 0);
    snprintf(f->conf, sizeof(f->conf), "%s/softhsm2.conf", f->dir);
    snprintf(text, sizeof(text),
             "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
    write_text(f->conf, text);
    /* SoftHSM reads its configuration at C_Initialize, so this must come
     * before the module is loaded (and after the previous one finalised). */
    setenv("SOFTHSM2_CONF", f->conf, 1);
    char *init[] = {"softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
                    "--so-pin",      "12345678",     "--pin",  USER_PIN,  NULL};
    assert_int_equal(run(NULL, init), 0);

    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_module_load(SOFTHSM_MODULE, &f->mod, &d), AVOW_OK);
    assert_int_equal(
        avow_p11_session_open(f->mod, "pkcs11:token=" TOKEN_LABEL, AVOW_P11_RW, &f->s, &d),
        AVOW_OK);
    assert_int_equal(avow_p11_login(f->s, USER_PIN, &d), AVOW_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    avow_p11_session_free(f->s);
    avow_p11_module_free(f->mod);
    char *rm[] = {"rm", "-rf", f->dir, NULL};
    run(NULL, rm);
    unsetenv("SOFTHSM2_CONF");
    free(f);
    /* Every public call must leave the OpenSSL error queue empty; clear it
     * anyway so one failure does not cascade into the next test. */
    unsigned long left = ERR_peek_error();
    ERR_clear_error();
    assert_int_equal(left, 0);
    return 0;
}

static avow_p11_handle keygen(fx *f, avow_p11_keytype type, const char *label, uint8_t id,
                              int sensitive, int extractable)
{
    avow_p11_keygen_params p;
    avow_p11_keygen_params_init(&p);
    p.type = type;
    p.rsa_bits = 2048;
    p.label = label;
    p.id = &id;
    p.id_len = 1;
    p.sensitive = sensitive;
    p.extractable = extractable;
    avow_p11_handle priv = 0, pub = 0;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_p11_keygen(f->s, &p, &priv, &pub, &d);
    if (e != AVOW_OK)
        print_error("keygen: %s\n", d.detail);
    assert_int_equal(e, AVOW_OK);
    assert_true(priv != 0 && pub != 0);
    return priv;
}

static const avow_claim *find_claim(const avow_element *el, avow_claim_id id,
                                    const avow_claim *after)
{
    size_t i = 0;
    if (after != NULL)
        i = (size_t)(after - el->claims) + 1;
    for (; i < el->nclaims; i++)
        if (el->claims[i].id == id)
            return &el->claims[i];
    return NULL;
}

static int claim_bool(const avow_element *el, avow_claim_id id)
{
    const avow_claim *c = find_claim(el, id, NULL);
    assert_non_null(c);
    assert_int_equal(c->value.type, AVOW_VALUE_BOOL);
    return (int)c->value.integer;
}

static int has_purpose(const avow_element *el, avow_capability cap)
{
    const avow_claim *c = find_claim(el, AVOW_CLAIM_KEY_PURPOSE, NULL);
    assert_non_null(c);
    for (size_t i = 0; i < c->value.npurposes; i++)
        if (c->value.purposes[i].cap == cap)
            return 1;
    return 0;
}

/* Builds an Evidence with one key element for key; returns the element. */
static const avow_element *key_element(fx *f, avow_p11_handle key, avow_evidence **ev)
{
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_evidence_new(NULL, ev), AVOW_OK);
    size_t idx = 99;
    avow_err e = avow_p11_add_key_claims(f->s, key, *ev, &idx, &d);
    if (e != AVOW_OK)
        print_error("key claims: %s %s\n", d.field, d.detail);
    assert_int_equal(e, AVOW_OK);
    assert_int_equal(idx, 0);
    const avow_element *el = avow_evidence_get0_element(*ev, idx);
    assert_non_null(el);
    assert_int_equal(el->kind, AVOW_ELEMENT_KEY);
    return el;
}

static EVP_PKEY *spki_key(const avow_element *el)
{
    const avow_claim *c = find_claim(el, AVOW_CLAIM_KEY_SPKI, NULL);
    assert_non_null(c);
    const unsigned char *p = c->value.bytes.ptr;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)c->value.bytes.len);
    assert_non_null(k);
    return k;
}

/* --- claims --- */

static void test_claims_nonextractable(void **state)
{
    fx *f = *state;
    avow_p11_handle k = keygen(f, AVOW_P11_KEY_EC_P256, "ak", 0xa1, 1, 0);
    avow_evidence *ev = NULL;
    const avow_element *el = key_element(f, k, &ev);

    const avow_claim *id1 = find_claim(el, AVOW_CLAIM_KEY_IDENTIFIER, NULL);
    assert_non_null(id1);
    assert_int_equal(id1->value.bytes.len, 2);
    assert_memory_equal(id1->value.bytes.ptr, "ak", 2);
    const avow_claim *id2 = find_claim(el, AVOW_CLAIM_KEY_IDENTIFIER, id1);
    assert_non_null(id2);
    assert_int_equal(id2->value.bytes.len, 2);
    assert_memory_equal(id2->value.bytes.ptr, "a1", 2);

    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_SENSITIVE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_EXTRACTABLE), 0);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_LOCAL), 1);
    assert_null(find_claim(el, AVOW_CLAIM_KEY_EXPIRY, NULL));
    assert_true(has_purpose(el, AVOW_CAP_SIGN));
    assert_true(has_purpose(el, AVOW_CAP_VERIFY));
    assert_false(has_purpose(el, AVOW_CAP_DECRYPT));
    assert_false(has_purpose(el, AVOW_CAP_DERIVE));

    /* the spki claim is the token's public key */
    EVP_PKEY *claimed = spki_key(el), *tok = NULL;
    assert_int_equal(avow_p11_get1_pubkey(f->s, k, &tok, NULL), AVOW_OK);
    assert_int_equal(EVP_PKEY_eq(claimed, tok), 1);
    assert_int_equal(EVP_PKEY_get_bits(tok), 256);
    EVP_PKEY_free(claimed);
    EVP_PKEY_free(tok);
    avow_evidence_free(ev);
}

static void test_claims_extractable(void **state)
{
    fx *f = *state;
    avow_p11_handle k = keygen(f, AVOW_P11_KEY_EC_P384, "exportable", 0x02, 0, 1);
    avow_evidence *ev = NULL;
    const avow_element *el = key_element(f, k, &ev);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_EXTRACTABLE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_SENSITIVE), 0);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE), 0);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_LOCAL), 1);
    avow_evidence_free(ev);
}

static void test_claims_expiry_and_caps(void **state)
{
    fx *f = *state;
    uint8_t id = 7;
    avow_p11_keygen_params p;
    avow_p11_keygen_params_init(&p);
    p.type = AVOW_P11_KEY_RSA;
    p.rsa_bits = 2048;
    p.id = &id;
    p.id_len = 1;
    p.sensitive = 1;
    p.end_date = "20301231";
    p.caps = (1u << AVOW_CAP_DECRYPT) | (1u << AVOW_CAP_ENCRYPT) | (1u << AVOW_CAP_SIGN);
    avow_p11_handle k = 0;
    assert_int_equal(avow_p11_keygen(f->s, &p, &k, NULL, NULL), AVOW_OK);

    avow_evidence *ev = NULL;
    const avow_element *el = key_element(f, k, &ev);
    /* no label: the hex id is the only identifier */
    const avow_claim *id1 = find_claim(el, AVOW_CLAIM_KEY_IDENTIFIER, NULL);
    assert_non_null(id1);
    assert_memory_equal(id1->value.bytes.ptr, "07", 2);
    assert_null(find_claim(el, AVOW_CLAIM_KEY_IDENTIFIER, id1));
    const avow_claim *exp = find_claim(el, AVOW_CLAIM_KEY_EXPIRY, NULL);
    assert_non_null(exp);
    assert_int_equal((long long)exp->value.time, 1924991999LL); /* 2030-12-31T23:59:59Z */
    assert_true(has_purpose(el, AVOW_CAP_DECRYPT));
    assert_true(has_purpose(el, AVOW_CAP_ENCRYPT));
    assert_true(has_purpose(el, AVOW_CAP_SIGN));
    assert_false(has_purpose(el, AVOW_CAP_VERIFY));

    avow_diag d;
    avow_p11_keygen_params bad = {.size = sizeof(bad), .end_date = "2030-12"};
    assert_int_equal(avow_p11_keygen(f->s, &bad, NULL, NULL, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "end_date");
    avow_evidence_free(ev);
}

/* The fields pkcs11-tool prints for the private key labelled `label`. */
static void tool_lines(fx *f, const char *label, char *usage, char *access, size_t cap)
{
    char out[128];
    snprintf(out, sizeof(out), "%s/list.txt", f->dir);
    char *argv[] = {"pkcs11-tool", "--module",       SOFTHSM_MODULE, "--login", "--pin",
                    USER_PIN,      "--list-objects", "--type",       "privkey", NULL};
    assert_int_equal(run(out, argv), 0);
    FILE *fp = fopen(out, "r");
    assert_non_null(fp);
    char line[512];
    int in = 0;
    usage[0] = access[0] = '\0';
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *v = strchr(line, ':');
        if (strncmp(line, "Private Key Object", 18) == 0)
            in = 0;
        if (v == NULL)
            continue;
        for (v++; *v == ' '; v++)
            ;
        v[strcspn(v, "\n")] = '\0';
        if (strstr(line, "label:") != NULL)
            in = strcmp(v, label) == 0;
        else if (in && strstr(line, "Usage:") != NULL)
            snprintf(usage, cap, "%s", v);
        else if (in && strstr(line, "Access:") != NULL)
            snprintf(access, cap, "%s", v);
    }
    fclose(fp);
}

static void test_claims_match_pkcs11_tool(void **state)
{
    fx *f = *state;
    avow_p11_handle k = keygen(f, AVOW_P11_KEY_EC_P256, "ak", 0xa1, 1, 0);
    avow_p11_handle x = keygen(f, AVOW_P11_KEY_EC_P256, "ex", 0xa2, 0, 1);
    char usage[256], access[256];

    avow_evidence *ev = NULL;
    const avow_element *el = key_element(f, k, &ev);
    tool_lines(f, "ak", usage, access, sizeof(usage));
    assert_non_null(strstr(access, "sensitive"));
    assert_non_null(strstr(access, "never extractable"));
    assert_null(strstr(access, ", extractable"));
    assert_non_null(strstr(access, "local"));
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_SENSITIVE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_EXTRACTABLE), 0);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_LOCAL), 1);
    /* pkcs11-tool prints the private object's usage only */
    assert_string_equal(usage, "sign");
    assert_true(has_purpose(el, AVOW_CAP_SIGN));
    avow_evidence_free(ev);

    el = key_element(f, x, &ev);
    tool_lines(f, "ex", usage, access, sizeof(usage));
    assert_non_null(strstr(access, "extractable"));
    assert_null(strstr(access, "never extractable"));
    assert_null(strstr(access, "sensitive"));
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_EXTRACTABLE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_SENSITIVE), 0);
    avow_evidence_free(ev);
}

static void test_platform_claims(void **state)
{
    fx *f = *state;
    avow_evidence *ev = NULL;
    size_t idx = 0;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &idx, NULL), AVOW_OK);
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_p11_add_platform_claims(f->s, ev, idx, &d);
    if (e != AVOW_OK)
        print_error("platform: %s\n", d.detail);
    assert_int_equal(e, AVOW_OK);
    const avow_element *el = avow_evidence_get0_element(ev, idx);
    const avow_claim *c = find_claim(el, AVOW_CLAIM_VENDOR, NULL);
    assert_non_null(c);
    assert_int_equal(c->value.bytes.len, strlen("SoftHSM project"));
    assert_memory_equal(c->value.bytes.ptr, "SoftHSM project", c->value.bytes.len);
    c = find_claim(el, AVOW_CLAIM_HWMODEL, NULL);
    assert_non_null(c);
    assert_memory_equal(c->value.bytes.ptr, "SoftHSM v2", c->value.bytes.len);
    assert_non_null(find_claim(el, AVOW_CLAIM_HWSERIAL, NULL));
    assert_non_null(find_claim(el, AVOW_CLAIM_HWVERSION, NULL));
    assert_non_null(find_claim(el, AVOW_CLAIM_SWNAME, NULL));
    c = find_claim(el, AVOW_CLAIM_SWVERSION, NULL);
    assert_non_null(c);
    assert_memory_equal(c->value.bytes.ptr, "fw ", 3);
    assert_null(find_claim(el, AVOW_CLAIM_FIPSBOOT, NULL));
    avow_evidence_free(ev);
}

/* --- errors --- */

static void test_wrong_pin(void **state)
{
    fx *f = *state;
    avow_p11_session *s2 = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    /* SoftHSM logs in per token, so log the fixture's session out first by closing it. */
    avow_p11_session_free(f->s);
    f->s = NULL;
    assert_int_equal(avow_p11_session_open(f->mod, NULL, 0, &s2, &d), AVOW_OK);
    assert_int_equal(avow_p11_login(s2, "0000", &d), AVOW_ERR_PIN);
    assert_int_equal(d.code, AVOW_ERR_PIN);
    assert_int_equal(d.backend, 0xa0); /* CKR_PIN_INCORRECT */
    assert_non_null(strstr(d.detail, "C_Login"));
    assert_int_equal(avow_p11_login(s2, USER_PIN, &d), AVOW_OK);
    avow_p11_session_free(s2);
}

static void test_missing_module(void **state)
{
    (void)state;
    avow_p11_module *m = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_p11_module_load("/nonexistent/libnothing.so", &m, &d);
    assert_int_equal(e, AVOW_ERR_NOT_FOUND);
    assert_null(m);
    assert_non_null(strstr(d.detail, "/nonexistent/libnothing.so"));
    e = avow_p11_module_load("no-such-p11-kit-module", &m, &d);
    assert_true(e == AVOW_ERR_NOT_FOUND || e == AVOW_ERR_PKCS11);
    assert_non_null(strstr(d.detail, "no-such-p11-kit-module"));
    /* a file that is not a module */
    e = avow_p11_module_load("/etc/hostname", &m, &d);
    assert_int_equal(e, AVOW_ERR_PKCS11);
    assert_null(m);
}

static void test_missing_key_and_token(void **state)
{
    fx *f = *state;
    keygen(f, AVOW_P11_KEY_EC_P256, "ak", 0xa1, 1, 0);
    avow_p11_handle h = 0;
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:object=nope", &h, &d), AVOW_ERR_NOT_FOUND);
    assert_int_equal(h, 0);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:id=%a2", &h, &d), AVOW_ERR_NOT_FOUND);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:token=other;object=ak", &h, &d),
                     AVOW_ERR_NOT_FOUND);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:", &h, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_p11_find_key(f->s, "http://x", &h, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:object=ak;id=%a1", &h, &d), AVOW_OK);
    assert_int_not_equal(h, 0);
    assert_int_equal(
        avow_p11_find_key(f->s, "pkcs11:token=" TOKEN_LABEL ";object=ak;type=public", &h, &d),
        AVOW_OK);

    avow_evidence *ev = NULL;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_p11_add_key_claims_uri(f->s, "pkcs11:object=gone", ev, NULL, &d),
                     AVOW_ERR_NOT_FOUND);
    assert_int_equal(avow_evidence_element_count(ev), 0);
    avow_evidence_free(ev);

    avow_p11_session *s2 = NULL;
    assert_int_equal(avow_p11_session_open(f->mod, "pkcs11:token=absent", 0, &s2, &d),
                     AVOW_ERR_NOT_FOUND);
    assert_null(s2);
    assert_int_equal(
        avow_p11_session_open(f->mod, "pkcs11:library-manufacturer=Nobody", 0, &s2, &d),
        AVOW_ERR_NOT_FOUND);
    X509 *cert = NULL;
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:object=ak", &h, &d), AVOW_OK);
    assert_int_equal(avow_p11_get1_cert(f->s, h, &cert, &d), AVOW_ERR_NOT_FOUND);
}

static void test_pin_resolve(void **state)
{
    fx *f = *state;
    avow_buf pin = {0};
    avow_diag d;
    char path[128], spec[160], uri[200];
    snprintf(path, sizeof(path), "%s/pin.txt", f->dir);
    write_text(path, "4321\n");
    /* Readable by others: refused like ssh refuses such keys, through either way of naming it. */
    assert_int_equal(chmod(path, 0644), 0);
    snprintf(spec, sizeof(spec), "file:%s", path);
    assert_int_equal(avow_p11_pin_resolve(NULL, spec, &pin, &d), AVOW_ERR_PERMISSION);
    assert_non_null(strstr(d.detail, "chmod 600"));
    snprintf(uri, sizeof(uri), "pkcs11:token=x?pin-source=file:%s", path);
    assert_int_equal(avow_p11_pin_resolve(uri, NULL, &pin, &d), AVOW_ERR_PERMISSION);
    assert_int_equal(chmod(path, 0620), 0); /* writable by the group */
    assert_int_equal(avow_p11_pin_resolve(NULL, spec, &pin, &d), AVOW_ERR_PERMISSION);
    assert_null(pin.ptr);
    assert_int_equal(chmod(path, 0600), 0);

    assert_int_equal(avow_p11_pin_resolve(NULL, "pass:1234", &pin, &d), AVOW_OK);
    assert_string_equal((char *)pin.ptr, "1234");
    avow_buf_free(&pin);
    setenv("AVOW_TEST_PIN", "9876", 1);
    assert_int_equal(avow_p11_pin_resolve("pkcs11:pin-value=1111", "env:AVOW_TEST_PIN", &pin, &d),
                     AVOW_OK);
    assert_string_equal((char *)pin.ptr, "9876");
    avow_buf_free(&pin);
    unsetenv("AVOW_TEST_PIN");
    assert_int_equal(avow_p11_pin_resolve(NULL, "env:AVOW_TEST_PIN", &pin, &d), AVOW_ERR_NO_PIN);
    snprintf(spec, sizeof(spec), "file:%s", path);
    assert_int_equal(avow_p11_pin_resolve(NULL, spec, &pin, &d), AVOW_OK);
    assert_string_equal((char *)pin.ptr, "4321");
    assert_int_equal(pin.len, 4);
    avow_buf_free(&pin);
    assert_int_equal(avow_p11_pin_resolve("pkcs11:token=x;pin-value=1111", NULL, &pin, &d),
                     AVOW_OK);
    assert_string_equal((char *)pin.ptr, "1111");
    avow_buf_free(&pin);
    snprintf(uri, sizeof(uri), "pkcs11:token=x?pin-source=file:%s", path);
    assert_int_equal(avow_p11_pin_resolve(uri, NULL, &pin, &d), AVOW_OK);
    assert_string_equal((char *)pin.ptr, "4321");
    avow_buf_free(&pin);
    assert_int_equal(avow_p11_pin_resolve("pkcs11:token=x", NULL, &pin, &d), AVOW_ERR_NO_PIN);
    assert_int_equal(d.code, AVOW_ERR_NO_PIN);
    assert_string_equal(d.field, "pin");
    assert_int_equal(avow_p11_pin_resolve(NULL, NULL, &pin, &d), AVOW_ERR_NO_PIN);
    assert_int_equal(avow_p11_pin_resolve(NULL, "file:/nonexistent/pin", &pin, &d), AVOW_ERR_IO);
    assert_int_equal(avow_p11_pin_resolve(NULL, "stdin", &pin, &d), AVOW_ERR_ARG);
    assert_null(pin.ptr);
}

static void test_uri_redact(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        unsigned flags;
        const char *out;
    } cases[] = {
        {"pkcs11:token=ca;object=k?pin-value=1234", 0, "pkcs11:token=ca;object=k"},
        {"pkcs11:token=ca;pin-value=1234;object=k", 0, "pkcs11:token=ca;object=k"},
        {"pkcs11:token=ca?module-name=softhsm2&pin-value=1234", 0,
         "pkcs11:token=ca?module-name=softhsm2"},
        {"pkcs11:token=ca?pin-value=1234&module-name=x", 0, "pkcs11:token=ca?module-name=x"},
        {"pkcs11:token=ca?PIN-Value=1234", 0, "pkcs11:token=ca"},
        {"pkcs11:token=ca?pin%2Dvalue=1234", 0, "pkcs11:token=ca"},
        {"pkcs11:token=ca?pin-source=file:/p", 0, "pkcs11:token=ca?pin-source=file:/p"},
        {"pkcs11:token=ca?pin-source=file:/p", AVOW_P11_REDACT_PIN_SOURCE, "pkcs11:token=ca"},
        {"pkcs11:pin-value=1", 0, "pkcs11:"},
        {"pkcs11:token=ca;object=k", 0, "pkcs11:token=ca;object=k"},
        {"ca.key", 0, "ca.key"},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = avow_p11_uri_redact(cases[i].in, cases[i].flags, buf, sizeof(buf));
        if (strcmp(buf, cases[i].out) != 0)
            fail_msg("%s -> %s, wanted %s", cases[i].in, buf, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
    /* Truncation keeps the terminator and still reports the full length. */
    char small[10];
    assert_int_equal(avow_p11_uri_redact("pkcs11:token=ca;object=k", 0, small, sizeof(small)), 24);
    assert_string_equal(small, "pkcs11:to");
}

static void test_uri_errors_hide_pin(void **state)
{
    fx *f = *state;
    avow_diag d;
    avow_p11_handle h = 0;
    avow_p11_session *s2 = NULL;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:object=nope?pin-value=SECRET42", &h, &d),
                     AVOW_ERR_NOT_FOUND);
    assert_null(strstr(d.detail, "SECRET42"));
    assert_non_null(strstr(d.detail, "object=nope"));
    assert_int_equal(
        avow_p11_session_open(f->mod, "pkcs11:token=absent?pin-value=SECRET42", 0, &s2, &d),
        AVOW_ERR_NOT_FOUND);
    assert_null(strstr(d.detail, "SECRET42"));
    assert_int_equal(avow_p11_session_open(f->mod, "pkcs11:bogus=1;pin-value=SECRET42", 0, &s2, &d),
                     AVOW_ERR_ARG);
    assert_null(strstr(d.detail, "SECRET42"));
    assert_int_equal(
        avow_p11_session_open(f->mod, "pkcs11:token=%zz;pin-value=SECRET42", 0, &s2, &d),
        AVOW_ERR_ARG);
    assert_null(strstr(d.detail, "SECRET42"));
}

static void test_p11_open(void **state)
{
    fx *f = *state;
    keygen(f, AVOW_P11_KEY_EC_P256, "k", 0xb1, 1, 0);
    avow_p11_session_free(f->s); /* start logged out */
    f->s = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_p11_session *s = NULL;
    avow_p11_handle h = 0;
    /* PIN from the spec: logged in, private key found. */
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, "pkcs11:token=" TOKEN_LABEL ";object=k",
                                   "pass:" USER_PIN, AVOW_P11_LOGIN, &s, &d),
                     AVOW_OK);
    assert_int_equal(avow_p11_find_key(s, "pkcs11:object=k", &h, &d), AVOW_OK);
    avow_p11_session_free(s);
    s = NULL;
    /* PIN from the URI. */
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE,
                                   "pkcs11:token=" TOKEN_LABEL "?pin-value=" USER_PIN, NULL,
                                   AVOW_P11_LOGIN, &s, &d),
                     AVOW_OK);
    avow_p11_session_free(s);
    s = NULL;
    /* No PIN: fine unless one is required. */
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, NULL, NULL, 0, &s, &d), AVOW_OK);
    avow_p11_session_free(s);
    s = NULL;
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, NULL, NULL, AVOW_P11_LOGIN, &s, &d),
                     AVOW_ERR_NO_PIN);
    assert_null(s);
    unsetenv("AVOW_TEST_NO_PIN");
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, NULL, "env:AVOW_TEST_NO_PIN", 0, &s, &d),
                     AVOW_ERR_NO_PIN);
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, NULL, "pass:0000", 0, &s, &d), AVOW_ERR_PIN);
    assert_null(s);
    assert_int_equal(avow_p11_open("/nonexistent/lib.so", NULL, "pass:1", 0, &s, &d),
                     AVOW_ERR_NOT_FOUND);
    assert_int_equal(avow_p11_open(NULL, NULL, NULL, 0, &s, &d), AVOW_ERR_ARG);
}

static void test_end_date_calendar(void **state)
{
    fx *f = *state;
    static const char *const bad[] = {"20260230", "20230229", "21000229",  "20260431",
                                      "20261301", "20260000", "2026-02-28"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        avow_p11_keygen_params p = {.size = sizeof(p), .end_date = bad[i], .label = "x"};
        avow_diag d;
        avow_diag_clear(&d);
        if (avow_p11_keygen(f->s, &p, NULL, NULL, &d) != AVOW_ERR_ARG)
            fail_msg("end date %s accepted", bad[i]);
        assert_string_equal(d.field, "end_date");
    }
    avow_p11_keygen_params ok = {
        .size = sizeof(ok), .end_date = "20240229", .label = "leap", .session_only = 1};
    assert_int_equal(avow_p11_keygen(f->s, &ok, NULL, NULL, NULL), AVOW_OK);
    ok.end_date = "20000229";
    assert_int_equal(avow_p11_keygen(f->s, &ok, NULL, NULL, NULL), AVOW_OK);
}

/* --- signing --- */

/* An independent check through the EVP API, not avow's verifier. */
static int evp_verify(EVP_PKEY *k, const char *md, int pss, const uint8_t *data, size_t len,
                      const avow_buf *sig)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, k, NULL) == 1;
    if (ok && pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestVerify(ctx, sig->ptr, sig->len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static void sign_and_check(fx *f, avow_p11_keytype type, avow_sigalg alg, const char *md, int pss)
{
    avow_p11_handle k = keygen(f, type, "signer", 0x51, 1, 0);
    avow_signer *sg = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_p11_signer_new(f->s, k, alg, &sg, &d);
    if (e != AVOW_OK)
        print_error("signer: %s\n", d.detail);
    assert_int_equal(e, AVOW_OK);
    avow_sigalg got = avow_signer_alg(sg);
    if (alg != AVOW_SIGALG_NONE)
        assert_int_equal(got, alg);

    static const uint8_t msg[] = "attest me, token";
    avow_buf sig = {0};
    e = avow_signer_sign(sg, msg, sizeof(msg), &sig, &d);
    if (e != AVOW_OK)
        print_error("sign: %s\n", d.detail);
    assert_int_equal(e, AVOW_OK);

    /* the key from the token's attributes, not the signer's copy */
    EVP_PKEY *pub = NULL;
    assert_int_equal(avow_p11_get1_pubkey(f->s, k, &pub, &d), AVOW_OK);
    assert_int_equal(avow_sigalg_verify(got, pub, msg, sizeof(msg), sig.ptr, sig.len, &d), AVOW_OK);
    assert_true(evp_verify(pub, md, pss, msg, sizeof(msg), &sig));
    assert_int_equal(avow_sigalg_verify(got, pub, msg, sizeof(msg) - 1, sig.ptr, sig.len, &d),
                     AVOW_ERR_SIG_INVALID);
    if (type != AVOW_P11_KEY_RSA) {
        /* DER ECDSA-Sig-Value, never r || s */
        const unsigned char *p = sig.ptr;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig.len);
        assert_non_null(es);
        assert_ptr_equal(p, sig.ptr + sig.len);
        ECDSA_SIG_free(es);
    }
    avow_buf_free(&sig);
    EVP_PKEY_free(pub);
    avow_signer_free(sg);
}

static void test_sign_p256(void **state)
{
    sign_and_check(*state, AVOW_P11_KEY_EC_P256, AVOW_SIGALG_NONE, "SHA256", 0);
}

static void test_sign_p384(void **state)
{
    sign_and_check(*state, AVOW_P11_KEY_EC_P384, AVOW_SIGALG_ECDSA_SHA384, "SHA384", 0);
}

static void test_sign_rsa_pkcs1(void **state)
{
    sign_and_check(*state, AVOW_P11_KEY_RSA, AVOW_SIGALG_RSA_PKCS1_SHA256, "SHA256", 0);
}

static void test_sign_rsa_pkcs1_sha512(void **state)
{
    sign_and_check(*state, AVOW_P11_KEY_RSA, AVOW_SIGALG_RSA_PKCS1_SHA512, "SHA512", 0);
}

static void test_sign_rsa_pss(void **state)
{
    sign_and_check(*state, AVOW_P11_KEY_RSA, AVOW_SIGALG_RSA_PSS_SHA256, "SHA256", 1);
}

static void test_sign_rsa_pss384(void **state)
{
    sign_and_check(*state, AVOW_P11_KEY_RSA, AVOW_SIGALG_RSA_PSS_SHA384, "SHA384", 1);
}

static void test_signer_alg_mismatch_and_lifetime(void **state)
{
    fx *f = *state;
    avow_p11_handle k = keygen(f, AVOW_P11_KEY_EC_P256, "ak", 0xa1, 1, 0);
    avow_signer *sg = NULL;
    avow_diag d;
    assert_int_equal(avow_p11_signer_new(f->s, k, AVOW_SIGALG_RSA_PSS_SHA256, &sg, &d),
                     AVOW_ERR_ALG_MISMATCH);
    assert_null(sg);
    assert_int_equal(avow_p11_signer_new(f->s, k, AVOW_SIGALG_NONE, &sg, &d), AVOW_OK);
    assert_int_equal(avow_signer_alg(sg), AVOW_SIGALG_ECDSA_SHA256);

    /* The signer keeps session and module alive after the caller lets go. */
    avow_p11_session_free(f->s);
    avow_p11_module_free(f->mod);
    f->s = NULL;
    f->mod = NULL;
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(sg, (const uint8_t *)"x", 1, &sig, &d), AVOW_OK);
    assert_int_equal(avow_sigalg_verify(AVOW_SIGALG_ECDSA_SHA256, avow_signer_get0_pubkey(sg),
                                        (const uint8_t *)"x", 1, sig.ptr, sig.len, &d),
                     AVOW_OK);
    avow_buf_free(&sig);
    avow_signer_free(sg);
}

static void test_sign_needs_login(void **state)
{
    fx *f = *state;
    avow_p11_handle k = keygen(f, AVOW_P11_KEY_EC_P256, "ak", 0xa1, 1, 0);
    (void)k;
    /* A fresh session on a token nobody is logged in to sees no private key. */
    avow_p11_session_free(f->s);
    f->s = NULL;
    avow_p11_session *s2 = NULL;
    avow_diag d;
    assert_int_equal(avow_p11_session_open(f->mod, NULL, 0, &s2, &d), AVOW_OK);
    avow_p11_handle h = 0;
    assert_int_equal(avow_p11_find_key(s2, "pkcs11:object=ak", &h, &d), AVOW_ERR_NOT_FOUND);
    assert_non_null(strstr(d.detail, "login"));
    avow_p11_session_free(s2);
}

/*
 * Stores a certificate for subject (NULL: a key of its own) in the token
 * with CKA_ID id_hex, through pkcs11-tool; returns it.
 */
static X509 *store_cert(fx *f, EVP_PKEY *subject, const char *id_hex)
{
    EVP_PKEY *sk = EVP_EC_gen("P-256");
    assert_non_null(sk);
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"ak", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, subject != NULL ? subject : sk);
    assert_true(X509_sign(x, sk, EVP_sha256()) > 0);
    EVP_PKEY_free(sk);
    char path[128];
    snprintf(path, sizeof(path), "%s/cert.der", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(i2d_X509_fp(fp, x), 1);
    fclose(fp);
    char *argv[] = {"pkcs11-tool", "--module",       SOFTHSM_MODULE, "--login", "--pin",
                    USER_PIN,      "--write-object", path,           "--type",  "cert",
                    "--id",        (char *)id_hex,   "--label",      "ak",      NULL};
    assert_int_equal(run(NULL, argv), 0);
    return x;
}

static void test_certificate_from_token(void **state)
{
    fx *f = *state;
    avow_p11_handle k = keygen(f, AVOW_P11_KEY_EC_P256, "ak", 0xa1, 1, 0);
    /* Any certificate will do: the lookup goes by CKA_ID only. */
    X509 *x = store_cert(f, NULL, "a1");
    X509 *got = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_p11_get1_cert(f->s, k, &got, &d);
    if (e != AVOW_OK)
        print_error("cert: %s\n", d.detail);
    assert_int_equal(e, AVOW_OK);
    assert_int_equal(X509_cmp(got, x), 0);
    X509_free(got);
    X509_free(x);
}

/* --- errors callers switch on --- */

static void test_ambiguous_object(void **state)
{
    fx *f = *state;
    keygen(f, AVOW_P11_KEY_EC_P256, "dup", 0x01, 1, 0);
    keygen(f, AVOW_P11_KEY_EC_P256, "dup", 0x02, 1, 0);
    avow_p11_handle h = 0;
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:object=dup?pin-value=SECRET42", &h, &d),
                     AVOW_ERR_AMBIGUOUS);
    assert_int_equal(d.code, AVOW_ERR_AMBIGUOUS);
    assert_string_equal(d.field, "uri");
    assert_non_null(strstr(d.detail, "object=dup"));
    assert_null(strstr(d.detail, "SECRET42"));
    assert_int_equal(h, 0);
    assert_int_equal(avow_p11_find_key(f->s, "pkcs11:object=dup;id=%02", &h, &d), AVOW_OK);
    /* Every caller of the look-up sees the same code. */
    avow_evidence *ev = NULL;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_p11_add_key_claims_uri(f->s, "pkcs11:object=dup", ev, NULL, &d),
                     AVOW_ERR_AMBIGUOUS);
    assert_int_equal(avow_evidence_element_count(ev), 0);
    avow_evidence_free(ev);
    avow_signer_open_opts o;
    avow_signer_open_opts_init(&o);
    o.pkcs11_module = SOFTHSM_MODULE;
    o.pin_source = "pass:" USER_PIN;
    avow_signer *sg = NULL;
    assert_int_equal(avow_signer_open("pkcs11:token=" TOKEN_LABEL ";object=dup", &o, &sg, &d),
                     AVOW_ERR_AMBIGUOUS);
    assert_null(sg);
}

static void test_ambiguous_token(void **state)
{
    fx *f = *state;
    /* SoftHSM reads its token directory at C_Initialize: finalise it before adding a token. */
    avow_p11_session_free(f->s);
    avow_p11_module_free(f->mod);
    f->s = NULL;
    f->mod = NULL;
    char *init[] = {"softhsm2-util", "--init-token", "--free", "--label", "avow-test-2",
                    "--so-pin",      "12345678",     "--pin",  USER_PIN,  NULL};
    assert_int_equal(run(NULL, init), 0);
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_module_load(SOFTHSM_MODULE, &f->mod, &d), AVOW_OK);
    avow_p11_session *s = NULL;
    assert_int_equal(avow_p11_session_open(f->mod, "pkcs11:?pin-value=SECRET42", 0, &s, &d),
                     AVOW_ERR_AMBIGUOUS);
    assert_null(s);
    assert_string_equal(d.field, "uri");
    assert_non_null(strstr(d.detail, "2 tokens match"));
    assert_null(strstr(d.detail, "SECRET42"));
    assert_int_equal(avow_p11_session_open(f->mod, NULL, 0, &s, &d), AVOW_ERR_AMBIGUOUS);
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, "pkcs11:model=SoftHSM%20v2", "pass:" USER_PIN,
                                   AVOW_P11_LOGIN, &s, &d),
                     AVOW_ERR_AMBIGUOUS);
    assert_null(s);
    /* Naming one of them is enough. */
    assert_int_equal(avow_p11_session_open(f->mod, "pkcs11:token=avow-test-2", 0, &s, &d), AVOW_OK);
    avow_p11_session_free(s);
    assert_int_equal(avow_p11_session_open(f->mod, "pkcs11:token=" TOKEN_LABEL, 0, &f->s, &d),
                     AVOW_OK);
}

static void test_no_pin(void **state)
{
    fx *f = *state;
    keygen(f, AVOW_P11_KEY_EC_P256, "k", 0xb1, 1, 0);
    /* Logged out, so that a wrong PIN below meets C_Login (login state is per token). */
    avow_p11_session_free(f->s);
    f->s = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_p11_session *s = NULL;
    assert_int_equal(avow_p11_open(SOFTHSM_MODULE, "pkcs11:token=" TOKEN_LABEL ";object=k", NULL,
                                   AVOW_P11_LOGIN, &s, &d),
                     AVOW_ERR_NO_PIN);
    assert_int_equal(d.code, AVOW_ERR_NO_PIN);
    assert_null(s);
    avow_signer_open_opts o;
    avow_signer_open_opts_init(&o);
    o.pkcs11_module = SOFTHSM_MODULE;
    avow_signer *sg = NULL;
    assert_int_equal(avow_signer_open("pkcs11:token=" TOKEN_LABEL ";object=k", &o, &sg, &d),
                     AVOW_ERR_NO_PIN);
    unsetenv("AVOW_TEST_NO_PIN");
    o.pin_source = "env:AVOW_TEST_NO_PIN";
    assert_int_equal(avow_signer_open("pkcs11:token=" TOKEN_LABEL ";object=k", &o, &sg, &d),
                     AVOW_ERR_NO_PIN);
    assert_non_null(strstr(d.detail, "AVOW_TEST_NO_PIN"));
    assert_null(sg);
    /* A wrong PIN is another matter. */
    o.pin_source = "pass:0000";
    assert_int_equal(avow_signer_open("pkcs11:token=" TOKEN_LABEL ";object=k", &o, &sg, &d),
                     AVOW_ERR_PIN);
    assert_null(sg);
}

/* --- the API's types and parameter structs --- */

static void test_handles_and_params(void **state)
{
    fx *f = *state;
    _Static_assert(sizeof(avow_p11_handle) == 8, "handles are 64 bits on every platform");
    avow_p11_keygen_params p;
    memset(&p, 0xa5, sizeof(p));
    avow_p11_keygen_params_init(&p);
    assert_int_equal(p.size, sizeof(p));
    assert_int_equal(p.type, AVOW_P11_KEY_EC_P256);
    assert_int_equal(p.sensitive, 1);
    assert_int_equal(p.extractable, 0);
    assert_int_equal(p.session_only, 0);
    assert_int_equal(p.rsa_bits, 0);
    assert_int_equal(p.caps, 0);
    assert_null(p.label);
    assert_null(p.id);
    assert_int_equal(p.id_len, 0);
    assert_null(p.end_date);
    avow_p11_keygen_params_init(NULL);

    /* The defaults make a sensitive, non-extractable P-256 key. */
    p.label = "defaults";
    avow_p11_handle priv = 0;
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_keygen(f->s, &p, &priv, NULL, &d), AVOW_OK);
    avow_evidence *ev = NULL;
    const avow_element *el = key_element(f, priv, &ev);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_SENSITIVE), 1);
    assert_int_equal(claim_bool(el, AVOW_CLAIM_KEY_EXTRACTABLE), 0);
    avow_evidence_free(ev);
    EVP_PKEY *pub = NULL;
    assert_int_equal(avow_p11_get1_pubkey(f->s, priv, &pub, &d), AVOW_OK);
    assert_int_equal(EVP_PKEY_get_bits(pub), 256);
    EVP_PKEY_free(pub);

    /* Parameters not made by the _init (an older or newer struct) are refused. */
    avow_p11_keygen_params old = {.label = "old"};
    assert_int_equal(avow_p11_keygen(f->s, &old, NULL, NULL, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "params.size");
    old.size = sizeof(old) - 1;
    assert_int_equal(avow_p11_keygen(f->s, &old, NULL, NULL, &d), AVOW_ERR_ARG);

    /* Handle 0 is never an object. */
    assert_int_equal(avow_p11_get1_pubkey(f->s, 0, &pub, &d), AVOW_ERR_ARG);
    avow_signer *sg = NULL;
    assert_int_equal(avow_p11_signer_new(f->s, 0, AVOW_SIGALG_NONE, &sg, &d), AVOW_ERR_ARG);
    assert_null(sg);
    if (sizeof(unsigned long) < sizeof(avow_p11_handle)) {
        /* A handle a 32-bit CK_ULONG cannot hold must not be cut to another object's. */
        avow_p11_handle big = ((avow_p11_handle)1 << 32) | priv;
        assert_int_equal(avow_p11_get1_pubkey(f->s, big, &pub, &d), AVOW_ERR_ARG);
        assert_int_equal(avow_p11_find_object(f->s, "pkcs11:object=defaults",
                                              ((uint64_t)1 << 32) | 3u, &priv, &d),
                         AVOW_ERR_ARG);
    }
    /* The class is a 64-bit number too. */
    avow_p11_handle h = 0;
    assert_int_equal(
        avow_p11_find_object(f->s, "pkcs11:object=defaults", (uint64_t)2 /* public */, &h, &d),
        AVOW_OK);
    assert_int_not_equal(h, priv);
}

/* --- URIs for callers --- */

static void test_uri_get_object(void **state)
{
    (void)state;
    avow_buf label = {0}, id = {0};
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_p11_uri_get_object("pkcs11:token=t;object=my%20key;id=%a1%02"
                                             "?pin-value=1234",
                                             &label, &id, &d),
                     AVOW_OK);
    assert_string_equal((char *)label.ptr, "my key");
    assert_int_equal(label.len, 6);
    assert_int_equal(id.len, 2);
    assert_memory_equal(id.ptr, "\xa1\x02", 2);
    avow_buf_free(&label);
    avow_buf_free(&id);
    /* Either output may be left out. */
    assert_int_equal(avow_p11_uri_get_object("pkcs11:object=k;id=%01", NULL, &id, &d), AVOW_OK);
    assert_int_equal(id.len, 1);
    avow_buf_free(&id);
    assert_int_equal(avow_p11_uri_get_object("pkcs11:object=k;id=%01", &label, NULL, &d), AVOW_OK);
    assert_string_equal((char *)label.ptr, "k");
    avow_buf_free(&label);
    /* No object attributes (or empty ones): empty outputs. */
    static const char *const none[] = {"pkcs11:token=t", "pkcs11:", "pkcs11:object=;id="};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        assert_int_equal(avow_p11_uri_get_object(none[i], &label, &id, &d), AVOW_OK);
        assert_null(label.ptr);
        assert_int_equal(label.len, 0);
        assert_null(id.ptr);
    }
    assert_int_equal(avow_p11_uri_get_object(NULL, &label, &id, &d), AVOW_OK);
    assert_null(label.ptr);
    /* Bad input: nothing is handed out. */
    static const char *const bad[] = {"http://x", "pkcs11:object=a%00b", "pkcs11:object=%zz",
                                      "pkcs11:bogus=1;object=k"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (avow_p11_uri_get_object(bad[i], &label, &id, &d) != AVOW_ERR_ARG)
            fail_msg("%s accepted", bad[i]);
        assert_null(label.ptr);
        assert_null(id.ptr);
    }
}

static void test_uri_format_object(void **state)
{
    fx *f = *state;
    avow_buf out = {0}, label = {0}, id = {0};
    avow_diag d;
    avow_diag_clear(&d);
    static const uint8_t kid[] = {0xa1, 0x00, 0x7f};
    assert_int_equal(avow_p11_uri_format_object("pkcs11:token=" TOKEN_LABEL
                                                ";object=old;id=%99;type=private"
                                                "?pin-value=SECRET42&pin-source=file:/p",
                                                "new key", kid, sizeof(kid), &out, &d),
                     AVOW_OK);
    const char *u = (const char *)out.ptr;
    assert_int_equal(out.len, strlen(u));
    assert_true(strncmp(u, "pkcs11:", 7) == 0);
    assert_non_null(strstr(u, "token=" TOKEN_LABEL));
    assert_non_null(strstr(u, "object=new%20key"));
    assert_null(strstr(u, "old"));
    assert_null(strstr(u, "%99"));
    assert_null(strstr(u, "type="));
    assert_null(strstr(u, "SECRET42"));
    assert_null(strstr(u, "pin-"));
    /* It reads back as the same names... */
    assert_int_equal(avow_p11_uri_get_object(u, &label, &id, &d), AVOW_OK);
    assert_string_equal((char *)label.ptr, "new key");
    assert_int_equal(id.len, sizeof(kid));
    assert_memory_equal(id.ptr, kid, sizeof(kid));
    avow_buf_free(&label);
    avow_buf_free(&id);
    /* ...and finds the key made under them. */
    avow_p11_keygen_params p;
    avow_p11_keygen_params_init(&p);
    p.label = "new key";
    p.id = kid;
    p.id_len = sizeof(kid);
    avow_p11_handle made = 0, found = 0;
    assert_int_equal(avow_p11_keygen(f->s, &p, &made, NULL, &d), AVOW_OK);
    assert_int_equal(avow_p11_find_key(f->s, u, &found, &d), AVOW_OK);
    assert_int_equal(found, made);
    avow_buf_free(&out);

    /* Only the token, and only a label or only an id. */
    assert_int_equal(avow_p11_uri_format_object("pkcs11:token=t", NULL, NULL, 0, &out, &d),
                     AVOW_OK);
    assert_string_equal((char *)out.ptr, "pkcs11:token=t");
    avow_buf_free(&out);
    assert_int_equal(avow_p11_uri_format_object(NULL, "k", NULL, 0, &out, &d), AVOW_OK);
    assert_string_equal((char *)out.ptr, "pkcs11:object=k");
    avow_buf_free(&out);
    assert_int_equal(avow_p11_uri_format_object("pkcs11:token=t", NULL, kid, 1, &out, &d), AVOW_OK);
    assert_non_null(strstr((char *)out.ptr, "id=%A1"));
    assert_null(strstr((char *)out.ptr, "object="));
    avow_buf_free(&out);
    assert_int_equal(avow_p11_uri_format_object("http://x", "k", NULL, 0, &out, &d), AVOW_ERR_ARG);
    assert_null(out.ptr);
    assert_int_equal(avow_p11_uri_format_object("pkcs11:", "k", NULL, 1, &out, &d), AVOW_ERR_ARG);
    assert_int_equal(avow_p11_uri_format_object("pkcs11:", "k", NULL, 0, NULL, &d), AVOW_ERR_ARG);
}

/* --- avow_signer_open on token keys --- */

static void open_sign_verify(const char *uri, const avow_signer_open_opts *o, avow_sigalg want,
                             avow_signer **keep)
{
    avow_signer *sg = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_signer_open(uri, o, &sg, &d);
    if (e != AVOW_OK)
        fail_msg("%s: %s (%s: %s)", uri, avow_errname(e), d.field, d.detail);
    assert_int_equal(avow_signer_alg(sg), want);
    static const uint8_t msg[] = "signed in the token";
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(sg, msg, sizeof(msg), &sig, &d), AVOW_OK);
    assert_int_equal(avow_sigalg_verify(want, avow_signer_get0_pubkey(sg), msg, sizeof(msg),
                                        sig.ptr, sig.len, &d),
                     AVOW_OK);
    avow_buf_free(&sig);
    if (keep != NULL)
        *keep = sg;
    else
        avow_signer_free(sg);
}

static void test_signer_open_token(void **state)
{
    fx *f = *state;
    avow_p11_handle ec = keygen(f, AVOW_P11_KEY_EC_P384, "ec", 0xc1, 1, 0);
    keygen(f, AVOW_P11_KEY_RSA, "rsa", 0xc2, 1, 0);
    avow_signer_open_opts o;
    avow_signer_open_opts_init(&o);
    o.pkcs11_module = SOFTHSM_MODULE;
    o.pin_source = "pass:" USER_PIN;
    open_sign_verify("pkcs11:token=" TOKEN_LABEL ";object=ec", &o, AVOW_SIGALG_ECDSA_SHA384, NULL);
    open_sign_verify("pkcs11:object=rsa", &o, AVOW_SIGALG_RSA_PKCS1_SHA256, NULL);
    o.pss = 1;
    open_sign_verify("pkcs11:object=rsa", &o, AVOW_SIGALG_RSA_PSS_SHA256, NULL);
    o.alg = AVOW_SIGALG_RSA_PSS_SHA512;
    open_sign_verify("pkcs11:object=rsa", &o, AVOW_SIGALG_RSA_PSS_SHA512, NULL);
    o.pss = 0;
    o.alg = AVOW_SIGALG_NONE;
    /* The PIN from the URI. */
    o.pin_source = NULL;
    open_sign_verify("pkcs11:object=ec?pin-value=" USER_PIN, &o, AVOW_SIGALG_ECDSA_SHA384, NULL);

    /* The token's certificate, only when asked for. */
    EVP_PKEY *pub = NULL;
    assert_int_equal(avow_p11_get1_pubkey(f->s, ec, &pub, NULL), AVOW_OK);
    X509 *x = store_cert(f, pub, "c1");
    o.pin_source = "pass:" USER_PIN;
    avow_signer *sg = NULL;
    open_sign_verify("pkcs11:object=ec", &o, AVOW_SIGALG_ECDSA_SHA384, &sg);
    assert_null(avow_signer_get0_cert(sg));
    avow_signer_free(sg);
    o.flags = AVOW_SIGNER_OPEN_TOKEN_CERT;
    open_sign_verify("pkcs11:object=ec", &o, AVOW_SIGALG_ECDSA_SHA384, &sg);
    assert_non_null(avow_signer_get0_cert(sg));
    assert_int_equal(X509_cmp(avow_signer_get0_cert(sg), x), 0);
    /* The signer outlives everything the caller holds. */
    avow_p11_session_free(f->s);
    avow_p11_module_free(f->mod);
    f->s = NULL;
    f->mod = NULL;
    avow_buf sig = {0};
    assert_int_equal(avow_signer_sign(sg, (const uint8_t *)"x", 1, &sig, NULL), AVOW_OK);
    avow_buf_free(&sig);
    avow_signer_free(sg);
    X509_free(x);
    /* No certificate in the token is no error; one for another key is. */
    open_sign_verify("pkcs11:object=rsa", &o, AVOW_SIGALG_RSA_PKCS1_SHA256, &sg);
    assert_null(avow_signer_get0_cert(sg));
    avow_signer_free(sg);
    X509_free(store_cert(f, NULL, "c2"));
    avow_diag d;
    avow_diag_clear(&d);
    assert_int_equal(avow_signer_open("pkcs11:object=rsa", &o, &sg, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "certificate");
    assert_null(sg);

    /* Failures of each step come through with their own codes. */
    o.flags = 0;
    assert_int_equal(avow_signer_open("pkcs11:object=nope", &o, &sg, &d), AVOW_ERR_NOT_FOUND);
    assert_int_equal(avow_signer_open("pkcs11:token=absent;object=ec", &o, &sg, &d),
                     AVOW_ERR_NOT_FOUND);
    assert_int_equal(avow_signer_open("pkcs11:object=ec;bogus=1", &o, &sg, &d), AVOW_ERR_ARG);
    o.pkcs11_module = "/nonexistent/lib.so";
    assert_int_equal(avow_signer_open("pkcs11:object=ec", &o, &sg, &d), AVOW_ERR_NOT_FOUND);
    o.pkcs11_module = NULL;
    assert_int_equal(avow_signer_open("pkcs11:object=ec", &o, &sg, &d), AVOW_ERR_ARG);
    assert_string_equal(d.field, "pkcs11-module");
    assert_null(sg);
    EVP_PKEY_free(pub);
}

/* --- Evidence end to end --- */

static void evidence_round_trip(fx *f, avow_p11_keytype type, avow_sigalg alg)
{
    avow_p11_handle ak = keygen(f, type, "ak", 0xa1, 1, 0);
    keygen(f, AVOW_P11_KEY_EC_P256, "attested", 0xb2, 1, 0);
    avow_diag d;
    avow_diag_clear(&d);

    avow_evidence *ev = NULL;
    size_t plat = 0, key = 0;
    assert_int_equal(avow_evidence_new(NULL, &ev), AVOW_OK);
    assert_int_equal(avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &plat, NULL), AVOW_OK);
    assert_int_equal(avow_p11_add_platform_claims(f->s, ev, plat, &d), AVOW_OK);
    assert_int_equal(avow_p11_add_key_claims_uri(f->s, "pkcs11:object=attested", ev, &key, &d),
                     AVOW_OK);
    assert_int_equal(key, 1);

    avow_signer *sg = NULL;
    assert_int_equal(avow_p11_signer_new(f->s, ak, alg, &sg, &d), AVOW_OK);
    avow_err e = avow_evidence_sign(ev, sg, AVOW_SID_SPKI, &d);
    if (e != AVOW_OK)
        print_error("sign: %s %s\n", d.field, d.detail);
    assert_int_equal(e, AVOW_OK);
    avow_buf der = {0};
    assert_int_equal(avow_evidence_encode(ev, &der), AVOW_OK);
    avow_evidence_free(ev);
    avow_signer_free(sg);

    avow_evidence *back = NULL;
    e = avow_evidence_decode(der.ptr, der.len, NULL, 0, &back, &d);
    if (e != AVOW_OK)
        print_error("decode: %s %s\n", d.field, d.detail);
    assert_int_equal(e, AVOW_OK);
    assert_int_equal(avow_evidence_element_count(back), 2);
    const avow_claim *vendor = avow_evidence_find_claim(back, AVOW_CLAIM_VENDOR);
    assert_non_null(vendor);
    assert_memory_equal(vendor->value.bytes.ptr, "SoftHSM", 7);
    const avow_claim *ne = avow_evidence_find_claim(back, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE);
    assert_non_null(ne);
    assert_int_equal(ne->value.integer, 1);

    assert_int_equal(avow_evidence_signature_count(back), 1);
    const avow_signature_block *sb = avow_evidence_get0_signature(back, 0);
    assert_int_equal(sb->sid_kind, AVOW_SID_SPKI);
    avow_sigalg got = AVOW_SIGALG_NONE;
    assert_int_equal(avow_sigalg_from_der(sb->algorithm.ptr, sb->algorithm.len, &got, &d), AVOW_OK);
    assert_int_equal(got, alg);
    /* the SPKI read from the token, not the one the Evidence carries */
    EVP_PKEY *pub = NULL;
    assert_int_equal(avow_p11_get1_pubkey(f->s, ak, &pub, &d), AVOW_OK);
    avow_view tbs = avow_evidence_tbs(back);
    e = avow_sigalg_verify(got, pub, tbs.ptr, tbs.len, sb->value.ptr, sb->value.len, &d);
    if (e != AVOW_OK)
        print_error("verify: %s\n", d.detail);
    assert_int_equal(e, AVOW_OK);
    EVP_PKEY_free(pub);
    avow_evidence_free(back);
    avow_buf_free(&der);
}

static void test_evidence_ec(void **state)
{
    evidence_round_trip(*state, AVOW_P11_KEY_EC_P384, AVOW_SIGALG_ECDSA_SHA384);
}

static void test_evidence_rsa_pss(void **state)
{
    evidence_round_trip(*state, AVOW_P11_KEY_RSA, AVOW_SIGALG_RSA_PSS_SHA256);
}

int main(void)
{
    if (!AVOW_WITH_PKCS11) {
        printf("SKIP: built with AVOW_WITH_PKCS11=OFF (test_pkcs11_off covers that build)\n");
        return 77;
    }
    if (access(SOFTHSM_MODULE, R_OK) != 0) {
        printf("SKIP: %s not installed\n", SOFTHSM_MODULE);
        return 77;
    }
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_claims_nonextractable),
        T(test_claims_extractable),
        T(test_claims_expiry_and_caps),
        T(test_claims_match_pkcs11_tool),
        T(test_platform_claims),
        T(test_wrong_pin),
        T(test_missing_module),
        T(test_missing_key_and_token),
        T(test_pin_resolve),
        T(test_uri_redact),
        T(test_uri_errors_hide_pin),
        T(test_p11_open),
        T(test_end_date_calendar),
        T(test_sign_p256),
        T(test_sign_p384),
        T(test_sign_rsa_pkcs1),
        T(test_sign_rsa_pkcs1_sha512),
        T(test_sign_rsa_pss),
        T(test_sign_rsa_pss384),
        T(test_signer_alg_mismatch_and_lifetime),
        T(test_sign_needs_login),
        T(test_certificate_from_token),
        T(test_ambiguous_object),
        T(test_ambiguous_token),
        T(test_no_pin),
        T(test_handles_and_params),
        T(test_uri_get_object),
        T(test_uri_format_object),
        T(test_signer_open_token),
        T(test_evidence_ec),
        T(test_evidence_rsa_pss),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
