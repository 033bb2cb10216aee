#!/usr/bin/env bash
# Magic DNS figures: dnsperf against mantad's resolver (100.100.100.53,
# answered from the TUN's packet stream) and, in the same run on the same
# host namespace, against unbound serving the very same names from the
# zone file `manta dns export' writes (auth-zone), once with one thread (as
# mantad has) and once with two (this machine's cores). Two measurements
# each:
#   1. throughput: as fast as dnsperf can go (4 clients, 200 queries in
#      flight) for BENCH_DNS_SECONDS: queries per second, average latency;
#      and the server's own CPU time per query (from /proc), which says
#      how much of the machine each server needs when dnsperf, on the same
#      two cores, is what runs out first;
#   2. latency at a fixed load (BENCH_DNS_QPS queries/s, below every
#      server's maximum): p50 and p99 from dnsperf's per-query report.
# Then the issue's targets: .pi qps >= 1.5 x unbound's, p99 <= unbound's.
#
#   bench/dns.sh        (root; `make bench` runs it)
# Environment: MANTA_BUILD (default build), BENCH_DNS_SECONDS (default 10),
# BENCH_DNS_QPS (default 20000).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench-dns

SECS=${BENCH_DNS_SECONDS:-10}
QPS=${BENCH_DNS_QPS:-20000}
(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"
command -v dnsperf >/dev/null || fail "dnsperf is missing (make deps installs it)"

mc() {
	local name=$1
	shift
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" "$@"
}

pretty bench "two members, names and service names; unbound serving the same zone"
topo_internet a b
mantad_key A a
mantad_key B b
mantad_config A
mantad_config B
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
mc A create home --hostname alice >/dev/null
mc B join "$(mc A --json invite home | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" \
	--hostname bob >/dev/null
mc B dns add api >/dev/null
mc B dns add www >/dev/null
wait_for 15 eval '[[ -n $(n a dig +time=1 +tries=1 +short @100.100.100.53 www.bob.home.pi AAAA) ]]'
mc A dns export home -o "$TMP/home.pi.zone" 2>/dev/null

cat >"$TMP/queries" <<EOF
bob.home.pi A
bob.home.pi AAAA
alice.home.pi A
alice.home.pi AAAA
api.bob.home.pi A
www.bob.home.pi AAAA
EOF

# unbound_start PORT THREADS
unbound_start() {
	cat >"$TMP/unbound-$1.conf" <<EOF
server:
	interface: 127.0.0.1@$1
	num-threads: $2
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$TMP"
	pidfile: ""
	use-syslog: no
	verbosity: 0
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	so-reuseport: yes
auth-zone:
	name: "home.pi"
	zonefile: "$TMP/home.pi.zone"
	for-downstream: yes
	for-upstream: no
EOF
	n a unbound -c "$TMP/unbound-$1.conf" >"$TMP/unbound-$1.log" 2>&1 &
	BGPIDS+=("$!")
	wait_for 10 eval "[[ -n \$(n a dig +time=1 +tries=1 +short -p $1 @127.0.0.1 bob.home.pi A) ]]"
}
unbound_start 5301 1
unbound_start 5302 2

# The answers must be the same before anything is timed.
while read -r name type; do
	a=$(n a dig +short @100.100.100.53 "$name" "$type")
	b=$(n a dig +short -p 5301 @127.0.0.1 "$name" "$type")
	[[ -n $a && $a == "$b" ]] || fail "mantad and unbound differ on $name $type: $a / $b"
done <"$TMP/queries"

# cpu_ticks PID: user + system time so far, in clock ticks (1/100 s)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# throughput SERVER PORT PID: "qps avg_ms lost cpu_us_per_query"
throughput() {
	local t0 t1 out
	t0=$(cpu_ticks "$3")
	out=$(n a dnsperf -s "$1" -p "$2" -d "$TMP/queries" -l "$SECS" -c 4 -q 200 2>&1)
	t1=$(cpu_ticks "$3")
	awk -v ticks=$((t1 - t0)) -v secs="$SECS" '/Queries lost:/ { lost = $3 }
		/Queries per second:/ { qps = $4 }
		/Average Latency \(s\):/ { avg = $4 * 1000 }
		END { printf "%.0f %.3f %s %.2f\n", qps, avg, lost, ticks * 10000 / (qps * secs) }' <<<"$out"
}

# latency SERVER PORT: "p50_ms p99_ms" at QPS queries/s
latency() {
	n a dnsperf -s "$1" -p "$2" -d "$TMP/queries" -l 5 -Q "$QPS" -v 2>/dev/null |
		awk '$1 == ">" && $NF ~ /^[0-9.]+$/ { print $NF * 1000 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.3f %.3f\n", v[int(NR * 0.5)], v[int(NR * 0.99)]; else print "- -" }'
}

declare -A QPS_OF P99_OF
declare -A PID_OF=(["mantad .pi (1 thread)"]=${PID[A]}
	["unbound (1 thread)"]=$(pgrep -f "unbound -c $TMP/unbound-5301.conf")
	["unbound (2 threads)"]=$(pgrep -f "unbound -c $TMP/unbound-5302.conf"))
printf '\n  %-24s %10s %12s %6s %13s   %-22s\n' server "queries/s" "avg latency" lost \
	"server CPU/q" "at $QPS q/s: p50  p99"
for spec in "mantad .pi (1 thread):100.100.100.53:53" "unbound (1 thread):127.0.0.1:5301" \
	"unbound (2 threads):127.0.0.1:5302"; do
	label=${spec%%:*}
	rest=${spec#*:}
	read -r qps avg lost cpu <<<"$(throughput "${rest%:*}" "${rest##*:}" "${PID_OF[$label]}")"
	read -r p50 p99 <<<"$(latency "${rest%:*}" "${rest##*:}")"
	QPS_OF[$label]=$qps
	P99_OF[$label]=$p99
	printf '  %-24s %10s %9s ms %6s %10s us   %8s ms %7s ms\n' "$label" "$qps" "$avg" "$lost" \
		"$cpu" "$p50" "$p99"
done
echo
pi=${QPS_OF["mantad .pi (1 thread)"]}
for u in "unbound (1 thread)" "unbound (2 threads)"; do
	ratio=$(awk -v a="$pi" -v b="${QPS_OF[$u]}" 'BEGIN { printf "%.2f", a / b }')
	p99ok=$(awk -v a="${P99_OF["mantad .pi (1 thread)"]}" -v b="${P99_OF[$u]}" \
		'BEGIN { print (a <= b) ? "yes" : "no" }')
	ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 1.5) ? "yes" : "no" }')
	printf '  vs %-22s qps ratio %5s (target >= 1.5: %s)   p99 <= unbound: %s\n' "$u" \
		"$ratio" "$ok" "$p99ok"
done
echo
stop_mantad A >/dev/null
stop_mantad B >/dev/null
