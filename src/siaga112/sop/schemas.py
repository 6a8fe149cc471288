"""The SOP as the rest of the system reads it: immutable, validated once."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Priority:
    level: int
    label_id: str
    label_en: str
    ack_seconds: int
    dispatch_seconds: int


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    role: str | None = None  # "operator", "command" or None
    external: bool = False


@dataclass(frozen=True)
class IncidentType:
    code: str
    name_id: str
    name_en: str
    priority: int
    lead: str | None
    support: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # A caller of this type may be in danger from whoever holds the phone (domestic violence,
    # crime): nothing is sent to them unless the call-taker chooses to, and the public ticket
    # page says only received / done.
    sensitive: bool = False


@dataclass(frozen=True)
class Sop:
    version: int
    regency_code: str
    regency_name: str
    timezone: str
    bbox: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    command_agency: str
    priorities: dict[int, Priority]
    agencies: dict[str, Agency]
    incident_types: dict[str, IncidentType]

    def is_sensitive(self, type_code: str | None) -> bool:
        found = self.incident_types.get(type_code or "")
        return found is not None and found.sensitive

    def routable_types(self) -> list[IncidentType]:
        """Types an incident may carry: those with a lead agency."""
        return [t for t in self.incident_types.values() if t.lead]


@dataclass(frozen=True)
class SopProblem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class SopError(Exception):
    """An SOP file that cannot be used; carries every problem found, each with its line."""

    def __init__(self, problems: list[SopProblem], source: str = "SOP"):
        self.problems = problems
        self.source = source
        super().__init__("\n".join(f"{source}: {p}" for p in problems))
