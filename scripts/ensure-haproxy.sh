#!/usr/bin/env bash
# Make sure HAProxy (Debian's package, 2.6 on bookworm) is installed: the replica test
# (tests/e2e/test_replicas.py) runs it in front of two gateway processes. Only the binary is
# needed; the test starts its own instance in the foreground on 127.0.0.1. Installs it when
# missing and we are root; otherwise fails naming what is missing.
set -euo pipefail

say() { echo "ensure-haproxy: $*" >&2; }

if command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; then
  say "$(/usr/sbin/haproxy -v 2>/dev/null | head -1 || haproxy -v | head -1)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "MISSING: haproxy (not root or no apt-get: install Debian's haproxy package)"; exit 1
fi
say "installing haproxy from Debian's packages"
DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
say "$(/usr/sbin/haproxy -v | head -1)"
