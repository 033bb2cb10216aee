/*
 * manta whois and manta ping: who is behind an address or a name, and
 * whether they answer through the mesh. HOST.NETWORK picks a network when a
 * name is in several; the daemon resolves both.
 */
#include <math.h>
#include <stdio.h>

#include "cli/cli.h"

#define PING_DEFAULT_COUNT 3
#define PING_MAX_COUNT 100

static const struct option ping_opts[] = {
	{ "count", required_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

static void print_who(json_t *w)
{
	const char *net = cli_str(w, "network", NULL);

	printf("%s%s%s\n", cli_str(w, "hostname", "?"), net ? "." : "", net ? net : "");
	printf("  public key: %s\n  ipv6: %s\n  ipv4: %s\n", cli_str(w, "public_key", "?"),
	       cli_str(w, "ipv6", "?"), cli_str(w, "ipv4", "?"));
}

int cmd_whois(struct cli *cli, int argc, char **argv)
{
	json_t *res, *w;
	size_t i;
	int r;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage(cli, argv[0]);
	r = cli_call(cli, "whois", json_pack("{s:s}", "query", argv[1]), &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], res);
	} else if (json_is_array(res)) {
		json_array_foreach(res, i, w)
		{
			if (i)
				printf("\n");
			print_who(w);
		}
	} else {
		print_who(res);
	}
	json_decref(res);
	return r;
}

/* A summary like ping(8)'s; mantad reports each echo as progress while it
 * runs. 1 if no echo came back. */
static int print_summary(json_t *res)
{
	json_t *replies = json_object_get(res, "replies"), *rtt;
	double min = INFINITY, max = 0, sum = 0;
	size_t i, got = 0, sent = json_array_size(replies);

	json_array_foreach(replies, i, rtt)
	{
		double ms = json_number_value(rtt);

		if (!json_is_number(rtt))
			continue;
		got++;
		sum += ms;
		min = ms < min ? ms : min;
		max = ms > max ? ms : max;
	}
	printf("%s (%s): %zu sent, %zu received, %.0f%% lost", cli_str(res, "host", "?"),
	       cli_str(res, "ipv6", "?"), sent, got,
	       sent ? 100.0 * (double)(sent - got) / (double)sent : 0.0);
	if (got)
		printf(", rtt min/avg/max %.3f/%.3f/%.3f ms, %s", min, sum / (double)got, max,
		       json_is_true(json_object_get(res, "direct")) ? "direct" : "relayed");
	printf("\n");
	return got ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_ping(struct cli *cli, int argc, char **argv)
{
	long long count = PING_DEFAULT_COUNT;
	json_t *res;
	int c, r;

	while ((c = cli_getopt(cli, argc, argv, "c:", ping_opts)) != -1) {
		if (c != 'c')
			return CLI_EXIT_USAGE;
		if (!cli_parse_int(optarg, 1, PING_MAX_COUNT, &count))
			return cli_usage_error(cli, argv[0],
					       "count `%s' is not a number from 1 to %d", optarg,
					       PING_MAX_COUNT);
	}
	if (argc - optind != 1)
		return cli_usage(cli, argv[0]);
	r = cli_call(cli, "ping",
		     json_pack("{s:s,s:I}", "host", argv[optind], "count", (json_int_t)count),
		     &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], res);
		/* As in human mode: no echo answered is a failure. */
		if (r == CLI_EXIT_OK && json_is_array(json_object_get(res, "replies"))) {
			bool any = false;
			size_t i;
			json_t *rtt;

			json_array_foreach(json_object_get(res, "replies"), i, rtt)
				any |= json_is_number(rtt);
			r = any ? CLI_EXIT_OK : CLI_EXIT_FAIL;
		}
	} else {
		r = print_summary(res);
	}
	json_decref(res);
	return r;
}
