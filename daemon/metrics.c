/*
 * Prometheus text from the status object (metrics.h). The families come
 * out in a fixed order, each once, with its HELP and TYPE before its
 * samples: node, peers, packet counters (the drops in one family with
 * direction and reason labels), gossip, networks, then the status counters
 * this file does not know by name.
 */
#include "daemon/metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* What each of status.counters means here. family NULL: a drop, in
 * manta_packets_dropped_total with these labels. */
static const struct counter_name {
	const char *key;
	const char *family;
	const char *help;
	const char *direction, *reason; /* drops */
} counter_names[] = {
	{ "rx_invalid", NULL, NULL, "rx", "invalid" },
	{ "rx_bad_mac1", NULL, NULL, "rx", "bad_mac1" },
	{ "rx_unknown_peer", NULL, NULL, "rx", "unknown_peer" },
	{ "rx_handshake_invalid", NULL, NULL, "rx", "handshake_invalid" },
	{ "rx_replay", NULL, NULL, "rx", "replay" },
	{ "rx_bad_source", NULL, NULL, "rx", "bad_source" },
	{ "rx_auth_failed", NULL, NULL, "rx", "auth_failed" },
	{ "rx_unknown_index", NULL, NULL, "rx", "unknown_index" },
	{ "rx_expired_key", NULL, NULL, "rx", "expired_key" },
	{ "tx_no_route", NULL, NULL, "tx", "no_route" },
	{ "tx_no_endpoint", NULL, NULL, "tx", "no_endpoint" },
	{ "tx_staged_dropped", NULL, NULL, "tx", "staged_dropped" },
	{ "tun_rx_oversize", NULL, NULL, "tx", "oversize" },
	{ "cookie_sent", "manta_cookie_replies_sent_total", "Cookie replies sent (under load).",
	  NULL, NULL },
	{ "cookie_received", "manta_cookie_replies_received_total", "Cookie replies received.",
	  NULL, NULL },
	{ "tun_rx_packets", "manta_tun_rx_packets_total", "Packets read from the TUN device.", NULL,
	  NULL },
	{ "tun_tx_packets", "manta_tun_tx_packets_total", "Packets written to the TUN device.",
	  NULL, NULL },
	{ "tun_tx_errors", "manta_tun_tx_errors_total", "Failed writes to the TUN device.", NULL,
	  NULL },
	{ "udp_rx_datagrams", "manta_udp_rx_datagrams_total", "UDP datagrams received.", NULL,
	  NULL },
	{ "udp_tx_datagrams", "manta_udp_tx_datagrams_total", "UDP datagrams sent.", NULL, NULL },
	{ "udp_tx_errors", "manta_udp_tx_errors_total", "Failed UDP sends.", NULL, NULL },
};

static const struct counter_name *counter_name(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(counter_names); i++)
		if (strcmp(counter_names[i].key, key) == 0)
			return &counter_names[i];
	return NULL;
}

/* --- the text format ------------------------------------------------------------ */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* name{k1="v1",…} value; labels is NULL or {k1, v1, k2, v2, …, NULL}. */
static void sample(FILE *f, const char *name, const char *const *labels, long long value)
{
	fputs(name, f);
	if (labels && labels[0]) {
		fputc('{', f);
		for (size_t i = 0; labels[i]; i += 2) {
			fprintf(f, "%s%s=", i ? "," : "", labels[i]);
			label_value(f, labels[i + 1]);
		}
		fputc('}', f);
	}
	fprintf(f, " %lld\n", value);
}

static long long int_of(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* A JSON key as part of a metric name: [a-zA-Z0-9_] only. */
static void name_part(char *out, size_t cap, const char *key)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < cap; i++) {
		char c = key[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_';

		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

/* --- the families ------------------------------------------------------------------ */

static void node(FILE *f, json_t *st)
{
	const char *info[] = { "version",    json_string_value(json_object_get(st, "version")),
			       "public_key", json_string_value(json_object_get(st, "public_key")),
			       "ipv6",	     json_string_value(json_object_get(st, "ipv6")),
			       "ipv4",	     json_string_value(json_object_get(st, "ipv4")),
			       "tun",	     json_string_value(json_object_get(st, "tun")),
			       NULL };
	const char *state = json_string_value(json_object_get(st, "state"));

	family(f, "manta_info", "gauge", "This node: version, key, addresses; always 1.");
	sample(f, "manta_info", info, 1);
	family(f, "manta_up", "gauge",
	       "1 while the data plane is up, 0 after `manta down' took the TUN away.");
	sample(f, "manta_up", NULL, !state || strcmp(state, "down") != 0);
	if (json_is_integer(json_object_get(st, "started_at"))) {
		family(f, "manta_start_time_seconds", "gauge", "When mantad started (Unix time).");
		sample(f, "manta_start_time_seconds", NULL, int_of(st, "started_at"));
	}
}

/* One per-peer family over every peer. */
static void peer_family(FILE *f, json_t *peers, const char *name, const char *type,
			const char *help, const char *key)
{
	size_t i;
	json_t *p;

	family(f, name, type, help);
	json_array_foreach(peers, i, p)
	{
		json_t *v = json_object_get(p, key);
		const char *labels[] = { "public_key",
					 json_string_value(json_object_get(p, "public_key")),
					 "hostname",
					 json_string_value(json_object_get(p, "hostname")), NULL };

		if (json_is_integer(v))
			sample(f, name, labels, (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			sample(f, name, labels, json_is_true(v));
	}
}

static void peers(FILE *f, json_t *st)
{
	json_t *peers = json_object_get(st, "peers"), *p;
	long long sessions = 0;
	size_t i;

	if (!json_is_array(peers))
		return;
	json_array_foreach(peers, i, p) sessions += json_is_true(json_object_get(p, "session"));
	family(f, "manta_peers", "gauge",
	       "Peers: static ones and members of this node's networks.");
	sample(f, "manta_peers", NULL, (long long)json_array_size(peers));
	family(f, "manta_peers_with_session", "gauge", "Peers with a current session.");
	sample(f, "manta_peers_with_session", NULL, sessions);
	peer_family(f, peers, "manta_peer_rx_bytes_total", "counter",
		    "Bytes received from the peer (WireGuard transport data).", "rx_bytes");
	peer_family(f, peers, "manta_peer_tx_bytes_total", "counter",
		    "Bytes sent to the peer (WireGuard transport data).", "tx_bytes");
	peer_family(f, peers, "manta_peer_handshakes_total", "counter",
		    "Handshakes completed with the peer.", "handshakes");
	peer_family(f, peers, "manta_peer_last_handshake_seconds", "gauge",
		    "When the last handshake with the peer completed (Unix time); absent "
		    "before the first.",
		    "last_handshake");
	peer_family(f, peers, "manta_peer_session", "gauge",
		    "1 if the peer has a current session, else 0.", "session");
	if (json_object_get(json_array_get(peers, 0), "path_mtu"))
		peer_family(f, peers, "manta_peer_path_mtu_bytes", "gauge",
			    "The largest UDP datagram the path to the peer carries.", "path_mtu");
}

static void drops(FILE *f, json_t *counters)
{
	family(f, "manta_packets_dropped_total", "counter",
	       "Packets dropped, by direction (rx: from the network, tx: from the TUN) and "
	       "reason.");
	for (size_t i = 0; i < ARRAY_SIZE(counter_names); i++) {
		const struct counter_name *c = &counter_names[i];
		json_t *v = json_object_get(counters, c->key);
		const char *labels[] = { "direction", c->direction, "reason", c->reason, NULL };

		if (!c->family && json_is_integer(v))
			sample(f, "manta_packets_dropped_total", labels,
			       (long long)json_integer_value(v));
	}
}

static void counters(FILE *f, json_t *st)
{
	json_t *counters = json_object_get(st, "counters"), *v;
	const char *key;
	char name[128], part[96], help[256];

	if (!json_is_object(counters))
		return;
	drops(f, counters);
	for (size_t i = 0; i < ARRAY_SIZE(counter_names); i++) {
		const struct counter_name *c = &counter_names[i];

		v = json_object_get(counters, c->key);
		if (!c->family || !json_is_integer(v))
			continue;
		family(f, c->family, "counter", c->help);
		sample(f, c->family, NULL, (long long)json_integer_value(v));
	}
	json_object_foreach(counters, key, v)
	{
		if (counter_name(key) || !json_is_integer(v))
			continue;
		name_part(part, sizeof(part), key);
		snprintf(name, sizeof(name), "manta_%s_total", part);
		snprintf(help, sizeof(help), "The status counter %s.", part);
		family(f, name, "counter", help);
		sample(f, name, NULL, (long long)json_integer_value(v));
	}
}

static void gossip(FILE *f, json_t *st)
{
	json_t *g = json_object_get(st, "gossip"), *v;
	const char *key;
	char name[128], part[96], help[256];

	json_object_foreach(g, key, v)
	{
		if (!json_is_integer(v))
			continue;
		name_part(part, sizeof(part), key);
		snprintf(name, sizeof(name), "manta_gossip_%s_total", part);
		snprintf(help, sizeof(help), "Gossip and join messages: %s (status.gossip.%s).",
			 part, part);
		family(f, name, "counter", help);
		sample(f, name, NULL, (long long)json_integer_value(v));
	}
}

static void networks(FILE *f, json_t *st)
{
	json_t *nets = json_object_get(st, "networks"), *n;
	size_t i;

	if (!json_is_array(nets))
		return;
	family(f, "manta_networks", "gauge", "Networks this node belongs to.");
	sample(f, "manta_networks", NULL, (long long)json_array_size(nets));
	family(f, "manta_network_members", "gauge",
	       "Members of each network, revoked ones not "
	       "counted.");
	json_array_foreach(nets, i, n)
	{
		const char *labels[] = { "network", json_string_value(json_object_get(n, "name")),
					 NULL };

		sample(f, "manta_network_members", labels, int_of(n, "members"));
	}
}

/* Every integer of obj as one family's samples, labelled label=KEY. */
static void by_key(FILE *f, json_t *obj, const char *name, const char *help, const char *label)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return;
	family(f, name, "counter", help);
	json_object_foreach(obj, key, v)
	{
		const char *labels[] = { label, key, NULL };

		if (json_is_integer(v))
			sample(f, name, labels, (long long)json_integer_value(v));
	}
}

/* One sample of obj[key] as its own family, when it is an integer. */
static void single(FILE *f, json_t *obj, const char *key, const char *name, const char *type,
		   const char *help)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return;
	family(f, name, type, help);
	sample(f, name, NULL, (long long)json_integer_value(v));
}

/* status.dns.counters, each a counter of its own. */
static void dns(FILE *f, json_t *st)
{
	json_t *c = json_object_get(json_object_get(st, "dns"), "counters"), *v;
	const char *key;
	char name[128], part[96], help[256];

	json_object_foreach(c, key, v)
	{
		if (!json_is_integer(v))
			continue;
		name_part(part, sizeof(part), key);
		snprintf(name, sizeof(name), "manta_dns_%s_total", part);
		snprintf(help, sizeof(help), "The resolver: %s (status.dns.counters.%s).", part,
			 part);
		family(f, name, "counter", help);
		sample(f, name, NULL, (long long)json_integer_value(v));
	}
}

/* status.firewall: drops and passes by reason, flows. */
static void firewall(FILE *f, json_t *st)
{
	json_t *fw = json_object_get(st, "firewall");

	if (!json_is_object(fw))
		return;
	by_key(f, json_object_get(fw, "dropped"), "manta_firewall_dropped_total",
	       "Packets the firewall dropped, by reason (status.firewall.dropped).", "reason");
	by_key(f, json_object_get(fw, "passed"), "manta_firewall_passed_total",
	       "Packets passed without a rule, by reason (status.firewall.passed).", "reason");
	single(f, fw, "rejected", "manta_firewall_rejected_total", "counter",
	       "Packets refused with an ICMP error.");
	single(f, fw, "rules", "manta_firewall_rules", "gauge", "Firewall rules.");
	single(f, fw, "flows", "manta_firewall_flows", "gauge", "Connections tracked now.");
	single(f, fw, "max_flows", "manta_firewall_flows_max", "gauge",
	       "Connections that can be tracked at once.");
	single(f, fw, "flows_created", "manta_firewall_flows_created_total", "counter",
	       "Connections tracked so far.");
	single(f, fw, "flows_expired", "manta_firewall_flows_expired_total", "counter",
	       "Tracked connections that timed out.");
	single(f, fw, "flows_evicted", "manta_firewall_flows_evicted_total", "counter",
	       "Tracked connections pushed out by newer ones (the table was full).");
}

/* name{labels} value, for a fractional value. */
static void sample_real(FILE *f, const char *name, const char *const *labels, double value)
{
	fputs(name, f);
	fputc('{', f);
	for (size_t i = 0; labels[i]; i += 2) {
		fprintf(f, "%s%s=", i ? "," : "", labels[i]);
		label_value(f, labels[i + 1]);
	}
	fprintf(f, "} %.9g\n", value);
}

/* One family over every uplink of status.uplinks: obj[key] of each. */
static void uplink_family(FILE *f, json_t *list, const char *key, const char *name,
			  const char *type, const char *help)
{
	json_t *u;
	size_t i;

	family(f, name, type, help);
	json_array_foreach(list, i, u)
	{
		const char *labels[] = { "uplink", json_string_value(json_object_get(u, "name")),
					 NULL };
		json_t *v = json_object_get(u, key);

		if (json_is_integer(v) && strcmp(key, "latency_ms") != 0)
			sample(f, name, labels, (long long)json_integer_value(v));
		else if (json_is_number(v))
			sample_real(f, name, labels,
				    json_number_value(v) *
					    (strcmp(key, "latency_ms") == 0 ? 1e-3 : 1));
	}
}

/* status.uplinks: manta_uplink_up (1 when up or degraded), one-hot
 * manta_uplink_state{state}, latency, loss, bytes, drops by reason. */
static void uplinks(FILE *f, json_t *st)
{
	static const char *const states[] = { "up", "degraded", "down" };
	json_t *list = json_object_get(st, "uplinks"), *u;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return;
	family(f, "manta_uplink_up", "gauge",
	       "Whether each IPv6 uplink carries traffic (state up or degraded).");
	json_array_foreach(list, i, u)
	{
		const char *state = json_string_value(json_object_get(u, "state"));
		const char *labels[] = { "uplink", json_string_value(json_object_get(u, "name")),
					 "type", json_string_value(json_object_get(u, "type")),
					 NULL };

		sample(f, "manta_uplink_up", labels, state && strcmp(state, "down") != 0);
	}
	family(f, "manta_uplink_state", "gauge", "Each uplink's health state, one of them 1.");
	json_array_foreach(list, i, u)
	{
		const char *state = json_string_value(json_object_get(u, "state"));

		for (size_t s = 0; s < ARRAY_SIZE(states); s++) {
			const char *labels[] = { "uplink",
						 json_string_value(json_object_get(u, "name")),
						 "state", states[s], NULL };

			sample(f, "manta_uplink_state", labels, state && !strcmp(state, states[s]));
		}
	}
	uplink_family(f, list, "latency_ms", "manta_uplink_latency_seconds", "gauge",
		      "Median echo round trip through each uplink over the probe window.");
	uplink_family(f, list, "loss", "manta_uplink_loss_ratio", "gauge",
		      "Fraction of the probes in the window that were lost (0 to 1).");
	uplink_family(f, list, "rx_bytes", "manta_uplink_rx_bytes_total", "counter",
		      "Bytes the uplink's interface received.");
	uplink_family(f, list, "tx_bytes", "manta_uplink_tx_bytes_total", "counter",
		      "Bytes the uplink's interface sent.");
	family(f, "manta_uplink_dropped_total", "counter",
	       "Packets a userspace uplink dropped, by reason.");
	json_array_foreach(list, i, u)
	{
		json_t *drops = json_object_get(u, "drops"), *v;
		const char *reason;

		json_object_foreach(drops, reason, v)
		{
			const char *labels[] = { "uplink",
						 json_string_value(json_object_get(u, "name")),
						 "reason", reason, NULL };

			sample(f, "manta_uplink_dropped_total", labels,
			       (long long)json_integer_value(v));
		}
	}
}

char *metrics_render(json_t *status, size_t *len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	node(f, status);
	peers(f, status);
	counters(f, status);
	gossip(f, status);
	networks(f, status);
	dns(f, status);
	firewall(f, status);
	uplinks(f, status);
	if (fclose(f) != 0 || !text) {
		free(text);
		return NULL;
	}
	*len = size;
	return text;
}
