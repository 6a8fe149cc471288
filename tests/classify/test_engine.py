"""Incident-type classifier: accuracy on the held-out labelled split and specific behaviour."""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga112.classify import engine
from siaga112.classify.engine import Classification, Classifier
from siaga112.classify.vocabulary import VocabularyError, default_vocabulary_path, load_vocabulary, parse_vocabulary
from siaga112.sop.loader import default_sop_path, load_sop
from siaga112.sop.schemas import IncidentType
from support import edit, line_of

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests/data/classify_labelled.csv"

# Measured on the test split: 81/82 = 98.8% (80/82 before the last change; dev 172/172).
# The set and the vocabulary share an author, so unseen text scores lower (about 85-86% on
# fresh probes); the floor sits a few points under the measured figure to catch regressions.
TEST_ACCURACY_FLOOR = 0.93


def _load_types() -> list[IncidentType]:
    """Incident types from the shipped SOP file."""
    return list(load_sop(default_sop_path()).incident_types.values())


def _rows() -> list[dict[str, str]]:
    """The labelled descriptions."""
    with LABELLED.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def types() -> list[IncidentType]:
    return _load_types()


@pytest.fixture(scope="module")
def clf(types) -> Classifier:
    return Classifier(types)


# ------------------------------------------------------------------ labelled set


def test_labelled_set_shape(types):
    rows = _rows()
    codes = {t.code for t in types}
    assert len(rows) >= 200
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert all(r["type_code"] in codes for r in rows)
    per_type: dict[str, int] = {}
    for r in rows:
        per_type[r["type_code"]] = per_type.get(r["type_code"], 0) + 1
    assert "PRANK" not in per_type
    assert all(per_type.get(c, 0) >= 6 for c in codes - {"PRANK"})
    assert 0.25 <= sum(r["split"] == "test" for r in rows) / len(rows) <= 0.4


def test_accuracy_on_test_split(clf):
    rows = [r for r in _rows() if r["split"] == "test"]
    wrong = [
        (r["type_code"], got.type_code, r["description"])
        for r in rows
        if (got := clf.classify(r["description"])).type_code != r["type_code"]
    ]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= TEST_ACCURACY_FLOOR, f"accuracy {accuracy:.1%}; mistakes: {wrong}"


def test_results_are_well_formed_and_never_prank_on_labelled_set(clf):
    for r in _rows():
        got = clf.classify(r["description"])
        assert isinstance(got, Classification)
        assert 0.0 <= got.confidence <= 1.0
        assert len(got.alternatives) <= 3
        assert got.type_code not in got.alternatives
        assert len(set(got.alternatives)) == len(got.alternatives)
        assert "OTHER" not in got.alternatives
        assert got.type_code != "PRANK"


# ------------------------------------------------------------------ language handling


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rumah sy kebakarn tolong", "FIRE-BLDG"),
        ("anak tenggelem di sungai", "WATER-RESCUE"),
        ("ada yg pingsn di pasar", "MED-EMERG"),
        ("kcelakaan motor di km 5", "TRAFFIC-ACC"),
        ("banjr di perumahan", "FLOOD"),
    ],
)
def test_misspellings(clf, text, expected):
    assert clf.classify(text).type_code == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("bpk sy tdk sadar dkt jln", "MED-EMERG"),
        ("air sdh masuk rmh sy", "FLOOD"),
        ("anak sy blm plg dr kmrn", "MISSING-PERSON"),
        ("KLL R2 vs R4 korban 1 LB", "TRAFFIC-ACC"),
        ("listrik padammm tolonggg", "POWER"),
        ("abah ulun kada sadar", "MED-EMERG"),  # Banjar: "my father is unconscious"
        ("ambulan cepat, bapak gk bangun2", "MED-EMERG"),
    ],
)
def test_abbreviations_slang_and_regional_words(clf, text, expected):
    assert clf.classify(text).type_code == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # Issue 12: typed as a new call-taker would, each went to the wrong agency.
        ("tabung elpiji bocor, bau gas", "FIRE-BLDG"),  # went to DLH
        ("motor jatuh sendiri, kepala berdarah", "TRAFFIC-ACC"),  # went to OTHER
        ("kecelakaan tunggal motor, pengendara luka di kepala", "TRAFFIC-ACC"),
        ("omah kobong, geni gede", "FIRE-BLDG"),  # Javanese; went to OTHER
        ("mau bunuh diri", "SELF-HARM"),  # went to DINSOS alone
        ("gantung diri", "SELF-HARM"),  # went to OTHER
    ],
)
def test_known_misses_from_the_console_trial(clf, text, expected):
    assert clf.classify(text).type_code == expected


def test_a_suicide_attempt_is_a_life_threatening_medical_case_with_the_police(types):
    self_harm = next(t for t in types if t.code == "SELF-HARM")
    assert (self_harm.priority, self_harm.lead) == (1, "DINKES")
    assert "POLRES" in self_harm.support


def test_inflections_reduce_to_the_same_root(clf):
    for text in ("rumah terbakar", "kebakaran rumah", "rumahnya dibakar", "rumah tabakar"):
        assert clf.classify(text).type_code == "FIRE-BLDG", text
    for text in ("ditabrak truk", "motor menabrak truk", "motor nabrak truk", "tabrakan"):
        assert clf.classify(text).type_code == "TRAFFIC-ACC", text


def test_place_names_are_not_hazards(clf):
    # "Api-Api" is a village in Waru and "Penajam" must not stem to "tajam" (sharp).
    assert clf.classify("pohon tumbang di desa Api-Api").type_code == "STORM-TREE"
    assert clf.classify("warga Penajam").type_code == "OTHER"


def test_negation(clf):
    assert clf.classify("banjir").type_code == "FLOOD"
    assert clf.classify("bukan banjir").type_code == "OTHER"
    # A negator inside a phrase is the phrase's meaning, not a negation.
    assert clf.classify("bapak tidak sadar").type_code == "MED-EMERG"


# ------------------------------------------------------------------ threshold and fallback


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "?!.,"])
def test_empty_input_is_other_with_zero_confidence(clf, text):
    assert clf.classify(text) == Classification("OTHER", 0.0, ())


def test_no_evidence_is_other_without_alternatives(clf):
    assert clf.classify("tetangga sy utang gk dibayar2") == Classification("OTHER", 0.0, ())


def test_below_threshold_falls_back_with_alternatives(types):
    strict = Classifier(types, threshold=0.95)
    got = strict.classify("ada asap di belakang rumah")
    assert got.type_code == "OTHER"
    assert 0.0 < got.confidence < 0.95
    assert got.alternatives[0] == "FIRE-BLDG"
    assert "FIRE-LAND" in got.alternatives
    # The same text with the default threshold is a suggestion, not a fallback.
    assert Classifier(types).classify("ada asap di belakang rumah").type_code == "FIRE-BLDG"


def test_weak_single_cue_falls_back(clf):
    got = clf.classify("besok mau ke dokter")
    assert got.type_code == "OTHER"
    assert got.alternatives == ("MED-EMERG",)


def test_custom_fallback_code(types):
    assert Classifier(types, fallback_code="INFO").classify("").type_code == "INFO"


def test_alternatives_are_ranked_plausible_rivals(clf):
    got = clf.classify("kebun sawit terbakar dekat rumah warga, asap tebal")
    assert got.type_code == "FIRE-LAND"
    assert got.alternatives[0] == "FIRE-BLDG"


def test_prank_only_when_obvious(clf):
    assert clf.classify("maaf salah sambung pak").type_code == "PRANK"
    # Any real emergency in the same note wins over the prank reading.
    got = clf.classify("tadi salah sambung, tapi rumah tetangga terbakar")
    assert got.type_code == "FIRE-BLDG"
    assert "PRANK" not in got.alternatives


def test_information_request(clf):
    assert clf.classify("mau tanya nomor telepon damkar").type_code == "INFO"


# ------------------------------------------------------------------ SOP keywords


def test_keyword_added_by_an_administrator_takes_effect(types):
    text = "pesawat latih jatuh di Sepaku"
    assert Classifier(types).classify(text).type_code == "OTHER"
    edited = [
        dataclasses.replace(t, keywords=t.keywords + ("pesawat",)) if t.code == "TRAFFIC-ACC" else t
        for t in types
    ]
    clf = Classifier(edited)
    assert clf.classify(text).type_code == "TRAFFIC-ACC"
    assert clf.classify("pesawatnya jatuh").type_code == "TRAFFIC-ACC"  # inflected form too


def test_new_type_with_only_sop_keywords(types):
    tsunami = IncidentType(
        code="TSUNAMI", name_id="Tsunami", name_en="Tsunami", priority=1, lead="BPBD",
        keywords=("tsunami", "gelombang tinggi"),
    )
    clf = Classifier([*types, tsunami])
    assert clf.classify("ada gelombang tinggi di pantai").type_code == "TSUNAMI"
    assert clf.classify("ada tsunami").type_code == "TSUNAMI"


def test_removed_type_is_never_suggested(types):
    clf = Classifier([t for t in types if t.code != "FLOOD"])
    got = clf.classify("banjir sepinggang")
    assert got.type_code != "FLOOD" and "FLOOD" not in got.alternatives


def test_builtin_vocabulary_is_for_sop_codes_and_survives_normalisation(types):
    codes = {t.code for t in types}
    vocabulary = load_vocabulary()
    assert set(vocabulary.terms) <= codes
    language = engine._Language(vocabulary)
    terms = list(vocabulary.weighted_terms())
    assert len(terms) > 1000
    for code, term, _, _ in terms:
        words = language.normalise(term)
        # A stopword inside a term would silently shorten it ("air bah" -> "air").
        assert words and not [w for w in words if w in language.stopwords], (code, term)


# ------------------------------------------------------------------ the vocabulary file

VOCABULARY = default_vocabulary_path().read_text(encoding="utf-8")


def vocabulary_problems(text: str) -> list[str]:
    """The lines of the error for vocabulary `text`."""
    with pytest.raises(VocabularyError) as info:
        parse_vocabulary(text, source="vocabulary.yaml")
    return str(info.value).splitlines()


def test_packaged_vocabulary_is_read_once_per_process():
    assert load_vocabulary() is load_vocabulary()
    assert load_vocabulary().slang["tdk"] == "tidak"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  tdk: tidak\n", "  Tdk: tidak\n", "slang.Tdk: 'Tdk' must be one lower-case word (letters a-z)"),
        ("  tdk: tidak\n", "  tdk: 7\n", "slang.tdk: Input should be a valid string"),
        # A word deep in a list that runs over several lines is reported on its own line.
        ("sebelah, samping,", "sebelah, Samping,", "'Samping' must be one lower-case word (letters a-z)"),
        ("3.5: kompor ledak\n", "3.5: kompor ledak, kompor2\n",
         "terms.FIRE-BLDG.core.3.5.1: 'kompor2' must be lower-case words separated by single spaces"),
        ("3.5: kompor ledak\n", "tinggi: kompor ledak\n", "terms.FIRE-BLDG.core.tinggi: Input should be a valid number"),
        ("3.5: kompor ledak\n", "3.5: 12\n", "terms.FIRE-BLDG.core.3.5: must be words separated by commas, got 12"),
        ("  FIRE-BLDG:\n    core:\n", "  FIRE-BLDG:\n    cores:\n", "terms.FIRE-BLDG.cores: unknown key"),
        ("  FIRE-BLDG:\n", "  fire bldg:\n", "terms.fire bldg: 'fire bldg' must be an incident type code"),
        ("mem: m,", "mem: mm,", "affixes.nasal_prefixes.mem: Input should be 'ng', 'ny', 'm' or 'n'"),
    ],
)
def test_a_typo_in_the_vocabulary_fails_loudly_with_its_line(old, new, message):
    text = edit(VOCABULARY, old, new)
    line = line_of(text, new.strip().splitlines()[-1])
    problems = vocabulary_problems(text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"vocabulary.yaml: line {line}: "), problems
    assert message in problems[0], problems


def test_vocabulary_problems_are_all_reported():
    text = edit(edit(VOCABULARY, "  tdk: tidak\n", "  tdk: Tidak\n"), "\nnegators:", "\nnegator:")
    messages = vocabulary_problems(text)
    assert any("slang.tdk: 'Tidak' must be lower-case words" in m for m in messages), messages
    assert any("negator: unknown key" in m for m in messages), messages
    assert any("negators: Field required" in m for m in messages), messages


def test_vocabulary_syntax_error_gives_its_line():
    text = edit(VOCABULARY, "  tdk: tidak\n", "  tdk: tidak\n    tak: tidak\n")
    problems = vocabulary_problems(text)
    assert problems == [f"vocabulary.yaml: line {line_of(text, '  tdk: tidak') + 1}: YAML syntax error: "
                        "mapping values are not allowed here"]


def test_the_vocabulary_is_data_the_classifier_follows(types):
    text = "rumah bledos di sepaku"
    assert Classifier(types).classify(text).type_code == "OTHER"
    edited = parse_vocabulary(edit(VOCABULARY, "  tdk: tidak\n", "  tdk: tidak\n  bledos: terbakar\n"))
    assert Classifier(types, vocabulary=edited).classify(text).type_code == "FIRE-BLDG"


# ------------------------------------------------------------------ determinism and speed


def test_deterministic(types):
    texts = [r["description"] for r in _rows()]
    a, b = Classifier(types), Classifier(list(reversed(types)))
    first = [a.classify(t) for t in texts]
    assert [a.classify(t) for t in texts] == first
    assert [b.classify(t) for t in texts] == first


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_valid_result(clf, text):
    got = clf.classify(text)
    assert 0.0 <= got.confidence <= 1.0
    assert got.type_code not in got.alternatives and len(got.alternatives) <= 3


def test_regency_place_names_are_not_read_as_hazards():
    from siaga112.geo.gazetteer import default_gazetteer

    sop = load_sop(default_sop_path())
    names = [p.name for p in default_gazetteer().places()]
    with_places = Classifier(sop.incident_types.values(), place_names=names)
    # "Karang" would otherwise stem to "arang" (charcoal), a fire cue.
    assert with_places.classify("Buaya muncul di sungai dekat permukiman Karang Jinawi").type_code == "ANIMAL"
    assert with_places.classify("rumah terbakar di Karang Jinawi").type_code == "FIRE-BLDG"
