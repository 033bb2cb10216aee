UNIT_TESTS += $(wildcard tests/unit/test_*.c)
