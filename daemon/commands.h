/*
 * The one command registry. The control socket, and later the REST API and
 * MCP, are thin transports over it: each command has a name, a summary, a
 * JSON Schema for its arguments (checked before the handler runs), whether
 * it changes state (and so needs root or the manta group), and a handler.
 *
 * A handler answers through its call: command_reply() or command_fail(),
 * either before it returns or later, from a libuv callback (join waits for
 * the owner; ping waits for echoes). Until then it may report steps with
 * command_progress(). Each call is answered exactly once. If the client goes
 * away first the call stays valid (answers are then dropped) until
 * answered; whoever started the asynchronous work must still answer it, at
 * the latest when the daemon stops.
 */
#ifndef MANTA_DAEMON_COMMANDS_H
#define MANTA_DAEMON_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct mantad;
struct command_call;

struct command {
	const char *name;
	const char *summary;
	const char *args_schema; /* JSON Schema, as text */
	bool mutating;
	void (*handler)(struct mantad *d, struct command_call *call, json_t *args);
};

/* What a transport supplies: where replies and progress lines go. */
struct command_transport {
	/* reply: {"ok":true,"result":…} or {"ok":false,"error":"…"} (borrowed). */
	void (*reply)(void *ctx, json_t *reply);
	/* progress: {"progress":"…"} (borrowed); may be NULL. */
	void (*progress)(void *ctx, json_t *progress);
	/* dropped: the call ended without reply running (its client had left,
	 * or no memory for the reply), so ctx may be released; may be NULL. */
	void (*dropped)(void *ctx);
};

const struct command *commands_find(const char *name);
const struct command *commands_list(size_t *count);

/* Validates the request and runs its handler. The transport's reply runs
 * exactly once, perhaps before this returns. Returns the call while it is
 * still pending (so the transport can command_call_detach it if its client
 * leaves), or NULL once answered. */
struct command_call *commands_dispatch(struct mantad *d, json_t *request, bool may_mutate,
				       const struct command_transport *t, void *ctx);
/* The transport's client is gone: later answers are dropped. */
void command_call_detach(struct command_call *call);
/* The command this call runs ("" before the request named a known one). */
const char *command_call_name(const struct command_call *call);

/* commands_dispatch over another registry: find(name) returns the command
 * or NULL. For unit tests and fuzzing; the transports use the one above. */
struct command_call *commands_dispatch_with(const struct command *(*find)(const char *name),
					    struct mantad *d, json_t *request, bool may_mutate,
					    const struct command_transport *t, void *ctx);

/* The argument checker. The schemas use a small part of JSON Schema: an
 * object with "properties", "required" and "additionalProperties" (a
 * boolean); property types "string" (minLength, maxLength), "integer"
 * (minimum, maximum) and "boolean"; "description", "title" and "default" as
 * annotations. Anything else is refused, so that no constraint is ever
 * silently ignored.
 *
 * command_schema_check: 0 if schema is such a schema, else -EINVAL with err
 * saying what is wrong. command_args_check: 0 if args (NULL = {}) satisfies
 * schema, else -EINVAL with err such as "args: missing `name'". */
int command_schema_check(const char *schema, char *err, size_t errlen);
int command_args_check(const char *schema, json_t *args, char *err, size_t errlen);

/* Answers (each frees the call; the call must not be used afterwards). */
void command_reply(struct command_call *call, json_t *result); /* steals result */
__attribute__((format(printf, 2, 3))) void command_fail(struct command_call *call, const char *fmt,
							...);
__attribute__((format(printf, 2, 3))) void command_progress(struct command_call *call,
							    const char *fmt, ...);

/* Handlers, one file each where they grow. */
void command_status(struct mantad *d, struct command_call *call, json_t *args);

#endif
