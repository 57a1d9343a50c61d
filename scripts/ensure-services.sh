#!/usr/bin/env bash
# Make sure the real PostgreSQL and Redis the tests talk to are up on 127.0.0.1.
# Starts them when installed but stopped; installs them from Debian's packages when
# missing and we are root; otherwise fails naming what is missing.
set -euo pipefail

PGHOST_=${TASDEED_PG_HOST:-127.0.0.1}
PGPORT_=${TASDEED_PG_PORT:-5432}
REDIS_PORT_=${TASDEED_REDIS_PORT:-6379}

say() { echo "ensure-services: $*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "MISSING: $* (not root or no apt-get: install it and start it on 127.0.0.1)"; exit 1
  fi
  say "installing $* from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h "$PGHOST_" -p "$PGPORT_" 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT_" ping 2>/dev/null)" = "PONG" ]; }

if ! command -v pg_isready >/dev/null; then apt_install postgresql; fi
if ! pg_up; then
  say "PostgreSQL not answering on $PGHOST_:$PGPORT_, starting it"
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    for ver in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    done
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  pg_up || { say "FAILED: PostgreSQL is not running on $PGHOST_:$PGPORT_ and could not be started"; exit 1; }
fi
# The tests connect as 'postgres' with trust auth on 127.0.0.1.
if ! psql -h "$PGHOST_" -p "$PGPORT_" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  say "FAILED: cannot connect to PostgreSQL as user 'postgres' on $PGHOST_:$PGPORT_ (trust auth expected)"; exit 1
fi

if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
if ! redis_up; then
  say "Redis not answering on 127.0.0.1:$REDIS_PORT_, starting it"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT_" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
  redis_up || { say "FAILED: Redis is not running on 127.0.0.1:$REDIS_PORT_ and could not be started"; exit 1; }
fi
say "PostgreSQL $PGHOST_:$PGPORT_ and Redis 127.0.0.1:$REDIS_PORT_ are up"
