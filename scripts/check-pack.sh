#!/usr/bin/env bash
# The packed-tarball check CI runs after `npm run build:ts` and `npm run prebuildify`:
# pack the package, install the tarball into an empty project with compilers disabled
# (so the install must use the prebuild), check that the installed addon resolves
# libspandsp.so.2 inside its own prebuild folder, then send a loopback fax with the
# installed CLI and check the result.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

say() { printf 'check-pack: %s\n' "$*"; }
die() { printf 'check-pack: ERROR: %s\n' "$*" >&2; exit 1; }

platform="$(node -p 'process.platform + "-" + process.arch')"
sample="$root/examples/sample.tif"
soname=libspandsp.so.2

shopt -s nullglob
built=(prebuilds/"$platform"/*.node)
shopt -u nullglob
[ "${#built[@]}" -ge 1 ] || die "no prebuilds/$platform/*.node: run \`npm run prebuildify\` first"
[ -f "prebuilds/$platform/$soname" ] || die "prebuilds/$platform/$soname missing: run \`npm run prebuildify\`"
[ -f dist/cli/main.js ] || die "dist/cli/main.js missing: run \`npm run build:ts\` first"
[ -f "$sample" ] || die "$sample missing"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/faxline-check-pack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# --- pack
mkdir "$tmp/pack"
npm pack --silent --json --pack-destination "$tmp/pack" >"$tmp/pack.json"
tarball="$(node -e '
  const [info] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(require("path").join(process.argv[2], info.filename));
' "$tmp/pack.json" "$tmp/pack")"
[ -f "$tarball" ] || die "npm pack produced no tarball"
say "packed $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"

# The tarball must carry the prebuild, the bundled SpanDSP and its licence texts.
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e '
  const [info] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const files = new Set(info.files.map(f => f.path));
  const plat = process.argv[2];
  const need = [
    "package.json", "dist/cli/main.js", "binding.gyp", "native/sources.json",
    `prebuilds/${plat}/libspandsp.so.2`,
    `prebuilds/${plat}/spandsp-LGPL-2.1.txt`, `prebuilds/${plat}/spandsp-copyright.txt`,
    "LICENSES/spandsp-LGPL-2.1.txt", "LICENSES/spandsp-copyright.txt",
  ];
  const missing = need.filter(f => !files.has(f));
  if (![...files].some(f => f.startsWith(`prebuilds/${plat}/`) && f.endsWith(".node"))) missing.push(`prebuilds/${plat}/*.node`);
  if (missing.length) { console.error("check-pack: ERROR: tarball lacks " + missing.join(", ")); process.exit(1); }
  console.log(`check-pack: tarball has ${files.size} files, including the prebuild, ${"libspandsp.so.2"} and licence texts`);
' "$tmp/pack.json" "$platform"

# --- install into an empty project. CC/CXX point at `false`: if node-gyp-build could
# not load the prebuild it would fall back to compiling, and that must fail here.
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y >/dev/null
say "npm install $(basename "$tarball") (compilers disabled)"
if ! CC=false CXX=false npm install --no-audit --no-fund --foreground-scripts "$tarball"; then
  die "npm install of the tarball failed (a compile attempt means the prebuild did not load)"
fi

pkg="$tmp/app/node_modules/faxline"
[ -d "$pkg" ] || die "node_modules/faxline missing after install"
[ ! -e "$pkg/build" ] || die "install compiled the addon (node_modules/faxline/build exists) instead of using the prebuild"
say "install used the prebuild (no node_modules/faxline/build)"

# --- the installed addon resolves SpanDSP inside its own prebuild folder
shopt -s nullglob
addons=("$pkg/prebuilds/$platform"/*.node)
shopt -u nullglob
[ "${#addons[@]}" -ge 1 ] || die "no $pkg/prebuilds/$platform/*.node"
expected="$(readlink -f "$pkg/prebuilds/$platform/$soname")"
for addon in "${addons[@]}"; do
  deps="$(ldd "$addon")"
  if grep -q 'not found' <<<"$deps"; then
    printf '%s\n' "$deps" >&2
    die "$addon has unresolved dependencies"
  fi
  resolved="$(awk -v so="$soname" '$1 == so && $2 == "=>" { print $3 }' <<<"$deps")"
  if [ -z "$resolved" ] || [ "$(readlink -f "$resolved")" != "$expected" ]; then
    die "ldd resolves $soname for $addon to '${resolved:-nothing}', expected $expected"
  fi
  say "ldd ${addon#"$tmp/app/"}: $soname => ${resolved#"$tmp/app/"}"
done

# node-gyp-build picks that prebuild, and loading it maps the bundled SpanDSP.
node -e '
  const fs = require("fs");
  const pkg = process.argv[1];
  const gypBuild = require(require.resolve("node-gyp-build", { paths: [pkg] }));
  const file = gypBuild.path(pkg);
  require(file);
  const maps = fs.readFileSync("/proc/self/maps", "utf8");
  const spandsp = [...new Set(maps.split("\n").map(l => l.split(/\s+/)[5]).filter(p => p && /libspandsp/.test(p)))];
  if (spandsp.length !== 1 || spandsp[0] !== process.argv[2]) {
    console.error("check-pack: ERROR: loaded SpanDSP " + JSON.stringify(spandsp) + ", expected " + process.argv[2]);
    process.exit(1);
  }
  const rel = p => require("path").relative(process.cwd(), p);
  console.log("check-pack: node-gyp-build loads " + rel(file) + " with " + rel(spandsp[0]));
' "$pkg" "$expected"

# --- a loopback fax through the installed CLI
say "npx faxline send $sample --to loopback --json"
npx --no-install faxline send "$sample" --to loopback --json >"$tmp/result.json" </dev/null ||
  die "faxline send exited with $?: $(cat "$tmp/result.json")"
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8").trim();
  let result;
  try {
    result = JSON.parse(text);
  } catch (e) {
    console.error("check-pack: ERROR: faxline send --json printed no JSON:\n" + text);
    process.exit(1);
  }
  const v = result.variables || {};
  if (v.send_fax_result !== "success") {
    console.error("check-pack: ERROR: send_fax_result is " + JSON.stringify(v.send_fax_result) + ":\n" + JSON.stringify(result, null, 2));
    process.exit(1);
  }
  console.log(`check-pack: loopback fax: send_fax_result=${v.send_fax_result}, pages=${v.send_fax_pages}, ` +
    `result_code=${v.send_fax_result_code} (${v.send_fax_result_text})`);
' "$tmp/result.json"

say "ok"
