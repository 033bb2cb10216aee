#!/usr/bin/env bash
# Path MTU toward a stock WireGuard peer (wireguard-go), which never answers
# manta's probes: the probes degrade to nothing (probe_state icmp_only, the
# peer keeps working, no extra handshake), and path MTU still follows the
# routers' ICMP errors, so nothing is black-holed.
#
#   ┌──── m ────┐      ┌─ r1 ─┐  narrow link   ┌─ r2 ─┐      ┌────── w ──────┐
#   │ mantad M  ├──────┤      ├────────────────┤      ├──────┤ wireguard-go W│
#   │ 10.0.1.2  │      │      │ 1500 -> 1300   │      │      │ 10.0.2.2      │
#   └───────────┘      └──────┘                └──────┘      └───────────────┘
#
# IPv4 underlay: on a 1300-byte link the largest inner packet is 1232.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

PMTU_MAX_PROBES=3

topo_narrow m w
mantad_key M m
wg_key W w
mantad_config M W
printf '\n[testing]\npmtu_probe_timeout = 0.3\npmtu_raise_interval = 600\n' >>"${CONF[M]}"
start_mantad m M "${CONF[M]}"
start_wggo w W
wg_add_peer W M 4

pretty M "open path: W does not answer probes; M says so and relies on ICMP"
n m ping -c 1 -W 5 "${V4[W]}" >/dev/null
# W's kernel answers the probe (UDP to a closed port) with an ICMPv6 port
# unreachable, which M takes as the answer and keeps out of its TUN.
tunrx0=$(link_rx_packets m manta0)
wait_for 15 json_true M "peer('W')['probe_state'] == 'icmp_only'"
json_true M "peer('W')['path_mtu'] == 1340 and peer('W')['max_inner'] == 1280"
json_true M "peer('W')['probes_acked'] == 0 and peer('W')['probes_sent'] >= 1"
json_true M "peer('W')['probes_sent'] <= $PMTU_MAX_PROBES"
# Nothing of it reached M's TUN (the ping's reply came before tunrx0).
(($(link_rx_packets m manta0) == tunrx0))
grep -q "does not answer path MTU probes" "${LOG[M]}"

pretty W "wireguard-go is not confused: traffic both ways, one handshake"
for pair in "m ${V4[W]}" "m ${V6[W]}" "w ${V4[M]}" "w ${V6[M]}"; do
	read -r h addr <<<"$pair"
	out=$(n "$h" ping -c 3 -i 0.2 -W 2 "$addr")
	read -r tx rx <<<"$(ping_summary <(echo "$out"))"
	((tx == 3 && rx == 3))
done
json_true M "peer('W')['handshakes'] == 1"
json_true M "c['rx_invalid'] == 0 and c['rx_bad_source'] == 0"

pretty r1 "narrow link 1300: the routers' ICMP errors lower M's path to W"
narrow 1300
# The first full-size echo dies at r1, whose ICMP error lowers the path;
# the next one is answered by M with "Frag needed".
frag_needed_once() {
	local out
	out=$(n m ping -c 1 -W 1 -M do -s 1252 "${V4[W]}" 2>&1) || true
	grep -q "Frag needed and DF set (mtu = 1232)" <<<"$out"
}
wait_for 15 frag_needed_once
json_true M "peer('W')['path_mtu'] == 1292 and peer('W')['max_inner'] == 1232"
json_true M "peer('W')['probe_state'] == 'icmp_only' and peer('W')['outer_fragments'] == True"
json_true M "peer('W')['ptb_received'] >= 1 and peer('W')['ptb_sent'] >= 1"

pretty M "TCP both inner families to W through the narrow link"
head -c 20M /dev/urandom >"$TMP/blob"
want=$(sha256sum "$TMP/blob" | cut -d' ' -f1)
port=5001
for addr in "${V4[W]}" "${V6[W]}"; do
	rm -f "$TMP/sink.result"
	ip netns exec "${NS[w]}" "$TOOLS/tcp_xfer.py" sink "$addr" "$port" "$TMP/sink.result" &
	BGPIDS+=("$!")
	sink=$!
	wait_for 5 eval "n w ss -Hltn 'sport = :$port' | grep -q LISTEN"
	timeout 60 ip netns exec "${NS[m]}" "$TOOLS/tcp_xfer.py" send "$addr" "$port" "$TMP/blob" >/dev/null
	wait "$sink"
	read -r got _ <"$TMP/sink.result"
	[[ $got == "$want" ]]
	say "20 MB to $addr intact"
	port=$((port + 1))
done
# M clamped the IPv6 SYNs' MSS (W's path cannot carry 1280-byte packets),
# so TCP's segments fit and none had to fragment.
json_true M "peer('W')['mss_clamped'] >= 2 and peer('W')['tx_fragmented'] == 0"
# A full-size IPv6 echo (the IPv6 minimum) still passes, fragmented.
n m ping -6 -c 3 -i 0.3 -W 2 -M do -s 1232 "${V6[W]}" >/dev/null
json_true M "peer('W')['tx_fragmented'] >= 3"

stop_mantad M
stop_wggo W
pretty "$SCENARIO" "ok"
