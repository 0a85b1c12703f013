#!/usr/bin/env bash
# Runs INSIDE the Debian 11 build root (scripts/prebuildify.sh copies it in and runs it
# under chroot): builds libtiff and SpanDSP from Debian's own source packages into a
# private prefix, once per pair of source versions and recipe, and prints the prefix.
#
#   bash prebuild-deps.sh RECIPE_ID
#
# RECIPE_ID (a hash of this script, from the caller) joins the source versions fetched
# in the cache key, so a point release or a change of configure flags rebuilds. The
# prefix holds lib/, include/, lib/pkgconfig/ and share/faxline-licences/ (the texts
# the prebuild must carry, and SOURCES.txt naming the exact source versions).
#
# libtiff keeps what fax pages need: the CCITT G3/G4 codecs (built in), plus the
# dependency-free LZW/PackBits and zlib's Deflate (zlib1g is in every minbase system)
# so bilevel input TIFFs from common tools still open. No JPEG, old JPEG, JBIG, LZMA,
# ZSTD, WebP, LERC or libdeflate: each would pull in a library a minimal system lacks.
# SpanDSP finds that libtiff through RUNPATH $ORIGIN, as the addon finds both.
set -euo pipefail

say() { printf 'prebuild-deps: %s\n' "$*" >&2; }
die() { printf 'prebuild-deps: ERROR: %s\n' "$*" >&2; exit 1; }

recipe="${1:?usage: prebuild-deps.sh RECIPE_ID}"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
jobs="${JOBS:-$(nproc)}"

src=/opt/faxline-src
rm -rf "$src"
mkdir -p "$src"
cd "$src"
# Source suites, first that serves the package wins. libtiff: Debian 12's 4.5, the
# oldest with the per-handle error handlers (TIFFOpenExt) the addon uses, and the one
# a source build on Debian 12 links. SpanDSP: Debian 11's own revision, else a later
# Debian revision of the same upstream 0.0.6 (mirrors can drop a superseded
# revision's debian.tar while an older index still names it: seen with 0.0.6+dfsg-2).
tiff_suites="${FAXLINE_TIFF_SUITES:-bookworm}"
spandsp_suites="${FAXLINE_SPANDSP_SUITES:-bullseye bookworm trixie}"
mirror="$(sed -n 's/^deb-src \([^ ]*\) .*/\1/p' /etc/apt/sources.list | sed -n 1p)"
[ -n "$mirror" ] || die "no deb-src line in /etc/apt/sources.list"
extra=/etc/apt/sources.list.d/faxline-src.list
# The build root stays a Debian 11 system: the extra lines are deb-src only (no binary
# package can come from them) and go away again at the end.
trap 'rm -f "$extra"' EXIT
for suite in $tiff_suites $spandsp_suites; do
  [ "$suite" = bullseye ] || echo "deb-src $mirror $suite main"
done | sort -u >"$extra"
say "apt-get update (deb-src: bullseye $(paste -sd' ' <"$extra" | sed 's/deb-src [^ ]* \([^ ]*\) main/\1/g'))"
apt-get update -qq >&2 || die "apt-get update failed (needs the deb-src lines and the network)"

# apt-get source checks every file against the signed index and unpacks the tree with
# Debian's patches applied. Prints "SUITE VERSION DIR" of the first suite that works.
fetch() { # PACKAGE SUITES...
  local pkg="$1" suite dir
  shift
  for suite in "$@"; do
    rm -rf "$src/$pkg".* "$src/${pkg}_"*
    if apt-get source -qq -o APT::Sandbox::User=root "$pkg/$suite" >"$src/fetch-$pkg.log" 2>&1; then
      dir="$(find "$src" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | sed -n 1p)"
      [ -d "$dir" ] || die "apt-get source $pkg/$suite unpacked nothing"
      echo "$suite $(cd "$dir" && dpkg-parsechangelog -S Version) $dir"
      return 0
    fi
    say "apt-get source $pkg/$suite failed: $(grep -E '^E:' "$src/fetch-$pkg.log" | sed -n 1p)"
  done
  return 1
}
# shellcheck disable=SC2086 # the suite lists split into words on purpose
read -r tiff_suite tiff_ver tiff_dir < <(fetch tiff $tiff_suites) || die "no suite served tiff's source"
say "tiff $tiff_ver ($tiff_suite)"
# shellcheck disable=SC2086 # the suite lists split into words on purpose
read -r spandsp_suite spandsp_ver spandsp_dir < <(fetch spandsp $spandsp_suites) || die "no suite served spandsp's source"
say "spandsp $spandsp_ver ($spandsp_suite)"
rm -f "$extra"
apt-get update -qq >&2 || true

{ [ -d "$tiff_dir" ] && [ -d "$spandsp_dir" ]; } || die "source trees not found in $src"

key="tiff_${tiff_ver}-spandsp_${spandsp_ver}-${recipe}"
key="${key//[^A-Za-z0-9._+-]/_}"
prefix="/opt/faxline-deps/$key"
if [ -f "$prefix/.complete" ]; then
  rm -rf "$src"
  say "cached: $prefix"
  echo "$prefix"
  exit 0
fi
rm -rf "$prefix"
mkdir -p "$prefix"

# -g0 and stripping keep the shipped libraries small; -O2 as Debian builds them.
common_cflags="-O2 -g0 -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2"
# RUNPATH $ORIGIN, written for the Makefiles libtool runs through: make turns $$ into $
# and the shell the backslash-dollar into a literal $, so the linker sees $ORIGIN.
# shellcheck disable=SC2016 # literal dollars, for make and the shell
origin_ldflags='-Wl,-rpath,\$$ORIGIN -Wl,--enable-new-dtags -Wl,-z,relro -Wl,-z,now'

say "libtiff $tiff_ver: autoreconf (as Debian's build does), configure (G3/G4, LZW, PackBits, Deflate)"
cd "$tiff_dir"
autoreconf -fi >"$src/tiff-autoreconf.log" 2>&1 ||
  { tail -n 40 "$src/tiff-autoreconf.log" >&2; die "libtiff autoreconf failed"; }
CFLAGS="$common_cflags" LDFLAGS="$origin_ldflags" ./configure --prefix="$prefix" \
  --disable-static --enable-shared --disable-cxx \
  --disable-jpeg --disable-old-jpeg --disable-jbig --disable-lzma --disable-zstd \
  --disable-webp --disable-lerc --disable-libdeflate --disable-jpeg12 \
  --enable-zlib --enable-ccitt --enable-packbits --enable-lzw \
  --without-x --disable-docs --disable-tools --disable-tests --disable-contrib >"$src/tiff-configure.log" 2>&1 ||
  { tail -n 40 "$src/tiff-configure.log" >&2; die "libtiff configure failed"; }
say "libtiff: make"
{ make -C port -j"$jobs" && make -C libtiff -j"$jobs" && make -C libtiff install &&
  install -D -m 0644 libtiff-4.pc "$prefix/lib/pkgconfig/libtiff-4.pc"; } >"$src/tiff-make.log" 2>&1 ||
  { tail -n 40 "$src/tiff-make.log" >&2; die "libtiff build failed"; }

# Without libtiff's .la file libtool links -ltiff plainly, and adds no RUNPATH of its own
# (the prefix) to SpanDSP.
rm -f "$prefix"/lib/*.la
say "SpanDSP $spandsp_ver: autoreconf (as Debian's build does: its patches touch configure.ac)"
cd "$spandsp_dir"
autoreconf -fi >"$src/spandsp-autoreconf.log" 2>&1 ||
  { tail -n 40 "$src/spandsp-autoreconf.log" >&2; die "SpanDSP autoreconf failed"; }
say "SpanDSP: configure against that libtiff"
CFLAGS="$common_cflags" CPPFLAGS="-I$prefix/include" \
  LDFLAGS="-L$prefix/lib $origin_ldflags" ./configure --prefix="$prefix" \
  --disable-static --enable-shared >"$src/spandsp-configure.log" 2>&1 ||
  { tail -n 40 "$src/spandsp-configure.log" >&2; die "SpanDSP configure failed"; }
say "SpanDSP: make"
{ make -C src -j"$jobs" && make -C src install &&
  install -D -m 0644 spandsp.pc "$prefix/lib/pkgconfig/spandsp.pc"; } >"$src/spandsp-make.log" 2>&1 ||
  { tail -n 40 "$src/spandsp-make.log" >&2; die "SpanDSP build failed"; }

# libtool leaves .la files naming the prefix; the prebuild needs only the .so files.
rm -f "$prefix"/lib/*.la
strip --strip-unneeded "$prefix"/lib/libtiff.so.*.* "$prefix"/lib/libspandsp.so.*.*

# Licence texts that go beside the shipped libraries.
lic="$prefix/share/faxline-licences"
mkdir -p "$lic"
cp /usr/share/common-licenses/LGPL-2.1 "$lic/spandsp-LGPL-2.1.txt"
cp "$spandsp_dir/debian/copyright" "$lic/spandsp-copyright.txt"
# libtiff's licence: LICENSE.md since 4.5, COPYRIGHT before.
for f in LICENSE.md COPYRIGHT; do
  if [ -f "$tiff_dir/$f" ]; then
    cp "$tiff_dir/$f" "$lic/libtiff-LICENSE.txt"
    break
  fi
done
[ -f "$lic/libtiff-LICENSE.txt" ] || die "libtiff's licence text not found in $tiff_dir"
cp "$tiff_dir/debian/copyright" "$lic/libtiff-copyright.txt"
{
  echo "The libraries in this folder were built in Debian 11 (bullseye, glibc 2.31) from"
  echo "Debian's source packages, unmodified:"
  echo "  libtiff.so:   tiff $tiff_ver ($tiff_suite); configured with the CCITT G3/G4, LZW,"
  echo "                PackBits and Deflate codecs only. Licence: libtiff-LICENSE.txt."
  echo "  libspandsp.so: spandsp $spandsp_ver ($spandsp_suite). Licence: LGPL-2.1"
  echo "                (spandsp-LGPL-2.1.txt, spandsp-copyright.txt)."
  echo "Get the exact sources with \`apt-get source tiff=$tiff_ver spandsp=$spandsp_ver\`"
  echo "(deb-src lines for Debian $tiff_suite and $spandsp_suite), or from snapshot.debian.org."
  echo "libspandsp is a separate shared library, found through the addon's RUNPATH \$ORIGIN:"
  echo "replace it with your own build of the same SONAME to use a modified SpanDSP."
} >"$lic/SOURCES.txt"
chmod 0644 "$lic"/*

for f in "$prefix"/lib/libspandsp.so.*.*; do
  # shellcheck disable=SC2016 # a literal $ORIGIN
  [ "$(readelf -d "$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')" = '$ORIGIN' ] ||
    die "$f has RUNPATH '$(readelf -d "$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')', not \$ORIGIN"
done
touch "$prefix/.complete"
rm -rf "$src"
# Earlier builds (older sources or recipes) are of no further use.
find /opt/faxline-deps -mindepth 1 -maxdepth 1 -type d ! -path "$prefix" -exec rm -rf {} +
say "built into $prefix"
echo "$prefix"
