"""Warnings coming in: CAP messages another centre publishes (BMKG's weather and earthquake
warnings), read from a configured feed, kept, shown to the command centre when they touch PPU,
and turned into a local alert in one step.

The feed may be a CAP document, or an Atom or RSS feed whose entries link to CAP documents (as
BMKG's is). Parsing uses defusedxml: the documents come from outside. Each message is stored
once (sender + identifier); an Update or Cancel marks the messages it references replaced.
"""
from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

import httpx
import structlog
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from shapely.geometry import Polygon
from sqlalchemy import Connection, insert, select, update

from siaga112.alerts import service as alerts_service
from siaga112.alerts.areas import boundaries as wilayah_boundaries
from siaga112.alerts.schemas import AlertCreate, AlertRead, AreaIn
from siaga112.audit import service as audit
from siaga112.auth.permissions import require_alert_issuer, require_command_view
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import load_row, utcnow
from siaga112.errors import Conflict, NotFound
from siaga112.geo.names import fold
from siaga112.models import incoming_warnings
from siaga112.periodic import Periodic

log = structlog.get_logger(__name__)
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
MAX_DOCUMENT_BYTES = 1_000_000
MAX_ENTRIES = 50
CATEGORIES = {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
              "CBRNE", "Other"}


class FeedError(Exception):
    pass


def _get(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise FeedError(f"{url} answered {response.status_code}")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise FeedError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return response.content


def cap_documents(client: httpx.Client, url: str) -> list[Any]:
    """The CAP <alert> elements the feed at `url` holds or links to."""
    root = SafeET.fromstring(_get(client, url))
    if root.tag == f"{CAP}alert":
        return [root]
    links: list[str] = []
    if root.tag == f"{ATOM}feed":
        for entry in root.findall(f"{ATOM}entry")[:MAX_ENTRIES]:
            found = [link.get("href") for link in entry.findall(f"{ATOM}link")
                     if link.get("type") == "application/cap+xml"] or \
                    [link.get("href") for link in entry.findall(f"{ATOM}link")]
            links += [h for h in found[:1] if h]
    elif root.tag == "rss":
        links = [item.findtext("link") or "" for item in root.iter("item")][:MAX_ENTRIES]
    else:
        raise FeedError(f"{url} is neither CAP 1.2 nor an Atom or RSS feed")
    documents = []
    for link in links:
        target = httpx.URL(url).join(link.strip())
        try:
            document = SafeET.fromstring(_get(client, str(target)))
        except (FeedError, httpx.HTTPError, SafeET.ParseError, DefusedXmlException) as exc:
            log.info("warning_document_skipped", url=str(target), error=str(exc)[:200])
            continue
        if document.tag == f"{CAP}alert":
            documents.append(document)
    return documents


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _polygons(info: Any) -> list[list[list[float]]]:
    """Every area's polygon as [[lat, lon], ...], circles as 32-gons."""
    shapes: list[list[list[float]]] = []
    for area in info.findall(f"{CAP}area"):
        for polygon in area.findall(f"{CAP}polygon"):
            try:
                points = [[float(v) for v in pair.split(",")] for pair in (polygon.text or "").split()]
            except ValueError:
                continue
            if len(points) >= 4 and all(len(p) == 2 for p in points):
                shapes.append(points)
        for circle in area.findall(f"{CAP}circle"):
            try:
                centre, radius = (circle.text or "").split()
                lat, lon = (float(v) for v in centre.split(","))
                km = float(radius)
            except ValueError:
                continue
            step = 2 * math.pi / 32
            dlat = km / 111.32
            dlon = km / (111.32 * max(0.01, math.cos(math.radians(lat))))
            ring = [[lat + dlat * math.sin(i * step), lon + dlon * math.cos(i * step)] for i in range(32)]
            shapes.append([*ring, ring[0]])
    return shapes


def _kecamatan_reached(ctx: Context, shapes: list[list[list[float]]], area_desc: str) -> list[str]:
    """The PPU kecamatan a warning's areas reach: by geometry, or by name when it has none."""
    boundaries = wilayah_boundaries()
    kecamatan = ctx.gazetteer.places("kecamatan")
    reached = set()
    for points in shapes:
        polygon = Polygon([(lon, lat) for lat, lon in points])
        if not polygon.is_valid:
            polygon = polygon.buffer(0)
        for place in kecamatan:
            if boundaries[place.code].intersects(polygon):
                reached.add(place.code)
    if not shapes:
        text = fold(area_desc)
        if "penajam paser utara" in text or "ppu" in text.split():
            reached = {p.code for p in kecamatan}
        else:
            reached = {p.code for p in kecamatan if fold(p.name) in text}
    return sorted(reached)


def parse(ctx: Context, alert: Any) -> dict[str, Any] | None:
    """A CAP <alert> as a row; None when it lacks what every CAP message must have."""
    sender, identifier = alert.findtext(f"{CAP}sender"), alert.findtext(f"{CAP}identifier")
    sent = _time(alert.findtext(f"{CAP}sent"))
    infos = alert.findall(f"{CAP}info")
    if not sender or not identifier or sent is None:
        return None
    # Bahasa Indonesia when the message has it (BMKG sends id and en).
    info = next((i for i in infos if (i.findtext(f"{CAP}language") or "").lower().startswith("id")),
                infos[0] if infos else None)
    shapes = _polygons(info) if info is not None else []
    area_desc = "; ".join(a.findtext(f"{CAP}areaDesc") or "" for a in info.findall(f"{CAP}area")) \
        if info is not None else ""

    def field(name: str) -> str | None:
        return (info.findtext(f"{CAP}{name}") or None) if info is not None else None

    codes = _kecamatan_reached(ctx, shapes, area_desc)
    return {
        "sender": sender.strip()[:200], "identifier": identifier.strip()[:200], "sent_at": sent,
        "msg_type": (alert.findtext(f"{CAP}msgType") or "Alert")[:8],
        "status": (alert.findtext(f"{CAP}status") or "Actual")[:16],
        "event": (field("event") or "Peringatan")[:500], "headline": field("headline"),
        "description": field("description"), "instruction": field("instruction"),
        "category": (field("category") or "Other")[:16], "urgency": (field("urgency") or "Unknown")[:16],
        "severity": (field("severity") or "Unknown")[:16], "certainty": (field("certainty") or "Unknown")[:16],
        "onset_at": _time(field("onset")), "expires_at": _time(field("expires")), "area_desc": area_desc,
        "polygons": shapes, "touches_ppu": bool(codes), "kecamatan_codes": codes,
        "references": (alert.findtext(f"{CAP}references") or "").split(),
    }


def store(ctx: Context, conn: Connection, message: dict[str, Any]) -> bool:
    """Keep one message; False when it was already here."""
    references = message.pop("references")
    seen = conn.execute(select(incoming_warnings.c.id).where(
        incoming_warnings.c.sender == message["sender"],
        incoming_warnings.c.identifier == message["identifier"])).first()
    if seen is not None:
        return False
    now = utcnow()
    conn.execute(insert(incoming_warnings).values(id=str(uuid.uuid4()), received_at=now, **message))
    for reference in references:
        parts = reference.split(",")
        if len(parts) == 3:
            conn.execute(update(incoming_warnings).where(
                incoming_warnings.c.sender == parts[0], incoming_warnings.c.identifier == parts[1],
                incoming_warnings.c.replaced_at.is_(None)).values(replaced_at=now))
    return True


def poll(ctx: Context, *, client: httpx.Client | None = None) -> int:
    """Read the configured feed once; returns how many new messages were kept."""
    url = ctx.settings.warning_feed_url
    if not url:
        return 0
    own = client is None
    client = client or httpx.Client(timeout=10, follow_redirects=False)
    try:
        documents = cap_documents(client, url)
    finally:
        if own:
            client.close()
    messages = [m for m in (parse(ctx, d) for d in documents) if m is not None]
    # Oldest first, so an Update finds the message it replaces already stored.
    messages.sort(key=lambda m: m["sent_at"])
    with ctx.db.transaction() as conn:
        return sum(store(ctx, conn, m) for m in messages)


class WarningFeedWorker(Periodic):
    def __init__(self, ctx: Context, interval: float) -> None:
        super().__init__("warning-feed", interval, lambda: poll(ctx))


# ------------------------------------------------------------------ reading, and a local alert

def _current(now: datetime) -> Any:
    return (incoming_warnings.c.replaced_at.is_(None) & (incoming_warnings.c.msg_type != "Cancel")
            & (incoming_warnings.c.expires_at.is_(None) | (incoming_warnings.c.expires_at > now)))


def warning_read(ctx: Context, row: Any) -> dict[str, Any]:
    return {"id": row.id, "sender": row.sender, "identifier": row.identifier, "sent_at": row.sent_at,
            "msg_type": row.msg_type, "event": row.event, "headline": row.headline,
            "description": row.description, "instruction": row.instruction, "severity": row.severity,
            "urgency": row.urgency, "certainty": row.certainty, "expires_at": row.expires_at,
            "area_desc": row.area_desc, "touches_ppu": row.touches_ppu,
            "kecamatan": [p.name for p in (ctx.gazetteer.place(c) for c in row.kecamatan_codes or []) if p],
            "polygons": row.polygons, "local_alert_id": row.local_alert_id,
            "current": row.replaced_at is None and row.msg_type != "Cancel"
            and (row.expires_at is None or row.expires_at > utcnow())}


def current_warnings(ctx: Context, who: Principal, *, conn: Connection, ppu_only: bool = True) -> list[dict]:
    """What the command centre should know about now: current warnings that touch PPU."""
    require_command_view(who, "read incoming warnings")
    query = select(incoming_warnings).where(_current(utcnow())).order_by(incoming_warnings.c.sent_at.desc())
    if ppu_only:
        query = query.where(incoming_warnings.c.touches_ppu.is_(True))
    return [warning_read(ctx, r) for r in conn.execute(query.limit(100))]


def make_local_alert(ctx: Context, who: Principal, warning_id: str, *, conn: Connection) -> AlertRead:
    """One step: a local alert with the warning's words, for the PPU kecamatan it reaches."""
    require_alert_issuer(who, ctx.sop.command_agency)
    row = load_row(conn, incoming_warnings, warning_id, missing="warning not found", lock=True)
    if not row.touches_ppu:
        raise NotFound("this warning does not reach PPU")
    if row.local_alert_id is not None:
        raise Conflict("a local alert was already made from this warning")
    description = (row.description or row.headline or row.event)
    alert = alerts_service.issue_alert(ctx, who, AlertCreate(
        event=row.event[:120], category=row.category if row.category in CATEGORIES else "Other",
        urgency=row.urgency if row.urgency in ("Immediate", "Expected", "Future", "Past") else "Unknown",
        severity=row.severity if row.severity in ("Extreme", "Severe", "Moderate", "Minor") else "Unknown",
        certainty=row.certainty if row.certainty in ("Observed", "Likely", "Possible", "Unlikely") else "Unknown",
        headline=(row.headline or row.event)[:160],
        description=f"{description[:1900]} (Sumber: {row.sender})",
        instruction=(row.instruction or None) and row.instruction[:1000],
        expires=row.expires_at if row.expires_at and row.expires_at > utcnow() else None,
        areas=AreaIn(codes=list(row.kecamatan_codes or []))), conn=conn)
    claimed = conn.execute(update(incoming_warnings).where(
        incoming_warnings.c.id == row.id, incoming_warnings.c.local_alert_id.is_(None))
        .values(local_alert_id=alert.id))
    if claimed.rowcount != 1:
        raise Conflict("a local alert was already made from this warning")
    audit.record(conn, who, "warning.localised", "incoming_warning", row.id, detail={"alert": alert.code})
    return alert



def warning_features(ctx: Context, who: Principal, *, conn: Connection) -> list[dict[str, Any]]:
    """The current warnings that touch PPU as GeoJSON polygons, for the command centre's map."""
    features = []
    for w in current_warnings(ctx, who, conn=conn):
        lines = [w["headline"] or w["event"], f"{w['sender']} · {w['severity']}"]
        for ring in w["polygons"] or []:
            features.append({"type": "Feature",
                             "geometry": {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in ring]]},
                             "properties": {"kind": "warning", "id": w["id"], "lines": lines}})
    return features
