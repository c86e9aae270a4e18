#!/bin/sh
# Writes PgBouncer's user list from the environment, then runs PgBouncer in the foreground.
set -eu
: "${BANCA_DB_PASSWORD:?set BANCA_DB_PASSWORD}"
CONF_DIR="${PGBOUNCER_CONF_DIR:-/etc/pgbouncer}"
umask 077
# userlist.txt quotes with "; a " inside the password is doubled.
password=$(printf '%s' "$BANCA_DB_PASSWORD" | sed 's/"/""/g')
printf '"banca" "%s"\n' "$password" > "$CONF_DIR/userlist.txt"
exec pgbouncer "$CONF_DIR/pgbouncer.ini"
