/* Gossip datagrams: each type built and parsed, records and announcements
 * packed across datagrams, bad items skipped, bad frames rejected. The
 * parsed message is large, so it lives in the heap (the group state). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/gossip.h"

#define NRECORDS 40

struct fixture {
	uint8_t net_pk[32], net_sk[64];
	uint8_t other_pk[32], other_sk[64];
	struct member_record records[NRECORDS];
	struct announce announces[NRECORDS];
	struct gossip_msg msg;
	uint8_t buf[GOSSIP_MAX + 64];
};

static void make_record(struct fixture *f, size_t i, struct member_record *r)
{
	uint8_t ed_sk[64];

	memset(r, 0, sizeof(*r));
	memcpy(r->network_pk, f->net_pk, 32);
	crypto_sign_keypair(r->ed25519_pk, ed_sk);
	assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(r->x25519_pk, r->ed25519_pk), 0);
	r->version = i + 1;
	r->v4_index = (uint32_t)i;
	/* hostnames of varying length, so datagrams fill unevenly */
	snprintf(r->hostname, sizeof(r->hostname), "node-%.*s%zu", (int)(i % 40),
		 "abcdefghijklmnopqrstuvwxyzabcdefghijklmn", i);
	member_record_sign(r, f->net_sk);
}

static void make_announce(size_t i, struct announce *a)
{
	uint8_t ed_pk[32], ed_sk[64];

	memset(a, 0, sizeof(*a));
	crypto_sign_keypair(ed_pk, ed_sk);
	a->seq = i;
	a->nendpoints = i % (ANNOUNCE_MAX_ENDPOINTS + 1);
	for (size_t j = 0; j < a->nendpoints; j++) {
		a->endpoints[j].sin6_family = AF_INET6;
		a->endpoints[j].sin6_port = htons((uint16_t)(1000 + j));
		assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", &a->endpoints[j].sin6_addr), 1);
	}
	announce_sign(a, ed_sk);
}

static int group_setup(void **state)
{
	struct fixture *f;

	if (sodium_init() < 0)
		return -1;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	crypto_sign_keypair(f->net_pk, f->net_sk);
	crypto_sign_keypair(f->other_pk, f->other_sk);
	for (size_t i = 0; i < NRECORDS; i++) {
		make_record(f, i, &f->records[i]);
		make_announce(i, &f->announces[i]);
	}
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	free(*state);
	return 0;
}

static void expect_reject(struct fixture *f, size_t len, const char *what)
{
	char err[256] = "";

	assert_int_equal(gossip_parse(f->buf, len, &f->msg, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, what))
		fail_msg("message `%s' does not say `%s'", err, what);
}

static void parse_ok(struct fixture *f, size_t len)
{
	char err[256] = "";

	if (gossip_parse(f->buf, len, &f->msg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void test_digest(void **state)
{
	struct fixture *f = *state;
	struct gossip_digest d[GOSSIP_MAX_DIGESTS + 1];
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(d); i++) {
		randombytes_buf(d[i].network_pk, sizeof(d[i].network_pk));
		randombytes_buf(d[i].digest, sizeof(d[i].digest));
	}
	for (size_t n = 0; n <= GOSSIP_MAX_DIGESTS; n++) {
		len = gossip_build_digest(d, n, f->buf, sizeof(f->buf));
		assert_int_equal(len, 4 + 1 + n * 48);
		assert_memory_equal(f->buf, "MG\x01\x01", 4);
		parse_ok(f, len);
		assert_int_equal(f->msg.type, GOSSIP_DIGEST);
		assert_int_equal(f->msg.ndigests, n);
		assert_memory_equal(f->msg.digests, d, n * sizeof(d[0]));
	}
	assert_int_equal(gossip_build_digest(d, GOSSIP_MAX_DIGESTS + 1, f->buf, sizeof(f->buf)), 0);
	assert_int_equal(gossip_build_digest(d, 2, f->buf, 4 + 1 + 2 * 48 - 1), 0);
	/* seventeen on the wire */
	len = gossip_build_digest(d, GOSSIP_MAX_DIGESTS, f->buf, sizeof(f->buf));
	memcpy(f->buf + len, d, 48);
	f->buf[4] = GOSSIP_MAX_DIGESTS + 1;
	expect_reject(f, len + 48, "digest count 17 exceeds 16");
	/* a count that does not match the length */
	f->buf[4] = 3;
	expect_reject(f, 4 + 1 + 2 * 48, "DIGEST body is 97 bytes, not 145");
}

static void test_key_only(void **state)
{
	struct fixture *f = *state;
	size_t len;

	len = gossip_build_pull(f->net_pk, f->buf, sizeof(f->buf));
	assert_int_equal(len, 4 + 32);
	parse_ok(f, len);
	assert_int_equal(f->msg.type, GOSSIP_PULL);
	assert_memory_equal(f->msg.network_pk, f->net_pk, 32);
	len = gossip_build_leave(f->net_pk, f->buf, sizeof(f->buf));
	assert_int_equal(len, 4 + 32);
	parse_ok(f, len);
	assert_int_equal(f->msg.type, GOSSIP_LEAVE);
	assert_memory_equal(f->msg.network_pk, f->net_pk, 32);
	expect_reject(f, len - 1, "LEAVE body is 31 bytes, not 32");
	f->buf[len] = 0;
	expect_reject(f, len + 1, "LEAVE body is 33 bytes, not 32");
	assert_int_equal(gossip_build_pull(f->net_pk, f->buf, 35), 0);
}

static void test_hostname(void **state)
{
	static const char *const bad[] = { "", "-a", "a-", "UPPER", "a.b" };
	struct fixture *f = *state;
	char name[80];
	size_t len;

	len = gossip_build_hostname(f->net_pk, "new-name", f->buf, sizeof(f->buf));
	assert_int_equal(len, 4 + 32 + 1 + 8);
	parse_ok(f, len);
	assert_int_equal(f->msg.type, GOSSIP_HOSTNAME);
	assert_memory_equal(f->msg.network_pk, f->net_pk, 32);
	assert_string_equal(f->msg.hostname, "new-name");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t n = strlen(bad[i]);

		assert_int_equal(gossip_build_hostname(f->net_pk, bad[i], f->buf, sizeof(f->buf)),
				 0);
		/* the same on the wire, built by hand */
		f->buf[36] = (uint8_t)n;
		memcpy(f->buf + 37, bad[i], n);
		expect_reject(f, 37 + n, "hostname is not a DNS label");
		assert_string_equal(f->msg.hostname, "");
	}
	memset(name, 'a', sizeof(name));
	name[64] = '\0';
	assert_int_equal(gossip_build_hostname(f->net_pk, name, f->buf, sizeof(f->buf)), 0);
	f->buf[36] = 70;
	memcpy(f->buf + 37, name, 70);
	expect_reject(f, 37 + 70, "hostname length 70 exceeds 63");
	f->buf[36] = 5;
	expect_reject(f, 37 + 4, "HOSTNAME body is 37 bytes, not 38");
}

static void test_ping(void **state)
{
	static const uint64_t ids[] = { 0, 1, 0x8000000000000000ull, UINT64_MAX };
	struct fixture *f = *state;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		len = gossip_build_ping(GOSSIP_PING, ids[i], f->buf, sizeof(f->buf));
		assert_int_equal(len, 12);
		parse_ok(f, len);
		assert_int_equal(f->msg.type, GOSSIP_PING);
		assert_true(f->msg.ping_id == ids[i]);
		/* the answer carries the same id */
		len = gossip_build_ping(GOSSIP_PONG, f->msg.ping_id, f->buf, sizeof(f->buf));
		parse_ok(f, len);
		assert_int_equal(f->msg.type, GOSSIP_PONG);
		assert_true(f->msg.ping_id == ids[i]);
	}
	assert_true(get_le64(f->buf + 4) == UINT64_MAX);
	assert_int_equal(gossip_build_ping(GOSSIP_PULL, 1, f->buf, sizeof(f->buf)), 0);
	assert_int_equal(gossip_build_ping(GOSSIP_PING, 1, f->buf, 11), 0);
	expect_reject(f, 11, "PONG body is 7 bytes, not 8");
}

/* 40 records, several datagrams, each at most GOSSIP_MAX; all come back in
 * order, and the rounds themselves are bounded. */
static void test_records_packing(void **state)
{
	struct fixture *f = *state;
	size_t first = 0, got = 0, datagrams = 0;

	while (first < NRECORDS) {
		size_t before = first;
		size_t len = gossip_build_records(f->net_pk, f->records, NRECORDS, &first, f->buf,
						  sizeof(f->buf));

		assert_true(len > 0 && len <= GOSSIP_MAX);
		assert_true(first > before);
		assert_true(first - before <= GOSSIP_MAX_ITEMS);
		parse_ok(f, len);
		assert_int_equal(f->msg.type, GOSSIP_RECORDS);
		assert_memory_equal(f->msg.network_pk, f->net_pk, 32);
		assert_int_equal(f->msg.rejected, 0);
		assert_int_equal(f->msg.nrecords, first - before);
		for (size_t i = 0; i < f->msg.nrecords; i++, got++) {
			assert_memory_equal(f->msg.records[i].x25519_pk, f->records[got].x25519_pk,
					    32);
			assert_string_equal(f->msg.records[i].hostname, f->records[got].hostname);
			assert_true(f->msg.records[i].version == got + 1);
		}
		datagrams++;
	}
	assert_int_equal(got, NRECORDS);
	assert_true(datagrams >= 5 && datagrams <= 10);
	/* a buffer smaller than the first record gives 0 and does not advance */
	first = 0;
	assert_int_equal(gossip_build_records(f->net_pk, f->records, NRECORDS, &first, f->buf, 100),
			 0);
	assert_int_equal(first, 0);
	/* nothing left, or nothing valid left: no datagram */
	first = NRECORDS;
	assert_int_equal(gossip_build_records(f->net_pk, f->records, NRECORDS, &first, f->buf,
					      sizeof(f->buf)),
			 0);
	assert_int_equal(first, NRECORDS);
}

static void test_announce_packing(void **state)
{
	struct fixture *f = *state;
	size_t first = 0, got = 0;

	while (first < NRECORDS) {
		size_t before = first;
		size_t len = gossip_build_announces(f->net_pk, f->announces, NRECORDS, &first,
						    f->buf, sizeof(f->buf));

		assert_true(len > 0 && len <= GOSSIP_MAX);
		assert_true(first > before);
		parse_ok(f, len);
		assert_int_equal(f->msg.type, GOSSIP_ANNOUNCE);
		assert_int_equal(f->msg.rejected, 0);
		assert_int_equal(f->msg.nannounces, first - before);
		for (size_t i = 0; i < f->msg.nannounces; i++, got++) {
			const struct announce *a = &f->msg.announces[i];

			assert_memory_equal(a->ed25519_pk, f->announces[got].ed25519_pk, 32);
			assert_memory_equal(a->x25519_pk, f->announces[got].x25519_pk, 32);
			assert_true(a->seq == got);
			assert_int_equal(a->nendpoints, f->announces[got].nendpoints);
		}
	}
	assert_int_equal(got, NRECORDS);
}

/* Items that fail are skipped and counted; the others parse. */
static void test_bad_items(void **state)
{
	struct fixture *f = *state;
	struct member_record *mixed = calloc(4, sizeof(*mixed));
	size_t first = 0, len, off;

	assert_non_null(mixed);
	memcpy(mixed, f->records, 4 * sizeof(*mixed));
	/* record 1 belongs to another network (validly signed by it) */
	memcpy(mixed[1].network_pk, f->other_pk, 32);
	member_record_sign(&mixed[1], f->other_sk);
	len = gossip_build_records(f->net_pk, mixed, 4, &first, f->buf, sizeof(f->buf));
	assert_int_equal(first, 4);
	/* record 2's signature damaged in flight: its last byte */
	off = 4 + 32 + 1;
	for (int i = 0; i < 3; i++)
		off += 2 + get_le16(f->buf + off);
	f->buf[off - 1] ^= 0x01;
	parse_ok(f, len);
	assert_int_equal(f->msg.nrecords, 2);
	assert_int_equal(f->msg.rejected, 2);
	assert_string_equal(f->msg.records[0].hostname, f->records[0].hostname);
	assert_string_equal(f->msg.records[1].hostname, f->records[3].hostname);

	/* a record that cannot be encoded at all is skipped by the builder,
	 * so that it cannot stall the caller's loop */
	memcpy(mixed, f->records, 4 * sizeof(*mixed));
	strcpy(mixed[2].hostname, "Bad");
	first = 0;
	len = gossip_build_records(f->net_pk, mixed, 4, &first, f->buf, sizeof(f->buf));
	assert_int_equal(first, 4);
	parse_ok(f, len);
	assert_int_equal(f->msg.nrecords, 3);
	assert_int_equal(f->msg.rejected, 0);
	assert_string_equal(f->msg.records[2].hostname, f->records[3].hostname);
	/* nothing valid at all: no datagram, and the loop ends */
	for (int i = 0; i < 4; i++)
		mixed[i].flags = 0x80;
	first = 0;
	assert_int_equal(gossip_build_records(f->net_pk, mixed, 4, &first, f->buf, sizeof(f->buf)),
			 0);
	assert_int_equal(first, 4);

	/* an announcement item that is garbage of the right framing */
	first = 0;
	len = gossip_build_announces(f->net_pk, f->announces, 3, &first, f->buf, sizeof(f->buf));
	f->buf[4 + 32 + 1 + 2] = 'X';
	parse_ok(f, len);
	assert_int_equal(f->msg.nannounces, 2);
	assert_int_equal(f->msg.rejected, 1);
	assert_int_equal(f->msg.announces[0].seq, 1);
	free(mixed);
}

static void test_bad_frames(void **state)
{
	struct fixture *f = *state;
	size_t first = 0, len;

	len = gossip_build_records(f->net_pk, f->records, 3, &first, f->buf, sizeof(f->buf));
	/* every truncation breaks the framing */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(gossip_parse(f->buf, n, &f->msg, NULL, 0), -EBADMSG);
	expect_reject(f, 3, "truncated: 3 bytes");
	expect_reject(f, len - 1, "RECORDS item 2 truncated");
	f->buf[len] = 0;
	expect_reject(f, len + 1, "RECORDS has 1 trailing bytes");
	f->buf[0] = 'X';
	expect_reject(f, len, "magic");
	f->buf[0] = 'M';
	f->buf[2] = 2;
	expect_reject(f, len, "version 2 is not 1");
	f->buf[2] = 1;
	f->buf[3] = 0;
	expect_reject(f, len, "type 0 is unknown");
	f->buf[3] = GOSSIP_PROBE_ACK + 1;
	expect_reject(f, len, "type 12 is unknown");
	f->buf[3] = GOSSIP_RECORDS;
	f->buf[36] = GOSSIP_MAX_ITEMS + 1;
	expect_reject(f, len, "item count 17 exceeds 16");
	f->buf[36] = 3;
	parse_ok(f, len);
	memset(f->buf + len, 0, sizeof(f->buf) - len);
	expect_reject(f, GOSSIP_MAX + 1, "datagram length 1233 exceeds 1232");
	/* a failed parse leaves no items behind */
	assert_int_equal(f->msg.nrecords, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest),		cmocka_unit_test(test_key_only),
		cmocka_unit_test(test_hostname),	cmocka_unit_test(test_ping),
		cmocka_unit_test(test_records_packing), cmocka_unit_test(test_announce_packing),
		cmocka_unit_test(test_bad_items),	cmocka_unit_test(test_bad_frames),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
