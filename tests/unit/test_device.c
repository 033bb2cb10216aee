/* The engine end to end, in one process: devices A and B (and C, X when a
 * test needs a third party) whose ops->send appends datagrams to a queue
 * that the test delivers with device_receive, from a fake IPv6 endpoint per
 * node. Time is dev->now, which the tests set; only the TAI64N timestamp of
 * initiations reads the wall clock, so a test that needs a second accepted
 * initiation between the same two nodes waits for that timestamp to tick
 * (2^24 ns).
 *
 *      A [2001:db8::a]:51820  <--- queue --->  B [2001:db8::b]:51820
 *                                               \-- C (a peer of B, offline)
 *      X [2001:db8::58]:51820 (knows B; B does not know X)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>

#include "common/bytes.h"
#include "common/log.h"
#include "mesh/address.h"
#include "mesh/device.h"
#include "mesh/messages.h"

#define T0 (1000 * NSEC_PER_SEC)
#define MS (NSEC_PER_SEC / 1000)
#define BUF_LEN (MESSAGE_MAX_DATAGRAM + MESSAGE_PADDING_MULTIPLE)

struct packet {
	size_t len;
	uint8_t data[MESSAGE_MAX_PLAINTEXT];
};

struct node {
	const char *name;
	struct device dev;
	struct sockaddr_in6 addr;
	uint8_t v6[16], v4[4]; /* its own overlay addresses */
	struct packet inbox[32];
	size_t ninbox;
	unsigned sent[MESSAGE_DATA + 1]; /* datagrams it sent, by type */
	unsigned sent_keepalives;
};

struct dgram {
	struct node *from;
	struct sockaddr_in6 to;
	size_t len;
	uint8_t data[BUF_LEN];
};

enum { QUEUE_MAX = 256 };

static struct node A, B, C, X;
static struct node *const nodes[] = { &A, &B, &C, &X };
static struct peer *pa; /* A's entry for B */
static struct peer *pb; /* B's entry for A */
static struct dgram queue[QUEUE_MAX];
static size_t qhead, qlen;

/* --- the fake network ------------------------------------------------------ */

static void enqueue(struct node *from, const struct sockaddr_in6 *to, const uint8_t *buf,
		    size_t len)
{
	struct dgram *d;

	assert_true(len <= BUF_LEN);
	assert_true(len >= 4);
	assert_true(qlen < QUEUE_MAX);
	d = &queue[(qhead + qlen++) % QUEUE_MAX];
	d->from = from;
	d->to = *to;
	d->len = len;
	memcpy(d->data, buf, len);
	if (buf[0] <= MESSAGE_DATA)
		from->sent[buf[0]]++;
	if (buf[0] == MESSAGE_DATA && len == MESSAGE_DATA_MIN_LEN)
		from->sent_keepalives++;
}

static void on_send(void *ctx, const struct sockaddr_in6 *to, const uint8_t *buf, size_t len)
{
	enqueue(ctx, to, buf, len);
}

static const struct device_ops ops = { .send = on_send };

static struct node *node_at(const struct sockaddr_in6 *a)
{
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (nodes[i]->name && memcmp(&nodes[i]->addr.sin6_addr, &a->sin6_addr, 16) == 0 &&
		    nodes[i]->addr.sin6_port == a->sin6_port)
			return nodes[i];
	return NULL;
}

/* Hand one datagram to its destination, from src (the sender's endpoint
 * unless given), in a buffer of exactly its size. */
static enum device_rx deliver_from(const struct dgram *d, const struct sockaddr_in6 *src)
{
	struct node *to = node_at(&d->to);
	uint8_t *buf = malloc(d->len);
	size_t ip_len = 0;
	enum device_rx r;

	assert_non_null(to);
	assert_non_null(buf);
	memcpy(buf, d->data, d->len);
	r = device_receive(&to->dev, src ? src : &d->from->addr, buf, d->len, &ip_len);
	if (r == DEVICE_RX_DELIVER) {
		assert_true(ip_len <= d->len - MESSAGE_DATA_MIN_LEN);
		assert_true(to->ninbox < sizeof(to->inbox) / sizeof(to->inbox[0]));
		to->inbox[to->ninbox].len = ip_len;
		memcpy(to->inbox[to->ninbox].data, buf + MESSAGE_DATA_HEADER_LEN, ip_len);
		to->ninbox++;
	}
	free(buf);
	return r;
}

static enum device_rx deliver(const struct dgram *d)
{
	return deliver_from(d, NULL);
}

/* Take the oldest queued datagram off the queue. */
static void dequeue(struct dgram *out)
{
	assert_true(qlen > 0);
	*out = queue[qhead];
	qhead = (qhead + 1) % QUEUE_MAX;
	qlen--;
}

static uint8_t deliver_one(void)
{
	static struct dgram d;

	dequeue(&d);
	deliver(&d);
	return d.data[0];
}

static uint8_t head_type(void)
{
	assert_true(qlen > 0);
	return queue[qhead].data[0];
}

/* Deliver until nothing is in flight; returns how many were delivered. */
static unsigned pump(void)
{
	unsigned n = 0;

	while (qlen) {
		deliver_one();
		assert_true(++n < 1000);
	}
	return n;
}

static void drop_all(void)
{
	qhead = qlen = 0;
}

/* --- nodes, time, packets -------------------------------------------------- */

static void make_addr(struct sockaddr_in6 *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
}

static void node_init(struct node *n, const char *name, const char *ip)
{
	struct device_timers t;
	uint8_t sk[NOISE_PUBLIC_KEY_LEN];
	const uint8_t *pk;

	memset(n, 0, sizeof(*n));
	n->name = name;
	randombytes_buf(sk, sizeof(sk));
	device_timers_default(&t);
	device_init(&n->dev, sk, &t, &ops, n);
	n->dev.now = T0;
	make_addr(&n->addr, ip, 51820);
	pk = n->dev.local.public_key;
	address_v6_from_key(pk, n->v6);
	address_v4_from_key_index(pk, address_v4_next_index(pk, 0), n->v4);
}

/* n gets a peer entry for m, with m's endpoint. */
static struct peer *know(struct node *n, struct node *m)
{
	struct peer *p = NULL;

	assert_int_equal(device_peer_add(&n->dev, m->dev.local.public_key, &p), 0);
	assert_non_null(p);
	assert_memory_equal(p->v6, m->v6, 16);
	assert_memory_equal(p->v4, m->v4, 4);
	device_peer_set_endpoint(&n->dev, p, &m->addr);
	return p;
}

static int setup(void **state)
{
	drop_all();
	node_init(&A, "A", "2001:db8::a");
	node_init(&B, "B", "2001:db8::b");
	pa = know(&A, &B);
	pb = know(&B, &A);
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		if (nodes[i]->name)
			device_deinit(&nodes[i]->dev);
		nodes[i]->name = NULL;
	}
	drop_all();
	return 0;
}

static uint64_t now(void)
{
	return A.dev.now;
}

static void set_time(uint64_t t)
{
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		nodes[i]->dev.now = t;
}

static void tick_all(void)
{
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (nodes[i]->name)
			device_tick(&nodes[i]->dev);
}

/* Wait until an initiation made now carries a newer TAI64N timestamp than
 * any made before (they are 2^24 ns coarse). */
static void tai64n_tick(void)
{
	struct timespec ts, nap = { 0, 1000000 };
	long start;

	clock_gettime(CLOCK_REALTIME, &ts);
	start = ts.tv_nsec & ~0xffffffL;
	time_t sec = ts.tv_sec;

	do {
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_REALTIME, &ts);
	} while (ts.tv_sec == sec && (ts.tv_nsec & ~0xffffffL) == start);
}

static void set_short_timers(void)
{
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		struct device_timers *t = &nodes[i]->dev.timers;

		t->rekey_after_time = 10 * NSEC_PER_SEC;
		t->reject_after_time = 20 * NSEC_PER_SEC;
		t->rekey_timeout = 1 * NSEC_PER_SEC;
		t->keepalive_timeout = 2 * NSEC_PER_SEC;
		t->rekey_attempt_time = 5 * NSEC_PER_SEC;
	}
}

static size_t ip6_packet(uint8_t *pkt, const uint8_t src[16], const uint8_t dst[16], size_t total,
			 uint8_t seed)
{
	assert_true(total >= 40 && total <= MESSAGE_MAX_PLAINTEXT);
	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	put_be16(pkt + 4, (uint16_t)(total - 40));
	pkt[6] = 59; /* no next header */
	pkt[7] = 64;
	memcpy(pkt + 8, src, 16);
	memcpy(pkt + 24, dst, 16);
	for (size_t i = 40; i < total; i++)
		pkt[i] = (uint8_t)(seed + i * 7);
	return total;
}

static size_t ip4_packet(uint8_t *pkt, const uint8_t src[4], const uint8_t dst[4], size_t total,
			 uint8_t seed)
{
	assert_true(total >= 20 && total <= MESSAGE_MAX_PLAINTEXT);
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	put_be16(pkt + 2, (uint16_t)total);
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, src, 4);
	memcpy(pkt + 16, dst, 4);
	for (size_t i = 20; i < total; i++)
		pkt[i] = (uint8_t)(seed ^ i);
	return total;
}

/* What the daemon does with a packet read from the TUN: encrypt it in place
 * and send the datagram (here: queue it, or hand it back in *capture). */
static enum device_tx send_ip(struct node *n, const uint8_t *pkt, size_t len, struct dgram *capture)
{
	static uint8_t buf[BUF_LEN];
	const struct sockaddr_in6 *to = NULL;
	size_t out_len = 0;
	enum device_tx r;

	memset(buf, 0xcc, sizeof(buf));
	memcpy(buf + MESSAGE_DATA_HEADER_LEN, pkt, len);
	r = device_encrypt(&n->dev, buf, len, &out_len, &to);
	if (r != DEVICE_TX_SEND)
		return r;
	assert_non_null(to);
	if (capture) {
		capture->from = n;
		capture->to = *to;
		capture->len = out_len;
		memcpy(capture->data, buf, out_len);
	} else {
		enqueue(n, to, buf, out_len);
	}
	return r;
}

/* A packet from n to m over IPv6, of total bytes. */
static size_t v6_between(uint8_t *pkt, const struct node *n, const struct node *m, size_t total,
			 uint8_t seed)
{
	return ip6_packet(pkt, n->v6, m->v6, total, seed);
}

static void assert_last_delivered(const struct node *n, const uint8_t *pkt, size_t len)
{
	assert_true(n->ninbox > 0);
	assert_int_equal(n->inbox[n->ninbox - 1].len, len);
	assert_memory_equal(n->inbox[n->ninbox - 1].data, pkt, len);
}

static uint64_t counters_sum(const struct device_counters *c)
{
	uint64_t v[sizeof(*c) / sizeof(uint64_t)];
	uint64_t sum = 0;

	_Static_assert(sizeof(*c) % sizeof(uint64_t) == 0, "counters are u64");
	memcpy(v, c, sizeof(v));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		sum += v[i];
	return sum;
}

/* A initiates; initiation, response and keepalive cross. */
static void connect_ab(void)
{
	device_peer_initiate(&A.dev, pa);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_int_equal(head_type(), MESSAGE_DATA);
	assert_int_equal(queue[qhead].len, MESSAGE_DATA_MIN_LEN); /* keepalive */
	assert_int_equal(deliver_one(), MESSAGE_DATA);
	assert_int_equal(qlen, 0);
	assert_non_null(pa->current);
	assert_non_null(pb->current);
	assert_null(pb->next);
	assert_true(pa->current->kp.i_am_initiator);
	assert_false(pb->current->kp.i_am_initiator);
}

/* --- tests ----------------------------------------------------------------- */

static void test_peer_add(void **state)
{
	struct peer *p = NULL;
	uint8_t zero[32] = { 0 };

	assert_int_equal(device_peer_add(&A.dev, B.dev.local.public_key, &p), -EEXIST);
	assert_int_equal(device_peer_add(&A.dev, A.dev.local.public_key, &p), -EINVAL);
	assert_int_equal(device_peer_add(&A.dev, zero, &p), -EINVAL);
	assert_int_equal(A.dev.peers.count, 1);
	assert_ptr_equal(peer_table_by_key(&A.dev.peers, B.dev.local.public_key), pa);
	assert_ptr_equal(peer_table_by_v6(&A.dev.peers, B.v6), pa);
	assert_ptr_equal(peer_table_by_v4(&A.dev.peers, B.v4), pa);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Compares addresses only (the high 32 bits). */
static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a >> 32, y = *(const uint64_t *)b >> 32;

	return x < y ? -1 : x > y;
}

/* A network owner moved B to another IPv4 index: lookups follow, the old
 * address is free, and an address held by another peer is refused. */
static void test_peer_v4_index(void **state)
{
	uint8_t old[4], v4[4], other_key[32];
	uint32_t next = address_v4_next_index(B.dev.local.public_key, pa->v4_index + 1);
	struct peer *q = NULL;

	memcpy(old, pa->v4, 4);
	assert_int_equal(device_peer_set_v4_index(&A.dev, pa, next), 0);
	address_v4_from_key_index(B.dev.local.public_key, next, v4);
	assert_memory_equal(pa->v4, v4, 4);
	assert_int_equal(pa->v4_index, next);
	assert_ptr_equal(peer_table_by_v4(&A.dev.peers, v4), pa);
	assert_null(peer_table_by_v4(&A.dev.peers, old));
	assert_ptr_equal(peer_table_by_key(&A.dev.peers, B.dev.local.public_key), pa);
	assert_int_equal(device_peer_set_v4_index(&A.dev, pa, next), 0); /* no change */

	/* A second peer cannot take B's address: find indexes i, j with
	 * address(other, i) == address(B, j) (a birthday search over 2^13 each
	 * in a 22-bit space finds about sixteen), put B on j, then ask for i. */
	static uint64_t addrs[1u << 13]; /* address << 32 | index, sorted */
	uint32_t found_i = UINT32_MAX, found_j = UINT32_MAX;

	memset(other_key, 0x42, sizeof(other_key));
	assert_int_equal(device_peer_add(&A.dev, other_key, &q), 0);
	for (uint32_t i = 0; i < ARRAY_SIZE(addrs); i++) {
		address_v4_from_key_index(other_key, i, v4);
		addrs[i] = (uint64_t)get_le32(v4) << 32 | i;
	}
	qsort(addrs, ARRAY_SIZE(addrs), sizeof(addrs[0]), cmp_u64);
	for (uint32_t j = 0; j < ARRAY_SIZE(addrs) && found_j == UINT32_MAX; j++) {
		uint64_t key;
		const uint64_t *hit;

		address_v4_from_key_index(B.dev.local.public_key, j, v4);
		key = (uint64_t)get_le32(v4) << 32;
		hit = bsearch(&key, addrs, ARRAY_SIZE(addrs), sizeof(addrs[0]), cmp_addr);
		if (hit && !address_v4_reserved(v4)) {
			found_i = (uint32_t)*hit;
			found_j = j;
		}
	}
	assert_int_not_equal(found_j, UINT32_MAX);
	assert_int_equal(device_peer_set_v4_index(&A.dev, pa, found_j), 0);
	assert_int_equal(device_peer_set_v4_index(&A.dev, q, found_i), -EADDRINUSE);
	assert_ptr_equal(peer_table_by_v4(&A.dev.peers, pa->v4), pa);
	device_peer_remove(&A.dev, q);
}

static void test_no_route(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT], nowhere[16];
	struct peer *pc;

	randombytes_buf(nowhere, sizeof(nowhere));
	ip6_packet(pkt, A.v6, nowhere, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, NULL), DEVICE_TX_DROP);
	assert_int_equal(A.dev.counters.tx_no_route, 1);
	/* Not an IP packet at all. */
	memset(pkt, 0, 60);
	assert_int_equal(send_ip(&A, pkt, 60, NULL), DEVICE_TX_DROP);
	assert_int_equal(A.dev.counters.tx_no_route, 2);

	/* A peer without an endpoint. */
	node_init(&C, "C", "2001:db8::c");
	assert_int_equal(device_peer_add(&A.dev, C.dev.local.public_key, &pc), 0);
	v6_between(pkt, &A, &C, 100, 2);
	assert_int_equal(send_ip(&A, pkt, 100, NULL), DEVICE_TX_DROP);
	assert_int_equal(A.dev.counters.tx_no_endpoint, 1);
	assert_int_equal(qlen, 0);
}

/* The first packet waits for a session and starts the handshake; after
 * initiation and response it goes out, and B delivers it byte for byte. */
static void test_first_packet(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 333, 9);

	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_STAGED);
	assert_int_equal(pa->staged_count, 1);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(queue[qhead].len, MESSAGE_INITIATION_LEN);
	assert_int_equal(get_le32(queue[qhead].data), MESSAGE_HANDSHAKE_INITIATION);

	/* B answers; it has a session it may not use yet. */
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_int_equal(queue[qhead].len, MESSAGE_RESPONSE_LEN);
	assert_non_null(pb->next);
	assert_null(pb->current);
	assert_int_equal(pb->handshakes, 0);

	/* A completes and sends the staged packet instead of a keepalive. */
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_non_null(pa->current);
	assert_int_equal(pa->staged_count, 0);
	assert_int_equal(pa->handshakes, 1);
	assert_true(pa->last_handshake_realtime > 0);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_DATA);
	assert_int_equal(queue[qhead].len, MESSAGE_DATA_MIN_LEN + 336); /* padded to 16 */
	assert_int_equal(get_le32(queue[qhead].data + DATA_OFF_RECEIVER), pb->next->kp.local_index);
	assert_int_equal(get_le64(queue[qhead].data + DATA_OFF_COUNTER), 0);

	assert_int_equal(deliver_one(), MESSAGE_DATA);
	assert_int_equal(B.ninbox, 1);
	assert_last_delivered(&B, pkt, len);
	assert_non_null(pb->current);
	assert_null(pb->next);
	assert_int_equal(pb->handshakes, 1);
	assert_int_equal(qlen, 0);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(B.sent[MESSAGE_HANDSHAKE_INITIATION], 0);
	assert_int_equal(counters_sum(&A.dev.counters), 0);
	assert_int_equal(counters_sum(&B.dev.counters), 0);
	assert_int_equal(pb->rx_bytes, MESSAGE_INITIATION_LEN + MESSAGE_DATA_MIN_LEN + 336);
}

/* Data both ways, IPv6 and IPv4, every size class: the datagram is padded
 * to 16 (capped at the MTU) and the delivered packet has exactly the inner
 * header's length. */
static void test_data_both_ways(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram d;
	size_t n = 0;

	connect_ab();
	for (size_t len = 20; len <= MESSAGE_MAX_PLAINTEXT; len += len < 100 ? 1 : 37) {
		for (int dir = 0; dir < 2; dir++) {
			struct node *from = dir ? &B : &A, *to = dir ? &A : &B;
			size_t padded = (len + 15) / 16 * 16;

			if (len >= 40 && len % 2)
				v6_between(pkt, from, to, len, (uint8_t)len);
			else
				ip4_packet(pkt, from->v4, to->v4, len, (uint8_t)len);
			assert_int_equal(send_ip(from, pkt, len, &d), DEVICE_TX_SEND);
			assert_int_equal(d.len, MESSAGE_DATA_MIN_LEN + padded);
			assert_memory_equal(&d.to, &to->addr, sizeof(d.to));
			assert_int_equal(get_le32(d.data), MESSAGE_DATA);
			assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
			assert_last_delivered(to, pkt, len);
			to->ninbox = 0;
			n++;
		}
	}
	assert_int_equal(qlen, 0);
	assert_int_equal(counters_sum(&A.dev.counters), 0);
	assert_int_equal(counters_sum(&B.dev.counters), 0);
	assert_int_equal(pa->current->kp.send_counter, n / 2 + 1); /* + the keepalive */
	assert_int_equal(pb->current->kp.send_counter, n / 2);
}

/* A packet whose inner length is shorter than what was sent (trailing
 * bytes, as padding): the inner header's length wins. */
static void test_padding_stripped(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram d;

	connect_ab();
	v6_between(pkt, &A, &B, 100, 3);
	put_be16(pkt + 4, 60 - 40); /* claims 60 bytes */
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(d.len, MESSAGE_DATA_MIN_LEN + 112);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_last_delivered(&B, pkt, 60);

	/* An inner header claiming more than there is: dropped. */
	put_be16(pkt + 4, 200);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_invalid, 1);
	/* An IPv4 header whose total length is below its own size. */
	ip4_packet(pkt, A.v4, B.v4, 40, 1);
	put_be16(pkt + 2, 19);
	assert_int_equal(send_ip(&A, pkt, 40, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_invalid, 2);
	assert_int_equal(B.ninbox, 1);
}

static void test_replay(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram d1, d2;
	size_t len = v6_between(pkt, &A, &B, 120, 5);

	connect_ab();
	assert_int_equal(send_ip(&A, pkt, len, &d1), DEVICE_TX_SEND);
	assert_int_equal(send_ip(&A, pkt, len, &d2), DEVICE_TX_SEND);
	/* Out of order is fine ... */
	assert_int_equal(deliver(&d2), DEVICE_RX_DELIVER);
	assert_int_equal(deliver(&d1), DEVICE_RX_DELIVER);
	assert_int_equal(B.ninbox, 2);
	/* ... twice is not. */
	assert_int_equal(deliver(&d1), DEVICE_RX_DONE);
	assert_int_equal(deliver(&d2), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_replay, 2);
	assert_int_equal(B.ninbox, 2);
	assert_int_equal(counters_sum(&B.dev.counters), 2);

	/* A forgery under a fresh counter does not use up that counter: the
	 * window is updated only after the packet authenticated. */
	static struct dgram d3, forged;

	assert_int_equal(send_ip(&A, pkt, len, &d3), DEVICE_TX_SEND);
	forged = d3;
	forged.data[MESSAGE_DATA_HEADER_LEN] ^= 0x10;
	assert_int_equal(deliver(&forged), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_auth_failed, 1);
	assert_int_equal(deliver(&d3), DEVICE_RX_DELIVER);
	assert_int_equal(B.ninbox, 3);
	B.dev.counters.rx_auth_failed = 0;

	/* A replayed datagram from elsewhere does not move the endpoint. */
	struct sockaddr_in6 elsewhere;

	make_addr(&elsewhere, "2001:db8::666", 4444);
	assert_int_equal(deliver_from(&d1, &elsewhere), DEVICE_RX_DONE);
	assert_memory_equal(&pb->endpoint, &A.addr, sizeof(A.addr));
	/* Nor does a forged one. */
	d1.data[d1.len - 1] ^= 1;
	assert_int_equal(deliver_from(&d1, &elsewhere), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_auth_failed, 1);
	assert_memory_equal(&pb->endpoint, &A.addr, sizeof(A.addr));
}

/* An authenticated packet from a new address moves the peer's endpoint. */
static void test_roaming(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram d;
	struct sockaddr_in6 moved;
	size_t len = v6_between(pkt, &A, &B, 80, 5);

	connect_ab();
	make_addr(&moved, "::ffff:198.51.100.7", 40000);
	assert_int_equal(send_ip(&A, pkt, len, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver_from(&d, &moved), DEVICE_RX_DELIVER);
	assert_memory_equal(&pb->endpoint, &moved, sizeof(moved));
	v6_between(pkt, &B, &A, 80, 6);
	assert_int_equal(send_ip(&B, pkt, 80, &d), DEVICE_TX_SEND);
	assert_memory_equal(&d.to, &moved, sizeof(moved));
}

/* B knows C; A sends B a packet claiming C's address (or nobody's, or B's
 * own): authenticated as A's, so dropped. */
static void test_bad_source(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT], random_v6[16];
	static struct dgram d;
	struct peer *bc;

	node_init(&C, "C", "2001:db8::c");
	bc = know(&B, &C);
	connect_ab();

	ip6_packet(pkt, bc->v6, B.v6, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_bad_source, 1);

	ip4_packet(pkt, bc->v4, B.v4, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_bad_source, 2);

	randombytes_buf(random_v6, sizeof(random_v6));
	ip6_packet(pkt, random_v6, B.v6, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	ip6_packet(pkt, B.v6, B.v6, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	/* IPv4 header with A's v6 prefix bytes: still not A's v4. */
	ip4_packet(pkt, A.v6, B.v4, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_bad_source, 5);
	assert_int_equal(B.ninbox, 0);

	/* A's own addresses pass. */
	ip4_packet(pkt, A.v4, B.v4, 100, 1);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_int_equal(B.ninbox, 1);
}

static void test_unknown_peer(void **state)
{
	node_init(&X, "X", "2001:db8::58");
	struct peer *xb = know(&X, &B);

	device_peer_initiate(&X.dev, xb);
	assert_int_equal(qlen, 1);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(B.dev.counters.rx_unknown_peer, 1);
	assert_int_equal(counters_sum(&B.dev.counters), 1);
	assert_int_equal(qlen, 0); /* no answer */
	assert_int_equal(B.dev.index.count, 0);
}

/* Every length 0..200 of every type byte 0..5, with random contents and
 * zero or nonzero reserved bytes, aimed at a device with a live session:
 * each is dropped and counted exactly once, nothing is delivered or sent. */
static void test_malformed(void **state)
{
	uint8_t *buf;
	uint32_t live;

	connect_ab();
	live = pb->current->kp.local_index;
	for (int variant = 0; variant < 4; variant++) {
		for (unsigned type = 0; type <= 5; type++) {
			for (size_t len = 0; len <= 200; len++) {
				uint64_t before = counters_sum(&B.dev.counters);
				size_t ip_len = 0;

				buf = malloc(len ? len : 1);
				assert_non_null(buf);
				randombytes_buf(buf, len);
				if (len >= 1)
					buf[0] = (uint8_t)type;
				if (variant == 0 && len >= 4)
					buf[1] = buf[2] = buf[3] = 0;
				if (variant == 1 && len >= 4)
					buf[1 + len % 3] |= 1; /* reserved nonzero */
				if (variant >= 2 && len >= 4)
					buf[1] = buf[2] = buf[3] = 0;
				if (variant >= 2 && len >= 8)
					put_le32(buf + 4, live); /* a live index */
				if (variant == 3 && len >= 4)
					memset(buf + 4, 0, len - 4);
				enum device_rx r =
					device_receive(&B.dev, &A.addr, buf, len, &ip_len);

				assert_int_equal(r, DEVICE_RX_DONE);
				if (counters_sum(&B.dev.counters) != before + 1)
					fail_msg(
						"variant %d type %u len %zu: counted %llu times",
						variant, type, len,
						(unsigned long long)(counters_sum(&B.dev.counters) -
								     before));
				free(buf);
			}
		}
	}
	assert_int_equal(B.ninbox, 0);
	assert_int_equal(qlen, 0);
	assert_true(B.dev.counters.rx_invalid > 0);
	assert_true(B.dev.counters.rx_bad_mac1 > 0);
	assert_true(B.dev.counters.rx_unknown_index > 0);
	assert_true(B.dev.counters.rx_auth_failed > 0);
	/* The session survives all of it. */
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 64, 1);

	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	assert_last_delivered(&B, pkt, len);
}

/* Under load B answers an initiation without mac2 with a cookie reply; A's
 * retry carries mac2 and completes the handshake. */
static void test_cookie_under_load(void **state)
{
	B.dev.under_load_mode = DEVICE_LOAD_ALWAYS;
	device_peer_initiate(&A.dev, pa);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(queue[qhead].len, MESSAGE_COOKIE_LEN);
	assert_memory_equal(&queue[qhead].to, &A.addr, sizeof(A.addr));
	assert_int_equal(B.dev.counters.cookie_sent, 1);
	assert_null(pb->next);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(A.dev.counters.cookie_received, 1);
	assert_true(pa->cookie.is_valid);
	assert_null(pa->current);
	assert_int_equal(qlen, 0);

	/* The retransmit timer sends the initiation again, now with mac2. */
	set_time(T0 + A.dev.timers.rekey_timeout + REKEY_TIMEOUT_JITTER_MAX_NS + 1);
	tick_all();
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_INITIATION);
	assert_false(sodium_is_zero(queue[qhead].data + INIT_OFF_MAC2, COOKIE_LEN));
	pump();
	assert_int_equal(B.dev.counters.cookie_sent, 1);
	assert_non_null(pa->current);
	assert_non_null(pb->current);
	assert_int_equal(counters_sum(&B.dev.counters), 1);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 2);

	/* The same initiation from another port would get another cookie. */
	struct sockaddr_in6 other_port = A.addr;

	other_port.sin6_port = htons(1234);
	A.addr = other_port;
	set_time(now() + 10 * NSEC_PER_SEC);
	device_peer_initiate(&A.dev, pa);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(B.dev.counters.cookie_sent, 2);
}

/* The responder may not send until the initiator confirms the session, and
 * it does not start a handshake of its own meanwhile (it just sent one). */
static void test_responder_waits(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &B, &A, 200, 4);

	device_peer_initiate(&A.dev, pa);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_non_null(pb->next);
	assert_int_equal(send_ip(&B, pkt, len, NULL), DEVICE_TX_STAGED);
	assert_int_equal(pb->staged_count, 1);
	assert_int_equal(qlen, 1); /* only the response */
	assert_int_equal(B.sent[MESSAGE_HANDSHAKE_INITIATION], 0);

	/* A's keepalive confirms; B's staged packet follows at once. */
	pump();
	assert_int_equal(pb->staged_count, 0);
	assert_int_equal(A.ninbox, 1);
	assert_last_delivered(&A, pkt, len);
	assert_int_equal(B.sent[MESSAGE_HANDSHAKE_INITIATION], 0);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 1);
}

/* Rekey after rekey_after_time: the initiator's next send starts a
 * handshake; during the switch datagrams under both the old and the new
 * keypair are accepted on both sides. */
static void test_rekey(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram old_a1, old_a2, old_b, d;
	struct keypair *old_ka, *old_kb;
	size_t len_ab = v6_between(pkt, &A, &B, 100, 1);

	set_short_timers();
	connect_ab();
	old_ka = pa->current;
	old_kb = pb->current;

	/* Not yet, just before rekey_after_time. */
	set_time(T0 + A.dev.timers.rekey_after_time - 1);
	assert_int_equal(send_ip(&A, pkt, len_ab, NULL), DEVICE_TX_SEND);
	pump();
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 1);
	B.ninbox = 0;

	tai64n_tick();
	set_time(T0 + A.dev.timers.rekey_after_time + 1);
	assert_int_equal(send_ip(&A, pkt, len_ab, &old_a1), DEVICE_TX_SEND);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_INITIATION);
	assert_int_equal(send_ip(&A, pkt, len_ab, &old_a2), DEVICE_TX_SEND);
	assert_int_equal(qlen, 1); /* rate limited */
	v6_between(pkt, &B, &A, 90, 2);
	assert_int_equal(send_ip(&B, pkt, 90, &old_b), DEVICE_TX_SEND);

	/* Initiation to B: B's new keypair waits in next. */
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_ptr_equal(pb->current, old_kb);
	assert_non_null(pb->next);
	assert_null(pb->previous);
	assert_int_equal(deliver(&old_a1), DEVICE_RX_DELIVER);

	/* Response to A: A switches at once, old becomes previous. */
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_ptr_equal(pa->previous, old_ka);
	assert_non_null(pa->current);
	assert_ptr_not_equal(pa->current, old_ka);
	assert_true(pa->current->kp.i_am_initiator);
	assert_int_equal(deliver(&old_b), DEVICE_RX_DELIVER);
	assert_int_equal(A.ninbox, 1);

	/* A's keepalive under the new keypair confirms it at B. */
	assert_int_equal(head_type(), MESSAGE_DATA);
	assert_int_equal(deliver_one(), MESSAGE_DATA);
	assert_ptr_equal(pb->previous, old_kb);
	assert_ptr_not_equal(pb->current, old_kb);
	assert_null(pb->next);
	assert_int_equal(deliver(&old_a2), DEVICE_RX_DELIVER);
	assert_int_equal(B.ninbox, 2);

	/* New keypair both ways. */
	v6_between(pkt, &A, &B, 100, 7);
	assert_int_equal(send_ip(&A, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(get_le32(d.data + DATA_OFF_RECEIVER), pb->current->kp.local_index);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_last_delivered(&B, pkt, 100);
	v6_between(pkt, &B, &A, 100, 8);
	assert_int_equal(send_ip(&B, pkt, 100, &d), DEVICE_TX_SEND);
	assert_int_equal(get_le32(d.data + DATA_OFF_RECEIVER), pa->current->kp.local_index);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_last_delivered(&A, pkt, 100);
	assert_int_equal(pa->handshakes, 2);
	assert_int_equal(pb->handshakes, 2);
	assert_int_equal(counters_sum(&A.dev.counters), 0);
	assert_int_equal(counters_sum(&B.dev.counters), 0);
}

/* The responder of the current session starts the next handshake: the
 * roles switch and traffic continues both ways. */
static void test_role_switch(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram d;
	struct keypair *old_ka = NULL, *old_kb = NULL;

	connect_ab();
	old_ka = pa->current;
	old_kb = pb->current;
	tai64n_tick();
	set_time(T0 + B.dev.timers.rekey_timeout); /* B answered at T0 */
	device_peer_initiate(&B.dev, pb);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_INITIATION);
	assert_ptr_equal(pa->current, old_ka);
	assert_non_null(pa->next);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_ptr_equal(pb->previous, old_kb);
	assert_true(pb->current->kp.i_am_initiator);
	pump();
	assert_ptr_equal(pa->previous, old_ka);
	assert_false(pa->current->kp.i_am_initiator);
	assert_null(pa->next);

	size_t len = v6_between(pkt, &A, &B, 300, 1);

	assert_int_equal(send_ip(&A, pkt, len, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_last_delivered(&B, pkt, len);
	len = v6_between(pkt, &B, &A, 300, 2);
	assert_int_equal(send_ip(&B, pkt, len, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_last_delivered(&A, pkt, len);
	assert_int_equal(counters_sum(&A.dev.counters), 0);
	assert_int_equal(counters_sum(&B.dev.counters), 0);
}

/* Both sides start a handshake at the same moment: the two responses each
 * name a handshake that was overwritten by the other side's initiation, so
 * neither completes; the retransmit timers sort it out within a few
 * rekey_timeouts, and the packets staged on both sides arrive. */
static void test_crossing_initiations(void **state)
{
	uint8_t pa_pkt[MESSAGE_MAX_PLAINTEXT], pb_pkt[MESSAGE_MAX_PLAINTEXT];
	size_t la = v6_between(pa_pkt, &A, &B, 500, 1);
	size_t lb = v6_between(pb_pkt, &B, &A, 700, 2);

	assert_int_equal(send_ip(&A, pa_pkt, la, NULL), DEVICE_TX_STAGED);
	assert_int_equal(send_ip(&B, pb_pkt, lb, NULL), DEVICE_TX_STAGED);
	assert_int_equal(qlen, 2);
	pump();
	for (uint64_t t = T0; t < T0 + 6 * A.dev.timers.rekey_timeout; t += 10 * MS) {
		set_time(t);
		/* A retransmission is 5 s later in wall-clock time too. */
		if ((pa->t_retransmit_handshake && pa->t_retransmit_handshake <= t) ||
		    (pb->t_retransmit_handshake && pb->t_retransmit_handshake <= t))
			tai64n_tick();
		tick_all();
		pump();
		if (A.ninbox && B.ninbox)
			break;
	}
	assert_int_equal(B.ninbox, 1);
	assert_last_delivered(&B, pa_pkt, la);
	assert_int_equal(A.ninbox, 1);
	assert_last_delivered(&A, pb_pkt, lb);
	assert_non_null(pa->current);
	assert_non_null(pb->current);
	assert_int_equal(pa->staged_count + pb->staged_count, 0);
}

/* Past reject_after_time without a new session, nothing is sent or accepted
 * under the old keypair: packets are staged until a handshake completes. */
static void test_reject_after_time(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram early;
	size_t len = v6_between(pkt, &A, &B, 100, 1);

	set_short_timers();
	connect_ab();
	assert_int_equal(send_ip(&A, pkt, len, &early), DEVICE_TX_SEND);

	set_time(T0 + A.dev.timers.reject_after_time - 1);
	assert_int_equal(deliver(&early), DEVICE_RX_DELIVER);
	assert_int_equal(deliver(&early), DEVICE_RX_DONE); /* replayed */
	drop_all();

	set_time(T0 + A.dev.timers.reject_after_time);
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_STAGED);
	assert_int_equal(pa->staged_count, 1);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_INITIATION);
	drop_all();
	/* The responder too stages, and initiates. */
	uint8_t pkt_b[MESSAGE_MAX_PLAINTEXT];

	v6_between(pkt_b, &B, &A, 100, 2);
	assert_int_equal(send_ip(&B, pkt_b, 100, NULL), DEVICE_TX_STAGED);
	assert_int_equal(pb->staged_count, 1);
	assert_int_equal(qlen, 1);
	assert_int_equal(head_type(), MESSAGE_HANDSHAKE_INITIATION);
	drop_all();

	set_time(T0 + A.dev.timers.reject_after_time + 5 * NSEC_PER_SEC);

	/* A fresh handshake sends both staged queues. */
	tai64n_tick();
	device_peer_initiate(&A.dev, pa);
	pump();
	assert_int_equal(pa->staged_count, 0);
	assert_int_equal(pb->staged_count, 0);
	assert_int_equal(B.ninbox, 2); /* early, then the one staged at A */
	assert_last_delivered(&B, pkt, len);
	assert_int_equal(A.ninbox, 1);
	assert_last_delivered(&A, pkt_b, 100);
}

static void test_expired_key_refused(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	static struct dgram d;
	size_t len = v6_between(pkt, &A, &B, 100, 1);

	set_short_timers();
	connect_ab();
	assert_int_equal(send_ip(&A, pkt, len, &d), DEVICE_TX_SEND);
	set_time(T0 + B.dev.timers.reject_after_time);
	assert_int_equal(deliver(&d), DEVICE_RX_DONE);
	assert_int_equal(B.dev.counters.rx_expired_key, 1);
	assert_int_equal(B.ninbox, 0);
	assert_memory_equal(&pb->endpoint, &A.addr, sizeof(A.addr));
}

/* 3 x reject_after_time after the last session was derived, every key is
 * wiped. */
static void test_zero_key_material(void **state)
{
	const uint64_t wipe = 3 * A.dev.timers.reject_after_time;

	connect_ab();
	set_time(T0 + wipe);
	tick_all();
	assert_non_null(pa->current);
	assert_non_null(pb->current);
	set_time(T0 + wipe + 1);
	tick_all();
	assert_null(pa->current);
	assert_null(pa->previous);
	assert_null(pa->next);
	assert_null(pb->current);
	assert_int_equal(A.dev.index.count, 0);
	assert_int_equal(B.dev.index.count, 0);
	assert_int_equal(pa->handshake.state, HANDSHAKE_ZEROED);
	assert_int_equal(qlen, 0);

	/* Traffic starts over with a new handshake. */
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 100, 1);

	tai64n_tick();
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_STAGED);
	pump();
	assert_last_delivered(&B, pkt, len);
}

/* With the short timers and A sending every second while every datagram
 * is lost: rekeying fails, the retransmit timer gives up, and the keys still
 * go 3 x reject_after_time after the session was derived. */
static void test_zero_key_material_short(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 100, 1);

	set_short_timers();
	const uint64_t wipe = 3 * A.dev.timers.reject_after_time;

	connect_ab();
	for (uint64_t t = T0; t < T0 + wipe; t += 10 * MS) {
		set_time(t);
		if ((t - T0) % NSEC_PER_SEC == 0)
			send_ip(&A, pkt, len, NULL);
		tick_all();
		drop_all();
		if (!pa->current)
			fail_msg("wiped at T0 + %llu ms", (unsigned long long)((t - T0) / MS));
	}
	assert_true(A.sent[MESSAGE_HANDSHAKE_INITIATION] > 2);
	set_time(T0 + wipe + 1);
	tick_all();
	drop_all();
	assert_null(pa->current);
	assert_null(pa->previous);
	assert_null(pa->next);
	assert_null(pb->current);
}

/* Without an answer the initiation is retried every rekey_timeout (+ up to
 * 1/3 s of jitter) and given up after rekey_attempt_time / rekey_timeout
 * retries, as WireGuard does (MAX_TIMER_HANDSHAKES + 2 messages in all). */
static void test_retransmit_gives_up(void **state)
{
	const struct device_timers *t = &A.dev.timers;
	const unsigned want = (unsigned)(t->rekey_attempt_time / t->rekey_timeout) + 2;
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 100, 1);
	uint64_t last = T0;
	unsigned seen = 1;

	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_STAGED);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 1);
	drop_all();
	for (uint64_t now_ns = T0; now_ns < T0 + 3 * t->rekey_attempt_time; now_ns += 10 * MS) {
		set_time(now_ns);
		tick_all();
		if (A.sent[MESSAGE_HANDSHAKE_INITIATION] != seen) {
			assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], seen + 1);
			assert_true(now_ns - last > t->rekey_timeout);
			assert_true(now_ns - last <=
				    t->rekey_timeout + REKEY_TIMEOUT_JITTER_MAX_NS + 10 * MS);
			seen++;
			last = now_ns;
		}
		drop_all();
	}
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], want);
	assert_int_equal(pa->staged_count, 0);
	assert_int_equal(A.dev.counters.tx_staged_dropped, 1);
	assert_int_equal(pa->t_retransmit_handshake, 0);
	assert_true(pa->t_zero_key_material > 0);
	assert_int_equal(B.sent[MESSAGE_HANDSHAKE_RESPONSE], 0);

	/* A new packet starts a new round of attempts. */
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_STAGED);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], want + 1);
	assert_int_equal(pa->handshake_attempts, 0);
	pump();
	assert_last_delivered(&B, pkt, len);
}

/* Initiations are rate limited to one per rekey_timeout. */
static void test_initiation_rate_limit(void **state)
{
	device_peer_initiate(&A.dev, pa);
	device_peer_initiate(&A.dev, pa);
	set_time(T0 + A.dev.timers.rekey_timeout - 1);
	device_peer_initiate(&A.dev, pa);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 1);
	set_time(T0 + A.dev.timers.rekey_timeout);
	device_peer_initiate(&A.dev, pa);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 2);
	/* Only the latest initiation can be answered. */
	static struct dgram first;

	dequeue(&first);
	drop_all();
	assert_int_equal(deliver(&first), DEVICE_RX_DONE);
	assert_int_equal(deliver_one(), MESSAGE_HANDSHAKE_RESPONSE);
	assert_int_equal(A.dev.counters.rx_unknown_index, 1);
	assert_null(pa->current);
}

/* Passive keepalive: B received data and had nothing to send back for
 * keepalive_timeout. New handshake: A sent data and heard nothing for
 * keepalive_timeout + rekey_timeout (+ jitter). */
static void test_keepalive_and_new_handshake(void **state)
{
	const struct device_timers *t = &A.dev.timers;
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 100, 1);

	connect_ab();
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	unsigned ka = B.sent_keepalives;

	set_time(T0 + t->keepalive_timeout);
	tick_all();
	assert_int_equal(B.sent_keepalives, ka);
	set_time(T0 + t->keepalive_timeout + 1);
	tick_all();
	assert_int_equal(B.sent_keepalives, ka + 1);
	assert_int_equal(qlen, 1);
	pump(); /* A hears from B: no new handshake */
	set_time(T0 + t->keepalive_timeout + t->rekey_timeout + REKEY_TIMEOUT_JITTER_MAX_NS + 1);
	tick_all();
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 1);
	assert_int_equal(qlen, 0);

	/* Now B stays silent (its keepalive is lost). */
	uint64_t start = now();

	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_SEND);
	pump();
	/* Step 10 ms up to one step past the latest possible deadline (the
	 * jitter can be within a step of its maximum). */
	for (uint64_t n = start; n <= start + t->keepalive_timeout + t->rekey_timeout +
					      REKEY_TIMEOUT_JITTER_MAX_NS + 10 * MS;
	     n += 10 * MS) {
		set_time(n);
		tick_all();
		if (qlen && queue[qhead].from == &B)
			drop_all();
		if (A.sent[MESSAGE_HANDSHAKE_INITIATION] > 1)
			break;
	}
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 2);
	assert_true(now() - start > t->keepalive_timeout + t->rekey_timeout);
}

static void test_persistent_keepalive(void **state)
{
	connect_ab();
	unsigned ka = A.sent_keepalives;

	device_peer_set_keepalive(&A.dev, pa, 25);
	assert_int_equal(A.sent_keepalives, ka + 1); /* one at once */
	pump();
	set_time(T0 + 25 * NSEC_PER_SEC);
	tick_all();
	assert_int_equal(A.sent_keepalives, ka + 1);
	set_time(T0 + 25 * NSEC_PER_SEC + 1);
	tick_all();
	assert_int_equal(A.sent_keepalives, ka + 2);
	pump();
	device_peer_set_keepalive(&A.dev, pa, 0);
	set_time(T0 + 60 * NSEC_PER_SEC);
	tick_all();
	assert_int_equal(A.sent_keepalives, ka + 2);
}

/* The last-minute handshake: an initiator receiving data under a keypair
 * older than reject - keepalive - rekey_timeout starts one handshake. */
static void test_lastminute_handshake(void **state)
{
	const struct device_timers *t = &A.dev.timers;
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &B, &A, 100, 1);
	static struct dgram d;

	set_short_timers();
	connect_ab();
	/* Keep A from rekeying on its own send path. */
	set_time(T0 + t->reject_after_time - t->keepalive_timeout - t->rekey_timeout + 1);
	assert_int_equal(send_ip(&B, pkt, len, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 2);
	assert_true(pa->sent_lastminute_handshake);
	drop_all();
	set_time(now() + 2 * t->rekey_timeout);
	assert_int_equal(send_ip(&B, pkt, len, &d), DEVICE_TX_SEND);
	assert_int_equal(deliver(&d), DEVICE_RX_DELIVER);
	assert_int_equal(A.sent[MESSAGE_HANDSHAKE_INITIATION], 2); /* only once */
}

/* Removing peers with sessions, staged packets and handshakes in flight
 * frees everything (the leak sanitizer checks). */
static void test_peer_remove(void **state)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];
	size_t len = v6_between(pkt, &A, &B, 100, 1);

	connect_ab();
	node_init(&C, "C", "2001:db8::c");
	struct peer *ac = know(&A, &C);

	v6_between(pkt, &A, &C, 100, 1);
	assert_int_equal(send_ip(&A, pkt, len, NULL), DEVICE_TX_STAGED);
	assert_int_equal(ac->staged_count, 1);
	assert_int_equal(A.dev.index.count, 2); /* B's keypair, C's handshake */
	device_peer_remove(&A.dev, ac);
	assert_int_equal(A.dev.index.count, 1);
	assert_int_equal(A.dev.peers.count, 1);
	assert_null(peer_table_by_v6(&A.dev.peers, C.v6));
	device_peer_remove(&A.dev, pa);
	assert_int_equal(A.dev.index.count, 0);
	assert_int_equal(A.dev.peers.count, 0);
	drop_all();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_peer_add),
		T(test_peer_v4_index),
		T(test_no_route),
		T(test_first_packet),
		T(test_data_both_ways),
		T(test_padding_stripped),
		T(test_replay),
		T(test_roaming),
		T(test_bad_source),
		T(test_unknown_peer),
		T(test_malformed),
		T(test_cookie_under_load),
		T(test_responder_waits),
		T(test_rekey),
		T(test_role_switch),
		T(test_crossing_initiations),
		T(test_reject_after_time),
		T(test_expired_key_refused),
		T(test_zero_key_material),
		T(test_zero_key_material_short),
		T(test_retransmit_gives_up),
		T(test_initiation_rate_limit),
		T(test_keepalive_and_new_handshake),
		T(test_persistent_keepalive),
		T(test_lastminute_handshake),
		T(test_peer_remove),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	log_init("test_device", false, LOG_LEVEL_WARN);
	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
