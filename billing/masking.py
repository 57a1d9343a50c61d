"""What the backend may reveal about a payee: enough to recognise, not enough to harvest."""

from __future__ import annotations


def mask_name(full_name: str) -> str:
    """First name in full, then the first letter of each further name: "محمد ع. ا."."""
    parts = full_name.split()
    if not parts:
        return ""
    return " ".join([parts[0], *(f"{p[0]}." for p in parts[1:])])
