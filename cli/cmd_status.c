/*
 * manta status and manta peers: this node, its networks and its peers, in
 * the style of `wg show' for people, or (--json) the daemon's JSON. Fields
 * the daemon leaves out are left out here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void line(const char *label, const char *value)
{
	if (value)
		printf("  %s: %s\n", label, value);
}

/* "bob.home, bob.work", or NULL if the daemon does not know a name. */
static char *peer_title(json_t *peer)
{
	const char *host = cli_str(peer, "hostname", NULL);
	json_t *nets = json_object_get(peer, "networks"), *net;
	size_t i, cap, len = 0;
	char *out;

	if (!host)
		return NULL;
	cap = strlen(host) + 1;
	json_array_foreach(nets, i, net) cap +=
		strlen(host) + strlen(json_string_value(net) ? json_string_value(net) : "") + 4;
	out = malloc(cap);
	if (!out)
		return NULL;
	if (json_array_size(nets) == 0)
		return strcpy(out, host);
	json_array_foreach(nets, i, net)
		len += (size_t)snprintf(out + len, cap - len, "%s%s.%s", i ? ", " : "", host,
					json_string_value(net) ? json_string_value(net) : "?");
	return out;
}

void cli_print_peer(json_t *p, time_t now)
{
	char *title = peer_title(p);
	char ago[32], rx[32], tx[32], transfer[80];

	printf("peer: %s\n", title ? title : cli_str(p, "public_key", "(unknown)"));
	if (title)
		line("public key", cli_str(p, "public_key", NULL));
	free(title);
	line("ipv6", cli_str(p, "ipv6", NULL));
	line("ipv4", cli_str(p, "ipv4", NULL));
	line("endpoint", cli_str(p, "endpoint", "(none yet)"));
	cli_format_ago(json_object_get(p, "last_handshake"), now, ago, sizeof(ago));
	line("latest handshake", ago);
	if (json_is_integer(json_object_get(p, "rx_bytes"))) {
		cli_format_bytes((uint64_t)json_integer_value(json_object_get(p, "rx_bytes")), rx,
				 sizeof(rx));
		cli_format_bytes((uint64_t)json_integer_value(json_object_get(p, "tx_bytes")), tx,
				 sizeof(tx));
		snprintf(transfer, sizeof(transfer), "%s received, %s sent", rx, tx);
		line("transfer", transfer);
	}
	if (json_is_integer(json_object_get(p, "path_mtu"))) { /* path MTU (daemon/pmtu.h) */
		snprintf(transfer, sizeof(transfer), "%lld, inner packets up to %lld (%s%s)",
			 (long long)json_integer_value(json_object_get(p, "path_mtu")),
			 (long long)json_integer_value(json_object_get(p, "max_inner")),
			 cli_str(p, "probe_state", "?"),
			 json_is_true(json_object_get(p, "outer_fragments")) ? ", IPv6 fragments" :
									       "");
		line("path mtu", transfer);
	}
}

static void print_network(json_t *n)
{
	json_t *members = json_object_get(n, "members");
	char count[32];

	printf("network: %s\n", cli_str(n, "name", "?"));
	line("role", json_is_true(json_object_get(n, "owner")) ? "owner" : "member");
	if (json_is_false(json_object_get(n, "active")))
		line("state", "revoked (the owner removed this node)");
	line("hostname", cli_str(n, "hostname", NULL));
	if (json_is_integer(members)) {
		snprintf(count, sizeof(count), "%lld", (long long)json_integer_value(members));
		line("members", count);
	}
}

static void print_status(json_t *st)
{
	time_t now = time(NULL);
	char port[16];
	size_t i;
	json_t *v;

	printf("node: %s\n", cli_str(st, "tun", "?"));
	line("public key", cli_str(st, "public_key", NULL));
	line("ipv6", cli_str(st, "ipv6", NULL));
	line("ipv4", cli_str(st, "ipv4", NULL));
	if (json_is_integer(json_object_get(st, "listen_port"))) {
		snprintf(port, sizeof(port), "%lld",
			 (long long)json_integer_value(json_object_get(st, "listen_port")));
		line("listening port", port);
	}
	if (json_is_object(json_object_get(st, "dns"))) { /* Magic DNS */
		json_t *dns = json_object_get(st, "dns");
		char text[96];

		snprintf(text, sizeof(text), "%s%s (resolver 100.100.100.53, 200::53)",
			 cli_str(dns, "mode", "?"),
			 json_is_true(json_object_get(dns, "applied")) ? "" : ", not applied");
		line("dns", text);
	}
	json_array_foreach(json_object_get(st, "uplinks"), i, v)
	{
		char label[48], text[160];
		json_t *lat = json_object_get(v, "latency_ms");
		const char *addr =
			json_string_value(json_array_get(json_object_get(v, "addresses"), 0));
		int n;

		snprintf(label, sizeof(label), "uplink %s", cli_str(v, "name", "?"));
		n = snprintf(text, sizeof(text), "%s (%s", cli_str(v, "state", "?"),
			     cli_str(v, "type", "?"));
		if (json_is_string(json_object_get(v, "iface")))
			n += snprintf(text + n, sizeof(text) - (size_t)n, " on %s",
				      cli_str(v, "iface", ""));
		if (addr && n < (int)sizeof(text))
			n += snprintf(text + n, sizeof(text) - (size_t)n, ", %s", addr);
		if (json_is_number(lat) && n < (int)sizeof(text))
			n += snprintf(text + n, sizeof(text) - (size_t)n, ", %.1f ms",
				      json_number_value(lat));
		if (n < (int)sizeof(text))
			snprintf(text + n, sizeof(text) - (size_t)n, ")");
		line(label, text);
	}
	cli_print_firewall_status(json_object_get(st, "firewall"));
	json_array_foreach(json_object_get(st, "networks"), i, v)
	{
		printf("\n");
		print_network(v);
	}
	json_array_foreach(json_object_get(st, "peers"), i, v)
	{
		printf("\n");
		cli_print_peer(v, now);
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
	if (cli->json)
		r = cli_print_json(cli, argv[0], st);
	else
		print_status(st);
	json_decref(st);
	return r;
}

int cmd_peers(struct cli *cli, int argc, char **argv)
{
	time_t now = time(NULL);
	json_t *args, *peers, *p;
	size_t i;
	int r;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return cli_usage(cli, argv[0]);
	args = argc == 2 ? json_pack("{s:s}", "network", argv[1]) : json_object();
	r = cli_call(cli, "peers", args, &peers);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], peers);
	} else if (json_array_size(peers) == 0) {
		printf("no peers%s%s\n", argc == 2 ? " in " : "", argc == 2 ? argv[1] : "");
	} else {
		json_array_foreach(peers, i, p)
		{
			if (i)
				printf("\n");
			cli_print_peer(p, now);
		}
	}
	json_decref(peers);
	return r;
}
