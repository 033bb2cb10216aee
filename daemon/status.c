/* `status`: this node, each peer and the counters, as one JSON object. The
 * field names are an interface (scripts and tests read them): add, never
 * rename. */
#include <arpa/inet.h>
#include <stdio.h>

#include "daemon/commands.h"
#include "daemon/mantad.h"

static json_t *address_string(int family, const void *addr)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, s, sizeof(s));
	return json_string(s);
}

static json_t *endpoint_string(const struct peer *p)
{
	char host[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 16];
	const struct sockaddr_in6 *e = &p->endpoint;

	if (!p->has_endpoint)
		return json_null();
	if (IN6_IS_ADDR_V4MAPPED(&e->sin6_addr)) {
		inet_ntop(AF_INET, e->sin6_addr.s6_addr + 12, host, sizeof(host));
		snprintf(s, sizeof(s), "%s:%u", host, ntohs(e->sin6_port));
	} else {
		inet_ntop(AF_INET6, &e->sin6_addr, host, sizeof(host));
		snprintf(s, sizeof(s), "[%s]:%u", host, ntohs(e->sin6_port));
	}
	return json_string(s);
}

static json_t *key_string(const uint8_t key[KEY_LEN])
{
	char b64[KEY_B64_LEN];

	key_to_base64(key, b64);
	return json_string(b64);
}

static json_t *peer_json(const struct peer *p)
{
	json_t *last =
		p->last_handshake_realtime ?
			json_integer((json_int_t)(p->last_handshake_realtime / NSEC_PER_SEC)) :
			json_null();

	json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:i,s:b}", "public_key",
			      key_string(p->public_key), "ipv6", address_string(AF_INET6, p->v6),
			      "ipv4", address_string(AF_INET, p->v4), "endpoint",
			      endpoint_string(p), "last_handshake", last, "rx_bytes",
			      (json_int_t)p->rx_bytes, "tx_bytes", (json_int_t)p->tx_bytes,
			      "handshakes", (json_int_t)p->handshakes, "persistent_keepalive",
			      p->persistent_keepalive, "session", p->current != NULL);

	pathmtu_peer_status(p, o); /* path_mtu, max_inner, probe_state, ... */
	return o;
}

#define COUNTER(obj, st, name) json_object_set_new(obj, #name, json_integer((json_int_t)(st)->name))

static json_t *counters_json(const struct mantad *d)
{
	const struct device_counters *c = &d->dev.counters;
	const struct dataplane_counters *k = &d->dp.counters;
	json_t *o = json_object();

	COUNTER(o, c, rx_invalid);
	COUNTER(o, c, rx_bad_mac1);
	COUNTER(o, c, rx_unknown_peer);
	COUNTER(o, c, rx_handshake_invalid);
	COUNTER(o, c, rx_replay);
	COUNTER(o, c, rx_bad_source);
	COUNTER(o, c, rx_auth_failed);
	COUNTER(o, c, rx_unknown_index);
	COUNTER(o, c, rx_expired_key);
	COUNTER(o, c, cookie_sent);
	COUNTER(o, c, cookie_received);
	COUNTER(o, c, tx_no_route);
	COUNTER(o, c, tx_no_endpoint);
	COUNTER(o, c, tx_staged_dropped);
	COUNTER(o, k, tun_rx_packets);
	COUNTER(o, k, tun_tx_packets);
	COUNTER(o, k, udp_rx_datagrams);
	COUNTER(o, k, udp_tx_datagrams);
	COUNTER(o, k, udp_tx_errors);
	COUNTER(o, k, tun_tx_errors);
	COUNTER(o, k, tun_rx_oversize);
	pathmtu_counters_status(d, o); /* ptb_sent, icmp_errors, ... */
	return o;
}

json_t *status_object(struct mantad *d)
{
	json_t *peers = json_array(), *st;

	for (const struct peer *p = d->dev.peers.head; p; p = p->list_next)
		json_array_append_new(peers, peer_json(p));
	st = json_pack("{s:o,s:o,s:o,s:i,s:s,s:s,s:b,s:b,s:I,s:o,s:o}", "public_key",
		       key_string(d->id->x_pk), "ipv6", address_string(AF_INET6, d->id->v6), "ipv4",
		       address_string(AF_INET, d->id->v4), "listen_port", d->cfg.listen_port, "tun",
		       d->ifname, "version", MANTA_VERSION, "v6_host_routes",
		       d->route_mode.v6_host_routes, "v4_host_routes", d->route_mode.v4_host_routes,
		       "started_at", (json_int_t)d->started_at, "peers", peers, "counters",
		       counters_json(d));
	if (st) {
		json_object_set_new(st, "state", json_string(d->down ? "down" : "up"));
		membership_status(&d->mem, st);
		filter_status(&d->fw, st);
		if (d->dns)
			dns_status(d->dns, st);
		if (d->uplinks.n) {
			json_t *up = json_array();

			for (size_t i = 0; i < d->uplinks.n; i++)
				json_array_append_new(up, uplink_status_json(&d->uplinks.v[i]));
			json_object_set_new(st, "uplinks", up);
		}
	}
	return st;
}

void command_status(struct mantad *d, struct command_call *call, json_t *args)
{
	json_t *st = status_object(d);

	if (!st) {
		command_fail(call, "out of memory");
		return;
	}
	command_reply(call, st);
}
