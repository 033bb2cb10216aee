#!/usr/bin/env bash
# REST API figures, printed as a table against the issue's targets:
#   1. GET /health round trip, one request at a time: median, p90 and p99
#      over one kept-alive connection, and the median with a new TCP
#      connection per request;
#   2. requests per second with wrk (Debian's wrk): GET /health (no
#      token), GET /status and GET /metrics (with the token), each for
#      BENCH_SECONDS with BENCH_CONNECTIONS connections on BENCH_THREADS
#      threads, with wrk's latency percentiles;
#   3. mantad's CPU time over the /health wrk run, per request.
# One mantad with one peer (so /status and /metrics have something to
# say), in a network namespace; all traffic on its loopback.
#
#   bench/api.sh            (root; `make bench` runs it after control.sh)
# Environment: MANTA_BUILD (default build), BENCH_CALLS (default 2000),
# BENCH_SECONDS (10), BENCH_CONNECTIONS (16), BENCH_THREADS (2).
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=bench-api

CALLS=${BENCH_CALLS:-2000}
SECONDS_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
(($(id -u) == 0)) || fail "run as root: the benchmark creates network namespaces"
command -v wrk >/dev/null || fail "no wrk (make deps installs Debian's wrk)"

topo_pair a b
mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
TOKEN=$(cat "${STATE[A]}/api.token")
URL=http://127.0.0.1:8642

# --- 1. round trips ---------------------------------------------------------------
pretty bench "GET /health round trip, $CALLS requests one at a time"
read -r ka_med ka_p90 ka_p99 new_med < <(n a python3 - "$CALLS" <<'PY'
import socket, statistics, sys, time
calls = int(sys.argv[1])
req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8642\r\n\r\n"

def read_answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < n:
        body += s.recv(65536)
    assert head.startswith(b"HTTP/1.1 200 "), head

s = socket.create_connection(("127.0.0.1", 8642))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
kept = []
for _ in range(calls):
    t = time.perf_counter()
    s.sendall(req)
    read_answer(s)
    kept.append((time.perf_counter() - t) * 1000)
s.close()
fresh = []
for _ in range(calls // 4):
    t = time.perf_counter()
    c = socket.create_connection(("127.0.0.1", 8642))
    c.sendall(req)
    read_answer(c)
    c.close()
    fresh.append((time.perf_counter() - t) * 1000)
kept.sort()
print("%.3f %.3f %.3f %.3f" % (statistics.median(kept), kept[int(len(kept) * 0.9)],
                               kept[int(len(kept) * 0.99)], statistics.median(fresh)))
PY
)

# --- 2. wrk -------------------------------------------------------------------------
# wrk's summary: requests/s and the 50th and 99th latency percentiles (ms).
wrk_run() {
	local path=$1 auth=() out
	shift
	[[ ${1:-} == token ]] && auth=(-H "Authorization: Bearer $TOKEN")
	out=$(n a wrk -t "$THREADS" -c "$CONNS" -d "${SECONDS_RUN}s" --latency "${auth[@]}" "$URL$path")
	grep -q 'Non-2xx\|Socket errors' <<<"$out" && fail "wrk $path: errors:
$out"
	awk '
	function ms(v) {
		if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000
		return v
	}
	/^Requests\/sec:/ { rps = $2 }
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }' <<<"$out"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

pretty bench "wrk: $THREADS threads, $CONNS connections, ${SECONDS_RUN}s per endpoint"
t0=$(cpu_ticks "${PID[A]}")
read -r h_rps h_p50 h_p99 < <(wrk_run /health)
t1=$(cpu_ticks "${PID[A]}")
read -r s_rps s_p50 s_p99 < <(wrk_run /status token)
read -r m_rps m_p50 m_p99 < <(wrk_run /metrics token)
hz=$(getconf CLK_TCK)
cpu_us=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v r="$h_rps" -v s="$SECONDS_RUN" \
	'BEGIN { printf "%.1f", t / hz * 1e6 / (r * s) }')
cpu_pct=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v s="$SECONDS_RUN" 'BEGIN { printf "%.0f", t / hz / s * 100 }')
pid_alive "${PID[A]}" || fail "mantad died under load"
stop_mantad A >/dev/null
stop_mantad B >/dev/null

echo
printf 'REST API, %s, %s CPUs, kernel %s, wrk %s threads %s connections %ss\n' \
	"$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -r)" "$THREADS" "$CONNS" "$SECONDS_RUN"
printf '%-50s %12s %12s\n' measure value target
printf '%-50s %9s ms %12s\n' "GET /health round trip, median (kept alive)" "$ka_med" "<= 1 ms"
printf '%-50s %9s ms %12s\n' "GET /health round trip, p90 (kept alive)" "$ka_p90" ""
printf '%-50s %9s ms %12s\n' "GET /health round trip, p99 (kept alive)" "$ka_p99" ""
printf '%-50s %9s ms %12s\n' "GET /health round trip, median (new connection)" "$new_med" ""
printf '%-50s %8s r/s %12s\n' "GET /health, wrk" "$h_rps" ">= 5000 r/s"
printf '%-50s %9s ms %12s\n' "GET /health, wrk latency p50 / p99" "$h_p50 / $h_p99" ""
printf '%-50s %8s r/s %12s\n' "GET /status (token), wrk" "$s_rps" ""
printf '%-50s %9s ms %12s\n' "GET /status, wrk latency p50 / p99" "$s_p50 / $s_p99" ""
printf '%-50s %8s r/s %12s\n' "GET /metrics (token), wrk" "$m_rps" ""
printf '%-50s %9s ms %12s\n' "GET /metrics, wrk latency p50 / p99" "$m_p50 / $m_p99" ""
printf '%-50s %9s us %12s\n' "mantad CPU per /health request (wrk run)" "$cpu_us" ""
printf '%-50s %10s %% %12s\n' "mantad CPU during the /health wrk run" "$cpu_pct" ""
