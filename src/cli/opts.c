#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"

static size_t count_opts(const cli_opt *opts)
{
    size_t n = 0;
    while (opts != NULL && opts[n].name != NULL)
        n++;
    return n;
}

static long find_opt(const cli_args *a, const char *name, size_t name_len)
{
    for (size_t i = 0; i < a->nopts; i++) {
        if (strlen(a->opts[i].name) == name_len && strncmp(a->opts[i].name, name, name_len) == 0)
            return (long)i;
    }
    return -1;
}

static int is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "-help") == 0 || strcmp(arg, "--help") == 0;
}

int cli_parse(const char *prog, const cli_cmd *cmd, int argc, char **argv, cli_args *out)
{
    memset(out, 0, sizeof(*out));
    out->opts = cmd->opts;
    out->nopts = count_opts(cmd->opts);
    size_t slots = argc > 0 ? (size_t)argc : 1;
    out->counts = calloc(out->nopts + 1, sizeof(*out->counts));
    out->vals = calloc(out->nopts + 1, sizeof(*out->vals));
    out->pos = calloc(slots, sizeof(*out->pos));
    if (out->counts == NULL || out->vals == NULL || out->pos == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return CLI_PARSE_USAGE;
    }
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            if (out->npos >= cmd->max_positional) {
                cli_usage_error(prog, "unexpected argument \"%s\"", arg);
                return CLI_PARSE_USAGE;
            }
            out->pos[out->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (is_help(arg))
            return CLI_PARSE_HELP;
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        long k = find_opt(out, name, name_len);
        if (k < 0) {
            cli_usage_error(prog, "unknown option \"%s\" (see %s --help)", arg, prog);
            return CLI_PARSE_USAGE;
        }
        const cli_opt *o = &out->opts[k];
        const char *value = NULL;
        if (o->has_arg == CLI_RENAMED) {
            cli_usage_error(prog, "option -%s is not taken here: for %s give -%s (see %s --help)",
                            o->name, o->help, o->arg, prog);
            return CLI_PARSE_USAGE;
        }
        if (o->has_arg == CLI_FLAG) {
            if (eq != NULL) {
                cli_usage_error(prog, "option -%s takes no value", o->name);
                return CLI_PARSE_USAGE;
            }
        } else if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            cli_usage_error(prog, "option -%s needs a value (%s)", o->name, o->arg);
            return CLI_PARSE_USAGE;
        }
        if (o->has_arg == CLI_VALUE && out->counts[k] > 0) {
            cli_usage_error(prog, "option -%s given twice", o->name);
            return CLI_PARSE_USAGE;
        }
        if (value != NULL) {
            const char **grown = realloc(out->vals[k], (out->counts[k] + 1) * sizeof(*grown));
            if (grown == NULL) {
                fprintf(stderr, "%s: out of memory\n", prog);
                return CLI_PARSE_USAGE;
            }
            grown[out->counts[k]] = value;
            out->vals[k] = grown;
        }
        out->counts[k]++;
    }
    return CLI_PARSE_OK;
}

void cli_args_free(cli_args *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; a->vals != NULL && i < a->nopts; i++)
        free(a->vals[i]);
    free(a->vals);
    free(a->counts);
    free(a->pos);
    memset(a, 0, sizeof(*a));
}

/* A name missing from the table is a bug in the command, not user input. */
static size_t must_find(const cli_args *a, const char *name)
{
    long k = find_opt(a, name, strlen(name));
    if (k < 0) {
        fprintf(stderr, "avow: internal error: option -%s is not declared\n", name);
        abort();
    }
    return (size_t)k;
}

const char *cli_get(const cli_args *a, const char *name)
{
    size_t k = must_find(a, name);
    return a->counts[k] > 0 && a->vals[k] != NULL ? a->vals[k][a->counts[k] - 1] : NULL;
}

size_t cli_count(const cli_args *a, const char *name)
{
    return a->counts[must_find(a, name)];
}

const char *cli_get_n(const cli_args *a, const char *name, size_t i)
{
    size_t k = must_find(a, name);
    return i < a->counts[k] && a->vals[k] != NULL ? a->vals[k][i] : NULL;
}

int cli_flag(const cli_args *a, const char *name)
{
    return a->counts[must_find(a, name)] > 0;
}

int cli_declared(const cli_args *a, const char *name)
{
    return find_opt(a, name, strlen(name)) >= 0;
}

void cli_help(FILE *f, const char *prog, const cli_cmd *cmd)
{
    fprintf(f, "Usage: %s %s\n\n%s\n\nOptions:\n", prog, cmd->synopsis, cmd->summary);
    for (const cli_opt *o = cmd->opts; o != NULL && o->name != NULL; o++) {
        if (o->has_arg == CLI_RENAMED)
            continue;
        char left[64];
        snprintf(left, sizeof(left), "-%s%s%s", o->name, o->arg != NULL ? " " : "",
                 o->arg != NULL ? o->arg : "");
        fprintf(f, "  %-22s %s%s\n", left, o->help, o->has_arg == CLI_MULTI ? " (repeatable)" : "");
    }
    fprintf(f, "  %-22s %s\n", "-help", "print this help and exit");
}

/* A PIN on the command line is in ps and in shell history: say so, every time. */
static void warn_visible_pin(const cli_args *a)
{
    long k = find_opt(a, "pin", 3);
    if (k >= 0 && a->counts[k] > 0)
        fputs("avow: warning: -pin puts the PIN on the command line, where other users see it "
              "(ps); prefer -pin-source env:NAME or file:PATH\n",
              stderr);
    k = find_opt(a, "pin-source", 10);
    for (size_t i = 0; k >= 0 && i < a->counts[k]; i++) {
        if (a->vals[k] != NULL && strncmp(a->vals[k][i], "pass:", 5) == 0)
            fputs("avow: warning: -pin-source pass: puts the PIN on the command line, where "
                  "other users see it (ps); prefer env:NAME or file:PATH\n",
                  stderr);
    }
}

int cli_run_table(const char *prog, const char *summary, const cli_cmd *cmds, size_t ncmds,
                  int argc, char **argv)
{
    if (argc < 2 || is_help(argv[1])) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "Usage: %s COMMAND [options]\n\n%s\n\nCommands:\n", prog, summary);
        for (size_t i = 0; i < ncmds; i++)
            fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
        fprintf(f, "\nRun '%s COMMAND --help' for the options of a command.\n", prog);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (size_t i = 0; i < ncmds; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        char sub[128];
        snprintf(sub, sizeof(sub), "%s %s", prog, cmds[i].name);
        cli_args a;
        int rc = cli_parse(sub, &cmds[i], argc - 1, argv + 1, &a);
        if (rc == CLI_PARSE_HELP) {
            cli_help(stdout, sub, &cmds[i]);
            rc = CLI_EXIT_OK;
        } else if (rc == CLI_PARSE_USAGE) {
            rc = CLI_EXIT_USAGE;
        } else {
            warn_visible_pin(&a);
            rc = cmds[i].run(sub, &a);
        }
        cli_args_free(&a);
        return rc;
    }
    return cli_usage_error(prog, "unknown command \"%s\" (see %s --help)", argv[1], prog);
}
