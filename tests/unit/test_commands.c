/* The command registry: the argument schema checker (every rule and its
 * message), the request checks, and calls answered now, later, with
 * progress, or after their client left. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/commands.h"

/* --- a transport that records what it was given --------------------------- */

#define MAX_LINES 8

struct recorder {
	char *lines[MAX_LINES];
	int n;
	int replies;
};

static void record(struct recorder *r, json_t *msg)
{
	assert_true(r->n < MAX_LINES);
	r->lines[r->n++] = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
}

static void on_reply(void *ctx, json_t *reply)
{
	struct recorder *r = ctx;

	record(r, reply);
	r->replies++;
}

static void on_progress(void *ctx, json_t *progress)
{
	record(ctx, progress);
}

static const struct command_transport transport = { on_reply, on_progress, NULL };
static const struct command_transport transport_no_progress = { on_reply, NULL, NULL };

static void recorder_free(struct recorder *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->lines[i]);
	memset(r, 0, sizeof(*r));
}

/* --- a registry of test commands -------------------------------------------- */

static struct command_call *held; /* the async handler's call */
static int handler_runs;
static char handler_args[256];

static void cmd_echo(struct mantad *d, struct command_call *call, json_t *args)
{
	char *s = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);

	handler_runs++;
	snprintf(handler_args, sizeof(handler_args), "%s", s);
	free(s);
	command_reply(call, json_incref(args));
}

static void cmd_later(struct mantad *d, struct command_call *call, json_t *args)
{
	handler_runs++;
	command_progress(call, "step %d", 1);
	held = call;
}

static void cmd_fail(struct mantad *d, struct command_call *call, json_t *args)
{
	handler_runs++;
	command_fail(call, "no %s here", "network");
}

static void cmd_null(struct mantad *d, struct command_call *call, json_t *args)
{
	handler_runs++;
	command_reply(call, NULL);
}

#define NAME_SCHEMA                                                            \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" \
	"\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":5},"      \
	"\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"      \
	"\"flag\":{\"type\":\"boolean\"}},\"required\":[\"name\"]}"
#define OPEN_SCHEMA "{\"type\":\"object\",\"properties\":{}}"

static const struct command test_table[] = {
	{ "echo", "echo the args", NAME_SCHEMA, false, cmd_echo },
	{ "open", "echo anything", OPEN_SCHEMA, false, cmd_echo },
	{ "later", "answer later", OPEN_SCHEMA, false, cmd_later },
	{ "fail", "always fails", OPEN_SCHEMA, false, cmd_fail },
	{ "null", "replies NULL", OPEN_SCHEMA, false, cmd_null },
	{ "create", "changes state", OPEN_SCHEMA, true, cmd_echo },
};

static const struct command *test_find(const char *name)
{
	for (size_t i = 0; i < sizeof(test_table) / sizeof(test_table[0]); i++)
		if (strcmp(test_table[i].name, name) == 0)
			return &test_table[i];
	return NULL;
}

/* Dispatch the request text; returns the pending call or NULL. */
static struct command_call *dispatch(const char *text, bool may_mutate, struct recorder *r)
{
	json_error_t jerr;
	json_t *req = json_loads(text, JSON_DECODE_ANY, &jerr);
	struct command_call *call;

	if (!req)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	call = commands_dispatch_with(test_find, NULL, req, may_mutate, &transport, r);
	json_decref(req);
	return call;
}

/* The request fails at once with exactly this error, without the handler. */
static void expect_refused(const char *text, bool may_mutate, const char *error)
{
	struct recorder r = { 0 };
	char want[512];

	handler_runs = 0;
	assert_null(dispatch(text, may_mutate, &r));
	assert_int_equal(r.n, 1);
	snprintf(want, sizeof(want), "{\"error\":\"%s\",\"ok\":false}", error);
	assert_string_equal(r.lines[0], want);
	assert_int_equal(handler_runs, 0);
	recorder_free(&r);
}

/* --- the schema checker ----------------------------------------------------- */

static void expect_args(const char *schema, const char *args_text, const char *want)
{
	json_t *args = args_text ? json_loads(args_text, JSON_DECODE_ANY, NULL) : NULL;
	char err[256] = "";
	int r;

	if (args_text)
		assert_non_null(args);
	r = command_args_check(schema, args, err, sizeof(err));
	if (!want) {
		if (r != 0)
			fail_msg("%s refused: %s", args_text, err);
	} else {
		assert_int_equal(r, -EINVAL);
		if (strcmp(err, want) != 0)
			fail_msg("%s:\ngot      `%s'\nexpected `%s'", args_text, err, want);
	}
	json_decref(args);
}

static void test_args_accepted(void **state)
{
	/* 1 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\"}", NULL);
	/* 2 */ expect_args(NAME_SCHEMA, "{\"name\":\"abcde\",\"count\":100,\"flag\":true}", NULL);
	/* 3 */ expect_args(NAME_SCHEMA, "{\"flag\":false,\"count\":1,\"name\":\"x\"}", NULL);
	/* 4: five characters, ten bytes */
	expect_args(NAME_SCHEMA, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", NULL);
	/* 5: NULL args and an empty object, when nothing is required */
	expect_args(OPEN_SCHEMA, NULL, NULL);
	expect_args(OPEN_SCHEMA, "{}", NULL);
	/* 6: without additionalProperties:false unknown fields pass */
	expect_args(OPEN_SCHEMA, "{\"anything\":[1,2]}", NULL);
}

static void test_args_refused(void **state)
{
	/* 1 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"foo\":1}", "args: unknown field `foo'");
	/* 2 */ expect_args(NAME_SCHEMA, "{}", "args: missing `name'");
	/* 3 */ expect_args(NAME_SCHEMA, NULL, "args: missing `name'");
	/* 4 */ expect_args(NAME_SCHEMA, "{\"name\":1}", "args: `name' must be a string");
	/* 5 */ expect_args(NAME_SCHEMA, "{\"name\":\"\"}",
			    "args: `name' must be at least 1 characters");
	/* 6 */ expect_args(NAME_SCHEMA, "{\"name\":\"abcdef\"}",
			    "args: `name' must be at most 5 characters");
	/* 7 */ expect_args(NAME_SCHEMA,
			    "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}",
			    "args: `name' must be at most 5 characters");
	/* 8 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"count\":\"3\"}",
			    "args: `count' must be an integer");
	/* 9 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"count\":3.0}",
			    "args: `count' must be an integer");
	/* 10 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"count\":101}",
			     "args: `count' must be at most 100");
	/* 11 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"count\":0}",
			     "args: `count' must be at least 1");
	/* 12 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"count\":-9223372036854775808}",
			     "args: `count' must be at least 1");
	/* 13 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"flag\":1}",
			     "args: `flag' must be a boolean");
	/* 14 */ expect_args(NAME_SCHEMA, "{\"name\":\"a\",\"flag\":null}",
			     "args: `flag' must be a boolean");
	/* 15 */ expect_args(NAME_SCHEMA, "[]", "\"args\" must be a JSON object");
	/* 16: the first problem in the client's order, before anything missing */
	expect_args(NAME_SCHEMA, "{\"count\":0,\"bar\":1}", "args: `count' must be at least 1");
	expect_args(NAME_SCHEMA, "{\"bar\":1,\"count\":0}", "args: unknown field `bar'");
}

static void expect_schema(const char *schema, const char *want)
{
	char err[256] = "";
	int r = command_schema_check(schema, err, sizeof(err));

	if (!want) {
		if (r != 0)
			fail_msg("%s refused: %s", schema, err);
		return;
	}
	assert_int_equal(r, -EINVAL);
	if (strcmp(err, want) != 0)
		fail_msg("%s:\ngot      `%s'\nexpected `%s'", schema, err, want);
}

static void test_schemas(void **state)
{
	/* 1 */ expect_schema(NAME_SCHEMA, NULL);
	/* 2 */ expect_schema(OPEN_SCHEMA, NULL);
	/* 3 */ expect_schema(
		"{\"type\":\"object\",\"description\":\"x\",\"properties\":{"
		"\"a\":{\"type\":\"string\",\"description\":\"y\",\"default\":\"z\"}}}",
		NULL);
	/* 4 */ expect_schema("{\"type\":\"object\"",
			      "schema: not JSON: '}' expected near end of file");
	/* 5 */ expect_schema("{\"type\":\"array\"}", "schema: not {\"type\":\"object\", ...}");
	/* 6 */ expect_schema("[]", "schema: not {\"type\":\"object\", ...}");
	/* 7 */ expect_schema("{\"type\":\"object\",\"oneOf\":[]}",
			      "schema: unsupported keyword `oneOf'");
	/* 8 */ expect_schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"}}}",
			      "schema: property `a': unsupported type `number'");
	/* 9 */ expect_schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
			      "\"pattern\":\"x\"}}}",
			      "schema: property `a': unsupported keyword `pattern'");
	/* 10: a bound of another type is not silently ignored */
	expect_schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
		      "\"maximum\":3}}}",
		      "schema: property `a': unsupported keyword `maximum'");
	/* 11 */ expect_schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\","
			       "\"maximum\":\"3\"}}}",
			       "schema: property `a': a bound is not an integer");
	/* 12 */ expect_schema("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
			       "\"maxLength\":-1}}}",
			       "schema: property `a': a bound is not an integer");
	/* 13 */ expect_schema("{\"type\":\"object\",\"properties\":{\"a\":{}}}",
			       "schema: property `a' has no \"type\"");
	/* 14 */ expect_schema("{\"type\":\"object\",\"properties\":{},\"required\":[\"a\"]}",
			       "schema: \"required\" names no property");
	/* 15 */ expect_schema("{\"type\":\"object\",\"additionalProperties\":{}}",
			       "schema: \"additionalProperties\" is not a boolean");
	/* 16 */ expect_schema("{\"type\":\"object\",\"properties\":[]}",
			       "schema: \"properties\" is not an object");
	/* 17 */ expect_schema("{\"type\":\"object\",\"required\":\"a\"}",
			       "schema: \"required\" is not an array");
}

/* A bad schema refuses every request (and never runs the handler). */
static void test_args_bad_schema(void **state)
{
	expect_args("{\"type\":\"object\",\"oneOf\":[]}", "{}",
		    "schema: unsupported keyword `oneOf'");
}

/* --- the registry ------------------------------------------------------------- */

static void test_table_schemas_parse(void **state)
{
	size_t n;
	const struct command *cmds = commands_list(&n);
	char err[256];

	assert_non_null(cmds);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(cmds[i].name);
		assert_non_null(cmds[i].summary);
		assert_non_null(cmds[i].handler);
		if (command_schema_check(cmds[i].args_schema, err, sizeof(err)) != 0)
			fail_msg("command `%s': %s", cmds[i].name, err);
		assert_non_null(commands_find(cmds[i].name));
		assert_ptr_equal(commands_find(cmds[i].name)->handler, cmds[i].handler);
		for (size_t j = 0; j < i; j++)
			if (strcmp(cmds[i].name, cmds[j].name) == 0)
				fail_msg("command `%s' is in the registry twice", cmds[i].name);
	}
	assert_non_null(commands_find("status"));
	assert_non_null(commands_find("version"));
	assert_null(commands_find("bogus"));
}

static void test_request_errors(void **state)
{
	/* 1 */ expect_refused("[1]", true, "request must be a JSON object");
	/* 2 */ expect_refused("\"status\"", true, "request must be a JSON object");
	/* 3 */ expect_refused("{}", true, "request has no \\\"command\\\" string");
	/* 4 */ expect_refused("{\"command\":7}", true, "request has no \\\"command\\\" string");
	/* 5 */ expect_refused("{\"command\":\"bogus\"}", true, "unknown command `bogus'");
	/* 6 */ expect_refused("{\"command\":\"echo\",\"args\":[]}", true,
			       "\\\"args\\\" must be a JSON object");
	/* 7 */ expect_refused("{\"command\":\"echo\",\"args\":\"x\"}", true,
			       "\\\"args\\\" must be a JSON object");
	/* 8 */ expect_refused("{\"command\":\"create\",\"args\":{}}", false,
			       "`create' changes state: run it as root or as a member of the "
			       "manta group");
	/* 9: the rights are checked before the arguments */
	expect_refused("{\"command\":\"create\",\"args\":7}", false,
		       "`create' changes state: run it as root or as a member of the manta "
		       "group");
	/* 10: the arguments before the handler */
	expect_refused("{\"command\":\"echo\",\"args\":{\"name\":\"toolong\"}}", true,
		       "args: `name' must be at most 5 characters");
	expect_refused("{\"command\":\"echo\"}", true, "args: missing `name'");
}

static void test_real_registry(void **state)
{
	struct recorder r = { 0 };
	json_t *req = json_pack("{s:s}", "command", "version");
	size_t n;
	const struct command *cmds = commands_list(&n);

	/* version needs no daemon. */
	assert_null(commands_dispatch(NULL, req, false, &transport, &r));
	assert_int_equal(r.replies, 1);
	assert_string_equal(r.lines[0],
			    "{\"ok\":true,\"result\":{\"version\":\"" MANTA_VERSION "\"}}");
	recorder_free(&r);
	json_decref(req);
	/* Every mutating command of the real registry is refused to others. */
	for (size_t i = 0; i < n; i++) {
		char text[128], want[256];

		if (!cmds[i].mutating)
			continue;
		req = json_pack("{s:s,s:{}}", "command", cmds[i].name, "args");
		assert_null(commands_dispatch(NULL, req, false, &transport, &r));
		snprintf(text, sizeof(text), "`%s' changes state", cmds[i].name);
		snprintf(want, sizeof(want),
			 "{\"error\":\"%s: run it as root or as a member of "
			 "the manta group\",\"ok\":false}",
			 text);
		assert_string_equal(r.lines[0], want);
		recorder_free(&r);
		json_decref(req);
	}
}

/* --- calls ---------------------------------------------------------------------- */

static void test_sync_reply(void **state)
{
	struct recorder r = { 0 };

	handler_runs = 0;
	assert_null(dispatch("{\"command\":\"echo\",\"args\":{\"name\":\"ab\",\"count\":2}}", false,
			     &r));
	assert_int_equal(handler_runs, 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "{\"ok\":true,\"result\":{\"count\":2,\"name\":\"ab\"}}");
	recorder_free(&r);

	/* No args: the handler still gets an object. */
	assert_null(dispatch("{\"command\":\"open\"}", false, &r));
	assert_string_equal(handler_args, "{}");
	assert_string_equal(r.lines[0], "{\"ok\":true,\"result\":{}}");
	recorder_free(&r);

	/* A mutating command for a caller who may. */
	assert_null(dispatch("{\"command\":\"create\",\"args\":{}}", true, &r));
	assert_string_equal(r.lines[0], "{\"ok\":true,\"result\":{}}");
	recorder_free(&r);
}

static void test_sync_fail(void **state)
{
	struct recorder r = { 0 };

	assert_null(dispatch("{\"command\":\"fail\"}", false, &r));
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "{\"error\":\"no network here\",\"ok\":false}");
	recorder_free(&r);

	/* A handler whose result could not be built still answers. */
	assert_null(dispatch("{\"command\":\"null\"}", false, &r));
	assert_int_equal(r.n, 1);
	assert_string_equal(
		r.lines[0],
		"{\"error\":\"`null' produced no result (out of memory?)\",\"ok\":false}");
	recorder_free(&r);
}

static void test_async_with_progress(void **state)
{
	struct recorder r = { 0 };
	struct command_call *call;

	held = NULL;
	call = dispatch("{\"command\":\"later\"}", false, &r);
	assert_non_null(call);
	assert_ptr_equal(call, held);
	assert_string_equal(command_call_name(call), "later");
	assert_int_equal(r.replies, 0);
	command_progress(call, "step %d", 2);
	command_reply(call, json_pack("{s:i}", "members", 3));
	assert_int_equal(r.n, 3);
	assert_int_equal(r.replies, 1);
	assert_string_equal(r.lines[0], "{\"progress\":\"step 1\"}");
	assert_string_equal(r.lines[1], "{\"progress\":\"step 2\"}");
	assert_string_equal(r.lines[2], "{\"ok\":true,\"result\":{\"members\":3}}");
	recorder_free(&r);

	/* Failing later. */
	call = dispatch("{\"command\":\"later\"}", false, &r);
	assert_non_null(call);
	command_fail(call, "owner did not answer after %d s", 10);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.lines[1],
			    "{\"error\":\"owner did not answer after 10 s\",\"ok\":false}");
	recorder_free(&r);
}

static void test_progress_optional(void **state)
{
	struct recorder r = { 0 };
	json_t *req = json_pack("{s:s}", "command", "later");
	struct command_call *call;

	call = commands_dispatch_with(test_find, NULL, req, false, &transport_no_progress, &r);
	assert_non_null(call);
	command_progress(call, "dropped");
	command_reply(call, json_true());
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "{\"ok\":true,\"result\":true}");
	recorder_free(&r);
	json_decref(req);
}

/* The client left: progress and the answer are dropped, the call freed (the
 * sanitizers see any leak or use after free). */
static void test_detach_then_answer(void **state)
{
	struct recorder r = { 0 };
	struct command_call *call;

	call = dispatch("{\"command\":\"later\"}", false, &r);
	assert_non_null(call);
	assert_int_equal(r.n, 1); /* step 1 */
	command_call_detach(call);
	command_progress(call, "nobody hears this");
	command_reply(call, json_pack("{s:s}", "big", "result"));
	assert_int_equal(r.n, 1);
	assert_int_equal(r.replies, 0);
	recorder_free(&r);

	call = dispatch("{\"command\":\"later\"}", false, &r);
	command_call_detach(call);
	command_call_detach(call); /* twice is harmless */
	command_fail(call, "stopping");
	assert_int_equal(r.replies, 0);
	recorder_free(&r);

	command_call_detach(NULL);
}

/* The transport's dropped hook runs instead of reply for a call answered
 * after its client left, and never for one whose reply was delivered. */
static int drops;

static void on_dropped(void *ctx)
{
	drops++;
}

static void test_dropped(void **state)
{
	static const struct command_transport with_drop = { on_reply, on_progress, on_dropped };
	struct recorder r = { 0 };
	json_t *req = json_loads("{\"command\":\"later\"}", 0, NULL);
	struct command_call *call;

	drops = 0;
	call = commands_dispatch_with(test_find, NULL, req, false, &with_drop, &r);
	command_reply(call, json_object());
	assert_int_equal(r.replies, 1);
	assert_int_equal(drops, 0);
	call = commands_dispatch_with(test_find, NULL, req, false, &with_drop, &r);
	command_call_detach(call);
	command_reply(call, json_object());
	assert_int_equal(r.replies, 1);
	assert_int_equal(drops, 1);
	json_decref(req);
	recorder_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_accepted),
		cmocka_unit_test(test_args_refused),
		cmocka_unit_test(test_schemas),
		cmocka_unit_test(test_args_bad_schema),
		cmocka_unit_test(test_table_schemas_parse),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_real_registry),
		cmocka_unit_test(test_sync_reply),
		cmocka_unit_test(test_sync_fail),
		cmocka_unit_test(test_async_with_progress),
		cmocka_unit_test(test_progress_optional),
		cmocka_unit_test(test_detach_then_answer),
		cmocka_unit_test(test_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
