#!/usr/bin/env bash
# npm run prebuildify: build the shipping addon and make it self-contained.
#
# 1. prebuildify --napi --strip builds through node-gyp (binding.gyp) into
#    prebuilds/<platform>-<arch>/faxline.node.
# 2. The SpanDSP shared library the addon links is copied beside it under its SONAME
#    (libspandsp.so.2); the addon's RUNPATH is $ORIGIN, so that copy is the one loaded.
#    libtiff comes from the target system (libtiff6 is on every Debian/Ubuntu).
# 3. SpanDSP's licence (LGPL-2.1) and Debian copyright file go beside it and into
#    LICENSES/ (committed).
# 4. Checks: RUNPATH has $ORIGIN, ldd resolves libspandsp into the prebuild folder,
#    and the prebuild loads in node with the bundled SpanDSP mapped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

say() { printf 'prebuildify: %s\n' "$*"; }
die() { printf 'prebuildify: ERROR: %s\n' "$*" >&2; exit 1; }

for tool in ldd readelf node npx; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

# node-gyp fetches Node's headers from nodejs.org unless it is told where they are.
# Use the headers installed with this node when nothing else is configured.
if [ -z "${npm_config_nodedir:-}" ]; then
  configured="$(npm config get nodedir 2>/dev/null || true)"
  prefix="$(node -p "require('path').resolve(process.execPath, '..', '..')")"
  if { [ -z "$configured" ] || [ "$configured" = undefined ] || [ "$configured" = null ]; } &&
     [ -f "$prefix/include/node/node_api.h" ] && [ -f "$prefix/include/node/common.gypi" ]; then
    export npm_config_nodedir="$prefix"
  fi
fi

platform="$(node -p 'process.platform + "-" + process.arch')"
dir="prebuilds/$platform"
node_version="$(node -p process.versions.node)"

rm -rf "$dir"
say "building $dir with node-gyp (Node-API, headers of node $node_version)"
# --target: build against this node's headers; a Node-API addon runs on any later
# version. Without it prebuildify picks the newest Node release it knows of.
npx --no-install prebuildify --napi --strip --target "node@$node_version"

shopt -s nullglob
addons=("$dir"/*.node)
shopt -u nullglob
[ "${#addons[@]}" -eq 1 ] || die "expected one .node in $dir, found ${#addons[@]}"
addon="${addons[0]}"
say "addon: $addon"

# --- RUNPATH must contain $ORIGIN, or the bundled library is never looked at.
runpath="$(readelf -d "$addon" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p')"
# shellcheck disable=SC2016 # a literal $ORIGIN
case ":$runpath:" in
  *':$ORIGIN:'* | *':$ORIGIN/:'*) say "RUNPATH/RPATH: $runpath" ;;
  *) die "$addon has RUNPATH/RPATH '${runpath:-<none>}', which lacks \$ORIGIN (binding.gyp: -Wl,-rpath,'\$\$ORIGIN')" ;;
esac

# --- the SpanDSP library the addon needs, by SONAME, and where the system has it
soname="$(readelf -d "$addon" | sed -n 's/.*(NEEDED).*\[\(libspandsp\.so[^]]*\)\].*/\1/p')"
[ -n "$soname" ] || die "$addon does not link libspandsp (no NEEDED entry)"
system_lib="$(ldd "$addon" | awk -v so="$soname" '$1 == so && $2 == "=>" { print $3 }')"
if [ -z "$system_lib" ] || [ ! -f "$system_lib" ]; then
  die "ldd cannot resolve $soname for $addon"
fi
real_lib="$(readlink -f "$system_lib")"
lib_soname="$(readelf -d "$real_lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ "$lib_soname" = "$soname" ] || die "$real_lib has SONAME '$lib_soname', expected '$soname'"

cp "$real_lib" "$dir/$soname"
chmod 0644 "$dir/$soname"
say "bundled $real_lib as $dir/$soname"

if ldd "$dir/$soname" | grep -q 'not found'; then
  ldd "$dir/$soname" >&2
  die "$dir/$soname has unresolved dependencies"
fi

# --- licence texts: the LGPL-2.1 and the Debian package's copyright file
owner="$(dpkg-query -S "$real_lib" 2>/dev/null | head -n1 | cut -d: -f1 || true)"
owner="${owner:-libspandsp2}"
lgpl=/usr/share/common-licenses/LGPL-2.1
copyright="/usr/share/doc/$owner/copyright"
[ -f "$lgpl" ] || die "$lgpl not found (Debian's base-files provides it)"
[ -f "$copyright" ] || die "$copyright not found (the $owner package's copyright file)"
mkdir -p LICENSES
for dest in "$dir" LICENSES; do
  cp "$lgpl" "$dest/spandsp-LGPL-2.1.txt"
  cp "$copyright" "$dest/spandsp-copyright.txt"
  chmod 0644 "$dest/spandsp-LGPL-2.1.txt" "$dest/spandsp-copyright.txt"
done
say "licences: $lgpl, $copyright -> $dir/ and LICENSES/"

# --- ldd must resolve libspandsp into the prebuild folder, and nothing may be missing
deps="$(ldd "$addon")"
if grep -q 'not found' <<<"$deps"; then
  printf '%s\n' "$deps" >&2
  die "$addon has unresolved dependencies"
fi
resolved="$(awk -v so="$soname" '$1 == so && $2 == "=>" { print $3 }' <<<"$deps")"
expected="$root/$dir/$soname"
[ "$(readlink -f "$resolved")" = "$(readlink -f "$expected")" ] ||
  die "ldd resolves $soname to '$resolved', expected $expected"
say "ldd: $soname => $resolved"
awk '$2 == "=>" { printf "prebuildify:   %s => %s\n", $1, $3 }' <<<"$deps"

# --- load it the way an installed package does (prebuilds only) and check which
#     SpanDSP got mapped
PREBUILDS_ONLY=1 node -e '
  const fs = require("fs");
  const file = require("node-gyp-build").path(process.argv[1]);
  require(file);
  const want = fs.realpathSync(process.argv[2]);
  const maps = fs.readFileSync("/proc/self/maps", "utf8");
  const spandsp = [...new Set(maps.split("\n").map(l => l.split(/\s+/)[5]).filter(p => p && /libspandsp/.test(p)))];
  if (spandsp.length !== 1 || spandsp[0] !== want) {
    console.error("prebuildify: ERROR: loaded SpanDSP from " + JSON.stringify(spandsp) + ", expected " + want);
    process.exit(1);
  }
  console.log("prebuildify: node loads " + file + " with " + spandsp[0]);
' "$root" "$expected"

say "done:"
ls -l "$dir"
