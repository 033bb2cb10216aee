/*
 * MCP, the Model Context Protocol (revision 2025-11-25, and the older ones
 * the official SDKs still speak): JSON-RPC 2.0 whose tools are the command
 * registry's commands. `manta mcp' relays stdio to the control socket, and
 * a control connection whose first line is a JSON-RPC message speaks MCP
 * from then on (control.c), so this one implementation serves every MCP
 * client, and the caller's rights are the socket's (SO_PEERCRED).
 *
 *   initialize        the client's protocolVersion when it is one of ours,
 *                     else the latest; capabilities {tools}; serverInfo
 *   server/discover   the same for clients of revision 2026-07-28, which
 *                     dropped initialize
 *   ping              {}
 *   tools/list        every read-only command, with its argument schema as
 *                     inputSchema; state-changing ones too when [api]
 *                     allow_mutating = true and the caller is root or in
 *                     the manta group
 *   tools/call        the command; its result as JSON text content, or its
 *                     error with isError: true (bad arguments included, as
 *                     the revision asks); progress as notifications/progress
 *                     when the request carries a progressToken
 *
 * Requests are answered with their id exactly as sent (number or string).
 * Notifications (no id) are never answered, whatever they are; responses
 * from the client are ignored. Errors: -32700 not JSON, -32600 not a
 * JSON-RPC 2.0 request (arrays too: batches were removed in 2025-06-18),
 * -32601 unknown method, -32602 bad params or an unknown tool.
 */
#ifndef MANTA_DAEMON_API_MCP_H
#define MANTA_DAEMON_API_MCP_H

#include <jansson.h>
#include <stdbool.h>

#include "daemon/commands.h"

#define MCP_LATEST_VERSION "2025-11-25"

struct mantad;

struct mcp_server {
	struct mantad *d; /* handed to the command handlers */
	bool allow_mutating; /* state-changing tools offered and run */
	const struct command *(*find)(const char *name);
	const struct command *(*list)(size_t *count);
};

/* Whether a line's value asks for MCP: an object with a "jsonrpc" member. */
bool mcp_is_message(json_t *msg);

/* One message: msg as parsed, or NULL with parse_error saying why it did
 * not parse. Answers through t->reply (zero times for a notification,
 * else once, now or later), progress through t->progress. Returns the
 * pending command's call, as commands_dispatch does, or NULL. */
struct command_call *mcp_handle(const struct mcp_server *s, json_t *msg, const char *parse_error,
				const struct command_transport *t, void *ctx);

/* mcp_handle with the daemon's registry; state-changing tools only if the
 * configuration allows them and may_mutate (the caller's rights). */
struct command_call *mcp_dispatch(struct mantad *d, json_t *msg, const char *parse_error,
				  bool may_mutate, const struct command_transport *t, void *ctx);

#endif
