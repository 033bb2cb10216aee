#!/usr/bin/env bash
# The daemon's idle CPU with two uplinks being watched, against the issue's
# target (<= 0.5 %): two `external' uplinks over two veths, each probing one
# target every second (ICMPv6 echo, netlink link query, state update), no
# peers, no traffic, for BENCH_SECONDS (default 60). The reference is a
# second mantad without uplinks, idle over the same seconds on the same
# box, so that the prober's own share shows as the difference.
#
#   node A (mantad, 2 uplinks)  up1 <== veth ==> p1 2001:db8:ffff:1::1  (prov)
#                               up2 <== veth ==> p2 2001:db8:ffff:2::1
#   node B (mantad, none)
#
# CPU time from /proc/PID/stat (utime + stime, clock ticks) and, finer,
# /proc/PID/schedstat (ns on the CPU), over the same interval.
#
#   bench/uplink.sh        (root; `make bench' runs it)
# Environment: MANTA_BUILD (default build), BENCH_SECONDS (default 60).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench-uplink

SECONDS_RUN=${BENCH_SECONDS:-60}
(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"

new_host a
new_host b
new_host prov
for i in 1 2; do
	ip -n "${NS[a]}" link add "up$i" type veth peer name "p$i" netns "${NS[prov]}"
	ip -n "${NS[a]}" addr add "2001:db8:ffff:$i::2/64" dev "up$i" nodad
	ip -n "${NS[prov]}" addr add "2001:db8:ffff:$i::1/64" dev "p$i" nodad
	ip -n "${NS[a]}" link set "up$i" up
	ip -n "${NS[prov]}" link set "p$i" up
	wait_for 5 n a ping -6 -c1 -W1 "2001:db8:ffff:$i::1"
done

mantad_key A a 51901
mantad_config A
for i in 1 2; do
	cat >>"${CONF[A]}" <<EOF

[uplink.ext$i]
type = external
interface = up$i
health_targets = 2001:db8:ffff:$i::1
probe_interval = 1
EOF
done
mantad_key B b 51902
mantad_config B
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"

ustate() {
	n a "$MANTA" --socket "${SOCK[A]}" uplink status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
us = j if isinstance(j, list) else j.get("uplinks", list(j.values()))
print(" ".join("%s=%s" % (u["name"], u["state"]) for u in us))'
}
both_up() {
	[[ $(ustate) == "ext1=up ext2=up" ]]
}
wait_for 15 both_up
# Let start-up settle (the first handshakes of nothing, the first probes).
sleep 2

# cpu PID: "ticks ns" of CPU time so far.
cpu() {
	local st ns
	st=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	ns=$(awk '{ print $1 }' "/proc/$1/schedstat")
	echo "$st $ns"
}

pretty bench "idle CPU over ${SECONDS_RUN} s, two uplinks probing every second"
read -r a_t0 a_n0 <<<"$(cpu "${PID[A]}")"
read -r b_t0 b_n0 <<<"$(cpu "${PID[B]}")"
sent0=$(n a "$MANTA" --socket "${SOCK[A]}" uplink status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
us = j if isinstance(j, list) else j.get("uplinks", list(j.values()))
print(sum(u["probes_sent"] for u in us))')
t0=$(now_us)
sleep "$SECONDS_RUN"
read -r a_t1 a_n1 <<<"$(cpu "${PID[A]}")"
read -r b_t1 b_n1 <<<"$(cpu "${PID[B]}")"
t1=$(now_us)
read -r sent1 states <<<"$(n a "$MANTA" --socket "${SOCK[A]}" uplink status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
us = j if isinstance(j, list) else j.get("uplinks", list(j.values()))
print(sum(u["probes_sent"] for u in us), ",".join(u["state"] for u in us))')"

hz=$(getconf CLK_TCK)
awk -v us=$((t1 - t0)) -v hz="$hz" -v at=$((a_t1 - a_t0)) -v an=$((a_n1 - a_n0)) \
	-v bt=$((b_t1 - b_t0)) -v bn=$((b_n1 - b_n0)) -v probes=$((sent1 - sent0)) \
	-v states="$states" 'BEGIN {
	s = us / 1e6
	a_stat = at / hz / s * 100; a_ns = an / 1e9 / s * 100
	b_stat = bt / hz / s * 100; b_ns = bn / 1e9 / s * 100
	printf "\n  %-34s %14s %16s\n", "mantad, idle, over " sprintf("%.1f", s) " s", "CPU (stat)", "CPU (schedstat)"
	printf "  %-34s %13.3f%% %15.3f%%\n", "two uplinks probing (" probes " probes)", a_stat, a_ns
	printf "  %-34s %13.3f%% %15.3f%%\n", "no uplinks (reference)", b_stat, b_ns
	printf "  %-34s %14s %15.3f%%\n", "difference: the probing", "", a_ns - b_ns
	printf "  %-34s %14s %16s\n", "per probe", "", sprintf("%.1f us", probes ? (an - bn) / probes / 1000 : 0)
	printf "\n  target <= 0.5 %%: %s (states at the end: %s)\n\n", (a_stat <= 0.5 && a_ns <= 0.5) ? "yes" : "NO", states
}'
stop_mantad A >/dev/null
stop_mantad B >/dev/null
