/* The replay window against the table of WireGuard's selftest/counter.c
 * (the same table wireguard-go's replay_test.go ports), plus a randomized
 * differential test against a naive set of seen counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/messages.h"
#include "mesh/replay.h"

#define T_LIM (REPLAY_WINDOW_SIZE + 1)
#define LIMIT REJECT_AFTER_MESSAGES

static struct replay_filter f;
static int test_num;

#define T_INIT() replay_init(&f)
#define T(n, v)                                                                        \
	do {                                                                           \
		test_num++;                                                            \
		if (replay_check(&f, (n), LIMIT) != (v))                               \
			fail_msg("replay test %d: counter %llu expected %s", test_num, \
				 (unsigned long long)(n), (v) ? "accept" : "reject");  \
	} while (0)

static void test_table(void **state)
{
	test_num = 0;
	T_INIT();
	/*  1 */ T(0, true);
	/*  2 */ T(1, true);
	/*  3 */ T(1, false);
	/*  4 */ T(9, true);
	/*  5 */ T(8, true);
	/*  6 */ T(7, true);
	/*  7 */ T(7, false);
	/*  8 */ T(T_LIM, true);
	/*  9 */ T(T_LIM - 1, true);
	/* 10 */ T(T_LIM - 1, false);
	/* 11 */ T(T_LIM - 2, true);
	/* 12 */ T(2, true);
	/* 13 */ T(2, false);
	/* 14 */ T(T_LIM + 16, true);
	/* 15 */ T(3, false);
	/* 16 */ T(T_LIM + 16, false);
	/* 17 */ T(T_LIM * 4, true);
	/* 18 */ T(T_LIM * 4 - (T_LIM - 1), true);
	/* 19 */ T(10, false);
	/* 20 */ T(T_LIM * 4 - T_LIM, false);
	/* 21 */ T(T_LIM * 4 - (T_LIM + 1), false);
	/* 22 */ T(T_LIM * 4 - (T_LIM - 2), true);
	/* 23 */ T(T_LIM * 4 + 1 - T_LIM, false);
	/* 24 */ T(0, false);
	/* 25 */ T(LIMIT, false);
	/* 26 */ T(LIMIT - 1, true);
	/* 27 */ T(LIMIT, false);
	/* 28 */ T(LIMIT - 1, false);
	/* 29 */ T(LIMIT - 2, true);
	/* 30 */ T(LIMIT + 1, false);
	/* 31 */ T(LIMIT + 2, false);
	/* 32 */ T(LIMIT - 2, false);
	/* 33 */ T(LIMIT - 3, true);
	/* 34 */ T(0, false);
}

static void test_window_edges(void **state)
{
	T_INIT();
	for (uint64_t i = 1; i <= REPLAY_WINDOW_SIZE; i++)
		T(i, true);
	T(0, true);
	T(0, false);

	T_INIT();
	for (uint64_t i = 2; i <= REPLAY_WINDOW_SIZE + 1; i++)
		T(i, true);
	T(1, true);
	T(0, false);

	T_INIT();
	for (uint64_t i = REPLAY_WINDOW_SIZE + 1; i-- > 0;)
		T(i, true);

	T_INIT();
	for (uint64_t i = REPLAY_WINDOW_SIZE + 2; i-- > 1;)
		T(i, true);
	T(0, false);

	T_INIT();
	for (uint64_t i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(REPLAY_WINDOW_SIZE + 1, true);
	T(0, false);

	T_INIT();
	for (uint64_t i = REPLAY_WINDOW_SIZE + 1; i-- > 1;)
		T(i, true);
	T(0, true);
	T(REPLAY_WINDOW_SIZE + 1, true);
}

/* Naive reference: accept iff unseen and not more than the window below the
 * highest counter accepted so far. */
static void test_differential(void **state)
{
	enum { SPAN = 2000000, ROUNDS = 300000 };
	uint8_t *seen = calloc(SPAN, 1);
	uint64_t max = 0;

	assert_non_null(seen);
	srand(1234);
	T_INIT();
	for (int r = 0; r < ROUNDS; r++) {
		int64_t delta = rand() % 80 - 16;

		if (rand() % 4 == 0)
			delta = -(rand() % 9000);
		int64_t v = (int64_t)max + delta;
		uint64_t c = v < 0 ? 0 : (uint64_t)v;

		if (c >= SPAN)
			break;
		bool expect = !seen[c] && (c > max || max - c <= REPLAY_WINDOW_SIZE);

		assert_int_equal(replay_check(&f, c, LIMIT), expect);
		if (expect) {
			seen[c] = 1;
			if (c > max)
				max = c;
		}
	}
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_differential),
	};
	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
