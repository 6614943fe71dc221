#!/usr/bin/env bash
# Makes a local stand-in for node:20-bookworm-slim when no image registry is
# reachable: a Debian bookworm root filesystem from debootstrap (minbase,
# against a Debian mirror) plus this machine's own Node.js and npm, placed
# where the official image has them (/usr/local/bin, /usr/local/lib/node_modules).
# The result is committed to buildah's local storage, so it can be passed as
#
#   buildah bud --isolation chroot --build-arg BASE=localhost/switchboard-base:bookworm-node20 \
#     -f docker/Dockerfile .
#
# Unlike the official image it has no `node` user: the Dockerfile creates one
# when the base lacks it, so that path gets exercised too.
#
# Usage: docker/make-local-base.sh [IMAGE]   (needs root, buildah, debootstrap)
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              NODE_BIN (default: `command -v node`), NPM_DIR (default: the npm next to that node).
set -euo pipefail

image="${1:-localhost/switchboard-base:bookworm-node20}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
node_bin="$(readlink -f "${NODE_BIN:-$(command -v node)}")"
npm_dir="${NPM_DIR:-$(readlink -f "$(dirname "$node_bin")/../lib/node_modules/npm")}"

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "make-local-base: $tool is not installed" >&2; exit 1; }
done
[ -x "$node_bin" ] || { echo "make-local-base: no node binary at $node_bin" >&2; exit 1; }
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "make-local-base: no npm at $npm_dir" >&2; exit 1; }

container="$(buildah from scratch)"
cleanup() { buildah rm "$container" >/dev/null 2>&1 || true; }
trap cleanup EXIT
root="$(buildah mount "$container")"

debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
# Keep the image small, like debian:bookworm-slim.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules"
cp "$node_bin" "$root/usr/local/bin/node"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# The node binary must run against the new root's own libraries.
chroot "$root" /usr/local/bin/node --version >/dev/null

buildah config --env NODE_VERSION="$("$node_bin" --version | sed 's/^v//')" --cmd node "$container"
buildah umount "$container" >/dev/null
buildah commit --quiet "$container" "$image" >/dev/null
echo "$image"
