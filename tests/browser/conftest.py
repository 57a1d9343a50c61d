"""Real headless Chromium (Debian's, installed by scripts/ensure-browser.sh) driven by
Playwright against the real gateway and billing backend. Playwright's own browser downloads
are never used: `executable_path` points at /usr/bin/chromium, with a fresh profile per test.

The e2e stack fixtures are reused as they are: `make_stack` (gateway + PostgreSQL-backed
billing + Redis) and the chat tests' module-scoped `backends` (Rasa, the action server and
billing as processes with the trained model)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright

from tests.e2e.conftest import make_stack  # noqa: F401  (the fixture, reused)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Browser:
    """One page in a fresh Chromium profile, with what it asked the network for and any
    script errors, and numbered screenshots of each step."""

    context: BrowserContext
    page: Page
    name: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shots: int = 0

    async def shot(self, step: str) -> Path:
        self.shots += 1
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{step}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_only_talked_to(self, origin: str) -> None:
        """The page works offline: nothing but this gateway (and inline data: URLs)."""
        foreign = [u for u in self.requests if not (u.startswith(origin + "/") or u == origin)]
        foreign = [u for u in foreign if not u.startswith("data:")]
        assert self.requests, "the page made no requests at all"
        assert foreign == [], foreign
        assert self.errors == [], self.errors


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail("no /usr/bin/chromium: run scripts/ensure-browser.sh (make test does)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return CHROMIUM


@pytest.fixture
async def browser(
    request: pytest.FixtureRequest, tmp_path: Path, chromium: Path
) -> AsyncIterator[Browser]:
    name = re.sub(r"[^a-z0-9_]+", "-", request.node.name.lower()).strip("-")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # new and empty for every test
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="ar-EG",
        )
        page = context.pages[0] if context.pages else await context.new_page()
        page.set_default_timeout(15_000)
        session = Browser(context, page, name)
        page.on("request", lambda r: session.requests.append(r.url))
        page.on("pageerror", lambda e: session.errors.append(str(e)))
        page.on(
            "console",
            lambda m: session.errors.append(m.text) if m.type == "error" else None,
        )
        try:
            yield session
        finally:
            await context.close()
