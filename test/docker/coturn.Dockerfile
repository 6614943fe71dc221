# A local stand-in for coturn/coturn (docker/compose.yaml's `coturn` service)
# where no image registry is reachable: Debian's coturn package on a local
# Debian base. Like the official image, the entry point is turnserver, so the
# compose file's `command:` (its flags) reaches it unchanged, and it runs
# unprivileged.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends coturn \
 && rm -rf /var/lib/apt/lists/*
USER turnserver:turnserver
ENTRYPOINT ["turnserver"]
