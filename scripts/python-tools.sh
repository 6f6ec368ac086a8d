#!/usr/bin/env bash
# Usage: scripts/python-tools.sh
#
# Makes the Python virtual environment the tests use, target/python-tools,
# with the pinned packages below, and prints its interpreter's path. Quick
# when it is already there with these pins. Needs python3 with venv
# (Debian: python3-venv; scripts/install-deps.sh installs it).
#
#   aiosmtpd   the SMTP server tests/tests/mail.rs receives e-mail with
#              (atpublic and attrs are its dependencies, pinned too)
set -euo pipefail

packages=(
    aiosmtpd==1.4.6
    atpublic==5.1
    attrs==25.4.0
)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/target/python-tools"
stamp="$venv/.installed"
wanted=$(printf '%s\n' "${packages[@]}")

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "$venv/bin/python"
    exit 0
fi

python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps "${packages[@]}" >&2
# Fails if a pin is missing a dependency the others need.
"$venv/bin/python" -m pip check >&2
printf '%s\n' "${packages[@]}" >"$stamp"
echo "$venv/bin/python"
