/*
 * Inside the TPM statement: what formats/tpm_certify.c reads out of the
 * TPM structures, in plain C types, so the row needs no TSS header.
 */
#ifndef AVOW_TPM_INT_H
#define AVOW_TPM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <avow/bytes.h>
#include <avow/err.h>
#include <avow/tpm.h>

/* TPM_ALG_ID values the reader and the row name (TPM 2.0 Part 2, 6.3). */
#define AVOW__TPM_ALG_RSA    0x0001u
#define AVOW__TPM_ALG_SHA1   0x0004u
#define AVOW__TPM_ALG_SHA256 0x000Bu
#define AVOW__TPM_ALG_SHA384 0x000Cu
#define AVOW__TPM_ALG_SHA512 0x000Du
#define AVOW__TPM_ALG_NULL   0x0010u
#define AVOW__TPM_ALG_RSASSA 0x0014u
#define AVOW__TPM_ALG_RSAPSS 0x0016u
#define AVOW__TPM_ALG_ECDSA  0x0018u
#define AVOW__TPM_ALG_ECC    0x0023u

/* A TPM2B_NAME or TPM2B_DATA body (at most 68 and 64 bytes). */
typedef struct avow__tpm_blob {
    uint16_t len;
    uint8_t b[72];
} avow__tpm_blob;

typedef struct avow__tpm_certify {
    uint8_t *der; /* the statement, copied; the views below point into it */
    size_t der_len;
    avow_view attest; /* the signed TPMS_ATTEST bytes */
    avow_view sig;    /* the signature part as it came */
    avow_view pub;    /* the TPMT_PUBLIC bytes; ptr NULL when absent */
    /* TPMS_ATTEST */
    avow__tpm_blob qualified_signer, extra_data, name, qualified_name;
    uint64_t clock;
    uint32_t reset_count, restart_count;
    int safe;
    uint64_t firmware;
    uint8_t firmware_be[8]; /* firmwareVersion as the claim's bytes */
    /* TPMT_SIGNATURE: sig_alg 0 when the part is not one (a bare signature: shown, not verified) */
    uint16_t sig_alg, sig_hash;
    uint8_t *sig_bytes; /* RSA: the signature; ECDSA: DER ECDSA-Sig-Value of r and s */
    size_t sig_len;
    /* TPMT_PUBLIC (when pub is present) */
    uint16_t pub_type, name_alg;
    uint32_t attributes;
    uint16_t curve;    /* ECC: TPM_ECC_CURVE */
    uint16_t rsa_bits; /* RSA: keyBits */
    uint8_t *spki;     /* DER SubjectPublicKeyInfo of the key; NULL when it has no SPKI form */
    size_t spki_len;
} avow__tpm_certify;

/* Decodes stmt (the SEQUENCE's whole TLV) into *out (avow__tpm_free). */
avow_err avow__tpm_decode(const uint8_t *stmt, size_t len, avow__tpm_certify **out,
                          avow_diag *diag);
void avow__tpm_free(avow__tpm_certify *t);

/* The OpenSSL digest name of a TPM hash algorithm that avow accepts, or NULL (SHA-1 is not). */
const char *avow__tpm_hash_name(uint16_t alg);
/* "rsassa", "sha256", ... for display; "unknown" otherwise. */
const char *avow__tpm_alg_name(uint16_t alg);

#endif
