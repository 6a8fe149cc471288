"""Console sessions for the administration tests: people log in through the login form.

Not a conftest.py: the suite imports the top-level conftest by name (`from conftest import
edit`), and a second conftest.py would shadow it. Test modules import these fixtures.
"""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

PASSWORD = "rahasia-112"  # what tests/conftest.py gives its actors


class Console:
    """One person's browser: their own cookie jar, logged in through POST /login."""

    def __init__(self, app, username: str, password: str = PASSWORD):
        self.client = TestClient(app, follow_redirects=False)
        self.username = username
        r = self.client.post("/login", data={"username": username, "password": password})
        assert r.status_code == 303, f"{username} could not log in: {r.status_code}"
        self.landing = r.headers["location"]
        self.csrf = self.csrf_of(self.client.get(self.landing).text)
        assert self.csrf, f"no CSRF token on {self.landing}"

    @staticmethod
    def csrf_of(html: str) -> str | None:
        found = re.search(r'data-csrf="([^"]+)"', html)
        return found.group(1) if found else None

    def get(self, url: str, htmx: bool = False, **kw):
        headers = {**({"HX-Request": "true"} if htmx else {}), **kw.pop("headers", {})}
        return self.client.get(url, headers=headers, **kw)

    def post(self, url: str, data=None, *, htmx: bool = True, csrf: bool = True, **kw):
        """A form post as htmx sends it (CSRF in the header), or as a plain form (in the body)."""
        headers = dict(kw.pop("headers", {}))
        data = dict(data or {})
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRF-Token"] = self.csrf
        elif csrf:
            data["csrf_token"] = self.csrf
        return self.client.post(url, data=data, headers=headers, **kw)


@pytest.fixture
def login(app, client):
    """login("admin") -> a Console for that actor (client started the app's lifespan)."""
    opened: list[Console] = []

    def _login(username: str, password: str = PASSWORD) -> Console:
        console = Console(app, username, password)
        opened.append(console)
        return console

    yield _login
    for c in opened:
        c.client.close()


@pytest.fixture
def admin_console(login) -> Console:
    return login("admin")
