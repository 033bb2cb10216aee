#!/usr/bin/env bash
# `manta probe udp PORT': A asks a peer (B or C) to send a datagram to A's
# underlay IPv6 address on PORT from outside the tunnel. It arrives, from
# the helper's underlay address, whether nothing listens on the port or an
# application does (and that application gets the datagram too); with
# nftables dropping the port on A it does not arrive (and the helper says it
# sent it); a target that is not A's own address is refused by the helper
# and nothing goes out; too many requests are refused; GET /probe/udp gives
# the same answer over REST. A second address of A (on a veth of its own,
# routed to A by r) is in A's announcement, so dave, a member of A's
# network, sends to it; B, a static peer that knows only where A's session
# comes from, refuses it.
#
#   ┌────── a ──────┐      ┌─── r ───┐      ┌────── b ──────┐
#   │ mantad A      │      │         ├──────┤ mantad B      │ ULA:2::2
#   │ ULA:1::2 eth0 ├──────┤ router  │      └───────────────┘
#   │ ULA:101::1    │      │         │      ┌────── c ──────┐
#   │   on `second' │      │         ├──────┤ mantad C      │ ULA:3::2
#   │ udp/4000: raw │      │         │      └───────────────┘
#   │ socket, nft,  │      │         │      ┌────── d ──────┐
#   │ python3       │      │         ├──────┤ mantad D dave │ ULA:4::2
#   └───────────────┘      └─────────┘      └───────────────┘
#   A, B, C: static peers, sessions over IPv6 ([ULA:i::2]:51820);
#   A (alice) and D (dave): network `home'; r routes ULA:101::/64 to A
#
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet a b c d
n a ip link add second type veth peer name second-end
n a ip addr add "$ULA:101::1/64" dev second nodad
n a ip link set second-end up
n a ip link set second up
n r ip -6 route add "$ULA:101::/64" via "${UL6[a]}"
mantad_key A a
mantad_key B b
mantad_key C c
mantad_config A B:6 C:6
mantad_config B A:6 C:6
mantad_config C A:6 B:6
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
start_mantad c C "${CONF[C]}"
mantad_key D d
mantad_config D
start_mantad d D "${CONF[D]}"
n a "$MANTA" --socket "${SOCK[A]}" create home --hostname alice >/dev/null
token=$(n a "$MANTA" --socket "${SOCK[A]}" --json invite home | json_eval 'j["token"]')
n d "$MANTA" --socket "${SOCK[D]}" join "$token" --hostname dave >/dev/null
n a ping -c 1 -W 5 "${V6[D]}" >/dev/null
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
n a ping -c 1 -W 5 "${V6[C]}" >/dev/null
wait_for 10 json_true A "peer('B')['session'] and peer('C')['session'] and peer('D')['session']"

# probe ARGS...: `manta probe' on A, its JSON in $TMP/probe.json, its exit
# status in PROBE_RC.
probe() {
	PROBE_RC=0
	n a "$MANTA" --socket "${SOCK[A]}" probe "$@" >"$TMP/probe.out" 2>"$TMP/probe.err" ||
		PROBE_RC=$?
}
res() { json_eval "$1" <"$TMP/probe.out"; }
listening_4000() { n a ss -Hulnp 'sport = :4000' | grep -q .; }

pretty A "nothing listens on udp/4000; probe with the default helper"
! listening_4000 || fail "something listens on udp/4000 already"
probe udp 4000 --json
((PROBE_RC == 0)) || fail "probe failed ($PROBE_RC): $(cat "$TMP/probe.err" "$TMP/probe.out")"
[[ $(res 'j["arrived"]') == true ]]
[[ $(res 'j["port"]') == 4000 ]]
[[ $(res 'j["address"]') == "${UL6[a]}" ]] # A's announced IPv6 endpoint (a ULA here)
via=$(res 'j["via"]')
case $via in
"${V6[B]}") helper=b ;;
"${V6[C]}") helper=c ;;
dave) helper=d ;;
*) fail "probe went via \`$via', neither B (${V6[B]}) nor C (${V6[C]})" ;;
esac
[[ $(res 'j["from"]') == "${UL6[$helper]}" ]] # the helper's underlay, not its mesh address
[[ $(res 'j["sent"]') == true ]]
rtt=$(res 'j["rtt_ms"]')
python3 -c "import sys; r = float(sys.argv[1]); sys.exit(not 0 < r < 3000)" "$rtt"
say "arrived from $(res 'j["from"]') via $via in $rtt ms"

pretty A "the same, via B, with a python3 UDP listener on udp/4000"
n a python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 4000))
d, a = s.recvfrom(100)
open(sys.argv[1], "w").write("%s %s %d\n" % (a[0], d[:4].decode(), len(d)))
' "$TMP/listener.out" &
BGPIDS+=("$!")
wait_for 5 listening_4000
probe udp 4000 --via "${V6[B]}" --json
((PROBE_RC == 0)) || fail "probe failed ($PROBE_RC): $(cat "$TMP/probe.err" "$TMP/probe.out")"
[[ $(res 'j["arrived"]') == true && $(res 'j["from"]') == "${UL6[b]}" ]]
[[ $(res 'j["via"]') == "${V6[B]}" ]]
wait_for 5 test -s "$TMP/listener.out"
[[ $(cat "$TMP/listener.out") == "${UL6[b]} MPRB 20" ]] # the application got it too
say "the listener got it: $(cat "$TMP/listener.out")"

pretty A "human output"
probe udp 4000 --via "${V6[C]}"
((PROBE_RC == 0))
grep -qxE "udp/4000 on ${UL6[a]}: reachable \(from ${UL6[c]} via ${V6[C]}, [0-9.]+ ms\)" \
	"$TMP/probe.out" || fail "unexpected output: $(cat "$TMP/probe.out")"
say "$(cat "$TMP/probe.out")"

pretty A "nftables drops udp/4000 on A: nothing arrives"
n a nft add table inet probetest
n a nft add chain inet probetest in '{ type filter hook input priority 0; }'
n a nft add rule inet probetest in udp dport 4000 counter drop
probe udp 4000 --via "${V6[C]}" --json
((PROBE_RC == 1)) || fail "probe through a drop rule exited $PROBE_RC"
[[ $(res 'j["arrived"]') == false && $(res 'j["from"]') == null && $(res 'j["rtt_ms"]') == null ]]
[[ $(res 'j["sent"]') == true ]] # C did send it: the filter, not the helper
grep -q 'asking .* again' "$TMP/probe.err" # the retry
dropped=$(n a nft -j list ruleset | python3 -c '
import json, sys
for r in json.load(sys.stdin)["nftables"]:
    for e in r.get("rule", {}).get("expr", []):
        if "counter" in e:
            print(e["counter"]["packets"])')
((dropped == 2)) || fail "the drop rule counted $dropped datagrams, not 2 (request and retry)"
probe udp 4000 --via "${V6[B]}"
((PROBE_RC == 1))
grep -qx "udp/4000 on ${UL6[a]}: not reachable: nothing arrived in 3 s (via ${V6[B]}, which sent it)" \
	"$TMP/probe.out" || fail "unexpected output: $(cat "$TMP/probe.out")"
say "$(cat "$TMP/probe.out")"
n a nft delete table inet probetest

pretty B "refuses a target that is not A's own address; nothing goes out"
capture_start r to-b third host 2001:db8:99::1
probe udp 4000 --via "${V6[B]}" --address 2001:db8:99::1 --json
((PROBE_RC == 1))
grep -q "refused the probe: the address is not one this node announced" "$TMP/probe.err" ||
	fail "no refusal: $(cat "$TMP/probe.err" "$TMP/probe.out")"
wait_for 5 grep -q 'probe to \[2001:db8:99::1\]:4000 not sent: not an address the requester' \
	"${LOG[B]}"
capture_stop third
[[ $(tcpdump -nr "${CAP_FILE[third]}" 2>/dev/null | wc -l) == 0 ]]
say "$(cat "$TMP/probe.err")"
# An address that can never be a target is refused by A itself.
probe udp 4000 --address fe80::1
((PROBE_RC == 1))
grep -q "not a unicast IPv6 address outside the mesh" "$TMP/probe.err"

pretty D "sends to A's second address, which A announced in network home"
probe udp 4000 --via dave --address "$ULA:101::1" --json
((PROBE_RC == 0)) || fail "probe failed ($PROBE_RC): $(cat "$TMP/probe.err" "$TMP/probe.out")"
[[ $(res 'j["arrived"]') == true && $(res 'j["from"]') == "${UL6[d]}" && $(res 'j["via"]') == dave ]]
say "arrived from $(res 'j["from"]') via dave"
pretty B "refuses it: a static peer knows only where A's session comes from"
probe udp 4000 --via "${V6[B]}" --address "$ULA:101::1" --json
((PROBE_RC == 1))
grep -q "refused the probe: the address is not one this node announced" "$TMP/probe.err"

pretty A "GET /probe/udp?port=4000 with the API token"
TOKEN=$(cat "${STATE[A]}/api.token")
code=$(n a curl -sS -o "$TMP/probe.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:8642/probe/udp?port=4000&via=${V6[C]}")
((code == 200)) || fail "GET /probe/udp: $code $(cat "$TMP/probe.out")"
[[ $(res 'sorted(j)') == '["address", "arrived", "from", "from_port", "port", "rtt_ms", "sent", "via"]' ]]
[[ $(res 'j["arrived"]') == true && $(res 'j["from"]') == "${UL6[c]}" ]]
say "$(cat "$TMP/probe.out")"
code=$(n a curl -sS -o "$TMP/probe.out" -w '%{http_code}' "http://127.0.0.1:8642/probe/udp?port=4000")
((code == 401))
code=$(n a curl -sS -o "$TMP/probe.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:8642/probe/udp?port=0")
((code == 400))

pretty B "rate limit: at most 6 at once per requester"
refused=0
for i in 1 2 3 4 5 6 7 8; do
	probe udp 4000 --via "${V6[B]}"
	if grep -q 'too many probes' "$TMP/probe.err"; then
		refused=$i
		break
	fi
	((PROBE_RC == 0)) || fail "probe $i: $(cat "$TMP/probe.err" "$TMP/probe.out")"
done
# B has had at most 6 of A's requests so far (the first, the listener's,
# two through the drop rule, two refused); its bucket of 6, plus one every
# 10 s, runs dry within a few more.
((refused >= 1)) || fail "B refused none of 8 more requests"
say "request $refused refused: $(cat "$TMP/probe.err")"

pretty A "stops while a probe waits: the probe is answered, nothing leaks"
n a nft add table inet probetest
n a nft add chain inet probetest in '{ type filter hook input priority 0; }'
n a nft add rule inet probetest in udp dport 4002 drop
n a "$MANTA" --socket "${SOCK[A]}" probe udp 4002 --via "${V6[C]}" >"$TMP/late.out" 2>&1 &
late=$!
wait_for 5 grep -q 'sent a probe datagram to .*:4002' "${LOG[C]}"
stop_mantad A
late_rc=0
wait "$late" || late_rc=$?
if ((late_rc != 1)) || ! grep -q 'mantad is stopping' "$TMP/late.out"; then
	fail "the waiting probe got ($late_rc): $(cat "$TMP/late.out")"
fi
stop_mantad B
stop_mantad C
stop_mantad D
