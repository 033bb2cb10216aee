/*
 * Inbound reachability probes, both sides (probe_udp.h).
 *
 * Requester: command_probe_udp picks the address (this node's announced
 * IPv6 endpoints, global ones first, or --address) and the helper (--via,
 * or a peer with a session that can send over IPv6, preferably from
 * another /64), opens the raw socket, and sends PROBE with a fresh nonce.
 * Timers, per probe:
 *   retry     PROBE_RETRY_MS after the first request, if nothing arrived
 *             and the helper refused nothing: a second request, new nonce;
 *   deadline  PROBE_TIMEOUT_MS after the first: "not reachable".
 * The answer comes when a datagram with one of the nonces arrives (rtt from
 * that attempt's request), when the helper refuses every attempt, or at
 * the deadline.
 *
 * Helper: a PROBE is rate limited per requester (probe_limiter), its
 * target must be an address the requester gave this node (its announced
 * endpoints, its session's endpoint: probe_target_ok), and then one
 * datagram goes out of an ordinary UDP socket on the underlay. The PROBE_ACK
 * says what happened, so the requester can tell a refusal from a filter.
 */
#include "daemon/probe_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"
#include "daemon/probe_raw.h"
#include "mesh/address.h"
#include "mesh/probe.h"

#define KNOWN_MAX 64

struct probe_wait {
	struct probe_wait *next;
	struct probe_udp *st;
	struct command_call *call;
	uint8_t helper[32];
	char via[HOSTNAME_MAX + 1 + NETWORK_LABEL_MAX + 1];
	uint8_t address[16];
	uint16_t port;
	uint8_t nonce[PROBE_ATTEMPTS][PROBE_NONCE_LEN];
	uint64_t sent_at[PROBE_ATTEMPTS]; /* monotonic ns */
	unsigned attempts, refused;
	enum probe_status refusal;
	bool acked; /* the helper said it sent one */
	int fd;
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned open_handles;
};

struct probe_udp {
	struct membership *m;
	struct probe_wait *waits;
	size_t nwaits;
	struct probe_limiter limiter;
};

static struct probe_udp *state(struct membership *m)
{
	if (!m->probe) {
		m->probe = calloc(1, sizeof(*m->probe));
		if (m->probe)
			m->probe->m = m;
	}
	return m->probe;
}

static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a, prefix, 12) == 0;
}

static bool is_global(const uint8_t a[16])
{
	return (a[0] & 0xe0) == 0x20; /* 2000::/3 */
}

/* A peer's name in answers and logs: its member hostname, else its
 * overlay address (static peers have no name). */
static void peer_label(struct mantad *d, const struct peer *p, char *out, size_t cap)
{
	const struct member_record *r = membership_record_for(&d->mem, p->public_key);

	snprintf(out, cap, "%s", r ? r->hostname : p->name);
}

/* --- the helper ----------------------------------------------------------- */

/* Every address the requester gave this node: its announced endpoints in
 * every active network, and the endpoint its session comes from. */
static size_t requester_addresses(struct mantad *d, const uint8_t from[32],
				  struct sockaddr_in6 *out, size_t max)
{
	const struct peer *p = peer_table_by_key(&d->dev.peers, from);
	size_t n = 0;

	if (p && p->has_endpoint && n < max)
		out[n++] = p->endpoint;
	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct announce *a;

		if (!membership_active(&d->mem, d->mem.nets[i]))
			continue;
		a = network_announce(d->mem.nets[i], from);
		for (size_t j = 0; a && j < a->nendpoints && n < max; j++)
			out[n++] = a->endpoints[j];
	}
	return n;
}

static enum probe_status send_datagram(const struct probe_request *r)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(r->port) };
	uint8_t dgram[PROBE_DATAGRAM_LEN];
	size_t len = probe_datagram_build(r->nonce, dgram, sizeof(dgram));
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	ssize_t sent;

	if (fd < 0)
		return PROBE_SEND_FAILED;
	memcpy(to.sin6_addr.s6_addr, r->address, 16);
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	sent = sendto(fd, dgram, len, 0, (const struct sockaddr *)&to, sizeof(to));
	close(fd);
	return sent == (ssize_t)len ? PROBE_SENT : PROBE_SEND_FAILED;
}

static void take_request(struct membership *m, const uint8_t from[32],
			 const struct probe_request *r)
{
	struct mantad *d = m->d;
	struct probe_udp *st = state(m);
	struct sockaddr_in6 known[KNOWN_MAX];
	struct probe_ack ack = { .status = PROBE_SENT };
	const struct peer *p = peer_table_by_key(&d->dev.peers, from);
	char who[64] = "?", addr[INET6_ADDRSTRLEN];
	const char *why = NULL;
	size_t n, len;

	if (!st || !p)
		return;
	peer_label(d, p, who, sizeof(who));
	inet_ntop(AF_INET6, r->address, addr, sizeof(addr));
	memcpy(ack.nonce, r->nonce, PROBE_NONCE_LEN);
	n = requester_addresses(d, from, known, ARRAY_SIZE(known));
	if (!probe_limiter_take(&st->limiter, from, uv_hrtime()))
		ack.status = PROBE_REFUSED_RATE;
	else if (!probe_target_ok(r->address, known, n, &why))
		ack.status = PROBE_REFUSED_TARGET;
	else
		ack.status = send_datagram(r);
	/* Over the limit is a debug line: a peer that keeps asking must not
	 * flood the log either. */
	if (ack.status == PROBE_SENT)
		log_info("probe", "%s: sent a probe datagram to [%s]:%u", who, addr, r->port);
	else if (ack.status == PROBE_REFUSED_RATE)
		log_debug("probe", "%s: probe to [%s]:%u refused: over the rate limit", who, addr,
			  r->port);
	else
		log_info("probe", "%s: probe to [%s]:%u not sent: %s", who, addr, r->port,
			 why ? why : probe_status_str(ack.status));
	len = gossip_build_probe_ack(&ack, m->tx, sizeof(m->tx));
	gossip_send_to(m, from, m->tx, len);
}

/* --- the requester ---------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
	struct probe_wait *w = h->data;

	if (--w->open_handles == 0) {
		probe_raw_close(w->fd);
		free(w);
	}
}

static void unlink_wait(struct probe_wait *w)
{
	for (struct probe_wait **pp = &w->st->waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			w->st->nwaits--;
			return;
		}
	}
}

/* Unlinks w and closes its handles; w is freed when both have closed. */
static void wait_end(struct probe_wait *w)
{
	unlink_wait(w);
	uv_timer_stop(&w->timer);
	uv_poll_stop(&w->poll);
	uv_close((uv_handle_t *)&w->timer, on_handle_closed);
	uv_close((uv_handle_t *)&w->poll, on_handle_closed);
}

static void reply(struct probe_wait *w, const struct sockaddr_in6 *from, double rtt_ms)
{
	char addr[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];
	json_t *res;

	inet_ntop(AF_INET6, w->address, addr, sizeof(addr));
	if (from)
		inet_ntop(AF_INET6, &from->sin6_addr, src, sizeof(src));
	res = json_pack("{s:i,s:s,s:s,s:b,s:b}", "port", (int)w->port, "address", addr, "via",
			w->via, "arrived", from != NULL, "sent", w->acked || from);
	if (res) {
		json_object_set_new(res, "from", from ? json_string(src) : json_null());
		json_object_set_new(res, "from_port",
				    from ? json_integer(ntohs(from->sin6_port)) : json_null());
		/* Microseconds are as fine as the clock of a probe goes. */
		json_object_set_new(
			res, "rtt_ms",
			from ? json_real((double)(int64_t)(rtt_ms * 1000 + 0.5) / 1000) :
			       json_null());
	}
	if (from)
		log_info("probe", "udp/%u on %s: arrived from %s via %s, %.3f ms", w->port, addr,
			 src, w->via, rtt_ms);
	else
		log_info("probe", "udp/%u on %s: nothing arrived via %s (%s)", w->port, addr,
			 w->via, w->acked ? "it sent one" : "it did not answer");
	command_reply(w->call, res);
	wait_end(w);
}

static void send_request(struct probe_wait *w)
{
	struct probe_request r = { .port = w->port };
	struct membership *m = w->st->m;
	unsigned i = w->attempts++;
	size_t len;

	randombytes_buf(w->nonce[i], PROBE_NONCE_LEN);
	memcpy(r.nonce, w->nonce[i], PROBE_NONCE_LEN);
	memcpy(r.address, w->address, 16);
	w->sent_at[i] = uv_hrtime();
	len = gossip_build_probe(&r, m->tx, sizeof(m->tx));
	gossip_send_to(m, w->helper, m->tx, len);
}

static void on_timer(uv_timer_t *t)
{
	struct probe_wait *w = t->data;

	if (w->attempts < PROBE_ATTEMPTS) {
		command_progress(w->call, "nothing yet after %u ms; asking %s again",
				 PROBE_RETRY_MS, w->via);
		send_request(w);
		uv_timer_start(&w->timer, on_timer, PROBE_TIMEOUT_MS - PROBE_RETRY_MS, 0);
		return;
	}
	reply(w, NULL, 0);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct probe_wait *w = h->data;
	struct sockaddr_in6 from;
	uint8_t payload[64], dst[16], nonce[PROBE_NONCE_LEN];
	ssize_t n;

	while ((n = probe_raw_recv(w->fd, w->port, payload, sizeof(payload), &from, dst)) >= 0) {
		if (!probe_datagram_match(payload, (size_t)n, nonce))
			continue;
		for (unsigned i = 0; i < w->attempts; i++) {
			if (sodium_memcmp(nonce, w->nonce[i], PROBE_NONCE_LEN) != 0)
				continue;
			reply(w, &from, (double)(uv_hrtime() - w->sent_at[i]) / 1e6);
			return;
		}
	}
	if (n != -EAGAIN) {
		log_warn("probe", "udp/%u: reading the raw socket: %s", w->port, strerror((int)-n));
		uv_poll_stop(&w->poll);
	}
}

static void take_ack(struct membership *m, const uint8_t from[32], const struct probe_ack *a)
{
	struct probe_wait *w;

	for (w = m->probe ? m->probe->waits : NULL; w; w = w->next) {
		if (memcmp(w->helper, from, 32) != 0)
			continue;
		for (unsigned i = 0; i < w->attempts; i++) {
			if (sodium_memcmp(a->nonce, w->nonce[i], PROBE_NONCE_LEN) != 0)
				continue;
			if (a->status == PROBE_SENT) {
				w->acked = true;
				return;
			}
			w->refusal = a->status;
			/* Refused every request so far, and none was sent: no
			 * point waiting for the deadline. */
			if (++w->refused == w->attempts && !w->acked) {
				command_fail(w->call, "%s refused the probe: %s", w->via,
					     probe_status_str(a->status));
				wait_end(w);
			}
			return;
		}
	}
}

void probe_udp_take(struct membership *m, const uint8_t from[32], const struct gossip_msg *g)
{
	if (g->type == GOSSIP_PROBE)
		take_request(m, from, &g->probe);
	else if (g->type == GOSSIP_PROBE_ACK)
		take_ack(m, from, &g->probe_ack);
}

/* --- choosing the address and the helper ------------------------------------ */

/* This node's first announced IPv6 endpoint that a helper could reach,
 * global ones before ULAs. */
static bool default_address(struct mantad *d, uint8_t out[16])
{
	struct sockaddr_in6 eps[ANNOUNCE_MAX_ENDPOINTS];
	size_t n = endpoints_local(d->ifname, 0, eps, ARRAY_SIZE(eps));
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *a = eps[i].sin6_addr.s6_addr;

		if (is_v4_mapped(a) || !probe_address_routable(a))
			continue;
		if (best < 0 || (is_global(a) && !is_global(eps[best].sin6_addr.s6_addr)))
			best = (int)i;
	}
	if (best >= 0)
		memcpy(out, eps[best].sin6_addr.s6_addr, 16);
	return best >= 0;
}

/* How well p fits as the helper for target: 0 = not at all (no session,
 * no IPv6 endpoint), 1 = on the target's /64, 2 = elsewhere. */
static int helper_score(struct mantad *d, const struct peer *p, const uint8_t target[16])
{
	struct sockaddr_in6 eps[KNOWN_MAX];
	size_t n = requester_addresses(d, p->public_key, eps, ARRAY_SIZE(eps));
	bool v6 = false, same64 = false;

	if (!p->current)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *a = eps[i].sin6_addr.s6_addr;

		if (is_v4_mapped(a) || !probe_address_routable(a))
			continue;
		v6 = true;
		same64 |= memcmp(a, target, 8) == 0;
	}
	return !v6 ? 0 : same64 ? 1 : 2;
}

static struct peer *pick_helper(struct mantad *d, const uint8_t target[16])
{
	struct peer *best = NULL;
	int best_score = 0;

	for (struct peer *p = d->dev.peers.head; p; p = p->list_next) {
		int s = helper_score(d, p, target);

		if (s > best_score) {
			best = p;
			best_score = s;
		}
	}
	return best;
}

/* --via: a member's HOST or HOST.NETWORK, a peer's overlay IPv6 address, or
 * its public key (base64). */
static struct peer *find_via(struct mantad *d, const char *via)
{
	char host[HOSTNAME_MAX + 1 + NETWORK_LABEL_MAX + 1], *dot;
	uint8_t a[16], key[32];
	size_t keylen;

	if (inet_pton(AF_INET6, via, a) == 1)
		return peer_table_by_v6(&d->dev.peers, a);
	if (strlen(via) == 44 &&
	    sodium_base642bin(key, sizeof(key), via, 44, NULL, &keylen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    keylen == 32)
		return peer_table_by_key(&d->dev.peers, key);
	snprintf(host, sizeof(host), "%s", via);
	dot = strchr(host, '.');
	if (dot)
		*dot = '\0';
	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *n = d->mem.nets[i];
		const struct member_record *r;

		if ((dot && strcmp(dot + 1, n->label) != 0) || !membership_active(&d->mem, n))
			continue;
		r = network_member_by_host(n, host);
		if (r)
			return peer_table_by_key(&d->dev.peers, r->x25519_pk);
	}
	return NULL;
}

/* The helper for this call, or NULL after failing it. */
static struct peer *choose_helper(struct mantad *d, struct command_call *call, const char *via,
				  const uint8_t target[16])
{
	struct peer *p;

	if (!via) {
		p = pick_helper(d, target);
		if (!p)
			command_fail(call, "no peer can help: none has a session and an IPv6 "
					   "endpoint (name one with --via)");
		return p;
	}
	p = find_via(d, via);
	if (!p)
		command_fail(call, "no peer `%s' (a member's name, a peer's mesh address or key)",
			     via);
	else if (!p->current)
		command_fail(call, "`%s' has no session with this node right now", via);
	else
		return p;
	return NULL;
}

static bool parse_address(struct mantad *d, struct command_call *call, const char *text,
			  uint8_t out[16])
{
	if (!text) {
		if (default_address(d, out))
			return true;
		command_fail(call, "this node has no IPv6 endpoint address outside the mesh to "
				   "probe; name one with --address");
		return false;
	}
	if (inet_pton(AF_INET6, text, out) != 1) {
		command_fail(call, "address `%s' is not an IPv6 address", text);
		return false;
	}
	if (!probe_address_routable(out)) {
		command_fail(call,
			     "address `%s' cannot be probed: not a unicast IPv6 address "
			     "outside the mesh",
			     text);
		return false;
	}
	return true;
}

static void wait_start(struct mantad *d, struct command_call *call, struct probe_udp *st,
		       struct probe_wait *w)
{
	uv_timer_init(&d->loop, &w->timer);
	uv_poll_init(&d->loop, &w->poll, w->fd);
	w->timer.data = w->poll.data = w;
	w->open_handles = 2;
	w->st = st;
	w->call = call;
	w->next = st->waits;
	st->waits = w;
	st->nwaits++;
	uv_poll_start(&w->poll, UV_READABLE, on_readable);
	send_request(w);
	uv_timer_start(&w->timer, on_timer, PROBE_RETRY_MS, 0);
}

static void command_probe_udp(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *via = json_string_value(json_object_get(args, "via"));
	const char *address = json_string_value(json_object_get(args, "address"));
	struct probe_udp *st = state(&d->mem);
	struct probe_wait *w;
	struct peer *p;
	char err[256];

	if (!st || !(w = calloc(1, sizeof(*w)))) {
		command_fail(call, "out of memory");
		return;
	}
	w->port = (uint16_t)json_integer_value(json_object_get(args, "port"));
	if (st->nwaits >= PROBE_MAX_WAITING) {
		command_fail(call, "%d probes are running already; try again in a few seconds",
			     PROBE_MAX_WAITING);
		goto err;
	}
	if (!parse_address(d, call, address, w->address))
		goto err;
	p = choose_helper(d, call, via, w->address);
	if (!p)
		goto err;
	memcpy(w->helper, p->public_key, 32);
	peer_label(d, p, w->via, sizeof(w->via));
	w->fd = probe_raw_open(w->port, err, sizeof(err));
	if (w->fd < 0) {
		command_fail(call, "%s", err);
		goto err;
	}
	wait_start(d, call, st, w);
	return;
err:
	free(w);
}

void probe_udp_stop(struct membership *m)
{
	if (!m->probe)
		return;
	while (m->probe->waits) {
		struct probe_wait *w = m->probe->waits;

		command_fail(w->call, "mantad is stopping");
		wait_end(w);
	}
	free(m->probe);
	m->probe = NULL;
}

static const char probe_udp_schema[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"port\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535,"
	"\"description\":\"the UDP port to test\"},"
	"\"via\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,"
	"\"description\":\"the peer that sends the datagram: a member's name, or a peer's "
	"mesh address or key (default: one with a session and IPv6)\"},"
	"\"address\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":45,"
	"\"description\":\"this node's IPv6 address to probe (default: its first announced "
	"global one)\"}},"
	"\"required\":[\"port\"],\"additionalProperties\":false}";

/* Not mutating: it changes no state on either node (a token of the
 * helper's rate limit aside), and the traffic it causes is one or two
 * datagrams to this node itself. */
const struct command probe_commands[] = {
	{ "probe_udp",
	  "ask a peer to send a UDP datagram to this node's public IPv6 address from outside "
	  "the mesh, and say whether it arrived",
	  probe_udp_schema, false, command_probe_udp },
};

const size_t probe_commands_count = ARRAY_SIZE(probe_commands);
