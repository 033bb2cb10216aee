/* parse_decimal: digits only, the limit checked as the digits come. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "common/decimal.h"

static void test_accepts(void **state)
{
	unsigned long v = 99;

	assert_true(parse_decimal("0", 10, &v));
	assert_int_equal(v, 0);
	assert_true(parse_decimal("65535", 65535, &v));
	assert_int_equal(v, 65535);
	assert_true(parse_decimal("007", 7, &v));
	assert_int_equal(v, 7);
}

static void test_refuses(void **state)
{
	static const char *const bad[] = { "",	  " 1",	   "1 ",
					   "+1",  "-1",	   "0x10",
					   "1.5", "65536", "99999999999999999999999999" };
	unsigned long v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(parse_decimal(bad[i], 65535, &v));
		assert_int_equal(v, 42); /* untouched */
	}
	/* No wrap-around near the top of the type. */
	assert_false(parse_decimal("18446744073709551616", ULONG_MAX - 1, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
