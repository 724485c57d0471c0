/*
 * libFuzzer target for avow_cmp_server_handle: a hostile PKIMessage, as the
 * service's POST /pkix/ hands it over, into a CMP server under a fixed
 * set-up: a CA directory made once per process in a temporary folder, the
 * fuzz CA as attestation trust anchor (setup.h), the PBM secret of the
 * seeds, unprotected requests accepted so every body reaches its callback.
 * Whatever comes back must be AVOW_OK with a DER PKIMessage that OpenSSL
 * reads and encodes to the same bytes, or a refusal with no response; the
 * OpenSSL error queue stays empty. The seeds' Evidence carries a nonce the
 * CA's store never issued, so a request runs through decoding, POP,
 * verification and policy and is refused for freshness: no certificate is
 * issued here, so certConf meets no open transaction (tests/unit/
 * test_cmp_server.c covers that path).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cmp.h>
#include <openssl/err.h>

#include <avow/cmp_server.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char tmp[64];
static avow_ca_dir *cd;
static avow_cmp_server *srv;

static void cleanup(void)
{
    avow_cmp_server_free(srv);
    avow_ca_dir_free(cd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_cmp_server: cannot remove %s\n", tmp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const fz_setup *s = fz_get();
    snprintf(tmp, sizeof(tmp), "/tmp/avow_fuzz_cmp_XXXXXX");
    FZ_CHECK(mkdtemp(tmp) != NULL);
    char dir[96];
    snprintf(dir, sizeof(dir), "%s/ca", tmp);
    avow_ca_dir_init_opts io;
    avow_ca_dir_init_opts_init(&io);
    FZ_CHECK(avow_ca_dir_init(dir, &io, NULL) == AVOW_OK);
    avow_ca_dir_open_opts oo;
    avow_ca_dir_open_opts_init(&oo);
    FZ_CHECK(avow_ca_dir_open(dir, &oo, &cd, NULL) == AVOW_OK);
    avow_cmp_server_opts o;
    avow_cmp_server_opts_init(&o);
    o.flags = AVOW_CMP_ACCEPT_UNPROTECTED;
    o.secret = (const uint8_t *)FZ_CMP_SECRET;
    o.secret_len = strlen(FZ_CMP_SECRET);
    o.max_transactions = 8;
    FZ_CHECK(avow_cmp_server_new(cd, s->v_anchor, &o, &srv, NULL) == AVOW_OK);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    avow_buf out = {0};
    avow_cmp_result res = {.size = sizeof(res)};
    avow_diag d;
    avow_diag_clear(&d);
    avow_err rc = avow_cmp_server_handle_ex(srv, data, size, &out, &res, &d);
    FZ_CHECK(ERR_peek_error() == 0);
    FZ_CHECK(memchr(res.reason, '\0', sizeof(res.reason)) != NULL);
    FZ_CHECK(memchr(res.serial, '\0', sizeof(res.serial)) != NULL);
    if (rc != AVOW_OK) {
        FZ_CHECK(out.ptr == NULL && out.len == 0);
        FZ_CHECK(d.code == rc);
        return 0;
    }
    FZ_CHECK(out.ptr != NULL && out.len > 0);
    FZ_CHECK(res.req_type >= 0 && res.rsp_type >= 0);
    const unsigned char *p = out.ptr;
    OSSL_CMP_MSG *rsp = d2i_OSSL_CMP_MSG(NULL, &p, (long)out.len);
    FZ_CHECK(rsp != NULL && p == out.ptr + out.len);
    FZ_CHECK(OSSL_CMP_MSG_get_bodytype(rsp) == res.rsp_type);
    unsigned char *der = NULL;
    int n = i2d_OSSL_CMP_MSG(rsp, &der);
    FZ_CHECK(n > 0 && (size_t)n == out.len && memcmp(der, out.ptr, out.len) == 0);
    OPENSSL_free(der);
    OSSL_CMP_MSG_free(rsp);
    avow_buf_free(&out);
    ERR_clear_error();
    return 0;
}
