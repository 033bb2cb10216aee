/* manta: the command-line client. The table below is the whole CLI: help is
 * generated from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
	{ "status", cmd_status, "", "show this node, its peers and counters" },
	{ "genkey", cmd_genkey, "", "print a new private key (base64), like wg genkey" },
	{ "pubkey", cmd_pubkey, "< PRIVATE_KEY",
	  "print the public key of a private key read from stdin" },
	{ "addresses", cmd_addresses, "[PUBLIC_KEY]",
	  "print the IPv6 and IPv4 addresses a public key derives" },
	{ "version", cmd_version, "", "print the versions of manta and mantad" },
};

static void help(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--socket PATH] [--json] COMMAND [ARGS]\n\nCommands:\n", prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %-16s %s\n", commands[i].name, commands[i].args,
			commands[i].description);
	fprintf(f,
		"\nOptions:\n"
		"  --socket PATH  mantad's control socket (default %s, or $MANTA_SOCKET)\n"
		"  --json         print JSON for scripts\n"
		"\nExit status: 0 success, 1 the operation failed, 2 usage error.\n",
		CLI_DEFAULT_SOCKET);
}

int cli_usage(const struct cli *cli, const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			fprintf(stderr, "Usage: %s [--socket PATH] [--json] %s %s\n", cli->prog,
				name, commands[i].args);
			return CLI_EXIT_USAGE;
		}
	}
	help(stderr, cli->prog);
	return CLI_EXIT_USAGE;
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	json_t *res = NULL;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	const char *daemon = "not running";

	if (access(cli->socket_path, F_OK) == 0 && cli_call(cli, "version", NULL, &res) == 0)
		daemon = json_string_value(json_object_get(res, "version"));
	if (cli->json)
		printf("{\"manta\":\"%s\",\"mantad\":\"%s\"}\n", MANTA_VERSION, daemon);
	else
		printf("manta %s\nmantad %s\n", MANTA_VERSION, daemon);
	json_decref(res);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli cli = { .prog = "manta" };
	int i;

	cli.socket_path = getenv("MANTA_SOCKET") ? getenv("MANTA_SOCKET") : CLI_DEFAULT_SOCKET;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			cli.json = true;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			cli.socket_path = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			cli.socket_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help(stdout, cli.prog);
			return CLI_EXIT_OK;
		} else {
			fprintf(stderr, "%s: unknown option `%s'\n", cli.prog, argv[i]);
			help(stderr, cli.prog);
			return CLI_EXIT_USAGE;
		}
	}
	if (i == argc) {
		help(stderr, cli.prog);
		return CLI_EXIT_USAGE;
	}
	/* Options may also follow the subcommand: `manta status --json`. */
	int n = 0;
	char **sub = calloc((size_t)(argc - i) + 1, sizeof(*sub));

	if (!sub)
		return CLI_EXIT_FAIL;
	for (int j = i; j < argc; j++) {
		if (strcmp(argv[j], "--json") == 0)
			cli.json = true;
		else if (strcmp(argv[j], "--socket") == 0 && j + 1 < argc)
			cli.socket_path = argv[++j];
		else
			sub[n++] = argv[j];
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(commands[c].name, sub[0]) == 0) {
			int r = commands[c].run(&cli, n, sub);

			free(sub);
			return r;
		}
	}
	fprintf(stderr, "%s: unknown command `%s'\n\n", cli.prog, sub[0]);
	free(sub);
	help(stderr, cli.prog);
	return CLI_EXIT_USAGE;
}
