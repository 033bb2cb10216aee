#!/usr/bin/env bash
# Runs the end-to-end scenarios, each in its own bash process under a time
# limit, and prints PASS/FAIL per scenario with its time, a failed scenario's
# whole output, and last a line `N passed, N failed`. Exits non-zero if any
# failed.
#
#   tests/e2e/run.sh [t_NAME ...]     default: every tests/e2e/t_*.sh
#
# Environment: MANTA_BUILD (build directory, default build), E2E_TIMEOUT
# (seconds per scenario, default 180), and whatever lib.sh reads (KEEP,
# VERBOSE). Needs root: the scenarios create network namespaces.
set -u
cd "$(dirname "$0")" || exit 1
TIMEOUT=${E2E_TIMEOUT:-180}
export MANTA_BUILD=${MANTA_BUILD:-build}

if (($(id -u) != 0)); then
	echo "e2e: the scenarios create network namespaces and need root (sudo make check-e2e)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

scenarios=()
if (($#)); then
	for a in "$@"; do
		a=$(basename "${a%.sh}")
		[[ -f $a.sh ]] || { echo "e2e: no scenario $a.sh" >&2; exit 2; }
		scenarios+=("$a.sh")
	done
else
	scenarios=(t_*.sh)
fi

# A scenario killed by the timeout may not have run its own cleanup: remove
# whatever carries its run id.
sweep() {
	local run=$1 ns
	for ns in $(ip netns list 2>/dev/null | awk -v p="manta-$run-" 'index($1, p) == 1 { print $1 }'); do
		# shellcheck disable=SC2046
		kill -KILL $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	rm -rf /tmp/manta-e2e."$run".*
}

passed=0
failed=0
i=0
out=$(mktemp /tmp/manta-e2e-out.XXXXXX)
trap 'rm -f "$out"' EXIT
for t in "${scenarios[@]}"; do
	i=$((i + 1))
	name=${t%.sh}
	run=$$r$i
	start=${EPOCHREALTIME/[.,]/}
	MANTA_RUN_ID=$run timeout -k 20 "$TIMEOUT" bash "$t" >"$out" 2>&1 </dev/null
	rc=$?
	end=${EPOCHREALTIME/[.,]/}
	secs=$(awk -v us=$((end - start)) 'BEGIN { printf "%.1f", us / 1e6 }')
	if ((rc == 0)); then
		passed=$((passed + 1))
		printf 'PASS %-20s %6ss\n' "$name" "$secs"
	else
		failed=$((failed + 1))
		why="exit $rc"
		((rc == 124 || rc == 137)) && why="timed out after ${TIMEOUT}s"
		printf 'FAIL %-20s %6ss  (%s)\n' "$name" "$secs" "$why"
		sed 's/^/    | /' "$out"
	fi
	sweep "$run"
done
echo "$passed passed, $failed failed"
((failed == 0))
