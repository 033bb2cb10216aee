/*
 * MCP over the command registry (api_mcp.h). The server keeps no session:
 * every message stands alone, which is what revision 2026-07-28 asks for
 * and what the older ones allow (initialize only negotiates a version and
 * announces capabilities that never change). A tools/call runs the command
 * through commands_dispatch_with with a transport of its own, whose context
 * (the request's id and progress token) lives until the command answers;
 * the registry's `dropped' hook frees it when the client left first.
 */
#include "daemon/api_mcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mantad.h"

#define E_PARSE -32700
#define E_INVALID_REQUEST -32600
#define E_METHOD_NOT_FOUND -32601
#define E_INVALID_PARAMS -32602

static const char *const versions[] = { MCP_LATEST_VERSION, "2025-06-18", "2025-03-26",
					"2024-11-05" };

static const char instructions[] =
	"Tools of mantad, the manta mesh VPN daemon on this host: its own state "
	"(status, health, v6_address), its peers and networks (peers, networks, "
	"whois), and reachability of members (ping). Results are JSON text.";

/* --- messages --------------------------------------------------------------------- */

static void send_msg(const struct command_transport *t, void *ctx, json_t *msg)
{
	if (msg)
		t->reply(ctx, msg);
	json_decref(msg);
}

/* id is borrowed (NULL: null); result is stolen. */
static void send_result(const struct command_transport *t, void *ctx, json_t *id, json_t *result)
{
	send_msg(t, ctx,
		 result ? json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
				    "result", result) :
			  NULL);
}

__attribute__((format(printf, 5, 6))) static void
send_error(const struct command_transport *t, void *ctx, json_t *id, int code, const char *fmt, ...)
{
	char msg[512];
	json_t *text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Quoted bytes of the client's may not be UTF-8 (or be cut in the
	 * middle of a character): those become `?'. */
	text = json_string(msg);
	if (!text) {
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		text = json_string(msg);
	}
	send_msg(t, ctx,
		 text ? json_pack("{s:s,s:O,s:{s:i,s:o}}", "jsonrpc", "2.0", "id",
				  id ? id : json_null(), "error", "code", code, "message", text) :
			NULL);
}

static json_t *server_info(void)
{
	return json_pack("{s:s,s:s,s:s}", "name", "manta", "title", "manta mesh VPN", "version",
			 MANTA_VERSION);
}

static json_t *capabilities(void)
{
	return json_pack("{s:{s:b}}", "tools", "listChanged", 0);
}

/* --- lifecycle ---------------------------------------------------------------------- */

static void initialize(const struct command_transport *t, void *ctx, json_t *id, json_t *params)
{
	const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
	const char *version = MCP_LATEST_VERSION;

	for (size_t i = 0; asked && i < ARRAY_SIZE(versions); i++)
		if (strcmp(asked, versions[i]) == 0)
			version = versions[i];
	send_result(t, ctx, id,
		    json_pack("{s:s,s:o,s:o,s:s}", "protocolVersion", version, "capabilities",
			      capabilities(), "serverInfo", server_info(), "instructions",
			      instructions));
}

static void discover(const struct command_transport *t, void *ctx, json_t *id)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < ARRAY_SIZE(versions); i++)
		json_array_append_new(list, json_string(versions[i]));
	send_result(t, ctx, id,
		    list ? json_pack("{s:o,s:o,s:o,s:s}", "supportedVersions", list, "capabilities",
				     capabilities(), "serverInfo", server_info(), "instructions",
				     instructions) :
			   NULL);
}

/* --- tools -------------------------------------------------------------------------- */

static bool offered(const struct mcp_server *s, const struct command *cmd)
{
	return !cmd->mutating || s->allow_mutating;
}

static json_t *tool_json(const struct command *cmd)
{
	json_t *schema = json_loads(cmd->args_schema, 0, NULL);

	if (!schema)
		return NULL;
	return json_pack("{s:s,s:s,s:o,s:{s:b,s:b}}", "name", cmd->name, "description",
			 cmd->summary, "inputSchema", schema, "annotations", "readOnlyHint",
			 !cmd->mutating, "openWorldHint", 0);
}

static void tools_list(const struct mcp_server *s, const struct command_transport *t, void *ctx,
		       json_t *id)
{
	size_t n;
	const struct command *cmds = s->list(&n);
	json_t *tools = json_array();

	for (size_t i = 0; tools && i < n; i++)
		if (offered(s, &cmds[i]))
			json_array_append_new(tools, tool_json(&cmds[i]));
	send_result(t, ctx, id, tools ? json_pack("{s:o}", "tools", tools) : NULL);
}

/* One tools/call in flight; owned by the registry's call until it answers
 * or is dropped. */
struct mcp_call {
	const struct command_transport *t;
	void *ctx;
	json_t *id;
	json_t *progress_token; /* NULL: no progress wanted */
	json_int_t progress;
};

static void mcp_call_free(struct mcp_call *mc)
{
	json_decref(mc->id);
	json_decref(mc->progress_token);
	free(mc);
}

static void on_tool_reply(void *ctx, json_t *reply)
{
	struct mcp_call *mc = ctx;
	bool ok = json_is_true(json_object_get(reply, "ok"));
	json_t *result = json_object_get(reply, "result");
	const char *error = json_string_value(json_object_get(reply, "error"));
	char *text = ok ? json_dumps(result ? result : json_null(),
				     JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(9)) :
			  strdup(error ? error : "the command failed");

	if (text)
		send_result(mc->t, mc->ctx, mc->id,
			    json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text",
				      text, "isError", !ok));
	else
		send_error(mc->t, mc->ctx, mc->id, -32603, "out of memory");
	free(text);
	mcp_call_free(mc);
}

static void on_tool_progress(void *ctx, json_t *progress)
{
	struct mcp_call *mc = ctx;
	json_t *msg;

	if (!mc->progress_token || !mc->t->progress)
		return;
	msg = json_pack("{s:s,s:s,s:{s:O,s:I,s:O}}", "jsonrpc", "2.0", "method",
			"notifications/progress", "params", "progressToken", mc->progress_token,
			"progress", ++mc->progress, "message",
			json_object_get(progress, "progress"));
	if (msg)
		mc->t->progress(mc->ctx, msg);
	json_decref(msg);
}

static void on_tool_dropped(void *ctx)
{
	mcp_call_free(ctx);
}

static const struct command_transport tool_transport = {
	.reply = on_tool_reply,
	.progress = on_tool_progress,
	.dropped = on_tool_dropped,
};

static struct command_call *tools_call(const struct mcp_server *s,
				       const struct command_transport *t, void *ctx, json_t *id,
				       json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments");
	json_t *token = json_object_get(json_object_get(params, "_meta"), "progressToken");
	const struct command *cmd = name ? s->find(name) : NULL;
	struct command_call *call;
	struct mcp_call *mc;
	json_t *request;

	if (!name) {
		send_error(t, ctx, id, E_INVALID_PARAMS, "tools/call needs params.name");
		return NULL;
	}
	if (!cmd) {
		send_error(t, ctx, id, E_INVALID_PARAMS, "Unknown tool: %.200s", name);
		return NULL;
	}
	if (!offered(s, cmd)) {
		send_error(t, ctx, id, E_INVALID_PARAMS,
			   "tool `%s' changes state and is not offered (it needs allow_mutating = "
			   "true in [api] and a caller that is root or in the manta group)",
			   cmd->name);
		return NULL;
	}
	mc = calloc(1, sizeof(*mc));
	request = json_pack("{s:s}", "command", cmd->name);
	if (request && args && json_object_set(request, "args", args) != 0) {
		json_decref(request);
		request = NULL;
	}
	if (!mc || !request) {
		free(mc);
		json_decref(request);
		send_error(t, ctx, id, -32603, "out of memory");
		return NULL;
	}
	mc->t = t;
	mc->ctx = ctx;
	mc->id = json_incref(id);
	if (json_is_string(token) || json_is_integer(token))
		mc->progress_token = json_incref(token);
	call = commands_dispatch_with(s->find, s->d, request, s->allow_mutating, &tool_transport,
				      mc);
	json_decref(request);
	return call;
}

/* --- dispatch ------------------------------------------------------------------------ */

bool mcp_is_message(json_t *msg)
{
	return json_is_object(msg) && json_object_get(msg, "jsonrpc") != NULL;
}

/* A request's id: a string or a number (JSON-RPC 2.0; MCP also forbids null). */
static bool id_valid(json_t *id)
{
	return json_is_string(id) || json_is_integer(id) || json_is_real(id);
}

struct command_call *mcp_handle(const struct mcp_server *s, json_t *msg, const char *parse_error,
				const struct command_transport *t, void *ctx)
{
	json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params");
	const char *version = json_string_value(json_object_get(msg, "jsonrpc"));
	const char *method = json_string_value(json_object_get(msg, "method"));

	if (!msg) {
		send_error(t, ctx, NULL, E_PARSE, "Parse error: %s", parse_error);
		return NULL;
	}
	if (!json_is_object(msg)) {
		send_error(t, ctx, NULL, E_INVALID_REQUEST,
			   "Invalid Request: a message is one JSON object (no batches)");
		return NULL;
	}
	if (!json_object_get(msg, "method") &&
	    (json_object_get(msg, "result") || json_object_get(msg, "error")))
		return NULL; /* a response: this server sends no requests */
	if (!id && method) /* a notification: never answered */
		return NULL;
	if (!id_valid(id) || !version || strcmp(version, "2.0") != 0 || !method) {
		send_error(t, ctx, id_valid(id) ? id : NULL, E_INVALID_REQUEST,
			   "Invalid Request: needs \"jsonrpc\": \"2.0\", a \"method\" string and "
			   "an \"id\" that is a string or a number");
		return NULL;
	}
	if (params && !json_is_object(params)) {
		send_error(t, ctx, id, E_INVALID_PARAMS, "Invalid params: not an object");
		return NULL;
	}
	if (strcmp(method, "initialize") == 0)
		initialize(t, ctx, id, params);
	else if (strcmp(method, "server/discover") == 0)
		discover(t, ctx, id);
	else if (strcmp(method, "ping") == 0)
		send_result(t, ctx, id, json_object());
	else if (strcmp(method, "tools/list") == 0)
		tools_list(s, t, ctx, id);
	else if (strcmp(method, "tools/call") == 0)
		return tools_call(s, t, ctx, id, params);
	else
		send_error(t, ctx, id, E_METHOD_NOT_FOUND, "Method not found: %.200s", method);
	return NULL;
}

struct command_call *mcp_dispatch(struct mantad *d, json_t *msg, const char *parse_error,
				  bool may_mutate, const struct command_transport *t, void *ctx)
{
	const struct mcp_server s = {
		.d = d,
		.allow_mutating = may_mutate && d->cfg.api.allow_mutating,
		.find = commands_find,
		.list = commands_list,
	};

	return mcp_handle(&s, msg, parse_error, t, ctx);
}
