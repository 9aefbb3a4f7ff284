#!/bin/sh
# build-deb.sh - build the Debian package from a clean copy of the tree.
#
# Usage: packaging/build-deb.sh [OUTDIR]     (make deb; OUTDIR default .)
#
# Copies the tree into a temporary folder: in a git checkout the files git
# tracks and the untracked ones it does not ignore, as they are in the
# working tree (so no build product comes along, and uncommitted edits
# do); elsewhere every file; then `make clean`. There packaging/debian
# becomes debian/ and `dpkg-buildpackage -b` builds the binary package,
# running the unit tests and the fuzz corpus regression (make check-unit)
# unless DEB_BUILD_OPTIONS has nocheck. The .deb (and its -dbgsym),
# .buildinfo and .changes are copied to OUTDIR; the last line printed is
# "deb: PATH" of the .deb.
# With DEB_BUILD_AS=USER (as root) the copy is made as root, then given to
# USER, who builds it: no root needed (Rules-Requires-Root: no), as on a
# build daemon, and the tree itself need not be readable by USER.
# Needs debhelper (packaging/deps.sh deb). Never touches the tree it
# copies, nor anything outside OUTDIR and its temporary folder.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-.}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/replycode-milter-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/replycode-milter

mkdir "$src"
git() {
	command git -c safe.directory="$top" "$@"
}
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# (files deleted but not yet committed are left out)
	git -C "$top" ls-files --cached --others --exclude-standard |
		while IFS= read -r f; do
			[ -e "$top/$f" ] && printf '%s\n' "$f"
		done >"$tmp/files"
	tar --no-recursion -cf "$tmp/src.tar" -C "$top" -T "$tmp/files"
else
	tar -cf "$tmp/src.tar" -C "$top" .
fi
tar -xf "$tmp/src.tar" -C "$src"
rm -f "$tmp/src.tar"
[ -d "$src/packaging/debian" ] || {
	echo "build-deb: no packaging/debian in the copy of $top" >&2
	exit 1
}
make -C "$src" clean >/dev/null
mv "$src/packaging/debian" "$src/debian"

if [ -n "${DEB_BUILD_AS:-}" ]; then
	chown -R "$DEB_BUILD_AS:$(id -gn "$DEB_BUILD_AS")" "$tmp"
	(cd "$src" && setpriv --reuid="$DEB_BUILD_AS" \
		--regid="$(id -g "$DEB_BUILD_AS")" --clear-groups \
		env HOME="$tmp" dpkg-buildpackage -b -us -uc)
else
	(cd "$src" && dpkg-buildpackage -b -us -uc)
fi

# the package, its debug symbols (-dbgsym), .buildinfo and .changes
for f in "$tmp"/replycode-milter*_*.deb "$tmp"/replycode-milter_*.buildinfo \
	"$tmp"/replycode-milter_*.changes; do
	cp "$f" "$out/"
done
for f in "$tmp"/replycode-milter_*.deb; do
	echo "deb: $out/${f##*/}"
done
