#!/usr/bin/env bash
# What must not get through:
#   (a) replay: transport packets B sent to A, captured and re-sent, are
#       counted as replays and never reach A's TUN (nor move B's endpoint);
#   (b) unknown key: a wireguard-go X whose key A does not know handshakes
#       toward A and gets no answer at all;
#   (c) spoofing: wireguard-go S, a configured peer, sends from the address of
#       another configured peer C (which never runs): A drops it, no reply.
#
#                          ┌───────────── r ("internet") ─────────────┐
#                          │ to-a 10.0.1.1   to-b 10.0.2.1            │
#                          │ to-x 10.0.3.1   to-s 10.0.4.1            │
#                          │ tcpdump on to-a and to-x                 │
#                          └──┬───────────┬────────────┬───────────┬──┘
#                             │           │            │           │
#   a: mantad A ──────────────┘           │            │           └── s: wireguard-go S
#      eth0 10.0.1.2, peers B, S, C       │            │               peer A; own addresses
#   b: mantad B ──────────────────────────┘            │               plus V6(C), V4(C)
#      eth0 10.0.2.2, peer A                           │
#   x: wireguard-go X (not A's peer) ──────────────────┘
#      eth0 10.0.3.2, peer A
#   C: a key in A's config only; nothing runs with it.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet a b x s
mantad_key A a
mantad_key B b
wg_key X x
wg_key S s
wg_key C s 51899
mantad_config A B S C:none
mantad_config B A
start_mantad a A "${CONF[A]}"
start_mantad b B "${CONF[B]}"

pretty "(a)" "replayed transport packets are dropped and counted"
n b ping -c 1 -W 5 "${V6[A]}" >/dev/null
capture_start r to-a replay udp and src host "${UL4[b]}" and dst host "${UL4[a]}"
out=$(n b ping -c 20 -i 0.05 -W 2 "${V6[A]}")
read -r tx rx <<<"$(ping_summary <(echo "$out"))"
((tx == 20 && rx == 20))
sel=(--type 4 --src "${UL4[b]}" --dst "${UL4[a]}")
# shellcheck disable=SC2016 # (expanded by eval, in wait_for)
wait_for 5 eval '(($(pcap replay --count "${sel[@]}") >= 20))'
capture_stop replay
captured=$(pcap replay --count "${sel[@]}")
say "captured $captured transport packets from B to A"
((captured >= 20))
replay0=$(counter A rx_replay)
tunrx0=$(link_rx_packets a manta0)
ep0=$(json_get A "peer('B')['endpoint']")
# Re-sent from B's namespace, from another port than B's own.
sent=$(n b "$TOOLS/udp_replay.py" "${CAP_FILE[replay]}" --send "$(endpoint A)" "${sel[@]}")
((sent == captured))
wait_for 5 json_true A "c['rx_replay'] >= $((replay0 + sent))"
replay1=$(counter A rx_replay)
tunrx1=$(link_rx_packets a manta0)
say "rx_replay $replay0 -> $replay1 after re-sending $sent; manta0 rx packets $tunrx0 -> $tunrx1"
((replay1 - replay0 == sent))
((tunrx1 == tunrx0))
# A replayed packet authenticates but must not move B's endpoint.
[[ $(json_get A "peer('B')['endpoint']") == "$ep0" ]]
n b ping -c 2 -i 0.2 -W 2 "${V6[A]}" >/dev/null

pretty "(b)" "a handshake from a key A does not know gets no answer"
start_wggo x X
wg_add_peer X A
unknown0=$(counter A rx_unknown_peer)
capture_start r to-x unknown udp and src host "${UL4[a]}"
if n x ping -c 1 -W 1 "${V6[A]}" >/dev/null; then
	fail "X, unknown to A, got an echo reply from A"
fi
# wireguard-go retries the initiation every 5 s while a packet waits: wait
# for A to have dropped two, so an answer to the first had time to show.
wait_for 15 json_true A "c['rx_unknown_peer'] >= $((unknown0 + 2))"
capture_stop unknown
say "rx_unknown_peer $unknown0 -> $(counter A rx_unknown_peer)"
answers=$(pcap unknown --count)
((answers == 0))
[[ $(wg_handshake X A) == 0 ]]
json_true A "c['cookie_sent'] == 0"
stop_wggo X

pretty "(c)" "a packet from S with C's source address is dropped"
start_wggo s S
wg_add_peer S A
# From its own addresses S reaches A. (Explicit sources from here on: with
# two addresses on the link the kernel may pick either.)
n s ping -c 1 -W 5 -I "${V6[S]}" "${V6[A]}" >/dev/null
n s ip -6 addr add "${V6[C]}/128" dev "${WGIF[S]}"
n s ip -4 addr add "${V4[C]}/32" dev "${WGIF[S]}"
n s ping -c 2 -i 0.2 -W 2 -I "${V6[S]}" "${V6[A]}" >/dev/null
n s ping -c 2 -i 0.2 -W 2 -I "${V4[S]}" "${V4[A]}" >/dev/null
bad0=$(counter A rx_bad_source)
tunrx0=$(link_rx_packets a manta0)
if n s ping -c 3 -i 0.2 -W 1 -I "${V6[C]}" "${V6[A]}" >/dev/null; then
	fail "an echo request from S with C's IPv6 address was answered"
fi
if n s ping -c 3 -i 0.2 -W 1 -I "${V4[C]}" "${V4[A]}" >/dev/null; then
	fail "an echo request from S with C's IPv4 address was answered"
fi
wait_for 5 json_true A "c['rx_bad_source'] >= $((bad0 + 6))"
bad1=$(counter A rx_bad_source)
tunrx1=$(link_rx_packets a manta0)
say "rx_bad_source $bad0 -> $bad1; manta0 rx packets $tunrx0 -> $tunrx1"
((bad1 - bad0 == 6))
((tunrx1 == tunrx0))
json_true A "peer('C')['rx_bytes'] == 0 and peer('C')['last_handshake'] is None"
stop_wggo S

stop_mantad A
stop_mantad B
pretty "$SCENARIO" "ok"
