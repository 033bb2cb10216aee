#!/usr/bin/env bash
# Runs each libFuzzer harness for a bounded time from its seed corpus
# (tests/fuzz/seeds/NAME, copied so the repository is not written to).
# Any crash, leak or sanitizer report fails the run.
set -u
seconds=$1
shift
failed=0
passed=0
here=$(cd "$(dirname "$0")" && pwd)
for f in "$@"; do
	name=$(basename "$f")
	corpus=$(mktemp -d)
	[ -d "$here/seeds/$name" ] && cp -r "$here/seeds/$name/." "$corpus/"
	log=$(mktemp)
	if "$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$corpus/" "$corpus" >"$log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1)
		printf 'PASS %-20s %s in %ss\n' "$name" "${runs:-?}" "$seconds"
		passed=$((passed + 1))
	else
		printf 'FAIL %s\n' "$name"
		tail -40 "$log" | sed 's/^/    /'
		ls "$corpus"/crash-* "$corpus"/leak-* 2>/dev/null | sed 's/^/    artifact: /'
		failed=$((failed + 1))
	fi
	rm -rf "$corpus" "$log"
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
