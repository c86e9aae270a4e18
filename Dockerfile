# syntax=docker/dockerfile:1
#
# Banca: one static-ish binary (rustls, embedded migrations and fonts) on Debian 12 slim.
#
#   docker build -t banca:local .
#   docker run --rm -p 3000:3000 --env-file .env banca:local
#
# The runtime image runs as the unprivileged user `banca` (uid 10001), listens on PORT (3000),
# and its HEALTHCHECK asks GET /api/v1/healthz (liveness). Point a load balancer's readiness
# check at GET /api/v1/readyz. APK releases are read from /app/public (APP_RELEASE_DIR): mount
# them there. See docs/deployment.md.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---- build -------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
# Only what the build reads (see .dockerignore). The registry and target folders are BuildKit
# cache mounts, so a rebuild after a source change recompiles only Banca itself.
COPY Cargo.toml Cargo.lock ./
COPY vendor ./vendor
COPY src ./src
COPY migrations ./migrations
COPY assets ./assets
# --locked: the image is built from exactly the committed Cargo.lock.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin banca \
    && install -D -m 0755 target/release/banca /out/banca

# ---- runtime -----------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# curl only for the HEALTHCHECK; ca-certificates for outbound TLS (Sentry, managed databases).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 banca \
    && useradd --system --uid 10001 --gid banca --home-dir /app --shell /usr/sbin/nologin banca \
    && mkdir -p /app/public/apk \
    && chown -R banca:banca /app
COPY --from=builder /out/banca /usr/local/bin/banca
WORKDIR /app
USER banca:banca
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    APP_RELEASE_DIR=/app/public \
    LOG_LEVEL=info
EXPOSE 3000
# Liveness only: a database outage must not make the orchestrator restart every instance.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS --max-time 2 "http://127.0.0.1:${PORT}/api/v1/healthz" >/dev/null || exit 1
# SIGTERM starts the drain (SHUTDOWN_TIMEOUT_MS, 30 s by default): give the container a longer
# stop timeout (compose: stop_grace_period: 40s; docker stop -t 40).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/banca"]
CMD ["serve"]
