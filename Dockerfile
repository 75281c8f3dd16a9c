# influencer_exporter, running the built-in sandbox campaign by default:
#
#   docker build -t influencer_exporter .
#   docker run --rm -p 10194:10194 influencer_exporter
#
# For a real campaign, mount your configuration and token files over
# /etc/influencer_exporter (or point --config.file elsewhere).

# Build a static binary: no cgo, so it runs on distroless/static.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION}" \
      -o /out/influencer_exporter .
# The runtime image has no shell, curl or wget: its healthcheck runs this
# (see docker-compose.yml).
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" \
      -o /out/healthcheck ./cmd/healthcheck

# Runtime: no shell, no package manager, uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/influencer_exporter /bin/influencer_exporter
COPY --from=build /out/healthcheck /bin/healthcheck
# The sandbox campaign: its fakes listen on 127.0.0.1 inside the container,
# for the exporter only. token_file paths are relative to the config file.
COPY config.yaml /etc/influencer_exporter/config.yaml
COPY sandbox/tokens/ /etc/influencer_exporter/sandbox/tokens/
WORKDIR /etc/influencer_exporter
USER 65532:65532
# The default --web.listen-address, ":10194", listens on every interface.
EXPOSE 10194
ENTRYPOINT ["/bin/influencer_exporter"]
CMD ["--config.file=/etc/influencer_exporter/config.yaml"]
