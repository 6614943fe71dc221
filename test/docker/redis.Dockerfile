# A local stand-in for redis:7-alpine (docker/compose.yaml's `redis` service)
# where no image registry is reachable: Debian's redis-server package (and
# redis-cli, for the compose file's healthcheck) on a local Debian base.
# The official image's entry point turns protected mode off when redis-server
# runs without a config file, so that clients on other containers or through
# a published port are served; this one does the same.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/*
RUN printf '#!/bin/sh\nif [ "$1" = redis-server ]; then shift; exec redis-server "$@" --protected-mode no; fi\nexec "$@"\n' > /usr/local/bin/redis-entry \
 && chmod 755 /usr/local/bin/redis-entry
USER redis:redis
ENTRYPOINT ["/usr/local/bin/redis-entry"]
CMD ["redis-server"]
