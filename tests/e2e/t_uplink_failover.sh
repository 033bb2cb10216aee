#!/usr/bin/env bash
# Failover between two uplinks, with the mesh on top: node N reaches its
# peer P over IPv6 only through two userspace 6in4 uplinks, he1 (metric
# 2048, preferred) and he2 (metric 3000), to two brokers. When broker 1
# goes silent, he1's health goes down, its default route is demoted by
# 4096, the kernel sends through he2 from he2's address, P sees N roam to
# it and the ping between their mesh addresses goes on; when broker 1
# answers again, he1 is preferred again and P sees N come back.
#
#   ┌──── node ────┐            ┌──── r ────┐            ┌──── b1 ────┐
#   │ mantad N     ├─10.0.1.2───┤  routes   ├─10.0.2.2───┤ 6in4 broker│ 2001:db8:1::/64
#   │ he1 2001:db8:1::2         │ 2001:db8: │            └────────────┘
#   │ he2 2001:db8:3::2         │ 1::/64→b1 │            ┌──── b2 ────┐
#   │ (no other IPv6 route)     │ 3::/64→b2 ├─10.0.3.2───┤ 6in4 broker│ 2001:db8:3::/64
#   └──────────────┘            │           │            └────────────┘
#                               │           ├─ULA:4::2── peer: mantad P
#                               └───────────┘
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet node b1 b2 peer

# broker HOST N: a broker for node on HOST, 2001:db8:N::1/64 on its side,
# routed from r.
broker() {
	local h=$1 i=$2
	n "$h" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip netns exec "${NS[$h]}" "$TOOLS/broker6in4.py" --local "${UL4[$h]}" \
		--client "${UL4[node]}" --tun he-srv --ready "$TMP/$h.ready" 2>"$TMP/$h.log" &
	BGPIDS+=("$!")
	wait_for 5 test -e "$TMP/$h.ready"
	n "$h" ip link set he-srv mtu 1480 up
	n "$h" ip -6 addr add "2001:db8:$i::1/64" dev he-srv nodad
	n r ip -6 route add "2001:db8:$i::/64" via "${UL6[$h]}"
}
pretty r "two brokers: b1 for 2001:db8:1::/64, b2 for 2001:db8:3::/64"
broker b1 1
broker b2 3

pretty node "mantad N with he1 (metric 2048) and he2 (metric 3000); P knows N by key only"
n node ip -6 route del default
mantad_key N node
mantad_key P peer
mantad_config N P:6
mantad_config P N:none
cat >>"${CONF[N]}" <<CONF

[uplink.he1]
type = he_6in4
mode = userspace
server_ipv4 = ${UL4[b1]}
client_ipv6 = 2001:db8:1::2/64
default_route = true
probe_interval = 0.5

[uplink.he2]
type = he_6in4
mode = userspace
server_ipv4 = ${UL4[b2]}
client_ipv6 = 2001:db8:3::2/64
default_route = true
metric = 3000
probe_interval = 0.5
CONF
start_mantad node N "${CONF[N]}"
start_mantad peer P "${CONF[P]}"

mc() { n node "$MANTA" --socket "${SOCK[N]}" "$@"; }
uplink() { uplink_get N "$1" "$2"; }
uplink_true() { [[ $(uplink "$1" "bool($2)") == true ]]; }
wait_for 10 uplink_true he1 "u['state'] == 'up'"
wait_for 10 uplink_true he2 "u['state'] == 'up'"
n node ip -6 route show default | sed 's/^/    /'
# No uplink here sends endpoint updates: libcurl was never loaded.
if grep -q libcurl "/proc/${PID[N]}/maps"; then fail "mantad loaded libcurl for nothing"; fi
grep -q 'dev he-he1 .*metric 2048' <<<"$(n node ip -6 route show default)"
grep -q 'dev he-he2 .*metric 3000' <<<"$(n node ip -6 route show default)"

pretty node "N pings P's mesh address: through he1, P sees N at 2001:db8:1::2"
PING=$TMP/ping.out
ip netns exec "${NS[node]}" ping -i 0.1 -W 1 "${V6[P]}" >"$PING" 2>&1 &
ping_pid=$!
BGPIDS+=("$ping_pid")
replies() { grep -c 'bytes from' "$PING" || true; }
replies_at_least() { (($(replies) >= $1)); }
wait_for 15 replies_at_least 5
wait_for 5 json_true P "peer('N')['endpoint'].startswith('[2001:db8:1::2]')"
say "P sees N at $(json_get P "peer('N')['endpoint']")"
hs=$(json_get N "peer('P')['handshakes']")

pretty b1 "broker 1 goes silent: he1 down and demoted, the ping goes on through he2"
n b1 nft add table inet silence
n b1 nft add chain inet silence in '{ type filter hook input priority 0; }'
n b1 nft add rule inet silence in meta l4proto 41 drop
t0=$(now_us)
wait_for 10 uplink_true he1 "u['state'] == 'down' and u['routes_demoted']"
r0=$(replies)
wait_for 10 replies_at_least $((r0 + 10))
say "he1 down and demoted, the ping answered again after $((($(now_us) - t0) / 1000)) ms"
n node ip -6 route show default | sed 's/^/    /'
grep -q 'dev he-he1 .*metric 6144' <<<"$(n node ip -6 route show default)"
wait_for 5 json_true P "peer('N')['endpoint'].startswith('[2001:db8:3::2]')"
say "P sees N at $(json_get P "peer('N')['endpoint']")"
grep -q "he1 (he-he1): 1 default route(s) demoted" "${LOG[N]}"

pretty b1 "broker 1 answers again: he1 up and preferred, P sees N back at 2001:db8:1::2"
n b1 nft delete table inet silence
wait_for 10 uplink_true he1 "u['state'] == 'up' and not u['routes_demoted']"
grep -q 'dev he-he1 .*metric 2048' <<<"$(n node ip -6 route show default)"
wait_for 10 json_true P "peer('N')['endpoint'].startswith('[2001:db8:1::2]')"
r1=$(replies)
wait_for 10 replies_at_least $((r1 + 10))
kill -INT "$ping_pid"
wait "$ping_pid" || true
read -r tx rx <<<"$(ping_summary "$PING")"
say "N -> P: $rx/$tx replies across both moves; handshakes $hs -> $(json_get N "peer('P')['handshakes']")"
# The session roamed with N: no new handshake was needed for either move.
json_true N "peer('P')['handshakes'] == $hs"

stop_mantad N
stop_mantad P
