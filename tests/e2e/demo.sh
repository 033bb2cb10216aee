#!/usr/bin/env bash
# `make demo`: three hosts joined through an "internet", a mantad on each with
# the other two as static peers, then ping over the derived IPv6 and IPv4
# addresses between every pair, and a short report. Cleans up after itself.
#
#               ┌─────────────── r ("internet") ───────────────┐
#               │ to-a 10.0.1.1   to-b 10.0.2.1   to-c 10.0.3.1 │
#               └──────┬────────────────┬────────────────┬──────┘
#                      │                │                │
#               ┌──── a ─────┐   ┌──── b ─────┐   ┌──── c ─────┐
#               │ mantad A   │   │ mantad B   │   │ mantad C   │
#               │ 10.0.1.2   │   │ 10.0.2.2   │   │ 10.0.3.2   │
#               └────────────┘   └────────────┘   └────────────┘
#
# Each host's manta0 carries the /128 and /32 derived from its node key.
MANTA_LOG_LEVEL=${MANTA_LOG_LEVEL:-info}
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # (read by lib.sh)
SCENARIO=demo

nodes=(A B C)
pretty demo "three hosts through an \"internet\" namespace"
topo_internet a b c
for x in "${nodes[@]}"; do
	mantad_key "$x" "${x,,}"
done
mantad_config A B C
mantad_config B A C
mantad_config C A B
for x in "${nodes[@]}"; do
	start_mantad "${x,,}" "$x" "${CONF[$x]}"
done

echo
printf '  %-4s %-16s %-46s %-40s %s\n' node namespace "public key" IPv6 IPv4
for x in "${nodes[@]}"; do
	printf '  %-4s %-16s %-46s %-40s %s\n' "$x" "${NS[${x,,}]}" "${PUB[$x]}" \
		"$(json_get "$x" 'j["ipv6"]')" "$(json_get "$x" 'j["ipv4"]')"
done
echo

# rtt HOST ADDRESS: average RTT of 3 pings, after one that may wait for the
# handshake; "-" when no reply came.
rtt() {
	local out
	n "$1" ping -c 1 -W 5 "$2" >/dev/null 2>&1 || true
	out=$(n "$1" ping -c 3 -i 0.2 -W 2 "$2" 2>&1) || {
		echo -
		return
	}
	echo "$(ping_avg "$out") ms"
}

failures=0
printf '  %-8s %-12s %-12s %s\n' pair "IPv6 rtt" "IPv4 rtt" ok
for x in "${nodes[@]}"; do
	for y in "${nodes[@]}"; do
		[[ $x != "$y" ]] || continue
		r6=$(rtt "${x,,}" "${V6[$y]}")
		r4=$(rtt "${x,,}" "${V4[$y]}")
		ok=yes
		if [[ $r6 == - || $r4 == - ]]; then
			ok=NO
			failures=$((failures + 1))
		fi
		printf '  %-8s %-12s %-12s %s\n' "$x -> $y" "$r6" "$r4" "$ok"
	done
done
echo

printf '  %-8s %-11s %-10s %s\n' session handshakes "bytes in" "bytes out"
for x in "${nodes[@]}"; do
	for y in "${nodes[@]}"; do
		[[ $x != "$y" ]] || continue
		printf '  %-8s %-11s %-10s %s\n' "$x - $y" \
			"$(json_get "$x" "peer('$y')['handshakes']")" \
			"$(json_get "$x" "peer('$y')['rx_bytes']")" "$(json_get "$x" "peer('$y')['tx_bytes']")"
	done
done
echo

for x in "${nodes[@]}"; do
	stop_mantad "$x"
done
if ((failures)); then
	fail "$failures of 6 pairs could not reach each other"
fi
pretty demo "every pair reached each other over IPv6 and IPv4"
