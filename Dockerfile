# syntax=docker/dockerfile:1
#
# Open Badges server image.
#   docker build -t openbadges-server:latest .
#   docker run -p 3000:3000 -v openbadges-data:/data openbadges-server:latest
#   docker run --rm -e DB_TYPE=postgresql -e DATABASE_URL=postgres://... openbadges-server:latest migrate
#
# Without DB_TYPE the server uses SQLite at /data/openbadges.sqlite (a volume).

# ---- build -------------------------------------------------------------------
FROM rust:1-bookworm AS builder

# diesel's PostgreSQL backend links libpq.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The registry and target caches stay in BuildKit cache mounts, so the binary
# is copied out of the target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p openbadges-server \
 && install -D -m 0755 target/release/openbadges-server /out/openbadges-server

# ---- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 openbadges \
 && useradd --system --uid 10001 --gid openbadges --home-dir /data --shell /usr/sbin/nologin openbadges \
 && mkdir -p /data \
 && chown openbadges:openbadges /data

COPY --from=builder /out/openbadges-server /usr/local/bin/openbadges-server

ENV HOST=0.0.0.0 \
    PORT=3000 \
    SQLITE_FILE=/data/openbadges.sqlite

VOLUME ["/data"]
WORKDIR /data
USER openbadges
EXPOSE 3000

# GET /health over bash's /dev/tcp (the image has no curl); /health queries
# the database, so an unreachable database makes the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-3000} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 5 _ status _ <&3 && [ \"$status\" = 200 ]"]

ENTRYPOINT ["openbadges-server"]
CMD ["serve"]
