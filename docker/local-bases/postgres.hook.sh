#!/bin/sh
# mmdebstrap customize hook of tasdeed-postgres:15 (scripts/docker-bases.sh): no cluster made
# by the package, an empty PGDATA and socket folder owned by postgres, and the entrypoint.
set -eu
root=$1
here=$(dirname "$0")
rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15"
mkdir -p "$root/var/lib/postgresql/data" "$root/run/postgresql"
chmod 0700 "$root/var/lib/postgresql/data"
chmod 2775 "$root/run/postgresql"
chroot "$root" chown postgres:postgres /var/lib/postgresql/data /run/postgresql
install -m 0755 "$here/postgres-entrypoint.sh" "$root/usr/local/bin/postgres-entrypoint.sh"
