#!/usr/bin/env bash
# Usage: scripts/python-tools.sh
#
# Makes the Python virtual environment the tests use, target/python-tools
# (under CARGO_TARGET_DIR when set), with the pinned packages below, and
# prints its interpreter's path. Quick when it is already there with these
# pins; made again when the pins change. Needs python3 with venv and pip
# (scripts/install-deps.sh installs python3-venv and python3-pip on Debian).
# Test binaries may call it at the same time: they take turns (flock).
#
#   openbadges-bakery  the reference unbaker of OB 2.0 PNG and SVG
#                      (tests/tests/baking.rs)
#   pypng              a PNG decoder that reads our OB 3.0 iTXt chunk
#                      (tests/tests/baking.rs, tests/tests/interop.rs)
#   aiosmtpd           the SMTP server tests/tests/mail.rs receives e-mail
#                      with (atpublic and attrs are its dependencies)
#   authlib, requests  the OAuth 2.0 client that drives the OB 3.0 Service
#                      API black-box (tests/service_api/client.py,
#                      tests/tests/oauth_client.rs); the rest are their
#                      dependencies, pinned so that every run installs the
#                      same versions
set -euo pipefail

packages=(
    openbadges-bakery==2.0.0
    pypng==0.20220715.0
    aiosmtpd==1.4.6
    atpublic==5.1
    attrs==25.4.0
    Authlib==1.9.10
    joserfc==1.8.0
    cryptography==51.0.1
    cffi==2.1.1
    pycparser==3.12
    requests==2.34.2
    urllib3==2.8.0
    idna==3.21
    charset-normalizer==3.5.3
    certifi==2026.10.19.post1
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/python-tools"
stamp="$venv/.requirements"
wanted=$(printf '%s\n' "${packages[@]}")

mkdir -p "$target"
exec 9>"$target/python-tools.lock"
flock 9

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "$venv/bin/python"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || {
    echo "python-tools: python3 is missing; run scripts/install-deps.sh" >&2
    exit 1
}
rm -rf "$venv"
python3 -m venv "$venv" >&2 || {
    echo "python-tools: python3 -m venv failed; install python3-venv (scripts/install-deps.sh)" >&2
    exit 1
}
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" >&2
printf '%s\n' "${packages[@]}" >"$stamp"
echo "$venv/bin/python"
