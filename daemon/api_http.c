/*
 * The REST API's server (api_http.h): listeners, connections, timeouts.
 *
 * A connection is in one of four states:
 *
 *   READING   bytes go to the parser; the timer is the idle timeout until
 *             a request begins, then the request timeout (set once, so a
 *             client that sends a byte at a time gains nothing)
 *   HANDLING  a whole request is with the routes, perhaps waiting for a
 *             command that answers later; reading goes on (to notice the
 *             client leaving, and to keep pipelined bytes) while there is
 *             room in the input buffer; no timer
 *   WRITING   the answer is on its way; the write timeout runs
 *   LINGERING the answer was the last: our side is shut down, the client's
 *             bytes are read and dropped until it closes or the linger
 *             timeout
 *
 * After a kept-alive answer the connection is READING again and the parser
 * goes on with whatever the client already sent. Any read or write error
 * closes at once; a pending command is then detached (its answer dropped).
 */
#include "daemon/api_http.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/api_token.h"
#include "daemon/mantad.h"

#define READ_MAX 16384 /* input buffer per connection */
#define HEADER_MAX 512 /* our answer's status line and header */

enum conn_state { ST_READING, ST_HANDLING, ST_WRITING, ST_LINGERING };

/* Owned by api->conns until both its handles have closed. */
struct api_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write, cont_write;
	uv_shutdown_t shutdown;
	struct api_http *api;
	struct api_conn *prev, *next;
	struct api_parser parser;
	struct api_exchange x;
	struct command_call *pending;
	enum conn_state state;
	char in[READ_MAX];
	size_t in_len;
	char *out; /* the answer being written */
	int handles; /* open handles, freed at 0 */
	bool reading, eof, closing, keep_alive, request_timer, continue_sent;
};

static void process(struct api_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* --- connections ---------------------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
	struct api_conn *c = h->data;

	if (--c->handles > 0)
		return;
	api_parser_deinit(&c->parser);
	free(c);
}

static void conn_close(struct api_conn *c)
{
	struct api_http *api = c->api;

	if (c->closing)
		return;
	c->closing = true;
	command_call_detach(c->pending);
	c->pending = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		api->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	api->nconns--;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_timer(uv_timer_t *t)
{
	struct api_conn *c = t->data;
	struct api_reply reply;

	/* A request begun and not finished in time gets a 408; everything
	 * else (idle, a reader that does not read, lingering) just ends. */
	if (c->state == ST_READING && c->parser.started) {
		log_debug("api", "a client did not send its request in time");
		c->parser.status = 408;
		c->parser.error = "the request did not arrive in time";
		api_reply_error(&reply, 408, c->parser.error);
		c->x.done(&c->x, &reply);
		return;
	}
	conn_close(c);
}

static void timer_set(struct api_conn *c, uint64_t ms)
{
	uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* Reading on while there is room for it. */
static void flow(struct api_conn *c)
{
	bool want = !c->closing && !c->eof && c->in_len < READ_MAX;

	if (want && !c->reading)
		c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
	else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", remade once a second. */
static const char *http_date(void)
{
	static char text[64];
	static time_t made;
	time_t now = time(NULL);
	struct tm tm;

	if (now != made && gmtime_r(&now, &tm)) {
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		made = now;
	}
	return text;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct api_conn *c = req->data;

	if (c->closing)
		return;
	if (status < 0 || c->eof) {
		conn_close(c);
		return;
	}
	c->state = ST_LINGERING;
	c->in_len = 0;
	timer_set(c, API_LINGER_MS);
	flow(c);
}

static void on_written(uv_write_t *req, int status)
{
	struct api_conn *c = req->data;

	free(c->out);
	c->out = NULL;
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (!c->keep_alive) {
		uv_timer_stop(&c->timer);
		c->shutdown.data = c;
		if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
			conn_close(c);
		return;
	}
	api_parser_next(&c->parser);
	c->state = ST_READING;
	c->request_timer = false;
	c->continue_sent = false;
	timer_set(c, API_IDLE_MS);
	process(c);
}

/* The exchange's answer: status line, header and body in one write. */
static void respond(struct api_exchange *x, struct api_reply *reply)
{
	struct api_conn *c = container_of(x, struct api_conn, x);
	const struct api_request *req = &c->parser.req;
	bool head = c->parser.complete && req->method == API_HEAD;
	size_t body = head ? 0 : reply->len;
	uv_buf_t b;
	int n;

	c->pending = NULL;
	if (c->closing) {
		free(reply->body);
		return;
	}
	/* A client that closed its side after sending may have pipelined more
	 * requests before it did: READING answers them, then ends. */
	c->keep_alive = !c->parser.status && c->parser.complete && req->keep_alive;
	c->out = malloc(HEADER_MAX + body);
	if (!c->out) {
		free(reply->body);
		conn_close(c);
		return;
	}
	n = snprintf(c->out, HEADER_MAX,
		     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n%s%s%s%s%s\r\n",
		     reply->status, api_status_text(reply->status), http_date(),
		     reply->content_type ? reply->content_type : "application/json", reply->len,
		     c->keep_alive ? (req->http_minor == 0 ? "Connection: keep-alive\r\n" : "") :
				     "Connection: close\r\n",
		     reply->allow ? "Allow: " : "", reply->allow ? reply->allow : "",
		     reply->allow ? "\r\n" : "",
		     reply->challenge ? "WWW-Authenticate: Bearer realm=\"manta\"\r\n" : "");
	if (n < 0 || n >= HEADER_MAX) {
		free(reply->body);
		conn_close(c);
		return;
	}
	if (body)
		memcpy(c->out + n, reply->body, body);
	free(reply->body);
	c->state = ST_WRITING;
	timer_set(c, API_WRITE_MS);
	c->write.data = c;
	b = uv_buf_init(c->out, (unsigned)((size_t)n + body));
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
		free(c->out);
		c->out = NULL;
		conn_close(c);
	}
}

static void handle(struct api_conn *c)
{
	struct command_call *call;

	c->state = ST_HANDLING;
	uv_timer_stop(&c->timer);
	call = api_route_request(&c->x, &c->parser.req);
	if (c->state == ST_HANDLING && !c->closing)
		c->pending = call;
	else
		command_call_detach(call); /* (never: an answered call is NULL) */
}

static void refuse(struct api_conn *c)
{
	struct api_reply reply;

	log_debug("api", "refused a request: %d %s", c->parser.status, c->parser.error);
	api_reply_error(&reply, c->parser.status, c->parser.error);
	c->state = ST_HANDLING;
	respond(&c->x, &reply);
}

static void send_continue(struct api_conn *c)
{
	static char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	uv_buf_t b = uv_buf_init(line, sizeof(line) - 1);

	c->continue_sent = true;
	c->cont_write.data = c;
	if (uv_write(&c->cont_write, (uv_stream_t *)&c->tcp, &b, 1, NULL) != 0)
		conn_close(c);
}

/* Parse what has arrived; answer, or wait for more. */
static void process(struct api_conn *c)
{
	struct api_parser *p = &c->parser;
	size_t used;

	if (c->closing || c->state != ST_READING)
		return;
	used = api_parser_feed(p, c->in, c->in_len);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	if (!p->status && !p->complete && c->eof)
		api_parser_eof(p);
	if (p->status) {
		refuse(c);
		return;
	}
	if (p->complete) {
		handle(c);
		flow(c);
		return;
	}
	if (c->eof) {
		conn_close(c); /* between requests: the client is done */
		return;
	}
	if (p->started && !c->request_timer) {
		c->request_timer = true;
		timer_set(c, API_REQUEST_MS);
	}
	if (p->headers_done && p->req.expect_continue && !c->continue_sent)
		send_continue(c);
	flow(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct api_conn *c = h->data;

	if (c->state == ST_LINGERING)
		c->in_len = 0; /* dropped unread */
	*buf = uv_buf_init(c->in + c->in_len, (unsigned)(READ_MAX - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct api_conn *c = s->data;

	if (nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		flow(c); /* the input buffer is full: wait for the request before */
		return;
	}
	if (nread == UV_EOF) {
		c->eof = true;
		flow(c);
		if (c->state == ST_LINGERING) {
			conn_close(c);
			return;
		}
		/* While an answer is on its way, it may still be read: the
		 * connection ends after it (keep_alive is false from now). */
		process(c);
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (c->state == ST_LINGERING)
		return;
	c->in_len += (size_t)nread;
	if (c->state == ST_READING)
		process(c);
	else
		flow(c);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* The connection that has waited longest for a request that has not begun
 * (the list is newest first), or NULL. */
static struct api_conn *oldest_idle(struct api_http *api)
{
	struct api_conn *idle = NULL;

	for (struct api_conn *c = api->conns; c; c = c->next)
		if (c->state == ST_READING && !c->parser.started && c->in_len == 0)
			idle = c;
	return idle;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct api_http *api = server->data;
	struct api_conn *c, *idle;

	if (status < 0)
		return;
	/* Full: an idle connection makes room (so idle ones cannot lock the
	 * API out), or the new one is closed at once. */
	if (api->nconns >= API_CONNECTIONS_MAX && (idle = oldest_idle(api)))
		conn_close(idle);
	c = api->nconns < API_CONNECTIONS_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		/* Accepted and closed at once: the backlog must not fill. */
		uv_tcp_t *t = malloc(sizeof(*t));

		log_debug("api", "%zu connections: one more refused", api->nconns);
		if (!t)
			return;
		uv_tcp_init(server->loop, t);
		uv_accept(server, (uv_stream_t *)t);
		uv_close((uv_handle_t *)t, free_handle);
		return;
	}
	c->api = api;
	c->x.r = &api->router;
	c->x.done = respond;
	api_parser_init(&c->parser);
	uv_tcp_init(server->loop, &c->tcp);
	uv_timer_init(server->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = api->conns;
	if (api->conns)
		api->conns->prev = c;
	api->conns = c;
	api->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	timer_set(c, API_IDLE_MS);
	flow(c);
}

/* --- listeners ---------------------------------------------------------------------- */

static int listen_on(struct api_http *api, const char *addr, uint16_t port)
{
	uv_tcp_t *t = &api->listeners[api->nlisteners];
	struct sockaddr_storage ss;
	bool v6 = strchr(addr, ':') != NULL;
	int r;

	r = v6 ? uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) :
		 uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss);
	if (r < 0)
		return r;
	uv_tcp_init(&api->d->loop, t);
	t->data = api;
	api->nlisteners++;
	r = uv_tcp_bind(t, (const struct sockaddr *)&ss, v6 ? UV_TCP_IPV6ONLY : 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)t, 64, on_connection);
	return r;
}

static bool is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

int api_http_start(struct api_http *api, struct mantad *d)
{
	const struct config_api *cfg = &d->cfg.api;
	char err[1024];
	int r;

	memset(api, 0, sizeof(*api));
	api->d = d;
	if (!cfg->enabled) {
		log_info("api", "the REST API is off ([api] enabled = false)");
		return 0;
	}
	r = api_token_load(d->cfg.state_dir, api->token, err, sizeof(err));
	if (r < 0) {
		log_err("api", "%s", err);
		return r;
	}
	api->router = (struct api_router){
		.d = d,
		.token = api->token,
		.allow_mutating = cfg->allow_mutating,
		.find = commands_find,
		.list = commands_list,
	};
	api->open = true;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		r = listen_on(api, cfg->listen[i], cfg->port);
		if (r < 0) {
			log_err("api", "%s port %u: cannot listen: %s", cfg->listen[i], cfg->port,
				uv_strerror(r));
			return r;
		}
		if (!is_loopback(cfg->listen[i]))
			log_warn("api",
				 "%s port %u: the REST API is plain HTTP: off this host, the "
				 "token travels in the clear unless the path is the mesh",
				 cfg->listen[i], cfg->port);
	}
	log_info("api", "REST API on port %u (%zu addresses)%s", cfg->port, cfg->nlisten,
		 cfg->allow_mutating ? ", state-changing commands allowed" : "");
	return 0;
}

void api_http_close(struct api_http *api)
{
	while (api->conns)
		conn_close(api->conns);
	if (api->open) {
		for (size_t i = 0; i < api->nlisteners; i++)
			uv_close((uv_handle_t *)&api->listeners[i], NULL);
		api->nlisteners = 0;
		api->open = false;
	}
	sodium_memzero(api->token, sizeof(api->token));
}
