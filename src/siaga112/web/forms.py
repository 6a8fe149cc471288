"""Turning console form posts into the same validated bodies the API takes."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from siaga112.errors import DomainError


class FormInvalid(DomainError):
    """A console form failed validation; each message names its field."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in problems))
        self.problems = problems

    def body(self) -> dict:
        return {"detail": [{"loc": ["body", field], "msg": msg, "type": "value_error"}
                           for field, msg in self.problems]}


def blank_to_none(form: Any, *names: str) -> dict[str, Any]:
    """The named fields, with empty inputs as None (a browser sends "" for an empty box)."""
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) and value.strip() else None
    return out


def build(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """Validate like the API does, but report problems by form field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
            msg = error["msg"].removeprefix("Value error, ")
            problems.append((".".join(loc) or msg.split(":", 1)[0], msg))
        raise FormInvalid(problems) from None
