/*
 * manta probe udp PORT: ask a peer to send a datagram to this node's public
 * IPv6 address on PORT from outside the mesh, and say whether it arrived.
 * Exit 0 when it did, 1 when it did not (or the probe could not run).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct option probe_opts[] = {
	{ "via", required_argument, NULL, 'v' },
	{ "address", required_argument, NULL, 'a' },
	{ NULL, 0, NULL, 0 },
};

const char cmd_probe_options[] =
	"  --via MEMBER     the peer that sends the datagram: a member's name, a peer's\n"
	"                   mesh address or public key (default: a peer with a session\n"
	"                   and an IPv6 endpoint, preferably on another /64)\n"
	"  --address V6     this node's address to probe (default: its first announced\n"
	"                   global IPv6 endpoint)\n"
	"\nThe datagram comes from outside the tunnel, so it tells whether the\n"
	"internet can reach PORT, whether or not an application listens there.\n";

static void print_result(json_t *res)
{
	json_t *rtt = json_object_get(res, "rtt_ms");

	printf("udp/%lld on %s: ", (long long)json_integer_value(json_object_get(res, "port")),
	       cli_str(res, "address", "?"));
	if (json_is_true(json_object_get(res, "arrived")))
		printf("reachable (from %s via %s, %.1f ms)\n", cli_str(res, "from", "?"),
		       cli_str(res, "via", "?"), json_number_value(rtt));
	else
		printf("not reachable: nothing arrived in 3 s (via %s%s)\n",
		       cli_str(res, "via", "?"),
		       json_is_true(json_object_get(res, "sent")) ? ", which sent it" :
								    ", which did not answer");
}

int cmd_probe(struct cli *cli, int argc, char **argv)
{
	const char *via = NULL, *address = NULL;
	long long port;
	json_t *args, *res;
	int c, r;

	while ((c = cli_getopt(cli, argc, argv, "", probe_opts)) != -1) {
		if (c == 'v')
			via = optarg;
		else if (c == 'a')
			address = optarg;
		else
			return CLI_EXIT_USAGE;
	}
	if (argc - optind != 2 || strcmp(argv[optind], "udp") != 0)
		return cli_usage(cli, argv[0]);
	if (!cli_parse_int(argv[optind + 1], 1, 65535, &port))
		return cli_usage_error(cli, argv[0], "port `%s' is not a number from 1 to 65535",
				       argv[optind + 1]);
	args = json_pack("{s:I}", "port", (json_int_t)port);
	if (args && via)
		json_object_set_new(args, "via", json_string(via));
	if (args && address)
		json_object_set_new(args, "address", json_string(address));
	r = cli_call(cli, "probe_udp", args, &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		r = cli_print_json(cli, argv[0], res);
	else
		print_result(res);
	if (r == CLI_EXIT_OK && !json_is_true(json_object_get(res, "arrived")))
		r = CLI_EXIT_FAIL;
	json_decref(res);
	return r;
}
