"""Public alerts: issue, update and cancel CAP messages, read them back, and tell subscribers.

An update or a cancellation is a new CAP message (msgType Update or Cancel) that references the
message it replaces; the replaced one is marked superseded by a conditional UPDATE, so two
people pressing "update" on the same alert cannot both succeed (the second gets 409).
Nothing personal goes into an alert: raised from an incident it takes the type and the place,
never the caller or the call-taker's description.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, insert, or_, select, update

from siaga112.alerts import areas as alert_areas
from siaga112.alerts.cap import atom_feed, cap_document, reference_of
from siaga112.alerts.schemas import AlertCancel, AlertContent, AlertCreate, AlertRead
from siaga112.audit import service as audit
from siaga112.auth.permissions import require_alert_issuer
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import load_row, utcnow
from siaga112.errors import Conflict, InvalidField, NotFound
from siaga112.geo.gazetteer import kecamatan_code_of
from siaga112.geo.names import fold
from siaga112.incidents.intake import new_ticket
from siaga112.incidents.reads import load_visible
from siaga112.models import alert_subscriptions, alerts, incidents
from siaga112.notify import service as notify

# The CAP category an incident type's alert falls in (by the type code's first word).
CATEGORY_OF_TYPE = {"FIRE": "Fire", "FLOOD": "Met", "LANDSLIDE": "Geo", "STORM": "Met",
                    "TRAFFIC": "Transport", "ROAD": "Transport", "MED": "Health", "MATERNAL": "Health",
                    "WATER": "Rescue", "MISSING": "Rescue", "POLLUTION": "Env", "POWER": "Infra",
                    "CRIME": "Security", "PUBLIC": "Security"}
SMS_LIMIT = 459  # three SMS parts
STAGE = {"Alert": "alert", "Update": "alert_update", "Cancel": "alert_cancel"}
OPENING = {"Alert": "PERINGATAN", "Update": "PEMBARUAN PERINGATAN", "Cancel": "PERINGATAN DICABUT"}


def _tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.sop.timezone)


def alert_urls(ctx: Context, row: Any) -> tuple[str, str]:
    base = ctx.settings.public_base_url.rstrip("/")
    return f"{base}/api/v1/alerts/{row.id}.xml", f"{base}/peringatan/{row.code}"


def is_current(row: Any, now: datetime) -> bool:
    return (row.superseded_at is None and row.msg_type != "Cancel"
            and (row.expires_at is None or row.expires_at > now))


def _current_clause(now: datetime) -> Any:
    return and_(alerts.c.superseded_at.is_(None), alerts.c.msg_type != "Cancel",
                or_(alerts.c.expires_at.is_(None), alerts.c.expires_at > now))


def _chain(conn: Connection, row: Any) -> list[Any]:
    """The messages this one replaces, oldest first."""
    earlier = []
    while row.references_id is not None:
        row = conn.execute(select(alerts).where(alerts.c.id == row.references_id)).one()
        earlier.append(row)
    return list(reversed(earlier))


def references(ctx: Context, conn: Connection, row: Any) -> str | None:
    """CAP <references>: every earlier message of this alert, space separated."""
    chain = _chain(conn, row)
    return " ".join(reference_of(r, _tz(ctx)) for r in chain) or None


def read_alert(ctx: Context, conn: Connection, row: Any, *, now: datetime | None = None) -> AlertRead:
    cap_url, page_url = alert_urls(ctx, row)
    ticket = None
    if row.incident_id:
        ticket = conn.execute(select(incidents.c.ticket).where(incidents.c.id == row.incident_id)).scalar()
    return AlertRead(
        id=row.id, code=row.code, identifier=row.identifier, msg_type=row.msg_type, status=row.status,
        sent_at=row.sent_at, references=references(ctx, conn, row), superseded_at=row.superseded_at,
        current=is_current(row, now or utcnow()), event=row.event, category=row.category,
        urgency=row.urgency, severity=row.severity, certainty=row.certainty,
        response_type=row.response_type, headline=row.headline, description=row.description,
        instruction=row.instruction, onset_at=row.onset_at, expires_at=row.expires_at,
        area_desc=row.area_desc, area_codes=row.area_codes, polygon=row.polygon,
        desa_codes=row.desa_codes, incident_ticket=ticket, recipients=row.recipients,
        cap_url=cap_url, page_url=page_url)


def _from_incident(ctx: Context, who: Principal, data: AlertCreate, conn: Connection) -> dict[str, Any]:
    """What an alert raised from an incident says unless the author wrote otherwise."""
    incident = load_visible(ctx, who, data.incident_id or "", conn=conn)
    itype = ctx.sop.incident_types.get(incident.type_code)
    name = itype.name_id if itype else incident.type_code
    code = incident.desa_code or incident.kecamatan_code
    place = ctx.gazetteer.place(code) if code else None
    where = f" di {place.name}" if place else ""
    return {"event": name, "category": CATEGORY_OF_TYPE.get(incident.type_code.split("-")[0], "Safety"),
            "headline": f"{name}{where}",
            "description": f"{name} dilaporkan{where}. Petugas sedang menangani.",
            "codes": [code] if code else [], "incident_id": incident.id}


def _content(ctx: Context, data: AlertContent, base: dict[str, Any]) -> dict[str, Any]:
    """The alert's fields: what the author gave, else `base` (the incident's or the earlier message's)."""
    given = data.model_dump(exclude_unset=True)
    values = {**base, **{k: v for k, v in given.items() if k not in ("areas", "broadcast") and v is not None}}
    if data.areas is not None:
        values["codes"], values["polygon"] = data.areas.codes, data.areas.polygon
    for field in ("event", "category", "headline", "description"):
        if not values.get(field):
            raise InvalidField(field, "required (or raise the alert from an incident)")
    defaults = {"urgency": "Expected", "severity": "Moderate", "certainty": "Likely", "status": "Actual"}
    for field, default in defaults.items():
        values.setdefault(field, default)
    onset, expires = values.get("onset"), values.get("expires")
    if expires is not None and expires <= (onset or utcnow()):
        raise InvalidField("expires", "must be after the onset and in the future")
    return values


def _insert(ctx: Context, conn: Connection, who: Principal, values: dict[str, Any], *, msg_type: str,
            references_id: str | None, note: str | None, broadcast: bool, request_key: str | None = None) -> Any:
    # The CAP areas are drawn again for each document; here the choice is checked and expanded.
    _, desa_codes, area_desc = alert_areas.resolve(ctx.gazetteer, values.get("codes") or [],
                                                   values.get("polygon"))
    now = utcnow()
    code = "PRG-" + new_ticket().replace("-", "")
    alert_id = str(uuid.uuid4())
    conn.execute(insert(alerts).values(
        id=alert_id, code=code, identifier=f"siaga112-ppu-{now:%Y%m%d%H%M%S}-{code[4:]}",
        sender=ctx.settings.cap_sender, sent_at=now, status=values["status"], msg_type=msg_type,
        references_id=references_id, event=values["event"], category=values["category"],
        urgency=values["urgency"], severity=values["severity"], certainty=values["certainty"],
        response_type=values.get("response_type"), headline=values["headline"],
        description=values["description"], instruction=values.get("instruction"),
        onset_at=values.get("onset"), expires_at=values.get("expires"), area_desc=area_desc,
        area_codes=list(values.get("codes") or []), polygon=values.get("polygon"), desa_codes=desa_codes,
        incident_id=values.get("incident_id"), note=note, created_by=who.user_id, recipients=0,
        request_key=request_key))
    row = load_row(conn, alerts, alert_id, missing="alert not found")
    # Exercises and tests stay off citizens' phones.
    if broadcast and row.status == "Actual":
        sent = _broadcast(ctx, conn, row, now)
        conn.execute(update(alerts).where(alerts.c.id == alert_id).values(recipients=sent))
        row = load_row(conn, alerts, alert_id, missing="alert not found")
    audit.record(conn, who, f"alert.{msg_type.lower()}", "alert", alert_id,
                 detail={"code": code, "areas": area_desc, "recipients": row.recipients})
    return row


def already_sent(ctx: Context, conn: Connection, request_key: str | None) -> AlertRead | None:
    """The message this request key already issued (a double click or a client's retry)."""
    if request_key is None:
        return None
    row = conn.execute(select(alerts).where(alerts.c.request_key == request_key)).first()
    return read_alert(ctx, conn, row) if row is not None else None


def issue_alert(ctx: Context, who: Principal, data: AlertCreate, *, conn: Connection,
                request_key: str | None = None) -> AlertRead:
    """A new public alert, for chosen wilayah, a drawn area, or an incident's place."""
    require_alert_issuer(who, ctx.sop.command_agency)
    if (earlier := already_sent(ctx, conn, request_key)) is not None:
        return earlier
    base = _from_incident(ctx, who, data, conn) if data.incident_id else {}
    values = _content(ctx, data, base)
    row = _insert(ctx, conn, who, values, msg_type="Alert", references_id=None, note=None,
                  broadcast=data.broadcast, request_key=request_key)
    return read_alert(ctx, conn, row)


def _supersede(ctx: Context, conn: Connection, alert_id: str, now: datetime) -> Any:
    """Take the current message of an alert out of service; 409 if it already was."""
    row = load_row(conn, alerts, alert_id, missing="alert not found", lock=True)
    if row.msg_type == "Cancel":
        raise Conflict("this alert was cancelled")
    changed = conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.superseded_at.is_(None))
                           .values(superseded_at=now))
    if changed.rowcount != 1:
        raise Conflict("this alert was already updated or cancelled; open its latest message")
    return row


def _earlier_values(row: Any) -> dict[str, Any]:
    return {"event": row.event, "category": row.category, "urgency": row.urgency,
            "severity": row.severity, "certainty": row.certainty, "response_type": row.response_type,
            "headline": row.headline, "description": row.description, "instruction": row.instruction,
            "onset": row.onset_at, "expires": row.expires_at, "codes": row.area_codes,
            "polygon": row.polygon, "incident_id": row.incident_id, "status": row.status}


def update_alert(ctx: Context, who: Principal, alert_id: str, data: AlertContent, *,
                 conn: Connection) -> AlertRead:
    """A CAP Update: what changed replaces the earlier message, the rest carries over."""
    require_alert_issuer(who, ctx.sop.command_agency)
    earlier = _supersede(ctx, conn, alert_id, utcnow())
    values = _content(ctx, data, _earlier_values(earlier))
    row = _insert(ctx, conn, who, values, msg_type="Update", references_id=earlier.id, note=None,
                  broadcast=data.broadcast)
    return read_alert(ctx, conn, row)


def cancel_alert(ctx: Context, who: Principal, alert_id: str, data: AlertCancel, *,
                 conn: Connection) -> AlertRead:
    """A CAP Cancel: the alert no longer applies; subscribers of its area are told."""
    require_alert_issuer(who, ctx.sop.command_agency)
    earlier = _supersede(ctx, conn, alert_id, utcnow())
    values = {**_earlier_values(earlier), "expires": None, "urgency": "Past", "response_type": "AllClear",
              "headline": f"Dicabut: {earlier.headline}"[:160],
              "description": data.note, "instruction": None}
    row = _insert(ctx, conn, who, values, msg_type="Cancel", references_id=earlier.id, note=data.note,
                  broadcast=data.broadcast)
    return read_alert(ctx, conn, row)


def get_alert(ctx: Context, alert_id: str, *, conn: Connection) -> AlertRead:
    return read_alert(ctx, conn, load_row(conn, alerts, alert_id, missing="alert not found"))


def alert_by_code(ctx: Context, code: str, *, conn: Connection) -> AlertRead:
    row = conn.execute(select(alerts).where(alerts.c.code == code.upper())).first()
    if row is None:
        raise NotFound("alert not found")
    return read_alert(ctx, conn, row)


def latest_of(ctx: Context, conn: Connection, alert_id: str) -> AlertRead | None:
    """The message that now stands for this alert, when a later one replaced it."""
    row, latest = None, alert_id
    while (found := conn.execute(select(alerts).where(alerts.c.references_id == latest)).first()) is not None:
        row, latest = found, found.id
    return read_alert(ctx, conn, row) if row is not None else None


def list_alerts(ctx: Context, *, conn: Connection, current_only: bool, limit: int = 100) -> list[AlertRead]:
    now = utcnow()
    query = select(alerts).order_by(alerts.c.sent_at.desc()).limit(limit)
    if current_only:
        query = query.where(_current_clause(now))
    return [read_alert(ctx, conn, r, now=now) for r in conn.execute(query).all()]


def cap_xml(ctx: Context, alert_id: str, *, conn: Connection) -> bytes:
    row = load_row(conn, alerts, alert_id, missing="alert not found")
    blocks, _, _ = alert_areas.resolve(ctx.gazetteer, row.area_codes, row.polygon)
    _, page_url = alert_urls(ctx, row)
    return cap_document(row, blocks, references=references(ctx, conn, row), tz=_tz(ctx), web=page_url)


def feed(ctx: Context, *, conn: Connection) -> bytes:
    now = utcnow()
    rows = conn.execute(select(alerts).where(_current_clause(now)).order_by(alerts.c.sent_at.desc())
                        .limit(100)).all()
    return atom_feed(rows, base_url=ctx.settings.public_base_url.rstrip("/"), tz=_tz(ctx),
                     updated=max((r.sent_at for r in rows), default=now))


# ------------------------------------------------------------------ subscribers

def subscribe(ctx: Context, conn: Connection, *, phone: str, channel: str, area_code: str) -> None:
    """Opt in to the alerts of a kecamatan or desa (from the number itself: an SMS keyword)."""
    if ctx.gazetteer.place(area_code) is None:
        raise InvalidField("area_code", f"no kecamatan or desa {area_code!r} in PPU")
    existing = conn.execute(select(alert_subscriptions.c.id).where(
        alert_subscriptions.c.phone == phone, alert_subscriptions.c.channel == channel,
        alert_subscriptions.c.area_code == area_code)).scalar()
    if existing is None:
        conn.execute(insert(alert_subscriptions).values(phone=phone, channel=channel, area_code=area_code,
                                                        created_at=utcnow()))
    else:
        conn.execute(update(alert_subscriptions).where(alert_subscriptions.c.id == existing)
                     .values(opted_out_at=None))
    # Asking for alerts is asking for messages: a number that had said BERHENTI says MULAI too.
    notify.opt_in(conn, phone)


def unsubscribe(conn: Connection, *, phone: str) -> int:
    """No more alerts for this number, for any area."""
    return conn.execute(update(alert_subscriptions).where(
        alert_subscriptions.c.phone == phone, alert_subscriptions.c.opted_out_at.is_(None))
        .values(opted_out_at=utcnow())).rowcount


def place_named(ctx: Context, words: str) -> str | None:
    """The kecamatan or desa a citizen named in a keyword message ("DAFTAR SEPAKU")."""
    wanted = fold(words)
    for level in ("kecamatan", "desa"):
        for place in ctx.gazetteer.places(level):
            if fold(place.name) == wanted:
                return place.code
    return None


def _broadcast(ctx: Context, conn: Connection, row: Any, now: datetime) -> int:
    """Queue the message for every subscriber of a desa or kecamatan the alert reaches."""
    reached = set(row.desa_codes)
    codes = reached | {kecamatan_code_of(d) for d in reached}
    subscribers = conn.execute(select(alert_subscriptions.c.phone, alert_subscriptions.c.channel).where(
        alert_subscriptions.c.area_code.in_(sorted(codes)), alert_subscriptions.c.opted_out_at.is_(None))
        .distinct()).all()
    _, page_url = alert_urls(ctx, row)
    text = f"{OPENING[row.msg_type]} {row.event}: {row.headline}."
    if row.instruction:
        text += f" {row.instruction}"
    footer = f" Info: {page_url} Balas BERHENTI untuk berhenti."
    text = text[: SMS_LIMIT - len(footer)] + footer
    parameters = [f"{OPENING[row.msg_type]}: {row.headline}", row.code, page_url]
    return sum(notify.enqueue_broadcast(ctx, conn, key=row.code, phone=s.phone, channel=s.channel,
                                        stage=STAGE[row.msg_type], text=text, parameters=parameters,
                                        url=page_url, now=now) for s in subscribers)
