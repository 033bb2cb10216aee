# shellcheck shell=bash
# Helpers for the end-to-end scenarios; every tests/e2e/t_*.sh sources this.
#
# Hosts are network namespaces named per run (manta-RUN-NAME, RUN = the
# scenario's pid or $MANTA_RUN_ID), so runs never collide. Everything a run
# creates -- namespaces, daemons, captures, the temporary directory -- is
# removed by `cleanup` on exit, whether the scenario passed, failed or was
# killed. Traffic stays inside the namespaces: the underlay uses 10.0.0.0/16
# and the ULA prefix fd6d:616e:7461::/48 ("manta"), which exist only there.
#
#   n HOST CMD...              run CMD in HOST's namespace (ip netns exec)
#   pretty HOST MESSAGE        print a step
#   wait_for SECONDS CMD...    poll CMD every 0.1 s until it succeeds
#   topo_internet HOST...      hosts joined through an "internet" router r
#   topo_pair A B              two hosts on one veth pair
#   topo_narrow A B / narrow MTU  A - r1 - r2 - B, the r1-r2 link's MTU settable
#   mantad_key NAME HOST       node key in NAME's state dir; PUB/V6/V4[NAME]
#   mantad_config NAME PEER... write CONF[NAME] (PEER, PEER:6, PEER:none)
#   start_mantad HOST NAME CONF / stop_mantad NAME
#   mstatus NAME               `manta status --json`
#   json_get NAME EXPR         evaluate EXPR over NAME's status (python3)
#   json_true NAME EXPR        the same, as an exit status (for wait_for)
#   uplink_get NAME UPLINK EXPR  EXPR over that uplink's status (as u)
#   wg_key NAME HOST / start_wggo HOST NAME / wg_add_peer NAME PEER [4|6|none]
#   capture_start HOST IFACE NAME FILTER... / capture_stop NAME
#
# Environment: MANTA_BUILD (build directory, default build), KEEP=1 keeps the
# run's temporary directory (configs, logs, captures), VERBOSE=1 echoes every
# command, MANTA_LOG_LEVEL (mantad's log_level, default debug).

set -eEuo pipefail
shopt -s extglob

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
TOOLS=$E2E_DIR/tools
MANTA_BUILD=${MANTA_BUILD:-build}
case $MANTA_BUILD in
/*) BUILD_DIR=$MANTA_BUILD ;;
*) BUILD_DIR=$ROOT/$MANTA_BUILD ;;
esac
MANTAD=$BUILD_DIR/mantad
MANTA=$BUILD_DIR/manta
RUN=${MANTA_RUN_ID:-$$}
PREFIX=manta-$RUN
ULA=fd6d:616e:7461
TMP=$(mktemp -d "/tmp/manta-e2e.$RUN.XXXXXX")
SCENARIO=$(basename "$0" .sh)

declare -A NS=() UL4=() UL6=()                        # per host
declare -A PUB=() V6=() V4=() PORT=() HOSTOF=()        # per node (mantad or wg)
declare -A STATE=() SOCK=() LOG=() CONF=() TUN=() PID=() WGIF=() KEYFILE=()
declare -A CAP_PID=() CAP_FILE=()
NSLIST=()
BGPIDS=()
WGIFS=()
WGCOUNT=0

[[ ${VERBOSE:-0} == 1 ]] && set -x

# --- sanitizers --------------------------------------------------------------
# A sanitizer build must turn every report into a non-zero exit, which
# stop_mantad and the CLI calls then catch. Harmless for a normal build.
if [[ $MANTA_BUILD == *san* ]] || { [[ -x $MANTAD ]] && grep -qa __asan_init "$MANTAD"; }; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=66:strict_string_checks=1:detect_stack_use_after_return=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=67}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=66}
fi

# --- output and failure --------------------------------------------------------
if [[ -t 1 ]]; then
	_C_ON=$'\e[32m\e[1m' _C_RED=$'\e[31m\e[1m' _C_OFF=$'\e[0m'
else
	_C_ON='' _C_RED='' _C_OFF=''
fi

pretty() { printf '%s[+] %s%s%s\n' "$_C_ON" "${1:+$1: }" "$2" "$_C_OFF"; }
say() { printf '    %s\n' "$*"; }
# fail MESSAGE: print to the scenario's real stderr (fd 9, so that it is seen
# even from a predicate whose output wait_for hides) and exit 1.
exec 9>&2
fail() {
	printf '%sFAIL: %s%s\n' "$_C_RED" "$*" "$_C_OFF" >&9
	exit 1
}

# Under set -eE this names the failing command and where it was, with the call
# stack, before cleanup prints the daemons' logs.
on_err() {
	local rc=$? line=$1 cmd=$2 file=${BASH_SOURCE[1]} i text
	((BASH_SUBSHELL == 0)) || return 0
	# The source line says more than BASH_COMMAND (`return 1', `false').
	text=$(sed -n "${line}{s/^[[:space:]]*//;p}" "$file" 2>/dev/null) || true
	printf '%sFAIL: %s:%s: %s (exit %d)%s\n' "$_C_RED" "$(basename "$file")" "$line" \
		"${text:-$cmd}" "$rc" "$_C_OFF" >&2
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		printf '    called from %s:%s (%s)\n' "$(basename "${BASH_SOURCE[i + 1]}")" \
			"${BASH_LINENO[i]}" "${FUNCNAME[i + 1]}" >&2
	done
}
trap 'on_err $LINENO "$BASH_COMMAND"' ERR

# Microseconds since the epoch (bash 5's EPOCHREALTIME, no fork).
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$t"
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; after
# SECONDS (fractions allowed) fail, naming CMD and showing its last output.
wait_for() {
	local secs=$1
	shift
	local us
	us=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000000 }')
	local deadline=$(($(now_us) + us))
	while true; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if (($(now_us) >= deadline)); then
			printf '%sFAIL: timed out after %ss waiting for: %s%s\n' "$_C_RED" "$secs" "$*" \
				"$_C_OFF" >&2
			printf '    last attempt said:\n' >&2
			"$@" 2>&1 | tail -n 5 | sed 's/^/      /' >&2 || true
			return 1
		fi
		sleep 0.1
	done
}

# --- namespaces ----------------------------------------------------------------
nsname() {
	if [[ -n ${NS[$1]:-} ]]; then
		echo "${NS[$1]}"
	else
		echo "$1"
	fi
}

n() {
	local ns
	ns=$(nsname "$1")
	shift
	ip netns exec "$ns" "$@"
}

# new_host NAME: an empty namespace with lo up, no DAD (addresses are usable at
# once) and no router advertisements.
new_host() {
	local name=$1 ns=$PREFIX-$1
	ip netns add "$ns"
	NS[$name]=$ns
	NSLIST+=("$ns")
	# A private resolv.conf (ip netns exec bind-mounts it over
	# /etc/resolv.conf): mantad's Magic DNS rewrites the one it sees, and
	# that must never be the host's.
	mkdir -p "/etc/netns/$ns"
	printf '# %s: resolv.conf of the test host %s\nnameserver 127.0.0.1\n' "$SCENARIO" "$name" \
		>"/etc/netns/$ns/resolv.conf"
	ip -n "$ns" link set lo up
	n "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
}

# topo_internet HOST...: hosts 1..N each joined by a veth pair to a router
# namespace `r` that forwards IPv4 and IPv6 between them:
#
#   HOST_i eth0 10.0.i.2/24, ULA:i::2/64  <-->  r to-HOST_i 10.0.i.1, ULA:i::1
topo_internet() {
	local i=0 h ns
	new_host r
	n r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for h in "$@"; do
		i=$((i + 1))
		new_host "$h"
		ns=${NS[$h]}
		ip -n "${NS[r]}" link add "to-$h" type veth peer name eth0 netns "$ns"
		ip -n "${NS[r]}" addr add "10.0.$i.1/24" dev "to-$h"
		ip -n "${NS[r]}" addr add "$ULA:$i::1/64" dev "to-$h" nodad
		ip -n "${NS[r]}" link set "to-$h" up
		ip -n "$ns" addr add "10.0.$i.2/24" dev eth0
		ip -n "$ns" addr add "$ULA:$i::2/64" dev eth0 nodad
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "10.0.$i.1"
		ip -n "$ns" -6 route add default via "$ULA:$i::1"
		UL4[$h]=10.0.$i.2 UL6[$h]=$ULA:$i::2
	done
	for h in "$@"; do
		wait_for 5 n "$h" ping -c1 -W1 10.0.1.1
		wait_for 5 n "$h" ping -6 -c1 -W1 "$ULA:1::1"
	done
}

# topo_pair A B: two hosts on one veth pair, A = 10.0.0.1, B = 10.0.0.2.
topo_pair() {
	local a=$1 b=$2
	new_host "$a"
	new_host "$b"
	ip -n "${NS[$a]}" link add eth0 type veth peer name eth0 netns "${NS[$b]}"
	ip -n "${NS[$a]}" addr add 10.0.0.1/24 dev eth0
	ip -n "${NS[$a]}" addr add "$ULA:0::1/64" dev eth0 nodad
	ip -n "${NS[$b]}" addr add 10.0.0.2/24 dev eth0
	ip -n "${NS[$b]}" addr add "$ULA:0::2/64" dev eth0 nodad
	ip -n "${NS[$a]}" link set eth0 up
	ip -n "${NS[$b]}" link set eth0 up
	UL4[$a]=10.0.0.1 UL6[$a]=$ULA:0::1
	UL4[$b]=10.0.0.2 UL6[$b]=$ULA:0::2
	wait_for 5 n "$a" ping -c1 -W1 10.0.0.2
	wait_for 5 n "$a" ping -6 -c1 -W1 "$ULA:0::2"
}

# topo_narrow A B: A and B behind two routers whose link between them is the
# narrow one (path MTU tests); `narrow MTU' sets that link's MTU, both ends
# (a veth silently drops what exceeds its receiving end's MTU):
#
#   A eth0 10.0.1.2 -- to-a r1 to-r2 10.0.9.1 == 10.0.9.2 to-r1 r2 to-b -- 10.0.2.2 eth0 B
#      ULA:1::2                    ULA:9::1      ULA:9::2                   ULA:2::2
topo_narrow() {
	local a=$1 b=$2 h
	for h in "$a" r1 r2 "$b"; do new_host "$h"; done
	for h in r1 r2; do n "$h" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; done
	_narrow_link r1 to-a 1 "$a" eth0
	_narrow_link r1 to-r2 9 r2 to-r1
	_narrow_link r2 to-b 2 "$b" eth0
	n "$a" ip route add default via 10.0.1.1
	n "$a" ip -6 route add default via "$ULA:1::1"
	n "$b" ip route add default via 10.0.2.1
	n "$b" ip -6 route add default via "$ULA:2::1"
	n r1 ip route add 10.0.2.0/24 via 10.0.9.2
	n r1 ip -6 route add "$ULA:2::/64" via "$ULA:9::2"
	n r2 ip route add 10.0.1.0/24 via 10.0.9.1
	n r2 ip -6 route add "$ULA:1::/64" via "$ULA:9::1"
	UL4[$a]=10.0.1.2 UL6[$a]=$ULA:1::2
	UL4[$b]=10.0.2.2 UL6[$b]=$ULA:2::2
	wait_for 5 n "$a" ping -c1 -W1 10.0.2.2
	wait_for 5 n "$a" ping -6 -c1 -W1 "$ULA:2::2"
}

# _narrow_link HOST1 IF1 NET HOST2 IF2: a veth pair, .1 and ::1 on HOST1.
_narrow_link() {
	ip -n "${NS[$1]}" link add "$2" type veth peer name "$5" netns "${NS[$4]}"
	ip -n "${NS[$1]}" addr add "10.0.$3.1/24" dev "$2"
	ip -n "${NS[$1]}" addr add "$ULA:$3::1/64" dev "$2" nodad
	ip -n "${NS[$4]}" addr add "10.0.$3.2/24" dev "$5"
	ip -n "${NS[$4]}" addr add "$ULA:$3::2/64" dev "$5" nodad
	ip -n "${NS[$1]}" link set "$2" up
	ip -n "${NS[$4]}" link set "$5" up
}

narrow() {
	n r1 ip link set to-r2 mtu "$1"
	n r2 ip link set to-r1 mtu "$1"
	say "narrow link MTU $1"
}

# endpoint NAME [4|6]: NAME's underlay address and port as a config writes it.
endpoint() {
	local name=$1 fam=${2:-4} host=${HOSTOF[$1]}
	if [[ $fam == 6 ]]; then
		echo "[${UL6[$host]}]:${PORT[$name]}"
	else
		echo "${UL4[$host]}:${PORT[$name]}"
	fi
}

# --- keys and addresses --------------------------------------------------------
# set_identity NAME PUBKEY: record the key and the addresses it derives (from
# the independent Python reference in tools/addresses.py).
set_identity() {
	local name=$1 pub=$2 addrs
	addrs=$("$TOOLS/addresses.py" "$pub")
	PUB[$name]=$pub
	V6[$name]=${addrs%%$'\n'*}
	V4[$name]=${addrs##*$'\n'}
	local k
	{
		printf '{'
		local sep=''
		for k in "${!PUB[@]}"; do
			printf '%s"%s":"%s"' "$sep" "$k" "${PUB[$k]}"
			sep=,
		done
		printf '}\n'
	} >"$TMP/keys.json"
}

require_manta() {
	[[ -x $MANTAD && -x $MANTA ]] || fail "$MANTAD or $MANTA is not built (make all)"
}

# mantad_key NAME HOST [PORT]: a fresh node key in NAME's state directory
# (what mantad would create on first start), so configs can be written
# beforehand; NAME will run on HOST and listen on PORT (default 51820).
mantad_key() {
	local name=$1 dir=$TMP/$1
	HOSTOF[$name]=$2
	require_manta
	mkdir -p "$dir/state"
	chmod 0700 "$dir/state"
	STATE[$name]=$dir/state
	(
		umask 077
		"$MANTA" genkey >"$dir/state/node.key"
	)
	KEYFILE[$name]=$dir/state/node.key
	set_identity "$name" "$("$MANTA" pubkey <"$dir/state/node.key")"
	PORT[$name]=${3:-51820}
}

# mantad_config NAME PEER...: write NAME's config to CONF[NAME]. Each PEER is
# a node name, optionally with `:6` (use its IPv6 underlay endpoint), `:none`
# (no endpoint: it must reach us first) or `:ka=N` (persistent keepalive).
# Append [testing] or more with `cat >>"${CONF[NAME]}"`.
mantad_config() {
	local name=$1 spec peer opt conf=$TMP/$1/mantad.conf
	shift
	TUN[$name]=${TUN[$name]:-manta0}
	{
		printf '# %s, written by %s\n' "$name" "$SCENARIO"
		printf '[node]\nlisten_port = %s\ntun = %s\nstate_dir = %s\nlog_level = %s\n' \
			"${PORT[$name]}" "${TUN[$name]}" "${STATE[$name]}" "${MANTA_LOG_LEVEL:-debug}"
		for spec in "$@"; do
			peer=${spec%%:*}
			opt=${spec#"$peer"}
			opt=${opt#:}
			printf '\n[peer]\n# %s\npublic_key = %s\n' "$peer" "${PUB[$peer]}"
			case $opt in
			none) ;;
			6) printf 'endpoint = %s\n' "$(endpoint "$peer" 6)" ;;
			ka=*) printf 'endpoint = %s\npersistent_keepalive = %s\n' "$(endpoint "$peer")" "${opt#ka=}" ;;
			'') printf 'endpoint = %s\n' "$(endpoint "$peer")" ;;
			*) fail "mantad_config: unknown peer option \`$spec'" ;;
			esac
		done
	} >"$conf"
	# shellcheck disable=SC2034 # (read by the scenarios)
	CONF[$name]=$conf
}

# --- mantad ----------------------------------------------------------------------
pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st != Z* ]]
}

mantad_ready() {
	local name=$1 rc=0
	if ! pid_alive "${PID[$name]}"; then
		wait "${PID[$name]}" || rc=$?
		PID[$name]=
		fail "mantad $name exited during start-up with status $rc; its log:
$(tail -n 30 "${LOG[$name]}" | sed 's/^/    /')"
	fi
	[[ -S ${SOCK[$name]} ]] && mstatus "$name" >/dev/null &&
		n "${HOSTOF[$name]}" ip link show dev "${TUN[$name]}" up >/dev/null
}

# start_mantad HOST NAME CONFIG: run mantad in HOST's namespace in the
# foreground (stderr to its log) and wait until its socket answers and its TUN
# is up.
start_mantad() {
	local host=$1 name=$2 conf=$3 dir=$TMP/$2
	require_manta
	mkdir -p "$dir"
	HOSTOF[$name]=$host
	STATE[$name]=${STATE[$name]:-$dir/state}
	SOCK[$name]=$dir/ctl.sock
	LOG[$name]=$dir/mantad.log
	# shellcheck disable=SC2034 # (read by the scenarios)
	CONF[$name]=$conf
	TUN[$name]=$(sed -n '/^[[:space:]]*tun[[:space:]]*=/{s/^[^=]*=[[:space:]]*\([^[:space:]#;]*\).*/\1/p;q}' "$conf")
	TUN[$name]=${TUN[$name]:-manta0}
	printf -- '--- start %s\n' "$(date +%T.%N)" >>"${LOG[$name]}"
	ip netns exec "${NS[$host]}" "$MANTAD" --config "$conf" --state-dir "${STATE[$name]}" \
		--socket "${SOCK[$name]}" --foreground >>"${LOG[$name]}" 2>&1 &
	PID[$name]=$!
	BGPIDS+=("$!")
	wait_for 20 mantad_ready "$name"
	if [[ -z ${PUB[$name]:-} ]]; then
		set_identity "$name" "$(json_get "$name" 'j["public_key"]')"
	fi
}

# reap NAME SIGNAL: signal NAME's daemon, wait for it (at most 15 s, then
# SIGKILL) and set EXIT_STATUS to its exit status. Not in a subshell: only
# this shell can wait for its children.
EXIT_STATUS=
reap() {
	local name=$1 sig=${2:-TERM} pid=${PID[$1]}
	[[ -n $pid ]] || fail "$name is not running"
	kill "-$sig" "$pid"
	wait_for 15 eval '! pid_alive '"$pid" || kill -KILL "$pid"
	EXIT_STATUS=0
	wait "$pid" || EXIT_STATUS=$?
	PID[$name]=
}

# no_sanitizer_reports LOG: the log holds no ASan, LSan or UBSan report.
no_sanitizer_reports() {
	if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' "$1"; then
		fail "sanitizer report in $1"
	fi
}

# stop_mantad NAME: SIGTERM; it must exit 0, leave no TUN device and no overlay
# route behind, and its log must be free of sanitizer reports.
stop_mantad() {
	local name=$1 host=${HOSTOF[$1]}
	reap "$name" TERM
	if ((EXIT_STATUS != 0)); then
		fail "mantad $name exited with status $EXIT_STATUS after SIGTERM; its log:
$(tail -n 30 "${LOG[$name]}" | sed 's/^/    /')"
	fi
	if n "$host" ip link show dev "${TUN[$name]}" >/dev/null 2>&1; then
		fail "mantad $name: ${TUN[$name]} still exists after it stopped"
	fi
	if n "$host" ip -6 route show | grep -E '^(200::/7|[23][0-9a-f]{2}:)' | grep -v ' dev ygg0'; then
		fail "mantad $name: overlay IPv6 routes left in $host"
	fi
	if n "$host" ip -4 route show | grep -E '^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.'; then
		fail "mantad $name: overlay IPv4 routes left in $host"
	fi
	no_sanitizer_reports "${LOG[$name]}"
	pretty "$name" "stopped cleanly: exit 0, ${TUN[$name]} and its routes gone"
}

mstatus() {
	local name=$1
	n "${HOSTOF[$name]}" "$MANTA" --socket "${SOCK[$name]}" status --json
}

# json_eval EXPR < JSON: evaluate a Python expression with `j` bound to the
# document. peer(X) is the peer entry whose public_key is X's (X a node name
# or a base64 key). None prints as null, booleans as true/false.
json_eval() {
	KEYS_JSON=$TMP/keys.json python3 -c '
import json, os, sys
j = json.load(sys.stdin)
try:
    keys = json.load(open(os.environ["KEYS_JSON"]))
except OSError:
    keys = {}
def peer(x):
    k = keys.get(x, x)
    for p in j["peers"]:
        if p["public_key"] == k:
            return p
    raise SystemExit("no peer %s (%s) in %s" % (x, k, [p["public_key"] for p in j["peers"]]))
c = j.get("counters", {}) if isinstance(j, dict) else {}
v = eval(sys.argv[1])
if isinstance(v, (bool, dict, list)) or v is None:
    print(json.dumps(v))
else:
    print(v)
' "$1"
}

# uplink_get NAME UPLINK EXPR: EXPR (python3) over `manta uplink status
# UPLINK --json' of NAME's mantad, the uplink's object as u.
uplink_get() {
	local out
	out=$(n "${HOSTOF[$1]}" "$MANTA" --socket "${SOCK[$1]}" uplink status "$2" --json) || return 1
	json_eval "(lambda u: $3)(j[0])" <<<"$out"
}

json_get() {
	local out
	out=$(mstatus "$1") || return 1
	json_eval "$2" <<<"$out"
}

# json_true NAME EXPR: exit 0 when EXPR is true over NAME's status.
json_true() {
	[[ $(json_get "$1" "bool($2)") == true ]]
}

counter() { json_get "$1" "c['$2']"; }

# --- stock wireguard-go ----------------------------------------------------------
# wg_key NAME HOST [PORT]: a WireGuard private key (wg genkey) for a
# wireguard-go node NAME that will run on HOST; PUB/V6/V4[NAME].
wg_key() {
	local name=$1 dir=$TMP/$1
	HOSTOF[$name]=$2
	mkdir -p "$dir"
	(
		umask 077
		wg genkey >"$dir/wg.key"
	)
	KEYFILE[$name]=$dir/wg.key
	set_identity "$name" "$(wg pubkey <"$dir/wg.key")"
	PORT[$name]=${3:-51820}
}

# start_wggo HOST NAME: wireguard-go in the foreground in HOST's namespace,
# configured with NAME's key and port, with the addresses NAME's key derives,
# MTU 1280 and the overlay prefixes routed to it (wg's allowed-ips decide).
# wireguard-go's UAPI sockets live in one directory shared by all namespaces,
# so the interface name carries this run's pid.
start_wggo() {
	local host=$1 name=$2 ifc
	WGCOUNT=$((WGCOUNT + 1))
	ifc=mw$$x$WGCOUNT
	WGIF[$name]=$ifc
	WGIFS+=("$ifc")
	HOSTOF[$name]=$host
	LOG[$name]=$TMP/$name/wireguard-go.log
	ip netns exec "${NS[$host]}" env LOG_LEVEL=debug wireguard-go -f "$ifc" >>"${LOG[$name]}" 2>&1 &
	PID[$name]=$!
	BGPIDS+=("$!")
	wait_for 10 eval "[[ -S /var/run/wireguard/$ifc.sock ]] && n $host ip link show dev $ifc"
	n "$host" wg set "$ifc" private-key "${KEYFILE[$name]}" listen-port "${PORT[$name]}"
	n "$host" ip -6 addr add "${V6[$name]}/128" dev "$ifc"
	n "$host" ip -4 addr add "${V4[$name]}/32" dev "$ifc"
	n "$host" ip link set "$ifc" mtu 1280 up
	n "$host" ip -6 route add 200::/7 dev "$ifc"
	n "$host" ip -4 route add 100.64.0.0/10 dev "$ifc"
}

# wg_add_peer NAME PEER [4|6|none]: PEER (a mantad or another wg node) as a
# peer of wireguard-go NAME, allowed its derived /128 and /32.
wg_add_peer() {
	local name=$1 peer=$2 fam=${3:-4} ep=()
	[[ $fam == none ]] || ep=(endpoint "$(endpoint "$peer" "$fam")")
	n "${HOSTOF[$name]}" wg set "${WGIF[$name]}" peer "${PUB[$peer]}" "${ep[@]}" \
		allowed-ips "${V6[$peer]}/128,${V4[$peer]}/32"
}

stop_wggo() {
	local name=$1
	reap "$name" TERM
	wait_for 5 eval "! n ${HOSTOF[$name]} ip link show dev ${WGIF[$name]}"
}

# wg_handshake NAME PEER: latest handshake (unix seconds, 0 = none).
wg_handshake() {
	n "${HOSTOF[$1]}" wg show "${WGIF[$1]}" latest-handshakes |
		awk -v k="${PUB[$2]}" '$1 == k { print $2 }'
}

# --- captures ------------------------------------------------------------------
# capture_start HOST IFACE NAME FILTER...: tcpdump into $TMP/NAME.pcap; returns
# once tcpdump is listening.
capture_start() {
	local host=$1 ifc=$2 name=$3
	shift 3
	CAP_FILE[$name]=$TMP/$name.pcap
	ip netns exec "${NS[$host]}" tcpdump -Z root --immediate-mode -U -n -i "$ifc" -w "${CAP_FILE[$name]}" "$@" \
		2>"$TMP/$name.tcpdump.log" &
	CAP_PID[$name]=$!
	BGPIDS+=("$!")
	wait_for 10 grep -q 'listening on' "$TMP/$name.tcpdump.log"
}

capture_stop() {
	local name=$1 pid=${CAP_PID[$1]}
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || true
	CAP_PID[$name]=
}

# pcap NAME ARGS...: tools/udp_replay.py over the capture NAME.
pcap() {
	local name=$1
	shift
	"$TOOLS/udp_replay.py" "${CAP_FILE[$name]}" "$@"
}

# --- small readers -------------------------------------------------------------
# ping_summary OUTPUT_FILE: print "transmitted received" from ping's summary.
ping_summary() {
	sed -n 's/^\([0-9]\+\) packets transmitted, \([0-9]\+\) \(packets \)\?received.*/\1 \2/p' "$1"
}

# ping_avg OUTPUT: average RTT in ms from ping's rtt line.
ping_avg() {
	sed -n 's|^rtt min/avg/max/mdev = [0-9.]\+/\([0-9.]\+\)/.*|\1|p' <<<"$1"
}

# link_rx_packets HOST IFACE: the interface's received-packets counter.
link_rx_packets() {
	n "$1" ip -s -j link show dev "$2" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

# --- cleanup -------------------------------------------------------------------
show_logs() {
	local name f
	for name in "${!LOG[@]}"; do
		f=${LOG[$name]}
		[[ -s $f ]] || continue
		printf '\n--- last lines of %s (%s) ---\n' "$name" "$f" >&2
		# (without wireguard-go's boxed banner about the kernel module)
		grep -v '^[[:space:]]*[│┌└]' "$f" | tail -n "${LOG_LINES:-40}" | sed 's/^/    /' >&2
	done
}

cleanup() {
	local rc=$? pid ns deadline
	set +eE
	trap - ERR
	# Finish even if whoever reads our output has gone (`| head`) or we are
	# told again to stop.
	trap '' PIPE INT TERM HUP
	((rc == 0)) || show_logs
	# Only pids that are still this shell's children: one already reaped may
	# have been reused by someone else's process.
	local mine=()
	for pid in "${BGPIDS[@]}"; do
		[[ $(ps -o ppid= -p "$pid" 2>/dev/null) == *([[:space:]])$$ ]] && mine+=("$pid")
	done
	for pid in "${mine[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	deadline=$(($(now_us) + 5000000))
	for pid in "${mine[@]}"; do
		while pid_alive "$pid" && (($(now_us) < deadline)); do
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${NSLIST[@]}"; do
		# shellcheck disable=SC2046
		kill -KILL $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${NSLIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	for ns in "${WGIFS[@]}"; do
		rm -f "/var/run/wireguard/$ns.sock"
	done
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
