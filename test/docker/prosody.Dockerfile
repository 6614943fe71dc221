# A local stand-in for prosody/prosody:0.12 (docker/compose.yaml's `prosody`
# service, profile xmpp) where no image registry is reachable: Debian's
# prosody package (0.12) on a local Debian base. Like the official image it
# runs prosody in the foreground as the prosody user, with the compose file's
# config mounted over /etc/prosody/prosody.cfg.lua and its data in
# /var/lib/prosody; the pid file's folder, which Debian's init script would
# make, is made here.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prosody \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/run/prosody \
 && chown prosody:prosody /var/run/prosody
USER prosody:prosody
ENTRYPOINT ["prosody", "-F"]
