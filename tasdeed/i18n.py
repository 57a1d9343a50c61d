"""Translation catalogues: every user-facing string, Arabic first, English second.

Catalogues are gettext .po files read with babel (no compile step). Arabic has a Modern
Standard base (`ar`) and dialect overlays (`ar@egyptian`, `ar@gulf`) holding only the
keys whose wording differs; a profile's dialect picks the overlay.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("ar", "en")


def _read_catalogue(name: str) -> dict[str, str]:
    """Every .po file of one language merged (`tasdeed.po` for flows, `rules.po` for the
    utility rules' explanations); a key defined twice is a bug."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / name / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if message.id and message.string:
                key = str(message.id)
                if key in merged:
                    raise ValueError(f"{key!r} is defined twice in the {name} catalogues")
                merged[key] = str(message.string)
    return merged


@cache
def catalogue(language: str, dialect: str = "msa") -> dict[str, str]:
    """The merged messages for a language ("ar"/"en") and, for Arabic, a dialect."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    merged = _read_catalogue(language)
    if language == "ar" and dialect != "msa":
        merged = merged | _read_catalogue(f"ar@{dialect}")
    return merged


def translate(key: str, language: str, dialect: str = "msa", **params: object) -> str:
    """The message for `key`, with `{name}` placeholders filled. Unknown keys raise KeyError:
    a missing translation is a bug the catalogue tests catch, never a blank screen."""
    return catalogue(language, dialect)[key].format(**params)
