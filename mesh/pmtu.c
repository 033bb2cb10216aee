/*
 * The path MTU state machine of one peer (RFC 8899 DPLPMTUD, inside the
 * tunnel). Sizes are outer datagrams on the 16-byte grid (see pmtu.h).
 *
 * disabled         no endpoint or no session. When a session is usable the
 *                  round starts at base. A new endpoint address resets
 *                  everything to here, with path_mtu at the new ceiling.
 * base             a minimum-size probe (IPv4 576, IPv6 1280 outer): does the
 *                  peer answer? Acknowledged: searching. Lost PMTU_MAX_PROBES
 *                  times while the peer was otherwise heard from: icmp_only.
 * searching        probe high - 16 first (the ceiling: usually the answer),
 *                  then halve [low, high) on the grid. An acknowledged size
 *                  becomes low (and raises path_mtu); a size lost
 *                  PMTU_MAX_PROBES times while the peer was heard from
 *                  becomes high (and path_mtu drops below it). When high -
 *                  low is one step: search_complete.
 * search_complete  path_mtu = low. The raise timer (pmtu_raise_interval,
 *                  600 s) starts a round from low to the ceiling again; at
 *                  the ceiling already, the round re-confirms path_mtu
 *                  (its first probe) and searches down from the minimum
 *                  if that is refused.
 * icmp_only        the peer does not answer probes (stock WireGuard, or
 *                  filtered): path_mtu is the ceiling, lowered by ICMP
 *                  errors; the raise timer resets it and tries base again.
 *
 * ICMP errors lower path_mtu at once in every state; during a search they
 * also refuse every larger size (a probe in flight above it is lost now)
 * and the reported size is probed next. After a complete search they
 * start a new one topped by the reported size. path_mtu starts high (the
 * ceiling) rather than low, because a too-small value is sticky: the ICMP
 * errors it causes make the kernel shrink its flows for ten minutes.
 *
 * "Heard from" is the peer's rx_bytes rising while a size is being tried:
 * retries also send a minimum-size probe, whose ack proves the peer alive,
 * so a dead peer never makes the path look small.
 *
 * Timers: t_probe (pmtu_probe_timeout, 1 s) and t_raise, deadlines fired
 * from device_tick like the protocol timers in timers.c. Probes and acks
 * touch none of WireGuard's timers: they are neither data nor keepalives
 * to the protocol, so a lost probe never triggers a handshake.
 */
#include "mesh/pmtu.h"

#include <string.h>

#include "common/bytes.h"
#include "common/checksum.h"
#include "common/log.h"
#include "mesh/address.h"
#include "mesh/device.h"
#include "mesh/send.h"

enum { STEP = MESSAGE_PADDING_MULTIPLE };

static const uint8_t probe_magic[4] = { 'M', 'T', 'U', 'P' };

const char *pmtu_state_name(unsigned state)
{
	static const char *const names[] = {
		[PMTU_DISABLED] = "disabled",	[PMTU_BASE] = "base",
		[PMTU_SEARCHING] = "searching", [PMTU_SEARCH_COMPLETE] = "search_complete",
		[PMTU_ICMP_ONLY] = "icmp_only",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

unsigned pmtu_overhead(const struct pmtu *pm)
{
	return pm->v6_outer ? PMTU_OVERHEAD_V6 : PMTU_OVERHEAD_V4;
}

/* The largest grid size not above size. */
static unsigned grid(const struct pmtu *pm, unsigned size)
{
	unsigned ovh = pmtu_overhead(pm);

	return size < ovh + STEP ? ovh : ovh + (size - ovh) / STEP * STEP;
}

static unsigned min_size(const struct pmtu *pm)
{
	return grid(pm, pm->v6_outer ? PMTU_MIN_V6 : PMTU_MIN_V4);
}

static uint64_t probe_timeout(const struct device *dev)
{
	return dev->timers.pmtu_probe_timeout ? dev->timers.pmtu_probe_timeout :
						PMTU_PROBE_TIMEOUT_NS;
}

static uint64_t raise_interval(const struct device *dev)
{
	return dev->timers.pmtu_raise_interval ? dev->timers.pmtu_raise_interval :
						 PMTU_RAISE_INTERVAL_NS;
}

static void set_path(struct peer *p, unsigned size, const char *why)
{
	struct pmtu *pm = &p->pmtu;
	bool was_fragmenting = pm->outer_fragments;

	if (size == pm->path_mtu)
		return;
	log_info("pmtu", "%s: path MTU %u -> %u bytes, inner packets up to %u (%s)", p->name,
		 pm->path_mtu, size, size - pmtu_overhead(pm), why);
	pm->path_mtu = (uint16_t)size;
	pm->max_inner = (uint16_t)(size - pmtu_overhead(pm));
	pm->outer_fragments = pm->max_inner < PMTU_IPV6_MIN_INNER;
	if (pm->outer_fragments && !was_fragmenting)
		log_info("pmtu",
			 "%s: the path is too small for 1280-byte IPv6 packets inside: "
			 "letting the outer packets fragment",
			 p->name);
}

/* The largest size worth probing: a full TUN packet, or less if the local
 * interface toward the endpoint is smaller. */
static unsigned find_ceiling(struct peer *p)
{
	struct device *dev = p->dev;
	struct pmtu *pm = &p->pmtu;
	unsigned top = pmtu_overhead(pm) + MESSAGE_MAX_PLAINTEXT;
	unsigned link = dev->ops->link_mtu ? dev->ops->link_mtu(dev->ops_ctx, &p->endpoint) : 0;

	if (link && link < top)
		top = link;
	top = grid(pm, top);
	return top < min_size(pm) ? min_size(pm) : top;
}

static void restart(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	pm->measured = p->endpoint.sin6_addr;
	pm->have_endpoint = true;
	pm->v6_outer = !IN6_IS_ADDR_V4MAPPED(&pm->measured);
	pm->path_mtu = 0;
	pm->ceiling = (uint16_t)find_ceiling(p);
	pm->state = PMTU_DISABLED;
	pm->probe_size = 0;
	pm->t_probe = pm->t_raise = 0;
	set_path(p, pm->ceiling, "new endpoint");
}

void pmtu_init(struct peer *p)
{
	memset(&p->pmtu, 0, sizeof(p->pmtu));
	p->pmtu.max_inner = PMTU_UNLIMITED;
}

/* An IPv6/UDP packet between the overlay addresses, port PMTU_PROBE_PORT
 * both ways, built at dev->scratch + MESSAGE_DATA_HEADER_LEN. */
static void build(struct peer *p, size_t len, uint8_t type, uint16_t size, uint32_t seq,
		  uint16_t received)
{
	struct device *dev = p->dev;
	uint8_t *ip = dev->scratch + MESSAGE_DATA_HEADER_LEN;
	uint8_t *udp = ip + 40, *m = udp + 8;
	uint16_t ulen = (uint16_t)(len - 40);
	uint16_t sum;

	memset(ip, 0, len);
	ip[0] = 0x60;
	put_be16(ip + 4, ulen);
	ip[6] = 17; /* UDP */
	ip[7] = 64;
	address_v6_from_key(dev->local.public_key, ip + 8);
	memcpy(ip + 24, p->v6, 16);
	put_be16(udp, PMTU_PROBE_PORT);
	put_be16(udp + 2, PMTU_PROBE_PORT);
	put_be16(udp + 4, ulen);
	memcpy(m + PROBE_OFF_MAGIC, probe_magic, sizeof(probe_magic));
	m[PROBE_OFF_VERSION] = 1;
	m[PROBE_OFF_TYPE] = type;
	put_le16(m + PROBE_OFF_SIZE, size);
	put_le32(m + PROBE_OFF_SEQ, seq);
	put_le16(m + PROBE_OFF_RECEIVED, received);
	sum = checksum_finish(
		checksum_add(checksum_ipv6_pseudo(ip + 8, ip + 24, ulen, 17), udp, ulen));
	put_be16(udp + 6, sum ? sum : 0xffff); /* 0 means "no checksum" in UDP */
}

static bool send_one(struct peer *p, unsigned size)
{
	struct pmtu *pm = &p->pmtu;
	size_t inner = size - pmtu_overhead(pm);

	build(p, inner, PMTU_PROBE, (uint16_t)size, pm->probe_seq, 0);
	if (!send_control_packet(p, inner))
		return false;
	pm->probes_sent++;
	return true;
}

/* Send (again) the probe in flight; a retry also sends a minimum-size one
 * whose ack shows the peer is alive. */
static void send_probe(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	pm->t_probe = p->dev->now + probe_timeout(p->dev) + 1;
	if (!send_keypair_usable(p, p->current))
		return; /* no session now: a try only counts once sent */
	pm->probe_seq++;
	if (pm->probe_tries == 0) {
		pm->probe_rx_mark = p->rx_bytes;
		pm->probe_seq_first = pm->probe_seq;
	}
	if (!send_one(p, pm->probe_size))
		return;
	if (pm->probe_tries > 0 && pm->probe_size > min_size(pm))
		(void)send_one(p, min_size(pm));
	pm->probe_tries++;
}

static void probe(struct peer *p, unsigned size)
{
	struct pmtu *pm = &p->pmtu;

	log_debug("pmtu", "%s: probing %u bytes (%s, low %u, high %u)", p->name, size,
		  pmtu_state_name(pm->state), pm->low, pm->high);
	pm->probe_size = (uint16_t)size;
	pm->probe_tries = 0;
	send_probe(p);
}

static void complete(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	pm->state = PMTU_SEARCH_COMPLETE;
	pm->probe_size = 0;
	pm->t_probe = 0;
	pm->t_raise = p->dev->now + raise_interval(p->dev) + 1;
	set_path(p, pm->low, "probes");
	log_debug("pmtu", "%s: search complete at %u bytes", p->name, pm->low);
}

static void next_probe(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;
	unsigned size;

	if (pm->high <= pm->low + STEP) {
		complete(p);
		return;
	}
	if (pm->top_first)
		size = pm->high - STEP;
	else
		size = pm->low + (unsigned)(pm->high - pm->low) / STEP / 2 * STEP;
	pm->top_first = false;
	probe(p, size);
}

static void start_search(struct peer *p, unsigned low, unsigned high)
{
	struct pmtu *pm = &p->pmtu;

	pm->state = PMTU_SEARCHING;
	pm->low = (uint16_t)low;
	pm->high = (uint16_t)high;
	pm->top_first = true;
	pm->t_raise = 0;
	next_probe(p);
}

static void start_base(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	pm->state = PMTU_BASE;
	pm->t_raise = 0;
	probe(p, min_size(pm));
}

static void acked(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;
	unsigned size = pm->probe_size;

	pm->probe_size = 0;
	pm->t_probe = 0;
	pm->probes_acked++;
	if (pm->state == PMTU_BASE) {
		start_search(p, size, pm->ceiling + STEP);
		return;
	}
	pm->low = (uint16_t)size;
	if (size > pm->path_mtu)
		set_path(p, size, "probes");
	next_probe(p);
}

static void refused(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;
	unsigned size = pm->probe_size;

	pm->probe_size = 0;
	pm->t_probe = 0;
	if (pm->state == PMTU_BASE) {
		log_info("pmtu",
			 "%s: does not answer path MTU probes (stock WireGuard?); "
			 "path MTU from ICMP errors only",
			 p->name);
		pm->state = PMTU_ICMP_ONLY;
		pm->t_raise = p->dev->now + raise_interval(p->dev) + 1;
		return;
	}
	pm->high = (uint16_t)size;
	if (pm->path_mtu >= size)
		set_path(p, size - STEP, "probe lost");
	next_probe(p);
}

static void expired_probe(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	if (pm->probe_tries < PMTU_MAX_PROBES) {
		send_probe(p);
		return;
	}
	if (p->rx_bytes == pm->probe_rx_mark) {
		/* Nothing at all came back: the peer is away, not the path
		 * small. Start counting again. */
		pm->probe_tries = 0;
		send_probe(p);
		return;
	}
	refused(p);
}

static void expired_raise(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	pm->ceiling = (uint16_t)find_ceiling(p);
	if (pm->state == PMTU_ICMP_ONLY) {
		/* As RFC 1191 ages a path MTU: try the largest size again. */
		set_path(p, pm->ceiling, "raise timer");
		start_base(p);
		return;
	}
	if (pm->path_mtu > pm->ceiling)
		set_path(p, pm->ceiling, "local interface");
	if (pm->path_mtu < pm->ceiling) {
		start_search(p, pm->path_mtu, pm->ceiling + STEP); /* room to grow */
		return;
	}
	/* Nothing larger to find: confirm the size in use instead (it may
	 * have shrunk with no ICMP error to say so), searching down from the
	 * minimum if it is refused. */
	start_search(p, min_size(pm), pm->ceiling + STEP);
}

static bool due(uint64_t *t, uint64_t now)
{
	if (!*t || *t > now)
		return false;
	*t = 0;
	return true;
}

void pmtu_tick(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;
	uint64_t now = p->dev->now;

	if (!p->has_endpoint)
		return;
	if (!pm->have_endpoint || memcmp(&pm->measured, &p->endpoint.sin6_addr, 16) != 0)
		restart(p);
	if (!p->dev->pmtu_probing)
		return;
	switch (pm->state) {
	case PMTU_DISABLED:
		if (send_keypair_usable(p, p->current))
			start_base(p);
		break;
	case PMTU_BASE:
	case PMTU_SEARCHING:
		if (due(&pm->t_probe, now))
			expired_probe(p);
		break;
	default:
		if (due(&pm->t_raise, now))
			expired_raise(p);
		break;
	}
}

void pmtu_event_icmp(struct peer *p, unsigned mtu)
{
	struct pmtu *pm = &p->pmtu;
	unsigned size;

	if (!pm->have_endpoint)
		return;
	size = grid(pm, mtu);
	if (size < min_size(pm))
		size = min_size(pm);
	if (size >= pm->path_mtu && !(pm->probe_size && size < pm->probe_size))
		return; /* nothing it tells us is new */
	pm->ptb_received++;
	if (size < pm->path_mtu)
		set_path(p, size, "ICMP error");
	if (pm->state == PMTU_SEARCHING) {
		if (size + STEP < pm->high)
			pm->high = (uint16_t)(size + STEP);
		if (pm->low >= pm->high)
			pm->low = (uint16_t)min_size(pm); /* the path changed under us */
		if (pm->probe_size > size) {
			pm->probe_size = 0;
			pm->top_first = true;
			next_probe(p);
		}
	} else if (pm->state == PMTU_SEARCH_COMPLETE && p->dev->pmtu_probing) {
		start_search(p, min_size(pm), size + STEP);
	}
}

void pmtu_event_quiet(struct peer *p)
{
	struct pmtu *pm = &p->pmtu;

	if (pm->state == PMTU_SEARCH_COMPLETE && p->dev->pmtu_probing)
		start_search(p, min_size(pm), pm->path_mtu + STEP);
}

static void answer(struct peer *p, const uint8_t *m, size_t received)
{
	build(p, PROBE_MIN_INNER, PMTU_ACK, get_le16(m + PROBE_OFF_SIZE),
	      get_le32(m + PROBE_OFF_SEQ), (uint16_t)received);
	(void)send_control_packet(p, PROBE_MIN_INNER);
}

static void receive_ack(struct peer *p, const uint8_t *m)
{
	struct pmtu *pm = &p->pmtu;
	unsigned size = get_le16(m + PROBE_OFF_SIZE);
	uint32_t seq = get_le32(m + PROBE_OFF_SEQ);

	/* Any try at this size counts, however late its ack. */
	if (!pm->probe_size || size != pm->probe_size ||
	    seq - pm->probe_seq_first > pm->probe_seq - pm->probe_seq_first ||
	    get_le16(m + PROBE_OFF_RECEIVED) != size - pmtu_overhead(pm))
		return; /* an older try, or the minimum-size companion */
	acked(p);
}

/* An ICMPv6 destination unreachable from the peer's address about one of
 * our probes: its kernel has nothing on the probe port (stock WireGuard).
 * Consumed, so it never reaches our TUN, and taken as the answer. */
static bool receive_unreachable(struct peer *p, const uint8_t *ip, size_t len)
{
	const uint8_t *q = ip + 48; /* the quoted probe */
	struct pmtu *pm = &p->pmtu;

	if (len < 48 + 40 + 8 || q[0] >> 4 != 6 || q[6] != 17 ||
	    get_be16(q + 40) != PMTU_PROBE_PORT || get_be16(q + 42) != PMTU_PROBE_PORT ||
	    memcmp(ip + 8, p->v6, 16) != 0 || memcmp(q + 24, p->v6, 16) != 0)
		return false;
	if (pm->state == PMTU_BASE && pm->probe_size) {
		log_debug("pmtu", "%s: the probe port is unreachable there", p->name);
		refused(p);
	}
	return true;
}

bool pmtu_receive(struct peer *p, const uint8_t *ip, size_t len)
{
	const uint8_t *udp = ip + 40, *m = ip + 48;
	size_t total;

	if (len >= 48 && ip[0] >> 4 == 6 && ip[6] == 58 && ip[40] == 1)
		return receive_unreachable(p, ip, len);
	if (len < PROBE_MIN_INNER || ip[0] >> 4 != 6 || ip[6] != 17 ||
	    get_be16(udp + 2) != PMTU_PROBE_PORT || get_be16(udp) != PMTU_PROBE_PORT)
		return false;
	total = 40 + (size_t)get_be16(ip + 4);
	if (total < PROBE_MIN_INNER || total > len || get_be16(udp + 4) != total - 40 ||
	    memcmp(m, probe_magic, sizeof(probe_magic)) != 0 || m[PROBE_OFF_VERSION] != 1 ||
	    memcmp(ip + 8, p->v6, 16) != 0)
		return false; /* not ours: the usual checks deal with it */
	/* The tunnel authenticated it; the UDP checksum adds nothing. */
	if (m[PROBE_OFF_TYPE] == PMTU_PROBE)
		answer(p, m, total);
	else if (m[PROBE_OFF_TYPE] == PMTU_ACK)
		receive_ack(p, m);
	return true;
}

/* RFC 1624 eqn. 3: the checksum after one 16-bit word went from old to new. */
static uint16_t checksum_update(uint16_t sum, uint16_t old, uint16_t new_word)
{
	uint32_t s = (uint16_t)~sum + (uint32_t)(uint16_t)~old + new_word;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void pmtu_clamp_mss(struct pmtu *pm, uint8_t *ip, size_t len)
{
	uint8_t *tcp = ip + 40, *opt, *end;
	unsigned limit = pm->max_inner - 40 - 20;

	/* IPv6 whose next header is TCP (no extension headers: SYNs carry
	 * none in practice), a SYN with options. */
	if (len < 40 + 24 || ip[0] >> 4 != 6 || ip[6] != 6 || !(tcp[13] & 0x02) ||
	    (size_t)(tcp[12] >> 4) * 4 > len - 40)
		return;
	end = tcp + (tcp[12] >> 4) * 4;
	for (opt = tcp + 20; opt < end && *opt != 0;) {
		if (*opt == 1) { /* no-op */
			opt++;
			continue;
		}
		if (opt + 2 > end || opt[1] < 2 || opt + opt[1] > end)
			return;
		if (opt[0] == 2 && opt[1] == 4) { /* maximum segment size */
			uint16_t mss = get_be16(opt + 2);

			if (mss <= limit)
				return;
			put_be16(tcp + 16,
				 checksum_update(get_be16(tcp + 16), mss, (uint16_t)limit));
			put_be16(opt + 2, (uint16_t)limit);
			pm->mss_clamped++;
			return;
		}
		opt += opt[1];
	}
}
