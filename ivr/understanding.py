"""What the IVR needs from an NLU: the intent a caller's words carry, and how sure it is.

The gateway passes its Rasa client (`chat.rasa_client.RasaClient`); the IVR never imports the
chat package. It is asked only at the main menu (see `ivr.calls`), never at a confirmation.
"""

from __future__ import annotations

from typing import Protocol


class Understands(Protocol):
    async def parse(self, text: str) -> tuple[str, float] | None:
        """(intent name, confidence) for already normalised text; None when it cannot tell
        (down, timed out, refused): the call goes on as if nothing was understood."""
        ...
