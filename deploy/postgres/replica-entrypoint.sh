#!/bin/sh
# Entrypoint of the streaming replica. On the first start (empty data folder) it clones the
# primary with pg_basebackup (-R writes primary_conninfo and standby.signal, -S uses the slot
# the primary's init script created); afterwards it just starts PostgreSQL, which resumes
# streaming where it stopped.
set -eu

: "${PRIMARY_HOST:?set PRIMARY_HOST}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "replica: cloning $PRIMARY_HOST with pg_basebackup"
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  until gosu postgres pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -q; do
    echo "replica: waiting for $PRIMARY_HOST"
    sleep 2
  done
  # The password reaches pg_basebackup through the environment, never the command line.
  gosu postgres env PGPASSWORD="$REPLICATION_PASSWORD" \
    pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U replicator -D "$PGDATA" \
      -X stream -S banca_replica -R --checkpoint=fast --progress
fi

# The image's entrypoint sees an initialised folder and starts the server (as postgres).
exec docker-entrypoint.sh postgres -c hot_standby=on "$@"
