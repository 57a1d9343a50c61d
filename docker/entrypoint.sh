#!/bin/sh
# The container's role is its first argument; the rest goes to the process. Settings come
# from the environment (tasdeed/settings.py); with TASDEED_ENV=production each process
# refuses to start on an unsafe default, naming the setting.
set -eu
role="${1:-${TASDEED_ROLE:-gateway}}"
[ "$#" -gt 0 ] && shift
case "$role" in
  gateway)          exec python3 -m gateway "$@" ;;
  billing)          exec python3 -m billing serve "$@" ;;
  billing-migrate)  exec python3 -m billing migrate "$@" ;;
  actions)          exec python3 -m actions.server "$@" ;;
  messaging)        exec python3 -m messaging serve --metrics-port "${METRICS_PORT:-9100}" "$@" ;;
  messaging-worker) exec python3 -m messaging worker --metrics-port "${METRICS_PORT:-9100}" "$@" ;;
  messaging-cli)    exec python3 -m messaging "$@" ;;
  twilio-standin)   exec python3 -m twilio_standin "$@" ;;
  *)
    echo "tasdeed: unknown role '$role' (gateway, billing, billing-migrate, actions," \
      "messaging, messaging-worker, messaging-cli, twilio-standin)" >&2
    exit 64 ;;
esac
