#!/usr/bin/env bash
# The REST API on loopback: the token file; every endpoint without a token
# (401, /health alone open), with a wrong one (401 everywhere) and with the
# right one (200 and the right content); /metrics through promtool; IPv4 and
# IPv6 loopback only; requests that must be refused with a 4xx JSON error
# and never a crash (garbage, oversized parts, bad escapes, wrong methods,
# bad bodies); keep-alive, pipelining, chunked bodies, Expect: 100-continue;
# a client that stops half way times out with 408 while others are served;
# a connection flood is bounded; state-changing commands only with
# [api] allow_mutating = true; [api] enabled = false listens nowhere.
#
#   ┌──────────── a ────────────┐     ┌─── r ───┐     ┌──────── b ────────┐
#   │ mantad A   127.0.0.1:8642 │     │         │     │ mantad B          │
#   │            [::1]:8642     ├─────┤ router  ├─────┤ (a peer of A)     │
#   │ curl, python3 <- here     │     │         │     │ curl -> A: refused│
#   └───────────────────────────┘     └─────────┘     └───────────────────┘
#
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet a b
mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
wait_for 10 json_true A "peer('B')['session']"

PROMTOOL=$(command -v promtool || echo "$ROOT/.deps/prometheus/usr/bin/promtool")
[[ -x $PROMTOOL ]] || fail "no promtool (make deps unpacks it from Debian's prometheus package into .deps/)"

TOKEN_FILE=${STATE[A]}/api.token
BASE=http://127.0.0.1:8642

# req AUTH METHOD PATH [CURL ARGS...]: AUTH is none, bad or good. Prints the
# status; the body is in $TMP/body, the header in $TMP/head.
req() {
	local auth=$1 method=$2 path=$3 h=()
	shift 3
	case $auth in
	good) h=(-H "Authorization: Bearer $(cat "$TOKEN_FILE")") ;;
	bad) h=(-H "Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000") ;;
	esac
	if [[ $method == HEAD ]]; then
		h+=(-I)
	else
		h+=(-X "$method")
	fi
	n a curl -sS -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' "${h[@]}" "$@" "$BASE$path"
}
# body EXPR: a Python expression over the last JSON body (j).
body() { json_eval "$1" <"$TMP/body"; }
body_true() { [[ $(body "bool($1)") == true ]]; }

pretty A "the token file: 64 hex digits, mode 0600"
[[ $(stat -c %a "$TOKEN_FILE") == 600 ]]
grep -qxE '[0-9a-f]{64}' "$TOKEN_FILE"

pretty A "listening on 127.0.0.1:8642 and [::1]:8642 only"
n a ss -Hltn | awk '{ print $4 }' | sort >"$TMP/listen"
sed 's/^/    /' "$TMP/listen"
grep -qx '127.0.0.1:8642' "$TMP/listen"
grep -qx '\[::1\]:8642' "$TMP/listen"
(($(grep -c ':8642$' "$TMP/listen") == 2))
if n b curl -sS -m 3 "http://${UL4[a]}:8642/health" 2>/dev/null; then fail "A's API answered from b"; fi
[[ $(n a curl -sS -o /dev/null -w '%{http_code}' 'http://[::1]:8642/health') == 200 ]]

pretty A "every endpoint: no token, a wrong one, the right one"
endpoints=(
	"GET /health" "GET /status" "GET /peers" "GET /peers?network=none" "GET /networks"
	"GET /v6/address" "GET /whois?query=${V6[B]}" "GET /version" "GET /metrics"
	"GET /commands" "POST /commands/version" "POST /commands/status" "HEAD /health"
	"HEAD /status" "GET /nonexistent" "GET /tunnels" "POST /tunnels/he/up"
)
for e in "${endpoints[@]}"; do
	read -r method path <<<"$e"
	none=$(req none "$method" "$path")
	bad=$(req bad "$method" "$path")
	grep -qi '^WWW-Authenticate: Bearer realm="manta"' "$TMP/head" || fail "$e: 401 without WWW-Authenticate"
	[[ $method == HEAD ]] || body_true "j['error'] == 'wrong API token'"
	good=$(req good "$method" "$path")
	say "$(printf '%-40s none %s  wrong %s  token %s' "$e" "$none" "$bad" "$good")"
	((bad == 401)) || fail "$e with a wrong token: $bad"
	case $path in
	/health) ((none == 200)) || fail "$e without a token: $none" ;;
	*) ((none == 401)) || fail "$e without a token: $none" ;;
	esac
	case $path in
	/nonexistent) ((good == 404)) ;;
	/peers\?network=none | /whois*) ((good == 422)) ;;
	/tunnels/*) ((good == 403)) ;; # state-changing, allow_mutating is off
	*) ((good == 200)) || fail "$e with the token: $good" ;;
	esac
done

pretty A "what the endpoints say"
check() {
	local method=$1 path=$2 expr=$3
	[[ $(req good "$method" "$path") == 200 ]] || fail "$method $path: $(cat "$TMP/body")"
	body_true "$expr" || fail "$method $path: not ($expr): $(cat "$TMP/body")"
}
check GET /health "j['status'] == 'ok' and j['state'] == 'up' and j['peers'] == 1 and j['peers_with_session'] == 1"
check GET /v6/address "j['addresses'] == [{'iface': 'manta0', 'address': '${V6[A]}', 'prefix': 128, 'kind': 'overlay', 'reachable': True}]"
check GET /status "j['public_key'] == '${PUB[A]}' and j['peers'][0]['public_key'] == '${PUB[B]}'"
check GET /peers "[p['public_key'] for p in j['peers']] == ['${PUB[B]}']"
check GET /networks "j == {'networks': []}"
check GET /tunnels "j == {'tunnels': []}"
check GET /version "j['version'] == '$(cat "$ROOT/VERSION")'"
check GET /commands "{'health', 'v6_address', 'status', 'peers'} <= {c['name'] for c in j['commands']} and all(c['allowed'] != c['mutating'] for c in j['commands'])"
check POST /commands/peers "j['result'][0]['public_key'] == '${PUB[B]}'"
[[ $(req good POST /commands/peers -H 'Content-Type: application/json' -d '{"network":"home"}') == 422 ]]
body_true "j['error'].startswith('no network named')"
[[ $(req good GET "/whois?query=nobody") == 422 ]]
[[ $(req good HEAD /status) == 200 ]]
grep -qi '^Content-Length: [1-9]' "$TMP/head"
grep -qi '^Content-Type: application/json' "$TMP/head"
grep -qi '^Cache-Control: no-store' "$TMP/head"

pretty A "Host: IP addresses, localhost and .pi names only (DNS rebinding)"
for host in 127.0.0.1 127.0.0.1:8642 localhost localhost:8642 LOCALHOST alice.home.pi:8642 '[::1]:8642'; do
	[[ $(req none GET /health -H "Host: $host") == 200 ]] || fail "Host: $host refused"
done
for host in evil.example evil.example:8642 127.0.0.1.nip.io localhost.evil.example '[::1' '[nope]:1' 'localhost:http'; do
	[[ $(req good GET /status -H "Host: $host") == 421 ]] || fail "Host: $host accepted"
	body_true "j['error'].startswith('Host \`')"
done
say "421 for names a web page could point here; the token does not change that"

pretty A "/metrics: Prometheus text that promtool accepts"
[[ $(req good GET /metrics) == 200 ]]
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$TMP/head"
cp "$TMP/body" "$TMP/metrics.txt"
"$PROMTOOL" check metrics <"$TMP/metrics.txt" || fail "promtool refused /metrics (in $TMP/metrics.txt)"
grep -q "^manta_peer_handshakes_total{public_key=\"${PUB[B]}\",hostname=\"\"} [1-9]" "$TMP/metrics.txt"
grep -q '^manta_peers_with_session 1$' "$TMP/metrics.txt"
grep -q '^manta_packets_dropped_total{direction="rx",reason="bad_mac1"} 0$' "$TMP/metrics.txt"
say "$(grep -c '^# TYPE' "$TMP/metrics.txt") metric families, $(grep -vc '^#' "$TMP/metrics.txt") samples"

pretty A "bad requests: a 4xx JSON error each, never a crash; keep-alive, pipelining, timeouts"
n a python3 - "$(cat "$TOKEN_FILE")" <<'EOF'
import json, socket, sys, time

TOKEN = sys.argv[1]
AUTH = "Authorization: Bearer %s\r\n" % TOKEN

def conn(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect((host, 8642))
    return s

def read_response(s, buf=b""):
    """One response: (status, headers dict, body bytes, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before a whole header: %r" % buf)
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    n = int(headers["content-length"])
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed in the body")
        buf += d
    return status, headers, buf[:n], buf[n:]

def closed(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True

def post(path, body, ctype="application/json", extra=""):
    """A POST with AUTH, body and its length."""
    return ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:8642\r\n%s%s%sContent-Length: %d\r\n\r\n%s" % (
        path, AUTH, "Content-Type: %s\r\n" % ctype if ctype else "", extra, len(body), body)).encode()

def expect(raw, status, error_part=None, close=True):
    s = conn()
    try:
        s.sendall(raw)
    except OSError:
        pass  # refused before we finished sending: the answer is still there
    st, h, body, _ = read_response(s)
    assert st == status, (raw[:80], st, body)
    j = json.loads(body)
    assert isinstance(j.get("error"), str), j
    if error_part:
        assert error_part in j["error"], (raw[:80], j)
    assert h["content-type"] == "application/json", h
    if close:
        assert h.get("connection") == "close", (raw[:80], h)
        assert closed(s), "left open after %d" % st
    s.close()
    print("    %d %-40s %s" % (st, repr(raw[:40])[2:-1], j["error"][:60]))

# A client that sends half a request and stops: 408 after 10 s. It is
# started first and checked last: everything below is served meanwhile.
slow = conn()
slow.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8642\r\n")
slow_start = time.monotonic()

G = "GET /status HTTP/1.1\r\nHost: 127.0.0.1:8642\r\n" + AUTH
expect(b"this is not HTTP\r\n\r\n", 400)
expect(b"\x00\x01\x02\x03\r\n\r\n", 400)
expect(b"GET /health HTTP/2.0\r\n\r\n", 505)
expect(b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", 431)
expect(b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(70)) + b"\r\n", 431)
expect(b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n", 414)
expect(b"GET /health HTTP/1.1\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\n\r\n", 400, "more than one")
expect(b"GET /health HTTP/1.1\r\nAuthorization: Bearer " + b"x" * 600 + b"\r\n\r\n", 431)
expect(b"GET /health HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417)
expect(b"GET /he%zzlth HTTP/1.1\r\n\r\n", 400, "escape")
expect(b"GET /he%00lth HTTP/1.1\r\n\r\n", 400, "escape")
expect(b"GET * HTTP/1.1\r\n\r\n", 400)
expect(b"GET /health HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400)
expect(b"GET /health HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400)
expect(b"GET /health HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400)
expect(("POST /commands/version HTTP/1.1\r\n" + AUTH + "Content-Type: application/json\r\n"
        "Content-Length: 70000\r\n\r\n").encode() + b"{" * 1000, 413)
expect(("POST /commands/version HTTP/1.1\r\n" + AUTH + "Transfer-Encoding: chunked\r\n\r\n"
        "10000\r\n").encode() + b"x" * 65536 + b"\r\n1\r\nx\r\n0\r\n\r\n", 413)
# Refused by the routes: the connection lives on.
expect((G.replace("/status", "/status?x=1") + "\r\n").encode(), 400, "unknown field `x'", close=False)
expect((G.replace("/status", "/peers?network=a&network=b") + "\r\n").encode(), 400, "twice", close=False)
expect((G.replace("/status", "/peers?network=%zz") + "\r\n").encode(), 400, "escape", close=False)
expect((G.replace("GET", "PUT") + "\r\n").encode(), 405, "PUT", close=False)
expect((G.replace("GET /status", "GET /commands/version") + "\r\n").encode(), 405, close=False)
expect((G.replace("GET /status", "DELETE /commands/version") + "\r\n").encode(), 405, close=False)
expect((G.replace("GET /status", "POST /commands/nope") + "\r\n").encode(), 404, "no command", close=False)
expect((G.replace("GET /status", "POST /commands/version?x=1") + "\r\n").encode(), 400, "body", close=False)
expect(post("/commands/peers", "{}", ctype=None), 415, close=False)
expect(post("/commands/peers", "{}", ctype="text/plain"), 415, close=False)
expect(post("/commands/peers", '{"a":'), 400, "not JSON", close=False)
expect(post("/commands/peers", "[]"), 400, "object", close=False)
expect(post("/commands/peers", '{"network": 42}'), 400, "must be a string", close=False)
expect(post("/commands/peers", '{"network": "a", "network": "b"}'), 400, "duplicate", close=False)
expect(post("/commands/peers", '{"network": "none"}'), 422, "no network named", close=False)
P = G.replace("GET /status", "POST /commands/peers")
expect((G.replace("GET /status", "POST /commands/down") + "\r\n").encode(), 403, "allow_mutating", close=False)

# HEAD: the GET's header (its Content-Length too) and no body, so the next
# answer on the connection starts right after the header.
s = conn()
s.sendall(("HEAD /status HTTP/1.1\r\n%s\r\nGET /health HTTP/1.1\r\n\r\n" % AUTH).encode())
buf = b""
while buf.count(b"\r\n\r\n") < 2:
    buf += s.recv(65536)
head, rest = buf.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 0" not in head, head
assert rest.startswith(b"HTTP/1.1 200 "), rest[:40]
s.close()

# An Upgrade is ignored, as HTTP allows: the answer, then the end.
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
st, h, body, _ = read_response(s)
assert st == 200 and h["connection"] == "close" and closed(s), (st, h)
s.close()

# A request cut short by the client's EOF.
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nHost")
s.shutdown(socket.SHUT_WR)
st, h, body, _ = read_response(s)
assert st == 400 and "cut short" in json.loads(body)["error"], (st, body)
s.close()

# Keep-alive: three requests on one connection, then Connection: close.
s = conn()
for i in range(3):
    s.sendall((G + "\r\n").encode())
    st, h, body, rest = read_response(s)
    assert st == 200 and rest == b"" and "connection" not in h, (st, h)
s.sendall((G + "Connection: close\r\n\r\n").encode())
st, h, body, rest = read_response(s)
assert st == 200 and h["connection"] == "close" and closed(s)
s.close()

# HTTP/1.0: closed after the answer unless it asks for keep-alive.
s = conn()
s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
st, h, body, rest = read_response(s)
assert st == 200 and h["connection"] == "close" and closed(s)
s = conn()
s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
st, h, body, rest = read_response(s)
assert st == 200 and h["connection"] == "keep-alive", h
s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
st, h, body, rest = read_response(s)
assert st == 200 and closed(s)

# Pipelining: five requests in one write, answered in order; the last one's
# client then shuts down its sending side and still gets every answer.
s = conn()
paths = ["/health", "/version", "/nope", "/v6/address", "/health"]
s.sendall("".join("GET %s HTTP/1.1\r\n%s\r\n" % (p, AUTH) for p in paths).encode())
s.shutdown(socket.SHUT_WR)
buf, got = b"", []
for p in paths:
    st, h, body, buf = read_response(s, buf)
    got.append(st)
assert got == [200, 200, 404, 200, 200], got
assert closed(s)
s.close()

# A chunked body, and Expect: 100-continue (curl's way for larger bodies).
s = conn()
s.sendall((P + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
           "3\r\n{\"n\r\n10\r\network\": \"none\"}\r\n0\r\n\r\n").encode())
st, h, body, _ = read_response(s)
assert st == 422 and "no network named `none'" in json.loads(body)["error"], (st, body)
s.sendall((P + "Content-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n").encode())
cont = s.recv(64)
assert cont == b"HTTP/1.1 100 Continue\r\n\r\n", cont
s.sendall(b"{}")
st, h, body, _ = read_response(s)
assert st == 200, (st, body)
s.close()

# IPv6 loopback, the same answers.
s = conn(socket.AF_INET6, "::1")
s.sendall((G + "\r\n").encode())
st, h, body, _ = read_response(s)
assert st == 200 and json.loads(body)["public_key"]
s.close()

# A flood of idle connections: at most 64 are kept; each one over that
# closes the one idle longest, so the API stays open to newcomers while the
# flood lasts. Requests under way (the slow client's) are not cut off.
# (The slow client holds one of the 64.)
import select
flood = [conn() for _ in range(80)]
shut, deadline = set(), time.monotonic() + 5
while time.monotonic() < deadline:
    r, _, _ = select.select([f for f in flood if f not in shut], [], [], 0.5)
    if not r and len(shut) >= 16:
        break
    for f in r:
        if f.recv(1) == b"":
            shut.add(f)
assert len(shut) == 17 and shut == set(flood[:17]), "%d of 80 connections were closed" % len(shut)
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\n\r\n")
st, h, body, _ = read_response(s)
assert st == 200
s.close()
for f in flood:
    f.close()
for attempt in range(50):
    try:
        s = conn()
        s.sendall(b"GET /health HTTP/1.1\r\n\r\n")
        st, h, body, _ = read_response(s)
        s.close()
        break
    except (EOFError, ConnectionResetError):
        time.sleep(0.1)
assert st == 200
print("    80 idle connections: the 17 oldest closed, 63 kept (and the slow one); others served meanwhile")

# The slow client: 408 about 10 s after its first byte, then closed; the
# rest above was answered meanwhile.
slow.settimeout(20)
st, h, body, _ = read_response(slow)
waited = time.monotonic() - slow_start
assert st == 408 and h["connection"] == "close" and closed(slow), (st, h)
assert 9 <= waited <= 13, waited
print("    a half-sent request: 408 after %.1f s, everyone else served meanwhile" % waited)
EOF
pid_alive "${PID[A]}" || fail "mantad A died"
[[ $(req none GET /health) == 200 ]]

pretty A "state-changing commands: 403 by default, allowed with [api] allow_mutating = true"
[[ $(req good POST /commands/down) == 403 ]]
stop_mantad A
printf '\n[api]\nallow_mutating = true\n' >>"${CONF[A]}"
start_mantad a A "${CONF[A]}"
[[ $(req good POST /commands/down) == 200 ]]
wait_for 5 eval '[[ $(req good GET /health) == 200 ]] && body_true "j[\"status\"] == \"degraded\" and j[\"state\"] == \"down\""'
! n a ip link show dev manta0 >/dev/null 2>&1
[[ $(req good POST /commands/up) == 200 ]]
wait_for 5 eval '[[ $(req good GET /health) == 200 ]] && body_true "j[\"status\"] == \"ok\""'
n a ip link show dev manta0 >/dev/null
[[ $(req none POST /commands/down) == 401 ]]
[[ $(req bad POST /commands/down) == 401 ]]
check GET /commands "all(c['allowed'] for c in j['commands'])"

pretty A "a token of the user's own is used; [api] enabled = false listens nowhere"
stop_mantad A
printf 'my-own-token-0123456789\n' >"$TOKEN_FILE"
chmod 0640 "$TOKEN_FILE"
start_mantad a A "${CONF[A]}"
[[ $(stat -c %a "$TOKEN_FILE") == 600 ]] # made private again, with a warning
grep -q 'api.token: readable by others' "${LOG[A]}"
[[ $(n a curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: bearer   my-own-token-0123456789' "$BASE/status") == 200 ]]
[[ $(req good GET /status) == 200 ]]
stop_mantad A
printf 'short\n' >"$TOKEN_FILE"
rc=0
n a "$MANTAD" --config "${CONF[A]}" --state-dir "${STATE[A]}" --socket "$TMP/x.sock" --foreground \
	>"$TMP/short.log" 2>&1 || rc=$?
((rc != 0)) || fail "mantad started with a 5-character token"
grep -q 'api.token: the API token must be 16 to 256 printable characters' "$TMP/short.log"
rm "$TOKEN_FILE"
sed -i 's/^allow_mutating = true$/enabled = false/' "${CONF[A]}"
start_mantad a A "${CONF[A]}"
[[ ! -e $TOKEN_FILE ]]
! n a ss -Hltn | grep -q ':8642 '
if n a curl -sS -m 3 "$BASE/health" 2>/dev/null; then fail "the API answered with enabled = false"; fi
stop_mantad A
stop_mantad B
