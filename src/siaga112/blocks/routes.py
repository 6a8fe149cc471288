"""HTTP routes for number blocks (prank and silent callers)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from siaga112.auth.principal import Principal
from siaga112.blocks import service
from siaga112.blocks.schemas import BlockDecision, BlockPropose, BlockRead, BlockRelease
from siaga112.context import Context
from siaga112.deps import RowId, current_principal, get_ctx

router = APIRouter(prefix="/api/v1/number-blocks", tags=["number blocks"])


@router.get("", response_model=list[BlockRead])
def list_blocks(status: str | None = None, phone: str | None = None,
                limit: int = Query(default=100, ge=1, le=500),
                who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:  # each number shown is audited
        return service.list_blocks(ctx, who, conn=conn, status=status, phone=phone, limit=limit)


@router.post("", response_model=BlockRead, status_code=201)
def propose(body: BlockPropose, who: Principal = Depends(current_principal),
            ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.propose_block(ctx, who, body.phone, body.reason, conn=conn)


@router.get("/{block_id}", response_model=BlockRead)
def get_block(block_id: RowId, who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:  # the number shown is audited
        return service.get_block(ctx, who, block_id, conn=conn)


@router.post("/{block_id}/confirm", response_model=BlockRead)
def confirm(block_id: RowId, body: BlockDecision | None = None,
            who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.confirm_block(ctx, who, block_id, body.note if body else None, conn=conn)


@router.post("/{block_id}/reject", response_model=BlockRead)
def reject(block_id: RowId, body: BlockDecision | None = None,
           who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.reject_block(ctx, who, block_id, body.note if body else None, conn=conn)


@router.post("/{block_id}/release", response_model=BlockRead)
def release(block_id: RowId, body: BlockRelease, who: Principal = Depends(current_principal),
            ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        return service.release_block(ctx, who, block_id, body.note, conn=conn)
