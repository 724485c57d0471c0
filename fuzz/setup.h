/*
 * The fixed verifier set-up every fuzz target shares: the test-only PKI of
 * fuzz/keys/ (a CA, an attestation key certified by it, a key-set key, the
 * subject key of the seed requests, an EAR signing key), verifiers built on
 * it, two policies and a fixed clock. Seeds under fuzz/corpus/ are signed
 * with the same keys (fuzz/make-seeds), so they verify and a fuzzer reaches
 * the policy, EAR and CA code behind verification.
 */
#ifndef AVOW_FUZZ_SETUP_H
#define AVOW_FUZZ_SETUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <avow/avow.h>

/* 2030-01-01T00:00:00Z: inside the validity of the fuzz PKI (2026..2126). */
#define FZ_NOW ((time_t)1893456000)

/* The shared secret (PBM) of the CMP seeds and fuzz_cmp_server's server. */
#define FZ_CMP_SECRET "avow fuzz cmp secret"

/* The nonce of the seeds (16 bytes, the shortest a nonce store takes). */
extern const uint8_t FZ_NONCE[16];

typedef struct fz_setup {
    X509 *ca, *ak;
    EVP_PKEY *ca_key, *ak_key, *ks_key, *req_key, *ear_key;
    avow_verifier *v_anchor; /* the fuzz CA as trust anchor */
    avow_verifier *v_keys;   /* the anchor; ks_key (derived key ids) and the AK key (its SKI) */
    avow_policy *def;        /* avow_policy_default */
    avow_policy *rich;       /* every operator over every claim type (FZ_RICH_POLICY) */
    avow_signer *ak_signer;  /* the AK with its certificate */
    avow_signer *ks_signer;  /* ks_key, no certificate */
    avow_signer *req_signer; /* req_key */
    avow_signer *ear_signer; /* ear_key */
    avow_ca *ca_issuer;      /* the fuzz CA as an issuing CA */
} fz_setup;

extern const char FZ_RICH_POLICY[];

/* The set-up, made on first use from AVOW_FUZZ_KEYS; aborts when it cannot be made. */
const fz_setup *fz_get(void);

/* Aborts the process: the finding libFuzzer reports. */
#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(#cond, __FILE__, __LINE__);                                                    \
    } while (0)
void fz_fail(const char *what, const char *file, int line);

/* A NUL-terminated buffer as the library hands them out (ptr[len] == 0). */
int fz_text_ok(const avow_buf *b);

/*
 * The input as up to n lines (the header-value targets' framing): a copy
 * of data[0..size) NUL-terminated, returned (free it; NULL when out of
 * memory), with part[i] the i-th line in it, NULL when empty or absent.
 */
char *fz_lines(const uint8_t *data, size_t size, char **part, int n);

/*
 * The checks every verified Evidence result must pass, whatever the input:
 * one normalised claim per claim of ev, names NUL-terminated and bounded,
 * the result JSON made.
 */
void fz_check_result(const avow_evidence *ev, const avow_evidence_result *r, avow_err rc);

/*
 * Policy (default and rich), EAR (build, JSON, read back, JSON again the
 * same) for one verified statement; with sign, the EAR signed as a JWT and
 * verified back to the same payload.
 */
void fz_appraise(const avow_claimset *claims, avow_err verify_status, const char *verify_detail,
                 avow_nonce_state nonce, int nonce_expected, int sign);

/* A request's statements as the fuzzed ones: st[0..n), possession of the key proven. */
void fz_statements(avow_statements_in *in, const avow_statement_in *st, size_t n);

/* The EAR JSON round trip and the JWT sign/verify round trip of one EAR. */
void fz_check_ear(const avow_ear *ear, int sign);

#endif
