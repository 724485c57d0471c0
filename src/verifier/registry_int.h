/*
 * Rows of the built-in evidence-type registry. Each row's verify function
 * lives in its own file (stmt_<format>.c); registry.c lists them.
 */
#ifndef AVOW_REGISTRY_INT_H
#define AVOW_REGISTRY_INT_H

#include <avow/registry.h>

#include "core/internal.h"

/* stmt_pkix.c: PKIX Evidence (type = the profile's id-evidence arc). */
avow_err avow__stmt_verify_pkix(const avow_statement_type *row, const avow_verifier *v,
                                const uint8_t *stmt, size_t len, const avow_verify_opts *opts,
                                const uint8_t *spki, size_t spki_len, avow_statement_result *out,
                                avow_diag *diag);

/* Sets out->status and out->detail (printf-style); returns status. */
avow_err avow__stmt_fail(avow_statement_result *out, avow_err status, const char *fmt, ...)
    AVOW_PRINTF(3, 4);

#endif
