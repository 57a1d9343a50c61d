#!/usr/bin/env bash
# Make sure the browser the page tests drive is installed: Debian's chromium at
# /usr/bin/chromium, and DejaVu fonts so Arabic has glyphs in screenshots. Playwright's own
# browser downloads (`playwright install`) are never used. Installs from Debian's packages
# when missing and we are root; otherwise fails naming what is missing.
set -euo pipefail

say() { echo "ensure-browser: $*" >&2; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

if [ ${#missing[@]} -eq 0 ]; then
  say "chromium and fonts-dejavu-core are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "MISSING: ${missing[*]} (not root or no apt-get: install them from Debian's packages)"
  exit 1
fi
say "installing ${missing[*]} from Debian's packages"
DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
[ -x /usr/bin/chromium ] || { say "FAILED: /usr/bin/chromium is still missing after installing"; exit 1; }
say "installed ${missing[*]}"
