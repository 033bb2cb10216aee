/*
 * manta networks, create, join, leave, kick and hostname: the networks this
 * node belongs to and its membership in them. The daemon checks names and
 * rights; the CLI only fills in the default hostname.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct option create_opts[] = {
	{ "hostname", required_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static const struct option join_opts[] = {
	{ "hostname", required_argument, NULL, 'H' },
	{ "name", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

/* The positional arguments left after the options: exactly want of them. */
static bool positional(int argc, int want)
{
	return argc - optind == want;
}

static void print_members(json_t *members)
{
	int width = 0;
	size_t i;
	json_t *m;

	json_array_foreach(members, i, m)
	{
		int w = (int)strlen(cli_str(m, "hostname", "?"));

		width = w > width ? w : width;
	}
	json_array_foreach(members, i, m)
	{
		bool owner = json_is_true(json_object_get(m, "owner"));
		bool revoked = json_is_true(json_object_get(m, "revoked"));

		printf("    %-*s  %-39s  %-15s%s%s\n", width, cli_str(m, "hostname", "?"),
		       cli_str(m, "ipv6", "-"), cli_str(m, "ipv4", "-"), owner ? "  owner" : "",
		       revoked ? "  revoked" : "");
	}
}

int cmd_networks(struct cli *cli, int argc, char **argv)
{
	json_t *nets, *n;
	size_t i;
	int r;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	r = cli_call(cli, "networks", NULL, &nets);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], nets);
		json_decref(nets);
		return r;
	}
	if (json_array_size(nets) == 0)
		printf("no networks: `%s create NAME' makes one, `%s join TOKEN' joins one\n",
		       cli->prog, cli->prog);
	json_array_foreach(nets, i, n)
	{
		json_t *members = json_object_get(n, "members");

		printf("%snetwork: %s\n", i ? "\n" : "", cli_str(n, "name", "?"));
		printf("  network key: %s\n", cli_str(n, "network_key", "?"));
		printf("  role: %s\n",
		       json_is_true(json_object_get(n, "owner")) ? "owner" : "member");
		printf("  hostname: %s\n", cli_str(n, "hostname", "?"));
		printf("  members: %zu\n", json_array_size(members));
		print_members(members);
	}
	json_decref(nets);
	return CLI_EXIT_OK;
}

static void print_addresses(json_t *res)
{
	printf("  network key: %s\n  ipv6: %s\n  ipv4: %s\n", cli_str(res, "network_key", "?"),
	       cli_str(res, "ipv6", "?"), cli_str(res, "ipv4", "?"));
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	char host[CLI_LABEL_MAX + 1];
	const char *hostname = NULL;
	json_t *res;
	int c, r;

	while ((c = cli_getopt(cli, argc, argv, "", create_opts)) != -1) {
		if (c != 'H')
			return CLI_EXIT_USAGE;
		hostname = optarg;
	}
	if (!positional(argc, 1))
		return cli_usage(cli, argv[0]);
	if (!hostname) {
		cli_default_hostname(host);
		hostname = host;
	}
	r = cli_call(cli, "create",
		     json_pack("{s:s,s:s}", "name", argv[optind], "hostname", hostname), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], res);
	} else {
		printf("created network %s; you are %s on it\n", cli_str(res, "name", argv[optind]),
		       cli_str(res, "hostname", hostname));
		print_addresses(res);
		printf("invite others with: %s invite %s\n", cli->prog,
		       cli_str(res, "name", argv[optind]));
	}
	json_decref(res);
	return r;
}

int cmd_join(struct cli *cli, int argc, char **argv)
{
	char host[CLI_LABEL_MAX + 1];
	const char *hostname = NULL, *name = NULL;
	json_t *args, *res;
	int c, r;

	while ((c = cli_getopt(cli, argc, argv, "", join_opts)) != -1) {
		if (c == 'H')
			hostname = optarg;
		else if (c == 'n')
			name = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (!positional(argc, 1))
		return cli_usage(cli, argv[0]);
	if (!hostname) {
		cli_default_hostname(host);
		hostname = host;
	}
	args = json_pack("{s:s,s:s}", "token", argv[optind], "hostname", hostname);
	if (args && name)
		json_object_set_new(args, "name", json_string(name));
	r = cli_call(cli, "join", args, &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], res);
	} else {
		printf("joined network %s as %s", cli_str(res, "name", "?"),
		       cli_str(res, "hostname", hostname));
		if (json_is_integer(json_object_get(res, "members")))
			printf(" (%lld members)",
			       (long long)json_integer_value(json_object_get(res, "members")));
		printf("\n");
		print_addresses(res);
	}
	json_decref(res);
	return r;
}

/* A command whose arguments are all positional strings, sent under keys. */
static int call_positional(struct cli *cli, int argc, char **argv, const char *const keys[],
			   int nkeys, json_t **res)
{
	json_t *args;

	if (argc != nkeys + 1)
		return cli_usage(cli, argv[0]);
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return cli_usage_error(cli, argv[0], "unknown option `%s'", argv[i]);
	args = json_object();
	for (int i = 0; i < nkeys && args; i++)
		json_object_set_new(args, keys[i], json_string(argv[i + 1]));
	return cli_call(cli, argv[0], args, res);
}

/* The JSON, or (for people) the line that says what happened. */
static int done(struct cli *cli, const char *cmd, json_t *res, const char *text)
{
	int r = CLI_EXIT_OK;

	if (cli->json)
		r = cli_print_json(cli, cmd, res);
	else
		printf("%s\n", text);
	json_decref(res);
	return r;
}

int cmd_leave(struct cli *cli, int argc, char **argv)
{
	static const char *const keys[] = { "name" };
	char text[128];
	json_t *res;
	int r = call_positional(cli, argc, argv, keys, 1, &res);

	if (r != CLI_EXIT_OK)
		return r;
	snprintf(text, sizeof(text), "left network %s", argv[1]);
	return done(cli, argv[0], res, text);
}

int cmd_kick(struct cli *cli, int argc, char **argv)
{
	static const char *const keys[] = { "name", "host" };
	char text[192];
	json_t *res;
	int r = call_positional(cli, argc, argv, keys, 2, &res);

	if (r != CLI_EXIT_OK)
		return r;
	snprintf(text, sizeof(text), "%s is no longer a member of %s", argv[2], argv[1]);
	return done(cli, argv[0], res, text);
}

int cmd_hostname(struct cli *cli, int argc, char **argv)
{
	static const char *const keys[] = { "name", "hostname" };
	char text[192];
	json_t *res;
	int r = call_positional(cli, argc, argv, keys, 2, &res);

	if (r != CLI_EXIT_OK)
		return r;
	snprintf(text, sizeof(text), "you are now %s on %s", argv[2], argv[1]);
	return done(cli, argv[0], res, text);
}

/* up and down: the data plane's state, "manta0 is up". */
static int updown(struct cli *cli, int argc, char **argv)
{
	char text[64];
	json_t *res;
	int r = call_positional(cli, argc, argv, NULL, 0, &res);

	if (r != CLI_EXIT_OK)
		return r;
	snprintf(text, sizeof(text), "%s is %s", cli_str(res, "tun", "manta"),
		 cli_str(res, "state", argv[0]));
	return done(cli, argv[0], res, text);
}

/* up [--accept-dns=true|false]: the flag is remembered by mantad. */
int cmd_up(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accept-dns", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args, *res;
	char text[64];
	int c, r;

	args = json_object();
	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		if (c != 'a') {
			json_decref(args);
			return CLI_EXIT_USAGE;
		}
		if (strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0) {
			json_decref(args);
			return cli_usage_error(cli, argv[0],
					       "--accept-dns must be true or false: `%s'", optarg);
		}
		json_object_set_new(args, "accept_dns", json_boolean(strcmp(optarg, "true") == 0));
	}
	if (optind != argc) {
		json_decref(args);
		return cli_usage(cli, argv[0]);
	}
	r = cli_call(cli, argv[0], args, &res);
	if (r != CLI_EXIT_OK)
		return r;
	snprintf(text, sizeof(text), "%s is %s", cli_str(res, "tun", "manta"),
		 cli_str(res, "state", argv[0]));
	return done(cli, argv[0], res, text);
}

int cmd_down(struct cli *cli, int argc, char **argv)
{
	return updown(cli, argc, argv);
}
