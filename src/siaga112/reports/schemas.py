"""KPI bodies: one set of figures for the whole period and one per group."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GroupBy = Literal["agency", "type", "kecamatan", "desa", "channel", "hour"]


class Durations(BaseModel):
    """Seconds between two recorded moments, over `count` cases (nulls when there are none)."""

    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None


class CallFigures(BaseModel):
    """Every contact by outcome, and how fast the 112 floor answered (NENA, NFPA 1225, EENA)."""

    total: int
    by_outcome: dict[str, int]
    false_calls: int                     # prank + misdial + silent
    false_call_share: float | None       # of all calls
    false_calls_excluding_silent: int    # prank + misdial
    false_call_share_excluding_silent: float | None  # of the calls that were not silent
    answer: Durations
    answered_within_10s: float | None
    answered_within_15s: float | None
    answered_within_20s: float | None
    slowest_10pct_mean_seconds: float | None


class IncidentFigures(BaseModel):
    total: int
    processing: Durations                # call answered -> first unit dispatched
    dispatched_within_60s: float | None  # share of the dispatched incidents
    closing: Durations                   # incident created -> closed


class ResponseFigures(BaseModel):
    """The agencies' side: acknowledgement against the SOP deadline, and arrival."""

    assignments: int
    acknowledgement: Durations           # assignment created -> acknowledged
    judged: int                          # acknowledged, or still unacknowledged past the deadline
    on_time: int
    sla_compliance: float | None         # on_time / judged
    declined: int
    arrival: Durations                   # unit dispatched -> on scene


class KpiGroup(BaseModel):
    key: str | None
    label: str
    calls: CallFigures | None
    incidents: IncidentFigures
    response: ResponseFigures


class KpiReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(serialization_alias="from")
    to: datetime
    group_by: GroupBy | None
    # An agency's own people see their agency's figures only, and no call figures.
    agency_scope: str | None
    totals: KpiGroup
    groups: list[KpiGroup]
