#!/usr/bin/env bash
# System packages the project needs: zbar for the camera agent's code reading, CJK fonts for
# rendered plates and PDFs, Chromium for the browser tests. Installed only when missing.
set -euo pipefail
packages=(libzbar0 fonts-wqy-zenhei chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
