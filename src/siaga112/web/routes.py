"""Login, logout, each role's landing page, the language switch and the map's boundaries."""
from __future__ import annotations

import json
import math
from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from siaga112.auth.accounts import authenticate, revoke_everywhere
from siaga112.auth.permissions import landing_page, may_use_consoles
from siaga112.auth.principal import Principal
from siaga112.auth.sessions import SESSION_COOKIE, WebSession, create_session, end_session
from siaga112.context import Context
from siaga112.deps import client_address, get_ctx, lookup_session
from siaga112.errors import LoginLocked, Unauthorized
from siaga112.security.ratelimit import rate_limit
from siaga112.web.deps import page_principal, web_session
from siaga112.web.templating import DATA_DIR, LANG_COOKIE, LANGUAGES, pages_of

router = APIRouter(include_in_schema=False)

def _safe_next(value: str | None) -> str | None:
    # Only a path on this site: an open redirect would hand a phishing page our login.
    # Browsers read "/\\host" as "//host", so a backslash anywhere is refused too.
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or urlsplit(value).netloc):
        return None
    return value


@router.get("/")
def root(request: Request, ctx: Context = Depends(get_ctx)):
    session = lookup_session(ctx, request.cookies.get(SESSION_COOKIE))
    return RedirectResponse(landing_page(session.principal) if session else "/login", 303)


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    return pages_of(request).render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", dependencies=[Depends(rate_limit("login", "rate_limit_login_per_minute"))])
def login(request: Request, username: str = Form(""), password: str = Form(""),
          next: str | None = Form(None), ctx: Context = Depends(get_ctx)):
    pages = pages_of(request)
    remote = client_address(request)
    try:
        # Throttled per username and per address, and audited, by the accounts service.
        who = authenticate(ctx, username, password, remote) if username and password else None
    except Unauthorized:
        who = None
    except LoginLocked as exc:
        # The first waits are seconds long (they double with each failure): say so, not "minutes".
        if exc.retry_after < 90:
            error = pages.gettext(request, "Terlalu banyak percobaan gagal; coba lagi dalam {detik} "
                                  "detik.").format(detik=max(1, math.ceil(exc.retry_after)))
        else:
            minutes = max(1, round(exc.retry_after / 60))
            error = pages.gettext(request, "Terlalu banyak percobaan gagal; coba lagi dalam "
                                  "beberapa menit.") + f" ({minutes} min)"
        return pages.render(request, "login.html", status_code=429, next=_safe_next(next), error=error,
                            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))})
    # Machine accounts have no console.
    if who is not None and not may_use_consoles(who):
        who = None
    if who is None:
        return pages.render(request, "login.html", status_code=401, next=_safe_next(next),
                            error=pages.gettext(request, "Nama pengguna atau kata sandi salah."))
    with ctx.db.transaction() as conn:
        token = create_session(conn, who, remote_addr=remote)
    response = RedirectResponse(_safe_next(next) or landing_page(who), 303)
    secure = request.url.scheme == "https" or ctx.settings.cookie_secure
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure,
                        path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: WebSession = Depends(web_session),
           ctx: Context = Depends(get_ctx)):
    with ctx.db.transaction() as conn:
        end_session(conn, request.cookies[SESSION_COOKIE])
        # A stream opened with this session must not outlive it. The user's streams in other
        # tabs close as well and reconnect on their own sessions: that costs one reconnect.
        revoke_everywhere(ctx, conn, user_id=session.principal.user_id)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/bahasa/{lang}")
def choose_language(lang: str, request: Request, kembali: str | None = None):
    response = RedirectResponse(_safe_next(kembali) or "/", 303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/konsol")
def console_home(who: Principal = Depends(page_principal)):
    return RedirectResponse(landing_page(who), 303)


@lru_cache(maxsize=1)
def _boundaries() -> bytes:
    """Kecamatan and desa outlines as one GeoJSON, with names and codes only."""
    features = []
    for level, name in (("kecamatan", "kecamatan.geojson"), ("desa", "desa.geojson")):
        data = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
        for feature in data["features"]:
            props = feature.get("properties") or {}
            features.append({"type": "Feature", "geometry": feature["geometry"],
                             "properties": {"level": level,
                                            "code": props.get("code") or props.get("kode"),
                                            "name": props.get("name") or props.get("nama")}})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      separators=(",", ":")).encode()


@router.get("/peta/batas.geojson")
def boundaries() -> Response:
    # Public reference data (Kemendagri boundaries): no login, cached by the browser for a day.
    return Response(_boundaries(), media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=86400"})
