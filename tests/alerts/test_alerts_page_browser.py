"""/peringatan on a phone, in a real Chromium: the alert reads without zooming or scrolling sideways."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_the_alerts_page_works_on_a_phone(chromium, live_server, actors, database_url):
    alert = actors["commander"].post("/api/v1/alerts", json={
        "event": "Kabut asap", "category": "Env", "urgency": "Immediate", "severity": "Severe",
        "certainty": "Observed", "headline": "Kabut asap kebakaran hutan di Sepaku dan Penajam",
        "description": "Kualitas udara tidak sehat.",
        "instruction": "Kurangi kegiatan di luar rumah dan pakai masker.",
        "areas": {"codes": ["64.09.04", "64.09.01"]}}).json()
    context = chromium.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                   is_mobile=True, has_touch=True, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "/peringatan")
        card = page.locator(f"[data-kode='{alert['code']}']")
        assert card.is_visible()
        assert "Kecamatan Sepaku" in card.inner_text() and "pakai masker" in card.inner_text()
        # Fits the screen: nothing wider than the phone, text large enough to read.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
        backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{backend}-peringatan-phone.png"), full_page=True)
        page.click(f"[data-kode='{alert['code']}'] h2 a")
        page.wait_for_url(f"**/peringatan/{alert['code']}")
        assert "Kualitas udara tidak sehat." in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert errors == []
    finally:
        context.close()
