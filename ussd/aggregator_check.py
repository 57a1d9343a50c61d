"""Who may call the USSD callbacks. Africa's Talking and Hubtel do not sign their requests,
so `phoneNumber` and `sessionId` are claims: the aggregator proves itself with a secret the
callback URL is configured with (`?key=…`, or an `X-Tasdeed-Key` header) and, optionally, by
calling from an allowed address."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping, Sequence

KEY_PARAM = "key"
KEY_HEADER = "X-Tasdeed-Key"


class AggregatorCheck:
    def __init__(self, secret: str = "", sources: Sequence[str] = ()):
        self.secret = secret
        self.networks = tuple(ipaddress.ip_network(s, strict=False) for s in sources)

    def allows(
        self, remote: str | None, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> bool:
        if self.networks:
            try:
                address = ipaddress.ip_address(remote or "")
            except ValueError:
                return False
            if not any(address in network for network in self.networks):
                return False
        if not self.secret:
            return True
        given = query.get(KEY_PARAM) or headers.get(KEY_HEADER) or ""
        return hmac.compare_digest(given.encode(), self.secret.encode())
