/*
 * "avow ca": a local CA for attested requests.
 *   init         key (software or PKCS#11) + self-signed CA certificate + nonce store + ca.json
 *   nonce        issues a freshness nonce from DIR/nonces.db
 *   issue        appraises a request (avow_appraise_request, nonce consumed once)
 *                and issues a certificate carrying the EAR only when affirming
 *   show-result  prints the EAR in an issued certificate after verifying it
 * docs/ca.md and avow-ca(1) describe the directory, the certificate and the exit codes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/avow.h>
#include <avow/ca.h>
#include <avow/pkcs11.h>

#include "cli/cli.h"
#include "cli/evidence_cmds.h"
#include "cli/io.h"
#include "cli/opts.h"
#include "cli/p11.h"

#define CA_JSON     "ca.json"
#define CA_KEY      "ca.key"
#define CA_CRT      "ca.crt"
#define CA_NONCES   "nonces.db"
#define CA_CERTS    "certs"
#define CA_MAX_JSON (64u * 1024u)

typedef struct ca_path {
    char p[PATH_MAX];
} ca_path;

static avow_err dir_path(const char *dir, const char *name, ca_path *out, avow_diag *d)
{
    int n = snprintf(out->p, sizeof(out->p), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(out->p))
        return cli_fail(d, AVOW_ERR_USAGE, "dir", "path too long: %s/%s", dir, name);
    return AVOW_OK;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static avow_err parse_uint(const char *field, const char *text, unsigned long max, unsigned *out,
                           avow_diag *d)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = text[0] >= '0' && text[0] <= '9' ? strtoul(text, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || v == 0 || v > max)
        return cli_fail(d, AVOW_ERR_USAGE, field, "\"%s\" is not a number 1..%lu", text, max);
    *out = (unsigned)v;
    return AVOW_OK;
}

static void print_hex(FILE *f, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", p[i]);
}

/* Compact JSON text -> indented, sorted, with a final newline. */
static avow_err pretty_json(const char *json, size_t len, avow_buf *out, avow_diag *d)
{
    json_t *j = json_loadb(json, len, 0, NULL);
    char *text = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (text == NULL)
        return cli_fail(d, AVOW_ERR_NOMEM, "json", "cannot format JSON");
    size_t n = strlen(text);
    out->ptr = OPENSSL_malloc(n + 2);
    if (out->ptr != NULL) {
        memcpy(out->ptr, text, n);
        out->ptr[n] = '\n';
        out->ptr[n + 1] = '\0';
        out->len = n + 1;
    }
    free(text);
    return out->ptr != NULL ? AVOW_OK : cli_fail(d, AVOW_ERR_NOMEM, "json", "out of memory");
}

/* --- the CA's key: a software key file or a pkcs11: URI --- */

typedef struct ca_key_src {
    const char *key;        /* file path (absolute or relative to DIR) or pkcs11: URI */
    const char *module;     /* PKCS#11 module, may be NULL */
    const char *pin_source; /* env:/file:/pass: spec, may be NULL */
} ca_key_src;

static avow_err p11_signer(const ca_key_src *k, avow_signer **out, avow_diag *d)
{
    const char *module = cli_p11_module(k->module);
    if (module == NULL)
        return cli_fail(d, AVOW_ERR_USAGE, "pkcs11-module",
                        "no PKCS#11 module: give -pkcs11-module or set AVOW_PKCS11_MODULE "
                        "(" CLI_P11_DEFAULT_MODULE " is not installed)");
    avow_p11_module *m = NULL;
    avow_p11_session *s = NULL;
    avow_p11_handle h = 0;
    avow_buf pin = {0};
    avow_err err = avow_p11_pin_resolve(k->key, k->pin_source, &pin, d);
    if (err == AVOW_ERR_NOT_FOUND && k->pin_source == NULL)
        err = cli_fail(
            d, AVOW_ERR_USAGE, "pin-source",
            "%s needs the token's user PIN: give -pin-source env:NAME|file:PATH|pass:TEXT", k->key);
    if (err == AVOW_OK)
        err = avow_p11_module_load(module, &m, d);
    if (err == AVOW_OK)
        err = avow_p11_session_open(m, k->key, 0, &s, d);
    if (err == AVOW_OK)
        err = avow_p11_login(s, (const char *)pin.ptr, d);
    if (err == AVOW_OK)
        err = avow_p11_find_key(s, k->key, &h, d);
    if (err == AVOW_OK)
        err = avow_p11_signer_new(s, h, AVOW_SIGALG_NONE, out, d);
    avow_buf_free(&pin);
    avow_p11_session_free(s); /* the signer keeps its own references */
    avow_p11_module_free(m);
    return err;
}

static avow_err load_signer(const char *dir, const ca_key_src *k, avow_signer **out, avow_diag *d)
{
    if (strncmp(k->key, "pkcs11:", 7) == 0)
        return p11_signer(k, out, d);
    ca_path path;
    avow_err err = k->key[0] == '/' ? (snprintf(path.p, sizeof(path.p), "%s", k->key), AVOW_OK)
                                    : dir_path(dir, k->key, &path, d);
    EVP_PKEY *pkey = NULL;
    if (err == AVOW_OK)
        err = cli_load_private_key(path.p, &pkey, d);
    if (err == AVOW_OK)
        err = avow_signer_new_pkey(pkey, AVOW_SIGALG_NONE, out);
    EVP_PKEY_free(pkey);
    return err;
}

/* A new software key of the named type. */
static avow_err gen_key(const char *type, EVP_PKEY **out, avow_diag *d)
{
    EVP_PKEY *k = NULL;
    if (type == NULL || strcmp(type, "ec-p256") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(type, "ec-p384") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    else if (strcmp(type, "rsa-3072") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    else if (strcmp(type, "ed25519") == 0)
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        return cli_fail(d, AVOW_ERR_USAGE, "key",
                        "\"%s\" is not ec-p256, ec-p384, rsa-3072, ed25519 or a pkcs11: URI", type);
    if (k == NULL)
        return cli_fail_ossl(d, AVOW_ERR_CRYPTO, "key", "cannot generate a %s key", type);
    *out = k;
    return AVOW_OK;
}

/* PKCS#8 PEM to path; avow_write_file creates it through mkstemp, so mode 0600. */
static avow_err write_key(EVP_PKEY *k, const char *path, avow_diag *d)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n = 0;
    if (b == NULL || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
        (n = BIO_get_mem_data(b, &data)) <= 0) {
        BIO_free(b);
        return cli_fail_ossl(d, AVOW_ERR_CRYPTO, "key", "cannot encode the key");
    }
    avow_err err = avow_write_file(path, (const uint8_t *)data, (size_t)n, d);
    BIO_free(b);
    if (err == AVOW_OK && chmod(path, 0600) != 0)
        err = cli_fail(d, AVOW_ERR_IO, path, "chmod: %s", strerror(errno));
    return err;
}

/* --- ca.json --- */

typedef struct ca_conf {
    json_t *root;
    ca_key_src key;
    unsigned days;      /* default validity of issued certificates */
    const char *policy; /* may be NULL */
} ca_conf;

static const char *conf_str(json_t *root, const char *name)
{
    json_t *v = json_object_get(root, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static avow_err conf_load(const char *dir, ca_conf *c, avow_diag *d)
{
    ca_path path;
    avow_buf raw = {0};
    avow_err err = dir_path(dir, CA_JSON, &path, d);
    if (err == AVOW_OK && !exists(path.p))
        return cli_fail(d, AVOW_ERR_IO, path.p, "no CA here (run avow ca init -dir %s)", dir);
    if (err == AVOW_OK)
        err = avow_read_file(path.p, CA_MAX_JSON, &raw, d);
    if (err != AVOW_OK)
        return err;
    json_error_t je;
    c->root = json_loadb((const char *)raw.ptr, raw.len, JSON_REJECT_DUPLICATES, &je);
    avow_buf_free(&raw);
    if (c->root == NULL || !json_is_object(c->root))
        return cli_fail(d, AVOW_ERR_CONFIG, path.p, "not a JSON object: %s",
                        c->root == NULL ? je.text : "wrong type");
    json_t *ver = json_object_get(c->root, "version");
    json_t *days = json_object_get(c->root, "days");
    c->key.key = conf_str(c->root, "key");
    c->key.module = conf_str(c->root, "pkcs11_module");
    c->key.pin_source = conf_str(c->root, "pin_source");
    c->policy = conf_str(c->root, "policy");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1 || c->key.key == NULL ||
        !json_is_integer(days) || json_integer_value(days) < 1 ||
        json_integer_value(days) > AVOW_CA_MAX_DAYS)
        return cli_fail(d, AVOW_ERR_CONFIG, path.p,
                        "want {\"version\": 1, \"key\": ..., \"days\": 1..%u, ...}",
                        AVOW_CA_MAX_DAYS);
    c->days = (unsigned)json_integer_value(days);
    return AVOW_OK;
}

/* The CA of DIR: signer from ca.json, certificate ca.crt. */
static avow_err ca_open(const char *dir, const ca_conf *c, const char *pin_source, avow_ca **out,
                        avow_diag *d)
{
    ca_key_src k = c->key;
    if (pin_source != NULL)
        k.pin_source = pin_source;
    ca_path crt;
    avow_signer *s = NULL;
    X509 *cert = NULL;
    avow_err err = dir_path(dir, CA_CRT, &crt, d);
    if (err == AVOW_OK)
        err = cli_load_cert(crt.p, &cert, d);
    if (err == AVOW_OK)
        err = load_signer(dir, &k, &s, d);
    if (err == AVOW_OK)
        err = avow_ca_new(s, cert, out, d);
    if (err != AVOW_OK)
        avow_signer_free(s);
    X509_free(cert);
    return err;
}

/* --- init --- */

static const cli_opt init_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory (created if missing; must not hold a CA yet)"},
    {"subject", CLI_VALUE, "NAME", "CA subject (default: \"CN=avow demo CA\")"},
    {"key", CLI_VALUE, "TYPE|URI",
     "ec-p256 (default), ec-p384, rsa-3072, ed25519, or a pkcs11: URI of an existing key"},
    {"pkcs11-module", CLI_VALUE, "PATH|NAME",
     "PKCS#11 module (default: $AVOW_PKCS11_MODULE, else " CLI_P11_DEFAULT_MODULE ")"},
    {"pin-source", CLI_VALUE, "SPEC",
     "token user PIN: env:NAME, file:PATH or pass:TEXT (stored in ca.json unless pass:)"},
    {"days", CLI_VALUE, "N", "validity of the CA certificate (default: 3650)"},
    {"cert-days", CLI_VALUE, "N", "default validity of issued certificates (default: 365)"},
    {"policy", CLI_VALUE, "FILE",
     "appraisal policy ca issue uses by default (default: avow-default)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err write_conf(const char *path, const char *subject, const char *key,
                           const char *module, const char *pin_source, unsigned days,
                           const char *policy, avow_diag *d)
{
    json_t *j = json_object();
    int bad = j == NULL;
    bad = bad || json_object_set_new(j, "version", json_integer(1)) != 0;
    bad = bad || json_object_set_new(j, "subject", json_string(subject)) != 0;
    bad = bad || json_object_set_new(j, "key", json_string(key)) != 0;
    bad = bad || json_object_set_new(j, "days", json_integer(days)) != 0;
    if (module != NULL)
        bad = bad || json_object_set_new(j, "pkcs11_module", json_string(module)) != 0;
    if (pin_source != NULL && strncmp(pin_source, "pass:", 5) != 0)
        bad = bad || json_object_set_new(j, "pin_source", json_string(pin_source)) != 0;
    if (policy != NULL)
        bad = bad || json_object_set_new(j, "policy", json_string(policy)) != 0;
    char *text = bad ? NULL : json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    if (text == NULL)
        return cli_fail(d, AVOW_ERR_ARG, "ca.json", "cannot encode (is every value UTF-8?)");
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL; n + 1 bytes written */
    avow_err err = avow_write_file(path, (const uint8_t *)text, n + 1, d);
    free(text);
    if (err == AVOW_OK)
        chmod(path, 0644);
    return err;
}

static int run_init(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    const char *dir = cli_get(a, "dir");
    const char *subject = cli_get(a, "subject") != NULL ? cli_get(a, "subject") : "CN=avow demo CA";
    const char *keyarg = cli_get(a, "key");
    int p11 = keyarg != NULL && strncmp(keyarg, "pkcs11:", 7) == 0;
    unsigned days = AVOW_CA_DEFAULT_ROOT_DAYS, cert_days = AVOW_CA_DEFAULT_DAYS;
    ca_path pjson, pkey, pcrt, pdb, pcerts;
    char policy_abs[PATH_MAX];
    const char *policy = NULL;
    EVP_PKEY *pkey_obj = NULL;
    avow_signer *signer = NULL;
    X509 *cert = NULL;
    avow_nonce_store *store = NULL;
    avow_err err = AVOW_OK;
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    if (cli_get(a, "days") != NULL)
        err = parse_uint("days", cli_get(a, "days"), AVOW_CA_MAX_DAYS, &days, &d);
    if (err == AVOW_OK && cli_get(a, "cert-days") != NULL)
        err = parse_uint("cert-days", cli_get(a, "cert-days"), AVOW_CA_MAX_DAYS, &cert_days, &d);
    if (err == AVOW_OK && !p11 &&
        (cli_get(a, "pkcs11-module") != NULL || cli_get(a, "pin-source") != NULL))
        err = cli_fail(&d, AVOW_ERR_USAGE, "key",
                       "-pkcs11-module and -pin-source need -key pkcs11:...");
    if (err == AVOW_OK && cli_get(a, "policy") != NULL) {
        avow_policy *pol = NULL;
        err = avow_policy_load(cli_get(a, "policy"), &pol, &d); /* refuse a bad policy now */
        avow_policy_free(pol);
        const char *pp = cli_get(a, "policy");
        char cwd[PATH_MAX];
        if (err == AVOW_OK && pp[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
            err = cli_fail(&d, AVOW_ERR_IO, "policy", "getcwd: %s", strerror(errno));
        if (err == AVOW_OK) {
            int n = pp[0] == '/' ? snprintf(policy_abs, sizeof(policy_abs), "%s", pp)
                                 : snprintf(policy_abs, sizeof(policy_abs), "%s/%s", cwd, pp);
            if (n < 0 || (size_t)n >= sizeof(policy_abs))
                err = cli_fail(&d, AVOW_ERR_USAGE, "policy", "path too long");
        }
        policy = policy_abs;
    }
    if (err == AVOW_OK)
        err = dir_path(dir, CA_JSON, &pjson, &d);
    if (err == AVOW_OK)
        err = dir_path(dir, CA_KEY, &pkey, &d);
    if (err == AVOW_OK)
        err = dir_path(dir, CA_CRT, &pcrt, &d);
    if (err == AVOW_OK)
        err = dir_path(dir, CA_NONCES, &pdb, &d);
    if (err == AVOW_OK)
        err = dir_path(dir, CA_CERTS, &pcerts, &d);
    if (err == AVOW_OK && (exists(pjson.p) || exists(pkey.p) || exists(pcrt.p) || exists(pdb.p)))
        err =
            cli_fail(&d, AVOW_ERR_STATE, dir,
                     "already holds a CA (ca.json, ca.key, ca.crt or nonces.db); not overwritten");
    if (err == AVOW_OK && mkdir(dir, 0700) != 0 && errno != EEXIST)
        err = cli_fail(&d, AVOW_ERR_IO, dir, "mkdir: %s", strerror(errno));
    if (err == AVOW_OK && mkdir(pcerts.p, 0700) != 0 && errno != EEXIST)
        err = cli_fail(&d, AVOW_ERR_IO, pcerts.p, "mkdir: %s", strerror(errno));
    ca_key_src k = {p11 ? keyarg : CA_KEY, cli_get(a, "pkcs11-module"), cli_get(a, "pin-source")};
    if (err == AVOW_OK && !p11) {
        err = gen_key(keyarg, &pkey_obj, &d);
        if (err == AVOW_OK)
            err = write_key(pkey_obj, pkey.p, &d);
    }
    if (err == AVOW_OK)
        err = load_signer(dir, &k, &signer, &d);
    if (err == AVOW_OK)
        err = avow_ca_make_root(signer, subject, days, 0, &cert, &d);
    unsigned char *der = NULL;
    int der_len = err == AVOW_OK ? i2d_X509(cert, &der) : 0;
    if (err == AVOW_OK && der_len <= 0)
        err = cli_fail_ossl(&d, AVOW_ERR_CRYPTO, "certificate", "cannot encode");
    if (err == AVOW_OK)
        err = cli_write(pcrt.p, der, (size_t)der_len, "CERTIFICATE", CLI_FORM_PEM, &d);
    OPENSSL_free(der);
    if (err == AVOW_OK)
        chmod(pcrt.p, 0644);
    if (err == AVOW_OK)
        err = avow_nonce_store_open_sqlite(pdb.p, &store, &d);
    if (err == AVOW_OK)
        err = write_conf(pjson.p, subject, k.key, k.module, k.pin_source, cert_days, policy, &d);
    if (err == AVOW_OK) {
        char *s = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
        printf("CA %s in %s\n  certificate: %s\n  key: %s\n  nonces: %s\n", s != NULL ? s : "?",
               dir, pcrt.p, p11 ? keyarg : pkey.p, pdb.p);
        OPENSSL_free(s);
        if (fflush(stdout) != 0)
            err = cli_fail(&d, AVOW_ERR_IO, "stdout", "cannot write");
    }
    avow_nonce_store_free(store);
    X509_free(cert);
    avow_signer_free(signer);
    EVP_PKEY_free(pkey_obj);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* --- nonce --- */

static const cli_opt nonce_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory"},
    {"ttl", CLI_VALUE, "SECONDS", "validity of the nonce (default: 300)"},
    {"len", CLI_VALUE, "N", "bytes, 16..64 (default: 32)"},
    {"json", CLI_FLAG, NULL, "print {\"nonce\", \"expires\", \"ttl\"} as JSON"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_nonce(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *dir = cli_get(a, "dir");
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    unsigned ttl = AVOW_NONCE_DEFAULT_TTL, len = AVOW_NONCE_DEFAULT_LEN;
    ca_conf c = {0};
    ca_path pdb;
    avow_nonce_store *store = NULL;
    avow_buf nonce = {0};
    avow_err err = AVOW_OK;
    if (cli_get(a, "ttl") != NULL)
        err = parse_uint("ttl", cli_get(a, "ttl"), 366ul * 86400ul, &ttl, &d);
    if (err == AVOW_OK && cli_get(a, "len") != NULL) {
        err = parse_uint("len", cli_get(a, "len"), AVOW_NONCE_MAX_LEN, &len, &d);
        if (err == AVOW_OK && len < AVOW_NONCE_MIN_LEN)
            err = cli_fail(&d, AVOW_ERR_USAGE, "len", "a nonce has %u..%u bytes",
                           AVOW_NONCE_MIN_LEN, AVOW_NONCE_MAX_LEN);
    }
    if (err == AVOW_OK)
        err = conf_load(dir, &c, &d);
    if (err == AVOW_OK)
        err = dir_path(dir, CA_NONCES, &pdb, &d);
    if (err == AVOW_OK)
        err = avow_nonce_store_open_sqlite(pdb.p, &store, &d);
    time_t now = time(NULL);
    if (err == AVOW_OK)
        err = avow_nonce_issue(store, len, ttl, now, &nonce, &d);
    if (err == AVOW_OK) {
        if (cli_flag(a, "json")) {
            char exp[32];
            cli_format_time(now + (time_t)ttl, exp, sizeof(exp));
            printf("{\"expires\": \"%s\", \"nonce\": \"", exp);
            print_hex(stdout, nonce.ptr, nonce.len);
            printf("\", \"ttl\": %u}\n", ttl);
        } else {
            print_hex(stdout, nonce.ptr, nonce.len);
            printf("\n");
        }
        if (fflush(stdout) != 0)
            err = cli_fail(&d, AVOW_ERR_IO, "stdout", "cannot write");
    }
    avow_buf_free(&nonce);
    avow_nonce_store_free(store);
    json_decref(c.root);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

/* --- issue --- */

static const cli_opt issue_opts[] = {
    {"dir", CLI_VALUE, "DIR", "CA directory"},
    {"in", CLI_VALUE, "FILE", "attested request: PKCS#10 or CRMF, PEM or DER (default: stdin)"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors for the attestation keys (PEM bundle or DER)"},
    {"certs", CLI_MULTI, "FILE", "untrusted certificates for path building"},
    {"policy", CLI_VALUE, "FILE", "appraisal policy (default: ca.json's, else avow-default)"},
    {"nonce", CLI_VALUE, "HEX",
     "expected nonce (default: the Evidence's, checked against the CA's store)"},
    {"days", CLI_VALUE, "N", "validity of the certificate (default: ca.json's days)"},
    {"subject", CLI_VALUE, "NAME", "subject of the certificate (default: the request's)"},
    {"key-usage", CLI_VALUE, "LIST",
     "keyUsage, e.g. digitalSignature,keyAgreement (default: digitalSignature)"},
    {"eku", CLI_VALUE, "LIST", "extendedKeyUsage names or OIDs, e.g. clientAuth (default: none)"},
    {"out", CLI_VALUE, "FILE", "certificate output (default: DIR/certs/SERIAL.pem)"},
    {"outform", CLI_VALUE, "PEM|DER", "certificate format (default: PEM)"},
    {"ear-out", CLI_VALUE, "FILE", "write the EAR (JSON) here, affirming or not"},
    {"jwt-out", CLI_VALUE, "FILE",
     "write the EAR as a JWT signed by the CA here, affirming or not"},
    {"pin-source", CLI_VALUE, "SPEC", "token user PIN for a pkcs11: CA key (default: ca.json's)"},
    {"at", CLI_VALUE, "TIME",
     "check the attestation certificates at TIME: now, @SECONDS or RFC 3339 UTC"},
    {"json", CLI_FLAG, NULL, "print the EAR as JSON instead of a summary"},
    {"arc", CLI_VALUE, "OID",
     "id-evidence arc (default: $AVOW_EVIDENCE_ARC or " AVOW_DEFAULT_EVIDENCE_ARC ")"},
    {"eku-ak", CLI_VALUE, "OID",
     "attestation-key EKU (default: $AVOW_AK_EKU or " AVOW_DEFAULT_AK_EKU ")"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static avow_err make_verifier(const cli_args *a, avow_verifier **v, avow_diag *d)
{
    avow_profile p;
    avow_err err = cli_profile_opts(a, "eku-ak", &p, d);
    if (err == AVOW_OK)
        err = cli_verifier_from_args(a, &p, v, d);
    return err;
}

/* Summary of an EAR: status and every reason. */
static void print_summary(FILE *f, const avow_ear *ear)
{
    fprintf(f, "status: %s\n", ear->has_status ? avow_tier_name(ear->status) : "none");
    for (size_t i = 0; i < ear->nsubmods; i++) {
        const avow_ear_submod *s = &ear->submods[i];
        fprintf(f, "submod %s: %s\n", s->name, avow_tier_name(s->status));
        for (size_t j = 0; j < s->nreasons; j++) {
            const avow_ear_reason *r = &s->reasons[j];
            fprintf(f, "  %s %s: %s (%s)%s%s\n", r->is_rule ? "rule" : "check", r->name,
                    avow_tier_name(r->tier),
                    avow_errname(r->code) != NULL ? avow_errname(r->code) : "?",
                    r->detail[0] != '\0' ? ": " : "", r->detail);
        }
    }
}

typedef struct issue_ctx {
    avow_diag d;
    ca_conf conf;
    avow_ca *ca;
    avow_verifier *v;
    avow_policy *policy;
    avow_nonce_store *store;
    avow_request *req;
    avow_appraisal *ap;
    X509 *cert;
    avow_buf jwt, ear_json, pretty;
} issue_ctx;

static void issue_free(issue_ctx *c)
{
    avow_buf_free(&c->jwt);
    avow_buf_free(&c->ear_json);
    avow_buf_free(&c->pretty);
    X509_free(c->cert);
    avow_appraisal_free(c->ap);
    avow_request_free(c->req);
    avow_nonce_store_free(c->store);
    avow_policy_free(c->policy);
    avow_verifier_free(c->v);
    avow_ca_free(c->ca);
    json_decref(c->conf.root);
}

/* Everything before the appraisal. */
static avow_err issue_setup(issue_ctx *c, const cli_args *a, const char *dir)
{
    avow_diag *d = &c->d;
    if (cli_count(a, "CAfile") == 0)
        return cli_fail(d, AVOW_ERR_USAGE, "CAfile",
                        "give -CAfile with the attestation trust anchors");
    avow_err err = conf_load(dir, &c->conf, d);
    const char *pol = cli_get(a, "policy") != NULL ? cli_get(a, "policy") : c->conf.policy;
    if (err == AVOW_OK && pol != NULL)
        err = avow_policy_load(pol, &c->policy, d);
    if (err == AVOW_OK)
        err = make_verifier(a, &c->v, d);
    avow_buf raw = {0};
    if (err == AVOW_OK)
        err = cli_read(cli_get(a, "in"), &raw, d);
    if (err == AVOW_OK)
        err = avow_request_decode(raw.ptr, raw.len, AVOW_REQUEST_AUTO, 0, &c->req, d);
    avow_buf_free(&raw);
    if (err == AVOW_OK)
        err = ca_open(dir, &c->conf, cli_get(a, "pin-source"), &c->ca, d);
    ca_path pdb;
    if (err == AVOW_OK)
        err = dir_path(dir, CA_NONCES, &pdb, d);
    if (err == AVOW_OK)
        err = avow_nonce_store_open_sqlite(pdb.p, &c->store, d);
    return err;
}

/* Where the certificate goes and in which form. */
static avow_err write_cert(issue_ctx *c, const cli_args *a, const char *dir, ca_path *where)
{
    cli_form form;
    avow_err err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, &c->d);
    if (err != AVOW_OK)
        return err;
    if (cli_get(a, "out") != NULL) {
        snprintf(where->p, sizeof(where->p), "%s", cli_get(a, "out"));
    } else {
        const ASN1_INTEGER *sn = X509_get0_serialNumber(c->cert);
        char name[128];
        size_t used = 0;
        used += (size_t)snprintf(name, sizeof(name), "%s/", CA_CERTS);
        for (int i = 0; i < ASN1_STRING_length(sn) && used + 3 < sizeof(name); i++)
            used += (size_t)snprintf(name + used, sizeof(name) - used, "%02x",
                                     ASN1_STRING_get0_data(sn)[i]);
        snprintf(name + used, sizeof(name) - used, form == CLI_FORM_DER ? ".der" : ".pem");
        err = dir_path(dir, name, where, &c->d);
    }
    unsigned char *der = NULL;
    int len = err == AVOW_OK ? i2d_X509(c->cert, &der) : 0;
    if (err == AVOW_OK && len <= 0)
        err = cli_fail_ossl(&c->d, AVOW_ERR_CRYPTO, "certificate", "cannot encode");
    if (err == AVOW_OK)
        err = cli_write(where->p, der, (size_t)len, "CERTIFICATE", form, &c->d);
    if (err == AVOW_OK && strcmp(where->p, "-") != 0)
        chmod(where->p, 0644);
    OPENSSL_free(der);
    return err;
}

static int run_issue(const char *prog, const cli_args *a)
{
    issue_ctx c;
    memset(&c, 0, sizeof(c));
    avow_diag_clear(&c.d);
    const char *dir = cli_get(a, "dir");
    if (dir == NULL)
        return cli_usage_error(prog, "give -dir DIR");
    uint8_t nonce[AVOW_NONCE_MAX_LEN];
    size_t nonce_len = 0;
    avow_ca_issue_opts io;
    memset(&io, 0, sizeof(io));
    io.subject = cli_get(a, "subject");
    io.eku = cli_get(a, "eku");
    io.jwt_out = &c.jwt;
    avow_err err = AVOW_OK;
    if (cli_get(a, "nonce") != NULL)
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &nonce_len, &c.d);
    if (err == AVOW_OK && cli_get(a, "days") != NULL)
        err = parse_uint("days", cli_get(a, "days"), AVOW_CA_MAX_DAYS, &io.days, &c.d);
    if (err == AVOW_OK && cli_get(a, "key-usage") != NULL)
        err = avow_ca_key_usage_parse(cli_get(a, "key-usage"), &io.key_usage, &c.d);
    if (err == AVOW_OK && cli_get(a, "outform") != NULL) {
        cli_form f;
        err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &f, &c.d);
    }
    if (err == AVOW_OK)
        err = issue_setup(&c, a, dir);
    if (err != AVOW_OK) {
        int rc = cli_report(err, &c.d);
        issue_free(&c);
        return rc;
    }
    if (io.days == 0)
        io.days = c.conf.days;
    avow_appraise_opts ao;
    avow_appraise_opts_init(&ao);
    ao.nonce = nonce_len > 0 ? nonce : NULL;
    ao.nonce_len = nonce_len;
    ao.nonces = c.store;
    ao.policy = c.policy;
    err = avow_appraise_request(c.v, c.req, &ao, &c.ap, &c.d);
    if (c.ap == NULL) {
        int rc = cli_report(err != AVOW_OK ? err : AVOW_ERR_INTERNAL, &c.d);
        issue_free(&c);
        return rc;
    }
    const avow_ear *ear = avow_appraisal_get0_ear(c.ap);
    avow_tier tier = avow_appraisal_tier(c.ap);
    int affirming = err == AVOW_OK && avow_appraisal_status(c.ap) == AVOW_OK;
    avow_err ierr = AVOW_OK;
    if (affirming) {
        avow_diag_clear(&c.d);
        ierr = avow_ca_issue(c.ca, c.req, c.ap, &io, &c.cert, &c.d);
    } else {
        avow_diag tmp;
        avow_diag_clear(&tmp);
        if (avow_ear_sign_jwt(ear, avow_ca_get0_signer(c.ca), NULL, &c.jwt, &tmp) != AVOW_OK)
            avow_buf_free(&c.jwt);
    }
    err = avow_ear_to_json(ear, &c.ear_json, &c.d);
    if (err == AVOW_OK)
        err = pretty_json((const char *)c.ear_json.ptr, c.ear_json.len, &c.pretty, &c.d);
    if (err == AVOW_OK && cli_get(a, "ear-out") != NULL)
        err = avow_write_file(cli_get(a, "ear-out"), c.pretty.ptr, c.pretty.len, &c.d);
    if (err == AVOW_OK && cli_get(a, "jwt-out") != NULL && c.jwt.ptr != NULL)
        err = avow_write_file(cli_get(a, "jwt-out"), c.jwt.ptr, c.jwt.len, &c.d);
    ca_path where = {{0}};
    if (err == AVOW_OK && ierr == AVOW_OK && c.cert != NULL)
        err = write_cert(&c, a, dir, &where);
    if (err == AVOW_OK) {
        if (cli_flag(a, "json"))
            err = cli_print(&c.pretty, &c.d);
        else
            print_summary(stdout, ear);
    }
    if (err == AVOW_OK && c.cert != NULL && !cli_flag(a, "json")) {
        char *s = X509_NAME_oneline(X509_get_subject_name(c.cert), NULL, 0);
        printf("certificate: %s\nsubject: %s\n", where.p, s != NULL ? s : "?");
        OPENSSL_free(s);
    } else if (err == AVOW_OK && !affirming && !cli_flag(a, "json")) {
        printf("no certificate issued\n");
    }
    if (err == AVOW_OK && fflush(stdout) != 0)
        err = cli_fail(&c.d, AVOW_ERR_IO, "stdout", "cannot write");
    int rc;
    if (err != AVOW_OK)
        rc = cli_report(err, &c.d);
    else if (ierr != AVOW_OK)
        rc = cli_report(ierr, &c.d);
    else if (!affirming) {
        fprintf(stderr, "avow: no certificate issued: the attestation result is %s\n",
                avow_tier_name(tier) != NULL ? avow_tier_name(tier) : "not affirming");
        rc = cli_exit_tier(tier);
    } else
        rc = CLI_EXIT_OK;
    issue_free(&c);
    return rc;
}

/* --- show-result --- */

static const cli_opt show_opts[] = {
    {"in", CLI_VALUE, "FILE", "certificate issued by avow ca issue (PEM or DER; default: stdin)"},
    {"CAfile", CLI_VALUE, "FILE", "the issuing CA's certificate (default: DIR/ca.crt with -dir)"},
    {"dir", CLI_VALUE, "DIR", "CA directory whose ca.crt is the issuer"},
    {"jwt-out", CLI_VALUE, "FILE", "also write the verified EAR JWT here"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_show(const char *prog, const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    const char *cafile = cli_get(a, "CAfile");
    ca_path pcrt;
    if (cafile == NULL && cli_get(a, "dir") != NULL) {
        if (dir_path(cli_get(a, "dir"), CA_CRT, &pcrt, &d) != AVOW_OK)
            return cli_report(d.code, &d);
        cafile = pcrt.p;
    }
    if (cafile == NULL)
        return cli_usage_error(
            prog, "give -CAfile CA_CERT or -dir DIR (the issuer's key checks the EAR)");
    X509 *cert = NULL, *issuer = NULL;
    avow_buf payload = {0}, pretty = {0}, jwt = {0};
    avow_err err = cli_load_cert(cli_get(a, "in"), &cert, &d);
    if (err == AVOW_OK)
        err = cli_load_cert(cafile, &issuer, &d);
    if (err == AVOW_OK && (X509_check_issued(issuer, cert) != X509_V_OK ||
                           X509_verify(cert, X509_get0_pubkey(issuer)) != 1))
        err = cli_fail_ossl(&d, AVOW_ERR_SIG_INVALID, "certificate",
                            "not issued by %s (name or signature)", cafile);
    if (err == AVOW_OK)
        err = avow_cert_get_ear(cert, X509_get0_pubkey(issuer), 0, &payload, &d);
    if (err == AVOW_OK && cli_get(a, "jwt-out") != NULL) {
        err = avow_cert_get_ear_jwt(cert, &jwt, &d);
        if (err == AVOW_OK)
            err = avow_write_file(cli_get(a, "jwt-out"), jwt.ptr, jwt.len, &d);
    }
    if (err == AVOW_OK)
        err = pretty_json((const char *)payload.ptr, payload.len, &pretty, &d);
    if (err == AVOW_OK)
        err = cli_print(&pretty, &d);
    avow_buf_free(&jwt);
    avow_buf_free(&pretty);
    avow_buf_free(&payload);
    X509_free(issuer);
    X509_free(cert);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}

static const cli_cmd commands[] = {
    {"init",
     "Create a CA: key (software or PKCS#11), self-signed certificate, nonce store, ca.json.",
     "-dir DIR [-subject NAME] [-key TYPE|pkcs11:URI] [-days N] [options]", init_opts, 0, run_init},
    {"nonce", "Issue a freshness nonce from the CA's store and print it in hex.",
     "-dir DIR [-ttl SECONDS] [-len N] [-json]", nonce_opts, 0, run_nonce},
    {"issue",
     "Appraise an attested request; issue a certificate carrying the EAR only when affirming.",
     "-dir DIR -in REQUEST -CAfile ANCHORS [options]", issue_opts, 0, run_issue},
    {"show-result", "Verify and print the EAR carried in an issued certificate (CMW extension).",
     "-in CERT (-CAfile CA_CERT | -dir DIR)", show_opts, 0, run_show},
};

int cli_group_ca(const char *prog, int argc, char **argv)
{
    return cli_run_table(prog,
                         "A local CA for attested requests: the certificate carries the "
                         "Attestation Result (EAR) in the CMW extension " AVOW_OID_CMW ".",
                         commands, sizeof(commands) / sizeof(commands[0]), argc, argv);
}
