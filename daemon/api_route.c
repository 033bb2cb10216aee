/*
 * The REST API's routes (table and rules in api_route.h). A request goes
 * through, in order: the token, the route, the method, the arguments (from
 * the query or the body, checked against the command's schema here so that
 * a bad one is a 400 rather than a failed command), whether the command may
 * change state, and then the registry, whose answer comes back through the
 * exchange's transport, now or later.
 */
#include "daemon/api_route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "daemon/metrics.h"

#define JSON_TYPE "application/json"
#define GET_ONLY "GET, HEAD"
#define POST_ONLY "POST"
#define COMMANDS_PREFIX "/commands/"

enum route_kind { ROUTE_COMMAND, ROUTE_METRICS, ROUTE_LIST, ROUTE_RUN, ROUTE_TUNNEL };

struct api_route {
	const char *path;
	const char *command;
	const char *wrap; /* the key for a result that is not an object */
	enum route_kind kind;
};

static const struct api_route routes[] = {
	{ "/health", "health", "health", ROUTE_COMMAND },
	{ "/status", "status", "status", ROUTE_COMMAND },
	{ "/peers", "peers", "peers", ROUTE_COMMAND },
	{ "/networks", "networks", "networks", ROUTE_COMMAND },
	{ "/v6/address", "v6_address", "addresses", ROUTE_COMMAND },
	{ "/whois", "whois", "members", ROUTE_COMMAND },
	{ "/version", "version", "version", ROUTE_COMMAND },
	{ "/probe/udp", "probe_udp", "probe", ROUTE_COMMAND },
	{ "/tunnels", "uplink_status", "tunnels", ROUTE_COMMAND },
	{ "/metrics", "status", NULL, ROUTE_METRICS },
	{ "/commands", NULL, "commands", ROUTE_LIST },
};

/* POST /commands/NAME. */
static const struct api_route run_route = { COMMANDS_PREFIX, NULL, "result", ROUTE_RUN };
/* POST /tunnels/NAME/up and /down: uplink_up and uplink_down. */
#define TUNNELS_PREFIX "/tunnels/"
static const struct api_route tunnel_route = { TUNNELS_PREFIX, NULL, "result", ROUTE_TUNNEL };

/* --- replies ----------------------------------------------------------------- */

const char *api_status_text(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 421:
		return "Misdirected Request";
	case 422:
		return "Unprocessable Content";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* The JSON text and a newline, for curl users; steals v. */
static void reply_json(struct api_reply *out, int status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;

	json_decref(v);
	memset(out, 0, sizeof(*out));
	out->content_type = JSON_TYPE;
	if (!text) {
		static const char oom[] = "{\"error\":\"out of memory\"}\n";

		out->status = 503;
		out->body = strdup(oom);
		out->len = out->body ? sizeof(oom) - 1 : 0;
		return;
	}
	out->status = status;
	out->len = strlen(text);
	text[out->len++] = '\n'; /* json_dumps left room for its NUL */
	out->body = text;
}

void api_reply_error(struct api_reply *out, int status, const char *msg)
{
	json_t *text = json_string(msg);
	char safe[512];
	size_t i;

	/* A message that quotes a client's bytes may not be UTF-8: those
	 * bytes become `?'. */
	if (!text) {
		for (i = 0; msg[i] && i + 1 < sizeof(safe); i++)
			safe[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
		safe[i] = '\0';
		text = json_string(safe);
	}
	reply_json(out, status, text ? json_pack("{s:o}", "error", text) : NULL);
}

__attribute__((format(printf, 3, 4), noinline)) static void fail(struct api_exchange *x, int status,
								 const char *fmt, ...)
{
	struct api_reply reply;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_reply_error(&reply, status, msg);
	reply.challenge = status == 401;
	x->done(x, &reply);
}

/* --- the Host ------------------------------------------------------------------ */

/* ":8642", or nothing. */
static bool port_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return s[n] == '\0' && n <= 5;
}

/* The Host header, when there is one, must name this machine in a way no
 * other site can: an IP address, localhost, or a mesh name (NAME.pi). A
 * name that a web page could point here (DNS rebinding) is refused, so a
 * browser never reads even /health's answer. Clients without a Host (HTTP
 * 1.0, scripts) are let through: browsers always send one. */
static bool host_ok(const char *host)
{
	char name[API_HOST_MAX + 1];
	const char *rest;
	uint8_t a[16];
	size_t len;

	if (host[0] == '[') {
		rest = strchr(host, ']');
		if (!rest)
			return false;
		len = (size_t)(rest - host - 1);
		memcpy(name, host + 1, len);
		name[len] = '\0';
		rest++;
		return (!*rest || (*rest == ':' && port_ok(rest + 1))) &&
		       inet_pton(AF_INET6, name, a) == 1;
	}
	len = strcspn(host, ":");
	if (host[len] && !port_ok(host + len + 1))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	return inet_pton(AF_INET, name, a) == 1 || strcasecmp(name, "localhost") == 0 ||
	       (len > 3 && strcasecmp(name + len - 3, ".pi") == 0);
}

/* --- the token ----------------------------------------------------------------- */

/* 0, or the 401 to send. A wrong token is refused on every route; only a
 * missing one is let through, and only to an open route. */
static int check_token(struct api_exchange *x, const struct api_request *req, bool open)
{
	const char *v = req->authorization, *token;
	size_t len, want = strlen(x->r->token);

	if (!req->has_authorization) {
		if (open)
			return 0;
		fail(x, 401,
		     "this needs the API token: `Authorization: Bearer TOKEN', TOKEN from "
		     "the file api.token in mantad's state directory");
		return 401;
	}
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t')) {
		fail(x, 401, "the Authorization header must be `Bearer TOKEN'");
		return 401;
	}
	token = v + 6;
	while (*token == ' ' || *token == '\t')
		token++;
	len = strlen(token);
	while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t'))
		len--;
	/* The length is no secret (every token has the same); the bytes are
	 * compared in constant time. */
	if (want == 0 || len != want || sodium_memcmp(token, x->r->token, want) != 0) {
		fail(x, 401, "wrong API token");
		return 401;
	}
	return 0;
}

/* --- arguments --------------------------------------------------------------- */

/* A strict decimal integer, optionally negative. */
static bool parse_integer(const char *s, json_int_t *out)
{
	char *end;
	long long v;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*out = (json_int_t)v;
	return true;
}

/* value as the schema's property prop wants it (a string when the property
 * is unknown: the schema check then names it). NULL with err if it cannot. */
static json_t *typed_value(json_t *prop, const char *key, const char *value, char *err,
			   size_t errlen)
{
	const char *type = json_string_value(json_object_get(prop, "type"));
	json_int_t i;
	json_t *v;

	if (type && strcmp(type, "integer") == 0) {
		if (!parse_integer(value, &i)) {
			snprintf(err, errlen, "query: `%.100s' must be an integer", key);
			return NULL;
		}
		return json_integer(i);
	}
	if (type && strcmp(type, "boolean") == 0) {
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
			snprintf(err, errlen, "query: `%.100s' must be true or false", key);
			return NULL;
		}
		return json_boolean(value[0] == 't');
	}
	v = json_string(value);
	if (!v)
		snprintf(err, errlen, "query: `%.100s' is not UTF-8", key);
	return v;
}

/* Adds one `key=value' (len bytes, still escaped) to args. */
static int query_pair(json_t *props, json_t *args, const char *s, size_t len, char *err,
		      size_t errlen)
{
	char key[128], value[API_URL_MAX + 1];
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	json_t *v;

	if (!api_percent_decode(s, klen, true, key, sizeof(key)) ||
	    !api_percent_decode(eq ? eq + 1 : "", eq ? len - klen - 1 : 0, true, value,
				sizeof(value))) {
		snprintf(err, errlen, "query: a bad escape, or a name over 127 bytes");
		return -EINVAL;
	}
	if (json_object_get(args, key)) {
		snprintf(err, errlen, "query: `%s' given twice", key);
		return -EINVAL;
	}
	v = typed_value(json_object_get(props, key), key, value, err, errlen);
	if (!v)
		return -EINVAL;
	if (json_object_set_new(args, key, v) != 0) {
		snprintf(err, errlen, "query: `%s' is not UTF-8", key);
		return -EINVAL;
	}
	return 0;
}

/* The query as a command's arguments, or NULL with err filled. */
static json_t *query_args(const struct command *cmd, const char *query, char *err, size_t errlen)
{
	json_t *schema = json_loads(cmd->args_schema, 0, NULL);
	json_t *props = json_object_get(schema, "properties");
	json_t *args = json_object();
	const char *s = query;

	while (args && *s) {
		size_t len = strcspn(s, "&");

		if (len > 0 && query_pair(props, args, s, len, err, errlen) < 0) {
			json_decref(args);
			args = NULL;
			break;
		}
		s += len + (s[len] == '&');
	}
	if (!args && !err[0])
		snprintf(err, errlen, "out of memory");
	json_decref(schema);
	return args;
}

/* POST bodies: empty ({}), or a JSON object sent as application/json. */
static json_t *body_args(struct api_exchange *x, const struct api_request *req)
{
	json_error_t jerr;
	json_t *args;

	if (req->body_len == 0)
		return json_object();
	if (!req->has_content_type || strcmp(req->content_type, JSON_TYPE) != 0) {
		fail(x, 415, "the body must be a JSON object sent as Content-Type: " JSON_TYPE);
		return NULL;
	}
	args = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!args) {
		fail(x, 400, "the body is not JSON: %s (at byte %d)", jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(args)) {
		json_decref(args);
		fail(x, 400, "the body must be a JSON object of the command's arguments");
		return NULL;
	}
	return args;
}

/* --- the registry's answer ------------------------------------------------------ */

static void on_command_reply(void *ctx, json_t *reply)
{
	struct api_exchange *x = ctx;
	json_t *result = json_object_get(reply, "result");
	struct api_reply out;

	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *msg = json_string_value(json_object_get(reply, "error"));

		api_reply_error(&out, 422, msg ? msg : "the command failed");
		x->done(x, &out);
		return;
	}
	if (x->route->kind == ROUTE_METRICS) {
		memset(&out, 0, sizeof(out));
		out.body = metrics_render(result, &out.len);
		out.status = out.body ? 200 : 503;
		out.content_type = METRICS_CONTENT_TYPE;
		x->done(x, &out);
		return;
	}
	if (json_is_object(result))
		reply_json(&out, 200, json_incref(result));
	else
		reply_json(&out, 200,
			   json_pack("{s:O}", x->route->wrap, result ? result : json_null()));
	x->done(x, &out);
}

/* Progress lines (join, ping) have no place in one HTTP answer. */
static const struct command_transport transport = { .reply = on_command_reply };

/* Checks, then the registry; args is stolen. */
static struct command_call *run(struct api_exchange *x, const char *name, json_t *args)
{
	const struct command *cmd = x->r->find(name);
	struct command_call *call;
	char err[512];
	json_t *request;

	if (!cmd) {
		json_decref(args);
		fail(x, 404, "no command `%.200s' (GET /commands lists them)", name);
		return NULL;
	}
	if (cmd->mutating && !x->r->allow_mutating) {
		json_decref(args);
		fail(x, 403,
		     "`%s' changes state: the REST API runs such commands only with "
		     "allow_mutating = true in [api]",
		     cmd->name);
		return NULL;
	}
	err[0] = '\0';
	if (command_args_check(cmd->args_schema, args, err, sizeof(err)) < 0) {
		json_decref(args);
		fail(x, 400, "%s", err);
		return NULL;
	}
	request = json_pack("{s:s,s:o}", "command", cmd->name, "args", args);
	if (!request) {
		fail(x, 503, "out of memory");
		return NULL;
	}
	call = commands_dispatch_with(x->r->find, x->r->d, request, x->r->allow_mutating,
				      &transport, x);
	json_decref(request);
	return call;
}

/* GET /commands: the registry itself. */
static void list_commands(struct api_exchange *x)
{
	size_t n;
	const struct command *cmds = x->r->list(&n);
	json_t *out = json_array();
	struct api_reply reply;

	for (size_t i = 0; out && i < n; i++) {
		json_t *schema = json_loads(cmds[i].args_schema, 0, NULL);

		json_array_append_new(out, json_pack("{s:s,s:s,s:b,s:b,s:o}", "name", cmds[i].name,
						     "summary", cmds[i].summary, "mutating",
						     cmds[i].mutating, "allowed",
						     !cmds[i].mutating || x->r->allow_mutating,
						     "args", schema ? schema : json_object()));
	}
	reply_json(&reply, 200, out ? json_pack("{s:o}", "commands", out) : NULL);
	x->done(x, &reply);
}

/* --- routing ------------------------------------------------------------------- */

static const struct api_route *find_route(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (strcmp(routes[i].path, path) == 0)
			return &routes[i];
	if (strncmp(path, COMMANDS_PREFIX, strlen(COMMANDS_PREFIX)) == 0)
		return &run_route;
	if (strncmp(path, TUNNELS_PREFIX, strlen(TUNNELS_PREFIX)) == 0)
		return &tunnel_route;
	return NULL;
}

__attribute__((noinline)) static bool method_ok(struct api_exchange *x,
						const struct api_request *req)
{
	bool post = x->route->kind == ROUTE_RUN || x->route->kind == ROUTE_TUNNEL;
	bool ok = post ? req->method == API_POST :
			 req->method == API_GET || req->method == API_HEAD;
	struct api_reply reply;
	char msg[128];

	if (ok)
		return true;
	snprintf(msg, sizeof(msg), "%s is not allowed here (only %s)", req->method_name,
		 post ? POST_ONLY : GET_ONLY);
	api_reply_error(&reply, 405, msg);
	reply.allow = post ? POST_ONLY : GET_ONLY;
	x->done(x, &reply);
	return false;
}

static struct command_call *route_run(struct api_exchange *x, const struct api_request *req)
{
	const char *name = req->path + strlen(COMMANDS_PREFIX);
	json_t *args;

	if (req->has_query) {
		fail(x, 400, "POST %s takes its arguments in the body, not the query", req->path);
		return NULL;
	}
	args = body_args(x, req);
	return args ? run(x, name, args) : NULL;
}

/* POST /tunnels/NAME/up|down: the same checks as POST /commands/uplink_up. */
static struct command_call *route_tunnel(struct api_exchange *x, const struct api_request *req)
{
	const char *name = req->path + strlen(TUNNELS_PREFIX), *slash = strchr(name, '/');
	const char *cmd = slash && strcmp(slash, "/up") == 0   ? "uplink_up" :
			  slash && strcmp(slash, "/down") == 0 ? "uplink_down" :
								 NULL;
	char decoded[64];

	if (!cmd || slash == name ||
	    !api_percent_decode(name, (size_t)(slash - name), false, decoded, sizeof(decoded))) {
		fail(x, 404, "no such endpoint: %.300s (POST /tunnels/NAME/up or /down)",
		     req->path);
		return NULL;
	}
	if (req->has_query || req->body_len) {
		fail(x, 400, "POST %.300s takes no arguments", req->path);
		return NULL;
	}
	return run(x, cmd, json_pack("{s:s}", "name", decoded));
}

struct command_call *api_route_request(struct api_exchange *x, const struct api_request *req)
{
	const struct api_route *route = find_route(req->path);
	char err[512] = "";
	json_t *args;

	x->route = route ? route : &run_route;
	if (req->has_host && !host_ok(req->host)) {
		fail(x, 421,
		     "Host `%.100s' is not this API's: use an IP address, localhost or a .pi name",
		     req->host);
		return NULL;
	}
	if (check_token(x, req, route && strcmp(route->path, "/health") == 0) != 0)
		return NULL;
	if (!route) {
		fail(x, 404, "no such endpoint: %.300s", req->path);
		return NULL;
	}
	if (!method_ok(x, req))
		return NULL;
	if (route->kind == ROUTE_LIST) {
		list_commands(x);
		return NULL;
	}
	if (route->kind == ROUTE_RUN)
		return route_run(x, req);
	if (route->kind == ROUTE_TUNNEL)
		return route_tunnel(x, req);
	args = json_object();
	if (req->has_query && x->r->find(route->command)) {
		json_decref(args);
		args = query_args(x->r->find(route->command), req->query, err, sizeof(err));
		if (!args) {
			fail(x, 400, "%s", err);
			return NULL;
		}
	}
	return run(x, route->command, args);
}
