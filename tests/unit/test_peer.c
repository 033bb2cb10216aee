/* Peers: the table by key and derived addresses, the keypair slots exactly
 * as WireGuard's add_new_keypair / received_with_keypair move them, and the
 * staged-packet queue (FIFO; when full the oldest gives way). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "common/bytes.h"
#include "mesh/device.h"
#include "mesh/peer.h"

static struct device dev;
static const struct device_ops no_ops;

static int setup(void **state)
{
	struct device_timers t;
	uint8_t sk[NOISE_PUBLIC_KEY_LEN];

	randombytes_buf(sk, sizeof(sk));
	device_timers_default(&t);
	device_init(&dev, sk, &t, &no_ops, NULL);
	return 0;
}

static struct peer *peer_new(void)
{
	struct peer *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->dev = &dev;
	return p;
}

static void peer_free(struct peer *p)
{
	peer_keypairs_clear(p);
	peer_staged_purge(p);
	free(p);
}

/* A keypair linked in the device's index table, as a session would be. */
static struct keypair *keypair(struct peer *p, bool initiator)
{
	struct keypair *k = peer_keypair_create(p);

	assert_non_null(k);
	assert_int_equal(k->entry.type, INDEX_KEYPAIR);
	assert_ptr_equal(k->entry.peer, p);
	assert_ptr_equal(k->entry.object, k);
	k->kp.i_am_initiator = initiator;
	k->kp.local_index = index_table_insert(&dev.index, &k->entry);
	return k;
}

static bool indexed(uint32_t index)
{
	return index_table_lookup(&dev.index, index, INDEX_KEYPAIR) != NULL;
}

#define SLOTS(p, prev, cur, nxt)                       \
	do {                                           \
		assert_ptr_equal((p)->previous, prev); \
		assert_ptr_equal((p)->current, cur);   \
		assert_ptr_equal((p)->next, nxt);      \
	} while (0)

/* --- the peer table -------------------------------------------------------- */

static void test_table(void **state)
{
	enum { N = 40 };
	static struct peer peers[N];
	static struct peer_table t;
	uint8_t key[32], v6[16], v4[4];

	peer_table_init(&t);
	memset(peers, 0, sizeof(peers));
	for (unsigned i = 0; i < N; i++) {
		struct peer *p = &peers[i];

		randombytes_buf(p->public_key, 32);
		randombytes_buf(p->v6, 16);
		randombytes_buf(p->v4, 4);
		/* Every fourth one shares its buckets with the one before. */
		if (i % 4 == 3) {
			memcpy(p->public_key, peers[i - 1].public_key, 4);
			memcpy(p->v6 + 12, peers[i - 1].v6 + 12, 4);
			p->v4[0] = peers[i - 1].v4[0];
		}
		peer_table_link(&t, p);
		assert_int_equal(t.count, i + 1);
		assert_ptr_equal(t.head, p);
	}
	for (unsigned i = 0; i < N; i++) {
		assert_ptr_equal(peer_table_by_key(&t, peers[i].public_key), &peers[i]);
		assert_ptr_equal(peer_table_by_v6(&t, peers[i].v6), &peers[i]);
		assert_ptr_equal(peer_table_by_v4(&t, peers[i].v4), &peers[i]);
	}
	/* Same bucket, different key. */
	memcpy(key, peers[3].public_key, 32);
	key[31] ^= 1;
	assert_null(peer_table_by_key(&t, key));
	memcpy(v6, peers[3].v6, 16);
	v6[0] ^= 1;
	assert_null(peer_table_by_v6(&t, v6));
	memcpy(v4, peers[3].v4, 4);
	v4[3] ^= 1;
	assert_null(peer_table_by_v4(&t, v4));

	/* Unlink the head, a middle one and a bucket-sharing pair. */
	peer_table_unlink(&t, &peers[N - 1]);
	peer_table_unlink(&t, &peers[10]);
	peer_table_unlink(&t, &peers[2]);
	peer_table_unlink(&t, &peers[3]);
	assert_int_equal(t.count, N - 4);
	unsigned listed = 0;

	for (struct peer *p = t.head; p; p = p->list_next) {
		if (p->list_next)
			assert_ptr_equal(p->list_next->list_prev, p);
		listed++;
	}
	assert_int_equal(listed, N - 4);
	for (unsigned i = 0; i < N; i++) {
		bool gone = i == N - 1 || i == 10 || i == 2 || i == 3;

		assert_ptr_equal(peer_table_by_key(&t, peers[i].public_key),
				 gone ? NULL : &peers[i]);
		assert_ptr_equal(peer_table_by_v6(&t, peers[i].v6), gone ? NULL : &peers[i]);
	}
	assert_ptr_equal(peer_table_by_key(&t, peers[7].public_key), &peers[7]);
	assert_ptr_equal(peer_table_by_v4(&t, peers[7].v4), &peers[7]);
}

/* --- keypair slots --------------------------------------------------------- */

/* Initiator without a pending next: current slides to previous, the old
 * previous is freed. */
static void test_initiator_no_next(void **state)
{
	struct peer *p = peer_new();
	struct keypair *k1 = keypair(p, true), *k2 = keypair(p, true), *k3 = keypair(p, true);
	uint32_t i1 = k1->kp.local_index;

	peer_keypairs_add(p, k1);
	SLOTS(p, NULL, k1, NULL);
	peer_keypairs_add(p, k2);
	SLOTS(p, k1, k2, NULL);
	peer_keypairs_add(p, k3);
	SLOTS(p, k2, k3, NULL);
	assert_false(indexed(i1)); /* k1 freed and unlinked */
	assert_true(indexed(k2->kp.local_index));
	/* As initiator there is nothing to confirm. */
	assert_false(peer_keypairs_received_with(p, k3));
	assert_false(peer_keypairs_received_with(p, k2));
	SLOTS(p, k2, k3, NULL);
	peer_free(p);
	assert_int_equal(dev.index.count, 0);
}

/* Initiator with a pending next (we had answered the peer's handshake while
 * ours was in flight): next becomes previous, previous and current go. */
static void test_initiator_with_next(void **state)
{
	struct peer *p = peer_new();
	struct keypair *prev = keypair(p, true), *cur = keypair(p, true);
	struct keypair *next = keypair(p, false), *k = keypair(p, true);
	uint32_t iprev = prev->kp.local_index, icur = cur->kp.local_index;

	p->previous = prev;
	p->current = cur;
	p->next = next;
	peer_keypairs_add(p, k);
	SLOTS(p, next, k, NULL);
	assert_false(indexed(iprev));
	assert_false(indexed(icur));
	assert_true(indexed(next->kp.local_index));
	assert_true(indexed(k->kp.local_index));
	peer_free(p);
	assert_int_equal(dev.index.count, 0);
}

/* Responder: the new keypair waits in next (current keeps working), the
 * previous and any older next are freed; the first packet received with it
 * promotes it. */
static void test_responder(void **state)
{
	struct peer *p = peer_new();
	struct keypair *prev = keypair(p, true), *cur = keypair(p, true);
	struct keypair *old_next = keypair(p, false), *k = keypair(p, false);
	uint32_t iprev = prev->kp.local_index, inext = old_next->kp.local_index;

	p->previous = prev;
	p->current = cur;
	p->next = old_next;
	peer_keypairs_add(p, k);
	SLOTS(p, NULL, cur, k);
	assert_false(indexed(iprev));
	assert_false(indexed(inext));

	/* Data under current changes nothing. */
	assert_false(peer_keypairs_received_with(p, cur));
	SLOTS(p, NULL, cur, k);
	/* Data under next confirms it. */
	assert_true(peer_keypairs_received_with(p, k));
	SLOTS(p, cur, k, NULL);
	assert_false(peer_keypairs_received_with(p, k));
	SLOTS(p, cur, k, NULL);

	/* A second responder session, confirmed: the old previous is freed. */
	struct keypair *k2 = keypair(p, false);
	uint32_t icur = cur->kp.local_index;

	peer_keypairs_add(p, k2);
	SLOTS(p, NULL, k, k2);
	assert_false(indexed(icur));
	assert_true(peer_keypairs_received_with(p, k2));
	SLOTS(p, k, k2, NULL);

	/* Confirming with a previous set frees it. */
	struct keypair *k3 = keypair(p, false);

	p->next = k3;
	uint32_t ik = k->kp.local_index;

	assert_true(peer_keypairs_received_with(p, k3));
	SLOTS(p, k2, k3, NULL);
	assert_false(indexed(ik));

	/* First session ever, as responder. */
	peer_keypairs_clear(p);
	SLOTS(p, NULL, NULL, NULL);
	assert_int_equal(dev.index.count, 0);
	struct keypair *first = keypair(p, false);

	peer_keypairs_add(p, first);
	SLOTS(p, NULL, NULL, first);
	assert_true(peer_keypairs_received_with(p, first));
	SLOTS(p, NULL, first, NULL);
	peer_free(p);
	assert_int_equal(dev.index.count, 0);
}

static void test_keypair_destroy_null(void **state)
{
	struct peer *p = peer_new();

	peer_keypair_destroy(p, NULL);
	peer_keypairs_clear(p);
	SLOTS(p, NULL, NULL, NULL);
	peer_free(p);
}

/* --- staged packets -------------------------------------------------------- */

static __attribute__((noinline)) void stage_numbered(struct peer *p, uint32_t n, size_t len)
{
	uint8_t pkt[MESSAGE_MAX_PLAINTEXT];

	memset(pkt, (int)(n & 0xff), len);
	if (len >= 4)
		put_le32(pkt, n);
	assert_true(peer_stage_packet(p, pkt, len));
}

static void pop_numbered(struct peer *p, uint32_t n, size_t len)
{
	struct staged_packet *s = peer_staged_pop(p);

	assert_non_null(s);
	assert_int_equal(s->len, len);
	if (len >= 4)
		assert_int_equal(get_le32(s->data), n);
	for (size_t i = 4; i < len; i++)
		assert_int_equal(s->data[i], n & 0xff);
	free(s);
}

static void test_staged_fifo(void **state)
{
	struct peer *p = peer_new();
	static uint8_t big[MESSAGE_MAX_PLAINTEXT + 1] = { 0 };

	assert_null(peer_staged_pop(p));
	for (uint32_t i = 0; i < 10; i++)
		stage_numbered(p, i, 20 + i);
	assert_int_equal(p->staged_count, 10);
	for (uint32_t i = 0; i < 10; i++)
		pop_numbered(p, i, 20 + i);
	assert_null(peer_staged_pop(p));

	/* Sizes at the edges. */
	stage_numbered(p, 1, 0);
	stage_numbered(p, 2, MESSAGE_MAX_PLAINTEXT);
	assert_false(peer_stage_packet(p, big, sizeof(big)));
	assert_int_equal(p->staged_count, 2);
	pop_numbered(p, 1, 0);
	pop_numbered(p, 2, MESSAGE_MAX_PLAINTEXT);

	/* Round the ring a few times with the queue half full. */
	uint32_t in = 0, out = 0;

	for (int round = 0; round < 5 * MAX_STAGED_PACKETS; round++) {
		stage_numbered(p, in++, 40);
		if (round % 2 || p->staged_count > MAX_STAGED_PACKETS / 2)
			pop_numbered(p, out++, 40);
	}
	while (out < in)
		pop_numbered(p, out++, 40);
	assert_int_equal(p->staged_count, 0);
	peer_free(p);
}

static void test_staged_overflow(void **state)
{
	struct peer *p = peer_new();

	p->staged_head = 77; /* anywhere in the ring */
	for (uint32_t i = 0; i < MAX_STAGED_PACKETS + 5; i++) {
		stage_numbered(p, i, 60);
		assert_int_equal(p->staged_count,
				 i < MAX_STAGED_PACKETS ? i + 1 : MAX_STAGED_PACKETS);
	}
	/* The five oldest gave way. */
	for (uint32_t i = 5; i < MAX_STAGED_PACKETS + 5; i++)
		pop_numbered(p, i, 60);
	assert_null(peer_staged_pop(p));

	/* Purge frees everything (the sanitizer checks). */
	for (uint32_t i = 0; i < 3 * MAX_STAGED_PACKETS; i++)
		stage_numbered(p, i, 100);
	peer_staged_purge(p);
	assert_int_equal(p->staged_count, 0);
	assert_null(peer_staged_pop(p));
	peer_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_initiator_no_next),
		cmocka_unit_test(test_initiator_with_next),
		cmocka_unit_test(test_responder),
		cmocka_unit_test(test_keypair_destroy_null),
		cmocka_unit_test(test_staged_fifo),
		cmocka_unit_test(test_staged_overflow),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("peer", tests, setup, NULL);
}
