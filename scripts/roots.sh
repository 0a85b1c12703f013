#!/usr/bin/env bash
# Minimal Debian roots for the prebuild and the packed-tarball check, made with
# debootstrap and cached outside the clone so a machine pays for each one once.
#
#   bash scripts/roots.sh ensure NAME   # make NAME if missing or stale; print its path
#   bash scripts/roots.sh path NAME     # print the path only
#   source scripts/roots.sh             # for roots_ensure, roots_mount, roots_umount_all
#
# NAME is one of:
#   bullseye        Debian 11 minbase, nothing added (glibc 2.31): the oldest target
#   bookworm        Debian 12 minbase, nothing added (glibc 2.36)
#   bullseye-build  Debian 11 minbase + a compiler, pkg-config, python3 and dpkg-dev,
#                   with a deb-src line: where the prebuild is built, so it needs
#                   nothing newer than Debian 11's C library
#
# Cache: ${FAXLINE_CACHE:-/var/cache/faxline}/roots/NAME. A root counts as complete only
# when its marker file (written last) holds the recipe it was made from; a change of
# recipe or an interrupted debootstrap makes a new one. Mirror: FAXLINE_DEBIAN_MIRROR
# (default http://deb.debian.org/debian). Needs root, debootstrap and the network the
# first time.

roots_cache="${FAXLINE_CACHE:-/var/cache/faxline}"
roots_mirror="${FAXLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
roots_marker=.faxline-root-complete

roots_say() { printf 'roots: %s\n' "$*" >&2; }
roots_die() { printf 'roots: ERROR: %s\n' "$*" >&2; exit 1; }

# The recipe of NAME: suite, then the packages added to minbase (none for targets).
roots_recipe() {
  case "$1" in
    bullseye) echo "bullseye minbase" ;;
    bookworm) echo "bookworm minbase" ;;
    bullseye-build) echo "bullseye minbase build-essential,pkg-config,python3,dpkg-dev,ca-certificates,file,zlib1g-dev,autoconf,automake,libtool" ;;
    *) roots_die "unknown root '$1' (bullseye, bookworm, bullseye-build)" ;;
  esac
}

roots_path() { echo "$roots_cache/roots/$1"; }

# Make root NAME unless a complete one with the same recipe is cached; print its path.
roots_ensure() {
  local name="$1" recipe dir suite include tmp
  recipe="$(roots_recipe "$name")"
  dir="$(roots_path "$name")"
  mkdir -p "$roots_cache/roots"
  # One maker per root at a time; a second caller waits, then finds it cached.
  local lock
  exec {lock}>"$roots_cache/roots/.$name.lock"
  flock -w 1800 "$lock" || roots_die "timed out waiting for the lock on $name"
  if [ -f "$dir/$roots_marker" ] && [ "$(cat "$dir/$roots_marker")" = "$recipe" ]; then
    roots_say "$name: cached in $dir"
    echo "$dir"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || roots_die "making the $name root needs root (debootstrap, chroot)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    roots_say "installing debootstrap"
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap; } >&2 ||
      roots_die "apt-get install debootstrap failed"
  fi
  read -r suite _ include <<<"$recipe"
  # Built beside its final place and renamed, so a half-made root is never mistaken
  # for a cached one; a leftover from an interrupted run is removed first.
  tmp="$dir.partial"
  roots_umount_all "$tmp"
  rm -rf --one-file-system "$tmp"
  local started=$SECONDS
  roots_say "$name: debootstrap --variant=minbase $suite${include:+ (+ $include)} from $roots_mirror"
  if ! debootstrap --variant=minbase ${include:+--include="$include"} \
    "$suite" "$tmp" "$roots_mirror" >"$tmp.log" 2>&1; then
    tail -n 30 "$tmp.log" >&2
    roots_die "debootstrap of $name failed (log: $tmp.log)"
  fi
  if [ "$name" = bullseye-build ]; then
    # apt-get source needs the source index.
    printf 'deb %s %s main\ndeb-src %s %s main\n' "$roots_mirror" "$suite" "$roots_mirror" "$suite" \
      >"$tmp/etc/apt/sources.list"
  fi
  apt-get clean -o RootDir="$tmp" >/dev/null 2>&1 || rm -rf "$tmp/var/cache/apt/archives/"*.deb
  roots_umount_all "$dir"
  rm -rf --one-file-system "$dir"
  mv "$tmp" "$dir"
  rm -f "$tmp.log"
  echo "$recipe" >"$dir/$roots_marker"
  roots_say "$name: made in $((SECONDS - started))s ($(du -sh "$dir" | cut -f1))"
  echo "$dir"
}

# Mount what programs in a chroot expect: /proc (node reads /proc/self), /dev (urandom,
# null), /dev/pts, and the host's resolv.conf for apt. Undo with roots_umount_all.
roots_mount() {
  local dir="$1"
  mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
  mountpoint -q "$dir/dev" || mount --bind /dev "$dir/dev"
  mountpoint -q "$dir/dev/pts" || mount --bind /dev/pts "$dir/dev/pts"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
}

# Unmount everything mounted at or below DIR, deepest first. Safe to call when nothing is.
roots_umount_all() {
  local dir="$1" mnt
  [ -d "$dir" ] || return 0
  dir="$(readlink -f "$dir")"
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
}

# Copy this machine's node (and npm, for the package checks) into DIR under /usr/local,
# with Node's headers so node-gyp never downloads them.
roots_copy_node() {
  local dir="$1" prefix
  prefix="$(node -p "require('path').resolve(process.execPath, '..', '..')")"
  mkdir -p "$dir/usr/local/bin" "$dir/usr/local/include" "$dir/usr/local/lib/node_modules"
  cp "$(readlink -f "$(command -v node)")" "$dir/usr/local/bin/node"
  rm -rf "$dir/usr/local/include/node" "$dir/usr/local/lib/node_modules/npm"
  cp -a "$prefix/include/node" "$dir/usr/local/include/node"
  local npm_dir
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  cp -a "$npm_dir" "$dir/usr/local/lib/node_modules/npm"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    ensure) [ $# -eq 2 ] || roots_die "usage: roots.sh ensure NAME"; roots_ensure "$2" ;;
    path) [ $# -eq 2 ] || roots_die "usage: roots.sh path NAME"; roots_recipe "$2" >/dev/null; roots_path "$2" ;;
    *) sed -n '2,20p' "$0" | cut -c3- >&2; exit 2 ;;
  esac
fi
