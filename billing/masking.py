"""What the backend may reveal about a payee: enough to recognise, not enough to harvest."""

from __future__ import annotations

ARTICLE = "ال"


def _initial(name: str) -> str:
    # "السيد" → "الس.": the article alone ("ا.") would be the same for most family names.
    if name.startswith(ARTICLE) and len(name) > len(ARTICLE) + 1:
        return name[: len(ARTICLE) + 1] + "."
    return name[0] + "."


def mask_name(full_name: str) -> str:
    """First name in full, then an initial for each further name: "محمد ع. الس."."""
    parts = full_name.split()
    if not parts:
        return ""
    return " ".join([parts[0], *(_initial(p) for p in parts[1:])])
