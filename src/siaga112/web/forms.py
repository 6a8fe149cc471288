"""Turning console form posts into the same validated bodies the API takes."""
from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

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


async def posted_form(request: Request) -> FormData:
    """The posted form, parsed on the event loop so the handler itself can be a plain `def`.

    Console handlers write to the database; as `async def` they would run that work on the loop
    and stall every event stream of the process while they did.
    """
    return await request.form()


def form_text(form: Any, name: str) -> str:
    """A text field; a file sent in its place is bad input (422), not a crash."""
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormInvalid([(name, "expected text")])
    return value.strip()


def blank_to_none(form: Any, *names: str) -> dict[str, Any]:
    """The named fields, with empty inputs as None (a browser sends "" for an empty box)."""
    return {name: form_text(form, name) or None for name in names}


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
