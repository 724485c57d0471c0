/*
 * The CMP server. OpenSSL's server framework (OSSL_CMP_SRV_CTX) does the
 * protocol: header checks, message protection, proof of possession, the
 * response messages. avow's callbacks decide: a certification request goes
 * through avow_ca_dir_issue like `avow ca issue`, a nonce request is served
 * from the CA's nonce store, a certConf is checked against the certificate
 * issued.
 *
 * An OSSL_CMP_SRV_CTX is the state of one transaction (its transactionID,
 * the senderNonce it sent last, the certReqId certConf must name) and is not
 * safe for two threads. So each transaction has its own: made by the message
 * that opens it, kept in a table under a lock while the server waits for
 * certConf, and taken out of the table while a message of it is processed.
 * One shared context under a lock would run every appraisal one at a time
 * and drop a client's open transaction at the next client's ir (the
 * framework takes any ir as the start of a new transaction).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <avow/cmp_server.h>

#include "core/internal.h"
#include "core/signer_int.h"
#include "service/cmp_int.h"

#define TID_MAX 64 /* transactionIDs longer than this are not kept (RFC 9483: 128 bits) */

typedef struct cmp_txn {
    avow_cmp_server *s;
    OSSL_CMP_SRV_CTX *srv;
    uint8_t tid[TID_MAX];
    size_t tid_len;
    time_t opened;
    X509 *cert; /* issued in this transaction, awaiting certConf */
    int refuse; /* >= 0: refuse certification requests with this failInfo bit */
    avow_cmp_result res;
} cmp_txn;

struct avow_cmp_server {
    avow_ca_dir *cd;
    const avow_verifier *v;
    unsigned flags;
    uint8_t *secret;
    size_t secret_len;
    uint8_t *ref;
    size_t ref_len;
    EVP_PKEY *pkey; /* response signatures; NULL = MAC only */
    X509 *cert;
    X509_STORE *trusted;
    avow_ca_dir_issue_opts issue;
    size_t nonce_len;
    unsigned nonce_ttl;
    ASN1_OBJECT *nonce_req, *nonce_rsp;
    size_t max_txn;
    unsigned txn_ttl;
    CRYPTO_RWLOCK *lock; /* over open and nopen */
    cmp_txn **open;
    size_t nopen;
};

void avow_cmp_server_opts_init(avow_cmp_server_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

/* The framework logs through this; the library does not print. */
static int log_none(const char *func, const char *file, int line, OSSL_CMP_severity level,
                    const char *msg)
{
    (void)func;
    (void)file;
    (void)line;
    (void)level;
    (void)msg;
    return 1;
}

static void result_reset(avow_cmp_result *r)
{
    memset(r, 0, sizeof(*r));
    r->size = sizeof(*r);
    r->req_type = -1;
    r->rsp_type = -1;
    r->outcome = AVOW_OK;
    r->tier = AVOW_TIER_NONE;
}

static void set_reason(cmp_txn *t, avow_err code, const char *text)
{
    t->res.outcome = code;
    avow__strlcpy(t->res.reason, text, sizeof(t->res.reason));
}

/* As the ledger and certs/ name it: lowercase hex of the serial's content octets. */
static void serial_hex(const X509 *cert, char *buf, size_t cap)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
    const unsigned char *p = ASN1_STRING_get0_data(sn);
    int n = ASN1_STRING_length(sn);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used + 3 <= cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%02x", p[i]);
}

static OSSL_CMP_PKISI *refuse(cmp_txn *t, avow_err code, int bit, const char *text)
{
    set_reason(t, code, text);
    return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection, 1 << bit, text);
}

/* ir, cr, p10cr (and kur, refused): the same library calls as `avow ca issue`. */
static OSSL_CMP_PKISI *cb_cert_request(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req,
                                       int certReqId, const OSSL_CRMF_MSG *crm,
                                       const X509_REQ *p10cr, X509 **certOut,
                                       STACK_OF(X509) * *chainOut, STACK_OF(X509) * *caPubs)
{
    cmp_txn *t = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
    (void)certReqId;
    (void)chainOut; /* the CA certificate is a root: no chain to send */
    (void)caPubs;   /* RFC 9483 4.1.1: only under MAC protection; clients get it by other means */
    if (t->refuse >= 0)
        return refuse(t, AVOW_ERR_STATE, t->refuse,
                      "transactionID is in use by an open transaction");
    if (OSSL_CMP_MSG_get_bodytype(req) == AVOW_CMP_BODY_KUR)
        return refuse(t, AVOW_ERR_UNSUPPORTED, OSSL_CMP_PKIFAILUREINFO_badRequest,
                      "key update (kur) is not offered: enrol the new key with ir or cr");
    avow_diag d;
    avow_diag_clear(&d);
    unsigned char *der = NULL;
    int len;
    avow_request_kind kind;
    if (p10cr != NULL) {
        len = i2d_X509_REQ(p10cr, &der);
        kind = AVOW_REQUEST_PKCS10;
    } else {
        len = crm != NULL ? i2d_OSSL_CRMF_MSG(crm, &der) : -1;
        kind = AVOW_REQUEST_CRMF;
    }
    avow_request *r = NULL;
    avow_appraisal *ap = NULL;
    X509 *cert = NULL;
    avow_err err = len > 0 ? avow_request_decode(der, (size_t)len, kind, 0, &r, &d)
                           : avow__fail_ossl(&d, AVOW_ERR_MALFORMED, "request", "no request");
    OPENSSL_free(der);
    if (err == AVOW_OK) {
        avow_ca_dir_issue_opts io = t->s->issue;
        err = avow_ca_dir_issue(t->s->cd, t->s->v, r, &io, &ap, &cert, &d);
    }
    if (ap != NULL)
        t->res.tier = avow_appraisal_tier(ap);
    OSSL_CMP_PKISI *si;
    if (err == AVOW_OK && X509_up_ref(cert)) {
        t->cert = cert;
        *certOut = cert; /* the framework frees its reference */
        serial_hex(cert, t->res.serial, sizeof(t->res.serial));
        set_reason(t, AVOW_OK, "");
        si = OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, NULL);
    } else {
        if (err == AVOW_OK) {
            X509_free(cert);
            err = avow__fail_ossl(&d, AVOW_ERR_NOMEM, "certificate", "out of memory");
        }
        char text[256];
        avow_err code = avow__cmp_refusal_text(err, ap, &d, text, sizeof(text));
        si = refuse(t, err, avow__cmp_fail_bit(code), text);
    }
    avow_appraisal_free(ap);
    avow_request_free(r);
    return si;
}

/* A genm failure: the framework turns the queued error into an error message. */
static int genm_fail(cmp_txn *t, avow_err err, const avow_diag *d)
{
    char text[256];
    avow__cmp_refusal_text(err, NULL, d, text, sizeof(text));
    set_reason(t, err, text);
    ERR_raise_data(ERR_LIB_CMP, CMP_R_ERROR_PROCESSING_MESSAGE, "%s", text);
    return 0;
}

/* One nonceResponse for a nonceRequest ITAV. */
static avow_err nonce_answer(cmp_txn *t, const OSSL_CMP_ITAV *itav, STACK_OF(OSSL_CMP_ITAV) * out,
                             avow_diag *d)
{
    size_t len = 0;
    avow_err err = avow__cmp_nonce_request_read(OSSL_CMP_ITAV_get0_value(itav), &len, d);
    if (err != AVOW_OK)
        return err;
    if (len == 0)
        len = t->s->nonce_len;
    avow_buf nonce = {0};
    time_t expires = 0;
    err = avow_ca_dir_nonce(t->s->cd, len, t->s->nonce_ttl, 0, &nonce, &expires, d);
    if (err != AVOW_OK)
        return err;
    time_t now = time(NULL);
    OSSL_CMP_ITAV *rsp = avow__cmp_nonce_response(t->s->nonce_rsp, nonce.ptr, nonce.len,
                                                  expires > now ? (int64_t)(expires - now) : 0);
    avow_buf_free(&nonce);
    if (rsp == NULL || !sk_OSSL_CMP_ITAV_push(out, rsp)) {
        OSSL_CMP_ITAV_free(rsp);
        return avow__fail_ossl(d, AVOW_ERR_NOMEM, "genp", "out of memory");
    }
    return AVOW_OK;
}

/*
 * genm: a nonceRequest gets a nonce from the CA's store; info types the
 * server does not know are left unanswered (RFC 9810 5.3.19 lets it).
 */
static int cb_genm(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req,
                   const STACK_OF(OSSL_CMP_ITAV) * in, STACK_OF(OSSL_CMP_ITAV) * *out)
{
    cmp_txn *t = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
    (void)req;
    avow_diag d;
    avow_diag_clear(&d);
    *out = sk_OSSL_CMP_ITAV_new_null();
    if (*out == NULL)
        return genm_fail(t, avow__fail(&d, AVOW_ERR_NOMEM, "genp", "out of memory"), &d);
    int answered = 0;
    for (int i = 0; i < sk_OSSL_CMP_ITAV_num(in); i++) {
        const OSSL_CMP_ITAV *itav = sk_OSSL_CMP_ITAV_value(in, i);
        if (OBJ_cmp(OSSL_CMP_ITAV_get0_type(itav), t->s->nonce_req) != 0)
            continue;
        avow_err err = answered ? avow__fail(&d, AVOW_ERR_DUP_ATTRIBUTE, "genm.nonceRequest",
                                             "one nonce request per genm")
                                : nonce_answer(t, itav, *out, &d);
        if (err != AVOW_OK) {
            sk_OSSL_CMP_ITAV_pop_free(*out, OSSL_CMP_ITAV_free);
            *out = NULL;
            return genm_fail(t, err, &d);
        }
        answered = 1;
    }
    set_reason(t, AVOW_OK, "");
    return 1;
}

static void cb_error(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, const OSSL_CMP_PKISI *si,
                     const ASN1_INTEGER *errorCode, const OSSL_CMP_PKIFREETEXT *errorDetails)
{
    cmp_txn *t = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
    (void)req;
    (void)errorCode;
    (void)errorDetails;
    char buf[200] = "";
    if (si != NULL && OSSL_CMP_snprint_PKIStatusInfo(si, buf, sizeof(buf)) == NULL)
        buf[0] = '\0';
    char text[256];
    snprintf(text, sizeof(text), "the client sent an error message: %s", buf);
    set_reason(t, AVOW_ERR_CMP, text);
}

/* PKIStatus of a PKIStatusInfo (its first INTEGER), -1 when unreadable. */
static int pkisi_status(const OSSL_CMP_PKISI *si)
{
    unsigned char *der = NULL;
    int len = i2d_OSSL_CMP_PKISI(si, &der), status = -1;
    size_t at = 2;
    if (len > 2 && der[0] == 0x30 && (der[1] & 0x80) != 0)
        at += der[1] & 0x7f;
    if (len > 0 && (size_t)len >= at + 3 && der[at] == 0x02 && der[at + 1] == 1)
        status = der[at + 2];
    OPENSSL_free(der);
    return status;
}

/* certConf: the hash must be that of the certificate this transaction issued. */
static int cb_certconf(OSSL_CMP_SRV_CTX *srv, const OSSL_CMP_MSG *req, int certReqId,
                       const ASN1_OCTET_STRING *certHash, const OSSL_CMP_PKISI *si)
{
    cmp_txn *t = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);
    (void)req;
    (void)certReqId; /* the framework holds it to the request's */
    if (t->cert == NULL) {
        set_reason(t, AVOW_ERR_STATE, "no certificate of this transaction awaits confirmation");
        ERR_raise(ERR_LIB_CMP, CMP_R_ERROR_UNEXPECTED_CERTCONF);
        return 0;
    }
    serial_hex(t->cert, t->res.serial, sizeof(t->res.serial));
    ASN1_OCTET_STRING *h = X509_digest_sig(t->cert, NULL, NULL);
    int same = h != NULL && certHash != NULL && ASN1_OCTET_STRING_cmp(h, certHash) == 0;
    ASN1_OCTET_STRING_free(h);
    if (!same) {
        set_reason(t, AVOW_ERR_CMP, "certHash does not match the certificate issued");
        ERR_raise(ERR_LIB_CMP, CMP_R_CERTHASH_UNMATCHED);
        return 0;
    }
    if (si != NULL && pkisi_status(si) != OSSL_CMP_PKISTATUS_accepted) {
        /* The certificate is in the ledger already; the refusal is reported, not undone. */
        set_reason(t, AVOW_ERR_CMP, "the client rejected the certificate");
        return 1;
    }
    set_reason(t, AVOW_OK, "");
    return 1;
}

static void txn_free(cmp_txn *t)
{
    if (t == NULL)
        return;
    OSSL_CMP_SRV_CTX_free(t->srv);
    X509_free(t->cert);
    free(t);
}

static cmp_txn *txn_new(avow_cmp_server *s)
{
    cmp_txn *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->s = s;
    t->refuse = -1;
    result_reset(&t->res);
    t->srv = OSSL_CMP_SRV_CTX_new(NULL, NULL);
    OSSL_CMP_CTX *ctx = t->srv != NULL ? OSSL_CMP_SRV_CTX_get0_cmp_ctx(t->srv) : NULL;
    int ok = ctx != NULL &&
             OSSL_CMP_SRV_CTX_init(t->srv, t, cb_cert_request, NULL, cb_genm, cb_error, cb_certconf,
                                   NULL) &&
             OSSL_CMP_SRV_CTX_set_accept_unprotected(
                 t->srv, (s->flags & AVOW_CMP_ACCEPT_UNPROTECTED) != 0) &&
             OSSL_CMP_SRV_CTX_set_send_unprotected_errors(
                 t->srv, (s->flags & AVOW_CMP_UNPROTECTED_ERRORS) != 0) &&
             OSSL_CMP_SRV_CTX_set_grant_implicit_confirm(
                 t->srv, (s->flags & AVOW_CMP_NO_IMPLICIT_CONFIRM) == 0) &&
             OSSL_CMP_SRV_CTX_set_accept_raverified(t->srv, 0) &&
             OSSL_CMP_CTX_set_log_cb(ctx, log_none) &&
             /* Below ERR the framework leaves its errors queued, for the result. */
             OSSL_CMP_CTX_set_log_verbosity(ctx, OSSL_CMP_LOG_EMERG);
    if (ok && s->pkey != NULL)
        ok = OSSL_CMP_CTX_set1_cert(ctx, s->cert) && OSSL_CMP_CTX_set1_pkey(ctx, s->pkey);
    else if (ok)
        ok = OSSL_CMP_CTX_set1_subjectName(ctx, X509_get_subject_name(s->cert));
    if (ok && s->secret != NULL)
        ok = OSSL_CMP_CTX_set1_secretValue(ctx, s->secret, (int)s->secret_len);
    if (ok && s->ref != NULL)
        ok = OSSL_CMP_CTX_set1_referenceValue(ctx, s->ref, (int)s->ref_len);
    if (ok && s->trusted != NULL) {
        ok = X509_STORE_up_ref(s->trusted);
        if (ok && !OSSL_CMP_CTX_set0_trustedStore(ctx, s->trusted)) {
            X509_STORE_free(s->trusted);
            ok = 0;
        }
    }
    if (!ok) {
        txn_free(t);
        return NULL;
    }
    return t;
}

/* --- the table of open transactions (callers hold s->lock) --- */

static void table_remove(avow_cmp_server *s, size_t i)
{
    s->open[i] = s->open[--s->nopen];
    s->open[s->nopen] = NULL;
}

static void table_purge(avow_cmp_server *s, time_t now)
{
    for (size_t i = s->nopen; i-- > 0;)
        if (s->open[i]->opened + (time_t)s->txn_ttl <= now || s->open[i]->opened > now) {
            txn_free(s->open[i]);
            table_remove(s, i);
        }
}

static size_t table_find(const avow_cmp_server *s, const ASN1_OCTET_STRING *tid)
{
    if (tid == NULL)
        return SIZE_MAX;
    for (size_t i = 0; i < s->nopen; i++)
        if (s->open[i]->tid_len == (size_t)ASN1_STRING_length(tid) &&
            memcmp(s->open[i]->tid, ASN1_STRING_get0_data(tid), s->open[i]->tid_len) == 0)
            return i;
    return SIZE_MAX;
}

/* Keeps t open; when full, the oldest transaction gives way (its certConf will fail). */
static void table_insert(avow_cmp_server *s, cmp_txn *t)
{
    if (s->nopen == s->max_txn) {
        size_t old = 0;
        for (size_t i = 1; i < s->nopen; i++)
            if (s->open[i]->opened < s->open[old]->opened)
                old = i;
        txn_free(s->open[old]);
        table_remove(s, old);
    }
    s->open[s->nopen++] = t;
}

static int opens_transaction(int type)
{
    switch (type) {
    case AVOW_CMP_BODY_IR:
    case AVOW_CMP_BODY_CR:
    case AVOW_CMP_BODY_P10CR:
    case AVOW_CMP_BODY_KUR:
    case AVOW_CMP_BODY_RR:
    case AVOW_CMP_BODY_GENM:
        return 1;
    default:
        return 0;
    }
}

/*
 * The transaction a message belongs to: a message that continues one
 * (certConf, pollReq, error) takes it out of the table; one that opens a
 * transaction gets a fresh context, refusing its request when the ID is
 * open already (transactionIdInUse) rather than dropping that transaction.
 */
static cmp_txn *txn_for(avow_cmp_server *s, int type, const ASN1_OCTET_STRING *tid, int *in_use)
{
    cmp_txn *t = NULL;
    *in_use = 0;
    if (CRYPTO_THREAD_write_lock(s->lock)) {
        table_purge(s, time(NULL));
        size_t i = table_find(s, tid);
        if (i != SIZE_MAX && !opens_transaction(type)) {
            t = s->open[i];
            table_remove(s, i);
        } else if (i != SIZE_MAX) {
            *in_use = 1;
        }
        CRYPTO_THREAD_unlock(s->lock);
    }
    if (t == NULL) {
        t = txn_new(s);
        if (t != NULL && *in_use)
            t->refuse = OSSL_CMP_PKIFAILUREINFO_transactionIdInUse;
    }
    return t;
}

/* Whether t stays open after rsp: a certificate sent, not implicitly confirmed. */
static int stays_open(const cmp_txn *t, int rsp_type, const ASN1_OCTET_STRING *tid, int in_use)
{
    if (rsp_type != AVOW_CMP_BODY_IP && rsp_type != AVOW_CMP_BODY_CP)
        return 0;
    if (t->cert == NULL || in_use || tid == NULL || ASN1_STRING_length(tid) <= 0 ||
        (size_t)ASN1_STRING_length(tid) > TID_MAX)
        return 0;
    return OSSL_CMP_CTX_get_option(OSSL_CMP_SRV_CTX_get0_cmp_ctx(t->srv),
                                   OSSL_CMP_OPT_IMPLICIT_CONFIRM) == 0;
}

/* Decodes a DER PKIMessage: no trailing bytes, and the bytes are the DER of what was read. */
static avow_err decode_msg(const uint8_t *in, size_t len, OSSL_CMP_MSG **out, avow_diag *diag)
{
    *out = NULL;
    if (len == 0)
        return avow__fail(diag, AVOW_ERR_TRUNCATED, "PKIMessage", "empty");
    if (len > AVOW_CMP_MAX_MESSAGE)
        return avow__fail(diag, AVOW_ERR_TOO_LARGE, "PKIMessage", "%zu bytes, at most %u", len,
                          (unsigned)AVOW_CMP_MAX_MESSAGE);
    const unsigned char *p = in;
    OSSL_CMP_MSG *msg = d2i_OSSL_CMP_MSG(NULL, &p, (long)len);
    if (msg == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_MALFORMED, "PKIMessage", "not a PKIMessage");
    if (p != in + len) {
        OSSL_CMP_MSG_free(msg);
        return avow__fail(diag, AVOW_ERR_TRAILING, "PKIMessage", "%zu bytes after it",
                          (size_t)(in + len - p));
    }
    unsigned char *der = NULL;
    int dlen = i2d_OSSL_CMP_MSG(msg, &der);
    int same = dlen > 0 && (size_t)dlen == len && memcmp(der, in, len) == 0;
    OPENSSL_free(der);
    if (!same) {
        OSSL_CMP_MSG_free(msg);
        return avow__fail_ossl(diag, AVOW_ERR_NOT_DER, "PKIMessage", "not DER");
    }
    *out = msg;
    return AVOW_OK;
}

avow_err avow_cmp_server_handle_ex(avow_cmp_server *s, const uint8_t *req, size_t len,
                                   avow_buf *resp, avow_cmp_result *res, avow_diag *diag)
{
    if (resp != NULL) {
        resp->ptr = NULL;
        resp->len = 0;
    }
    if (res != NULL && res->size != sizeof(*res))
        return avow__fail(diag, AVOW_ERR_ARG, "result.size", "unknown size %zu", res->size);
    if (res != NULL)
        result_reset(res);
    if (s == NULL || (req == NULL && len > 0) || resp == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cmp", "no server, request or response buffer");
    OSSL_CMP_MSG *msg = NULL;
    avow_err err = decode_msg(req, len, &msg, diag);
    if (err != AVOW_OK) {
        if (res != NULL)
            res->outcome = err;
        return err;
    }
    int type = OSSL_CMP_MSG_get_bodytype(msg), in_use = 0;
    const ASN1_OCTET_STRING *tid = OSSL_CMP_HDR_get0_transactionID(OSSL_CMP_MSG_get0_header(msg));
    cmp_txn *t = txn_for(s, type, tid, &in_use);
    if (t == NULL) {
        OSSL_CMP_MSG_free(msg);
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "cmp", "cannot make a server context");
    }
    result_reset(&t->res);
    t->res.req_type = type;
    OSSL_CMP_MSG *rsp = OSSL_CMP_SRV_process_request(t->srv, msg);
    int rsp_type = rsp != NULL ? OSSL_CMP_MSG_get_bodytype(rsp) : -1;
    t->res.rsp_type = rsp_type;
    if ((rsp == NULL || rsp_type == AVOW_CMP_BODY_ERROR) && t->res.outcome == AVOW_OK) {
        /* Refused by the framework itself (protection, header, POP, sequence). */
        unsigned long e = ERR_peek_error();
        const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
        set_reason(t, AVOW_ERR_CMP, why != NULL ? why : "refused by the CMP framework");
    }
    avow__ossl_clear();
    unsigned char *der = NULL;
    int dlen = rsp != NULL ? i2d_OSSL_CMP_MSG(rsp, &der) : -1;
    if (dlen > 0) {
        resp->ptr = der;
        resp->len = (size_t)dlen;
    } else if (rsp == NULL) {
        err = avow__fail(diag, AVOW_ERR_CMP, "PKIMessage", "no response: %s", t->res.reason);
    } else {
        err = avow__fail_ossl(diag, AVOW_ERR_NOMEM, "PKIMessage", "cannot encode the response");
    }
    if (res != NULL)
        *res = t->res;
    if (err == AVOW_OK && stays_open(t, rsp_type, tid, in_use) &&
        CRYPTO_THREAD_write_lock(s->lock)) {
        t->tid_len = (size_t)ASN1_STRING_length(tid);
        memcpy(t->tid, ASN1_STRING_get0_data(tid), t->tid_len);
        t->opened = time(NULL);
        size_t dup = table_find(s, tid); /* a concurrent ir with the same ID won the race */
        if (dup != SIZE_MAX) {
            txn_free(s->open[dup]);
            table_remove(s, dup);
        }
        table_insert(s, t);
        t = NULL;
        CRYPTO_THREAD_unlock(s->lock);
    }
    txn_free(t);
    OSSL_CMP_MSG_free(rsp);
    OSSL_CMP_MSG_free(msg);
    avow__ossl_clear();
    return err;
}

avow_err avow_cmp_server_handle(avow_cmp_server *s, const uint8_t *req, size_t len, avow_buf *resp,
                                avow_diag *diag)
{
    return avow_cmp_server_handle_ex(s, req, len, resp, NULL, diag);
}

size_t avow_cmp_server_open_transactions(avow_cmp_server *s)
{
    size_t n = 0;
    if (s != NULL && CRYPTO_THREAD_read_lock(s->lock)) {
        n = s->nopen;
        CRYPTO_THREAD_unlock(s->lock);
    }
    return n;
}

void avow_cmp_server_free(avow_cmp_server *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nopen; i++)
        txn_free(s->open[i]);
    free(s->open);
    CRYPTO_THREAD_lock_free(s->lock);
    OPENSSL_clear_free(s->secret, s->secret_len);
    OPENSSL_free(s->ref);
    EVP_PKEY_free(s->pkey);
    X509_free(s->cert);
    X509_STORE_free(s->trusted);
    ASN1_OBJECT_free(s->nonce_req);
    ASN1_OBJECT_free(s->nonce_rsp);
    free(s);
}

static avow_err oid_opt(const char *text, const char *dflt, const char *field, ASN1_OBJECT **out,
                        avow_diag *diag)
{
    *out = OBJ_txt2obj(text != NULL ? text : dflt, 1);
    if (*out == NULL)
        return avow__fail_ossl(diag, AVOW_ERR_ARG, field, "not a dotted OID");
    return AVOW_OK;
}

/* Which key and certificate sign the responses. */
static avow_err protection(avow_cmp_server *s, const avow_cmp_server_opts *o, avow_diag *diag)
{
    EVP_PKEY *key = o->protect_key;
    X509 *cert = o->protect_cert;
    if ((key == NULL) != (cert == NULL))
        return avow__fail(diag, AVOW_ERR_ARG,
                          key == NULL ? "opts.protect_key" : "opts.protect_cert",
                          "give the protection key and its certificate together");
    avow_ca *ca = avow_ca_dir_get0_ca(s->cd);
    if (key == NULL) {
        key = avow__signer_get0_private(avow_ca_get0_signer(ca));
        cert = avow_ca_get0_cert(ca);
    }
    if (key == NULL && s->secret == NULL)
        return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "opts.protect_key",
                          "the CA key is in a token, which OpenSSL's CMP code cannot sign with: "
                          "give a protection key and certificate, or a shared secret");
    if (key != NULL && !EVP_PKEY_up_ref(key))
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "opts.protect_key", "out of memory");
    s->pkey = key;
    if (!X509_up_ref(cert != NULL ? cert : avow_ca_get0_cert(ca)))
        return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "opts.protect_cert", "out of memory");
    s->cert = cert != NULL ? cert : avow_ca_get0_cert(ca);
    return AVOW_OK;
}

static avow_err copy_bytes(const uint8_t *p, size_t len, const char *field, uint8_t **out,
                           size_t *out_len, avow_diag *diag)
{
    if (p == NULL)
        return AVOW_OK;
    if (len == 0 || len > INT_MAX)
        return avow__fail(diag, AVOW_ERR_ARG, field, "empty or too long");
    *out = avow__memdup(p, len);
    if (*out == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, field, "out of memory");
    *out_len = len;
    return AVOW_OK;
}

static avow_err settings(avow_cmp_server *s, const avow_cmp_server_opts *o, avow_diag *diag)
{
    s->flags = o->flags;
    s->nonce_len = o->nonce_len;
    s->nonce_ttl = o->nonce_ttl;
    s->max_txn = o->max_transactions != 0 ? o->max_transactions : AVOW_CMP_DEFAULT_TRANSACTIONS;
    s->txn_ttl = o->transaction_ttl != 0 ? o->transaction_ttl : AVOW_CMP_DEFAULT_TRANSACTION_TTL;
    if (o->nonce_len != 0 &&
        (o->nonce_len < AVOW_CMP_NONCE_MIN || o->nonce_len > AVOW_CMP_NONCE_MAX))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.nonce_len", "must be %u..%u",
                          AVOW_CMP_NONCE_MIN, AVOW_CMP_NONCE_MAX);
    if (o->issue != NULL && o->issue->size != sizeof(avow_ca_dir_issue_opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.issue.size", "unknown size %zu",
                          o->issue->size);
    if (o->issue != NULL && (o->issue->nonce != NULL || o->issue->nonce_len != 0))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.issue.nonce",
                          "each request's nonce is the one its statement carries");
    if (o->issue != NULL)
        s->issue = *o->issue;
    else
        avow_ca_dir_issue_opts_init(&s->issue);
    s->issue.issue.jwt_out = NULL; /* shared by every thread: the EAR is in the certificate */
    avow_err err =
        copy_bytes(o->secret, o->secret_len, "opts.secret", &s->secret, &s->secret_len, diag);
    if (err == AVOW_OK)
        err = copy_bytes(o->ref, o->ref_len, "opts.ref", &s->ref, &s->ref_len, diag);
    if (err == AVOW_OK)
        err = oid_opt(o->nonce_request_oid, AVOW_OID_IT_NONCE_REQUEST, "opts.nonce_request_oid",
                      &s->nonce_req, diag);
    if (err == AVOW_OK)
        err = oid_opt(o->nonce_response_oid, AVOW_OID_IT_NONCE_RESPONSE, "opts.nonce_response_oid",
                      &s->nonce_rsp, diag);
    if (err == AVOW_OK && o->trusted != NULL) {
        if (!X509_STORE_up_ref(o->trusted))
            return avow__fail_ossl(diag, AVOW_ERR_NOMEM, "opts.trusted", "out of memory");
        s->trusted = o->trusted;
    }
    return err;
}

avow_err avow_cmp_server_new(avow_ca_dir *cd, const avow_verifier *v, const avow_cmp_server_opts *o,
                             avow_cmp_server **out, avow_diag *diag)
{
    if (out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cmp", "no output");
    *out = NULL;
    if (cd == NULL || v == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "cmp", "no CA directory or verifier");
    if (o != NULL && o->size != sizeof(*o))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size", "unknown size %zu", o->size);
    if (avow_ca_dir_get0_ca(cd) == NULL)
        return avow__fail(diag, AVOW_ERR_STATE, "ca",
                          "the CA directory was opened without its key");
    avow_cmp_server_opts dflt;
    avow_cmp_server_opts_init(&dflt);
    if (o == NULL)
        o = &dflt;
    avow_cmp_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return avow__fail(diag, AVOW_ERR_NOMEM, "cmp", "out of memory");
    s->cd = cd;
    s->v = v;
    avow_err err = settings(s, o, diag);
    if (err == AVOW_OK)
        err = protection(s, o, diag);
    if (err == AVOW_OK) {
        s->lock = CRYPTO_THREAD_lock_new();
        s->open = calloc(s->max_txn, sizeof(*s->open));
        if (s->lock == NULL || s->open == NULL)
            err = avow__fail_ossl(diag, AVOW_ERR_NOMEM, "cmp", "out of memory");
    }
    if (err != AVOW_OK) {
        avow_cmp_server_free(s);
        return err;
    }
    *out = s;
    return AVOW_OK;
}
