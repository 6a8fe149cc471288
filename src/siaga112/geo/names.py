"""Place names as people type them, reduced to comparable words.

The one normaliser behind the gazetteer (a desa named in a free-text address) and the call-taker's
search box (desa, kecamatan and landmarks): "Kel. Nipah2", "Sei Tunan", "SDN 001" and "Sépaku"
become the same words the names themselves are indexed under.
"""
from __future__ import annotations

import re
import unicodedata

# Words that name a level rather than a place; each tells which level the name after it is.
LEVEL_PREFIXES = {
    "desa": "desa", "ds": "desa", "dsa": "desa", "kel": "desa", "kelurahan": "desa", "lurah": "desa",
    "kec": "kecamatan", "kecamatan": "kecamatan", "kc": "kecamatan", "kcm": "kecamatan",
}

# Short forms in PPU place and landmark names, and the misspellings callers use for them.
ABBREVIATIONS = {
    "sei": "sungai", "sg": "sungai", "sungei": "sungai",
    "gn": "gunung", "gng": "gunung",
    "kp": "kampung", "kpg": "kampung", "kmp": "kampung",
    "tj": "tanjung", "tg": "tanjung", "tjg": "tanjung",
    "bkt": "bukit",
    "jl": "jalan", "jln": "jalan",
    "psr": "pasar", "msj": "masjid", "mesjid": "masjid", "mesdjid": "masjid",
    "pel": "pelabuhan", "pelab": "pelabuhan",
    "rs": "rumah sakit", "rsud": "rumah sakit umum daerah", "pkm": "puskesmas",
    "kilometer": "km",
}

# "Nipah2", "Api2": Indonesian shorthand for a reduplicated word.
_REDUPLICATION = re.compile(r"\b([a-z]{3,})2\b")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_TOKEN = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without accents ("Sépaku" is "sepaku")."""
    if text.isascii():  # nearly every address: skip the per-character pass
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The words of a name or query: folded, reduplication spelled out, "km12" as "km 12",
    numbers without leading zeros, abbreviations expanded."""
    text = _LETTER_DIGIT.sub(" ", _REDUPLICATION.sub(r"\1 \1", fold(text)))
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isdigit():
            token = str(int(token))  # SDN 001 and SDN 1 are the same school
        out.extend(ABBREVIATIONS.get(token, token).split())
    return out
