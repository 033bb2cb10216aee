/*
 * DNS over TCP (RFC 7766). A client's connection to 100.100.100.53:53 or
 * [200::53]:53 reaches this listener through the reflection in packet.c,
 * so the kernel does TCP and this file only frames messages: each is
 * preceded by its length (2 bytes); several may be in flight, and answers
 * go back in the order they are ready, each with the query's id.
 *
 * The listener is bound to the TUN device and port 0 (the kernel picks L);
 * a connection from any address but the resolver's own (which only the
 * reflection produces) is closed at once. Idle connections are closed
 * after 10 s, at most 64 are open, and one with answers pending stays
 * until they are sent. A connection is freed when its handle has closed
 * and no forwarded query holds it (dns_tcp_get/put).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/mantad.h"
#include "dns/dns.h"

#define TCP_CONNS_MAX 64
#define TCP_IDLE_MS 10000
#define RX_MAX (2 + DNS_TCP_MAX + 4096)

struct tcp_conn {
	uv_tcp_t h;
	struct dns *dns;
	struct tcp_conn *next;
	int refs; /* 1 until the handle has closed, +1 per pending forward */
	bool closing, eof;
	uint64_t last_active; /* uv_now, ms */
	uint8_t *rx;
	size_t rx_len, rx_cap;
};

struct wreq {
	uv_write_t req;
	struct tcp_conn *c;
	uint8_t data[];
};

void dns_tcp_get(struct tcp_conn *c)
{
	c->refs++;
}

static void conn_close(struct tcp_conn *c);

void dns_tcp_put(struct tcp_conn *c)
{
	if (--c->refs == 0) {
		free(c->rx);
		free(c);
		return;
	}
	if (c->eof && c->refs == 1 && !c->closing)
		conn_close(c);
}

static void on_conn_closed(uv_handle_t *h)
{
	dns_tcp_put(h->data);
}

static void conn_close(struct tcp_conn *c)
{
	struct dns *dns = c->dns;

	if (c->closing)
		return;
	c->closing = true;
	for (struct tcp_conn **p = &dns->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			dns->nconns--;
			break;
		}
	}
	uv_close((uv_handle_t *)&c->h, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
	struct wreq *w = container_of(req, struct wreq, req);

	if (status < 0 && status != UV_ECANCELED)
		conn_close(w->c);
	dns_tcp_put(w->c);
	free(w);
}

void dns_tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	struct wreq *w;
	uv_buf_t b;

	if (c->closing || len > DNS_TCP_MAX)
		return;
	w = malloc(sizeof(*w) + 2 + len);
	if (!w) {
		conn_close(c);
		return;
	}
	w->c = c;
	put_be16(w->data, (uint16_t)len);
	memcpy(w->data + 2, msg, len);
	b = uv_buf_init((char *)w->data, (unsigned)(2 + len));
	dns_tcp_get(c);
	if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_written) < 0) {
		dns_tcp_put(c);
		free(w);
		conn_close(c);
		return;
	}
	c->last_active = uv_now(c->h.loop);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;
	size_t want = MIN(c->rx_len + 4096, (size_t)RX_MAX);

	if (c->rx_cap < want) {
		uint8_t *rx = realloc(c->rx, want);

		if (rx) {
			c->rx = rx;
			c->rx_cap = want;
		}
	}
	*buf = uv_buf_init((char *)c->rx + c->rx_len, (unsigned)(c->rx_cap - c->rx_len));
}

/* Answer every complete message in the buffer. */
static void take_messages(struct tcp_conn *c)
{
	struct dns_reply_to to = { .tcp = true, .conn = c };
	size_t off = 0;

	dns_tcp_get(c); /* a handler may close the connection */
	while (!c->closing && c->rx_len - off >= 2) {
		size_t len = get_be16(c->rx + off);

		if (c->rx_len - off - 2 < len)
			break;
		c->dns->counters.tcp_queries++;
		dns_handle_query(c->dns, c->rx + off + 2, len, true, &to);
		off += 2 + len;
	}
	memmove(c->rx, c->rx + off, c->rx_len - off);
	c->rx_len -= off;
	dns_tcp_put(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;

	if (nread < 0) {
		/* The client is done sending; answers still pending go out first. */
		c->eof = nread == UV_EOF;
		uv_read_stop(s);
		if (!c->eof || c->refs == 1)
			conn_close(c);
		return;
	}
	c->rx_len += (size_t)nread;
	c->last_active = uv_now(s->loop);
	take_messages(c);
}

static bool from_resolver(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const uint8_t *a = s6->sin6_addr.s6_addr;

	if (ss->ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return memcmp(a + 12, dns_resolver_v4, 4) == 0;
	return memcmp(a, dns_resolver_v6, 16) == 0;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct dns *dns = container_of((uv_tcp_t *)server, struct dns, listener);
	struct sockaddr_storage peer;
	int len = sizeof(peer);
	struct tcp_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->dns = dns;
	c->refs = 1;
	c->h.data = c;
	uv_tcp_init(server->loop, &c->h);
	c->next = dns->conns;
	dns->conns = c;
	dns->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->h) < 0 ||
	    uv_tcp_getpeername(&c->h, (struct sockaddr *)&peer, &len) < 0 ||
	    !from_resolver(&peer) || dns->nconns > TCP_CONNS_MAX) {
		dns->counters.dropped++;
		conn_close(c);
		return;
	}
	dns->counters.tcp_connections++;
	c->last_active = uv_now(server->loop);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) < 0)
		conn_close(c);
}

int dns_tcp_open(struct dns *dns)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 }, got;
	const char *ifname = dns->d->ifname;
	int len = sizeof(got), r;
	uv_os_fd_t fd;

	if (dns->listener_open)
		return 0;
	r = uv_tcp_init_ex(&dns->d->loop, &dns->listener, AF_INET6);
	if (r < 0)
		return r;
	dns->listener_open = true;
	r = uv_fileno((uv_handle_t *)&dns->listener, &fd);
	if (r == 0)
		r = dns_bind_to_device(fd, ifname);
	if (r == 0)
		r = uv_tcp_bind(&dns->listener, (const struct sockaddr *)&a, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&dns->listener, 128, on_connection);
	if (r == 0)
		r = uv_tcp_getsockname(&dns->listener, (struct sockaddr *)&got, &len);
	if (r < 0) {
		dns_tcp_close(dns);
		return r;
	}
	dns->listen_port = ntohs(got.sin6_port);
	return 0;
}

void dns_tcp_close(struct dns *dns)
{
	while (dns->conns)
		conn_close(dns->conns);
	if (dns->listener_open) {
		uv_close((uv_handle_t *)&dns->listener, NULL);
		dns->listener_open = false;
	}
	dns->listen_port = 0;
}

void dns_tcp_sweep(struct dns *dns)
{
	uint64_t now = uv_now(&dns->d->loop);
	struct tcp_conn *c = dns->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->refs == 1 && now - c->last_active > TCP_IDLE_MS)
			conn_close(c);
	}
}
