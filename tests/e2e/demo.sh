#!/usr/bin/env bash
# `make demo`: hosts joined through an "internet". Part 1: a mantad on a, b
# and c with the other two as static peers, ping over the derived IPv6 and
# IPv4 addresses between every pair, and a short report. Part 2: the same
# nodes with no static peers: alice creates `home', bob and carol join by
# invite, everyone pings everyone, the owner goes away and bob and carol
# still talk; dave joins `work', made by bob, and reaches neither alice nor
# carol. Part 3, Magic DNS: bob pings alice.home.pi, carol looks up
# bob.home.pi and fetches a page from a tiny HTTP server on bob's service
# name api.bob.home.pi. Part 4, the firewall: alice serves TCP 8080 and
# allows only bob: bob connects, carol does not. Part 5, the v6 gateway: a
# "broker" namespace plays the tunnel broker (tools/broker6in4.py, the far end
# of a userspace 6in4 tunnel); alice's mantad brings up [uplink.he], pings an
# address behind the broker, and the demo shows `manta uplink status' and
# curl of /health and /v6/address. Cleans up after itself.
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
topo_internet a b c d broker
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

# --- part 2: networks ---------------------------------------------------------
mc() {
	local name=$1
	shift
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" "$@"
}
check() { # check WHAT CMD...: print the outcome of CMD as a report line
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		printf '  %-58s %s\n' "$what" yes
	else
		printf '  %-58s %s\n' "$what" NO
		failures=$((failures + 1))
	fi
}
reaches() { n "${HOSTOF[$1]}" ping -c 1 -W 2 "$2"; }
blocked() { ! n "${HOSTOF[$1]}" ping -c 1 -W 1 "$2"; }
echo
pretty demo "part 2: the same nodes, no static peers: networks by invite"
mantad_key D d
for x in A B C D; do
	mantad_config "$x"
	start_mantad "${x,,}" "$x" "${CONF[$x]}"
done
echo "  \$ manta create home --hostname alice        (on a)"
mc A create home --hostname alice | sed 's/^/    /'
token=$(mc A --json invite home --reusable | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "  \$ manta invite home --reusable                (on a)"
echo "    $token"
for who in B:bob C:carol; do
	echo "  \$ manta join TOKEN --hostname ${who#*:}            (on ${who%%:*})"
	mc "${who%%:*}" join "$token" --hostname "${who#*:}" 2>&1 | sed 's/^/    /'
done
echo
failures=0
for x in A B C; do
	for y in A B C; do
		[[ $x != "$y" ]] || continue
		wait_for 15 reaches "$x" "${V6[$y]}" 2>/dev/null || true
		check "$x -> $y over IPv6 and IPv4" eval "reaches $x ${V6[$y]} && reaches $x $(json_get "$y" 'j["ipv4"]')"
	done
done
stop_mantad A >/dev/null
check "owner alice stopped: bob -> carol still" reaches B "${V6[C]}"
check "owner alice stopped: carol -> bob still" reaches C "${V6[B]}"
start_mantad a A "${CONF[A]}"
mc B create work --hostname bob >/dev/null
mc D join "$(mc B --json invite work | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" --hostname dave >/dev/null 2>&1
wait_for 15 reaches D "${V6[B]}" 2>/dev/null || true
check "dave (work) -> bob (home and work)" reaches D "${V6[B]}"
check "dave (work) -> alice (home only): blocked" blocked D "${V6[A]}"
check "dave (work) -> carol (home only): blocked" blocked D "${V6[C]}"

# --- part 3: Magic DNS --------------------------------------------------------
echo
pretty demo "part 3: Magic DNS: names from the member lists, a service name"
echo "  (each host's resolv.conf is its own /etc/netns/NAME/resolv.conf; mantad"
echo "   points it at 100.100.100.53 and gives it back when it stops)"
# alice restarted in part 2: let bob's session to her settle first.
wait_for 15 reaches B "${V6[A]}" >/dev/null 2>&1 || true
echo "  \$ ping -c1 alice.home.pi                       (on b)"
n b ping -c1 -W5 alice.home.pi 2>&1 | sed -n '1,2s/^/    /p'
echo "  \$ getent hosts bob.home.pi                     (on c)"
n c getent ahosts bob.home.pi | awk '$2 == "STREAM" { print "    " $1 "  bob.home.pi" }'
echo "  \$ manta dns add api --network home              (on b)"
mc B dns add api --network home | sed 's/^/    /'
mc B firewall add in allow -p tcp -P 8080 >/dev/null
mkdir -p "$TMP/www"
echo "hello from bob's api" >"$TMP/www/index.html"
n b python3 -m http.server 8080 --bind :: --directory "$TMP/www" >/dev/null 2>&1 &
BGPIDS+=("$!")
wait_for 10 eval '[[ -n $(n c curl -s -m 2 http://api.bob.home.pi:8080/) ]]' 2>/dev/null || true
echo "  \$ curl http://api.bob.home.pi:8080/             (on c)"
n c curl -s -m 2 http://api.bob.home.pi:8080/ | sed 's/^/    /'
check "ping alice.home.pi (from bob)" n b ping -c1 -W2 alice.home.pi
check "getent hosts bob.home.pi (from carol)" n c getent hosts bob.home.pi
check "curl http://api.bob.home.pi:8080/ (from carol)" \
	eval '[[ $(n c curl -s -m 2 http://api.bob.home.pi:8080/) == "hello from bob'"'"'s api" ]]'
check "carol's resolv.conf names 100.100.100.53" grep -q '^nameserver 100.100.100.53' \
	"/etc/netns/${NS[c]}/resolv.conf"

# --- part 4: the firewall ------------------------------------------------------
echo
pretty demo "part 4: the firewall: alice serves TCP 8080 to bob, not to carol"
n a "$TOOLS/tcp_probe.py" serve 8080 >"$TMP/serve-8080.log" 2>&1 &
BGPIDS+=("$!")
wait_for 5 grep -q listening "$TMP/serve-8080.log"
tcp_try() { n "${HOSTOF[$1]}" "$TOOLS/tcp_probe.py" connect "$2" 8080 2; }
echo "  \$ manta firewall add in allow -p tcp -P 8080 --peer bob   (on a)"
mc A firewall add in allow -p tcp -P 8080 --peer bob | sed 's/^/    /'
echo "  \$ manta firewall list                                     (on a)"
mc A firewall list | sed 's/^/    /'
wait_for 10 tcp_try B "${V6[A]}" 2>/dev/null || true
echo "  bob -> alice:8080:   $(tcp_try B "${V6[A]}" || true)"
echo "  carol -> alice:8080: $(tcp_try C "${V6[A]}" || true)"
check "bob -> alice tcp 8080: allowed, connects" tcp_try B "${V6[A]}"
check "carol -> alice tcp 8080: denied, fails" eval '! tcp_try C '"${V6[A]}"
check "carol can still ping alice (the default ICMP rule)" reaches C "${V6[A]}"
echo
echo "  \$ manta status                                (on b)"
mc B status | sed 's/^/    /'
echo
for x in A B C D; do
	stop_mantad "$x" >/dev/null
done
check "carol's resolv.conf is back as it was" eval \
	"! grep -q '^nameserver 100.100.100.53' /etc/netns/${NS[c]}/resolv.conf"
if ((failures)); then
	fail "$failures network or DNS checks failed"
fi
pretty demo "networks: invite, join, owner offline, isolation and Magic DNS all as expected"

# --- part 5: the v6 gateway ----------------------------------------------------
echo
pretty demo "part 5: the v6 gateway: alice's IPv6 through a 6in4 tunnel broker"
failures=0
n broker ip -6 addr add 2001:db8:ff::1/128 dev lo nodad
ip netns exec "${NS[broker]}" "$TOOLS/broker6in4.py" --local "${UL4[broker]}" \
	--client "${UL4[a]}" --tun he-srv --ready "$TMP/broker.ready" 2>"$TMP/broker.log" &
BGPIDS+=("$!")
wait_for 5 test -e "$TMP/broker.ready"
n broker ip link set he-srv mtu 1480 up
n broker ip -6 addr add 2001:db8:1::1/64 dev he-srv nodad
n a ip -6 route del default # alice's IPv6 to the world: the tunnel's, only
mantad_config A
cat >>"${CONF[A]}" <<EOF

[uplink.he]
type = he_6in4
server_ipv4 = ${UL4[broker]}
client_ipv6 = 2001:db8:1::2/64
default_route = true
EOF
echo "  [uplink.he] in alice's manta.conf:"
sed -n '/^\[uplink.he\]/,$s/^/    /p' "${CONF[A]}"
start_mantad a A "${CONF[A]}"
wait_for 15 eval "mc A uplink status he --json | grep -q '\"state\": \"up\"'" 2>/dev/null || true
echo "  \$ manta uplink status                          (on a)"
mc A uplink status | sed 's/^/    /'
echo "  \$ ping -6 -c 3 2001:db8:ff::1                  (on a; behind the broker)"
n a ping -6 -c 3 -i 0.2 -W 2 2001:db8:ff::1 2>&1 | sed -n '2,4s/^/    /p'
echo "  \$ curl http://127.0.0.1:8642/health            (on a; no token needed)"
n a curl -s -m 2 http://127.0.0.1:8642/health | sed 's/^/    /'
echo "  \$ curl -H \"Authorization: Bearer \$(cat STATE/api.token)\" http://127.0.0.1:8642/v6/address"
n a curl -s -m 2 -H "Authorization: Bearer $(cat "${STATE[A]}/api.token")" \
	http://127.0.0.1:8642/v6/address | python3 -m json.tool | sed 's/^/    /'
check "uplink he is up, in userspace mode (no sit here)" eval \
	"mc A uplink status he --json | grep -q '\"mode\": \"\(userspace\|kernel\)\"'"
check "alice -> 2001:db8:ff::1 through the tunnel" n a ping -6 -c 1 -W 2 2001:db8:ff::1
check "/health says v6_reachable" eval \
	"n a curl -s -m 2 http://127.0.0.1:8642/health | grep -q '\"v6_reachable\":true'"
check "/v6/address lists 2001:db8:1::2 (kind uplink)" eval \
	"n a curl -s -m 2 -H 'Authorization: Bearer $(cat "${STATE[A]}/api.token")' http://127.0.0.1:8642/v6/address | grep -q '\"address\":\"2001:db8:1::2\"'"
stop_mantad A >/dev/null
if ((failures)); then
	fail "$failures v6 gateway checks failed"
fi
pretty demo "the v6 gateway: the uplink came up, carried IPv6 and showed in the API"
