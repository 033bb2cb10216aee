/*
 * Path MTU, the daemon's portable half: ICMP "too big" errors into the TUN,
 * validating the ICMP errors the socket reports, and the status fields.
 */
#include "daemon/pmtu.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/mantad.h"

/* A token bucket per source address, in a small table that a new source
 * simply takes over (a hash collision only makes the limit a little looser
 * or tighter for a moment). Nothing is allocated. */
static bool ptb_allowed(struct pathmtu *pm, const uint8_t *ip, uint64_t now)
{
	uint8_t family = ip[0] >> 4;
	const uint8_t *src = family == 4 ? ip + 12 : ip + 8;
	size_t alen = family == 4 ? 4 : 16;
	uint32_t h = 2166136261u; /* FNV-1a */
	struct ptb_source *s;
	uint64_t refills;

	for (size_t i = 0; i < alen; i++)
		h = (h ^ src[i]) * 16777619u;
	s = &pm->sources[h % PTB_SOURCES];
	if (s->family != family || memcmp(s->addr, src, alen) != 0) {
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, src, alen);
		s->family = family;
		s->tokens = PTB_BURST;
		s->refilled = now;
	}
	refills = (now - s->refilled) / (PTB_REFILL_MS * 1000000ULL);
	if (refills) {
		s->tokens = (uint8_t)MIN((uint64_t)PTB_BURST, s->tokens + refills);
		s->refilled += refills * PTB_REFILL_MS * 1000000ULL;
	}
	if (!s->tokens)
		return false;
	s->tokens--;
	return true;
}

void pathmtu_too_big(struct mantad *d, const uint8_t *ip, size_t len, unsigned mtu)
{
	struct pathmtu *pm = &d->pmtu;
	enum icmp_verdict why;
	struct peer *p;
	size_t n;

	if (icmp_may_answer(ip, len) != ICMP_OK) {
		pm->counters.ptb_not_allowed++;
		return;
	}
	if (!ptb_allowed(pm, ip, d->dev.now)) {
		pm->counters.ptb_rate_limited++;
		return;
	}
	n = icmp_build_too_big(pm->icmp, ip, len, mtu, &why);
	if (!n || d->dp.tun_fd < 0 || write(d->dp.tun_fd, pm->icmp, n) < 0) {
		d->dp.counters.tun_tx_errors++;
		return;
	}
	pm->counters.ptb_sent++;
	p = device_peer_for_destination(&d->dev, ip, len);
	if (p)
		p->pmtu.ptb_sent++;
}

/* Does the quoted datagram look like one we sent this peer? A transport
 * message (all that can be too big) names one of the peer's receiver
 * indices. An error that quotes too little to tell is believed: it can
 * only lower the path to the minimum, and the next probe round repairs. */
static bool quote_matches(const struct peer *p, const uint8_t *q, size_t qlen)
{
	const struct keypair *k[] = { p->previous, p->current, p->next };
	uint32_t receiver;

	if (qlen < DATA_OFF_RECEIVER + 4)
		return true;
	if (get_le32(q) != MESSAGE_DATA)
		return false;
	receiver = get_le32(q + DATA_OFF_RECEIVER);
	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (k[i] && k[i]->kp.remote_index == receiver)
			return true;
	return false;
}

void pathmtu_icmp_error(struct mantad *d, const struct sockaddr_in6 *to, const uint8_t *quoted,
			size_t qlen, unsigned mtu)
{
	struct pathmtu *pm = &d->pmtu;
	struct peer *p;
	bool valid = false;

	for (p = d->dev.peers.head; p && !valid; p = p->list_next)
		valid = p->has_endpoint && p->endpoint.sin6_port == to->sin6_port &&
			!memcmp(&p->endpoint.sin6_addr, &to->sin6_addr, 16) &&
			quote_matches(p, quoted, qlen);
	if (!valid || !mtu) {
		pm->counters.icmp_unmatched++;
		return;
	}
	pm->counters.icmp_too_big++;
	/* The kernel keeps path MTUs per destination address: so do we, for
	 * every peer behind it. */
	for (p = d->dev.peers.head; p; p = p->list_next)
		if (p->has_endpoint && !memcmp(&p->endpoint.sin6_addr, &to->sin6_addr, 16))
			pmtu_event_icmp(p, mtu);
}

#define SET_INT(o, k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))

void pathmtu_peer_status(const struct peer *p, json_t *o)
{
	const struct pmtu *pm = &p->pmtu;

	if (!o)
		return;
	json_object_set_new(o, "path_mtu", pm->path_mtu ? json_integer(pm->path_mtu) : json_null());
	json_object_set_new(o, "max_inner",
			    pm->path_mtu ? json_integer(pm->max_inner) : json_null());
	json_object_set_new(o, "probe_state", json_string(pmtu_state_name(pm->state)));
	json_object_set_new(o, "outer_fragments", json_boolean(pm->outer_fragments));
	SET_INT(o, "ptb_sent", pm->ptb_sent);
	SET_INT(o, "ptb_received", pm->ptb_received);
	SET_INT(o, "probes_sent", pm->probes_sent);
	SET_INT(o, "probes_acked", pm->probes_acked);
	SET_INT(o, "tx_too_big", pm->tx_too_big);
	SET_INT(o, "tx_fragmented", pm->tx_fragmented);
	SET_INT(o, "mss_clamped", pm->mss_clamped);
}

void pathmtu_counters_status(const struct mantad *d, json_t *o)
{
	const struct pathmtu_counters *c = &d->pmtu.counters;

	if (!o)
		return;
	SET_INT(o, "ptb_sent", c->ptb_sent);
	SET_INT(o, "ptb_rate_limited", c->ptb_rate_limited);
	SET_INT(o, "ptb_not_allowed", c->ptb_not_allowed);
	SET_INT(o, "icmp_errors", c->icmp_errors);
	SET_INT(o, "icmp_too_big", c->icmp_too_big);
	SET_INT(o, "icmp_unmatched", c->icmp_unmatched);
	SET_INT(o, "tx_fragment_runs", c->tx_fragment_runs);
}
