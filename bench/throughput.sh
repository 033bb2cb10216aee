#!/usr/bin/env bash
# Throughput and latency of mantad against references measured in the same
# run: the raw veth and wireguard-go <-> wireguard-go. Prints a table with
# iperf3 TCP (1 and 4 streams) and ping RTT per path and the ratios to
# wireguard-go and to the raw veth, then mantad's idle RSS with 10 peers.
#
#   ┌───────── a ──────────┐              ┌───────── b ──────────┐
#   │ iperf3 -c, ping      │     veth     │ iperf3 -s            │
#   │ eth0 10.0.0.1        ├──────────────┤ eth0 10.0.0.2        │
#   │ wireguard-go / mantad│              │ wireguard-go / mantad│
#   └──────────────────────┘              └──────────────────────┘
#
# Both tunnels run at MTU 1280 (mantad's fixed TUN MTU; wireguard-go set to
# the same for fairness, its default being 1420) and carry IPv4 inside.
#
#   bench/throughput.sh        (root; make bench builds first)
# Environment: MANTA_BUILD (default build), BENCH_SECONDS (per iperf3 run,
# default 10), BENCH_PINGS (default 20).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench

SECS=${BENCH_SECONDS:-10}
PINGS=${BENCH_PINGS:-20}
IPERF_PORT=5201

(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"

topo_pair a b
ip netns exec "${NS[b]}" iperf3 -s -p $IPERF_PORT >"$TMP/iperf3-server.log" 2>&1 &
BGPIDS+=("$!")
wait_for 5 eval "n b ss -Hltn 'sport = :$IPERF_PORT' | grep LISTEN"

declare -A MB1=() MB4=() RTT=()
rows=()

# iperf STREAMS ADDRESS: Mbit/s received over a SECS-second run.
iperf() {
	n a iperf3 -c "$2" -p $IPERF_PORT -t "$SECS" -P "$1" -J | python3 -c '
import json, sys
r = json.load(sys.stdin)
if "error" in r:
    sys.exit("iperf3: " + r["error"])
print("%.0f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# measure ROW ADDRESS: fill MB1, MB4 and RTT for one path.
measure() {
	local row=$1 addr=$2 out
	pretty bench "$row: ping and iperf3 to $addr"
	n a ping -c 1 -W 5 "$addr" >/dev/null # the tunnels' handshake
	out=$(n a ping -c "$PINGS" -i 0.05 "$addr")
	RTT[$row]=$(ping_avg "$out")
	MB1[$row]=$(iperf 1 "$addr")
	MB4[$row]=$(iperf 4 "$addr")
	rows+=("$row")
	say "${MB1[$row]} Mbit/s (1 stream), ${MB4[$row]} Mbit/s (4 streams), RTT ${RTT[$row]} ms"
}

# --- raw veth --------------------------------------------------------------------
measure "raw veth" "${UL4[b]}"

# --- wireguard-go <-> wireguard-go -----------------------------------------------
wg_key WA a 51830
wg_key WB b 51830
start_wggo a WA
start_wggo b WB
wg_add_peer WA WB
wg_add_peer WB WA
measure "wireguard-go" "${V4[WB]}"
stop_wggo WA
stop_wggo WB

# --- mantad <-> mantad -------------------------------------------------------------
rss=""
if [[ -x $MANTAD && -x $MANTA ]]; then
	mantad_key MA a 51840
	mantad_key MB b 51840
	mantad_config MA MB
	mantad_config MB MA
	start_mantad a MA "${CONF[MA]}"
	start_mantad b MB "${CONF[MB]}"
	measure "mantad" "${V4[MB]}"
	stop_mantad MA
	stop_mantad MB

	pretty bench "idle RSS of mantad with 10 configured peers"
	peers=()
	for i in $(seq 1 10); do
		wg_key "P$i" b $((51900 + i))
		peers+=("P$i")
	done
	mantad_key R a 51850
	mantad_config R "${peers[@]}"
	start_mantad a R "${CONF[R]}"
	json_true R "len(j['peers']) == 10"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PID[R]}/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/${PID[R]}/status")
	anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/${PID[R]}/status")
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/${PID[R]}/smaps_rollup")
	stop_mantad R
else
	say "no $MANTAD: mantad rows skipped (make all, or set MANTA_BUILD)"
fi

# --- report --------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }

echo
printf 'Throughput over a veth pair, iperf3 TCP %ss per run, %s pings; %s, %s CPUs, kernel %s\n' \
	"$SECS" "$PINGS" "$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -r)"
printf '%-14s %12s %12s %9s   %-17s %-17s\n' path "1 stream" "4 streams" RTT \
	"vs wireguard-go" "vs raw veth"
printf '%-14s %12s %12s %9s   %-17s %-17s\n' "" Mbit/s Mbit/s ms "1 / 4 streams" "1 / 4 streams"
for row in "${rows[@]}"; do
	vs_wg="-"
	vs_veth="-"
	if [[ $row != "raw veth" ]]; then
		vs_veth="$(ratio "${MB1[$row]}" "${MB1[raw veth]}") / $(ratio "${MB4[$row]}" "${MB4[raw veth]}")"
	fi
	if [[ $row == mantad ]]; then
		vs_wg="$(ratio "${MB1[$row]}" "${MB1[wireguard-go]}") / $(ratio "${MB4[$row]}" "${MB4[wireguard-go]}")"
	fi
	printf '%-14s %12s %12s %9s   %-17s %-17s\n' "$row" "${MB1[$row]}" "${MB4[$row]}" \
		"${RTT[$row]}" "$vs_wg" "$vs_veth"
done
[[ -n ${MB1[mantad]:-} ]] || printf '%-14s %s\n' mantad "skipped: $MANTAD is not built"
echo "(tunnels at MTU 1280 with IPv4 inside; wireguard-go's default MTU would be 1420)"
if [[ -n $rss ]]; then
	printf 'mantad idle RSS with 10 peers: %s kB (peak %s kB); target <= 4096 kB\n' "$rss" "$hwm"
	printf '  of which anonymous (private heap, stacks, buffers): %s kB; PSS %s kB\n' "$anon" "$pss"
	echo "  (the rest is shared library text: libc, libsystemd, libnl, libb2+libgomp, ...)"
fi
