"""Every console at 1366x768 and at a phone's size, saved to test-artifacts/screenshots/ for
review (issue 12); each page must load without a script error at both sizes."""
from __future__ import annotations

from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.timeout(180)
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
PAGES = {"call_taker": "/konsol/panggilan", "damkar": "/konsol/dinas", "commander": "/konsol/komando",
         "admin": "/konsol/admin"}


def test_every_console_at_desktop_and_phone_size(screen, actors, incident_body, database_url):
    fire = actors["call_taker"].post("/api/v1/incidents", json=incident_body(priority=1)).json()
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    for name, path in PAGES.items():
        s = screen(name)
        for size, viewport in SIZES.items():
            s.page.set_viewport_size(viewport)
            s.page.goto(s.base_url + path)
            s.page.wait_for_load_state("networkidle")
            if name == "damkar":
                s.page.click(f"[data-queue-ticket='{fire['ticket']}']")
                s.page.wait_for_selector(f"#detail [data-ticket='{fire['ticket']}']")
            shot = s.shot(f"console-{size}")
            assert shot.exists() and shot.parent == SCREENSHOTS
        assert not s.errors, f"{name} ({backend}): {s.errors}"
