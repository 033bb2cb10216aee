/* manta: the command-line client. The table below is the whole CLI: `manta
 * --help' and each `manta COMMAND --help' are generated from it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/util.h"

#define HOSTNAME_OPT "  --hostname HOST  your name on the network (default: this machine's name)\n"

static const struct cli_command commands[] = {
	{ "status", cmd_status, "", "show this node, its networks and its peers", NULL },
	{ "peers", cmd_peers, "[NETWORK]", "list the peers, or those of one network", NULL },
	{ "networks", cmd_networks, "", "list the networks and their members", NULL },
	{ "create", cmd_create, "NAME [--hostname HOST]", "create a network that this node owns",
	  HOSTNAME_OPT },
	{ "invite", cmd_invite, "NAME [--expires DURATION] [--reusable] [--qr]",
	  "make an invite token for a network this node owns",
	  "  --expires DURATION  how long the token stays valid: 30m, 24h, 7d, 3600\n"
	  "                      (seconds) or never; default 24h\n"
	  "  --reusable          the token may be used more than once until it expires\n"
	  "  --qr                also print the token as a QR code\n" },
	{ "join", cmd_join, "TOKEN [--hostname HOST] [--name NAME]",
	  "join a network with an invite token",
	  HOSTNAME_OPT
	  "  --name NAME      what to call the network here (default: its own name)\n" },
	{ "leave", cmd_leave, "NAME", "leave a network and forget it", NULL },
	{ "kick", cmd_kick, "NAME HOST", "remove a member from a network this node owns", NULL },
	{ "hostname", cmd_hostname, "NAME HOST", "change your name on a network", NULL },
	{ "whois", cmd_whois, "ADDRESS|HOST[.NETWORK]", "show who has an address or a name", NULL },
	{ "ping", cmd_ping, "HOST[.NETWORK] [-c COUNT]", "send echoes to a member through the mesh",
	  "  -c, --count COUNT  how many echoes, 1 to 100 (default 3)\n" },
	{ "probe", cmd_probe, "udp PORT [--via MEMBER] [--address V6]",
	  "test whether PORT is reachable from outside over IPv6", cmd_probe_options },
	{ "up", cmd_up, "[--accept-dns=true|false]",
	  "bring the TUN device, its addresses and routes back",
	  "  --accept-dns=BOOL  let Magic DNS point this host at its resolver, or not\n"
	  "                     (remembered; overrides accept_dns in the config)\n" },
	{ "dns", cmd_dns, "add|rm|list|export [ARGS]", "service names and zone files (Magic DNS)",
	  cmd_dns_options },
	{ "down", cmd_down, "", "take the TUN device away; peer sessions stay", NULL },
	{ "uplink", cmd_uplink, "status [NAME] | up NAME | down NAME",
	  "show, bring up or take down the IPv6 uplinks", cmd_uplink_options },
	{ "firewall", cmd_firewall, "list|add|del|default|reject|flows [ARGS]",
	  "show or change the firewall rules", cmd_firewall_options },
	{ "tag", cmd_tag, "NAME HOST [TAG...]",
	  "set a member's tags in a network this node owns (no TAG clears them)", NULL },
	{ "genkey", cmd_genkey, "", "print a new private key (base64), like wg genkey", NULL },
	{ "pubkey", cmd_pubkey, "< PRIVATE_KEY",
	  "print the public key of a private key read from stdin", NULL },
	{ "addresses", cmd_addresses, "[PUBLIC_KEY]",
	  "print the IPv6 and IPv4 addresses a public key derives", NULL },
	{ "version", cmd_version, "", "print the versions of manta and mantad", NULL },
	{ "mcp", cmd_mcp, "", "serve MCP (JSON-RPC on stdin and stdout) for AI tools", NULL },
	{ "service", cmd_service,
	  "install|uninstall|status [--init SYSTEM] [--root DIR] [--no-start]",
	  "install mantad as a systemd or launchd service, or remove it",
	  "  --init SYSTEM  systemd or launchd (default: the one running here)\n"
	  "  --root DIR     write the files under DIR and start nothing\n"
	  "  --no-start     install without starting, uninstall without stopping\n" },
};

static const struct cli_command *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void help(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--socket PATH] [--json] COMMAND [ARGS]\n\nCommands:\n", prog);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].description);
	fprintf(f,
		"\nRun `%s COMMAND --help' for the arguments of one.\n"
		"\nOptions:\n"
		"  --socket PATH  mantad's control socket (default: $MANTA_SOCKET, or\n"
		"                 %s)\n"
		"  --json         print one JSON value on stdout, for scripts\n"
		"  --help         print this help\n"
		"\nAnyone who can reach the socket may look (status, peers, networks, whois,\n"
		"ping, version); the commands that change something need root or the manta\n"
		"group.\n"
		"\nExit status: 0 success, 1 the operation failed, 2 usage error.\n",
		prog, CLI_DEFAULT_SOCKET);
}

static void command_help(FILE *f, const struct cli *cli, const struct cli_command *c)
{
	fprintf(f, "Usage: %s [--socket PATH] [--json] %s%s%s\n\n%c%s.\n", cli->prog, c->name,
		c->args[0] ? " " : "", c->args, c->description[0] - 'a' + 'A', c->description + 1);
	if (c->options)
		fprintf(f, "\nOptions:\n%s", c->options);
}

int cli_usage(const struct cli *cli, const char *name)
{
	const struct cli_command *c = find(name);

	if (c)
		command_help(stderr, cli, c);
	else
		help(stderr, cli->prog);
	return CLI_EXIT_USAGE;
}

int cli_usage_error(const struct cli *cli, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", cli->prog, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	return cli_usage(cli, name);
}

int cli_getopt(const struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char spec[32];
	int c;

	/* A leading ':' tells a missing argument (':') from an unknown option. */
	snprintf(spec, sizeof(spec), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c == ':') {
		cli_usage_error(cli, argv[0], "option `%s' needs a value", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		cli_usage_error(cli, argv[0], "unknown option `%s'", argv[optind - 1]);
		return '?';
	}
	return c;
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	const char *daemon = "not running";
	json_t *res = NULL;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	if (access(cli->socket_path, F_OK) == 0 && cli_call(cli, "version", NULL, &res) == 0)
		daemon = cli_str(res, "version", "unknown");
	if (cli->json) {
		json_t *v = json_pack("{s:s,s:s}", "manta", MANTA_VERSION, "mantad", daemon);
		int r = v ? cli_print_json(cli, argv[0], v) : CLI_EXIT_FAIL;

		json_decref(v);
		json_decref(res);
		return r;
	}
	printf("manta %s\nmantad %s\n", MANTA_VERSION, daemon);
	json_decref(res);
	return CLI_EXIT_OK;
}

/* Options before the command. Returns the index of the command, or -1 after
 * printing help (*exit_code set). */
static int global_options(struct cli *cli, int argc, char **argv, int *exit_code)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			cli->json = true;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			cli->socket_path = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			cli->socket_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--socket") == 0) {
			fprintf(stderr, "%s: option `--socket' needs a path\n\n", cli->prog);
			help(stderr, cli->prog);
			*exit_code = CLI_EXIT_USAGE;
			return -1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help(stdout, cli->prog);
			*exit_code = CLI_EXIT_OK;
			return -1;
		} else {
			fprintf(stderr, "%s: unknown option `%s'\n\n", cli->prog, argv[i]);
			help(stderr, cli->prog);
			*exit_code = CLI_EXIT_USAGE;
			return -1;
		}
	}
	if (i == argc) {
		help(stderr, cli->prog);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	struct cli cli = { .prog = "manta" };
	const struct cli_command *c;
	bool want_help = false, args_only = false;
	int i, n = 0, r = CLI_EXIT_USAGE;
	char **sub;

	cli.socket_path = getenv("MANTA_SOCKET") ? getenv("MANTA_SOCKET") : CLI_DEFAULT_SOCKET;
	i = global_options(&cli, argc, argv, &r);
	if (i < 0)
		return r;
	c = find(argv[i]);
	if (!c) {
		fprintf(stderr, "%s: unknown command `%s'\n\n", cli.prog, argv[i]);
		help(stderr, cli.prog);
		return CLI_EXIT_USAGE;
	}
	/* The global options may also follow the command (`manta status --json');
	 * the command sees the rest. After `--' everything is an argument. */
	sub = calloc((size_t)(argc - i) + 1, sizeof(*sub));
	if (!sub)
		return CLI_EXIT_FAIL;
	for (int j = i; j < argc; j++) {
		if (args_only || j == i)
			sub[n++] = argv[j];
		else if (strcmp(argv[j], "--json") == 0)
			cli.json = true;
		else if (strcmp(argv[j], "--socket") == 0 && j + 1 < argc)
			cli.socket_path = argv[++j];
		else if (strncmp(argv[j], "--socket=", 9) == 0)
			cli.socket_path = argv[j] + 9;
		else if (strcmp(argv[j], "--help") == 0)
			want_help = true;
		else
			sub[n++] = argv[j];
		if (strcmp(argv[j], "--") == 0)
			args_only = true;
	}
	if (want_help) {
		command_help(stdout, &cli, c);
		r = CLI_EXIT_OK;
	} else {
		r = c->run(&cli, n, sub);
	}
	free(sub);
	return r;
}
