#!/usr/bin/env bash
# npm run setup: install the system packages a source build of faxline needs
# (Debian/Ubuntu). Installs only what is missing; quiet when everything is there.
#
# Needed: pkg-config, libspandsp-dev (SpanDSP 0.0.6), libtiff-dev.
# Assumed: g++ (C++17), make, python3 (node-gyp) and cmake (cmake-js); they are checked
# and reported, and installed too only with --with-build-tools (CI on a bare image).
# --with-test-tools adds the SIP peers the tests judge faxline's SIP endpoint against:
# SIPp (sip-tester), Kamailio and baresip. Kamailio's packaged service is left stopped and
# disabled: the tests start their own instances on 127.0.0.1 with their own configuration.
#
#   bash scripts/setup.sh [--with-build-tools] [--with-test-tools]
#
# An install from the published package needs none of this: it carries a prebuilt
# addon with SpanDSP beside it.
set -euo pipefail

say() { printf 'faxline setup: %s\n' "$*"; }

with_tools=false
with_test_tools=false
for arg in "$@"; do
  case "$arg" in
    --with-build-tools) with_tools=true ;;
    --with-test-tools) with_test_tools=true ;;
    -h | --help) sed -n '2,15p' "$0" | cut -c3-; exit 0 ;;
    *) say "unknown option: $arg" >&2; exit 2 ;;
  esac
done

# pkg-config module -> Debian package
declare -A modules=([spandsp]=libspandsp-dev [libtiff-4]=libtiff-dev)

is_installed() { # a Debian package, by dpkg's own record
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
if command -v pkg-config >/dev/null 2>&1; then
  for module in "${!modules[@]}"; do
    pkg-config --exists "$module" || missing+=("${modules[$module]}")
  done
else
  missing+=(pkg-config)
  for module in "${!modules[@]}"; do
    is_installed "${modules[$module]}" || missing+=("${modules[$module]}")
  done
fi

# command -> Debian package
tools_missing=()
for tool in g++:g++ make:make python3:python3 cmake:cmake; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || tools_missing+=("${tool#*:}")
done
if $with_tools && [ "${#tools_missing[@]}" -gt 0 ]; then
  missing+=("${tools_missing[@]}")
  tools_missing=()
fi

# command -> Debian package: the SIP peers of the tests (test/sip)
kamailio_new=false
if $with_test_tools; then
  for tool in sipp:sip-tester kamailio:kamailio baresip:baresip; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1 && [ ! -x "/usr/sbin/${tool%%:*}" ]; then
      missing+=("${tool#*:}")
      [ "${tool%%:*}" = kamailio ] && kamailio_new=true
    fi
  done
fi

if [ "${#missing[@]}" -gt 0 ]; then
  # stable order for messages
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${missing[*]} (Debian package names)."
    say "apt-get is not available here; install SpanDSP 0.0.6 and libtiff development files"
    say "and pkg-config with your system's package manager, then run this again."
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "missing system packages: ${missing[*]}"
    say "installing them needs root; run:"
    printf '\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n\n' "${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for module in "${!modules[@]}"; do
    if ! pkg-config --exists "$module"; then
      say "installed ${modules[$module]}, but pkg-config still cannot find '$module'" >&2
      exit 1
    fi
  done
  if $kamailio_new && command -v systemctl >/dev/null 2>&1; then
    # A service on the machine's port 5060 is not what a test tool install should leave behind.
    systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
  if $with_tools; then
    for tool in g++ make python3 cmake; do
      command -v "$tool" >/dev/null 2>&1 || { say "$tool still missing after install" >&2; exit 1; }
    done
  fi
fi

spandsp_version="$(pkg-config --modversion spandsp)"
if [ "$spandsp_version" != "0.0.6" ]; then
  say "warning: faxline is written against SpanDSP 0.0.6; this system has $spandsp_version" >&2
fi

if [ "${#tools_missing[@]}" -gt 0 ]; then
  say "warning: build tools not found: ${tools_missing[*]} (assumed present; not installed by this script)" >&2
  say "         install them with: bash scripts/setup.sh --with-build-tools" >&2
fi

if [ "${#missing[@]}" -gt 0 ]; then
  say "ok: spandsp $spandsp_version, libtiff $(pkg-config --modversion libtiff-4)"
fi
