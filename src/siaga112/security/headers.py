"""Security headers on every response (a plain ASGI middleware: cheap, and streams stay streams)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def tile_origin(tile_url: str) -> str:
    """The origin map tiles come from ("" when there are none); "{s}." becomes a wildcard."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def page_csp(tile_url: str = OSM_TILES) -> str:
    """Server-rendered pages load scripts, styles and fonts from this server only, and images
    from here and the configured tile server. No inline script or style, no plugins, no framing."""
    tiles = tile_origin(tile_url)
    return ("default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
            f"img-src 'self' data:{' ' + tiles if tiles else ''}; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")


CSP = page_csp()
# FastAPI's interactive API docs load Swagger UI / ReDoc from a CDN with an inline bootstrap.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Cross-origin requests (map tiles) learn the site, never the path: a ticket is in the path.
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    # The citizen report form may ask for the phone's position; nothing may use camera or mic.
    (b"permissions-policy", b"geolocation=(self), camera=(), microphone=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_DOCS = [(b"content-security-policy", DOCS_CSP.encode())]
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Adds the headers to every HTTP response; API answers (personal data) are never cached."""

    def __init__(self, app: Any, tile_url: str = OSM_TILES):
        self.app = app
        self.page = [(b"content-security-policy", page_csp(tile_url).encode())]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = list(_COMMON) + (_DOCS if path.startswith(DOCS_PATHS) else self.page)
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        api = path.startswith("/api/")

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                if api and b"cache-control" not in present:
                    headers.append(_NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RejectNul:
    """A NUL character in the path or query answers 422 before any route sees it.

    PostgreSQL text cannot hold NUL: an id or filter carrying one failed as a 500 deep in a query
    (found by the schema fuzzer). Bodies are checked by the request models (`Strict`).
    """

    BODY = (b'{"detail":[{"loc":["query"],"msg":"NUL characters are not allowed",'
            b'"type":"value_error"}]}')

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (
                b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "")
                or b"%00" in scope.get("raw_path", b"")):
            await send({"type": "http.response.start", "status": 422,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(self.BODY)).encode())]})
            await send({"type": "http.response.body", "body": self.BODY})
            return
        await self.app(scope, receive, send)
