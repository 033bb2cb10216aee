/*
 * manta dns add|rm|list|export: this node's service names
 * (NAME.HOST.NET.pi, resolvable by every member) and zone files.
 *
 *   manta dns add NAME [--network NET]   register it in NET, or in every network
 *   manta dns rm NAME [--network NET]    remove it (from NET only, or everywhere)
 *   manta dns list [--network NET]       the service names this node resolves
 *   manta dns export NET [-o FILE]       NET's names as an RFC 1035 zone file
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

const char cmd_dns_options[] =
	"  add NAME [--network NET]   register NAME.HOST.NET.pi for this node, in NET\n"
	"                             or in every network (also ones joined later)\n"
	"  rm NAME [--network NET]    remove a service name\n"
	"  list [--network NET]       the service names this node resolves\n"
	"  export NET [-o FILE]       NET's names as a zone file (stdout, or FILE)\n";

static const struct option net_opts[] = {
	{ "network", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

static const struct option export_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* Options --network (and -o for export); the positional count wanted. */
static int parse(struct cli *cli, int argc, char **argv, int want, const char **network,
		 const char **output)
{
	bool exp = output != NULL;
	int c;

	while ((c = cli_getopt(cli, argc, argv, exp ? "o:" : "", exp ? export_opts : net_opts)) !=
	       -1) {
		if (c == 'n')
			*network = optarg;
		else if (c == 'o' && exp)
			*output = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (argc - optind != want)
		return cli_usage_error(cli, "dns", "`dns %s' takes %d argument%s", argv[0], want,
				       want == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

static json_t *name_args(const char *name, const char *network)
{
	json_t *a = json_object();

	if (name)
		json_object_set_new(a, "name", json_string(name));
	if (network)
		json_object_set_new(a, "network", json_string(network));
	return a;
}

static int print_or_json(struct cli *cli, json_t *res, int r)
{
	if (cli->json)
		r = cli_print_json(cli, "dns", res);
	json_decref(res);
	return r;
}

static int dns_add(struct cli *cli, int argc, char **argv)
{
	const char *network = NULL;
	json_t *res, *v;
	size_t i;
	int r = parse(cli, argc, argv, 1, &network, NULL);

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_call(cli, "dns_add", name_args(argv[optind], network), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (!cli->json) {
		json_array_foreach(json_object_get(res, "names"), i, v)
			printf("%s\n", json_string_value(v));
		if (json_array_size(json_object_get(res, "names")) == 0)
			printf("registered `%s'; it appears in each network this node joins\n",
			       argv[optind]);
	}
	return print_or_json(cli, res, CLI_EXIT_OK);
}

static int dns_rm(struct cli *cli, int argc, char **argv)
{
	const char *network = NULL;
	json_t *res;
	int r = parse(cli, argc, argv, 1, &network, NULL);

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_call(cli, "dns_rm", name_args(argv[optind], network), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (!cli->json)
		printf("removed `%s'\n", argv[optind]);
	return print_or_json(cli, res, CLI_EXIT_OK);
}

static int dns_list(struct cli *cli, int argc, char **argv)
{
	const char *network = NULL;
	json_t *res, *e;
	size_t i;
	int r = parse(cli, argc, argv, 0, &network, NULL), width = 4;

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_call(cli, "dns_list", name_args(NULL, network), &res);
	if (r != CLI_EXIT_OK || cli->json)
		return r != CLI_EXIT_OK ? r : print_or_json(cli, res, CLI_EXIT_OK);
	json_array_foreach(res, i, e)
	{
		int w = (int)strlen(cli_str(e, "name", ""));

		width = w > width ? w : width;
	}
	if (json_array_size(res) == 0)
		printf("no service names: `%s dns add NAME' registers one\n", cli->prog);
	json_array_foreach(res, i, e)
		printf("%-*s  %-39s  %s%s\n", width, cli_str(e, "name", "?"),
		       cli_str(e, "ipv6", "-"), cli_str(e, "ipv4", "-"),
		       json_is_true(json_object_get(e, "own")) ? "  (this node)" : "");
	json_decref(res);
	return CLI_EXIT_OK;
}

static int dns_export(struct cli *cli, int argc, char **argv)
{
	const char *network = NULL, *output = NULL, *text;
	json_t *res;
	FILE *f;
	int r = parse(cli, argc, argv, 1, &network, &output);

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_call(cli, "dns_export", name_args(NULL, argv[optind]), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json && !output)
		return print_or_json(cli, res, CLI_EXIT_OK);
	text = cli_str(res, "text", "");
	f = output ? fopen(output, "we") : stdout;
	if (!f) {
		fprintf(stderr, "%s dns export: %s: cannot write: %m\n", cli->prog, output);
		json_decref(res);
		return CLI_EXIT_FAIL;
	}
	fputs(text, f);
	if (output && fclose(f) != 0) {
		fprintf(stderr, "%s dns export: %s: cannot write: %m\n", cli->prog, output);
		r = CLI_EXIT_FAIL;
	} else if (output) {
		fprintf(stderr, "zone %s written to %s\n", cli_str(res, "zone", "?"), output);
	}
	json_decref(res);
	return r;
}

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} subs[] = {
	{ "add", dns_add },
	{ "rm", dns_rm },
	{ "list", dns_list },
	{ "export", dns_export },
};

int cmd_dns(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, argv[0]);
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(subs[i].name, argv[1]) == 0)
			return subs[i].run(cli, argc - 1, argv + 1);
	return cli_usage_error(cli, argv[0], "unknown subcommand `%s'", argv[1]);
}
