"""Administrative areas of the regency (Kemendagri codes): kecamatan and desa/kelurahan."""
from sqlalchemy import Column, Float, String, Table, Text

from siaga112.db import metadata

wilayah = Table(
    "wilayah", metadata,
    Column("code", String(16), primary_key=True),
    Column("level", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_code", String(16)),
    Column("lat", Float),
    Column("lon", Float),
)
