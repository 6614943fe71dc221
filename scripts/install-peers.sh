#!/usr/bin/env bash
# Installs the Debian packages of the real peers the test suite starts on
# loopback: Chromium (browser tests), coturn (TURN), sipp and baresip (SIP
# peers), dnsmasq-base (a DNS server with NAPTR/SRV records for the RFC 3263 tests), Kamailio (SIP registrar/proxy, with WebSocket modules), Prosody (the
# compose lab's XMPP config check), Redis (the cluster directory), openssl (test certificates), and buildah +
# debootstrap (the container image test), podman with runc, conmon, the CNI plugins (dnsname for
# service names), uidmap, slirp4netns and docker-compose 1.29 (the compose test: a real engine,
# ../shared/PEERS.md "Containers on these machines"), gcc + libc6-dev (the tests' loopback-only bind()
# shim for Chromium), and the real Dino with what it runs on (Xvfb, PulseAudio and its GStreamer
# sink/source, sqlite3 for its database, AT-SPI from Python to press its call button). `npm test`
# runs it first (pretest). Needs root to install; idempotent: skips apt when everything is present already.
set -euo pipefail
PACKAGES=(chromium coturn sip-tester dnsmasq-base baresip kamailio kamailio-websocket-modules prosody redis-server openssl buildah debootstrap
  podman runc conmon containernetworking-plugins golang-github-containernetworking-plugin-dnsname uidmap slirp4netns docker-compose
  gcc libc6-dev
  dino-im xvfb pulseaudio pulseaudio-utils gstreamer1.0-plugins-good gstreamer1.0-pulseaudio sqlite3 python3-pyatspi gir1.2-atspi-2.0)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "peers already installed: ${PACKAGES[*]}"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages, which only root can install: ${missing[*]}" >&2
  echo "Run once as root: bash scripts/install-peers.sh   (or: sudo bash scripts/install-peers.sh)" >&2
  exit 1
fi
echo "installing the tests' peers: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
