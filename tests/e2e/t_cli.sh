#!/usr/bin/env bash
# The CLI and the control socket against one mantad: JSON output that
# parses, usage errors (exit 2, with the usage), the rights of a user outside
# the manta group (may look, may not change: exit 1), and requests the
# socket must refuse without dying: a line that is not JSON, one over 1 MiB,
# several pipelined, and one from a client that stops sending first.
#
#   ┌────────────── a ──────────────┐
#   │ mantad A   manta0             │      $TMP/A/ctl.sock  <- manta (root)
#   │            lo                 │                       <- manta (user mantatest,
#   └───────────────────────────────┘                          no manta group)
#
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

TEST_USER=mantatest
CREATED_USER=0
# Our own cleanup first (the user), then lib.sh's, with the same exit status.
trap 'rc=$?; ((CREATED_USER)) && userdel "$TEST_USER" 2>/dev/null; (exit $rc); cleanup' EXIT

new_host a
mantad_key A a
mantad_config A
start_mantad a A "${CONF[A]}"
sock=${SOCK[A]}
m() { n a "$MANTA" --socket "$sock" "$@"; }

pretty A "the socket: mode 0660"
[[ $(stat -c %a "$sock") == 660 ]]

pretty A "--json output parses"
m --json status | python3 -c 'import json, sys; j = json.load(sys.stdin); assert j["public_key"] == sys.argv[1], j' "${PUB[A]}"
m status --json | python3 -c 'import json, sys; assert "peers" in json.load(sys.stdin)'
m --json version | python3 -c 'import json, sys; j = json.load(sys.stdin); assert j["manta"] == j["mantad"], j'
MANTA_SOCKET=$sock n a "$MANTA" --json version | python3 -c 'import json, sys; assert json.load(sys.stdin)["mantad"] != "not running"'
out=$(m status)
sed "s/^/    /" <<<"$out"
grep -q "^  public key: ${PUB[A]}\$" <<<"$out"
grep -q "^  ipv6: ${V6[A]}\$" <<<"$out"

pretty A "help and usage errors: exit 0 and 2"
m --help | grep -q '^Exit status: 0 success, 1 the operation failed, 2 usage error.$'
m invite --help | grep -q '^Usage: .* invite NAME'
usage_error() {
	local rc=0 err
	err=$(m "$@" 2>&1 >/dev/null) || rc=$?
	((rc == 2)) || fail "manta $*: exit $rc, expected 2"
	grep -q '^Usage: ' <<<"$err" || fail "manta $*: no usage on stderr: $err"
}
usage_error create
usage_error invite
usage_error bogus
usage_error ping -c x h
usage_error ping -c 101 h
usage_error invite home --expires soon
usage_error join
usage_error kick home
usage_error status extra
usage_error --frobnicate status

pretty A "no daemon: exit 1 and a hint"
rc=0
err=$(n a "$MANTA" --socket "$TMP/nothing.sock" status 2>&1) || rc=$?
((rc == 1))
grep -q 'is mantad running?' <<<"$err"

pretty A "a user outside the manta group may look but not change"
if ! id "$TEST_USER" >/dev/null 2>&1; then
	useradd -r -M -s /usr/sbin/nologin "$TEST_USER"
	CREATED_USER=1
fi
if id -nG "$TEST_USER" | grep -qw manta; then
	fail "$TEST_USER is in the manta group: this test needs a user who is not"
fi
# The socket is 0660 root:manta, so such a user cannot even connect: open it
# to everyone, as a site that lets every local user read the status would.
# The daemon then still decides by the caller's credentials (SO_PEERCRED).
# The user also needs to reach the socket and the binary in our directory.
chmod 0711 "$TMP" "$TMP/A"
chmod 0666 "$sock"
install -m 0755 "$MANTA" "$TMP/manta"
as_user() {
	n a setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups \
		"$TMP/manta" --socket "$sock" "$@"
}
as_user --json status | python3 -c 'import json, sys; assert json.load(sys.stdin)["public_key"]'
rc=0
err=$(as_user create x 2>&1) || rc=$?
say "$err"
((rc == 1))
grep -q "manta group" <<<"$err"
rc=0
as_user --json invite x >/dev/null 2>&1 || rc=$?
((rc == 1))

pretty A "the socket refuses bad requests and lives on"
n a python3 - "$sock" <<'EOF'
import json, socket, sys

path = sys.argv[1]

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s

def read_lines(s, n):
    buf = b""
    while buf.count(b"\n") < n:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return [json.loads(l) for l in buf.decode().splitlines()]

# Not JSON, then a good request on the same connection.
s = connect()
s.sendall(b"this is not json\n{\"command\":\"version\"}\n")
bad, good = read_lines(s, 2)
assert bad["ok"] is False and bad["error"].startswith("request is not JSON"), bad
assert good["ok"] is True and good["result"]["version"], good
s.close()

# Over 1 MiB without a newline: an error, then the daemon closes.
s = connect()
try:
    s.sendall(b"x" * ((1 << 20) + 4096))
except OSError:
    pass  # it may close before we finish: the reply is still there
reply = read_lines(s, 1)
assert reply and reply[0] == {"ok": False, "error": "request larger than 1 MiB"}, reply
assert s.recv(1) == b"", "connection left open"
s.close()

# Several requests at once: answered in order, one reply each.
s = connect()
s.sendall(b'{"command":"version"}\n[]\n{"command":"status","args":{"x":1}}\n{"command":"nope"}\n')
r = read_lines(s, 4)
assert r[0]["ok"] is True, r
assert r[1]["error"] == "request must be a JSON object", r
assert r[2]["error"] == "args: unknown field `x'", r
assert r[3]["error"] == "unknown command `nope'", r
s.close()

# A client that shuts down its sending side still gets the answer, even to
# a last line without a newline.
s = connect()
s.sendall(b'{"command":"version"}')
s.shutdown(socket.SHUT_WR)
r = read_lines(s, 1)
assert r and r[0]["ok"] is True, r
s.close()
print("    bad requests refused, each with its reply")
EOF
m --json status >/dev/null

stop_mantad A
