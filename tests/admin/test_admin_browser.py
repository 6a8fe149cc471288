"""The administration screens in a real browser (Debian's Chromium), with screenshots at 1366x768."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from consoles import admin_console, login  # noqa: F401 — fixtures
from playwright.sync_api import expect

from siaga112.config import Settings

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def settings(database_url, tmp_path, monkeypatch) -> Settings:
    # No map tiles from the internet: the browser stays on loopback.
    monkeypatch.setenv("SIAGA112_TILE_URL", "")
    return Settings(database_url=database_url, var_dir=tmp_path / "var", tile_url="")


@pytest.fixture
def page(live_server, chromium):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server)
    # Anything leaving loopback is a bug in the page.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1).*"), lambda route: route.abort())
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()


def press_and_load(page, keys: str, url_pattern: str) -> None:
    """A shortcut that opens another screen; waits until that screen's scripts have run."""
    page.keyboard.press(keys)
    expect(page).to_have_url(re.compile(url_pattern))
    page.wait_for_load_state("load")


def log_in(page, username="admin", password="rahasia-112"):
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/konsol/admin$"))
    page.wait_for_load_state("load")


def test_sop_matrix_refuses_an_invalid_change_and_takes_a_valid_one(page):
    log_in(page)
    page.screenshot(path=str(SHOTS / "admin-home.png"))
    press_and_load(page, "Alt+3", r"/konsol/admin/sop$")
    expect(page.locator("h1")).to_contain_text("matriks SOP")
    expect(page.locator('[data-cell="FIRE-BLDG:DAMKAR"]')).to_have_text("L")
    page.screenshot(path=str(SHOTS / "admin-sop-matrix.png"))

    page.click("#type-FIRE-BLDG td:nth-child(2)")
    editor = page.locator('[data-editor="type"]')
    expect(editor).to_be_visible()
    editor.locator("select[name=lead]").select_option("")
    editor.locator("button[type=submit]").click()
    refused = page.locator(".refused")
    expect(refused).to_contain_text("incident type FIRE-BLDG has no lead agency")
    expect(page.locator("#toast")).to_contain_text("ditolak")
    page.screenshot(path=str(SHOTS / "admin-sop-refused.png"))
    expect(page.locator('[data-cell="FIRE-BLDG:DAMKAR"]')).to_have_text("L")

    editor = page.locator('[data-editor="type"]')
    editor.locator("select[name=lead]").select_option("BPBD")
    editor.locator('input[name=support][value="BPBD"]').uncheck()
    editor.locator('input[name=support][value="DAMKAR"]').check()
    editor.locator("button[type=submit]").click()
    expect(page.locator('[data-cell="FIRE-BLDG:BPBD"]')).to_have_text("L")
    expect(page.locator('[data-cell="FIRE-BLDG:DAMKAR"]')).to_have_text("S")
    expect(page.locator(".refused")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "admin-sop-saved.png"))

    page.click("#priority-2 a")
    form = page.locator('[data-editor="priority"]')
    form.locator("input[name=ack_seconds]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page.locator(".refused")).to_contain_text("deadlines must not shrink as priority drops")
    page.screenshot(path=str(SHOTS / "admin-priority-refused.png"))

    press_and_load(page, "Alt+4", r"/konsol/admin/audit$")
    expect(page.locator("table.changes")).to_contain_text("incident_type.updated")
    expect(page.locator("table.changes")).to_contain_text("BPBD")
    page.screenshot(path=str(SHOTS / "admin-audit.png"))


def test_creating_and_disabling_a_user(page):
    log_in(page)
    press_and_load(page, "Alt+2", r"/konsol/admin/pengguna$")
    expect(page.locator("h1")).to_contain_text("Pengguna dan peran")
    page.keyboard.press("Alt+B")
    form = page.locator('[data-editor="user-new"]')
    form.locator("input[name=username]").fill("operator9")
    form.locator("input[name=full_name]").fill("Rahmat Hidayat")
    form.locator("select[name=role]").select_option("dispatcher")
    form.locator("select[name=agency_code]").select_option("DLH")
    form.locator("button[type=submit]").click()
    password = page.locator("[data-password]")
    expect(password).to_be_visible()
    secret = password.inner_text().strip()
    assert len(secret) >= 12
    expect(page.locator("#user-list")).to_contain_text("operator9")
    page.screenshot(path=str(SHOTS / "admin-user-created.png"))

    page.fill("#user-q", "operator9")
    expect(page.locator("#user-list tbody tr")).to_have_count(1)
    page.click("#user-list tbody tr a")
    page.locator('[data-editor="user"] button.danger').click()  # the confirm dialog is accepted
    expect(page.locator('[data-editor="user"]')).to_contain_text("Dinonaktifkan")
    expect(page.locator("#user-list")).to_contain_text("nonaktif")
    expect(page.locator("#user-list tbody tr")).to_have_count(1)  # the search still applies
    page.screenshot(path=str(SHOTS / "admin-user-disabled.png"))

    press_and_load(page, "Alt+1", r"/konsol/admin/dinas$")
    page.click("#agency-DAMKAR a")
    page.locator('[data-editor="agency"] input[name=active]').uncheck()
    page.locator('[data-editor="agency"] button[type=submit]').click()
    expect(page.locator(".refused")).to_contain_text("DAMKAR cannot be deactivated")
    page.screenshot(path=str(SHOTS / "admin-agencies.png"))
