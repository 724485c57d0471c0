/*
 * avow/ca_dir.h - a CA kept in a directory: the files `avow ca` and the
 * HTTP service share.
 *
 *   ca.json     settings (version, subject, key, days, pkcs11_module,
 *               pin_source, policy, max_nonces, san_allow); never a PIN
 *   ca.key      the software CA key, PKCS#8 PEM, 0600 (absent for a token key)
 *   ca.crt      the self-signed CA certificate, 0644
 *   nonces.db   the SQLite nonce store and issuance ledger (avow/ledger.h), 0600;
 *               with a Redis store (open opts.store) the ledger only
 *   certs/      SERIAL.pem of every certificate issued, written by this code only
 *
 * The directory is 0700. Everything in it is written through a synced
 * temporary renamed into place; `init` builds the whole directory beside
 * the target and renames it into place, so a CA directory is complete or
 * absent. docs/ca.md describes the files and the order of issuance.
 */
#ifndef AVOW_CA_DIR_H
#define AVOW_CA_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include <avow/appraise.h>
#include <avow/ca.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/ledger.h>
#include <avow/nonce.h>
#include <avow/policy.h>
#include <avow/request.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AVOW_CA_DIR_DEFAULT_MAX_NONCES 10000u /* outstanding nonces (ca.json max_nonces) */
#define AVOW_CA_DIR_DEFAULT_SUBJECT    "CN=avow demo CA"

typedef struct avow_ca_dir avow_ca_dir;

typedef struct avow_ca_dir_init_opts {
    size_t size;               /* set by avow_ca_dir_init_opts_init */
    const char *subject;       /* NULL = AVOW_CA_DIR_DEFAULT_SUBJECT */
    const char *key;           /* "ec-p256" (NULL), "ec-p384", "rsa-3072", "ed25519", or the
                                  pkcs11: URI of an existing key (stored without its PIN) */
    const char *pkcs11_module; /* module for a pkcs11: key; stored */
    const char *pin_source;    /* env:NAME or file:PATH (stored), or pass:TEXT (used, not stored) */
    unsigned days;             /* the CA certificate; 0 = AVOW_CA_DEFAULT_ROOT_DAYS */
    unsigned cert_days;        /* default of issued certificates; 0 = AVOW_CA_DEFAULT_DAYS */
    const char *policy;        /* appraisal policy file, checked and stored as an absolute path */
    unsigned max_nonces;       /* outstanding nonces; 0 = AVOW_CA_DIR_DEFAULT_MAX_NONCES */
    time_t now;                /* 0 = the current time */
    const char *san_allow;     /* kinds a copied subjectAltName may have ("dns,ip",
                                  avow_san_kinds_parse), stored in ca.json; NULL = dns */
} avow_ca_dir_init_opts;

/* Zeroes o and sets its size. */
AVOW_EXPORT void avow_ca_dir_init_opts_init(avow_ca_dir_init_opts *o);

/*
 * Creates a CA in dir, which must not exist or be an empty directory. The
 * CA is made in a temporary directory beside dir (dir.init-XXXXXX) and
 * renamed into place: of several concurrent inits exactly one wins, and a
 * failed init leaves nothing behind. Errors: AVOW_ERR_STATE (dir holds a
 * CA, is not empty, or another init won), AVOW_ERR_ARG (options, san_allow), AVOW_ERR_BAD_DN
 * (subject), AVOW_ERR_IO, AVOW_ERR_CRYPTO, those of avow_p11_open for a token key,
 * AVOW_ERR_BAD_POLICY.
 */
AVOW_EXPORT avow_err avow_ca_dir_init(const char *dir, const avow_ca_dir_init_opts *opts,
                                      avow_diag *diag);

/* avow_ca_dir_open_opts.flags */
enum {
    /* Open without the CA key (no PIN needed): nonce, list, show. */
    AVOW_CA_DIR_NO_KEY = 1u << 0
};

typedef struct avow_ca_dir_open_opts {
    size_t size;               /* set by avow_ca_dir_open_opts_init */
    const char *pin_source;    /* overrides ca.json's pin_source */
    const char *pkcs11_module; /* used when ca.json names none */
    unsigned flags;            /* AVOW_CA_DIR_* */
    /*
     * Nonce store URI (avow_nonce_store_open_uri); NULL = DIR/nonces.db.
     * With redis:// or unix: the nonces live in Redis and the ledger stays
     * in DIR/nonces.db, unless the URI says ledger=stream. Added after
     * flags: a caller built before it passes the shorter size, which is
     * still accepted and means NULL.
     */
    const char *store;
} avow_ca_dir_open_opts;

/* Zeroes o and sets its size. */
AVOW_EXPORT void avow_ca_dir_open_opts_init(avow_ca_dir_open_opts *o);

/*
 * Opens the CA in dir: ca.json, ca.crt, the store (never created here: a
 * missing or foreign nonces.db is AVOW_ERR_STORE; opts.store names another
 * one, a Redis server must answer), and the key unless
 * AVOW_CA_DIR_NO_KEY. Temporaries older than ten minutes that a killed
 * writer left (NAME.XXXXXX) are removed. Errors: AVOW_ERR_IO (no CA there),
 * AVOW_ERR_CONFIG (ca.json), AVOW_ERR_STORE, AVOW_ERR_STORE_BUSY, the key's
 * and the certificate's. *out is the caller's (avow_ca_dir_free).
 */
AVOW_EXPORT avow_err avow_ca_dir_open(const char *dir, const avow_ca_dir_open_opts *opts,
                                      avow_ca_dir **out, avow_diag *diag);

/* No-op for NULL. */
AVOW_EXPORT void avow_ca_dir_free(avow_ca_dir *cd);

/* Borrowed. get0_ca is NULL when opened with AVOW_CA_DIR_NO_KEY. */
AVOW_EXPORT avow_ca *avow_ca_dir_get0_ca(const avow_ca_dir *cd);
AVOW_EXPORT X509 *avow_ca_dir_get0_cert(const avow_ca_dir *cd);
AVOW_EXPORT avow_nonce_store *avow_ca_dir_get0_store(const avow_ca_dir *cd);
/* ca.json's default validity of issued certificates, in days. */
AVOW_EXPORT unsigned avow_ca_dir_days(const avow_ca_dir *cd);

/*
 * A nonce from the CA's store (avow_nonce_issue: len 0 and ttl 0 take the
 * defaults), after purging expired ones; AVOW_ERR_NONCE_LIMIT when
 * ca.json's max_nonces are outstanding. *expires (may be NULL) gets its
 * expiry. *nonce is the caller's (avow_buf_free).
 */
AVOW_EXPORT avow_err avow_ca_dir_nonce(avow_ca_dir *cd, size_t len, unsigned ttl, time_t now,
                                       avow_buf *nonce, time_t *expires, avow_diag *diag);

typedef struct avow_ca_dir_issue_opts {
    size_t size;              /* set by avow_ca_dir_issue_opts_init */
    avow_ca_issue_opts issue; /* days 0 = ca.json's, san_allow 0 = ca.json's (else dns);
                                 issue.now is the time of everything */
    const uint8_t *nonce;     /* expected nonce; NULL = the bound statement's */
    size_t nonce_len;
    const avow_policy *policy;     /* NULL = ca.json's policy, else avow-default */
    unsigned verify_flags;         /* AVOW_VERIFY_* */
    unsigned request_flags;        /* AVOW_REQVERIFY_* */
    const avow_registry *registry; /* extra statement types; NULL = built-ins */
    /*
     * Called after an affirming appraisal, before the certificate is made:
     * it may set what the certificate says from the appraisal (a workload
     * certificate's identifier into io->san). A code other than AVOW_OK
     * ends the issuance with nothing consumed or recorded. NULL: none.
     */
    avow_err (*prepare)(void *ctx, const avow_appraisal *a, avow_ca_issue_opts *io,
                        avow_diag *diag);
    void *prepare_ctx;
} avow_ca_dir_issue_opts;

/* Zeroes o and sets its size (and the nested issue options). */
AVOW_EXPORT void avow_ca_dir_issue_opts_init(avow_ca_dir_issue_opts *o);

/*
 * Appraises req and, when affirming, issues, records and files its
 * certificate, in this order:
 *   1. avow_appraise_request with the nonce checked, not consumed;
 *   2. avow_ca_issue (in memory);
 *   3. one store transaction: consume the nonce and write the ledger row
 *      (avow_nonce_consume_record); losing a race for the nonce here
 *      releases nothing (AVOW_ERR_NONCE_REPLAY);
 *   4. certs/SERIAL.pem; expired nonces purged.
 * AVOW_OK: *cert (caller's, X509_free) and *appraisal are set.
 * AVOW_ERR_NOT_AFFIRMING: *appraisal says why; no certificate, nonce unused.
 * Any other code: *appraisal and *cert stay NULL; nothing was issued,
 * except AVOW_ERR_IO from step 4, where the certificate is in the ledger
 * (avow_ca_dir_find_serial) but not in certs/.
 * The CA must have been opened with its key (AVOW_ERR_STATE otherwise).
 * Several threads may issue on one avow_ca_dir at once (the CMP server
 * does): the store serialises its transactions, and ca.json's policy is
 * loaded once under a lock.
 */
AVOW_EXPORT AVOW_MUST_CHECK avow_err avow_ca_dir_issue(avow_ca_dir *cd, const avow_verifier *v,
                                                       const avow_request *req,
                                                       const avow_ca_dir_issue_opts *opts,
                                                       avow_appraisal **appraisal, X509 **cert,
                                                       avow_diag *diag);

/* DIR/certs/SERIAL.pem of cert into buf (snprintf semantics). */
AVOW_EXPORT size_t avow_ca_dir_cert_path(const avow_ca_dir *cd, const X509 *cert, char *buf,
                                         size_t cap);

/* The ledger: avow_ledger_foreach and avow_ledger_find_serial on the CA's store. */
AVOW_EXPORT avow_err avow_ca_dir_list(avow_ca_dir *cd, avow_issuance_cb cb, void *ctx,
                                      avow_diag *diag);
AVOW_EXPORT avow_err avow_ca_dir_find_serial(avow_ca_dir *cd, const char *serial,
                                             avow_issuance **out, avow_diag *diag);

/*
 * 1 when path, resolved (symbolic links, "..", a file not yet there by its
 * directory), lies inside the CA directory: outputs there could replace
 * the CA's own files. 0 otherwise, or when its directory does not exist.
 */
AVOW_EXPORT int avow_ca_dir_contains(const avow_ca_dir *cd, const char *path);

#ifdef __cplusplus
}
#endif
#endif
