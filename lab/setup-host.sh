#!/usr/bin/env bash
# Install the Debian packages the lab and the tests need (Debian 12, as root). Idempotent:
# nothing is downloaded when everything is already there. (systemd: systemd-analyze checks the
# service units, tests/unit/pbx_setup/test_service_units.py; no init system needs to run.)
set -euo pipefail
PACKAGES=(debootstrap mosquitto mosquitto-clients prometheus postgresql espeak-ng sox chromium
          poppler-utils fonts-dejavu-core sip-tester systemd openssl)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup-host: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# A fresh Debian needs venv support for `make setup`'s virtual environment.
if ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update -q && apt-get install -y -q python3-venv
fi
# Debian's package scripts may start the stock services where an init system exists; the lab
# runs its own on other ports, so nothing else needs to run.
