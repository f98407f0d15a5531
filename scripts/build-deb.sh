#!/bin/bash
# Builds the Debian package accord_VERSION_amd64.deb with Debian's own tools (`make deb`):
#   1. installs debhelper, devscripts, lintian and the rest through scripts/bootstrap.sh when
#      one is missing;
#   2. checks that debian/changelog's version is accordVersion of Sources/AccordVersion/
#      Version.swift (the one the programs print): a package must not say one release and run
#      another;
#   3. copies the files git knows (tracked, and new ones not ignored) into a build tree,
#      .build/deb/src by default, replacing only files that changed, so that SwiftPM's build
#      in there stays incremental (a first release build takes minutes on 2 cores, a rebuild
#      after a one-line change seconds); nothing is built in the working tree itself, and
#      dpkg-buildpackage writes its results next to the build tree, not above the clone;
#   4. dpkg-buildpackage -b (debian/rules: make release, make install DESTDIR=...), no network:
#      the Swift packages come through git from the local mirror;
#   5. lintian --fail-on error,warning on the .deb (LINTIAN=no skips it);
#   6. copies the .deb into OUTDIR (default: the repository).
#   usage: scripts/build-deb.sh [--src DIR] [--out OUTDIR] [--version V]
#          --version V  builds V instead: the copy's debian/changelog gets a new entry and
#                       its Version.swift the same version (the upgrade test's second package)
# Prints the path of the .deb last.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
src=$repo/.build/deb/src; out=$repo; version=
while [ $# -gt 0 ]; do
  case $1 in
    --src) src=$(realpath -m "$2"); shift 2;;
    --out) out=$(realpath -m "$2"); shift 2;;
    --version) version=$2; shift 2;;
    *) echo "build-deb: unknown argument $1 (usage: build-deb.sh [--src DIR] [--out DIR] [--version V])" >&2; exit 2;;
  esac
done
die() { echo "build-deb: $*" >&2; exit 1; }
command -v swift >/dev/null || PATH=/opt/swift/usr/bin:$PATH
export PATH

# 1. Tools
for tool in dpkg-buildpackage dh dh_installsysusers lintian dpkg-parsechangelog debootstrap; do
  if ! command -v "$tool" >/dev/null; then ./scripts/bootstrap.sh; break; fi
done

# 2. One version
swift_version=$(sed -n 's/^public let accordVersion = "\(.*\)"$/\1/p' Sources/AccordVersion/Version.swift)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ -n "$swift_version" ] || die "no 'public let accordVersion = \"...\"' line in Sources/AccordVersion/Version.swift"
[ "$swift_version" = "$deb_version" ] ||
  die "debian/changelog says $deb_version, Sources/AccordVersion/Version.swift says $swift_version: make them agree (dch -v $swift_version, or edit accordVersion)"

# 3. The build tree: changed files only, so that inodes and times of the others stay.
mkdir -p "$src"
mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard)
declare -A want=()
for f in "${files[@]}"; do
  [ -e "$f" ] || [ -L "$f" ] || continue                 # deleted in the working tree
  want[$f]=1
  if [ -L "$f" ]; then
    [ "$(readlink "$f")" = "$(readlink "$src/$f" 2>/dev/null)" ] || { mkdir -p "$(dirname "$src/$f")"; rm -f "$src/$f"; cp -P "$f" "$src/$f"; }
  elif ! cmp -s "$f" "$src/$f"; then
    mkdir -p "$(dirname "$src/$f")"; rm -f "$src/$f"; cp -p "$f" "$src/$f"
  fi
done
while IFS= read -r -d '' f; do                              # files no longer in the clone
  f=${f#"$src"/}; [ -n "${want[$f]:-}" ] || rm -f "$src/$f"
done < <(find "$src" \( -path "$src/.build" -o -path "$src/debian/accord" -o -path "$src/debian/.debhelper" \) -prune -o \( -type f -o -type l \) -print0)

if [ -n "$version" ]; then
  entry=$(mktemp); {
    printf 'accord (%s) unstable; urgency=medium\n\n  * Rebuilt as %s (scripts/build-deb.sh --version).\n\n' "$version" "$version"
    printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l debian/changelog -S Maintainer)" "$(date -R)"
    cat debian/changelog; } >"$entry"
  cmp -s "$entry" "$src/debian/changelog" || cp "$entry" "$src/debian/changelog"; rm -f "$entry"
  sed "s/^public let accordVersion = \".*\"$/public let accordVersion = \"$version\"/" \
    Sources/AccordVersion/Version.swift >"$src/Version.swift.new"
  if cmp -s "$src/Version.swift.new" "$src/Sources/AccordVersion/Version.swift"; then rm "$src/Version.swift.new"
  else mv "$src/Version.swift.new" "$src/Sources/AccordVersion/Version.swift"; fi
  deb_version=$version
fi

# 4. Build (binary only: a native source tarball would be the whole tree; -us -uc: unsigned)
deb=accord_${deb_version}_amd64.deb
parent=$(dirname "$src")
rm -f "$parent/$deb"
echo "build-deb: dpkg-buildpackage -b -us -uc in ${src#"$repo"/}"
(cd "$src" && nice -n 10 dpkg-buildpackage -b -us -uc) >"$parent/build.log" 2>&1 ||
  { tail -60 "$parent/build.log"; die "dpkg-buildpackage failed; whole output in $parent/build.log"; }
[ -f "$parent/$deb" ] || die "dpkg-buildpackage made no $parent/$deb"

# 5. lintian at the default level: errors and warnings fail
if [ "${LINTIAN:-yes}" != no ]; then
  echo "build-deb: lintian --fail-on error,warning $deb"
  lintian --fail-on error,warning "$parent/$deb" || die "lintian found errors or warnings in $deb"
  echo "build-deb: lintian: clean"
fi

# 6. Result
mkdir -p "$out"; cp "$parent/$deb" "$out/$deb"
echo "$out/$deb"
