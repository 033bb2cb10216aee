/* MCP over a registry of test commands: the lifecycle methods, ids echoed
 * exactly, notifications and responses never answered, every error code,
 * the tools offered with and without allow_mutating, tool results and tool
 * errors, progress, and calls answered later or after their client left. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api_mcp.h"

/* --- test commands ---------------------------------------------------------------- */

static struct command_call *held;

static void cmd_echo(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_incref(args));
}

static void cmd_fail(struct mantad *d, struct command_call *call, json_t *args)
{
	command_fail(call, "it did not work");
}

static void cmd_later(struct mantad *d, struct command_call *call, json_t *args)
{
	command_progress(call, "step one");
	held = call;
}

#define ARGS                                                                            \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"host\":" \
	"{\"type\":\"string\",\"minLength\":1}},\"required\":[\"host\"]}"
#define NO_ARGS "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"

static const struct command cmds[] = {
	{ "echo", "echoes", ARGS, false, cmd_echo },
	{ "fail", "fails", NO_ARGS, false, cmd_fail },
	{ "later", "answers later", NO_ARGS, false, cmd_later },
	{ "create", "changes state", NO_ARGS, true, cmd_echo },
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

/* --- a transport that records the lines ---------------------------------------------- */

#define MAX_LINES 32

static char *lines[MAX_LINES];
static int nlines, nprogress;

static void record(json_t *msg)
{
	assert_true(nlines < MAX_LINES);
	lines[nlines++] = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void on_reply(void *ctx, json_t *msg)
{
	record(msg);
}

static void on_progress(void *ctx, json_t *msg)
{
	nprogress++;
	record(msg);
}

static const struct command_transport transport = { on_reply, on_progress, NULL };
static struct mcp_server server = { NULL, false, find, list };

static int reset(void **state)
{
	for (int i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = nprogress = 0;
	server.allow_mutating = false;
	return 0;
}

/* Handles one line; returns how many lines came back (the last in
 * lines[nlines - 1]). */
static int handle(const char *text)
{
	json_error_t jerr;
	json_t *msg = json_loads(text, JSON_DECODE_ANY, &jerr);
	int before = nlines;
	struct command_call *call = mcp_handle(&server, msg, jerr.text, &transport, NULL);

	json_decref(msg);
	assert_null(call);
	return nlines - before;
}

/* Exactly one answer to text, which must be want (keys sorted). */
static void expect(const char *text, const char *want)
{
	assert_int_equal(handle(text), 1);
	if (strcmp(lines[nlines - 1], want) != 0)
		fail_msg("for %s\n got      %s\n expected %s", text, lines[nlines - 1], want);
}

static json_t *last(void)
{
	return json_loads(lines[nlines - 1], 0, NULL);
}

/* --- tests ------------------------------------------------------------------------------ */

static void test_initialize(void **state)
{
	json_t *r;

	assert_int_equal(
		handle("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
		       "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
		       "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}"),
		1);
	r = last();
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "result"), "protocolVersion")),
		"2025-06-18");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(r, "result"), "serverInfo"), "name")),
		"manta");
	assert_true(json_is_false(json_object_get(
		json_object_get(json_object_get(json_object_get(r, "result"), "capabilities"),
				"tools"),
		"listChanged")));
	json_decref(r);
	/* Unknown or missing versions: the latest. */
	static const char *const asks[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2099-01-01\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":7}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(asks); i++) {
		assert_int_equal(handle(asks[i]), 1);
		r = last();
		assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"),
								      "protocolVersion")),
				    MCP_LATEST_VERSION);
		json_decref(r);
	}
	expect("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}",
	       "{\"id\":\"p\",\"jsonrpc\":\"2.0\",\"result\":{}}");
	assert_int_equal(handle("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\"}"),
			 1);
	r = last();
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(json_object_get(r, "result"), "supportedVersions"), 0)),
		MCP_LATEST_VERSION);
	json_decref(r);
}

/* Ids exactly as sent: compare the text of the answer. */
static void test_ids(void **state)
{
	static const char *const ids[] = { "0",	   "-1",   "42",    "9007199254740993",
					   "1.5",  "\"\"", "\"x\"", "\"\\u00e9\"",
					   "\"1\"" };
	char req[256], want[256];

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		json_t *id = json_loads(ids[i], JSON_DECODE_ANY, NULL);
		char *canon = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);

		snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}",
			 ids[i]);
		snprintf(want, sizeof(want), "{\"id\":%s,\"jsonrpc\":\"2.0\",\"result\":{}}",
			 canon);
		expect(req, want);
		free(canon);
		json_decref(id);
	}
}

static void test_silence(void **state)
{
	static const char *const quiet[] = {
		/* notifications, known or not, valid or not */
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}",
		"{\"jsonrpc\":\"1.0\",\"method\":\"ping\"}",
		/* responses */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,\"message\":\"x\"}}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
		if (handle(quiet[i]) != 0)
			fail_msg("answered %s with %s", quiet[i], lines[nlines - 1]);
}

static void test_errors(void **state)
{
	static const struct {
		const char *req;
		int code;
		const char *id;
	} cases[] = {
		{ "{\"jsonrpc\":", -32700, "null" },
		{ "[]", -32600, "null" },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600, "null" },
		{ "42", -32600, "null" },
		{ "{\"jsonrpc\":\"2.0\"}", -32600, "null" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", -32600, "null" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", -32600, "null" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", -32600, "null" },
		{ "{\"jsonrpc\":\"2.1\",\"id\":1,\"method\":\"ping\"}", -32600, "1" },
		{ "{\"id\":1,\"method\":\"ping\"}", -32600, "1" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", -32600, "1" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1}", -32600, "1" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/list\"}", -32601, "2" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":[]}", -32602, "3" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\"}", -32602, "4" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":1}}",
		  -32602, "4" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}",
		  -32602, "5" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":"
		  "{\"name\":\"create\"}}",
		  -32602, "6" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *r;
		char *id;

		if (handle(cases[i].req) != 1)
			fail_msg("case %zu: no answer", i);
		r = last();
		id = json_dumps(json_object_get(r, "id"), JSON_ENCODE_ANY);
		if (json_integer_value(json_object_get(json_object_get(r, "error"), "code")) !=
			    cases[i].code ||
		    strcmp(id, cases[i].id) != 0 ||
		    !json_is_string(json_object_get(json_object_get(r, "error"), "message")) ||
		    json_object_get(r, "result"))
			fail_msg("case %zu: %s", i, lines[nlines - 1]);
		free(id);
		json_decref(r);
	}
}

static void test_tools_list(void **state)
{
	json_t *r, *tools, *t;
	size_t i;

	assert_int_equal(handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}"), 1);
	r = last();
	tools = json_object_get(json_object_get(r, "result"), "tools");
	assert_int_equal(json_array_size(tools), 3); /* not create */
	json_array_foreach(tools, i, t)
	{
		assert_string_equal(json_string_value(json_object_get(t, "name")), cmds[i].name);
		assert_string_equal(json_string_value(json_object_get(t, "description")),
				    cmds[i].summary);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(t, "inputSchema"), "type")),
				    "object");
		assert_true(json_is_true(
			json_object_get(json_object_get(t, "annotations"), "readOnlyHint")));
	}
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(json_object_get(json_array_get(tools, 0), "inputSchema"),
					"required"),
			0)),
		"host");
	json_decref(r);
	server.allow_mutating = true;
	assert_int_equal(handle("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}"), 1);
	r = last();
	tools = json_object_get(json_object_get(r, "result"), "tools");
	assert_int_equal(json_array_size(tools), 4);
	t = json_array_get(tools, 3);
	assert_string_equal(json_string_value(json_object_get(t, "name")), "create");
	assert_true(
		json_is_false(json_object_get(json_object_get(t, "annotations"), "readOnlyHint")));
	json_decref(r);
	expect("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":"
	       "\"create\",\"arguments\":{}}}",
	       "{\"id\":9,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":\"{}\",\"type\":"
	       "\"text\"}],\"isError\":false}}");
}

static void test_tools_call(void **state)
{
	expect("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
	       "\"echo\",\"arguments\":{\"host\":\"bob\"}}}",
	       "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":"
	       "\"{\\\"host\\\":\\\"bob\\\"}\",\"type\":\"text\"}],\"isError\":false}}");
	/* Bad arguments, and a command that fails: tool errors, not protocol ones. */
	expect("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
	       "\"echo\"}}",
	       "{\"id\":2,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":"
	       "\"args: missing `host'\",\"type\":\"text\"}],\"isError\":true}}");
	expect("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
	       "\"echo\",\"arguments\":[]}}",
	       "{\"id\":3,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":"
	       "\"\\\"args\\\" must be a JSON object\",\"type\":\"text\"}],\"isError\":true}}");
	expect("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
	       "\"fail\",\"arguments\":{}}}",
	       "{\"id\":4,\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":"
	       "\"it did not work\",\"type\":\"text\"}],\"isError\":true}}");
}

/* Answered later, with progress; and a call whose client left: dropped
 * frees what the call held (the leak checker of check-asan watches). */
static void test_later(void **state)
{
	static const char req[] =
		"{\"jsonrpc\":\"2.0\",\"id\":\"L\",\"method\":\"tools/call\",\"params\":"
		"{\"name\":\"later\",\"_meta\":{\"progressToken\":5}}}";
	struct command_call *call;
	json_t *msg = json_loads(req, 0, NULL);

	call = mcp_handle(&server, msg, NULL, &transport, NULL);
	assert_non_null(call);
	assert_ptr_equal(call, held);
	assert_int_equal(nprogress, 1);
	assert_string_equal(lines[0], "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
				      "\"params\":{\"message\":\"step one\",\"progress\":1,"
				      "\"progressToken\":5}}");
	command_progress(held, "step two");
	assert_int_equal(nprogress, 2);
	command_reply(held, json_pack("{s:b}", "done", 1));
	assert_int_equal(nlines, 3);
	assert_string_equal(lines[2], "{\"id\":\"L\",\"jsonrpc\":\"2.0\",\"result\":{\"content\":"
				      "[{\"text\":\"{\\\"done\\\":true}\",\"type\":\"text\"}],"
				      "\"isError\":false}}");
	/* Without a progressToken, no progress. */
	json_object_del(json_object_get(msg, "params"), "_meta");
	call = mcp_handle(&server, msg, NULL, &transport, NULL);
	assert_int_equal(nlines, 3);
	command_call_detach(call);
	command_reply(held, json_pack("{s:b}", "done", 1));
	assert_int_equal(nlines, 3);
	json_decref(msg);
}

static void test_is_message(void **state)
{
	json_t *a = json_loads("{\"jsonrpc\":\"2.0\"}", 0, NULL);
	json_t *b = json_loads("{\"command\":\"status\"}", 0, NULL);
	json_t *c = json_loads("[{\"jsonrpc\":\"2.0\"}]", 0, NULL);

	assert_true(mcp_is_message(a));
	assert_false(mcp_is_message(b));
	assert_false(mcp_is_message(c));
	assert_false(mcp_is_message(NULL));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_initialize, reset),
		cmocka_unit_test_teardown(test_ids, reset),
		cmocka_unit_test_teardown(test_silence, reset),
		cmocka_unit_test_teardown(test_errors, reset),
		cmocka_unit_test_teardown(test_tools_list, reset),
		cmocka_unit_test_teardown(test_tools_call, reset),
		cmocka_unit_test_teardown(test_later, reset),
		cmocka_unit_test_teardown(test_is_message, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
