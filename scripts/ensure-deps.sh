#!/usr/bin/env bash
# Installs the Debian packages the build, tests and demo need, only those missing.
# Usage: scripts/ensure-deps.sh [extra-package ...]
set -euo pipefail

wanted=(redis-server redis-tools libhiredis-dev pkg-config "$@")
missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Package lists are absent on a fresh machine: fetch them before the first install.
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
