#include "daemon/commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/mantad.h"

static json_t *command_version(struct mantad *d, json_t *args, char *err, size_t errlen)
{
	return json_pack("{s:s}", "version", MANTA_VERSION);
}

static const char no_args[] = "{\"type\":\"object\",\"properties\":{},"
			      "\"additionalProperties\":false}";

static const struct command commands[] = {
	{ "status", "this node, its peers and counters", no_args, false, command_status },
	{ "version", "the daemon's version", no_args, false, command_version },
};

const struct command *commands_list(size_t *count)
{
	*count = sizeof(commands) / sizeof(commands[0]);
	return commands;
}

const struct command *commands_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

__attribute__((format(printf, 1, 2))) static json_t *error_reply(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

json_t *commands_dispatch(struct mantad *d, json_t *request, bool may_mutate)
{
	const char *name;
	json_t *args, *result;
	const struct command *cmd;
	char err[512] = "";

	if (!json_is_object(request))
		return error_reply("%s", "request must be a JSON object");
	name = json_string_value(json_object_get(request, "command"));
	if (!name)
		return error_reply("%s", "request has no \"command\" string");
	cmd = commands_find(name);
	if (!cmd)
		return error_reply("unknown command `%s'", name);
	if (cmd->mutating && !may_mutate)
		return error_reply("`%s' changes state: it needs root or the manta group", name);
	args = json_object_get(request, "args");
	if (args && !json_is_object(args))
		return error_reply("%s", "\"args\" must be a JSON object");
	result = cmd->handler(d, args, err, sizeof(err));
	if (!result)
		return error_reply("%s", err[0] ? err : "command failed");
	return json_pack("{s:b,s:o}", "ok", 1, "result", result);
}
