/*
 * Stands in for nonce_redis.c (and oauth_replay_redis.c) in a build with AVOW_WITH_REDIS=OFF: a
 * redis:// or unix: store is refused as unsupported, never opened as
 * something else.
 */
#include <avow/nonce.h>

#include "core/internal.h"
#include "store/store_int.h"

avow_err avow__nonce_redis_open(const char *uri, const avow_nonce_store_open_opts *opts,
                                unsigned flags, avow_nonce_store **out, avow_diag *diag)
{
    (void)uri;
    (void)opts;
    (void)flags;
    *out = NULL;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "store",
                      "this avow was built without Redis (AVOW_WITH_REDIS=OFF)");
}

avow_err avow__oauth_replay_redis_open(const char *uri, struct avow_oauth_replay **out,
                                       avow_diag *diag)
{
    (void)uri;
    *out = NULL;
    return avow__fail(diag, AVOW_ERR_UNSUPPORTED, "replay-store",
                      "this avow was built without Redis (AVOW_WITH_REDIS=OFF)");
}
