#!/usr/bin/env bash
# mantad as its systemd unit runs it, without systemd (which is not PID 1
# here), and mantad --user as another init system would run it.
#
#   ┌──────────────── a ────────────────┐          ┌────────────── b ──────────────┐
#   │ mantad A as mantad.service runs   │          │ mantad B, started by root     │
#   │ it: uid nobody, the unit's        │          │ with --user nobody            │
#   │ bounding and ambient capabilities,│          │                               │
#   │ no_new_privs, NOTIFY_SOCKET and   │          │                               │
#   │ WATCHDOG_USEC (setpriv, env)      │          │                               │
#   │ eth0 10.0.0.1                     ├──────────┤ eth0 10.0.0.2                 │
#   └───────────────┬───────────────────┘          └───────────────────────────────┘
#                   │ sd_notify datagrams
#        tools/notify_listener.py (stands in for systemd)
#
# A: READY=1 arrives once A is up and after its capabilities are final
# (CAP_NET_ADMIN and CAP_NET_RAW only; bounding set as the unit's; no
# ambient ones left), from A's own pid (NotifyAccess=main), with a STATUS=
# line that follows the peer count and sessions; WATCHDOG=1 keeps coming;
# SIGHUP gives RELOADING=1 then READY=1; SIGTERM STOPPING=1. Traffic flows
# and `manta down; manta up' (a new TUN: CAP_NET_ADMIN) works with only
# those capabilities.
# B: --user refuses a state directory that is not the user's, then runs as
# the user with the same capabilities, its files the user's.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

UNIT=$ROOT/packaging/systemd/mantad.service.in
[[ -f $UNIT ]] || fail "no $UNIT"
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }

# Capability names to a /proc/PID/status mask and to setpriv's syntax.
declare -A CAPBIT=([CAP_NET_BIND_SERVICE]=10 [CAP_NET_ADMIN]=12 [CAP_NET_RAW]=13)
cap_mask() {
	local c m=0
	for c in $1; do
		[[ -n ${CAPBIT[$c]:-} ]] || fail "capability $c: add it to CAPBIT"
		m=$((m | 1 << CAPBIT[$c]))
	done
	printf '%016x\n' "$m"
}
setpriv_caps() {
	local c out=-all
	for c in $1; do
		c=${c#CAP_}
		out+=,+${c,,}
	done
	echo "$out"
}
proc_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
# The notify log: how many lines are exactly LINE; at least N of them; only
# PID sent messages.
count() { grep -cx "$1" "$NLOG" || true; }
at_least() { (($(count "$1") >= $2)); }
only_from() { ! grep '^message from ' "$NLOG" | grep -qvx "message from $1"; }

BOUNDING=$(unit_value CapabilityBoundingSet)
AMBIENT=$(unit_value AmbientCapabilities)
[[ -n $BOUNDING && -n $AMBIENT && $(unit_value NoNewPrivileges) == yes ]]
[[ $(unit_value Type) == notify && $(unit_value User) == manta ]]
RUNTIME_CAPS="CAP_NET_ADMIN CAP_NET_RAW" # what mantad keeps once it is up

# The unit's User=manta; this machine need not have that user.
USER_NAME=nobody
USER_UID=$(id -u "$USER_NAME")
USER_GID=$(id -g "$USER_NAME")
chmod 0711 "$TMP" # the user reaches its directories below

# Debian's udev makes /dev/net/tun 0666, which an unprivileged user with
# CAP_NET_ADMIN needs; a container may have left it 0600. Then the daemons'
# mount namespaces (ip netns exec makes one each) get a 0666 node of it.
TUN_BIND=
if [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
	mknod -m 0666 "$TMP/tun" c 10 200
	TUN_BIND="mount --bind $TMP/tun /dev/net/tun && "
fi

# start_with HOST NAME CONFIG CMD...: start_mantad with CMD... in front of
# mantad (and the TUN node above), and OPTS... after its own options.
OPTS=()
start_with() {
	local host=$1 name=$2 conf=$3 dir=$TMP/$2
	shift 3
	HOSTOF[$name]=$host
	SOCK[$name]=$dir/run/ctl.sock
	LOG[$name]=$dir/mantad.log
	CONF[$name]=$conf
	TUN[$name]=manta0
	printf -- '--- start %s\n' "$(date +%T.%N)" >>"${LOG[$name]}"
	ip netns exec "${NS[$host]}" sh -c "${TUN_BIND}"'exec "$@"' sh "$@" "$MANTAD" \
		--config "$conf" --state-dir "${STATE[$name]}" --socket "${SOCK[$name]}" \
		--foreground "${OPTS[@]}" >>"${LOG[$name]}" 2>&1 &
	PID[$name]=$!
	BGPIDS+=("$!")
}

topo_pair a b
mantad_key A a
mantad_key B b
mantad_config A B
mantad_config B A

pretty A "under the unit's environment: uid $USER_NAME, capabilities $AMBIENT"
# What StateDirectory= and RuntimeDirectory= would have prepared.
chown -R "$USER_UID:$USER_GID" "${STATE[A]}"
install -d -o "$USER_UID" -g "$USER_GID" -m 0755 "$TMP/A/run"
NOTIFY=$TMP/notify.sock
NLOG=$TMP/notify.log
"$TOOLS/notify_listener.py" "$NOTIFY" "$NLOG" &
BGPIDS+=("$!")
wait_for 5 grep -qx listening "$NLOG"
nnp=()
[[ $(unit_value NoNewPrivileges) == yes ]] && nnp=(--no-new-privs)
start_with a A "${CONF[A]}" env NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=300000 \
	setpriv --reuid="$USER_UID" --regid="$USER_GID" --clear-groups \
	--inh-caps="$(setpriv_caps "$AMBIENT")" --ambient-caps="$(setpriv_caps "$AMBIENT")" \
	--bounding-set="$(setpriv_caps "$BOUNDING")" "${nnp[@]}"
pid=${PID[A]}
wait_for 20 grep -qx READY=1 "$NLOG"
# Read at once: READY=1 must come after the capabilities are final.
caps_eff=$(proc_field "$pid" CapEff) caps_prm=$(proc_field "$pid" CapPrm)
caps_bnd=$(proc_field "$pid" CapBnd) caps_amb=$(proc_field "$pid" CapAmb)
say "CapEff $caps_eff CapPrm $caps_prm CapBnd $caps_bnd CapAmb $caps_amb"
[[ $caps_eff == "$(cap_mask "$RUNTIME_CAPS")" && $caps_prm == "$caps_eff" ]]
[[ $caps_bnd == "$(cap_mask "$BOUNDING")" ]]
[[ $caps_amb == 0000000000000000 && $(proc_field "$pid" CapInh) == 0000000000000000 ]]
[[ $(proc_field "$pid" NoNewPrivs) == 1 ]]
read -r -a uids <<<"$(proc_field "$pid" Uid)"
[[ ${uids[*]} == "$USER_UID $USER_UID $USER_UID $USER_UID" ]]
wait_for 10 mantad_ready A
grep -qx "STATUS=manta0 up: 1 peer, 0 with a session, 0 networks" "$NLOG"
# Every message came from mantad itself (NotifyAccess=main).
only_from "$pid"

pretty B "started by root with --user $USER_NAME"
# Its state directory is root's: refused, with the fix in the message.
OPTS=(--user "$USER_NAME")
start_with b B "${CONF[B]}" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
wait_for 10 eval '! pid_alive '"${PID[B]}"
rc=0
wait "${PID[B]}" || rc=$?
PID[B]=
((rc == 1))
grep -q "belongs to uid 0, not to $USER_NAME (chown -R $USER_NAME: ${STATE[B]})" "${LOG[B]}"
chown -R "$USER_UID:$USER_GID" "${STATE[B]}"
[[ ! -e $TMP/B/run ]]
# LeakSanitizer cannot trace a process that changed its uid (it is no
# longer dumpable), so a sanitizer build checks B for everything but leaks.
OPTS=(--user "$USER_NAME")
start_with b B "${CONF[B]}" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
wait_for 20 mantad_ready B
grep -q "running as $USER_NAME (uid $USER_UID)" "${LOG[B]}"
pid_b=${PID[B]}
[[ $(proc_field "$pid_b" CapEff) == "$(cap_mask "$RUNTIME_CAPS")" ]]
[[ $(proc_field "$pid_b" CapPrm) == "$(cap_mask "$RUNTIME_CAPS")" ]]
[[ $(proc_field "$pid_b" CapBnd) == "$(cap_mask "$BOUNDING")" ]]
[[ $(proc_field "$pid_b" NoNewPrivs) == 1 ]]
read -r -a uids <<<"$(proc_field "$pid_b" Uid)"
[[ ${uids[*]} == "$USER_UID $USER_UID $USER_UID $USER_UID" ]]
# The socket's directory was created for the user; its files are the user's.
[[ $(stat -c %u "$TMP/B/run") == "$USER_UID" && $(stat -c %u "${SOCK[B]}") == "$USER_UID" ]]
[[ $(stat -c %u "${STATE[B]}/networks") == "$USER_UID" ]]

pretty A "traffic both ways with only those capabilities"
n a ping -c 3 -i 0.2 -W 2 "${V6[B]}" >/dev/null
n b ping -c 3 -i 0.2 -W 2 "${V4[A]}" >/dev/null
wait_for 5 grep -qx "STATUS=manta0 up: 1 peer, 1 with a session, 0 networks" "$NLOG"

pretty A "manta down, manta up: a new TUN device as uid $USER_NAME"
n a "$MANTA" --socket "${SOCK[A]}" down >/dev/null
wait_for 5 grep -qx "STATUS=manta0 down: 1 peer, 1 with a session, 0 networks" "$NLOG"
n a "$MANTA" --socket "${SOCK[A]}" up >/dev/null
wait_for 5 at_least "STATUS=manta0 up: 1 peer, 1 with a session, 0 networks" 2
n b "$MANTA" --socket "${SOCK[B]}" down >/dev/null
n b "$MANTA" --socket "${SOCK[B]}" up >/dev/null
n a ping -c 2 -i 0.2 -W 2 "${V6[B]}" >/dev/null
n b ping -c 2 -i 0.2 -W 2 "${V6[A]}" >/dev/null

pretty A "WATCHDOG=1 every WATCHDOG_USEC/2, from the tick"
wait_for 5 at_least WATCHDOG=1 $(($(count WATCHDOG=1) + 4))

pretty A "SIGHUP: RELOADING=1, then READY=1 again"
kill -HUP "$pid"
wait_for 5 at_least READY=1 2
(($(count READY=1) == 2 && $(count RELOADING=1) == 1))
(($(grep -nx RELOADING=1 "$NLOG" | cut -d: -f1) < $(grep -nx READY=1 "$NLOG" | tail -n 1 | cut -d: -f1)))

pretty A "SIGTERM: STOPPING=1, exit 0, TUN gone"
stop_mantad A
grep -qx STOPPING=1 "$NLOG"
only_from "$pid"
stop_mantad B
