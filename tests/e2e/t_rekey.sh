#!/usr/bin/env bash
# Rekey under traffic: with the protocol timers shortened through [testing],
# two continuous pings (A->B over IPv6, B->A over IPv4, every 50 ms for 12 s)
# see the session's keys rotate at least four times and lose at most one
# packet each.
#
#   ┌──────── a ────────┐     ┌──────── r ────────┐     ┌──────── b ────────┐
#   │ mantad A (manta0) ├─────┤    "internet"     ├─────┤ mantad B (manta0) │
#   │ eth0 10.0.1.2     │     │ to-a        to-b  │     │ eth0 10.0.2.2     │
#   └───────────────────┘     └───────────────────┘     └───────────────────┘
#
# Timers: rekey after 2 s. reject_after_time is 5 rather than 3 so that, as
# with WireGuard's defaults (180 - 10 - 5 = 165 > 120), the receive-side
# trigger reject - keepalive - rekey_timeout = 3 s stays above rekey_after_time
# and rotation is driven by rekey_after_time, not by keys nearing rejection.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

COUNT=240 # 12 s at 50 ms

topo_internet a b
mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A
for x in A B; do
	cat >>"${CONF[$x]}" <<-EOF

		[testing]
		rekey_after_time = 2
		reject_after_time = 5
		rekey_timeout = 1
		keepalive_timeout = 1
		rekey_attempt_time = 10
	EOF
done
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"

pretty A "first handshake"
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
n b ping -c 1 -W 5 "${V4[A]}" >/dev/null
ha0=$(json_get A "peer('B')['handshakes']")
hb0=$(json_get B "peer('A')['handshakes']")

pretty A "ping both ways every 50 ms for 12 s"
ip netns exec "${NS[a]}" ping -c $COUNT -i 0.05 -W 1 "${V6[B]}" >"$TMP/ping6.out" 2>&1 &
p6=$!
ip netns exec "${NS[b]}" ping -c $COUNT -i 0.05 -W 1 "${V4[A]}" >"$TMP/ping4.out" 2>&1 &
p4=$!
BGPIDS+=("$p6" "$p4")
wait "$p6" || true
wait "$p4" || true

ha=$(($(json_get A "peer('B')['handshakes']") - ha0))
hb=$(($(json_get B "peer('A')['handshakes']") - hb0))
read -r tx6 rx6 <<<"$(ping_summary "$TMP/ping6.out")"
read -r tx4 rx4 <<<"$(ping_summary "$TMP/ping4.out")"
say "handshakes during the pings: A $ha, B $hb"
say "A -> B IPv6: $rx6/$tx6 replies; B -> A IPv4: $rx4/$tx4 replies"
((ha >= 4 || hb >= 4))
((tx6 == COUNT && tx4 == COUNT))
((tx6 - rx6 <= 1 && tx4 - rx4 <= 1))
for x in A B; do
	json_true "$x" "c['rx_auth_failed'] == 0 and c['rx_replay'] == 0 and c['rx_invalid'] == 0"
done

stop_mantad A
stop_mantad B
pretty "$SCENARIO" "ok"
