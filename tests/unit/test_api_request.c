/* The REST API's request reader: what it takes from a request, fed whole
 * or a byte at a time; pipelining; bodies by length and chunked; every
 * refusal with its status; the end of input; percent-decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api_request.h"

/* Feeds all of text (in pieces of `step' bytes, 0 = at once) until the
 * parser stops; returns how many bytes it used. */
static size_t feed(struct api_parser *ap, const char *text, size_t len, size_t step)
{
	size_t used = 0;

	while (used < len && !ap->complete && !ap->status) {
		size_t n = step ? MIN(step, len - used) : len - used;
		size_t k = api_parser_feed(ap, text + used, n);

		used += k;
		if (k < n)
			break;
	}
	return used;
}

static void parse_ok(struct api_parser *ap, const char *text, size_t step)
{
	size_t len = strlen(text);

	api_parser_init(ap);
	assert_int_equal(feed(ap, text, len, step), len);
	if (ap->status)
		fail_msg("refused %d: %s", ap->status, ap->error);
	assert_true(ap->complete);
}

static void test_get(void **state)
{
	static const char req[] = "GET /peers?network=home&x=%41 HTTP/1.1\r\nHost: localhost\r\n"
				  "Authorization: Bearer abc\r\nAccept: */*\r\n\r\n";
	static struct api_parser ap;

	for (size_t step = 0; step <= 3; step++) {
		parse_ok(&ap, req, step);
		assert_int_equal(ap.req.method, API_GET);
		assert_string_equal(ap.req.method_name, "GET");
		assert_string_equal(ap.req.path, "/peers");
		assert_true(ap.req.has_query);
		assert_string_equal(ap.req.query, "network=home&x=%41");
		assert_true(ap.req.has_authorization);
		assert_string_equal(ap.req.authorization, "Bearer abc");
		assert_false(ap.req.has_content_type);
		assert_true(ap.req.has_host);
		assert_string_equal(ap.req.host, "localhost");
		assert_true(ap.req.keep_alive);
		assert_int_equal(ap.req.http_major, 1);
		assert_int_equal(ap.req.http_minor, 1);
		assert_null(ap.req.body);
		api_parser_deinit(&ap);
	}
}

static void test_methods_and_targets(void **state)
{
	static struct api_parser ap;

	parse_ok(&ap, "HEAD /v6/address HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(ap.req.method, API_HEAD);
	assert_string_equal(ap.req.path, "/v6/address");
	assert_false(ap.req.has_query);
	api_parser_deinit(&ap);
	parse_ok(&ap, "DELETE /x HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(ap.req.method, API_OTHER);
	assert_string_equal(ap.req.method_name, "DELETE");
	api_parser_deinit(&ap);
	/* absolute-form, an empty query, escapes in the path */
	parse_ok(&ap, "GET http://127.0.0.1:8642/v6%2faddress? HTTP/1.1\r\n\r\n", 0);
	assert_string_equal(ap.req.path, "/v6/address");
	assert_true(ap.req.has_query);
	assert_string_equal(ap.req.query, "");
	api_parser_deinit(&ap);
	/* HTTP/1.0 closes unless asked; HTTP/1.1 keeps unless told */
	parse_ok(&ap, "GET / HTTP/1.0\r\n\r\n", 0);
	assert_false(ap.req.keep_alive);
	api_parser_deinit(&ap);
	parse_ok(&ap, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0);
	assert_true(ap.req.keep_alive);
	api_parser_deinit(&ap);
	parse_ok(&ap, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0);
	assert_false(ap.req.keep_alive);
	api_parser_deinit(&ap);
}

static void test_bodies(void **state)
{
	static struct api_parser ap;

	for (size_t step = 0; step <= 2; step++) {
		parse_ok(&ap,
			 "POST /commands/peers HTTP/1.1\r\nContent-Type: Application/JSON ; "
			 "charset=utf-8\r\nContent-Length: 18\r\nExpect: 100-Continue\r\n\r\n"
			 "{\"network\":\"home\"}",
			 step);
		assert_int_equal(ap.req.method, API_POST);
		assert_string_equal(ap.req.content_type, "application/json");
		assert_true(ap.req.expect_continue);
		assert_int_equal(ap.req.body_len, 18);
		assert_string_equal(ap.req.body, "{\"network\":\"home\"}");
		api_parser_deinit(&ap);
		parse_ok(&ap,
			 "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "3\r\nabc\r\n5;ext=1\r\ndefgh\r\n0\r\nTrailer: x\r\n\r\n",
			 step);
		assert_int_equal(ap.req.body_len, 8);
		assert_string_equal(ap.req.body, "abcdefgh");
		api_parser_deinit(&ap);
	}
	/* A body of exactly the limit is fine. */
	{
		char *req = malloc(API_BODY_MAX + 128);
		int n = sprintf(req, "POST /x HTTP/1.1\r\nContent-Length: %d\r\n\r\n",
				API_BODY_MAX);

		memset(req + n, 'x', API_BODY_MAX);
		req[n + API_BODY_MAX] = '\0';
		parse_ok(&ap, req, 0);
		assert_int_equal(ap.req.body_len, API_BODY_MAX);
		api_parser_deinit(&ap);
		free(req);
	}
}

/* Two requests in one buffer: the first stops the parser right after it. */
static void test_pipelined(void **state)
{
	static const char two[] =
		"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
		"GET /c HTTP/1.1\r\n\r\n";
	static struct api_parser ap;
	size_t used, len = strlen(two);

	api_parser_init(&ap);
	used = api_parser_feed(&ap, two, len);
	assert_int_equal(used, strlen("GET /a HTTP/1.1\r\n\r\n"));
	assert_true(ap.complete);
	assert_string_equal(ap.req.path, "/a");
	/* A complete parser takes nothing more until next. */
	assert_int_equal(api_parser_feed(&ap, two + used, len - used), 0);
	api_parser_next(&ap);
	used += api_parser_feed(&ap, two + used, len - used);
	assert_true(ap.complete);
	assert_string_equal(ap.req.path, "/b");
	assert_string_equal(ap.req.body, "hi");
	api_parser_next(&ap);
	used += api_parser_feed(&ap, two + used, len - used);
	assert_true(ap.complete);
	assert_string_equal(ap.req.path, "/c");
	assert_null(ap.req.body);
	assert_int_equal(used, len);
	api_parser_deinit(&ap);
}

/* Each refused request with the status and the start of the reason. */
static void test_refusals(void **state)
{
	static char long_header[API_HEADERS_MAX + 64], many[API_HEADERS_COUNT * 8 + 64],
		long_url[API_URL_MAX + 64], long_auth[API_AUTH_MAX + 64],
		long_host[API_HOST_MAX + 64];
	struct {
		const char *req;
		int status;
		const char *why;
	} cases[] = {
		/* 1 */ { "hello\r\n\r\n", 400, "invalid HTTP method" },
		/* 2 */ { "GET / HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0" },
		/* 3 */
		{ "GET / HTTP/1.1\r\nA: 1\r\nAuthorization: x\r\nAuthorization: y\r\n\r\n", 400,
		  "more than one Authorization" },
		/* 4 */
		{ "GET / HTTP/1.1\r\ncontent-type: a\r\nContent-Type: b\r\n\r\n", 400,
		  "more than one Content-Type" },
		/* 5 */ { "GET /%zz HTTP/1.1\r\n\r\n", 400, "bad escape" },
		/* 6 */ { "GET /a%00 HTTP/1.1\r\n\r\n", 400, "bad escape" },
		/* 7 */ { "GET /a% HTTP/1.1\r\n\r\n", 400, "bad escape" },
		/* 8 */ { "GET * HTTP/1.1\r\n\r\n", 400, "bad request target" },
		/* 9 */ { "GET http://host HTTP/1.1\r\n\r\n", 0, NULL }, /* path "/" */
		/* 10 */ { "POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413, "body larger" },
		/* 11 */ { "GET / HTTP/1.1\r\nExpect: something\r\n\r\n", 417, "the only Expect" },
		/* 12 */ { "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "invalid character" },
		/* 13 */ { long_header, 431, "header larger" },
		/* 14 */ { many, 431, "too many header fields" },
		/* 15 */ { long_url, 414, "request target longer" },
		/* 16 */ { long_auth, 431, "a header field's value" },
		/* 17 */ { "GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "request has" },
		/* 18 */ { "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "more than one Host" },
		/* 19 */ { long_host, 431, "a header field's value" },
	};
	char *p;

	snprintf(long_header, sizeof(long_header), "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n",
		 API_HEADERS_MAX, 0);
	p = many + sprintf(many, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= API_HEADERS_COUNT; i++)
		p += sprintf(p, "X%d: 1\r\n", i);
	strcpy(p, "\r\n");
	snprintf(long_url, sizeof(long_url), "GET /%0*d HTTP/1.1\r\n\r\n", API_URL_MAX, 0);
	snprintf(long_auth, sizeof(long_auth), "GET / HTTP/1.1\r\nAuthorization: %0*d\r\n\r\n",
		 API_AUTH_MAX + 1, 0);
	snprintf(long_host, sizeof(long_host), "GET / HTTP/1.1\r\nHost: %0*d\r\n\r\n",
		 API_HOST_MAX + 1, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 0; step <= 7; step += 7) {
			static struct api_parser ap;

			api_parser_init(&ap);
			feed(&ap, cases[i].req, strlen(cases[i].req), step);
			if (ap.status != cases[i].status)
				fail_msg("case %zu (step %zu): status %d (%s), expected %d", i + 1,
					 step, ap.status, ap.error ? ap.error : "",
					 cases[i].status);
			if (cases[i].why && strncmp(ap.error, cases[i].why, strlen(cases[i].why)))
				fail_msg("case %zu: `%s'", i + 1, ap.error);
			if (!cases[i].status)
				assert_string_equal(ap.req.path, "/");
			/* A refused parser takes nothing more. */
			if (ap.status)
				assert_int_equal(api_parser_feed(&ap, "GET", 3), 0);
			api_parser_deinit(&ap);
		}
	}
}

/* A chunked body grows past the limit: refused as it arrives. */
static void test_chunked_too_large(void **state)
{
	static struct api_parser ap;
	static char chunk[4096 + 16];
	size_t total = 0;

	api_parser_init(&ap);
	static const char head[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";

	assert_int_equal(api_parser_feed(&ap, head, strlen(head)), strlen(head));
	memset(chunk, 'x', sizeof(chunk));
	memcpy(chunk, "1000\r\n", 6);
	memcpy(chunk + 6 + 4096, "\r\n", 2);
	while (!ap.status && total < 2 * API_BODY_MAX) {
		api_parser_feed(&ap, chunk, 6 + 4096 + 2);
		total += 4096;
	}
	assert_int_equal(ap.status, 413);
	assert_int_equal(ap.req.body_len, API_BODY_MAX);
	api_parser_deinit(&ap);
}

static void test_eof(void **state)
{
	static struct api_parser ap;

	api_parser_init(&ap);
	api_parser_eof(&ap); /* nothing begun: nothing wrong */
	assert_int_equal(ap.status, 0);
	api_parser_feed(&ap, "GET / HT", 8);
	assert_true(ap.started);
	api_parser_eof(&ap);
	assert_int_equal(ap.status, 400);
	assert_string_equal(ap.error, "the request was cut short");
	api_parser_deinit(&ap);
	/* A complete request stays complete. */
	parse_ok(&ap, "GET / HTTP/1.1\r\n\r\n", 0);
	api_parser_eof(&ap);
	assert_int_equal(ap.status, 0);
	api_parser_deinit(&ap);
}

static void test_percent_decode(void **state)
{
	char out[16];

	assert_true(api_percent_decode("a%2Fb%2fc", 9, false, out, sizeof(out)));
	assert_string_equal(out, "a/b/c");
	assert_true(api_percent_decode("a+b", 3, false, out, sizeof(out)));
	assert_string_equal(out, "a+b");
	assert_true(api_percent_decode("a+b%2B", 6, true, out, sizeof(out)));
	assert_string_equal(out, "a b+");
	assert_true(api_percent_decode("", 0, true, out, sizeof(out)));
	assert_string_equal(out, "");
	assert_false(api_percent_decode("%", 1, false, out, sizeof(out)));
	assert_false(api_percent_decode("%4", 2, false, out, sizeof(out)));
	assert_false(api_percent_decode("%g0", 3, false, out, sizeof(out)));
	assert_false(api_percent_decode("%00", 3, false, out, sizeof(out)));
	assert_false(api_percent_decode("ab\0c", 4, false, out, sizeof(out)));
	/* Room: 15 characters and the NUL fit, 16 do not. */
	assert_true(api_percent_decode("0123456789abcde", 15, false, out, sizeof(out)));
	assert_false(api_percent_decode("0123456789abcdef", 16, false, out, sizeof(out)));
	assert_false(api_percent_decode("a", 1, false, out, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),	 cmocka_unit_test(test_methods_and_targets),
		cmocka_unit_test(test_bodies),	 cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_refusals), cmocka_unit_test(test_chunked_too_large),
		cmocka_unit_test(test_eof),	 cmocka_unit_test(test_percent_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
