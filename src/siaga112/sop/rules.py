"""The SOP rules that relate one part of the file to another.

References to agencies, the one command agency, leadless types, the OTHER type, duplicates and
deadlines. Each value on its own was already judged by the models in `document`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .positions import KEY, VALUE, Loc
from .schemas import SopProblem


class FileView(Protocol):
    """What the rules read of the file: the loader's view of the YAML tree and pydantic's verdict
    (a protocol, so the rules need not import the loader that calls them)."""

    def valid(self, *loc: str | int) -> bool: ...
    def intact(self, *loc: str | int) -> bool: ...
    def get(self, *loc: str | int) -> Any: ...
    def items(self, *loc: str | int) -> list[Any]: ...
    def line(self, loc: Loc, *, at: str = VALUE) -> int: ...
    def name(self, loc: Loc) -> str: ...

LEADLESS_TYPES = ("INFO", "PRANK")
FALLBACK_TYPE = "OTHER"  # where unclassified incidents go; the command agency handles them


def check_rules(view: FileView) -> list[SopProblem]:
    """Every cross-field problem among the parts of the file pydantic accepted."""
    return _Rules(view).check()


@dataclass
class _AgencyRef:
    loc: Loc
    role: str | None


@dataclass
class _TypeRef:
    loc: Loc
    lead: str | None
    lead_ok: bool
    support: tuple[str, ...]


class _Rules:
    """The cross-field rules, applied to every part pydantic accepted.

    A refused section is skipped (None below) so that one mistake does not produce a cascade of
    follow-up problems; a refused field leaves the rest of its entry in play.
    """

    def __init__(self, view: FileView) -> None:
        self.view = view
        self.problems: list[SopProblem] = []
        self.levels: list[int] | None = None
        self.agencies: dict[str, _AgencyRef] | None = None
        self.command_agency: str | None = None
        self.types: dict[str, _TypeRef] | None = None

    def add(self, loc: Loc, message: str, *, at: str = VALUE) -> None:
        self.problems.append(SopProblem(self.view.line(loc, at=at), message))

    def check(self) -> list[SopProblem]:
        self._bbox()
        self._priorities()
        self._agencies()
        self._command()
        self._incident_types()
        self._command_role()
        self._fallback_type()
        self._unused_agencies()
        return self.problems

    def _bbox(self) -> None:
        loc = ("regency", "bbox")
        for axis, low_index, high_index in (("lon", 0, 2), ("lat", 1, 3)):
            if self.view.valid(*loc, low_index) and self.view.valid(*loc, high_index):
                low, high = self.view.get(*loc, low_index), self.view.get(*loc, high_index)
                if low >= high:
                    self.add(loc, f"regency: bbox {axis}_min ({low:g}) must be smaller than "
                             f"{axis}_max ({high:g})")

    def _priorities(self) -> None:
        v = self.view
        if not v.intact("priorities"):
            return
        # A level whose body was refused still counts as defined, so types using it pass.
        self.levels = sorted(v.items("priorities"))
        for level in self.levels:
            loc = ("priorities", level)
            if v.valid(*loc, "ack_seconds") and v.valid(*loc, "dispatch_seconds"):
                ack, dispatch = v.get(*loc, "ack_seconds"), v.get(*loc, "dispatch_seconds")
                if dispatch < ack:
                    self.add((*loc, "dispatch_seconds"),
                             f"priority {level}: dispatch_seconds ({dispatch}) is smaller than "
                             f"ack_seconds ({ack})")
        for field in ("ack_seconds", "dispatch_seconds"):
            previous: tuple[int, int] | None = None  # (level, seconds)
            for level in self.levels:
                if not v.valid("priorities", level, field):
                    continue
                seconds = v.get("priorities", level, field)
                if previous is not None and seconds < previous[1]:
                    self.add(("priorities", level, field),
                             f"priority {level} {field} ({seconds}) is shorter than priority "
                             f"{previous[0]} {field} ({previous[1]}): deadlines must not shrink "
                             "as priority drops")
                previous = (level, seconds)

    def _agencies(self) -> None:
        v = self.view
        if not v.intact("agencies"):
            return
        self.agencies = {}
        for index in v.items("agencies"):
            loc = ("agencies", index)
            if not v.valid(*loc, "code"):
                continue
            code = v.get(*loc, "code")
            if code in self.agencies:
                first = v.line((*self.agencies[code].loc, "code"))
                self.add((*loc, "code"), f"agency code {code} is duplicated (first defined on line {first})")
                continue
            self.agencies[code] = _AgencyRef(loc, v.get(*loc, "role") if v.valid(*loc, "role") else None)

    def _command(self) -> None:
        v = self.view
        if not v.valid("command_agency") or self.agencies is None:
            return
        code = v.get("command_agency")
        if code not in self.agencies:
            self.add(("command_agency",), f"command_agency {code} is not a defined agency")
            return
        self.command_agency = code

    def _incident_types(self) -> None:
        v = self.view
        if not v.intact("incident_types"):
            return
        self.types = {}
        for index in v.items("incident_types"):
            loc = ("incident_types", index)
            if not v.intact(*loc):
                continue
            code = v.get(*loc, "code") if v.valid(*loc, "code") else None
            self._type_priority(loc)
            lead, lead_ok = self._lead(loc, code)
            support = self._support(loc, lead)
            if code is None:
                continue
            if code in self.types:
                first = v.line((*self.types[code].loc, "code"))
                self.add((*loc, "code"),
                         f"incident type code {code} is duplicated (first defined on line {first})")
                continue
            self.types[code] = _TypeRef(loc, lead, lead_ok, support)

    def _type_priority(self, loc: Loc) -> None:
        if not self.view.valid(*loc, "priority") or self.levels is None:
            return
        level = self.view.get(*loc, "priority")
        if level not in self.levels:
            defined = ", ".join(str(known) for known in self.levels)
            self.add((*loc, "priority"), f"{self.view.name(loc)}: priority {level} is not a defined "
                     f"priority (defined: {defined})")

    def _lead(self, loc: Loc, code: str | None) -> tuple[str | None, bool]:
        """The lead agency code (or None) and whether the lead entry is valid."""
        if not self.view.valid(*loc, "lead"):
            return None, False
        lead, where = self.view.get(*loc, "lead"), self.view.name(loc)
        if lead is None:
            if code is not None and code not in LEADLESS_TYPES:
                self.add((*loc, "lead"),
                         f"{where} has no lead agency; only {' and '.join(LEADLESS_TYPES)} may have "
                         "none, every other type needs exactly one lead")
                return None, False
            return None, True
        if self.agencies is not None and lead not in self.agencies:
            self.add((*loc, "lead"), f"{where}: lead agency {lead} is not a defined agency")
            return lead, False
        return lead, True

    def _support(self, loc: Loc, lead: str | None) -> tuple[str, ...]:
        v, where = self.view, self.view.name(loc)
        support: list[str] = []
        for index in v.items(*loc, "support"):
            entry = (*loc, "support", index)
            if not v.valid(*entry):
                continue
            code = v.get(*entry)
            if self.agencies is not None and code not in self.agencies:
                self.add(entry, f"{where}: support agency {code} is not a defined agency")
            elif code == lead:
                self.add(entry, f"{where}: {code} is the lead and must not also be in support")
            elif code in support:
                self.add(entry, f"{where}: support agency {code} is listed twice")
            support.append(code)
        return tuple(support)

    def _command_role(self) -> None:
        if self.agencies is None:
            return
        commanders = [code for code, agency in self.agencies.items() if agency.role == "command"]
        if not commanders:
            self.add(("agencies",), "no agency has role: command; exactly one is required and it "
                     "must be the command_agency", at=KEY)
        for extra in commanders[1:]:
            loc = self.agencies[extra].loc
            self.add((*loc, "role"), f"agency {extra} has role: command but {commanders[0]} already "
                     "has it; exactly one command agency is allowed")
        if self.command_agency is not None and commanders and self.command_agency not in commanders:
            self.add(("command_agency",), f"command_agency is {self.command_agency} but the agency "
                     f"with role: command is {commanders[0]}")

    def _fallback_type(self) -> None:
        if self.types is None:
            return
        fallback = self.types.get(FALLBACK_TYPE)
        if fallback is None:
            self.add(("incident_types",), f"incident type {FALLBACK_TYPE} is missing; it is required "
                     "because unclassified incidents go there", at=KEY)
        elif fallback.lead_ok and self.command_agency is not None and fallback.lead != self.command_agency:
            self.add((*fallback.loc, "lead"), f"incident type {FALLBACK_TYPE} must be led by the "
                     f"command agency {self.command_agency}, not {fallback.lead}")

    def _unused_agencies(self) -> None:
        if self.types is None or self.agencies is None:
            return
        used = set()
        for entry in self.types.values():
            used.add(entry.lead)
            used.update(entry.support)
        for code, agency in self.agencies.items():
            if code not in used and agency.role != "operator":
                self.add((*agency.loc, "code"), f"agency {code} leads and supports no incident type; "
                         "only the operator agency (role: operator) may")
