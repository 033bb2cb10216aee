/* The REST API's routes over a registry of test commands: the token on
 * every route, each route and method, arguments from the query (typed by
 * the schema) and from the body, results wrapped or not, /metrics as text,
 * commands that answer later, and every error status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api_route.h"
#include "daemon/metrics.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

/* --- test commands ------------------------------------------------------------ */

static struct command_call *held;

static void cmd_health(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_pack("{s:s}", "status", "ok"));
}

static void cmd_echo(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_incref(args));
}

static void cmd_list(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_pack("[i,i]", 1, 2));
}

static void cmd_status(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_pack("{s:s,s:[],s:{s:i}}", "version", "9.9", "peers", "counters",
				      "rx_replay", 3));
}

static void cmd_fail(struct mantad *d, struct command_call *call, json_t *args)
{
	command_fail(call, "no network named `%s'", "x");
}

static void cmd_later(struct mantad *d, struct command_call *call, json_t *args)
{
	held = call;
}

#define NO_ARGS "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"
#define ECHO_ARGS                                                                                    \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"                       \
	"\"n\":{\"type\":\"integer\",\"minimum\":-5,\"maximum\":5},\"flag\":{\"type\":\"boolean\"}," \
	"\"network\":{\"type\":\"string\",\"minLength\":1}}}"

static const struct command cmds[] = {
	{ "health", "h", NO_ARGS, false, cmd_health },
	{ "peers", "p", ECHO_ARGS, false, cmd_echo },
	{ "networks", "n", NO_ARGS, false, cmd_list },
	{ "status", "s", NO_ARGS, false, cmd_status },
	{ "whois", "w", NO_ARGS, false, cmd_fail },
	{ "version", "v", NO_ARGS, false, cmd_later },
	{ "down", "d", NO_ARGS, true, cmd_health },
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

/* --- an exchange that records its reply ------------------------------------------ */

static struct api_router router = { NULL, TOKEN, false, find, list };
static struct api_reply last;
static int replies;

static void done(struct api_exchange *x, struct api_reply *reply)
{
	free(last.body);
	last = *reply;
	replies++;
}

static struct api_exchange exchange = { &router, NULL, done };

static int reset(void **state)
{
	free(last.body);
	memset(&last, 0, sizeof(last));
	replies = 0;
	router.allow_mutating = false;
	return 0;
}

/* Routes text (a whole request) and returns the status; the reply is in
 * last, its body parsed (JSON) in *body when body is not NULL. */
static int route(const char *text, json_t **body)
{
	static struct api_parser ap;
	struct command_call *call;

	api_parser_init(&ap);
	assert_int_equal(api_parser_feed(&ap, text, strlen(text)), strlen(text));
	assert_true(ap.complete);
	replies = 0;
	call = api_route_request(&exchange, &ap.req);
	api_parser_deinit(&ap);
	if (call)
		return 0; /* pending */
	assert_int_equal(replies, 1);
	if (body) {
		assert_string_equal(last.content_type, "application/json");
		assert_true(last.len > 0 && last.body[last.len - 1] == '\n');
		*body = json_loadb(last.body, last.len, 0, NULL);
		assert_non_null(*body);
	}
	return last.status;
}

static const char *error_of(json_t *j)
{
	return json_string_value(json_object_get(j, "error"));
}

#define AUTH "Authorization: Bearer " TOKEN "\r\n"

/* --- tests ---------------------------------------------------------------------------- */

static void test_token(void **state)
{
	static const char *const paths[] = { "/status",	  "/peers",   "/networks",  "/metrics",
					     "/commands", "/nowhere", "/v6/address" };
	json_t *j;

	/* /health alone is open; a wrong token is refused there too. */
	assert_int_equal(route("GET /health HTTP/1.1\r\n\r\n", &j), 200);
	json_decref(j);
	assert_int_equal(route("GET /health HTTP/1.1\r\nAuthorization: Bearer nope\r\n\r\n", &j),
			 401);
	assert_string_equal(error_of(j), "wrong API token");
	assert_true(last.challenge);
	json_decref(j);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char req[256];

		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", paths[i]);
		assert_int_equal(route(req, &j), 401);
		assert_non_null(strstr(error_of(j), "needs the API token"));
		assert_true(last.challenge);
		json_decref(j);
	}
	/* The scheme is case-insensitive, spaces around the token are fine;
	 * anything else is wrong. */
	assert_int_equal(
		route("GET /networks HTTP/1.1\r\nAuthorization: bearer  " TOKEN " \r\n\r\n", &j),
		200);
	json_decref(j);
	static const char *const wrong[] = {
		"Basic " TOKEN,
		"Bearer",
		"Bearer ",
		"Bearer" TOKEN,
		"Bearer " TOKEN "x",
		"Bearer " TOKEN "\tx",
		"Bearer 0123456789abcdef0123456789abcdeF",
		TOKEN,
	};
	for (size_t i = 0; i < ARRAY_SIZE(wrong); i++) {
		char req[256];

		snprintf(req, sizeof(req), "GET /networks HTTP/1.1\r\nAuthorization: %s\r\n\r\n",
			 wrong[i]);
		assert_int_equal(route(req, &j), 401);
		json_decref(j);
	}
}

static void test_host(void **state)
{
	static const char *const ok[] = {
		"127.0.0.1",   "127.0.0.1:8642", "[::1]",	   "[::1]:8642", "localhost",
		"LocalHost:1", "alice.home.pi",	 "b.work.PI:8642", "10.0.0.1:",	 "[fe80::1]:99999"
	};
	static const char *const bad[] = { "example.com",
					   "example.com:8642",
					   "127.0.0.1.nip.io",
					   "localhost.example",
					   "[::1",
					   "[::1]x",
					   "[nope]",
					   "::1",
					   "localhost:http",
					   "pi",
					   ".pi:80:80",
					   "",
					   "127.0.0.1:123456" };
	char req[256];
	json_t *j;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(req, sizeof(req), "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", ok[i]);
		if (route(req, &j) != 200)
			fail_msg("Host: %s refused", ok[i]);
		json_decref(j);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(req, sizeof(req), "GET /status HTTP/1.1\r\nHost: %s\r\n" AUTH "\r\n",
			 bad[i]);
		if (route(req, &j) != 421)
			fail_msg("Host: %s accepted", bad[i]);
		assert_true(strncmp(error_of(j), "Host `", 6) == 0);
		json_decref(j);
	}
}

static void test_routes(void **state)
{
	json_t *j;

	assert_int_equal(route("GET /health HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
	json_decref(j);
	/* A result that is not an object is wrapped under the route's name. */
	assert_int_equal(route("GET /networks HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "networks"), 1)), 2);
	json_decref(j);
	assert_int_equal(route("HEAD /networks HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	json_decref(j);
	/* The handler's failure: 422 with its message. */
	assert_int_equal(route("GET /whois HTTP/1.1\r\n" AUTH "\r\n", &j), 422);
	assert_string_equal(error_of(j), "no network named `x'");
	json_decref(j);
	assert_int_equal(route("GET /nowhere HTTP/1.1\r\n" AUTH "\r\n", &j), 404);
	assert_string_equal(error_of(j), "no such endpoint: /nowhere");
	json_decref(j);
	assert_int_equal(route("GET /health/ HTTP/1.1\r\n" AUTH "\r\n", &j), 404);
	json_decref(j);
	/* A path that is not UTF-8 is quoted with `?' for its odd bytes. */
	assert_int_equal(route("GET /%C3%28x HTTP/1.1\r\n" AUTH "\r\n", &j), 404);
	assert_string_equal(error_of(j), "no such endpoint: /?(x");
	json_decref(j);
}

static void test_methods(void **state)
{
	json_t *j;

	assert_int_equal(route("PUT /health HTTP/1.1\r\n" AUTH "\r\n", &j), 405);
	assert_string_equal(last.allow, "GET, HEAD");
	assert_string_equal(error_of(j), "PUT is not allowed here (only GET, HEAD)");
	json_decref(j);
	assert_int_equal(route("POST /status HTTP/1.1\r\n" AUTH "\r\n", &j), 405);
	json_decref(j);
	assert_int_equal(route("GET /commands/health HTTP/1.1\r\n" AUTH "\r\n", &j), 405);
	assert_string_equal(last.allow, "POST");
	json_decref(j);
	assert_int_equal(route("POST /commands HTTP/1.1\r\n" AUTH "\r\n", &j), 405);
	json_decref(j);
}

static void test_query(void **state)
{
	json_t *j, *p;

	assert_int_equal(route("GET /peers?n=-3&flag=true&network=a+b%2Bc HTTP/1.1\r\n" AUTH "\r\n",
			       &j),
			 200);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), -3);
	assert_true(json_is_true(json_object_get(j, "flag")));
	assert_string_equal(json_string_value(json_object_get(j, "network")), "a b+c");
	json_decref(j);
	/* Empty pieces are skipped. */
	assert_int_equal(route("GET /peers?&&flag=false& HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	assert_true(json_is_false(json_object_get(j, "flag")));
	json_decref(j);
	static const struct {
		const char *query, *error;
	} bad[] = {
		{ "n=x", "query: `n' must be an integer" },
		{ "n=", "query: `n' must be an integer" },
		{ "n=1.5", "query: `n' must be an integer" },
		{ "n=99999999999999999999", "query: `n' must be an integer" },
		{ "n=6", "args: `n' must be at most 5" },
		{ "flag=yes", "query: `flag' must be true or false" },
		{ "flag", "query: `flag' must be true or false" },
		{ "network=", "args: `network' must be at least 1 characters" },
		{ "other=1", "args: unknown field `other'" },
		{ "n=1&n=1", "query: `n' given twice" },
		{ "n=%zz", "query: a bad escape, or a name over 127 bytes" },
		{ "network=%C3", "query: `network' is not UTF-8" },
		{ "%C3=1", "query: `?' is not UTF-8" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char req[256];

		snprintf(req, sizeof(req), "GET /peers?%s HTTP/1.1\r\n" AUTH "\r\n", bad[i].query);
		p = NULL;
		assert_int_equal(route(req, &p), 400);
		if (strcmp(error_of(p), bad[i].error) != 0)
			fail_msg("?%s: `%s'", bad[i].query, error_of(p));
		json_decref(p);
	}
}

static void test_commands(void **state)
{
	json_t *j, *c;
	size_t i;

	assert_int_equal(route("GET /commands HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "commands")), ARRAY_SIZE(cmds));
	json_array_foreach(json_object_get(j, "commands"), i, c)
	{
		assert_string_equal(json_string_value(json_object_get(c, "name")), cmds[i].name);
		assert_int_equal(json_is_true(json_object_get(c, "mutating")), cmds[i].mutating);
		assert_int_equal(json_is_true(json_object_get(c, "allowed")), !cmds[i].mutating);
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(c, "args"), "type")),
			"object");
	}
	json_decref(j);
	/* A body of arguments; a result that is not an object as "result". */
	assert_int_equal(
		route("POST /commands/peers HTTP/1.1\r\n" AUTH
		      "Content-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"n\":1}\n",
		      &j),
		200);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 1);
	json_decref(j);
	assert_int_equal(route("POST /commands/networks HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	assert_true(json_is_array(json_object_get(j, "result")));
	json_decref(j);
	static const struct {
		const char *req;
		int status;
		const char *error;
	} bad[] = {
		{ "POST /commands/nope HTTP/1.1\r\n" AUTH "\r\n", 404,
		  "no command `nope' (GET /commands lists them)" },
		{ "POST /commands/ HTTP/1.1\r\n" AUTH "\r\n", 404,
		  "no command `' (GET /commands lists them)" },
		{ "POST /commands/down HTTP/1.1\r\n" AUTH "\r\n", 403,
		  "`down' changes state: the REST API runs such commands only with "
		  "allow_mutating = true in [api]" },
		{ "POST /commands/peers?n=1 HTTP/1.1\r\n" AUTH "\r\n", 400,
		  "POST /commands/peers takes its arguments in the body, not the query" },
		{ "POST /commands/peers HTTP/1.1\r\n" AUTH "Content-Length: 2\r\n\r\n{}", 415,
		  "the body must be a JSON object sent as Content-Type: application/json" },
		{ "POST /commands/peers HTTP/1.1\r\n" AUTH
		  "Content-Type: text/json\r\nContent-Length: 2\r\n\r\n{}",
		  415, "the body must be a JSON object sent as Content-Type: application/json" },
		{ "POST /commands/peers HTTP/1.1\r\n" AUTH
		  "Content-Type: application/json\r\nContent-Length: 1\r\n\r\n{",
		  400,
		  "the body is not JSON: string or '}' expected near end of file (at byte 1)" },
		{ "POST /commands/peers HTTP/1.1\r\n" AUTH
		  "Content-Type: application/json\r\nContent-Length: 1\r\n\r\n1",
		  400, "the body is not JSON: '[' or '{' expected near '1' (at byte 1)" },
		{ "POST /commands/peers HTTP/1.1\r\n" AUTH
		  "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
		  400, "the body must be a JSON object of the command's arguments" },
		{ "POST /commands/peers HTTP/1.1\r\n" AUTH
		  "Content-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"n\":\"\"}",
		  400, "args: `n' must be an integer" },
	};
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		j = NULL;
		assert_int_equal(route(bad[i].req, &j), bad[i].status);
		if (strcmp(error_of(j), bad[i].error) != 0)
			fail_msg("case %zu: `%s'", i, error_of(j));
		json_decref(j);
	}
	/* With allow_mutating, the command runs. */
	router.allow_mutating = true;
	assert_int_equal(route("POST /commands/down HTTP/1.1\r\n" AUTH "\r\n", &j), 200);
	json_decref(j);
}

static void test_metrics(void **state)
{
	assert_int_equal(route("GET /metrics HTTP/1.1\r\n" AUTH "\r\n", NULL), 200);
	assert_string_equal(last.content_type, METRICS_CONTENT_TYPE);
	assert_non_null(strstr(last.body, "manta_info{version=\"9.9\""));
	assert_non_null(strstr(last.body, "manta_packets_dropped_total{direction=\"rx\","
					  "reason=\"replay\"} 3\n"));
	assert_int_equal(strlen(last.body), last.len);
}

/* A command that answers later, and one whose client left first. */
static void test_later(void **state)
{
	static struct api_parser ap;
	static const char req[] = "GET /version HTTP/1.1\r\n" AUTH "\r\n";
	struct command_call *call;
	json_t *j;

	held = NULL;
	assert_int_equal(route(req, NULL), 0);
	assert_non_null(held);
	assert_int_equal(replies, 0);
	command_reply(held, json_pack("{s:s}", "version", "1"));
	assert_int_equal(replies, 1);
	assert_int_equal(last.status, 200);
	j = json_loadb(last.body, last.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "version")), "1");
	json_decref(j);

	api_parser_init(&ap);
	api_parser_feed(&ap, req, strlen(req));
	replies = 0;
	call = api_route_request(&exchange, &ap.req);
	api_parser_deinit(&ap);
	assert_ptr_equal(call, held);
	command_call_detach(call);
	command_reply(held, json_pack("{s:s}", "version", "2"));
	assert_int_equal(replies, 0);
}

static void test_reply_error(void **state)
{
	static const char want[] = "{\"error\":\"quote \\\" and \\\\ and \\n\"}\n";
	struct api_reply r;

	api_reply_error(&r, 413, "quote \" and \\ and \n");

	assert_int_equal(r.status, 413);
	/* (a body is len bytes, with no NUL after them) */
	assert_int_equal(r.len, sizeof(want) - 1);
	assert_memory_equal(r.body, want, r.len);
	free(r.body);
	assert_string_equal(api_status_text(431), "Request Header Fields Too Large");
	assert_string_equal(api_status_text(299), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_token, reset),
		cmocka_unit_test_setup(test_host, reset),
		cmocka_unit_test_setup(test_routes, reset),
		cmocka_unit_test_setup(test_methods, reset),
		cmocka_unit_test_setup(test_query, reset),
		cmocka_unit_test_setup(test_commands, reset),
		cmocka_unit_test_setup(test_metrics, reset),
		cmocka_unit_test_setup(test_later, reset),
		cmocka_unit_test_setup(test_reply_error, reset),
	};

	return cmocka_run_group_tests(tests, NULL, reset);
}
