#!/usr/bin/env bash
# make check-packaging: the files that put mantad on a system.
#
#   1. the systemd unit: systemd-analyze verify, and the exposure score of
#      systemd-analyze security (it must stay at or under UNIT_SCORE_MAX)
#   2. the man pages: no warnings from man; manta.conf(5) documents every
#      section and key daemon/config.c knows
#   3. bash completion: completes commands, actions and options
#   4. make install DESTDIR=… and make uninstall, both platforms' layouts
#   5. manta service install/uninstall --root, systemd and launchd
#   6. the .deb (make deb: dpkg-buildpackage, lintian without errors), then
#      deb_root.sh: installed into a throwaway root, unit verified there,
#      mantad started as the unit starts it, READY=1, manta status, purged
#
# Environment: MANTA_BUILD (build directory, default build), KEEP=1, and
# MANTA_DEB=FILE to test that package instead of building one.
# Needs root (mount namespaces, chroot). Uses tests/e2e/lib.sh's helpers.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/../e2e/lib.sh"

UNIT_SCORE_MAX=${UNIT_SCORE_MAX:-2.5}
PKG=$ROOT/packaging
require_manta
step_start=$(now_us)
done_step() {
	local t
	t=$(now_us)
	say "($(awk -v us=$((t - step_start)) 'BEGIN { printf "%.1f", us / 1e6 }') s)"
	step_start=$t
}

pretty unit "systemd-analyze verify and security"
mkdir -p "$TMP/unit"
sed -e "s|@SBINDIR@|$BUILD_DIR|g" -e 's|@SYSCONFDIR@|/etc|g' "$PKG/systemd/mantad.service.in" \
	>"$TMP/unit/mantad.service"
# Documentation= names man pages that are not installed here: deb_root.sh
# checks them where they are.
systemd-analyze verify --man=no "$TMP/unit/mantad.service"
score=$(systemd-analyze security --offline=true "$TMP/unit/mantad.service" 2>&1 |
	sed -n 's/.*Overall exposure level for mantad.service: \([0-9.]*\).*/\1/p')
[[ -n $score ]] || fail "systemd-analyze security printed no exposure level"
say "exposure level $score (at most $UNIT_SCORE_MAX)"
awk -v s="$score" -v m="$UNIT_SCORE_MAX" 'BEGIN { exit !(s <= m) }' ||
	fail "the unit's exposure level $score is above $UNIT_SCORE_MAX"
done_step

pretty man "the pages render without warnings and document every key"
for page in "$PKG"/man/*.[0-9]; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[[ -z $warnings ]] || fail "$(basename "$page"): $warnings"
done
conf5=$PKG/man/manta.conf.5
# The tables of daemon/config.c: section_names[] and keys[] (TIMER(x) too).
sections=$(sed -n 's/^\t\[SECT_[A-Z_]*\] = "\([a-z_]*\)",$/\1/p' "$ROOT/daemon/config.c")
keys=$(sed -n -e 's/^\t\[KEY_[A-Z_0-9]*\] = { SECT_[A-Z_]*, "\([a-z_0-9]*\)".*/\1/p' \
	-e 's/^\t\[KEY_[A-Z_0-9]*\] = { TIMER(\([a-z_0-9]*\)) },$/\1/p' "$ROOT/daemon/config.c")
(($(wc -w <<<"$sections") >= 3 && $(wc -w <<<"$keys") >= 10)) ||
	fail "cannot read the tables in daemon/config.c: sections '$sections', keys '$keys'"
for s in $sections; do
	grep -q "^\.SH \"\[$s\]\"$" "$conf5" || fail "manta.conf.5 has no section [$s]"
done
for k in $keys; do
	grep -q "^\.\(BR\|B\|TP\|TQ\) $k\( \|$\)" "$conf5" || fail "manta.conf.5 does not document $k"
done
say "$(wc -w <<<"$sections") sections, $(wc -w <<<"$keys") keys"
# Every command `manta --help' lists is in manta(8) and completes.
commands=$("$MANTA" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p')
(($(wc -w <<<"$commands") >= 15)) || fail "cannot read the commands of manta --help"
for c in $commands; do
	grep -Eq '^(\.BR?I? '"$c"'( |$)|\\fB'"$c"'\\fP)' "$PKG/man/manta.8" ||
		fail "manta.8 does not document the command $c"
	grep -qw "$c" <<<"$(sed -n '/local commands=/,/"$/p' "$PKG/completion/manta.bash")" ||
		fail "the bash completion does not know the command $c"
done
say "$(wc -w <<<"$commands") commands"
done_step

pretty completion "manta and mantad complete"
complete_words() {
	# COMP_WORDS… in a fresh shell with the file loaded (bash-completion's
	# own helpers stubbed: it need not be installed here).
	bash -c '
		_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]};
			words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
		_filedir() { :; }
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		complete -p "$1" >/dev/null
		"$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/")"
		printf "%s\n" "${COMPREPLY[@]}"' sh "$PKG/completion/manta.bash" "$@"
}
[[ $(complete_words manta serv) == service ]]
[[ $(complete_words manta service un) == uninstall ]]
[[ $(complete_words manta service --init l) == launchd ]]
[[ $(complete_words mantad --us) == --user ]]
[[ $(complete_words mantad --log-level d) == debug ]]
done_step

pretty install "make install DESTDIR=…, make uninstall"
dest=$TMP/dest
mk() { make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" PREFIX=/usr DESTDIR="$dest" -o all "$@"; }
mk install >/dev/null
for f in usr/sbin/mantad usr/bin/manta usr/share/man/man8/manta.8 usr/share/man/man8/mantad.8 \
	usr/share/man/man5/manta.conf.5 usr/share/bash-completion/completions/manta \
	usr/share/bash-completion/completions/mantad usr/lib/systemd/system/mantad.service \
	usr/lib/sysusers.d/manta.conf etc/manta/manta.conf; do
	[[ -e $dest/$f ]] || fail "make install did not install /$f"
done
grep -qx 'ExecStart=/usr/sbin/mantad --config /etc/manta/manta.conf' \
	"$dest/usr/lib/systemd/system/mantad.service"
[[ ! -e $dest/Library ]]
# A configuration someone changed stays; the rest goes.
echo '# mine' >>"$dest/etc/manta/manta.conf"
mk uninstall >/dev/null
[[ $(cd "$dest" && find . -type f) == ./etc/manta/manta.conf ]]
rm -rf "$dest"
mk install >/dev/null
mk uninstall >/dev/null
[[ -z $(cd "$dest" && find . ! -type d) ]] || fail "make uninstall left: $(cd "$dest" && find . ! -type d)"
rm -rf "$dest"
mk PLATFORM=darwin install-files >/dev/null
python3 -c 'import plistlib, sys
p = plistlib.load(open(sys.argv[1], "rb"))
assert p["Label"] == "net.manta.mantad" and p["RunAtLoad"] and p["KeepAlive"]
assert p["ProgramArguments"][0] == "/usr/sbin/mantad", p["ProgramArguments"]
assert p["StandardErrorPath"] and p["StandardOutPath"]' "$dest/Library/LaunchDaemons/net.manta.mantad.plist"
[[ ! -e $dest/usr/lib/systemd ]]
mk PLATFORM=darwin uninstall >/dev/null
[[ -z $(cd "$dest" && find . ! -type d) ]]
done_step

pretty service "manta service install, status and uninstall under --root"
sroot=$TMP/sroot
"$MANTA" service install --init systemd --root "$sroot" >"$TMP/service.out"
grep -qx "ExecStart=$BUILD_DIR/mantad --config /etc/manta/manta.conf" \
	"$sroot/etc/systemd/system/mantad.service"
grep -q '^manta:x:[0-9]*:[0-9]*:manta mesh VPN daemon:/var/lib/manta:' "$sroot/etc/passwd"
grep -q '^manta:x:' "$sroot/etc/group"
cmp "$sroot/etc/manta/manta.conf" "$PKG/manta.conf"
st=$("$MANTA" --json service status --init systemd --root "$sroot") || true
[[ $(json_eval 'j["unit"]' <<<"$st") == "$sroot/etc/systemd/system/mantad.service" ]]
# Again: nothing new, the configuration kept.
out=$("$MANTA" service install --init systemd --root "$sroot")
grep -qx 'kept /etc/manta/manta.conf' <<<"$out"
"$MANTA" service uninstall --init systemd --root "$sroot" >/dev/null
[[ ! -e $sroot/etc/systemd/system/mantad.service && -e $sroot/etc/manta/manta.conf ]]
# An administrator's own unit is not removed.
printf '[Service]\nExecStart=/bin/true\n' >"$sroot/etc/systemd/system/mantad.service"
out=$("$MANTA" service uninstall --init systemd --root "$sroot")
grep -q 'did not write it' <<<"$out"
[[ -e $sroot/etc/systemd/system/mantad.service ]]
"$MANTA" --json service install --init launchd --root "$sroot" >"$TMP/launchd.json"
[[ $(json_eval 'j["init"]' <"$TMP/launchd.json") == launchd ]]
python3 -c 'import plistlib, sys; assert plistlib.load(open(sys.argv[1], "rb"))["ProgramArguments"][0] == sys.argv[2]' \
	"$sroot/Library/LaunchDaemons/net.manta.mantad.plist" "$BUILD_DIR/mantad"
"$MANTA" service uninstall --init launchd --root "$sroot" >/dev/null
[[ ! -e $sroot/Library/LaunchDaemons/net.manta.mantad.plist ]]
# Usage errors exit 2.
rc=0
"$MANTA" service restart 2>/dev/null || rc=$?
((rc == 2))
done_step

pretty deb "Build-Depends cover the libraries; dpkg-buildpackage and lintian"
# Each pkg-config module the Makefile uses comes from a -dev package that
# packaging/debian/control must name.
# shellcheck disable=SC2016 # make expands them
modules=$(make -C "$ROOT" --no-print-directory -s -f Makefile -f - print-pkgs \
	<<<'print-pkgs: ; @echo $(PKGS) $(CLI_PKGS)')
for m in $modules; do
	dev=$(dpkg -S "$(pkg-config --variable=pcfiledir "$m")/$m.pc" | cut -d: -f1 | head -n 1)
	grep -q "^ *$dev,\?$" "$PKG/debian/control" ||
		fail "packaging/debian/control: Build-Depends lacks $dev (for pkg-config's $m)"
done
if [[ -n ${MANTA_DEB:-} ]]; then
	deb=$MANTA_DEB
else
	make -C "$ROOT" --no-print-directory BUILD="$BUILD_DIR" deb
	deb=$(ls "$BUILD_DIR"/deb/manta_*.deb)
fi
[[ $(dpkg-deb --field "$deb" Package) == manta ]]
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/sbin/mantad ./usr/bin/manta ./lib/systemd/system/mantad.service \
	./usr/lib/sysusers.d/manta.conf ./etc/manta/manta.conf ./usr/share/man/man5/manta.conf.5.gz; do
	grep -q " $f\( \|$\)" <<<"$contents" || fail "the package has no $f"
done
done_step

pretty deb "installed into a throwaway root: verified, started as the unit says, purged"
unshare --mount --propagation private "$(dirname "$0")/deb_root.sh" "$deb" "$TMP/root"
done_step
