#!/bin/sh
# Entrypoint of tasdeed-postgres:15 (scripts/docker-bases.sh: Debian's postgresql-15, for
# machines without Docker Hub). The official postgres image's interface, in short:
# POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB make the cluster in PGDATA on the first
# start (password authentication, local socket included); `postgres ARGS…` then runs it.
set -eu
bin=/usr/lib/postgresql/15/bin
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ "${1:-}" != postgres ]; then
  exec "$@"
fi
shift
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" > "$pwfile"
  "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    PGPASSWORD="$POSTGRES_PASSWORD"
    export PGPASSWORD
    "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses= -k /tmp" -w -s start
    "$bin/psql" -h /tmp -U "$user" -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE \"$POSTGRES_DB\""
    "$bin/pg_ctl" -D "$PGDATA" -w -s stop
    unset PGPASSWORD
  fi
  echo "postgres: cluster made in $PGDATA for $user"
fi
exec "$bin/postgres" -D "$PGDATA" "$@"
