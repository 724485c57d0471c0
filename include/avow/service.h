/*
 * avow/service.h - `avow serve`: the CA directory and the verifier as a
 * long-lived HTTP service (libmicrohttpd, TLS through its GnuTLS back end).
 *
 * Front ends over the same library calls the CLI makes:
 *   /.well-known/est/    EST (RFC 7030): cacerts, simpleenroll, csrattrs, and
 *                        the freshness nonce of draft-ietf-lamps-attestation-freshness-08
 *   /challenge-response/v1/   a verifier API shaped like Veraison's
 *   /healthz, /metrics   operations
 *   /pkix/               CMP (RFC 9483), routed to avow/cmp_server.h once it exists
 * The service holds no appraisal logic of its own: avow_ca_dir_nonce,
 * avow_ca_dir_issue, avow_appraise and avow_ear_sign_jwt decide everything.
 * docs/serve.md describes the configuration file, the routes, the problem
 * documents and the differences from Veraison.
 */
#ifndef AVOW_SERVICE_H
#define AVOW_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <avow/err.h>
#include <avow/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* avow_service_opts.flags */
enum {
    /* Serve plain HTTP even when the configuration names a certificate (behind a proxy). */
    AVOW_SERVICE_PLAIN_HTTP = 1u << 0
};

typedef struct avow_service_opts {
    size_t size;        /* set by avow_service_opts_init */
    const char *config; /* JSON configuration file (docs/serve.md); NULL: defaults only */
    const char *ca_dir; /* overrides the configuration's "ca" */
    const char *listen; /* "HOST:PORT" (numeric IPv4 or [IPv6]); overrides "listen"; port 0 picks
                           a free one (avow_service_port) */
    const char *const *anchors; /* trust-anchor files added to the configuration's "anchors" */
    size_t nanchors;
    unsigned flags; /* AVOW_SERVICE_* */
} avow_service_opts;

/* Zeroes o and sets its size. */
AVOW_EXPORT void avow_service_opts_init(avow_service_opts *o);

typedef struct avow_service avow_service;

/*
 * Reads the configuration, opens the CA directory with its key, loads the
 * trust anchors, the policy, the users file and the TLS files. Nothing
 * listens yet. Errors: AVOW_ERR_ARG, AVOW_ERR_CONFIG (diag->field names the
 * member), AVOW_ERR_IO, and those of avow_ca_dir_open. *out is the
 * caller's (avow_service_free).
 */
AVOW_EXPORT avow_err avow_service_new(const avow_service_opts *opts, avow_service **out,
                                      avow_diag *diag);

/*
 * Starts listening with the configured threads. AVOW_ERR_LISTEN when the
 * address cannot be bound, AVOW_ERR_UNSUPPORTED when TLS is asked for and
 * libmicrohttpd lacks it, AVOW_ERR_STATE when already started.
 */
AVOW_EXPORT avow_err avow_service_start(avow_service *s, avow_diag *diag);

/* The bound port once started (0 before). */
AVOW_EXPORT uint16_t avow_service_port(const avow_service *s);

/*
 * Stops accepting connections, lets those in progress finish for at most
 * drain_ms milliseconds, then closes the rest and stops the threads.
 * Returns the connections still open when the time ran out (0: a clean
 * drain). No-op on a service that is not started.
 */
AVOW_EXPORT unsigned avow_service_stop(avow_service *s, unsigned drain_ms);

/* Stops it (without draining) when running. No-op for NULL. */
AVOW_EXPORT void avow_service_free(avow_service *s);

#ifdef __cplusplus
}
#endif
#endif
