"""GET /api/v1/audit: the administrator's search of the audit trail."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query

from siaga112.audit import service
from siaga112.audit.schemas import AuditEntryRead, AuditPage
from siaga112.auth.permissions import require_admin
from siaga112.auth.principal import Principal
from siaga112.context import Context
from siaga112.db import UtcMoment
from siaga112.deps import current_principal, get_ctx

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=AuditPage)
def search_audit(actor: str | None = Query(default=None, max_length=64),
                 action: str | None = Query(default=None, max_length=48,
                                            description="exact, or a prefix ending in '.' or '*'"),
                 target: str | None = Query(default=None, max_length=64,
                                            description="an id (incident, user, token, unit) or a "
                                                        "caller's phone number"),
                 since: UtcMoment | None = None, until: UtcMoment | None = None,
                 cursor: str | None = Query(default=None, max_length=64),
                 limit: int = Query(default=100, ge=1, le=500),
                 who: Principal = Depends(current_principal), ctx: Context = Depends(get_ctx)):
    """Newest first. Searching is itself audited: the trail shows who looked at it."""
    require_admin(who, "read the audit trail")
    target = service.search_target(ctx.settings, target)
    with ctx.db.transaction() as conn:
        rows, next_cursor = service.search(conn, actor=actor, action=action, target=target,
                                           since=since, until=until, cursor=cursor, limit=limit)
        service.record(conn, who, "audit.searched", "audit", None, detail={
            "actor": actor, "action": action, "results": len(rows)})
    return AuditPage(items=[AuditEntryRead(**{**r._asdict(), "detail": json.loads(r.detail)})
                            for r in rows], next_cursor=next_cursor)
