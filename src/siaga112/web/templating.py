"""Jinja2 pages in Bahasa Indonesia (the source language) or English, with times in WITA."""
from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

from siaga112.auth.permissions import console_rights
from siaga112.events import EventName
from siaga112.geo.gazetteer import Gazetteer
from siaga112.models.status import AWAITING_ASSIGNMENT, OPEN_INCIDENT

PACKAGE = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE / "data" / "ppu"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "siaga112_lang"
# What a console's event stream can carry (auth.revoked never reaches a stream); app.js listens
# for each, so a new event name needs no change there.
LIVE_EVENTS = " ".join(e.value for e in EventName if e is not EventName.AUTH_REVOKED)
# Each domain keeps its screens next to its code (ARCHITECTURE.md); "calls/new_call.html" is
# src/siaga112/calls/templates/new_call.html, and the citizens' pages extend "public/base.html".
DOMAINS = ("calls", "dispatch", "incidents", "admin", "public", "units", "alerts", "reports", "shifts")


# Status codes as people read them; English comes from the catalogue like every other string.
STATUS_LABELS = {
    "new": "baru", "dispatched": "unit dikirim", "on_scene": "di lokasi", "resolved": "tertangani",
    "closed": "ditutup", "cancelled": "dibatalkan", "pending": "menunggu",
    "acknowledged": "diterima", "en_route": "dalam perjalanan", "completed": "selesai",
    "declined": "ditolak", "lead": "pemimpin", "support": "pendukung",
    "overdue": "lewat tenggat", "unclassified": "belum terklasifikasi", "out_of_area": "luar wilayah",
    # calls at the PBX
    "ringing": "berdering", "answered": "dijawab",
    # units
    "available": "tersedia", "transporting": "membawa korban", "returning": "kembali ke pos",
    "out_of_service": "tidak beroperasi",
    # places
    "desa": "desa", "kelurahan": "kelurahan", "kecamatan": "kecamatan", "mosque": "masjid",
    "church": "gereja", "temple": "pura/vihara", "school": "sekolah", "market": "pasar",
    "km_marker": "patok km", "port": "pelabuhan", "hospital": "rumah sakit",
    "health_centre": "puskesmas", "police": "kantor polisi", "fire_station": "pos damkar",
    "office": "kantor", "bridge": "jembatan", "other": "lainnya",
    # what needs the command centre's attention
    "completed_without_unit": "selesai tanpa unit dikirim",
    # timeline entries (incidents/timeline.py callers); unit_<status> reads as its unit status
    "created": "laporan diterima", "routed": "diteruskan", "note": "catatan", "rerouted": "dialihkan",
    "support_requested": "bantuan diminta", "caller_linked": "penelepon lain", "escalated": "eskalasi",
    "status": "status insiden",
    # kinds of unit and what they can do (units/service.py)
    "fire_truck": "mobil pemadam", "rescue_team": "tim penyelamat", "rapid_response": "tim reaksi cepat",
    "rescue_boat": "perahu penyelamat", "ambulance": "ambulans", "patrol_car": "mobil patroli",
    "field_team": "tim lapangan", "fire_suppression": "pemadaman", "water_supply": "pasokan air",
    "rescue": "penyelamatan", "extrication": "evakuasi korban terjepit", "animal_handling": "penanganan hewan",
    "tree_clearing": "pembersihan pohon", "assessment": "kaji cepat", "evacuation": "evakuasi",
    "logistics": "logistik", "water_rescue": "penyelamatan di air", "medical": "pertolongan medis",
    "patient_transport": "angkut pasien", "law_enforcement": "penegakan hukum",
    "traffic_control": "pengaturan lalu lintas",
}
def _label(tr: NullTranslations, code: str | None) -> str:
    """A code as people read it; `unit_en_route` (a unit's own timeline entry) as "unit …"."""
    if code is None:
        return ""
    if code in STATUS_LABELS:
        return tr.gettext(STATUS_LABELS[code])
    if code.startswith("unit_") and code[5:] in STATUS_LABELS:
        return "unit " + tr.gettext(STATUS_LABELS[code[5:]])
    return code


ROLE_LABELS = {
    "admin": "administrator", "call_taker": "operator 112", "commander": "komandan",
    "dispatcher": "petugas dinas", "viewer": "pemantau", "integration": "integrasi",
}


def load_translations(lang: str) -> NullTranslations:
    """The catalogue for a language, compiled from its .po file in memory (no .mo in the repo)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


class Pages:
    """One Jinja2 environment per language, built once; render() picks the viewer's language."""

    def __init__(self, *, timezone: str, tile_url: str, tile_attribution: str,
                 gazetteer: Gazetteer | None = None) -> None:
        loader = ChoiceLoader([
            FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
            PrefixLoader({d: FileSystemLoader(str(PACKAGE / d / "templates")) for d in DOMAINS}),
        ])
        self.tz = ZoneInfo(timezone)
        self.envs: dict[str, Environment] = {}
        self.translations: dict[str, NullTranslations] = {}
        for lang in LANGUAGES:
            self.translations[lang] = load_translations(lang)
            env = Environment(loader=loader, autoescape=select_autoescape(default=True),
                              extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
            # Added by the i18n extension, so the type stubs do not know it.
            env.install_gettext_translations(self.translations[lang], newstyle=True)  # type: ignore[attr-defined]
            env.filters["wita"] = self._wita_filter(lang)
            env.filters["place_name"] = self._place_name(gazetteer)
            tr = self.translations[lang]
            env.filters["label"] = lambda code, tr=tr: _label(tr, code)
            env.globals["role_labels"] = {k: tr.gettext(v) for k, v in ROLE_LABELS.items()}
            env.globals.update(open_statuses=OPEN_INCIDENT, awaiting_statuses=AWAITING_ASSIGNMENT)
            env.globals.update(lang=lang, languages=LANGUAGES, tile_url=tile_url,
                               tile_attribution=tile_attribution, live_events=LIVE_EVENTS)
            self.envs[lang] = env

    @staticmethod
    def _place_name(gazetteer: Gazetteer | None):
        def place_name(code: str | None, default: str = "") -> str:
            place = gazetteer.place(code) if gazetteer is not None and code else None
            return place.name if place is not None else default
        return place_name

    def _wita_filter(self, lang: str):
        def wita(value: datetime | None, pattern: str = "d MMM yyyy HH:mm") -> str:
            if value is None:
                return "—"
            return format_datetime(value, pattern, tzinfo=self.tz, locale=lang) + " WITA"
        return wita

    @staticmethod
    def language(request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE)
        return lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def render(self, request: Request, name: str, status_code: int = 200, *, lang: str | None = None,
               headers: Mapping[str, str] | None = None, **context) -> HTMLResponse:
        """A page in the viewer's language, or in `lang` (the citizens' pages are Indonesian only)."""
        env = self.envs[lang or self.language(request)]
        who = context.get("who") or getattr(request.state, "principal", None)
        if who is not None and "can" not in context:
            # What the screen offers this person; templates never read the role themselves.
            context["can"] = console_rights(who)
        html = env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def gettext(self, request: Request, message: str) -> str:
        return self.translations[self.language(request)].gettext(message)


def pages_of(request: Request) -> Pages:
    return request.app.state.pages
