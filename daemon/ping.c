/*
 * `manta ping HOST[.NET]`: echo probes over the mesh, on the gossip port,
 * one a second, each waiting up to a second for its answer. The path is
 * direct: manta has no relays yet.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mantad.h"
#include "daemon/membership.h"
#include "mesh/address.h"

#define PING_INTERVAL_MS 1000

struct ping_probe {
	struct ping_probe *next;
	struct membership *m;
	struct command_call *call;
	uint8_t x25519[32];
	char host[HOSTNAME_MAX + 1];
	uv_timer_t timer;
	unsigned count, sent;
	uint64_t id, sent_at;
	bool answered;
	json_t *replies;
};

static void on_closed(uv_handle_t *h)
{
	struct ping_probe *p = container_of((uv_timer_t *)h, struct ping_probe, timer);

	json_decref(p->replies);
	free(p);
}

static void probe_end(struct ping_probe *p, bool stopping)
{
	struct ping_probe **pp;
	char v6[INET6_ADDRSTRLEN];
	uint8_t a[16];

	for (pp = &p->m->pings; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	address_v6_from_key(p->x25519, a);
	inet_ntop(AF_INET6, a, v6, sizeof(v6));
	if (stopping)
		command_fail(p->call, "mantad is stopping");
	else
		command_reply(p->call, json_pack("{s:s,s:s,s:O,s:b}", "host", p->host, "ipv6", v6,
						 "replies", p->replies, "direct", true));
	uv_close((uv_handle_t *)&p->timer, on_closed);
}

static void send_probe(struct ping_probe *p)
{
	size_t len;

	p->id = randombytes_random() | (uint64_t)randombytes_random() << 32;
	p->sent_at = uv_hrtime();
	p->answered = false;
	p->sent++;
	len = gossip_build_ping(GOSSIP_PING, p->id, p->m->tx, sizeof(p->m->tx));
	gossip_send_to(p->m, p->x25519, p->m->tx, len);
}

static void on_timer(uv_timer_t *t)
{
	struct ping_probe *p = container_of(t, struct ping_probe, timer);

	if (!p->answered) {
		json_array_append_new(p->replies, json_null());
		command_progress(p->call, "no answer from %s within 1 s", p->host);
	}
	if (p->sent >= p->count) {
		probe_end(p, false);
		return;
	}
	send_probe(p);
}

void ping_pong(struct membership *m, const uint8_t x25519[32], uint64_t id)
{
	for (struct ping_probe *p = m->pings; p; p = p->next) {
		double ms;

		if (p->answered || p->id != id || memcmp(p->x25519, x25519, 32) != 0)
			continue;
		p->answered = true;
		ms = (double)(uv_hrtime() - p->sent_at) / 1e6;
		json_array_append_new(p->replies, json_real(ms));
		char v6[INET6_ADDRSTRLEN];
		uint8_t a[16];

		address_v6_from_key(p->x25519, a);
		inet_ntop(AF_INET6, a, v6, sizeof(v6));
		command_progress(p->call, "pong from %s (%s): %.3f ms, direct", p->host, v6, ms);
		if (p->sent >= p->count) {
			uv_timer_stop(&p->timer);
			probe_end(p, false);
		}
		return;
	}
}

/* HOST or HOST.NET (a trailing .pi allowed) to a member's key. */
static const struct member_record *find_host(struct membership *m, const char *query)
{
	char host[256], *dot;
	const char *net = NULL;

	snprintf(host, sizeof(host), "%s", query);
	dot = strchr(host, '.');
	if (dot) {
		size_t l;

		*dot = '\0';
		net = dot + 1;
		l = strlen(net);
		if (l >= 3 && strcmp(net + l - 3, ".pi") == 0)
			dot[1 + l - 3] = '\0';
	}
	for (size_t i = 0; i < m->nnets; i++) {
		const struct member_record *r;

		if ((net && strcmp(net, m->nets[i]->label) != 0) ||
		    !membership_active(m, m->nets[i]))
			continue;
		r = network_member_by_host(m->nets[i], host);
		if (r)
			return r;
	}
	return NULL;
}

void command_ping(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *host = json_string_value(json_object_get(args, "host"));
	json_t *c = json_object_get(args, "count");
	const struct member_record *r = find_host(&d->mem, host);
	struct ping_probe *p;

	if (!r) {
		command_fail(call, "no member `%s' in the networks this node is in", host);
		return;
	}
	if (memcmp(r->x25519_pk, d->id->x_pk, 32) == 0) {
		command_fail(call, "`%s' is this node", host);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->replies = json_array())) {
		free(p);
		command_fail(call, "out of memory");
		return;
	}
	p->m = &d->mem;
	p->call = call;
	memcpy(p->x25519, r->x25519_pk, 32);
	snprintf(p->host, sizeof(p->host), "%s", r->hostname);
	p->count = c ? (unsigned)json_integer_value(c) : 3;
	uv_timer_init(&d->loop, &p->timer);
	p->next = d->mem.pings;
	d->mem.pings = p;
	send_probe(p);
	uv_timer_start(&p->timer, on_timer, PING_INTERVAL_MS, PING_INTERVAL_MS);
}

void ping_stop(struct membership *m)
{
	while (m->pings)
		probe_end(m->pings, true);
}
