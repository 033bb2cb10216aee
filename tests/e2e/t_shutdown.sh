#!/usr/bin/env bash
# Start and stop: SIGTERM leaves no TUN, address or route behind; when
# another link (here `ygg0`, one end of a veth pair, as Yggdrasil's TUN would) already routes
# 200::/7, mantad installs per-peer /128 routes instead and leaves ygg0's
# route alone; SIGHUP re-reads the peers without dropping the session; a
# malformed config is refused with the file, line and value, and the node key
# survives it untouched.
#
#   ┌──────────── a ─────────────┐     ┌──────── r ────────┐     ┌──────── b ────────┐
#   │ mantad A (manta0)          │     │    "internet"     │     │ mantad B (manta0) │
#   │ ygg0 (veth): 200::/7       ├─────┤ to-a        to-b  ├─────┤ eth0 10.0.2.2     │
#   │ eth0 10.0.1.2              │     │                   │     │                   │
#   └────────────────────────────┘     └───────────────────┘     └───────────────────┘
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

topo_internet a b
mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A
start_mantad b B "${CONF[B]}"

pretty A "SIGTERM: exit 0, TUN, addresses and routes gone"
start_mantad a A "${CONF[A]}"
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
n a ping -c 1 -W 5 "${V4[B]}" >/dev/null
stop_mantad A
[[ -z $(n a ip -6 route show 200::/7) ]]
[[ -z $(n a ip -4 route show 100.64.0.0/10) ]]
if n a ip -6 addr show | grep -F "${V6[A]}" >/dev/null; then fail "A's IPv6 address is left"; fi
if n a ip -4 addr show | grep -F "${V4[A]}" >/dev/null; then fail "A's IPv4 address is left"; fi
[[ ! -e ${SOCK[A]} ]] || fail "control socket ${SOCK[A]} left behind"

pretty A "another link routes 200::/7: per-peer routes instead"
# (a veth pair within a: the kernel here may lack the dummy module)
n a ip link add ygg0 type veth peer name ygg0-peer
n a ip link set ygg0-peer up
n a ip link set ygg0 up
n a ip -6 route add 200::/7 dev ygg0
start_mantad a A "${CONF[A]}"
n a ip -6 route show dev manta0 | sed 's/^/    /'
n a ip -6 route show dev manta0 | grep "^${V6[B]} " >/dev/null
[[ $(n a ip -6 route show 200::/7) == *"dev ygg0"* ]]
[[ $(n a ip -6 route show 200::/7) != *"dev manta0"* ]]
[[ $(n a ip -6 route get "${V6[B]}") == *"dev manta0"* ]]
# An overlay address that is no peer's still goes to ygg0.
[[ $(n a ip -6 route get 2ff::1) == *"dev ygg0"* ]]
n a ping -c 2 -i 0.2 -W 2 "${V6[B]}" >/dev/null
n b ping -c 2 -i 0.2 -W 2 "${V6[A]}" >/dev/null
n a ping -c 2 -i 0.2 -W 2 "${V4[B]}" >/dev/null
stop_mantad A
# Its own routes went with it; ygg0's stayed.
[[ $(n a ip -6 route show 200::/7) == *"dev ygg0"* ]]
[[ -z $(n a ip -6 route show "${V6[B]}/128") ]]
n a ip link del ygg0

pretty A "SIGHUP re-reads the peers and keeps the running session"
start_mantad a A "${CONF[A]}"
n a ping -c 1 -W 5 "${V6[B]}" >/dev/null
hs=$(json_get A "peer('B')['handshakes']")
last=$(json_get A "peer('B')['last_handshake']")
wg_key C c
cp "${CONF[A]}" "$TMP/A-one-peer.conf"
printf '\n[peer]\npublic_key = %s\n' "${PUB[C]}" >>"${CONF[A]}"
kill -HUP "${PID[A]}"
wait_for 5 json_true A "len(j['peers']) == 2"
json_true A "peer('C')['ipv6'] == '${V6[C]}' and peer('C')['last_handshake'] is None"
n a ping -c 2 -i 0.2 -W 2 "${V6[B]}" >/dev/null
json_true A "peer('B')['handshakes'] == $hs and peer('B')['last_handshake'] == $last"
cp "$TMP/A-one-peer.conf" "${CONF[A]}"
kill -HUP "${PID[A]}"
wait_for 5 json_true A "len(j['peers']) == 1"
n a ping -c 2 -i 0.2 -W 2 "${V4[B]}" >/dev/null
json_true A "peer('B')['handshakes'] == $hs"
stop_mantad A

pretty A "a malformed config is refused with file, line and value"
key_sum=$(sha256sum <"${STATE[A]}/node.key")
# bad_config NAME LINE TEXT CONTENT: mantad must refuse CONTENT, naming
# FILE:LINE and, if TEXT is not empty, saying TEXT (the bad value quoted).
bad_config() {
	local name=$1 line=$2 value=$3 conf=$TMP/bad-$1.conf rc=0
	printf '%s\n' "$4" >"$conf"
	timeout 10 ip netns exec "${NS[a]}" "$MANTAD" --config "$conf" --state-dir "${STATE[A]}" \
		--socket "$TMP/bad.sock" --foreground >"$TMP/bad.out" 2>&1 || rc=$?
	say "$name: exit $rc: $(grep -m1 -F "$conf" "$TMP/bad.out")"
	((rc != 0 && rc != 124)) || fail "$name: mantad did not refuse the config (exit $rc)"
	grep -qF "$conf:$line" "$TMP/bad.out" || fail "$name: no \`$conf:$line' in: $(cat "$TMP/bad.out")"
	if [[ -n $value ]]; then
		grep -qF -- "$value" "$TMP/bad.out" || fail "$name: no $value in: $(cat "$TMP/bad.out")"
	fi
	if n a ip link show dev manta0 >/dev/null 2>&1; then fail "$name: manta0 left behind"; fi
	no_sanitizer_reports "$TMP/bad.out"
}
node="[node]
listen_port = 51820
tun = manta0
state_dir = ${STATE[A]}"
bad_config port 2 "\`70000'" "[node]
listen_port = 70000"
bad_config key 7 "\`not-a-key'" "$node

[peer]
public_key = not-a-key"
bad_config short_key 7 "\`${PUB[B]:0:40}'" "$node

[peer]
public_key = ${PUB[B]:0:40}"
bad_config endpoint 8 "\`10.0.2.2'" "$node

[peer]
public_key = ${PUB[B]}
endpoint = 10.0.2.2"
bad_config endpoint_port 8 "\`10.0.2.2:99999'" "$node

[peer]
public_key = ${PUB[B]}
endpoint = 10.0.2.2:99999"
# An unknown key or section is only a warning (a newer config on an older
# mantad, t_reload.sh), but one a typing mistake away from a known one is not.
bad_config near_miss_key 5 "\`listen_prot'" "$node
listen_prot = 51820"
bad_config near_miss_section 6 "[peers]" "$node

[peers]
x = 1"
bad_config syntax 5 "\`this line has no equals sign'" "$node
this line has no equals sign"
bad_config testing 7 "\`fast'" "$node

[testing]
under_load = fast"
# A config file that is not there.
rc=0
timeout 10 ip netns exec "${NS[a]}" "$MANTAD" --config "$TMP/missing.conf" \
	--state-dir "${STATE[A]}" --socket "$TMP/bad.sock" --foreground >"$TMP/bad.out" 2>&1 || rc=$?
say "missing: exit $rc: $(head -n 1 "$TMP/bad.out")"
((rc != 0 && rc != 124))
grep -qF "$TMP/missing.conf" "$TMP/bad.out"
[[ $(sha256sum <"${STATE[A]}/node.key") == "$key_sum" ]]

stop_mantad B
pretty "$SCENARIO" "ok"
