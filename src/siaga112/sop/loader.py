"""Read the SOP YAML file, check it, and report every problem with its line.

The file's structure is the pydantic models of `document`, the rules relating one part of it to
another are in `rules`; this module reads the YAML with its positions and turns each pydantic
error into `line N: message`.
"""
from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Annotated, Any, cast

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml.error import YAMLError

from .document import PROBLEM, SopFile, entry_at, expect
from .positions import KEY, NODE, VALUE, Loc, line_of, load_tree, plain, syntax_error
from .rules import check_rules
from .schemas import Sop, SopError, SopProblem

_MISSING_HINTS = {"lead": " (write 'lead: null' for a type without lead)"}
# What a field of a plain type expects, so that a new field needs no message of its own.
_PLAIN_TYPES = {"bool_type": "true or false", "int_type": "an integer", "float_type": "a number",
                "string_type": "a string", "list_type": "a list", "tuple_type": "a list",
                "dict_type": "a mapping", "model_type": "a mapping"}

_DOCUMENT = TypeAdapter(Annotated[SopFile, expect(
    f"the top level must be a mapping of sections ({', '.join(SopFile.model_fields)}), got $got")])


def default_sop_path() -> Path:
    """Path of the SOP file shipped with the package."""
    return Path(__file__).resolve().parent.parent / "data" / "sop" / "ppu.yaml"


def load_sop(path: str | Path) -> Sop:
    """Read and validate the SOP file at `path`."""
    return parse_sop(Path(path).read_text(encoding="utf-8"), source=str(path))


def parse_sop(text: str, source: str = "SOP") -> Sop:
    """Parse and validate SOP YAML text; raise SopError listing every problem."""
    try:
        tree = load_tree(text)
    except YAMLError as exc:
        raise SopError([SopProblem(*syntax_error(exc))], source) from None
    try:
        document, errors = _DOCUMENT.validate_python(plain(tree)), []
    except ValidationError as exc:
        document, errors = None, _beside_refused_keys(exc.errors())
    view = FileView(tree, errors)
    problems = [view.problem(error) for error in errors] + check_rules(view)
    if problems or document is None:
        unique = list(dict.fromkeys(problems))  # e.g. both longitudes out of range: said once
        raise SopError(sorted(unique, key=lambda p: p.line or 0), source)
    return document.to_sop()


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


def _beside_refused_keys(errors: list[Any]) -> list[Any]:
    """The errors, less those inside an entry whose key was refused (`one:` under priorities)."""
    keys = [tuple(e["loc"][:-1]) for e in errors if e["loc"] and e["loc"][-1] == "[key]"]
    return [e for e in errors
            if not any(e["loc"][: len(k)] == k and e["loc"][len(k):] != ("[key]",) for k in keys)]


def _describe(value: Any) -> str:
    """Short human description of a YAML value for messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


_ABSENT = object()


class FileView:
    """The YAML tree with pydantic's verdict on each part: positions, names and accepted values."""

    def __init__(self, tree: Any, errors: list[Any]) -> None:
        self.tree = tree
        self.refused: list[Loc] = [tuple(error["loc"]) for error in errors]

    def _node(self, loc: Loc) -> Any:
        node: Any = self.tree
        for part in loc:
            try:
                node = cast(Any, node)[part] if isinstance(node, (dict, list)) else _ABSENT
            except (KeyError, IndexError, TypeError):
                return _ABSENT
        return node

    def intact(self, *loc: str | int) -> bool:
        """`loc` is present and neither it nor what holds it was refused (its parts may be)."""
        return self._node(loc) is not _ABSENT and not any(loc[: len(r)] == r for r in self.refused)

    def valid(self, *loc: str | int) -> bool:
        """`loc` is present and accepted as a whole."""
        return self.intact(*loc) and not any(r[: len(loc)] == loc for r in self.refused)

    def get(self, *loc: str | int) -> Any:
        """The accepted value at `loc`, as the models read it (text stripped)."""
        value = plain(self._node(loc))
        return value.strip() if isinstance(value, str) else value

    def items(self, *loc: str | int) -> list[Any]:
        """Accepted keys or indices of the intact list or mapping at `loc` (none if refused)."""
        node = self._node(loc) if self.intact(*loc) else None
        if isinstance(node, dict):
            return [key for key in node if (*loc, key, "[key]") not in self.refused]
        return list(range(len(node))) if isinstance(node, list) else []

    def line(self, loc: Loc, *, at: str = VALUE) -> int:
        """Line of the value (or the key, or the node itself) at `loc`."""
        return line_of(self.tree, loc, at=at)

    def name(self, loc: Loc) -> str:
        """How messages call the part at `loc`: "priority 2", "agency DAMKAR", "incident type #3"."""
        if not loc:
            return "top level"
        if len(loc) == 2 and loc[0] == "priorities":
            return f"priority {loc[1]}"
        if len(loc) == 2 and loc[0] in ("agencies", "incident_types") and isinstance(loc[1], int):
            kind = "agency" if loc[0] == "agencies" else "incident type"
            if self.valid(*loc, "code"):
                return f"{kind} {self.get(*loc, 'code')}"
            return f"{kind} #{loc[1] + 1}"
        if len(loc) == 1:
            return str(loc[0])
        return f"{self.name(loc[:-1])} {loc[-1]}"

    def problem(self, error: Any) -> SopProblem:
        """One pydantic error as a problem on its line."""
        loc: Loc = tuple(error["loc"])
        kind, ctx = error["type"], error.get("ctx") or {}
        at = VALUE
        if loc and loc[-1] == "[key]":  # a mapping key was refused: point at the key
            loc, at = loc[:-1], KEY
        fields = [i for i, part in enumerate(loc) if isinstance(part, str)]
        key = loc[fields[-1]] if fields else ""
        where = self.name(loc[: fields[-1]] if fields else ())
        if kind == PROBLEM:
            message = Template(ctx["template"]).safe_substitute(
                where=where, key=key, name=self.name(loc), got=_describe(error["input"]))
            at = KEY if ctx["at"] == KEY else at
        elif kind == "missing":
            at = NODE
            loc = loc[:-1]
            if loc:
                message = f"{where}: missing required field '{key}'{_MISSING_HINTS.get(str(key), '')}"
            else:
                message = f"missing required section '{key}'"
        elif kind in ("extra_forbidden", "invalid_key"):
            at = KEY
            expected = ", ".join(entry_at(loc[:-1]).model_fields)
            message = (f"{self.name(loc[:-1])}: unknown field {_describe(loc[-1])} "
                       f"(expected one of: {expected})")
        elif kind in _PLAIN_TYPES:  # a field declared without an `expect` message
            message = f"{where}: '{key}' must be {_PLAIN_TYPES[kind]}, got {_describe(error['input'])}"
        else:
            message = f"{where}: '{key}': {error['msg']}"
        return SopProblem(self.line(loc, at=at), message)
