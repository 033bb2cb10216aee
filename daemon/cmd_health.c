/*
 * `health' and `v6_address': the two read-only commands behind the REST
 * API's GET /health and GET /v6/address (and the MCP tools of the same
 * names). Both answer at once from the daemon's state.
 *
 *   health      {"status": "ok" | "degraded", "state": "up" | "down",
 *                "version", "uptime" (seconds), "peers",
 *                "peers_with_session", "networks"}
 *               degraded while `manta down' has taken the data plane away
 *   v6_address  {"addresses": [{"iface", "address", "prefix", "kind",
 *                "reachable"}]}: this node's overlay IPv6 address (kind
 *                "overlay"), reachable while the TUN is up
 *
 * The field names are an interface, like status's: later versions add
 * fields (the uplinks add theirs) and never rename.
 */
#include <arpa/inet.h>
#include <time.h>

#include "daemon/api_http.h"
#include "daemon/commands.h"
#include "daemon/mantad.h"

static void command_health(struct mantad *d, struct command_call *call, json_t *args)
{
	long long now = (long long)time(NULL), sessions = 0, npeers = 0;

	for (const struct peer *p = d->dev.peers.head; p; p = p->list_next) {
		npeers++;
		sessions += p->current != NULL;
	}
	command_reply(call, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "status",
				      d->down ? "degraded" : "ok", "state", d->down ? "down" : "up",
				      "version", MANTA_VERSION, "uptime",
				      (json_int_t)(now - (long long)d->started_at), "peers",
				      (json_int_t)npeers, "peers_with_session",
				      (json_int_t)sessions, "networks", (json_int_t)d->mem.nnets));
}

static void command_v6_address(struct mantad *d, struct command_call *call, json_t *args)
{
	char v6[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, d->id->v6, v6, sizeof(v6));
	command_reply(call, json_pack("{s:[{s:s,s:s,s:i,s:s,s:b}]}", "addresses", "iface",
				      d->ifname, "address", v6, "prefix", 128, "kind", "overlay",
				      "reachable", !d->down));
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
