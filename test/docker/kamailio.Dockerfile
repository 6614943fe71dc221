# A local stand-in for kamailio/kamailio-ci:5.8 (docker/compose.yaml's
# `kamailio` service, profile sip) where no image registry is reachable:
# Debian's kamailio package (5.6) on a local Debian base. The compose file
# sets the entry point itself (kamailio -DD -E -f <its config>), and the lab
# config names no module path, so Debian's built-in one is used.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio \
 && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["kamailio", "-DD", "-E"]
