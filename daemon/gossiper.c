/*
 * Gossip between members, inside the tunnel: a UDP socket bound to this
 * node's overlay IPv6 address, port GOSSIP_PORT, so everything it sends is
 * an ordinary packet through the TUN, sealed by the WireGuard session.
 *
 * Spreading: whoever makes a change (the owner's new record, a node's new
 * announcement) pushes it at once to every active member of the network;
 * each member that learns something new from a push passes it on to
 * GOSSIP_RELAY_FANOUT random members, which covers what the first push
 * missed without every member sending to every other (N² datagrams). Anti-entropy catches what pushes miss: each
 * second, one random member of each network gets this node's digest; a
 * member whose digest differs answers with all it has and asks for the
 * same (PULL). At rest that is one small datagram a second; for five
 * seconds after any news, five a second.
 *
 * Trust: a datagram's source is a peer's overlay address, which the engine
 * only delivers after checking it belongs to the session's key. Gossip
 * about a network is taken only from that network's active members; the
 * records and announcements in it are verified signatures in any case.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"
#include "daemon/probe_udp.h"
#include "mesh/address.h"

/* Rounds: one a second at rest; five a second for a while after news, so
 * that what a push missed is found quickly when it matters. */
#define GOSSIP_TICK_MS 200
#define GOSSIP_ROUND_NS NSEC_PER_SEC
#define GOSSIP_FAST_NS (5 * NSEC_PER_SEC)
#define ANNOUNCE_CHECK_S 30
/* A member peer without a session tries its next announced endpoint after
 * this long on one. */
#define ENDPOINT_TRY_NS (3 * NSEC_PER_SEC)

static struct mantad *D(struct membership *m)
{
	return m->d;
}

void gossip_send_to(struct membership *m, const uint8_t x25519[32], const uint8_t *buf, size_t len)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(GOSSIP_PORT) };
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);

	if (!m->sock_open || len == 0 || memcmp(x25519, D(m)->id->x_pk, 32) == 0)
		return;
	address_v6_from_key(x25519, to.sin6_addr.s6_addr);
	if (uv_udp_try_send(&m->sock, &b, 1, (const struct sockaddr *)&to) >= 0)
		m->counters.gossip_tx++;
}

static bool is_active_member(struct membership *m, const struct network *n, const uint8_t *x)
{
	return membership_active(m, n) && network_has_member(n, x);
}

static bool spread_target(struct membership *m, const struct member_record *r,
			  const uint8_t *except)
{
	return !(r->flags & MEMBER_FLAG_REVOKED) &&
	       !(except && memcmp(r->x25519_pk, except, 32) == 0) &&
	       memcmp(r->x25519_pk, D(m)->id->x_pk, 32) != 0;
}

/* Send buf to every active member of n but `except`, or, with a fanout, to
 * that many of them chosen at random (reservoir sampling). */
static void spread(struct membership *m, const struct network *n, const uint8_t *buf, size_t len,
		   const uint8_t *except, unsigned fanout)
{
	const uint8_t *pick[GOSSIP_RELAY_FANOUT];
	size_t seen = 0;

	if (fanout == GOSSIP_ALL || fanout > ARRAY_SIZE(pick)) {
		for (size_t i = 0; i < n->nmembers; i++)
			if (spread_target(m, &n->members[i], except))
				gossip_send_to(m, n->members[i].x25519_pk, buf, len);
		return;
	}
	for (size_t i = 0; i < n->nmembers; i++) {
		if (!spread_target(m, &n->members[i], except))
			continue;
		if (seen < fanout) {
			pick[seen] = n->members[i].x25519_pk;
		} else {
			uint32_t j = randombytes_uniform((uint32_t)(seen + 1));

			if (j < fanout)
				pick[j] = n->members[i].x25519_pk;
		}
		seen++;
	}
	for (size_t i = 0; i < MIN(seen, (size_t)fanout); i++)
		gossip_send_to(m, pick[i], buf, len);
}

void gossip_flood_records(struct membership *m, const struct network *n,
			  const struct member_record *r, size_t count, const uint8_t *except,
			  unsigned fanout)
{
	size_t first = 0, len;

	while (first < count) {
		len = gossip_build_records(n->pk, r, count, &first, m->tx, sizeof(m->tx));
		if (!len)
			return;
		spread(m, n, m->tx, len, except, fanout);
	}
}

void gossip_flood_announces(struct membership *m, const struct network *n, const struct announce *a,
			    size_t count, const uint8_t *except, unsigned fanout)
{
	size_t first = 0, len;

	while (first < count) {
		len = gossip_build_announces(n->pk, a, count, &first, m->tx, sizeof(m->tx));
		if (!len)
			return;
		spread(m, n, m->tx, len, except, fanout);
	}
}

void gossip_send_all(struct membership *m, const struct network *n, const uint8_t x25519[32])
{
	size_t first = 0, len;

	while (first < n->nmembers) {
		len = gossip_build_records(n->pk, n->members, n->nmembers, &first, m->tx,
					   sizeof(m->tx));
		if (!len)
			break;
		gossip_send_to(m, x25519, m->tx, len);
	}
	first = 0;
	while (first < n->nannounces) {
		len = gossip_build_announces(n->pk, n->announces, n->nannounces, &first, m->tx,
					     sizeof(m->tx));
		if (!len)
			break;
		gossip_send_to(m, x25519, m->tx, len);
	}
	dns_gossip_send_all(D(m)->dns, n, x25519); /* service names (dns/gossip.c) */
}

void membership_announce(struct membership *m)
{
	struct mantad *d = D(m);
	struct announce a = { 0 };

	a.nendpoints =
		endpoints_local(d->ifname, d->cfg.listen_port, a.endpoints, ANNOUNCE_MAX_ENDPOINTS);
	if (m->self.seq && a.nendpoints == m->self.nendpoints &&
	    memcmp(a.endpoints, m->self.endpoints, a.nendpoints * sizeof(a.endpoints[0])) == 0)
		a = m->self;
	else {
		memcpy(a.ed25519_pk, d->id->ed_pk, 32);
		a.seq = (uint64_t)time(NULL) * 1000000u;
		if (a.seq <= m->self.seq)
			a.seq = m->self.seq + 1;
		announce_sign(&a, d->id->ed_sk);
		m->self = a;
		log_info("gossip", "announcing %zu endpoints", a.nendpoints);
	}
	for (size_t i = 0; i < m->nnets; i++) {
		struct network *n = m->nets[i];

		if (!membership_active(m, n) || network_merge_announce(n, &m->self) != 1)
			continue;
		membership_save_soon(m, n);
		gossip_flood_announces(m, n, &m->self, 1, NULL, GOSSIP_ALL);
	}
}

/* Records from a member: merge, keep the news, pass it on. */
static void take_records(struct membership *m, struct network *n, const uint8_t *from)
{
	struct gossip_msg *g = m->msg;
	struct member_record *fresh = g->records; /* the news, compacted in place */
	size_t nfresh = 0;

	for (size_t i = 0; i < g->nrecords; i++) {
		int r = network_merge_record(n, &g->records[i]);

		if (r == 1)
			fresh[nfresh++] = g->records[i];
		else if (r < 0)
			m->counters.gossip_items_rejected++;
	}
	if (!nfresh) {
		join_check(m, n); /* a joiner's list was complete already */
		return;
	}
	gossip_hurry(m);
	for (size_t i = 0; i < nfresh; i++)
		log_info("gossip", "%s: member `%s' %s (version %llu)", n->label, fresh[i].hostname,
			 fresh[i].flags & MEMBER_FLAG_REVOKED ? "revoked" : "known",
			 (unsigned long long)fresh[i].version);
	membership_save_soon(m, n);
	if (membership_active(m, n))
		gossip_flood_records(m, n, fresh, nfresh, from, GOSSIP_RELAY_FANOUT);
	else
		log_warn("network", "%s: this node's membership was revoked", n->label);
	membership_sync_peers(m);
	join_check(m, n);
	rename_check(m, n); /* last: a finished leave frees n */
}

static void take_announces(struct membership *m, struct network *n, const uint8_t *from)
{
	struct gossip_msg *g = m->msg;
	struct announce *fresh = g->announces; /* the news, compacted in place */
	size_t nfresh = 0;

	for (size_t i = 0; i < g->nannounces; i++) {
		int r = network_merge_announce(n, &g->announces[i]);

		if (r == 1)
			fresh[nfresh++] = g->announces[i];
		else if (r < 0)
			m->counters.gossip_items_rejected++;
	}
	if (!nfresh)
		return;
	gossip_hurry(m);
	membership_save_soon(m, n);
	gossip_flood_announces(m, n, fresh, nfresh, from, GOSSIP_RELAY_FANOUT);
	membership_sync_peers(m);
}

static void take_digests(struct membership *m, const uint8_t *from)
{
	struct gossip_msg *g = m->msg;
	uint8_t mine[NETWORK_DIGEST_LEN];
	size_t len;

	for (size_t i = 0; i < g->ndigests; i++) {
		struct network *n = membership_find_key(m, g->digests[i].network_pk);

		if (!n || !is_active_member(m, n, from))
			continue;
		network_digest(n, mine);
		dns_gossip_digest(D(m)->dns, n, mine);
		if (memcmp(mine, g->digests[i].digest, sizeof(mine)) == 0)
			continue;
		gossip_send_all(m, n, from);
		len = gossip_build_pull(n->pk, m->tx, sizeof(m->tx));
		gossip_send_to(m, from, m->tx, len);
	}
}

/* The owner renames a member that asks, or revokes one that left. */
static void take_owner_request(struct membership *m, struct network *n, const uint8_t *from)
{
	const struct member_record *cur = network_member(n, from);
	struct member_record rec;
	char err[256];
	int r;

	if (!n->owner || !cur)
		return;
	if (m->msg->type == GOSSIP_LEAVE)
		r = network_revoke(n, from, (uint64_t)time(NULL), &rec);
	else
		r = network_admit(n, from, cur->ed25519_pk, m->msg->hostname, cur->v4_index,
				  (uint64_t)time(NULL), &rec, err, sizeof(err));
	if (r < 0) {
		log_info("gossip", "%s: request from `%s' refused: %s", n->label, cur->hostname,
			 r == -EEXIST ? err : strerror(-r));
		return;
	}
	log_info("gossip", "%s: member `%s' %s", n->label, cur->hostname,
		 m->msg->type == GOSSIP_LEAVE ? "left" : "renamed");
	membership_save(m, n);
	gossip_flood_records(m, n, &rec, 1, NULL, GOSSIP_ALL);
	membership_sync_peers(m);
}

static void take(struct membership *m, const uint8_t *from)
{
	struct gossip_msg *g = m->msg;
	struct network *n = NULL;
	size_t len;

	if (g->type == GOSSIP_DIGEST) {
		take_digests(m, from);
		return;
	}
	if (g->type == GOSSIP_PING || g->type == GOSSIP_PONG || g->type == GOSSIP_PROBE ||
	    g->type == GOSSIP_PROBE_ACK) {
		if (!membership_record_for(m, from) && !find_static_peer(D(m), from)) {
			m->counters.gossip_rx_not_member++;
			return;
		}
		if (g->type == GOSSIP_PROBE || g->type == GOSSIP_PROBE_ACK) {
			probe_udp_take(m, from, g);
			return;
		}
		if (g->type == GOSSIP_PONG) {
			ping_pong(m, from, g->ping_id);
			return;
		}
		len = gossip_build_ping(GOSSIP_PONG, g->ping_id, m->tx, sizeof(m->tx));
		gossip_send_to(m, from, m->tx, len);
		return;
	}
	n = membership_find_key(m, g->network_pk);
	/* Records may revoke this node; take them from members even then. */
	if (!n || !network_has_member(n, from) ||
	    (!membership_active(m, n) && g->type != GOSSIP_RECORDS)) {
		m->counters.gossip_rx_not_member++;
		return;
	}
	m->counters.gossip_items_rejected += g->rejected;
	switch (g->type) {
	case GOSSIP_RECORDS:
		take_records(m, n, from);
		break;
	case GOSSIP_ANNOUNCE:
		take_announces(m, n, from);
		break;
	case GOSSIP_PULL:
		gossip_send_all(m, n, from);
		break;
	case GOSSIP_SERVICES:
		dns_gossip_take(D(m)->dns, n, g, from);
		break;
	case GOSSIP_HOSTNAME:
	case GOSSIP_LEAVE:
		take_owner_request(m, n, from);
		break;
	default:
		break;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char rx[2048];

	*buf = uv_buf_init(rx, sizeof(rx));
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
		    unsigned flags)
{
	struct membership *m = container_of(h, struct membership, sock);
	const struct sockaddr_in6 *src = (const struct sockaddr_in6 *)addr;
	const struct peer *p;
	char err[256];

	if (nread <= 0 || !addr || addr->sa_family != AF_INET6 || flags & UV_UDP_PARTIAL)
		return;
	m->counters.gossip_rx++;
	p = peer_table_by_v6(&D(m)->dev.peers, src->sin6_addr.s6_addr);
	if (!p || ntohs(src->sin6_port) != GOSSIP_PORT) {
		m->counters.gossip_rx_not_member++;
		return;
	}
	if (gossip_parse((const uint8_t *)buf->base, (size_t)nread, m->msg, err, sizeof(err)) < 0) {
		m->counters.gossip_rx_invalid++;
		log_debug("gossip", "%s: %s", p->name, err);
		return;
	}
	take(m, p->public_key);
}

/* Members without a session move on to their next announced endpoint. */
static void rotate_endpoints(struct membership *m)
{
	struct mantad *d = D(m);
	uint64_t now = uv_hrtime();

	for (struct peer *p = d->dev.peers.head; p; p = p->list_next) {
		const struct announce *a = NULL;

		if (p->current || find_static_peer(d, p->public_key))
			continue;
		if (now - p->endpoint_tried_at < ENDPOINT_TRY_NS || p->last_sent_handshake == 0)
			continue;
		for (size_t i = 0; i < m->nnets && !a; i++)
			if (membership_active(m, m->nets[i]))
				a = network_announce(m->nets[i], p->public_key);
		if (!a || a->nendpoints < 2)
			continue;
		p->endpoint_candidate = (p->endpoint_candidate + 1) % (unsigned)a->nendpoints;
		p->endpoint_tried_at = now;
		device_peer_set_endpoint(&d->dev, p, &a->endpoints[p->endpoint_candidate]);
		d->dev.now = now;
		device_peer_initiate(&d->dev, p);
	}
}

void gossip_round(struct membership *m)
{
	struct gossip_digest dg;
	size_t len;

	for (size_t i = 0; i < m->nnets; i++) {
		const struct network *n = m->nets[i];

		if (!membership_active(m, n))
			continue;
		memcpy(dg.network_pk, n->pk, NETWORK_KEY_LEN);
		network_digest(n, dg.digest);
		dns_gossip_digest(D(m)->dns, n, dg.digest);
		len = gossip_build_digest(&dg, 1, m->tx, sizeof(m->tx));
		spread(m, n, m->tx, len, NULL, 1);
	}
	rotate_endpoints(m);
}

void gossip_hurry(struct membership *m)
{
	m->fast_until = uv_hrtime() + GOSSIP_FAST_NS;
}

static void on_timer(uv_timer_t *t)
{
	struct membership *m = container_of(t, struct membership, timer);
	uint64_t now = (uint64_t)time(NULL), mono = uv_hrtime();

	membership_flush(m);
	if (now >= m->next_announce_check) {
		m->next_announce_check = now + ANNOUNCE_CHECK_S;
		membership_announce(m);
	}
	if (mono < m->next_round && mono >= m->fast_until)
		return;
	m->next_round = mono + GOSSIP_ROUND_NS;
	gossip_round(m);
}

int gossip_start(struct membership *m)
{
	struct mantad *d = D(m);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(GOSSIP_PORT) };
	int r;

	memcpy(a.sin6_addr.s6_addr, d->id->v6, 16);
	r = uv_udp_init(&d->loop, &m->sock);
	if (r < 0)
		return r;
	m->sock_open = true;
	r = uv_udp_bind(&m->sock, (const struct sockaddr *)&a, UV_UDP_IPV6ONLY);
	if (r < 0) {
		log_err("gossip", "cannot bind the gossip socket to port %u on %s: %s", GOSSIP_PORT,
			d->ifname, uv_strerror(r));
		return r;
	}
	r = uv_udp_recv_start(&m->sock, on_alloc, on_recv);
	if (r < 0)
		return r;
	uv_timer_init(&d->loop, &m->timer);
	m->timer_open = true;
	m->next_announce_check = (uint64_t)time(NULL) + ANNOUNCE_CHECK_S;
	return uv_timer_start(&m->timer, on_timer, GOSSIP_TICK_MS, GOSSIP_TICK_MS);
}

void gossip_stop(struct membership *m)
{
	if (m->sock_open && !uv_is_closing((uv_handle_t *)&m->sock))
		uv_close((uv_handle_t *)&m->sock, NULL);
	if (m->timer_open && !uv_is_closing((uv_handle_t *)&m->timer))
		uv_close((uv_handle_t *)&m->timer, NULL);
	m->sock_open = false;
	m->timer_open = false;
}
