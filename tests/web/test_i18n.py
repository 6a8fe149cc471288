"""Every console string has its English; times are shown in WITA."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2.ext import babel_extract

from siaga112.calls.pages import OUTCOMES
from siaga112.web.templating import ROLE_LABELS, STATUS_LABELS, Pages, load_translations

# Words that are the same in both languages.
SAME_IN_ENGLISH = {"Radio", "Status", "administrator", "Label", "Label (English)", "operator"}
SRC = Path(__file__).resolve().parents[2] / "src" / "siaga112"


def _template_messages() -> set[str]:
    found = set()
    for path in SRC.glob("**/templates/**/*.html"):
        with path.open("rb") as fh:
            for _, _, message, _ in babel_extract(fh, ("_", "gettext"), [], {"extensions": "jinja2.ext.i18n"}):
                if isinstance(message, str):
                    found.add(message)
    return found


def test_every_console_string_has_an_english_translation():
    english = load_translations("en")
    wanted = _template_messages() | set(STATUS_LABELS.values()) | set(ROLE_LABELS.values()) \
        | {label for _, _, label in OUTCOMES}
    assert len(wanted) > 100
    missing = sorted(m for m in wanted if english.gettext(m) == m and m not in SAME_IN_ENGLISH)
    assert not missing, f"no English for: {missing}"


def test_times_are_shown_in_wita():
    pages = Pages(timezone="Asia/Makassar", tile_url="", tile_attribution="")
    at = datetime(2026, 11, 30, 1, 5, tzinfo=UTC)
    assert pages.envs["id"].filters["wita"](at, "HH:mm") == "09:05 WITA"
    assert pages.envs["en"].filters["wita"](at, "d MMM HH:mm") == "30 Nov 09:05 WITA"
