# walletsim in a container: one static binary on a distroless base. Build
# from the repository root:
#   docker build -t walletsim .
# compose/docker-compose.yml builds it the same way.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first: the download layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO off: a static binary runs on the distroless base with no libc.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/walletsim/walletsim/internal/manifest.Version=${VERSION}" \
      -o /out/walletsim ./cmd/walletsim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/walletsim /usr/local/bin/walletsim
USER nonroot:nonroot
# 8080: serve's payment API; 9100: --metrics-addr in compose.
EXPOSE 8080 9100
ENTRYPOINT ["/usr/local/bin/walletsim"]
CMD ["--help"]
