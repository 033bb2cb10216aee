/*
 * The one command registry. The control socket, and later the REST API and
 * MCP, are thin transports over it: each command has a name, a summary, a
 * JSON Schema for its arguments, whether it changes state (and so needs
 * root or the manta group), and a handler.
 */
#ifndef MANTA_DAEMON_COMMANDS_H
#define MANTA_DAEMON_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct mantad;

struct command {
	const char *name;
	const char *summary;
	const char *args_schema; /* JSON Schema, as text */
	bool mutating;
	/* Returns the result (new reference) or NULL with err filled. */
	json_t *(*handler)(struct mantad *d, json_t *args, char *err, size_t errlen);
};

const struct command *commands_find(const char *name);
const struct command *commands_list(size_t *count);
/* Runs a request and returns the reply object: {"ok":true,"result":…} or
 * {"ok":false,"error":"…"}. */
json_t *commands_dispatch(struct mantad *d, json_t *request, bool may_mutate);

/* Handlers, one file each where they grow. */
json_t *command_status(struct mantad *d, json_t *args, char *err, size_t errlen);

#endif
