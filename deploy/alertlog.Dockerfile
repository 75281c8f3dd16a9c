# alertlog, the webhook receiver of the docker-compose stack: it logs each
# alert Alertmanager sends and lists the last notifications on its page
# (cmd/alertlog). Built from the repository root:
#
#   docker build -f deploy/alertlog.Dockerfile -t alertlog .
#
# The build stage starts as the exporter's Dockerfile does, so the two
# builds share the Go image and the downloaded modules.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" \
      -o /out/ ./cmd/alertlog ./cmd/healthcheck

# Runtime: no shell, no package manager, uid 65532. healthcheck is for the
# container's healthcheck (see docker-compose.yml).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/alertlog /bin/alertlog
COPY --from=build /out/healthcheck /bin/healthcheck
USER 65532:65532
# The default --web.listen-address, ":9095".
EXPOSE 9095
ENTRYPOINT ["/bin/alertlog"]
