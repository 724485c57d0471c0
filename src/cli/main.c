/*
 * avow - the command-line face of libavow. main() only dispatches: each
 * command group lives in its own file and takes one row in the table below.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/opensslv.h>

#include <avow/avow.h>

#include "cli/cli.h"

typedef struct cli_group {
    const char *name;
    const char *summary;
    int (*run)(const char *prog, int argc, char **argv);
} cli_group;

/* The one place a command group is registered. */
static const cli_group groups[] = {
    {"ca", "a local CA issuing certificates that carry the attestation result", cli_group_ca},
    {"evidence", "create, show and verify PKIX Evidence", cli_group_evidence},
    {"keygen", "generate a key pair inside a PKCS#11 token", cli_group_keygen},
    {"csr", "create, show and verify attested certificate requests", cli_group_csr},
    {"ear", "verify and show attestation results (EAR JWTs, CMW)", cli_group_ear},
    {"psa", "show and verify PSA attestation tokens (RFC 9783)", cli_group_psa},
    {"kat", "key attestation tokens linked to platform tokens: create, bundle, show",
     cli_group_kat},
    {"tpm", "TPM 2.0 keys and attestation keys for attested requests", cli_group_tpm},
    {"serve", "the CA (EST) and the verifier as an HTTP service", cli_group_serve},
    {"oauth", "OAuth attestation-based client authentication: attester, client, server",
     cli_group_oauth},
    {"wimse", "WIMSE workload credentials: issue a WIT from attestation, prove, verify",
     cli_group_wimse},
};

static void usage(FILE *f)
{
    fputs("Usage: avow [--help | --version] GROUP COMMAND [options]\n\n"
          "Remote attestation toolkit (PKIX Evidence, draft-ietf-rats-pkix-key-attestation-07).\n\n"
          "Groups:\n",
          f);
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        fprintf(f, "  %-10s %s\n", groups[i].name, groups[i].summary);
    fputs("\nRun 'avow GROUP --help' for its commands. Exit status: 0 success (trusted), "
          "1 failure\n(untrusted), 2 usage error, 3 malformed input, 4 I/O error, 5 warning, 6 "
          "none,\n"
          "7 store failure, 8 store busy (try again); avow(1) has the details.\n",
          f);
}

/*
 * Commands hold PINs and private keys in memory for most of their short
 * lives; a core file or a ptrace attach would hand them out. No cores, and
 * on Linux not dumpable (which also keeps other processes of the same user
 * from attaching).
 */
static void protect_secrets(void)
{
    struct rlimit none = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int main(int argc, char **argv)
{
    protect_secrets();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-help") == 0 || strcmp(first, "-h") == 0 ||
        strcmp(first, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-version") == 0) {
        printf("avow %s (%s)\n", AVOW_VERSION, OpenSSL_version(OPENSSL_VERSION));
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (strcmp(first, groups[i].name) == 0) {
            char prog[64];
            snprintf(prog, sizeof(prog), "avow %s", groups[i].name);
            return groups[i].run(prog, argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "avow: unknown command \"%s\"\n\n", first);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
