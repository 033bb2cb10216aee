#!/usr/bin/env bash
# Throughput across a narrow link: mantad A and B behind two routers whose
# link has MTU 1500, 1300, then 1200 (IPv4 underlay), iperf3 TCP over the
# tunnel with IPv4 and IPv6 inside, and each figure's ratio to the same
# transfer at 1500. The issue asks for at least 0.8; this script fails when
# a ratio is below BENCH_PMTU_MIN (default 0.8). Each ratio is the median,
# over BENCH_PMTU_RUNS rounds that interleave the MTUs, of a run against
# the same round's MTU 1500 run, because one run on a 2-core machine swings
# by more than the 20% being checked.
# tests/e2e/t_pmtu_speed.sh runs this with short runs in `make check`.
#
#   a: mantad A, iperf3 -c -- r1 == narrow link == r2 -- b: mantad B, iperf3 -s
#
# At 1300 the largest inner packet is 1232 (IPv4 TCP learns it from the
# ICMP error mantad writes into the TUN); IPv6 keeps 1280-byte packets
# (the IPv6 minimum), so their outer packets travel in two fragments.
#
#   bench/pmtu.sh        (root; make bench builds first)
# Environment: MANTA_BUILD (default build), BENCH_SECONDS (per iperf3 run,
# default 5), BENCH_PMTU_RUNS (default 3), BENCH_PMTU_MIN (default 0.8).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench-pmtu

SECS=${BENCH_SECONDS:-5}
RUNS=${BENCH_PMTU_RUNS:-3}
MIN=${BENCH_PMTU_MIN:-0.8}
IPERF_PORT=5201

(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"

topo_narrow a b
mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A
for x in A B; do
	printf '\n[testing]\npmtu_probe_timeout = 0.3\npmtu_raise_interval = 3\n' >>"${CONF[$x]}"
done
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
ip netns exec "${NS[b]}" iperf3 -s -p $IPERF_PORT >"$TMP/iperf3-server.log" 2>&1 &
BGPIDS+=("$!")
wait_for 5 eval "n b ss -Hltn 'sport = :$IPERF_PORT' | grep LISTEN"
n a ping -c 1 -W 5 "${V4[B]}" >/dev/null

# mbit ADDRESS: Mbit/s of one one-stream iperf3 run.
mbit() {
	n a iperf3 -c "$1" -p $IPERF_PORT -t "$SECS" -J | python3 -c '
import json, sys
r = json.load(sys.stdin)
if "error" in r:
    sys.exit("iperf3: " + r["error"])
print("%.0f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# The runs interleave the MTUs (1500, 1300, 1200, 1500, ...), and each
# narrow-link run is compared with the 1500 run of its own round: a slow
# spell then hits both sides of a ratio instead of one. The figure is the
# median of those paired ratios, so that one lucky or unlucky run, on
# either side, cannot decide it.
declare -A MBIT=()
for ((round = 1; round <= RUNS; round++)); do
	for mtu in 1500 1300 1200; do
		narrow "$mtu" >/dev/null
		want=$((60 + (mtu - 60) / 16 * 16))
		((want > 1340)) && want=1340
		wait_for 20 json_true A "peer('B')['path_mtu'] == $want and peer('B')['probe_state'] == 'search_complete'"
		for fam in 4 6; do
			[[ $fam == 4 ]] && addr=${V4[B]} || addr=${V6[B]}
			MBIT[$round,$mtu,$fam]=$(mbit "$addr")
			say "round $round, link MTU $mtu, IPv$fam inner: ${MBIT[$round,$mtu,$fam]} Mbit/s"
		done
	done
done

# median V...: the median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bad=0
printf '\n| link MTU | path_mtu | max_inner | IPv4 inner Mbit/s (median) | ratio | IPv6 inner Mbit/s (median) | ratio |\n'
printf '|---|---|---|---|---|---|---|\n'
for mtu in 1500 1300 1200; do
	want=$((60 + (mtu - 60) / 16 * 16))
	((want > 1340)) && want=1340
	row="| $mtu | $want | $((want - 60))"
	for fam in 4 6; do
		speeds=() ratios=()
		for ((round = 1; round <= RUNS; round++)); do
			speeds+=("${MBIT[$round,$mtu,$fam]}")
			ratios+=("$(awk -v a="${MBIT[$round,$mtu,$fam]}" -v b="${MBIT[$round,1500,$fam]}" 'BEGIN { printf "%.3f", a / b }')")
		done
		ratio=$(median "${ratios[@]}")
		awk -v r="$ratio" -v m="$MIN" 'BEGIN { exit !(r < m) }' && bad=$((bad + 1))
		row+=" | $(median "${speeds[@]}") | $ratio"
	done
	printf '%s |\n' "$row"
done
say "$(json_get A "'A->B: tx_fragmented %d, mss_clamped %d, ptb_sent %d' % (peer('B')['tx_fragmented'], peer('B')['mss_clamped'], peer('B')['ptb_sent'])")"
say "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)"
stop_mantad A
stop_mantad B
((bad == 0)) || fail "$bad figure(s) below $MIN of the same transfer at MTU 1500"
pretty bench-pmtu "every figure within $(awk -v m="$MIN" 'BEGIN { printf "%.0f", (1 - m) * 100 }')% of MTU 1500"
