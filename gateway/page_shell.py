"""What the gateway's two browser pages share: the HTML document around a page's body, its
header and language switch, its words from the catalogue, amounts and times as the profile
shows them, and the few static files each page asks for.

The simulator page (gateway/simulator/, simulator mode only) and the operator view
(gateway/operator/, behind its own token) each mount their own routes; a page's header links
only to the pages this gateway mounted (`NAV`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from tasdeed.i18n import LANGUAGES, Counted, catalogue, entries, plural_categories, translate
from tasdeed.money import Money, format_money
from tasdeed.normalise import localise_digits
from tasdeed.profile import Profile

STATIC_DIR = Path(__file__).parent / "static"
STYLESHEET = "pages.css"
# Endonyms, not translations: each language is named in itself on the switch.
LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}
# The pages this gateway mounted, in header order: (path, catalogue key of its name).
NAV = web.AppKey("page_nav", list[tuple[str, str]])
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


def page_language(request: web.Request) -> str:
    language = request.query.get("lang", "ar")
    return language if language in LANGUAGES else "ar"


def labels(language: str) -> dict[str, str]:
    """The pages' words: every sim.* key of the catalogue, without the prefix."""
    return {
        key.removeprefix("sim."): text
        for key, text in catalogue(language).items()
        if key.startswith("sim.")
    }


def plurals(language: str) -> dict[str, dict[str, Any]]:
    """The counted sim.* words (tasdeed.i18n plural entries) by plural category, for the
    page's own `t()` to pick with Intl.PluralRules, the same CLDR rules babel follows."""
    categories = plural_categories(language)
    return {
        key.removeprefix("sim."): {
            "counts": entry.counts,
            "forms": dict(zip(categories, entry.forms, strict=True)),
        }
        for key, entry in entries(language).items()
        if key.startswith("sim.") and isinstance(entry, Counted)
    }


def t(key: str, language: str, **params: object) -> str:
    """A catalogue entry, HTML-escaped."""
    return html.escape(translate(key, language, "msa", **params))


def ltr(text: str) -> str:
    """Isolated left-to-right inside Arabic text (LRI … PDI): "*121#" stays "*121#"
    instead of its neutral "*" and "#" being moved around by the bidi algorithm."""
    return f"\u2066{text}\u2069"


def money(profile: Profile, minor: int, currency: str, language: str) -> str:
    digits = profile.digits if language == "ar" else "latn"
    return format_money(Money(minor, currency), profile.locale_for(language), digits, plain=True)


def local_time(profile: Profile, iso_utc: str, language: str) -> str:
    """A backend timestamp (naive UTC, "…Z") in the utility's own time zone."""
    moment = datetime.fromisoformat(iso_utc.removesuffix("Z") + "+00:00")
    text = moment.astimezone(ZoneInfo(profile.timezone)).strftime("%Y-%m-%d %H:%M:%S")
    return localise_digits(text, profile.digits) if language == "ar" else text


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def _config_json(data: Mapping[str, Any]) -> str:
    # Inside <script type="application/json">: "<" escaped so no "</script>" can close it.
    return dumps(data).replace("<", "\\u003c")


def page(
    language: str, title: str, body: str, config: Mapping[str, Any], scripts: Iterable[str]
) -> str:
    direction = "rtl" if language == "ar" else "ltr"
    tags = "".join(f'<script src="/static/{name}" defer></script>' for name in scripts)
    return (
        "<!doctype html>\n"
        f'<html lang="{language}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        '<link rel="icon" href="data:,">\n'  # no favicon request to anywhere
        f'<link rel="stylesheet" href="/static/{STYLESHEET}">\n'
        f'<script type="application/json" id="sim-config">{_config_json(config)}</script>\n'
        f"{tags}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def header(request: web.Request, language: str, here: str, title: str) -> str:
    other = "en" if language == "ar" else "ar"
    links = []
    for path, key in request.app.get(NAV, []):
        current = ' aria-current="page"' if path == here else ""
        links.append(f'<a href="{path}?lang={language}"{current}>{t(key, language)}</a>')
    return (
        '<header class="top">'
        f"<h1>{title}</h1>"
        f"<nav>{''.join(links)}"
        f'<a id="lang-switch" href="{here}?lang={other}" lang="{other}" '
        f'hreflang="{other}">{LANGUAGE_NAMES[other]}</a></nav>'
        "</header>"
    )


def add_page(app: web.Application, path: str, name_key: str, scripts: Iterable[str]) -> None:
    """Note a page in the headers' navigation and serve the static files it loads (the
    stylesheet and `scripts`), each file once whichever page asked for it first."""
    app.setdefault(NAV, []).append((path, name_key))
    mounted = {resource.canonical for resource in app.router.resources()}
    for name in (STYLESHEET, *scripts):
        route = f"/static/{name}"
        if route not in mounted:
            app.router.add_get(route, _static_file(STATIC_DIR / name))
            mounted.add(route)


def _static_file(path: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    content_type = _STATIC_TYPES[path.suffix]

    async def serve(_request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(path)
        response.content_type = content_type
        response.charset = "utf-8"
        return response

    return serve
