/*
 * The inside of avow_request and avow_request_builder, shared by the
 * PKCS#10 and CRMF files.
 */
#ifndef AVOW_REQUEST_INT_H
#define AVOW_REQUEST_INT_H

#include <openssl/crmf.h>
#include <openssl/x509.h>

#include <avow/request.h>

#include "formats/bundle_asn1.h"

struct avow_request {
    avow_request_kind kind;
    avow_buf der;        /* the request as decoded */
    X509_REQ *req;       /* PKCS#10 */
    OSSL_CRMF_MSG *crmf; /* CRMF */
    EVP_PKEY *pub;
    avow_buf spki;
    avow__bundle bundle; /* version 0 and no statements when there is no attestation */
    avow_err pop;
    char pop_detail[160];
};

struct avow_request_builder {
    avow_request_kind kind;
    avow_bundle_version version;
    X509_NAME *subject;
    GENERAL_NAMES *sans; /* NULL = none asked for */
    avow__stmt_in *stmts;
    size_t nstmts, capstmts;
    STACK_OF(X509) * certs;
};

/* Kind-specific halves of avow_request_decode: fill r from r->der. */
avow_err avow__csr_parse(avow_request *r, unsigned flags, avow_diag *diag);
avow_err avow__crmf_parse(avow_request *r, unsigned flags, avow_diag *diag);

/* Kind-specific halves of avow_request_builder_sign, given the encoded bundle. */
avow_err avow__csr_build(const avow_request_builder *b, const avow_buf *bundle, avow_signer *s,
                         avow_buf *der, avow_diag *diag);
avow_err avow__crmf_build(const avow_request_builder *b, const avow_buf *bundle, avow_signer *s,
                          avow_buf *der, avow_diag *diag);

/* Decodes the attribute/extension value into r->bundle. */
avow_err avow__request_take_bundle(avow_request *r, const uint8_t *der, size_t len,
                                   avow_diag *diag);

/* Sets r->pub and r->spki from a key (reference taken). */
avow_err avow__request_set_key(avow_request *r, EVP_PKEY *pub, const uint8_t *spki, size_t len,
                               avow_diag *diag);

/* Records the proof-of-possession outcome. */
void avow__request_set_pop(avow_request *r, avow_err status, const char *detail);

#endif
