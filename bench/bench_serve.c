/*
 * avow serve under load: EST enrolments per second over HTTP on loopback,
 * as a ratio of the same library calls made in-process, in the same run.
 *
 * One enrolment is what a client of the service does: a fresh nonce
 * (POST /.well-known/est/nonce, with its cookie), then simpleenroll of an
 * attested PKCS#10 (P-256 key, PKIX Evidence signed by a P-256 AK chaining
 * root -> intermediate -> AK) carrying that nonce. The in-process limit makes
 * the calls est.c makes for the same work on the same service object (its
 * CA directory, verifier, policy and signer lock): avow_ca_dir_nonce, then
 * avow_request_decode + avow_ca_dir_issue. What the ratio charges to HTTP is
 * libmicrohttpd, the JSON of the nonce, base64, the cookie's MAC, the
 * certs-only CMS, the logs and metrics, and the loopback round trips.
 *
 * Building the Evidence and the CSR for a nonce is the client's work, not
 * the service's: both sides fetch a batch of nonces (timed), build the
 * requests (not timed), then enrol them (timed). The client is one thread
 * over one keep-alive connection, raw sockets, HTTP/1.1: simpleenroll is
 * serialised by the CA's signer lock anyway. Wall time (the server runs on
 * other threads); batches alternate, and the best rate of each side gives
 * the ratio, with the median of the per-round ratios beside it. p50 and p99
 * are of the simpleenroll and nonce round trips over HTTP.
 *
 * Usage: bench_serve [enrolments-per-batch] [rounds]   (default 100, 9)
 */
#define _GNU_SOURCE /* memmem, nftw */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <avow/avow.h>
#include <avow/ca_dir.h>
#include <avow/service.h>

#include "service/service_int.h"
#include "bench_pki.h"

static void die(const char *what, avow_err rc, const avow_diag *d)
{
    fprintf(stderr, "bench_serve: %s: %s%s%s\n", what, rc == AVOW_OK ? "failed" : avow_strerror(rc),
            d != NULL && d->detail[0] ? ": " : "", d != NULL ? d->detail : "");
    exit(2);
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the attester's side: keys, chain, Evidence and CSR for a nonce --- */

typedef struct client {
    EVP_PKEY *ak_key, *csr_key;
    X509 *ak, *inter;
    avow_signer *ak_signer, *csr_signer;
} client;

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
                       long serial)
{
    X509 *x = bench_make_cert(cn, key, issuer, ikey, ca, serial);
    if (x == NULL)
        die(cn, AVOW_ERR_CRYPTO, NULL);
    return x;
}

/* Makes the chain, writes the root to root_pem for the service's anchors. */
static void client_setup(client *c, const char *root_pem)
{
    EVP_PKEY *root_key = EVP_EC_gen("P-256"), *int_key = EVP_EC_gen("P-256");
    c->ak_key = EVP_EC_gen("P-256");
    c->csr_key = EVP_EC_gen("P-256");
    if (root_key == NULL || int_key == NULL || c->ak_key == NULL || c->csr_key == NULL)
        die("keygen", AVOW_ERR_CRYPTO, NULL);
    X509 *root = make_cert("Bench Root", root_key, NULL, NULL, 1, 1);
    c->inter = make_cert("Bench Intermediate", int_key, root, root_key, 1, 2);
    c->ak = make_cert("Bench AK", c->ak_key, c->inter, int_key, 0, 3);
    FILE *f = fopen(root_pem, "w");
    if (f == NULL || PEM_write_X509(f, root) != 1 || fclose(f) != 0)
        die(root_pem, AVOW_ERR_IO, NULL);
    avow_err rc;
    if ((rc = avow_signer_new_pkey(c->ak_key, AVOW_SIGALG_ECDSA_SHA256, &c->ak_signer, NULL)) ||
        (rc = avow_signer_set1_cert(c->ak_signer, c->ak, NULL)) ||
        (rc = avow_signer_new_pkey(c->csr_key, AVOW_SIGALG_ECDSA_SHA256, &c->csr_signer, NULL)))
        die("signers", rc, NULL);
    X509_free(root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
}

static void client_free(client *c)
{
    avow_signer_free(c->ak_signer);
    avow_signer_free(c->csr_signer);
    X509_free(c->ak);
    X509_free(c->inter);
    EVP_PKEY_free(c->ak_key);
    EVP_PKEY_free(c->csr_key);
}

/* The attested CSR (DER) for nonce. */
static void make_request(const client *c, const uint8_t *nonce, size_t nlen, avow_buf *der)
{
    avow_err rc;
    avow_evidence *ev = NULL;
    size_t t = 0, p = 0, k = 0;
    avow_buf evder = {0};
    unsigned char *spki = NULL;
    int spki_len = i2d_PUBKEY(c->csr_key, &spki);
    if (spki_len <= 0)
        die("spki", AVOW_ERR_CRYPTO, NULL);
    if ((rc = avow_evidence_new(NULL, &ev)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_TRANSACTION, &t, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_PLATFORM, &p, NULL)) ||
        (rc = avow_evidence_add_element(ev, AVOW_ELEMENT_KEY, &k, NULL)) ||
        (rc = avow_evidence_add_bytes(ev, t, AVOW_CLAIM_NONCE, nonce, nlen, NULL)) ||
        (rc = avow_evidence_add_utf8(ev, p, AVOW_CLAIM_VENDOR, "Acme Corp", NULL)) ||
        (rc = avow_evidence_add_int(ev, p, AVOW_CLAIM_FIPSLEVEL, 3, NULL)) ||
        (rc = avow_evidence_add_utf8(ev, k, AVOW_CLAIM_KEY_IDENTIFIER, "csr-key", NULL)) ||
        (rc = avow_evidence_add_bytes(ev, k, AVOW_CLAIM_KEY_SPKI, spki, (size_t)spki_len, NULL)) ||
        (rc = avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_EXTRACTABLE, 0, NULL)) ||
        (rc = avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_NEVER_EXTRACTABLE, 1, NULL)) ||
        (rc = avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_SENSITIVE, 1, NULL)) ||
        (rc = avow_evidence_add_bool(ev, k, AVOW_CLAIM_KEY_LOCAL, 1, NULL)) ||
        (rc = avow_evidence_sign(ev, c->ak_signer, AVOW_SID_CERT, NULL)) ||
        (rc = avow_evidence_encode(ev, &evder)))
        die("evidence", rc, NULL);
    OPENSSL_free(spki);
    avow_request_builder *rb = NULL;
    if ((rc = avow_request_builder_new(AVOW_REQUEST_PKCS10, &rb)) ||
        (rc = avow_request_builder_set_subject(rb, "CN=bench device,O=avow bench", NULL)) ||
        (rc = avow_request_builder_add_evidence(rb, NULL, evder.ptr, evder.len, NULL)) ||
        (rc = avow_request_builder_add_cert(rb, c->inter, NULL)) ||
        (rc = avow_request_builder_sign(rb, c->csr_signer, der, NULL)))
        die("request", rc, NULL);
    avow_request_builder_free(rb);
    avow_buf_free(&evder);
    avow_evidence_free(ev);
}

/* --- in-process: the calls of est.c on the service's own objects --- */

static void inproc_nonce(avow_service *s, avow_buf *nonce)
{
    avow_diag d;
    avow_diag_clear(&d);
    time_t exp = 0;
    avow_err rc = avow_ca_dir_nonce(s->cd, s->cfg.nonce_len, s->cfg.nonce_ttl, 0, nonce, &exp, &d);
    if (rc != AVOW_OK)
        die("avow_ca_dir_nonce", rc, &d);
}

static void inproc_enroll(avow_service *s, const avow_buf *der, const avow_buf *nonce)
{
    avow_diag d;
    avow_diag_clear(&d);
    avow_request *req = NULL;
    avow_err rc = avow_request_decode(der->ptr, der->len, AVOW_REQUEST_PKCS10, 0, &req, &d);
    if (rc != AVOW_OK)
        die("avow_request_decode", rc, &d);
    avow_ca_dir_issue_opts io;
    avow_ca_dir_issue_opts_init(&io);
    io.nonce = nonce->ptr; /* what the cookie gives est.c */
    io.nonce_len = nonce->len;
    io.policy = s->policy;
    io.issue.eku = s->cfg.cert_eku;
    avow_appraisal *ap = NULL;
    X509 *cert = NULL;
    pthread_mutex_lock(&s->sign_lock);
    rc = avow_ca_dir_issue(s->cd, s->v, req, &io, &ap, &cert, &d);
    pthread_mutex_unlock(&s->sign_lock);
    if (rc != AVOW_OK || cert == NULL) {
        const avow_ear *ear = ap != NULL ? avow_appraisal_get0_ear(ap) : NULL;
        for (size_t i = 0; ear != NULL && i < ear->nsubmods; i++)
            for (size_t j = 0; j < ear->submods[i].nreasons; j++)
                fprintf(stderr, "bench_serve: reason %s: %s\n", ear->submods[i].reasons[j].name,
                        ear->submods[i].reasons[j].detail);
        die("avow_ca_dir_issue", rc, &d);
    }
    X509_free(cert);
    avow_appraisal_free(ap);
    avow_request_free(req);
}

/* --- over HTTP: one keep-alive connection, raw sockets --- */

typedef struct conn {
    int fd;
    uint16_t port;
    char buf[64 * 1024];
    size_t have; /* bytes of buf not consumed */
} conn;

static void conn_open(conn *c)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(c->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        die("connect", AVOW_ERR_IO, NULL);
    c->have = 0;
}

static void send_all(conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            die("send", AVOW_ERR_IO, NULL);
        }
        p += w;
        n -= (size_t)w;
    }
}

static void fill(conn *c)
{
    if (c->have == sizeof(c->buf))
        die("response too large", AVOW_ERR_TOO_LARGE, NULL);
    ssize_t r = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
    if (r <= 0)
        die("recv (connection closed)", AVOW_ERR_IO, NULL);
    c->have += (size_t)r;
}

/* Case-insensitive search for a header line's value in the head [p, p+n). */
static const char *header(const char *head, size_t n, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *l = head; l < head + n;) {
        const char *e = memchr(l, '\n', (size_t)(head + n - l));
        if (e == NULL)
            break;
        if ((size_t)(e - l) > nl + 1 && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            *vlen = (size_t)(e - v);
            if (*vlen > 0 && v[*vlen - 1] == '\r')
                (*vlen)--;
            return v;
        }
        l = e + 1;
    }
    return NULL;
}

/*
 * One request and its response; the status is returned, the body copied to
 * body (NUL-terminated, at most cap - 1 bytes), the nonce cookie to cookie.
 */
static unsigned roundtrip(conn *c, const char *path, const char *ctype, const char *cookie,
                          const char *body, size_t blen, char *out, size_t cap, char *setcookie,
                          size_t sccap)
{
    char head[512];
    int hl = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n%s%s%s\r\n",
                      path, (unsigned)c->port, ctype, blen, cookie != NULL ? "Cookie: " : "",
                      cookie != NULL ? cookie : "", cookie != NULL ? "\r\n" : "");
    if (hl <= 0 || (size_t)hl >= sizeof(head))
        die("request head", AVOW_ERR_ARG, NULL);
    send_all(c, head, (size_t)hl);
    send_all(c, body, blen);
    char *end;
    while ((end = memmem(c->buf, c->have, "\r\n\r\n", 4)) == NULL)
        fill(c);
    size_t hlen = (size_t)(end - c->buf) + 4;
    unsigned status = 0;
    if (sscanf(c->buf, "HTTP/1.1 %u", &status) != 1)
        die("status line", AVOW_ERR_MALFORMED, NULL);
    size_t vl = 0;
    const char *cl = header(c->buf, hlen, "Content-Length", &vl);
    if (cl == NULL)
        die("no Content-Length", AVOW_ERR_MALFORMED, NULL);
    size_t len = strtoul(cl, NULL, 10);
    if (setcookie != NULL) {
        const char *sc = header(c->buf, hlen, "Set-Cookie", &vl);
        size_t n = sc != NULL ? strcspn(sc, ";") : 0;
        if (n >= sccap)
            die("cookie", AVOW_ERR_TOO_LARGE, NULL);
        memcpy(setcookie, sc != NULL ? sc : "", n);
        setcookie[n] = '\0';
    }
    while (c->have < hlen + len)
        fill(c);
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(out, c->buf + hlen, n);
    out[n] = '\0';
    memmove(c->buf, c->buf + hlen + len, c->have - hlen - len);
    c->have -= hlen + len;
    return status;
}

static void http_nonce(conn *c, avow_buf *nonce, char *cookie, size_t cap)
{
    static const char req[] = "{\"len\": 32}";
    char body[1024];
    unsigned st =
        roundtrip(c, "/.well-known/est/nonce", "application/est-attestation-freshness+json", NULL,
                  req, sizeof(req) - 1, body, sizeof(body), cookie, cap);
    json_error_t je;
    json_t *o = st == 200 ? json_loads(body, 0, &je) : NULL;
    const char *n = json_string_value(json_object_get(o, "nonce"));
    avow_diag d;
    avow_diag_clear(&d);
    if (n == NULL || avow_b64url_decode(n, strlen(n), nonce, &d) != AVOW_OK || cookie[0] == '\0') {
        fprintf(stderr, "HTTP %u: %s\n", st, body);
        die("nonce over HTTP", AVOW_ERR_MALFORMED, &d);
    }
    json_decref(o);
}

static void http_enroll(conn *c, const char *b64, const char *cookie)
{
    char body[8192];
    unsigned st = roundtrip(c, "/.well-known/est/simpleenroll", "application/pkcs10", cookie, b64,
                            strlen(b64), body, sizeof(body), NULL, 0);
    if (st != 200) {
        fprintf(stderr, "HTTP %u: %s\n", st, body);
        die("simpleenroll over HTTP", AVOW_ERR_NOT_AFFIRMING, NULL);
    }
}

/* --- the runs --- */

typedef struct batch {
    size_t n;
    avow_buf *nonces, *ders;
    char **b64, **cookies;
} batch;

static char *base64_of(const avow_buf *der)
{
    char *out = malloc(4 * ((der->len + 2) / 3) + 1);
    if (out == NULL || EVP_EncodeBlock((unsigned char *)out, der->ptr, (int)der->len) <= 0)
        die("base64", AVOW_ERR_NOMEM, NULL);
    return out;
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        avow_buf_free(&b->nonces[i]);
        avow_buf_free(&b->ders[i]);
        free(b->b64[i]);
        free(b->cookies[i]);
    }
    memset(b->nonces, 0, b->n * sizeof(*b->nonces));
    memset(b->ders, 0, b->n * sizeof(*b->ders));
    memset(b->b64, 0, b->n * sizeof(*b->b64));
    memset(b->cookies, 0, b->n * sizeof(*b->cookies));
}

/* Enrolments per second in-process (wall time of nonces + enrolments). */
static double run_inproc(avow_service *s, const client *cl, batch *b)
{
    double t0 = now_wall();
    for (size_t i = 0; i < b->n; i++)
        inproc_nonce(s, &b->nonces[i]);
    double t = now_wall() - t0;
    for (size_t i = 0; i < b->n; i++)
        make_request(cl, b->nonces[i].ptr, b->nonces[i].len, &b->ders[i]);
    t0 = now_wall();
    for (size_t i = 0; i < b->n; i++)
        inproc_enroll(s, &b->ders[i], &b->nonces[i]);
    t += now_wall() - t0;
    batch_free(b);
    return (double)b->n / t;
}

static double run_http(conn *c, const client *cl, batch *b, double *lat_nonce, double *lat_enroll)
{
    double t = 0;
    for (size_t i = 0; i < b->n; i++) {
        char cookie[300];
        double t0 = now_wall();
        http_nonce(c, &b->nonces[i], cookie, sizeof(cookie));
        lat_nonce[i] = now_wall() - t0;
        t += lat_nonce[i];
        if ((b->cookies[i] = strdup(cookie)) == NULL)
            die("cookie", AVOW_ERR_NOMEM, NULL);
    }
    for (size_t i = 0; i < b->n; i++) {
        make_request(cl, b->nonces[i].ptr, b->nonces[i].len, &b->ders[i]);
        b->b64[i] = base64_of(&b->ders[i]);
    }
    for (size_t i = 0; i < b->n; i++) {
        double t0 = now_wall();
        http_enroll(c, b->b64[i], b->cookies[i]);
        lat_enroll[i] = now_wall() - t0;
        t += lat_enroll[i];
    }
    batch_free(b);
    return (double)b->n / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    long per = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 9;
    if (per <= 0 || per > 100000 || rounds <= 0 || rounds > 1000) {
        fprintf(stderr, "usage: bench_serve [enrolments-per-batch] [rounds]\n");
        return 2;
    }
    char dir[] = "/tmp/avow-bench-serve.XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", AVOW_ERR_IO, NULL);
    char root_pem[256], ca[256], cfg[256];
    snprintf(root_pem, sizeof(root_pem), "%s/root.pem", dir);
    snprintf(ca, sizeof(ca), "%s/ca", dir);
    snprintf(cfg, sizeof(cfg), "%s/serve.json", dir);
    client cl;
    memset(&cl, 0, sizeof(cl));
    client_setup(&cl, root_pem);

    avow_diag d;
    avow_diag_clear(&d);
    avow_ca_dir_init_opts io;
    avow_ca_dir_init_opts_init(&io);
    io.subject = "CN=avow bench CA";
    io.max_nonces = 1000000;
    avow_err rc = avow_ca_dir_init(ca, &io, &d);
    if (rc != AVOW_OK)
        die("avow_ca_dir_init", rc, &d);
    /* The defaults of `avow serve` but for the address: the logs off, SQLite, the cookie on. */
    FILE *f = fopen(cfg, "w");
    if (f == NULL ||
        fprintf(f, "{\"ca\": \"%s\", \"plain_http\": true, \"anchors\": [\"%s\"]}\n", ca,
                root_pem) < 0 ||
        fclose(f) != 0)
        die(cfg, AVOW_ERR_IO, NULL);
    avow_service_opts so;
    avow_service_opts_init(&so);
    so.config = cfg;
    so.listen = "127.0.0.1:0";
    avow_service *s = NULL;
    if ((rc = avow_service_new(&so, &s, &d)) != AVOW_OK ||
        (rc = avow_service_start(s, &d)) != AVOW_OK)
        die("avow serve", rc, &d);

    conn *c = calloc(1, sizeof(*c));
    batch b = {(size_t)per, calloc((size_t)per, sizeof(avow_buf)),
               calloc((size_t)per, sizeof(avow_buf)), calloc((size_t)per, sizeof(char *)),
               calloc((size_t)per, sizeof(char *))};
    size_t nlat = (size_t)per * (size_t)rounds;
    double *lat_n = calloc(nlat, sizeof(double)), *lat_e = calloc(nlat, sizeof(double));
    double *ratios = calloc((size_t)rounds, sizeof(double));
    if (c == NULL || b.nonces == NULL || b.ders == NULL || b.b64 == NULL || b.cookies == NULL ||
        lat_n == NULL || lat_e == NULL || ratios == NULL)
        die("memory", AVOW_ERR_NOMEM, NULL);
    c->port = avow_service_port(s);
    conn_open(c);

    /* A warm-up enrolment each way (SQLite's page cache, the server's first request). */
    batch w = b;
    w.n = 1;
    (void)run_inproc(s, &cl, &w);
    (void)run_http(c, &cl, &w, lat_n, lat_e);

    double best_in = 0, best_http = 0;
    for (int r = 0; r < rounds; r++) {
        double in = run_inproc(s, &cl, &b);
        double ht =
            run_http(c, &cl, &b, lat_n + (size_t)r * (size_t)per, lat_e + (size_t)r * (size_t)per);
        ratios[r] = ht / in;
        if (in > best_in)
            best_in = in;
        if (ht > best_http)
            best_http = ht;
    }
    qsort(ratios, (size_t)rounds, sizeof(double), cmp_double);
    qsort(lat_n, nlat, sizeof(double), cmp_double);
    qsort(lat_e, nlat, sizeof(double), cmp_double);
    double median =
        rounds % 2 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
    double ratio = best_http / best_in;
    printf(
        "EST enrolment (nonce + attested P-256 CSR, PKIX Evidence, SQLite ledger, P-256 CA key), "
        "%ld per batch, %d rounds, %u server threads, one keep-alive client connection\n",
        per, rounds, s->cfg.threads);
    printf("  limit: in-process avow_ca_dir_nonce + avow_request_decode + avow_ca_dir_issue:\n"
           "                     %10.1f enrolments/s (best batch)\n",
           best_in);
    printf("  over HTTP (POST nonce + POST simpleenroll):\n"
           "                     %10.1f enrolments/s (best batch)\n",
           best_http);
    printf("  ratio:             %10.3f (median of the %d per-round ratios %.3f, min %.3f, max "
           "%.3f); target >= 0.70: %s\n",
           ratio, rounds, median, ratios[0], ratios[rounds - 1], ratio >= 0.7 ? "MET" : "NOT MET");
    printf("  latency simpleenroll: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu requests)\n",
           pct(lat_e, nlat, 0.5) * 1e3, pct(lat_e, nlat, 0.99) * 1e3, lat_e[nlat - 1] * 1e3, nlat);
    printf("  latency nonce:        p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu requests)\n",
           pct(lat_n, nlat, 0.5) * 1e3, pct(lat_n, nlat, 0.99) * 1e3, lat_n[nlat - 1] * 1e3, nlat);

    close(c->fd);
    avow_service_stop(s, 1000);
    avow_service_free(s);
    client_free(&cl);
    free(b.nonces);
    free(b.ders);
    free(b.b64);
    free(b.cookies);
    free(lat_n);
    free(lat_e);
    free(ratios);
    free(c);
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bench_serve: could not remove %s\n", dir);
    return ratio >= 0.7 ? 0 : 1;
}
