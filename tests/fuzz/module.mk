FUZZERS += $(wildcard tests/fuzz/fuzz_*.c)
