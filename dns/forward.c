/*
 * c-ares on libuv (see forward.h). Each socket c-ares opens gets a
 * uv_poll_t, freed in its close callback; c-ares's sockets never outlive
 * the channel, and the handles are closed with it.
 */
#include "dns/forward.h"

#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct fwd_sock {
	uv_poll_t poll;
	ares_socket_t fd;
	struct dns_forward *f;
	struct fwd_sock *next;
};

struct fwd_query {
	struct dns_forward *f;
	dns_forward_cb cb;
	void *arg;
};

static ares_channel channel_of(struct dns_forward *f)
{
	return (ares_channel)f->channel;
}

static int errno_from_ares(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return -ECANCELED;
	case ARES_ENOMEM:
		return -ENOMEM;
	default:
		return -ECONNREFUSED;
	}
}

static void arm_timer(struct dns_forward *f);

static void on_sock_closed(uv_handle_t *h)
{
	free(container_of((uv_poll_t *)h, struct fwd_sock, poll));
}

static void on_sock_event(uv_poll_t *h, int status, int events)
{
	struct fwd_sock *s = container_of(h, struct fwd_sock, poll);
	struct dns_forward *f = s->f;
	ares_socket_t fd = s->fd;

	/* An error is c-ares's to find: let it read (and fail) the socket. */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	ares_process_fd(channel_of(f), events & UV_READABLE ? fd : ARES_SOCKET_BAD,
			events & UV_WRITABLE ? fd : ARES_SOCKET_BAD);
	arm_timer(f);
}

static void sock_forget(struct dns_forward *f, ares_socket_t fd)
{
	for (struct fwd_sock **p = &f->socks; *p; p = &(*p)->next) {
		struct fwd_sock *s = *p;

		if (s->fd != fd)
			continue;
		*p = s->next;
		uv_poll_stop(&s->poll);
		uv_close((uv_handle_t *)&s->poll, on_sock_closed);
		return;
	}
}

/* c-ares: watch fd for these events, or (both 0) forget it. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_forward *f = data;
	struct fwd_sock *s;
	int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

	if (!events) {
		sock_forget(f, fd);
		return;
	}
	for (s = f->socks; s && s->fd != fd; s = s->next)
		;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || uv_poll_init_socket(f->loop, &s->poll, fd) < 0) {
			log_warn("dns", "cannot watch an upstream socket");
			free(s);
			return;
		}
		s->fd = fd;
		s->f = f;
		s->next = f->socks;
		f->socks = s;
	}
	uv_poll_start(&s->poll, events, on_sock_event);
}

static void on_timer(uv_timer_t *t)
{
	struct dns_forward *f = container_of(t, struct dns_forward, timer);

	ares_process_fd(channel_of(f), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(f);
}

/* Wake up when c-ares's next timeout is due, while anything is pending. */
static void arm_timer(struct dns_forward *f)
{
	struct timeval tv, *next;
	uint64_t ms;

	if (!f->timer_open || !f->channel)
		return;
	if (!f->pending) {
		uv_timer_stop(&f->timer);
		return;
	}
	next = ares_timeout(channel_of(f), NULL, &tv);
	ms = next ? (uint64_t)next->tv_sec * 1000 + (uint64_t)(next->tv_usec + 999) / 1000 : 100;
	uv_timer_start(&f->timer, on_timer, ms, 0);
}

int dns_forward_init(struct dns_forward *f, uv_loop_t *loop)
{
	struct ares_options o = {
		.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES,
		.timeout = DNS_FORWARD_TIMEOUT_MS,
		.tries = DNS_FORWARD_TRIES,
		.sock_state_cb = on_sock_state,
		.sock_state_cb_data = f,
	};
	ares_channel ch;
	int r;

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS)
		return -ENOMEM;
	r = ares_init_options(&ch, &o,
			      ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
				      ARES_OPT_SOCK_STATE_CB);
	if (r != ARES_SUCCESS) {
		log_err("dns", "c-ares: %s", ares_strerror(r));
		ares_library_cleanup();
		return errno_from_ares(r) ? errno_from_ares(r) : -EIO;
	}
	f->channel = ch;
	uv_timer_init(loop, &f->timer);
	f->timer_open = true;
	return 0;
}

int dns_forward_set_upstreams(struct dns_forward *f, const struct sockaddr_storage *ups, size_t n)
{
	struct ares_addr_port_node nodes[DNS_UPSTREAMS_MAX];
	int r;

	n = MIN(n, (size_t)DNS_UPSTREAMS_MAX);
	memset(nodes, 0, sizeof(nodes));
	for (size_t i = 0; i < n; i++) {
		struct ares_addr_port_node *a = &nodes[i];

		a->next = i + 1 < n ? &nodes[i + 1] : NULL;
		a->family = ups[i].ss_family;
		if (a->family == AF_INET) {
			const struct sockaddr_in *s = (const struct sockaddr_in *)&ups[i];

			memcpy(&a->addr.addr4, &s->sin_addr, 4);
			a->udp_port = a->tcp_port = ntohs(s->sin_port) ? ntohs(s->sin_port) : 53;
		} else {
			const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&ups[i];

			memcpy(&a->addr.addr6, &s->sin6_addr, 16);
			a->udp_port = a->tcp_port = ntohs(s->sin6_port) ? ntohs(s->sin6_port) : 53;
		}
		f->upstreams[i] = ups[i];
	}
	f->nupstreams = n;
	r = ares_set_servers_ports(channel_of(f), n ? nodes : NULL);
	return r == ARES_SUCCESS ? 0 : errno_from_ares(r);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct fwd_query *q = arg;
	struct dns_forward *f = q->f;
	int err = errno_from_ares(status);

	f->pending--;
	if (err == 0 && (!abuf || alen <= 0))
		err = -ECONNREFUSED;
	q->cb(q->arg, err, err ? NULL : abuf, err ? 0 : (size_t)alen);
	free(q);
}

int dns_forward_send(struct dns_forward *f, const uint8_t *query, size_t len, dns_forward_cb cb,
		     void *arg)
{
	struct fwd_query *q;

	if (!f->channel)
		return -ECANCELED;
	if (f->nupstreams == 0)
		return -ENOENT;
	if (f->pending >= DNS_FORWARD_PENDING_MAX)
		return -EBUSY;
	if (len > 65535)
		return -EMSGSIZE;
	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct fwd_query){ f, cb, arg };
	f->pending++;
	/* c-ares may fail at once (out of memory): on_answer still runs. */
	ares_send(channel_of(f), query, (int)len, on_answer, q);
	arm_timer(f);
	return 0;
}

void dns_forward_close(struct dns_forward *f)
{
	if (f->channel) {
		ares_channel ch = channel_of(f);

		f->channel = NULL;
		ares_destroy(ch); /* callbacks run with ARES_EDESTRUCTION */
		ares_library_cleanup();
	}
	while (f->socks)
		sock_forget(f, f->socks->fd);
	if (f->timer_open) {
		uv_close((uv_handle_t *)&f->timer, NULL);
		f->timer_open = false;
	}
}
