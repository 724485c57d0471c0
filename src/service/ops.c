/*
 * Operations: /healthz, /metrics in the Prometheus text format (requests
 * by route and status, a latency histogram per route, appraisal outcomes
 * and their reasons, store errors), and the JSON-lines logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "core/internal.h"
#include "core/json.h"
#include "service/service_int.h"

static const double lat_bounds[SVC_LAT_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,  0.1,    0.25,  1.0,  5.0};

static const char *const route_names[SVC_R_COUNT_] = {
    "est_cacerts", "est_simpleenroll", "est_csrattrs", "est_nonce", "cr_new_session", "cr_session",
    "healthz",     "metrics",          "pkix",         "oauth",     "wimse",          "ui",
    "other"};

const char *svc_route_name(svc_route_id r)
{
    return r < SVC_R_COUNT_ ? route_names[r] : "other";
}

void svc_metrics_init(svc_metrics *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
}

void svc_metrics_free(svc_metrics *m)
{
    pthread_mutex_destroy(&m->lock);
}

void svc_metrics_request(svc_metrics *m, svc_route_id route, unsigned status, double seconds)
{
    if (route >= SVC_R_COUNT_)
        route = SVC_R_OTHER;
    pthread_mutex_lock(&m->lock);
    size_t i = 0;
    while (i < m->nstatuses && m->statuses[i] != status)
        i++;
    if (i == m->nstatuses && i < SVC_STATUS_SLOTS)
        m->statuses[m->nstatuses++] = status;
    if (i < SVC_STATUS_SLOTS)
        m->requests[route][i]++;
    size_t b = 0;
    while (b < SVC_LAT_BUCKETS && seconds > lat_bounds[b])
        b++;
    m->lat[route][b]++;
    m->lat_sum[route] += seconds;
    pthread_mutex_unlock(&m->lock);
}

static size_t tier_slot(avow_tier t)
{
    switch (t) {
    case AVOW_TIER_NONE:
        return 0;
    case AVOW_TIER_AFFIRMING:
        return 1;
    case AVOW_TIER_WARNING:
        return 2;
    case AVOW_TIER_CONTRAINDICATED:
        return 3;
    }
    return 4;
}

void svc_metrics_appraisal(svc_metrics *m, const avow_ear *ear)
{
    pthread_mutex_lock(&m->lock);
    m->outcomes[ear->has_status ? tier_slot(ear->status) : 0]++;
    for (size_t i = 0; i < ear->nsubmods; i++)
        for (size_t j = 0; j < ear->submods[i].nreasons; j++) {
            avow_err c = ear->submods[i].reasons[j].code;
            size_t k = 0;
            while (k < m->nreasons && m->reasons[k] != c)
                k++;
            if (k == m->nreasons && k < SVC_REASON_SLOTS)
                m->reasons[m->nreasons++] = c;
            if (k < SVC_REASON_SLOTS)
                m->reason_count[k]++;
        }
    pthread_mutex_unlock(&m->lock);
}

void svc_metrics_outcome(svc_metrics *m, avow_tier tier, avow_err reason)
{
    pthread_mutex_lock(&m->lock);
    m->outcomes[tier_slot(tier)]++;
    if (reason != AVOW_OK) {
        size_t k = 0;
        while (k < m->nreasons && m->reasons[k] != reason)
            k++;
        if (k == m->nreasons && k < SVC_REASON_SLOTS)
            m->reasons[m->nreasons++] = reason;
        if (k < SVC_REASON_SLOTS)
            m->reason_count[k]++;
    }
    pthread_mutex_unlock(&m->lock);
}

void svc_metrics_store_error(svc_metrics *m, avow_err err)
{
    if (err != AVOW_ERR_STORE && err != AVOW_ERR_STORE_BUSY)
        return;
    pthread_mutex_lock(&m->lock);
    if (err == AVOW_ERR_STORE)
        m->store_errors++;
    else
        m->store_busy++;
    pthread_mutex_unlock(&m->lock);
}

void svc_ops_healthz(svc_req *r, svc_resp *out)
{
    (void)r;
    static const char ok[] = "{\"status\":\"ok\"}\n";
    out->body.ptr = OPENSSL_malloc(sizeof(ok));
    if (out->body.ptr == NULL) {
        out->status = 500;
        return;
    }
    memcpy(out->body.ptr, ok, sizeof(ok));
    out->body.len = sizeof(ok) - 1;
    out->status = 200;
    out->ctype = "application/json";
}

/* Appends printf text to a growing buffer; *bad on overflow or no memory. */
typedef struct text_out {
    char *p;
    size_t len, cap;
    int bad;
} text_out;

static void put(text_out *t, const char *fmt, ...) AVOW_PRINTF(2, 3);
static void put(text_out *t, const char *fmt, ...)
{
    if (t->bad)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->bad = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *np = OPENSSL_realloc(t->p, cap);
        if (np == NULL) {
            t->bad = 1;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
}

void svc_ops_metrics(svc_req *r, svc_resp *out)
{
    svc_metrics *m = &r->s->m;
    text_out t = {OPENSSL_malloc(8192), 0, 8192, 0};
    if (t.p == NULL) {
        out->status = 500;
        return;
    }
    pthread_mutex_lock(&m->lock);
    put(&t, "# HELP avow_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE avow_http_requests_total counter\n");
    for (size_t rt = 0; rt < SVC_R_COUNT_; rt++)
        for (size_t i = 0; i < m->nstatuses; i++)
            if (m->requests[rt][i] > 0)
                put(&t, "avow_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                    route_names[rt], m->statuses[i], (unsigned long long)m->requests[rt][i]);
    put(&t, "# HELP avow_http_request_duration_seconds Time from the request's end to the "
            "answer.\n# TYPE avow_http_request_duration_seconds histogram\n");
    for (size_t rt = 0; rt < SVC_R_COUNT_; rt++) {
        uint64_t cum = 0;
        for (size_t b = 0; b <= SVC_LAT_BUCKETS; b++)
            cum += m->lat[rt][b];
        if (cum == 0)
            continue;
        cum = 0;
        for (size_t b = 0; b < SVC_LAT_BUCKETS; b++) {
            cum += m->lat[rt][b];
            put(&t, "avow_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                route_names[rt], lat_bounds[b], (unsigned long long)cum);
        }
        cum += m->lat[rt][SVC_LAT_BUCKETS];
        put(&t,
            "avow_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
            "avow_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
            "avow_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
            route_names[rt], (unsigned long long)cum, route_names[rt], m->lat_sum[rt],
            route_names[rt], (unsigned long long)cum);
    }
    static const char *const tiers[5] = {"none", "affirming", "warning", "contraindicated",
                                         "other"};
    put(&t, "# HELP avow_appraisals_total Appraisals by the EAR's status.\n"
            "# TYPE avow_appraisals_total counter\n");
    for (size_t i = 0; i < 5; i++)
        put(&t, "avow_appraisals_total{status=\"%s\"} %llu\n", tiers[i],
            (unsigned long long)m->outcomes[i]);
    put(&t, "# HELP avow_appraisal_reasons_total Reasons in EARs, by avow error code.\n"
            "# TYPE avow_appraisal_reasons_total counter\n");
    for (size_t i = 0; i < m->nreasons; i++) {
        const char *name = avow_errname(m->reasons[i]);
        put(&t, "avow_appraisal_reasons_total{code=\"%s\"} %llu\n", name != NULL ? name : "?",
            (unsigned long long)m->reason_count[i]);
    }
    put(&t,
        "# HELP avow_store_errors_total Nonce store failures.\n"
        "# TYPE avow_store_errors_total counter\n"
        "avow_store_errors_total{kind=\"failure\"} %llu\n"
        "avow_store_errors_total{kind=\"busy\"} %llu\n",
        (unsigned long long)m->store_errors, (unsigned long long)m->store_busy);
    pthread_mutex_unlock(&m->lock);
    const union MHD_DaemonInfo *info =
        r->s->daemon != NULL
            ? MHD_get_daemon_info(r->s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS)
            : NULL;
    put(&t,
        "# HELP avow_http_connections Connections open now (this one included).\n"
        "# TYPE avow_http_connections gauge\navow_http_connections %u\n",
        info != NULL ? info->num_connections : 0u);
    if (t.bad) {
        OPENSSL_free(t.p);
        out->status = 500;
        return;
    }
    out->body.ptr = (uint8_t *)t.p;
    out->body.len = t.len;
    out->status = 200;
    out->ctype = "text/plain; version=0.0.4";
}

void svc_audit(svc_req *r, const char *event, const svc_resp *out, const avow_ear *ear,
               const char *subject)
{
    if (r->s->audit.fd < 0)
        return;
    json_t *o = json_object();
    int bad = o == NULL;
    if (o == NULL)
        return;
    char now[32] = "";
    (void)avow_time_format(time(NULL), now, sizeof(now));
    avow__json_put(o, "time", json_string(now), &bad);
    avow__json_put(o, "event", json_string(event), &bad);
    avow__json_put(o, "peer", avow__json_text(r->peer), &bad);
    if (r->user[0] != '\0')
        avow__json_put(o, "user", avow__json_text(r->user), &bad);
    avow__json_put(o, "status", json_integer(out->status), &bad);
    avow__json_put(o, "code", avow__json_errname(out->code), &bad);
    if (out->serial[0] != '\0')
        avow__json_put(o, "serial", json_string(out->serial), &bad);
    if (subject != NULL)
        avow__json_put(o, "subject", avow__json_text(subject), &bad);
    if (ear != NULL) {
        const char *t = ear->has_status ? avow_tier_name(ear->status) : "none";
        avow__json_put(o, "ear_status", json_string(t != NULL ? t : "none"), &bad);
        json_t *codes = json_array();
        for (size_t i = 0; codes != NULL && i < ear->nsubmods; i++)
            for (size_t j = 0; j < ear->submods[i].nreasons; j++)
                json_array_append_new(codes, avow__json_errname(ear->submods[i].reasons[j].code));
        avow__json_put(o, "reasons", codes, &bad);
    }
    svc_log_write(&r->s->audit, o);
}

avow_err svc_log_open(svc_log *l, const char *path, avow_diag *d)
{
    /* The lock was made with the service (avow_service_new). */
    l->fd = -1;
    l->owned = 0;
    if (path == NULL)
        return AVOW_OK;
    if (strcmp(path, "-") == 0) {
        l->fd = STDERR_FILENO;
        return AVOW_OK;
    }
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0)
        return avow__fail(d, AVOW_ERR_IO, "log", "cannot open %s: %s", path, strerror(errno));
    l->owned = 1;
    return AVOW_OK;
}

void svc_log_close(svc_log *l)
{
    if (l->owned && l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    pthread_mutex_destroy(&l->lock);
}

void svc_log_write(svc_log *l, void *obj)
{
    json_t *o = obj;
    if (o == NULL)
        return;
    if (l->fd >= 0) {
        avow_buf line = {0};
        if (avow__json_dump(o, JSON_COMPACT | JSON_SORT_KEYS, 1, &line) == AVOW_OK) {
            pthread_mutex_lock(&l->lock);
            size_t off = 0;
            while (off < line.len) {
                ssize_t n = write(l->fd, line.ptr + off, line.len - off);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break; /* a full disk loses log lines, never requests */
                off += (size_t)n;
            }
            pthread_mutex_unlock(&l->lock);
        }
        avow_buf_free(&line);
    }
    json_decref(o);
}
