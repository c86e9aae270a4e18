#!/usr/bin/env bash
# Runs the docker-compose.yml topology without Docker, from this machine's PostgreSQL 15,
# PgBouncer and nginx (Debian's packages), on loopback ports, with the very files in deploy/:
#
#   primary (primary-init.sh) ─ streaming ─> replica (replica-entrypoint.sh: pg_basebackup)
#   pgbouncer (pgbouncer.ini, entrypoint.sh) ─> primary
#   `banca migrate` (DIRECT_URL), `banca create-admin`
#   two `banca serve` (DATABASE_URL via PgBouncer, DIRECT_URL, DATABASE_URL_REPLICA, REDIS_URL)
#   nginx (banca.conf) ─> both instances
#
# and checks that replication streams, both instances are ready with the replica and Redis up,
# the proxy spreads requests over both, a login through the proxy works, a report is read on
# the replica, the APK is downloaded intact (whole and by range) through the proxy with the
# proxy's host and port in its URL, and both instances stop cleanly (exit 0) on SIGTERM.
# Everything is stopped and removed at the end, whatever happens.
#
# Usage (as root, which the PostgreSQL and PgBouncer steps need for `runuser -u postgres`):
#   deploy/smoke-test.sh [path/to/banca]        default: target/debug/banca
# Needs: PostgreSQL 15 server binaries, pgbouncer, psql, curl, python3, redis on 127.0.0.1:6379
# (optional: without it the Redis check is skipped); nginx is taken from Debian's package
# (downloaded and unpacked, not installed) when it is not on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BANCA=$(realpath "${1:-target/debug/banca}")
PGBIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d | sort -V | tail -n 1)

log() { printf '[smoke] %s\n' "$*"; }
fail() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || fail "run as root (PostgreSQL and PgBouncer run as the postgres account)"
[ -x "$BANCA" ] || fail "no banca binary at $BANCA (cargo build first)"

W=$(mktemp -d /tmp/banca-smoke.XXXXXX)
chmod 0755 "$W"
chown postgres:postgres "$W"
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
  [ -f "$W/pgb/pgbouncer.pid" ] && kill "$(cat "$W/pgb/pgbouncer.pid")" 2>/dev/null
  [ -f "$W/replica/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$W/replica" -m fast stop >/dev/null 2>&1
  [ -f "$W/primary/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$W/primary" -m fast stop >/dev/null 2>&1
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ "${KEEP:-0}" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

P_PRIMARY=$(free_port); P_REPLICA=$(free_port); P_BOUNCER=$(free_port)
P_B1=$(free_port); P_B2=$(free_port); P_PROXY=$(free_port)
SUPER_PW=pg-super-$RANDOM; BANCA_PW=banca-$RANDOM; REPL_PW=repl-$RANDOM

# ---- primary ----------------------------------------------------------------------------
log "primary on :$P_PRIMARY"
printf '%s\n' "$SUPER_PW" > "$W/superpw"; chown postgres "$W/superpw"
as_pg "$PGBIN/initdb" -D "$W/primary" -U postgres --pwfile="$W/superpw" \
  --auth-local=trust --auth-host=scram-sha-256 >/dev/null
mkdir -p "$W/wal"; chown postgres:postgres "$W/wal"
# The same settings as the compose file's primary.
as_pg "$PGBIN/pg_ctl" -D "$W/primary" -l "$W/primary.log" -w -o "-p $P_PRIMARY -k $W \
  -c listen_addresses=127.0.0.1 -c wal_level=replica -c max_wal_senders=10 \
  -c max_replication_slots=10 -c hot_standby=on -c archive_mode=on \
  -c archive_command='test ! -f $W/wal/%f && cp %p $W/wal/%f'" start >/dev/null
# The image runs init scripts over the Unix socket as POSTGRES_USER, then restarts the server.
as_pg env POSTGRES_USER=postgres PGDATA="$W/primary" PGHOST="$W" PGPORT="$P_PRIMARY" \
  BANCA_DB_PASSWORD="$BANCA_PW" REPLICATION_PASSWORD="$REPL_PW" \
  sh "$ROOT/deploy/postgres/primary-init.sh" >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$W/primary" reload >/dev/null

# ---- replica (the entrypoint script as is; gosu and the image's entrypoint are stubs) -------
log "replica on :$P_REPLICA (pg_basebackup through replica-entrypoint.sh)"
mkdir -p "$W/bin"
cat > "$W/bin/gosu" <<'EOF'
#!/bin/sh
user=$1; shift; exec runuser -u "$user" -- "$@"
EOF
cat > "$W/bin/docker-entrypoint.sh" <<EOF
#!/bin/sh
shift  # "postgres"
exec runuser -u postgres -- "$PGBIN/postgres" -D "\$PGDATA" -p $P_REPLICA -k $W -c listen_addresses=127.0.0.1 "\$@"
EOF
chmod +x "$W/bin/gosu" "$W/bin/docker-entrypoint.sh"
(exec env PATH="$W/bin:$PGBIN:$PATH" PGDATA="$W/replica" PRIMARY_HOST=127.0.0.1 \
  PRIMARY_PORT="$P_PRIMARY" REPLICATION_PASSWORD="$REPL_PW" \
  sh "$ROOT/deploy/postgres/replica-entrypoint.sh" >"$W/replica.log" 2>&1) &
PIDS+=($!)
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$P_REPLICA" && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p "$P_REPLICA" || { cat "$W/replica.log"; fail "replica did not start"; }
export PGPASSWORD="$SUPER_PW"
in_recovery=$(psql -h 127.0.0.1 -p "$P_REPLICA" -U postgres -d postgres -Atc 'select pg_is_in_recovery()')
[ "$in_recovery" = t ] || fail "replica is not in recovery"
streaming=$(psql -h 127.0.0.1 -p "$P_PRIMARY" -U postgres -d postgres -Atc \
  "select count(*) from pg_stat_replication r join pg_replication_slots s on s.active_pid = r.pid
   where r.state = 'streaming' and s.slot_name = 'banca_replica'")
[ "$streaming" = 1 ] || fail "no streaming replication through slot banca_replica"
unset PGPASSWORD

# ---- pgbouncer (pgbouncer.ini with the host and ports of this run) --------------------------
log "pgbouncer on :$P_BOUNCER"
mkdir -p "$W/pgb"
sed -e "s/^banca = host=postgres-primary port=5432/banca = host=127.0.0.1 port=$P_PRIMARY/" \
    -e "s/^listen_addr = .*/listen_addr = 127.0.0.1/" \
    -e "s/^listen_port = .*/listen_port = $P_BOUNCER/" \
    -e "s#^auth_file = .*#auth_file = $W/pgb/userlist.txt#" \
    "$ROOT/deploy/pgbouncer/pgbouncer.ini" > "$W/pgb/pgbouncer.ini"
grep -q "port=$P_PRIMARY" "$W/pgb/pgbouncer.ini" || fail "pgbouncer.ini's [databases] line changed"
printf 'logfile = %s/pgb/pgbouncer.log\npidfile = %s/pgb/pgbouncer.pid\n' "$W" "$W" >> "$W/pgb/pgbouncer.ini"
chown -R postgres:postgres "$W/pgb"
(exec runuser -u postgres -- env BANCA_DB_PASSWORD="$BANCA_PW" PGBOUNCER_CONF_DIR="$W/pgb" \
  sh "$ROOT/deploy/pgbouncer/entrypoint.sh" >/dev/null 2>&1) &
PIDS+=($!)
for _ in $(seq 1 40); do pg_isready -q -h 127.0.0.1 -p "$P_BOUNCER" && break; sleep 0.25; done
mode=$(PGPASSWORD="$BANCA_PW" psql -h 127.0.0.1 -p "$P_BOUNCER" -U banca -d banca -Atc 'select current_user') \
  || { cat "$W/pgb/pgbouncer.log"; fail "no login through pgbouncer"; }
[ "$mode" = banca ] || fail "unexpected user through pgbouncer: $mode"

# ---- banca ------------------------------------------------------------------------------
DB="postgres://banca:$BANCA_PW@127.0.0.1"
common_env=(
  NODE_ENV=production
  "DATABASE_URL=$DB:$P_BOUNCER/banca?pgbouncer=true&connection_limit=10"
  "DIRECT_URL=$DB:$P_PRIMARY/banca?connection_limit=3"
  "DATABASE_URL_REPLICA=$DB:$P_REPLICA/banca?connection_limit=5"
  JWT_ACCESS_SECRET=smoke-access-secret-0123456789abcdef0123
  JWT_REFRESH_SECRET=smoke-refresh-secret-0123456789abcdef012
  CORS_ORIGIN=https://admin.example.com
  TRUST_PROXY=1
  AUTO_MIGRATE=false
  "APP_RELEASE_DIR=$W/public"
  LOG_LEVEL=info
)
if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  common_env+=("REDIS_URL=redis://127.0.0.1:6379/0" "REDIS_PREFIX=smoke-$RANDOM:")
  REDIS=up
else
  REDIS=not_configured
  log "no Redis on 127.0.0.1:6379: running without it"
fi
run_banca() { env -i PATH="$PATH" HOME="$W" "${common_env[@]}" "$@"; }

log "banca migrate (DIRECT_URL)"
run_banca "$BANCA" migrate >"$W/migrate.log" 2>&1 || { cat "$W/migrate.log"; fail "migrate"; }
run_banca BANCA_ADMIN_PASSWORD=smoke-admin-pw-1 "$BANCA" create-admin --username smoke.admin \
  >"$W/admin.log" 2>&1 || { cat "$W/admin.log"; fail "create-admin"; }

mkdir -p "$W/public/apk"
head -c 2000000 /dev/urandom > "$W/public/apk/app-armeabi-v7a-release.apk"
APK_SHA=$(sha256sum "$W/public/apk/app-armeabi-v7a-release.apk" | cut -d' ' -f1)
printf '{"versionName":"1.0.14","versionCode":20,"forceUpdate":false}\n' > "$W/public/latest.json"

for n in 1 2; do
  port_var=P_B$n
  log "banca-$n on :${!port_var}"
  # exec: $! is banca itself, so the SIGTERM below reaches it.
  (exec env -i PATH="$PATH" HOME="$W" "${common_env[@]}" HOST=127.0.0.1 PORT="${!port_var}" \
    HOSTNAME="banca-$n" "$BANCA" serve >"$W/banca-$n.log" 2>&1) &
  PIDS+=($!)
  eval "BANCA_PID_$n=$!"
done
for n in 1 2; do
  port_var=P_B$n
  ok=0
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:${!port_var}/api/v1/readyz" >"$W/ready-$n.json" 2>/dev/null; then ok=1; break; fi
    sleep 0.25
  done
  [ $ok = 1 ] || { tail -n 30 "$W/banca-$n.log"; fail "banca-$n not ready"; }
  python3 - "$W/ready-$n.json" "$REDIS" <<'EOF' || fail "banca-$n readiness checks"
import json, sys
d = json.load(open(sys.argv[1]))["data"]["checks"]
assert d["primary"] == "up", d
assert d["replica"] == "up", d
assert d["redis"] == sys.argv[2], d
EOF
done
log "both instances ready: primary up, replica up, redis $REDIS"

# ---- nginx ------------------------------------------------------------------------------
NGINX=$(command -v nginx || true)
if [ -z "$NGINX" ]; then
  log "nginx from Debian's package (unpacked under $W, not installed)"
  (cd "$W" && apt-get download nginx >/dev/null 2>&1 && dpkg -x nginx_*.deb nginx-root) \
    || fail "cannot get nginx (apt-get update first?)"
  NGINX="$W/nginx-root/usr/sbin/nginx"
fi
mkdir -p "$W/nginx/conf.d" "$W/nginx/tmp"
sed -e "s/server banca-1:3000/server 127.0.0.1:$P_B1/" -e "s/server banca-2:3000/server 127.0.0.1:$P_B2/" \
    -e "s/^    listen 80;/    listen 127.0.0.1:$P_PROXY;/" -e "/^    listen \[::\]:80;/d" \
    "$ROOT/deploy/nginx/banca.conf" > "$W/nginx/conf.d/banca.conf"
cat > "$W/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 128; }
http {
    default_type application/octet-stream;
    access_log $W/nginx/access.log;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    include $W/nginx/conf.d/*.conf;
}
EOF
chown -R postgres:postgres "$W/nginx"
as_pg "$NGINX" -t -p "$W/nginx" -c "$W/nginx/nginx.conf" 2>&1 | tail -n 1
as_pg "$NGINX" -p "$W/nginx" -c "$W/nginx/nginx.conf"
for _ in $(seq 1 40); do curl -fsS "http://127.0.0.1:$P_PROXY/api/v1/healthz" >/dev/null 2>&1 && break; sleep 0.25; done
PROXY="http://127.0.0.1:$P_PROXY"
log "nginx on :$P_PROXY"

# Spread: 20 requests through the proxy reach both instances.
for _ in $(seq 1 20); do curl -fsS "$PROXY/api/v1/healthz" >/dev/null; done
c1=$(grep -c '/api/v1/healthz' "$W/banca-1.log" || true)
c2=$(grep -c '/api/v1/healthz' "$W/banca-2.log" || true)
{ [ "$c1" -gt 0 ] && [ "$c2" -gt 0 ]; } || fail "the proxy did not spread requests (banca-1: $c1, banca-2: $c2)"
log "proxy spread 20 requests: banca-1 logged $c1, banca-2 logged $c2"

# Login (through PgBouncer), then a report (on the replica).
token=$(curl -fsS -H 'content-type: application/json' \
  -d '{"username":"smoke.admin","password":"smoke-admin-pw-1"}' "$PROXY/api/v1/auth/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])') \
  || fail "login through the proxy"
source=$(curl -fsS -H "authorization: Bearer $token" "$PROXY/api/v1/admin/dashboard" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin).get("meta",{}).get("source"))') \
  || fail "dashboard through the proxy"
[ "$source" = replica ] || fail "the dashboard was not read on the replica (meta.source=$source)"
log "login via PgBouncer ok; dashboard meta.source=replica"

# The replica has the admin row written on the primary.
users=$(PGPASSWORD="$SUPER_PW" psql -h 127.0.0.1 -p "$P_REPLICA" -U postgres -d banca -Atc \
  "select count(*) from users where username = 'smoke.admin'")
[ "$users" = 1 ] || fail "the replica does not have the primary's rows"

# APK through the proxy: URL with the proxy's host:port, bytes intact, ranges, no compression.
url=$(curl -fsS "$PROXY/api/v1/app/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["downloadUrl"])')
[ "$url" = "$PROXY/api/v1/app/download?abi=armeabi-v7a" ] || fail "downloadUrl is $url"
got=$(curl -fsS -H 'accept-encoding: gzip' "$url" | sha256sum | cut -d' ' -f1)
[ "$got" = "$APK_SHA" ] || fail "APK through the proxy differs"
part=$(curl -fsS -o /dev/null -w '%{http_code} %{size_download}' -H 'range: bytes=1000-1999' "$url")
[ "$part" = "206 1000" ] || fail "range through the proxy: $part"
enc=$(curl -fsS -o /dev/null -D - -H 'accept-encoding: gzip' "$url" | tr -d '\r' | grep -ci '^content-encoding:' || true)
[ "$enc" = 0 ] || fail "the APK was compressed"
log "APK via proxy: downloadUrl $url, sha256 ok, range 206, not compressed"

# Clean stop.
for n in 1 2; do
  pid_var=BANCA_PID_$n
  kill -TERM "${!pid_var}"
done
for n in 1 2; do
  pid_var=BANCA_PID_$n
  code=0; wait "${!pid_var}" || code=$?
  [ "$code" = 0 ] || { tail -n 20 "$W/banca-$n.log"; fail "banca-$n exited $code on SIGTERM"; }
done
log "both instances exited 0 on SIGTERM"
log "all checks passed"
