/*
 * The command registry: the core commands below and the membership ones
 * (daemon/membership.c), the request checks every transport shares, the
 * argument schema checker, and the call that carries a handler's answer back
 * to its transport, now or later.
 */
#include "daemon/commands.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"
#include "daemon/probe_udp.h"

/* Owned by nobody but itself: created by a dispatch, freed by its answer. */
struct command_call {
	const struct command_transport *t;
	void *ctx;
	const char *name; /* the table's string, or "" */
	bool detached;
	bool dispatching; /* the handler has not returned yet */
	bool answered;
};

static void command_version(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_pack("{s:s}", "version", MANTA_VERSION));
}

static const char no_args[] = "{\"type\":\"object\",\"properties\":{},"
			      "\"additionalProperties\":false}";

static const struct command core_commands[] = {
	{ "status", "this node, its networks, its peers and counters", no_args, false,
	  command_status },
	{ "version", "the daemon's version", no_args, false, command_version },
};

static const size_t core_commands_count = ARRAY_SIZE(core_commands);

/* Every module's table. A module with commands adds one line here. */
static const struct {
	const struct command *cmds;
	const size_t *count;
} tables[] = {
	{ core_commands, &core_commands_count },
	{ membership_commands, &membership_commands_count },
	{ api_commands, &api_commands_count },
	{ filter_commands, &filter_commands_count },
	{ dns_commands, &dns_commands_count },
	{ probe_commands, &probe_commands_count },
	{ uplink_commands, &uplink_commands_count },
};

/*
 * Memos of the const tables above, built on first use and kept for the life
 * of the process (the one exception to "file-scope data is const"): the
 * registry as one array, and each schema text parsed once. The daemon is
 * single-threaded.
 */
#define SCHEMA_CACHE_MAX 64

static struct {
	struct command *all;
	size_t nall;
	struct {
		char *text;
		json_t *schema;
	} schemas[SCHEMA_CACHE_MAX];
	size_t nschemas;
} memo;

const struct command *commands_list(size_t *count)
{
	if (!memo.all) {
		size_t n = 0;

		for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
			n += *tables[t].count;
		memo.all = calloc(n, sizeof(*memo.all));
		if (!memo.all) {
			*count = 0;
			return NULL;
		}
		for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
			for (size_t i = 0; i < *tables[t].count; i++)
				memo.all[memo.nall++] = tables[t].cmds[i];
	}
	*count = memo.nall;
	return memo.all;
}

const struct command *commands_find(const char *name)
{
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (size_t i = 0; i < *tables[t].count; i++)
			if (strcmp(tables[t].cmds[i].name, name) == 0)
				return &tables[t].cmds[i];
	return NULL;
}

/* --- the schema checker --------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int errf(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_annotation(const char *key)
{
	return strcmp(key, "description") == 0 || strcmp(key, "title") == 0 ||
	       strcmp(key, "default") == 0;
}

/* A bound keyword: absent, or an integer (lengths: not negative). */
static bool bound_ok(json_t *prop, const char *key, bool length)
{
	json_t *v = json_object_get(prop, key);

	return !v || (json_is_integer(v) && (!length || json_integer_value(v) >= 0));
}

static int property_check(const char *name, json_t *prop, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(prop, "type"));
	const char *key;
	json_t *v;

	if (!json_is_object(prop) || !type)
		return errf(err, errlen, "schema: property `%s' has no \"type\"", name);
	json_object_foreach(prop, key, v)
	{
		bool ok = strcmp(key, "type") == 0 || is_annotation(key) ||
			  (strcmp(type, "string") == 0 &&
			   (strcmp(key, "minLength") == 0 || strcmp(key, "maxLength") == 0)) ||
			  (strcmp(type, "integer") == 0 &&
			   (strcmp(key, "minimum") == 0 || strcmp(key, "maximum") == 0));

		if (!ok)
			return errf(err, errlen, "schema: property `%s': unsupported keyword `%s'",
				    name, key);
	}
	if (strcmp(type, "string") != 0 && strcmp(type, "integer") != 0 &&
	    strcmp(type, "boolean") != 0)
		return errf(err, errlen, "schema: property `%s': unsupported type `%s'", name,
			    type);
	if (!bound_ok(prop, "minLength", true) || !bound_ok(prop, "maxLength", true) ||
	    !bound_ok(prop, "minimum", false) || !bound_ok(prop, "maximum", false))
		return errf(err, errlen, "schema: property `%s': a bound is not an integer", name);
	return 0;
}

static int schema_validate(json_t *schema, char *err, size_t errlen)
{
	json_t *props = json_object_get(schema, "properties");
	json_t *required = json_object_get(schema, "required");
	json_t *additional = json_object_get(schema, "additionalProperties");
	const char *type = json_string_value(json_object_get(schema, "type"));
	const char *key;
	json_t *v;
	size_t i;
	int r;

	if (!json_is_object(schema) || !type || strcmp(type, "object") != 0)
		return errf(err, errlen, "schema: not {\"type\":\"object\", ...}");
	json_object_foreach(schema, key, v)
	{
		if (strcmp(key, "type") != 0 && strcmp(key, "properties") != 0 &&
		    strcmp(key, "required") != 0 && strcmp(key, "additionalProperties") != 0 &&
		    strcmp(key, "$schema") != 0 && !is_annotation(key))
			return errf(err, errlen, "schema: unsupported keyword `%s'", key);
	}
	if (props && !json_is_object(props))
		return errf(err, errlen, "schema: \"properties\" is not an object");
	json_object_foreach(props, key, v)
	{
		r = property_check(key, v, err, errlen);
		if (r < 0)
			return r;
	}
	if (additional && !json_is_boolean(additional))
		return errf(err, errlen, "schema: \"additionalProperties\" is not a boolean");
	if (required && !json_is_array(required))
		return errf(err, errlen, "schema: \"required\" is not an array");
	json_array_foreach(required, i, v)
	{
		if (!json_is_string(v) || !json_object_get(props, json_string_value(v)))
			return errf(err, errlen, "schema: \"required\" names no property");
	}
	return 0;
}

/* The parsed and validated schema (borrowed from the memo when it could be
 * kept there, else a new reference in *owned), or NULL with err filled. */
static json_t *schema_get(const char *text, json_t **owned, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *schema;
	char *copy;

	*owned = NULL;
	for (size_t i = 0; i < memo.nschemas; i++)
		if (strcmp(memo.schemas[i].text, text) == 0)
			return memo.schemas[i].schema;
	schema = json_loads(text, 0, &jerr);
	if (!schema) {
		errf(err, errlen, "schema: not JSON: %s", jerr.text);
		return NULL;
	}
	if (schema_validate(schema, err, errlen) < 0) {
		json_decref(schema);
		return NULL;
	}
	copy = memo.nschemas < SCHEMA_CACHE_MAX ? strdup(text) : NULL;
	if (!copy) {
		*owned = schema;
		return schema;
	}
	memo.schemas[memo.nschemas].text = copy;
	memo.schemas[memo.nschemas++].schema = schema;
	return schema;
}

int command_schema_check(const char *schema, char *err, size_t errlen)
{
	json_t *owned;

	if (!schema_get(schema, &owned, err, errlen))
		return -EINVAL;
	json_decref(owned);
	return 0;
}

/* Characters, not bytes: JSON Schema counts code points (jansson has
 * checked that the string is UTF-8). */
static size_t utf8_length(const char *s, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static int string_check(const char *name, json_t *prop, json_t *v, char *err, size_t errlen)
{
	json_t *min = json_object_get(prop, "minLength"), *max = json_object_get(prop, "maxLength");
	size_t len;

	if (!json_is_string(v))
		return errf(err, errlen, "args: `%s' must be a string", name);
	len = utf8_length(json_string_value(v), json_string_length(v));
	if (min && len < (size_t)json_integer_value(min))
		return errf(err, errlen, "args: `%s' must be at least %lld characters", name,
			    (long long)json_integer_value(min));
	if (max && len > (size_t)json_integer_value(max))
		return errf(err, errlen, "args: `%s' must be at most %lld characters", name,
			    (long long)json_integer_value(max));
	return 0;
}

static int integer_check(const char *name, json_t *prop, json_t *v, char *err, size_t errlen)
{
	json_t *min = json_object_get(prop, "minimum"), *max = json_object_get(prop, "maximum");

	if (!json_is_integer(v))
		return errf(err, errlen, "args: `%s' must be an integer", name);
	if (min && json_integer_value(v) < json_integer_value(min))
		return errf(err, errlen, "args: `%s' must be at least %lld", name,
			    (long long)json_integer_value(min));
	if (max && json_integer_value(v) > json_integer_value(max))
		return errf(err, errlen, "args: `%s' must be at most %lld", name,
			    (long long)json_integer_value(max));
	return 0;
}

static int value_check(const char *name, json_t *prop, json_t *v, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(prop, "type"));

	if (strcmp(type, "string") == 0)
		return string_check(name, prop, v, err, errlen);
	if (strcmp(type, "integer") == 0)
		return integer_check(name, prop, v, err, errlen);
	if (!json_is_boolean(v))
		return errf(err, errlen, "args: `%s' must be a boolean", name);
	return 0;
}

/* Fields in the order the client wrote them, then the required ones in the
 * schema's order, so the message is always the same for the same input. */
static int args_check(json_t *schema, json_t *args, char *err, size_t errlen)
{
	json_t *props = json_object_get(schema, "properties");
	bool closed = json_is_false(json_object_get(schema, "additionalProperties"));
	const char *key;
	json_t *v, *prop;
	size_t i;
	int r;

	json_object_foreach(args, key, v)
	{
		prop = json_object_get(props, key);
		if (!prop) {
			if (closed)
				return errf(err, errlen, "args: unknown field `%s'", key);
			continue;
		}
		r = value_check(key, prop, v, err, errlen);
		if (r < 0)
			return r;
	}
	json_array_foreach(json_object_get(schema, "required"), i, v)
	{
		if (!json_object_get(args, json_string_value(v)))
			return errf(err, errlen, "args: missing `%s'", json_string_value(v));
	}
	return 0;
}

int command_args_check(const char *schema_text, json_t *args, char *err, size_t errlen)
{
	json_t *owned, *schema = schema_get(schema_text, &owned, err, errlen);
	int r;

	if (!schema)
		return -EINVAL;
	if (args && !json_is_object(args))
		r = errf(err, errlen, "\"args\" must be a JSON object");
	else
		r = args_check(schema, args, err, errlen); /* NULL: as {} */
	json_decref(owned);
	return r;
}

/* --- calls ------------------------------------------------------------------ */

const char *command_call_name(const struct command_call *call)
{
	return call->name;
}

void command_call_detach(struct command_call *call)
{
	if (call)
		call->detached = true;
}

/* Deliver the reply (which this steals) and end the call; a handler that
 * has not returned yet still holds it, so dispatch frees it then. */
static void answer(struct command_call *call, json_t *reply)
{
	if (call->answered) {
		log_err("commands", "%s: answered twice (a bug); the second answer is dropped",
			call->name);
		json_decref(reply);
		return;
	}
	call->answered = true;
	if (!reply)
		log_err("commands", "%s: out of memory for the reply", call->name);
	if (reply && !call->detached)
		call->t->reply(call->ctx, reply);
	else if (call->t->dropped)
		call->t->dropped(call->ctx);
	json_decref(reply);
	if (!call->dispatching)
		free(call);
}

void command_reply(struct command_call *call, json_t *result)
{
	if (!result) {
		command_fail(call, "`%s' produced no result (out of memory?)", call->name);
		return;
	}
	answer(call, json_pack("{s:b,s:o}", "ok", 1, "result", result));
}

__attribute__((format(printf, 1, 0))) static json_t *vformat(const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return json_string(msg);
}

void command_fail(struct command_call *call, const char *fmt, ...)
{
	va_list ap;
	json_t *msg;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	if (!msg) {
		answer(call, NULL);
		return;
	}
	log_debug("commands", "%s failed: %s", call->name[0] ? call->name : "request",
		  json_string_value(msg));
	answer(call, json_pack("{s:b,s:o}", "ok", 0, "error", msg));
}

void command_progress(struct command_call *call, const char *fmt, ...)
{
	va_list ap;
	json_t *msg, *line;

	if (call->answered || call->detached || !call->t->progress)
		return;
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	line = msg ? json_pack("{s:o}", "progress", msg) : NULL;
	if (line)
		call->t->progress(call->ctx, line);
	json_decref(line);
}

/* --- dispatch ------------------------------------------------------------- */

/* The request's checks, in order; NULL with err filled when one fails. */
static const struct command *request_check(const struct command *(*find)(const char *name),
					   struct command_call *call, json_t *request,
					   bool may_mutate, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(request, "command"));
	json_t *args = json_object_get(request, "args");
	const struct command *cmd;

	if (!json_is_object(request)) {
		errf(err, errlen, "request must be a JSON object");
		return NULL;
	}
	if (!name) {
		errf(err, errlen, "request has no \"command\" string");
		return NULL;
	}
	cmd = find(name);
	if (!cmd) {
		errf(err, errlen, "unknown command `%s'", name);
		return NULL;
	}
	call->name = cmd->name;
	if (cmd->mutating && !may_mutate) {
		errf(err, errlen,
		     "`%s' changes state: run it as root or as a member of the manta group", name);
		return NULL;
	}
	if (command_args_check(cmd->args_schema, args, err, errlen) < 0) {
		if (strncmp(err, "schema:", 7) == 0)
			log_err("commands", "%s: bad argument schema (a bug): %s", name, err);
		return NULL;
	}
	return cmd;
}

/* Every path answers the call, the handler perhaps later. */
static void run(const struct command *(*find)(const char *name), struct mantad *d,
		struct command_call *call, json_t *request, bool may_mutate)
{
	json_t *args = json_object_get(request, "args");
	const struct command *cmd;
	char err[512];

	cmd = request_check(find, call, request, may_mutate, err, sizeof(err));
	if (!cmd) {
		command_fail(call, "%s", err);
		return;
	}
	/* Handlers always get an object. */
	args = args ? json_incref(args) : json_object();
	if (!args) {
		command_fail(call, "out of memory");
		return;
	}
	cmd->handler(d, call, args);
	json_decref(args);
}

struct command_call *commands_dispatch_with(const struct command *(*find)(const char *name),
					    struct mantad *d, json_t *request, bool may_mutate,
					    const struct command_transport *t, void *ctx)
{
	struct command_call *call = calloc(1, sizeof(*call));

	if (!call) {
		json_t *reply = json_pack("{s:b,s:s}", "ok", 0, "error", "out of memory");

		if (reply)
			t->reply(ctx, reply);
		json_decref(reply);
		return NULL;
	}
	call->t = t;
	call->ctx = ctx;
	call->name = "";
	call->dispatching = true;
	run(find, d, call, request, may_mutate);
	call->dispatching = false;
	if (call->answered) {
		free(call);
		return NULL;
	}
	return call;
}

struct command_call *commands_dispatch(struct mantad *d, json_t *request, bool may_mutate,
				       const struct command_transport *t, void *ctx)
{
	return commands_dispatch_with(commands_find, d, request, may_mutate, t, ctx);
}
