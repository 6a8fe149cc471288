"""The one place-name normaliser: what callers type becomes the words names are indexed under."""
import pytest

from siaga112.geo.names import LEVEL_PREFIXES, fold, words


@pytest.mark.parametrize(("typed", "expected"), [
    ("Sépaku", ["sepaku"]),
    ("Kel. Nipah2", ["kel", "nipah", "nipah"]),
    ("Lawe-lawe", ["lawe", "lawe"]),
    ("Sei Tunan", ["sungai", "tunan"]),
    ("SUNGEI parit", ["sungai", "parit"]),
    ("Tjg. Tengah", ["tanjung", "tengah"]),
    ("km12", ["km", "12"]),
    ("Kilometer 012", ["km", "12"]),
    ("SDN 001 Sepaku", ["sdn", "1", "sepaku"]),
    ("RSUD PPU", ["rumah", "sakit", "umum", "daerah", "ppu"]),
    ("  ,;  ", []),
])
def test_words(typed, expected):
    assert words(typed) == expected


def test_fold_keeps_spaces_and_punctuation_for_the_caller_to_split():
    assert fold("Désa  Babulu-Laut") == "desa  babulu-laut"


def test_level_prefixes_name_desa_or_kecamatan():
    assert {LEVEL_PREFIXES[w] for w in ("desa", "ds", "kel", "kelurahan")} == {"desa"}
    assert {LEVEL_PREFIXES[w] for w in ("kec", "kecamatan", "kc")} == {"kecamatan"}
