#!/usr/bin/env bash
# Path MTU per peer: two mantads on either side of a narrow link whose MTU
# the test lowers (1300, then 1200) and restores (1500). The underlay is
# IPv4 both ways, so a datagram carries 60 bytes of overhead (IPv4 20, UDP
# 8, WireGuard 32) and the inner packet is padded to 16: on a 1300-byte
# link the largest inner packet is 1232, on 1200 it is 1136, and a 1280-byte
# inner IPv6 packet (the IPv6 minimum) fits neither, so its outer packet
# must fragment (IPv6 TCP avoids that: mantad clamps the MSS of its SYNs).
#
#   ┌──── a ────┐      ┌──── r1 ────┐  narrow link  ┌──── r2 ────┐      ┌──── b ────┐
#   │ mantad A  │      │            │  MTU 1500 ->  │            │      │ mantad B  │
#   │ eth0      ├──────┤ to-a  to-r2├───────────────┤to-r1  to-b ├──────┤ eth0      │
#   │ 10.0.1.2  │      │ 10.0.1.1   │ 10.0.9.1/.2   │   10.0.2.1 │      │ 10.0.2.2  │
#   └───────────┘      └────────────┘ 1300 -> 1200  └────────────┘      └───────────┘
#                                      -> 1500
#
# Shown: probes find 1340 on the open path (a full 1280-byte inner packet);
# the routers' ICMP errors and the probes lower path_mtu at once;
# `ping -M do -s 1252` over the inner IPv4 gets "Frag needed" with the
# largest inner packet that fits; 100 MB over TCP in both inner families
# arrives intact at each MTU, and each transfer's throughput is compared
# with the same transfer at MTU 1500; the status says when outer packets
# fragment; IPv6 TCP SYNs get an MSS that fits; path_mtu rises again after
# the link is restored.
#
# E2E_PMTU_RATIO (default 0.3): the smallest accepted throughput relative
# to MTU 1500. One transfer per MTU on this 2-core box swings more than
# 20% from run to run at the same MTU, so the check here is against
# stalls; t_pmtu_speed.sh shows the issue's 0.8 with interleaved best-of
# runs.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

RATIO=${E2E_PMTU_RATIO:-0.3}
XFER_MB=${E2E_PMTU_MB:-100}

topo_narrow a b

mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A
for x in A B; do
	# Probes time out after 0.3 s, and a new round starts every 3 s.
	printf '\n[testing]\npmtu_probe_timeout = 0.3\npmtu_raise_interval = 3\n' >>"${CONF[$x]}"
done
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"

# pmtu_is NAME PEER PATH_MTU MAX_INNER STATE FRAGMENTS
pmtu_is() {
	json_true "$1" "peer('$2')['path_mtu'] == $3 and peer('$2')['max_inner'] == $4 and
		peer('$2')['probe_state'] == '$5' and peer('$2')['outer_fragments'] == $6"
}
show_pmtu() {
	local x
	for x in "A B" "B A"; do
		read -r me them <<<"$x"
		say "$me -> $them: $(json_get "$me" "' '.join('%s=%s' % (k, peer('$them')[k]) for k in
			('path_mtu', 'max_inner', 'probe_state', 'outer_fragments', 'ptb_sent',
			 'ptb_received', 'probes_sent', 'probes_acked', 'tx_too_big', 'tx_fragmented',
			 'mss_clamped'))")"
	done
}

pretty A "before any session, nothing is probed; the path is the local link's"
json_true A "peer('B')['probe_state'] == 'disabled' and peer('B')['path_mtu'] == 1340"
json_true A "peer('B')['ptb_sent'] == 0"

pretty A "open path: probes confirm a full 1280-byte inner packet (1340 outer)"
n a ping -c 1 -W 5 "${V4[B]}" >/dev/null
wait_for 10 pmtu_is A B 1340 1280 search_complete False
wait_for 10 pmtu_is B A 1340 1280 search_complete False
json_true A "peer('B')['probes_acked'] >= 2 and peer('B')['ptb_received'] == 0"
show_pmtu

head -c "${XFER_MB}M" /dev/urandom >"$TMP/blob"
WANT_SHA=$(sha256sum "$TMP/blob" | cut -d' ' -f1)
PORT_NEXT=5001
declare -A BASE_US=()

# xfer FAMILY LABEL: XFER_MB over one TCP connection from a to B's inner
# address of FAMILY (4 or 6); checks the sha256 and sets XFER_US.
xfer() {
	local fam=$1 label=$2 addr port sink got_sha got_len t0 t1
	[[ $fam == 4 ]] && addr=${V4[B]} || addr=${V6[B]}
	port=$PORT_NEXT
	PORT_NEXT=$((PORT_NEXT + 1))
	rm -f "$TMP/sink.result"
	ip netns exec "${NS[b]}" "$TOOLS/tcp_xfer.py" sink "$addr" "$port" "$TMP/sink.result" &
	sink=$!
	BGPIDS+=("$sink")
	wait_for 5 eval "n b ss -Hltn 'sport = :$port' | grep -q LISTEN"
	t0=$(now_us)
	timeout 120 ip netns exec "${NS[a]}" "$TOOLS/tcp_xfer.py" send "$addr" "$port" "$TMP/blob" \
		>/dev/null || fail "$label: the IPv$fam transfer did not complete within 120 s"
	wait "$sink"
	t1=$(now_us)
	read -r got_sha got_len <"$TMP/sink.result"
	[[ $got_sha == "$WANT_SHA" ]] || fail "$label: IPv$fam transfer arrived corrupted"
	((got_len == XFER_MB * 1048576))
	XFER_US=$((t1 - t0))
	say "$label IPv$fam inner: $XFER_MB MB in $(awk -v u="$XFER_US" 'BEGIN { printf "%.2f", u / 1e6 }') s" \
		"($(awk -v u="$XFER_US" -v m="$XFER_MB" 'BEGIN { printf "%.0f", m * 8 * 1.048576 / (u / 1e6) }') Mbit/s)"
}

# compare FAMILY LABEL: the transfer at this MTU against MTU 1500.
compare() {
	local fam=$1 label=$2 ratio
	xfer "$fam" "$label"
	ratio=$(awk -v b="${BASE_US[$fam]}" -v u="$XFER_US" 'BEGIN { printf "%.2f", b / u }')
	say "$label IPv$fam inner: throughput $ratio x that at MTU 1500 (at least $RATIO accepted)"
	awk -v r="$ratio" -v min="$RATIO" 'BEGIN { exit !(r >= min) }' ||
		fail "$label: IPv$fam throughput $ratio x that at MTU 1500, below $RATIO"
}

pretty A "MTU 1500: $XFER_MB MB over TCP, inner IPv4 and IPv6 (the reference)"
for fam in 4 6; do
	xfer "$fam" "MTU 1500"
	BASE_US[$fam]=$XFER_US
done

# frag_needed HOST ADDR SIZE MTU: one `ping -M do -s SIZE' gets the
# synthesized "Frag needed" naming MTU.
frag_needed() {
	local out
	out=$(n "$1" ping -c 1 -W 2 -M do -s "$3" "$2" 2>&1) || true
	say "ping -M do -s $3 $2: $(grep -E 'Frag needed|mtu' <<<"$out" | head -1)"
	grep -q "Frag needed and DF set (mtu = $4)" <<<"$out"
}

pretty r "narrow link 1300: largest inner packet 1232, IPv6 1280 must fragment"
narrow 1300
# The next probe round (or the routers' ICMP errors for data) lowers it.
wait_for 15 pmtu_is A B 1292 1232 search_complete True
wait_for 15 pmtu_is B A 1292 1232 search_complete True
json_true A "peer('B')['ptb_received'] >= 1"
frag_needed a "${V4[B]}" 1252 1232
frag_needed b "${V4[A]}" 1252 1232
json_true A "peer('B')['ptb_sent'] >= 1 and c['ptb_sent'] >= 1"
json_true B "peer('A')['ptb_sent'] >= 1"
# IPv6 cannot get a Packet Too Big below 1280: a full-size echo passes,
# its outer packet fragmented on the way.
n a ping -6 -c 2 -i 0.2 -W 3 -M do -s 1232 "${V6[B]}" >/dev/null
json_true A "peer('B')['tx_fragmented'] >= 2"
for fam in 4 6; do compare "$fam" "MTU 1300"; done
# The IPv6 transfer's SYNs were clamped to 1172 (1232 - 60), so its
# segments did not fragment: only the two echoes above did.
json_true A "peer('B')['mss_clamped'] >= 1 and peer('B')['tx_fragmented'] < 100"
show_pmtu

pretty r "narrow link 1200: largest inner packet 1136"
narrow 1200
wait_for 15 pmtu_is A B 1196 1136 search_complete True
wait_for 15 pmtu_is B A 1196 1136 search_complete True
# a's kernel still remembers 1232 for B: the IPv4 transfer starts with
# segments too big for the path, and TCP must learn 1136 from the ICMP
# error that mantad A writes into the TUN.
ptb0=$(json_get A "peer('B')['ptb_sent']")
for fam in 4 6; do compare "$fam" "MTU 1200"; done
ptb1=$(json_get A "peer('B')['ptb_sent']")
say "ICMP errors A wrote during the transfers: $((ptb1 - ptb0))"
((ptb1 > ptb0))
# b's kernel remembers 1232 for A too: ask at that size.
frag_needed b "${V4[A]}" 1204 1136
show_pmtu

pretty "(negative)" "nothing too big left the hosts with DF set: no ICMP errors about data"
# Every ICMP error the routers sent was about a probe or the first packets
# after a change; none was left unmatched to a peer.
json_true A "c['icmp_unmatched'] == 0 and c['ptb_not_allowed'] == 0"
json_true B "c['icmp_unmatched'] == 0"

pretty r "link restored to 1500: path_mtu rises again after the next probe round"
narrow 1500
wait_for 15 pmtu_is A B 1340 1280 search_complete False
wait_for 15 pmtu_is B A 1340 1280 search_complete False
show_pmtu

for x in A B; do
	json_true "$x" "c['rx_invalid'] == 0 and c['rx_bad_source'] == 0 and c['rx_auth_failed'] == 0"
done
stop_mantad A
stop_mantad B
pretty "$SCENARIO" "ok"
