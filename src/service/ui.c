/*
 * /ui: a read-only status page of recent enrolments (HTML and CSS, no
 * script). Affirming enrolments come from the CA's ledger, the record of
 * what was issued; refused ones (warning, contraindicated) issue nothing,
 * so the service keeps the last SVC_RECENT_SLOTS of them in a ring in
 * memory, lost on restart (the audit log is their durable record). Every
 * value from a request or the ledger is escaped for HTML.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <avow/ledger.h>
#include <avow/request.h>

#include "core/internal.h"
#include "service/service_int.h"

#define UI_ROWS 50u /* rows of each source shown */

void svc_recent_init(svc_recent *rc)
{
    memset(rc, 0, sizeof(*rc));
    pthread_mutex_init(&rc->lock, NULL);
}

void svc_recent_free(svc_recent *rc)
{
    pthread_mutex_destroy(&rc->lock);
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The names of the EAR's reasons, ", " between them, cut to fit. */
static void reasons_of(const avow_ear *ear, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; ear != NULL && i < ear->nsubmods; i++)
        for (size_t j = 0; j < ear->submods[i].nreasons; j++) {
            const avow_ear_reason *r = &ear->submods[i].reasons[j];
            int n = snprintf(buf + len, cap - len, "%s%s %s", len > 0 ? ", " : "",
                             r->is_rule ? "rule" : "check", r->name);
            if (n < 0 || (size_t)n >= cap - len) {
                buf[len] = '\0';
                return;
            }
            len += (size_t)n;
        }
}

static avow_tier tier_of(const avow_ear *ear)
{
    if (ear == NULL)
        return AVOW_TIER_NONE;
    if (ear->has_status)
        return ear->status;
    avow_tier t = AVOW_TIER_AFFIRMING;
    for (size_t i = 0; i < ear->nsubmods; i++)
        if (avow_tier_worse(ear->submods[i].status, t))
            t = ear->submods[i].status;
    return t;
}

void svc_recent_add(svc_recent *rc, const avow_request *req, const avow_ear *ear, avow_err code)
{
    svc_recent_row row;
    memset(&row, 0, sizeof(row));
    row.when = time(NULL);
    row.tier = tier_of(ear);
    row.code = code;
    avow_buf subj = {0};
    if (req != NULL && avow_request_subject_text(req, &subj) == AVOW_OK && subj.ptr != NULL)
        avow__strlcpy(row.subject, (const char *)subj.ptr, sizeof(row.subject));
    avow_buf_free(&subj);
    avow_view spki = req != NULL ? avow_request_spki(req) : (avow_view){NULL, 0};
    uint8_t md[32];
    unsigned mdlen = 0;
    if (spki.len > 0 && EVP_Digest(spki.ptr, spki.len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
        mdlen == sizeof(md))
        hex_of(md, sizeof(md), row.spki);
    reasons_of(ear, row.reasons, sizeof(row.reasons));
    pthread_mutex_lock(&rc->lock);
    rc->rows[rc->next] = row;
    rc->next = (rc->next + 1) % SVC_RECENT_SLOTS;
    if (rc->count < SVC_RECENT_SLOTS)
        rc->count++;
    pthread_mutex_unlock(&rc->lock);
}

/* --- the page --- */

typedef struct page {
    avow_buf b;
    size_t cap;
    int bad;
} page;

static void put(page *p, const char *s, size_t n)
{
    if (p->bad)
        return;
    if (p->b.len + n + 1 > p->cap) {
        size_t cap = p->cap == 0 ? 8192 : p->cap;
        while (cap < p->b.len + n + 1)
            cap *= 2;
        uint8_t *nb = OPENSSL_realloc(p->b.ptr, cap);
        if (nb == NULL) {
            p->bad = 1;
            return;
        }
        p->b.ptr = nb;
        p->cap = cap;
    }
    memcpy(p->b.ptr + p->b.len, s, n);
    p->b.len += n;
    p->b.ptr[p->b.len] = '\0';
}

static void puts_raw(page *p, const char *s)
{
    put(p, s, strlen(s));
}

static void putf(page *p, const char *fmt, ...) AVOW_PRINTF(2, 3);
static void putf(page *p, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(p, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text as HTML character data or a quoted attribute value: & < > " ' escaped. */
static void put_text(page *p, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            puts_raw(p, "&amp;");
            break;
        case '<':
            puts_raw(p, "&lt;");
            break;
        case '>':
            puts_raw(p, "&gt;");
            break;
        case '"':
            puts_raw(p, "&quot;");
            break;
        case '\'':
            puts_raw(p, "&#39;");
            break;
        default:
            put(p, s, 1);
        }
    }
}

/* One row of the table, from either source. */
typedef struct ui_row {
    time_t when;
    char subject[256];
    char spki[65];
    avow_tier tier;
    char reasons[256];
    char serial[2 * AVOW_LEDGER_MAX_SERIAL + 1];
    avow_err code;
} ui_row;

/* The last UI_ROWS rows of the ledger, in a ring. */
typedef struct ledger_tail {
    ui_row rows[UI_ROWS];
    size_t next, count;
} ledger_tail;

static int on_issuance(void *ctx, const avow_issuance *row)
{
    ledger_tail *t = ctx;
    ui_row *u = &t->rows[t->next];
    memset(u, 0, sizeof(*u));
    u->when = row->issued;
    avow__strlcpy(u->subject, row->subject != NULL ? row->subject : "", sizeof(u->subject));
    hex_of(row->spki_sha256, sizeof(row->spki_sha256), u->spki);
    avow__strlcpy(u->serial, row->serial, sizeof(u->serial));
    u->code = AVOW_OK;
    u->tier = AVOW_TIER_AFFIRMING;
    avow_ear *ear = NULL;
    avow_diag d;
    avow_diag_clear(&d);
    /* The stored EAR says the tier (a policy may issue on warning) and its reasons. */
    if (row->ear_json != NULL &&
        avow_ear_from_json(row->ear_json, strlen(row->ear_json), &ear, &d) == AVOW_OK) {
        u->tier = tier_of(ear);
        reasons_of(ear, u->reasons, sizeof(u->reasons));
    }
    avow_ear_free(ear);
    t->next = (t->next + 1) % UI_ROWS;
    if (t->count < UI_ROWS)
        t->count++;
    return 0;
}

static const char *tier_class(avow_tier t)
{
    switch (t) {
    case AVOW_TIER_AFFIRMING:
        return "affirming";
    case AVOW_TIER_WARNING:
        return "warning";
    case AVOW_TIER_CONTRAINDICATED:
        return "contraindicated";
    case AVOW_TIER_NONE:
        break;
    }
    return "none";
}

static void put_row(page *p, const ui_row *u)
{
    char when[32] = "";
    (void)avow_time_format(u->when, when, sizeof(when));
    const char *tier = tier_class(u->tier);
    putf(p, "<tr class=\"%s\"><td class=\"time\">", tier);
    put_text(p, when);
    puts_raw(p, "</td><td class=\"subject\">");
    put_text(p, u->subject[0] != '\0' ? u->subject : "(none)");
    puts_raw(p, "</td><td class=\"key\" title=\"SHA-256 of the SubjectPublicKeyInfo: ");
    put_text(p, u->spki);
    puts_raw(p, "\"><code>");
    char shortkey[20];
    avow__strlcpy(shortkey, u->spki, sizeof(shortkey));
    put_text(p, shortkey);
    puts_raw(p, u->spki[0] != '\0' ? "&hellip;</code>" : "</code>");
    putf(p, "</td><td class=\"tier\"><span class=\"badge\">%s</span></td><td class=\"rules\">",
         tier);
    put_text(p, u->reasons[0] != '\0' ? u->reasons : "-");
    puts_raw(p, "</td><td class=\"serial\"><code>");
    put_text(p, u->serial[0] != '\0' ? u->serial : "-");
    puts_raw(p, "</code></td><td class=\"code\">");
    const char *name = avow_errname(u->code);
    put_text(p, name != NULL ? name : "?");
    puts_raw(p, "</td></tr>\n");
}

static const char css[] =
    "body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#222;background:#fafafa}"
    "h1{font-size:1.4em}p.meta{color:#555}"
    "table{border-collapse:collapse;width:100%;font-size:.9em;background:#fff}"
    "th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}"
    "th{background:#eee}td.time{white-space:nowrap}code{font-family:'DejaVu Sans Mono',monospace}"
    ".badge{padding:.1em .5em;border-radius:.6em;color:#fff;font-weight:bold}"
    "tr.affirming .badge{background:#2e7d32}tr.warning .badge{background:#ef6c00}"
    "tr.contraindicated .badge{background:#c62828}tr.none .badge{background:#757575}"
    "tr.contraindicated{background:#fdecea}tr.warning{background:#fff4e5}";

/* Newest first: the two sources merged by time, refused rows first on a tie. */
static void put_rows(page *p, const ui_row *a, size_t na, const ui_row *r, size_t nr)
{
    size_t i = na, j = nr;
    while (i > 0 || j > 0) {
        if (j > 0 && (i == 0 || r[j - 1].when >= a[i - 1].when))
            put_row(p, &r[--j]);
        else
            put_row(p, &a[--i]);
    }
}

void svc_ops_ui(svc_req *r, svc_resp *out)
{
    avow_service *s = r->s;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        svc_problem(out, 405, "urn:avow:problem:method", "Method not allowed",
                    AVOW_ERR_CONTENT_TYPE, NULL);
        out->allow = "GET, HEAD";
        return;
    }
    /* Large rows: on the heap, not the request thread's stack. */
    ledger_tail *lt = OPENSSL_zalloc(sizeof(*lt));
    ui_row *refused = OPENSSL_zalloc(sizeof(ui_row) * SVC_RECENT_SLOTS);
    ui_row *issued = OPENSSL_zalloc(sizeof(ui_row) * UI_ROWS);
    if (lt == NULL || refused == NULL || issued == NULL) {
        OPENSSL_free(lt);
        OPENSSL_free(refused);
        OPENSSL_free(issued);
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
        return;
    }
    avow_diag d;
    avow_diag_clear(&d);
    avow_err err = avow_ca_dir_list(s->cd, on_issuance, lt, &d);
    if (err != AVOW_OK)
        svc_metrics_store_error(&s->m, err);
    /* Both sources oldest first. */
    size_t na = lt->count;
    for (size_t i = 0; i < na; i++)
        issued[i] = lt->rows[(lt->next + UI_ROWS - na + i) % UI_ROWS];
    pthread_mutex_lock(&s->recent.lock);
    size_t nr = s->recent.count;
    for (size_t i = 0; i < nr; i++) {
        const svc_recent_row *x =
            &s->recent.rows[(s->recent.next + SVC_RECENT_SLOTS - nr + i) % SVC_RECENT_SLOTS];
        ui_row *u = &refused[i];
        u->when = x->when;
        memcpy(u->subject, x->subject, sizeof(u->subject));
        memcpy(u->spki, x->spki, sizeof(u->spki));
        memcpy(u->reasons, x->reasons, sizeof(u->reasons));
        u->tier = x->tier;
        u->code = x->code;
    }
    pthread_mutex_unlock(&s->recent.lock);

    page p = {{NULL, 0}, 0, 0};
    puts_raw(&p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src 'unsafe-inline'\"><title>avow serve: recent enrolments</title><style>");
    puts_raw(&p, css);
    puts_raw(&p, "</style></head><body>\n<h1>avow serve: recent enrolments</h1>\n");
    char now[32] = "";
    (void)avow_time_format(time(NULL), now, sizeof(now));
    putf(&p,
         "<p class=\"meta\">As of %s: issued %zu (the newest of the CA ledger, at most %u), "
         "refused %zu (since this process started, at most %u).",
         now, na, UI_ROWS, nr, SVC_RECENT_SLOTS);
    if (err != AVOW_OK) {
        puts_raw(&p, " <strong>The ledger could not be read: ");
        put_text(&p, d.detail);
        puts_raw(&p, "</strong>");
    }
    puts_raw(&p, "</p>\n<table id=\"enrolments\"><thead><tr><th>Time (UTC)</th><th>Subject</th>"
                 "<th>Key (SPKI SHA-256)</th><th>Tier</th><th>Failed rules and checks</th>"
                 "<th>Serial</th><th>Outcome</th></tr></thead>\n<tbody>\n");
    put_rows(&p, issued, na, refused, nr);
    if (na + nr == 0)
        puts_raw(&p, "<tr><td colspan=\"7\">No enrolments yet.</td></tr>\n");
    puts_raw(&p, "</tbody></table>\n</body></html>\n");
    OPENSSL_free(lt);
    OPENSSL_free(refused);
    OPENSSL_free(issued);
    if (p.bad) {
        OPENSSL_free(p.b.ptr);
        svc_problem_err(out, AVOW_ERR_NOMEM, NULL);
        return;
    }
    out->body = p.b;
    out->status = 200;
    out->ctype = "text/html; charset=utf-8";
    out->code = AVOW_OK;
}
