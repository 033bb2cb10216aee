#!/usr/bin/env bash
# A he_6in4 uplink in userspace (this kernel has no sit module): mantad's
# TUN + raw protocol 41 socket against an independent broker in Python
# (tools/broker6in4.py). IPv6 pings to an address behind the broker; the
# outer packets decoded by tshark as IPv4 protocol 41 carrying ICMPv6; MTU
# 1480; protocol 41 from a wrong outer source never reaches the uplink's
# interface (while the same packet from the broker does), and a bad inner
# packet is counted as a drop; `manta uplink down/up', REST GET /tunnels,
# POST /tunnels/he/down|up, /health, /v6/address and /metrics; the broker's
# endpoint update (nic/update) arrives with the tunnel id and credentials.
#
#   ┌────── node ───────┐     ┌─ r ─┐     ┌────────────── broker ──────────────┐
#   │ mantad            │     │     │     │ broker6in4.py   he-srv 2001:db8:1::1│
#   │ he-he 2001:db8:1::2├eth0─┤     ├─eth0┤ inet0 2001:db8:ff::1 (the "internet")│
#   │ ::/0 via he-he     │10.0.1.2  10.0.2.2│ he_update_server.py :8080           │
#   └───────────────────┘     │     │     └──────────────────────────────────────┘
#                             │     ├─eth0── evil 10.0.3.2 (protocol 41, wrong source)
#                             └─────┘
#
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

command -v tshark >/dev/null || fail "no tshark (make deps installs it)"
topo_internet node broker evil

pretty broker "the far end: broker6in4.py, 2001:db8:ff::1 behind it, nic/update on :8080"
# (on lo: this kernel has no dummy module either)
n broker ip -6 addr add 2001:db8:ff::1/128 dev lo nodad
ip netns exec "${NS[broker]}" "$TOOLS/broker6in4.py" --local "${UL4[broker]}" \
	--client "${UL4[node]}" --tun he-srv --ready "$TMP/broker.ready" 2>"$TMP/broker.log" &
BGPIDS+=("$!")
wait_for 5 test -e "$TMP/broker.ready"
n broker ip link set he-srv mtu 1480 up
n broker ip -6 addr add 2001:db8:1::1/64 dev he-srv nodad
n broker ip -6 route add 2001:db8:2::/48 via 2001:db8:1::2 dev he-srv
ip netns exec "${NS[broker]}" "$TOOLS/he_update_server.py" --listen "${UL4[broker]}" \
	--port 8080 --log "$TMP/he-requests.jsonl" --answer "good ${UL4[node]}" \
	2>"$TMP/he_update.log" &
BGPIDS+=("$!")
wait_for 5 eval "n broker ss -Hltn | grep -q '${UL4[broker]}:8080'"

pretty node "mantad with [uplink.he] type = he_6in4, mode = userspace"
# The underlay's IPv6 default route goes: the tunnel's is the only one.
n node ip -6 route del default
mantad_key N node
mantad_config N
cat >>"${CONF[N]}" <<EOF

[api]
allow_mutating = true

[testing]
uplink_local_check = 0.5

[uplink.he]
type = he_6in4
mode = userspace
server_ipv4 = ${UL4[broker]}
client_ipv6 = 2001:db8:1::2/64
routed_prefix = 2001:db8:2::/48
default_route = true
probe_interval = 0.5
he_username = alice
he_update_key = s3cr3t-key
he_tunnel_id = 424242
he_update_url = http://${UL4[broker]}:8080/nic/update

[uplink.k]
type = he_6in4
mode = kernel
autostart = false
server_ipv4 = ${UL4[broker]}
client_ipv6 = 2001:db8:9::2/64
EOF
capture_start node eth0 outer ip proto 41
start_mantad node N "${CONF[N]}"

mc() { n node "$MANTA" --socket "${SOCK[N]}" "$@"; }
# up EXPR: EXPR over `manta uplink status he --json', u = the uplink.
up() { uplink_get N he "$1"; }
up_true() { [[ $(up "bool($1)") == true ]]; }

wait_for 15 up_true "u['state'] == 'up'"
up_true "u['mode'] == 'userspace' and u['type'] == 'he_6in4' and u['iface'] == 'he-he'"
[[ $(up "u['mtu']") == 1480 ]] || fail "uplink mtu $(up "u['mtu']"), not 1480"
up_true "u['addresses'] == ['2001:db8:1::2/64'] and u['v6_prefix'] == '2001:db8:2::/48'"
up_true "u['server_ipv4'] == '${UL4[broker]}' and u['local_ipv4'] == '${UL4[node]}'"
grep -q 'mtu 1480' <<<"$(n node ip link show dev he-he)" || fail "he-he's MTU is not 1480"
grep -q 'via 2001:db8:1::1 dev he-he.*metric 2048' <<<"$(n node ip -6 route show default)" ||
	fail "no default route via 2001:db8:1::1 (metric 2048): $(n node ip -6 route show default)"
mc uplink status | sed 's/^/    /'

pretty node "[uplink.k] mode = kernel: a sit link where the kernel has one, else a clear error"
if n node ip link add sit-probe type sit remote "${UL4[broker]}" 2>/dev/null; then
	n node ip link del sit-probe
	mc uplink up k | sed 's/^/    /'
	up_k=$(mc uplink status k --json | json_eval 'j[0]["mode"] + " " + j[0]["state"]')
	[[ $up_k == "kernel "* ]] || fail "uplink k: $up_k"
	mc uplink down k >/dev/null
else
	if mc uplink up k 2>"$TMP/k.err"; then fail "mode = kernel came up without sit"; fi
	sed 's/^/    /' "$TMP/k.err"
	grep -q "mode = kernel, but the kernel has no sit device" "$TMP/k.err"
	[[ $(mc uplink status k --json | json_eval 'j[0]["admin"] + " " + j[0]["error"][:13]') == "down mode = kernel" ]]
fi

pretty node "IPv6 ping through the tunnel to 2001:db8:ff::1, behind the broker"
n node ping -6 -c 5 -i 0.2 -W 2 2001:db8:ff::1 >"$TMP/ping.txt" || fail "$(cat "$TMP/ping.txt")"
read -r sent got <<<"$(ping_summary "$TMP/ping.txt")"
((sent == 5 && got == 5)) || fail "ping: $got of $sent answered"
say "ping: $got/$sent, avg $(ping_avg "$(cat "$TMP/ping.txt")") ms"
wait_for 5 up_true "u['latency_ms'] is not None and u['latency_ms'] > 0 and u['replies'] > 0"
say "health: latency $(up "u['latency_ms']") ms, loss $(up "u['loss']")"
out=$(mc status)
[[ $out == *"uplink he: up (he_6in4 on he-he, 2001:db8:1::2/64, "*" ms)"* ]] ||
	fail "manta status does not show the uplink: $out"

pretty node "tshark: the outer packets are IPv4 protocol 41 carrying ICMPv6"
capture_stop outer
out_req=$(tshark -r "${CAP_FILE[outer]}" -Y "ip.proto == 41 && ip.src == ${UL4[node]} && ip.dst == ${UL4[broker]} && ipv6.dst == 2001:db8:ff::1 && icmpv6.type == 128" 2>/dev/null | wc -l)
in_rep=$(tshark -r "${CAP_FILE[outer]}" -Y "ip.proto == 41 && ip.src == ${UL4[broker]} && ipv6.src == 2001:db8:ff::1 && icmpv6.type == 129" 2>/dev/null | wc -l)
say "echo requests out: $out_req, echo replies in: $in_rep"
((out_req >= 5 && in_rep >= 5)) || fail "tshark found $out_req requests and $in_rep replies as 6in4"
tshark -r "${CAP_FILE[outer]}" -V -c 1 -Y 'ip.proto == 41 && icmpv6' 2>/dev/null |
	grep -E '^(Internet Protocol|Internet Control)|Protocol: IPv6|Time to Live' | sed 's/^/    /'
tshark -r "${CAP_FILE[outer]}" -T fields -e ip.ttl -Y "ip.src == ${UL4[node]}" -c 1 2>/dev/null |
	grep -qx 64 || fail "outer TTL is not 64"

pretty node "a path to the broker below 1500: Packet Too Big from the tunnel, not a black hole"
n node ip link set eth0 mtu 1400
n node ping -6 -c 1 -W 2 -M do -s 1400 2001:db8:ff::1 >"$TMP/ptb.txt" 2>&1 || true
grep -q 'Packet too big: mtu=1380' "$TMP/ptb.txt" || fail "no Packet Too Big: $(cat "$TMP/ptb.txt")"
say "$(grep -m1 'Packet too big' "$TMP/ptb.txt")"
n node ping -6 -c 2 -i 0.2 -W 2 -s 1300 2001:db8:ff::1 >/dev/null || fail "1348-byte packets do not pass"
up_true "u['tunnel']['ptb_sent'] >= 1"
n node ip link set eth0 mtu 1500

pretty evil "protocol 41 from a wrong outer source is dropped"
capture_start node he-he inner icmp6
capture_start node eth0 evil41 ip proto 41 and src "${UL4[evil]}"
n evil "$TOOLS/send6in4.py" --from "${UL4[evil]}" --to "${UL4[node]}" \
	--inner-src 2001:db8:ff::99 --count 5
# The control: the same packet from the broker's address does get in.
n broker "$TOOLS/send6in4.py" --from "${UL4[broker]}" --to "${UL4[node]}" \
	--inner-src 2001:db8:ff::98 --count 3
wait_for 5 eval "n node ip -6 neigh >/dev/null; [[ \$(tcpdump -nr '${CAP_FILE[inner]}' src 2001:db8:ff::98 2>/dev/null | wc -l) -ge 3 ]]"
capture_stop inner
capture_stop evil41
arrived=$(tcpdump -nr "${CAP_FILE[evil41]}" 2>/dev/null | wc -l)
leaked=$(tcpdump -nr "${CAP_FILE[inner]}" src 2001:db8:ff::99 2>/dev/null | wc -l)
say "from evil: $arrived on eth0, $leaked on he-he; from the broker: 3 on he-he"
((arrived == 5)) || fail "the wrong-source packets did not reach the node ($arrived)"
((leaked == 0)) || fail "$leaked packets from a wrong outer source reached he-he"

pretty broker "a protocol 41 packet that does not carry IPv6 is counted and dropped"
bad0=$(up "u['drops']['bad_inner']")
n broker "$TOOLS/send6in4.py" --from "${UL4[broker]}" --to "${UL4[node]}" --garbage --count 4
wait_for 5 up_true "u['drops']['bad_inner'] == $bad0 + 4"
say "drops: $(up "u['drops']")"

pretty broker "the endpoint update arrived: nic/update?hostname=424242, Basic alice"
wait_for 10 test -s "$TMP/he-requests.jsonl"
python3 - "$TMP/he-requests.jsonl" "${UL4[node]}" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print("    request:", r)
assert r["path"] == "/nic/update", r
assert r["query"] == {"hostname": ["424242"]}, r  # a private IPv4: no myip
assert r["user"] == "alice" and r["password"] == "s3cr3t-key", r
assert r["user_agent"].startswith("manta/"), r
EOF
wait_for 5 up_true "u['he_update']['last_answer'] == 'good ${UL4[node]}'"
grep -q "endpoint update: the broker says \`good ${UL4[node]}'" "${LOG[N]}"
if grep -q 's3cr3t-key' "${LOG[N]}"; then fail "the update key is in the log"; fi
grep -q libcurl "/proc/${PID[N]}/maps" || fail "libcurl is not loaded, yet the update was sent"

pretty broker "the broker goes silent: down within 10 s, default route demoted; back: up, restored"
n broker nft add table inet silence
n broker nft add chain inet silence in '{ type filter hook input priority 0; }'
n broker nft add rule inet silence in meta l4proto 41 drop
t0=$(now_us)
wait_for 10 up_true "u['state'] == 'down' and u['routes_demoted']"
say "down after $(( ($(now_us) - t0) / 1000 )) ms: $(n node ip -6 route show default)"
grep -q 'dev he-he.*metric 6144' <<<"$(n node ip -6 route show default)" ||
	fail "the default route was not demoted: $(n node ip -6 route show default)"
n broker nft delete table inet silence
t0=$(now_us)
wait_for 10 up_true "u['state'] == 'up' and not u['routes_demoted']"
say "up again after $(( ($(now_us) - t0) / 1000 )) ms: $(n node ip -6 route show default)"
grep -q 'dev he-he.*metric 2048' <<<"$(n node ip -6 route show default)" ||
	fail "the default route was not restored: $(n node ip -6 route show default)"
grep -q "he (he-he): 1 default route(s) demoted" "${LOG[N]}"

pretty node "the local IPv4 changes: the tunnel moves to it and the broker is told; and back"
n node ip addr add 10.0.1.3/24 dev eth0
n node ip route replace default via 10.0.1.1 src 10.0.1.3
wait_for 5 up_true "u['local_ipv4'] == '10.0.1.3'"
grep -q "he: the local IPv4 address changed from ${UL4[node]} to 10.0.1.3" "${LOG[N]}"
wait_for 10 eval '(($(wc -l <"$TMP/he-requests.jsonl") >= 2))'
# (The fake broker keeps its --client, as HE would until the update: the
# uplink goes down, then comes back with the old address.)
n node ip route replace default via 10.0.1.1 src "${UL4[node]}"
n node ip addr del 10.0.1.3/24 dev eth0
wait_for 5 up_true "u['local_ipv4'] == '${UL4[node]}'"
wait_for 10 eval '(($(wc -l <"$TMP/he-requests.jsonl") >= 3))'
wait_for 10 up_true "u['state'] == 'up'"
n node ping -6 -c 2 -i 0.2 -W 2 2001:db8:ff::1 >/dev/null || fail "no ping after moving back"
say "$(grep -c 'endpoint update: the broker says' "${LOG[N]}") endpoint updates sent, $(wc -l <"$TMP/he-requests.jsonl") received"

pretty node "manta uplink down he: the interface and its routes go; up brings them back"
mc uplink down he | sed 's/^/    /'
if n node ip link show dev he-he 2>/dev/null; then fail "he-he still exists"; fi
up_true "u['state'] == 'down' and u['admin'] == 'down' and u['iface'] is None"
if n node ping -6 -c 1 -W 1 2001:db8:ff::1 >/dev/null 2>&1; then fail "ping works while down"; fi
mc uplink up he | sed 's/^/    /'
wait_for 15 up_true "u['state'] == 'up'"
n node ping -6 -c 2 -i 0.2 -W 2 2001:db8:ff::1 >/dev/null

pretty node "REST: GET /tunnels, POST /tunnels/he/down and /up with the token"
TOKEN=$(cat "${STATE[N]}/api.token")
api() {
	local method=$1 path=$2
	n node curl -sS -o "$TMP/body" -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8642$path"
}
wait_for 10 up_true "u['rx_bytes'] > 0 and u['tx_bytes'] > 0 and u['last_check'] > 0"
[[ $(api GET /tunnels) == 200 ]]
json_eval 'j["tunnels"][0]' <"$TMP/body" | sed 's/^/    /' | cut -c1-200
[[ $(json_eval 'j["tunnels"][0]["name"] + " " + j["tunnels"][0]["type"] + " " + j["tunnels"][0]["state"] + " " + j["tunnels"][0]["iface"] + " " + j["tunnels"][0]["v6_prefix"]' <"$TMP/body") == "he he_6in4 up he-he 2001:db8:2::/48" ]]
[[ $(json_eval 'all(k in j["tunnels"][0] for k in ("rx_bytes", "tx_bytes", "last_check"))' <"$TMP/body") == true ]]
[[ $(json_eval 'j["tunnels"][0]["rx_bytes"] > 0 and j["tunnels"][0]["last_check"] > 0' <"$TMP/body") == true ]]
[[ $(n node curl -sS -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:8642/tunnels/he/down) == 401 ]]
[[ $(api POST /tunnels/nope/down) == 422 ]]
[[ $(api GET /tunnels/he/down) == 405 ]]
[[ $(api POST /tunnels/he/down) == 200 ]]
[[ $(json_eval 'j["state"] + " " + j["admin"]' <"$TMP/body") == "down down" ]]
if n node ip link show dev he-he 2>/dev/null; then fail "he-he still exists after POST down"; fi
[[ $(api GET /health) == 200 ]]
[[ $(json_eval 'j["v6_reachable"] == False and j["active_tunnels"] == 0' <"$TMP/body") == true ]]
[[ $(api POST /tunnels/he/up) == 200 ]]
wait_for 15 up_true "u['state'] == 'up' and u['latency_ms'] is not None"

pretty node "GET /health and /v6/address show the uplink"
[[ $(api GET /health) == 200 ]]
json_eval 'j' <"$TMP/body" | sed 's/^/    /'
[[ $(json_eval 'j["v6_reachable"] and j["active_tunnels"] == 1 and j["v6_latency_ms"] > 0 and j["last_check"] > 0 and j["status"] == "ok"' <"$TMP/body") == true ]]
[[ $(api GET /v6/address) == 200 ]]
[[ $(json_eval '[a for a in j["addresses"] if a["kind"] == "uplink"] == [dict(iface="he-he", address="2001:db8:1::2", prefix=64, kind="uplink", uplink="he", reachable=True, latency_ms=[a for a in j["addresses"] if a["kind"] == "uplink"][0]["latency_ms"])]' <"$TMP/body") == true ]]
[[ $(json_eval '[a["kind"] for a in j["addresses"]]' <"$TMP/body") == '["overlay", "uplink"]' ]]

pretty node "/metrics: manta_uplink_* families"
[[ $(api GET /metrics) == 200 ]]
grep '^manta_uplink' "$TMP/body" | sed 's/^/    /'
grep -qx 'manta_uplink_up{uplink="he",type="he_6in4"} 1' "$TMP/body"
grep -qx 'manta_uplink_state{uplink="he",state="up"} 1' "$TMP/body"
grep -qE '^manta_uplink_latency_seconds\{uplink="he"\} 0\.[0-9]+' "$TMP/body"
grep -qE '^manta_uplink_dropped_total\{uplink="he",reason="bad_inner"\} [0-9]+$' "$TMP/body"
PROMTOOL=$(command -v promtool || echo "$ROOT/.deps/prometheus/usr/bin/promtool")
[[ -x $PROMTOOL ]] || fail "no promtool (make deps unpacks it from Debian's prometheus package)"
"$PROMTOOL" check metrics <"$TMP/body" || fail "promtool refused /metrics with uplinks"

pretty node "SIGHUP with a changed [uplink.he]: logged, the uplink stays as it is"
sed -i 's/^probe_interval = 0.5$/probe_interval = 0.6/' "${CONF[N]}"
kill -HUP "${PID[N]}"
wait_for 5 grep -q 'changes take effect on restart only' "${LOG[N]}"
up_true "u['state'] == 'up' and u['admin'] == 'up'"

stop_mantad N
if n node ip link show dev he-he 2>/dev/null; then fail "he-he left behind"; fi
if grep -q . <<<"$(n node ip -6 route show default)"; then fail "a default route left behind"; fi
grep -q "uplink: he: he_6in4 down" "${LOG[N]}"

pretty node "again with --user nobody: the TUN and the raw socket on the kept capabilities"
chmod 0711 "$TMP"
chown -R nobody: "${STATE[N]}"
chown nobody: "$TMP/N" # its control socket
# An unprivileged user with CAP_NET_ADMIN needs /dev/net/tun 0666 (Debian's
# udev makes it so; a container may not): then a 0666 node of it is bound
# over it in mantad's mount namespace, as t_service.sh does.
tun_bind=
if [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
	mknod -m 0666 "$TMP/tun" c 10 200
	tun_bind="mount --bind $TMP/tun /dev/net/tun && "
fi
ip netns exec "${NS[node]}" sh -c "${tun_bind}exec \"\$@\"" mantad "$MANTAD" \
	--config "${CONF[N]}" --state-dir "${STATE[N]}" --socket "${SOCK[N]}" --foreground \
	--user nobody >>"${LOG[N]}" 2>&1 &
PID[N]=$!
BGPIDS+=("$!")
wait_for 20 mantad_ready N
grep -q "running as nobody" "${LOG[N]}"
wait_for 15 up_true "u['state'] == 'up' and u['mode'] == 'userspace'"
n node ping -6 -c 2 -i 0.2 -W 2 2001:db8:ff::1 >/dev/null
stop_mantad N
if n node ip link show dev he-he 2>/dev/null; then fail "he-he left behind"; fi
pretty node "done"
