#!/bin/sh
# build-deb.sh OUTDIR: the Debian package, built from a copy of the sources
# (what git tracks or would track: no build directories) with
# packaging/debian/ as its debian/, by dpkg-buildpackage -us -uc -b. Leaves
# OUTDIR/manta_VERSION_ARCH.deb, OUTDIR/build.log and OUTDIR/lintian.txt;
# fails if the build or lintian finds an error. `make deb' runs it.
set -eu
out=$1
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")
changelog=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
if [ "$changelog" != "$version" ]; then
	echo "build-deb: packaging/debian/changelog is at $changelog but VERSION says $version:" \
		"add an entry (dch -c packaging/debian/changelog -v $version)" >&2
	exit 1
fi

rm -rf "$out"
mkdir -p "$out/manta-$version"
src=$(cd "$out/manta-$version" && pwd)
cd "$top"
sources() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . -path './build*' -prune -o -type f -print0
	fi
}
# (files git knows that were deleted are left out)
# shellcheck disable=SC2016 # the inner shell expands them
sources | xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf - | tar -xf - -C "$src"
rm -rf "$src/debian"
cp -r packaging/debian "$src/debian"

start=$(date +%s)
echo "deb: dpkg-buildpackage -us -uc -b in $src (log: $out/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
	exit 1
fi
deb=$(ls "$out"/manta_"$version"_*.deb)
echo "deb: $deb built in $(($(date +%s) - start)) s"

lintian --fail-on error --info "$deb" >"$out/lintian.txt" 2>&1 || {
	cat "$out/lintian.txt" >&2
	echo "deb: lintian found errors" >&2
	exit 1
}
echo "deb: lintian: $(grep -c '^E:' "$out/lintian.txt" || true) errors," \
	"$(grep -c '^W:' "$out/lintian.txt" || true) warnings (in $out/lintian.txt)"
