/*
 * Registry row for PKIX Evidence statements: stmt is the DER Evidence,
 * decoded strictly under the verifier's profile and verified with
 * avow_verify_evidence (the bundle's certs as untrusted certificates).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "verifier/registry_int.h"

typedef struct pkix_priv {
    avow_evidence *ev;
    avow_evidence_result *res;
} pkix_priv;

static void pkix_free(void *p)
{
    pkix_priv *pp = p;
    if (pp == NULL)
        return;
    avow_evidence_result_free(pp->res); /* borrows from ev: first */
    avow_evidence_free(pp->ev);
    OPENSSL_free(pp);
}

static long key_element_of(const avow_evidence *ev, const uint8_t *spki, size_t spki_len)
{
    if (spki == NULL || spki_len == 0)
        return -1;
    for (size_t i = 0; i < avow_evidence_element_count(ev); i++) {
        const avow_element *el = avow_evidence_get0_element(ev, i);
        if (el->kind != AVOW_ELEMENT_KEY)
            continue;
        for (size_t j = 0; j < el->nclaims; j++) {
            const avow_claim *c = &el->claims[j];
            if (c->id == AVOW_CLAIM_KEY_SPKI && c->value.present &&
                c->value.bytes.len == spki_len && memcmp(c->value.bytes.ptr, spki, spki_len) == 0)
                return (long)i;
        }
    }
    return -1;
}

static void note(avow_statement_result *out, avow_err rc, const avow_diag *d)
{
    if (d->field[0])
        avow__stmt_fail(out, rc, "%s: %s", d->field, d->detail);
    else
        avow__stmt_fail(out, rc, "%s", d->detail[0] ? d->detail : avow_strerror(rc));
}

avow_err avow__stmt_verify_pkix(const avow_statement_type *row, const avow_verifier *v,
                                const uint8_t *stmt, size_t len, const avow_verify_opts *opts,
                                const uint8_t *spki, size_t spki_len, avow_statement_result *out,
                                avow_diag *diag)
{
    (void)row;
    avow_diag d;
    avow_diag_clear(&d);
    pkix_priv *pp = OPENSSL_zalloc(sizeof(*pp));
    if (pp == NULL)
        return avow__stmt_fail(out, AVOW_ERR_NOMEM, "out of memory");
    avow_err rc = avow_evidence_decode(stmt, len, avow_verifier_profile(v), 0, &pp->ev, &d);
    if (rc != AVOW_OK) {
        OPENSSL_free(pp);
        note(out, rc, &d);
        if (diag != NULL)
            *diag = d;
        return rc;
    }
    out->priv_ = pp;
    out->priv_free_ = pkix_free;
    out->native_type = "avow_evidence_result";
    rc = avow_verify_evidence(v, pp->ev, opts, &pp->res, &d);
    if (pp->res != NULL) {
        out->native = pp->res;
        out->claims = pp->res->claims; /* borrowed: freed with the native result */
        out->nonce = pp->res->nonce;
    }
    out->key_element = key_element_of(pp->ev, spki, spki_len);
    if (rc != AVOW_OK) {
        note(out, rc, &d);
        if (diag != NULL)
            *diag = d;
        return rc;
    }
    out->status = AVOW_OK;
    return AVOW_OK;
}

const avow_evidence *avow_statement_result_get0_evidence(const avow_statement_result *r)
{
    if (r == NULL || r->priv_free_ != pkix_free || r->priv_ == NULL)
        return NULL;
    return ((const pkix_priv *)r->priv_)->ev;
}

const avow_evidence_result *
avow_statement_result_get0_evidence_result(const avow_statement_result *r)
{
    if (r == NULL || r->priv_free_ != pkix_free || r->priv_ == NULL)
        return NULL;
    return ((const pkix_priv *)r->priv_)->res;
}
