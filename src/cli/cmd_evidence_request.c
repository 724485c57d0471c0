/*
 * "avow evidence request": the verifier's side of attestation requests. It
 * writes the empty form (the claims wanted, the keys named, the nonce) as
 * DER or PEM, or shows a request as JSON; and it holds the request loading
 * that "evidence create -request" and "evidence verify -request" share.
 * Everything about requests is the library's (avow/evidence_request.h).
 */
#include <string.h>

#include <avow/avow.h>

#include "cli/cli.h"
#include "cli/evidence_cmds.h"

const cli_opt cli_evidence_request_opts[] = {
    {"nonce", CLI_VALUE, "HEX", "the nonce the Evidence must repeat"},
    {"want", CLI_MULTI, "NAMES",
     "claims to ask for, comma-separated short names (vendor,fipslevel,spki,...); an element name "
     "(transaction, platform, key) asks for all of its claims"},
    {"key-ident", CLI_MULTI, "NAME",
     "a key element for the key of this identifier, with the key claims of -want (without: one "
     "for the attester's key)"},
    {"from", CLI_VALUE, "FILE", "a request as claims JSON with null values, read before the flags"},
    {"in", CLI_VALUE, "FILE", "read this request instead of building one (to convert or show it)"},
    {"inform", CLI_VALUE, "PEM|DER", "-in format (default: detected)"},
    {"json", CLI_FLAG, NULL, "print the request as JSON (readable by -from) instead of DER/PEM"},
    {"outform", CLI_VALUE, "PEM|DER", "output format (default: PEM, label EVIDENCE REQUEST)"},
    {"out", CLI_VALUE, "FILE", "output file (default: stdout)"},
    CLI_PROFILE_OPTS_REFUSE_EKU,
    {NULL, CLI_FLAG, NULL, NULL},
};

avow_err cli_request_load(const char *path, const char *inform, const avow_profile *p,
                          avow_evidence_request **req, avow_diag *d)
{
    cli_form form;
    avow_buf der = {0};
    avow_err err = cli_parse_form(inform, CLI_FORM_AUTO, &form, d);
    if (err == AVOW_OK)
        err = cli_read_der(path, AVOW_EVIDENCE_REQUEST_PEM_LABEL, form, &der, d);
    if (err == AVOW_OK)
        err = avow_evidence_request_decode(der.ptr, der.len, p, 0, req, d);
    avow_buf_free(&der);
    return err;
}

/* The claims of the table that belong to kind, the nonce left out (it has -nonce). */
static avow_err want_all(avow_evidence_request *req, avow_element_kind kind, const size_t *keys,
                         size_t nkeys, avow_diag *d)
{
    avow_err err = AVOW_OK;
    for (int id = 0; err == AVOW_OK && id < AVOW_CLAIM_COUNT_; id++) {
        const avow_claim_info *info = avow_claim_info_get((avow_claim_id)id);
        if (info->element != kind || info->id == AVOW_CLAIM_NONCE)
            continue;
        for (size_t k = 0; err == AVOW_OK && kind == AVOW_ELEMENT_KEY && k < nkeys; k++)
            err = avow_evidence_request_want_key(req, keys[k], info->id, d);
        if (kind != AVOW_ELEMENT_KEY)
            err = avow_evidence_request_want(req, info->id, d);
        /* an element's name takes what its claims' names have not taken already */
        if (err == AVOW_ERR_DUP_CLAIM)
            err = AVOW_OK;
    }
    return err;
}

/* Whether any -want names a key claim or "key". */
static int wants_key_claims(const cli_args *a)
{
    for (size_t i = 0; i < cli_count(a, "want"); i++) {
        const char *list = cli_get_n(a, "want", i);
        char name[64];
        for (const char *p = list; *p != '\0';) {
            size_t n = strcspn(p, ",");
            if (n < sizeof(name)) {
                memcpy(name, p, n);
                name[n] = '\0';
                const avow_claim_info *info = avow_claim_info_by_name(name);
                if (strcmp(name, "key") == 0 || (info != NULL && info->element == AVOW_ELEMENT_KEY))
                    return 1;
            }
            p += n + (p[n] == ',');
        }
    }
    return 0;
}

/* One name of -want; key_phase 0 takes the transaction and platform names, 1 the key ones. */
static avow_err want_one(avow_evidence_request *req, const char *name, int key_phase,
                         const size_t *keys, size_t nkeys, avow_diag *d)
{
    static const avow_element_kind kinds[] = {AVOW_ELEMENT_TRANSACTION, AVOW_ELEMENT_PLATFORM,
                                              AVOW_ELEMENT_KEY};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(name, avow_element_name(kinds[i])) == 0)
            return (kinds[i] == AVOW_ELEMENT_KEY) == key_phase
                       ? want_all(req, kinds[i], keys, nkeys, d)
                       : AVOW_OK;
    const avow_claim_info *info = avow_claim_info_by_name(name);
    if (info == NULL)
        return cli_fail(d, AVOW_ERR_USAGE, "want", "\"%s\" is no claim or element name", name);
    if (info->id == AVOW_CLAIM_NONCE)
        return cli_fail(d, AVOW_ERR_USAGE, "want", "the nonce is given with -nonce HEX");
    if ((info->element == AVOW_ELEMENT_KEY) != key_phase)
        return AVOW_OK;
    if (info->element != AVOW_ELEMENT_KEY)
        return avow_evidence_request_want(req, info->id, d);
    avow_err err = AVOW_OK;
    for (size_t k = 0; err == AVOW_OK && k < nkeys; k++)
        err = avow_evidence_request_want_key(req, keys[k], info->id, d);
    return err;
}

static avow_err build(avow_evidence_request *req, const cli_args *a, avow_diag *d)
{
    avow_err err = AVOW_OK;
    if (cli_get(a, "from") != NULL) {
        avow_buf raw = {0};
        err = cli_read(cli_get(a, "from"), &raw, d);
        if (err == AVOW_OK)
            err = avow_evidence_request_add_json(req, (const char *)raw.ptr, raw.len, d);
        avow_buf_free(&raw);
    }
    if (err == AVOW_OK && cli_get(a, "nonce") != NULL) {
        uint8_t nonce[256];
        size_t len = 0;
        err = cli_parse_hex("nonce", cli_get(a, "nonce"), nonce, sizeof(nonce), &len, d);
        if (err == AVOW_OK)
            err = avow_evidence_request_set_nonce(req, nonce, len, d);
    }
    /*
     * Transaction and platform claims, then the key elements, then the key
     * claims of -want in each of them: the elements come out in the order
     * Evidence usually has.
     */
    size_t nkeys = cli_count(a, "key-ident");
    size_t keys[AVOW_EVIDENCE_MAX_ELEMENTS];
    if (nkeys > AVOW_EVIDENCE_MAX_ELEMENTS)
        return cli_fail(d, AVOW_ERR_USAGE, "key-ident", "at most %u keys",
                        AVOW_EVIDENCE_MAX_ELEMENTS);
    for (int key_phase = 0; key_phase < 2 && err == AVOW_OK; key_phase++) {
        for (size_t k = 0; key_phase && err == AVOW_OK && k < nkeys; k++)
            err = avow_evidence_request_add_key(req, cli_get_n(a, "key-ident", k), &keys[k], d);
        if (key_phase && err == AVOW_OK && nkeys == 0 && wants_key_claims(a)) {
            err = avow_evidence_request_add_key(req, NULL, &keys[0], d);
            nkeys = 1;
        }
        for (size_t i = 0; err == AVOW_OK && i < cli_count(a, "want"); i++) {
            const char *p = cli_get_n(a, "want", i);
            while (err == AVOW_OK) {
                size_t n = strcspn(p, ",");
                char name[64];
                if (n == 0 || n >= sizeof(name))
                    return cli_fail(d, AVOW_ERR_USAGE, "want", "\"%s\": bad list of names",
                                    cli_get_n(a, "want", i));
                memcpy(name, p, n);
                name[n] = '\0';
                err = want_one(req, name, key_phase, keys, nkeys, d);
                if (p[n] == '\0')
                    break;
                p += n + 1;
            }
        }
    }
    return err;
}

int cli_evidence_request(const char *prog, const cli_args *a)
{
    (void)prog;
    avow_diag d;
    avow_diag_clear(&d);
    avow_profile p;
    cli_form form;
    avow_evidence_request *req = NULL;
    avow_buf out = {0};
    int building = cli_get(a, "from") != NULL || cli_get(a, "nonce") != NULL ||
                   cli_count(a, "want") > 0 || cli_count(a, "key-ident") > 0;
    avow_err err = cli_parse_form(cli_get(a, "outform"), CLI_FORM_PEM, &form, &d);
    if (err == AVOW_OK)
        err = cli_evidence_profile(a, &p, &d);
    if (err == AVOW_OK && cli_get(a, "in") != NULL && building)
        err = cli_fail(&d, AVOW_ERR_USAGE, "in",
                       "-in reads a request; -from, -nonce, -want and -key-ident build one");
    if (err == AVOW_OK && cli_get(a, "in") == NULL && !building)
        err = cli_fail(&d, AVOW_ERR_USAGE, "want",
                       "nothing asked: give -want, -key-ident, -nonce or -from (or -in)");
    if (err == AVOW_OK && cli_get(a, "in") != NULL)
        err = cli_request_load(cli_get(a, "in"), cli_get(a, "inform"), &p, &req, &d);
    else if (err == AVOW_OK)
        err = avow_evidence_request_new(&p, &req);
    if (err == AVOW_OK && building)
        err = build(req, a, &d);
    if (err == AVOW_OK && cli_flag(a, "json")) {
        /* encoded first: what is shown is a request that decodes */
        err = avow_evidence_request_encode(req, &out, &d);
        avow_buf_free(&out);
        if (err == AVOW_OK)
            err = avow_evidence_request_to_json(req, &out);
        if (err == AVOW_OK && cli_get(a, "out") != NULL)
            err = avow_write_file(cli_get(a, "out"), out.ptr, out.len, &d);
        else if (err == AVOW_OK)
            err = cli_print(&out, &d);
    } else if (err == AVOW_OK) {
        err = avow_evidence_request_encode(req, &out, &d);
        if (err == AVOW_OK)
            err = cli_write(cli_get(a, "out"), out.ptr, out.len, AVOW_EVIDENCE_REQUEST_PEM_LABEL,
                            form, &d);
    }
    avow_buf_free(&out);
    avow_evidence_request_free(req);
    return err == AVOW_OK ? CLI_EXIT_OK : cli_report(err, &d);
}
