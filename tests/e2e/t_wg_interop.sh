#!/usr/bin/env bash
# mantad and a stock wireguard-go + wg peer talk to each other, with the
# handshake initiated once by each side in two separate runs (fresh keys and
# daemons each time). The side that must not initiate has no endpoint for the
# other, and the router's capture shows who sent the first initiation.
#
#   ┌──────────── m ────────────┐     ┌──────── r ────────┐     ┌──────────── w ────────────┐
#   │ mantad M                  │     │    "internet"     │     │   wireguard-go W (mwPIDxN) │
#   │ manta0 V6(M)/128 V4(M)/32 │     │  tcpdump on to-m  │     │ V6(W)/128 V4(W)/32, mtu 1280│
#   │ eth0 10.0.1.2             ├─────┤ to-m        to-w  ├─────┤ eth0 10.0.2.2             │
#   │      fd6d:616e:7461:1::2  │     │                   │     │      fd6d:616e:7461:2::2  │
#   └───────────────────────────┘     └───────────────────┘     └───────────────────────────┘
#
# run 1: W initiates over IPv4 (M has no endpoint for W and learns it)
# run 2: M initiates over IPv6 (W has no endpoint for M and learns it)
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet m w

# check_pings: v6 and v4, both ways, every echo answered.
check_pings() {
	local pair h addr out tx rx
	for pair in "m ${V6[W]}" "m ${V4[W]}" "w ${V6[M]}" "w ${V4[M]}"; do
		read -r h addr <<<"$pair"
		out=$(n "$h" ping -c 3 -i 0.2 -W 2 "$addr")
		read -r tx rx <<<"$(ping_summary <(echo "$out"))"
		say "$h -> $addr: $rx/$tx replies"
		((tx == 3 && rx == 3))
	done
}

# interop_run RUN INITIATOR(M|W) FAMILY(4|6)
interop_run() {
	local run=$1 init=$2 fam=$3 first src resp_src
	pretty "run $run" "$init initiates, underlay IPv$fam"
	mantad_key M m
	wg_key W w
	if [[ $init == W ]]; then
		mantad_config M W:none
	else
		mantad_config M "W$([[ $fam == 6 ]] && echo :6)"
	fi
	capture_start r to-m "run$run" udp port "${PORT[M]}"
	start_mantad m M "${CONF[M]}"
	start_wggo w W
	if [[ $init == W ]]; then
		wg_add_peer W M "$fam"
	else
		wg_add_peer W M none
	fi
	json_true M "peer('W')['last_handshake'] is None"
	[[ $(wg_handshake W M) == 0 ]]

	# The initiator pings first; its first packet waits for the handshake.
	if [[ $init == W ]]; then
		n w ping -c 1 -W 5 "${V6[M]}" >/dev/null
	else
		n m ping -c 1 -W 5 "${V6[W]}" >/dev/null
	fi
	check_pings

	capture_stop "run$run"
	pcap "run$run" --list --max 4 | sed 's/^/    /'
	first=$(pcap "run$run" --list --max 1)
	if [[ $init == W ]]; then src=$(endpoint W "$fam") resp_src=$(endpoint M "$fam"); else
		src=$(endpoint M "$fam") resp_src=$(endpoint W "$fam"); fi
	say "first datagram: $first"
	[[ $first == *" $src > "*" type 1 len 148" ]]
	# Exactly one handshake: one initiation, from the initiator only, and one
	# response from the other side.
	(($(pcap "run$run" --count --type 1) == 1))
	(($(pcap "run$run" --count --type 2) == 1))
	[[ $(pcap "run$run" --list --type 2) == *" $resp_src > $src type 2 len 92" ]]

	(($(wg_handshake W M) > 0))
	json_true M "peer('W')['last_handshake'] is not None and peer('W')['handshakes'] == 1"
	json_true M "peer('W')['rx_bytes'] > 0 and peer('W')['tx_bytes'] > 0"
	# The endpoint the responder learnt is where the initiator sent from.
	if [[ $init == W ]]; then
		json_true M "peer('W')['endpoint'] == '$(endpoint W "$fam")'"
	else
		[[ $(n w wg show "${WGIF[W]}" endpoints) == *"$(endpoint M "$fam")"* ]]
	fi
	json_true M "c['rx_invalid'] == 0 and c['rx_bad_mac1'] == 0 and c['rx_auth_failed'] == 0"
	json_true M "c['rx_unknown_peer'] == 0 and c['rx_bad_source'] == 0 and c['rx_replay'] == 0"

	stop_wggo W
	stop_mantad M
	unset 'STATE[M]'
}

interop_run 1 W 4
interop_run 2 M 6
pretty "$SCENARIO" "ok"
