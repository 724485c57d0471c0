/*
 * Shared pieces of the avow command: exit codes, error reporting and the
 * command groups main() dispatches to.
 */
#ifndef AVOW_CLI_CLI_H
#define AVOW_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

#include <avow/err.h>

/* Exit statuses (documented in avow(1)). */
enum {
    CLI_EXIT_OK = 0,        /* success; for verify: the Evidence is trusted */
    CLI_EXIT_FAIL = 1,      /* not trusted, verification failed, or any other failure */
    CLI_EXIT_USAGE = 2,     /* bad command line */
    CLI_EXIT_MALFORMED = 3, /* input cannot be parsed */
    CLI_EXIT_IO = 4,        /* a file cannot be read or written */
    CLI_EXIT_WARNING = 5,   /* attestation result: warning */
    CLI_EXIT_NONE = 6,      /* attestation result: none (nothing could be said) */
    CLI_EXIT_STORE = 7,     /* the nonce store failed (missing, foreign, corrupt, read-only) */
    CLI_EXIT_BUSY = 8       /* the nonce store is locked or busy: try again */
};

/* Exit status of an attestation result's tier: 0 affirming, 1 contraindicated, 5, 6. */
int cli_exit_tier(int tier);

/* The exit status an error maps to. */
int cli_exit_code(avow_err err);

/* Prints "avow: <field>: <message> (<AVOW_ERR_NAME>)" to stderr; returns cli_exit_code(err).
 * Field and message are escaped (avow_escape_text): they may quote the input. */
int cli_report(avow_err err, const avow_diag *diag);

/* Writes n bytes of untrusted text to f, escaped by avow_escape_text (flags AVOW_ESCAPE_*). */
void cli_put_escaped(FILE *f, const void *text, size_t n, unsigned flags);

/* Prints a usage error naming the program and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *prog, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Fills diag (may be NULL) like the library does; returns err. */
avow_err cli_fail(avow_diag *diag, avow_err err, const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* As cli_fail, appending OpenSSL's first queued reason and emptying its queue. */
avow_err cli_fail_ossl(avow_diag *diag, avow_err err, const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/*
 * Command groups: one file each, one row each in main.c's table. prog is
 * "avow <group>"; argv[0] is the group name.
 */
int cli_group_evidence(const char *prog, int argc, char **argv);
int cli_group_keygen(const char *prog, int argc, char **argv);
int cli_group_ca(const char *prog, int argc, char **argv);
int cli_group_csr(const char *prog, int argc, char **argv);
int cli_group_ear(const char *prog, int argc, char **argv);
int cli_group_psa(const char *prog, int argc, char **argv);
int cli_group_kat(const char *prog, int argc, char **argv);
int cli_group_tpm(const char *prog, int argc, char **argv);
int cli_group_serve(const char *prog, int argc, char **argv);
int cli_group_oauth(const char *prog, int argc, char **argv);
int cli_group_wimse(const char *prog, int argc, char **argv);

#endif
