#!/usr/bin/env bash
# Property-based test of the whole /api/v1 surface against its own OpenAPI document
# (docs/api.md): schemathesis (from PyPI, into a venv under target/) drives a real `banca serve`
# on a fresh database (migrated, one ADMIN, the demo banca) as that ADMIN, and fails on any 5xx,
# any status the document does not list, any undocumented content type and any response body
# that does not match its schema. Exits non-zero on any failure.
#
# Environment (all optional):
#   TEST_DATABASE_URL           server to create the throwaway database on
#                               (default postgres://postgres@127.0.0.1:5432/postgres)
#   SCHEMATHESIS_MAX_EXAMPLES   generated cases per operation and phase (default 10)
#   SCHEMATHESIS_SEED           random seed (default 1: runs are reproducible)
#   SCHEMATHESIS_MODE           positive, negative or all (default all)
#   SCHEMATHESIS_WORKERS        concurrent workers (default 2)
#   BANCA_BIN                   a built binary to test instead of `cargo build`'s debug one
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[schemathesis] %s\n' "$*" >&2; }

SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-venv
ADMIN_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-10}
SEED=${SCHEMATHESIS_SEED:-1}
MODE=${SCHEMATHESIS_MODE:-all}
WORKERS=${SCHEMATHESIS_WORKERS:-2}
REPORT_DIR=target/schemathesis-report
started=$(date +%s)
mkdir -p "$REPORT_DIR"

# --- schemathesis, pinned, in its own venv --------------------------------------------------
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- the server binary ------------------------------------------------------------------------
if [ -z "${BANCA_BIN:-}" ]; then
  log "cargo build --bin banca"
  cargo build --locked --quiet --bin banca
  BANCA_BIN="${CARGO_TARGET_DIR:-target}/debug/banca"
fi

# --- a fresh database, dropped at exit ---------------------------------------------------------
DB_NAME="banca_schemathesis_$(date +%s)_$$"
DB_URL=$(python3 - "$ADMIN_URL" "$DB_NAME" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + sys.argv[2], u.query, u.fragment)))
EOF
)
SERVER_PID=""
WORK=$(mktemp -d)
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -f "$WORK/server.log" ]; then
    log "last server log lines:"
    tail -n 40 "$WORK/server.log" >&2 || true
  fi
  [ -f "$WORK/server.log" ] && cp "$WORK/server.log" "$REPORT_DIR/server.log" 2>/dev/null
  psql "$ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
psql "$ADMIN_URL" -qAtc "CREATE DATABASE \"$DB_NAME\"" >/dev/null

# The server's environment: no jobs behind the test's back, no rate limits (they would turn
# most of the run into 429s), no Redis.
export DATABASE_URL="$DB_URL" NODE_ENV=test JOBS_ENABLED=false RATE_LIMIT_ENABLED=false \
  LOG_LEVEL=warn
unset REDIS_URL DIRECT_URL DATABASE_REPLICA_URL

ADMIN_USER=schemathesis-admin
ADMIN_PASSWORD="st-$(date +%s%N)-pass"
"$BANCA_BIN" migrate >/dev/null
BANCA_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BANCA_BIN" create-admin --username "$ADMIN_USER" \
  --name "Schemathesis" >/dev/null
DEMO_PASSWORD="$ADMIN_PASSWORD" "$BANCA_BIN" seed-demo >"$WORK/seed.out" 2>/dev/null
BANCA_ID=$(sed -n 's/^demo banca ready: banca \([0-9a-f-]*\) .*/\1/p' "$WORK/seed.out")
[ -n "$BANCA_ID" ] || { log "seed-demo printed no banca id"; cat "$WORK/seed.out" >&2; exit 1; }

# --- the server ---------------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
PORT=$PORT HOST=127.0.0.1 "$BANCA_BIN" serve --no-jobs >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$BASE/api/v1/readyz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited"; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$BASE/api/v1/readyz" || { log "the server never got ready"; exit 1; }

TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"$ADMIN_USER\",\"password\":\"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["accessToken"])')

# --- the run --------------------------------------------------------------------------------
# Logout would close the session the run authenticates with; nothing else is left out.
log "schemathesis run against $BASE (mode $MODE, $MAX_EXAMPLES examples, seed $SEED)"
# The readiness polling above logged its 503s; only what follows is the run's.
log_start=$(wc -l <"$WORK/server.log")
set +e
"$VENV/bin/schemathesis" run "$BASE/api/v1/openapi.json" \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --header "X-Active-Banca-Id: $BANCA_ID" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/v1/auth/logout \
  --exclude-path /api/v1/auth/logout/all \
  --mode "$MODE" \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers "$WORKERS" \
  --generation-database none \
  --suppress-health-check all \
  --request-timeout 30 \
  --report junit --report-dir "$REPORT_DIR" \
  --no-color 2>&1 | tee "$WORK/schemathesis.out"
rc=${PIPESTATUS[0]}
set -e
log "finished in $(($(date +%s) - started)) s with exit code $rc (JUnit report in $REPORT_DIR)"
# Belt and braces: a 5xx or an ERROR line in the server's log fails the run even if
# schemathesis missed it (a 5xx is logged at WARN with its status, internal errors and panics at
# ERROR).
BAD_LINES='http.status"?[=:] ?5[0-9][0-9]|^[^ ]+ +ERROR '
tail -n +"$((log_start + 1))" "$WORK/server.log" >"$WORK/run.log"
server_errors=$(grep -cE "$BAD_LINES" "$WORK/run.log" || true)
if [ "$server_errors" != 0 ]; then
  log "the server logged $server_errors 5xx answer(s) or error(s) during the run:"
  grep -E "$BAD_LINES" "$WORK/run.log" | tail -n 20 >&2
  [ "$rc" != 0 ] || rc=1
fi
# A plain closing line with the counts of schemathesis' summary ("N generated, N passed, …").
python3 - "$WORK/schemathesis.out" "$server_errors" <<'EOF' || true
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
line = next((l for l in text.splitlines() if re.search(r"\d+ generated", l)), "")
def count(word):
    m = re.search(r"(\d+) " + word, line)
    return int(m.group(1)) if m else 0
failed = count("failed") + count("errored") + int(sys.argv[2])
if line:
    print(f"schemathesis: {count('passed')} passed, {failed} failed")
EOF
exit "$rc"
