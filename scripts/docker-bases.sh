#!/usr/bin/env bash
# Local base images for machines that cannot reach Docker Hub, made from Debian bookworm's
# packages with mmdebstrap and `docker import` (nothing else is downloaded):
#   tasdeed-base:bookworm      python3 (3.11) + venv: BASE_IMAGE of docker/Dockerfile
#   tasdeed-rasa-base:py3.10   this machine's pyenv Python 3.10 on bookworm's shared libraries:
#                              RASA_BASE of docker/Dockerfile.rasa (Debian ships no 3.10)
#   tasdeed-postgres:15        postgresql-15, with an entrypoint that reads POSTGRES_USER,
#                              POSTGRES_PASSWORD and POSTGRES_DB as the official image does
#   tasdeed-redis:7            redis-server (7.0)
#   tasdeed-haproxy:2.6        haproxy, reading /usr/local/etc/haproxy/haproxy.cfg
# An image that exists is kept; REBUILD_BASES=1 makes them again. `scripts/docker-bases.sh
# NAME…` makes only those (base, rasa-base, postgres, redis, haproxy). Needs root.
set -euo pipefail

export PY310=${PY310:-/root/.pyenv/versions/3.10.13}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUITE=bookworm
MIRRORS=(
  "deb http://deb.debian.org/debian $SUITE main"
  "deb http://deb.debian.org/debian $SUITE-updates main"
  "deb http://deb.debian.org/debian-security $SUITE-security main"
)
# No documentation, manual pages or translations in the images.
SLIM=(
  --dpkgopt=path-exclude=/usr/share/doc/*
  --dpkgopt=path-include=/usr/share/doc/*/copyright
  --dpkgopt=path-exclude=/usr/share/man/*
  --dpkgopt=path-exclude=/usr/share/info/*
  --dpkgopt=path-exclude=/usr/share/locale/*
  --dpkgopt=path-exclude=/usr/share/lintian/*
)

say() { echo "docker-bases: $*" >&2; }

# make <image> <packages> [mmdebstrap options …] -- [docker import --change …]
make_image() {
  local image=$1 packages=$2
  shift 2
  local hooks=() changes=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do hooks+=("$1"); shift; done
  [ "$#" -gt 0 ] && shift
  for change in "$@"; do changes+=(--change "$change"); done
  if [ "${REBUILD_BASES:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
    say "$image: present (REBUILD_BASES=1 makes it again)"
    return
  fi
  local started=$SECONDS
  say "$image: mmdebstrap $SUITE minbase + $packages"
  local tarball="$WORK/${image//[:\/]/-}.tar"
  mmdebstrap --quiet --variant=minbase --include="$packages" "${SLIM[@]}" "${hooks[@]}" \
    "$SUITE" "$tarball" "${MIRRORS[@]}"
  docker import "${changes[@]}" --message "mmdebstrap $SUITE: $packages" "$tarball" "$image" \
    >/dev/null
  rm -f "$tarball"
  say "$image: imported in $((SECONDS - started)) s"
}

base() {
  make_image tasdeed-base:bookworm python3,python3-venv,passwd,libstdc++6 -- \
    'ENV LANG=C.UTF-8' 'CMD ["python3"]'
}

rasa_base() {
  [ -x "$PY310/bin/python3.10" ] || { say "MISSING: a Python 3.10 at $PY310 (PY310=…)"; exit 1; }
  # The libraries the interpreter and its extension modules link (ldd over lib-dynload), less
  # Tk and X11 (no tkinter in a server image); C++ and OpenMP runtimes for TensorFlow's wheels.
  local libs=libbz2-1.0,libexpat1,libffi8,liblzma5,libncursesw6,libnsl2,libreadline8
  libs+=,libsqlite3-0,libssl3,libuuid1,zlib1g,libbsd0,libstdc++6,libgomp1,passwd
  make_image tasdeed-rasa-base:py3.10 "$libs" \
    --customize-hook="$ROOT/docker/local-bases/rasa-base.hook.sh" \
    -- 'ENV LANG=C.UTF-8' 'CMD ["python3"]'
}

postgres() {
  # --skip=cleanup/run keeps /run/postgresql (the socket folder) in the image.
  make_image tasdeed-postgres:15 postgresql-15 --skip=cleanup/run \
    --customize-hook="$ROOT/docker/local-bases/postgres.hook.sh" \
    -- 'USER postgres' 'ENV LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data' \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
    'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]' 'CMD ["postgres"]'
}

redis() {
  make_image tasdeed-redis:7 redis-server \
    --customize-hook='mkdir -p "$1/data" && chroot "$1" chown redis:redis /data' \
    -- 'USER redis' 'WORKDIR /data' 'CMD ["redis-server"]'
}

haproxy() {
  make_image tasdeed-haproxy:2.6 haproxy \
    --customize-hook='mkdir -p "$1/usr/local/etc/haproxy"' \
    -- 'USER haproxy' \
    'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'
}

if [ "$(id -u)" != 0 ]; then say "run as root (mmdebstrap, docker)"; exit 1; fi
command -v mmdebstrap >/dev/null || { say "MISSING: mmdebstrap (apt-get install it)"; exit 1; }
WORK=$(mktemp -d /tmp/tasdeed-bases.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=(base rasa-base postgres redis haproxy)
for name in "${wanted[@]}"; do
  case "$name" in
    base) base ;;
    rasa-base) rasa_base ;;
    postgres) postgres ;;
    redis) redis ;;
    haproxy) haproxy ;;
    *) say "unknown image '$name' (base, rasa-base, postgres, redis, haproxy)"; exit 64 ;;
  esac
done
