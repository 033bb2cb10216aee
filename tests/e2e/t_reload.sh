#!/usr/bin/env bash
# SIGHUP (systemctl reload) while a ping runs: A's changed configuration --
# a new static peer C, a changed setting of peer B, an option this mantad
# does not know -- applies without dropping the session with B or losing a
# packet of the ping; a configuration with an error is refused and the
# running one stays. The same for A's firewall file: a rule added to it by
# hand applies on SIGHUP, a broken file is refused and the rules stay.
#
#   ┌────── a ──────┐     ┌──── r ────┐     ┌────── b ──────┐
#   │ mantad A      ├─────┤ "internet"├─────┤ mantad B      │  ping b -> A all along
#   │ peers: B      │     │           │     │ peers: A      │
#   │ +C on SIGHUP  │     │           │     └───────────────┘
#   └───────────────┘     │           │     ┌────── c ──────┐
#                         │           ├─────┤ mantad C      │
#                         └───────────┘     │ peers: A      │
#                                           └───────────────┘
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet a b c
mantad_key A a
mantad_key B b
mantad_key C c
mantad_config A B
mantad_config B A
mantad_config C A:ka=5
# A section a later version may add: a warning with the line, not an error.
printf '\n[future]\nsetting = 1\n' >>"${CONF[A]}"
start_mantad a A "${CONF[A]}"
grep -q "${CONF[A]}:$(grep -n '^\[future\]' "${CONF[A]}" | cut -d: -f1): unknown section \[future\], ignored with its keys" "${LOG[A]}"
start_mantad b B "${CONF[B]}"
start_mantad c C "${CONF[C]}"

pretty B "a ping to A that runs through every reload"
PING_OUT=$TMP/ping.out
ip netns exec "${NS[b]}" ping -i 0.05 -W 1 "${V6[A]}" >"$PING_OUT" 2>&1 &
ping_pid=$!
BGPIDS+=("$ping_pid")
replies() { grep -c 'bytes from' "$PING_OUT" || true; }
replies_at_least() { (($(replies) >= $1)); }
wait_for 10 replies_at_least 10
hs=$(json_get A "peer('B')['handshakes']")
last=$(json_get A "peer('B')['last_handshake']")
json_true A "peer('B')['session'] and peer('B')['persistent_keepalive'] == 0"
json_true A "len(j['peers']) == 1"
# C knows A, A does not know C yet: C's handshakes are refused.
n c ping -c 1 -W 1 "${V6[A]}" >/dev/null && fail "C reached A before A knew it"
json_true A "c['rx_unknown_peer'] >= 1"

pretty A "SIGHUP with a new peer C, B's keepalive changed and an unknown key"
mantad_config A B:ka=25 C
printf 'future_option = 1\n' >>"${CONF[A]}"
line=$(grep -n '^future_option' "${CONF[A]}" | cut -d: -f1)
r0=$(replies)
kill -HUP "${PID[A]}"
wait_for 5 grep -q "${CONF[A]}: re-read, 2 peers" "${LOG[A]}"
grep -q "${CONF[A]}:$line: unknown key \`future_option' in \[peer\], ignored" "${LOG[A]}"
json_true A "len(j['peers']) == 2 and peer('B')['persistent_keepalive'] == 25"
# A has C's endpoint now and starts the handshake (C itself waits out its
# retry timer after the refusals above).
n a ping -c 3 -i 0.2 -W 2 "${V4[C]}" >/dev/null
n c ping -c 3 -i 0.2 -W 2 "${V6[A]}" >/dev/null
json_true A "peer('C')['session']"

pretty A "SIGHUP with a mistake in the file: refused, the running peers stay"
printf '[peer]\npublic_key = not-a-key\n' >>"${CONF[A]}"
kill -HUP "${PID[A]}"
wait_for 5 grep -q "SIGHUP: keeping the running configuration: ${CONF[A]}:$((line + 2)): public_key is not a valid key: \`not-a-key'" "${LOG[A]}"
json_true A "len(j['peers']) == 2"
n c ping -c 2 -i 0.2 -W 2 "${V6[A]}" >/dev/null

pretty A "SIGHUP with a firewall rule added to firewall.json: B's TCP to port 7000 stops"
n a "$TOOLS/tcp_probe.py" serve 7000 >"$TMP/serve.out" 2>&1 &
BGPIDS+=($!)
wait_for 5 grep -q listening "$TMP/serve.out"
out=$(n b "$TOOLS/tcp_probe.py" connect "${V6[A]}" 7000) || true
[[ $out == ok* ]] || fail "B cannot reach port 7000 before the reload: $out; $(json_get A "j['firewall']")"
FW=${STATE[A]}/firewall.json
cat >"$FW.new" <<'JSON'
{"version": 1,
 "default": {"in": "deny", "out": "allow", "static": "allow"},
 "reject": false, "max_flows": 65536,
 "rules": [{"direction": "in", "action": "allow", "proto": "icmp"},
	   {"direction": "in", "action": "deny", "proto": "tcp", "ports": "7000"}]}
JSON
mv "$FW.new" "$FW"
kill -HUP "${PID[A]}"
wait_for 5 grep -q "$FW: re-read, 2 rules, inbound deny by default" "${LOG[A]}"
[[ $(n b "$TOOLS/tcp_probe.py" connect "${V6[A]}" 7000 1) == timeout* ]] ||
	fail "B still reaches A's port 7000 after the reload"
json_true A "j['firewall']['rules'] == 2 and j['firewall']['dropped']['in_rule'] >= 1"

pretty A "SIGHUP with a broken firewall.json: refused, the rule stays"
printf '{"version": 1, "rules": [' >"$FW"
kill -HUP "${PID[A]}"
wait_for 5 grep -q "SIGHUP: keeping the running rules: $FW: not JSON" "${LOG[A]}"
[[ $(n b "$TOOLS/tcp_probe.py" connect "${V6[A]}" 7000 1) == timeout* ]] ||
	fail "the broken file opened port 7000"
json_true A "j['firewall']['rules'] == 2 and j['firewall']['error'] is not None"

pretty B "the ping ran through: no loss, and A kept its session with B"
wait_for 10 replies_at_least $((r0 + 20))
kill -INT "$ping_pid"
wait "$ping_pid" || true
read -r tx rx <<<"$(ping_summary "$PING_OUT")"
say "b -> A: $rx/$tx replies across both reloads"
# Every echo was answered, in order: replies 1..rx without a gap, and at
# most the last one still on its way when the ping was stopped.
seqs=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$PING_OUT" | sort -n | uniq | tr '\n' ' ')
[[ $seqs == "$(seq -s ' ' 1 "$rx") " ]]
((tx >= 30 && rx >= tx - 1))
json_true A "peer('B')['handshakes'] == $hs and peer('B')['last_handshake'] == $last"

stop_mantad A
stop_mantad B
stop_mantad C
