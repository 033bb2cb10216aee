/*
 * libFuzzer harness for the REST API's request path: bytes as a client
 * would send them on one connection, cut into pieces of sizes the input
 * itself picks, go through the request reader (api_request.h) and every
 * complete request through the routes (api_route.h) over a registry of
 * commands that need no daemon, exactly as the server does it, pipelining
 * included. Each request must end in exactly one answer with a status the
 * API uses and a body that is JSON (or Prometheus text for /metrics); a
 * refusal ends the connection. Half the inputs carry the right token
 * where the header says "Bearer @", so the routes behind it are reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api_route.h"
#include "daemon/metrics.h"

#define TOKEN "fuzz-token-0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cmd_echo(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_incref(args));
}

static void cmd_list(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_pack("[s,s]", "a", "b"));
}

static void cmd_status(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, json_pack("{s:s,s:[{s:s,s:I,s:n}],s:{s:I,s:I}}", "version", "0",
				      "peers", "public_key", "k\"\\\n", "rx_bytes", (json_int_t)1,
				      "last_handshake", "counters", "rx_replay", (json_int_t)2,
				      "odd key!", (json_int_t)3));
}

static void cmd_fail(struct mantad *d, struct command_call *call, json_t *args)
{
	command_fail(call, "failed on purpose");
}

#define ARGS                                                                   \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" \
	"\"network\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255}," \
	"\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},\"on\":{\"type\":\"boolean\"}}}"
#define NO_ARGS "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"

static const struct command cmds[] = {
	{ "health", "h", NO_ARGS, false, cmd_echo },
	{ "status", "s", NO_ARGS, false, cmd_status },
	{ "peers", "p", ARGS, false, cmd_echo },
	{ "networks", "n", NO_ARGS, false, cmd_list },
	{ "whois", "w", ARGS, false, cmd_fail },
	{ "version", "v", NO_ARGS, false, cmd_echo },
	{ "v6_address", "a", NO_ARGS, false, cmd_list },
	{ "down", "d", NO_ARGS, true, cmd_echo },
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

static struct api_router router = { NULL, TOKEN, false, find, list };
static int answers;

static void done(struct api_exchange *x, struct api_reply *reply)
{
	bool text = reply->content_type && strcmp(reply->content_type, METRICS_CONTENT_TYPE) == 0;

	answers++;
	if (reply->status < 200 || reply->status > 599 || !reply->body ||
	    strcmp(api_status_text(reply->status), "Unknown") == 0)
		abort();
	if (!text) {
		json_t *j = json_loadb(reply->body, reply->len, 0, NULL);

		if (!json_is_object(j) ||
		    (reply->status >= 400 && !json_is_string(json_object_get(j, "error"))))
			abort();
		json_decref(j);
	}
	if ((reply->status == 401) != reply->challenge || (reply->status == 405) != !!reply->allow)
		abort();
	free(reply->body);
}

static struct api_exchange exchange = { &router, NULL, done };
static struct api_parser parser;

/* The input with each "Bearer @" made "Bearer TOKEN" (NULL: out of memory). */
static char *with_token(const uint8_t *data, size_t size, size_t *len)
{
	static const char mark[] = "Bearer @";
	char *out = malloc(size * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < size;) {
		if (size - i >= sizeof(mark) - 1 && !memcmp(data + i, mark, sizeof(mark) - 1)) {
			o += sprintf(o, "Bearer " TOKEN);
			i += sizeof(mark) - 1;
			continue;
		}
		*o++ = (char)data[i++];
	}
	*len = (size_t)(o - out);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, used = 0;
	unsigned step;
	char *text;

	if (size < 2)
		return 0;
	step = 1 + data[0] % 64; /* bytes per read */
	router.allow_mutating = data[1] & 1;
	text = with_token(data + 2, size - 2, &len);
	if (!text)
		return 0;
	api_parser_init(&parser);
	while (used < len) {
		size_t piece = MIN((size_t)step, len - used);

		used += api_parser_feed(&parser, text + used, piece);
		if (parser.status) {
			struct api_reply reply;

			api_reply_error(&reply, parser.status, parser.error);
			exchange.done(&exchange, &reply);
			break;
		}
		if (!parser.complete)
			continue;
		answers = 0;
		if (api_route_request(&exchange, &parser.req) != NULL || answers != 1)
			abort(); /* these commands all answer at once, exactly once */
		if (!parser.req.keep_alive)
			break;
		api_parser_next(&parser);
	}
	api_parser_eof(&parser);
	api_parser_deinit(&parser);
	free(text);
	return 0;
}
