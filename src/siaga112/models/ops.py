"""Operations: the row `/readyz` rewrites to prove that a write can still commit."""
from sqlalchemy import Column, Integer, Table

from siaga112.db import UTCDateTime, metadata

readiness_probe = Table(
    "readiness_probe", metadata,
    Column("id", Integer, primary_key=True),
    Column("checked_at", UTCDateTime),
)
