/*
 * manta uplink status|up|down: the host's IPv6 uplinks ([uplink.NAME]).
 *
 *   manta uplink status [NAME]   a table: name, type, mode, state, interface,
 *                                address, latency, loss (--json: the list)
 *   manta uplink up NAME         bring it up (root or the manta group)
 *   manta uplink down NAME       take it down
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

const char cmd_uplink_options[] =
	"  status [NAME]   every uplink, or one: state, latency, loss, address\n"
	"  up NAME         bring the uplink up\n"
	"  down NAME       take the uplink down\n";

static json_t *name_args(const char *name)
{
	json_t *a = json_object();

	if (name)
		json_object_set_new(a, "name", json_string(name));
	return a;
}

static void print_row(json_t *u)
{
	json_t *lat = json_object_get(u, "latency_ms"), *addrs = json_object_get(u, "addresses");
	const char *addr = json_string_value(json_array_get(addrs, 0));
	const char *mode = cli_str(u, "mode", "-");
	char latency[32] = "-", loss[16] = "-";

	if (json_is_number(lat))
		snprintf(latency, sizeof(latency), "%.1f ms", json_number_value(lat));
	if (json_is_number(json_object_get(u, "loss")) && cli_str(u, "admin", "")[0] == 'u')
		snprintf(loss, sizeof(loss), "%.0f%%",
			 json_number_value(json_object_get(u, "loss")) * 100);
	printf("%-12s %-10s %-10s %-9s %-15s %-28s %-10s %s\n", cli_str(u, "name", "?"),
	       cli_str(u, "type", "?"), mode, cli_str(u, "state", "?"), cli_str(u, "iface", "-"),
	       addr ? addr : "-", latency, loss);
	if (json_is_string(json_object_get(u, "error")))
		printf("  error: %s\n", cli_str(u, "error", ""));
}

static int uplink_status(struct cli *cli, int argc, char **argv)
{
	json_t *res, *u;
	size_t i;
	int r;

	if (argc > 2)
		return cli_usage_error(cli, "uplink", "`uplink status' takes at most one NAME");
	r = cli_call(cli, "uplink_status", name_args(argc == 2 ? argv[1] : NULL), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, "uplink", res);
		json_decref(res);
		return r;
	}
	if (json_array_size(res) == 0)
		printf("no uplinks: add an [uplink.NAME] section to the configuration\n");
	else
		printf("%-12s %-10s %-10s %-9s %-15s %-28s %-10s %s\n", "NAME", "TYPE", "MODE",
		       "STATE", "IFACE", "ADDRESS", "LATENCY", "LOSS");
	json_array_foreach(res, i, u) print_row(u);
	json_decref(res);
	return CLI_EXIT_OK;
}

static int uplink_updown(struct cli *cli, int argc, char **argv)
{
	bool up = strcmp(argv[0], "up") == 0;
	json_t *res;
	int r;

	if (argc != 2)
		return cli_usage_error(cli, "uplink", "`uplink %s' takes one NAME", argv[0]);
	r = cli_call(cli, up ? "uplink_up" : "uplink_down", name_args(argv[1]), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		r = cli_print_json(cli, "uplink", res);
	else if (up)
		printf("uplink %s: up on %s\n", argv[1], cli_str(res, "iface", "?"));
	else
		printf("uplink %s: down\n", argv[1]);
	json_decref(res);
	return r;
}

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} subs[] = {
	{ "status", uplink_status },
	{ "up", uplink_updown },
	{ "down", uplink_updown },
};

int cmd_uplink(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, argv[0]);
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(subs[i].name, argv[1]) == 0)
			return subs[i].run(cli, argc - 1, argv + 1);
	return cli_usage_error(cli, argv[0], "unknown subcommand `%s'", argv[1]);
}
