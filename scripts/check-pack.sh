#!/usr/bin/env bash
# The packed-tarball check CI runs after `npm run build:ts` and `npm run prebuildify`:
# pack the package, install the tarball into an empty project with compilers disabled
# (so the install must use the prebuild), check that the installed addon resolves the
# bundled SpanDSP and libtiff inside its own prebuild folder, then send a loopback fax
# with the installed CLI and check the result. Then the same, as a new user would, in
# minimal Debian 11 and Debian 12 roots (scripts/roots.sh: debootstrap minbase, cached;
# Node copied in; no SpanDSP, no libtiff, no compiler), and the honest fallback: a
# tarball without prebuilds fails in Debian 12 with the one message naming what to
# install. FAXLINE_CHECK_ROOTS=0 skips the roots (no root user, no debootstrap).
#
# The roots install offline (npm install --offline) from a private npm cache filled on
# this host with the tarball's dependencies: the real npm install path runs inside the
# root (faxline's install script, the prebuild load test) with no network needed there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

say() { printf 'check-pack: %s\n' "$*"; }
die() { printf 'check-pack: ERROR: %s\n' "$*" >&2; exit 1; }

platform="$(node -p 'process.platform + "-" + process.arch')"
sample="$root/examples/sample.tif"

shopt -s nullglob
built=(prebuilds/"$platform"/*.node)
shopt -u nullglob
[ "${#built[@]}" -ge 1 ] || die "no prebuilds/$platform/*.node: run \`npm run prebuildify\` first"
# The bundled libraries, by the SONAMEs the addon needs.
needed="$(readelf -d "${built[0]}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
sonames=()
for lib in libspandsp libtiff; do
  so="$(grep "^$lib\.so" <<<"$needed" || true)"
  [ -n "$so" ] || die "${built[0]} does not link $lib"
  [ -f "prebuilds/$platform/$so" ] || die "prebuilds/$platform/$so missing: run \`npm run prebuildify\`"
  sonames+=("$so")
done
[ -f dist/cli/main.js ] || die "dist/cli/main.js missing: run \`npm run build:ts\` first"
[ -f "$sample" ] || die "$sample missing"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/faxline-check-pack.XXXXXX")"
# shellcheck source=scripts/roots.sh
source "$root/scripts/roots.sh"
cleanup() {
  local r
  for r in "$tmp"/root-*; do [ -d "$r" ] && roots_umount_all "$r"; done
  # --one-file-system: never follow a mount that somehow stayed into the host
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

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
    "scripts/install.js", ...process.argv.slice(3).map(so => `prebuilds/${plat}/${so}`),
    `prebuilds/${plat}/spandsp-LGPL-2.1.txt`, `prebuilds/${plat}/spandsp-copyright.txt`,
    `prebuilds/${plat}/libtiff-LICENSE.txt`, `prebuilds/${plat}/libtiff-copyright.txt`,
    `prebuilds/${plat}/SOURCES.txt`,
    "LICENSES/spandsp-LGPL-2.1.txt", "LICENSES/spandsp-copyright.txt",
    "LICENSES/libtiff-LICENSE.txt", "LICENSES/libtiff-copyright.txt",
  ];
  const missing = need.filter(f => !files.has(f));
  if (![...files].some(f => f.startsWith(`prebuilds/${plat}/`) && f.endsWith(".node"))) missing.push(`prebuilds/${plat}/*.node`);
  if (missing.length) { console.error("check-pack: ERROR: tarball lacks " + missing.join(", ")); process.exit(1); }
  console.log(`check-pack: tarball has ${files.size} files, including the prebuild, ${process.argv.slice(3).join(", ")} and licence texts`);
' "$tmp/pack.json" "$platform" "${sonames[@]}"

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
for addon in "${addons[@]}"; do
  deps="$(ldd "$addon")"
  if grep -q 'not found' <<<"$deps"; then
    printf '%s\n' "$deps" >&2
    die "$addon has unresolved dependencies"
  fi
  for so in "${sonames[@]}"; do
    expected="$(readlink -f "$pkg/prebuilds/$platform/$so")"
    resolved="$(awk -v so="$so" '$1 == so && $2 == "=>" { print $3 }' <<<"$deps")"
    if [ -z "$resolved" ] || [ "$(readlink -f "$resolved")" != "$expected" ]; then
      die "ldd resolves $so for $addon to '${resolved:-nothing}', expected $expected"
    fi
    say "ldd ${addon#"$tmp/app/"}: $so => ${resolved#"$tmp/app/"}"
  done
done

# node-gyp-build picks that prebuild, and loading it maps the bundled SpanDSP.
node -e '
  const fs = require("fs");
  const pkg = process.argv[1];
  const gypBuild = require(require.resolve("node-gyp-build", { paths: [pkg] }));
  const file = gypBuild.path(pkg);
  require(file);
  const maps = fs.readFileSync("/proc/self/maps", "utf8").split("\n").map(l => l.split(/\s+/)[5]);
  const rel = p => require("path").relative(process.cwd(), p);
  const mapped = [];
  for (const so of process.argv.slice(3)) {
    const want = fs.realpathSync(require("path").join(process.argv[2], so));
    const stem = so.replace(/\.so.*/, "");
    const got = [...new Set(maps.filter(p => p && require("path").basename(p).startsWith(stem + ".so")))];
    if (got.length !== 1 || got[0] !== want) {
      console.error("check-pack: ERROR: loaded " + stem + " " + JSON.stringify(got) + ", expected " + want);
      process.exit(1);
    }
    mapped.push(rel(got[0]));
  }
  console.log("check-pack: node-gyp-build loads " + rel(file) + " with " + mapped.join(" and "));
' "$pkg" "$pkg/prebuilds/$platform" "${sonames[@]}"

# --- a loopback fax through the installed CLI
say "npx faxline send $sample --to loopback --json"
npx --no-install faxline send "$sample" --to loopback --json >"$tmp/result.json" </dev/null ||
  die "faxline send exited with $?: $(cat "$tmp/result.json")"
# The JSON a `faxline send --json` printed must say send_fax_result=success.
check_result() { # FILE LABEL
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
  console.log(`check-pack: ${process.argv[2]}: loopback fax: send_fax_result=${v.send_fax_result}, pages=${v.send_fax_pages}, ` +
    `result_code=${v.send_fax_result_code} (${v.send_fax_result_text})`);
' "$1" "$2"
}
check_result "$tmp/result.json" host

say "host: ok"

[ "${FAXLINE_CHECK_ROOTS:-1}" != 0 ] || { say "FAXLINE_CHECK_ROOTS=0: minimal Debian roots skipped"; exit 0; }
[ "$(id -u)" -eq 0 ] || die "the minimal Debian roots need root (chroot, mount); FAXLINE_CHECK_ROOTS=0 skips them"

# --- the tarball's dependencies in a private npm cache, for offline installs in the roots
say "filling a private npm cache with the tarball's dependencies (on this host)"
mkdir "$tmp/fill"
(cd "$tmp/fill" && npm init -y >/dev/null &&
  npm install --cache "$tmp/npm-cache" --ignore-scripts --no-audit --no-fund --silent "$tarball") ||
  die "npm install (cache fill) failed"

# --- the same tarball without prebuilds: the fallback must fail with one clear message
mkdir "$tmp/bare"
tar -xzf "$tarball" -C "$tmp/bare"
rm -rf "$tmp/bare/package/prebuilds"
bare="$tmp/pack/faxline-noprebuilds.tgz"
tar -czf "$bare" -C "$tmp/bare" package

# A copy of the cached root NAME with node, npm, the cache, the tarballs and the sample,
# mounted (/proc, /dev); prints its path.
make_root() {
  local name="$1" cached dir
  cached="$(roots_ensure "$name")"
  dir="$tmp/root-$name"
  cp -a "$cached" "$dir"
  roots_copy_node "$dir"
  mkdir -p "$dir/root/.npm" "$dir/app"
  cp -a "$tmp/npm-cache/." "$dir/root/.npm/"
  cp "$tarball" "$bare" "$sample" "$dir/app/"
  roots_mount "$dir"
  echo "$dir"
}
in_root() { # DIR COMMAND...: in a clean environment, in /app, compilers disabled
  local dir="$1"
  shift
  chroot "$dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LC_ALL=C CC=false CXX=false \
    npm_config_update_notifier=false bash -c 'cd /app && "$@"' _ "$@"
}

# Both roots at once: on a machine's first run each is a debootstrap of a minute or two.
pids=()
for name in bullseye bookworm; do
  (roots_ensure "$name" >/dev/null) &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || die "making a minimal Debian root failed"
done

for name in bullseye bookworm; do
  dir="$(make_root "$name")"
  # shellcheck disable=SC2016 # expanded by the root's shell
  label="$name ($(chroot "$dir" sh -c '. /etc/os-release; echo "Debian $VERSION_ID"'), glibc $(chroot "$dir" ldd --version | sed -n '1s/.* //p'))"
  say "$label: minimal root $(roots_path "$name")"
  # A new user's minimal system: no compiler, no SpanDSP, no libtiff.
  # shellcheck disable=SC2016 # expanded by the root's shell
  found="$(in_root "$dir" sh -c 'for t in cc gcc g++ c++ clang make; do command -v $t; done; ldconfig -p | grep -E "libspandsp|libtiff" || true')"
  [ -z "$found" ] || die "$label is not minimal: $found"
  in_root "$dir" npm init -y >/dev/null
  say "$label: npm install --offline $(basename "$tarball") (CC=false CXX=false)"
  in_root "$dir" npm install --offline --no-audit --no-fund --foreground-scripts "/app/$(basename "$tarball")" ||
    die "$label: npm install of the tarball failed"
  [ ! -e "$dir/app/node_modules/faxline/build" ] || die "$label: the install compiled instead of using the prebuild"
  inst="/app/node_modules/faxline/prebuilds/$platform"
  addon="$(cd "$dir$inst" && for f in ./*.node; do echo "$f"; break; done)"
  deps="$(chroot "$dir" ldd "$inst/${addon#./}")"
  printf 'check-pack: %s: ldd %s\n    %s\n' "$label" "${addon#./}" "${deps//$'\n'/$'\n'    }"
  ! grep -q 'not found' <<<"$deps" || die "$label: unresolved libraries"
  for so in "${sonames[@]}"; do
    grep -q "^[[:space:]]*$so => $inst/$so " <<<"$deps" || die "$label: $so does not resolve into $inst"
  done
  say "$label: npx faxline send sample.tif --to loopback --json"
  in_root "$dir" npx --no-install faxline send /app/sample.tif --to loopback --json >"$tmp/result-$name.json" ||
    die "$label: faxline send exited with $?: $(cat "$tmp/result-$name.json")"
  check_result "$tmp/result-$name.json" "$label"

  if [ "$name" = bookworm ]; then
    # The fallback: no prebuild, no compiler, no dev files -> one message, non-zero exit.
    rm -rf "$dir/app/node_modules" "$dir/app/package-lock.json"
    say "$label: npm install --offline faxline-noprebuilds.tgz (must fail with the message)"
    status=0
    in_root "$dir" npm install --offline --no-audit --no-fund --foreground-scripts /app/faxline-noprebuilds.tgz \
      >"$tmp/fallback.out" 2>&1 || status=$?
    sed 's/^/    | /' "$tmp/fallback.out"
    [ "$status" -ne 0 ] || die "$label: the install without prebuilds succeeded; it cannot have"
    for want in 'faxline: cannot install the native addon' 'Missing: ' \
      'apt-get install libspandsp-dev libtiff-dev g++ make python3 pkg-config' 'Full build output: '; do
      grep -qF "$want" "$tmp/fallback.out" || die "$label: the fallback message lacks '$want'"
    done
    logname="$(sed -n 's/.*Full build output: \(.*\)$/\1/p' "$tmp/fallback.out" | sed -n 1p)"
    [ -s "$dir$logname" ] || die "$label: the log the message names ($logname) is missing or empty"
    ! grep -q 'gyp ERR!' "$tmp/fallback.out" || die "$label: node-gyp output reached the terminal"
    say "$label: the fallback fails (exit $status) with the message; node-gyp's output is in $logname"
  fi
  roots_umount_all "$dir"
  rm -rf --one-file-system "$dir"
done

say "ok"
