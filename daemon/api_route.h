/*
 * The REST API's routes: each is a thin mapping onto the command registry
 * (daemon/commands.h), so REST, the control socket and MCP run the same
 * handlers with the same argument checks.
 *
 *   GET  /health           health       the only route open without the token
 *   GET  /status           status
 *   GET  /peers            peers        ?network=NAME
 *   GET  /networks         networks
 *   GET  /v6/address       v6_address
 *   GET  /whois            whois        ?query=ADDRESS|HOST[.NETWORK]
 *   GET  /version          version
 *   GET  /metrics          status, as Prometheus text (daemon/metrics.h)
 *   GET  /commands         the registry: names, summaries, argument schemas
 *   POST /commands/NAME    any command, its arguments a JSON object in the
 *                          body; one that changes state only with
 *                          [api] allow_mutating = true (else 403)
 *
 * HEAD is answered wherever GET is. Query parameters become the command's
 * arguments, typed by its schema (integer, boolean, string). A result that
 * is a JSON object is the body as it is; any other is wrapped as
 * {"peers": […]} (the route's name) or {"result": …} (/commands/NAME).
 *
 * A Host header, when sent, must be an IP address, localhost or a NAME.pi
 * (with any port): any other name is refused with 421, which keeps web
 * pages that point a name of theirs at 127.0.0.1 (DNS rebinding) out.
 * Every request but `GET /health' needs `Authorization: Bearer TOKEN', and
 * a wrong token is refused everywhere, /health included (401 with
 * WWW-Authenticate). Errors are {"error": "what is wrong"} with 400 (bad
 * arguments, bad JSON), 401, 403, 404 (no such route or command), 405 (with
 * Allow), 415 (a body that is not application/json), 421 (Host), or 422:
 * the command ran and failed, saying why.
 */
#ifndef MANTA_DAEMON_API_ROUTE_H
#define MANTA_DAEMON_API_ROUTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/api_request.h"
#include "daemon/commands.h"

struct mantad;
struct api_route;

/* What the routes need; owned by the server (api_http.h). */
struct api_router {
	struct mantad *d; /* handed to the command handlers */
	const char *token; /* the bearer token */
	bool allow_mutating;
	/* The registry: commands_find and commands_list, or a test's. */
	const struct command *(*find)(const char *name);
	const struct command *(*list)(size_t *count);
};

struct api_reply {
	int status;
	const char *content_type; /* static text */
	const char *allow; /* 405: the methods allowed; else NULL */
	bool challenge; /* 401: send WWW-Authenticate */
	char *body; /* heap; the receiver of the reply frees it */
	size_t len;
};

/* One request in flight, embedded in its connection. */
struct api_exchange {
	const struct api_router *r;
	const struct api_route *route; /* set by api_route_request */
	/* The answer, exactly once, now or later; done takes reply->body. */
	void (*done)(struct api_exchange *x, struct api_reply *reply);
};

/* Answer req through x->done, before returning or later (a command that
 * answers from a callback). Returns that command's call while it is
 * pending, for command_call_detach if the connection goes away first, or
 * NULL once answered. */
struct command_call *api_route_request(struct api_exchange *x, const struct api_request *req);

/* {"error": msg} with status. */
void api_reply_error(struct api_reply *out, int status, const char *msg);
/* "Not Found" for 404; "Unknown" for a status not used here. */
const char *api_status_text(int status);

#endif
