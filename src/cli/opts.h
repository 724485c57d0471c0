/*
 * A declarative option parser. Each command lists its options once, in a
 * table; parsing, lookup and the --help text all come from that table.
 * Options are long names taken with one or two dashes, like openssl:
 * -in FILE, --in FILE, -in=FILE and --in=FILE are the same; "--" ends options.
 */
#ifndef AVOW_CLI_OPTS_H
#define AVOW_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum cli_arg {
    CLI_FLAG = 0,  /* no value */
    CLI_VALUE = 1, /* one value; giving it twice is a usage error */
    CLI_MULTI = 2, /* a value, repeatable; values kept in order */
    /*
     * A name this command does not take because it means something else
     * elsewhere or was renamed: giving it is a usage error that names the
     * option to use (arg, without dashes) and what it is (help). Not in --help.
     */
    CLI_RENAMED = 3
} cli_arg;

typedef struct cli_opt {
    const char *name; /* without dashes; NULL ends the table */
    cli_arg has_arg;
    const char *arg; /* the value's placeholder in --help ("FILE"); NULL for flags;
                        CLI_RENAMED: the option to use instead */
    const char *help;
} cli_opt;

typedef struct cli_args {
    const cli_opt *opts;
    size_t nopts;
    size_t *counts;     /* per option */
    const char ***vals; /* per option: the values, borrowed from argv */
    size_t npos;
    const char **pos; /* positional arguments */
} cli_args;

typedef struct cli_cmd {
    const char *name;
    const char *summary;
    const char *synopsis; /* after the command name, e.g. "[options] -in FILE" */
    const cli_opt *opts;
    size_t max_positional; /* 0: positional arguments are a usage error */
    int (*run)(const char *prog, const cli_args *a);
} cli_cmd;

/* Parse results besides success. */
enum { CLI_PARSE_OK = 0, CLI_PARSE_HELP = 1, CLI_PARSE_USAGE = 2 };

/* Parses argv[1..argc-1]; prints the reason to stderr on a usage error. */
int cli_parse(const char *prog, const cli_cmd *cmd, int argc, char **argv, cli_args *out);
void cli_args_free(cli_args *a);

/* Last value of a named option, or NULL when absent. */
const char *cli_get(const cli_args *a, const char *name);
/* Number of values of a named option (or times a flag was given). */
size_t cli_count(const cli_args *a, const char *name);
/* i-th value of a repeatable option. */
const char *cli_get_n(const cli_args *a, const char *name, size_t i);
/* 1 when the flag was given. */
int cli_flag(const cli_args *a, const char *name);
/* 1 when the command's table declares the option (for helpers shared by several commands). */
int cli_declared(const cli_args *a, const char *name);

/* Writes the help of a command, generated from its table. */
void cli_help(FILE *f, const char *prog, const cli_cmd *cmd);

/*
 * Runs a subcommand from a table: "prog NAME options...". Prints the list
 * for --help or no name. Returns the exit status.
 */
int cli_run_table(const char *prog, const char *summary, const cli_cmd *cmds, size_t ncmds,
                  int argc, char **argv);

#endif
