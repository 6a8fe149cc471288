"""Advanced Mobile Location (ETSI TS 103 625): the SMS text and the HTTPS POST, parsed and checked.

A handset that dials 112 sends its own position. The SMS form is one line of `key=value` pairs
separated by `;`, starting with `A"ML=<version>`:

    A"ML=1;lt=-1.25630;lg=+116.76840;rd=12;top=20260101083015;lc=68;pm=G;si=…;ei=…;mcc=510;mnc=10;ml=…

(`lt`/`lg` degrees, `rd` radius in metres, `top` time of positioning YYYYMMDDhhmmss UTC, `lc`
confidence in %, `pm` method G/W/C/N, `si` IMSI, `ei` IMEI, `ml` the message length). The HTTPS
form is an `application/x-www-form-urlencoded` body with `location_latitude`,
`location_longitude`, `location_accuracy`, `location_time` (ms since the epoch),
`location_source`, `device_number`, `device_imei`, `device_imsi` and others.

Parsing never raises: whatever arrives is returned with its problems listed, so a malformed
message is kept and flagged. IMSI and IMEI are removed from the kept text; we do not need them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

SMS_PREFIX = 'A"ML='
_METHODS_SMS = {"G": "gnss", "W": "wifi", "C": "cell", "N": "none"}
_METHODS_HTTPS = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell", "fused": "fused",
                  "network": "cell"}
_PRIVATE_SMS = ("si", "ei")
_PRIVATE_HTTPS = ("device_imei", "device_imsi")
MAX_RAW = 2000


@dataclass
class AmlFix:
    form: str
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    positioned_at: datetime | None = None
    confidence: int | None = None
    method: str | None = None
    problems: list[str] = field(default_factory=list)
    raw: str = ""

    @property
    def valid(self) -> bool:
        return not self.problems


def is_aml_sms(text: str) -> bool:
    return text.lstrip().startswith(SMS_PREFIX)


def _number(value: str | None, name: str, problems: list[str], *, lo: float, hi: float) -> float | None:
    if value is None or value == "":
        problems.append(f"{name}: missing")
        return None
    try:
        number = float(value)
    except ValueError:
        problems.append(f"{name}: not a number")
        return None
    if number != number or not lo <= number <= hi:  # NaN or out of range
        problems.append(f"{name}: out of range")
        return None
    return number


def parse_sms(text: str, *, phone: str | None = None) -> AmlFix:
    """The SMS form (`A"ML=1;lt=…;lg=…;rd=…;top=…`)."""
    body = text.strip()
    fix = AmlFix(form="sms", phone=phone)
    problems = fix.problems
    pairs: dict[str, str] = {}
    kept = []
    for part in body.split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"field without value: {key[:20]!r}")
            continue
        if key in pairs:
            problems.append(f"{key[:20]}: repeated")
        pairs[key] = value.strip()
        kept.append(part if key not in _PRIVATE_SMS else f"{key}=")
    fix.raw = ";".join(kept)[:MAX_RAW]
    if not body.startswith(SMS_PREFIX):
        problems.append('header: not an A"ML message')
    elif pairs.get('A"ML') not in ("1", "2", "3"):
        problems.append('A"ML: unknown version')
    fix.lat = _number(pairs.get("lt"), "lt", problems, lo=-90, hi=90)
    fix.lon = _number(pairs.get("lg"), "lg", problems, lo=-180, hi=180)
    fix.radius_m = _number(pairs.get("rd"), "rd", problems, lo=0, hi=1_000_000)
    if "top" in pairs:
        try:
            fix.positioned_at = datetime.strptime(pairs["top"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            problems.append("top: not a time (YYYYMMDDhhmmss)")
    else:
        problems.append("top: missing")
    if "lc" in pairs:
        confidence = _number(pairs["lc"], "lc", problems, lo=0, hi=100)
        fix.confidence = None if confidence is None else int(confidence)
    if "pm" in pairs:
        fix.method = _METHODS_SMS.get(pairs["pm"].upper())
        if fix.method is None:
            problems.append("pm: unknown positioning method")
    if "ml" in pairs:
        # The sender states the message length; a different length means it was cut or joined.
        if not pairs["ml"].isdigit() or int(pairs["ml"]) != len(body):
            problems.append("ml: message length does not match")
    return fix


def parse_https(body: bytes | str) -> AmlFix:
    """The HTTPS POST form (urlencoded fields)."""
    fix = AmlFix(form="https")
    problems = fix.problems
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        pairs = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
    except ValueError:
        pairs = {}
    fix.raw = urlencode({k: ("" if k in _PRIVATE_HTTPS else v) for k, v in pairs.items()})[:MAX_RAW]
    if not pairs:
        problems.append("body: no fields")
    fix.phone = pairs.get("device_number") or None
    fix.lat = _number(pairs.get("location_latitude"), "location_latitude", problems, lo=-90, hi=90)
    fix.lon = _number(pairs.get("location_longitude"), "location_longitude", problems, lo=-180, hi=180)
    fix.radius_m = _number(pairs.get("location_accuracy"), "location_accuracy", problems,
                           lo=0, hi=1_000_000)
    raw_time = pairs.get("location_time")
    if raw_time:
        try:
            fix.positioned_at = datetime.fromtimestamp(int(raw_time) / 1000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            problems.append("location_time: not milliseconds since the epoch")
    else:
        problems.append("location_time: missing")
    if pairs.get("location_certainty"):
        confidence = _number(pairs["location_certainty"], "location_certainty", problems, lo=0, hi=100)
        fix.confidence = None if confidence is None else int(confidence)
    source = pairs.get("location_source")
    if source:
        fix.method = _METHODS_HTTPS.get(source.lower())
        if fix.method is None:
            problems.append("location_source: unknown")
    if not fix.phone:
        problems.append("device_number: missing")
    return fix
