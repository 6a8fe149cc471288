"""Bodies of the account and token API."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from siaga112.incidents.schemas import Strict


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


class PasswordSet(Strict):
    new_password: str = Field(min_length=8, max_length=200)


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=128)
    scope: Literal["full", "read"] = "full"
    username: str | None = Field(default=None, min_length=1, max_length=64,
                                 description="another user's token (administrators only)")


class TokenRead(BaseModel):
    id: int
    username: str
    name: str
    scope: Literal["full", "read"]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="shown once; only its hash is stored")


class UserRead(BaseModel):
    username: str
    full_name: str | None
    role: str
    agency_code: str | None
    active: bool
    created_at: datetime
    disabled_at: datetime | None
    password_changed_at: datetime | None


class UserState(BaseModel):
    username: str
    active: bool
