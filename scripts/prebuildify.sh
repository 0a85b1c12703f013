#!/usr/bin/env bash
# npm run prebuildify: build the shipping addon, self-contained, for glibc 2.31 and later.
#
# 1. A cached Debian 11 (bullseye, glibc 2.31) build root (scripts/roots.sh) gets this
#    machine's node and its headers (node-gyp never downloads them).
# 2. Inside it, scripts/prebuild-deps.sh builds libtiff (fax codecs only) and SpanDSP from
#    Debian's source packages into a private prefix, cached by source versions + recipe.
# 3. Inside it, prebuildify --napi --strip builds the addon through node-gyp (binding.gyp)
#    against that prefix (PKG_CONFIG_PATH), from a copy of native/ (the clone's own
#    build/ is left alone).
# 4. prebuilds/linux-x64/ gets the addon, libspandsp.so.N and libtiff.so.N under their
#    SONAMEs, the licence texts and SOURCES.txt; LICENSES/ gets the texts too.
# 5. Checks: RUNPATH $ORIGIN on the addon and on SpanDSP, no symbol newer than
#    GLIBC_${FAXLINE_GLIBC_FLOOR:-2.31}, nothing but the C library, libstdc++, libgcc_s
#    and zlib needed from the system, ldd resolves the bundled libraries into the folder,
#    and node loads the prebuild on this host with the bundled copies mapped.
#
# Needs root (debootstrap, chroot, mount) and, the first time, Debian's mirror.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
floor="${FAXLINE_GLIBC_FLOOR:-2.31}"

say() { printf 'prebuildify: %s\n' "$*"; }
die() { printf 'prebuildify: ERROR: %s\n' "$*" >&2; exit 1; }

for tool in ldd readelf objdump node chroot mount; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mount for the Debian 11 build root)"
[ "$(uname -m)" = x86_64 ] || die "builds linux-x64 prebuilds only, on x86_64"
node_version="$(node -p process.versions.node)"
node_prefix="$(node -p "require('path').resolve(process.execPath, '..', '..')")"
[ -f "$node_prefix/include/node/node_api.h" ] || die "Node's headers not found in $node_prefix/include/node"
[ -x node_modules/.bin/prebuildify ] || die "node_modules/.bin/prebuildify missing: run npm ci"

# shellcheck source=scripts/roots.sh
source scripts/roots.sh
started=$SECONDS
build_root="$(roots_ensure bullseye-build)"
work="$build_root/opt/faxline-addon"
cleanup() { roots_umount_all "$build_root"; }
trap cleanup EXIT
roots_copy_node "$build_root"
roots_mount "$build_root"
in_root() { # a clean environment inside the build root
  chroot "$build_root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LC_ALL=C \
    JOBS="${JOBS:-$(nproc)}" "$@"
}

# --- libtiff and SpanDSP from Debian's sources, cached inside the build root
recipe="$(sha256sum scripts/prebuild-deps.sh | cut -c1-12)"
cp scripts/prebuild-deps.sh "$build_root/opt/faxline-prebuild-deps.sh"
prefix="$(in_root bash /opt/faxline-prebuild-deps.sh "$recipe" | tail -n1)"
[ -f "$build_root$prefix/.complete" ] || die "prebuild-deps.sh gave no complete prefix ('$prefix')"
say "libtiff + SpanDSP: $prefix (in the build root, $((SECONDS - started))s so far)"

# --- the addon, from a copy of what binding.gyp reads; node_modules bound read-only
roots_umount_all "$work"
rm -rf --one-file-system "$work"
mkdir -p "$work/node_modules"
cp -a package.json binding.gyp native "$work/"
mount --bind node_modules "$work/node_modules"
mount -o remount,bind,ro "$work/node_modules"
say "building the addon in Debian 11 (node $node_version headers, Node-API)"
# --target: this node's headers; a Node-API addon runs on any later version.
# shellcheck disable=SC2016 # $1 expands in the build root's shell
in_root PKG_CONFIG_PATH="$prefix/lib/pkgconfig" npm_config_nodedir=/usr/local \
  bash -c 'cd /opt/faxline-addon && node node_modules/prebuildify/bin.js --napi --strip --target "node@$1"' \
  _ "$node_version"
umount "$work/node_modules"

platform=linux-x64
dir="prebuilds/$platform"
shopt -s nullglob
addons=("$work/$dir"/*.node)
shopt -u nullglob
[ "${#addons[@]}" -eq 1 ] || die "expected one .node in $work/$dir, found ${#addons[@]}"
rm -rf "$dir"
mkdir -p "$dir"
addon="$dir/$(basename "${addons[0]}")"
cp "${addons[0]}" "$addon"

soname_of() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
needed_of() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
runpath_of() { readelf -d "$1" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p'; }

# --- the bundled libraries, by the SONAMEs the addon and SpanDSP ask for
spandsp_so="$(needed_of "$addon" | grep '^libspandsp\.so' || true)"
tiff_so="$(needed_of "$addon" | grep '^libtiff\.so' || true)"
[ -n "$spandsp_so" ] || die "$addon does not link libspandsp"
[ -n "$tiff_so" ] || die "$addon does not link libtiff"
for so in "$spandsp_so" "$tiff_so"; do
  real="$(readlink -f "$build_root$prefix/lib/$so")"
  [ -f "$real" ] || die "$so not in $prefix/lib"
  [ "$(soname_of "$real")" = "$so" ] || die "$real has SONAME '$(soname_of "$real")', expected $so"
  cp "$real" "$dir/$so"
  chmod 0644 "$dir/$so"
done
needed_of "$dir/$spandsp_so" | grep -qx "$tiff_so" ||
  die "$spandsp_so does not need $tiff_so (the addon and SpanDSP would load two libtiffs)"

# --- licences: beside the libraries (they travel together) and in LICENSES/
mkdir -p LICENSES
for f in "$build_root$prefix"/share/faxline-licences/*; do
  cp "$f" "$dir/"
  case "$(basename "$f")" in SOURCES.txt) ;; *) cp "$f" LICENSES/ ;; esac
done
chmod 0644 "$dir"/*.txt LICENSES/*.txt

# --- RUNPATH $ORIGIN, where the dynamic linker must look
# shellcheck disable=SC2016 # a literal $ORIGIN
for f in "$addon" "$dir/$spandsp_so"; do
  case ":$(runpath_of "$f"):" in
    *:/*) die "$f has RUNPATH '$(runpath_of "$f")', with an absolute folder of the build machine" ;;
    *':$ORIGIN:'* | *':$ORIGIN/:'*) say "RUNPATH $(basename "$f"): $(runpath_of "$f")" ;;
    *) die "$f has RUNPATH '$(runpath_of "$f")', which lacks \$ORIGIN" ;;
  esac
done

# --- nothing from the system but what every minimal glibc system has
allowed='^(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libz\.so\.1)$'
for f in "$addon" "$dir/$spandsp_so" "$dir/$tiff_so"; do
  while read -r so; do
    [ "$so" = "$spandsp_so" ] || [ "$so" = "$tiff_so" ] || [[ "$so" =~ $allowed ]] ||
      die "$(basename "$f") needs $so, which a minimal Debian system lacks and the prebuild does not carry"
  done < <(needed_of "$f")
  say "NEEDED $(basename "$f"): $(needed_of "$f" | paste -sd' ')"
done

# --- the newest symbol versions needed: the C library floor
max_version() { # PREFIX files...: the highest PREFIX_x.y.z any file imports
  local p="$1"
  shift
  objdump -T "$@" | grep -o "${p}_[0-9][0-9.]*" | sed "s/^${p}_//" | sort -uV | tail -n1
}
glibc_max="$(max_version GLIBC "$addon" "$dir/$spandsp_so" "$dir/$tiff_so")"
glibcxx_max="$(max_version GLIBCXX "$addon" "$dir/$spandsp_so" "$dir/$tiff_so")"
say "objdump -T: newest GLIBC_$glibc_max, GLIBCXX_${glibcxx_max:-none} (floor GLIBC_$floor)"
[ "$(printf '%s\n%s\n' "$glibc_max" "$floor" | sort -V | tail -n1)" = "$floor" ] ||
  die "the prebuild needs GLIBC_$glibc_max, newer than the floor $floor"

# --- ldd resolves the bundled libraries into the folder, on this host
deps="$(ldd "$addon")"
if grep -q 'not found' <<<"$deps"; then
  printf '%s\n' "$deps" >&2
  die "$addon has unresolved dependencies"
fi
for so in "$spandsp_so" "$tiff_so"; do
  resolved="$(awk -v so="$so" '$1 == so && $2 == "=>" { print $3 }' <<<"$deps")"
  [ "$(readlink -f "$resolved")" = "$(readlink -f "$dir/$so")" ] ||
    die "ldd resolves $so to '$resolved', expected $root/$dir/$so"
done
awk '$2 == "=>" { printf "prebuildify:   %s => %s\n", $1, $3 }' <<<"$deps"

# --- load it the way an installed package does (prebuilds only); check what got mapped
PREBUILDS_ONLY=1 node -e '
  const fs = require("fs");
  const path = require("path");
  const file = require("node-gyp-build").path(process.argv[1]);
  require(file);
  const maps = fs.readFileSync("/proc/self/maps", "utf8").split("\n").map(l => l.split(/\s+/)[5]);
  for (const [pattern, want] of [[/libspandsp/, process.argv[2]], [/libtiff/, process.argv[3]]]) {
    const got = [...new Set(maps.filter(p => p && pattern.test(p)))];
    const expected = fs.realpathSync(want);
    if (got.length !== 1 || got[0] !== expected) {
      console.error("prebuildify: ERROR: mapped " + JSON.stringify(got) + ", expected " + expected);
      process.exit(1);
    }
  }
  console.log("prebuildify: node loads " + path.relative(process.cwd(), file) + " with the bundled " +
    path.basename(process.argv[2]) + " and " + path.basename(process.argv[3]));
' "$root" "$dir/$spandsp_so" "$dir/$tiff_so"

say "done in $((SECONDS - started))s:"
ls -l "$dir"
