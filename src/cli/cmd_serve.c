/*
 * "avow serve": the CA and the verifier as an HTTP service, a thin shell
 * over avow/service.h. It starts the service, waits for SIGTERM or SIGINT,
 * then stops accepting, lets requests in progress finish (-drain) and
 * exits 0. docs/serve.md and avow-serve(1) describe the configuration.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avow/avow.h>
#include <avow/service.h>

#include "cli/cli.h"
#include "cli/opts.h"

#define SERVE_MAX_ANCHORS 64

static const cli_opt serve_opts[] = {
    {"config", CLI_VALUE, "FILE", "JSON configuration (docs/serve.md)"},
    {"ca", CLI_VALUE, "DIR", "CA directory made by avow ca init (overrides \"ca\")"},
    {"listen", CLI_VALUE, "HOST:PORT",
     "numeric address to bind (default 127.0.0.1:8443; port 0 picks a free one)"},
    {"plain-http", CLI_FLAG, NULL, "serve plain HTTP, no TLS (behind a TLS proxy, or tests)"},
    {"CAfile", CLI_MULTI, "FILE", "trust anchors for the attestation keys (adds to \"anchors\")"},
    {"port-file", CLI_VALUE, "FILE", "write the bound port here once listening"},
    {"drain", CLI_VALUE, "SECONDS", "on SIGTERM, wait this long for requests (default 10)"},
    {NULL, CLI_FLAG, NULL, NULL},
};

static int run_serve(const cli_args *a)
{
    avow_diag d;
    avow_diag_clear(&d);
    if (cli_count(a, "CAfile") > SERVE_MAX_ANCHORS)
        return cli_usage_error("avow serve", "at most %d -CAfile", SERVE_MAX_ANCHORS);
    unsigned long drain = 10;
    if (cli_get(a, "drain") != NULL) {
        char *end = NULL;
        const char *t = cli_get(a, "drain");
        errno = 0;
        drain = t[0] >= '0' && t[0] <= '9' ? strtoul(t, &end, 10) : 0;
        if (end == NULL || *end != '\0' || errno != 0 || drain > 3600)
            return cli_usage_error("avow serve", "-drain wants 0..3600 seconds");
    }
    const char *anchors[SERVE_MAX_ANCHORS];
    size_t nanchors = cli_count(a, "CAfile");
    for (size_t i = 0; i < nanchors; i++)
        anchors[i] = cli_get_n(a, "CAfile", i);
    avow_service_opts o;
    avow_service_opts_init(&o);
    o.config = cli_get(a, "config");
    o.ca_dir = cli_get(a, "ca");
    o.listen = cli_get(a, "listen");
    o.anchors = anchors;
    o.nanchors = nanchors;
    if (cli_flag(a, "plain-http"))
        o.flags |= AVOW_SERVICE_PLAIN_HTTP;
    if (o.config == NULL && o.ca_dir == NULL)
        return cli_usage_error("avow serve", "give -config FILE or -ca DIR");

    /* The service's threads inherit this mask, so the signals reach sigwait() below only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    avow_service *s = NULL;
    avow_err err = avow_service_new(&o, &s, &d);
    if (err == AVOW_OK)
        err = avow_service_start(s, &d);
    if (err == AVOW_OK && cli_get(a, "port-file") != NULL) {
        char port[16];
        int n = snprintf(port, sizeof(port), "%u\n", (unsigned)avow_service_port(s));
        err = avow_write_file(cli_get(a, "port-file"), (const uint8_t *)port, (size_t)n, &d);
    }
    if (err != AVOW_OK) {
        avow_service_free(s);
        return cli_report(err, &d);
    }
    fprintf(stderr, "avow serve: listening on port %u\n", (unsigned)avow_service_port(s));
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    fprintf(stderr, "avow serve: signal %d, draining\n", sig);
    unsigned left = avow_service_stop(s, (unsigned)drain * 1000u);
    if (left > 0)
        fprintf(stderr, "avow serve: %u connections closed after the drain time\n", left);
    avow_service_free(s);
    fprintf(stderr, "avow serve: stopped\n");
    return CLI_EXIT_OK;
}

static const cli_cmd serve_cmd = {
    "serve",
    "Run the CA (EST, CMP) and the verifier (challenge-response) as an HTTP service.",
    "(-config FILE | -ca DIR -CAfile ANCHORS) [-listen HOST:PORT] [-plain-http]",
    serve_opts,
    0,
    NULL,
};

int cli_group_serve(const char *prog, int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(prog, &serve_cmd, argc, argv, &a);
    if (rc == CLI_PARSE_HELP) {
        cli_help(stdout, prog, &serve_cmd);
        rc = CLI_EXIT_OK;
    } else if (rc == CLI_PARSE_USAGE) {
        rc = CLI_EXIT_USAGE;
    } else {
        rc = run_serve(&a);
    }
    cli_args_free(&a);
    return rc;
}
