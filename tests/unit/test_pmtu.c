/* Path MTU in the engine (mesh/pmtu.c, with device_encrypt's verdicts):
 * devices A and B in one process, joined by a simulated network that drops
 * every datagram bigger than its MTU and, when told, reports the drop as
 * an ICMP error would (pmtu_event_icmp on the sender). Time is dev->now.
 *
 *   A [::ffff:10.0.0.1]:51820 <--- net (mtu, icmp, filter) ---> B [::ffff:10.0.0.2]:51820
 *
 * With IPv4 endpoints a datagram carries 28 bytes of IP and UDP, so the
 * outer sizes are 60 + 16k: 572 (the base probe), 1292 (max inner 1232),
 * 1340 (a full 1280-byte inner packet).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sodium.h>

#include "common/bytes.h"
#include "common/checksum.h"
#include "mesh/address.h"
#include "mesh/device.h"
#include "mesh/messages.h"
#include "mesh/pmtu.h"

#define T0 (1000 * NSEC_PER_SEC)
#define MS (NSEC_PER_SEC / 1000)
#define BUF_LEN (MESSAGE_MAX_DATAGRAM + MESSAGE_PADDING_MULTIPLE)

struct node {
	struct device dev;
	struct sockaddr_in6 addr;
	uint8_t v6[16], v4[4];
	unsigned link_mtu; /* what ops->link_mtu answers */
	unsigned delivered; /* packets that reached its TUN */
	size_t last_delivered_len;
	uint8_t last_delivered[BUF_LEN];
};

struct dgram {
	struct node *from;
	struct sockaddr_in6 to;
	size_t len;
	uint8_t data[BUF_LEN];
};

static struct node A, B;
static struct peer *pa, *pb; /* A's entry for B, B's for A */

/* The network. */
enum { QUEUE_MAX = 64 };
static struct dgram queue[QUEUE_MAX];
static size_t qlen;
static unsigned net_mtu; /* largest datagram (IP header included) that passes */
static bool net_icmp; /* report drops to the sender, as a router's ICMP error */
static bool (*net_filter)(const struct dgram *d); /* true: drop */
static unsigned net_dropped;

static unsigned wire_size(const struct sockaddr_in6 *to, size_t len)
{
	return (unsigned)len + (IN6_IS_ADDR_V4MAPPED(&to->sin6_addr) ? 28 : 48);
}

static void on_send(void *ctx, const struct sockaddr_in6 *to, const uint8_t *buf, size_t len)
{
	struct node *from = ctx;
	struct dgram *d;

	assert_true(len <= BUF_LEN);
	assert_true(qlen < QUEUE_MAX);
	d = &queue[qlen++];
	d->from = from;
	d->to = *to;
	d->len = len;
	memcpy(d->data, buf, len);
}

static unsigned on_link_mtu(void *ctx, const struct sockaddr_in6 *to)
{
	return ((struct node *)ctx)->link_mtu;
}

static const struct device_ops ops = { .send = on_send, .link_mtu = on_link_mtu };

static struct node *other(const struct node *n)
{
	return n == &A ? &B : &A;
}

/* Deliver everything in flight (and what that causes), through the net. */
static void pump(void)
{
	static struct dgram d;
	unsigned rounds = 0;

	while (qlen) {
		uint8_t buf[BUF_LEN];
		struct node *to;
		size_t ip_len = 0;

		d = queue[0];
		memmove(queue, queue + 1, (qlen - 1) * sizeof(queue[0]));
		qlen--;
		assert_true(++rounds < 1000);
		to = other(d.from);
		if (wire_size(&d.to, d.len) > net_mtu || (net_filter && net_filter(&d))) {
			net_dropped++;
			if (net_icmp && wire_size(&d.to, d.len) > net_mtu)
				pmtu_event_icmp(d.from == &A ? pa : pb, net_mtu);
			continue;
		}
		memcpy(buf, d.data, d.len);
		if (device_receive(&to->dev, &d.from->addr, buf, d.len, &ip_len) ==
		    DEVICE_RX_DELIVER) {
			to->delivered++;
			to->last_delivered_len = ip_len;
			memcpy(to->last_delivered, buf + MESSAGE_DATA_HEADER_LEN, ip_len);
		}
	}
}

static void set_time(uint64_t t)
{
	A.dev.now = B.dev.now = t;
}

/* Let ms milliseconds pass in ticks of 50 ms, delivering as we go. */
static void run_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms / 50; i++) {
		set_time(A.dev.now + 50 * MS);
		device_tick(&A.dev);
		device_tick(&B.dev);
		pump();
	}
}

static void make_addr(struct sockaddr_in6 *a, const char *ip)
{
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(51820);
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
}

static void node_init(struct node *n, const char *ip)
{
	struct device_timers t;
	uint8_t sk[NOISE_PUBLIC_KEY_LEN];
	const uint8_t *pk;

	memset(n, 0, sizeof(*n));
	randombytes_buf(sk, sizeof(sk));
	device_timers_default(&t);
	t.pmtu_probe_timeout = 200 * MS;
	t.pmtu_raise_interval = 10 * NSEC_PER_SEC;
	device_init(&n->dev, sk, &t, &ops, n);
	n->dev.pmtu_probing = true;
	n->dev.now = T0;
	n->link_mtu = 1500;
	make_addr(&n->addr, ip);
	pk = n->dev.local.public_key;
	address_v6_from_key(pk, n->v6);
	address_v4_from_key_index(pk, address_v4_next_index(pk, 0), n->v4);
}

static struct peer *know(struct node *n, struct node *m)
{
	struct peer *p = NULL;

	assert_int_equal(device_peer_add(&n->dev, m->dev.local.public_key, &p), 0);
	device_peer_set_endpoint(&n->dev, p, &m->addr);
	return p;
}

static int setup(void **state)
{
	qlen = 0;
	net_mtu = 1500;
	net_icmp = false;
	net_filter = NULL;
	net_dropped = 0;
	node_init(&A, "::ffff:10.0.0.1");
	node_init(&B, "::ffff:10.0.0.2");
	pa = know(&A, &B);
	pb = know(&B, &A);
	return 0;
}

static int teardown(void **state)
{
	device_deinit(&A.dev);
	device_deinit(&B.dev);
	qlen = 0;
	return 0;
}

/* A handshake, A initiating, and B's confirmation (A's keepalive). */
static void connect_nodes(void)
{
	device_peer_initiate(&A.dev, pa);
	pump();
	assert_non_null(pa->current);
	assert_non_null(pb->current);
}

static size_t ip4_packet(uint8_t *pkt, const struct node *from, const struct node *to, size_t len,
			 bool df)
{
	memset(pkt, 0, len);
	pkt[0] = 0x45;
	put_be16(pkt + 2, (uint16_t)len);
	put_be16(pkt + 6, df ? 0x4000 : 0);
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, from->v4, 4);
	memcpy(pkt + 16, to->v4, 4);
	return len;
}

static size_t ip6_packet(uint8_t *pkt, const struct node *from, const struct node *to, size_t len)
{
	memset(pkt, 0, len);
	pkt[0] = 0x60;
	put_be16(pkt + 4, (uint16_t)(len - 40));
	pkt[6] = 59;
	pkt[7] = 64;
	memcpy(pkt + 8, from->v6, 16);
	memcpy(pkt + 24, to->v6, 16);
	return len;
}

/* What the daemon does with a packet from the TUN; the datagram is queued
 * on SEND and SEND_FRAG. *out is the datagram length, or the MTU for
 * TOO_BIG. */
static enum device_tx send_ip(struct node *n, const uint8_t *pkt, size_t len, size_t *out)
{
	static uint8_t buf[BUF_LEN];
	const struct sockaddr_in6 *to = NULL;
	size_t out_len = 0;
	enum device_tx r;

	memcpy(buf + MESSAGE_DATA_HEADER_LEN, pkt, len);
	r = device_encrypt(&n->dev, buf, len, &out_len, &to);
	if (r == DEVICE_TX_SEND || r == DEVICE_TX_SEND_FRAG)
		on_send(n, to, buf, out_len);
	if (out)
		*out = out_len;
	return r;
}

static void assert_pmtu(const struct peer *p, unsigned path, unsigned inner, enum pmtu_state st,
			bool frag)
{
	assert_int_equal(p->pmtu.path_mtu, path);
	assert_int_equal(p->pmtu.max_inner, inner);
	assert_int_equal(p->pmtu.state, st);
	assert_int_equal(p->pmtu.outer_fragments, frag);
}

/* 1. Nothing known before an endpoint; the link's ceiling once there is
 * one; no probes without a session. */
static void test_before_session(void **state)
{
	struct peer *p = NULL;
	uint8_t pk[NOISE_PUBLIC_KEY_LEN];

	randombytes_buf(pk, sizeof(pk));
	assert_int_equal(device_peer_add(&A.dev, pk, &p), 0);
	assert_int_equal(p->pmtu.path_mtu, 0);
	assert_int_equal(p->pmtu.max_inner, PMTU_UNLIMITED);
	run_ms(500);
	assert_int_equal(p->pmtu.path_mtu, 0);
	assert_pmtu(pa, 1340, 1280, PMTU_DISABLED, false);
	assert_int_equal(pa->pmtu.probes_sent, 0);
	assert_int_equal(qlen, 0);
}

/* 2. An open path: the base probe and then the ceiling are acknowledged;
 * the probes have the exact sizes on the wire, never reach a TUN and
 * never touch WireGuard's timers. */
static void test_open_path(void **state)
{
	connect_nodes();
	set_time(A.dev.now + 50 * MS);
	device_tick(&A.dev);
	/* The base probe: a 572-byte datagram = 544 bytes of UDP payload. */
	assert_int_equal(qlen, 1);
	assert_int_equal(queue[0].len, 572 - 28);
	assert_int_equal(wire_size(&queue[0].to, queue[0].len), 572);
	assert_int_equal(pa->pmtu.state, PMTU_BASE);
	assert_int_equal(pa->t_new_handshake, 0); /* a probe is not data */
	pump(); /* B acknowledges; A probes the ceiling at once */
	assert_int_equal(pa->pmtu.state, PMTU_SEARCH_COMPLETE);
	assert_int_equal(pa->pmtu.probes_sent, 2);
	assert_int_equal(pa->pmtu.probes_acked, 2);
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	assert_int_equal(B.delivered, 0);
	assert_int_equal(pb->t_send_keepalive, 0); /* nor is it for B */
	assert_int_equal(pa->t_new_handshake, 0);
	run_ms(200);
	assert_pmtu(pb, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	assert_int_equal(A.dev.counters.rx_invalid + B.dev.counters.rx_invalid, 0);
}

/* 3. A path of 1300 that sends no ICMP errors (a black hole): lost sizes
 * are retried PMTU_MAX_PROBES times, then refused, and the search ends on
 * the largest grid size that passes, 1292. */
static void test_black_hole_search(void **state)
{
	net_mtu = 1300;
	connect_nodes();
	for (int i = 0; i < 200 && pa->pmtu.state != PMTU_SEARCH_COMPLETE; i++)
		run_ms(50);
	assert_pmtu(pa, 1292, 1232, PMTU_SEARCH_COMPLETE, true);
	assert_pmtu(pb, 1292, 1232, PMTU_SEARCH_COMPLETE, true);
	assert_true(pa->pmtu.probes_sent > pa->pmtu.probes_acked);
	assert_int_equal(pa->pmtu.ptb_received, 0);
	assert_true(net_dropped >= PMTU_MAX_PROBES);
}

/* 4. ICMP errors lower the path at once, and the reported size is probed
 * next; a report above the current size, or below the minimum, does not
 * push it up or below 576. */
static void test_icmp_lowers(void **state)
{
	connect_nodes();
	run_ms(100);
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	pmtu_event_icmp(pa, 1400);
	assert_int_equal(pa->pmtu.path_mtu, 1340);
	assert_int_equal(pa->pmtu.ptb_received, 0);
	pmtu_event_icmp(pa, 1300);
	assert_pmtu(pa, 1292, 1232, PMTU_SEARCHING, true);
	assert_int_equal(pa->pmtu.ptb_received, 1);
	assert_int_equal(pa->pmtu.probe_size, 1292);
	pump();
	assert_pmtu(pa, 1292, 1232, PMTU_SEARCH_COMPLETE, true);
	pmtu_event_icmp(pa, 300);
	assert_int_equal(pa->pmtu.path_mtu, 572);
	assert_int_equal(pa->pmtu.max_inner, 512);
}

/* 5. With the network's ICMP errors, probing a narrower path takes one
 * lost probe, not three; and the routers' errors for data do the same. */
static void test_icmp_during_search(void **state)
{
	net_mtu = 1200;
	net_icmp = true;
	connect_nodes();
	run_ms(100);
	assert_pmtu(pa, 1196, 1136, PMTU_SEARCH_COMPLETE, true);
	assert_int_equal(pa->pmtu.probes_sent, 3); /* 572, 1340 (refused), 1196 */
	assert_int_equal(pa->pmtu.ptb_received, 1);
}

/* 6. device_encrypt's verdicts on a 1292 path (largest inner 1232). */
static void test_encrypt_verdicts(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t out;

	connect_nodes();
	run_ms(100);
	pmtu_event_icmp(pa, 1300);
	qlen = 0; /* (the confirmation probe of 1292 is lost) */
	/* IPv4 with DF, one byte too big: refused, naming 1232. */
	ip4_packet(pkt, &A, &B, 1233, true);
	assert_int_equal(send_ip(&A, pkt, 1233, &out), DEVICE_TX_TOO_BIG);
	assert_int_equal(out, 1232);
	assert_int_equal(pa->pmtu.tx_too_big, 1);
	assert_int_equal(qlen, 0);
	/* IPv4 with DF that fits: sent, 16 + 1232 + 16 bytes. */
	ip4_packet(pkt, &A, &B, 1232, true);
	assert_int_equal(send_ip(&A, pkt, 1232, &out), DEVICE_TX_SEND);
	assert_int_equal(out, 1264);
	/* IPv4 without DF: sent, the outer packet may fragment. */
	ip4_packet(pkt, &A, &B, 1280, false);
	assert_int_equal(send_ip(&A, pkt, 1280, &out), DEVICE_TX_SEND_FRAG);
	assert_int_equal(out, 1312);
	/* IPv6 of the minimum MTU never gets "too big": it fragments. */
	ip6_packet(pkt, &A, &B, 1280);
	assert_int_equal(send_ip(&A, pkt, 1280, &out), DEVICE_TX_SEND_FRAG);
	assert_int_equal(pa->pmtu.tx_fragmented, 2);
	pump();
	assert_int_equal(B.delivered, 3);
	/* On the open path everything is a plain SEND. */
	pump();
	run_ms(11000); /* the raise timer: back to 1340 */
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	ip6_packet(pkt, &A, &B, 1280);
	assert_int_equal(send_ip(&A, pkt, 1280, &out), DEVICE_TX_SEND);
}

/* Drop B's acks: a stock WireGuard peer never answers probes. B's own
 * traffic is 144-byte datagrams (100-byte pings), which pass. */
static bool drop_acks(const struct dgram *d)
{
	return d->from == &B && d->len == 16 + PROBE_MIN_INNER + 16;
}

/* 7. A peer that does not answer probes, but is otherwise heard from:
 * icmp_only after PMTU_MAX_PROBES tries; ICMP errors still lower it; the
 * raise timer resets it and asks again. */
static void test_stock_peer(void **state)
{
	uint8_t pkt[100];

	net_filter = drop_acks;
	connect_nodes();
	for (int i = 0; i < 40 && pa->pmtu.state != PMTU_ICMP_ONLY; i++) {
		ip4_packet(pkt, &B, &A, sizeof(pkt), true);
		assert_int_equal(send_ip(&B, pkt, sizeof(pkt), NULL), DEVICE_TX_SEND);
		run_ms(50);
	}
	assert_pmtu(pa, 1340, 1280, PMTU_ICMP_ONLY, false);
	assert_int_equal(pa->pmtu.probes_acked, 0);
	assert_int_equal(pa->pmtu.probes_sent, PMTU_MAX_PROBES);
	pmtu_event_icmp(pa, 1300);
	assert_pmtu(pa, 1292, 1232, PMTU_ICMP_ONLY, true);
	run_ms(10500);
	assert_int_equal(pa->pmtu.state, PMTU_BASE);
	assert_int_equal(pa->pmtu.path_mtu, 1340);
}

/* 8. A peer that went away (nothing comes back at all) never makes the
 * path look small: the probes go on without counting. */
static bool drop_all_to_b(const struct dgram *d)
{
	return d->from == &A;
}

static void test_dead_peer(void **state)
{
	connect_nodes();
	run_ms(100);
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	net_filter = drop_all_to_b;
	pmtu_event_quiet(pa); /* as when data got no answer */
	assert_int_equal(pa->pmtu.state, PMTU_SEARCHING);
	assert_int_equal(pa->pmtu.probe_size, 1340);
	run_ms(5000);
	assert_int_equal(pa->pmtu.path_mtu, 1340);
	assert_int_equal(pa->pmtu.state, PMTU_SEARCHING);
	assert_true(pa->pmtu.probes_sent > 2 + 2 * PMTU_MAX_PROBES);
	/* Back: the confirmation succeeds. */
	net_filter = NULL;
	run_ms(1000);
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
}

/* 9. A smaller local interface is the ceiling: nothing above it is sent. */
static void test_local_ceiling(void **state)
{
	A.link_mtu = 1300;
	pa->pmtu.have_endpoint = false; /* as if the endpoint were new */
	connect_nodes();
	run_ms(100);
	assert_pmtu(pa, 1292, 1232, PMTU_SEARCH_COMPLETE, true);
	assert_int_equal(pa->pmtu.probes_sent, 2);
	assert_int_equal(net_dropped, 0);
}

/* 10. A new endpoint (here IPv6) starts over, with IPv6's overhead (80):
 * the ceiling is 1360, the minimum 1280. */
static void test_endpoint_change(void **state)
{
	struct sockaddr_in6 b6;

	connect_nodes();
	run_ms(100);
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	make_addr(&b6, "2001:db8::b");
	device_peer_set_endpoint(&A.dev, pa, &b6);
	set_time(A.dev.now + 50 * MS);
	device_tick(&A.dev);
	assert_true(pa->pmtu.v6_outer);
	assert_int_equal(pa->pmtu.ceiling, 1360);
	assert_int_equal(pa->pmtu.state, PMTU_BASE);
	assert_int_equal(qlen, 1);
	assert_int_equal(wire_size(&queue[0].to, queue[0].len), 1280);
	assert_int_equal(pa->pmtu.path_mtu, 1360);
	assert_int_equal(pa->pmtu.max_inner, 1280);
	pmtu_event_icmp(pa, 1300); /* 80 + 1216 */
	assert_int_equal(pa->pmtu.path_mtu, 1296);
	assert_int_equal(pa->pmtu.max_inner, 1216);
	pmtu_event_icmp(pa, 1000); /* no IPv6 link is that small: 1280 */
	assert_int_equal(pa->pmtu.path_mtu, 1280);
	assert_int_equal(pa->pmtu.max_inner, 1200);
	assert_true(pa->pmtu.outer_fragments);
}

/* 11. Not a probe: UDP to the probe port with another payload is an
 * ordinary packet; a probe from another source is a bad source. */
static void test_not_a_probe(void **state)
{
	uint8_t pkt[100];

	connect_nodes();
	run_ms(100);
	ip6_packet(pkt, &B, &A, sizeof(pkt));
	pkt[6] = 17;
	put_be16(pkt + 40, PMTU_PROBE_PORT);
	put_be16(pkt + 42, PMTU_PROBE_PORT);
	put_be16(pkt + 44, sizeof(pkt) - 40);
	memcpy(pkt + 48, "MTUX", 4);
	pkt[52] = 1;
	pkt[53] = PMTU_PROBE;
	assert_int_equal(send_ip(&B, pkt, sizeof(pkt), NULL), DEVICE_TX_SEND);
	pump();
	assert_int_equal(A.delivered, 1);
	assert_int_equal(A.last_delivered_len, sizeof(pkt));
	/* The real magic from an address that is not B's. */
	memcpy(pkt + 48, "MTUP", 4);
	pkt[10] ^= 1;
	assert_int_equal(send_ip(&B, pkt, sizeof(pkt), NULL), DEVICE_TX_SEND);
	pump();
	assert_int_equal(A.delivered, 1);
	assert_int_equal(A.dev.counters.rx_bad_source, 1);
	/* A well-formed probe from B is answered, not delivered. */
	pkt[10] ^= 1;
	put_le16(pkt + 48 + PROBE_OFF_SIZE, 128);
	assert_int_equal(send_ip(&B, pkt, sizeof(pkt), NULL), DEVICE_TX_SEND);
	assert_int_equal(qlen, 1);
	pump();
	assert_int_equal(A.delivered, 1);
	assert_int_equal(B.delivered, 0); /* the ack is consumed by B too */
}

/* 12. A peer that gets quiet after data triggers a confirmation; if the
 * current size is now refused (a black hole opened), the search goes down. */
static void test_quiet_confirms(void **state)
{
	connect_nodes();
	run_ms(100);
	assert_pmtu(pa, 1340, 1280, PMTU_SEARCH_COMPLETE, false);
	net_mtu = 1250;
	pmtu_event_quiet(pa);
	for (int i = 0; i < 200 && pa->pmtu.state != PMTU_SEARCH_COMPLETE; i++) {
		/* B keeps talking, so losses count */
		uint8_t pkt[100];

		ip4_packet(pkt, &B, &A, sizeof(pkt), true);
		(void)send_ip(&B, pkt, sizeof(pkt), NULL);
		run_ms(50);
	}
	assert_pmtu(pa, 1244, 1184, PMTU_SEARCH_COMPLETE, true);
	assert_string_equal(pmtu_state_name(pa->pmtu.state), "search_complete");
	assert_string_equal(pmtu_state_name(PMTU_ICMP_ONLY), "icmp_only");
	assert_string_equal(pmtu_state_name(99), "unknown");
}

/* An IPv6 TCP SYN from `from' to `to' with options NOP NOP MSS mss, and
 * a correct checksum. */
static size_t tcp6_syn(uint8_t *pkt, const struct node *from, const struct node *to, uint16_t mss,
		       uint8_t flags)
{
	size_t len = ip6_packet(pkt, from, to, 40 + 28);
	uint8_t *tcp = pkt + 40;

	pkt[6] = 6;
	put_be16(tcp, 40000);
	put_be16(tcp + 2, 5001);
	put_be32(tcp + 4, 0x01020304);
	tcp[12] = 7 << 4; /* 28 bytes: 20 + 8 of options */
	tcp[13] = flags;
	put_be16(tcp + 14, 64800);
	tcp[20] = tcp[21] = 1; /* NOP NOP */
	tcp[22] = 2;
	tcp[23] = 4;
	put_be16(tcp + 24, mss);
	tcp[26] = tcp[27] = 1;
	put_be16(tcp + 16, checksum_finish(checksum_add(
				   checksum_ipv6_pseudo(pkt + 8, pkt + 24, 28, 6), tcp, 28)));
	return len;
}

static bool tcp6_checksum_ok(const uint8_t *pkt)
{
	size_t tlen = get_be16(pkt + 4);

	return checksum_finish(
		       checksum_add(checksum_ipv6_pseudo(pkt + 8, pkt + 24, (uint32_t)tlen, 6),
				    pkt + 40, tlen)) == 0;
}

/* 13. On a path too small for 1280-byte IPv6, IPv6 TCP SYNs get an MSS
 * that fits (max_inner - 60 = 1172), in both directions, with the TCP
 * checksum still right; other packets are left alone. */
static void test_mss_clamp(void **state)
{
	uint8_t pkt[100];
	size_t len;

	net_mtu = 1300;
	net_icmp = true;
	connect_nodes();
	run_ms(200);
	assert_pmtu(pa, 1292, 1232, PMTU_SEARCH_COMPLETE, true);
	assert_pmtu(pb, 1292, 1232, PMTU_SEARCH_COMPLETE, true);
	/* Outbound (A clamps what it sends). */
	len = tcp6_syn(pkt, &A, &B, 1440, 0x02);
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	assert_int_equal(B.delivered, 1);
	assert_int_equal(get_be16(B.last_delivered + 40 + 24), 1172);
	assert_true(tcp6_checksum_ok(B.last_delivered));
	assert_int_equal(pa->pmtu.mss_clamped, 1);
	/* A SYN-ACK with a small MSS already: untouched. */
	len = tcp6_syn(pkt, &A, &B, 1000, 0x12);
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	assert_memory_equal(B.last_delivered, pkt, len);
	/* Not a SYN: untouched, whatever the option says. */
	len = tcp6_syn(pkt, &A, &B, 1440, 0x10);
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	assert_memory_equal(B.last_delivered, pkt, len);
	assert_int_equal(pa->pmtu.mss_clamped, 1);
	/* Inbound: B receives a SYN that A's side did not clamp (a stock
	 * peer would send it so): B clamps it before its TUN. */
	pa->pmtu.outer_fragments = false;
	len = tcp6_syn(pkt, &A, &B, 1400, 0x02);
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	assert_int_equal(get_be16(B.last_delivered + 40 + 24), 1172);
	assert_true(tcp6_checksum_ok(B.last_delivered));
	assert_int_equal(pb->pmtu.mss_clamped, 1);
}

/* 14. A stock peer's kernel answers a probe with an ICMPv6 port
 * unreachable: that is the answer (icmp_only at once), and it is consumed;
 * an unreachable about anything else goes on to the TUN. */
static void test_probe_port_unreachable(void **state)
{
	uint8_t pkt[40 + 8 + 40 + 8 + 16];

	connect_nodes();
	set_time(A.dev.now + 50 * MS);
	device_tick(&A.dev);
	assert_int_equal(pa->pmtu.state, PMTU_BASE);
	qlen = 0;
	ip6_packet(pkt, &B, &A, sizeof(pkt));
	pkt[6] = 58;
	pkt[40] = 1; /* destination unreachable */
	pkt[41] = 4; /* port unreachable */
	ip6_packet(pkt + 48, &A, &B, sizeof(pkt) - 48); /* the quoted probe */
	pkt[48 + 6] = 17;
	put_be16(pkt + 88, 53);
	put_be16(pkt + 90, PMTU_PROBE_PORT);
	assert_false(pmtu_receive(pa, pkt, sizeof(pkt))); /* not from the probe port */
	put_be16(pkt + 88, PMTU_PROBE_PORT);
	pkt[8] ^= 1;
	assert_false(pmtu_receive(pa, pkt, sizeof(pkt))); /* not from B */
	pkt[8] ^= 1;
	assert_true(pmtu_receive(pa, pkt, sizeof(pkt)));
	assert_int_equal(pa->pmtu.state, PMTU_ICMP_ONLY);
	assert_int_equal(pa->pmtu.path_mtu, 1340);
	assert_true(pmtu_receive(pa, pkt, sizeof(pkt))); /* again: consumed, no change */
	assert_int_equal(pa->pmtu.state, PMTU_ICMP_ONLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_before_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_black_hole_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_lowers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_during_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypt_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stock_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_ceiling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_confirms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mss_clamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_port_unreachable, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
