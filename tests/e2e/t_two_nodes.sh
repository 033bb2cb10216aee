#!/usr/bin/env bash
# Two mantads on opposite sides of a router: identity and addresses, ping over
# the derived IPv6 and IPv4 both ways, exact byte counters, a 50 MB TCP
# transfer over the overlay with matching sha256, and a clean SIGTERM.
#
#   ┌──────────── a ────────────┐     ┌──────── r ────────┐     ┌──────────── b ────────────┐
#   │ mantad A                  │     │    "internet"     │     │                  mantad B │
#   │ manta0 V6(A)/128 V4(A)/32 │     │  forwards v4, v6  │     │ manta0 V6(B)/128 V4(B)/32 │
#   │ eth0 10.0.1.2             ├─────┤ to-a        to-b  ├─────┤ eth0 10.0.2.2             │
#   │      fd6d:616e:7461:1::2  │     │ 10.0.1.1 10.0.2.1 │     │      fd6d:616e:7461:2::2  │
#   └───────────────────────────┘     └───────────────────┘     └───────────────────────────┘
#
# A knows B by B's IPv6 underlay endpoint, B knows A by A's IPv4 one, so the
# dual-stack socket carries both families.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet a b
mantad_key A a
mantad_key B b
mantad_config A B:6
mantad_config B A
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"
t0=$(date +%s)

pretty A "identity and addresses"
for x in A B; do
	h=${HOSTOF[$x]}
	[[ $(json_get "$x" 'j["public_key"]') == "${PUB[$x]}" ]]
	[[ $(json_get "$x" 'j["ipv6"]') == "${V6[$x]}" ]]
	[[ $(json_get "$x" 'j["ipv4"]') == "${V4[$x]}" ]]
	[[ $(json_get "$x" 'j["listen_port"]') == "${PORT[$x]}" ]]
	[[ $(json_get "$x" 'j["tun"]') == manta0 ]]
	# `manta addresses` agrees with the Python reference in tools/addresses.py.
	[[ $("$MANTA" addresses "${PUB[$x]}") == "$("$TOOLS/addresses.py" "${PUB[$x]}")" ]]
	# The key file is private.
	[[ $(stat -c %a "${STATE[$x]}/node.key") == 600 ]]
	# TUN: MTU 1280, the node's /128 and /32, the two overlay prefixes.
	[[ $(n "$h" cat /sys/class/net/manta0/mtu) == 1280 ]]
	n "$h" ip -6 addr show dev manta0 | grep "inet6 ${V6[$x]}/128" >/dev/null
	n "$h" ip -4 addr show dev manta0 | grep "inet ${V4[$x]}/32" >/dev/null
	n "$h" ip -6 route show 200::/7 | grep 'dev manta0' >/dev/null
	n "$h" ip -4 route show 100.64.0.0/10 | grep 'dev manta0' >/dev/null
done
json_true A "peer('B')['ipv6'] == '${V6[B]}' and peer('B')['ipv4'] == '${V4[B]}'"
json_true B "peer('A')['ipv6'] == '${V6[A]}' and peer('A')['ipv4'] == '${V4[A]}'"
json_true A "peer('B')['endpoint'] == '$(endpoint B 6)'"
json_true B "peer('A')['endpoint'] == '$(endpoint A 4)'"
# No traffic yet, so no session.
json_true A "peer('B')['last_handshake'] is None and peer('B')['handshakes'] == 0"
json_true B "peer('A')['last_handshake'] is None and peer('A')['handshakes'] == 0"

pretty A "ping B over IPv6 and IPv4 (the first packet waits for the handshake)"
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
for pair in "a ${V6[B]}" "a ${V4[B]}" "b ${V6[A]}" "b ${V4[A]}"; do
	read -r h addr <<<"$pair"
	out=$(n "$h" ping -c 3 -i 0.2 -W 2 "$addr")
	read -r tx rx <<<"$(ping_summary <(echo "$out"))"
	say "$h -> $addr: $rx/$tx replies"
	((tx == 3 && rx == 3))
done
json_true A "peer('B')['last_handshake'] is not None and peer('B')['handshakes'] >= 1"
json_true B "peer('A')['last_handshake'] is not None and peer('A')['handshakes'] >= 1"

pretty A "exact byte counters: 5 IPv4 and 5 IPv6 echo requests of 100 bytes"
# A transport message is 16 header bytes, the inner packet padded to 16, and
# a 16-byte tag: IPv4 20+8+100 = 128 -> 160 bytes; IPv6 40+8+100 = 148 ->
# 160 -> 192 bytes. The session exists, so nothing else is sent meanwhile.
a_tx0=$(json_get A "peer('B')['tx_bytes']")
b_rx0=$(json_get B "peer('A')['rx_bytes']")
n a ping -c 5 -i 0.1 -s 100 "${V4[B]}" >/dev/null
n a ping -c 5 -i 0.1 -s 100 "${V6[B]}" >/dev/null
a_tx=$(($(json_get A "peer('B')['tx_bytes']") - a_tx0))
b_rx=$(($(json_get B "peer('A')['rx_bytes']") - b_rx0))
say "A sent $a_tx bytes to B, B received $b_rx bytes from A (expected 1760)"
((a_tx == 5 * 160 + 5 * 192))
((b_rx == 5 * 160 + 5 * 192))

pretty A "50 MB over TCP to B's overlay IPv6 address"
head -c 50M /dev/urandom >"$TMP/blob"
want=$(sha256sum "$TMP/blob" | cut -d' ' -f1)
ip netns exec "${NS[b]}" "$TOOLS/tcp_xfer.py" sink "${V6[B]}" 5001 "$TMP/sink.result" &
sink=$!
BGPIDS+=("$sink")
wait_for 5 eval "n b ss -Hltn 'sport = :5001' | grep LISTEN"
sent=$(timeout 120 ip netns exec "${NS[a]}" "$TOOLS/tcp_xfer.py" send "${V6[B]}" 5001 "$TMP/blob")
wait "$sink"
read -r got_sha got_len <"$TMP/sink.result"
say "sent $sent; received $got_sha $got_len"
[[ $got_sha == "$want" ]]
((got_len == 52428800))

pretty A "status counts the transfer"
now=$(date +%s)
a_tx=$(json_get A "peer('B')['tx_bytes']")
b_rx=$(json_get B "peer('A')['rx_bytes']")
say "A tx_bytes $a_tx, B rx_bytes $b_rx"
((a_tx > 52428800 && b_rx > 52428800))
for x in "A B" "B A"; do
	read -r me them <<<"$x"
	hs=$(json_get "$me" "peer('$them')['last_handshake']")
	[[ $hs != null ]]
	((hs >= t0 - 5 && hs <= now + 5))
done
# Nothing was malformed, forged or replayed on this clean path.
for x in A B; do
	json_true "$x" "c['rx_invalid'] == 0 and c['rx_bad_mac1'] == 0 and c['rx_unknown_peer'] == 0"
	json_true "$x" "c['rx_replay'] == 0 and c['rx_bad_source'] == 0 and c['rx_auth_failed'] == 0"
done

stop_mantad A
stop_mantad B
for h in a b; do
	[[ -z $(n "$h" ip -6 route show 200::/7) ]]
	[[ -z $(n "$h" ip -4 route show 100.64.0.0/10) ]]
done
pretty "$SCENARIO" "ok"
