/*
 * The REST API's request reader (api_request.h): http-parser's callbacks
 * copy what the routes need (method, path, query, three headers, the body)
 * into the request and enforce the limits as the bytes arrive, so a client
 * that sends too much is refused before it has sent it all. A callback that
 * refuses returns -1, which stops http-parser with an error; the status and
 * message set just before say why. A complete request pauses the parser,
 * so a pipelined one behind it is left unread until the caller asks.
 */
#include "daemon/api_request.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

static struct api_parser *of(http_parser *p)
{
	return container_of(p, struct api_parser, p);
}

/* Every callback's way to say no. */
static int refuse(struct api_parser *ap, int status, const char *why)
{
	if (!ap->status) {
		ap->status = status;
		ap->error = why;
	}
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool api_percent_decode(const char *s, size_t len, bool plus, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return false;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		} else if (c == '\0') {
			return false;
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = c;
	}
	if (cap == 0)
		return false;
	out[o] = '\0';
	return true;
}

/* --- header fields ---------------------------------------------------------- */

/* Where the value of the field just read goes. */
static int start_value(struct api_parser *ap)
{
	static const struct {
		const char *name;
		int hdr;
	} known[] = {
		{ "authorization", HDR_AUTH },
		{ "content-type", HDR_CTYPE },
		{ "expect", HDR_EXPECT },
		{ "host", HDR_HOST },
	};
	struct api_request *r = &ap->req;

	ap->hdr = HDR_OTHER;
	ap->in_value = true;
	ap->value_len = 0;
	if (++ap->header_count > API_HEADERS_COUNT)
		return refuse(ap, 431, "too many header fields");
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		if (ap->field_len == strlen(known[i].name) &&
		    strncasecmp(ap->field, known[i].name, ap->field_len) == 0) {
			ap->hdr = known[i].hdr;
			break;
		}
	}
	if (ap->hdr == HDR_AUTH && r->has_authorization)
		return refuse(ap, 400, "more than one Authorization header");
	if (ap->hdr == HDR_CTYPE && r->has_content_type)
		return refuse(ap, 400, "more than one Content-Type header");
	if (ap->hdr == HDR_HOST && r->has_host)
		return refuse(ap, 400, "more than one Host header");
	r->has_host |= ap->hdr == HDR_HOST;
	r->has_authorization |= ap->hdr == HDR_AUTH;
	r->has_content_type |= ap->hdr == HDR_CTYPE;
	return 0;
}

/* "application/json; charset=utf-8" -> "application/json". */
static void finish_content_type(struct api_request *r)
{
	char *s = r->content_type;
	size_t len = strcspn(s, ";");

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	s[len] = '\0';
	for (char *q = s; *q; q++)
		*q = (char)tolower((unsigned char)*q);
}

static int end_value(struct api_parser *ap)
{
	struct api_request *r = &ap->req;

	if (!ap->in_value)
		return 0;
	ap->in_value = false;
	ap->field_len = 0;
	ap->field[0] = '\0';
	if (ap->hdr == HDR_CTYPE)
		finish_content_type(r);
	if (ap->hdr != HDR_EXPECT)
		return 0;
	/* The only expectation HTTP/1.1 defines. */
	if (strcasecmp(ap->scratch, "100-continue") != 0)
		return refuse(ap, 417, "the only Expect understood is 100-continue");
	r->expect_continue = true;
	return 0;
}

static int count_header_bytes(struct api_parser *ap, size_t len)
{
	ap->header_bytes += len;
	if (ap->header_bytes > API_HEADERS_MAX)
		return refuse(ap, 431, "header larger than 8 KiB");
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct api_parser *ap = of(p);
	size_t n;

	if (count_header_bytes(ap, len) < 0 || end_value(ap) < 0)
		return -1;
	/* Longer names than any we look for are kept cut short: no match. */
	n = MIN(len, API_FIELD_MAX - ap->field_len);
	memcpy(ap->field + ap->field_len, at, n);
	ap->field_len += n;
	ap->field[ap->field_len] = '\0';
	return 0;
}

/* Append to a fixed buffer of cap bytes (plus its NUL). */
static int append(struct api_parser *ap, char *buf, size_t cap, const char *at, size_t len)
{
	if (ap->value_len + len > cap)
		return refuse(ap, 431, "a header field's value is too long");
	memcpy(buf + ap->value_len, at, len);
	ap->value_len += len;
	buf[ap->value_len] = '\0';
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct api_parser *ap = of(p);
	struct api_request *r = &ap->req;

	if (count_header_bytes(ap, len) < 0)
		return -1;
	if (!ap->in_value && start_value(ap) < 0)
		return -1;
	switch (ap->hdr) {
	case HDR_AUTH:
		return append(ap, r->authorization, API_AUTH_MAX, at, len);
	case HDR_CTYPE:
		return append(ap, r->content_type, API_FIELD_MAX, at, len);
	case HDR_HOST:
		return append(ap, r->host, API_HOST_MAX, at, len);
	case HDR_EXPECT:
		if (ap->value_len + len > API_FIELD_MAX)
			return refuse(ap, 417, "the only Expect understood is 100-continue");
		return append(ap, ap->scratch, API_FIELD_MAX, at, len);
	default:
		return 0;
	}
}

/* --- the request line, the header's end, the body --------------------------- */

static int on_message_begin(http_parser *p)
{
	of(p)->started = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct api_parser *ap = of(p);

	if (len > API_URL_MAX - ap->url_len)
		return refuse(ap, 414, "request target longer than 2048 bytes");
	memcpy(ap->url + ap->url_len, at, len);
	ap->url_len += len;
	ap->url[ap->url_len] = '\0';
	return 0;
}

static int split_target(struct api_parser *ap)
{
	struct api_request *r = &ap->req;
	struct http_parser_url u;
	const char *path = "/";
	size_t path_len = 1;

	http_parser_url_init(&u);
	if (ap->url_len == 0 || http_parser_parse_url(ap->url, ap->url_len, 0, &u) != 0)
		return refuse(ap, 400, "bad request target");
	if (u.field_set & (1 << UF_PATH)) {
		path = ap->url + u.field_data[UF_PATH].off;
		path_len = u.field_data[UF_PATH].len;
	}
	if (path[0] != '/')
		return refuse(ap, 400, "bad request target");
	if (!api_percent_decode(path, path_len, false, r->path, sizeof(r->path)))
		return refuse(ap, 400, "bad escape in the path");
	if (u.field_set & (1 << UF_QUERY)) {
		memcpy(r->query, ap->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
		r->query[u.field_data[UF_QUERY].len] = '\0';
		r->has_query = true;
	} else if (memchr(ap->url, '?', ap->url_len)) {
		r->has_query = true; /* "/peers?": an empty query */
	}
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct api_parser *ap = of(p);
	struct api_request *r = &ap->req;

	if (end_value(ap) < 0)
		return -1;
	ap->headers_done = true;
	r->http_major = p->http_major;
	r->http_minor = p->http_minor;
	r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	r->method_name = http_method_str((enum http_method)p->method);
	switch (p->method) {
	case HTTP_GET:
		r->method = API_GET;
		break;
	case HTTP_HEAD:
		r->method = API_HEAD;
		break;
	case HTTP_POST:
		r->method = API_POST;
		break;
	default:
		r->method = API_OTHER;
		break;
	}
	if (p->http_major != 1)
		return refuse(ap, 505, "only HTTP/1.0 and HTTP/1.1 are spoken here");
	if (split_target(ap) < 0)
		return -1;
	/* Without a length (chunked) content_length is ULLONG_MAX. */
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > API_BODY_MAX)
		return refuse(ap, 413, "body larger than 64 KiB");
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0) {
		r->body = malloc((size_t)p->content_length + 1);
		if (!r->body)
			return refuse(ap, 503, "out of memory");
		ap->body_cap = (size_t)p->content_length;
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct api_parser *ap = of(p);
	struct api_request *r = &ap->req;

	if (len > API_BODY_MAX - r->body_len)
		return refuse(ap, 413, "body larger than 64 KiB");
	if (r->body_len + len > ap->body_cap) {
		size_t cap = MAX(ap->body_cap * 2, r->body_len + len);
		char *b;

		cap = MIN(MAX(cap, (size_t)1024), (size_t)API_BODY_MAX);
		b = realloc(r->body, cap + 1);
		if (!b)
			return refuse(ap, 503, "out of memory");
		r->body = b;
		ap->body_cap = cap;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct api_parser *ap = of(p);
	struct api_request *r = &ap->req;

	if (r->body)
		r->body[r->body_len] = '\0';
	r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	ap->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* --- the parser's life -------------------------------------------------------- */

void api_parser_init(struct api_parser *ap)
{
	memset(ap, 0, sizeof(*ap));
	http_parser_init(&ap->p, HTTP_REQUEST);
}

void api_parser_deinit(struct api_parser *ap)
{
	if (!ap)
		return;
	free(ap->req.body);
	ap->req.body = NULL;
}

void api_parser_next(struct api_parser *ap)
{
	api_parser_deinit(ap);
	api_parser_init(ap);
}

size_t api_parser_feed(struct api_parser *ap, const char *data, size_t len)
{
	size_t n;
	enum http_errno e;

	if (ap->complete || ap->status || len == 0)
		return 0;
	n = http_parser_execute(&ap->p, &settings, data, len);
	if (ap->complete || ap->status)
		return n;
	e = HTTP_PARSER_ERRNO(&ap->p);
	if (e == HPE_HEADER_OVERFLOW) {
		refuse(ap, 431, "header larger than 8 KiB");
	} else if (e != HPE_OK) {
		/* http-parser's own names are short and exact ("invalid HTTP
		 * method", "invalid character in header"). */
		refuse(ap, 400, http_errno_description(e));
	} else if (ap->p.upgrade) {
		refuse(ap, 400, "no protocol upgrades here");
	}
	return n;
}

void api_parser_eof(struct api_parser *ap)
{
	if (ap->started && !ap->complete && !ap->status)
		refuse(ap, 400, "the request was cut short");
}
