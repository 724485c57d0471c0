/*
 * verify_evidence: the smallest complete use of libavow's verifier.
 *
 *   verify_evidence EVIDENCE(.pem|.der) ANCHORS.pem [NONCE_HEX]
 *
 * Decodes PKIX Evidence strictly, verifies it against the trust anchors
 * (and the nonce, when given) and prints the result as JSON. Exit status 0
 * only when the Evidence is trusted.
 *
 * Build against an installed libavow:
 *   cc -o verify_evidence verify_evidence.c $(pkg-config --cflags --libs avow)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include <avow/avow.h>

static int fail(const char *what, avow_err rc, const avow_diag *d)
{
    fprintf(stderr, "%s: %s (%s)%s%s%s%s\n", what, avow_strerror(rc), avow_errname(rc),
            d->field[0] ? " at " : "", d->field, d->detail[0] ? ": " : "", d->detail);
    return 1;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s EVIDENCE ANCHORS.pem [NONCE_HEX]\n", argv[0]);
        return 2;
    }
    avow_diag d;
    avow_diag_clear(&d);
    avow_buf file = {0}, der = {0}, json = {0};
    avow_evidence *ev = NULL;
    avow_verifier *v = NULL;
    avow_evidence_result *res = NULL;
    int status = 1;

    /* PEM ("EVIDENCE") or DER in, DER out; then the strict decoder. */
    avow_err rc = avow_read_file(argv[1], AVOW_EVIDENCE_MAX_SIZE * 2, &file, &d);
    if (rc == AVOW_OK)
        rc = avow_unarmor(file.ptr, file.len, AVOW_EVIDENCE_PEM_LABEL, AVOW_EVIDENCE_MAX_SIZE * 2,
                          &der, &d);
    if (rc == AVOW_OK)
        rc = avow_evidence_decode(der.ptr, der.len, NULL, 0, &ev, &d);
    if (rc != AVOW_OK) {
        status = fail(argv[1], rc, &d);
        goto done;
    }

    /* A verifier is set up once and may then be shared by threads. */
    if ((rc = avow_verifier_new(NULL, &v)) != AVOW_OK) {
        status = fail("verifier", rc, &d);
        goto done;
    }
    FILE *f = fopen(argv[2], "r");
    X509 *anchor;
    int anchors = 0;
    while (f != NULL && (anchor = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        rc = avow_verifier_add_anchor(v, anchor, NULL); /* takes its own reference */
        X509_free(anchor);
        anchors += rc == AVOW_OK;
    }
    if (f != NULL)
        fclose(f);
    if (anchors == 0) {
        fprintf(stderr, "%s: no PEM certificate\n", argv[2]);
        goto done;
    }

    uint8_t nonce[64];
    avow_verify_opts opts;
    avow_verify_opts_init(&opts);
    if (argc == 4) {
        if (!hex_to_bytes(argv[3], nonce, sizeof(nonce), &opts.nonce_len)) {
            fprintf(stderr, "%s: not a hex nonce of at most 64 bytes\n", argv[3]);
            goto done;
        }
        opts.nonce = nonce;
    }

    /* The result is filled whether or not the Evidence is trusted. */
    rc = avow_verify_evidence(v, ev, &opts, &res, &d);
    if (res != NULL && avow_evidence_result_to_json(res, &json) == AVOW_OK)
        printf("%s\n", (const char *)json.ptr);
    status = rc == AVOW_OK ? 0 : fail("verify", rc, &d);

done:
    avow_buf_free(&json);
    avow_evidence_result_free(res); /* borrows from ev and v: free it first */
    avow_verifier_free(v);
    avow_evidence_free(ev);
    avow_buf_free(&der);
    avow_buf_free(&file);
    return status;
}
