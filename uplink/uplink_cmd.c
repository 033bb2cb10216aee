/*
 * The uplink commands (uplink.h), for the registry and so for the control
 * socket, REST (GET /tunnels, POST /tunnels/NAME/up|down) and MCP:
 *
 *   uplink_status {name?}  [status, ...] of every uplink, or of the one
 *                          named (uplink_status_json's fields)
 *   uplink_up {name}       bring it up (mutating); its status
 *   uplink_down {name}     take it down (mutating); its status
 */
#include <string.h>

#include "daemon/commands.h"
#include "daemon/mantad.h"
#include "uplink/uplink.h"

/* The uplink args name, or NULL after failing the call. */
static struct uplink *named(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	struct uplink *u = name ? uplinks_find(&d->uplinks, name) : NULL;
	char known[UPLINK_MAX * UPLINK_NAME_MAX + 16] = "";

	if (u)
		return u;
	for (size_t i = 0; i < d->uplinks.n; i++) {
		if (i)
			strcat(known, ", ");
		strcat(known, d->uplinks.v[i].cfg.name);
	}
	command_fail(call, "no uplink `%s' (%s%s)", name ? name : "",
		     d->uplinks.n ? "configured: " : "no [uplink.NAME] in the configuration",
		     known);
	return NULL;
}

static void command_uplink_status(struct mantad *d, struct command_call *call, json_t *args)
{
	json_t *list;
	struct uplink *u;

	if (json_object_get(args, "name")) {
		u = named(d, call, args);
		if (u)
			command_reply(call, json_pack("[o]", uplink_status_json(u)));
		return;
	}
	list = json_array();
	for (size_t i = 0; i < d->uplinks.n; i++)
		json_array_append_new(list, uplink_status_json(&d->uplinks.v[i]));
	command_reply(call, list);
}

static void command_uplink_up(struct mantad *d, struct command_call *call, json_t *args)
{
	struct uplink *u = named(d, call, args);
	char err[256];

	if (!u)
		return;
	if (uplink_up(u, err, sizeof(err)) < 0) {
		command_fail(call, "uplink %s: %s", u->cfg.name, err);
		return;
	}
	command_reply(call, uplink_status_json(u));
}

static void command_uplink_down(struct mantad *d, struct command_call *call, json_t *args)
{
	struct uplink *u = named(d, call, args);

	if (!u)
		return;
	uplink_down(u);
	command_reply(call, uplink_status_json(u));
}

#define NAME_PROP                                                                         \
	"\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":31,\"description\":" \
	"\"the uplink, as in [uplink.NAME]\"}"
#define ARGS(req) \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" NAME_PROP "}" req "}"

const struct command uplink_commands[] = {
	{ "uplink_status", "the IPv6 uplinks: state, latency, loss, bytes, addresses", ARGS(""),
	  false, command_uplink_status },
	{ "uplink_up", "bring an uplink up", ARGS(",\"required\":[\"name\"]"), true,
	  command_uplink_up },
	{ "uplink_down", "take an uplink down", ARGS(",\"required\":[\"name\"]"), true,
	  command_uplink_down },
};
const size_t uplink_commands_count = ARRAY_SIZE(uplink_commands);
