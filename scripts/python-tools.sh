#!/usr/bin/env bash
# Creates target/python-tools, a Python virtualenv with the independent
# tools the baking tests (tests/tests/baking.rs) check our baked badges
# with: `openbadges-bakery` (the reference unbaker of OB 2.0 PNG and SVG)
# and `pypng` (a PNG decoder that reads our OB 3.0 iTXt chunk). Versions
# are pinned; the virtualenv is made again when this script changes.
# Needs python3 with venv and pip (scripts/install-deps.sh installs
# python3-venv and python3-pip on Debian).
#
#   scripts/python-tools.sh        prints the virtualenv's python on success
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CARGO_TARGET_DIR:-$root/target}/python-tools"
stamp="$venv/.requirements"
requirements="openbadges-bakery==2.0.0 pypng==0.20220715.0"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$requirements" ]; then
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
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $requirements >&2
echo "$requirements" >"$stamp"
echo "$venv/bin/python"
