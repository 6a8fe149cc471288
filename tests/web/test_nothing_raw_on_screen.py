"""No untranslated code on an Indonesian screen (issue 12): `lead`/`support`, `pending`,
`declined`, `fire_truck`, timeline event names. Each screen is rendered as people see it after a
busy incident, and its visible text (not attributes, not scripts) is searched for codes."""
from __future__ import annotations

import re
from html.parser import HTMLParser

API = "/api/v1"
# Status and role words in English, and any snake_case identifier: what a code looks like.
RAW = re.compile(r"\b(lead|support|pending|declined|overdue|acknowledged|completed|cancelled|"
                 r"dispatched|en_route|on_scene|[a-z]+_[a-z_]+)\b")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "option"):  # options: checked below with their select
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "option") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    text = " ".join(parser.text)
    text = re.sub(r"/lacak/\S+|https?://\S+|\S+@\S+", " ", text)  # addresses are not codes
    # Who did it: a login name (the test accounts' have underscores) is a name, not a code.
    return re.sub(r"WITA · [a-z0-9_]+", "WITA", text)


def raw_codes(html: str) -> list[str]:
    return sorted(set(RAW.findall(_text(html))))


def in_context(html: str) -> list[str]:
    """Each raw code with the words around it, for the failure message."""
    text = " ".join(_text(html).split())
    return [text[max(0, m.start() - 40):m.end() + 40] for m in RAW.finditer(text)]


def _busy_fire(actors, incident_body) -> dict:
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=1)).json()
    url = f"{API}/incidents/{fire['id']}"
    damkar, pln = actors["damkar"], actors["pln"]
    assert damkar.post(f"{url}/assignments/DAMKAR/acknowledge").status_code == 200
    truck = next(u for u in damkar.get(f"{API}/units").json() if u["status"] == "available")
    assert damkar.post(f"{url}/assignments/DAMKAR/dispatch", json={"unit_id": truck["id"]}).status_code == 200
    assert damkar.post(f"{url}/notes", json={"text": "air kurang", "public": False}).status_code == 201
    assert pln.post(f"{url}/assignments/PLN/decline", json={"reason": "bukan gangguan listrik"}).status_code == 200
    assert actors["commander"].post(f"{url}/assignments", json={"agency_code": "POLRES",
                                                                 "reason": "amankan lokasi"}).status_code == 201
    assert damkar.post(f"{url}/assignments/DAMKAR/progress", json={"status": "on_scene"}).status_code == 200
    return fire


def test_indonesian_screens_show_no_raw_codes(browse, actors, incident_body):
    fire = _busy_fire(actors, incident_body)
    waiting = actors["call_taker"].post(f"{API}/incidents", json=incident_body(priority=2)).json()
    ct, damkar, commander = browse("call_taker"), browse("damkar"), browse("commander")
    screens = {
        "ticket card": ct.post("/konsol/panggilan/insiden", {
            "description": "rumah terbakar dekat pasar", "address": "Jl. Provinsi km 2, Nipah-Nipah",
            "form_key": "raw-codes-1"}).text,
        "caller history": ct.get("/konsol/panggilan/riwayat", params={"phone": "081234567890"}).text,
        "dispatcher queue": damkar.get("/konsol/dinas/antrean").text,
        "unit board": damkar.get("/konsol/dinas/unit").text,
        "dispatcher panel": damkar.get(f"/konsol/insiden/{fire['id']}").text,
        "panel with units to send": damkar.get(f"/konsol/insiden/{waiting['id']}").text,
        "commander panel": commander.get(f"/konsol/insiden/{fire['id']}").text,
        "command summary": commander.get("/konsol/komando/ringkasan").text,
    }
    found = {name: in_context(html) for name, html in screens.items() if raw_codes(html)}
    assert not found, "\n".join(f"{name}: {snippet}" for name, snippets in found.items()
                                 for snippet in snippets)


def test_the_check_catches_a_raw_code():
    assert raw_codes("<td>DAMKAR (lead)</td><td data-x='fire_truck'>mobil pemadam</td>") == ["lead"]
    assert raw_codes("<li><strong>support_requested</strong></li>") == ["support_requested"]
    assert raw_codes('<p>Lacak di <strong>/lacak/AB12-CD34</strong></p><td>di lokasi</td>') == []
