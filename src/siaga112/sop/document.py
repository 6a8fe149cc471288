"""The SOP file's structure as pydantic models; `rules` relates the parts, `loader` adds lines.

Every constraint that concerns one value lives here, next to the field it constrains. The
`expect` templates are the human messages the loader prints for a value pydantic refuses:
`$where` names the mapping holding the field ("incident type FIRE"), `$key` the field, `$name`
the refused value itself ("agency #3") and `$got` describes what the file had instead.
"""
from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from .positions import KEY, VALUE
from .schemas import Agency, IncidentType, Priority, Sop

# The loader reads this error type; the context carries the message template and whether the
# problem is on the line of the value or of its key.
PROBLEM = "sop_problem"


def problem(template: str, *, at: str = VALUE) -> PydanticCustomError:
    """A refusal the loader turns into `template` with its placeholders filled in."""
    return PydanticCustomError(PROBLEM, "{template}", {"template": template, "at": at})


def expect(template: str) -> WrapValidator:
    """Report a refused value as one problem saying what was expected.

    Only a refusal of the value as a whole is replaced (a string that is not one, a list that
    is not a list); problems inside a list or mapping keep their own position and message.
    """

    def validate(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if any(not error["loc"] for error in exc.errors()):
                raise problem(template) from None
            raise

    return WrapValidator(validate)


def _refuse(kind: type, template: str) -> BeforeValidator:
    """Refuse a value of `kind` with its own message, before the usual expectation applies."""

    def check(value: Any) -> Any:
        if isinstance(value, kind):
            raise problem(template)
        return value

    return BeforeValidator(check)


def _non_empty(kind: type) -> BeforeValidator:
    """Refuse an empty section of the right shape (a section of the wrong one is refused as such)."""

    def check(value: Any) -> Any:
        if isinstance(value, kind) and not value:
            raise problem("'$key' is empty", at=KEY)
        return value

    return BeforeValidator(check)


def _as_tuple(value: Any) -> Any:
    # `support:` and `keywords:` with nothing after them mean an empty list.
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else value


def _plain_name(value: Any) -> Any:
    # A type's name may be a plain string: the same name in both languages.
    return {"id": value, "en": value} if isinstance(value, str) and value.strip() else value


def _iana_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise problem("$where: timezone $got is not a valid IANA time zone (e.g. Asia/Makassar)") from None
    return name


def _within(limit: int, axis: str) -> AfterValidator:
    def check(value: float) -> float:
        if not -limit <= value <= limit:
            raise problem(f"$where: bbox {axis} values must lie within ±{limit}")
        return value

    return AfterValidator(check)


def _four(value: Any) -> Any:
    # YAML has lists, not tuples; any other length stays a list and is refused as a whole.
    return tuple(value) if isinstance(value, list) and len(value) == 4 else value


def _keywords(words: tuple[str, ...]) -> tuple[str, ...]:
    # Matching ignores case; a repeat is harmless, so the first spelling is kept.
    return tuple(dict.fromkeys(word.lower() for word in words))


_Stripped = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Text = Annotated[_Stripped, expect("$where: '$key' must be a non-empty string, got $got")]
PositiveInt = Annotated[int, Field(ge=1), expect("$where: '$key' must be a positive integer, got $got")]
Flag = Annotated[bool, expect("$where: $key must be true or false, got $got")]
Level = Annotated[int, Field(ge=1),
                  expect("priority level $got must be a positive integer (1 = most urgent)")]
BboxNumber = Annotated[float, expect("$where: bbox values must be numbers, got $got")]
Longitude = Annotated[BboxNumber, _within(180, "lon")]
Latitude = Annotated[BboxNumber, _within(90, "lat")]


class FileEntry(BaseModel):
    """A mapping in the SOP file: unknown fields are mistakes, and nothing is coerced."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Label(FileEntry):
    id: Text
    en: Text


class Regency(FileEntry):
    code: Text
    name: Text
    timezone: Annotated[Text, AfterValidator(_iana_zone)]
    bbox: Annotated[
        tuple[Longitude, Latitude, Longitude, Latitude],
        expect("$where: bbox must be a list of 4 numbers [lon_min, lat_min, lon_max, lat_max], got $got"),
        BeforeValidator(_four),
    ]


class PriorityEntry(FileEntry):
    label: Annotated[Label, expect("$where: '$key' must be a mapping {id: ..., en: ...}, got $got")]
    ack_seconds: PositiveInt
    dispatch_seconds: PositiveInt


class AgencyEntry(FileEntry):
    code: Text
    name: Text
    role: Annotated[Literal["operator", "command"] | None,
                    expect("$where: role must be 'operator', 'command' or absent, got $got")] = None
    external: Flag = False

    def to_agency(self) -> Agency:
        return Agency(**self.model_dump())


class IncidentTypeEntry(FileEntry):
    code: Text
    name: Annotated[
        Label,
        expect("$where: '$key' must be a mapping {id: ..., en: ...} or a plain string, got $got"),
        BeforeValidator(_plain_name),
    ]
    # The level must also be defined under `priorities`: a cross-field rule, see `rules`.
    priority: Annotated[int, expect("$where: priority must be an integer level, got $got")]
    # Required, but may be null (INFO and PRANK only: a cross-field rule, see `rules`).
    lead: Annotated[_Stripped | None, expect("$where: lead must be an agency code, got $got"),
                    _refuse(list, "$where: lead must be a single agency code, not a list")]
    support: Annotated[
        tuple[Annotated[_Stripped, expect("$where: support entries must be agency codes, got $got")], ...],
        expect("$where: support must be a list of agency codes, got $got"),
        BeforeValidator(_as_tuple),
    ] = ()
    keywords: Annotated[
        tuple[Annotated[_Stripped, expect(
            "$where: keywords must be non-empty strings (quote numbers), got $got")], ...],
        expect("$where: keywords must be a list of strings, got $got"),
        BeforeValidator(_as_tuple),
        AfterValidator(_keywords),
    ] = ()
    sensitive: Flag = False

    def to_incident_type(self) -> IncidentType:
        return IncidentType(name_id=self.name.id, name_en=self.name.en,
                            **self.model_dump(exclude={"name"}))


class SopFile(FileEntry):
    """The whole file. Sections may not be empty; each says what shape it expected."""

    version: PositiveInt
    regency: Annotated[Regency, expect("'$key' must be a mapping, got $got"), _non_empty(dict)]
    command_agency: Text
    priorities: Annotated[
        dict[Level, Annotated[PriorityEntry, expect(
            "$name must be a mapping {label, ack_seconds, dispatch_seconds}, got $got")]],
        expect("'$key' must be a mapping of level -> {label, ack_seconds, dispatch_seconds}, "
               "got $got"),
        _non_empty(dict),
    ]
    agencies: Annotated[
        list[Annotated[AgencyEntry, expect("$name must be a mapping {code, name}, got $got")]],
        expect("'$key' must be a list of agencies, got $got"),
        _non_empty(list),
    ]
    incident_types: Annotated[
        list[Annotated[IncidentTypeEntry, expect(
            "$name must be a mapping {code, name, priority, lead}, got $got")]],
        expect("'$key' must be a list of incident types, got $got"),
        _non_empty(list),
    ]

    def to_sop(self) -> Sop:
        """The SOP as the rest of the system reads it (only once the loader's rules pass)."""
        return Sop(
            version=self.version,
            regency_code=self.regency.code,
            regency_name=self.regency.name,
            timezone=self.regency.timezone,
            bbox=self.regency.bbox,
            command_agency=self.command_agency,
            priorities={level: Priority(level, p.label.id, p.label.en, p.ack_seconds, p.dispatch_seconds)
                        for level, p in sorted(self.priorities.items())},
            agencies={a.code: a.to_agency() for a in self.agencies},
            incident_types={t.code: t.to_incident_type() for t in self.incident_types},
        )


def entry_at(loc: tuple[str | int, ...]) -> type[FileEntry]:
    """The model describing the mapping at `loc` (a pydantic error location) in the file."""
    model: type[FileEntry] = SopFile
    parts = iter(loc)
    for part in parts:
        annotation = model.model_fields[str(part)].annotation
        if get_origin(annotation) in (list, dict):
            next(parts)  # the list index or the mapping key
        model = _entry_in(annotation)
    return model


def _entry_in(annotation: Any) -> Any:
    """The FileEntry model in a field's type: itself, or inside list[...], X | None, Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, FileEntry):
        return annotation
    found = (_entry_in(arg) for arg in get_args(annotation))
    return next((model for model in found if model is not None), None)
