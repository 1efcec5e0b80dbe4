# syntax=docker/dockerfile:1
#
# periscope-sunset as one multi-arch image: linux/arm64 (Graviton) and
# linux/amd64. The build stage runs on the build machine's own platform and
# cross-compiles a static binary (CGO_ENABLED=0), so building the arm64
# image needs no emulation:
#
#   docker buildx build --platform linux/arm64,linux/amd64 \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     -t "$IMAGE" --push .
#
# The runtime stage is Debian slim with CA certificates (for S3 over TLS)
# and ffmpeg (for remuxing), running as an unprivileged user.
# deploy/dockerfile_test.go checks these essentials; scripts/test-image
# builds this file with buildah and runs the image; docs/fleet.md is the
# runbook.

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=bookworm

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Set by buildx for each platform of --platform.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/periscope-sunset ./cmd/periscope-sunset

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates ffmpeg \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric id, so Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 sunset \
 && useradd --system --uid 10001 --gid sunset --home-dir /home/sunset --create-home \
      --shell /usr/sbin/nologin sunset
COPY --from=build /out/periscope-sunset /usr/local/bin/periscope-sunset
USER 10001:10001
WORKDIR /home/sunset
ENTRYPOINT ["periscope-sunset"]
CMD ["--help"]
