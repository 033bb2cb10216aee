/* An uplink's health (uplink/health.c), without sockets: the window, the
 * median and loss, the state machine and its on_change calls, and the
 * echo requests and replies (uplink/health_echo.h) on crafted ICMPv6
 * messages: a reply counts only with the prober's identifier, a pending
 * sequence number and that probe's target as its source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "common/bytes.h"
#include "uplink/health.h"
#include "uplink/health_echo.h"

#define MS 1000000ull

struct changes {
	unsigned calls;
	enum health_state old[32];
};

static void on_change(struct health *h, enum health_state old, void *ctx)
{
	struct changes *c = ctx;

	assert_int_not_equal(old, h->state);
	if (c->calls < 32)
		c->old[c->calls] = old;
	c->calls++;
}

/* A prober with ntargets targets (2001:db8:ffff::1, ::2, ...), its link up,
 * counting its state changes into c. */
static void setup(struct health *h, struct changes *c, size_t ntargets)
{
	memset(h, 0, sizeof(*h));
	memset(c, 0, sizeof(*c));
	h->on_change = on_change;
	h->ctx = c;
	health_reset(h);
	h->cfg.ntargets = ntargets;
	for (size_t i = 0; i < ntargets; i++) {
		char text[32];

		snprintf(text, sizeof(text), "2001:db8:ffff::%zu", i + 1);
		assert_int_equal(inet_pton(AF_INET6, text, &h->cfg.targets[i]), 1);
	}
	h->ident = 0x4d48;
	h->seq = 100;
	health_record_link(h, true, true, 0, 0);
}

static void reply(struct health *h, uint64_t rtt_ns)
{
	health_record_reply(h, rtt_ns);
	health_update(h);
}

static void loss(struct health *h)
{
	health_record_loss(h);
	health_update(h);
}

/* --- the window, median and loss -------------------------------------- */

static void test_window_ring(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 1);
	for (unsigned i = 1; i <= 25; i++)
		health_record_reply(&h, i * MS);
	/* The last 20: 6..25 ms, median (15 + 16) / 2. */
	assert_int_equal(h.nsamples, HEALTH_WINDOW);
	assert_int_equal(h.replies, 25);
	assert_int_equal(health_median_rtt(&h), 15 * MS + MS / 2);
	/* 20 losses push every answer out. */
	for (unsigned i = 0; i < 20; i++)
		health_record_loss(&h);
	assert_int_equal(health_median_rtt(&h), 0);
	assert_true(health_loss(&h) == 1.0);
	assert_int_equal(h.consecutive_lost, 20);
}

static void test_median(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 1);
	assert_int_equal(health_median_rtt(&h), 0); /* nothing yet */
	/* odd: 5, 1, 3 -> 3 */
	health_record_reply(&h, 5 * MS);
	health_record_reply(&h, 1 * MS);
	health_record_reply(&h, 3 * MS);
	assert_int_equal(health_median_rtt(&h), 3 * MS);
	/* even: + 10 -> (3 + 5) / 2 */
	health_record_reply(&h, 10 * MS);
	assert_int_equal(health_median_rtt(&h), 4 * MS);
	/* lost samples do not count as 0 ms: still (3 + 5) / 2 */
	health_record_loss(&h);
	health_record_loss(&h);
	assert_int_equal(health_median_rtt(&h), 4 * MS);
	/* even, near the top of the range: no overflow in the mean */
	setup(&h, &c, 1);
	health_record_reply(&h, UINT64_MAX - 1);
	health_record_reply(&h, UINT64_MAX - 3);
	assert_true(health_median_rtt(&h) == UINT64_MAX - 2);
}

static void test_loss(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 1);
	assert_true(health_loss(&h) == 0.0);
	health_record_reply(&h, MS);
	health_record_loss(&h);
	health_record_reply(&h, MS);
	health_record_reply(&h, MS);
	assert_true(health_loss(&h) == 0.25);
	assert_int_equal(h.consecutive_lost, 0);
	for (unsigned i = 0; i < 20; i++)
		health_record_reply(&h, MS);
	assert_true(health_loss(&h) == 0.0);
}

/* --- the state -------------------------------------------------------- */

static void test_down_after_consecutive_losses(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 1);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_DOWN); /* no answer yet */
	assert_int_equal(c.calls, 0);
	for (unsigned i = 0; i < HEALTH_WINDOW; i++)
		reply(&h, 2 * MS);
	assert_int_equal(h.state, HEALTH_UP);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.old[0], HEALTH_DOWN);
	/* 1 and 2 losses of 20: 5 and 10 %, still up */
	loss(&h);
	loss(&h);
	assert_int_equal(h.state, HEALTH_UP);
	assert_int_equal(c.calls, 1);
	/* the third in a row: down, although only 15 % of the window */
	loss(&h);
	assert_true(health_loss(&h) < HEALTH_DEGRADED_LOSS);
	assert_int_equal(h.state, HEALTH_DOWN);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.old[1], HEALTH_UP);
	/* one answer: up again, the outage's three losses out of the window
	 * (down time is not loss) */
	reply(&h, 2 * MS);
	assert_int_equal(h.state, HEALTH_UP);
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.old[2], HEALTH_DOWN);
	assert_int_equal(h.nsamples, HEALTH_WINDOW - 2);
	assert_true(health_loss(&h) == 0.0);
	assert_int_equal(h.replies, HEALTH_WINDOW + 1);
	/* two losses in a row are not an outage: they stay */
	loss(&h);
	loss(&h);
	reply(&h, 2 * MS);
	assert_int_equal(h.nsamples, HEALTH_WINDOW);
	assert_true(health_loss(&h) == 0.1);
	assert_int_equal(h.state, HEALTH_UP);
}

static void test_outage_across_the_ring(void **state)
{
	struct health h;
	struct changes c;

	/* A long outage: more losses than the window holds, the ring wrapped
	 * several times; one answer leaves a window of just that answer. */
	setup(&h, &c, 1);
	for (unsigned i = 0; i < 7; i++)
		reply(&h, 3 * MS);
	for (unsigned i = 0; i < 45; i++)
		loss(&h);
	assert_int_equal(h.state, HEALTH_DOWN);
	reply(&h, 5 * MS);
	assert_int_equal(h.nsamples, 1);
	assert_int_equal(health_median_rtt(&h), 5 * MS);
	assert_int_equal(h.state, HEALTH_UP);
	for (unsigned i = 0; i < 30; i++)
		reply(&h, 1 * MS);
	assert_int_equal(h.nsamples, HEALTH_WINDOW);
	assert_int_equal(health_median_rtt(&h), 1 * MS);
	/* a short outage in the middle of a wrapped ring */
	for (unsigned i = 0; i < 4; i++)
		loss(&h);
	reply(&h, 1 * MS);
	assert_int_equal(h.nsamples, HEALTH_WINDOW - 3);
	assert_true(health_loss(&h) == 0.0);
}

/* The window against a deliberately naive reference: a plain array of
 * every sample kept in order, trimmed from the front, the outage rule
 * applied by scanning back from the end. 20,000 random replies and
 * losses (with long runs of losses), median and loss compared after each. */
static void test_window_differential(void **state)
{
	static struct health_sample ref[64];
	struct health h;
	struct changes c;
	size_t n = 0;
	uint32_t seed = 12345;

	setup(&h, &c, 1);
	for (unsigned step = 0; step < 20000; step++) {
		bool lost;
		uint64_t rtt, want_median = 0, sorted[HEALTH_WINDOW];
		size_t answered = 0, lost_count = 0, run = 0;

		seed = seed * 1103515245 + 12345;
		/* bursts: a long stretch of losses now and then */
		lost = (seed >> 16) % 100 < ((step / 200) % 3 == 0 ? 90 : 15);
		rtt = 1 + (seed >> 8) % 5000;
		if (lost) {
			health_record_loss(&h);
			ref[n++] = (struct health_sample){ .lost = true };
		} else {
			health_record_reply(&h, rtt);
			while (run < n && ref[n - 1 - run].lost)
				run++;
			if (run >= HEALTH_DOWN_AFTER)
				n -= run;
			ref[n++] = (struct health_sample){ .rtt_ns = rtt };
		}
		if (n > HEALTH_WINDOW) {
			memmove(ref, ref + 1, (n - 1) * sizeof(ref[0]));
			n--;
		}
		for (size_t i = 0; i < n; i++) {
			if (ref[i].lost) {
				lost_count++;
				continue;
			}
			/* insertion sort, the naive way */
			size_t j = answered++;
			while (j > 0 && sorted[j - 1] > ref[i].rtt_ns) {
				sorted[j] = sorted[j - 1];
				j--;
			}
			sorted[j] = ref[i].rtt_ns;
		}
		if (answered)
			want_median = answered % 2 ?
					      sorted[answered / 2] :
					      (sorted[answered / 2 - 1] + sorted[answered / 2]) / 2;
		assert_int_equal(h.nsamples, n);
		assert_int_equal(health_median_rtt(&h), want_median);
		assert_true(health_loss(&h) == (n ? (double)lost_count / (double)n : 0.0));
	}
}

static void test_degraded(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 1);
	for (unsigned i = 0; i < HEALTH_WINDOW; i++)
		reply(&h, MS);
	assert_int_equal(h.state, HEALTH_UP);
	/* one loss in five: 20 % once the window is full of that pattern */
	for (unsigned i = 0; i < 4; i++) {
		loss(&h);
		for (unsigned j = 0; j < 4; j++)
			reply(&h, MS);
	}
	assert_true(health_loss(&h) == 0.2);
	assert_int_equal(h.state, HEALTH_DEGRADED);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.old[1], HEALTH_UP);
	/* answers push the losses out: up below 20 % */
	reply(&h, MS);
	assert_true(health_loss(&h) < 0.2);
	assert_int_equal(h.state, HEALTH_UP);
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.old[2], HEALTH_DEGRADED);
}

static void test_first_losses_are_down(void **state)
{
	struct health h;
	struct changes c;

	/* A target unreachable from the start: down, never degraded on the
	 * way (every probe so far lost). */
	setup(&h, &c, 1);
	health_update(&h);
	loss(&h);
	loss(&h);
	assert_int_equal(h.state, HEALTH_DOWN);
	assert_int_equal(c.calls, 0);
	/* one answer among two losses: degraded (67 % lost) */
	reply(&h, MS);
	assert_int_equal(h.state, HEALTH_DEGRADED);
	assert_int_equal(c.calls, 1);
}

static void test_link(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 1);
	for (unsigned i = 0; i < 5; i++)
		reply(&h, MS);
	assert_int_equal(h.state, HEALTH_UP);
	/* the interface disappears: down at once, counters kept */
	health_record_link(&h, true, true, 1000, 2000);
	health_record_link(&h, false, false, 0, 0);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_DOWN);
	assert_int_equal(h.rx_bytes, 1000);
	assert_int_equal(h.tx_bytes, 2000);
	assert_int_equal(c.calls, 2);
	/* back, but not running (no carrier): still down, no call */
	health_record_link(&h, true, false, 1000, 2000);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_DOWN);
	assert_int_equal(c.calls, 2);
	/* running: up from the window */
	health_record_link(&h, true, true, 1500, 2500);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_UP);
	assert_int_equal(h.rx_bytes, 1500);
	assert_int_equal(c.calls, 3);
}

static void test_no_targets(void **state)
{
	struct health h;
	struct changes c;

	setup(&h, &c, 0);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_UP);
	health_record_link(&h, true, false, 0, 0);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_DOWN);
	health_record_link(&h, false, true, 0, 0);
	health_update(&h);
	assert_int_equal(h.state, HEALTH_DOWN);
	assert_false(h.link_up); /* a missing link is never up */
	health_record_link(&h, true, true, 0, 0);
	health_update(&h);
	health_update(&h); /* no change, no call */
	assert_int_equal(h.state, HEALTH_UP);
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.old[0], HEALTH_DOWN);
	assert_int_equal(c.old[1], HEALTH_UP);
	assert_int_equal(c.old[2], HEALTH_DOWN);
}

static void test_json(void **state)
{
	struct health h;
	struct changes c;
	json_t *o = json_object();

	setup(&h, &c, 2);
	h.last_check = 1700000000;
	health_json(&h, o);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "down");
	assert_string_equal(json_string_value(json_object_get(o, "link")), "up");
	assert_true(json_is_null(json_object_get(o, "latency_ms")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "targets"), 1)),
			    "2001:db8:ffff::2");
	assert_int_equal(json_integer_value(json_object_get(o, "last_check")), 1700000000);
	reply(&h, 1500000); /* 1.5 ms */
	loss(&h);
	health_record_link(&h, false, false, 0, 0);
	health_json(&h, o);
	assert_true(json_real_value(json_object_get(o, "latency_ms")) == 1.5);
	assert_true(json_real_value(json_object_get(o, "loss")) == 0.5);
	assert_string_equal(json_string_value(json_object_get(o, "link")), "missing");
	assert_int_equal(json_integer_value(json_object_get(o, "replies")), 1);
	json_decref(o);
}

/* --- echo requests and replies ------------------------------------------ */

/* An echo reply as the kernel hands it to an ICMPv6 socket. */
static size_t echo_reply(uint8_t *buf, uint16_t ident, uint16_t seq)
{
	memset(buf, 0, HEALTH_ECHO_LEN);
	buf[0] = 129;
	put_be16(buf + 2, 0xbeef); /* the kernel checked it */
	put_be16(buf + 4, ident);
	put_be16(buf + 6, seq);
	memcpy(buf + 8, "mantahc", 8);
	return HEALTH_ECHO_LEN;
}

static void test_echo_build(void **state)
{
	struct health h;
	struct changes c;
	uint8_t req[HEALTH_ECHO_LEN];
	uint16_t seq;

	setup(&h, &c, 2);
	seq = health_echo_build(&h, 1, 5 * MS, req);
	assert_int_equal(seq, 100);
	assert_int_equal(h.seq, 101);
	assert_int_equal(h.probes_sent, 1);
	assert_int_equal(req[0], 128);
	assert_int_equal(req[1], 0);
	assert_int_equal(get_be16(req + 4), 0x4d48);
	assert_int_equal(get_be16(req + 6), 100);
	assert_memory_equal(req + 8, "mantahc", 8);
	assert_true(h.pending[0].used);
	assert_int_equal(h.pending[0].target, 1);
	assert_int_equal(h.pending[0].sent_ns, 5 * MS);
}

static void test_echo_match(void **state)
{
	struct health h;
	struct changes c;
	uint8_t req[HEALTH_ECHO_LEN], rep[64];
	struct in6_addr stranger;
	uint16_t s1, s2;
	size_t n;

	setup(&h, &c, 2);
	inet_pton(AF_INET6, "2001:db8:ffff::99", &stranger);
	s1 = health_echo_build(&h, 0, 10 * MS, req);
	s2 = health_echo_build(&h, 1, 10 * MS, req);
	/* 1. wrong identifier (another prober's, or ping's) */
	n = echo_reply(rep, 0x4d49, s1);
	assert_false(health_echo_reply(&h, rep, n, &h.cfg.targets[0], 12 * MS));
	/* 2. wrong sequence number */
	n = echo_reply(rep, 0x4d48, (uint16_t)(s2 + 1));
	assert_false(health_echo_reply(&h, rep, n, &h.cfg.targets[0], 12 * MS));
	/* 3. from a stranger, and from the other target */
	n = echo_reply(rep, 0x4d48, s1);
	assert_false(health_echo_reply(&h, rep, n, &stranger, 12 * MS));
	assert_false(health_echo_reply(&h, rep, n, &h.cfg.targets[1], 12 * MS));
	/* 4. truncated: 7 bytes of header */
	assert_false(health_echo_reply(&h, rep, 7, &h.cfg.targets[0], 12 * MS));
	/* 5. an echo request (ours, looped back) and a non-zero code */
	rep[0] = 128;
	assert_false(health_echo_reply(&h, rep, n, &h.cfg.targets[0], 12 * MS));
	rep[0] = 129;
	rep[1] = 1;
	assert_false(health_echo_reply(&h, rep, n, &h.cfg.targets[0], 12 * MS));
	rep[1] = 0;
	assert_int_equal(h.nsamples, 0);
	assert_int_equal(h.replies, 0);
	/* 6. the right one: 2 ms; header only is enough */
	assert_true(health_echo_reply(&h, rep, 8, &h.cfg.targets[0], 12 * MS));
	assert_int_equal(h.replies, 1);
	assert_int_equal(health_median_rtt(&h), 2 * MS);
	/* 7. the same again (a duplicate): ignored */
	assert_false(health_echo_reply(&h, rep, n, &h.cfg.targets[0], 13 * MS));
	assert_int_equal(h.nsamples, 1);
	/* 8. the second target's, 4 ms */
	n = echo_reply(rep, 0x4d48, s2);
	assert_true(health_echo_reply(&h, rep, n, &h.cfg.targets[1], 14 * MS));
	assert_int_equal(health_median_rtt(&h), 3 * MS);
	assert_int_equal(h.replies, 2);
}

static void test_echo_timeout(void **state)
{
	struct health h;
	struct changes c;
	uint8_t req[HEALTH_ECHO_LEN], rep[HEALTH_ECHO_LEN];
	uint16_t s1, s2, s3;

	setup(&h, &c, 1);
	h.cfg.interval_ns = 1000 * MS;
	s1 = health_echo_build(&h, 0, 0, req);
	s2 = health_echo_build(&h, 0, 600 * MS, req);
	/* at 1 s less the slack, the first has timed out, not the second */
	health_echo_expire(&h, 990 * MS, 50 * MS);
	assert_int_equal(h.nsamples, 1);
	assert_true(h.window[0].lost);
	echo_reply(rep, 0x4d48, s1);
	assert_false(health_echo_reply(&h, rep, sizeof(rep), &h.cfg.targets[0], 995 * MS));
	/* the second answered after its timeout: matched, but lost */
	echo_reply(rep, 0x4d48, s2);
	assert_true(health_echo_reply(&h, rep, sizeof(rep), &h.cfg.targets[0], 1700 * MS));
	assert_int_equal(h.replies, 0);
	assert_int_equal(h.consecutive_lost, 2);
	/* a send that failed */
	s3 = health_echo_build(&h, 0, 2000 * MS, req);
	health_echo_unsent(&h, s3);
	assert_int_equal(h.consecutive_lost, 3);
	assert_false(h.pending[0].used || h.pending[1].used || h.pending[2].used);
	/* every slot taken: the oldest makes room, lost */
	for (unsigned i = 0; i < ARRAY_SIZE(h.pending) + 1; i++)
		health_echo_build(&h, 0, (3000 + i) * MS, req);
	assert_int_equal(h.consecutive_lost, 4);
	health_echo_clear(&h);
	for (unsigned i = 0; i < ARRAY_SIZE(h.pending); i++)
		assert_false(h.pending[i].used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_ring),
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_down_after_consecutive_losses),
		cmocka_unit_test(test_outage_across_the_ring),
		cmocka_unit_test(test_window_differential),
		cmocka_unit_test(test_degraded),
		cmocka_unit_test(test_first_losses_are_down),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_no_targets),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_echo_build),
		cmocka_unit_test(test_echo_match),
		cmocka_unit_test(test_echo_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
