/*
 * HTTP/1.x requests for the REST API, read with http-parser. The parser
 * takes bytes as they arrive, in pieces of any size, and stops after each
 * complete request (the rest stays with the caller for the next one:
 * pipelining) or at the first thing it refuses, which it names with the
 * HTTP status to answer and a message:
 *
 *   400  not HTTP (http-parser's own description says how), a bad escape
 *        in the path, a second Authorization, Content-Type or Host header, a
 *        request cut short, an Upgrade or CONNECT
 *   413  a body over API_BODY_MAX (said as soon as Content-Length is read)
 *   414  a request target over API_URL_MAX
 *   417  an Expect other than 100-continue
 *   431  header lines over API_HEADERS_MAX in all, over API_HEADERS_COUNT
 *        fields, an Authorization over API_AUTH_MAX or a Host over
 *        API_HOST_MAX
 *   505  an HTTP major version other than 1
 *
 * Nothing here allocates per byte: the body grows to its final size once
 * (Content-Length) or by doubling (chunked), and never past API_BODY_MAX.
 */
#ifndef MANTA_DAEMON_API_REQUEST_H
#define MANTA_DAEMON_API_REQUEST_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define API_URL_MAX 2048
#define API_HEADERS_MAX 8192
#define API_HEADERS_COUNT 64
#define API_BODY_MAX 65536
#define API_AUTH_MAX 512
#define API_FIELD_MAX 64
#define API_HOST_MAX 255

enum api_method { API_GET, API_HEAD, API_POST, API_OTHER };

struct api_request {
	enum api_method method;
	const char *method_name; /* "GET", "PUT", … (static) */
	char path[API_URL_MAX + 1]; /* percent-decoded, without the query */
	char query[API_URL_MAX + 1]; /* as sent, without the `?' */
	bool has_query;
	char authorization[API_AUTH_MAX + 1]; /* the header's value, as sent */
	bool has_authorization;
	char content_type[API_FIELD_MAX + 1]; /* lower case, parameters cut */
	bool has_content_type;
	char host[API_HOST_MAX + 1]; /* the Host header, as sent */
	bool has_host;
	bool expect_continue; /* Expect: 100-continue */
	bool keep_alive; /* the connection may carry another request */
	unsigned short http_major, http_minor;
	char *body; /* heap, body_len bytes plus a NUL; NULL when empty */
	size_t body_len;
};

/* One connection's parser and the request it is reading; owned by the
 * connection. */
struct api_parser {
	http_parser p;
	struct api_request req;
	char url[API_URL_MAX + 1];
	size_t url_len;
	char field[API_FIELD_MAX + 1]; /* the header name being read */
	size_t field_len;
	char scratch[API_FIELD_MAX + 1]; /* the Expect value */
	enum { HDR_NONE, HDR_AUTH, HDR_CTYPE, HDR_EXPECT, HDR_HOST, HDR_OTHER } hdr;
	size_t value_len; /* of the header value being read */
	bool in_value;
	size_t header_bytes, header_count;
	size_t body_cap;
	bool started; /* a byte of this request has been read */
	bool headers_done; /* its header has been read */
	bool complete;
	int status; /* 0, or the HTTP status that refuses it */
	const char *error; /* with status: why (static text) */
};

void api_parser_init(struct api_parser *ap);
/* Frees the body. */
void api_parser_deinit(struct api_parser *ap);
/* Ready for the next request on the same connection. */
void api_parser_next(struct api_parser *ap);
/* Reads up to len bytes and returns how many it used: all of them, or
 * fewer once ap->complete (the rest belongs to the next request) or
 * ap->status is set (the connection must then be closed after the answer). */
size_t api_parser_feed(struct api_parser *ap, const char *data, size_t len);
/* The peer closed its side. A request cut short becomes a 400. */
void api_parser_eof(struct api_parser *ap);

/* Percent-decode s (len bytes) into out (cap bytes, NUL-terminated), `+'
 * as a space when plus is set. False for a bad or NUL escape, or no room. */
bool api_percent_decode(const char *s, size_t len, bool plus, char *out, size_t cap);

#endif
