#!/usr/bin/env bash
# Installs the Debian packages that building and testing need on a machine
# that has only the Rust toolchain. Installs only what is missing, so it is a
# quick no-op once everything is there. Uses sudo only when not root.
#
#   libpq-dev    diesel's pq-sys links libpq (found through pkg-config)
#   pkg-config   locates libpq for the build
#   postgresql   server binaries for the throwaway test cluster
#                (scripts/with-postgres.sh), initdb, pg_ctl and pg_basebackup
#                for the primary and standby of tests/tests/replicas.rs, and
#                the psql client
#   util-linux   runuser and setpriv (the test cluster and one test use them)
#   chromium     the badge pages are opened in a real headless browser
#                (tests/tests/pages.rs)
#   nodejs, npm  the interoperability test (tests/tests/interop.rs) verifies
#                our credentials with the JavaScript reference stack; only
#                when no `node` is on PATH at all (a Node.js installed another
#                way comes with its own npm)
#   podman, mmdebstrap
#                the container image is built from the Dockerfile and
#                started in the tests (scripts/image.sh, tests/tests/image.rs)
#                without an image registry: the base image is made from
#                Debian's packages
#   python3-venv, python3-pip
#                the virtualenv of scripts/python-tools.sh: independent
#                Python tools from PyPI that read our baked badges
#                (openbadges-bakery, pypng; tests/tests/baking.rs) and the
#                SMTP server the e-mail test sends to (aiosmtpd;
#                tests/tests/mail.rs)
set -euo pipefail

packages=(libpq-dev pkg-config postgresql util-linux chromium podman mmdebstrap python3-venv python3-pip)
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
    # `dpkg -s` also succeeds for removed-but-configured packages; require
    # the installed state.
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "deps: all present (${packages[*]})"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
