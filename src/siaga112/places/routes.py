"""HTTP routes for landmarks (administrators) and the place search box (everyone on staff)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.deps import RowId, current_principal, get_ctx
from siaga112.errors import InvalidField
from siaga112.places import service
from siaga112.places.schemas import ImportResult, LandmarkIn, LandmarkPatch, LandmarkRead, PlaceHit

router = APIRouter(prefix="/api/v1", tags=["places"])


@router.get("/places/search", response_model=list[PlaceHit])
def search(q: str = Query(min_length=1, max_length=100), limit: int = Query(10, ge=1, le=50),
           who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """Landmarks, desa/kelurahan and kecamatan matching a typed name, best first."""
    with ctx.db.transaction(write=False) as conn:
        return service.search_places(ctx, who, q, conn=conn, limit=limit)


@router.get("/landmarks", response_model=list[LandmarkRead])
def list_landmarks(kind: str | None = None, desa_code: str | None = None,
                   limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
                   who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.list_landmarks(ctx, who, conn=conn, kind=kind, desa_code=desa_code,
                                      limit=limit, offset=offset)


@router.post("/landmarks", response_model=LandmarkRead, status_code=201)
def create_landmark(body: LandmarkIn, who: Principal = Depends(current_principal),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.create_landmark(ctx, who, body, conn=conn)


@router.post("/landmarks/import", response_model=ImportResult)
async def import_landmarks(request: Request, format: Literal["csv", "geojson"] | None = None,
                           who: Principal = Depends(current_principal),
                           ctx: Context = Depends(get_ctx)):
    """The file as the request body (text/csv or application/geo+json); all rows or none."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField("body", "the file must be UTF-8 text") from None
    fmt = format or service.format_of(None, request.headers.get("content-type"))

    def run() -> ImportResult:
        with ctx.db.transaction() as conn:
            return service.import_landmarks(ctx, who, text, fmt, conn=conn)

    return await run_in_threadpool(run)


@router.get("/landmarks/{landmark_id}", response_model=LandmarkRead)
def get_landmark(landmark_id: RowId, who: Principal = Depends(current_principal),
                 ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return service.get_landmark(ctx, who, landmark_id, conn=conn)


@router.patch("/landmarks/{landmark_id}", response_model=LandmarkRead)
def update_landmark(landmark_id: RowId, body: LandmarkPatch, who: Principal = Depends(current_principal),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.update_landmark(ctx, who, landmark_id, body, conn=conn)


@router.delete("/landmarks/{landmark_id}", status_code=204)
def delete_landmark(landmark_id: RowId, who: Principal = Depends(current_principal),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        service.delete_landmark(ctx, who, landmark_id, conn=conn)
    return Response(status_code=204)
