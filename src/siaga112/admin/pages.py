"""The administration console: agencies, users and roles, the SOP matrix, and the change record.

Edits are htmx forms that swap an editor panel; a refused change answers 422 (409 for a
conflict) with the same panel listing the reasons, and nothing is written. Without htmx the
same URLs render whole pages, so every screen also works as plain links and forms.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, QueryParams

from siaga112.admin import service as admin
from siaga112.admin.schemas import AgencyUpdate, IncidentTypeUpdate, PriorityUpdate, UserChange, UserCreate
from siaga112.audit import service as audit
from siaga112.auth.permissions import administers
from siaga112.auth.principal import Principal, Role
from siaga112.context import Context
from siaga112.deps import RowId, get_ctx
from siaga112.errors import Conflict, Forbidden, InvalidField
from siaga112.notify.service import public_links_unset
from siaga112.web.deps import page_principal
from siaga112.web.forms import FormInvalid, blank_to_none, build, form_text, posted_form
from siaga112.web.templating import pages_of

router = APIRouter(prefix="/konsol/admin", include_in_schema=False)

REFUSALS = (FormInvalid, InvalidField, Conflict, admin.SopRefused)
ROLE_LABELS = {"admin": "Administrator", "call_taker": "Operator 112", "commander": "Komandan",
               "dispatcher": "Petugas dinas", "viewer": "Pemantau", "integration": "Integrasi (mesin)"}
KIND_LABELS = {"agency": "Dinas", "user": "Pengguna", "incident_type": "Jenis kejadian",
               "priority": "Prioritas"}


def _admin(who: Principal = Depends(page_principal)) -> Principal:
    if not administers(who):
        raise Forbidden("halaman ini untuk administrator")
    return who


def _htmx(request: Request) -> bool:
    """An htmx swap wants the panel only; a history restore wants the whole page."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def _problems(exc: Exception) -> list[str]:
    if isinstance(exc, FormInvalid):
        return [f"{field}: {msg}" for field, msg in exc.problems]
    if isinstance(exc, admin.SopRefused):
        return exc.problems
    if isinstance(exc, InvalidField):
        return [f"{exc.loc[-1]}: {exc.message}"]
    return [str(getattr(exc, "message", exc))]


def _toast(response: Response, message: str) -> Response:
    response.headers["HX-Trigger"] = json.dumps({"siaga-toast": message})
    return response


UNITS = {"id": ("detik", "menit", "jam", "hari"), "en": ("s", "min", "h", "d")}


def duration_text(seconds: int, lang: str) -> str:
    """A deadline as people say it: 90 -> "90 detik", 900 -> "15 menit", 86400 -> "1 hari"."""
    s, m, h, d = UNITS.get(lang, UNITS["id"])
    for size, unit in ((86400, d), (3600, h), (60, m)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    if seconds >= 120:
        return f"{seconds // 60} {m} {seconds % 60} {s}"
    return f"{seconds} {s}"


def _render(request: Request, name: str, status_code: int = 200, **context) -> Response:
    pages = pages_of(request)
    lang = pages.language(request)
    return pages.render(request, name, status_code=status_code, nav="admin",
                        role_labels=ROLE_LABELS, kind_labels=KIND_LABELS, roles=list(Role),
                        duration=lambda seconds: duration_text(seconds, lang), **context)


def _secret(response: Response) -> Response:
    # A page showing a password must not be kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- landing --------------------------------------------------------------------------------------


@router.get("")
def home(request: Request, who: Principal = Depends(_admin), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        agencies = admin.list_agencies(ctx, who, conn=conn)
        users = admin.list_users(ctx, who, conn=conn)
        sop = admin.current_sop(ctx, who, conn=conn)
        recent = admin.list_changes(ctx, who, conn=conn, limit=8).items
    return _render(request, "admin/home.html", who=who, section="home", agencies=agencies,
                   users=users, sop=sop, recent=present_changes(recent), revision=ctx.sop_revision,
                   public_base_url=ctx.settings.public_base_url,
                   public_links_unset=public_links_unset(ctx.settings))


# --- agencies -------------------------------------------------------------------------------------


def _agencies_page(request, ctx, who, *, conn, editing=None, problems=None, form=None,
                   status_code=200, saved=False):
    agencies = admin.list_agencies(ctx, who, conn=conn)
    context = dict(who=who, section="agencies", agencies=agencies, editing=editing,
                   problems=problems, form=form, saved=saved)
    if _htmx(request):
        return _render(request, "admin/_agency_editor.html", status_code=status_code,
                       oob_list=saved, **context)
    return _render(request, "admin/agencies.html", status_code=status_code, **context)


@router.get("/dinas")
def agencies_page(request: Request, who: Principal = Depends(_admin),
                  ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return _render(request, "admin/agencies.html", who=who, section="agencies",
                       agencies=admin.list_agencies(ctx, who, conn=conn), editing=None)


@router.get("/dinas/{code}")
def agency_editor(code: str, request: Request, who: Principal = Depends(_admin),
                  ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        editing = admin.get_agency(ctx, who, code, conn=conn)
        return _agencies_page(request, ctx, who, conn=conn, editing=editing)


@router.post("/dinas/{code}")
def agency_save(code: str, request: Request, who: Principal = Depends(_admin),
                ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    submitted = {"name": form_text(form, "name"), "active": form.get("active") == "on"}
    try:
        data = build(AgencyUpdate, submitted)
        with ctx.db.transaction() as conn:
            changed = admin.update_agency(ctx, who, code, data, conn=conn)
    except REFUSALS as exc:
        with ctx.db.transaction(write=False) as conn:
            editing = admin.get_agency(ctx, who, code, conn=conn)
            response = _agencies_page(request, ctx, who, conn=conn, editing=editing,
                                      problems=_problems(exc), form=submitted,
                                      status_code=409 if isinstance(exc, Conflict) else 422)
        return _toast(response, pages_of(request).gettext(request, "Perubahan ditolak"))
    with ctx.db.transaction(write=False) as conn:
        editing = admin.get_agency(ctx, who, code, conn=conn)
        response = _agencies_page(request, ctx, who, conn=conn, editing=editing, saved=True)
    gettext = pages_of(request).gettext
    return _toast(response, gettext(request, "Tersimpan") if changed
                  else gettext(request, "Tidak ada yang berubah"))


# --- users ----------------------------------------------------------------------------------------


def _user_filters(request: Request) -> dict:
    # After an edit, the refreshed list keeps the search the page shows (htmx sends its URL).
    q = request.query_params
    current = request.headers.get("HX-Current-URL")
    if not q and current:
        q = QueryParams(urlsplit(current).query)
    status = q.get("status") or ""
    return {"q": (q.get("q") or "").strip(), "role": q.get("role") or "",
            "agency_code": q.get("agency_code") or "", "status": status}


def _list_users(ctx, who, conn, filters):
    active = {"aktif": True, "nonaktif": False}.get(filters["status"])
    return admin.list_users(ctx, who, conn=conn, q=filters["q"] or None, role=filters["role"] or None,
                            agency_code=filters["agency_code"] or None, active=active)


def _users_page(request, ctx, who, *, conn, panel="none", user=None, problems=None, form=None,
                secret=None, ended=None, status_code=200, refresh_list=False):
    filters = _user_filters(request)
    context = dict(who=who, section="users", panel=panel, user=user, problems=problems,
                   form=form or {}, secret=secret, ended=ended, filters=filters,
                   agencies=admin.list_agencies(ctx, who, conn=conn),
                   users=_list_users(ctx, who, conn, filters))
    if _htmx(request):
        return _render(request, "admin/_user_panel.html", status_code=status_code,
                       oob_list=refresh_list, **context)
    return _render(request, "admin/users.html", status_code=status_code, **context)


@router.get("/pengguna")
def users_page(request: Request, who: Principal = Depends(_admin), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        if _htmx(request) and request.headers.get("HX-Target") == "user-list":
            filters = _user_filters(request)
            return _render(request, "admin/_user_list.html", who=who, filters=filters,
                           users=_list_users(ctx, who, conn, filters))
        return _users_page(request, ctx, who, conn=conn)


@router.get("/pengguna/baru")
def user_new(request: Request, who: Principal = Depends(_admin), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return _users_page(request, ctx, who, conn=conn, panel="new")


def _user_form(form) -> dict:
    return blank_to_none(form, "username", "full_name", "role", "agency_code")


@router.post("/pengguna")
def user_create(request: Request, who: Principal = Depends(_admin),
                ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    submitted = _user_form(form)
    try:
        data = build(UserCreate, submitted)
        with ctx.db.transaction() as conn:
            user_id, password = admin.create_account(ctx, who, data, conn=conn)
    except REFUSALS as exc:
        with ctx.db.transaction(write=False) as conn:
            response = _users_page(request, ctx, who, conn=conn, panel="new",
                                   problems=_problems(exc), form=submitted, status_code=422)
        return _toast(response, pages_of(request).gettext(request, "Perubahan ditolak"))
    with ctx.db.transaction(write=False) as conn:
        user = admin.get_user(ctx, who, user_id, conn=conn)
        response = _users_page(request, ctx, who, conn=conn, panel="secret", user=user,
                               secret=password, status_code=201, refresh_list=True)
    return _secret(_toast(response, pages_of(request).gettext(request, "Pengguna dibuat")))


@router.get("/pengguna/{user_id}")
def user_editor(user_id: RowId, request: Request, who: Principal = Depends(_admin),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        user = admin.get_user(ctx, who, user_id, conn=conn)
        return _users_page(request, ctx, who, conn=conn, panel="edit", user=user)


@router.post("/pengguna/{user_id}")
def user_save(user_id: RowId, request: Request, who: Principal = Depends(_admin),
              ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    submitted = blank_to_none(form, "full_name", "role", "agency_code")
    return _user_action(request, ctx, who, user_id, "save", submitted)


@router.post("/pengguna/{user_id}/{action}")
def user_act(user_id: RowId, action: str, request: Request, who: Principal = Depends(_admin),
             ctx: Context = Depends(get_ctx)):
    if action not in ("nonaktifkan", "aktifkan", "sandi"):
        raise InvalidField("action", f"unknown action {action!r}")
    return _user_action(request, ctx, who, user_id, action, {})


def _user_action(request, ctx, who, user_id, action, submitted):
    gettext = pages_of(request).gettext
    secret = ended = None
    try:
        with ctx.db.transaction() as conn:
            if action == "save":
                data = build(UserChange, submitted)
                changed = admin.change_user(ctx, who, user_id, data, conn=conn)
                message = gettext(request, "Tersimpan") if changed else gettext(request, "Tidak ada yang berubah")
            elif action == "sandi":
                secret, ended = admin.reset_password(ctx, who, user_id, conn=conn)
                message = gettext(request, "Kata sandi baru dibuat")
            else:
                result = admin.set_user_active(ctx, who, user_id, action == "aktifkan", conn=conn)
                ended = result if action == "nonaktifkan" else None
                message = gettext(request, "Pengguna diaktifkan") if action == "aktifkan" \
                    else gettext(request, "Pengguna dinonaktifkan")
    except REFUSALS as exc:
        with ctx.db.transaction(write=False) as conn:
            user = admin.get_user(ctx, who, user_id, conn=conn)
            response = _users_page(request, ctx, who, conn=conn, panel="edit", user=user,
                                   problems=_problems(exc), form=submitted,
                                   status_code=409 if isinstance(exc, Conflict) else 422)
        return _toast(response, gettext(request, "Perubahan ditolak"))
    with ctx.db.transaction(write=False) as conn:
        user = admin.get_user(ctx, who, user_id, conn=conn)
        response = _users_page(request, ctx, who, conn=conn,
                               panel="secret" if secret else "edit", user=user, secret=secret,
                               ended=ended, refresh_list=True)
    if secret:
        _secret(response)
    return _toast(response, message)


# --- the SOP matrix -------------------------------------------------------------------------------


def _sop_page(request, ctx, who, *, conn, panel="none", target=None, problems=None, form=None,
              status_code=200, refresh=False):
    sop = admin.current_sop(ctx, who, conn=conn)
    context = dict(who=who, section="sop", sop=sop, panel=panel, target=target,
                   problems=problems, form=form or {}, revision=ctx.sop_revision)
    if _htmx(request):
        return _render(request, "admin/_sop_panel.html", status_code=status_code,
                       oob_matrix=refresh, **context)
    return _render(request, "admin/sop.html", status_code=status_code, **context)


@router.get("/sop")
def sop_page(request: Request, who: Principal = Depends(_admin), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return _render(request, "admin/sop.html", who=who, section="sop", panel="none",
                       sop=admin.current_sop(ctx, who, conn=conn), form={},
                       revision=ctx.sop_revision)


@router.get("/sop.yaml")
def sop_export(who: Principal = Depends(_admin), ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        text = admin.export_sop_yaml(ctx, who, conn=conn)
    return Response(text, media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sop-siaga112.yaml"'})


@router.get("/sop/jenis/{code}")
def type_editor(code: str, request: Request, who: Principal = Depends(_admin),
                ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        sop = admin.current_sop(ctx, who, conn=conn)
        if code not in sop.incident_types:
            raise InvalidField("code", f"unknown incident type {code!r}")
        return _sop_page(request, ctx, who, conn=conn, panel="type", target=code)


@router.post("/sop/jenis/{code}")
def type_save(code: str, request: Request, who: Principal = Depends(_admin),
              ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    submitted = blank_to_none(form, "name_id", "name_en", "priority", "lead")
    submitted["support"] = [s for s in form.getlist("support") if isinstance(s, str) and s]
    return _sop_save(request, ctx, who, "type", code, submitted)


@router.get("/sop/prioritas/{level}")
def priority_editor(level: int, request: Request, who: Principal = Depends(_admin),
                    ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction(write=False) as conn:
        return _sop_page(request, ctx, who, conn=conn, panel="priority", target=level)


@router.post("/sop/prioritas/{level}")
def priority_save(level: int, request: Request, who: Principal = Depends(_admin),
                  ctx: Context = Depends(get_ctx), form: FormData = Depends(posted_form)):
    submitted = blank_to_none(form, "label_id", "label_en", "ack_seconds", "dispatch_seconds")
    return _sop_save(request, ctx, who, "priority", level, submitted)


def _sop_save(request, ctx, who, panel, target, submitted):
    gettext = pages_of(request).gettext
    try:
        with ctx.db.transaction() as conn:
            if panel == "type":
                changed = admin.update_incident_type(ctx, who, target,
                                                     build(IncidentTypeUpdate, submitted), conn=conn)
            else:
                changed = admin.update_priority(ctx, who, target, build(PriorityUpdate, submitted),
                                                conn=conn)
    except REFUSALS as exc:
        with ctx.db.transaction(write=False) as conn:
            response = _sop_page(request, ctx, who, conn=conn, panel=panel, target=target,
                                 problems=_problems(exc), form=submitted, status_code=422)
        return _toast(response, gettext(request, "Perubahan SOP ditolak"))
    with ctx.db.transaction(write=False) as conn:
        response = _sop_page(request, ctx, who, conn=conn, panel=panel, target=target,
                             refresh=True)
    return _toast(response, gettext(request, "SOP tersimpan; berlaku untuk insiden baru")
                  if changed else gettext(request, "Tidak ada yang berubah"))


# --- the record of changes ------------------------------------------------------------------------


def _shown(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return str(value)


@dataclass(frozen=True)
class ChangeView:
    """One admin change as the audit table shows it: field, before and after as text."""

    at: datetime
    actor_username: str
    action: str
    target_kind: str
    target: str
    note: str | None
    lines: list[tuple[str, str | None, str | None]]


def present_changes(rows) -> list[ChangeView]:
    out = []
    for c in rows:
        before, after = c.before or {}, c.after or {}
        fields = list(after) + [k for k in before if k not in after]
        lines = [(f, _shown(before.get(f)) if f in before else None,
                  _shown(after.get(f)) if f in after else None) for f in fields]
        out.append(ChangeView(c.at, c.actor_username, c.action, c.target_kind, c.target, c.note,
                              lines))
    return out



def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidField(field, "use a date like 2026-01-31") from None


@router.get("/audit")
def audit_page(request: Request, who: Principal = Depends(_admin), ctx: Context = Depends(get_ctx)):
    q = request.query_params
    tz = pages_of(request).tz
    filters = {"actor": q.get("actor") or "", "kind": q.get("kind") or "",
               "target": (q.get("target") or "").strip(), "dari": q.get("dari") or "",
               "sampai": q.get("sampai") or ""}
    # Days are WITA days: the filter means what the administrator's calendar says.
    since = _day(filters["dari"], "dari")
    until = _day(filters["sampai"], "sampai")
    before_id = q.get("sebelum")
    with ctx.db.transaction(write=False) as conn:
        page = admin.list_changes(
            ctx, who, conn=conn, actor=filters["actor"] or None,
            target_kind=filters["kind"] if filters["kind"] in admin.TARGET_KINDS else None,
            target=filters["target"] or None,
            since=datetime.combine(since, time(), tz) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), tz) if until else None,
            before_id=int(before_id) if before_id and before_id.isdigit() else None)
        actors = admin.change_actors(conn)
    return _render(request, "admin/audit.html", who=who, section="audit", page=page,
                   rows=present_changes(page.items),
                   actors=actors, filters=filters, kinds=admin.TARGET_KINDS)


@router.get("/jejak")
def audit_trail_page(request: Request, who: Principal = Depends(_admin),
                     ctx: Context = Depends(get_ctx)):
    """The hash-chained audit trail (every change and every view of a caller's data), searched."""
    q = request.query_params
    tz = pages_of(request).tz
    filters = {k: (q.get(k) or "").strip()[:64] for k in ("actor", "action", "target", "dari", "sampai")}
    since, until = _day(filters["dari"], "dari"), _day(filters["sampai"], "sampai")
    target = audit.search_target(ctx.settings, filters["target"] or None)
    with ctx.db.transaction() as conn:
        rows, next_cursor = audit.search(
            conn, actor=filters["actor"] or None, action=filters["action"] or None, target=target,
            since=datetime.combine(since, time(), tz) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), tz) if until else None,
            cursor=q.get("cursor") or None, limit=100)
        # Looking at the trail is itself on the trail.
        audit.record(conn, who, "audit.searched", "audit", None,
                     detail={"actor": filters["actor"], "action": filters["action"],
                             "results": len(rows), "page": "console"})
        check = audit.verify(conn) if q.get("periksa") else None
        # The chain alone cannot show entries cut off its end; the signed checkpoints can.
        checkpoints = (audit.check_checkpoints(conn, _checkpoint_lines(ctx))
                       if check is not None and check.broken is None else None)
    return _render(request, "admin/audit_trail.html", who=who, section="trail", rows=rows,
                   next_cursor=next_cursor, filters=filters, check=check, checkpoints=checkpoints)


def _checkpoint_lines(ctx: Context) -> list[str]:
    try:
        return ctx.settings.checkpoint_path().read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
