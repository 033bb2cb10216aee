#!/usr/bin/env bash
# A WireGuard uplink from a wg-quick file, run by wireguard-go under mantad,
# against a "provider" that runs stock wireguard-go configured with wg(8):
#
#   node (mantad)                                   prov (the provider)
#     eth0 10.0.0.2  <========== veth ==========>  eth0 10.0.0.1
#     wuPID 2001:db8:77::2/64  ~~ WireGuard ~~>    mwPIDp 2001:db8:77::1/64
#     (wireguard-go, mantad's child)               (wireguard-go + wg, :51820)
#     ::/0 -> wuPID metric 1024                    lo 2001:db8:99::1 ("the
#                                                  internet behind it")
#
#   1. [uplink.wg6] (type wireguard, config = $TMP/A/wuPID.conf, the
#      interface named after the file, the Endpoint a host name) comes up: wireguard-go is mantad's
#      child, the interface has the file's address and MTU 1420, ::/0 is
#      routed into it with metric 1024, the AllowedIPs 10.0.0.1/32 that
#      holds the peer's own endpoint is not (a warning says why), DNS= and
#      PostUp= are ignored with a warning (PostUp never runs). [uplink.bad]
#      (MTU = 9 in its file) and [uplink.taken] (its interface is a veth
#      that exists already) and [uplink.nogo] (wireguard_go names no file)
#      stay down with the reason as their error; the veth is left alone.
#   2. `manta uplink status --json': mode wireguard-go, a handshake_age
#      (a small number) once the handshake happened, the peer's endpoint
#      and byte counters; the provider's wg(8) sees the same handshake.
#   3. IPv6 flows both ways: node -> 2001:db8:77::1 and, through the default
#      route, 2001:db8:99::1; provider -> 2001:db8:77::2.
#   4. The health prober (target 2001:db8:77::1) calls it up.
#   5. wireguard-go killed behind mantad's back: the uplink shows the error,
#      and mantad restarts it (a new pid), the tunnel works again and the
#      prober finds the new interface.
#   6. `manta uplink down wg6': the interface, the route, the UAPI socket
#      and the wireguard-go process are gone; so after `up' and at once
#      `down'; `up' brings all back.
#   7. mantad stops: no wireguard-go left, no interface.
#
# 2001:db8::/32 (documentation) exists only inside these namespaces.
source "$(dirname "$0")/lib.sh"

command -v wireguard-go >/dev/null || fail "wireguard-go is not installed (make deps)"
command -v wg >/dev/null || fail "wg (wireguard-tools) is not installed (make deps)"

NIF=wu$$ # the node's interface: the file's name (UAPI sockets are shared by all namespaces)
PIF=mw$$p
WGIFS+=("$NIF" "$PIF")
PROV_V6=2001:db8:77::1
NODE_V6=2001:db8:77::2
BEHIND=2001:db8:99::1

topo_pair prov node

# --- the provider: stock wireguard-go, configured with wg(8) ----------------------------
wg_key provwg prov
(
	umask 077
	wg genkey >"$TMP/node.wgkey"
)
NODE_WGPUB=$(wg pubkey <"$TMP/node.wgkey")
LOG["provwg"]=$TMP/provwg/wireguard-go.log
ip netns exec "${NS[prov]}" env LOG_LEVEL=debug wireguard-go -f "$PIF" >>"${LOG["provwg"]}" 2>&1 &
PID["provwg"]=$!
BGPIDS+=("$!")
wait_for 10 eval "[[ -S /var/run/wireguard/$PIF.sock ]] && n prov ip link show dev $PIF"
n prov wg set "$PIF" private-key "${KEYFILE["provwg"]}" listen-port 51820 \
	peer "$NODE_WGPUB" allowed-ips "$NODE_V6/128"
n prov ip -6 addr add "$PROV_V6/64" dev "$PIF" nodad
n prov ip link set "$PIF" mtu 1420 up
n prov ip -6 addr add "$BEHIND/128" dev lo
pretty prov "wireguard-go $PIF on 10.0.0.1:51820, $PROV_V6/64, $BEHIND behind it"

# --- the node's wg-quick file and mantad ---------------------------------------------
# The Endpoint is a name, resolved by mantad (uv_getaddrinfo) from the
# node's own hosts file (ip netns exec mounts /etc/netns/NS/hosts).
printf '127.0.0.1 localhost\n10.0.0.1 provider.test\n' >"/etc/netns/${NS[node]}/hosts"
mantad_key A node
mantad_config A
WGCONF=$TMP/A/$NIF.conf
(
	umask 077
	cat >"$WGCONF" <<EOF
# the provider's wg-quick file for this node
[Interface]
PrivateKey = $(cat "$TMP/node.wgkey")
Address = $NODE_V6/64
DNS = 2001:db8:77::53
PostUp = touch $TMP/postup-ran

[Peer]
PublicKey = ${PUB["provwg"]}
Endpoint = provider.test:51820
AllowedIPs = ::/0, 10.0.0.1/32
PersistentKeepalive = 25
EOF
)
# Two that must fail, and say why: a bad file, and an interface that is
# someone else's.
printf '[Interface]\nPrivateKey = %s\nMTU = 9\n' "$(cat "$TMP/node.wgkey")" >"$TMP/A/bad.conf"
chmod 0600 "$TMP/A/bad.conf"
n node ip link add "dx$$" type veth peer name "dy$$"
cat >>"${CONF[A]}" <<EOF

[uplink.wg6]
type = wireguard
config = $WGCONF
health_targets = $PROV_V6
probe_interval = 0.5

[uplink.bad]
type = wireguard
config = $TMP/A/bad.conf

[uplink.taken]
type = wireguard
config = $WGCONF
interface = dx$$

[uplink.nogo]
type = wireguard
config = $WGCONF
interface = ng$$
wireguard_go = /nonexistent/wireguard-go
EOF
start_mantad node A "${CONF[A]}"

# uplink NAME EXPR: EXPR over that uplink's object `u' in `manta uplink status
# --json' (python3), wherever the listing puts it.
uplink() { uplink_get A "$1" "$2"; }
uplink_true() { [[ $(uplink wg6 "bool($1)") == true ]]; }
handshaken() { uplink_true 'isinstance(u["handshake_age"], int) and u["handshake_age"] <= 10'; }
# wggo_procs: pids of wireguard-go processes for the node's interface.
wggo_procs() { pgrep -f -- "wireguard-go -f $NIF\$" || true; }
no_wggo() { [[ -z $(wggo_procs) ]]; }
ctl() { n node "$MANTA" --socket "${SOCK[A]}" "$@"; }
# (No `cmd | grep -q' under pipefail: grep leaving early can fail cmd with
# SIGPIPE. Outputs are compared whole.)

# --- 1. up from the file ---------------------------------------------------------------
pretty wg6 "up from $NIF.conf"
wait_for 10 n node ip link show dev "$NIF" up
wait_for 10 uplink_true 'u["wireguard_go_state"] == "running"'
[[ $(uplink wg6 "u['mode']") == wireguard-go ]] || fail "wg6: mode is $(uplink wg6 "u['mode']")"
[[ $(uplink wg6 "u['iface']") == "$NIF" ]] || fail "wg6: iface is $(uplink wg6 "u['iface']")"
pid1=$(uplink wg6 "u['wireguard_go_pid']")
[[ $(wggo_procs) == "$pid1" ]] || fail "wg6: wireguard-go pid $pid1, processes: $(wggo_procs)"
[[ $(ps -o ppid= -p "$pid1" | tr -d ' ') == "${PID[A]}" ]] || fail "wg6: wireguard-go is not mantad's child"
mtu=$(n node cat "/sys/class/net/$NIF/mtu")
((mtu == 1420)) || fail "wg6: MTU $mtu, expected the default 1420"
[[ $(n node ip -6 addr show dev "$NIF") == *"inet6 $NODE_V6/64 "* ]] || fail "wg6: no $NODE_V6/64"
[[ $(n node ip -6 route show default) == *"dev $NIF "*"metric 1024"* ]] ||
	fail "wg6: no ::/0 into $NIF with metric 1024: $(n node ip -6 route show default)"
if [[ -n $(n node ip -4 route show dev "$NIF") ]]; then
	fail "wg6: an IPv4 route into $NIF (10.0.0.1/32 holds the endpoint): $(n node ip -4 route show dev "$NIF")"
fi
grep -q "not routing 10.0.0.1/32 into the tunnel" "${LOG[A]}" || fail "wg6: no warning about 10.0.0.1/32"
grep -q "DNS is ignored" "${LOG[A]}" || fail "wg6: no warning about DNS="
grep -q "PostUp is ignored" "${LOG[A]}" || fail "wg6: no warning about PostUp="
[[ ! -e $TMP/postup-ran ]] || fail "wg6: PostUp ran"
grep -q "kernel WireGuard" "${LOG[A]}" || fail "wg6: the kernel probe said nothing"
# Neither the key nor its hex (as UAPI carries it) is in the log.
keyhex=$(python3 -c 'import base64, sys; print(base64.b64decode(sys.argv[1]).hex())' "$(cat "$TMP/node.wgkey")")
if grep -qF -e "$(cut -c1-20 "$TMP/node.wgkey")" -e "${keyhex:0:20}" "${LOG[A]}"; then
	fail "wg6: the private key is in mantad's log"
fi
say "wireguard-go pid $pid1, mtu $mtu, ::/0 metric 1024, 10.0.0.1/32 left alone"
pretty bad "a bad file, a taken interface, no wireguard-go: down, with the reason"
[[ $(uplink bad "u['admin']") == down ]] || fail "bad: admin is $(uplink bad "u['admin']")"
[[ $(uplink bad "u['error']") == "$TMP/A/bad.conf:3: MTU \`9' is not a number from 1280 (IPv6's minimum) to 65535" ]] ||
	fail "bad: error is $(uplink bad "u['error']")"
[[ $(uplink taken "u['admin']") == down ]] || fail "taken: admin is $(uplink taken "u['admin']")"
[[ $(uplink taken "u['error']") == "interface dx$$ exists already"* ]] ||
	fail "taken: error is $(uplink taken "u['error']")"
[[ $(n node ip -d link show dev "dx$$") == *veth* ]] || fail "taken: dx$$ was changed"
[[ $(uplink nogo "u['error']") == "cannot start \`/nonexistent/wireguard-go': no such file or directory (install wireguard-go, or set wireguard_go = PATH)" ]] ||
	fail "nogo: error is $(uplink nogo "u['error']")"

# --- 2. the handshake in status ------------------------------------------------------------
pretty wg6 "handshake"
wait_for 15 handshaken
age=$(uplink wg6 "u['handshake_age']")
[[ $(uplink wg6 "u['peers'][0]['public_key']") == "${PUB["provwg"]}" ]] || fail "wg6: wrong peer key"
[[ $(uplink wg6 "u['peers'][0]['endpoint']") == 10.0.0.1:51820 ]] ||
	fail "wg6: peer endpoint $(uplink wg6 "u['peers'][0]['endpoint']")"
theirs=$(n prov wg show "$PIF" latest-handshakes | awk -v k="$NODE_WGPUB" '$1 == k { print $2 }')
((theirs > 0)) || fail "prov: wg show has no handshake with the node"
say "handshake_age $age s; the provider's latest handshake $(($(date +%s) - theirs)) s ago"

# --- 3. IPv6 both ways ----------------------------------------------------------------------
pretty node "ping6 $PROV_V6 and $BEHIND through the tunnel"
out=$(n node ping -6 -c 3 -i 0.2 -W 2 "$PROV_V6")
[[ $(ping_summary <(echo "$out")) == "3 3" ]] || fail "node -> $PROV_V6: $out"
out=$(n node ping -6 -c 3 -i 0.2 -W 2 "$BEHIND")
[[ $(ping_summary <(echo "$out")) == "3 3" ]] || fail "node -> $BEHIND (default route): $out"
[[ $(n node ip -6 route get "$BEHIND") == *"dev $NIF "* ]] || fail "node: $BEHIND not routed into $NIF"
pretty prov "ping6 $NODE_V6"
out=$(n prov ping -6 -c 3 -i 0.2 -W 2 "$NODE_V6")
[[ $(ping_summary <(echo "$out")) == "3 3" ]] || fail "prov -> $NODE_V6: $out"
# The counters come from wireguard-go's UAPI (polled every 5 s once handshaken).
wait_for 12 uplink_true 'u["peers"][0]["rx_bytes"] > 9 * 96 and u["peers"][0]["tx_bytes"] > 9 * 96'
say "peer rx $(uplink wg6 "u['peers'][0]['rx_bytes']") B, tx $(uplink wg6 "u['peers'][0]['tx_bytes']") B"

# --- 4. health ----------------------------------------------------------------------------
pretty wg6 "health probes through the tunnel"
wait_for 10 uplink_true 'u["state"] == "up" and u["replies"] > 0'
say "state up, latency $(uplink wg6 "u['latency_ms']") ms"

# --- 5. wireguard-go dies -------------------------------------------------------------------
pretty wg6 "wireguard-go killed behind mantad's back"
kill -KILL "$pid1"
wait_for 5 uplink_true 'u["error"] is not None and "restarting" in u["error"]'
say "error: $(uplink wg6 "u['error']")"
wait_for 15 uplink_true 'u["wireguard_go_state"] == "running" and u["restarts"] == 1'
pid2=$(uplink wg6 "u['wireguard_go_pid']")
((pid2 != pid1)) || fail "wg6: same pid after the restart"
[[ $(uplink wg6 "u['error']") == null ]] || fail "wg6: error stays after the restart"
wait_for 15 n node ping -6 -c 1 -W 1 "$PROV_V6"
# A new wireguard-go is a new interface (another ifindex): the prober follows.
wait_for 10 uplink_true 'u["state"] == "up"'
say "restarted as pid $pid2, the tunnel works again"

# --- 6. down and up ---------------------------------------------------------------------------
pretty wg6 "uplink down"
ctl uplink down wg6 >/dev/null
wait_for 5 no_wggo
wait_for 5 eval "! n node ip link show dev $NIF"
[[ ! -e /var/run/wireguard/$NIF.sock ]] || fail "wg6: the UAPI socket is left"
if [[ -n $(n node ip -6 route show default) ]]; then
	fail "wg6: a default route is left: $(n node ip -6 route show default)"
fi
[[ $(uplink wg6 "u['admin']") == down ]] || fail "wg6: admin is not down"
[[ $(uplink wg6 "u['state']") == down ]] || fail "wg6: state is not down"
[[ $(uplink wg6 "u['mode']") == null ]] || fail "wg6: mode is $(uplink wg6 "u['mode']") while down"
if n node ping -6 -c 1 -W 1 "$PROV_V6" >/dev/null 2>&1; then
	fail "wg6: $PROV_V6 answers while the uplink is down"
fi
pretty wg6 "up and at once down (wireguard-go still starting)"
ctl uplink up wg6 >/dev/null
ctl uplink down wg6 >/dev/null
wait_for 5 no_wggo
wait_for 5 eval "! n node ip link show dev $NIF"
pretty wg6 "uplink up"
ctl uplink up wg6 >/dev/null
wait_for 10 uplink_true 'u["wireguard_go_state"] == "running"'
pid3=$(uplink wg6 "u['wireguard_go_pid']")
((pid3 != pid2)) || fail "wg6: same wireguard-go after down and up"
wait_for 15 handshaken
wait_for 10 n node ping -6 -c 1 -W 1 "$PROV_V6"
say "back: wireguard-go pid $pid3, handshake_age $(uplink wg6 "u['handshake_age']") s"

# --- 7. mantad stops ----------------------------------------------------------------------------
stop_mantad A
[[ -z $(wggo_procs) ]] || fail "wireguard-go left after mantad stopped: $(wggo_procs)"
wait_for 5 eval "! n node ip link show dev $NIF"
# --- 8. as an unprivileged user -------------------------------------------------------------------
pretty wg6 "again with --user nobody: wireguard-go gets CAP_NET_ADMIN and nothing more"
chmod 0711 "$TMP"
chown -R nobody: "${STATE[A]}"
chown nobody: "$TMP/A" # its control socket
# The wg-quick files must be readable by mantad's user (as a file in
# /etc/manta, 0640 root:manta, would be).
chown nobody: "$TMP"/A/*.conf
# mantad's own /var/run/wireguard (the provider's wireguard-go uses the
# host's), and /dev/net/tun 0666 as Debian's udev makes it, bound over the
# real ones in mantad's mount namespace as t_service.sh does.
mkdir -p /var/run/wireguard "$TMP/wgrun"
chown nobody: "$TMP/wgrun"
binds="mount --bind $TMP/wgrun /var/run/wireguard && "
if [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
	mknod -m 0666 "$TMP/tun" c 10 200
	binds+="mount --bind $TMP/tun /dev/net/tun && "
fi
ip netns exec "${NS[node]}" sh -c "${binds}exec \"\$@\"" mantad "$MANTAD" \
	--config "${CONF[A]}" --state-dir "${STATE[A]}" --socket "${SOCK[A]}" --foreground \
	--user nobody >>"${LOG[A]}" 2>&1 &
PID[A]=$!
BGPIDS+=("$!")
wait_for 20 mantad_ready A
grep -q "running as nobody" "${LOG[A]}"
wait_for 10 uplink_true 'u["wireguard_go_state"] == "running"'
wait_for 15 handshaken
wait_for 10 n node ping -6 -c 1 -W 1 "$PROV_V6"
pid4=$(uplink wg6 "u['wireguard_go_pid']")
caps=$(awk '/^(Uid|CapEff|CapAmb):/ { printf "%s %s ", $1, $2 }' "/proc/$pid4/status")
say "wireguard-go pid $pid4: $caps"
[[ $caps == "Uid: $(id -u nobody) CapEff: 0000000000001000 CapAmb: 0000000000001000 " ]] ||
	fail "wireguard-go runs with $caps, not as nobody with CAP_NET_ADMIN alone"
stop_mantad A
[[ -z $(wggo_procs) ]] || fail "wireguard-go left after mantad stopped: $(wggo_procs)"

pretty ok "wireguard uplink: wg-quick file, wireguard-go, handshake, IPv6 both ways, restart, down/up, --user"
