/*
 * The HTTP service's insides, shared by its files: the configuration, the
 * request a handler answers, the response it fills, the logs and metrics.
 * Each front end (est.c, challenge.c, ops.c) is a set of handlers that the
 * router (http.c) calls with a complete request.
 */
#ifndef AVOW_SERVICE_INT_H
#define AVOW_SERVICE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <avow/avow.h>
#include <avow/ca_dir.h>
#include <avow/service.h>

struct MHD_Connection;
struct MHD_Daemon;

/* Defaults of the configuration (docs/serve.md). */
#define SVC_DEFAULT_LISTEN     "127.0.0.1:8443"
#define SVC_DEFAULT_THREADS    4u
#define SVC_DEFAULT_BODY_MAX   (256u * 1024u)
#define SVC_DEFAULT_HEADER_MAX (32u * 1024u)
#define SVC_DEFAULT_CONNS      256u
#define SVC_DEFAULT_TIMEOUT    30u
#define SVC_MAX_ANCHORS        64u
#define SVC_MAX_USERS          1024u

typedef enum svc_auth { SVC_AUTH_NONE = 0, SVC_AUTH_BASIC = 1, SVC_AUTH_TLS_CLIENT = 2 } svc_auth;

typedef struct svc_config {
    char *ca;
    char *listen;
    char *tls_cert, *tls_key; /* PEM files; both or neither */
    int plain_http;
    char *anchors[SVC_MAX_ANCHORS];
    size_t nanchors;
    char *iaks[SVC_MAX_ANCHORS]; /* PEM public keys of PSA attesters (Initial Attestation Keys) */
    size_t niaks;
    char *result_keys[SVC_MAX_ANCHORS]; /* PEM public keys of other verifiers (passports) */
    size_t nresult_keys;
    char *passport_policy; /* policy of requests carrying an EAR; NULL: "policy"'s */
    char *policy;          /* NULL: ca.json's */
    char *pin_source, *pkcs11_module;
    unsigned threads;
    size_t body_max, header_max;
    unsigned connections, timeout;
    unsigned nonce_ttl, nonce_len;
    svc_auth auth;
    char *users;     /* users file for SVC_AUTH_BASIC */
    char *client_ca; /* PEM anchors of client certificates for SVC_AUTH_TLS_CLIENT */
    char *realm;
    char *access_log, *audit_log; /* paths; "-" is standard error; NULL: off */
    char *cert_eku;               /* extendedKeyUsage of issued certificates; NULL: none */
    int nonce_cookie;             /* tie EST nonces to the client by a MAC'd cookie (default 1) */
    char *cookie_key;             /* est.cookie_key: key file shared by instances; NULL: random */
    char *store;                  /* NULL or "sqlite": DIR/nonces.db; else a store URI */
    /* "cmp": CMP at /pkix/ (cmp.c); off unless the member is there. */
    int cmp;
    char *cmp_secret;                         /* pass:TEXT, env:NAME or file:PATH (0600) */
    char *cmp_ref;                            /* senderKID of MAC-protected responses */
    char *cmp_protect_key, *cmp_protect_cert; /* PEM files: signature protection */
    char *cmp_trusted;                        /* PEM anchors of signature-protected requests */
    unsigned cmp_flags;                       /* AVOW_CMP_* */
    struct svc_oauth_cfg *oauth; /* the "oauth" member (oauth_config.c); NULL: no OAuth routes */
    struct svc_wimse_cfg *wimse; /* the "wimse" member (wimse_config.c); NULL: no WIMSE routes */
} svc_config;

/* Reads path (NULL: defaults only) into c. */
avow_err svc_config_load(const char *path, svc_config *c, avow_diag *d);
/* The same from text (fuzz/fuzz_service.c); c is filled even on failure: free it. */
avow_err svc_config_parse(const char *text, size_t len, svc_config *c, avow_diag *d);
void svc_config_free(svc_config *c);

/* Users of HTTP Basic authentication (auth.c). */
typedef struct svc_users svc_users;
avow_err svc_users_load(const char *path, svc_users **out, avow_diag *d);
/* The same from text; path only names it in messages. */
avow_err svc_users_parse(const char *path, const char *text, size_t len, svc_users **out,
                         avow_diag *d);
void svc_users_free(svc_users *u);
/* 1 when user and password match an entry; the same work whether the user exists or not. */
int svc_users_check(const svc_users *u, const char *user, size_t ulen, const char *pass,
                    size_t plen);

/* Routes, for metrics and logs. */
typedef enum svc_route_id {
    SVC_R_EST_CACERTS = 0,
    SVC_R_EST_ENROLL,
    SVC_R_EST_CSRATTRS,
    SVC_R_EST_NONCE,
    SVC_R_CR_NEW,
    SVC_R_CR_SESSION,
    SVC_R_HEALTHZ,
    SVC_R_METRICS,
    SVC_R_PKIX,
    SVC_R_OAUTH,
    SVC_R_WIMSE,
    SVC_R_UI,
    SVC_R_OTHER,
    SVC_R_COUNT_
} svc_route_id;
const char *svc_route_name(svc_route_id r);

/* Metrics (ops.c): counters under one mutex, read by /metrics. */
#define SVC_STATUS_SLOTS 16u
#define SVC_LAT_BUCKETS  10u
#define SVC_REASON_SLOTS 48u
typedef struct svc_metrics {
    pthread_mutex_t lock;
    unsigned statuses[SVC_STATUS_SLOTS]; /* the HTTP status codes seen, in order */
    size_t nstatuses;
    uint64_t requests[SVC_R_COUNT_][SVC_STATUS_SLOTS];
    uint64_t lat[SVC_R_COUNT_][SVC_LAT_BUCKETS + 1]; /* cumulative at render time */
    double lat_sum[SVC_R_COUNT_];
    uint64_t outcomes[5]; /* by avow_tier: none, affirming, warning, contraindicated; [4] other */
    avow_err reasons[SVC_REASON_SLOTS];
    uint64_t reason_count[SVC_REASON_SLOTS];
    size_t nreasons;
    uint64_t store_errors, store_busy;
} svc_metrics;

/*
 * The last refused enrolments, for /ui (ui.c): a ring under its own mutex.
 * Refusals issue nothing, so the ledger does not have them.
 */
#define SVC_RECENT_SLOTS 64u
typedef struct svc_recent_row {
    time_t when;
    char subject[256]; /* RFC 2253 text of the request's subject */
    char spki[65];     /* SHA-256 of the request's SubjectPublicKeyInfo, hex */
    avow_tier tier;
    char reasons[256]; /* the EAR's reasons: "rule NAME" or "check NAME", ", " between */
    avow_err code;     /* the problem document's code */
} svc_recent_row;
typedef struct svc_recent {
    pthread_mutex_t lock;
    svc_recent_row rows[SVC_RECENT_SLOTS];
    size_t next, count;
} svc_recent;

/* A JSON-lines log (ops.c). */
typedef struct svc_log {
    int fd; /* -1: off */
    int owned;
    pthread_mutex_t lock;
} svc_log;

struct avow_service {
    svc_config cfg;
    avow_ca_dir *cd;
    avow_verifier *v;
    avow_policy *policy;
    avow_policy *passport_policy; /* NULL: policy's */
    svc_users *users;
    char *tls_cert_pem, *tls_key_pem, *client_ca_pem;
    struct x509_store_st *client_store; /* X509_STORE of est.client_ca */
    struct MHD_Daemon *daemon;
    uint16_t port;
    /* The CA's signer (a PKCS#11 session among them) is used by one thread at a time. */
    pthread_mutex_t sign_lock;
    svc_metrics m;
    svc_recent recent;
    svc_log access, audit;
    char addr[64];          /* numeric host of cfg.listen */
    uint8_t cookie_key[32]; /* HMAC key of nonce cookies: random, or from est.cookie_key */
    avow_cmp_server *cmp;   /* NULL: no "cmp" in the configuration */
    uint16_t want_port;
    int ipv6;
    struct svc_oauth *oauth; /* the OAuth endpoints' state (oauth_setup.c); NULL: off */
    struct svc_wimse *wimse; /* the WIMSE endpoints' state (wimse_route.c); NULL: off */
};

/* One request, complete, as a handler sees it. */
typedef struct svc_req {
    avow_service *s;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const uint8_t *body;
    size_t body_len;
    char user[64]; /* the authenticated user ("" when none) */
    char peer[64];
} svc_req;

/* What a handler answers. */
typedef struct svc_resp {
    unsigned status;
    avow_buf body;
    const char *ctype;
    char location[192];
    int www_authenticate;     /* add WWW-Authenticate: Basic */
    unsigned retry_after;     /* > 0: add Retry-After */
    const char *allow;        /* 405: the Allow header */
    char set_cookie[256];     /* Set-Cookie when not empty */
    char oauth_challenge[96]; /* OAuth-Client-Attestation-Challenge when not empty */
    /* For the logs: the outcome a handler reached. */
    avow_err code;
    char serial[64];
} svc_resp;

/* Request headers (http.c). NULL when absent. */
const char *svc_header(const svc_req *r, const char *name);
const char *svc_query(const svc_req *r, const char *name);
/* Percent-decodes in[0..len) ('+' is a space) into out (cap bytes, NUL-terminated); 0 when
 * malformed, too long or decoding to a NUL. Query values arrive encoded (http.c). */
int svc_form_decode(const char *in, size_t len, char *out, size_t cap);
/* 1 when the Content-Type's media type (parameters ignored, case-insensitive) is one of list. */
int svc_ctype_is(const svc_req *r, const char *const *list, size_t n);

/* Problem documents (problem.c): RFC 9457 application/problem+json. */
void svc_problem(svc_resp *out, unsigned status, const char *type, const char *title, avow_err code,
                 const avow_diag *d);
/* The problem for a result that is not affirming, with the reasons and the EAR JWT. */
/* 409 and a nonce problem type when the EAR's first reason is freshness, else 403 not-affirming. */
unsigned svc_refusal_status(const avow_ear *ear, const char **type);
void svc_problem_appraisal(svc_resp *out, unsigned status, const char *type, const avow_ear *ear,
                           const char *jwt);
/* The problem for an error of the library that left no result. */
void svc_problem_err(svc_resp *out, avow_err err, const avow_diag *d);
/* Sets a JSON body (dumps root, does not release it). */
void svc_json_body(svc_resp *out, unsigned status, const char *ctype, const void *root);

/* Base64 (body.c): bodies of EST. Decoding skips CR, LF, space and tab only. */
avow_err svc_b64_decode(const uint8_t *in, size_t len, avow_buf *out, avow_diag *d);
avow_err svc_b64_encode(const uint8_t *in, size_t len, avow_buf *out);

/* EST nonce cookies (nonce_cookie.c): set with a nonce, read back with its MAC checked. */
void svc_nonce_cookie_set(const avow_service *s, const uint8_t *nonce, size_t len, svc_resp *out);
int svc_nonce_cookie_get(const svc_req *r, avow_buf *nonce);

/* Secrets (secret.c): pass:TEXT, env:NAME or file:PATH (a file group or others can
 * read or write is refused). *out is NUL-terminated, the caller's (cleanse and free). */
avow_err svc_secret_read(const char *spec, const char *field, avow_buf *out, avow_diag *d);
/* The bytes of a key file, with the same mode check; 32..16384 bytes. */
avow_err svc_secret_file(const char *path, const char *field, avow_buf *out, avow_diag *d);

/* CMP (cmp.c): the server made from the "cmp" member, and the /pkix/ handler. */
avow_err svc_cmp_setup(avow_service *s, avow_diag *d);
void svc_cmp_pkix(svc_req *r, svc_resp *out);

/* Front ends. */
void svc_est_cacerts(svc_req *r, svc_resp *out);
void svc_est_enroll(svc_req *r, svc_resp *out);
void svc_est_csrattrs(svc_req *r, svc_resp *out);
void svc_est_nonce(svc_req *r, svc_resp *out);
void svc_cr_new(svc_req *r, svc_resp *out);
void svc_cr_session(svc_req *r, const char *id, svc_resp *out);
void svc_ops_healthz(svc_req *r, svc_resp *out);
void svc_ops_metrics(svc_req *r, svc_resp *out);
/* /oauth/... and /.well-known/oauth-authorization-server (oauth_route.c). */
int svc_oauth_path(const char *path);
void svc_oauth_route(svc_req *r, svc_resp *out);
/* The "oauth" member of the configuration (oauth_config.c). */
avow_err svc_oauth_config_load(void *json, svc_config *c, avow_diag *d);
void svc_oauth_config_free(svc_config *c);
/* Opens what the "oauth" member names (oauth_setup.c); no-op without it. */
avow_err svc_oauth_setup(avow_service *s, avow_diag *d);
void svc_oauth_free(avow_service *s);
/* /wimse/... (wimse_route.c): the identity server and the relying party's check. */
int svc_wimse_path(const char *path);
void svc_wimse_route(svc_req *r, svc_resp *out);
/* The "wimse" member of the configuration (wimse_config.c). */
avow_err svc_wimse_config_load(void *json, svc_config *c, avow_diag *d);
void svc_wimse_config_free(svc_config *c);
/* Opens what the "wimse" member names (wimse_route.c); no-op without it. */
avow_err svc_wimse_setup(avow_service *s, avow_diag *d);
void svc_wimse_free(avow_service *s);
/* A public key file, PEM (SubjectPublicKeyInfo) or one JWK (oauth_setup.c); field names it. */
avow_err svc_public_key_load(const char *path, const char *field, EVP_PKEY **out, avow_diag *d);
void svc_ops_ui(svc_req *r, svc_resp *out);

/* The refused-enrolment ring of /ui (ui.c). req and ear may be NULL. */
void svc_recent_init(svc_recent *rc);
void svc_recent_free(svc_recent *rc);
void svc_recent_add(svc_recent *rc, const avow_request *req, const avow_ear *ear, avow_err code);

/* The authentication the configuration asks for (Basic or a TLS client certificate); 1 = go on. */
int svc_authenticate(svc_req *r, svc_resp *out);
/* 1 when the TLS peer's certificate chains to est.client_ca for TLS clients (tls_client.c). */
int svc_tls_client_ok(svc_req *r, avow_diag *d);

/* Metrics and logs (ops.c). */
void svc_metrics_init(svc_metrics *m);
void svc_metrics_free(svc_metrics *m);
void svc_metrics_request(svc_metrics *m, svc_route_id route, unsigned status, double seconds);
void svc_metrics_appraisal(svc_metrics *m, const avow_ear *ear);
void svc_metrics_store_error(svc_metrics *m, avow_err err);
/* An outcome known only by its tier and first reason (CMP's avow_cmp_result). */
void svc_metrics_outcome(svc_metrics *m, avow_tier tier, avow_err reason);
avow_err svc_log_open(svc_log *l, const char *path, avow_diag *d);
void svc_log_close(svc_log *l);
/* An audit event: who, the answer, the EAR's status and reason codes, a subject. */
void svc_audit(svc_req *r, const char *event, const svc_resp *out, const avow_ear *ear,
               const char *subject);
/* Writes the JSON object (a json_t *) as one line; releases it. */
void svc_log_write(svc_log *l, void *obj);

/* The EAR as a JWT signed by the CA key (under sign_lock); empty on failure. */
void svc_sign_ear(avow_service *s, const avow_ear *ear, avow_buf *jwt);

/* The router (http.c). */
avow_err svc_http_start(avow_service *s, avow_diag *d);
unsigned svc_http_stop(avow_service *s, unsigned drain_ms);

#endif
