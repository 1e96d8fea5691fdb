# syntax=docker/dockerfile:1
# TokenCentral: tokend (the worker), tokenctl (status, forced refresh) and wechat-mock (the fake
# WeChat used by docker-compose.yml) in one small Debian image.
#
#   docker build -t tokencentral .
#   docker run --rm -v $PWD/tokend.yaml:/etc/tokend/tokend.yaml:ro -e WECHAT_SECRET_...=... tokencentral
#
# Swift 6.2 or later: the dependencies declare swift-tools-version 6.2.
ARG SWIFT_VERSION=6.2

# ---- build: the same `swift build -c release` as `make release` (make test checks it stays so) ----
FROM swift:${SWIFT_VERSION}-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's own versions of bookworm: pinning them would break on every point release.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libhiredis-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Dependencies first: this layer is reused until Package.swift (or Package.resolved) changes.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release
# Stage the three binaries and the Swift runtime libraries they link (Foundation, Concurrency, ...).
WORKDIR /staging
RUN bin="$(swift build --package-path /build -c release --show-bin-path)" \
    && mkdir -p bin lib \
    && cp "$bin/tokend" "$bin/tokenctl" "$bin/wechat-mock" bin/ \
    && ldd bin/* | awk '$3 ~ /^\/usr\/lib\/swift\// { print $3 }' | sort -u | xargs -r cp -t lib/ \
    && test -s lib/libswiftCore.so \
    && cp /usr/libexec/swift/linux/swift-backtrace-static bin/

# ---- runtime: Debian slim, hiredis, CA certificates (api.weixin.qq.com is HTTPS), non-root ----
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libhiredis0.14 libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin tokend
COPY --from=build /staging/lib/ /usr/lib/swift/linux/
RUN echo /usr/lib/swift/linux > /etc/ld.so.conf.d/swift.conf && ldconfig
COPY --from=build /staging/bin/ /usr/local/bin/
# Readable crash reports without a debugger.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/bin/swift-backtrace-static
USER 10001:10001
WORKDIR /tmp
# The HTTP API (http.port); set http.host to 0.0.0.0 in the config you mount, with http.api_key_file
# (or http.allow_unauthenticated: true on a trusted network: tokend refuses to start otherwise).
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/tokend"]
CMD ["--config", "/etc/tokend/tokend.yaml"]
