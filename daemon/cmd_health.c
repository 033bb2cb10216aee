/*
 * `health' and `v6_address': the two read-only commands behind the REST
 * API's GET /health and GET /v6/address (and the MCP tools of the same
 * names). Both answer at once from the daemon's state.
 *
 *   health      {"status": "ok" | "degraded", "state": "up" | "down",
 *                "version", "uptime" (seconds), "peers",
 *                "peers_with_session", "networks", "v6_reachable",
 *                "v6_latency_ms", "active_tunnels", "last_check"}
 *               degraded while `manta down' has taken the data plane away;
 *               the v6_ fields and last_check are the best uplink's
 *               (uplinks_best: up before degraded, then the lowest
 *               latency), active_tunnels the uplinks not down
 *   v6_address  {"addresses": [{"iface", "address", "prefix", "kind",
 *                "reachable"}]}: this node's overlay IPv6 address (kind
 *                "overlay"), reachable while the TUN is up, and each up
 *                uplink's global addresses (kind "uplink", with "uplink"
 *                and "latency_ms")
 *
 * The field names are an interface, like status's: later versions add
 * fields (the uplinks add theirs) and never rename.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/api_http.h"
#include "daemon/commands.h"
#include "daemon/mantad.h"

/* The best uplink's reachability into o (health's v6_ fields). */
static void uplink_health(const struct mantad *d, json_t *o)
{
	const struct uplink *best = uplinks_best(&d->uplinks);
	uint64_t rtt = best ? health_median_rtt(&best->health) : 0;
	json_int_t active = 0;

	for (size_t i = 0; i < d->uplinks.n; i++)
		active += d->uplinks.v[i].admin_up && d->uplinks.v[i].health.state != HEALTH_DOWN;
	json_object_set_new(o, "v6_reachable",
			    json_boolean(best && best->health.state != HEALTH_DOWN));
	json_object_set_new(o, "v6_latency_ms", rtt ? json_real((double)rtt / 1e6) : json_null());
	json_object_set_new(o, "active_tunnels", json_integer(active));
	json_object_set_new(o, "last_check",
			    json_integer(best ? (json_int_t)best->health.last_check : 0));
}

static void command_health(struct mantad *d, struct command_call *call, json_t *args)
{
	long long now = (long long)time(NULL), sessions = 0, npeers = 0;
	json_t *o;

	for (const struct peer *p = d->dev.peers.head; p; p = p->list_next) {
		npeers++;
		sessions += p->current != NULL;
	}
	o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "status", d->down ? "degraded" : "ok",
		      "state", d->down ? "down" : "up", "version", MANTA_VERSION, "uptime",
		      (json_int_t)(now - (long long)d->started_at), "peers", (json_int_t)npeers,
		      "peers_with_session", (json_int_t)sessions, "networks",
		      (json_int_t)d->mem.nnets);
	if (o)
		uplink_health(d, o);
	command_reply(call, o);
}

/* Each up uplink's global addresses, as v6_address lists them. */
static void uplink_addresses(const struct mantad *d, json_t *list)
{
	for (size_t i = 0; i < d->uplinks.n; i++) {
		const struct uplink *u = &d->uplinks.v[i];
		uint64_t rtt = health_median_rtt(&u->health);
		json_t *st, *addrs, *a;
		size_t j;

		if (!u->admin_up)
			continue;
		st = uplink_status_json(u);
		addrs = json_object_get(st, "addresses");
		json_array_foreach(addrs, j, a)
		{
			const char *text = json_string_value(a), *slash = strchr(text, '/');
			char addr[INET6_ADDRSTRLEN];

			if (!slash || (size_t)(slash - text) >= sizeof(addr))
				continue;
			memcpy(addr, text, (size_t)(slash - text));
			addr[slash - text] = '\0';
			json_array_append_new(
				list, json_pack("{s:s,s:s,s:i,s:s,s:s,s:b,s:o}", "iface", u->ifname,
						"address", addr, "prefix", atoi(slash + 1), "kind",
						"uplink", "uplink", u->cfg.name, "reachable",
						u->health.state != HEALTH_DOWN, "latency_ms",
						rtt ? json_real((double)rtt / 1e6) : json_null()));
		}
		json_decref(st);
	}
}

static void command_v6_address(struct mantad *d, struct command_call *call, json_t *args)
{
	char v6[INET6_ADDRSTRLEN];

	json_t *o;

	inet_ntop(AF_INET6, d->id->v6, v6, sizeof(v6));
	o = json_pack("{s:[{s:s,s:s,s:i,s:s,s:b}]}", "addresses", "iface", d->ifname, "address", v6,
		      "prefix", 128, "kind", "overlay", "reachable", !d->down);
	if (o)
		uplink_addresses(d, json_object_get(o, "addresses"));
	command_reply(call, o);
}

static const char no_args[] = "{\"type\":\"object\",\"properties\":{},"
			      "\"additionalProperties\":false}";

const struct command api_commands[] = {
	{ "health", "whether this node is up: state, uptime, peers with a session", no_args, false,
	  command_health },
	{ "v6_address", "this node's IPv6 addresses and whether they are reachable", no_args, false,
	  command_v6_address },
};
const size_t api_commands_count = ARRAY_SIZE(api_commands);
