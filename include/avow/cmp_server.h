/*
 * avow/cmp_server.h - a CMP server (RFC 9810, lightweight profile RFC 9483)
 * over a CA directory, built on OpenSSL's own server framework
 * (OSSL_CMP_SRV_CTX): ir and cr carry the attestation in the CRMF
 * id-aa-attestation extension, p10cr in the PKCS#10 attribute; each goes
 * through avow_ca_dir_issue (appraisal, nonce consumed with the ledger row
 * only after possession and the statement verified). genm answers a
 * freshness-nonce request (draft-ietf-lamps-attestation-freshness,
 * id-it-nonceRequest / id-it-nonceResponse) from the CA's nonce store;
 * certConf closes a transaction. docs/cmp.md has the choices.
 *
 * The server is transport-free: DER PKIMessage in, DER PKIMessage out. The
 * HTTP service routes POST /pkix/ here; a test drives it through
 * OSSL_CMP_CTX_set_transfer_cb.
 */
#ifndef AVOW_CMP_SERVER_H
#define AVOW_CMP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <avow/ar4si.h>
#include <avow/bytes.h>
#include <avow/ca_dir.h>
#include <avow/err.h>
#include <avow/export.h>
#include <avow/verify.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Placeholders for the draft's { id-it TBD1 } and { id-it TBD2 } (docs/oids.md). */
#define AVOW_OID_IT_NONCE_REQUEST  "1.3.6.1.5.5.7.4.999"
#define AVOW_OID_IT_NONCE_RESPONSE "1.3.6.1.5.5.7.4.1000"

/* Largest PKIMessage accepted: a request (AVOW_REQUEST_MAX_SIZE) plus header and extraCerts. */
#define AVOW_CMP_MAX_MESSAGE             (AVOW_REQUEST_MAX_SIZE + 256u * 1024u)

#define AVOW_CMP_DEFAULT_TRANSACTIONS    1024u /* open transactions awaiting certConf */
#define AVOW_CMP_DEFAULT_TRANSACTION_TTL 300u  /* seconds a transaction stays open */

/* PKIBody choices (RFC 9810 5.1.2), as OSSL_CMP_MSG_get_bodytype returns them. */
enum {
    AVOW_CMP_BODY_IR = 0,
    AVOW_CMP_BODY_IP = 1,
    AVOW_CMP_BODY_CR = 2,
    AVOW_CMP_BODY_CP = 3,
    AVOW_CMP_BODY_P10CR = 4,
    AVOW_CMP_BODY_KUR = 7,
    AVOW_CMP_BODY_KUP = 8,
    AVOW_CMP_BODY_RR = 11,
    AVOW_CMP_BODY_RP = 12,
    AVOW_CMP_BODY_PKICONF = 19,
    AVOW_CMP_BODY_GENM = 21,
    AVOW_CMP_BODY_GENP = 22,
    AVOW_CMP_BODY_ERROR = 23,
    AVOW_CMP_BODY_CERTCONF = 24,
    AVOW_CMP_BODY_POLLREQ = 25
};

/* avow_cmp_server_opts.flags */
enum {
    /* Accept requests without protection (or whose protection does not
     * verify): the attestation and the proof of possession authenticate
     * the key, so a device without a shared secret or certificate can
     * enrol (`openssl cmp -unprotected_requests`). */
    AVOW_CMP_ACCEPT_UNPROTECTED = 1u << 0,
    /* Never grant implicit confirmation; every ip/cp waits for certConf. */
    AVOW_CMP_NO_IMPLICIT_CONFIRM = 1u << 1,
    /* Send error messages and rejections unprotected (RFC 9483 allows it
     * when the server cannot protect them). */
    AVOW_CMP_UNPROTECTED_ERRORS = 1u << 2
};

typedef struct avow_cmp_server_opts {
    size_t size;    /* set by avow_cmp_server_opts_init */
    unsigned flags; /* AVOW_CMP_* */
    /* Shared secret for PBM (RFC 4210 PasswordBasedMac): requests MAC'd
     * with it are accepted and answered with the same MAC (`openssl cmp
     * -secret`). Copied. */
    const uint8_t *secret;
    size_t secret_len;
    /* senderKID of the server's MAC-protected responses; NULL = none. Copied. */
    const uint8_t *ref;
    size_t ref_len;
    /* Signature protection of responses. NULL key = the CA's own key and
     * certificate, which needs a software CA key: OpenSSL signs CMP
     * messages with an EVP_PKEY, and a token key is reached only through
     * avow_signer. With a token CA give a protection key and certificate
     * here (an RA-style CMP key) or use the secret. References are taken. */
    EVP_PKEY *protect_key;
    X509 *protect_cert;
    /* Trust anchors for signature-protected requests; NULL = none (such
     * requests then fail unless AVOW_CMP_ACCEPT_UNPROTECTED). Reference taken. */
    X509_STORE *trusted;
    /* How certificates are issued (days, EKU, policy, flags). NULL =
     * defaults. The struct is copied; what it points to (policy, registry,
     * strings) is borrowed and must outlive the server. issue.jwt_out is
     * ignored; a nonce is refused (AVOW_ERR_ARG: each request's nonce is its
     * statement's), and issue.now, which would apply to every request,
     * should stay 0. */
    const avow_ca_dir_issue_opts *issue;
    size_t nonce_len;               /* genm nonce length when not requested; 0 = store default */
    unsigned nonce_ttl;             /* seconds; 0 = store default */
    unsigned max_transactions;      /* 0 = AVOW_CMP_DEFAULT_TRANSACTIONS */
    unsigned transaction_ttl;       /* 0 = AVOW_CMP_DEFAULT_TRANSACTION_TTL */
    const char *nonce_request_oid;  /* NULL = AVOW_OID_IT_NONCE_REQUEST */
    const char *nonce_response_oid; /* NULL = AVOW_OID_IT_NONCE_RESPONSE */
} avow_cmp_server_opts;

/* Zeroes o and sets its size. */
AVOW_EXPORT void avow_cmp_server_opts_init(avow_cmp_server_opts *o);

typedef struct avow_cmp_server avow_cmp_server;

/*
 * A server over cd (opened with its key) and v (attestation trust), both
 * borrowed for the server's lifetime. Errors: AVOW_ERR_ARG (options, a bad
 * OID), AVOW_ERR_STATE (cd opened without its key), AVOW_ERR_UNSUPPORTED
 * (a token CA key with neither protect_key nor secret), AVOW_ERR_NOMEM,
 * AVOW_ERR_CRYPTO. *out is the caller's (avow_cmp_server_free).
 */
AVOW_EXPORT avow_err avow_cmp_server_new(avow_ca_dir *cd, const avow_verifier *v,
                                         const avow_cmp_server_opts *o, avow_cmp_server **out,
                                         avow_diag *diag);

/* What one message came to, for logs and metrics (optional out of _ex). */
typedef struct avow_cmp_result {
    size_t size;      /* set by the caller: sizeof(avow_cmp_result) */
    int req_type;     /* OSSL_CMP_PKIBODY_* of the request; -1 when undecodable */
    int rsp_type;     /* OSSL_CMP_PKIBODY_* of the response; -1 when none */
    avow_err outcome; /* AVOW_OK: issued / answered; else why the request was refused */
    avow_tier tier;   /* the appraisal's tier for ir/cr/p10cr; NONE otherwise */
    char serial[68];  /* hex serial of the certificate issued; "" when none */
    char reason[256]; /* the text sent in the PKIStatusInfo; "" on success */
} avow_cmp_result;

/*
 * Handles one DER PKIMessage and writes the DER response to *resp (the
 * caller's, avow_buf_free). AVOW_OK whenever a response was made, which
 * includes error messages and rejections (the HTTP layer sends it with
 * status 200; what it came to is in avow_cmp_result). Errors with no response:
 * AVOW_ERR_TOO_LARGE, AVOW_ERR_MALFORMED / AVOW_ERR_NOT_DER (not a DER
 * PKIMessage), AVOW_ERR_CMP (OpenSSL made no response), AVOW_ERR_NOMEM.
 * Callable from several threads at once.
 */
AVOW_EXPORT avow_err avow_cmp_server_handle(avow_cmp_server *s, const uint8_t *req, size_t len,
                                            avow_buf *resp, avow_diag *diag);
/* The same; *res (may be NULL, size set by the caller) says what happened. */
AVOW_EXPORT avow_err avow_cmp_server_handle_ex(avow_cmp_server *s, const uint8_t *req, size_t len,
                                               avow_buf *resp, avow_cmp_result *res,
                                               avow_diag *diag);

/* Open transactions (ip/cp sent, certConf not yet received). */
AVOW_EXPORT size_t avow_cmp_server_open_transactions(avow_cmp_server *s);

/* No-op for NULL. */
AVOW_EXPORT void avow_cmp_server_free(avow_cmp_server *s);

#ifdef __cplusplus
}
#endif
#endif
