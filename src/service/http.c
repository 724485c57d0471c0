/*
 * The HTTP server: libmicrohttpd with its internal polling threads (a pool
 * of cfg.threads), TLS through its GnuTLS back end, and the router. A
 * request's body is collected up to the configured limit (a larger one is
 * answered 413 as soon as it is seen), then the route's handler runs on
 * the complete request. Headers beyond MHD_OPTION_CONNECTION_MEMORY_LIMIT
 * and connections idle longer than MHD_OPTION_CONNECTION_TIMEOUT are
 * refused or dropped by libmicrohttpd itself; a body still arriving after
 * that many seconds from the request's start is dropped here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

#define EST_PREFIX "/.well-known/est/"
#define CR_NEW     "/challenge-response/v1/newSession"
#define CR_SESSION "/challenge-response/v1/session/"
#define PKIX_PATH  "/pkix/"

typedef struct conn_ctx {
    uint8_t *body;
    size_t len, cap;
    struct timespec t0;
    int answered; /* a response was queued before the body ended (413) */
} conn_ctx;

const char *svc_header(const svc_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *svc_query(const svc_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes in[0..len) ('+' is a space) into out (cap bytes, NUL-terminated). */
int svc_form_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? hexval(in[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return 0;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || n + 1 >= cap)
            return 0;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 1;
}

int svc_ctype_is(const svc_req *r, const char *const *list, size_t n)
{
    const char *ct = svc_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL)
        return 0;
    size_t len = strcspn(ct, ";");
    while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncasecmp(ct, list[i], len) == 0)
            return 1;
    return 0;
}

/* Which route a path names. An id after the session prefix goes to *rest. */
static svc_route_id route_of(const char *path, const char **rest)
{
    static const struct {
        const char *path;
        svc_route_id id;
    } exact[] = {
        {EST_PREFIX "cacerts", SVC_R_EST_CACERTS},
        {EST_PREFIX "simpleenroll", SVC_R_EST_ENROLL},
        {EST_PREFIX "csrattrs", SVC_R_EST_CSRATTRS},
        {EST_PREFIX "nonce", SVC_R_EST_NONCE},
        {CR_NEW, SVC_R_CR_NEW},
        {"/healthz", SVC_R_HEALTHZ},
        {"/metrics", SVC_R_METRICS},
        {"/ui", SVC_R_UI},
    };
    *rest = NULL;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(path, exact[i].path) == 0)
            return exact[i].id;
    if (strncmp(path, CR_SESSION, strlen(CR_SESSION)) == 0) {
        *rest = path + strlen(CR_SESSION);
        return SVC_R_CR_SESSION;
    }
    if (strncmp(path, PKIX_PATH, strlen(PKIX_PATH)) == 0 || strcmp(path, "/pkix") == 0)
        return SVC_R_PKIX;
    if (svc_oauth_path(path))
        return SVC_R_OAUTH;
    if (svc_wimse_path(path))
        return SVC_R_WIMSE;
    return SVC_R_OTHER;
}

static void dispatch(svc_req *r, svc_route_id route, const char *rest, svc_resp *out)
{
    switch (route) {
    case SVC_R_EST_CACERTS:
        svc_est_cacerts(r, out);
        return;
    case SVC_R_EST_ENROLL:
        svc_est_enroll(r, out);
        return;
    case SVC_R_EST_CSRATTRS:
        svc_est_csrattrs(r, out);
        return;
    case SVC_R_EST_NONCE:
        svc_est_nonce(r, out);
        return;
    case SVC_R_CR_NEW:
        svc_cr_new(r, out);
        return;
    case SVC_R_CR_SESSION:
        svc_cr_session(r, rest, out);
        return;
    case SVC_R_UI:
        svc_ops_ui(r, out);
        return;
    case SVC_R_HEALTHZ:
    case SVC_R_METRICS:
        if (strcmp(r->method, "GET") != 0) {
            svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed",
                        AVOW_ERR_CONTENT_TYPE, NULL);
            out->allow = "GET";
        } else if (route == SVC_R_HEALTHZ)
            svc_ops_healthz(r, out);
        else
            svc_ops_metrics(r, out);
        return;
    case SVC_R_PKIX:
        svc_cmp_pkix(r, out);
        return;
    case SVC_R_OAUTH:
        svc_oauth_route(r, out);
        return;
    case SVC_R_WIMSE:
        svc_wimse_route(r, out);
        return;
    case SVC_R_OTHER:
    case SVC_R_COUNT_:
        break;
    }
    svc_problem(out, 404, "urn:avow:problem:not-found", "No such resource", AVOW_ERR_NOT_FOUND,
                NULL);
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void peer_of(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)cap);
}

static void access_log(avow_service *s, const svc_req *r, svc_route_id route, const svc_resp *out,
                       double secs)
{
    if (s->access.fd < 0)
        return;
    json_t *o = json_object();
    int bad = o == NULL;
    if (o == NULL)
        return;
    char now[32] = "";
    (void)avow_time_format(time(NULL), now, sizeof(now));
    char path[200];
    avow__strlcpy(path, r->path, sizeof(path));
    avow__json_put(o, "time", json_string(now), &bad);
    avow__json_put(o, "peer", avow__json_text(r->peer), &bad);
    avow__json_put(o, "method", avow__json_text(r->method), &bad);
    avow__json_put(o, "path", avow__json_text(path), &bad);
    avow__json_put(o, "route", json_string(svc_route_name(route)), &bad);
    avow__json_put(o, "status", json_integer(out->status), &bad);
    avow__json_put(o, "bytes", json_integer((json_int_t)out->body.len), &bad);
    avow__json_put(o, "ms", json_real(secs * 1000.0), &bad);
    if (out->code != AVOW_OK)
        avow__json_put(o, "code", avow__json_errname(out->code), &bad);
    if (r->user[0] != '\0')
        avow__json_put(o, "user", avow__json_text(r->user), &bad);
    svc_log_write(&s->access, o);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, svc_resp *out)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out->body.len, out->body.ptr, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (out->ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->ctype);
    if (out->location[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, out->location);
    if (out->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"avow\", charset=\"UTF-8\"");
    if (out->set_cookie[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, out->set_cookie);
    if (out->allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, out->allow);
    if (out->oauth_challenge[0] != '\0')
        MHD_add_response_header(resp, "OAuth-Client-Attestation-Challenge", out->oauth_challenge);
    if (out->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", out->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(c, out->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void answer(avow_service *s, struct MHD_Connection *c, const char *url, const char *method,
                   conn_ctx *ctx, svc_resp *out, int early)
{
    svc_req r;
    memset(&r, 0, sizeof(r));
    r.s = s;
    r.conn = c;
    r.method = method;
    r.path = url;
    r.body = ctx->body;
    r.body_len = ctx->len;
    peer_of(c, r.peer, sizeof(r.peer));
    const char *rest = NULL;
    svc_route_id route = route_of(url, &rest);
    if (!early)
        dispatch(&r, route, rest, out);
    double secs = elapsed(&ctx->t0);
    svc_metrics_request(&s->m, route, out->status, secs);
    access_log(s, &r, route, out, secs);
}

static void too_large(svc_resp *out, size_t max)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow__fail(&d, AVOW_ERR_TOO_LARGE, "body", "the body exceeds %zu bytes", max);
    svc_problem_err(out, AVOW_ERR_TOO_LARGE, &d);
}

/* CMP messages may carry a request of AVOW_REQUEST_MAX_SIZE: /pkix/ takes at least that much. */
static size_t body_limit(const avow_service *s, const char *url)
{
    const char *rest;
    if (s->cmp != NULL && route_of(url, &rest) == SVC_R_PKIX &&
        s->cfg.body_max < AVOW_CMP_MAX_MESSAGE)
        return AVOW_CMP_MAX_MESSAGE;
    return s->cfg.body_max;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    avow_service *s = cls;
    conn_ctx *ctx = *con_cls;
    size_t max = body_limit(s, url);
    if (ctx == NULL) {
        if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &ctx->t0);
        *con_cls = ctx;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > max) {
            svc_resp out = {.status = 500};
            too_large(&out, max);
            answer(s, c, url, method, ctx, &out, 1);
            ctx->answered = 1;
            enum MHD_Result rc = send_resp(c, &out);
            avow_buf_free(&out.body);
            return rc;
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->answered)
            return MHD_YES;
        /* The idle timeout does not stop a body that trickles in: bound the whole request. */
        if (elapsed(&ctx->t0) > (double)s->cfg.timeout) {
            svc_metrics_request(&s->m, SVC_R_OTHER, 408, elapsed(&ctx->t0));
            return MHD_NO;
        }
        if (n > max - ctx->len) {
            /* A chunked body over the limit: answer now, read no more. */
            svc_resp out = {.status = 500};
            too_large(&out, max);
            answer(s, c, url, method, ctx, &out, 1);
            ctx->answered = 1;
            enum MHD_Result rc = send_resp(c, &out);
            avow_buf_free(&out.body);
            return rc;
        }
        if (ctx->len + n > ctx->cap) {
            size_t cap = ctx->cap == 0 ? 4096 : ctx->cap;
            while (cap < ctx->len + n)
                cap *= 2;
            if (cap > max)
                cap = max;
            uint8_t *nb = realloc(ctx->body, cap);
            if (nb == NULL)
                return MHD_NO;
            ctx->body = nb;
            ctx->cap = cap;
        }
        memcpy(ctx->body + ctx->len, upload_data, n);
        ctx->len += n;
        return MHD_YES;
    }
    if (ctx->answered)
        return MHD_YES;
    svc_resp out = {.status = 500};
    answer(s, c, url, method, ctx, &out, 0);
    enum MHD_Result rc = send_resp(c, &out);
    avow_buf_free(&out.body);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx *ctx = *con_cls;
    if (ctx != NULL) {
        free(ctx->body);
        free(ctx);
    }
    *con_cls = NULL;
}

/*
 * Paths are taken as sent: no route needs percent-encoding, and decoding
 * first would let "/.well-known/est/cacerts%00" reach the cacerts route
 * (the decoded NUL ends the C string). Query values stay encoded too; the
 * only ones read (nonceSize, nonce) are digits and base64.
 */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* libmicrohttpd's own messages (bad TLS handshakes, malformed requests) are not logged. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

avow_err svc_http_start(avow_service *s, avow_diag *d)
{
    int tls = s->tls_cert_pem != NULL;
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return avow__fail(d, AVOW_ERR_UNSUPPORTED, "tls",
                          "this libmicrohttpd was built without TLS");
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (s->ipv6) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(s->want_port);
        if (inet_pton(AF_INET6, s->addr, &sin6.sin6_addr) != 1)
            return avow__fail(d, AVOW_ERR_CONFIG, "listen", "not an IPv6 address: %s", s->addr);
        sa = (const struct sockaddr *)&sin6;
    } else {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(s->want_port);
        if (inet_pton(AF_INET, s->addr, &sin.sin_addr) != 1)
            return avow__fail(d, AVOW_ERR_CONFIG, "listen", "not an IPv4 address: %s", s->addr);
        sa = (const struct sockaddr *)&sin;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (s->cfg.threads > 1 && MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    if (s->ipv6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem},
        /* GnuTLS then asks clients for a certificate; tls_client.c judges it. */
        {s->client_ca_pem != NULL ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
         s->client_ca_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    s->daemon = MHD_start_daemon(
        flags, s->want_port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(s->cfg.threads > 1 ? s->cfg.threads : 0),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)s->cfg.header_max, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)s->cfg.connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)s->cfg.timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_ARRAY, tls ? tls_opts : none,
        MHD_OPTION_END);
    if (s->daemon == NULL)
        return avow__fail(d, AVOW_ERR_LISTEN, "listen", "cannot listen on %s port %u%s", s->addr,
                          (unsigned)s->want_port, tls ? " (or the TLS key and certificate)" : "");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : s->want_port;
    return AVOW_OK;
}

unsigned svc_http_stop(avow_service *s, unsigned drain_ms)
{
    if (s->daemon == NULL)
        return 0;
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    unsigned left = 0;
    for (unsigned waited = 0;; waited += 20) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        left = info != NULL ? info->num_connections : 0;
        if (left == 0 || waited >= drain_ms)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    s->daemon = NULL;
    s->port = 0;
    return left;
}
