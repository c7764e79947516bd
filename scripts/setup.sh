#!/usr/bin/env bash
# Installs what building and testing Refit needs, and nothing that is already there.
# Debian/Ubuntu packages through apt-get; test tools from PyPI through pip.
set -euo pipefail

apt_packages=(libsqlite3-dev libcurl4-openssl-dev libpq-dev libxml2 postgresql pkg-config openssl chromium)   # chromium: the report page's browser test; postgresql: the PostgreSQL tests' server; libxml2: S3 and Azure listings (opened on first use)
pip_packages=("azure.storage.blob:azure-storage-blob" "moto.server:moto[server]" "prometheus_client:prometheus-client")   # "module:requirement" pairs, added by the tests that need them

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for pair in "${pip_packages[@]:-}"; do
  [ -n "$pair" ] || continue
  module="${pair%%:*}"; req="${pair#*:}"
  python3 -c "import $module" 2>/dev/null || { echo "setup: pip install $req"; python3 -m pip install -q "$req"; }
done

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.2 or newer is needed)" >&2; exit 1; }
