#!/usr/bin/env bash
# What the firewall costs: iperf3 TCP through mantad with 0 rules and with
# 1,000 rules, in the same run, and the per-packet match cost from the
# microbenchmark (tests/unit/test_firewall_bench.c). The 1,000-rule figure
# must be at least 0.9x the 0-rule one; the script exits 1 if it is not.
#
#   ┌───────── a ──────────┐              ┌───────── b ──────────┐
#   │ iperf3 -c            │     veth     │ iperf3 -s            │
#   │ mantad MA            ├──────────────┤ mantad MB (the rules)│
#   └──────────────────────┘              └──────────────────────┘
#
# 0 rules: MB has no rules and lets its static peer in by default.
# 1,000 rules: MB denies static peers by default; `in allow -p icmp', 998
# rules that do not match iperf3's packets (other ports, protocols and
# peers, in both directions), then `in allow -p tcp -P 5201 --peer MA'
# last, so a new flow's first packet is checked against every rule before
# it. Both daemons restart for each case. Each case runs BENCH_ROUNDS
# times, in alternating order, and the best run of each counts (the
# machine may be shared).
#
#   bench/firewall.sh          (root; make bench builds first)
# Environment: MANTA_BUILD (default build), BENCH_SECONDS (per iperf3 run,
# default 10), BENCH_ROUNDS (default 3), FW_BENCH_PACKETS (microbenchmark).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench-firewall

SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
IPERF_PORT=5201
MICRO=$BUILD_DIR/tests/test_firewall_bench

(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"
[[ -x $MICRO ]] || fail "$MICRO is not built (make unit)"

topo_pair a b
ip netns exec "${NS[b]}" iperf3 -s -p $IPERF_PORT >"$TMP/iperf3-server.log" 2>&1 &
BGPIDS+=("$!")
wait_for 5 eval "n b ss -Hltn 'sport = :$IPERF_PORT' | grep LISTEN"

mantad_key MA a 51860
mantad_key MB b 51860
mantad_config MA MB
mantad_config MB MA

# policy N: MB's firewall.json with N rules (0: none, default allow).
policy() {
	python3 - "$1" "${PUB[MA]}" >"${STATE[MB]}/firewall.json" <<'PY'
import base64, json, sys
n, ma = int(sys.argv[1]), sys.argv[2]
rules = [{"direction": "in", "action": "allow", "proto": "icmp"}] if n else []
for i in range(max(n - 2, 0)):
    other = base64.b64encode(bytes([i % 250 + 1]) * 32).decode()
    rules.append({
        "direction": "in" if i % 4 else "out",
        "action": "deny" if i % 3 == 0 else "allow",
        "proto": ["tcp", "udp"][i % 2],
        "ports": str(10000 + i),
        "peer": [other, "tag:t%d" % (i % 7), "host%d" % (i % 11)][i % 3],
    })
if n:
    rules.append({"direction": "in", "action": "allow", "proto": "tcp",
                  "ports": "5201", "peer": ma})
print(json.dumps({"version": 1, "reject": False, "max_flows": 65536,
                  "default": {"in": "deny", "out": "allow",
                              "static": "deny" if n else "allow"},
                  "rules": rules}, indent=1))
PY
	chmod 600 "${STATE[MB]}/firewall.json"
}

iperf() {
	n a iperf3 -c "${V4[MB]}" -p $IPERF_PORT --connect-timeout 5000 -t "$SECS" -P "$1" -J |
		python3 -c '
import json, sys
r = json.load(sys.stdin)
if "error" in r:
    sys.exit("iperf3: " + r["error"])
print("%.0f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

best() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { print (a > b ? a : b) }'; }

declare -A MB1=() MB4=()
for round in $(seq 1 "$ROUNDS"); do
	order="0 1000"
	((round % 2)) || order="1000 0" # alternate, so drift favours neither
	for rules in $order; do
		policy "$rules"
		# both restart, so the new rules meet a fresh session at once
		start_mantad b MB "${CONF[MB]}"
		start_mantad a MA "${CONF[MA]}"
		[[ $(json_get MB "j['firewall']['rules']") == "$rules" ]] || fail "MB did not load $rules rules"
		wait_for 15 n a ping -c 1 -W 1 "${V4[MB]}"
		pretty bench "round $round, $rules rules: iperf3 to ${V4[MB]}"
		one=$(iperf 1)
		four=$(iperf 4)
		say "$one Mbit/s (1 stream), $four Mbit/s (4 streams)"
		MB1[$rules]=$(best "$one" "${MB1[$rules]:-}")
		MB4[$rules]=$(best "$four" "${MB4[$rules]:-}")
		say "MB status firewall: $(json_get MB "j['firewall']['dropped']")"
		stop_mantad MB >/dev/null
		stop_mantad MA >/dev/null
	done
done

pretty bench "microbenchmark: fw_filter per packet"
micro=$(FW_BENCH_PACKETS=${FW_BENCH_PACKETS:-2000000} "$MICRO" 2>/dev/null | grep -E 'rules|ns/packet')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }'; }
r1=$(ratio "${MB1[1000]}" "${MB1[0]}")
r4=$(ratio "${MB4[1000]}" "${MB4[0]}")
echo
printf 'Firewall cost, iperf3 TCP %ss per run, best of %s; %s, %s CPUs, kernel %s\n' \
	"$SECS" "$ROUNDS" "$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -r)"
printf '%-12s %12s %12s\n' rules "1 stream" "4 streams"
printf '%-12s %12s %12s\n' "" Mbit/s Mbit/s
printf '%-12s %12s %12s\n' 0 "${MB1[0]}" "${MB4[0]}"
printf '%-12s %12s %12s\n' 1000 "${MB1[1000]}" "${MB4[1000]}"
printf '%-12s %11sx %11sx\n' "ratio" "$r1" "$r4"
echo "$micro"
if awk -v a="$r1" -v b="$r4" 'BEGIN { exit !(a >= 0.9 && b >= 0.9) }'; then
	echo "1,000 rules keep >= 0.9x of the 0-rule throughput: yes"
else
	echo "1,000 rules keep >= 0.9x of the 0-rule throughput: NO"
	exit 1
fi
