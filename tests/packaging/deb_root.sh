#!/usr/bin/env bash
# deb_root.sh DEB DIR, in a private mount namespace (run.sh starts it with
# unshare --mount): this machine's own root as the lower layer of an
# overlay at DIR/root whose upper layer is a tmpfs, so the package is
# installed by the real dpkg with its real maintainer scripts and
# everything it changes disappears with the namespace.
#
#   dpkg -i           the manta user and group exist (sysusers.d), the unit
#                     is enabled, conffiles and man pages are in place
#   the unit          systemd-analyze verify, with its man pages this time
#   the service       started as systemd would (no systemd here): its
#                     RuntimeDirectory= and StateDirectory= made for its
#                     User=, then ExecStart= under setpriv with the unit's
#                     user, capabilities and no_new_privs, in a network
#                     namespace of its own, with NOTIFY_SOCKET: READY=1,
#                     then `manta status' and `manta service status' answer
#   dpkg --purge      the files, the configuration and the state go
set -eEuo pipefail
deb=$1 dir=$2
E2E=$(cd "$(dirname "$0")/../e2e" && pwd)
root=$dir/root
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
trap 'echo "FAIL: deb_root.sh:$LINENO: $BASH_COMMAND" >&2' ERR
pid='' listener=''
# Whatever happens, no process of the throwaway root outlives it.
trap 'kill $pid $listener 2>/dev/null || true' EXIT
in_root() { chroot "$root" "$@"; }
unit_value() { sed -n "s/^$1=//p" "$root/lib/systemd/system/mantad.service" | tail -n 1; }
setpriv_caps() {
	local c out=-all
	for c in $1; do
		c=${c#CAP_}
		out+=,+${c,,}
	done
	echo "$out"
}
wait_until() {
	local tries=$(($1 * 10))
	shift
	until "$@" >/dev/null 2>&1; do
		((--tries > 0)) || fail "timed out waiting for: $*"
		sleep 0.1
	done
}

mkdir -p "$dir/layers" "$root"
mount -t tmpfs tmpfs "$dir/layers"
mkdir "$dir/layers/upper" "$dir/layers/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/layers/upper,workdir=$dir/layers/work" "$root"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
# Nothing of this machine's manta may be mistaken for the package's.
for f in /usr/sbin/mantad /usr/bin/manta /lib/systemd/system/mantad.service; do
	[[ ! -e $root$f ]] || fail "$f exists on this machine already"
done
in_root getent passwd manta >/dev/null && fail "this machine has a manta user already"
# man-db's trigger rebuilds its whole index: seconds for nothing here.
rm -f "$root/var/lib/man-db/auto-update"

cp "$deb" "$root/tmp/manta.deb"
in_root dpkg -i /tmp/manta.deb >"$dir/dpkg.log" 2>&1 || {
	cat "$dir/dpkg.log" >&2
	fail "dpkg -i failed"
}
# shellcheck disable=SC2016 # dpkg-query's own ${fields}
echo "    installed $(in_root dpkg-query -W -f='${Package} ${Version}' manta)"
in_root getent passwd manta | grep -q ':/var/lib/manta:' || fail "no manta user"
in_root getent group manta >/dev/null || fail "no manta group"
[[ -L $root/etc/systemd/system/multi-user.target.wants/mantad.service ]] ||
	fail "mantad.service is not enabled"
# shellcheck disable=SC2016
in_root dpkg-query --showformat='${Conffiles}\n' --show manta | grep -q '/etc/manta/manta.conf' ||
	fail "/etc/manta/manta.conf is not a conffile"
in_root systemd-analyze verify /lib/systemd/system/mantad.service ||
	fail "systemd-analyze verify failed on the installed unit"
in_root man -w mantad manta manta.conf >/dev/null

# The service, as systemd would start it.
user=$(unit_value User) group=$(unit_value Group)
read -r -a exec_start <<<"$(unit_value ExecStart)"
[[ $user == manta && $group == manta && ${exec_start[0]} == /usr/sbin/mantad ]]
install -d -o "$(in_root id -u "$user")" -g "$(in_root getent group "$group" | cut -d: -f3)" \
	-m "$(unit_value RuntimeDirectoryMode)" "$root/run/$(unit_value RuntimeDirectory)"
install -d -o "$(in_root id -u "$user")" -g "$(in_root getent group "$group" | cut -d: -f3)" \
	-m "$(unit_value StateDirectoryMode)" "$root/var/lib/$(unit_value StateDirectory)"
if [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
	# As udev would have made it (see t_service.sh).
	mknod -m 0666 "$root/run/tun" c 10 200
	mount --bind "$root/run/tun" "$root/dev/net/tun"
fi
"$E2E/tools/notify_listener.py" "$root/run/notify.sock" "$dir/notify.log" &
listener=$!
wait_until 5 grep -qx listening "$dir/notify.log"
nnp=()
[[ $(unit_value NoNewPrivileges) == yes ]] && nnp=(--no-new-privs)
start() {
	chroot "$root" unshare --net sh -c 'ip link set lo up && exec "$@"' sh \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET=/run/notify.sock \
		setpriv --reuid="$user" --regid="$group" --init-groups \
		--inh-caps="$(setpriv_caps "$(unit_value AmbientCapabilities)")" \
		--ambient-caps="$(setpriv_caps "$(unit_value AmbientCapabilities)")" \
		--bounding-set="$(setpriv_caps "$(unit_value CapabilityBoundingSet)")" "${nnp[@]}" \
		"${exec_start[@]}" "$@" &
	pid=$!
}
gone() { ! kill -0 "$pid" 2>/dev/null; }
start
if ! (wait_until 20 grep -qx READY=1 "$dir/notify.log"); then
	# It logs to syslog as the unit runs it; again in the foreground, to see why.
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	start --foreground
	wait_until 20 gone
	fail "mantad did not send READY=1"
fi
grep -q '^STATUS=manta0 up: 0 peers, 0 with a session, 0 networks$' "$dir/notify.log"
in_root manta status >"$dir/status.out" || fail "manta status failed"
grep -qi 'manta0' "$dir/status.out"
key=$(in_root manta --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])')
[[ ${#key} == 44 ]]
[[ $(in_root stat -c %U /var/lib/manta/node.key) == manta ]]
[[ $(in_root stat -c %U:%G /run/manta/manta.sock) == manta:manta ]]
in_root manta service status >"$dir/service.out" || fail "manta service status: mantad does not answer"
# (/lib is /usr/lib on a merged-/usr system)
grep -Eqx 'unit +(/usr)?/lib/systemd/system/mantad.service' "$dir/service.out" ||
	fail "manta service status: $(cat "$dir/service.out")"
echo "    mantad up as $user, key $key"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
((rc == 0)) || fail "mantad exited with $rc after SIGTERM"
grep -qx STOPPING=1 "$dir/notify.log"
kill "$listener"
wait "$listener" 2>/dev/null || true
pid='' listener=''

in_root dpkg --purge manta >>"$dir/dpkg.log" 2>&1 || {
	cat "$dir/dpkg.log" >&2
	fail "dpkg --purge failed"
}
for f in /usr/sbin/mantad /usr/bin/manta /lib/systemd/system/mantad.service /etc/manta \
	/var/lib/manta /etc/systemd/system/multi-user.target.wants/mantad.service; do
	[[ ! -e $root$f ]] || fail "$f is still there after dpkg --purge"
done
echo "    purged: no file left"
