/*
 * The jti replay set of the OAuth server check: a front end over a back
 * end's ops table (SQLite here; Redis fills the same table), with the
 * arguments checked once for every back end.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <avow/oauth.h>

#include "core/internal.h"
#include "store/store_int.h"

#define REPLAY_MAX_KEY 64u

struct avow_oauth_replay {
    const avow_oauth_replay_ops *ops;
    void *impl;
};

avow_err avow_oauth_replay_new(const avow_oauth_replay_ops *ops, void *impl,
                               avow_oauth_replay **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (ops == NULL || ops->size != sizeof(*ops) || ops->insert == NULL || ops->seen == NULL ||
        ops->purge == NULL || ops->free == NULL || out == NULL) {
        if (ops != NULL && ops->free != NULL && impl != NULL)
            ops->free(impl);
        return avow__fail(diag, AVOW_ERR_ARG, "replay", "incomplete ops table or no output");
    }
    avow_oauth_replay *r = OPENSSL_zalloc(sizeof(*r));
    if (r == NULL) {
        ops->free(impl);
        return avow__fail(diag, AVOW_ERR_NOMEM, "replay", "out of memory");
    }
    r->ops = ops;
    r->impl = impl;
    *out = r;
    return AVOW_OK;
}

avow_err avow_oauth_replay_open_uri(const char *uri, avow_oauth_replay **out, avow_diag *diag)
{
    if (out != NULL)
        *out = NULL;
    if (uri == NULL || out == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "replay-store", "no URI or output");
    if (strncmp(uri, "redis://", 8) == 0 || strncmp(uri, "unix:", 5) == 0)
        return avow__oauth_replay_redis_open(uri, out, diag);
    return avow_oauth_replay_open_sqlite(strncmp(uri, "sqlite:", 7) == 0 ? uri + 7 : uri, out,
                                         diag);
}

void avow_oauth_replay_free(avow_oauth_replay *r)
{
    if (r == NULL)
        return;
    r->ops->free(r->impl);
    OPENSSL_free(r);
}

static avow_err key_ok(const avow_oauth_replay *r, const uint8_t *key, size_t len, avow_diag *d)
{
    if (r == NULL || key == NULL || len == 0 || len > REPLAY_MAX_KEY)
        return avow__fail(d, AVOW_ERR_ARG, "replay", "no set, or a key not of 1 to %u bytes",
                          REPLAY_MAX_KEY);
    return AVOW_OK;
}

avow_err avow_oauth_replay_insert(avow_oauth_replay *r, const uint8_t *key, size_t len,
                                  int64_t expires, int64_t now, avow_diag *diag)
{
    avow_err rc = key_ok(r, key, len, diag);
    return rc != AVOW_OK ? rc : r->ops->insert(r->impl, key, len, expires, now, diag);
}

avow_err avow_oauth_replay_seen(avow_oauth_replay *r, const uint8_t *key, size_t len, int64_t now,
                                avow_diag *diag)
{
    avow_err rc = key_ok(r, key, len, diag);
    return rc != AVOW_OK ? rc : r->ops->seen(r->impl, key, len, now, diag);
}

avow_err avow_oauth_replay_purge(avow_oauth_replay *r, int64_t before, size_t *removed,
                                 avow_diag *diag)
{
    if (removed != NULL)
        *removed = 0;
    if (r == NULL)
        return avow__fail(diag, AVOW_ERR_ARG, "replay", "no set");
    return r->ops->purge(r->impl, before, removed, diag);
}
