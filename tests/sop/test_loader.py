"""SOP loader: the packaged file is valid, and each kind of mistake is reported with its line."""
from __future__ import annotations

import pytest

from siaga112.sop.loader import default_sop_path, load_sop, parse_sop
from siaga112.sop.schemas import SopError, SopProblem
from support import edit, line_of  # SOP-editing helpers shared by the SOP and CLI tests

PACKAGED = default_sop_path().read_text(encoding="utf-8")

# A compact valid SOP; tests below hard-code its line numbers (listed after it).
MINI = """\
version: 1
regency:
  code: "64.09"
  name: Penajam Paser Utara
  timezone: Asia/Makassar
  bbox: [116.35, -1.60, 117.05, -0.75]
command_agency: BPBD
priorities:
  1: {label: {id: Darurat, en: Emergency}, ack_seconds: 60, dispatch_seconds: 180}
  2: {label: {id: Mendesak, en: Urgent}, ack_seconds: 180, dispatch_seconds: 900}
agencies:
  - {code: DISKOMINFO, name: Diskominfo, role: operator}
  - {code: BPBD, name: BPBD, role: command}
  - {code: DAMKAR, name: Damkar}
incident_types:
  - {code: FIRE, name: Kebakaran, priority: 1, lead: DAMKAR, support: [BPBD], keywords: [" Api ", KEBAKARAN, api]}
  - {code: OTHER, name: {id: Lainnya, en: Other}, priority: 2, lead: BPBD}
  - {code: INFO, name: Informasi, priority: 2, lead: null}
"""
# 1 version, 2 regency, 6 bbox, 7 command_agency, 8 priorities, 9-10 levels 1-2, 11 agencies,
# 12 DISKOMINFO, 13 BPBD, 14 DAMKAR, 15 incident_types, 16 FIRE, 17 OTHER, 18 INFO


def problems(text: str) -> list[SopProblem]:
    with pytest.raises(SopError) as info:
        parse_sop(text)
    assert info.value.problems
    return info.value.problems


def only_problem(text: str) -> SopProblem:
    """The single problem in `text` (fails if there are none or several)."""
    found = problems(text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def assert_problem(text: str, line: int, *fragments: str) -> None:
    """`text` has a problem on `line` whose message contains every fragment."""
    found = problems(text)
    assert any(
        p.line == line and all(f in p.message for f in fragments) for p in found
    ), f"no problem on line {line} with {fragments}; got:\n" + "\n".join(map(str, found))


def assert_only(text: str, line: int, *fragments: str) -> None:
    problem = only_problem(text)
    assert problem.line == line, str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)


# --- valid files ---------------------------------------------------------------


def test_packaged_file_loads() -> None:
    sop = load_sop(default_sop_path())
    assert len(sop.agencies) == 16
    assert len(sop.incident_types) == 24
    assert len(sop.priorities) == 4
    assert sop.command_agency == "BPBD"
    fire = sop.incident_types["FIRE-BLDG"]
    assert fire.lead == "DAMKAR"
    assert fire.support == ("BPBD", "DINKES", "PLN")
    assert fire.priority == 1
    assert fire.name_en == "Structure fire"
    assert "rumah terbakar" in fire.keywords
    assert sop.incident_types["INFO"].lead is None
    assert sop.incident_types["PRANK"].lead is None
    assert len(sop.routable_types()) == 22
    assert sop.priorities[1].ack_seconds == 60 and sop.priorities[1].dispatch_seconds == 180
    assert sop.priorities[4].label_en == "Complaint / information"
    assert sop.agencies["DISKOMINFO"].role == "operator"
    assert sop.agencies["BPBD"].role == "command"
    assert sop.agencies["POLRES"].external is True
    assert sop.agencies["DAMKAR"].external is False
    assert (sop.regency_code, sop.timezone) == ("64.09", "Asia/Makassar")
    assert sop.bbox == (116.35, -1.60, 117.05, -0.75)


def test_mini_file_loads_with_plain_names_and_clean_keywords() -> None:
    sop = parse_sop(MINI)
    fire = sop.incident_types["FIRE"]
    assert (fire.name_id, fire.name_en) == ("Kebakaran", "Kebakaran")
    assert fire.keywords == ("api", "kebakaran")  # lower-cased, stripped, repeats folded
    assert isinstance(fire.keywords, tuple)
    assert fire.support == ("BPBD",)
    assert sop.incident_types["OTHER"].support == ()
    assert list(sop.priorities) == [1, 2]


def test_load_sop_names_the_file_in_errors(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(edit(MINI, "support: [BPBD]", "support: [BPBDX]"), encoding="utf-8")
    with pytest.raises(SopError) as info:
        load_sop(path)
    assert info.value.source == str(path)
    assert str(info.value) == f"{path}: line 16: incident type FIRE: support agency BPBDX is not a defined agency"


# --- YAML and overall shape ----------------------------------------------------


def test_yaml_syntax_error_gives_parser_line() -> None:
    text = edit(PACKAGED, "    priority: 1\n    lead: DAMKAR\n", "    priority: 1\n   lead: DAMKAR\n")
    line = line_of(text, "Kebakaran bangunan") + 2
    assert text.splitlines()[line - 1] == "   lead: DAMKAR"
    assert_only(text, line, "YAML syntax error")


def test_yaml_duplicate_key_is_a_syntax_error() -> None:
    text = edit(MINI, "  bbox:", "  timezone: UTC\n  bbox:")
    assert_only(text, 6, "YAML syntax error", "duplicate key", "timezone")


@pytest.mark.parametrize(
    ("text", "line", "got"),
    [("- version\n- regency\n", 1, "a list"), ("just words\n", 1, "'just words'"), ("", 1, "null")],
)
def test_top_level_must_be_a_mapping(text: str, line: int, got: str) -> None:
    assert_only(text, line, "top level must be a mapping", got)


@pytest.mark.parametrize(
    ("section", "start", "end"),
    [("command_agency", 7, 7), ("priorities", 8, 10), ("agencies", 11, 14), ("incident_types", 15, 18)],
)
def test_missing_section(section: str, start: int, end: int) -> None:
    lines = MINI.splitlines(keepends=True)
    text = "".join(lines[: start - 1] + lines[end:])
    assert_only(text, 1, f"missing required section '{section}'")


@pytest.mark.parametrize(
    ("section", "start", "end", "replacement", "message"),
    [
        ("priorities", 8, 10, "priorities: [60, 180]", "'priorities' must be a mapping of level -> {label, "
         "ack_seconds, dispatch_seconds}, got a list of 2 item(s)"),
        ("agencies", 11, 14, "agencies: DAMKAR", "'agencies' must be a list of agencies, got 'DAMKAR'"),
        ("incident_types", 15, 18, "incident_types: []", "'incident_types' is empty"),
    ],
)
def test_section_with_wrong_shape(section: str, start: int, end: int, replacement: str, message: str) -> None:
    lines = MINI.splitlines(keepends=True)
    text = "".join(lines[: start - 1] + [replacement + "\n"] + lines[end:])
    assert_only(text, start, message)


def test_a_key_that_is_not_text_is_an_unknown_field() -> None:
    text = edit(MINI, "version: 1\n", "version: 1\n5: five\n")
    assert_only(text, 2, "top level: unknown field 5 (expected one of: version, regency, command_agency, "
                "priorities, agencies, incident_types)")


def test_section_of_the_wrong_shape_is_not_called_empty() -> None:
    lines = MINI.splitlines(keepends=True)
    text = "".join(lines[:14] + ["incident_types: {}\n"])
    assert_only(text, 15, "'incident_types' must be a list of incident types, got a mapping")


def test_unknown_field_in_a_label() -> None:
    text = edit(MINI, "name: {id: Lainnya, en: Other}", "name: {id: Lainnya, en: Other, fr: Autre}")
    assert_only(text, 17, "incident type OTHER name: unknown field 'fr' (expected one of: id, en)")


def test_unknown_field_is_reported() -> None:
    text = edit(MINI, "support: [BPBD]", "suport: [BPBD]")
    # The typo also leaves BPBD's support unused, but BPBD still leads OTHER: one problem only.
    assert_only(text, 16, "incident type FIRE", "unknown field 'suport'")


# --- required fields and value types -------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("{code: DAMKAR, name: Damkar}", "{code: DAMKAR}", 14, "agency DAMKAR: missing required field 'name'"),
        ("{code: INFO, ", "{", 18, "incident type #3: missing required field 'code'"),
        ("{code: INFO, name: Informasi, ", "{code: INFO, ", 18, "incident type INFO: missing required field 'name'"),
        ("name: Informasi, priority: 2, ", "name: Informasi, ", 18, "incident type INFO: missing required field 'priority'"),
        (", lead: null}", "}", 18, "incident type INFO: missing required field 'lead'"),
        ("  timezone: Asia/Makassar\n", "", 3, "regency: missing required field 'timezone'"),
    ],
)
def test_missing_required_field(old: str, new: str, line: int, message: str) -> None:
    assert_only(edit(MINI, old, new), line, message)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("  2: {label: {id: Mendesak, en: Urgent}, ack_seconds: 180, dispatch_seconds: 900}", "  2: 900", 10,
         "priority 2 must be a mapping {label, ack_seconds, dispatch_seconds}, got 900"),
        ("  - {code: INFO, name: Informasi, priority: 2, lead: null}", "  - INFO", 18,
         "incident type #3 must be a mapping {code, name, priority, lead}, got 'INFO'"),
        ("lead: null", "lead: 5", 18, "incident type INFO: lead must be an agency code, got 5"),
        ("support: [BPBD]", "support: [BPBD, 7]", 16, "incident type FIRE: support entries must be agency codes, got 7"),
        ("keywords: [\" Api \", KEBAKARAN, api]", "keywords: api", 16,
         "incident type FIRE: keywords must be a list of strings, got 'api'"),
    ],
)
def test_wrong_item_shape(old: str, new: str, line: int, message: str) -> None:
    assert_only(edit(MINI, old, new), line, message)


def test_agency_must_be_a_mapping() -> None:
    text = edit(MINI, "  - {code: DAMKAR, name: Damkar}", "  - DAMKAR")
    assert_problem(text, 14, "agency #3 must be a mapping {code, name}, got 'DAMKAR'")


def test_missing_agency_code() -> None:
    text = edit(MINI, "{code: DAMKAR, name: Damkar}", "{name: Damkar}")
    assert_problem(text, 14, "agency #3: missing required field 'code'")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('code: "64.09"', "code: 64.09", 3, "regency: 'code' must be a non-empty string, got 64.09"),
        ("name: Damkar}", 'name: ""}', 14, "agency DAMKAR: 'name' must be a non-empty string, got ''"),
        ("command_agency: BPBD", "command_agency: [BPBD]", 7,
         "top level: 'command_agency' must be a non-empty string, got a list of 1 item(s)"),
    ],
)
def test_text_field_must_be_a_non_empty_string(old: str, new: str, line: int, message: str) -> None:
    assert_only(edit(MINI, old, new), line, message)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("priority: 1, lead: DAMKAR", "priority: high, lead: DAMKAR", 16,
         "incident type FIRE: priority must be an integer level, got 'high'"),
        ("ack_seconds: 60,", "ack_seconds: 0,", 9, "priority 1: 'ack_seconds' must be a positive integer, got 0"),
        ("ack_seconds: 60,", "ack_seconds: -60,", 9, "priority 1: 'ack_seconds' must be a positive integer, got -60"),
        ("ack_seconds: 60,", 'ack_seconds: "60",', 9, "priority 1: 'ack_seconds' must be a positive integer, got '60'"),
        ("dispatch_seconds: 180}", "dispatch_seconds: 180.5}", 9,
         "priority 1: 'dispatch_seconds' must be a positive integer, got 180.5"),
        ("version: 1", "version: one", 1, "top level: 'version' must be a positive integer, got 'one'"),
        ("name: Damkar}", "name: Damkar, external: yes}", 14, "agency DAMKAR: external must be true or false, got 'yes'"),
        ("support: [BPBD]", "support: BPBD", 16, "incident type FIRE: support must be a list of agency codes, got 'BPBD'"),
        ("keywords: [", "keywords: [112, ", 16, "incident type FIRE: keywords must be non-empty strings (quote numbers), got 112"),
        ("{id: Darurat, en: Emergency}", "Darurat", 9, "priority 1: 'label' must be a mapping {id: ..., en: ...}, got 'Darurat'"),
        ("{id: Darurat, en: Emergency}", "{id: Darurat}", 9, "priority 1 label: missing required field 'en'"),
        ("name: {id: Lainnya, en: Other}", "name: [Lainnya]", 17,
         "incident type OTHER: 'name' must be a mapping {id: ..., en: ...} or a plain string, got a list"),
    ],
)
def test_wrong_value_type(old: str, new: str, line: int, message: str) -> None:
    assert_only(edit(MINI, old, new), line, message)


def test_priority_level_must_be_an_integer() -> None:
    text = edit(MINI, "  1: {label", "  one: {label")
    assert_problem(text, 9, "priority level 'one' must be a positive integer")


def test_a_refused_priority_level_is_reported_once_not_its_body_too() -> None:
    text = edit(MINI, "  1: {label: {id: Darurat, en: Emergency}, ack_seconds: 60,", "  0: {label: Darurat, ack_seconds: 60,")
    found = problems(text)
    assert [(p.line, p.message) for p in found if p.line == 9] == [
        (9, "priority level 0 must be a positive integer (1 = most urgent)")]


def test_yaml_anchors_and_other_spellings_read_as_plain_values() -> None:
    text = edit(MINI, "name: Diskominfo, role: operator}", "name: Diskominfo, role: operator, external: &no false}")
    text = edit(text, "{code: DAMKAR, name: Damkar}", "{code: DAMKAR, name: Damkar, external: *no}")
    text = edit(text, "ack_seconds: 60,", "ack_seconds: 0x3c,")
    sop = parse_sop(text)
    assert sop.agencies["DAMKAR"].external is False
    assert sop.priorities[1].ack_seconds == 60


# --- duplicates -------------------------------------------------------------------


def test_duplicated_agency_code() -> None:
    text = edit(PACKAGED, '"Komando Distrik Militer 0913/PPU", external: true}\n',
                '"Komando Distrik Militer 0913/PPU", external: true}\n  - {code: PLN, name: "PLN lagi"}\n')
    first = line_of(text, "PLN ULP Penajam")
    assert_only(text, line_of(text, "PLN lagi"), f"agency code PLN is duplicated (first defined on line {first})")


def test_duplicated_incident_type_code() -> None:
    text = MINI + "  - {code: FIRE, name: Api, priority: 1, lead: DAMKAR}\n"
    assert_only(text, 19, "incident type code FIRE is duplicated (first defined on line 16)")


def test_duplicated_keywords_are_fine() -> None:
    text = edit(PACKAGED, "keywords: [banjir,", "keywords: [banjir, Banjir, banjir,")
    assert parse_sop(text).incident_types["FLOOD"].keywords[:2] == ("banjir", "tergenang")


# --- references to agencies ------------------------------------------------------


def test_unknown_lead_agency() -> None:
    text = edit(PACKAGED, "lead: DLH", "lead: DLHX")
    assert_only(text, line_of(text, "lead: DLHX"), "incident type POLLUTION: lead agency DLHX is not a defined agency")


def test_unknown_support_agency() -> None:
    text = edit(PACKAGED, "support: [BPBD, DINKES, PLN]", "support: [BPBD, DINKESS, PLN]")
    assert_only(text, line_of(text, "DINKESS"), "incident type FIRE-BLDG: support agency DINKESS is not a defined agency")


def test_unknown_command_agency() -> None:
    text = edit(PACKAGED, "command_agency: BPBD ", "command_agency: BPPD ")
    assert_only(text, line_of(text, "command_agency:"), "command_agency BPPD is not a defined agency")


def test_lead_also_in_support() -> None:
    text = edit(PACKAGED, "support: [BPBD, DINKES, PLN]", "support: [BPBD, DAMKAR, PLN]")
    # DINKES still supports other types, so the only problem is the lead in support.
    assert_only(text, line_of(text, "[BPBD, DAMKAR, PLN]"), "incident type FIRE-BLDG: DAMKAR is the lead and must not also be in support")


def test_support_listed_twice() -> None:
    text = edit(MINI, "support: [BPBD]", "support: [BPBD, BPBD]")
    assert_only(text, 16, "incident type FIRE: support agency BPBD is listed twice")


# --- leads ------------------------------------------------------------------------


def test_type_without_lead_is_refused() -> None:
    text = edit(PACKAGED, "lead: PDAM", "lead: null")
    line = PACKAGED.splitlines().index("    lead: PDAM") + 1
    assert_problem(text, line, "incident type WATER-OUTAGE has no lead agency; only INFO and PRANK may have none")
    # PDAM now leads nothing: that is reported too, on its own line.
    assert_problem(text, line_of(text, "code: PDAM"), "agency PDAM leads and supports no incident type")
    assert len(problems(text)) == 2


def test_missing_lead_key_is_refused_even_for_info() -> None:
    text = edit(MINI, ", lead: null}", "}")
    assert_only(text, 18, "incident type INFO: missing required field 'lead'")


def test_lead_null_allowed_for_info_and_prank_only() -> None:
    assert parse_sop(MINI).incident_types["INFO"].lead is None
    text = edit(MINI, "{code: INFO,", "{code: ADVICE,")
    assert_only(text, 18, "incident type ADVICE has no lead agency")


def test_lead_must_be_a_single_code() -> None:
    text = edit(PACKAGED, "lead: SAR", "lead: [SAR, BPBD]")
    assert_only(text, line_of(text, "lead: [SAR, BPBD]"), "incident type WATER-RESCUE: lead must be a single agency code, not a list")


# --- priorities and deadlines -----------------------------------------------------


def test_type_priority_must_be_defined() -> None:
    text = edit(MINI, "priority: 1, lead: DAMKAR", "priority: 5, lead: DAMKAR")
    assert_only(text, 16, "incident type FIRE: priority 5 is not a defined priority (defined: 1, 2)")


@pytest.mark.parametrize("field", ["ack_seconds", "dispatch_seconds"])
def test_priority_without_deadline(field: str) -> None:
    old = {"ack_seconds": "ack_seconds: 180, ", "dispatch_seconds": ", dispatch_seconds: 900"}[field]
    assert_only(edit(MINI, old, ""), 10, f"priority 2: missing required field '{field}'")


def test_dispatch_smaller_than_ack() -> None:
    text = edit(PACKAGED, "ack_seconds: 180,   dispatch_seconds: 900}", "ack_seconds: 180,   dispatch_seconds: 120}")
    # 120 also undercuts level 1's 180: both are reported on the level-2 line.
    line = line_of(text, "dispatch_seconds: 120}")
    assert_problem(text, line, "priority 2: dispatch_seconds (120) is smaller than ack_seconds (180)")


def test_ack_deadline_must_not_shrink_as_priority_drops() -> None:
    text = edit(PACKAGED, "ack_seconds: 900,", "ack_seconds: 120,")
    assert_only(
        text,
        line_of(text, "ack_seconds: 120,"),
        "priority 3 ack_seconds (120) is shorter than priority 2 ack_seconds (180)",
    )


def test_dispatch_deadline_must_not_shrink_as_priority_drops() -> None:
    text = edit(MINI, "dispatch_seconds: 180}", "dispatch_seconds: 1000}")
    assert_only(text, 10, "priority 2 dispatch_seconds (900) is shorter than priority 1 dispatch_seconds (1000)")


# --- agency roles -------------------------------------------------------------------


def test_agency_that_leads_and_supports_nothing() -> None:
    text = edit(MINI, "  - {code: DAMKAR, name: Damkar}\n",
                "  - {code: DAMKAR, name: Damkar}\n  - {code: DLH, name: Lingkungan Hidup}\n")
    assert_only(text, 15, "agency DLH leads and supports no incident type")


def test_operator_agency_is_exempt_only_by_role() -> None:
    text = edit(MINI, "name: Diskominfo, role: operator}", "name: Diskominfo}")
    assert_only(text, 12, "agency DISKOMINFO leads and supports no incident type")


def test_invalid_role() -> None:
    text = edit(MINI, "name: Damkar}", "name: Damkar, role: rescue}")
    assert_only(text, 14, "agency DAMKAR: role must be 'operator', 'command' or absent, got 'rescue'")


def test_no_command_role() -> None:
    text = edit(MINI, "name: BPBD, role: command}", "name: BPBD}")
    assert_only(text, 11, "no agency has role: command")


def test_two_command_roles() -> None:
    text = edit(MINI, "name: Damkar}", "name: Damkar, role: command}")
    assert_only(text, 14, "agency DAMKAR has role: command but BPBD already has it")


def test_command_role_must_match_command_agency() -> None:
    text = edit(PACKAGED, "command_agency: BPBD ", "command_agency: DAMKAR ")
    assert_problem(text, line_of(text, "command_agency:"), "command_agency is DAMKAR but the agency with role: command is BPBD")


# --- the OTHER type ---------------------------------------------------------------


def test_other_type_must_exist() -> None:
    text = edit(MINI, "{code: OTHER,", "{code: MISC,")
    assert_only(text, 15, "incident type OTHER is missing")


def test_other_type_must_be_led_by_command_agency() -> None:
    text = edit(PACKAGED, "    lead: BPBD\n    support: []\n", "    lead: DAMKAR\n    support: []\n")
    line = line_of(text, "(perlu klasifikasi pusat komando)") + 2
    assert text.splitlines()[line - 1] == "    lead: DAMKAR"
    assert_only(text, line, "incident type OTHER must be led by the command agency BPBD, not DAMKAR")


# --- regency --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("[116.35, -1.60, 117.05]", "bbox must be a list of 4 numbers"),
        ("116.35", "bbox must be a list of 4 numbers"),
        ("[116.35, -1.60, east, -0.75]", "bbox values must be numbers, got 'east'"),
        ("[117.05, -1.60, 116.35, -0.75]", "bbox lon_min (117.05) must be smaller than lon_max (116.35)"),
        ("[116.35, -0.75, 117.05, -0.75]", "bbox lat_min (-0.75) must be smaller than lat_max (-0.75)"),
        ("[-1.60, 116.35, -0.75, 117.05]", "bbox lat values must lie within ±90"),
    ],
)
def test_bad_bbox(bbox: str, message: str) -> None:
    assert_only(edit(MINI, "[116.35, -1.60, 117.05, -0.75]", bbox), 6, message)


def test_every_bad_bbox_value_is_named_and_each_axis_once() -> None:
    found = problems(edit(MINI, "[116.35, -1.60, 117.05, -0.75]", "[west, -1.60, east, -0.75]"))
    assert [(p.line, p.message) for p in found] == [
        (6, "regency: bbox values must be numbers, got 'west'"),
        (6, "regency: bbox values must be numbers, got 'east'"),
    ]
    found = problems(edit(MINI, "[116.35, -1.60, 117.05, -0.75]", "[200, -0.75, 300, -1.60]"))
    assert [(p.line, p.message) for p in found] == [
        (6, "regency: bbox lon values must lie within ±180"),
        (6, "regency: bbox lat_min (-0.75) must be smaller than lat_max (-1.6)"),
    ]


@pytest.mark.parametrize("zone", ["Asia/Penajam", "WITA", "Asia"])
def test_bad_timezone(zone: str) -> None:
    assert_only(edit(MINI, "timezone: Asia/Makassar", f"timezone: {zone}"), 5,
                f"regency: timezone '{zone}' is not a valid IANA time zone")


# --- several problems at once ---------------------------------------------------------


def test_every_problem_is_reported_in_line_order() -> None:
    text = MINI
    text = edit(text, "timezone: Asia/Makassar", "timezone: Mars/Olympus")
    text = edit(text, "ack_seconds: 180,", "ack_seconds: 30,")
    text = edit(text, "{code: DAMKAR, name: Damkar}", "{code: BPBD, name: Damkar}")
    text = edit(text, "lead: BPBD}", "lead: [BPBD]}")
    text = edit(text, "priority: 2, lead: null", "priority: 7, lead: null")
    found = [(p.line, p.message) for p in problems(text)]
    assert found == [
        (5, "regency: timezone 'Mars/Olympus' is not a valid IANA time zone (e.g. Asia/Makassar)"),
        (10, "priority 2 ack_seconds (30) is shorter than priority 1 ack_seconds (60): "
             "deadlines must not shrink as priority drops"),
        (14, "agency code BPBD is duplicated (first defined on line 13)"),
        (16, "incident type FIRE: lead agency DAMKAR is not a defined agency"),
        (17, "incident type OTHER: lead must be a single agency code, not a list"),
        (18, "incident type INFO: priority 7 is not a defined priority (defined: 1, 2)"),
    ]
    with pytest.raises(SopError) as info:
        parse_sop(text, source="ppu.yaml")
    assert str(info.value).splitlines()[0] == "ppu.yaml: line 5: regency: timezone 'Mars/Olympus' " \
        "is not a valid IANA time zone (e.g. Asia/Makassar)"
    assert len(str(info.value).splitlines()) == 6
