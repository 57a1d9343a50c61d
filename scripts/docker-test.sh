#!/usr/bin/env bash
# `make docker-test`: build the images and run docker/compose.yaml on this machine, then pay
# once by USSD and once by chat through its HAProxy, check the receipts and the ledger, and
# take the stack down (`down -v`, whatever happened).
#
# Host networking, every container on 127.0.0.1 (docker/test_stack.py derives the compose file:
# ports from DOCKER_TEST_PORT_BASE, 28700 by default). Base images from Debian's packages
# (scripts/docker-bases.sh: Docker Hub is not needed), Python packages from the wheelhouse
# (`make wheelhouse`), the model from `make model`; PostgreSQL, Redis and HAProxy are the
# stack's own containers. Secrets are random for each run and live only in the environment.
# Needs root (dockerd, apt-get, mmdebstrap); installs docker.io, docker-compose (v1, Debian's)
# and mmdebstrap when missing and starts dockerd when it is not running.
set -euo pipefail
cd "$(dirname "$0")/.."
STARTED=$SECONDS
OUT=var/docker-test
PY=.venv/bin/python
export DOCKER_TEST_PROJECT=${DOCKER_TEST_PROJECT:-tasdeed-test}
export COMPOSE_PROJECT_NAME=$DOCKER_TEST_PROJECT

say() { printf '\n== docker-test [%4d s] %s\n' "$((SECONDS - STARTED))" "$*"; }

ensure_tools() {
  local missing=()
  command -v docker >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then echo "docker-test: MISSING ${missing[*]} (run as root)" >&2; exit 1; fi
    say "installing ${missing[*]} from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then echo "docker-test: dockerd is not running" >&2; exit 1; fi
    say "starting dockerd (log: /tmp/dockerd.log)"
    nohup dockerd >/tmp/dockerd.log 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "docker-test: dockerd did not start" >&2; exit 1; }
  fi
  echo "$(docker --version); server $(docker info --format '{{.ServerVersion}}');" \
    "$(docker-compose version --short | sed 's/^/docker-compose /')"
}

dc() { docker-compose --ansi never -p "$DOCKER_TEST_PROJECT" -f "$OUT/compose.yaml" "$@"; }

up() {  # up [service…]: `up -d`, its progress lines left out
  local log
  log=$(dc up -d "$@" 2>&1 | tr -d '\r') || { echo "$log"; return 1; }
  echo "started: $(grep -E '^Creating .* done$' <<<"$log" | awk '{print $2}' \
    | sed -E "s/^${DOCKER_TEST_PROJECT}_//; s/_[0-9]+$//" | paste -sd' ')"
}

teardown() {
  local status=$?
  trap - EXIT
  if [ "$status" != 0 ] && [ -f "$OUT/compose.yaml" ]; then
    say "FAILED (status $status): the last log lines of each container"
    dc logs --no-color --tail=25 2>&1 | grep -v '^Attaching' || true
  fi
  if [ -f "$OUT/compose.yaml" ]; then
    say "down -v"
    dc down -v --remove-orphans 2>&1 | tr -d '\r' | grep -vE '\.\.\. *(done)?$|^Removing network' || true
    local left
    left=$(docker ps -aq --filter "label=com.docker.compose.project=$DOCKER_TEST_PROJECT" | wc -l)
    echo "containers of $DOCKER_TEST_PROJECT left: $left"
  fi
  say "images"
  docker image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.Size}}\t{{.CreatedSince}}' \
    | grep -E '^(REPOSITORY|tasdeed)' || true
  say "$([ "$status" = 0 ] && echo PASSED || echo FAILED) in $((SECONDS - STARTED)) s"
  exit "$status"
}

say "tools"
ensure_tools

say "base images from Debian's packages (scripts/docker-bases.sh)"
scripts/docker-bases.sh
export BASE_IMAGE=tasdeed-base:bookworm RASA_BASE=tasdeed-rasa-base:py3.10
export POSTGRES_IMAGE=tasdeed-postgres:15 REDIS_IMAGE=tasdeed-redis:7
export HAPROXY_IMAGE=tasdeed-haproxy:2.6
export TASDEED_IMAGE=tasdeed:latest RASA_IMAGE=tasdeed-rasa:latest
export TASDEED_PROFILE=${TASDEED_PROFILE:-eg}

say "secrets (random, this run only) and the compose file for host networking"
eval "$($PY docker/test_stack.py secrets)"
mkdir -p "$OUT"
$PY docker/test_stack.py compose "$OUT"
dc config -q
trap teardown EXIT
dc down -v --remove-orphans >/dev/null 2>&1 || true  # what a killed run left behind

build() {  # build <Dockerfile>: the build's steps, its log's tail when it fails
  local service log
  service=$($PY docker/test_stack.py builder "$OUT" "$1")
  log="$OUT/build-$service.log"
  if ! dc build "$service" >"$log" 2>&1; then tail -40 "$log"; return 1; fi
  grep -E '^(Step [0-9]+/[0-9]+ : (FROM|RUN|COPY)|Successfully tagged)' "$log" | cut -c1-150
}

say "build tasdeed:latest (docker/Dockerfile, wheels from docker/wheelhouse/py311)"
build docker/Dockerfile

# The model may be in training by someone else: `make model` and the build that copies it
# run under the lock every training here takes (flock /tmp/tasdeed-model.lock make model).
say "make model; build tasdeed-rasa:latest (docker/Dockerfile.rasa, wheels from py310)"
exec 9>/tmp/tasdeed-model.lock
flock 9
if ! make --no-print-directory model >"$OUT/make-model.log" 2>&1; then
  tail -5 "$OUT/make-model.log"
  [ -f var/models/tasdeed.tar.gz ] || exit 1
  echo "docker-test: WARNING: make model failed; the image takes the model already there"
fi
ls -l var/models/tasdeed.tar.gz
build docker/Dockerfile.rasa
exec 9>&-

say "up: postgres, redis; the demo ledger seeded from the host"
up postgres redis
$PY docker/test_stack.py wait --timeout 120
# Production refuses demo data, so the ledger is seeded from here (TASDEED_ENV=development).
DATABASE_URL="postgresql+asyncpg://tasdeed:${POSTGRES_PASSWORD}@127.0.0.1:$((${DOCKER_TEST_PORT_BASE:-28700} + 32))/tasdeed" \
  TASDEED_ENV=development LOG_JSON=false LOG_LEVEL=WARNING $PY -m billing prepare

say "up: everything else (production mode, read-only roots, 127.0.0.1 only)"
up
$PY docker/test_stack.py wait --timeout "${DOCKER_TEST_WAIT_S:-600}"
dc ps

say "listening sockets of the stack's containers"
$PY docker/test_stack.py listeners

say "one USSD payment and one chat payment through HAProxy"
$PY docker/test_stack.py drive
