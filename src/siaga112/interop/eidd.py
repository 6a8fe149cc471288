"""An EIDD-style JSON record (after NENA's Emergency Incident Data Document / EIDO JSON) for
handing a call or incident over to another centre: Balikpapan, Paser, IKN 112, or 110/113/115/119.

It carries what the receiving centre needs to act without calling back: the incident, the call,
the caller (the receiving centre is an emergency service and needs the number), the location
and the notes, under component names borrowed from EIDO. Times are ISO 8601 in UTC.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

SENDING_SYSTEM = {"name": "Siaga 112 PPU", "agency": "Call Center Siaga 112 Kabupaten Penajam Paser Utara",
                  "regencyCode": "64.09", "timeZone": "Asia/Makassar"}
TARGET_NAMES = {
    "BALIKPAPAN": "Call Center 112 Kota Balikpapan",
    "PASER": "Call Center 112 Kabupaten Paser",
    "IKN": "Call Center 112 Ibu Kota Nusantara",
    "KUKAR": "Call Center 112 Kabupaten Kutai Kartanegara",
    "110": "Kepolisian (110)",
    "113": "Pemadam Kebakaran (113)",
    "115": "Basarnas (115)",
    "119": "Layanan Ambulans / PSC (119)",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def build(*, handover_id: str, target: str, at: datetime, reason: str | None,
          tracking_id: str, incident: dict[str, Any] | None, call: dict[str, Any] | None,
          caller: dict[str, Any] | None, location: dict[str, Any] | None,
          description: str | None, notes: list[dict[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "eiddVersion": "1.0",
        "eiddIdentifier": f"urn:siaga112:ppu:handover:{handover_id}",
        "lastUpdateTimeStamp": _iso(at),
        "sendingSystem": SENDING_SYSTEM,
        "receivingAgency": {"code": target, "name": TARGET_NAMES.get(target, target)},
        "transfer": {"reason": reason, "transferTimeStamp": _iso(at)},
        "incidentComponent": {"incidentTrackingIdentifier": tracking_id, "description": description,
                              **(incident or {})},
        "callComponent": [call] if call else [],
        "personComponent": [{"personRole": "caller", **caller}] if caller else [],
        "locationComponent": [{"locationRole": "incident", **location}] if location else [],
        "notesComponent": notes,
    }
    return doc
