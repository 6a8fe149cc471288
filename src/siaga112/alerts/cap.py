"""CAP 1.2 documents (OASIS Common Alerting Protocol) and the Atom feed of current alerts."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from siaga112.alerts.areas import CapArea

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
SENDER_NAME = "BPBD Kabupaten Penajam Paser Utara (Call Center Siaga 112)"


def cap_time(at: datetime, tz: ZoneInfo) -> str:
    """CAP's dateTime: seconds, and an explicit offset (never "Z"); WITA here."""
    return at.astimezone(tz).isoformat(timespec="seconds")


def reference_of(row: Any, tz: ZoneInfo) -> str:
    """How a later message names this one: sender,identifier,sent."""
    return f"{row.sender},{row.identifier},{cap_time(row.sent_at, tz)}"


def _text(parent: ET.Element, tag: str, value: str | None) -> None:
    if value:
        ET.SubElement(parent, f"{{{CAP_NS}}}{tag}").text = value


def cap_document(row: Any, areas: Iterable[CapArea], *, references: str | None, tz: ZoneInfo,
                 web: str) -> bytes:
    """One alert row as a CAP 1.2 <alert>, elements in the order the schema fixes."""
    ET.register_namespace("", CAP_NS)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    for tag, value in (("identifier", row.identifier), ("sender", row.sender),
                       ("sent", cap_time(row.sent_at, tz)), ("status", row.status),
                       ("msgType", row.msg_type), ("scope", "Public"), ("note", row.note),
                       ("references", references)):
        _text(alert, tag, value)
    info = ET.SubElement(alert, f"{{{CAP_NS}}}info")
    for tag, value in (("language", "id-ID"), ("category", row.category), ("event", row.event),
                       ("responseType", row.response_type), ("urgency", row.urgency),
                       ("severity", row.severity), ("certainty", row.certainty),
                       ("onset", cap_time(row.onset_at, tz) if row.onset_at else None),
                       ("expires", cap_time(row.expires_at, tz) if row.expires_at else None),
                       ("senderName", SENDER_NAME), ("headline", row.headline),
                       ("description", row.description), ("instruction", row.instruction),
                       ("web", web), ("contact", "Call Center Siaga 112")):
        _text(info, tag, value)
    for area in areas:
        block = ET.SubElement(info, f"{{{CAP_NS}}}area")
        _text(block, "areaDesc", area.desc)
        for ring in area.polygons:
            _text(block, "polygon", ring)
        if area.geocode:
            geocode = ET.SubElement(block, f"{{{CAP_NS}}}geocode")
            _text(geocode, "valueName", "KEMENDAGRI")
            _text(geocode, "value", area.geocode)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)


def atom_feed(rows: Iterable[Any], *, base_url: str, tz: ZoneInfo, updated: datetime) -> bytes:
    """The current alerts as Atom, each entry linking to its CAP document (CAP-in-Atom)."""
    ET.register_namespace("", ATOM_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        child = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            child.text = text
        return child

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    el(feed, "id", f"{base_url}/alerts.atom")
    el(feed, "title", "Peringatan dini Kabupaten Penajam Paser Utara")
    el(feed, "updated", cap_time(updated, tz))
    el(feed, "link", rel="self", href=f"{base_url}/alerts.atom")
    el(feed, "link", rel="alternate", type="text/html", href=f"{base_url}/peringatan")
    author = el(feed, "author")
    el(author, "name", SENDER_NAME)
    for row in rows:
        entry = el(feed, "entry")
        el(entry, "id", f"urn:siaga112:ppu:alert:{row.identifier}")
        el(entry, "title", row.headline)
        el(entry, "updated", cap_time(row.sent_at, tz))
        el(entry, "summary", f"{row.area_desc}. {row.description}")
        el(entry, "category", term=row.category)
        el(entry, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=f"{base_url}/api/v1/alerts/{row.id}.xml")
        el(entry, "link", rel="related", type="text/html", href=f"{base_url}/peringatan/{row.code}")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
