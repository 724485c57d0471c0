/*
 * Test-only tooling for tests/cli/cmp_openssl.sh: the CMP server of
 * avow/cmp_server.h behind a minimal HTTP front (libmicrohttpd) on
 * 127.0.0.1, so the real `openssl cmp` client can enrol through it before
 * `avow serve` exists. Not the service: one route, no limits beyond the
 * message size, no TLS.
 *
 *   cmp_tool serve -dir CA -CAfile ANCHORS [-secret TEXT] [-unprotected] -port-file FILE
 *       serves POST /pkix/ until SIGTERM; writes the bound port to FILE
 *   cmp_tool bundle-hex CSR
 *       prints the hex DER AttestationBundle of an attested PKCS#10 request
 *       (for `openssl cmp -reqexts`, which puts it in the CRMF extension)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <avow/avow.h>

typedef struct upload {
    uint8_t *p;
    size_t n;
    int too_big;
} upload;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body,
                             size_t len, const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    avow_cmp_server *srv = cls;
    (void)version;
    upload *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (u->n + *data_size > AVOW_CMP_MAX_MESSAGE) {
            u->too_big = 1;
        } else {
            uint8_t *p = realloc(u->p, u->n + *data_size);
            if (p == NULL)
                return MHD_NO;
            memcpy(p + u->n, data, *data_size);
            u->p = p;
            u->n += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0 || strncmp(url, "/pkix", 5) != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "not found\n", 10, "text/plain");
    if (u->too_big)
        return reply(c, 413, "too large\n", 10, "text/plain");
    avow_buf out = {0};
    avow_cmp_result res = {.size = sizeof(res)};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err e = avow_cmp_server_handle_ex(srv, u->p, u->n, &out, &res, &d);
    fprintf(stderr, "cmp_tool: body %d -> %d: %s %s\n", res.req_type, res.rsp_type,
            avow_errname(res.outcome) != NULL ? avow_errname(res.outcome) : "?", res.reason);
    enum MHD_Result ok;
    if (e != AVOW_OK) {
        char msg[400];
        int n = snprintf(msg, sizeof(msg), "%s: %s: %s\n", avow_errname(e), d.field, d.detail);
        ok = reply(c, MHD_HTTP_BAD_REQUEST, msg, n > 0 ? (size_t)n : 0, "text/plain");
    } else {
        ok = reply(c, MHD_HTTP_OK, out.ptr, out.len, "application/pkixcmp");
    }
    avow_buf_free(&out);
    return ok;
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls,
                 enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    upload *u = *con_cls;
    if (u != NULL) {
        free(u->p);
        free(u);
    }
    *con_cls = NULL;
}

static const char *arg(int argc, char **argv, const char *name)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static int load_anchors(avow_verifier *v, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int n = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (avow_verifier_add_anchor(v, x, NULL) == AVOW_OK)
            n++;
        X509_free(x);
    }
    fclose(f);
    return n;
}

static int serve(int argc, char **argv)
{
    const char *dir = arg(argc, argv, "-dir"), *anchors = arg(argc, argv, "-CAfile");
    const char *secret = arg(argc, argv, "-secret"), *port_file = arg(argc, argv, "-port-file");
    if (dir == NULL || anchors == NULL || port_file == NULL) {
        fprintf(stderr, "usage: cmp_tool serve -dir CA -CAfile PEM [-secret TEXT] "
                        "[-unprotected] -port-file FILE\n");
        return 2;
    }
    avow_diag d;
    avow_diag_clear(&d);
    avow_ca_dir *cd = NULL;
    avow_ca_dir_open_opts oo;
    avow_ca_dir_open_opts_init(&oo);
    avow_verifier *v = NULL;
    avow_cmp_server *srv = NULL;
    if (avow_ca_dir_open(dir, &oo, &cd, &d) != AVOW_OK || avow_verifier_new(NULL, &v) != AVOW_OK ||
        load_anchors(v, anchors) == 0) {
        fprintf(stderr, "cmp_tool: set-up: %s %s\n", d.field, d.detail);
        return 1;
    }
    avow_cmp_server_opts o;
    avow_cmp_server_opts_init(&o);
    if (secret != NULL) {
        o.secret = (const uint8_t *)secret;
        o.secret_len = strlen(secret);
    }
    if (flag(argc, argv, "-unprotected"))
        o.flags |= AVOW_CMP_ACCEPT_UNPROTECTED;
    avow_err e = avow_cmp_server_new(cd, v, &o, &srv, &d);
    if (e != AVOW_OK) {
        fprintf(stderr, "cmp_tool: server: %s %s %s\n", avow_errname(e), d.field, d.detail);
        return 1;
    }
    /* SIGTERM is taken by sigwait below; the daemon's threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handler, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
    if (mhd == NULL) {
        fprintf(stderr, "cmp_tool: cannot listen on 127.0.0.1\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
    FILE *pf = fopen(port_file, "w");
    if (info == NULL || pf == NULL || fprintf(pf, "%u\n", (unsigned)info->port) < 0 ||
        fclose(pf) != 0) {
        fprintf(stderr, "cmp_tool: cannot write %s\n", port_file);
        MHD_stop_daemon(mhd);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(mhd);
    avow_cmp_server_free(srv);
    avow_verifier_free(v);
    avow_ca_dir_free(cd);
    return 0;
}

static int bundle_hex(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cmp_tool bundle-hex CSR\n");
        return 2;
    }
    avow_buf raw = {0};
    avow_request *r = NULL;
    if (avow_read_file(argv[2], AVOW_REQUEST_MAX_SIZE * 2, &raw, NULL) != AVOW_OK ||
        avow_request_decode(raw.ptr, raw.len, AVOW_REQUEST_PKCS10, 0, &r, NULL) != AVOW_OK) {
        fprintf(stderr, "cmp_tool: %s is no attested PKCS#10 request\n", argv[2]);
        return 1;
    }
    avow_buf_free(&raw);
    X509_REQ *req = avow_request_get0_x509_req(r);
    ASN1_OBJECT *oid = OBJ_txt2obj(AVOW_OID_ATTESTATION, 1);
    int i = X509_REQ_get_attr_by_OBJ(req, oid, -1);
    ASN1_OBJECT_free(oid);
    ASN1_TYPE *v = i >= 0 ? X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(req, i), 0) : NULL;
    if (v == NULL || ASN1_TYPE_get(v) != V_ASN1_SEQUENCE) {
        fprintf(stderr, "cmp_tool: no attestation attribute\n");
        return 1;
    }
    const unsigned char *p = ASN1_STRING_get0_data(v->value.sequence);
    for (int k = 0; k < ASN1_STRING_length(v->value.sequence); k++)
        printf("%02X", p[k]);
    printf("\n");
    avow_request_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "bundle-hex") == 0)
        return bundle_hex(argc, argv);
    fprintf(stderr, "usage: cmp_tool serve ... | bundle-hex CSR\n");
    return 2;
}
