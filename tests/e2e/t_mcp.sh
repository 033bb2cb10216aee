#!/usr/bin/env bash
# MCP: the official TypeScript SDK's Client with its StdioClientTransport
# spawns `manta mcp` (as any MCP host would), connects, lists the tools,
# calls every read-only one and gets JSON text back; then a raw JSON-RPC
# exchange over the same relay: ids (numbers and strings, 0, negative,
# fractional, past 2^53, unicode, empty) come back exactly as sent,
# notifications are never answered, and bad messages get the right error
# codes; state-changing tools appear only with [api] allow_mutating = true
# and only to root or the manta group.
#
#   ┌───────── a ─────────┐     ┌─ r ─┐     ┌───────── b ─────────┐
#   │ mantad A (alice,    ├─────┤     ├─────┤ mantad B (bob,      │
#   │   owner of home)    │     └─────┘     │   member of home)   │
#   │ node client.mjs     │                 └─────────────────────┘
#   │  └ manta mcp ─► $TMP/A/ctl.sock
#   └─────────────────────┘
#
# Needs node and the SDK (tests/e2e/mcp-client, installed by `make deps'
# or here); when npm cannot reach its registry the scenario says so and
# skips.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

CLIENT=$E2E_DIR/mcp-client
rc=0
"$CLIENT/install.sh" || rc=$?
if ((rc == 3)); then
	echo "SKIP t_mcp: npm cannot reach its registry, so @modelcontextprotocol/sdk is not installed"
	exit 0
fi
((rc == 0)) || fail "the MCP test client could not be installed (tests/e2e/mcp-client/install.sh)"

TEST_USER=mantatest
CREATED_USER=0
# Our own cleanup first (the user), then lib.sh's, with the same exit status.
cleanup_user() {
	local rc=$?
	set +e
	trap - ERR
	((CREATED_USER)) && userdel "$TEST_USER" 2>/dev/null
	(exit "$rc")
	cleanup
}
trap cleanup_user EXIT

topo_internet a b
mantad_key A a
mantad_key B b
mantad_config A
mantad_config B
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
mc() {
	local name=$1
	shift
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" "$@"
}
mc A create home --hostname alice >/dev/null
token=$(mc A --json invite home | json_eval "j['token']")
mc B join "$token" --hostname bob >/dev/null
wait_for 15 json_true A "len(j['peers']) == 1 and j['peers'][0]['session']"

pretty A "the SDK client: connect, list the tools, call every read-only one"
args='{"whois": {"query": "bob"}, "ping": {"host": "bob", "count": 2}, "peers": {"network": "home"},
	"dns_export": {"network": "home"}, "probe_udp": {"port": 4000}}'
n a node "$CLIENT/client.mjs" "$MANTA" "${SOCK[A]}" "$args" >"$TMP/sdk.json"
sdk() { json_eval "$1" <"$TMP/sdk.json"; }
sdk_true() { [[ $(sdk "bool($1)") == true ]] || fail "SDK client: not ($1): $(sdk "$2")"; }
sdk "'    server %s %s; %d tools: %s' % (j['server']['name'], j['server']['version'], len(j['tools']), ' '.join(t['name'] for t in j['tools']))"
sdk "'\n'.join('    %-12s isError=%s %s' % (k, v['isError'], v['text'][:70]) for k, v in j['calls'].items())"
sdk_true "j['server'] == {'name': 'manta', 'title': 'manta mesh VPN', 'version': '$(cat "$ROOT/VERSION")'}" "j['server']"
sdk_true "j['capabilities'] == {'tools': {'listChanged': False}}" "j['capabilities']"
sdk_true "j['instructions']" "j"
# Read-only tools only (allow_mutating is off), each with its schema.
sdk_true "all(t['readOnly'] for t in j['tools'])" "j['tools']"
sdk_true "{'status', 'health', 'v6_address', 'peers', 'networks', 'whois', 'ping', 'version', 'uplink_status', 'probe_udp'} <= {t['name'] for t in j['tools']}" "[t['name'] for t in j['tools']]"
sdk_true "not {'create', 'invite', 'join', 'leave', 'kick', 'down', 'up'} & {t['name'] for t in j['tools']}" "[t['name'] for t in j['tools']]"
sdk_true "all(t['inputSchema']['type'] == 'object' for t in j['tools'])" "j['tools']"
sdk_true "[t for t in j['tools'] if t['name'] == 'ping'][0]['inputSchema']['required'] == ['host']" "j['tools']"
# Every read-only tool was called and answered with text. None failed that
# got the arguments its schema requires (tools added later without an entry
# in $args may answer "args: missing", which is still a proper answer).
sdk_true "set(j['calls']) == {t['name'] for t in j['tools']}" "list(j['calls'])"
given=$(json_eval "list(j)" <<<"$args")
sdk_true "not [t['name'] for t in j['tools'] if j['calls'][t['name']]['isError'] and (t['name'] in $given or not t['inputSchema'].get('required'))]" "j['calls']"
sdk_true "all(c['text'].startswith('args: missing') for c in j['calls'].values() if c['isError'])" "j['calls']"
c="j['calls']"
sdk_true "$c['status']['value']['public_key'] == '${PUB[A]}'" "$c['status']"
sdk_true "$c['health']['value']['status'] == 'ok' and $c['health']['value']['peers_with_session'] == 1" "$c['health']"
sdk_true "$c['v6_address']['value']['addresses'][0]['address'] == '${V6[A]}'" "$c['v6_address']"
sdk_true "[p['public_key'] for p in $c['peers']['value']] == ['${PUB[B]}']" "$c['peers']"
sdk_true "[x['name'] for x in $c['networks']['value']] == ['home']" "$c['networks']"
sdk_true "$c['whois']['value'][0]['hostname'] == 'bob'" "$c['whois']"
sdk_true "$c['version']['value']['version'] == '$(cat "$ROOT/VERSION")'" "$c['version']"
sdk_true "$c['probe_udp']['value']['arrived'] and $c['probe_udp']['value']['port'] == 4000" "$c['probe_udp']"
# ping reports each echo as it comes: MCP progress notifications. (The SDK
# hands a notification to its callback a moment later than the answer that
# follows it, and drops the callback with that answer, so the last echo's
# may not be seen: the raw exchange below counts them exactly.)
sdk_true "len(j['progress']['ping']) >= 1 and all(m.startswith('pong from bob') for m in j['progress']['ping'])" "j['progress']"

pretty A "raw JSON-RPC through manta mcp: ids exactly as sent, notifications unanswered, error codes"
n a python3 - "$MANTA" "${SOCK[A]}" <<'EOF'
import json, re, subprocess, sys

manta, sock = sys.argv[1:3]
p = subprocess.Popen([manta, "--socket", sock, "mcp"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, bufsize=0)

def send(line):
    p.stdin.write(line.encode() + b"\n")

def recv():
    line = p.stdout.readline()
    assert line.endswith(b"\n") and b"\n" not in line[:-1], line
    return line.decode()

def raw_id(line):
    """The id exactly as written in the answer."""
    m = re.search(r'"id":((?:"(?:[^"\\]|\\.)*")|[^,}]+)', line)
    return m.group(1)

send('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
     '"capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}')
r = json.loads(recv())
assert r["id"] == 0 and r["result"]["protocolVersion"] == "2025-11-25", r
send('{"jsonrpc":"2.0","method":"notifications/initialized"}')

# Each id (as written on the wire) must come back byte for byte.
ids = ['42', '-7', '0', '9007199254740993', '1.5', '"abc"', '""', '"ключ-🔑"', '"\\"quoted\\""',
       '"42"']
for i in ids:
    send('{"jsonrpc":"2.0","id":%s,"method":"ping"}' % i)
    line = recv()
    r = json.loads(line)
    assert r["result"] == {} and r["id"] == json.loads(i), (i, line)
    if not i.startswith('"') or i.isascii():
        assert raw_id(line) == i, (i, raw_id(line))
    print("    id %-22s back as %s" % (i, raw_id(line)))

# A numeric and a string id on tools/call, answered later (ping waits for
# bob's echo) and in order.
send('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ping","arguments":{"host":"bob","count":1}}}')
send('{"jsonrpc":"2.0","id":"seven","method":"tools/call","params":{"name":"health"}}')
a, b = json.loads(recv()), json.loads(recv())
assert a["id"] == 7 and a["result"]["isError"] is False, a
assert b["id"] == "seven" and json.loads(b["result"]["content"][0]["text"])["status"] == "ok", b

# Progress, when asked for with a progressToken: one notification per echo,
# then the answer.
send('{"jsonrpc":"2.0","id":70,"method":"tools/call","params":{"name":"ping",'
     '"arguments":{"host":"bob","count":2},"_meta":{"progressToken":"tok"}}}')
for k in (1, 2):
    r = json.loads(recv())
    assert r["method"] == "notifications/progress" and "id" not in r, r
    assert r["params"]["progressToken"] == "tok" and r["params"]["progress"] == k, r
    assert r["params"]["message"].startswith("pong from bob"), r
r = json.loads(recv())
assert r["id"] == 70 and len(json.loads(r["result"]["content"][0]["text"])["replies"]) == 2, r

# Notifications are never answered, whatever they are; the next answer is
# the ping's.
for n in ['{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}',
          '{"jsonrpc":"2.0","method":"no/such/thing"}',
          '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"down"}}',
          '{"jsonrpc":"2.0","id":5,"result":{}}']:
    send(n)
send('{"jsonrpc":"2.0","id":"after","method":"ping"}')
assert json.loads(recv())["id"] == "after"

def error(line, code, id_):
    send(line)
    r = json.loads(recv())
    assert r["id"] == id_ and r["error"]["code"] == code, (line, r)
    print("    %6d %-45s %s" % (code, line[:45], r["error"]["message"][:50]))

error('this is not JSON', -32700, None)
error('[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600, None)
error('{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600, 1)
error('{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, None)
error('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', -32600, None)
error('{"jsonrpc":"2.0","id":2,"method":7}', -32600, 2)
error('{"jsonrpc":"2.0","id":3,"method":"resources/list"}', -32601, 3)
error('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":[1]}', -32602, 4)
error('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}}', -32602, 5)
error('{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"nope"}}', -32602, 6)
error('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"create","arguments":{"name":"x"}}}', -32602, 8)

# Bad arguments are a tool error the model can read, not a protocol error.
send('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"whois","arguments":{}}}')
r = json.loads(recv())
assert r["result"]["isError"] is True and r["result"]["content"][0]["text"] == "args: missing `query'", r
send('{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"whois","arguments":{"query":"nobody"}}}')
r = json.loads(recv())
assert r["result"]["isError"] is True and "no member" in r["result"]["content"][0]["text"], r

# An older client gets its own revision; an unknown one gets ours.
send('{"jsonrpc":"2.0","id":11,"method":"initialize","params":{"protocolVersion":"2024-11-05"}}')
assert json.loads(recv())["result"]["protocolVersion"] == "2024-11-05"
send('{"jsonrpc":"2.0","id":12,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}')
assert json.loads(recv())["result"]["protocolVersion"] == "2025-11-25"
send('{"jsonrpc":"2.0","id":13,"method":"server/discover"}')
assert "2025-11-25" in json.loads(recv())["result"]["supportedVersions"]

# End of input: the relay finishes the answers in flight, then exits 0.
send('{"jsonrpc":"2.0","id":"last","method":"tools/call","params":{"name":"ping","arguments":{"host":"bob","count":1}}}')
p.stdin.close()
assert json.loads(recv())["id"] == "last"
assert p.stdout.read() == b""
assert p.wait(10) == 0
EOF

pretty A "state-changing tools: only with allow_mutating, and only for root or the manta group"
stop_mantad A
printf '\n[api]\nallow_mutating = true\n' >>"${CONF[A]}"
start_mantad a A "${CONF[A]}"
if ! id "$TEST_USER" >/dev/null 2>&1; then
	useradd -r -M -s /usr/sbin/nologin "$TEST_USER"
	CREATED_USER=1
fi
chmod 0711 "$TMP" "$TMP/A"
chmod 0666 "${SOCK[A]}"
install -m 0755 "$MANTA" "$TMP/manta"
rpc() { # rpc [USER] < lines: the answers
	local as=()
	[[ -z ${1:-} ]] || as=(setpriv --reuid="$1" --regid="$1" --clear-groups)
	n a "${as[@]}" "$TMP/manta" --socket "${SOCK[A]}" mcp
}
list='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
create='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create","arguments":{"name":"lab","hostname":"alice"}}}'
out=$(printf '%s\n%s\n' "$list" "$create" | rpc)
json_eval "'create' in [t['name'] for t in j['result']['tools']]" <<<"$(head -1 <<<"$out")" | grep -qx true
json_eval "j['result']['isError']" <<<"$(tail -1 <<<"$out")" | grep -qx false
[[ $(mc A --json networks | json_eval "sorted(x['name'] for x in j)") == '["home", "lab"]' ]]
out=$(printf '%s\n%s\n' "$list" "$create" | rpc "$TEST_USER")
json_eval "'create' in [t['name'] for t in j['result']['tools']]" <<<"$(head -1 <<<"$out")" | grep -qx false
json_eval "j['error']['code']" <<<"$(tail -1 <<<"$out")" | grep -qx -- -32602
say "root sees and runs create; $TEST_USER (no manta group) sees no state-changing tool"

stop_mantad A
stop_mantad B
