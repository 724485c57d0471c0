/*
 * A nonce store by URI: the one place that maps "sqlite:PATH",
 * "redis://..." and "unix:..." to a back end, so the CLI (-store) and the
 * service ("store" in its config) name stores the same way.
 */
#include <string.h>

#include <avow/nonce.h>

#include "core/internal.h"
#include "store/store_int.h"

void avow_nonce_store_open_opts_init(avow_nonce_store_open_opts *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_nonce_store_open_uri(const char *uri, unsigned flags,
                                   const avow_nonce_store_open_opts *opts, avow_nonce_store **out,
                                   avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (uri == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "store", "no store URI or output");
    avow_nonce_store_open_opts none;
    avow_nonce_store_open_opts_init(&none);
    if (opts == NULL)
        opts = &none;
    if (opts->size != sizeof(*opts))
        return avow__fail(diag, AVOW_ERR_ARG, "opts.size",
                          "options not set up with avow_nonce_store_open_opts_init");
    if (strncmp(uri, "sqlite:", 7) == 0) {
        const char *path = uri + 7;
        /* sqlite:///abs/path and sqlite:/abs/path name the same file. */
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (*path == '\0')
            return avow__fail(diag, AVOW_ERR_ARG, "store", "sqlite: needs a path");
        return avow_nonce_store_open_sqlite_ex(path, flags, out, diag);
    }
    if (strncmp(uri, "redis://", 8) == 0 || strncmp(uri, "unix:", 5) == 0)
        return avow__nonce_redis_open(uri, opts, flags, out, diag);
    return avow__fail(diag, AVOW_ERR_ARG, "store",
                      "store URI must start with sqlite:, redis:// or unix:");
}
