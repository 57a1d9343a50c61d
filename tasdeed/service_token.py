"""The service token between Tasdeed's processes: `Authorization: Bearer <SERVICE_TOKEN>`,
compared in constant time (hmac.compare_digest over the bytes), whatever the web framework
(billing on aiohttp, the action server on Sanic)."""

from __future__ import annotations

import hmac


def bearer_header(token: str) -> str:
    return f"Bearer {token}"


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token`; never true for an empty token."""
    if not token:
        return False
    given = (authorization or "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, bearer_header(token).encode())
