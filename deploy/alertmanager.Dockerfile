# Alertmanager for the docker-compose stack: the pinned release with a time
# zone database. The time intervals of alerts/alertmanager.yml (and so of
# deploy/alertmanager.yml) have a location, which Alertmanager loads when it
# reads its configuration; the prom/alertmanager image has no zoneinfo and
# its binary embeds none, so it would refuse the configuration. Copying the
# database in keeps the stack free of host mounts (/usr/share/zoneinfo is
# not on every host, nor shared by Docker Desktop's VM).
#
# Go's own zoneinfo.zip is the database Go programs fall back to; ZONEINFO
# points Alertmanager's time package at it. The Go image is the one the
# exporter is built with, so the stack pulls it once.
FROM golang:1.26.8 AS go

FROM prom/alertmanager:v0.28.1
COPY --from=go /usr/local/go/lib/time/zoneinfo.zip /usr/local/go/lib/time/zoneinfo.zip
ENV ZONEINFO=/usr/local/go/lib/time/zoneinfo.zip
