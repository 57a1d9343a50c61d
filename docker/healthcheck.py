#!/usr/bin/env python3
"""The container's health check: GET the role's /health on 127.0.0.1 (stdlib only).

`healthcheck.py [URL]`; without a URL, the port follows TASDEED_ROLE from the container's
environment (gateway when unset). Roles without an HTTP server of their own (messaging) are
checked on their metrics port. Compose and Kubernetes name the URL explicitly."""

from __future__ import annotations

import os
import sys
import urllib.request

PORTS = {
    "gateway": ("GATEWAY_PORT", "8080", "/health"),
    "billing": ("BILLING_PORT", "8090", "/health"),
    "actions": ("ACTIONS_PORT", "5055", "/health"),
    "messaging": ("METRICS_PORT", "9100", "/metrics"),
    "messaging-worker": ("METRICS_PORT", "9100", "/metrics"),
    "twilio-standin": ("TWILIO_STANDIN_PORT", "8099", "/_standin/messages"),
    "rasa": ("RASA_PORT", "5005", "/"),
}


def url_for(role: str) -> str:
    variable, default, path = PORTS.get(role, PORTS["gateway"])
    return f"http://127.0.0.1:{os.environ.get(variable, default)}{path}"


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else url_for(os.environ.get("TASDEED_ROLE", ""))
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
