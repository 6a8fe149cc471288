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
# The citizens' pages (public/routes.py) carry their styles inline and run only their own location
# script; nothing else loads. They are never cached, indexed or named in a Referer: the ticket in
# the path is the only key to a report.
PUBLIC_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
              "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PUBLIC_PATHS = ("/lacak", "/lapor", "/api/v1/public", "/peringatan")
CONSOLE_PATHS = ("/konsol",)

_COMMON = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    # Cross-origin requests (map tiles) learn the site, never the path: a ticket is in the path.
    b"referrer-policy": b"strict-origin-when-cross-origin",
    # The citizen report form may ask for the phone's position; nothing may use camera or mic.
    b"permissions-policy": b"geolocation=(self), camera=(), microphone=(), payment=()",
    b"cross-origin-opener-policy": b"same-origin",
}
_NO_STORE = (b"cache-control", b"no-store")


def _policy(**headers: str) -> list[tuple[bytes, bytes]]:
    """The common headers, with these added or replaced (underscores in names become dashes)."""
    merged = {**_COMMON, **{k.replace("_", "-").encode(): v.encode() for k, v in headers.items()}}
    return list(merged.items())


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class SecurityHeaders:
    """Adds the headers to every HTTP response, by path: the consoles', the API docs' and the
    citizens' pages' policies. A header the route set itself is kept. API answers (personal data)
    are never cached."""

    def __init__(self, app: Any, tile_url: str = OSM_TILES):
        self.app = app
        self.page = self._variants(_policy(content_security_policy=page_csp(tile_url)))
        self.policies = [
            (DOCS_PATHS, self._variants(_policy(content_security_policy=DOCS_CSP))),
            (PUBLIC_PATHS, self._variants(_policy(
                content_security_policy=PUBLIC_CSP, referrer_policy="no-referrer",
                cache_control="no-store", x_robots_tag="noindex"))),
            # The consoles show callers' numbers, names and addresses: no copy in the browser's
            # cache (a shared PC at the call centre) or in a proxy's.
            (CONSOLE_PATHS, self._variants(_policy(content_security_policy=page_csp(tile_url),
                                                   cache_control="no-store"))),
        ]

    @staticmethod
    def _variants(policy: list[tuple[bytes, bytes]]) -> dict[tuple[bool, bool], list]:
        """The policy for (API path, HTTPS), built once: this runs on every request."""
        variants = {}
        for api in (False, True):
            for https in (False, True):
                extra = list(policy)
                if api and all(k != _NO_STORE[0] for k, _ in policy):
                    extra.append(_NO_STORE)
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                variants[api, https] = extra
        return variants

    def headers_for(self, path: str, *, https: bool = False) -> list[tuple[bytes, bytes]]:
        """What a response on this path gets unless the route set the header itself."""
        variants = self.page
        for prefixes, policy in self.policies:
            if path.startswith(prefixes) and _under(path, prefixes):
                variants = policy
                break
        return variants[path.startswith("/api/"), https]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope.get("path", ""), https=scope.get("scheme") == "https")

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
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
