#!/bin/sh
# Runs once, when the primary's data folder is created (docker-entrypoint-initdb.d), as the
# superuser: creates Banca's role and database and the replication role, a physical replication
# slot for the replica, and lets the replication role connect. (No `set -u`: the image sources
# init scripts that are not executable, and -u would then leak into its own entrypoint.)
set -e

: "${BANCA_DB_PASSWORD:?set BANCA_DB_PASSWORD}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v banca_password="$BANCA_DB_PASSWORD" \
  -v replication_password="$REPLICATION_PASSWORD" <<'SQL'
-- Banca's own role owns its database (it creates the trusted citext extension itself).
CREATE ROLE banca LOGIN PASSWORD :'banca_password';
CREATE DATABASE banca OWNER banca;
REVOKE ALL ON DATABASE banca FROM PUBLIC;
-- Streaming replication.
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
SELECT pg_create_physical_replication_slot('banca_replica');
SQL

# Replication connections are not covered by the image's "host all all all" line.
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
