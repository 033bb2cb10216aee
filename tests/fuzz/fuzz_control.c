/*
 * libFuzzer harness for control-socket requests: the bytes of one request
 * line are parsed as the socket parses them, their args are checked
 * against every schema of the registry, and the request is dispatched
 * whenever no handler but `version' can run (unknown commands, commands
 * refused to a caller without rights, arguments the schema refuses). No
 * daemon exists here, so a handler that needs one must never be reached:
 * the harness aborts if one is.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replies;

static void on_reply(void *ctx, json_t *reply)
{
	/* Every reply is {"ok":true,"result":…} or {"ok":false,"error":"…"}. */
	if (!json_is_boolean(json_object_get(reply, "ok")))
		abort();
	if (json_is_false(json_object_get(reply, "ok")) &&
	    !json_is_string(json_object_get(reply, "error")))
		abort();
	replies++;
}

static const struct command_transport transport = { on_reply, NULL, NULL };

/* True if dispatching req with may_mutate false reaches no handler that
 * needs a daemon. */
static bool safe_to_dispatch(json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "command"));
	const struct command *cmd = name ? commands_find(name) : NULL;
	char err[512];

	if (!cmd || cmd->mutating || strcmp(cmd->name, "version") == 0)
		return true;
	return command_args_check(cmd->args_schema, json_object_get(req, "args"), err,
				  sizeof(err)) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				 NULL);
	json_t *args = json_object_get(req, "args");
	const struct command *cmds;
	char err[512];
	size_t n;

	if (!req)
		return 0;
	cmds = commands_list(&n);
	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		if (command_args_check(cmds[i].args_schema, args, err, sizeof(err)) != 0 &&
		    strncmp(err, "args: ", 6) != 0 && strncmp(err, "\"args\"", 6) != 0)
			abort(); /* a table schema that does not parse, or an odd message */
	}
	if (safe_to_dispatch(req)) {
		replies = 0;
		if (commands_dispatch(NULL, req, false, &transport, NULL) != NULL || replies != 1)
			abort(); /* these all answer at once, exactly once */
	}
	json_decref(req);
	return 0;
}
