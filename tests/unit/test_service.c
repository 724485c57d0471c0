/*
 * avow/service.h from C: options refused by size, configuration refusals
 * naming their member, start on a port the kernel picks, /healthz answered
 * over a real socket, a second start refused, stop and a restart.
 */
/* nftw */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include <avow/ca_dir.h>
#include <avow/service.h>

static char g_dir[] = "/tmp/avow-svc.XXXXXX";
static char g_ca[300], g_cfg[300];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_ca, sizeof(g_ca), "%s/ca", g_dir);
    snprintf(g_cfg, sizeof(g_cfg), "%s/serve.json", g_dir);
    avow_ca_dir_init_opts o;
    avow_ca_dir_init_opts_init(&o);
    avow_diag d;
    return avow_ca_dir_init(g_ca, &o, &d) == AVOW_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(g_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static avow_err new_with(const char *json, avow_service **s, avow_diag *d)
{
    write_text(g_cfg, json);
    avow_service_opts o;
    avow_service_opts_init(&o);
    o.config = g_cfg;
    return avow_service_new(&o, s, d);
}

static void config_json(char *buf, size_t cap, const char *extra)
{
    snprintf(buf, cap,
             "{\"ca\": \"%s\", \"plain_http\": true, \"anchors\": [\"%s/ca.crt\"], "
             "\"listen\": \"127.0.0.1:0\"%s}",
             g_ca, g_ca, extra);
}

static void test_opts_size(void **state)
{
    (void)state;
    avow_service_opts o;
    avow_service_opts_init(&o);
    o.size = sizeof(o) + 8;
    avow_service *s = (avow_service *)1;
    avow_diag d;
    avow_err rc = avow_service_new(&o, &s, &d);
    if (rc == AVOW_ERR_UNSUPPORTED)
        skip();
    assert_int_equal(rc, AVOW_ERR_ARG);
    assert_null(s);
    assert_string_equal(d.field, "opts.size");
}

static void test_config_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *field;
    } cases[] = {
        {", \"limitz\": {}", "config"},
        {", \"limits\": {\"threads\": 0}", "limits.threads"},
        {", \"limits\": {\"body_bytes\": \"big\"}", "limits.body_bytes"},
        {", \"store\": \"redis\"", "store"},
        {", \"store\": \"memcached://127.0.0.1\"", "store"},
        {", \"cmp\": {\"secretz\": \"pass:x\"}", "cmp"},
        {", \"cmp\": {\"implicit_confirm\": 1}", "cmp.implicit_confirm"},
        {", \"cmp\": {\"protect_key\": \"k.pem\"}", "cmp.protect_key"},
        {", \"cmp\": {\"secret\": \"s3cret\"}", "cmp.secret"},
        {", \"cmp\": {\"secret\": \"env:AVOW_TEST_NEVER_SET\"}", "cmp.secret"},
        {", \"est\": {\"auth\": \"tls\"}", "est.auth"},
        {", \"est\": {\"auth\": \"basic\"}", "est.users"},
        {", \"nonce\": {\"len\": 8}", "nonce.len"},
        {", \"tls\": {\"cert\": \"x\"}", "tls"},
        {", \"iaks\": \"iak.pem\"", "iaks"},
        {", \"result_keys\": [1]", "result_keys"},
        {", \"passport_policy\": 5", "passport_policy"},
    };
    char json[1024];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_json(json, sizeof(json), cases[i].extra);
        avow_service *s = NULL;
        avow_diag d;
        avow_err rc = new_with(json, &s, &d);
        if (rc == AVOW_ERR_UNSUPPORTED)
            skip();
        assert_int_equal(rc, AVOW_ERR_CONFIG);
        assert_null(s);
        assert_string_equal(d.field, cases[i].field);
    }
    /* listen: a name, not a number; and no TLS without plain_http */
    snprintf(json, sizeof(json),
             "{\"ca\": \"%s\", \"plain_http\": true, \"anchors\": [\"%s/ca.crt\"], "
             "\"listen\": \"localhost:80\"}",
             g_ca, g_ca);
    avow_service *s = NULL;
    avow_diag d;
    assert_int_equal(new_with(json, &s, &d), AVOW_OK);
    assert_int_equal(avow_service_start(s, &d), AVOW_ERR_CONFIG);
    avow_service_free(s);
    snprintf(json, sizeof(json), "{\"ca\": \"%s\", \"anchors\": [\"%s/ca.crt\"]}", g_ca, g_ca);
    assert_int_equal(new_with(json, &s, &d), AVOW_ERR_CONFIG);
    assert_string_equal(d.field, "tls");
    /* a certificate is not a public key: "iaks" and "result_keys" want PEM public keys */
    for (int result = 0; result <= 1; result++) {
        int n = snprintf(json, sizeof(json),
                         "{\"ca\": \"%s\", \"plain_http\": true, \"anchors\": [\"%s/ca.crt\"], "
                         "\"%s\": [\"%s/ca.crt\"]}",
                         g_ca, g_ca, result ? "result_keys" : "iaks", g_ca);
        assert_true(n > 0 && (size_t)n < sizeof(json));
        assert_int_equal(new_with(json, &s, &d), AVOW_ERR_CONFIG);
        assert_null(s);
        assert_string_equal(d.field, result ? "result_keys" : "iaks");
    }
}

/* GET /healthz over a socket; returns the status line's code. */
static int healthz(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    static const char req[] = "GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
    char buf[512];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    int code = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
        return -1;
    assert_non_null(strstr(buf, "{\"status\":\"ok\"}"));
    return code;
}

static void test_start_stop(void **state)
{
    (void)state;
    char json[1024];
    config_json(json, sizeof(json), ", \"limits\": {\"threads\": 2}");
    avow_service *s = NULL;
    avow_diag d;
    avow_err rc = new_with(json, &s, &d);
    if (rc == AVOW_ERR_UNSUPPORTED)
        skip();
    assert_int_equal(rc, AVOW_OK);
    assert_int_equal(avow_service_port(s), 0);
    assert_int_equal(avow_service_start(s, &d), AVOW_OK);
    uint16_t port = avow_service_port(s);
    assert_true(port != 0);
    assert_int_equal(avow_service_start(s, &d), AVOW_ERR_STATE);
    assert_int_equal(healthz(port), 200);
    assert_int_equal(avow_service_stop(s, 1000), 0);
    assert_int_equal(avow_service_port(s), 0);
    assert_int_equal(healthz(port), -1);
    /* stopped is not freed: it starts again */
    assert_int_equal(avow_service_start(s, &d), AVOW_OK);
    assert_int_equal(healthz(avow_service_port(s)), 200);
    avow_service_free(s);
    avow_service_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_size),
        cmocka_unit_test(test_config_refusals),
        cmocka_unit_test(test_start_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
