/* manta status: this node and its peers, for people or (--json) scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli.h"

static void print_bytes(const char *label, json_int_t n)
{
	const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	printf("%s %.2f %s", label, v, units[u]);
}

static void print_ago(json_t *t)
{
	if (!json_is_integer(t)) {
		printf("never");
		return;
	}
	long long ago = (long long)time(NULL) - (long long)json_integer_value(t);

	if (ago < 120)
		printf("%lld s ago", ago);
	else if (ago < 7200)
		printf("%lld min ago", ago / 60);
	else
		printf("%lld h ago", ago / 3600);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

static void print_human(json_t *st)
{
	size_t i;
	json_t *p;

	printf("node %s\n  key       %s\n  ipv6      %s\n  ipv4      %s\n  port      %lld\n",
	       str(st, "tun"), str(st, "public_key"), str(st, "ipv6"), str(st, "ipv4"),
	       (long long)json_integer_value(json_object_get(st, "listen_port")));
	json_array_foreach(json_object_get(st, "peers"), i, p)
	{
		printf("\npeer %s\n  ipv6      %s\n  ipv4      %s\n  endpoint  %s\n  handshake ",
		       str(p, "public_key"), str(p, "ipv6"), str(p, "ipv4"), str(p, "endpoint"));
		print_ago(json_object_get(p, "last_handshake"));
		printf("\n  transfer  ");
		print_bytes("received", json_integer_value(json_object_get(p, "rx_bytes")));
		print_bytes(", sent", json_integer_value(json_object_get(p, "tx_bytes")));
		printf("\n");
	}
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	json_t *st;
	int r;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	r = cli_call(cli, "status", NULL, &st);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", s);
		free(s);
	} else {
		print_human(st);
	}
	json_decref(st);
	return CLI_EXIT_OK;
}
