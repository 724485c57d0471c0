/*
 * libFuzzer target for the appraisal-policy parser: parse; whatever parses
 * must evaluate over an empty claim set and free cleanly, with the OpenSSL
 * error queue left empty.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>

#include <avow/policy.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avow_policy *p = NULL;
    avow_diag d;
    avow_err rc = avow_policy_parse((const char *)data, size, &p, &d);
    if (rc != AVOW_OK) {
        if (p != NULL || d.code != rc)
            abort();
    } else {
        avow_claimset none = {0, NULL};
        avow_policy_report *r = NULL;
        avow_err e = avow_policy_eval(p, &none, NULL, &r, NULL);
        if ((e == AVOW_OK || e == AVOW_ERR_POLICY) != (r != NULL))
            abort();
        avow_buf json = {0};
        if (r != NULL && avow_policy_report_to_json(r, &json) != AVOW_OK)
            abort();
        avow_buf_free(&json);
        avow_policy_report_free(r);
        avow_policy_free(p);
    }
    if (ERR_peek_error() != 0)
        abort();
    return 0;
}
