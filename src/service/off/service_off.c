/*
 * A build with AVOW_WITH_HTTP=OFF: the service API exists and says that
 * it is not built in.
 */
#include <string.h>

#include "core/internal.h"
#include <avow/service.h>

void avow_service_opts_init(avow_service_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
}

avow_err avow_service_new(const avow_service_opts *opts, avow_service **out, avow_diag *diag)
{
    (void)opts;
    if (out != NULL)
        *out = NULL;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "service",
                      "built without the HTTP service (AVOW_WITH_HTTP=OFF)");
}

avow_err avow_service_start(avow_service *s, avow_diag *diag)
{
    (void)s;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "service",
                      "built without the HTTP service (AVOW_WITH_HTTP=OFF)");
}

uint16_t avow_service_port(const avow_service *s)
{
    (void)s;
    return 0;
}

unsigned avow_service_stop(avow_service *s, unsigned drain_ms)
{
    (void)s;
    (void)drain_ms;
    return 0;
}

void avow_service_free(avow_service *s)
{
    (void)s;
}
