/*
 * The CA directory (avow/ca_dir.h): creating it whole or not at all,
 * opening it, and the order of issuance that keeps the ledger, the nonces
 * and the certificates in step whatever is killed when.
 */
/* realpath(3) is XSI. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <avow/ca_dir.h>
#include <avow/x509.h>
#include <avow/pkcs11.h>

#include "core/internal.h"

#define CA_JSON        "ca.json"
#define CA_KEY         "ca.key"
#define CA_CRT         "ca.crt"
#define CA_NONCES      "nonces.db"
#define CA_CERTS       "certs"
#define CA_MAX_JSON    (64u * 1024u)
#define CA_MAX_FILE    (1024u * 1024u)
#define STALE_TMP_SECS 600 /* a writer's temporary lives for milliseconds */

struct avow_ca_dir {
    char dir[PATH_MAX];
    char real[PATH_MAX];
    json_t *conf;
    unsigned days;
    size_t max_nonces;
    unsigned san_allow; /* ca.json's kinds a copied subjectAltName may have; 0 = the default */
    X509 *cert;
    avow_ca *ca;
    avow_nonce_store *store;
    avow_policy *policy; /* ca.json's, loaded on first issue */
    CRYPTO_RWLOCK *lock; /* over policy: issues may run in several threads (the CMP server) */
};

static avow_err join(char *out, size_t cap, const char *dir, const char *name, avow_diag *diag)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return avow__fail(diag, AVOW_ERR_ARG, "dir", "path too long: %s/%s", dir, name);
    return AVOW_OK;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* --- keys --- */

static avow_err gen_key(const char *type, EVP_PKEY **out, avow_diag *diag)
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
        return avow__fail(diag, AVOW_ERR_ARG, "key",
                          "\"%.64s\" is not ec-p256, ec-p384, rsa-3072, ed25519 or a pkcs11: URI",
                          type);
    if (k == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "key", "cannot generate a %s key", type);
    *out = k;
    return AVOW_OK;
}

static avow_err write_key(EVP_PKEY *k, const char *path, avow_diag *diag)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n = 0;
    if (b == NULL || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
        (n = BIO_get_mem_data(b, &data)) <= 0) {
        BIO_free(b);
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "key", "cannot encode the key");
    }
    avow_err rc = avow__write_file_mode(path, (const uint8_t *)data, (size_t)n, 0600, diag);
    OPENSSL_cleanse(data, (size_t)n);
    BIO_free(b);
    return rc;
}

/* The CA key: a key file, or a pkcs11: URI whose key signs in the token. */
static avow_err open_key(const char *ref, const char *module, const char *pin_source,
                         avow_signer **out, avow_diag *diag)
{
    avow_signer_open_opts o;
    avow_signer_open_opts_init(&o);
    o.pkcs11_module = module;
    o.pin_source = pin_source;
    return avow_signer_open(ref, &o, out, diag);
}

static int is_p11(const char *key)
{
    return key != NULL && strncmp(key, "pkcs11:", 7) == 0;
}

/* --- init --- */

static avow_err write_cert_pem(const char *path, X509 *cert, avow_diag *diag)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    if (len <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certificate", "cannot encode");
    avow_buf pem = {0};
    avow_err rc = avow_armor(der, (size_t)len, "CERTIFICATE", &pem);
    OPENSSL_free(der);
    if (rc == AVOW_OK)
        rc = avow__write_file_mode(path, pem.ptr, pem.len, 0644, diag);
    else
        avow__fail(diag, rc, "certificate", "cannot armour");
    avow_buf_free(&pem);
    return rc;
}

static avow_err write_conf(const char *path, const avow_ca_dir_init_opts *o, const char *key,
                           const char *policy, avow_diag *diag)
{
    json_t *j = json_object();
    int bad = j == NULL;
    bad = bad || json_object_set_new(j, "version", json_integer(1)) != 0;
    bad = bad || json_object_set_new(j, "subject", json_string(o->subject)) != 0;
    bad = bad || json_object_set_new(j, "key", json_string(key)) != 0;
    bad = bad || json_object_set_new(j, "days", json_integer(o->cert_days)) != 0;
    bad = bad || json_object_set_new(j, "max_nonces", json_integer(o->max_nonces)) != 0;
    if (o->pkcs11_module != NULL)
        bad = bad || json_object_set_new(j, "pkcs11_module", json_string(o->pkcs11_module)) != 0;
    if (o->pin_source != NULL && strncmp(o->pin_source, "pass:", 5) != 0)
        bad = bad || json_object_set_new(j, "pin_source", json_string(o->pin_source)) != 0;
    if (policy != NULL)
        bad = bad || json_object_set_new(j, "policy", json_string(policy)) != 0;
    if (o->san_allow != NULL)
        bad = bad || json_object_set_new(j, "san_allow", json_string(o->san_allow)) != 0;
    char *text = bad ? NULL : json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    if (text == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, CA_JSON, "cannot encode (is every value UTF-8?)");
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL; n + 1 bytes written */
    avow_err rc = avow__write_file_mode(path, (const uint8_t *)text, n + 1, 0644, diag);
    free(text);
    return rc;
}

/* Removes what init or a writer may have put in dir (two levels), then dir. */
static void remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        char p[PATH_MAX];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (join(p, sizeof(p), dir, e->d_name, NULL) != AVOW_OK)
                continue;
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0)
                remove_tree(p, depth - 1);
            else
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int sync_path(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int rc = fsync(fileno(f));
    fclose(f);
    return rc;
}

/* Refuses a target that holds anything; says whether it is a CA. */
static avow_err check_target(const char *dir, avow_diag *diag)
{
    struct stat st;
    if (lstat(dir, &st) != 0)
        return errno == ENOENT
                   ? AVOW_OK
                   : avow__fail(diag, AVOW_ERR_IO, dir, "cannot stat: %s", strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return avow__fail(diag, AVOW_ERR_STATE, dir, "exists and is not a directory");
    static const char *const ca_files[] = {CA_JSON, CA_KEY, CA_CRT, CA_NONCES};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof(ca_files) / sizeof(ca_files[0]); i++) {
        if (join(p, sizeof(p), dir, ca_files[i], diag) != AVOW_OK)
            return AVOW_ERR_ARG;
        if (exists(p))
            return avow__fail(
                diag, AVOW_ERR_STATE, dir,
                "already holds a CA (ca.json, ca.key, ca.crt or nonces.db); not overwritten");
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return avow__fail(diag, AVOW_ERR_IO, dir, "cannot read: %s", strerror(errno));
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        return avow__fail(diag, AVOW_ERR_STATE, dir,
                          "is not empty; a CA is created in a new or empty directory");
    return AVOW_OK;
}

static avow_err absolute(const char *path, char *out, size_t cap, avow_diag *diag)
{
    char buf[PATH_MAX];
    if (realpath(path, buf) == NULL)
        return avow__fail(diag, AVOW_ERR_IO, path, "cannot resolve: %s", strerror(errno));
    if (strlen(buf) >= cap)
        return avow__fail(diag, AVOW_ERR_ARG, path, "path too long");
    avow__strlcpy(out, buf, cap);
    return AVOW_OK;
}

/* Everything of a new CA inside tmp. */
static avow_err build(const char *tmp, const avow_ca_dir_init_opts *o, avow_diag *diag)
{
    char p[PATH_MAX], policy[PATH_MAX], key_uri[1024];
    const char *policy_abs = NULL;
    avow_err rc = AVOW_OK;
    if (o->policy != NULL) {
        avow_policy *pol = NULL;
        rc = avow_policy_load(o->policy, &pol, diag); /* refuse a bad policy now */
        avow_policy_free(pol);
        if (rc == AVOW_OK)
            rc = absolute(o->policy, policy, sizeof(policy), diag);
        policy_abs = policy;
    }
    if (rc == AVOW_OK)
        rc = join(p, sizeof(p), tmp, CA_CERTS, diag);
    if (rc == AVOW_OK && mkdir(p, 0700) != 0)
        rc = avow__fail(diag, AVOW_ERR_IO, p, "mkdir: %s", strerror(errno));
    avow_signer *signer = NULL;
    const char *stored_key = CA_KEY;
    if (rc == AVOW_OK && is_p11(o->key)) {
        rc = open_key(o->key, o->pkcs11_module, o->pin_source, &signer, diag);
        /* The URI is kept to find the key again, its PIN never. */
        if (avow_p11_uri_redact(o->key, 0, key_uri, sizeof(key_uri)) >= sizeof(key_uri) &&
            rc == AVOW_OK)
            rc = avow__fail(diag, AVOW_ERR_ARG, "key", "pkcs11: URI too long");
        stored_key = key_uri;
    } else if (rc == AVOW_OK) {
        EVP_PKEY *k = NULL;
        rc = gen_key(o->key, &k, diag);
        if (rc == AVOW_OK)
            rc = join(p, sizeof(p), tmp, CA_KEY, diag);
        if (rc == AVOW_OK)
            rc = write_key(k, p, diag);
        if (rc == AVOW_OK &&
            (rc = avow_signer_new_pkey(k, AVOW_SIGALG_NONE, &signer, diag)) != AVOW_OK)
            avow__fail(diag, rc, "key", "cannot make a signer of the CA key");
        EVP_PKEY_free(k);
    }
    X509 *cert = NULL;
    if (rc == AVOW_OK)
        rc = avow_ca_make_root(signer, o->subject, o->days, o->now, &cert, diag);
    avow_signer_free(signer);
    if (rc == AVOW_OK)
        rc = join(p, sizeof(p), tmp, CA_CRT, diag);
    if (rc == AVOW_OK)
        rc = write_cert_pem(p, cert, diag);
    X509_free(cert);
    avow_nonce_store *store = NULL;
    if (rc == AVOW_OK)
        rc = join(p, sizeof(p), tmp, CA_NONCES, diag);
    if (rc == AVOW_OK)
        rc = avow_nonce_store_open_sqlite_ex(p, AVOW_NONCE_STORE_CREATE, &store, diag);
    avow_nonce_store_free(store); /* closing checkpoints the WAL into the file */
    if (rc == AVOW_OK && (chmod(p, 0600) != 0 || sync_path(p) != 0))
        rc = avow__fail(diag, AVOW_ERR_IO, p, "chmod/fsync: %s", strerror(errno));
    if (rc == AVOW_OK)
        rc = join(p, sizeof(p), tmp, CA_JSON, diag);
    if (rc == AVOW_OK)
        rc = write_conf(p, o, stored_key, policy_abs, diag);
    OPENSSL_cleanse(key_uri, sizeof(key_uri));
    return rc;
}

void avow_ca_dir_init_opts_init(avow_ca_dir_init_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_ca_dir_open_opts_init(avow_ca_dir_open_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

void avow_ca_dir_issue_opts_init(avow_ca_dir_issue_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    avow_ca_issue_opts_init(&o->issue);
}

avow_err avow_ca_dir_init(const char *dir, const avow_ca_dir_init_opts *opts, avow_diag *diag)
{
    if (dir == NULL || dir[0] == '\0')
        return avow__fail(diag, AVOW_ERR_ARG, "dir", "no directory");
    avow_ca_dir_init_opts o;
    avow_ca_dir_init_opts_init(&o);
    if (opts != NULL && opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_ca_dir_init_opts_init");
    if (opts != NULL)
        o = *opts;
    if (o.subject == NULL)
        o.subject = AVOW_CA_DIR_DEFAULT_SUBJECT;
    if (o.days == 0)
        o.days = AVOW_CA_DEFAULT_ROOT_DAYS;
    if (o.cert_days == 0)
        o.cert_days = AVOW_CA_DEFAULT_DAYS;
    if (o.max_nonces == 0)
        o.max_nonces = AVOW_CA_DIR_DEFAULT_MAX_NONCES;
    if (o.days > AVOW_CA_MAX_DAYS || o.cert_days > AVOW_CA_MAX_DAYS)
        return avow__fail(diag, AVOW_ERR_ARG, "days", "validity is 1..%u days", AVOW_CA_MAX_DAYS);
    if (o.cert_days > o.days)
        return avow__fail(diag, AVOW_ERR_ARG, "cert-days",
                          "issued certificates (%u days) would outlive the CA (%u days)",
                          o.cert_days, o.days);
    unsigned kinds = 0;
    if (o.san_allow != NULL) {
        avow_err krc = avow_san_kinds_parse(o.san_allow, &kinds, diag);
        if (krc != AVOW_OK)
            return krc;
        if (kinds == 0)
            return avow__fail(diag, AVOW_ERR_ARG, "san_allow",
                              "none would copy no name: leave it out");
    }
    if (!is_p11(o.key) && (o.pkcs11_module != NULL || o.pin_source != NULL))
        return avow__fail(diag, AVOW_ERR_ARG, "key",
                          "a PKCS#11 module and PIN source need a pkcs11: key");
    avow_err rc = check_target(dir, diag);
    if (rc != AVOW_OK)
        return rc;
    /* Beside the target, so the rename stays on one file system. */
    char tmp[PATH_MAX];
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int n = snprintf(tmp, sizeof(tmp), "%.*s.init-XXXXXX", (int)dl, dir);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return avow__fail(diag, AVOW_ERR_ARG, "dir", "path too long: %s", dir);
    if (mkdtemp(tmp) == NULL)
        return avow__fail(diag, AVOW_ERR_IO, dir, "cannot create a directory beside it: %s",
                          strerror(errno));
    rc = build(tmp, &o, diag);
    if (rc == AVOW_OK && (chmod(tmp, 0700) != 0 || sync_path(tmp) != 0))
        rc = avow__fail(diag, AVOW_ERR_IO, tmp, "chmod/fsync: %s", strerror(errno));
    /* rename(2) replaces an empty directory and refuses a full one, so of
     * several inits racing here exactly one gets in. */
    if (rc == AVOW_OK && rename(tmp, dir) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            rc = avow__fail(diag, AVOW_ERR_STATE, dir,
                            "already holds a CA (made at the same time); not overwritten");
        else
            rc = avow__fail(diag, AVOW_ERR_IO, dir, "cannot rename %s into place: %s", tmp,
                            strerror(errno));
    }
    if (rc != AVOW_OK) {
        remove_tree(tmp, 1);
        avow__ossl_clear();
        return rc;
    }
    char parent[PATH_MAX];
    const char *slash = strrchr(dir, '/');
    if (slash == NULL)
        avow__strlcpy(parent, ".", sizeof(parent));
    else
        snprintf(parent, sizeof(parent), "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
    sync_path(parent);
    avow__ossl_clear();
    return AVOW_OK;
}

/* --- open --- */

static const char *conf_str(json_t *root, const char *name)
{
    json_t *v = json_object_get(root, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A writer killed between write and rename left NAME.XXXXXX; old ones are nobody's. */
static void sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        const char *dot = strrchr(e->d_name, '.');
        if (dot == NULL || strlen(dot + 1) != 6 || dot == e->d_name)
            continue;
        int name_ok = strncmp(e->d_name, CA_JSON ".", sizeof(CA_JSON)) == 0 ||
                      strncmp(e->d_name, CA_KEY ".", sizeof(CA_KEY)) == 0 ||
                      strncmp(e->d_name, CA_CRT ".", sizeof(CA_CRT)) == 0 ||
                      strstr(e->d_name, ".pem.") != NULL;
        struct stat st;
        if (!name_ok || join(p, sizeof(p), dir, e->d_name, NULL) != AVOW_OK || lstat(p, &st) != 0 ||
            !S_ISREG(st.st_mode) || now - st.st_mtime < STALE_TMP_SECS)
            continue;
        unlink(p);
    }
    closedir(d);
}

static avow_err load_conf(avow_ca_dir *cd, avow_diag *diag)
{
    char p[PATH_MAX];
    avow_err rc = join(p, sizeof(p), cd->dir, CA_JSON, diag);
    if (rc != AVOW_OK)
        return rc;
    if (!exists(p))
        return avow__fail(diag, AVOW_ERR_IO, p, "no CA here (run avow ca init -dir %s)", cd->dir);
    avow_buf raw = {0};
    if ((rc = avow_read_file(p, CA_MAX_JSON, &raw, diag)) != AVOW_OK)
        return rc;
    json_error_t je;
    cd->conf = json_loadb((const char *)raw.ptr, raw.len, JSON_REJECT_DUPLICATES, &je);
    avow_buf_free(&raw);
    if (cd->conf == NULL || !json_is_object(cd->conf))
        return avow__fail(diag, AVOW_ERR_CONFIG, p, "not a JSON object: %s",
                          cd->conf == NULL ? je.text : "wrong type");
    json_t *ver = json_object_get(cd->conf, "version");
    json_t *days = json_object_get(cd->conf, "days");
    json_t *maxn = json_object_get(cd->conf, "max_nonces");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1 ||
        conf_str(cd->conf, "key") == NULL || !json_is_integer(days) ||
        json_integer_value(days) < 1 || json_integer_value(days) > AVOW_CA_MAX_DAYS ||
        (maxn != NULL && (!json_is_integer(maxn) || json_integer_value(maxn) < 1)))
        return avow__fail(diag, AVOW_ERR_CONFIG, p,
                          "want {\"version\": 1, \"key\": ..., \"days\": 1..%u, "
                          "\"max_nonces\": >= 1, ...}",
                          AVOW_CA_MAX_DAYS);
    json_t *allow = json_object_get(cd->conf, "san_allow");
    if (allow != NULL &&
        (!json_is_string(allow) ||
         avow_san_kinds_parse(json_string_value(allow), &cd->san_allow, NULL) != AVOW_OK ||
         cd->san_allow == 0))
        return avow__fail(diag, AVOW_ERR_CONFIG, p,
                          "\"san_allow\": want kinds such as \"dns,ip\" (dns, ip, uri, email, "
                          "wildcard, all)");
    cd->days = (unsigned)json_integer_value(days);
    cd->max_nonces =
        maxn != NULL ? (size_t)json_integer_value(maxn) : AVOW_CA_DIR_DEFAULT_MAX_NONCES;
    return AVOW_OK;
}

static avow_err load_cert(avow_ca_dir *cd, avow_diag *diag)
{
    char p[PATH_MAX];
    avow_buf raw = {0}, der = {0};
    avow_err rc = join(p, sizeof(p), cd->dir, CA_CRT, diag);
    if (rc == AVOW_OK)
        rc = avow_read_file(p, CA_MAX_FILE, &raw, diag);
    if (rc == AVOW_OK)
        rc = avow_unarmor(raw.ptr, raw.len, "CERTIFICATE", CA_MAX_FILE, &der, diag);
    avow_buf_free(&raw);
    if (rc != AVOW_OK)
        return rc;
    const unsigned char *q = der.ptr;
    cd->cert = d2i_X509(NULL, &q, (long)der.len);
    avow_buf_free(&der);
    if (cd->cert == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_BAD_CERT, p, "not a certificate");
    return AVOW_OK;
}

avow_err avow_ca_dir_open(const char *dir, const avow_ca_dir_open_opts *opts, avow_ca_dir **out,
                          avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (dir == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "dir", "no directory or output");
    avow_ca_dir_open_opts none;
    avow_ca_dir_open_opts_init(&none);
    const avow_ca_dir_open_opts *o = opts != NULL ? opts : &none;
    /* The size before `store` was added is still a known size. */
    if (o->size != sizeof(*o) && o->size != offsetof(avow_ca_dir_open_opts, store))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_ca_dir_open_opts_init");
    const char *store = o->size == sizeof(*o) ? o->store : NULL;
    avow_ca_dir *cd = OPENSSL_zalloc(sizeof(*cd));
    if (cd != NULL && (cd->lock = CRYPTO_THREAD_lock_new()) == NULL) {
        OPENSSL_free(cd);
        cd = NULL;
    }
    if (cd == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "dir", "out of memory");
    avow_err rc = AVOW_OK;
    if (strlen(dir) >= sizeof(cd->dir))
        rc = avow__fail(diag, AVOW_ERR_ARG, "dir", "path too long");
    else
        avow__strlcpy(cd->dir, dir, sizeof(cd->dir));
    if (rc == AVOW_OK)
        rc = load_conf(cd, diag);
    if (rc == AVOW_OK)
        rc = absolute(dir, cd->real, sizeof(cd->real), diag);
    if (rc == AVOW_OK)
        rc = load_cert(cd, diag);
    char p[PATH_MAX];
    if (rc == AVOW_OK)
        rc = join(p, sizeof(p), cd->dir, CA_NONCES, diag);
    if (rc == AVOW_OK && store == NULL) {
        rc = avow_nonce_store_open_sqlite_ex(p, 0, &cd->store, diag);
    } else if (rc == AVOW_OK) {
        avow_nonce_store_open_opts so;
        avow_nonce_store_open_opts_init(&so);
        so.ledger = p; /* Redis nonces, this CA's ledger */
        rc = avow_nonce_store_open_uri(store, 0, &so, &cd->store, diag);
    }
    if (rc == AVOW_OK)
        avow_nonce_store_set_limit(cd->store, cd->max_nonces);
    if (rc == AVOW_OK && !(o->flags & AVOW_CA_DIR_NO_KEY)) {
        const char *key = conf_str(cd->conf, "key");
        const char *module = conf_str(cd->conf, "pkcs11_module");
        const char *pin = o->pin_source != NULL ? o->pin_source : conf_str(cd->conf, "pin_source");
        avow_signer *s = NULL;
        if (is_p11(key))
            rc = open_key(key, module != NULL ? module : o->pkcs11_module, pin, &s, diag);
        else if (key[0] == '/')
            rc = open_key(key, NULL, NULL, &s, diag);
        else if ((rc = join(p, sizeof(p), cd->dir, key, diag)) == AVOW_OK)
            rc = open_key(p, NULL, NULL, &s, diag);
        if (rc == AVOW_OK && (rc = avow_ca_new(s, cd->cert, &cd->ca, diag)) != AVOW_OK)
            avow_signer_free(s);
    }
    if (rc != AVOW_OK) {
        avow_ca_dir_free(cd);
        avow__ossl_clear();
        return rc;
    }
    sweep(cd->dir);
    if (join(p, sizeof(p), cd->dir, CA_CERTS, NULL) == AVOW_OK)
        sweep(p);
    *out = cd;
    avow__ossl_clear();
    return AVOW_OK;
}

void avow_ca_dir_free(avow_ca_dir *cd)
{
    if (cd == NULL)
        return;
    avow_ca_free(cd->ca);
    X509_free(cd->cert);
    avow_nonce_store_free(cd->store);
    avow_policy_free(cd->policy);
    CRYPTO_THREAD_lock_free(cd->lock);
    json_decref(cd->conf);
    OPENSSL_free(cd);
}

avow_ca *avow_ca_dir_get0_ca(const avow_ca_dir *cd)
{
    return cd != NULL ? cd->ca : NULL;
}

X509 *avow_ca_dir_get0_cert(const avow_ca_dir *cd)
{
    return cd != NULL ? cd->cert : NULL;
}

avow_nonce_store *avow_ca_dir_get0_store(const avow_ca_dir *cd)
{
    return cd != NULL ? cd->store : NULL;
}

unsigned avow_ca_dir_days(const avow_ca_dir *cd)
{
    return cd != NULL ? cd->days : 0;
}

/* --- nonces and issuance --- */

static void purge_quietly(avow_ca_dir *cd, time_t now)
{
    /* A purge that fails leaves rows that refuse as before; nothing to report. */
    avow_diag d;
    avow_diag_clear(&d);
    (void)avow_nonce_purge(cd->store, now, 0, NULL, &d);
}

avow_err avow_ca_dir_nonce(avow_ca_dir *cd, size_t len, unsigned ttl, time_t now, avow_buf *nonce,
                           time_t *expires, avow_diag *diag)
{
    if (cd == NULL || nonce == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "nonce", "no CA or output");
    if (now == 0)
        now = time(NULL);
    purge_quietly(cd, now);
    avow_err rc = avow_nonce_issue(cd->store, len, ttl, now, nonce, diag);
    if (rc == AVOW_OK && expires != NULL)
        *expires = now + (time_t)(ttl != 0 ? ttl : AVOW_NONCE_DEFAULT_TTL);
    return rc;
}

static time_t asn1_time_t(const ASN1_TIME *t)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0;
    int ok = epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, t);
    ASN1_TIME_free(epoch);
    return ok ? (time_t)days * 86400 + secs : 0;
}

static void serial_hex(const X509 *cert, char *out, size_t cap)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
    const unsigned char *p = ASN1_STRING_get0_data(sn);
    int n = ASN1_STRING_length(sn);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used + 3 <= cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%02x", p[i]);
}

size_t avow_ca_dir_cert_path(const avow_ca_dir *cd, const X509 *cert, char *buf, size_t cap)
{
    char sn[2 * AVOW_LEDGER_MAX_SERIAL + 1];
    serial_hex(cert, sn, sizeof(sn));
    int n = snprintf(buf, cap, "%s/" CA_CERTS "/%s.pem", cd->dir, sn);
    return n < 0 ? 0 : (size_t)n;
}

/* What the ledger keeps of one issuance; strings in *subject, *ear, *der (caller frees). */
static avow_err make_record(X509 *cert, const avow_request *req, const avow_appraisal *a,
                            time_t now, avow_issuance *r, char **subject, avow_buf *ear,
                            unsigned char **der, avow_diag *diag)
{
    memset(r, 0, sizeof(*r));
    serial_hex(cert, r->serial, sizeof(r->serial));
    /* RFC 4514 text, the order `-subject` is written in. */
    avow_buf st = {0};
    if (avow_name_text(X509_get_subject_name(cert), &st) != AVOW_OK)
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "subject", "cannot print the subject");
    *subject = (char *)st.ptr;
    unsigned char *spki = NULL;
    int sl = i2d_PUBKEY(X509_get0_pubkey(cert), &spki);
    if (sl <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "spki", "cannot encode the key");
    SHA256(spki, (size_t)sl, r->spki_sha256);
    OPENSSL_free(spki);
    avow_view rd = avow_request_der(req);
    SHA256(rd.ptr, rd.len, r->request_sha256);
    avow_view nonce = avow_appraisal_nonce(a);
    if (nonce.len == 0 || nonce.len > sizeof(r->nonce))
        return avow__fail(diag, AVOW_ERR_INTERNAL, "nonce", "an affirming result without a nonce");
    memcpy(r->nonce, nonce.ptr, nonce.len);
    r->nonce_len = nonce.len;
    r->issued = now;
    r->not_after = asn1_time_t(X509_get0_notAfter(cert));
    avow_err rc = avow_ear_to_json(avow_appraisal_get0_ear(a), ear, diag);
    if (rc != AVOW_OK)
        return rc;
    int dl = i2d_X509(cert, der);
    if (dl <= 0)
        return avow__fail_ossl(diag, AVOW_ERR_CRYPTO, "certificate", "cannot encode");
    r->subject = *subject;
    r->ear_json = (const char *)ear->ptr;
    r->cert_der = *der;
    r->cert_der_len = (size_t)dl;
    return AVOW_OK;
}

/*
 * The certificate leaves only after this: the nonce used up and the
 * issuance recorded in one transaction, then the certificate in certs/. A
 * failure after the transaction says where the certificate can still be had.
 */
static avow_err commit_issuance(avow_ca_dir *cd, const avow_request *req, const avow_appraisal *a,
                                X509 *x, time_t now, avow_diag *diag)
{
    avow_issuance rec;
    char *subject = NULL;
    avow_buf ear = {0};
    unsigned char *der = NULL;
    avow_err rc = make_record(x, req, a, now, &rec, &subject, &ear, &der, diag);
    if (rc == AVOW_OK)
        rc = avow_nonce_consume_record(cd->store, avow_appraisal_nonce(a).ptr,
                                       avow_appraisal_nonce(a).len, now, &rec, diag);
    OPENSSL_free(subject);
    avow_buf_free(&ear);
    OPENSSL_free(der);
    if (rc != AVOW_OK)
        return rc;
    char path[PATH_MAX];
    if (avow_ca_dir_cert_path(cd, x, path, sizeof(path)) >= sizeof(path))
        rc = avow__fail(diag, AVOW_ERR_ARG, "dir", "path too long");
    if (rc == AVOW_OK)
        rc = write_cert_pem(path, x, diag);
    purge_quietly(cd, now);
    if (rc != AVOW_OK && diag != NULL) {
        char sn[2 * AVOW_LEDGER_MAX_SERIAL + 1];
        serial_hex(x, sn, sizeof(sn));
        size_t used = strlen(diag->detail);
        snprintf(diag->detail + used, sizeof(diag->detail) - used,
                 "; certificate %s is in the ledger (avow ca show -serial %s)", sn, sn);
    }
    return rc;
}

avow_err avow_ca_dir_issue(avow_ca_dir *cd, const avow_verifier *v, const avow_request *req,
                           const avow_ca_dir_issue_opts *opts, avow_appraisal **appraisal,
                           X509 **cert, avow_diag *diag)
{
    if (appraisal != NULL)
        *appraisal = NULL;
    if (cert != NULL)
        *cert = NULL;
    if (cd == NULL || v == NULL || req == NULL || appraisal == NULL || cert == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ca", "no CA, verifier, request or output");
    if (cd->ca == NULL)
        return avow__fail(diag, AVOW_ERR_STATE, "ca", "the CA was opened without its key");
    avow_ca_dir_issue_opts none;
    avow_ca_dir_issue_opts_init(&none);
    const avow_ca_dir_issue_opts *o = opts != NULL ? opts : &none;
    if (o->size != sizeof(*o) || o->issue.size != sizeof(o->issue))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_ca_dir_issue_opts_init");
    time_t now = o->issue.now != 0 ? o->issue.now : time(NULL);
    const avow_policy *policy = o->policy;
    const char *ppath = conf_str(cd->conf, "policy");
    avow_err rc = AVOW_OK;
    if (policy == NULL && ppath != NULL) {
        if (!CRYPTO_THREAD_write_lock(cd->lock))
            return avow__fail_ossl(diag, AVOW_ERR_INTERNAL, "ca", "cannot take the lock");
        if (cd->policy == NULL)
            rc = avow_policy_load(ppath, &cd->policy, diag);
        policy = cd->policy;
        CRYPTO_THREAD_unlock(cd->lock);
    }
    if (rc != AVOW_OK)
        return rc;

    avow_appraise_opts ao = {
        .size = sizeof(avow_appraise_opts),
        .nonce = o->nonce,
        .nonce_len = o->nonce_len,
        .nonces = cd->store,
        .policy = policy,
        .now = now,
        .verify_flags = o->verify_flags,
        .request_flags = o->request_flags,
        .registry = o->registry,
        .flags = AVOW_APPRAISE_CHECK_NONCE_ONLY,
    };
    avow_appraisal *a = NULL;
    rc = avow_appraise_request(v, req, &ao, &a, diag);
    if (a == NULL)
        return rc;
    if (rc != AVOW_OK || avow_appraisal_status(a) != AVOW_OK) {
        *appraisal = a;
        return rc != AVOW_OK ? rc : AVOW_ERR_NOT_AFFIRMING;
    }
    avow_ca_issue_opts io = o->issue;
    io.now = now;
    if (io.days == 0)
        io.days = cd->days;
    if (io.san_allow == 0)
        io.san_allow = cd->san_allow;
    if (o->prepare != NULL && (rc = o->prepare(o->prepare_ctx, a, &io, diag)) != AVOW_OK) {
        avow_appraisal_free(a);
        return rc;
    }
    X509 *x = NULL;
    rc = avow_ca_issue(cd->ca, req, a, &io, &x, diag);
    if (rc == AVOW_OK)
        rc = commit_issuance(cd, req, a, x, now, diag);
    if (rc != AVOW_OK) {
        if (io.jwt_out != NULL)
            avow_buf_free(io.jwt_out);
        X509_free(x);
        avow_appraisal_free(a);
        return rc;
    }
    *cert = x;
    *appraisal = a;
    avow__ossl_clear();
    return AVOW_OK;
}

avow_err avow_ca_dir_list(avow_ca_dir *cd, avow_issuance_cb cb, void *ctx, avow_diag *diag)
{
    if (cd == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ca", "no CA");
    return avow_ledger_foreach(cd->store, cb, ctx, diag);
}

avow_err avow_ca_dir_find_serial(avow_ca_dir *cd, const char *serial, avow_issuance **out,
                                 avow_diag *diag)
{
    if (cd == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "ca", "no CA");
    return avow_ledger_find_serial(cd->store, serial, out, diag);
}

int avow_ca_dir_contains(const avow_ca_dir *cd, const char *path)
{
    if (cd == NULL || path == NULL || strcmp(path, "-") == 0)
        return 0;
    char buf[PATH_MAX], parent[PATH_MAX];
    if (realpath(path, buf) == NULL) {
        /* Not there yet: resolve its directory and put the name back. */
        const char *slash = strrchr(path, '/');
        const char *base = slash != NULL ? slash + 1 : path;
        if (slash == NULL)
            avow__strlcpy(parent, ".", sizeof(parent));
        else
            snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        char rp[PATH_MAX];
        if (realpath(parent, rp) == NULL)
            return 0;
        int n = snprintf(buf, sizeof(buf), "%s/%s", strcmp(rp, "/") == 0 ? "" : rp, base);
        if (n < 0 || (size_t)n >= sizeof(buf))
            return 0;
    }
    size_t n = strlen(cd->real);
    return strncmp(buf, cd->real, n) == 0 && (buf[n] == '\0' || buf[n] == '/');
}
