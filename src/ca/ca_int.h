/* Internal helpers of the CA (ca.c, ca_cert.c, ca_cmw.c). */
#ifndef AVOW_CA_INT_H
#define AVOW_CA_INT_H

#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/ca.h>

/* Random positive serial of exactly AVOW_CA_SERIAL_LEN bytes. */
avow_err avow__ca_set_serial(X509 *x, avow_diag *diag);
/* notBefore = now - AVOW_CA_LEEWAY, notAfter = now + days (1..AVOW_CA_MAX_DAYS). */
avow_err avow__ca_set_validity(X509 *x, time_t now, unsigned days, avow_diag *diag);
/* One extension from OpenSSL's config syntax ("critical,CA:FALSE"). */
avow_err avow__ca_add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
                               avow_diag *diag);
/* Sets the signature algorithm, signs the TBS through signer, returns the parsed, checked result.
 */
avow_err avow__ca_sign(X509 *x, avow_signer *signer, X509 **out, avow_diag *diag);

/* DER of the CMW extension value (json choice) holding the JWT. */
avow_err avow__cmw_encode_jwt(const char *jwt, size_t len, avow_buf *der, avow_diag *diag);

/* 1 when some submod of ear names spki (DER SubjectPublicKeyInfo) as its attested key. */
int avow__ear_has_akpub(const avow_ear *ear, const uint8_t *spki, size_t len);

#endif
