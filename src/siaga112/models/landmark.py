"""Landmarks callers name instead of an address: mosques, schools, markets, km markers, ports."""
from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from siaga112.db import UTCDateTime, metadata

landmarks = Table(
    "landmarks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    # Other names people use for it ("Masjid Agung" for "Masjid Agung Al-Ikhlas"), ';'-separated.
    Column("aliases", Text),
    Column("desa_code", String(16)),
    Column("kecamatan_code", String(16)),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("source", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Two mosques may share a name, not in the same desa: an import updates the one it names.
    UniqueConstraint("kind", "name", "desa_code"),
    Index("ix_landmarks_updated_at", "updated_at"),
)
