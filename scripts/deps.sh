#!/usr/bin/env bash
# Installs what the project needs on Debian 12: idempotent, installs only what
# is missing, and runs apt-get update only when something is. Then installs the
# pinned npm packages of the JavaScript parts (npm ci, from their lockfiles).
set -euo pipefail

packages=(
  gcc make cmake ninja-build pkg-config git ca-certificates
  clang clang-format-14 libclang-rt-14-dev valgrind
  libssl-dev libsodium-dev liblmdb-dev lmdb-utils libuv1-dev libjansson-dev libcmocka-dev
  libgmp-dev libsecp256k1-dev libwebsockets-dev libcurl4-openssl-dev
  curl jq procps
)
# Node.js and npm may come from Debian or from elsewhere; only install Debian's
# when there is no node at all.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# JavaScript parts: each folder with a package-lock.json gets `npm ci` when its
# node_modules is missing or older than the lockfile.
root=$(cd "$(dirname "$0")/.." && pwd)
while IFS= read -r lock; do
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
    echo "deps: npm ci in ${dir#$root/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
done < <(find "$root" -name package-lock.json -not -path '*/node_modules/*' | sort)
