"""Domain errors that carry their HTTP status; services raise them, the app renders them."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def body(self) -> dict:
        return {"detail": self.message}


class NotFound(DomainError):
    """Also what a user gets for something they may not see: never 403 for an incident."""

    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401


class TooManyRequests(DomainError):
    """Throttled: a locked login or a rate limit; says when to try again."""

    status_code = 429

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))
        self.headers = {"Retry-After": str(self.retry_after)}

    def body(self) -> dict:
        return {"detail": self.message, "retry_after": self.retry_after}


class LoginLocked(TooManyRequests):
    """Too many wrong passwords for this username or from this address; temporary."""


class Conflict(DomainError):
    status_code = 409


class InvalidField(DomainError):
    """Bad input found by a rule that needs the database or the SOP; shaped like FastAPI's 422."""

    status_code = 422

    def __init__(self, loc: tuple[str, ...] | str, message: str, *, source: str = "body"):
        super().__init__(message)
        self.loc = (loc,) if isinstance(loc, str) else tuple(loc)
        self.source = source  # "body" or "query", as FastAPI names where a field came from

    def body(self) -> dict:
        return {"detail": [{"loc": [self.source, *self.loc], "msg": self.message,
                            "type": "value_error"}]}


class ServiceUnavailable(DomainError):
    """The database is unreachable or busy: nothing was written; try again shortly."""

    status_code = 503

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}

    def body(self) -> dict:
        return {"detail": self.message, "retry_after": self.retry_after}


class InsufficientStorage(ServiceUnavailable):
    """The database's disk is full: nothing was written, and retrying will not help until an
    operator frees space."""

    status_code = 507
