/*
 * manta, the command-line client. Dispatch follows wireguard-tools' wg.c: a
 * table of {name, function, description}, help generated from it, one file
 * per subcommand (cmd_*.c). Exit codes: 0 ok, 1 the operation failed, 2 usage.
 * Human output by default; --json prints one JSON value for scripts.
 */
#ifndef MANTA_CLI_CLI_H
#define MANTA_CLI_CLI_H

#include <stdbool.h>

#include <jansson.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_DEFAULT_SOCKET "/run/manta/manta.sock"

struct cli {
	const char *prog;
	const char *socket_path;
	bool json;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv); /* argv[0] is the subcommand */
	const char *args; /* usage text after the name */
	const char *description;
};

/* Print "Usage: manta [options] NAME ARGS" for cmd to stderr; returns 2. */
int cli_usage(const struct cli *cli, const char *name);

/* One request over the control socket: {"command": cmd, "args": args}. On
 * success *result holds the reply's "result" (caller decrefs) and 0 returns;
 * on failure a message has been printed and 1 returns. Steals args. */
int cli_call(const struct cli *cli, const char *cmd, json_t *args, json_t **result);

/* Subcommands. */
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_genkey(struct cli *cli, int argc, char **argv);
int cmd_pubkey(struct cli *cli, int argc, char **argv);
int cmd_addresses(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);

#endif
