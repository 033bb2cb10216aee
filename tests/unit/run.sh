#!/usr/bin/env bash
# Runs every cmocka test binary given, prints each one's result and a total
# line `N passed, N failed`; exits non-zero if any failed.
set -u
passed=0
failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	if ((rc == 0)); then
		passed=$((passed + ${n:-1}))
		printf 'PASS %-28s %s tests\n' "$(basename "$t")" "${n:-?}"
	else
		f=$(printf '%s\n' "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		failed=$((failed + ${f:-1}))
		passed=$((passed + ${n:-0}))
		printf 'FAIL %s\n' "$(basename "$t")"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
done
echo "unit: $passed passed, $failed failed"
((failed == 0))
