"""Reference data and the classifier: agencies, incident types with their SOP route, wilayah."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import current_principal, get_ctx
from siaga112.incidents.schemas import ClassificationRead, ClassifyRequest
from siaga112.models import wilayah

router = APIRouter(prefix="/api/v1", tags=["reference"])


class AgencyRead(BaseModel):
    code: str
    name: str
    role: str | None
    external: bool


class IncidentTypeRead(BaseModel):
    code: str
    name: str
    name_en: str
    priority: int
    lead: str | None
    support: list[str]
    ack_seconds: int
    dispatch_seconds: int


class WilayahRead(BaseModel):
    code: str
    level: str
    name: str
    parent_code: str | None
    lat: float | None
    lon: float | None


@router.get("/reference/agencies", response_model=list[AgencyRead])
def agencies(_: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    return [AgencyRead(code=a.code, name=a.name, role=a.role, external=a.external)
            for a in ctx.sop.agencies.values()]


@router.get("/reference/incident-types", response_model=list[IncidentTypeRead])
def incident_types(_: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    prios = ctx.sop.priorities
    return [IncidentTypeRead(code=t.code, name=t.name_id, name_en=t.name_en, priority=t.priority,
                             lead=t.lead, support=list(t.support),
                             ack_seconds=prios[t.priority].ack_seconds,
                             dispatch_seconds=prios[t.priority].dispatch_seconds)
            for t in ctx.sop.incident_types.values()]


@router.get("/reference/wilayah", response_model=list[WilayahRead])
def list_wilayah(level: Literal["kecamatan", "desa"] | None = None,
                 _: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    query = select(wilayah).where(wilayah.c.level.in_((level,) if level else ("kecamatan", "desa")))
    with ctx.db.transaction(write=False) as conn:
        return [WilayahRead.model_validate(r, from_attributes=True)
                for r in conn.execute(query.order_by(wilayah.c.code))]


@router.post("/classify", response_model=ClassificationRead)
def classify(body: ClassifyRequest, _: Principal = Depends(current_principal),
             ctx: Context = Depends(get_ctx)):
    c = ctx.classifier.classify(body.description)
    return ClassificationRead(type_code=c.type_code, confidence=c.confidence,
                              alternatives=list(c.alternatives))
