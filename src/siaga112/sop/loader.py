"""Read the SOP YAML file, check it, and report every problem with its line."""
from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from .schemas import Agency, IncidentType, Priority, Sop, SopError, SopProblem

SECTIONS = ("version", "regency", "command_agency", "priorities", "agencies", "incident_types")
REGENCY_FIELDS = ("code", "name", "timezone", "bbox")
PRIORITY_FIELDS = ("label", "ack_seconds", "dispatch_seconds")
LABEL_FIELDS = ("id", "en")
AGENCY_FIELDS = ("code", "name", "role", "external")
TYPE_FIELDS = ("code", "name", "priority", "lead", "support", "keywords")
ROLES = ("operator", "command")
LEADLESS_TYPES = ("INFO", "PRANK")
FALLBACK_TYPE = "OTHER"  # where unclassified incidents go; the command agency handles them


def default_sop_path() -> Path:
    """Path of the SOP file shipped with the package."""
    return Path(__file__).resolve().parent.parent / "data" / "sop" / "ppu.yaml"


def load_sop(path: str | Path) -> Sop:
    """Read and validate the SOP file at `path`."""
    return parse_sop(Path(path).read_text(encoding="utf-8"), source=str(path))


def parse_sop(text: str, source: str = "SOP") -> Sop:
    """Parse and validate SOP YAML text; raise SopError listing every problem."""
    checker = _Checker()
    sop = checker.run(text)
    if checker.problems or sop is None:
        problems = sorted(checker.problems, key=lambda p: p.line or 0)
        raise SopError(problems, source)
    return sop


def check_sop(sop: Sop) -> list[str]:
    """Every problem `siaga112 sop check` would report for this in-memory SOP (none: valid).

    The SOP is written out in the file format and read back through the same checker, so an
    edit made in the administration is held to exactly the rules a file is. Line numbers would
    point into that temporary text, so only the messages are returned.
    """
    from .export import dump_sop

    try:
        parse_sop(dump_sop(sop))
    except SopError as exc:
        return [p.message for p in exc.problems]
    return []


# --- YAML node helpers (ruamel positions are 0-based) -----------------------


def _is_bool(value: Any) -> bool:
    # ScalarBoolean (anchored booleans) subclasses int, not bool.
    return isinstance(value, (bool, ScalarBoolean))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not _is_bool(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not _is_bool(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _node_line(node: Any) -> int:
    """First line of a mapping or sequence node (1 for scalars)."""
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else 1


def _key_line(mapping: CommentedMap, key: Any) -> int:
    """Line of `key` in `mapping`."""
    try:
        return mapping.lc.key(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _node_line(mapping)


def _value_line(mapping: CommentedMap, key: Any) -> int:
    """Line where the value of `key` starts."""
    # An empty value (`lead:`) has no position of its own; ruamel reports the next key's.
    if mapping.get(key) is None:
        return _key_line(mapping, key)
    try:
        return mapping.lc.value(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _key_line(mapping, key)


def _item_line(seq: CommentedSeq, index: int) -> int:
    """Line of item `index` in `seq`."""
    try:
        return seq.lc.item(index)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _node_line(seq)


def _describe(value: Any) -> str:
    """Short human description of a YAML value for messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if _is_bool(value):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(str(value))
    return str(value)


class _Checker:
    """Walks the YAML tree once, collecting problems and the parts that are valid."""

    def __init__(self) -> None:
        self.problems: list[SopProblem] = []
        # None means the section is missing or unusable: cross-checks against it are skipped
        # so that one mistake does not produce a cascade of follow-up problems.
        self.levels: dict[int, Priority] | None = None
        self.agencies: dict[str, dict[str, Any]] | None = None
        self.types: dict[str, dict[str, Any]] | None = None
        self.command_agency: str | None = None

    def add(self, line: int | None, message: str) -> None:
        self.problems.append(SopProblem(line, message))

    # --- generic field readers ---

    def _unknown_fields(self, mapping: CommentedMap, allowed: tuple[str, ...], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(
                    _key_line(mapping, key),
                    f"{where}: unknown field {_describe(key)} (expected one of: {', '.join(allowed)})",
                )

    def _require(self, mapping: CommentedMap, key: str, where: str) -> bool:
        if key in mapping:
            return True
        self.add(_node_line(mapping), f"{where}: missing required field '{key}'")
        return False

    def _text(self, mapping: CommentedMap, key: str, where: str) -> str | None:
        if not self._require(mapping, key, where):
            return None
        value = mapping[key]
        if not _is_text(value):
            self.add(
                _value_line(mapping, key),
                f"{where}: '{key}' must be a non-empty string, got {_describe(value)}",
            )
            return None
        return str(value).strip()

    def _positive_int(self, mapping: CommentedMap, key: str, where: str) -> int | None:
        if not self._require(mapping, key, where):
            return None
        value = mapping[key]
        if not _is_int(value) or value < 1:
            self.add(
                _value_line(mapping, key),
                f"{where}: '{key}' must be a positive integer, got {_describe(value)}",
            )
            return None
        return int(value)

    def _label(
        self, mapping: CommentedMap, key: str, where: str, *, plain_ok: bool
    ) -> tuple[str, str] | None:
        if not self._require(mapping, key, where):
            return None
        value = mapping[key]
        if plain_ok and _is_text(value):
            return str(value).strip(), str(value).strip()
        if not isinstance(value, CommentedMap):
            expected = "a mapping {id: ..., en: ...}" + (" or a plain string" if plain_ok else "")
            self.add(
                _value_line(mapping, key),
                f"{where}: '{key}' must be {expected}, got {_describe(value)}",
            )
            return None
        self._unknown_fields(value, LABEL_FIELDS, f"{where} {key}")
        text_id = self._text(value, "id", f"{where} {key}")
        text_en = self._text(value, "en", f"{where} {key}")
        if text_id is None or text_en is None:
            return None
        return text_id, text_en

    def _section(self, doc: CommentedMap, key: str, kind: type, shape: str) -> Any:
        """The section `key` if it is a non-empty `kind`, else None (problem recorded)."""
        if key not in doc:
            return None  # reported once by run()
        value = doc[key]
        if not isinstance(value, kind):
            self.add(_value_line(doc, key), f"'{key}' must be {shape}, got {_describe(value)}")
            return None
        if not value:
            self.add(_key_line(doc, key), f"'{key}' is empty")
            return None
        return value

    # --- the document ---

    def run(self, text: str) -> Sop | None:
        try:
            doc = YAML(typ="rt").load(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            self.add(mark.line + 1 if mark is not None else None, f"YAML syntax error: {problem}")
            return None
        if not isinstance(doc, CommentedMap):
            self.add(
                _node_line(doc),
                f"the top level must be a mapping of sections ({', '.join(SECTIONS)}), "
                f"got {_describe(doc)}",
            )
            return None

        for key in SECTIONS:
            if key not in doc:
                self.add(_node_line(doc), f"missing required section '{key}'")
        self._unknown_fields(doc, SECTIONS, "top level")

        version = self._positive_int(doc, "version", "top level") if "version" in doc else None
        regency = self._regency(doc)
        self._priorities(doc)
        self._agencies(doc)
        self._command(doc)
        self._incident_types(doc)
        self._cross_checks(doc)

        if self.problems:
            return None
        assert version is not None and regency is not None and self.command_agency is not None
        assert self.levels is not None and self.agencies is not None and self.types is not None
        return Sop(
            version=version,
            regency_code=regency["code"],
            regency_name=regency["name"],
            timezone=regency["timezone"],
            bbox=regency["bbox"],
            command_agency=self.command_agency,
            priorities=dict(sorted(self.levels.items())),
            agencies={code: a["agency"] for code, a in self.agencies.items()},
            incident_types={code: t["type"] for code, t in self.types.items()},
        )

    def _regency(self, doc: CommentedMap) -> dict[str, Any] | None:
        section = self._section(doc, "regency", CommentedMap, "a mapping")
        if section is None:
            return None
        where = "regency"
        self._unknown_fields(section, REGENCY_FIELDS, where)
        code = self._text(section, "code", where)
        name = self._text(section, "name", where)

        timezone = self._text(section, "timezone", where)
        if timezone is not None:
            try:
                zoneinfo.ZoneInfo(timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
                self.add(
                    _value_line(section, "timezone"),
                    f"{where}: timezone {timezone!r} is not a valid IANA time zone "
                    "(e.g. Asia/Makassar)",
                )
                timezone = None

        bbox = self._bbox(section, where) if self._require(section, "bbox", where) else None
        if None in (code, name, timezone, bbox):
            return None
        return {"code": code, "name": name, "timezone": timezone, "bbox": bbox}

    def _bbox(self, section: CommentedMap, where: str) -> tuple[float, float, float, float] | None:
        value = section["bbox"]
        line = _value_line(section, "bbox")
        if not isinstance(value, CommentedSeq) or len(value) != 4:
            self.add(
                line,
                f"{where}: bbox must be a list of 4 numbers [lon_min, lat_min, lon_max, lat_max], "
                f"got {_describe(value)}",
            )
            return None
        wrong = [v for v in value if not _is_number(v)]
        if wrong:
            self.add(line, f"{where}: bbox values must be numbers, got {_describe(wrong[0])}")
            return None
        lon_min, lat_min, lon_max, lat_max = (float(v) for v in value)
        ok = True
        for axis, low, high, limit in (("lon", lon_min, lon_max, 180), ("lat", lat_min, lat_max, 90)):
            if not (-limit <= low <= limit and -limit <= high <= limit):
                self.add(line, f"{where}: bbox {axis} values must lie within ±{limit}")
                ok = False
            elif low >= high:
                self.add(
                    line,
                    f"{where}: bbox {axis}_min ({low:g}) must be smaller than {axis}_max ({high:g})",
                )
                ok = False
        return (lon_min, lat_min, lon_max, lat_max) if ok else None

    def _priorities(self, doc: CommentedMap) -> None:
        section = self._section(
            doc, "priorities", CommentedMap, "a mapping of level -> {label, ack_seconds, dispatch_seconds}"
        )
        if section is None:
            return
        self.levels = {}
        # field -> level -> (seconds, line); kept even for levels with other problems.
        deadlines: dict[str, dict[int, tuple[int, int]]] = {"ack_seconds": {}, "dispatch_seconds": {}}
        for key, body in section.items():
            if not _is_int(key) or key < 1:
                self.add(
                    _key_line(section, key),
                    f"priority level {_describe(key)} must be a positive integer (1 = most urgent)",
                )
                continue
            level = int(key)
            where = f"priority {level}"
            if not isinstance(body, CommentedMap):
                self.add(
                    _value_line(section, key),
                    f"{where} must be a mapping {{label, ack_seconds, dispatch_seconds}}, "
                    f"got {_describe(body)}",
                )
                self.levels[level] = Priority(level, "", "", 0, 0)  # known, so types using it pass
                continue
            self._unknown_fields(body, PRIORITY_FIELDS, where)
            label = self._label(body, "label", where, plain_ok=False)
            ack = self._positive_int(body, "ack_seconds", where)
            dispatch = self._positive_int(body, "dispatch_seconds", where)
            for field, seconds in (("ack_seconds", ack), ("dispatch_seconds", dispatch)):
                if seconds is not None:
                    deadlines[field][level] = (seconds, _value_line(body, field))
            if ack is not None and dispatch is not None and dispatch < ack:
                self.add(
                    _value_line(body, "dispatch_seconds"),
                    f"{where}: dispatch_seconds ({dispatch}) is smaller than ack_seconds ({ack})",
                )
            # Registered even if broken, so types using this level are not flagged as well.
            self.levels[level] = Priority(
                level, label[0] if label else "", label[1] if label else "", ack or 0, dispatch or 0
            )

        for field, by_level in deadlines.items():
            previous: tuple[int, int] | None = None  # (level, seconds)
            for level in sorted(by_level):
                seconds, line = by_level[level]
                if previous is not None and seconds < previous[1]:
                    self.add(
                        line,
                        f"priority {level} {field} ({seconds}) is shorter than priority "
                        f"{previous[0]} {field} ({previous[1]}): deadlines must not shrink "
                        "as priority drops",
                    )
                previous = (level, seconds)

    def _agencies(self, doc: CommentedMap) -> None:
        section = self._section(doc, "agencies", CommentedSeq, "a list of agencies")
        if section is None:
            return
        self.agencies = {}
        for index, item in enumerate(section):
            line = _item_line(section, index)
            if not isinstance(item, CommentedMap):
                self.add(
                    line, f"agency #{index + 1} must be a mapping {{code, name}}, got {_describe(item)}"
                )
                continue
            code = self._text(item, "code", f"agency #{index + 1}")
            where = f"agency {code}" if code else f"agency #{index + 1}"
            self._unknown_fields(item, AGENCY_FIELDS, where)
            name = self._text(item, "name", where)

            role = item.get("role")
            if role is not None and role not in ROLES:
                self.add(
                    _value_line(item, "role"),
                    f"{where}: role must be 'operator', 'command' or absent, got {_describe(role)}",
                )
                role = None
            external = item.get("external", False)
            if not _is_bool(external):
                self.add(
                    _value_line(item, "external"),
                    f"{where}: external must be true or false, got {_describe(external)}",
                )
                external = False

            if code is None:
                continue
            code_line = _value_line(item, "code")
            if code in self.agencies:
                self.add(
                    code_line,
                    f"agency code {code} is duplicated (first defined on line "
                    f"{self.agencies[code]['line']})",
                )
                continue
            self.agencies[code] = {
                "agency": Agency(code, name or "", str(role) if role else None, bool(external)),
                "line": code_line,
                "role_line": _value_line(item, "role") if "role" in item else code_line,
            }

    def _command(self, doc: CommentedMap) -> None:
        if "command_agency" not in doc:
            return
        code = self._text(doc, "command_agency", "top level")
        if code is None or self.agencies is None:
            return
        if code not in self.agencies:
            self.add(
                _value_line(doc, "command_agency"),
                f"command_agency {code} is not a defined agency",
            )
            return
        self.command_agency = code

    def _incident_types(self, doc: CommentedMap) -> None:
        section = self._section(doc, "incident_types", CommentedSeq, "a list of incident types")
        if section is None:
            return
        self.types = {}
        for index, item in enumerate(section):
            if not isinstance(item, CommentedMap):
                self.add(
                    _item_line(section, index),
                    f"incident type #{index + 1} must be a mapping "
                    f"{{code, name, priority, lead}}, got {_describe(item)}",
                )
                continue
            code = self._text(item, "code", f"incident type #{index + 1}")
            where = f"incident type {code}" if code else f"incident type #{index + 1}"
            self._unknown_fields(item, TYPE_FIELDS, where)
            name = self._label(item, "name", where, plain_ok=True)
            priority = self._type_priority(item, where)
            lead, lead_ok = self._lead(item, code, where)
            support = self._support(item, lead, where)
            keywords = self._keywords(item, where)

            if code is None:
                continue
            code_line = _value_line(item, "code")
            if code in self.types:
                self.add(
                    code_line,
                    f"incident type code {code} is duplicated (first defined on line "
                    f"{self.types[code]['line']})",
                )
                continue
            self.types[code] = {
                "type": IncidentType(
                    code,
                    name[0] if name else "",
                    name[1] if name else "",
                    priority or 0,
                    lead,
                    support,
                    keywords,
                ),
                "line": code_line,
                "lead_ok": lead_ok,
                "lead_line": _value_line(item, "lead") if "lead" in item else code_line,
            }

    def _type_priority(self, item: CommentedMap, where: str) -> int | None:
        if not self._require(item, "priority", where):
            return None
        value = item["priority"]
        line = _value_line(item, "priority")
        if not _is_int(value):
            self.add(line, f"{where}: priority must be an integer level, got {_describe(value)}")
            return None
        if self.levels is not None and value not in self.levels:
            defined = ", ".join(str(level) for level in sorted(self.levels))
            self.add(line, f"{where}: priority {value} is not a defined priority (defined: {defined})")
            return None
        return int(value)

    def _lead(self, item: CommentedMap, code: str | None, where: str) -> tuple[str | None, bool]:
        """The lead agency code (or None) and whether the lead entry is valid."""
        if "lead" not in item:
            self.add(
                _node_line(item),
                f"{where}: missing required field 'lead' (write 'lead: null' for a type without lead)",
            )
            return None, False
        value = item["lead"]
        line = _value_line(item, "lead")
        if value is None:
            if code is not None and code not in LEADLESS_TYPES:
                self.add(
                    line,
                    f"{where} has no lead agency; only {' and '.join(LEADLESS_TYPES)} may have "
                    "none, every other type needs exactly one lead",
                )
                return None, False
            return None, True
        if isinstance(value, list):
            self.add(line, f"{where}: lead must be a single agency code, not a list")
            return None, False
        if not _is_text(value):
            self.add(line, f"{where}: lead must be an agency code, got {_describe(value)}")
            return None, False
        lead = str(value).strip()
        if self.agencies is not None and lead not in self.agencies:
            self.add(line, f"{where}: lead agency {lead} is not a defined agency")
            return lead, False
        return lead, True

    def _support(self, item: CommentedMap, lead: str | None, where: str) -> tuple[str, ...]:
        value = item.get("support")
        if value is None:
            return ()
        if not isinstance(value, CommentedSeq):
            self.add(
                _value_line(item, "support"),
                f"{where}: support must be a list of agency codes, got {_describe(value)}",
            )
            return ()
        support: list[str] = []
        for index, entry in enumerate(value):
            line = _item_line(value, index)
            if not _is_text(entry):
                self.add(line, f"{where}: support entries must be agency codes, got {_describe(entry)}")
                continue
            code = str(entry).strip()
            if self.agencies is not None and code not in self.agencies:
                self.add(line, f"{where}: support agency {code} is not a defined agency")
            elif code == lead:
                self.add(line, f"{where}: {code} is the lead and must not also be in support")
            elif code in support:
                self.add(line, f"{where}: support agency {code} is listed twice")
            support.append(code)
        return tuple(support)

    def _keywords(self, item: CommentedMap, where: str) -> tuple[str, ...]:
        value = item.get("keywords")
        if value is None:
            return ()
        if not isinstance(value, CommentedSeq):
            self.add(
                _value_line(item, "keywords"),
                f"{where}: keywords must be a list of strings, got {_describe(value)}",
            )
            return ()
        keywords: list[str] = []
        for index, entry in enumerate(value):
            if not _is_text(entry):
                self.add(
                    _item_line(value, index),
                    f"{where}: keywords must be non-empty strings (quote numbers), "
                    f"got {_describe(entry)}",
                )
                continue
            keyword = str(entry).strip().lower()
            if keyword not in keywords:  # repeats are harmless; keep the first
                keywords.append(keyword)
        return tuple(keywords)

    def _cross_checks(self, doc: CommentedMap) -> None:
        if self.agencies is not None:
            commanders = [c for c, a in self.agencies.items() if a["agency"].role == "command"]
            if not commanders:
                self.add(
                    _key_line(doc, "agencies"),
                    "no agency has role: command; exactly one is required and it must be the "
                    "command_agency",
                )
            for extra in commanders[1:]:
                self.add(
                    self.agencies[extra]["role_line"],
                    f"agency {extra} has role: command but {commanders[0]} already has it; "
                    "exactly one command agency is allowed",
                )
            if self.command_agency is not None and commanders and self.command_agency not in commanders:
                self.add(
                    _value_line(doc, "command_agency"),
                    f"command_agency is {self.command_agency} but the agency with role: command "
                    f"is {commanders[0]}",
                )

        if self.types is None:
            return
        fallback = self.types.get(FALLBACK_TYPE)
        if fallback is None:
            self.add(
                _key_line(doc, "incident_types"),
                f"incident type {FALLBACK_TYPE} is missing; it is required because unclassified "
                "incidents go there",
            )
        elif fallback["lead_ok"] and self.command_agency is not None:
            lead = fallback["type"].lead
            if lead != self.command_agency:
                self.add(
                    fallback["lead_line"],
                    f"incident type {FALLBACK_TYPE} must be led by the command agency "
                    f"{self.command_agency}, not {lead}",
                )

        if self.agencies is None:
            return
        used = set()
        for entry in self.types.values():
            used.add(entry["type"].lead)
            used.update(entry["type"].support)
        for code, entry in self.agencies.items():
            if code not in used and entry["agency"].role != "operator":
                self.add(
                    entry["line"],
                    f"agency {code} leads and supports no incident type; only the operator "
                    "agency (role: operator) may",
                )
