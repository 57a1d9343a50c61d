"""The walk table as a diagram: Mermaid text at `/simulator/walks` and the page's menu-tree
section (tasdeed.flows.diagram draws it; no diagram script, so the page stays offline)."""

from __future__ import annotations

import html

from aiohttp import web

from gateway.page_shell import page_language
from gateway.simulator.state import SIMULATOR
from tasdeed.flows.diagram import mermaid
from tasdeed.profile import Profile

# Words of the menu-tree section (not yet in the sim.* catalogue keys).
WALKS_WORDS = {
    "ar": ("شجرة القوائم", "نص Mermaid مولَّد من جدول الخطوات: الصقه في أي عارض Mermaid."),
    "en": ("Menu tree", "Mermaid text drawn from the walk table: paste into any Mermaid viewer."),
}


def walks_section(profile: Profile, language: str) -> str:
    """The walk table as Mermaid text in a <pre> (no diagram script: the page stays offline)."""
    title, note = WALKS_WORDS[language]
    return (
        f'<section class="card wide" id="walks"><h2>{html.escape(title)}</h2>'
        f'<p class=fine>{html.escape(note)} <a href="/simulator/walks?lang={language}" '
        'dir="ltr">/simulator/walks</a></p><details><summary>Mermaid</summary>'
        '<div class="scroll"><pre dir="ltr" id="walks-text">'
        f"{html.escape(mermaid(profile, language))}</pre></div></details></section>"
    )


async def walks_text(request: web.Request) -> web.Response:
    """The running profile's walk table as Mermaid text (`tasdeed.flows.diagram`)."""
    text = mermaid(request.app[SIMULATOR].profile, page_language(request))
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/simulator/walks", walks_text)
