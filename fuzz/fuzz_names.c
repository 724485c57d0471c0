/*
 * libFuzzer target for names from people (avow/x509.h): the input as
 * distinguished-name text, as a subjectAltName list and as a list of SAN
 * kinds. A name that parses prints; every SAN the text parser accepts passes
 * the check the CA applies to a request's names, and its printed form reads
 * back to the same names when no value holds a comma.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dn(const char *text)
{
    X509_NAME *n = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_name_parse(text, &n, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(n == NULL && d.code == rc && d.field[0] != '\0' && d.detail[0] != '\0');
        return;
    }
    FZ_CHECK(n != NULL && X509_NAME_entry_count(n) > 0 &&
             (size_t)X509_NAME_entry_count(n) <= AVOW_NAME_MAX_ATTRS);
    avow_buf t = {0};
    FZ_CHECK(avow_name_text(n, &t) == AVOW_OK && t.ptr != NULL);
    avow_buf_free(&t);
    X509_NAME_free(n);
}

static void san(const char *text)
{
    GENERAL_NAMES *g = GENERAL_NAMES_new();
    FZ_CHECK(g != NULL);
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_san_parse(text, g, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    if (rc != AVOW_OK) {
        FZ_CHECK(sk_GENERAL_NAME_num(g) == 0 && d.code == rc && d.detail[0] != '\0');
        GENERAL_NAMES_free(g);
        return;
    }
    int n = sk_GENERAL_NAME_num(g);
    FZ_CHECK(n > 0 && (size_t)n <= AVOW_SAN_MAX);
    for (int i = 0; i < n; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
        FZ_CHECK(avow_san_kind(gn) != 0 && avow_san_check(gn, NULL) == AVOW_OK);
    }
    avow_buf t = {0};
    FZ_CHECK(avow_san_text(g, &t) == AVOW_OK && t.ptr != NULL);
    if (strchr(text, '\\') == NULL) {
        GENERAL_NAMES *again = GENERAL_NAMES_new();
        FZ_CHECK(again != NULL && avow_san_parse((const char *)t.ptr, again, NULL) == AVOW_OK);
        FZ_CHECK(sk_GENERAL_NAME_num(again) == n);
        for (int i = 0; i < n; i++)
            FZ_CHECK(GENERAL_NAME_cmp(sk_GENERAL_NAME_value(g, i),
                                      sk_GENERAL_NAME_value(again, i)) == 0);
        GENERAL_NAMES_free(again);
    }
    avow_buf_free(&t);
    GENERAL_NAMES_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    dn(text);
    san(text);
    unsigned kinds = 0;
    (void)avow_san_kinds_parse(text, &kinds, NULL);
    FZ_CHECK((kinds & ~(unsigned)AVOW_SAN_ALL) == 0);
    free(text);
    FZ_CHECK(ERR_peek_error() == 0);
    return 0;
}
