# Build: the Swift toolchain image with libpq's headers.
FROM swift:6.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Everything the manifest names: SwiftPM refuses a package whose test targets' folders are missing, so
# Tests comes along although the image builds none of them. CI copies exactly these into an empty
# folder and resolves the package there (.ci/check-docker-context), since no Docker engine runs in CI.
COPY Package.swift ./
COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Tests ./Tests
COPY sql ./sql
RUN swift build -c release --product orderly --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/orderly" /orderly

# Run: a slim Debian with libpq. The migrations are compiled into the binary.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent orderly
COPY --from=build /orderly /usr/local/bin/orderly
# serve and worker open their HTTP side door (/healthz, /readyz, /metrics) on 9100 for Prometheus on
# the container network; `orderly probe` reads the same port for the health check.
ENV ORDERLY_HTTP_HOST=0.0.0.0 ORDERLY_HTTP_PORT=9100
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/orderly", "probe", "--path", "/readyz"]
USER orderly
ENTRYPOINT ["/usr/local/bin/orderly"]
CMD ["--help"]
