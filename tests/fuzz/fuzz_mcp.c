/*
 * libFuzzer harness for MCP messages: one line as `manta mcp' relays it,
 * parsed as the control socket parses it and handed to mcp_handle over a
 * registry of commands that need no daemon, with and without
 * state-changing tools. Every answer must be one JSON-RPC 2.0 response
 * (an id that is a string, a number or null, and exactly one of result
 * and error, an error with an integer code and a message), or a progress
 * notification; a message with no id and a method name (a notification)
 * must get no answer at all; anything else exactly one, but for responses
 * from the client, which are ignored.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api_mcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cmd_echo(struct mantad *d, struct command_call *call, json_t *args)
{
	command_progress(call, "echo");
	command_reply(call, json_incref(args));
}

static void cmd_fail(struct mantad *d, struct command_call *call, json_t *args)
{
	command_fail(call, "failed on purpose");
}

#define ARGS                                                                   \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" \
	"\"host\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255},"    \
	"\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}},\"required\":[\"host\"]}"
#define NO_ARGS "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"

static const struct command cmds[] = {
	{ "status", "s", NO_ARGS, false, cmd_echo },
	{ "ping", "p", ARGS, false, cmd_echo },
	{ "whois", "w", ARGS, false, cmd_fail },
	{ "create", "c", ARGS, true, cmd_echo },
};

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static const struct command *list(size_t *n)
{
	*n = ARRAY_SIZE(cmds);
	return cmds;
}

static int answers;

static void on_reply(void *ctx, json_t *msg)
{
	json_t *id = json_object_get(msg, "id"), *err = json_object_get(msg, "error");
	bool result = json_object_get(msg, "result") != NULL;

	answers++;
	if (!json_is_string(json_object_get(msg, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(msg, "jsonrpc")), "2.0") != 0)
		abort();
	if (!id || !(json_is_null(id) || json_is_string(id) || json_is_number(id)))
		abort();
	if (result == (err != NULL))
		abort();
	if (err && (!json_is_integer(json_object_get(err, "code")) ||
		    !json_is_string(json_object_get(err, "message"))))
		abort();
}

static void on_progress(void *ctx, json_t *msg)
{
	if (!json_is_string(json_object_get(msg, "method")) || json_object_get(msg, "id"))
		abort();
}

static const struct command_transport transport = { on_reply, on_progress, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcp_server s = { NULL, false, find, list };
	json_error_t jerr;
	json_t *msg;
	bool notification;

	if (size < 1)
		return 0;
	s.allow_mutating = data[0] & 1;
	msg = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			 &jerr);
	notification = json_is_object(msg) && !json_object_get(msg, "id") &&
		       json_is_string(json_object_get(msg, "method"));
	answers = 0;
	if (mcp_handle(&s, msg, jerr.text, &transport, NULL) != NULL)
		abort(); /* these commands all answer at once */
	/* A response from the client is not answered either. */
	if (notification ? answers != 0 :
			   answers > 1 || (answers == 0 && !(json_is_object(msg) &&
							     (json_object_get(msg, "result") ||
							      json_object_get(msg, "error")))))
		abort();
	json_decref(msg);
	return 0;
}
