"""Console fixtures: a logged-in browser session per actor, and a real Chromium for browser tests."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import WEBHOOK_SECRETS

from siaga112.config import Settings

PASSWORD = "rahasia-112"  # what tests/conftest.py gives every actor
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # No tile server: the consoles must work on boundaries alone, and tests never leave loopback.
    return Settings(database_url=database_url, var_dir=tmp_path / "var", tile_url="",
                    webhook_secrets=WEBHOOK_SECRETS)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or \
        re.search(r'data-csrf="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


class Browser:
    """One person's console session through HTTP: cookie, CSRF token and htmx-style requests."""

    def __init__(self, app, name: str) -> None:
        self.name = name
        self.client = TestClient(app, follow_redirects=False)
        self.client.__enter__()
        self.csrf = ""

    def login(self, password: str = PASSWORD):
        response = self.client.post("/login", data={"username": self.name, "password": password})
        if response.status_code == 303:
            page = self.client.get(response.headers["location"])
            if page.status_code == 200 and "csrf" in page.text:
                self.csrf = csrf_of(page.text)
        return response

    def get(self, url: str, **kw):
        return self.client.get(url, headers={"HX-Request": "true", **kw.pop("headers", {})}, **kw)

    def page(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kw):
        headers = {"HX-Request": "true", **kw.pop("headers", {})}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.client.post(url, data=data or {}, headers=headers, **kw)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def browse(app):
    """browse("damkar") -> that actor logged in to the console."""
    opened = []

    def _open(name: str) -> Browser:
        b = Browser(app, name)
        assert b.login().status_code == 303, f"{name} could not log in"
        opened.append(b)
        return b

    yield _open
    for b in opened:
        b.close()


class Screen:
    """A logged-in Chromium page at 1366x768 that records console errors and saves screenshots."""

    def __init__(self, browser, base_url: str, name: str, label: str) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 768},
                                           locale="id-ID", timezone_id="Asia/Makassar")
        self.page = self.context.new_page()
        self.base_url = base_url
        self.name = name
        self.label = label
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.set_default_timeout(5000)

    def login(self) -> Screen:
        p = self.page
        p.goto(self.base_url + "/login")
        p.fill("input[name=username]", self.name)
        p.fill("input[name=password]", PASSWORD)
        p.press("input[name=password]", "Enter")
        p.wait_for_url(re.compile(r".*/konsol/.*"))
        p.wait_for_load_state("networkidle")
        return self

    def shot(self, what: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.label}-{what}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def screen(chromium, live_server, database_url):
    """screen("damkar") -> a Chromium page logged in as that actor on the live server."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    opened = []

    def _open(name: str) -> Screen:
        s = Screen(chromium, live_server, name, f"{backend}-{name}").login()
        opened.append(s)
        return s

    yield _open
    for s in opened:
        s.close()
