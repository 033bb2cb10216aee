#!/usr/bin/env bash
# Control-plane figures, printed as a table against the issue's targets:
#   1. `status` round trip over the control socket with 100 peers: median
#      and p90 of a raw JSON-lines exchange, and of a whole `manta --json
#      status` process for reference;
#   2. a network of N members (default 50) formed by scripted joins (8 at
#      a time): time from the first join until every member lists every
#      other;
#   3. traffic per member at rest (all of it: gossip, keepalives,
#      handshakes), from the underlay interface's counters over 20 s.
#
#   bench/control.sh        (root; `make bench` runs it after throughput.sh)
# Environment: MANTA_BUILD (default build), BENCH_MEMBERS (default 50),
# BENCH_CALLS (default 300), BENCH_REST_SECONDS (default 20).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench-control

MEMBERS=${BENCH_MEMBERS:-50}
CALLS=${BENCH_CALLS:-300}
REST=${BENCH_REST_SECONDS:-20}
SETTLE=${BENCH_SETTLE_SECONDS:-10}
(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"

mc() {
	local name=$1
	shift
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" "$@"
}

# --- 1. status with 100 peers ----------------------------------------------------
pretty bench "status round trip with 100 peers"
hosts=()
for i in $(seq 1 "$MEMBERS"); do hosts+=("h$i"); done
topo_internet "${hosts[@]}"
mantad_key S h1 51999
peers=()
for i in $(seq 1 100); do
	wg_key "P$i" h2 $((52000 + i))
	peers+=("P$i")
done
mantad_config S "${peers[@]}"
start_mantad h1 S "${CONF[S]}"
json_true S "len(j['peers']) == 100"
read -r raw_med raw_p90 < <(n h1 python3 - "${SOCK[S]}" "$CALLS" <<'PY'
import json, socket, statistics, sys, time
path, calls = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
f = s.makefile("rb")
times = []
for _ in range(calls):
    t = time.perf_counter()
    s.sendall(b'{"command":"status"}\n')
    reply = json.loads(f.readline())
    times.append((time.perf_counter() - t) * 1000)
    assert reply["ok"] and len(reply["result"]["peers"]) == 100
times.sort()
print("%.3f %.3f" % (statistics.median(times), times[int(len(times) * 0.9)]))
PY
)
cli=()
for _ in $(seq 1 50); do
	t0=$(now_us)
	mc S --json status >/dev/null
	cli+=($(($(now_us) - t0)))
done
cli_med=$(printf '%s\n' "${cli[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] / 1000 }')
stop_mantad S

# --- 2. N members by scripted joins ---------------------------------------------
pretty bench "$MEMBERS members joining one network"
for i in $(seq 1 "$MEMBERS"); do
	mantad_key "M$i" "h$i"
	mantad_config "M$i"
	start_mantad "h$i" "M$i" "${CONF[M$i]}"
done
mc M1 create bench --hostname m1 >/dev/null
token=$(mc M1 --json invite bench --reusable | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# Joins run 8 at a time, as a script would issue them; a poller asks every
# daemon over its socket (Unix sockets are reachable from any namespace)
# until each lists all N members, and prints when that happened.
socks=()
for i in $(seq 1 "$MEMBERS"); do socks+=("${SOCK[M$i]}"); done
t0=$(now_us)
python3 - "$MEMBERS" "${socks[@]}" >"$TMP/converged" <<'PY' &
import json, socket, sys, time
want, paths = int(sys.argv[1]), sys.argv[2:]
def network(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b'{"command":"networks"}\n')
    r = json.loads(s.makefile("rb").readline())
    s.close()
    nets = r.get("result") or []
    if not nets:
        return 0, None
    return sum(1 for m in nets[0]["members"] if not m["revoked"]), nets[0]["digest"]
deadline = time.time() + 120
members_at = None
while time.time() < deadline:
    seen = [network(p) for p in paths]
    if members_at is None and all(c == want for c, _ in seen):
        members_at = time.time()
    if members_at and len({d for _, d in seen}) == 1:
        print("%d %d" % (members_at * 1e6, time.time() * 1e6))
        sys.exit(0)
    time.sleep(0.02)
print("timeout timeout")
PY
poller=$!
for i in $(seq 2 "$MEMBERS"); do echo "$i"; done |
	xargs -P 8 -I{} ip netns exec "$PREFIX-h{}" "$MANTA" --socket "$TMP/M{}/ctl.sock" join "$token" --hostname "m{}" >/dev/null 2>&1
t_joined=$(now_us)
wait "$poller"
read -r t_conv t_digest <"$TMP/converged"
[[ $t_conv != timeout ]] || fail "$MEMBERS members did not converge within 120 s"
form=$(awk -v a="$t0" -v b="$t_conv" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
after=$(awk -v a="$t_joined" -v b="$t_conv" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
digest=$(awk -v a="$t0" -v b="$t_digest" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')

# --- 3. traffic at rest ------------------------------------------------------------
pretty bench "traffic per member at rest over ${REST}s, after ${SETTLE}s to settle"
# A fixed settling time, then a fixed window: this measures a rate at rest
# (sessions made, the post-news fast gossip over), not a state to wait for.
sleep "$SETTLE"
bytes() { n "$1" cat /sys/class/net/eth0/statistics/rx_bytes /sys/class/net/eth0/statistics/tx_bytes | paste -sd+ | bc; }
mid=$(((MEMBERS + 1) / 2))
b0_1=$(bytes h1)
b0_m=$(bytes "h$mid")
sleep "$REST" # measuring a rate over a fixed window, not waiting for a state
b1_1=$(bytes h1)
b1_m=$(bytes "h$mid")
rest_owner=$(awk -v a="$b0_1" -v b="$b1_1" -v s="$REST" 'BEGIN { printf "%.0f", (b - a) / s }')
rest_member=$(awk -v a="$b0_m" -v b="$b1_m" -v s="$REST" 'BEGIN { printf "%.0f", (b - a) / s }')
for i in $(seq 1 "$MEMBERS"); do stop_mantad "M$i" >/dev/null; done

echo
printf 'Control plane, %s, %s CPUs, kernel %s\n' "$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -r)"
printf '%-52s %12s %10s\n' measure value target
printf '%-52s %9s ms %10s\n' "status round trip, 100 peers, median (socket)" "$raw_med" "<= 2 ms"
printf '%-52s %9s ms %10s\n' "status round trip, 100 peers, p90 (socket)" "$raw_p90" ""
printf '%-52s %9s ms %10s\n' "manta --json status, 100 peers, median (process)" "$cli_med" ""
printf '%-52s %10s s %10s\n' "$MEMBERS members: first join to full convergence" "$form" "< 10 s"
printf '%-52s %10s s %10s\n' "$MEMBERS members: last join returned to convergence" "$after" ""
printf '%-52s %10s s %10s\n' "$MEMBERS members: first join to equal digests" "$digest" ""
printf '%-52s %7s B/s %10s\n' "at rest, owner (all underlay traffic)" "$rest_owner" "<= 1000"
printf '%-52s %7s B/s %10s\n' "at rest, member m$mid (all underlay traffic)" "$rest_member" "<= 1000"
