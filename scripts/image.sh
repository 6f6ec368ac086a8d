#!/usr/bin/env bash
# Usage:
#   scripts/image.sh build [BINARY]    build the image from ./Dockerfile
#   scripts/image.sh export DIR        unpack the image's filesystem into DIR
#   scripts/image.sh run DIR [ARG...]  start the image's entrypoint in DIR
#   scripts/image.sh ps DIR            the processes running in DIR: name, uid
#
# Builds and starts the server's container image on a machine that reaches
# no image registry and cannot run containers (the test machines; any
# offline Debian host). Needs root (or sudo), podman and mmdebstrap
# (scripts/install-deps.sh installs both).
#
# build: the Dockerfile's base image, debian:bookworm-slim, is made from
#   Debian's packages (`mmdebstrap --variant=minbase bookworm`, kept in
#   target/image/base-bookworm.tar and reused) and imported under that
#   name. Then `podman build --isolation=chroot --target runtime` runs the
#   Dockerfile's runtime stage as written, with its `builder` stage replaced
#   by a build context holding BINARY (default target/release/openbadges-
#   server) at /out/openbadges-server, where the builder stage puts it.
#   The steps of the image are the Dockerfile's alone; nothing here repeats
#   them. Prints the image name: localhost/openbadges-server:local.
#
# export: `podman create` + `podman export` of that image into DIR.
#
# run: what a container runtime would start, without one: the image's
#   ENTRYPOINT and CMD (ARGs replace CMD), its ENV, WORKDIR and USER, read
#   from `podman image inspect`, in DIR with chroot, as the image's user,
#   in private mount and PID namespaces with /proc mounted. It shares the
#   host's network, so the server's port is on the host's loopback. Extra
#   environment comes from IMAGE_ENV (newline-separated KEY=VALUE lines),
#   given after the image's own, as `docker run -e` would.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
image=localhost/openbadges-server:local
base_name=docker.io/library/debian:bookworm-slim

die() { printf 'image: %s\n' "$*" >&2; exit 1; }

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "needs root or sudo (chroot, podman storage)"
    sudo=(sudo -n)
fi

build() {
    local binary=${1:-$target/release/openbadges-server}
    [ -x "$binary" ] || die "no server binary at $binary (cargo build --release -p openbadges-server)"
    mkdir -p "$target/image"
    # One build at a time: test binaries may call this concurrently.
    exec 9>"$target/image/.lock"
    flock 9
    local base="$target/image/base-bookworm.tar"
    # A directory left there by an earlier mmdebstrap that guessed its
    # output format from the name is not a base.
    [ -f "$base" ] || "${sudo[@]}" rm -rf "$base" "$base.part"
    if [ ! -s "$base" ]; then
        # --format: mmdebstrap otherwise guesses from the extension, and
        # `.part` makes it write a directory.
        "${sudo[@]}" mmdebstrap --quiet --variant=minbase --format=tar bookworm "$base.part" \
            || die "mmdebstrap failed"
        mv "$base.part" "$base"
    fi
    if ! "${sudo[@]}" podman image exists "$base_name"; then
        "${sudo[@]}" podman import --quiet "$base" "$base_name" >/dev/null
    fi
    local context="$target/image/context" binaries="$target/image/builder"
    rm -rf "$context" "$binaries"
    mkdir -p "$context" "$binaries/out"
    cp "$binary" "$binaries/out/openbadges-server"
    "${sudo[@]}" podman build --quiet --isolation=chroot --pull=never --format docker \
        --target runtime --build-context "builder=$binaries" \
        -f "$root/Dockerfile" -t "$image" "$context" >/dev/null \
        || die "podman build failed"
    echo "$image"
}

export_fs() {
    local dir=${1:?usage: image.sh export DIR}
    mkdir -p "$dir"
    local container
    container=$("${sudo[@]}" podman create --quiet --no-healthcheck "$image")
    "${sudo[@]}" podman export "$container" | "${sudo[@]}" tar -x -C "$dir" \
        || { "${sudo[@]}" podman rm -f "$container" >/dev/null; die "export failed"; }
    "${sudo[@]}" podman rm -f "$container" >/dev/null
}

# config FIELD: one field of the image's Config, as JSON.
config() {
    "${sudo[@]}" podman image inspect --format "{{json .Config.$1}}" "$image"
}

run() {
    local dir=${1:?usage: image.sh run DIR [ARG...]}
    shift
    [ -d "$dir/usr/local/bin" ] || die "$dir holds no exported image"
    local user workdir
    user=$(config User | python3 -c 'import json,sys; print(json.load(sys.stdin) or "root")')
    workdir=$(config WorkingDir | python3 -c 'import json,sys; print(json.load(sys.stdin) or "/")')
    # The user's ids from the image's own /etc/passwd, not the host's.
    local ids
    ids=$(awk -F: -v u="$user" '$1 == u || $3 == u { print $3 ":" $4; exit }' "$dir/etc/passwd")
    [ -n "$ids" ] || die "user $user is not in the image's /etc/passwd"
    local -a command env_args
    mapfile -t command < <(
        { config Entrypoint; config Cmd; } | python3 -c '
import json, sys
entry, cmd = (json.loads(line) or [] for line in sys.stdin.read().splitlines())
args = sys.argv[1:]
print("\n".join(entry + (args if args else cmd)))' "$@")
    # A runtime's default PATH, which the image's own ENV may replace.
    env_args=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
    mapfile -t -O 1 env_args < <(config Env | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin) or []))')
    if [ -n "${IMAGE_ENV:-}" ]; then
        mapfile -t -O "${#env_args[@]}" env_args <<<"$IMAGE_ENV"
    fi
    # The user is taken by the image's setpriv, which sets the parent-death
    # signal after it: a change of user clears it, and then the server
    # outlived an unshare that was killed (the tests' way to stop it).
    exec "${sudo[@]}" unshare --mount --pid --fork --kill-child=SIGTERM --mount-proc="$dir/proc" \
        chroot "$dir" /usr/bin/setpriv --reuid="${ids%%:*}" --regid="${ids##*:}" --clear-groups \
        --pdeathsig=TERM /usr/bin/env -i "${env_args[@]}" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "${command[@]}"
}

# ps DIR: "name uid" of each process whose root directory is DIR.
ps_in() {
    local dir
    dir=$(realpath "${1:?usage: image.sh ps DIR}")
    "${sudo[@]}" bash -c '
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] || continue
            awk "/^Name:/ {n=\$2} /^Uid:/ {u=\$2} END {print n, u}" "$p/status" 2>/dev/null
        done' sh "$dir"
}

case "${1:-}" in
    build) shift; build "$@" ;;
    export) shift; export_fs "$@" ;;
    run) shift; run "$@" ;;
    ps) shift; ps_in "$@" ;;
    *) sed -n '2,6p' "$0" >&2; exit 2 ;;
esac
